"""Shared plumbing of the sparse-attention ensembles.

Validation of the modules, the out-of-fold fits (one joblib call for every
(module, fold) fit and every final refit), alignment of class columns,
prediction, `transform` and tags live here. The math lives in
`skweighting._attention`.
"""

import warnings
from abc import ABCMeta, abstractmethod
from numbers import Integral, Real

import numpy as np
from sklearn.base import TransformerMixin, clone, is_classifier, is_regressor
from sklearn.ensemble._base import _BaseHeterogeneousEnsemble
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import check_cv
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import LabelEncoder
from sklearn.utils import Bunch, _safe_indexing, check_random_state, indexable
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils._tags import ClassifierTags, RegressorTags, get_tags
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.parallel import Parallel, delayed
from sklearn.utils.validation import (
    _check_feature_names_in,
    _check_sample_weight,
    _num_samples,
    check_array,
    check_is_fitted,
    column_or_1d,
    has_fit_parameter,
    validate_data,
)

try:  # scikit-learn >= 1.7
    from sklearn.utils._repr_html.estimator import _VisualBlock
except ImportError:  # scikit-learn 1.6
    from sklearn.utils._estimator_html_repr import _VisualBlock

from ._attention import (
    POOL_FLOOR,
    LinearMixture,
    LogPooling,
    SquaredError,
    clipped_log,
    learn_attention,
    normalised_weights,
    softmax,
)

_MAX_SEED = np.iinfo(np.int32).max


# --------------------------------------------------------------------------
# Helpers run inside the joblib workers
# --------------------------------------------------------------------------
def _describe(name, estimator):
    return f"module {name!r} ({type(estimator).__name__})"


def _named_error(exc, name, estimator, action):
    """The same kind of exception, with a message naming the failing module."""
    message = f"{_describe(name, estimator)} failed to {action}: {exc}"
    try:
        error = type(exc)(message)
    except Exception:  # exception types with unusual constructors
        error = RuntimeError(message)
    return error


def _sample_weight_params(name, estimator, sample_weight):
    """Fit parameters that pass ``sample_weight`` to one module."""
    if sample_weight is None or type(estimator).__name__ == "FrozenEstimator":
        return {}
    if has_fit_parameter(estimator, "sample_weight"):
        return {"sample_weight": sample_weight}
    if isinstance(estimator, Pipeline):
        last_name, last_step = estimator.steps[-1]
        if last_step != "passthrough" and has_fit_parameter(last_step, "sample_weight"):
            return {f"{last_name}__sample_weight": sample_weight}
    raise TypeError(
        f"sample_weight was given but {_describe(name, estimator)} does not "
        "accept sample_weight in fit. Drop this module (set it to 'drop'), "
        "replace it with one that supports sample weights, or fit without "
        "sample_weight."
    )


def _check_finite(output, name, estimator):
    if not np.all(np.isfinite(output)):
        raise ValueError(
            f"{_describe(name, estimator)} returned NaN or infinite outputs. "
            "Check this module (for example its input preprocessing) or drop it."
        )


def _module_output(estimator, name, X, method, class_columns, n_classes):
    """Outputs of one fitted module: class probabilities aligned to the
    ensemble's ``classes_`` for classifiers, 2-D predictions for regressors."""
    try:
        output = np.asarray(getattr(estimator, method)(X), dtype=np.float64)
    except Exception as exc:
        raise _named_error(exc, name, estimator, method) from exc
    _check_finite(output, name, estimator)
    if class_columns is None:
        return output.reshape(output.shape[0], -1)
    if output.ndim != 2 or output.shape[1] != len(class_columns):
        raise ValueError(
            f"{_describe(name, estimator)} returned predict_proba of shape "
            f"{output.shape}, but it has {len(class_columns)} classes_. Only "
            "single-output classifiers can be combined."
        )
    if (
        np.any(output < -1e-6)
        or np.any(output > 1 + 1e-6)
        or not np.allclose(output.sum(axis=1), 1.0, atol=1e-4)
    ):
        raise ValueError(
            f"{_describe(name, estimator)} returned predict_proba values that "
            "are not probabilities (each row must lie in [0, 1] and sum to 1). "
            "Fix the module, calibrate it, or drop it."
        )
    aligned = np.zeros((output.shape[0], n_classes))
    aligned[:, class_columns] = np.clip(output, 0.0, 1.0)
    return aligned


