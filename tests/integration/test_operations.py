"""What operators meet: bad input, locks, kills, cron, remote lists — through the real CLI."""

from __future__ import annotations

import functools
import hashlib
import http.server
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from pipeline.cli import main
from pipeline.config import Settings
from pipeline.refresh import data_lock, run_refresh
from tests.fake_arxiv import FakeArxiv

REPO = Path(__file__).resolve().parents[2]


def _cli(*args: str, api: FakeArxiv | None = None, **kwargs: object) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    if api is not None:
        env["ARXIV_API_URL"] = api.url
    return subprocess.Popen(
        [sys.executable, "-m", "pipeline", *args],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **kwargs,  # type: ignore[call-overload]
    )


def _run(*args: str, api: FakeArxiv | None = None) -> tuple[int, str, str]:
    process = _cli(*args, api=api)
    out, err = process.communicate(timeout=120)
    return process.returncode, out, err


def _snapshot(data_dir: Path) -> dict[str, str]:
    enriched = data_dir / "enriched"
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(enriched.glob("*"))}


@pytest.fixture
def refreshed(settings: Settings, seed_arxiv: FakeArxiv) -> Settings:
    """The seed tables, already written once."""
    run_refresh(settings)
    seed_arxiv.clear_log()
    return settings


# -- bad input -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"# Papers\n* caf\xe9 au lait. arXiv 2023 https://arxiv.org/abs/2304.05977\n", "UTF-8"),
        (b"", "empty"),
        (b"# Just a heading\n\nSome prose, no papers at all.\n", "no"),
    ],
    ids=["not-utf8", "empty", "no-entries"],
)
def test_bad_list_exits_2_naming_the_file_and_keeps_the_tables(
    refreshed: Settings, seed_arxiv: FakeArxiv, content: bytes, message: str
) -> None:
    before = _snapshot(refreshed.data_dir)
    bad = refreshed.data_dir / "bad-list.md"
    bad.write_bytes(content)
    code, _out, err = _run(
        "refresh", "--data-dir", str(refreshed.data_dir), "--list", str(bad), api=seed_arxiv
    )
    assert code == 2
    assert "bad-list.md" in err and message in err
    assert "Traceback" not in err
    assert err.count("\n") == 1  # one line
    assert _snapshot(refreshed.data_dir) == before
    assert seed_arxiv.requests == []


def test_non_http_list_url_is_refused(refreshed: Settings) -> None:
    code, _, err = _run(
        "refresh", "--data-dir", str(refreshed.data_dir), "--list", "ftp://example.org/list.md"
    )
    assert code == 2 and "only http(s)" in err


def test_malformed_arxiv_links_are_kept_as_invalid_entries(
    settings: Settings, seed_arxiv: FakeArxiv
) -> None:
    listing = settings.raw_dir / "odd.md"
    listing.write_text(
        "# Odd\n"
        "* Too Many Digits. arXiv 2024, [[pdf]](https://arxiv.org/abs/2401.123456789)\n"
        "* Not An Id. arXiv 2024, [[pdf]](https://arxiv.org/abs/abc)\n"
        "* ImageReward. NeurIPS 2023, [[pdf]](https://arxiv.org/pdf/2304.05977)\n",
        encoding="utf-8",
    )
    run_refresh(
        Settings(
            data_dir=settings.data_dir, lists=(str(listing),), api_url=settings.api_url, delay=0
        )
    )
    entries = pq.read_table(settings.enriched_dir / "entries.parquet").to_pylist()
    assert [e["status"] for e in entries] == ["invalid", "invalid", "enriched"]
    assert [e["arxiv_id"] for e in entries] == [None, None, "2304.05977"]
    assert pq.read_table(settings.enriched_dir / "papers.parquet").num_rows == 1
    [request] = seed_arxiv.id_requests
    assert request.id_list == ["2304.05977"]


# -- locks, signals, exit codes --------------------------------------------------------------


