"""Helpers shared by the dataset tests."""

import numpy as np


def assert_same_panel(a, b):
    """Equal NaN-padded arrays: same shape, NaN at the same places, equal values elsewhere."""
    assert a.shape == b.shape
    np.testing.assert_array_equal(np.isnan(a), np.isnan(b))
    np.testing.assert_array_equal(np.nan_to_num(a), np.nan_to_num(b))
