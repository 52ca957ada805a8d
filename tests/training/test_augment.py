"""Training-time augmentation: shapes, length-awareness, resampling oracle, randomness, mixup,
time gaps of irregular sampling."""

import dataclasses

import numpy as np
import pytest
import torch

from sslearn.training._augment import (
    PRESETS,
    Augmentation,
    augment_grid,
    mix,
    mixup_pairs,
    resample,
    resolve_augment,
    valid_mask,
)

ALL_ON = Augmentation(jitter=0.05, scale=0.2, crop=0.7, warp=0.3, mixup=0.4)
L = 24


def batch(device="cpu", dtype=torch.float32, seed=0, n=6, channels=3):
    """Random series of random lengths (one of length 1, one full), zero at padding."""
    gen = torch.Generator().manual_seed(seed)
    lengths = torch.randint(2, L + 1, (n,), generator=gen)
    lengths[:2] = torch.tensor([L, 1])[:n]
    x = torch.randn(n, channels, L, generator=gen, dtype=torch.float64) + 0.5
    x = x * valid_mask(lengths, L)[:, None, :]
    return x.to(device, dtype), lengths.to(device)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("equal_length", [True, False])
def test_shape_dtype_and_zero_padding(device, dtype, equal_length):
    x, lengths = batch(device, dtype)
    lengths = None if equal_length else lengths
    torch.manual_seed(0)
    out = ALL_ON.apply(x, lengths)
    assert out.shape == x.shape and out.dtype == dtype and out.device == x.device
    assert torch.isfinite(out).all() and not torch.equal(out, x)
    if lengths is not None:
        assert (out[~valid_mask(lengths, L)[:, None, :].expand_as(out)] == 0).all()


@pytest.mark.parametrize(
    "aug",
    [ALL_ON, Augmentation(crop=0.5), Augmentation(warp=0.5), Augmentation(scale=0.3)],
    ids=["all", "crop", "warp", "scale"],
)
def test_valid_steps_never_read_padding(device, aug):
    x1, lengths = batch(device)
    pad = ~valid_mask(lengths, L)[:, None, :]
    x2 = x1 + 100.0 * pad * torch.rand(x1.shape, device=device)
    torch.manual_seed(1)
    out1 = aug.apply(x1, lengths)
    torch.manual_seed(1)
    out2 = aug.apply(x2, lengths)
    valid = ~pad.expand_as(x1)
    torch.testing.assert_close(out1[valid], out2[valid], rtol=0, atol=0)


def test_identity_when_everything_is_off():
    x, lengths = batch()
    aug = Augmentation(mixup=0.5)
    assert torch.equal(aug.apply(x, lengths), x)
    assert torch.equal(Augmentation().apply(x, None), x)
    assert not Augmentation().enabled and Augmentation(crop=0.99).enabled


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_identity_grid_resamples_exactly(dtype):
    x, lengths = batch(dtype=dtype)
    for lens in (lengths, None):
        grid = augment_grid(lens, len(x), L, crop=1.0, warp=0.0, device=x.device)
        n = lens if lens is not None else torch.full((len(x),), L)
        valid = valid_mask(n, L)
        assert torch.equal(grid[valid], torch.arange(L).expand(len(x), L)[valid].float())
        valid = valid[:, None, :].expand_as(x)
        assert torch.equal(resample(x, grid, lens)[valid], x[valid])


@pytest.mark.parametrize("crop, warp", [(0.6, 0.0), (1.0, 0.4), (0.6, 0.4)])
def test_grid_stays_in_each_valid_range_and_is_monotone(crop, warp):
    _, lengths = batch(n=50)
    torch.manual_seed(2)
    grid = augment_grid(lengths, 50, L, crop, warp, torch.device("cpu"))
    valid = valid_mask(lengths, L)
    last = (lengths - 1)[:, None].float()
    assert (grid >= 0).all() and (grid <= last).all()
    assert ((grid.diff(dim=1) >= -1e-5) | ~valid[:, 1:]).all()
    if crop == 1.0:  # a warp alone keeps both ends of every series
        assert (grid[:, 0] == 0).all()
        torch.testing.assert_close(grid.gather(1, last.long()), last)


def test_resample_matches_numpy_interp():
    x, lengths = batch(dtype=torch.float64)
    gen = torch.Generator().manual_seed(3)
    last = (lengths - 1)[:, None].double()
    grid = torch.rand(len(x), L, generator=gen, dtype=torch.float64) * last
    grid[:, -1] = last[:, 0]  # the right end, exactly
    out = resample(x, grid, lengths).numpy()
    for b, n in enumerate(lengths.tolist()):
        for c in range(x.shape[1]):
            expected = np.interp(grid[b, :n].numpy(), np.arange(n), x[b, c, :n].numpy())
            np.testing.assert_allclose(out[b, c, :n], expected, rtol=1e-12, atol=1e-12)


