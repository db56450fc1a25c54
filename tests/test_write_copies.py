"""Files copied as they are (theme and site static files, image copies, preview cards) are kept
by a record, like pages (issue 10): a rebuild after a one-post edit neither reads nor compares
the copied files whose inputs are unchanged and whose output is still as stamped, nor sends
them to a render worker. Whatever was done to the output or the cache, the output is still
exactly what a cold build makes."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

import pytest
from PIL import Image

from qsite import build as build_module
from qsite import cards, render, write
from qsite.build import Options, build

from conftest import NOW, TINY_BASE, post, tree, write_files


def png(width: int, height: int) -> bytes:
    buffer = io.BytesIO()
    Image.linear_gradient("L").resize((width, height)).convert("RGB").save(buffer, format="PNG")
    return buffer.getvalue()


SITE: dict[str, str | bytes] = {
    **TINY_BASE,
    "templates/static/extra.css": "body { color: black }\n",
    "content/images/photo.png": png(1400, 700),
    "content/posts/a.md": post("A", "2020-04-01", body="![A photo](/images/photo.png)\n"),
    "content/posts/b.md": post("B", "2020-04-02", themes="[health-inequalities]"),
    "content/posts/c.md": post("C", "2020-04-03"),
}


def copied(out: Path) -> list[str]:
    """The copied files of an output folder (not pages, feeds or the marker)."""
    return sorted(
        rel for rel in tree(out)
        if rel.startswith(("static/", "images/")) or rel.endswith("card.png")
    )


def cold(tmp_path: Path, root: Path) -> dict[str, bytes]:
    """What a build from nothing makes of ``root``'s sources: the output to compare with."""
    out = tmp_path / "cold-output"
    build(root, Options(output=out, now=NOW, search=False, cache=False))
    return tree(out)


def stamps(out: Path, rels: list[str]) -> dict[str, tuple[int, int]]:
    return {rel: ((st := os.lstat(out / rel)).st_ino, st.st_mtime_ns) for rel in rels}


@pytest.fixture
def site(tmp_path: Path) -> Path:
    root = tmp_path / "site"
    write_files(root, SITE)
    build(root, Options(now=NOW, search=False))
    return root


def test_an_edit_keeps_the_copied_files_unread_and_sends_none_to_a_worker(site, tmp_path, monkeypatch):
    out = site / "output"
    files = copied(out)
    assert "static/extra.css" in files and "posts/a/card.png" in files
    assert any(rel.startswith("images/") and rel.endswith(".webp") for rel in files)
    before = stamps(out, files)
    read: list[str] = []
    compared: list[str] = []
    looked_up: list[str] = []
    real_contents, real_card_contents = render.Output.contents, build_module.CardOutput.contents
    real_same, real_find = write._same_bytes, cards.Deck.find

    def contents(self):  # what a render worker calls to write a copied file
        read.append(self.path)
        return real_contents(self)

    def card_contents(self):
        read.append(self.path)
        return real_card_contents(self)

    def same(path, st, data):
        compared.append(path)
        return real_same(path, st, data)

    def find(self, key):
        looked_up.append(key)
        return real_find(self, key)

    monkeypatch.setattr(render.Output, "contents", contents)
    monkeypatch.setattr(build_module.CardOutput, "contents", card_contents)
    monkeypatch.setattr(write, "_same_bytes", same)
    monkeypatch.setattr(cards.Deck, "find", find)
    write_files(site, {"content/posts/c.md": post("C", "2020-04-03", body="Edited body.")})
    result = build(site, Options(now=NOW, search=False))
    monkeypatch.undo()
    assert read == [] and looked_up == []
    assert not [path for path in compared if Path(path).relative_to(out).as_posix() in files]
    assert stamps(out, files) == before  # the very same files: same inode, same mtime
    assert result.written is not None and result.written.written < 10  # the edited post's pages
    assert tree(out) == cold(tmp_path, site)


