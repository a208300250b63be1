"""The weighted average of regressors' predictions (``combine='linear'`` for
regressors), scored by the squared error divided by the (weighted) variance
of each output of y, so the weights do not depend on the units of y.

Because the weights sum to one, the average's residual is the weighted sum
of the modules' own residuals: its squared error is the quadratic ``w @ G @
w`` in the Gram matrix ``G`` of the modules' scaled errors (`error_gram`),
and every evaluation of the loss (`QuadraticLoss`) costs O(M^2).
"""

import numpy as np

from .._kernels import weighted_sum
from .._modules import (
    all_finite,
    call_module,
    check_prediction_shape,
    check_predictions,
    describe,
    non_finite_predictions,
)
from ._common import Store, fold_weights, normalised_weights, renormalised_without

# Values per block of rows of y as its spread is measured: each block stays
# in cache between the operations on it (the regression ``whole fit`` rows
# of bench/speed.py).
SCALE_BLOCK_VALUES = 2**16


def output_scale(y, sample_weight):
    """What each column of ``y`` (n, T) is divided by in the errors: its
    weighted standard deviation, or 1 for a column without spread (below
    1e-12 of its root mean square: constant up to rounding).

    One pass over y in blocks of rows, each block's mean and squared
    deviations merged into the running ones (Chan, Golub and LeVeque's
    update). Only if a square overflows (|y| above ~1e154), or a column
    looks constant (its squares may have underflowed), is it measured again
    on ``y / max|y|`` (`_scaled_output_scale`)."""
    n_rows, n_columns = y.shape
    block_rows = max(1, SCALE_BLOCK_VALUES // n_columns)
    mean = np.zeros(n_columns)
    squares = np.zeros(n_columns)  # sum of w (y - mean)^2 over the rows so far
    total = 0.0  # sum of w over the rows so far
    with np.errstate(over="ignore", invalid="ignore"):
        for start in range(0, n_rows, block_rows):
            block = y[start : start + block_rows]
            weight = sample_weight[start : start + block_rows]
            block_total = weight.sum()
            if block_total == 0:
                continue
            block_mean = (weight @ block) / block_total
            deviation = block - block_mean
            deviation *= deviation
            shift = block_mean - mean
            merged = total + block_total
            mean += shift * (block_total / merged)
            squares += weight @ deviation + shift * shift * (
                total * block_total / merged
            )
            total = merged
        variance = squares / total
        mean_square = variance + mean * mean
    spread = np.sqrt(variance)
    if np.all(np.isfinite(mean_square) & (spread > 1e-12 * np.sqrt(mean_square))):
        return spread
    return _scaled_output_scale(y, sample_weight)


def _scaled_output_scale(y, sample_weight):
    """`output_scale` measured on ``y / max|y|``: safe from squares that
    over- or underflow."""
    magnitude = np.abs(y).max(axis=0)
    magnitude[magnitude == 0] = 1.0
    scaled = y / magnitude
    spread = np.sqrt(sample_weight @ (scaled - sample_weight @ scaled) ** 2)
    # Without spread (relative to the largest value): left in units.
    return np.where(spread <= 1e-12, 1.0, spread * magnitude)


def error_gram(errors, sample_weight):
    """The matrix ``G`` of the average's squared error ``w @ G @ w``.

    Parameters
    ----------
    errors : ndarray of shape (n_modules, n_samples, n_outputs)
        ``(f_m(x_i) - y_i) / scale`` per output.
    sample_weight : ndarray of shape (n_samples,)
        Non-negative, summing to one.
    """
    n_modules, n_samples, n_outputs = errors.shape
    flat = errors.reshape(n_modules, n_samples * n_outputs)
    if np.all(sample_weight == sample_weight[0]):
        # Equal weights: one BLAS product over the errors, no copy.
        return (flat @ flat.T) * (sample_weight[0] / n_outputs)
    row_weight = np.repeat(sample_weight / n_outputs, n_outputs)
    return (flat * row_weight) @ flat.T


def quadratic_loss(weights, gram):
    """``w @ gram @ w`` and its gradient: the squared error in O(M^2)."""
    grad_half = gram @ weights
    return float(weights @ grad_half), 2.0 * grad_half


class QuadraticLoss:
    """The regression average's loss on out-of-fold rows, from the Gram
    matrix of the scaled errors (one pass over them; every evaluation then
    costs O(M^2)).

    Parameters
    ----------
    errors : ndarray of shape (n_modules, n_samples, n_outputs) or None
        The scaled errors; None when only the folds' Gram matrices were
        kept (the loss is the same, but `take` and `predict_rows` need the
        errors).
    sample_weight : ndarray of shape (n_samples,) or None
    fold_grams : ndarray of shape (n_folds, n_modules, n_modules) or None
        The Gram matrix of each fold, when ``errors`` is None.
    scale, y : ndarray or None
        The outputs' scale and the targets (n_samples, n_outputs), which
        turn errors back into predictions (`predict_rows`).
    """

    n_extra = 0
    # An evaluation costs O(M^2) whatever the number of rows: a solve on a
    # subsample first would save nothing.
    evaluation_reads_rows = False

    def __init__(
        self, errors, sample_weight=None, *, fold_grams=None, scale=None, y=None
    ):
        self.errors = errors
        self.fold_grams = fold_grams
        self.scale, self.y = scale, y
        if errors is None:
            self.n_modules = fold_grams.shape[1]
            self.n_samples = len(sample_weight)
        else:
            self.n_modules, self.n_samples, _ = errors.shape
        self.sample_weight = normalised_weights(sample_weight, self.n_samples)
        with np.errstate(over="ignore", invalid="ignore"):
            if errors is None:
                self.gram = fold_grams.sum(axis=0)
            else:
                self.gram = error_gram(errors, self.sample_weight)

    def initial_extra(self):
        return np.zeros(0)

    def loss_grad(self, weights, extra):
        loss, grad_weights = quadratic_loss(weights, self.gram)
        return loss, grad_weights, extra

    def value(self, weights, extra):
        """The variance-normalised squared error (what held-out rows score)."""
        return quadratic_loss(weights, self.gram)[0]

    @staticmethod
    def extra_penalty(extra):
        return 0.0

    def fold_sums(self, weights, extra, folds):
        """The squared error summed over each of ``folds`` (consecutive
        slices of rows; the folds' Gram matrices when only those were
        kept), and the sums of the sample weights over them."""
        if self.errors is None:
            if len(folds) != len(self.fold_grams):
                raise ValueError(
                    f"This loss kept the Gram matrices of {len(self.fold_grams)} "
                    f"folds, not {len(folds)}."
                )
            grams = self.fold_grams
        else:
            grams = [
                error_gram(self.errors[:, rows], self.sample_weight[rows])
                for rows in folds
            ]
        values = np.array([quadratic_loss(weights, gram)[0] for gram in grams])
        return values, fold_weights(self.sample_weight, folds)

    @staticmethod
    def drop(weights, extra, module):
        """The average without ``module``, the others rescaled."""
        return renormalised_without(weights, module), extra

    def predict_rows(self, rows, weights, extra):
        """The average's predictions of ``rows``, (n_rows, n_outputs)."""
        values = np.tensordot(weights, self._errors()[:, rows], axes=1)
        return values * self.scale + self.y[rows]

    def keep_modules(self, modules):
        """The loss of the average of ``modules`` (indices) alone."""
        if self.errors is None:
            grams = self.fold_grams[:, modules][:, :, modules]
            return QuadraticLoss(
                None, self.sample_weight, fold_grams=grams, scale=self.scale, y=self.y
            )
        return QuadraticLoss(
            self.errors[modules], self.sample_weight, scale=self.scale, y=self.y
        )

    def take(self, rows):
        return QuadraticLoss(
            self._errors()[:, rows],
            self.sample_weight[rows],
            scale=self.scale,
            y=None if self.y is None else self.y[rows],
        )

    def _errors(self):
        if self.errors is None:
            raise RuntimeError(
                "This loss kept only the Gram matrix of the errors, not their "
                "rows (allocate the store with keep_rows=True)."
            )
        return self.errors


class Average:
    """The weighted average of regressors' predictions.

    Its loss needs only the Gram matrix of the modules' scaled errors. The
    store keeps the whole (n_modules, n_samples, n_outputs) tensor of scaled
    errors only when asked to (``keep_rows``: a loss on a subset of rows;
    ``keep_outputs``: predictions of out-of-fold rows); otherwise it keeps one fold's
    errors at a time and adds that fold's Gram matrix once all modules have
    written it (the fit writes fold after fold), a fifth of the memory with
    ``cv=5``.

    Parameters
    ----------
    n_outputs : int
    y_ndim : int
        1 for a 1-D y (predictions are then 1-D), 2 otherwise.
    """

    name = "linear"
    # A single module's weight of one gives its own predictions.
    single_module_is_own_output = True
    method = "predict"
    score_name = "out-of-fold R^2"

    def __init__(self, n_outputs, y_ndim):
        self.n_columns = n_outputs
        self.y_ndim = y_ndim

    def read(self, estimator, name, X):
        """The module's checked predictions on ``X``, (n_samples, n_outputs)."""
        output = call_module(estimator, name, X, self.method)
        return check_predictions(output, name, estimator, self.n_columns)

    def check(self, output, name, estimator, module_classes=None):
        """A fold's predictions (already computed by a fitted module) as
        ``write`` takes them. Only their shape is checked here: the store
        finds non-finite values from the Gram matrix of the errors, which
        is finite on its diagonal only if they are (`_check_errors`), so no
        reduction reads them again."""
        return check_prediction_shape(output, name, estimator, self.n_columns)

    def placeholder(self, n_rows):
        """Outputs standing in for a module that failed on a fold (it is
        left out of the weights)."""
        return np.zeros((n_rows, self.n_columns))

    def output_names(self, prefix, module_name):
        if self.n_columns == 1:
            return [f"{prefix}_{module_name}"]
        return [f"{prefix}_{module_name}{j}" for j in range(self.n_columns)]

    def allocate(
        self, modules, y, sample_weight, *, keep_rows=False, keep_outputs=False
    ):
        n_samples = y.shape[0]
        y2 = y.reshape(n_samples, -1)
        weights = normalised_weights(sample_weight, n_samples)
        return Store(
            module_names=[name for name, _ in modules],
            module_labels=[describe(name, estimator) for name, estimator in modules],
            y=y2,
            scale=output_scale(y2, weights),
            sample_weight=weights,
            # One module's errors are contiguous: a fold is one block write.
            errors=(
                np.empty((len(modules), n_samples, y2.shape[1]))
                if keep_rows or keep_outputs
                else None
            ),
            fold_errors=None,  # without `errors`: the fold being written
            fold_rows=None,
            fold_written=set(),
            fold_grams=[],  # without `errors`: one Gram matrix per fold
        )

    @staticmethod
    def _fold_errors(store, module, rows):
        """Where a module's errors on ``rows`` go when only the Gram matrix
        is kept: a buffer of one fold, reused fold after fold."""
        if store.fold_rows != rows:
            if store.fold_written:
                raise RuntimeError(
                    "The folds' outputs were written out of order; every "
                    "module of a fold must be written before the next fold."
                )
            store.fold_rows = rows
        n_rows = rows.stop - rows.start
        if store.fold_errors is None or store.fold_errors.shape[1] < n_rows:
            n_modules, n_outputs = len(store.module_labels), store.y.shape[1]
            store.fold_errors = np.empty((n_modules, n_rows, n_outputs))
        store.fold_written.add(module)
        return store.fold_errors[module, :n_rows]

    def _add_fold_gram(self, store, rows):
        if len(store.fold_written) < len(store.module_labels):
            return
        n_rows = rows.stop - rows.start
        errors = store.fold_errors[:, :n_rows]
        with np.errstate(over="ignore", invalid="ignore"):
            gram = error_gram(errors, store.sample_weight[rows])
        _check_errors(store, errors, gram)
        store.fold_grams.append(gram)
        store.fold_written.clear()

    def write(self, store, module, rows, output):
        if store.errors is None:
            errors = self._fold_errors(store, module, rows)
        else:
            errors = store.errors[module, rows]
        with np.errstate(over="ignore", invalid="ignore"):
            np.subtract(output, store.y[rows], out=errors)
            errors *= 1.0 / store.scale
        if store.errors is None:
            self._add_fold_gram(store, rows)

    def loss(self, store):
        if store.errors is None:
            if store.fold_written:
                raise RuntimeError("The last fold's outputs were not all written.")
            loss = QuadraticLoss(
                None,
                store.sample_weight,
                fold_grams=np.array(store.fold_grams),
                scale=store.scale,
                y=store.y,
            )
        else:
            loss = QuadraticLoss(
                store.errors, store.sample_weight, scale=store.scale, y=store.y
            )
            _check_errors(store, store.errors, loss.gram)
        overflowing = ~np.isfinite(np.diag(loss.gram))
        if np.any(overflowing):
            raise ValueError(
                "The squared errors of modules "
                f"{[n for n, o in zip(store.module_names, overflowing) if o]} "
                "overflow: their predictions are far outside the range of y. "
                "Fix or drop them."
            )
        return loss

    def module_scores(self, store):
        # Variance-normalised MSE of one module is 1 - R^2 (mean over outputs):
        # the diagonal of the Gram matrix, complete once every fold is in.
        if store.errors is None:
            squared_error = np.diag(np.sum(store.fold_grams, axis=0))
        else:
            with np.errstate(over="ignore", invalid="ignore"):
                squared = np.einsum("mit,mit->mi", store.errors, store.errors)
                squared_error = squared @ store.sample_weight / store.y.shape[1]
        return 1.0 - squared_error

    def combine(self, outputs, weights, extra, out=None):
        prediction = weighted_sum(weights, outputs, out=out)
        return prediction.ravel() if self.y_ndim == 1 else prediction

    def predict_block(self, modules, X, weights, extra, out=None):
        """`combine` of the predictions of ``modules`` ((name, estimator)
        pairs) on the rows ``X``, each module called as its turn comes.

        Their values are checked once, on the weighted sum: every weight in
        use is positive, so a NaN or infinite prediction of any module makes
        the sum non-finite. Only then is each module called again and
        checked, to name it; a sum of finite predictions that overflows is
        returned as it is.
        """
        outputs = (
            self.check(call_module(estimator, name, X, self.method), name, estimator)
            for name, estimator in modules
        )
        prediction = self.combine(outputs, weights, extra, out=out)
        if not all_finite(prediction):
            for name, estimator in modules:
                self.read(estimator, name, X)
        return prediction

    def fitted_attributes(self, extra):
        return {}


def _check_errors(store, errors, gram):
    """Raise for a module whose predictions were not finite, found from its
    scaled ``errors`` where ``gram`` (their Gram matrix) is not finite on
    the diagonal.

    y is finite and the scale positive, so an error is NaN exactly where a
    prediction is. An infinite error is an infinite prediction, unless a
    finite one can overflow: only where the errors are scaled up (scale
    below 1) or y is within an ulp of float64's largest value (~1e292) of
    overflowing. Finite errors whose squares overflow are left to
    `Average.loss`, which names them.
    """
    for module in np.flatnonzero(~np.isfinite(np.diag(gram))):
        module_errors = errors[module]  # (n_rows, n_outputs)
        if all_finite(module_errors):
            continue
        label = store.module_labels[module]
        if np.isnan(module_errors).any():
            raise non_finite_predictions(label)
        columns = np.isinf(module_errors).any(axis=0)
        can_overflow = (store.scale[columns] < 1.0) | (
            np.abs(store.y[:, columns]).max(axis=0) > 1e291
        )
        if not can_overflow.any():
            raise non_finite_predictions(label)
        raise non_finite_predictions(
            label,
            alternative="or predictions so far outside the range of y "
            "that their errors overflow",
        )