def test_a_second_run_exits_75_and_touches_nothing(refreshed: Settings, seed_arxiv) -> None:
    before = _snapshot(refreshed.data_dir)
    with data_lock(refreshed):
        code, _, err = _run("refresh", "--data-dir", str(refreshed.data_dir), api=seed_arxiv)
    assert code == 75
    assert "another run holds" in err and "Traceback" not in err
    assert _snapshot(refreshed.data_dir) == before
    assert seed_arxiv.requests == []


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT, signal.SIGKILL])
def test_a_killed_run_leaves_the_previous_tables(
    refreshed: Settings, seed_arxiv: FakeArxiv, sig: signal.Signals
) -> None:
    before = _snapshot(refreshed.data_dir)
    seed_arxiv.latency(5.0)  # the run is stuck in its request when the signal comes
    process = _cli(
        "refresh", "--data-dir", str(refreshed.data_dir), "--max-age", "0", api=seed_arxiv
    )
    _wait_for_request(seed_arxiv)
    process.send_signal(sig)
    _, err = process.communicate(timeout=60)
    if sig == signal.SIGKILL:
        assert process.returncode == -signal.SIGKILL
    else:
        assert process.returncode == 130
        assert "interrupted: the previous tables were kept" in err
    assert _snapshot(refreshed.data_dir) == before
    assert pq.read_table(refreshed.enriched_dir / "papers.parquet").num_rows == 92
    # The lock died with the process: the next run goes ahead.
    seed_arxiv.latency(None)
    code, _, _ = _run("refresh", "--data-dir", str(refreshed.data_dir), api=seed_arxiv)
    assert code == 0


