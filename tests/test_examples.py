"""Every script in examples/ runs to the end and prints its results.

Each script runs in its own interpreter, as a user would run it, with
FutureWarnings (scikit-learn's deprecations) turned into errors. The
examples use small bundled data sets, so the whole file takes well under
two minutes on two cores.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted((ROOT / "examples").glob("*.py"))

# A few words each script must print, so that a script that silently prints
# nothing useful fails too.
EXPECTED = {
    "ensemble_of_diverse_models.py": ["weight", "VotingClassifier", "Stacking"],
    "multi_branch.py": ["branch", "pca_knn", "top_half"],
    "attention_analysis.py": ["entropy", "GridSearchCV", "best_estimator_"],
    "regression.py": ["OOF R^2", "VotingRegressor", "Two outputs"],
    "plot_attention_and_temperature_path.py": ["modules_", "cv_results_", "Chosen"],
}


def test_examples_are_found():
    # Every script has its expected words, so a new one cannot skip the check.
    assert {path.name for path in EXAMPLES} == set(EXPECTED)


@pytest.mark.parametrize("script", EXAMPLES, ids=[path.name for path in EXAMPLES])
def test_example_runs(script, tmp_path):
    env = dict(os.environ)
    # Run against this checkout even when the package is not installed.
    env["PYTHONPATH"] = os.pathsep.join(
        [str(ROOT), *filter(None, [env.get("PYTHONPATH")])]
    )
    env["PYTHONWARNINGS"] = "error::FutureWarning"
    env["MPLBACKEND"] = "Agg"  # any optional plot must not open a window
    result = subprocess.run(
        [sys.executable, str(script)],
        cwd=tmp_path,  # examples must not depend on, or litter, the cwd
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, (
        f"{script.name} failed:\n{result.stdout[-2000:]}\n{result.stderr[-4000:]}"
    )
    assert "Traceback" not in result.stderr, result.stderr
    for word in EXPECTED[script.name]:
        assert word in result.stdout, f"{script.name} did not print {word!r}"
