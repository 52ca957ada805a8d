"""Data-parallel training: one fit run by ``k`` processes with ``torch.distributed`` DDP.

The estimator's process (the parent) never trains and never touches CUDA. It writes the job
(network, data, settings) to a private temporary directory, serves a ``TCPStore`` on an
ephemeral port of 127.0.0.1 (the kernel picks a free one, so concurrent fits never collide),
and spawns ``k`` ranks with :func:`torch.multiprocessing.start_processes`. Rank ``r`` trains on
``cuda:r`` with NCCL, or on the CPU with gloo.

Every rank draws the same shuffled batches as a one-device run (same generator state) and
trains on a contiguous ``1/k`` share of each batch; the loss is scaled by ``k / batch`` so
that DDP's gradient average is the gradient of the whole batch's mean loss. Gradient clipping,
AdamW, the schedule and early stopping then act on identical numbers on every rank, so the
run follows the one-device run up to floating-point reduction order.

On CUDA ranks with CUDA graphs on (the one-device rule: ``SSLEARN_CUDA_GRAPHS`` not ``0``, no
fp16 gradient scaler), each rank captures its whole step in a CUDA graph, as one device does
(:class:`~sslearn.training._graph.GraphedStep`: fixed-size batches that wrap around, so the
run follows the one-device *graphed* run). DDP's autograd hooks cannot be captured, so the
network is not wrapped: after the backward pass the gradients are averaged by one all-reduce
of a flat buffer (:class:`FlatGradients`), captured with the step, before clipping and AdamW.
Elsewhere (gloo on the CPU, graphs off) the ranks run eager steps under DDP.

Rank 0 evaluates the validation split, and its numbers are shared. Every rank runs the
callbacks (early stopping, the progress bar on rank 0 only, the user's) on the same numbers,
and the ranks stop together when a callback on any of them asks to. Rank 0 writes the trained
state, the history and its callbacks back for the parent, which copies the callbacks'
attributes into its own. A rank that raises
writes its exception; the parent re-raises the earliest one with a note naming its rank and
device, and stops and joins every process before returning or raising.
"""

from __future__ import annotations

import copy
import datetime
import itertools
import os
import pickle
import shutil
import sys
import tempfile
import time
import traceback
import warnings
from dataclasses import dataclass

import numpy as np
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from sslearn.nn.mixing import MaskedBatchNorm
from sslearn.training._batches import SeriesSet, batch_bounds
from sslearn.training._callbacks import Callback, TrainingState
from sslearn.training._graph import batch_share
from sslearn.training._loop import NonFiniteLossError, Trainer, TrainingConfig, TrainingResult

_TIMEOUT = datetime.timedelta(minutes=10)  # rendezvous and collectives
_GRACE_SECONDS = 3.0  # after one rank fails, time the others get to exit on their own


@dataclass
class _Job:
    """Everything a rank needs, saved once by the parent and loaded by every rank."""

    network: torch.nn.Module
    loss_fn: object
    score_fn: object
    train_set: SeriesSet
    valid_set: SeriesSet | None
    config: TrainingConfig
    generator_state: torch.Tensor
    seed: int
    optimizer_state: dict | None
    first_epoch: int
    devices: list[torch.device]
    callbacks: list[Callback] | None


class FlatGradients:
    """Average gradients over the ranks with one all-reduce of one flat buffer per dtype.

    Unlike DDP's autograd hooks, this can be captured in a CUDA graph: the buffers are
    allocated once, and a step is a copy of the gradients into them, a division by the
    number of ranks, one collective per buffer and a copy back. A parameter without a
    gradient contributes zeros and keeps ``grad=None``.

    Parameters
    ----------
    params : iterable of torch.Tensor
        The trained parameters (on this rank's device).
    group : ProcessGroup, optional
        The ranks to average over (default: the whole world).
    """

    def __init__(self, params, group=None) -> None:
        self.group = group
        self.buckets: list[tuple[list[torch.Tensor], torch.Tensor, list[torch.Tensor]]] = []
        params = list(params)
        for dtype in dict.fromkeys(p.dtype for p in params):
            members = [p for p in params if p.dtype == dtype]
            buffer = torch.zeros(
                sum(p.numel() for p in members), dtype=dtype, device=members[0].device
            )
            parts = buffer.split([p.numel() for p in members])
            views = [part.view_as(p) for part, p in zip(parts, members, strict=True)]
            self.buckets.append((members, buffer, views))

    def pack(self) -> None:
        """Copy every gradient into its view of the buffers (zeros where there is none)."""
        for params, _, views in self.buckets:
            grads, slots = _with_grad(params, views)
            if grads:
                torch._foreach_copy_(slots, grads)
            for view, param in zip(views, params, strict=True):
                if param.grad is None:
                    view.zero_()

    def unpack(self) -> None:
        """Copy the buffers back into the gradients."""
        for params, _, views in self.buckets:
            grads, slots = _with_grad(params, views)
            if grads:
                torch._foreach_copy_(grads, slots)

    def all_reduce(self) -> None:
        """Replace every gradient by its mean over the ranks."""
        self.pack()
        world = dist.get_world_size(self.group)
        for _, buffer, _ in self.buckets:
            buffer.div_(world)  # as DDP: divide, then sum
            dist.all_reduce(buffer, group=self.group)
        self.unpack()


