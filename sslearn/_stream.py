"""Streams: a fitted estimator's predictions updated one step (or a few) at a time.

``estimator.stream()`` opens one. Each :meth:`~Stream.update` feeds new time steps through
the network's recurrent form (:meth:`~sslearn.nn.LiquidS4Network.step`, with the running
pooled statistics in its state), and the prediction methods give what the estimator's own
methods give on the series seen so far. The new steps go through the estimator's own input
path (``_check_missing`` and ``_series_set``: validation of missing values, ``scaler_``,
missingness channels) and the network's outputs through its own output path (combining
ensemble members, softmax and temperature, target units), so a stream and ``predict`` share
every step but the network's form.

The network is a copy whose SSM cores are frozen into real constants
(:func:`~sslearn.nn.cores.frozen.frozen_network`): the same function, without a
discretisation per step. It runs in float64 on the CPU, as ``predict`` does, and in float32
on a GPU. A model fitted with ``times`` discretises each step with its own time gap, so its
stream runs a plain copy of the fitted network instead, and each update needs the new steps'
time stamps.
"""

from __future__ import annotations

import copy
from numbers import Integral
from typing import Any

import numpy as np
import torch
from sklearn.base import is_classifier
from sklearn.utils.validation import check_array

from sslearn.data import Panel
from sslearn.data._times import as_seconds, time_gaps
from sslearn.nn.cores.frozen import frozen_network


def open_stream(estimator: Any, n_series: int | None = None) -> Stream:
    """The stream of a fitted estimator (see its ``stream`` method)."""
    kind = ClassifierStream if is_classifier(estimator) else RegressorStream
    return kind(estimator, n_series)


def _snapshot(estimator: Any) -> Any:
    """A shallow copy of the fitted estimator: a later fit rebinds the estimator's fitted
    attributes (``scaler_``, ``classes_``, ...), not the copy's, so an open stream keeps
    the ones its network was frozen with."""
    copy = type(estimator).__new__(type(estimator))
    copy.__dict__.update(vars(estimator))
    return copy


