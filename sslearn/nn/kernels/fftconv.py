"""Causal FFT convolution of several signals with several kernels, one inverse FFT.

``y = sum_q K_q * s_q`` (causal, zero-padded to ``n >= 2L - 1``) as one autograd op with a
hand-written backward. What it keeps for the backward pass depends on the device:

- CUDA: only the signals and the kernels' spectra; the signals' spectra are recomputed in
  backward, so no ``(B, Q, H, n/2+1)`` complex tensor outlives the forward pass;
- CPU: the signals' spectra themselves (memory is not the constraint there, and a real FFT
  of the whole batch is the largest single cost of the backward pass). The FFT length is
  also picked for the CPU FFT library (:func:`fft_length`), and the liquid PB product term
  can be added in the same op (:func:`causal_fft_conv`'s ``product_gain``), in place on the
  convolution's own output and gradient buffers. The zero-padded FFT inputs and the
  spectral products live in per-thread buffers that are reused from call to call
  (:func:`workspace`): fresh multi-megabyte temporaries cost a page fault per 4 KiB each
  time the C allocator has given their memory back to the system.
"""

from __future__ import annotations

import threading

import torch

# Largest buffer :func:`workspace` keeps between calls (bytes); larger ones are allocated
# afresh each time.
_WORKSPACE_BYTES = 1 << 26
_workspace = threading.local()

# Largest temporary of the blocked reductions (bytes): small enough to stay in L2.
_BLOCK_BYTES = 1 << 19

# Relative cost per sample of a real FFT of length 2^a, 3 * 2^a and 5 * 2^a, measured with
# MKL (torch's CPU FFT) on the 2-core AVX-512 CI machine over lengths 100..4096; lengths
# with factors 7, 9, 25, ... or a large prime cost 1.5x to 6x a power of two per sample.
_FFT_FACTORS = {1: 1.0, 3: 1.2, 5: 1.25}


def fft_length(length: int, device: torch.device | str) -> int:
    """FFT length for a linear (causal) convolution of two length-``length`` sequences.

    Parameters
    ----------
    length : int
        Sequence length L.
    device : torch.device or str
        On CUDA, ``2 L`` (the historical choice); elsewhere the cheapest of ``2^a``,
        ``3 * 2^a`` and ``5 * 2^a`` that is at least ``2 L - 1`` (no wrap-around), weighting
        each by its relative cost per sample.

    Returns
    -------
    int
    """
    if torch.device(device).type == "cuda":
        return 2 * length
    need = max(2 * length - 1, 2)
    best, best_cost = 0, float("inf")
    for factor, weight in _FFT_FACTORS.items():
        size = factor
        while size < need:
            size *= 2
        if size * weight < best_cost:
            best, best_cost = size, size * weight
    return best


def workspace(name: str, shape: tuple[int, ...], like: torch.Tensor) -> torch.Tensor:
    """A buffer of ``shape`` (``like``'s dtype and device) kept for reuse by this thread.

    Its contents are undefined. The same ``name`` returns the same memory on the next call
    with the same shape, dtype and device, so a caller must be done with it (no view of it
    may outlive the call) before anything asks for ``name`` again. Buffers larger than
    ``_WORKSPACE_BYTES`` are not kept.

    Parameters
    ----------
    name : str
        The buffer's role; each role holds one buffer per thread.
    shape : tuple of int
    like : tensor
        Gives the dtype and device.

    Returns
    -------
    tensor
    """
    buffers = _workspace.__dict__.setdefault("buffers", {})
    buffer = buffers.get(name)
    if (
        buffer is None
        or buffer.shape != shape
        or buffer.dtype != like.dtype
        or buffer.device != like.device
    ):
        buffer = torch.empty(shape, dtype=like.dtype, device=like.device)
        if buffer.numel() * buffer.element_size() <= _WORKSPACE_BYTES:
            buffers[name] = buffer
    return buffer


def clear_workspace() -> None:
    """Drop this thread's :func:`workspace` buffers."""
    _workspace.__dict__.pop("buffers", None)


def padded_rfft(x: torch.Tensor, n: int, name: str) -> torch.Tensor:
    """``torch.fft.rfft(x, n=n)`` for ``n >= x.shape[-1]``; off CUDA through a reused buffer.

    The zero-padded copy of ``x`` is written into the :func:`workspace` buffer ``name``
    instead of a fresh tensor.
    """
    if x.is_cuda:
        return torch.fft.rfft(x, n=n)
    length = x.shape[-1]
    buffer = workspace(name, (*x.shape[:-1], n), x)
    buffer[..., :length].copy_(x)
    buffer[..., length:].zero_()
    return torch.fft.rfft(buffer)


