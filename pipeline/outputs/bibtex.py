"""Neutral records -> BibTeX (pure): citation keys, LaTeX escaping, one entry per paper.

``@article`` / ``@inproceedings`` when the record names a journal or proceedings, ``@misc``
for a preprint; every entry carries ``eprint``, ``archivePrefix = {arXiv}`` and
``primaryClass`` so that biblatex and natbib styles can print the arXiv identifier. Citation
keys are ``<lastname><year><word>`` from the first author, the year of version 1 and the
first significant title word.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

from pipeline.outputs.citation import Citation, EntryType, citations
from pipeline.titles import escape_specials

if TYPE_CHECKING:
    from pipeline.store.read import CurrentTables

_ACCENTS = {
    "\u0300": "`",
    "\u0301": "'",
    "\u0302": "^",
    "\u0303": "~",
    "\u0304": "=",
    "\u0306": "u",
    "\u0307": ".",
    "\u0308": '"',
    "\u030a": "r",
    "\u030b": "H",
    "\u030c": "v",
    "\u0323": "d",
    "\u0327": "c",
    "\u0328": "k",
}
"""Unicode combining mark -> LaTeX accent command."""
_ABOVE = set("\u0300\u0301\u0302\u0303\u0304\u0306\u0308\u030a\u030b\u030c")
"""Accents drawn above the letter: on i and j they take the dotless \\i and \\j."""
_LETTERS = {
    "ß": r"{\ss}",
    "ø": r"{\o}",
    "Ø": r"{\O}",
    "æ": r"{\ae}",
    "Æ": r"{\AE}",
    "œ": r"{\oe}",
    "Œ": r"{\OE}",
    "ł": r"{\l}",
    "Ł": r"{\L}",
    "å": r"{\aa}",
    "Å": r"{\AA}",
    "\u0131": r"{\i}",  # dotless i
    "\u2013": "--",  # en dash
    "\u2014": "---",  # em dash
    "\u2018": "`",
    "\u2019": "'",
    "\u201c": "``",
    "\u201d": "''",
    "\u00a0": "~",
}
_SPECIAL = {
    "&": r"\&",
    "%": r"\%",
    "_": r"\_",
    "#": r"\#",
    "$": r"\$",
    "^": r"\^{}",
    "~": r"{\textasciitilde}",
    "\\": r"{\textbackslash}",
}
"""Characters LaTeX reads as syntax in running text."""
_ASCII_FOLD = {
    "ß": "ss",
    "ø": "o",
    "æ": "ae",
    "œ": "oe",
    "ł": "l",
    "đ": "d",
    "þ": "th",
    "\u0131": "i",
}
"""Letters NFKD does not split into an ASCII base letter, for citation keys."""
_STOPWORDS = frozenset(
    {
        "a", "an", "the", "on", "of", "in", "for", "to", "and", "with", "via", "from", "by",
        "at", "as", "is", "are", "towards", "toward", "do", "does", "can", "how", "what",
        "when", "why",
    }
)  # fmt: skip
"""Words skipped for the title word of a citation key, as Google Scholar's keys do."""
_SUFFIXES = frozenset({"jr", "jr.", "sr", "sr.", "ii", "iii", "iv"})
_GROUP_WORDS = re.compile(r"\b(collaboration|consortium|team|group|project)\b", re.IGNORECASE)
_LATEX_TOKEN = re.compile(r"\\(?:[A-Za-z]+|.)|[{}]|[^\\{}]", re.DOTALL)
_COMMAND = re.compile(r"\\(?:[A-Za-z]+|.)")


def _latex_char(ch: str) -> str:
    """One non-ASCII character in LaTeX, or itself when LaTeX has no ASCII spelling of it."""
    if ch in _LETTERS:
        return _LETTERS[ch]
    decomposed = unicodedata.normalize("NFD", ch)
    base, marks = decomposed[0], decomposed[1:]
    if not (base.isascii() and base.isalpha() and marks and all(m in _ACCENTS for m in marks)):
        return ch  # Greek, CJK, symbols: kept as UTF-8, which biber and bibtex8 pass through.
    body = "\\" + base if base in "ij" and marks[0] in _ABOVE else base
    for depth, mark in enumerate(marks):
        cmd = _ACCENTS[mark]
        # Letter commands (\c, \v) need a space before a bare letter; nested ones a group.
        if depth:
            body = f"\\{cmd}{{{body}}}"
        else:
            body = f"\\{cmd} {body}" if cmd.isalpha() else f"\\{cmd}{body}"
    return "{" + body + "}"


