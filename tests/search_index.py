"""Reading a built Pagefind index back, for tests: what is actually in it, not what qsite
meant to put in it.

Pagefind writes one gzipped "fragment" per indexed page (its URL, text, filters and title);
fragments are named by their content, so the same page indexed twice gives the same file.
The index chunks are the same for the same pages too, but the filter and metadata files and
``pagefind-entry.json`` are named and ordered differently on every run over the very same
HTML, so those are compared by what they say (page count, filter values), not byte for byte.
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
    """The search bundle as a test can compare it between two builds of the same site: every
    file byte for byte, except the files Pagefind names or orders differently on every run,
    which are summarised (per shard: page count, how many filter and metadata files)."""
    bundle = out / "pagefind"
    files: dict[str, bytes] = {}
    counts: dict[str, int] = {}
    for path in sorted(bundle.rglob("*")):
        if not path.is_file():
            continue
        rel = path.relative_to(out).as_posix()
        if path.name == "pagefind-entry.json":
            languages = json.loads(path.read_bytes())["languages"]
            files[rel] = json.dumps({k: v["page_count"] for k, v in languages.items()}).encode()
        elif path.suffix in (".pf_meta", ".pf_filter"):
            key = f"{path.parent.relative_to(out).as_posix()}/*{path.suffix}"
            counts[key] = counts.get(key, 0) + 1
        else:
            files[rel] = path.read_bytes()
    for key, count in counts.items():
        files[key] = str(count).encode()
    return files
