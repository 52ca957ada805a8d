"""Small synthetic series shared by the estimator tests."""

import numpy as np

TINY = {
    "d_model": 8,
    "n_layers": 1,
    "d_state": 4,
    "stem_channels": 4,  # the default front end, small
    "max_epochs": 5,
    "batch_size": 16,
    "lr": 1e-2,
    "device": "cpu",
    "random_state": 0,
}


def sines(n=40, n_channels=2, length=24, n_classes=2, seed=0):
    """Class c oscillates at frequency 0.3 * (c + 1) in every channel, plus noise."""
    rng = np.random.RandomState(seed)
    y = np.arange(n) % n_classes
    t = np.arange(length)
    phase = rng.uniform(0, np.pi, size=(n, n_channels, 1))
    X = np.sin(0.3 * (y + 1)[:, None, None] * t + phase) + 0.1 * rng.randn(n, n_channels, length)
    return X, y


def frequencies(n=40, length=24, seed=0):
    """Univariate sines whose frequency is the target."""
    rng = np.random.RandomState(seed)
    y = rng.uniform(0.2, 1.0, size=n)
    X = np.sin(y[:, None] * np.arange(length))[:, None, :]
    return X, y
