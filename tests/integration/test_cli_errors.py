"""What a person or cron sees when the command line or the machine is wrong: one line,
the right exit code, never a traceback, nothing left behind."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from pipeline.cli import FINDINGS_SHOWN, main
from pipeline.config import Settings
from tests.fake_arxiv import FakeArxiv, FakePaper


def _err_lines(capsys: pytest.CaptureFixture[str]) -> list[str]:
    return capsys.readouterr().err.strip().splitlines()


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["--delay", "abc"], "argument --delay: expected a number of seconds, not 'abc'"),
        (["--delay", "nan"], "argument --delay: must be 0 to 86400 seconds, not nan"),
        (["--max-age", "inf"], "argument --max-age: must be 0 to 3650 days, not inf"),
        (["--cache-ttl", "1e308"], "argument --cache-ttl: must be 0 to 87600 hours"),
        (["--batch-size", "x"], "argument --batch-size: expected a whole number, not 'x'"),
        (["--api-url", "ftp://x/api"], "argument --api-url: expected an http(s):// URL"),
        (["--api-url", "example.org/api"], "argument --api-url: expected an http(s):// URL"),
        (["--dealy", "3"], "unrecognized arguments: --dealy (did you mean --delay?) 3"),
    ],
)
def test_bad_options_get_one_line_and_exit_2(
    argv: list[str], expected: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(["refresh", "--data-dir", str(tmp_path / "d"), *argv])
    assert stopped.value.code == 2
    lines = _err_lines(capsys)
    assert len(lines) == 1, lines
    assert expected in lines[0]
    assert lines[0].endswith("--help")
    assert not (tmp_path / "d").exists()


def test_a_data_dir_that_is_a_file_is_bad_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    afile = tmp_path / "afile"
    afile.write_text("")
    assert main(["refresh", "--data-dir", str(afile)]) == 2
    assert _err_lines(capsys) == [f"error: {afile}: is not a directory: name a data directory"]


def test_a_mistyped_data_dir_is_not_created(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    wrong = tmp_path / "dta"
    assert main(["refresh", "--data-dir", str(wrong), "--delay", "0"]) == 2
    assert "no lists to read" in _err_lines(capsys)[0]
    assert not wrong.exists()


def test_a_lock_that_is_a_directory_is_one_line(
    settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    settings.lock_path.mkdir()
    code = main(["refresh", "--data-dir", str(settings.data_dir), "--offline"])
    lines = _err_lines(capsys)
    assert code == 1
    assert len(lines) == 1 and "cannot take the lock" in lines[0], lines


def test_a_directory_that_cannot_be_written_is_one_line(
    settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    settings.sets_dir.write_text("")  # where the sets go is taken by a file
    code = main(["refresh", "--data-dir", str(settings.data_dir), "--api-url", settings.api_url])
    lines = [line for line in _err_lines(capsys) if not line.startswith("INFO")]
    assert code == 1
    assert len(lines) == 1 and lines[0].startswith("error: cannot write"), lines
    assert lines[0].endswith("no tables were written")


def test_findings_past_a_screenful_are_counted_not_printed(
    tmp_path: Path, fake_arxiv: FakeArxiv, capsys: pytest.CaptureFixture[str]
) -> None:
    fake_arxiv.add(FakePaper.synthetic("2301.00001", title="One Paper Listed Many Times"))
    many = FINDINGS_SHOWN + 30
    lines = [
        f"- [One Paper Listed Many Times](https://arxiv.org/abs/2301.00001) ({i})"
        for i in range(many)
    ]
    raw = tmp_path / "data" / "raw"
    raw.mkdir(parents=True)
    (raw / "dups.md").write_text("# Dups\n\n" + "\n".join(lines) + "\n")
    argv = ["refresh", "--data-dir", str(tmp_path / "data"), "--api-url", fake_arxiv.url]
    assert main([*argv, "--delay", "0", "--no-resolve"]) == 0
    err = _err_lines(capsys)
    shown = [line for line in err if ": duplicate: " in line]
    assert len(shown) == FINDINGS_SHOWN
    assert f"... and {many - 1 - FINDINGS_SHOWN} more" in err[err.index(shown[-1]) + 1]


def test_status_into_a_closed_pipe_ends_quietly(
    refreshed_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # As `status | head -1` meets it: the reader is gone before the first line is written.
    read_end, write_end = os.pipe()
    os.close(read_end)
    with os.fdopen(write_end, "w", buffering=1) as closed_pipe:
        monkeypatch.setattr(sys, "stdout", closed_pipe)
        assert main(["status", "--data-dir", str(refreshed_dir)]) == 0
    assert capsys.readouterr().err == ""


@pytest.fixture
def refreshed_dir(settings: Settings) -> Path:
    from pipeline.refresh import run_refresh

    run_refresh(settings)
    return settings.data_dir


def test_an_unreadable_list_among_several_is_skipped_with_exit_3(
    settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    (settings.raw_dir / "broken.md").write_bytes(b"\xff\xfe not text")
    argv = ["refresh", "--data-dir", str(settings.data_dir), "--api-url", settings.api_url]
    assert main([*argv, "--delay", "0", "--quiet"]) == 3
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("warning: list skipped: ") and "broken.md" in err[0]
    (run,) = pq.read_table(settings.enriched_dir / "runs.parquet").to_pylist()
    assert (run["status"], run["exit_code"]) == ("ok", 3)
    assert pq.read_table(settings.enriched_dir / "entries.parquet").num_rows == 97
