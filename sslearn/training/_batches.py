"""Series held as tensors, cut into batches without a DataLoader, and batched inference.

The batch geometry lives here, once: :func:`n_batches` and :func:`batch_bounds` give the
balanced batches of an epoch, which the eager loop, the data-parallel ranks and the CUDA-graph
step all use. A batch only spans the time steps its longest series needs
(``values[idx, :, :max(len)]``). Batch lengths are computed on the CPU from a host copy of
``lengths``, so training never waits for the device inside an epoch.
"""

from __future__ import annotations

import copy
import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace

import numpy as np
import torch

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
