"""
==============================================
Learned attention over a set of diverse models
==============================================

Seven very different classifiers -- a linear model, a shallow and a deep
decision tree, a random forest, gradient boosting, k-nearest neighbours and
naive Bayes -- are fitted on the breast-cancer data bundled with
scikit-learn. :class:`~skweighting.SparseAttentionClassifier` learns one
attention weight per model from their out-of-fold predictions.

This example reads what a plain fit learned -- ``attention_weights_`` and the
module table ``modules_`` -- and compares the held-out log-loss and accuracy
of the ensemble (log pooling, the default, and the linear mixture) with a
soft :class:`~sklearn.ensemble.VotingClassifier` (uniform weights) and a
:class:`~sklearn.ensemble.StackingClassifier` (logistic-regression
meta-model) built from the very same modules and folds.
"""

# %%
# The data and the modules
# ------------------------
#
# Any scikit-learn classifier can be a module, Pipelines included. The deep
# tree is fully grown: perfect on its training rows, poor on new ones.
import numpy as np
import pandas as pd
from sklearn.datasets import load_breast_cancer
from sklearn.ensemble import (
    HistGradientBoostingClassifier,
    RandomForestClassifier,
    StackingClassifier,
    VotingClassifier,
)
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, log_loss
from sklearn.model_selection import StratifiedKFold, train_test_split
from sklearn.naive_bayes import GaussianNB
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.tree import DecisionTreeClassifier

from skweighting import SparseAttentionClassifier

X, y = load_breast_cancer(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.3, stratify=y, random_state=0
)

modules = [
    ("logistic", make_pipeline(StandardScaler(), LogisticRegression(C=0.1))),
    ("stump_tree", DecisionTreeClassifier(max_depth=2, random_state=0)),
    ("deep_tree", DecisionTreeClassifier(random_state=0)),
    ("forest", RandomForestClassifier(n_estimators=100, random_state=0)),
    ("boosting", HistGradientBoostingClassifier(max_iter=100, random_state=0)),
    ("knn", make_pipeline(StandardScaler(), KNeighborsClassifier(n_neighbors=15))),
    ("naive_bayes", GaussianNB()),
]
# The same folds for every method that learns from out-of-fold predictions.
cv = StratifiedKFold(n_splits=5, shuffle=True, random_state=0)
print(f"Breast cancer: {X_train.shape[0]} training rows, {X_test.shape[0]} held out")

# %%
# A plain fit
# -----------
#
# ``fit`` fits every module on each fold of ``cv``, learns the weights from
# the predictions each module made on its held-out rows, then refits the
# modules on all the training rows. ``attention_weights_`` holds one weight
# per module, in the order of ``module_names_``: non-negative, summing to
# one.
attention = SparseAttentionClassifier(modules, cv=cv, n_jobs=2, random_state=0)
attention.fit(X_train, y_train)

for name, weight in zip(attention.module_names_, attention.attention_weights_):
    print(f"{name:<12} weight {weight:.3f}  " + "#" * int(round(40 * weight)))
print(f"sum of the weights: {attention.attention_weights_.sum():.6f}")
print(f"learned output sharpness (sharpness_): {attention.sharpness_:.3f}")
print(f"L-BFGS iterations (n_iter_):              {attention.n_iter_}")

# %%
# The module table
# ----------------
#
# ``modules_`` gathers what the ensemble knows about each module -- its
# weight, its own out-of-fold score (the negative log-loss, for classifiers),
# whether it was pruned, and the seconds spent fitting it on the folds and
# refitting it -- as a dict of columns, which :class:`pandas.DataFrame`
# turns into a table. The times vary from run to run.
table = pd.DataFrame(attention.modules_)
print(table.round(4).to_string(index=False))

# %%
# Read ``weight`` against ``oof_score``: the weights follow out-of-fold
# quality *and* complementarity, so a good module that repeats another one
# can get less weight than a weaker but different one, and the deep tree,
# poor out-of-fold, gets almost none. The held-out log-loss of each refitted
# module (``named_estimators_`` maps each name to it) is shown beside them,
# with the weights the linear mixture (``combine="linear"``) learns from the
# same out-of-fold predictions.
linear = SparseAttentionClassifier(
    modules, combine="linear", cv=cv, n_jobs=2, random_state=0
).fit(X_train, y_train)

table = pd.DataFrame(
    {
        "module": attention.modules_["module"],
        "OOF log-loss": -attention.modules_["oof_score"],
        "test log-loss": [
            log_loss(y_test, attention.named_estimators_[name].predict_proba(X_test))
            for name in attention.modules_["module"]
        ],
        "weight (log)": attention.modules_["weight"],
        "weight (linear)": linear.modules_["weight"],
    }
)
print(table.round(4).to_string(index=False))

# %%
# Held-out comparison
# -------------------
#
# The same modules and folds in a soft ``VotingClassifier`` and a
# ``StackingClassifier``, against the two attention ensembles fitted above.
voting = VotingClassifier(modules, voting="soft", n_jobs=2).fit(X_train, y_train)
stacking = StackingClassifier(modules, cv=cv, n_jobs=2).fit(X_train, y_train)
candidates = {
    "attention (log pooling)": attention,
    "attention (linear mixture)": linear,
    "VotingClassifier (soft)": voting,
    "StackingClassifier": stacking,
}
results = {
    name: (
        log_loss(y_test, model.predict_proba(X_test)),
        accuracy_score(y_test, model.predict(X_test)),
    )
    for name, model in candidates.items()
}

print(f"{'method':<28} {'log-loss':>9} {'accuracy':>9}")
for name, (loss, accuracy) in sorted(results.items(), key=lambda r: r[1]):
    print(f"{name:<28} {loss:>9.4f} {accuracy:>9.3f}")

# %%
# The stacking meta-model's coefficients, for comparison: signed, unbounded,
# one per (module, class column) -- harder to read than attention weights.
meta = stacking.final_estimator_
print(
    ", ".join(
        f"{name}={coef:+.2f}" for (name, _), coef in zip(modules, np.ravel(meta.coef_))
    )
)
