"""The fixed-temperature estimators: SparseAttentionClassifier and
SparseAttentionRegressor (and the base of SparseAttentionEnsemble).

Their weight step learns the weights of one combination at the set
temperature, then (with a sparse normaliser) prunes the modules whose gain
in out-of-fold loss is within its noise and learns the others again.
"""

from numbers import Real

import numpy as np
from sklearn.base import ClassifierMixin, RegressorMixin
from sklearn.utils._param_validation import Interval, StrOptions

from ._base import _BaseSparseAttention
from ._budget import path_within_budget
from ._docstrings import FITTED_ATTRIBUTES, OTHER_PARAMETERS, TEMPERATURE_PARAMETERS
from ._normalisers import NORMALISERS, resolve_normaliser
from ._objective import Objective
from ._pruning import prune
from ._solvers import learn_attention
from ._tasks import CLASSIFICATION, REGRESSION
from ._validation import check_temperature


class _BaseFixedTemperature(_BaseSparseAttention):
    """The weight step at one temperature, with pruning. Not public."""

    _parameter_constraints: dict = {
        **_BaseSparseAttention._parameter_constraints,
        "temperature": [Interval(Real, 0, None, closed="neither")],
        # The live registry: a normaliser registered later is accepted.
        "normaliser": [StrOptions(NORMALISERS.keys())],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "prune_tol": [Interval(Real, 0, None, closed="left")],
    }

    def __init__(
        self,
        estimators,
        *,
        temperature=1.0,
        normaliser="softmax",
        alpha=1e-4,
        prune_tol=1.0,
        cv=5,
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
        self.temperature = temperature
        self.normaliser = normaliser
        self.prune_tol = prune_tol

    def _validate_weight_params(self, task):
        check_temperature(self.temperature)
        self._combination_names(task)  # raises for a combination not offered

    def _combination_names(self, task):
        name = self.combine
        if name not in task.combinations:
            raise ValueError(
                f"combine={name!r} is not a combination of {task.kind}s, which "
                f"offer {sorted(task.combinations)}."
            )
        return [name]

    def _store_needs(self):
        return {}

    def _refits_every_module(self):
        # A smooth normaliser's weights are never exactly zero (short of
        # underflow): without a budget every module is refitted, so the
        # refits need not wait for the weights.
        budget = self.max_modules is not None or self.max_predict_cost is not None
        return not budget and not resolve_normaliser(self.normaliser).sparse

    def _learn_weights(self, problem):
        objective = Objective(
            problem.losses[0],
            resolve_normaliser(self.normaliser),
            alpha=self.alpha,
            temperature=self.temperature,
        )
        fit = self._prune(objective, self._solve(objective), problem)
        return problem.combinations[0], self._within_budget(objective, fit, problem)

    def _within_budget(self, objective, fit, problem):
        """With a budget (``max_modules``, ``max_predict_cost``), the point
        of lowest out-of-fold loss within it on the path of supports
        (`support_path_`) from ``fit`` (from the modules that alone fit the
        cost budget, if ``fit`` keeps one that does not); ``fit`` without a
        budget."""
        if self.max_modules is None and self.max_predict_cost is None:
            return fit
        self.support_path_, point = path_within_budget(
            objective,
            fit,
            problem.costs,
            problem.layout.folds,
            self._solve_from,
            max_modules=self.max_modules,
            max_cost=self.max_predict_cost,
            fixed=problem.fixed_cost,
        )
        if self.verbose:
            names = [problem.module_names[m] for m in point.modules]
            self._log(
                f"within the budget: {names}, predict cost {point.cost:.3g} s "
                "per 1,000 rows",
                0.0,
            )
        return point.fit

    def _solve_from(self, objective, warm_start):
        return self._solve(objective, warm_start=warm_start)

    def _solve(self, objective, **options):
        """`learn_attention` with the estimator's own solver settings."""
        return learn_attention(
            objective,
            max_iter=self.max_iter,
            tol=self.tol,
            random_state=self._seed(),
            **options,
        )

    def _prune(self, objective, fit, problem):
        """Drop the modules whose gain in out-of-fold loss is within its
        noise (`skweighting._pruning.prune`), then learn the other weights
        again with those held at zero. Only sparse normalisers prune: a
        smooth normaliser's weight is never exactly zero."""
        if not objective.normaliser.sparse or self.prune_tol == 0:
            return fit
        folds = problem.layout.folds
        weights, extra = prune(objective, fit.weights, fit.extra, folds, self.prune_tol)
        dropped = (fit.weights > 0) & (weights == 0)
        if not dropped.any():
            return fit
        if self.verbose:
            names = [n for n, d in zip(self.module_names_, dropped) if d]
            self._log(f"pruned {names} (prune_tol={self.prune_tol:g})", 0.0)
        refit = self._solve(
            objective,
            warm_start=fit._replace(weights=weights, extra=extra),
            fixed_zero=weights == 0,
            close_start=True,
        )
        return refit._replace(
            n_iter=fit.n_iter + refit.n_iter,
            loss_curve=np.concatenate([fit.loss_curve, refit.loss_curve]),
        )


def _format_doc(cls):
    cls.__doc__ = cls.__doc__.format(
        temperature=TEMPERATURE_PARAMETERS,
        other=OTHER_PARAMETERS,
        attributes=FITTED_ATTRIBUTES,
    )
    return cls


@_format_doc
class SparseAttentionClassifier(ClassifierMixin, _BaseFixedTemperature):
    """Classifier combining modules with learned attention weights.

    Fits each module out-of-fold, learns one attention logit per module by
    minimising the out-of-fold log-loss of the combined probabilities plus an
    L2 penalty on the logits, then refits the modules with non-zero weight
    on all the data (modules with zero weight are neither refitted nor
    called).

    Read more in the :ref:`User Guide <user_guide>`.

    Parameters
    ----------
    estimators : list of (str, estimator) tuples, default=None
        The modules: classifiers with ``predict_proba``. A module can be set
        to ``'drop'``; nested parameters are reached as ``name__param``.
        None means a diverse default portfolio: a scaled logistic
        regression, a random forest, histogram gradient boosting and
        Gaussian naive Bayes.

    {temperature}

    combine : {{'log', 'linear'}}, default='log'
        ``'log'``: log-linear pooling,
        ``log P(k|x) = beta * sum_m w[m] log p_m(k|x) - logsumexp_k(...)``
        with a learned sharpness ``beta`` (``sharpness_``, with a small
        fixed L2 penalty on ``log(beta)`` so it stays finite).
        ``'linear'``: the mixture ``P(k|x) = sum_m w[m] p_m(k|x)``.

    {other}

    Attributes
    ----------
    {attributes}

    classes_ : ndarray of shape (n_classes,)
        The class labels.

    sharpness_ : float
        The learned sharpness ``beta`` (``combine='log'`` only).

    support_path_ : list of SupportPoint
        With a budget (``max_modules``, ``max_predict_cost``): the path of
        supports from the learned weights' down to one module, each point
        with its ``modules`` (indices into ``module_names_``), ``fit``,
        out-of-fold ``loss``, its ``standard_error`` across the folds and
        its predict ``cost``.

    combine_ : str
        The combination used.

    See Also
    --------
    SparseAttentionRegressor : The same for regression.
    SparseAttentionEnsemble : Takes its kind from its modules.
    sklearn.ensemble.VotingClassifier : Fixed, user-given weights.
    sklearn.ensemble.StackingClassifier : A learned meta-model.

    Examples
    --------
    >>> from sklearn.datasets import load_breast_cancer
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.tree import DecisionTreeClassifier
    >>> from skweighting import SparseAttentionClassifier
    >>> X, y = load_breast_cancer(return_X_y=True)
    >>> clf = SparseAttentionClassifier(
    ...     [("lr", LogisticRegression(max_iter=5000)),
    ...      ("tree", DecisionTreeClassifier(max_depth=3, random_state=0))],
    ... ).fit(X, y)
    >>> clf.attention_weights_.shape
    (2,)
    >>> bool(abs(clf.attention_weights_.sum() - 1) < 1e-12)
    True
    """

    _fixed_task = CLASSIFICATION
    _parameter_constraints: dict = {
        **_BaseFixedTemperature._parameter_constraints,
        # The live registry: a combination registered later is accepted.
        "combine": [StrOptions(CLASSIFICATION.combinations.keys())],
    }

    def __init__(
        self,
        estimators=None,
        *,
        temperature=1.0,
        combine="log",
        normaliser="softmax",
        alpha=1e-4,
        prune_tol=1.0,
        cv=5,
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
            temperature=temperature,
            normaliser=normaliser,
            alpha=alpha,
            prune_tol=prune_tol,
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
        self.combine = combine


@_format_doc
class SparseAttentionRegressor(RegressorMixin, _BaseFixedTemperature):
    """Regressor averaging modules with learned attention weights.

    Fits each module out-of-fold, learns one attention logit per module by
    minimising the out-of-fold squared error of the weighted average of the
    modules' predictions, divided by the variance of y (so neither ``alpha``
    nor ``temperature`` depends on the units of y), plus an L2 penalty on the
    logits; then refits the modules with non-zero weight on all the data
    (modules with zero weight are neither refitted nor called).

    Read more in the :ref:`User Guide <user_guide>`.

    Parameters
    ----------
    estimators : list of (str, estimator) tuples, default=None
        The modules: regressors. A module can be set to ``'drop'``; nested
        parameters are reached as ``name__param``. None means a diverse
        default portfolio: a scaled ridge regression, a random forest and
        histogram gradient boosting. Multi-output y works when every module
        supports it.

    {temperature}

    {other}

    Attributes
    ----------
    {attributes}

    combine_ : str
        Always ``'linear'``: the weighted average of the predictions.

    support_path_ : list of SupportPoint
        With a budget: the path of supports (see
        :class:`SparseAttentionClassifier`).

    See Also
    --------
    SparseAttentionClassifier : The same for classification.
    SparseAttentionEnsemble : Takes its kind from its modules.
    sklearn.ensemble.VotingRegressor : Fixed, user-given weights.
    sklearn.ensemble.StackingRegressor : A learned meta-model.

    Examples
    --------
    >>> from sklearn.datasets import load_diabetes
    >>> from sklearn.linear_model import Ridge
    >>> from sklearn.tree import DecisionTreeRegressor
    >>> from skweighting import SparseAttentionRegressor
    >>> X, y = load_diabetes(return_X_y=True)
    >>> reg = SparseAttentionRegressor(
    ...     [("ridge", Ridge()),
    ...      ("tree", DecisionTreeRegressor(max_depth=3, random_state=0))],
    ... ).fit(X, y)
    >>> reg.predict(X[:3]).shape
    (3,)
    """

    _fixed_task = REGRESSION
    # The one combination of regressors, not a parameter.
    combine = "linear"

    def __init__(
        self,
        estimators=None,
        *,
        temperature=1.0,
        normaliser="softmax",
        alpha=1e-4,
        prune_tol=1.0,
        cv=5,
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
            temperature=temperature,
            normaliser=normaliser,
            alpha=alpha,
            prune_tol=prune_tol,
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
