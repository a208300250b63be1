"""The few hand-tuned loops over the modules' outputs.

Each one exists because a row of ``bench/speed.py`` shows that it matters
to the whole ``fit`` or ``predict`` a user pays for; each docstring names
that row. Everything else is the plain NumPy call.
"""

import numpy as np
from threadpoolctl import ThreadpoolController

# Found once: finding the loaded thread pools reads every loaded library's
# file. A BLAS loaded after the first call is not limited, as with
# scikit-learn's own cached controller: only speed depends on it.
_controller = None


def one_blas_thread():
    """A context in which BLAS runs on one thread.

    The weight step and predict's combination make many BLAS calls on small
    arrays (L-BFGS-B's vectors of length n_params, blocks of rows that stay
    in cache): a multi-threaded BLAS wakes and synchronises its threads for
    each of them, which costs more than the calls' work. The large products
    are limited by memory bandwidth, which one thread already saturates.
    Measured by the ``whole fit`` and ``predict`` rows of ``bench/speed.py``
    run with the library's default threads.
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


class Workspace:
    """Work arrays reused from one evaluation of a loss to the next: at a
    million rows a fresh (n, K) array per evaluation is a fresh set of pages
    for the kernel to fault in (``weight step`` rows of ``bench/speed.py``).
    """

    def __init__(self):
        self._arrays = {}

    def get(self, name, shape, dtype=np.float64):
        """An uninitialised array of ``shape``: a view of the largest buffer
        asked for under ``name`` so far (blocks of rows of different sizes
        share one)."""
        size = int(np.prod(shape))
        array = self._arrays.get(name)
        if array is None or array.size < size or array.dtype != dtype:
            array = self._arrays[name] = np.empty(size, dtype=dtype)
        return array[:size].reshape(shape)


# Bytes per block of rows as an output is checked, transformed and added
# into the total: the block and its transformed copy stay in cache on their
# way from the module's output into the total.
SUM_BLOCK_BYTES = 2 * 2**20


def _block_buffer(buffer, block, n_rows, dtype=np.float64):
    """``buffer`` if it holds ``n_rows`` rows shaped like ``block``'s (of
    ``dtype``), else a new one."""
    if buffer is None or buffer.shape[1:] != block.shape[1:] or buffer.dtype != dtype:
        buffer = np.empty((n_rows, *block.shape[1:]), dtype=dtype)
    return buffer


def weighted_sum(weights, outputs, transform=None, out=None):
    """``sum_m w[m] * transform(output_m)``, folding each module's output in
    as it comes (only one is alive at a time), block of rows by block of
    rows; into ``out`` if given.

    ``transform(block, out)`` writes into a small buffer reused block by
    block (of ``transform.dtype``, float64 if it has none): a module's own
    array is never overwritten (it may keep it), and each block goes from
    the output through the transform into the total while it is in cache
    (the ``predict`` rows of ``bench/speed.py``). The total is float64 and
    every operation is element-wise, so a row's result does not depend on
    the other rows it is predicted with.

    An output may come as a pair ``(output, check)`` (see the combinations'
    ``read(..., deferred=True)``): its check then runs on each block on the
    way, and raises once the output is folded in; entries rounded below
    zero are clipped first.
    """
    dtype = np.dtype(getattr(transform, "dtype", np.float64))
    total = out
    buffers = {}
    for index, (weight, item) in enumerate(zip(weights, outputs)):
        output, check = item if isinstance(item, tuple) else (item, None)
        if total is None:
            total = np.empty(output.shape)
        row_bytes = 8 * max(1, int(np.prod(output.shape[1:])))
        n_rows = max(1, SUM_BLOCK_BYTES // row_bytes)
        for start in range(0, output.shape[0], n_rows):
            block = output[start : start + n_rows]
            if check is not None and check.add(block) < 0.0:
                # NaN never compares below zero: the check raises for it.
                buffers["clipped"] = _block_buffer(
                    buffers.get("clipped"), block, n_rows
                )
                block = np.maximum(block, 0.0, out=buffers["clipped"][: len(block)])
            if transform is not None:
                buffers["transformed"] = _block_buffer(
                    buffers.get("transformed"), block, n_rows, dtype
                )
                block = transform(block, buffers["transformed"][: len(block)])
            target = total[start : start + n_rows]
            if index == 0:  # the first module sets the total: no zero fill
                np.multiply(block, weight, out=target)
            else:
                buffers["scaled"] = _block_buffer(buffers.get("scaled"), block, n_rows)
                scaled = np.multiply(block, weight, out=buffers["scaled"][: len(block)])
                target += scaled
        if check is not None:
            check.finish()
    return total


def column_max_abs(y, group=32):
    """``np.max(np.abs(y), axis=0)`` for an (n, T) array with few columns:
    NumPy reduces along axis 0 one short row at a time, so ``group`` rows
    are viewed as one row of ``group * T`` columns (the regression ``whole
    fit`` rows of ``bench/speed.py``)."""
    n_rows, n_columns = y.shape
    whole = n_rows - n_rows % group
    top = np.zeros(n_columns)
    if whole:
        wide = y[:whole].reshape(whole // group, group * n_columns)
        top = np.maximum(wide.max(axis=0), -wide.min(axis=0))
        top = top.reshape(group, n_columns).max(axis=0)
    if whole < n_rows:
        top = np.maximum(top, np.abs(y[whole:]).max(axis=0))
    return top
