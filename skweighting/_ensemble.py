"""SparseAttentionEnsemble: a fixed-temperature ensemble whose task (classifier
or regressor) follows its modules', as a Pipeline takes its kind from its
last step."""

from sklearn.utils.validation import check_is_fitted

from ._fixed import _BaseFixedTemperature, _format_doc
from ._tasks import task_of


@_format_doc
class SparseAttentionEnsemble(_BaseFixedTemperature):
    """Learned attention weights over modules; its kind follows theirs.

    Like a :class:`~sklearn.pipeline.Pipeline` takes its kind from its last
    step, this ensemble is a classifier when all its modules are classifiers
    (``is_classifier`` is True; it has ``predict_proba``, ``classes_`` and an
    accuracy ``score``) and a regressor when all are regressors (R^2
    ``score``). A mix is an error at fit.

    Read more in the :ref:`User Guide <user_guide>`.

    Parameters
    ----------
    estimators : list of (str, estimator) tuples
        The modules. A module can be set to ``'drop'``; nested parameters are
        reached as ``name__param``.

    {temperature}

    combine : {{'auto', 'log', 'linear'}}, default='auto'
        Classifiers: ``'log'`` (log-linear pooling with a learned sharpness,
        what ``'auto'`` means) or ``'linear'`` (the probability mixture).
        Regressors are always averaged linearly (``'auto'`` or
        ``'linear'``); ``'log'`` with regressors is an error.

    {other}

    Attributes
    ----------
    {attributes}

    classes_ : ndarray of shape (n_classes,)
        The class labels (classifiers only).

    sharpness_ : float
        The learned sharpness (log pooling only).

    combine_ : str
        The combination used: ``'log'`` or ``'linear'``.

    See Also
    --------
    SparseAttentionClassifier : Always a classifier, with a default portfolio.
    SparseAttentionRegressor : Always a regressor, with a default portfolio.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.base import is_classifier
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.naive_bayes import GaussianNB
    >>> from skweighting import SparseAttentionEnsemble
    >>> X, y = load_iris(return_X_y=True)
    >>> ens = SparseAttentionEnsemble(
    ...     [("lr", LogisticRegression(max_iter=1000)), ("nb", GaussianNB())]
    ... ).fit(X, y)
    >>> is_classifier(ens), ens.predict_proba(X[:2]).shape
    (True, (2, 3))
    """

    _parameter_constraints: dict = {
        **_BaseFixedTemperature._parameter_constraints,
        "estimators": [list],
        # 'auto' or a combination of the modules' task (checked at fit).
        "combine": [str],
    }

    def __init__(
        self,
        estimators,
        *,
        temperature=1.0,
        combine="auto",
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

    def _task(self):
        return task_of(self.estimators)

    def _combination_names(self, task):
        if self.combine == "auto":  # the task's default: its first
            return [next(iter(task.combinations))]
        return super()._combination_names(task)

    def score(self, X, y, sample_weight=None):
        """Accuracy (classifier modules) or R^2 (regressor modules).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Test samples.

        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            True labels or values.

        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights.

        Returns
        -------
        score : float
            Mean accuracy or R^2 of ``self.predict(X)``.
        """
        check_is_fitted(self)
        return self._fitted_task.score(y, self.predict(X), sample_weight)
