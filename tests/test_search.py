"""The sharded, incremental search index (qsite/search.py): a rebuild re-indexes only the shards
whose pages changed, keeps the others' files untouched, and never leaves a deleted or renamed
page findable. What is in the index is read back from Pagefind's own files
(tests/search_index.py), not from qsite's manifest."""

from __future__ import annotations

import gzip
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from qsite import search
from qsite.build import Options, build

from conftest import BASE, NOW, post
from search_index import all_urls, comparable, fragments, shards, theme_filter, urls_by_shard

SITE = {
    **BASE,
    "content/posts/old.md": post("Old", "2019-05-01", body="An old post."),
    "content/posts/a.md": post("A", "2020-04-09", body="Huddles on the ward."),
    "content/posts/b.md": post("B", "2020-06-10", "[space-to-learn]", body="Learning logs."),
    "content/posts/new.md": post("New", "2021-02-01", body="Tablets at a hostel."),
    "content/pages/about.md": "---\ntitle: About\n---\nWho we are.\n",
}
SHARDS = {
    "pages": {"/about/"},
    "posts-2019": {"/posts/old/"},
    "posts-2020": {"/posts/a/", "/posts/b/"},
    "posts-2021": {"/posts/new/"},
}


def bundle_stamps(out: Path) -> dict[str, tuple[int, int]]:
    """(inode, mtime) of every file of the search bundle: a kept file keeps both."""
    return {
        p.relative_to(out).as_posix(): (p.stat().st_ino, p.stat().st_mtime_ns)
        for p in (out / "pagefind").rglob("*")
        if p.is_file()
    }


def in_shard(stamps: dict[str, tuple[int, int]], shard: str) -> dict[str, tuple[int, int]]:
    return {k: v for k, v in stamps.items() if k.startswith(f"pagefind/{shard}/")}


def text_of(out: Path, url: str) -> str:
    for name in shards(out):
        for page in fragments(out / "pagefind" / name):
            if page["url"] == url:
                return str(page["content"])
    raise AssertionError(f"{url} is not in the search index")


_SEEN: list[dict[str, list[str]]] = []  # the recordings in progress (an audit hook cannot be removed)
_HOOKED: list[bool] = []


def _audit(event: str, args: tuple[object, ...]) -> None:
    if not _SEEN:
        return
    if event == "open" and isinstance(args[0], str | bytes | os.PathLike):
        mode, flags = args[1], args[2]
        reading = ("r" in mode and "+" not in mode) if isinstance(mode, str) else not (
            isinstance(flags, int) and flags & (os.O_WRONLY | os.O_RDWR)
        )
        if reading:
            _SEEN[-1]["read"].append(os.fsdecode(args[0]))


@contextmanager
def file_calls() -> Iterator[dict[str, list[str]]]:
    """Every file this process opens for reading (``read``) meanwhile: Python's ``open`` audit
    event, which ``open``, ``Path.read_bytes`` and ``os.open`` raise; Pagefind's own reads are
    another process's."""
    if not _HOOKED:
        sys.addaudithook(_audit)
        _HOOKED.append(True)
    _SEEN.append({"read": []})
    try:
        yield _SEEN[-1]
    finally:
        _SEEN.pop()


def cold_copy(root: Path, tmp_path: Path) -> Path:
    """The same site built from scratch (no cache, no previous output) elsewhere."""
    out = tmp_path / "cold"
    build(root, Options(now=NOW, output=out, cache=False))
    return out


def test_posts_are_sharded_by_year_and_pages_have_their_own_shard(build_site) -> None:
    site = build_site(SITE)
    assert urls_by_shard(site.out) == SHARDS
    assert shards(site.out)[0] == "pages"  # the primary: it alone carries Pagefind's engine
    assert site.result is not None and site.result.search_reindexed == tuple(sorted(SHARDS))
    assert site.result.search_pages == 5


def test_a_body_edit_reindexes_only_the_shard_of_that_post(build_site, tmp_path: Path) -> None:
    site = build_site(SITE)
    before = bundle_stamps(site.out)
    again = build_site({"content/posts/a.md": post("A", "2020-04-09", body="Huddles and flapjacks on the ward.")})
    assert again.result is not None
    assert again.result.search_reindexed == ("posts-2020",)
    assert again.result.search_shards == tuple(sorted(SHARDS))
    after = bundle_stamps(site.out)
    for kept in ("pages", "posts-2019", "posts-2021"):
        assert in_shard(after, kept) == in_shard(before, kept), f"{kept} should have been kept as it was"
    assert in_shard(after, "posts-2020") != in_shard(before, "posts-2020")
    assert "flapjacks" in text_of(site.out, "/posts/a/")
    assert urls_by_shard(site.out) == SHARDS
    assert comparable(site.out) == comparable(cold_copy(site.root, tmp_path))


