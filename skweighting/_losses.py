"""Losses of the combined module outputs, in small pure NumPy functions.

Nothing here knows about estimators. Each way of combining module outputs
has one loss with its analytic gradient with respect to the weights, and a
small "loss data" class holding what the loss needs (``loss_grad``,
``take`` a row subset, ``initial_extra``, ``fold_sums`` and ``drop`` for
pruning) so a solver never asks which combination it has:

* log pooling, ``log P(k|x) = beta * sum_m w[m] log p_m(k|x) - logsumexp_k``:
  `log_pool_normalise` is the formula (the loss, through `log_pool`, and the
  prediction both end in it), `log_pool_loss` its log-loss and gradient,
  `LogPoolLoss` the data;
* the linear mixture ``P(k|x) = sum_m w[m] p_m(k|x)``: `linear_mixture_loss`,
  `MixtureLoss`;
* the regression average ``sum_m w[m] f_m(x)``: its variance-normalised
  squared error is the quadratic ``w @ G @ w`` (`error_gram`,
  `quadratic_loss`, `QuadraticLoss`).
"""

import numpy as np

# Probabilities are floored before taking logs: a module that puts exactly
# zero on the true class would otherwise give an infinite loss.
PROBA_FLOOR = 1e-15

# In log pooling a module's zero probability is a veto that no other module
# can overrule: log(1e-15) = -34.5. Tree ensembles emit exact zeros, and one
# such veto on a held-out row cost more log-loss than all the other rows
# together (breast_cancer: 0.21 with 1e-15 against 0.11 with 1e-3; wine and
# digits unchanged). Flooring at 1e-3 caps a veto at log(1e-3) = -6.9.
POOL_FLOOR = 1e-3

# A small L2 penalty on log(beta) keeps the sharpness finite when the pooled
# out-of-fold predictions are (nearly) separable, where the unpenalised loss
# keeps falling as beta grows. Measured on the same module fits: wine 0.0925
# -> 0.0307 held-out log-loss, mean over 7 sets 0.2599 -> 0.2509, digits,
# vowel and letter unchanged.
SHARPNESS_PENALTY = 1e-2


def clipped_log(proba, out=None, floor=PROBA_FLOOR):
    """``log(max(proba, floor))``; with ``out=proba`` it works in place."""
    out = np.maximum(proba, floor, out=out)
    return np.log(out, out=out)


def normalised_weights(sample_weight, n_samples):
    """Sample weights scaled to sum to one (uniform when None)."""
    if sample_weight is None:
        return np.full(n_samples, 1.0 / n_samples)
    sample_weight = np.asarray(sample_weight, dtype=np.float64)
    return sample_weight / sample_weight.sum()


# --------------------------------------------------------------------------
# Log pooling
# --------------------------------------------------------------------------
def fold_sums(row_values, sample_weight, folds):
    """Sample-weighted sums of ``row_values`` over each of ``folds`` (slices
    of rows), and the sums of ``sample_weight`` over them."""
    values = np.array([sample_weight[rows] @ row_values[rows] for rows in folds])
    return values, fold_weights(sample_weight, folds)


def fold_weights(sample_weight, folds):
    """The sums of ``sample_weight`` over each of ``folds``."""
    return np.array([sample_weight[rows].sum() for rows in folds])


def renormalised_without(weights, module):
    """``weights`` with ``module`` set to zero and the rest rescaled to sum
    to one (all zeros if it was the only module with weight)."""
    weights = np.array(weights, dtype=np.float64)
    weights[module] = 0.0
    total = weights.sum()
    return weights / total if total > 0 else weights


class Workspace:
    """Work arrays reused from one evaluation of a loss to the next.

    At a million rows a fresh (n, K) array per evaluation is a fresh set of
    pages for the kernel to fault in: measured on a 2-core VM, that made one
    evaluation vary between 0.23 and 1.2 s.
    """

    def __init__(self):
        self._arrays = {}

    def get(self, name, shape, dtype=np.float64):
        """An uninitialised array of ``shape``: a view of the largest buffer
        asked for under ``name`` so far (blocks of rows of different sizes
        share one)."""
        size = int(np.prod(shape))
        array = self._arrays.get(name)
        if array is None or array.size < size or array.dtype != dtype:
            array = self._arrays[name] = np.empty(size, dtype=dtype)
        return array[:size].reshape(shape)


