"""Fixtures for the training job's tests; the building blocks live in train_testkit.py."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from train_testkit import CHATML_TEMPLATE, PAIRS, REPO_ROOT, TEST_PAIRS, build_base_model, write_jsonl


@pytest.fixture(scope="session")
def base_model_plain(tmp_path_factory) -> Path:
    """A "base" model whose tokenizer has no chat template: the job must fall back to its own."""
    return build_base_model(tmp_path_factory.mktemp("base-plain"), chat_template=None)


@pytest.fixture(scope="session")
def base_model_chatml(tmp_path_factory) -> Path:
    """An "instruct" model whose tokenizer carries a (ChatML) chat template the job must use."""
    return build_base_model(tmp_path_factory.mktemp("base-chatml"), chat_template=CHATML_TEMPLATE)


@pytest.fixture
def channels(tmp_path) -> dict[str, Path]:
    """SageMaker's directory layout: input channels, model dir, output data dir, checkpoint dir."""
    write_jsonl(tmp_path / "input" / "train" / "train.jsonl", PAIRS)
    write_jsonl(tmp_path / "input" / "test" / "test.jsonl", TEST_PAIRS)
    return {
        "train": tmp_path / "input" / "train",
        "test": tmp_path / "input" / "test",
        "model": tmp_path / "model",
        "output": tmp_path / "output",
        "checkpoints": tmp_path / "checkpoints",
    }


@pytest.fixture(scope="session")
def metric_definitions() -> list[dict]:
    """The regexes the TypeScript side sends to SageMaker (common/fine-tune/metrics.json)."""
    return json.loads((REPO_ROOT / "common" / "fine-tune" / "metrics.json").read_text(encoding="utf-8"))["metricDefinitions"]
