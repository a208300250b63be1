"""
==================================================
What the temperature does, and a grid search on it
==================================================

After fitting, the weights are plain attributes:

* ``attention_weights_`` -- ``softmax(attention_logits_ / temperature)``
  (softmax is the default normaliser), non-negative and summing to one, one
  per module of ``module_names_``;
* ``attention_logits_`` -- the learned logits;
* ``oof_scores_`` -- each module's own out-of-fold score (the negative
  log-loss for classifiers), to read next to its weight;
* ``sharpness_``, ``n_iter_`` and ``loss_curve_`` -- the learned output
  sharpness and how the solver got there.

The temperature sets how concentrated the weights are. The objective is the
mean out-of-fold log-loss plus ``(alpha / 2) * ||logits||^2``; with
``u = logits / temperature`` that penalty is
``(alpha * temperature**2 / 2) * ||u||^2``, so a low temperature lets the
weights reach the unpenalised optimum (few modules) and a high one pulls them
towards uniform. This example, on the digits data bundled with scikit-learn,
compares temperatures 0.1 to 10, and 100 to show the limit (weights, their
entropy and the effective number of modules ``exp(entropy)``, held-out
log-loss), shows that without the penalty (``alpha=0``) the temperature has
no effect, and finally tunes the temperature with
:class:`~sklearn.model_selection.GridSearchCV` and reads
``best_estimator_.attention_weights_``.

Every fit below shares one ``memory``: each (module, training rows) fit is
computed once and then loaded, whatever the temperature.
"""

# %%
# The data, the modules and the cache
# -----------------------------------
import tempfile
import warnings

import numpy as np
from joblib import Memory
from sklearn.datasets import load_digits
from sklearn.ensemble import RandomForestClassifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, log_loss
from sklearn.model_selection import GridSearchCV, StratifiedKFold, train_test_split
from sklearn.naive_bayes import GaussianNB
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.tree import DecisionTreeClassifier

from skweighting import SparseAttentionClassifier

X, y = load_digits(return_X_y=True)
# A third of the rows for training keeps the many fits below quick.
X_train, X_test, y_train, y_test = train_test_split(
    X, y, train_size=600, stratify=y, random_state=0
)

modules = [
    (
        "logistic",
        make_pipeline(StandardScaler(), LogisticRegression(C=0.1, max_iter=1000)),
    ),
    ("tree", DecisionTreeClassifier(max_depth=3, random_state=0)),
    ("forest", RandomForestClassifier(n_estimators=50, random_state=0)),
    ("knn", make_pipeline(StandardScaler(), KNeighborsClassifier(n_neighbors=15))),
    ("naive_bayes", GaussianNB()),
]
names = [name for name, _ in modules]
cv = StratifiedKFold(n_splits=5, shuffle=True, random_state=0)

# The cache lives in a temporary directory, removed at the end: nothing else
# removes a cache. With a fixed random_state the cached fits are the fits a
# new fit would make.
cache = tempfile.TemporaryDirectory()
memory = Memory(cache.name, verbose=0)


def entropy(weights):
    """Shannon entropy of the weights, in nats (0: one module, log M: uniform)."""
    positive = weights[weights > 0]
    return float(-(positive * np.log(positive)).sum())


# %%
# 1. Reading the weights of one fitted ensemble
# ---------------------------------------------
#
# ``attention_logits_ / temperature`` through the normaliser gives
# ``attention_weights_``; the module table ``modules_`` has each module's
# weight and its own out-of-fold score.
ens = SparseAttentionClassifier(
    modules, cv=cv, memory=memory, n_jobs=2, random_state=0
).fit(X_train, y_train)

print("1. One fitted ensemble (temperature=1)")
print()
print(f"{'module':<12} {'OOF log-loss':>12} {'logit':>8} {'weight':>7}")
table = ens.modules_  # the module table: pandas.DataFrame(ens.modules_)
for row, name in enumerate(table["module"]):
    print(
        f"{name:<12} {-table['oof_score'][row]:>12.4f} "
        f"{ens.attention_logits_[row]:>8.3f} {table['weight'][row]:>7.3f}"
    )
