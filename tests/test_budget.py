"""Serving within a budget: each module's predict cost, the nested path of
supports, and ``max_modules`` / ``max_predict_cost`` on every estimator."""

import numpy as np
import pytest
from _helpers import combination_loss
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.datasets import make_classification, make_regression
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.naive_bayes import GaussianNB
from sklearn.neighbors import KNeighborsRegressor
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

from skweighting import (
    SparseAttentionClassifier,
    SparseAttentionClassifierCV,
    SparseAttentionRegressor,
    SparseAttentionRegressorCV,
)
from skweighting._budget import (
    affordable_start,
    check_budget,
    predict_costs,
    restricted,
    savings,
    support_path,
    within_budget,
)
from skweighting._combinations.mixture import MixtureLoss
from skweighting._normalisers import NORMALISERS
from skweighting._objective import Objective
from skweighting._solvers import learn_attention

X, Y = make_classification(
    n_samples=200, n_features=6, n_informative=4, flip_y=0.1, random_state=0
)
X_REG, Y_REG = make_regression(n_samples=200, n_features=5, noise=10.0, random_state=0)
CALLS = []


class Counted(ClassifierMixin, BaseEstimator):
    """A classifier that records its fits on all rows and its calls."""

    def __init__(self, estimator=None, tag="m"):
        self.estimator = estimator
        self.tag = tag

    def fit(self, X, y):
        if len(X) == len(Y):
            CALLS.append((self.tag, "refit"))
        self.fitted_ = self.estimator.fit(X, y)
        self.classes_ = self.fitted_.classes_
        return self

    def predict_proba(self, X):
        CALLS.append((self.tag, "predict_proba"))
        return self.fitted_.predict_proba(X)


def _counted():
    return [
        ("lr", Counted(LogisticRegression(), "lr")),
        ("nb", Counted(GaussianNB(), "nb")),
        ("tree", Counted(DecisionTreeClassifier(max_depth=3, random_state=0), "tree")),
        ("deep", Counted(DecisionTreeClassifier(random_state=0), "deep")),
    ]


# --------------------------------------------------------------------------
# The path of supports (pure)
# --------------------------------------------------------------------------
FOLDS = [slice(0, 70), slice(70, 140), slice(140, 200)]


def _solve(objective, warm_start):
    return learn_attention(objective, warm_start=warm_start)


def _fitted(name, seed, normaliser="softmax"):
    """The loss of combination ``name`` on random outputs, its objective at
    temperature 1 and that objective's optimum."""
    loss = combination_loss(name, np.random.default_rng(seed))
    objective = Objective(loss, NORMALISERS[normaliser], alpha=1e-4, temperature=1.0)
    return loss, objective, learn_attention(objective)


@pytest.mark.parametrize("name", ["log", "linear", "regression"])
@pytest.mark.parametrize("normaliser", ["softmax", "sparsemax"])
def test_the_path_is_nested_from_the_support_down_to_one_module(name, normaliser):
    loss, objective, fit = _fitted(name, 1, normaliser)
    costs = np.array([1.0, 2.0, 0.5, 3.0])
    points = support_path(objective, fit, costs, FOLDS, _solve)
    assert [len(p.modules) for p in points] == list(
        range(np.count_nonzero(fit.weights), 0, -1)
    )
    for bigger, smaller in zip(points, points[1:]):
        assert set(smaller.modules) < set(bigger.modules)
    for point in points:
        kept = list(point.modules)
        # Zero weight outside the support, and each point's weights are the
        # optimum over its modules (learned again, not just renormalised).
        assert np.all(point.fit.weights[np.setdiff1d(range(4), kept)] == 0)
        alone = learn_attention(restricted(objective, kept))
        np.testing.assert_allclose(point.fit.weights[kept], alone.weights, atol=1e-4)
        assert point.cost == pytest.approx(costs[kept].sum())
        assert point.loss == pytest.approx(
            loss.value(point.fit.weights, point.fit.extra)
        )
        assert np.isfinite(point.standard_error) and point.standard_error >= 0


def test_each_step_drops_the_least_loss_per_unit_of_cost_saved():
    _, objective, fit = _fitted("linear", 2)
    costs = np.array([1.0, 1.0, 1.0, 100.0])
    first, second = support_path(objective, fit, costs, FOLDS, _solve)[:2]
    ratios = {}
    for module in first.modules:
        kept = [m for m in first.modules if m != module]
        kept_objective = restricted(objective, kept)
        trial = learn_attention(kept_objective)
        rise = kept_objective.loss.value(trial.weights, trial.extra) - first.loss
        ratios[module] = rise / costs[module]
    dropped = (set(first.modules) - set(second.modules)).pop()
    assert dropped == min(ratios, key=ratios.get)


