"""Figures and tables of the benchmarks page (``docs/benchmarks.md``) from committed results.

Reads only committed result files under ``benchmarks/results/`` (nothing is re-measured) and
writes three PNG figures into ``docs/assets/benchmarks/``:

- ``accuracy.png``: test accuracy per classification dataset of sslearn's defaults, MiniRocket
  and 1-NN, mean ± sd over seeds, all three fitted in one run on an NVIDIA H200
  (``device_confirm4_2026-12-06/default3.json`` and ``baselines.json``);
- ``fit_time.png``: fit seconds per dataset of sslearn's defaults and of the defaults it
  started from, each fit alone on an NVIDIA H100 (``device_confirm3_2026-12-06/confirm.json``;
  the faster of seeds 0 and 1, as the first fit of a process also compiles the kernels);
- ``layer_speed.png``: one ``LiquidSSM`` layer's forward + backward against the naive S4D
  anchor (``layer_h100.csv``).

The page's tables also read ``uea_protocol.csv``, ``train_step_h100.csv`` and
``layer_cpu.csv``. Those CSV files, like ``layer_h100.csv``, were transcribed once from the
tables of ``benchmarks/RESULTS.md``; each says in its header which section.

To regenerate, from the repository root (needs matplotlib: ``pip install -e ".[plots]"``)::

    python benchmarks/make_figures.py            # writes docs/assets/benchmarks/*.png
    python benchmarks/make_figures.py --tables   # also prints the page's markdown tables

The page's tables are pasted from ``--tables``; ``tests/test_docs.py`` checks that each of them
appears in ``docs/benchmarks.md`` as printed, so page and results cannot drift apart. After a
new benchmark run, commit its result files, point the paths below at them, run this script
and paste the tables.
"""

from __future__ import annotations

import argparse
import csv
import functools
import json
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
FIGURES = HERE.parent / "docs" / "assets" / "benchmarks"

CONFIRM = RESULTS / "device_confirm4_2026-12-06"  # bench_accuracy.py, one run, 2026-12-06
DEFAULTS = CONFIRM / "default3.json"  # sslearn's current defaults, 3 seeds
BASELINES = CONFIRM / "baselines.json"  # MiniRocket (3 seeds) and 1-NN, the same run
# the first defaults (spelled out, c0) and today's ({}), one process alone on an H100
FIT_TIME = RESULTS / "device_confirm3_2026-12-06" / "confirm.json"
LAYER = RESULTS / "layer_h100.csv"
PROTOCOL = RESULTS / "uea_protocol.csv"
TRAINING = RESULTS / "train_step_h100.csv"
CPU = RESULTS / "layer_cpu.csv"

NAMES = {
    "SelfRegulationSCP1": "SelfRegulationSCP1 (EEG)",
    "EyesOpenShut": "EyesOpenShut (EEG)",
    "VitalSigns-rhythm": "VitalSigns rhythm (simulated)",
    "VitalSigns-HR-RR": "VitalSigns heart + breathing rate (simulated)",
}
SHORT = {"VitalSigns-HR-RR": "VitalSigns HR + RR (simulated)"}  # figure labels
MODELS = ["sslearn defaults", "MiniRocket", "1-NN"]
COLORS = {"sslearn defaults": "C0", "MiniRocket": "C1", "1-NN": "C7"}
KERNELS = ["None", "pb", "kb", "exact"]
TIMES = "\N{MULTIPLICATION SIGN}"
SHAPE = TIMES.join("BHNL")


def _kernel(kernel: str) -> str:
    """A liquid kernel as written in Python: None, "pb", ..."""
    return kernel if kernel == "None" else f'"{kernel}"'


def _rows(path: Path) -> list[dict[str, str]]:
    """A CSV file's rows, skipping the ``#`` comment lines on top (and blank lines)."""
    with path.open(encoding="utf-8") as handle:
        lines = (line for line in handle if line.strip() and not line.startswith("#"))
        return list(csv.DictReader(lines))


@functools.cache  # read once: every figure and table asks for it
def accuracy_results() -> dict[str, dict[str, dict]]:
    """Model -> dataset -> one run's ``task``, per-seed ``scores`` and ``fit_seconds``."""
    defaults = json.loads(DEFAULTS.read_text(encoding="utf-8"))
    (config,) = [c for c in defaults["configs"] if c["config"] == {}]
    baselines = json.loads(BASELINES.read_text(encoding="utf-8"))
    return {
        "sslearn defaults": config["results"],
        "MiniRocket": baselines["MiniRocket"],
        "1-NN": baselines["1-NN"],
    }


@functools.cache
def fit_seconds() -> dict[str, dict[str, float]]:
    """``"first defaults"`` / ``"defaults"`` -> dataset -> the faster fit of seeds 0 and 1."""
    configs = json.loads(FIT_TIME.read_text(encoding="utf-8"))["configs"]
    first = configs[0]["results"]  # the first defaults, spelled out
    today = next(config["results"] for config in configs if config["config"] == {})
    return {
        label: {name: min(result["fit_seconds"]) for name, result in results.items()}
        for label, results in (("first defaults", first), ("defaults", today))
    }


