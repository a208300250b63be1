"""Folds: the splits of ``cv``, the rows of each fold, and the order in
which the out-of-fold rows are stored.

Every (module, fold) fit reads its fold's rows from here; the combinations'
stores hold the out-of-fold rows fold after fold (`stored_order`), so that
each fold's output is one contiguous write.
"""

from numbers import Integral

import numpy as np
from sklearn.model_selection import KFold, StratifiedKFold, check_cv
from sklearn.utils import _safe_indexing
from sklearn.utils.validation import _check_method_params, _num_samples


class FoldRows:
    """Rows of one side of a fold as runs of consecutive rows (``slice``
    objects): the splits of ``KFold`` without shuffling. An index array is
    made only if one is asked for (``np.asarray``); slicing the data needs
    only the runs."""

    __slots__ = ("runs", "dtype")

    def __init__(self, runs, dtype):
        self.runs = [run for run in runs if run.stop > run.start]
        self.dtype = dtype

    def __len__(self):
        return sum(run.stop - run.start for run in self.runs)

    def __array__(self, dtype=None, copy=None):
        rows = [np.arange(run.start, run.stop, dtype=self.dtype) for run in self.runs]
        rows = np.concatenate(rows) if rows else np.empty(0, self.dtype)
        return rows if dtype is None else rows.astype(dtype, copy=False)


def fold_data(X, y, train, test, buffers=None):
    """The training rows (X and y) and the held-out rows of a fold: sliced
    once per fold and shared by every module of the fold, as the refits
    share X (copies, so a module that works in place, such as
    ``StandardScaler(copy=False)``, cannot touch the caller's data).

    ``buffers``: a `FoldBuffers` to copy NumPy rows into; the caller
    passes the previous fold's only once its modules are done with them."""
    train_runs = row_runs(train)  # found once for X and y
    into = (lambda name: None) if buffers is None else buffers.taker
    return (
        _take_rows(X, train, train_runs, into=into("X_train")),
        _take_rows(y, train, train_runs, into=into("y_train")),
        _take_rows(X, test, into=into("X_test")),
    )


def cost_rows(X, train, test, n_rows):
    """``n_rows`` rows of ``X`` to time a fold's module on: its held-out rows
    first, then its training rows, repeated only when the fold has fewer
    rows in all. Distinct rows, as a call on new data gets: a tree or a
    forest predicts rows it has just predicted faster (their paths are in
    cache), so held-out rows repeated would understate its cost."""
    rows = np.resize(np.concatenate([test, train]), n_rows)
    return _take_rows(X, rows)


class FoldBuffers:
    """Arrays that folds' rows are copied into, fold after fold: the first
    touch of fresh memory costs about as much as the copy itself (at a
    million rows of a 10-output y, the five folds' copies took 1.1 passes
    over the outputs into fresh arrays, 0.7 into reused ones)."""

    def __init__(self):
        self.arrays = {}

    def taker(self, name):
        """A function ``n_rows, data -> array`` giving the first ``n_rows``
        rows of the array kept as ``name``, made (or remade) to hold rows
        of ``data``."""

        def rows(n_rows, data):
            array = self.arrays.get(name)
            if (
                array is None
                or array.dtype != data.dtype
                or array.shape[1:] != data.shape[1:]
                or len(array) < n_rows
            ):
                array = np.empty((n_rows,) + data.shape[1:], dtype=data.dtype)
                self.arrays[name] = array
            return array[:n_rows]

        return rows


# Index arrays made of at most this many runs of consecutive rows (as KFold
# without shuffling gives) are copied run by run.
MAX_RUNS = 8


def row_runs(rows):
    """``rows`` as slices of consecutive rows if it is a `FoldRows` or a 1-D
    integer array of at most `MAX_RUNS` such runs (an empty list if it has
    more); None for anything else."""
    if isinstance(rows, FoldRows):
        return rows.runs
    rows = np.asarray(rows)
    if rows.dtype.kind not in "iu" or rows.ndim != 1:
        return None
    if rows.size == 0:
        return []
    breaks = np.flatnonzero(np.diff(rows) != 1)
    if breaks.size >= MAX_RUNS:
        return []
    starts = np.concatenate([[0], breaks + 1])
    stops = np.concatenate([breaks + 1, [rows.size]])
    return [slice(rows[a], rows[b - 1] + 1) for a, b in zip(starts, stops)]


