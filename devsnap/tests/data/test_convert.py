"""to_panel: every accepted layout gives the same Panel as the equivalent numpy input, NaN
means padding at the end and missing elsewhere, and every rejection names the problem."""

import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sslearn.data import Panel, to_panel

LENGTHS = [7, 4, 6, 1, 5]
N_CHANNELS = 3


def assert_panel_equal(a, b, names=True):
    np.testing.assert_array_equal(a.values, b.values)
    np.testing.assert_array_equal(a.lengths, b.lengths)
    np.testing.assert_array_equal(a.missing, b.missing)
    assert a.values.dtype == np.float32 and a.lengths.dtype == np.int64
    assert a.missing.dtype == bool
    if names:
        assert a.channel_names == b.channel_names


def make_series(seed=0, lengths=LENGTHS, n_channels=N_CHANNELS, n_missing=4):
    """Random float64 series, each (n_channels, length_i), with some inner NaN."""
    rng = np.random.default_rng(seed)
    series = [rng.normal(size=(n_channels, length)) + 1.0 for length in lengths]
    for _ in range(n_missing):
        i = int(rng.integers(len(lengths)))
        if lengths[i] > 1:  # keep the last step observed so it stays part of the series
            series[i][rng.integers(n_channels), rng.integers(lengths[i] - 1)] = np.nan
    return series


def nan_padded(series):
    out = np.full((len(series), series[0].shape[0], max(s.shape[1] for s in series)), np.nan)
    for i, s in enumerate(series):
        out[i, :, : s.shape[1]] = s
    return out


def expected_panel(series, channel_names=None):
    """The Panel built by hand: zeros at padding and NaN, missing where NaN."""
    padded = nan_padded(series)
    missing = np.isnan(padded)
    for i, s in enumerate(series):
        missing[i, :, s.shape[1] :] = False
    values = np.where(np.isnan(padded), 0.0, padded).astype(np.float32)
    return Panel(values, [s.shape[1] for s in series], missing, channel_names)


# -- numpy ---------------------------------------------------------------------------------


def test_3d_equal_length():
    X = np.random.default_rng(1).normal(size=(4, 2, 9))
    panel = to_panel(X)
    np.testing.assert_array_equal(panel.values, X.astype(np.float32))
    assert panel.lengths.tolist() == [9] * 4
    assert not panel.has_missing and panel.channel_names is None
    assert (panel.n_samples, panel.n_channels, panel.max_length) == (4, 2, 9)


def test_2d_is_univariate():
    X = np.random.default_rng(2).normal(size=(6, 11))
    assert_panel_equal(to_panel(X), to_panel(X[:, None, :]))
    assert to_panel(X).values.shape == (6, 1, 11)


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64, np.int32, np.int64, object])
def test_numeric_dtypes(dtype):
    X = np.random.default_rng(3).integers(-50, 50, size=(3, 2, 5)).astype(dtype)
    panel = to_panel(X)
    np.testing.assert_array_equal(panel.values, X.astype(np.float64).astype(np.float32))


def test_input_is_not_modified_and_not_shared():
    X = nan_padded(make_series(4)).astype(np.float32)
    before = X.copy()
    panel = to_panel(X)
    np.testing.assert_array_equal(X, before)
    assert not np.shares_memory(panel.values, X)


def test_nan_padding_matches_list_of_unequal_arrays():
    series = make_series(5)
    expected = expected_panel(series)
    assert expected.has_missing
    assert_panel_equal(to_panel(nan_padded(series)), expected)
    assert_panel_equal(to_panel(series), expected)
    assert_panel_equal(to_panel(tuple(series)), expected)
    ragged = np.empty(len(series), dtype=object)
    ragged[:] = series
    assert_panel_equal(to_panel(ragged), expected)


def test_nan_rule_trailing_all_nan_is_padding_anything_else_missing():
    X = np.array(
        [
            [[np.nan, 1.0, 2.0, np.nan, np.nan], [3.0, np.nan, 4.0, 5.0, np.nan]],
            [[1.0, 2.0, 3.0, 4.0, 5.0], [6.0, 7.0, 8.0, 9.0, 10.0]],
        ]
    )
    panel = to_panel(X)
    assert panel.lengths.tolist() == [4, 5]
    assert panel.missing[0].tolist() == [
        [True, False, False, True, False],  # leading NaN and inner NaN are missing
        [False, True, False, False, False],  # padding (t=4) is not missing
    ]
    assert panel.values[0].tolist() == [[0, 1, 2, 0, 0], [3, 0, 4, 5, 0]]
    assert np.isfinite(panel.values).all()


