"""sslearn: scikit-learn estimators for time series on a verified Liquid-S4 network."""

from sslearn._classifier import LiquidS4Classifier
from sslearn._onnx import export_onnx
from sslearn._persist import load, save
from sslearn._regressor import LiquidS4Regressor
from sslearn.training import Callback

__version__ = "0.1.0.dev0"

__all__ = [
    "Callback",
    "LiquidS4Classifier",
    "LiquidS4Regressor",
    "__version__",
    "export_onnx",
    "load",
    "save",
]
