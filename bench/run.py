"""The benchmark behind ``make bench``: the pipeline against arXiv's floor and a plain script.

    python bench/run.py [--sizes 100,20000,100000] [--latency SECONDS] [--scale K] [--quick]
                        [--before OLD_RESULTS.json]

For each size N it generates N unique ids (plus 1% more for the incremental run), a Markdown
list of them and the matching corpus, starts the fake arXiv API in its own process
(``bench/serve_fake.py``, 127.0.0.1 only) and measures, each run in its own subprocess so
that wall time and peak RSS are per run:

1. the pipeline, ``--delay 0 --no-resolve`` (its default batch of 2000) at zero latency:
   a cold refresh (empty data directory), a warm one (nothing changed) and an incremental
   one (1% new ids); the requests each made, against the floor ceil(ids / 2000); and the
   cold refresh once more at the baseline's page size (``--batch-size 100``), to show its
   own work request for request;
2. the same cold and warm refreshes next to ``bench/baseline.py`` (``arxiv.Client`` with a
   requests-cache session), each tool with its own defaults, both with arXiv's 3 s delay
   divided by ``--scale`` and the fake answering after ``--latency`` (equal settings); and
   the pipeline's cold refresh once more at the baseline's page size, ``--batch-size 100``,
   to show what its own work costs request for request;
3. the list parser's throughput on a generated 10 MB list.

It prints the tables, writes ``bench/results.json`` (everything measured) and
``bench/results.md`` (the tables for the README's Performance section). ``--before`` takes
the results.json of an earlier run (of the code before a change, on the same machine) and
adds a before/after table of the runs both measured. Scratch files go to
``bench/work/`` (git-ignored), removed after a successful run unless ``--keep``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import platform
import re
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "bench"
WORK = BENCH / "work"
WARM_REPEATS = 3
"""Warm runs (baseline and pipeline alike) are timed this many times; the best counts."""
COLD_REPEATS = 3
COLD_REPEAT_MAX_SIZE = 10_000
"""Cold runs of up to this many ids (a few seconds, where a shared machine's noise is as
large as the difference measured) are timed COLD_REPEATS times from an empty data
directory or cache, for both tools; the best counts. Larger ones run once."""

ARXIV_DELAY = 3.0
"""arXiv's terms of use: one request every 3 s; arxiv.Client's default delay too."""
PAGE_CAP = 2000
"""arXiv's limit of results per request: the floor is ceil(ids / 2000) requests."""
BASELINE_PAGE = 100
"""arxiv.Client's default page size."""
DEFAULT_SIZES = (100, 20_000, 100_000)
QUICK_SIZES = (100, 1_000)
DEFAULT_SCALE = 100.0
"""3 s / 100 = 30 ms between requests: the baseline's 1,000 requests at 100,000 ids then sleep
30 s instead of 50 minutes, and the whole bench takes a few minutes."""
PARSE_MB = 10.0
QUICK_PARSE_MB = 2.0
RUN_TIMEOUT = 900.0
"""No single run may take longer; the bench must stop by itself."""

TARGET_WARM_SECONDS = 0.5
TARGET_WARM_RATIO = 10.0
TARGET_SIZE = 100_000
TARGET_COLD_SECONDS = 10.0
TARGET_COLD_RSS_MB = 400.0
TARGET_KB_PER_PAPER = 2.0
"""Peak RSS may grow by at most this much per paper between the two largest sizes."""
RATIO_SIZE = 20_000
TARGET_COLD_RATIO = 3.0
"""The pipeline's cold refresh (its defaults, ``--delay 0``) against the plain script's."""
TARGET_B100_RATIO = 1.5
"""The same at the script's own page size of 100 (as many requests as the script)."""


# -- the generated corpus and lists ---------------------------------------------------------

_ADJECTIVES = ["Sparse", "Robust", "Efficient", "Scalable", "Self-Supervised", "Contrastive"]
_MODELS = ["Transformers", "Diffusion Models", "Graph Networks", "State Space Models"]
_TASKS = ["Image Segmentation", "Protein Folding", "Video Generation", "Code Synthesis"]
_VENUES = ["NeurIPS", "ICML", "ICLR", "CVPR", "arXiv", "ACL"]