def _class_columns(estimator, name, classes):
    """Where each of ``estimator.classes_`` sits in ``classes``.

    Columns are matched by label, never by position: a module fitted on a fold
    that misses a class, or one that orders its classes differently, still
    lands in the right columns.
    """
    module_classes = np.asarray(estimator.classes_)
    columns = np.searchsorted(classes, module_classes)
    columns = np.clip(columns, 0, len(classes) - 1)
    unknown = classes[columns] != module_classes
    if np.any(unknown):
        raise ValueError(
            f"{_describe(name, estimator)} predicts classes "
            f"{module_classes[unknown].tolist()} that are not in y "
            f"{classes.tolist()}. Prefit modules must use the labels of y."
        )
    return columns


def _fit_module(estimator, name, X, y, sample_weight):
    fit_params = _sample_weight_params(name, estimator, sample_weight)
    try:
        return estimator.fit(X, y, **fit_params)
    except Exception as exc:
        raise _named_error(exc, name, estimator, "fit") from exc


def _fit_predict_fold(estimator, name, X, y, sample_weight, train, test, classes):
    """Fit one module on the training rows of a fold; return its outputs on
    the held-out rows."""
    X_train = _safe_indexing(X, train)
    weights = None if sample_weight is None else sample_weight[train]
    estimator = _fit_module(estimator, name, X_train, y[train], weights)
    if classes is None:
        method, columns, n_classes = "predict", None, None
    else:
        method = "predict_proba"
        columns, n_classes = _class_columns(estimator, name, classes), len(classes)
    return _module_output(
        estimator, name, _safe_indexing(X, test), method, columns, n_classes
    )


