"""`qsite serve` (issue 4): the real server in a subprocess on a free port, driven over HTTP
while the test edits files the way an editor's program saves them.

The site uses tiny templates (conftest.TINY, with a page body for the reload script to go
into): what serve does with pages, drafts, errors and edits does not depend on the production
templates, which tests/test_templates.py covers."""

from __future__ import annotations

import errno
import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from qsite import cli
from qsite.serve import Attempt, Rebuilder, SiteState, build_in_memory, inject_reload, watched

from conftest import BASE, REPO, TINY, TINY_BASE, post, with_signals, write_files

DEADLINE = 10.0  # seconds; a rebuild takes well under one, this only bounds a hung test

# The home page and posts as whole HTML pages, so serve has a </body> to put its reload script
# before; each prints the values the tests look for.
SERVED = {
    **TINY_BASE,
    "templates/index.html": "<!DOCTYPE html>\n<html><body>\n{{ site.title }}|\n" + TINY["templates/index.html"] + "\n</body></html>\n",
    "templates/post.html": (
        "<!DOCTYPE html>\n<html><body>\npost|{{ post.url }}|{{ post.title }}|draft={{ post.draft }}|future={{ post.future }}|\n"
        "{{ post.html | safe }}\n</body></html>\n"
    ),
    "templates/static/site.css": "body { color: black }\n",
}


def save(path: Path, text: str) -> None:
    """Save like many editors do: write a temporary file beside it, then rename it over."""
    temp = path.with_name(f".{path.name}.tmp")
    temp.write_text(text, encoding="utf-8")
    os.replace(temp, path)


class Server:
    def __init__(self, proc: subprocess.Popen[str], tmpdir: Path):
        self.proc = proc
        self.tmpdir = tmpdir
        self.lines: queue.Queue[str] = queue.Queue()
        self.output: list[str] = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        self.url = self.wait_for_line(r"Serving the site at (\S+)").group(1)

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line)

    def wait_for_line(self, pattern: str) -> re.Match[str]:
        end = time.monotonic() + DEADLINE
        while time.monotonic() < end:
            try:
                line = self.lines.get(timeout=0.1)
            except queue.Empty:
                if self.proc.poll() is not None:
                    break
                continue
            self.output.append(line)
            match = re.search(pattern, line)
            if match:
                return match
        raise AssertionError(f"no line matching {pattern!r} in:\n{''.join(self.output)}")

    def rest(self) -> list[str]:
        """Once the process has exited: every line it printed, to the end."""
        self.reader.join(timeout=DEADLINE)
        while not self.lines.empty():
            self.output.append(self.lines.get())
        return self.output

    def get(self, path: str) -> tuple[int, str, dict[str, str]]:
        try:
            with urllib.request.urlopen(self.url.rstrip("/") + path, timeout=5) as response:
                return response.status, response.read().decode(), dict(response.headers)
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode(), dict(exc.headers)

    def poll(self, path: str, done: Callable[[int, str], bool]) -> tuple[int, str]:
        """Fetch ``path`` until ``done(status, body)``: the rebuild runs in the background."""
        end = time.monotonic() + DEADLINE
        while True:
            status, body, _ = self.get(path)
            if done(status, body):
                return status, body
            if time.monotonic() > end:
                raise AssertionError(
                    f"{path} never got there; last answer {status}:\n{body[:2000]}"
                )
            time.sleep(0.05)


@pytest.fixture
def site(tmp_path: Path) -> Path:
    root = tmp_path / "site"
    write_files(
        root,
        {
            **SERVED,
            "content/posts/2020-04-01-huddles.md": post(
                "Huddles", "2020-04-01", body="Original body text."
            ),
            "content/posts/2020-04-02-notes.md": post(
                "Notes in progress", "2020-04-02", draft="true"
            ),
            "content/posts/2099-01-01-later.md": post("Written for later", "2099-01-01"),
        },
    )
    return root


StartServer = Callable[..., Server]


