"""Smoke test of the benchmark scripts under bench/: each runs end to end on
a tiny configuration, so they cannot rot. Nothing here is timed or checks
a speed; the real measurements are in docs/benchmarks.md."""

import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def test_quality_smoke(tmp_path):
    from bench import quality

    docs = tmp_path / "benchmarks.md"
    out = quality.main(
        [
            "--datasets",
            "breast_cancer",
            "diabetes",
            "--folds",
            "1",
            "--max-train",
            "150",
            "--quick",
            "--n-jobs",
            "1",
            "--out",
            str(tmp_path / "quality.csv"),
            "--docs",
            str(docs),
        ]
    )
    methods = {r["method"] for r in out["rows"] if r["kind"] == "method"}
    assert set(quality.CLASSIFICATION_METHODS) <= methods
    assert set(quality.REGRESSION_METHODS) <= methods
    # every normaliser, visible in the method names
    for name in (
        "attention_log_sparsemax",
        "attention_log_entmax15",
        "attention_linear_sparsemax",
        "attention_linear_entmax15",
        "attention_sparsemax",
        "attention_entmax15",
    ):
        assert name in methods, name
    text = docs.read_text()
    assert "mean rank" in text
    assert set(out["headline"]["log_loss_ranks"]) == set(quality.CLASSIFICATION_METHODS)
    # the new columns: modules used at predict time, out of how many
    header = (tmp_path / "quality.csv").read_text().splitlines()[0].split(",")
    assert {"n_nonzero", "n_modules", "predict_time"} <= set(header)
    for row in out["rows"]:
        assert 1 <= row["n_nonzero"] <= row["n_modules"], row["method"]
        assert row["predict_time"] > 0
        if row["method"] in ("voting", "stacking"):
            assert row["n_nonzero"] == row["n_modules"]
        if row["method"] == "best_single":
            assert row["n_nonzero"] == 1
    # the sparsity tables and the normaliser comparison are in the section
    assert "### Classification: sparsity" in text
    assert "### Regression: sparsity" in text
    assert "### Normalisers:" in text
    stats = out["headline"]["classification_sparsity"]
    assert set(stats) == set(quality.CLASSIFICATION_METHODS)
    assert set(out["headline"]["regression_sparsity"]) == set(
        quality.REGRESSION_METHODS
    )
    # the CV estimators: what each fold chose, and the target's verdicts
    for method in quality.CV_METHODS:
        assert method in methods, method
        choices = quality.cv_choices(out["rows"], method)
        assert set(choices) == {("breast_cancer", 0), ("diabetes", 0)}
        for combine, normaliser, temperature, step, n_steps in choices.values():
            assert combine in ("log", "linear")
            assert normaliser in quality.CV_METHODS[method]
            assert temperature > 0 and 1 <= step <= n_steps
    assert "### Quality target of the CV estimators" in text
    targets = out["headline"]["cv_targets"]
    assert set(targets) == {
        (task, m)
        for task in ("classification", "regression")
        for m in quality.CV_METHODS
    }
    for verdict in targets.values():
        assert verdict["fit_time_ratio_total"] > 0


def _broad(tmp_path, *extra):
    from bench import broad

    return broad.main(
        [
            "--datasets",
            "iris",
            "quakes",
            "--folds",
            "1",
            "--max-train",
            "150",
            "--quick",
            "--n-jobs",
            "1",
            "--out",
            str(tmp_path / "broad.csv"),
            "--docs",
            str(tmp_path / "benchmarks.md"),
            *extra,
        ]
    )


