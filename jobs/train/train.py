"""SageMaker entry point (script mode): the training toolkit in the Hugging Face PyTorch training
container installs requirements.txt from this directory, then runs `python train.py`. Hyperparameters
come from SM_HPS, data from the `train` and `test` channels, the model goes to SM_MODEL_DIR."""

from __future__ import annotations

import logging
import sys

from llmtwin_train.run import run
from llmtwin_train.settings import SageMakerEnv, SettingsError, load_hyperparameters


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stdout)
    try:
        env = SageMakerEnv.from_environ()
        hps = load_hyperparameters()
    except SettingsError as error:
        # Printed last, so it is the tail of the log SageMaker puts into FailureReason.
        print(f"llmtwin-train: {error}", file=sys.stderr, flush=True)
        return 2
    result = run(env, hps)
    if result.stopped:
        logging.getLogger("llmtwin.train").info("stopped at step %d; the checkpoint is in %s", result.global_step, env.checkpoint_dir)
        return 0
    logging.getLogger("llmtwin.train").info(
        "done: %d steps, %d train / %d eval examples, eval %s", result.global_step, result.train_examples, result.eval_examples, result.eval_metrics
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
