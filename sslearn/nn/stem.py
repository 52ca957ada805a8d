"""A convolutional front end before the SSM blocks (the FCN of Wang et al., 2017).

The SSMs' kernels are smooth and decay slowly, so sharp local shapes of a series (the
outline of a leaf, the onset of a gesture) are hard for them to pick out. Three full
convolutions over the input channels (widths 8, 5 and 3, each followed by a batch norm and
a ReLU) extract such shapes first; :class:`~sslearn.nn.LiquidS4Network` hands them to its
encoder beside the raw input.
"""

from __future__ import annotations

import torch
from torch import nn

from sslearn.nn.functional import length_mask
from sslearn.nn.mixing import MaskedBatchNorm

__all__ = ["STEM_WIDTHS", "ConvStem"]

# the convolution widths of the FCN, first layer first
STEM_WIDTHS = (8, 5, 3)


def windows_times_weights(x: torch.Tensor, weight: torch.Tensor, groups: int) -> torch.Tensor:
    """``conv1d(x, weight, groups=groups)`` (stride 1, no padding, no bias) as unfold + einsum.

    x (B, G·Cin, L), weight (G·Cout, Cin, w) -> (B, G·Cout, L - w + 1).
    """
    windows = x.unfold(-1, weight.shape[-1], 1).unflatten(1, (groups, -1))  # (B, G, Cin, L', w)
    kernel = weight.unflatten(0, (groups, -1))  # (G, Cout, Cin, w)
    return torch.einsum("bgclw,gocw->bgol", windows, kernel).flatten(1, 2)


class ConvStem(nn.Module):
    """``relu(norm(conv(x)))`` three times on (B, K·C, L) -> (B, K·S, L).

    Parameters
    ----------
    d_input : int
        Input channels C (of each member).
    channels : int
        Output channels S of every convolution (of each member).
    n_members : int, default=1
        K independent stems side by side (grouped convolutions: member ``k`` reads input
        channels ``k*C : (k+1)*C`` and writes ``k*S : (k+1)*S``).
    causal : bool, default=True
        Step ``t`` reads steps ``t - w + 1 .. t`` (streamable, :meth:`step`); otherwise the
        window is centred (``(w - 1) // 2`` steps back), for bidirectional networks.
    widths : tuple of int, default=(8, 5, 3)

    Notes
    -----
    Every layer's input and output are zero past each series' length, and the batch norms'
    training statistics skip those steps (a masked batch norm), so
    in evaluation mode a series' output does not depend on how it was padded. The
    convolutions have no bias: the batch norm after each removes it, so its gradient would
    be rounding noise, which Adam scales up to full-size steps that the running mean then
    trails.
    """

    def __init__(
        self,
        d_input: int,
        channels: int,
        n_members: int = 1,
        *,
        causal: bool = True,
        widths: tuple[int, ...] = STEM_WIDTHS,
    ) -> None:
        super().__init__()
        self.d_input, self.channels, self.n_members = d_input, channels, n_members
        self.causal, self.widths = causal, tuple(widths)
        inputs = [d_input] + [channels] * (len(self.widths) - 1)
        self.convs = nn.ModuleList(
            nn.Conv1d(n_members * c, n_members * channels, w, groups=n_members, bias=False)
            for c, w in zip(inputs, self.widths, strict=True)
        )
        self.norms = nn.ModuleList(MaskedBatchNorm(n_members * channels) for _ in self.widths)

    def _padding(self, width: int) -> tuple[int, int]:
        before = width - 1 if self.causal else (width - 1) // 2
        return before, width - 1 - before

    def forward(self, x: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        """(B, K·C, L) -> (B, K·S, L).

        Each convolution is computed as its windows times its weights (one batched matrix
        product): for these small shapes cuDNN's convolution kernels made a training epoch
        about four times slower on an H100 (``benchmarks/profile_fit_stem.py``).
        """
        valid = None if lengths is None else length_mask(lengths, x.shape[-1])[:, None, :]
        if valid is not None:
            x = x * valid
        for conv, norm, width in zip(self.convs, self.norms, self.widths, strict=True):
            padded = nn.functional.pad(x, self._padding(width))
            z = windows_times_weights(padded, conv.weight, self.n_members)
            x = torch.relu(norm(z, lengths))
            if valid is not None:
                x = x * valid
        return x

    def initial_state(self, batch_size: int) -> list[torch.Tensor]:
        """Each layer's last ``w - 1`` inputs: zeros, as the padding of :meth:`forward`."""
        weight = self.convs[0].weight
        return [
            weight.new_zeros(batch_size, conv.in_channels, width - 1)
            for conv, width in zip(self.convs, self.widths, strict=True)
        ]

    def step(
        self, x_t: torch.Tensor, state: list[torch.Tensor]
    ) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """One streaming step (B, K·C) -> (B, K·S) of a causal stem (evaluation mode)."""
        if not self.causal:
            raise RuntimeError("a centred (non-causal) stem cannot run step by step")
        new_state = []
        for conv, norm, window in zip(self.convs, self.norms, state, strict=True):
            window = torch.cat([window, x_t[..., None]], dim=-1)  # (B, K·in, w)
            z = windows_times_weights(window, conv.weight, self.n_members)
            x_t = torch.relu(norm(z)).squeeze(-1)
            new_state.append(window[..., 1:])
        return x_t, new_state