def test_trailing_nan_in_every_series_trims_max_length():
    X = np.random.default_rng(6).normal(size=(3, 2, 8))
    X[:, :, 5:] = np.nan
    panel = to_panel(X)
    assert panel.max_length == 5 and panel.lengths.tolist() == [5, 5, 5]
    np.testing.assert_array_equal(panel.values, X[:, :, :5].astype(np.float32))


def test_trailing_nan_in_list_elements_is_padding_too():
    series = [np.array([1.0, 2.0, np.nan]), np.array([3.0, np.nan, 4.0])]
    panel = to_panel(series)
    assert panel.lengths.tolist() == [2, 3]
    assert panel.missing[:, 0].tolist() == [[False, False, False], [False, True, False]]


def test_lists_equal_their_array_forms():
    X = np.random.default_rng(7).normal(size=(5, 8))
    expected = to_panel(X)
    assert_panel_equal(to_panel(X.tolist()), expected)
    assert_panel_equal(to_panel(list(X)), expected)
    assert_panel_equal(to_panel([pd.Series(row, name="v") for row in X]), expected)
    X3 = np.random.default_rng(8).normal(size=(4, 2, 6))
    assert_panel_equal(to_panel(list(X3)), to_panel(X3))


def test_length_one_series_are_fine():
    panel = to_panel(np.random.default_rng(9).uniform(size=(10, 1)))  # sklearn's 1-feature check
    assert panel.lengths.tolist() == [1] * 10 and panel.max_length == 1


# -- pandas without sktime ------------------------------------------------------------------


def test_wide_dataframe_equals_2d():
    X = np.random.default_rng(10).normal(size=(5, 7))
    X[1, 5:] = np.nan
    X[2, 2] = np.nan
    df = pd.DataFrame(X, columns=[f"t{k}" for k in range(7)], index=list("abcde"))
    assert_panel_equal(to_panel(df), to_panel(X))  # columns are time points, not channels


def test_wide_dataframe_nullable_dtype():
    df = pd.DataFrame({"t0": [1, 2], "t1": [3, None], "t2": [4, 5]}, dtype="Int64")
    panel = to_panel(df)
    assert panel.missing[:, 0].tolist() == [[False] * 3, [False, True, False]]
    assert panel.values[:, 0].tolist() == [[1, 3, 4], [2, 0, 5]]


def test_df_list_equals_numpy_with_channel_names():
    series = make_series(11)
    frames = [pd.DataFrame(s.T, columns=["a", "b", "c"]) for s in series]
    assert_panel_equal(to_panel(frames), expected_panel(series, ["a", "b", "c"]))
    as_objects = np.empty(len(frames), dtype=object)
    for i, frame in enumerate(frames):
        as_objects[i] = frame
    assert_panel_equal(to_panel(as_objects), expected_panel(series, ["a", "b", "c"]))


def test_df_list_non_string_columns_give_no_names():
    series = make_series(12)
    panel = to_panel([pd.DataFrame(s.T) for s in series])
    assert_panel_equal(panel, expected_panel(series))


def nested(series, columns=("a", "b", "c"), index=None):
    """A sktime nested_univ frame built by hand: cells are pd.Series over time."""
    return pd.DataFrame(
        {
            col: [pd.Series(s[j], index=np.arange(s.shape[1]) * 10) for s in series]
            for j, col in enumerate(columns)
        },
        index=index,
    )


def test_nested_univ_equals_numpy():
    series = make_series(13)
    assert_panel_equal(to_panel(nested(series)), expected_panel(series, ["a", "b", "c"]))


