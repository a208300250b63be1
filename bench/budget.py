"""Serving within a budget: the sparse-attention estimators held to a
predict-time budget against Caruana's ensemble selection and the best single
module held to the same budget, on real data sets.

Run ``python bench/budget.py`` (full run: ~5 min on 2 quiet cores; it
resumes from its CSV) or, tiny, ``python bench/budget.py --datasets iris
quakes --folds 1 --quick``.

The budgets: at most 1, 2 and 3 modules called at predict time
(``max_modules=k``), and a predict cost of at most what the two cheapest
modules cost together (``max_predict_cost``), counted as the estimators
count it and measured in each outer fold by a first fit of the plain
estimator: each module's ``modules_["predict_cost"]`` (the seconds of a
call predicting 1,000 rows, timed on its cv folds) plus the ensemble's own work on its
output (``own_module_cost_``), and the ensemble's own part of a call
(``own_call_cost_``) once. Within each budget:

* ``attention`` / ``attention_cv``: ``SparseAttention*`` and
  ``SparseAttention*CV`` with ``max_modules`` / ``max_predict_cost``; they
  measure their modules' costs again in their own fit;
* ``caruana``: greedy selection with replacement (bench/caruana.py) that may
  only add a new module while the bag stays within the budget (at most k
  distinct modules; distinct modules whose first-fit costs, counted as
  above, sum to at most the budget);
* ``best_single``: the module of the best inner-CV score among those within
  the budget (every module fits a budget of k modules).

Every method sees the same outer folds (3, shuffled, stratified for
classification, seeded), the same modules (bench/_common.make_modules) and
the same inner splitter; module fits are shared through the cache. A method
that raises is recorded as failed (its error in the CSV) and left out of the
ranks of its budget on that set.

Beside the losses, the report sets each sparse-attention fit's measured
predict time on the held-out rows (the median of 5 calls, as the fit's
costs are medians over its folds) against its expected
cost (each module in use: its cost per call, plus its cost per 1,000 rows
beyond that, times rows / 1000; and the ensemble's own work on a 1,000-row
call), and each module's own predict time against its first-fit cost.

Writes bench/results/budget.csv (one row per data set, outer fold and method
or module), budget.json (the runs) and the ``budget`` section of
docs/benchmarks.md. ``--report-only`` rebuilds the section from the CSV;
``--check`` exits 1 when the section differs from what the CSV gives.
"""

import argparse
import json
import sys
import time
import warnings
from datetime import datetime, timezone
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
from sklearn.base import clone  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.utils import _safe_indexing  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

from bench import _report  # noqa: E402
from bench._common import (  # noqa: E402
    DOCS,
    RESULTS,
    _git_commit,
    charged_seconds,
    clear_cache,
    machine,
    make_modules,
)
from bench._data import DATASETS, outer_folds  # noqa: E402
from bench._methods import METHODS, within_budget  # noqa: E402
from bench._runner import (  # noqa: E402
    LOSS,
    _predict,
    describe,
    inner_splitter,
    n_nonzero,
    read_rows,
    run_jobs,
    scores,
)

SECTION = "budget"
# Small and larger sets of both tasks, from the broad benchmark's list; the
# larger ones have held-out folds of 2,000 to 18,000 rows, where the predict
# times are long enough to set against the expected cost.
DEFAULT_DATASETS = [
    "australian",
    "pima",
    "segment",
    "spambase",
    "penbased",
    "magic",
    "concrete",
    "wage",
    "computers",
    "diamonds",
]
OUTER_FOLDS = 3
INNER_FOLDS = 5
MAX_TRAIN = 2000
PREDICT_REPEATS = 5  # predict_time is the median of this many calls
# A 1,000-row call takes about a millisecond on the cheaper modules, where
# one busy moment of the machine moves a median of 5: the median of more.
CALL_REPEATS = 21
LARGE_TEST = 2000  # held-out rows per fold of a "larger" set
WITHIN = 0.25  # an expected cost within 25% of the measured time
BUDGET_ROWS = 1000  # the rows of the call a predict cost is the time of
TIE = 0.005
FLOOR = {"classification": 0.01, "regression": 0.0}
METRIC_LABEL = {"classification": "log-loss", "regression": "RMSE"}

# name: (max_modules, max_predict_cost is the two cheapest modules' cost)
BUDGETS = {
    "k1": (1, False),
    "k2": (2, False),
    "k3": (3, False),
    "cost": (None, True),
}
BUDGET_LABEL = {
    "k1": "1 module",
    "k2": "2 modules",
    "k3": "3 modules",
    "cost": "the two cheapest modules' cost",
}
FAMILIES = ["attention", "attention_cv", "caruana", "best_single"]
ESTIMATOR = {"attention": "`SparseAttention*`", "attention_cv": "`SparseAttention*CV`"}
OURS = ["attention", "attention_cv"]
# The plain estimator at its defaults, fitted first: its module costs set
# the cost budget.
PLAIN = "attention"


def method_name(family, budget):
    """The CSV name of ``family`` within ``budget``. The best single module
    is within every budget of k modules: one fit serves them all."""
    if family == "best_single" and budget != "cost":
        return "best_single"
    return f"{family}_{budget}"


def budget_methods(budget):
    return [method_name(family, budget) for family in FAMILIES]


