"""memory: each (module, training rows) fit is cached, so a search over the
ensemble's own parameters never fits a module on the same rows twice."""

import numpy as np
import pytest
from _helpers import CALLS, Spy
from _helpers import X_BINARY as X
from _helpers import Y_BINARY as Y
from joblib import Memory
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.naive_bayes import GaussianNB

from skweighting import SparseAttentionClassifier


def _ensemble(memory):
    return SparseAttentionClassifier(
        [
            ("lr", Spy(LogisticRegression(), tag="lr")),
            ("nb", Spy(GaussianNB(), tag="nb")),
        ],
        cv=3,
        memory=memory,
        random_state=0,
    )


def _fits(tag):
    return [c for c in CALLS if c[:2] == (tag, "fit")]


def test_grid_search_fits_each_module_once_per_rows(tmp_path):
    CALLS.clear()
    grid = {"temperature": [1.0, 10.0, 100.0], "combine": ["log", "linear"]}
    search = GridSearchCV(_ensemble(str(tmp_path)), grid, cv=2)
    search.fit(X, Y)
    # Rows a module is fitted on: per outer split, its 3 inner folds and the
    # outer training rows; then the final refit's 3 folds and all rows.
    distinct_rows = 2 * (3 + 1) + (3 + 1)
    for tag in ("lr", "nb"):
        assert len(_fits(tag)) == distinct_rows
    # The same search again: everything comes from the cache.
    CALLS.clear()
    GridSearchCV(_ensemble(str(tmp_path)), grid, cv=2).fit(X, Y)
    assert not _fits("lr") and not _fits("nb")


def test_cached_fit_gives_the_same_model(tmp_path):
    memory = Memory(tmp_path, verbose=0)
    first = _ensemble(memory).fit(X, Y)
    CALLS.clear()
    second = _ensemble(memory).fit(X, Y)
    assert not _fits("lr")
    np.testing.assert_array_equal(first.attention_weights_, second.attention_weights_)
    np.testing.assert_array_equal(first.predict_proba(X), second.predict_proba(X))


def test_warm_cache_does_not_call_the_fold_modules(tmp_path):
    # A fold's module only serves its held-out outputs, which the cache
    # keeps: a second fit neither fits nor calls the fold modules.
    memory = Memory(tmp_path, verbose=0)
    _ensemble(memory).fit(X, Y)
    CALLS.clear()
    _ensemble(memory).fit(X, Y)
    assert not [c for c in CALLS if c[1] == "predict_proba"]


class _NotProbabilities(LogisticRegression):
    def predict_proba(self, X):
        return 2 * super().predict_proba(X)


def test_cached_outputs_are_still_checked(tmp_path):
    # The raw outputs are cached and checked after every load: a module
    # that returns non-probabilities fails the same way from the cache.
    memory = Memory(tmp_path, verbose=0)
    ens = SparseAttentionClassifier(
        [("bad", _NotProbabilities()), ("nb", GaussianNB())], cv=3, memory=memory
    )
    for _ in range(2):
        with pytest.raises(ValueError, match="'bad'.*not probabilities"):
            clone(ens).fit(X, Y)
    assert len(memory.store_backend.get_items()) > 0


def test_changed_module_parameters_are_refitted(tmp_path):
    _ensemble(str(tmp_path)).fit(X, Y)
    CALLS.clear()
    _ensemble(str(tmp_path)).set_params(lr__estimator__C=0.1).fit(X, Y)
    assert len(_fits("lr")) == 4  # 3 folds and the refit, on new parameters
    assert not _fits("nb")


def test_sample_weight_is_part_of_the_key(tmp_path):
    modules = [("nb", GaussianNB()), ("lr", LogisticRegression())]
    weights = np.random.default_rng(0).uniform(0.1, 3.0, len(Y))
    cached = SparseAttentionClassifier(modules, cv=3, memory=str(tmp_path))
    cached.fit(X, Y)  # fills the cache with unweighted module fits
    cached.fit(X, Y, sample_weight=weights)
    fresh = SparseAttentionClassifier(modules, cv=3).fit(X, Y, sample_weight=weights)
    # Had the unweighted fits been loaded, the modules would differ.
    np.testing.assert_allclose(cached.predict_proba(X), fresh.predict_proba(X))
    assert not np.allclose(
        cached.named_estimators_["nb"].theta_,
        SparseAttentionClassifier(modules, cv=3)
        .fit(X, Y)
        .named_estimators_["nb"]
        .theta_,
    )
