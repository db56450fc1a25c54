"""Ctrl-C or SIGTERM while the staging folder is being made leaves nothing behind (the
occasional ``.output.staging-*`` left by tests/test_cli.py's interrupted build, issue 10).

``qsite/interrupt.py`` turns both signals into ``KeyboardInterrupt``, which Python raises at
whatever bytecode runs when the signal lands: here it is raised, deterministically, from the
calls around which it could land."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from qsite import write
from qsite.build import Options, build

from conftest import NOW, TINY_BASE, post, tree, write_files


def test_a_stage_not_yet_entered_has_made_nothing(tmp_path: Path) -> None:
    """Between ``Stage(out)`` and the start of its ``with`` block no ``__exit__`` would run, so
    nothing may exist yet that would need removing."""
    stage = write.Stage(tmp_path / "output")
    assert list(tmp_path.iterdir()) == []
    with stage:
        assert [p.name.startswith(".output.staging-") for p in tmp_path.iterdir()] == [True]
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("where", ["beside", "inside"])
def test_an_interrupt_just_after_the_staging_folder_is_made_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    """The signal lands as ``mkdir`` of the build's own folder returns (inside
    ``tempfile.mkdtemp``, before its name was known to anyone who could remove it)."""
    out = tmp_path / "output"
    if where == "inside":  # the output folder cannot be swapped (a mount point): staged inside it
        out.mkdir()
        (out / write.MARKER).write_bytes(write.MARKER_TEXT)
        monkeypatch.setattr(write, "_is_mount", lambda path: True)
    real = os.mkdir
    prefix = write.INNER if where == "inside" else f".output{write.STAGING}"

    def interrupted(path: object, *args: object, **kwargs: object) -> None:
        real(path, *args, **kwargs)  # type: ignore[arg-type]
        if Path(str(path)).name.startswith(prefix):
            raise KeyboardInterrupt

    monkeypatch.setattr(os, "mkdir", interrupted)
    with pytest.raises(KeyboardInterrupt), write.Stage(out):
        pass
    monkeypatch.undo()
    assert sorted(p.name for p in tmp_path.iterdir()) == (["output"] if where == "inside" else [])
    if where == "inside":
        assert sorted(p.name for p in out.iterdir()) == [write.MARKER]


def test_an_interrupt_as_the_with_block_begins_leaves_nothing(tmp_path: Path) -> None:
    with pytest.raises(KeyboardInterrupt), write.Stage(tmp_path / "output"):
        raise KeyboardInterrupt
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("at", ["before the swap", "after the swap"])
def test_a_commit_stopped_once_the_spare_is_the_new_tree_leaves_the_spare(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, at: str
) -> None:
    """The spare (the site before last) becomes the next tree at commit; a Ctrl-C from then on
    must not delete it with the staging folder (tests/test_cli.py's interrupted build expects
    it still there), nor leave anything else."""
    root = tmp_path / "site"
    write_files(root, {**TINY_BASE, "content/posts/a.md": post("A", "2020-04-01")})
    build(root, Options(now=NOW, search=False))
    out, spare = root / "output", root / ".output.spare"
    assert (spare / write.MARKER).is_file()
    old = tree(out)
    write_files(root, {"content/posts/a.md": post("A", "2020-04-01", body="Edited.")})
    real_swap = write._swap

    def interrupted(stage: Path, target: Path) -> Path | None:
        if at == "after the swap":
            real_swap(stage, target)
        raise KeyboardInterrupt

    monkeypatch.setattr(write, "_swap", interrupted)
    with pytest.raises(KeyboardInterrupt):
        build(root, Options(now=NOW, search=False))
    monkeypatch.undo()
    assert (spare / write.MARKER).read_bytes() == write.MARKER_TEXT
    assert sorted(p.name for p in root.iterdir()) == [
        ".output.spare", ".qsite-cache", "content", "output", "site.yaml", "templates"
    ]
    assert (tree(out) == old) == (at == "before the swap")
    build(root, Options(now=NOW, search=False))
    reference = tmp_path / "reference"
    build(root, Options(output=reference, now=NOW, search=False, cache=False))
    assert tree(out) == tree(reference)
