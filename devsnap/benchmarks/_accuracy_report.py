"""Results of ``bench_accuracy.py`` gathered per model and dataset, and printed as Markdown.

``collect`` turns the jobs' results into ``{label: {dataset: entry}}`` with ``label`` a
config's ``c0``, ``c1``, ... or a baseline's name and ``entry`` a dict of lists over seeds
(``scores``, ``fit_seconds``, ``epochs``, ``errors``). Accuracy: higher is better; RMSE
(mean over targets): lower is better.
"""

from __future__ import annotations

import numpy as np

__all__ = ["collect", "format_row", "gap_table", "mean_sd", "sweep_table"]

REFERENCE = "MiniRocket"


def label(result: dict) -> str:
    return f"c{result['config_index']}" if result["model"] == "sslearn" else result["model"]


def collect(results: list[dict], tasks: dict[str, str], table: dict | None = None) -> dict:
    """Add the jobs' results to ``table`` (a new one by default), in job order."""
    table = {} if table is None else table
    for result in results:
        entry = table.setdefault(label(result), {}).setdefault(
            result["dataset"],
            {
                "task": tasks[result["dataset"]],
                "seeds": [],
                "scores": [],
                "fit_seconds": [],
                "epochs": [],
                "errors": [],
            },
        )
        if "error" in result:
            entry["errors"].append(f"seed {result['seed']}: {result['error']}")
            continue
        entry["seeds"].append(result["seed"])
        entry["scores"].append(result["score"])
        entry["fit_seconds"].append(result["fit_seconds"])
        entry["epochs"].append(result["epochs"])
    return table


def mean_sd(values, ddof: int = 1) -> str:
    """``mean ± sd`` with 3 decimals (no spread for one value, ``failed`` for none)."""
    values = np.asarray(values, dtype=float)
    if values.size == 0:
        return "failed"
    spread = f" ± {values.std(ddof=ddof):.3f}" if values.size > ddof else ""
    return f"{values.mean():.3f}{spread}"


def _mean(table: dict, name: str, dataset: str) -> float | None:
    scores = table.get(name, {}).get(dataset, {}).get("scores")
    return float(np.mean(scores)) if scores else None


def format_row(table: dict, dataset: str, task: str, labels: list[str]) -> str:
    """``| dataset | metric | mean ± sd (fit s) | ...`` for the given models."""
    cells = []
    for name in labels:
        entry = table.get(name, {}).get(dataset)
        if entry is None or not entry["scores"]:
            cells.append("failed" if entry else "-")
            continue
        cells.append(f"{mean_sd(entry['scores'])} ({np.mean(entry['fit_seconds']):.1f} s)")
    metric = "accuracy" if task == "classification" else "RMSE"
    return f"| {dataset} | {metric} | " + " | ".join(cells) + " |"


def _summary(table: dict, name: str, datasets: list[str], tasks: dict[str, str]) -> list[str]:
    """Mean accuracy over classification sets; mean RMSE / MiniRocket's over regression sets."""
    accuracy = [_mean(table, name, d) for d in datasets if tasks[d] == "classification"]
    ratios = []
    for dataset in (d for d in datasets if tasks[d] == "regression"):
        ours, reference = _mean(table, name, dataset), _mean(table, REFERENCE, dataset)
        ratios.append(None if ours is None or not reference else ours / reference)
    cells = []
    for values in (accuracy, ratios):
        present = [v for v in values if v is not None]
        missing = f" ({len(present)}/{len(values)} sets)" if len(present) < len(values) else ""
        cells.append(f"{np.mean(present):.3f}{missing}" if present else "-")
    return cells


def _row(head: str, cells: list[str]) -> str:
    return f"| {head} | " + " | ".join(cells) + " |"


def sweep_table(table: dict, labels: list[str], datasets: list[str], tasks: dict) -> list[str]:
    """Rows datasets, columns models (mean ± sd), then the two summary rows."""
    lines = [_row("dataset", labels), "|---|" + "---|" * len(labels)]
    for dataset in datasets:
        metric = "acc" if tasks[dataset] == "classification" else "RMSE"
        cells = [mean_sd(table.get(name, {}).get(dataset, {}).get("scores", [])) for name in labels]
        lines.append(_row(f"{dataset} ({metric})", cells))
    summaries = [_summary(table, name, datasets, tasks) for name in labels]
    lines.append(_row("**mean accuracy (classification)**", [s[0] for s in summaries]))
    lines.append(_row(f"**mean RMSE / {REFERENCE} (regression)**", [s[1] for s in summaries]))
    return lines


def gap_table(table: dict, labels: list[str], datasets: list[str], tasks: dict) -> list[str]:
    """Each model against MiniRocket: accuracy difference (clf) or RMSE ratio (reg)."""
    lines = [_row(f"vs {REFERENCE}", labels), "|---|" + "---|" * len(labels)]
    gaps = {name: [] for name in labels}
    for dataset in datasets:
        reference = _mean(table, REFERENCE, dataset)
        cells = []
        for name in labels:
            ours = _mean(table, name, dataset)
            if ours is None or reference is None:
                cells.append("-")
            elif tasks[dataset] == "classification":
                gaps[name].append(ours - reference)
                cells.append(f"{ours - reference:+.3f}")
            else:
                cells.append(f"{ours / reference:.2f}" if reference else "-")
        kind = "acc gap" if tasks[dataset] == "classification" else "RMSE ratio"
        lines.append(_row(f"{dataset} ({kind})", cells))
    lines.append(
        _row("**mean accuracy gap**", [f"{np.mean(g):+.3f}" if g else "-" for g in gaps.values()])
    )
    return lines
