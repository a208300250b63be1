"""The candidates of a CV estimator and how they are scored and chosen.

A candidate is a combination, a normaliser and a temperature (or one module
alone); each is scored on the held-out rows of inner splits of the
out-of-fold rows. `Candidates` collects them into ``cv_results_``.
"""

from collections import namedtuple

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.metrics import check_scoring

from ._budget import ensemble_cost, path_within_budget, restricted
from ._solvers import AttentionFit, learn_attention


class StoredOutputs(BaseEstimator):
    """The combination's predictions of out-of-fold rows at given weights,
    for a scikit-learn scorer: ``X`` holds row numbers."""

    def __init__(self, loss, fit, classes=None, ravel=False):
        self.loss = loss
        self.fit_ = fit
        self.classes = classes
        self.ravel = ravel

    def _output(self, X):
        rows = np.asarray(X)[:, 0].astype(np.intp)
        output = self.loss.predict_rows(rows, self.fit_.weights, self.fit_.extra)
        return output.ravel() if self.ravel else output

    def fit(self, X, y):  # pragma: no cover - never fitted, only scored
        return self

    def predict_proba(self, X):
        return self._output(X)

    def predict(self, X):
        output = self._output(X)
        if self.classes is None:
            return output
        return self.classes_[np.argmax(output, axis=1)]

    @property
    def classes_(self):
        return self.classes

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.estimator_type = "regressor" if self.classes is None else "classifier"
        return tags


def single_module_fit(loss, module):
    """Module ``module`` alone: one-hot weights, whose logits are
    sparsemax's preimage at temperature 1 (so ``attention_weights_ ==
    sparsemax(attention_logits_ / temperature_)`` holds with the documented
    ``normaliser_='sparsemax'`` and ``temperature_=1``)."""
    n_modules = loss.n_modules
    weights = np.zeros(n_modules)
    weights[module] = 1.0
    extra = np.zeros(loss.n_extra)
    objective = loss.value(weights, extra)
    return AttentionFit(
        logits=weights - 1.0 / n_modules,
        weights=weights,
        extra=extra,
        objective=objective,
        # One evaluation and nothing to iterate; scikit-learn's convention
        # for n_iter_ is at least one.
        n_iter=1,
        loss_curve=np.array([objective]),
        converged=True,
        theta=None,
    )


Search = namedtuple(
    "Search", ["temperatures", "inner", "score", "seed", "combine_names"]
)
Search.__doc__ = """The temperatures, the inner splits (train, test) of the out-of-fold
rows, the scorer ``score(loss, rows, fit)``, the solvers' seed and the names
of the candidate combinations of a CV fit."""


class Candidates:
    """The candidates of a CV fit, row by row of ``cv_results_``: their
    parameters, their scores on each inner split, their fit on all the
    out-of-fold rows and the index of their combination."""

    def __init__(self, n_splits):
        self.params, self.scores, self.fits, self.combination = [], [], [], []
        self.n_splits = n_splits
        # Columns of the selection (gap to the best, its standard error,
        # the reference, the chosen row), set once every candidate is in.
        self.selection = {}

    def add(self, params, scores, fit, combination):
        self.params.append(params)
        self.scores.append(scores)
        self.fits.append(fit)
        self.combination.append(combination)

    def results(self, module_names, expand):
        """``cv_results_``: a dict of 1-D arrays (and ``params``), as
        :class:`~sklearn.model_selection.GridSearchCV` gives, with the
        weights of each candidate's fit one key per module of
        ``module_names`` (``expand`` maps the candidates' modules onto
        them)."""
        scores = np.array(self.scores)
        mean, std = scores.mean(axis=1), scores.std(axis=1)
        weights = np.array([fit.weights for fit in self.fits]) @ expand
        params = self.params
        results = {
            "params": params,
            **{
                f"param_{key}": np.array([p[key] for p in params], dtype=object)
                for key in ("combine", "normaliser", "module")
            },
            "param_temperature": np.array(
                [
                    np.nan if p["temperature"] is None else p["temperature"]
                    for p in params
                ]
            ),
            **{f"split{k}_test_score": scores[:, k] for k in range(self.n_splits)},
            "mean_test_score": mean,
            "std_test_score": std,
            "rank_test_score": (
                np.argsort(np.argsort(-mean, kind="stable"), kind="stable") + 1
            ),
            "n_nonzero": np.count_nonzero(weights, axis=1),
        }
        results.update(self.selection)
        for module, name in enumerate(module_names):
            results[f"weight_{name}"] = weights[:, module]
        return results


def paired_standard_errors(scores, best):
    """The standard error, across the shared inner splits, of each
    candidate's mean score gap to candidate ``best``: the splits are the
    same rows for every candidate, so the gaps are paired (``scores`` is
    (n_candidates, n_splits)). Zero with a single split (no estimate of
    the noise: only the best is within it)."""
    n_splits = scores.shape[1]
    if n_splits < 2:
        return np.zeros(len(scores))
    gaps = scores[best] - scores
    return gaps.std(axis=1, ddof=1) / np.sqrt(n_splits)


