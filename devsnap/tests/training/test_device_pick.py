"""How ``device="auto"`` picks a GPU on a host with several (CUDA mocked: runs on CPUs)."""

import contextlib
import subprocess
import sys
import threading

import pytest
import torch

from sslearn.training import _gpu_claims, resolve_device, training_device
from sslearn.training._gpu_claims import claim_gpu


@pytest.fixture
def claims(tmp_path, monkeypatch):
    """Claim files in a fresh directory, and a fresh thread-local memory of the last GPU."""
    monkeypatch.setattr(_gpu_claims, "claim_directory", lambda: str(tmp_path))
    monkeypatch.setattr(_gpu_claims, "_local", threading.local())
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    return tmp_path


@pytest.fixture
def gpus(monkeypatch, claims):
    """Pretend that ``n`` GPUs are visible (CUDA never initialises)."""

    def set_count(n):
        monkeypatch.setattr(torch.cuda, "is_available", lambda: n > 0)
        monkeypatch.setattr(torch.cuda, "device_count", lambda: n)
        monkeypatch.setattr(torch.cuda, "is_initialized", lambda: False)
        monkeypatch.setattr(torch.cuda, "device", lambda device: contextlib.nullcontext())

    return set_count


def in_threads(n, fn):
    """Run ``fn()`` in ``n`` threads that overlap in time; return their results."""
    barrier, results = threading.Barrier(n), [None] * n

    def run(i):
        results[i] = fn(barrier)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_concurrent_fits_get_different_gpus(gpus):
    gpus(2)

    def fit(barrier):
        with training_device("auto") as device:
            barrier.wait()  # both hold their claim here
            return device

    assert sorted(str(d) for d in in_threads(2, fit)) == ["cuda:0", "cuda:1"]


def test_more_fits_than_gpus_spread_evenly(gpus):
    gpus(2)

    def fit(barrier):
        with training_device("auto") as device:
            barrier.wait()
            return device.index

    assert sorted(in_threads(3, fit)) == [0, 0, 1]


def test_sequential_fits_stay_on_one_gpu(gpus):
    gpus(2)
    for _ in range(3):
        with training_device("auto") as device:
            assert device == torch.device("cuda", 0)


def test_a_thread_keeps_its_gpu(gpus):
    """Preference for the GPU a thread used before (it holds a CUDA context there)."""
    gpus(2)
    first_holds, second_done = threading.Event(), threading.Event()

    def first():
        with training_device("auto") as device:
            first_holds.set()
            second_done.wait()
        return device.index

    thread = threading.Thread(target=first)
    thread.start()
    first_holds.wait()
    with training_device("auto") as device:
        assert device.index == 1  # cuda:0 is taken
    second_done.set()
    thread.join()
    with training_device("auto") as device:
        assert device.index == 1  # cuda:0 is free again, but this thread used cuda:1
    assert resolve_device("auto") == torch.device("cuda", 1)  # predict follows the fit


def test_claims_are_shared_between_processes(claims):
    """A claim held by another process (one that does not import torch) is respected."""
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, _gpu_claims.__file__, str(claims)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout.readline().strip() == "0"
        with claim_gpu(2) as index:
            assert index == 1
    finally:
        child.communicate("done\n", timeout=30)
    with claim_gpu(2, order=[0, 1]) as index:  # the child's claim went with it
        assert index == 0


CHILD = """
import importlib.util, sys
spec = importlib.util.spec_from_file_location("claims", sys.argv[1])
claims = importlib.util.module_from_spec(spec)
spec.loader.exec_module(claims)
with claims.claim_gpu(2, directory=sys.argv[2]) as index:
    print(index, flush=True)
    sys.stdin.readline()
"""


def test_different_visible_devices_do_not_compete(gpus, monkeypatch):
    """dask-cuda style workers: each sees its own GPU first and keeps to it."""
    gpus(2)
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "0,1")
    with training_device("auto") as device:
        monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "1,0")
        with claim_gpu(2, order=[0, 1]) as other:
            assert device.index == other == 0


def test_falls_back_to_in_process_claims(gpus, monkeypatch, tmp_path):
    gpus(2)
    not_a_directory = tmp_path / "file"
    not_a_directory.write_text("")
    monkeypatch.setattr(_gpu_claims, "claim_directory", lambda: str(not_a_directory))

    def fit(barrier):
        with training_device("auto") as device:
            barrier.wait()
            return device.index

    assert sorted(in_threads(2, fit)) == [0, 1]
    assert not _gpu_claims._held_in_process


def test_explicit_device_is_honoured_without_a_claim(gpus, claims):
    gpus(2)
    with training_device("cuda:1") as device:
        assert device == torch.device("cuda", 1)
        assert not list(claims.iterdir())


def test_one_gpu_or_none(gpus, claims):
    gpus(1)
    with training_device("auto") as device:
        assert device == torch.device("cuda")
    gpus(0)
    with training_device("auto") as device:
        assert device == torch.device("cpu")
    assert not list(claims.iterdir())


def test_errors_in_workers_name_device_and_thread():
    def fit(barrier):
        try:
            with training_device("cpu"):
                raise RuntimeError("injected")
        except RuntimeError as error:
            return error

    (error,) = in_threads(1, fit)
    notes = "\n".join(error.__notes__)
    assert "training on cpu" in notes and "thread" in notes


def test_errors_in_the_main_thread_on_cpu_have_no_note():
    with pytest.raises(RuntimeError) as info, training_device("cpu"):
        raise RuntimeError("injected")
    assert not getattr(info.value, "__notes__", None)


def test_out_of_memory_gets_a_hint(gpus):
    gpus(2)
    with pytest.raises(torch.cuda.OutOfMemoryError) as info, training_device("auto"):
        raise torch.cuda.OutOfMemoryError("CUDA out of memory")
    notes = "\n".join(info.value.__notes__)
    assert "cuda:0" in notes and "n_jobs" in notes