def test_indexing_reads_each_page_it_indexes_once_and_nothing_pagefind_wrote(build_site) -> None:
    """The render step hashes what Pagefind reads from each page while its HTML is in memory,
    and Pagefind's files are taken into the stage by their stamps: a cold build reads back
    no page but once each indexed one, to give Pagefind only what it reads of it
    (``search.as_pagefind_reads_it``), and none of the fragments and index chunks Pagefind
    wrote (only the few filter and metadata files qsite puts in order) (bench/PROFILE.md, C1, C5)."""
    with file_calls() as calls:
        site = build_site(SITE)
    assert urls_by_shard(site.out) == SHARDS  # indexed all the same
    staged = [path for path in calls["read"] if ".staging-" in path]
    pages = sorted(path.partition("/new/")[2] for path in staged if path.endswith(".html"))
    assert pages == ["about/index.html", "posts/a/index.html", "posts/b/index.html", "posts/new/index.html",
                     "posts/old/index.html"]  # not the home page, lists, archive… which are not indexed
    assert not [path for path in staged if path.endswith((".pf_fragment", ".pf_index"))]


def test_a_reindexed_shard_keeps_the_files_of_its_unchanged_pages(build_site) -> None:
    """Pagefind names a page's fragment by its content: when one post of a shard changes, the
    others' fragments come out the same and stay the very same files (same inode and mtime,
    so an rsync or CDN upload sends only what changed), as every unchanged output file does."""
    site = build_site(SITE)
    before = in_shard(bundle_stamps(site.out), "posts-2020")
    again = build_site({"content/posts/a.md": post("A", "2020-04-09", body="Huddles and flapjacks on the ward.")})
    assert again.result is not None and again.result.search_reindexed == ("posts-2020",)
    after = in_shard(bundle_stamps(site.out), "posts-2020")
    kept = {rel for rel in before if after.get(rel) == before[rel]}
    fragments_of_b = {
        rel for rel in kept if rel.endswith(".pf_fragment") and "Learning logs" in text_of_fragment(site.out / rel)
    }
    assert fragments_of_b, "post B's fragment should have been kept as it was"
    assert after != before  # post A's fragment, the index chunks and the entry file are new


def text_of_fragment(path: Path) -> str:
    return gzip.decompress(path.read_bytes()).decode("utf-8", "replace")


def test_a_no_change_rebuild_keeps_every_shard(build_site) -> None:
    site = build_site(SITE)
    before = bundle_stamps(site.out)
    again = build_site({})
    assert again.result is not None and again.result.search_reindexed == ()
    assert again.result.search_kept and again.result.search_pages == 5
    assert bundle_stamps(site.out) == before


def test_a_deleted_post_vanishes_from_search(build_site, tmp_path: Path) -> None:
    site = build_site(SITE)
    (site.root / "content/posts/a.md").unlink()
    again = build_site({})
    assert again.result is not None and again.result.search_reindexed == ("posts-2020",)
    assert "/posts/a/" not in all_urls(site.out)
    assert urls_by_shard(site.out)["posts-2020"] == {"/posts/b/"}
    # The only post of 2019: its whole shard goes, from the list and from the disk.
    (site.root / "content/posts/old.md").unlink()
    third = build_site({})
    assert third.result is not None and third.result.search_reindexed == ()
    assert "posts-2019" not in shards(site.out)
    assert not site.exists("pagefind/posts-2019")
    assert all_urls(site.out) == ["/about/", "/posts/b/", "/posts/new/"]
    assert comparable(site.out) == comparable(cold_copy(site.root, tmp_path))


def test_a_renamed_post_is_found_at_its_new_address_only(build_site) -> None:
    site = build_site(SITE)
    (site.root / "content/posts/b.md").rename(site.root / "content/posts/learning-logs.md")
    again = build_site({})
    assert again.result is not None and again.result.search_reindexed == ("posts-2020",)
    assert urls_by_shard(site.out)["posts-2020"] == {"/posts/a/", "/posts/learning-logs/"}
    assert "/posts/b/" not in all_urls(site.out)


