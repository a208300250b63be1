"""Demo: ``python -m skweighting [--dataset digits|breast_cancer|wine]``.

Fits SparseAttentionClassifier with its default portfolio on a data set
bundled with scikit-learn and prints its module table (each module's
out-of-fold score next to its learned weight), then the held-out scores of
the ensemble, of SparseAttentionClassifierCV (which tunes the temperature,
the combination and the normaliser without refitting a module) and of
VotingClassifier, StackingClassifier and the best single module, all built
from the same modules.
"""

import argparse
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


def _timed_fit(estimator, X, y):
    start = time.perf_counter()
    estimator.fit(X, y)
    return estimator, time.perf_counter() - start


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

    ensemble = SparseAttentionClassifier(random_state=random_state, n_jobs=n_jobs)
    ensemble, ensemble_time = _timed_fit(ensemble, X_train, y_train)
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

    modules = [(name, clone(est)) for name, est in ensemble.named_estimators.items()]
    for _, module in modules:
        seeds = [k for k in module.get_params() if k.endswith("random_state")]
        module.set_params(**dict.fromkeys(seeds, random_state))
    best_name = ensemble.module_names_[int(np.argmax(ensemble.oof_scores_))]
    tuned = SparseAttentionClassifierCV(
        normalisers=("softmax", "sparsemax"),
        random_state=random_state,
        n_jobs=n_jobs,
    )
    competitors = {
        "SparseAttentionClassifier": ensemble,
        "SparseAttentionClassifierCV": tuned,
        "VotingClassifier (soft)": VotingClassifier(
            modules, voting="soft", n_jobs=n_jobs
        ),
        "StackingClassifier": StackingClassifier(modules, cv=5, n_jobs=n_jobs),
        f"best single module ({best_name})": dict(modules)[best_name],
    }
    results = {}
    out(f"  {'method':<40}{'log-loss':>10}{'accuracy':>10}{'fit (s)':>9}")
    for label, model in competitors.items():
        if model is ensemble:
            fit_time = ensemble_time
        else:
            model, fit_time = _timed_fit(model, X_train, y_train)
        proba = model.predict_proba(X_test)
        results[label] = {
            "log_loss": log_loss(y_test, proba, labels=model.classes_),
            "accuracy": accuracy_score(y_test, model.classes_[proba.argmax(axis=1)]),
            "fit_time": fit_time,
        }
        r = results[label]
        out(
            f"  {label:<40}{r['log_loss']:>10.4f}{r['accuracy']:>10.4f}{fit_time:>9.2f}"
        )
    out(
        f"\nSparseAttentionClassifierCV chose combine={tuned.combine_!r}, "
        f"normaliser={tuned.normaliser_!r}, temperature={tuned.temperature_:.3g}: "
        f"{tuned.n_nonzero_} of {len(tuned.module_names_)} modules in use."
    )
    out("Held-out scores on the same split; lower log-loss is better.")
    return results


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m skweighting", description=__doc__)
    parser.add_argument("--dataset", choices=sorted(LOADERS), default="digits")
    parser.add_argument("--random-state", type=int, default=0)
    parser.add_argument("--n-jobs", type=int, default=None)
    args = parser.parse_args(argv)
    run(args.dataset, random_state=args.random_state, n_jobs=args.n_jobs)


if __name__ == "__main__":
    main()
