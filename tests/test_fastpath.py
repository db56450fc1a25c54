"""The CLI's no-change shortcut (qsite/incremental/fastpath.py): it may skip a build only when nothing
that goes into the output changed, so each test changes one input and expects a real build."""

from __future__ import annotations

import dataclasses
import os
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from qsite import cli
from qsite.build import BuildResult, Options, build
from qsite.incremental import cache as cache_module
from qsite.incremental import cachefiles, fastpath
from qsite.problems import ContentError
from qsite.write import MARKER

from conftest import NOW, SITE_YAML, copy_templates, post, write_files


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    # Files written a moment ago are "racy" (a second edit could keep their mtime) and never
    # vouched for by their stat; these tests make them trusted at once.
    monkeypatch.setattr(cache_module, "RACY_NS", -10**12)
    monkeypatch.setattr(cachefiles, "RACY_NS", -10**12)
    root = tmp_path / "site"
    write_files(root, {
        "site.yaml": SITE_YAML,
        "content/posts/a.md": post("A", "2020-04-01"),
        "content/posts/soon.md": post("Soon", "2021-12-05", "[space-to-learn]"),
    })
    copy_templates(root)
    return root


def quick(root: Path, now: datetime = NOW, drafts: bool = False) -> BuildResult:
    return build(root, Options(now=now, quick=True, search=False, drafts=drafts))


