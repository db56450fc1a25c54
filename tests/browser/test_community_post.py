"""The example site's community post (issue 11's "Done when") as a reader meets it: on a phone
(375 px) and a desktop (1280 px), in the light and the dark scheme, with no axe violations, its
three pull-quotes and the key finding on screen, and the comment thread shown nested, the
author's reply under the comment it answers and marked as the post author's."""

from __future__ import annotations

import pytest

from browser.test_reader import AXE_TAGS, SCHEMES, open_page

pytestmark = pytest.mark.browser

POST = "/posts/what-a-year-of-member-led-learning-taught-us/"
COMMENTER = "#comment-2021-09-16-owen-pritchard"
REPLY = "#comment-2021-09-17-grace-adeyemi"
OTHER = "#comment-2021-09-20-lucy-tan"
WIDTHS = [375, 1280]


@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("width", WIDTHS)
def test_the_community_post_reads_well_at_each_width_and_scheme(chromium, base_url, screenshots, width, scheme):
    from axe_playwright_python.sync_playwright import Axe

    context = chromium.new_context(
        color_scheme=scheme, viewport={"width": width, "height": 900}, is_mobile=width < 500, has_touch=width < 500
    )
    try:
        page, watch = open_page(context, base_url, POST)
        page.screenshot(path=str(screenshots / f"community-post-{width}-{scheme}.png"), full_page=True)

        byline = page.locator(".post-header .byline")
        assert byline.get_by_role("link", name="Grace Adeyemi").get_attribute("href") == "/authors/grace-adeyemi/"
        assert "(Head of Learning Together)" in byline.inner_text()
        assert "3 comments" in byline.inner_text()

        quotes = page.locator("article.post figure.pullquote")
        assert quotes.count() == 3
        for i in range(3):
            quote = quotes.nth(i)
            quote.scroll_into_view_if_needed()
            assert quote.locator("blockquote").is_visible() and quote.locator("figcaption").is_visible()
            assert quote.locator("figcaption").inner_text().startswith("— ")
            box = quote.bounding_box()
            assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width, f"pull-quote {i} overflows"
        finding = page.get_by_role("note", name="In short")
        assert finding.is_visible()

        # The reply sits inside the comment it answers; the other comment does not.
        reply = page.locator(f"{COMMENTER} {REPLY}")
        reply.scroll_into_view_if_needed()
        assert reply.is_visible()
        assert reply.locator(".badge-author").inner_text() == "Post author"
        assert page.locator(f"{COMMENTER} {OTHER}").count() == 0 and page.locator(OTHER).is_visible()
        indent = reply.bounding_box()["x"] - page.locator(COMMENTER).bounding_box()["x"]  # type: ignore[index]
        assert indent > 0, "the reply is indented under the comment it answers"

        assert page.evaluate("() => document.documentElement.scrollWidth") <= width, "no sideways scrolling"
        results = Axe().run(page, options={"runOnly": {"type": "tag", "values": AXE_TAGS}})
        assert results.violations_count == 0, results.generate_report()
        watch.assert_clean(f"{POST} ({width}px, {scheme})")
    finally:
        context.close()


@pytest.mark.parametrize("scheme", SCHEMES)
def test_the_authors_list_is_linked_from_the_footer_and_has_no_axe_violations(chromium, base_url, scheme):
    from axe_playwright_python.sync_playwright import Axe

    context = chromium.new_context(color_scheme=scheme)
    try:
        page, watch = open_page(context, base_url, POST)
        page.locator(".site-footer").get_by_role("link", name="Authors").click()
        page.wait_for_url(base_url + "/authors/")
        page.get_by_role("link", name="Grace Adeyemi").click()
        page.wait_for_url(base_url + "/authors/grace-adeyemi/")
        assert "Head of Learning Together" in page.locator("main").inner_text()
        results = Axe().run(page, options={"runOnly": {"type": "tag", "values": AXE_TAGS}})
        assert results.violations_count == 0, results.generate_report()
        watch.assert_clean("the footer's Authors link")
    finally:
        context.close()