def _escape_text(text: str) -> str:
    """Running text -> LaTeX, keeping the LaTeX commands and brace groups arXiv titles carry."""
    out = []
    for token in _LATEX_TOKEN.findall(text):
        if token.startswith("\\") and len(token) > 1:
            out.append(token)  # already LaTeX: \emph, \"o, \&
        elif token in "{}":
            out.append(token)
        elif token in _SPECIAL:
            out.append(_SPECIAL[token])
        elif token.isascii():
            out.append(token)
        else:
            out.append(_latex_char(token))
    return "".join(out)


def braces_balanced(text: str) -> bool:
    """What BibTeX demands of a braced field value (it counts ``\\{`` as a brace too)."""
    depth = 0
    for ch in text:
        depth += {"{": 1, "}": -1}.get(ch, 0)
        if depth < 0:
            return False
    return depth == 0


def _split_math(text: str) -> list[tuple[bool, str]]:
    """``(is_math, segment)`` pairs; an unpaired ``$`` stays text (and gets escaped)."""
    dollars = [m.start() for m in re.finditer(r"(?<!\\)\$", text)]
    if len(dollars) % 2:
        dollars = dollars[:-1]
    parts: list[tuple[bool, str]] = []
    pos = 0
    for start, end in zip(dollars[::2], dollars[1::2], strict=True):
        parts.append((False, text[pos:start]))
        parts.append((True, text[start : end + 1]))
        pos = end + 1
    parts.append((False, text[pos:]))
    return [(is_math, seg) for is_math, seg in parts if seg]


def _needs_protection(word: str) -> bool:
    """True for acronyms and mixed case (DPO, ImageReward, GPT-4), which styles would lowercase.

    Title-case words (Learning) are left to the style, so that sentence-case styles work.
    """
    letters = [c for c in _COMMAND.sub("", word) if c.isalpha()]
    return any(c.isupper() for c in letters[1:])


def latex_title(title: str) -> str:
    """A title as a BibTeX field value: specials escaped, accents as LaTeX, capitals kept."""
    title = " ".join(title.split())
    if not braces_balanced(_COMMAND.sub("", title)):
        title = title.replace("{", "").replace("}", "")  # broken LaTeX: keep the words
    out = []
    for is_math, segment in _split_math(title):
        if is_math:
            # Braced: case changes would corrupt math. Inside $...$ only % & # are errors.
            out.append("{" + escape_specials(segment) + "}")
            continue
        for word in re.split(r"(\s+)", segment):
            escaped = _escape_text(word)
            if _needs_protection(word) and braces_balanced(escaped):
                escaped = "{" + escaped + "}"
            out.append(escaped)
    value = "".join(out)
    return (
        value if braces_balanced(value) else _escape_text(title.replace("{", "").replace("}", ""))
    )


def latex_name(name: str) -> str:
    """One author for BibTeX's ``and``-list: ``Last, Jr., First`` for suffixes, groups braced."""
    name = " ".join(name.replace("{", "").replace("}", "").split())
    words = name.split(" ")
    if _GROUP_WORDS.search(name) or " and " in f" {name.lower()} ":
        # A group name is one unit: BibTeX must not split it into first/last or at "and".
        return "{" + _escape_text(name) + "}"
    if len(words) > 2 and "," not in name and words[-1].lower() in _SUFFIXES:
        name = f"{words[-2]}, {words[-1]}, {' '.join(words[:-2])}"
    return _escape_text(name)


def _ascii_fold(text: str) -> str:
    text = "".join(_ASCII_FOLD.get(c, c) for c in text.lower())
    return "".join(c for c in unicodedata.normalize("NFKD", text) if c.isascii())


def _last_name(name: str) -> str:
    name = " ".join(name.split())
    if "," in name:
        return name.split(",")[0]
    words = [w for w in name.split(" ") if w.lower() not in _SUFFIXES]
    if not words:
        return ""
    if _GROUP_WORDS.search(name):
        return words[0]
    last = [words[-1]]
    for word in reversed(words[:-1]):  # the "von" part: van der Berg -> vanderberg
        if not word[:1].islower():
            break
        last.insert(0, word)
    return "".join(last)