print(
    f"sum of weights = {ens.attention_weights_.sum():.6f}; "
    f"sharpness_ = {ens.sharpness_:.3f}; n_iter_ = {ens.n_iter_}; "
    f"objective {ens.loss_curve_[0]:.4f} -> {ens.loss_curve_[-1]:.4f}"
)

# %%
# 2. What the temperature does
# ----------------------------
#
# The same modules and folds at six temperatures. Thanks to ``memory``, no
# module is fitted again: only the weights are learned anew. The entropy of
# the weights rises towards that of uniform weights as the temperature
# grows.
print("2. Temperature: weights, entropy, held-out log-loss")
print(
    f"   (uniform weights over {len(modules)} modules: entropy "
    f"{np.log(len(modules)):.3f})"
)
print()
header = (
    f"{'T':>5} "
    + " ".join(f"{name[:9]:>9}" for name in names)
    + f" {'entropy':>8} {'eff. M':>6} {'log-loss':>8} {'acc':>6}"
)
print(header)
print("-" * len(header))
for temperature in [0.1, 0.3, 1, 3, 10, 100]:
    if temperature == 1:
        model = ens  # fitted above
    else:
        model = SparseAttentionClassifier(
            modules,
            temperature=temperature,
            cv=cv,
            memory=memory,
            n_jobs=2,
            random_state=0,
        ).fit(X_train, y_train)
    weights = model.attention_weights_
    proba = model.predict_proba(X_test)
    print(
        f"{temperature:>5g} "
        + " ".join(f"{w:>9.3f}" for w in weights)
        + f" {entropy(weights):>8.3f} {np.exp(entropy(weights)):>6.2f}"
        + f" {log_loss(y_test, proba):>8.4f}"
        + f" {accuracy_score(y_test, model.predict(X_test)):>6.3f}"
    )

# %%
# Without the penalty the temperature only rescales the logits: the optimum
# over the weights is the same at every temperature, and it is what a low
# temperature reaches with the penalty on (compare with the T=0.1 row).
print("   Without the penalty (alpha=0) the temperature has no effect:")
for temperature in [0.3, 3]:
    with warnings.catch_warnings():
        # Unpenalised, the logits of unhelpful modules drift towards -inf and
        # the objective is very flat there: a tight tol reaches the optimum.
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = SparseAttentionClassifier(
            modules,
            temperature=temperature,
            alpha=0.0,
            tol=1e-9,
            cv=cv,
            memory=memory,
            n_jobs=2,
            random_state=0,
        ).fit(X_train, y_train)
    print(
        f"   T={temperature:<4g}"
        + " ".join(f"{w:>9.3f}" for w in model.attention_weights_)
    )

# %%
# 3. Tuning the temperature by grid search
# ----------------------------------------
#
# Each candidate of the grid is a full fit inside each fold of the search;
# with ``memory`` the candidates of a fold share their module fits, so each
# module is fitted once per set of training rows, not once per candidate.
# :class:`~skweighting.SparseAttentionClassifierCV` tunes the temperature
# without any of these refits (see its example); a grid search is the way
# to tune what it does not, ``alpha`` or the modules' own parameters.
search = GridSearchCV(
    SparseAttentionClassifier(modules, cv=3, memory=memory, random_state=0),
    {"temperature": [0.3, 1, 3, 10]},
    scoring="neg_log_loss",
    cv=3,
    n_jobs=2,
)
search.fit(X_train, y_train)
best = search.best_estimator_

print("3. GridSearchCV over temperature (scoring: log-loss)")
print()
for temperature, score in zip(
    search.cv_results_["param_temperature"], search.cv_results_["mean_test_score"]
):
    marker = "  <- best" if temperature == search.best_params_["temperature"] else ""
    print(f"   T={temperature:<4g} mean CV log-loss {-score:.4f}{marker}")
print()
print("   best_estimator_.attention_weights_:")
for name, weight in zip(names, best.attention_weights_):
    print(f"   {name:<12} {weight:.3f}  " + "#" * int(round(40 * weight)))
print(
    f"   held-out log-loss {log_loss(y_test, best.predict_proba(X_test)):.4f}, "
    f"accuracy {best.score(X_test, y_test):.3f}"
)

# %%
# Delete the cache when done.
cache.cleanup()