def _with_grad(params, views) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
    """The gradients that exist among ``params``, and their views of a flat buffer."""
    pairs = [(p.grad, v) for p, v in zip(params, views, strict=True) if p.grad is not None]
    return [grad for grad, _ in pairs], [view for _, view in pairs]


class DistributedTrainer(Trainer):
    """A :class:`~sslearn.training._loop.Trainer` for one rank of a data-parallel run.

    ``network`` is the plain module, already on ``device``; the data are the whole training
    set, of which this rank takes its share of every batch. When the step is captured in a
    CUDA graph (:attr:`uses_graphs`) the gradients are averaged by :class:`FlatGradients`
    inside the graph; otherwise the network is wrapped in
    :class:`~torch.nn.parallel.DistributedDataParallel` and the steps run eagerly.
    """

    def __init__(self, network, loss_fn, config, device, generator, score_fn=None, callbacks=None):
        super().__init__(network, loss_fn, config, device, generator, score_fn, callbacks)
        self.rank, self.world = dist.get_rank(), dist.get_world_size()
        self.ranks = self.world
        self.module = network
        synchronise_batch_norms(network)  # whole-batch statistics, as one device
        if self.uses_graphs:
            self.after_backward = FlatGradients(self.params).all_reduce
        else:
            self.network = torch.nn.parallel.DistributedDataParallel(
                network, device_ids=[device.index] if device.type == "cuda" else None
            )

    def train_epoch(self, optimizer, schedule, data: SeriesSet) -> torch.Tensor:
        """The one-device epoch's batches, each split across the ranks; the summed loss."""
        if self.graphed is not None:  # the graphed step takes this rank's share itself
            total = super().train_epoch(optimizer, schedule, data)
        else:
            total = self._eager_epoch(optimizer, schedule, data)
        dist.all_reduce(total)
        return total

    def _eager_epoch(self, optimizer, schedule, data: SeriesSet) -> torch.Tensor:
        """This rank's loss sum over its shares of the one-device eager epoch's batches."""
        self.network.train()
        order = torch.randperm(len(data), generator=self.generator)
        total = torch.zeros((), device=self.device)
        starts = batch_bounds(len(data), self.config.batch_size).tolist()
        for start, stop in itertools.pairwise(starts):
            share = order[start:stop][batch_share(stop - start, self.world, self.rank)]
            x, lengths, targets, weights = data.batch(share)
            total = total + self.train_step(optimizer, x, lengths, targets, weights, stop - start)
            schedule.step()
        return total

    def evaluate(self, data: SeriesSet) -> tuple[torch.Tensor, torch.Tensor]:
        """Rank 0's validation loss and score, shared with every rank."""
        numbers = torch.zeros(2, device=self.device)
        if self.rank == 0:
            wrapped, self.network = self.network, self.module  # no collectives in eval
            try:
                numbers = torch.stack(super().evaluate(data)).float()
            finally:
                self.network = wrapped
        dist.all_reduce(numbers)  # zeros elsewhere: the sum is rank 0's numbers
        return numbers[0], numbers[1]

    def _should_stop(self, state: TrainingState) -> bool:
        """Stop on every rank when a callback on any rank asked to (ranks stop together)."""
        flag = torch.tensor(float(state.stopping), device=self.device)
        dist.all_reduce(flag, op=dist.ReduceOp.MAX)
        if flag.item():
            state.stop_training("callback")  # keeps this rank's own reason, if it has one
        return state.stopping


