"""The math of attention weighting, in small pure NumPy functions.

Nothing here knows about scikit-learn estimators. The pieces are:

* a normaliser that turns logits into weights (`softmax`, with its backward
  pass `softmax_backward`), collected in `NORMALISERS` so another normaliser
  can be dropped in;
* one loss with its analytic gradient per way of combining module outputs
  (`log_pool_loss`, `linear_mixture_loss`, `squared_error_loss` /
  `quadratic_loss`), each wrapped in a small "combination" object that holds
  the module outputs and can hand out a row subset of itself;
* `AttentionObjective`, which adds the normaliser and the L2 penalty on the
  logits and exposes ``loss, grad = objective(theta)`` to a solver;
* two solvers, `minimize_lbfgs` (SciPy) and `minimize_adam` (NumPy).

The solvers work in the scaled coordinates ``u = logits / temperature``:
``softmax(logits / T)`` becomes ``softmax(u)`` and the penalty
``(alpha / 2) ||logits||^2`` becomes ``(alpha * T^2 / 2) ||u||^2``. This is
the same optimum, but the problem stays equally well conditioned at every
temperature.
"""

from collections import namedtuple

import numpy as np
from scipy.linalg import LinAlgError, cho_factor, cho_solve
from scipy.optimize import minimize
from threadpoolctl import threadpool_limits

# Probabilities are floored before taking logs: a module that puts exactly
# zero on the true class would otherwise give an infinite loss.
PROBA_FLOOR = 1e-15

# In log pooling a module's zero probability is a veto that no other module
# can overrule: log(1e-15) = -34.5. Tree ensembles emit exact zeros, and one
# such veto on a held-out row cost more log-loss than all the other rows
# together (breast_cancer: 0.21 with 1e-15 against 0.11 with 1e-3; wine and
# digits unchanged). Flooring at 1e-3 caps a veto at log(1e-3) = -6.9.
POOL_FLOOR = 1e-3


# --------------------------------------------------------------------------
# Normalisers
# --------------------------------------------------------------------------
def softmax(logits, temperature=1.0):
    """Temperature-scaled softmax, stable for any temperature > 0.

    Parameters
    ----------
    logits : ndarray of shape (n_modules,)
        Attention logits.
    temperature : float, default=1.0
        Divides the logits before the softmax; must be > 0.

    Returns
    -------
    weights : ndarray of shape (n_modules,)
        Non-negative weights summing to one.
    """
    logits = np.asarray(logits, dtype=np.float64)
    # Subtract the maximum before dividing, so huge logits cannot overflow.
    exp = np.exp((logits - np.max(logits)) / temperature)
    return exp / exp.sum()


def softmax_backward(weights, grad_weights, temperature=1.0):
    """Gradient with respect to the logits of a loss, given its gradient
    with respect to ``weights = softmax(logits / temperature)``."""
    return weights * (grad_weights - weights @ grad_weights) / temperature


Normaliser = namedtuple("Normaliser", ["forward", "backward"])
NORMALISERS = {"softmax": Normaliser(softmax, softmax_backward)}


# --------------------------------------------------------------------------
# Losses and their gradients with respect to the weights
# --------------------------------------------------------------------------
def clipped_log(proba, out=None, floor=PROBA_FLOOR):
    """``log(max(proba, floor))``; with ``out=proba`` it works in place."""
    out = np.maximum(proba, floor, out=out)
    return np.log(out, out=out)


