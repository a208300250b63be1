"""The estimators: semantics, what users do with them, and bad input."""

import re
import warnings

import numpy as np
import pytest
from scipy import sparse
from sklearn.base import BaseEstimator, ClassifierMixin, clone, is_classifier
from sklearn.compose import ColumnTransformer
from sklearn.datasets import load_breast_cancer, load_iris, make_regression
from sklearn.exceptions import ConvergenceWarning
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LinearRegression, LogisticRegression, Ridge
from sklearn.model_selection import GridSearchCV, KFold, train_test_split
from sklearn.naive_bayes import GaussianNB
from sklearn.neighbors import KNeighborsClassifier, KNeighborsRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from sklearn.svm import SVC
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor
from sklearn.utils._param_validation import InvalidParameterError

from skweighting import (
    SparseAttentionClassifier,
    SparseAttentionEnsemble,
    SparseAttentionRegressor,
)
from skweighting._combinations import LogPooling
from skweighting._folds import fold_data
from skweighting._modules import fit_predict_fold


@pytest.fixture(scope="module")
def cancer():
    X, y = load_breast_cancer(return_X_y=True)
    return train_test_split(X, y, test_size=0.3, random_state=0, stratify=y)


def _three_classifiers():
    return [
        ("lr", make_pipeline(StandardScaler(), LogisticRegression())),
        ("tree", DecisionTreeClassifier(max_depth=2, random_state=0)),
        ("nb", GaussianNB()),
    ]


def _entropy(weights):
    weights = weights[weights > 0]
    return float(-np.sum(weights * np.log(weights)))


# --------------------------------------------------------------------------
# Temperature and out-of-fold semantics
# --------------------------------------------------------------------------
def test_temperature_moves_weights_from_the_best_module_to_uniform(cancer):
    X_train, _, y_train, _ = cancer
    weights = {}
    for temperature in (0.01, 0.1, 1.0, 10.0, 1e4):
        ens = SparseAttentionClassifier(
            _three_classifiers(), temperature=temperature, alpha=1e-2
        ).fit(X_train, y_train)
        weights[temperature] = ens.attention_weights_
    entropies = [_entropy(weights[t]) for t in sorted(weights)]
    assert np.all(np.diff(entropies) > -1e-6), entropies
    # Very hot: near uniform.
    np.testing.assert_allclose(weights[1e4], np.full(3, 1 / 3), atol=1e-3)
    # Cold: the module with the best out-of-fold score gets the most weight.
    best = int(np.argmax(ens.oof_scores_))
    assert ens.named_estimators_["lr"] is ens.estimators_[0]
    assert np.argmax(weights[0.01]) == best
    assert weights[0.01][best] > 0.5


def test_out_of_fold_weights_do_not_reward_an_overfitted_tree():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(400, 5))
    logits = X[:, 0] + 0.5 * X[:, 1]
    y = (logits + rng.normal(scale=1.5, size=400) > 0).astype(int)
    ens = SparseAttentionClassifier(
        [
            ("tree", DecisionTreeClassifier(random_state=0)),
            ("lr", LogisticRegression()),
        ],
        random_state=0,
    ).fit(X, y)
    # In-sample, the fully grown tree is perfect; out-of-fold it is not.
    assert ens.named_estimators_["tree"].score(X, y) == 1.0
    tree_weight, lr_weight = ens.attention_weights_
    assert lr_weight > tree_weight
    assert ens.oof_scores_[1] > ens.oof_scores_[0]


def test_log_pooling_fitted_attributes(cancer):
    X_train, X_test, y_train, y_test = cancer
    ens = SparseAttentionClassifier(_three_classifiers()).fit(X_train, y_train)
    assert ens.combine_ == "log"
    assert ens.sharpness_ > 0
    assert ens.attention_logits_.shape == (3,)
    np.testing.assert_allclose(
        ens.attention_weights_,
        np.exp(ens.attention_logits_) / np.exp(ens.attention_logits_).sum(),
    )
    assert ens.n_iter_ == len(ens.loss_curve_) >= 1
    assert ens.n_features_in_ == X_train.shape[1]
    proba = ens.predict_proba(X_test)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    # The pooled probabilities are what the formula in the docs says.
    outputs = [est.predict_proba(X_test) for est in ens.estimators_]
    pooled = ens.sharpness_ * sum(
        w * np.log(np.maximum(p, 1e-3)) for w, p in zip(ens.attention_weights_, outputs)
    )
    expected = np.exp(pooled - pooled.max(axis=1, keepdims=True))
    np.testing.assert_allclose(proba, expected / expected.sum(axis=1, keepdims=True))
    assert ens.score(X_test, y_test) > 0.9


