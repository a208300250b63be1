"""The ways of combining module outputs, one object (and one file) each.

Every combination answers the same few questions, so the estimator never
asks which one it has:

* ``method`` and ``read(estimator, name, X)``: which method
  of a module is called, and its output checked and laid out for this
  combination (class probabilities in the columns of ``classes_``, or 2-D
  predictions); ``check(output, name, estimator, module_classes)`` does the
  same for an output already computed on a fold;
* ``allocate(modules, targets, sample_weight, *, keep_rows=False,
  keep_outputs=False)`` and ``write(store, module, rows, output)``: the
  out-of-fold store, and how one fold's output goes into it (only what the
  loss needs is kept; ``keep_rows``: enough for a loss on any subset of
  rows, ``take``; ``keep_outputs``: enough for predictions of out-of-fold
  rows, ``predict_rows``);
* ``loss(store)``: the loss object the solvers minimise (``loss_grad``,
  ``value``, ``extra_penalty``, ``fold_sums``, ``drop``, ``take``,
  ``keep_modules``, ``predict_rows``); ``module_scores(store)``: each
  module's own out-of-fold score, named ``score_name``;
  ``placeholder(n_rows)``: outputs standing in for a module that failed on
  a fold;
* ``combine(outputs, weights, extra, out=None)``: the prediction, from the
  outputs of the modules with non-zero weight (an iterable: each is folded
  in as it comes), ``n_columns`` wide; ``predict_block(modules, X, weights,
  extra, out=None)``: the same from the (name, estimator) pairs of those
  modules, each called on the rows ``X`` and its output checked as its turn
  comes;
* ``output_names(prefix, module_name)`` (for ``get_feature_names_out``) and
  ``fitted_attributes(extra)`` (fitted attributes of the extra parameters,
  e.g. the sharpness).

`LogPooling` and `LinearMixture` combine classifiers, `Average` regressors;
each task (`skweighting._tasks`) registers the combinations it offers.
"""

from .average import Average
from .log_pool import LogPooling
from .mixture import LinearMixture

__all__ = ["Average", "LinearMixture", "LogPooling"]