# --------------------------------------------------------------------------
# One outer fold
# --------------------------------------------------------------------------
def _job(name, fold, max_train, n_inner, quick):
    """Every method and every module alone on one outer fold of ``name``."""
    with threadpool_limits(1):
        folds, info = outer_folds(name, OUTER_FOLDS, max_train=max_train)
        task = DATASETS[name].task
        modules = make_modules(task, info["categorical"], info["numeric"], quick=quick)
        inner = inner_splitter(task, n_inner)
        fold_data = folds[fold]
        base = {
            "dataset": name,
            "fold": fold,
            "task": task,
            "n_train": len(fold_data[1]),
            "n_test": len(fold_data[3]),
        }
        clear_cache()
        try:
            return _fold_rows(task, modules, inner, fold_data, base)
        finally:
            clear_cache()


def _fold_rows(task, modules, inner, fold_data, base):
    names = [n for n, _ in modules]
    plain = METHODS[PLAIN].build(task, modules, inner)
    rows = [_fit_and_score(PLAIN, plain, task, fold_data, base, names, None)]
    # Costs as the estimators count them: each module's with the ensemble's
    # own work on its output, and the ensemble's own part of a call once.
    own_call = plain.own_call_cost_
    costs = plain.modules_["predict_cost"] + plain.own_module_cost_
    rows[0]["details"] += "; costs=" + ",".join(
        f"{n}:{c:.6g}" for n, c in zip(names, costs)
    )
    cheapest = np.argsort(costs, kind="stable")[:2]
    max_cost = float(own_call + costs[cheapest].sum())
    built = {}
    for budget, (k, by_cost) in BUDGETS.items():
        for family in FAMILIES:
            # Caruana's selection and the best single module keep the sum
            # of their modules' costs within what the budget leaves beside
            # the part of a call.
            own = 0.0 if family in ESTIMATOR else own_call
            limit = {"max_modules": k, "max_cost": max_cost - own if by_cost else None}
            method = method_name(family, budget)
            if method not in built:
                spec = within_budget(family, costs=costs, **limit)
                built[method] = spec.build(task, modules, inner)
    reference = {"costs": costs, "own_call": own_call, "max_cost": max_cost}
    for method, est in built.items():
        rows.append(
            _fit_and_score(method, est, task, fold_data, base, names, reference)
        )
    module_costs = (plain.modules_["predict_cost"], plain.modules_["predict_call_cost"])
    rows += _module_rows(task, modules, fold_data, base, module_costs)
    return rows


def _fit_and_score(method, est, task, fold_data, base, names, reference):
    """The row of one method: its held-out scores and times, what it chose,
    and (after " | ") the modules it calls, their first-fit cost and its
    expected predict time; or its error if it failed."""
    X_train, y_train, X_test, y_test = fold_data
    classes = np.unique(y_train) if task == "classification" else None
    row = {**base, "kind": "method", "method": method, "n_modules": len(names)}
    charged = charged_seconds()
    start = time.perf_counter()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            est.fit(X_train, y_train)
    except Exception as exc:  # recorded: a budget the estimator cannot serve
        message = " ".join(str(exc).split())
        return {**row, "details": f"failed: {type(exc).__name__}: {message}"}
    row["fit_time"] = time.perf_counter() - start + charged_seconds() - charged
    output, row["predict_time"] = _timed_predict(est, X_test, task, classes)
    row.update(scores(task, y_test, output, classes))
    row["n_nonzero"] = n_nonzero(est, len(names))
    used = _modules_used(est, names)
    facts = {"used": "+".join(used)}
    if reference is not None:
        first = dict(zip(names, reference["costs"]))
        cost = reference["own_call"] + sum(first[n] for n in used)
        facts["reference_cost"] = f"{cost:.6g}"
        if method.endswith("_cost"):
            facts["budget"] = f"{reference['max_cost']:.6g}"
    # A predict cost is the time of a call predicting 1,000 rows: time
    # exactly such a call, on held-out rows (repeated if fewer).
    rows_1000 = np.resize(np.arange(len(y_test)), BUDGET_ROWS)
    _, seconds = _timed_predict(
        est, _safe_indexing(X_test, rows_1000), task, classes, CALL_REPEATS
    )
    facts["measured_1000_s"] = f"{seconds:.6g}"
    if hasattr(est, "predict_cost_"):
        facts["predict_cost"] = f"{est.predict_cost_:.6g}"
        table = est.modules_
        in_use = est.support_
        expected = _expected_seconds(
            table["predict_cost"][in_use],
            table["predict_call_cost"][in_use],
            len(y_test),
        )
        # The ensemble's own work, as timed on a 1,000-row call.
        expected += est.own_call_cost_ + est.n_nonzero_ * est.own_module_cost_
        facts["expected_predict_s"] = f"{expected:.6g}"
    trailer = "; ".join(f"{k}={v}" for k, v in facts.items())
    row["details"] = f"{describe(method, est)} | {trailer}"
    return row


def _timed_predict(est, X, task, classes, repeats=PREDICT_REPEATS):
    """The output on ``X`` and the median seconds of ``repeats`` calls: the
    fit's costs are medians over its folds too."""
    return _predict(est, X, task, classes, repeats, np.median)


def _expected_seconds(costs, call_costs, n_rows):
    """The seconds a call on ``n_rows`` rows takes by the modules' costs: a
    cost per call, plus the rest of a 1,000-row call's cost per 1,000
    rows."""
    costs, call_costs = np.asarray(costs), np.asarray(call_costs)
    return float(np.sum(call_costs + (costs - call_costs) * n_rows / 1000))


