"""sslearn: scikit-learn estimators for time series on a verified Liquid-S4 network."""

__version__ = "0.1.0.dev0"
