"""``qsite serve``: preview the site while editing it, with pages that reload themselves.

* The site is rendered in memory (``render_site``) and served from a dict of path → bytes:
  nothing is written, so ``output/`` is never touched and there is no temporary folder to
  leave behind.
* watchdog watches ``content/``, ``templates/`` and ``site.yaml``. Editors save through
  rename-and-replace, which is a burst of events; rebuilds wait until the burst has been quiet
  for ``DEBOUNCE`` seconds, so one save is one rebuild (MkDocs debounces the same way), or
  until an event ends the save (a file closed after writing, or renamed into place).
* Each rebuild is told which paths the events named (``Engine.expect_changes``), so it walks
  content/ and stats and hashes its files only when one of them could have come or gone; and
  when they are only posts whose bodies changed (the common save), it runs no step of the
  pipeline: the edited posts are swapped into the model the last rebuild kept and only the
  pages showing them are rendered again (``qsite/incremental/edit.py``).
* Every rebuild, good or bad, bumps a generation number. Open pages hold a server-sent-events
  connection and reload when the number changes. The script doing this is added to HTML
  responses here, by the server, so nothing of it can leak into ``qsite build`` output.
* A failed rebuild never stops the server (Zola and Hugo show build errors in the browser):
  pages become an error page listing every problem with its file and line, while the last good
  build keeps answering for CSS, images and the like, and the fixed page comes back by itself.
* Ctrl-C (SIGINT) and ``kill`` (SIGTERM) stop it the same way, whatever disposition it
  inherited (``qsite/interrupt.py``), and within a second: open reload streams are told to end
  and then closed, a rebuild in progress is abandoned (it only ever builds in memory, so there
  is nothing on disk to leave half-done), and no thread is waited on past ``SHUTDOWN``.

This module does not print: the command hands it a ``log`` callable for its one line per rebuild.
"""

from __future__ import annotations

import contextlib
import errno
import html
import mimetypes
import os
import posixpath
import socket
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from qsite import urls
from qsite.build import Options, configure, render_site
from qsite.config import check_base_url, with_base_url
from qsite.incremental.engine import Engine
from qsite.interrupt import STOP_SIGNALS, stop_on
from qsite.problems import ConfigError, Problem, QsiteError
from qsite.write import check_paths

RELOAD_SCRIPT_PATH = "/__qsite/reload.js"
EVENTS_PATH = "/__qsite/events"
DEBOUNCE = 0.05  # seconds of quiet after the last file event before rebuilding: a save (even
# through a temporary file and a rename) is a burst of events within a few milliseconds
KEEPALIVE = 15.0  # seconds between SSE comments, so dead connections are noticed
SHUTDOWN = 0.5  # seconds that stopping may wait, in all, for threads and connections to end
SERVE_OPTIONS = Options(drafts=True, future=True, serve=True, search=False)  # no index in memory

RELOAD_JS = b"""\
// Added by qsite serve only: reloads the page after each rebuild. Never part of qsite build.
(function () {
  var script = document.currentScript;
  var shown = script ? script.getAttribute("data-generation") : null;
  var source = new EventSource("/__qsite/events");
  source.onmessage = function (event) {
    if (event.data !== shown) {
      source.close();
      window.location.reload();
    }
  };
})();
"""


@dataclass(frozen=True)
class Snapshot:
    """What the server answers with right now. ``files`` is the last good build; ``problems``
    are those of the latest attempt (empty when it succeeded)."""

    files: dict[str, bytes] = field(default_factory=dict)
    base_path: str = "/"
    generation: int = 0
    problems: tuple[Problem, ...] = ()
    good: bool = False  # whether any build has succeeded yet


