"""A rebuild reads the parse of an unchanged file only if something asks for it (issue 10):
a post whose validated front matter and rendered body are kept needs its document for its
path and kind only, so ``.qsite-cache/sources-*.json`` (every file's front matter and
Markdown) is read a shard at a time, on demand. Every case ends as a cold build would."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from pathlib import Path

import pytest

from qsite import model
from qsite.build import Options, build
from qsite.content import SourceDoc
from qsite.incremental import cache as cache_module
from qsite.incremental import cachefiles
from qsite.problems import Problem

from conftest import NOW, SITE_YAML, TINY, post, tree, write_files

OPTIONS = Options(now=NOW, search=False)


def touch(path: Path, text: str) -> None:
    """Write ``text`` with an mtime a second later, so even a coarse clock sees the edit."""
    old = path.stat().st_mtime_ns
    path.write_text(text, encoding="utf-8")
    os.utime(path, ns=(old + 10**9,) * 2)


def site(root: Path) -> Path:
    write_files(root, {
        "site.yaml": SITE_YAML, **TINY,
        "content/posts/a.md": post("A", "2021-06-01", body="Alpha text."),
        "content/posts/b.md": post("B", "2021-06-02", body="Beta text.", slug="bee"),
        "content/posts/c.md": post("C", "2021-06-03", body="Gamma text."),
        "content/pages/about.md": "---\ntitle: About\n---\nAbout text.\n",
    })
    return root


def cold(tmp_path: Path, root: Path) -> dict[str, bytes]:
    build(root, Options(now=NOW, search=False, cache=False, output=tmp_path / "cold"))
    return tree(tmp_path / "cold")


@pytest.fixture
def decoded(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The parsed files decoded from the cache (the real ``decode_doc``, counted)."""
    seen: list[str] = []
    real = cache_module.decode_doc

    def decode_doc(value: object) -> SourceDoc:
        doc = real(value)
        seen.append(doc.rel)
        return doc

    monkeypatch.setattr(cache_module, "decode_doc", decode_doc)
    return seen