def arxiv_ids(count: int) -> list[str]:
    """``count`` distinct, well-formed new-style ids (2301.00001 ...), 50,000 per month."""
    if count > 12 * 50_000:
        raise ValueError(f"at most 600,000 ids, not {count}")
    return [f"{2301 + i // 50_000}.{i % 50_000 + 1:05d}" for i in range(count)]


def title_for(index: int) -> str:
    """A distinct, plausible title; the corpus and the list agree on it, so the pipeline's
    link check finds no mismatch and prints no findings."""
    return (
        f"{_ADJECTIVES[index % 6]} {_MODELS[index // 6 % 4]} for "
        f"{_TASKS[index // 24 % 4]}: Study {index}"
    )


SHAPES = ("plain", "link", "nested", "table")
"""Entry shapes of the generated lists; the parser's speed is measured on each alone too."""


def list_markdown(ids: Sequence[str], first_index: int = 0, shape: str | None = None) -> str:
    """A Markdown list in the shapes real awesome lists use, one entry per id.

    Sections of 50 items under ``##``/``###`` headings; items alternate between the seed
    list's ``Title. Venue 2023, [[pdf]](url)`` ("plain", 6 in 10), ``[Title](url) - Venue
    2024 [[code]](url)`` ("link", 3 in 10) and ``**Title** (Venue'23) [[paper]](url)`` with
    a code sub-item ("nested", 1 in 10); every fifth section is a table ("table"). Mostly
    plain lines, as real lists are, with enough of the rest to exercise the full Markdown
    parser. ``shape`` makes every entry that one shape.
    """
    lines = ["# Benchmark List", "", "A generated list for `make bench`.", ""]
    for start in range(0, len(ids), 50):
        section = start // 50
        if section % 4 == 0:
            lines += [f"## Part {section // 4 + 1}", ""]
        lines += [f"### Topic {section}", ""]
        chunk = ids[start : start + 50]
        if shape == "table" or (shape is None and section % 5 == 4):
            lines += ["| Title | Venue | Paper |", "| --- | --- | --- |"]
            for offset, arxiv_id in enumerate(chunk):
                index = first_index + start + offset
                venue = f"{_VENUES[index % 6]} {2020 + index % 5}"
                url = f"https://arxiv.org/abs/{arxiv_id}"
                lines.append(f"| {title_for(index)} | {venue} | [arXiv]({url}) |")
        else:
            for offset, arxiv_id in enumerate(chunk):
                index = first_index + start + offset
                lines += _item(index, arxiv_id, shape)
        lines.append("")
    return "\n".join(lines)


def _item(index: int, arxiv_id: str, shape: str | None) -> list[str]:
    title, venue, year = title_for(index), _VENUES[index % 6], 2020 + index % 5
    if shape is None:
        shape = "plain" if index % 10 < 6 else "link" if index % 10 < 9 else "nested"
    if shape == "plain":
        return [f"* {title}. {venue} {year}, [[pdf]](https://arxiv.org/pdf/{arxiv_id})"]
    if shape == "link":
        return [
            f"- [{title}](https://arxiv.org/abs/{arxiv_id}v2) - {venue} {year} "
            f"[[code]](https://github.com/lab{index % 97}/repo{index})"
        ]
    return [
        f"* **{title}** ({venue}'{year % 100}) [[paper]](https://arxiv.org/abs/{arxiv_id})",
        f"  * Code: [GitHub](https://github.com/lab{index % 97}/repo{index})",
    ]


# -- running things -------------------------------------------------------------------------


@dataclass
class Run:
    """One measured subprocess."""

    label: str
    size: int
    wall_s: float
    peak_rss_mb: float
    exit_code: int
    requests: int | None = None
    """Requests the fake arXiv API received during the run."""
    ids_asked: int | None = None
    floor: int | None = None
    """ceil(ids to fetch / 2000): the fewest requests arXiv's terms allow."""
    summary: str = ""
    """The run's own last line (the pipeline's summary, the baseline's JSON)."""
    extra: dict[str, Any] = field(default_factory=dict)


