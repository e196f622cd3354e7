"""Command line: argument parsing and error translation only.

Exit codes: 0 success; 1 the run failed and the previous tables were kept; 2 bad usage or
bad input; 75 another run holds the lock; 130 interrupted (previous tables kept).
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from types import FrameType

from pipeline import __version__
from pipeline.config import (
    CITE_SOURCES,
    DEFAULT_BATCH_SIZE,
    DEFAULT_CACHE_TTL_HOURS,
    DEFAULT_CITE_MAX_AGE_DAYS,
    DEFAULT_DELAY,
    DEFAULT_MAX_AGE_DAYS,
    DEFAULT_RETRY_BUDGET,
    MAX_BATCH_SIZE,
    Settings,
    env_api_url,
    env_openalex_api_url,
    env_s2_api_url,
)
from pipeline.errors import EX_OK, PipelineError, UpstreamUnavailableError

log = logging.getLogger("pipeline")

EXIT_CODES = """exit codes:
  0   success
  1   the run failed; the previous tables were kept
  2   bad usage or bad input (a list file, an option)
  75  another run holds the lock on the data directory; nothing was changed
  130 interrupted (Ctrl-C, SIGTERM); the previous tables were kept
"""


class _Terminated(KeyboardInterrupt):
    """SIGTERM, handled like Ctrl-C so that locks and temp files are let go cleanly."""


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise _Terminated()


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def _batch_size(text: str) -> int:
    value = _positive_int(text)
    if value > MAX_BATCH_SIZE:
        raise argparse.ArgumentTypeError(
            f"at most {MAX_BATCH_SIZE} ids per request (arXiv's limit), not {value}"
        )
    return value


def _sources(text: str) -> tuple[str, ...]:
    names = [name.strip().lower() for name in text.split(",") if name.strip()]
    unknown = [n for n in names if n != "arxiv" and n not in CITE_SOURCES]
    if unknown:
        raise argparse.ArgumentTypeError(
            f"unknown source(s) {', '.join(unknown)}; choose from arxiv, " + ", ".join(CITE_SOURCES)
        )
    return tuple(dict.fromkeys(n for n in names if n != "arxiv"))


def _non_negative(text: str) -> float:
    value = float(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, not {text}")
    return value


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--data-dir",
        type=Path,
        default=Path("data"),
        help="data directory: lists in DIR/raw, tables in DIR/enriched, cache in DIR/cache "
        "(default: data)",
    )
    common.add_argument("-q", "--quiet", action="store_true", help="print errors only")
    common.add_argument("-v", "--verbose", action="store_true", help="print debug details")

    lists = argparse.ArgumentParser(add_help=False)
    lists.add_argument(
        "--list",
        dest="lists",
        action="append",
        default=[],
        metavar="PATH_OR_URL",
        help="a Markdown list file, a directory of them, or an http(s) URL (a GitHub "
        "repository URL means its README); repeat for several (default: DIR/raw/*.md)",
    )

    network = argparse.ArgumentParser(add_help=False)
    network.add_argument(
        "--api-url",
        default=None,
        metavar="URL",
        help="arXiv API endpoint (default: $ARXIV_API_URL or https://export.arxiv.org/api/query)",
    )
    network.add_argument(
        "--delay",
        type=_non_negative,
        default=DEFAULT_DELAY,
        metavar="SECONDS",
        help=f"seconds between network requests (default: {DEFAULT_DELAY:g}, arXiv's terms)",
    )
    network.add_argument(
        "--batch-size",
        type=_batch_size,
        default=DEFAULT_BATCH_SIZE,
        metavar="N",
        help=f"ids per API request, 1-{MAX_BATCH_SIZE} (default: {DEFAULT_BATCH_SIZE})",
    )
    network.add_argument(
        "--cache-ttl",
        type=_non_negative,
        default=DEFAULT_CACHE_TTL_HOURS,
        metavar="HOURS",
        help=f"how long cached API answers stay fresh (default: {DEFAULT_CACHE_TTL_HOURS:g})",
    )
    network.add_argument(
        "--max-age",
        type=_non_negative,
        default=DEFAULT_MAX_AGE_DAYS,
        metavar="DAYS",
        help="re-check papers fetched longer ago than this; 0 re-checks everything "
        f"(default: {DEFAULT_MAX_AGE_DAYS:g})",
    )
    network.add_argument(
        "--retry-budget",
        type=_non_negative,
        default=DEFAULT_RETRY_BUDGET,
        metavar="SECONDS",
        help="give up on a request once its retries would wait longer than this in all "
        f"(default: {DEFAULT_RETRY_BUDGET:g}); a cron run must end",
    )
    network.add_argument(
        "--no-resolve",
        dest="resolve",
        action="store_false",
        help="do not search arXiv by title for entries without an arXiv link",
    )
    network.add_argument(
        "--sources",
        type=_sources,
        default=(),
        metavar="LIST",
        help="comma-separated sources: arxiv (always), semanticscholar, openalex; the "
        "last two add citations.parquet (default: arxiv)",
    )
    network.add_argument(
        "--s2-api-url",
        default=None,
        metavar="URL",
        help="Semantic Scholar API (default: $S2_API_URL or https://api.semanticscholar.org)",
    )
    network.add_argument(
        "--openalex-api-url",
        default=None,
        metavar="URL",
        help="OpenAlex API (default: $OPENALEX_API_URL or https://api.openalex.org)",
    )
    network.add_argument(
        "--cite-max-age",
        type=_non_negative,
        default=DEFAULT_CITE_MAX_AGE_DAYS,
        metavar="DAYS",
        help=f"re-ask citation counts older than this (default: {DEFAULT_CITE_MAX_AGE_DAYS:g})",
    )
    network.add_argument(
        "--offline",
        action="store_true",
        help="no network at all: answer only from the cache and the current tables",
    )

    parser = argparse.ArgumentParser(
        prog="python -m pipeline",
        description="Turn Markdown paper lists into Parquet tables of arXiv metadata.",
        epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    commands.add_parser(
        "refresh",
        parents=[common, lists, network],
        help="parse the lists, fetch their papers from arXiv, write DIR/enriched/*.parquet",
        description="Parse the lists, fetch every listed paper from the arXiv API (batched, "
        "cached, rate-limited) and publish entries, papers and authors tables.",
        epilog="example:\n  python -m pipeline refresh --list data/raw/my-list.md\n\n" + EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands.add_parser(
        "parse",
        parents=[common, lists],
        help="parse the lists into DIR/enriched/entries.parquet only; no network",
        description="Parse the lists and publish entries.parquet; other tables stay as they "
        "are. Entries whose paper is not fetched yet get status 'pending'.",
        epilog="example:\n  python -m pipeline parse --list README.md --data-dir /tmp/d\n\n"
        + EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands.add_parser(
        "status",
        parents=[common],
        help="show the last runs, table sizes, stale papers and the latest changes",
        description="Show the current tables: the last runs, table sizes, how many papers "
        "are due for a re-check, and the latest changes. Reads only; no network.",
        epilog="example:\n  python -m pipeline status --data-dir data\n\n" + EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    output = argparse.ArgumentParser(add_help=False)
    output.add_argument(
        "--output",
        type=Path,
        default=None,
        metavar="PATH",
        help="where to write (default: see above)",
    )
    commands.add_parser(
        "report",
        parents=[common, output],
        help="write an HTML report of the tables (DIR/enriched/report/index.html)",
        description="Build a self-contained HTML report of the current tables: papers per "
        "year and section, versions, categories, top authors, quality findings, and a "
        "sortable table of all papers. Default output: DIR/enriched/report/index.html.",
        epilog="example:\n  python -m pipeline report --output site/index.html\n\n" + EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    export = commands.add_parser(
        "export",
        parents=[common, output],
        help="export the tables as BibTeX, CSV or JSON lines",
        description="Export the papers as BibTeX (one entry per paper), or the entries joined "
        "with their papers as CSV or JSON lines (one row per entry). Default output: "
        "DIR/enriched/export/papers.bib, entries.csv or entries.jsonl.",
        epilog="example:\n  python -m pipeline export --format bibtex --output refs.bib\n\n"
        + EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    export.add_argument(
        "--format",
        dest="fmt",
        choices=["bibtex", "csv", "jsonl"],
        required=True,
        help="bibtex, csv or jsonl",
    )
    return parser


def _settings(args: argparse.Namespace) -> Settings:
    values: dict[str, object] = {
        "data_dir": args.data_dir,
        "lists": tuple(getattr(args, "lists", ())),
    }
    if hasattr(args, "delay"):
        values.update(
            api_url=args.api_url or env_api_url(),
            delay=args.delay,
            batch_size=args.batch_size,
            cache_ttl_hours=args.cache_ttl,
            offline=args.offline,
            max_age_days=args.max_age,
            max_retry_seconds=args.retry_budget,
            resolve=args.resolve,
            cite_sources=args.sources,
            s2_api_url=args.s2_api_url or env_s2_api_url(),
            openalex_api_url=args.openalex_api_url or env_openalex_api_url(),
            cite_max_age_days=args.cite_max_age,
        )
    return Settings(**values)  # type: ignore[arg-type]


def _configure_logging(args: argparse.Namespace) -> None:
    level = logging.WARNING if args.quiet else logging.DEBUG if args.verbose else logging.INFO
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    log.handlers[:] = [handler]
    log.setLevel(level)
    log.propagate = False


def _progress(args: argparse.Namespace) -> Callable[[int, int], None]:
    if sys.stderr.isatty() and not args.quiet:
        from tqdm import tqdm

        bar: list[tqdm[None]] = []

        def update_bar(done: int, total: int) -> None:
            if not bar:
                bar.append(tqdm(total=total, unit="id", desc="fetching", leave=False))
            bar[0].update(done - bar[0].n)
            if done >= total:
                bar[0].close()

        return update_bar

    def log_line(done: int, total: int) -> None:
        log.info("fetched %d/%d ids", done, total)

    return log_line


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    _configure_logging(args)
    signal.signal(signal.SIGTERM, _on_sigterm)
    from pipeline import refresh

    try:
        settings = _settings(args)
        if args.command == "refresh":
            report = refresh.run_refresh(settings, progress=_progress(args))
            # The full list of findings when something changed (or on request); a run with
            # nothing new stays one line, and `status` shows the findings any time.
            if report.changes or args.verbose:
                _print_findings(args, report.findings)
            for source, reason in report.cite_failures.items():
                # The arXiv tables are written; say which optional source let us down.
                print(
                    f"warning: {source} failed, its previous values were kept: {reason}",
                    file=sys.stderr,
                )
        elif args.command == "parse":
            report = refresh.run_parse(settings)
        elif args.command == "status":
            from pipeline.outputs.status import render_status

            _say(args, render_status(settings).rstrip())
            return EX_OK
        elif args.command == "report":
            from pipeline.outputs.report import build_report

            path = build_report(settings.data_dir, args.output)
            _say(args, f"report: {path}")
            return EX_OK
        elif args.command == "export":
            from pipeline.outputs.export import export_tables

            path = export_tables(settings.data_dir, args.fmt, args.output)
            _say(args, f"export: {path}")
            return EX_OK
        else:  # pragma: no cover - argparse rejects unknown commands
            parser.error(f"unknown command {args.command}")
    except PipelineError as err:
        print(f"error: {error_line(err)}", file=sys.stderr)
        return err.exit_code
    except KeyboardInterrupt:
        print("interrupted: the previous tables were kept", file=sys.stderr)
        return 130
    _say(args, f"{args.command}: {report.summary()} -> {settings.enriched_dir}")
    return EX_OK


def error_line(err: PipelineError) -> str:
    """The one line an error becomes: what failed, what it left behind, what to do next.

    Only arXiv and the list server can fail a run (a citation source that fails is a
    warning); nothing was published then, so the previous tables are still current.
    """
    if not isinstance(err, UpstreamUnavailableError):
        return str(err)
    line = f"{err}; the previous tables were kept."
    if err.status is None:
        return f"{line} Try again later."
    if err.status == 429 or err.status >= 500:
        return f"{line} Try again later, or raise --delay."
    return line


def _print_findings(args: argparse.Namespace, found: list[dict[str, object]]) -> None:
    if args.quiet or not found:
        return
    print(f"quality: {len(found)} finding(s) to fix in the list(s):", file=sys.stderr)
    for item in found:
        print(f"  {item['list']}:{item['line']}: {item['kind']}: {item['detail']}", file=sys.stderr)


def _say(args: argparse.Namespace, line: str) -> None:
    if not args.quiet:
        print(line)
