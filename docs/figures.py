"""Write the figures that README.md and docs/user_guide.md quote.

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

* ``benchmark-headline`` (README.md): bench/results/quality.csv and
  bench/results/speed_end_to_end.csv, the stored benchmark results (rerun
  the benchmarks with the scripts in bench/ first to move these);
* ``demo-results`` (README.md): the demo, ``python -m skweighting``, on
  digits and breast_cancer (about 30 s single-threaded);
* ``out-of-fold-table`` (docs/user_guide.md): `out_of_fold_experiment`
  below, on breast_cancer (a few seconds);
* ``temperature-table`` and ``temperature-search`` (docs/user_guide.md):
  parsed from what examples/attention_analysis.py prints (about 20 s).

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
# README.md: the benchmarks' headline, from the stored results
# --------------------------------------------------------------------------
METHOD_NAMES = {
    "attention_log": "the default log pooling",
    "attention_linear": "the linear mixture",
    "attention_grid": "the temperature grid search",
    "attention": "the attention ensemble",
    "caruana": "Caruana ensemble selection",
    "stacking": "stacking",
    "best_single": "the best single module",
    "voting": "soft voting",
}


def _ordinal(n):
    suffix = {1: "st", 2: "nd", 3: "rd"}.get(
        n % 10 if n % 100 not in (11, 12, 13) else 0
    )
    return f"{n}{suffix or 'th'}"


def _series(items):
    items = list(items)
    if len(items) <= 2:
        return " and ".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def _method_name(method):
    return METHOD_NAMES.get(method, f"`{method}`")


def benchmark_headline():
    from bench.quality import metric_table, module_gap_table, read_rows, summarise

    results = ROOT / "bench" / "results"
    rows = read_rows(results / "quality.csv")
    summary = summarise(rows)
    # The same mean ranks and gaps as the tables of docs/benchmarks.md.
    headline = {
        "log_loss_ranks": metric_table(
            summary["classification"], "log_loss", True, ".4f"
        )[1],
        "log_loss_gaps": module_gap_table(
            summary["classification"], "attention_log", "log_loss"
        )[1],
        "rmse_ranks": metric_table(summary["regression"], "rmse", True, ".4g")[1],
    }
    n_sets = {
        task: len({r["dataset"] for r in rows if r["task"] == task})
        for task in ("classification", "regression")
    }
    ranks = headline["log_loss_ranks"]
    ours = ranks["attention_log"]
    others = sorted((r, m) for m, r in ranks.items() if m != "attention_log")
    place = 1 + sum(r < ours for r, _ in others)
    text = (
        f"Measured on {n_sets['classification']} classification sets "
        "(scikit-learn's and KEEL's, same modules and folds for every method; "
        "2-core machine), the default log pooling has "
        + (
            f"the best mean log-loss rank of {len(ranks)} methods: {ours:.2f}, against "
            if place == 1
            else f"a mean log-loss rank of {ours:.2f}, {_ordinal(place)} of "
            f"{len(ranks)} methods; the others have "
        )
        + _series(f"{r:.2f} for {_method_name(m)}" for r, m in others)
        + "."
    )
    rmse = headline["rmse_ranks"]
    ours = rmse["attention"]
    tied = [
        _method_name(m)
        for m, r in rmse.items()
        if m != "attention" and abs(r - ours) < 1e-9
    ]
    better = sum(r < ours - 1e-9 for r in rmse.values())
    text += (
        f" On {n_sets['regression']} regression sets its mean RMSE rank is "
        f"{ours:.2f}, "
        + ("the best" if better == 0 else f"{_ordinal(better + 1)} of {len(rmse)}")
        + (f", tied with {_series(tied)}" if tied else "")
        + "."
    )
    misses = [
        (ds, gap) for ds, (gap, _) in headline["log_loss_gaps"].items() if gap > 0
    ]
    if misses:
        text += (
            " It is not always best: its log-loss is worse than that of the "
            "single module chosen by inner cross-validation on "
            + _series(f"{ds} ({gap:+.1%})" for ds, gap in misses)
            + "."
        )
    speed = _read_csv(results / "speed_end_to_end.csv")
    seconds = {(r["method"], int(r["n_jobs"])): float(r["seconds"]) for r in speed}
    ratio = {
        n_jobs: seconds["attention_log", n_jobs] / seconds["stacking", n_jobs]
        for n_jobs in (1, 2)
    }
    text += (
        " Learning the weights adds little to the module fits: end to end "
        f"(n={speed[0]['n']}, seven modules), a fit took {ratio[1]:.2f}x the "
        f"time of StackingClassifier at `n_jobs=1` and {ratio[2]:.2f}x at "
        "`n_jobs=2`. Details, including every miss, are in "
        "[docs/benchmarks.md](docs/benchmarks.md)."
    )
    return _wrap(text)


def _read_csv(path):
    import csv

    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


# --------------------------------------------------------------------------
# README.md: the demo
# --------------------------------------------------------------------------
DEMO_DATASETS = ("digits", "breast_cancer")


def _peer_name(label):
    if label.startswith("best single module"):
        return "the best single module " + label[len("best single module ") :]
    return {
        "VotingClassifier (soft)": "soft voting",
        "StackingClassifier": "stacking",
        "SparseAttentionClassifier": "the learned weights",
    }[label]


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
        ours = loss.pop("SparseAttentionClassifier")
        best = min(loss, key=loss.get)
        if ours < loss[best]:
            peers = sorted(loss, key=loss.get)
            clauses.append(
                f"on {ds} the learned weights beat every peer (held-out "
                f"log-loss {ours:.3f}, against "
                + _series(f"{loss[p]:.3f} for {_peer_name(p)}" for p in peers)
                + ")"
            )
        else:
            clauses.append(
                f"on {ds} {_peer_name(best)} does better (held-out log-loss "
                f"{loss[best]:.3f}, against {ours:.3f} for the learned weights)"
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
# The blocks
# --------------------------------------------------------------------------
# name: (page, function, cheap)
BLOCKS = {
    "benchmark-headline": ("README.md", benchmark_headline, True),
    "demo-results": ("README.md", demo_results, False),
    "out-of-fold-table": ("docs/user_guide.md", out_of_fold_table, False),
    "temperature-table": ("docs/user_guide.md", temperature_table, False),
    "temperature-search": ("docs/user_guide.md", temperature_search, False),
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
