"""Metadata routing, sample weights, groups, joblib backends and progress,
with VotingClassifier / StackingClassifier as the reference behaviour."""

import re
import time

import numpy as np
import pytest
import sklearn
from joblib import parallel_config, register_parallel_backend
from joblib._parallel_backends import SequentialBackend
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.compose import TransformedTargetRegressor
from sklearn.datasets import make_classification, make_regression
from sklearn.ensemble import StackingClassifier, VotingClassifier
from sklearn.exceptions import UnsetMetadataPassedError
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.model_selection import (
    GridSearchCV,
    GroupKFold,
    KFold,
    cross_validate,
)
from sklearn.naive_bayes import GaussianNB
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

from skweighting import SparseAttentionClassifier, SparseAttentionRegressor

X, Y = make_classification(n_samples=120, n_features=5, random_state=0)
WEIGHTS = np.random.default_rng(0).uniform(0.2, 3.0, len(Y))
GROUPS = np.arange(len(Y)) % 12


@pytest.fixture
def routing():
    with sklearn.config_context(enable_metadata_routing=True):
        yield


def _modules():
    return [
        ("lr", make_pipeline(StandardScaler(), LogisticRegression())),
        ("tree", DecisionTreeClassifier(max_depth=3, random_state=0)),
        ("nb", GaussianNB()),
    ]


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
# Modules, backends, progress
# --------------------------------------------------------------------------
def test_module_whose_predict_proba_exists_only_after_fitting():
    # StackingClassifier has predict_proba only once its final estimator is
    # fitted; soft voting accepts it, so do we.
    stack = StackingClassifier([("nb", GaussianNB()), ("lr", LogisticRegression())])
    assert not hasattr(stack, "predict_proba")
    VotingClassifier([("stack", stack)], voting="soft").fit(X, Y)
    ens = SparseAttentionClassifier([("stack", stack), ("nb", GaussianNB())]).fit(X, Y)
    assert ens.predict_proba(X).shape == (len(Y), 2)


def test_module_without_predict_proba_after_fitting_is_named():
    from sklearn.svm import SVC

    ens = SparseAttentionClassifier([("svc", SVC()), ("nb", GaussianNB())])
    with pytest.raises(ValueError, match="'svc' \\(SVC\\) has no predict_proba after"):
        ens.fit(X, Y)


class NoGeneratorBackend(SequentialBackend):
    """A backend that cannot stream results, as Ray's cannot."""

    supports_return_generator = False


def test_backend_that_cannot_stream_gives_the_same_fit():
    register_parallel_backend("no_generator", NoGeneratorBackend)
    reference = SparseAttentionClassifier(_modules(), random_state=0).fit(X, Y)
    with parallel_config(backend="no_generator"):
        ens = SparseAttentionClassifier(_modules(), random_state=0).fit(X, Y)
    np.testing.assert_array_equal(ens.attention_weights_, reference.attention_weights_)


class RowRecordingRegressor(RegressorMixin, BaseEstimator):
    """Predicts y = 2 * row id (X's only column); records, for each fit,
    where its training rows lived and whether they stayed the same while it
    fitted and predicted, apart from the rows it predicts."""

    fits = []

    def fit(self, X, y):
        self.X_, self.y_ = X, y  # kept, as nearest neighbours keep them
        self.rows_ = X[:, 0].copy()
        time.sleep(0.005)  # room for another fold's rows to be copied
        return self

    def predict(self, X):
        time.sleep(0.005)
        intact = np.array_equal(self.X_[:, 0], self.rows_)
        intact &= np.array_equal(self.y_, self.rows_ * 2)
        address = self.X_.__array_interface__["data"][0]
        held_out = not np.intersect1d(X[:, 0], self.rows_).size
        type(self).fits.append((len(self.rows_), address, intact, held_out))
        return X[:, 0] * 2.0


@pytest.mark.parametrize("backend, n_jobs", [("sequential", 1), ("threading", 2)])
def test_folds_rows_are_reused_only_once_their_modules_are_done(backend, n_jobs):
    X_rows = np.arange(60.0).reshape(-1, 1)
    modules = [(f"m{i}", RowRecordingRegressor()) for i in range(3)]
    RowRecordingRegressor.fits = []
    with parallel_config(backend=backend):
        ens = SparseAttentionRegressor(modules, cv=KFold(5), n_jobs=n_jobs)
        ens.fit(X_rows, X_rows[:, 0] * 2)
    folds = [fit for fit in RowRecordingRegressor.fits if fit[0] < len(X_rows)]
    assert len(folds) == 3 * 5
    assert all(intact and held_out for _, _, intact, held_out in folds)
    if n_jobs == 1:
        # Every fold's training rows went into the first fold's arrays.
        assert len({address for _, address, _, _ in folds}) == 1


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


def test_dask_cluster_gives_the_same_fit_as_sequential():
    distributed = pytest.importorskip("distributed")
    reference = SparseAttentionClassifier(_modules(), random_state=0).fit(X, Y)
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster),
        parallel_config(backend="dask"),
    ):
        ens = SparseAttentionClassifier(_modules(), random_state=0, n_jobs=2)
        ens.fit(X, Y)
    np.testing.assert_array_equal(ens.attention_weights_, reference.attention_weights_)
    np.testing.assert_array_equal(ens.predict_proba(X), reference.predict_proba(X))


@pytest.mark.parametrize("verbose", [1, 2])
def test_progress_lines(capsys, verbose):
    SparseAttentionClassifier(_modules(), cv=3, verbose=verbose).fit(X, Y)
    lines = capsys.readouterr().out.splitlines()
    module_lines = [line for line in lines if "(module " in line]
    assert len(module_lines) == 3
    assert re.search(
        r"\[SparseAttentionClassifier\] \.* ?\(module 1 of 3\) lr: 3 folds, "
        r"out-of-fold log-likelihood=-?[0-9.e-]+, total=\s*[0-9.]+s",
        module_lines[0],
    )
    fold_lines = [line for line in lines if "(fold " in line]
    assert len(fold_lines) == (9 if verbose >= 2 else 0)
    assert any(re.search(r"weights \(\d+ iterations", line) for line in lines)
