"""
====================================================
Group splits and sample weights (metadata routing)
====================================================

The weights are learned from out-of-fold predictions, so they are only as
honest as the folds. When rows come in groups -- several measurements of one
subject, say -- a random K-fold puts rows of the same subject on both sides
of a split, and a module that memorises subjects looks better out-of-fold
than it will on new subjects. This example

* passes a :class:`~sklearn.model_selection.GroupKFold` as ``cv`` and the
  groups to ``fit(..., groups=groups)``, and compares the weights with those
  learned from a shuffled :class:`~sklearn.model_selection.KFold`;
* turns scikit-learn's metadata routing on
  (``sklearn.set_config(enable_metadata_routing=True)``) to pass sample
  weights that make every subject count equally, each module requesting
  them;
* runs :func:`~sklearn.model_selection.cross_validate` over new subjects
  with routing on: the groups reach both the outer splitter and the
  ensemble's own.
"""

# %%
# Rows in groups
# --------------
#
# 120 subjects, each with its own point in feature space and its own label,
# measured 2 to 19 times with a little noise. The first 80 subjects are for
# training, the other 40 are new subjects for testing.
import numpy as np
import sklearn
from sklearn.datasets import make_classification
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss
from sklearn.model_selection import GroupKFold, KFold, cross_validate
from sklearn.naive_bayes import GaussianNB
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skweighting import SparseAttentionClassifier

rng = np.random.default_rng(0)
n_subjects, n_features = 120, 8
centres, labels = make_classification(
    n_samples=n_subjects,
    n_features=n_features,
    n_informative=4,
    flip_y=0.1,
    random_state=0,
)
sizes = rng.integers(2, 20, size=n_subjects)
subject = np.repeat(np.arange(n_subjects), sizes)
X = centres[subject] + rng.normal(scale=0.3, size=(len(subject), n_features))
y = labels[subject]

train = subject < 80
X_train, y_train, groups = X[train], y[train], subject[train]
X_test, y_test = X[~train], y[~train]
print(f"{len(X_train)} training rows from 80 subjects, {len(X_test)} test rows")
print(f"from 40 new subjects; rows per subject: {sizes.min()} to {sizes.max()}")

# %%
# The one-nearest-neighbour module recognises a subject it has seen: on a
# row whose subject has other rows in the training folds, it is nearly
# always right.
modules = [
    ("logistic", make_pipeline(StandardScaler(), LogisticRegression())),
    ("knn_1", make_pipeline(StandardScaler(), KNeighborsClassifier(n_neighbors=1))),
    (
        "forest",
        RandomForestClassifier(n_estimators=50, min_samples_leaf=3, random_state=0),
    ),
    ("naive_bayes", GaussianNB()),
]


def report(label, model):
    loss = log_loss(y_test, model.predict_proba(X_test))
    print(f"{label} (held-out log-loss on new subjects {loss:.3f}):")
    for name, score, weight in zip(
        model.module_names_, model.oof_scores_, model.attention_weights_
    ):
        print(f"   {name:<12} OOF log-loss {-score:>7.3f}   weight {weight:.3f}")


# %%
# Random folds against group folds
# --------------------------------
#
# With a shuffled ``KFold``, the out-of-fold scores of ``knn_1`` and of the
# forest are flattered by the other rows of each subject, and they get most
# of the weight. With
# ``GroupKFold`` every subject's rows are held out together: the out-of-fold
# predictions are made on unseen subjects, as the test predictions are.
# ``groups`` passed to ``fit`` reaches the ``cv`` splitter, whether metadata
# routing is on or off.
random_folds = SparseAttentionClassifier(
    modules, cv=KFold(3, shuffle=True, random_state=0), n_jobs=2, random_state=0
).fit(X_train, y_train)
report("KFold(3, shuffle=True)", random_folds)

group_folds = SparseAttentionClassifier(
    modules, cv=GroupKFold(3), n_jobs=2, random_state=0
).fit(X_train, y_train, groups=groups)
report("GroupKFold(3)", group_folds)

# %%
# The weights learned from group folds do better on the new subjects.

# %%
# Sample weights, with metadata routing
# -------------------------------------
#
# The subjects have 2 to 19 rows each. Weighting each row by one over its
# subject's number of rows makes every subject count equally.
# ``sample_weight`` always weights the objective the attention weights
# minimise and ``oof_scores_``. With metadata routing on, each module's
# ``fit`` gets exactly the metadata it requests: ``set_fit_request`` says so
# for each estimator that can take sample weights (in a Pipeline, for each
# step). The k-nearest-neighbours classifier takes none, and needs no
# request. The splitter requests ``groups``.
sklearn.set_config(enable_metadata_routing=True)

sample_weight = 1.0 / np.bincount(groups)[groups]
weighted_modules = [
    (
        "logistic",
        make_pipeline(
            StandardScaler().set_fit_request(sample_weight=True),
            LogisticRegression().set_fit_request(sample_weight=True),
        ),
    ),
    (
        "knn_1",
        make_pipeline(
            StandardScaler().set_fit_request(sample_weight=True),
            KNeighborsClassifier(n_neighbors=1),
        ),
    ),
    (
        "forest",
        RandomForestClassifier(
            n_estimators=50, min_samples_leaf=3, random_state=0
        ).set_fit_request(sample_weight=True),
    ),
    ("naive_bayes", GaussianNB().set_fit_request(sample_weight=True)),
]
weighted = SparseAttentionClassifier(
    weighted_modules, cv=GroupKFold(3), n_jobs=2, random_state=0
).fit(X_train, y_train, groups=groups, sample_weight=sample_weight)
report("GroupKFold(3), every subject weighted equally", weighted)

# %%
# Cross-validation over subjects
# ------------------------------
#
# Inside ``cross_validate`` (or ``GridSearchCV``) with routing on, the
# ensemble declares that it wants the weights, for ``fit`` and for its
# ``score`` (the accuracy, weighted). ``params`` then carries the groups to
# the outer ``GroupKFold`` *and* to the ensemble's own, and the weights to
# the ensemble.
weighted.set_fit_request(sample_weight=True).set_score_request(sample_weight=True)
scores = cross_validate(
    weighted,
    X_train,
    y_train,
    cv=GroupKFold(3),
    params={"groups": groups, "sample_weight": sample_weight},
)
print("weighted accuracy on each outer fold's subjects:", scores["test_score"].round(3))

# %%
# Metadata routing is a global setting of scikit-learn: turn it off again.
sklearn.set_config(enable_metadata_routing=False)
