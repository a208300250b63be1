"""SparseAttentionClassifierCV and SparseAttentionRegressorCV.

Like `LogisticRegressionCV`, they tune what only the weight step depends on
(the temperature, and optionally the combination and the normaliser) without
refitting a single module: the modules' out-of-fold outputs are computed
once; an inner split of those out-of-fold rows scores every candidate along
a warm-started temperature path; the final weights are learned on all the
out-of-fold rows at the chosen candidate; then only the modules with
non-zero weight are refitted.
"""

from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.ensemble._base import _BaseHeterogeneousEnsemble
from sklearn.metrics import check_scoring
from sklearn.model_selection import KFold, StratifiedKFold, check_cv
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import HasMethods, Interval

from ._base import _BaseSparseAttention
from ._classifier import _ClassifierHooks
from ._docstrings import CV_ATTRIBUTES, CV_PARAMETERS
from ._normalisers import NORMALISERS
from ._portfolio import default_classifiers, default_regressors
from ._regressor import _RegressorHooks
from ._solvers import AttentionFit, learn_attention
from ._validation import MAX_SEED

# The automatic path runs from where the penalty has cost the out-of-fold
# loss 1% of the way from the unpenalised optimum to uniform weights, to 99%.
PATH_ENDS = (0.01, 0.99)
# Rows used to find the ends of the path (the weights' optimum moves little
# with more rows; finding the ends stays a few milliseconds).
PATH_ROWS = 5000


# The temperatures searched for the ends of the automatic path: half-decade
# steps over a range far wider than any data set needs.
SEARCH_TEMPERATURES = 10.0 ** np.arange(-4.0, 6.01, 0.5)


def _temperature_range(loss, normaliser, alpha, *, max_iter, tol, seed):
    """Temperatures where ``normaliser``'s weights leave the unpenalised
    optimum and where they reach (nearly) uniform weights, at ``alpha``.

    The data loss along the temperature path rises monotonically from its
    unpenalised optimum to its value at uniform weights; the ends are where
    it has covered `PATH_ENDS` of that rise, interpolated in log T along a
    warm-started sweep of `SEARCH_TEMPERATURES`.
    """
    # The optimum over the simplex, whatever the normaliser: sparsemax at
    # alpha=0 reaches it exactly.
    optimum = learn_attention(
        loss, temperature=1.0, alpha=0.0, normaliser="sparsemax", max_iter=max_iter
    )
    low_loss = loss.value(optimum.weights, optimum.extra)
    losses, previous = [], None
    for temperature in SEARCH_TEMPERATURES:
        previous = learn_attention(
            loss,
            temperature=temperature,
            alpha=alpha,
            normaliser=normaliser,
            max_iter=max_iter,
            tol=tol,
            random_state=seed,
            warm_start=previous,
        )
        losses.append(loss.value(previous.weights, previous.extra))
    rise = losses[-1] - low_loss
    if not rise > 1e-9 * max(1.0, abs(low_loss)):
        return 0.1, 10.0  # every weighting scores alike: any range will do
    # Monotone up to the solver's tolerance; make it so for interpolating.
    covered = np.maximum.accumulate((np.asarray(losses) - low_loss) / rise)
    log_t = np.log10(SEARCH_TEMPERATURES)
    low, high = (
        10.0 ** np.interp(fraction, covered, log_t, left=log_t[0], right=log_t[-1])
        for fraction in PATH_ENDS
    )
    return low, high


class _StoredOutputs(BaseEstimator):
    """The combination's predictions of out-of-fold rows at given weights,
    for a scikit-learn scorer: ``X`` holds row numbers."""

    def __init__(self, combination, loss, weights, extra, classes=None):
        self.combination = combination
        self.loss = loss
        self.weights = weights
        self.extra = extra
        self.classes = classes

    def _rows(self, X):
        return np.asarray(X)[:, 0].astype(np.intp)

    def fit(self, X, y):  # pragma: no cover - never fitted, only scored
        return self

    def predict_proba(self, X):
        return self.combination.predict_rows(
            self.loss, self._rows(X), self.weights, self.extra
        )

    def predict(self, X):
        output = self.combination.predict_rows(
            self.loss, self._rows(X), self.weights, self.extra
        )
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


