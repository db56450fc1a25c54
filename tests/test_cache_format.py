"""The build cache holds data, not code (issue 9 item 6, STYLE.md section 4).

``.qsite-cache/`` can arrive in a commit or through CI's cache restore, so these tests treat it
as hostile: a pickle that would run code, under every file name qsite reads now or read
before, must run nothing; a damaged, truncated, empty, foreign or wrongly typed file must
cost one line of notice and never stop or change a build.
"""

from __future__ import annotations

import inspect
import json
import math
import os
import pickle
import re
import subprocess
import sys
from pathlib import Path

import pytest

from qsite import cli
from qsite.content import SourceDoc, parse_document
from qsite.incremental import cache as cache_module
from qsite.incremental import cachefiles, fastpath
from qsite.incremental.cache import decode_doc, decode_rendered, encode_doc, encode_rendered
from qsite.markup import Rendered, render_markdown

from conftest import REPO, SITE_YAML, copy_templates, post, write_files

EPOCH = "1638360000"  # 2021-12-01 12:00 UTC: the same "now" for every build of a test

FILES = {
    "site.yaml": SITE_YAML,
    "content/posts/a.md": post("A", "2020-04-01", tags="[huddles, run charts]", body="See [B](/posts/b/).\n\n## Part"),
    "content/posts/b.md": post("B", "2020-04-02", "[space-to-learn, staff-wellbeing]", summary="Short"),
    "content/posts/c.md": post("C", "2020-05-02", "[space-to-learn]", takeaways="[One, Two]"),
    "content/pages/about.md": "---\ntitle: About\n---\nAbout us.\n",
}

# Every name qsite's cache folder has held: the pickles of earlier versions and today's JSON.
OLD_NAMES = ["last-build.pickle", "stats.pickle", "pages.pickle", "related.pickle", "templates.pickle"] + [
    f"{kind}-{i:02d}.pickle" for kind in ("sources", "markdown") for i in range(16)
]
NEW_NAMES = ["last-build.json", "stats.json", "pages.json", "related.json", "templates.json", "search-index.json"] + [
    f"{kind}-{i:02d}.json" for kind in ("sources", "markdown") for i in range(16)
]


class _Payload:
    """Unpickling this calls ``os.mkdir(marker)``: the harmless stand-in for any code."""

    def __init__(self, marker: Path):
        self.marker = str(marker)

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (os.mkdir, (self.marker,))


def tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    root = tmp_path / "site"
    write_files(root, FILES)
    copy_templates(root)
    return root


def qsite_build(root: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, str]:
    """``qsite build --no-search`` as the CLI runs it (the no-change check first); (exit, stderr)."""
    capsys.readouterr()
    code = cli.main(["build", "--source", str(root), "--no-search", "--quiet", *extra])
    return code, capsys.readouterr().err


def reference(root: Path, capsys: pytest.CaptureFixture[str]) -> dict[str, bytes]:
    """A clean build's output, made without reading or writing the cache."""
    out = root.parent / "reference"
    code, _err = qsite_build(root, capsys, "--no-cache", "--output", str(out))
    assert code == 0
    return tree(out)


def note_lines(err: str) -> list[str]:
    return [line for line in err.splitlines() if line.startswith("note:")]


def test_the_payload_really_runs_code_when_unpickled(tmp_path: Path) -> None:
    """The control for the test below: were qsite to unpickle the payload, the marker would appear."""
    marker = tmp_path / "ran"
    pickle.loads(pickle.dumps(_Payload(marker)))
    assert marker.is_dir()


