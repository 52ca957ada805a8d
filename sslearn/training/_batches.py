"""Series held as tensors, cut into batches without a DataLoader, and batched inference.

The batch geometry lives here, once: :func:`n_batches` and :func:`batch_bounds` give the
balanced batches of an epoch, which the eager loop, the data-parallel ranks and the CUDA-graph
step all use. A batch only spans the time steps its longest series needs
(``values[idx, :, :max(len)]``). Batch lengths are computed on the CPU from a host copy of
``lengths``, so training never waits for the device inside an epoch.

:func:`batch_losses` is the per-series training loss of one batch: augmentation, forward
pass, loss (and mixup). The eager step (:meth:`~sslearn.training._loop.Trainer.train_step`)
and the CUDA-graph step (:class:`~sslearn.training._graph.GraphedStep`) both call it, so the
two train the same thing. It makes no host synchronisation and draws its randomness from
torch's default generators, so it can be captured in a CUDA graph.
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace

import numpy as np
import torch

from sslearn.training._augment import Augmentation, mix, mixup_pairs
from sslearn.training._device import Precision


def n_batches(n: int, batch_size: int) -> int:
    """Batches per pass over ``n`` series: ``ceil(n / batch_size)``, at least 1.

    Parameters
    ----------
    n : int
        Number of series.
    batch_size : int
        Most series per batch.

    Returns
    -------
    int
    """
    return max(1, -(-n // batch_size))


def batch_bounds(n: int, batch_size: int) -> np.ndarray:
    """Boundaries of the :func:`n_batches` balanced batches of a pass over ``n`` series.

    Batch ``i`` holds rows ``bounds[i]:bounds[i + 1]`` of the epoch's order. Sizes differ
    by at most one, so there is no small remainder batch (a lone series would break
    BatchNorm, which needs two).

    Parameters
    ----------
    n : int
        Number of series.
    batch_size : int
        Most series per batch.

    Returns
    -------
    ndarray of int of shape (n_batches + 1,)
        From 0 to ``n``.
    """
    return np.linspace(0, n, n_batches(n, batch_size) + 1).round().astype(int)


@dataclass
class SeriesSet:
    """Series, their lengths and (for training) targets and sample weights.

    Attributes
    ----------
    values : float tensor of shape (n_samples, n_channels, n_timepoints)
        Zero at padding steps.
    lengths : int64 tensor of shape (n_samples,)
    targets : tensor of shape (n_samples,) or (n_samples, n_outputs), optional
    weights : float tensor of shape (n_samples,), optional
    """

    values: torch.Tensor
    lengths: torch.Tensor
    targets: torch.Tensor | None = None
    weights: torch.Tensor | None = None

    def __post_init__(self) -> None:
        self.lengths_cpu = self.lengths.detach().to("cpu")
        self.full_length = self.values.shape[-1]
        self.equal_length = bool((self.lengths_cpu == self.full_length).all())

    @classmethod
    def from_numpy(
        cls,
        values: np.ndarray,
        lengths: np.ndarray,
        targets: np.ndarray | None = None,
        weights: np.ndarray | None = None,
    ) -> SeriesSet:
        """Copy numpy arrays into CPU tensors (float32 values, int64 lengths)."""

        def tensor(array, dtype=None):
            return None if array is None else torch.tensor(np.asarray(array), dtype=dtype)

        return cls(
            tensor(values, torch.float32),
            tensor(lengths, torch.int64),
            tensor(targets),
            tensor(weights, torch.float32),
        )

    def __len__(self) -> int:
        return self.values.shape[0]

    def to(self, device: torch.device) -> SeriesSet:
        """The same set on ``device`` (one copy per tensor)."""

        def move(tensor):
            return None if tensor is None else tensor.to(device)

        return replace(
            self,
            values=move(self.values),
            lengths=move(self.lengths),
            targets=move(self.targets),
            weights=move(self.weights),
        )

    def subset(self, index: np.ndarray | torch.Tensor) -> SeriesSet:
        """Rows ``index`` (a CPU index, applied on the set's own device)."""
        index = torch.as_tensor(index, dtype=torch.long).to(self.values.device)

        def take(tensor):
            return None if tensor is None else tensor[index]

        return replace(
            self,
            values=self.values[index],
            lengths=self.lengths[index],
            targets=take(self.targets),
            weights=take(self.weights),
        )

    def batch(self, index_cpu: torch.Tensor, index: torch.Tensor | None = None) -> tuple:
        """``(x, lengths_or_None, targets, weights)`` for the rows ``index_cpu``.

        ``index`` is the same index already on the set's device (saves a copy per batch).
        Lengths are dropped (None) when every series of the batch spans the whole window.
        """
        if index is None:
            index = index_cpu.to(self.values.device)
        batch_lengths = self.lengths_cpu[index_cpu]
        length = int(batch_lengths.max()) if not self.equal_length else self.full_length
        x = self.values[index, :, :length]
        lengths = None if int(batch_lengths.min()) == length else self.lengths[index]
        targets = None if self.targets is None else self.targets[index]
        weights = None if self.weights is None else self.weights[index]
        return x, lengths, targets, weights

    def batches(self, batch_size: int, generator: torch.Generator | None = None) -> Iterator[tuple]:
        """Batches of nearly equal size, shuffled when a CPU ``generator`` is given.

        The batches are those of :func:`batch_bounds`. Without a generator the order is by
        length (long first) when lengths differ, which keeps padding small at inference.
        """
        n = len(self)
        if generator is not None:
            order = torch.randperm(n, generator=generator)
        elif self.equal_length:
            order = torch.arange(n)
        else:
            order = torch.argsort(self.lengths_cpu, descending=True, stable=True)
        order_device = order.to(self.values.device, non_blocking=True)
        for start, stop in itertools.pairwise(batch_bounds(n, batch_size)):
            yield order[start:stop], self.batch(order[start:stop], order_device[start:stop])


@torch.no_grad()
def predict_outputs(
    network: torch.nn.Module,
    data: SeriesSet,
    *,
    device: torch.device,
    batch_size: int,
    precision: Precision,
    transform: Callable[[torch.Tensor], torch.Tensor] | None = None,
    dtype: torch.dtype = torch.float32,
) -> torch.Tensor:
    """Network outputs for every series of ``data`` (in its order), as a CPU tensor.

    Batches are copied to ``device`` one at a time, so ``data`` may live on the CPU.
    ``transform`` is applied to each batch of outputs on the device (e.g. a softmax).
    With ``dtype=torch.float64`` a float64 copy of the network computes the outputs (no
    autocast): slower, but each series' result no longer depends on the other series of its
    batch, which float32 matrix products do in the last bit.
    """
    if dtype != torch.float32:
        network = copy.deepcopy(network).to(dtype)
        precision = Precision("64", None, False)
    network.eval()
    outputs, rows = [], []
    for index_cpu, (x, lengths, _, _) in data.batches(batch_size):
        x = x.to(device, dtype=dtype, non_blocking=True)
        lengths = None if lengths is None else lengths.to(device, non_blocking=True)
        with precision.autocast(device):
            out = network(x, lengths).to(dtype)
        outputs.append(out if transform is None else transform(out))
        rows.append(index_cpu)
    result = torch.cat(outputs).cpu()
    order = torch.cat(rows)
    inverse = torch.empty_like(order)
    inverse[order] = torch.arange(len(order))
    return result[inverse]


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
