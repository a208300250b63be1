"""The fit / predict orchestration: order of the fits, pruning of modules
with zero weight, what pruned modules look like, stale state on refit."""

import time

import numpy as np
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.datasets import make_classification, make_regression
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.naive_bayes import GaussianNB
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

from skweighting import (
    SparseAttentionClassifier,
    SparseAttentionEnsemble,
    SparseAttentionRegressor,
)

X, Y = make_classification(
    n_samples=150, n_features=6, n_informative=4, random_state=0, flip_y=0.05
)
CALLS = []  # (tag, method, n_rows), appended in call order


class Spy(ClassifierMixin, BaseEstimator):
    """Wraps a classifier and records every fit and predict_proba call;
    ``flip=True`` fits it on flipped binary labels: a module that is
    systematically wrong, which only hurts a combination with weights >= 0."""

    def __init__(self, estimator=None, tag="spy", flip=False, delay=0.0):
        self.estimator = estimator
        self.tag = tag
        self.flip = flip
        self.delay = delay

    def fit(self, X, y):
        CALLS.append((self.tag, "fit", len(X)))
        time.sleep(self.delay)
        if self.flip:
            y = 1 - y
        self.estimator_ = clone(self.estimator).fit(X, y)
        self.classes_ = self.estimator_.classes_
        return self

    def predict_proba(self, X):
        CALLS.append((self.tag, "predict_proba", len(X)))
        return self.estimator_.predict_proba(X)

    def predict(self, X):
        CALLS.append((self.tag, "predict", len(X)))
        return self.estimator_.predict(X)


def _calls(tag, method, n_rows=None):
    return [c for c in CALLS if c[:2] == (tag, method) and n_rows in (None, c[2])]


def _spied_ensemble(normaliser="sparsemax", **params):
    return SparseAttentionClassifier(
        [
            ("lr", Spy(LogisticRegression(), tag="lr")),
            ("nb", Spy(GaussianNB(), tag="nb")),
            ("noise", Spy(DecisionTreeClassifier(), tag="noise", flip=True)),
        ],
        normaliser=normaliser,
        combine="linear",
        cv=3,
        **params,
    )


@pytest.fixture
def pruned():
    CALLS.clear()
    ens = _spied_ensemble().fit(X, Y)
    assert ens.attention_weights_[2] == 0.0  # it learned flipped labels
    assert ens.attention_weights_[0] > 0
    return ens


def test_zero_weight_module_is_never_refitted(pruned):
    n = len(X)
    assert len(_calls("noise", "fit")) == 3  # its fold fits only
    assert not _calls("noise", "fit", n)  # never on all the rows
    for tag, weight in zip(["lr", "nb"], pruned.attention_weights_[:2]):
        assert len(_calls(tag, "fit", n)) == int(weight > 0)


def test_fold_fits_come_first_then_the_refits():
    CALLS.clear()
    _spied_ensemble().fit(X, Y)
    fits = [c for c in CALLS if c[1] == "fit"]
    first_full = next(i for i, c in enumerate(fits) if c[2] == len(X))
    assert all(c[2] < len(X) for c in fits[:first_full])
    assert all(c[2] == len(X) for c in fits[first_full:])
    assert first_full == 9  # 3 modules x 3 folds


def test_softmax_refits_go_first_in_the_same_call():
    # Softmax weights are never exactly zero, so every module is refitted
    # anyway: the refits lead the one joblib call, and each module is still
    # fitted once on all rows and kept in its own order.
    CALLS.clear()
    ens = _spied_ensemble(normaliser="softmax").fit(X, Y)
    fits = [c for c in CALLS if c[1] == "fit"]
    assert [c[2] for c in fits[:3]] == [len(X)] * 3
    assert all(c[2] < len(X) for c in fits[3:]) and len(fits) == 12
    assert [e.tag for e in ens.estimators_] == ["lr", "nb", "noise"]
    assert np.all(ens.modules_["refit_time"] > 0)


def _tree():
    return DecisionTreeClassifier(max_depth=3, random_state=0)


def test_slowest_module_of_the_folds_done_goes_first():
    # Within each fold, the module that took longest on the folds already
    # done is dispatched first, so that with n_jobs > 1 no worker is left
    # with a long fit at the end; the stores still get each output at its
    # module and fold, whatever the order.
    CALLS.clear()
    modules = [
        ("lr", Spy(LogisticRegression(), tag="lr")),
        ("nb", Spy(GaussianNB(), tag="nb")),
        ("slow", Spy(_tree(), tag="slow", delay=0.05)),
    ]
    params = dict(normaliser="sparsemax", prune_tol=0, cv=3, random_state=0)
    ens = SparseAttentionClassifier(modules, **params).fit(X, Y)
    fold_fits = [c[0] for c in CALLS if c[1] == "fit" and c[2] < len(X)]
    assert fold_fits[:3] == ["lr", "nb", "slow"]  # nothing measured yet
    assert fold_fits[3] == fold_fits[6] == "slow"
    assert ens.modules_["fold_fit_time"][2] > 3 * 0.05
    # The same weights as without the delay, whose folds run in another
    # order: every output was stored at its own module's place.
    modules[2] = ("slow", Spy(_tree(), tag="slow"))
    same = SparseAttentionClassifier(modules, **params).fit(X, Y)
    np.testing.assert_allclose(ens.attention_weights_, same.attention_weights_)
    assert np.all(ens.attention_weights_ > 0)