# --------------------------------------------------------------------------
# The shared base class
# --------------------------------------------------------------------------
class _BaseSparseAttention(
    TransformerMixin, _BaseHeterogeneousEnsemble, metaclass=ABCMeta
):
    """Shared logic of the sparse-attention ensembles. Not public."""

    _parameter_constraints: dict = {
        "estimators": [list, None],
        "temperature": [Interval(Real, 0, None, closed="neither")],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "cv": ["cv_object"],
        "solver": [StrOptions({"lbfgs", "adam"})],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "learning_rate": [Interval(Real, 0, None, closed="neither")],
        "batch_size": [None, Interval(Integral, 1, None, closed="left")],
        "n_jobs": [None, Integral],
        "verbose": ["verbose"],
        "random_state": ["random_state"],
    }

    @abstractmethod
    def __init__(
        self,
        estimators,
        *,
        temperature=1.0,
        alpha=1e-4,
        cv=5,
        solver="lbfgs",
        max_iter=1000,
        tol=1e-6,
        learning_rate=0.05,
        batch_size=None,
        n_jobs=None,
        verbose=0,
        random_state=None,
    ):
        super().__init__(estimators=estimators)
        self.temperature = temperature
        self.alpha = alpha
        self.cv = cv
        self.solver = solver
        self.max_iter = max_iter
        self.tol = tol
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.n_jobs = n_jobs
        self.verbose = verbose
        self.random_state = random_state

    # ---- what kind of ensemble this is ---------------------------------
    def _default_estimators(self):
        """The portfolio used when ``estimators=None``."""
        raise ValueError(
            f"{type(self).__name__} needs a non-empty list of (name, estimator) "
            "pairs in `estimators`."
        )

    def _estimator_list(self):
        if self.estimators is None:
            return self._default_estimators()
        return self.estimators

    @abstractmethod
    def _kind(self):
        """'classifier', 'regressor', or None when it cannot be told."""

    def _combination_name(self):
        return "linear"

    @property
    def named_estimators(self):
        """The modules by name, as given (unfitted); see `named_estimators_`.

        Returns
        -------
        :class:`~sklearn.utils.Bunch`
        """
        return Bunch(**dict(self._estimator_list()))

    # ---- validation -----------------------------------------------------
    def _validate_estimators(self):
        estimators = self._estimator_list()
        if len(estimators) == 0 or not all(
            isinstance(item, (tuple, list))
            and len(item) == 2
            and isinstance(item[0], str)
            for item in estimators
        ):
            raise ValueError(
                "Invalid 'estimators': it must be a non-empty list of "
                "(name, estimator) tuples, e.g. [('lr', LogisticRegression()), "
                "('rf', RandomForestClassifier())]."
            )
        names, modules = zip(*estimators)
        self._validate_names(names)
        active = [(n, m) for n, m in zip(names, modules) if not _is_drop(m)]
        if not active:
            raise ValueError(
                "All estimators are dropped ('drop'). Keep at least one module."
            )
        for name, module in active:
            if not hasattr(module, "fit"):
                raise TypeError(
                    f"Module {name!r} is {module!r}, not an estimator; "
                    "use an estimator instance or 'drop'."
                )
        if not 1e-10 <= self.temperature <= 1e10:
            raise ValueError(
                f"temperature={self.temperature!r} is outside the numerically "
                "safe range [1e-10, 1e10]; the weights are already one-hot or "
                "uniform well inside it. The useful range is about 0.1 to 10."
            )
        kind = self._kind()
        if kind is None:
            classifiers = [n for n, m in active if is_classifier(m)]
            others = [n for n, m in active if not is_classifier(m)]
            raise ValueError(
                "SparseAttentionEnsemble takes its kind from its modules, which "
                "must be all classifiers or all regressors; got classifiers "
                f"{classifiers} and non-classifiers {others}. Split them into two "
                "ensembles or use SparseAttentionClassifier/Regressor."
            )
        is_kind = is_classifier if kind == "classifier" else is_regressor
        for name, module in active:
            if not is_kind(module):
                raise ValueError(
                    f"{_describe(name, module)} is not a {kind}, but "
                    f"{type(self).__name__} combines {kind}s. Use a {kind} or "
                    "drop the module."
                )
            if kind == "classifier" and not hasattr(module, "predict_proba"):
                raise ValueError(
                    f"{_describe(name, module)} has no predict_proba, which the "
                    "ensemble combines. Use a probabilistic classifier, e.g. "
                    "wrap it in CalibratedClassifierCV, or set probability=True "
                    "for SVC."
                )
        return names, active

    def _validate_y(self, y, modules):
        if self._kind() == "classifier":
            y = column_or_1d(y, warn=True)
            check_classification_targets(y)
            self._label_encoder = LabelEncoder().fit(y)
            self.classes_ = self._label_encoder.classes_
            if len(self.classes_) < 2:
                raise ValueError(
                    f"y contains only one class ({self.classes_.tolist()[0]!r}); a "
                    "classifier needs samples of at least 2 classes."
                )
            return y
        try:
            y = check_array(y, ensure_2d=False, dtype="numeric", input_name="y")
        except ValueError as exc:
            if "NaN" in str(exc) or "infinity" in str(exc):
                raise
            raise ValueError(
                f"{type(self).__name__} needs numeric regression targets in y "
                f"({exc}). For class labels, use classifier modules."
            ) from exc
        multi_output_modules = all(
            get_tags(module).target_tags.multi_output for _, module in modules
        )
        if y.ndim == 2 and not multi_output_modules:
            if y.shape[1] != 1:
                single = [
                    n for n, m in modules if not get_tags(m).target_tags.multi_output
                ]
                raise ValueError(
                    f"y has {y.shape[1]} outputs but modules {single} do not "
                    "support multi-output regression. Drop them or wrap them in "
                    "sklearn.multioutput.MultiOutputRegressor."
                )
            y = column_or_1d(y, warn=True)
        if y.ndim > 2:
            raise ValueError(f"y must be 1-D or 2-D; got shape {y.shape}.")
        return y

    def _check_cv(self, X, y):
        cv = check_cv(self.cv, y, classifier=self._kind() == "classifier")
        n_samples = _num_samples(X)
        n_splits = cv.get_n_splits(X, y)
        if n_samples < n_splits:
            raise ValueError(
                f"Cannot learn out-of-fold weights from n_samples={n_samples} "
                f"with cv={n_splits} folds: each fold needs held-out samples. "
                "Pass more samples or a smaller cv (at least 2)."
            )
        try:
            splits = list(cv.split(X, y))
        except ValueError as exc:
            raise ValueError(
                f"cv could not split the data: {exc} Pass a smaller cv or more "
                "samples per class."
            ) from exc
        counts = np.zeros(n_samples, dtype=int)
        for _, test in splits:
            counts[test] += 1
        if np.any(counts != 1):
            raise ValueError(
                "cv must put every sample in exactly one test fold (as KFold "
                f"does); {np.sum(counts == 0)} samples are never held out and "
                f"{np.sum(counts > 1)} more than once. Use a K-fold splitter."
            )
        return splits

    def _seed_modules(self, modules):
        """Give every unseeded random module a seed drawn from random_state,
        so one random_state makes the whole fit reproducible."""
        if self.random_state is None:
            return [clone(m) for _, m in modules]
        rng = check_random_state(self.random_state)
        seeded = []
        for _, module in modules:
            module = clone(module)
            params = module.get_params(deep=True)
            unseeded = {
                key: int(rng.randint(_MAX_SEED))
                for key, value in params.items()
                if (key == "random_state" or key.endswith("__random_state"))
                and value is None
            }
            if unseeded:
                module.set_params(**unseeded)
            seeded.append(module)
        return seeded

    # ---- fit ------------------------------------------------------------
    def _fit(self, X, y, sample_weight=None):
        names, modules = self._validate_estimators()
        _reject_1d(X)
        X, y = validate_data(self, X, y, skip_check_array=True)
        X = indexable(X)[0]
        if _num_samples(X) == 0:
            raise ValueError("Found array with 0 sample(s); fit needs samples.")
        y = self._validate_y(y, modules)
        if sample_weight is not None:
            sample_weight = _check_sample_weight(
                sample_weight, X, dtype=np.float64, ensure_non_negative=True
            )
            if not np.any(sample_weight > 0):
                raise ValueError(
                    "sample_weight sums to zero; give some samples positive weight."
                )
            for name, module in modules:
                _sample_weight_params(name, module, sample_weight)
        classifier = self._kind() == "classifier"
        classes = self.classes_ if classifier else None
        self.combine_ = self._combination_name()
        splits = self._check_cv(X, y)
        fitting = self._seed_modules(modules)
        module_names = [name for name, _ in modules]

        # One joblib call for every (module, fold) fit and every final refit,
        # so n_jobs (or a dask/ray backend) sees all the work at once.
        tasks = []
        for name, module in zip(module_names, fitting):
            for train, test in splits:
                tasks.append(
                    delayed(_fit_predict_fold)(
                        clone(module), name, X, y, sample_weight, train, test, classes
                    )
                )
            tasks.append(delayed(_fit_module)(clone(module), name, X, y, sample_weight))
        self.module_names_ = module_names
        self._n_outputs = 1 if classifier or y.ndim == 1 else y.shape[1]
        self._y_ndim = y.ndim
        # Each fold's outputs are written into one preallocated array as they
        # arrive, so no more than one array's worth of them is ever alive.
        outputs, write = self._out_of_fold_writer(len(modules), y, sample_weight)
        n_folds = len(splits)
        self.estimators_ = []
        stream = Parallel(
            n_jobs=self.n_jobs, verbose=self.verbose, return_as="generator"
        )(tasks)
        for index, result in enumerate(stream):
            module, fold = divmod(index, n_folds + 1)
            if fold == n_folds:
                self.estimators_.append(result)
            else:
                write(module, splits[fold][1], result)
        self.named_estimators_ = Bunch()
        fitted = iter(self.estimators_)
        for name, module in zip(names, [m for _, m in self._estimator_list()]):
            self.named_estimators_[name] = "drop" if _is_drop(module) else next(fitted)
        if classifier:
            self._class_columns = [
                _class_columns(est, name, classes)
                for name, est in zip(module_names, self.estimators_)
            ]
        combination = self._build_combination(outputs, y, sample_weight)
        self._learn_weights(combination)
        return self

    def _out_of_fold_writer(self, n_modules, y, sample_weight):
        """Preallocate what the objective needs from the out-of-fold outputs.

        Returns the array and ``write(module, test_rows, output)``, which stores
        one fold's outputs: the whole class probabilities (log pooling), only
        the true class's (linear mixture), or the scaled errors (regression).
        """
        n_samples = y.shape[0]
        if self._kind() == "classifier":
            codes = self._label_encoder.transform(y)
            if self.combine_ == "log":
                proba = np.empty((n_modules, n_samples, len(self.classes_)))

                def write(module, test, output):
                    proba[module, test] = output

                return proba, write
            proba_true = np.empty((n_samples, n_modules))

            def write(module, test, output):
                proba_true[test, module] = output[np.arange(len(test)), codes[test]]

            return proba_true, write

        y2 = y.reshape(n_samples, -1)
        weights = normalised_weights(sample_weight, n_samples)
        # Measure the spread on y / max|y|, so that huge y cannot overflow.
        magnitude = np.max(np.abs(y2), axis=0)
        magnitude[magnitude == 0] = 1.0
        unit = y2 / magnitude
        spread = np.sqrt(weights @ (unit - weights @ unit) ** 2)
        # A constant output has no spread to normalise by; leave it in units.
        spread[spread <= 1e-12] = 1.0 / magnitude[spread <= 1e-12]
        scale = spread * magnitude
        errors = np.empty((n_samples, y2.shape[1], n_modules))

        def write(module, test, output):
            if output.shape[1] != y2.shape[1]:
                raise ValueError(
                    f"module {self.module_names_[module]!r} predicted "
                    f"{output.shape[1]} outputs for a y with {y2.shape[1]}."
                )
            errors[test, :, module] = (output - y2[test]) / scale

        return errors, write

    def _build_combination(self, outputs, y, sample_weight):
        """Turn the assembled out-of-fold outputs, in place, into the
        combination the objective scores; record each module's own score."""
        if self._kind() == "classifier":
            codes = self._label_encoder.transform(y)
            if self.combine_ == "log":
                true_proba = outputs[:, np.arange(y.shape[0]), codes]
                clipped_log(outputs, out=outputs, floor=POOL_FLOOR)
                combination = LogPooling(outputs, codes, sample_weight)
                self.oof_scores_ = clipped_log(true_proba) @ combination.sample_weight
                return combination
            combination = LinearMixture(outputs, sample_weight)
            self.oof_scores_ = combination.sample_weight @ clipped_log(outputs.copy())
            return combination

        with np.errstate(over="ignore", invalid="ignore"):
            combination = SquaredError(outputs, sample_weight)
        overflowing = ~np.isfinite(np.diag(combination.gram))
        if np.any(overflowing):
            raise ValueError(
                "The squared errors of modules "
                f"{[n for n, o in zip(self.module_names_, overflowing) if o]} "
                "overflow: their predictions are far outside the range of y. "
                "Fix or drop them."
            )
        # Variance-normalised MSE of one module is 1 - R^2 (mean over outputs).
        self.oof_scores_ = 1.0 - np.diag(combination.gram)
        return combination

    def _learn_weights(self, combination):
        seed = check_random_state(self.random_state).randint(_MAX_SEED)
        fit = learn_attention(
            combination,
            temperature=self.temperature,
            alpha=self.alpha,
            solver=self.solver,
            max_iter=self.max_iter,
            tol=self.tol,
            learning_rate=self.learning_rate,
            batch_size=self.batch_size,
            random_state=seed,
        )
        self.attention_logits_ = fit.logits
        self.attention_weights_ = softmax(fit.logits, self.temperature)
        if not np.all(np.isfinite(self.attention_weights_)):
            raise FloatingPointError(
                "Learning the attention weights produced non-finite values; "
                "try a larger alpha or temperature."
            )
        if self.combine_ == "log":
            self.output_scale_ = float(np.exp(fit.extra[0]))
        self.n_iter_ = fit.n_iter
        self.loss_curve_ = fit.loss_curve
        if not fit.converged:
            warnings.warn(
                f"{type(self).__name__}: the {self.solver!r} solver did not "
                f"converge in max_iter={self.max_iter} iterations. Increase "
                "max_iter, or loosen tol.",
                ConvergenceWarning,
            )
        if self.verbose:
            print(
                f"[{type(self).__name__}] {self.solver} converged={fit.converged} "
                f"in {fit.n_iter} iterations; weights "
                + ", ".join(
                    f"{n}={w:.3f}"
                    for n, w in zip(self.module_names_, self.attention_weights_)
                )
            )

    # ---- prediction -----------------------------------------------------
    def _check_X(self, X):
        check_is_fitted(self)
        _reject_1d(X)
        validate_data(self, X, reset=False, skip_check_array=True)
        return X

    def _outputs(self, X, only_weighted=False):
        """Outputs of every module (or only of those with non-zero weight)."""
        classifier = self._kind() == "classifier"
        method = "predict_proba" if classifier else "predict"
        outputs = []
        for m, (name, est) in enumerate(zip(self.module_names_, self.estimators_)):
            if only_weighted and self.attention_weights_[m] == 0.0:
                outputs.append(None)  # never called: an exact zero weight
                continue
            columns = self._class_columns[m] if classifier else None
            n_classes = len(self.classes_) if classifier else None
            outputs.append(_module_output(est, name, X, method, columns, n_classes))
        return outputs

    def _predict_proba(self, X):
        X = self._check_X(X)
        outputs = self._outputs(X, only_weighted=True)
        weights = self.attention_weights_
        if self.combine_ == "log":
            pooled = sum(
                w * clipped_log(out, out=out, floor=POOL_FLOOR)
                for w, out in zip(weights, outputs)
                if out is not None
            )
            scores = self.output_scale_ * pooled
            scores -= scores.max(axis=1, keepdims=True)
            proba = np.exp(scores)
        else:
            proba = sum(w * out for w, out in zip(weights, outputs) if out is not None)
        return proba / proba.sum(axis=1, keepdims=True)

    def _predict_classes(self, X):
        proba = self._predict_proba(X)
        return self.classes_[np.argmax(proba, axis=1)]

    def _predict_values(self, X):
        X = self._check_X(X)
        outputs = self._outputs(X, only_weighted=True)
        prediction = sum(
            w * out
            for w, out in zip(self.attention_weights_, outputs)
            if out is not None
        )
        return prediction.ravel() if self._y_ndim == 1 else prediction

    def transform(self, X):
        """Stack the modules' outputs, as `VotingClassifier` does.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Input samples.

        Returns
        -------
        outputs : ndarray of shape (n_samples, n_modules * n_columns)
            For classifiers, each module's class probabilities (columns
            aligned to ``classes_``); for regressors, each module's
            predictions. Modules are in the order of ``estimators_``.
        """
        X = self._check_X(X)
        return np.hstack(self._outputs(X))

    def get_feature_names_out(self, input_features=None):
        """Names of the columns of `transform`.

        Parameters
        ----------
        input_features : array-like of str or None, default=None
            Only checked against ``feature_names_in_``; not used otherwise.

        Returns
        -------
        feature_names_out : ndarray of str objects
            ``"<class>_<module>_<label>"`` for classifiers,
            ``"<class>_<module>"`` (one output) or ``"<class>_<module><j>"``
            (several) for regressors.
        """
        check_is_fitted(self)
        _check_feature_names_in(self, input_features, generate_names=False)
        prefix = type(self).__name__.lower()
        classifier = self._kind() == "classifier"
        names = []
        for name in self.module_names_:
            if classifier:
                names.extend(f"{prefix}_{name}_{label}" for label in self.classes_)
            elif self._n_outputs == 1:
                names.append(f"{prefix}_{name}")
            else:
                names.extend(f"{prefix}_{name}{j}" for j in range(self._n_outputs))
        return np.asarray(names, dtype=object)

    # ---- tags and display -------------------------------------------------
    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = True
        try:
            modules = [m for _, m in self._estimator_list() if not _is_drop(m)]
            module_tags = [get_tags(m) for m in modules]
        except Exception:  # invalid `estimators`; fit will say what is wrong
            return tags
        tags.input_tags.allow_nan = all(t.input_tags.allow_nan for t in module_tags)
        tags.input_tags.sparse = all(t.input_tags.sparse for t in module_tags)
        tags.input_tags.categorical = all(t.input_tags.categorical for t in module_tags)
        tags.input_tags.string = all(t.input_tags.string for t in module_tags)
        kind = self._kind()
        if kind == "classifier":
            tags.estimator_type = "classifier"
            tags.classifier_tags = ClassifierTags()
            tags.classifier_tags.multi_class = all(
                t.classifier_tags is None or t.classifier_tags.multi_class
                for t in module_tags
            )
        elif kind == "regressor":
            tags.estimator_type = "regressor"
            tags.regressor_tags = RegressorTags()
            tags.target_tags.multi_output = bool(module_tags) and all(
                t.target_tags.multi_output for t in module_tags
            )
        return tags

    def _sk_visual_block_(self):
        names, modules = zip(*self._estimator_list())
        return _VisualBlock("parallel", modules, names=names)


def _reject_1d(X):
    # X is handed to the modules unconverted (it may be a DataFrame with
    # string columns), so this one check of check_array is done here.
    if getattr(X, "ndim", None) == 1:
        raise ValueError(
            "Expected 2D array, got 1D array instead. Reshape your data either "
            "using array.reshape(-1, 1) if your data has a single feature or "
            "array.reshape(1, -1) if it contains a single sample."
        )


def _is_drop(module):
    return isinstance(module, str) and module == "drop"