@pytest.fixture
def start_server(site: Path, tmp_path: Path) -> Iterator[StartServer]:
    """``start_server(ignored=())`` → a running ``qsite serve``; its SIGINT and SIGTERM are at
    their defaults, as from a terminal, whatever pytest inherited, except those in ``ignored``,
    which it inherits as ignored (as a background job of a script does)."""
    started: list[subprocess.Popen[str]] = []

    def start(ignored: tuple[signal.Signals, ...] = ()) -> Server:
        tmpdir = tmp_path / f"tmp{len(started)}"
        tmpdir.mkdir()
        env = {**os.environ, "TMPDIR": str(tmpdir), "PYTHONUNBUFFERED": "1"}
        proc = subprocess.Popen(
            with_signals([sys.executable, "-m", "qsite", "serve", "--port", "0", "--source", str(site)], ignored),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            text=True,
            env=env,
            cwd=REPO,
        )
        started.append(proc)
        return Server(proc, tmpdir)

    try:
        yield start
    finally:
        for proc in started:
            if proc.poll() is None:
                proc.kill()
                proc.wait()


@pytest.fixture
def server(start_server: StartServer) -> Server:
    return start_server()


def test_serve_edit_break_fix_and_stop(server: Server, site: Path) -> None:
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+/", server.url)
    assert server.url != "http://127.0.0.1:0/"

    status, home, headers = server.get("/")
    assert status == 200
    assert headers["Content-Type"] == "text/html; charset=utf-8"
    assert "/posts/huddles/|Huddles|" in home
    assert re.search(
        r'<script src="/__qsite/reload.js" data-generation="1"></script>\n</body>', home
    )
    # drafts and scheduled posts are previewed, marked as such
    _, draft, _ = server.get("/posts/notes/")
    assert "post|/posts/notes/|Notes in progress|draft=True|future=False|" in draft
    _, later, _ = server.get("/posts/later/")
    assert "post|/posts/later/|Written for later|draft=False|future=True|" in later
    status, css, headers = server.get("/static/site.css")
    assert status == 200 and headers["Content-Type"] == "text/css; charset=utf-8"
    assert "__qsite" not in css
    assert server.get("/posts/nothing-here/")[0] == 404
    assert server.get("/posts/huddles")[1] == server.get("/posts/huddles/")[1]  # redirected

    # the live-reload stream: the current generation, then the next one after a save
    events = urllib.request.urlopen(server.url + "__qsite/events", timeout=DEADLINE)
    assert events.headers["Content-Type"] == "text/event-stream"
    assert events.readline() == b"retry: 1000\n"
    assert events.readline() == b"data: 1\n"

    source = site / "content/posts/2020-04-01-huddles.md"
    save(source, post("Huddles", "2020-04-01", body="Edited body text."))
    server.poll("/posts/huddles/", lambda s, body: "Edited body text." in body)
    line = next(line for line in iter(events.readline, b"") if line.startswith(b"data:"))
    assert line == b"data: 2\n"
    events.close()
    server.wait_for_line(
        r"content/posts/2020-04-01-huddles\.md changed; rebuilt in \d+ ms: 3 posts, 0 pages"
    )

    save(
        source,
        "---\ntitle: Huddles: <b>what</b> we learned\ndate: 2020-04-01\n"
        "themes: [staff-wellbeing]\n---\nBody\n",
    )
    status, page = server.poll("/posts/huddles/", lambda s, body: s == 500)
    assert "<h1>The site could not be rebuilt</h1>" in page
    assert (
        '<code class="where">content/posts/2020-04-01-huddles.md:2</code>: error: '
        "this is not valid YAML: mapping values are not allowed here" in page
    )
    assert "<mark>   2 | title: Huddles: &lt;b&gt;what&lt;/b&gt; we learned</mark>" in page
    assert "<b>what</b>" not in page
    assert '<script src="/__qsite/reload.js"' in page
    assert server.get("/")[0] == 500  # every page explains the problem...
    assert server.get("/static/site.css")[0] == 200  # ...while assets come from the last good build
    server.wait_for_line(r"huddles\.md changed; rebuilt in \d+ ms: 1 error")
    server.wait_for_line(r"content/posts/2020-04-01-huddles\.md:2: error: this is not valid YAML")

    save(source, post("Huddles", "2020-04-01", body="Fixed body text."))
    server.poll("/posts/huddles/", lambda s, body: s == 200 and "Fixed body text." in body)

    # a new file and a template change are picked up too
    write_files(site, {"content/posts/2020-04-03-new.md": post("Brand new", "2020-04-03")})
    server.poll("/posts/new/", lambda s, body: s == 200 and "Brand new" in body)
    home_template = site / "templates/index.html"
    save(home_template, home_template.read_text().replace("home|", "edited home|"))
    server.poll("/", lambda s, body: "edited home|" in body)

    # site.yaml is watched too, and a mistake there is shown like any other
    settings = site / "site.yaml"
    good_settings = settings.read_text()
    save(settings, good_settings + "post_per_page: 3\n")
    status, page = server.poll("/", lambda s, body: s == 500)
    assert "site.yaml:18</code>: error: unknown setting &#x27;post_per_page&#x27;" in page
    save(settings, good_settings.replace("title: Test Site", "title: Renamed Site"))
    server.poll("/", lambda s, body: s == 200 and "Renamed Site" in body)

    # Ctrl-C with a browser tab still listening for reloads
    listening = urllib.request.urlopen(server.url + "__qsite/events", timeout=DEADLINE)
    assert listening.readline() == b"retry: 1000\n"
    server.proc.send_signal(signal.SIGINT)
    assert server.proc.wait(timeout=DEADLINE) == 0
    listening.close()
    server.wait_for_line(r"^Stopped\.$")
    rebuilds = [line for line in server.output if "rebuilt in" in line]
    assert len(rebuilds) == 7, rebuilds  # one per save, however many events each save made
    assert "Traceback" not in "".join(server.output)
    assert not (site / "output").exists()
    assert list(server.tmpdir.iterdir()) == []
    assert sorted(p.name for p in site.iterdir()) == ["content", "site.yaml", "templates"]