def test_a_post_moved_to_another_year_moves_shard_and_keeps_its_themes_current(build_site) -> None:
    site = build_site(SITE)
    again = build_site({"content/posts/b.md": post("B", "2021-06-10", "[health-inequalities]", body="Learning logs.")})
    assert again.result is not None and set(again.result.search_reindexed) == {"posts-2020", "posts-2021"}
    assert urls_by_shard(site.out)["posts-2020"] == {"/posts/a/"}
    assert urls_by_shard(site.out)["posts-2021"] == {"/posts/b/", "/posts/new/"}
    assert theme_filter(site.out, "/posts/b/") == ["Health inequalities and meeting the needs of vulnerable groups"]


def test_a_post_template_edit_reindexes_the_post_shards_but_not_the_pages(build_site) -> None:
    site = build_site(SITE)
    before = bundle_stamps(site.out)
    template = (site.root / "templates/post.html").read_text()
    article = '<article class="post" data-pagefind-body data-pagefind-filter="Type:Posts">'
    edited = template.replace(article, article + "\n<p>Reviewed by the editors.</p>")
    assert edited != template
    again = build_site({"templates/post.html": edited})
    assert again.result is not None
    assert again.result.search_reindexed == ("posts-2019", "posts-2020", "posts-2021")
    assert in_shard(bundle_stamps(site.out), "pages") == in_shard(before, "pages")
    assert "Reviewed by the editors." in text_of(site.out, "/posts/new/")


def test_a_damaged_shard_is_indexed_again(build_site) -> None:
    site = build_site(SITE)
    for fragment in (site.out / "pagefind/posts-2021/fragment").iterdir():
        fragment.unlink()
    again = build_site({})
    assert again.result is not None and again.result.search_reindexed == ("posts-2021",)
    assert urls_by_shard(site.out)["posts-2021"] == {"/posts/new/"}


def test_without_the_cache_every_shard_is_indexed(build_site) -> None:
    site = build_site(SITE)
    again = build_site({}, cache=False)
    assert again.result is not None and again.result.search_reindexed == tuple(sorted(SHARDS))
    assert urls_by_shard(site.out) == SHARDS


