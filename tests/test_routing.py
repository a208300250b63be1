"""Metadata and sample weights (skweighting._routing): with metadata routing
on, what each module and the splitter request; with it off, sample weights
to every module that accepts them (and to the weights' objective), groups
to the splitter, clear errors for what cannot be passed. VotingClassifier
and StackingClassifier are the reference behaviour."""

import numpy as np
import pytest
import sklearn
from _helpers import three_classifiers
from sklearn.compose import TransformedTargetRegressor
from sklearn.datasets import make_classification, make_regression
from sklearn.ensemble import StackingClassifier, VotingClassifier
from sklearn.exceptions import UnsetMetadataPassedError
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.model_selection import (
    GridSearchCV,
    GroupKFold,
    cross_validate,
)
from sklearn.naive_bayes import GaussianNB
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

from skweighting import SparseAttentionClassifier, SparseAttentionRegressor

X, Y = make_classification(n_samples=120, n_features=5, random_state=0)
WEIGHTS = np.random.default_rng(0).uniform(0.2, 3.0, len(Y))
GROUPS = np.arange(len(Y)) % 12


def _modules():
    return three_classifiers(tree_depth=3)


@pytest.fixture
def routing():
    with sklearn.config_context(enable_metadata_routing=True):
        yield


class RecordingClassifier(LogisticRegression):
    """Records the metadata its fit receives."""

    received = []

    def fit(self, X, y, sample_weight=None, metadata=None):
        RecordingClassifier.received.append(
            {"sample_weight": sample_weight, "metadata": metadata}
        )
        return super().fit(X, y, sample_weight=sample_weight)


# --------------------------------------------------------------------------
# Routing on
# --------------------------------------------------------------------------
def test_routing_gives_modules_what_they_request(routing):
    RecordingClassifier.received = []
    modules = [
        ("asks", RecordingClassifier().set_fit_request(sample_weight=True)),
        ("declines", GaussianNB().set_fit_request(sample_weight=False)),
    ]
    ens = SparseAttentionClassifier(modules, cv=3).fit(X, Y, sample_weight=WEIGHTS)
    # 3 fold fits and the refit, each with its rows' weights.
    assert sorted(len(r["sample_weight"]) for r in RecordingClassifier.received) == [
        80,
        80,
        80,
        120,
    ]
    (refit,) = [
        r for r in RecordingClassifier.received if len(r["sample_weight"]) == 120
    ]
    np.testing.assert_array_equal(refit["sample_weight"], WEIGHTS)
    assert ens.attention_weights_.sum() == pytest.approx(1.0)


def test_routing_with_a_pipeline_module_and_sample_weight(routing):
    # A Pipeline whose steps request the weights: no TypeError about
    # 'logisticregression__sample_weight', and the same fit as without
    # routing, which weighs every step that accepts the weights.
    modules = [
        (
            "lr",
            make_pipeline(
                StandardScaler().set_fit_request(sample_weight=True),
                LogisticRegression().set_fit_request(sample_weight=True),
            ),
        ),
        ("nb", GaussianNB().set_fit_request(sample_weight=True)),
    ]
    routed = SparseAttentionClassifier(modules, random_state=0)
    routed.fit(X, Y, sample_weight=WEIGHTS)
    with sklearn.config_context(enable_metadata_routing=False):
        plain = SparseAttentionClassifier(
            [
                ("lr", make_pipeline(StandardScaler(), LogisticRegression())),
                ("nb", GaussianNB()),
            ],
            random_state=0,
        ).fit(X, Y, sample_weight=WEIGHTS)
    np.testing.assert_allclose(routed.attention_weights_, plain.attention_weights_)


def test_default_portfolio_honours_sample_weight_with_routing_on_and_off():
    with sklearn.config_context(enable_metadata_routing=True):
        on = SparseAttentionClassifier(random_state=0).fit(X, Y, sample_weight=WEIGHTS)
    off = SparseAttentionClassifier(random_state=0).fit(X, Y, sample_weight=WEIGHTS)
    np.testing.assert_allclose(on.attention_weights_, off.attention_weights_)
    np.testing.assert_allclose(on.predict_proba(X), off.predict_proba(X))


def test_unrequested_sample_weight_is_an_error_as_in_voting(routing):
    modules = [("lr", LogisticRegression()), ("nb", GaussianNB())]
    with pytest.raises(UnsetMetadataPassedError):
        VotingClassifier(modules, voting="soft").fit(X, Y, sample_weight=WEIGHTS)
    with pytest.raises(UnsetMetadataPassedError, match="LogisticRegression"):
        SparseAttentionClassifier(modules).fit(X, Y, sample_weight=WEIGHTS)