def test_linear_mixture_predicts_the_weighted_mixture(cancer):
    X_train, X_test, y_train, _ = cancer
    ens = SparseAttentionClassifier(_three_classifiers(), combine="linear").fit(
        X_train, y_train
    )
    assert not hasattr(ens, "sharpness_")
    mixture = sum(
        w * est.predict_proba(X_test)
        for w, est in zip(ens.attention_weights_, ens.estimators_)
    )
    np.testing.assert_allclose(ens.predict_proba(X_test), mixture)


def test_regressor_predicts_the_weighted_average_and_ignores_units():
    X, y = make_regression(n_samples=150, n_features=4, noise=10.0, random_state=1)
    modules = [
        ("lin", LinearRegression()),
        ("tree", DecisionTreeRegressor(max_depth=2, random_state=0)),
        ("knn", KNeighborsRegressor()),
    ]
    reg = SparseAttentionRegressor(modules).fit(X, y)
    average = sum(
        w * est.predict(X) for w, est in zip(reg.attention_weights_, reg.estimators_)
    )
    np.testing.assert_allclose(reg.predict(X), average)
    # Rescaling and shifting y leaves the weights unchanged.
    moved = SparseAttentionRegressor(modules).fit(X, 1000.0 * y - 5e4)
    np.testing.assert_allclose(
        moved.attention_weights_, reg.attention_weights_, atol=1e-6
    )
    assert reg.oof_scores_[0] > reg.oof_scores_[1]  # linear data: linear wins


# --------------------------------------------------------------------------
# What users do with it
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
        StandardScaler(), SparseAttentionClassifier(_three_classifiers())
    )
    X, y = load_iris(return_X_y=True)
    outer.fit(X, y)
    assert outer.score(X, y) > 0.9
    assert outer[-1].attention_weights_.shape == (3,)


def test_grid_search_over_temperature(cancer):
    X_train, _, y_train, _ = cancer
    # With alpha=1e-2 the penalty's strength alpha * T^2 spans 1e-4 to 1 over
    # this grid: from the unpenalised optimum to nearly uniform weights.
    grid = [0.1, 1.0, 10.0]

    def ensemble(**params):
        return SparseAttentionClassifier(
            _three_classifiers(), alpha=1e-2, cv=3, random_state=0, **params
        )

    search = GridSearchCV(
        ensemble(), {"temperature": grid}, cv=3, scoring="neg_log_loss"
    ).fit(X_train, y_train)
    plain = {t: ensemble(temperature=t).fit(X_train, y_train) for t in grid}
    # The temperatures of the grid give different weights, and the search
    # saw it: its candidates' cross-validated scores differ.
    for low, high in zip(grid, grid[1:]):
        assert not np.allclose(
            plain[low].attention_weights_, plain[high].attention_weights_, atol=1e-3
        )
    assert len(set(search.cv_results_["mean_test_score"])) == len(grid)
    # The refitted best estimator is a plain fit at the chosen temperature.
    best = search.best_estimator_
    chosen = search.best_params_["temperature"]
    assert best.temperature == chosen
    np.testing.assert_allclose(
        best.attention_weights_, plain[chosen].attention_weights_, rtol=1e-10
    )
    np.testing.assert_allclose(
        best.predict_proba(X_train), plain[chosen].predict_proba(X_train), rtol=1e-10
    )


def test_multi_branch_over_the_same_input():
    X, y = load_iris(return_X_y=True)
    branches = [
        ("scaled_linear", make_pipeline(StandardScaler(), LogisticRegression())),
        ("raw_knn", KNeighborsClassifier(n_neighbors=15)),
        (
            "petals_only",
            make_pipeline(
                ColumnTransformer([("petals", "passthrough", [2, 3])]), GaussianNB()
            ),
        ),
    ]
    ens = SparseAttentionEnsemble(branches).fit(X, y)
    assert is_classifier(ens)
    assert ens.score(X, y) > 0.9
    assert list(ens.named_estimators_) == ["scaled_linear", "raw_knn", "petals_only"]


