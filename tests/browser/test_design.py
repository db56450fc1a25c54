"""The designer's pass over the default theme (issue 14), in a real browser on the example site:
a header of at most two rows and no sideways scrolling at 375 px, the light/dark switch (axe in
both of its positions, kept across a reload, absent and not needed without JavaScript), a
labelled search box, a digest edition that shows each post in full once, pygments.css only
where there is code, and the per-tag feed. ``test_screenshots_of_every_page_kind`` leaves the
screenshots docs/design.md is made from in test-artifacts/design/ (gitignored)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from .conftest import REPO
from .test_reader import AXE_TAGS, open_page, page_kinds, wait_for_results

pytestmark = pytest.mark.browser

PHONE = {"viewport": {"width": 375, "height": 740}, "device_scale_factor": 1, "is_mobile": True, "has_touch": True}
DESIGN_SHOTS = REPO / "test-artifacts" / "design"

# The rows the header's parts sit on: each part's top, rounded (a row's parts differ by a few px).
HEADER_ROWS = """() => {
  const parts = [...document.querySelectorAll('.site-title, .scheme-toggle, .site-nav li')];
  const tops = parts.map(el => el.getBoundingClientRect()).map(r => r.top + r.height / 2);
  const rows = [];
  for (const t of tops.sort((a, b) => a - b)) {
    if (!rows.length || t - rows[rows.length - 1] > 12) rows.push(t);
  }
  return rows.length;
}"""
BACKGROUND = "() => getComputedStyle(document.body).backgroundColor"
LIGHT_BG, DARK_BG = "rgb(240, 244, 245)", "rgb(15, 20, 25)"


def _settle(page: Any, path: str) -> None:
    if path.startswith("/search/?q="):
        wait_for_results(page)


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_header_is_at_most_two_rows_and_nothing_scrolls_sideways_at_375px(chromium, base_url, site_root, javascript):
    context = chromium.new_context(**PHONE, java_script_enabled=javascript)
    bad: list[str] = []
    for _name, path in page_kinds(site_root):
        page, _watch = open_page(context, base_url, path)
        if javascript:
            _settle(page, path)
            assert page.locator(".scheme-toggle").count() == 1, path
        rows = page.evaluate(HEADER_ROWS)
        width = page.evaluate("() => document.documentElement.scrollWidth")
        if rows > 2 or width > 375:
            bad.append(f"{path}: header {rows} rows, page {width}px wide")
        page.close()
    context.close()
    assert not bad, bad


@pytest.mark.parametrize(("system", "chosen"), [("light", "dark"), ("dark", "light")])
def test_no_axe_violations_with_the_switch_against_the_system_scheme(chromium, base_url, site_root, system, chosen):
    """The switch's other position on every page kind (its default position, the system's
    scheme, is test_reader's axe test). The choice is made once, on the first page, and holds on
    every page after it."""
    from axe_playwright_python.sync_playwright import Axe

    axe = Axe()
    context = chromium.new_context(color_scheme=system, viewport={"width": 1280, "height": 900})
    problems: list[str] = []
    first = True
    for _name, path in page_kinds(site_root):
        page, watch = open_page(context, base_url, path)
        _settle(page, path)
        if first:
            page.locator(".scheme-toggle").click()
            first = False
        assert page.evaluate("() => document.documentElement.dataset.scheme") == chosen, path
        assert page.evaluate(BACKGROUND) == (DARK_BG if chosen == "dark" else LIGHT_BG), path
        results = axe.run(page, options={"runOnly": {"type": "tag", "values": AXE_TAGS}})
        if results.violations_count:
            problems.append(f"{path} ({chosen} chosen on {system}):\n{results.generate_report()}")
        watch.assert_clean(path)
        page.close()
    context.close()
    assert not problems, "\n\n".join(problems)


def test_switch_starts_from_the_system_keeps_the_choice_and_is_absent_without_javascript(chromium, base_url):
    context = chromium.new_context(color_scheme="light")
    page, watch = open_page(context, base_url, "/posts/run-charts-for-small-teams/")
    toggle = page.locator(".scheme-toggle")
    assert toggle.get_attribute("aria-pressed") == "false"
    assert page.evaluate(BACKGROUND) == LIGHT_BG
    toggle.click()
    assert toggle.get_attribute("aria-pressed") == "true"
    assert page.evaluate(BACKGROUND) == DARK_BG
    page.reload(wait_until="load")
    assert page.evaluate("() => document.documentElement.dataset.scheme") == "dark"
    assert page.locator(".scheme-toggle").get_attribute("aria-pressed") == "true"
    assert page.evaluate(BACKGROUND) == DARK_BG
    # the code follows the chosen scheme too (pygments.css's dark rules)
    code_bg = page.evaluate("() => getComputedStyle(document.querySelector('.highlight')).backgroundColor")
    assert code_bg != "rgb(248, 248, 248)", "code should not keep the light scheme's background"
    page.locator(".scheme-toggle").click()
    page.reload(wait_until="load")
    assert page.evaluate(BACKGROUND) == LIGHT_BG
    watch.assert_clean("the switch")
    context.close()

    # Without JavaScript: no switch (it could not work), the system's scheme, and working links.
    context = chromium.new_context(color_scheme="dark", java_script_enabled=False)
    page = context.new_page()
    page.goto(base_url + "/", wait_until="load")
    assert page.locator(".scheme-toggle").count() == 0
    assert page.evaluate(BACKGROUND) == DARK_BG
    page.locator(".site-nav a", has_text="Themes").click()
    page.wait_for_load_state("load")
    assert page.url.endswith("/themes/")
    assert page.locator("h1").inner_text() == "Themes"
    context.close()


def test_search_input_has_a_visible_programmatic_label(chromium, base_url):
    context = chromium.new_context()
    page, watch = open_page(context, base_url, "/search/?q=huddle")
    wait_for_results(page)
    box = page.get_by_label("Search posts, digest editions and pages", exact=True)
    assert box.count() == 1 and box.evaluate("el => el.classList.contains('pagefind-ui__search-input')")
    assert page.locator("label.search-label").is_visible()
    # result titles look like links: the link colour, underlined
    link = page.locator(".pagefind-ui__result-link").first
    style = link.evaluate("el => [getComputedStyle(el).textDecorationLine, getComputedStyle(el).color]")
    assert style == ["underline", "rgb(0, 94, 184)"], style
    clear = page.locator(".pagefind-ui__search-clear")
    assert clear.bounding_box()["height"] >= 40, "the Clear button should be a usable target"
    clear.click()
    assert page.get_by_label("Search posts, digest editions and pages", exact=True).input_value() == ""
    watch.assert_clean("/search/")
    context.close()


def test_search_filters_start_closed_on_a_phone_and_theme_values_wear_their_colours(chromium, base_url):
    context = chromium.new_context(**PHONE)
    page, _watch = open_page(context, base_url, "/search/?q=huddle")
    wait_for_results(page)
    page.wait_for_selector(".pagefind-ui__filter-block")
    assert page.evaluate("() => [...document.querySelectorAll('.pagefind-ui__filter-block')].every(d => !d.open)")
    first_result = page.locator(".pagefind-ui__result").first.bounding_box()
    assert first_result["y"] < 740, "the first result should be on the first screen"
    page.locator(".pagefind-ui__filter-block summary").first.click()
    value = page.locator(".pagefind-ui__filter-value", has_text="Staff wellbeing")
    assert "theme-staff-wellbeing" in (value.get_attribute("class") or "")
    context.close()


def test_digest_edition_lists_each_post_in_full_exactly_once(chromium, base_url):
    context = chromium.new_context()
    page, _watch = open_page(context, base_url, "/digest/2020-04/")
    full = page.evaluate("() => [...document.querySelectorAll('.post-card .post-card-title a')].map(a => a.pathname)")
    one_line = page.evaluate("() => [...document.querySelectorAll('.also-in li > a')].map(a => a.pathname)")
    count = int(page.locator(".digest-header .byline").inner_text().split(" post")[0].split("·")[-1])
    assert len(full) == len(set(full)) == count, full
    assert one_line and set(one_line) <= set(full), "posts under their other themes are one-line links"
    context.close()


def test_pygments_css_only_where_there_is_code(chromium, base_url):
    context = chromium.new_context()

    def sheets(path: str) -> list[str]:
        page, _watch = open_page(context, base_url, path)
        found = page.evaluate("() => [...document.styleSheets].map(s => s.href || '').filter(Boolean)")
        page.close()
        return [h.rsplit("/", 1)[1] for h in found]

    assert "pygments.css" in sheets("/posts/run-charts-for-small-teams/")
    assert "pygments.css" not in sheets("/posts/running-virtual-huddles/")
    assert "pygments.css" not in sheets("/")
    context.close()


def test_tag_page_links_its_valid_feed(chromium, base_url):
    import feedparser

    context = chromium.new_context()
    page, _watch = open_page(context, base_url, "/tags/huddles/")
    head = page.locator("head link[rel=alternate][href$='/tags/huddles/feed.xml']")
    assert head.count() == 1
    body = page.locator("main a[href$='/tags/huddles/feed.xml']")
    assert body.count() == 1
    response = page.request.get(base_url + "/tags/huddles/feed.xml")
    assert response.ok
    feed = feedparser.parse(response.body())
    assert not feed.bozo and feed.entries
    assert all("/posts/" in e.link for e in feed.entries)
    context.close()


def test_screenshots_of_every_page_kind(chromium, base_url, site_root):
    """Every page kind, light and dark, at 1280 and 375 px: the material for docs/design.md."""
    DESIGN_SHOTS.mkdir(parents=True, exist_ok=True)
    taken: list[Path] = []
    for scheme in ("light", "dark"):
        for width, height in ((1280, 900), (375, 740)):
            context = chromium.new_context(
                color_scheme=scheme, viewport={"width": width, "height": height}, device_scale_factor=1
            )
            for name, path in page_kinds(site_root):
                page, _watch = open_page(context, base_url, path)
                _settle(page, path)
                shot = DESIGN_SHOTS / f"{name}-{width}-{scheme}.png"
                page.screenshot(path=str(shot), full_page=True)
                taken.append(shot)
                page.close()
            context.close()
    assert all(p.stat().st_size > 1000 for p in taken)
