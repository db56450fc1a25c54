"""Browser fixtures: the repository's example site, freshly built, served over real HTTP on
127.0.0.1 and driven by Debian's Chromium through Playwright.

Playwright never downloads a browser here (no ``playwright install``): it launches the system
``chromium`` by path. Without it the tests skip with an install hint, except in CI (``CI`` set),
where a missing browser is a failure, so the suite can never pass by silently skipping.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from bench.static_host import serving
from qsite.build import Options, build

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = Path(os.environ.get("QSITE_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
SCREENSHOTS = REPO / "test-artifacts" / "screenshots"
NOW = datetime(2021, 12, 1, 12, 0, tzinfo=UTC)

# The post the hostile comment is attached to: it is also the post with an image.
HOSTILE_POST = "running-virtual-huddles"
HOSTILE_COMMENT = """\
---
author: <img src=x onerror="alert('author')">Mallory
date: 2021-01-05
---
<script>alert('script')</script>

<img src="x" onerror="alert('img')">

<a href="javascript:alert('raw link')">raw link</a> and [a Markdown link](javascript:alert('md'))

<svg onload="alert('svg')"></svg><iframe src="javascript:alert('iframe')"></iframe>

<p onclick="alert('click')">click me</p>
"""


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() not in ("", "0", "false", "no")


def _unavailable(why: str) -> None:
    hint = (
        f"{why}. Install Debian's Chromium to run the browser tests: sudo apt-get install chromium"
    )
    if _in_ci():
        pytest.fail(f"CI must run the browser tests, but {hint}", pytrace=False)
    pytest.skip(hint)


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    if not CHROMIUM.exists():
        _unavailable(f"{CHROMIUM} was not found")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("the playwright package is not installed (pip install -e '.[test]')")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def site_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the example site plus one hostile comment, built with its search index."""
    root = tmp_path_factory.mktemp("example")
    shutil.copy(REPO / "site.yaml", root / "site.yaml")
    shutil.copytree(REPO / "content", root / "content")
    if (REPO / "templates").is_dir():  # only what the example site changes of the default theme
        shutil.copytree(REPO / "templates", root / "templates")
    hostile = root / "content" / "comments" / HOSTILE_POST / "9999-hostile.md"
    hostile.parent.mkdir(parents=True, exist_ok=True)
    hostile.write_text(HOSTILE_COMMENT, encoding="utf-8")
    result = build(root, Options(output=root / "public", now=NOW))
    assert result.search_pages, "the search index should have been built"
    return root / "public"


@pytest.fixture(scope="session")
def base_url(site_root: Path) -> Iterator[str]:
    with serving(site_root) as url:
        yield url


@pytest.fixture(scope="session")
def screenshots() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS
