"""Long texts in the build cache are kept after its JSON, as raw UTF-8 (issue 10): a rebuild of
5,000 posts parsed ~70 MB of JSON strings, escapes and all, to find the Markdown bodies and
their HTML. These check the new layout stays data only, gives back every text exactly, and
that damage to it costs one entry or one file, never the build."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from qsite.build import Options, build
from qsite.incremental import cache as cache_module
from qsite.incremental import cachefiles
from qsite.incremental.cache import Cache, _Store, decode_rendered, encode_rendered
from qsite.markup import Rendered

from conftest import NOW, SITE_YAML, TINY, post, tree, write_files

TRICKY = "Quotes \" and \\ backslashes, a tab\t, é, 😀, a lone line\n\nand <b>tags</b>.\n"


def rendered(html: str) -> Rendered:
    return Rendered(html, f"<p>{html[:5]}</p>", False, 3, ((2, "a", "A"),))


def test_dump_and_load_texts_give_back_every_text_exactly(tmp_path: Path) -> None:
    texts = [TRICKY, "", "\n", "plain", "\x00nul"]
    path = tmp_path / "x.json"
    cachefiles.dump(path, {"a": [0, 4]}, texts)
    head, newline, _tail = path.read_bytes().partition(b"\n")
    assert newline and b"backslashes" not in head  # the texts are not in the JSON
    notes: list[str] = []
    assert cachefiles.load_texts(path, lambda data, found: (data, found), notes) == ({"a": [0, 4]}, texts)
    assert notes == []


@pytest.mark.parametrize("damage", [
    lambda raw: raw[:-3],  # truncated
    lambda raw: raw + b"more",  # longer than its lengths say
    lambda raw: raw.replace("é".encode(), b"\xff\xfe"),  # not UTF-8, same length
    lambda raw: raw.replace(b'"texts":[', b'"texts":[-1,'),  # a length that is no length
    lambda raw: raw.partition(b"\n")[0],  # the texts gone
])
def test_damaged_texts_make_the_file_unreadable_with_a_note(tmp_path: Path, damage: object) -> None:
    path = tmp_path / "x.json"
    cachefiles.dump(path, {"a": 0}, [TRICKY, "second"])
    path.write_bytes(damage(path.read_bytes()))  # type: ignore[operator]
    notes: list[str] = []
    assert cachefiles.load_texts(path, lambda data, found: found, notes) is None
    assert len(notes) == 1 and notes[0].startswith("x.json (")


def test_a_file_of_plain_json_is_still_read_as_one_and_texts_are_refused_there(tmp_path: Path) -> None:
    path = tmp_path / "stats.json"
    cachefiles.dump(path, {"a": 1})
    assert json.loads(path.read_bytes())["data"] == {"a": 1}  # no texts: plain JSON, as before
    notes: list[str] = []
    assert cachefiles.load(path, lambda data: data, notes) == {"a": 1}
    cachefiles.dump(path, {"a": 1}, ["text"])
    assert cachefiles.load(path, lambda data: data, notes) is None and len(notes) == 1


def test_an_entry_that_names_no_text_is_dropped_alone(tmp_path: Path) -> None:
    store = _Store("markdown", encode_rendered, decode_rendered, texts=(0, 1))
    keys = ["00" + "a" * 62, "00" + "b" * 62]  # the same shard
    for key, html in zip(keys, ["<p>One</p>", TRICKY], strict=True):
        store.put(key, rendered(html))
    store.save(tmp_path)
    shard = tmp_path / "markdown-00.json"
    head, _, tail = shard.read_bytes().partition(b"\n")
    doc = json.loads(head)
    assert b"<p>One</p>" not in head and b"<p>One</p>" in tail
    doc["data"][keys[0]][0] = 99  # names no text
    shard.write_bytes(json.dumps(doc).encode() + b"\n" + tail)
    again = _Store("markdown", encode_rendered, decode_rendered, texts=(0, 1))
    notes: list[str] = []
    again.load(tmp_path, notes)
    assert again.get(keys[0]) is None
    assert again.get(keys[1]) == rendered(TRICKY)
    assert len(notes) == 1 and "markdown-00.json (an entry" in notes[0]


def test_the_json_of_the_body_stores_holds_no_body_and_a_warm_build_equals_a_cold_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cache_module, "RACY_NS", -10**12)
    monkeypatch.setattr(cachefiles, "RACY_NS", -10**12)
    root = tmp_path / "site"
    write_files(root, {
        "site.yaml": SITE_YAML, **TINY,
        "content/posts/a.md": post("A", "2021-06-01", body=TRICKY),
        "content/posts/b.md": post("B", "2021-06-02", body="Unmistakable marker text.\n\n## Part\n"),
    })
    options = Options(now=NOW, search=False)
    build(root, options)
    folder = root / cachefiles.FOLDER
    for name in ("sources", "markdown"):
        shards = sorted(folder.glob(f"{name}-*.json"))
        assert shards, name
        for shard in shards:
            head = shard.read_bytes().partition(b"\n")[0]
            assert b"Unmistakable marker" not in head and b"backslashes" not in head, shard.name
    cache = Cache.open(root)
    assert cache.notes == []
    (root / "content/posts/b.md").write_text(post("B", "2021-06-02", body="Edited.\n"), encoding="utf-8")
    warm = build(root, options)
    assert warm.cache_notes == [] and warm.cache_hits > 0
    build(root, Options(now=NOW, search=False, cache=False, output=tmp_path / "cold"))
    assert tree(root / "output") == tree(tmp_path / "cold")


@pytest.mark.parametrize("bad", [{"a": [1, 2, 3, 4, 5]}, {"a": [1, 2, 3, 4, True, "h"]}, {"a": [1, 2, 3, 4, 5, 6]},
                                 {"a": "x"}, []])
def test_the_stats_decoder_checks_every_field_in_its_one_loop(bad: object) -> None:
    assert cache_module._decode_stats({"a": [1, 2, 3, 4, 5, "h"]}) == {"a": (1, 2, 3, 4, 5, "h")}
    with pytest.raises(cachefiles.Unreadable):
        cache_module._decode_stats(bad)


@pytest.mark.parametrize("bad", [{"p": ["k", [1, 2]]}, {"p": [1, [1, 2, 3]]}, {"p": ["k", [1, 2, False]]}, {"p": ["k"]}])
def test_the_pages_decoder_checks_every_field_in_its_one_loop(bad: object) -> None:
    assert cache_module._decode_pages({"p": ["k", [1, 2, 3]]}) == {"p": ("k", (1, 2, 3))}
    with pytest.raises(cachefiles.Unreadable):
        cache_module._decode_pages(bad)
