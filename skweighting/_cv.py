"""SparseAttentionClassifierCV and SparseAttentionRegressorCV.

Like `LogisticRegressionCV`, they tune what only the weight step depends on
(the temperature, and optionally the combination and the normaliser) without
refitting a single module: the modules' out-of-fold outputs are computed
once; an inner split of those out-of-fold rows scores every candidate along
a warm-started temperature path (`skweighting._path`); the final weights are
learned on all the out-of-fold rows at the chosen candidate; then only the
modules with non-zero weight are refitted.
"""

from numbers import Integral, Real

import numpy as np
from sklearn.base import ClassifierMixin, RegressorMixin
from sklearn.utils._param_validation import Interval

from ._base import _BaseSparseAttention
from ._budget import ensemble_cost
from ._docstrings import CV_ATTRIBUTES, CV_PARAMETERS
from ._normalisers import NORMALISERS, resolve_normaliser
from ._objective import Objective
from ._path import fit_path, temperature_path
from ._selection import (
    Candidates,
    Search,
    add_single_modules,
    candidate_scorer,
    describe,
    select,
    within_budget_candidates,
)
from ._tasks import CLASSIFICATION, REGRESSION


class _BaseSparseAttentionCV(_BaseSparseAttention):
    """The temperature path and its inner cross-validation. Not public."""

    _parameter_constraints: dict = {
        **_BaseSparseAttention._parameter_constraints,
        "temperatures": [Interval(Integral, 2, None, closed="left"), "array-like"],
        "normalisers": [list, tuple],
        "alpha": [Interval(Real, 0, None, closed="neither")],
        "inner_cv": [None, "cv_object"],
        "scoring": [None, str, callable],
        "single_modules": ["boolean"],
        "selection_tol": [Interval(Real, 0, None, closed="left")],
    }

    def __init__(
        self,
        estimators,
        *,
        temperatures=10,
        normalisers=("softmax",),
        alpha=1e-4,
        cv=5,
        inner_cv=None,
        scoring=None,
        single_modules=True,
        selection_tol=3.0,
        max_iter=1000,
        tol=1e-6,
        memory=None,
        n_jobs=None,
        verbose=0,
        random_state=None,
        error_score="raise",
        max_modules=None,
        max_predict_cost=None,
    ):
        super().__init__(
            estimators,
            alpha=alpha,
            cv=cv,
            max_iter=max_iter,
            tol=tol,
            memory=memory,
            n_jobs=n_jobs,
            verbose=verbose,
            random_state=random_state,
            error_score=error_score,
            max_modules=max_modules,
            max_predict_cost=max_predict_cost,
        )
        self.temperatures = temperatures
        self.normalisers = normalisers
        self.inner_cv = inner_cv
        self.scoring = scoring
        self.single_modules = single_modules
        self.selection_tol = selection_tol

    def _validate_weight_params(self, task):
        unknown = [n for n in self.normalisers if n not in NORMALISERS]
        if not self.normalisers or unknown:
            raise ValueError(
                f"normalisers={self.normalisers!r}: each must be one of "
                f"{sorted(NORMALISERS)}, and at least one is needed."
            )
        self._combination_names(task)  # raises for a combination not offered
        if isinstance(self.temperatures, Integral):
            return
        temperatures = np.asarray(self.temperatures, dtype=np.float64)
        if temperatures.ndim != 1 or temperatures.size == 0:
            raise ValueError(
                "temperatures must be an int (the length of an automatic "
                "path) or a non-empty list of temperatures."
            )
        if not np.all((temperatures >= 1e-10) & (temperatures <= 1e10)):
            raise ValueError(
                f"temperatures={self.temperatures!r}: each must lie in "
                "[1e-10, 1e10] (and be > 0)."
            )

    def _combination_names(self, task):
        return list(task.combinations)

    def _store_needs(self):
        # Candidates are scored on inner splits of the out-of-fold rows; a
        # scorer needs the combined predictions, not only the loss.
        return {"keep_rows": True, "keep_outputs": self.scoring is not None}

    def _refits_every_module(self):
        return False  # a candidate can keep a module alone

    def _learn_weights(self, problem):
        seed = self._seed()
        objectives = [
            Objective(loss, resolve_normaliser(name), alpha=self.alpha, temperature=1.0)
            for loss in problem.losses
            for name in self.normalisers
        ]
        temperatures = self._temperature_path(objectives, seed)
        inner = problem.layout.inner_splits(
            self.inner_cv, classifier=self._fixed_task.stratify, seed=seed
        )
        names = [c.name for c in problem.combinations]
        score = candidate_scorer(self, self.scoring, problem.scoring_targets)
        search = Search(temperatures, inner, score, seed, names)
        candidates = Candidates(len(inner))
        for index, objective in enumerate(objectives):
            self._add_path(candidates, objective, index, search)
        if self.single_modules and problem.losses[0].n_modules > 1:
            add_single_modules(candidates, problem, search, self.max_predict_cost)
        if self.max_modules is not None or self.max_predict_cost is not None:
            solve = {"max_iter": self.max_iter, "tol": self.tol, "random_state": seed}
            within_budget_candidates(
                candidates,
                objectives,
                problem,
                search,
                budget=(self.max_modules, self.max_predict_cost),
                normalisers=self.normalisers,
                solve=solve,
            )
        chosen = self._choose(candidates, search)
        self._set_cv_results(candidates, temperatures, chosen, problem)
        combination = problem.combinations[candidates.combination[chosen]]
        return combination, candidates.fits[chosen]

    def _temperature_path(self, objectives, seed):
        if not isinstance(self.temperatures, Integral):
            return np.sort(np.asarray(self.temperatures, dtype=np.float64))
        path = temperature_path(
            objectives,
            self.temperatures,
            max_iter=self.max_iter,
            tol=self.tol,
            seed=seed,
        )
        # The plain estimators' default temperature is always a candidate:
        # the reference of the selection rule.
        return np.union1d(path, [1.0])

    def _add_path(self, candidates, objective, index, search):
        """The candidates of one combination and normaliser along the path:
        scored on each inner split (fitted on its training rows), then
        fitted on all the out-of-fold rows."""
        temperatures, inner, score = search.temperatures, search.inner, search.score
        solve = {"max_iter": self.max_iter, "tol": self.tol, "seed": search.seed}
        scores = np.empty((len(temperatures), len(inner)))
        for split, (train, test) in enumerate(inner):
            path = fit_path(objective.take(train), temperatures, **solve)
            scores[:, split] = [score(objective.loss, test, fit) for fit in path]
        fits = fit_path(objective, temperatures, **solve)
        combination = index // len(self.normalisers)
        normaliser = self.normalisers[index % len(self.normalisers)]
        n_iter = 0
        for temperature, row, fit in zip(temperatures, scores, fits):
            # n_iter_: the iterations along the warm-started path up to this
            # temperature (a warm start can converge at once).
            n_iter += fit.n_iter
            params = {
                "combine": search.combine_names[combination],
                "normaliser": normaliser,
                "temperature": float(temperature),
                "module": None,
            }
            fit = fit._replace(n_iter=max(n_iter, 1))
            candidates.add(params, row, fit, combination)

    def _choose(self, candidates, search):
        """The row of ``cv_results_`` chosen (`select`): the reference (the
        first combination and normaliser at temperature 1, the plain
        estimators' default) unless the best beats it by more than
        ``selection_tol`` paired standard errors."""
        reference = {
            "combine": search.combine_names[0],
            "normaliser": self.normalisers[0],
            "temperature": 1.0,
            "module": None,
        }
        chosen, best = select(candidates, reference, self.selection_tol)
        if self.verbose:
            self._log(
                f"best: {describe(candidates.params[best])}; chosen: "
                f"{describe(candidates.params[chosen])} (the reference unless "
                f"beaten by more than selection_tol={self.selection_tol:g} "
                "standard errors)",
                0.0,
            )
        return chosen

    def _set_cv_results(self, candidates, temperatures, chosen, problem):
        # Weights over every module (zero for one that failed).
        expand = np.zeros((len(problem.modules), len(self.module_names_)))
        expand[np.arange(len(problem.modules)), problem.modules] = 1.0
        self.cv_results_ = candidates.results(self.module_names_, expand)
        # Each candidate's expected predict cost, as `predict_cost_` counts it.
        self.cv_results_["predict_cost"] = np.array(
            [
                ensemble_cost(
                    problem.costs, np.flatnonzero(fit.weights > 0), problem.fixed_cost
                )
                for fit in candidates.fits
            ]
        )
        self.best_index_ = chosen
        self.temperatures_ = temperatures
        # The path shown (weights_path_) is the chosen candidate's, or the
        # best-scoring combined candidate's when one module alone is chosen.
        n_path = len(candidates.params) - sum(
            p["module"] is not None for p in candidates.params
        )
        mean = self.cv_results_["mean_test_score"]
        on_path = chosen if chosen < n_path else int(np.argmax(mean[:n_path]))
        block = on_path // len(temperatures)
        rows = slice(block * len(temperatures), (block + 1) * len(temperatures))
        self.weights_path_ = np.array([fit.weights for fit in candidates.fits[rows]])
        self.weights_path_ = self.weights_path_ @ expand
        self.path_combine_ = candidates.params[rows.start]["combine"]
        self.path_normaliser_ = candidates.params[rows.start]["normaliser"]
        params = candidates.params[chosen]
        self.single_module_ = params["module"]
        if self.single_module_ is None:
            self.temperature_ = params["temperature"]
            self.normaliser_ = params["normaliser"]
        else:
            # One-hot weights are sparsemax's at temperature 1 of the logits
            # `single_module_fit` gives.
            self.temperature_ = 1.0
            self.normaliser_ = "sparsemax"