def _take_rows(data, rows, runs=None, into=None):
    """A copy of ``data``'s ``rows``. For a NumPy array, sorted rows in a few
    runs (``KFold`` without shuffling: at most two) are copied run by run,
    and others with ``np.take``, which copies rows faster than
    ``_safe_indexing`` (the ``fold slicing`` column of the whole-fit rows of
    ``bench/speed.py``). ``runs``:
    `row_runs` of ``rows`` if already found. ``into``: for C-contiguous
    data, a function ``n_rows, data -> array`` (`FoldBuffers.taker`) giving
    the array to copy into."""
    if runs is None:
        runs = row_runs(rows)
    if not isinstance(data, np.ndarray) or data.ndim == 0 or runs is None:
        return _safe_indexing(data, np.asarray(rows))
    if into is not None and not data.flags.c_contiguous:
        into = None  # the copy keeps the layout it has always had
    if runs and all(run.start >= 0 and run.stop <= len(data) for run in runs):
        n_rows = sum(run.stop - run.start for run in runs)
        out = None if into is None else into(n_rows, data)
        return np.concatenate([data[run] for run in runs], out=out)
    rows = np.asarray(rows)
    in_range = rows.size and -len(data) <= rows.min() <= rows.max() < len(data)
    if into is None or not in_range:
        return np.take(data, rows, axis=0)  # raises for rows out of range
    # In range, so "wrap" changes nothing but lets np.take write into the
    # array directly ("raise" copies through a buffer).
    return np.take(data, rows, axis=0, out=into(len(rows), data), mode="wrap")


def fold_params(X, fit_params, train):
    """One module's fit parameters restricted to the training rows."""
    if not fit_params:
        return {}
    return _check_method_params(X, params=fit_params, indices=np.asarray(train))


def _compact(indices, dtype):
    """``indices`` as ``dtype`` if they are integers that it holds (anything
    else is returned as given, for the checks to judge)."""
    indices = np.asarray(indices)
    if indices.dtype.kind in "iu" and (
        indices.size == 0
        or (indices.min() >= 0 and indices.max() <= np.iinfo(dtype).max)
    ):
        return indices.astype(dtype, copy=False)
    return indices


