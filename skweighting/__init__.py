"""skweighting: learned, temperature-controlled attention weights over
scikit-learn models, fitted out-of-fold."""

from ._classifier import SparseAttentionClassifier
from ._ensemble import SparseAttentionEnsemble
from ._regressor import SparseAttentionRegressor

__version__ = "0.1.0"

__all__ = [
    "SparseAttentionClassifier",
    "SparseAttentionEnsemble",
    "SparseAttentionRegressor",
    "__version__",
]
