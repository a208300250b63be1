"""What every sparse-attention ensemble shares: the modules, their
out-of-fold fits, the refits of the modules in use, and prediction.

`fit` reads like the recipe: validate; fit every (module, fold) pair in one
joblib call, writing each fold's output into the combinations' out-of-fold
stores as it arrives (`skweighting._out_of_fold`); learn the weights (the
one step each family owns: `skweighting._fixed` at a set temperature,
`skweighting._cv` along a path scored by an inner cross-validation); refit,
in a second joblib call, only the modules with non-zero weight. Prediction
calls only those modules.

What differs between classifying and regressing is the task
(`skweighting._tasks`); between ways of combining, the combination
(`skweighting._combinations`).
"""

import time
import warnings
from abc import ABCMeta, abstractmethod
from collections import namedtuple
from numbers import Integral, Real

import numpy as np
from sklearn.base import TransformerMixin, _fit_context
from sklearn.ensemble._base import _BaseHeterogeneousEnsemble
from sklearn.exceptions import ConvergenceWarning, FitFailedWarning
from sklearn.utils import Bunch, check_random_state
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils._tags import get_tags
from sklearn.utils._user_interface import _message_with_time
from sklearn.utils.metadata_routing import _routing_enabled
from sklearn.utils.validation import (
    check_memory,
)

from ._budget import check_budget, ensemble_cost, expanded, predict_costs
from ._folds import OutOfFoldLayout, check_splits
from ._kernels import one_blas_thread
from ._modules import ModuleFailure
from ._out_of_fold import ModuleFits, OutOfFoldRun, refit_modules
from ._prediction import _Prediction
from ._routing import metadata_router, request_sample_weight, route_metadata
from ._tasks import mixed_modules_error
from ._validation import (
    MAX_SEED,
    is_drop,
    seed_modules,
    validate_estimators,
    validate_fit_data,
)

WeightProblem = namedtuple(
    "WeightProblem",
    "combinations losses layout scoring_targets modules module_names costs fixed_cost",
)
WeightProblem.__doc__ = """What a weight step learns from: the candidate
combinations and their losses on the out-of-fold rows (in the stores'
order, `layout`), the targets a scorer compares predictions with, the
modules whose weights are learned (indices and names), their predict
costs (seconds per 1,000 rows, with the ensemble's work on their outputs)
and the ensemble's own cost of a call (`ensemble_cost`)."""


def _restricted(problem, modules):
    """``problem`` with its losses over ``modules`` (indices) alone."""
    if len(modules) == len(problem.modules):
        return problem
    return problem._replace(
        losses=[loss.keep_modules(modules) for loss in problem.losses],
        modules=list(modules),
        module_names=[problem.module_names[m] for m in modules],
        costs=problem.costs[modules],
    )


def _failed(result):
    return isinstance(result, ModuleFailure)


def _warn_failures(failures, known):
    """A `FitFailedWarning` for each module that failed and is not known."""
    for error in (e for m, e in failures.items() if m not in known):
        warnings.warn(
            f"{error} It is left out of the ensemble (error_score=nan).",
            FitFailedWarning,
        )


