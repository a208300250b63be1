"""Log-linear pooling of classifiers' probabilities with a learned sharpness:
``log P(k|x) = beta * sum_m w[m] log p_m(k|x) - logsumexp_k(...)``.

The formula (`log_pool_normalise`, which the fit and the prediction both end
in), its log-loss and gradient (`log_pool_loss`), the loss object the
solvers minimise (`LogPoolLoss`) and the combination the estimators use
(`LogPooling`: its out-of-fold store, its loss, its prediction).
"""

import numpy as np

from .._kernels import one_blas_thread, weighted_sum
from ._common import (
    Store,
    clipped_log,
    fold_sums,
    normalised_weights,
    renormalised_without,
)
from ._probabilities import ClassProbabilities

# In log pooling a module's zero probability is a veto that no other module
# can overrule: log(1e-15) = -34.5. Tree ensembles emit exact zeros, and one
# such veto on a held-out row can cost more log-loss than all the other rows
# together. Flooring at 1e-3 caps a veto at log(1e-3) = -6.9.
POOL_FLOOR = 1e-3

# A small L2 penalty on log(beta) keeps the sharpness finite when the pooled
# out-of-fold predictions are (nearly) separable, where the unpenalised loss
# keeps falling as beta grows.
SHARPNESS_PENALTY = 1e-2

# Rows x classes per block of the log-pooling loss: a block's n x K work (a
# dozen element-wise passes and an exp) stays in cache instead of streaming
# (n, K) arrays through memory a dozen times, and the block of the tensor is
# read from memory once for the pool and again from cache for the gradient
# (the ``weight step`` rows of bench/speed.py).
LOSS_BLOCK_ELEMENTS = 2**16


def pooled_logs(weights, log_proba):
    """``sum_m w[m] log p_m(k | x)`` over an (n_modules, n_samples,
    n_classes) tensor of floored logs: one pass, as float64 (n, K)."""
    n_modules, n_samples, n_classes = log_proba.shape
    flat = log_proba.reshape(n_modules, n_samples * n_classes)
    # Keep the small vector in the tensor's dtype so NumPy never upcasts
    # (copies) the tensor.
    pooled = np.asarray(weights).astype(flat.dtype) @ flat
    return pooled.astype(np.float64, copy=False).reshape(n_samples, n_classes)


def log_pool_normalise(pooled, log_sharpness, out=None):
    """The log-linear pool from its weighted sum of logs: ``P(k | x) =
    exp(beta * pooled(k | x)) / norm(x)`` with ``beta = exp(log_sharpness)``.

    The fit (through `log_pool`) and the prediction both end here: this is
    the one place the formula lives.

    Returns
    -------
    unnormalised : ndarray of shape (n_samples, n_classes)
        ``exp(beta * pooled - shift)`` (shift 0 but in rows that would
        underflow or overflow); divided by ``norm`` it is ``P``.
    norm : ndarray of shape (n_samples,)
        Row sums of ``unnormalised``.
    log_norm : ndarray of shape (n_samples,)
        ``logsumexp_k(beta * pooled)``.
    """
    sharpness = np.exp(log_sharpness)
    # No shift by each row's maximum (a reduction over short rows, slow in
    # NumPy; the log-pooling ``whole fit`` and ``predict`` rows of
    # bench/speed.py): pooled floored logs are at most 0 (log 1), so beta * pooled
    # cannot overflow, and the row sums are a BLAS product with ones. Rows
    # whose sum would lose precision to underflow (all their scores below
    # -644), or overflow (only if pooled were far above 0), are redone with
    # their own maximum.
    # In float64 whatever the dtype of ``pooled`` (predict pools float32
    # logs when the fit did).
    with np.errstate(over="ignore"):
        if log_sharpness == 0.0:  # predict folds the sharpness into the weights
            unnormalised = np.exp(pooled, out=out, dtype=np.float64)
        else:
            unnormalised = np.multiply(pooled, sharpness, out=out, dtype=np.float64)
            np.exp(unnormalised, out=unnormalised)
    norm = unnormalised @ np.ones(unnormalised.shape[1])
    with np.errstate(divide="ignore"):  # such rows are redone below
        log_norm = np.log(norm)
    redo_rows = np.flatnonzero(~(norm >= 1e-280) | (norm == np.inf))
    if redo_rows.size:
        redo = sharpness * pooled[redo_rows].astype(np.float64)
        row_top = redo.max(axis=1)
        redo = np.exp(redo - row_top[:, None])
        unnormalised[redo_rows] = redo
        norm[redo_rows] = redo.sum(axis=1)
        log_norm[redo_rows] = np.log(norm[redo_rows]) + row_top
    return unnormalised, norm, log_norm


