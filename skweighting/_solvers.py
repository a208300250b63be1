"""Learning the attention weights: the objective and its solvers.

The objective is the mean loss of a combination (a "loss data" object from
`skweighting._losses`, with ``loss_grad(weights, extra)``) plus the L2
penalty ``(alpha / 2) ||logits||^2``. With ``u = logits / temperature`` the
weights are ``normaliser(u)`` and the penalty is ``(c / 2) ||u||^2`` with
``c = alpha * temperature**2``: the same optimum at every temperature, in
equally well-conditioned coordinates.

It is solved in one of two forms, chosen by the normaliser:

* ``softmax`` is smooth: `LogitObjective` works on ``u`` directly (L-BFGS,
  with a warm start on a subsample and Newton polishing at large n).
* ``sparsemax`` and ``entmax15`` have kinks: a module outside the support
  gets no gradient from the loss, so a descent on ``u`` can stop with a
  module left out that the optimum needs. `SimplexObjective` instead
  minimises over the weights themselves. For a given ``w`` the logits of
  smallest norm with ``normaliser(u) == w`` are the normaliser's
  ``preimage(w)``, so ``min_u loss(normaliser(u)) + (c/2)||u||^2`` equals
  ``min_w loss(w) + c * penalty(w)`` over the simplex, with ``penalty(w) =
  ||preimage(w)||^2 / 2`` convex. The losses are convex in the weights
  (linear mixture, regression) or in ``sharpness * weights`` (log pooling),
  so L-BFGS-B on the bound-constrained form below reaches the optimum; the
  logits are then ``temperature * preimage(w)``.
"""

import warnings
from collections import namedtuple

import numpy as np
from scipy.linalg import LinAlgError, cho_factor, cho_solve
from scipy.optimize import minimize
from threadpoolctl import ThreadpoolController

from ._normalisers import NORMALISERS


# --------------------------------------------------------------------------
# Objectives
# --------------------------------------------------------------------------
class LogitObjective:
    """``loss(normaliser(u)) + (c / 2) ||u||^2`` over ``theta = [u, extra]``.

    Called on ``theta`` it returns the objective and its gradient.
    """

    bounds = None

    def __init__(self, loss, *, normaliser, penalty):
        self.loss = loss
        self.normaliser = normaliser
        self.penalty = penalty
        self.n_modules = loss.n_modules
        self.n_samples = loss.n_samples

    def initial_theta(self, temperature):
        # Logits start at ones (equal weights), as in the original layer.
        return np.concatenate(
            [np.ones(self.n_modules) / temperature, self.loss.initial_extra()]
        )

    def start_from(self, fit, temperature):
        """A warm start from a fit at another temperature: its logits."""
        return np.concatenate([fit.logits / temperature, fit.extra])

    def __call__(self, theta):
        u, extra = theta[: self.n_modules], theta[self.n_modules :]
        weights = self.normaliser.forward(u)
        loss, grad_weights, grad_extra = self.loss.loss_grad(weights, extra)
        loss += 0.5 * self.penalty * (u @ u)
        grad_u = self.normaliser.backward(weights, grad_weights) + self.penalty * u
        return loss, np.concatenate([grad_u, grad_extra])

    def weights_and_u(self, theta):
        u = theta[: self.n_modules]
        return self.normaliser.forward(u), u

    def take(self, rows):
        return LogitObjective(
            self.loss.take(rows), normaliser=self.normaliser, penalty=self.penalty
        )


