"""A fitted ensemble's own methods: prediction (only the modules with
non-zero weight are called, on blocks of rows, and their outputs are folded
into the combination as they come), its diagram and its persistence."""

import time
import warnings

import numpy as np
from sklearn.utils import _safe_indexing, assert_all_finite

try:  # scikit-learn >= 1.7
    from sklearn.utils._repr_html.estimator import _VisualBlock
except ImportError:  # scikit-learn 1.6
    from sklearn.utils._estimator_html_repr import _VisualBlock
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import (
    _check_feature_names,
    _check_feature_names_in,
    _check_n_features,
    _is_fitted,
    _num_samples,
    check_array,
    check_is_fitted,
)

from ._modules import COST_ROWS
from ._validation import reject_1d
from ._version import __version__
from .exceptions import InconsistentVersionWarning

# Predict calls the modules on blocks of rows whose (rows, K) output takes
# about this many bytes (at least PREDICT_MIN_BLOCK_ROWS rows, so that each
# module's per-call overhead stays small against its work): a block's
# outputs, and the total they are folded into, stay in cache (the
# ``predict`` rows of bench/speed.py).
PREDICT_BLOCK_BYTES = 2**20
PREDICT_MIN_BLOCK_ROWS = 4096


def _combine_blocks(combination, modules, X, weights, extra):
    """``combination``'s prediction from ``modules`` ((name, estimator)
    pairs, in use with ``weights``) on ``X``.

    Above `PREDICT_BLOCK_BYTES` of one module's output, the modules are
    called on blocks of rows and each block is combined on its own: a
    block's outputs, and the total they are folded into, then stay in cache
    instead of streaming the whole (n, K) total through memory once per
    module; and no more than a block of one module's output is alive at a
    time."""
    n_samples = _num_samples(X)
    block_rows = max(
        PREDICT_MIN_BLOCK_ROWS, PREDICT_BLOCK_BYTES // (8 * combination.n_columns)
    )
    if n_samples <= block_rows:
        return combination.predict_block(modules, X, weights, extra)
    combined = np.empty((n_samples, combination.n_columns))
    for start in range(0, n_samples, block_rows):
        rows = slice(start, min(start + block_rows, n_samples))
        block = combination.predict_block(
            modules, _safe_indexing(X, rows), weights, extra, combined[rows]
        )
    # The combination's own shape (a 1-D y gives 1-D predictions).
    return combined.reshape(-1, *block.shape[1:])


class _StandIn:
    """A fitted module whose every call returns ``output``: what calling it
    costs the ensemble, with (almost) nothing of its own."""

    def __init__(self, output, combination):
        self.output = output
        self.classes_ = getattr(combination, "classes", None)

    def predict_proba(self, X):
        return self.output

    predict = predict_proba


def _median_seconds(ensemble, X, combination, modules, repeat=3):
    """The median seconds of a predict call on ``X`` that checks ``X`` and
    combines ``modules`` with equal weights.

    Each call checks X as predict does (`_check_X`; the fit has set fitted
    attributes by then), but not for NaN: predict does that only when the
    modules in use would let NaN through but the ensemble must not, and
    the rows here may hold NaN that the modules accept.
    """
    weights = np.full(len(modules), 1.0 / len(modules))
    seconds = []
    for _ in range(repeat):
        start = time.perf_counter()
        ensemble._check_fitted()
        ensemble._validated_X(X, rejects_nan=False)
        _combine_blocks(combination, modules, X, weights, np.zeros(1))
        seconds.append(time.perf_counter() - start)
    return float(np.median(seconds))