def log_pool(weights, log_sharpness, log_proba):
    """The log-linear pool of the modules' class probabilities.

    Parameters
    ----------
    weights : ndarray of shape (n_modules,)
    log_sharpness : float
        Log of the sharpness ``beta``.
    log_proba : ndarray of shape (n_modules, n_samples, n_classes)
        Floored log-probabilities of each module,
        ``clipped_log(proba, floor=POOL_FLOOR)``; float32 or float64.

    Returns
    -------
    pooled : ndarray of shape (n_samples, n_classes)
        ``sum_m w[m] log p_m(k | x)``.
    unnormalised, norm, log_norm
        As in `log_pool_normalise`.
    """
    pooled = pooled_logs(weights, log_proba)
    return (pooled, *log_pool_normalise(pooled, log_sharpness))


def _row_blocks(n_samples, n_classes):
    """Slices of consecutive rows of about `LOSS_BLOCK_ELEMENTS` entries."""
    block_rows = max(1, LOSS_BLOCK_ELEMENTS // n_classes)
    return [
        slice(start, start + block_rows) for start in range(0, n_samples, block_rows)
    ]


def log_pool_loss(weights, log_sharpness, log_proba, y, sample_weight):
    """Log-loss of `log_pool` and its gradient.

    Parameters
    ----------
    weights : ndarray of shape (n_modules,)
    log_sharpness : float
    log_proba : ndarray of shape (n_modules, n_samples, n_classes)
        As in `log_pool`.
    y : ndarray of shape (n_samples,)
        Integer class codes in ``[0, n_classes)``.
    sample_weight : ndarray of shape (n_samples,)
        Non-negative, summing to one.

    Returns
    -------
    loss : float
    grad_weights : ndarray of shape (n_modules,)
    grad_log_sharpness : float
    """
    n_modules, n_samples, n_classes = log_proba.shape
    loss, grad_weights, grad_log_sharpness = 0.0, np.zeros(n_modules), 0.0
    for rows in _row_blocks(n_samples, n_classes):
        block_loss, block_grad, block_grad_sharpness = _log_pool_loss_block(
            weights,
            log_sharpness,
            log_proba[:, rows],
            y[rows],
            sample_weight[rows],
        )
        loss += block_loss
        grad_weights += block_grad
        grad_log_sharpness += block_grad_sharpness
    return loss, grad_weights, grad_log_sharpness


def _log_pool_loss_block(weights, log_sharpness, log_proba, y, sample_weight):
    """`log_pool_loss` of one block of rows (a view of the tensor)."""
    n_modules, n_samples, n_classes = log_proba.shape
    pooled, scores, norm, log_norm = log_pool(weights, log_sharpness, log_proba)
    sharpness = np.exp(log_sharpness)
    true_index = np.arange(n_samples) * n_classes + y
    loss = sample_weight @ (log_norm - sharpness * np.take(pooled, true_index))
    # d loss / d (beta * pooled) = sample_weight * (P - onehot(y)), in place.
    # The one-hot is subtracted here, in float64, before the product with a
    # float32 tensor: the product then sums the small differences, not two
    # large sums whose float32 rounding would exceed the solver's tolerance.
    scores *= (sample_weight / norm)[:, None]
    scores.ravel()[true_index] -= sample_weight
    grad_log_sharpness = sharpness * np.vdot(scores, pooled)
    flat = log_proba.reshape(n_modules, n_samples * n_classes)
    grad_weights = sharpness * (
        flat @ scores.reshape(-1).astype(flat.dtype, copy=False)
    )
    return float(loss), grad_weights.astype(np.float64), float(grad_log_sharpness)


class LogPoolLoss:
    """The log-pooling loss on out-of-fold rows, plus ``(SHARPNESS_PENALTY
    / 2) * log(beta)^2``; the extra parameter is ``log(beta)``.

    Parameters
    ----------
    log_proba : ndarray of shape (n_modules, n_samples, n_classes)
        Floored logs of the modules' probabilities (float32 or float64).
    y : ndarray of shape (n_samples,)
        Class codes.
    sample_weight : ndarray of shape (n_samples,) or None
    """

    n_extra = 1
    evaluation_reads_rows = True  # a subsample solve is a cheap warm start

    def __init__(self, log_proba, y, sample_weight=None):
        self.log_proba = log_proba
        self.y = np.asarray(y, dtype=np.intp)
        self.n_modules, self.n_samples = log_proba.shape[:2]
        self.sample_weight = normalised_weights(sample_weight, self.n_samples)

    def initial_extra(self):
        return np.zeros(1)  # sharpness beta = exp(0) = 1

    def loss_grad(self, weights, extra):
        log_sharpness = extra[0]
        loss, grad_weights, grad_sharpness = log_pool_loss(
            weights,
            log_sharpness,
            self.log_proba,
            self.y,
            self.sample_weight,
        )
        loss += 0.5 * SHARPNESS_PENALTY * log_sharpness**2
        grad_sharpness += SHARPNESS_PENALTY * log_sharpness
        return loss, grad_weights, np.array([grad_sharpness])

    @staticmethod
    def extra_penalty(extra):
        """The sharpness's penalty, ``(SHARPNESS_PENALTY / 2) log(beta)^2``."""
        return 0.5 * SHARPNESS_PENALTY * float(extra[0]) ** 2

    def row_losses(self, weights, extra):
        """Each row's log-loss (no penalty), block by block of rows as in
        `log_pool_loss`."""
        n_classes = self.log_proba.shape[2]
        losses = np.empty(self.n_samples)
        for rows in _row_blocks(self.n_samples, n_classes):
            pooled, _, _, log_norm = log_pool(
                weights, extra[0], self.log_proba[:, rows]
            )
            true_index = np.arange(len(log_norm)) * n_classes + self.y[rows]
            losses[rows] = log_norm - np.exp(extra[0]) * np.take(pooled, true_index)
        return losses

    def value(self, weights, extra):
        """The mean log-loss alone (no penalty): what held-out rows score."""
        return float(self.sample_weight @ self.row_losses(weights, extra))

    def fold_sums(self, weights, extra, folds):
        """`fold_sums` of the rows' log-losses: one evaluation of the pool."""
        return fold_sums(self.row_losses(weights, extra), self.sample_weight, folds)

    @staticmethod
    def drop(weights, extra, module):
        """The pool without ``module``, every other module's exponent
        ``beta * w[m]`` unchanged (the other terms of the pool stay as
        they are): renormalised weights and a lower sharpness."""
        kept = 1.0 - weights[module]
        if kept <= 0:
            return renormalised_without(weights, module), extra
        return renormalised_without(weights, module), extra + np.log(kept)

    def predict_rows(self, rows, weights, extra):
        """The pooled probabilities of ``rows``."""
        _, unnormalised, norm, _ = log_pool(weights, extra[0], self.log_proba[:, rows])
        return unnormalised / norm[:, None]

    def keep_modules(self, modules):
        """The loss of the pool of ``modules`` (indices) alone."""
        return LogPoolLoss(self.log_proba[modules], self.y, self.sample_weight)

    def take(self, rows):
        return LogPoolLoss(
            # Fancy indexing along axis 1 returns a non-contiguous array,
            # which every evaluation would then copy to flatten it.
            np.ascontiguousarray(self.log_proba[:, rows]),
            self.y[rows],
            self.sample_weight[rows],
        )


class _FlooredLog:
    """``log(max(block, POOL_FLOOR))`` into ``out``, in ``dtype``: in
    float32 the floored block is rounded to float32 and the log is
    float32's, what the fit computed when its store was float32."""

    def __init__(self, dtype):
        self.dtype = np.dtype(dtype)
        self._floor = None

    def __call__(self, block, out):
        # On some CPUs NumPy's maximum against an array of the floor is
        # faster than against a scalar (the log-pooling ``predict`` row of
        # bench/speed.py); one array serves every module of the block.
        if self._floor is None or self._floor.shape != out.shape:
            self._floor = np.full(out.shape, POOL_FLOOR, dtype=out.dtype)
        if out.dtype == block.dtype:
            np.maximum(block, self._floor, out=out)
        else:
            # Rounding is monotone, so rounding then flooring is flooring
            # then rounding; a float64-to-float32 maximum is a slower loop
            # than a cast and a float32 maximum (the log-pooling ``predict``
            # row of bench/speed.py).
            np.copyto(out, block, casting="same_kind")
            np.maximum(out, self._floor, out=out)
        return np.log(out, out=out)


class LogPooling(ClassProbabilities):
    """Log-linear pooling with a learned sharpness ``beta`` (``combine='log'``).

    Its store is the whole (n_modules, n_samples, n_classes) probability
    tensor, turned in place into floored logs for the loss; in float32 from
    `FLOAT32_ROWS` rows on.
    """

    name = "log"
    # A single module's weight of one still floors and renormalises its
    # probabilities (and a sharpness of one applies).
    single_module_is_own_output = False

    # From this many out-of-fold rows the store is float32: half the memory
    # and half the bytes each pass of the weight step reads. On large sets
    # the weights then move by less than the solver's own tolerance; on
    # smaller ones, where the whole fit costs little anyway, float32's
    # rounding can move them by more, so they stay in float64.
    FLOAT32_ROWS = 200_000

    def __init__(self, classes):
        super().__init__(classes)
        # The dtype of the logs the weights were learned on (set by
        # `allocate`): predictions pool logs of that dtype, what the weights
        # were fitted to.
        self.log_dtype = np.dtype(np.float64)

    def allocate(
        self, modules, codes, sample_weight, *, keep_rows=False, keep_outputs=False
    ):
        n_modules, n_samples = len(modules), len(codes)
        dtype = np.float32 if n_samples >= self.FLOAT32_ROWS else np.float64
        self.log_dtype = np.dtype(dtype)
        return Store(
            proba=np.empty((n_modules, n_samples, len(self.classes)), dtype=dtype),
            **self._allocate_scores(modules, codes, sample_weight),
        )

    def write(self, store, module, rows, output):
        store.proba[module, rows] = output
        self._add_score(
            store, module, rows, self._true_class_proba(store, rows, output)
        )

    def loss(self, store):
        log_proba = clipped_log(store.proba, out=store.proba, floor=POOL_FLOOR)
        return LogPoolLoss(log_proba, store.codes, store.sample_weight)

    def combine(self, outputs, weights, extra, out=None):
        # The sharpness beta goes into the weights (beta * sum_m w[m] log p_m
        # = sum_m (beta w[m]) log p_m): one pass fewer over the result. The
        # sum is in the dtype of the logs, as the fit's pool was, and is
        # normalised in float64 into ``out``.
        sharpness = np.exp(extra[0])
        transform = _FlooredLog(self.log_dtype)
        pooled = weighted_sum(weights * sharpness, outputs, transform)
        with one_blas_thread():  # a small BLAS product: see `one_blas_thread`
            unnormalised, norm, _ = log_pool_normalise(pooled, 0.0, out=out)
            return np.divide(unnormalised, norm[:, None], out=unnormalised)

    def fitted_attributes(self, extra):
        return {"sharpness_": float(np.exp(extra[0]))}
