"""Quality benchmark: every combination method on the same modules and folds.

Run ``python bench/quality.py`` (full run, ~20 min on 2 shared cores) or, tiny,
``python bench/quality.py --datasets breast_cancer --folds 1 --quick``.

For each data set and each outer fold, every method is the real estimator,
fitted on the same outer training fold with the same modules and the same
inner ``cv`` splitter, and scored on the outer test fold:

* ``best_single``: the module with the best inner-CV (out-of-fold) log-loss
  (RMSE for regression), refitted on the training fold;
* ``voting``: VotingClassifier(voting="soft") / VotingRegressor, uniform;
* ``stacking``: StackingClassifier / StackingRegressor, default final
  estimator, ``cv`` = the inner splitter;
* ``caruana``: ensemble selection, 50 rounds with replacement, on the same
  out-of-fold predictions (bench/caruana.py);
* ``attention_log`` / ``attention_linear``: SparseAttentionClassifier at
  defaults (softmax normaliser) with combine="log" / "linear" (regression:
  ``attention``);
* ``attention_log_sparsemax``, ``attention_log_entmax15``,
  ``attention_linear_sparsemax``, ``attention_linear_entmax15`` (regression:
  ``attention_sparsemax``, ``attention_entmax15``): the same estimators with
  ``normaliser="sparsemax"`` / ``"entmax15"``, every other parameter at its
  default (temperature=1, alpha=1e-4);
* ``attention_grid``: GridSearchCV over temperature in {0.1, 0.3, 1, 3, 10}
  (2-fold, scored by log-loss / RMSE) around the default attention ensemble;
* ``attention_cv``: SparseAttentionClassifierCV / SparseAttentionRegressorCV
  at defaults (a 10-temperature path found from the data, both combinations
  for classification, softmax, inner split = the outer folds of ``cv``);
  ``attention_cv_sparse``: the same with
  ``normalisers=("softmax", "sparsemax")``. Their ``details`` record the
  chosen combination, normaliser and temperature (and where it lies on the
  path) per fold.

Per method and fold the CSV also records ``n_nonzero``, the number of
modules the fitted method uses at predict time (``n_nonzero_`` of the
attention ensembles, the distinct modules Caruana selected, 1 for
best_single, every module for voting and stacking) out of ``n_modules``,
and ``predict_time``, the fastest of three predict calls on the test fold.

Module fits on identical rows are shared through a cache (see
bench/_common.py); fit times are charged as if nothing were cached. The
methods come from the registry in bench/_methods.py, the folds are run by
bench/_runner.py, as for bench/broad.py; what is left here is this
benchmark's report.
Writes bench/results/quality.csv, quality.json (wall time, commit, machine)
and the quality section of docs/benchmarks.md.
"""

import argparse
import json
import re
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
from sklearn.model_selection import GridSearchCV  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

from bench._common import DOCS, RESULTS, _git_commit, machine, make_modules  # noqa: E402
from bench._data import ALL_DATASETS, load_folds  # noqa: E402
from bench._methods import (  # noqa: E402, F401 (BestSingle* kept importable here)
    METHODS,
    BestSingle,
    BestSingleClassifier,
    BestSingleRegressor,
    variant,
)
from bench._report import machine_text as _machine_text  # noqa: E402
from bench._report import ranks as _report_ranks  # noqa: E402
from bench._report import replace_section  # noqa: E402, F401 (bench/speed.py)
from bench._runner import (  # noqa: E402, F401 (FIELDS, read_rows: docs/figures.py)
    FIELDS,
    NUMERIC_FIELDS,
    inner_splitter,
    read_rows,
    run_jobs,
)
from bench._runner import run_fold as _run_methods  # noqa: E402

TEMPERATURES = [0.1, 0.3, 1.0, 3.0, 10.0]
# The package's normalisers; softmax is the default and keeps the method
# names it always had (attention_log, attention_linear, attention).
NORMALISERS = ["softmax", "sparsemax", "entmax15"]
PREDICT_REPEATS = 3  # predict_time is the fastest of this many calls
# The estimators that choose temperature, combination and normaliser by an
# inner cross-validation of the out-of-fold rows, and their normalisers.
CV_METHODS = {
    "attention_cv": ("softmax",),
    "attention_cv_sparse": ("softmax", "sparsemax"),
}
# What the quality target allows: never more than this much worse than the
# best single module on a data set (log-loss / RMSE, mean over folds).
MAX_LOSS_VS_BEST_SINGLE = 0.02
# ... and what the CV estimator may cost: its whole fit (module fits charged
# as if uncached) against the plain estimator's with the same modules and cv.
MAX_FIT_TIME_RATIO = 1.2


def _suffix(normaliser):
    return "" if normaliser == "softmax" else f"_{normaliser}"


CLASSIFICATION_METHODS = [
    "best_single",
    "voting",
    "stacking",
    "caruana",
    *(f"attention_{c}{_suffix(n)}" for c in ("log", "linear") for n in NORMALISERS),
    "attention_grid",
    *CV_METHODS,
]
REGRESSION_METHODS = [
    "best_single",
    "voting",
    "stacking",
    "caruana",
    *(f"attention{_suffix(n)}" for n in NORMALISERS),
    "attention_grid",
    *CV_METHODS,
]


def make_methods(task, modules, inner_cv, grid_cv, random_state=0):
    """Every method, unfitted, on the same modules and inner splitter: the
    registered ones of bench/_methods.py with their parameters, and the
    temperature grid search."""
    if task == "classification":
        attention = {
            f"attention_{combine}{_suffix(normaliser)}": variant(
                "attention", combine=combine, normaliser=normaliser
            )
            for combine in ("log", "linear")
            for normaliser in NORMALISERS
        }
        scoring = "neg_log_loss"
    else:
        attention = {
            f"attention{_suffix(normaliser)}": variant(
                "attention", normaliser=normaliser
            )
            for normaliser in NORMALISERS
        }
        scoring = "neg_root_mean_squared_error"
    registered = {
        **{m: METHODS[m] for m in ("best_single", "voting", "stacking", "caruana")},
        **attention,
        **{
            method: variant("attention_cv", normalisers=normalisers)
            for method, normalisers in CV_METHODS.items()
        },
    }
    out = {
        m: method.build(task, modules, inner_cv, random_state)
        for m, method in registered.items()
    }
    out["attention_grid"] = GridSearchCV(
        METHODS["attention"].build(task, modules, inner_cv, random_state),
        {"temperature": TEMPERATURES},
        cv=grid_cv,
        scoring=scoring,
    )
    order = CLASSIFICATION_METHODS if task == "classification" else REGRESSION_METHODS
    return {m: out[m] for m in order}


