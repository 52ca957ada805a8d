"""Attributions of a fitted estimator's outputs to its input values (``explain``).

Integrated gradients (Sundararajan et al., 2017) through Captum: the attribution of an input
value is its difference from a baseline times the gradient of the explained output averaged
along the straight path from the baseline to the input, so a series' attributions sum to
``f(X) - f(baseline)`` (completeness) up to the quadrature error of ``n_steps`` points.

The network reads channels standardised by ``scaler_``, ``z = (x - mean) / scale``: an affine
map per channel. Along the same straight path ``(x - b) * df/dx = (z - z_b) * df/dz``, so the
attributions computed on the scaled inputs are already those of the raw inputs, exactly,
and they sum to the difference of outputs in the user's units.

With ``scale="series"`` or ``"both"`` the network also (or only) reads each series
standardised by its own statistics, which is not affine in the raw values: a series and
every multiple of it standardise alike, so along a path from a constant baseline that copy
would not move at all. The attributions are then computed on the network's inputs, each
copy of a value along its own straight path from the baseline's copy, and a value's
attribution is the sum over its copies. Completeness still holds in the user's units.
"""

from __future__ import annotations

import copy

import numpy as np
import torch
from sklearn.base import is_classifier

from sslearn.data import Panel

METHODS = ("integrated_gradients",)


def check_method(method: str) -> None:
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}.")


def input_width(X) -> int | None:
    """The number of time steps of an array ``X`` (which may end in all-NaN padding)."""
    shape = getattr(X, "shape", None)
    return int(shape[-1]) if isinstance(X, np.ndarray) and X.ndim in (2, 3) else None


def pad_to(attributions: np.ndarray, width: int | None) -> np.ndarray:
    """NaN columns after the longest series, back to the width of the input array."""
    extra = 0 if width is None else width - attributions.shape[-1]
    if extra <= 0:
        return attributions
    return np.pad(attributions, ((0, 0), (0, 0), (0, extra)), constant_values=np.nan)


