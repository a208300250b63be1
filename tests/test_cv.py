"""SparseAttentionClassifierCV / RegressorCV: the temperature path, the
inner cross-validation of the out-of-fold rows, and what is chosen."""

import numpy as np
import pytest
from _helpers import CALLS, Spy
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.datasets import make_classification, make_regression
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.model_selection import KFold
from sklearn.naive_bayes import GaussianNB
from sklearn.neighbors import KNeighborsRegressor
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

from skweighting import (
    SparseAttentionClassifier,
    SparseAttentionClassifierCV,
    SparseAttentionRegressor,
    SparseAttentionRegressorCV,
)
from skweighting._normalisers import NORMALISERS
from skweighting._selection import choose, paired_standard_errors

X, Y = make_classification(
    n_samples=300, n_features=8, n_informative=4, flip_y=0.1, random_state=0
)
X_REG, Y_REG = make_regression(n_samples=200, n_features=5, noise=20.0, random_state=0)


def _weights(results, module_names):
    """The candidates' weights, (n_candidates, n_modules), from the one key
    per module of ``cv_results_``."""
    return np.column_stack([results[f"weight_{name}"] for name in module_names])


def _classifiers():
    return [
        ("lr", LogisticRegression()),
        ("tree", DecisionTreeClassifier(max_depth=3, random_state=0)),
        ("nb", GaussianNB()),
    ]


def _regressors():
    return [
        ("ridge", Ridge()),
        ("tree", DecisionTreeRegressor(max_depth=3, random_state=0)),
        ("knn", KNeighborsRegressor()),
    ]


@pytest.fixture(scope="module")
def fitted():
    return SparseAttentionClassifierCV(
        _classifiers(), normalisers=("softmax", "sparsemax"), random_state=0
    ).fit(X, Y)


def test_cv_results_has_one_row_per_candidate(fitted):
    results = fitted.cv_results_
    # combines x normalisers x temperatures, + each module alone
    n_rows = 2 * 2 * len(fitted.temperatures_) + 3
    for key in (
        "param_combine",
        "param_normaliser",
        "param_temperature",
        "mean_test_score",
        "std_test_score",
        "rank_test_score",
        "split0_test_score",
        "split4_test_score",
        "n_nonzero",
        "param_module",
        "gap_from_best",
        "se_gap_from_best",
        "is_reference",
        "chosen",
    ):
        assert len(results[key]) == n_rows, key
    assert _weights(results, fitted.module_names_).shape == (n_rows, 3)
    assert all(np.ndim(value) == 1 for key, value in results.items())
    assert len(results["params"]) == n_rows
    assert {p["combine"] for p in results["params"]} == {"log", "linear"}
    np.testing.assert_array_equal(
        results["n_nonzero"],
        np.count_nonzero(_weights(results, fitted.module_names_), axis=1),
    )
    assert np.flatnonzero(results["chosen"]).tolist() == [fitted.best_index_]
    np.testing.assert_allclose(
        results["mean_test_score"],
        np.mean([results[f"split{k}_test_score"] for k in range(5)], axis=0),
    )


def test_the_reference_is_kept_unless_clearly_beaten(fitted):
    # The selection rule, recomputed from cv_results_: the paired standard
    # error of each candidate's gap to the best mean score across the shared
    # inner splits; the reference (the plain default) is kept unless its gap
    # is over selection_tol (3) of them, and the best is chosen then.
    results = fitted.cv_results_
    scores = np.column_stack([results[f"split{k}_test_score"] for k in range(5)])
    best = int(np.argmax(results["mean_test_score"]))
    assert results["rank_test_score"][best] == 1
    gaps = scores[best] - scores
    np.testing.assert_allclose(results["gap_from_best"], gaps.mean(axis=1))
    se = gaps.std(axis=1, ddof=1) / np.sqrt(5)
    np.testing.assert_allclose(results["se_gap_from_best"], se, atol=1e-15)
    (reference,) = np.flatnonzero(results["is_reference"])
    assert results["params"][reference] == {
        "combine": "log",
        "normaliser": "softmax",
        "temperature": 1.0,
        "module": None,
    }
    kept = gaps[reference].mean() <= 3 * se[reference]
    chosen = fitted.best_index_
    assert chosen == (reference if kept else best)
    assert np.flatnonzero(results["chosen"]).tolist() == [chosen]
    assert results["params"][chosen] == {
        "combine": fitted.combine_,
        "normaliser": fitted.normaliser_,
        "temperature": fitted.temperature_,
        "module": fitted.single_module_,
    }
    np.testing.assert_array_equal(
        fitted.attention_weights_, _weights(results, fitted.module_names_)[chosen]
    )
    # The weights on all out-of-fold rows at the chosen candidate are those
    # of the plain estimator with the same settings.
    plain = SparseAttentionClassifier(
        _classifiers(),
        temperature=fitted.temperature_,
        combine=fitted.combine_,
        normaliser=fitted.normaliser_,
        random_state=0,
    ).fit(X, Y)
    np.testing.assert_allclose(
        fitted.attention_weights_, plain.attention_weights_, atol=1e-4
    )
    np.testing.assert_allclose(fitted.oof_scores_, plain.oof_scores_)


