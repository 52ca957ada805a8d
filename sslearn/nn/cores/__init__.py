"""SSM cores: diagonal (S4D), DPLR (S4) and dense (LSSL).

:mod:`sslearn.nn.cores.frozen` holds a fitted core as real constants; streaming and ONNX
export import it from there (it is not re-exported here).
"""

from sslearn.nn.cores._base import (
    SSM_HINT,
    SSMCore,
    param_groups,
    register_ssm_parameter,
    ssm_parameters,
)
from sslearn.nn.cores.diagonal import DiagonalSSM
from sslearn.nn.cores.dplr import DPLRSSM
from sslearn.nn.cores.lssl import LSSLCore

__all__ = [
    "DPLRSSM",
    "SSM_HINT",
    "DiagonalSSM",
    "LSSLCore",
    "SSMCore",
    "param_groups",
    "register_ssm_parameter",
    "ssm_parameters",
]
