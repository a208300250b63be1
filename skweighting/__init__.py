"""skweighting: learned, temperature-controlled attention weights over
scikit-learn models, fitted out-of-fold."""

from ._cv import SparseAttentionClassifierCV, SparseAttentionRegressorCV
from ._fixed import (
    SparseAttentionClassifier,
    SparseAttentionEnsemble,
    SparseAttentionRegressor,
)
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
