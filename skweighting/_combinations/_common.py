"""Pieces every combination's loss uses: floored logs, normalised sample
weights, per-fold sums (for pruning) and a module's removal."""

import numpy as np

# Probabilities are floored before taking logs: a module that puts exactly
# zero on the true class would otherwise give an infinite loss.
PROBA_FLOOR = 1e-15


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


class Store:
    """What a combination keeps of the out-of-fold outputs during a fit: a
    namespace of arrays that only the combination that allocated it reads
    and writes."""

    def __init__(self, **arrays):
        self.__dict__.update(arrays)