def test_nested_univ_misaligned_cells_align_on_union_of_times():
    df = pd.DataFrame(
        {"a": [pd.Series([1.0, 2.0, 3.0], index=[0, 1, 2])], "b": [pd.Series([5.0, 6.0], [1, 3])]}
    )
    panel = to_panel(df)
    assert panel.lengths.tolist() == [4]
    assert panel.values[0].tolist() == [[1, 2, 3, 0], [0, 5, 0, 6]]
    assert panel.missing[0].tolist() == [[False, False, False, True], [True, False, True, False]]


def test_nested_univ_rejects_non_series_cell():
    df = nested(make_series(14))
    df.iat[1, 2] = 3.0
    with pytest.raises(TypeError, match=r"row 1, column 'c' is a float.*pd\.Series"):
        to_panel(df)


# -- sktime mtypes ----------------------------------------------------------------------------


@pytest.mark.parametrize("mtype", ["numpy3D", "pd-multiindex", "nested_univ", "df-list"])
def test_sktime_equal_length_mtypes_round_trip(mtype):
    sktime_datatypes = pytest.importorskip("sktime.datatypes")
    X = nan_padded(make_series(15, lengths=[6] * 4))
    obj = sktime_datatypes.convert_to(X, to_type=mtype)
    assert sktime_datatypes.check_is_mtype(obj, mtype, scitype="Panel")
    names = None if mtype == "numpy3D" else ["var_0", "var_1", "var_2"]
    assert_panel_equal(to_panel(obj), Panel(*_parts(to_panel(X)), names))


def _parts(panel):
    return panel.values, panel.lengths, panel.missing


def multiindex(series, instances=None, columns=("a", "b", "c")):
    instances = range(len(series)) if instances is None else instances
    frames = [
        pd.DataFrame(
            s.T,
            index=pd.MultiIndex.from_product([[k], np.arange(s.shape[1])], names=["id", "t"]),
            columns=list(columns),
        )
        for k, s in zip(instances, series, strict=True)
    ]
    return pd.concat(frames)


def test_pd_multiindex_unequal_length_equals_list():
    pytest.importorskip("sktime")
    series = make_series(16)
    df = multiindex(series, instances=["z", "b", "x", "a", "m"])
    assert_panel_equal(to_panel(df), expected_panel(series, ["a", "b", "c"]))


def test_pd_multiindex_interleaved_rows_keep_each_instance_together():
    # sktime's numpy3D converter reshapes rows and mixes interleaved instances up;
    # to_panel must not.
    pytest.importorskip("sktime")
    series = make_series(17, lengths=[5, 5, 5], n_missing=0)
    df = multiindex(series, instances=["q", "p", "r"])
    df = df.iloc[np.argsort(np.tile(np.arange(5), 3), kind="stable")]  # time-major rows
    assert df.index.get_level_values(0)[:3].tolist() == ["q", "p", "r"]
    assert_panel_equal(to_panel(df), expected_panel(series, ["a", "b", "c"]))


def test_pd_multiindex_nullable_and_integer_columns():
    pytest.importorskip("sktime")
    idx = pd.MultiIndex.from_product([[0, 1], range(3)])
    df = pd.DataFrame({"a": pd.array([1, 2, None, 4, 5, 6], dtype="Int64")}, index=idx)
    panel = to_panel(df)
    assert panel.values[:, 0].tolist() == [[1, 2, 0], [4, 5, 6]]
    assert panel.lengths.tolist() == [2, 3]  # the trailing NA of series 0 is padding


def test_pd_multiindex_invalid_reports_sktime_reason():
    pytest.importorskip("sktime")
    df = multiindex(make_series(18)).iloc[::-1]
    with pytest.raises(ValueError, match=r"not a valid sktime 'pd-multiindex'.*sorted"):
        to_panel(df)


def test_pd_multiindex_three_levels_rejected():
    idx = pd.MultiIndex.from_product([[0, 1], [0, 1], range(3)])
    df = pd.DataFrame({"a": np.arange(12.0) + 1}, index=idx)
    with pytest.raises(ValueError, match="3 levels; expected 2"):
        to_panel(df)


def test_nested_univ_matches_sktime_converter_unequal_length():
    sktime_datatypes = pytest.importorskip("sktime.datatypes")
    series = make_series(19)
    df = nested(series)
    frames = sktime_datatypes.convert_to(df, to_type="df-list")
    assert_panel_equal(to_panel(df), to_panel(frames))


