"""Fault injection, bad input, determinism and concurrency.

Every fault a module can produce, and every bad input listed in
docs/reliability.md, must end in an exception that says what was wrong
(naming the module when a module is at fault), never in NaN weights or
silently wrong predictions. docs/reliability.md collects the messages users
see; docs/design.md says why.
"""

import pickle
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from sklearn.base import (
    BaseEstimator,
    ClassifierMixin,
    RegressorMixin,
    clone,
    is_classifier,
    is_regressor,
)
from sklearn.datasets import make_classification, make_regression
from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor
from sklearn.exceptions import NotFittedError
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LinearRegression, LogisticRegression, Ridge
from sklearn.model_selection import KFold
from sklearn.naive_bayes import GaussianNB
from sklearn.neighbors import KNeighborsClassifier, KNeighborsRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor
from sklearn.utils._param_validation import InvalidParameterError
from sklearn.utils.validation import check_is_fitted
from threadpoolctl import threadpool_limits

from skweighting import (
    SparseAttentionClassifier,
    SparseAttentionEnsemble,
    SparseAttentionRegressor,
)
from skweighting._combinations._common import PROBA_FLOOR


@pytest.fixture(autouse=True, scope="module")
def _single_threaded_blas():
    # Tiny problems: multi-threaded BLAS only adds spin-waiting.
    with threadpool_limits(limits=1):
        yield


X, Y = make_classification(
    n_samples=90,
    n_features=5,
    n_informative=3,
    n_redundant=0,
    n_classes=3,
    random_state=0,
)
Y_STR = np.array(["bird", "cat", "dog"])[Y]
X_REG, Y_REG = make_regression(n_samples=80, n_features=5, noise=5.0, random_state=0)


# --------------------------------------------------------------------------
# Small misbehaving estimators
# --------------------------------------------------------------------------
class CodedError(Exception):
    """An exception whose constructor does not take a single message."""

    def __init__(self, code, detail):
        super().__init__(code, detail)
        self.code = code


class FaultyClassifier(ClassifierMixin, BaseEstimator):
    """GaussianNB that fails, or outputs NaN/inf, when told to.

    fail_in : None, "fit" or "predict_proba"
    bad_value : None or a float written into the first probability
    error : "runtime" or "coded" (an exception with an unusual constructor)
    """

    def __init__(self, fail_in=None, bad_value=None, error="runtime"):
        self.fail_in = fail_in
        self.bad_value = bad_value
        self.error = error

    def _fail(self, where):
        if self.fail_in == where:
            if self.error == "coded":
                raise CodedError(42, f"coded failure in {where}")
            raise RuntimeError(f"boom in {where}")

    def fit(self, X, y):
        self._fail("fit")
        self.nb_ = GaussianNB().fit(X, y)
        self.classes_ = self.nb_.classes_
        self.n_features_in_ = self.nb_.n_features_in_
        return self

    def predict_proba(self, X):
        self._fail("predict_proba")
        proba = self.nb_.predict_proba(X)
        if self.bad_value is not None:
            proba[0, 0] = self.bad_value
        return proba

    def predict(self, X):
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]


class FaultyRegressor(RegressorMixin, BaseEstimator):
    """Ridge that fails, or outputs NaN/inf or huge values, when told to."""

    def __init__(self, fail_in=None, bad_value=None, constant=None):
        self.fail_in = fail_in
        self.bad_value = bad_value
        self.constant = constant

    def fit(self, X, y):
        if self.fail_in == "fit":
            raise RuntimeError("boom in fit")
        self.ridge_ = Ridge().fit(X, y)
        self.n_features_in_ = self.ridge_.n_features_in_
        return self

    def predict(self, X):
        if self.fail_in == "predict":
            raise RuntimeError("boom in predict")
        if self.constant is not None:
            return np.full(len(X), float(self.constant))
        prediction = self.ridge_.predict(X)
        if self.bad_value is not None:
            prediction[0] = self.bad_value
        return prediction


class LogFeatureRegressor(RegressorMixin, BaseEstimator):
    """Regresses y on log(x0): NaN for x0 <= 0, a realistic predict-time fault."""

    def fit(self, X, y):
        X = np.asarray(X)
        self.lr_ = LinearRegression().fit(np.log(np.abs(X[:, :1]) + 1.0), y)
        self.n_features_in_ = X.shape[1]
        return self

    def predict(self, X):
        X = np.asarray(X)
        with np.errstate(invalid="ignore", divide="ignore"):
            feature = np.log(X[:, 0] + 1.0)
        return self.lr_.coef_[0] * feature + self.lr_.intercept_