class _Prediction:
    """The methods of a fitted sparse-attention ensemble: `predict`,
    `predict_proba`, `transform` (which use its modules), its HTML diagram
    and its pickled state. Not public.

    They read the fitted state `fit` leaves: ``estimators_`` (the modules in
    use), ``support_``, ``attention_weights_``, the combination and its
    extra parameters, the task, and whether X must be checked for NaN.
    """

    def _check_X(self, X):
        self._check_fitted()
        return self._validated_X(X, self._rejects_nan)

    def _check_fitted(self):
        # `check_is_fitted` first computes the ensemble's tags, and so every
        # module's: on a call of 1,000 rows, as much work as a cheap module's
        # whole predict. A fitted ensemble does not need them (it always
        # requires fit), so only an unfitted one gets there, for the error.
        if not _is_fitted(self):
            check_is_fitted(self)

    def _validated_X(self, X, rejects_nan):
        reject_1d(X)
        # What `validate_data(self, X, reset=False, skip_check_array=True)`
        # checks, without the tags it computes (`_check_fitted`): predict
        # passes no y, the one thing it reads them for.
        _check_feature_names(self, X, reset=False)
        _check_n_features(self, X, reset=False)
        if rejects_nan:
            # The modules left after pruning would pass NaN through, but the
            # ensemble's tags (and so its behaviour) cannot depend on which
            # modules its weights happened to keep.
            if isinstance(X, np.ndarray):
                # The same check without check_array's conversion
                # machinery, a sizeable part of a small predict call.
                assert_all_finite(X)
            else:
                check_array(X, accept_sparse=True, dtype=None, ensure_all_finite=True)
        return X

    def _modules_in_use(self):
        """(name, estimator) of the modules with non-zero weight (the only
        ones kept)."""
        names = [n for n, kept in zip(self.module_names_, self.support_) if kept]
        return list(zip(names, self.estimators_))

    def _outputs_in_use(self, X):
        """Checked outputs of the modules in use, one at a time."""
        return (
            self._combination.read(estimator, name, X)
            for name, estimator in self._modules_in_use()
        )

    def _combined(self, X):
        """The combination's prediction: probabilities or values, on blocks
        of rows (`_combine_blocks`)."""
        X = self._check_X(X)
        weights = self.attention_weights_[self.support_]
        return _combine_blocks(
            self._combination, self._modules_in_use(), X, weights, self._extra
        )

    def _own_predict_costs(self, X, combinations, n_modules):
        """The ensemble's own seconds in a call predicting 1,000 rows,
        beside its modules': ``(fixed, per_module)``, a part of every call
        (checking X, the combination's normalisation) and one for each
        module in use (checking its output and folding it in); also set as
        ``own_call_cost_`` and ``own_module_cost_``.

        Timed on rows of ``X`` with stand-in modules that return a given
        output, with one and with ``n_modules`` of them: the median of a
        few calls each, and the larger over ``combinations``.
        """
        rows = _safe_indexing(X, np.arange(COST_ROWS) % _num_samples(X))
        fixed = per_module = 0.0
        for combination in combinations:
            output = combination.placeholder(COST_ROWS)
            seconds = []
            for size in (1, n_modules):
                stand_ins = [("stand-in", _StandIn(output, combination))] * size
                seconds.append(_median_seconds(self, rows, combination, stand_ins))
            each = max(seconds[1] - seconds[0], 0.0) / max(n_modules - 1, 1)
            fixed = max(fixed, seconds[0] - each)
            per_module = max(per_module, each)
        self.own_call_cost_, self.own_module_cost_ = fixed, per_module
        return fixed, per_module

    def predict(self, X):
        """Predicted class labels or values of the combination.

        Only the modules with non-zero weight are called.

        Parameters
        ----------
        X : {array-like, sparse matrix, DataFrame} of shape (n_samples, n_features)
            Input samples.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,) or (n_samples, n_outputs)
            The class with the highest combined probability (classifiers),
            or the weighted average of the modules' predictions
            (regressors).
        """
        combined = self._combined(X)
        return self._fitted_task.predict(combined, getattr(self, "classes_", None))

    def _is_classifier(self):
        task = self._task()
        return task is not None and task.probabilistic

    @available_if(_is_classifier)
    def predict_proba(self, X):
        """Combined class probabilities (classifiers only).

        Only the modules with non-zero weight are called.

        Parameters
        ----------
        X : {array-like, sparse matrix, DataFrame} of shape (n_samples, n_features)
            Input samples.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Columns in the order of ``classes_``; rows sum to one. A row's
            probabilities do not depend on the other rows predicted with
            it: every step of the combination is element-wise.
        """
        return self._combined(X)

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
        return np.hstack(list(self._outputs_in_use(self._check_X(X))))

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

    def _sk_visual_block_(self):
        names, modules = zip(*self._estimator_list())
        if hasattr(self, "modules_"):  # fitted: each module's weight
            weights = dict(zip(self.modules_["module"], self.modules_["weight"]))
            names = [
                name
                if name not in weights
                else f"{name}: pruned"
                if weights[name] == 0
                else f"{name}: weight {weights[name]:.3g}"
                for name in names
            ]
        return _VisualBlock("parallel", modules, names=names)

    def __getstate__(self):
        state = super().__getstate__()
        if hasattr(self, "modules_"):  # fitted: the version it was fitted with
            state = {**state, "_skweighting_version": __version__}
        return state

    def __setstate__(self, state):
        version = state.pop("_skweighting_version", None)
        if version is not None and version != __version__:
            warnings.warn(
                InconsistentVersionWarning(
                    estimator_name=type(self).__name__,
                    current_version=__version__,
                    original_version=version,
                )
            )
        super().__setstate__(state)
