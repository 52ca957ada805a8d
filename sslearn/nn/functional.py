"""Stateless tensor operations shared by the layers: lagged input products, per-series
reversal and length masks. Shapes use B (batch), H (channels), L (time).
"""

from __future__ import annotations

import torch


def shift_right(x: torch.Tensor, steps: int) -> torch.Tensor:
    """``out[..., t] = x[..., t - steps]`` with zeros for ``t < steps``."""
    if steps == 0:
        return x
    # pad then cut (not cut then pad): a shift by more than the length must keep the length
    return torch.nn.functional.pad(x, (steps, 0))[..., : x.shape[-1]]


def lagged_products(u: torch.Tensor, v: torch.Tensor, degree: int) -> torch.Tensor:
    """Input product of a run of ``degree`` consecutive steps ending at ``t``.

    ``out[t] = u[t - q + 1] * prod_{j=0}^{q-2} v[t - j]`` (zero where ``t - q + 1 < 0``):
    the first input of the run enters through ``Bbar u``, each later one through the liquid
    transition term ``diag(Bbar) v``.
    """
    out = shift_right(u, degree - 1)
    for lag in range(degree - 1):
        out = out * shift_right(v, lag)
    return out


def length_mask(lengths: torch.Tensor, length: int) -> torch.Tensor:
    """Boolean ``(B, L)`` mask, True at positions ``t < lengths[b]``."""
    return torch.arange(length, device=lengths.device)[None, :] < lengths[:, None]


def reverse_within_lengths(x: torch.Tensor, lengths: torch.Tensor | None) -> torch.Tensor:
    """Reverse ``x`` of shape (B, H, L) along time, each series within its own length.

    Padding positions (``t >= lengths[b]``) stay where they are, so the reversed series
    still starts at ``t = 0`` and a causal operator applied to it runs backwards in time
    from each series' true end.
    """
    if lengths is None:
        return x.flip(-1)
    length = x.shape[-1]
    t = torch.arange(length, device=x.device)[None, :]
    index = torch.where(t < lengths[:, None], lengths[:, None] - 1 - t, t)  # (B, L)
    return torch.gather(x, -1, index[:, None, :].expand_as(x))