class LabelOracle(ClassifierMixin, BaseEstimator):
    """Reads the sample id in column 0 and looks its label up in `labels`.

    shift=0 puts probability 1 on the true class; shift=k puts it on the
    class k places further in ``classes_``, so exactly 0 on the true class.
    A true class the module was not fitted on gets uniform probabilities.
    """

    def __init__(self, labels=None, shift=0):
        self.labels = labels
        self.shift = shift

    def fit(self, X, y):
        self.classes_ = np.unique(y)
        self.n_features_in_ = np.asarray(X).shape[1]
        return self

    def predict_proba(self, X):
        true = np.asarray(self.labels)[np.asarray(X)[:, 0].astype(int)]
        n_classes = len(self.classes_)
        proba = np.full((len(true), n_classes), 1.0 / n_classes)
        known = np.isin(true, self.classes_)
        code = np.searchsorted(self.classes_, true[known])
        proba[known] = np.eye(n_classes)[(code + self.shift) % n_classes]
        return proba

    def predict(self, X):
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]


class PermutedClassesClassifier(ClassifierMixin, BaseEstimator):
    """Wraps a classifier and reverses its ``classes_`` and its probability
    columns together: consistent, but not in sorted order."""

    def __init__(self, estimator=None):
        self.estimator = estimator

    def fit(self, X, y):
        self.estimator_ = clone(self.estimator).fit(X, y)
        self.classes_ = self.estimator_.classes_[::-1]
        self.n_features_in_ = self.estimator_.n_features_in_
        return self

    def predict_proba(self, X):
        return self.estimator_.predict_proba(X)[:, ::-1]

    def predict(self, X):
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]


def _classifier(*modules, **params):
    base = [("nb", GaussianNB()), ("tree", DecisionTreeClassifier(max_depth=3))]
    return SparseAttentionClassifier(base + list(modules), **params)


def _regressor(*modules, **params):
    base = [("ridge", Ridge()), ("tree", DecisionTreeRegressor(max_depth=3))]
    return SparseAttentionRegressor(base + list(modules), **params)


def _assert_finite_fit(est):
    for attr in ("attention_logits_", "attention_weights_", "oof_scores_"):
        assert np.all(np.isfinite(getattr(est, attr))), attr
    assert est.attention_weights_.sum() == pytest.approx(1.0)


def _assert_probabilities(proba, n_classes):
    assert proba.shape[1] == n_classes
    assert np.all(np.isfinite(proba))
    assert np.all(proba >= 0) and np.all(proba <= 1 + 1e-12)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)


# --------------------------------------------------------------------------
# A module that raises
# --------------------------------------------------------------------------
@pytest.mark.parametrize("make", [_classifier, _regressor])
def test_module_failing_in_fit_is_named_and_chained(make):
    bad = FaultyClassifier if make is _classifier else FaultyRegressor
    ens = make(("bad", bad(fail_in="fit")))
    y = Y if make is _classifier else Y_REG
    X_fit = X if make is _classifier else X_REG
    with pytest.raises(RuntimeError, match=r"module 'bad' \(Faulty\w+\)") as info:
        ens.fit(X_fit, y)
    message = str(info.value)
    assert "failed to fit" in message
    assert "boom in fit" in message
    assert isinstance(info.value.__cause__, RuntimeError)
    assert str(info.value.__cause__) == "boom in fit"


def test_module_failing_with_unusual_exception_keeps_the_original_as_cause():
    ens = _classifier(("bad", FaultyClassifier(fail_in="fit", error="coded")))
    with pytest.raises(RuntimeError, match="module 'bad'") as info:
        ens.fit(X, Y)
    assert "coded failure in fit" in str(info.value)
    assert isinstance(info.value.__cause__, CodedError)
    assert info.value.__cause__.code == 42


def test_module_failing_in_predict_proba_during_fit_is_named():
    ens = _classifier(("bad", FaultyClassifier(fail_in="predict_proba")))
    with pytest.raises(RuntimeError, match="module 'bad'.*failed to predict_proba"):
        ens.fit(X, Y)


def test_module_failing_at_predict_time_is_named_and_chained():
    ens = _classifier(("bad", FaultyClassifier())).fit(X, Y)
    ens.named_estimators_["bad"].set_params(fail_in="predict_proba")
    for method in (ens.predict, ens.predict_proba, ens.transform):
        with pytest.raises(RuntimeError, match="module 'bad'") as info:
            method(X)
        assert str(info.value.__cause__) == "boom in predict_proba"

    reg = _regressor(("bad", FaultyRegressor())).fit(X_REG, Y_REG)
    reg.named_estimators_["bad"].set_params(fail_in="predict")
    with pytest.raises(RuntimeError, match="module 'bad'.*failed to predict"):
        reg.predict(X_REG)


def test_module_failing_in_a_worker_process_is_named():
    # With n_jobs=2 the error crosses a process boundary: joblib keeps its
    # type and message (naming the module); the __cause__ is then joblib's
    # remote traceback, whose text contains the original error.
    ens = _classifier(("bad", FaultyClassifier(fail_in="fit")), n_jobs=2)
    with pytest.raises(RuntimeError, match="module 'bad'.*boom in fit") as info:
        ens.fit(X, Y)
    assert "boom in fit" in str(info.value.__cause__)