class _BaseSparseAttentionCV(_BaseSparseAttention):
    """The temperature path and its inner cross-validation. Not public."""

    _parameter_constraints: dict = {
        "estimators": [list, None],
        "temperatures": [Interval(Integral, 2, None, closed="left"), "array-like"],
        "normalisers": [list, tuple],
        "alpha": [Interval(Real, 0, None, closed="neither")],
        "cv": ["cv_object"],
        "inner_cv": [None, "cv_object"],
        "scoring": [None, str, callable],
        "single_modules": ["boolean"],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "memory": [None, str, HasMethods(["cache"])],
        "n_jobs": [None, Integral],
        "verbose": ["verbose"],
        "random_state": ["random_state"],
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
        max_iter=1000,
        tol=1e-6,
        memory=None,
        n_jobs=None,
        verbose=0,
        random_state=None,
    ):
        _BaseHeterogeneousEnsemble.__init__(self, estimators=estimators)
        self.single_modules = single_modules
        self.temperatures = temperatures
        self.normalisers = normalisers
        self.alpha = alpha
        self.cv = cv
        self.inner_cv = inner_cv
        self.scoring = scoring
        self.max_iter = max_iter
        self.tol = tol
        self.memory = memory
        self.n_jobs = n_jobs
        self.verbose = verbose
        self.random_state = random_state

    # Candidates are scored on inner splits of the out-of-fold rows.
    _keeps_rows = True

    def _prune(self, loss, fit, folds):
        # The chosen candidate is kept as scored: pruning it afterwards would
        # give weights that no inner split has scored.
        return fit

    # A candidate can keep a module alone: the refits wait for the weights.
    _refits_before_weights = False

    @property
    def _keeps_outputs(self):
        # A scorer needs the combined predictions, not only the loss.
        return self.scoring is not None

    def _validate_temperature(self):
        unknown = [n for n in self.normalisers if n not in NORMALISERS]
        if not self.normalisers or unknown:
            raise ValueError(
                f"normalisers={self.normalisers!r}: each must be one of "
                f"{sorted(NORMALISERS)}, and at least one is needed."
            )
        if not isinstance(self.temperatures, Integral):
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

    def _inner_splits(self, targets, seed, folds):
        n_samples = targets.shape[0]
        if self.inner_cv is None:
            # The outer folds: the weights are learned on the out-of-fold
            # rows of the other folds and scored on this fold's.
            rows = np.arange(n_samples)
            return [(np.setdiff1d(rows, rows[fold]), rows[fold]) for fold in folds]
        classifier = self._is_classifier_like()
        if isinstance(self.inner_cv, Integral):
            # Shuffled: the out-of-fold rows keep the order of the data,
            # which may be sorted.
            splitter = (StratifiedKFold if classifier else KFold)(
                self.inner_cv, shuffle=True, random_state=seed
            )
        else:
            splitter = check_cv(self.inner_cv, targets, classifier=classifier)
        return list(splitter.split(np.zeros((n_samples, 1)), targets))

    def _temperature_path(self, losses, seed):
        if not isinstance(self.temperatures, Integral):
            return np.sort(np.asarray(self.temperatures, dtype=np.float64))
        n_samples = losses[0].n_samples
        rng = np.random.default_rng(seed)
        rows = (
            np.sort(rng.choice(n_samples, PATH_ROWS, replace=False))
            if n_samples > PATH_ROWS
            else None
        )
        ends = [
            _temperature_range(
                loss if rows is None else loss.take(rows),
                normaliser,
                self.alpha,
                max_iter=self.max_iter,
                tol=self.tol,
                seed=seed,
            )
            for loss in losses
            for normaliser in self.normalisers
        ]
        # One decade below where the penalty starts to cost (measured on
        # the benchmark sets: the path's lowest temperature was chosen in 31
        # of 45 folds), and never above the plain estimators' default of 1.
        low = min(min(end[0] for end in ends) / 10.0, 1.0)
        high = max(end[1] for end in ends)
        return np.geomspace(low, max(high, 1.01 * low), self.temperatures)

    def _path(self, loss, normaliser, temperatures, seed):
        """Fits along the path, each warm-started from the previous one."""
        fits, previous = [], None
        for temperature in temperatures:
            previous = learn_attention(
                loss,
                temperature=temperature,
                alpha=self.alpha,
                normaliser=normaliser,
                max_iter=self.max_iter,
                tol=self.tol,
                random_state=seed,
                warm_start=previous,
            )
            fits.append(previous)
        return fits

    def _score(self, scorer, combination, loss, rows, fit, scoring_targets):
        if scorer is None:
            # The loss the weights minimise: higher scores are better.
            return -loss.take(rows).value(fit.weights, fit.extra)
        predictor = _StoredOutputs(
            combination,
            loss,
            fit.weights,
            fit.extra,
            getattr(self, "classes_", None),
        )
        return scorer(
            predictor,
            rows[:, None].astype(np.float64),
            scoring_targets[rows],
            sample_weight=loss.sample_weight[rows],
        )

    def _single_module_fit(self, losses, combinations, module):
        """Module ``module`` alone: one-hot weights in the linear mixture
        (its own predictions), or in log pooling with a sharpness of one."""
        c = next((i for i, comb in enumerate(combinations) if comb.name == "linear"), 0)
        n_modules = losses[c].n_modules
        weights = np.zeros(n_modules)
        weights[module] = 1.0
        extra = np.zeros(losses[c].n_extra)
        objective = losses[c].value(weights, extra)
        fit = AttentionFit(
            logits=weights - 1.0 / n_modules,  # sparsemax's preimage at T=1
            weights=weights,
            extra=extra,
            objective=objective,
            # One evaluation and nothing to iterate; scikit-learn's
            # convention for n_iter_ is at least one.
            n_iter=1,
            loss_curve=np.array([objective]),
            converged=True,
            theta=None,
        )
        return c, fit

    def _learn(self, losses, combinations, targets, folds):
        seed = check_random_state(self.random_state).randint(MAX_SEED)
        scorer = None if self.scoring is None else check_scoring(self, self.scoring)
        scoring_targets = self._scoring_targets(targets)
        temperatures = self._temperature_path(losses, seed)
        inner = self._inner_splits(targets, seed, folds)
        candidates = [
            (c, normaliser)
            for c in range(len(combinations))
            for normaliser in self.normalisers
        ]
        n_temperatures = len(temperatures)
        n_modules = losses[0].n_modules
        singles = n_modules if self.single_modules and n_modules > 1 else 0
        n_rows = len(candidates) * n_temperatures + singles
        scores = np.empty((n_rows, len(inner)))
        # Per row of cv_results_: the fit on all out-of-fold rows, its
        # parameters, and the index of its combination.
        full_fits, params, row_combination = [], [], []
        for block, (c, normaliser) in enumerate(candidates):
            rows_of_block = slice(block * n_temperatures, (block + 1) * n_temperatures)
            for split, (train, test) in enumerate(inner):
                path = self._path(losses[c].take(train), normaliser, temperatures, seed)
                scores[rows_of_block, split] = [
                    self._score(
                        scorer, combinations[c], losses[c], test, fit, scoring_targets
                    )
                    for fit in path
                ]
            full_fits.extend(self._path(losses[c], normaliser, temperatures, seed))
            params.extend(
                {
                    "combine": combinations[c].name,
                    "normaliser": normaliser,
                    "temperature": float(temperature),
                    "module": None,
                }
                for temperature in temperatures
            )
            row_combination.extend([c] * n_temperatures)
        for module in range(singles):
            c, fit = self._single_module_fit(losses, combinations, module)
            row = len(candidates) * n_temperatures + module
            scores[row] = [
                self._score(
                    scorer, combinations[c], losses[c], test, fit, scoring_targets
                )
                for _, test in inner
            ]
            full_fits.append(fit)
            params.append(
                {
                    "combine": combinations[c].name,
                    "normaliser": None,
                    "temperature": None,
                    "module": self.module_names_[module],
                }
            )
            row_combination.append(c)

        mean, std = scores.mean(axis=1), scores.std(axis=1)
        best = int(np.argmax(mean))
        weights = np.array([fit.weights for fit in full_fits])
        self.cv_results_ = {
            "params": params,
            "param_combine": np.array([p["combine"] for p in params], dtype=object),
            "param_normaliser": np.array(
                [p["normaliser"] for p in params], dtype=object
            ),
            "param_temperature": np.array(
                [
                    np.nan if p["temperature"] is None else p["temperature"]
                    for p in params
                ]
            ),
            "param_module": np.array([p["module"] for p in params], dtype=object),
            **{f"split{k}_test_score": scores[:, k] for k in range(len(inner))},
            "mean_test_score": mean,
            "std_test_score": std,
            "rank_test_score": (
                np.argsort(np.argsort(-mean, kind="stable"), kind="stable") + 1
            ),
            "weights": weights,
            "n_nonzero": np.count_nonzero(weights, axis=1),
        }
        self.best_index_ = best
        self.temperatures_ = temperatures
        # The path shown (weights_path_) is the best combined candidate's,
        # even when one module alone wins.
        n_path_rows = len(candidates) * n_temperatures
        best_path = int(np.argmax(mean[:n_path_rows]))
        block = best_path // n_temperatures
        c, normaliser = candidates[block]
        self.path_combine_ = combinations[c].name
        self.path_normaliser_ = normaliser
        self.weights_path_ = weights[
            block * n_temperatures : (block + 1) * n_temperatures
        ]
        chosen = params[best]
        self.temperature_ = chosen["temperature"]
        self.normaliser_ = chosen["normaliser"]
        self.single_module_ = chosen["module"]
        fit = full_fits[best]
        if chosen["module"] is None:
            # n_iter_: the iterations along the warm-started path up to the
            # chosen temperature (a warm start can converge at once).
            start = best - best % n_temperatures
            n_iter = sum(f.n_iter for f in full_fits[start : best + 1])
            fit = fit._replace(n_iter=max(n_iter, 1))
        return combinations[row_combination[best]], fit