# -- Panel ----------------------------------------------------------------------------------


def test_panel_passthrough_and_to_numpy_round_trip():
    panel = to_panel(make_series(20))
    assert to_panel(panel) is panel
    back = panel.to_numpy()
    assert np.isnan(back).sum() == (~panel.observed_mask).sum()
    assert_panel_equal(to_panel(back), panel)
    with pytest.raises(ValueError, match="Input X contains NaN"):
        to_panel(panel, allow_nan=False)


def test_panel_subset_trims_and_keeps_order():
    series = make_series(21)
    panel = to_panel(series)
    sub = panel.subset([3, 1])
    assert_panel_equal(sub, to_panel([series[3], series[1]]))
    assert sub.max_length == 4
    mask = np.array([False, True, False, True, False])
    assert_panel_equal(panel.subset(mask), to_panel([series[1], series[3]]))
    assert panel.subset([]).n_samples == 0


def test_panel_masks_and_repr():
    panel = to_panel(make_series(22))
    assert panel.valid_mask.tolist()[3] == [True] + [False] * 6
    assert (panel.observed_mask == (panel.valid_mask[:, None] & ~panel.missing)).all()
    assert not (panel.missing & ~panel.valid_mask[:, None]).any()
    assert len(panel) == 5 and "n_channels=3" in repr(panel)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"values": np.ones((2, 3))}, "must have shape"),
        ({"lengths": [3]}, r"lengths must have shape \(2,\)"),
        ({"lengths": [0, 3]}, r"lie in \[1, 3\]"),
        ({"missing": np.zeros((2, 1, 2), bool)}, "missing mask"),
        ({"channel_names": ["a", "b"]}, "2 channel name"),
    ],
)
def test_panel_constructor_checks(kwargs, match):
    args = {"values": np.ones((2, 1, 3)), "lengths": [3, 2]} | kwargs
    with pytest.raises(ValueError, match=match):
        Panel(**args)


# -- rejections -----------------------------------------------------------------------------

BAD_INPUTS = {
    "1-D": (np.arange(1.0, 6.0), ValueError, "got a 1-D array.*Reshape your data"),
    "0-D": (np.float64(1.5), ValueError, "0-D array.*Reshape your data"),
    "series": (pd.Series([1.0, 2.0]), ValueError, "1-D.*Reshape your data"),
    "flat list": ([1.0, 2.0, 3.0], ValueError, "1-D.*Reshape your data"),
    "4-D": (np.ones((2, 1, 3, 4)), ValueError, r"4-D array of shape \(2, 1, 3, 4\)"),
    "0 samples": (np.empty((0, 3)), ValueError, r"0 sample\(s\) \(shape=\(0, 3\)\)"),
    "0 samples 3-D": (np.empty((0, 2, 3)), ValueError, r"0 sample\(s\)"),
    "empty list": ([], ValueError, r"0 sample\(s\)"),
    "empty frame": (pd.DataFrame({"a": []}), ValueError, r"0 sample\(s\)"),
    "0 channels": (np.empty((2, 0, 3)), ValueError, r"0 channel\(s\)"),
    "0 timepoints": (np.empty((2, 3, 0)), ValueError, r"0 timepoint\(s\)"),
    "0 columns": (pd.DataFrame(index=[0, 1]), ValueError, r"0 feature\(s\)"),
    "complex": (np.ones((3, 4)) + 1j, ValueError, "Complex data not supported"),
    "complex list": ([np.ones(3) * 1j], ValueError, "Complex data not supported"),
    "complex object": (
        np.array([[1.0, 1j]], dtype=object),
        ValueError,
        "Complex data not supported",
    ),
    "complex frame": (pd.DataFrame({"a": [1j]}), ValueError, "Complex data not supported"),
    "bool": (np.ones((2, 3), dtype=bool), TypeError, "boolean dtype"),
    "str": (np.array([["a", "b"]]), TypeError, "string dtype"),
    "datetime": (np.array([["2020-01-01"]], dtype="datetime64[D]"), TypeError, "datetime"),
    "object str": (np.array([[1.0, "x"]], dtype=object), TypeError, "could not be converted"),
    "str frame": (pd.DataFrame({"a": [1.0], "b": ["x"]}), TypeError, r"non-numeric.*'b'"),
    "bool frame": (pd.DataFrame({"a": [True]}), TypeError, r"non-numeric.*'a'"),
    "dict": ({"a": [1.0]}, TypeError, "dict is not supported"),
    "string": ("abc", TypeError, "str is not supported"),
    "ragged element": ([[[1.0], [1.0, 2.0]]], ValueError, "could not be read as an array"),
    "3-D element": ([np.ones((1, 2, 3))], ValueError, r"X\[0\] has shape \(1, 2, 3\)"),
    "empty element": ([np.ones(3), np.ones(0)], ValueError, r"X\[1\] has length 0"),
    "0-channel element": ([np.ones((0, 3))], ValueError, r"X\[0\] has 0 channels"),
    "channels": (
        [np.ones((2, 4)), np.ones((3, 4))],
        ValueError,
        r"Inconsistent number of channels: X\[1\] has 3 but X\[0\] has 2",
    ),
    "mixed list": ([pd.DataFrame({"a": [1.0]}), np.ones(3)], TypeError, "mixes DataFrames"),
    "df-list columns": (
        [pd.DataFrame({"a": [1.0]}), pd.DataFrame({"b": [1.0]})],
        ValueError,
        r"X\[1\] has columns \['b'\]",
    ),
    "all-NaN series": (
        np.array([[1.0, 2.0], [np.nan, np.nan], [np.nan, np.nan]]),
        ValueError,
        r"2 series with no observed value.*sample\(s\) \[1, 2\]",
    ),
    "all-NaN list element": ([np.ones(2), np.full(3, np.nan)], ValueError, r"sample\(s\) \[1\]"),
    "inf": (np.array([[1.0, np.inf]]), ValueError, "Input X contains infinity"),
    "-inf": (np.array([[1.0, -np.inf]]), ValueError, "Input X contains infinity"),
    "too large": (np.array([[1e300]]), ValueError, "value too large for dtype"),
}