def test_reproducible_under_manual_seed_and_fresh_otherwise():
    x, lengths = batch()
    torch.manual_seed(4)
    a = ALL_ON.apply(x, lengths)
    b = ALL_ON.apply(x, lengths)
    torch.manual_seed(4)
    assert torch.equal(ALL_ON.apply(x, lengths), a)
    assert not torch.equal(a, b)


@pytest.mark.parametrize(
    "aug",
    [
        Augmentation(jitter=0.1),
        Augmentation(scale=0.3),
        Augmentation(crop=0.5),
        Augmentation(warp=0.5),
    ],
    ids=["jitter", "scale", "crop", "warp"],
)
def test_each_series_draws_its_own_randomness(aug):
    x, _ = batch(n=2)
    x = x[:1].expand(8, -1, -1).contiguous()  # the same series eight times
    torch.manual_seed(5)
    out = aug.apply(x, torch.full((8,), L))
    assert not any(torch.allclose(out[0], out[i]) for i in range(1, 8))


def test_mixup_pairs_and_mix():
    torch.manual_seed(6)
    perm, lam = mixup_pairs(64, 0.4, "cpu")
    assert perm.dtype == torch.long and torch.equal(perm.sort().values, torch.arange(64))
    assert lam.shape == (64,) and ((lam >= 0.5) & (lam <= 1)).all() and lam.std() > 0.05
    perm2, lam2 = mixup_pairs(64, 0.4, "cpu")
    assert not torch.equal(perm, perm2) and not torch.equal(lam, lam2)
    perm, lam = mixup_pairs(64, 1e-3, "cpu")  # tiny alpha: gammas underflow, stay finite
    assert torch.isfinite(lam).all()

    x, lengths = batch(n=6)
    perm, lam = mixup_pairs(6, 0.4, "cpu")
    expected = lam[:, None, None] * x + (1 - lam[:, None, None]) * x[perm]
    torch.testing.assert_close(mix(x, None, perm, lam), expected)
    expected = expected * valid_mask(lengths, L)[:, None, :]  # each row keeps its length
    torch.testing.assert_close(mix(x, lengths, perm, lam), expected)


def test_resolve_augment():
    for off in (None, False, "none", {}, {"crop": 1.0}):
        assert resolve_augment(off) is None
    assert resolve_augment("auto") == PRESETS["auto"] == resolve_augment(True)
    assert resolve_augment({"jitter": 0.1}) == Augmentation(jitter=0.1)
    aug = Augmentation(warp=0.2)
    assert resolve_augment(aug) is aug
    assert all(preset.enabled for preset in PRESETS.values())


@pytest.mark.parametrize(
    "augment, match",
    [
        ("heavy", r"'heavy' is not one of 'none', 'light', 'auto', 'strong'"),
        ({"jiter": 0.1}, r"unknown augment key\(s\) \['jiter'\]; accepted: \['jitter'"),
        ({"crop": 0.0}, r"'crop' must be in \(0, 1\], got 0.0"),
        ({"crop": 1.5}, r"'crop' must be in \(0, 1\]"),
        ({"scale": -0.1}, r"'scale' must be >= 0, got -0.1"),
        ({"warp": float("nan")}, r"'warp' must be finite"),
        ({"jitter": "0.1"}, r"'jitter' must be a real number"),
        ({"mixup": True}, r"'mixup' must be a real number"),
        (0.5, r"augment must be None, a bool"),
    ],
)
def test_resolve_augment_errors(augment, match):
    with pytest.raises(ValueError, match=match):
        resolve_augment(augment)


def with_gaps(x, lengths, seed=0):
    """``x`` with a last channel of random gaps (1 at the first step, 7 after the end)."""
    gen = torch.Generator().manual_seed(seed)
    gaps = torch.rand(x.shape[0], 1, L, generator=gen, dtype=torch.float64).to(x) * 2 + 0.1
    gaps[:, :, 0] = 1.0
    gaps = torch.where(valid_mask(lengths, L)[:, None, :], gaps, torch.full_like(gaps, 7.0))
    return torch.cat([x, gaps], dim=1)


