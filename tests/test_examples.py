"""Every script in examples/ runs to the end, prints its results and draws
its figures.

Each script runs in its own interpreter, as a user would run it, with
FutureWarnings (scikit-learn's deprecations) turned into errors. The same
scripts are the example gallery of the documentation (sphinx-gallery runs
them when the docs are built). They use small bundled data sets, so the
whole file takes about two minutes on two cores.
"""

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted((ROOT / "examples").glob("*.py"))

# A few words each script must print, so that a script that silently prints
# nothing useful fails too.
EXPECTED = {
    "ensemble_of_diverse_models.py": ["oof_score", "VotingClassifier", "Stacking"],
    "sparse_pruning.py": ["support_", "'drop'", "prune_tol=0"],
    "plot_budget.py": [
        "predict_cost_",
        "support_path_",
        "max_predict_cost",
        "cheapest",
    ],
    "plot_attention_and_temperature_path.py": ["modules_", "cv_results_", "Chosen"],
    "attention_analysis.py": ["entropy", "GridSearchCV", "best_estimator_"],
    "metadata_routing.py": ["GroupKFold", "every subject weighted equally"],
    "regression.py": ["OOF R^2", "VotingRegressor", "Chosen", "Two outputs"],
    "multi_branch.py": ["branch", "pca_knn", "top_half"],
}
# The matplotlib figures each script leaves open (the gallery shows them).
FIGURES = {
    "sparse_pruning.py": 1,
    "plot_budget.py": 2,
    "plot_attention_and_temperature_path.py": 2,
}
# Command-line arguments, and the files they make the script write.
ARGS = {"plot_attention_and_temperature_path.py": ["--output-dir", "figures"]}
WRITTEN = {
    "plot_attention_and_temperature_path.py": [
        "figures/attention.png",
        "figures/temperature_path.png",
    ]
}

# Runs the script as `python script.py ARGS` does, then reports how many
# figures are open.
RUNNER = """
import runpy, sys
sys.argv = sys.argv[1:]
runpy.run_path(sys.argv[0], run_name="__main__")
pyplot = sys.modules.get("matplotlib.pyplot")
print("open figures:", len(pyplot.get_fignums()) if pyplot else 0)
"""


# Optional dependencies: an example that imports one is skipped without it
# (the docs build, with the "docs" extra, runs every example anyway).
OPTIONAL = ("matplotlib", "pandas")


def _optional_imports(script):
    text = script.read_text()
    found = [m for m in OPTIONAL if re.search(rf"^(import|from) {m}\b", text, re.M)]
    if "as_frame=True" in text and "pandas" not in found:  # a bundled DataFrame
        found.append("pandas")
    return found


def test_examples_are_found():
    # Every script has its expected words, so a new one cannot skip the check,
    # and a place in the gallery's order (docs/_gallery.py).
    assert {path.name for path in EXAMPLES} == set(EXPECTED)
    spec = importlib.util.spec_from_file_location("_gallery", ROOT / "docs/_gallery.py")
    gallery = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gallery)
    assert sorted(gallery.ORDER) == sorted(EXPECTED)
    # sphinx-gallery needs the gallery's header.
    assert (ROOT / "examples" / "README.txt").exists()


@pytest.mark.parametrize("script", EXAMPLES, ids=[path.name for path in EXAMPLES])
def test_example_runs(script, tmp_path):
    for module in _optional_imports(script):
        pytest.importorskip(module)
    env = dict(os.environ)
    # Run against this checkout even when the package is not installed.
    env["PYTHONPATH"] = os.pathsep.join(
        [str(ROOT), *filter(None, [env.get("PYTHONPATH")])]
    )
    env["PYTHONWARNINGS"] = "error::FutureWarning"
    env["MPLBACKEND"] = "Agg"  # the plots must not open a window
    result = subprocess.run(
        [sys.executable, "-c", RUNNER, str(script), *ARGS.get(script.name, [])],
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
    figures = FIGURES.get(script.name, 0)
    assert f"open figures: {figures}\n" in result.stdout, result.stdout[-300:]
    written = {str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if p.is_file()}
    assert written == set(WRITTEN.get(script.name, [])), written
