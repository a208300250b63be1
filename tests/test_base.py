"""The shared fit (skweighting._base): what fit leaves behind.

Only the modules with non-zero weight are refitted, and pruned modules look
like ``'drop'`` ones; nothing stale is left from a previous fit; the given
modules are cloned, never fitted or changed, and prefit (frozen) ones are
never refitted; X reaches the modules as is (DataFrames, sparse matrices);
nested parameters, the HTML diagram with each module's weight, a warning
when the weights do not converge, and one when an ensemble is loaded under
another version.
"""

import pickle
import re
import warnings

import numpy as np
import pytest
from _helpers import X_BINARY as X
from _helpers import Y_BINARY as Y
from _helpers import spy_calls, three_classifiers
from scipy import sparse
from sklearn.base import clone
from sklearn.compose import ColumnTransformer
from sklearn.datasets import load_iris, make_regression
from sklearn.ensemble import RandomForestClassifier
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.naive_bayes import GaussianNB
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor
from sklearn.utils import estimator_html_repr
from sklearn.utils.validation import check_is_fitted

from skweighting import (
    InconsistentVersionWarning,
    SparseAttentionClassifier,
    SparseAttentionEnsemble,
    _prediction,
)


# --------------------------------------------------------------------------
# Refits and pruned modules
# --------------------------------------------------------------------------
def test_zero_weight_module_is_never_refitted(pruned):
    n = len(X)
    assert len(spy_calls("noise", "fit")) == 3  # its fold fits only
    assert not spy_calls("noise", "fit", n)  # never on all the rows
    for tag, weight in zip(["lr", "nb"], pruned.attention_weights_[:2]):
        assert len(spy_calls(tag, "fit", n)) == int(weight > 0)


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


# --------------------------------------------------------------------------
# The modules given
# --------------------------------------------------------------------------
def test_fit_does_not_fit_or_change_the_given_modules():
    modules = [("lr", LogisticRegression()), ("rf", RandomForestClassifier(3))]
    before = pickle.dumps(modules)
    SparseAttentionClassifier(modules, random_state=0).fit(X, Y)
    assert pickle.dumps(modules) == before
    with pytest.raises(NotFittedError):
        check_is_fitted(modules[0][1])


def test_prefit_modules_through_frozen_estimator(cancer):
    X_train, X_test, y_train, _ = cancer
    prefit = LogisticRegression(max_iter=5000).fit(X_test, _labels_for(X_test))
    ens = SparseAttentionClassifier(
        [("prefit", FrozenEstimator(prefit)), ("nb", GaussianNB())]
    ).fit(X_train, y_train)
    # The frozen module is used as is: never refitted.
    np.testing.assert_array_equal(ens.estimators_[0].estimator.coef_, prefit.coef_)


def _labels_for(X):
    return (X[:, 0] > np.median(X[:, 0])).astype(int)


def test_drop_nested_set_params_named_estimators_and_html(cancer):
    X_train, _, y_train, _ = cancer
    ens = SparseAttentionClassifier(three_classifiers())
    ens.set_params(tree="drop", lr__logisticregression__C=0.5)
    assert ens.get_params()["lr__logisticregression__C"] == 0.5
    ens.fit(X_train, y_train)
    assert ens.named_estimators_["tree"] == "drop"
    assert len(ens.estimators_) == len(ens.attention_weights_) == 2
    assert ens.module_names_ == ["lr", "nb"]
    assert ens.named_estimators_["lr"][-1].C == 0.5
    html = ens._repr_html_()
    assert "nb" in html and "GaussianNB" in html
    names = ens.get_feature_names_out()
    assert list(names[:2]) == [
        "sparseattentionclassifier_lr_0",
        "sparseattentionclassifier_lr_1",
    ]
    assert ens.transform(X_train[:5]).shape == (5, 4)


# --------------------------------------------------------------------------
# X as the modules take it
# --------------------------------------------------------------------------
def test_pandas_column_transformer_module_and_ensemble_in_a_pipeline():
    pd = pytest.importorskip("pandas")
    rng = np.random.default_rng(0)
    n = 240
    frame = pd.DataFrame(
        {
            "size": rng.normal(size=n),
            "colour": rng.choice(["red", "green", "blue"], size=n),
            "shape": pd.Categorical(rng.choice(["round", "square"], size=n)),
        }
    )
    y = np.where(
        (frame["colour"] == "red") | (frame["size"] > 0.8), "yes", "no"
    ).astype(object)
    encode = ColumnTransformer(
        [
            ("cat", OneHotEncoder(handle_unknown="ignore"), ["colour", "shape"]),
            ("num", StandardScaler(), ["size"]),
        ]
    )
    modules = [
        ("linear", make_pipeline(encode, LogisticRegression())),
        ("tree", make_pipeline(clone(encode), DecisionTreeClassifier(max_depth=3))),
    ]
    ens = SparseAttentionClassifier(modules, random_state=0).fit(frame, y)
    np.testing.assert_array_equal(ens.feature_names_in_, frame.columns)
    assert set(ens.predict(frame)) <= {"yes", "no"}
    assert ens.score(frame, y) > 0.9

    outer = make_pipeline(
        StandardScaler(), SparseAttentionClassifier(three_classifiers())
    )
    X, y = load_iris(return_X_y=True)
    outer.fit(X, y)
    assert outer.score(X, y) > 0.9
    assert outer[-1].attention_weights_.shape == (3,)


def test_sparse_X_when_the_modules_accept_it(cancer):
    X_train, X_test, y_train, _ = cancer
    X_sparse = sparse.csr_matrix(X_train)
    modules = [
        (
            "lr",
            make_pipeline(
                StandardScaler(with_mean=False), LogisticRegression(max_iter=5000)
            ),
        ),
        ("tree", DecisionTreeClassifier(max_depth=3, random_state=0)),
    ]
    ens = SparseAttentionClassifier(modules, random_state=0).fit(X_sparse, y_train)
    dense = SparseAttentionClassifier(modules, random_state=0).fit(X_train, y_train)
    # Sparse and dense fits of the logistic regression agree to solver tolerance.
    np.testing.assert_allclose(
        ens.attention_weights_, dense.attention_weights_, atol=1e-3
    )
    np.testing.assert_allclose(
        ens.predict_proba(sparse.csr_matrix(X_test)),
        dense.predict_proba(X_test),
        atol=2e-3,
    )


# --------------------------------------------------------------------------
# Convergence, display, persistence
# --------------------------------------------------------------------------
def test_non_convergence_warns(cancer):
    X_train, _, y_train, _ = cancer
    with pytest.warns(ConvergenceWarning, match=re.escape("max_iter=1")):
        SparseAttentionClassifier(three_classifiers(), max_iter=1).fit(X_train, y_train)


def test_the_html_diagram_shows_each_modules_weight_and_the_pruned_ones(pruned):
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