_ACCENT_COMMAND = re.compile(r"\\[`'^\"~=.]|\\[cvuHdkrbt](?=\s*\{?[A-Za-z])\s*")
"""An accent command: dropped for keys so that ``Schr\\"odinger`` stays one word."""


def _first_word(title: str) -> str:
    plain = re.sub(r"\$[^$]*\$", " ", title)
    plain = _COMMAND.sub(" ", _ACCENT_COMMAND.sub("", plain))
    for word in re.split(r"[^a-z0-9]+", _ascii_fold(plain)):
        if word and word not in _STOPWORDS:
            return word
    return "untitled"


def base_key(first_author: str | None, year: int, title: str) -> str:
    """``firstauthorYEARfirstword``: lowercase ASCII letters and digits only."""
    last = re.sub(r"[^a-z0-9]", "", _ascii_fold(_last_name(first_author or "")))
    return f"{last or 'anon'}{year}{_first_word(title)}"


def _suffixes() -> Iterator[str]:
    letters = "abcdefghijklmnopqrstuvwxyz"
    yield from letters[1:]
    for first in letters:
        for second in letters:
            yield first + second


def citation_keys(papers: Sequence[Citation]) -> dict[str, str]:
    """arxiv_id -> key, unique. On a collision the paper first submitted keeps the bare key
    and later ones get ``b``, ``c``...: adding a newer paper never renames a key already
    cited, and the order does not depend on the order of the table's rows."""
    ordered = sorted(papers, key=lambda p: (p.published, p.arxiv_id))
    bases = {
        p.arxiv_id: base_key(p.authors[0] if p.authors else None, p.published.year, p.title)
        for p in ordered
    }
    taken = set(bases.values())
    keys: dict[str, str] = {}
    used: set[str] = set()
    for paper in ordered:
        base = bases[paper.arxiv_id]
        key = base
        if key in used:
            key = next(base + s for s in _suffixes() if base + s not in taken | used)
        used.add(key)
        keys[paper.arxiv_id] = key
    return keys


_BIBTEX_TYPES = {
    EntryType.ARTICLE: ("article", "journal"),
    EntryType.INPROCEEDINGS: ("inproceedings", "booktitle"),
    EntryType.PREPRINT: ("misc", None),
}
"""Entry type -> BibTeX's entry type and the field that names its container."""


def _raw(value: str) -> str:
    # DOIs and URLs are verbatim fields in biblatex: escaping would break the links.
    return value.replace("{", "%7B").replace("}", "%7D").strip()


def bibtex_entry(citation: Citation, key: str) -> str:
    """One ``@type{key, ...}`` entry; every one carries the arXiv eprint fields."""
    kind, container_field = _BIBTEX_TYPES[citation.entry_type]
    fields: dict[str, str] = {
        "author": " and ".join(latex_name(a) for a in citation.authors) or "{Anonymous}",
        "title": latex_title(citation.title),
    }
    if container_field and citation.container is not None:
        fields[container_field] = _escape_text(citation.container)
    fields |= {
        "year": str(citation.year),
        "eprint": citation.arxiv_id,
        "archivePrefix": "arXiv",
        "primaryClass": citation.primary_category,
    }
    if citation.doi:
        fields["doi"] = _raw(citation.doi)
    fields["url"] = _raw(citation.url)
    body = ",\n".join(f"  {name:<13} = {{{value}}}" for name, value in fields.items())
    return f"@{kind}{{{key},\n{body}\n}}\n"


def to_bibtex(papers: Sequence[Citation]) -> str:
    """Every paper as one BibTeX entry, ordered by citation key, after a one-line header."""
    keys = citation_keys(papers)
    ordered = sorted(papers, key=lambda c: keys[c.arxiv_id])
    texts = [bibtex_entry(c, keys[c.arxiv_id]) for c in ordered]
    header = f"% {len(texts)} papers exported by arxiv-list-pipeline from arXiv metadata.\n"
    return "\n".join([header, *texts])


def render(tables: CurrentTables) -> str:
    """The ``bibtex`` export format: the papers of ``tables``, venues from their entries."""
    return to_bibtex(citations(tables.papers.to_pylist(), tables.entries.to_pylist()))
