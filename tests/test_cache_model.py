"""The engine keeps validated front matter between builds (issue 10): a rebuild after one edit
validates one file, not every file, and what it keeps is never staler than a cold build."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

import qsite.build as pipeline
from qsite.build import Options, build
from qsite.incremental import cachefiles
from qsite.incremental.cache import meta_codec
from qsite.incremental.cachefiles import Unreadable
from qsite.model import Meta, Tag

from conftest import NOW, SITE_YAML, TINY, post, tree, write_files

LONDON = ZoneInfo("Europe/London")
TAGGED = TINY | {"templates/post.html": "post|{{ post.url }}|{{ post.date | iso }}|{{ post.authors | join(',') }}|\n"}


@pytest.fixture
def validations(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The files whose front matter the build validated (the real ``read_meta``, counted)."""
    seen: list[str] = []
    real = pipeline.read_meta

    def read_meta(doc, config, problems):  # type: ignore[no-untyped-def]
        seen.append(doc.rel)
        return real(doc, config, problems)

    monkeypatch.setattr(pipeline, "read_meta", read_meta)
    return seen


def start(root: Path) -> None:
    write_files(root, {
        "site.yaml": SITE_YAML + "author: Site Editor\ntimezone: Europe/London\n",
        **TAGGED,
        "content/posts/a.md": post("A", "2021-06-01", tags="[alpha]"),
        "content/posts/b.md": post("B", "2021-06-02", "[space-to-learn]", tags="[alpha, beta]"),
        "content/posts/c.md": post("C", "2021-06-03 09:30"),
        "content/pages/about.md": "---\ntitle: About\n---\nAbout us.\n",
    })


def cold(root: Path, out: Path) -> dict[str, bytes]:
    build(root, Options(now=NOW, output=out, cache=False, search=False))
    return tree(out)


def test_a_rebuild_after_one_edit_validates_only_that_file(tmp_path: Path, validations: list[str]) -> None:
    root = tmp_path / "site"
    start(root)
    build(root, Options(now=NOW, search=False))
    assert sorted(validations) == ["content/pages/about.md", "content/posts/a.md", "content/posts/b.md",
                                   "content/posts/c.md"]
    validations.clear()
    path = root / "content/posts/b.md"
    path.write_text(path.read_text() + "\nOne more sentence.\n")
    build(root, Options(now=NOW, search=False))
    assert validations == ["content/posts/b.md"]


def test_edited_tags_themes_and_dates_reach_every_page_that_shows_them(tmp_path: Path) -> None:
    root = tmp_path / "site"
    start(root)
    build(root, Options(now=NOW, search=False))
    write_files(root, {
        "content/posts/a.md": post("A", "2020-02-29 23:30", "[health-inequalities]", tags="[gamma]"),
        "content/posts/b.md": post("B", "2021-06-02", "[space-to-learn]", tags="[beta]"),
    })
    (root / "content/posts/c.md").unlink()
    warm = build(root, Options(now=NOW, search=False))
    assert warm.cache_hits > 0
    out = root / "output"
    assert tree(out) == cold(root, tmp_path / "cold")
    assert "2020-02-29T23:30:00+00:00" in (out / "posts/a/index.html").read_text()  # London is on GMT in February
    assert "/posts/a/" in (out / "tags/gamma/index.html").read_text()
    assert not (out / "tags/alpha").exists()
    assert "/posts/a/" in (out / "themes/health-inequalities/index.html").read_text()
    assert "/posts/a/" not in (out / "themes/staff-wellbeing/index.html").read_text()
    assert not (out / "posts/c").exists()
    assert "2020-02" in (out / "archive/index.html").read_text()


@pytest.mark.parametrize("change", ["author", "timezone"])
def test_a_site_yaml_change_validates_every_file_again(
    tmp_path: Path, validations: list[str], change: str
) -> None:
    # read_meta uses site.yaml (the default author, the timezone dates are read in), so a meta
    # kept from the last build is stale once it changes
    root = tmp_path / "site"
    start(root)
    build(root, Options(now=NOW, search=False))
    validations.clear()
    text = (root / "site.yaml").read_text()
    if change == "author":
        text = text.replace("author: Site Editor", "author: New Editor")
    else:
        text = text.replace("timezone: Europe/London", "timezone: America/New_York")
    (root / "site.yaml").write_text(text)
    build(root, Options(now=NOW, search=False))
    assert len(validations) == 4
    out = root / "output"
    assert tree(out) == cold(root, tmp_path / "cold")
    page = (out / "posts/c/index.html").read_text()
    if change == "author":
        assert "|New Editor|" in page
    else:
        assert "|2021-06-03T09:30:00-04:00|" in page  # 09:30 in New York, not in London


