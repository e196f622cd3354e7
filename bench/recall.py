"""Recall of the list readers against an independent regex, per list file.

    python bench/recall.py [DIR_OR_FILES ...]   (default: ../shared/corpus/lists, else the
                                                 test fixtures)

For every list: the arXiv ids a deliberately simple regex finds in the raw text (``abs``,
``pdf`` and bare ``arxiv.org/ID`` links, ``10.48550/arXiv.`` DOIs, ``arXiv:ID``), the ids the
entries carry, and the recorded exclusions. Printed per list:

- ``recall``: ids taken by an entry / ids not excluded (the floor is 99.5%);
- ``+excl``: ids taken or excluded / all ids (must be 100%);
- ``invented``: entry ids that do not appear in the file (must be 0);
- ``titled``: entries with a title (the floor is 98%).

Exit status 1 when a list misses a floor. It shares no code with the parser's id finder.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pipeline.lists.load import read_list_file  # noqa: E402
from pipeline.lists.readers import FORMATS  # noqa: E402

_NEW = r"(\d{4}\.\d{4,5})(?!\d)"
_OLD = r"([a-z]+(?:-[a-z]+)?(?:\.[A-Z]{2})?/\d{7})(?!\d)"
_REF_RE = re.compile(
    rf"arxiv\.org/+(?:abs/+|pdf/+)?(?:{_NEW}|{_OLD})(?:v\d+)?(?:\.pdf)?/?(?![\w/.-]*[\w/])"
    rf"|10\.48550/arxiv\.{_NEW}|arxiv:\s?(?:{_NEW}|{_OLD})",
    re.IGNORECASE,
)
SUFFIXES = {s for f in FORMATS for s in f.suffixes}


def _valid_new(arxiv_id: str) -> bool:
    yymm, number = arxiv_id.split(".")
    month = int(yymm[2:])
    if not 1 <= month <= 12 or int(yymm) < 704:
        return False
    return len(number) == (5 if int(yymm) >= 1501 else 4)


def independent_ids(text: str) -> set[str]:
    """The arXiv ids a simple regex finds anywhere in the text (versions dropped)."""
    found: set[str] = set()
    for m in _REF_RE.finditer(text):
        written = next(g for g in m.groups() if g)
        if "/" not in written:
            if _valid_new(written):
                found.add(written)
        else:
            found.add(re.sub(r"\.[A-Z]{2}/", "/", written))
    return found


def measure(path: Path) -> dict[str, object]:
    """One list's numbers (see the module docstring)."""
    raw = path.read_bytes().decode("utf-8-sig")
    parsed = read_list_file(path)
    ids = independent_ids(raw)
    taken = {e.arxiv_id for e in parsed.entries if e.arxiv_id}
    excluded = {x.arxiv_id for x in parsed.exclusions} - taken
    wanted = ids - excluded
    entries = parsed.entries
    return {
        "list": path.name,
        "ids": len(ids),
        "taken": len(ids & taken),
        "excluded": len(ids & excluded),
        "missed": sorted(wanted - taken),
        "recall": len(wanted & taken) / len(wanted) if wanted else 1.0,
        "with_excl": len(ids & (taken | excluded)) / len(ids) if ids else 1.0,
        "invented": sorted(i for i in taken if i not in raw and i.split("/")[-1] not in raw),
        "entries": len(entries),
        "built": sum(1 for e in entries if e.built_from),
        "titled": sum(1 for e in entries if e.title.strip()) / len(entries) if entries else 1.0,
    }


def lists_in(args: list[str]) -> list[Path]:
    if not args:
        corpus = ROOT.parent / "shared" / "corpus" / "lists"
        args = [str(corpus if corpus.is_dir() else ROOT / "tests" / "fixtures" / "lists")]
    out: list[Path] = []
    for arg in args:
        p = Path(arg)
        if p.is_dir():
            out += sorted(f for f in p.iterdir() if f.suffix in SUFFIXES and f.name != "INDEX.tsv")
        else:
            out.append(p)
    return out


def main(args: list[str]) -> int:
    rows = []
    for path in lists_in(args):
        try:
            rows.append(measure(path))
        except Exception as err:  # a bench reports every list, whatever one does
            print(f"{path.name}: not read: {err}")
    print(
        f"{'list':62} {'ids':>4} {'taken':>5} {'excl':>4} {'recall':>7} {'+excl':>7} "
        f"{'invent':>6} {'entries':>7} {'built':>5} {'titled':>7}"
    )
    bad = 0
    for r in rows:
        ok = (
            float(r["recall"]) >= 0.995  # type: ignore[arg-type]
            and r["with_excl"] == 1.0
            and not r["invented"]
            and float(r["titled"]) >= 0.98  # type: ignore[arg-type]
        )
        bad += not ok
        print(
            f"{str(r['list'])[:62]:62} {r['ids']:>4} {r['taken']:>5} {r['excluded']:>4} "
            f"{float(r['recall']):>7.1%} {float(r['with_excl']):>7.1%} "  # type: ignore[arg-type]
            f"{len(r['invented']):>6} {r['entries']:>7} {r['built']:>5} "  # type: ignore[arg-type]
            f"{float(r['titled']):>7.1%}{'' if ok else '  <- below a floor'}"  # type: ignore[arg-type]
        )
        if r["missed"]:
            print(f"    missed: {' '.join(r['missed'])}")  # type: ignore[arg-type]
    total = sum(int(r["ids"]) for r in rows)  # type: ignore[call-overload]
    taken = sum(int(r["taken"]) for r in rows)  # type: ignore[call-overload]
    excl = sum(int(r["excluded"]) for r in rows)  # type: ignore[call-overload]
    print(
        f"all {len(rows)} lists: {total} ids, {taken} taken, {excl} excluded; recall "
        f"{taken / max(1, total - excl):.2%} after exclusions, "
        f"{(taken + excl) / max(1, total):.2%} counting them"
    )
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