def log_pool_loss(weights, log_scale, log_proba, y, sample_weight):
    """Log-loss of the log-linear pool of the modules' probabilities.

    ``log P(k | x) = beta * sum_m w[m] log p_m(k | x) - logsumexp_k(...)``
    with ``beta = exp(log_scale)``.

    Parameters
    ----------
    weights : ndarray of shape (n_modules,)
    log_scale : float
        Log of the output sharpness ``beta``.
    log_proba : ndarray of shape (n_modules, n_samples, n_classes)
        Floored log-probabilities of each module,
        ``clipped_log(proba, floor=POOL_FLOOR)``.
    y : ndarray of shape (n_samples,)
        Integer class codes in ``[0, n_classes)``.
    sample_weight : ndarray of shape (n_samples,)
        Non-negative, summing to one.

    Returns
    -------
    loss : float
    grad_weights : ndarray of shape (n_modules,)
    grad_log_scale : float
    """
    n_modules, n_samples, n_classes = log_proba.shape
    flat = log_proba.reshape(n_modules, n_samples * n_classes)
    # One pass over the tensor forward, one backward: keep the small vectors
    # in the tensor's dtype so NumPy never upcasts (copies) the tensor.
    pooled = (weights.astype(flat.dtype) @ flat).reshape(n_samples, n_classes)
    pooled = pooled.astype(np.float64, copy=False)
    scale = np.exp(log_scale)
    # The n x K work is a hand-written logsumexp in one buffer, with as few
    # passes as possible: at large n it costs as much as the tensor passes.
    # NumPy's reductions over short rows (axis=1) are several times slower
    # than a pass over the data, so the shift is one global maximum and the
    # row sums are a BLAS product with ones. Rows whose sum would lose
    # precision to underflow (all their scores far below the maximum) are
    # redone with their own maximum.
    true_index = np.arange(n_samples) * n_classes + y
    true_scores = scale * np.take(pooled, true_index)
    scores = np.multiply(pooled, scale)
    top = scores.max()
    scores -= top
    np.exp(scores, out=scores)
    norm = scores @ np.ones(n_classes)
    with np.errstate(divide="ignore"):  # underflowed rows are redone below
        log_norm = np.log(norm) + top
    small = np.flatnonzero(norm < 1e-280)
    if small.size:
        redo = scale * pooled[small]
        row_top = redo.max(axis=1)
        redo = np.exp(redo - row_top[:, None])
        scores[small] = redo
        norm[small] = redo.sum(axis=1)
        log_norm[small] = np.log(norm[small]) + row_top
    loss = sample_weight @ (log_norm - true_scores)

    # grad_scores = sample_weight * (softmax(scores) - onehot(y))
    scores *= (sample_weight / norm)[:, None]
    scores.ravel()[true_index] -= sample_weight
    grad_log_scale = scale * np.vdot(scores, pooled)
    grad_weights = scale * (flat @ scores.ravel().astype(flat.dtype, copy=False))
    return float(loss), grad_weights.astype(np.float64), float(grad_log_scale)


def linear_mixture_loss(weights, proba_true, sample_weight):
    """Log-loss of the mixture ``P(k | x) = sum_m w[m] p_m(k | x)``.

    Only the probability each module gives the true class matters, so the
    cost is O(n_samples * n_modules).

    Parameters
    ----------
    weights : ndarray of shape (n_modules,)
    proba_true : ndarray of shape (n_samples, n_modules)
        ``p_m(y_i | x_i)``.
    sample_weight : ndarray of shape (n_samples,)
        Non-negative, summing to one.

    Returns
    -------
    loss : float
    grad_weights : ndarray of shape (n_modules,)
    """
    mixture = proba_true @ weights.astype(proba_true.dtype)
    floored = mixture < PROBA_FLOOR
    mixture = np.maximum(mixture, PROBA_FLOOR).astype(np.float64, copy=False)
    loss = -(sample_weight @ np.log(mixture))
    # The floor is flat: no gradient flows through floored rows.
    coef = np.where(floored, 0.0, sample_weight / mixture)
    grad_weights = -(coef.astype(proba_true.dtype) @ proba_true)
    return float(loss), grad_weights.astype(np.float64)


