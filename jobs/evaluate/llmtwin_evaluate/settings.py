"""What the evaluation job is told, under SageMaker's processing container contract: inputs under
/opt/ml/processing/input/<name>/, outputs written to /opt/ml/processing/output/ (each uploaded where the
job's ProcessingOutputs say), and a JSON config beside the inputs. LLMTWIN_PROCESSING_DIR moves the
whole tree (the local runner and the tests)."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping


class SettingsError(ValueError):
    """A bad config or a missing input: the job fails at once, naming the field or the path."""


@dataclass(frozen=True)
class Decoding:
    """What the endpoint will use, so the generations scored are the ones users will get."""

    max_new_tokens: int = 256
    # Sampling, seeded: greedy decoding sends small models into loops (the toy repeats a newline forever).
    temperature: float = 0.7
    top_p: float = 0.9
    seed: int = 42
    batch_size: int = 8


@dataclass(frozen=True)
class Judge:
    """An OpenAI-compatible chat endpoint; the key is named (an environment variable), never given."""

    base_url: str
    model: str
    api_key_env: str | None = None
    api_key_secret_arn: str | None = None
    timeout_seconds: float = 60.0


@dataclass(frozen=True)
class EvaluationConfig:
    base_model_id: str
    decoding: Decoding = field(default_factory=Decoding)
    max_samples: int = 200
    instruction_field: str = "instruction"
    output_field: str = "output"
    input_field: str = "input"
    system_prompt: str = ""
    style_vocabulary: int = 150
    judge: Judge | None = None


_KNOWN = {"base_model_id", "decoding", "max_samples", "instruction_field", "output_field", "input_field", "system_prompt", "style_vocabulary", "judge"}


def parse_config(raw: Mapping[str, Any]) -> EvaluationConfig:
    """Strict: an unknown key is an error naming it, so a typo on the TypeScript side never silently scores with a default."""
    unknown = sorted(set(raw) - _KNOWN)
    if unknown:
        raise SettingsError(f"unknown evaluation setting(s) {', '.join(unknown)}; known: {', '.join(sorted(_KNOWN))}")
    if not str(raw.get("base_model_id", "")).strip():
        raise SettingsError("base_model_id is required: the model the twin was trained from, scored as the baseline")
    try:
        decoding = Decoding(**(raw.get("decoding") or {}))
        judge = Judge(**raw["judge"]) if raw.get("judge") else None
    except TypeError as error:
        raise SettingsError(f"invalid evaluation setting: {error}") from error
    config = EvaluationConfig(**{**raw, "decoding": decoding, "judge": judge})
    if config.max_samples < 1 or decoding.max_new_tokens < 1 or decoding.batch_size < 1:
        raise SettingsError("max_samples, decoding.max_new_tokens and decoding.batch_size must be at least 1")
    return config


@dataclass(frozen=True)
class ProcessingPaths:
    root: Path

    @staticmethod
    def from_environ(environ: Mapping[str, str] | None = None) -> "ProcessingPaths":
        env = os.environ if environ is None else environ
        return ProcessingPaths(Path(env.get("LLMTWIN_PROCESSING_DIR", "/opt/ml/processing")))

    @property
    def model(self) -> Path:
        """The training job's model.tar.gz (or the folder it unpacks to)."""
        return self.root / "input" / "model"

    @property
    def data(self) -> Path:
        """The dataset's test split: instruction/answer pairs the model never trained on."""
        return self.root / "input" / "data"

    @property
    def training(self) -> Path:
        """Optional: the training job's metrics (training-metrics.json), for the loss curve."""
        return self.root / "input" / "training"

    @property
    def config_file(self) -> Path:
        return self.root / "input" / "config" / "evaluation.json"

    @property
    def output(self) -> Path:
        return self.root / "output"

    def load_config(self) -> EvaluationConfig:
        if not self.config_file.is_file():
            raise SettingsError(f"no evaluation config at {self.config_file}")
        return parse_config(json.loads(self.config_file.read_text(encoding="utf-8")))
