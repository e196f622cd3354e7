"""The README is the front door: it must name every command, option, table and column."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from pipeline.cli import build_parser
from pipeline.schemas import TABLES

README = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
MAKEFILE = (Path(__file__).resolve().parents[2] / "Makefile").read_text(encoding="utf-8")


def _subcommands() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


def test_every_command_is_in_the_readme() -> None:
    for name in _subcommands():
        assert f"python -m pipeline {name}" in README, name


def test_every_option_is_in_the_readme() -> None:
    for name, sub in _subcommands().items():
        for action in sub._actions:
            for option in action.option_strings:
                if option.startswith("--") and option != "--help":
                    assert f"`{option}" in README, f"{name} {option}"


def test_every_table_and_column_is_in_the_readme() -> None:
    for table, schema in TABLES.items():
        heading = f"### `{table}.parquet`"
        assert heading in README, table
        section = README.split(heading, 1)[1].split("\n### ", 1)[0]
        for column in schema.names:
            assert f"| `{column}` |" in section, f"{table}.{column}"


def test_every_make_target_has_a_description_and_is_in_the_readme() -> None:
    targets = re.findall(r"^([a-z-]+):.*?## (.+)$", MAKEFILE, re.M)
    assert {"install", "refresh", "data", "test", "help"} <= {t for t, _ in targets}
    for target, _ in targets:
        if target != "help":
            assert f"make {target}" in README, target


def test_readme_gives_the_ci_test_command() -> None:
    ci = (Path(__file__).resolve().parents[2] / ".ci" / "run").read_text(encoding="utf-8")
    assert "make test" in ci and "```sh\nmake test\n```" in README