def test_a_hostile_cache_runs_nothing_and_changes_nothing(
    site: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    expected = reference(site, capsys)
    marker = tmp_path / "code-ran"
    payload = pickle.dumps(_Payload(marker))
    folder = site / cachefiles.FOLDER
    folder.mkdir()
    for name in OLD_NAMES + NEW_NAMES:
        (folder / name).write_bytes(payload)
    code, err = qsite_build(site, capsys)
    assert code == 0
    assert not marker.exists(), "loading the cache ran code"
    assert tree(site / "output") == expected
    notes = note_lines(err)
    assert len(notes) == 1 and ".qsite-cache/" in notes[0] and "unreadable" in notes[0], err
    assert not list(folder.glob("*.pickle")), "the old format's files are removed"
    # the cache was rebuilt: the next build reads it without a note, and changes nothing
    code, err = qsite_build(site, capsys)
    assert (code, note_lines(err)) == (0, [])
    assert tree(site / "output") == expected
    assert not marker.exists()


def test_a_hostile_cache_runs_nothing_in_a_fresh_process(site: Path, tmp_path: Path) -> None:
    """The same, as an editor runs it: ``python -m qsite build`` in its own process."""
    marker = tmp_path / "code-ran"
    folder = site / cachefiles.FOLDER
    folder.mkdir()
    for name in OLD_NAMES + NEW_NAMES:
        (folder / name).write_bytes(pickle.dumps(_Payload(marker)))
    run = subprocess.run(
        [sys.executable, "-m", "qsite", "build", "--source", str(site), "--no-search"],
        capture_output=True, text=True, env={**os.environ, "SOURCE_DATE_EPOCH": EPOCH}, cwd=REPO, check=False,
    )
    assert run.returncode == 0, run.stderr
    assert not marker.exists(), "loading the cache ran code"
    assert len(note_lines(run.stderr)) == 1, run.stderr


def _wrong_types(data: object) -> object:
    """The same shape with every value of the wrong type: what a hand-edited or foreign file may hold."""
    if isinstance(data, dict):
        return {key: "wrong" if not isinstance(value, str) else 0 for key, value in data.items()}
    if isinstance(data, list):
        return [None] * len(data)
    return [data]


def split(raw: bytes) -> tuple[dict[str, object], bytes | None]:
    """A cache file's JSON, and the texts kept after it (``cachefiles.load_texts``), if any."""
    head, newline, tail = raw.partition(b"\n")
    return json.loads(head), tail if newline else None


def joined(doc: dict[str, object], tail: bytes | None) -> bytes:
    return json.dumps(doc).encode() + (b"\n" + tail if tail is not None else b"")


def _damage(path: Path, how: str) -> None:
    raw = path.read_bytes()
    if how == "truncated":
        path.write_bytes(raw[: len(raw) // 2])
    elif how == "garbage":
        path.write_bytes(os.urandom(64) + b"\x00\xff not json")
    elif how == "empty":
        path.write_bytes(b"")
    elif how == "wrong-types":  # a valid wrapper of this qsite, with data of the wrong types
        doc, tail = split(raw)
        doc["data"] = _wrong_types(doc["data"])
        path.write_bytes(joined(doc, tail))
    elif how == "other-qsite":  # a valid file of another qsite version (another ENGINE)
        doc, tail = split(raw)
        doc["engine"] = "0" * 64
        path.write_bytes(joined(doc, tail))
    elif how == "other-format":
        path.write_text(json.dumps({"format": "qsite-cache/1", "data": {}}))
    else:  # pragma: no cover
        raise AssertionError(how)


@pytest.mark.parametrize("how", ["truncated", "garbage", "empty", "wrong-types", "other-qsite", "other-format"])
@pytest.mark.parametrize(
    "pattern", ["last-build.json", "stats.json", "pages.json", "related.json", "templates.json",
                "markdown-*.json", "metas-*.json"],
)  # sources-*.json: read only when a parse is asked for, see tests/test_load_later.py
def test_a_damaged_cache_file_costs_one_note_never_the_build(
    site: Path, capsys: pytest.CaptureFixture[str], pattern: str, how: str
) -> None:
    expected = reference(site, capsys)
    assert qsite_build(site, capsys) == (0, "")  # builds the cache (and the output)
    found = sorted((site / cachefiles.FOLDER).glob(pattern))
    assert found, pattern
    target = found[0]
    _damage(target, how)
    if pattern != "last-build.json":
        fastpath.forget(site)  # else the no-change check would (rightly) skip the build and read nothing else
    code, err = qsite_build(site, capsys)
    assert code == 0
    notes = note_lines(err)
    assert len(notes) == 1 and target.name in notes[0], err
    assert len(err.splitlines()) == 1, err  # the note, and nothing else
    assert tree(site / "output") == expected
    # rebuilt: read without a note next time (a no-change build would read nothing: force a full one)
    fastpath.forget(site)
    assert qsite_build(site, capsys) == (0, "")
    assert tree(site / "output") == expected


def test_a_warm_build_with_a_cache_entry_of_the_wrong_type_equals_a_cold_one(
    site: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """One entry damaged inside an otherwise good shard: that entry is made again."""
    expected = reference(site, capsys)
    assert qsite_build(site, capsys) == (0, "")
    shard = sorted((site / cachefiles.FOLDER).glob("markdown-*.json"))[0]
    doc, tail = split(shard.read_bytes())
    key = next(iter(doc["data"]))
    doc["data"][key][0] = 42  # the HTML of one post's body, now a text that is not there
    shard.write_bytes(joined(doc, tail))
    (site / "content/posts/a.md").write_text(FILES["content/posts/a.md"])  # same bytes: read again
    fastpath.forget(site)
    code, err = qsite_build(site, capsys)
    assert code == 0 and tree(site / "output") == expected
    assert len(note_lines(err)) <= 1


def test_the_cache_folder_holds_only_data(site: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Nothing in it is code: every file but the CACHEDIR tag is JSON of this format, and
    Jinja's compiled templates are not among them."""
    assert qsite_build(site, capsys) == (0, "")
    folder = site / cachefiles.FOLDER
    names = sorted(p.name for p in folder.iterdir())
    assert "CACHEDIR.TAG" in names and "last-build.json" in names and "templates.json" in names
    for path in folder.iterdir():
        if path.name == "CACHEDIR.TAG":
            continue
        if path.name in ("images", "cards"):  # encoded images and preview cards (issue 14): images only
            for file in path.rglob("*"):
                if file.is_file() and file.name != "info.json":
                    assert file.read_bytes()[:4] in (b"\x89PNG", b"RIFF", b"\xff\xd8\xff\xe0", b"\xff\xd8\xff\xdb"), file
            continue
        doc, tail = split(path.read_bytes())  # JSON, then (bodies, HTML) texts only
        assert doc["format"] == cachefiles.FORMAT and doc["engine"] == cachefiles.ENGINE, path.name
        if tail is not None:
            assert sum(doc["texts"]) == len(tail), path.name
            tail.decode("utf-8")  # raises if the texts are not UTF-8 text
    templates = json.loads((folder / "templates.json").read_bytes())["data"]
    for names_used, pulled in templates.values():  # what each template looks up and pulls in: names only
        assert all(isinstance(n, str) for n in names_used)
        assert pulled is None or all(isinstance(n, str) for n in pulled)


def test_no_module_of_qsite_loads_code_from_disk() -> None:
    """A guard against a pickle, marshal or shelve load (or Jinja's file bytecode cache) coming
    back, in any module of the package. One place loads code, on purpose: Jinja's compiled
    templates from the per-user folder outside the site (``cache.CompiledTemplates``, checked as
    Jinja checks its own folder: tests/test_template_cache.py), never from ``.qsite-cache/``."""
    forbidden = re.compile(
        r"pickle\.loads?\(|Unpickler|\bmarshal\b|\bshelve\b|FileSystemBytecodeCache\(|dill\b|bytecode_from_string"
    )
    package = REPO / "qsite"
    found = [f"{p.relative_to(package).as_posix()}:{n}" for p in sorted(package.rglob("*.py"))
             for n, line in enumerate(p.read_text().splitlines(), 1) if forbidden.search(line)]
    allowed = inspect.getsource(cache_module.CompiledTemplates.load_bytecode).splitlines()
    start = inspect.getsourcelines(cache_module.CompiledTemplates.load_bytecode)[1]
    vetted = {f"incremental/cache.py:{start + i}" for i, line in enumerate(allowed) if forbidden.search(line)}
    assert vetted and sorted(found) == sorted(vetted)


def test_the_codecs_cover_every_field_of_what_they_keep() -> None:
    """A field added to a cached dataclass but not to its codec would be dropped on the way
    to disk; qsite then refuses to cache that kind at all, and this test says why."""
    assert all(cache_module.CODECS_CURRENT.values()), cache_module.CODECS_CURRENT
    assert fastpath.codecs_current()


def test_documents_and_markdown_round_trip_exactly() -> None:
    text = (
        "---\ntitle: \"1.10\"\ndate: 2020-04-01\nthemes: [a, b]\ncount: 3\nratio: 0.5\nflag: true\nnothing: null\n"
        "nested:\n  list: [1, two, {deep: [x]}]\n  \"7\": seven\n---\n# Heading é ✓\n\nBody with <!-- more --> text.\n"
    )
    doc = parse_document("content/posts/x.md", "post", text)
    assert isinstance(doc, SourceDoc)
    again = decode_doc(json.loads(json.dumps(encode_doc(doc))))
    assert again == doc and again.lines == doc.lines
    body = render_markdown(doc.body, "/")
    assert body.toc
    assert decode_rendered(json.loads(json.dumps(encode_rendered(body)))) == body


@pytest.mark.parametrize("value", [
    ["r", "post", {"a": 1}, [], "b", 1, True],  # a bool where a line number belongs
    ["r", "post", {"a": {"__class__": "os.system"}}, [], "b", 1, 1],  # decoded as data, which it is
    ["r", "post", [1], [], "b", 1, 1],  # front matter that is not an object
    ["r", "post", {}, [[["a", 1.5], 3]], "b", 1, 1],  # a float in a path
    ["r", "post", {}, [], "b", 1],  # a field missing
    ["r", "post", {"a": "DEEP"}, [], "b", 1, 1],  # nested deeper than any front matter can be
])
def test_the_document_decoder_checks_every_field(value: list[object]) -> None:
    if value[2] == {"a": "DEEP"}:
        deep: object = 1
        for _ in range(100):
            deep = [deep]
        value = [*value[:2], {"a": deep}, *value[3:]]
    if isinstance(value[2], dict) and "__class__" in str(value[2]):
        assert decode_doc(value).meta == {"a": {"__class__": "os.system"}}  # plain text, nothing imported
        return
    with pytest.raises((cachefiles.Unreadable, ValueError)):
        decode_doc(value)


def test_values_json_cannot_keep_exactly_are_not_cached() -> None:
    doc = parse_document("content/posts/x.md", "post", "---\ntitle: T\nbig: 99999999999999999999\nx: .inf\n---\nB\n")
    with pytest.raises(TypeError):
        encode_doc(doc)  # type: ignore[arg-type]
    store = cache_module._Store("sources", encode_doc, decode_doc)
    store.put("ab" * 32, doc)  # kept in memory for this build, never written
    assert store.shards[int("ab", 16) % cache_module.SHARDS] == {}
    assert math.isinf(doc.meta["x"])  # type: ignore[union-attr]


def test_rendered_decoder_refuses_wrong_types() -> None:
    good = encode_rendered(Rendered("<p>x</p>", "<p>x</p>", False, 1, ((2, "h", "H"),)))
    assert decode_rendered(good).toc == ((2, "h", "H"),)
    for i, wrong in enumerate([1, 1, "no", "1", [[2, "h"]]]):
        bad = list(good)
        bad[i] = wrong
        with pytest.raises(cachefiles.Unreadable):
            decode_rendered(bad)


def test_a_cache_in_memory_keeps_values_as_they_are() -> None:
    """``qsite serve`` (and --no-cache) keep the cache in memory: nothing is encoded, so even
    a value JSON cannot keep is reused between rebuilds."""
    doc = parse_document("content/posts/x.md", "post", "---\ntitle: T\nbig: 99999999999999999999\n---\nB\n")
    memory = cache_module.Cache()
    memory.docs.put("ab" * 32, doc)
    assert memory.docs.get("ab" * 32) is doc
    assert all(shard == {} for shard in memory.docs.shards)


def test_dump_writes_a_large_record_without_holding_its_whole_text(tmp_path: Path) -> None:
    """The end of a build, when the process is at its largest, dumps records of ~70,000
    entries (every output file's stamp): ``dump`` writes them in pieces, never the whole JSON
    text and its bytes at once, and the file reads back the same as ``json.dumps`` would have
    written it."""
    import tracemalloc

    data = {"output": {f"posts/{i:06d}/index.html": [i, i * 7, "x" * 40] for i in range(60_000)},
            "folders": [[f"posts/{i:06d}", i] for i in range(20_000)], "n": 1}
    whole = len(json.dumps(data, ensure_ascii=False, separators=(",", ":")))  # ~5 MB
    path = tmp_path / "big.json"
    tracemalloc.start()
    try:
        cachefiles.dump(path, data)
        _now, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < whole / 4  # the text and its bytes at once were 2 × whole
    assert cachefiles.load(path, lambda value: value, []) == data
    header = {"format": cachefiles.FORMAT, "engine": cachefiles.ENGINE, "data": data}
    assert path.read_bytes() == json.dumps(header, ensure_ascii=False, separators=(",", ":")).encode()
