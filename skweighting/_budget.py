"""Serving within a budget: each module's predict cost, and the nested path
of supports from the weights' support down to one module.

A module with weight zero is never called at predict time, so the predict
cost of an ensemble is the sum of the costs of the modules it keeps, each
with the ensemble's own work on its output, plus the ensemble's own part of
a call (`ensemble_cost`). Each
step of the path drops the module whose removal costs the least out-of-fold
loss per unit saved, and learns the others' weights again: per second of
predict cost under a cost budget, per module under a budget of modules
(`savings`).

Pure functions of an `~skweighting._objective.Objective` and a ``solve``
callable; the estimators choose a point of the path within their budget.
"""

from collections import namedtuple

import numpy as np

from ._objective import Objective

SupportPoint = namedtuple(
    "SupportPoint", ["modules", "fit", "loss", "standard_error", "cost"]
)
SupportPoint.__doc__ = """One ensemble of the path: the indices of the modules it
keeps, its fit over all the modules (zero weight for the others), its
out-of-fold loss and that loss's standard error across the cv folds, and
its predict cost (`ensemble_cost`)."""

# A module measured as free still saves something when it is dropped: its
# loss per unit of cost saved is then large, not infinite.
MIN_COST = 1e-12


def predict_costs(fold_seconds):
    """Each module's predict cost, the seconds of one call that predicts
    1,000 rows, and the part of it that does not grow with the rows.

    Parameters
    ----------
    fold_seconds : ndarray of shape (n_modules, n_folds, 4)
        Seconds spent on each fold fitting, predicting the held-out rows,
        and then predicting `~skweighting._modules.CALL_ROWS` and 1,000 of
        them in calls of their own.

    Returns
    -------
    costs : ndarray of shape (n_modules,)
    per_call : ndarray of shape (n_modules,)
        The seconds of a call itself, at most the cost.

    Each is the median over the folds, so that one call slowed by the
    machine (a page fault, another process) does not set the cost.
    """
    costs = np.median(fold_seconds[:, :, 3], axis=1)
    per_call = np.minimum(np.median(fold_seconds[:, :, 2], axis=1), costs)
    return costs, per_call


def ensemble_cost(costs, modules, fixed):
    """The predict cost of an ensemble keeping ``modules``: the ensemble's
    own ``fixed`` part of a call plus the costs of the modules it keeps
    (each with the ensemble's own work on its output)."""
    return float(fixed + np.sum(costs[list(modules)]))


def savings(costs, max_cost):
    """What dropping each module saves, the unit the path trades loss
    against: its predict cost under a cost budget (``max_cost`` set), one
    module otherwise (a budget of modules counts modules, whatever they
    cost)."""
    if max_cost is None:
        return np.ones(len(costs))
    return np.asarray(costs, dtype=np.float64)


def restricted(objective, modules):
    """``objective`` over ``modules`` (indices) alone."""
    return Objective(
        objective.loss.keep_modules(modules),
        objective.normaliser,
        alpha=objective.alpha,
        temperature=objective.temperature,
    )


def expanded(fit, modules, n_modules):
    """A fit over ``modules`` (indices) as one over all ``n_modules``: the
    others get weight 0 and logit -inf (zero weight under every
    normaliser)."""
    if len(modules) == n_modules:
        return fit
    weights = np.zeros(n_modules)
    logits = np.full(n_modules, -np.inf)
    weights[modules], logits[modules] = fit.weights, fit.logits
    return fit._replace(weights=weights, logits=logits)


def _point(objective, fit, modules, costs, folds, fixed):
    """The `SupportPoint` of a fit over all modules that keeps ``modules``."""
    loss = objective.loss
    sums, fold_weight = loss.fold_sums(fit.weights, fit.extra, folds)
    present = fold_weight > 0
    means = sums[present] / fold_weight[present]
    share = fold_weight[present] / fold_weight[present].sum()
    value = float(share @ means)
    standard_error = np.inf
    if means.size > 1:
        variance = float(share @ (means - value) ** 2)
        standard_error = float(np.sqrt(variance / (means.size - 1)))
    cost = ensemble_cost(costs, modules, fixed)
    return SupportPoint(tuple(modules), fit, value, standard_error, cost)


