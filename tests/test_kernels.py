"""The thread limit around the package's own BLAS calls, and the weighted
sum predict folds the modules' outputs into."""

import threading

import numpy as np
import pytest
from sklearn.datasets import make_classification
from sklearn.naive_bayes import GaussianNB
from threadpoolctl import threadpool_info, threadpool_limits

from skweighting import SparseAttentionClassifier, _kernels


def blas_threads():
    return {p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"}


def test_one_blas_thread_limits_blas_inside_and_restores_it_after():
    # The controller is found once and reused: each use still limits BLAS.
    if not blas_threads():
        pytest.skip("no BLAS thread pool found")
    with threadpool_limits(limits=2, user_api="blas"):
        outside = blas_threads()
        for _ in range(2):
            with _kernels.one_blas_thread():
                assert blas_threads() == {1}
            assert blas_threads() == outside
        with pytest.raises(KeyError), _kernels.one_blas_thread():
            raise KeyError("an error inside still restores the threads")
        assert blas_threads() == outside


def test_one_blas_thread_nests_and_leaves_other_threads_limits_alone():
    # Nested, the inner context changes nothing and the outer one restores.
    # In a thread other than the main one, OpenBLAS can lower its
    # process-wide limit but not raise it back, so a context there must
    # leave it alone rather than leave the process on one thread.
    if not blas_threads():
        pytest.skip("no BLAS thread pool found")
    with threadpool_limits(limits=2, user_api="blas"):
        outside = blas_threads()
        with _kernels.one_blas_thread():
            with _kernels.one_blas_thread():
                assert blas_threads() == {1}
            assert blas_threads() == {1}
        assert blas_threads() == outside

        seen = []

        def in_a_thread():
            with _kernels.one_blas_thread():
                seen.append(blas_threads())

        other = threading.Thread(target=in_a_thread)
        other.start()
        other.join()
        assert seen == [outside]
        assert blas_threads() == outside
        with _kernels.one_blas_thread():  # the main thread still pins
            assert blas_threads() == {1}
        assert blas_threads() == outside


def test_weighted_sum_folds_the_outputs_in_and_leaves_them_alone():
    rng = np.random.default_rng(0)
    outputs = [rng.uniform(0.1, 1.0, (6, 3)) for _ in range(3)]
    copies = [output.copy() for output in outputs]
    weights = np.array([0.2, 0.3, 0.5])
    total = _kernels.weighted_sum(weights, iter(outputs))
    np.testing.assert_allclose(total, np.tensordot(weights, outputs, 1))

    def log(block, out):
        return np.log(block, out=out)

    out = np.empty((6, 3))
    pooled = _kernels.weighted_sum(weights, iter(outputs), log, out=out)
    assert pooled is out
    np.testing.assert_allclose(pooled, np.tensordot(weights, np.log(outputs), 1))
    for output, copy in zip(outputs, copies):
        np.testing.assert_array_equal(output, copy)


def test_weighted_sum_in_the_dtype_of_its_transform():
    # A float32 transform: the sum is float32 too, and one module with
    # weight one is exactly its transformed output (float32's log of the
    # float32 block, not float64's log rounded).
    rng = np.random.default_rng(1)
    outputs = [rng.uniform(0.01, 1.0, (500, 3)) for _ in range(2)]

    def log32(block, out):
        np.copyto(out, block, casting="same_kind")
        return np.log(out, out=out)

    log32.dtype = np.float32
    one = _kernels.weighted_sum(np.array([1.0]), iter(outputs[:1]), log32)
    assert one.dtype == np.float32
    np.testing.assert_array_equal(one, np.log(outputs[0].astype(np.float32)))
    two = _kernels.weighted_sum(np.array([0.25, 0.75]), iter(outputs), log32)
    assert two.dtype == np.float32
    expected = 0.25 * np.log(outputs[0]) + 0.75 * np.log(outputs[1])
    np.testing.assert_allclose(two, expected, rtol=1e-6, atol=1e-6)
    out = np.empty((500, 3), dtype=np.float32)
    into = _kernels.weighted_sum(np.array([0.25, 0.75]), iter(outputs), log32, out)
    assert into is out
    np.testing.assert_array_equal(out, two)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_add_scaled_into_contiguous_and_strided_totals(dtype):
    rng = np.random.default_rng(2)
    output = rng.uniform(size=(6, 3))
    start = rng.uniform(size=(6, 3)).astype(dtype)
    contiguous = start.copy()
    _kernels.add_scaled(contiguous, 0.5, output)
    np.testing.assert_allclose(contiguous, start + 0.5 * output, rtol=1e-6)
    # A strided total (every other column of a wider array) is updated in
    # place too: BLAS would have worked on a flattened copy of it.
    wide = np.zeros((6, 6), dtype=dtype)
    strided = wide[:, ::2]
    strided[...] = start
    _kernels.add_scaled(strided, 0.5, output)
    np.testing.assert_allclose(wide[:, ::2], start + 0.5 * output, rtol=1e-6)
    assert np.all(wide[:, 1::2] == 0)


class ThreadSpy(GaussianNB):
    """GaussianNB that records the BLAS threads it predicts with."""

    seen = []

    def predict_proba(self, X):
        ThreadSpy.seen.append(blas_threads())
        return super().predict_proba(X)


def test_the_modules_keep_their_threads_at_fit_and_predict():
    # Only the package's own small BLAS calls run on one thread; a module's
    # fit and predict run with the threads the user's process has.
    if not blas_threads():
        pytest.skip("no BLAS thread pool found")
    X, y = make_classification(n_samples=120, n_features=5, random_state=0)
    ThreadSpy.seen.clear()
    with threadpool_limits(limits=2, user_api="blas"):
        ens = SparseAttentionClassifier(
            [("spy", ThreadSpy()), ("nb", GaussianNB())], cv=2, n_jobs=1
        ).fit(X, y)
        at_fit = len(ThreadSpy.seen)
        ens.predict_proba(X)
        ens.predict(X)
    assert at_fit >= 2 and len(ThreadSpy.seen) > at_fit
    assert all(seen == {2} for seen in ThreadSpy.seen)