def test_a_budget_of_modules_drops_the_least_loss_whatever_the_cost():
    # Under max_modules every module saves one module: the dropped one is
    # the smallest rise of the loss, whatever the modules cost. Each module
    # is right on its own quarter of the rows, module 3 the least so.
    quarter = np.repeat(np.arange(4), 50)
    strength = np.array([0.95, 0.9, 0.85, 0.8])
    proba_true = np.where(quarter == np.arange(4)[:, None], strength[:, None], 0.2)
    loss = MixtureLoss(proba_true, np.full(200, 1 / 200), None)
    objective = Objective(loss, NORMALISERS["softmax"], alpha=1e-4, temperature=1.0)
    fit = learn_attention(objective)
    costs = np.array([1.0, 2.0, 1.0, 1.0])
    np.testing.assert_array_equal(savings(costs, None), np.ones(4))
    np.testing.assert_array_equal(savings(costs, 2.0), costs)
    rises = []
    for module in range(4):
        kept = [m for m in range(4) if m != module]
        kept_objective = restricted(objective, kept)
        trial = learn_attention(kept_objective)
        rises.append(kept_objective.loss.value(trial.weights, trial.extra))
    rises = np.array(rises) - loss.value(fit.weights, fit.extra)
    assert np.all(np.diff(rises) < -1e-3)  # distinct: 3 is the least missed
    by_count = support_path(
        objective, fit, costs, FOLDS, _solve, saved=savings(costs, None)
    )[1]
    assert by_count.modules == (0, 1, 2)
    # The costs still say what each point costs.
    assert by_count.cost == pytest.approx(4.0)
    # Per unit of cost, the dearer module 1 goes first instead.
    assert np.argmin(rises / costs) == 1
    assert support_path(objective, fit, costs, FOLDS, _solve)[1].modules == (0, 2, 3)


def test_within_budget_is_the_lowest_loss_that_fits():
    _, objective, fit = _fitted("log", 3, "sparsemax")
    costs = np.array([0.1, 0.2, 0.3, 0.4])
    points = support_path(objective, fit, costs, FOLDS, _solve)
    for k in range(1, len(points[0].modules) + 1):
        point = within_budget(points, max_modules=k)
        assert len(point.modules) <= k
        assert point.loss == min(p.loss for p in points if len(p.modules) <= k)
    cheapest = within_budget(points, max_cost=0.35)
    assert cheapest.cost <= 0.35
    assert within_budget(points, max_cost=0.01) is None


def test_costs_are_a_call_of_1000_rows():
    # Two modules, 3 folds: module 0 spends 0.1 s per call and 1.1 s on a
    # call of 1,000 rows; module 1 nothing per call and 2 s on 1,000 rows.
    # One of module 0's timing calls was slowed by the machine: the medians
    # ignore it. Module 1's small call measured above its 1,000-row call:
    # a call's own part is at most the cost.
    fold = np.array([[0.0, 0.3, 0.1, 1.1], [0.0, 0.2, 2.5, 2.0]])
    fold_seconds = np.repeat(fold[:, None, :], 3, axis=1)
    fold_seconds[0, 1, 3] += 5.0
    fold_seconds[0, 2, 2] += 5.0
    costs, per_call = predict_costs(fold_seconds)
    np.testing.assert_allclose(per_call, [0.1, 2.0])
    np.testing.assert_allclose(costs, [1.1, 2.0])


def test_a_cost_budget_starts_from_the_modules_that_alone_fit_it():
    _, objective, fit = _fitted("linear", 4)
    costs = np.array([5.0, 0.1, 0.2, 0.3])  # module 0 alone breaks the budget
    start = affordable_start(objective, fit, costs, 1.0, _solve)
    assert start.weights[0] == 0 and np.all(start.weights[1:] > 0)
    points = support_path(objective, start, costs, FOLDS, _solve)
    point = within_budget(points, max_cost=0.35)
    assert point is not None and point.cost <= 0.35
    assert affordable_start(objective, fit, costs, None, _solve) is fit


def test_the_ensembles_own_cost_is_part_of_every_point_and_budget():
    _, objective, fit = _fitted("linear", 4)
    costs = np.array([0.5, 0.1, 0.2, 0.3])
    plain = support_path(objective, fit, costs, FOLDS, _solve)
    fixed = support_path(objective, fit, costs, FOLDS, _solve, fixed=0.25)
    # The same drops (a part of every call saves nothing), each point 0.25
    # dearer.
    assert [p.modules for p in fixed] == [p.modules for p in plain]
    for with_fixed, without in zip(fixed, plain):
        assert with_fixed.cost == pytest.approx(without.cost + 0.25)
    # Module 0 alone fits 0.7, but not with the ensemble's own 0.25.
    start = affordable_start(objective, fit, costs, 0.7, _solve, fixed=0.25)
    assert start.weights[0] == 0 and np.all(start.weights[1:] > 0)
    assert affordable_start(objective, fit, costs, 0.7, _solve) is fit
    check_budget(costs, ["a", "b", "c", "d"], 0.35, fixed=0.25)
    with pytest.raises(ValueError, match=r"the cheapest, 'b', costs 0\.4 with"):
        check_budget(costs, ["a", "b", "c", "d"], 0.35, fixed=0.3)


