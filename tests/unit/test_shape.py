"""The package keeps its shape: small functions, empty package __init__ files."""

from __future__ import annotations

import ast
from pathlib import Path

import pipeline

PACKAGE = Path(pipeline.__file__).parent
MAX_LINES = 80
"""A function longer than this does more than one thing (argparse declarations aside)."""


def _functions() -> list[tuple[str, int]]:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                lines = (node.end_lineno or node.lineno) - node.lineno + 1
                where = f"{path.relative_to(PACKAGE.parent)}:{node.lineno} {node.name}"
                found.append((where, lines))
    return found


def _declares_arguments(where: str) -> bool:
    # Option declarations are a table, not logic: one add_argument per option.
    path, _, name = where.partition(" ")
    source = (PACKAGE.parent / path.split(":")[0]).read_text(encoding="utf-8")
    return name.startswith(("build_parser", "_add_")) and "add_argument(" in source


def test_no_function_is_longer_than_80_lines() -> None:
    long = [(w, n) for w, n in _functions() if n > MAX_LINES and not _declares_arguments(w)]
    assert long == [], f"split these: {long}"


def test_package_init_files_stay_empty() -> None:
    # A run with nothing to do imports pipeline.* packages; they must cost nothing.
    for init in PACKAGE.rglob("__init__.py"):
        body = [line for line in init.read_text().splitlines() if line.strip()]
        assert init == PACKAGE / "__init__.py" or body == [], init
