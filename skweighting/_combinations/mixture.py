"""The linear mixture of classifiers' probabilities, ``P(k|x) = sum_m w[m]
p_m(k|x)`` (``combine='linear'``): its log-loss and gradient, the loss
object the solvers minimise (`MixtureLoss`) and the combination
(`LinearMixture`)."""

import numpy as np

from .._kernels import weighted_sum
from .._modules import row_sums, rows_sum_to_one
from ._common import (
    PROBA_FLOOR,
    Store,
    fold_sums,
    normalised_weights,
    renormalised_without,
)
from ._probabilities import ClassProbabilities


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
    """The linear mixture's loss on out-of-fold rows.

    Parameters
    ----------
    proba_true : ndarray of shape (n_modules, n_samples)
        Each module's probability of each row's true class.
    sample_weight : ndarray of shape (n_samples,) or None
    proba : ndarray of shape (n_modules, n_samples, n_classes) or None
        Every class's probabilities, only where a scorer needs the
        mixture's predictions (`predict_rows`), not only its log-loss.
    """

    n_extra = 0
    evaluation_reads_rows = True

    def __init__(self, proba_true, sample_weight=None, proba=None):
        self.proba_true = proba_true
        self.proba = proba
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

    def predict_rows(self, rows, weights, extra):
        """The mixture's probabilities of ``rows`` (needs ``proba``)."""
        return np.tensordot(weights, self.proba[:, rows], axes=1)

    def keep_modules(self, modules):
        """The loss of the mixture of ``modules`` (indices) alone."""
        proba = None if self.proba is None else self.proba[modules]
        return MixtureLoss(self.proba_true[modules], self.sample_weight, proba)

    def take(self, rows):
        proba = None if self.proba is None else self.proba[:, rows]
        return MixtureLoss(self.proba_true[:, rows], self.sample_weight[rows], proba)


def _renormalised(proba, sums):
    """``proba`` with each row whose sum (in ``sums``) is not one, up to 64
    ulps, divided by it (in place). The weights sum to one, so do the
    mixture's rows, up to the modules' own rounding."""
    off = np.flatnonzero(np.abs(sums - 1.0) > 64 * np.finfo(float).eps)
    if off.size:
        proba[off] /= sums[off, None]
    return proba


class LinearMixture(ClassProbabilities):
    """The mixture ``P(k|x) = sum_m w[m] p_m(k|x)`` (``combine='linear'``).

    Its log-loss needs only each module's probability of the true class, so
    the store is an (n_modules, n_samples) matrix (plus the whole outputs
    when a scorer needs the mixture's probabilities of every class).
    """

    name = "linear"
    # A single module's weight of one gives its own predictions.
    single_module_is_own_output = True

    def allocate(
        self, modules, codes, sample_weight, *, keep_rows=False, keep_outputs=False
    ):
        n_modules, n_samples = len(modules), len(codes)
        return Store(
            proba_true=np.empty((n_modules, n_samples)),
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

    def loss(self, store):
        return MixtureLoss(store.proba_true, store.sample_weight, store.proba)

    def combine(self, outputs, weights, extra, out=None):
        proba = weighted_sum(weights, outputs, out=out)
        return _renormalised(proba, row_sums(proba))

    def predict_block(self, modules, X, weights, extra, out=None):
        """`combine` of the outputs of ``modules`` ((name, estimator) pairs)
        on the rows ``X``, each module called as its turn comes.

        Each output's entries are checked as it comes (NaN or below zero
        fail); the row sums are checked once, on the mixture. The weights
        are positive and sum to one, so the mixture's rows sum to one
        within the tolerance when every module's do. Only when a mixture
        row does not is each module called again and checked in full, to
        name it. A module's rows that are off by less than the tolerance
        over its weight (or two modules' errors that cancel) pass here; the
        fit checked each module's out-of-fold rows in full.
        """
        outputs = (
            self.read(estimator, name, X, check_rows=False)
            for name, estimator in modules
        )
        proba = weighted_sum(weights, outputs, out=out)
        sums = row_sums(proba)
        if sums.size and not rows_sum_to_one(sums):
            for name, estimator in modules:
                self.read(estimator, name, X)
        return _renormalised(proba, sums)

    def fitted_attributes(self, extra):
        return {}