@pytest.mark.parametrize("tol", [0.0, 0.5, 3.0, 1e9])
def test_selection_tol_sets_how_clearly_the_reference_must_be_beaten(tol):
    est = SparseAttentionClassifierCV(
        _classifiers(), temperatures=4, selection_tol=tol, random_state=0
    ).fit(X, Y)
    results = est.cv_results_
    (reference,) = np.flatnonzero(results["is_reference"])
    best = int(np.argmax(results["mean_test_score"]))
    beaten = (
        results["gap_from_best"][reference]
        > tol * results["se_gap_from_best"][reference]
    )
    assert est.best_index_ == (best if beaten else reference)
    if tol == 1e9:
        assert est.best_index_ == reference


def test_without_temperature_1_there_is_no_reference_and_the_best_is_chosen():
    est = SparseAttentionClassifierCV(
        _classifiers(), temperatures=[0.5, 5.0], random_state=0
    ).fit(X, Y)
    results = est.cv_results_
    assert not results["is_reference"].any()
    assert est.best_index_ == np.argmax(results["mean_test_score"])


def test_selection_tol_zero_chooses_the_best_mean_score():
    est = SparseAttentionClassifierCV(
        _classifiers(), temperatures=4, selection_tol=0.0, random_state=0
    ).fit(X, Y)
    results = est.cv_results_
    assert est.best_index_ == np.argmax(results["mean_test_score"])
    assert results["rank_test_score"][est.best_index_] == 1


def test_the_default_temperature_is_on_the_automatic_path(fitted):
    assert 1.0 in fitted.temperatures_
    assert len(fitted.temperatures_) in (10, 11)