def test_broad_smoke_resumes_and_checks_its_section(tmp_path):
    from bench import broad
    from bench._methods import METHODS

    out = _broad(tmp_path)
    methods = {(r["task"], r["method"]) for r in out["rows"] if r["kind"] == "method"}
    assert methods == {
        (task, m) for task in ("classification", "regression") for m in METHODS
    }
    modules = [r for r in out["rows"] if r["kind"] == "module"]
    assert {r["dataset"] for r in modules} == {"iris", "quakes"}
    for row in out["rows"]:
        assert 1 <= row["n_nonzero"] <= row["n_modules"], row["method"]
        assert row["n_train"] == ("100" if row["dataset"] == "iris" else "150")
    for task, s in out["summary"].items():
        assert s["datasets"] == (["iris"] if task == "classification" else ["quakes"])
        assert set(s["ranks"]) == set(METHODS)
        assert set(s["paired"]) == set(METHODS) - {broad.DEFAULT}
    page = (tmp_path / "benchmarks.md").read_text()
    for heading in (
        "### Broad benchmark: data sets",
        "### Broad benchmark: classification (log-loss)",
        "### Broad benchmark: regression (RMSE)",
    ):
        assert heading in page, heading
    csv_text = (tmp_path / "broad.csv").read_text()

    # A second run finds every job done and fits nothing.
    again = _broad(tmp_path)
    assert (tmp_path / "broad.csv").read_text() == csv_text
    assert again["text"] == out["text"]

    # A variant runs alone, appended to the same CSV, under its own name.
    variant = "attention_cv_sparse=attention_cv(normalisers=('softmax', 'sparsemax'))"
    grown = _broad(tmp_path, "--variant", variant, "--methods", "attention_cv_sparse")
    added = [r for r in grown["rows"] if r["method"] == "attention_cv_sparse"]
    assert len(added) == 2 and len(grown["rows"]) == len(out["rows"]) + 2
    # What the CV estimator chose: a candidate of the path, or a module alone.
    assert all(
        "normaliser=" in r["details"] or "module alone" in r["details"] for r in added
    )
    assert "| `attention_cv_sparse` |" in grown["text"]

    # --check: the page agrees with the CSV; a hand edit is caught.
    check = ["--out", str(tmp_path / "broad.csv"), "--docs", str(tmp_path / "x.md")]
    (tmp_path / "x.md").write_text((tmp_path / "benchmarks.md").read_text())
    broad.main([*check, "--check"])
    (tmp_path / "x.md").write_text(page.replace("| iris |", "| iris (edited) |"))
    with pytest.raises(SystemExit) as exit_info:
        broad.main([*check, "--check"])
    assert exit_info.value.code == 1


def test_paired_comparison_counts_ties_and_runs_the_sign_test():
    from scipy.stats import binomtest

    from bench._report import mean_ranks, paired

    sets = [f"s{i}" for i in range(8)]
    ref = dict.fromkeys(((s, "ref") for s in sets), 1.0)
    # 5 wins (-1% or better), 2 losses, 1 tie (+0.4%: within 0.5%)
    ours = [0.99, 0.9, 0.95, 0.8, 0.98, 1.02, 1.1, 1.004]
    mean = {**ref, **{(s, "new"): v for s, v in zip(sets, ours)}}
    result = paired(mean, sets, "new", "ref", tie=0.005)
    assert (result["wins"], result["losses"], result["ties"]) == (5, 2, 1)
    assert result["p"] == pytest.approx(binomtest(5, 7, 0.5).pvalue)
    assert mean_ranks(mean, sets, ["new", "ref"]) == {"new": 1.375, "ref": 1.625}


def test_relative_difference_is_floored_for_losses_near_zero():
    from bench._report import relative

    mean = {("a", "m"): 0.0005, ("a", "ref"): 0.0, ("b", "m"): 0.0, ("b", "ref"): 0.0}
    assert relative(mean, "a", "m", "ref") == float("inf")
    assert relative(mean, "a", "m", "ref", floor=0.01) == pytest.approx(0.05)
    assert relative(mean, "b", "m", "ref") == 0.0
    mean.update({("c", "m"): 0.3, ("c", "ref"): 0.2})
    assert relative(mean, "c", "m", "ref", floor=0.01) == pytest.approx(0.5)


def test_degenerate_data_sets_are_left_out_with_the_reason(monkeypatch):
    import numpy as np

    from bench import _data

    assert _data.degenerate("iris") is None

    def broken(name):
        raise OSError("no such table")

    monkeypatch.setattr(_data, "load", broken)
    assert _data.degenerate("iris") == "fails to load: OSError: no such table"
    tiny = np.array([0] * 100 + [1] * 3)
    monkeypatch.setattr(_data, "load", lambda name: (None, tiny, {}))
    assert "a class has 3 rows" in _data.degenerate("iris")
    flat = np.repeat([1.0, 2.0], 50)
    monkeypatch.setattr(_data, "load", lambda name: (None, flat, {}))
    assert _data.degenerate("quakes") == "the target takes 2 values"


def test_method_variants_from_the_command_line():
    from bench._methods import METHODS, parse_variant

    name, method = parse_variant("cv_t5=attention_cv(temperatures=5, cv=3)")
    assert name == "cv_t5" and method.params == {"temperatures": 5, "cv": 3}
    est = method.build("regression", [], inner_cv=4)
    assert (est.temperatures, est.cv) == (5, 3)
    assert (
        parse_variant("copy=attention_sparsemax")[1].params
        == METHODS["attention_sparsemax"].params
    )
    for bad in ("x=nothing(a=1)", "x=attention(1)", "x=attention(a=b)", "=attention"):
        with pytest.raises(ValueError):
            parse_variant(bad)