def train_distributed(
    network: torch.nn.Module,
    loss_fn,
    train_set: SeriesSet,
    valid_set: SeriesSet | None = None,
    *,
    devices: list[torch.device],
    config: TrainingConfig,
    generator: torch.Generator,
    seed: int,
    score_fn=None,
    optimizer_state: dict | None = None,
    first_epoch: int = 1,
    callbacks: list[Callback] | None = None,
) -> TrainingResult:
    """Train ``network`` (on the CPU) in ``len(devices)`` DDP processes, as :func:`train` would.

    The trained weights are loaded into ``network``, which stays on the CPU. Arguments are as
    for :func:`~sslearn.training.train`; ``devices`` (from
    :func:`~sslearn.training.rank_devices`) gives each rank's device, ``seed`` seeds each
    rank's dropout (``seed + rank``). ``loss_fn``, ``score_fn`` and ``callbacks`` must pickle
    (module-level functions, instances of importable classes). Each rank runs a copy of the
    callbacks; after the fit, every attribute of rank 0's copies is copied into
    ``callbacks`` (tensors on the CPU).

    Raises
    ------
    ValueError
        If a batch has fewer series than there are processes.
    Exception
        The earliest exception raised by a rank, with a note naming the rank and its device
        (:class:`RuntimeError` if it cannot be unpickled or the rank died without one).
    """
    n = len(devices)
    smallest = int(np.diff(batch_bounds(len(train_set), config.batch_size)).min())
    if smallest < n:
        raise ValueError(
            f"devices={n} splits every batch across {n} processes, but batch_size="
            f"{config.batch_size} on {len(train_set)} series gives batches of {smallest}; "
            "raise batch_size or lower devices."
        )
    if any(
        isinstance(m, torch.nn.modules.batchnorm._BatchNorm) and not isinstance(m, MaskedBatchNorm)
        for m in network.modules()
    ):  # ours all-reduce their statistics; another batch norm sees its process's share
        warnings.warn(
            f"batch normalisation with devices={n}: each process normalises its share of a "
            "batch with that share's statistics, so the fit differs from one device's",
            UserWarning,
            stacklevel=3,
        )
    backend = "nccl" if devices[0].type == "cuda" else "gloo"
    workdir = tempfile.mkdtemp(prefix="sslearn-ddp-")
    store = context = None
    try:
        job = _Job(
            network, loss_fn, score_fn, train_set, valid_set, config, generator.get_state(),
            seed, optimizer_state, first_epoch, devices, callbacks,
        )  # fmt: skip
        torch.save(job, os.path.join(workdir, "job.pt"))
        store = dist.TCPStore("127.0.0.1", 0, is_master=True, wait_for_workers=False)
        context = mp.start_processes(
            _run_rank,
            args=(workdir, store.port, n, backend),
            nprocs=n,
            join=False,
            start_method="spawn",
        )
        try:
            while not context.join(grace_period=_GRACE_SECONDS):
                pass
        except (mp.ProcessRaisedException, mp.ProcessExitedException) as failure:
            error = _rank_error(workdir, failure, devices, network)
            raise error from error.__cause__  # the rank's traceback, not torch's summary
        # never a user's file: each load here reads what a rank wrote to our private workdir
        path = os.path.join(workdir, "result.pt")
        output = torch.load(path, map_location="cpu", weights_only=False)
        network.load_state_dict(output["state"])
        _adopt(callbacks, output["callbacks"])
        return output["result"]
    finally:
        _stop(context)
        del store
        shutil.rmtree(workdir, ignore_errors=True)


def _adopt(callbacks: list[Callback] | None, copies: list[Callback] | None) -> None:
    """Give the caller's callbacks the attributes of rank 0's copies (what they recorded)."""
    if callbacks is None or copies is None:
        return
    for callback, copied in zip(callbacks, copies, strict=True):
        if hasattr(copied, "__dict__"):
            vars(callback).update(vars(copied))


def _stop(context) -> None:
    """Terminate and join every rank still running; remove torch's error files."""
    if context is None:
        return
    for process in context.processes:
        if process.is_alive():
            process.terminate()
    for process in context.processes:
        process.join(timeout=10)
        if process.is_alive():
            process.kill()
            process.join()
    for path in context.error_files:
        if path and os.path.exists(path):
            os.remove(path)


def _rank_error(workdir, failure, devices, network) -> BaseException:
    """The earliest exception a rank wrote, annotated; a RuntimeError when none can be read."""
    records = []
    for rank in range(len(devices)):
        path = os.path.join(workdir, f"error-{rank}.pkl")
        if os.path.exists(path):
            with open(path, "rb") as file:  # never a user's file: a rank's, in our workdir
                records.append(pickle.load(file))
    if not records:  # killed (signal, out of host memory) before it could write
        rank = failure.error_index
        return RuntimeError(
            f"rank {rank} of a devices={len(devices)} fit ({devices[rank]}) died: {failure}"
        )
    record = min(records, key=lambda r: r["time"])
    rank, where = record["rank"], f"{devices[record['rank']]}, pid {record['pid']}"
    try:
        error = pickle.loads(record["exception"])  # from a rank's record above, not a user's
    except Exception:
        error = RuntimeError(f"rank {rank} ({where}) raised:\n{record['traceback']}")
    else:
        error.__cause__ = _RemoteTraceback(record["traceback"])
    if hasattr(error, "add_note"):
        error.add_note(
            f"sslearn: raised in rank {rank} of a devices={len(devices)} data-parallel fit "
            f"({where}); the other ranks were stopped."
        )
    if isinstance(error, NonFiniteLossError):
        path = os.path.join(workdir, "result.pt")
        if os.path.exists(path):  # rank 0 kept the last finite epoch
            output = torch.load(path, weights_only=False)  # never a user's file: rank 0's
            network.load_state_dict(output["state"])
            error.result = output["result"]
    return error


