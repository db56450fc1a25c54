"""Issue 11: gaps found while writing the community post of its "Done when" as qsite content,
each with the test that fails without its fix."""

from __future__ import annotations

import pytest

from qsite import markup

from conftest import TINY_BASE, BuildSite, post

# -- gaps found while writing the post ---------------------------------------------------------

@pytest.mark.parametrize("opening", ['!!! finding "In short"\n    The finding.\n', '!!! quote "Sam, Head of Q"\n    Words.\n'])
def test_a_post_opening_with_a_callout_is_summarised_by_its_first_ordinary_paragraph(opening: str):
    rendered = markup.render_markdown(opening + "\nThe first paragraph.\n\nThe second.\n")
    assert rendered.summary_html == "<p>The first paragraph.</p>"
    # With no ordinary paragraph at all, the callout's words are better than an empty summary.
    assert markup.render_markdown(opening).summary_html.endswith("</p>")
    assert markup.render_markdown(opening).summary_html != ""


def test_toc_true_lists_third_level_headings_when_there_are_no_second_level_ones(build_site: BuildSite):
    tiny = {
        **TINY_BASE,
        "templates/post.html": "{% for e in post.toc %}toc|{{ e.anchor }}|{{ e.text }}|{{ e.children | length }}|\n{% endfor %}",
    }
    body = "Intro.\n\n### First step\n\nA.\n\n### Second step\n\nB.\n\n### Third step\n\nC.\n"
    site = build_site({**tiny, "content/posts/a.md": post("A", "2020-04-01", body=body, toc="true")})
    assert site.read("posts/a/index.html") == (
        "toc|first-step|First step|0|\ntoc|second-step|Second step|0|\ntoc|third-step|Third step|0|\n"
    )
    # Without toc: true, third-level headings alone never make a list of contents: the
    # threshold counts sections (second-level headings).
    site = build_site({"content/posts/a.md": post("A", "2020-04-01", body=body)})
    assert site.read("posts/a/index.html") == ""
