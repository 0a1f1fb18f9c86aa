"""SageMaker processing entry point (`python evaluate.py`), also what the local runner runs: scores the
twin against its base model on the held-out split and writes evaluation.json, report.md and report.html
to /opt/ml/processing/output. The training job's package (llmtwin_train) is shipped beside this file."""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
# In the repository the training package lives in jobs/train; in a packed job it is beside this file.
for candidate in (HERE, HERE.parent / "train"):
    if (candidate / "llmtwin_train").is_dir():
        sys.path.insert(0, str(candidate))
        break

from llmtwin_evaluate.run import run  # noqa: E402
from llmtwin_evaluate.settings import ProcessingPaths, SettingsError  # noqa: E402


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stdout)
    paths = ProcessingPaths.from_environ()
    try:
        config = paths.load_config()
    except SettingsError as error:
        # Printed last, so it is the tail of the log a failed job's reason is taken from.
        print(f"llmtwin-evaluate: {error}", file=sys.stderr, flush=True)
        return 2
    evaluation = run(paths, config, artifacts=os.environ.get("LLMTWIN_MODEL_ARTIFACTS", str(paths.model)))
    twin, base = evaluation["metrics"]["twin"], evaluation["metrics"]["base"]
    for name in twin:
        print(f"llmtwin-metric evaluation:{name}:twin={twin[name]} base={base.get(name)}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