def squared_error_loss(weights, errors, sample_weight):
    """Mean squared error of the weighted average of module predictions.

    Because the weights sum to one, the residual of the combination is the
    weighted sum of the modules' own residuals.

    Parameters
    ----------
    weights : ndarray of shape (n_modules,)
    errors : ndarray of shape (n_samples, n_outputs, n_modules)
        ``(f_m(x_i) - y_i) / scale`` per output, scale being the (weighted)
        standard deviation of that output of y.
    sample_weight : ndarray of shape (n_samples,)
        Non-negative, summing to one.

    Returns
    -------
    loss : float
        Weighted mean over samples, plain mean over outputs.
    grad_weights : ndarray of shape (n_modules,)
    """
    n_outputs = errors.shape[1]
    residual = errors @ weights
    weighted = residual * (sample_weight[:, None] / n_outputs)
    loss = np.sum(weighted * residual)
    grad_weights = 2.0 * np.einsum("itm,it->m", errors, weighted)
    return float(loss), grad_weights


def error_gram(errors, sample_weight):
    """The matrix ``G`` with ``squared_error_loss(w) == w @ G @ w``."""
    n_samples, n_outputs, n_modules = errors.shape
    flat = errors.reshape(n_samples * n_outputs, n_modules)
    row_weight = np.repeat(sample_weight / n_outputs, n_outputs)
    return flat.T @ (flat * row_weight[:, None])


def quadratic_loss(weights, gram):
    """``w @ gram @ w`` and its gradient: the squared error in O(M^2)."""
    grad_half = gram @ weights
    return float(weights @ grad_half), 2.0 * grad_half


# --------------------------------------------------------------------------
# Combinations: module outputs plus the loss that scores their combination
# --------------------------------------------------------------------------
def normalised_weights(sample_weight, n_samples):
    """Sample weights scaled to sum to one (uniform when None)."""
    if sample_weight is None:
        return np.full(n_samples, 1.0 / n_samples)
    sample_weight = np.asarray(sample_weight, dtype=np.float64)
    return sample_weight / sample_weight.sum()


# A small L2 penalty on log(beta) keeps the sharpness finite when the pooled
# out-of-fold predictions are (nearly) separable, where the unpenalised loss
# keeps falling as beta grows. Measured on the same module fits
# (bench/results/sharpness.md): wine 0.0925 -> 0.0307 held-out log-loss,
# mean over 7 sets 0.2599 -> 0.2509, digits, vowel and letter unchanged.
SCALE_PENALTY = 1e-2


class LogPooling:
    """Log-linear pooling of class probabilities with a learned sharpness.

    Its loss is `log_pool_loss` plus ``(SCALE_PENALTY / 2) * log(beta)^2``.
    """

    n_extra = 1

    def __init__(self, log_proba, y, sample_weight=None):
        self.log_proba = log_proba
        self.y = np.asarray(y, dtype=np.intp)
        self.n_modules, self.n_samples = log_proba.shape[:2]
        self.sample_weight = normalised_weights(sample_weight, self.n_samples)

    def initial_extra(self):
        return np.zeros(1)  # output scale beta = exp(0) = 1

    def loss_grad(self, weights, extra):
        log_scale = extra[0]
        loss, grad_weights, grad_scale = log_pool_loss(
            weights, log_scale, self.log_proba, self.y, self.sample_weight
        )
        loss += 0.5 * SCALE_PENALTY * log_scale**2
        grad_scale += SCALE_PENALTY * log_scale
        return loss, grad_weights, np.array([grad_scale])

    def take(self, rows):
        return LogPooling(
            # Fancy indexing along axis 1 returns a non-contiguous array,
            # which every evaluation would then copy to flatten it.
            np.ascontiguousarray(self.log_proba[:, rows]),
            self.y[rows],
            self.sample_weight[rows],
        )


class LinearMixture:
    """Mixture of class probabilities, scored by the true-class column only."""

    n_extra = 0

    def __init__(self, proba_true, sample_weight=None):
        self.proba_true = proba_true
        self.n_samples, self.n_modules = proba_true.shape
        self.sample_weight = normalised_weights(sample_weight, self.n_samples)

    def initial_extra(self):
        return np.zeros(0)

    def loss_grad(self, weights, extra):
        loss, grad_weights = linear_mixture_loss(
            weights, self.proba_true, self.sample_weight
        )
        return loss, grad_weights, extra

    def take(self, rows):
        return LinearMixture(self.proba_true[rows], self.sample_weight[rows])


