"""What ``check``, ``fix`` and ``suggest`` print, and the exit code they return.

The CLI parses their options and translates errors; this module runs them and writes their
output: findings and diffs to stdout (what a CI step or a pipe takes), summaries to stderr.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from datetime import UTC, datetime

from pipeline.config import Settings
from pipeline.errors import EX_OK


def run(args: argparse.Namespace, settings: Settings, progress: Callable[[int, int], None]) -> int:
    if args.command == "check":
        return check(args, settings, progress)
    if args.command == "fix":
        return fix(args, settings, progress)
    return suggest(args, settings, progress)


def _note(args: argparse.Namespace, line: str) -> None:
    if not args.quiet:
        print(line, file=sys.stderr)


def check(
    args: argparse.Namespace, settings: Settings, progress: Callable[[int, int], None]
) -> int:
    from pipeline.maintain.check import RENDERERS, run_check

    result, report = run_check(settings, args.fail_on, progress=progress)
    # The findings are check's output: printed even with --quiet.
    sys.stdout.write(RENDERERS[args.fmt](result))
    sys.stdout.flush()
    failing = ",".join(args.fail_on) or "none"
    _note(
        args,
        f"check: {len(result.findings)} finding(s), {result.failing} failing "
        f"(--fail-on {failing}); {report.stats.requests} request(s), "
        f"{report.stats.cache_hits} cached",
    )
    return result.exit_code


def fix(args: argparse.Namespace, settings: Settings, progress: Callable[[int, int], None]) -> int:
    from pipeline.maintain.fix import run_fix

    fixed = run_fix(settings, args.only, args.dry_run, progress=progress)
    # A dry run's stdout is the diff alone, ready for `git apply`; the edits go to stderr.
    report = sys.stderr if args.dry_run else sys.stdout
    for one in fixed:
        if args.dry_run:
            sys.stdout.write(one.diff)
        for edit in one.edits:
            kinds = ",".join(edit.kinds)
            print(f"{one.file}:{edit.line}: {kinds}: {edit.detail}", file=report)
    edits = sum(len(one.edits) for one in fixed)
    done = "would edit (dry run)" if args.dry_run else "edited"
    _note(args, f"fix: {edits} line(s) {done} in {len(fixed)} list(s)")
    return EX_OK


def suggest(
    args: argparse.Namespace, settings: Settings, progress: Callable[[int, int], None]
) -> int:
    from pipeline.maintain.suggest import run_suggest

    found = run_suggest(settings, args.since, args.limit, datetime.now(UTC), progress=progress)
    if not args.quiet:
        sys.stdout.write(found.markdown.read_text(encoding="utf-8"))
    _note(
        args,
        f"suggest: {len(found.rows)} paper(s) from {found.candidates} candidate(s), "
        f"{found.requests} search request(s) -> {found.markdown}, {found.parquet}",
    )
    return EX_OK
