"""Hyperparameter parsing, the JSONL reader and the metric-line contract: fast, no model involved."""

from __future__ import annotations

import io
import json
import re

import pytest

from train_testkit import PAIRS, REPO_ROOT, write_jsonl
from llmtwin_train.data import DataError, ensure_chat_template, FALLBACK_CHAT_TEMPLATE, read_pairs, to_conversations
from llmtwin_train.metrics import MetricLogCallback, TRAINER_KEYS, metric_line, named_metrics
from llmtwin_train.settings import SageMakerEnv, SettingsError, load_hyperparameters, parse_hyperparameters


def test_hyperparameters_accept_strings_and_decoded_values():
    hps = parse_hyperparameters(
        {"base_model_id": "Qwen/Qwen2.5-1.5B-Instruct", "lora_r": "8", "epochs": 2, "load_in_4bit": "false", "lora_target_modules": "q_proj, v_proj", "learning_rate": "2e-4"}
    )
    assert (hps.lora_r, hps.epochs, hps.load_in_4bit, hps.learning_rate) == (8, 2.0, False, 2e-4)
    assert hps.target_modules() == ["q_proj", "v_proj"]
    assert parse_hyperparameters({"base_model_id": "m"}).target_modules() == "all-linear"


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"lora_r": 8}, "base_model_id is required"),
        ({"base_model_id": "m", "lora_rank": 8}, "unknown hyperparameter(s) lora_rank"),
        ({"base_model_id": "m", "lora_r": "eight"}, "lora_r='eight' is not a valid int"),
        ({"base_model_id": "m", "load_in_4bit": "maybe"}, "load_in_4bit='maybe' is not a valid bool"),
        ({"base_model_id": "m", "export": "gguf"}, 'export must be "merged" or "adapter"'),
        ({"base_model_id": "m", "lora_dropout": 1.5}, "lora_dropout must be in [0, 1)"),
    ],
)
def test_bad_hyperparameters_name_the_field(raw, message):
    with pytest.raises(SettingsError, match=re.escape(message)):
        parse_hyperparameters(raw)


def test_sagemaker_environment_contract(tmp_path):
    env = SageMakerEnv.from_environ({"SM_CHANNEL_TRAIN": "/opt/ml/input/data/train", "SM_CHANNEL_TEST": "/opt/ml/input/data/test", "SM_MODEL_DIR": "/opt/ml/model"})
    assert (str(env.train_dir), str(env.test_dir), str(env.model_dir)) == ("/opt/ml/input/data/train", "/opt/ml/input/data/test", "/opt/ml/model")
    assert str(env.checkpoint_dir) == "/opt/ml/checkpoints" and str(env.output_data_dir) == "/opt/ml/output/data"
    with pytest.raises(SettingsError, match="SM_CHANNEL_TRAIN"):
        SageMakerEnv.from_environ({})
    # The toolkit's own sagemaker_* entries are ignored, ours are parsed.
    hps = load_hyperparameters({"SM_HPS": json.dumps({"base_model_id": "m", "sagemaker_program": "train.py", "epochs": 1})})
    assert hps.epochs == 1.0


def test_reads_pairs_with_configurable_field_names(tmp_path):
    write_jsonl(tmp_path / "a.jsonl", [{"question": "Why?", "context": "Because.", "answer": "I said so."}])
    write_jsonl(tmp_path / "nested" / "b.jsonl", [{"question": "Who?", "answer": "Me."}])
    hps = parse_hyperparameters({"base_model_id": "m", "instruction_field": "question", "output_field": "answer", "input_field": "context"})
    assert read_pairs(tmp_path, hps) == [{"prompt": "Why?\n\nBecause.", "answer": "I said so."}, {"prompt": "Who?", "answer": "Me."}]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"instruction": "x"}\n', "train.jsonl:1: field 'output' must be a non-empty string"),
        ('{"instruction": "x", "output": "y"}\nnot json\n', "train.jsonl:2: not valid JSON"),
        ("\n\n", "no instruction/answer pairs"),
    ],
)
def test_bad_data_names_the_file_and_line(tmp_path, content, message):
    (tmp_path / "train.jsonl").write_text(content, encoding="utf-8")
    with pytest.raises(DataError, match=re.escape(message)):
        read_pairs(tmp_path, parse_hyperparameters({"base_model_id": "m"}))


def test_conversations_and_fallback_template():
    dataset = to_conversations([{"prompt": PAIRS[0]["instruction"], "answer": PAIRS[0]["output"]}], system_prompt="Be yourself.")
    row = dataset[0]
    assert [m["role"] for m in row["prompt"]] == ["system", "user"] and row["completion"][0]["role"] == "assistant"

    class Bare:
        chat_template = None

    bare = Bare()
    assert ensure_chat_template(bare) is True and bare.chat_template == FALLBACK_CHAT_TEMPLATE
    assert ensure_chat_template(bare) is False  # an existing template is never replaced


def test_every_metric_line_is_scraped_by_the_typescript_regexes(metric_definitions):
    """The contract with activities/fine-tune: each name we print has a definition whose regex reads the
    value back exactly, including the awkward values (scientific notation, negatives, nan)."""
    defined = {d["Name"]: re.compile(d["Regex"]) for d in metric_definitions}
    printed = set(TRAINER_KEYS.values()) | {"eval:perplexity"}
    assert printed == set(defined)
    for name in printed:
        for value in (1.5, 2e-05, -0.25, 12345678.0, 0.0):
            match = defined[name].search("2025-01-01 INFO " + metric_line(name, value, 7))
            assert match and float(match.group(1)) == pytest.approx(value, rel=1e-5), (name, value)
        assert defined[name].search(metric_line(name, float("nan"), 1)).group(1) == "nan"


def test_callback_prints_trainer_logs_as_metric_lines():
    class State:
        is_world_process_zero = True
        global_step = 3
        max_steps = 12

    stream = io.StringIO()
    callback = MetricLogCallback(stream=stream)
    callback.on_log(None, State(), None, logs={"loss": 2.5, "learning_rate": 1e-4, "epoch": 0.5, "total_flos": 1.0})
    callback.on_log(None, State(), None, logs={"eval_loss": 1.0})
    lines = stream.getvalue().splitlines()
    assert "llmtwin-metric train:loss=2.5 step=3" in lines and "llmtwin-metric train:learning_rate=0.0001 step=3" in lines
    assert not any("total_flos" in line for line in lines)
    # The step counter the local runner heartbeats, in the shape its regex (common/fine-tune/metrics.json) reads.
    assert "llmtwin-progress step=3 total=12" in lines
    contract = json.loads((REPO_ROOT / "common" / "fine-tune" / "metrics.json").read_text(encoding="utf-8"))
    assert re.search(contract["progressRegex"], "llmtwin-progress step=3 total=12").groups() == ("3", "12")
    assert named_metrics({"eval_loss": 1.0})["eval:perplexity"] == pytest.approx(2.718281828)
