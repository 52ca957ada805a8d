"""Causal FFT convolution of several signals with several kernels, one inverse FFT.

``y = sum_q K_q * s_q (+ skip * s_0)`` (causal, zero-padded to ``n >= 2L - 1``) as one
autograd op with a hand-written backward. It saves only the signals and the kernels'
spectra for the backward pass, which recomputes the signals' spectra: no
``(B, Q, H, n/2+1)`` complex tensor outlives the forward pass. Off CUDA:

- the FFT length is picked for the CPU FFT library (:func:`fft_length`), and the liquid PB
  product term can be added in the same op (:func:`causal_fft_conv`'s ``product_gain``), in
  place on the convolution's own output and gradient buffers;
- the batch goes through the FFTs in blocks of rows whose spectra take about
  ``_FFT_BLOCK_BYTES`` (:func:`fft_block_rows`), one block's temporaries alive at a time.
  ATen allocates every FFT output afresh, and glibc gives the memory at the top of its
  heap back to the system once more than its trim threshold is free there (twice its
  dynamic mmap threshold: about 4 MiB after importing torch), to fault it in again page by
  page on the next call. With whole-batch spectra (2 MiB each, several alive at once) a
  training step of a (16, 64, 256) layer took some 900 minor page faults, a third of its
  time on the 2-core CI machine; with blocks of 0.5 MiB it takes 30 to 140
  (``benchmarks/bench_cpu.py``). For the same reason the signals' spectra and ``tanh(u)``
  are recomputed in the backward pass rather than kept alive from the forward pass, and
  the kernels' gradient is summed block after block;
- the zero-padded FFT inputs and the product term's scratch live in per-thread buffers
  that are reused from call to call (:func:`workspace`).
"""

from __future__ import annotations

import threading

import torch

# Largest buffer :func:`workspace` keeps between calls (bytes); larger ones are allocated
# afresh each time.
_WORKSPACE_BYTES = 1 << 26
_workspace = threading.local()

# Size of the spectra of one FFT call of the CPU path (bytes), see the module docstring.
# Blocks of 1 MiB save a few small ops (about 5% of a (16, 64, 256) training step) but
# fault five times as often; blocks of 256 KiB cost 10% to 40% more.
_FFT_BLOCK_BYTES = 1 << 19

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