class SparseAttentionClassifierCV(ClassifierMixin, _BaseSparseAttentionCV):
    """Classifier with attention weights tuned by an inner cross-validation
    of the modules' out-of-fold outputs: no module is refitted per candidate.

    The modules are fitted out-of-fold once (``cv``); every candidate
    temperature (and combination, and normaliser) is scored by an inner
    split (``inner_cv``) of those out-of-fold rows, warm-started along the
    temperature path; the final weights are learned on all out-of-fold rows
    at the chosen candidate, and only the modules with non-zero weight are
    refitted on all the data.
    Everything else is as in
    :class:`SparseAttentionClassifier`.

    Read more in the :ref:`User Guide <user_guide>`.

    Parameters
    ----------
    estimators : list of (str, estimator) tuples, default=None
        The modules: classifiers with ``predict_proba``; ``'drop'`` allowed.
        None means the default portfolio of
        :class:`SparseAttentionClassifier`.

    {cv_parameters}

    combines : list of {{'log', 'linear'}}, default=('log', 'linear')
        The combinations to choose from: log-linear pooling with a learned
        sharpness, and the linear mixture.

    single_modules : bool, default=True
        Also score each module alone as a candidate. It is chosen as any
        candidate is (``selection_tol``): then only it is refitted, and
        ``single_module_`` names it.

    Attributes
    ----------
    {cv_attributes}

    classes_ : ndarray of shape (n_classes,)
        The class labels.

    sharpness_ : float
        The learned sharpness (when log pooling is chosen).

    See Also
    --------
    SparseAttentionClassifier : A fixed temperature and combination.
    sklearn.linear_model.LogisticRegressionCV : The same idea for a
        regularisation path.

    Examples
    --------
    >>> from sklearn.datasets import load_breast_cancer
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.naive_bayes import GaussianNB
    >>> from sklearn.tree import DecisionTreeClassifier
    >>> from skweighting import SparseAttentionClassifierCV
    >>> X, y = load_breast_cancer(return_X_y=True)
    >>> clf = SparseAttentionClassifierCV(
    ...     [("lr", LogisticRegression(max_iter=5000)),
    ...      ("tree", DecisionTreeClassifier(max_depth=3, random_state=0)),
    ...      ("nb", GaussianNB())],
    ...     temperatures=5,
    ... ).fit(X, y)
    >>> clf.weights_path_.shape == (len(clf.temperatures_), 3)
    True
    >>> 1.0 in clf.temperatures_  # the plain estimators' default, always a candidate
    True
    >>> clf.combine_ in ("log", "linear")
    True
    """

    _fixed_task = CLASSIFICATION
    _parameter_constraints: dict = {
        **_BaseSparseAttentionCV._parameter_constraints,
        "combines": [list, tuple],
    }

    def __init__(
        self,
        estimators=None,
        *,
        temperatures=10,
        combines=("log", "linear"),
        normalisers=("softmax",),
        alpha=1e-4,
        cv=5,
        inner_cv=None,
        scoring=None,
        single_modules=True,
        selection_tol=3.0,
        max_iter=1000,
        tol=1e-6,
        memory=None,
        n_jobs=None,
        verbose=0,
        random_state=None,
        error_score="raise",
        max_modules=None,
        max_predict_cost=None,
    ):
        super().__init__(
            estimators,
            temperatures=temperatures,
            normalisers=normalisers,
            alpha=alpha,
            cv=cv,
            inner_cv=inner_cv,
            scoring=scoring,
            single_modules=single_modules,
            selection_tol=selection_tol,
            max_iter=max_iter,
            tol=tol,
            memory=memory,
            n_jobs=n_jobs,
            verbose=verbose,
            random_state=random_state,
            error_score=error_score,
            max_modules=max_modules,
            max_predict_cost=max_predict_cost,
        )
        self.combines = combines

    def _combination_names(self, task):
        unknown = [c for c in self.combines if c not in task.combinations]
        if not self.combines or unknown:
            raise ValueError(
                f"combines={self.combines!r}: each must be one of "
                f"{sorted(task.combinations)}, and at least one is needed."
            )
        return list(dict.fromkeys(self.combines))