def support_path(objective, fit, costs, folds, solve, *, saved=None, fixed=0.0):
    """The nested supports from ``fit``'s down to one module.

    Parameters
    ----------
    objective : Objective
        Over every module.
    fit : AttentionFit
        The starting weights (over every module).
    costs : ndarray of shape (n_modules,)
        Each module's predict cost.
    folds : list of slice
        The rows of each cv fold, for the loss's standard error.
    solve : callable
        ``solve(objective, warm_start=fit) -> AttentionFit``.
    saved : ndarray of shape (n_modules,) or None
        What dropping each module saves (`savings`); None: its cost.
    fixed : float, default=0.0
        The ensemble's own cost of a call, whatever it keeps.

    Returns
    -------
    list of SupportPoint
        From ``fit``'s support (its own weights) to one module; each next
        point drops the module of the smallest rise of the out-of-fold loss
        per unit saved, the others' weights learned again.
    """
    n_modules = len(costs)
    saved = costs if saved is None else saved
    support = [int(m) for m in np.flatnonzero(fit.weights > 0)]
    points = [_point(objective, fit, support, costs, folds, fixed)]
    while len(support) > 1:
        trials = []
        for module in support:
            kept = [m for m in support if m != module]
            start = points[-1].fit
            warm = start._replace(
                weights=start.weights[kept] / start.weights[kept].sum(),
                logits=start.logits[kept],
            )
            trial = expanded(solve(restricted(objective, kept), warm), kept, n_modules)
            point = _point(objective, trial, kept, costs, folds, fixed)
            rise = point.loss - points[-1].loss
            trials.append((rise / max(float(saved[module]), MIN_COST), module, point))
        _, dropped, point = min(trials, key=lambda t: (t[0], t[1]))
        support = list(point.modules)
        points.append(point)
    return points


def affordable_start(objective, fit, costs, max_cost, solve, fixed=0.0):
    """The fit a path of supports within ``max_cost`` starts from: ``fit``,
    or, if it keeps a module that alone costs more than ``max_cost`` (no
    ensemble within the budget can keep it), the weights learned again over
    the modules that alone fit the budget (the cheapest one, if none of
    them but it is in ``fit``'s support)."""
    n_modules = len(costs)
    if max_cost is None or np.all(fixed + costs[fit.weights > 0] <= max_cost):
        return fit
    affordable = [int(m) for m in np.flatnonzero(fixed + costs <= max_cost)]
    kept = [m for m in affordable if fit.weights[m] > 0] or affordable
    return expanded(solve(restricted(objective, kept), None), kept, n_modules)


def within_budget(points, max_modules=None, max_cost=None):
    """The point of lowest out-of-fold loss among those keeping at most
    ``max_modules`` modules and costing at most ``max_cost`` (None: no
    limit); None if none does."""
    fitting = [
        p
        for p in points
        if (max_modules is None or len(p.modules) <= max_modules)
        and (max_cost is None or p.cost <= max_cost)
    ]
    return min(fitting, key=lambda p: p.loss) if fitting else None


def path_within_budget(
    objective, fit, costs, folds, solve, *, max_modules, max_cost, fixed=0.0
):
    """The path of supports a budget (``max_modules``, ``max_cost``; None:
    no limit) is met on, and its point of lowest out-of-fold loss within
    it: ``(points, point)``.

    The path starts from ``fit`` (`affordable_start`) and trades loss
    against what each drop saves under this budget (`savings`); ``fixed``
    is the ensemble's own cost of a call (`ensemble_cost`).
    """
    start = affordable_start(objective, fit, costs, max_cost, solve, fixed)
    points = support_path(
        objective,
        start,
        costs,
        folds,
        solve,
        saved=savings(costs, max_cost),
        fixed=fixed,
    )
    return points, within_budget(points, max_modules, max_cost)


def check_budget(costs, names, max_cost, fixed=0.0):
    """Raise unless some module alone (with the ensemble's own ``fixed``
    cost of a call) costs at most ``max_cost``."""
    if max_cost is None:
        return
    cheapest = int(np.argmin(costs))
    if fixed + costs[cheapest] > max_cost:
        raise ValueError(
            f"max_predict_cost={max_cost:g} seconds per 1,000 rows is below "
            f"every module's predict cost; the cheapest, {names[cheapest]!r}, "
            f"costs {fixed + costs[cheapest]:.3g} with the ensemble's own "
            f"work on a call ({fixed:.3g} of it; measured during the fit). "
            "Raise the budget or add a cheaper module."
        )
