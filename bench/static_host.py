"""A built site served as a static host serves it, for the browser tests and `make lighthouse`:
the site's own 404 page for a missing path (GitHub Pages does the same), nothing logged, on a
free port of 127.0.0.1, stopped and joined when the ``with`` block ends."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any


class StaticHost(SimpleHTTPRequestHandler):
    """Static files, with the site's own 404 page for missing paths."""

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        page = Path(self.directory) / "404.html"
        if code == 404 and page.is_file():
            body = page.read_bytes()
            self.send_response(404)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)
            return
        super().send_error(code, message, explain)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextmanager
def serving(directory: Path) -> Iterator[str]:
    """The base URL (``http://127.0.0.1:PORT``) of ``directory`` served by ``StaticHost``."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(StaticHost, directory=str(directory)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
