"""Export a fitted estimator's whole prediction path to an ONNX graph.

The graph holds the input scaling, the missingness channels, the network with its SSM cores
frozen into real constants (:mod:`sslearn.nn.cores.frozen`), the combination of ensemble
members and the output transform (softmax and temperature, or the target units). It is
traced by ``torch.onnx.export(..., dynamo=True)``; onnx and onnxscript are imported only here
(the ``export`` extra).
"""

from __future__ import annotations

import json
import logging
import os
import warnings
from numbers import Integral
from pathlib import Path
from typing import Any

import numpy as np
import torch
from sklearn.base import is_classifier
from sklearn.utils.validation import check_is_fitted
from torch import nn

from sslearn.data._scale import _REL_TOL
from sslearn.nn.cores.frozen import frozen_network

MODES = ("sequence", "step")
OPSET = 18


class _Inputs(nn.Module):
    """Raw values (B, C, ...) -> the network's input, as the estimators build it: the
    channel scaling and/or each series standardised by its own statistics (``scale``), 0
    (the training mean) at a NaN and, when the network has them, the missingness channels.

    ``series`` standardises each (series, channel) over its non-NaN steps, as
    :func:`~sslearn.data.standardise_series` does: whole series only (``mode="sequence"``).
    """

    def __init__(
        self, mean: np.ndarray, scale: np.ndarray, indicator: bool, *, channel: bool = True,
        series: bool = False,
    ) -> None:  # fmt: skip
        super().__init__()
        self.indicator, self.channel, self.series = indicator, channel, series
        self.register_buffer("mean", torch.as_tensor(mean, dtype=torch.float32))
        self.register_buffer("scale", torch.as_tensor(scale, dtype=torch.float32))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        missing = torch.isnan(x)
        zero = torch.zeros_like(x)
        copies = []
        if self.channel:
            shape = (-1,) + (1,) * (x.ndim - 2)
            scaled = (x - self.mean.view(shape)) / self.scale.view(shape)
            copies.append(torch.where(missing, zero, scaled))
        if self.series:
            copies.append(_standardised_series(torch.where(missing, zero, x), ~missing))
        if self.indicator:
            copies.append(missing.to(x.dtype))
        return torch.cat(copies, dim=1) if len(copies) > 1 else copies[0]


def _standardised_series(x: torch.Tensor, observed: torch.Tensor) -> torch.Tensor:
    """Each (series, channel) of ``x`` (B, C, L), 0 where not ``observed``, standardised by
    the mean and population standard deviation of its observed steps; the divisor is 1.0
    where the series is constant or unobserved (the rule of ``sslearn.data._scale``)."""
    weight = observed.to(x.dtype)
    count = weight.sum(dim=-1, keepdim=True)
    mean = x.sum(dim=-1, keepdim=True) / count.clamp_min(1.0)
    centred = (x - mean) * weight
    std = torch.sqrt((centred * centred).sum(dim=-1, keepdim=True) / count.clamp_min(1.0))
    constant = (count == 0) | (std < _REL_TOL * torch.clamp(mean.abs(), min=1.0))
    return centred / torch.where(constant, torch.ones_like(std), std)


class _ClassifierOutputs(nn.Module):
    """Logits (B, n_classes), or an ensemble's (B, K, n_classes) -> probabilities."""

    def __init__(self, estimator: Any) -> None:
        super().__init__()
        self.combine = estimator._combine_members
        self.temperature = float(getattr(estimator, "temperature_", 1.0))

    def forward(self, outputs: torch.Tensor) -> torch.Tensor:
        if outputs.ndim == 3:
            outputs = self.combine(outputs)
        return torch.softmax(outputs / self.temperature, dim=-1)


