"""Test-suite wide settings."""

import pytest
from threadpoolctl import threadpool_limits


@pytest.fixture(autouse=True, scope="session")
def _one_thread_per_native_pool():
    # The suite fits thousands of tiny models. Multi-threaded BLAS and the
    # OpenMP pool of HistGradientBoosting spin-wait between such small calls;
    # on a 2-core machine that is already busy (joblib workers, CI neighbours)
    # this made single fits 5-30x slower. Results do not depend on it.
    with threadpool_limits(limits=1):
        yield
