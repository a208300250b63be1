"""The fit / predict orchestration of the sparse-attention ensembles.

`fit` reads like the recipe: validate; fit every (module, fold) pair in one
joblib call, writing each fold's output into the combination's out-of-fold
store as it arrives; learn the weights; refit, in a second joblib call, only
the modules with non-zero weight. Prediction calls only those modules.

What differs between classifiers and regressors (the y checks, which
combination to use, tags) are hooks of the public classes; what differs
between ways of combining is the combination object
(`skweighting._combinations`); the math is in `_losses`, `_normalisers` and
`_solvers`.
"""

import time
import warnings
from abc import ABCMeta, abstractmethod
from inspect import Parameter, signature
from numbers import Integral, Real

import numpy as np
from sklearn.base import TransformerMixin, _fit_context, clone
from sklearn.ensemble._base import _BaseHeterogeneousEnsemble
from sklearn.exceptions import ConvergenceWarning
from sklearn.pipeline import Pipeline
from sklearn.utils import Bunch, _safe_indexing, check_random_state, indexable
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils._tags import get_tags
from sklearn.utils.metadata_routing import (
    MetadataRouter,
    MethodMapping,
    _routing_enabled,
    process_routing,
)
from sklearn.utils.parallel import Parallel, delayed
from sklearn.utils.validation import (
    _check_feature_names_in,
    _check_sample_weight,
    _num_samples,
    check_array,
    check_is_fitted,
    check_memory,
    has_fit_parameter,
    validate_data,
)

try:  # scikit-learn >= 1.7
    from sklearn.utils._repr_html.estimator import _VisualBlock
except ImportError:  # scikit-learn 1.6
    from sklearn.utils._estimator_html_repr import _VisualBlock
from sklearn.utils._user_interface import _message_with_time

from ._modules import (
    FoldBuffers,
    describe,
    fit_module,
    fit_predict_fold,
    fold_data,
    fold_params,
)
from ._normalisers import NORMALISERS
from ._pruning import prune
from ._solvers import learn_attention, one_blas_thread, warn_deprecated_adam
from ._validation import (
    MAX_SEED,
    check_sample_weight_sum,
    check_splits,
    check_temperature,
    is_drop,
    reject_1d,
    seed_modules,
    stored_order,
    validate_estimators,
)


def _accepts_sample_weight(estimator):
    """Whether ``estimator.fit`` takes ``sample_weight``, by name or through
    ``**kwargs`` (as ``GridSearchCV`` or a nested ``VotingClassifier`` do)."""
    if has_fit_parameter(estimator, "sample_weight"):
        return True
    try:
        parameters = signature(estimator.fit).parameters.values()
    except (TypeError, ValueError):
        return False
    return any(p.kind == Parameter.VAR_KEYWORD for p in parameters)


def _unrouted_sample_weight(name, estimator, sample_weight):
    """Fit parameters passing ``sample_weight`` to one module when metadata
    routing is off: as ``VotingClassifier`` does, to every module whose
    ``fit`` accepts it; to a Pipeline, through its last step (a Pipeline
    takes no bare ``sample_weight`` without routing)."""
    if sample_weight is None or type(estimator).__name__ == "FrozenEstimator":
        return {}
    if isinstance(estimator, Pipeline):
        last_name, last_step = estimator.steps[-1]
        if last_step != "passthrough" and _accepts_sample_weight(last_step):
            return {f"{last_name}__sample_weight": sample_weight}
    elif _accepts_sample_weight(estimator):
        return {"sample_weight": sample_weight}
    raise TypeError(
        f"sample_weight was given but {describe(name, estimator)} does not "
        "accept sample_weight in fit. Drop this module (set it to 'drop'), "
        "replace it with one that supports sample weights, or fit without "
        "sample_weight."
    )


def _request_sample_weight(module):
    """With routing on, make a default-portfolio module request sample
    weights as the unrouted path passes them (in a Pipeline, to its last
    step only): the default portfolio honours sample_weight either way."""
    steps = [s for _, s in module.steps] if isinstance(module, Pipeline) else [module]
    for position, step in enumerate(steps, start=1 - len(steps)):
        if step != "passthrough" and has_fit_parameter(step, "sample_weight"):
            step.set_fit_request(sample_weight=position == 0)
    return module