# --------------------------------------------------------------------------
# A module that outputs NaN or inf
# --------------------------------------------------------------------------
NON_FINITE = pytest.mark.parametrize("bad_value", [np.nan, np.inf, -np.inf])
NON_FINITE_MESSAGE = r"module 'bad' \(\w+\) returned NaN or infinite outputs"


@NON_FINITE
@pytest.mark.parametrize("combine", ["log", "linear"])
def test_non_finite_probabilities_at_fit_are_an_error(bad_value, combine):
    ens = _classifier(("bad", FaultyClassifier(bad_value=bad_value)), combine=combine)
    with pytest.raises(ValueError, match=NON_FINITE_MESSAGE):
        ens.fit(X, Y)
    assert not hasattr(ens, "attention_weights_")


@NON_FINITE
@pytest.mark.parametrize("n_jobs", [1, 2])
def test_non_finite_regression_outputs_at_fit_are_an_error(bad_value, n_jobs):
    # Found by the store, from the fold's Gram matrix of the errors, however
    # the folds were fitted.
    if n_jobs == 2 and not np.isnan(bad_value):
        pytest.skip("one value is enough for the workers' path")
    ens = _regressor(("bad", FaultyRegressor(bad_value=bad_value)), n_jobs=n_jobs)
    with pytest.raises(ValueError, match=NON_FINITE_MESSAGE + r"\. Check"):
        ens.fit(X_REG, Y_REG)
    assert not hasattr(ens, "attention_weights_")


def test_finite_regression_outputs_whose_errors_overflow_are_named():
    # Against a y of spread 1e-12, a prediction of 1e300 has a scaled error
    # beyond float64: it cannot be told from an infinite one, and the error
    # says both.
    ens = _regressor(("bad", FaultyRegressor(constant=1e300)))
    with pytest.raises(
        ValueError,
        match=NON_FINITE_MESSAGE + ", or predictions so far outside the range of y",
    ):
        ens.fit(X_REG, Y_REG * 1e-12)


@NON_FINITE
@pytest.mark.parametrize("combine", ["log", "linear"])
def test_non_finite_probabilities_at_predict_are_an_error(bad_value, combine):
    ens = _classifier(("bad", FaultyClassifier()), combine=combine).fit(X, Y)
    ens.named_estimators_["bad"].set_params(bad_value=bad_value)
    for method in (ens.predict, ens.predict_proba, ens.transform):
        with pytest.raises(ValueError, match=NON_FINITE_MESSAGE):
            method(X)


def test_nan_regression_outputs_at_predict_are_an_error():
    # Fitted on x0 > -1, the module gives NaN for x0 < -1: the ensemble must
    # not pass NaN predictions on.
    X_pos = np.abs(X_REG)
    ens = _regressor(("bad", LogFeatureRegressor())).fit(X_pos, Y_REG)
    assert np.all(np.isfinite(ens.predict(X_pos)))
    with pytest.raises(ValueError, match=NON_FINITE_MESSAGE):
        ens.predict(-X_pos - 2.0)
    with pytest.raises(ValueError, match=NON_FINITE_MESSAGE):
        ens.transform(-X_pos - 2.0)


def test_huge_finite_regression_outputs_are_not_silently_averaged():
    # Finite but absurd predictions cannot be squared: a clear error, never
    # an average that gives the absurd module weight.
    ens = _regressor(("bad", FaultyRegressor(constant=1e90)))
    with (
        np.errstate(all="ignore"),
        pytest.raises(
            (ValueError, FloatingPointError), match="overflow.*'bad'|too large"
        ),
    ):
        ens.fit(X_REG, Y_REG)
    assert not hasattr(ens, "attention_weights_")


class ReshapingClassifier(FaultyClassifier):
    """Returns probabilities of the wrong shape (drops the last column)."""

    def predict_proba(self, X):
        return super().predict_proba(X)[:, :-1]


class TwoOutputRegressor(FaultyRegressor):
    """Predicts two outputs for a single-output y."""

    def predict(self, X):
        prediction = super().predict(X)
        return np.column_stack([prediction, prediction])


class InvalidProbabilityClassifier(FaultyClassifier):
    """Finite 'probabilities' that are negative, above one, rows not summing
    to one: a broken module, like one that returns NaN."""

    def predict_proba(self, X):
        return 2.0 * super().predict_proba(X) - 0.5


def test_probabilities_of_the_wrong_shape_are_an_error():
    ens = _classifier(("bad", ReshapingClassifier()))
    with pytest.raises(ValueError, match=r"module 'bad' .*predict_proba of shape"):
        ens.fit(X, Y)


