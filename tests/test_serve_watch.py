"""`qsite serve` keeps following edits (issue 9): after content/ or templates/ is deleted and
made again, and for a save made while the first build ran, before the watch began."""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path

from qsite.incremental.engine import Engine
from qsite.serve import Rebuilder, SiteState, build_in_memory, start_watching

from conftest import BASE, copy_templates, post, write_files

DEADLINE = 10.0


def save(path: Path, text: str) -> None:
    """Save like many editors do: a temporary file beside it, renamed over it."""
    temp = path.with_name(f".{path.name}.tmp")
    temp.write_text(text, encoding="utf-8")
    temp.replace(path)


def failed(state: SiteState) -> bool:
    return state.snapshot().problems != ()


def wait_until(done: Callable[[], bool], what: str) -> None:
    end = time.monotonic() + DEADLINE
    while not done():
        if time.monotonic() > end:
            raise AssertionError(f"never happened: {what}")
        time.sleep(0.02)


def page(state: SiteState, path: str) -> str:
    files = state.snapshot().files or {}
    return files.get(path, b"").decode("utf-8")


def watching(root: Path) -> tuple[Rebuilder, SiteState, list[str]]:
    """What serve does before it starts watching: the first build."""
    state = SiteState()
    memory = Engine.in_memory()
    lines: list[str] = []
    rebuilder = Rebuilder(root, lambda touched: build_in_memory(root, "http://127.0.0.1:1", memory, touched), state, lines.append, 0.1)
    rebuilder.rebuild()
    return rebuilder, state, lines


def make(tmp_path: Path) -> Path:
    root = tmp_path / "site"
    write_files(root, {**BASE, "content/posts/a.md": post("Huddles", "2020-04-01", body="First text.")})
    copy_templates(root)
    return root


def test_edits_are_followed_after_content_is_deleted_and_made_again(tmp_path: Path) -> None:
    root = make(tmp_path)
    rebuilder, state, _lines = watching(root)
    observer = start_watching(root, rebuilder)
    rebuilder.start()
    try:
        assert "First text." in page(state, "posts/a/index.html")
        shutil.rmtree(root / "content")
        wait_until(lambda: page(state, "posts/a/index.html") == "", "the deletion noticed")
        write_files(root, {"content/posts/a.md": post("Huddles", "2020-04-01", body="Second text.")})
        wait_until(lambda: "Second text." in page(state, "posts/a/index.html"), "the recreated post shown")
        save(root / "content/posts/a.md", post("Huddles", "2020-04-01", body="Third text."))
        wait_until(lambda: "Third text." in page(state, "posts/a/index.html"), "an edit in the new folder shown")
        # the same for templates/: without it the default theme is used, with it its override
        base = root / "templates/base.html"
        save(base, base.read_text(encoding="utf-8").replace("</body>", "<p>site-override</p></body>"))
        wait_until(lambda: "site-override" in page(state, "posts/a/index.html"), "the override shown")
        saved = tmp_path / "templates-copy"
        shutil.move(root / "templates", saved)
        wait_until(lambda: "site-override" not in page(state, "posts/a/index.html"), "the templates' removal noticed")
        assert not failed(state)  # the default theme took over
        shutil.move(saved, root / "templates")
        wait_until(lambda: "site-override" in page(state, "posts/a/index.html"), "the templates back")
        save(base, base.read_text(encoding="utf-8").replace("</body>", "<p>marker-after-restore</p></body>"))
        wait_until(lambda: "marker-after-restore" in page(state, "posts/a/index.html"), "a template edit shown")
    finally:
        rebuilder.stop()
        observer.stop()  # type: ignore[attr-defined]


def test_a_save_made_before_the_watch_began_is_not_lost(tmp_path: Path) -> None:
    root = make(tmp_path)
    rebuilder, state, _lines = watching(root)  # the first build
    # saved after the first build read the post, before any watch: "Serving…" was just printed
    save(root / "content/posts/a.md", post("Huddles", "2020-04-01", body="Saved at once."))
    observer = start_watching(root, rebuilder)
    rebuilder.start()
    try:
        wait_until(lambda: "Saved at once." in page(state, "posts/a/index.html"), "the early save shown")
    finally:
        rebuilder.stop()
        observer.stop()  # type: ignore[attr-defined]


def test_nothing_saved_means_no_second_build(tmp_path: Path) -> None:
    root = make(tmp_path)
    past = time.time() - 60  # the files are older than the build, by more than the clock slack
    for file in root.rglob("*"):
        os.utime(file, (past, past))
    rebuilder, state, lines = watching(root)
    observer = start_watching(root, rebuilder)
    rebuilder.start()
    try:
        save(root / "content/posts/a.md", post("Huddles", "2020-04-01", body="Edited."))
        wait_until(lambda: "Edited." in page(state, "posts/a/index.html"), "the edit shown")
        assert state.snapshot().generation == 2, lines
    finally:
        rebuilder.stop()
        observer.stop()  # type: ignore[attr-defined]


def test_a_post_renamed_over_another_is_gone_from_the_preview(tmp_path: Path) -> None:
    """The rebuild walks content/ only if an event named a path that came or went (qsite serve's
    shortcut, tests/test_serve_memory.py): a rename must name the file moved away too, though
    the log shows only where it went."""
    root = make(tmp_path)
    write_files(root, {"content/posts/b.md": post("Boards", "2020-05-01", body="Board text.")})
    rebuilder, state, _lines = watching(root)
    observer = start_watching(root, rebuilder)
    rebuilder.start()
    try:
        assert "Board text." in page(state, "posts/b/index.html")
        save(root / "content/posts/b.md", post("Boards", "2020-05-01", body="Saved through a temporary file."))
        wait_until(lambda: "temporary file" in page(state, "posts/b/index.html"), "the save shown")
        (root / "content/posts/a.md").replace(root / "content/posts/b.md")
        wait_until(lambda: page(state, "posts/a/index.html") == "", "the moved-away post gone")
        assert "First text." in page(state, "posts/b/index.html")
    finally:
        rebuilder.stop()
        observer.stop()  # type: ignore[attr-defined]


def test_a_finished_save_is_rebuilt_without_waiting_out_the_debounce(tmp_path: Path) -> None:
    """The debounce waits for a burst of events to end; a file closed after writing, or renamed
    into place, is the end of a save, so the rebuild starts at once (~50 ms sooner per save)."""
    root = make(tmp_path)
    state = SiteState()
    memory = Engine.in_memory()
    slow = 30.0  # a debounce no test waits out
    rebuilder = Rebuilder(root, lambda touched: build_in_memory(root, "http://127.0.0.1:1", memory, touched),
                          state, [].append, slow)
    rebuilder.rebuild()
    observer = start_watching(root, rebuilder)
    rebuilder.start()
    try:
        (root / "content/posts/a.md").write_text(post("Huddles", "2020-04-01", body="Written."), encoding="utf-8")
        wait_until(lambda: "Written." in page(state, "posts/a/index.html"), "a plain write shown")
        save(root / "content/posts/a.md", post("Huddles", "2020-04-01", body="Renamed into place."))
        wait_until(lambda: "Renamed into place." in page(state, "posts/a/index.html"), "an atomic save shown")
    finally:
        rebuilder.stop()
        observer.stop()  # type: ignore[attr-defined]
