"""One evaluation: the twin (the training job's model) and the base model it was trained from, scored on
the same held-out pairs with the same prompts and decoding, so every number has a baseline. Reuses the
training job's own code for reading pairs, chat templates and loading models (jobs/train/llmtwin_train)."""

from __future__ import annotations

import gc
import json
import math
import tarfile
import tempfile
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Callable

from rouge_score import rouge_scorer
from transformers import AutoModelForCausalLM, AutoTokenizer

from llmtwin_train.data import ensure_chat_template, read_pairs
from llmtwin_train.modeling import model_source

from .judge import judge_answers, openai_chat
from .report import write_reports
from .scoring import generate, reference_perplexity
from .settings import EvaluationConfig, ProcessingPaths, SettingsError
from .style import char_ngram_distance, cosine_delta


def model_folder(model_input: Path, scratch: Path) -> Path:
    """The model as the training job left it: model.tar.gz (unpacked here) or an unpacked folder."""
    archives = sorted(model_input.glob("*.tar.gz"))
    if archives:
        with tarfile.open(archives[0]) as archive:
            archive.extractall(scratch, filter="data")
        return scratch
    if (model_input / "config.json").is_file() or (model_input / "adapter_config.json").is_file():
        return model_input
    raise SettingsError(f"no model.tar.gz and no model folder in {model_input}")


def _load(folder: Path, base_source: str) -> Any:
    if (folder / "adapter_config.json").is_file() and not (folder / "config.json").is_file():
        from peft import PeftModel

        return PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(base_source), folder).merge_and_unload()
    return AutoModelForCausalLM.from_pretrained(folder)


def rouge_l(generations: list[str], references: list[str]) -> list[float]:
    scorer = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=False)
    return [scorer.score(reference, generation)["rougeL"].fmeasure for generation, reference in zip(generations, references)]


def _mean(values: list[float]) -> float:
    finite = [value for value in values if math.isfinite(value)]
    return sum(finite) / len(finite) if finite else math.nan


def _finite_or_none(value: Any) -> Any:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: _finite_or_none(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_finite_or_none(item) for item in value]
    return value


def training_loss(paths: ProcessingPaths) -> list[list[float]]:
    """[[step, loss], ...] from the training job's output: training-metrics.json as given, or the
    output.tar.gz SageMaker uploads (its metrics.json holds the curve jobs/train recorded)."""
    given, packed = paths.training / "training-metrics.json", paths.training / "output.tar.gz"
    if given.is_file():
        return [[float(step), float(value)] for step, value in json.loads(given.read_text(encoding="utf-8")).get("train:loss", [])]
    if packed.is_file():
        with tarfile.open(packed, "r:gz") as archive:
            member = next((m for m in archive.getmembers() if m.isfile() and m.name.lstrip("./") == "metrics.json"), None)
            handle = archive.extractfile(member) if member else None
            if handle is None:
                return []
            data = json.loads(handle.read().decode("utf-8"))
        return [[float(step), float(value)] for step, value in data.get("train_loss", [])]
    return []


def run(paths: ProcessingPaths, config: EvaluationConfig, chat: Callable[[str], str] | None = None, artifacts: str = "") -> dict[str, Any]:
    fields = SimpleNamespace(instruction_field=config.instruction_field, output_field=config.output_field, input_field=config.input_field)
    pairs = read_pairs(paths.data, fields)[: config.max_samples]  # type: ignore[arg-type]
    prompts, references = [pair["prompt"] for pair in pairs], [pair["answer"] for pair in pairs]
    base_source = model_source(config.base_model_id)
    with tempfile.TemporaryDirectory() as scratch:
        twin_dir = model_folder(paths.model, Path(scratch))
        # One tokenizer for both: the twin's carries the chat template it was trained with, and LoRA never changes the vocabulary.
        tokenizer = AutoTokenizer.from_pretrained(twin_dir)
        ensure_chat_template(tokenizer)
        scored: dict[str, dict[str, Any]] = {}
        for label, load in (("twin", lambda: _load(twin_dir, base_source)), ("base", lambda: AutoModelForCausalLM.from_pretrained(base_source))):
            model = load()
            scored[label] = {
                "perplexity": reference_perplexity(model, tokenizer, prompts, references, config.system_prompt),
                "generations": generate(model, tokenizer, prompts, config.decoding, config.system_prompt),
            }
            del model
            gc.collect()

    twin_gens, base_gens = scored["twin"]["generations"], scored["base"]["generations"]
    rouge = {"twin": rouge_l(twin_gens, references), "base": rouge_l(base_gens, references)}
    delta = cosine_delta(references, {"twin": twin_gens, "base": base_gens}, config.style_vocabulary)
    metrics: dict[str, dict[str, Any]] = {
        label: {
            "perplexity": scored[label]["perplexity"],
            "rouge_l": _mean(rouge[label]),
            "style_cosine_delta": delta[label],
            "style_char_ngram_distance": char_ngram_distance(references, scored[label]["generations"]),
        }
        for label in ("twin", "base")
    }
    judge_report = None
    if config.judge or chat:
        call = chat or openai_chat(config.judge)  # type: ignore[arg-type]
        for label, gens in (("twin", twin_gens), ("base", base_gens)):
            summary, _ = judge_answers(call, prompts, references, gens)
            means = summary.means()
            metrics[label]["judge_accuracy"], metrics[label]["judge_style"] = means["accuracy"], means["style"]
            judge_report = {**(judge_report or {"scored": 0, "unparsable": 0, "failed_calls": 0})}
            for key in ("scored", "unparsable", "failed_calls"):
                judge_report[key] += getattr(summary, key)
    difference = {
        name: (metrics["twin"][name] - metrics["base"][name])
        if isinstance(metrics["twin"][name], (int, float)) and isinstance(metrics["base"].get(name), (int, float))
        else None
        for name in metrics["twin"]
    }
    evaluation = {
        "schema_version": 1,
        "model": {"artifacts": artifacts, "base_model_id": config.base_model_id},
        "decoding": vars(config.decoding),
        "samples_scored": len(pairs),
        "metrics": metrics,
        "difference": difference,
        "judge": judge_report,
        "training_loss": training_loss(paths),
        "samples": [
            {"instruction": prompt, "reference": reference, "twin": twin, "base": base, "rouge_l_twin": rt, "rouge_l_base": rb}
            for prompt, reference, twin, base, rt, rb in zip(prompts, references, twin_gens, base_gens, rouge["twin"], rouge["base"])
        ],
    }
    clean = _finite_or_none(evaluation)
    write_reports(paths.output, clean)
    return clean