@pytest.fixture
def shards_read(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The cache files of parsed files read (``sources-NN.json``)."""
    seen: list[str] = []
    real = cache_module.load_texts

    def load_texts(path: Path, *args: object, **kwargs: object) -> object:
        if path.name.startswith("sources-"):
            seen.append(path.name)
        return real(path, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(cache_module, "load_texts", load_texts)
    return seen


def test_a_rebuild_after_one_edit_reads_no_unchanged_files_parse(
    tmp_path: Path, decoded: list[str], shards_read: list[str]
) -> None:
    root = site(tmp_path / "site")
    build(root, OPTIONS)
    decoded.clear()
    shards_read.clear()
    touch(root / "content/posts/c.md", post("C", "2021-06-03", body="Edited text."))
    build(root, OPTIONS)
    assert decoded == []  # a, b and about: their front matter and bodies were kept
    assert len(shards_read) <= 1  # the shard the edited file's parse went into, to rewrite it
    assert "Edited text." in (root / "output/posts/c/index.html").read_text()
    assert tree(root / "output") == cold(tmp_path, root)

    # the parses kept unread are still kept: the next edit decodes none either, and its
    # cache still holds every file's parse
    touch(root / "content/posts/a.md", post("A", "2021-06-01", body="Alpha edited."))
    build(root, OPTIONS)
    assert decoded == []
    kept = {doc.rel for i in range(cache_module.SHARDS) for doc in _decoded_shard(root, i)}
    assert kept == {"content/posts/a.md", "content/posts/b.md", "content/posts/c.md", "content/pages/about.md"}


def _decoded_shard(root: Path, i: int) -> list[SourceDoc]:
    path = root / ".qsite-cache" / f"sources-{i:02d}.json"
    if not path.exists():
        return []
    data = cachefiles.load_texts(path, lambda data, texts: (data, texts), [])
    assert data is not None
    shard, texts = data
    found = []
    for plain in shard.values():
        plain[4] = texts[plain[4]]
        found.append(cache_module.decode_doc(plain))
    return found


def _damage(root: Path, prefix: str) -> None:
    for path in (root / ".qsite-cache").glob(f"{prefix}-*.json"):
        path.write_bytes(b"{damaged")


def test_a_kept_post_whose_html_and_parse_are_lost_is_rendered_from_its_file(tmp_path: Path) -> None:
    # its front matter is kept (so its document is read only if asked for), its rendered body
    # is not: the body's Markdown comes from the file, parsed again, never an empty text
    root = site(tmp_path / "site")
    build(root, OPTIONS)
    _damage(root, "markdown")
    _damage(root, "sources")
    touch(root / "content/posts/c.md", post("C", "2021-06-03", body="Edited text."))
    warm = build(root, OPTIONS)
    assert any(note.startswith("sources-") for note in warm.cache_notes)  # noted, and rebuilt
    assert "Alpha text." in (root / "output/posts/a/index.html").read_text()
    assert tree(root / "output") == cold(tmp_path, root)


def test_a_kept_post_whose_kept_front_matter_is_damaged_is_validated_from_its_parse(
    tmp_path: Path, decoded: list[str]
) -> None:
    root = site(tmp_path / "site")
    build(root, OPTIONS)
    for path in (root / ".qsite-cache").glob("metas-*.json"):  # every entry present, none decodes
        doc = json.loads(path.read_text(encoding="utf-8"))
        doc["data"] = {key: ["not a meta"] for key in doc["data"]}
        path.write_text(json.dumps(doc, separators=(",", ":")), encoding="utf-8")
    decoded.clear()
    touch(root / "content/posts/c.md", post("C", "2021-06-03", body="Edited text."))
    warm = build(root, OPTIONS)
    assert warm.cache_notes
    assert sorted(decoded) == ["content/pages/about.md", "content/posts/a.md", "content/posts/b.md"]
    assert tree(root / "output") == cold(tmp_path, root)


def test_rejected_posts_reads_the_front_matter_of_rejected_posts_only() -> None:
    def unread() -> SourceDoc:
        raise AssertionError("an accepted post's document was read")

    kept = SourceDoc.later("content/posts/2021-06-01-a.md", "post", unread)
    broken = SourceDoc("content/posts/b.md", "post", {"slug": "bee", "date": "never"}, {}, "", 4, 1)
    sources = [(Path("a.md"), kept.rel, "post"), (Path("b.md"), broken.rel, "post")]
    meta = model.Meta(
        kept.rel, "post", "a", "A", NOW, None, (), (), (), None, False, (), False, "", 4,
    )
    assert model.rejected_posts(sources, [kept, broken], [meta]) == {"b", "bee"}


def test_a_document_read_later_is_the_document_read_now() -> None:
    reads: list[int] = []
    full = SourceDoc("content/posts/a.md", "post", {"title": "A"}, {("title",): 2}, "Body.\n", 4, 1)

    def read() -> SourceDoc:
        reads.append(1)
        return full

    later = SourceDoc.later(full.rel, full.kind, read)
    assert (later.rel, later.kind, reads) == (full.rel, full.kind, [])
    assert later == full and later.line("title") == 2 and later.body == "Body.\n"
    assert reads == [1]  # read once, then kept
    with pytest.raises(AttributeError):
        later.nothing  # noqa: B018


def test_make_post_makes_the_post_its_init_would(tmp_path: Path) -> None:
    # make_post fills the post's fields without Post's __init__ (each field a frozen
    # __setattr__: model.fields_maker): the same value, of the same class, as Post(...) gives
    root = site(tmp_path / "site")
    result = build(root, OPTIONS)
    assert result.site is not None and result.site.posts
    names = [f.name for f in dataclasses.fields(model.Post)]
    for made in result.site.posts:
        again = model.Post(**{name: getattr(made, name) for name in names})
        assert made == again and type(made) is type(again) is model.Post and not hasattr(made, "__dict__")
        assert hash(made.tags) == hash(again.tags) and repr(made) == repr(again)


@pytest.mark.parametrize("how", ["truncated", "garbage", "other-qsite"])
def test_a_damaged_shard_of_parsed_files_is_noted_and_rebuilt_once_it_is_read(tmp_path: Path, how: str) -> None:
    # A shard of parsed files no build asks for is not read, so its damage costs nothing and
    # says nothing; the build that needs one of its files notes it, parses the file and
    # writes the shard again
    root = site(tmp_path / "site")
    build(root, OPTIONS)
    rel = "content/posts/a.md"
    key = cache_module.Cache.doc_key(hashlib.sha256((root / rel).read_bytes()).hexdigest(), rel, "post")
    shard = root / ".qsite-cache" / f"sources-{int(key[:2], 16) % cache_module.SHARDS:02d}.json"
    raw = shard.read_bytes()
    shard.write_bytes(
        raw[: len(raw) // 2] if how == "truncated" else b"\x00\xff not json" if how == "garbage"
        else raw.replace(cachefiles.ENGINE.encode(), b"0" * 64, 1)
    )
    touch(root / "content/posts/c.md", post("C", "2021-06-03", body="Edited text."))
    unread = build(root, OPTIONS)
    assert not any(note.startswith(shard.name) for note in unread.cache_notes)
    assert tree(root / "output") == cold(tmp_path, root)

    for metas in (root / ".qsite-cache").glob("metas-*.json"):
        metas.unlink()  # a's front matter is validated again: its parse is asked for
    touch(root / "content/posts/c.md", post("C", "2021-06-03", body="Edited again."))
    read = build(root, OPTIONS)
    assert [note for note in read.cache_notes if note.startswith(shard.name)]
    assert tree(root / "output") == cold(tmp_path, root)
    assert cachefiles.load_texts(shard, lambda data, texts: data, []) is not None  # written again
    touch(root / "content/posts/c.md", post("C", "2021-06-03", body="Edited once more."))
    assert build(root, OPTIONS).cache_notes == []


def test_the_checks_of_a_file_with_no_warning_decode_in_one_step_and_others_as_before() -> None:
    warning = Problem("content/posts/a.md", 3, "a control character", None, "warning")
    for kept in (((), ()), ((warning,), ()), ((), (warning, warning)), ()):
        assert cache_module.decode_problems(json.loads(json.dumps(cache_module.encode_problems(kept)))) == kept
    for bad in ([[], 5], [[], {}], [[1]], [[], [[]]]):
        with pytest.raises((cachefiles.Unreadable, TypeError, ValueError)):
            cache_module.decode_problems(bad)
