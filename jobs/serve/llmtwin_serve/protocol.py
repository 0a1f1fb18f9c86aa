"""The request and response shapes of /invocations: OpenAI Chat Completions (what the vLLM and LMI
containers take), and the legacy TGI body {"inputs", "parameters"} for old clients."""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass
from typing import Any


class BadRequest(ValueError):
    """A body the server cannot answer; the message names the field."""


@dataclass(frozen=True)
class Request:
    messages: list[dict[str, str]]
    max_tokens: int
    temperature: float
    stream: bool
    legacy: bool


MAX_TOKENS_LIMIT = 4096


def parse_request(raw: bytes) -> Request:
    try:
        body = json.loads(raw.decode("utf-8") or "null")
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise BadRequest(f"the body is not JSON: {error}") from error
    if not isinstance(body, dict):
        raise BadRequest('the body must be a JSON object with "messages" (or the legacy "inputs")')
    if "messages" in body:
        return _chat(body)
    if "inputs" in body:
        return _legacy(body)
    raise BadRequest('the body needs "messages" (OpenAI chat) or "inputs" (legacy TGI)')


def _chat(body: dict[str, Any]) -> Request:
    messages = body["messages"]
    if not isinstance(messages, list) or not messages:
        raise BadRequest('"messages" must be a non-empty list of {"role", "content"}')
    for index, message in enumerate(messages):
        if not isinstance(message, dict) or message.get("role") not in ("system", "user", "assistant") or not isinstance(message.get("content"), str):
            raise BadRequest(f'"messages[{index}]" must be {{"role": "system"|"user"|"assistant", "content": "text"}}')
    return Request(
        messages=[{"role": m["role"], "content": m["content"]} for m in messages],
        max_tokens=_int(body, "max_tokens", 256),
        temperature=_float(body, "temperature", 0.7),
        stream=bool(body.get("stream", False)),
        legacy=False,
    )


def _legacy(body: dict[str, Any]) -> Request:
    if not isinstance(body["inputs"], str) or not body["inputs"]:
        raise BadRequest('"inputs" must be the prompt text')
    parameters = body.get("parameters") or {}
    if not isinstance(parameters, dict):
        raise BadRequest('"parameters" must be an object')
    return Request(
        messages=[{"role": "user", "content": body["inputs"]}],
        max_tokens=_int(parameters, "max_new_tokens", 256),
        temperature=_float(parameters, "temperature", 0.7),
        stream=bool(body.get("stream", False)),
        legacy=True,
    )


def _int(holder: dict[str, Any], key: str, default: int) -> int:
    value = holder.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_TOKENS_LIMIT:
        raise BadRequest(f'"{key}" must be a whole number from 1 to {MAX_TOKENS_LIMIT}')
    return value


def _float(holder: dict[str, Any], key: str, default: float) -> float:
    value = holder.get(key, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 2:
        raise BadRequest(f'"{key}" must be a number from 0 to 2')
    return float(value)


def completion(text: str, model: str, prompt_tokens: int, completion_tokens: int, finish_reason: str) -> dict[str, Any]:
    return {
        "id": f"chatcmpl-{uuid.uuid4().hex[:24]}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": finish_reason}],
        "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens, "total_tokens": prompt_tokens + completion_tokens},
    }


def legacy_answer(text: str) -> list[dict[str, str]]:
    return [{"generated_text": text}]


def chunk_event(chunk_id: str, model: str, delta: dict[str, str], finish_reason: str | None) -> bytes:
    event = {
        "id": chunk_id,
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}],
    }
    return f"data: {json.dumps(event)}\n\n".encode("utf-8")


def legacy_token_event(text: str) -> bytes:
    return f"data: {json.dumps({'token': {'text': text, 'special': False}})}\n\n".encode("utf-8")


DONE_EVENT = b"data: [DONE]\n\n"