def run_fold(name, fold, n_folds, max_train, quick=False, methods=None):
    """Fit and score every method (and every module alone) on one fold."""
    with threadpool_limits(1):
        folds, info = load_folds(name, n_folds, max_train=max_train)
        task = info["task"]
        modules = make_modules(task, info["categorical"], info["numeric"], quick=quick)
        inner_cv = inner_splitter(task, 3 if quick else 5, random_state=0)
        grid_cv = inner_splitter(task, 2, random_state=1)
        all_methods = make_methods(task, modules, inner_cv, grid_cv)
        if methods:
            all_methods = {k: v for k, v in all_methods.items() if k in methods}
        rows = _run_methods(
            folds[fold],
            task,
            modules,
            all_methods,
            {"dataset": name, "fold": fold},
            predict_repeats=PREDICT_REPEATS,
        )
    return rows, info


def _fold_rows(*args):
    return run_fold(*args)[0]


# --------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------
COST_METRICS = ("fit_time", "predict_time", "n_nonzero", "n_modules")


def summarise(rows):
    """``{task: {"datasets", "methods", "mean": {metric: {(ds, m): value}}}}``
    with values averaged over folds."""
    out = {}
    for task, methods, metrics in (
        (
            "classification",
            CLASSIFICATION_METHODS,
            ("log_loss", "accuracy", *COST_METRICS),
        ),
        ("regression", REGRESSION_METHODS, ("rmse", "r2", *COST_METRICS)),
    ):
        task_rows = [r for r in rows if r["task"] == task]
        if not task_rows:
            continue
        datasets = [
            d for d in ALL_DATASETS if any(r["dataset"] == d for r in task_rows)
        ]
        methods = [m for m in methods if any(r["method"] == m for r in task_rows)]
        modules = sorted({r["method"] for r in task_rows if r["kind"] == "module"})
        mean = {metric: {} for metric in metrics}
        folds = {}
        for ds in datasets:
            folds[ds] = len({r["fold"] for r in task_rows if r["dataset"] == ds})
            for m in methods + modules:
                sel = [r for r in task_rows if r["dataset"] == ds and r["method"] == m]
                for metric in metrics:
                    if sel:
                        mean[metric][ds, m] = float(np.mean([r[metric] for r in sel]))
        out[task] = {
            "datasets": datasets,
            "methods": methods,
            "modules": modules,
            "mean": mean,
            "folds": folds,
        }
    return out


def _ranks(values, lower_is_better):
    return _report_ranks(values, lower_is_better)


def metric_table(summary, metric, lower_is_better, fmt):
    datasets, methods = summary["datasets"], summary["methods"]
    lines = [
        "| data set | " + " | ".join(methods) + " |",
        "|---" * (len(methods) + 1) + "|",
    ]
    all_ranks = []
    for ds in datasets:
        values = [summary["mean"][metric].get((ds, m), np.nan) for m in methods]
        ranks = _ranks(values, lower_is_better)
        all_ranks.append(ranks)
        best = np.nanmin(values) if lower_is_better else np.nanmax(values)
        cells = []
        for v, r in zip(values, ranks):
            text = f"{v:{fmt}} ({r:g})"
            cells.append(f"**{text}**" if v == best else text)
        lines.append(f"| {ds} | " + " | ".join(cells) + " |")
    mean_ranks = np.mean(all_ranks, axis=0)
    best_rank = mean_ranks.min()
    cells = [f"**{r:.2f}**" if r == best_rank else f"{r:.2f}" for r in mean_ranks]
    lines.append("| **mean rank** | " + " | ".join(cells) + " |")
    return "\n".join(lines), dict(zip(methods, mean_ranks))