def pooled_logs(weights, log_proba, workspace=None):
    """``sum_m w[m] log p_m(k | x)`` over an (n_modules, n_samples,
    n_classes) tensor of floored logs: one pass, as float64 (n, K)."""
    workspace = workspace or Workspace()
    n_modules, n_samples, n_classes = log_proba.shape
    flat = log_proba.reshape(n_modules, n_samples * n_classes)
    # Keep the small vector in the tensor's dtype so NumPy never upcasts
    # (copies) the tensor.
    weights = np.asarray(weights).astype(flat.dtype)
    pooled = workspace.get("pooled", (n_samples, n_classes))
    if flat.dtype == np.float64:
        np.dot(weights, flat, out=pooled.reshape(-1))
    else:
        narrow = workspace.get("pooled_narrow", (n_samples, n_classes), flat.dtype)
        np.dot(weights, flat, out=narrow.reshape(-1))
        pooled[...] = narrow
    return pooled


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
    n_classes = pooled.shape[1]
    sharpness = np.exp(log_sharpness)
    # The n x K work is a hand-written logsumexp in one buffer, with as few
    # passes as possible: at large n it costs as much as the tensor passes.
    # NumPy's reductions over short rows (axis=1) are several times slower
    # than a pass over the data, so there is no shift by a maximum: pooled
    # floored logs are at most 0 (log 1), so beta * pooled cannot overflow,
    # and the row sums are a BLAS product with ones. Rows whose sum would lose
    # precision to underflow (all their scores below -644), or overflow (only
    # if pooled were far above 0), are redone with their own maximum.
    with np.errstate(over="ignore"):
        if log_sharpness == 0.0:  # predict folds the sharpness into the weights
            unnormalised = np.exp(pooled, out=out)
        else:
            unnormalised = np.multiply(pooled, sharpness, out=out)
            np.exp(unnormalised, out=unnormalised)
    norm = unnormalised @ np.ones(n_classes)
    with np.errstate(divide="ignore"):  # such rows are redone below
        log_norm = np.log(norm)
    redo_rows = np.flatnonzero(~(norm >= 1e-280) | (norm == np.inf))
    if redo_rows.size:
        redo = sharpness * pooled[redo_rows]
        row_top = redo.max(axis=1)
        redo = np.exp(redo - row_top[:, None])
        unnormalised[redo_rows] = redo
        norm[redo_rows] = redo.sum(axis=1)
        log_norm[redo_rows] = np.log(norm[redo_rows]) + row_top
    return unnormalised, norm, log_norm


def log_pool(weights, log_sharpness, log_proba, workspace=None):
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
    workspace = workspace or Workspace()
    pooled = pooled_logs(weights, log_proba, workspace)
    out = workspace.get("unnormalised", pooled.shape)
    return (pooled, *log_pool_normalise(pooled, log_sharpness, out=out))


# Rows x classes per block of the log-pooling loss. A block's n x K work (a
# dozen element-wise passes and an exp) then stays in cache instead of
# streaming (n, K) arrays through memory a dozen times, and the block of the
# tensor is read from memory once for the pool and again from cache for the
# gradient. Measured at 1,000,000 rows, 10 modules and 10 classes on the
# benchmark machine: one evaluation fell from about 2.8 to 1.3 passes over
# the tensor.
LOSS_BLOCK_ELEMENTS = 2**16