class SimplexObjective:
    """``loss(w) + c * penalty(w)`` over the simplex, in a bound-constrained
    form that L-BFGS-B solves.

    ``theta = [r, extra]`` with ``r >= 0`` and ``w = r**p / sum(r**p)``, plus
    ``(sum(r**p) - 1)^2 / 2``, which fixes the otherwise free scale of
    ``r`` without changing the optimum in ``w``. Its stationary points are
    the optima over the simplex: the gradient in ``r_j`` is
    ``p r_j^(p-1) / s * (g_j - w @ g)`` plus the scale term, which vanishes
    (or points into the bound) exactly at the simplex's KKT points. The
    power ``p`` is the normaliser's: 1 for sparsemax; 2 for entmax15, whose
    penalty is smooth in ``r = sqrt(w) * const`` but has an infinite slope
    in ``w`` at zero (it is the same point with ``p = 1`` when ``c = 0``).

    Modules in ``fixed_zero`` (a boolean mask) are held at zero weight by
    bounds ``0 <= r_j <= 0``: the optimum over the face of the others.
    """

    def __init__(self, loss, *, normaliser, penalty, fixed_zero=None):
        self.loss = loss
        self.normaliser = normaliser
        self.penalty = penalty
        self.n_modules = loss.n_modules
        self.n_samples = loss.n_samples
        self.power = normaliser.simplex_power if penalty > 0 else 1
        if fixed_zero is None:
            fixed_zero = np.zeros(self.n_modules, dtype=bool)
        self.fixed_zero = np.asarray(fixed_zero, dtype=bool)
        self.bounds = [
            (0.0, 0.0) if fixed else (0.0, None) for fixed in self.fixed_zero
        ] + [(None, None)] * loss.n_extra

    def initial_theta(self, temperature):
        # The image of logits at ones: equal weights (over the free modules).
        free = ~self.fixed_zero
        r0 = np.where(free, (1.0 / free.sum()) ** (1.0 / self.power), 0.0)
        return np.concatenate([r0, self.loss.initial_extra()])

    def start_from(self, fit, temperature):
        """A warm start from a fit at another temperature: its weights."""
        return np.concatenate([fit.weights ** (1.0 / self.power), fit.extra])

    def __call__(self, theta):
        r, extra = theta[: self.n_modules], theta[self.n_modules :]
        p = self.power
        r_pow = r**p
        total = r_pow.sum()
        if total <= 0.0:  # every r at zero: no weights; push away from it
            return np.inf, np.full_like(theta, np.nan)
        weights = r_pow / total
        loss, grad_weights, grad_extra = self.loss.loss_grad(weights, extra)
        d_r_pow = p * r ** (p - 1)  # d r_j^p / d r_j
        grad_r = d_r_pow / total * (grad_weights - weights @ grad_weights)
        if self.penalty > 0:
            value, grad_root = self.normaliser.root_penalty(r)
            loss += self.penalty * value
            grad_r += self.penalty * grad_root
        loss += 0.5 * (total - 1.0) ** 2
        grad_r += (total - 1.0) * d_r_pow
        return loss, np.concatenate([grad_r, grad_extra])

    def weights_and_u(self, theta):
        r = theta[: self.n_modules]
        r_pow = r**self.power
        weights = r_pow / r_pow.sum()
        return weights, self.normaliser.preimage(weights)

    def take(self, rows):
        return SimplexObjective(
            self.loss.take(rows),
            normaliser=self.normaliser,
            penalty=self.penalty,
            fixed_zero=self.fixed_zero,
        )


def make_objective(loss, *, normaliser, temperature, alpha, fixed_zero=None):
    """The objective of ``normaliser`` (a name in `NORMALISERS`) for
    ``loss``, in the form its solver needs; ``fixed_zero`` (sparse
    normalisers only) holds modules at zero weight."""
    normaliser = NORMALISERS[normaliser]
    penalty = alpha * temperature**2  # alpha/2 ||T u||^2 = (alpha T^2 / 2)||u||^2
    if normaliser.sparse:
        return SimplexObjective(
            loss, normaliser=normaliser, penalty=penalty, fixed_zero=fixed_zero
        )
    if fixed_zero is not None and np.any(fixed_zero):
        raise ValueError("Only a sparse normaliser can hold a weight at zero.")
    return LogitObjective(loss, normaliser=normaliser, penalty=penalty)


# --------------------------------------------------------------------------
# Solvers
# --------------------------------------------------------------------------
SolverResult = namedtuple(
    "SolverResult", ["theta", "loss", "n_iter", "loss_curve", "converged"]
)


# Found once: finding the loaded thread pools reads every loaded library's
# file (~3 ms, a one-output regression's whole weight step at a million
# rows). A BLAS loaded after the first fit is not limited, as with
# scikit-learn's own cached controller: only a solver's speed depends on it.
_controller = None


def one_blas_thread():
    """The context the solvers should run in.

    L-BFGS-B does its own linear algebra on vectors of length n_params
    through BLAS. A multi-threaded BLAS wakes its threads for each of those
    tiny calls: on a busy 2-core machine that cost ~5 ms per iteration, ten
    times the whole solve at small n. One thread is also no slower for the
    objective's large products, which are limited by memory bandwidth.
    """
    global _controller
    if _controller is None:
        _controller = ThreadpoolController()
    return _controller.limit(limits=1, user_api="blas")