class Stream:
    """Online predictions of a fitted estimator for a batch of series (base class).

    Open one with ``estimator.stream()``; see :class:`ClassifierStream` and
    :class:`RegressorStream` for the prediction methods.

    Parameters
    ----------
    estimator : LiquidS4Classifier or LiquidS4Regressor
        Fitted, with ``bidirectional=False``.
    n_series : int, default=None
        Number of series streamed side by side; None: the first :meth:`update` sets it.
    """

    def __init__(self, estimator: Any, n_series: int | None = None) -> None:
        name = type(estimator).__name__
        if n_series is not None and (
            not isinstance(n_series, Integral) or isinstance(n_series, bool) or n_series < 1
        ):
            raise ValueError(f"n_series must be None or a positive integer, got {n_series!r}.")
        if estimator.network_.config.get("bidirectional"):
            raise ValueError(
                f"This {name} was fitted with bidirectional=True: its layers also read each "
                "series backwards from its end, so a prediction needs the whole series and "
                "cannot be updated step by step. Fit it with bidirectional=False to stream."
            )
        self._estimator = _snapshot(estimator)
        self._device = estimator._inference_device()
        self._dtype = estimator._inference_dtype(self._device)
        self._times = estimator._uses_times()
        if self._times:  # the discretisation changes with every step's gap: nothing to freeze
            network = copy.deepcopy(estimator.network_).eval()
            self._network = network.to(device=self._device, dtype=self._dtype)
        else:
            self._network = frozen_network(
                estimator.network_, dtype=self._dtype, device=self._device
            )
        self._n_series_given = None if n_series is None else int(n_series)
        self.reset()

    @property
    def n_series(self) -> int | None:
        """Number of series in the stream (None until the first :meth:`update` sets it)."""
        return self._n_series

    @property
    def n_steps(self) -> int:
        """Time steps fed so far."""
        return self._n_steps

    def reset(self) -> Stream:
        """Forget every step fed so far (and the number of series, unless it was given).

        Returns
        -------
        self : Stream
        """
        self._n_series = self._n_series_given
        self._n_steps = 0
        self._state = None
        self._outputs = None
        self._last_time = None  # (n_series,) float64 stamps of the last step, times only
        self._origin = None  # the datetime64 read as 0 s, for datetime stamps
        return self

    def update(self, X_new: Any, times: Any = None) -> Stream:
        """Append new time steps to every series of the stream.

        Each step goes through the estimator's input path: the channel scaling learned in
        fit and, for a model fitted on series with missing values, the missingness
        channels. A NaN is a missing value (``missing_at_predict`` applies as in
        ``predict``); a step is never padding, as a stream has no end. A step whose every
        channel is NaN is thus a step of missing values, where ``predict`` would read
        trailing ones as padding.

        Parameters
        ----------
        X_new : array-like of shape (n_series, n_channels, n_steps) or (n_series, n_steps)
            ``n_steps >= 1`` new steps of each series, in the units of the training data;
            the 2-D form for univariate models.
        times : array-like of shape (n_series, n_steps) or (n_steps,), default=None
            Time stamps of the new steps, required if and only if the estimator was fitted
            with ``times``: numbers, or datetime64 values (read as seconds), strictly
            increasing within a series and after its last stamp so far; a 1-D array is
            shared by every series. The first step of the stream gets gap 1, as the first
            step of a series does in ``predict``.

        Returns
        -------
        self : Stream
        """
        values = self._validate(X_new)
        estimator = self._estimator
        stamps = self._check_times(times, values.shape[0], values.shape[-1])
        missing = np.isnan(values)
        lengths = np.full(len(values), values.shape[-1])
        panel = Panel(np.where(missing, 0.0, values), lengths, missing)  # no padding
        estimator._check_missing(panel)
        gaps = None if stamps is None else self._gaps(stamps)
        inputs = estimator._series_set(panel, gaps=gaps).values.to(self._device, self._dtype)
        with torch.no_grad():
            if self._state is None:
                self._state = self._network.initial_state(len(values))
            for t in range(inputs.shape[-1]):
                self._outputs, self._state = self._network.step(inputs[:, :, t], self._state)
        self._n_series = len(values)
        self._n_steps += inputs.shape[-1]
        if stamps is not None:
            self._last_time = stamps[:, -1]
        return self

    def _check_times(self, times: Any, n_series: int, n_steps: int) -> np.ndarray | None:
        """``times`` as float64 (n_series, n_steps), finite and strictly increasing after
        the last stamp so far; None for a model fitted without times."""
        name = type(self._estimator).__name__
        if not self._times:
            if times is not None:
                raise ValueError(
                    f"times were given, but this {name} was fitted without them: its network "
                    "reads every step as one sampling interval. Pass times=None."
                )
            return None
        if times is None:
            raise ValueError(
                f"This {name} was fitted with times, so its stream needs the time stamps of "
                "the new steps: update(X_new, times=...), of shape (n_series, n_steps)."
            )
        array = np.asarray(times)
        if array.dtype.kind == "M" and self._origin is None:
            stamped = array[~np.isnat(array)]
            self._origin = stamped.min() if stamped.size else None
        stamps = as_seconds(array, self._origin if array.dtype.kind == "M" else None)
        if stamps.ndim == 1:
            stamps = np.broadcast_to(stamps, (n_series, stamps.shape[0]))
        if stamps.shape != (n_series, n_steps):
            raise ValueError(
                f"times has shape {array.shape}, but X_new has {n_series} series of {n_steps} "
                f"new step(s): pass times of shape ({n_series}, {n_steps}) (or ({n_steps},) "
                "shared by every series)."
            )
        if not np.isfinite(stamps).all():
            raise ValueError("times must be finite: every new step needs a time stamp.")
        previous = stamps if self._last_time is None else np.c_[self._last_time, stamps]
        if not (np.diff(previous, axis=1) > 0).all():
            raise ValueError(
                "times must increase strictly within each series and after the last stamp "
                "fed to the stream."
            )
        return np.array(stamps, dtype=np.float64)

    def _gaps(self, stamps: np.ndarray) -> np.ndarray:
        """Gaps in model steps before each new step: from the last stamp fed, 1 first."""
        unit = self._estimator.time_unit_
        if self._last_time is None:
            return time_gaps(stamps, unit)
        return time_gaps(np.c_[self._last_time, stamps], unit)[:, 1:]

    def _validate(self, X_new: Any) -> np.ndarray:
        """``X_new`` as a float array (n_series, n_channels, n_steps); shape errors named."""
        estimator = self._estimator
        values = check_array(
            X_new,
            ensure_2d=False,
            allow_nd=True,
            dtype=[np.float64, np.float32],
            ensure_all_finite="allow-nan",
            input_name="X_new",
            estimator=estimator,
        )
        channels = estimator.n_channels_
        expected = f"(n_series, {channels}, n_steps)" + (
            " or (n_series, n_steps)" if channels == 1 else ""
        )
        if values.ndim == 2 and channels == 1:
            values = values[:, None, :]
        if values.ndim != 3 or values.shape[1] != channels:
            raise ValueError(
                f"X_new has shape {values.shape}, but this stream of a "
                f"{type(estimator).__name__} fitted on {channels} channel(s) expects {expected}."
            )
        if values.shape[-1] < 1:
            raise ValueError(f"X_new has no time step (shape {values.shape}); give at least 1.")
        if self._n_series is not None and len(values) != self._n_series:
            raise ValueError(
                f"X_new has {len(values)} series, but this stream follows {self._n_series}; "
                "every update continues the same series (reset() or open a new stream "
                "for others)."
            )
        return values

    def _network_outputs(self) -> np.ndarray:
        """The network's float64 outputs after the last step, members combined as
        ``predict`` combines them: (n_series, n_outputs)."""
        if self._outputs is None:
            raise ValueError("This stream has seen no time step yet; call update(X_new) first.")
        outputs = self._outputs
        if outputs.ndim == 3:  # an ensemble: (n_series, n_estimators, n_outputs)
            outputs = self._estimator._combine_members(outputs)
        return outputs.cpu().numpy().astype(np.float64)


