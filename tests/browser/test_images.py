"""Images never shift the page while they load (issue 14), in Debian's Chromium.

A small site with a photo first in a post, built with the default theme, is served over real
HTTP by a server that holds every image back until the page has been laid out, then lets them
through; Chromium's own layout-shift entries (the Cumulative Layout Shift of Lighthouse and Core
Web Vitals) are summed. As a control, the same page with the ``width``/``height`` attributes
taken out must shift, so the measurement is known to see a shift when there is one."""

from __future__ import annotations

import io
import re
import threading
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageDraw

from qsite.build import Options, build

from .conftest import NOW

pytestmark = pytest.mark.browser

SITE = """\
title: Image Test
description: A site with photos.
base_url: https://example.org/
themes:
  - slug: staff-wellbeing
    title: Staff wellbeing and system resilience
"""
BODY = """Our ward's board, as it looks each morning:

![The huddle board on the ward, with sticky notes in four columns](/images/board.jpg)

After the photo comes the text a reader is in the middle of reading when the photo arrives.
If the photo had no reserved space, this paragraph would jump down by its height.

![A second photo, further down](/images/later.png)

The end.
"""
SHIFTS = """
window.__shift = 0;
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) if (!entry.hadRecentInput) window.__shift += entry.value;
}).observe({type: "layout-shift", buffered: true});
"""
ALL_LOADED = "[...document.images].filter(i => i.loading !== 'lazy').every(i => i.complete && i.naturalWidth > 0)"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa"]
TWO_FRAMES = "new Promise(r => requestAnimationFrame(() => requestAnimationFrame(() => r(window.__shift))))"


def photo(width: int, height: int, fmt: str) -> bytes:
    image = Image.linear_gradient("L").resize((width, height)).convert("RGB")
    ImageDraw.Draw(image).rectangle((width // 8, height // 8, width // 2, height // 2), fill=(240, 200, 40))
    buffer = io.BytesIO()
    image.save(buffer, format=fmt)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def photo_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("photos")
    (root / "site.yaml").write_text(SITE)
    (root / "content/posts").mkdir(parents=True)
    (root / "content/images").mkdir()
    (root / "content/images/board.jpg").write_bytes(photo(1600, 1000, "JPEG"))
    (root / "content/images/later.png").write_bytes(photo(1200, 800, "PNG"))
    (root / "content/posts/board.md").write_text(
        "---\ntitle: Our board\ndate: 2020-04-01\nthemes: [staff-wellbeing]\n---\n" + BODY
    )
    build(root, Options(output=root / "public", now=NOW, search=False))
    public = root / "public"
    page = (public / "posts/board/index.html").read_text()
    unsized = re.sub(r'(<img\b[^>]*?) width="\d+" height="\d+"', r"\1", page)
    assert unsized != page
    (public / "posts/board/unsized.html").write_text(unsized)
    return public


class _Gate:
    """Holds image responses until ``open()``: the page lays out first, as on a slow network."""

    def __init__(self) -> None:
        self.event = threading.Event()

    def handler(self, directory: str) -> type[SimpleHTTPRequestHandler]:
        gate = self

        class Handler(SimpleHTTPRequestHandler):
            def do_GET(self) -> None:
                if re.search(r"\.(png|jpe?g|webp|gif)$", self.path):
                    gate.event.wait(timeout=20)
                super().do_GET()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return partial(Handler, directory=directory)  # type: ignore[return-value]


@pytest.fixture
def gated(photo_site: Path) -> Iterator[tuple[str, _Gate]]:
    gate = _Gate()
    server = ThreadingHTTPServer(("127.0.0.1", 0), gate.handler(str(photo_site)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", gate
    gate.event.set()
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def layout_shift(chromium: Any, url: str, gate: _Gate, width: int) -> float:
    context = chromium.new_context(viewport={"width": width, "height": 900})
    try:
        page = context.new_page()
        page.add_init_script(SHIFTS)
        page.goto(url, wait_until="domcontentloaded")
        page.wait_for_function("document.readyState !== 'loading' && document.body.offsetHeight > 0")
        page.evaluate(TWO_FRAMES)  # laid out and painted without the images
        gate.event.set()
        page.wait_for_function(ALL_LOADED, timeout=20_000)
        return float(page.evaluate(TWO_FRAMES))
    finally:
        context.close()


@pytest.mark.parametrize("width", [1280, 375])
def test_no_layout_shift_while_images_load(chromium, gated, width):
    base, gate = gated
    shift = layout_shift(chromium, base + "/posts/board/", gate, width)
    assert shift < 0.01, f"layout shift {shift:.4f} at {width} px"


def test_the_measurement_sees_the_shift_of_an_unsized_image(chromium, gated):
    base, gate = gated
    shift = layout_shift(chromium, base + "/posts/board/unsized.html", gate, 1280)
    assert shift > 0.05, f"an image without width/height should shift the page (measured {shift:.4f})"


def test_the_post_with_photos_has_no_axe_violations_and_lazy_later_images(chromium, gated):
    from axe_playwright_python.sync_playwright import Axe

    base, gate = gated
    gate.event.set()
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    try:
        page = context.new_page()
        page.goto(base + "/posts/board/", wait_until="load")
        results = Axe().run(page, options={"runOnly": {"type": "tag", "values": AXE_TAGS}})
        assert results.violations_count == 0, results.generate_report()
        loading = page.eval_on_selector_all("main img", "imgs => imgs.map(i => i.loading)")
        assert loading == ["auto", "lazy"]
        chosen = page.eval_on_selector("main img", "i => i.currentSrc")
        assert chosen.endswith(".webp")  # Chromium takes the WebP source of the <picture>
    finally:
        context.close()
