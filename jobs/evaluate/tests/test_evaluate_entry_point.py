"""The entry point as a processing job runs it: `python evaluate.py` in a fresh process, told everything
through the processing folder tree, scoring a tiny twin against its base model."""

from __future__ import annotations

import json
import math
import os
import re
import subprocess
import sys
import tarfile

from evaluate_testkit import EVALUATE_DIR, TRAIN_DIR, build_base_model, processing_tree
from llmtwin_evaluate.settings import SettingsError, parse_config

import pytest


@pytest.fixture(scope="module")
def base_and_twin(tmp_path_factory):
    """A base model, and a "twin": the same architecture with other weights, packed as SageMaker packs /opt/ml/model."""
    from transformers import AutoModelForCausalLM

    base = build_base_model(tmp_path_factory.mktemp("base"), chat_template=None)
    twin_dir = tmp_path_factory.mktemp("twin")
    build_base_model(twin_dir, chat_template=None)
    model = AutoModelForCausalLM.from_pretrained(twin_dir)
    for parameter in model.parameters():
        parameter.data.mul_(1.5)
    model.save_pretrained(twin_dir)
    packed = tmp_path_factory.mktemp("packed")
    with tarfile.open(packed / "model.tar.gz", "w:gz") as archive:
        for file in twin_dir.iterdir():
            archive.add(file, arcname=file.name)
    return base, packed


def test_scores_twin_and_base_and_writes_the_three_reports(tmp_path, base_and_twin):
    base, packed = base_and_twin
    root = processing_tree(tmp_path / "processing", packed, {"base_model_id": str(base), "decoding": {"max_new_tokens": 8, "batch_size": 3}})
    env = {**os.environ, "LLMTWIN_PROCESSING_DIR": str(root), "OMP_NUM_THREADS": "2"}
    (root / "input" / "training").mkdir()
    (root / "input" / "training" / "training-metrics.json").write_text(json.dumps({"train:loss": [[1, 5.5], [10, 3.1], [20, 2.7]]}))
    completed = subprocess.run([sys.executable, "evaluate.py"], cwd=EVALUATE_DIR, env=env, capture_output=True, text=True, timeout=600)
    assert completed.returncode == 0, (completed.stdout + completed.stderr)[-3000:]

    output = root / "output"
    evaluation = json.loads((output / "evaluation.json").read_text())
    assert evaluation["samples_scored"] == 4
    for label in ("twin", "base"):
        metrics = evaluation["metrics"][label]
        assert math.isfinite(metrics["perplexity"]) and metrics["perplexity"] > 1
        assert 0 <= metrics["rouge_l"] <= 1
        assert metrics["style_cosine_delta"] is not None and metrics["style_char_ngram_distance"] is not None
    assert evaluation["metrics"]["twin"]["perplexity"] != evaluation["metrics"]["base"]["perplexity"]
    assert evaluation["difference"]["perplexity"] == pytest.approx(evaluation["metrics"]["twin"]["perplexity"] - evaluation["metrics"]["base"]["perplexity"])
    assert {"instruction", "reference", "twin", "base"} <= set(evaluation["samples"][0])
    assert evaluation["training_loss"] == [[1.0, 5.5], [10.0, 3.1], [20.0, 2.7]]
    page = (output / "report.html").read_text()
    assert "<svg" in page and "<polyline" in page
    assert not re.search(r"(src|href)=|<link|<script", page)  # self-contained: nothing to fetch, nothing to run
    assert "| perplexity |" in (output / "report.md").read_text()
    assert "llmtwin-metric evaluation:perplexity:twin=" in completed.stdout


def test_the_evaluation_config_is_strict():
    with pytest.raises(SettingsError, match="unknown evaluation setting\\(s\\) max_sample"):
        parse_config({"base_model_id": "x", "max_sample": 3})
    with pytest.raises(SettingsError, match="base_model_id is required"):
        parse_config({})
    assert TRAIN_DIR.is_dir()


def test_the_loss_curve_is_read_from_the_training_jobs_output_archive(tmp_path):
    """SageMaker uploads the training job's output/data as output.tar.gz; jobs/train writes the curve into its metrics.json."""
    from llmtwin_evaluate.run import training_loss
    from llmtwin_evaluate.settings import ProcessingPaths

    data = tmp_path / "data"
    data.mkdir()
    (data / "metrics.json").write_text(json.dumps({"train_loss": [[5, 4.0], [10, 2.5]], "global_step": 10}))
    paths = ProcessingPaths(tmp_path / "processing")
    paths.training.mkdir(parents=True)
    with tarfile.open(paths.training / "output.tar.gz", "w:gz") as archive:
        archive.add(data / "metrics.json", arcname="metrics.json")
    assert training_loss(paths) == [[5.0, 4.0], [10.0, 2.5]]
    assert training_loss(ProcessingPaths(tmp_path / "nothing")) == []