def test_an_address_is_served_as_check_resolves_it(server: Server) -> None:
    """`qsite check` accepts a link to /digest/2020-04/email, as GitHub Pages serves email.html
    for it: serve answers it the same way (both ask urls.answer)."""
    status, body, _ = server.get("/digest/2020-04/email")
    assert status == 200
    assert body == server.get("/digest/2020-04/email.html")[1]
    assert "April 2020" in body


# -- stopping (issue 15) --------------------------------------------------------------------------

STOP_WITHIN = 1.0  # seconds from the signal to the exit, whatever is open or in progress


def open_stream(server: Server) -> Any:
    """A reload stream, as an open page holds one, read up to its first event."""
    stream = urllib.request.urlopen(server.url + "__qsite/events", timeout=DEADLINE)
    assert stream.readline() == b"retry: 1000\n"
    assert stream.readline().startswith(b"data: ")
    assert stream.readline() == b"\n"
    return stream


def stop(server: Server, signum: signal.Signals, stream: Any) -> float:
    """Send ``signum``; assert a clean stop (exit 0, "Stopped.", the stream ended rather than
    cut off or left open, no traceback) and return the seconds it took."""
    start = time.monotonic()
    server.proc.send_signal(signum)
    assert server.proc.wait(timeout=DEADLINE) == 0
    took = time.monotonic() - start
    assert stream.read() == b""  # ended by the server: a hung stream would time out here
    stream.close()
    output = server.rest()
    assert output[-1] == "Stopped.\n", output
    assert "Traceback" not in "".join(output)
    return took


def test_sigterm_stops_cleanly_with_a_stream_open_and_a_rebuild_in_progress(server: Server, site: Path) -> None:
    stream = open_stream(server)
    # A rebuild that cannot finish until the test lets it: site.yaml becomes a named pipe, which
    # the rebuild opens and then waits on for text. Opening the pipe for writing without
    # blocking succeeds only once a reader has it open: the event that the rebuild is under way.
    pipe = site / ".site.yaml.pipe"
    os.mkfifo(pipe)
    os.replace(pipe, site / "site.yaml")
    end = time.monotonic() + DEADLINE
    while True:
        try:
            writer = os.open(site / "site.yaml", os.O_WRONLY | os.O_NONBLOCK)
            break
        except OSError as exc:
            assert exc.errno == errno.ENXIO and time.monotonic() < end, exc
            time.sleep(0.01)
    try:
        took = stop(server, signal.SIGTERM, stream)
    finally:
        os.close(writer)
    assert took < STOP_WITHIN, f"took {took:.2f} s to stop"
    assert not any("changed; rebuilt" in line for line in server.output)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_serve_stops_on_signals_it_inherited_as_ignored(start_server: StartServer, signum: signal.Signals) -> None:
    """As when started by ``make test &`` in a script, nohup, or a CI runner: the server
    installs its own handlers whatever it inherited."""
    server = start_server(ignored=(signal.SIGINT, signal.SIGTERM))
    took = stop(server, signum, open_stream(server))
    assert took < STOP_WITHIN, f"took {took:.2f} s to stop"


