"""The idiomatic baseline: the 30-line script a user would write around ``arxiv.Client``.

It is what the pipeline has to beat, so it is written the way the arxiv.py README and a
requests-cache user would write it, not tuned: the ids pulled out of the Markdown list with a
regular expression, the client's defaults (page size 100, delay 3 s, 3 retries), a
``requests_cache.CachedSession`` swapped into the client, one ``arxiv.Search(id_list=chunk)``
per chunk of 100 ids, and one Parquet file written with pandas.

Chunks of 100, because a single ``Search(id_list=all_ids)`` puts every id in one GET query
string, which arXiv (and the fake) refuses with 414 past roughly 700 ids; 100 is the
client's page size, so each chunk is exactly one request, the best this client can do.

    python bench/baseline.py --list list.md --api-url http://127.0.0.1:PORT/api/query \\
        --cache work/baseline_cache --out work/baseline.parquet --delay 0.03

Prints one JSON line: papers written, seconds.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import arxiv
import pandas as pd
import requests_cache

ARXIV_LINK = re.compile(r"arxiv\.org/(?:abs|pdf)/(\d{4}\.\d{4,5})")
CHUNK = 100
"""Ids per Search: the client's default page size, so one request per chunk."""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--list", type=Path, required=True, help="the Markdown list")
    parser.add_argument("--api-url", required=True, help="the fake arXiv API (127.0.0.1 only)")
    parser.add_argument("--cache", type=Path, required=True, help="requests-cache SQLite path")
    parser.add_argument("--out", type=Path, required=True, help="the Parquet file to write")
    parser.add_argument(
        "--delay", type=float, default=3.0, help="arxiv.Client delay_seconds (default 3)"
    )
    args = parser.parse_args(argv)
    if urlsplit(args.api_url).hostname != "127.0.0.1":
        parser.error("the bench only ever talks to 127.0.0.1")

    t0 = time.monotonic()

    # --- from here on, the script a user would write ---
    text = args.list.read_text(encoding="utf-8")
    ids = list(dict.fromkeys(ARXIV_LINK.findall(text)))  # each id once, versions dropped
    client = arxiv.Client(page_size=100, delay_seconds=args.delay, num_retries=3)
    client.query_url_format = args.api_url + "?{}"
    client._session = requests_cache.CachedSession(str(args.cache), backend="sqlite")
    rows = []
    for start in range(0, len(ids), CHUNK):
        search = arxiv.Search(id_list=ids[start : start + CHUNK])
        for result in client.results(search):
            rows.append(
                {
                    "arxiv_id": result.get_short_id(),
                    "title": result.title,
                    "abstract": result.summary,
                    "authors": [a.name for a in result.authors],
                    "published": result.published,
                    "updated": result.updated,
                    "primary_category": result.primary_category,
                    "categories": result.categories,
                    "doi": result.doi,
                    "journal_ref": result.journal_ref,
                    "comment": result.comment,
                    "abs_url": result.entry_id,
                    "pdf_url": result.pdf_url,
                }
            )
    pd.DataFrame(rows).to_parquet(args.out, index=False)
    # --- end of the user's script ---

    print(json.dumps({"papers": len(rows), "seconds": time.monotonic() - t0}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
