"""Loading the base model and tokenizer from the Hugging Face Hub (or a local path), with QLoRA when
4-bit is asked for and a GPU is present, and the LoRA configuration."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from peft import LoraConfig
from transformers import AutoModelForCausalLM, AutoTokenizer

from .settings import Hyperparameters
from .toy_model import ensure_toy_model, is_toy_model


@dataclass(frozen=True)
class Precision:
    """How the model is loaded and trained on this machine."""

    device: str  # "cuda" or "cpu"
    dtype: torch.dtype
    quantize_4bit: bool
    bf16: bool
    fp16: bool


def choose_precision(hps: Hyperparameters, cuda_available: bool | None = None) -> Precision:
    cuda = torch.cuda.is_available() if cuda_available is None else cuda_available
    if not cuda:
        # bitsandbytes 4-bit needs a GPU; on CPU (tests, CI) LoRA trains in float32.
        return Precision(device="cpu", dtype=torch.float32, quantize_4bit=False, bf16=False, fp16=False)
    bf16 = torch.cuda.is_bf16_supported()
    return Precision(
        device="cuda",
        dtype=torch.bfloat16 if bf16 else torch.float16,
        quantize_4bit=hps.load_in_4bit,
        bf16=bf16,
        fp16=not bf16,
    )


def model_source(model_id: str) -> str:
    """What from_pretrained loads: a hub id or local path as given, the toy's cached folder for its id."""
    return str(ensure_toy_model()) if is_toy_model(model_id) else model_id


def load_tokenizer(model_id: str) -> Any:
    tokenizer = AutoTokenizer.from_pretrained(model_source(model_id))
    if tokenizer.pad_token is None:
        # Padding positions are masked out of the loss, so reusing EOS as PAD is safe.
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


def load_base_model(model_id: str, precision: Precision) -> Any:
    """The real hub-loading code (HF_TOKEN from the environment for gated models)."""
    kwargs: dict[str, Any] = {"dtype": precision.dtype, "low_cpu_mem_usage": True}
    if precision.quantize_4bit:
        from transformers import BitsAndBytesConfig

        kwargs["quantization_config"] = BitsAndBytesConfig(
            load_in_4bit=True,
            bnb_4bit_quant_type="nf4",
            bnb_4bit_use_double_quant=True,
            bnb_4bit_compute_dtype=precision.dtype,
        )
    if precision.device == "cuda":
        # One GPU holds the model; on a multi-GPU instance "auto" spreads the layers across them.
        kwargs["device_map"] = "auto" if torch.cuda.device_count() > 1 else {"": 0}
    model = AutoModelForCausalLM.from_pretrained(model_source(model_id), **kwargs)
    model.config.use_cache = False  # incompatible with gradient checkpointing; re-enabled on export
    return model


def lora_config(hps: Hyperparameters) -> LoraConfig:
    return LoraConfig(
        r=hps.lora_r,
        lora_alpha=hps.lora_alpha,
        lora_dropout=hps.lora_dropout,
        target_modules=hps.target_modules(),
        bias="none",
        task_type="CAUSAL_LM",
    )
