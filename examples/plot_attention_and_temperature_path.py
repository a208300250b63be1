"""
===============================================================
Tuning the temperature without refitting modules, and the plots
===============================================================

:class:`~skweighting.SparseAttentionClassifierCV` fits every module
out-of-fold once, then scores a path of temperatures (and here two
combinations and two normalisers) on those out-of-fold outputs: no module
is refitted per candidate. This example, on the digits data bundled with
scikit-learn, reads the chosen candidate (``temperature_``, ``combine_``,
``normaliser_``), the module table ``modules_`` and the candidates' scores
``cv_results_``, then draws each module's weight beside its out-of-fold
score (:class:`~skweighting.AttentionDisplay`) and the weights along the
temperature path with the inner-CV score
(:class:`~skweighting.TemperaturePathDisplay`).
"""

# %%
# Fitting the CV estimator
# ------------------------
#
# ``temperatures=10`` (the default) builds a path of ten temperatures from
# the data: from below where the weights leave their unpenalised out-of-fold
# optimum to where they are nearly uniform. Every (combination, normaliser,
# temperature) candidate is scored by an inner cross-validation of the
# out-of-fold outputs; the best one is refitted.
import argparse
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
from sklearn.datasets import load_digits
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.naive_bayes import GaussianNB
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.tree import DecisionTreeClassifier

from skweighting import (
    AttentionDisplay,
    SparseAttentionClassifierCV,
    TemperaturePathDisplay,
)

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.3, random_state=0, stratify=y
)
modules = [
    ("logistic", make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))),
    ("forest", RandomForestClassifier(n_estimators=200, random_state=0)),
    ("knn", make_pipeline(StandardScaler(), KNeighborsClassifier(n_neighbors=5))),
    ("naive_bayes", GaussianNB()),
    ("tree", DecisionTreeClassifier(max_depth=6, random_state=0)),
]
ens = SparseAttentionClassifierCV(
    modules,
    combines=("log", "linear"),
    normalisers=("softmax", "sparsemax"),
    random_state=0,
).fit(X_train, y_train)

print(
    f"Chosen: combine={ens.combine_!r}, normaliser={ens.normaliser_!r}, "
    f"temperature={ens.temperature_:.3g} "
    f"(path {ens.temperatures_[0]:.3g} to {ens.temperatures_[-1]:.3g}); "
    f"{ens.n_nonzero_} of {len(ens.module_names_)} modules in use."
)
print(f"Held-out accuracy: {ens.score(X_test, y_test):.4f}")

# %%
# The module table
# ----------------
#
# ``modules_`` holds each module's weight (for the chosen candidate), its
# own out-of-fold score, whether it is pruned, and the seconds spent on it
# (summed over the folds; they vary from run to run).
columns = ["module", "weight", "oof_score", "pruned", "fold_fit_time", "refit_time"]
print("modules_:")
print(pd.DataFrame(ens.modules_)[columns].round(4).to_string(index=False))

# %%
# The candidates' scores
# ----------------------
#
# ``cv_results_`` has one row per candidate, as ``GridSearchCV``'s does. The
# default ``scoring=None`` scores a candidate by the negated log-loss its
# weights minimise, so the two combinations are compared on one scale. When
# the best rows differ by less than their ``std_test_score``, the choice
# among them is not sharp.
columns = [
    "param_combine",
    "param_normaliser",
    "param_temperature",
    "mean_test_score",
    "std_test_score",
    "n_nonzero",
    "rank_test_score",
]
results = pd.DataFrame({key: ens.cv_results_[key] for key in columns})
print("The five best candidates of cv_results_:")
best = results.sort_values("rank_test_score").head()
print(best.round(4).to_string(index=False))

# %%
# ``weights_path_`` holds the weights along the path for the chosen
# combination and normaliser: one row per temperature of ``temperatures_``,
# one column per module.
path = pd.DataFrame(
    ens.weights_path_, index=ens.temperatures_.round(3), columns=ens.module_names_
)
path.index.name = "temperature"
print(path.round(3))

# %%
# The weights beside the out-of-fold scores
# -----------------------------------------
#
# :class:`~skweighting.AttentionDisplay` takes any fitted ensemble. A module
# can earn a large weight with a mediocre score of its own when its errors
# differ from the others', and a good module can get little weight when
# another one already says the same.
attention = AttentionDisplay.from_estimator(ens)

# %%
# The weights along the temperature path
# --------------------------------------
#
# :class:`~skweighting.TemperaturePathDisplay` takes a fitted CV estimator
# and draws the weights along ``temperatures_`` (``weights_path_``), the
# mean inner-CV score of the chosen combination and normaliser, and the
# chosen temperature.
temperature_path = TemperaturePathDisplay.from_estimator(ens)
plt.show()

# %%
# Saving the figures
# ------------------
#
# Run the script with ``--output-dir DIR`` to save both figures as PNG files
# in ``DIR``.
parser = argparse.ArgumentParser(description="Save the figures of this example.")
parser.add_argument("--output-dir", type=Path, default=None)
args = parser.parse_args()
if args.output_dir is not None:
    args.output_dir.mkdir(parents=True, exist_ok=True)
    attention.figure_.savefig(args.output_dir / "attention.png", dpi=100)
    temperature_path.figure_.savefig(args.output_dir / "temperature_path.png", dpi=100)
    print(f"Saved attention.png and temperature_path.png in {args.output_dir}")
