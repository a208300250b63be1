"""Thread limits around the package's own small BLAS calls, and the
weighted sum that folds the modules' outputs into a prediction.

A hand-tuned loop belongs here only while a row of ``bench/speed.py`` shows
that it matters to the whole ``fit`` or ``predict`` a user pays for, and its
docstring names that row; everything else is the plain NumPy call.
"""

import numpy as np
from threadpoolctl import ThreadpoolController

# Found once: finding the loaded thread pools reads every loaded library's
# file. A BLAS loaded after the first call is not limited, as with
# scikit-learn's own cached controller: only speed depends on it.
_controller = None


def one_blas_thread():
    """A context in which BLAS runs on one thread.

    The package's own work on the modules' outputs (their checks and store
    writes at fit, the weight step, predict's combination) makes many BLAS
    calls on small arrays (L-BFGS-B's vectors of length n_params, one
    fold's or one block's rows): a multi-threaded BLAS wakes and
    synchronises its threads for each of them, which costs more than the
    calls' work, most of all on a machine shared with other jobs. The large
    products are limited by memory bandwidth, which one thread already
    saturates. The modules' own calls never run inside it. Measured by the
    ``whole fit`` and ``predict`` rows of ``bench/speed.py``, which run with
    the library's default threads.
    """
    global _controller
    if _controller is None:
        _controller = ThreadpoolController()
    return _controller.limit(limits=1, user_api="blas")


def one_thread():
    """A context in which BLAS and OpenMP run on one thread each (the
    default portfolio's modules, see `skweighting._portfolio`)."""
    global _controller
    if _controller is None:
        _controller = ThreadpoolController()
    return _controller.limit(limits=1)


def weighted_sum(weights, outputs, transform=None, out=None):
    """``sum_m w[m] * transform(output_m)``, folding each module's output in
    as it comes (only one is alive at a time); into ``out`` if given.

    The work on each output runs on one BLAS thread (`one_blas_thread`),
    the module calls that produce them do not.

    ``transform(output, out)`` writes into a new array of
    ``transform.dtype`` (float64 if it has none): a module's own array is
    never overwritten (it may keep it). The total is float64 and every
    operation is element-wise, so a row's result does not depend on the
    other rows it is predicted with.

    An output may come as a pair ``(output, check)`` (see the combinations'
    ``read(..., deferred=True)``): its check then runs on it first, and
    raises once the output is folded in; entries rounded below zero are
    clipped first.
    """
    dtype = np.dtype(getattr(transform, "dtype", np.float64))
    total = out
    # A module is called as ``outputs`` yields it, with its own threads;
    # only the work on its output runs on one BLAS thread.
    for index, (weight, item) in enumerate(zip(weights, outputs)):
        output, check = item if isinstance(item, tuple) else (item, None)
        with one_blas_thread():
            # NaN never compares below zero: the check raises for it.
            if check is not None and check.add(output) < 0.0:
                output = np.maximum(output, 0.0)
            if transform is not None:
                output = transform(output, np.empty(output.shape, dtype=dtype))
            if total is None:
                total = np.empty(output.shape)
            if index == 0:  # the first module sets the total: no zero fill
                np.multiply(output, weight, out=total)
            else:
                total += weight * output
            if check is not None:
                check.finish()
    return total