def test_declined_sample_weight_still_weights_the_objective(routing):
    modules = [
        ("lr", LogisticRegression().set_fit_request(sample_weight=False)),
        (
            "tree",
            DecisionTreeClassifier(max_depth=2, random_state=0).set_fit_request(
                sample_weight=False
            ),
        ),
    ]
    weighted = SparseAttentionClassifier(modules).fit(X, Y, sample_weight=WEIGHTS)
    plain = SparseAttentionClassifier(modules).fit(X, Y)
    assert not np.allclose(weighted.attention_weights_, plain.attention_weights_)


def test_other_metadata_is_routed_to_the_modules_that_request_it(routing):
    RecordingClassifier.received = []
    modules = [
        ("asks", RecordingClassifier().set_fit_request(metadata=True)),
        ("nb", GaussianNB()),
    ]
    metadata = np.arange(len(Y))
    SparseAttentionClassifier(modules, cv=3).fit(X, Y, metadata=metadata)
    assert sorted(len(r["metadata"]) for r in RecordingClassifier.received) == [
        80,
        80,
        80,
        120,
    ]


def test_metadata_nobody_requests_is_an_error(routing):
    modules = [("lr", LogisticRegression()), ("nb", GaussianNB())]
    with pytest.raises(TypeError, match="metadata"):
        SparseAttentionClassifier(modules).fit(X, Y, metadata=np.ones(len(Y)))


def test_get_metadata_routing_shows_the_modules_and_the_splitter(routing):
    modules = [("lr", LogisticRegression().set_fit_request(sample_weight=True))]
    routing_info = SparseAttentionClassifier(modules, cv=GroupKFold(3))
    routing_info = routing_info.get_metadata_routing()
    text = str(routing_info)
    assert "'lr'" in text and "'splitter'" in text
    assert "'groups': True" in text


def test_cross_validate_with_sample_weight_as_for_stacking(routing):
    modules = [
        ("lr", LogisticRegression().set_fit_request(sample_weight=True)),
        ("nb", GaussianNB().set_fit_request(sample_weight=True)),
    ]
    params = {"sample_weight": WEIGHTS}
    stacking = StackingClassifier(modules).set_score_request(sample_weight=True)
    ens = SparseAttentionClassifier(modules, random_state=0)
    # The ensemble consumes sample_weight itself, so it declares the request.
    ens.set_fit_request(sample_weight=True).set_score_request(sample_weight=True)
    for est in (stacking, ens):
        scores = cross_validate(est, X, Y, params=params, cv=3)["test_score"]
        assert np.all((scores >= 0) & (scores <= 1))
    fitted = cross_validate(ens, X, Y, params=params, cv=3, return_estimator=True)
    unweighted = cross_validate(ens, X, Y, cv=3, return_estimator=True)
    assert not np.allclose(
        fitted["estimator"][0].attention_weights_,
        unweighted["estimator"][0].attention_weights_,
    )


def test_groups_reach_the_splitter_with_routing(routing):
    ens = SparseAttentionClassifier(_modules(), cv=GroupKFold(4), random_state=0)
    ens.fit(X, Y, groups=GROUPS)
    with sklearn.config_context(enable_metadata_routing=False):
        plain = SparseAttentionClassifier(_modules(), cv=GroupKFold(4), random_state=0)
        plain.fit(X, Y, groups=GROUPS)
    np.testing.assert_allclose(ens.attention_weights_, plain.attention_weights_)


# --------------------------------------------------------------------------
# Routing off
# --------------------------------------------------------------------------
def test_sample_weight_reaches_modules_that_take_it_through_kwargs():
    # GridSearchCV, VotingClassifier and TransformedTargetRegressor take
    # sample_weight through **kwargs; VotingClassifier passes it, so do we.
    modules = [
        ("search", GridSearchCV(LogisticRegression(), {"C": [0.1, 1.0]}, cv=2)),
        ("vote", VotingClassifier([("nb", GaussianNB())], voting="soft")),
    ]
    VotingClassifier(modules, voting="soft").fit(X, Y, sample_weight=WEIGHTS)
    ens = SparseAttentionClassifier(modules).fit(X, Y, sample_weight=WEIGHTS)
    assert ens.n_nonzero_ >= 1
    X_reg, y_reg = make_regression(n_samples=100, n_features=4, random_state=0)
    reg = SparseAttentionRegressor(
        [
            (
                "ttr",
                TransformedTargetRegressor(
                    Ridge(), func=np.cbrt, inverse_func=lambda v: v**3
                ),
            ),
            ("tree", DecisionTreeRegressor(max_depth=3, random_state=0)),
        ]
    )
    reg.fit(X_reg, y_reg, sample_weight=np.ones(100))