def _modules_used(est, names):
    if hasattr(est, "support_"):
        return [n for n, s in zip(est.module_names_, est.support_) if s]
    if hasattr(est, "best_name_"):
        return [est.best_name_]
    if hasattr(est, "weights_"):  # Caruana: its estimators, in order
        return [n for (n, _), w in zip(est.estimators, est.weights_) if w > 0]
    return list(names)


def _module_rows(task, modules, fold_data, base, costs):
    """Each module alone, refitted on the training fold (cached): its
    held-out scores, its predict time and the time its first-fit costs
    (``costs``: per 1,000 rows and per call) predict."""
    X_train, y_train, X_test, y_test = fold_data
    classes = np.unique(y_train) if task == "classification" else None
    rows = []
    for (name, module), cost, call_cost in zip(modules, *costs):
        fitted = clone(module).fit(X_train, y_train)
        output, seconds = _timed_predict(fitted, X_test, task, classes)
        expected = _expected_seconds([cost], [call_cost], len(y_test))
        rows.append(
            {
                **base,
                "kind": "module",
                "method": name,
                **scores(task, y_test, output, classes),
                "predict_time": seconds,
                "n_nonzero": 1,
                "n_modules": len(modules),
                "details": f" | predict_cost={cost:.6g}; expected_predict_s="
                f"{expected:.6g}",
            }
        )
    return rows


def facts(row):
    """The ``key=value`` facts after " | " in a row's details."""
    _, _, trailer = row["details"].partition(" | ")
    out = {}
    for part in filter(None, (p.strip() for p in trailer.split(";"))):
        key, _, value = part.partition("=")
        out[key] = value
    return out


def failed(row):
    return row["details"].startswith("failed:")


# --------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------
def _loss(row):
    return row[LOSS[row["task"]]]


def summarise(rows):
    """Mean held-out losses per (set, method) over the folds (NaN when a
    fold failed), per budget the sets every method finished, mean ranks,
    modules used, the paired comparisons with Caruana and the best single
    module, the failures, the cost budget's facts and the predict times
    against the expected costs."""
    method_rows = [r for r in rows if r["kind"] == "method"]
    datasets = [n for n in DATASETS if any(r["dataset"] == n for r in rows)]
    task = {n: DATASETS[n].task for n in datasets}
    mean, used = {}, {}
    for (ds, method), group in _groups(method_rows).items():
        mean[ds, method] = float(np.mean([_loss(r) for r in group]))
        used[ds, method] = float(np.mean([r["n_nonzero"] for r in group]))
    summary = {"datasets": datasets, "task": task, "mean": mean, "budgets": {}}
    for budget in BUDGETS:
        methods = budget_methods(budget)
        sets = [
            ds
            for ds in datasets
            if all(np.isfinite(mean.get((ds, m), np.nan)) for m in methods)
        ]
        s = {
            "methods": methods,
            "datasets": sets,
            "left_out": [ds for ds in datasets if ds not in sets],
            "ranks": _report.mean_ranks(mean, sets, methods) if sets else {},
            "used": {
                m: float(np.mean([used[ds, m] for ds in sets])) if sets else np.nan
                for m in methods
            },
        }
        caruana, single = (
            method_name("caruana", budget),
            method_name("best_single", budget),
        )
        for family in OURS:
            ours = method_name(family, budget)
            s[family, "caruana"] = _paired(mean, sets, task, ours, caruana)
            s[family, "best_single"] = _paired(mean, sets, task, ours, single)
        summary["budgets"][budget] = s
    summary["failures"] = [
        (r["dataset"], r["fold"], r["method"], r["details"][len("failed: ") :])
        for r in method_rows
        if failed(r)
    ]
    summary["cost"] = _cost_facts(method_rows, datasets)
    summary["timing"] = _timing(rows, datasets)
    summary["n_folds"] = {
        ds: len({r["fold"] for r in rows if r["dataset"] == ds}) for ds in datasets
    }
    summary["n_train"] = {
        ds: sorted({int(r["n_train"]) for r in rows if r["dataset"] == ds})
        for ds in datasets
    }
    summary["n_test"] = {
        ds: float(np.mean([float(r["n_test"]) for r in rows if r["dataset"] == ds]))
        for ds in datasets
    }
    return summary


def _groups(rows):
    out = {}
    for r in rows:
        out.setdefault((r["dataset"], r["method"]), []).append(r)
    return out


def _paired(mean, sets, task, method, reference):
    """Wins, losses and ties of ``method`` against ``reference`` per set (a
    tie within `TIE` relative difference, divided by the reference's mean
    loss or the task's floor) and the two-sided exact sign test."""
    from scipy.stats import binomtest

    diffs = [
        _report.relative(mean, ds, method, reference, FLOOR[task[ds]]) for ds in sets
    ]
    wins = sum(d < -TIE for d in diffs)
    losses = sum(d > TIE for d in diffs)
    ties = len(diffs) - wins - losses
    p = binomtest(wins, wins + losses, 0.5).pvalue if wins + losses else 1.0
    return {"wins": wins, "losses": losses, "ties": ties, "p": float(p)}


