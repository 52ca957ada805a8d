"""ChannelScaler and standardise_series: statistics over observed values only; padding and
missing stay 0.0."""

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from sslearn.data import ChannelScaler, standardise_series, to_panel
from tests.data.test_convert import assert_panel_equal, make_series


def make_panel(seed=0):
    series = make_series(seed, n_missing=6)
    for k, s in enumerate(series):
        s *= np.array([[1.0], [10.0], [0.1]])  # channels on different scales
        s += np.array([[5.0], [-20.0], [0.3]]) + k
    return to_panel(series)


def test_statistics_ignore_padding_and_missing():
    panel = make_panel()
    assert panel.has_missing
    scaler = ChannelScaler().fit(panel)
    observed = panel.to_numpy().astype(np.float64)  # NaN at padding and missing
    mean = np.nanmean(observed, axis=(0, 2))
    std = np.nanstd(observed, axis=(0, 2))
    np.testing.assert_allclose(scaler.mean_, mean, rtol=1e-6)
    np.testing.assert_allclose(scaler.scale_, std, rtol=1e-5)
    np.testing.assert_allclose(scaler.var_, std**2, rtol=1e-5)
    assert scaler.n_observed_.tolist() == (~np.isnan(observed)).sum(axis=(0, 2)).tolist()
    assert scaler.mean_.shape == scaler.scale_.shape == (3,) and scaler.n_channels_ == 3


def test_padding_changes_nothing():
    series = make_series(1)
    longer = [np.concatenate([s, np.full((3, 4), np.nan)], axis=1) for s in series]
    a, b = ChannelScaler().fit(series), ChannelScaler().fit(to_panel(longer).to_numpy())
    np.testing.assert_allclose(a.mean_, b.mean_)
    np.testing.assert_allclose(a.scale_, b.scale_)


def test_transform_scales_observed_values_and_keeps_masks():
    panel = make_panel(2)
    scaler = ChannelScaler().fit(panel)
    out = scaler.transform(panel)
    observed = panel.observed_mask
    expected = (panel.values - scaler.mean_[:, None]) / scaler.scale_[:, None]
    np.testing.assert_allclose(out.values[observed], expected[observed], rtol=1e-5, atol=1e-6)
    assert (out.values[~observed] == 0.0).all()
    assert out.values.dtype == np.float32
    np.testing.assert_array_equal(out.lengths, panel.lengths)
    np.testing.assert_array_equal(out.missing, panel.missing)
    assert out.lengths is not panel.lengths and out.missing is not panel.missing
    assert out.channel_names == panel.channel_names
    rescaled = out.to_numpy().astype(np.float64)
    np.testing.assert_allclose(np.nanmean(rescaled, axis=(0, 2)), 0.0, atol=1e-5)
    np.testing.assert_allclose(np.nanstd(rescaled, axis=(0, 2)), 1.0, rtol=1e-5)


def test_inverse_transform_round_trip():
    panel = make_panel(3)
    scaler = ChannelScaler().fit(panel)
    back = scaler.inverse_transform(scaler.transform(panel))
    np.testing.assert_allclose(back.values, panel.values, rtol=1e-5, atol=1e-5)
    assert_panel_equal(to_panel(back), back)


def test_fit_transform_and_raw_input():
    X = np.random.default_rng(4).normal(loc=3.0, scale=2.0, size=(6, 2, 9))
    direct = ChannelScaler().fit(X).transform(X)
    assert_panel_equal(ChannelScaler().fit_transform(X), direct)
    np.testing.assert_allclose(direct.values.mean(axis=(0, 2)), 0.0, atol=1e-5)