# --------------------------------------------------------------------------
# The estimators
# --------------------------------------------------------------------------
@pytest.mark.parametrize("normaliser", ["softmax", "sparsemax"])
@pytest.mark.parametrize("k", [1, 2, 3])
def test_max_modules_refits_and_calls_at_most_k_modules(k, normaliser):
    ens = SparseAttentionClassifier(
        _counted(), normaliser=normaliser, max_modules=k, random_state=0
    )
    CALLS.clear()
    ens.fit(X, Y)
    refitted = {tag for tag, what in CALLS if what == "refit"}
    assert ens.n_nonzero_ <= k and len(refitted) == ens.n_nonzero_
    assert refitted == {
        n for n, w in zip(ens.module_names_, ens.attention_weights_) if w > 0
    }
    CALLS.clear()
    ens.predict_proba(X)
    called = {tag for tag, what in CALLS if what == "predict_proba"}
    assert called == refitted
    np.testing.assert_allclose(ens.attention_weights_.sum(), 1.0)


def test_predict_cost_is_the_modules_in_use_and_the_ensembles_own_work():
    ens = SparseAttentionClassifier(_counted(), max_modules=2, random_state=0).fit(X, Y)
    costs = ens.modules_["predict_cost"]
    assert np.all(costs >= ens.modules_["predict_call_cost"])
    assert ens.own_call_cost_ > 0 and ens.own_module_cost_ >= 0
    expected = ens.own_call_cost_ + np.sum(costs[ens.support_] + ens.own_module_cost_)
    assert ens.predict_cost_ == pytest.approx(expected)
    assert ens.support_path_[0].cost >= ens.predict_cost_
    # Every point of the path counts the ensemble's own work too.
    for point in ens.support_path_:
        modules = list(point.modules)
        assert point.cost == pytest.approx(
            ens.own_call_cost_ + np.sum(costs[modules] + ens.own_module_cost_)
        )


class Sleepy(Counted):
    """A module whose predict takes at least ``seconds`` per row: a cost far
    above the timing noise of a busy machine."""

    def __init__(self, estimator=None, tag="m", seconds=0.0):
        super().__init__(estimator, tag)
        self.seconds = seconds

    def predict_proba(self, X):
        import time

        time.sleep(self.seconds * len(X))
        return super().predict_proba(X)


def test_the_ensembles_own_cost_splits_into_a_call_and_a_module_part(monkeypatch):
    # A clock that a call combining k modules moves by 1 ms + k * 0.2 ms:
    # the fit must read 1 ms per call and 0.2 ms per module off it.
    from skweighting import _prediction

    clock = [0.0]
    combine = _prediction._combine_blocks

    def timed_combine(combination, modules, *args):
        clock[0] += 1e-3 + 2e-4 * len(modules)
        return combine(combination, modules, *args)

    monkeypatch.setattr(_prediction, "_combine_blocks", timed_combine)
    monkeypatch.setattr(_prediction.time, "perf_counter", lambda: clock[0])
    ens = SparseAttentionClassifier(_counted(), random_state=0).fit(X, Y)
    assert ens.own_call_cost_ == pytest.approx(1e-3)
    assert ens.own_module_cost_ == pytest.approx(2e-4)
    assert ens.predict_cost_ == pytest.approx(
        1e-3 + np.sum(ens.modules_["predict_cost"][ens.support_] + 2e-4)
    )


CLOCK = {"now": 0.0, "rows": []}


class Clocked(Counted):
    """A module whose predict moves `CLOCK` by 1 ms per call and 0.01 ms
    per row, and records the rows of each call."""

    def predict_proba(self, X):
        CLOCK["now"] += 1e-3 + 1e-5 * len(X)
        CLOCK["rows"].append(len(X))
        return super().predict_proba(X)