def fit_time_table() -> str:
    """Fit seconds of the first defaults and today's per dataset, with their ratio."""
    times = fit_seconds()
    lines = [
        "| dataset | first defaults (s) | defaults (s) | ratio |",
        "|---|---:|---:|---:|",
    ]
    for name in times["defaults"]:
        first, today = times["first defaults"][name], times["defaults"][name]
        lines.append(
            f"| {NAMES.get(name, name)} | {first:.2f} | {today:.2f} | {today / first:.2f}{TIMES} |"
        )
    first, today = sum(times["first defaults"].values()), sum(times["defaults"].values())
    lines.append(
        f"| **sum** | **{first:.1f}** | **{today:.1f}** | **{today / first:.2f}{TIMES}** |"
    )
    return "\n".join(lines)


def datasets(task: str) -> list[str]:
    """The datasets of one task, in the order of the benchmark."""
    runs = accuracy_results()["sslearn defaults"]
    return [name for name, run in runs.items() if run["task"] == task]


def _mean_sd(values) -> tuple[float, float]:
    values = np.asarray(values, dtype=float)
    return float(values.mean()), float(values.std(ddof=1)) if len(values) > 1 else 0.0


def _cell(values) -> str:
    mean, sd = _mean_sd(values)
    return f"{mean:.3f} ± {sd:.3f}" if len(values) > 1 else f"{mean:.3f}"


def mean_accuracy(model: str) -> tuple[float, float]:
    """Mean accuracy over the classification sets; sd over seeds of the per-seed means."""
    runs = accuracy_results()[model]
    scores = np.array([runs[name]["scores"] for name in datasets("classification")])
    per_seed = scores.mean(axis=0)
    return _mean_sd(per_seed)


def _score_table(task: str, metric: str) -> str:
    runs = accuracy_results()
    lines = [f"| dataset | {' | '.join(MODELS)} |", "|---|---|---|---|"]
    for name in datasets(task):
        cells = [_cell(runs[model][name]["scores"]) for model in MODELS]
        lines.append(f"| {NAMES.get(name, name)} | {' | '.join(cells)} |")
    if task == "classification":
        means = [mean_accuracy(model) for model in MODELS]
        cells = [f"**{m:.3f}**" if sd == 0 else f"**{m:.3f} ± {sd:.3f}**" for m, sd in means]
        lines.append(f"| **mean {metric} ({len(datasets(task))} sets)** | {' | '.join(cells)} |")
    return "\n".join(lines)


def accuracy_table() -> str:
    return _score_table("classification", "accuracy")


def regression_table() -> str:
    return _score_table("regression", "RMSE")


def layer_rows() -> list[dict[str, str]]:
    return _rows(LAYER)


def layer_table() -> str:
    rows = layer_rows()
    shapes = list(dict.fromkeys(row["shape"] for row in rows))
    columns = ["anchor", *KERNELS]
    lines = [
        f"| {SHAPE} | anchor | None | pb | kb | exact |",
        "|---|---|---|---|---|---|",
    ]
    for shape in shapes:
        by_layer = {row["layer"]: row for row in rows if row["shape"] == shape}
        cells = [by_layer[column]["ms_graph"] for column in columns]
        lines.append(f"| {shape.replace('x', TIMES)} | {' | '.join(cells)} |")
    return "\n".join(lines)


def training_table() -> str:
    rows = [row for row in _rows(TRAINING) if row["kind"] == "step"]
    lines = ["| liquid_kernel | eager ms/step | CUDA graph ms/step |", "|---|---|---|"]
    for kernel in KERNELS:
        by_mode = {row["mode"]: row["value"] for row in rows if row["liquid_kernel"] == kernel}
        lines.append(f"| `{_kernel(kernel)}` | {by_mode['eager']} | {by_mode['graph']} |")
    return "\n".join(lines)


def cpu_table() -> str:
    rows = _rows(CPU)
    lines = ["| liquid_kernel | one direction | bidirectional |", "|---|---|---|"]
    for kernel in KERNELS:
        by_direction = {row["bidirectional"]: row for row in rows if row["liquid_kernel"] == kernel}
        cells = [by_direction[key]["ms_fwd_bwd"] for key in ("False", "True")]
        lines.append(f"| `{_kernel(kernel)}` | {' | '.join(cells)} |")
    return "\n".join(lines)


def protocol_table() -> str:
    lines = ["| test accuracy (%) | SelfRegulationSCP1 | SelfRegulationSCP2 |", "|---|---|---|"]
    for row in _rows(PROTOCOL):
        cells = []
        for key in ("scp1", "scp2"):
            mean, sd = row[f"{key}_mean"], row[f"{key}_sd"]
            cells.append(f"{mean} ± {sd}" if mean else "—")
        name = f"**{row['model']}**" if row["model"].startswith("sslearn") else row["model"]
        lines.append(f"| {name} | {' | '.join(cells)} |")
    return "\n".join(lines)


# the tables of docs/benchmarks.md, in page order
TABLES = {
    "accuracy": accuracy_table,
    "regression": regression_table,
    "protocol": protocol_table,
    "fit_time": fit_time_table,
    "layer": layer_table,
    "training": training_table,
    "cpu": cpu_table,
}


