"""Entries -> a Markdown list that the parser reads back to the same entries (tests only)."""

from __future__ import annotations

import re
from collections.abc import Iterable

from pipeline.models import ListEntry

_URL_ESCAPE_RE = re.compile(r"([<>\\])")
_ESCAPE_RE = re.compile(r"([!-/:-@\[-`{-~])")


def _escape(text: str) -> str:
    return _ESCAPE_RE.sub(r"\\\1", text)


def _escape_url(url: str) -> str:
    return "<" + _URL_ESCAPE_RE.sub(r"\\\1", url) + ">"


def render_markdown(entries: Iterable[ListEntry], title: str = "Paper list") -> str:
    """Render entries as a Markdown list that ``parse_markdown`` reads back to the same entries.

    Preserved: order, ``section``, ``title`` (non-empty), ``venue``, ``year``, ``url``,
    ``arxiv_id``, ``arxiv_version``, ``code_url`` and ``id_problem`` (derived again from the
    url). Not preserved: ``line`` (lines of the new text) and ``list`` (the name given when
    parsing). Each section is written as its full heading path, each entry as
    ``* **Title** [[pdf]](url)`` (or ``arXiv:ID`` when the list gave no link) with
    ``Venue:``, ``Year:`` and ``Code:`` sub-items.
    """
    out: list[str] = []
    section: str | None = None
    for e in entries:
        if e.section != section:
            if section is None and e.section:
                out += [f"# {_escape(title)}", ""]
            parts = e.section.split(" / ") if e.section else []
            if len(parts) > 6:
                parts = [*parts[:5], " / ".join(parts[5:])]
            out += [f"{'#' * (i + 1)} {_escape(p)}" for i, p in enumerate(parts)] or ["#"]
            out.append("")
            section = e.section
        ref = f"[[pdf]]({_escape_url(e.url)})" if e.url else ""
        if not ref and e.arxiv_id:
            ref = f"arXiv:{e.arxiv_id}" + (f"v{e.arxiv_version}" if e.arxiv_version else "")
        out.append(f"* **{_escape(e.title)}** {ref}".rstrip())
        if e.venue:
            out.append(f"  * Venue: {_escape(e.venue)}")
        if e.year is not None:
            out.append(f"  * Year: {e.year}")
        if e.code_url:
            out.append(f"  * Code: [code]({_escape_url(e.code_url)})")
    return "\n".join(out) + "\n"
