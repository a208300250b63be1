"""Smoke test of the benchmark scripts under bench/: each runs end to end on
a tiny configuration, so they cannot rot. Nothing here is timed or checks
a speed; the real measurements are in docs/benchmarks.md."""

import sys
from pathlib import Path

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
