"""One training run: data -> TRL SFT with a LoRA adapter -> evaluation -> exported model. Resumes from the
newest checkpoint in the checkpoint directory (SageMaker restores it from S3 after a spot interruption)."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from typing import Any, Sequence

from transformers import TrainerCallback, set_seed
from transformers.trainer_utils import get_last_checkpoint
from trl import SFTConfig, SFTTrainer

from .data import ensure_chat_template, read_pairs, to_conversations
from .export import export_model
from .metrics import MetricLogCallback
from .modeling import choose_precision, load_base_model, load_tokenizer, lora_config
from .settings import Hyperparameters, SageMakerEnv
from .stopping import StopOnSigterm

log = logging.getLogger("llmtwin.train")


@dataclass
class RunResult:
    global_step: int
    resumed_from: str | None
    used_fallback_template: bool
    train_examples: int
    eval_examples: int
    eval_metrics: dict[str, float] = field(default_factory=dict)
    train_losses: list[tuple[int, float]] = field(default_factory=list)
    # True when SIGTERM stopped the run: a checkpoint was saved, nothing was evaluated or exported.
    stopped: bool = False


def run(env: SageMakerEnv, hps: Hyperparameters, extra_callbacks: Sequence[TrainerCallback] = ()) -> RunResult:
    set_seed(hps.seed)
    precision = choose_precision(hps)
    log.info("precision: %s", precision)

    tokenizer = load_tokenizer(hps.base_model_id)
    used_fallback = ensure_chat_template(tokenizer)
    if used_fallback:
        log.info("the tokenizer has no chat template; using the fallback instruction template")

    train_set = to_conversations(read_pairs(env.train_dir, hps), hps.system_prompt)
    eval_set = to_conversations(read_pairs(env.test_dir, hps), hps.system_prompt) if env.test_dir and any(env.test_dir.rglob("*.jsonl")) else None

    env.checkpoint_dir.mkdir(parents=True, exist_ok=True)
    resume_from = get_last_checkpoint(str(env.checkpoint_dir))
    if resume_from:
        log.info("resuming from %s", resume_from)

    metrics = MetricLogCallback()
    stop = StopOnSigterm()
    trainer = SFTTrainer(
        model=load_base_model(hps.base_model_id, precision),
        args=_sft_config(env, hps, precision, has_eval=eval_set is not None),
        train_dataset=train_set,
        eval_dataset=eval_set,
        processing_class=tokenizer,
        peft_config=lora_config(hps),
        callbacks=[metrics, stop, *extra_callbacks],
    )
    if eval_set is not None and resume_from is None:
        # The untrained model's held-out loss, logged at step 0: the number training has to beat.
        trainer.evaluate()
    try:
        trainer.train(resume_from_checkpoint=resume_from)
    finally:
        stop.restore()
    if stop.requested:
        # The grace period is for saving, not for an evaluation and a merge that may outlast it.
        return RunResult(
            global_step=trainer.state.global_step,
            resumed_from=resume_from,
            used_fallback_template=used_fallback,
            train_examples=len(train_set),
            eval_examples=len(eval_set) if eval_set is not None else 0,
            train_losses=metrics.values("train:loss"),
            stopped=True,
        )

    eval_metrics: dict[str, float] = {}
    if eval_set is not None:
        raw = trainer.evaluate()
        eval_metrics = {key: float(value) for key, value in raw.items() if isinstance(value, (int, float))}

    result = RunResult(
        global_step=trainer.state.global_step,
        resumed_from=resume_from,
        used_fallback_template=used_fallback,
        train_examples=len(train_set),
        eval_examples=len(eval_set) if eval_set is not None else 0,
        eval_metrics=eval_metrics,
        train_losses=metrics.values("train:loss"),
    )
    metadata = {
        "base_model_id": hps.base_model_id,
        "export": hps.export,
        "hyperparameters": hps.__dict__,
        "global_step": result.global_step,
        "resumed_from": resume_from,
        "fallback_chat_template": used_fallback,
        "eval_metrics": eval_metrics,
        # The loss curve, for the evaluation report (jobs/evaluate reads it from output.tar.gz).
        "train_loss": [[step, value] for step, value in result.train_losses],
    }
    export_model(trainer.model, tokenizer, hps, precision, env.model_dir, metadata)
    env.output_data_dir.mkdir(parents=True, exist_ok=True)
    (env.output_data_dir / "metrics.json").write_text(json.dumps(metadata, indent=2, sort_keys=True), encoding="utf-8")
    return result


def _sft_config(env: SageMakerEnv, hps: Hyperparameters, precision: Any, has_eval: bool) -> SFTConfig:
    on_gpu = precision.device == "cuda"
    return SFTConfig(
        output_dir=str(env.checkpoint_dir),
        num_train_epochs=hps.epochs,
        max_steps=hps.max_steps,
        per_device_train_batch_size=hps.per_device_batch_size,
        per_device_eval_batch_size=hps.per_device_batch_size,
        gradient_accumulation_steps=hps.gradient_accumulation_steps,
        learning_rate=hps.learning_rate,
        lr_scheduler_type="cosine",
        warmup_ratio=hps.warmup_ratio,
        max_length=hps.max_seq_length,
        packing=False,
        # The loss falls on the answer only: the model learns the author's text, not the instructions.
        completion_only_loss=True,
        logging_steps=hps.logging_steps,
        logging_first_step=True,
        # Checkpoints go to /opt/ml/checkpoints, which SageMaker syncs to the checkpoint S3 URI: a spot
        # interruption costs at most save_steps steps. Two are kept to bound the sync.
        save_strategy="steps",
        save_steps=hps.save_steps,
        save_total_limit=2,
        eval_strategy="epoch" if has_eval else "no",
        bf16=precision.bf16,
        fp16=precision.fp16,
        use_cpu=not on_gpu,
        gradient_checkpointing=hps.gradient_checkpointing and on_gpu,
        optim="paged_adamw_8bit" if precision.quantize_4bit else "adamw_torch",
        seed=hps.seed,
        data_seed=hps.seed,
        report_to=[],
        disable_tqdm=True,
        dataloader_num_workers=0,
    )
