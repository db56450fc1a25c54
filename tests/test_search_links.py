"""The folders of page links each Pagefind run reads (qsite/search.py, ``_check_out``) are kept
in the cache between builds instead of being made and removed every time: removing a folder
waits for the disk (~1 ms each on one mounted with ``discard``), and a shard's pages sit one
folder each. Kept, they must never change what is indexed, nor let a symlink put there send
a link or an unlink outside the cache."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from qsite import search

from conftest import BASE, post
from search_index import urls_by_shard

SITE = {
    **BASE,
    "content/posts/a.md": post("A", "2020-04-09", body="Huddles on the ward."),
    "content/posts/b.md": post("B", "2020-06-10", body="Learning logs."),
    "content/posts/new.md": post("New", "2021-02-01", body="Tablets at a hostel."),
}
EDIT = {"content/posts/a.md": post("A", "2020-04-09", body="Huddles and flapjacks on the ward.")}


def links_of(root: Path) -> Path:
    return root / ".qsite-cache" / search.LINKS


def files_under(folder: Path) -> list[str]:
    return sorted(str(p) for p in folder.rglob("*") if not p.is_dir() or p.is_symlink())


def test_an_edit_reindexes_its_shard_in_the_folders_the_last_run_made(build_site) -> None:
    site = build_site(SITE)
    shard = links_of(site.root) / "posts-2020"
    folders = {rel: (shard / rel).stat().st_ino for rel in ("posts", "posts/a", "posts/b")}
    assert files_under(links_of(site.root)) == []  # only folders are kept: no page held alive
    again = build_site(EDIT)
    assert again.result is not None and again.result.search_reindexed == ("posts-2020",)
    assert {rel: (shard / rel).stat().st_ino for rel in folders} == folders  # neither removed nor made again
    assert files_under(links_of(site.root)) == []
    assert urls_by_shard(site.out)["posts-2020"] == {"/posts/a/", "/posts/b/"}


def test_a_post_gone_from_a_shard_is_not_indexed_from_its_kept_folder(build_site) -> None:
    site = build_site(SITE)
    (site.root / "content/posts/b.md").unlink()
    again = build_site(EDIT)
    assert again.result is not None and again.result.search_reindexed == ("posts-2020",)
    assert urls_by_shard(site.out)["posts-2020"] == {"/posts/a/"}
    assert (links_of(site.root) / "posts-2020" / "posts" / "b").is_dir()  # its empty folder stays, harmless


def test_a_symlink_put_among_the_kept_folders_is_never_followed(build_site, tmp_path: Path) -> None:
    site = build_site(SITE)
    elsewhere = tmp_path / "elsewhere"
    (elsewhere / "a").mkdir(parents=True)
    (elsewhere / "a" / "index.html").write_text("not qsite's")
    kept = links_of(site.root) / "posts-2020" / "posts" / "a"
    os.rmdir(kept)
    os.symlink(elsewhere / "a", kept)  # a page's folder
    shutil.rmtree(links_of(site.root) / "posts-2021")
    os.symlink(elsewhere, links_of(site.root) / "posts-2021")  # a whole shard's
    build_site(EDIT)
    again = build_site({"content/posts/new.md": post("New", "2021-02-01", body="Tablets at a hostel, again.")})
    assert again.result is not None and again.result.search_reindexed == ("posts-2021",)
    assert sorted(p.name for p in elsewhere.rglob("*")) == ["a", "index.html"]
    assert (elsewhere / "a" / "index.html").read_text() == "not qsite's"
    assert urls_by_shard(site.out)["posts-2020"] == {"/posts/a/", "/posts/b/"}
    assert urls_by_shard(site.out)["posts-2021"] == {"/posts/new/"}


def test_a_symlink_put_in_place_of_the_kept_folders_is_never_moved_through(build_site, tmp_path: Path) -> None:
    """The kept folders are moved out while in use and removed with the stage if they cannot
    go back: moved through a symlink, someone else's folder would be indexed, then removed."""
    site = build_site(SITE)
    elsewhere = tmp_path / "elsewhere"
    (elsewhere / "posts-2020" / "notes").mkdir(parents=True)
    (elsewhere / "posts-2020" / "notes" / "index.html").write_text("<div data-pagefind-body>Private notes</div>")
    shutil.rmtree(links_of(site.root))
    os.symlink(elsewhere, links_of(site.root))
    again = build_site(EDIT)
    assert again.result is not None and again.result.search_reindexed == ("posts-2020",)
    assert (elsewhere / "posts-2020" / "notes" / "index.html").is_file()
    assert urls_by_shard(site.out)["posts-2020"] == {"/posts/a/", "/posts/b/"}


def test_shards_checking_in_at_once_each_keep_their_folder(tmp_path: Path, monkeypatch) -> None:
    """Shards are indexed by parallel threads, and the first to check in makes the kept folders'
    parent: one that looked for it just before another made it must still keep its folder (the
    CI run of 2026-11-28 lost one shard's so, and a test expecting it failed now and then)."""
    links = tmp_path / search.LINKS
    links.mkdir()  # made by the other thread after this one looked for it
    site = tmp_path / "scratch" / "posts-2020.site"
    (site / "posts" / "a").mkdir(parents=True)
    (site / "posts" / "a" / "index.html").write_text("a link")
    monkeypatch.setattr(search.os.path, "lexists", lambda path: False)  # what the late thread saw
    search._check_in(site, ["posts/a/index.html"], links, "posts-2020")
    assert (links / "posts-2020" / "posts" / "a").is_dir() and not site.exists()
    assert files_under(links) == []
