"""Plots of fitted estimators: attributions over the input, learned time scales, training.

matplotlib is imported inside the functions only (``pip install sslearn[plots]``), so
``import sslearn.plot`` is cheap. :func:`time_scales` returns the numbers that
:func:`plot_time_scales` draws.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch
from sklearn.utils.validation import check_is_fitted

__all__ = ["plot_attributions", "plot_history", "plot_time_scales", "time_scales"]


def plot_attributions(
    X_sample: Any,
    attributions: Any,
    channel_names: list[str] | None = None,
    fs: float | None = None,
    ax: Any = None,
) -> Any:
    """Draw one series with its attributions as the colour under each channel's signal.

    Each channel gets a row: its signal as a line over a background coloured by the
    attribution of each time step, on a diverging colour map centred at zero (red adds to
    the explained output, blue takes from it) shared by all channels.

    Parameters
    ----------
    X_sample : array-like of shape (n_channels, n_timepoints) or (n_timepoints,)
        One series, e.g. ``X[i]``; NaN steps (padding) are left blank.
    attributions : array-like of the shape of ``X_sample``
        Its attributions, e.g. ``estimator.explain(X[i : i + 1])[0]``.
    channel_names : list of str, default=None
        One name per channel for the y labels; None: ``channel 0``, ``channel 1``, ...
    fs : float, default=None
        Sampling frequency in Hz: the x axis in seconds. None: in time steps.
    ax : matplotlib Axes or array of Axes, default=None
        One Axes per channel. None: a new figure with one row per channel.

    Returns
    -------
    axes : ndarray of matplotlib Axes of shape (n_channels,)

    Examples
    --------
    >>> import numpy as np
    >>> from sslearn.plot import plot_attributions
    >>> x = np.sin(np.linspace(0, 6, 50))[None]
    >>> plot_attributions(x, x * 0.1).shape
    (1,)
    """
    import matplotlib.pyplot as plt
    from matplotlib.colors import TwoSlopeNorm

    values = np.atleast_2d(np.asarray(X_sample, dtype=np.float64))
    scores = np.atleast_2d(np.asarray(attributions, dtype=np.float64))
    if values.ndim != 2 or scores.shape != values.shape:
        raise ValueError(
            f"X_sample must have shape (n_channels, n_timepoints) and attributions the same "
            f"shape, got {np.shape(X_sample)} and {np.shape(attributions)}."
        )
    n_channels, n_timepoints = values.shape
    names = _channel_names(channel_names, n_channels)
    if ax is None:
        _, ax = plt.subplots(
            n_channels, 1, sharex=True, squeeze=False, figsize=(8, 1.6 * n_channels + 0.6)
        )
    axes = np.asarray(ax, dtype=object).ravel()
    if axes.size != n_channels:
        raise ValueError(f"ax must hold one Axes per channel ({n_channels}), got {axes.size}.")
    step = 1.0 / fs if fs else 1.0
    time = np.arange(n_timepoints) * step
    edges = (np.arange(n_timepoints + 1) - 0.5) * step
    limit = float(np.nanmax(np.abs(scores), initial=0.0)) or 1.0
    norm = TwoSlopeNorm(vcenter=0.0, vmin=-limit, vmax=limit)
    for axis, signal, score, name in zip(axes, values, scores, names, strict=True):
        low, high = np.nanmin(signal, initial=np.inf), np.nanmax(signal, initial=-np.inf)
        if not np.isfinite(low):
            low, high = 0.0, 1.0
        pad = 0.05 * (high - low) or 0.5
        image = axis.pcolormesh(
            edges,
            [low - pad, high + pad],
            np.ma.masked_invalid(score[None, :]),
            cmap="RdBu_r",
            norm=norm,
            shading="flat",
        )
        axis.plot(time, signal, color="black", linewidth=0.8)
        axis.set_ylabel(name)
    axes[-1].set_xlabel("time (s)" if fs else "time step")
    figure = axes[0].figure
    figure.colorbar(image, ax=list(axes), label="attribution")
    return axes


def time_scales(estimator: Any, fs: float | None = None) -> list[dict[str, np.ndarray]]:
    """The learned time scales of each layer's diagonal SSM.

    A diagonal ("diag", S4D) core holds, for each of its channels ``h``, a step size
    ``dt_h = exp(log_dt_h)`` and continuous eigenvalues
    ``lambda_hn = -max(exp(log_A_real_hn), 1e-4) + i A_imag_hn``. Mode ``n`` of channel ``h``
    forgets its input as ``exp(dt_h Re(lambda_hn) k)`` after ``k`` steps, so its decay time is
    ``1 / (dt_h |Re lambda_hn|)`` steps, and it oscillates with a period of
    ``2 pi / (dt_h |Im lambda_hn|)`` steps (``inf`` for a real mode).

    Parameters
    ----------
    estimator : LiquidS4Classifier or LiquidS4Regressor
        Fitted with ``ssm="diag"``.
    fs : float, default=None
        Sampling frequency in Hz: times in seconds (steps / ``fs``). None: in time steps.

    Returns
    -------
    scales : list of dict, one per layer
        ``"decay"`` and ``"period"``: float64 arrays of shape (n_core_channels, d_state // 2),
        one row per SSM channel (``n_estimators * d_model`` channels, twice that when
        bidirectional, the default, the backward direction second) and one column per
        complex mode; ``"dt"``: the step sizes, shape
        (n_core_channels,).

    Examples
    --------
    >>> import numpy as np
    >>> from sslearn import LiquidS4Regressor
    >>> from sslearn.plot import time_scales
    >>> rng = np.random.RandomState(0)
    >>> model = LiquidS4Regressor(d_model=4, n_layers=2, d_state=4, max_epochs=1)
    >>> scales = time_scales(model.fit(rng.randn(10, 1, 12), rng.randn(10)))
    >>> len(scales), scales[0]["decay"].shape
    (2, (8, 2))
    """
    from sslearn.nn.cores.diagonal import DiagonalSSM

    check_is_fitted(estimator)
    cores = [block.ssm.core for block in estimator.network_.blocks]
    if not all(isinstance(core, DiagonalSSM) for core in cores):
        raise NotImplementedError(
            f"time_scales reads the eigenvalues of diagonal cores (ssm='diag'); this "
            f"estimator was fitted with ssm={estimator._architecture['ssm']!r}, whose state "
            "matrix is not diagonal."
        )
    if fs is not None and not fs > 0:
        raise ValueError(f"fs must be a positive sampling frequency in Hz, got {fs!r}.")
    unit = 1.0 / fs if fs else 1.0
    scales = []
    with torch.no_grad():
        for core in cores:
            dt = torch.exp(core.log_dt.double())[:, None]
            rate = torch.exp(core.log_A_real.double()).clamp(min=1e-4)
            frequency = core.A_imag.double().abs()
            decay = 1.0 / (dt * rate)
            period = torch.where(frequency > 0, 2 * math.pi / (dt * frequency), math.inf)
            scales.append(
                {
                    "decay": decay.cpu().numpy() * unit,
                    "period": period.cpu().numpy() * unit,
                    "dt": dt[:, 0].cpu().numpy(),
                }
            )
    return scales


def plot_time_scales(estimator: Any, fs: float | None = None, ax: Any = None) -> Any:
    """Draw the distribution of each layer's learned SSM decay times.

    One histogram per layer of the decay times of :func:`time_scales` on a logarithmic axis,
    with the length of the training series marked: modes far to its right remember the
    whole series, modes far to its left only the last few steps.

    Parameters
    ----------
    estimator : LiquidS4Classifier or LiquidS4Regressor
        Fitted with ``ssm="diag"``.
    fs : float, default=None
        Sampling frequency in Hz: times in seconds. None: in time steps.
    ax : matplotlib Axes, default=None
        Axes to draw on; a new figure when None.

    Returns
    -------
    ax : matplotlib Axes

    Examples
    --------
    >>> import numpy as np
    >>> from sslearn import LiquidS4Regressor
    >>> from sslearn.plot import plot_time_scales
    >>> rng = np.random.RandomState(0)
    >>> model = LiquidS4Regressor(d_model=4, n_layers=2, d_state=4, max_epochs=1)
    >>> ax = plot_time_scales(model.fit(rng.randn(10, 1, 12), rng.randn(10)))
    >>> ax.get_xscale()
    'log'
    """
    import matplotlib.pyplot as plt

    scales = time_scales(estimator, fs)
    if ax is None:
        _, ax = plt.subplots(layout="constrained")
    decays = [layer["decay"].ravel() for layer in scales]
    low = min(float(d.min()) for d in decays)
    high = max(float(d.max()) for d in decays)
    bins = np.geomspace(low, high * (1 + 1e-9), 30) if high > low else np.array([low, low * 2])
    for index, decay in enumerate(decays):
        ax.hist(decay, bins=bins, histtype="step", linewidth=1.5, label=f"layer {index}")
    length = estimator.n_timepoints_ / fs if fs else estimator.n_timepoints_
    ax.axvline(length, color="gray", linestyle="--", label="series length")
    ax.set_xscale("log")
    ax.set_xlabel("decay time 1 / (dt |Re λ|) " + ("(s)" if fs else "(steps)"))
    ax.set_ylabel("SSM modes")
    ax.legend()
    return ax


def plot_history(estimator: Any, ax: Any = None) -> Any:
    """Plot the training loss (and validation loss and score) per epoch.

    The same as the estimator's own ``plot_history`` method.

    Parameters
    ----------
    estimator : LiquidS4Classifier or LiquidS4Regressor
        A fitted estimator.
    ax : matplotlib Axes, default=None
        Axes to draw on; a new figure when None.

    Returns
    -------
    ax : matplotlib Axes
        The axes of the losses, which hold the legend.
    """
    return estimator.plot_history(ax=ax)


def _channel_names(names: list[str] | None, n_channels: int) -> list[str]:
    if names is None:
        return [f"channel {c}" for c in range(n_channels)]
    names = [str(name) for name in names]
    if len(names) != n_channels:
        raise ValueError(f"channel_names must have {n_channels} names, got {len(names)}.")
    return names
