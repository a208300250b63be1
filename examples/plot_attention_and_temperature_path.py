"""
=============================================================
Tuning the temperature without refitting modules, and the plots
=============================================================

:class:`~skweighting.SparseAttentionClassifierCV` fits every module
out-of-fold once, then scores a path of temperatures (and here two
combinations and two normalisers) on those out-of-fold outputs: no module
is refitted per candidate. The script, on the digits data bundled with
scikit-learn:

* prints the module table ``modules_`` (weight, out-of-fold score, whether
  the module is pruned, fit and predict times) and the chosen candidate;
* prints the best rows of ``cv_results_``;
* draws each module's weight beside its out-of-fold score
  (:class:`~skweighting.AttentionDisplay`) and the weights along the
  temperature path with the inner-CV score
  (:class:`~skweighting.TemperaturePathDisplay`), and saves both figures.

Figures need matplotlib (``pip install "skweighting[plot]"``); without it
the script prints the tables only. ``--output-dir DIR`` says where the PNG
files go (default: the current directory). Runs in about half a minute on
two cores.
"""

import argparse
from pathlib import Path

import numpy as np
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

parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[1])
parser.add_argument("--output-dir", type=Path, default=Path("."))
args = parser.parse_args()

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


def print_table(table, columns, formats):
    """A dict of columns as a plain-text table (pandas.DataFrame(table) does
    the same, when pandas is installed)."""
    widths = [max(12, len(c) + 2) for c in columns]
    print("".join(f"{c:>{w}}" for c, w in zip(columns, widths)))
    for row in range(len(table[columns[0]])):
        print(
            "".join(
                f"{format(table[c][row], f):>{w}}"
                for c, f, w in zip(columns, formats, widths)
            )
        )


print("The module table, modules_ (times in seconds, summed over the folds):")
print_table(
    ens.modules_,
    ["module", "weight", "oof_score", "pruned", "fold_fit_time", "refit_time"],
    ["", ".3f", ".4f", "", ".2f", ".2f"],
)
print(
    f"\nChosen: combine={ens.combine_!r}, normaliser={ens.normaliser_!r}, "
    f"temperature={ens.temperature_:.3g} "
    f"(path {ens.temperatures_[0]:.3g} to {ens.temperatures_[-1]:.3g}); "
    f"{ens.n_nonzero_} of {len(ens.module_names_)} modules in use."
)
print(f"Held-out accuracy: {ens.score(X_test, y_test):.4f}")

results = ens.cv_results_
print("\nThe five best candidates of cv_results_ (inner-CV score: -log-loss):")
best = np.argsort(results["rank_test_score"])[:5]
print_table(
    {key: np.asarray(results[key])[best] for key in results if key != "params"},
    [
        "param_combine",
        "param_normaliser",
        "param_temperature",
        "mean_test_score",
        "n_nonzero",
    ],
    ["", "", ".3g", ".4f", "d"],
)

try:
    import matplotlib

    matplotlib.use("Agg")
except ImportError:
    print('\nmatplotlib is not installed: pip install "skweighting[plot]" to plot.')
else:
    args.output_dir.mkdir(parents=True, exist_ok=True)
    attention = AttentionDisplay.from_estimator(ens)
    attention.figure_.savefig(args.output_dir / "attention.png", dpi=100)
    path = TemperaturePathDisplay.from_estimator(ens)
    path.figure_.savefig(args.output_dir / "temperature_path.png", dpi=100)
    print(
        f"\nSaved attention.png and temperature_path.png in {args.output_dir}: "
        f"{len(path.lines_)} weight lines along the path."
    )
