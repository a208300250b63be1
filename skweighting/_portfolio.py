"""Default, diverse module portfolios for ``estimators=None``.

Every member accepts ``sample_weight`` (directly, or in the last step of its
pipeline), so the defaults honour sample weights end to end.
"""

from sklearn.ensemble import (
    HistGradientBoostingClassifier,
    HistGradientBoostingRegressor,
    RandomForestClassifier,
    RandomForestRegressor,
)
from sklearn.linear_model import LogisticRegression, RidgeCV
from sklearn.naive_bayes import GaussianNB
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler


def default_classifiers():
    """A scaled linear model, bagged trees, boosted trees and naive Bayes."""
    return [
        (
            "logistic",
            make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)),
        ),
        ("random_forest", RandomForestClassifier(n_estimators=100)),
        ("gradient_boosting", HistGradientBoostingClassifier()),
        ("naive_bayes", GaussianNB()),
    ]


def default_regressors():
    """A scaled ridge, bagged trees and boosted trees."""
    return [
        ("ridge", make_pipeline(StandardScaler(), RidgeCV())),
        ("random_forest", RandomForestRegressor(n_estimators=100)),
        ("gradient_boosting", HistGradientBoostingRegressor()),
    ]