def test_wrong_number_of_regression_outputs_is_an_error():
    ens = _regressor(("bad", TwoOutputRegressor()))
    with pytest.raises(ValueError, match=r"module 'bad' \(\w+\) predicted 2 outputs"):
        ens.fit(X_REG, Y_REG)


@pytest.mark.parametrize("combine", ["log", "linear"])
def test_probabilities_outside_0_1_are_an_error(combine):
    ens = _classifier(("bad", InvalidProbabilityClassifier()), combine=combine)
    with pytest.raises(ValueError, match="module 'bad' .*not probabilities"):
        ens.fit(X, Y)


class RowFaultClassifier(FaultyClassifier):
    """GaussianNB whose probabilities of row ``row`` are replaced by
    ``values`` at predict time (``row=None``: none)."""

    def __init__(self, row=None, values=None):
        super().__init__()
        self.row = row
        self.values = values

    def predict_proba(self, X):
        proba = super().predict_proba(X)
        if self.row is not None:
            proba[self.row] = self.values
        return proba


@pytest.mark.parametrize("combine", ["log", "linear"])
@pytest.mark.parametrize(
    "values, message",
    [
        ([np.nan, 0.5, 0.5], "NaN or infinite"),
        ([np.inf, 0.0, 0.0], "NaN or infinite"),
        ([-0.5, 1.0, 0.5], "not probabilities"),
        ([0.6, 0.6, 0.6], "not probabilities"),
    ],
    ids=["nan", "inf", "negative", "sum"],
)
def test_bad_probabilities_at_predict_in_any_block_are_an_error(
    combine, values, message, monkeypatch
):
    # Predict checks each block of rows as it folds it into the result: a
    # bad row in the last block is caught as surely as one in the first.
    from skweighting import _kernels

    monkeypatch.setattr(_kernels, "SUM_BLOCK_BYTES", 7 * 3 * 8)  # 7 rows
    ens = _classifier(("bad", RowFaultClassifier()), combine=combine).fit(X, Y)
    for row in (0, 30, len(X) - 1):
        ens.named_estimators_["bad"].set_params(row=row, values=values)
        for method in (ens.predict, ens.predict_proba):
            with pytest.raises(ValueError, match=f"module 'bad' .*{message}"):
                method(X)


@pytest.mark.parametrize("combine", ["log", "linear"])
def test_probabilities_rounded_below_zero_at_predict_are_clipped(combine):
    # Within the tolerance, an entry rounded below zero counts as zero.
    ens = _classifier(("bad", RowFaultClassifier()), combine=combine).fit(X, Y)
    bad = ens.named_estimators_["bad"]
    bad.set_params(row=5, values=[0.0, 0.5, 0.5 + 1e-9])
    clipped = ens.predict_proba(X)
    bad.set_params(row=5, values=[-1e-9, 0.5, 0.5 + 1e-9])
    proba = ens.predict_proba(X)
    np.testing.assert_allclose(proba, clipped, rtol=0, atol=1e-15)
    assert np.all(proba >= 0.0)


# --------------------------------------------------------------------------
# Probability exactly 0 (or 1) on the true class
# --------------------------------------------------------------------------
IDS = np.arange(len(Y), dtype=float)
X_ID = np.column_stack([IDS, X])


@pytest.mark.parametrize("combine", ["log", "linear"])
@pytest.mark.parametrize(
    "modules",
    [
        [("nb", GaussianNB()), ("wrong", LabelOracle(Y, shift=1))],
        [("wrong", LabelOracle(Y, shift=1))],
        [("wrong", LabelOracle(Y, shift=1)), ("wrong2", LabelOracle(Y, shift=2))],
        [("nb", GaussianNB()), ("oracle", LabelOracle(Y, shift=0))],
    ],
    ids=["one-wrong", "only-wrong", "all-wrong", "oracle"],
)
def test_zero_probability_on_the_true_class_gives_finite_results(combine, modules):
    ens = SparseAttentionClassifier(modules, combine=combine).fit(X_ID, Y)
    _assert_finite_fit(ens)
    names = [name for name, _ in modules]
    # A module always wrong scores the floor: log(PROBA_FLOOR) per sample.
    for name, score in zip(names, ens.oof_scores_):
        if name.startswith("wrong"):
            assert score == pytest.approx(np.log(PROBA_FLOOR))
    if combine == "log":
        assert np.isfinite(ens.sharpness_)
    _assert_probabilities(ens.predict_proba(X_ID), 3)
    if names == ["nb", "wrong"]:
        assert ens.attention_weights_[1] < 0.01
        assert ens.score(X_ID, Y) >= ens.named_estimators_["nb"].score(X_ID, Y) - 0.05
    if "oracle" in names:
        assert ens.score(X_ID, Y) == 1.0


