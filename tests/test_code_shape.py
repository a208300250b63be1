"""The package's shape, kept by a test: small modules and functions, no
function with a long positional signature, no estimator reading its own
parameters through ``getattr``, and no code asking which kind, combination
or normaliser it has by comparing names with string literals (each of those
is an object that answers for itself)."""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "skweighting"
SOURCES = sorted(PACKAGE.rglob("*.py"))
MAX_MODULE_LINES = 500
MAX_FUNCTION_LINES = 60  # of code: docstrings, comments and blank lines left out
MAX_POSITIONAL = 6
# What names a task, a combination or a normaliser: comparing one with a
# string literal asks what kind of thing an object is.
NAME_WORDS = ("combine", "combination", "normaliser")
NAME_ATTRIBUTES = (".kind", ".name", "_kind()")
NOT_NAMES = (".dtype.kind", "__name__")


def _tree(path):
    return ast.parse(path.read_text(), filename=str(path))


def _code_lines(function, source_lines):
    """Lines of ``function`` holding code (no docstring, comment or blank)."""
    skip = set()
    body = function.body
    if (
        body
        and isinstance(body[0], ast.Expr)
        and isinstance(getattr(body[0], "value", None), ast.Constant)
        and isinstance(body[0].value.value, str)
    ):
        skip.update(range(body[0].lineno, body[0].end_lineno + 1))
    count = 0
    for number in range(function.lineno, function.end_lineno + 1):
        text = source_lines[number - 1].strip()
        if number in skip or not text or text.startswith("#"):
            continue
        count += 1
    return count


def _functions():
    for path in SOURCES:
        lines = path.read_text().splitlines()
        for node in ast.walk(_tree(path)):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                yield path, node, lines


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_module_is_over_500_lines(path):
    assert len(path.read_text().splitlines()) <= MAX_MODULE_LINES


def test_no_function_is_over_60_lines_of_code():
    long = [
        f"{path.name}:{node.name} ({_code_lines(node, lines)})"
        for path, node, lines in _functions()
        if _code_lines(node, lines) > MAX_FUNCTION_LINES
    ]
    assert not long


def test_no_function_takes_more_than_6_positional_parameters():
    wide = [
        f"{path.name}:{node.name}"
        for path, node, _ in _functions()
        if len(node.args.posonlyargs) + len(node.args.args) > MAX_POSITIONAL
    ]
    assert not wide


def _is_name_comparison(node):
    """``<something named like a kind> == "literal"`` (or !=, in)."""
    if not isinstance(node, ast.Compare):
        return False
    sides = [node.left, *node.comparators]
    literal = any(
        isinstance(s, ast.Constant) and isinstance(s.value, str) for s in sides
    )
    texts = [ast.unparse(s) for s in sides if not isinstance(s, ast.Constant)]
    named = any(
        (
            any(word in text.lower() for word in NAME_WORDS)
            or text.endswith(NAME_ATTRIBUTES)
        )
        and not text.endswith(NOT_NAMES)
        for text in texts
    )
    return literal and named


def test_at_most_two_comparisons_of_names_with_string_literals():
    found = [
        f"{path.name}:{node.lineno}: {ast.unparse(node)}"
        for path in SOURCES
        for node in ast.walk(_tree(path))
        if _is_name_comparison(node)
    ]
    assert len(found) <= 2, found


def test_no_estimator_reads_its_own_parameters_through_getattr():
    found = [
        f"{path.name}:{node.lineno}: {ast.unparse(node)}"
        for path in SOURCES
        for node in ast.walk(_tree(path))
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "getattr"
        and isinstance(node.args[0], ast.Name)
        and node.args[0].id == "self"
        and len(node.args) > 1
        and isinstance(node.args[1], ast.Constant)
        and not str(node.args[1].value).endswith("_")  # fitted attributes
    ]
    assert not found, found
