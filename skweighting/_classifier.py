"""SparseAttentionClassifier."""

from sklearn.base import ClassifierMixin, _fit_context
from sklearn.utils._param_validation import StrOptions

from ._base import _BaseSparseAttention
from ._docstrings import FITTED_ATTRIBUTES, OTHER_PARAMETERS, TEMPERATURE_PARAMETERS
from ._portfolio import default_classifiers


class SparseAttentionClassifier(ClassifierMixin, _BaseSparseAttention):
    """Classifier combining modules with learned attention weights.

    Fits each module out-of-fold, learns one attention logit per module by
    minimising the out-of-fold log-loss of the combined probabilities plus an
    L2 penalty on the logits, then refits the modules on all the data.

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
        with a learned sharpness ``beta`` (``output_scale_``, with a small
        fixed L2 penalty on ``log(beta)`` so it stays finite).
        ``'linear'``: the mixture ``P(k|x) = sum_m w[m] p_m(k|x)``.

    {other}

    Attributes
    ----------
    {attributes}

    classes_ : ndarray of shape (n_classes,)
        The class labels.

    output_scale_ : float
        The learned sharpness ``beta`` (``combine='log'`` only).

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

    _parameter_constraints: dict = {
        **_BaseSparseAttention._parameter_constraints,
        "combine": [StrOptions({"log", "linear"})],
    }

    def __init__(
        self,
        estimators=None,
        *,
        temperature=1.0,
        combine="log",
        alpha=1e-4,
        cv=5,
        solver="lbfgs",
        max_iter=1000,
        tol=1e-6,
        learning_rate=0.05,
        batch_size=None,
        n_jobs=None,
        verbose=0,
        random_state=None,
    ):
        super().__init__(
            estimators,
            temperature=temperature,
            alpha=alpha,
            cv=cv,
            solver=solver,
            max_iter=max_iter,
            tol=tol,
            learning_rate=learning_rate,
            batch_size=batch_size,
            n_jobs=n_jobs,
            verbose=verbose,
            random_state=random_state,
        )
        self.combine = combine

    def _kind(self):
        return "classifier"

    def _combination_name(self):
        return self.combine

    def _default_estimators(self):
        return default_classifiers()

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y, sample_weight=None):
        """Fit the modules out-of-fold, learn the weights, refit the modules.

        Parameters
        ----------
        X : {array-like, sparse matrix, DataFrame} of shape (n_samples, n_features)
            Training data, passed to the modules as is.

        y : array-like of shape (n_samples,)
            Class labels.

        sample_weight : array-like of shape (n_samples,), default=None
            Passed to every module's fit (to the last step of a Pipeline) and
            used in the weights' objective. A module that cannot take it
            raises an error naming it.

        Returns
        -------
        self : object
            The fitted ensemble.
        """
        return self._fit(X, y, sample_weight)

    def predict_proba(self, X):
        """Combined class probabilities.

        Parameters
        ----------
        X : {array-like, sparse matrix, DataFrame} of shape (n_samples, n_features)
            Input samples.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Columns in the order of ``classes_``; rows sum to one.
        """
        return self._predict_proba(X)

    def predict(self, X):
        """Class with the highest combined probability.

        Parameters
        ----------
        X : {array-like, sparse matrix, DataFrame} of shape (n_samples, n_features)
            Input samples.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
            Predicted class labels.
        """
        return self._predict_classes(X)


SparseAttentionClassifier.__doc__ = SparseAttentionClassifier.__doc__.format(
    temperature=TEMPERATURE_PARAMETERS,
    other=OTHER_PARAMETERS,
    attributes=FITTED_ATTRIBUTES,
)