@pytest.mark.parametrize("name", list(BAD_INPUTS))
def test_rejections(name):
    X, exc, match = BAD_INPUTS[name]
    with pytest.raises(exc, match=match):
        to_panel(X)


def test_sparse_rejected():
    sparse = pytest.importorskip("scipy.sparse")
    with pytest.raises(TypeError, match="Sparse input is not supported"):
        to_panel(sparse.csr_matrix(np.eye(3)))


def test_inf_message_says_where():
    X = np.random.default_rng(23).normal(size=(3, 4, 5))
    X[1, 2, 3] = np.inf
    with pytest.raises(ValueError, match=r"1 value\(s\), first at \(sample 1, channel 2, time"):
        to_panel(X)


def test_allow_nan_false():
    X = np.random.default_rng(24).normal(size=(3, 4))
    assert not to_panel(X, allow_nan=False).has_missing
    X[1, 1] = np.nan
    with pytest.raises(ValueError, match=r"^Input X contains NaN\."):
        to_panel(X, allow_nan=False)
    padded = nan_padded(make_series(25, n_missing=0))
    with pytest.raises(ValueError, match="Input X contains NaN"):
        to_panel(padded, allow_nan=False)  # NaN padding is NaN too
    unequal = make_series(25, n_missing=0)
    assert to_panel(unequal, allow_nan=False).lengths.tolist() == LENGTHS  # our own padding


@pytest.mark.parametrize(
    "X, exc, pattern",
    [
        # sklearn 1.9 estimator_checks: check_estimators_empty_data_messages
        (
            np.empty(0).reshape(12, 0),
            ValueError,
            r"0 feature\(s\) \(shape=\(\d*, 0\)\) while a "
            r"minimum of \d* is required.",
        ),
        # check_dtype_object
        (
            np.array([[{"foo": "bar"}, 1.0]], dtype=object),
            TypeError,
            "argument must be .* string.* number",
        ),
        # check_fit2d_predict1d
        (np.arange(3.0), ValueError, "Reshape your data"),
        # check_complex_data
        (np.ones((10, 1)) + 1j, ValueError, "Complex data not supported"),
        # check_estimators_nan_inf (match=["inf", "NaN"])
        (np.array([[np.inf, 1.0]]), ValueError, "inf"),
    ],
)
def test_messages_satisfy_sklearn_checks(X, exc, pattern):
    with pytest.raises(exc) as info:
        to_panel(X)
    assert re.search(pattern, str(info.value))


