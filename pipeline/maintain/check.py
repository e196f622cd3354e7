"""``check``: the findings of a refresh as a CI gate, in three formats.

    run_check          the refresh pass (same cache, same tables), then the gate
    gate               which findings fail, and the exit code (pure)
    render_text        ``file:line: kind: detail``
    render_github      GitHub Actions workflow commands, one per finding
    render_json        one JSON document of stable shape (``JSON_VERSION``)

Light on imports: the CLI imports this module to check ``--fail-on`` before any run.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline.config import Settings
from pipeline.errors import EX_FAILED, EX_OK
from pipeline.models import FindingKind

DEFAULT_FAIL_ON = (
    FindingKind.NOT_FOUND,
    FindingKind.INVALID,
    FindingKind.TITLE_MISMATCH,
    FindingKind.DUPLICATE,
)
"""What fails a check unless ``--fail-on`` says otherwise: the findings that are wrong
whatever the maintainer intends. Unresolved entries (a book, a blog post), an order and a
publication are information."""

FORMATS = ("text", "github", "json")
JSON_VERSION = 1
"""Bumped when the JSON document's shape changes (a key removed or its meaning changed)."""


def parse_kinds(text: str) -> tuple[FindingKind, ...]:
    """``--fail-on``: comma-separated finding kinds; ``none`` for a check that only reports.
    ValueError naming the valid kinds for anything else."""
    names = [name.strip().lower() for name in text.split(",") if name.strip()]
    if names == ["none"]:
        return ()
    valid = [kind.value for kind in FindingKind]
    unknown = [name for name in names if name not in valid]
    if unknown or not names:
        raise ValueError(
            f"unknown finding kind(s) {', '.join(unknown) or repr(text)}; choose from "
            + ", ".join(valid)
            + ", or none"
        )
    return tuple(dict.fromkeys(FindingKind(name) for name in names))


@dataclass(frozen=True)
class Gate:
    """The findings of a check and what they decide."""

    findings: list[dict[str, Any]]
    """Every finding, in list order, with ``file`` (the list's path as given) and
    ``failing`` added."""
    fail_on: tuple[FindingKind, ...]

    @property
    def failing(self) -> int:
        return sum(1 for f in self.findings if f["failing"])

    @property
    def exit_code(self) -> int:
        return EX_FAILED if self.failing else EX_OK


def gate(
    found: Sequence[Mapping[str, Any]], fail_on: Sequence[str], files: Mapping[str, str]
) -> Gate:
    """Which findings fail. ``files`` maps a list's name (the quality table's ``list``) to
    its path as the user gave it; a list without one (a URL) keeps its name."""
    failing = {str(kind) for kind in fail_on}
    rows = [
        {
            "file": files.get(str(f["list"]), str(f["list"])),
            "list": str(f["list"]),
            "line": int(f["line"]),
            "kind": str(f["kind"]),
            "detail": str(f["detail"]),
            "failing": str(f["kind"]) in failing,
        }
        for f in found
    ]
    return Gate(rows, tuple(FindingKind(k) for k in fail_on))


def list_files(sources: Sequence[str]) -> dict[str, str]:
    """List name -> the path a report names it by: relative to the working directory (the
    repository root in CI) when it lies below it, with forward slashes, as GitHub wants a
    workflow command's ``file``."""
    from pipeline.lists.locate import expand_list_paths, is_url

    out: dict[str, str] = {}
    here = Path.cwd().resolve()
    for source in sources:
        if is_url(source):
            continue
        for path in expand_list_paths([Path(source)]):
            shown = path
            if path.is_absolute():
                try:
                    shown = path.resolve().relative_to(here)
                except ValueError:
                    shown = path
            out.setdefault(path.name, Path(os.path.normpath(shown)).as_posix())
    return out


def render_text(result: Gate) -> str:
    return "".join(
        f"{f['file']}:{f['line']}: {f['kind']}: {f['detail']}\n" for f in result.findings
    )


def escape_data(text: str) -> str:
    """A workflow command's message, escaped as the Actions runner unescapes it."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """A workflow command's property value (``file=``, ``title=``): ``:`` and ``,`` too."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def render_github(result: Gate) -> str:
    """One ``::error`` (a failing kind) or ``::warning`` per finding: the runner shows them
    on the pull request's lines when ``file`` is the path from the repository root."""
    lines = []
    for f in result.findings:
        level = "error" if f["failing"] else "warning"
        props = ",".join(
            [
                f"file={escape_property(f['file'])}",
                f"line={f['line']}",
                f"title={escape_property('arxiv-list ' + f['kind'])}",
            ]
        )
        lines.append(f"::{level} {props}::{escape_data(f['detail'])}\n")
    return "".join(lines)


def render_json(result: Gate) -> str:
    """The stable shape, documented in the README::

    {"version": 1, "exit_code": 0|1, "fail_on": [kind, ...], "failing": n,
     "counts": {kind: n}, "findings": [{"file", "list", "line", "kind", "detail",
     "failing"}, ...]}
    """
    counts: dict[str, int] = {}
    for f in result.findings:
        counts[f["kind"]] = counts.get(f["kind"], 0) + 1
    document = {
        "version": JSON_VERSION,
        "exit_code": result.exit_code,
        "fail_on": [str(kind) for kind in result.fail_on],
        "failing": result.failing,
        "counts": counts,
        "findings": result.findings,
    }
    return json.dumps(document, indent=1, ensure_ascii=False) + "\n"


RENDERERS = {"text": render_text, "github": render_github, "json": render_json}


def run_check(settings: Settings, fail_on: Sequence[str], **refresh: Any) -> tuple[Gate, Any]:
    """Refresh (the same cache and tables: a warm run asks arXiv nothing), then gate.

    Returns the gate and the run's report; ``refresh`` passes on to ``run_refresh``.
    """
    from pipeline.lists.locate import default_sources
    from pipeline.refresh import run_refresh

    report = run_refresh(settings, **refresh)
    sources = list(settings.lists) or default_sources(settings.raw_dir)
    return gate(report.findings, fail_on, list_files(sources)), report
