"""What the command line declares for ``fix`` and ``suggest``: their choices, defaults and
argument parsers, light on imports.

The CLI builds every command's parser on every run, a refresh with nothing to do included;
``fix.py`` and ``suggest.py`` load the venue vocabulary, the findings and Arrow (50 ms),
which only their own commands need.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum


class FixKind(StrEnum):
    """What ``fix`` edits (``--only``)."""

    ADD_LINK = "add_link"
    """An entry without an arXiv link that a title search resolved: its link added."""
    LINK_STYLE = "link_style"
    """A versioned, PDF or abstract link where the list's convention is otherwise."""
    DUPLICATE = "duplicate"
    """The second of two identical lines for one paper in one section: removed."""
    PUBLISHED = "published"
    """A listed "arXiv" venue replaced by the venue the paper was published at."""


DEFAULT_FIXES = (FixKind.ADD_LINK, FixKind.LINK_STYLE, FixKind.DUPLICATE)
"""``published`` only on request: a list may keep "arXiv" on purpose."""


def parse_fix_kinds(text: str) -> tuple[FixKind, ...]:
    names = [name.strip().lower() for name in text.split(",") if name.strip()]
    valid = [kind.value for kind in FixKind]
    unknown = [name for name in names if name not in valid]
    if unknown or not names:
        raise ValueError(
            f"unknown fix(es) {', '.join(unknown) or repr(text)}; choose from " + ", ".join(valid)
        )
    return tuple(dict.fromkeys(FixKind(name) for name in names))


MAX_REQUESTS = 3
"""Search requests per ``suggest``, whatever the window: at most ``MAX_REQUESTS *
suggest.PAGE_SIZE`` candidates, and under arXiv's rate of one request per 3 s, 9 s of waiting."""
DEFAULT_SINCE_DAYS = 30
DEFAULT_LIMIT = 20


def parse_since(text: str) -> datetime:
    """``--since YYYY-MM-DD`` -> that day's start, UTC."""
    try:
        return datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=UTC)
    except ValueError:
        raise ValueError(f"expected a date as YYYY-MM-DD, not {text!r}") from None
