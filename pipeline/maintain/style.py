"""A list's own conventions, read from its lines: bullet, arXiv link form, entry layout (pure).

``fix`` writes links the way the list already does; ``suggest`` writes new entries the way
the list already does. Both learn it here from the entries whose line they understand: a
list item whose line holds the entry's title and link as the entries table gives them.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pipeline.venues import ARXIV_VENUE, is_preprint

ITEM = re.compile(r"^(?P<indent>[ \t]*)(?P<bullet>[*+-]|\d{1,9}[.)])[ \t]+(?P<body>.*)$")
"""A one-line list item; table rows and HTML are lines this package does not edit."""
ARXIV_URL = re.compile(
    r"^(?P<prefix>https?://(?:www\.)?arxiv\.org/)(?P<form>abs|pdf)/"
    r"(?P<id>[^\s?#]+?)(?:v(?P<v>\d+))?(?P<suffix>\.pdf)?/?$",
    re.IGNORECASE,
)
_SEPARATOR = re.compile("[,;|\u2013-]?[ \t]*$")
"""What stands between an entry's text and a trailing link: a comma, dash or bar, spaces."""
MAJORITY = 0.75
"""A convention is the list's when this share of its arXiv links follows it; below that
the list has none, and ``fix`` leaves its links alone."""


def plain(text: str) -> str:
    """Text compared without Markdown emphasis, escapes, case or spacing."""
    return " ".join(re.sub(r"[*_`\\]", "", text).casefold().split())


def markdown_link(url: str, line: str) -> re.Match[str] | None:
    """The Markdown link ``[label](url)`` in ``line`` whose target is ``url``."""
    pattern = r"\[(?P<label>(?:[^\[\]]|\[[^\]]*\])*)\]\(<?" + re.escape(url) + r">?\)"
    return re.search(pattern, line)


@dataclass(frozen=True)
class LinkForm:
    """How the list writes an arXiv link."""

    prefix: str
    """``https://arxiv.org/``."""
    form: str
    """``abs`` or ``pdf``."""
    suffix: str
    """``.pdf`` or nothing."""
    versioned: bool
    """Links name a version (``v2``)."""

    def url(self, arxiv_id: str, version: int | None = None) -> str:
        named = f"v{version}" if self.versioned and version else ""
        return f"{self.prefix}{self.form}/{arxiv_id}{named}{self.suffix}"


@dataclass(frozen=True)
class ListStyle:
    """A list's conventions, each None where the list has none."""

    bullet: str
    link: LinkForm | None
    """The arXiv link form most of its links use (``MAJORITY``)."""
    label: str | None
    """The label of its arXiv links (``[pdf]``, ``arXiv``), or None when the title is the link."""
    separator: str
    """What stands before a trailing link (``, `` in ``NeurIPS 2023, [[pdf]](...)``)."""
    template: str | None
    """An entry line of the list with ``{title}``, ``{url}``, ``{year}`` in place of its own."""


def understood(row: Mapping[str, Any], line: str) -> bool:
    """Whether ``line`` is a one-line list item holding the entry's listed title."""
    title = row["title"]
    return ITEM.match(line) is not None and bool(title) and plain(title) in plain(line)


def detect_style(rows: Sequence[Mapping[str, Any]], lines: Sequence[str]) -> ListStyle:
    """The conventions of one list: ``rows`` are its entries (entries-table rows), ``lines``
    its text split into lines without their endings."""
    bullets: Counter[str] = Counter()
    forms: Counter[LinkForm] = Counter()
    labels: Counter[str | None] = Counter()
    separators: Counter[str] = Counter()
    templates: Counter[str] = Counter()
    for row in rows:
        line = lines[row["line"] - 1] if 0 < row["line"] <= len(lines) else ""
        item = ITEM.match(line)
        if item is None:
            continue
        bullets[item["bullet"] if not item["bullet"][0].isdigit() else "1."] += 1
        url = row["url"] or ""
        parts = ARXIV_URL.match(url)
        link = markdown_link(url, line) if parts else None
        if parts is None or link is None or not understood(row, line):
            continue
        forms[_form(parts)] += 1
        titled = plain(link["label"]) == plain(row["title"])
        labels[None if titled else link["label"]] += 1
        separators[_SEPARATOR.search(line[: link.start()]).group()] += 1  # type: ignore[union-attr]
        if not titled and not row.get("code_url"):
            template = _template(row, line, link)
            if template is not None:
                templates[template] += 1
    return ListStyle(
        bullet=bullets.most_common(1)[0][0] if bullets else "*",
        link=_majority(forms),
        label=labels.most_common(1)[0][0] if labels else "arXiv",
        separator=separators.most_common(1)[0][0] if separators else " ",
        template=templates.most_common(1)[0][0] if templates else None,
    )


def _form(parts: re.Match[str]) -> LinkForm:
    return LinkForm(
        prefix=parts["prefix"].lower().replace("://www.", "://"),
        form=parts["form"].lower(),
        suffix=parts["suffix"] or "",
        versioned=parts["v"] is not None,
    )


def link_form(url: str) -> LinkForm | None:
    parts = ARXIV_URL.match(url)
    return _form(parts) if parts else None


def _majority(forms: Counter[LinkForm]) -> LinkForm | None:
    total = sum(forms.values())
    if not total:
        return None
    by_shape: Counter[tuple[str, bool]] = Counter()
    for form, n in forms.items():
        by_shape[(form.form, form.versioned)] += n
    ((shape, n),) = by_shape.most_common(1)
    if n / total < MAJORITY:
        return None
    return max((f for f in forms if (f.form, f.versioned) == shape), key=lambda f: forms[f])


def _template(row: Mapping[str, Any], line: str, link: re.Match[str]) -> str | None:
    """The line with its title, link target and year as placeholders; None when the title
    is not there as listed, or the line holds other links (authors, code) a new entry
    would not share."""
    start = line.find(row["title"])
    if start < 0 or line.count("](") != 1:
        return None
    text = (
        line[:start]
        + "\0title\0"
        + line[start + len(row["title"]) : link.start()]
        + f"[{link['label']}](\0url\0)"
        + line[link.end() :]
    )
    venue = row.get("venue")
    if venue and not is_preprint(venue):
        # New entries are preprints: the layout is the list's, the venue arXiv's.
        if text.count(venue) != 1:
            return None
        text = text.replace(venue, ARXIV_VENUE)
    if row["year"] is not None:
        text = text.replace(str(row["year"]), "\0year\0", 1)
    text = text.replace("{", "{{").replace("}", "}}")
    return (
        text.replace("\0title\0", "{title}")
        .replace("\0url\0", "{url}")
        .replace("\0year\0", "{year}")
    )