def _cost_facts(method_rows, datasets):
    """Per set, for the cost budget: the budget (mean over folds), the two
    cheapest modules of the first fits, and for each method how many folds
    it failed, the modules it called and whether their first-fit cost kept
    to the budget."""
    out = {}
    groups = _groups(method_rows)
    for ds in datasets:
        plain = groups.get((ds, PLAIN), [])
        pairs = []
        for r in plain:
            if failed(r):
                continue
            first = dict(
                (item.split(":")[0], float(item.split(":")[1]))
                for item in r["details"].split("costs=")[1].split(",")
            )
            pairs.append("+".join(sorted(first, key=first.get)[:2]))
        info = {"pairs": sorted(set(pairs)), "methods": {}}
        budgets = []
        for family in FAMILIES:
            group = groups.get((ds, method_name(family, "cost")), [])
            done = [r for r in group if not failed(r)]
            kept = [
                float(facts(r)["reference_cost"]) <= float(facts(r)["budget"]) * 1.0001
                for r in done
            ]
            budgets += [float(facts(r)["budget"]) for r in done]
            measured = [
                float(facts(r)["measured_1000_s"]) / float(facts(r)["budget"])
                for r in done
                if "measured_1000_s" in facts(r)
            ]
            info["methods"][family] = {
                "folds": len(group),
                "failed": len(group) - len(done),
                "used": sorted({facts(r)["used"] for r in done}),
                "kept": sum(kept),
                "measured": measured,
            }
        info["budget"] = float(np.mean(budgets)) if budgets else np.nan
        out[ds] = info
    return out


def _timing(rows, datasets):
    """Per set and method (the sparse-attention ones, and the modules alone
    summed): the mean expected and measured predict seconds on the held-out
    rows and their ratio, measured / expected, averaged over folds."""
    out = {}
    for ds in datasets:
        per = {}
        fits = [
            r
            for r in rows
            if r["dataset"] == ds
            and r["kind"] == "method"
            and not failed(r)
            and "expected_predict_s" in facts(r)
        ]
        for (_, method), group in _groups(fits).items():
            pairs = [
                (float(facts(r)["expected_predict_s"]), r["predict_time"])
                for r in group
            ]
            per[method] = _ratios(pairs)
            calls = [
                (float(facts(r)["predict_cost"]), float(facts(r)["measured_1000_s"]))
                for r in group
                if "measured_1000_s" in facts(r)
            ]
            if calls:
                per[method]["ratio_1000"] = _ratios(calls)["ratio"]
        modules = [r for r in rows if r["dataset"] == ds and r["kind"] == "module"]
        folds = sorted({r["fold"] for r in modules})
        per["modules alone"] = _ratios(
            [
                (
                    sum(
                        float(facts(r)["expected_predict_s"])
                        for r in modules
                        if r["fold"] == f
                    ),
                    sum(r["predict_time"] for r in modules if r["fold"] == f),
                )
                for f in folds
            ]
        )
        out[ds] = per
    return out


def _ratios(pairs):
    expected = np.array([e for e, _ in pairs])
    measured = np.array([m for _, m in pairs])
    return {
        "expected": float(expected.mean()),
        "measured": float(measured.mean()),
        "ratio": float(np.mean(measured / expected)),
    }


TIMED = ["attention", "attention_k1", "attention_k2", "attention_k3", "modules alone"]


def report(rows, meta):
    s = summarise(rows)
    runs = meta.get("runs", [{}])
    first = runs[0]
    commits = list(dict.fromkeys(r.get("commit") for r in runs if r.get("commit")))
    wall = sum(r.get("wall_minutes", 0.0) for r in runs)
    settings = meta.get("settings", {})
    parts = [
        f"Machine: {_report.machine_text(first)}"
        + (f"; resumed at commit {_series(commits[1:])}" if len(commits) > 1 else "")
        + (f"; load average {first['load']}" if first.get("load") else "")
        + ".",
        "",
        f"Settings: {settings.get('folds', '?')} of {OUTER_FOLDS} outer folds "
        "per data set (shuffled, stratified for classification, seed 0), "
        f"training folds capped at {settings.get('max_train')} rows (seeded "
        "subsample, stratified for classification), test folds whole; inner "
        f"cv = {settings.get('inner', '?')}-fold shuffled (stratified) splitter "
        "shared by every method; predict time = the median of "
        f"{PREDICT_REPEATS} calls on the held-out rows; folds run "
        f"{first.get('n_jobs', '?')} at a time, each single-threaded; wall time "
        f"{wall:.1f} min"
        + (f" over {len(runs)} runs (resumed)" if len(runs) > 1 else "")
        + ("; QUICK smoke settings" if settings.get("quick") else "")
        + ".",
        "",
    ]
    parts += _data_parts(s)
    parts += _rank_parts(s)
    parts += _per_set_parts(s)
    parts += _cost_parts(s)
    parts += _timing_parts(s)
    return "\n".join(parts), s


