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

    docs = tmp_path / "benchmarks.md"
    out = speed.main(["--quick", "--out-dir", str(tmp_path), "--docs", str(docs)])
    assert set(out["results"]) == set(speed.PARTS)
    for part in speed.PARTS:
        assert out["results"][part], f"part {part!r} measured nothing"
        assert (tmp_path / f"speed_{part}.csv").exists()
    # Every part's table is in the page's speed section.
    section = docs.read_text().split("<!-- speed:start -->")[1]
    for heading in (
        "### Weight learning alone",
        "### Peak memory of log pooling",
        "### Peak memory of a whole fit",
        "### End-to-end fit",
        "### GridSearchCV over 5 temperatures",
    ):
        assert heading in section, heading


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