def fft_block_rows(batch: int, row_bytes: int) -> int:
    """Batch rows per FFT call of the CPU path: blocks of about ``_FFT_BLOCK_BYTES``.

    Parameters
    ----------
    batch : int
        Number of batch rows B.
    row_bytes : int
        Size of the spectra of one batch row.

    Returns
    -------
    int
        Rows per block; the blocks are of equal size but the last.
    """
    n_blocks = min(batch, max(1, round(batch * row_bytes / _FFT_BLOCK_BYTES)))
    return -(-batch // n_blocks)


def padded_workspace(
    name: str, shape: tuple[int, ...], like: torch.Tensor, length: int
) -> torch.Tensor:
    """The :func:`workspace` buffer ``name`` with ``[..., length:]`` zeroed: the padding of
    FFT inputs whose first ``length`` steps the caller writes, block after block."""
    buffer = workspace(name, shape, like)
    buffer[..., length:].zero_()
    return buffer


def padded_rfft(padded: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """``rfft`` of ``x`` zero-padded to ``padded``'s length, through ``padded``'s leading
    rows (a :func:`padded_workspace` buffer)."""
    rows = padded[: x.shape[0]]
    rows[..., : x.shape[-1]].copy_(x)
    return torch.fft.rfft(rows)


def mix_spectra_(signal_f: torch.Tensor, kernel_f: torch.Tensor) -> torch.Tensor:
    """``sum_q signal_f[:, q] * kernel_f[q]``, accumulated in place in ``signal_f[:, 0]``.

    Parameters
    ----------
    signal_f : complex tensor of shape (B, Q, H, F)
    kernel_f : complex tensor of shape (Q, H, F)

    Returns
    -------
    complex tensor of shape (B, H, F), a view of ``signal_f``
    """
    spectrum = signal_f[:, 0].mul_(kernel_f[0])
    for q in range(1, signal_f.shape[1]):
        spectrum.addcmul_(signal_f[:, q], kernel_f[q])
    return spectrum


def signals_grad_spectrum_(dy_f: torch.Tensor, kernel_conj: torch.Tensor) -> torch.Tensor:
    """``dy_f[:, None] * kernel_conj`` of shape (B, Q, H, F); in place in ``dy_f`` if Q = 1.

    ``kernel_conj`` is the conjugate of the kernels' spectra, materialised: a lazily
    conjugated operand would be resolved into a broadcast copy by every product.
    """
    if kernel_conj.shape[0] == 1:
        return dy_f.mul_(kernel_conj[0])[:, None]
    return dy_f[:, None] * kernel_conj


def fast_tanh(x: torch.Tensor, out: torch.Tensor | None = None) -> torch.Tensor:
    """``tanh(x)`` as ``2 sigmoid(2 x) - 1``: several times faster than ``torch.tanh`` on CPUs.

    The absolute error is a few units in the last place of 1 and large ``|x|`` saturates
    cleanly. Meant for tensors outside autograd (it works in place on its result, ``out``
    if given).
    """
    return torch.mul(x, 2, out=out).sigmoid_().mul_(2).sub_(1)


def _tanh_workspace(u: torch.Tensor) -> torch.Tensor:
    """``tanh(u)`` in the :func:`workspace` buffer ``"tanh"`` (off CUDA; fresh on CUDA)."""
    return fast_tanh(u, out=None if u.is_cuda else workspace("tanh", u.shape, u))


def add_product_term_(y: torch.Tensor, u: torch.Tensor, gain: torch.Tensor) -> None:
    """``y[..., t] += gain[h] u[..., t-1] tanh(u[..., t])`` in place.

    ``gain tanh(u)`` is formed as ``2 gain sigmoid(2 u) - gain`` (:func:`fast_tanh` with the
    gain folded into its last two passes) in a :func:`workspace` buffer.

    Parameters
    ----------
    y, u : tensors of shape (B, H, L)
    gain : tensor of shape (H,)
    """
    gain = gain[:, None]
    out = None if u.is_cuda else workspace("tanh", u.shape, u)
    gain_v = torch.mul(u, 2, out=out).sigmoid_().mul_(2 * gain).sub_(gain)
    y[..., 1:].addcmul_(u[..., :-1], gain_v[..., 1:])


def product_term_grads(
    dy: torch.Tensor, u: torch.Tensor, gain: torch.Tensor, d_u: torch.Tensor | None
) -> torch.Tensor:
    """Backward of :func:`add_product_term_`: adds ``dL/du`` to ``d_u``; returns ``dL/dgain``.

    With ``p[t] = gain u[t-1] v[t]``, ``v = tanh(u)`` (recomputed rather than kept from the
    forward pass): ``dL/du[t] += gain (dy[t] u[t-1] (1 - v[t]^2) + dy[t+1] v[t+1])`` and
    ``dL/dgain = sum_{b, t} dy[t] u[t-1] v[t]``. ``d_u=None`` skips the former. Two
    :func:`workspace` buffers hold ``v`` (then ``dy (1 - v^2)``) and ``dy v``.
    """
    gain, before = gain[:, None], u[..., :-1]
    v = _tanh_workspace(u)
    dy_v = torch.mul(dy, v, out=None if u.is_cuda else workspace("product", dy.shape, dy))
    if d_u is not None:
        d_u[..., :-1].addcmul_(dy_v[..., 1:], gain)
        sech2_dy = torch.addcmul(dy, dy_v, v, value=-1, out=v)  # dy (1 - v^2), over v
        d_u[..., 1:].addcmul_(sech2_dy[..., 1:].mul_(before), gain)
    return dy_v[..., 1:].mul_(before).sum((0, 2))


def kernel_spectra(kernels: torch.Tensor, skip: torch.Tensor | None, n: int) -> torch.Tensor:
    """``rfft(kernels, n)`` with ``skip`` added to tap 0 of the first kernel.

    A constant on every frequency: the skip ``skip[h] signals[:, 0, h]`` rides along in the
    spectral product, with no pass over the data of its own.
    """
    kernel_f = torch.fft.rfft(kernels, n=n)  # (Q, H, n/2+1)
    if skip is not None:
        kernel_f[0] += skip[:, None]
    return kernel_f


def _convolve_whole(signals, kernel_f, n):
    """CUDA forward: the whole batch in one FFT each way."""
    spectrum = mix_spectra_(torch.fft.rfft(signals, n=n), kernel_f)
    return torch.fft.irfft(spectrum, n=n)[..., : signals.shape[-1]]


def _convolve_block(signals, kernel_f, padded, y):
    """One block of batch rows of :func:`_convolve_blocks`, written into ``y``.

    A function of its own so that the block's spectra are freed on return, before the next
    block's FFT allocates its own.
    """
    spectrum = mix_spectra_(padded_rfft(padded, signals), kernel_f)
    y.copy_(torch.fft.irfft(spectrum, n=padded.shape[-1])[..., : y.shape[-1]])


def _convolve_blocks(signals, kernel_f, n):
    """CPU forward in blocks of batch rows (see the module docstring)."""
    batch, n_signals, channels, length = signals.shape
    y = signals.new_empty(batch, channels, length)
    rows = fft_block_rows(batch, kernel_f.numel() * kernel_f.element_size())
    padded = padded_workspace("signals", (rows, n_signals, channels, n), signals, length)
    for signals_rows, y_rows in zip(signals.split(rows), y.split(rows), strict=True):
        _convolve_block(signals_rows, kernel_f, padded, y_rows)
    return y


def _convolve(signals, kernel_f, gain, n):
    """The forward pass: ``y`` of shape (B, H, L)."""
    convolve = _convolve_whole if signals.is_cuda else _convolve_blocks
    y = convolve(signals, kernel_f, n)
    if gain is not None:
        add_product_term_(y, signals[:, 0], gain)
    return y


def _cross_spectrum_(signal_f, dy_f):
    """``sum_b conj(signal_f[b]) dy_f[b]`` of shape (Q, H, F), formed in ``signal_f``'s own
    memory (no second spectrum-sized temporary)."""
    return signal_f.conj_physical_().mul_(dy_f[:, None]).sum(0)


def _backward_whole(dy, signals, kernel_f, n, need_signals, need_kernels):
    """CUDA backward of the convolution: ``(dL/dsignals, dL/dkernels)``, None if not needed."""
    length = dy.shape[-1]
    dy_f = torch.fft.rfft(dy, n=n)  # (B, H, n/2+1)
    d_signals = d_kernels = None
    if need_kernels:
        cross = _cross_spectrum_(torch.fft.rfft(signals, n=n), dy_f)
        d_kernels = torch.fft.irfft(cross, n=n)[..., :length]
    if need_signals:
        d_signals_f = signals_grad_spectrum_(dy_f, kernel_f.conj_physical())
        d_signals = torch.fft.irfft(d_signals_f, n=n)[..., :length]
    return d_signals, d_kernels


def _backward_block(dy, signals, kernel_conj, padded, d_signals, cross):
    """One block of batch rows of :func:`_backward_blocks`.

    Writes ``dL/dsignals`` into ``d_signals`` and adds ``sum_b conj(signal_f[b]) dy_f[b]``
    over the block's rows to ``cross``, either of which may be None. The signals' spectra
    are freed before the inverse FFT allocates its output.
    """
    dy_f = padded_rfft(padded[:, :1], dy[:, None])[:, 0]  # (rows, H, n/2+1)
    if cross is not None:
        signal_f = padded_rfft(padded, signals)  # (rows, Q, H, n/2+1)
        cross.add_(_cross_spectrum_(signal_f, dy_f))
        del signal_f
    if d_signals is not None:
        d_signals_f = signals_grad_spectrum_(dy_f, kernel_conj)
        d_signals.copy_(torch.fft.irfft(d_signals_f, n=padded.shape[-1])[..., : dy.shape[-1]])


def _row_blocks(x, rows, batch):
    """``x.split(rows)`` along the batch, or as many Nones for ``x=None``."""
    return [None] * -(-batch // rows) if x is None else x.split(rows)


def _backward_blocks(dy, signals, kernel_f, n, need_signals, need_kernels):
    """CPU backward of the convolution in blocks of batch rows, as :func:`_backward_whole`.

    ``dL/dkernels`` is the inverse FFT of ``sum_b conj(signal_f[b]) dy_f[b]``, summed block
    after block: no temporary holds more than one block's spectra, whatever the batch size.
    """
    batch, n_signals, channels, length = signals.shape
    rows = fft_block_rows(batch, kernel_f.numel() * kernel_f.element_size())
    padded = padded_workspace("grad", (rows, n_signals, channels, n), dy, length)
    d_signals = dy.new_empty(signals.shape) if need_signals else None
    cross = torch.zeros_like(kernel_f) if need_kernels else None
    kernel_conj = kernel_f.conj_physical() if need_signals else None
    parts = (_row_blocks(x, rows, batch) for x in (dy, signals, d_signals))
    for dy_rows, signals_rows, d_signals_rows in zip(*parts, strict=True):
        _backward_block(dy_rows, signals_rows, kernel_conj, padded, d_signals_rows, cross)
    d_kernels = None if cross is None else torch.fft.irfft(cross, n=n)[..., :length]
    return d_signals, d_kernels


class _CausalFFTConv(torch.autograd.Function):
    @staticmethod
    def forward(ctx, signals, kernels, gain, skip):
        # signals: (B, Q, H, L); kernels: (Q, H, L); gain, skip: (H,) or None
        n = fft_length(signals.shape[-1], signals.device)
        kernel_f = kernel_spectra(kernels, skip, n)
        ctx.n = n
        ctx.save_for_backward(signals, kernel_f, gain)
        return _convolve(signals, kernel_f, gain, n)

    @staticmethod
    def backward(ctx, dy):
        signals, kernel_f, gain = ctx.saved_tensors
        need_signals, need_kernels, need_gain, need_skip = ctx.needs_input_grad
        backward = _backward_whole if dy.is_cuda else _backward_blocks
        d_signals, d_kernels = backward(
            dy, signals, kernel_f, ctx.n, need_signals, need_kernels or need_skip
        )
        d_skip = d_kernels[0, :, 0] if need_skip else None  # the skip is tap 0 of kernel 0
        d_gain = None
        if gain is not None and (need_signals or need_gain):
            d_u = None if d_signals is None else d_signals[:, 0]
            d_gain = product_term_grads(dy, signals[:, 0], gain, d_u)
        return d_signals, d_kernels if need_kernels else None, d_gain, d_skip


def causal_fft_conv(
    signals: torch.Tensor,
    kernels: torch.Tensor,
    product_gain: torch.Tensor | None = None,
    *,
    skip: torch.Tensor | None = None,
) -> torch.Tensor:
    """``y[b, h, t] = sum_q sum_{j<=t} kernels[q, h, t-j] signals[b, q, h, j]``.

    Parameters
    ----------
    signals : tensor of shape (B, Q, H, L)
    kernels : tensor of shape (Q, H, L)
    product_gain : tensor of shape (H,), optional
        Also adds the degree-2 liquid PB term ``product_gain[h] u[t-1] tanh(u[t])`` of
        ``u = signals[:, 0]`` (as :func:`sslearn.nn.functional.product_term`),
        inside the same op. Meant for the CPU (CUDA callers use the chunked kernel).
    skip : tensor of shape (H,), optional
        Also adds ``skip[h] signals[b, 0, h, t]`` (the D skip), as tap 0 of the first kernel.

    Returns
    -------
    tensor of shape (B, H, L)
    """
    inputs = (signals, kernels, product_gain, skip)
    if torch.is_grad_enabled() and any(t is not None and t.requires_grad for t in inputs):
        return _CausalFFTConv.apply(signals, kernels, product_gain, skip)
    n = fft_length(signals.shape[-1], signals.device)
    return _convolve(signals, kernel_spectra(kernels, skip, n), product_gain, n)