class _RegressorOutputs(nn.Module):
    """Standardised outputs (B, n_outputs), or an ensemble's (B, K, n_outputs) -> the
    predictions in the units and shape of ``y``."""

    def __init__(self, estimator: Any) -> None:
        super().__init__()
        self.combine = estimator._combine_members
        self.flat = estimator._y_ndim == 1
        self.register_buffer("y_mean", torch.as_tensor(estimator._y_mean, dtype=torch.float32))
        self.register_buffer("y_scale", torch.as_tensor(estimator._y_scale, dtype=torch.float32))

    def forward(self, outputs: torch.Tensor) -> torch.Tensor:
        if outputs.ndim == 3:
            outputs = self.combine(outputs)
        outputs = outputs * self.y_scale + self.y_mean
        return outputs[:, 0] if self.flat else outputs


class SequencePredictor(nn.Module):
    """Whole series (B, C, L) in the user's units -> the estimator's output."""

    def __init__(self, inputs: nn.Module, network: nn.Module, outputs: nn.Module) -> None:
        super().__init__()
        self.inputs, self.network, self.outputs = inputs, network, outputs

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.outputs(self.network(self.inputs(x)))


class StepPredictor(SequencePredictor):
    """One step (B, C) and the streaming state -> the output and the next state.

    The state of :meth:`~sslearn.nn.LiquidS4Network.step` as a flat tuple of tensors named
    by :meth:`state_names`, every one with the batch first; the step count is a float
    tensor of shape (B, 1).
    """

    def state_names(self) -> list[str]:
        stem = self.network.stem
        names = [] if stem is None else [f"stem{j}" for j in range(len(stem.convs))]
        for i, block in enumerate(self.network.blocks):
            names += [f"layer{i}_x", f"layer{i}_u", f"layer{i}_v"]
            if block.ssm.liquid_kernel == "kb":
                names += [f"layer{i}_x_liquid{q}" for q in block.ssm.degrees]
            if block.conv is not None:
                names.append(f"layer{i}_conv")
        return [*names, "pool_sum", "pool_max", "pool_count"]

    def initial_state(self, batch_size: int) -> list[torch.Tensor]:
        """The state before the first step: zeros, but ``pool_max`` is -inf."""
        return self._flat(self.network.initial_state(batch_size), batch_size)

    def _flat(self, state: dict, batch_size: int) -> list[torch.Tensor]:
        flat = list(state.get("stem", []))
        for layer in state["blocks"]:
            flat += [layer["x"], layer["u"], layer["v"], *layer.get("x_liquid", [])]
            flat += [layer["conv"]] if "conv" in layer else []
        count = state["count"]
        if not isinstance(count, torch.Tensor):
            count = state["sum"].new_full((batch_size, 1), float(count))
        return [*flat, state["sum"], state["max"], count]

    def forward(self, x_t: torch.Tensor, *flat: torch.Tensor) -> tuple[torch.Tensor, ...]:
        flat, blocks, stem = list(flat), [], self.network.stem
        stem_state = None if stem is None else [flat.pop(0) for _ in stem.convs]
        for block in self.network.blocks:
            layer = {"x": flat.pop(0), "u": flat.pop(0), "v": flat.pop(0)}
            if block.ssm.liquid_kernel == "kb":
                layer["x_liquid"] = [flat.pop(0) for _ in block.ssm.degrees]
            if block.conv is not None:
                layer["conv"] = flat.pop(0)
            blocks.append(layer)
        total, largest, count = flat
        state = {"blocks": blocks, "sum": total, "max": largest, "count": count}
        if stem_state is not None:
            state["stem"] = stem_state
        out, state = self.network.step(self.inputs(x_t), state)
        return (self.outputs(out), *self._flat(state, x_t.shape[0]))


def predictor(estimator: Any, mode: str = "sequence", n_timesteps: int | None = None):
    """The torch module that :func:`export_onnx` traces (float32, on the CPU)."""
    series = estimator._series_scaled()
    if series and mode == "step":
        estimator._check_causal_scaling("ONNX export with mode='step'")
    network = estimator.network_
    convolution = mode == "sequence" and network.config.get("liquid_kernel") != "exact"
    frozen = frozen_network(network, kernel_length=n_timesteps if convolution else None)
    scaler = estimator.scaler_
    channels = estimator.n_channels_
    inputs = _Inputs(
        np.zeros(channels) if scaler is None else scaler.mean_,
        np.ones(channels) if scaler is None else scaler.scale_,
        bool(estimator._missing_indicator),
        channel=scaler is not None or not series,
        series=series,
    )
    outputs = (_ClassifierOutputs if is_classifier(estimator) else _RegressorOutputs)(estimator)
    kind = StepPredictor if mode == "step" else SequencePredictor
    return kind(inputs, frozen, outputs).eval()


