"""What the combinations of classifiers share: reading a module's class
probabilities into the columns of the ensemble's ``classes_``, and each
module's own out-of-fold log-likelihood."""

import numpy as np

from .._modules import call_module, check_probabilities, class_columns
from ._common import clipped_log, normalised_weights


def _same_labels(module_classes, classes):
    """Whether a module learned exactly ``classes``, in their order."""
    return len(module_classes) == len(classes) and np.array_equal(
        module_classes, classes
    )


class ClassProbabilities:
    """Base of the combinations of classifiers' probabilities.

    Parameters
    ----------
    classes : ndarray of shape (n_classes,)
        The ensemble's sorted class labels.
    """

    method = "predict_proba"
    score_name = "out-of-fold log-likelihood"

    def __init__(self, classes):
        self.classes = np.asarray(classes)
        self.n_columns = len(self.classes)

    def read(self, estimator, name, X, *, check_rows=True):
        """The module's checked outputs on ``X``, in the columns of
        ``classes``."""
        output = call_module(estimator, name, X, self.method)
        return self.check(
            output, name, estimator, estimator.classes_, check_rows=check_rows
        )

    def check(self, output, name, estimator, module_classes, *, check_rows=True):
        """``read`` for an output already computed by a fitted module that
        learned ``module_classes`` (``estimator`` names it in errors):
        checked, entries rounded below zero clipped, and zeros in the
        columns of the classes it never saw. ``check_rows=False`` leaves its
        row sums unchecked (`check_probabilities`)."""
        if _same_labels(module_classes, self.classes):
            # The usual case, found without `class_columns`' search:
            # predict checks every block of rows of every module.
            columns = None
            n_columns = len(self.classes)
        else:
            columns = class_columns(module_classes, name, estimator, self.classes)
            n_columns = len(columns)
        if check_probabilities(
            output, name, estimator, n_columns, check_rows=check_rows
        ):
            output = np.maximum(output, 0.0)  # rounding below zero only
        if columns is None:
            return output  # already in the order of classes_
        aligned = np.zeros((output.shape[0], len(self.classes)))
        aligned[:, columns] = output
        return aligned

    def predict_block(self, modules, X, weights, extra, out=None):
        """`combine` of the checked outputs of ``modules`` ((name,
        estimator) pairs) on the rows ``X``, each module called as its turn
        comes: its output is checked and folded in while it is in cache."""
        outputs = (self.read(estimator, name, X) for name, estimator in modules)
        return self.combine(outputs, weights, extra, out=out)

    def output_names(self, prefix, module_name):
        return [f"{prefix}_{module_name}_{label}" for label in self.classes]

    def placeholder(self, n_rows):
        """Outputs standing in for a module that failed on a fold (it is
        left out of the weights): uniform probabilities."""
        return np.full((n_rows, self.n_columns), 1.0 / self.n_columns)

    def _allocate_scores(self, modules, codes, sample_weight):
        return dict(
            codes=np.asarray(codes, dtype=np.intp),
            sample_weight=normalised_weights(sample_weight, len(codes)),
            scores=np.zeros(len(modules)),
        )

    @staticmethod
    def _true_class_proba(store, rows, output):
        # A gather through flat indices: one index array, not a pair (the
        # store writes of the ``whole fit`` rows of bench/speed.py).
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
