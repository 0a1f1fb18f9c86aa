"""Spot interruption and resume, the model's own chat template, and the adapter-only export."""

from __future__ import annotations

import pytest
from peft import AutoPeftModelForCausalLM
from transformers import AutoTokenizer, TrainerCallback

from train_testkit import CHATML_TEMPLATE
from llmtwin_train.run import run
from llmtwin_train.settings import SageMakerEnv, parse_hyperparameters


class SpotInterruption(RuntimeError):
    pass


class InterruptAt(TrainerCallback):
    """Kills training after `step` the way a reclaimed spot instance does: no clean shutdown, no save."""

    def __init__(self, step: int) -> None:
        self.step = step

    def on_step_end(self, args, state, control, **kwargs):
        if state.global_step == self.step:
            raise SpotInterruption(f"instance reclaimed after step {self.step}")


def sm_env(channels) -> SageMakerEnv:
    return SageMakerEnv(
        train_dir=channels["train"],
        test_dir=channels["test"],
        model_dir=channels["model"],
        output_data_dir=channels["output"],
        checkpoint_dir=channels["checkpoints"],
    )


def tiny_hps(base, **overrides):
    values = {
        "base_model_id": str(base),
        "max_steps": 8,
        "learning_rate": 0.005,
        "per_device_batch_size": 4,
        "gradient_accumulation_steps": 1,
        "max_seq_length": 128,
        "lora_r": 4,
        "lora_alpha": 8,
        "logging_steps": 1,
        "save_steps": 2,
        "warmup_ratio": 0,
    }
    values.update(overrides)
    return parse_hyperparameters(values)


def test_a_restarted_job_resumes_from_its_latest_checkpoint(base_model_plain, channels):
    hps = tiny_hps(base_model_plain)
    with pytest.raises(SpotInterruption):
        run(sm_env(channels), hps, extra_callbacks=[InterruptAt(5)])
    saved = sorted(path.name for path in channels["checkpoints"].glob("checkpoint-*"))
    assert saved == ["checkpoint-2", "checkpoint-4"]  # save_total_limit keeps the last two
    assert not channels["model"].exists()  # nothing exported from the interrupted run

    # SageMaker restarts the job with /opt/ml/checkpoints restored from S3: same inputs, same command.
    resumed = run(sm_env(channels), hps)
    assert resumed.resumed_from is not None and resumed.resumed_from.endswith("checkpoint-4")
    assert [step for step, _ in resumed.train_losses] == [5, 6, 7, 8]  # continues, does not start over
    assert resumed.global_step == 8
    assert (channels["model"] / "model.safetensors").is_file()


def test_uses_the_models_own_chat_template_and_can_export_the_adapter_only(base_model_chatml, channels):
    result = run(sm_env(channels), tiny_hps(base_model_chatml, max_steps=2, export="adapter", system_prompt="You are the author."))
    assert result.used_fallback_template is False
    assert result.eval_examples == 2 and "eval_loss" in result.eval_metrics

    names = {path.name for path in channels["model"].iterdir()}
    assert {"adapter_config.json", "adapter_model.safetensors", "tokenizer.json"} <= names
    assert "model.safetensors" not in names
    tokenizer = AutoTokenizer.from_pretrained(channels["model"])
    assert tokenizer.chat_template == CHATML_TEMPLATE
    model = AutoPeftModelForCausalLM.from_pretrained(channels["model"])
    prompt = tokenizer.apply_chat_template([{"role": "user", "content": "Write about the sea."}], add_generation_prompt=True, return_tensors="pt")
    generated = model.generate(input_ids=prompt, max_new_tokens=4, do_sample=False, pad_token_id=tokenizer.pad_token_id)
    assert generated.shape[1] > prompt.shape[1]
