"""Titles as arXiv and the lists write them -> text (pure).

arXiv keeps titles as their authors typed them: some hold LaTeX (``Schr\\"odinger``,
``$\\alpha$``), and most of the rest are plain text in which ``%``, ``&`` and ``#`` are just
characters. This module owns that knowledge for every reader of a title: the title search
(``resolve``), the report, and the BibTeX export's math segments.
"""

from __future__ import annotations

import re

from pylatexenc.latex2text import LatexNodes2Text

LATEX_SPECIALS = re.compile(r"(?<!\\)([%&#])")
"""``%``, ``&`` and ``#`` not yet escaped: text in a title, but syntax to LaTeX, where ``%``
would even comment out the rest of the title."""

_LATEX = LatexNodes2Text(math_mode="text", strict_latex_spaces=True)


def escape_specials(text: str) -> str:
    """``text`` with every unescaped ``%``, ``&`` and ``#`` escaped for LaTeX."""
    return LATEX_SPECIALS.sub(r"\\\1", text)


def holds_latex(text: str) -> bool:
    """True when ``text`` has a command or a pair of dollars, the only LaTeX titles carry."""
    return "\\" in text or text.count("$") >= 2


def latex_to_text(text: str) -> str:
    """LaTeX -> Unicode text (``Schr\\"odinger`` -> Schrödinger, ``$\\alpha$`` -> the letter).

    Only text that holds LaTeX is converted, so a plain title comes back unchanged; its bare
    ``%``, ``&`` and ``#`` are escaped first (see ``LATEX_SPECIALS``). Text the decoder
    cannot read comes back as it is.
    """
    decoded = _decode(text) if holds_latex(text) else None
    return text if decoded is None else decoded


def display_title(title: str) -> str:
    """A title as readers see it: LaTeX decoded, runs of whitespace as one space.

    A title the decoder cannot read, or that decodes to nothing, is shown as it is.
    """
    decoded = _decode(title) if holds_latex(title) else None
    if decoded is None:
        return title
    return " ".join(decoded.split()) or title


def _decode(text: str) -> str | None:
    try:
        return str(_LATEX.latex_to_text(escape_specials(text)))
    except Exception:  # the decoder's errors are not one documented type
        return None
