"""The fake arXiv API in its own process, loaded with a bench corpus.

Run by ``bench/run.py`` (``python -m bench.serve_fake --corpus FILE`` from the repository
root) so that the fake's own CPU (building papers, rendering Atom) never counts against the
wall time of the client being measured. It prints one JSON line with its URL, then obeys
one command per line on stdin and answers each with one JSON line:

    stats            requests since the last ``clear`` (all, id_list, ids asked, statuses)
    clear            forget the request log
    latency SECONDS  sleep this long before every answer
    quit             stop (end of stdin does too)

The corpus file has one paper per line: ``arxiv_id<TAB>title``.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from tests import fake_arxiv
from tests.fake_arxiv import FakeArxiv, FakePaper

# fake_arxiv renders every entry from scratch on every request (~0.05 ms of textwrap and
# escaping each); at 2000 entries a page that is server time the client waits for, and it
# would be charged to the pipeline at zero latency. The entries are pure functions of the
# paper, so the bench renders each once, up front, and serves the stored text.
_uncached_render_entry = fake_arxiv._render_entry
_rendered: dict[tuple[str, int, bool], str] = {}


def _cached_render_entry(paper: FakePaper, wrap: bool) -> str:
    key = (paper.arxiv_id, paper.version, wrap)
    text = _rendered.get(key)
    if text is None:
        text = _rendered[key] = _uncached_render_entry(paper, wrap)
    return text


class BenchArxiv(FakeArxiv):
    """FakeArxiv whose entries are rendered once, when the papers are added."""

    def __init__(self) -> None:
        # wrap_text=False: the 2025+ API sends one line per paragraph, as arXiv does today.
        super().__init__(wrap_text=False)
        fake_arxiv._render_entry = _cached_render_entry

    def add(self, *papers: FakePaper) -> None:
        super().add(*papers)
        for paper in papers:
            _cached_render_entry(paper, self.wrap_text)

    def stats(self) -> dict[str, Any]:
        requests = self.requests
        id_requests = [r for r in requests if r.id_list]
        return {
            "requests": len(requests),
            "id_requests": len(id_requests),
            "ids_asked": sum(len(r.id_list) for r in id_requests),
            "max_ids_per_request": max((len(r.id_list) for r in id_requests), default=0),
            "methods": dict(Counter(r.method for r in requests)),
            "statuses": {str(k): v for k, v in Counter(r.status for r in requests).items()},
        }


def read_corpus(path: Path) -> list[FakePaper]:
    papers = []
    for line in path.read_text(encoding="utf-8").splitlines():
        arxiv_id, _, title = line.partition("\t")
        papers.append(FakePaper.synthetic(arxiv_id, title=title))
    return papers


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, required=True, help="arxiv_id<TAB>title lines")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds before each answer")
    args = parser.parse_args(argv)

    fake = BenchArxiv()
    fake.add(*read_corpus(args.corpus))
    fake.latency(args.latency)
    with fake:
        _reply({"url": fake.url, "papers": len(fake.papers)})
        for line in sys.stdin:
            command, _, value = line.strip().partition(" ")
            if command == "stats":
                _reply(fake.stats())
            elif command == "clear":
                fake.clear_log()
                _reply({"ok": True})
            elif command == "latency":
                fake.latency(float(value))
                _reply({"ok": True})
            elif command == "quit":
                break
            else:
                _reply({"error": f"unknown command {command!r}"})
        if fake.errors:
            print("\n".join(fake.errors), file=sys.stderr)
            return 1
    return 0


def _reply(payload: dict[str, Any]) -> None:
    print(json.dumps(payload), flush=True)


if __name__ == "__main__":
    sys.exit(main())
