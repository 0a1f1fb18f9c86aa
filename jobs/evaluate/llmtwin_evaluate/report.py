"""The evaluation's three outputs: evaluation.json for machines (the TypeScript side reads it back),
report.md for a diff or a pull request, and report.html, one self-contained page (inline SVG, no
scripts, nothing fetched) with the training loss curve, twin against base for each metric, and every
sample with both generations beside the reference."""

from __future__ import annotations

import html
import json
import math
from pathlib import Path
from typing import Any, Sequence

# Lower is better for these; higher for the rest.
LOWER_IS_BETTER = {"perplexity", "style_cosine_delta", "style_char_ngram_distance"}


def _number(value: Any) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "n/a"
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def write_reports(output_dir: Path, evaluation: dict[str, Any]) -> list[Path]:
    output_dir.mkdir(parents=True, exist_ok=True)
    paths = [output_dir / "evaluation.json", output_dir / "report.md", output_dir / "report.html"]
    paths[0].write_text(json.dumps(evaluation, indent=2, sort_keys=True, allow_nan=False, default=_finite), encoding="utf-8")
    paths[1].write_text(markdown(evaluation), encoding="utf-8")
    paths[2].write_text(page(evaluation), encoding="utf-8")
    return paths


def _finite(value: Any) -> Any:
    raise TypeError(f"not JSON serialisable: {value!r}")


def metric_rows(evaluation: dict[str, Any]) -> list[tuple[str, Any, Any, str]]:
    twin, base = evaluation["metrics"]["twin"], evaluation["metrics"]["base"]
    rows = []
    for name in twin:
        better = "lower" if name in LOWER_IS_BETTER else "higher"
        rows.append((name, twin[name], base.get(name), better))
    return rows


def markdown(evaluation: dict[str, Any]) -> str:
    lines = [
        f"# Evaluation of {evaluation['model']['artifacts']}",
        "",
        f"Base model `{evaluation['model']['base_model_id']}`, {evaluation['samples_scored']} held-out samples, decoding {json.dumps(evaluation['decoding'])}.",
        "",
        "| metric | twin | base | better when |",
        "|---|---|---|---|",
    ]
    lines += [f"| {name} | {_number(twin)} | {_number(base)} | {better} |" for name, twin, base, better in metric_rows(evaluation)]
    judge = evaluation.get("judge")
    if judge:
        lines += ["", f"Judge: {judge['scored']} scored, {judge['unparsable']} unparsable replies, {judge['failed_calls']} failed calls."]
    lines += ["", "## Samples", ""]
    for index, sample in enumerate(evaluation["samples"], start=1):
        lines += [f"### {index}. {sample['instruction']}", "", f"**Reference:** {sample['reference']}", "", f"**Twin:** {sample['twin']}", "", f"**Base:** {sample['base']}", ""]
    return "\n".join(lines) + "\n"


def _bars(rows: Sequence[tuple[str, Any, Any, str]]) -> str:
    """One pair of bars per metric, each pair scaled to its own larger value (the metrics differ in units)."""
    width, row_height = 640, 46
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{row_height * len(rows) + 10}" role="img" aria-label="twin versus base">']
    for index, (name, twin, base, better) in enumerate(rows):
        values = [value if isinstance(value, (int, float)) and math.isfinite(value) else 0.0 for value in (twin, base)]
        top = max(max(values), 1e-12)
        y = index * row_height + 5
        parts.append(f'<text x="0" y="{y + 12}" font-size="12">{html.escape(name)} ({better} is better)</text>')
        for offset, (label, value, colour) in enumerate((("twin", values[0], "#2b6cb0"), ("base", values[1], "#a0aec0"))):
            length = 380 * value / top
            parts.append(f'<rect x="200" y="{y + 16 + offset * 13}" width="{length:.1f}" height="11" fill="{colour}"/>')
            parts.append(f'<text x="{205 + length:.1f}" y="{y + 26 + offset * 13}" font-size="11">{label} {_number(value)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _curve(points: Sequence[Sequence[float]]) -> str:
    if len(points) < 2:
        return "<p>No training loss curve (the training job's metrics were not given).</p>"
    width, height, pad = 640, 220, 30
    steps, losses = [p[0] for p in points], [p[1] for p in points]
    x0, x1, y0, y1 = min(steps), max(steps), min(losses), max(losses)
    scale_x = lambda s: pad + (width - 2 * pad) * (s - x0) / ((x1 - x0) or 1)  # noqa: E731
    scale_y = lambda v: height - pad - (height - 2 * pad) * (v - y0) / ((y1 - y0) or 1)  # noqa: E731
    line = " ".join(f"{scale_x(s):.1f},{scale_y(v):.1f}" for s, v in zip(steps, losses))
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" aria-label="training loss">'
        f'<polyline fill="none" stroke="#2b6cb0" stroke-width="2" points="{line}"/>'
        f'<text x="{pad}" y="{pad - 8}" font-size="11">loss {_number(y1)}</text><text x="{pad}" y="{height - 8}" font-size="11">step {int(x0)} .. {int(x1)}, loss down to {_number(y0)}</text>'
        "</svg>"
    )


def page(evaluation: dict[str, Any]) -> str:
    escape = html.escape
    rows = metric_rows(evaluation)
    table = "".join(
        f"<tr><td>{escape(s['instruction'])}</td><td>{escape(s['reference'])}</td><td>{escape(s['twin'])}</td><td>{escape(s['base'])}</td></tr>" for s in evaluation["samples"]
    )
    metrics = "".join(f"<tr><td>{escape(name)}</td><td>{_number(t)}</td><td>{_number(b)}</td><td>{better}</td></tr>" for name, t, b, better in rows)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>llmtwin evaluation</title>
<style>body{{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em}}table{{border-collapse:collapse;width:100%}}td,th{{border:1px solid #ddd;padding:6px;vertical-align:top;font-size:13px}}th{{background:#f7fafc}}</style>
</head><body>
<h1>Evaluation</h1>
<p>Model <code>{escape(evaluation['model']['artifacts'])}</code>; base <code>{escape(evaluation['model']['base_model_id'])}</code>; dataset <code>{escape(str(evaluation.get('dataset', '')))}</code>; {evaluation['samples_scored']} held-out samples.</p>
<h2>Training loss</h2>{_curve(evaluation.get('training_loss', []))}
<h2>Twin and base</h2>{_bars(rows)}
<table><tr><th>metric</th><th>twin</th><th>base</th><th>better when</th></tr>{metrics}</table>
<h2>Samples</h2>
<table><tr><th>instruction</th><th>reference (the author)</th><th>twin</th><th>base</th></tr>{table}</table>
</body></html>
"""