def _stream(tasks, n_jobs, verbose):
    """Run the tasks ``tasks()`` yields through joblib, yielding results in
    order as they finish, so each can be stored and freed at once; backends
    that cannot stream (e.g. Ray's) return a list instead.

    One task per batch: each is a module's fit, far longer than joblib's
    dispatch, and joblib's automatic batching would pack a slow fit together
    with the fast ones after it on one worker."""
    try:
        return Parallel(
            n_jobs=n_jobs, verbose=verbose, batch_size=1, return_as="generator"
        )(tasks())
    except ValueError as exc:
        if "return_as" not in str(exc):
            raise
        return Parallel(n_jobs=n_jobs, verbose=verbose, batch_size=1)(tasks())


def _timed(function, *args):
    start = time.perf_counter()
    result = function(*args)
    return result, time.perf_counter() - start


# Predict calls the modules on blocks of rows whose (rows, K) output takes
# about this many bytes (at least PREDICT_MIN_BLOCK_ROWS rows, so that each
# module's per-call overhead stays small against its work). Measured at
# 1,000,000 rows, 10 modules and 10 classes (free modules): beyond the
# modules' own work, the linear mixture's predict_proba fell from 3.6 to 2.9
# passes over the tensor, regression's predict (10 outputs) from 3.3 to 1.6;
# the modules' own work fell too (4.6 to 2.8 passes), their outputs being
# written into cache-sized arrays.
PREDICT_BLOCK_BYTES = 4 * 2**20
PREDICT_MIN_BLOCK_ROWS = 4096


