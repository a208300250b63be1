"""
=========================================================
Multi-branch attention: several views of the same input
=========================================================

The original Keras attention layer was used to combine *branches*: several
sub-networks reading the same input, each with its own preprocessing, whose
outputs are weighted by learned attention before the final softmax.

The scikit-learn equivalent is a list of pipelines. Each branch below reads
the same 8x8 handwritten digits (bundled with scikit-learn, as a pandas
DataFrame) but sees them differently:

* ``scaled_linear``   -- StandardScaler + LogisticRegression on all pixels;
* ``pca_poly``        -- PCA(12) + PolynomialFeatures(2) + LogisticRegression:
  pairwise interactions of the main components;
* ``pca_knn``         -- PCA(20) + k-nearest neighbours;
* ``raw_forest``      -- a random forest on the raw pixels;
* ``quantile_lda``    -- QuantileTransformer (to normal marginals) + linear
  discriminant analysis;
* ``binary_nb``       -- pixels binarised, then Bernoulli naive Bayes;
* ``top_half`` / ``bottom_half`` -- a ColumnTransformer that keeps only the
  upper (or lower) four pixel rows, then a scaled logistic regression: a
  partial view of each digit.

:class:`~skweighting.SparseAttentionClassifier` learns one weight per branch
from out-of-fold predictions. The example prints each branch's own
out-of-fold log-loss next to its weight, at the default temperature and at a
higher one (flatter weights), and the held-out scores of the combination and
of each branch on its own.
"""

# %%
# The branches
# ------------
#
# The digits as a pandas DataFrame, with one column per pixel, named
# ``pixel_<row>_<col>``: the two half-image branches select their columns by
# name.
import numpy as np
from sklearn.compose import ColumnTransformer
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, log_loss
from sklearn.model_selection import train_test_split
from sklearn.naive_bayes import BernoulliNB
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import (
    Binarizer,
    PolynomialFeatures,
    QuantileTransformer,
    StandardScaler,
)

from skweighting import SparseAttentionClassifier

digits = load_digits(as_frame=True)
X, y = digits.data, digits.target  # a DataFrame with columns pixel_<row>_<col>
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.3, stratify=y, random_state=0
)

top_rows = [c for c in X.columns if int(c.split("_")[1]) < 4]
bottom_rows = [c for c in X.columns if int(c.split("_")[1]) >= 4]


def half_image(columns):
    """A branch that sees only some pixel rows of each digit."""
    return make_pipeline(
        ColumnTransformer([("keep", StandardScaler(), columns)]),
        LogisticRegression(C=0.1, max_iter=1000),
    )


branches = [
    (
        "scaled_linear",
        make_pipeline(StandardScaler(), LogisticRegression(C=0.1, max_iter=1000)),
    ),
    (
        "pca_poly",
        make_pipeline(
            PCA(n_components=12, random_state=0),
            PolynomialFeatures(degree=2),
            StandardScaler(),
            LogisticRegression(C=0.1, max_iter=1000),
        ),
    ),
    (
        "pca_knn",
        make_pipeline(
            PCA(n_components=20, random_state=0), KNeighborsClassifier(n_neighbors=5)
        ),
    ),
    ("raw_forest", RandomForestClassifier(n_estimators=100, random_state=0)),
    (
        "quantile_lda",
        make_pipeline(
            QuantileTransformer(n_quantiles=100, output_distribution="normal"),
            LinearDiscriminantAnalysis(),
        ),
    ),
    ("binary_nb", make_pipeline(Binarizer(threshold=7.5), BernoulliNB())),
    ("top_half", half_image(top_rows)),
    ("bottom_half", half_image(bottom_rows)),
]

# %%
# Two temperatures
# ----------------
#
# The default temperature, and a higher one that pulls the weights towards
# uniform.
sharp = SparseAttentionClassifier(branches, n_jobs=2, random_state=0)
sharp.fit(X_train, y_train)
# Only the temperature changes: the out-of-fold predictions are the same, so
# the difference in weights is the temperature's doing alone.
flat = SparseAttentionClassifier(branches, temperature=10, n_jobs=2, random_state=0)
flat.fit(X_train, y_train)

# %%
# Each branch alone, and the combinations
# ---------------------------------------
print(f"Digits: {X_train.shape[0]} training rows, {X_test.shape[0]} held out")
print()
header = (
    f"{'branch':<14} {'OOF log-loss':>12} {'test log-loss':>13} "
    f"{'test acc':>8} {'weight T=1':>10} {'weight T=10':>11}"
)
print(header)
print("-" * len(header))
# One row per branch of the module table, modules_ (dict of columns).
for row, name in enumerate(sharp.modules_["module"]):
    branch = sharp.named_estimators_[name]
    proba = branch.predict_proba(X_test)
    print(
        f"{name:<14} {-sharp.modules_['oof_score'][row]:>12.4f} "
        f"{log_loss(y_test, proba, labels=sharp.classes_):>13.4f} "
        f"{accuracy_score(y_test, branch.predict(X_test)):>8.3f} "
        f"{sharp.modules_['weight'][row]:>10.3f} "
        f"{flat.modules_['weight'][row]:>11.3f}"
    )
print("-" * len(header))
for label, model in [("attention T=1", sharp), ("attention T=10", flat)]:
    proba = model.predict_proba(X_test)
    print(
        f"{label:<14} {'':>12} {log_loss(y_test, proba):>13.4f} "
        f"{accuracy_score(y_test, model.predict(X_test)):>8.3f}"
    )

# %%
# The weights are not a ranking of the branches' own scores: they are the
# best *combination*. The forest's averaged votes are under-confident (a
# mediocre log-loss) yet its errors differ from the linear branches', and the
# log pool's learned sharpness undoes the under-confidence; branches that
# repeat a better one (``scaled_linear`` next to ``pca_poly``) get little
# weight.
names = [name for name, _ in branches]
order = np.argsort(sharp.attention_weights_)[::-1]
print("Branches by weight at T=1: " + " > ".join(names[m] for m in order))
print(f"Output sharpness at T=1 (sharpness_): {sharp.sharpness_:.2f}")