def raw_baseline(estimator, panel: Panel, baseline, width: int | None = None) -> np.ndarray:
    """The baseline as float64 (n_samples, n_channels, n_timepoints) in the user's units.

    None: each channel's training mean (``scaler_.mean_``), or 0 without scaling: the value
    the network reads for a missing value either way.
    """
    shape = panel.values.shape
    if baseline is None:
        means = np.zeros(shape[1]) if estimator.scaler_ is None else estimator.scaler_.mean_
        return np.broadcast_to(np.asarray(means, dtype=np.float64)[None, :, None], shape)
    try:
        array = np.asarray(baseline, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise ValueError(f"baseline must be an array of numbers, got {baseline!r}.") from error
    if array.shape == (shape[1],):
        array = np.broadcast_to(array[None, :, None], shape)
    elif width is not None and array.shape == (*shape[:2], width):  # X's trailing padding
        array = array[..., : shape[2]]
    elif array.shape != shape:
        raise ValueError(
            f"baseline must have shape {shape} (that of X as (n_samples, n_channels, "
            f"n_timepoints)) or ({shape[1]},) (one value per channel), got {array.shape}."
        )
    observed = panel.observed_mask
    if not np.isfinite(array[observed]).all():
        raise ValueError("baseline must be finite where X is observed (not NaN).")
    return array


def output_indices(estimator, n_samples: int, target) -> np.ndarray:
    """One network output index per series: from class labels or a regressor's output index."""
    if is_classifier(estimator):
        labels = np.asarray(target)
        labels = np.broadcast_to(labels, (n_samples,)) if labels.ndim == 0 else labels
        if labels.shape != (n_samples,):
            raise ValueError(
                f"target must be one class label or one per series ({n_samples}), got an "
                f"array of shape {labels.shape}."
            )
        position = {label: i for i, label in enumerate(estimator.classes_.tolist())}
        unknown = sorted({str(label) for label in labels.tolist() if label not in position})
        if unknown:
            raise ValueError(
                f"target has label(s) {unknown} that are not among classes_ "
                f"{estimator.classes_.tolist()}."
            )
        return np.array([position[label] for label in labels.tolist()], dtype=np.int64)
    n_outputs = estimator.n_outputs_
    target = 0 if target is None else target
    if not isinstance(target, (int, np.integer)) or not 0 <= target < n_outputs:
        raise ValueError(
            f"target must be an output index in [0, {n_outputs}) for a regressor, got {target!r}."
        )
    return np.full(n_samples, int(target))


def _explained_outputs(estimator, network: torch.nn.Module):
    """``f(x, lengths) -> (B, n_outputs)``: logits, combined log-probabilities of an ensemble,
    or regression outputs in the user's units."""
    combine = estimator._combine_members if estimator._n_heads() > 1 else None
    y_scale = y_mean = None
    if not is_classifier(estimator):
        y_scale = torch.as_tensor(estimator._y_scale)
        y_mean = torch.as_tensor(estimator._y_mean)

    def forward(x: torch.Tensor, lengths: torch.Tensor | None) -> torch.Tensor:
        out = network(x, lengths)
        if combine is not None:
            out = combine(out)
        if y_scale is not None:
            out = out * y_scale.to(out) + y_mean.to(out)
        return out

    return forward


def integrated_gradients(
    estimator,
    panel: Panel,
    baseline: np.ndarray,
    target,
    *,
    n_steps: int,
    batch_size: int,
    device: torch.device,
    gaps: np.ndarray | None = None,
) -> np.ndarray:
    """Attributions (n_samples, n_channels, n_timepoints), NaN where ``panel`` is not observed.

    ``gaps``, the time gaps of a model fitted with times, ride along unattributed.
    """
    from captum.attr import IntegratedGradients

    observed = panel.observed_mask
    # the baseline takes X's value where X is missing or padding: no attribution there
    base = np.where(observed, baseline, 0.0).astype(np.float32)
    base_panel = Panel(base, panel.lengths, panel.missing, panel.channel_names)
    inputs = estimator._series_set(panel, gaps=gaps)
    baselines = estimator._series_set(base_panel, gaps=gaps)
    # the attributed inputs: every scaled copy of the channels (two with scale="both");
    # the rest of the network's inputs: missingness channels, time gaps
    n_channels = panel.n_channels
    copies = estimator._channel_copies() - int(estimator._missing_indicator)
    n_values = copies * n_channels

    dtype = estimator._inference_dtype(device)
    network = estimator.network_.to(device)
    if dtype != torch.float32:
        network = copy.deepcopy(network).to(dtype)
    network.eval()
    explained = _explained_outputs(estimator, network)

    def forward(values, rest, lengths, index):
        x = torch.cat([values, rest], dim=1) if rest.shape[1] else values
        out = explained(x, lengths)
        return out.gather(1, index[:, None])[:, 0]

    ig = IntegratedGradients(forward)
    n = len(inputs)
    by_prediction = target is None and is_classifier(estimator)
    chosen = None if by_prediction else output_indices(estimator, n, target)
    attributions = np.full(panel.values.shape, np.nan)
    order = np.argsort(-panel.lengths, kind="stable")  # long first: little padding per chunk
    for start in range(0, n, batch_size):
        rows = order[start : start + batch_size]
        lengths_cpu = torch.as_tensor(panel.lengths[rows])
        length = int(lengths_cpu.max())
        x = inputs.values[rows, :, :length].to(device, dtype=dtype)
        b = baselines.values[rows, :, :length].to(device, dtype=dtype)
        lengths = None if int(lengths_cpu.min()) == length else lengths_cpu.to(device)
        values, rest = x[:, :n_values], x[:, n_values:]
        if by_prediction:
            with torch.no_grad():
                index = explained(x, lengths).argmax(dim=1)
        else:
            index = torch.as_tensor(chosen[rows], device=device)
        result = ig.attribute(
            values.contiguous(),
            baselines=b[:, :n_values].contiguous(),
            additional_forward_args=(rest.contiguous(), lengths, index),
            n_steps=n_steps,
        )
        result = result.detach().cpu().numpy()
        attributions[rows, :, :length] = result.reshape(len(rows), copies, n_channels, -1).sum(1)
    attributions[~observed] = np.nan
    return attributions
