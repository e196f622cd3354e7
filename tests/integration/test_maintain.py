"""check, fix and suggest on a copy of the seed list with planted faults, against the fake
arXiv API (the closing note of the issue, as a test).

Planted: a link to the wrong paper, a duplicate line, an unknown id, a malformed id, an entry
out of date order, and an entry without an arXiv link that a title search finds.
"""

from __future__ import annotations

import dataclasses
import json
import re
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from pipeline.cli import main
from pipeline.config import Settings
from pipeline.errors import InputError
from pipeline.maintain.fix import run_fix
from pipeline.maintain.options import DEFAULT_FIXES
from pipeline.maintain.suggest import MAX_REQUESTS, PAGE_SIZE, run_suggest
from pipeline.schemas import SUGGESTIONS
from tests.conftest import SEED, seed_papers
from tests.fake_arxiv import FakeArxiv, FakePaper

MLLM = "Multimodal Large Language Models Make Text-to-Image Generative Models Align Better"
NOW = datetime(2025, 7, 1, tzinfo=UTC)


def id_date(arxiv_id: str) -> datetime:
    """A first-version date that grows with the id, as arXiv's do."""
    yymm, number = arxiv_id.split(".")
    month = datetime(2000 + int(yymm[:2]), int(yymm[2:]), 1, tzinfo=UTC)
    return month + timedelta(minutes=int(number))


def planted() -> tuple[str, dict[str, int]]:
    """The seed list with the faults planted, and the line (1-based) of each."""
    lines = SEED.read_text(encoding="utf-8").split("\n")

    def at(text: str) -> int:
        return next(i for i, line in enumerate(lines) if text in line)

    wrong = at("2212.09611")
    lines[wrong] = lines[wrong].replace("2212.09611", "2403.00001")
    unknown = at("2404.13899")
    lines[unknown] = lines[unknown].replace("2404.13899", "2409.99999")
    malformed = at("2405.18881")
    lines[malformed] = lines[malformed].replace("2405.18881", "2405.1888")
    first = at("2402.16359")
    lines.insert(first + 1, lines[first])
    moved = lines.pop(at("2501.03271"))  # newest of the (date-sorted) DPO section, to its top
    lines.insert(at("2305.18290"), moved)
    text = "\n".join(lines)
    lines = text.split("\n")
    where = {
        "title_mismatch": at("2403.00001"),
        "not_found": at("2409.99999"),
        "invalid": at("2405.1888"),
        "duplicate": at("2402.16359") + 1,
        "order": at("2501.03271"),
        "add_link": at(MLLM),
    }
    return text, {kind: index + 1 for kind, index in where.items()}


@pytest.fixture
def fake() -> Iterator[FakeArxiv]:
    with FakeArxiv() as server:
        dated = [
            dataclasses.replace(p, published=id_date(p.arxiv_id), updated=id_date(p.arxiv_id))
            for p in seed_papers()
        ]
        server.add(*dated)
        server.add(FakePaper.synthetic("2403.00001", title="Sparse Coding for Galaxy Spectra"))
        server.add(FakePaper.synthetic("2410.00005", title=MLLM))
        yield server
    assert server.errors == []


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, dict[str, int]]:
    text, where = planted()
    (tmp_path / "README.md").write_bytes(text.encode("utf-8"))
    monkeypatch.chdir(tmp_path)
    return tmp_path / "README.md", where


def cli(fake: FakeArxiv, *args: str) -> list[str]:
    return [
        *args,
        "--list",
        "README.md",
        "--data-dir",
        "data",
        "--delay",
        "0",
        "--api-url",
        fake.url,
        "--quiet",
    ]


def findings(output: str) -> list[tuple[int, str]]:
    return [(int(m[1]), m[2]) for m in re.finditer(r"^README\.md:(\d+): (\w+): ", output, re.M)]


# The message of a workflow command: no raw %, CR or LF. A property value: none of those nor
# "," or ":" (the runner splits on them), so only the escapes the runner reverses appear.
_COMMAND = re.compile(
    r"^::(error|warning) file=(?P<file>[^,:%\r\n]*(?:%(?:25|0D|0A|3A|2C)[^,:%\r\n]*)*),"
    r"line=(?P<line>\d+),title=(?P<title>[^,:%\r\n]*(?:%(?:25|0D|0A|3A|2C)[^,:%\r\n]*)*)"
    r"::(?P<message>[^%\r\n]*(?:%(?:25|0D|0A)[^%\r\n]*)*)$"
)


