"""Default, diverse module portfolios for ``estimators=None``.

Every member accepts ``sample_weight`` (directly, or in the last step of its
pipeline), so the defaults honour sample weights end to end.

Every member also accepts sparse X. The linear models are standardised:
centred and scaled for dense X, only scaled for sparse X (centring would make
it dense; their intercept absorbs the missing shift). The models that need
dense input (histogram gradient boosting, Gaussian naive Bayes) get a dense
copy of sparse X. For very wide sparse data (text, for example) that copy is
large: pass your own ``estimators`` instead.
"""

from scipy import sparse
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.ensemble import (
    HistGradientBoostingClassifier,
    HistGradientBoostingRegressor,
    RandomForestClassifier,
    RandomForestRegressor,
)
from sklearn.linear_model import LogisticRegression, RidgeCV
from sklearn.naive_bayes import GaussianNB
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.validation import check_is_fitted


class _Standardize(TransformerMixin, BaseEstimator):
    """`StandardScaler` that centres dense X and only scales sparse X.

    ``StandardScaler()`` refuses sparse X (it cannot centre it without making
    it dense) and ``StandardScaler(with_mean=False)`` does not centre dense X.
    This picks per fit; the fitted scaler is ``scaler_``.
    """

    def fit(self, X, y=None, sample_weight=None):
        self.scaler_ = StandardScaler(with_mean=not sparse.issparse(X))
        self.scaler_.fit(X, sample_weight=sample_weight)
        self.n_features_in_ = self.scaler_.n_features_in_
        if hasattr(self.scaler_, "feature_names_in_"):
            self.feature_names_in_ = self.scaler_.feature_names_in_
        return self

    def transform(self, X):
        check_is_fitted(self)
        return self.scaler_.transform(X)

    def get_feature_names_out(self, input_features=None):
        check_is_fitted(self)
        return self.scaler_.get_feature_names_out(input_features)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.input_tags.allow_nan = True
        return tags


class _ToDense(TransformerMixin, BaseEstimator):
    """Turn sparse X into a dense array; pass anything else through as is."""

    def fit(self, X, y=None):
        return self

    def transform(self, X):
        return X.toarray() if sparse.issparse(X) else X

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.requires_fit = False
        tags.input_tags.sparse = True
        tags.input_tags.allow_nan = True
        return tags


class _DenseInputPipeline(Pipeline):
    """A `Pipeline` whose first step, `_ToDense`, densifies sparse X.

    It accepts sparse X although its estimator does not; a plain Pipeline's
    tags would say it cannot, from its last step's.
    """

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags


def _dense_input(estimator):
    return _DenseInputPipeline(
        [("todense", _ToDense()), (type(estimator).__name__.lower(), estimator)]
    )


def default_classifiers():
    """A scaled linear model, bagged trees, boosted trees and naive Bayes."""
    return [
        (
            "logistic",
            make_pipeline(_Standardize(), LogisticRegression(max_iter=1000)),
        ),
        ("random_forest", RandomForestClassifier(n_estimators=100)),
        ("gradient_boosting", _dense_input(HistGradientBoostingClassifier())),
        ("naive_bayes", _dense_input(GaussianNB())),
    ]


def default_regressors():
    """A scaled ridge, bagged trees and boosted trees."""
    return [
        ("ridge", make_pipeline(_Standardize(), RidgeCV())),
        ("random_forest", RandomForestRegressor(n_estimators=100)),
        ("gradient_boosting", _dense_input(HistGradientBoostingRegressor())),
    ]