def _data_parts(s):
    body = []
    for ds in s["datasets"]:
        d = DATASETS[ds]
        train = s["n_train"][ds]
        body.append(
            [
                ds,
                d.task,
                d.rows,
                d.features,
                d.classes or "",
                "-".join(str(t) for t in dict.fromkeys([train[0], train[-1]])),
                f"{s['n_test'][ds]:.0f}",
                s["n_folds"][ds],
            ]
        )
    head = [
        "data set",
        "task",
        "rows",
        "features",
        "classes",
        "training rows per fold",
        "held-out rows per fold",
        "outer folds",
    ]
    methods = [
        [
            "`attention_<budget>`",
            "`SparseAttention*` at its defaults within the budget",
        ],
        [
            "`attention_cv_<budget>`",
            "`SparseAttention*CV` at its defaults within the budget",
        ],
        [
            "`caruana_<budget>`",
            "Caruana ensemble selection (50 rounds) adding a new module only "
            "while the bag stays within the budget",
        ],
        [
            "`best_single`, `best_single_cost`",
            "the best single module by inner CV (among those within the cost budget)",
        ],
    ]
    budgets = [
        ["`k1`, `k2`, `k3`", "at most 1, 2, 3 modules called (`max_modules=k`)"],
        [
            "`cost`",
            "`max_predict_cost` = what the two cheapest modules cost together, "
            "measured in each outer fold by a first fit of `SparseAttention*` "
            "at its defaults: their `modules_['predict_cost']`, the ensemble's "
            "own work on each one's output (`own_module_cost_`) and its own "
            "part of a call (`own_call_cost_`); Caruana's bag and the best "
            "single module keep their modules' costs, so counted, within it",
        ],
    ]
    return [
        "### Serving within a budget: data sets and methods",
        "",
        _report.table(head, body),
        "",
        _report.table(["budget", "what"], budgets),
        "",
        _report.table(["method", "what"], methods),
        "",
    ]


def _rank_parts(s):
    head = ["budget", "sets"]
    head += [f"`{f}`" for f in FAMILIES]
    body = []
    for budget, b in s["budgets"].items():
        cells = [BUDGET_LABEL[budget], str(len(b["datasets"]))]
        for family in FAMILIES:
            m = method_name(family, budget)
            cells.append(
                f"{b['ranks'][m]:.2f} ({b['used'][m]:.2f})" if b["datasets"] else "-"
            )
        body.append(cells)
    pair_head = ["budget"]
    for family in OURS:
        pair_head += [
            f"`{family}` against Caruana: W / L / T",
            "p",
            f"`{family}` against the best single: W / L / T",
            "p",
        ]
    pair_body = []
    for budget, b in s["budgets"].items():
        cells = [BUDGET_LABEL[budget]]
        for family in OURS:
            for reference in ("caruana", "best_single"):
                pair = b[family, reference]
                cells += [
                    f"{pair['wins']} / {pair['losses']} / {pair['ties']}",
                    f"{pair['p']:.3g}",
                ]
        pair_body.append(cells)
    out = [
        "### Serving within a budget: ranks",
        "",
        "Mean rank of the mean held-out loss over the outer folds (log-loss for "
        "classification, RMSE for regression; 1 = best of the four, ties share "
        "their average rank) within each budget, over the sets every method "
        "finished; in brackets, the modules called at predict time, mean over "
        "those sets.",
        "",
        _report.table(head, body),
        "",
        "Wins / losses / ties per set (a tie within "
        f"{TIE:.1%} relative difference of the mean held-out losses; for "
        f"log-loss the difference divides by the reference's or by "
        f"{FLOOR['classification']:g}, whichever is larger) and the two-sided "
        "exact sign test (ties dropped), against Caruana's selection and the "
        "best single module within the same budget:",
        "",
        _report.table(pair_head, pair_body),
        "",
    ]
    left_out = {
        budget: b["left_out"] for budget, b in s["budgets"].items() if b["left_out"]
    }
    if left_out:
        out += [
            "Left out of a budget's ranks, as a method failed on a fold: "
            + "; ".join(
                f"{BUDGET_LABEL[budget]}: {_series(sets)}"
                for budget, sets in left_out.items()
            )
            + ".",
            "",
        ]
    return out


def _per_set_parts(s):
    head = ["data set", "loss", "`best_single`"]
    for budget in BUDGETS:
        head.append(f"{BUDGET_LABEL[budget]}: `attention` / `attention_cv`")
    body = []
    mean = s["mean"]
    for ds in s["datasets"]:
        task = s["task"][ds]
        cells = [ds, METRIC_LABEL[task], f"{mean.get((ds, 'best_single'), np.nan):.4g}"]
        for budget in BUDGETS:
            caruana = method_name("caruana", budget)
            texts = []
            for family in OURS:
                m = method_name(family, budget)
                value = mean.get((ds, m), np.nan)
                if not np.isfinite(value) or not np.isfinite(
                    mean.get((ds, caruana), np.nan)
                ):
                    texts.append("failed")
                else:
                    rel = _report.relative(mean, ds, m, caruana, FLOOR[task])
                    texts.append(f"{rel:+.1%}")
            cells.append(" / ".join(texts))
        body.append(cells)
    return [
        "### Serving within a budget: per set",
        "",
        "The best single module's mean held-out loss, and within each budget "
        "the relative difference of `attention` and `attention_cv` to "
        "Caruana's selection within the same budget (negative = better; "
        "failed = a fold failed):",
        "",
        _report.table(head, body),
        "",
    ]