def figure_accuracy(plt, path: Path) -> None:
    runs = accuracy_results()
    names = datasets("classification")
    fig, ax = plt.subplots(figsize=(7.5, 5.2))
    y = np.arange(len(names))[::-1]
    for offset, model in zip((0.22, 0.0, -0.22), MODELS, strict=True):
        stats = np.array([_mean_sd(runs[model][name]["scores"]) for name in names])
        errors = stats[:, 1] if model != "1-NN" else None
        ax.errorbar(
            stats[:, 0], y + offset, xerr=errors, fmt="o", color=COLORS[model],
            capsize=3, markersize=5, label=model,
        )  # fmt: skip
    for model in MODELS[:2]:
        mean, _ = mean_accuracy(model)
        ax.axvline(mean, color=COLORS[model], linestyle=":", linewidth=1)
    ax.set_yticks(y, [NAMES.get(name, name) for name in names])
    ax.set_xlabel("test accuracy (mean ± sd over 3 seeds; dotted: mean over the 10 sets)")
    ax.set_xlim(0.3, 1.02)
    ax.grid(axis="x", alpha=0.3)
    ax.set_title("Accuracy on 10 classification sets (official test splits)")
    fig.legend(loc="lower center", ncol=3, frameon=False)
    fig.tight_layout(rect=(0, 0.05, 1, 1))
    fig.savefig(path, dpi=110)
    plt.close(fig)


def figure_fit_time(plt, path: Path) -> None:
    times = fit_seconds()
    names = list(times["defaults"])
    fig, ax = plt.subplots(figsize=(8, 6))
    y = np.arange(len(names))[::-1]
    bars = (
        ("first defaults", "the first defaults", "C7", 0.2),
        ("defaults", "today's", "C0", -0.2),
    )
    for key, label, color, offset in bars:
        seconds = [times[key][name] for name in names]
        ax.barh(y + offset, seconds, height=0.38, color=color, label=label)
    ax.set_yticks(y, [SHORT.get(name, NAMES.get(name, name)) for name in names])
    ax.set_xscale("log")
    ticks = [0.2, 0.5, 1, 2, 5]
    ax.set_xticks(ticks, [f"{tick:g}" for tick in ticks])
    ax.minorticks_off()
    ax.set_xlabel("fit seconds, the faster of 2 seeds (log scale)")
    ax.grid(axis="x", alpha=0.3, which="both")
    ax.set_title("Fit time per dataset, each fit alone on an NVIDIA H100")
    fig.legend(loc="lower center", ncol=2, frameon=False)
    fig.tight_layout(rect=(0, 0.05, 1, 1))
    fig.savefig(path, dpi=110)
    plt.close(fig)


def figure_layer_speed(plt, path: Path) -> None:
    rows = layer_rows()
    shapes = list(dict.fromkeys(row["shape"] for row in rows))
    fig, axes = plt.subplots(1, 2, figsize=(9.5, 4.0), sharey=True)
    width = 0.2
    x = np.arange(len(shapes))
    for ax, mode, title in zip(
        axes, ("ms_eager", "ms_graph"), ("eager PyTorch", "replayed from a CUDA graph"),
        strict=True,
    ):  # fmt: skip
        for k, kernel in enumerate(KERNELS):
            speedups = []
            for shape in shapes:
                by_layer = {row["layer"]: row for row in rows if row["shape"] == shape}
                speedups.append(float(by_layer["anchor"][mode]) / float(by_layer[kernel][mode]))
            label = f"liquid_kernel={_kernel(kernel)}"
            ax.bar(x + (k - 1.5) * width, speedups, width, label=label, color=f"C{k}")
        ax.axhline(1.0, color="black", linewidth=0.8)
        ax.set_xticks(x, [shape.replace("x", TIMES) for shape in shapes], rotation=25, ha="right")
        ax.set_xlabel(SHAPE)
        ax.set_title(title)
        ax.grid(axis="y", alpha=0.3)
    axes[0].set_ylabel("speed-up over the naive S4D layer\n(same mode; 1 = as fast)")
    axes[0].legend(fontsize=8, loc="upper left")
    fig.suptitle("One layer, forward + backward, float32 (NVIDIA H100)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tables", action="store_true", help="print the page's tables")
    parser.add_argument("--out", type=Path, default=FIGURES, help="folder of the PNG files")
    args = parser.parse_args(argv)

    import matplotlib

    matplotlib.use("Agg")  # files only, no window
    import matplotlib.pyplot as plt

    args.out.mkdir(parents=True, exist_ok=True)
    figure_accuracy(plt, args.out / "accuracy.png")
    figure_fit_time(plt, args.out / "fit_time.png")
    figure_layer_speed(plt, args.out / "layer_speed.png")
    print(f"wrote accuracy.png, fit_time.png and layer_speed.png to {args.out}")
    if args.tables:
        for name, table in TABLES.items():
            print(f"\n<!-- table: {name} -->\n{table()}")


if __name__ == "__main__":
    main()
