"""Validation of what a user passes: the module list, y, cv, seeds.

Each check raises an error that says what was wrong and what to do.
"""

import numpy as np
from sklearn.base import clone
from sklearn.utils import check_random_state, indexable
from sklearn.utils._tags import get_tags
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import (
    _check_sample_weight,
    _num_samples,
    check_array,
    column_or_1d,
    validate_data,
)

from ._modules import describe

MAX_SEED = np.iinfo(np.int32).max


def is_drop(module):
    return isinstance(module, str) and module == "drop"


def validate_estimators(owner, estimators):
    """Names and active (not ``'drop'``) modules of an estimator list.

    ``owner`` is the ensemble (for `_validate_names`).
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


def validate_fit_data(estimator, X, y, sample_weight):
    """X, y and sample_weight as ``fit`` uses them: X is handed to the
    modules unconverted (it may be a DataFrame with string columns); y is
    checked by the task."""
    reject_1d(X)
    X, y = validate_data(estimator, X, y, skip_check_array=True)
    X, y = indexable(X, y)  # also the lengths' check
    if _num_samples(X) == 0:
        raise ValueError("Found array with 0 sample(s); fit needs samples.")
    if sample_weight is not None:
        sample_weight = _check_sample_weight(
            sample_weight, X, dtype=np.float64, ensure_non_negative=True
        )
        check_sample_weight_sum(sample_weight)
    return X, y, sample_weight
