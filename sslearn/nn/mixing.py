"""The channel-mixing layers of :mod:`sslearn.nn.network`: linear maps and normalisations
that respect padding, for one network or an ensemble of K members trained as one network.

The SSM layers act on each channel on its own, so K members of width H are one layer of
K·H channels. Only the mixing layers (encoder, the blocks' output projection, the norms, the
convolutional stem and the head) would couple channels; here they act within each member's
block of channels and never across. A member's weights are rows ``k * out : (k + 1) * out``
of each parameter, so with one member every module has the same parameters (and
state-dict shapes) as its plain ``torch.nn`` counterpart.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from sslearn.nn.functional import length_mask

__all__ = [
    "NORMS",
    "ChannelLayerNorm",
    "GroupedLinear",
    "MaskedBatchNorm",
    "make_norm",
    "member_index",
]


class GroupedLinear(nn.Module):
    """K independent linear maps on the channel axis of (B, K·in, L) or (B, K·in).

    Member ``k`` maps channels ``k*in : (k+1)*in`` to channels ``k*out : (k+1)*out``
    (a block-diagonal weight; a 1x1 convolution with ``groups=K``).

    Parameters
    ----------
    in_features, out_features : int
        Per member.
    n_groups : int, default=1
        Members K. With 1 the module is ``nn.Linear(in_features, out_features)`` applied on
        the channel axis (same parameters, initialisation and results).

    Attributes
    ----------
    weight : tensor of shape (K * out_features, in_features)
    bias : tensor of shape (K * out_features,)
    """

    def __init__(self, in_features: int, out_features: int, n_groups: int = 1) -> None:
        super().__init__()
        self.in_features, self.out_features, self.n_groups = in_features, out_features, n_groups
        self.weight = nn.Parameter(torch.empty(n_groups * out_features, in_features))
        self.bias = nn.Parameter(torch.empty(n_groups * out_features))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """``nn.Linear``'s initialisation (uniform in ±1/sqrt(in_features)), per member."""
        nn.init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        bound = 1 / math.sqrt(self.in_features)
        nn.init.uniform_(self.bias, -bound, bound)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, " + (
            f"n_groups={self.n_groups}"
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, K·in, L) -> (B, K·out, L), or (B, K·in) -> (B, K·out)."""
        if x.ndim == 2:
            return self.forward(x[..., None])[..., 0]
        if self.n_groups == 1:  # (B, in, L) -> (B, L, in) @ W^T -> (B, out, L)
            return nn.functional.linear(x.transpose(1, 2), self.weight, self.bias).transpose(1, 2)
        return nn.functional.conv1d(x, self.weight[..., None], self.bias, groups=self.n_groups)


def member_index(n_rows: int, n_groups: int, member: int, n_directions: int = 1) -> torch.Tensor:
    """Rows of member ``member`` in a per-channel tensor of ``n_rows`` rows.

    Rows are laid out as ``[direction][member][channel]``: a tensor of K·H rows holds the
    members one after the other; one of 2·K·H rows (the SSM core of a bidirectional layer)
    holds the forward systems of all members, then their backward systems.
    """
    if n_rows % (n_groups * n_directions):
        raise ValueError(f"{n_rows} rows do not split into {n_directions} x {n_groups} members")
    per_direction = n_rows // n_directions
    width = per_direction // n_groups
    starts = [d * per_direction + member * width for d in range(n_directions)]
    return torch.cat([torch.arange(start, start + width) for start in starts])


NORMS = ("layer", "batch")


class ChannelLayerNorm(nn.LayerNorm):
    """LayerNorm over H for inputs of shape (B, K·H, L) (each time step on its own).

    With ``n_groups=K`` > 1 each member's block of H channels is normalised on its own (an
    ensemble trained as one network, see the module docstring); the affine parameters
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

    In a data-parallel fit each process holds a share of every batch; with
    :attr:`synchronised` set (by the data-parallel trainer) and a process group running, the
    training statistics are those of the whole batch (sums all-reduced across the
    processes, gradients included), so the fit follows the one-device fit.
    """

    #: all-reduce the training statistics across the default process group
    synchronised: bool = False

    def _synchronise(self) -> bool:
        return (
            self.synchronised
            and torch.distributed.is_available()
            and torch.distributed.is_initialized()
        )

    def forward(self, x: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        synchronise = self.training and self._synchronise()
        if not self.training or (lengths is None and not synchronise):
            return super().forward(x)
        if lengths is None:
            weight = x.new_ones(x.shape[0], 1, x.shape[-1])
        else:
            weight = length_mask(lengths, x.shape[-1])[:, None, :].to(x.dtype)  # (B, 1, L)
        if synchronise:
            mean, var, count = _global_moments(x, weight)
        else:
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


class _SumAcrossProcesses(torch.autograd.Function):
    """All-reduce (sum) over the default process group; the gradient is summed likewise
    (every process's loss depends on every process's input)."""

    @staticmethod
    def forward(ctx, tensor: torch.Tensor) -> torch.Tensor:
        total = tensor.clone()
        torch.distributed.all_reduce(total)
        return total

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> torch.Tensor:
        total = grad.clone()
        torch.distributed.all_reduce(total)
        return total


def _global_moments(
    x: torch.Tensor, weight: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Mean and (biased) variance per channel of the weighted steps of every process's x,
    and their count: one differentiable all-reduce of the sums."""
    n_channels = x.shape[1]
    sums = torch.cat(
        [
            (x * weight).sum(dim=(0, 2)),
            (x * x * weight).sum(dim=(0, 2)),
            weight.sum().reshape(1),
        ]
    )
    sums = _SumAcrossProcesses.apply(sums)
    count = sums[-1].clamp(min=1.0)
    mean = sums[:n_channels] / count
    var = (sums[n_channels : 2 * n_channels] / count - mean**2).clamp(min=0.0)
    return mean, var, count


def make_norm(norm: str, d_model: int, n_groups: int = 1) -> nn.Module:
    """``"layer"`` -> :class:`ChannelLayerNorm`, ``"batch"`` -> :class:`MaskedBatchNorm`
    (per channel, so K groups of H channels are K·H channels)."""
    if norm == "layer":
        return ChannelLayerNorm(d_model, n_groups)
    if norm == "batch":
        return MaskedBatchNorm(n_groups * d_model)
    raise ValueError(f"unknown norm {norm!r}; use one of {NORMS}")
