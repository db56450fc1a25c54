"""Compiled templates kept between processes in a per-user folder outside the site
(qsite/incremental/cache.py, CompiledTemplates): a later build loads them instead of compiling,
an edited template is compiled again, and a folder or entry that is not safe or not sound is
never loaded. Each build is a real ``python -m qsite`` process that reports the templates Jinja
compiled in it."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import TINY_BASE, post, tree, write_files

# ``python -m qsite`` with Jinja's compiler counted: prints the names it compiled on stderr
COUNTED = (
    "import sys, jinja2\n"
    "from qsite.cli import main\n"
    "names = []\n"
    "original = jinja2.Environment.compile\n"
    "def compile(self, source, name=None, filename=None, raw=False, defer_init=False):\n"
    "    if name is not None:\n"
    "        names.append(name)\n"
    "    return original(self, source, name, filename, raw, defer_init)\n"
    "jinja2.Environment.compile = compile\n"
    "code = main(sys.argv[1:])\n"
    "print('compiled=' + ','.join(sorted(names)), file=sys.stderr)\n"
    "sys.exit(code)\n"
)


def make(tmp_path: Path) -> Path:
    root = tmp_path / "site"
    write_files(root, {**TINY_BASE, "content/posts/a.md": post("A", "2020-04-01")})
    return root


def build(root: Path, folder: Path | None, *, fresh: bool = True, **env: str) -> list[str]:
    """Build ``root`` in a new process with ``folder`` as the per-user folder; the names of the
    templates it compiled. ``fresh``: without the site's own cache and output, so every page
    is rendered again."""
    if fresh:
        shutil.rmtree(root / ".qsite-cache", ignore_errors=True)
        shutil.rmtree(root / "output", ignore_errors=True)
    environ = {**os.environ, "SOURCE_DATE_EPOCH": "1638360000", **env}
    environ.pop("QSITE_TEMPLATE_CACHE")
    if folder is not None:
        environ["QSITE_TEMPLATE_CACHE"] = str(folder)
    result = subprocess.run(
        [sys.executable, "-c", COUNTED, "build", "-q", "--no-search"],
        cwd=root, env=environ, capture_output=True, text=True, timeout=120, check=False,
    )
    assert result.returncode == 0, result.stderr
    line = result.stderr.strip().splitlines()[-1]
    assert line.startswith("compiled="), result.stderr
    return [name for name in line.removeprefix("compiled=").split(",") if name]


def entries(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.glob("*.tpl"))}


def test_a_second_build_loads_its_templates_compiled_from_the_per_user_folder(tmp_path):
    root, folder = make(tmp_path), tmp_path / "cache" / "qsite" / "templates"
    first = build(root, folder)
    assert "post.html" in first and "index.html" in first
    output = tree(root / "output")
    assert len(entries(folder)) == len(first)
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in folder.glob("*.tpl"))
    assert build(root, folder) == []  # every template loaded, none compiled
    assert tree(root / "output") == output
    assert build(root, folder, QSITE_NO_TEMPLATE_CACHE="1") == first  # turned off: compiled again
    assert tree(root / "output") == output


def test_the_default_folder_is_under_xdg_cache_home_and_can_be_turned_off(tmp_path):
    root, home = make(tmp_path), tmp_path / "xdg"
    build(root, None, XDG_CACHE_HOME=str(home), QSITE_NO_TEMPLATE_CACHE="1")
    assert not home.exists()
    first = build(root, None, XDG_CACHE_HOME=str(home))
    assert len(entries(home / "qsite" / "templates")) == len(first)
    assert build(root, None, XDG_CACHE_HOME=str(home)) == []


def test_an_edited_template_is_compiled_again_and_renders_its_new_text(tmp_path):
    root, folder = make(tmp_path), tmp_path / "templates"
    build(root, folder)
    (root / "templates/post.html").write_text("edited|{{ post.title }}|\n", encoding="utf-8")
    assert build(root, folder, fresh=False) == ["post.html"]
    assert (root / "output/posts/a/index.html").read_text() == "edited|A|\n"
    assert build(root, folder) == []  # the edited one was kept too
    assert (root / "output/posts/a/index.html").read_text() == "edited|A|\n"


def _damage(path: Path, how: int) -> None:
    data = path.read_bytes()
    head = len(b"qsite-templates/1\n") + 32
    if how == 0:  # one byte of the code changed
        path.write_bytes(data[:-20] + bytes([data[-20] ^ 0xFF]) + data[-19:])
    elif how == 1:  # cut short
        path.write_bytes(data[: len(data) // 2])
    elif how == 2:  # a sound checksum over bytes that are not a compiled template
        import hashlib

        junk = b"j2 not a template" * 10
        path.write_bytes(data[: head - 32] + hashlib.sha256(junk).digest() + junk)
    else:  # a symlink to a sound copy: entries are never followed
        copy = path.parent.parent / path.name
        copy.write_bytes(data)
        path.unlink()
        path.symlink_to(copy)


def test_damaged_entries_are_ignored_and_written_again(tmp_path):
    root, folder = make(tmp_path), tmp_path / "templates"
    first = build(root, folder)
    output = tree(root / "output")
    for i, path in enumerate(sorted(folder.glob("*.tpl"))):
        _damage(path, i % 4)
    assert build(root, folder) == first
    assert tree(root / "output") == output
    assert not any(p.is_symlink() for p in folder.iterdir())
    assert build(root, folder) == []
    assert tree(root / "output") == output


def _unsafe(folder: Path, good: Path, how: str) -> None:
    """``folder`` made unsafe in one way, holding ``good``'s sound entries."""
    if how == "symlink":
        shutil.copytree(good, folder.parent / "elsewhere")
        folder.symlink_to(folder.parent / "elsewhere")
        return
    shutil.copytree(good, folder)
    if how == "group-writable":
        folder.chmod(0o770)
    elif how == "world-writable":
        folder.chmod(0o703)
    else:
        os.chown(folder, 65534, 65534)


