"""scikit-learn conformance: check_estimator on every public estimator."""

import pytest
from sklearn.linear_model import Lasso, LogisticRegression, Ridge
from sklearn.naive_bayes import GaussianNB
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor
from sklearn.utils.estimator_checks import (
    check_sample_weight_equivalence_on_dense_data,
    parametrize_with_checks,
)

from skweighting import (
    SparseAttentionClassifier,
    SparseAttentionClassifierCV,
    SparseAttentionEnsemble,
    SparseAttentionRegressor,
    SparseAttentionRegressorCV,
)
from skweighting._portfolio import default_classifiers, default_regressors

# The modules of the default portfolios whose sample weights are not
# repeated rows.
NOT_EQUIVALENT = ("random_forest", "gradient_boosting")

# The default portfolios contain a random forest (its bootstrap draws rows at
# random) and histogram gradient boosting (its leaves and bins count rows,
# not weights): for neither do integer sample weights equal repeated rows,
# and scikit-learn marks both as expected failures of this very check.
# `test_the_default_portfolios_fail_the_weight_check_only_through_...` below
# shows that these two are the cause: without them the check passes.
NOT_WEIGHT_EQUIVALENT = (
    "the default portfolio's random forest and histogram gradient boosting "
    "are not weight-equivalent (bootstrap; leaves and bins count rows)"
)
PORTFOLIO_SAMPLE_WEIGHT = {
    "check_sample_weight_equivalence_on_dense_data": NOT_WEIGHT_EQUIVALENT,
    # The default portfolios accept sparse X, so the sparse variant runs too.
    "check_sample_weight_equivalence_on_sparse_data": NOT_WEIGHT_EQUIVALENT,
}

ESTIMATORS = [
    SparseAttentionClassifier(random_state=0),
    SparseAttentionRegressor(random_state=0),
    SparseAttentionEnsemble(
        [
            ("lr", LogisticRegression()),
            ("tree", DecisionTreeClassifier(max_depth=3)),
            ("nb", GaussianNB()),
        ],
        random_state=0,
    ),
    SparseAttentionEnsemble(
        [
            ("ridge", Ridge()),
            ("tree", DecisionTreeRegressor(max_depth=3)),
            ("lasso", Lasso(alpha=0.01)),
        ],
        random_state=0,
    ),
    # A sparse normaliser: modules with zero weight are pruned (neither
    # refitted nor called), which every check must survive.
    SparseAttentionClassifier(
        [
            ("lr", LogisticRegression()),
            ("tree", DecisionTreeClassifier(max_depth=3)),
            ("nb", GaussianNB()),
        ],
        normaliser="sparsemax",
        random_state=0,
    ),
    # The CV estimators, with small deterministic portfolios and a short
    # path so the checks stay fast.
    SparseAttentionClassifierCV(
        [("lr", LogisticRegression()), ("nb", GaussianNB())],
        temperatures=3,
        normalisers=("softmax", "sparsemax"),
        random_state=0,
    ),
    SparseAttentionRegressorCV(
        [("ridge", Ridge()), ("tree", DecisionTreeRegressor(max_depth=3))],
        temperatures=3,
        random_state=0,
    ),
]


def _expected_failed_checks(estimator):
    if getattr(estimator, "estimators", None) is None:
        return PORTFOLIO_SAMPLE_WEIGHT
    return {}


@parametrize_with_checks(ESTIMATORS, expected_failed_checks=_expected_failed_checks)
def test_sklearn_compatible(estimator, check):
    check(estimator)


@pytest.mark.parametrize(
    "estimator, default",
    [
        (SparseAttentionClassifier, default_classifiers),
        (SparseAttentionRegressor, default_regressors),
    ],
)
def test_the_default_portfolios_fail_the_weight_check_only_through_two_modules(
    estimator, default
):
    # The expected failure's reason, shown: with the random forest and the
    # histogram gradient boosting left out, the same check passes (weights
    # reach every step of the scaled linear model's pipeline); with either
    # of them alone, it fails.
    modules = default()
    others = [(n, m) for n, m in modules if n not in NOT_EQUIVALENT]
    check_sample_weight_equivalence_on_dense_data(
        estimator.__name__, estimator(others, random_state=0)
    )
    for name in NOT_EQUIVALENT:
        alone = estimator([(name, dict(modules)[name])], random_state=0)
        with pytest.raises(AssertionError, match="not equivalent"):
            check_sample_weight_equivalence_on_dense_data(estimator.__name__, alone)