def choose(scores, reference, tol):
    """The ``reference`` candidate, unless the best one beats it by more
    than ``tol`` standard errors of their paired score difference; then the
    best. In the spirit of the one-standard-error rule of ``cv.glmnet``:
    the reference (the plain estimators' default) is the simple model, kept
    unless the inner splits show clearly that another candidate is better.

    Parameters
    ----------
    scores : ndarray of shape (n_candidates, n_splits)
        Each candidate's score (higher is better) on each inner split.
    reference : int or None
        The reference candidate; None chooses the best.
    tol : float
        Number of standard errors; 0 chooses the best.

    Returns
    -------
    chosen : int
    best : int
        The candidate of the best mean score.
    gap, standard_error : ndarray of shape (n_candidates,)
        Each candidate's mean score below the best's, and its paired
        standard error.
    """
    mean = scores.mean(axis=1)
    best = int(np.argmax(mean))
    gap = mean[best] - mean
    standard_error = paired_standard_errors(scores, best)
    kept = reference is not None and gap[reference] <= tol * standard_error[reference]
    return (reference if kept else best), best, gap, standard_error


def candidate_scorer(estimator, scoring, targets):
    """``score(loss, rows, fit)``: a candidate's score on held-out ``rows``
    (higher is better). ``scoring`` None: the loss the weights minimise,
    negated; else a scikit-learn scorer of ``estimator``'s kind, applied to
    the combined predictions of those rows against ``targets``."""
    if scoring is None:
        return lambda loss, rows, fit: -loss.take(rows).value(fit.weights, fit.extra)
    scorer = check_scoring(estimator, scoring)
    classes = getattr(estimator, "classes_", None)

    def score(loss, rows, fit):
        ravel = classes is None and targets.ndim == 1  # a 1-D regression y
        predictor = StoredOutputs(loss, fit, classes, ravel=ravel)
        return scorer(
            predictor,
            rows[:, None].astype(np.float64),
            targets[rows],
            sample_weight=loss.sample_weight[rows],
        )

    return score


def add_single_modules(candidates, problem, search, max_cost=None):
    """Each module alone (but those whose predict cost alone is over
    ``max_cost``): scored with the first combination whose single-module
    output is the module's own (the linear mixture, the average), else with
    the first (log pooling: its probabilities floored and renormalised)."""
    combination = next(
        (
            c
            for c, comb in enumerate(problem.combinations)
            if comb.single_module_is_own_output
        ),
        0,
    )
    loss = problem.losses[combination]
    for module, name in enumerate(problem.module_names):
        cost = ensemble_cost(problem.costs, [module], problem.fixed_cost)
        if max_cost is not None and cost > max_cost:
            continue
        fit = single_module_fit(loss, module)
        scores = [search.score(loss, test, fit) for _, test in search.inner]
        params = {
            "combine": search.combine_names[combination],
            "normaliser": None,
            "temperature": None,
            "module": name,
        }
        candidates.add(params, scores, fit, combination)


def within_budget_candidates(
    candidates, objectives, problem, search, *, budget, normalisers, solve
):
    """Each candidate that breaks the ``budget`` (``(max_modules,
    max_cost)``, None for no limit) becomes its point of lowest out-of-fold
    loss within the budget on its path of supports, scored on the inner
    splits with the modules of that point alone (``objectives``: one per
    combination and normaliser, in that order)."""
    max_modules, max_cost = budget
    for index, (params, fit) in enumerate(zip(candidates.params, candidates.fits)):
        support = fit.weights > 0
        cost = ensemble_cost(problem.costs, np.flatnonzero(support), problem.fixed_cost)
        if (max_modules or np.inf) >= support.sum() and (max_cost or np.inf) >= cost:
            continue
        family = candidates.combination[index] * len(normalisers)
        family += normalisers.index(params["normaliser"])
        objective = objectives[family].at(params["temperature"])
        solve_from = lambda o, warm: learn_attention(o, warm_start=warm, **solve)  # noqa: E731
        _, point = path_within_budget(
            objective,
            fit,
            problem.costs,
            problem.layout.folds,
            solve_from,
            max_modules=max_modules,
            max_cost=max_cost,
            fixed=problem.fixed_cost,
        )
        kept = restricted(objective, list(point.modules))
        candidates.scores[index] = [
            search.score(kept.loss, test, learn_attention(kept.take(train), **solve))
            for train, test in search.inner
        ]
        candidates.fits[index] = point.fit


def describe(params):
    """A candidate of ``cv_results_`` in a few words."""
    if params["module"] is not None:
        return f"module {params['module']!r} alone"
    return (
        f"combine={params['combine']!r}, normaliser={params['normaliser']!r}, "
        f"temperature={params['temperature']:.3g}"
    )


def select(candidates, reference, tol):
    """``(chosen, best)``: the candidate whose params are ``reference``
    unless the best beats it by more than ``tol`` paired standard errors
    (`choose`), and the best. The selection's columns of ``cv_results_``
    are set on ``candidates``."""
    rows = [i for i, params in enumerate(candidates.params) if params == reference]
    chosen, best, gap, standard_error = choose(
        np.asarray(candidates.scores), rows[0] if rows else None, tol
    )
    n_candidates = len(candidates.params)
    candidates.selection = {
        "gap_from_best": gap,
        "se_gap_from_best": standard_error,
        "is_reference": np.isin(np.arange(n_candidates), rows),
        "chosen": np.arange(n_candidates) == chosen,
    }
    return chosen, best
