"""The model behind the server: a Hugging Face folder as SageMaker unpacks model.tar.gz into
/opt/ml/model (the fine-tune job's merged model), answering chat messages whole or token by token."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any


class Generator:
    def __init__(self, model_dir: Path) -> None:
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer
        from llmtwin_train.data import ensure_chat_template

        if not (model_dir / "config.json").is_file():
            raise FileNotFoundError(f"{model_dir} holds no Hugging Face model (no config.json): is the artifact a fine-tune job's model.tar.gz?")
        self._torch = torch
        self.tokenizer = AutoTokenizer.from_pretrained(model_dir)
        ensure_chat_template(self.tokenizer)
        self.model = AutoModelForCausalLM.from_pretrained(model_dir)
        self.model.eval()
        self.name = model_dir.name
        # One generation at a time: on CPU two at once only halve each other's speed.
        self._lock = threading.Lock()

    def _encode(self, messages: list[dict[str, str]]) -> Any:
        text = self.tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
        encoded = self.tokenizer(text, return_tensors="pt", add_special_tokens=False)
        # Some tokenizers add token_type_ids, which causal language models refuse in generate().
        return {"input_ids": encoded["input_ids"], "attention_mask": encoded["attention_mask"]}

    def _settings(self, max_tokens: int, temperature: float) -> dict[str, Any]:
        sampling = temperature > 0
        pad = self.tokenizer.pad_token_id if self.tokenizer.pad_token_id is not None else self.tokenizer.eos_token_id
        return {
            "max_new_tokens": max_tokens,
            "do_sample": sampling,
            **({"temperature": temperature} if sampling else {}),
            "pad_token_id": pad,
        }

    def complete(self, messages: list[dict[str, str]], max_tokens: int, temperature: float) -> tuple[str, int, int, str]:
        """The answer, its prompt and completion token counts, and why it ended (stop or length)."""
        encoded = self._encode(messages)
        with self._lock, self._torch.no_grad():
            generated = self.model.generate(**encoded, **self._settings(max_tokens, temperature))
        new_tokens = generated[0, encoded["input_ids"].shape[1] :]
        text = self.tokenizer.decode(new_tokens, skip_special_tokens=True)
        finish = "length" if len(new_tokens) >= max_tokens else "stop"
        return text, int(encoded["input_ids"].shape[1]), int(len(new_tokens)), finish

    def stream(self, messages: list[dict[str, str]], max_tokens: int, temperature: float) -> Iterator[str]:
        from transformers import TextIteratorStreamer

        encoded = self._encode(messages)
        streamer = TextIteratorStreamer(self.tokenizer, skip_prompt=True, skip_special_tokens=True)

        def run() -> None:
            with self._lock, self._torch.no_grad():
                self.model.generate(**encoded, **self._settings(max_tokens, temperature), streamer=streamer)

        worker = threading.Thread(target=run, daemon=True)
        worker.start()
        for piece in streamer:
            if piece:
                yield piece
        worker.join()
