"""Floor 1: the Liquid-S4 network in pure PyTorch (no sklearn, pandas or numpy validation).

Public pieces: :class:`LiquidSSM` (one layer), :class:`LiquidS4Block`,
:class:`LiquidS4Network`, :class:`ConvStem` (its optional convolutional front end) and
:func:`param_groups` (optimiser groups from parameter hints).
"""

from sslearn.nn.cores import param_groups
from sslearn.nn.layer import LIQUID_KERNELS, SSMS, LiquidSSM
from sslearn.nn.network import LiquidS4Block, LiquidS4Network
from sslearn.nn.stem import ConvStem

__all__ = [
    "LIQUID_KERNELS",
    "SSMS",
    "ConvStem",
    "LiquidS4Block",
    "LiquidS4Network",
    "LiquidSSM",
    "param_groups",
]
