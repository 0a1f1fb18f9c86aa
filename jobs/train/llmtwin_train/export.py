"""Writes what SageMaker uploads as model.tar.gz: a directory the serving container (TGI / Hugging Face
inference) loads as it is. Merged weights by default; the LoRA adapter alone as an option."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

from peft import PeftModel
from transformers import AutoModelForCausalLM

from .modeling import Precision, model_source
from .settings import Hyperparameters


def export_model(trained: Any, tokenizer: Any, hps: Hyperparameters, precision: Precision, model_dir: Path, metadata: dict[str, Any]) -> Path:
    model_dir.mkdir(parents=True, exist_ok=True)
    if hps.export == "adapter":
        trained.save_pretrained(model_dir, safe_serialization=True)
    elif precision.quantize_4bit:
        _export_merged_from_4bit(trained, hps, precision, model_dir)
    else:
        merged = trained.merge_and_unload()
        merged.config.use_cache = True
        merged.save_pretrained(model_dir, safe_serialization=True, max_shard_size="5GB")
    # The tokenizer carries the chat template used in training (the fallback one included), so the
    # serving container formats prompts the same way.
    tokenizer.save_pretrained(model_dir)
    (model_dir / "llmtwin-training.json").write_text(json.dumps(metadata, indent=2, sort_keys=True), encoding="utf-8")
    return model_dir


def _export_merged_from_4bit(trained: Any, hps: Hyperparameters, precision: Precision, model_dir: Path) -> None:
    """LoRA deltas cannot be merged into 4-bit weights without losing them to rounding: save the adapter,
    reload the base in 16-bit in CPU memory (the quantized copy still occupies the GPU) and merge there."""
    with tempfile.TemporaryDirectory() as adapter_dir:
        trained.save_pretrained(adapter_dir, safe_serialization=True)
        base = AutoModelForCausalLM.from_pretrained(model_source(hps.base_model_id), dtype=precision.dtype, low_cpu_mem_usage=True)
        merged = PeftModel.from_pretrained(base, adapter_dir).merge_and_unload()
        merged.config.use_cache = True
        merged.save_pretrained(model_dir, safe_serialization=True, max_shard_size="5GB")