def measure(cmd: Sequence[str], env: dict[str, str], log_path: Path) -> tuple[float, float, int]:
    """Run ``cmd``; (wall seconds, peak RSS in MB, exit code) of that run.

    The peak is the run's processes together: a refresh parses a large list in a second
    process while it fetches (pipeline/prefetch.py), and both count. ``os.wait4`` gives the
    main process's own peak (and its waited-for children's, as a maximum, not a sum), so
    the sum of the process tree's RSS is also sampled every 10 ms (Linux); the larger
    counts. The fake server is the bench's child, not the run's, and never counts.
    """
    with log_path.open("wb") as log:
        t0 = time.perf_counter()
        proc = subprocess.Popen(
            cmd, cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=log
        )
        timer = threading.Timer(RUN_TIMEOUT, proc.kill)
        timer.start()
        sampler = _TreeRss(proc.pid)
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            timer.cancel()
            sampler.stop()
        wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    # ru_maxrss is in kilobytes on Linux, in bytes on macOS.
    rss_bytes = usage.ru_maxrss * (1 if sys.platform == "darwin" else 1024)
    return wall, max(rss_bytes, sampler.peak) / 1e6, proc.returncode


class _TreeRss:
    """The largest sum of RSS over a process and its descendants, sampled in a thread."""

    def __init__(self, pid: int, every: float = 0.01) -> None:
        self.peak = 0
        self._pid = pid
        self._every = every
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._done.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._done.wait(self._every):
            self.peak = max(self.peak, sum(_rss(p) for p in _tree(self._pid)))


def _tree(pid: int) -> list[int]:
    pids, i = [pid], 0
    while i < len(pids):
        try:
            children = Path(f"/proc/{pids[i]}/task/{pids[i]}/children").read_text().split()
        except OSError:
            children = []
        pids += [int(c) for c in children]
        i += 1
    return pids


def _rss(pid: int) -> int:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    match = re.search(r"^VmRSS:\s+(\d+) kB", status, re.M)
    return int(match.group(1)) * 1024 if match else 0


class FakeServer:
    """``bench/serve_fake.py`` in its own process, driven over its stdin/stdout."""

    def __init__(self, corpus: Path, log_path: Path) -> None:
        self._log = log_path.open("wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bench.serve_fake", "--corpus", str(corpus)],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._log,
            text=True,
        )
        hello = self._read()
        self.url: str = hello["url"]
        if urlsplit(self.url).hostname != "127.0.0.1":
            raise RuntimeError(f"the fake server must listen on 127.0.0.1, not {self.url}")

    def _read(self) -> dict[str, Any]:
        assert self.proc.stdout is not None
        # A server that died or hangs must not hang the bench.
        timer = threading.Timer(RUN_TIMEOUT, self.proc.kill)
        timer.start()
        try:
            line = self.proc.stdout.readline()
        finally:
            timer.cancel()
        if not line:
            raise RuntimeError(f"the fake server exited; see {self._log.name}")
        reply: dict[str, Any] = json.loads(line)
        return reply

    def command(self, line: str) -> dict[str, Any]:
        assert self.proc.stdin is not None
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()
        return self._read()

    def close(self) -> None:
        with contextlib.suppress(OSError):
            if self.proc.stdin is not None:
                self.proc.stdin.write("quit\n")
                self.proc.stdin.close()
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self._log.close()


@contextlib.contextmanager
def fake_server(corpus: Path, log_path: Path) -> Iterator[FakeServer]:
    server = FakeServer(corpus, log_path)
    try:
        yield server
    finally:
        server.close()


