"""Instruction/answer pairs from the channel's JSONL files, as conversations TRL formats with the base
model's chat template (or a fallback template when the tokenizer has none)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from datasets import Dataset

from .settings import Hyperparameters

# Used when the base tokenizer has no chat template (base, non-instruct models). Saved onto the exported
# tokenizer, so the serving container formats prompts exactly as training did. The EOS after each answer
# teaches the model to stop.
FALLBACK_CHAT_TEMPLATE = (
    "{{ bos_token }}"
    "{% for message in messages %}"
    "{% if message['role'] == 'system' %}### System:\n{{ message['content'] }}\n\n"
    "{% elif message['role'] == 'user' %}### Instruction:\n{{ message['content'] }}\n\n"
    "{% elif message['role'] == 'assistant' %}### Response:\n{{ message['content'] }}{{ eos_token }}\n\n"
    "{% endif %}"
    "{% endfor %}"
    "{% if add_generation_prompt %}### Response:\n{% endif %}"
)


class DataError(ValueError):
    """The channel holds no usable pairs, or a line is malformed: fail the job with the file and line."""


def read_pairs(channel_dir: Path, hps: Hyperparameters) -> list[dict[str, str]]:
    """Every `*.jsonl` file in the channel, in name order. Field names come from the hyperparameters, so
    the dataset's shape and the job agree without code changes."""
    files = sorted(path for path in channel_dir.rglob("*.jsonl") if path.is_file())
    if not files:
        raise DataError(f"no .jsonl file in {channel_dir}")
    pairs: list[dict[str, str]] = []
    for path in files:
        with path.open(encoding="utf-8") as handle:
            for number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                where = f"{path.name}:{number}"
                try:
                    record = json.loads(line)
                except json.JSONDecodeError as error:
                    raise DataError(f"{where}: not valid JSON ({error.msg})") from error
                pairs.append(_pair(record, hps, where))
    if not pairs:
        raise DataError(f"no instruction/answer pairs in {channel_dir}")
    return pairs


def _pair(record: Any, hps: Hyperparameters, where: str) -> dict[str, str]:
    if not isinstance(record, dict):
        raise DataError(f"{where}: expected a JSON object")
    instruction = record.get(hps.instruction_field)
    answer = record.get(hps.output_field)
    for name, value in ((hps.instruction_field, instruction), (hps.output_field, answer)):
        if not isinstance(value, str) or not value.strip():
            raise DataError(f"{where}: field {name!r} must be a non-empty string (set instruction_field/output_field if the dataset names it differently)")
    context = record.get(hps.input_field)
    prompt = instruction.strip()
    if isinstance(context, str) and context.strip():
        prompt = f"{prompt}\n\n{context.strip()}"
    return {"prompt": prompt, "answer": answer.strip()}


def to_conversations(pairs: list[dict[str, str]], system_prompt: str = "") -> Dataset:
    """TRL's conversational prompt-completion shape: the loss falls on the completion (the author's text)."""
    system = [{"role": "system", "content": system_prompt}] if system_prompt else []
    return Dataset.from_list(
        [
            {
                "prompt": system + [{"role": "user", "content": pair["prompt"]}],
                "completion": [{"role": "assistant", "content": pair["answer"]}],
            }
            for pair in pairs
        ]
    )


def ensure_chat_template(tokenizer: Any) -> bool:
    """Gives the tokenizer the fallback template when it has none; True when the fallback was used."""
    if getattr(tokenizer, "chat_template", None):
        return False
    tokenizer.chat_template = FALLBACK_CHAT_TEMPLATE
    return True
