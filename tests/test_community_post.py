"""Issue 11: gaps found while writing the community post of its "Done when" as qsite content,
each with the test that fails without its fix."""

from __future__ import annotations

import pytest

from qsite import markup

# -- gaps found while writing the post ---------------------------------------------------------

@pytest.mark.parametrize("opening", ['!!! finding "In short"\n    The finding.\n', '!!! quote "Sam, Head of Q"\n    Words.\n'])
def test_a_post_opening_with_a_callout_is_summarised_by_its_first_ordinary_paragraph(opening: str):
    rendered = markup.render_markdown(opening + "\nThe first paragraph.\n\nThe second.\n")
    assert rendered.summary_html == "<p>The first paragraph.</p>"
    # With no ordinary paragraph at all, the callout's words are better than an empty summary.
    assert markup.render_markdown(opening).summary_html.endswith("</p>")
    assert markup.render_markdown(opening).summary_html != ""