class Bench:
    def __init__(self, server: FakeServer, size: int, work: Path) -> None:
        self.server = server
        self.size = size
        self.work = work
        self.env = {
            **os.environ,
            "ARXIV_API_URL": server.url,
            # Citation sources are off unless asked for; should that change, a run still
            # never leaves 127.0.0.1 (port 9 refuses, and a failed source is not fatal).
            "S2_API_URL": "http://127.0.0.1:9",
            "OPENALEX_API_URL": "http://127.0.0.1:9",
            # A proxy from the environment must not see (or forward) the bench's traffic.
            "NO_PROXY": "127.0.0.1",
            "no_proxy": "127.0.0.1",
        }
        self._count = 0

    def _counted(
        self,
        label: str,
        cmd: Sequence[str],
        fetch: int | None,
        floor: bool = True,
        repeat: int = 1,
        reset: Callable[[], None] | None = None,
    ) -> Run:
        self._count += 1
        log_path = self.work / f"{self._count:02d}-{label.replace(' ', '_')}.log"
        # A run can be repeated (a cold one after ``reset`` empties its data): the best of a
        # few is the tool's cost, the rest is other work on a shared machine. Requests are
        # the most any repetition made, so a warm run that asks anything still shows it.
        wall, rss, code, requests, ids_asked = float("inf"), 0.0, 0, 0, 0
        for _ in range(repeat):
            if reset is not None:
                reset()
            self.server.command("clear")
            this_wall, this_rss, code = measure(cmd, self.env, log_path)
            stats = self.server.command("stats")
            wall, rss = min(wall, this_wall), max(rss, this_rss)
            requests = max(requests, stats["requests"])
            ids_asked = max(ids_asked, stats["ids_asked"])
            if code != 0:
                break
        stats = {**stats, "requests": requests, "ids_asked": ids_asked, "repeats": repeat}
        lines = log_path.read_text(encoding="utf-8", errors="replace").strip().splitlines()
        run = Run(
            label=label,
            size=self.size,
            wall_s=wall,
            peak_rss_mb=rss,
            exit_code=code,
            requests=requests,
            ids_asked=ids_asked,
            floor=math.ceil(fetch / PAGE_CAP) if floor and fetch is not None else None,
            summary=lines[-1] if lines else "",
            extra={"server": stats, "log": str(log_path.relative_to(ROOT))},
        )
        if code != 0:
            tail = "\n".join(lines[-15:])
            raise RuntimeError(f"{label} (N={self.size}) exited {code}:\n{tail}")
        _progress(run)
        return run

    def refresh(
        self,
        label: str,
        data_dir: Path,
        lst: Path,
        fetch: int,
        delay: float,
        batch: int | None = None,
        repeat: int = 1,
        cold: bool = False,
    ) -> Run:
        """A refresh; ``batch`` None keeps the pipeline's default (2000); ``cold`` empties
        ``data_dir`` before each repetition."""
        cmd = [
            sys.executable,
            "-m",
            "pipeline",
            "refresh",
            "--data-dir",
            str(data_dir),
            "--list",
            str(lst),
            "--delay",
            f"{delay:g}",
            "--no-resolve",
            *(["--batch-size", str(batch)] if batch is not None else []),
        ]
        run = self._counted(
            label,
            cmd,
            fetch,
            floor=batch is None,
            repeat=repeat,
            reset=(lambda: _remove(data_dir)) if cold else None,
        )
        match = re.search(r"(\d+) entries from \d+ list\(s\), (\d+) papers", run.summary)
        if match:
            run.extra["entries"], run.extra["papers"] = int(match[1]), int(match[2])
        return run

    def baseline(
        self, label: str, lst: Path, cache: Path, delay: float, repeat: int = 1, cold: bool = False
    ) -> Run:
        cmd = [
            sys.executable,
            str(BENCH / "baseline.py"),
            "--list",
            str(lst),
            "--api-url",
            self.server.url,
            "--cache",
            str(cache),
            "--out",
            str(self.work / "baseline.parquet"),
            "--delay",
            f"{delay:g}",
        ]
        run = self._counted(
            label,
            cmd,
            None,
            floor=False,
            repeat=repeat,
            # requests-cache names its SQLite file after the cache name, plus ".sqlite".
            reset=(lambda: _remove(cache, cache.with_name(f"{cache.name}.sqlite")))
            if cold
            else None,
        )
        with contextlib.suppress(ValueError):
            run.extra["papers"] = json.loads(run.summary)["papers"]
        return run


def _remove(*paths: Path) -> None:
    for path in paths:
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink(missing_ok=True)


def _progress(run: Run) -> None:
    print(
        f"  N={run.size:>7,}  {run.label:<28} {run.wall_s:7.2f} s  {run.peak_rss_mb:7.0f} MB"
        f"  {run.requests} request(s)",
        flush=True,
    )


