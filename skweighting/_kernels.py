"""Thread limits around the package's own small BLAS calls, and the
weighted sum that folds the modules' outputs into a prediction.

A hand-tuned loop belongs here only while a row of ``bench/speed.py`` shows
that it matters to the whole ``fit`` or ``predict`` a user pays for, and its
docstring names that row; everything else is the plain NumPy call.
"""

import threading
from contextlib import contextmanager

import numpy as np
from scipy.linalg.blas import daxpy, saxpy
from threadpoolctl import ThreadpoolController

# Found once: finding the loaded thread pools reads every loaded library's
# file. A BLAS loaded after the first call is not limited, as with
# scikit-learn's own cached controller: only speed depends on it.
_controller = None
_blas_libraries = None
# How many `one_blas_thread` contexts are open in the main thread.
_depth = 0


def _thread_controller():
    global _controller
    if _controller is None:
        _controller = ThreadpoolController()
    return _controller


@contextmanager
def one_blas_thread():
    """A context in which BLAS runs on one thread.

    The package's own work on the modules' outputs (their checks and store
    writes at fit, the weight step, predict's combination) makes many BLAS
    calls on small arrays (L-BFGS-B's vectors of length n_params, one
    fold's or one block's rows): a multi-threaded BLAS wakes and
    synchronises its threads for each of them, which costs more than the
    calls' work, many times more on a machine shared with other jobs. The
    large products, which stream the whole store, would run faster on a
    second thread when its core is idle, and slower when it is busy: on one
    thread they cost the same either way. The modules' own calls never run
    inside it. Measured by the ``whole fit`` and ``predict`` rows of
    ``bench/speed.py``, which run with the library's default threads.

    It sets the libraries' limits directly rather than through
    `threadpoolctl.ThreadpoolController.limit`, whose bookkeeping costs
    more than a block's check; a context entered inside another changes
    nothing, so the small calls that pin themselves cost no more when their
    caller already has. A BLAS library has one limit per process, which
    OpenBLAS lets a thread other than the main one lower but not raise
    back: there the context leaves the limits alone (only speed depends on
    them), rather than leave the whole process on one thread.
    """
    global _blas_libraries, _depth
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    if _depth:
        _depth += 1
        try:
            yield
        finally:
            _depth -= 1
        return
    if _blas_libraries is None:
        _blas_libraries = _thread_controller().select(user_api="blas").lib_controllers
    # A library that cannot tell its threads (None) is left alone: only
    # speed depends on it.
    changed = [
        (library, threads)
        for library in _blas_libraries
        if (threads := library.num_threads) is not None and threads != 1
    ]
    for library, _ in changed:
        library.set_num_threads(1)
    _depth = 1
    try:
        yield
    finally:
        _depth = 0
        for library, threads in changed:
            library.set_num_threads(threads)


def one_thread():
    """A context in which BLAS and OpenMP run on one thread each (the
    default portfolio's modules, see `skweighting._portfolio`)."""
    return _thread_controller().limit(limits=1)


def weighted_sum(weights, outputs, transform=None, out=None):
    """``sum_m w[m] * transform(output_m)``, folding each module's output in
    as it comes (only one is alive at a time); into ``out`` if given.

    ``transform(output, out)`` writes into a scratch array of
    ``transform.dtype`` (float64 if it has none), reused from module to
    module: a module's own array is never overwritten (it may keep it). The
    total is summed in that dtype too (``out`` must have it). Every
    operation is element-wise, so a row's result does not depend on the
    other rows it is predicted with.
    """
    dtype = np.dtype(getattr(transform, "dtype", np.float64))
    total = out
    scratch = None
    for index, (weight, output) in enumerate(zip(weights, outputs)):
        if transform is not None:
            # Every output has the same shape: one scratch serves them all.
            if scratch is None:
                scratch = np.empty(output.shape, dtype=dtype)
            output = transform(output, scratch)
        if total is None:
            total = np.empty(output.shape, dtype=dtype)
        if index == 0:  # the first module sets the total: no zero fill
            np.multiply(output, weight, out=total)
        else:
            add_scaled(total, weight, output)
    return total


_AXPY = {np.dtype(np.float64): daxpy, np.dtype(np.float32): saxpy}


def add_scaled(total, weight, output):
    """``total += weight * output`` in place, for a float64 or float32
    ``total``.

    One BLAS axpy (on one thread) where ``total`` is C-contiguous: a single
    pass with no temporary, where NumPy makes two and allocates ``weight *
    output`` (the ``predict`` rows of bench/speed.py). BLAS works on flat
    arrays, and only a C-contiguous ``total`` flattens to a view of itself.
    """
    if not total.flags.c_contiguous:
        total += weight * output
        return
    with one_blas_thread():
        _AXPY[total.dtype](output.ravel(), total.ravel(), a=weight)