def test_check_fix_check_on_planted_faults(
    fake: FakeArxiv, repo: tuple[Path, dict[str, int]], capsys: pytest.CaptureFixture[str]
) -> None:
    path, where = repo
    assert main(cli(fake, "check")) == 1
    found = findings(capsys.readouterr().out)
    for kind in ("title_mismatch", "not_found", "invalid", "duplicate", "order"):
        assert (where[kind], kind) in found, kind
    # The unlinked entry is found by title: nothing to report, something to fix.
    assert not [kind for line, kind in found if line == where["add_link"]]

    assert main(cli(fake, "check", "--format", "github")) == 1
    commands = capsys.readouterr().out.splitlines()
    assert commands and all(_COMMAND.match(line) for line in commands), commands
    errors = {(int(m["line"]), m["title"]) for m in map(_COMMAND.match, commands) if m}
    assert (where["duplicate"], "arxiv-list duplicate") in errors
    assert all(m["file"] == "README.md" for m in map(_COMMAND.match, commands) if m)

    before = path.read_bytes()
    assert main(cli(fake, "fix", "--dry-run")) == 0
    diff = capsys.readouterr().out
    assert path.read_bytes() == before  # a dry run writes nothing
    assert main(cli(fake, "fix")) == 0
    reported = {
        int(m[1]) for m in re.finditer(r"^README\.md:(\d+): ", capsys.readouterr().out, re.M)
    }
    assert {where["duplicate"], where["add_link"]} <= reported
    after = path.read_bytes()
    old, new = before.decode().split("\n"), after.decode().split("\n")
    # Only reported lines changed: the removed duplicate, and lines edited in place.
    removed = where["duplicate"]
    assert new == [
        *[new[i] if i + 1 in reported else line for i, line in enumerate(old[: removed - 1])],
        *[
            new[i - 1] if i + 1 in reported else line
            for i, line in enumerate(old[removed:], start=removed)
        ],
    ]
    changed = {i + 1 for i, line in enumerate(old[: removed - 1]) if new[i] != line}
    changed |= {i + 1 for i in range(removed, len(old)) if new[i - 1] != old[i]}
    assert changed | {removed} == reported
    assert diff.count("\n-") == len(reported)  # the dry run showed the same edits
    assert "https://arxiv.org/pdf/2410.00005" in new[where["add_link"] - 2]

    assert main(cli(fake, "check", "--format", "json")) == 1
    document = json.loads(capsys.readouterr().out)
    left = {f["kind"] for f in document["findings"] if f["failing"]}
    # What needs a human: the wrong link, the unknown and malformed ids, and the paper
    # listed in two sections (not an exact duplicate).
    assert left == {"title_mismatch", "not_found", "invalid", "duplicate"}
    [duplicate] = [f for f in document["findings"] if f["kind"] == "duplicate"]
    assert "section" in duplicate["detail"]
    assert document["version"] == 1 and document["exit_code"] == 1


def test_warm_check_asks_arxiv_nothing(
    fake: FakeArxiv, repo: tuple[Path, dict[str, int]], capsys: pytest.CaptureFixture[str]
) -> None:
    path, where = repo
    lines = path.read_text(encoding="utf-8").split("\n")
    del lines[where["not_found"] - 1]  # an unknown id is asked again on every run, by design
    path.write_text("\n".join(lines), encoding="utf-8")
    main(cli(fake, "check"))
    cold = len(fake.requests)
    assert cold >= 1
    assert main(cli(fake, "check", "--fail-on", "none")) == 0
    assert len(fake.requests) == cold
    # A CI job with only the cache restored (no tables yet) asks nothing either.
    Path("data/enriched").unlink()  # the link to the current table set
    shutil.rmtree("data/.sets")
    assert main(cli(fake, "check")) == 1
    assert len(fake.requests) == cold
    capsys.readouterr()


def test_fix_refuses_a_list_changed_since_it_was_read(
    fake: FakeArxiv, repo: tuple[Path, dict[str, int]]
) -> None:
    path, _ = repo
    by_hand = path.read_bytes() + b"* Added by hand meanwhile. arXiv 2025\n"

    def save_meanwhile(done: int, total: int) -> None:
        path.write_bytes(by_hand)  # the maintainer saves the file while fix runs

    settings = Settings(data_dir=Path("data"), lists=("README.md",), api_url=fake.url, delay=0)
    with pytest.raises(InputError, match="changed while fix was reading it"):
        run_fix(settings, DEFAULT_FIXES, dry_run=False, progress=save_meanwhile)
    assert path.read_bytes() == by_hand


def test_suggest_is_bounded_ranked_and_in_the_list_style(
    fake: FakeArxiv, repo: tuple[Path, dict[str, int]]
) -> None:
    window = NOW - timedelta(days=30)
    on_topic = "Preference alignment of text-to-image diffusion models with human feedback"
    off_topic = "Galaxy spectra of quasars in the early universe"
    many = [
        FakePaper.synthetic(
            f"2506.{k:05d}",
            title=on_topic if k % 50 == 0 else off_topic,
            abstract=(
                "We fine-tune diffusion models with reward models of human preference."
                if k % 50 == 0
                else "We measure redshifts of quasar spectra with a telescope."
            ),
            published=window + timedelta(minutes=k),
            primary_category="cs.CV",
            categories=["cs.CV", "cs.LG"],
        )
        for k in range(1, 1000)
    ]
    fake.add(*many)
    settings = Settings(data_dir=Path("data"), lists=("README.md",), api_url=fake.url, delay=0)
    fake.clear_log()
    found = run_suggest(settings, window, 5, NOW)
    searches = fake.search_requests[-found.requests :]
    assert found.requests == MAX_REQUESTS == len(searches)  # 999 in the window: capped
    assert found.candidates == MAX_REQUESTS * PAGE_SIZE
    for request in searches:
        assert "submittedDate:[202506010000 TO 202507010000]" in request.search_query
        assert "cat:cs.LG" in request.search_query  # the seed papers' most common
        assert request.params["sortBy"] == "submittedDate"
    table = pq.read_table(found.parquet)
    assert table.schema.equals(SUGGESTIONS, check_metadata=False)
    rows = table.to_pylist()
    assert [r["title"] for r in rows[:5]] == [on_topic] * 5
    assert all(r["score"] > 0 and r["closest_arxiv_id"] for r in rows)
    markdown = found.markdown.read_text(encoding="utf-8")
    first = rows[0]["arxiv_id"]
    # The seed's own style: "* Title. arXiv YEAR, [[pdf]](https://arxiv.org/pdf/ID)".
    assert f"* {on_topic}. arXiv 2025, [[pdf]](https://arxiv.org/pdf/{first})\n" in markdown
    assert "<!-- score" in markdown
    listed = {p.arxiv_id for p in seed_papers()}
    assert not listed & {r["arxiv_id"] for r in rows}
