"""SparseAttentionClassifier."""

import numpy as np
from sklearn.base import ClassifierMixin, is_classifier
from sklearn.utils._param_validation import StrOptions
from sklearn.utils._tags import ClassifierTags

from ._base import _BaseSparseAttention
from ._combinations import CLASSIFIER_COMBINATIONS
from ._docstrings import FITTED_ATTRIBUTES, OTHER_PARAMETERS, TEMPERATURE_PARAMETERS
from ._portfolio import default_classifiers
from ._validation import check_classification_y, check_module_kind


class _ClassifierHooks:
    """What a classifier ensemble does differently: its modules must be
    classifiers; y is class labels, encoded for the combination, which
    pools the modules' probabilities."""

    def _check_module(self, name, module):
        check_module_kind(
            name, module, is_classifier, "classifier", type(self).__name__
        )

    def _is_classifier_like(self):
        return True

    def _combination_names(self):
        return [self.combine]

    def _prepare_targets(self, y, modules, sample_weight):
        y, self.classes_, codes = check_classification_y(y)
        if sample_weight is not None:
            weighted = np.unique(codes[sample_weight > 0])
            if len(weighted) < 2:
                raise ValueError(
                    "sample_weight is zero for every sample but those of class "
                    f"{self.classes_[weighted].tolist()[0]!r}; a classifier needs "
                    "positive weight on at least 2 classes."
                )
        combinations = [
            CLASSIFIER_COMBINATIONS[name](self.classes_)
            for name in self._combination_names()
        ]
        return y, codes, combinations

    def _classifier_tags(self, tags):
        tags.estimator_type = "classifier"
        tags.classifier_tags = ClassifierTags()
        module_tags = self._module_tags() or []
        tags.classifier_tags.multi_class = all(
            t.classifier_tags is None or t.classifier_tags.multi_class
            for t in module_tags
        )
        return tags

    def predict_proba(self, X):
        """Combined class probabilities.

        Only the modules with non-zero weight are called.

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
        proba = self._combined(X)
        return self.classes_[np.argmax(proba, axis=1)]


class SparseAttentionClassifier(
    ClassifierMixin, _ClassifierHooks, _BaseSparseAttention
):
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

    def _default_estimators(self):
        return default_classifiers()

    def __sklearn_tags__(self):
        return self._classifier_tags(super().__sklearn_tags__())


SparseAttentionClassifier.__doc__ = SparseAttentionClassifier.__doc__.format(
    temperature=TEMPERATURE_PARAMETERS,
    other=OTHER_PARAMETERS,
    attributes=FITTED_ATTRIBUTES,
)
