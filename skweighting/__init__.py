"""skweighting: learned, temperature-controlled attention weights over
scikit-learn models, fitted out-of-fold."""

from ._classifier import SparseAttentionClassifier
from ._cv import SparseAttentionClassifierCV, SparseAttentionRegressorCV
from ._ensemble import SparseAttentionEnsemble
from ._regressor import SparseAttentionRegressor
from .plotting import AttentionDisplay, TemperaturePathDisplay

__version__ = "0.1.0"

__all__ = [
    "AttentionDisplay",
    "SparseAttentionClassifier",
    "SparseAttentionClassifierCV",
    "SparseAttentionEnsemble",
    "SparseAttentionRegressor",
    "SparseAttentionRegressorCV",
    "TemperaturePathDisplay",
    "__version__",
]