def test_caruana_selection_picks_the_better_module():
    import numpy as np

    from bench.caruana import ensemble_selection, log_loss_rows

    y = np.array([0, 1, 0, 1])
    good = np.array([[0.9, 0.1], [0.2, 0.8], [0.8, 0.2], [0.1, 0.9]])
    bad = good[:, ::-1].copy()
    weights = ensemble_selection([bad, good], y, log_loss_rows, n_rounds=10)
    assert weights.sum() == pytest.approx(1.0)
    assert weights[1] > weights[0]


def test_speed_smoke(tmp_path):
    from bench import speed
    from skweighting import _fixed, _modules, _solvers
    from skweighting._combinations import _probabilities, log_pool

    originals = (
        _probabilities.check_probabilities,
        log_pool.LogPooling.write,
        _fixed.learn_attention,
    )
    docs = tmp_path / "benchmarks.md"
    out = speed.main(["--quick", "--out-dir", str(tmp_path), "--docs", str(docs)])
    assert set(out["results"]) == set(speed.PARTS)
    for part in speed.PARTS:
        assert out["results"][part], f"part {part!r} measured nothing"
        assert (tmp_path / f"speed_{part}.csv").exists()
    # The timing wrappers are gone once the profiled runs are over.
    assert originals == (
        _modules.check_probabilities,
        log_pool.LogPooling.write,
        _solvers.learn_attention,
    )
    # Every combination and normaliser was fitted, and its phases add up to
    # the profiled fit.
    fits = out["results"]["whole_fit"]
    assert {(r["combination"], r["normaliser"]) for r in fits} == {
        (c, x) for c in speed.COMBINATIONS for x in speed.NORMALISERS
    }
    phases = [f"{speed._slug(p)}_s" for p in speed.PHASE_COLUMNS]
    for r in fits:
        assert sum(r[p] for p in phases) == pytest.approx(r["profiled_seconds"])
        assert r["peak_tensors"] > 0 and r["floor_passes"] > 0
    assert {r["method"] for r in out["results"]["end_to_end"]} == set(
        speed.END_TO_END_METHODS
    )
    # Every part's table is in the page's speed section, with the targets.
    section = docs.read_text().split("<!-- speed:start -->")[1]
    for heading in (
        "### Targets",
        "### Whole fit with free modules",
        "### Whole fit: where the time goes",
        "### Whole fit: peak memory by phase",
        "### Whole fit: sweep over n, M and K",
        "### Predict with free modules",
        "### End-to-end fit against StackingClassifier",
        "### Weight learning alone",
        "### Peak memory of log pooling",
        "### Tuning the temperature",
    ):
        assert heading in section, heading
    # One part alone (--part, with a dash) keeps the others' stored results.
    again = speed.main(
        ["--quick", "--part", "weights", "--out-dir", str(tmp_path), "--no-docs"]
    )
    assert set(again["results"]) == set(speed.PARTS)


def test_alpha_smoke(tmp_path):
    from bench import alpha

    out = alpha.main(
        [
            "--datasets",
            "breast_cancer",
            "--folds",
            "1",
            "--max-train",
            "150",
            "--quick",
            "--n-jobs",
            "1",
            "--out",
            str(tmp_path / "alpha.csv"),
            "--docs",
            str(tmp_path / "benchmarks.md"),
        ]
    )
    sweeps = {(r["sweep"], r["combine"]) for r in out["rows"]}
    assert ("alpha", "log") in sweeps and ("temperature", "linear") in sweeps


def test_sharpness_experiment_refuses_to_mislabel_the_current_package():
    # bench/sharpness.py describes the package before the sharpness penalty;
    # on a package that has it, every variant would carry that penalty too.
    from bench import sharpness

    with pytest.raises(SystemExit, match=sharpness.MEASURED_AT):
        sharpness.main(["--datasets", "wine", "--folds", "1", "--n-jobs", "1"])


def test_caruana_selection_keeps_to_a_budget():
    import numpy as np

    from bench.caruana import ensemble_selection, mean_squared_error_rows

    rng = np.random.default_rng(0)
    y = rng.normal(size=200)
    # Four noisy copies of y: averaging more of them helps, so an
    # unrestricted selection uses them all.
    outputs = [y + rng.normal(scale=1.0, size=200) for _ in range(4)]
    free = ensemble_selection(outputs, y, mean_squared_error_rows, n_rounds=40)
    assert np.count_nonzero(free) == 4
    for k in (1, 2, 3):
        weights = ensemble_selection(
            outputs, y, mean_squared_error_rows, n_rounds=40, max_modules=k
        )
        assert np.count_nonzero(weights) == k
        assert weights.sum() == pytest.approx(1.0)
    costs = np.array([5.0, 1.0, 1.0, 2.0])
    weights = ensemble_selection(
        outputs, y, mean_squared_error_rows, n_rounds=40, costs=costs, max_cost=3.0
    )
    assert costs[weights > 0].sum() <= 3.0 and weights[0] == 0
    with pytest.raises(ValueError, match="no module costs"):
        ensemble_selection(
            outputs, y, mean_squared_error_rows, costs=costs, max_cost=0.5
        )


