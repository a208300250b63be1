"""Tasks: what differs between classifying and regressing.

A task checks the modules, encodes y, says whether ``cv`` stratifies,
gives the default portfolio, registers the combinations it offers, turns
the combined output into a prediction, scores it, and sets the tags. The
public classifiers and regressors fix their task;
`~skweighting.SparseAttentionEnsemble` takes it from its modules, as a
Pipeline takes its kind from its last step.
"""

import numpy as np
from sklearn.base import is_classifier, is_regressor
from sklearn.metrics import accuracy_score, r2_score
from sklearn.utils._tags import ClassifierTags, RegressorTags

from ._combinations import Average, LinearMixture, LogPooling
from ._portfolio import default_classifiers, default_regressors
from ._validation import (
    check_classification_y,
    check_module_kind,
    check_regression_y,
    is_drop,
)


class Classification:
    """Modules are classifiers with ``predict_proba``; y is class labels,
    encoded as codes into ``classes_``; the combinations pool the modules'
    probabilities."""

    kind = "classifier"
    # Whether the combined output is class probabilities (predict_proba).
    probabilistic = True
    stratify = True
    # The combinations offered, by name; the first is the default.
    combinations = {"log": LogPooling, "linear": LinearMixture}
    default_estimators = staticmethod(default_classifiers)

    @staticmethod
    def is_member(module):
        return is_classifier(module)

    def check_module(self, name, module, owner_name):
        check_module_kind(name, module, is_classifier, "classifier", owner_name)

    def encode(self, y, modules, sample_weight, owner_name):
        """``(y, codes, fitted)``: y as the modules are fitted on it, the
        class codes the combinations are learned on, and the fitted
        attributes (``classes_``)."""
        y, classes, codes = check_classification_y(y)
        if sample_weight is not None:
            weighted = np.unique(codes[sample_weight > 0])
            if len(weighted) < 2:
                raise ValueError(
                    "sample_weight is zero for every sample but those of class "
                    f"{classes[weighted].tolist()[0]!r}; a classifier needs "
                    "positive weight on at least 2 classes."
                )
        return y, codes, {"classes_": classes}

    def combination(self, name, targets, fitted):
        """The combination ``name`` for targets encoded by `encode`."""
        return self.combinations[name](fitted["classes_"])

    @staticmethod
    def decode(codes, fitted):
        """Labels of class codes (what a scorer compares predictions with)."""
        return fitted["classes_"][codes]

    @staticmethod
    def predict(combined, classes):
        """The class with the highest combined probability."""
        return classes[np.argmax(combined, axis=1)]

    @staticmethod
    def score(y, y_pred, sample_weight=None):
        return accuracy_score(y, y_pred, sample_weight=sample_weight)

    @staticmethod
    def set_tags(tags, module_tags):
        tags.estimator_type = "classifier"
        tags.classifier_tags = ClassifierTags()
        tags.classifier_tags.multi_class = all(
            t.classifier_tags is None or t.classifier_tags.multi_class
            for t in module_tags or []
        )
        return tags


class Regression:
    """Modules are regressors; y is numeric (multi-output when every module
    can); the combination averages the predictions."""

    kind = "regressor"
    probabilistic = False
    stratify = False
    combinations = {"linear": Average}
    default_estimators = staticmethod(default_regressors)

    @staticmethod
    def is_member(module):
        return is_regressor(module)

    def check_module(self, name, module, owner_name):
        check_module_kind(name, module, is_regressor, "regressor", owner_name)

    def encode(self, y, modules, sample_weight, owner_name):
        """``(y, y, {})``: regression targets are learned on as they are."""
        y = check_regression_y(y, modules, owner_name)
        return y, y, {}

    def combination(self, name, targets, fitted):
        n_outputs = 1 if targets.ndim == 1 else targets.shape[1]
        return self.combinations[name](n_outputs, targets.ndim)

    @staticmethod
    def decode(targets, fitted):
        return targets

    @staticmethod
    def predict(combined, classes=None):
        return combined

    @staticmethod
    def score(y, y_pred, sample_weight=None):
        return r2_score(y, y_pred, sample_weight=sample_weight)

    @staticmethod
    def set_tags(tags, module_tags):
        tags.estimator_type = "regressor"
        tags.regressor_tags = RegressorTags()
        tags.target_tags.multi_output = bool(module_tags) and all(
            t.target_tags.multi_output for t in module_tags
        )
        return tags


CLASSIFICATION = Classification()
REGRESSION = Regression()
TASKS = (CLASSIFICATION, REGRESSION)


def task_of(modules):
    """The task all ``modules`` ((name, estimator) pairs, ``'drop'``
    allowed) belong to, or None when they do not share one (or are not
    estimators: fit says what is wrong)."""
    active = [m for _, m in modules if not is_drop(m)]
    try:
        return next(
            (task for task in TASKS if active and all(map(task.is_member, active))),
            None,
        )
    except Exception:
        return None


def mixed_modules_error(modules, owner_name):
    """The error for modules that are neither all classifiers nor all
    regressors."""
    active = [(n, m) for n, m in modules if not is_drop(m)]
    classifiers = [n for n, m in active if is_classifier(m)]
    others = [n for n, m in active if not is_classifier(m)]
    return ValueError(
        f"{owner_name} takes its kind from its modules, which must be all "
        f"classifiers or all regressors; got classifiers {classifiers} and "
        f"non-classifiers {others}. Split them into two ensembles or use "
        "SparseAttentionClassifier/Regressor."
    )