def _row_blocks(n_samples, n_classes):
    """Slices of consecutive rows of about `LOSS_BLOCK_ELEMENTS` entries."""
    block_rows = max(1, LOSS_BLOCK_ELEMENTS // n_classes)
    return [
        slice(start, start + block_rows) for start in range(0, n_samples, block_rows)
    ]


def log_pool_loss(weights, log_sharpness, log_proba, y, sample_weight, workspace=None):
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
    workspace = workspace or Workspace()
    n_modules, n_samples, n_classes = log_proba.shape
    loss, grad_weights, grad_log_sharpness = 0.0, np.zeros(n_modules), 0.0
    for rows in _row_blocks(n_samples, n_classes):
        block_loss, block_grad, block_grad_sharpness = _log_pool_loss_block(
            weights,
            log_sharpness,
            log_proba[:, rows],
            y[rows],
            sample_weight[rows],
            workspace,
        )
        loss += block_loss
        grad_weights += block_grad
        grad_log_sharpness += block_grad_sharpness
    return loss, grad_weights, grad_log_sharpness


def _log_pool_loss_block(
    weights, log_sharpness, log_proba, y, sample_weight, workspace
):
    """`log_pool_loss` of one block of rows (a view of the tensor)."""
    n_modules, n_samples, n_classes = log_proba.shape
    pooled, scores, norm, log_norm = log_pool(
        weights, log_sharpness, log_proba, workspace
    )
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
    if flat.dtype == np.float64:
        grad_scores = scores.reshape(-1)
    else:
        grad_scores = workspace.get("scores_narrow", (scores.size,), flat.dtype)
        grad_scores[...] = scores.reshape(-1)
    grad_weights = sharpness * (flat @ grad_scores)
    return float(loss), grad_weights.astype(np.float64), float(grad_log_sharpness)


class LogPoolLoss:
    """Data of the log-pooling loss, plus ``(SHARPNESS_PENALTY / 2) *
    log(beta)^2``; the extra parameter is ``log(beta)``."""

    n_extra = 1
    evaluation_reads_rows = True  # a subsample solve is a cheap warm start

    def __init__(self, log_proba, y, sample_weight=None):
        self.log_proba = log_proba
        self.y = np.asarray(y, dtype=np.intp)
        self.n_modules, self.n_samples = log_proba.shape[:2]
        self.sample_weight = normalised_weights(sample_weight, self.n_samples)
        self.workspace = Workspace()

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
            self.workspace,
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
                weights, extra[0], self.log_proba[:, rows], self.workspace
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

    def take(self, rows):
        return LogPoolLoss(
            # Fancy indexing along axis 1 returns a non-contiguous array,
            # which every evaluation would then copy to flatten it.
            np.ascontiguousarray(self.log_proba[:, rows]),
            self.y[rows],
            self.sample_weight[rows],
        )


# --------------------------------------------------------------------------
# Linear mixture
# --------------------------------------------------------------------------
def floored_mixture(weights, proba_true):
    """The mixture's probability of each row's true class, ``sum_m w[m]
    p_m(y_i | x_i)``, floored at `PROBA_FLOOR` (in float64), and where the
    floor applied."""
    mixture = np.asarray(weights).astype(proba_true.dtype) @ proba_true
    floored = mixture < PROBA_FLOOR
    return np.maximum(mixture, PROBA_FLOOR).astype(np.float64, copy=False), floored


def linear_mixture_loss(weights, proba_true, sample_weight):
    """Log-loss of the mixture ``P(k | x) = sum_m w[m] p_m(k | x)``.

    Only the probability each module gives the true class matters, so the
    cost is O(n_samples * n_modules).

    Parameters
    ----------
    weights : ndarray of shape (n_modules,)
    proba_true : ndarray of shape (n_modules, n_samples)
        ``p_m(y_i | x_i)``, one module per row (each module's out-of-fold
        output is one contiguous write).
    sample_weight : ndarray of shape (n_samples,)
        Non-negative, summing to one.

    Returns
    -------
    loss : float
    grad_weights : ndarray of shape (n_modules,)
    """
    mixture, floored = floored_mixture(weights, proba_true)
    loss = -(sample_weight @ np.log(mixture))
    # The floor is flat: no gradient flows through floored rows.
    coef = np.where(floored, 0.0, sample_weight / mixture)
    grad_weights = -(proba_true @ coef.astype(proba_true.dtype))
    return float(loss), grad_weights.astype(np.float64)


class MixtureLoss:
    """Data of the linear mixture's loss: the true-class probabilities."""

    n_extra = 0
    evaluation_reads_rows = True

    def __init__(self, proba_true, sample_weight=None):
        self.proba_true = proba_true
        self.n_modules, self.n_samples = proba_true.shape
        self.sample_weight = normalised_weights(sample_weight, self.n_samples)

    def initial_extra(self):
        return np.zeros(0)

    def loss_grad(self, weights, extra):
        loss, grad_weights = linear_mixture_loss(
            weights, self.proba_true, self.sample_weight
        )
        return loss, grad_weights, extra

    def value(self, weights, extra):
        """The mean log-loss (what held-out rows score)."""
        return linear_mixture_loss(weights, self.proba_true, self.sample_weight)[0]

    @staticmethod
    def extra_penalty(extra):
        return 0.0

    def fold_sums(self, weights, extra, folds):
        """`fold_sums` of the rows' log-losses."""
        mixture, _ = floored_mixture(weights, self.proba_true)
        return fold_sums(-np.log(mixture), self.sample_weight, folds)

    @staticmethod
    def drop(weights, extra, module):
        """The mixture without ``module``, the others rescaled."""
        return renormalised_without(weights, module), extra

    def take(self, rows):
        return MixtureLoss(self.proba_true[:, rows], self.sample_weight[rows])


# --------------------------------------------------------------------------
# Regression average
# --------------------------------------------------------------------------
# Rows per block when the Gram matrix is accumulated with sample weights: the
# weighted copy of a block stays in cache instead of one of the whole tensor.
GRAM_BLOCK_ROWS = 8192


def error_gram(errors, sample_weight):
    """The matrix ``G`` of the average's squared error ``w @ G @ w``.

    Because the weights sum to one, the residual of the average is the
    weighted sum of the modules' own residuals, so its (sample-weighted,
    output-averaged) squared error is quadratic in the weights.

    Parameters
    ----------
    errors : ndarray of shape (n_modules, n_samples, n_outputs)
        ``(f_m(x_i) - y_i) / scale`` per output.
    sample_weight : ndarray of shape (n_samples,)
        Non-negative, summing to one.
    """
    n_modules, n_samples, n_outputs = errors.shape
    if np.all(sample_weight == sample_weight[0]):
        # Equal weights: one BLAS product over the errors, no copy.
        flat = errors.reshape(n_modules, n_samples * n_outputs)
        return (flat @ flat.T) * (sample_weight[0] / n_outputs)
    gram = np.zeros((n_modules, n_modules))
    for start in range(0, n_samples, GRAM_BLOCK_ROWS):
        block = errors[:, start : start + GRAM_BLOCK_ROWS]
        flat = block.reshape(n_modules, -1)
        row_weight = np.repeat(
            sample_weight[start : start + GRAM_BLOCK_ROWS] / n_outputs, n_outputs
        )
        gram += (flat * row_weight) @ flat.T
    return gram


def quadratic_loss(weights, gram):
    """``w @ gram @ w`` and its gradient: the squared error in O(M^2)."""
    grad_half = gram @ weights
    return float(weights @ grad_half), 2.0 * grad_half


class QuadraticLoss:
    """Data of the regression average's loss: the Gram matrix of the scaled
    errors (one pass over them; every evaluation then costs O(M^2)).

    Built from the errors, or from the Gram matrices of the folds (then
    ``errors`` is None and ``sample_weight`` gives the number of rows):
    the loss is the same, but ``take`` needs the errors.
    """

    n_extra = 0
    # An evaluation costs O(M^2) whatever the number of rows: a solve on a
    # subsample first would save nothing.
    evaluation_reads_rows = False

    def __init__(self, errors, sample_weight=None, fold_grams=None):
        self.errors = errors
        self.fold_grams = fold_grams
        if errors is None:
            self.n_modules = fold_grams.shape[1]
            self.n_samples = len(sample_weight)
            self.gram = fold_grams.sum(axis=0)
        else:
            self.n_modules, self.n_samples, _ = errors.shape
        self.sample_weight = normalised_weights(sample_weight, self.n_samples)
        if errors is not None:
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

    def take(self, rows):
        if self.errors is None:
            raise RuntimeError(
                "This loss kept only the Gram matrix of the errors, not their "
                "rows (allocate the store with keep_rows=True)."
            )
        return QuadraticLoss(self.errors[:, rows], self.sample_weight[rows])
