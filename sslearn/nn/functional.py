"""Stateless tensor operations shared by the layers: the liquid input products (their one
home: every core, kernel and layer takes them from here), per-series reversal and length
masks, and the HiPPO transition matrices the cores start from. Shapes use B (batch),
H (channels), L (time).
"""

from __future__ import annotations

import math

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


# -- HiPPO transition matrices and their normal-plus-low-rank (NPLR) form ------------------
#
# All matrices follow the convention ``x'(t) = A x(t) + B u(t)`` with state index
# ``n, k = 0 .. N-1`` and are built in float64 (the caller casts). Nothing here is
# trainable: these functions only produce initial values.

MEASURES = ("legs", "legt", "lagt")


def transition(measure: str, d_state: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Dense HiPPO matrices ``(A, B)`` of shape ``(N, N)`` and ``(N,)`` (float64).

    Parameters
    ----------
    measure : {"legs", "legt", "lagt"}
        ``legs``: scaled Legendre (A_nk = -sqrt(2n+1) sqrt(2k+1) below the diagonal,
        -(n+1) on it); ``legt``: translated Legendre (halved, as in the LSSL code);
        ``lagt``: translated Laguerre.
    d_state : int
        State size N.
    """
    n = torch.arange(d_state, dtype=torch.float64)
    row, col = n[:, None], n[None, :]
    root = torch.sqrt(2 * n + 1)
    if measure == "legs":
        A = -torch.where(row > col, root[:, None] * root[None, :], torch.zeros(()))
        A = A - torch.diag(n + 1)
        B = root.clone()
    elif measure == "legt":
        sign = torch.where(row >= col, torch.ones(()), (-1.0) ** (row - col))
        A = -0.5 * root[:, None] * root[None, :] * sign
        B = 0.5 * root
    elif measure == "lagt":
        A = -torch.where(row > col, torch.ones(()), torch.zeros(()))
        A = A - 0.5 * torch.eye(d_state, dtype=torch.float64)
        B = torch.ones(d_state, dtype=torch.float64)
    else:
        raise ValueError(f"unknown HiPPO measure {measure!r}; use one of {MEASURES}")
    return A, B


def legs_low_rank(d_state: int) -> torch.Tensor:
    """Rank-1 correction ``P`` (float64, shape ``(N,)``) with ``A + P P^T = -I/2 + skew``."""
    return torch.sqrt(torch.arange(d_state, dtype=torch.float64) + 0.5)


def nplr_legs(d_state: int) -> dict[str, torch.Tensor]:
    """Normal-plus-low-rank form of HiPPO-LegS, keeping one mode of each conjugate pair.

    ``A = V (diag(Lambda) - P~ P~^*) V^*`` over the full (conjugate-doubled) basis, with
    ``B~ = V^* B`` and ``P~ = V^* P``. Returned tensors are complex128 of shape ``(N/2,)``
    (``V``: ``(N, N/2)``), for the modes with ``Im Lambda > 0``, sorted by frequency.

    Returns
    -------
    dict with keys ``Lambda``, ``P``, ``B``, ``V``.
    """
    if d_state % 2:
        raise ValueError(f"d_state must be even for the NPLR form, got {d_state}")
    A, B = transition("legs", d_state)
    P = legs_low_rank(d_state)
    normal = A + P[:, None] * P[None, :]  # -I/2 + skew
    skew = normal + 0.5 * torch.eye(d_state, dtype=torch.float64)
    omega, V = torch.linalg.eigh(-1j * skew.to(torch.complex128))  # skew = V diag(i omega) V^*
    keep = omega > 0
    omega, V = omega[keep], V[:, keep]
    order = torch.argsort(omega)
    omega, V = omega[order], V[:, order]
    Lambda = -0.5 + 1j * omega
    Vh = V.conj().T
    return {
        "Lambda": Lambda,
        "P": Vh @ P.to(torch.complex128),
        "B": Vh @ B.to(torch.complex128),
        "V": V,
    }


def diagonal_init(init: str, d_state: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Diagonal ``(A, B)`` (complex128, shape ``(N/2,)``) for the S4D inits.

    ``legs``: diagonal part of the HiPPO-LegS NPLR form (B = V^* B_legs);
    ``lin``: A_n = -1/2 + i pi n; ``inv``: A_n = -1/2 + i (N/pi)(N/(2n+1) - 1);
    ``real``: A_n = -(n+1). B = 1 for the last three.
    """
    half = d_state // 2
    n = torch.arange(half, dtype=torch.float64)
    if init == "legs":
        form = nplr_legs(d_state)
        return form["Lambda"], form["B"]
    if init == "lin":
        A = -0.5 + 1j * math.pi * n
    elif init == "inv":
        A = -0.5 + 1j * (d_state / math.pi) * (d_state / (2 * n + 1) - 1)
    elif init == "real":
        A = -(n + 1) + 0j
    else:
        raise ValueError(f"unknown init {init!r}; use one of ('legs', 'lin', 'inv', 'real')")
    return A.to(torch.complex128), torch.ones(half, dtype=torch.complex128)
