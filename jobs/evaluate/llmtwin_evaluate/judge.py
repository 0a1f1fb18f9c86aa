"""Optional LLM-as-judge through any OpenAI-compatible chat endpoint: accuracy and style, each scored 1
to 3 as in the LLM Engineer's Handbook. A reply that cannot be parsed, or a call that fails, is counted
and reported; it never ends the job (the Handbook's summary step crashes on them)."""

from __future__ import annotations

import json
import os
import re
import urllib.request
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

from .settings import Judge

PROMPT = """You are an expert judge. Score the answer to the instruction on two criteria, each 1 to 3.
Accuracy: 1 = wrong or off topic, 2 = partly right, 3 = right and complete.
Style: how much it reads like the reference answer's author: 1 = not at all, 2 = somewhat, 3 = indistinguishable.
Reply with JSON only: {{"accuracy": {{"analysis": "...", "score": N}}, "style": {{"analysis": "...", "score": N}}}}

Instruction: {instruction}
Reference answer (by the author): {reference}
Answer to judge: {answer}"""

JSON_OBJECT = re.compile(r"\{.*\}", re.DOTALL)


@dataclass
class JudgeSummary:
    scored: int = 0
    unparsable: int = 0
    failed_calls: int = 0
    accuracy: list[int] = field(default_factory=list)
    style: list[int] = field(default_factory=list)

    def means(self) -> dict[str, float | None]:
        mean = lambda values: sum(values) / len(values) if values else None  # noqa: E731
        return {"accuracy": mean(self.accuracy), "style": mean(self.style)}


def parse_scores(reply: str) -> tuple[int, int] | None:
    """The two scores from a reply, tolerating code fences and prose around the JSON; None when absent or out of range."""
    match = JSON_OBJECT.search(reply or "")
    if not match:
        return None
    try:
        data = json.loads(match.group(0))
        scores = (int(data["accuracy"]["score"]), int(data["style"]["score"]))
    except (ValueError, KeyError, TypeError):
        return None
    return scores if all(1 <= score <= 3 for score in scores) else None


def api_key(judge: Judge) -> str:
    """The key, resolved here inside the job: from a Secrets Manager secret (plain, or {"api_key": ...}) or an environment variable."""
    if judge.api_key_secret_arn:
        import boto3  # in SageMaker's images; only a secret-held key needs it

        secret = boto3.client("secretsmanager").get_secret_value(SecretId=judge.api_key_secret_arn)["SecretString"]
        try:
            parsed = json.loads(secret)
        except ValueError:
            return secret.strip()
        return str(parsed.get("api_key", "")) if isinstance(parsed, dict) else secret.strip()
    return os.environ.get(judge.api_key_env, "") if judge.api_key_env else ""


def openai_chat(judge: Judge) -> Callable[[str], str]:
    key = api_key(judge)

    def call(prompt: str) -> str:
        body = json.dumps({"model": judge.model, "messages": [{"role": "user", "content": prompt}], "temperature": 0}).encode()
        request = urllib.request.Request(
            f"{judge.base_url.rstrip('/')}/chat/completions",
            data=body,
            headers={"Content-Type": "application/json", **({"Authorization": f"Bearer {key}"} if key else {})},
        )
        with urllib.request.urlopen(request, timeout=judge.timeout_seconds) as response:  # noqa: S310 - a configured endpoint
            payload: Any = json.loads(response.read())
        return str(payload["choices"][0]["message"]["content"])

    return call


def judge_answers(chat: Callable[[str], str], instructions: Sequence[str], references: Sequence[str], answers: Sequence[str]) -> tuple[JudgeSummary, list[tuple[int, int] | None]]:
    summary = JudgeSummary()
    per_sample: list[tuple[int, int] | None] = []
    for instruction, reference, answer in zip(instructions, references, answers):
        try:
            reply = chat(PROMPT.format(instruction=instruction, reference=reference, answer=answer))
        except Exception:  # noqa: BLE001 - any failure of the judge is counted, never fatal
            summary.failed_calls += 1
            per_sample.append(None)
            continue
        scores = parse_scores(reply)
        if scores is None:
            summary.unparsable += 1
        else:
            summary.scored += 1
            summary.accuracy.append(scores[0])
            summary.style.append(scores[1])
        per_sample.append(scores)
    return summary, per_sample