def export_onnx(
    estimator: Any,
    path: str | os.PathLike,
    n_timesteps: int | None = None,
    mode: str = "sequence",
) -> Path:
    """Write a fitted estimator's prediction path as an ONNX graph (opset 18).

    The graph reads series in the units of the training data and returns what
    ``predict_proba`` (classifier) or ``predict`` (regressor) returns, in float32: the
    channel scaling (``scale=True``), the missingness channels, the network, the average
    of ensemble members (``n_estimators > 1``), the softmax with the fitted temperature
    or the target units are all inside it. A NaN in the input is a missing value: 0 after
    scaling (the channel's training mean) and, for a model fitted on data with missing
    values, a 1 in its missingness channel. Every step of the input is part of the series:
    there is no NaN padding, so a batch holds series of one length.

    The SSM cores are frozen into their discretised systems as real constants (ONNX
    Runtime has no complex tensors); the FFT convolution and the Triton kernels of
    training do not export and are not used. Every core (``"diag"``, ``"dplr"``,
    ``"lssl"``) and liquid kernel (None, ``"kb"``, ``"pb"``, ``"exact"``) exports, in
    both modes:

    - ``mode="sequence"``, ``n_timesteps=None``: the time axis is dynamic; each layer runs
      its recurrence as an ONNX ``Scan`` loop over the steps.
    - ``mode="sequence"``, ``n_timesteps=L``: the time axis is fixed at ``L``; the kernels
      of liquid kernels None, ``"kb"`` and ``"pb"`` are materialised for ``L`` steps
      (constants of ``L`` values per channel and input power) and applied as a causal
      ``Conv``; ``"exact"`` (nonlinear in the input, no kernel) keeps the ``Scan`` loop.
      Bidirectional models export in both sequence forms.
    - ``mode="step"``: one recurrent step for streaming devices; unidirectional models only
      (``bidirectional=False``).

    Parameters
    ----------
    estimator : LiquidS4Classifier or LiquidS4Regressor
        A fitted estimator.
    path : str or path-like
        Where to write the ``.onnx`` file (weights included, no external data file).
    n_timesteps : int, default=None
        ``mode="sequence"``: None for a dynamic time axis, or the fixed length of the
        input's time axis. Must be None with ``mode="step"``.
    mode : {"sequence", "step"}, default="sequence"
        ``"sequence"``: input ``x`` of shape (batch, n_channels, n_timesteps), output
        ``proba`` (batch, n_classes) with columns in the order of ``classes_``, or
        ``prediction`` of the shape of ``y`` per series. ``"step"``: inputs ``x`` of shape
        (batch, n_channels), one time step, and the state tensors (batch first; their
        names, in order, are in the model's metadata ``sslearn.state``); outputs the
        prediction for the steps so far (as in ``"sequence"``) and the next state, each
        named as its input with ``_next``. Start from zeros, except ``pool_max``, which
        starts at -inf (``pool_count`` is the number of steps so far, a float).

    Returns
    -------
    path : pathlib.Path
        The file written.

    Raises
    ------
    ImportError
        Without onnx and onnxscript: ``pip install "sslearn[export]"``.
    ValueError
        For an unknown ``mode``, a bad ``n_timesteps``, ``mode="step"`` with a
        bidirectional model, or a model fitted with ``times`` (irregular sampling), whose
        discretised systems change with every step's time gap and so cannot be frozen
        into the graph's constants.

    Examples
    --------
    >>> import tempfile
    >>> import numpy as np
    >>> import onnxruntime
    >>> from sslearn import LiquidS4Regressor, export_onnx
    >>> rng = np.random.RandomState(0)
    >>> X, y = rng.randn(20, 2, 16).astype(np.float32), rng.randn(20)
    >>> reg = LiquidS4Regressor(d_model=8, n_layers=1, d_state=4, max_epochs=2,
    ...                         device="cpu", random_state=0).fit(X, y)
    >>> path = export_onnx(reg, f"{tempfile.mkdtemp()}/model.onnx")
    >>> session = onnxruntime.InferenceSession(path)
    >>> (prediction,) = session.run(None, {"x": X[:3]})
    >>> bool(np.allclose(prediction, reg.predict(X[:3]), rtol=1e-4, atol=1e-5))
    True
    """
    check_is_fitted(estimator)
    if estimator._uses_times():
        raise ValueError(
            f"This {type(estimator).__name__} was fitted with times (irregular sampling), "
            "which does not export to ONNX: the graph holds each SSM's discretised system "
            "as constants, frozen for a step of one time unit, while this model discretises "
            "every step anew with its own time gap. Predict in Python (predict, or stream() "
            "for step-by-step use), or fit without times to export."
        )
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}.")
    if n_timesteps is not None and (
        not isinstance(n_timesteps, Integral) or isinstance(n_timesteps, bool) or n_timesteps < 1
    ):
        raise ValueError(f"n_timesteps must be None or a positive integer, got {n_timesteps!r}.")
    if mode == "step" and n_timesteps is not None:
        raise ValueError(
            "mode='step' exports one time step and has no time axis; leave n_timesteps=None."
        )
    if mode == "step" and estimator.network_.config.get("bidirectional"):
        raise ValueError(
            f"mode='step' exports the recurrent step, but this {type(estimator).__name__} was "
            "fitted with bidirectional=True: its layers also read each series backwards from "
            "its end. Fit it with bidirectional=False, or export mode='sequence'."
        )
    try:
        import onnx  # noqa: F401
        import onnxscript  # noqa: F401
    except ImportError as error:
        raise ImportError(
            "export_onnx needs onnx and onnxscript; install them with "
            'pip install "sslearn[export]".'
        ) from error
    module = predictor(estimator, mode, None if n_timesteps is None else int(n_timesteps))
    program = _trace(module, estimator.n_channels_, mode, n_timesteps)
    metadata = {"sslearn.estimator": type(estimator).__name__, "sslearn.mode": mode}
    if is_classifier(estimator):
        metadata["sslearn.classes"] = json.dumps([str(c) for c in estimator.classes_])
    if mode == "step":
        metadata["sslearn.state"] = json.dumps(module.state_names())
    program.model.metadata_props.update(metadata)
    path = Path(path)
    program.save(path, external_data=False)
    return path