def bench_size(size: int, scale: float, latency: float, work: Path) -> dict[str, Run]:
    """Every run for one N; keyed by label."""
    work.mkdir(parents=True)
    extra = max(1, size // 100)
    ids = arxiv_ids(size + extra)
    corpus = work / "corpus.tsv"
    corpus.write_text(
        "".join(f"{arxiv_id}\t{title_for(i)}\n" for i, arxiv_id in enumerate(ids)),
        encoding="utf-8",
    )
    base_list = list_markdown(ids[:size])
    grown_list = base_list + "\n## New this week\n\n" + list_markdown(ids[size:], size)
    lst = work / "bench-list.md"  # one path throughout: the list keeps its name

    runs: dict[str, Run] = {}
    print(f"N = {size:,}: starting the fake arXiv API with {len(ids):,} papers", flush=True)
    with fake_server(corpus, work / "fake-server.log") as server:
        bench = Bench(server, size, work)
        # 1. The pipeline's own cost: no delay, no latency, its default batches.
        server.command("latency 0")
        lst.write_text(base_list, encoding="utf-8")
        data = work / "pipeline"
        cold = COLD_REPEATS if size <= COLD_REPEAT_MAX_SIZE else 1
        runs["cold"] = bench.refresh("cold", data, lst, size, 0.0, repeat=cold, cold=True)
        runs[f"cold b{BASELINE_PAGE}"] = bench.refresh(
            f"cold b{BASELINE_PAGE}",
            work / f"pipeline-b{BASELINE_PAGE}",
            lst,
            size,
            0.0,
            BASELINE_PAGE,
            repeat=cold,
            cold=True,
        )
        runs["warm"] = bench.refresh("warm", data, lst, 0, 0.0, repeat=WARM_REPEATS)
        lst.write_text(grown_list, encoding="utf-8")
        runs["incremental"] = bench.refresh("incremental", data, lst, extra, 0.0)

        # 2. Side by side with the baseline: the same delay, latency and server for both.
        delay = ARXIV_DELAY / scale
        server.command(f"latency {latency:g}")
        lst.write_text(base_list, encoding="utf-8")
        cache = work / "baseline_cache"
        runs["baseline cold"] = bench.baseline(
            "baseline cold", lst, cache, delay, repeat=cold, cold=True
        )
        runs["baseline warm"] = bench.baseline(
            "baseline warm", lst, cache, delay, repeat=WARM_REPEATS
        )
        data = work / "pipeline-delay"
        runs["pipeline cold"] = bench.refresh(
            "pipeline cold", data, lst, size, delay, repeat=cold, cold=True
        )
        runs["pipeline warm"] = bench.refresh(
            "pipeline warm", data, lst, 0, delay, repeat=WARM_REPEATS
        )
        runs[f"pipeline cold b{BASELINE_PAGE}"] = bench.refresh(
            f"pipeline cold b{BASELINE_PAGE}",
            work / f"pipeline-delay-b{BASELINE_PAGE}",
            lst,
            size,
            delay,
            BASELINE_PAGE,
            repeat=cold,
            cold=True,
        )
    for run in runs.values():
        papers = run.extra.get("papers")
        expected = size + extra if run.label == "incremental" else size
        if papers is not None and papers != expected:
            raise RuntimeError(f"{run.label} (N={size}) wrote {papers} papers, not {expected}")
    return runs


def parse_throughput(megabytes: float, repeats: int) -> dict[str, Any]:
    """The list parser on a generated list of about ``megabytes`` MB, in MB/s (best of
    ``repeats``); then on a tenth of that in each entry shape alone, to show which is slow."""
    try:
        from pipeline.lists.readers import parse_markdown
    except ImportError as err:  # the parser is someone else's work in progress
        return {"error": f"pipeline.lists.readers not importable: {err}"}

    def measure_parse(shape: str | None, mb: float, runs: int) -> dict[str, Any]:
        per_entry = len(list_markdown(arxiv_ids(1000), shape=shape).encode()) / 1000
        count = int(mb * 1e6 / per_entry)
        text = list_markdown(arxiv_ids(count), shape=shape)
        times, entries = [], 0
        for _ in range(runs):
            t0 = time.perf_counter()
            entries = len(parse_markdown(text, "bench-list.md"))
            times.append(time.perf_counter() - t0)
        size = len(text.encode())
        return {
            "bytes": size,
            "entries": entries,
            "expected_entries": count,
            "seconds": times,
            "mb_per_s": size / 1e6 / min(times),
        }

    result = measure_parse(None, megabytes, repeats)
    result["by_shape"] = {
        shape: measure_parse(shape, megabytes / 10, 1)["mb_per_s"] for shape in SHAPES
    }
    return result


# -- reporting ------------------------------------------------------------------------------


def _ratio(baseline: Run, pipeline: Run) -> float:
    return baseline.wall_s / pipeline.wall_s


def _mb(value: float) -> str:
    return f"{value:,.0f} MB"


def _s(value: float) -> str:
    return f"{value:.2f} s" if value < 10 else f"{value:.1f} s"


def targets(results: dict[int, dict[str, Run]]) -> list[dict[str, Any]]:
    checks: list[dict[str, Any]] = []

    def check(name: str, passed: bool, measured: str) -> None:
        checks.append({"target": name, "measured": measured, "pass": passed})

    for size, runs in results.items():
        for label in ("cold", "incremental"):
            run = runs[label]
            check(
                f"{label} requests = floor, N={size:,}",
                run.requests == run.floor,
                f"{run.requests} vs {run.floor}",
            )
        warm = runs["warm"]
        check(f"warm makes 0 requests, N={size:,}", warm.requests == 0, str(warm.requests))
        cold_ratio = _ratio(runs["baseline cold"], runs["pipeline cold"])
        check(
            f"cold never slower than baseline (equal settings), N={size:,}",
            cold_ratio >= 1.0,
            f"{cold_ratio:.2f}x",
        )
        warm_ratio = _ratio(runs["baseline warm"], runs["pipeline warm"])
        check(
            f"warm >= {TARGET_WARM_RATIO:g}x faster than baseline, N={size:,}",
            warm_ratio >= TARGET_WARM_RATIO,
            f"{warm_ratio:.1f}x",
        )
    if RATIO_SIZE in results:
        runs = results[RATIO_SIZE]
        for label, target in (
            ("cold", TARGET_COLD_RATIO),
            (f"cold b{BASELINE_PAGE}", TARGET_B100_RATIO),
        ):
            ratio = _ratio(runs["baseline cold"], runs[label])
            check(
                f"{label} (--delay 0) >= {target:g}x faster than the baseline's cold, "
                f"N={RATIO_SIZE:,}",
                ratio >= target,
                f"{ratio:.2f}x",
            )
    if TARGET_SIZE in results:
        runs = results[TARGET_SIZE]
        warm, cold = runs["warm"], runs["cold"]
        check(
            f"warm refresh of 100,000 under {TARGET_WARM_SECONDS:g} s",
            warm.wall_s < TARGET_WARM_SECONDS,
            _s(warm.wall_s),
        )
        check(
            f"cold refresh of 100,000 under {TARGET_COLD_SECONDS:g} s",
            cold.wall_s < TARGET_COLD_SECONDS,
            _s(cold.wall_s),
        )
        check(
            f"cold refresh of 100,000 under {TARGET_COLD_RSS_MB:g} MB peak RSS",
            cold.peak_rss_mb < TARGET_COLD_RSS_MB,
            _mb(cold.peak_rss_mb),
        )
    sizes = sorted(results)
    if len(sizes) >= 2 and sizes[-2] >= RATIO_SIZE:  # below, fixed costs swamp the slope
        small, large = results[sizes[-2]]["cold"], results[sizes[-1]]["cold"]
        per_paper = (large.peak_rss_mb - small.peak_rss_mb) * 1000 / (sizes[-1] - sizes[-2])
        check(
            f"cold peak RSS grows <= {TARGET_KB_PER_PAPER:g} KB per paper, "
            f"N={sizes[-2]:,} -> {sizes[-1]:,}",
            per_paper <= TARGET_KB_PER_PAPER,
            f"{per_paper:.1f} KB",
        )
    return checks


def before_after(
    results: dict[int, dict[str, Run]], before: dict[str, Any], meta: dict[str, Any]
) -> list[str]:
    """Rows of a before/after table: the runs both this run and ``before`` (an earlier
    results.json) measured, time and peak memory side by side."""
    old_meta = before["meta"]
    out = [
        f"**Before and after**: the runs above against those of an earlier run, "
        f"{old_meta.get('label') or old_meta['date']} (`{old_meta.get('args') or 'defaults'}`, "
        f"load average {old_meta['load_average_1min']['start']:.1f} at its start, "
        f"this run's {meta['load_average_1min']['start']:.1f}):",
        "",
        "| papers | run | before | | after | | faster |",
        "| ---: | --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for size, runs in results.items():
        for label in (*_PHASES, "baseline cold", "pipeline cold"):
            old = before["runs"].get(str(size), {}).get(label)
            new = runs.get(label)
            if old is None or new is None:
                continue
            out.append(
                f"| {size:,} | {label} | {_s(old['wall_s'])} | {_mb(old['peak_rss_mb'])} "
                f"| {_s(new.wall_s)} | {_mb(new.peak_rss_mb)} | {old['wall_s'] / new.wall_s:.1f}x |"
            )
    return out


def markdown(
    results: dict[int, dict[str, Run]],
    parse: dict[str, Any],
    checks: list[dict[str, Any]],
    meta: dict[str, Any],
    before: dict[str, Any] | None = None,
) -> str:
    delay = meta["delay_s"]
    command = f"python bench/run.py {meta['args']}".rstrip()
    out = [
        f"Measured {meta['date']} on {meta['machine']} with `{command}` against the fake "
        "arXiv API on 127.0.0.1. Each run is its own process: wall time includes Python's "
        "start-up; memory is the peak RSS of its processes together (a refresh parses a "
        "large list in a second process while it fetches). Warm runs, which change nothing, are "
        f"timed {WARM_REPEATS} times for both tools and the best time is shown; so are cold "
        f"runs of up to {COLD_REPEAT_MAX_SIZE:,} ids, each from an empty data directory or "
        "cache.",
        "",
        "**Requests** of a refresh with its defaults, against the floor arXiv's terms "
        "allow (at most 2,000 results per request: ceil(ids / 2,000)):",
        "",
        "| papers | cold | floor | incremental (+1%) | floor | warm |",
        "| ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for size, runs in results.items():
        cold, incr, warm = runs["cold"], runs["incremental"], runs["warm"]
        out.append(
            f"| {size:,} | {cold.requests} | {cold.floor} | {incr.requests} | {incr.floor} "
            f"| {warm.requests} |"
        )
    out += [
        "",
        "**Time and peak memory** of a refresh with `--delay 0 --no-resolve`, the fake "
        "answering at once (the pipeline's own cost); cold at the script's page size too "
        "(`--batch-size 100`, as many requests as the script):",
        "",
        "| papers | cold | | cold, batch 100 | | warm (nothing changed) | "
        "| incremental (+1% ids) | |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for size, runs in results.items():
        cells = [f"{_s(runs[k].wall_s)} | {_mb(runs[k].peak_rss_mb)}" for k in _PHASES]
        out.append(f"| {size:,} | " + " | ".join(cells) + " |")
    out += [
        "",
        f"**Against the plain script** (`bench/baseline.py`: ids from the list by regex, "
        f"`arxiv.Client` defaults, a requests-cache session, `Search(id_list=...)` per 100 "
        f"ids, pandas to Parquet), both "
        f"with arXiv's 3 s delay scaled down {meta['scale']:g}x to {delay * 1000:g} ms and "
        f"{meta['latency']:g} s latency, each tool with its own defaults otherwise (the "
        "equal-settings comparison). Ratio = baseline time / pipeline time. The last two "
        "columns run the pipeline at the baseline's page size (`--batch-size 100`), request "
        "for request, to show its own work:",
        "",
        "| papers | baseline cold | pipeline cold | ratio | baseline warm | pipeline warm "
        "| ratio | pipeline cold, batch 100 | ratio |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for size, runs in results.items():
        b_cold, b_warm = runs["baseline cold"], runs["baseline warm"]
        p_cold, p_warm = runs["pipeline cold"], runs["pipeline warm"]
        p100 = runs[f"pipeline cold b{BASELINE_PAGE}"]
        out.append(
            f"| {size:,} | {_s(b_cold.wall_s)} ({b_cold.requests} req) "
            f"| {_s(p_cold.wall_s)} ({p_cold.requests} req) | {_ratio(b_cold, p_cold):.1f}x "
            f"| {_s(b_warm.wall_s)} | {_s(p_warm.wall_s)} | {_ratio(b_warm, p_warm):.1f}x "
            f"| {_s(p100.wall_s)} ({p100.requests} req) | {_ratio(b_cold, p100):.1f}x |"
        )
    out.append("")
    largest = max(results)
    chunks = math.ceil(largest / BASELINE_PAGE)
    out += [
        f"At arXiv's real 3 s delay the baseline's warm run of {largest:,} ids would still "
        f"sleep {(chunks - 1) * ARXIV_DELAY / 60:,.1f} minutes (arxiv.Client waits before "
        "every page, cached or not); the pipeline's warm run makes no request and never "
        "waits.",
        "",
    ]
    if "mb_per_s" in parse:
        shapes = ", ".join(f"{k} {v:.1f}" for k, v in parse["by_shape"].items())
        out.append(
            f"**Parsing** a generated {parse['bytes'] / 1e6:.1f} MB list "
            f"({parse['entries']:,} entries): {parse['mb_per_s']:.1f} MB/s "
            f"(MB = 10^6 bytes; by entry shape alone, MB/s: {shapes})."
        )
    else:
        out.append(f"**Parsing**: not measured ({parse.get('error')}).")
    if before is not None:
        out += ["", *before_after(results, before, meta)]
    out += ["", "**Targets**:", "", "| target | measured | met |", "| --- | ---: | :---: |"]
    out += [
        f"| {c['target']} | {c['measured']} | {'yes' if c['pass'] else '**no**'} |" for c in checks
    ]
    return "\n".join(out) + "\n"


_PHASES = ("cold", f"cold b{BASELINE_PAGE}", "warm", "incremental")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Benchmark the pipeline against arXiv's request floor and arxiv.Client.",
        epilog="example: python bench/run.py --quick",
    )
    parser.add_argument(
        "--sizes",
        type=lambda text: [int(s.replace("_", "")) for s in text.split(",")],
        help="comma-separated numbers of unique ids (default: 100,20000,100000)",
    )
    parser.add_argument(
        "--latency",
        type=float,
        default=0.0,
        help="seconds the fake waits before each answer in the baseline comparison "
        "(default: 0; the time and memory runs always use 0)",
    )
    parser.add_argument(
        "--scale",
        type=float,
        default=DEFAULT_SCALE,
        help=f"divide arXiv's 3 s delay by K for the baseline and the pipeline alike "
        f"(default: {DEFAULT_SCALE:g})",
    )
    parser.add_argument("--quick", action="store_true", help="sizes 100,1000: a smoke run")
    parser.add_argument(
        "--before",
        type=Path,
        help="results.json of an earlier run (the code before a change, this machine): "
        "adds a before/after table",
    )
    parser.add_argument(
        "--label", default="", help="a name for this run in results.json (e.g. a commit)"
    )
    parser.add_argument(
        "--keep", action="store_true", help="keep the scratch files in bench/work/ (to profile)"
    )
    args = parser.parse_args(argv)
    sizes = args.sizes or (QUICK_SIZES if args.quick else DEFAULT_SIZES)
    if args.scale <= 0 or args.latency < 0:
        parser.error("--scale must be positive and --latency not negative")

    t0 = time.monotonic()
    load_before = os.getloadavg()[0]
    shutil.rmtree(WORK, ignore_errors=True)
    WORK.mkdir(parents=True)
    results: dict[int, dict[str, Run]] = {}
    for size in sizes:
        results[size] = bench_size(size, args.scale, args.latency, WORK / f"n{size}")
    print("parsing a generated list ...", flush=True)
    parse = parse_throughput(QUICK_PARSE_MB if args.quick else PARSE_MB, 1 if args.quick else 3)

    shown_args = " ".join(argv if argv is not None else sys.argv[1:])
    meta = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d"),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, Python "
        f"{platform.python_version()}",
        "args": shown_args,
        "sizes": list(sizes),
        "scale": args.scale,
        "delay_s": ARXIV_DELAY / args.scale,
        "latency": args.latency,
        "bench_seconds": time.monotonic() - t0,
        # Other work on the machine slows every run; a high load makes the numbers suspect.
        "load_average_1min": {"start": load_before, "end": os.getloadavg()[0]},
    }
    meta["label"] = args.label
    before = json.loads(args.before.read_text(encoding="utf-8")) if args.before else None
    checks = targets(results)
    table = markdown(results, parse, checks, meta, before)
    (BENCH / "results.md").write_text(table, encoding="utf-8")
    payload = {
        "meta": meta,
        "runs": {str(n): {k: asdict(r) for k, r in runs.items()} for n, runs in results.items()},
        "parse": parse,
        "targets": checks,
    }
    (BENCH / "results.json").write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
    print()
    print(table)
    if not args.keep:
        # Hundreds of MB at 100,000 papers; a failed run keeps them for a look.
        shutil.rmtree(WORK, ignore_errors=True)
    print(f"bench: {meta['bench_seconds']:.0f} s; wrote bench/results.json, bench/results.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
