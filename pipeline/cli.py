"""Command line: argument parsing and error translation only.

Exit codes: 0 success; 1 the run failed and the previous tables were kept; 2 bad usage or
bad input; 75 another run holds the lock; 130 interrupted (previous tables kept).
"""

from __future__ import annotations

import argparse
import dataclasses
import difflib
import logging
import math
import os
import signal
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, NoReturn, TextIO
from urllib.parse import urlsplit

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
)
from pipeline.errors import (
    EX_FAILED,
    EX_OK,
    EX_SKIPPED,
    EX_USAGE,
    AnswerRefusedError,
    InputError,
    PipelineError,
    UpstreamUnavailableError,
)
from pipeline.maintain.check import DEFAULT_FAIL_ON, parse_kinds
from pipeline.maintain.check import FORMATS as CHECK_FORMATS
from pipeline.maintain.options import (
    DEFAULT_FIXES,
    DEFAULT_LIMIT,
    DEFAULT_SINCE_DAYS,
    MAX_REQUESTS,
    parse_fix_kinds,
    parse_since,
)
from pipeline.models import FindingKind
from pipeline.outputs.formats import FORMATS, ExportOptions

if TYPE_CHECKING:  # the HTTP stack is loaded only by commands that use the network
    from pipeline.outputs.publish import OutputRequest
    from pipeline.services.http import RetryWait

log = logging.getLogger("pipeline")

EXIT_CODES = """exit codes:
  0   success
  1   the run failed; the previous tables were kept
  2   bad usage or bad input (a list file, an option)
  3   the tables were published, but some list files could not be read and were left out
      (each named on stderr); the other lists were read
  75  another run holds the lock on the data directory; nothing was changed
  130 interrupted (Ctrl-C, SIGTERM); the previous tables were kept
"""


class _Terminated(KeyboardInterrupt):
    """SIGTERM, handled like Ctrl-C so that locks and temp files are let go cleanly."""


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise _Terminated()


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, not {text!r}") from None
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


