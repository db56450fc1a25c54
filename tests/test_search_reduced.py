"""Pagefind is given each page reduced to what it reads of it (``search.as_pagefind_reads_it``):
its index must come out the same, byte for byte, as from the whole pages — what readers find
cannot change. Checked here with real Pagefind runs, on hand-made pages that put what Pagefind
reads in awkward places, and on a built site's own pages."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from qsite import search

from conftest import BASE, post
from search_index import shards

HEAD = '<!DOCTYPE html>\n<html lang="en-GB">\n<head><meta charset="utf-8"><title>{title} | Site</title>\n'
PAGES = {
    # the h1 outside the body, an img before it and one after it, both outside the body
    "one/index.html": HEAD.format(title="One") + """<script>var s = '<h1>not a title</h1>';</script></head>
<body><img src="/logo.png" alt="logo"><header><h1>One, the title</h1><img src="/after.png" alt="after"></header>
<nav><a href="/">Home</a> <a href="/two/">Two</a> navigation words</nav>
<article data-pagefind-body data-pagefind-filter="Type:Posts"><p>Huddles on the ward.</p>
<h2 id="part">Part <a class="heading-anchor" href="#part">#</a></h2><p>Run charts, <em>weekly</em>.</p>
<ul data-pagefind-ignore><li><a href="/themes/x/" data-pagefind-filter="Theme">Safety</a></li></ul>
<script>var x = 1;</script><p>After the script: still the body.</p></article>
<aside><p>Related: flapjacks</p><img src="/card.png" alt="card"></aside></body></html>
""",
    # metadata in the head, a filter outside the body, the title inside it, a comment around a tag
    "two/index.html": HEAD.format(title="Two") + """<meta data-pagefind-meta="image[content]" content="/og.png" property="og:image">
</head><body><!-- <div data-pagefind-filter="Theme">commented out</div> -->
<p data-pagefind-filter="Theme">Outside the body</p>
<main data-pagefind-body><h1>Two, inside</h1><p>Tablets at a hostel.</p><img src="/in.png" alt="in">
<p>Quoting <code>&lt;div data-pagefind-body&gt;</code> in text.</p></main><footer>Footer words</footer></body></html>
""",
    # no h1 at all, nested marked elements of the same name
    "three/index.html": HEAD.format(title="Three") + """</head><body>
<div data-pagefind-body><div><div data-pagefind-filter="Theme">Learning</div><p>Learning logs.</p></div>
<div data-pagefind-meta="date:2020-06-10"></div></div><div>Outside words</div></body></html>
""",
    # a marked tag inside a comment: no tag, for Pagefind as for the reduction
    "four/index.html": HEAD.format(title="Four") + """</head><body><!-- <section data-pagefind-filter="Theme">x
--> <section data-pagefind-body><h1>Four</h1><p>Whole page.</p></section></body></html>
""",
    # a script in the body quoting its end tag: the whole page is given
    "five/index.html": HEAD.format(title="Five") + """</head><body><article data-pagefind-body><h1>Five</h1>
<script>document.write("</article>")</script><p>After the script: still the body.</p></article></body></html>
""",
}


def index(pages: dict[str, bytes], tmp: Path, name: str) -> dict[str, bytes]:
    """Pagefind's index of ``pages``, put in order as qsite puts it, file by file."""
    site, bundle = tmp / name / "site", tmp / name / "bundle"
    for rel, html in pages.items():
        (site / rel).parent.mkdir(parents=True, exist_ok=True)
        (site / rel).write_bytes(html)
    search._run_pagefind(search.find_binary(), site, bundle)
    search._order_filters(bundle)
    return {p.relative_to(bundle).as_posix(): p.read_bytes() for p in sorted(bundle.rglob("*")) if p.is_file()}


def reduced(pages: dict[str, bytes]) -> dict[str, bytes]:
    return {rel: search.as_pagefind_reads_it(html) or html for rel, html in pages.items()}


