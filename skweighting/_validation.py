"""Validation of what a user passes: the module list, y, cv, seeds.

Each check raises an error that says what was wrong and what to do.
"""

import numpy as np
from sklearn.base import clone
from sklearn.model_selection import KFold, check_cv
from sklearn.utils import check_random_state
from sklearn.utils._tags import get_tags
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import _num_samples, check_array, column_or_1d

from ._modules import FoldRows, describe, row_runs

MAX_SEED = np.iinfo(np.int32).max


def is_drop(module):
    return isinstance(module, str) and module == "drop"


def validate_estimators(owner, estimators, check_module):
    """Names and active (not ``'drop'``) modules of an estimator list.

    ``owner`` is the ensemble (for `_validate_names` and messages);
    ``check_module(name, module)`` is its kind-specific check of one module.
    """
    if (
        not isinstance(estimators, (list, tuple))
        or len(estimators) == 0
        or not all(
            isinstance(item, (tuple, list))
            and len(item) == 2
            and isinstance(item[0], str)
            for item in estimators
        )
    ):
        raise ValueError(
            "Invalid 'estimators': it must be a non-empty list of "
            "(name, estimator) tuples, e.g. [('lr', LogisticRegression()), "
            "('rf', RandomForestClassifier())]."
        )
    names, modules = zip(*estimators)
    owner._validate_names(names)
    active = [(n, m) for n, m in zip(names, modules) if not is_drop(m)]
    if not active:
        raise ValueError(
            "All estimators are dropped ('drop'). Keep at least one module."
        )
    for name, module in active:
        if isinstance(module, type):
            raise TypeError(
                f"Expected an estimator instance for module {name!r}, got the "
                f"class {module.__name__}: use {module.__name__}() or 'drop'."
            )
        if not hasattr(module, "fit"):
            raise TypeError(
                f"Module {name!r} is {module!r}, not an estimator; use an "
                "estimator instance (e.g. LogisticRegression()) or 'drop'."
            )
    for name, module in active:
        check_module(name, module)
    return list(names), active


def check_temperature(temperature):
    if not 1e-10 <= temperature <= 1e10:
        raise ValueError(
            f"temperature={temperature!r} is outside the numerically safe "
            "range [1e-10, 1e10]; the weights are already at the out-of-fold "
            "optimum or uniform well inside it. At the default alpha they "
            "move between temperatures of about 1 and a few thousand; "
            "SparseAttentionClassifierCV finds the range from the data."
        )


def reject_1d(X):
    # X is handed to the modules unconverted (it may be a DataFrame with
    # string columns), so this one check of check_array is done here.
    if getattr(X, "ndim", None) == 1:
        raise ValueError(
            "Expected 2D array, got 1D array instead. Reshape your data either "
            "using array.reshape(-1, 1) if your data has a single feature or "
            "array.reshape(1, -1) if it contains a single sample."
        )


def check_classification_y(y):
    """Class labels, 1-D, with at least two classes; returns ``(y, classes,
    codes)``, the codes in ``[0, n_classes)`` (one ``np.unique`` does both)."""
    y = column_or_1d(y, warn=True)
    labels = _small_int_labels(y) if y.dtype.kind in "biu" and y.size else None
    if labels is None:
        check_classification_targets(y)
        labels = np.unique(y, return_inverse=True)
    classes, codes = labels
    if len(classes) < 2:
        raise ValueError(
            f"y contains only one class ({classes.tolist()[0]!r}); a classifier "
            "needs samples of at least 2 classes."
        )
    return y, classes, codes.reshape(-1)


def _small_int_labels(y):
    """``np.unique(y, return_inverse=True)`` for 1-D integer labels in a
    range of at most ``len(y)`` values, by counting instead of sorting (a
    sort of a million labels costs as much as a pass over the modules'
    outputs); None for a wider range. 1-D integers are always valid class
    labels, so no other check is needed."""
    values = y.view(np.uint8) if y.dtype.kind == "b" else y
    low, high = values.min(), values.max()
    if int(high) - int(low) > y.size:
        return None
    # In intp, where a 64-bit label may wrap around: the differences, all
    # within [0, len(y)], are exact all the same.
    base = np.asarray(low).astype(np.intp)
    offset = values.astype(np.intp)
    offset -= base
    present = np.flatnonzero(np.bincount(offset))
    code_of = np.zeros(int(high) - int(low) + 1, dtype=np.intp)
    code_of[present] = np.arange(len(present))
    classes = (present + base).astype(values.dtype).astype(y.dtype)
    return classes, code_of[offset]


def check_regression_y(y, modules, owner_name):
    """Numeric targets, 1-D or 2-D (multi-output when every module can)."""
    try:
        y = check_array(y, ensure_2d=False, dtype="numeric", input_name="y")
    except ValueError as exc:
        if "NaN" in str(exc) or "infinity" in str(exc):
            raise
        raise ValueError(
            f"{owner_name} needs numeric regression targets in y ({exc}). For "
            "class labels, use classifier modules."
        ) from exc
    if y.ndim > 2:
        raise ValueError(f"y must be 1-D or 2-D; got shape {y.shape}.")
    if y.ndim == 2:
        single = [n for n, m in modules if not get_tags(m).target_tags.multi_output]
        if single:
            if y.shape[1] != 1:
                raise ValueError(
                    f"y has {y.shape[1]} outputs but modules {single} do not "
                    "support multi-output regression. Drop them or wrap them in "
                    "sklearn.multioutput.MultiOutputRegressor."
                )
            y = column_or_1d(y, warn=True)
    return y


def check_sample_weight_sum(sample_weight):
    if sample_weight is not None and not np.any(sample_weight > 0):
        raise ValueError(
            "sample_weight sums to zero; give some samples positive weight."
        )


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
    # are four times the rows, half the size of a one-output regression's
    # outputs in int64. One fold's arrays from the splitter are alive at a
    # time.
    index_dtype = np.int32 if n_samples <= np.iinfo(np.int32).max else np.intp
    if type(cv) is KFold and not cv.shuffle:
        # A regressor's default (cv=5): consecutive folds, which need no
        # checks. Made here as two ranges each instead of through KFold's
        # boolean masks: at 1,000,000 rows the splitter and the checks cost
        # as much as a one-output regression's whole weight step.
        return _consecutive_folds(n_samples, n_splits, index_dtype)
    try:
        splits = [
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
    return splits


def seed_modules(modules, random_state):
    """Clones of the modules; with a ``random_state``, every unseeded random
    module gets a seed drawn from it, so one random_state makes the whole
    fit reproducible."""
    if random_state is None:
        return [clone(m) for _, m in modules]
    rng = check_random_state(random_state)
    seeded = []
    for _, module in modules:
        module = clone(module)
        params = module.get_params(deep=True)
        unseeded = {
            key: int(rng.randint(MAX_SEED))
            for key, value in params.items()
            if (key == "random_state" or key.endswith("__random_state"))
            and value is None
        }
        if unseeded:
            module.set_params(**unseeded)
        seeded.append(module)
    return seeded


def check_module_kind(name, module, is_kind, kind, owner_name):
    if not is_kind(module):
        raise ValueError(
            f"{describe(name, module)} is not a {kind}, but {owner_name} "
            f"combines {kind}s. Use a {kind} or drop the module."
        )
