"""Reading a built Pagefind index back, for tests: what is actually in it, not what qsite
meant to put in it.

Pagefind writes one gzipped "fragment" per indexed page (its URL, text, filters and title);
fragments are named by their content, so the same page indexed twice gives the same file.
The index chunks are the same for the same pages too; the filter files, which Pagefind writes
in a random order, are put in order by qsite (``search._order_filters``), so with them the
metadata files and ``pagefind-entry.json`` are the same bytes on every run too.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

SIGNATURE = b"pagefind_dcd"


def fragments(shard: Path) -> list[dict[str, Any]]:
    """Every page in one shard's index, decoded from its fragment files."""
    pages = []
    for path in sorted((shard / "fragment").glob("*.pf_fragment")):
        data = gzip.decompress(path.read_bytes())
        assert data.startswith(SIGNATURE), path
        pages.append(json.loads(data[len(SIGNATURE):]))
    return pages


def shards(out: Path) -> list[str]:
    """The shards the search page loads (pagefind/shards.json), primary first."""
    return list(json.loads((out / "pagefind" / "shards.json").read_text())["shards"])


def urls_by_shard(out: Path) -> dict[str, set[str]]:
    """Shard → the URLs of the pages in it, for every shard the search page loads."""
    return {name: {page["url"] for page in fragments(out / "pagefind" / name)} for name in shards(out)}


def all_urls(out: Path) -> list[str]:
    """Every indexed URL, once per shard it is in (a page must be in exactly one)."""
    return sorted(url for urls in urls_by_shard(out).values() for url in urls)


def theme_filter(out: Path, url: str) -> list[str]:
    """The Theme filter values of one indexed page."""
    for name in shards(out):
        for page in fragments(out / "pagefind" / name):
            if page["url"] == url:
                return sorted(page.get("filters", {}).get("Theme", []))
    raise AssertionError(f"{url} is not in the search index")


def comparable(out: Path) -> dict[str, bytes]:
    """The search bundle as a test compares it between two builds of the same site: every
    file, byte for byte (it used to summarise the files Pagefind wrote in a random order)."""
    bundle = out / "pagefind"
    return {
        path.relative_to(out).as_posix(): path.read_bytes() for path in sorted(bundle.rglob("*")) if path.is_file()
    }
