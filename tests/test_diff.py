"""`qsite diff OLD NEW` (issue 13): the pages a change adds, changes and removes, by title and
address, as Markdown for the pull-request preview's job summary. Every test compares two real
builds made by `qsite build` with the production templates."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from qsite import cli

from conftest import BASE, post, write_files


def build(tmp_path: Path, name: str, files: dict[str, str], *args: str) -> Path:
    """A site written from ``files`` and built into ``tmp_path/name-out``."""
    root = tmp_path / name
    write_files(root, files)
    out = tmp_path / f"{name}-out"
    assert cli.main(["build", "--source", str(root), "--output", str(out), "--quiet", "--no-cache", *args]) == 0
    return out


def diff(old: Path, new: Path, capsys: pytest.CaptureFixture[str]) -> str:
    capsys.readouterr()
    assert cli.main(["diff", str(old), str(new)]) == 0
    return capsys.readouterr().out


def section(text: str, heading: str) -> str:
    """The rows under ``#### heading (N)``, up to the next heading."""
    match = re.search(rf"^#### {heading} \(\d+\)\n(.*?)(?=^#|\Z)", text, re.S | re.M)
    return match.group(1) if match else ""


A = post("Huddles that work", "2020-04-01", body="First version.")
B = post("Rough sleepers and the winter plan", "2020-04-02", themes="[health-inequalities]")
C = post("A new post about learning", "2020-04-03", themes="[space-to-learn]")


def test_added_changed_and_removed_posts_are_listed_with_titles_and_addresses(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    old = build(tmp_path, "old", {**BASE, "content/posts/a.md": A, "content/posts/b.md": B}, "--no-search")
    edited = A.replace("First version.", "Second version.").replace("Huddles that work", "Huddles that really work")
    new = build(tmp_path, "new", {**BASE, "content/posts/a.md": edited, "content/posts/c.md": C}, "--no-search")
    text = diff(old, new, capsys)

    assert "| A new post about learning | `/posts/c/` |" in section(text, "Added")
    assert "| Rough sleepers and the winter plan | `/posts/b/` |" in section(
        text, "Removed")
    changed = section(text, "Changed")
    assert "| Huddles that really work (was: Huddles that work) | `/posts/a/` |" in changed
    assert "`/` |" in changed  # the home page lists them
    # the theme whose only post went, and the one that got its first
    assert "`/themes/health-inequalities/`" in section(text, "Changed")
    assert "`/themes/space-to-learn/`" in section(text, "Changed")
    assert "`/posts/b/`" not in changed
    assert "/feed.xml" in text  # other files, folded away
    counts = re.search(r"^(\d+) added, (\d+) changed, (\d+) removed\.$", text, re.M)
    assert counts is not None
    assert int(counts.group(1)) == len(section(text, "Added").strip().splitlines()) - 2


def test_two_builds_of_the_same_sources_have_no_changes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """What differs between two builds of the same content: nothing, even built in another
    folder, on another day and with a search index; so any difference is a real one."""
    files = {**BASE, "content/posts/a.md": A, "content/posts/b.md": B}
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    first = build(tmp_path, "first", files)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1800000000")
    second = build(tmp_path, "second", files)
    text = diff(first, second, capsys)
    assert "No changes" in text
    assert "####" not in text and "search index" not in text


def test_a_new_qsite_version_in_the_feeds_is_not_a_change(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    files = {**BASE, "content/posts/a.md": A}
    old = build(tmp_path, "old", files, "--no-search")
    new = tmp_path / "new-out"
    shutil.copytree(old, new)
    feeds = list(new.rglob("*.xml"))
    for feed in feeds:
        data = feed.read_bytes()
        data = re.sub(rb'<generator version="[^"]*">', b'<generator version="99.0">', data)
        data = re.sub(rb"<updated>[^<]*</updated>", b"<updated>2031-01-01T00:00:00+00:00</updated>", data, count=1)
        feed.write_bytes(data)
    assert any(f.read_bytes() != (old / f.relative_to(new)).read_bytes() for f in feeds)
    assert "No changes" in diff(old, new, capsys)

    # an entry of a feed is content: that is a change
    feed = new / "feed.xml"
    feed.write_bytes(feed.read_bytes().replace(b"Huddles that work", b"Huddles that worked"))
    text = diff(old, new, capsys)
    assert "- changed: `/feed.xml`" in text and "No changes" not in text


def test_the_search_index_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    old = build(tmp_path, "old", {**BASE, "content/posts/a.md": A})
    new = build(tmp_path, "new", {**BASE, "content/posts/a.md": A.replace("First", "Better")})
    text = diff(old, new, capsys)
    assert "The search index changed." in text
    assert "pagefind" not in text


def test_titles_cannot_inject_markdown_or_html(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    old = build(tmp_path, "old", {**BASE}, "--no-search")
    title = '"A | B <img src=x onerror=alert(1)> [link](https://evil.example) *bold*"'
    new = build(tmp_path, "new", {**BASE, "content/posts/x.md": post(title, "2020-04-01", slug="x")}, "--no-search")
    [row] = [r for r in section(diff(old, new, capsys), "Added").splitlines() if "/posts/x/" in r]
    assert row == (r"| A \| B \<img src=x onerror=alert(1)\> \[link\](https://evil.example) \*bold\* | `/posts/x/` |")


def test_missing_folders_are_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    real = tmp_path / "real"
    real.mkdir()
    assert cli.main(["diff", str(real), str(tmp_path / "gone")]) == 2
    err = capsys.readouterr().err
    assert f"{tmp_path / 'gone'}: error: there is no such folder" in err
    assert cli.main(["diff", str(tmp_path / "a"), str(tmp_path / "b")]) == 2
    assert capsys.readouterr().err.count("there is no such folder") == 2