def test_a_copied_file_changed_or_removed_in_the_output_is_written_again(site, tmp_path):
    out = site / "output"
    webp = next(rel for rel in copied(out) if rel.endswith(".webp"))
    (out / "static/extra.css").write_text("tampered")
    (out / "posts/a/card.png").write_bytes(b"not the card")
    (out / "posts/b/card.png").unlink()
    (out / webp).unlink()
    (out / "static/site.css").unlink()
    (out / "static/site.css").symlink_to(tmp_path / "elsewhere.css")  # never written through
    # a folder moved away and linked back: its files are the very ones stamped, but reached
    # through a symlink, so none is kept (the new output gets a real folder)
    images = out / webp.rpartition("/")[0]
    moved = tmp_path / "moved-images"
    images.rename(moved)
    images.symlink_to(moved, target_is_directory=True)
    inside = tree(moved)
    post_c, moved_c = out / "posts/c", tmp_path / "moved-c"  # the same, one level down
    post_c.rename(moved_c)
    post_c.symlink_to(moved_c, target_is_directory=True)
    inside_c = tree(moved_c)
    build(site, Options(now=NOW, search=False))
    assert tree(out) == cold(tmp_path, site)
    assert not (tmp_path / "elsewhere.css").exists()
    assert not images.is_symlink() and tree(moved) == inside
    assert not post_c.is_symlink() and tree(moved_c) == inside_c
    # … and no file of the output is one outside it (a hard link shares whatever is done to it)
    assert inside and all((images / name).stat().st_ino != (moved / name).stat().st_ino for name in inside)
    assert "card.png" in inside_c and "index.html" in inside_c
    assert all((post_c / name).stat().st_ino != (moved_c / name).stat().st_ino for name in inside_c)


def test_a_card_whose_cache_file_is_gone_is_drawn_again_when_the_output_needs_it(site, tmp_path):
    """A card the record vouches for is not looked up in the cache; if its output then turns
    out changed, and the cache file is gone or damaged, the card is drawn again."""
    out = site / "output"
    folder = site / ".qsite-cache/cards"
    card_files = sorted(folder.glob("*.png"))
    assert len(card_files) == 3
    card_files[0].unlink()
    for damaged in card_files[1:]:
        damaged.write_bytes(b"not a PNG")
    for name in "abc":
        (out / f"posts/{name}/card.png").write_bytes(b"changed")
    build(site, Options(now=NOW, search=False))
    assert tree(out) == cold(tmp_path, site)


def test_a_copied_file_whose_source_changed_is_written_again(site, tmp_path):
    out = site / "output"
    write_files(site, {
        "templates/static/extra.css": "body { color: navy }\n",
        "content/posts/b.md": post("B, retitled", "2020-04-02", themes="[health-inequalities]"),
        "content/images/photo.png": png(1300, 650),
    })
    build(site, Options(now=NOW, search=False))
    assert (out / "static/extra.css").read_text() == "body { color: navy }\n"
    assert tree(out) == cold(tmp_path, site)


def test_a_damaged_or_forged_record_costs_time_never_a_wrong_file(site, tmp_path):
    out = site / "output"
    record = site / ".qsite-cache/copies.json"
    kept = json.loads(record.read_text())
    assert kept["data"]["posts/a/card.png"][0].startswith("card ")
    record.write_text("{ damaged")
    result = build(site, Options(now=NOW, search=False))
    assert any("copies.json" in note for note in result.cache_notes)
    assert tree(out) == cold(tmp_path, site)
    # a record naming another file's stamp for a card: the stamp is the output's own, checked
    forged = json.loads(record.read_text())
    forged["data"]["posts/a/card.png"][1] = forged["data"]["posts/b/card.png"][1]
    record.write_text(json.dumps(forged))
    (out / "posts/a/card.png").write_bytes(b"changed")
    build(site, Options(now=NOW, search=False))
    assert tree(out) == cold(tmp_path, site)
