"""Issue F: do series whose lengths vary widely train as well as equal-length ones?

One synthetic task, drawn twice: the class is which of four short motifs (one or two
periods of a sine, a triangle, a square pulse; ``--motif`` steps each) is hidden one to
three times, at random places, in Gaussian noise. In the ``equal`` draw every series has
``--length`` steps; in the ``wide`` draw the lengths are uniform on ``[--min-length,
--max-length]`` (the same mean), so one batch mixes series a dozen times longer than
others. Same motifs, same counts, same noise: a model that handles unequal lengths well
scores the same on both (the wide draw's short series even have less noise to search).

Each (draw, params, seed) fit prints and appends one JSON line (``--out``); at the end
the mean accuracy per draw and params. Usage::

    python benchmarks/bench_lengths.py --seeds 0 1 2 --runs '[{}, {"stem_channels": 32}]'
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from sslearn import LiquidS4Classifier

N_CLASSES = 4


def motif(label: int, width: int) -> np.ndarray:
    """The ``width``-step motif of class ``label``, peak amplitude 1."""
    t = np.linspace(0.0, 1.0, width, endpoint=False)
    if label == 0:
        return np.sin(2 * np.pi * t)
    if label == 1:
        return np.sin(4 * np.pi * t)
    if label == 2:
        return 1.0 - 2.0 * np.abs(2.0 * t - 1.0)  # triangle, -1 at the ends, 1 mid-way
    return np.where((t > 0.25) & (t < 0.75), 1.0, -1.0) * 0.8  # square pulse


def draw(
    n: int, lengths: np.ndarray, width: int, noise: float, rng: np.random.Generator
) -> tuple[list[np.ndarray], np.ndarray]:
    """``n`` univariate series of the given lengths and their labels (balanced)."""
    labels = np.arange(n) % N_CLASSES
    rng.shuffle(labels)
    series = []
    for label, length in zip(labels, lengths, strict=True):
        values = noise * rng.standard_normal(int(length))
        for start in rng.integers(0, int(length) - width + 1, size=rng.integers(1, 4)):
            values[start : start + width] += motif(int(label), width)
        series.append(values[None, :])  # (1 channel, length)
    return series, labels


def make_task(kind: str, args: argparse.Namespace, seed: int):
    """Train and test series of one draw (``"equal"`` or ``"wide"``) for ``seed``."""
    rng = np.random.default_rng(1000 + seed)
    n = args.n_train + args.n_test
    if kind == "equal":
        lengths = np.full(n, args.length)
    else:
        lengths = rng.integers(args.min_length, args.max_length + 1, size=n)
    series, labels = draw(n, lengths, args.motif, args.noise, rng)
    if kind == "equal":  # a 3-D array, as equal-length data usually come
        series = np.stack(series)
    train, test = slice(0, args.n_train), slice(args.n_train, n)
    return series[train], labels[train], series[test], labels[test]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", default="[{}]", help="JSON list of estimator parameters")
    parser.add_argument("--draws", nargs="+", default=["equal", "wide"])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--n-train", type=int, default=200)
    parser.add_argument("--n-test", type=int, default=400)
    parser.add_argument("--length", type=int, default=350)
    parser.add_argument("--min-length", type=int, default=50)
    parser.add_argument("--max-length", type=int, default=650)
    parser.add_argument("--motif", type=int, default=24)
    parser.add_argument("--noise", type=float, default=0.5)
    parser.add_argument("--out", type=Path, default=None, help="JSON lines, appended")
    args = parser.parse_args()
    if 2 * args.length != args.min_length + args.max_length:
        parser.error("--length must be the mean of --min-length and --max-length")

    scores: dict[tuple[str, str], list[float]] = {}
    for params in json.loads(args.runs):
        for kind in args.draws:
            for seed in args.seeds:
                X_train, y_train, X_test, y_test = make_task(kind, args, seed)
                model = LiquidS4Classifier(**params, random_state=seed)
                start = time.perf_counter()
                model.fit(X_train, y_train)
                seconds = time.perf_counter() - start
                accuracy = float(np.mean(model.predict(X_test) == y_test))
                row = {"draw": kind, "params": params, "seed": seed, "accuracy": accuracy}
                row.update(fit_seconds=seconds, epochs=model.n_iter_)
                print(json.dumps(row), flush=True)
                if args.out is not None:
                    with args.out.open("a") as file:
                        file.write(json.dumps(row) + "\n")
                scores.setdefault((kind, json.dumps(params)), []).append(accuracy)
    for (kind, params), values in scores.items():
        sd = np.std(values, ddof=1) if len(values) > 1 else 0.0
        print(f"{kind} {params}: {np.mean(values):.3f} ± {sd:.3f} ({len(values)})")


if __name__ == "__main__":
    main()
