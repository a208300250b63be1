"""SparseAttentionEnsemble: a classifier or a regressor, as its modules are."""

from sklearn.base import is_classifier, is_regressor
from sklearn.metrics import accuracy_score, r2_score
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.metaestimators import available_if

from ._base import _BaseSparseAttention
from ._classifier import _ClassifierHooks
from ._docstrings import FITTED_ATTRIBUTES, OTHER_PARAMETERS, TEMPERATURE_PARAMETERS
from ._regressor import _RegressorHooks
from ._validation import is_drop


def _is_classifier_ensemble(self):
    return self._kind() == "classifier"


class SparseAttentionEnsemble(_BaseSparseAttention):
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
        **_BaseSparseAttention._parameter_constraints,
        "estimators": [list],
        "combine": [StrOptions({"auto", "log", "linear"})],
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
        self.combine = combine

    def _kind(self):
        """'classifier', 'regressor', or None when it cannot be told."""
        try:
            modules = [m for _, m in self.estimators if not is_drop(m)]
            if modules and all(is_classifier(m) for m in modules):
                return "classifier"
            if modules and all(is_regressor(m) for m in modules):
                return "regressor"
        except Exception:  # not estimators: fit says what is wrong
            return None
        return None

    def _hooks(self):
        """The hooks of the kind the modules have: as a Pipeline takes its
        kind from its last step, this is the one place the kind is asked."""
        kind = self._kind()
        if kind is None:
            active = [(n, m) for n, m in self.estimators if not is_drop(m)]
            classifiers = [n for n, m in active if is_classifier(m)]
            others = [n for n, m in active if not is_classifier(m)]
            raise ValueError(
                "SparseAttentionEnsemble takes its kind from its modules, which "
                "must be all classifiers or all regressors; got classifiers "
                f"{classifiers} and non-classifiers {others}. Split them into two "
                "ensembles or use SparseAttentionClassifier/Regressor."
            )
        return _ClassifierHooks if kind == "classifier" else _RegressorHooks

    def _check_module(self, name, module):
        self._hooks()._check_module(self, name, module)

    def _is_classifier_like(self):
        return self._hooks()._is_classifier_like(self)

    def _combination_names(self):
        return ["log" if self.combine == "auto" else self.combine]

    def _prepare_targets(self, y, modules, sample_weight):
        hooks = self._hooks()
        if hooks is _RegressorHooks and self.combine == "log":
            raise ValueError(
                "combine='log' pools class probabilities, but the modules are "
                "regressors, whose predictions are averaged linearly. Use "
                "combine='auto' or 'linear'."
            )
        return hooks._prepare_targets(self, y, modules, sample_weight)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        kind = self._kind()
        if kind == "classifier":
            return _ClassifierHooks._classifier_tags(self, tags)
        if kind == "regressor":
            return _RegressorHooks._regressor_tags(self, tags)
        return tags

    def predict(self, X):
        """Predicted class labels or values of the combination.

        Parameters
        ----------
        X : {array-like, sparse matrix, DataFrame} of shape (n_samples, n_features)
            Input samples.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,) or (n_samples, n_outputs)
            Class labels (classifier) or values (regressor).
        """
        if self._kind() == "classifier":
            return _ClassifierHooks.predict(self, X)
        return self._combined(X)

    @available_if(_is_classifier_ensemble)
    def predict_proba(self, X):
        """Combined class probabilities (classifier modules only).

        Parameters
        ----------
        X : {array-like, sparse matrix, DataFrame} of shape (n_samples, n_features)
            Input samples.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Columns in the order of ``classes_``; rows sum to one.
        """
        return self._combined(X)

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
        metric = accuracy_score if self._kind() == "classifier" else r2_score
        return metric(y, self.predict(X), sample_weight=sample_weight)


SparseAttentionEnsemble.__doc__ = SparseAttentionEnsemble.__doc__.format(
    temperature=TEMPERATURE_PARAMETERS,
    other=OTHER_PARAMETERS,
    attributes=FITTED_ATTRIBUTES,
)