class SiteState:
    """The shared, thread-safe state between the rebuild thread and request threads."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._snapshot = Snapshot()
        self._stopping = False

    def snapshot(self) -> Snapshot:
        with self._changed:
            return self._snapshot

    def publish(
        self, files: dict[str, bytes] | None, base_path: str | None, problems: Iterable[Problem]
    ) -> Snapshot:
        """Record a build attempt: new files if it succeeded (``files`` not None), else keep
        the last good files and show ``problems``."""
        with self._changed:
            old = self._snapshot
            self._snapshot = Snapshot(
                files=files if files is not None else old.files,
                base_path=base_path or old.base_path,
                generation=old.generation + 1,
                problems=tuple(problems) if files is None else (),
                good=old.good or files is not None,
            )
            self._changed.notify_all()
            return self._snapshot

    def wait(self, generation: int, timeout: float) -> int | None:
        """The generation after it changes from ``generation`` or ``timeout`` passes; None
        once the server is stopping."""
        with self._changed:
            self._changed.wait_for(
                lambda: self._stopping or self._snapshot.generation != generation, timeout
            )
            return None if self._stopping else self._snapshot.generation

    def stop(self) -> None:
        with self._changed:
            self._stopping = True
            self._changed.notify_all()


@dataclass(frozen=True)
class Attempt:
    """One build: the files and base path if it worked, else its problems."""

    files: dict[str, bytes] | None
    base_path: str | None
    problems: list[Problem]
    posts: int = 0
    pages: int = 0
    seconds: float = 0.0


def build_in_memory(
    root: Path, origin: str, engine: Engine | None = None, touched: Iterable[str] | None = None
) -> Attempt:
    """Render the site as ``qsite serve`` shows it (drafts and scheduled posts included, links
    pointing at this server). Never raises for anything an editor could have done. ``engine``
    (``Engine.in_memory()``), kept across rebuilds, lets a rebuild reuse unchanged files,
    Markdown and pages; ``touched``, the site paths the watcher saw change since the last
    rebuild began (None: unknown), lets it skip the walk and the stats of the others."""
    start = time.perf_counter()
    try:
        if engine is not None:
            engine.expect_changes(touched)
        config = configure(root, SERVE_OPTIONS)
        config = with_base_url(config, origin + config.base_path, "qsite serve")  # site.yaml's base_url check
        result = render_site(config, SERVE_OPTIONS, engine)
        paths = [o.path for o in result.outputs]
        if engine is not None:
            engine.check_paths(paths, check_paths)
        else:
            check_paths(paths)
    except QsiteError as exc:
        return Attempt(None, None, list(exc.problems), seconds=time.perf_counter() - start)
    except Exception as exc:
        problem = Problem(
            "qsite", None, f"qsite itself failed: {type(exc).__name__}: {exc}", "please report this"
        )
        return Attempt(None, None, [problem], seconds=time.perf_counter() - start)
    files = {o.path: o.data for o in result.outputs}
    return Attempt(
        files,
        config.base_path,
        [p for p in result.warnings],
        len(result.site.posts),
        len(result.site.pages),
        time.perf_counter() - start,
    )


# ---------------------------------------------------------------------------------------------
# Watching and rebuilding

IGNORED_SUFFIXES = ("~", ".swp", ".swx", ".swo", ".tmp", ".part", ".crdownload")
IGNORED_EVENTS = {"opened", "closed_no_write"}  # reading a file is not a change
# ... but a file closed after writing ("closed") or renamed into place ends a save: the rebuild
# need not wait out the debounce (``Rebuilder.changed``'s ``settled``)


def watched(root: Path, path: str) -> str | None:
    """The site-relative path if a change to ``path`` should rebuild, else None. Editors'
    swap and backup files (``.post.md.swp``, ``post.md~``, ``#post.md#``, vim's ``4913``) are
    ignored so they do not show up as "changed"."""
    try:
        rel = Path(path).resolve().relative_to(root)
    except ValueError:
        return None
    parts = rel.parts
    if not parts:
        return None
    if parts == ("site.yaml",):
        return "site.yaml"
    if parts[0] not in ("content", "templates") or len(parts) < 2:
        return None
    name = parts[-1]
    if (
        any(p.startswith(".") for p in parts)
        or name.startswith("#")
        or name.endswith(IGNORED_SUFFIXES)
    ):
        return None
    if name == "4913":
        return None
    return rel.as_posix()


class Rebuilder:
    """Collects changed paths and rebuilds once they have been quiet for ``debounce`` seconds."""

    def __init__(
        self,
        root: Path,
        build: Callable[[frozenset[str] | None], Attempt],
        state: SiteState,
        log: Callable[[str], None],
        debounce: float = DEBOUNCE,
    ):
        self.root = root
        self.build = build
        self.state = state
        self.log = log
        self.debounce = debounce
        self._pending: dict[str, bool] = {}  # path → whether it was deleted
        self._touched: set[str] = set()  # every site path an event named since the last rebuild began
        self._last = 0.0
        self._settled = False  # the latest event ended a save: rebuild without waiting out the debounce
        self.started_ns = time.time_ns()
        self._stopping = False
        self._warnings: set[Problem] = set()  # shown once, then again only when they change
        self._wake = threading.Condition()
        self.thread = threading.Thread(target=self._run, name="qsite-rebuild", daemon=True)

    def changed(self, rel: str, deleted: bool = False, settled: bool = False) -> None:
        """``rel`` changed. ``settled``: this event ends a save (the file was closed after
        writing, or renamed into place), so unless another event follows at once the rebuild
        starts now: the debounce is for bursts whose end no event marks (a tool writing many files)."""
        with self._wake:
            self._pending[rel] = self._pending.get(rel, False) or deleted
            self._touched.add(rel)
            self._last = time.monotonic()
            self._settled = settled
            self._wake.notify_all()

    def touch(self, rel: str) -> None:
        """A path an event named, whether or not it calls for a rebuild (a file renamed away,
        an editor's swap file): handed to the next rebuild, which checks only what was named
        (``Engine.expect_changes``)."""
        with self._wake:
            self._touched.add(rel)

    def rebuild(self, changed: Iterable[str] = (), touched: frozenset[str] | None = None) -> Attempt:
        """Build and publish. ``touched``: the site paths named by events since the last
        rebuild began; None (the first build) checks every file."""
        self.started_ns = time.time_ns()  # a file saved from now on may be missing from this build
        attempt = self.build(touched)
        if self._stopping:  # finished while the server was stopping: nobody is left to show it to
            return attempt
        self.state.publish(attempt.files, attempt.base_path, attempt.problems)
        warnings = {p for p in attempt.problems if p.severity != "error"}
        self.log(describe(attempt, sorted(changed), show_warnings=warnings != self._warnings))
        self._warnings = warnings
        return attempt

    def start(self) -> None:
        self.thread.start()

    def stop(self, timeout: float = SHUTDOWN) -> None:
        """Stop rebuilding. A rebuild in progress is waited for at most ``timeout`` seconds: the
        thread is a daemon building in memory only, so leaving it to die with the process is safe."""
        with self._wake:
            self._stopping = True
            self._wake.notify_all()
        if self.thread.is_alive():
            self.thread.join(timeout=max(0.0, timeout))

    def _run(self) -> None:
        while True:
            with self._wake:
                self._wake.wait_for(lambda: self._stopping or bool(self._pending))
                while not self._stopping:
                    quiet = time.monotonic() - self._last
                    if quiet >= self.debounce or self._settled:
                        break
                    self._wake.wait(self.debounce - quiet)
                if self._stopping:
                    return
                pending, self._pending = self._pending, {}
                self._settled = False
                touched, self._touched = frozenset(self._touched), set()
            # a save through a temporary file leaves events for a file that no longer exists
            changed = [
                rel for rel, deleted in pending.items() if deleted or (self.root / rel).exists()
            ]
            self.rebuild(changed or ["a file"], touched)


def describe(attempt: Attempt, changed: list[str], show_warnings: bool = True) -> str:
    """The terminal's line for one rebuild: what changed, how long it took, what went wrong."""
    stamp = datetime.now().strftime("%H:%M:%S")
    if not changed:
        what = "Built"
    elif len(changed) <= 3:
        what = f"{', '.join(changed)} changed; rebuilt"
    else:
        what = f"{', '.join(changed[:3])} and {len(changed) - 3} more changed; rebuilt"
    ms = f"{attempt.seconds * 1000:.0f} ms"
    errors = [p for p in attempt.problems if p.severity == "error"]
    warnings = [p for p in attempt.problems if p.severity != "error"]
    if attempt.files is None:
        line = f"{stamp} {what} in {ms}: {_count(len(errors), 'error')}"
        line += "; the browser shows them, and the last good build is kept for everything else"
    else:
        counts = f"{_count(attempt.posts, 'post')}, {_count(attempt.pages, 'page')}"
        line = f"{stamp} {what} in {ms}: {counts}"
        if warnings:
            line += f", {_count(len(warnings), 'warning')}"
    details = [p.format() for p in errors] + (
        [p.format() for p in warnings] if show_warnings else []
    )
    return "\n".join([line, *("  " + d.replace("\n", "\n  ") for d in details)])


def _count(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


WATCHED_FOLDERS = ("content", "templates")
CLOCK_SLACK_NS = 20_000_000  # file times come from a coarse kernel clock, a few ms behind ours


def changed_since(root: Path, since_ns: int) -> list[str]:
    """What was saved, added or removed under the watched folders (and site.yaml) at or after
    ``since_ns``: a removal or a rename shows in its folder's time."""
    found: list[str] = []
    threshold = since_ns - CLOCK_SLACK_NS
    with contextlib.suppress(OSError):
        if (root / "site.yaml").stat().st_mtime_ns >= threshold:
            found.append("site.yaml")
    for folder in WATCHED_FOLDERS:
        for dirpath, dirnames, filenames in os.walk(root / folder):
            dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
            for name in ["", *sorted(filenames)]:
                path = Path(dirpath, name) if name else Path(dirpath)
                try:
                    fresh = path.stat().st_mtime_ns >= threshold
                except OSError:
                    continue
                rel = watched(root, str(path)) if name else path.relative_to(root).as_posix()
                if fresh and rel is not None:
                    found.append(rel)
    return found


def start_watching(root: Path, rebuilder: Rebuilder) -> Any:
    """A started watchdog observer on content/, templates/ (recursively) and the site folder
    itself (not recursively: only site.yaml and the two folders matter there, and output/,
    .qsite-cache/ or .venv must not be walked).

    A watch ends with its folder: when content/ or templates/ is deleted and made again (a
    git checkout, a restore from a backup), the site folder's watch sees the new folder and
    watches it afresh, then rebuilds, which also catches what was written into it before its
    watch began. Saves made while the first build ran, before any watch, are found by their
    times once watching starts (``Rebuilder.started_ns``), so none is lost."""
    from watchdog.events import FileSystemEvent, FileSystemEventHandler
    from watchdog.observers import Observer

    folders: dict[str, Any] = {}  # "content" → its ObservedWatch

    def watch_folder(observer: Any, handler: Any, folder: str) -> None:
        old = folders.pop(folder, None)
        if old is not None:
            with contextlib.suppress(KeyError):
                observer.unschedule(old)  # its emitter stopped when the folder went
        if (root / folder).is_dir():
            folders[folder] = observer.schedule(handler, str(root / folder), recursive=True)

    class Handler(FileSystemEventHandler):
        observer: Any = None

        def on_any_event(self, event: FileSystemEvent) -> None:
            if event.event_type in IGNORED_EVENTS:
                return
            if not (event.is_directory and event.event_type == "modified"):
                for path in (event.src_path, getattr(event, "dest_path", "")):
                    rel = site_path(root, _text(path)) if path else None
                    if rel is not None:  # even a file ignored below: the next rebuild checks it
                        rebuilder.touch(rel)
            if self._folder_event(event):
                return
            if event.is_directory and event.event_type == "modified":
                return  # a folder "changes" whenever a file in it does: that file is reported
            # a rename reports where the file went: the old name is usually an editor's
            # temporary file (the rebuild is told of it anyway: ``touch`` above)
            src = watched(root, _text(event.src_path))
            if event.event_type == "moved":
                dest = watched(root, _text(event.dest_path))
                if dest is not None:
                    rebuilder.changed(dest, settled=True)  # renamed into place: a save's last step
                elif src is not None:  # moved out of the site, e.g. to the bin
                    rebuilder.changed(src, deleted=True)
            elif src is not None and event.event_type == "closed":
                if not event.is_directory:
                    rebuilder.changed(src, settled=True)  # closed after writing: the save is done
            elif src is not None:
                rebuilder.changed(src, deleted=event.event_type == "deleted")

        def _folder_event(self, event: FileSystemEvent) -> bool:
            """content/ or templates/ itself made, removed or renamed: watch it again."""
            paths = [_text(event.src_path)]
            if event.event_type == "moved":
                paths.append(_text(event.dest_path))
            hit = False
            for path in paths:
                try:
                    rel = Path(path).relative_to(root).as_posix()
                except ValueError:
                    continue
                if rel in WATCHED_FOLDERS and event.event_type != "modified":
                    hit = True
                    watch_folder(self.observer, self, rel)
                    rebuilder.changed(rel, deleted=not (root / rel).is_dir())
            return hit

    def started(observer: Any) -> Any:
        handler = Handler()
        handler.observer = observer
        observer.schedule(handler, str(root), recursive=False)
        for folder in WATCHED_FOLDERS:
            watch_folder(observer, handler, folder)
        observer.daemon = True
        observer.start()
        for rel in changed_since(root, rebuilder.started_ns):  # saved before the watch began
            rebuilder.changed(rel)
        return observer

    try:
        return started(Observer())
    except OSError:
        # inotify can run out of watches on a busy machine; polling is slower but works
        from watchdog.observers.polling import PollingObserver

        return started(PollingObserver(timeout=0.5))


# ---------------------------------------------------------------------------------------------
# HTTP


def _text(path: str | bytes) -> str:
    return path.decode() if isinstance(path, bytes) else str(path)


def site_path(root: Path, path: str) -> str | None:
    """``path`` relative to the site folder, as an event names it (links not followed)."""
    try:
        return Path(path).relative_to(root).as_posix()
    except ValueError:
        return None


class PreviewServer(ThreadingHTTPServer):
    """Threads are daemons so open event streams never hold up stopping; the server keeps
    the connections it is answering, so that stopping can close every one of them."""

    daemon_threads = True
    block_on_close = False

    def __init__(self, address: tuple[str, int], state: SiteState, root: Path):
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        self.state = state
        self.root = root
        self._open: set[socket.socket] = set()
        self._closed = threading.Condition()
        super().__init__(address, PreviewHandler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._closed:
            self._open.add(request)
        super().process_request(request, client_address)

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            with self._closed:
                self._open.discard(request)
                self._closed.notify_all()

    def close_connections(self, timeout: float) -> None:
        """Wait up to ``timeout`` for the connections being answered to end by themselves (reload
        streams end once ``SiteState.stop`` has woken them), then cut the rest off, so that
        every browser tab sees its stream end rather than a server that went silent."""
        with self._closed:
            self._closed.wait_for(lambda: not self._open, max(0.0, timeout))
            left = list(self._open)
        for request in left:
            with contextlib.suppress(OSError):
                request.shutdown(socket.SHUT_RDWR)


class PreviewHandler(BaseHTTPRequestHandler):
    server: PreviewServer
    server_version = "qsite-serve"

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the terminal shows one line per rebuild, not one per request."""

    def do_HEAD(self) -> None:
        self._answer(head=True)

    def do_GET(self) -> None:
        self._answer(head=False)

    def _answer(self, head: bool) -> None:
        try:
            path = unquote(urlsplit(self.path).path)
            if path == EVENTS_PATH and not head:
                self._events()
            elif path == RELOAD_SCRIPT_PATH:
                self._send(HTTPStatus.OK, "text/javascript; charset=utf-8", RELOAD_JS, head)
            else:
                self._page(path, head)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the browser went away (a reload): nothing to tell anyone

    def _page(self, path: str, head: bool) -> None:
        snap = self.server.state.snapshot()
        base = snap.base_path
        if not path.startswith(base):
            if base.startswith(path.rstrip("/") + "/"):  # "/" on a site served at /q-blog/
                self._redirect(base)
            else:
                self._not_found(snap, head)
            return
        rel = path[len(base) :]
        if ".." in rel.split("/") or rel.startswith("/"):
            self._not_found(snap, head)
            return
        found = urls.answer(rel, snap.files)  # as GitHub Pages would, and as `qsite check` assumes
        is_page = found is None or (rel if found.redirect else found.file).endswith(".html")
        if snap.problems and is_page:
            self._send(
                HTTPStatus.INTERNAL_SERVER_ERROR,
                "text/html; charset=utf-8",
                error_page(snap, self.server.root),
                head,
            )
            return
        if found is None:
            self._not_found(snap, head)
        elif found.redirect:
            self._redirect(path + "/")
        else:
            self._file(found.file, snap.files[found.file], snap.generation, head)

    def _file(
        self, key: str, data: bytes, generation: int, head: bool, status: HTTPStatus = HTTPStatus.OK
    ) -> None:
        kind = content_type(key)
        if kind.startswith("text/html"):
            data = inject_reload(data, generation)
        self._send(status, kind, data, head)

    def _not_found(self, snap: Snapshot, head: bool) -> None:
        page = snap.files.get("404.html")
        if page is not None:
            self._file("404.html", page, snap.generation, head, HTTPStatus.NOT_FOUND)
        else:
            self._send(HTTPStatus.NOT_FOUND, "text/plain; charset=utf-8", b"Not found\n", head)

    def _redirect(self, location: str) -> None:
        self.send_response(HTTPStatus.FOUND)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _send(self, status: HTTPStatus, kind: str, data: bytes, head: bool) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        if not head:
            self.wfile.write(data)

    def _events(self) -> None:
        """Server-sent events: the current generation now, then each new one as it happens."""
        state = self.server.state
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        generation = state.snapshot().generation
        self.wfile.write(f"retry: 1000\ndata: {generation}\n\n".encode())
        while True:
            current = state.wait(generation, KEEPALIVE)
            if current is None:
                return
            if current == generation:
                self.wfile.write(b": still here\n\n")
            else:
                generation = current
                self.wfile.write(f"data: {generation}\n\n".encode())


def content_type(path: str) -> str:
    kind = mimetypes.guess_type(posixpath.basename(path))[0] or "application/octet-stream"
    if kind.startswith("text/") or kind in (
        "application/javascript",
        "application/xml",
        "image/svg+xml",
    ):
        kind += "; charset=utf-8"
    return kind


def inject_reload(page: bytes, generation: int) -> bytes:
    """The page with the reload script before ``</body>`` (or at its end if there is none)."""
    tag = f'<script src="{RELOAD_SCRIPT_PATH}" data-generation="{generation}"></script>\n'.encode()
    at = page.lower().rfind(b"</body>")
    if at < 0:
        return page + tag
    return page[:at] + tag + page[at:]


def error_page(snap: Snapshot, root: Path) -> bytes:
    """Every problem of the failed build, escaped, with the lines of the file around it."""
    items = []
    for problem in sorted(snap.problems, key=lambda p: p.severity != "error"):
        where = html.escape(problem.location())
        said = f"{html.escape(problem.severity)}: {html.escape(problem.message)}"
        text = f'<li><p><code class="where">{where}</code>: {said}</p>'
        if problem.fix:
            text += f'<p class="fix">Fix: {html.escape(problem.fix)}</p>'
        excerpt = _excerpt(root, problem)
        if excerpt:
            text += f"<pre>{excerpt}</pre>"
        items.append(text + "</li>")
    count = len(snap.problems)
    kept = (
        "Until then the last good build is kept for images and styles."
        if snap.good
        else "The site has not built successfully yet."
    )
    body = f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>The site could not be rebuilt · qsite serve</title>
<style>
body {{ font: 1.05rem/1.5 system-ui, sans-serif; margin: 2rem auto; max-width: 50rem;
  padding: 0 1rem; color: #1b1b1b; background: #fff; }}
h1 {{ color: #a4000f; font-size: 1.6rem; }}
li {{ margin-bottom: 1.5rem; }}
code.where {{ font-weight: bold; }}
.fix {{ margin: 0.25rem 0; }}
pre {{ background: #f3f3f3; padding: 0.5rem; overflow-x: auto; border-left: 4px solid #a4000f; }}
mark {{ background: #ffe08a; color: inherit; }}
</style>
</head>
<body>
<main>
<h1>The site could not be rebuilt</h1>
<p>qsite found {_count(count, "problem")}. Fix {"it" if count == 1 else "them"} and save
the file: this page reloads by itself. {kept}</p>
<ol>
{chr(10).join(items)}
</ol>
</main>
</body>
</html>
"""
    return inject_reload(body.encode("utf-8"), snap.generation)


def _excerpt(root: Path, problem: Problem, around: int = 1) -> str:
    if not problem.line:
        return ""
    path = Path(problem.path)
    full = path if path.is_absolute() else root / path
    try:
        if not full.resolve().is_relative_to(root.resolve()):
            return ""
        lines = full.read_text(encoding="utf-8-sig", errors="replace").splitlines()
    except OSError:
        return ""
    first = max(1, problem.line - around)
    last = min(len(lines), problem.line + around)
    out = []
    for number in range(first, last + 1):
        text = html.escape(f"{number:>4} | {lines[number - 1]}")
        out.append(f"<mark>{text}</mark>" if number == problem.line else text)
    return "\n".join(out)


# ---------------------------------------------------------------------------------------------
# Wiring


def open_server(root: Path, host: str, port: int, state: SiteState) -> PreviewServer:
    """Bind first, so a busy port is a clear message before any work is done."""
    try:
        return PreviewServer((host, port), state, root)
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise ConfigError(
                [
                    Problem(
                        f"--port {port}",
                        None,
                        f"port {port} on {host} is already in use (is qsite serve running?)",
                        f"stop the other server, or use another port: --port {port + 1}, "
                        "or --port 0 to pick a free one",
                    )
                ]
            ) from None
        raise ConfigError(
            [
                Problem(
                    f"--host {host}",
                    None,
                    f"cannot listen on {host}:{port}: {exc.strerror or exc}",
                    "use the default --host 127.0.0.1",
                )
            ]
        ) from None


def url_host(host: str) -> str:
    if host in ("", "0.0.0.0"):
        return "127.0.0.1"
    if host == "::":
        return "[::1]"
    return f"[{host}]" if ":" in host else host


def serve(
    root: Path,
    host: str,
    port: int,
    log: Callable[[str], None],
    ready: Callable[[str], None],
    debounce: float = DEBOUNCE,
) -> None:
    """Build, serve and rebuild until SIGINT or SIGTERM, which raise ``Interrupted`` (a
    ``KeyboardInterrupt``) to the caller once everything is shut down, within ``SHUTDOWN``
    seconds or so. The handlers are installed whatever the process inherited: a server started
    in the background by a script inherits SIGINT as ignored, yet is stopped with it."""
    with stop_on(STOP_SIGNALS):
        _serve(root.resolve(), host, port, log, ready, debounce)


def _serve(
    root: Path, host: str, port: int, log: Callable[[str], None], ready: Callable[[str], None], debounce: float
) -> None:
    if not (root / "site.yaml").is_file():
        configure(root)  # raises the usual "there is no site.yaml here" ConfigError (exit 2)
    state = SiteState()
    server = open_server(root, host, port, state)
    observer = None
    rebuilder = None
    try:
        origin = f"http://{url_host(host)}:{server.server_address[1]}"
        check_base_url(origin + "/", "--host")  # the address served at is checked as base_url is (exit 2)
        memory = Engine.in_memory()  # serve never writes .qsite-cache/
        rebuilder = Rebuilder(
            root, lambda touched: build_in_memory(root, origin, memory, touched), state, log, debounce
        )
        rebuilder.rebuild()
        ready(origin + state.snapshot().base_path)
        observer = start_watching(root, rebuilder)
        rebuilder.start()
        server.serve_forever(poll_interval=0.25)
    finally:
        stop(state, server, observer, rebuilder)


def stop(state: SiteState, server: PreviewServer, observer: Any, rebuilder: Rebuilder | None) -> None:
    """Shut everything down, waiting no more than ``SHUTDOWN`` seconds in all. Reload streams
    are woken first, so they end while the rest stops."""
    end = time.monotonic() + SHUTDOWN
    state.stop()
    server.server_close()  # no new connections
    if rebuilder is not None:
        rebuilder.stop(timeout=0)  # asked to stop; a rebuild in progress is not waited for
    if observer is not None:
        observer.stop()
        observer.join(timeout=max(0.0, end - time.monotonic()))
    server.close_connections(end - time.monotonic())
