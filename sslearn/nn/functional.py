"""Stateless tensor operations shared by the layers: the liquid input products (their one
home: every core, kernel and layer takes them from here), per-series reversal and length
masks. Shapes use B (batch), H (channels), L (time).
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


def lagged_product(u: torch.Tensor) -> torch.Tensor:
    """The liquid input product of degree 2, ``u[t-1] tanh(u[t])`` (0 at ``t = 0``)."""
    return lagged_products(u, torch.tanh(u), 2)


def product_term(u: torch.Tensor, gain: torch.Tensor) -> torch.Tensor:
    """The liquid PB term of degree 2: ``gain[h] u[t-1] tanh(u[t])`` for u of shape (B, H, L).

    The fast paths fuse it into their convolutions (``causal_fft_conv``'s ``product_gain``,
    the chunked Triton kernel); this is their twin.
    """
    return gain[:, None] * lagged_product(u)


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


def reverse_gaps(gaps: torch.Tensor, lengths: torch.Tensor | None) -> torch.Tensor:
    """The gaps (B, L) of each series reversed within its length (see
    :func:`reverse_within_lengths`).

    ``gaps[k]`` is the time from step ``k - 1`` to step ``k``, so in a series of length ``n``
    run backwards, step ``j >= 1`` (the original step ``n - 1 - j``) comes ``gaps[n - j]``
    after step ``j - 1``; step 0 gets the gap 1, and so do the padding positions (at and
    after ``n``).
    """
    backward = reverse_within_lengths(gaps[:, None], lengths)[:, 0]  # [j] = gaps[n - 1 - j]
    ones = torch.ones_like(backward[:, :1])
    shifted = torch.cat([ones, backward[:, :-1]], dim=-1)
    if lengths is None:
        return shifted
    return torch.where(length_mask(lengths, gaps.shape[-1]), shifted, ones)
