"""
=============================
Serving within a budget
=============================

A module with weight zero is neither refitted nor called at predict time, so
an ensemble's predict cost is the costs of the modules it keeps, plus its own
work on a call. Every estimator takes a predict-time budget:

* ``max_modules=k``: at most ``k`` modules refitted and called;
* ``max_predict_cost=c``: a call predicting 1,000 rows costs at most ``c``
  seconds: each module's cost timed on its cv folds during the fit
  (``modules_["predict_cost"]``), and the ensemble's own work, timed
  during the fit too.

This example fits six modules of very different predict costs on the
breast-cancer data bundled with scikit-learn, reads each module's cost and
the ensemble's expected cost ``predict_cost_``, holds the fit to two modules,
follows its path of supports (``support_path_``) and draws the loss / cost
frontier with :class:`~skweighting.plotting.FrontierDisplay`, for a plain
estimator and for a CV estimator. The costs are timings, so they move a
little from run to run.
"""

# %%
# The data and the modules
# ------------------------
# Two forests of 100 trees cost far more per prediction than a logistic
# regression, naive Bayes or a single tree.
import time

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

from skweighting import SparseAttentionClassifier, SparseAttentionClassifierCV
from skweighting.plotting import FrontierDisplay

X, y = load_breast_cancer(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.3, stratify=y, random_state=0
)
modules = [
    ("logistic", make_pipeline(StandardScaler(), LogisticRegression())),
    ("forest", RandomForestClassifier(n_estimators=100, random_state=0)),
    ("extra_trees", ExtraTreesClassifier(n_estimators=100, random_state=0)),
    ("knn", make_pipeline(StandardScaler(), KNeighborsClassifier(n_neighbors=15))),
    ("naive_bayes", GaussianNB()),
    ("tree", DecisionTreeClassifier(max_depth=4, random_state=0)),
]

# %%
# Each module's predict cost
# --------------------------
# Without a budget every module is in use (softmax gives each a positive
# weight). ``modules_["predict_cost"]`` is each module's cost, seconds per
# 1,000 rows, timed on its cv folds; ``predict_cost_`` is the
# sum over the modules the ensemble calls, plus the ensemble's own work
# (``own_call_cost_`` per call, ``own_module_cost_`` per module in use).
plain = SparseAttentionClassifier(modules, cv=3, random_state=0)
plain.fit(X_train, y_train)
table = pd.DataFrame(plain.modules_)[["module", "weight", "predict_cost"]]
print(table.round(4).to_string(index=False))
print(f"predict_cost_: {plain.predict_cost_:.4f} s per 1,000 rows")

# %%
# At most two modules: ``max_modules=2``
# --------------------------------------
# The fit learns the weights as usual, then follows a path of supports down
# to one module: each step drops the module whose removal raises the
# out-of-fold loss the least (a budget of modules counts modules, not their
# cost), and learns the others' weights again. It keeps the point of lowest
# out-of-fold loss within the budget; only that point's modules are
# refitted and called.
two = SparseAttentionClassifier(modules, max_modules=2, cv=3, random_state=0)
two.fit(X_train, y_train)
print("weights:", dict(zip(two.module_names_, two.attention_weights_.round(3))))
print(f"n_nonzero_: {two.n_nonzero_}, predict_cost_: {two.predict_cost_:.4f}")

print("support_path_ (out-of-fold log-loss, its standard error, cost):")
for point in two.support_path_:
    names = "+".join(two.module_names_[m] for m in point.modules)
    print(
        f"  {point.loss:.4f} +- {point.standard_error:.4f}  {point.cost:.4f}  {names}"
    )

# %%
# What the budget buys at predict time: the held-out log-loss, and the
# measured predict time beside the expected one (``predict_cost_`` x rows /
# 1000).
for label, model in [("no budget", plain), ("max_modules=2", two)]:
    start = time.perf_counter()
    proba = model.predict_proba(X_test)
    seconds = time.perf_counter() - start
    expected = model.predict_cost_ * len(X_test) / 1000
    print(
        f"{label:<14} {model.n_nonzero_} modules, held-out log-loss "
        f"{log_loss(y_test, proba):.4f}, predict {seconds:.4f} s "
        f"(expected {expected:.4f} s)"
    )

# %%
# The frontier of the path
# ------------------------
# :class:`~skweighting.plotting.FrontierDisplay` draws each point of the path
# as out-of-fold loss against predict cost, joins the points no cheaper point
# beats, and marks the point the budget chose.
display = FrontierDisplay.from_estimator(two)
display.figure_.suptitle("SparseAttentionClassifier(max_modules=2): its path")

# %%
# A CV estimator within the same budget
# -------------------------------------
# ``SparseAttentionClassifierCV`` holds every candidate (each combination,
# normaliser and temperature, and each module alone) to the budget: a
# candidate that breaks it becomes the best point within the budget on its
# own path of supports, scored on the inner splits with those modules alone.
# ``cv_results_["predict_cost"]`` is each candidate's cost.
cv = SparseAttentionClassifierCV(
    modules, max_modules=2, temperatures=5, cv=3, random_state=0
)
cv.fit(X_train, y_train)
results = pd.DataFrame(cv.cv_results_)
columns = ["param_combine", "param_temperature", "param_module", "n_nonzero"]
print(
    results[[*columns, "predict_cost", "mean_test_score", "chosen"]]
    .sort_values("predict_cost")
    .round(4)
    .to_string(index=False)
)
print(
    "Chosen:",
    [n for n, kept in zip(cv.module_names_, cv.support_) if kept],
    f"predict_cost_ {cv.predict_cost_:.4f}",
)
display = FrontierDisplay.from_estimator(cv)
# A module alone can be far worse than the rest: a log scale keeps the
# candidates near the frontier apart.
display.ax_.set_yscale("log")
display.figure_.suptitle("SparseAttentionClassifierCV(max_modules=2): candidates")

# %%
# A budget in seconds: ``max_predict_cost``
# -----------------------------------------
# Half the unbudgeted ensemble's cost: the fit keeps the best point of the
# path whose modules' costs, measured again in this fit, sum to at most the
# budget.
budget = plain.predict_cost_ / 2
half = SparseAttentionClassifier(
    modules, max_predict_cost=budget, cv=3, random_state=0
).fit(X_train, y_train)
print(
    f"max_predict_cost={budget:.4f}:",
    [n for n, kept in zip(half.module_names_, half.support_) if kept],
    f"predict_cost_ {half.predict_cost_:.4f}",
)

# %%
# A budget that no module meets alone is an error that names the cheapest
# module and its cost.
try:
    SparseAttentionClassifier(modules, max_predict_cost=1e-9, cv=3, random_state=0).fit(
        X_train, y_train
    )
except ValueError as error:
    print(error)

plt.show()