def mix_spectra(
    signal_f: torch.Tensor, kernel_f: torch.Tensor, in_place: bool = False
) -> torch.Tensor:
    """``sum_q signal_f[:, q] * kernel_f[q]`` without a ``(B, Q, H, F)`` temporary.

    Parameters
    ----------
    signal_f : complex tensor of shape (B, Q, H, F)
    kernel_f : complex tensor of shape (Q, H, F)
    in_place : bool, default=False
        Accumulate into ``signal_f[:, 0]`` (which is then returned) instead of a new tensor
        (off CUDA, the :func:`workspace` buffer ``"spectrum"``).

    Returns
    -------
    complex tensor of shape (B, H, F)
    """
    first = signal_f[:, 0]
    if in_place:
        spectrum = first.mul_(kernel_f[0])
    elif signal_f.is_cuda:
        spectrum = first * kernel_f[0]
    else:
        spectrum = torch.mul(first, kernel_f[0], out=workspace("spectrum", first.shape, first))
    for q in range(1, signal_f.shape[1]):
        spectrum.addcmul_(signal_f[:, q], kernel_f[q])
    return spectrum


def correlate_spectra(signal_f: torch.Tensor, dy_f: torch.Tensor) -> torch.Tensor:
    """``sum_b conj(signal_f[b, q]) * dy_f[b]``, the spectrum of the kernels' gradient.

    Summed over blocks of batch rows, so no temporary is larger than about
    ``_BLOCK_BYTES``. ``dy_f`` is conjugated in place and back (the conjugate of the large
    ``signal_f`` is never materialised).

    Parameters
    ----------
    signal_f : complex tensor of shape (B, Q, H, F)
    dy_f : complex tensor of shape (B, H, F)

    Returns
    -------
    complex tensor of shape (Q, H, F)
    """
    rows = max(1, _BLOCK_BYTES // (signal_f[0].numel() * signal_f.element_size()))
    dy_f.conj_physical_()
    cross = None
    for start in range(0, signal_f.shape[0], rows):
        part = (signal_f[start : start + rows] * dy_f[start : start + rows, None]).sum(0)
        cross = part if cross is None else cross.add_(part)
    dy_f.conj_physical_()
    return cross.conj_physical_()


def signals_grad_spectrum_(dy_f: torch.Tensor, kernel_f: torch.Tensor) -> torch.Tensor:
    """``dy_f[:, None] * conj(kernel_f)`` of shape (B, Q, H, F); in place in ``dy_f`` if Q = 1."""
    if kernel_f.shape[0] == 1:
        return dy_f.mul_(kernel_f[0].conj())[:, None]
    return dy_f[:, None] * kernel_f.conj()


def fast_tanh(x: torch.Tensor) -> torch.Tensor:
    """``tanh(x)`` as ``2 sigmoid(2 x) - 1``: several times faster than ``torch.tanh`` on CPUs.

    The absolute error is a few units in the last place of 1 and large ``|x|`` saturates
    cleanly. Meant for tensors outside autograd (it works in place on its temporary).
    """
    return torch.mul(x, 2).sigmoid_().mul_(2).sub_(1)


def add_product_term_(y: torch.Tensor, u: torch.Tensor, gain: torch.Tensor) -> torch.Tensor:
    """``y[..., t] += gain[h] u[..., t-1] tanh(u[..., t])`` in place; returns ``tanh(u)``.

    Parameters
    ----------
    y, u : tensors of shape (B, H, L)
    gain : tensor of shape (H,)
    """
    v = fast_tanh(u)
    scaled = workspace("product", u.shape, u)[..., 1:]
    torch.mul(u[..., :-1], gain[:, None], out=scaled)
    y[..., 1:].addcmul_(scaled, v[..., 1:])
    return v


def product_term_grads(
    dy: torch.Tensor,
    u: torch.Tensor,
    v: torch.Tensor,
    gain: torch.Tensor,
    d_u: torch.Tensor | None,
) -> torch.Tensor:
    """Backward of :func:`add_product_term_`: adds ``dL/du`` to ``d_u``; returns ``dL/dgain``.

    With ``p[t] = gain u[t-1] v[t]``, ``v = tanh(u)``:
    ``dL/du[t] += gain (dy[t] u[t-1] (1 - v[t]^2) + dy[t+1] v[t+1])`` and
    ``dL/dgain = sum_{b, t} dy[t] u[t-1] v[t]``. ``d_u=None`` skips the former.
    """
    before = u[..., :-1]
    scratch = torch.mul(dy, v, out=workspace("product", dy.shape, dy))
    if d_u is not None:
        d_u[..., :-1].addcmul_(scratch[..., 1:], gain[:, None])
    d_gain = scratch[..., 1:].mul_(before).sum((0, 2))
    if d_u is not None:
        sech2_dy = torch.mul(v, v, out=scratch).neg_().add_(1).mul_(dy)  # reuses the buffer
        d_u[..., 1:].addcmul_(sech2_dy[..., 1:].mul_(before), gain[:, None])
    return d_gain


def _convolve(signals, kernels, gain, n, in_place):
    """The forward pass: ``(y, signal_f, kernel_f, tanh(u) or None)``."""
    kernel_f = torch.fft.rfft(kernels, n=n)  # (Q, H, n/2+1)
    signal_f = padded_rfft(signals, n, "signals")  # (B, Q, H, n/2+1)
    spectrum = mix_spectra(signal_f, kernel_f, in_place)
    y = torch.fft.irfft(spectrum, n=n)[..., : signals.shape[-1]]
    v = None if gain is None else add_product_term_(y, signals[:, 0], gain)
    return y, signal_f, kernel_f, v


class _CausalFFTConv(torch.autograd.Function):
    @staticmethod
    def forward(ctx, signals, kernels, gain, keep_spectrum):
        # signals: (B, Q, H, L); kernels: (Q, H, L); gain: (H,) or None
        n = fft_length(signals.shape[-1], signals.device)
        y, signal_f, kernel_f, v = _convolve(signals, kernels, gain, n, in_place=False)
        ctx.n, ctx.keep_spectrum = n, keep_spectrum
        kept = None
        if ctx.needs_input_grad[1]:
            kept = signal_f if keep_spectrum else signals
        u = None if gain is None else signals[:, 0]
        ctx.save_for_backward(kept, kernel_f, u, v, gain)
        return y

    @staticmethod
    def backward(ctx, dy):
        kept, kernel_f, u, v, gain = ctx.saved_tensors
        length, n = dy.shape[-1], ctx.n
        dy_f = padded_rfft(dy, n, "grad")  # (B, H, n/2+1)
        d_signals = d_kernels = d_gain = None
        if ctx.needs_input_grad[1]:
            signal_f = kept if ctx.keep_spectrum else padded_rfft(kept, n, "signals")
            d_kernels = torch.fft.irfft(correlate_spectra(signal_f, dy_f), n=n)[..., :length]
        if ctx.needs_input_grad[0]:
            d_signals = torch.fft.irfft(signals_grad_spectrum_(dy_f, kernel_f), n=n)
            d_signals = d_signals[..., :length]
        if gain is not None and (d_signals is not None or ctx.needs_input_grad[2]):
            d_u = None if d_signals is None else d_signals[:, 0]
            d_gain = product_term_grads(dy, u, v, gain, d_u)
        return d_signals, d_kernels, d_gain, None


def causal_fft_conv(
    signals: torch.Tensor,
    kernels: torch.Tensor,
    product_gain: torch.Tensor | None = None,
    *,
    keep_spectrum: bool | None = None,
) -> torch.Tensor:
    """``y[b, h, t] = sum_q sum_{j<=t} kernels[q, h, t-j] signals[b, q, h, j]``.

    Parameters
    ----------
    signals : tensor of shape (B, Q, H, L)
    kernels : tensor of shape (Q, H, L)
    product_gain : tensor of shape (H,), optional
        Also adds the degree-2 liquid PB term ``product_gain[h] u[t-1] tanh(u[t])`` of
        ``u = signals[:, 0]`` (as :func:`sslearn.nn.kernels.chunked_conv.product_term`),
        inside the same op. Meant for the CPU (CUDA callers use the chunked kernel).
    keep_spectrum : bool, optional
        Save the signals' spectra for the backward pass instead of recomputing them; by
        default True off CUDA (see the module docstring).

    Returns
    -------
    tensor of shape (B, H, L)
    """
    if keep_spectrum is None:
        keep_spectrum = not signals.is_cuda
    inputs = (signals, kernels, product_gain)
    if torch.is_grad_enabled() and any(t is not None and t.requires_grad for t in inputs):
        return _CausalFFTConv.apply(signals, kernels, product_gain, keep_spectrum)
    n = fft_length(signals.shape[-1], signals.device)
    return _convolve(signals, kernels, product_gain, n, in_place=True)[0]
