"""Causal FFT convolution of several signals with several kernels, one inverse FFT.

``y = sum_q K_q * s_q`` (causal, zero-padded to ``2L``) as one autograd op with a hand-written
backward: it saves only the signals and the kernels' spectra, and recomputes the signals'
spectra in backward, so no ``(B, H, L+1)`` complex tensor outlives the forward pass.
"""

from __future__ import annotations

import torch


class _CausalFFTConv(torch.autograd.Function):
    @staticmethod
    def forward(ctx, signals, kernels):
        # signals: (B, Q, H, L); kernels: (Q, H, L)
        length = signals.shape[-1]
        n = 2 * length
        kernel_f = torch.fft.rfft(kernels, n=n)  # (Q, H, n/2+1)
        spectrum = torch.fft.rfft(signals, n=n) * kernel_f  # (B, Q, H, n/2+1)
        spectrum = spectrum[:, 0] if spectrum.shape[1] == 1 else spectrum.sum(1)
        ctx.save_for_backward(signals, kernel_f)
        return torch.fft.irfft(spectrum, n=n)[..., :length]

    @staticmethod
    def backward(ctx, dy):
        signals, kernel_f = ctx.saved_tensors
        length = signals.shape[-1]
        n = 2 * length
        dy_f = torch.fft.rfft(dy, n=n)[:, None]  # (B, 1, H, n/2+1)
        d_signals = d_kernels = None
        if ctx.needs_input_grad[0]:
            d_signals = torch.fft.irfft(dy_f * kernel_f.conj(), n=n)[..., :length]
        if ctx.needs_input_grad[1]:
            cross = (torch.fft.rfft(signals, n=n).conj() * dy_f).sum(0)  # (Q, H, n/2+1)
            d_kernels = torch.fft.irfft(cross, n=n)[..., :length]
        return d_signals, d_kernels


def causal_fft_conv(signals: torch.Tensor, kernels: torch.Tensor) -> torch.Tensor:
    """``y[b, h, t] = sum_q sum_{j<=t} kernels[q, h, t-j] signals[b, q, h, j]``.

    Parameters
    ----------
    signals : tensor of shape (B, Q, H, L)
    kernels : tensor of shape (Q, H, L)

    Returns
    -------
    tensor of shape (B, H, L)
    """
    return _CausalFFTConv.apply(signals, kernels)