class _RemoteTraceback(Exception):
    """The traceback of an exception raised in another process (shown as its cause)."""

    def __str__(self) -> str:
        return self.args[0]


def _run_rank(rank: int, workdir: str, port: int, world: int, backend: str) -> None:
    """Entry point of rank ``rank`` (a spawned process).

    A rank that trained to the end leaves through :func:`os._exit`, after flushing its
    streams: its work is on disk (rank 0's ``result.pt``) and its process group destroyed,
    and the interpreter's teardown (library destructors, gloo's threads) once aborted a rank
    of a finished CPU fit with ``terminate called without an active exception``.
    """
    try:
        _train_rank(rank, workdir, port, world, backend)
    except Exception as error:
        try:
            exception = pickle.dumps(error)
            pickle.loads(exception)
        except Exception:
            exception = None
        record = {
            "rank": rank,
            "pid": os.getpid(),
            "time": time.time(),
            "exception": exception,
            "traceback": traceback.format_exc(),
        }
        with open(os.path.join(workdir, f"error-{rank}.pkl"), "wb") as file:
            pickle.dump(record, file)
        raise
    for stream in (sys.stdout, sys.stderr):
        stream.flush()
    os._exit(0)


def _train_rank(rank: int, workdir: str, port: int, world: int, backend: str) -> None:
    # never a user's file: the job the parent process wrote to its private workdir
    job: _Job = torch.load(os.path.join(workdir, "job.pt"), weights_only=False)
    device = job.devices[rank]
    if device.type == "cuda":
        torch.cuda.set_device(device)
    else:
        torch.set_num_threads(max(1, (os.cpu_count() or 1) // world))
    store = dist.TCPStore("127.0.0.1", port, is_master=False, timeout=_TIMEOUT)
    dist.init_process_group(backend, store=store, rank=rank, world_size=world, timeout=_TIMEOUT)
    try:
        torch.manual_seed(job.seed + rank)  # dropout; this process is ours
        generator = torch.Generator().manual_seed(0)
        generator.set_state(job.generator_state)
        module = job.network.to(device)
        trainer = DistributedTrainer(
            module, job.loss_fn, job.config, device, generator, job.score_fn, job.callbacks
        )
        valid_set = None if job.valid_set is None else job.valid_set.to(device)
        try:
            result = trainer.run(
                job.train_set.to(device), valid_set, job.optimizer_state, job.first_epoch
            )
        except NonFiniteLossError as error:
            if rank == 0:
                _save_result(workdir, module, error.result)
            raise
        if rank == 0:
            _save_result(workdir, module, result, job.callbacks)
        dist.barrier()  # no rank tears its group down while another still talks to it
    finally:
        dist.destroy_process_group()


def synchronise_batch_norms(network: torch.nn.Module) -> None:
    """Set :attr:`~sslearn.nn.mixing.MaskedBatchNorm.synchronised` on every batch norm of
    a rank's ``network`` (the stem's, and the blocks' with ``norm="batch"``). Only the
    rank's copy changes: the parent receives the trained state dict, not the module."""
    for module in network.modules():
        if isinstance(module, MaskedBatchNorm):
            module.synchronised = True


def _save_result(
    workdir: str,
    module: torch.nn.Module,
    result: TrainingResult | None,
    callbacks: list[Callback] | None = None,
) -> None:
    result = copy.copy(result) if result is not None else None
    if result is not None and result.optimizer_state is not None:
        result.optimizer_state = _to_cpu(result.optimizer_state)
    state = _to_cpu(module.state_dict())
    path = os.path.join(workdir, "result.pt")
    torch.save({"state": state, "result": result, "callbacks": callbacks}, path + ".tmp")
    os.replace(path + ".tmp", path)


def _to_cpu(value):
    if torch.is_tensor(value):
        return value.detach().cpu()
    if isinstance(value, dict):
        return {key: _to_cpu(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_to_cpu(item) for item in value)
    return value