@pytest.fixture
def forks(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The child processes forked since (``fastpath._Child``), by pid. The check forks only
    where no other thread runs, as in ``qsite build``'s process; threads another test left
    behind in this one (the child would not touch what they hold) must not change which
    path these tests take."""
    monkeypatch.setattr(fastpath.threading, "active_count", lambda: 1)
    started: list[int] = []
    real = os.fork

    def fork() -> int:
        pid = real()
        if pid:
            started.append(pid)
        return pid

    monkeypatch.setattr(os, "fork", fork)
    return started


def _options(site: Path) -> tuple[object, ...]:
    return fastpath.options_key(False, False, None, False, site / "output")


def test_nothing_changed_means_nothing_is_done(site: Path) -> None:
    first = quick(site)
    assert not first.quick
    again = quick(site)
    assert again.quick and again.site is None
    assert again.pages == first.pages and again.post_count == 1


def test_an_edited_post_is_built(site: Path) -> None:
    quick(site)
    (site / "content/posts/a.md").write_text(post("A", "2020-04-01", body="New words."))
    assert not quick(site).quick
    assert "New words." in (site / "output/posts/a/index.html").read_text()


def test_a_scheduled_post_appears_once_it_is_due(site: Path) -> None:
    quick(site)
    assert quick(site, NOW + timedelta(days=1)).quick  # still scheduled: nothing changed
    due = quick(site, NOW + timedelta(days=5))
    assert not due.quick
    assert (site / "output/posts/soon/index.html").is_file()


def test_an_earlier_now_is_built(site: Path) -> None:
    quick(site, NOW + timedelta(days=5))
    assert not quick(site, NOW).quick
    assert not (site / "output/posts/soon/index.html").exists()


def test_a_hand_edited_or_stray_output_file_is_repaired(site: Path) -> None:
    quick(site)
    page = site / "output/posts/a/index.html"
    good = page.read_bytes()
    os.unlink(page)
    page.write_bytes(good.replace(b"<h1>A</h1>", b"<h1>Vandalised</h1>"))
    assert not quick(site).quick
    assert page.read_bytes() == good
    (site / "output/stray.html").write_text("not ours")
    assert not quick(site).quick
    assert not (site / "output/stray.html").exists()


def test_a_recent_edit_that_keeps_its_stat_is_built(tmp_path: Path) -> None:
    """Without trusting recent stats: two edits within the clock's granularity can leave a
    file's stat as it was, so a file changed just before a build is compared by its bytes."""
    root = tmp_path / "site"
    write_files(root, {"site.yaml": SITE_YAML, "content/posts/a.md": post("A", "2020-04-01", body="Old words.")})
    copy_templates(root)
    quick(root)
    record_path = root / cache_module.FOLDER / fastpath.RECORD
    record = fastpath.load_record(root)
    assert record is not None
    assert "content/posts/a.md" in record.racy  # written a moment before the build
    out = root / "output"
    options = fastpath.options_key(False, False, None, False, out)
    assert fastpath.unchanged(root, out, options, NOW) is not None
    (root / "content/posts/a.md").write_text(post("A", "2020-04-01", body="New words."))
    # the edit as the check would see it if the stat had not changed: only the bytes differ
    snap = fastpath.snapshot_sources(root)
    assert snap is not None
    cachefiles.dump(record_path, *fastpath.encode_record(dataclasses.replace(record, sources=snap.digest)))
    assert fastpath.unchanged(root, out, options, NOW) is None


def test_other_options_or_a_new_template_are_built(site: Path) -> None:
    quick(site)
    assert not quick(site, drafts=True).quick
    quick(site)
    (site / "templates/partials/extra.html").write_text("unused")
    assert not quick(site).quick


def test_a_failed_build_forgets_the_record(site: Path) -> None:
    quick(site)
    record = site / cache_module.FOLDER / fastpath.RECORD
    assert record.is_file()
    (site / "content/posts/a.md").write_text("---\ntitle: A\n---\nno date, no themes\n")
    with pytest.raises(ContentError):
        quick(site)
    assert not record.exists()


def test_the_cli_says_nothing_changed_and_repeats_the_warnings(site: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (site / "content/notes.md").write_text("# A note\n")  # a Markdown file qsite does not know: a warning
    assert cli.main(["build", "--source", str(site), "--no-search"]) == 0
    first = capsys.readouterr()
    assert cli.main(["build", "--source", str(site), "--no-search"]) == 0
    again = capsys.readouterr()
    assert "nothing changed" in again.out and "nothing changed" not in first.out
    assert "notes.md" in first.err and again.err == first.err


def _swap_for_link(folder: Path) -> None:
    moved = folder.parent.parent.parent / "elsewhere"
    os.rename(folder, moved)
    os.symlink(moved, folder)


def _same_size_new_mtime(page: Path) -> None:
    st = page.stat()
    with page.open("r+b") as f:
        f.write(b"X")  # the first byte, in place: same size, same inode
    os.utime(page, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))


def _file_for_link(folder: Path) -> None:
    page = folder / "index.html"
    copy = folder.parent.parent.parent / "copy.html"
    copy.write_bytes(page.read_bytes())
    page.unlink()
    os.symlink(copy, page)


@pytest.mark.parametrize("change", [
    lambda a: (a / "extra.html").write_text("stray"),
    lambda a: (a / "new").mkdir() or (a / "new/x.html").write_text("stray"),
    lambda a: (a / "index.html").open("ab").write(b"<!-- appended in place -->"),
    lambda a: _same_size_new_mtime(a / "index.html"),
    lambda a: (a / "index.html").unlink(),
    lambda a: os.rename(a / "index.html", a / "moved.html"),
    lambda a: os.symlink("/etc/hostname", a / "link.html"),
    _file_for_link,
    _swap_for_link,
], ids=["file-added", "folder-with-file-added", "edited-in-place", "same-size-new-mtime", "removed", "renamed",
        "link-added", "file-replaced-by-a-link", "folder-replaced-by-a-link"])
@pytest.mark.parametrize("processes", [1, 2])
def test_a_change_deep_in_the_output_is_built_and_repaired(
    site: Path, change, processes: int, monkeypatch: pytest.MonkeyPatch, forks: list[int]
) -> None:
    """The check stats each output folder and file by its path, and reads a folder only if its
    stamp cannot vouch for what it holds: every change below one folder (here with every stamp
    trusted at once, see ``site``) must still be seen, and the build must leave a record that
    the next check accepts; with the files shared by a child process (large sites) too."""
    monkeypatch.setattr(fastpath, "_SHARED", 1 if processes == 2 else 10**9)
    quick(site)
    good = (site / "output/posts/a/index.html").read_bytes()
    names = sorted(p.name for p in (site / "output/posts/a").iterdir())
    change(site / "output/posts/a")
    assert not quick(site).quick
    assert (site / "output/posts/a/index.html").read_bytes() == good
    assert sorted(p.name for p in (site / "output/posts/a").iterdir()) == names
    assert not (site / "output/posts/a").is_symlink()
    assert not (site / "output/posts/a/index.html").is_symlink()
    assert quick(site).quick
    assert len(forks) == (2 if processes == 2 else 0)  # the two checks, each with its child


def _recorded(root: Path) -> fastpath.Record:
    record = fastpath.load_record(root)
    assert record is not None
    return record


def _rewrite(root: Path, record: fastpath.Record) -> None:
    cachefiles.dump(root / cache_module.FOLDER / fastpath.RECORD, *fastpath.encode_record(record))


def test_an_output_folder_changed_just_before_the_record_is_read_not_trusted(tmp_path: Path) -> None:
    """A folder changed within the clock's granularity of the record could change again and
    keep its stamp: such a folder is read. Here a stray file is added and the record given the
    folder's new stamp, as such a change would leave it: only reading the folder sees it."""
    root = tmp_path / "site"
    write_files(root, {"site.yaml": SITE_YAML, "content/posts/a.md": post("A", "2020-04-01")})
    copy_templates(root)
    for path in root.rglob("*"):  # the sources are old: only the output is recent
        os.utime(path, (1_600_000_000, 1_600_000_000))
    quick(root)
    out = root / "output"
    options = fastpath.options_key(False, False, None, False, out)
    assert fastpath.unchanged(root, out, options, NOW) is not None
    (out / "posts/a/stray.html").write_text("stray")
    last = _recorded(root)
    # the record as the build would have left it had the stray come within its clock's tick:
    # every folder's stamp as it is now, the files as they were
    stamps = {rel: cachefiles.stamp(os.lstat(out / rel)) for rel in last.output.files if rel != MARKER}
    output = fastpath.output_after(out, stamps)
    assert output is not None and output.folders.index("posts/a") in output.unproven
    _rewrite(root, dataclasses.replace(last, output=output))
    assert fastpath.unchanged(root, out, options, NOW) is None
    (out / "posts/a/stray.html").unlink()  # the folder changed again, but it holds what the record says
    _rewrite(root, dataclasses.replace(last, output=fastpath.output_after(out, stamps)))
    assert fastpath.unchanged(root, out, options, NOW) is not None


def _file(output: fastpath.Output, rel: str) -> int:
    return list(output.files).index(rel)


@pytest.mark.parametrize("damage", [
    lambda o: {"folders": o.folders[1:]},
    lambda o: {"folders": [*o.folders, "posts/../posts/a"]},
    lambda o: {"files": [*o.files[:_file(o, "posts/a/index.html")], "../site.yaml", *o.files[_file(o, "posts/a/index.html") + 1:]]},
    lambda o: {"files": [*o.files[:_file(o, "posts/a/index.html")], *o.files[_file(o, "posts/a/index.html") + 1:]]},
    lambda o: {"files": [*o.files, "posts/a/index.html"]},
    lambda o: {"files": o.files[::-1]},
    lambda o: {"files": []},
    lambda o: {"unproven": (*o.unproven, len(o.folders))},
    lambda o: {"unproven": (*o.unproven, 1)},
    lambda o: {"taken_ns": o.taken_ns + 1},
    lambda o: {"digest": "0" * 64},
], ids=["top-dropped", "folder-added", "file-elsewhere", "file-dropped", "file-twice", "files-reordered",
        "no-files", "unproven-beyond", "unproven-added", "taken-moved", "digest"])
def test_a_damaged_output_record_is_a_miss(site: Path, damage) -> None:
    """A record is data from disk: whatever its output part holds, the check says no, never yes or a traceback."""
    quick(site)
    out = site / "output"
    options = fastpath.options_key(False, False, None, False, out)
    assert fastpath.unchanged(site, out, options, NOW) is not None
    last = _recorded(site)
    assert not last.output.unproven  # every stamp trusted at once (``site``), so "unproven-added" adds one
    _rewrite(site, dataclasses.replace(last, output=dataclasses.replace(last.output, **damage(last.output))))
    assert fastpath.unchanged(site, out, options, NOW) is None
    assert not quick(site).quick


def test_an_empty_folder_in_the_output_is_allowed_but_watched(site: Path) -> None:
    """An empty folder serves nothing (and a build leaves it): after one build the shortcut
    works again, and a file put into it later is still seen."""
    quick(site)
    (site / "output/posts/a/empty/deeper").mkdir(parents=True)
    assert not quick(site).quick  # the folder holding it changed
    assert quick(site).quick
    (site / "output/posts/a/empty/deeper/stray.html").write_text("stray")
    assert not quick(site).quick


@pytest.fixture
def took_shortcut(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Whether each ``qsite build`` since was answered by ``quick``, in order."""
    answers: list[bool] = []
    real = fastpath.quick

    def spy(*args, **kwargs):  # type: ignore[no-untyped-def]
        found = real(*args, **kwargs)
        answers.append(found is not None)
        return found

    monkeypatch.setattr(fastpath, "quick", spy)
    return answers


def _cli_build(root: Path, answers: list[bool], *extra: str) -> bool:
    """Whether ``qsite build`` (in-process) was answered by the shortcut."""
    assert cli.main(["build", "--quiet", "--source", str(root), "--no-search", *extra]) == 0
    return answers[-1]


def test_the_shortcut_takes_the_output_folder_from_the_record_only_when_site_yaml_and_output_agree(
    site: Path, tmp_path: Path, took_shortcut: list[bool]
) -> None:
    """``quick`` does not read site.yaml: the record's output folder stands for it only while
    site.yaml is unchanged and ``--output`` names the same folder, or is left out as before."""
    elsewhere = tmp_path / "elsewhere"
    assert not _cli_build(site, took_shortcut)
    assert _cli_build(site, took_shortcut)
    assert not _cli_build(site, took_shortcut, "--output", str(elsewhere))  # another folder: built there
    assert (elsewhere / "posts/a/index.html").is_file()
    assert _cli_build(site, took_shortcut, "--output", str(elsewhere))
    assert not _cli_build(site, took_shortcut)  # --output left out this time: site.yaml's folder, built again
    assert _cli_build(site, took_shortcut)
    text = (site / "site.yaml").read_text()
    (site / "site.yaml").write_text(text + "output_dir: public\n")
    assert not _cli_build(site, took_shortcut)
    assert (site / "public/posts/a/index.html").is_file()
    assert _cli_build(site, took_shortcut)


def test_a_site_moved_elsewhere_is_built_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, took_shortcut: list[bool]
) -> None:
    """A folder moved keeps its files' stamps, and an output folder outside it stays where it
    was: the record names the site's folder, so the moved site builds its own output."""
    monkeypatch.setattr(cache_module, "RACY_NS", -10**12)
    monkeypatch.setattr(cachefiles, "RACY_NS", -10**12)
    first = tmp_path / "a" / "site"
    write_files(first, {"site.yaml": SITE_YAML + "output_dir: ../public\n", "content/posts/a.md": post("A", "2020-04-01")})
    copy_templates(first)
    assert not _cli_build(first, took_shortcut)
    assert _cli_build(first, took_shortcut)
    moved = tmp_path / "b" / "site"
    moved.parent.mkdir()
    os.rename(first, moved)
    assert not _cli_build(moved, took_shortcut)
    assert (tmp_path / "b/public/posts/a/index.html").is_file()


def test_a_recorded_output_folder_refused_now_is_left_to_the_build(site: Path, took_shortcut: list[bool]) -> None:
    """The record's output folder is only a guess until site.yaml proves unchanged: if it is
    refused now, the build decides, with the folder site.yaml names (here a new one)."""
    assert not _cli_build(site, took_shortcut)
    (site / "output" / ".qsite-output").unlink()  # no longer a folder qsite made
    text = (site / "site.yaml").read_text()
    (site / "site.yaml").write_text(text + "output_dir: public\n")
    assert not _cli_build(site, took_shortcut)
    assert (site / "public/posts/a/index.html").is_file()


def test_the_record_of_the_search_index_comes_from_the_build_not_a_walk(
    site: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The output holds exactly the files the stage assembled, the search index's among them
    (adopted or kept): the record lists them from their stamps, without walking pagefind/
    again (21,856 files at 20,000 posts), and the check still sees any change in there."""
    walked: list[str] = []
    real_walk = os.walk

    def walk(top, *args, **kwargs):  # type: ignore[no-untyped-def]
        walked.append(str(top))
        return real_walk(top, *args, **kwargs)

    monkeypatch.setattr(os, "walk", walk)
    assert not build(site, Options(now=NOW, quick=True)).quick
    out = site / "output"
    assert not [top for top in walked if top.startswith(str(out / "pagefind"))]
    recorded = set(_recorded(site).output.files)
    on_disk = {str(p.relative_to(out)) for p in out.rglob("*") if not p.is_dir()}
    assert any(rel.startswith("pagefind/") for rel in on_disk)
    assert recorded == on_disk
    assert build(site, Options(now=NOW, quick=True)).quick
    deep = sorted((out / "pagefind/posts-2020/fragment").iterdir())[0]
    deep.write_bytes(deep.read_bytes() + b" ")
    assert not build(site, Options(now=NOW, quick=True)).quick
    assert build(site, Options(now=NOW, quick=True)).quick


def test_dumping_a_record_looks_into_each_folder_once_not_at_each_stamp(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The record of a 20,000-post output holds 30,000 folders of 72,000 file stamps; deciding
    which parts to write in pieces (``cachefiles._large``) costs one call per folder, not one
    per name and number in it (~75 ms at that size), and the file is the same."""
    import json

    folders = {f"posts/{i:05d}": [1, 2, 3, 4, "index.html", 10, 11, 12, "card.png", 20, 21, 22] for i in range(2000)}
    data = {"output": {"taken_ns": 1, "folders": folders}}
    calls = [0]
    real = cachefiles._large

    def counted(value, depth=3):  # type: ignore[no-untyped-def]
        calls[0] += 1
        return real(value, depth)

    monkeypatch.setattr(cachefiles, "_large", counted)
    cachefiles.dump(tmp_path / "r.json", data)
    assert calls[0] <= 2 * len(folders)
    header = {"format": cachefiles.FORMAT, "engine": cachefiles.ENGINE, "data": data}
    assert (tmp_path / "r.json").read_bytes() == json.dumps(header, ensure_ascii=False, separators=(",", ":")).encode()


def test_an_edit_built_from_the_cli_stats_its_sources_once(
    site: Path, took_shortcut: list[bool], monkeypatch: pytest.MonkeyPatch
) -> None:
    """``quick`` walks every source to find the change; the build that follows takes that walk
    as its snapshot instead of walking again (20,000 stats at 20,000 posts), and the record
    it leaves still vouches for the sources."""
    assert not _cli_build(site, took_shortcut)
    (site / "content/posts/a.md").write_text(post("A", "2020-04-01", body="New words."))
    walks: list[Path] = []
    real = fastpath.walk_sources
    monkeypatch.setattr(fastpath, "walk_sources", lambda root: walks.append(root) or real(root))
    assert not _cli_build(site, took_shortcut)
    assert len(walks) == 1
    assert "New words." in (site / "output/posts/a/index.html").read_text()
    assert _cli_build(site, took_shortcut)


def test_a_source_changed_between_the_check_and_the_build_is_built_again(
    site: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The build takes ``quick``'s walk as its snapshot: a source changed after that walk was
    read by the build but recorded with its older stamp, so the next check sees the change
    and builds (never a wrong skip)."""
    answers: list[bool] = []
    real = fastpath.quick
    source = site / "content/posts/a.md"

    def edit_after_the_walk(*args, **kwargs):  # type: ignore[no-untyped-def]
        found = real(*args, **kwargs)
        answers.append(found is not None)
        if found is None and len(answers) == 2:
            source.write_text(post("A", "2020-04-01", body="Later words, saved meanwhile."))
        return found

    monkeypatch.setattr(fastpath, "quick", edit_after_the_walk)
    assert not _cli_build(site, answers)
    source.write_text(post("A", "2020-04-01", body="New words."))
    assert not _cli_build(site, answers)
    assert "Later words" in (site / "output/posts/a/index.html").read_text()
    assert not _cli_build(site, answers)  # the record holds the stamp of "New words."
    assert _cli_build(site, answers)


@pytest.mark.parametrize("change", [
    lambda s: _same_size_new_mtime(s / "content/posts/a.md"),
    lambda s: (s / "content/posts/b.md").write_text(post("B", "2020-04-02")),
    lambda s: (s / "content/posts/soon.md").unlink(),
    lambda s: os.rename(s / "content/posts/soon.md", s / "content/posts/later.md"),
    lambda s: os.symlink(s / "content/posts/a.md", s / "content/posts/c.md"),
    lambda s: (s / "content/posts/soon.md").unlink() or os.symlink(s / "content/posts/a.md", s / "content/posts/soon.md"),
    lambda s: (s / "content/pages").mkdir() or (s / "content/pages/about.md").write_text("---\ntitle: About\n---\nHi\n"),
    lambda s: _same_size_new_mtime(s / "templates/post.html"),
    lambda s: (s / "templates/partials").rename(s / "templates/bits"),
    lambda s: os.utime(s / "site.yaml", ns=(0, s.joinpath("site.yaml").stat().st_mtime_ns + 1)),
], ids=["post-same-size-new-mtime", "post-added", "post-removed", "post-renamed", "link-added", "post-replaced-by-a-link",
        "folder-with-page-added", "template-same-size-new-mtime", "template-folder-renamed", "site-yaml-touched"])
def test_a_change_among_the_sources_is_built(site: Path, change) -> None:
    """The sources are kept as one digest of every file's stamp and every folder's names
    (``walk_sources``): any change to them, or a link among them, means a build."""
    quick(site)
    assert fastpath.unchanged(site, site / "output", _options(site), NOW) is not None
    change(site)
    assert fastpath.unchanged(site, site / "output", _options(site), NOW) is None


def test_every_output_file_is_checked_when_a_child_shares_the_stats(
    site: Path, monkeypatch: pytest.MonkeyPatch, forks: list[int]
) -> None:
    """On a large site a forked child stats a share of the output's files (``_Child``) while
    this process walks the sources and stats the rest: a file touched anywhere, in either
    share, is seen, and once put back as it was, the check passes again."""
    monkeypatch.setattr(fastpath, "_SHARED", 1)
    quick(site)
    out = site / "output"
    last = _recorded(site)
    files = list(last.output.files)
    assert 0 < fastpath._child_share(last.output, last.posts + last.pages) < len(files)
    for rel in files:
        st = os.lstat(out / rel)
        os.utime(out / rel, ns=(st.st_atime_ns, st.st_mtime_ns + 1))
        assert fastpath.unchanged(site, out, _options(site), NOW) is None, rel
        os.utime(out / rel, ns=(st.st_atime_ns, st.st_mtime_ns))
        assert fastpath.unchanged(site, out, _options(site), NOW) is not None, rel
    assert len(forks) == 2 * len(files)


def test_a_child_that_fails_has_its_share_done_here(
    site: Path, monkeypatch: pytest.MonkeyPatch, forks: list[int]
) -> None:
    """A child that cannot send its share (here it fails before writing) costs time, never
    the answer: its files are stat'ed by this process after all."""
    monkeypatch.setattr(fastpath, "_SHARED", 1)
    quick(site)
    out = site / "output"
    monkeypatch.setattr(fastpath, "memoryview", lambda data: 1 / 0, raising=False)  # used by the child only
    assert fastpath.unchanged(site, out, _options(site), NOW) is not None
    first = out / _recorded(site).output.files[0]  # in the child's share
    _same_size_new_mtime(first)
    assert fastpath.unchanged(site, out, _options(site), NOW) is None
    assert len(forks) == 2


def test_stamps_beyond_64_bits_are_spelled_out(site: Path, monkeypatch: pytest.MonkeyPatch, forks: list[int]) -> None:
    """Some file systems give inode numbers of 2**63 or more, which do not pack as signed
    64-bit numbers: such stamps are digested spelled out, by the record and by the check
    (the child gives its share up), and a change among them is still seen."""
    monkeypatch.setattr(fastpath, "_SHARED", 1)
    quick(site)
    out = site / "output"
    last = _recorded(site)

    def huge(st: os.stat_result) -> tuple[int, int, int]:
        return (st.st_size, st.st_mtime_ns, st.st_ino + 2**63)

    monkeypatch.setattr(fastpath, "_FILE_STAMP", huge)
    stamps = {rel: huge(os.lstat(out / rel)) for rel in last.output.files if rel != MARKER}
    output = fastpath.output_after(out, stamps)
    assert output is not None and output.digest != last.output.digest
    _rewrite(site, dataclasses.replace(last, output=output))
    assert fastpath.unchanged(site, out, _options(site), NOW) is not None
    _same_size_new_mtime(out / "posts/a/index.html")
    assert fastpath.unchanged(site, out, _options(site), NOW) is None
    assert len(forks) == 2


@pytest.mark.parametrize("texts", [False, True])
def test_a_record_of_the_older_format_means_a_full_build(
    site: Path, texts: bool, capsys: pytest.CaptureFixture[str]
) -> None:
    """A record as qsite wrote it before its digests (every stamp a JSON value, grouped by
    folder) is no record at all: the build runs in full, names the file once, and leaves a
    record the next check takes."""
    assert cli.main(["build", "--source", str(site), "--no-search"]) == 0
    last = _recorded(site)
    data, new_texts = fastpath.encode_record(last)
    data["sources"] = {"": ["site.yaml", 1, 2, 3, 4], "content/posts": ["a.md", 5, 6, 7, 8]}
    data["output"] = {"taken_ns": 1, "folders": {"": [1, 2, 3, 4, MARKER, 5, 6, 7]}}
    cachefiles.dump(site / cache_module.FOLDER / fastpath.RECORD, data, new_texts if texts else None)
    capsys.readouterr()
    assert cli.main(["build", "--source", str(site), "--no-search"]) == 0
    built = capsys.readouterr()
    assert "nothing changed" not in built.out and "Built" in built.out
    assert "last-build.json" in built.err and "unreadable" in built.err
    assert cli.main(["build", "--source", str(site), "--no-search"]) == 0
    again = capsys.readouterr()
    assert "nothing changed" in again.out and again.err == ""


def test_a_link_among_the_sources_is_never_vouched_for(site: Path) -> None:
    """A link's own stat does not change when what it points to does: with one among the
    sources the walk vouches for nothing, no record is kept, and every build is a full one."""
    target = site / "partials-kept-here/extra.html"
    target.parent.mkdir()
    target.write_text("unused")
    os.symlink(target, site / "templates/extra.html")
    assert fastpath.walk_sources(site) is None
    assert not quick(site).quick
    assert fastpath.load_record(site) is None
    assert not quick(site).quick


def test_a_record_keeps_one_digest_of_the_output_not_a_value_per_stamp(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Reading the record comes before every no-change check: a record of 4,000 output files
    in 2,000 folders is a few hundred bytes of JSON and the paths as two texts after it (read
    as one slice each), never a JSON value per stamp, and it reads back as it was written."""
    monkeypatch.setattr(cachefiles, "RACY_NS", -10**12)  # no folder listed as too recent to trust
    out = tmp_path / "output"
    stamps = {}
    for i in range(2000):
        folder = out / "posts" / f"p{i:04d}"
        folder.mkdir(parents=True)
        for name in ("index.html", "card.png"):
            (folder / name).write_text(name)
            stamps[f"posts/p{i:04d}/{name}"] = cachefiles.stamp(os.lstat(folder / name))
    (out / MARKER).write_text("")
    output = fastpath.output_after(out, stamps)
    assert output is not None and len(output.folders) == 2002 and len(output.files) == 4001
    record = fastpath.Record(
        fastpath.options_key(False, False, None, False, out), NOW, None, 1, "d" * 64, {}, output, 2000, 0, 2000, (), 4001
    )
    fastpath.record(tmp_path, record)
    raw = (tmp_path / cache_module.FOLDER / fastpath.RECORD).read_bytes()
    header = raw.split(b"\n", 1)[0]
    assert len(header) < 1000 and b"p0001" not in header
    assert fastpath.load_record(tmp_path) == dataclasses.replace(record, root=str(tmp_path))


def test_no_child_is_forked_while_another_thread_runs(site: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A fork copies only the thread that forks, and a lock another thread held stays held in
    the child: with another thread running, the check stats everything itself, as surely."""
    import threading

    monkeypatch.setattr(fastpath, "_SHARED", 1)
    quick(site)
    forked: list[int] = []
    real = os.fork
    monkeypatch.setattr(os, "fork", lambda: forked.append(1) or real())
    done = threading.Event()
    other = threading.Thread(target=done.wait, args=(60,))
    other.start()
    try:
        assert fastpath.unchanged(site, site / "output", _options(site), NOW) is not None
        _same_size_new_mtime(site / "output/posts/a/index.html")
        assert fastpath.unchanged(site, site / "output", _options(site), NOW) is None
    finally:
        done.set()
        other.join()
    assert forked == []