def test_weights_path_runs_from_the_optimum_to_uniform(fitted):
    temperatures = fitted.temperatures_
    assert np.all(np.diff(temperatures) > 0)
    assert fitted.temperature_ in temperatures
    path = fitted.weights_path_
    assert path.shape == (len(temperatures), 3)
    block = (fitted.cv_results_["param_combine"] == fitted.combine_) & (
        fitted.cv_results_["param_normaliser"] == fitted.normaliser_
    )
    weights = _weights(fitted.cv_results_, fitted.module_names_)
    np.testing.assert_array_equal(path, weights[block])
    # Each point is the plain estimator's weights at that temperature, and
    # the path ends (close to) uniform weights.
    for index in (0, len(temperatures) // 2):
        plain = SparseAttentionClassifier(
            _classifiers(),
            temperature=temperatures[index],
            combine=fitted.path_combine_,
            normaliser=fitted.path_normaliser_,
            prune_tol=0.0,
            random_state=0,
        ).fit(X, Y)
        np.testing.assert_allclose(path[index], plain.attention_weights_, atol=1e-3)
    assert np.abs(path[-1] - 1 / 3).max() < 0.05
    # Along the path the weights move: every temperature gives its own.
    assert len({tuple(np.round(w, 6)) for w in path}) == len(path)


def test_modules_are_fitted_once_per_fold_whatever_the_candidates():
    CALLS.clear()
    modules = [
        ("lr", Spy(LogisticRegression(), tag="lr")),
        ("nb", Spy(GaussianNB(), tag="nb")),
    ]
    cv_est = SparseAttentionClassifierCV(
        modules, temperatures=7, normalisers=("softmax", "entmax15"), cv=3
    ).fit(X, Y)
    for tag in ("lr", "nb"):
        fits = [c for c in CALLS if c[:2] == (tag, "fit")]
        refits = int(cv_est.named_estimators_[tag] != "drop")
        assert len(fits) == 3 + refits


def test_explicit_temperatures_and_a_single_candidate():
    est = SparseAttentionClassifierCV(
        _classifiers(), temperatures=[10.0, 1.0, 100.0], combines=["log"]
    ).fit(X, Y)
    np.testing.assert_array_equal(est.temperatures_, [1.0, 10.0, 100.0])
    assert len(est.cv_results_["mean_test_score"]) == 3 + 3  # and each module
    assert est.combine_ == "log" and est.normaliser_ == "softmax"


@pytest.mark.parametrize("scoring", ["accuracy", "neg_brier_score", "roc_auc"])
def test_a_scorer_scores_the_combined_predictions(scoring):
    est = SparseAttentionClassifierCV(
        _classifiers(), temperatures=4, scoring=scoring, random_state=0
    ).fit(X, Y)
    scores = est.cv_results_["mean_test_score"]
    assert np.all(np.isfinite(scores))
    if scoring in ("accuracy", "roc_auc"):
        assert np.all((scores >= 0.5) & (scores <= 1))


def test_default_scoring_is_the_negated_out_of_fold_log_loss():
    est = SparseAttentionClassifierCV(
        _classifiers(),
        temperatures=[1.0],
        combines=["linear"],
        single_modules=False,
        random_state=0,
    ).fit(X, Y)
    # With one candidate its score is the held-out log-loss of the mixture
    # learned on the other folds: check split 0 by hand.
    scored = SparseAttentionClassifierCV(
        _classifiers(),
        temperatures=[1.0],
        combines=["linear"],
        scoring="neg_log_loss",
        single_modules=False,
        random_state=0,
    ).fit(X, Y)
    np.testing.assert_allclose(
        est.cv_results_["split0_test_score"],
        scored.cv_results_["split0_test_score"],
        rtol=1e-6,
    )


def test_regressor_cv():
    est = SparseAttentionRegressorCV(_regressors(), temperatures=6, random_state=0).fit(
        X_REG, Y_REG
    )
    assert est.weights_path_.shape == (len(est.temperatures_), 3)
    assert est.cv_results_["param_combine"][0] == "linear"
    plain = SparseAttentionRegressor(
        _regressors(), temperature=est.temperature_, random_state=0
    ).fit(X_REG, Y_REG)
    np.testing.assert_allclose(
        est.predict(X_REG), plain.predict(X_REG), atol=1e-4 * np.std(Y_REG)
    )
    r2 = SparseAttentionRegressorCV(
        _regressors(), temperatures=3, scoring="r2", random_state=0
    ).fit(X_REG, Y_REG)
    assert np.all(r2.cv_results_["mean_test_score"] <= 1)


def test_inner_cv_as_an_int_or_a_splitter():
    for inner_cv in (3, KFold(4, shuffle=True, random_state=0)):
        est = SparseAttentionClassifierCV(
            _classifiers(), temperatures=3, inner_cv=inner_cv, random_state=0
        ).fit(X, Y)
        n_splits = 3 if inner_cv == 3 else 4
        assert f"split{n_splits - 1}_test_score" in est.cv_results_
        assert f"split{n_splits}_test_score" not in est.cv_results_


def test_sparse_normaliser_prunes_in_the_cv_estimator_too():
    modules = [*_classifiers(), ("flipped", Spy(DecisionTreeClassifier(), flip=True))]
    est = SparseAttentionClassifierCV(
        modules, normalisers=("sparsemax",), combines=("linear",), random_state=0
    ).fit(X, Y)
    assert est.attention_weights_[-1] == 0.0
    assert est.named_estimators_["flipped"] == "drop"
    assert est.n_nonzero_ == len(est.estimators_) < 4


def test_sample_weight_changes_the_choice_inputs():
    weights = np.where(Y == 1, 3.0, 1.0)
    plain = SparseAttentionClassifierCV(_classifiers(), temperatures=3).fit(X, Y)
    weighted = clone(plain).fit(X, Y, sample_weight=weights)
    assert not np.allclose(
        plain.cv_results_["mean_test_score"], weighted.cv_results_["mean_test_score"]
    )


@pytest.mark.parametrize(
    "params, match",
    [
        (dict(alpha=0.0), "alpha"),
        (dict(combines=["geometric"]), "combines"),
        (dict(combines=[]), "combines"),
        (dict(normalisers=["relu"]), "normalisers"),
        (dict(temperatures=[0.0, 1.0]), "temperatures"),
        (dict(temperatures=1), "temperatures"),
    ],
)
def test_bad_parameters(params, match):
    with pytest.raises(ValueError, match=match):
        SparseAttentionClassifierCV(_classifiers(), **params).fit(X, Y)


def test_path_starts_below_where_the_weights_leave_the_optimum(fitted):
    assert fitted.temperatures_[0] <= 1.0


def test_a_module_alone_wins_where_no_combination_beats_it():
    # On breast_cancer the scaled logistic regression alone scores better
    # out-of-fold than any combination with these modules.
    from sklearn.datasets import load_breast_cancer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X_bc, y_bc = load_breast_cancer(return_X_y=True)
    modules = [
        ("lr", make_pipeline(StandardScaler(), LogisticRegression())),
        ("tree", DecisionTreeClassifier(max_depth=3, random_state=0)),
        ("nb", GaussianNB()),
    ]
    est = SparseAttentionClassifierCV(
        modules, temperatures=5, selection_tol=0.0, random_state=0
    )
    est.fit(X_bc, y_bc)
    results = est.cv_results_
    assert est.single_module_ == "lr"
    assert results["param_module"][est.best_index_] == "lr"
    # Documented values that describe the one-hot weights exactly.
    assert est.temperature_ == 1.0 and est.normaliser_ == "sparsemax"
    assert est.combine_ == "linear"
    np.testing.assert_array_equal(
        NORMALISERS["sparsemax"].forward(est.attention_logits_ / est.temperature_),
        est.attention_weights_,
    )
    np.testing.assert_array_equal(est.attention_weights_, [1.0, 0.0, 0.0])
    assert est.n_nonzero_ == 1 and len(est.estimators_) == 1
    np.testing.assert_allclose(
        est.predict_proba(X_bc), est.estimators_[0].predict_proba(X_bc)
    )
    # The path shown is still the best combination's.
    assert est.path_combine_ in ("log", "linear")
    assert est.weights_path_.shape == (len(est.temperatures_), 3)
    without = SparseAttentionClassifierCV(
        modules, temperatures=5, single_modules=False, selection_tol=0.0, random_state=0
    ).fit(X_bc, y_bc)
    assert without.single_module_ is None
    assert results["mean_test_score"][est.best_index_] > np.max(
        without.cv_results_["mean_test_score"]
    )


def test_single_modules_off():
    est = SparseAttentionClassifierCV(
        _classifiers(), temperatures=3, single_modules=False
    ).fit(X, Y)
    assert len(est.cv_results_["mean_test_score"]) == 2 * len(est.temperatures_)
    assert all(m is None for m in est.cv_results_["param_module"])


class FixedProba(ClassifierMixin, BaseEstimator):
    """A module whose probabilities are a fixed table indexed by X's first
    column, whatever it was fitted on (it accepts sample weights and
    ignores them): its out-of-fold outputs are known in advance."""

    def __init__(self, table=None):
        self.table = table

    def fit(self, X, y, sample_weight=None):
        self.classes_ = np.unique(y)
        return self

    def predict_proba(self, X):
        return self.table[np.asarray(X)[:, 0].astype(int)]


def test_inner_scores_are_the_sample_weighted_held_out_loss():
    # Each module alone is scored with one-hot weights (nothing learned), so
    # its score on each inner split is computable by hand: the negated
    # sample-weighted log-loss of its own probabilities on that split's rows.
    rng = np.random.default_rng(3)
    n = 120
    y = np.repeat([0, 1], n // 2)
    rows = np.arange(n, dtype=float)[:, None]
    tables = [rng.dirichlet([2.0, 2.0], size=n) for _ in range(2)]
    weights = rng.uniform(0.2, 3.0, n)
    cv = KFold(3, shuffle=True, random_state=0)
    est = SparseAttentionClassifierCV(
        [("a", FixedProba(tables[0])), ("b", FixedProba(tables[1]))],
        temperatures=[1.0],
        combines=("linear",),
        cv=cv,
        random_state=0,
    ).fit(rows, y, sample_weight=weights)
    results = est.cv_results_
    for module, name in enumerate("ab"):
        row = list(results["param_module"]).index(name)
        for k, (_, test) in enumerate(cv.split(rows, y)):
            proba_true = tables[module][test, y[test]]
            expected = np.average(np.log(proba_true), weights=weights[test])
            assert results[f"split{k}_test_score"][row] == pytest.approx(
                expected, rel=1e-12
            )


def test_inner_training_and_scoring_rows_are_disjoint(monkeypatch):
    # Every candidate is learned on an inner split's training rows and scored
    # on its held-out rows, never on rows it was learned from.
    from skweighting import _cv
    from skweighting._objective import Objective

    take, fit_path = Objective.take, _cv.fit_path
    learned_on, scored = [], []

    def recording_take(self, rows):
        taken = take(self, rows)
        taken.rows = np.asarray(rows).copy()
        return taken

    def recording_fit_path(objective, temperatures, **options):
        learned_on.append(getattr(objective, "rows", None))  # None: all rows
        return fit_path(objective, temperatures, **options)

    def scorer(estimator, X, y, sample_weight=None):
        scored.append(np.asarray(X)[:, 0].astype(int))
        return 0.0

    monkeypatch.setattr(Objective, "take", recording_take)
    monkeypatch.setattr(_cv, "fit_path", recording_fit_path)
    est = SparseAttentionClassifierCV(
        _classifiers()[:2],
        temperatures=[1.0, 10.0],
        combines=("linear",),
        scoring=scorer,
        single_modules=False,
        random_state=0,
    ).fit(X, Y)
    n_splits = len([k for k in est.cv_results_ if k.startswith("split")])
    # One path per inner split, then one on all the out-of-fold rows; each
    # inner path's two temperatures are scored on that split's held-out rows.
    assert len(learned_on) == n_splits + 1 and learned_on[-1] is None
    assert len(scored) == 2 * n_splits
    for k, train in enumerate(learned_on[:-1]):
        for test in scored[2 * k : 2 * k + 2]:
            assert np.intersect1d(train, test).size == 0
            assert np.union1d(train, test).size == len(Y)


# --------------------------------------------------------------------------
# The selection rule by hand
# --------------------------------------------------------------------------
def test_paired_standard_errors_by_hand():
    scores = np.array([[1.0, 2.0, 3.0], [0.5, 2.0, 2.0], [1.0, 2.0, 3.0]])
    # Gaps to candidate 0: [0, 0, 0], [0.5, 0, 1], [0, 0, 0]; their sample
    # std (ddof 1) over sqrt(3 splits).
    np.testing.assert_allclose(
        paired_standard_errors(scores, 0), [0.0, 0.5 / np.sqrt(3), 0.0], rtol=1e-15
    )
    # One split: no estimate of the noise.
    np.testing.assert_array_equal(paired_standard_errors(scores[:, :1], 1), [0, 0, 0])


def test_choose_keeps_the_reference_within_tol_standard_errors():
    scores = np.array([[1.0, 2.0, 3.0], [0.5, 2.0, 2.0]])  # mean 2 and 1.5
    standard_error = 0.5 / np.sqrt(3)
    for tol, expected in [(0.0, 0), (0.5 / standard_error, 1), (1e9, 1)]:
        chosen, best, gap, se = choose(scores, 1, tol)
        assert (chosen, best) == (expected, 0)
        np.testing.assert_allclose(gap, [0.0, 0.5], rtol=1e-15)
        np.testing.assert_allclose(se, [0.0, standard_error], rtol=1e-15)
    # A gap of exactly tol standard errors keeps the reference (gap <= tol * se).
    exact = np.array([[2.0, 4.0], [1.0, 2.0]])  # gaps 1 and 2: mean 1.5, se 0.5
    assert choose(exact, 1, 3.0)[0] == 1
    assert choose(exact, 1, 2.999)[0] == 0
    # Without a reference, or when the reference is the best: the best.
    assert choose(scores, None, 1e9)[0] == 0
    assert choose(scores, 0, 0.0)[0] == 0