# --------------------------------------------------------------------------
# Class columns are aligned by label
# --------------------------------------------------------------------------
@pytest.mark.parametrize("labels", [Y, Y_STR], ids=["int", "str"])
@pytest.mark.parametrize("combine", ["log", "linear"])
def test_module_with_permuted_classes_is_aligned_by_label(labels, combine):
    plain = SparseAttentionClassifier(
        [("lr", LogisticRegression()), ("nb", GaussianNB())], combine=combine
    ).fit(X, labels)
    permuted = SparseAttentionClassifier(
        [
            ("lr", PermutedClassesClassifier(LogisticRegression())),
            ("nb", GaussianNB()),
        ],
        combine=combine,
    ).fit(X, labels)
    assert list(permuted.named_estimators_["lr"].classes_) == list(plain.classes_[::-1])
    np.testing.assert_array_equal(permuted.classes_, plain.classes_)
    np.testing.assert_allclose(permuted.attention_weights_, plain.attention_weights_)
    np.testing.assert_allclose(permuted.predict_proba(X), plain.predict_proba(X))
    np.testing.assert_allclose(permuted.transform(X), plain.transform(X))
    np.testing.assert_array_equal(permuted.predict(X), plain.predict(X))


def test_prefit_frozen_module_with_permuted_classes_is_aligned_by_label():
    prefit = PermutedClassesClassifier(LogisticRegression()).fit(X, Y_STR)
    ens = SparseAttentionClassifier(
        [("frozen", FrozenEstimator(prefit)), ("nb", GaussianNB())]
    ).fit(X, Y_STR)
    # transform: the frozen module's columns, reordered to ens.classes_.
    columns = ens.transform(X)[:, :3]
    expected = prefit.predict_proba(X)[:, np.argsort(prefit.classes_)]
    np.testing.assert_allclose(columns, expected)
    np.testing.assert_array_equal(ens.classes_, ["bird", "cat", "dog"])
    _assert_probabilities(ens.predict_proba(X), 3)


def test_prefit_module_missing_a_class_gets_zero_in_that_column():
    seen = Y_STR != "cat"
    prefit = LogisticRegression().fit(X[seen], Y_STR[seen])
    ens = SparseAttentionClassifier(
        [("frozen", FrozenEstimator(prefit)), ("nb", GaussianNB())]
    ).fit(X, Y_STR)
    columns = ens.transform(X)[:, :3]
    np.testing.assert_array_equal(columns[:, 1], 0.0)  # "cat"
    np.testing.assert_allclose(columns[:, [0, 2]], prefit.predict_proba(X))
    _assert_finite_fit(ens)
    _assert_probabilities(ens.predict_proba(X), 3)


def test_prefit_module_with_unknown_labels_is_an_error():
    prefit = LogisticRegression().fit(X, Y)  # integer labels
    ens = SparseAttentionClassifier([("frozen", FrozenEstimator(prefit))])
    with pytest.raises(ValueError, match="module 'frozen'.*not in y"):
        ens.fit(X, Y_STR)


# --------------------------------------------------------------------------
# Folds, sample counts and classes
# --------------------------------------------------------------------------
def test_fold_missing_a_class_is_aligned_by_label():
    # Fold 0 holds out every "dog" and a third of the rest: its modules are
    # fitted on two classes only. A label oracle must still put probability
    # 1 on the right column for the birds and cats it knows.
    rng = np.random.default_rng(0)
    dog = np.flatnonzero(Y_STR == "dog")
    rest = rng.permutation(np.flatnonzero(Y_STR != "dog"))
    test_sets = [np.sort(np.r_[dog, rest[:20]]), np.sort(rest[20:40])]
    test_sets.append(np.sort(rest[40:]))
    cv = [(np.setdiff1d(IDS.astype(int), t), t) for t in test_sets]
    ens = SparseAttentionClassifier(
        [("oracle", LabelOracle(Y_STR)), ("nb", GaussianNB())], cv=cv
    ).fit(X_ID, Y_STR)
    # Only the held-out dogs are unknown to the oracle: uniform over the two
    # classes it saw, so the dog column gets 0, floored to PROBA_FLOOR.
    expected = len(dog) / len(Y) * np.log(PROBA_FLOOR)
    assert ens.oof_scores_[0] == pytest.approx(expected)
    _assert_finite_fit(ens)
    _assert_probabilities(ens.predict_proba(X_ID), 3)
    assert ens.score(X_ID, Y_STR) == 1.0


def test_folds_each_missing_a_class_still_fit():
    y_sorted = np.repeat([0, 1, 2], 30)  # KFold(3) unshuffled: one class per fold
    ens = SparseAttentionClassifier(
        [("nb", GaussianNB()), ("tree", DecisionTreeClassifier(max_depth=3))],
        cv=KFold(3),
    ).fit(X, y_sorted)
    _assert_finite_fit(ens)
    _assert_probabilities(ens.predict_proba(X), 3)
    for module in ens.estimators_:  # the refits saw every class
        np.testing.assert_array_equal(module.classes_, [0, 1, 2])