def minimize_lbfgs(fun, theta0, *, max_iter, tol, bounds=None):
    """Minimise ``loss, grad = fun(theta)`` with SciPy's L-BFGS-B.

    Converged means the largest (projected) gradient component fell below
    ``tol``, or the line search could not improve further at machine
    precision.
    """
    loss_curve = []

    def record(intermediate_result):
        loss_curve.append(float(intermediate_result.fun))

    result = minimize(
        fun,
        np.asarray(theta0, dtype=np.float64),
        jac=True,
        method="L-BFGS-B",
        bounds=bounds,
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
    """Minimise a `LogitObjective` with Adam, full or mini-batch.

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
    evaluations of the full objective reach ``tol``. A step that neither
    decreases the loss nor, within the rounding of a float32 store, halves
    the largest gradient component is halved up to three times; if none is
    accepted, the steps stop and the caller finishes with L-BFGS.
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
        # Backtrack a few halvings when the full step does not descend (the
        # subsample's Hessian can overshoot on the full data, e.g. with many
        # modules); giving up sends the caller to L-BFGS without any
        # curvature, which costs far more evaluations.
        for _ in range(4):
            new_loss, new_grad = objective(theta + step)
            if new_loss <= loss + 64 * np.finfo(float).eps * abs(loss):
                break
            # Close to the optimum a Newton step lowers the loss by less
            # than the rounding of a float32 store moves it (~1e-10): a step
            # whose loss rises by no more than that rounding and that halves
            # the largest gradient component is progress all the same.
            if new_loss <= loss + 1e-8 * abs(loss) and np.max(
                np.abs(new_grad)
            ) <= 0.5 * np.max(np.abs(grad)):
                break
            step = 0.5 * step
        else:
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


def polish_on_the_face(objective, subsample, theta, *, max_iter, tol):
    """`polish_newton` for the bound-constrained form: Newton steps on the
    variables off their bounds (the face of the simplex the subsample's
    optimum lies on), from the subsample's Hessian of those variables.

    Converged only if the result is also optimal for the full problem:
    every variable still inside its bounds, and the gradient of every
    variable at a bound pointing out of the feasible set (KKT). Otherwise
    the caller finishes with L-BFGS-B from the best point reached.
    """
    n_modules = objective.n_modules
    free = np.ones(len(theta), dtype=bool)
    free[:n_modules] = theta[:n_modules] > 0
    evaluated = []  # (z, full gradient) of each evaluation of the full data

    def restrict(fun, keep_grad):
        def reduced(z):
            full = theta.copy()
            full[free] = z
            loss, grad = fun(full)
            if keep_grad:
                evaluated.append((np.array(z), grad))
            return loss, grad[free]

        return reduced

    result = polish_newton(
        restrict(objective, keep_grad=True),
        theta[free],
        lambda: numerical_hessian(restrict(subsample, False), theta[free]),
        max_iter=max_iter,
        tol=tol,
    )
    polished = theta.copy()
    polished[free] = result.theta
    inside = np.all(polished[:n_modules] >= 0)
    grads = [g for z, g in evaluated if np.array_equal(z, result.theta)]
    at_bound = ~free
    at_bound[:n_modules] &= ~objective.fixed_zero  # held at zero: no KKT test
    kkt = bool(grads) and np.all(grads[-1][at_bound] >= -tol)
    converged = bool(result.converged and inside and kkt)
    if not inside:  # a Newton step left the simplex: start L-BFGS-B from theta
        polished = theta
    return SolverResult(
        polished, result.loss, result.n_iter, result.loss_curve, converged
    )


def _chain(first, second):
    """One result from two consecutive solver runs."""
    return SolverResult(
        second.theta,
        second.loss,
        first.n_iter + second.n_iter,
        first.loss_curve + second.loss_curve,
        second.converged,
    )


# Above this many rows, L-BFGS first solves on a random subsample. The
# subsample's optimum is close to the full one, so the full-data run starts
# next to it and needs only a few passes over the (possibly huge) module
# outputs: for the smooth form, Newton steps with the subsample's Hessian,
# then L-BFGS if they stall; for the bound-constrained form, L-BFGS-B.
WARM_START_ROWS = 20_000

AttentionFit = namedtuple(
    "AttentionFit",
    [
        "logits",
        "weights",
        "extra",
        "objective",
        "n_iter",
        "loss_curve",
        "converged",
        "theta",
    ],
)


def learn_attention(
    loss,
    *,
    temperature,
    alpha,
    normaliser="softmax",
    solver="lbfgs",
    max_iter=1000,
    tol=1e-6,
    learning_rate=0.05,
    batch_size=None,
    random_state=None,
    theta0=None,
    warm_start=None,
    fixed_zero=None,
    close_start=False,
):
    """Learn the attention logits (and any extra parameters) of a loss.

    Parameters
    ----------
    loss : loss data object
        From `skweighting._losses` (``loss_grad``, ``take``, ...).
    temperature, alpha : float
    normaliser : {'softmax', 'sparsemax', 'entmax15'}
    solver : {'lbfgs', 'adam'}
        ``'adam'`` only for ``'softmax'``.
    theta0 : ndarray or None
        Start, in the solver's own form (the ``theta`` of a previous fit at
        the same temperature); None means logits at ones.
    warm_start : AttentionFit or None
        A previous fit, at any temperature, to start from (e.g. the
        neighbouring temperature of a path); overrides ``theta0``.
    fixed_zero : ndarray of bool or None
        Modules held at zero weight (sparse normalisers only): the optimum
        over the others, as after pruning.
    close_start : bool
        The start is already closer to the optimum than a subsample's
        optimum would be (a full-data optimum with a few small weights
        dropped): at large n the subsample then only gives the Hessian of
        the Newton polish, and is not solved first.

    Returns
    -------
    AttentionFit
        ``logits`` in the user's coordinates (``weights =
        normaliser(logits / temperature)``), the ``weights`` themselves
        (exact zeros kept), ``extra`` (e.g. the log-sharpness), the final
        ``objective`` value, the solver's report, and ``theta`` in the
        solver's own form (a warm start for a neighbouring fit).
    """
    objective = make_objective(
        loss,
        normaliser=normaliser,
        temperature=temperature,
        alpha=alpha,
        fixed_zero=fixed_zero,
    )
    if warm_start is not None:
        theta0 = objective.start_from(warm_start, temperature)
    elif theta0 is None:
        theta0 = objective.initial_theta(temperature)
    rng = np.random.default_rng(random_state)
    if solver == "adam":
        if objective.bounds is not None:
            raise ValueError(
                f"solver='adam' cannot handle normaliser={normaliser!r}, whose "
                "kinks need the bound-constrained L-BFGS-B form; use "
                "solver='lbfgs'."
            )
        result = minimize_adam(
            objective,
            theta0,
            max_iter=max_iter,
            tol=tol,
            learning_rate=learning_rate,
            batch_size=batch_size,
            random_state=rng,
        )
    elif loss.evaluation_reads_rows and objective.n_samples > 4 * WARM_START_ROWS:
        rows = np.sort(rng.choice(objective.n_samples, WARM_START_ROWS, replace=False))
        subsample = objective.take(rows)
        start = theta0
        if not close_start:
            start = minimize_lbfgs(
                subsample, theta0, max_iter=max_iter, tol=tol, bounds=objective.bounds
            ).theta
        if objective.bounds is None:
            result = polish_newton(
                objective,
                start,
                lambda: numerical_hessian(subsample, start),
                max_iter=max_iter,
                tol=tol,
            )
        else:
            result = polish_on_the_face(
                objective, subsample, start, max_iter=max_iter, tol=tol
            )
        if not result.converged and result.n_iter < max_iter:
            finish = minimize_lbfgs(
                objective,
                result.theta,
                max_iter=max_iter - result.n_iter,
                tol=tol,
                bounds=objective.bounds,
            )
            result = _chain(result, finish)
    else:
        result = minimize_lbfgs(
            objective, theta0, max_iter=max_iter, tol=tol, bounds=objective.bounds
        )
    theta = result.theta
    weights, u = objective.weights_and_u(theta)
    return AttentionFit(
        u * temperature,
        weights,
        theta[objective.n_modules :],
        result.loss,
        result.n_iter,
        np.asarray(result.loss_curve),
        result.converged,
        theta,
    )


def warn_deprecated_adam():
    warnings.warn(
        "solver='adam' is deprecated and will be removed in skweighting 0.3: "
        "measured at 100,000 and 1,000,000 rows, L-BFGS (with its warm start "
        "on a subsample) reaches the optimum 4 to 100 times faster, and it "
        "handles the sparse normalisers. Use solver='lbfgs' (the default); "
        "learning_rate and batch_size go with 'adam'.",
        FutureWarning,
    )
