"""The ways of combining module outputs, one object each.

Every combination answers the same few questions, so the estimator never
asks which one it has:

* ``method`` and ``read(estimator, name, X, deferred=False)``: which method
  of a module is called, and its output checked and laid out for this
  combination (class probabilities in the columns of ``classes_``, or 2-D
  predictions); deferred, the checks run in ``combine``;
* ``allocate(modules, targets, sample_weight)`` (``modules``: (name,
  estimator) pairs) and
  ``write(store, module, rows, output)``: the out-of-fold store, and how one
  fold's output goes into it (only what the loss needs is kept);
* ``objective(store)``: the loss data the solvers minimise (see
  `skweighting._losses`); ``module_scores(store)``: each module's own
  out-of-fold score;
* ``combine(outputs, weights, extra)``: the prediction, from the outputs of
  the modules with non-zero weight (an iterable: each is folded in as it
  comes);
* ``output_names`` (for ``get_feature_names_out``) and ``fitted_extra``
  (fitted attributes of the extra parameters, e.g. the sharpness).

`LogPooling` and `LinearMixture` combine classifiers, `Average` regressors.
"""

import numpy as np
from scipy.linalg.blas import daxpy, saxpy

from ._losses import (
    POOL_FLOOR,
    LogPoolLoss,
    MixtureLoss,
    QuadraticLoss,
    clipped_log,
    error_gram,
    log_pool_normalise,
    normalised_weights,
)
from ._modules import (
    ProbabilityCheck,
    all_finite,
    call_module,
    check_prediction_shape,
    check_predictions,
    check_probabilities,
    check_probability_shape,
    class_columns,
    describe,
    non_finite_predictions,
)

# Values per block of rows of y and of a regression module's scaled errors
# (512 kB): each block stays in cache between the operations on it, and a
# one-output y is not cut into blocks so small that the calls cost more than
# the work (8192 rows of y took 4.6 ms at 1,000,000 rows and one output).
SCALE_BLOCK_VALUES = 2**16