@pytest.mark.parametrize("method", ["predict", "predict_proba", "score", "transform"])
def test_zero_weight_module_is_never_called_at_predict(pruned, method):
    CALLS.clear()
    args = (X, Y) if method == "score" else (X,)
    getattr(pruned, method)(*args)
    assert not [c for c in CALLS if c[0] == "noise"]
    assert _calls("lr", "predict_proba")


def test_pruned_modules_look_like_drop(pruned):
    assert pruned.module_names_ == ["lr", "nb", "noise"]
    np.testing.assert_array_equal(pruned.support_, pruned.attention_weights_ > 0)
    assert pruned.n_nonzero_ == pruned.support_.sum()
    assert len(pruned.estimators_) == pruned.n_nonzero_
    assert pruned.named_estimators_["noise"] == "drop"
    kept = [n for n, s in zip(pruned.module_names_, pruned.support_) if s]
    assert all(pruned.named_estimators_[n] is not None for n in kept)
    assert [e.tag for e in pruned.estimators_] == kept
    names = pruned.get_feature_names_out()
    assert len(names) == 2 * pruned.n_nonzero_
    assert not any("noise" in name for name in names)
    assert pruned.transform(X).shape == (len(X), len(names))


def test_pruned_prediction_equals_the_weighted_combination(pruned):
    proba = pruned.predict_proba(X)
    outputs = [e.predict_proba(X) for e in pruned.estimators_]
    weights = pruned.attention_weights_[pruned.support_]
    np.testing.assert_allclose(proba, sum(w * o for w, o in zip(weights, outputs)))


def test_dropped_and_pruned_modules_together(pruned):
    ens = clone(pruned).set_params(nb="drop").fit(X, Y)
    assert ens.module_names_ == ["lr", "noise"]
    assert ens.named_estimators_["nb"] == "drop"
    assert ens.named_estimators_["noise"] == "drop"


def test_refit_clears_stale_fitted_attributes():
    ens = SparseAttentionEnsemble(
        [("lr", LogisticRegression()), ("tree", DecisionTreeClassifier(max_depth=2))]
    ).fit(X, Y)
    assert hasattr(ens, "classes_") and hasattr(ens, "sharpness_")
    X_reg, y_reg = make_regression(n_samples=80, n_features=4, random_state=0)
    ens.set_params(
        estimators=[("ridge", Ridge()), ("tree", DecisionTreeRegressor(max_depth=2))]
    ).fit(X_reg, y_reg)
    assert not hasattr(ens, "classes_")
    assert not hasattr(ens, "sharpness_")
    clf = SparseAttentionClassifier(
        [("lr", LogisticRegression()), ("nb", GaussianNB())]
    ).fit(X, Y)
    assert hasattr(clf, "sharpness_")
    clf.set_params(combine="linear").fit(X, Y)
    assert not hasattr(clf, "sharpness_")
    assert clf.combine_ == "linear"


class NoReturnSelf(ClassifierMixin, BaseEstimator):
    """A module whose fit forgets ``return self``."""

    def fit(self, X, y):
        self.model_ = LogisticRegression().fit(X, y)
        self.classes_ = self.model_.classes_

    def predict_proba(self, X):
        return self.model_.predict_proba(X)


def test_module_whose_fit_does_not_return_self():
    ens = SparseAttentionClassifier([("odd", NoReturnSelf()), ("nb", GaussianNB())])
    ens.fit(X, Y)
    assert ens.predict_proba(X).shape == (len(X), 2)


def test_regressor_prunes_too():
    X_reg, y_reg = make_regression(
        n_samples=150, n_features=4, noise=1.0, random_state=0
    )
    from sklearn.dummy import DummyRegressor

    reg = SparseAttentionRegressor(
        [("ridge", Ridge()), ("mean", DummyRegressor())],
        normaliser="sparsemax",
    ).fit(X_reg, y_reg)
    np.testing.assert_array_equal(reg.attention_weights_, [1.0, 0.0])
    assert reg.named_estimators_["mean"] == "drop"
    np.testing.assert_allclose(
        reg.predict(X_reg), reg.named_estimators_["ridge"].predict(X_reg)
    )


def test_the_html_diagram_shows_each_modules_weight_and_the_pruned_ones(pruned):
    from sklearn.utils import estimator_html_repr

    html = estimator_html_repr(pruned)
    for name, weight in zip(pruned.module_names_, pruned.attention_weights_):
        label = f"{name}: pruned" if weight == 0 else f"{name}: weight {weight:.3g}"
        assert label in html
    assert "pruned" in html  # the fixture prunes a module
    unfitted = estimator_html_repr(clone(pruned))
    for name in pruned.module_names_:
        assert f"{name}: pruned" not in unfitted
        assert f"{name}: weight" not in unfitted


def test_a_fitted_ensemble_loaded_under_another_version_warns(pruned, monkeypatch):
    import pickle
    import warnings

    from skweighting import InconsistentVersionWarning, _prediction

    saved = pickle.dumps(pruned)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loaded = pickle.loads(saved)  # same version: silent
    np.testing.assert_array_equal(loaded.predict_proba(X), pruned.predict_proba(X))
    monkeypatch.setattr(_prediction, "__version__", "99.0")
    with pytest.warns(InconsistentVersionWarning) as record:
        pickle.loads(saved)
    assert len(record) == 1
    assert record[0].message.original_version != "99.0"
    assert "fitted with skweighting" in str(record[0].message)