class SparseAttentionClassifierCV(
    ClassifierMixin, _ClassifierHooks, _BaseSparseAttentionCV
):
    """Classifier with attention weights tuned by an inner cross-validation
    of the modules' out-of-fold outputs: no module is refitted per candidate.

    The modules are fitted out-of-fold once (``cv``); every candidate
    temperature (and combination, and normaliser) is scored by an inner
    split (``inner_cv``) of those out-of-fold rows, warm-started along the
    temperature path; the final weights are learned on all out-of-fold rows
    at the chosen candidate, and only the modules with non-zero weight are
    refitted on all the data (only the modules with non-zero weight).
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
        Also score each module alone (its own predictions) as a candidate,
        so that where one module beats every combination on the inner
        split, it is chosen (then only it is refitted; ``single_module_``
        names it). Measured on the benchmark sets, this keeps the estimator
        within 2% of the best single module where a combination cannot
        beat it (breast_cancer, pima).

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
    >>> clf.weights_path_.shape
    (5, 3)
    >>> clf.combine_ in ("log", "linear")
    True
    """

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
        max_iter=1000,
        tol=1e-6,
        memory=None,
        n_jobs=None,
        verbose=0,
        random_state=None,
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
            max_iter=max_iter,
            tol=tol,
            memory=memory,
            n_jobs=n_jobs,
            verbose=verbose,
            random_state=random_state,
        )
        self.combines = combines

    def _default_estimators(self):
        return default_classifiers()

    def _combination_names(self):
        unknown = [c for c in self.combines if c not in ("log", "linear")]
        if not self.combines or unknown:
            raise ValueError(
                f"combines={self.combines!r}: each must be 'log' or 'linear', "
                "and at least one is needed."
            )
        return list(dict.fromkeys(self.combines))

    def _scoring_targets(self, codes):
        return self.classes_[codes]

    def __sklearn_tags__(self):
        return self._classifier_tags(super().__sklearn_tags__())


class SparseAttentionRegressorCV(
    RegressorMixin, _RegressorHooks, _BaseSparseAttentionCV
):
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
        Also score each module alone as a candidate. Off by default for
        regression: measured on the benchmark sets, a single inner split
        won by one module could pick it where the average was better.

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
        max_iter=1000,
        tol=1e-6,
        memory=None,
        n_jobs=None,
        verbose=0,
        random_state=None,
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
            max_iter=max_iter,
            tol=tol,
            memory=memory,
            n_jobs=n_jobs,
            verbose=verbose,
            random_state=random_state,
        )

    def _default_estimators(self):
        return default_regressors()

    def _scoring_targets(self, targets):
        return targets

    def __sklearn_tags__(self):
        return self._regressor_tags(super().__sklearn_tags__())


for _class in (SparseAttentionClassifierCV, SparseAttentionRegressorCV):
    _class.__doc__ = _class.__doc__.format(
        cv_parameters=CV_PARAMETERS, cv_attributes=CV_ATTRIBUTES
    )