class SquaredError:
    """Weighted average of predictions, scored by variance-normalised MSE."""

    n_extra = 0

    def __init__(self, errors, sample_weight=None):
        self.errors = errors
        self.n_samples, _, self.n_modules = errors.shape
        self.sample_weight = normalised_weights(sample_weight, self.n_samples)
        # The loss is quadratic in the weights: after this one pass over the
        # data every evaluation costs O(M^2), whatever n_samples is.
        self.gram = error_gram(errors, self.sample_weight)

    def initial_extra(self):
        return np.zeros(0)

    def loss_grad(self, weights, extra):
        loss, grad_weights = quadratic_loss(weights, self.gram)
        return loss, grad_weights, extra

    def take(self, rows):
        return SquaredError(self.errors[rows], self.sample_weight[rows])


# --------------------------------------------------------------------------
# The objective
# --------------------------------------------------------------------------
class AttentionObjective:
    """Mean loss of the combination plus ``(alpha / 2) ||logits||^2``.

    Called on ``theta = [u, extra]`` with ``u = logits / temperature``, it
    returns the objective and its gradient with respect to ``theta``.
    """

    def __init__(self, combination, *, temperature, alpha, normaliser="softmax"):
        self.combination = combination
        self.temperature = temperature
        self.alpha = alpha
        self.normaliser = normaliser
        # alpha / 2 * ||T u||^2 = (alpha * T^2 / 2) ||u||^2
        self._penalty = alpha * temperature**2

    @property
    def n_samples(self):
        return self.combination.n_samples

    @property
    def n_modules(self):
        return self.combination.n_modules

    def __call__(self, theta):
        forward, backward = NORMALISERS[self.normaliser]
        u, extra = theta[: self.n_modules], theta[self.n_modules :]
        weights = forward(u, 1.0)
        loss, grad_weights, grad_extra = self.combination.loss_grad(weights, extra)
        loss += 0.5 * self._penalty * (u @ u)
        grad_u = backward(weights, grad_weights, 1.0) + self._penalty * u
        return loss, np.concatenate([grad_u, grad_extra])

    def take(self, rows):
        return AttentionObjective(
            self.combination.take(rows),
            temperature=self.temperature,
            alpha=self.alpha,
            normaliser=self.normaliser,
        )


# --------------------------------------------------------------------------
# Solvers
# --------------------------------------------------------------------------
SolverResult = namedtuple(
    "SolverResult", ["theta", "loss", "n_iter", "loss_curve", "converged"]
)


def minimize_lbfgs(fun, theta0, *, max_iter, tol):
    """Minimise ``loss, grad = fun(theta)`` with SciPy's L-BFGS-B.

    Converged means the largest gradient component fell below ``tol``
    (or the line search could not improve further at machine precision).
    """
    loss_curve = []

    def record(intermediate_result):
        loss_curve.append(float(intermediate_result.fun))

    # L-BFGS-B does its own linear algebra on vectors of length n_params
    # through BLAS. A multi-threaded BLAS wakes its threads for each of those
    # tiny calls: on a busy 2-core machine that cost ~5 ms per iteration, ten
    # times the whole solve at small n. One thread is also no slower for the
    # objective's large products, which are limited by memory bandwidth.
    with threadpool_limits(limits=1, user_api="blas"):
        result = minimize(
            fun,
            np.asarray(theta0, dtype=np.float64),
            jac=True,
            method="L-BFGS-B",
            callback=record,
            options={
                "maxiter": max_iter,
                "gtol": tol,
                "ftol": 64 * np.finfo(float).eps,
            },
        )
    # status 1: iteration limit reached before the gradient tolerance; a
    # non-finite objective is never an optimum, whatever the status says.
    converged = result.status != 1 and bool(np.isfinite(result.fun))
    return SolverResult(
        result.x, float(result.fun), int(result.nit), loss_curve, converged
    )


