"""The offline toy base model, and a graceful stop: SIGTERM saves a checkpoint and ends the run."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

from transformers import AutoModelForCausalLM, AutoTokenizer

from train_testkit import JOB_DIR
from llmtwin_train.modeling import model_source
from llmtwin_train.toy_model import TOY_MODEL_ID, ensure_toy_model


def test_the_toy_is_built_once_from_a_config_and_loads_like_any_model(tmp_path, monkeypatch):
    monkeypatch.setenv("LLMTWIN_CACHE_DIR", str(tmp_path))
    folder = ensure_toy_model()
    assert folder.parent == tmp_path and (folder / "config.json").is_file()
    built = (folder / "model.safetensors").stat().st_mtime_ns
    assert ensure_toy_model() == folder and (folder / "model.safetensors").stat().st_mtime_ns == built  # cached
    assert model_source(TOY_MODEL_ID) == str(folder) and model_source("Qwen/Qwen2.5-1.5B-Instruct") == "Qwen/Qwen2.5-1.5B-Instruct"

    tokenizer = AutoTokenizer.from_pretrained(folder)
    text = "Ünïcode, emoji 🙂 and `code` survive: byte-level means no unknown token."
    assert tokenizer.decode(tokenizer(text)["input_ids"]) == text
    chat = tokenizer.apply_chat_template([{"role": "user", "content": "hi"}], add_generation_prompt=True, tokenize=False)
    assert chat == "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n"
    model = AutoModelForCausalLM.from_pretrained(folder)
    assert model.config.num_hidden_layers == 2 and model.config.vocab_size == len(tokenizer)


def test_sigterm_saves_a_checkpoint_and_ends_the_run_without_exporting(base_model_plain, channels):
    hyperparameters = {
        "base_model_id": str(base_model_plain),
        "max_steps": 100000,
        "learning_rate": 0.001,
        "per_device_batch_size": 2,
        "gradient_accumulation_steps": 1,
        "max_seq_length": 64,
        "logging_steps": 1,
        "save_steps": 100000,
    }
    env = {
        **os.environ,
        "SM_CHANNEL_TRAIN": str(channels["train"]),
        "SM_MODEL_DIR": str(channels["model"]),
        "SM_OUTPUT_DATA_DIR": str(channels["output"]),
        "LLMTWIN_CHECKPOINT_DIR": str(channels["checkpoints"]),
        "SM_HPS": json.dumps(hyperparameters),
        "OMP_NUM_THREADS": "1",
    }
    process = subprocess.Popen([sys.executable, "train.py"], cwd=JOB_DIR, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines = []
    for line in process.stdout:
        lines.append(line)
        if line.startswith("llmtwin-progress step=3 "):
            break
    process.send_signal(signal.SIGTERM)
    started = time.monotonic()
    rest, _ = process.communicate(timeout=60)
    log = "".join(lines) + rest
    assert process.returncode == 0, log[-3000:]
    assert time.monotonic() - started < 30
    assert "stopped at step" in log
    checkpoints = [path.name for path in channels["checkpoints"].iterdir() if path.name.startswith("checkpoint-")]
    assert len(checkpoints) == 1 and int(checkpoints[0].split("-")[1]) >= 3
    assert not channels["model"].exists() or not any(channels["model"].iterdir())
