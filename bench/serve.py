"""Time ``qsite serve`` from saving a post to the browser showing it.

``qsite serve --port 0`` runs on a generated site in its own process, as an editor runs it. The
benchmark holds the reload stream open (``/__qsite/events``, server-sent events, as every open
page does), appends a sentence to a post, and measures from the write to the reload event
(watching, debouncing, rebuilding) and then to the fetch of the post returning the new sentence
(what the browser does on reload). Reported: medians of several edits, with min and max; and,
from serve's own log line, how long each rebuild took, so that what the rest (the watcher, the
debounce, the reload event) costs shows as the difference.
"""

from __future__ import annotations

import http.client
import re
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from queue import Queue
from urllib.parse import urlsplit


class Events:
    """A reader of the server's reload stream on its own thread: generations arrive on a queue."""

    def __init__(self, host: str, port: int):
        self.conn = http.client.HTTPConnection(host, port, timeout=60)
        self.conn.request("GET", "/__qsite/events")
        self.response = self.conn.getresponse()
        self.queue: Queue[tuple[float, int]] = Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        try:
            for raw in self.response:
                line = raw.decode().strip()
                if line.startswith("data:"):
                    self.queue.put((time.perf_counter(), int(line[5:])))
        except (OSError, ValueError, http.client.HTTPException):
            return

    def next(self, timeout: float) -> tuple[float, int]:
        return self.queue.get(timeout=timeout)

    def close(self) -> None:
        self.conn.close()


def fetch(host: str, port: int, path: str) -> bytes:
    conn = http.client.HTTPConnection(host, port, timeout=60)
    try:
        conn.request("GET", path)
        return conn.getresponse().read()
    finally:
        conn.close()


def measure_serve(site: Path, edits: int = 7) -> dict[str, list[float]]:
    """{"event": [...], "shown": [...], "build": [...]}: seconds from each save to the reload
    event, and to the edited page being served with the new text; and each rebuild's own time
    (serve's log line)."""
    cmd = [sys.executable, "-m", "qsite", "serve", "--port", "0", "--source", str(site)]
    proc = subprocess.Popen(cmd, cwd=site, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    results: dict[str, list[float]] = {"event": [], "shown": [], "build": []}
    try:
        assert proc.stdout is not None
        url = None
        for line in proc.stdout:
            found = re.search(r"Serving the site at (http://\S+)", line)
            if found:
                url = found.group(1)
                break
        if url is None:
            raise SystemExit(f"qsite serve did not start in {site}")
        log: list[str] = []
        threading.Thread(target=lambda: log.extend(proc.stdout or ()), daemon=True).start()  # drain its log
        parts = urlsplit(url)
        host, port = parts.hostname or "127.0.0.1", parts.port or 80
        posts = sorted((site / "content" / "posts").glob("*.md"))
        events = Events(host, port)
        generation = events.next(timeout=60)[1]
        for n in range(edits):
            post = posts[(n * 137 + len(posts) // 3) % len(posts)]
            slug = re.sub(r"^\d{4}-\d{2}-\d{2}-", "", post.stem)  # a date in the file name is not in the URL
            marker = f"Saved in the editor, edit {n} at {time.time_ns()}."
            text = post.read_text(encoding="utf-8")
            time.sleep(0.5)  # let the previous rebuild's events settle
            logged = len(log)
            start = time.perf_counter()
            post.write_text(text + f"\n{marker}\n", encoding="utf-8")
            while True:
                when, seen = events.next(timeout=60)
                if seen != generation:
                    generation = seen
                    break
            page = fetch(host, port, f"/posts/{slug}/")
            shown = time.perf_counter()
            if marker.encode() not in page:
                raise SystemExit(f"the reloaded page of {slug} does not show the edit")
            results["event"].append(when - start)
            results["shown"].append(shown - start)
            deadline = time.monotonic() + 5  # this rebuild's log line is written just after its event
            while len(log) == logged and time.monotonic() < deadline:
                time.sleep(0.01)
            said = log[-1].strip() if len(log) > logged else ""
            built = re.search(r"rebuilt in (\d+) ms", said)
            if built:
                results["build"].append(int(built.group(1)) / 1000)
            print(f"  serve edit {n + 1}/{edits}: event {when - start:.3f} s, shown {shown - start:.3f} s ({said})",
                  file=sys.stderr)
        events.close()
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
    return results


def ms(values: list[float]) -> str:
    values = [v * 1000 for v in values]
    return f"{statistics.median(values):.0f} ms ({min(values):.0f}–{max(values):.0f})"