@pytest.mark.parametrize(
    "how",
    [
        "group-writable",
        "world-writable",
        "symlink",
        pytest.param(
            "someone else's",
            marks=pytest.mark.skipif(os.geteuid() != 0, reason="only root can give a folder to another user"),
        ),
    ],
)
def test_an_unsafe_folder_is_neither_read_nor_written(tmp_path, how):
    root, good = make(tmp_path), tmp_path / "good"
    first = build(root, good)
    output = tree(root / "output")
    folder = tmp_path / "unsafe" / "templates"
    folder.parent.mkdir()
    _unsafe(folder, good, how)
    before = entries(folder)
    assert len(before) == len(first)
    (root / "templates/post.html").write_text("changed|{{ post.title }}|\n", encoding="utf-8")
    assert build(root, folder) == first  # nothing loaded from it…
    assert entries(folder) == before  # …nor written to it (post.html's new entry)
    (root / "templates/post.html").write_text(TINY_BASE["templates/post.html"], encoding="utf-8")
    assert build(root, folder) == first
    assert tree(root / "output") == output


def test_an_entry_owned_by_someone_else_is_not_read(tmp_path):
    if os.geteuid() != 0:
        pytest.skip("only root can give a file to another user")
    root, folder = make(tmp_path), tmp_path / "templates"
    first = build(root, folder)
    for path in folder.glob("*.tpl"):
        os.chown(path, 65534, 65534)
    assert build(root, folder) == first


def test_the_folder_keeps_a_bounded_number_of_entries(tmp_path, monkeypatch):
    """Every edit of a template (and every qsite upgrade) makes new entries: past ``KEEP``,
    writing one removes the oldest half, so the folder never grows without end."""
    import jinja2

    from qsite.incremental.cache import CompiledTemplates

    monkeypatch.setattr(CompiledTemplates, "KEEP", 4)
    folder = tmp_path / "templates"
    compiled = CompiledTemplates(folder)
    env = jinja2.Environment(loader=jinja2.DictLoader({}), bytecode_cache=compiled)
    for i in range(9):
        env.loader = jinja2.DictLoader({"t.html": f"version {i}"})
        env.cache.clear()
        assert env.get_template("t.html").render() == f"version {i}"
    assert compiled.written == 9
    assert 2 <= len(entries(folder)) <= 4
    again = CompiledTemplates(folder)
    env = jinja2.Environment(loader=jinja2.DictLoader({"t.html": "version 8"}), bytecode_cache=again)
    assert env.get_template("t.html").render() == "version 8"
    assert again.loaded == 1  # the newest was kept
