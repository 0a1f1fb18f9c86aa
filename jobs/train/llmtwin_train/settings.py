"""What the job is told: SageMaker's environment contract and the hyperparameters the TypeScript side
sends (activities/sagemaker/training-request.ts builds them; names must match)."""

from __future__ import annotations

import dataclasses
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

# SageMaker's fixed paths; the SM_* variables win when the training toolkit sets them.
_HYPERPARAMETERS_FILE = "/opt/ml/input/config/hyperparameters.json"
_CHECKPOINT_DIR = "/opt/ml/checkpoints"


@dataclass(frozen=True)
class SageMakerEnv:
    train_dir: Path
    test_dir: Path | None
    model_dir: Path
    output_data_dir: Path
    checkpoint_dir: Path

    @staticmethod
    def from_environ(environ: Mapping[str, str] | None = None) -> "SageMakerEnv":
        env = os.environ if environ is None else environ
        train = env.get("SM_CHANNEL_TRAIN")
        if not train:
            raise SettingsError("SM_CHANNEL_TRAIN is not set: the job needs a 'train' input channel")
        test = env.get("SM_CHANNEL_TEST")
        return SageMakerEnv(
            train_dir=Path(train),
            test_dir=Path(test) if test else None,
            model_dir=Path(env.get("SM_MODEL_DIR", "/opt/ml/model")),
            output_data_dir=Path(env.get("SM_OUTPUT_DATA_DIR", "/opt/ml/output/data")),
            # Not an SM_* variable: CheckpointConfig.LocalPath, which the TypeScript side sets to this default.
            checkpoint_dir=Path(env.get("LLMTWIN_CHECKPOINT_DIR", _CHECKPOINT_DIR)),
        )


class SettingsError(ValueError):
    """Bad hyperparameters or environment: the job fails at once with a message naming the field."""


@dataclass(frozen=True)
class Hyperparameters:
    base_model_id: str
    lora_r: int = 16
    lora_alpha: int = 32
    lora_dropout: float = 0.05
    # "all-linear" (PEFT's shorthand) or a comma-separated list such as "q_proj,v_proj".
    lora_target_modules: str = "all-linear"
    epochs: float = 3.0
    # > 0 overrides epochs (tests and smoke runs); -1 lets epochs decide.
    max_steps: int = -1
    learning_rate: float = 2e-4
    per_device_batch_size: int = 4
    gradient_accumulation_steps: int = 4
    max_seq_length: int = 2048
    load_in_4bit: bool = True
    export: str = "merged"  # "merged" (serving-ready weights) or "adapter" (LoRA adapter only)
    instruction_field: str = "instruction"
    output_field: str = "output"
    input_field: str = "input"
    system_prompt: str = ""
    seed: int = 42
    warmup_ratio: float = 0.03
    logging_steps: int = 10
    save_steps: int = 50
    gradient_checkpointing: bool = True

    def target_modules(self) -> str | list[str]:
        if self.lora_target_modules == "all-linear":
            return "all-linear"
        return [name.strip() for name in self.lora_target_modules.split(",") if name.strip()]


_FIELDS = {f.name: f for f in dataclasses.fields(Hyperparameters)}


def parse_hyperparameters(raw: Mapping[str, Any]) -> Hyperparameters:
    """SageMaker passes every hyperparameter as a string; the training toolkit may already have turned
    "8" into 8 and "true" into True (it tries json.loads on each). Accept both; reject unknown names so a
    typo on the TypeScript side fails the job at once instead of silently training with a default."""
    unknown = sorted(set(raw) - set(_FIELDS))
    if unknown:
        raise SettingsError(f"unknown hyperparameter(s) {', '.join(unknown)}; known: {', '.join(sorted(_FIELDS))}")
    if "base_model_id" not in raw or not str(raw["base_model_id"]).strip():
        raise SettingsError("hyperparameter base_model_id is required (a Hugging Face model id or a local path)")
    values: dict[str, Any] = {}
    for name, value in raw.items():
        values[name] = _coerce(name, value, _FIELDS[name].type)
    hps = Hyperparameters(**values)
    _check(hps)
    return hps


def _coerce(name: str, value: Any, kind: Any) -> Any:
    kind = kind if isinstance(kind, str) else getattr(kind, "__name__", str(kind))
    try:
        if kind == "bool":
            if isinstance(value, bool):
                return value
            text = str(value).strip().lower()
            if text in ("true", "1", "yes", "on"):
                return True
            if text in ("false", "0", "no", "off"):
                return False
            raise ValueError(value)
        if kind == "int":
            number = float(value)
            if not number.is_integer():
                raise ValueError(value)
            return int(number)
        if kind == "float":
            return float(value)
        return str(value)
    except (TypeError, ValueError) as error:
        raise SettingsError(f"hyperparameter {name}={value!r} is not a valid {kind}") from error


def _check(hps: Hyperparameters) -> None:
    problems = []
    if hps.lora_r < 1:
        problems.append("lora_r must be >= 1")
    if not 0 <= hps.lora_dropout < 1:
        problems.append("lora_dropout must be in [0, 1)")
    if hps.epochs <= 0 and hps.max_steps <= 0:
        problems.append("epochs must be > 0 (or max_steps > 0)")
    if hps.learning_rate <= 0:
        problems.append("learning_rate must be > 0")
    if hps.per_device_batch_size < 1 or hps.gradient_accumulation_steps < 1:
        problems.append("per_device_batch_size and gradient_accumulation_steps must be >= 1")
    if hps.max_seq_length < 16:
        problems.append("max_seq_length must be >= 16")
    if hps.export not in ("merged", "adapter"):
        problems.append('export must be "merged" or "adapter"')
    if not hps.target_modules():
        problems.append('lora_target_modules must be "all-linear" or a comma-separated list of module names')
    if problems:
        raise SettingsError("invalid hyperparameters: " + "; ".join(problems))


def load_hyperparameters(environ: Mapping[str, str] | None = None) -> Hyperparameters:
    """From SM_HPS (JSON, set by the training toolkit) or SageMaker's hyperparameters.json."""
    env = os.environ if environ is None else environ
    if env.get("SM_HPS"):
        raw = json.loads(env["SM_HPS"])
    elif Path(_HYPERPARAMETERS_FILE).is_file():
        # SageMaker's raw file holds the values as sent: JSON-encoded strings (see the TypeScript side).
        raw = {k: _json_or_text(v) for k, v in json.loads(Path(_HYPERPARAMETERS_FILE).read_text(encoding="utf-8")).items()}
    else:
        raise SettingsError(f"no hyperparameters: neither SM_HPS nor {_HYPERPARAMETERS_FILE} is present")
    # The toolkit's own sagemaker_* entries (program, submit directory) are not ours.
    return parse_hyperparameters({k: v for k, v in raw.items() if not k.startswith("sagemaker_")})


def _json_or_text(value: Any) -> Any:
    try:
        return json.loads(value)
    except (TypeError, ValueError):
        return value


__all__ = ["Hyperparameters", "SageMakerEnv", "SettingsError", "load_hyperparameters", "parse_hyperparameters"]