class _BaseSparseAttention(
    TransformerMixin, _BaseHeterogeneousEnsemble, metaclass=ABCMeta
):
    """Shared logic of the sparse-attention ensembles. Not public."""

    _parameter_constraints: dict = {
        "estimators": [list, None],
        "temperature": [Interval(Real, 0, None, closed="neither")],
        "normaliser": [StrOptions(set(NORMALISERS))],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "prune_tol": [Interval(Real, 0, None, closed="left")],
        "cv": ["cv_object"],
        "solver": [StrOptions({"lbfgs", "adam"})],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "learning_rate": [Interval(Real, 0, None, closed="neither")],
        "batch_size": [None, Interval(Integral, 1, None, closed="left")],
        "memory": [None, str, HasMethods(["cache"])],
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
        normaliser="softmax",
        alpha=1e-4,
        prune_tol=1.0,
        cv=5,
        solver="lbfgs",
        max_iter=1000,
        tol=1e-6,
        learning_rate=0.05,
        batch_size=None,
        memory=None,
        n_jobs=None,
        verbose=0,
        random_state=None,
    ):
        super().__init__(estimators=estimators)
        self.temperature = temperature
        self.normaliser = normaliser
        self.alpha = alpha
        self.prune_tol = prune_tol
        self.cv = cv
        self.solver = solver
        self.max_iter = max_iter
        self.tol = tol
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.memory = memory
        self.n_jobs = n_jobs
        self.verbose = verbose
        self.random_state = random_state

    # ---- hooks of the public classes ------------------------------------
    def _default_estimators(self):
        """The portfolio used when ``estimators=None``."""
        raise ValueError(
            f"{type(self).__name__} needs a non-empty list of (name, estimator) "
            "pairs in `estimators`."
        )

    @abstractmethod
    def _check_module(self, name, module):
        """Raise if ``module`` is not of the kind this ensemble combines."""

    @abstractmethod
    def _prepare_targets(self, y, modules, sample_weight):
        """Validate y; return ``(y_for_modules, targets, combinations)``:
        what the modules are fitted on, what the combinations' stores are
        built from, and the candidate combination objects (one unless the
        ensemble chooses between several)."""

    @abstractmethod
    def _is_classifier_like(self):
        """Whether ``cv`` as an int means stratified folds."""

    # ---- the module list --------------------------------------------------
    def _estimator_list(self):
        if self.estimators is None:
            modules = self._default_estimators()
            if _routing_enabled():
                modules = [(n, _request_sample_weight(m)) for n, m in modules]
            return modules
        return self.estimators

    @property
    def named_estimators(self):
        """The modules by name, as given (unfitted); see `named_estimators_`.

        Returns
        -------
        :class:`~sklearn.utils.Bunch`
        """
        return Bunch(**dict(self._estimator_list()))

    def _validate_estimators(self):
        names, active = validate_estimators(
            self, self._estimator_list(), self._check_module
        )
        self._validate_temperature()
        return names, active

    def _validate_temperature(self):
        check_temperature(self.temperature)

    def get_metadata_routing(self):
        """Get metadata routing of this object.

        The ensemble consumes ``sample_weight`` itself (in the weights'
        objective), routes what each module requests to its ``fit``, and
        what the ``cv`` splitter requests (e.g. ``groups``) to its ``split``.
        See :ref:`User Guide <metadata_routing>`.

        Returns
        -------
        routing : MetadataRouter
            A :class:`~sklearn.utils.metadata_routing.MetadataRouter`
            encapsulating routing information.
        """
        router = MetadataRouter(owner=self).add_self_request(self)
        modules = [(n, m) for n, m in self._estimator_list() if not is_drop(m)]
        for name, module in modules:
            router.add(
                **{name: module},
                method_mapping=MethodMapping().add(caller="fit", callee="fit"),
            )
        if "splitter" not in dict(modules):
            router.add(
                splitter=self.cv,
                method_mapping=MethodMapping().add(caller="fit", callee="split"),
            )
        return router

    def _route_metadata(self, modules, sample_weight, fit_params):
        """What each module's ``fit`` and the splitter's ``split`` receive.

        With metadata routing on, exactly what each requests (as in
        `VotingClassifier` and `StackingClassifier`). Off, ``sample_weight``
        goes to every module that accepts it and ``groups`` to the splitter,
        as in `cross_validate`; anything else is an error.
        """
        if _routing_enabled():
            if "splitter" in dict(modules):
                raise ValueError(
                    "A module named 'splitter' clashes with the cv splitter in "
                    "metadata routing; rename the module."
                )
            routed = process_routing(
                self, "fit", sample_weight=sample_weight, **fit_params
            )
            return [routed[name].fit for name, _ in modules], routed.splitter.split
        extra = set(fit_params) - {"groups"}
        if extra:
            raise ValueError(
                f"Passing {sorted(extra)} to {type(self).__name__}.fit is only "
                "supported with metadata routing, which routes them to the "
                "modules that request them: sklearn.set_config("
                "enable_metadata_routing=True). Without it, fit takes "
                "sample_weight and groups."
            )
        module_params = [
            _unrouted_sample_weight(name, module, sample_weight)
            for name, module in modules
        ]
        return module_params, {"groups": fit_params.get("groups")}

    def _log(self, message, seconds):
        print(_message_with_time(type(self).__name__, message, seconds), flush=True)

    # ---- fit ----------------------------------------------------------------
    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y, sample_weight=None, **fit_params):
        """Fit the modules out-of-fold, learn the weights, refit the modules
        with non-zero weight.

        Parameters
        ----------
        X : {array-like, sparse matrix, DataFrame} of shape (n_samples, n_features)
            Training data, passed to the modules as is.

        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Class labels (classifiers) or target values (regressors;
            multi-output when every module supports it).

        sample_weight : array-like of shape (n_samples,), default=None
            Used in the weights' objective (and a CV estimator's inner
            scores), and passed to the modules: with metadata routing off,
            to every module whose ``fit`` accepts it (through ``**kwargs``
            too; to the last step of a Pipeline; a module that cannot take
            it raises an error naming it); with routing on, to the modules
            that request it (``set_fit_request(sample_weight=True)``; the
            default portfolio requests it).

        **fit_params : dict
            ``groups=`` reaches the ``cv`` splitter (e.g.
            :class:`~sklearn.model_selection.GroupKFold`). With metadata
            routing on (``sklearn.set_config(enable_metadata_routing=True)``),
            any metadata is routed to the modules' ``fit`` and the splitter's
            ``split`` that request it; with routing off, other parameters
            are an error.

        Returns
        -------
        self : object
            The fitted ensemble.
        """
        return self._fit(X, y, sample_weight, **fit_params)

    def _fit(self, X, y, sample_weight=None, **fit_params):
        for attribute in [a for a in vars(self) if a.endswith("_")]:
            delattr(self, attribute)  # nothing stale from a previous fit
        all_names, modules = self._validate_estimators()
        if getattr(self, "solver", "lbfgs") == "adam":
            warn_deprecated_adam()
        reject_1d(X)
        X, y = validate_data(self, X, y, skip_check_array=True)
        # Also the lengths' check (the splitter no longer makes it: see
        # check_splits).
        X, y = indexable(X, y)
        if _num_samples(X) == 0:
            raise ValueError("Found array with 0 sample(s); fit needs samples.")
        if sample_weight is not None:
            sample_weight = _check_sample_weight(
                sample_weight, X, dtype=np.float64, ensure_non_negative=True
            )
            check_sample_weight_sum(sample_weight)
        y, targets, combinations = self._prepare_targets(y, modules, sample_weight)
        fit_params, split_params = self._route_metadata(
            modules, sample_weight, fit_params
        )
        splits = check_splits(
            self.cv, X, y, classifier=self._is_classifier_like(), **split_params
        )
        memory = check_memory(self.memory)
        memory = None if memory.location is None else memory
        names = [name for name, _ in modules]
        fitting = seed_modules(modules, self.random_state)
        self.module_names_ = names

        # The stores hold the out-of-fold rows fold after fold, so that each
        # fold's output is one contiguous write; the targets and weights the
        # weights are learned with follow that order.
        order = stored_order(splits)
        stops = np.cumsum([len(test) for _, test in splits])
        folds = [
            slice(stop - len(test), stop) for stop, (_, test) in zip(stops, splits)
        ]
        if order is None:
            # Folds of consecutive rows in order (KFold without shuffling):
            # the stores' order is the rows' own, no copy of the targets.
            stored_targets, stored_weight = targets, sample_weight
        else:
            stored_targets = targets[order]
            stored_weight = None if sample_weight is None else sample_weight[order]

        # 1. Every (module, fold) fit in one joblib call, then the weights,
        # then the refits of the modules with non-zero weight in a second.
        stores, times, refits = self._fit_out_of_fold(
            X,
            y,
            fitting,
            names,
            fit_params,
            splits,
            folds,
            combinations,
            stored_targets,
            stored_weight,
            memory,
        )
        losses = [c.objective(store) for c, store in zip(combinations, stores)]
        self.oof_scores_ = combinations[0].module_scores(stores[0])
        del stores
        start = time.perf_counter()
        with one_blas_thread():
            combination, fit = self._learn(losses, combinations, stored_targets, folds)
            fit = self._prune(losses[combinations.index(combination)], fit, folds)
        self._set_weights(fit, combination, time.perf_counter() - start)
        del losses
        self._refit(X, y, fitting, names, all_names, fit_params, memory, times, refits)
        return self

    def _fit_out_of_fold(
        self,
        X,
        y,
        fitting,
        names,
        fit_params,
        splits,
        folds,
        combinations,
        targets,
        sample_weight,
        memory,
    ):
        """Fit every (module, fold) pair in one joblib call, so n_jobs (or a
        dask/ray backend) sees all of them at once, and write each fold's
        output into every combination's store (at the fold's rows ``folds``)
        as it arrives: no more than the stores' worth of outputs is ever
        alive.

        When no weight can be exactly zero (`_refits_before_weights`), the
        refits on all rows go first in the same call: the workers then never
        wait at the barrier between the folds and the refits, and the
        largest tasks start first. Returns the stores, the (fit, predict)
        seconds of each module over the folds, and those refits (``(module,
        seconds)`` per module) or None."""
        stores = [
            c.allocate(
                list(zip(names, fitting)),
                targets,
                sample_weight,
                keep_outputs=self._keeps_outputs,
                keep_rows=self._keeps_rows,
            )
            for c in combinations
        ]
        reader = combinations[0]  # every candidate reads the outputs alike

        refit_first = self._refits_before_weights
        n_folds = len(splits)
        times = np.zeros((len(names), 2))  # fit, predict seconds per module
        # (fold, module) of each task in the order it is yielded (fold None
        # for a refit): joblib returns the results in that order.
        keys = []
        done = [0] * n_folds  # results taken so far, per fold

        def tasks():
            if refit_first:
                for module, (name, estimator, params) in enumerate(
                    zip(names, fitting, fit_params)
                ):
                    keys.append((None, module))
                    yield delayed(_timed)(
                        fit_module, clone(estimator), name, X, y, params, memory
                    )
            # Fold after fold, so each fold's rows are sliced once for all
            # the modules; joblib draws tasks as it dispatches them, so only
            # a fold or two of slices is alive at a time.
            buffers = FoldBuffers()
            for fold, (train, test) in enumerate(splits):
                if fold and done[fold - 1] < len(names):
                    # The previous fold's modules may still be reading its
                    # rows (n_jobs > 1): copy into new arrays.
                    buffers = FoldBuffers()
                X_train, y_train, X_test = fold_data(X, y, train, test, buffers)
                # Within a fold, the modules that took longest on the folds
                # already done go first: with n_jobs > 1 a long fit
                # dispatched last would keep one worker busy while the
                # others wait for it (longest-processing-time-first).
                for module in np.argsort(-times.sum(axis=1), kind="stable"):
                    keys.append((fold, module))
                    yield delayed(fit_predict_fold)(
                        clone(fitting[module]),
                        names[module],
                        X_train,
                        y_train,
                        fold_params(X, fit_params[module], train),
                        X_test,
                        reader,
                        memory,
                    )

        joblib_verbose = max(self.verbose - 2, 0)
        results = iter(_stream(tasks, self.n_jobs, joblib_verbose))
        refits = [next(results) for _ in names] if refit_first else None
        for index, (output, fit_seconds, predict_seconds) in enumerate(
            results, start=len(names) if refit_first else 0
        ):
            fold, module = keys[index]
            for combination, store in zip(combinations, stores):
                combination.write(store, module, folds[fold], output)
            done[fold] += 1
            times[module] += fit_seconds, predict_seconds
            if self.verbose >= 2:
                self._log(
                    f"(fold {fold + 1} of {n_folds}) {names[module]}",
                    fit_seconds + predict_seconds,
                )
        if self.verbose:
            # After the last fold: a regression store completes its scores
            # (the Gram matrix's diagonal) only once every module is in.
            scores = reader.module_scores(stores[0])
            for module, name in enumerate(names):
                self._log(
                    f"(module {module + 1} of {len(names)}) {name}: "
                    f"{n_folds} folds, {reader.score_name}={scores[module]:.4g}",
                    times[module].sum(),
                )
        return stores, times, refits

    # Whether the stores keep every module output (for scores that need the
    # combined predictions, not only the loss).
    _keeps_outputs = False

    @property
    def _keeps_rows(self):
        # Whether the losses must be evaluable on a subset of rows: Adam's
        # mini-batches.
        return getattr(self, "solver", "lbfgs") == "adam"

    def _learn(self, losses, combinations, targets, folds):
        """The weights: ``(combination, AttentionFit)`` of the chosen
        candidate. Here, the one combination at the set temperature.

        ``targets`` and the losses' rows are in the stores' order: the
        out-of-fold rows fold after fold, fold ``k`` at rows ``folds[k]``."""
        return combinations[0], self._learn_attention(losses[0])

    def _learn_attention(self, loss, **options):
        """`learn_attention` on ``loss`` with the estimator's own parameters
        (``options`` add to them: a warm start, modules held at zero)."""
        return learn_attention(
            loss,
            temperature=self.temperature,
            alpha=self.alpha,
            normaliser=self.normaliser,
            solver=self.solver,
            max_iter=self.max_iter,
            tol=self.tol,
            learning_rate=self.learning_rate,
            batch_size=self.batch_size,
            random_state=check_random_state(self.random_state).randint(MAX_SEED),
            **options,
        )

    def _prune(self, loss, fit, folds):
        """Drop the modules whose gain in out-of-fold loss is within its
        noise (`skweighting._pruning.prune`), then learn the other weights
        again with those held at zero. Only sparse normalisers prune: a
        softmax weight is never exactly zero."""
        normaliser = NORMALISERS[self.normaliser]
        if not normaliser.sparse or self.prune_tol == 0:
            return fit
        strength = self.alpha * self.temperature**2

        def penalty(weights, extra):
            # The rest of the objective: the logits' L2 penalty and any
            # penalty on the extra parameters.
            value = normaliser.penalty(weights)[0]
            return strength * value + loss.extra_penalty(extra)

        weights, extra = prune(
            loss, fit.weights, fit.extra, folds, self.prune_tol, penalty
        )
        dropped = (fit.weights > 0) & (weights == 0)
        if not dropped.any():
            return fit
        if self.verbose:
            names = [n for n, d in zip(self.module_names_, dropped) if d]
            self._log(f"pruned {names} (prune_tol={self.prune_tol:g})", 0.0)
        refit = self._learn_attention(
            loss,
            warm_start=fit._replace(weights=weights, extra=extra),
            fixed_zero=weights == 0,
            close_start=True,
        )
        return refit._replace(
            n_iter=fit.n_iter + refit.n_iter,
            loss_curve=np.concatenate([fit.loss_curve, refit.loss_curve]),
        )

    def _set_weights(self, fit, combination, seconds):
        if not (np.isfinite(fit.objective) and np.all(np.isfinite(fit.weights))):
            scores = np.where(np.isfinite(self.oof_scores_), self.oof_scores_, -np.inf)
            worst = int(np.argmin(scores))
            raise FloatingPointError(
                "Learning the attention weights overflowed: the objective became "
                f"non-finite. Module {self.module_names_[worst]!r} has the worst "
                f"out-of-fold score ({self.oof_scores_[worst]:.3g}); its outputs "
                "are probably too large or broken. Check or drop it, or try a "
                "larger alpha or temperature."
            )
        self._combination = combination
        self.combine_ = combination.name
        self.attention_logits_ = fit.logits
        self.attention_weights_ = fit.weights
        for attribute, value in combination.fitted_extra(fit.extra).items():
            setattr(self, attribute, value)
        self._extra = fit.extra
        self.n_iter_ = fit.n_iter
        self.loss_curve_ = fit.loss_curve
        solver = getattr(self, "solver", "lbfgs")
        if not fit.converged:
            warnings.warn(
                f"{type(self).__name__}: the {solver!r} solver did not "
                f"converge in max_iter={self.max_iter} iterations. Increase "
                "max_iter, or loosen tol.",
                ConvergenceWarning,
            )
        if self.verbose:
            weights = ", ".join(
                f"{n}={w:.3g}"
                for n, w in zip(self.module_names_, self.attention_weights_)
            )
            self._log(
                f"weights ({solver}, {fit.n_iter} iterations, "
                f"converged={fit.converged}): {weights}",
                seconds,
            )

    @property
    def _refits_before_weights(self):
        # Softmax weights are never exactly zero (short of underflow), so
        # every module is refitted anyway: the refits need not wait for the
        # weights.
        return getattr(self, "normaliser", None) == "softmax"

    def _refit(
        self, X, y, fitting, names, all_names, fit_params, memory, times, refits=None
    ):
        """Refit only the modules with non-zero weight, on all the rows
        (unless ``refits`` already holds every module refitted)."""
        self.support_ = self.attention_weights_ > 0
        self.n_nonzero_ = int(np.count_nonzero(self.support_))
        kept = np.flatnonzero(self.support_)
        self._rejects_nan = not self.__sklearn_tags__().input_tags.allow_nan and all(
            get_tags(fitting[m]).input_tags.allow_nan for m in kept
        )
        if refits is None:
            # Longest first (by the module's time on the folds), so that with
            # n_jobs > 1 no worker is left with a long refit at the end.
            order = kept[np.argsort(-times[kept, 0], kind="stable")]
            done = Parallel(n_jobs=self.n_jobs, verbose=max(self.verbose - 2, 0))(
                delayed(_timed)(
                    fit_module, clone(fitting[m]), names[m], X, y, fit_params[m], memory
                )
                for m in order
            )
            refits = dict(zip(order, done))
        refits = [refits[m] for m in kept]
        self.estimators_ = [estimator for estimator, _ in refits]
        refit_seconds = np.zeros(len(names))
        for m, (_, elapsed) in zip(kept, refits):
            refit_seconds[m] = elapsed
            if self.verbose:
                self._log(f"refit {names[m]} on all rows", elapsed)
        fitted = dict(zip([names[m] for m in kept], self.estimators_))
        self.named_estimators_ = Bunch(
            **{name: fitted.get(name, "drop") for name in all_names}
        )
        self.modules_ = {
            "module": np.asarray(names, dtype=object),
            "weight": self.attention_weights_.copy(),
            "oof_score": self.oof_scores_.copy(),
            "pruned": ~self.support_,
            "fold_fit_time": times[:, 0],
            "fold_predict_time": times[:, 1],
            "refit_time": refit_seconds,
        }

    @property
    def output_scale_(self):
        """Deprecated name of `sharpness_`."""
        sharpness = self.sharpness_
        warnings.warn(
            "output_scale_ was renamed sharpness_ and will be removed in "
            "skweighting 0.3.",
            FutureWarning,
        )
        return sharpness

    # ---- prediction -----------------------------------------------------
    def _check_X(self, X):
        check_is_fitted(self)
        reject_1d(X)
        validate_data(self, X, reset=False, skip_check_array=True)
        if getattr(self, "_rejects_nan", False):
            # The modules left after pruning would pass NaN through, but the
            # ensemble's tags (and so its behaviour) cannot depend on which
            # modules its weights happened to keep.
            check_array(X, accept_sparse=True, dtype=None, ensure_all_finite=True)
        return X

    def _weighted_outputs(self, X, checked=False, deferred=False):
        """Outputs of the modules with non-zero weight (the only ones kept),
        one at a time (``deferred``: for the combination's ``combine``, which
        checks them as it folds them in)."""
        if not checked:
            X = self._check_X(X)
        names = [n for n, kept in zip(self.module_names_, self.support_) if kept]
        return (
            self._combination.read(estimator, name, X, deferred=deferred)
            for name, estimator in zip(names, self.estimators_)
        )

    def _combined(self, X):
        """The combination's prediction: probabilities or values.

        Above `PREDICT_BLOCK_BYTES` of one module's output, the modules are
        called on blocks of rows and each block is combined on its own: a
        block's outputs, and the total they are folded into, then stay in
        cache instead of streaming the whole (n, K) total through memory
        once per module; and no more than a block of one module's output is
        alive at a time."""
        X = self._check_X(X)
        weights = self.attention_weights_[self.support_]
        n_samples = _num_samples(X)
        block_rows = max(
            PREDICT_MIN_BLOCK_ROWS,
            PREDICT_BLOCK_BYTES // (8 * self._combination.n_columns),
        )
        if n_samples <= block_rows:
            outputs = self._weighted_outputs(X, checked=True, deferred=True)
            return self._combination.combine(outputs, weights, self._extra)
        combined = np.empty((n_samples, self._combination.n_columns))
        for start in range(0, n_samples, block_rows):
            rows = slice(start, min(start + block_rows, n_samples))
            outputs = self._weighted_outputs(
                _safe_indexing(X, rows), checked=True, deferred=True
            )
            block = self._combination.combine(
                outputs, weights, self._extra, out=combined[rows]
            )
        # The combination's own shape (a 1-D y gives 1-D predictions).
        return combined.reshape(-1, *block.shape[1:])

    def transform(self, X):
        """Stack the outputs of the modules in use, as `VotingClassifier` does.

        Modules with zero weight are neither refitted nor called: like
        ``'drop'`` modules they have no columns.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Input samples.

        Returns
        -------
        outputs : ndarray of shape (n_samples, n_nonzero_ * n_columns)
            For classifiers, each module's class probabilities (columns
            aligned to ``classes_``); for regressors, each module's
            predictions. Modules are in the order of ``estimators_``.
        """
        return np.hstack(list(self._weighted_outputs(X)))

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
            (several) for regressors; modules with zero weight have none.
        """
        check_is_fitted(self)
        _check_feature_names_in(self, input_features, generate_names=False)
        prefix = type(self).__name__.lower()
        names = []
        for name, kept in zip(self.module_names_, self.support_):
            if kept:
                names.extend(self._combination.output_names(prefix, name))
        return np.asarray(names, dtype=object)

    # ---- tags and display -------------------------------------------------
    def _module_tags(self):
        """Tags of the active modules; None when `estimators` is invalid."""
        try:
            return [get_tags(m) for _, m in self._estimator_list() if not is_drop(m)]
        except Exception:  # invalid `estimators`; fit will say what is wrong
            return None

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = True
        module_tags = self._module_tags()
        if module_tags:
            for name in ("allow_nan", "sparse", "categorical", "string"):
                setattr(
                    tags.input_tags,
                    name,
                    all(getattr(t.input_tags, name) for t in module_tags),
                )
        return tags

    def _sk_visual_block_(self):
        names, modules = zip(*self._estimator_list())
        return _VisualBlock("parallel", modules, names=names)