def _consecutive_folds(n_samples, n_splits, dtype):
    """``KFold(n_splits).split`` (no shuffling) as `FoldRows` of ``dtype``
    indices: the first ``n_samples % n_splits`` folds hold one sample
    more."""
    sizes = np.full(n_splits, n_samples // n_splits)
    sizes[: n_samples % n_splits] += 1
    stops = np.cumsum(sizes)
    return [
        (
            FoldRows([slice(0, stop - size), slice(stop, n_samples)], dtype),
            FoldRows([slice(stop - size, stop)], dtype),
        )
        for size, stop in zip(sizes.tolist(), stops.tolist())
    ]


def stored_order(splits):
    """The rows in the order the folds hold them out (fold after fold), or
    None if that is their own order (``KFold`` without shuffling)."""
    runs = [run for _, test in splits for run in row_runs(test) or [None]]
    if (
        None not in runs
        and all(run.start == previous.stop for previous, run in zip(runs, runs[1:]))
        and runs[0].start == 0
    ):
        return None
    order = np.concatenate([np.asarray(test) for _, test in splits])
    return None if np.array_equal(order, np.arange(len(order))) else order


def check_splits(cv, X, y, *, classifier, groups=None):
    """The (train, test) splits of ``cv``, each sample held out exactly once."""
    cv = check_cv(cv, y, classifier=classifier)
    n_samples = _num_samples(X)
    try:
        n_splits = cv.get_n_splits(X, y, groups)
    except ValueError as exc:
        raise ValueError(f"cv could not split the data: {exc}") from exc
    if n_samples < n_splits:
        raise ValueError(
            f"Cannot learn out-of-fold weights from n_samples={n_samples} "
            f"with cv={n_splits} folds: each fold needs held-out samples. "
            "Pass more samples or a smaller cv (at least 2)."
        )
    # Indices as int32 where they fit: with cv=5 the training indices alone
    # are four times the rows. One fold's arrays from the splitter are alive
    # at a time.
    index_dtype = np.int32 if n_samples <= np.iinfo(np.int32).max else np.intp
    if type(cv) is KFold and not cv.shuffle:
        # A regressor's default (cv=5): consecutive folds, which need no
        # checks, made as two ranges each instead of through KFold's boolean
        # masks.
        return _consecutive_folds(n_samples, n_splits, index_dtype)
    splits = _split(cv, X, y, groups, index_dtype)
    _check_held_out_once(splits, n_samples)
    return splits


def _split(cv, X, y, groups, index_dtype):
    """``cv.split`` as a list, with errors that say what to pass."""
    try:
        return [
            (_compact(train, index_dtype), _compact(test, index_dtype))
            for train, test in cv.split(X, y, groups)
        ]
    except ValueError as exc:
        if groups is None and "groups" in str(exc):
            raise ValueError(
                f"cv={cv!r} splits by groups, but no groups were given: pass "
                "them to fit, e.g. fit(X, y, groups=groups)."
            ) from exc
        raise ValueError(
            f"cv could not split the data: {exc} Pass a smaller cv or more "
            "samples per class."
        ) from exc


def _check_held_out_once(splits, n_samples):
    """Raise unless the splits' indices are rows of the data and every row
    is held out exactly once."""
    held_out = []
    for train, test in splits:
        train, test = np.asarray(train), np.asarray(test)
        if (train.size and not 0 <= train.min() <= train.max() < n_samples) or (
            test.size and not 0 <= test.min() <= test.max() < n_samples
        ):
            raise ValueError(
                f"cv gave indices outside the {n_samples} training rows: a list "
                "of precomputed splits only fits the data it was computed for. "
                "Inside GridSearchCV or cross_validate the ensemble sees a "
                "subset of the rows; pass a splitter (e.g. GroupKFold(5), with "
                "groups routed to fit) instead of a list."
            )
        held_out.append(test)
    counts = np.bincount(np.concatenate(held_out), minlength=n_samples)
    if np.any(counts != 1):
        raise ValueError(
            "cv must put every sample in exactly one test fold (as KFold "
            f"does); {np.sum(counts == 0)} samples are never held out and "
            f"{np.sum(counts > 1)} more than once. Use a K-fold splitter."
        )


class OutOfFoldLayout:
    """Where the out-of-fold rows are stored: fold after fold, fold ``k`` at
    the rows ``folds[k]`` (slices) of the stores, so each fold's output is
    one contiguous write; the targets and sample weights the weights are
    learned with follow that order (copied only if it is not the rows' own,
    as with ``KFold`` without shuffling).

    Parameters
    ----------
    splits : list of (train, test)
        From `check_splits`.
    targets : ndarray
        Encoded targets (class codes or values), in the rows' order.
    sample_weight : ndarray or None
    """

    def __init__(self, splits, targets, sample_weight):
        self.splits = splits
        order = stored_order(splits)
        stops = np.cumsum([len(test) for _, test in splits])
        self.folds = [
            slice(stop - len(test), stop) for stop, (_, test) in zip(stops, splits)
        ]
        if order is None:
            self.targets, self.sample_weight = targets, sample_weight
        else:
            self.targets = targets[order]
            self.sample_weight = None if sample_weight is None else sample_weight[order]

    def inner_splits(self, inner_cv, *, classifier, seed):
        """Splits of the stored out-of-fold rows, to score candidates on.

        None: the folds of ``cv`` (weights learned on the out-of-fold rows
        of the other folds and scored on each fold's). An int: a shuffled
        (stratified, for classifiers) K-fold seeded by ``seed``, since the
        stored rows keep the order of the data, which may be sorted.
        Otherwise any splitter, given no metadata."""
        n_samples = self.targets.shape[0]
        if inner_cv is None:
            rows = np.arange(n_samples)
            return [(np.setdiff1d(rows, rows[fold]), rows[fold]) for fold in self.folds]
        if isinstance(inner_cv, Integral):
            splitter = (StratifiedKFold if classifier else KFold)(
                inner_cv, shuffle=True, random_state=seed
            )
        else:
            splitter = check_cv(inner_cv, self.targets, classifier=classifier)
        return list(splitter.split(np.zeros((n_samples, 1)), self.targets))