@pytest.mark.parametrize(
    "aug",
    [ALL_ON, Augmentation(jitter=0.1), Augmentation(scale=0.3), Augmentation(warp=0.5)],
    ids=["all-but-crop", "jitter", "scale", "warp"],
)
def test_gaps_ride_along_untouched(aug):
    x, lengths = batch()
    xg = with_gaps(x, lengths)
    aug = dataclasses.replace(aug, crop=1.0, gaps=True)
    torch.manual_seed(2)
    out = aug.apply(xg, lengths)
    torch.testing.assert_close(out[:, -1], xg[:, -1], rtol=0, atol=0)
    if aug.jitter or aug.scale:
        assert not torch.equal(out[:, :-1], xg[:, :-1])
    else:  # time warping would contradict the stamps: skipped
        assert not aug.resamples and torch.equal(out, xg)
    perm, lam = mixup_pairs(len(x), 0.4, "cpu")
    mixed = mix(xg, lengths, perm, lam, gaps=True)
    torch.testing.assert_close(mixed[:, -1], xg[:, -1], rtol=0, atol=0)
    torch.testing.assert_close(mixed[:, :-1], mix(x, lengths, perm, lam))
    members = torch.stack([xg, xg.flip(0)], dim=1)  # (B, K, C, L): an ensemble's inputs
    mixed = mix(members, lengths, perm, lam, gaps=True)
    torch.testing.assert_close(mixed[:, :, -1], members[:, :, -1], rtol=0, atol=0)


def test_crops_cut_the_gaps_with_the_values():
    """A channel holding each step's time since the first step is cropped into the time
    since the window's first position: the cropped gaps are its steps, the first gap 1."""
    x, lengths = batch(dtype=torch.float64)
    xg = with_gaps(x, lengths)
    valid = valid_mask(lengths, L)
    stamps = torch.where(valid, xg[:, -1].cumsum(-1) - 1.0, 0.0)  # (B, L): 0 at step 0
    xg = torch.cat([xg[:, :1], stamps[:, None], xg[:, 1:]], dim=1)  # the stamps as a channel
    torch.manual_seed(3)
    out = Augmentation(crop=0.6, warp=0.4, gaps=True).apply(xg, lengths)
    gaps, cropped = out[:, -1], out[:, 1]
    assert (gaps[:, 0] == 1).all() and (gaps[valid] > 0).all()
    torch.testing.assert_close(gaps[~valid], xg[:, -1][~valid], rtol=0, atol=0)
    elapsed = torch.where(valid, gaps, 0.0)[:, 1:].cumsum(-1)  # time since output step 0
    torch.testing.assert_close(
        (cropped[:, 1:] - cropped[:, :1])[valid[:, 1:]], elapsed[valid[:, 1:]]
    )
    assert (out[:, :-1][~valid[:, None, :].expand_as(out[:, :-1])] == 0).all()


def test_ensemble_members_share_one_crop_of_the_gaps():
    """The network reads member 0's gaps for every member: one crop for all."""
    from sslearn.training._batches import member_inputs

    x, lengths = batch()
    torch.manual_seed(4)
    out = member_inputs(
        with_gaps(x, lengths), lengths, Augmentation(crop=0.6, jitter=0.1, gaps=True), 3
    )
    assert out.shape == (len(x), 3, 4, L)
    for k in (1, 2):
        torch.testing.assert_close(out[:, k, -1], out[:, 0, -1], rtol=0, atol=0)
        assert not torch.equal(out[:, k, :-1], out[:, 0, :-1])  # their own jitter


def test_resolve_augment_with_gaps():
    assert resolve_augment("light", gaps=True) == dataclasses.replace(PRESETS["light"], gaps=True)
    assert resolve_augment({"warp": 0.3}, gaps=True) is None  # nothing left to apply
    with pytest.raises(ValueError, match=r"unknown augment key\(s\) \['gaps'\]"):
        resolve_augment({"gaps": True})


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
@pytest.mark.parametrize("equal_length", [True, False])
def test_cuda_graph_replays_draw_afresh(equal_length):
    x, lengths = batch("cuda", n=16)
    lengths = None if equal_length else lengths
    aug = Augmentation(jitter=0.05, scale=0.2, crop=0.7, warp=0.3, mixup=0.4)

    def step():
        out = aug.apply(x, lengths)
        perm, lam = mixup_pairs(len(x), aug.mixup, x.device)
        return out, perm, lam, mix(out, lengths, perm, lam)

    stream = torch.cuda.Stream()
    stream.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(stream):
        step()  # warm-up outside the graph
    torch.cuda.current_stream().wait_stream(stream)
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        static = step()

    torch.cuda.manual_seed(7)
    eager = step()
    torch.cuda.manual_seed(7)
    replays = []
    for _ in range(2):
        graph.replay()
        replays.append([t.clone() for t in static])
    torch.cuda.synchronize()
    for a, b in zip(replays[0], eager, strict=True):  # a replay draws what eager draws
        torch.testing.assert_close(a, b)
    for a, b in zip(*replays, strict=True):
        assert not torch.equal(a, b)
    for out, perm, lam, mixed in replays:
        assert torch.equal(perm.sort().values, torch.arange(len(x), device="cuda"))
        assert ((lam >= 0.5) & (lam <= 1)).all()
        if lengths is not None:
            pad = ~valid_mask(lengths, L)[:, None, :].expand_as(x)
            assert (out[pad] == 0).all() and (mixed[pad] == 0).all()