class SparseAttentionRegressorCV(RegressorMixin, _BaseSparseAttentionCV):
    """Regressor with attention weights tuned by an inner cross-validation
    of the modules' out-of-fold outputs: no module is refitted per candidate.

    As :class:`SparseAttentionClassifierCV`, for the weighted average of
    regressors (:class:`SparseAttentionRegressor`).

    Read more in the :ref:`User Guide <user_guide>`.

    Parameters
    ----------
    estimators : list of (str, estimator) tuples, default=None
        The modules: regressors; ``'drop'`` allowed. None means the default
        portfolio of :class:`SparseAttentionRegressor`.

    {cv_parameters}

    single_modules : bool, default=False
        Also score each module alone as a candidate (see the classifier's
        ``single_modules``).

    Attributes
    ----------
    {cv_attributes}

    See Also
    --------
    SparseAttentionRegressor : A fixed temperature.
    sklearn.linear_model.RidgeCV : The same idea for a regularisation path.

    Examples
    --------
    >>> from sklearn.datasets import load_diabetes
    >>> from sklearn.linear_model import Ridge
    >>> from sklearn.tree import DecisionTreeRegressor
    >>> from skweighting import SparseAttentionRegressorCV
    >>> X, y = load_diabetes(return_X_y=True)
    >>> reg = SparseAttentionRegressorCV(
    ...     [("ridge", Ridge()),
    ...      ("tree", DecisionTreeRegressor(max_depth=3, random_state=0))],
    ...     temperatures=[0.1, 1.0, 10.0],
    ... ).fit(X, y)
    >>> reg.cv_results_["mean_test_score"].shape
    (3,)
    """

    _fixed_task = REGRESSION

    def __init__(
        self,
        estimators=None,
        *,
        temperatures=10,
        normalisers=("softmax",),
        alpha=1e-4,
        cv=5,
        inner_cv=None,
        scoring=None,
        single_modules=False,
        selection_tol=3.0,
        max_iter=1000,
        tol=1e-6,
        memory=None,
        n_jobs=None,
        verbose=0,
        random_state=None,
        error_score="raise",
        max_modules=None,
        max_predict_cost=None,
    ):
        super().__init__(
            estimators,
            temperatures=temperatures,
            normalisers=normalisers,
            alpha=alpha,
            cv=cv,
            inner_cv=inner_cv,
            scoring=scoring,
            single_modules=single_modules,
            selection_tol=selection_tol,
            max_iter=max_iter,
            tol=tol,
            memory=memory,
            n_jobs=n_jobs,
            verbose=verbose,
            random_state=random_state,
            error_score=error_score,
            max_modules=max_modules,
            max_predict_cost=max_predict_cost,
        )


for _class in (SparseAttentionClassifierCV, SparseAttentionRegressorCV):
    _class.__doc__ = _class.__doc__.format(
        cv_parameters=CV_PARAMETERS, cv_attributes=CV_ATTRIBUTES
    )