def test_string_labels_and_class_order(cancer):
    X_train, X_test, y_train, _ = cancer
    labels = np.array(["malignant", "benign"])[y_train]
    ens = SparseAttentionClassifier(_three_classifiers()).fit(X_train, labels)
    np.testing.assert_array_equal(ens.classes_, ["benign", "malignant"])
    assert set(ens.predict(X_test)) <= {"benign", "malignant"}


def test_fold_without_a_class_is_aligned_by_label():
    X = np.arange(30, dtype=float).reshape(-1, 1)
    y = np.repeat(["a", "b", "c"], 10)
    classes = np.array(["a", "b", "c"])
    # The fold that holds out the "a" rows trains on "b" and "c" only.
    train, test = np.arange(10, 30), np.arange(10)
    X_train, y_train, X_test = fold_data(X, y, train, test)
    output, _, _ = fit_predict_fold(
        KNeighborsClassifier(n_neighbors=1),
        "knn",
        (X_train, y_train, X_test),
        {},
        LogPooling(classes),
        memory=None,
        where="fold 1 of 3",
    )
    assert output.shape == (10, 3)
    np.testing.assert_array_equal(output[:, 0], 0.0)  # never seen: probability 0
    np.testing.assert_array_equal(output[:, 1], 1.0)  # nearest rows are "b"
    # End to end with unshuffled folds, where every fold misses a class.
    ens = SparseAttentionClassifier(
        [("knn", KNeighborsClassifier(n_neighbors=1)), ("nb", GaussianNB())],
        cv=KFold(3),
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nothing silently wrong
        ens.fit(X, y)
    assert np.all(np.isfinite(ens.attention_weights_))
    assert ens.predict_proba(X).shape == (30, 3)


def test_multi_output_regression():
    X, Y = make_regression(
        n_samples=120, n_features=4, n_targets=3, noise=5.0, random_state=0
    )
    ens = SparseAttentionEnsemble(
        [("ridge", Ridge()), ("knn", KNeighborsRegressor())], random_state=0
    ).fit(X, Y)
    assert not is_classifier(ens)
    assert ens.predict(X).shape == (120, 3)
    assert ens.transform(X).shape == (120, 6)
    assert len(ens.get_feature_names_out()) == 6
    assert ens.score(X, Y) > 0.8


def test_multi_output_needs_capable_modules():
    X, Y = make_regression(n_samples=60, n_features=3, n_targets=2, random_state=0)
    with pytest.raises(ValueError, match=r"2 outputs.*MultiOutputRegressor"):
        SparseAttentionRegressor().fit(X, Y)


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


def test_drop_nested_set_params_named_estimators_and_html(cancer):
    X_train, _, y_train, _ = cancer
    ens = SparseAttentionClassifier(_three_classifiers())
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


def test_default_portfolios_fit(cancer):
    X_train, X_test, y_train, y_test = cancer
    clf = SparseAttentionClassifier(random_state=0).fit(X_train, y_train)
    assert list(clf.named_estimators_) == [
        "logistic",
        "random_forest",
        "gradient_boosting",
        "naive_bayes",
    ]
    assert clf.score(X_test, y_test) > 0.93
    X, y = make_regression(n_samples=150, n_features=5, noise=5.0, random_state=0)
    reg = SparseAttentionRegressor(random_state=0).fit(X, y)
    assert reg.score(X, y) > 0.9


def test_random_state_seeds_unseeded_modules(cancer):
    from sklearn.ensemble import RandomForestClassifier

    X_train, _, y_train, _ = cancer
    modules = [("rf", RandomForestClassifier(n_estimators=5)), ("nb", GaussianNB())]
    first = SparseAttentionClassifier(modules, random_state=3).fit(X_train, y_train)
    second = SparseAttentionClassifier(modules, random_state=3).fit(X_train, y_train)
    np.testing.assert_array_equal(first.attention_weights_, second.attention_weights_)
    assert modules[0][1].random_state is None  # the user's module is untouched


# --------------------------------------------------------------------------
# Sample weights
# --------------------------------------------------------------------------
def test_sample_weight_reaches_the_modules(cancer):
    X_train, _, y_train, _ = cancer
    weights = np.random.default_rng(0).uniform(0.1, 3.0, size=len(y_train))
    ens = SparseAttentionClassifier(_three_classifiers()).fit(
        X_train, y_train, sample_weight=weights
    )
    # Every step that accepts the weights gets them, as repeated rows would.
    direct = make_pipeline(StandardScaler(), LogisticRegression()).fit(
        X_train,
        y_train,
        standardscaler__sample_weight=weights,
        logisticregression__sample_weight=weights,
    )
    np.testing.assert_allclose(
        ens.named_estimators_["lr"][-1].coef_, direct[-1].coef_, rtol=1e-6
    )
    unweighted = SparseAttentionClassifier(_three_classifiers()).fit(X_train, y_train)
    assert not np.allclose(ens.attention_weights_, unweighted.attention_weights_)


def test_sample_weight_in_the_objective_equals_dropping_rows(cancer):
    X_train, X_test, y_train, y_test = cancer
    # Frozen modules give the same outputs whatever the folds, so a zero weight
    # must be exactly the same as removing the row.
    modules = [
        ("lr", FrozenEstimator(LogisticRegression(max_iter=5000).fit(X_test, y_test))),
        ("nb", FrozenEstimator(GaussianNB().fit(X_test, y_test))),
        (
            "tree",
            FrozenEstimator(DecisionTreeClassifier(max_depth=2).fit(X_test, y_test)),
        ),
    ]
    keep = np.arange(len(y_train)) % 3 != 0
    weighted = SparseAttentionClassifier(modules).fit(
        X_train, y_train, sample_weight=keep.astype(float)
    )
    dropped = SparseAttentionClassifier(modules).fit(X_train[keep], y_train[keep])
    np.testing.assert_allclose(
        weighted.attention_weights_, dropped.attention_weights_, atol=1e-6
    )


def test_sample_weight_rejected_by_a_module_names_it(cancer):
    X_train, _, y_train, _ = cancer
    ens = SparseAttentionClassifier(
        [("knn", KNeighborsClassifier()), ("nb", GaussianNB())]
    )
    with pytest.raises(
        TypeError, match=r"module 'knn' \(KNeighborsClassifier\).*sample_weight"
    ):
        ens.fit(X_train, y_train, sample_weight=np.ones(len(y_train)))


# --------------------------------------------------------------------------
# Bad input: clear errors
# --------------------------------------------------------------------------
class _NaNClassifier(ClassifierMixin, BaseEstimator):
    def fit(self, X, y):
        self.classes_ = np.unique(y)
        return self

    def predict_proba(self, X):
        return np.full((len(X), len(self.classes_)), np.nan)


class _Broken(ClassifierMixin, BaseEstimator):
    def fit(self, X, y):
        raise RuntimeError("boom")

    def predict_proba(self, X):  # pragma: no cover - never reached
        return None


X_SMALL, Y_SMALL = load_iris(return_X_y=True)


@pytest.mark.parametrize(
    "params, error, message",
    [
        ({"temperature": 0}, InvalidParameterError, r"'temperature' parameter"),
        ({"temperature": -1.0}, InvalidParameterError, r"range \(0.0, inf\)"),
        ({"alpha": -1e-3}, InvalidParameterError, r"'alpha' parameter"),
        ({"estimators": []}, ValueError, r"non-empty list of \(name, estimator\)"),
        (
            {"estimators": [("a", GaussianNB()), ("a", LogisticRegression())]},
            ValueError,
            r"Names provided are not unique",
        ),
        (
            {"estimators": [("a__b", GaussianNB())]},
            ValueError,
            r"must not contain __",
        ),
        (
            {"estimators": [("alpha", GaussianNB())]},
            ValueError,
            r"conflict with constructor arguments",
        ),
        (
            {"estimators": [("a", "drop"), ("b", "drop")]},
            ValueError,
            r"All estimators are dropped.*Keep at least one",
        ),
        (
            {"estimators": [("svc", SVC()), ("nb", GaussianNB())]},
            ValueError,
            r"module 'svc' \(SVC\) has no predict_proba.*CalibratedClassifierCV",
        ),
        (
            {"estimators": [("ridge", Ridge()), ("nb", GaussianNB())]},
            ValueError,
            r"module 'ridge' \(Ridge\) is not a classifier",
        ),
        (
            {"estimators": [("nan", _NaNClassifier())]},
            ValueError,
            r"module 'nan' \(_NaNClassifier\) returned NaN or infinite",
        ),
        (
            {"estimators": [("broken", _Broken()), ("nb", GaussianNB())]},
            RuntimeError,
            r"module 'broken' \(_Broken\) failed to fit on "
            r"(fold \d of 5|all rows): boom",
        ),
    ],
)
def test_bad_parameters_have_clear_errors(params, error, message):
    ens = SparseAttentionClassifier(_three_classifiers()).set_params(**params)
    with pytest.raises(error, match=message):
        ens.fit(X_SMALL, Y_SMALL)


def test_failing_module_keeps_the_original_error_as_cause():
    ens = SparseAttentionClassifier([("broken", _Broken())])
    with pytest.raises(RuntimeError) as info:
        ens.fit(X_SMALL, Y_SMALL)
    assert isinstance(info.value.__cause__, RuntimeError)
    assert str(info.value.__cause__) == "boom"


def test_classifiers_mixed_with_regressors():
    ens = SparseAttentionEnsemble([("nb", GaussianNB()), ("ridge", Ridge())])
    with pytest.raises(ValueError, match=r"all classifiers or all regressors.*'nb'"):
        ens.fit(X_SMALL, Y_SMALL)
    with pytest.raises(ValueError, match=r"combine='log'.*regressors"):
        SparseAttentionEnsemble([("ridge", Ridge())], combine="log").fit(
            X_SMALL, Y_SMALL.astype(float)
        )


def test_too_few_samples_for_cv():
    with pytest.raises(ValueError, match=r"n_samples=4 with cv=5.*smaller cv"):
        SparseAttentionClassifier(_three_classifiers()).fit(
            X_SMALL[[0, 1, 50, 51]], Y_SMALL[[0, 1, 50, 51]]
        )


def test_wrong_kind_of_y():
    with pytest.raises(ValueError, match=r"Unknown label type: continuous"):
        SparseAttentionClassifier(_three_classifiers()).fit(
            X_SMALL, X_SMALL[:, 0] + 0.01
        )
    with pytest.raises(ValueError, match=r"only one class.*at least 2 classes"):
        SparseAttentionClassifier(_three_classifiers()).fit(X_SMALL, np.zeros(150))
    with pytest.raises(ValueError, match=r"needs numeric regression targets"):
        SparseAttentionRegressor([("ridge", Ridge())]).fit(
            X_SMALL, np.array(["a", "b", "c"])[Y_SMALL]
        )


def test_cv_must_hold_out_every_sample_once():
    splits = [(np.arange(100), np.arange(100, 150))]
    with pytest.raises(ValueError, match=r"exactly one test fold.*K-fold"):
        SparseAttentionClassifier(_three_classifiers(), cv=splits).fit(X_SMALL, Y_SMALL)


def test_non_convergence_warns(cancer):
    X_train, _, y_train, _ = cancer
    with pytest.warns(ConvergenceWarning, match=re.escape("max_iter=1")):
        SparseAttentionClassifier(_three_classifiers(), max_iter=1).fit(
            X_train, y_train
        )


def test_unfitted_and_wrong_width():
    from sklearn.exceptions import NotFittedError

    ens = SparseAttentionClassifier(_three_classifiers())
    with pytest.raises(NotFittedError):
        ens.predict(X_SMALL)
    ens.fit(X_SMALL, Y_SMALL)
    with pytest.raises(ValueError, match=r"X has 2 features, but .* expecting 4"):
        ens.predict(X_SMALL[:, :2])


@pytest.mark.parametrize("cv", [3, KFold(3), KFold(3, shuffle=True, random_state=0)])
def test_x_and_y_of_different_lengths_are_refused_before_any_fit(cv):
    X, y = make_regression(n_samples=30, n_features=3, random_state=0)
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        SparseAttentionRegressor([("lr", LinearRegression())], cv=cv).fit(X, y[:-1])
    labels = (y > 0).astype(int)
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        SparseAttentionClassifier([("nb", GaussianNB())], cv=cv).fit(X[:-1], labels)
