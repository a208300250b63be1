"""skweighting: learned, temperature-controlled attention weights over
scikit-learn models, fitted out-of-fold."""

from ._cv import SparseAttentionClassifierCV, SparseAttentionRegressorCV
from ._ensemble import SparseAttentionEnsemble
from ._fixed import SparseAttentionClassifier, SparseAttentionRegressor
from ._version import __version__
from .exceptions import InconsistentVersionWarning
from .plotting import AttentionDisplay, FrontierDisplay, TemperaturePathDisplay

__all__ = [
    "AttentionDisplay",
    "FrontierDisplay",
    "InconsistentVersionWarning",
    "SparseAttentionClassifier",
    "SparseAttentionClassifierCV",
    "SparseAttentionEnsemble",
    "SparseAttentionRegressor",
    "SparseAttentionRegressorCV",
    "TemperaturePathDisplay",
    "__version__",
]