def test_signal_tests_pass_when_pytest_inherits_sigint_ignored(tmp_path: Path) -> None:
    """The issue's reproduction: the suite started by a shell that ignores SIGINT for it (a
    background job of a script). The tests that signal a child must restore its defaults
    rather than pass the ignored SIGINT on, or the interrupted build would run to the end."""
    tests = [
        "tests/test_serve.py::test_serve_edit_break_fix_and_stop",
        "tests/test_cli.py::test_an_interrupted_build_leaves_the_old_output[ctrl-c]",
    ]
    run = subprocess.run(
        with_signals(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--basetemp={tmp_path / 'nested'}", *tests],
            ignored=(signal.SIGINT,),
        ),
        cwd=REPO,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "2 passed" in run.stdout, run.stdout


def test_a_busy_port_is_a_clear_usage_error(site: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert cli.main(["serve", "--port", str(port), "--source", str(site)]) == 2
    err = capsys.readouterr().err
    assert f"port {port} on 127.0.0.1 is already in use" in err
    assert "--port 0 to pick a free one" in err


def test_no_site_here_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["serve", "--port", "0", "--source", str(tmp_path)]) == 2
    assert "there is no site.yaml here" in capsys.readouterr().err


def test_build_output_has_no_reload_script(build_site) -> None:  # type: ignore[no-untyped-def]
    # The production templates, on purpose: none of the files the real site ships may carry it.
    site = build_site({**BASE, "content/posts/a.md": post("A", "2020-04-01")})
    for name in site.files():
        assert "__qsite" not in (site.out / name).read_text(errors="replace"), name


def test_a_burst_of_changes_is_one_rebuild(site: Path) -> None:
    built: list[Attempt] = []
    lines: queue.Queue[str] = queue.Queue()  # one line per rebuild, logged when it is done

    def counted(touched: frozenset[str] | None = None) -> Attempt:
        attempt = build_in_memory(site, "http://127.0.0.1:1")
        built.append(attempt)
        return attempt

    state = SiteState()
    rebuilder = Rebuilder(site, counted, state, lines.put, debounce=0.5)
    rebuilder.start()
    try:
        for _ in range(10):  # an editor's burst of events, each well within the debounce
            rebuilder.changed("content/posts/2020-04-01-huddles.md")
            time.sleep(0.02)
        rebuilder.changed("content/posts/.2020-04-01-huddles.md.tmp")  # gone again by the rebuild
        first = lines.get(timeout=DEADLINE)
        # Nothing from the burst may be left for a second rebuild: one more change, made after
        # the first rebuild was logged, must be rebuilt on its own, with nothing else in it.
        rebuilder.changed("site.yaml")
        second = lines.get(timeout=DEADLINE)
    finally:
        rebuilder.stop()
    assert len(built) == 2
    assert state.snapshot().generation == 2
    assert "content/posts/2020-04-01-huddles.md changed; rebuilt in" in first
    assert ".tmp" not in first
    assert " site.yaml changed; rebuilt in" in second and "huddles" not in second
    assert lines.empty()


def test_only_sources_are_watched(tmp_path: Path) -> None:
    root = tmp_path
    assert watched(root, str(root / "site.yaml")) == "site.yaml"
    assert watched(root, str(root / "content/posts/a.md")) == "content/posts/a.md"
    assert watched(root, str(root / "templates/base.html")) == "templates/base.html"
    for ignored in (
        "output/index.html",
        ".qsite-cache/x",
        "content/posts/.a.md.swp",
        "content/posts/a.md~",
        "content/posts/#a.md#",
        "content/posts/4913",
        "README.md",
        "content",
    ):
        assert watched(root, str(root / ignored)) is None, ignored


def test_inject_reload_goes_before_the_last_body_end() -> None:
    tag = b'<script src="/__qsite/reload.js" data-generation="7"></script>\n'
    assert inject_reload(b"<p>a</p></BODY></html>", 7) == b"<p>a</p>" + tag + b"</BODY></html>"
    assert inject_reload(b"<p>no body end</p>", 7) == b"<p>no body end</p>" + tag
