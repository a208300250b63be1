"""Broad quality benchmark: the estimators' defaults, the CV estimators and
the usual peers on many real data sets, so that no small set of data decides
the defaults.

Run ``python bench/broad.py`` (full run: ~40 min on 2 shared cores; it
resumes from its CSV, so an interrupted run goes on where it stopped) or,
tiny, ``python bench/broad.py --datasets iris quakes --folds 1 --quick``.

The data sets and their sources are listed in bench/_data.py, the methods in
bench/_methods.py (``--methods`` runs some of them; ``--variant
"NAME=BASE(param=value, ...)"`` adds a method that is a registered one with
other constructor parameters). Every method sees the same outer folds (3,
shuffled, stratified for classification, seeded), the same modules
(bench/_common.make_modules) and the same inner splitter; module fits on
identical rows are shared through a cache.

Writes bench/results/broad.csv (one row per data set, outer fold and method
or module), broad.json (the runs: commit, machine, settings, wall time) and
the ``broad`` section of docs/benchmarks.md. ``--report-only`` rebuilds the
section from the CSV; ``--check`` exits 1 when the section differs from what
the CSV gives.
"""

import argparse
import json
import sys
from datetime import datetime, timezone
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

from bench import _report  # noqa: E402
from bench._common import DOCS, RESULTS, _git_commit, machine, make_modules  # noqa: E402
from bench._data import DATASETS, EXCLUDED, degenerate, outer_folds  # noqa: E402
from bench._methods import METHODS, parse_variant  # noqa: E402
from bench._runner import LOSS, inner_splitter, read_rows, run_fold, run_jobs  # noqa: E402

SECTION = "broad"
DEFAULT = "attention"  # the plain estimator at its defaults
CV = "attention_cv"
REFERENCE = "best_single"
TIE = 0.005  # relative difference of mean held-out losses counted as a tie
MAX_TRAIN = 2000
OUTER_FOLDS = 3  # the partition; --folds runs its first folds
INNER_FOLDS = 5
METRIC_LABEL = {"classification": "log-loss", "regression": "RMSE"}
# Relative differences divide by the reference's mean loss, or by this if it
# is larger: some sets are solved by a module (held-out log-loss 0 on
# shuttle-c0-vs-c4), where a ratio is infinite or meaningless.
FLOOR = {"classification": 0.01, "regression": 0.0}


def _job(name, fold, max_train, n_inner, quick, methods, modules_too):
    """One outer fold of one data set: the rows of ``methods`` (and of each
    module alone when ``modules_too``)."""
    with threadpool_limits(1):
        folds, info = outer_folds(name, OUTER_FOLDS, max_train=max_train)
        task = DATASETS[name].task
        modules = make_modules(task, info["categorical"], info["numeric"], quick=quick)
        inner = inner_splitter(task, n_inner)
        built = {m: method.build(task, modules, inner) for m, method in methods.items()}
        rows = run_fold(
            folds[fold], task, modules, built, {"dataset": name, "fold": fold}
        )
    return [r for r in rows if modules_too or r["kind"] == "method"]