def test_constant_and_unobserved_channels_get_unit_scale():
    rng = np.random.default_rng(5)
    X = np.stack(
        [
            np.full((4, 6), 1e4),  # constant, large: centred, not divided by ~0
            rng.normal(size=(4, 6)),
            np.full((4, 6), np.nan),  # never observed
        ],
        axis=1,
    )
    scaler = ChannelScaler().fit(X)
    assert scaler.scale_[0] == 1.0 and scaler.mean_[0] == pytest.approx(1e4)
    assert scaler.scale_[2] == 1.0 and scaler.mean_[2] == 0.0 and scaler.n_observed_[2] == 0
    out = scaler.transform(X)
    assert (out.values[:, 0] == 0.0).all() and np.isfinite(out.values).all()


@pytest.mark.parametrize("with_mean, with_std", [(False, True), (True, False), (False, False)])
def test_with_mean_with_std(with_mean, with_std):
    panel = make_panel(6)
    scaler = ChannelScaler(with_mean=with_mean, with_std=with_std).fit(panel)
    full = ChannelScaler().fit(panel)
    np.testing.assert_allclose(scaler.mean_, full.mean_ if with_mean else 0.0)
    np.testing.assert_allclose(scaler.scale_, full.scale_ if with_std else 1.0)


def test_errors_and_sklearn_api():
    scaler = ChannelScaler()
    with pytest.raises(NotFittedError):
        scaler.transform(make_panel())
    scaler.fit(make_panel())
    with pytest.raises(
        ValueError,
        match=r"X has 1 channel\(s\), but ChannelScaler was fitted "
        r"with 3",
    ):
        scaler.transform(np.ones((2, 5)))
    assert clone(ChannelScaler(with_std=False)).get_params() == {
        "with_mean": True,
        "with_std": False,
    }
    assert scaler.__sklearn_tags__().input_tags.three_d_array


def test_series_standardisation_matches_a_float64_loop():
    panel = make_panel(seed=3)
    assert panel.has_missing and len(set(panel.lengths.tolist())) > 1
    out = standardise_series(panel)
    raw = panel.to_numpy().astype(np.float64)  # NaN at padding and missing
    for i in range(raw.shape[0]):
        for c in range(raw.shape[1]):
            values = raw[i, c][~np.isnan(raw[i, c])]
            std = values.std() if values.std() > 0 else 1.0  # one value: only centred
            expected = (values - values.mean()) / std
            np.testing.assert_allclose(out.values[i, c][~np.isnan(raw[i, c])], expected,
                                       rtol=1e-5, atol=1e-6)  # fmt: skip
    assert not out.values[np.isnan(raw)].any()  # padding and missing stay 0.0
    np.testing.assert_array_equal(out.lengths, panel.lengths)
    np.testing.assert_array_equal(out.missing, panel.missing)
    assert out.values.dtype == np.float32


def test_series_standardisation_ignores_gain_and_offset():
    panel = make_panel(seed=4)
    rng = np.random.RandomState(5)
    gain = rng.uniform(0.1, 10.0, size=(panel.n_samples, panel.n_channels, 1))
    offset = rng.uniform(-50.0, 50.0, size=(panel.n_samples, panel.n_channels, 1))
    moved = to_panel(panel.to_numpy() * gain + offset)
    np.testing.assert_allclose(
        standardise_series(moved).values, standardise_series(panel).values, atol=2e-4
    )


def test_constant_and_empty_series_are_only_centred():
    constant = np.array([[7.0] * 5, [1.0, 3.0, np.nan, np.nan, np.nan]])
    huge = np.array([[1e6, 1e6, 1e6], [2.0, 4.0, 6.0]])  # constant at a large level
    single = np.array([[1.0], [np.nan]])  # one observed value, and a channel with none
    out = standardise_series(to_panel([constant, huge, single]))
    assert np.isfinite(out.values).all()
    np.testing.assert_array_equal(out.values[0, 0], np.zeros(5))
    np.testing.assert_allclose(out.values[0, 1, :2], [-1.0, 1.0])
    np.testing.assert_array_equal(out.values[1, 0, :3], np.zeros(3))
    np.testing.assert_allclose(out.values[1, 1, :3], [-1.2247449, 0.0, 1.2247449], rtol=1e-6)
    np.testing.assert_array_equal(out.values[2, :, 0], [0.0, 0.0])