def test_a_big_year_is_split_into_hash_shards_and_an_edit_reindexes_one(
    build_site, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(search, "SHARD_PAGES", 3)
    files = {**BASE, **{f"content/posts/p{n}.md": post(f"P{n}", f"2020-03-{n + 10}", body=f"Post {n}.") for n in range(9)}}
    site = build_site(files)
    by_shard = urls_by_shard(site.out)
    assert all(re.fullmatch(r"posts-2020-[1-4]-of-4", name) for name in by_shard), by_shard
    assert len(by_shard) > 1
    assert all_urls(site.out) == sorted(f"/posts/p{n}/" for n in range(9))  # each in exactly one
    target = next(iter(by_shard))
    url = sorted(by_shard[target])[0]
    n = int(url.strip("/").split("/")[-1][1:])
    again = build_site({f"content/posts/p{n}.md": post(f"P{n}", f"2020-03-{n + 10}", body="Edited.")})
    assert again.result is not None and again.result.search_reindexed == (target,)
    assert urls_by_shard(site.out) == by_shard


def test_shards_depend_on_the_pages_only_and_split_in_powers_of_two() -> None:
    assert [search.buckets_for(n) for n in (0, 1, 200, 201, 400, 401, 800, 801)] == [1, 1, 1, 2, 2, 4, 4, 8]
    years = {f"posts/p{n}/index.html": 2015 + n % 3 for n in range(300)}
    pages = [*years, "about/index.html"]
    first = search.assign(pages, years)
    assert first["about/index.html"] == "pages"
    assert search.assign(reversed(pages), years) == first  # order does not matter
    # A new post of 2017 leaves every other page where it was.
    years["posts/late/index.html"] = 2017
    second = search.assign([*pages, "posts/late/index.html"], years)
    assert {k: v for k, v in second.items() if k != "posts/late/index.html"} == first
    assert second["posts/late/index.html"] == "posts-2017"


PAGE = b"""<!doctype html><html lang="en-gb"><head><title>A</title></head><body>
<nav><a href="/">Home</a></nav>
<article class="post" data-pagefind-body><h1>A</h1>
<ul class="chips" data-pagefind-ignore><li><a data-pagefind-filter="Theme">Staff</a></li></ul>
<div class="post-body"><div><p>Huddles.</p></div><p>After the inner div.</p></div></article>
<section class="related"><p class="byline" data-pagefind-ignore>3 min read</p><p>Related summary.</p></section>
</body></html>"""


def test_what_pagefind_reads_leaves_out_what_it_cannot_see() -> None:
    base = search.what_pagefind_reads(PAGE)
    assert base is not None and b"After the inner div." in base  # nested divs counted
    # Outside the body and its markers: navigation, related posts, their ignored bylines.
    for outside in (b"Home", b"Related summary.", b"3 min read"):
        assert search.what_pagefind_reads(PAGE.replace(outside, b"Changed")) == base, outside
    # Inside: the body, a filter value, the language, the title.
    for inside, changed in ((b"Huddles.", b"Biscuits."), (b">Staff<", b">Space<"), (b'lang="en-gb"', b'lang="cy"'),
                            (b"<title>A</title>", b"<title>B</title>"), (b"After the inner div.", b"After.")):
        assert search.what_pagefind_reads(PAGE.replace(inside, changed)) != base, inside
    # No body marker, or one only quoted in a post's text: not indexed.
    assert search.what_pagefind_reads(PAGE.replace(b" data-pagefind-body", b"")) is None
    quoted = b"<html><body><p>Mark it &lt;article data-pagefind-body&gt; or use data-pagefind-body.</p></body></html>"
    assert search.what_pagefind_reads(quoted) is None
    # A ">" inside a quoted attribute value does not end the tag.
    tricky = PAGE.replace(b"<nav>", b'<nav><meta title="a > b" data-pagefind-meta="kind:Post">')
    assert search.what_pagefind_reads(tricky) != base
    assert b'data-pagefind-meta="kind:Post"' in (search.what_pagefind_reads(tricky) or b"")
    # -ignore marks nothing, but a tag that also carries another data-pagefind-* is marked, and
    # an attribute that only starts with "ignore" is another attribute.
    both = PAGE.replace(b'<p class="byline" data-pagefind-ignore>', b'<p data-pagefind-ignore data-pagefind-meta="by">')
    assert b'data-pagefind-meta="by"' in (search.what_pagefind_reads(both) or b"")
    longer = PAGE.replace(b'<p class="byline" data-pagefind-ignore>', b'<p data-pagefind-ignored-by="x">')
    assert b"3 min read" in (search.what_pagefind_reads(longer) or b"")


def test_the_metadata_lists_the_theme_and_type_filters_in_order() -> None:
    """With two filters (Theme, Type) Pagefind lists them in its metadata in a random order;
    sorted, two indexes of the same pages are the same bytes (issue 11's type filter)."""
    meta = ["1.5.2", [["en_1", 2]], [], [["Type", "en_c88d663"], ["Theme", "en_5ef032c"]], [], ["title"]]
    data = search._cbor_write(meta)
    ordered, _ = search._cbor_read(search._order_meta_filters(data), 0)
    assert ordered[3] == [["Theme", "en_5ef032c"], ["Type", "en_c88d663"]]
    assert ordered[:3] == meta[:3] and ordered[4:] == meta[4:]
    assert search._order_meta_filters(b"\xff not cbor") == b"\xff not cbor"


def test_digest_editions_are_indexed_by_intro_and_takeaways_with_a_type_filter(build_site) -> None:
    """Issue 11: every indexed page has a Type; an edition's entry holds its introduction and
    the takeaways it lists, not the posts' own summaries (those are found on the posts)."""
    takeaway = post("A", "2020-04-09", body="Summary of huddles.", takeaways="[Keep huddles short]")
    edition = "---\neditor: Digest Group\n---\nA month of quick changes.\n"
    site = build_site({**SITE, "content/posts/a.md": takeaway, "content/digests/2020-04.md": edition})
    pages = {
        page["url"]: page
        for name in shards(site.out)
        for page in fragments(site.out / "pagefind" / name)
    }
    types = {url: page["filters"].get("Type") for url, page in pages.items()}
    assert types == {
        "/about/": ["Pages"],
        "/posts/old/": ["Posts"],
        "/posts/a/": ["Posts"],
        "/posts/b/": ["Posts"],
        "/posts/new/": ["Posts"],
        "/digest/2020-04/": ["Digest editions"],  # other editions have no intro or takeaways of their own
    }
    content = pages["/digest/2020-04/"]["content"]
    assert "A month of quick changes." in content and "Keep huddles short" in content
    assert "Summary of huddles" not in content


def test_finding_pagefind_imports_not_its_asyncio_client() -> None:
    """qsite runs Pagefind's command line: finding the binary the way the pagefind package does
    must not import the package's asyncio service client (30–40 ms of every build's start)."""
    code = (
        "import sys\nfrom qsite import search\nbinary = search.find_binary()\n"
        "print(binary.is_file(), 'pagefind.service' in sys.modules, 'asyncio' in sys.modules)"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert run.stdout.split() == ["True", "False", "False"]
