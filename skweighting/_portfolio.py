"""Default, diverse module portfolios for ``estimators=None``.

Every member accepts ``sample_weight`` (directly, or in every step of its
pipeline, the scaler included), so integer weights mean repeated rows for
every member but the random forest, whose bootstrap draws rows at random.

Every member runs on one BLAS and one OpenMP thread (`_PortfolioPipeline`);
the ensemble's ``n_jobs`` uses more cores.

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
from sklearn.pipeline import Pipeline, _final_estimator_has
from sklearn.preprocessing import StandardScaler
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted

from ._kernels import one_thread


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


class _PortfolioPipeline(Pipeline):
    """A `Pipeline` of the default portfolio: its steps run on one BLAS and
    one OpenMP thread, and it accepts sparse X (its first step, `_Standardize`
    or `_ToDense`, takes it).

    One thread: on a machine whose cores are busy with other work (another
    process, or the ensemble's own ``n_jobs`` workers), a multi-threaded BLAS
    or OpenMP pool spins while its threads wait for each other, and a small
    fit (a logistic regression's solver steps, a boosting round) can take
    many times longer than on one thread. The ensemble uses more cores
    through ``n_jobs``, which runs folds and modules side by side.
    """

    def fit(self, X, y=None, **params):
        with one_thread():
            return super().fit(X, y, **params)

    def predict(self, X, **params):
        with one_thread():
            return super().predict(X, **params)

    @available_if(_final_estimator_has("predict_proba"))
    def predict_proba(self, X, **params):
        with one_thread():
            return super().predict_proba(X, **params)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags


def _standardized(estimator):
    return _PortfolioPipeline(
        [
            ("_standardize", _Standardize()),
            (type(estimator).__name__.lower(), estimator),
        ]
    )


def _dense_input(estimator):
    return _PortfolioPipeline(
        [("todense", _ToDense()), (type(estimator).__name__.lower(), estimator)]
    )


def default_classifiers():
    """A scaled linear model, bagged trees, boosted trees and naive Bayes."""
    return [
        (
            "logistic",
            _standardized(LogisticRegression(max_iter=1000)),
        ),
        ("random_forest", RandomForestClassifier(n_estimators=100)),
        ("gradient_boosting", _dense_input(HistGradientBoostingClassifier())),
        ("naive_bayes", _dense_input(GaussianNB())),
    ]


def default_regressors():
    """A scaled ridge, bagged trees and boosted trees."""
    return [
        ("ridge", _standardized(RidgeCV())),
        ("random_forest", RandomForestRegressor(n_estimators=100)),
        ("gradient_boosting", _dense_input(HistGradientBoostingRegressor())),
    ]
