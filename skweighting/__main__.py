"""Demo: ``python -m skweighting [--dataset digits|breast_cancer|wine]``.

Fits SparseAttentionClassifier with its default portfolio on a data set
bundled with scikit-learn and prints its module table (each module's
out-of-fold score next to its learned weight), then the held-out scores of
the ensemble, of SparseAttentionClassifierCV (which tunes the temperature,
the combination and the normaliser without refitting a module: it reads
the modules' fold fits from the same cache) and of VotingClassifier,
StackingClassifier and the best single module, all built from the same
modules.
"""

import argparse
import tempfile
import time

import numpy as np
from sklearn import datasets
from sklearn.base import clone
from sklearn.ensemble import StackingClassifier, VotingClassifier
from sklearn.metrics import accuracy_score, log_loss
from sklearn.model_selection import train_test_split

from . import SparseAttentionClassifier, SparseAttentionClassifierCV, __version__

LOADERS = {
    "breast_cancer": datasets.load_breast_cancer,
    "digits": datasets.load_digits,
    "wine": datasets.load_wine,
}


def _module_table(ensemble, out):
    out("Learned attention (5-fold out-of-fold, temperature=1, log pooling):")
    table = ensemble.modules_
    out(f"  {'module':<20}{'out-of-fold log-loss':>22}{'weight':>9}{'fit (s)':>9}")
    for row, name in enumerate(table["module"]):
        fit_seconds = table["fold_fit_time"][row] + table["refit_time"][row]
        out(
            f"  {name:<20}{-table['oof_score'][row]:>22.4f}"
            f"{table['weight'][row]:>9.3f}{fit_seconds:>9.2f}"
        )
    out(f"  output sharpness beta = {ensemble.sharpness_:.3f}\n")


def _competitors(ensemble, memory, random_state, n_jobs):
    """Every method of the comparison, unfitted but the ensemble, on the
    ensemble's modules (seeded alike)."""
    modules = [(name, clone(est)) for name, est in ensemble.named_estimators.items()]
    for _, module in modules:
        seeds = [k for k in module.get_params() if k.endswith("random_state")]
        module.set_params(**dict.fromkeys(seeds, random_state))
    best = ensemble.module_names_[int(np.argmax(ensemble.oof_scores_))]
    return {
        "SparseAttentionClassifier": ensemble,
        "SparseAttentionClassifierCV": SparseAttentionClassifierCV(
            normalisers=("softmax", "sparsemax"),
            memory=memory,
            random_state=random_state,
            n_jobs=n_jobs,
        ),
        "VotingClassifier (soft)": VotingClassifier(
            modules, voting="soft", n_jobs=n_jobs
        ),
        "StackingClassifier": StackingClassifier(modules, cv=5, n_jobs=n_jobs),
        f"best single module ({best})": dict(modules)[best],
    }


def _timed_fit(estimator, X, y):
    start = time.perf_counter()
    estimator.fit(X, y)
    return time.perf_counter() - start


def run(dataset="digits", random_state=0, n_jobs=None, out=print):
    """Run the demo and return the held-out scores by method."""
    X, y = LOADERS[dataset](return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.3, random_state=random_state, stratify=y
    )
    out(f"skweighting {__version__} demo on scikit-learn's {dataset} data set:")
    out(
        f"{X.shape[0]} rows, {X.shape[1]} features, {len(np.unique(y))} classes; "
        f"{len(y_train)} rows to fit, {len(y_test)} held out.\n"
    )
    with tempfile.TemporaryDirectory(prefix="skweighting-demo-") as memory:
        ensemble = SparseAttentionClassifier(
            memory=memory, random_state=random_state, n_jobs=n_jobs
        )
        out("Fitting SparseAttentionClassifier (4 modules x 5 folds, then refits)")
        seconds = {"SparseAttentionClassifier": _timed_fit(ensemble, X_train, y_train)}
        _module_table(ensemble, out)
        methods = _competitors(ensemble, memory, random_state, n_jobs)
        for label, model in methods.items():
            if label not in seconds:
                out(f"Fitting {label}")
                seconds[label] = _timed_fit(model, X_train, y_train)
    results = {}
    out(f"\n  {'method':<40}{'log-loss':>10}{'accuracy':>10}{'fit (s)':>9}")
    for label, model in methods.items():
        proba = model.predict_proba(X_test)
        results[label] = {
            "log_loss": log_loss(y_test, proba, labels=model.classes_),
            "accuracy": accuracy_score(y_test, model.classes_[proba.argmax(axis=1)]),
            "fit_time": seconds[label],
        }
        r = results[label]
        out(
            f"  {label:<40}{r['log_loss']:>10.4f}{r['accuracy']:>10.4f}"
            f"{r['fit_time']:>9.2f}"
        )
    out(f"\n{_cv_choice(methods['SparseAttentionClassifierCV'])}")
    out("Held-out scores on the same split; lower log-loss is better.")
    return results


def _cv_choice(tuned):
    """What the CV estimator chose, in one sentence."""
    in_use = f"{tuned.n_nonzero_} of {len(tuned.module_names_)} modules in use"
    if tuned.single_module_ is not None:
        return (
            f"SparseAttentionClassifierCV chose module {tuned.single_module_!r} "
            f"alone: {in_use}."
        )
    return (
        f"SparseAttentionClassifierCV chose combine={tuned.combine_!r}, "
        f"normaliser={tuned.normaliser_!r}, temperature={tuned.temperature_:.3g}: "
        f"{in_use}."
    )


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m skweighting", description=__doc__)
    parser.add_argument("--dataset", choices=sorted(LOADERS), default="digits")
    parser.add_argument("--random-state", type=int, default=0)
    parser.add_argument("--n-jobs", type=int, default=None)
    args = parser.parse_args(argv)
    run(args.dataset, random_state=args.random_state, n_jobs=args.n_jobs)


if __name__ == "__main__":
    main()
