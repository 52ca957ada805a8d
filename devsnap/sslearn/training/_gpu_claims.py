"""Which GPU a ``device="auto"`` fit trains on when a host has several: host-wide claims.

Every fit that resolves ``"auto"`` on a host with ``n >= 2`` visible GPUs claims one of them
for as long as it trains, by holding an exclusive, non-blocking ``flock`` on a small file::

    <tmp>/sslearn-gpu-claims-<uid>/<visible>-cuda<d>-<k>.lock

``d`` is the device index and ``k`` the claim's level: a fit takes the first free file of level
0 in its order of preference, then of level 1, and so on, so it lands on a GPU with the fewest
sslearn fits running, ties broken by preference (the GPU this thread used last, then the
current device, then the lowest index). Locks are held per open file, so this works the same
between threads of one process (joblib's threading backend, Dask's threads) and between
processes (loky, Dask or Ray workers) of one user on one host, without any coordinator, and the
kernel drops a dead process's claims. ``<visible>`` is a digest of ``CUDA_VISIBLE_DEVICES``:
processes that see different devices under the same indices (dask-cuda gives every worker its
own GPU first) do not compete, and each uses its own first device.

Nothing here touches CUDA or imports torch. Where ``fcntl`` is missing (Windows) or the claim
directory cannot be written, claims are counted inside the process only.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
import threading
from collections.abc import Iterator, Sequence

try:
    import fcntl
except ImportError:  # Windows: in-process claims only
    fcntl = None

_MAX_LEVEL = 64  # claims beyond this many per GPU share the preferred GPU unrecorded
_local = threading.local()  # .last: the GPU this thread claimed last
_held_in_process: set[str] = set()  # fallback claims (no fcntl or no claim directory)
_held_lock = threading.Lock()


def claim_directory() -> str:
    """The per-user directory that holds the claim files."""
    uid = os.getuid() if hasattr(os, "getuid") else "user"
    return os.path.join(tempfile.gettempdir(), f"sslearn-gpu-claims-{uid}")


def last_claimed() -> int | None:
    """The GPU index this thread claimed most recently (None if it never claimed one)."""
    return getattr(_local, "last", None)


def visible_namespace() -> str:
    """A short digest of ``CUDA_VISIBLE_DEVICES`` (``"all"`` when it is unset)."""
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    if visible is None:
        return "all"
    return hashlib.sha1(visible.encode()).hexdigest()[:12]


def preference(n_devices: int, current: int | None = None) -> list[int]:
    """Device indices in the order a claim tries them.

    The GPU this thread claimed last (it already holds a CUDA context there), then
    ``current`` (the caller's current CUDA device, when CUDA is already initialised), then
    ``0, 1, ..., n_devices - 1``.
    """
    order = [last_claimed(), current, *range(n_devices)]
    return list(dict.fromkeys(d for d in order if d is not None and 0 <= d < n_devices))


@contextlib.contextmanager
def claim_gpu(
    n_devices: int, order: Sequence[int] | None = None, directory: str | None = None
) -> Iterator[int]:
    """Claim the GPU with the fewest claims on this host for the duration of the block.

    Parameters
    ----------
    n_devices : int
        Number of visible GPUs (at least 1).
    order : sequence of int, optional
        Preference among equally claimed GPUs; default :func:`preference`.
    directory : str, optional
        Where the claim files live; default :func:`claim_directory`.

    Yields
    ------
    int
        The claimed device index, also remembered as this thread's :func:`last_claimed`.
    """
    order = list(order) if order is not None else preference(n_devices)
    prefix = os.path.join(directory or claim_directory(), visible_namespace())
    held = None
    try:
        for level in range(_MAX_LEVEL):
            for index in order:
                held = _try_lock(f"{prefix}-cuda{index}-{level}.lock")
                if held is not None:
                    break
            if held is not None:
                break
        _local.last = index if held is not None else order[0]
        yield _local.last
    finally:
        if held is not None:
            _unlock(held)


def _try_lock(path: str):
    """An exclusive claim on ``path``, or None when someone else holds it."""
    if fcntl is not None:
        try:
            os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
            handle = open(path, "a")  # held until _unlock
        except OSError:
            pass  # no writable claim directory: count claims in this process
        else:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                handle.close()
                return None
            return handle
    with _held_lock:
        if path in _held_in_process:
            return None
        _held_in_process.add(path)
        return path


def _unlock(held) -> None:
    if isinstance(held, str):
        with _held_lock:
            _held_in_process.discard(held)
    else:
        held.close()  # closing the file releases the flock
