"""The offline base model: a tiny Llama built from a config, with random weights and a byte-level
tokenizer, so training runs for real on a machine with no hub access and no GPU. It is a toy: fine-tuned
on a few dozen documents it learns the author's letters, words and phrases and recombines them; it does
not write sensibly. Built once per version into a cache folder and reused by every job after that."""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import tempfile
from pathlib import Path

# The id a fine-tune asks for to get this model (never a Hugging Face Hub id: those contain a "/" or
# name real models). Bumping the version builds a new one beside the old.
TOY_MODEL_ID = "llmtwin-toy"
TOY_MODEL_VERSION = 1
_MARKER = "llmtwin-toy.json"

# Every byte is a token, so any text in any language tokenizes with no training and no unknown tokens.
# ChatML's markers are single special tokens, and the chat template is ChatML.
_SPECIAL_TOKENS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|pad|>"]
CHAT_TEMPLATE = (
    "{% for message in messages %}<|im_start|>{{ message['role'] }}\n{{ message['content'] }}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)
# Small enough to train in about a minute on two CPU cores, big enough for LoRA to fit the author's
# character statistics (the held-out loss falls well below the untrained model's).
_ARCHITECTURE = {
    "hidden_size": 128,
    "intermediate_size": 256,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,
    "max_position_embeddings": 4096,
}


def is_toy_model(model_id: str) -> bool:
    return model_id == TOY_MODEL_ID


def cache_dir(environ: dict[str, str] | None = None) -> Path:
    """LLMTWIN_CACHE_DIR (the local runner sets it to the project's .llmtwin/cache), else ~/.cache/llmtwin."""
    env = os.environ if environ is None else environ
    root = env.get("LLMTWIN_CACHE_DIR") or str(Path.home() / ".cache" / "llmtwin")
    return Path(root) / f"toy-model-v{TOY_MODEL_VERSION}"


def ensure_toy_model(directory: Path | None = None) -> Path:
    """The toy's folder, built on first use. A file lock makes two jobs starting together build it once;
    the folder appears whole (built beside it, then renamed), so a crash never leaves half a model."""
    target = directory or cache_dir()
    if (target / _MARKER).is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target.parent / f".{target.name}.lock", "w", encoding="utf-8") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if (target / _MARKER).is_file():
            return target
        building = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
        try:
            _build(building)
            if target.exists():
                shutil.rmtree(target)
            building.rename(target)
        finally:
            shutil.rmtree(building, ignore_errors=True)
    return target


def build_tokenizer():
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    alphabet = pre_tokenizers.ByteLevel.alphabet()
    vocab = {symbol: index for index, symbol in enumerate(sorted(alphabet))}
    core = Tokenizer(models.BPE(vocab=vocab, merges=[]))
    core.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)
    core.decoder = decoders.ByteLevel()
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=core,
        bos_token="<|endoftext|>",
        eos_token="<|im_end|>",
        pad_token="<|pad|>",
        unk_token="<|endoftext|>",
    )
    tokenizer.add_special_tokens({"additional_special_tokens": _SPECIAL_TOKENS})
    tokenizer.chat_template = CHAT_TEMPLATE
    return tokenizer


def _build(directory: Path) -> None:
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    tokenizer = build_tokenizer()
    torch.manual_seed(TOY_MODEL_VERSION)
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        tie_word_embeddings=False,
        **_ARCHITECTURE,
    )
    LlamaForCausalLM(config).save_pretrained(directory, safe_serialization=True)
    tokenizer.save_pretrained(directory)
    (directory / _MARKER).write_text(
        json.dumps({"id": TOY_MODEL_ID, "version": TOY_MODEL_VERSION, "note": "random weights: a toy that recombines the author's phrases"}),
        encoding="utf-8",
    )