def test_other_metadata_without_routing_is_a_clear_error():
    ens = SparseAttentionClassifier(_modules())
    with pytest.raises(ValueError, match="enable_metadata_routing=True"):
        ens.fit(X, Y, metadata=np.ones(len(Y)))


def test_group_splitter_without_groups_says_so():
    ens = SparseAttentionClassifier(_modules(), cv=GroupKFold(3))
    with pytest.raises(ValueError, match="groups.*fit\\(X, y, groups=groups\\)"):
        ens.fit(X, Y)


def test_groups_reach_the_splitter_without_routing():
    ens = SparseAttentionClassifier(_modules(), cv=GroupKFold(3)).fit(
        X, Y, groups=GROUPS
    )
    assert ens.n_nonzero_ >= 1


def test_precomputed_splits_inside_a_search_get_a_clear_error():
    splits = list(GroupKFold(3).split(X, Y, GROUPS))
    search = GridSearchCV(
        SparseAttentionClassifier(_modules(), cv=splits),
        {"temperature": [1.0, 2.0]},
        cv=3,
        error_score="raise",
    )
    with pytest.raises(ValueError, match="precomputed splits only fits the data"):
        search.fit(X, Y)


# --------------------------------------------------------------------------
# Sample weights with routing off
# --------------------------------------------------------------------------
def test_sample_weight_reaches_the_modules(cancer):
    X_train, _, y_train, _ = cancer
    weights = np.random.default_rng(0).uniform(0.1, 3.0, size=len(y_train))
    ens = SparseAttentionClassifier(three_classifiers()).fit(
        X_train, y_train, sample_weight=weights
    )
    # Every step that accepts the weights gets them, as repeated rows would.
    direct = make_pipeline(StandardScaler(), LogisticRegression()).fit(
        X_train,
        y_train,
        standardscaler__sample_weight=weights,
        logisticregression__sample_weight=weights,
    )
    np.testing.assert_allclose(
        ens.named_estimators_["lr"][-1].coef_, direct[-1].coef_, rtol=1e-6
    )
    unweighted = SparseAttentionClassifier(three_classifiers()).fit(X_train, y_train)
    assert not np.allclose(ens.attention_weights_, unweighted.attention_weights_)


def test_sample_weight_in_the_objective_equals_dropping_rows(cancer):
    X_train, X_test, y_train, y_test = cancer
    # Frozen modules give the same outputs whatever the folds, so a zero weight
    # must be exactly the same as removing the row.
    modules = [
        ("lr", FrozenEstimator(LogisticRegression(max_iter=5000).fit(X_test, y_test))),
        ("nb", FrozenEstimator(GaussianNB().fit(X_test, y_test))),
        (
            "tree",
            FrozenEstimator(DecisionTreeClassifier(max_depth=2).fit(X_test, y_test)),
        ),
    ]
    keep = np.arange(len(y_train)) % 3 != 0
    weighted = SparseAttentionClassifier(modules).fit(
        X_train, y_train, sample_weight=keep.astype(float)
    )
    dropped = SparseAttentionClassifier(modules).fit(X_train[keep], y_train[keep])
    np.testing.assert_allclose(
        weighted.attention_weights_, dropped.attention_weights_, atol=1e-6
    )


def test_module_without_sample_weight_support():
    ens = SparseAttentionClassifier(
        [("lr", LogisticRegression()), ("knn", KNeighborsClassifier())]
    )
    with pytest.raises(
        TypeError,
        match=r"module 'knn' \(KNeighborsClassifier\) does not accept sample_weight",
    ):
        ens.fit(X, Y, sample_weight=np.ones(len(Y)))


class WeightRecordingRegressor(Ridge):
    """Records the rows (X's first column holds row ids) and the sample
    weights each fit receives."""

    received = []

    def fit(self, X, y, sample_weight=None):
        type(self).received.append((X[:, 0].copy(), np.array(sample_weight)))
        return super().fit(X, y, sample_weight=sample_weight)


def test_unshuffled_folds_give_each_module_its_rows_weights():
    # A regressor's default cv (unshuffled KFold) keeps its folds as runs of
    # rows; a module's sample weights are still those of its training rows.
    X_rows = np.c_[np.arange(len(Y), dtype=float), X[:, :2]]
    WeightRecordingRegressor.received = []
    ens = SparseAttentionRegressor([("ridge", WeightRecordingRegressor())], cv=4)
    ens.fit(X_rows, X[:, 0], sample_weight=WEIGHTS)
    sizes = sorted(len(rows) for rows, _ in WeightRecordingRegressor.received)
    assert sizes == [90] * 4 + [120]  # four folds, then the refit
    for rows, weights in WeightRecordingRegressor.received:
        np.testing.assert_array_equal(weights, WEIGHTS[rows.astype(int)])
