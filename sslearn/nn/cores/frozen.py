"""A fitted network whose SSM cores are frozen into real constants: streaming and export.

Once a network is fitted its discretised systems no longer change, so they are computed
once, in float64, and kept as constants. :class:`FrozenCore` holds them in real arithmetic
(a complex mode is a pair of real numbers) and runs the cores' recurrence with plain tensor
operations. That serves two readers:

- streaming (:mod:`sslearn._stream`): a step costs a few element-wise operations per layer
  instead of a discretisation (and, for the dense cores, a linear solve) per step;
- ONNX export (:mod:`sslearn._onnx`): ONNX Runtime has no complex tensors, and neither the
  FFT convolution nor the Triton kernels trace into an ONNX graph.

:func:`frozen_network` swaps the cores of a copy of the network and keeps everything else,
the encoder, norms, GLU, pooling, head and the layers' liquid terms, as the fitted modules:
the copy computes the same function, through :meth:`~sslearn.nn.LiquidS4Network.forward`
and :meth:`~sslearn.nn.LiquidS4Network.step`. Torch only.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence

import torch
from torch import nn

from sslearn.nn.cores._base import SSMCore
from sslearn.nn.cores.diagonal import DiagonalSSM
from sslearn.nn.functional import lagged_products


def _pairs(z: torch.Tensor) -> torch.Tensor:
    """Complex ``(..., M)`` -> real ``(..., 2M)``, each real part followed by its imaginary
    part (the memory layout of a complex tensor: :func:`_complex` is a view back)."""
    return torch.view_as_real(z.resolve_conj()).flatten(-2) if z.is_complex() else z


def _complex(pairs: torch.Tensor) -> torch.Tensor:
    """The complex view of real ``(..., 2M)`` pairs: ``(..., M)``, no copy."""
    return torch.view_as_complex(pairs.unflatten(-1, (-1, 2)))


def _product_factors(z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
    """``(p, q)`` with ``pairs(z * x) == p * s + q * swap(s)`` for ``s = pairs(x)``:
    ``p`` repeats ``Re z``, ``q`` is ``(-Im z, Im z)`` pair by pair; ``(z, None)`` for a
    real ``z``."""
    if not z.is_complex():
        return z, None
    p = torch.stack([z.real, z.real], dim=-1).flatten(-2)
    return p, torch.stack([-z.imag, z.imag], dim=-1).flatten(-2)


def _swap(s: torch.Tensor) -> torch.Tensor:
    """``(re, im)`` -> ``(im, re)`` in every pair of the last axis."""
    return s.unflatten(-1, (-1, 2)).flip(-1).flatten(-2)


def _tracing() -> bool:
    return torch.compiler.is_exporting() or torch.compiler.is_compiling()


def causal_conv(u: torch.Tensor, kernel: torch.Tensor) -> torch.Tensor:
    """``y[t] = sum_{m <= t} kernel[m] u[t - m]`` per channel: u (B, H, L), kernel (H, L)."""
    length = u.shape[-1]
    weight = kernel.flip(-1)[:, None, :]  # (H, 1, L)
    return nn.functional.conv1d(nn.functional.pad(u, (length - 1, 0)), weight, groups=u.shape[1])


def time_scan(step: Callable, init: list[torch.Tensor], inputs: list[torch.Tensor]) -> torch.Tensor:
    """Run ``step(carry, inputs_t) -> (carry, y_t)`` along the last axis of ``inputs``.

    While exporting, ``torch.ops.higher_order.scan``, which the ONNX exporter writes as one
    ``Scan`` node: a loop over a time axis of any length. In eager mode a Python loop (an
    eager scan would compile its body first). ``inputs`` are (B, H, L), the result (B, H, L).
    """
    if _tracing():
        from torch._higher_order_ops.scan import scan

        def contiguous_step(carry, inputs_t):  # the scan wants the init's strides back
            carry, y = step(carry, inputs_t)
            return [c.contiguous() for c in carry], y

        _, ys = scan(contiguous_step, init, [x.movedim(-1, 0) for x in inputs])
        return ys.movedim(0, -1)
    carry, ys = init, []
    for t in range(inputs[0].shape[-1]):
        carry, y = step(carry, [x[..., t] for x in inputs])
        ys.append(y)
    return torch.stack(ys, dim=-1)


class FrozenCore(SSMCore):
    """A fitted SSM core's discretised system as real constants.

    The state ``s`` is real: for the complex cores (``"diag"``: its N/2 modes, ``"dplr"``:
    the full N-dimensional basis) the real and imaginary part of each entry of ``x`` side by
    side, the memory layout of a complex tensor; ``s = x`` for ``"lssl"``. One step of the
    recurrence, with ``v`` the liquid input (``"exact"`` only) and ``d`` the drive of input
    power ``q``, is

        x <- (Abar + diag(Bbar) v) x + Bbar^q d,    y = c . s

    with ``Abar`` element-wise for ``"diag"`` (its liquid multiplier capped at modulus 1, as
    :func:`~sslearn.nn.kernels.liquid_scan.cap_unit_modulus` does) and dense for the others:
    the cores' own ``step``, each complex product written as real ones. The convolutional
    view uses kernels materialised for ``kernel_length`` steps (a causal ``conv1d``) or,
    with ``kernel_length=None``, runs the linear recurrence over any number of steps.

    Parameters
    ----------
    core : SSMCore
        The fitted core. Its system is computed once, in float64.
    powers : sequence of int
        Input powers ``q`` whose drive gains ``Bbar^q``, liquid gains and kernels are kept.
    kernel_length : int or None, default=None
        Length of the materialised kernels; None keeps none.

    Attributes
    ----------
    complex_steps : bool, default=True
        In eager mode, step the diagonal core on complex views of its real pairs (the same
        numbers, fewer operations); while tracing for export, steps are always real.
    """

    complex_steps = True

    def __init__(
        self, core: SSMCore, powers: Sequence[int], kernel_length: int | None = None
    ) -> None:
        super().__init__()
        self.channels, self.d_state = core.channels, core.d_state
        self.diagonal = isinstance(core, DiagonalSSM)
        self.kernel_length = kernel_length
        with torch.no_grad():
            exact = copy.deepcopy(core).double()
            with exact.reuse_discretization():
                system = exact.discretize()
                abar, bbar, C = system["Abar"], system["Bbar"], system["C"]
                # y = 2 Re(C x) over the stored half of S4D's modes, Re(C x) for DPLR
                scale = 2.0 if self.diagonal else 1.0
                self.register_buffer("c", scale * _pairs(C.conj()))  # y = c . s
                if self.diagonal:
                    abar_p, abar_q = _product_factors(abar)
                    self.register_buffer("abar", _pairs(abar))
                    self.register_buffer("bbar", _pairs(bbar))
                    self.register_buffer("abar_p", abar_p)
                    self.register_buffer("abar_q", abar_q)
                else:
                    self.register_buffer("transition", self._real_matrix(abar))
                liquid_p, liquid_q = _product_factors(bbar)
                self.register_buffer("liquid_p", liquid_p)
                self.register_buffer("liquid_q", liquid_q)
                for q in powers:
                    self.register_buffer(f"drive{q}", _pairs(bbar**q))
                    self.register_buffer(f"gain{q}", exact.liquid_gain(q))
                    if kernel_length is not None:
                        self.register_buffer(f"kernel{q}", exact.kernel(kernel_length, power=q))

    @staticmethod
    def _real_matrix(abar: torch.Tensor) -> torch.Tensor:
        """A dense complex ``(H, N, N)`` as the real ``(H, 2N, 2N)`` acting on pairs."""
        if not abar.is_complex():
            return abar
        rows = [torch.stack([abar.real, -abar.imag], -1), torch.stack([abar.imag, abar.real], -1)]
        blocks = torch.stack(rows, dim=-2)  # (H, N, N, 2, 2): the 2x2 real form of each entry
        return blocks.permute(0, 1, 3, 2, 4).flatten(3, 4).flatten(1, 2)

    # -- the recurrence --------------------------------------------------------------------
    def initial_state(self, batch_size: int) -> torch.Tensor:
        """Zeros of shape ``(B, H, S)`` (S real numbers per channel)."""
        return self.c.new_zeros(batch_size, *self.c.shape)

    def _transition(self, state: torch.Tensor, v: torch.Tensor | None) -> torch.Tensor:
        """``(Abar + diag(Bbar) v) x`` on the real state (B, H, S); v (B, H) or None."""
        if not self.diagonal:
            new = torch.einsum("hnk,bhk->bhn", self.transition, state)
            if v is None:
                return new
            liquid = self.liquid_p * state
            if self.liquid_q is not None:
                liquid = liquid + self.liquid_q * _swap(state)
            return new + v[..., None] * liquid
        p, q = self.abar_p, self.abar_q
        if v is not None:  # the multiplier Abar + Bbar v, scaled back onto the unit circle
            p = p + self.liquid_p * v[..., None]
            q = q + self.liquid_q * v[..., None]
            modulus = torch.sqrt(p * p + q * q).clamp(min=1.0)
            p, q = p / modulus, q / modulus
        return p * state + q * _swap(state)

    def _complex_step(self, state, drive, v, power):
        """:meth:`step` of the diagonal core on complex views of the same numbers: two
        passes over the state fewer than the real products (eager mode only)."""
        multiplier = _complex(self.abar)
        if v is not None:
            multiplier = multiplier + _complex(self.bbar) * v[..., None]
            multiplier = multiplier / multiplier.abs().clamp(min=1.0)
        x = (
            multiplier * _complex(state)
            + _complex(getattr(self, f"drive{power}")) * drive[..., None]
        )
        state = _pairs(x)
        return (self.c * state).sum(-1), state

    def step(self, state, drive, v=None, power=1):
        if self.diagonal and self.complex_steps and not _tracing():
            return self._complex_step(state, drive, v, power)
        state = self._transition(state, v) + getattr(self, f"drive{power}") * drive[..., None]
        return (self.c * state).sum(-1), state

    def liquid_gain(self, power: int) -> torch.Tensor:
        return getattr(self, f"gain{power}")

    def kernel(self, length: int, power: int = 1) -> torch.Tensor:
        if self.kernel_length is None or length > self.kernel_length:
            raise ValueError(
                f"this core holds kernels of {self.kernel_length} steps, not {length}; "
                "freeze it with a longer kernel_length"
            )
        return getattr(self, f"kernel{power}")[:, :length]

    # -- the convolutional views -----------------------------------------------------------
    def convolve(self, signals, powers, skip, product=False, lagged=False):
        """As :meth:`SSMCore.convolve`: by a causal ``conv1d`` of the materialised kernels,
        or, without them, by the linear recurrence."""
        u = signals[:, 0]
        if lagged:
            signals = torch.stack([u, lagged_products(u, torch.tanh(u), 2)], dim=1)
        if self.kernel_length is not None:
            length = signals.shape[-1]
            terms = [causal_conv(signals[:, i], self.kernel(length, q))
                     for i, q in enumerate(powers)]  # fmt: skip
            y = torch.stack(terms).sum(0)
        else:
            y = self._linear_scan(signals, list(powers))
        y = y + skip[:, None] * u
        if product:
            y = y + self.liquid_gain(2)[:, None] * lagged_products(u, torch.tanh(u), 2)
        return y

    def _linear_scan(self, signals: torch.Tensor, powers: list[int]) -> torch.Tensor:
        """``sum_i K_{powers[i]} * signals[:, i]`` (B, Q, H, L) by the recurrence."""

        def step(states, drives):
            new_states, y = [], 0
            for state, drive, q in zip(states, drives, powers, strict=True):
                y_q, state = self.step(state, drive, power=q)
                new_states.append(state)
                y = y + y_q
            return new_states, y

        init = [self.initial_state(signals.shape[0]) for _ in powers]
        return time_scan(step, init, list(signals.unbind(1)))

    def liquid_layer_scan(self, u: torch.Tensor, skip: torch.Tensor) -> torch.Tensor:
        """The exact liquid recurrence over u (B, H, L), plus the skip."""

        def step(states, inputs):
            y, state = self.step(states[0], inputs[0], torch.tanh(inputs[0]))
            return [state], y

        return time_scan(step, [self.initial_state(u.shape[0])], [u]) + skip[:, None] * u


def frozen_network(
    network: nn.Module,
    *,
    kernel_length: int | None = None,
    dtype: torch.dtype = torch.float32,
    device: torch.device | str = "cpu",
) -> nn.Module:
    """A copy of a fitted :class:`~sslearn.nn.LiquidS4Network` with :class:`FrozenCore` cores.

    Parameters
    ----------
    network : LiquidS4Network
        The fitted network; left unchanged.
    kernel_length : int or None, default=None
        Materialise the convolution kernels for this many steps (see :class:`FrozenCore`).
    dtype : torch.dtype, default=torch.float32
    device : torch.device or str, default="cpu"

    Returns
    -------
    network : LiquidS4Network
        In evaluation mode, without gradients, on ``device`` in ``dtype``.
    """
    network = copy.deepcopy(network).cpu().eval()
    for block in network.blocks:
        layer = block.ssm
        layer.core = FrozenCore(layer.core, [1, *layer.degrees], kernel_length)
    return network.to(device=device, dtype=dtype).requires_grad_(False)