def test_budget_smoke_runs_every_budget_and_checks_its_section(tmp_path):
    import csv

    import numpy as np

    from bench import budget

    docs = tmp_path / "benchmarks.md"
    args = [
        "--datasets",
        "iris",
        "quakes",
        "--folds",
        "1",
        "--max-train",
        "150",
        "--quick",
        "--n-jobs",
        "1",
        "--out",
        str(tmp_path / "budget.csv"),
        "--docs",
        str(docs),
    ]
    out = budget.main(args)
    expected = {budget.PLAIN} | {
        m for b in budget.BUDGETS for m in budget.budget_methods(b)
    }
    for name in ("iris", "quakes"):
        rows = [r for r in out["rows"] if r["dataset"] == name]
        assert {r["method"] for r in rows if r["kind"] == "method"} == expected
        assert len([r for r in rows if r["kind"] == "module"]) == rows[0]["n_modules"]
    for row in out["rows"]:
        if row["kind"] != "method" or budget.failed(row):
            continue
        facts = budget.facts(row)
        used = facts["used"].split("+")
        assert len(used) == row["n_nonzero"]
        for b, (k, _) in budget.BUDGETS.items():
            if k is not None and row["method"] in budget.budget_methods(b):
                assert row["n_nonzero"] <= k, row["method"]
        # Caruana's selection and the best single module keep to the first
        # fit's costs; the sparse-attention estimators to their own.
        if row["method"] in ("caruana_cost", "best_single_cost"):
            assert float(facts["reference_cost"]) <= float(facts["budget"]) * 1.0001
        if row["method"].startswith("attention"):
            assert float(facts["expected_predict_s"]) > 0 and row["predict_time"] > 0
    summary = out["summary"]
    assert set(summary["budgets"]) == set(budget.BUDGETS)
    for b in ("k1", "k2", "k3"):
        ranks = summary["budgets"][b]["ranks"]
        assert set(ranks) == set(budget.budget_methods(b))
        # four methods: the mean ranks add up to 1 + 2 + 3 + 4
        assert sum(ranks.values()) == pytest.approx(10.0)
    for name in ("iris", "quakes"):
        assert np.isfinite(summary["timing"][name]["modules alone"]["ratio"])
    text = docs.read_text()
    for heading in (
        "### Serving within a budget: ranks",
        "### Serving within a budget: the cost budget",
        "### Serving within a budget: predict time against the expected cost",
    ):
        assert heading in text, heading

    # A second run fits nothing; --check passes, and catches a hand edit.
    again = budget.main(args)
    assert again["text"] == out["text"]
    # --redo-failed runs again the outer folds where a method failed.
    csv_path = tmp_path / "budget.csv"
    with open(csv_path, newline="") as handle:
        stored = list(csv.DictReader(handle))
    first = next(r for r in stored if r["dataset"] == "quakes")
    first["details"] = "failed: ValueError: made up"
    with open(csv_path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, list(stored[0]))
        writer.writeheader()
        writer.writerows(stored)
    redone = budget.main([*args, "--redo-failed", "--report-only"])
    assert "made up" in redone["text"]  # --report-only fits nothing
    redone = budget.main([*args, "--redo-failed"])
    assert "made up" not in csv_path.read_text()
    assert len(redone["rows"]) == len(out["rows"])
    text = docs.read_text()
    check = ["--out", str(tmp_path / "budget.csv"), "--docs", str(docs)]
    budget.main([*check, "--check"])
    docs.write_text(text.replace("| iris |", "| iris (edited) |"))
    with pytest.raises(SystemExit) as exit_info:
        budget.main([*check, "--check"])
    assert exit_info.value.code == 1


def test_versions_smoke_runs_a_commit_beside_this_tree(tmp_path):
    import subprocess

    from bench import versions

    try:
        subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=ROOT, check=True, capture_output=True
        )
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("not a git checkout")
    out = tmp_path / "versions.csv"
    rows = versions.main(["--base", "HEAD", "--quick", "--out", str(out)])
    speed = [row for row in rows if row["step"] != "weights"]
    assert len(speed) == 2 * len(versions.SPEED_CASES)
    assert all(row["ratio"] > 0 for row in speed)
    weights = [row for row in rows if row["step"] == "weights"]
    assert len(weights) == 3  # breast_cancer: defaults, sparsemax, linear
    assert all(np.isfinite(row["max_weight_difference"]) for row in rows)
    assert out.read_text().startswith("case,step,")
