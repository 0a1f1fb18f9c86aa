"""Test kit for jobs/evaluate: the training job's kit (a tiny model built on the spot, no downloads) plus
a second author, and the processing job's folder tree. (Not named conftest.py: jobs/train/tests has one.)"""

from __future__ import annotations

import json
import sys
from pathlib import Path

EVALUATE_DIR = Path(__file__).resolve().parents[1]
TRAIN_DIR = EVALUATE_DIR.parent / "train"
for path in (EVALUATE_DIR, TRAIN_DIR, TRAIN_DIR / "tests"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from train_testkit import PAIRS, TEST_PAIRS, build_base_model, write_jsonl  # noqa: E402

# The author (short declaratives, "I love it") and another writer (long, ornate, no first person).
AUTHOR = [pair["output"] for pair in PAIRS + TEST_PAIRS]
OTHER_WRITER = [
    "Notwithstanding the considerable ambiguity inherent in any such undertaking, the committee resolved, after protracted deliberation, to postpone its determination indefinitely.",
    "Whereupon the aforementioned correspondent, having perused the enclosed documentation with characteristic thoroughness, communicated his reservations in a memorandum of unusual length.",
    "It may reasonably be supposed that the prevailing circumstances, however unfavourable, would in due course yield to the patient application of methodical inquiry.",
    "The proprietors, being disinclined towards innovation of any description, maintained the establishment precisely as their predecessors had arranged it generations earlier.",
]


def processing_tree(root: Path, model_dir: Path, config: dict) -> Path:
    """/opt/ml/processing as the job sees it: the model, the test split, the config."""
    (root / "input" / "model").mkdir(parents=True)
    for file in model_dir.iterdir():
        (root / "input" / "model" / file.name).write_bytes(file.read_bytes())
    write_jsonl(root / "input" / "data" / "test.jsonl", TEST_PAIRS + PAIRS[:2])
    (root / "input" / "config").mkdir(parents=True)
    (root / "input" / "config" / "evaluation.json").write_text(json.dumps(config), encoding="utf-8")
    return root


__all__ = ["AUTHOR", "OTHER_WRITER", "PAIRS", "TEST_PAIRS", "build_base_model", "processing_tree"]