def _trace(module: nn.Module, channels: int, mode: str, n_timesteps: int | None):
    """``torch.onnx.export`` of ``module`` with a batch axis (and a time axis) of any size."""
    batch = torch.export.Dim("batch")
    output = "proba" if isinstance(module.outputs, _ClassifierOutputs) else "prediction"
    shape = (2, channels, *(() if mode == "step" else (n_timesteps or 8,)))
    x = torch.randn(shape, generator=torch.Generator().manual_seed(0))  # no global RNG draw
    if mode == "step":
        names = module.state_names()
        args = (x, *module.initial_state(2))
        dynamic = ({0: batch}, tuple({0: batch} for _ in names))  # forward(x_t, *state)
        input_names = ["x", *names]
        output_names = [output, *(f"{name}_next" for name in names)]
    else:
        args = (x,)
        axes = {0: batch} if n_timesteps is not None else {0: batch, 2: torch.export.Dim("time")}
        dynamic = (axes,)
        input_names, output_names = ["x"], [output]
    # the exporter's notes on deprecated torch internals and on torchvision, not used here
    registry = logging.getLogger("torch.onnx._internal.exporter._registration")
    level = registry.level
    registry.setLevel(logging.ERROR)
    try:
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return torch.onnx.export(
                module,
                args,
                dynamo=True,
                opset_version=OPSET,
                input_names=input_names,
                output_names=output_names,
                dynamic_shapes=dynamic,
                verbose=False,
            )
    finally:
        registry.setLevel(level)