def _cost_parts(s):
    head = ["data set", "budget (s / 1,000 rows)", "two cheapest"]
    head += [f"`{f}`" for f in FAMILIES]
    body = []
    for ds, info in s["cost"].items():
        cells = [ds, _sec(info["budget"]), ", ".join(info["pairs"])]
        for family in FAMILIES:
            m = info["methods"][family]
            if not m["folds"]:
                cells.append("-")
                continue
            text = ", ".join(m["used"]) or "-"
            done = m["folds"] - m["failed"]
            if m["failed"]:
                text += f"; failed {m['failed']} of {m['folds']}"
            if done and m["kept"] < done:
                text += f"; over budget {done - m['kept']} of {done}"
            if m["measured"]:
                text += "; measured " + "/".join(f"{v:.2f}" for v in m["measured"])
            cells.append(text)
        body.append(cells)
    ratios = _budget_ratios(s)
    out = [
        "### Serving within a budget: the cost budget",
        "",
        "Per set: the cost budget (mean over the outer folds), the two "
        "cheapest modules of the first fits, and the modules each method "
        "called (over the folds); failed = the fit raised; over budget = the "
        "modules called cost more than the budget by the first fit's costs "
        "(the sparse-attention estimators measure their costs again in their "
        "own fit); measured = the time of a call predicting 1,000 held-out "
        f"rows (the median of {CALL_REPEATS}; rows repeated where the fold "
        "has fewer), as a fraction of the budget, per fold.",
        "",
        _report.table(head, body),
        "",
    ]
    if ratios:
        within = {
            family: [v for f, v in ratios if f == family and v <= 1 + WITHIN]
            for family in OURS
        }
        totals = {family: sum(f == family for f, _ in ratios) for family in OURS}
        out += [
            "A call predicting 1,000 rows took at most the budget plus "
            f"{WITHIN:.0%} in "
            + " and ".join(
                f"{len(within[family])} of {totals[family]} fits of `{family}`"
                for family in OURS
            )
            + f" (the most: {max(v for _, v in ratios):.2f} times the budget).",
            "",
        ]
    if s["failures"]:
        errors = {}
        for ds, fold, method, error in s["failures"]:
            errors.setdefault((method, error), []).append(f"{ds} {fold}")
        out += [
            "Failures (method: error, on which set and outer fold):",
            "",
            *[
                f"* `{method}`: {error} ({_series(where)})"
                for (method, error), where in sorted(errors.items())
            ],
            "",
        ]
    return out


def _timing_parts(s):
    head = ["data set", "held-out rows", "`attention`: expected / measured (s)"]
    head += [f"`{m}`" if m != "modules alone" else m for m in TIMED]
    head.append(f"within {WITHIN:.0%}")
    body = []
    large, large_ratios = [], []
    for ds in s["datasets"]:
        t = s["timing"][ds]
        plain = t.get(PLAIN)
        cells = [
            ds,
            f"{s['n_test'][ds]:.0f}",
            f"{plain['expected']:.3g} / {plain['measured']:.3g}" if plain else "-",
        ]
        cells += [f"{t[m]['ratio']:.2f}" if m in t else "-" for m in TIMED]
        if s["n_test"][ds] >= LARGE_TEST:
            large.append(ds)
            ratios = [t[m]["ratio"] for m in TIMED if m in t]
            large_ratios += ratios
            ok = sum(abs(r - 1) <= WITHIN for r in ratios)
            cells.append(f"{ok} of {len(ratios)}")
        else:
            cells.append("(smaller set)")
        body.append(cells)
    calls_head = ["data set"] + [f"`{m}`" for m in TIMED if m != "modules alone"]
    calls_body = [
        [ds] + [f"{r:.2f}" if r is not None else "-" for r in _call_ratios(s, ds)]
        for ds in s["datasets"]
    ]
    calls_every, calls_large = _measured_call_ratios(s)
    return [
        "### Serving within a budget: predict time against the expected cost",
        "",
        "Measured / expected predict time on the held-out rows, mean over the "
        "outer folds: for a sparse-attention fit the expected time is, for "
        "each module in use, its cost per call plus the rest of its cost x "
        "rows / 1000 (timed on its cv folds in the estimator's own fit), "
        "and the ensemble's own work on a 1,000-row "
        "call; for the modules alone, the same sum from their first-fit "
        "costs against the sum of their own predict times. The last column "
        "counts the ratios within "
        f"{WITHIN:.0%} of 1 on the larger sets (held-out folds of at least "
        f"{LARGE_TEST:,} rows).",
        "",
        _report.table(head, body),
        "",
        f"On the {len(large)} larger sets ({_series(large)}): {_within(large_ratios)}.",
        "",
        "The cost itself is the time of a call predicting 1,000 rows. "
        "Measured / expected for exactly such a call on held-out rows (the "
        f"median of {CALL_REPEATS}; rows repeated where the fold has "
        "fewer) against `predict_cost_`, mean over the outer folds:",
        "",
        _report.table(calls_head, calls_body),
        "",
        f"{_within(calls_every)}; on the larger sets, {_within(calls_large)}.",
        "",
    ]


