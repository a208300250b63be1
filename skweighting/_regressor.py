"""SparseAttentionRegressor."""

from sklearn.base import RegressorMixin, is_regressor
from sklearn.utils._tags import RegressorTags

from ._base import _BaseSparseAttention
from ._combinations import Average
from ._docstrings import FITTED_ATTRIBUTES, OTHER_PARAMETERS, TEMPERATURE_PARAMETERS
from ._portfolio import default_regressors
from ._validation import check_module_kind, check_regression_y


class _RegressorHooks:
    """What a regressor ensemble does differently: its modules must be
    regressors; y is numeric (multi-output when every module can), and the
    combination averages the predictions."""

    def _check_module(self, name, module):
        check_module_kind(name, module, is_regressor, "regressor", type(self).__name__)

    def _is_classifier_like(self):
        return False

    def _prepare_targets(self, y, modules, sample_weight):
        y = check_regression_y(y, modules, type(self).__name__)
        n_outputs = 1 if y.ndim == 1 else y.shape[1]
        return y, y, [Average(n_outputs, y.ndim)]

    def predict(self, X):
        """Weighted average of the predictions of the modules with
        non-zero weight (the only ones called).

        Parameters
        ----------
        X : {array-like, sparse matrix, DataFrame} of shape (n_samples, n_features)
            Input samples.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,) or (n_samples, n_outputs)
            Predicted values.
        """
        return self._combined(X)

    def _regressor_tags(self, tags):
        tags.estimator_type = "regressor"
        tags.regressor_tags = RegressorTags()
        module_tags = self._module_tags()
        tags.target_tags.multi_output = bool(module_tags) and all(
            t.target_tags.multi_output for t in module_tags
        )
        return tags


class SparseAttentionRegressor(RegressorMixin, _RegressorHooks, _BaseSparseAttention):
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

    def __init__(
        self,
        estimators=None,
        *,
        temperature=1.0,
        normaliser="softmax",
        alpha=1e-4,
        prune_tol=1.0,
        cv=5,
        solver="lbfgs",
        max_iter=1000,
        tol=1e-6,
        learning_rate=0.05,
        batch_size=None,
        memory=None,
        n_jobs=None,
        verbose=0,
        random_state=None,
    ):
        super().__init__(
            estimators,
            temperature=temperature,
            normaliser=normaliser,
            alpha=alpha,
            prune_tol=prune_tol,
            cv=cv,
            solver=solver,
            max_iter=max_iter,
            tol=tol,
            learning_rate=learning_rate,
            batch_size=batch_size,
            memory=memory,
            n_jobs=n_jobs,
            verbose=verbose,
            random_state=random_state,
        )

    def _default_estimators(self):
        return default_regressors()

    def __sklearn_tags__(self):
        return self._regressor_tags(super().__sklearn_tags__())


SparseAttentionRegressor.__doc__ = SparseAttentionRegressor.__doc__.format(
    temperature=TEMPERATURE_PARAMETERS,
    other=OTHER_PARAMETERS,
    attributes=FITTED_ATTRIBUTES,
)
