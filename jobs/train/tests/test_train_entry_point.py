"""The entry point as SageMaker runs it: `python train.py` in a fresh process, told everything through
SageMaker's environment contract, printing metrics that the TypeScript side's regexes scrape."""

from __future__ import annotations

import json
import math
import os
import re
import subprocess
import sys

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from train_testkit import JOB_DIR, PAIRS


def scrape(log: str, metric_definitions: list[dict]) -> dict[str, list[float]]:
    """What SageMaker does with MetricDefinitions: every match of each regex, in log order."""
    return {d["Name"]: [float(m.group(1)) for m in re.finditer(d["Regex"], log)] for d in metric_definitions}


def test_trains_evaluates_and_exports_a_servable_model(base_model_plain, channels, metric_definitions):
    hyperparameters = {
        # As the toolkit writes SM_HPS: some values already JSON-decoded, some still strings.
        "base_model_id": str(base_model_plain),
        "max_steps": 24,
        "learning_rate": "0.01",
        "per_device_batch_size": 4,
        "gradient_accumulation_steps": "1",
        "max_seq_length": "128",
        "lora_r": 8,
        "lora_alpha": 16,
        "lora_dropout": "0.0",
        "load_in_4bit": "true",  # asked for, but there is no GPU: plain LoRA in float32
        "logging_steps": 1,
        "save_steps": 12,
        "warmup_ratio": 0,
    }
    env = {
        **os.environ,
        "SM_CHANNEL_TRAIN": str(channels["train"]),
        "SM_CHANNEL_TEST": str(channels["test"]),
        "SM_MODEL_DIR": str(channels["model"]),
        "SM_OUTPUT_DATA_DIR": str(channels["output"]),
        "LLMTWIN_CHECKPOINT_DIR": str(channels["checkpoints"]),
        "SM_HPS": json.dumps(hyperparameters),
        "OMP_NUM_THREADS": "2",
    }
    completed = subprocess.run([sys.executable, "train.py"], cwd=JOB_DIR, env=env, capture_output=True, text=True, timeout=600)
    log = completed.stdout + completed.stderr
    assert completed.returncode == 0, log[-4000:]

    metrics = scrape(log, metric_definitions)
    losses = metrics["train:loss"]
    assert len(losses) >= 20, log[-2000:]
    assert all(math.isfinite(loss) for loss in losses)
    first, last = sum(losses[:4]) / 4, sum(losses[-4:]) / 4
    assert last < first * 0.9, f"loss did not fall: first {losses[:4]}, last {losses[-4:]}"
    assert len(metrics["eval:loss"]) >= 1 and math.isfinite(metrics["eval:loss"][-1])
    assert metrics["eval:perplexity"][-1] == pytest_approx(math.exp(metrics["eval:loss"][-1]))

    # What SageMaker uploads as model.tar.gz: merged weights, tokenizer, the chat template used in training.
    model_dir = channels["model"]
    names = {path.name for path in model_dir.iterdir()}
    assert {"config.json", "model.safetensors", "tokenizer.json", "llmtwin-training.json"} <= names
    assert not {"adapter_config.json", "adapter_model.safetensors"} & names
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    assert "### Instruction:" in tokenizer.chat_template  # the fallback, saved for serving
    model = AutoModelForCausalLM.from_pretrained(model_dir)
    base = AutoModelForCausalLM.from_pretrained(base_model_plain)
    trained_weight = model.model.layers[0].self_attn.q_proj.weight
    assert not torch.allclose(trained_weight, base.model.layers[0].self_attn.q_proj.weight), "LoRA deltas were not merged"

    prompt = tokenizer.apply_chat_template([{"role": "user", "content": PAIRS[0]["instruction"]}], add_generation_prompt=True, return_tensors="pt")
    generated = model.generate(prompt, max_new_tokens=8, do_sample=False, pad_token_id=tokenizer.pad_token_id)
    assert generated.shape[1] > prompt.shape[1]
    assert tokenizer.decode(generated[0, prompt.shape[1] :], skip_special_tokens=True).strip()

    report = json.loads((channels["output"] / "metrics.json").read_text())
    assert report["global_step"] == 24 and report["fallback_chat_template"] is True


def test_bad_hyperparameters_fail_fast_naming_the_field(channels):
    env = {**os.environ, "SM_CHANNEL_TRAIN": str(channels["train"]), "SM_HPS": json.dumps({"base_model_id": "x", "lora_rank": 8})}
    completed = subprocess.run([sys.executable, "train.py"], cwd=JOB_DIR, env=env, capture_output=True, text=True, timeout=300)
    assert completed.returncode == 2
    assert "unknown hyperparameter(s) lora_rank" in completed.stderr


def pytest_approx(value: float):
    import pytest

    return pytest.approx(value, rel=1e-4)
