"""Normalisation over the channel axis of (B, H, L) sequences that respects padding."""

from __future__ import annotations

import torch
from torch import nn

NORMS = ("layer", "batch")


class ChannelLayerNorm(nn.LayerNorm):
    """LayerNorm over H for inputs of shape (B, K·H, L) (each time step on its own).

    With ``n_groups=K`` > 1 each member's block of H channels is normalised on its own (an
    ensemble trained as one network, see :mod:`sslearn.nn.grouped`); the affine parameters
    have K·H entries, so one group is exactly ``nn.LayerNorm(H)``.
    """

    def __init__(self, d_model: int, n_groups: int = 1) -> None:
        super().__init__(n_groups * d_model)
        self.d_model, self.n_groups = d_model, n_groups

    def forward(self, x: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        if self.n_groups == 1:
            return super().forward(x.transpose(1, 2)).transpose(1, 2)
        batch, _, length = x.shape
        z = x.transpose(1, 2).reshape(batch, length, self.n_groups, self.d_model)
        z = nn.functional.layer_norm(z, (self.d_model,), eps=self.eps).flatten(2)  # (B, L, KH)
        return (z * self.weight + self.bias).transpose(1, 2)


class MaskedBatchNorm(nn.BatchNorm1d):
    """BatchNorm1d over (B, H, L) whose training statistics skip padding steps.

    With ``lengths=None`` it is exactly ``nn.BatchNorm1d``. In evaluation mode the running
    statistics are used, so a series' output never depends on how it was padded.
    """

    def forward(self, x: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        if lengths is None or not self.training:
            return super().forward(x)
        valid = torch.arange(x.shape[-1], device=x.device)[None, :] < lengths[:, None]
        weight = valid[:, None, :].to(x.dtype)  # (B, 1, L)
        count = weight.sum().clamp(min=1.0)
        mean = (x * weight).sum(dim=(0, 2)) / count
        var = (((x - mean[None, :, None]) ** 2) * weight).sum(dim=(0, 2)) / count
        if self.track_running_stats:
            with torch.no_grad():
                m = self.momentum if self.momentum is not None else 0.1
                unbiased = var * count / (count - 1).clamp(min=1.0)
                self.running_mean.lerp_(mean, m)
                self.running_var.lerp_(unbiased, m)
                self.num_batches_tracked += 1
        out = (x - mean[None, :, None]) / torch.sqrt(var[None, :, None] + self.eps)
        if self.affine:
            out = out * self.weight[None, :, None] + self.bias[None, :, None]
        return out


def make_norm(norm: str, d_model: int, n_groups: int = 1) -> nn.Module:
    """``"layer"`` -> :class:`ChannelLayerNorm`, ``"batch"`` -> :class:`MaskedBatchNorm`
    (per channel, so K groups of H channels are K·H channels)."""
    if norm == "layer":
        return ChannelLayerNorm(d_model, n_groups)
    if norm == "batch":
        return MaskedBatchNorm(n_groups * d_model)
    raise ValueError(f"unknown norm {norm!r}; use one of {NORMS}")
