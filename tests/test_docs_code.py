"""Every Python block of the README and the user guide runs, in order, as a
reader would paste them (one namespace per page, in a scratch directory)."""

import os
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", ROOT / "docs" / "user_guide.md"]
BLOCK = re.compile(r"^```python\n(.*?)^```$", re.DOTALL | re.MULTILINE)


def python_blocks(path):
    """The ```python blocks of a page, in order."""
    return BLOCK.findall(path.read_text())


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_python_block_runs(page, tmp_path, monkeypatch, capsys):
    pytest.importorskip("matplotlib").use("Agg")
    blocks = python_blocks(page)
    assert blocks, f"{page.name} has no python block"
    monkeypatch.chdir(tmp_path)  # caches and files a block writes go here
    namespace = {"__name__": "__main__"}
    for number, code in enumerate(blocks, 1):
        try:
            exec(compile(code, f"{page.name} block {number}", "exec"), namespace)
        except Exception as exc:  # name the block that failed
            raise AssertionError(f"{page.name} block {number} failed: {exc!r}") from exc
    assert os.getcwd() == str(tmp_path)
