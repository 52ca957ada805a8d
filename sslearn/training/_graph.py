"""The whole training step captured in one CUDA graph (static shapes, device-resident data).

Eager small-batch training is launch-bound: a step of a 4-layer network is hundreds of small
kernels and the GPU idles between them. When the batch shape is static, the step (gather the
batch, forward, loss, backward, gradient clipping, AdamW) is recorded once and replayed, so a
step costs one launch. Requirements, all met by :class:`GraphedStep`:

- a fixed batch size: every epoch draws ``ceil(n / B)`` batches of exactly ``B`` rows from a
  permutation, the last batch wrapping around to its start (every series is seen each epoch);
- a fixed length: batches span the data's full (padded) window, with ``lengths`` for masks;
- device-resident inputs: only the batch's row index is copied in before each replay;
- AdamW with ``capturable=True`` and learning rates held in device tensors, which the
  schedule updates in place between replays.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable

import torch

from sslearn.training._batches import SeriesSet


def graph_supported(device: torch.device, uses_grad_scaler: bool) -> bool:
    """CUDA graphs are used on CUDA devices, without a gradient scaler (fp16 dynamic scaling
    makes host-side decisions every step)."""
    return device.type == "cuda" and not uses_grad_scaler


def make_capturable(optimizer: torch.optim.Optimizer, device: torch.device) -> None:
    """Switch ``optimizer`` (Adam/AdamW) to device-side step counts and tensor learning rates."""
    for group in optimizer.param_groups:
        group["capturable"] = True
        if not torch.is_tensor(group["lr"]):
            group["lr"] = torch.tensor(float(group["lr"]), device=device)
    for state in optimizer.state.values():
        if "step" in state and state["step"].device != device:
            state["step"] = state["step"].to(device)


class GraphedStep:
    """Replay one captured training step per batch.

    Parameters
    ----------
    network : torch.nn.Module
    loss_fn : callable
        ``loss_fn(outputs, targets) -> (B,)`` per-series losses.
    optimizer : torch.optim.Optimizer
        Made capturable by :func:`make_capturable`.
    data : SeriesSet
        Training series, already on the CUDA device.
    batch_size : int
    clip_grad_norm : float or None
    autocast : callable returning a context manager
        The precision's autocast context (bf16 or none).
    """

    def __init__(
        self,
        network: torch.nn.Module,
        loss_fn: Callable,
        optimizer: torch.optim.Optimizer,
        data: SeriesSet,
        batch_size: int,
        clip_grad_norm: float | None,
        autocast: Callable[[], contextlib.AbstractContextManager],
    ) -> None:
        self.network, self.loss_fn, self.optimizer = network, loss_fn, optimizer
        self.data, self.clip, self.autocast = data, clip_grad_norm, autocast
        self.batch_size = min(batch_size, len(data))
        device = data.values.device
        self.params = [p for p in network.parameters() if p.requires_grad]
        self.index = torch.zeros(self.batch_size, dtype=torch.long, device=device)
        self.loss_sum = torch.zeros((), device=device)
        self.graph: torch.cuda.CUDAGraph | None = None
        self._eager_steps = 0

    @property
    def n_batches(self) -> int:
        return -(-len(self.data) // self.batch_size)

    def _body(self) -> None:
        data, index = self.data, self.index
        x = data.values.index_select(0, index)
        lengths = None if data.equal_length else data.lengths.index_select(0, index)
        with self.autocast():
            outputs = self.network(x, lengths)
        losses = self.loss_fn(outputs.float(), data.targets.index_select(0, index))
        if data.weights is not None:
            losses = losses * data.weights.index_select(0, index)
        losses.mean().backward()
        if self.clip is not None:
            torch.nn.utils.clip_grad_norm_(self.params, self.clip, foreach=True)
        self.optimizer.step()
        self.loss_sum.add_(losses.detach().sum())

    def epoch_indices(self, generator: torch.Generator | None) -> list[torch.Tensor]:
        """This epoch's batches: rows of a permutation, the last one wrapping around."""
        n = len(self.data)
        order = torch.randperm(n, generator=generator) if generator is not None else None
        if order is None:
            order = torch.arange(n)
        order = order.to(self.index.device, non_blocking=True)
        steps = torch.arange(self.n_batches * self.batch_size, device=self.index.device)
        return list(order[steps % n].view(self.n_batches, self.batch_size))

    def run(self, index: torch.Tensor) -> None:
        """One training step on the rows ``index``.

        The first two calls run eagerly on a side stream (library handles, Triton
        compilation and optimizer state get created); the third captures the step and every
        call replays it. Each call trains on its own batch exactly once.
        """
        self.index.copy_(index, non_blocking=True)
        if self.graph is None and self._eager_steps < 2:
            stream = torch.cuda.Stream()
            stream.wait_stream(torch.cuda.current_stream())
            with torch.cuda.stream(stream):
                self.optimizer.zero_grad(set_to_none=True)
                self._body()
            torch.cuda.current_stream().wait_stream(stream)
            self._eager_steps += 1
            return
        if self.graph is None:
            self.optimizer.zero_grad(set_to_none=True)
            graph = torch.cuda.CUDAGraph()
            with torch.cuda.graph(graph):
                self._body()
            self.graph = graph
        self.graph.replay()

    def take_loss_sum(self) -> torch.Tensor:
        """The summed loss since the last call, rescaled to one pass over the data."""
        total = self.loss_sum * (len(self.data) / (self.n_batches * self.batch_size))
        total = total.clone()
        self.loss_sum.zero_()
        return total
