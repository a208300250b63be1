"""Solvers of the attention weights' objective (`skweighting._objective`).

SciPy's L-BFGS-B with the analytic gradient, on the form the objective
gives (the scaled logits for a smooth normaliser, the simplex for a sparse
one). At large n it first solves on a random subsample and finishes on all
rows with a few Newton steps from the subsample's Hessian.
"""

from collections import namedtuple

import numpy as np
from scipy.linalg import LinAlgError, cho_factor, cho_solve
from scipy.optimize import minimize

from ._kernels import one_blas_thread

# --------------------------------------------------------------------------
# Solvers
# --------------------------------------------------------------------------
SolverResult = namedtuple(
    "SolverResult", ["theta", "loss", "n_iter", "loss_curve", "converged"]
)


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
    objective,
    *,
    max_iter=1000,
    tol=1e-6,
    random_state=None,
    warm_start=None,
    fixed_zero=None,
    close_start=False,
):
    """Learn the attention logits (and any extra parameters) minimising an
    `~skweighting._objective.Objective`.

    Parameters
    ----------
    objective : Objective
        The loss, the normaliser, ``alpha`` and the temperature.
    max_iter : int
        Maximum number of solver iterations.
    tol : float
        Tolerance on the largest (projected) gradient component.
    random_state : int, Generator or None
        Draws the subsample of the warm start at large n.
    warm_start : AttentionFit or None
        A previous fit, at any temperature, to start from (e.g. the
        neighbouring temperature of a path); None means logits at ones.
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

    Runs on one BLAS thread (`~skweighting._kernels.one_blas_thread`):
    every evaluation is many small BLAS calls.
    """
    temperature = objective.temperature
    form = objective.form(fixed_zero)
    if warm_start is not None:
        theta0 = form.start_from(warm_start, temperature)
    else:
        theta0 = form.initial_theta(temperature)
    loss = objective.loss
    with one_blas_thread():
        if loss.evaluation_reads_rows and form.n_samples > 4 * WARM_START_ROWS:
            rng = np.random.default_rng(random_state)
            result = _solve_from_subsample(
                form, theta0, rng, max_iter=max_iter, tol=tol, close_start=close_start
            )
        else:
            result = minimize_lbfgs(
                form, theta0, max_iter=max_iter, tol=tol, bounds=form.bounds
            )
    theta = result.theta
    weights, u = form.weights_and_u(theta)
    return AttentionFit(
        u * temperature,
        weights,
        theta[form.n_modules :],
        result.loss,
        result.n_iter,
        np.asarray(result.loss_curve),
        result.converged,
        theta,
    )


def _solve_from_subsample(form, theta0, rng, *, max_iter, tol, close_start):
    """L-BFGS on a random subsample of `WARM_START_ROWS` rows (unless
    ``close_start``), then Newton steps on all rows from the subsample's
    Hessian, then L-BFGS on all rows if those did not converge."""
    rows = np.sort(rng.choice(form.n_samples, WARM_START_ROWS, replace=False))
    subsample = form.take(rows)
    start = theta0
    if not close_start:
        start = minimize_lbfgs(
            subsample, theta0, max_iter=max_iter, tol=tol, bounds=form.bounds
        ).theta
    if form.bounds is None:
        result = polish_newton(
            form,
            start,
            lambda: numerical_hessian(subsample, start),
            max_iter=max_iter,
            tol=tol,
        )
    else:
        result = polish_on_the_face(form, subsample, start, max_iter=max_iter, tol=tol)
    if not result.converged and result.n_iter < max_iter:
        finish = minimize_lbfgs(
            form,
            result.theta,
            max_iter=max_iter - result.n_iter,
            tol=tol,
            bounds=form.bounds,
        )
        result = _chain(result, finish)
    return result