def test_a_damaged_meta_entry_is_validated_again_with_a_note(tmp_path: Path, validations: list[str]) -> None:
    root = tmp_path / "site"
    start(root)
    build(root, Options(now=NOW, search=False))
    expected = tree(root / "output")
    damaged = 0
    for shard in sorted((root / cachefiles.FOLDER).glob("metas-*.json")):
        doc = json.loads(shard.read_text())
        for entry in doc["data"].values():
            entry[4] = "not a date"  # the date of every kept meta
            damaged += 1
        shard.write_text(json.dumps(doc))
    assert damaged == 4
    validations.clear()
    (root / "content/posts/a.md").write_text((root / "content/posts/a.md").read_text() + "\nMore.\n")
    result = build(root, Options(now=NOW, search=False))
    assert len(validations) == 4
    assert len([n for n in result.cache_notes if "metas-" in n]) == 3  # the other three (a.md changed)
    assert tree(root / "output") == expected == cold(root, tmp_path / "cold")  # the template shows no body


def sample_meta(**changes: object) -> Meta:
    values: dict[str, object] = dict(
        source="content/posts/a.md", kind="post", slug="a", title="A", date=datetime(2021, 10, 31, 1, 30, tzinfo=LONDON),
        updated=None, themes=("staff-wellbeing",), tags=(Tag("alpha", "Alpha"),), authors=("Sam",), summary=None,
        draft=False, takeaways=("Lesson",), featured=True, body="Body.", line=7,
    )
    values.update(changes)
    return Meta(**values)  # type: ignore[arg-type]


def test_the_meta_codec_covers_every_field_and_round_trips_exactly() -> None:
    codec = meta_codec(LONDON)
    assert codec.usable, "a field of Meta has a type the generic codec cannot keep"
    for meta in (sample_meta(), sample_meta(updated=datetime(2021, 10, 31, 1, 30, fold=1, tzinfo=LONDON)),
                 sample_meta(kind="page", date=None, tags=(), authors=(), summary="S", takeaways=())):
        plain = json.loads(json.dumps(codec.encode(meta)))
        assert "Body." not in json.dumps(plain)  # the body is the parsed file's, not kept twice
        again = codec.decode(plain, body=meta.body)
        assert again == meta
        for name in ("date", "updated"):
            value, back = getattr(meta, name), getattr(again, name)
            if value is not None:  # the same zone and the same side of the clocks going back
                assert back.tzinfo is LONDON and back.fold == value.fold and back.utcoffset() == value.utcoffset()


@pytest.mark.parametrize("changes", [
    {"date": datetime(2021, 6, 1, tzinfo=ZoneInfo("America/New_York"))},  # not the site's timezone
    {"title": 3}, {"themes": ["a"]}, {"tags": (("alpha", "Alpha"),)}, {"featured": 1},
])
def test_the_meta_codec_refuses_what_it_could_not_give_back(changes: dict[str, object]) -> None:
    with pytest.raises(TypeError):
        meta_codec(LONDON).encode(sample_meta(**changes))


@pytest.mark.parametrize("position, value", [(0, 1), (4, "2021-06-01"), (4, "x"), (6, "a"), (7, [["alpha"]]),
                                             (10, "false"), (13, True)])
def test_the_meta_decoder_checks_every_field(position: int, value: object) -> None:
    codec = meta_codec(LONDON)
    plain = codec.encode(sample_meta())
    plain[position] = value
    with pytest.raises((Unreadable, TypeError, ValueError)):
        codec.decode(plain, body="Body.")


FINGERPRINT = """
import sys
from datetime import datetime
from zoneinfo import ZoneInfo
from qsite.incremental.cache import Fingerprints
from qsite.model import Tag
when = datetime(2021, 3, int(sys.argv[1]), 9, 30, tzinfo=ZoneInfo(sys.argv[2]))
print(Fingerprints().of({"title": "A", "date": when, "tags": (Tag("a", "A"), Tag("b", "B")), "n": [1, 2.5, None]}).hex())
"""


def test_a_context_fingerprint_is_the_same_in_every_process_and_sees_every_date() -> None:
    # page keys outlive the process that made them; the pickler keeps a few objects (dates'
    # classes, its own marker) at fixed places in its memo instead of pickling them each time
    import subprocess
    import sys

    def fingerprint(day: str, zone: str) -> str:
        run = subprocess.run([sys.executable, "-c", FINGERPRINT, day, zone], capture_output=True, text=True, check=True)
        return run.stdout.strip()

    first = fingerprint("1", "Europe/London")
    assert fingerprint("1", "Europe/London") == first
    assert fingerprint("2", "Europe/London") != first
    assert fingerprint("1", "Europe/Dublin") != first  # the same offset in March, another zone
