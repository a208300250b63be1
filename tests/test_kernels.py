"""The hand-tuned loops: each gives what the plain NumPy call gives."""

import pytest

from skweighting import _kernels


def test_one_blas_thread_limits_blas_inside_and_restores_it_after():
    # The controller is found once and reused: each use still limits BLAS.
    from threadpoolctl import threadpool_info, threadpool_limits

    def blas_threads():
        return {p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"}

    if not blas_threads():
        pytest.skip("no BLAS thread pool found")
    with threadpool_limits(limits=2, user_api="blas"):
        outside = blas_threads()
        for _ in range(2):
            with _kernels.one_blas_thread():
                assert blas_threads() == {1}
            assert blas_threads() == outside
