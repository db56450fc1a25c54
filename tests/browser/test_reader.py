"""Readers' experience of the example site in a real browser (issue 5).

Each test opens pages of the freshly built example site and checks what a reader would meet:
no console errors or failed requests, no accessibility violations (axe-core, WCAG 2.0/2.1/2.2
A and AA, light and dark schemes), a working skip link, no sideways scrolling on a phone,
working search with a theme filter, and comments that cannot run script.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.browser

# Every kind of page a reader can reach: (name for screenshots, path).
PAGE_KINDS: list[tuple[str, str]] = [
    ("home", "/"),
    ("home-page-2", "/page/2/"),
    ("themes", "/themes/"),
    ("theme", "/themes/staff-wellbeing/"),
    ("post-with-image-and-comments", "/posts/running-virtual-huddles/"),
    ("post-with-code-and-a-reply", "/posts/run-charts-for-small-teams/"),  # a profiled author, a thread
    ("post-with-table", "/posts/second-wave-what-we-kept/"),
    ("post-with-callouts-and-pull-quote", "/posts/how-our-network-shares-learning/"),
    ("tags", "/tags/"),
    ("tag", "/tags/huddles/"),
    ("authors", "/authors/"),
    ("author", "/authors/qi-hub/"),
    ("archive", "/archive/"),
    ("search", "/search/"),
    ("search-results", "/search/?q=huddle"),
    ("about", "/about/"),
    ("accessibility-statement", "/accessibility/"),
    ("not-found", "/no-such-page/"),
    ("series", "/series/huddles/"),  # issue 11; posts in a series show its box (the two above)
    ("series-list", "/series/"),
]
NOT_FOUND = {"/no-such-page/"}
DIGEST_PAGES: list[tuple[str, str]] = [("digests", "/digest/"), ("digest-edition", "/digest/2020-04/")]

AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa"]
SCHEMES = ["light", "dark"]

# A word in exactly one example post (the wobble room, theme staff-wellbeing).
UNIQUE_WORD = "biscuits"
UNIQUE_POST = "/posts/a-wobble-room-on-ward-7/"
OTHER_THEME = "Health inequalities and meeting the needs of vulnerable groups"


# The page each result links to; a result's sub-results (its sections) are not counted.
RESULT_PAGES = """() => [...document.querySelectorAll('.pagefind-ui__result')]
    .map(r => r.querySelector('.pagefind-ui__result-link').getAttribute('href'))"""


def page_kinds(site_root: Path) -> list[tuple[str, str]]:
    kinds = list(PAGE_KINDS)
    if (site_root / "digest").is_dir():
        kinds += DIGEST_PAGES
    return kinds


@dataclass
class Watch:
    """Everything that went wrong on a page while it was open."""

    console_errors: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    allowed_404: set[str] = field(default_factory=set)

    def attach(self, page: Any) -> None:
        page.on("console", self._console)
        page.on("pageerror", lambda e: self.console_errors.append(f"uncaught: {e}"))
        page.on("requestfailed", self._request_failed)
        page.on("response", self._response)
        page.on("dialog", self._dialog)

    def _console(self, message: Any) -> None:
        if message.type != "error":
            return
        url = (message.location or {}).get("url", "")
        if "Failed to load resource" in message.text and any(
            url.endswith(p) for p in self.allowed_404
        ):
            return  # the browser's own note that the page it was asked for is a 404
        self.console_errors.append(f"{message.type}: {message.text} ({url})")

    def _request_failed(self, request: Any) -> None:
        # net::ERR_ABORTED is the browser cancelling a request because the test navigated away
        # (Chromium fetches the favicon lazily, after load); the server never failed it.
        if "ERR_ABORTED" not in str(request.failure):
            self.failed.append(f"{request.url} ({request.failure})")

    def _response(self, response: Any) -> None:
        if response.status >= 400 and not any(response.url.endswith(p) for p in self.allowed_404):
            self.failed.append(f"{response.url} → HTTP {response.status}")

    def _dialog(self, dialog: Any) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def assert_clean(self, where: str) -> None:
        assert not self.console_errors, f"console errors on {where}: {self.console_errors}"
        assert not self.failed, f"failed requests on {where}: {self.failed}"
        assert not self.dialogs, f"a dialog opened on {where}: {self.dialogs}"


def open_page(context: Any, base_url: str, path: str) -> tuple[Any, Watch]:
    page = context.new_page()
    watch = Watch(allowed_404=set(NOT_FOUND) & {path})
    watch.attach(page)
    response = page.goto(base_url + path, wait_until="load")
    assert response is not None
    if path in NOT_FOUND:
        assert response.status == 404
    else:
        assert response.status == 200, f"{path} → HTTP {response.status}"
    return page, watch


def wait_for_results(page: Any) -> None:
    page.wait_for_selector(".pagefind-ui__result-link", timeout=10_000)


@pytest.mark.parametrize("scheme", SCHEMES)
def test_every_page_kind_has_no_axe_violations(chromium, base_url, site_root, screenshots, scheme):
    """axe-core finds nothing on any page kind, in the light and the dark scheme; each page is
    also screenshotted (whole page) for a person to look at."""
    from axe_playwright_python.sync_playwright import Axe

    axe = Axe()
    context = chromium.new_context(color_scheme=scheme, viewport={"width": 1280, "height": 900})
    problems: list[str] = []
    try:
        for name, path in page_kinds(site_root):
            page, watch = open_page(context, base_url, path)
            if path.startswith("/search/?q="):
                wait_for_results(page)
            page.screenshot(path=str(screenshots / f"{name}-{scheme}.png"), full_page=True)
            results = axe.run(page, options={"runOnly": {"type": "tag", "values": AXE_TAGS}})
            if results.violations_count:
                problems.append(f"{path} ({scheme}):\n{results.generate_report()}")
            watch.assert_clean(f"{path} ({scheme})")
            page.close()
    finally:
        context.close()
    assert not problems, "\n\n".join(problems)


def test_reader_journey_home_theme_post_related_and_back(chromium, base_url, site_root):
    """Home → a theme → a post → a related post (→ the digest, once the site has one) → back
    through each page; nothing fails to load on the way."""
    context = chromium.new_context()
    page = context.new_page()
    watch = Watch()
    watch.attach(page)
    visited: list[str] = []

    def arrive(expected_path_start: str) -> None:
        page.wait_for_load_state("load")
        path = page.url.removeprefix(base_url)
        assert path.startswith(expected_path_start), f"expected {expected_path_start}, got {path}"
        assert page.locator("h1").count() == 1, f"{path} should have one h1"
        visited.append(page.url)

    page.goto(base_url + "/")
    arrive("/")
    page.locator(".theme-grid a", has_text="Staff wellbeing").click()
    arrive("/themes/staff-wellbeing/")
    page.locator(".post-list .post-card-title a").first.click()
    arrive("/posts/")
    page.locator(".related .post-card-title a").first.click()
    arrive("/posts/")
    if (site_root / "digest").is_dir():
        page.locator(".in-digest a").first.click()  # "This post is in the … learning digest"
        arrive("/digest/")
    for expected in reversed(visited[:-1]):
        page.go_back(wait_until="load")
        assert page.url == expected
    assert len(set(visited)) == len(visited), f"each step should be a new page: {visited}"
    watch.assert_clean("the reader journey")
    context.close()


def test_search_finds_one_post_and_a_theme_filter_hides_it(chromium, base_url, site_root, screenshots):
    """The index is split into shards (qsite/search.py) that the page merges: the post is in a
    shard other than the primary one, so finding it proves the shards were merged, and the
    theme filter works across them."""
    from search_index import shards, urls_by_shard

    listed = shards(site_root)
    holding = [name for name, urls in urls_by_shard(site_root).items() if UNIQUE_POST in urls]
    assert len(listed) >= 3 and holding != [listed[0]] and len(holding) == 1, (listed, holding)
    context = chromium.new_context()
    entries: list[str] = []
    context.on("request", lambda r: entries.append(r.url) if r.url.endswith("pagefind-entry.json") or
               "pagefind-entry.json?" in r.url else None)
    page, watch = open_page(context, base_url, "/search/")
    page.get_by_role("searchbox").or_(page.locator(".pagefind-ui__search-input")).first.fill(
        UNIQUE_WORD
    )
    wait_for_results(page)
    hrefs = page.evaluate(RESULT_PAGES)
    assert hrefs == [UNIQUE_POST], (
        f"searching {UNIQUE_WORD!r} should find only the wobble room post: {hrefs}"
    )

    block = page.locator("details.pagefind-ui__filter-block", has_text="Theme")
    if not block.evaluate("el => el.open"):
        block.locator("summary").click()
    page.locator("label.pagefind-ui__filter-label", has_text=OTHER_THEME).click()
    page.wait_for_function(
        "() => document.querySelectorAll('.pagefind-ui__result-link').length === 0"
        " && !!document.querySelector('.pagefind-ui__message')",
        timeout=10_000,
    )
    page.screenshot(path=str(screenshots / "search-filtered.png"), full_page=True)
    assert page.locator(f".pagefind-ui__result-link[href='{UNIQUE_POST}']").count() == 0
    loaded = {url.split("/pagefind/")[1].split("/")[0] for url in entries}
    assert loaded == set(listed), f"every shard's index should be loaded: {loaded} vs {listed}"
    # Its own theme, from the same merged filter list, brings it back.
    page.locator("label.pagefind-ui__filter-label", has_text=OTHER_THEME).click()
    page.locator("label.pagefind-ui__filter-label", has_text="Staff wellbeing").click()
    page.wait_for_selector(f".pagefind-ui__result-link[href='{UNIQUE_POST}']", timeout=10_000)
    assert page.evaluate(RESULT_PAGES) == [UNIQUE_POST]
    watch.assert_clean("/search/")
    context.close()


def test_search_page_without_javascript_links_to_themes(chromium, base_url):
    context = chromium.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(base_url + "/search/")
    notice = page.locator("noscript, .notice").filter(has_text="Search needs JavaScript")
    assert notice.count() >= 1
    assert page.get_by_role("link", name="Staff wellbeing and system resilience").is_visible()
    context.close()


def test_skip_link_is_first_and_moves_focus_into_main(chromium, base_url):
    context = chromium.new_context()
    for path in ("/", "/posts/running-virtual-huddles/"):
        page = context.new_page()
        page.goto(base_url + path)
        page.keyboard.press("Tab")
        focused = page.evaluate(
            "() => [document.activeElement.className, document.activeElement.textContent.trim()]"
        )
        assert focused == ["skip-link", "Skip to main content"], (
            f"first Tab on {path} reached {focused}"
        )
        assert page.locator(".skip-link").is_visible(), "the skip link must be visible when focused"
        page.keyboard.press("Enter")
        inside = page.evaluate("() => !!document.activeElement.closest('main')")
        assert inside, f"after the skip link on {path}, focus should be in main"
        page.keyboard.press("Tab")
        in_main = page.evaluate("() => !!document.activeElement.closest('main')")
        assert in_main, f"the next Tab on {path} should stay inside main"
        page.close()
    context.close()


def test_no_page_scrolls_sideways_on_a_phone(chromium, base_url, site_root):
    context = chromium.new_context(
        viewport={"width": 375, "height": 740},
        device_scale_factor=1,
        is_mobile=True,
        has_touch=True,
    )
    wide: list[str] = []
    for _name, path in page_kinds(site_root):
        page, _watch = open_page(context, base_url, path)
        if path.startswith("/search/?q="):
            wait_for_results(page)
        width = page.evaluate("() => document.documentElement.scrollWidth")
        if width > 375:
            wide.append(f"{path}: {width}px")
        page.close()
    context.close()
    assert not wide, f"these pages scroll sideways at 375px: {wide}"


def test_a_script_in_a_comment_does_not_run(chromium, base_url, screenshots):
    context = chromium.new_context()
    page, watch = open_page(context, base_url, "/posts/running-virtual-huddles/")
    comment = page.locator("#comment-9999-hostile")
    assert comment.count() == 1
    assert "alert('script')" in comment.inner_text(), "the script should be shown as text"
    for selector in (
        "script",
        "img",
        "svg",
        "iframe",
        "[onerror]",
        "[onclick]",
        "[onload]",
        "a[href^='javascript:']",
    ):
        assert comment.locator(selector).count() == 0, f"{selector} survived in a comment"
    for link in comment.locator("a").all():
        link.click()
    page.locator("#comment-9999-hostile p", has_text="click me").click()
    page.wait_for_timeout(300)
    comment.screenshot(path=str(screenshots / "hostile-comment.png"))
    watch.assert_clean("the post with a hostile comment")
    context.close()


def test_print_stylesheet_prints_just_the_post(chromium, base_url):
    context = chromium.new_context()
    page = context.new_page()
    page.goto(base_url + "/posts/run-charts-for-small-teams/")
    page.emulate_media(media="print")
    for hidden in (".site-header", ".site-footer", ".post-neighbours", ".related"):
        assert not page.locator(hidden).first.is_visible(), f"{hidden} should not print"
    assert page.locator("article.post h1").is_visible()
    assert page.locator("article.post pre").first.is_visible()
    context.close()


def test_an_old_address_redirects_to_the_post_in_the_browser(chromium, base_url):
    """An alias (``aliases: [/posts/virtual-huddles/]`` in the example post) is a redirect page
    that Chromium follows by itself to the post, whose address bar then shows the new address."""
    context = chromium.new_context()
    try:
        page = context.new_page()
        response = page.goto(base_url + "/posts/virtual-huddles/", wait_until="commit")
        assert response is not None and response.status == 200
        page.wait_for_url(base_url + "/posts/running-virtual-huddles/", timeout=10_000)
        assert page.locator("h1").first.inner_text().startswith("Running virtual huddles")
    finally:
        context.close()
