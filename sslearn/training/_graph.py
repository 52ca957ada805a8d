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

In a data-parallel fit each rank captures its share of every batch, and an ``after_backward``
hook (one all-reduce of a flat gradient buffer, see
:class:`~sslearn.training._distributed.FlatGradients`) runs inside the graph between the
backward pass and gradient clipping.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable

import torch

from sslearn.training._augment import Augmentation
from sslearn.training._batches import SeriesSet, batch_losses, n_batches


def batch_share(batch_size: int, ranks: int, rank: int) -> slice:
    """The rows of a batch that rank ``rank`` of ``ranks`` trains on.

    The parts are those of ``torch.tensor_split``: contiguous, the first
    ``batch_size % ranks`` of them one row longer.

    Parameters
    ----------
    batch_size : int
        Rows of the whole batch.
    ranks : int
        Processes sharing the batch.
    rank : int
        This process, ``0 <= rank < ranks``.

    Returns
    -------
    slice
    """
    size, extra = divmod(batch_size, ranks)
    start = rank * size + min(rank, extra)
    return slice(start, start + size + int(rank < extra))


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
    ranks : int, default=1
        Processes sharing every batch (data parallelism). This one trains on its
        :func:`batch_share` of each batch, with the loss sum scaled by ``ranks / batch_size``,
        so that averaging the ranks' gradients gives the gradient of the batch's mean loss.
    rank : int, default=0
        This process's rank.
    after_backward : callable, optional
        Called with no arguments after the backward pass, before gradient clipping and the
        optimiser step (e.g. an all-reduce of the gradients); captured with the step.
    augment : Augmentation, optional
        Training-time augmentation, drawn anew at every replay (see :func:`batch_losses`).
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
        *,
        ranks: int = 1,
        rank: int = 0,
        after_backward: Callable[[], None] | None = None,
        augment: Augmentation | None = None,
    ) -> None:
        self.network, self.loss_fn, self.optimizer = network, loss_fn, optimizer
        self.augment = augment
        self.data, self.clip, self.autocast = data, clip_grad_norm, autocast
        self.after_backward = after_backward
        self.batch_size = min(batch_size, len(data))
        self.share = batch_share(self.batch_size, ranks, rank)
        self.loss_scale = ranks / self.batch_size
        device = data.values.device
        self.params = [p for p in network.parameters() if p.requires_grad]
        rows = self.share.stop - self.share.start
        self.index = torch.zeros(rows, dtype=torch.long, device=device)
        self.loss_sum = torch.zeros((), device=device)
        self.graph: torch.cuda.CUDAGraph | None = None
        self._eager_steps = 0

    @property
    def n_batches(self) -> int:
        """Steps per epoch: as many as the eager loop's (:func:`n_batches`)."""
        return n_batches(len(self.data), self.batch_size)

    def _body(self) -> None:
        data, index = self.data, self.index
        x = data.values.index_select(0, index)
        lengths = None if data.equal_length else data.lengths.index_select(0, index)
        targets = data.targets.index_select(0, index)
        losses = batch_losses(
            self.network, self.loss_fn, x, lengths, targets, augment=self.augment,
            autocast=self.autocast,
        )  # fmt: skip
        if data.weights is not None:
            losses = losses * data.weights.index_select(0, index)
        (losses.sum() * self.loss_scale).backward()
        if self.after_backward is not None:
            self.after_backward()
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

    def eager_step(self, index: torch.Tensor) -> None:
        """The step on the batch ``index`` without a graph (on the current stream; any device).

        This rank's share of ``index`` (a whole batch, as from :meth:`epoch_indices`) is
        copied into the step's static index first.
        """
        self.index.copy_(index[self.share], non_blocking=True)
        self.optimizer.zero_grad(set_to_none=True)
        self._body()

    def run(self, index: torch.Tensor) -> None:
        """One training step on the batch ``index`` (this rank's share of it).

        The first two calls run eagerly on a side stream (library handles, Triton
        compilation, optimizer state and, with a collective in ``after_backward``, the NCCL
        communicator get created); the third captures the step and every call replays it.
        Each call trains on its own batch exactly once.
        """
        if self.graph is None and self._eager_steps < 2:
            stream = torch.cuda.Stream()
            stream.wait_stream(torch.cuda.current_stream())
            with torch.cuda.stream(stream):
                self.eager_step(index)
            torch.cuda.current_stream().wait_stream(stream)
            self._eager_steps += 1
            return
        self.index.copy_(index[self.share], non_blocking=True)
        if self.graph is None:
            self.graph = self._capture()
        self.graph.replay()

    def _capture(self) -> torch.cuda.CUDAGraph:
        """Record the step (gradients are allocated in the graph's memory pool).

        With an ``after_backward`` hook (a collective) other threads must stay free to query
        events while this one captures (the NCCL watchdog polls the warm-up steps' work), so
        the capture only checks this thread's CUDA calls.
        """
        self.optimizer.zero_grad(set_to_none=True)
        mode = "global" if self.after_backward is None else "thread_local"
        graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(graph, capture_error_mode=mode):
            self._body()
        return graph

    def take_loss_sum(self) -> torch.Tensor:
        """The summed loss since the last call, rescaled to one pass over the data."""
        total = self.loss_sum * (len(self.data) / (self.n_batches * self.batch_size))
        total = total.clone()
        self.loss_sum.zero_()
        return total