# -- imports --------------------------------------------------------------------------------


def test_importing_the_data_floor_loads_neither_torch_nor_sktime():
    # sslearn/__init__ imports the estimators (and so torch); load the data floor on its own
    root = Path(__file__).resolve().parents[2]
    code = (
        "import sys, types; pkg = types.ModuleType('sslearn'); "
        f"pkg.__path__ = [{str(root / 'sslearn')!r}]; sys.modules['sslearn'] = pkg; "
        "import sslearn.data; print('torch' in sys.modules, 'sktime' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True)
    assert out.stdout.split() == ["False", "False"], out.stderr


def test_pd_multiindex_without_sktime_says_how_to_proceed(monkeypatch):
    monkeypatch.setitem(sys.modules, "sktime", None)
    monkeypatch.setitem(sys.modules, "sktime.datatypes", None)
    with pytest.raises(ImportError, match=r"needs sktime.*from_long\(X\.reset_index\(\)"):
        to_panel(multiindex(make_series(26)))
    # everything else works without sktime, including from_long's nested_univ layout
    assert to_panel(nested(make_series(26))).n_samples == 5


# -- found by tests/test_fuzz_inputs.py -------------------------------------------------


def test_tensors_and_other_array_likes_are_series():
    torch = pytest.importorskip("torch")
    series = make_series(31, n_missing=0)
    panel = to_panel([torch.tensor(s) for s in series])  # was numpy's "inhomogeneous shape"
    assert_panel_equal(panel, to_panel(series))


def test_object_columns_of_numbers_read_as_numbers():
    series = make_series(32, n_missing=0)
    univariate = [s[0] for s in series]
    as_objects = [pd.Series(s, dtype=object) for s in univariate]
    assert_panel_equal(to_panel(as_objects), to_panel(univariate))  # was "non-numeric"
    wide = pd.DataFrame(nan_padded(series)[:, 0]).astype(object)
    wide.iloc[0, 1] = pd.NA  # was pandas' "float() argument must be ... not 'NAType'"
    wide.iloc[1, 2] = None
    panel = to_panel(wide)
    assert panel.missing[0, 0, 1] and panel.missing[1, 0, 2]
    frame = multiindex(series).astype(object)
    assert_panel_equal(to_panel(frame), to_panel(series), names=False)


def test_nested_cells_may_be_lists():
    series = make_series(33, lengths=[4, 4, 2], n_missing=0)
    cells = pd.DataFrame({c: [list(s[j]) for s in series] for j, c in enumerate("abc")})
    assert_panel_equal(to_panel(cells), to_panel(series), names=False)


def test_a_series_of_text_is_named_as_one():
    with pytest.raises(TypeError, match=r"X\[1\] has non-numeric dtype"):
        to_panel([pd.Series([1.0, 2.0]), pd.Series(["a", "b"])])


def test_multiindex_with_repeated_time_stamps_is_refused():
    frame = multiindex(make_series(34, n_missing=0))
    frame = frame.set_axis(
        pd.MultiIndex.from_arrays([frame.index.get_level_values(0), np.zeros(len(frame), int)])
    )  # was sktime's "cannot reshape array"
    with pytest.raises(ValueError, match=r"duplicated \(instance, time\).*instance 0 at time 0"):
        to_panel(frame)


@pytest.mark.parametrize("times", ["float", "text"])
def test_multiindex_time_stamps_sktime_refuses_point_to_from_long(times):
    pytest.importorskip("sktime")
    frame = multiindex(make_series(35, n_missing=0))
    steps = frame.index.get_level_values(1)
    steps = steps * 0.5 if times == "float" else steps.astype(str)
    frame = frame.set_axis(pd.MultiIndex.from_arrays([frame.index.get_level_values(0), steps]))
    with pytest.raises(ValueError, match=r"time level holds .* from_long\(X\.reset_index\(\)"):
        to_panel(frame)