def test_fold_with_a_single_training_class():
    y_two = np.repeat([0, 1], 45)  # KFold(2) unshuffled: one class per fold
    tolerant = SparseAttentionClassifier(
        [("nb", GaussianNB()), ("tree", DecisionTreeClassifier(max_depth=3))],
        cv=KFold(2),
    ).fit(X, y_two)
    _assert_finite_fit(tolerant)
    _assert_probabilities(tolerant.predict_proba(X), 2)
    # LogisticRegression refuses one class: the error names the module.
    strict = SparseAttentionClassifier([("lr", LogisticRegression())], cv=KFold(2))
    with pytest.raises(ValueError, match="module 'lr'.*only one class") as info:
        strict.fit(X, y_two)
    assert isinstance(info.value.__cause__, ValueError)


@pytest.mark.parametrize(
    "est, X_fit, y",
    [
        (_classifier(), X[:4], Y[:4]),
        (_regressor(), X_REG[:4], Y_REG[:4]),
        (_classifier(cv=10), X[:9], Y[:9]),
    ],
    ids=["classifier", "regressor", "cv=10"],
)
def test_fewer_samples_than_folds(est, X_fit, y):
    with pytest.raises(ValueError, match=r"Cannot learn out-of-fold weights"):
        est.fit(X_fit, y)


def test_class_smaller_than_the_number_of_folds():
    # StratifiedKFold refuses when every class is smaller than cv...
    y = np.array([0, 1] * 4)
    with pytest.raises(ValueError, match="n_splits=5 cannot be greater"):
        _classifier().fit(X[:8], y)
    # ...and only warns when some are: the fit still works.
    y = np.r_[np.zeros(10, int), np.ones(3, int)]
    with pytest.warns(UserWarning, match="least populated class"):
        ens = _classifier().fit(X[:13], y)
    _assert_finite_fit(ens)


def test_as_many_samples_as_folds_fits():
    ens = _regressor(cv=5).fit(X_REG[:5], Y_REG[:5])
    _assert_finite_fit(ens)


@pytest.mark.parametrize("y", [np.zeros(90), np.full(90, "cat")], ids=["int", "str"])
def test_single_class_is_an_error(y):
    with pytest.raises(ValueError, match="only one class"):
        _classifier().fit(X, y)


# --------------------------------------------------------------------------
# Bad input (docs/reliability.md)
# --------------------------------------------------------------------------
LR = ("lr", LogisticRegression())


@pytest.mark.parametrize("Estimator", [SparseAttentionClassifier])
@pytest.mark.parametrize(
    "params, match",
    [
        (dict(temperature=0), "'temperature' parameter .* range \\(0.0, inf\\)"),
        (dict(temperature=-1.0), "'temperature' parameter"),
        (dict(temperature=np.nan), "'temperature' parameter"),
        (dict(temperature=np.inf), "'temperature' parameter"),
        (dict(alpha=-1e-3), "'alpha' parameter .* range \\[0.0, inf\\)"),
        (dict(alpha=np.inf), "'alpha' parameter"),
        (dict(cv=1), "'cv' parameter"),
        (dict(combine="mean"), "'combine' parameter"),
        (dict(max_iter=0), "'max_iter' parameter"),
    ],
)
def test_invalid_parameters(Estimator, params, match):
    with pytest.raises(InvalidParameterError, match=match):
        Estimator([LR], **params).fit(X, Y)


ALL = [SparseAttentionClassifier, SparseAttentionEnsemble]


@pytest.mark.parametrize("Estimator", ALL + [SparseAttentionRegressor])
@pytest.mark.parametrize(
    "estimators, match",
    [
        ([], "non-empty list of \\(name, estimator\\)"),
        ([("lr", "drop")], "All estimators are dropped"),
        ([("a", "drop"), ("b", "drop")], "All estimators are dropped"),
        ([LogisticRegression()], "non-empty list of \\(name, estimator\\)"),
        ([(1, LogisticRegression())], "non-empty list of \\(name, estimator\\)"),
        ([LR, LR], "Names provided are not unique"),
        ([("a__b", LogisticRegression())], "must not contain __"),
        ([("alpha", LogisticRegression())], "conflict with constructor arguments"),
    ],
)
def test_invalid_estimators_list(Estimator, estimators, match):
    with pytest.raises(ValueError, match=match):
        Estimator(estimators).fit(X, Y)


def test_classifiers_mixed_with_regressors():
    mixed = [LR, ("ridge", Ridge())]
    with pytest.raises(
        ValueError, match=r"classifiers \['lr'\] and non-classifiers \['ridge'\]"
    ):
        SparseAttentionEnsemble(mixed).fit(X, Y)
    with pytest.raises(ValueError, match="module 'ridge' .*is not a classifier"):
        SparseAttentionClassifier(mixed).fit(X, Y)
    with pytest.raises(ValueError, match="module 'lr' .*is not a regressor"):
        SparseAttentionRegressor(mixed).fit(X_REG, Y_REG)
    # The kind of an ensemble follows its modules.
    assert is_classifier(SparseAttentionEnsemble([LR]))
    assert is_regressor(SparseAttentionEnsemble([("ridge", Ridge())]))