class _BaseSparseAttention(
    _Prediction, TransformerMixin, _BaseHeterogeneousEnsemble, metaclass=ABCMeta
):
    """Shared logic of the sparse-attention ensembles. Not public.

    A family (fixed temperature, or tuned by cross-validation) implements
    the weight step (`_learn_weights`) and says what it needs of the stores
    (`_store_needs`), which combinations it considers
    (`_combination_names`) and whether every module is refitted whatever
    the weights (`_refits_every_module`).
    """

    _parameter_constraints: dict = {
        "estimators": [list, None],
        "cv": ["cv_object"],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "memory": [None, str, HasMethods(["cache"])],
        "n_jobs": [None, Integral],
        "verbose": ["verbose"],
        "random_state": ["random_state"],
        "error_score": [StrOptions({"raise"}), Real],
        "max_modules": [None, Interval(Integral, 1, None, closed="left")],
        "max_predict_cost": [None, Interval(Real, 0, None, closed="neither")],
    }

    # The task of the public classes that fix theirs (None: from the modules).
    _fixed_task = None

    @abstractmethod
    def __init__(
        self,
        estimators,
        *,
        alpha,
        cv,
        max_iter,
        tol,
        memory,
        n_jobs,
        verbose,
        random_state,
        error_score,
        max_modules,
        max_predict_cost,
    ):
        super().__init__(estimators=estimators)
        self.error_score = error_score
        self.max_modules = max_modules
        self.max_predict_cost = max_predict_cost
        self.alpha = alpha
        self.cv = cv
        self.max_iter = max_iter
        self.tol = tol
        self.memory = memory
        self.n_jobs = n_jobs
        self.verbose = verbose
        self.random_state = random_state

    # ---- what each family owns ------------------------------------------
    @abstractmethod
    def _validate_weight_params(self, task):
        """Raise for parameters of the weight step that constraints cannot
        check (e.g. names of combinations this task does not offer)."""

    @abstractmethod
    def _combination_names(self, task):
        """The names of the combinations (of ``task.combinations``) the
        weight step chooses from."""

    @abstractmethod
    def _store_needs(self):
        """``dict(keep_rows=..., keep_outputs=...)`` for the stores."""

    @abstractmethod
    def _refits_every_module(self):
        """Whether every module gets a non-zero weight whatever the data:
        the refits then run with the folds' fits, not after the weights."""

    @abstractmethod
    def _learn_weights(self, problem):
        """``(combination, AttentionFit)``: the weights of the chosen
        combination, from a `WeightProblem`."""

    # ---- the task and the module list -------------------------------------
    def _task(self):
        return self._fixed_task

    def _estimator_list(self):
        if self.estimators is None:
            modules = self._task().default_estimators()
            if _routing_enabled():
                modules = [(n, request_sample_weight(m)) for n, m in modules]
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
        return metadata_router(self, self._estimator_list(), self.cv)

    def _log(self, message, seconds):
        print(_message_with_time(type(self).__name__, message, seconds), flush=True)

    def _seed(self):
        """A seed drawn from ``random_state`` (the solvers' subsamples)."""
        return check_random_state(self.random_state).randint(MAX_SEED)

    # ---- fit --------------------------------------------------------------
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
            scores), and passed to the modules as repeated rows would be:
            with metadata routing off, to every module whose ``fit`` accepts
            it (through ``**kwargs`` too), and inside a module's Pipeline to
            every step whose ``fit`` accepts it (its last step must; a
            module that cannot take it raises an error naming it); with
            routing on, to the modules that request it
            (``set_fit_request(sample_weight=True)``; the default portfolio
            requests it in every step).

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
        for attribute in [a for a in vars(self) if a.endswith("_")]:
            delattr(self, attribute)  # nothing stale from a previous fit
        task, all_names, modules = self._validate_modules()
        X, y, sample_weight = validate_fit_data(self, X, y, sample_weight)
        y, targets, fitted = task.encode(y, modules, sample_weight, type(self).__name__)
        for attribute, value in fitted.items():
            setattr(self, attribute, value)
        combinations = [
            task.combination(name, targets, fitted)
            for name in self._combination_names(task)
        ]
        module_params, split_params = route_metadata(
            self, modules, sample_weight, fit_params
        )
        splits = check_splits(self.cv, X, y, classifier=task.stratify, **split_params)
        layout = OutOfFoldLayout(splits, targets, sample_weight)
        memory = check_memory(self.memory)
        fits = ModuleFits(
            X,
            y,
            [name for name, _ in modules],
            seed_modules(modules, self.random_state),
            module_params,
            None if memory.location is None else memory,
            tolerate=self.error_score != "raise",
        )
        self.module_names_ = fits.names
        self._fitted_task = task
        losses, run, refits = self._fit_out_of_fold(fits, layout, combinations)
        costs, call_costs = predict_costs(run.fold_seconds)
        fixed, per_module = self._own_predict_costs(X, combinations, len(fits.names))
        problem = WeightProblem(
            combinations,
            losses,
            layout,
            task.decode(layout.targets, fitted),
            list(range(len(fits.names))),
            fits.names,
            costs + per_module,
            fixed,
        )
        self._weights_and_refits(problem, fits, run, refits)
        self._set_module_table(fits.names, all_names, run, (costs, call_costs))
        self.predict_cost_ = ensemble_cost(
            problem.costs, np.flatnonzero(self.support_), fixed
        )
        return self

    def _validate_modules(self):
        """The task, every module name and the active modules, checked."""
        all_names, modules = validate_estimators(self, self._estimator_list())
        task = self._task()
        if task is None:  # modules of no one task (SparseAttentionEnsemble)
            raise mixed_modules_error(modules, type(self).__name__)
        for name, module in modules:
            task.check_module(name, module, type(self).__name__)
        self._validate_weight_params(task)
        if self.error_score != "raise" and not np.isnan(self.error_score):
            raise ValueError(
                f"error_score={self.error_score!r}: use 'raise' (a failing "
                "module stops the fit) or np.nan (it is left out, with a "
                "warning)."
            )
        return task, all_names, modules

    def _weights_and_refits(self, problem, fits, run, refits):
        """Learn the weights over the modules that have not failed, then
        refit the modules with non-zero weight; if a refit fails (and
        failures are tolerated), learn the weights again without it."""
        failures, refits = run.failures, refits or {}
        _warn_failures(failures, {})
        while True:
            survivors = [m for m in problem.modules if m not in failures]
            if not survivors:
                raise ValueError(
                    "Every module failed (error_score=nan); the first error: "
                    f"{next(iter(failures.values()))}"
                )
            check_budget(
                problem.costs[survivors],
                [problem.module_names[m] for m in survivors],
                self.max_predict_cost,
                problem.fixed_cost,
            )
            start = time.perf_counter()
            with one_blas_thread():
                combination, fit = self._learn_weights(_restricted(problem, survivors))
            fit = expanded(fit, survivors, len(problem.modules))
            self._set_weights(combination, fit, time.perf_counter() - start)
            kept = np.flatnonzero(fit.weights > 0)
            missing = np.array([m for m in kept if m not in refits], dtype=np.intp)
            new = refit_modules(
                fits, missing, run.times[:, 0], n_jobs=self.n_jobs, verbose=self.verbose
            )
            refits.update({m: r for m, r in new.items() if not _failed(r)})
            new_failures = {m: r.error for m, r in new.items() if _failed(r)}
            _warn_failures(new_failures, failures)
            failures.update(new_failures)
            if not new_failures:
                break
        self._set_refits(fits, refits, run.times)

    def _fit_out_of_fold(self, fits, layout, combinations):
        """Every (module, fold) fit, written into every combination's store;
        returns the combinations' losses, the run (its times) and the refits
        made with the folds' fits (or None)."""
        # The package's own work on y and the outputs (the module fits in
        # `run` excepted) runs on one BLAS thread: see `one_blas_thread`.
        with one_blas_thread():
            stores = [
                c.allocate(
                    list(zip(fits.names, fits.modules)),
                    layout.targets,
                    layout.sample_weight,
                    **self._store_needs(),
                )
                for c in combinations
            ]
        run = OutOfFoldRun(
            fits, layout, n_jobs=self.n_jobs, verbose=self.verbose, log=self._log
        )
        refits = run.run(combinations, stores, self._refits_every_module())
        reader = combinations[0]  # every candidate reads the outputs alike
        with one_blas_thread():
            # After the last fold: a regression store completes its scores
            # (the Gram matrix's diagonal) only once every module is in.
            self.oof_scores_ = reader.module_scores(stores[0])
            losses = [c.loss(store) for c, store in zip(combinations, stores)]
        if self.verbose:
            run.log_module_scores(self.oof_scores_, reader.score_name)
        return losses, run, refits

    def _set_weights(self, combination, fit, seconds):
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
        self._extra = fit.extra
        self.combine_ = combination.name
        self.attention_logits_ = fit.logits
        self.attention_weights_ = fit.weights
        for attribute, value in combination.fitted_attributes(fit.extra).items():
            setattr(self, attribute, value)
        self.n_iter_ = fit.n_iter
        self.loss_curve_ = fit.loss_curve
        if not fit.converged:
            warnings.warn(
                f"{type(self).__name__}: L-BFGS did not converge in "
                f"max_iter={self.max_iter} iterations. Increase max_iter, or "
                "loosen tol.",
                ConvergenceWarning,
            )
        if self.verbose:
            weights = ", ".join(
                f"{n}={w:.3g}"
                for n, w in zip(self.module_names_, self.attention_weights_)
            )
            self._log(
                f"weights ({fit.n_iter} iterations, converged={fit.converged}): "
                f"{weights}",
                seconds,
            )

    def _set_refits(self, fits, refits, times):
        """The refitted modules in use (``refits`` holds each of them)."""
        self.support_ = self.attention_weights_ > 0
        self.n_nonzero_ = int(np.count_nonzero(self.support_))
        kept = np.flatnonzero(self.support_)
        self._rejects_nan = not self.__sklearn_tags__().input_tags.allow_nan and all(
            get_tags(fits.modules[m]).input_tags.allow_nan for m in kept
        )
        self.estimators_ = [refits[m][0] for m in kept]
        self._refit_seconds = np.zeros(len(fits.names))
        for m in kept:
            self._refit_seconds[m] = refits[m][1]
            if self.verbose:
                self._log(f"refit {fits.names[m]} on all rows", refits[m][1])

    def _set_module_table(self, names, all_names, run, costs):
        """``named_estimators_`` and the module table ``modules_``
        (``costs``: each module's cost of 1,000 rows in a call, and of a
        call itself)."""
        fitted = dict(
            zip([names[m] for m in np.flatnonzero(self.support_)], self.estimators_)
        )
        self.named_estimators_ = Bunch(
            **{name: fitted.get(name, "drop") for name in all_names}
        )
        failed = np.array([m in run.failures for m in range(len(names))])
        self.oof_scores_[failed] = np.nan  # scores of stand-in outputs
        self.modules_ = {
            "module": np.asarray(names, dtype=object),
            "weight": self.attention_weights_.copy(),
            "oof_score": self.oof_scores_.copy(),
            "pruned": ~self.support_ & ~failed,
            "failed": failed,
            "error": np.array(
                [str(run.failures.get(m, "")) for m in range(len(names))], dtype=object
            ),
            "fold_fit_time": run.times[:, 0],
            "fold_predict_time": run.times[:, 1],
            "refit_time": self._refit_seconds,
            "predict_cost": costs[0],
            "predict_call_cost": costs[1],
        }

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
        task = self._task()
        return tags if task is None else task.set_tags(tags, module_tags)