def _cost(name, max_train):
    """A rough cost of one fold, to start the longest first."""
    spec = DATASETS[name]
    rows = min(spec.rows * 2 // 3, max_train or spec.rows)
    return rows * max(1, (spec.classes or 1) - 1)


def _pending(args, methods):
    """The jobs left: ``(dataset, fold)`` with the methods it still lacks."""
    done, modules_done = {}, set()
    if args.out.exists() and not args.fresh:
        for r in read_rows(args.out):
            if r["kind"] == "module":
                modules_done.add((r["dataset"], r["fold"]))
            else:
                done.setdefault((r["dataset"], r["fold"]), set()).add(r["method"])
    jobs = []
    names = sorted(args.datasets, key=lambda n: -_cost(n, args.max_train))
    for name in names:
        for fold in range(args.folds):
            have = done.get((name, fold), set())
            todo = {m: methods[m] for m in methods if m not in have}
            if todo:
                modules_too = (name, fold) not in modules_done
                jobs.append(
                    (
                        f"{name} fold {fold}",
                        (
                            name,
                            fold,
                            args.max_train,
                            args.inner,
                            args.quick,
                            todo,
                            modules_too,
                        ),
                    )
                )
    return jobs


# --------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------
def summarise(rows, labels):
    """Per task: the data sets every method finished, mean losses over
    folds, mean ranks, modules used, the worst set against best_single and
    the paired comparisons with the defaults."""
    out = {}
    for task, metric in LOSS.items():
        task_rows = [r for r in rows if r["task"] == task]
        methods = [m for m in labels if any(r["method"] == m for r in task_rows)]
        if not methods:
            continue
        mean = _report.fold_means(
            [r for r in task_rows if r["kind"] == "method"], metric
        )
        used = _report.fold_means(
            [r for r in task_rows if r["kind"] == "method"], "n_nonzero"
        )
        all_sets = [n for n in DATASETS if any(r["dataset"] == n for r in task_rows)]
        datasets = [n for n in all_sets if all((n, m) in mean for m in methods)]
        if not datasets:
            continue
        n_folds = {
            n: len({r["fold"] for r in task_rows if r["dataset"] == n})
            for n in datasets
        }
        n_train = {
            n: sorted({int(r["n_train"]) for r in task_rows if r["dataset"] == n})
            for n in datasets
        }
        floor = FLOOR[task]
        s = {
            "floor": floor,
            "datasets": datasets,
            "incomplete": [n for n in all_sets if n not in datasets],
            "methods": methods,
            "mean": mean,
            "ranks": _report.mean_ranks(mean, datasets, methods),
            "modules_used": {
                m: float(np.mean([used[n, m] for n in datasets])) for m in methods
            },
            "n_modules": int(max(r["n_modules"] for r in task_rows)),
            "n_folds": n_folds,
            "n_train": n_train,
        }
        if REFERENCE in methods:
            s["worst"] = {
                m: max(
                    (
                        (_report.relative(mean, n, m, REFERENCE, floor), n)
                        for n in datasets
                    ),
                )
                for m in methods
                if m != REFERENCE
            }
        for key, reference in (("paired", DEFAULT), ("paired_single", REFERENCE)):
            if reference in methods:
                s[key] = {
                    m: _report.paired(mean, datasets, m, reference, TIE, floor)
                    for m in methods
                    if m != reference
                }
        out[task] = s
    return out


def report(rows, meta):
    labels = {**{m: METHODS[m].label for m in METHODS}, **meta.get("labels", {})}
    summary = summarise(rows, labels)
    runs = meta.get("runs", [{}])
    first = runs[0]
    commits = list(dict.fromkeys(r.get("commit") for r in runs if r.get("commit")))
    wall = sum(r.get("wall_minutes", 0.0) for r in runs)
    settings = meta.get("settings", {})
    parts = [
        f"Machine: {_report.machine_text(first)}"
        + (f"; resumed at commit {_fmt_list(commits[1:])}" if len(commits) > 1 else "")
        + ".",
        "",
        f"Settings: {settings.get('folds', '?')} of {OUTER_FOLDS} outer folds "
        "per data set (shuffled, stratified for classification, seed 0), "
        "training folds "
        f"capped at {settings.get('max_train')} rows (seeded subsample, "
        "stratified for classification), test folds whole; inner cv = "
        f"{settings.get('inner', '?')}-fold shuffled (stratified) splitter "
        "shared by every method; folds run "
        f"{first.get('n_jobs', '?')} at a time, each single-threaded; wall time "
        f"{wall:.1f} min"
        + (f" over {len(runs)} runs (resumed)" if len(runs) > 1 else "")
        + ("; QUICK smoke settings" if settings.get("quick") else "")
        + ".",
        "",
    ]
    methods = [m for m in labels if any(m in s["methods"] for s in summary.values())]
    parts += [
        "Methods (each the real estimator on the same modules, outer folds and "
        "inner splitter):",
        "",
        _report.table(["method", "what"], [[f"`{m}`", labels[m]] for m in methods]),
        "",
    ]
    parts += _data_parts(summary, meta.get("left_out", {}))
    for task, s in summary.items():
        parts += _task_parts(task, s)
    return "\n".join(parts), summary


def _data_parts(summary, left_out):
    sets = [n for s in summary.values() for n in s["datasets"] + s["incomplete"]]
    specs = [DATASETS[n] for n in sets]
    cls = [d for d in specs if d.task == "classification"]
    counts = (
        f"{len(cls)} classification sets ({sum(d.rows < 1000 for d in cls)} under "
        f"1,000 rows; {sum(d.classes == 2 for d in cls)} binary, "
        f"{sum(d.classes > 2 for d in cls)} multi-class; "
        f"{sum('imbalanced' in d.source for d in cls)} from KEEL's imbalanced "
        f"list) and {len(specs) - len(cls)} regression tables"
    )
    body = []
    for d in specs:
        s = summary[d.task]
        train = s["n_train"].get(d.name)
        body.append(
            [
                d.name,
                d.task,
                d.source,
                d.rows,
                d.features,
                d.classes or "",
                "-".join(str(t) for t in dict.fromkeys([train[0], train[-1]]))
                if train
                else "not finished",
            ]
        )
    head = [
        "data set",
        "task",
        "source",
        "rows",
        "features",
        "classes",
        "training rows per fold",
    ]
    return [
        "### Broad benchmark: data sets",
        "",
        f"{counts}. Features are the table's columns; categorical ones are "
        "one-hot encoded for the linear model and k-NN, ordinal for the trees.",
        "",
        _report.table(head, body),
        "",
        "Considered and left out:",
        "",
        *[f"* {name}: {reason}." for name, reason in {**EXCLUDED, **left_out}.items()],
        "",
    ]


def _task_parts(task, s):
    label = METRIC_LABEL[task]
    n = len(s["datasets"])
    head = [
        "method",
        f"mean {label} rank ({n} sets)",
        f"modules used (of {s['n_modules']})",
        f"worst set against `{REFERENCE}`",
        f"against `{DEFAULT}`: wins / losses / ties",
        "sign test p",
        f"against `{REFERENCE}`: wins / losses / ties",
        "sign test p",
    ]
    body = []
    order = sorted(s["methods"], key=lambda m: s["ranks"][m])
    for m in order:
        gap, at = s.get("worst", {}).get(m, (None, None))
        cells = [
            f"`{m}`",
            f"{s['ranks'][m]:.2f}",
            f"{s['modules_used'][m]:.2f}",
            f"{gap:+.1%} ({at})" if gap is not None else "-",
        ]
        for key in ("paired", "paired_single"):
            pair = s.get(key, {}).get(m)
            cells += (
                [
                    f"{pair['wins']} / {pair['losses']} / {pair['ties']}",
                    f"{pair['p']:.3g}",
                ]
                if pair
                else ["-", "-"]
            )
        body.append(cells)
    out = [
        f"### Broad benchmark: {task} ({label})",
        "",
        f"Mean rank of the mean held-out {label} over the outer folds (1 = "
        "best, ties share their average rank); modules used = modules called "
        "at predict time, mean over sets; worst set = the largest relative "
        f"excess of the mean {label} over `{REFERENCE}`'s; wins / losses / "
        f"ties against `{DEFAULT}` and against `{REFERENCE}` per set, a tie "
        f"within {TIE:.1%} relative difference of the means, with the "
        "two-sided exact sign test (ties dropped)."
        + (
            f" A relative difference divides by the reference's mean {label} "
            f"or by {s['floor']:g}, whichever is larger: a module solves some "
            f"sets (mean {label} near 0), where a plain ratio would turn "
            "negligible differences into huge ones."
            if s["floor"]
            else ""
        ),
        "",
        _report.table(head, body),
        "",
    ]
    if s["incomplete"]:
        out += [
            f"Not finished by every method (left out above): "
            f"{_fmt_list(s['incomplete'])}.",
            "",
        ]
    if CV in s["methods"] and DEFAULT in s["methods"]:
        pair = s["paired"][CV]
        diffs = {
            d: _report.relative(s["mean"], d, CV, DEFAULT, s["floor"])
            for d in s["datasets"]
        }
        best, worst = min(diffs, key=diffs.get), max(diffs, key=diffs.get)
        out += [
            f"`{CV}` against `{DEFAULT}` ({task}): better on {pair['wins']}, "
            f"worse on {pair['losses']}, tied on {pair['ties']} of {n} sets "
            f"(sign test p = {pair['p']:.3g}); its relative difference ranges "
            f"from {diffs[best]:+.1%} ({best}) to {diffs[worst]:+.1%} ({worst}).",
            "",
        ]
    others = [m for m in s["methods"] if m != REFERENCE]
    if REFERENCE in s["methods"]:
        body = []
        for d in s["datasets"]:
            cells = [d, f"{s['mean'][d, REFERENCE]:.4g}"]
            cells += [
                f"{_report.relative(s['mean'], d, m, REFERENCE, s['floor']):+.1%}"
                for m in others
            ]
            body.append(cells)
        out += [
            f"Per set: `{REFERENCE}`'s mean {label} and each method's relative "
            "difference to it (negative = better):",
            "",
            _report.table(["data set", REFERENCE, *others], body),
            "",
        ]
    return out


def _fmt_list(items):
    items = list(items)
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


# --------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------
def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", default=list(DATASETS))
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
    parser.add_argument(
        "--methods", nargs="+", default=None, help="run only these methods"
    )
    parser.add_argument(
        "--variant",
        action="append",
        default=[],
        metavar="NAME=BASE(param=value, ...)",
        help="add a method: a registered one with other constructor parameters",
    )
    parser.add_argument("--n-jobs", type=int, default=2, help="folds run in parallel")
    parser.add_argument("--out", type=Path, default=RESULTS / "broad.csv")
    parser.add_argument("--docs", type=Path, default=DOCS / "benchmarks.md")
    parser.add_argument("--no-docs", action="store_true")
    parser.add_argument(
        "--fresh", action="store_true", help="start over instead of resuming"
    )
    parser.add_argument(
        "--commit",
        default=None,
        help="commit to report as the code under test (default: git rev-parse "
        "--short HEAD); for runs from an exported snapshot of a commit",
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

    variants = dict(parse_variant(text) for text in args.variant)
    methods = {**METHODS, **variants}
    if args.methods:
        missing = set(args.methods) - set(methods)
        if missing:
            parser.error(f"unknown methods {sorted(missing)}; known: {list(methods)}")
        methods = {m: methods[m] for m in args.methods}
    args.inner = 3 if args.quick else INNER_FOLDS
    meta_path = args.out.with_suffix(".json")
    meta = {}
    if meta_path.exists() and args.out.exists() and not args.fresh:
        meta = json.loads(meta_path.read_text())
        stored = dict(meta.get("settings", {}))
        folds = max(stored.pop("folds", 0), args.folds)
        if stored != _settings(args):
            parser.error(
                f"{args.out} was run with {meta.get('settings')}; resume with "
                "the same settings or pass --fresh"
            )
    else:
        folds = args.folds
    meta["settings"] = {"folds": folds, **_settings(args)}
    meta.setdefault("labels", {}).update({m: v.label for m, v in variants.items()})
    meta.setdefault("runs", [])
    left_out = {n: r for n in args.datasets if (r := degenerate(n)) is not None}
    for name, reason in left_out.items():
        print(f"left out {name}: {reason}", flush=True)
    meta.setdefault("left_out", {}).update(left_out)
    args.datasets = [n for n in args.datasets if n not in left_out]
    jobs = _pending(args, methods)
    run = {
        "commit": args.commit or _git_commit(),
        "dirty": _dirty() if args.commit is None else False,
        "machine": machine(),
        "started": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
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


def _settings(args):
    """What the rows depend on: a resumed run must keep it."""
    return {
        "max_train": args.max_train,
        "inner": 3 if args.quick else INNER_FOLDS,
        "quick": args.quick,
    }


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
                "python bench/broad.py --report-only"
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