@pytest.mark.parametrize("Estimator", ALL)
def test_classifier_without_predict_proba(Estimator):
    with pytest.raises(ValueError, match="module 'svc' \\(SVC\\) has no predict_proba"):
        Estimator([LR, ("svc", SVC())]).fit(X, Y)


@pytest.mark.parametrize("bad", [3, None, "passthrough"])
def test_non_estimator_module_in_classifier(bad):
    with pytest.raises(TypeError, match="Module 'x' is .*, not an estimator"):
        SparseAttentionClassifier([LR, ("x", bad)]).fit(X, Y)


@pytest.mark.parametrize("Estimator", ALL)
def test_estimator_class_instead_of_instance(Estimator):
    with pytest.raises(TypeError, match="Expected an estimator instance"):
        Estimator([LR, ("x", LogisticRegression)]).fit(X, Y)


@pytest.mark.parametrize("bad", [3, None, "passthrough"])
def test_non_estimator_module_in_ensemble(bad):
    with pytest.raises(TypeError, match="Module 'x' is .*, not an estimator"):
        SparseAttentionEnsemble([LR, ("x", bad)]).fit(X, Y)


def test_module_without_sample_weight_support():
    ens = SparseAttentionClassifier([LR, ("knn", KNeighborsClassifier())])
    with pytest.raises(TypeError, match="module 'knn' .*does not accept sample_weight"):
        ens.fit(X, Y, sample_weight=np.ones(len(Y)))


@pytest.mark.parametrize(
    "Estimator, modules",
    [
        (SparseAttentionClassifier, [LR]),
        (SparseAttentionEnsemble, [LR]),
    ],
)
def test_continuous_y_to_a_classifier(Estimator, modules):
    with pytest.raises(ValueError, match="Unknown label type: continuous"):
        Estimator(modules).fit(X_REG, Y_REG)


@pytest.mark.parametrize(
    "Estimator", [SparseAttentionRegressor, SparseAttentionEnsemble]
)
def test_string_y_to_a_regressor(Estimator):
    with pytest.raises(ValueError, match="numeric regression targets"):
        Estimator([("ridge", Ridge())]).fit(X, Y_STR)


class NeverFitted(RegressorMixin, BaseEstimator):
    """A regressor whose fit must not be reached."""

    def fit(self, X, y):
        raise AssertionError("a module was fitted on a y the ensemble refuses")


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_y_to_a_regressor(bad):
    # The ensemble's own error, naming y, before any module sees y.
    y = Y_REG.copy()
    y[3] = bad
    with pytest.raises(ValueError, match="^Input y contains (NaN|infinity)") as info:
        SparseAttentionRegressor([("spy", NeverFitted())]).fit(X_REG, y)
    assert "module" not in str(info.value)


def test_log_combine_with_regressor_modules():
    with pytest.raises(ValueError, match="combine='log' is not a combination of reg"):
        SparseAttentionEnsemble([("ridge", Ridge())], combine="log").fit(X_REG, Y_REG)


def test_one_dimensional_X():
    with pytest.raises(ValueError, match="Expected 2D array, got 1D array"):
        _classifier().fit(X[:, 0], Y)


def test_wrong_number_of_features_at_predict():
    ens = _classifier().fit(X, Y)
    with pytest.raises(ValueError, match="X has 4 features.*expecting 5"):
        ens.predict(X[:, :4])


def test_predict_before_fit():
    with pytest.raises(NotFittedError):
        _classifier().predict(X)


def test_negative_or_zero_sample_weight():
    with pytest.raises(ValueError, match="Negative values in data passed"):
        _classifier().fit(X, Y, sample_weight=np.r_[-1.0, np.ones(len(Y) - 1)])
    with pytest.raises(ValueError, match="(sums to zero|at least one non-zero)"):
        _classifier().fit(X, Y, sample_weight=np.zeros(len(Y)))


@pytest.mark.parametrize("temperature", [1e-300, 1e300])
def test_absurd_temperature_is_clearly_rejected(temperature):
    ens = _classifier(temperature=temperature)
    with pytest.raises(
        ValueError,
        match=r"temperature=.* is outside the numerically safe range \[1e-10, 1e10\]",
    ):
        ens.fit(X, Y)
    assert not hasattr(ens, "attention_weights_")