def _wait_for_request(fake: FakeArxiv, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not fake.requests and time.monotonic() < deadline:
        time.sleep(0.05)
    assert fake.requests, "the run never reached the server"


def test_arxiv_down_exits_1_with_one_line(refreshed: Settings, seed_arxiv: FakeArxiv) -> None:
    before = _snapshot(refreshed.data_dir)
    seed_arxiv.fail_next(100, status=503, retry_after=1)
    code, _, err = _run(
        "refresh",
        "--data-dir",
        str(refreshed.data_dir),
        "--max-age",
        "0",
        "--quiet",
        "--retry-budget",
        "3",
        api=seed_arxiv,
    )
    assert code == 1
    [line] = [x for x in err.splitlines() if x.startswith("error:")]
    assert "HTTP 503" in line and "previous tables were kept" in line
    after = _snapshot(refreshed.data_dir)
    assert {k: v for k, v in after.items() if k != "runs.parquet"} == {
        k: v for k, v in before.items() if k != "runs.parquet"
    }


# -- progress, status, cron ----------------------------------------------------------------


def test_progress_is_plain_log_lines_off_a_terminal(settings: Settings, seed_arxiv) -> None:
    code, out, err = _run(
        "refresh", "--data-dir", str(settings.data_dir), "--delay", "0", api=seed_arxiv
    )
    assert code == 0
    assert "INFO fetched 92/92 ids" in err
    assert "\r" not in err  # no progress bar escapes in cron mail
    assert out.startswith("refresh: 97 entries")
    # Nothing to do: no request, and one summary line.
    code, out, err = _run("refresh", "--data-dir", str(settings.data_dir), api=seed_arxiv)
    assert code == 0 and err == ""
    [line] = out.splitlines()
    assert "0 fetched" in line and "0 request(s)" in line
    code, out, err = _run(
        "refresh", "--data-dir", str(settings.data_dir), "--quiet", api=seed_arxiv
    )
    assert code == 0 and out == "" and err == ""


def test_status_command(refreshed: Settings) -> None:
    code, out, _ = _run("status", "--data-dir", str(refreshed.data_dir))
    assert code == 0
    assert "papers.parquet" in out and "Last runs (1 in all)" in out


def test_cron_script_is_quiet_on_success_and_loud_on_failure(
    settings: Settings, seed_arxiv: FakeArxiv
) -> None:
    env = {
        **os.environ,
        "DATA_DIR": str(settings.data_dir),
        "PYTHON": sys.executable,
        "ARXIV_API_URL": seed_arxiv.url,
    }
    script = REPO / "scripts" / "cron_refresh.sh"
    done = subprocess.run(
        [str(script), "--delay", "0"], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0 and done.stdout == ""
    [log] = (settings.data_dir / "logs").glob("refresh-*.log")
    assert "refresh: 97 entries" in log.read_text()
    # The report and exports are kept in their stable home too.
    assert (settings.data_dir / "site" / "index.html").is_file()
    assert (settings.data_dir / "export" / "papers.bib").is_file()

    seed_arxiv.fail_next(100, status=503, retry_after=1)
    done = subprocess.run(
        [str(script), "--delay", "0", "--max-age", "0", "--retry-budget", "3"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1
    assert "failed (exit 1)" in done.stdout and "HTTP 503" in done.stdout

    # A list that cannot be read among several: the tables are refreshed, the mail says which.
    (settings.raw_dir / "broken.md").write_bytes(b"\xff\xfe not text")
    done = subprocess.run(
        [str(script), "--delay", "0"], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 3
    assert "refreshed, but a list was skipped" in done.stdout and "broken.md" in done.stdout


# -- remote lists --------------------------------------------------------------------------


@pytest.fixture
def list_server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A plain static HTTP server for list files, like raw.githubusercontent.com."""
    root = tmp_path / "www"
    root.mkdir()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))

    class Quiet(handler.func):  # type: ignore[name-defined, misc]
        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(Quiet, directory=str(root))
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", root
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_a_remote_list_is_fetched_and_its_last_good_copy_kept(
    settings: Settings, seed_arxiv: FakeArxiv, list_server: tuple[str, Path]
) -> None:
    base, root = list_server
    seed = next(settings.raw_dir.glob("*.md"))
    (root / "README.md").write_bytes(seed.read_bytes())
    remote = Settings(
        data_dir=settings.data_dir, lists=(f"{base}/README.md",), api_url=seed_arxiv.url, delay=0
    )
    report = run_refresh(remote)
    assert report.entries == 97
    entries = pq.read_table(settings.enriched_dir / "entries.parquet").to_pylist()
    assert {e["list"] for e in entries} == {f"{base}/README.md"}
    # Whether a remote list changed is known only by downloading it: never skipped.
    again = run_refresh(remote)
    assert not again.unchanged and again.entries == 97

    # Upstream disappears: the last good copy keeps the run going.
    (root / "README.md").unlink()
    report = run_refresh(
        Settings(
            data_dir=settings.data_dir,
            lists=remote.lists,
            api_url=seed_arxiv.url,
            delay=0,
            cache_ttl_hours=0,
        )
    )
    assert report.entries == 97


def test_credentials_in_a_list_url_are_stored_nowhere(
    settings: Settings, seed_arxiv: FakeArxiv, list_server: tuple[str, Path]
) -> None:
    base, root = list_server
    seed = next(settings.raw_dir.glob("*.md"))
    (root / "README.md").write_bytes(seed.read_bytes())
    secret = "s3cr3t-token-value"
    url = base.replace("http://", f"http://user:{secret}@") + f"/README.md?token={secret}"
    remote = Settings(data_dir=settings.data_dir, lists=(url,), api_url=seed_arxiv.url, delay=0)
    report = run_refresh(remote)
    assert report.entries == 97
    entries = pq.read_table(settings.enriched_dir / "entries.parquet").to_pylist()
    named = base.replace("http://", "http://REDACTED@") + "/README.md?token=REDACTED"
    assert {e["list"] for e in entries} == {named}
    for path in settings.data_dir.rglob("*"):
        assert secret not in path.name, path
        if path.is_file():  # tables, the list's copy, the parse and HTTP caches
            assert secret.encode() not in path.read_bytes(), path


def test_a_pipe_as_a_list_is_refused_at_once(
    settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    fifo = settings.data_dir / "list.md"
    os.mkfifo(fifo)
    assert main(["refresh", "--data-dir", str(settings.data_dir), "--list", str(fifo)]) == 2
    assert (
        capsys.readouterr().err.strip() == f"error: {fifo}: is not a regular file: name a list file"
    )


def test_a_version_no_table_can_hold_is_an_invalid_entry(settings: Settings) -> None:
    listed = settings.raw_dir / "big-version.md"
    listed.write_text("# L\n\n- [Some Paper](https://arxiv.org/abs/2301.00001v2147483648)\n")
    code = main(["parse", "--data-dir", str(settings.data_dir), "--list", str(listed)])
    assert code == 0
    (entry,) = pq.read_table(settings.enriched_dir / "entries.parquet").to_pylist()
    assert entry["status"] == "invalid" and entry["arxiv_version"] is None