def test_pagefind_indexes_pages_reduced_to_what_it_reads_as_the_whole_pages(tmp_path: Path) -> None:
    pages = {rel: html.encode() for rel, html in PAGES.items()}
    smaller = reduced(pages)
    assert all(len(smaller[rel]) < len(pages[rel]) for rel in ("one/index.html", "two/index.html"))
    whole = index(pages, tmp_path, "whole")
    assert whole == index(smaller, tmp_path, "reduced")
    assert sum(rel.startswith("fragment/") for rel in whole) == 5


def test_the_reduced_page_keeps_what_pagefind_reads_in_order_and_drops_the_rest() -> None:
    page = search.as_pagefind_reads_it(PAGES["one/index.html"].encode())
    assert page is not None
    text = page.decode()
    assert text.startswith('<html lang="en-GB"><head><title>One | Site</title></head><body>')
    order = ['src="/logo.png"', "<h1>One, the title</h1>", 'src="/after.png"', "Huddles", "still the body", 'src="/card.png"']
    assert [text.index(part) for part in order] == sorted(text.index(part) for part in order)
    for dropped in ("navigation words", "Related: flapjacks", "not a title"):
        assert dropped not in text


@pytest.mark.parametrize(
    "html",
    [
        '<html><body><script>x = \'<div data-pagefind-body>\'</script><p>no body</p></body></html>',
        "<html><body><h1>Title <!-- </h1> --> on</h1><div data-pagefind-body><p>x</p></div></body></html>",
        '<html><body data-pagefind-body><p>the body is the page</p></body></html>',
        PAGES["five/index.html"],
    ],
)
def test_pages_where_a_part_could_be_misread_are_given_whole(html: str) -> None:
    assert search.as_pagefind_reads_it(html.encode()) is None


def test_a_built_sites_index_is_the_one_its_whole_pages_give(build_site, tmp_path: Path) -> None:
    site = build_site({
        **BASE,
        "content/posts/a.md": post("A", "2020-04-09", "[space-to-learn]", body="Huddles.\n\n## Part\n\nRun charts."),
        "content/posts/b.md": post("B", "2020-06-10", body="Learning logs with `<div data-pagefind-body>`."),
        "content/pages/about.md": "---\ntitle: About\n---\nWho we are.\n",
    })
    for name in shards(site.out):
        built = site.out / "pagefind" / name
        urls = {f"{p.relative_to(site.out).as_posix()}" for p in site.out.rglob("*.html")}
        pages = {rel: (site.out / rel).read_bytes() for rel in urls if not rel.startswith("pagefind/")}
        members = {rel: html for rel, html in pages.items() if search.digest(html) is not None}
        wanted = {rel for rel in members if _shard_of(site.out, rel) == name}
        whole = index({rel: members[rel] for rel in wanted}, tmp_path, name)
        ours = {p.relative_to(built).as_posix(): p.read_bytes() for p in sorted(built.rglob("*")) if p.is_file()}
        for rel in ours:  # what qsite keeps of Pagefind's run is what the whole pages give
            assert ours[rel] == whole[rel], f"{name}: {rel}"
        shutil.rmtree(tmp_path / name)


def _shard_of(out: Path, rel: str) -> str:
    from search_index import urls_by_shard

    url = "/" + rel.removesuffix("index.html")
    return next(name for name, urls in urls_by_shard(out).items() if url in urls)


ONE_PATTERN = re.compile(
    rb"<(script|style|textarea|title|xmp|iframe|noembed|noframes|noscript|template|plaintext)\b.*?</\1\s*>|<!--.*?-->",
    re.IGNORECASE | re.DOTALL,
)


@pytest.mark.parametrize(
    "html",
    [
        *(page.encode() for page in PAGES.values()),
        b"<p><!-- open <script>x</script> <!-- --> after",
        b"<SCRIPT>a</script ><style>never closed",
        b"<!--x--><textarea>a</TEXTAREA><scripts>not a script</scripts><script>b</script>",
        b"<!-- never closed <script>c</script>",
    ],
)
def test_scripts_styles_and_comments_are_found_as_one_lazy_pattern_finds_them(html: bytes) -> None:
    assert search._opaque(html) == [found.span() for found in ONE_PATTERN.finditer(html)]