def time_table(summary):
    datasets, methods = summary["datasets"], summary["methods"]
    lines = [
        "| data set | " + " | ".join(methods) + " |",
        "|---" * (len(methods) + 1) + "|",
    ]
    for ds in datasets:
        cells = [
            f"{summary['mean']['fit_time'].get((ds, m), np.nan):.1f} / "
            f"{summary['mean']['predict_time'].get((ds, m), np.nan):.2f}"
            for m in methods
        ]
        lines.append(f"| {ds} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def module_gap_table(summary, method, metric):
    """``method`` against the best single module, per data set: against the
    module chosen by inner CV (the ``best_single`` method) and against the
    module that was best on the test folds (hindsight)."""
    mean = summary["mean"][metric]
    lines = [
        f"| data set | {method} | best_single (inner CV) | gap | best module "
        "in hindsight | gap |",
        "|---|---|---|---|---|---|",
    ]
    gaps = {}
    for ds in summary["datasets"]:
        ours = mean.get((ds, method), np.nan)
        chosen = mean.get((ds, "best_single"), np.nan)
        module_values = {m: mean[ds, m] for m in summary["modules"] if (ds, m) in mean}
        best_module = min(module_values, key=module_values.get)
        hindsight = module_values[best_module]
        gap_chosen = ours / chosen - 1
        gap_hindsight = ours / hindsight - 1
        gaps[ds] = (gap_chosen, gap_hindsight)
        lines.append(
            f"| {ds} | {ours:.4f} | {chosen:.4f} | {gap_chosen:+.1%} | "
            f"{hindsight:.4f} ({best_module}) | {gap_hindsight:+.1%} |"
        )
    return "\n".join(lines), gaps


def normaliser_of(method):
    """The attention normaliser a method uses ("" for the other methods)."""
    if method in CV_METHODS:
        return " or ".join(CV_METHODS[method]) + " (by CV)"
    if not method.startswith("attention"):
        return ""
    for normaliser in NORMALISERS[1:]:
        if method.endswith(f"_{normaliser}"):
            return normaliser
    return "softmax"


def _families(methods):
    """``[(softmax method, {normaliser: method})]`` for each way of combining."""
    out = []
    for method in methods:
        if normaliser_of(method) == "softmax" and method != "attention_grid":
            variants = {
                n: f"{method}{_suffix(n)}"
                for n in NORMALISERS
                if f"{method}{_suffix(n)}" in methods
            }
            out.append((method, variants))
    return out


def _n_modules(summary):
    values = list(summary["mean"]["n_modules"].values())
    return int(round(np.nanmax(values))) if values else 0


def _geomean_ratio(summary, metric, method, reference):
    mean = summary["mean"][metric]
    ratios = [
        mean[ds, method] / mean[ds, reference]
        for ds in summary["datasets"]
        if (ds, method) in mean and (ds, reference) in mean and mean[ds, reference] > 0
    ]
    return float(np.exp(np.mean(np.log(ratios)))) if ratios else np.nan


def sparsity_stats(summary, ranks):
    """Per method: mean rank, mean non-zero modules, mean predict time and
    its geometric-mean ratio to voting's (every module, plain average)."""
    mean = summary["mean"]
    stats = {}
    for m in summary["methods"]:
        nonzero = [mean["n_nonzero"].get((ds, m), np.nan) for ds in summary["datasets"]]
        times = [
            mean["predict_time"].get((ds, m), np.nan) for ds in summary["datasets"]
        ]
        stats[m] = {
            "rank": float(ranks.get(m, np.nan)),
            "n_nonzero": float(np.nanmean(nonzero)),
            "predict_time": float(np.nanmean(times)),
            "predict_vs_voting": _geomean_ratio(summary, "predict_time", m, "voting"),
        }
    return stats


def sparsity_table(summary, stats, metric_label):
    n_modules = _n_modules(summary)
    lines = [
        f"| method | normaliser | mean {metric_label} rank | non-zero modules "
        f"(of {n_modules}) | predict time (s) | predict time / voting's |",
        "|---|---|---|---|---|---|",
    ]
    for m, st in stats.items():
        lines.append(
            f"| {m} | {normaliser_of(m) or '-'} | {st['rank']:.2f} | "
            f"{st['n_nonzero']:.2f} | {st['predict_time']:.3f} | "
            f"{st['predict_vs_voting']:.2f}x |"
        )
    return "\n".join(lines)


def nonzero_table(summary):
    """Non-zero modules per data set: Caruana and every attention method."""
    methods = [
        m for m in summary["methods"] if m == "caruana" or m.startswith("attention")
    ]
    mean = summary["mean"]["n_nonzero"]
    lines = [
        "| data set | " + " | ".join(methods) + " |",
        "|---" * (len(methods) + 1) + "|",
    ]
    for ds in summary["datasets"]:
        cells = [f"{mean.get((ds, m), np.nan):.3g}" for m in methods]
        lines.append(f"| {ds} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _head_to_head(summary, metric, method, reference):
    """Data sets where ``method`` is better / worse than ``reference`` (mean
    over folds, lower is better), and the relative differences."""
    mean = summary["mean"][metric]
    diffs = {
        ds: mean[ds, method] / mean[ds, reference] - 1
        for ds in summary["datasets"]
        if (ds, method) in mean and (ds, reference) in mean
    }
    better = {ds: d for ds, d in diffs.items() if d < 0}
    worse = {ds: d for ds, d in diffs.items() if d > 0}
    return better, worse


def _listing(diffs, values=None, largest=3):
    """``ds +x%`` for the largest differences; with ``values`` ({ds: (ours,
    reference)}) also the two scores, so a large relative difference on a
    tiny score shows as such."""
    items = sorted(diffs.items(), key=lambda kv: -abs(kv[1]))[:largest]
    if values is None:
        return ", ".join(f"{ds} {d:+.2%}" for ds, d in items)
    return ", ".join(
        f"{ds} {d:+.2%} ({values[ds][0]:.4g} vs {values[ds][1]:.4g})" for ds, d in items
    )


def normaliser_findings(summary, stats, metric, metric_label):
    """Bullets comparing each sparse normaliser with softmax and with
    Caruana, and the answer to: rank no worse than softmax's with fewer
    non-zero modules than Caruana selects?"""
    n_modules = _n_modules(summary)
    caruana = stats.get("caruana")
    n_sets = len(summary["datasets"])
    bullets, answers = [], {}
    for softmax, variants in _families(summary["methods"]):
        base = stats[softmax]
        for normaliser, method in variants.items():
            if normaliser == "softmax":
                continue
            st = stats[method]
            better, worse = _head_to_head(summary, metric, method, softmax)
            no_worse = st["rank"] <= base["rank"] + 1e-12
            fewer = caruana is not None and st["n_nonzero"] < caruana["n_nonzero"]
            answers[method] = no_worse and fewer
            nonzero = summary["mean"]["n_nonzero"]
            fewer_sets = sum(
                nonzero.get((ds, method), np.inf) < nonzero.get((ds, "caruana"), 0)
                for ds in summary["datasets"]
            )
            text = (
                f"* `{method}`: mean {metric_label} rank {st['rank']:.2f} against "
                f"{base['rank']:.2f} for `{softmax}` (softmax) - "
                + ("no worse" if no_worse else "worse")
                + f"; {st['n_nonzero']:.2f} of {n_modules} modules non-zero "
                f"(softmax {base['n_nonzero']:.2f})"
            )
            if caruana is not None:
                text += (
                    f" against Caruana's {caruana['n_nonzero']:.2f} distinct "
                    f"selected modules - "
                    + ("fewer" if fewer else "not fewer")
                    + f" (fewer on {fewer_sets} of {n_sets} data sets)"
                )
            text += (
                f". Against `{softmax}` data set by data set: better on "
                f"{len(better)}, worse on {len(worse)}"
            )
            mean = summary["mean"][metric]
            values = {
                ds: (mean[ds, method], mean[ds, softmax]) for ds in {**better, **worse}
            }
            if worse:
                text += f" (largest losses: {_listing(worse, values)})"
            if better:
                text += f"; largest gains: {_listing(better, values)}"
            ratio = _geomean_ratio(summary, "predict_time", method, softmax)
            text += f". Predict time {ratio:.2f}x softmax's (geometric mean)."
            alone = _ranks_without_others(summary, metric, normaliser)
            text += (
                f" Ranked without the other sparse normaliser's methods in the "
                f"table: {alone[method]:.2f} against {alone[softmax]:.2f}."
            )
            text += (
                " **Rank no worse than softmax's with fewer non-zero modules "
                "than Caruana: " + ("yes" if answers[method] else "no") + ".**"
            )
            bullets.append(text)
    return "\n".join(bullets), answers


def _ranks_without_others(summary, metric, normaliser):
    """Mean ranks among all methods except those of the other sparse
    normalisers (sparsemax and entmax15 often nearly duplicate each other and
    then take neighbouring ranks, pushing everything else down)."""
    others = set(NORMALISERS[1:]) - {normaliser}
    methods = [m for m in summary["methods"] if normaliser_of(m) not in others]
    ranks = [
        _ranks([summary["mean"][metric].get((ds, m), np.nan) for m in methods], True)
        for ds in summary["datasets"]
    ]
    return dict(zip(methods, np.mean(ranks, axis=0)))


def _fmt_list(items):
    items = list(items)
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def report(rows, infos, settings, meta=None):
    summary = summarise(rows)
    parts = [
        f"Machine: {_machine_text(meta or {})}.",
        "",
        f"Settings: {settings}.",
        "",
        "Method names: `attention_log`, `attention_linear` (classification) and "
        "`attention` (regression) use the default softmax normaliser; a "
        "`_sparsemax` / `_entmax15` suffix is the same estimator with that "
        "normaliser. Every attention method runs at its defaults "
        "(temperature=1, alpha=1e-4) except `attention_grid` (softmax, "
        "temperature chosen by grid search) and the CV estimators: "
        "`attention_cv` is SparseAttentionClassifierCV / "
        "SparseAttentionRegressorCV at its defaults (a 10-temperature path "
        "found from the data; log or linear pooling for classification; "
        "softmax; scored on the outer folds of `cv`, which are the inner "
        "splitter shared by every method), `attention_cv_sparse` the same "
        "with `normalisers=('softmax', 'sparsemax')`. Ranks are among all "
        "methods in a table.",
        "",
    ]
    data_lines = [
        "| data set | task | source | rows | features | classes | outer folds "
        "used | training rows per fold |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name in ALL_DATASETS:
        if name not in infos:
            continue
        info = infos[name]
        n_folds = len({r["fold"] for r in rows if r["dataset"] == name})
        train = f"{info['n_train']}" + (
            " (subsampled)" if info.get("subsampled") else ""
        )
        data_lines.append(
            f"| {name} | {info['task']} | {info['source']} | {info['n_samples']} "
            f"| {info['n_features']} | {info.get('n_classes', '')} | {n_folds} of "
            f"{info['partition']} | {train} |"
        )
    parts += ["### Data sets", "", "\n".join(data_lines), ""]
    headline = {}
    cv_parts, headline["cv_targets"] = cv_target_parts(summary, rows)
    parts += cv_parts
    if "classification" in summary:
        s = summary["classification"]
        table, ranks = metric_table(s, "log_loss", True, ".4f")
        headline["log_loss_ranks"] = ranks
        parts += [
            "### Classification: log-loss (lower is better; rank in brackets)",
            "",
            table,
            "",
        ]
        table, ranks = metric_table(s, "accuracy", False, ".4f")
        headline["accuracy_ranks"] = ranks
        parts += ["### Classification: accuracy (rank in brackets)", "", table, ""]
        if "attention_log" in s["methods"] and "best_single" in s["methods"]:
            table, gaps = module_gap_table(s, "attention_log", "log_loss")
            headline["log_loss_gaps"] = gaps
            parts += [
                "### attention_log against the best single module (log-loss)",
                "",
                table,
                "",
            ]
        parts += [
            "### Classification: fit / predict time (s, mean per outer fold)",
            "",
            time_table(s),
            "",
        ]
        stats = sparsity_stats(s, headline["log_loss_ranks"])
        headline["classification_sparsity"] = stats
        parts += _sparsity_parts(s, stats, "Classification", "log-loss")
    if "regression" in summary:
        s = summary["regression"]
        table, ranks = metric_table(s, "rmse", True, ".4g")
        headline["rmse_ranks"] = ranks
        parts += ["### Regression: RMSE (lower is better)", "", table, ""]
        table, ranks = metric_table(s, "r2", False, ".4f")
        headline["r2_ranks"] = ranks
        parts += ["### Regression: R^2", "", table, ""]
        if "attention" in s["methods"] and "best_single" in s["methods"]:
            table, gaps = module_gap_table(s, "attention", "rmse")
            headline["rmse_gaps"] = gaps
            parts += [
                "### attention against the best single module (RMSE)",
                "",
                table,
                "",
            ]
        parts += [
            "### Regression: fit / predict time (s, mean per outer fold)",
            "",
            time_table(s),
            "",
        ]
        stats = sparsity_stats(s, headline["rmse_ranks"])
        headline["regression_sparsity"] = stats
        parts += _sparsity_parts(s, stats, "Regression", "RMSE")
    findings = []
    for task, metric, label in (
        ("classification", "log_loss", "log-loss"),
        ("regression", "rmse", "RMSE"),
    ):
        key = f"{task}_sparsity"
        if key in headline:
            text, answers = normaliser_findings(
                summary[task], headline[key], metric, label
            )
            headline[f"{task}_answers"] = answers
            if text:
                findings += [f"{task.capitalize()}:", "", text, ""]
    if findings:
        parts += [
            "### Normalisers: sparsemax and entmax15 against softmax and Caruana",
            "",
            *findings,
        ]
        parts += recommendation(summary, headline)
    return "\n".join(parts), headline


def _sparsity_parts(summary, stats, title, metric_label):
    return [
        f"### {title}: sparsity",
        "",
        "Per method, means over data sets of the per-data-set means over "
        f"folds: mean {metric_label} rank (from the table above), modules "
        "with non-zero weight (called at predict time: `n_nonzero_` of the "
        "attention ensembles, the distinct modules Caruana selected, 1 for "
        "best_single, all for voting and stacking), predict time on the "
        "test fold (fastest of "
        f"{PREDICT_REPEATS} calls) and its ratio to voting's (geometric mean "
        "over data sets).",
        "",
        sparsity_table(summary, stats, metric_label),
        "",
        f"{title}, non-zero modules per data set (mean over folds):",
        "",
        nonzero_table(summary),
        "",
    ]


TASKS = (
    ("classification", "log_loss", "log-loss"),
    ("regression", "rmse", "RMSE"),
)


def recommendation(summary, headline):
    """The normalisers compared, written from the figures above: every
    number and every yes / no below is computed, so a rerun cannot leave a
    stale claim behind."""
    fams = []  # one per way of combining that has all three normalisers
    for task, metric, _ in TASKS:
        if f"{task}_sparsity" not in headline:
            continue
        for softmax, variants in _families(summary[task]["methods"]):
            if set(NORMALISERS) <= set(variants):
                fams.append(
                    {
                        "task": task,
                        "metric": metric,
                        "s": summary[task],
                        "stats": headline[f"{task}_sparsity"],
                        "softmax": softmax,
                        "sparsemax": variants["sparsemax"],
                        "entmax15": variants["entmax15"],
                        "name": f"{task} `{softmax}`",
                        "M": _n_modules(summary[task]),
                    }
                )
    if not fams:
        return []
    tol = 1e-12
    out = [
        "### The normalisers compared",
        "",
        "What to choose is said in one place, the user guide's *Which "
        "normaliser and which combination*, from the broad benchmark; here "
        "are this benchmark's facts.",
        "",
    ]

    # The question asked of the sparse normalisers.
    for normaliser in ("sparsemax", "entmax15"):
        rank_ok, fewer_ok, cells = [], [], []
        for f in fams:
            st, m = f["stats"], f[normaliser]
            rank_ok.append(st[m]["rank"] <= st[f["softmax"]]["rank"] + tol)
            fewer_ok.append(st[m]["n_nonzero"] < st["caruana"]["n_nonzero"])
            cells.append(
                f"{f['name']}: rank {st[m]['rank']:.2f} vs softmax's "
                f"{st[f['softmax']]['rank']:.2f}, {st[m]['n_nonzero']:.2f} "
                f"modules vs Caruana's {st['caruana']['n_nonzero']:.2f}"
            )
        if all(rank_ok) and all(fewer_ok):
            verdict = "**yes**"
        else:
            verdict = "**no**: " + (
                "its mean rank is no worse than softmax's"
                if all(rank_ok)
                else f"its mean rank is worse than softmax's in "
                f"{rank_ok.count(False)} of {len(fams)} comparisons"
            )
            verdict += (
                ", and it keeps fewer modules than Caruana selects"
                if all(fewer_ok)
                else ", but it keeps fewer modules than Caruana selects in "
                f"{fewer_ok.count(True)} of {len(fams)} comparisons"
            )
        out.append(
            f"* *Does {normaliser} have a mean log-loss (RMSE) rank no worse "
            f"than softmax's with fewer non-zero modules than Caruana?* "
            f"{verdict} ({'; '.join(cells)})."
        )
    out.append("")

    # sparsemax: what it saves and what it costs.
    n_pairs = sum(len(f["s"]["datasets"]) for f in fams)
    wins, big_losses, ratios, alone_ok, rank_ok = 0, [], [], [], []
    noise, entmax_too = [], []
    for f in fams:
        better, worse = _head_to_head(f["s"], f["metric"], f["sparsemax"], f["softmax"])
        _, worse_entmax = _head_to_head(
            f["s"], f["metric"], f["entmax15"], f["softmax"]
        )
        wins += len(better)
        for ds, d in worse.items():
            if d >= 0.01:
                big_losses.append(f"{ds} {d:+.1%} ({f['name']})")
                entmax_too.append(worse_entmax.get(ds, 0.0) >= 0.8 * d)
        noise.append(
            _geomean_ratio(f["s"], "predict_time", f["entmax15"], f["softmax"])
        )
        ratios.append(
            _geomean_ratio(f["s"], "predict_time", f["sparsemax"], f["softmax"])
        )
        alone = _ranks_without_others(f["s"], f["metric"], "sparsemax")
        alone_ok.append(alone[f["sparsemax"]] <= alone[f["softmax"]] + tol)
        st = f["stats"]
        rank_ok.append(st[f["sparsemax"]]["rank"] <= st[f["softmax"]]["rank"] + tol)
    kept = _fmt_list(
        f"{f['stats'][f['sparsemax']]['n_nonzero']:.2f} of {f['M']} ({f['name']})"
        for f in fams
    )
    text = (
        f"* **sparsemax** prunes: it keeps {kept} modules on average, and a "
        f"prediction costs {min(ratios):.2f}-{max(ratios):.2f}x softmax's "
        "(geometric means over data sets). Head to head it beats softmax on "
        f"{wins} of {n_pairs} (data set, combination) pairs; "
        + (
            f"it loses by 1% or more on {_fmt_list(big_losses)}"
            if big_losses
            else "it never loses by 1% or more"
        )
        + ". With the entmax15 methods (which nearly duplicate sparsemax and "
        "take the neighbouring ranks) left out of the ranking, sparsemax "
        + ("still ranks no worse" if all(alone_ok) else "ranks worse")
        + " than softmax. "
    )
    if all(f["stats"][f["entmax15"]]["n_nonzero"] >= f["M"] - tol for f in fams):
        text += (
            "How noisy the predict times are: entmax15, which calls the same "
            f"modules as softmax, measures {min(noise):.2f}-{max(noise):.2f}x "
            "softmax's. "
        )
    if all(rank_ok):
        margins = _fmt_list(
            f"{st[f['softmax']]['rank'] - st[f['sparsemax']]['rank']:.2f}"
            for f in fams
            for st in [f["stats"]]
        )
        tasks = dict.fromkeys(f["task"] for f in fams)
        n_datasets = _fmt_list(str(len(summary[t]["datasets"])) for t in tasks)
        n_folds = sorted({n for t in tasks for n in summary[t]["folds"].values()})
        n_folds = "-".join(str(n) for n in dict.fromkeys([n_folds[0], n_folds[-1]]))
        text += (
            f"On these data sets it gives up nothing in mean rank (it is ahead "
            f"by {margins} ranks, over {n_datasets} data sets with {n_folds} "
            "outer folds each), but it does lose on single data sets (above)."
        )
    else:
        text += "It gives up some mean rank for the modules it saves."
    out.append(text)

    # entmax15: at alpha > 0 its optimum prunes (almost) nothing by itself.
    diffs = []
    for f in fams:
        mean = f["s"]["mean"][f["metric"]]
        diffs += [
            (mean[ds, f["entmax15"]] / mean[ds, f["sparsemax"]] - 1, ds, f["name"])
            for ds in f["s"]["datasets"]
        ]
    far = sorted((d for d in diffs if abs(d[0]) > 0.005), key=lambda d: -abs(d[0]))
    prunes_nothing = all(
        f["stats"][f["entmax15"]]["n_nonzero"] >= f["M"] - tol for f in fams
    )
    kept = _fmt_list(
        dict.fromkeys(
            f"{f['stats'][f['entmax15']]['n_nonzero']:.2f} of {f['M']}" for f in fams
        )
    )
    optimum = (
        "with alpha > 0 its exact optimum gives every module a small positive "
        "weight (only weights below the solver's tolerance become exactly zero)"
    )
    if prunes_nothing:
        pruning = ", so it prunes nothing and saves no predict time"
    elif any(f["stats"][f["entmax15"]]["n_nonzero"] >= f["M"] - 0.5 for f in fams):
        pruning = ", so it prunes little and saves little predict time"
    else:
        pruning = (
            "; its zeros come from the one-standard-error pruning "
            "(`prune_tol=1`): weights below 1e-6 go untested, the others "
            "only while the objective stays within one standard error, and "
            "entmax15's penalty rises steeply as a weight leaves zero, so it "
            "keeps more modules than sparsemax"
        )
    text = (
        f"* **entmax15** at alpha=1e-4 keeps {kept} modules on average: "
        + optimum
        + pruning
        + ". Its scores are sparsemax's within 0.5% "
        f"on {len(diffs) - len(far)} of {len(diffs)} (data set, combination) "
        "pairs"
        + (
            " (otherwise "
            + _fmt_list(f"{ds} {d:+.1%} ({name})" for d, ds, name in far)
            + ")"
            if far
            else ""
        )
        + "."
    )
    out.append(text)

    # softmax
    ranks = _fmt_list(
        f"{f['stats'][f['softmax']]['rank']:.2f} ({f['name']})" for f in fams
    )
    text = "* **softmax** (the default) gives every module a positive weight. "
    if big_losses and all(entmax_too):
        text += (
            "Where sparsemax loses by 1% or more (above), entmax15 - which "
            "keeps every module, with near-zero weights - loses about as much: "
            "those losses come from concentrating the weight on a few modules, "
            "not from dropping the others. "
        )
    text += (
        "Keep softmax when a few more module calls at predict time are cheap "
        "and the safest weights matter more than the mean rank, or to tune the "
        "temperature with `attention_grid` (softmax only here); its mean "
        f"rank: {ranks}."
    )
    out.append(text)

    # Caruana, for the smallest ensemble, per task.
    for task in dict.fromkeys(f["task"] for f in fams):
        in_task = [f for f in fams if f["task"] == task]
        sparsest = min(in_task, key=lambda f: f["stats"][f["sparsemax"]]["n_nonzero"])
        st, m = sparsest["stats"], sparsest["sparsemax"]
        fewer = st["caruana"]["n_nonzero"] < st[m]["n_nonzero"]
        out.append(
            f"* For the **smallest ensemble** ({task}): Caruana's selection "
            f"(50 rounds) keeps {st['caruana']['n_nonzero']:.2f} of "
            f"{sparsest['M']} modules at mean rank {st['caruana']['rank']:.2f}; "
            f"the sparsest normaliser, `{m}`, keeps {st[m]['n_nonzero']:.2f} at "
            f"mean rank {st[m]['rank']:.2f}"
            + (
                " - Caruana is smaller"
                + (
                    ", sparsemax ranks better."
                    if st[m]["rank"] < st["caruana"]["rank"]
                    else "."
                )
                if fewer
                else " - sparsemax is as small or smaller."
            )
        )
    out.append("")
    return out


# --------------------------------------------------------------------------
# The CV estimators against the quality target
# --------------------------------------------------------------------------
PLAIN_REFERENCE = {"classification": "attention_log", "regression": "attention"}
_CHOICE = re.compile(r"combine=(\w+); normaliser=(\w+); T=([^;]+); step (\d+) of (\d+)")


def cv_choices(rows, method):
    """``{(dataset, fold): (combine, normaliser, temperature, step, n_steps)}``
    read from the ``details`` a CV estimator recorded."""
    out = {}
    for r in rows:
        if r["method"] != method:
            continue
        match = _CHOICE.search(r.get("details") or "")
        if match:
            combine, normaliser, temperature, step, n_steps = match.groups()
            out[r["dataset"], r["fold"]] = (
                combine,
                normaliser,
                float(temperature),
                int(step),
                int(n_steps),
            )
    return out


def _choice_text(choice, task):
    combine, normaliser, temperature, step, n_steps = choice
    head = f"{combine}/" if task == "classification" else ""
    return f"{head}{normaliser} T={temperature:.3g} ({step}/{n_steps})"


def _ratio(mean, ds, method, reference):
    if (ds, method) in mean and (ds, reference) in mean and mean[ds, reference] > 0:
        return mean[ds, method] / mean[ds, reference]
    return np.nan


def cv_target_parts(summary, rows):
    """The quality target of the CV estimators, checked: never more than
    `MAX_LOSS_VS_BEST_SINGLE` worse than best_single on a data set, the best
    mean rank of all methods, and a whole fit at most `MAX_FIT_TIME_RATIO`
    times the plain estimator's. Every verdict is computed."""
    out, verdicts = [], {}
    tasks = [
        (task, metric, label)
        for task, metric, label in TASKS
        if task in summary and any(m in summary[task]["methods"] for m in CV_METHODS)
    ]
    if not tasks:
        return out, verdicts
    out += [
        "### Quality target of the CV estimators",
        "",
        "Target: `attention_cv` (and `attention_cv_sparse`) is never more than "
        f"{MAX_LOSS_VS_BEST_SINGLE:.0%} worse than `best_single` on any data "
        "set (log-loss / RMSE, mean over outer folds), has the best mean rank "
        "of all methods (the plain defaults included), and its whole fit "
        "(module fits charged as if uncached) costs at most "
        f"{MAX_FIT_TIME_RATIO:g}x the plain estimator's with the same modules "
        "and `cv` (`attention_log` for classification, `attention` for "
        "regression).",
        "",
    ]
    bullets = []
    for task, metric, label in tasks:
        s = summary[task]
        cv_methods = [m for m in CV_METHODS if m in s["methods"]]
        mean = s["mean"][metric]
        fit = s["mean"]["fit_time"]
        plain = PLAIN_REFERENCE[task]
        others = [m for m in s["methods"] if m not in CV_METHODS]
        _, ranks = metric_table(s, metric, True, ".4g")
        head = ["data set", "best_single"]
        for m in cv_methods:
            head += [m, "vs best_single"]
        head += ["best other method"] + [f"{m} vs it" for m in cv_methods]
        lines = ["| " + " | ".join(head) + " |", "|---" * len(head) + "|"]
        worst = {m: (-np.inf, "") for m in cv_methods}
        for ds in s["datasets"]:
            cells = [ds, f"{mean.get((ds, 'best_single'), np.nan):.4g}"]
            for m in cv_methods:
                gap = _ratio(mean, ds, m, "best_single") - 1
                if gap > worst[m][0]:
                    worst[m] = (gap, ds)
                text = f"{gap:+.2%}"
                cells += [
                    f"{mean.get((ds, m), np.nan):.4g}",
                    f"**{text}**" if gap > MAX_LOSS_VS_BEST_SINGLE else text,
                ]
            best = min(
                (m for m in others if (ds, m) in mean), key=lambda m: mean[ds, m]
            )
            cells.append(f"{best} {mean[ds, best]:.4g}")
            cells += [f"{_ratio(mean, ds, m, best) - 1:+.2%}" for m in cv_methods]
            lines.append("| " + " | ".join(cells) + " |")
        out += [
            f"{task.capitalize()}, {label} against `best_single` and against the "
            "best of the other methods (relative difference of the means over "
            f"folds; bold: more than {MAX_LOSS_VS_BEST_SINGLE:.0%} worse than "
            "best_single):",
            "",
            "\n".join(lines),
            "",
        ]

        # What each fold chose, the modules kept and the fit-time ratio.
        choices = {m: cv_choices(rows, m) for m in cv_methods}
        head = ["data set"]
        for m in cv_methods:
            head += [f"{m}: chosen per fold (T: step on the path)", "non-zero"]
        head += [f"fit time {m} / {plain}" for m in cv_methods]
        lines = ["| " + " | ".join(head) + " |", "|---" * len(head) + "|"]
        fit_ratios = {m: {} for m in cv_methods}
        for ds in s["datasets"]:
            cells = [ds]
            for m in cv_methods:
                per_fold = [
                    _choice_text(choice, task)
                    for (d, _), choice in sorted(choices[m].items())
                    if d == ds
                ]
                cells += [
                    "; ".join(per_fold),
                    f"{s['mean']['n_nonzero'].get((ds, m), np.nan):.3g}",
                ]
            for m in cv_methods:
                fit_ratios[m][ds] = _ratio(fit, ds, m, plain)
                cells.append(f"{fit_ratios[m][ds]:.2f}x")
            lines.append("| " + " | ".join(cells) + " |")
        out += [
            f"{task.capitalize()}: the candidate each outer fold chose, the "
            "modules with non-zero weight (mean over folds) and the whole-fit "
            f"time against `{plain}`'s (mean over folds):",
            "",
            "\n".join(lines),
            "",
        ]

        for m in cv_methods:
            gap, at = worst[m]
            misses = [
                (ds, _ratio(mean, ds, m, "best_single") - 1)
                for ds in s["datasets"]
                if _ratio(mean, ds, m, "best_single") - 1 > MAX_LOSS_VS_BEST_SINGLE
            ]
            within = not misses
            best_other = min((r, o) for o, r in ranks.items() if o != m and o in others)
            without = {
                o: r
                for o, r in _mean_ranks(
                    s, metric, [o for o in s["methods"] if o == m or o in others]
                ).items()
            }
            best_without = min((r, o) for o, r in without.items() if o != m)
            rank_best = ranks[m] < best_other[0] - 1e-12 and all(
                ranks[m] <= ranks[o] + 1e-12 for o in cv_methods
            )
            rank_best_alone = without[m] < best_without[0] - 1e-12
            total = sum(
                s["mean"]["fit_time"][ds, m]
                for ds in s["datasets"]
                if (ds, m) in s["mean"]["fit_time"]
            ) / sum(
                s["mean"]["fit_time"][ds, plain]
                for ds in s["datasets"]
                if (ds, plain) in s["mean"]["fit_time"]
            )
            ratios = fit_ratios[m]
            slowest = max(ratios, key=ratios.get)
            time_ok = ratios[slowest] <= MAX_FIT_TIME_RATIO
            chosen = [v for (d, _), v in choices[m].items() if d in s["datasets"]]
            at_low_end = sum(step == 1 for *_, step, _ in chosen)
            at_high_end = sum(step == n for *_, step, n in chosen)
            verdicts[task, m] = {
                "folds_at_low_end": (at_low_end, len(chosen)),
                "within_2pct": within,
                "worst_gap": (at, gap),
                "misses": misses,
                "rank": ranks[m],
                "rank_best": rank_best,
                "rank_without_other_cv": without[m],
                "rank_best_without_other_cv": rank_best_alone,
                "fit_time_ratio_total": total,
                "fit_time_ratio_max": (slowest, ratios[slowest]),
                "fit_time_ok": time_ok,
            }
            bullets.append(
                f"* {task} `{m}`: "
                + (
                    f"**within {MAX_LOSS_VS_BEST_SINGLE:.0%} of best_single on "
                    f"every data set: met** (worst {at} {gap:+.2%})"
                    if within
                    else f"**within {MAX_LOSS_VS_BEST_SINGLE:.0%} of best_single "
                    "on every data set: missed** on "
                    + _fmt_list(f"{ds} ({d:+.2%})" for ds, d in misses)
                )
                + f"; mean {label} rank {ranks[m]:.2f} against the best other "
                f"method's {best_other[0]:.2f} (`{best_other[1]}`): "
                + (
                    "**best: met**"
                    if rank_best
                    else "**tied for the best, not strictly best: missed**"
                    if abs(ranks[m] - min(ranks.values())) < 1e-12
                    else "**not the best: missed**"
                )
                + (
                    f" (with the other CV estimator left out of the ranking: "
                    f"{without[m]:.2f} against {best_without[0]:.2f} for "
                    f"`{best_without[1]}`, "
                    + (
                        "best"
                        if rank_best_alone
                        else "tied for the best"
                        if abs(without[m] - best_without[0]) < 1e-12
                        else "not the best"
                    )
                    + ")"
                    if len(cv_methods) > 1
                    else ""
                )
                + f"; whole fit {total:.2f}x `{plain}`'s over all data sets, at "
                f"most {ratios[slowest]:.2f}x ({slowest}): "
                + (
                    f"**at most {MAX_FIT_TIME_RATIO:g}x: met**"
                    if time_ok
                    else f"**at most {MAX_FIT_TIME_RATIO:g}x on every data set: "
                    "missed**"
                )
                + f". The chosen temperature is the lowest of the path in "
                f"{at_low_end} of {len(chosen)} folds (the highest in "
                f"{at_high_end})."
            )
    out += ["Verdicts:", "", *bullets, ""]
    return out, verdicts


def _mean_ranks(summary, metric, methods):
    """Mean ranks (lower metric is better) among ``methods`` only."""
    ranks = [
        _ranks([summary["mean"][metric].get((ds, m), np.nan) for m in methods], True)
        for ds in summary["datasets"]
    ]
    return dict(zip(methods, np.mean(ranks, axis=0)))


# --------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------
def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", default=ALL_DATASETS)
    parser.add_argument("--folds", type=int, default=3, help="outer folds per set")
    parser.add_argument(
        "--max-train",
        type=int,
        default=1500,
        help="subsample larger training folds to this many rows",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="smoke-test settings: 10 trees, 10 boosting rounds, 3-fold inner cv",
    )
    parser.add_argument("--methods", nargs="+", default=None)
    parser.add_argument("--n-jobs", type=int, default=2, help="folds run in parallel")
    parser.add_argument("--out", type=Path, default=RESULTS / "quality.csv")
    parser.add_argument("--docs", type=Path, default=DOCS / "benchmarks.md")
    parser.add_argument("--no-docs", action="store_true")
    parser.add_argument(
        "--commit",
        default=None,
        help="commit to report as the code under test (default: git rev-parse "
        "--short HEAD); for runs from an exported snapshot of a commit",
    )
    parser.add_argument(
        "--report-only",
        action="store_true",
        help="rebuild the report from an existing --out CSV, fitting nothing",
    )
    args = parser.parse_args(argv)
    unknown = set(args.datasets) - set(ALL_DATASETS)
    if unknown:
        parser.error(f"unknown data sets {sorted(unknown)}; known: {ALL_DATASETS}")
    if args.report_only:
        return _report_only(args)

    jobs = [(name, fold) for name in args.datasets for fold in range(args.folds)]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    meta = {
        "commit": args.commit or _git_commit(),
        "dirty": _dirty() if args.commit is None else False,
        "machine": machine(),
        "started": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "n_jobs": args.n_jobs,
        "folds": args.folds,
        "max_train": args.max_train,
        "quick": args.quick,
    }
    start = time.perf_counter()
    run_jobs(
        [
            (
                f"{name} fold {fold}",
                (name, fold, args.folds, args.max_train, args.quick, args.methods),
            )
            for name, fold in jobs
        ],
        _fold_rows,
        args.out,
        n_jobs=args.n_jobs,
        log=lambda text: print(text, flush=True),
    )
    elapsed = time.perf_counter() - start
    meta["wall_minutes"] = elapsed / 60
    args.out.with_suffix(".json").write_text(json.dumps(meta, indent=1) + "\n")
    return _report_only(args)


def _dirty():
    """Uncommitted changes to the package or the benchmark code?"""
    root = Path(__file__).resolve().parents[1]
    try:
        out = subprocess.run(
            ["git", "status", "--porcelain", "--", "skweighting", "bench/*.py"],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return False
    return bool(out.strip())


def _report_only(args):
    rows = read_rows(args.out)
    meta_path = args.out.with_suffix(".json")
    meta = json.loads(meta_path.read_text()) if meta_path.exists() else {}
    elapsed = 60 * meta.get("wall_minutes", float("nan"))
    folds = max(r["fold"] for r in rows) + 1
    max_train = meta.get("max_train", args.max_train)
    quick = meta.get("quick", args.quick)
    infos = {}
    for name in dict.fromkeys(r["dataset"] for r in rows):
        infos[name] = load_folds(name, folds, max_train=max_train)[1]
    settings = (
        f"{folds} outer folds per data set, training folds capped at "
        f"{max_train} rows (stratified subsample), inner cv = "
        f"{3 if quick else 5}-fold "
        "(stratified) shuffled splitter shared by every method, temperature "
        "grid 2-fold; folds run "
        f"{meta.get('n_jobs', args.n_jobs)} at a time, each single-threaded; "
        "total wall time "
        f"{elapsed / 60:.1f} min" + ("; QUICK smoke settings" if quick else "")
    )
    text, headline = report(rows, infos, settings, meta)
    print(text)
    if not args.no_docs:
        replace_section(args.docs, "quality", text)
    return {"rows": rows, "headline": headline, "machine": machine(), "text": text}


if __name__ == "__main__":
    main()