class ClassifierStream(Stream):
    """Online predictions of a fitted :class:`~sslearn.LiquidS4Classifier`.

    After each :meth:`update`, :meth:`predict`, :meth:`predict_proba` and
    :meth:`decision_function` equal the classifier's methods on the steps seen so far.
    """

    def predict(self) -> np.ndarray:
        """Most probable class of each series so far.

        Returns
        -------
        y : ndarray of shape (n_series,)
        """
        return self._estimator._labels_from_logits(self._network_outputs())

    def predict_proba(self) -> np.ndarray:
        """Class probabilities of each series so far.

        Returns
        -------
        proba : ndarray of shape (n_series, n_classes)
            Columns follow ``classes_``.
        """
        return self._estimator._proba_from_logits(self._network_outputs())

    def decision_function(self) -> np.ndarray:
        """Class scores (logits) of each series so far.

        Returns
        -------
        scores : ndarray of shape (n_series, n_classes), or (n_series,) for two classes
        """
        return self._estimator._decision_from_logits(self._network_outputs())


class RegressorStream(Stream):
    """Online predictions of a fitted :class:`~sslearn.LiquidS4Regressor`.

    After each :meth:`update`, :meth:`predict` equals the regressor's ``predict`` on the
    steps seen so far.
    """

    def predict(self) -> np.ndarray:
        """Predicted targets of each series so far, in the units of ``y``.

        Returns
        -------
        y : ndarray of shape (n_series,) or (n_series, n_outputs)
            The shape of ``y`` in fit.
        """
        estimator = self._estimator
        return estimator._shaped(estimator._in_target_units(self._network_outputs()))
