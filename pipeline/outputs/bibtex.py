"""Neutral records -> BibTeX (pure): citation keys, LaTeX escaping, one entry per paper.

``@article`` / ``@inproceedings`` when the record names a journal or proceedings, ``@misc``
for a preprint; every entry carries ``eprint``, ``archivePrefix = {arXiv}`` and
``primaryClass`` so that biblatex styles can print the arXiv identifier, and a preprint says
``arXiv:ID`` in ``howpublished`` for natbib's styles, which ignore ``eprint``. Citation keys
are ``<familyname><year><word>`` from the first author, the year of version 1 (the ``year``
field's) and the first significant title word. Text goes through pylatexenc, so that what
pdflatex, BibTeX, biber and pandoc read is the text arXiv gave; letters of other scripts
(CJK, Cyrillic) are transliterated with text-unidecode, as pdflatex cannot set them.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

from pylatexenc.latexencode import (
    RULE_DICT,
    UnicodeToLatexConversionRule,
    UnicodeToLatexEncoder,
)
from text_unidecode import unidecode

from pipeline.outputs.citation import Citation, EntryType, citations, split_name
from pipeline.outputs.formats import ExportOptions
from pipeline.titles import escape_specials

if TYPE_CHECKING:
    from pipeline.store.read import CurrentTables

_OVERRIDES = {
    **{"í": r"\'i", "ì": r"\`i", "î": r"\^i", "ï": r"\"i", "ĩ": r"\~i", "ī": r"\=i"},
    # pylatexenc's \DJ and \dj exist only in the T1 font encoding: pdflatex's default
    # (OT1) stops on them. Serbian and Croatian write Đ as Dj where it is unavailable.
    **{"Đ": "Dj", "đ": "dj"},
}
"""Letters spelt otherwise than pylatexenc does. Accented i as ``\\'i``, not ``\\'\\i``:
LaTeX draws both alike today, and pandoc reads ``\\'\\i`` as a dotless i plus an accent."""
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
"""Unicode combining mark -> LaTeX accent command, for letters pylatexenc has no rule for
(Vietnamese ``ọ``, ``ầ``: a base letter and one or two marks)."""
_STOPWORDS = frozenset(
    {
        "a", "an", "the", "on", "of", "in", "for", "to", "and", "with", "via", "from", "by",
        "at", "as", "is", "are", "towards", "toward", "do", "does", "can", "how", "what",
        "when", "why",
    }
)  # fmt: skip
"""Words skipped for the title word of a citation key, as Google Scholar's keys do."""
_LATEX_TOKEN = re.compile(r"\\(?:[A-Za-z]+|.)|[{}]|[^\\{}]+", re.DOTALL)
_COMMAND = re.compile(r"\\(?:[A-Za-z]+|.)")
_NON_LATIN_RUN = re.compile(r"[^\x00-\u024f\u0370-\u03ff\u1e00-\u1eff\u2000-\u2bff\s]+")
"""Runs of letters of scripts other than Latin and Greek (CJK, Cyrillic, Arabic...), which
pdflatex cannot set without extra packages: they are transliterated."""


def _accented(ch: str) -> str:
    """A Latin letter with combining marks as nested LaTeX accents; else a transliteration."""
    decomposed = unicodedata.normalize("NFD", ch)
    base, marks = decomposed[0], decomposed[1:]
    if not (base.isascii() and base.isalpha() and marks and all(m in _ACCENTS for m in marks)):
        return str(unidecode(ch))  # a symbol pylatexenc does not know: its ASCII spelling
    body = base
    for depth, mark in enumerate(marks):
        cmd = _ACCENTS[mark]
        # Letter commands (\\c, \\v) need a space before a bare letter; nested ones a group.
        if depth:
            body = f"\\{cmd}{{{body}}}"
        else:
            body = f"\\{cmd} {body}" if cmd.isalpha() else f"\\{cmd}{body}"
    return "{" + body + "}"  # braced: BibTeX then treats it as one letter


_ENCODER = UnicodeToLatexEncoder(
    conversion_rules=[
        UnicodeToLatexConversionRule(RULE_DICT, {ord(k): v for k, v in _OVERRIDES.items()}),
        "defaults",
    ],
    non_ascii_only=False,
    replacement_latex_protection="braces-all",
    unknown_char_policy=_accented,
    unknown_char_warning=False,
)


def transliterate(text: str) -> str:
    """Runs of non-Latin, non-Greek letters in ASCII (``王伟`` -> ``Wang Wei``), the rest as is."""
    return _NON_LATIN_RUN.sub(lambda m: unidecode(m.group()).strip(), text)