def minimize_adam(
    objective,
    theta0,
    *,
    max_iter,
    tol,
    learning_rate,
    batch_size,
    random_state,
    n_iter_no_change=10,
    beta1=0.9,
    beta2=0.999,
    epsilon=1e-8,
):
    """Minimise an `AttentionObjective` with Adam, full or mini-batch.

    ``max_iter`` counts epochs. After each epoch the full objective is
    evaluated; the run has converged when its largest gradient component is
    below ``tol``. When the loss has not reached a new minimum for
    ``n_iter_no_change`` epochs the step size is halved, which is what lets
    both full-batch runs (which oscillate around the optimum) and mini-batch
    runs (which are noisy) settle on it; the run also ends, converged, once
    the step size has shrunk ten-thousand-fold.
    """
    rng = np.random.default_rng(random_state)
    theta = np.array(theta0, dtype=np.float64)
    first = np.zeros_like(theta)
    second = np.zeros_like(theta)
    n_samples = objective.n_samples
    full_batch = batch_size is None or batch_size >= n_samples
    step_size = learning_rate
    loss_curve = []
    best_loss = np.inf
    n_stalled = 0
    t = 0
    converged = False
    epoch = 0
    while epoch < max_iter:
        epoch += 1
        if full_batch:
            batches = [None]
        else:
            order = rng.permutation(n_samples)
            batches = np.array_split(order, int(np.ceil(n_samples / batch_size)))
        for rows in batches:
            batch_objective = objective if rows is None else objective.take(rows)
            _, grad = batch_objective(theta)
            t += 1
            first = beta1 * first + (1 - beta1) * grad
            second = beta2 * second + (1 - beta2) * grad**2
            corrected = step_size * np.sqrt(1 - beta2**t) / (1 - beta1**t)
            theta -= corrected * first / (np.sqrt(second) + epsilon)
        loss, grad = objective(theta)
        loss_curve.append(float(loss))
        if np.max(np.abs(grad)) <= tol:
            converged = True
            break
        if loss < best_loss:
            best_loss, n_stalled = loss, 0
        else:
            n_stalled += 1
        if n_stalled >= n_iter_no_change:
            step_size /= 2.0
            n_stalled = 0
            if step_size < learning_rate * 1e-4:
                converged = True
                break
    return SolverResult(theta, float(loss), epoch, loss_curve, converged)


def numerical_hessian(fun, theta, step=1e-5):
    """Forward-difference Hessian of ``loss, grad = fun(theta)``, symmetrised:
    ``n_params + 1`` gradient evaluations."""
    n_params = len(theta)
    grad = fun(theta)[1]
    hessian = np.empty((n_params, n_params))
    for j in range(n_params):
        shifted = np.array(theta, dtype=np.float64)
        shifted[j] += step
        hessian[:, j] = (fun(shifted)[1] - grad) / step
    return 0.5 * (hessian + hessian.T)


def polish_newton(objective, theta, hessian, *, max_iter, tol):
    """Quasi-Newton steps on ``objective`` from a good Hessian estimate.

    ``hessian`` (an array, or a function returning it, called only if a step
    is needed) is the Hessian of a close problem (the same objective on a
    random subsample), so the first step is nearly a Newton step; each step
    then updates the inverse Hessian with the BFGS formula from the full
    objective's gradients, so the steps converge superlinearly and a few
    evaluations of the full objective reach ``tol``. Steps stop as soon as
    one does not decrease the loss; the caller then finishes with L-BFGS.
    """
    loss, grad = objective(theta)
    if np.max(np.abs(grad)) <= tol:
        return SolverResult(theta, float(loss), 0, [], True)
    if callable(hessian):  # computed only when a step is needed
        hessian = hessian()
    try:
        inverse = cho_solve(cho_factor(hessian), np.eye(len(theta)))
    except (LinAlgError, ValueError):
        return SolverResult(theta, float(loss), 0, [], False)
    inverse = 0.5 * (inverse + inverse.T)
    loss_curve = []
    n_iter = 0
    while n_iter < max_iter and np.max(np.abs(grad)) > tol:
        step = -inverse @ grad
        new_loss, new_grad = objective(theta + step)
        if not (new_loss <= loss + 64 * np.finfo(float).eps * abs(loss)):
            break
        change = new_grad - grad
        curvature = step @ change
        if curvature > 1e-12 * np.sqrt((step @ step) * (change @ change)):
            rho = 1.0 / curvature
            left = np.eye(len(theta)) - rho * np.outer(step, change)
            inverse = left @ inverse @ left.T + rho * np.outer(step, step)
        theta, loss, grad = theta + step, new_loss, new_grad
        loss_curve.append(float(loss))
        n_iter += 1
    converged = np.max(np.abs(grad)) <= tol
    return SolverResult(theta, float(loss), n_iter, loss_curve, converged)