def _amount(unit: str, most: float) -> Callable[[str], float]:
    """An argparse type for a finite amount of ``unit`` from 0 to ``most``: infinity, NaN
    or a number past any sensible span would overflow date arithmetic deep in a run."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number of {unit}, not {text!r}") from None
        if not math.isfinite(value) or not 0 <= value <= most:
            raise argparse.ArgumentTypeError(f"must be 0 to {most:g} {unit}, not {text}")
        return value

    parse.__name__ = unit  # argparse names the type in its messages
    return parse


_seconds = _amount("seconds", 86_400)
_hours = _amount("hours", 24 * 3_650)
_days = _amount("days", 3_650)


def _http_url(text: str) -> str:
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise argparse.ArgumentTypeError(f"expected an http(s):// URL, not {text!r}")
    return text


def _formats(text: str) -> tuple[str, ...]:
    names = [name.strip().lower() for name in text.split(",") if name.strip()]
    unknown = [n for n in names if n not in FORMATS]
    if unknown or not names:
        raise argparse.ArgumentTypeError(
            f"unknown export format(s) {', '.join(unknown) or repr(text)}; choose from "
            + ", ".join(FORMATS)
        )
    return tuple(dict.fromkeys(names))


def _sources(text: str) -> tuple[str, ...]:
    names = [name.strip().lower() for name in text.split(",") if name.strip()]
    unknown = [n for n in names if n != "arxiv" and n not in CITE_SOURCES]
    if unknown:
        raise argparse.ArgumentTypeError(
            f"unknown source(s) {', '.join(unknown)}; choose from arxiv, " + ", ".join(CITE_SOURCES)
        )
    return tuple(dict.fromkeys(n for n in names if n != "arxiv"))


def _checked(parse: Callable[[str], object], name: str) -> Callable[[str], object]:
    """An argparse type from a parser that raises ValueError with the message to show."""

    def convert(text: str) -> object:
        try:
            return parse(text)
        except ValueError as err:
            raise argparse.ArgumentTypeError(str(err)) from None

    convert.__name__ = name
    return convert


class _Parser(argparse.ArgumentParser):
    """argparse, with one line on bad usage instead of the whole usage block, and a
    suggestion for a mistyped option."""

    def error(self, message: str) -> NoReturn:
        self.exit(EX_USAGE, f"{self.prog}: error: {message}; see {self.prog} --help\n")

    def reject_unknown(self, extras: Sequence[str]) -> NoReturn:
        known = [o for action in self._actions for o in action.option_strings]
        hints = []
        for extra in extras:
            close = difflib.get_close_matches(extra.split("=")[0], known, n=1)
            if extra.startswith("-") and close:
                hints.append(f"{extra} (did you mean {close[0]}?)")
            else:
                hints.append(extra)
        self.error(f"unrecognized arguments: {' '.join(hints)}")

    def command(self, name: str) -> _Parser:
        """The parser of subcommand ``name``."""
        for action in self._actions:
            if isinstance(action, argparse._SubParsersAction) and name in action.choices:
                chosen: _Parser = action.choices[name]
                return chosen
        raise LookupError(name)


def _prog_name() -> str:
    """How the user called us: ``arxiv-list`` through the console script, else the module."""
    name = Path(sys.argv[0]).name if sys.argv and sys.argv[0] else ""
    return "python -m pipeline" if name in ("", "__main__.py", "-c") else name


def build_parser() -> _Parser:
    common = _Parser(add_help=False)
    common.add_argument(
        "--data-dir",
        type=Path,
        default=Path("data"),
        help="data directory: lists in DIR/raw, tables in DIR/enriched, cache in DIR/cache "
        "(default: data)",
    )
    common.add_argument("-q", "--quiet", action="store_true", help="print errors only")
    common.add_argument("-v", "--verbose", action="store_true", help="print debug details")
    common.set_defaults(settings=_local_settings)

    lists = _Parser(add_help=False)
    lists.add_argument(
        "--list",
        dest="lists",
        action="append",
        default=[],
        metavar="PATH_OR_URL",
        help="a Markdown list file, a directory of them, or an http(s) URL (a GitHub "
        "repository URL means its README); repeat for several (default: DIR/raw/*.md)",
    )

    network = _Parser(add_help=False)
    # Listed after `common` among a command's parents, so its reader wins.
    network.set_defaults(settings=_network_settings)
    network.add_argument(
        "--api-url",
        type=_http_url,
        default=None,
        metavar="URL",
        help="arXiv API endpoint (default: $ARXIV_API_URL or https://export.arxiv.org/api/query)",
    )
    network.add_argument(
        "--delay",
        type=_seconds,
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
        type=_hours,
        default=DEFAULT_CACHE_TTL_HOURS,
        metavar="HOURS",
        help=f"how long cached API answers stay fresh (default: {DEFAULT_CACHE_TTL_HOURS:g})",
    )
    network.add_argument(
        "--max-age",
        type=_days,
        default=DEFAULT_MAX_AGE_DAYS,
        metavar="DAYS",
        help="re-check papers fetched longer ago than this; 0 re-checks everything "
        f"(default: {DEFAULT_MAX_AGE_DAYS:g})",
    )
    network.add_argument(
        "--retry-budget",
        type=_seconds,
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
        type=_http_url,
        default=None,
        metavar="URL",
        help="Semantic Scholar API (default: $S2_API_URL or https://api.semanticscholar.org)",
    )
    network.add_argument(
        "--openalex-api-url",
        type=_http_url,
        default=None,
        metavar="URL",
        help="OpenAlex API (default: $OPENALEX_API_URL or https://api.openalex.org)",
    )
    network.add_argument(
        "--cite-max-age",
        type=_days,
        default=DEFAULT_CITE_MAX_AGE_DAYS,
        metavar="DAYS",
        help=f"re-ask citation counts older than this (default: {DEFAULT_CITE_MAX_AGE_DAYS:g})",
    )
    network.add_argument(
        "--offline",
        action="store_true",
        help="no network at all: answer only from the cache and the current tables",
    )

    parser = _Parser(
        prog=_prog_name(),
        description="Turn Markdown paper lists into Parquet tables of arXiv metadata.",
        epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    bib = _Parser(add_help=False)
    bib.add_argument(
        "--abstracts",
        action="store_true",
        help="BibTeX: add each paper's abstract field",
    )
    bib.add_argument(
        "--keywords",
        action="store_true",
        help="BibTeX: add a keywords field with the list sections that list the paper",
    )
    refresh = commands.add_parser(
        "refresh",
        parents=[common, lists, network, bib],
        help="parse the lists, fetch their papers from arXiv, write DIR/enriched/*.parquet",
        description="Parse the lists, fetch every listed paper from the arXiv API (batched, "
        "cached, rate-limited) and publish entries, papers and authors tables.",
        epilog="example:\n  python -m pipeline refresh --list data/raw/my-list.md\n"
        "  python -m pipeline refresh --report --export bibtex,csv,jsonl,csljson,ris\n\n"
        + EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    refresh.add_argument(
        "--report",
        action="store_true",
        help="after a successful run, rebuild DIR/site/index.html (kept when the tables "
        "did not change)",
    )
    refresh.add_argument(
        "--export",
        dest="exports",
        type=_formats,
        default=(),
        metavar="FORMATS",
        help="after a successful run, rebuild these exports in DIR/export/ (comma-separated: "
        + ",".join(FORMATS)
        + ")",
    )
    parse = commands.add_parser(
        "parse",
        parents=[common, lists],
        help="parse the lists into DIR/enriched/entries.parquet only; no network",
        description="Parse the lists and publish entries.parquet; other tables stay as they "
        "are. Entries whose paper is not fetched yet get status 'pending'.",
        epilog="example:\n  python -m pipeline parse --list README.md --data-dir /tmp/d\n"
        "  python -m pipeline parse --list lists/ --explain\n\n" + EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parse.add_argument(
        "--explain",
        action="store_true",
        help="also print, per list, the entries built from a heading or a line of text and "
        "every arXiv id that is not an entry, with the reason",
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
    output = _Parser(add_help=False)
    output.add_argument(
        "--output",
        type=Path,
        default=None,
        metavar="PATH",
        help="where to write: a file, or a directory to write the default file name in; "
        "export also takes - for standard output (default: see above)",
    )
    commands.add_parser(
        "report",
        parents=[common, output],
        help="write the HTML report of the tables (DIR/site/index.html)",
        description="Build the report of the current tables as one offline HTML file: what "
        "changed recently, most cited papers, papers per year and section, versions, "
        "categories, top authors, quality findings, and every paper with links and its "
        "abstract. Default output: DIR/site/index.html (kept across refreshes).",
        epilog="example:\n  python -m pipeline report --output site/index.html\n\n" + EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    export = commands.add_parser(
        "export",
        parents=[common, output, bib],
        help="export the tables as BibTeX, CSV, JSON lines, CSL-JSON or RIS",
        description="Export the papers as BibTeX, CSL-JSON or RIS (one record per paper), or "
        "the entries joined with their papers as CSV or JSON lines (one row per entry). "
        f"Default output: DIR/export/{_or_list([f.default_file for f in FORMATS.values()])}.",
        epilog=f"formats:\n{_formats_help()}\n\n"
        "example:\n  python -m pipeline export --format bibtex --output refs.bib\n\n" + EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    export.add_argument(
        "--format",
        dest="fmt",
        choices=list(FORMATS),
        required=True,
        help=_or_list(list(FORMATS)),
    )
    _maintainer_commands(commands, common, lists, network)
    return parser


def _maintainer_commands(
    commands: argparse._SubParsersAction[_Parser],
    common: _Parser,
    lists: _Parser,
    network: _Parser,
) -> None:
    """``check``, ``fix`` and ``suggest``: each runs what ``refresh`` runs, then acts."""
    parents = [common, lists, network]
    _check_command(commands, parents)
    _fix_command(commands, parents)
    _suggest_command(commands, parents)


def _check_command(commands: argparse._SubParsersAction[_Parser], parents: list[_Parser]) -> None:
    fails = ",".join(DEFAULT_FAIL_ON)
    check = commands.add_parser(
        "check",
        parents=parents,
        help="refresh, then fail (exit 1) on findings: a CI gate for a list",
        description="Run what refresh runs (the same cache and tables: a warm run asks arXiv "
        "nothing), print every finding, and exit 1 when one of a failing kind exists.",
        epilog="example:\n  python -m pipeline check --list README.md --format github\n\n"
        "exit codes:\n  0   no finding of a failing kind\n  1   a finding of a failing kind, "
        "or the run failed\n  2   bad usage or bad input\n",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    check.add_argument(
        "files",
        nargs="*",
        default=[],
        metavar="LIST",
        help="list files, as --list (how pre-commit passes the staged files)",
    )
    check.add_argument(
        "--fail-on",
        type=_checked(parse_kinds, "kinds"),
        default=DEFAULT_FAIL_ON,
        metavar="KINDS",
        help=f"comma-separated finding kinds that fail, or none (default: {fails})",
    )
    check.add_argument(
        "--format",
        dest="fmt",
        choices=CHECK_FORMATS,
        default="text",
        help="text (file:line: kind: detail), github (workflow commands) or json (default: text)",
    )


def _fix_command(commands: argparse._SubParsersAction[_Parser], parents: list[_Parser]) -> None:
    fix = commands.add_parser(
        "fix",
        parents=parents,
        help="refresh, then edit the list where a fix has one right answer",
        description="Add arXiv links found by title, put links in the list's own form, remove "
        "exact duplicates within a section and (with --only published) replace an 'arXiv' "
        "venue by the published one. Every other byte stays as it is; the file is replaced "
        "atomically, and not at all if it changed since it was read.",
        epilog="example:\n  python -m pipeline fix --list README.md --dry-run\n\n" + EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    fix.add_argument(
        "--dry-run", action="store_true", help="print a unified diff instead of writing the list"
    )
    fix.add_argument(
        "--only",
        type=_checked(parse_fix_kinds, "fixes"),
        default=DEFAULT_FIXES,
        metavar="KINDS",
        help="comma-separated fixes: add_link, link_style, duplicate, published "
        f"(default: {','.join(DEFAULT_FIXES)})",
    )


def _suggest_command(commands: argparse._SubParsersAction[_Parser], parents: list[_Parser]) -> None:
    suggest = commands.add_parser(
        "suggest",
        parents=parents,
        help="propose recent arXiv papers the list would likely want",
        description="Search arXiv for recent papers in the list's main categories (at most "
        f"{MAX_REQUESTS} search requests), rank them by TF-IDF similarity to the list's titles "
        "and abstracts, drop listed ones, write DIR/suggestions.parquet and DIR/suggestions.md.",
        epilog="example:\n  python -m pipeline suggest --list README.md --since 2025-01-01\n\n"
        + EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    suggest.add_argument(
        "--since",
        type=_checked(parse_since, "date"),
        default=None,
        metavar="DATE",
        help=f"submitted on or after YYYY-MM-DD (default: {DEFAULT_SINCE_DAYS} days ago)",
    )
    suggest.add_argument(
        "--limit",
        type=_positive_int,
        default=DEFAULT_LIMIT,
        metavar="N",
        help=f"how many suggestions (default: {DEFAULT_LIMIT})",
    )


def _options(args: argparse.Namespace) -> ExportOptions:
    return ExportOptions(abstract=args.abstracts, keywords=args.keywords)


def _output_request(args: argparse.Namespace) -> OutputRequest | None:
    if not (args.report or args.exports):
        return None
    from pipeline.outputs.publish import OutputRequest

    return OutputRequest(report=args.report, formats=args.exports, options=_options(args))


def _or_list(words: list[str]) -> str:
    """``a, b or c``."""
    return " or ".join([", ".join(words[:-1]), words[-1]]) if len(words) > 1 else "".join(words)


def _formats_help() -> str:
    width = max(len(name) for name in FORMATS)
    return "\n".join(
        f"  {f.name:<{width}}  {f.default_file}: {f.description}" for f in FORMATS.values()
    )


def _settings(args: argparse.Namespace) -> Settings:
    """Typed settings from the options the command has: each parser that declares options
    also names the function that reads them (``set_defaults(settings=...)``)."""
    reader: Callable[[argparse.Namespace], Settings] = args.settings
    return reader(args)


def _local_settings(args: argparse.Namespace) -> Settings:
    lists = [*getattr(args, "lists", ()), *getattr(args, "files", ())]
    return Settings(data_dir=args.data_dir, lists=tuple(lists))


def _network_settings(args: argparse.Namespace) -> Settings:
    # An option left unset keeps the Settings default (which reads the environment).
    optional = {
        "api_url": args.api_url,
        "s2_api_url": args.s2_api_url,
        "openalex_api_url": args.openalex_api_url,
    }
    return dataclasses.replace(
        _local_settings(args),
        delay=args.delay,
        batch_size=args.batch_size,
        cache_ttl_hours=args.cache_ttl,
        offline=args.offline,
        max_age_days=args.max_age,
        max_retry_seconds=args.retry_budget,
        resolve=args.resolve,
        cite_sources=args.sources,
        cite_max_age_days=args.cite_max_age,
        **{name: value for name, value in optional.items() if value is not None},
    )


def _configure_logging(args: argparse.Namespace) -> None:
    level = logging.WARNING if args.quiet else logging.DEBUG if args.verbose else logging.INFO
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    log.handlers[:] = [handler]
    log.setLevel(level)
    log.propagate = False


def _on_terminal(args: argparse.Namespace) -> bool:
    return sys.stderr.isatty() and not args.quiet


def _progress(args: argparse.Namespace) -> Callable[[int, int], None]:
    if _on_terminal(args):
        from tqdm import tqdm

        bar: list[tqdm[None]] = []

        def update_bar(done: int, total: int) -> None:
            # total 0: not known yet (a large list is still being read); a count, no bar.
            if not bar:
                bar.append(tqdm(total=total or None, unit="id", desc="asking arXiv", leave=False))
            elif total and bar[0].total != total:
                bar[0].total = total
            bar[0].update(done - bar[0].n)
            if total and done >= total:
                bar[0].close()

        return update_bar

    def log_line(done: int, total: int) -> None:
        if not total:
            log.info("fetched %d ids; the lists are still being read", done)
        elif done == 0:
            log.info("asking arXiv for %d ids", total)
        else:
            log.info("fetched %d/%d ids", done, total)

    return log_line


class Countdown:
    """Retry waits on a terminal, counting down on one line:
    ``waiting 30 s (HTTP 429 from export.arxiv.org), retry 2/8``.

    The HTTP layer announces each retry wait (``announce``), then asks ``sleep`` to wait it;
    other waits (the rate limit's seconds) pass through silently. ``sleep_step`` is the
    real sleep, which tests replace. Without ``out`` (not a terminal: cron) it only sleeps;
    the HTTP layer's warning has said why.
    """

    def __init__(
        self, out: TextIO | None, sleep_step: Callable[[float], None] = time.sleep
    ) -> None:
        self._out = out
        self._sleep_step = sleep_step
        self._pending: RetryWait | None = None

    def announce(self, wait: RetryWait) -> None:
        self._pending = wait

    def sleep(self, seconds: float) -> None:
        wait, self._pending = self._pending, None
        if wait is None or self._out is None:
            self._sleep_step(seconds)
            return
        left = seconds
        while left > 0:
            self._out.write(f"\r{wait.line(left)}\x1b[K")
            self._out.flush()
            step = min(1.0, left)
            self._sleep_step(step)
            left -= step
        self._out.write("\r\x1b[K")
        self._out.flush()


@contextmanager
def _log_above_bar(args: argparse.Namespace) -> Iterator[None]:
    """Log lines printed above the progress bar, not onto its line."""
    if not _on_terminal(args):
        yield
        return
    from tqdm.contrib.logging import logging_redirect_tqdm

    with logging_redirect_tqdm(loggers=[log]):
        yield


def main(argv: Sequence[str] | None = None) -> int:
    _one_heap()
    parser = build_parser()
    args, extras = parser.parse_known_args(argv)
    if extras:
        parser.command(args.command).reject_unknown(extras)
    _configure_logging(args)
    signal.signal(signal.SIGTERM, _on_sigterm)
    settings = _settings(args)
    try:
        return _run(parser, args, settings)
    except BrokenPipeError:
        # `status | head -1`: the reader took what it wanted; nothing went wrong here.
        _silence_stdout()
        return EX_OK
    except OSError as err:
        # The machine said no (disk full, read-only directory): one line, never a traceback.
        where = f" {err.filename}" if err.filename else ""
        print(
            f"error: cannot write{where}: {err.strerror or err}; {_kept(settings)}",
            file=sys.stderr,
        )
        return EX_FAILED


ARROW_POOL = "ARROW_DEFAULT_MEMORY_POOL"
"""Arrow's choice of allocator, read once, when pyarrow is first imported."""


def _one_heap() -> None:
    """Arrow's buffers from the C heap, where Python's larger objects live, unless the
    user chose otherwise (or pyarrow is already loaded, and chose).

    pyarrow's default, mimalloc, is a heap of its own: it cannot reuse what the run's Python
    values free, and its pages freed stay resident beside the C heap's; the Parquet writer
    alone grew it by 20 MB for 7 MB of buffers. One heap was 30 MB less at a cold
    100,000-paper run's peak (373 MB, not 406), and no slower. The environment, so that
    the list parser's process inherits the choice, and the Parquet writer's own buffers
    (which ``pa.set_memory_pool`` does not reach) follow it.
    """
    if "pyarrow" not in sys.modules:
        os.environ.setdefault(ARROW_POOL, "system")


def _kept(settings: Settings) -> str:
    if (settings.enriched_dir / "entries.parquet").exists():
        return "the previous tables were kept"
    return "no tables were written"


def _silence_stdout() -> None:
    # Python flushes stdout at exit; a closed pipe would raise there again.
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())


