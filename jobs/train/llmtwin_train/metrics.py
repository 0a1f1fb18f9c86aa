"""Metrics as log lines SageMaker's MetricDefinitions scrape (regexes in common/training-metrics.json):
one line per metric, `llmtwin-metric <name>=<value> step=<n>`, flushed at once so CloudWatch and the
TypeScript side see them while the job runs."""

from __future__ import annotations

import math
import sys
from typing import Any, Callable, TextIO

from transformers import TrainerCallback

LINE_PREFIX = "llmtwin-metric"
# Read by the local runner for its heartbeats (common/fine-tune/metrics.json, progressRegex).
PROGRESS_PREFIX = "llmtwin-progress"

# Trainer log keys -> the metric names SageMaker records (and the final metrics the workflow returns).
TRAINER_KEYS = {
    "loss": "train:loss",
    "learning_rate": "train:learning_rate",
    "grad_norm": "train:grad_norm",
    "epoch": "train:epoch",
    "mean_token_accuracy": "train:mean_token_accuracy",
    "eval_loss": "eval:loss",
    "eval_mean_token_accuracy": "eval:mean_token_accuracy",
}


def metric_line(name: str, value: float, step: int) -> str:
    if math.isnan(value):
        text = "nan"
    elif math.isinf(value):
        text = "inf" if value > 0 else "-inf"
    else:
        text = f"{value:.6g}"
    return f"{LINE_PREFIX} {name}={text} step={step}"


def named_metrics(logs: dict[str, Any]) -> dict[str, float]:
    """Our names for the numbers in one Trainer log entry; eval loss also yields perplexity."""
    named = {TRAINER_KEYS[key]: float(value) for key, value in logs.items() if key in TRAINER_KEYS and isinstance(value, (int, float))}
    if "eval:loss" in named:
        # Cap the exponent: a diverged run should print a huge number, not crash on overflow.
        named["eval:perplexity"] = math.exp(min(named["eval:loss"], 50.0))
    return named


class MetricLogCallback(TrainerCallback):
    """Prints every logged metric; also keeps them so the run can report and tests can assert on them."""

    def __init__(self, stream: TextIO | None = None, sink: Callable[[str, float, int], None] | None = None) -> None:
        self.stream = stream or sys.stdout
        self.sink = sink
        self.history: list[tuple[str, float, int]] = []

    def on_train_begin(self, args, state, control, **kwargs):
        if state.is_world_process_zero:
            self._progress(state)

    def on_log(self, args, state, control, logs=None, **kwargs):  # noqa: D401 - transformers' signature
        if not state.is_world_process_zero or not logs:
            return
        self._progress(state)
        for name, value in named_metrics(logs).items():
            self.history.append((name, value, state.global_step))
            print(metric_line(name, value, state.global_step), file=self.stream, flush=True)
            if self.sink:
                self.sink(name, value, state.global_step)

    def _progress(self, state) -> None:
        if state.max_steps <= 0:
            return  # an evaluation before training starts: no steps planned yet
        print(f"{PROGRESS_PREFIX} step={state.global_step} total={state.max_steps}", file=self.stream, flush=True)

    def values(self, name: str) -> list[tuple[int, float]]:
        return [(step, value) for metric, value, step in self.history if metric == name]
