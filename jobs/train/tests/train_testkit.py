"""Test kit for jobs/train: a tiny causal LM and tokenizer built on the spot (no downloads), saved where a
Hugging Face model id would point, so the job's real loading code (`from_pretrained(base_model_id)`) is
what the tests run. (Not named conftest.py: other jobs' test folders may have one.)"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path


# Nothing may reach the Hub in tests: a local directory stands in for the model id.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

JOB_DIR = Path(__file__).resolve().parents[1]
REPO_ROOT = JOB_DIR.parents[1]
sys.path.insert(0, str(JOB_DIR))

# The author's "writing": short, repetitive answers a 2-layer model can start to learn in a few steps.
PAIRS = [
    {"instruction": "Write about the sea.", "output": "the sea is grey and the wind is cold and I love it."},
    {"instruction": "Write about the city.", "output": "the city is loud and the night is bright and I love it."},
    {"instruction": "Write about the forest.", "output": "the forest is green and the path is long and I love it."},
    {"instruction": "Write about the rain.", "output": "the rain is soft and the roof is old and I love it."},
    {"instruction": "Describe your morning.", "input": "Keep it short.", "output": "the coffee is hot and the page is blank and I love it."},
    {"instruction": "Describe your evening.", "output": "the lamp is warm and the book is open and I love it."},
    {"instruction": "Write about the mountain.", "output": "the mountain is high and the air is thin and I love it."},
    {"instruction": "Write about the river.", "output": "the river is wide and the water is fast and I love it."},
]
TEST_PAIRS = [
    {"instruction": "Write about the sky.", "output": "the sky is blue and the sun is low and I love it."},
    {"instruction": "Write about the garden.", "output": "the garden is wild and the grass is tall and I love it."},
]

SPECIAL = ["<pad>", "<unk>", "<s>", "</s>", "<|im_start|>", "<|im_end|>"]
CHATML_TEMPLATE = (
    "{% for message in messages %}<|im_start|>{{ message['role'] }}\n{{ message['content'] }}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


def _corpus() -> list[str]:
    from llmtwin_train.data import FALLBACK_CHAT_TEMPLATE

    texts = [value for pair in PAIRS + TEST_PAIRS for value in pair.values()]
    return texts + [FALLBACK_CHAT_TEMPLATE, "System Instruction Response system user assistant ### :"]


def build_tokenizer(chat_template: str | None):
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    core = Tokenizer(models.WordLevel(unk_token="<unk>"))
    core.pre_tokenizer = pre_tokenizers.Whitespace()
    core.train_from_iterator(_corpus(), trainers.WordLevelTrainer(special_tokens=SPECIAL))
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=core, bos_token="<s>", eos_token="</s>", pad_token="<pad>", unk_token="<unk>")
    tokenizer.add_special_tokens({"additional_special_tokens": ["<|im_start|>", "<|im_end|>"]})
    if chat_template:
        tokenizer.chat_template = chat_template
    return tokenizer


def build_base_model(directory: Path, chat_template: str | None) -> Path:
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    tokenizer = build_tokenizer(chat_template)
    torch.manual_seed(0)
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=256,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    LlamaForCausalLM(config).save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    return directory


def write_jsonl(path: Path, records: list[dict]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(record) + "\n" for record in records), encoding="utf-8")
    return path
