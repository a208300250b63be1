"""A new normaliser or combination is one object, registered: the
estimators accept it without any change to their code."""

import numpy as np
import pytest
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression
from sklearn.naive_bayes import GaussianNB
from sklearn.tree import DecisionTreeClassifier

from skweighting import SparseAttentionClassifier, SparseAttentionClassifierCV
from skweighting._combinations import LinearMixture
from skweighting._normalisers import NORMALISERS, Normaliser
from skweighting._tasks import CLASSIFICATION

X, Y = make_classification(n_samples=150, n_features=6, random_state=0)
MODULES = [
    ("lr", LogisticRegression()),
    ("nb", GaussianNB()),
    ("tree", DecisionTreeClassifier(max_depth=2, random_state=0)),
]


def _uniform(u):
    return np.full(len(u), 1.0 / len(u))


UNIFORM = Normaliser(
    forward=_uniform,
    backward=lambda weights, grad_weights: np.zeros_like(grad_weights),
    preimage=lambda weights: np.zeros_like(weights),
)


@pytest.fixture
def uniform(monkeypatch):
    monkeypatch.setitem(NORMALISERS, "uniform", UNIFORM)


def test_a_registered_normaliser_is_accepted_and_used(uniform):
    ens = SparseAttentionClassifier(MODULES, normaliser="uniform", cv=3).fit(X, Y)
    np.testing.assert_allclose(ens.attention_weights_, np.full(3, 1 / 3))
    assert ens.n_nonzero_ == 3  # not sparse: nothing pruned
    cv = SparseAttentionClassifierCV(
        MODULES, normalisers=("uniform", "softmax"), temperatures=3, cv=3
    ).fit(X, Y)
    assert set(cv.cv_results_["param_normaliser"]) >= {"uniform", "softmax"}


def test_an_unregistered_normaliser_is_a_clear_error():
    with pytest.raises(ValueError, match="normaliser"):
        SparseAttentionClassifier(MODULES, normaliser="uniform").fit(X, Y)


class ToyMixture(LinearMixture):
    """A toy combination: the linear mixture, reported under its own name."""

    name = "toy"


def test_a_registered_combination_is_accepted_and_used(monkeypatch):
    monkeypatch.setitem(CLASSIFICATION.combinations, "toy", ToyMixture)
    ens = SparseAttentionClassifier(MODULES, combine="toy", cv=3).fit(X, Y)
    assert ens.combine_ == "toy"
    linear = SparseAttentionClassifier(MODULES, combine="linear", cv=3).fit(X, Y)
    np.testing.assert_allclose(ens.attention_weights_, linear.attention_weights_)
    cv = SparseAttentionClassifierCV(
        MODULES, combines=("toy", "log"), temperatures=3, cv=3
    ).fit(X, Y)
    assert set(cv.cv_results_["param_combine"]) == {"toy", "log"}
