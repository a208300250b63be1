"""
==============================================
Sparse weights: pruning modules with sparsemax
==============================================

Softmax, the default normaliser, gives every module a positive weight, so
every module is refitted on all the data and called at every prediction,
however little it contributes. ``normaliser="sparsemax"`` gives exact zeros.
A module with weight zero is **pruned**: it took part in the weight learning
(its out-of-fold predictions were weighed), but it is neither refitted nor
called by ``predict``, ``predict_proba``, ``score`` or ``transform``.

This example fits six modules on the breast-cancer data bundled with
scikit-learn, with softmax and with sparsemax, reads which modules are in use
(``support_``, ``n_nonzero_``, ``estimators_``, ``named_estimators_`` and the
module table ``modules_``), and draws the weights with
:class:`~skweighting.AttentionDisplay`, which marks the pruned modules.
"""

# %%
# The data and the modules
# ------------------------
import matplotlib.pyplot as plt
import pandas as pd
from sklearn.datasets import load_breast_cancer
from sklearn.ensemble import ExtraTreesClassifier, RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss
from sklearn.model_selection import train_test_split
from sklearn.naive_bayes import GaussianNB
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.tree import DecisionTreeClassifier

from skweighting import AttentionDisplay, SparseAttentionClassifier

X, y = load_breast_cancer(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.3, stratify=y, random_state=0
)
modules = [
    ("logistic", make_pipeline(StandardScaler(), LogisticRegression())),
    ("forest", RandomForestClassifier(n_estimators=100, random_state=0)),
    ("knn", make_pipeline(StandardScaler(), KNeighborsClassifier(n_neighbors=15))),
    ("naive_bayes", GaussianNB()),
    ("tree", DecisionTreeClassifier(max_depth=4, random_state=0)),
    ("extra_trees", ExtraTreesClassifier(n_estimators=100, random_state=0)),
]

# %%
# Softmax: every module in use
# ----------------------------
dense = SparseAttentionClassifier(modules, cv=3, n_jobs=2, random_state=0)
dense.fit(X_train, y_train)
print("softmax weights:  ", dense.attention_weights_.round(3))
print(f"modules in use (n_nonzero_): {dense.n_nonzero_} of {len(modules)}")

# %%
# Sparsemax: exact zeros
# ----------------------
#
# Sparsemax's optimum leaves out the modules the out-of-fold loss does not
# want. Then, by default (``prune_tol=1``), the fit drops modules from the
# smallest weight up as long as the out-of-fold loss stays within one
# standard error (across the folds) of the optimum's, and learns the
# remaining weights again. ``prune_tol=0`` keeps the optimum's support.
sparse = SparseAttentionClassifier(
    modules, normaliser="sparsemax", cv=3, n_jobs=2, random_state=0
).fit(X_train, y_train)
optimum = SparseAttentionClassifier(
    modules, normaliser="sparsemax", prune_tol=0, cv=3, n_jobs=2, random_state=0
).fit(X_train, y_train)

print("sparsemax weights, prune_tol=0:", optimum.attention_weights_.round(3))
print("sparsemax weights, prune_tol=1:", sparse.attention_weights_.round(3))
print(f"support_:   {sparse.support_}")
print(f"n_nonzero_: {sparse.n_nonzero_} of {len(sparse.module_names_)}")
print(
    "in use:",
    [name for name, kept in zip(sparse.module_names_, sparse.support_) if kept],
)

# %%
# What a pruned module looks like
# -------------------------------
#
# A pruned module stays in ``module_names_``, ``attention_weights_`` (as 0),
# ``oof_scores_`` and ``modules_``: it was weighed and left out. It is absent
# from ``estimators_`` (the refitted modules, in the order of
# ``module_names_``), maps to ``'drop'`` in ``named_estimators_``, and its
# ``refit_time`` in the module table is 0: there is no fitted copy of it to
# call.
print(f"estimators_: {len(sparse.estimators_)} refitted modules")
for name, fitted in sparse.named_estimators_.items():
    shown = repr(fitted) if isinstance(fitted, str) else type(fitted).__name__
    print(f"  named_estimators_[{name!r}]: {shown}")

table = pd.DataFrame(sparse.modules_)
print(table[["module", "weight", "oof_score", "pruned", "refit_time"]].round(4))

# %%
# ``transform`` stacks the class probabilities of the modules in use only:
# two columns (one per class) for each of them.
print(sparse.get_feature_names_out())
print("transform(X_test) shape:", sparse.transform(X_test).shape)

# %%
# Held-out log-loss
# -----------------
#
# Fewer modules in use means fewer refits and cheaper predictions. Whether
# it costs accuracy depends on the data: here is what it does on the
# held-out rows (the benchmarks compare the normalisers over many data
# sets).
for label, model in [
    ("softmax", dense),
    ("sparsemax, prune_tol=0", optimum),
    ("sparsemax, prune_tol=1", sparse),
]:
    loss = log_loss(y_test, model.predict_proba(X_test))
    print(f"{label:<24} {model.n_nonzero_} modules, held-out log-loss {loss:.4f}")

# %%
# The plot
# --------
#
# :class:`~skweighting.AttentionDisplay` draws each module's weight beside
# its own out-of-fold score, and marks the pruned modules.
display = AttentionDisplay.from_estimator(sparse)
display.figure_.suptitle('normaliser="sparsemax"')
plt.show()