def _run(parser: _Parser, args: argparse.Namespace, settings: Settings) -> int:
    """Run the command; a PipelineError becomes its one line and exit code."""
    from pipeline import refresh

    try:
        if settings.data_dir.exists() and not settings.data_dir.is_dir():
            raise InputError("is not a directory: name a data directory", str(settings.data_dir))
        if args.command == "refresh":
            countdown = Countdown(sys.stderr if _on_terminal(args) else None)
            with _log_above_bar(args):
                report = refresh.run_refresh(
                    settings,
                    progress=_progress(args),
                    sleep=countdown.sleep,
                    on_wait=countdown.announce,
                    outputs=_output_request(args),
                )
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
        elif args.command in ("check", "fix", "suggest"):
            from pipeline.maintain import commands

            return commands.run(args, settings, _progress(args))
        elif args.command == "parse":
            report = refresh.run_parse(settings)
        elif args.command == "status":
            from pipeline.outputs.status import render_status

            _say(args, render_status(settings).rstrip())
            return EX_OK
        elif args.command == "report":
            from pipeline.outputs.report import build_report

            page = build_report(settings.data_dir, args.output)
            _say(args, f"report: {page}")
            return EX_OK
        elif args.command == "export":
            from pipeline.outputs.export import export_tables

            written = export_tables(settings.data_dir, args.fmt, args.output, _options(args))
            if written is not None:  # `--output -` wrote the data itself to stdout
                _say(args, f"export: {written}")
            return EX_OK
        else:  # pragma: no cover - argparse rejects unknown commands
            parser.error(f"unknown command {args.command}")
    except PipelineError as err:
        print(f"error: {error_line(err, _kept(settings))}", file=sys.stderr)
        return err.exit_code
    except KeyboardInterrupt:
        print(f"interrupted: {_kept(settings)}", file=sys.stderr)
        return 130
    _say(args, f"{args.command}: {report.summary()} -> {settings.enriched_dir}")
    if args.command == "refresh" and (args.report or args.exports):
        kept = [settings.site_dir / "index.html"] if args.report else []
        kept += [settings.export_dir / FORMATS[f].default_file for f in args.exports]
        _say(args, "outputs: " + ", ".join(str(path) for path in kept))
    if args.command == "parse" and args.explain:
        from pipeline.lists.load import explain_lists
        from pipeline.lists.locate import default_sources

        for line in explain_lists(list(settings.lists) or default_sources(settings.raw_dir)):
            print(line)
    for reason in report.skipped:
        # Not quiet-able: a list left out of the tables must reach cron's mail.
        print(f"warning: list skipped: {reason}", file=sys.stderr)
    return EX_SKIPPED if report.skipped else EX_OK


