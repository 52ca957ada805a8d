"""Independent float64 references for the layer tests: plain sequential loops in numpy.

Written from the equations, sharing no code with ``sslearn.nn``:
    x_k = (Abar + diag(Bbar) v_k) x_{k-1} + Bbar u_k,   v_k = tanh(u_k),
    y_k = 2 Re sum_n C_n x_k[n] + D u_k        (diagonal systems, N/2 complex modes).
"""

from __future__ import annotations

from itertools import combinations

import numpy as np


def to_numpy(params: dict) -> dict:
    return {
        k: v.detach().cpu().numpy().astype(np.complex128 if v.is_complex() else np.float64)
        for k, v in params.items()
    }


def linear_recurrence(u, Abar, Bbar, C, D, power=1):
    """y_k = 2 Re <C, x_k> + D u_k with x_k = Abar x_{k-1} + Bbar^power u_k."""
    batch, _, length = u.shape
    x = np.zeros((batch, *Abar.shape), dtype=np.complex128)
    y = np.empty(u.shape)
    for k in range(length):
        x = Abar * x + Bbar**power * u[:, :, k, None]
        y[:, :, k] = 2 * np.real((C * x).sum(-1)) + D * u[:, :, k]
    return y


def liquid_recurrence(u, Abar, Bbar, C, D, cap=True):
    """The exact liquid recurrence with v = tanh(u); multipliers capped at modulus 1."""
    batch, _, length = u.shape
    v = np.tanh(u)
    x = np.zeros((batch, *Abar.shape), dtype=np.complex128)
    y = np.empty(u.shape)
    for k in range(length):
        a = Abar + Bbar * v[:, :, k, None]
        if cap:
            a = a / np.maximum(np.abs(a), 1.0)
        x = a * x + Bbar * u[:, :, k, None]
        y[:, :, k] = 2 * np.real((C * x).sum(-1)) + D * u[:, :, k]
    return y


def run_product(u, t, q):
    """u[t-q+1] * tanh(u[t-q+2]) * ... * tanh(u[t]) (0 when the run starts before 0)."""
    if t - q + 1 < 0:
        return np.zeros(u.shape[:-1])
    out = u[..., t - q + 1].copy()
    for s in range(t - q + 2, t + 1):
        out = out * np.tanh(u[..., s])
    return out


def liquid_kb(u, Abar, Bbar, C, D, degree):
    """Linear SSM plus, per q, a state driven by Bbar^q times the q-run input product."""
    y = linear_recurrence(u, Abar, Bbar, C, D)
    batch, _, length = u.shape
    for q in range(2, degree + 1):
        x = np.zeros((batch, *Abar.shape), dtype=np.complex128)
        for k in range(length):
            x = Abar * x + Bbar**q * run_product(u, k, q)[..., None]
            y[:, :, k] += 2 * np.real((C * x).sum(-1))
    return y


def liquid_pb(u, Abar, Bbar, C, D, degree):
    y = linear_recurrence(u, Abar, Bbar, C, D)
    for q in range(2, degree + 1):
        gain = 2 * np.real((C * Bbar**q).sum(-1))
        for k in range(u.shape[-1]):
            y[:, :, k] += gain * run_product(u, k, q)
    return y


def subset_expansion(u, Abar, Bbar, C, D, keep=lambda subset: True):
    """Closed form of the uncapped liquid recurrence as a sum over input index subsets T:

    y_k = D u_k + 2 Re sum_n C_n sum_T Abar^(k - min T - (|T|-1)) Bbar^|T| u_min(T) prod v_(T\\min)

    ``keep`` selects which subsets to include (all of them gives the exact recurrence).
    """
    v = np.tanh(u)
    y = D[:, None] * u
    for k in range(u.shape[-1]):
        acc = np.zeros((u.shape[0], *Abar.shape), dtype=np.complex128)
        for r in range(1, k + 2):
            for subset in combinations(range(k + 1), r):
                if not keep(subset):
                    continue
                product = u[..., subset[0]] * np.prod(v[..., list(subset[1:])], axis=-1)
                acc += Abar ** (k - subset[0] - (r - 1)) * Bbar**r * product[..., None]
        y[:, :, k] += 2 * np.real((C * acc).sum(-1))
    return y


def is_run(subset) -> bool:
    return subset[-1] - subset[0] == len(subset) - 1