def headline(s):
    """The user guide's summary of the run (docs/figures.py writes it into
    docs/user_guide.md): the mean ranks and the paired comparisons per
    budget, the failures, and the predict time against the expected cost on
    the larger sets."""
    sets = s["datasets"]
    n_class = sum(s["task"][ds] == "classification" for ds in sets)
    head = [
        "budget",
        "sets",
        "`SparseAttention*`",
        "`SparseAttention*CV`",
        "Caruana",
        "best single",
        "`SparseAttention*` against Caruana: W / L / T",
        "`SparseAttention*CV` against Caruana: W / L / T",
    ]
    body = []
    for budget, b in s["budgets"].items():
        cells = [BUDGET_LABEL[budget], str(len(b["datasets"]))]
        cells += [
            f"{b['ranks'][method_name(f, budget)]:.2f}" if b["datasets"] else "-"
            for f in FAMILIES
        ]
        for family in OURS:
            pair = b[family, "caruana"]
            cells.append(f"{pair['wins']} / {pair['losses']} / {pair['ties']}")
        body.append(cells)
    folds = sorted(set(s["n_folds"].values()))
    parts = [
        f"On {len(sets)} data sets ({n_class} classification, "
        f"{len(sets) - n_class} regression; "
        f"{'-'.join(str(f) for f in folds)} outer folds each), the mean rank "
        "of the held-out loss among the four ways of serving within each "
        "budget (1 = best), and wins / losses / ties per set against "
        "Caruana's selection held to the same budget:",
        "",
        _report.table(head, body),
        "",
    ]
    counts = {}
    for _, _, method, error in s["failures"]:
        counts.setdefault(method, []).append(error.split(":")[0])
    total = sum(s["n_folds"][ds] for ds in sets)
    for method, errors in sorted(counts.items()):
        family, _, budget = method.rpartition("_")
        kinds = _series(sorted(set(errors)))
        parts.append(
            f"* {ESTIMATOR.get(family, f'`{family}`')} within "
            f"{BUDGET_LABEL[budget]} raised on {len(errors)} of {total} outer "
            f"folds ({kinds}; each error in "
            "[benchmarks](benchmarks.md#serving-within-a-budget))."
        )
    if counts:
        parts.append("")
    large = [ds for ds in sets if s["n_test"][ds] >= LARGE_TEST]
    ratios = {
        m: [s["timing"][ds][m]["ratio"] for ds in large if m in s["timing"][ds]]
        for m in TIMED
    }
    plain, modules = ratios[PLAIN], ratios["modules alone"]
    if large and plain and modules:
        every = [r for values in ratios.values() for r in values]
        parts += [
            f"On the {len(large)} larger sets (held-out folds of at least "
            f"{LARGE_TEST:,} rows: {_series(large)}), the measured predict "
            f"time of the plain estimator was {min(plain):.2f} to "
            f"{max(plain):.2f} times its expected time (each module's cost "
            "per call plus the rest of its cost x rows / 1000, and the "
            "ensemble's own work), and the modules' own predict times "
            f"{min(modules):.2f} to {max(modules):.2f} times what their "
            f"costs foretold. Of all such ratios (the plain and budgeted "
            f"estimators', the modules'): {_within(every)}.",
            "",
        ]
        faster = [
            ds for ds in large if s["timing"][ds]["modules alone"]["ratio"] < 1 - WITHIN
        ]
        if faster:
            parts[-2] += (
                " The costs assume a call's time grows linearly with its rows "
                "beyond a fixed part; on "
                + _series(
                    f"{ds} ({s['n_test'][ds]:,.0f} held-out rows: "
                    f"{s['timing'][ds]['modules alone']['ratio']:.2f})"
                    for ds in faster
                )
                + " the modules themselves predicted that many rows faster "
                "per row than that foretells."
            )
    every, on_large = _measured_call_ratios(s)
    if every:
        parts += [
            "Timed as the cost is defined, a call predicting 1,000 held-out "
            f"rows took {min(every):.2f} to {max(every):.2f} times "
            "`predict_cost_` (per set and estimator, the mean over the outer "
            f"folds): {_within(on_large)} on the larger sets, "
            f"{_within(every)} on all {len(sets)}.",
            "",
        ]
    cost_ratios = [v for _, v in _budget_ratios(s)]
    if cost_ratios:
        within = sum(v <= 1 + WITHIN for v in cost_ratios)
        parts += [
            "Within the cost budget, such a call took at most "
            f"{max(cost_ratios):.2f} times the budget ({within} of "
            f"{len(cost_ratios)} fits within the budget plus {WITHIN:.0%}).",
            "",
        ]
    return "\n".join(parts)


def _budget_ratios(s):
    """``(family, ratio)`` for every fit of `OURS` within the cost budget:
    its 1,000-row call's measured time over the budget."""
    return [
        (family, v)
        for info in s["cost"].values()
        for family in OURS
        for v in info["methods"][family]["measured"]
    ]


def _call_ratios(s, ds):
    """On set ``ds``, for each sparse-attention fit of `TIMED`: its
    1,000-row call's measured time over ``predict_cost_``, mean over the
    outer folds (None where not measured)."""
    timing = s["timing"][ds]
    return [timing.get(m, {}).get("ratio_1000") for m in TIMED[:-1]]


def _measured_call_ratios(s):
    """The `_call_ratios` that were measured, on every set and on the
    larger ones (`LARGE_TEST` held-out rows or more)."""
    every, large = [], []
    for ds in s["datasets"]:
        measured = [r for r in _call_ratios(s, ds) if r is not None]
        every += measured
        if s["n_test"][ds] >= LARGE_TEST:
            large += measured
    return every, large


def _within(ratios):
    """How many of ``ratios`` are within `WITHIN` of 1, and their median, in
    words."""
    inside = sum(abs(r - 1) <= WITHIN for r in ratios)
    middle = f" (median {np.median(ratios):.2f})" if len(ratios) else ""
    return f"{inside} of {len(ratios)} within {WITHIN:.0%}{middle}"


def _sec(value):
    return f"{value:.3g}" if np.isfinite(value) else "-"


def _series(items):
    items = list(items)
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


