"""The per-series training loss of one batch: augmentation, forward pass, loss (and mixup).

The eager step (:meth:`~sslearn.training._loop.Trainer.train_step`) and the CUDA-graph step
(:class:`~sslearn.training._graph.GraphedStep`) both call :func:`batch_losses`, so the two
train the same thing. It makes no host synchronisation and draws its randomness from
torch's default generators, so it can be captured in a CUDA graph.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Callable

import torch

from sslearn.training._augment import Augmentation, mix, mixup_pairs


def member_inputs(
    x: torch.Tensor, lengths: torch.Tensor | None, augment: Augmentation, n_members: int
) -> torch.Tensor:
    """``augment`` drawn independently for each of ``n_members`` ensemble members.

    With time gaps (``augment.gaps``) the members share one crop: the network reads the gaps
    of member 0 for all of them.

    Returns x augmented, of shape (B, C, L) for one member or (B, K, C, L) for K.
    """
    if n_members == 1:
        return augment.apply(x, lengths)
    if augment.gaps and augment.crop < 1:
        x = Augmentation(crop=augment.crop, gaps=True).apply(x, lengths)
        augment = dataclasses.replace(augment, crop=1.0)
    batch, channels, length = x.shape
    copies = x[:, None].expand(batch, n_members, channels, length).reshape(-1, channels, length)
    copy_lengths = None if lengths is None else lengths.repeat_interleave(n_members)
    return augment.apply(copies, copy_lengths).view(batch, n_members, channels, length)


def batch_losses(
    network: torch.nn.Module,
    loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    x: torch.Tensor,
    lengths: torch.Tensor | None,
    targets: torch.Tensor,
    *,
    augment: Augmentation | None = None,
    autocast: Callable[[], contextlib.AbstractContextManager] = contextlib.nullcontext,
) -> torch.Tensor:
    """Per-series losses (B,) of ``network`` on a training batch.

    Parameters
    ----------
    network : torch.nn.Module
        Maps ``(x, lengths)`` to outputs; an ensemble (``network.n_members`` > 1) also takes
        one input per member, (B, K, C, L).
    loss_fn : callable
        ``loss_fn(outputs, targets) -> (B,)``.
    x : tensor of shape (B, C, L)
    lengths : int tensor of shape (B,) or None
    targets : tensor of shape (B,) or (B, n_outputs)
    augment : Augmentation or None, default=None
        Series transforms (drawn per member) and mixup; with mixup the loss is
        ``lam * loss(out, t) + (1 - lam) * loss(out, t[perm])`` (Zhang et al., 2018).
    autocast : callable returning a context manager, default=contextlib.nullcontext
        Wraps the forward pass (mixed precision).

    Returns
    -------
    losses : float tensor of shape (B,)
    """
    pairs = None
    if augment is not None:
        if augment.resamples or augment.jitter > 0 or augment.scale > 0:
            x = member_inputs(x, lengths, augment, getattr(network, "n_members", 1))
        if augment.mixup > 0:
            pairs = mixup_pairs(x.shape[0], augment.mixup, x.device)
            x = mix(x, lengths, *pairs, gaps=augment.gaps)  # every member's pairs
    with autocast():
        outputs = network(x, lengths)
    outputs = outputs.float()
    losses = loss_fn(outputs, targets)
    if pairs is None:
        return losses
    perm, lam = pairs
    return lam * losses + (1 - lam) * loss_fn(outputs, targets[perm])
