"""Batching on the device and batched inference."""

import numpy as np
import torch

from sslearn.nn import LiquidS4Network
from sslearn.training import Precision, SeriesSet, predict_outputs


def test_batches_cover_every_series_once_and_trim_padding():
    lengths = np.array([3, 8, 5, 2, 8, 4, 6])
    values = np.zeros((7, 2, 8), dtype=np.float32)
    data = SeriesSet.from_numpy(values, lengths, np.arange(7))
    seen = []
    for index, (x, batch_lengths, targets, weights) in data.batches(3, torch.Generator()):
        assert x.shape[-1] == lengths[index.numpy()].max()
        assert weights is None
        assert torch.equal(targets, index)
        if batch_lengths is not None:
            assert torch.equal(batch_lengths, torch.as_tensor(lengths[index.numpy()]))
        seen.extend(index.tolist())
    assert sorted(seen) == list(range(7))
    sizes = [len(index) for index, _ in data.batches(3, torch.Generator())]
    assert sorted(sizes) == [2, 2, 3]  # balanced: no lone series


def test_equal_lengths_pass_no_lengths():
    data = SeriesSet.from_numpy(np.zeros((4, 1, 5)), np.full(4, 5))
    assert all(batch[1] is None for _, batch in data.batches(2))


def test_predict_outputs_keeps_order_and_matches_full_batch():
    torch.manual_seed(0)
    net = LiquidS4Network(1, 3, d_model=8, n_layers=1, d_state=4).eval()
    rng = np.random.RandomState(0)
    lengths = rng.randint(3, 12, size=9)
    values = rng.randn(9, 1, 12).astype(np.float32)
    values[np.arange(12)[None, None, :] >= lengths[:, None, None]] = 0.0
    data = SeriesSet.from_numpy(values, lengths)
    out = predict_outputs(
        net, data, device=torch.device("cpu"), batch_size=2, precision=Precision("32", None, False)
    )
    for i in range(9):
        x = torch.as_tensor(values[i : i + 1, :, : lengths[i]])
        with torch.no_grad():
            expected = net(x)
        torch.testing.assert_close(out[i : i + 1], expected, rtol=1e-4, atol=1e-5)


def test_float64_inference_is_batch_independent():
    torch.manual_seed(0)
    net = LiquidS4Network(1, 2, d_model=8, n_layers=1, d_state=4).eval()
    data = SeriesSet.from_numpy(np.random.RandomState(1).randn(20, 1, 7), np.full(20, 7))
    kwargs = {
        "device": torch.device("cpu"),
        "precision": Precision("32", None, False),
        "dtype": torch.float64,
    }
    full = predict_outputs(net, data, batch_size=20, **kwargs)
    single = torch.cat(
        [predict_outputs(net, data.subset([i]), batch_size=1, **kwargs) for i in range(20)]
    )
    assert full.dtype == torch.float64
    assert torch.allclose(full, single, rtol=0, atol=1e-12)
    assert net.encoder.weight.dtype == torch.float32  # the network itself is untouched