# --------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------
def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", default=DEFAULT_DATASETS)
    parser.add_argument(
        "--folds",
        type=int,
        default=OUTER_FOLDS,
        choices=range(1, OUTER_FOLDS + 1),
        help=f"run the first FOLDS of the {OUTER_FOLDS} outer folds of each set",
    )
    parser.add_argument(
        "--max-train",
        type=int,
        default=MAX_TRAIN,
        help="subsample larger training folds to this many rows",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="smoke-test settings: 10 trees, 10 boosting rounds, 3-fold inner cv",
    )
    parser.add_argument("--n-jobs", type=int, default=2, help="folds run in parallel")
    parser.add_argument("--out", type=Path, default=RESULTS / "budget.csv")
    parser.add_argument("--docs", type=Path, default=DOCS / "benchmarks.md")
    parser.add_argument("--no-docs", action="store_true")
    parser.add_argument(
        "--fresh", action="store_true", help="start over instead of resuming"
    )
    parser.add_argument(
        "--redo-failed",
        action="store_true",
        help="run again the outer folds where a method failed (their rows "
        "are replaced), e.g. after a fix in the package",
    )
    parser.add_argument(
        "--commit",
        default=None,
        help="commit to report as the code under test (default: git rev-parse "
        "--short HEAD)",
    )
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument(
        "--report-only",
        action="store_true",
        help="rebuild the section from the CSV, fitting nothing",
    )
    mode.add_argument(
        "--check",
        action="store_true",
        help="exit 1 if the section in --docs differs from what the CSV gives",
    )
    args = parser.parse_args(argv)
    unknown = set(args.datasets) - set(DATASETS)
    if unknown:
        parser.error(f"unknown data sets {sorted(unknown)}; known: {list(DATASETS)}")
    if args.report_only or args.check:
        return _report_only(args)

    args.inner = 3 if args.quick else INNER_FOLDS
    meta_path = args.out.with_suffix(".json")
    meta, done = {}, set()
    if meta_path.exists() and args.out.exists() and not args.fresh:
        meta = json.loads(meta_path.read_text())
        stored = dict(meta.get("settings", {}))
        stored.pop("folds", None)
        if stored != _settings(args):
            parser.error(
                f"{args.out} was run with {meta.get('settings')}; resume with "
                "the same settings or pass --fresh"
            )
        stored_rows = read_rows(args.out)
        if args.redo_failed:
            stored_rows = _without_failed_folds(args.out, stored_rows)
        done = {(r["dataset"], r["fold"]) for r in stored_rows}
    folds = max(meta.get("settings", {}).get("folds", 0), args.folds)
    meta["settings"] = {"folds": folds, **_settings(args)}
    meta.setdefault("runs", [])
    order = sorted(args.datasets, key=lambda n: -DATASETS[n].rows)
    jobs = [
        (
            f"{name} fold {fold}",
            (name, fold, args.max_train, args.inner, args.quick),
        )
        for name in order
        for fold in range(args.folds)
        if (name, fold) not in done
    ]
    run = {
        "commit": args.commit or _git_commit(),
        "dirty": _dirty() if args.commit is None else False,
        "machine": machine(),
        "started": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "load": _load(),
        "n_jobs": args.n_jobs,
        "jobs": len(jobs),
    }
    if jobs:
        print(f"{len(jobs)} jobs to run", flush=True)
        start = datetime.now(timezone.utc)
        run_jobs(
            jobs,
            _job,
            args.out,
            n_jobs=args.n_jobs,
            append=not args.fresh,
            log=lambda text: print(text, flush=True),
        )
        run["wall_minutes"] = (datetime.now(timezone.utc) - start).total_seconds() / 60
        meta["runs"].append(run)
        meta_path.write_text(json.dumps(meta, indent=1) + "\n")
    else:
        print("nothing to run: every job is in the CSV", flush=True)
    return _report_only(args)


def _without_failed_folds(path, rows):
    """Drop from the CSV ``path`` every row of an outer fold where a method
    failed; the rows kept."""
    import csv

    from bench._runner import FIELDS

    redo = {(r["dataset"], r["fold"]) for r in rows if failed(r)}
    with open(path, newline="") as handle:
        raw = list(csv.DictReader(handle))
    kept = [r for r in raw if (r["dataset"], int(r["fold"])) not in redo]
    with open(path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, FIELDS)
        writer.writeheader()
        writer.writerows(kept)
    return [r for r in rows if (r["dataset"], r["fold"]) not in redo]


def _settings(args):
    """What the rows depend on: a resumed run must keep it."""
    return {
        "max_train": args.max_train,
        "inner": 3 if args.quick else INNER_FOLDS,
        "quick": args.quick,
    }


def _load():
    import os

    try:
        return " / ".join(f"{x:.1f}" for x in os.getloadavg())
    except OSError:
        return ""


def _dirty():
    from bench.quality import _dirty

    return _dirty()


def _report_only(args):
    meta_path = args.out.with_suffix(".json")
    meta = json.loads(meta_path.read_text()) if meta_path.exists() else {}
    rows = read_rows(args.out)
    text, summary = report(rows, meta)
    if args.check:
        diff = _report.section_diff(args.docs, SECTION, text)
        if diff:
            print(diff)
            print(
                f"{args.docs}: the {SECTION} section is stale; rebuild it with "
                "python bench/budget.py --report-only"
            )
            raise SystemExit(1)
        print(f"{args.docs}: the {SECTION} section agrees with {args.out}")
        return {"rows": rows, "summary": summary, "text": text}
    print(text)
    if not args.no_docs:
        _report.replace_section(args.docs, SECTION, text)
    return {"rows": rows, "summary": summary, "text": text}


if __name__ == "__main__":
    main()
