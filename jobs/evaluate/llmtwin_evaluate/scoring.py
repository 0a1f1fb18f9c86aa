"""The model-side numbers: perplexity of the held-out reference answers, and generations for the test
prompts with the endpoint's decoding parameters. The same code scores the twin and the base model."""

from __future__ import annotations

import math
from typing import Any, Sequence

import torch

from .settings import Decoding


def conversation(prompt: str, system_prompt: str) -> list[dict[str, str]]:
    return ([{"role": "system", "content": system_prompt}] if system_prompt else []) + [{"role": "user", "content": prompt}]


def reference_perplexity(model: Any, tokenizer: Any, prompts: Sequence[str], references: Sequence[str], system_prompt: str) -> float:
    """exp of the mean negative log-likelihood of the reference answers' tokens, the prompt masked out
    (what training minimised on the train split, here measured on text the model never saw)."""
    total_nll, total_tokens = 0.0, 0
    model.eval()
    for prompt, reference in zip(prompts, references):
        messages = conversation(prompt, system_prompt)
        prompt_ids = tokenizer.apply_chat_template(messages, add_generation_prompt=True, return_tensors="pt")
        full_ids = tokenizer.apply_chat_template(messages + [{"role": "assistant", "content": reference}], return_tensors="pt")
        labels = full_ids.clone()
        labels[:, : prompt_ids.shape[1]] = -100
        scored = int((labels != -100).sum())
        if scored == 0:
            continue
        with torch.no_grad():
            loss = model(input_ids=full_ids, labels=labels).loss
        # The model's loss is already the mean over the scored tokens (shifted by one): weight it back.
        total_nll += float(loss) * scored
        total_tokens += scored
    return math.exp(min(total_nll / total_tokens, 50.0)) if total_tokens else math.nan


def generate(model: Any, tokenizer: Any, prompts: Sequence[str], decoding: Decoding, system_prompt: str) -> list[str]:
    """Batched, left-padded, seeded: the same inputs give the same generations."""
    torch.manual_seed(decoding.seed)
    tokenizer.padding_side = "left"
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    outputs: list[str] = []
    model.eval()
    for start in range(0, len(prompts), decoding.batch_size):
        batch = [
            tokenizer.apply_chat_template(conversation(prompt, system_prompt), add_generation_prompt=True, tokenize=False)
            for prompt in prompts[start : start + decoding.batch_size]
        ]
        encoded = tokenizer(batch, return_tensors="pt", padding=True, add_special_tokens=False, return_token_type_ids=False)
        sampling = decoding.temperature > 0
        with torch.no_grad():
            generated = model.generate(
                **encoded,
                max_new_tokens=decoding.max_new_tokens,
                do_sample=sampling,
                **({"temperature": decoding.temperature, "top_p": decoding.top_p} if sampling else {}),
                pad_token_id=tokenizer.pad_token_id,
            )
        new_tokens = generated[:, encoded["input_ids"].shape[1] :]
        outputs.extend(tokenizer.batch_decode(new_tokens, skip_special_tokens=True))
    return [text.strip() for text in outputs]
