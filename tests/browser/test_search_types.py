"""Search finds digest editions, and the type filter (Posts, Digest editions, Pages) narrows the
results to one kind of page (issue 11), in a real browser over the example site's index."""

from __future__ import annotations

import pytest

from browser.test_reader import RESULT_PAGES, open_page, wait_for_results

pytestmark = pytest.mark.browser

# A word only in the April 2020 edition's introduction (its key finding), in no post or page.
EDITION_WORD = "dashboard"
EDITION = "/digest/2020-04/"
# A word in one takeaway of a post listed in the April 2020 edition (the wobble room's).
TAKEAWAY_WORD = "furniture"


def _choose(page, label: str) -> None:
    block = page.locator("details.pagefind-ui__filter-block", has_text="Type")
    if not block.evaluate("el => el.open"):
        block.locator("summary").click()
    page.locator("label.pagefind-ui__filter-label", has_text=label).click()


def _results_become(page, expected: list[str]) -> None:
    page.wait_for_function(
        "(want) => JSON.stringify([...document.querySelectorAll('.pagefind-ui__result-link')]"
        ".map(a => a.getAttribute('href'))) === JSON.stringify(want)",
        arg=expected,
        timeout=10_000,
    )


def test_a_digest_edition_is_found_and_the_type_filter_keeps_or_hides_it(chromium, base_url, site_root):
    context = chromium.new_context()
    page, watch = open_page(context, base_url, "/search/")
    box = page.get_by_role("searchbox").or_(page.locator(".pagefind-ui__search-input")).first
    box.fill(EDITION_WORD)
    wait_for_results(page)
    assert page.evaluate(RESULT_PAGES) == [EDITION], "the edition's introduction is indexed"

    _choose(page, "Posts")
    page.wait_for_function(
        "() => document.querySelectorAll('.pagefind-ui__result-link').length === 0"
        " && !!document.querySelector('.pagefind-ui__message')",
        timeout=10_000,
    )
    _choose(page, "Posts")  # off again
    _choose(page, "Digest editions")
    _results_become(page, [EDITION])

    # Editions are indexed by the takeaways they show too: with the filter on, the edition
    # is found by a takeaway's word, and the post the takeaway comes from is not listed.
    box.fill(TAKEAWAY_WORD)
    page.wait_for_function(
        "(word) => (document.querySelector('.pagefind-ui__message') || {}).textContent?.includes(word)",
        arg=TAKEAWAY_WORD,
        timeout=10_000,
    )
    _results_become(page, [EDITION])
    labels = page.locator("details.pagefind-ui__filter-block", has_text="Type").inner_text()
    for kind in ("Posts", "Digest editions", "Pages"):
        assert kind in labels, f"the type filter offers {kind}"
    watch.assert_clean("/search/")
    context.close()
