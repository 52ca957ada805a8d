"""Training-time augmentation of batches of time series, on the device, inside the step.

Series transforms (each series draws its own randomness):

- jitter: additive Gaussian noise, and magnitude scaling: a random gain per (series,
  channel), both from Um et al. (2017), "Data augmentation of wearable sensor data for
  Parkinson's disease monitoring using convolutional neural networks";
- window crop ("window slicing", Le Guennec et al. 2016, "Data augmentation for time series
  classification using convolutional neural networks"): a random window of the series,
  stretched back to its length;
- time warp (Um et al. 2017): a smooth random monotone warp of the time axis.

Crop and warp share one resampling: a grid of fractional source positions ``(B, L)`` per
series (warp first, then the crop window, composed into one grid) and one linear
interpolation, so a batch is interpolated once however many of them are on.

Mixup (Zhang et al. 2018, "mixup: Beyond empirical risk minimization") mixes pairs of series
and their losses: :func:`mixup_pairs` draws the pairs and weights, :func:`mix` mixes the
inputs, and the caller mixes the losses, ``lam * loss(out, t) + (1 - lam) * loss(out, t[perm])``.

Everything is length-aware (crop and warp read only the steps ``[0, length)`` of each series,
and padding steps come out zero) and can be captured in a CUDA graph: static shapes, no host
synchronisation, and randomness drawn only from torch's default generator of ``x.device``, so
CPU runs are reproducible under :func:`torch.manual_seed` and graph replays draw afresh.

Irregularly sampled series (``Augmentation(gaps=True)``) carry the gap before each step as
their last channel. Jitter, scaling and mixup leave it alone; a crop resamples the time
stamps with the values, so that the window keeps its true durations; time warping, which
would contradict the stamps, is skipped.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
from dataclasses import dataclass
from typing import Any

import torch

#: Knots of the time warp's speed curve (Um et al. 2017 use 4).
WARP_KNOTS = 4


@dataclass(frozen=True)
class Augmentation:
    """Strengths of the training-time transforms; each 0 (``crop``: 1) turns one off.

    Parameters
    ----------
    jitter : float, default=0.0
        Standard deviation of the Gaussian noise added at every valid step (the data are
        standardised upstream, so this is relative to the series' scale).
    scale : float, default=0.0
        Each (series, channel) is multiplied by ``exp(N(0, scale))``: a log-normal gain,
        always positive and as likely to halve as to double. Um et al. (2017) draw the gain
        from ``N(1, scale)``, which agrees to first order for small ``scale``.
    crop : float, default=1.0
        Smallest window fraction: each series keeps a window of a fraction ``r ~ U[crop, 1]``
        of its valid length, at a uniform random start, stretched back to that length.
        ``1.0`` turns cropping off; ``0 < crop <= 1``.
    warp : float, default=0.0
        Standard deviation of the log speed of the time warp at each of :data:`WARP_KNOTS`
        knots spread over the series' valid length; speeds are interpolated linearly between
        knots, summed into a monotone warp and normalised to span ``[0, length - 1]``.
        (Um et al. draw speeds from ``N(1, warp)`` through a cubic spline; log-normal speeds
        keep the warp monotone.)
    mixup : float, default=0.0
        Concentration ``alpha`` of mixup's ``Beta(alpha, alpha)`` weights (Zhang et al. 2018
        use 0.1 to 0.4); not applied by :meth:`apply`, see :func:`mixup_pairs` and :func:`mix`.
    gaps : bool, default=False
        Whether the last channel holds the gap before each step of irregularly sampled
        series (set by the estimators fitted with ``times``). Jitter, scaling and mixup
        then transform the other channels only. A crop also resamples the time stamps
        (the running sum of the gaps) at the window's positions and turns them back into
        gaps, the first one 1: each output step keeps the true time since the previous
        one, so a window of a fraction ``r`` stretched back to its length is the window
        observed ``1 / r`` times as densely, not a slower series. Time warping is skipped,
        as it would contradict the stamps. Gaps after a series' end are left as they are.

    Examples
    --------
    >>> import torch
    >>> aug = Augmentation(jitter=0.05, crop=0.8)
    >>> x = torch.randn(4, 2, 16)
    >>> aug.apply(x, torch.tensor([16, 10, 5, 1])).shape
    torch.Size([4, 2, 16])
    """

    jitter: float = 0.0
    scale: float = 0.0
    crop: float = 1.0
    warp: float = 0.0
    mixup: float = 0.0
    gaps: bool = False

    def __post_init__(self) -> None:
        if not isinstance(self.gaps, bool):
            raise ValueError(f"augment 'gaps' must be a bool, got {self.gaps!r}")
        for field in dataclasses.fields(self):
            if field.name == "gaps":
                continue
            value = getattr(self, field.name)
            if isinstance(value, bool) or not isinstance(value, numbers.Real):
                raise ValueError(f"augment {field.name!r} must be a real number, got {value!r}")
            if not math.isfinite(value):
                raise ValueError(f"augment {field.name!r} must be finite, got {value!r}")
        for name in ("jitter", "scale", "warp", "mixup"):
            if getattr(self, name) < 0:
                raise ValueError(f"augment {name!r} must be >= 0, got {getattr(self, name)!r}")
        if not 0 < self.crop <= 1:
            raise ValueError(f"augment 'crop' must be in (0, 1], got {self.crop!r}")

    @property
    def enabled(self) -> bool:
        """Whether any transform, mixup included, is on."""
        return self.resamples or self.jitter > 0 or self.scale > 0 or self.mixup > 0

    @property
    def resamples(self) -> bool:
        """Whether the time axis is resampled (crop, or warp without ``gaps``, on)."""
        return self.crop < 1 or (self.warp > 0 and not self.gaps)

    def apply(self, x: torch.Tensor, lengths: torch.Tensor | None) -> torch.Tensor:
        """Crop and warp, then scale, then jitter a batch (mixup is the caller's).

        Parameters
        ----------
        x : torch.Tensor of shape (batch, n_channels, n_timepoints)
            Floating series, zero at padding steps; with ``gaps``, the last channel holds
            the gap before each step (see the class).
        lengths : torch.Tensor of shape (batch,) or None
            Valid steps of each series (int64); None when every series spans the window.

        Returns
        -------
        torch.Tensor of shape (batch, n_channels, n_timepoints)
            The augmented batch, same dtype, zero at padding steps (the gap channel: as
            given there).
        """
        if self.gaps:
            values, gaps = x[:, :-1], x[:, -1:]  # (B, C - 1, L), (B, 1, L)
            if self.crop < 1:
                grid = augment_grid(lengths, x.shape[0], x.shape[-1], self.crop, 0.0, x.device)
                values, gaps = resample(values, grid, lengths), resample_gaps(gaps, grid, lengths)
                if lengths is not None:  # padding back to zero
                    values = values * valid_mask(lengths, x.shape[-1]).to(x.dtype)[:, None, :]
            plain = dataclasses.replace(self, crop=1.0, warp=0.0, gaps=False)
            return torch.cat([plain.apply(values, lengths), gaps], dim=1)
        B, C, L = x.shape
        mask = None if lengths is None else valid_mask(lengths, L).to(x.dtype)[:, None, :]
        if self.resamples:
            x = resample(x, augment_grid(lengths, B, L, self.crop, self.warp, x.device), lengths)
        if self.scale > 0:
            x = x * torch.exp(self.scale * torch.randn(B, C, 1, device=x.device, dtype=x.dtype))
        if self.jitter > 0:
            x = x + self.jitter * torch.randn_like(x)
        if mask is not None and (self.resamples or self.jitter > 0):
            x = x * mask  # (B, C, L): padding back to zero
        return x


#: Named settings of the estimators' ``augment`` parameter.
PRESETS: dict[str, Augmentation] = {
    "light": Augmentation(jitter=0.01, scale=0.05, crop=0.95, warp=0.05),
    "auto": Augmentation(jitter=0.03, scale=0.1, crop=0.9, warp=0.1),
    "strong": Augmentation(jitter=0.05, scale=0.2, crop=0.8, warp=0.2, mixup=0.2),
}


def resolve_augment(augment: Any, gaps: bool = False) -> Augmentation | None:
    """Turn the estimators' ``augment`` parameter into an :class:`Augmentation`.

    Parameters
    ----------
    augment : None, bool, str, dict or Augmentation
        None, False or ``"none"``: no augmentation. True is ``"auto"``. A name of
        :data:`PRESETS`. A dict of :class:`Augmentation` fields (the others stay off).
    gaps : bool, default=False
        Whether the batches' last channel holds time gaps (:attr:`Augmentation.gaps`).

    Returns
    -------
    Augmentation or None
        None when no transform is on.

    Raises
    ------
    ValueError
        For an unknown name or key, or a strength out of range.
    """
    if augment is None or augment is False or (isinstance(augment, str) and augment == "none"):
        return None
    if augment is True:
        augment = "auto"
    if isinstance(augment, str):
        if augment not in PRESETS:
            names = ", ".join(repr(n) for n in ("none", *PRESETS))
            raise ValueError(f"augment={augment!r} is not one of {names}")
        result = PRESETS[augment]
    elif isinstance(augment, dict):
        fields = [f.name for f in dataclasses.fields(Augmentation) if f.name != "gaps"]
        unknown = [key for key in augment if key not in fields]
        if unknown:
            raise ValueError(f"unknown augment key(s) {unknown}; accepted: {fields}")
        result = Augmentation(**augment)
    elif isinstance(augment, Augmentation):
        result = augment
    else:
        raise ValueError(
            f"augment must be None, a bool, one of {['none', *PRESETS]}, a dict of "
            f"Augmentation fields or an Augmentation; got {augment!r}"
        )
    if gaps:
        result = dataclasses.replace(result, gaps=True)
    return result if result.enabled else None


def valid_mask(lengths: torch.Tensor, n_timepoints: int) -> torch.Tensor:
    """Boolean ``(B, L)`` mask of the valid steps ``t < lengths[b]``."""
    return torch.arange(n_timepoints, device=lengths.device) < lengths[:, None]


def augment_grid(
    lengths: torch.Tensor | None,
    batch: int,
    n_timepoints: int,
    crop: float,
    warp: float,
    device: torch.device,
) -> torch.Tensor:
    """Random source positions of a time warp followed by a window crop.

    Output step ``t`` of series ``b`` reads position ``grid[b, t]`` of the input, with
    ``0 <= grid[b, t] <= lengths[b] - 1``. With ``crop=1`` and ``warp=0`` the grid is
    ``t`` exactly at valid steps.

    Parameters
    ----------
    lengths : torch.Tensor of shape (batch,) or None
        Valid steps of each series; None when all span ``n_timepoints``.
    batch, n_timepoints : int
    crop : float
        Smallest window fraction, ``0 < crop <= 1``.
    warp : float
        Standard deviation of the log speeds at the warp's knots.
    device : torch.device

    Returns
    -------
    torch.Tensor of shape (batch, n_timepoints), float32
    """
    steps = torch.arange(n_timepoints, device=device, dtype=torch.float32)  # (L,)
    if lengths is None:
        last = torch.full((batch, 1), n_timepoints - 1.0, device=device)  # (B, 1)
    else:
        last = (lengths.to(torch.float32) - 1).clamp(min=0.0)[:, None]  # (B, 1)
    span = last.clamp(min=1.0)  # (B, 1): a series of one step divides by 1, not 0
    grid = steps.expand(batch, n_timepoints)  # (B, L)
    if warp > 0:
        # speeds at K knots spread over each series' valid length, linear in between
        speeds = torch.exp(warp * torch.randn(batch, WARP_KNOTS, device=device))  # (B, K)
        u = (grid / span).clamp(max=1.0) * (WARP_KNOTS - 1)  # (B, L): knot coordinate
        lo = u.floor().clamp(max=WARP_KNOTS - 2)
        index = lo.long()
        speed = torch.lerp(speeds.gather(1, index), speeds.gather(1, index + 1), u - lo)
        position = speed.cumsum(1) - speed[:, :1]  # (B, L): monotone, 0 at t = 0
        end = position.gather(1, last.long()).clamp(min=torch.finfo(torch.float32).tiny)
        grid = position * last / end  # (B, L): spans [0, length - 1]
    if crop < 1:
        draws = torch.rand(batch, 2, device=device)  # (B, 2): window fraction, start
        width = (crop + (1 - crop) * draws[:, :1]) * last  # (B, 1)
        start = draws[:, 1:] * (last - width)  # (B, 1)
        grid = start + grid * width / span
    return torch.minimum(grid, last).clamp(min=0.0)


def resample(x: torch.Tensor, grid: torch.Tensor, lengths: torch.Tensor | None) -> torch.Tensor:
    """Linear interpolation of each series at fractional positions.

    Parameters
    ----------
    x : torch.Tensor of shape (batch, n_channels, n_timepoints)
    grid : torch.Tensor of shape (batch, n_timepoints)
        Source positions in ``[0, lengths[b] - 1]``.
    lengths : torch.Tensor of shape (batch,) or None
        Valid steps; the upper neighbour is clamped to ``lengths[b] - 1``, so padding is
        never read.

    Returns
    -------
    torch.Tensor of shape (batch, n_channels, n_timepoints)
        ``out[b, c, t] = x[b, c, grid[b, t]]`` interpolated, same dtype as ``x``; padding
        steps are not zeroed here.
    """
    B, C, L = x.shape
    lo = grid.floor()  # (B, L)
    frac = (grid - lo).to(x.dtype)[:, None, :]  # (B, 1, L)
    lo = lo.long()
    if lengths is None:
        hi = (lo + 1).clamp(max=L - 1)  # (B, L)
    else:
        hi = torch.minimum(lo + 1, (lengths - 1).clamp(min=0)[:, None])
    x_lo = x.gather(2, lo[:, None, :].expand(B, C, L))  # (B, C, L)
    x_hi = x.gather(2, hi[:, None, :].expand(B, C, L))
    return torch.lerp(x_lo, x_hi, frac)


def resample_gaps(
    gaps: torch.Tensor, grid: torch.Tensor, lengths: torch.Tensor | None
) -> torch.Tensor:
    """The gaps between steps of series resampled at fractional positions.

    The time stamps (the running sum of the gaps, 0 at the first step) are interpolated at
    ``grid`` like the values (:func:`resample`) and turned back into gaps, in float64.

    Parameters
    ----------
    gaps : torch.Tensor of shape (batch, 1, n_timepoints)
        The gap before each step; the first is ignored.
    grid : torch.Tensor of shape (batch, n_timepoints)
        Source positions in ``[0, lengths[b] - 1]``.
    lengths : torch.Tensor of shape (batch,) or None
        Valid steps.

    Returns
    -------
    torch.Tensor of shape (batch, 1, n_timepoints)
        Same dtype as ``gaps``: the time between consecutive resampled positions, 1 at the
        first step, the given gaps after a series' end.
    """
    wide = gaps.double()
    stamps = wide.cumsum(-1) - wide[..., :1]  # (B, 1, L): time since the first step
    resampled = resample(stamps, grid, lengths)
    out = torch.diff(resampled, dim=-1, prepend=resampled[..., :1] - 1.0)  # (B, 1, L)
    if lengths is not None:
        out = torch.where(valid_mask(lengths, gaps.shape[-1])[:, None, :], out, wide)
    return out.to(gaps.dtype)


def mixup_pairs(
    batch_size: int, alpha: float, device: torch.device | str
) -> tuple[torch.Tensor, torch.Tensor]:
    """Partners and weights of mixup (Zhang et al. 2018).

    The permutation is ``argsort`` of uniform draws (a permutation whatever the ties) and the
    weights are ``Beta(alpha, alpha)`` draws made as a ratio of two ``torch._standard_gamma``
    draws (which ``torch.distributions.Gamma`` uses; its constructor copies scalars from the
    host, which a CUDA graph cannot capture). Weights are folded to ``max(lam, 1 - lam)``:
    the mixture's law is unchanged (the pair ``(i, j)`` with ``lam`` is ``(j, i)`` with
    ``1 - lam``), and each row's own series, whose length the row keeps, weighs most.

    Parameters
    ----------
    batch_size : int
    alpha : float
        Beta concentration, > 0.
    device : torch.device or str

    Returns
    -------
    perm : torch.Tensor of shape (batch_size,), int64
        Row ``i`` is mixed with row ``perm[i]``.
    lam : torch.Tensor of shape (batch_size,), float32
        Weight of row ``i``'s own series, in ``[0.5, 1]``.
    """
    perm = torch.rand(batch_size, device=device).argsort()
    concentration = torch.full((2, batch_size), float(alpha), device=device)
    tiny = torch.finfo(torch.float32).tiny
    gammas = torch._standard_gamma(concentration).clamp(min=tiny)  # (2, B)
    lam = gammas[0] / (gammas[0] + gammas[1])
    return perm, torch.maximum(lam, 1 - lam)


def mix(
    x: torch.Tensor,
    lengths: torch.Tensor | None,
    perm: torch.Tensor,
    lam: torch.Tensor,
    *,
    gaps: bool = False,
) -> torch.Tensor:
    """Mix each series with its partner: ``lam * x + (1 - lam) * x[perm]``.

    Row ``i`` keeps its own length: its partner's steps beyond it are dropped (set to zero)
    and, where the partner is shorter, its zero padding is mixed in. With ``gaps``, row
    ``i`` also keeps its own time gaps (the last channel), and the partner's values are
    mixed in step by step.

    Parameters
    ----------
    x : torch.Tensor of shape (batch, n_channels, n_timepoints) or \
(batch, n_members, n_channels, n_timepoints)
    lengths : torch.Tensor of shape (batch,) or None
    perm, lam : torch.Tensor of shape (batch,)
        From :func:`mixup_pairs`.
    gaps : bool, default=False
        Whether the last channel holds time gaps, which are kept as they are.

    Returns
    -------
    torch.Tensor of the shape of ``x``
    """
    values = x[..., :-1, :] if gaps else x
    ones = (1,) * (x.ndim - 1)
    weight = lam.to(x.dtype).view(-1, *ones)  # (B, 1, 1) or (B, 1, 1, 1)
    mixed = torch.lerp(values.index_select(0, perm), values, weight)
    if lengths is not None:
        mask = valid_mask(lengths, x.shape[-1]).to(x.dtype)  # (B, L)
        mixed = mixed * mask.view(-1, *ones[:-1], x.shape[-1])
    return torch.cat([mixed, x[..., -1:, :]], dim=-2) if gaps else mixed