@pytest.mark.parametrize("temperature", [1e-10, 1e10])
def test_temperature_at_the_edges_of_the_safe_range_is_handled(temperature):
    # Inside the safe range the extremes give the weights of the neighbouring
    # extreme temperatures: the unpenalised optimum, or uniform weights.
    ens = _classifier(temperature=temperature, random_state=0).fit(X, Y)
    _assert_finite_fit(ens)
    neighbour = 1e-4 if temperature < 1 else 1e4
    reference = _classifier(temperature=neighbour, random_state=0).fit(X, Y)
    np.testing.assert_allclose(
        ens.attention_weights_, reference.attention_weights_, atol=1e-3
    )


# --------------------------------------------------------------------------
# The user's estimators are left untouched
# --------------------------------------------------------------------------
def test_fit_does_not_fit_or_change_the_given_modules():
    modules = [("lr", LogisticRegression()), ("rf", RandomForestClassifier(3))]
    before = pickle.dumps(modules)
    SparseAttentionClassifier(modules, random_state=0).fit(X, Y)
    assert pickle.dumps(modules) == before
    with pytest.raises(NotFittedError):
        check_is_fitted(modules[0][1])


# --------------------------------------------------------------------------
# Determinism
# --------------------------------------------------------------------------
def _random_classifier(**params):
    return SparseAttentionClassifier(
        [
            ("rf", RandomForestClassifier(n_estimators=10)),
            (
                "pipe",
                make_pipeline(
                    StandardScaler(), RandomForestClassifier(n_estimators=10)
                ),
            ),
            ("nb", GaussianNB()),
        ],
        **params,
    )


def test_random_state_makes_fit_identical_across_n_jobs():
    fits = [
        _random_classifier(random_state=0, n_jobs=n_jobs).fit(X, Y)
        for n_jobs in (1, 2, 1)
    ]
    for other in fits[1:]:
        np.testing.assert_array_equal(
            other.attention_weights_, fits[0].attention_weights_
        )
        np.testing.assert_array_equal(other.oof_scores_, fits[0].oof_scores_)
        np.testing.assert_array_equal(other.predict_proba(X), fits[0].predict_proba(X))
    # random_state seeded the unseeded modules (nested in a Pipeline too),
    # and different modules got different seeds.
    rf = fits[0].named_estimators_["rf"]
    pipe_rf = fits[0].named_estimators_["pipe"][-1]
    assert rf.random_state is not None and pipe_rf.random_state is not None
    assert rf.random_state != pipe_rf.random_state


def test_different_random_states_give_different_fits():
    a = _random_classifier(random_state=0).fit(X, Y)
    b = _random_classifier(random_state=1).fit(X, Y)
    assert not np.array_equal(a.attention_weights_, b.attention_weights_)


def test_explicitly_seeded_modules_are_not_reseeded():
    ens = SparseAttentionClassifier(
        [("rf", RandomForestClassifier(n_estimators=5, random_state=7))],
        random_state=0,
    ).fit(X, Y)
    assert ens.named_estimators_["rf"].random_state == 7


def test_regressor_random_state_identical_across_n_jobs():
    def make(n_jobs):
        return SparseAttentionRegressor(
            [
                ("rf", RandomForestRegressor(n_estimators=10)),
                ("ridge", Ridge()),
            ],
            random_state=0,
            n_jobs=n_jobs,
        ).fit(X_REG, Y_REG)

    a, b = make(1), make(2)
    np.testing.assert_array_equal(a.attention_weights_, b.attention_weights_)
    np.testing.assert_array_equal(a.predict(X_REG), b.predict(X_REG))


# --------------------------------------------------------------------------
# Concurrency: one fitted model, many threads
# --------------------------------------------------------------------------
def _hammer(function, inputs, n_threads=8):
    with ThreadPoolExecutor(max_workers=n_threads) as pool:
        return list(pool.map(function, inputs))


@pytest.mark.parametrize("combine", ["log", "linear"])
def test_concurrent_predict_on_one_classifier(combine):
    ens = SparseAttentionClassifier(
        [
            ("lr", make_pipeline(StandardScaler(), LogisticRegression())),
            ("knn", KNeighborsClassifier()),
            ("rf", RandomForestClassifier(n_estimators=10)),
        ],
        combine=combine,
        random_state=0,
    ).fit(X, Y_STR)
    chunks = [X[i : i + 30] for i in range(0, 90, 15)] * 6
    for method in (ens.predict_proba, ens.predict, ens.transform):
        expected = [method(chunk) for chunk in chunks]
        results = _hammer(method, chunks)
        for got, want in zip(results, expected):
            np.testing.assert_array_equal(got, want)


def test_concurrent_predict_on_one_regressor():
    ens = SparseAttentionRegressor(
        [("ridge", Ridge()), ("knn", KNeighborsRegressor())], random_state=0
    ).fit(X_REG, Y_REG)
    expected = ens.predict(X_REG)
    for got in _hammer(ens.predict, [X_REG] * 32):
        np.testing.assert_array_equal(got, expected)