def test_a_modules_cost_is_its_own_1000_row_call(monkeypatch):
    # After each fold's held-out rows, the module predicts 8 and then
    # 1,000 rows (40-row folds: repeated) in calls of their own; the cost
    # is the 1,000-row call, not the held-out call scaled.
    from skweighting import _modules

    monkeypatch.setitem(CLOCK, "rows", [])
    monkeypatch.setattr(_modules, "perf_counter", lambda: CLOCK["now"])
    modules = [("lr", Clocked(LogisticRegression(), "lr")), ("nb", GaussianNB())]
    ens = SparseAttentionClassifier(modules, random_state=0).fit(X, Y)
    assert CLOCK["rows"][:15] == [40, 8, 1000] * 5
    np.testing.assert_allclose(ens.modules_["predict_cost"][0], 1e-3 + 1e-2)
    np.testing.assert_allclose(ens.modules_["predict_call_cost"][0], 1e-3 + 8e-5)
    np.testing.assert_allclose(ens.modules_["fold_predict_time"][0], 5 * 1.4e-3)


class TagCounted(Counted):
    """A module that counts how often its tags are asked for."""

    asked = 0

    def __sklearn_tags__(self):
        TagCounted.asked += 1
        return super().__sklearn_tags__()


def test_predict_does_not_compute_the_modules_tags():
    # The ensemble's tags are every module's: computing them (as
    # check_is_fitted and validate_data do) is much of a small call's
    # own work, and a fitted ensemble's predict needs none of them.
    modules = [("lr", TagCounted(LogisticRegression())), ("nb", GaussianNB())]
    ens = SparseAttentionClassifier(modules, random_state=0).fit(X, Y)
    TagCounted.asked = 0
    ens.predict_proba(X)
    ens.predict(X)
    assert TagCounted.asked == 0
    with pytest.raises(ValueError, match="features"):
        ens.predict(X[:, :3])


def test_max_predict_cost_is_honoured_or_names_the_cheapest_module():
    # Seconds per 1,000 rows: about 0, 0.5, 1 and 3.
    modules = [
        (f"m{i}", Sleepy(LogisticRegression(), f"m{i}", ms / 1000))
        for i, ms in enumerate((0.0, 0.5, 1.0, 3.0))
    ]
    within = SparseAttentionClassifier(
        modules, max_predict_cost=1.7, random_state=0
    ).fit(X, Y)
    costs = within.modules_["predict_cost"]
    assert costs[3] > 1.7  # the slowest alone breaks the budget
    assert within.predict_cost_ <= 1.7 and within.attention_weights_[3] == 0
    with pytest.raises(ValueError, match="cheapest, 'm0', costs"):
        SparseAttentionClassifier(modules, max_predict_cost=1e-9).fit(X, Y)


def test_a_regressor_within_max_modules():
    modules = [
        ("ridge", Ridge()),
        ("tree", DecisionTreeRegressor(max_depth=3, random_state=0)),
        ("knn", KNeighborsRegressor()),
    ]
    plain = SparseAttentionRegressor(modules, random_state=0).fit(X_REG, Y_REG)
    assert plain.n_nonzero_ == 3
    one = SparseAttentionRegressor(modules, max_modules=1, random_state=0).fit(
        X_REG, Y_REG
    )
    assert one.n_nonzero_ == 1 and len(one.estimators_) == 1


@pytest.mark.parametrize("k", [1, 2])
def test_the_cv_estimators_choose_among_candidates_within_the_budget(k):
    est = SparseAttentionClassifierCV(
        _counted(), max_modules=k, temperatures=3, random_state=0
    ).fit(X, Y)
    results = est.cv_results_
    assert np.all(results["n_nonzero"] <= k)
    assert est.n_nonzero_ <= k
    weights = np.column_stack([results[f"weight_{n}"] for n in est.module_names_])
    costs = est.modules_["predict_cost"] + est.own_module_cost_
    np.testing.assert_allclose(
        results["predict_cost"], est.own_call_cost_ + (weights > 0) @ costs
    )
    reg = SparseAttentionRegressorCV(
        [("ridge", Ridge()), ("tree", DecisionTreeRegressor(max_depth=3))],
        max_modules=1,
        temperatures=3,
    ).fit(X_REG, Y_REG)
    assert reg.n_nonzero_ == 1


class Slow(Counted):
    """A good module whose every predict call costs at least 20 ms."""

    def predict_proba(self, X):
        import time

        time.sleep(0.02)
        return super().predict_proba(X)


def test_a_good_module_over_the_cost_budget_is_never_called():
    modules = [("slow", Slow(LogisticRegression(), "slow")), *_counted()[1:]]
    ens = SparseAttentionClassifier(modules, max_predict_cost=0.01, random_state=0).fit(
        X, Y
    )
    assert ens.modules_["predict_call_cost"][0] >= 0.02
    assert ens.attention_weights_[0] == 0 and ens.predict_cost_ <= 0.01
    CALLS.clear()
    ens.predict_proba(X)
    assert ("slow", "predict_proba") not in CALLS