def _scale_block_rows(n_columns):
    """Rows per block of an array of ``n_columns`` columns."""
    return max(1, SCALE_BLOCK_VALUES // max(1, n_columns))


def _repeated_rows(store, n_rows):
    """``1 / store.scale`` repeated over ``n_rows`` rows, kept in the store."""
    if store.inverse_scale is None or len(store.inverse_scale) < n_rows:
        store.inverse_scale = np.tile(1.0 / store.scale, (n_rows, 1))
    return store.inverse_scale


# Bytes per block of rows as an output is checked, transformed and added
# into the total: the block and its transformed copy stay in cache on their
# way. Measured at 1,000,000 rows, 10 modules and 10 classes (free modules,
# 2-core AMD EPYC): log pooling's predict_proba beyond the modules' own work
# 6.9 floor passes with blocks of 0.33 MB, 6.4 with 0.66 MB, 6.0-6.3 with
# 2-2.6 MB (the per-block calls add up in small blocks).
SUM_BLOCK_BYTES = 2 * 2**20


def _sum_block_rows(output):
    """Rows per block of ``output`` (about `SUM_BLOCK_BYTES` each)."""
    row_bytes = 8 * max(1, int(np.prod(output.shape[1:])))
    return max(1, SUM_BLOCK_BYTES // row_bytes)


def _add_scaled(total, weight, output):
    """``total += weight * output`` in one pass (BLAS axpy)."""
    axpy = {np.float64: daxpy, np.float32: saxpy}.get(total.dtype.type)
    if (
        axpy is not None
        and output.dtype == total.dtype
        and total.flags.c_contiguous
        and output.flags.c_contiguous
    ):
        axpy(output.reshape(-1), total.reshape(-1), a=weight)
    else:
        total += weight * output


def _block_buffer(buffer, block, n_rows, dtype=np.float64):
    """``buffer`` if it holds ``n_rows`` rows shaped like ``block``'s (of
    ``dtype``), else a new one."""
    if buffer is None or buffer.shape[1:] != block.shape[1:] or buffer.dtype != dtype:
        buffer = np.empty((n_rows, *block.shape[1:]), dtype=dtype)
    return buffer


def _weighted_sum(weights, outputs, transform=None, out=None):
    """``sum_m w[m] * transform(output_m)``, folding each module's output in
    as it comes (only one is alive at a time), one pass each; into ``out``
    if given (and of the transform's dtype).

    ``transform(output, out)`` writes into a small buffer reused block by
    block (of ``transform.dtype``, float64 if it has none; the total is of
    that dtype too): a module's own array is never overwritten (it may keep
    it), and each block goes from the output through the transform into the
    total while it is in cache.

    An output may come as a pair ``(output, check)`` (see
    ``read(..., deferred=True)``): its `ProbabilityCheck` then runs on each
    block on the way, and raises once the output is folded in; entries
    rounded below zero are clipped first.
    """
    dtype = np.dtype(getattr(transform, "dtype", np.float64))
    total = out if out is not None and out.dtype == dtype else None
    clipped = transformed = None  # buffers
    for index, (weight, item) in enumerate(zip(weights, outputs)):
        output, check = item if isinstance(item, tuple) else (item, None)
        if total is None:
            total = np.empty(output.shape, dtype=dtype)
        n_rows = _sum_block_rows(output)
        for start in range(0, output.shape[0], n_rows):
            block = output[start : start + n_rows]
            if check is not None and check.add(block) < 0.0:
                # NaN never compares below zero: the check raises for it.
                clipped = _block_buffer(clipped, block, n_rows)
                block = np.maximum(block, 0.0, out=clipped[: len(block)])
            if transform is not None:
                transformed = _block_buffer(transformed, block, n_rows, dtype)
                block = transform(block, transformed[: len(block)])
            target = total[start : start + n_rows]
            if index == 0:  # the first module sets the total: no zero fill
                # A Python float: NumPy then keeps a float32 block float32.
                np.multiply(block, float(weight), out=target)
            else:
                _add_scaled(target, weight, block)
        if check is not None:
            check.finish()
    return total


class _FlooredLog:
    """``clipped_log(block, out=out, floor=POOL_FLOOR)`` for `_weighted_sum`,
    in ``dtype`` (``out``'s), with the floor as an array of the block's
    shape: NumPy's maximum against a broadcast scalar runs at half the speed
    of one against an array of the same shape (a 2 MB block in cache, 2-core
    AMD EPYC: 121 us against 75 us); the same values.

    In float32 the block is rounded to float32 as it is floored (one pass),
    and the log is float32's: what the fit computed when its store was
    float32 (`LogPooling.FLOAT32_ROWS`)."""

    def __init__(self, dtype=np.float64):
        self.dtype = np.dtype(dtype)
        self.floors = None

    def __call__(self, block, out):
        if (
            self.floors is None
            or self.floors.shape[1:] != block.shape[1:]
            or len(self.floors) < len(block)
        ):
            self.floors = np.full(block.shape, POOL_FLOOR, dtype=self.dtype)
        floors = self.floors[: len(block)]
        if self.dtype == np.float64:
            return clipped_log(block, out=out, floor=floors)
        np.maximum(block, floors, out=out, dtype=self.dtype, casting="same_kind")
        return np.log(out, out=out)


def _same_labels(module_classes, classes):
    """Whether a module learned exactly ``classes``, in their order."""
    return len(module_classes) == len(classes) and np.array_equal(
        module_classes, classes
    )


class _Store:
    """What a combination keeps of the out-of-fold outputs during a fit."""

    def __init__(self, **arrays):
        self.__dict__.update(arrays)


class _ClassProbabilities:
    """Shared by the combinations of classifiers' probabilities."""

    method = "predict_proba"
    score_name = "out-of-fold log-likelihood"

    def __init__(self, classes):
        self.classes = np.asarray(classes)
        self.n_columns = len(self.classes)

    def read(self, estimator, name, X, deferred=False):
        """The module's checked outputs on ``X``, in the columns of
        ``classes``.

        ``deferred=True`` gives ``(output, check)`` instead, the values not
        yet checked: `combine` runs the `ProbabilityCheck` on each block of
        rows as it folds them in, so that predict reads each output from
        memory once."""
        output = call_module(estimator, name, X, self.method)
        if not deferred:
            return self.check(output, name, estimator, estimator.classes_)
        output = self._aligned(output, name, estimator, estimator.classes_)
        return output, ProbabilityCheck(name, estimator, self.n_columns)

    def check(self, output, name, estimator, module_classes):
        """``read`` for an output already computed by a fitted module that
        learned ``module_classes`` (``estimator`` names it in errors)."""
        columns = class_columns(module_classes, name, estimator, self.classes)
        if check_probabilities(output, name, estimator, len(columns)):
            output = np.maximum(output, 0.0)  # rounding below zero only
        return self._aligned(output, name, estimator, module_classes, columns)

    def _aligned(self, output, name, estimator, module_classes, columns=None):
        """``output`` (of a module that learned ``module_classes``) in the
        columns of ``classes``: zeros for the classes it never saw. Only
        the shape is checked here."""
        if columns is None:
            if _same_labels(module_classes, self.classes):
                # The usual case, found without `class_columns`' search:
                # predict calls this for every block of rows of every module.
                check_probability_shape(output, name, estimator, len(self.classes))
                return output
            columns = class_columns(module_classes, name, estimator, self.classes)
            check_probability_shape(output, name, estimator, len(columns))
        if len(columns) == len(self.classes) and np.all(np.diff(columns) > 0):
            return output  # already in the order of classes_
        aligned = np.zeros((output.shape[0], len(self.classes)))
        aligned[:, columns] = output
        return aligned

    def output_names(self, prefix, module_name):
        return [f"{prefix}_{module_name}_{label}" for label in self.classes]

    def _allocate_scores(self, modules, codes, sample_weight):
        return dict(
            codes=np.asarray(codes, dtype=np.intp),
            sample_weight=normalised_weights(sample_weight, len(codes)),
            scores=np.zeros(len(modules)),
        )

    @staticmethod
    def _true_class_proba(store, rows, output):
        # A gather through flat indices: several times faster than indexing
        # with a pair of index arrays.
        flat = np.arange(0, output.size, output.shape[1])
        flat += store.codes[rows]
        return np.take(output.ravel(), flat)

    @staticmethod
    def _add_score(store, module, rows, proba_true):
        # Mean log-likelihood of the true class, accumulated fold by fold
        # from the slice being written.
        store.scores[module] += store.sample_weight[rows] @ clipped_log(
            proba_true.copy()
        )

    def module_scores(self, store):
        return store.scores.copy()


class LogPooling(_ClassProbabilities):
    """Log-linear pooling with a learned sharpness ``beta``:
    ``log P(k|x) = beta * sum_m w[m] log p_m(k|x) - logsumexp_k(...)``.

    Its store is the whole (n_modules, n_samples, n_classes) probability
    tensor, turned in place into floored logs for the loss; in float32 from
    `FLOAT32_ROWS` rows on.
    """

    name = "log"

    # From this many out-of-fold rows the store is float32: half the memory
    # and half the bytes each pass of the weight step reads. Measured on
    # synthetic outputs (1,000,000 rows, 10 modules, 10 classes) the weights
    # move by 3e-7 against float64, below the solver's own tolerance (8e-6);
    # on smaller sets, where the whole fit costs little anyway, float32's
    # rounding moved them by up to 1e-5, so they stay in float64.
    FLOAT32_ROWS = 200_000

    # The dtype of the logs the weights were learned on (set by `allocate`):
    # predictions pool logs of that dtype, so that a model fitted on float32
    # logs predicts from what its weights were fitted to, at half the cost
    # (float32's log is twice as fast as float64's). Measured at 1,000,000
    # rows, 10 modules and 10 classes: probabilities at most 2e-7 from
    # float64 pooling (2e-6 relative), predict_proba beyond the modules 4.6
    # floor passes instead of 6.4-7.3.
    log_dtype = np.dtype(np.float64)

    def allocate(
        self, modules, codes, sample_weight, keep_outputs=False, keep_rows=False
    ):
        n_modules, n_samples = len(modules), len(codes)
        dtype = np.float32 if n_samples >= self.FLOAT32_ROWS else np.float64
        self.log_dtype = np.dtype(dtype)
        return _Store(
            proba=np.empty((n_modules, n_samples, len(self.classes)), dtype=dtype),
            **self._allocate_scores(modules, codes, sample_weight),
        )

    def write(self, store, module, rows, output):
        store.proba[module, rows] = output
        self._add_score(
            store, module, rows, self._true_class_proba(store, rows, output)
        )

    def objective(self, store):
        log_proba = clipped_log(store.proba, out=store.proba, floor=POOL_FLOOR)
        return LogPoolLoss(log_proba, store.codes, store.sample_weight)

    def predict_rows(self, loss, rows, weights, extra):
        """The combined probabilities of out-of-fold ``rows``, from the loss
        data (the floored logs)."""
        return loss.predict_rows(rows, weights, extra)

    def combine(self, outputs, weights, extra, out=None):
        # The sharpness beta goes into the weights (beta * sum_m w[m] log p_m
        # = sum_m (beta w[m]) log p_m): one pass fewer over the result.
        sharpness = np.exp(extra[0])
        transform = _FlooredLog(self.log_dtype)
        pooled = _weighted_sum(weights * sharpness, outputs, transform, out=out)
        if pooled.dtype != np.float64:  # normalised in float64
            wide = np.empty(pooled.shape) if out is None else out
            wide[...] = pooled
            pooled = wide
        # Not in place: rows that underflow are redone from `pooled`.
        unnormalised, norm, _ = log_pool_normalise(pooled, 0.0)
        return np.divide(unnormalised, norm[:, None], out=pooled)

    def fitted_extra(self, extra):
        return {"sharpness_": float(np.exp(extra[0]))}


class LinearMixture(_ClassProbabilities):
    """The mixture ``P(k|x) = sum_m w[m] p_m(k|x)``.

    Its log-loss needs only each module's probability of the true class, so
    the store is an (n_samples, n_modules) matrix.
    """

    name = "linear"

    def allocate(
        self, modules, codes, sample_weight, keep_outputs=False, keep_rows=False
    ):
        n_modules, n_samples = len(modules), len(codes)
        return _Store(
            proba_true=np.empty((n_modules, n_samples)),
            # The whole outputs only when a score needs the mixture's
            # probabilities of every class, not only the log-loss.
            proba=(
                np.empty((n_modules, n_samples, len(self.classes)))
                if keep_outputs
                else None
            ),
            **self._allocate_scores(modules, codes, sample_weight),
        )

    def write(self, store, module, rows, output):
        proba_true = self._true_class_proba(store, rows, output)
        store.proba_true[module, rows] = proba_true
        if store.proba is not None:
            store.proba[module, rows] = output
        self._add_score(store, module, rows, proba_true)

    def objective(self, store):
        loss = MixtureLoss(store.proba_true, store.sample_weight)
        loss.proba = store.proba
        return loss

    def predict_rows(self, loss, rows, weights, extra):
        """The mixture's probabilities of out-of-fold ``rows`` (the store
        must have been allocated with ``keep_outputs=True``)."""
        return self.combine(loss.proba[:, rows], weights, extra)

    def combine(self, outputs, weights, extra, out=None):
        proba = _weighted_sum(weights, outputs, out=out)
        # The weights sum to one, so do the rows, up to the modules' own
        # rounding: only rows off by more than 64 ulps are divided by
        # their sum (a division broadcast along rows of a few classes costs
        # three times a product of two arrays, for nothing in most rows).
        row_sums = proba @ np.ones(proba.shape[1])
        off = np.flatnonzero(np.abs(row_sums - 1.0) > 64 * np.finfo(float).eps)
        if off.size:
            proba[off] /= row_sums[off, None]
        return proba

    def fitted_extra(self, extra):
        return {}


def _column_max_abs(y, group=32):
    """``np.max(np.abs(y), axis=0)`` for an (n, T) array with few columns,
    six times faster: NumPy reduces along axis 0 one short row at a time,
    so ``group`` rows are viewed as one row of ``group * T`` columns."""
    n_rows, n_columns = y.shape
    whole = n_rows - n_rows % group
    top = np.zeros(n_columns)
    if whole:
        wide = y[:whole].reshape(whole // group, group * n_columns)
        top = np.maximum(wide.max(axis=0), -wide.min(axis=0))
        top = top.reshape(group, n_columns).max(axis=0)
    if whole < n_rows:
        top = np.maximum(top, np.abs(y[whole:]).max(axis=0))
    return top


def _output_scale(y, sample_weight):
    """What each column of ``y`` (n, T) is divided by in the errors: its
    weighted standard deviation, or 1 for a column without spread (below
    1e-12 of its root mean square: constant up to rounding).

    One pass over y in blocks of rows that stay in cache, each block's mean
    and squared deviations merged into the running ones (Chan, Golub and
    LeVeque's update): four NumPy operations per value. Only if a square
    overflows (|y| above ~1e154), or a column looks constant (its squares
    may have underflowed), is it measured again on ``y / max|y|``."""
    n_rows, n_columns = y.shape
    block_rows = _scale_block_rows(n_columns)
    mean = np.zeros(n_columns)
    squares = np.zeros(n_columns)  # sum of w (y - mean)^2 over the rows so far
    total = 0.0  # sum of w over the rows so far
    buffer = np.empty((min(n_rows, block_rows), n_columns))
    with np.errstate(over="ignore", invalid="ignore"):
        for start in range(0, n_rows, block_rows):
            block = y[start : start + block_rows]
            weight = sample_weight[start : start + block_rows]
            block_total = weight.sum()
            if block_total == 0:
                continue
            block_mean = (weight @ block) / block_total
            deviation = np.subtract(block, block_mean, out=buffer[: len(block)])
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
        # No square overflowed, and none underflowed far enough to make a
        # column look constant (|y| below ~1e-154 does).
        return spread
    magnitude = np.zeros(n_columns)
    for start in range(0, n_rows, block_rows):
        block = y[start : start + block_rows]
        magnitude = np.maximum(magnitude, _column_max_abs(block))
    magnitude[magnitude == 0] = 1.0
    scaled_mean = (sample_weight @ (y / magnitude)).reshape(1, -1)
    spread = np.sqrt(
        sum(
            sample_weight[start : start + block_rows]
            @ (y[start : start + block_rows] / magnitude - scaled_mean) ** 2
            for start in range(0, n_rows, block_rows)
        )
    )
    # Without spread (relative to the largest value): left in units.
    return np.where(spread <= 1e-12, 1.0, spread * magnitude)


class Average:
    """The weighted average of regressors' predictions, scored by the squared
    error divided by the (weighted) variance of each output of y, so the
    weights do not depend on the units of y.

    Its loss needs only the Gram matrix of the modules' scaled errors. The
    store keeps the whole (n_modules, n_samples, n_outputs) tensor of scaled
    errors only when asked to (``keep_rows``: a loss on a subset of rows, or
    predictions of out-of-fold rows); otherwise it keeps one fold's errors
    at a time and adds that fold's Gram matrix once all modules have written
    it (the fit writes fold after fold), a fifth of the memory with
    ``cv=5``.
    """

    name = "linear"
    method = "predict"
    score_name = "out-of-fold R^2"

    def __init__(self, n_outputs, y_ndim):
        self.n_columns = n_outputs
        self.y_ndim = y_ndim

    def read(self, estimator, name, X, deferred=False):
        """The module's checked predictions on ``X``, (n_samples, n_outputs):
        checked at once whether ``deferred`` or not (one reduction)."""
        output = call_module(estimator, name, X, self.method)
        return check_predictions(output, name, estimator, self.n_columns)

    def check(self, output, name, estimator, module_classes=None):
        """A fold's predictions (already computed by a fitted module) as
        ``write`` takes them. Only their shape is checked here: the store
        finds non-finite values from the Gram matrix of the errors, which
        is finite on its diagonal only if they are (`_check_errors`), so no
        reduction reads them again."""
        return check_prediction_shape(output, name, estimator, self.n_columns)

    def output_names(self, prefix, module_name):
        if self.n_columns == 1:
            return [f"{prefix}_{module_name}"]
        return [f"{prefix}_{module_name}{j}" for j in range(self.n_columns)]

    def allocate(self, modules, y, sample_weight, keep_outputs=False, keep_rows=False):
        n_samples = y.shape[0]
        y2 = y.reshape(n_samples, -1)
        weights = normalised_weights(sample_weight, n_samples)
        return _Store(
            module_names=[name for name, _ in modules],
            module_labels=[describe(name, estimator) for name, estimator in modules],
            y=y2,
            scale=_output_scale(y2, weights),
            sample_weight=weights,
            # One module's errors are contiguous: a fold is one block write.
            errors=(
                np.empty((len(modules), n_samples, y2.shape[1]))
                if keep_outputs or keep_rows
                else None
            ),
            fold_errors=None,  # without `errors`: the fold being written
            fold_rows=None,
            fold_written=set(),
            fold_grams=[],  # without `errors`: one Gram matrix per fold
            inverse_scale=None,  # 1 / scale repeated over a block of rows
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
            n_modules, n_outputs = len(store.module_names), store.y.shape[1]
            store.fold_errors = np.empty((n_modules, n_rows, n_outputs))
        store.fold_written.add(module)
        return store.fold_errors[module, :n_rows]

    def _add_fold_gram(self, store, rows):
        if len(store.fold_written) < len(store.module_names):
            return
        n_rows = rows.stop - rows.start
        errors = store.fold_errors[:, :n_rows]
        with np.errstate(over="ignore", invalid="ignore"):
            gram = error_gram(errors, store.sample_weight[rows])
        self._check_errors(store, errors, gram)
        store.fold_grams.append(gram)
        store.fold_written.clear()

    @staticmethod
    def _check_errors(store, errors, gram):
        """Raise for a module whose predictions were not finite, found from
        its scaled ``errors`` where ``gram`` (their Gram matrix) is not
        finite on the diagonal.

        y is finite and the scale positive, so an error is NaN exactly where
        a prediction is. An infinite error is an infinite prediction, unless
        a finite one can overflow: only where the errors are scaled up
        (scale below 1) or y is within an ulp of float64's largest value
        (~1e292) of overflowing. Finite errors whose squares overflow are
        left to `objective`, which names them.
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
                _column_max_abs(store.y[:, columns]) > 1e291
            )
            if not can_overflow.any():
                raise non_finite_predictions(label)
            raise non_finite_predictions(
                label,
                alternative="or predictions so far outside the range of y "
                "that their errors overflow",
            )

    def write(self, store, module, rows, output):
        if store.errors is None:
            errors = self._fold_errors(store, module, rows)
        else:
            errors = store.errors[module, rows]
        # (output - y) / scale, block by block so that the second pass reads
        # from cache; the scale as a repeated row, because NumPy multiplies
        # by a broadcast vector of a few outputs far slower than by a
        # contiguous array of the same shape.
        block_rows = _scale_block_rows(errors.shape[1])
        inverse_scale = _repeated_rows(store, min(len(errors), block_rows))
        y = store.y[rows]
        with np.errstate(over="ignore", invalid="ignore"):
            for start in range(0, len(errors), block_rows):
                block = errors[start : start + block_rows]
                np.subtract(
                    output[start : start + block_rows],
                    y[start : start + block_rows],
                    out=block,
                )
                block *= inverse_scale[: len(block)]
        if store.errors is None:
            self._add_fold_gram(store, rows)

    def objective(self, store):
        if store.errors is None and store.fold_written:
            raise RuntimeError("The last fold's outputs were not all written.")
        with np.errstate(over="ignore", invalid="ignore"):
            loss = QuadraticLoss(
                store.errors,
                store.sample_weight,
                fold_grams=(
                    np.array(store.fold_grams) if store.errors is None else None
                ),
            )
        if store.errors is not None:
            self._check_errors(store, store.errors, loss.gram)
        overflowing = ~np.isfinite(np.diag(loss.gram))
        if np.any(overflowing):
            raise ValueError(
                "The squared errors of modules "
                f"{[n for n, o in zip(store.module_names, overflowing) if o]} "
                "overflow: their predictions are far outside the range of y. "
                "Fix or drop them."
            )
        loss.scale, loss.y = store.scale, store.y
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

    def predict_rows(self, loss, rows, weights, extra):
        """The average's predictions of out-of-fold ``rows``."""
        values = np.tensordot(weights, loss.errors[:, rows], axes=1)
        values = values * loss.scale + loss.y[rows]
        return values.ravel() if self.y_ndim == 1 else values

    def combine(self, outputs, weights, extra, out=None):
        prediction = _weighted_sum(weights, outputs, out=out)
        return prediction.ravel() if self.y_ndim == 1 else prediction

    def fitted_extra(self, extra):
        return {}


CLASSIFIER_COMBINATIONS = {"log": LogPooling, "linear": LinearMixture}