_FINDING_RANK: dict[str, int] = {
    **dict.fromkeys(DEFAULT_FAIL_ON, 0),
    FindingKind.ORDER: 2,
    FindingKind.PUBLISHED: 3,
}
"""Print order of finding kinds: failing ones, then the rest (unresolved, structure), then
order and published, which are information."""

FINDINGS_SHOWN = 20
"""Findings printed after a run; past a screenful the rest are counted, not printed (a list
with 100,000 duplicates must not mail cron 100,000 lines). ``status`` and quality.parquet
have them all."""


def error_line(err: PipelineError, kept: str = "the previous tables were kept") -> str:
    """The one line an error becomes: what failed, what it left behind, what to do next.

    Only arXiv and the list server can fail a run (a citation source that fails is a
    warning); nothing was published then, so the previous tables are still current.
    """
    if not isinstance(err, UpstreamUnavailableError):
        return str(err)
    line = f"{err}; {kept}."
    if isinstance(err, AnswerRefusedError):
        return line  # the same answer comes back later: waiting does not help
    if err.status is None and err.service == "arXiv":
        # The way out when arXiv cannot be reached: the cache, or another endpoint.
        return f"{line} Try again later, use --offline (cached answers only) or ARXIV_API_URL."
    if err.status is None:
        return f"{line} Try again later."
    if err.status == 429 or err.status >= 500:
        return f"{line} Try again later, or raise --delay."
    return line


def _print_findings(args: argparse.Namespace, found: list[dict[str, object]]) -> None:
    if args.quiet or not found:
        return
    print(f"quality: {len(found)} finding(s) to fix in the list(s):", file=sys.stderr)
    # What a maintainer must fix comes before what is only information (order, published):
    # past a screenful, only the first are shown.
    found = sorted(found, key=lambda item: _FINDING_RANK.get(str(item["kind"]), 1))
    for item in found[:FINDINGS_SHOWN]:
        print(f"  {item['list']}:{item['line']}: {item['kind']}: {item['detail']}", file=sys.stderr)
    if len(found) > FINDINGS_SHOWN:
        print(
            f"  ... and {len(found) - FINDINGS_SHOWN} more: `status` lists them all, "
            "and quality.parquet holds them",
            file=sys.stderr,
        )


def _say(args: argparse.Namespace, line: str) -> None:
    if not args.quiet:
        print(line)
