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
    cachefiles.dump(record_path, fastpath.encode_record(dataclasses.replace(record, sources=snap.stats)))
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


@pytest.mark.parametrize("change", [
    lambda a: (a / "extra.html").write_text("stray"),
    lambda a: (a / "new").mkdir() or (a / "new/x.html").write_text("stray"),
    lambda a: (a / "index.html").open("ab").write(b"<!-- appended in place -->"),
    lambda a: (a / "index.html").unlink(),
    lambda a: os.rename(a / "index.html", a / "moved.html"),
    _swap_for_link,
], ids=["file-added", "folder-with-file-added", "edited-in-place", "removed", "renamed",
        "folder-replaced-by-a-link"])
@pytest.mark.parametrize("threads", [1, 2])
def test_a_change_deep_in_the_output_is_built_and_repaired(
    site: Path, change, threads: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The check stats each output folder and file by its path, and reads a folder only if its
    stamp cannot vouch for what it holds: every change below one folder (here with every stamp
    trusted at once, see ``site``) must still be seen, and the build must leave a record that
    the next check accepts; with the folders shared by two threads (large sites) too."""
    monkeypatch.setattr(fastpath, "_SHARED", 1 if threads == 2 else 10**9)
    quick(site)
    good = (site / "output/posts/a/index.html").read_bytes()
    names = sorted(p.name for p in (site / "output/posts/a").iterdir())
    change(site / "output/posts/a")
    assert not quick(site).quick
    assert (site / "output/posts/a/index.html").read_bytes() == good
    assert sorted(p.name for p in (site / "output/posts/a").iterdir()) == names
    assert not (site / "output/posts/a").is_symlink()
    assert quick(site).quick


def _recorded(root: Path) -> dict:
    import json

    return json.loads((root / cache_module.FOLDER / fastpath.RECORD).read_bytes())


def _rewrite(root: Path, doc: dict) -> None:
    cachefiles.dump(root / cache_module.FOLDER / fastpath.RECORD, doc["data"])


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
    doc = _recorded(root)
    st = os.lstat(out / "posts/a")
    doc["data"]["output"]["folders"]["posts/a"][:4] = [st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_nlink]
    _rewrite(root, doc)
    assert fastpath.unchanged(root, out, options, NOW) is None


@pytest.mark.parametrize("damage", [
    lambda folders: folders.pop(""),
    lambda folders: folders.__setitem__("posts/../posts/a", folders["posts/a"]),
    lambda folders: folders["posts/a"].__setitem__(4, "../../site.yaml"),
    lambda folders: folders["posts/a"].__setitem__(5, "12"),
    lambda folders: folders["posts/a"].append("more.html"),
    lambda folders: folders.__setitem__("posts/a", 7),
    lambda folders: folders.pop("posts/a"),
])
def test_a_damaged_output_record_is_a_miss(site: Path, damage) -> None:
    """A record is data from disk: whatever its folders hold, the check says no, never yes or a traceback."""
    quick(site)
    out = site / "output"
    options = fastpath.options_key(False, False, None, False, out)
    assert fastpath.unchanged(site, out, options, NOW) is not None
    doc = _recorded(site)
    damage(doc["data"]["output"]["folders"])
    _rewrite(site, doc)
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
    folders = _recorded(site)["data"]["output"]["folders"]
    recorded = {f"{folder}/{name}" if folder else name for folder, flat in folders.items() for name in flat[4::4]}
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
    real = fastpath.source_folders
    monkeypatch.setattr(fastpath, "source_folders", lambda root: walks.append(root) or real(root))
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


def test_the_sources_are_walked_while_the_record_is_read(
    site: Path, took_shortcut: list[bool], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Reading the record holds the interpreter (its JSON); walking the sources is mostly the
    kernel's: ``quick`` does both at once, and still takes the shortcut only when nothing
    changed."""
    import threading

    assert not _cli_build(site, took_shortcut)
    walking = threading.Event()
    real_walk, real_load = fastpath.source_folders, fastpath._load

    def walk(root):  # type: ignore[no-untyped-def]
        walking.set()
        return real_walk(root)

    def load(*args):  # type: ignore[no-untyped-def]
        assert walking.wait(timeout=10), "the sources were not being walked while the record was read"
        return real_load(*args)

    monkeypatch.setattr(fastpath, "source_folders", walk)
    monkeypatch.setattr(fastpath, "_load", load)
    assert _cli_build(site, took_shortcut)
    (site / "templates/extra.html").write_text("new")
    assert not _cli_build(site, took_shortcut)
    assert _cli_build(site, took_shortcut)
