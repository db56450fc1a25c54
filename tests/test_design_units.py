"""Issue 14's small pieces that need no browser: the stylesheet's two copies of the dark scheme
stay equal, the code colours follow the reader's choice of scheme, and an image alone in its
paragraph links to itself at full size."""

from __future__ import annotations

import re

from qsite import THEME
from qsite.markup import render_markdown
from qsite.render import pygments_css

CSS = (THEME / "static" / "site.css").read_text(encoding="utf-8")


def _declarations(block: str) -> dict[str, str]:
    return dict(re.findall(r"(--[\w-]+):\s*([^;]+);", block))


def test_the_chosen_dark_scheme_has_exactly_the_system_dark_schemes_colours():
    system = re.search(r'@media \(prefers-color-scheme: dark\) \{\s*:root:not\(\[data-scheme="light"\]\) \{(.*?)\}', CSS, re.S)
    chosen = re.search(r':root\[data-scheme="dark"\] \{(.*?)\}', CSS, re.S)
    assert system and chosen
    assert _declarations(system.group(1)) == _declarations(chosen.group(1))
    assert len(_declarations(chosen.group(1))) > 20


def test_code_colours_follow_the_readers_choice_as_well_as_the_system():
    css = pygments_css()
    assert ':root:not([data-scheme="light"]) .highlight' in css.split("@media (prefers-color-scheme: dark)")[1]
    assert ':root[data-scheme="dark"] .highlight .k ' in css


def test_an_image_alone_in_its_paragraph_links_to_itself():
    html = render_markdown(
        "![A board](/images/board.svg)\n\n[![Linked](/a.png)](/b/)\n\nText with ![inline](/i.png) in it.\n", "/sub/"
    ).html
    assert '<p><a class="image-link" href="/sub/images/board.svg"><img alt="A board" src="/sub/images/board.svg"></a></p>' in html
    assert '<a href="/sub/b/"><img alt="Linked" src="/sub/a.png"></a>' in html  # already a link: left alone
    assert html.count("image-link") == 1  # an image inside a sentence is left alone
