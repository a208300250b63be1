"""Test-suite wide settings, and fixtures several test files share."""

import pytest
from _helpers import CALLS, X_BINARY, Y_BINARY, spied_ensemble
from sklearn.datasets import load_breast_cancer
from sklearn.model_selection import train_test_split
from threadpoolctl import threadpool_limits


@pytest.fixture(autouse=True, scope="session")
def _one_thread_per_native_pool():
    # The suite fits thousands of tiny models. Multi-threaded BLAS and the
    # OpenMP pool of HistGradientBoosting spin-wait between such small calls;
    # on a 2-core machine that is already busy (joblib workers, CI neighbours)
    # this made single fits 5-30x slower. Results do not depend on it.
    with threadpool_limits(limits=1):
        yield


@pytest.fixture(scope="session")
def cancer():
    """The breast cancer data, split: ``X_train, X_test, y_train, y_test``
    (read only)."""
    X, y = load_breast_cancer(return_X_y=True)
    return train_test_split(X, y, test_size=0.3, random_state=0, stratify=y)


@pytest.fixture
def pruned():
    """`spied_ensemble` fitted on the binary data, its "noise" module
    pruned; `CALLS` holds the calls of that fit."""
    CALLS.clear()
    ens = spied_ensemble().fit(X_BINARY, Y_BINARY)
    assert ens.attention_weights_[2] == 0.0  # it learned flipped labels
    assert ens.attention_weights_[0] > 0
    return ens