def _escape_plain(text: str) -> str:
    """Text without LaTeX -> LaTeX that pdflatex sets: specials escaped, accents and Greek
    as commands (pylatexenc), other scripts transliterated."""
    return str(_ENCODER.unicode_to_latex(transliterate(text)))


def _escape_text(text: str) -> str:
    """Running text -> LaTeX, keeping the LaTeX commands and brace groups arXiv titles carry."""
    out = []
    for token in _LATEX_TOKEN.findall(text):
        if (token.startswith("\\") and len(token) > 1) or token in "{}":
            out.append(token)  # already LaTeX: \\emph, \\"o, \\&, or a group
        else:
            out.append(_escape_plain(token))
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
    """One author for BibTeX's ``and``-list: ``Last, Jr., First`` for suffixes, ``Last,
    First`` for a name written family first (``王伟`` -> ``Wang, Wei``), groups braced."""
    name = " ".join(name.replace("{", "").replace("}", "").split())
    parts = split_name(name)
    if parts.literal:
        # A group name is one unit: BibTeX must not split it into first/last or at "and".
        return "{" + _escape_text(name) + "}"
    if parts.suffix:
        return f"{_escape_text(parts.family)}, {parts.suffix}, {_escape_text(parts.given)}"
    if parts.given and name.startswith(parts.family):
        return f"{_escape_text(parts.family)}, {_escape_text(parts.given)}"
    return _escape_text(name)


def _ascii_fold(text: str) -> str:
    return str(unidecode(text)).lower()


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
    """``familynameYEARfirstword``: lowercase ASCII letters and digits only; names in other
    scripts transliterated (``王伟`` -> ``wang``)."""
    family = split_name(first_author).family if first_author else ""
    last = re.sub(r"[^a-z0-9]", "", _ascii_fold(family))
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
    cited, and the order does not depend on the order of the table's rows. The key's year
    is the record's ``year``, so the two never disagree."""
    ordered = sorted(papers, key=lambda p: (p.published, p.arxiv_id))
    bases = {
        p.arxiv_id: base_key(p.authors[0] if p.authors else None, p.year, p.title) for p in ordered
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


def bibtex_entry(citation: Citation, key: str, options: ExportOptions | None = None) -> str:
    """One ``@type{key, ...}`` entry; every one carries the arXiv eprint fields, a DOI and
    an unversioned https URL. A preprint names its arXiv id in ``howpublished`` too, which
    natbib's styles print (they ignore ``eprint``)."""
    options = options or ExportOptions()
    kind, container_field = _BIBTEX_TYPES[citation.entry_type]
    fields: dict[str, str] = {
        "author": " and ".join(latex_name(a) for a in citation.authors) or "{Anonymous}",
        "title": latex_title(citation.title),
    }
    if container_field and citation.container is not None:
        fields[container_field] = _escape_text(citation.container)
    if citation.entry_type == EntryType.PREPRINT:
        fields["howpublished"] = _escape_plain(f"{citation.eprint} [{citation.primary_category}]")
    fields |= {
        "year": str(citation.year),
        "eprint": citation.arxiv_id,
        "archivePrefix": "arXiv",
        "primaryClass": citation.primary_category,
        "doi": _raw(citation.doi),
        "url": _raw(citation.url),
    }
    if options.abstract and citation.abstract:
        fields["abstract"] = _escape_text(" ".join(citation.abstract.split()))
    if options.keywords and citation.sections:
        fields["keywords"] = _escape_plain(", ".join(citation.sections))
    body = ",\n".join(f"  {name:<13} = {{{value}}}" for name, value in fields.items())
    return f"@{kind}{{{key},\n{body}\n}}\n"


def to_bibtex(papers: Sequence[Citation], options: ExportOptions | None = None) -> str:
    """Every paper as one BibTeX entry, ordered by citation key, after a one-line header."""
    keys = citation_keys(papers)
    ordered = sorted(papers, key=lambda c: keys[c.arxiv_id])
    texts = [bibtex_entry(c, keys[c.arxiv_id], options) for c in ordered]
    header = f"% {len(texts)} papers exported by arxiv-list-pipeline from arXiv metadata.\n"
    return "\n".join([header, *texts])


def render(tables: CurrentTables, options: ExportOptions) -> str:
    """The ``bibtex`` export format: the papers of ``tables``, venues from their entries."""
    return to_bibtex(citations(tables.papers.to_pylist(), tables.entries.to_pylist()), options)
