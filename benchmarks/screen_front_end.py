"""Screening (issue F): a convolutional front end before the SSM blocks, and step-size ranges.

Not a feature of sslearn: the estimators' networks are swapped for a subclass here, so a
lever can be measured on the developer set before it is built properly. One process runs
every (variant, params, dataset, seed) fit in turn and appends one JSON line per fit to
``--out`` (so a run cut short by a time limit keeps what it finished); at the end it prints
the mean score of each variant per dataset.

Variants (``--runs '[["base", {}], ["stem_gap", {"dt_range": [0.01, 1.0]}]]'``):

``base``
    The estimators as they are (``params`` are estimator parameters, e.g. ``dt_range``).
``stem``
    Three convolutions (128, 256, 128 channels; widths 8, 5, 3; centred, "same" padding),
    each followed by BatchNorm and ReLU and zeroed past each series' length (the FCN of
    Wang et al. 2017); the encoder reads the stem's channels.
``stem_skip``
    As ``stem``, with the raw input concatenated to the stem's channels before the encoder.
``stem_gap``
    As ``stem_skip``, with the stem's channels also averaged over each series' valid steps
    and handed to the head beside the SSM's pooled features.
``stem_res0``
    As ``stem_skip``, with the encoder's weights on the stem's channels initialised to zero
    (the network starts as ``base``).
``stem64_skip``, ``stem32_skip``
    As ``stem_skip`` with 64 (32) channels in every convolution.
``stem_zero``
    The built front end (``stem_channels``, a parameter), with the encoder's weights on
    the stem's channels initialised to zero and those on the raw channels as
    ``nn.Linear(C, d_model)`` starts (the network starts as the one without a front end).
``stem_rawinit``
    The built front end with the encoder's weights on the raw channels as
    ``nn.Linear(C, d_model)`` starts (bound ``1/sqrt(C)``, not ``1/sqrt(C + S)``), those on
    the stem's channels as they are.
``stem_pool``, ``stem_poolmax``
    The built front end, with the stem's output also pooled over each series' valid steps
    (its mean; its mean and its maximum) and handed to the head beside the SSM's pooled
    features: the FCN's global average pooling as a second route to the head.
``stem_aux``
    The built front end with a second head on its output's mean over valid steps, trained
    by its own loss beside the network's head (as a two-member ensemble: the losses are
    summed, the predictions averaged), so the convolutional features keep learning after
    the SSM blocks fit the training set. Screened here first; now the estimators'
    ``stem_head=True`` (the classifier's default), which this variant sets.

Every variant but ``base`` and ``stem_aux`` runs with ``stem_head=False`` unless its
params say otherwise: they were screened against the network without the head.
``fcn_ens``
    The built network beside the FCN of ``fcn`` (128, 256, 128 channels, centred), each
    with its own head and loss, trained together as a two-member ensemble (the losses
    summed, the predictions averaged): the FCN's accuracy where the SSM network trails it
    (OSULeaf), without its losses where it trails the SSM network (ArrowHead, Pickup).
``fcn``
    The stem alone: average pooling and a linear head, no SSM (a reference).

Usage: ``python benchmarks/screen_front_end.py --runs '[["base", {}], ["fcn", {}]]'
--datasets OSULeaf --seeds 0 1 2 --out screen.jsonl``. ``--report a.jsonl b.jsonl`` fits
nothing: it prints the finished lines of earlier runs as one Markdown table (mean ± sd over
seeds, ddof=1, per dataset; MiniRocket from ``--baselines``; the mean accuracy over the
classification sets a column finished, with the base column's mean over the same sets).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _accuracy_data import DATASETS, load, score

from sslearn import LiquidS4Classifier, LiquidS4Regressor
from sslearn.nn.functional import length_mask
from sslearn.nn.mixing import GroupedLinear
from sslearn.nn.network import LiquidS4Network

FCN = (128, 256, 128)
VARIANTS = {
    "base": None,
    "stem": {"channels": FCN},
    "stem_skip": {"channels": FCN, "skip": True},
    "stem_gap": {"channels": FCN, "skip": True, "gap": True},
    "stem_res0": {"channels": FCN, "skip": True, "zero_init": True},
    "stem64_skip": {"channels": (64, 64, 64), "skip": True},
    "stem32_skip": {"channels": (32, 32, 32), "skip": True},
    "fcn": {"channels": FCN, "fcn_only": True},
    "fcn64": {"channels": (64, 64, 64), "fcn_only": True},
}
# the built front end with the encoder started otherwise: variant -> stem columns at zero
ENCODER_STARTS = {"stem_zero": True, "stem_rawinit": False}
# the built front end's output pooled into the head as well: variant -> its poolings
POOLED_STEMS = {"stem_pool": ("mean",), "stem_poolmax": ("mean", "max")}


# mean of (B, C, L) over each series' valid steps -> (B, C), as the network's own pooling
masked_mean = LiquidS4Network._valid_mean


class ConvStem(nn.Module):
    """Convolution -> BatchNorm -> ReLU per layer, "same" padding, zero past each length."""

    def __init__(self, d_input: int, channels=FCN, widths=(8, 5, 3)) -> None:
        super().__init__()
        convs, norms, previous = [], [], d_input
        for out, width in zip(channels, widths, strict=True):
            convs.append(nn.Conv1d(previous, out, width, padding="same"))
            norms.append(nn.BatchNorm1d(out))
            previous = out
        self.convs, self.norms, self.d_output = nn.ModuleList(convs), nn.ModuleList(norms), out

    def forward(self, x: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        valid = None if lengths is None else length_mask(lengths, x.shape[-1])[:, None, :]
        for conv, norm in zip(self.convs, self.norms, strict=True):
            x = torch.relu(norm(conv(x)))
            if valid is not None:
                x = x * valid
        return x


class StemNetwork(LiquidS4Network):
    """LiquidS4Network with a :class:`ConvStem` before its encoder (one member only)."""

    def __init__(
        self,
        d_input: int,
        d_output: int,
        *,
        channels=FCN,
        skip: bool = False,
        gap: bool = False,
        zero_init: bool = False,
        fcn_only: bool = False,
        **config,
    ) -> None:
        super().__init__(d_input, d_output, **config)
        if self.n_members != 1:
            raise ValueError("the screening stem takes n_estimators=1")
        d_model = config.get("d_model", 64)
        self.stem = ConvStem(d_input, channels)
        self.skip, self.gap, self.fcn_only = skip, gap, fcn_only
        self.encoder = nn.Conv1d(self.stem.d_output + (d_input if skip else 0), d_model, 1)
        if zero_init:  # the raw channels as nn.Linear(d_input, d_model) starts, the stem's 0
            plain = nn.Linear(d_input, d_model)
            with torch.no_grad():
                self.encoder.weight.zero_()
                self.encoder.weight[:, :d_input, 0] = plain.weight
                self.encoder.bias.copy_(plain.bias)
        pooled = 2 * d_model if config.get("pooling") == "mean+max" else d_model
        if gap:
            self.head = nn.Linear(pooled + self.stem.d_output, d_output)
        if fcn_only:
            self.head = nn.Linear(self.stem.d_output, d_output)

    def _stem_input(self, x: torch.Tensor) -> torch.Tensor:
        return x.flatten(1, 2) if x.ndim == 4 else x

    def embed(self, x: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        values = self._stem_input(x)
        stem = self.stem(values, lengths)
        if self.fcn_only:
            return masked_mean(stem, lengths)
        h = self.encoder(torch.cat([values, stem], 1) if self.skip else stem)
        if lengths is not None:
            h = h * length_mask(lengths, x.shape[-1])[:, None, :]
        for block in self.blocks:
            h = block(h, lengths)
        pooled = self.pool(self.final_norm(h, lengths), lengths)
        return torch.cat([pooled, masked_mean(stem, lengths)], 1) if self.gap else pooled

    def forward(self, x: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        return self.head(self.embed(x, lengths))


def with_stem(estimator: type, options: dict) -> type:
    """A subclass of ``estimator`` whose network is a :class:`StemNetwork`."""

    class Screened(estimator):
        def _make_network(self, n_inputs, n_outputs):
            config = dict(super()._make_network(n_inputs, n_outputs).config)
            d_input, d_output = config.pop("d_input"), config.pop("d_output")
            return StemNetwork(d_input, d_output, **options, **config)

    Screened.__name__ = estimator.__name__
    return Screened


def with_encoder_init(estimator: type, zero_stem: bool) -> type:
    """A subclass of ``estimator`` whose encoder's raw columns start as ``nn.Linear(C, H)``
    and, with ``zero_stem``, whose stem columns start at zero."""

    class Screened(estimator):
        def _make_network(self, n_inputs, n_outputs):
            network = super()._make_network(n_inputs, n_outputs)
            if network.stem is None or network.n_members != 1:
                raise ValueError("the variant takes stem_channels > 0 and n_estimators=1")
            d_input = network.d_input
            plain = nn.Linear(d_input, network.encoder.out_features)
            with torch.no_grad():
                if zero_stem:
                    network.encoder.weight.zero_()
                network.encoder.weight[:, :d_input] = plain.weight
                network.encoder.bias.copy_(plain.bias)
            return network

    Screened.__name__ = estimator.__name__
    return Screened


class PooledStemNetwork(LiquidS4Network):
    """The built network (one member) whose head also reads its stem's pooled output."""

    stem_poolings: tuple[str, ...] = ("mean",)

    def embed(self, x: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        captured = []
        handle = self.stem.register_forward_hook(lambda _m, _i, out: captured.append(out))
        try:
            pooled = [super().embed(x, lengths)]
        finally:
            handle.remove()
        stem = captured[0]  # (B, S, L), zero past each length (after a ReLU, so >= 0)
        if "mean" in self.stem_poolings:
            pooled.append(masked_mean(stem, lengths))
        if "max" in self.stem_poolings:
            pooled.append(stem.amax(-1))  # padding is 0 and valid values are >= 0
        return torch.cat(pooled, 1)


def with_pooled_stem(estimator: type, poolings: tuple[str, ...]) -> type:
    """A subclass of ``estimator`` whose network is a :class:`PooledStemNetwork`."""

    class Screened(estimator):
        def _make_network(self, n_inputs, n_outputs):
            network = super()._make_network(n_inputs, n_outputs)
            if network.stem is None or network.n_members != 1:
                raise ValueError("the variant takes stem_channels > 0 and n_estimators=1")
            network.__class__ = PooledStemNetwork
            network.stem_poolings = poolings
            extra = len(poolings) * network.stem.channels
            network.head = GroupedLinear(network.head.in_features + extra, n_outputs)
            return network

    Screened.__name__ = estimator.__name__
    return Screened


class HybridNetwork(LiquidS4Network):
    """The built network (one member) and an FCN of its own, two heads, one ensemble."""

    def forward(self, x: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        main = self.head_outputs(self.embed(x, lengths))
        fcn = self.fcn_head(masked_mean(self.fcn(x, lengths), lengths))
        both = torch.stack([main, fcn], 1)
        return both if self.training else self.combine(both)


def with_fcn_member(estimator: type) -> type:
    """A subclass of ``estimator`` whose network is a :class:`HybridNetwork`."""

    class Screened(estimator):
        def _make_network(self, n_inputs, n_outputs):
            network = super()._make_network(n_inputs, n_outputs)
            if network.n_members != 1:
                raise ValueError("the variant takes n_estimators=1")
            network.__class__ = HybridNetwork
            network.fcn = ConvStem(n_inputs, FCN)
            network.fcn_head = nn.Linear(network.fcn.d_output, n_outputs)
            network.combine = self._combine_members
            return network

    Screened.__name__ = estimator.__name__
    return Screened


def fit_one(variant: str, params: dict, name: str, seed: int) -> dict:
    task = DATASETS[name]
    estimator = LiquidS4Classifier if task == "classification" else LiquidS4Regressor
    if variant in ENCODER_STARTS:
        estimator = with_encoder_init(estimator, ENCODER_STARTS[variant])
    elif variant == "fcn_ens":
        estimator = with_fcn_member(estimator)
    elif variant in POOLED_STEMS:
        estimator = with_pooled_stem(estimator, POOLED_STEMS[variant])
    elif VARIANTS.get(variant) is not None:  # None: base, stem_aux (estimator parameters)
        estimator = with_stem(estimator, VARIANTS[variant])
    X_train, y_train, X_test, y_test = load(name)
    head = {"stem_aux": {"stem_head": True}, "base": {}}.get(variant, {"stem_head": False})
    model = estimator(**{**head, **params}, random_state=seed)
    start = time.perf_counter()
    row = {"variant": variant, "params": params, "dataset": name, "seed": seed}
    try:
        model.fit(X_train, y_train)
        row["score"] = score(task, y_test, model.predict(X_test))
    except Exception as error:  # a screen keeps going; the error is reported in the row
        row["error"] = f"{type(error).__name__}: {error}"
    row["fit_seconds"] = time.perf_counter() - start
    row["epochs"] = getattr(model, "n_iter_", None)
    return row


def summarise(rows: list[dict]) -> None:
    """Print the mean score (and sd over seeds) of each variant and params per dataset."""
    table: dict = {}
    for row in rows:
        if "score" in row:
            key = f"{row['variant']} {json.dumps(row['params'])}"
            table.setdefault(key, {}).setdefault(row["dataset"], []).append(row["score"])
    for key, sets in table.items():
        cells = ", ".join(
            f"{name} {np.mean(v):.3f} ± {np.std(v):.3f} ({len(v)})" for name, v in sets.items()
        )
        print(f"{key}: {cells}")


def report(paths: list[Path], baselines: Path) -> None:
    """Print the rows of JSON-lines files as a Markdown table, one column per run."""
    rows = [json.loads(line) for path in paths for line in path.read_text().splitlines()]
    columns: dict[str, dict[str, list[float]]] = {}
    for row in rows:
        if "score" in row:
            label = row["variant"] + (f" {json.dumps(row['params'])}" if row["params"] else "")
            columns.setdefault(label, {}).setdefault(row["dataset"], []).append(row["score"])
    minirocket = json.loads(baselines.read_text()).get("MiniRocket", {})
    columns["MiniRocket"] = {name: entry["scores"] for name, entry in minirocket.items()}
    names = [name for name in DATASETS if any(name in column for column in columns.values())]
    print("| dataset | " + " | ".join(columns) + " |")
    print("|---|" + "---|" * len(columns))
    for name in names:
        cells = []
        for column in columns.values():
            values = column.get(name, [])
            sd = f" ± {np.std(values, ddof=1):.3f}" if len(values) > 1 else ""
            cells.append(f"{np.mean(values):.3f}{sd} ({len(values)})" if values else "—")
        print(f"| {name} | " + " | ".join(cells) + " |")
    base = columns.get("base", {})
    cells = []
    for column in columns.values():
        done = [n for n in names if DATASETS[n] == "classification" and n in column]
        mean = np.mean([np.mean(column[n]) for n in done]) if done else float("nan")
        ref = [np.mean(base[n]) for n in done if n in base]
        cells.append(
            f"{mean:.3f} [base {np.mean(ref):.3f}, {len(done)} sets]" if ref else f"{mean:.3f}"
        )
    print("| mean accuracy | " + " | ".join(cells) + " |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", default='[["base", {}]]', help="JSON [[variant, params], ...]")
    parser.add_argument("--datasets", nargs="+", default=list(DATASETS), choices=DATASETS)
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--out", type=Path, default=None, help="JSON lines, appended")
    parser.add_argument("--report", type=Path, nargs="+", default=None, help="JSON lines")
    parser.add_argument(
        "--baselines", type=Path, default=Path(__file__).parent / "results/baselines_h200.json"
    )
    args = parser.parse_args()
    if args.report:
        report(args.report, args.baselines)
        return
    runs = json.loads(args.runs)
    for variant, _ in runs:
        others = [*ENCODER_STARTS, *POOLED_STEMS, "stem_aux", "fcn_ens"]
        if variant not in VARIANTS and variant not in others:
            known = list(VARIANTS) + others
            parser.error(f"unknown variant {variant!r}; use one of {known}")
    rows = []
    for variant, params in runs:
        for name in args.datasets:
            for seed in args.seeds:
                row = fit_one(variant, params, name, seed)
                rows.append(row)
                print(json.dumps(row), flush=True)
                if args.out is not None:
                    with args.out.open("a") as file:
                        file.write(json.dumps(row) + "\n")
    summarise(rows)


if __name__ == "__main__":
    main()