# Above this many rows, L-BFGS first solves on a random subsample; Newton
# steps with that subsample's Hessian then polish on all rows: the subsample
# optimum is close and its Hessian is nearly the full one, so the full-data
# run needs only a few passes over the (possibly huge) module outputs.
# L-BFGS on all rows finishes the job if the Newton steps stall.
WARM_START_ROWS = 20_000

AttentionFit = namedtuple(
    "AttentionFit", ["logits", "extra", "n_iter", "loss_curve", "converged"]
)


def learn_attention(
    combination,
    *,
    temperature,
    alpha,
    solver="lbfgs",
    max_iter=1000,
    tol=1e-6,
    learning_rate=0.05,
    batch_size=None,
    random_state=None,
    normaliser="softmax",
):
    """Learn attention logits (and any extra parameters) for a combination.

    Logits start at ones, as in the original Keras layer; they are returned
    in the user's coordinates (``weights = softmax(logits / temperature)``).
    """
    objective = AttentionObjective(
        combination, temperature=temperature, alpha=alpha, normaliser=normaliser
    )
    n_modules = combination.n_modules
    theta0 = np.concatenate(
        [np.ones(n_modules) / temperature, combination.initial_extra()]
    )
    rng = np.random.default_rng(random_state)
    if solver == "lbfgs":
        if combination.n_samples > 4 * WARM_START_ROWS:
            rows = np.sort(
                rng.choice(combination.n_samples, WARM_START_ROWS, replace=False)
            )
            subsample = objective.take(rows)
            theta0 = minimize_lbfgs(subsample, theta0, max_iter=max_iter, tol=tol).theta
            result = polish_newton(
                objective,
                theta0,
                lambda: numerical_hessian(subsample, theta0),
                max_iter=max_iter,
                tol=tol,
            )
            if not result.converged and result.n_iter < max_iter:
                finish = minimize_lbfgs(
                    objective,
                    result.theta,
                    max_iter=max_iter - result.n_iter,
                    tol=tol,
                )
                result = SolverResult(
                    finish.theta,
                    finish.loss,
                    result.n_iter + finish.n_iter,
                    result.loss_curve + finish.loss_curve,
                    finish.converged,
                )
        else:
            result = minimize_lbfgs(objective, theta0, max_iter=max_iter, tol=tol)
    elif solver == "adam":
        result = minimize_adam(
            objective,
            theta0,
            max_iter=max_iter,
            tol=tol,
            learning_rate=learning_rate,
            batch_size=batch_size,
            random_state=rng,
        )
    else:
        raise ValueError(f"Unknown solver {solver!r}; use 'lbfgs' or 'adam'.")
    # The solvers only descend, so a non-finite objective at their end means
    # it was never finite: the module outputs cannot be combined.
    if not np.isfinite(result.loss):
        raise FloatingPointError(
            "The attention objective is not finite: some module outputs are "
            "too large to square or to exponentiate."
        )
    theta = result.theta
    return AttentionFit(
        theta[:n_modules] * temperature,
        theta[n_modules:],
        result.n_iter,
        np.asarray(result.loss_curve),
        result.converged,
    )
