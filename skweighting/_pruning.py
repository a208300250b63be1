"""Pruning: fewer modules than the out-of-fold optimum keeps, at a cost in
out-of-fold loss no larger than its noise.

The optimum of a sparse normaliser often gives a few modules small weights
whose gain in out-of-fold loss is well within that loss's noise. As the
"one-standard-error rule" of ``cv.glmnet`` picks the sparsest model whose
cross-validated error is within one standard error of the best, `prune`
drops modules from the smallest weight up (those below `NEGLIGIBLE_WEIGHT`
first, untested) while the rise of the objective (the out-of-fold loss and the
penalties) over the optimum stays within ``tol`` standard errors of the
loss's rise, measured across the cv folds
(each fold's rows were held out from the module fits that produced them).
The estimator then learns the remaining weights again, with the dropped
modules held at zero.

Pure NumPy, on an `~skweighting._objective.Objective`: its loss's
``fold_sums`` and ``drop``, and its ``penalty``.
"""

import numpy as np

# Weights below this are dropped without a test: each moves a prediction by
# less than a millionth of a module's output.
NEGLIGIBLE_WEIGHT = 1e-6


def rise_and_standard_error(candidate, optimum, fold_weight):
    """Mean rise of the loss from ``optimum`` to ``candidate`` and its
    standard error across the folds.

    Parameters
    ----------
    candidate, optimum : ndarray of shape (n_folds,)
        Sample-weighted sums of the rows' losses over each fold.
    fold_weight : ndarray of shape (n_folds,)
        Sum of the sample weights over each fold; folds without weight are
        left out.

    Returns
    -------
    rise : float
        The rise of the (weighted) mean loss over all rows.
    standard_error : float
        ``sqrt(weighted variance of the folds' rises / (n_folds - 1))``, as
        ``cv.glmnet`` computes its ``cvsd``; ``inf`` with fewer than two
        folds with weight.
    """
    present = fold_weight > 0
    weight = fold_weight[present]
    rises = (candidate[present] - optimum[present]) / weight
    share = weight / weight.sum()
    rise = float(share @ rises)
    if weight.size < 2:
        return rise, np.inf
    variance = float(share @ (rises - rise) ** 2)
    return rise, float(np.sqrt(variance / (weight.size - 1)))


def prune(objective, weights, extra, folds, tol):
    """Drop modules from the smallest weight up while the objective rises by
    at most ``tol`` standard errors (of the out-of-fold loss's rise) over
    the optimum's.

    Parameters
    ----------
    objective : Objective
        Its loss gives ``fold_sums(weights, extra, folds)`` and
        ``drop(weights, extra, module)``; its ``penalty(weights, extra)``
        (the L2 penalty on the logits, the sharpness's) is the rest of the
        objective, whose change is added to the loss's rise. Without it a
        strong penalty (high temperature) would leave the weights far from
        the loss's optimum, where dropping a module lowers the loss and
        every drop would pass.
    weights : ndarray of shape (n_modules,)
        The optimum's weights.
    extra : ndarray
        The optimum's extra parameters (e.g. the log-sharpness).
    folds : list of slice
        The rows of each cv fold, in the loss's row order.
    tol : float
        Number of standard errors; 0 keeps the optimum's support.

    Returns
    -------
    weights, extra
        The last accepted point: the optimum's with the dropped modules at
        zero and the others rescaled (not yet learned again).
    """
    weights = np.asarray(weights, dtype=np.float64)
    if tol <= 0:
        return weights, extra
    loss = objective.loss
    optimum, fold_weight = loss.fold_sums(weights, extra, folds)
    optimum_penalty = objective.penalty(weights, extra)
    weights, extra = drop_negligible(loss, weights, extra)
    while np.count_nonzero(weights) > 1:
        support = np.flatnonzero(weights)
        smallest = support[np.argmin(weights[support])]
        candidate_weights, candidate_extra = loss.drop(weights, extra, smallest)
        candidate, _ = loss.fold_sums(candidate_weights, candidate_extra, folds)
        rise, standard_error = rise_and_standard_error(candidate, optimum, fold_weight)
        rise += objective.penalty(candidate_weights, candidate_extra) - optimum_penalty
        if not rise <= tol * standard_error:
            break
        weights, extra = candidate_weights, candidate_extra
    return weights, extra


def drop_negligible(loss, weights, extra):
    """``weights`` without those below `NEGLIGIBLE_WEIGHT` (the largest kept
    if all are), untested: entmax15's optimum gives every module one, held
    up only by the penalty, so dropping them lowers the loss, raises the
    penalty by as much, and the rise, tiny as it is, would be measured
    against a standard error as tiny."""
    support = np.flatnonzero(weights)
    negligible = support[weights[support] < NEGLIGIBLE_WEIGHT]
    if negligible.size == support.size:  # keep the largest of them
        negligible = np.delete(negligible, np.argmax(weights[negligible]))
    for module in negligible:
        weights, extra = loss.drop(weights, extra, module)
    return weights, extra
