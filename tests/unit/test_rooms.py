"""Rooms a maintainer can hold in their head: size limits on modules, classes and functions.

Measured with :mod:`ast` on the package source: a module's lines, a class's lines and a
function's lines without its docstring. Raising a limit is a design decision, so the limits
live here and not in a configuration file.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

import langchain_acedata_images

PACKAGE = Path(langchain_acedata_images.__file__).parent
MAX_MODULE_LINES = 600
MAX_CLASS_LINES = 400
MAX_FUNCTION_LINES = 50

_FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef)


def _modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def _body_lines(node: ast.FunctionDef | ast.AsyncFunctionDef) -> int:
    """Lines from the signature to the end, minus the docstring's lines."""
    assert node.end_lineno is not None
    lines = node.end_lineno - node.lineno + 1
    first = node.body[0]
    if (
        isinstance(first, ast.Expr)
        and isinstance(first.value, ast.Constant)
        and isinstance(first.value.value, str)
    ):
        assert first.end_lineno is not None
        lines -= first.end_lineno - first.lineno + 1
    return lines


def _walk(tree: ast.AST, prefix: str = "") -> Iterator[tuple[str, ast.AST]]:
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, (ast.ClassDef, *_FUNCTIONS)):
            name = f"{prefix}{node.name}"
            yield name, node
            yield from _walk(node, f"{name}.")
        else:
            yield from _walk(node, prefix)


def _oversized() -> Iterator[str]:
    for path in _modules():
        source = path.read_text(encoding="utf-8")
        where = path.relative_to(PACKAGE.parent).as_posix()
        module_lines = len(source.splitlines())
        if module_lines > MAX_MODULE_LINES:
            yield f"{where}: module has {module_lines} lines (max {MAX_MODULE_LINES})"
        for name, node in _walk(ast.parse(source)):
            if isinstance(node, ast.ClassDef):
                assert node.end_lineno is not None
                lines = node.end_lineno - node.lineno + 1
                if lines > MAX_CLASS_LINES:
                    yield f"{where}: class {name} has {lines} lines (max {MAX_CLASS_LINES})"
            elif isinstance(node, _FUNCTIONS):
                lines = _body_lines(node)
                if lines > MAX_FUNCTION_LINES:
                    yield (
                        f"{where}: function {name} has {lines} lines without its docstring "
                        f"(max {MAX_FUNCTION_LINES})"
                    )


def test_every_room_is_small_enough_to_read_in_one_sitting() -> None:
    assert list(_oversized()) == []


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("def f():\n" + "    x = 1\n" * 50, ["function f has 51 lines"]),
        ('def f():\n    """Doc\n\n    more.\n    """\n' + "    x = 1\n" * 49, []),
        ("class C:\n" + "    x = 1\n" * 400, ["class C has 401 lines"]),
    ],
)
def test_the_measure_counts_what_it_claims(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, source: str, expected: list[str]
) -> None:
    (tmp_path / "mod.py").write_text(source, encoding="utf-8")
    monkeypatch.setattr(f"{__name__}.PACKAGE", tmp_path)
    found = list(_oversized())
    assert len(found) == len(expected)
    for line, fragment in zip(found, expected, strict=True):
        assert fragment in line
