"""The quicker inline step of Markdown conversion (issue 10): same HTML, fewer pattern calls.

``markup._QuickInline`` skips an inline pattern for a run of text that holds none of the
characters every match of that pattern holds. These tests compare it, document by document,
with Python-Markdown's own inline step (``make_converter(quick_inline=False)``), on texts made
of the characters that matter to the patterns, and check what it skips and what it never does."""

from __future__ import annotations

import random
import re
import xml.etree.ElementTree as etree
from typing import Any

import pytest
from markdown.inlinepatterns import InlineProcessor as InlinePattern
from markdown.treeprocessors import InlineProcessor

from qsite import markup

# Pieces of Markdown each inline pattern reacts to (and some that only look like they should)
ATOMS = [
    "word", "two words", "*", "**", "***", "_", "__", "`", "``", "\\", "\\*", "\\`", "\\[", "[", "]", "(", ")",
    "![", "[^1]", "[^1]: a note", "<", ">", "<b>", "</b>", "<!-- c -->", "<?pi?>", "<![CDATA[x]]>", "&amp;",
    "&#35;", "&#x41;", "&x", ";", "http://a.b", "<http://a.b/c>", "<me@x.org>", "@", "  \n", "\n", "\n\n",
    "## Heading", "- ", "1. ", "> ", "    code", "```", "```python\nx = 1\n```", "{: .c}", "{#id}",
    '!!! note "T"', "!!! quote", "| a | b |\n|---|---|\n| 1 | 2 |", "[a]: http://x", "[a][]", "[a]",
    '[link](/p/ "t")', "![img](/i.png)", "'", '"', "é", "\u00a0", "*a*", "_b_", "**c**", "__d__", "`e`",
    "x_y_z", "2*3*4", "<span>s</span>", "<div>\nblock\n</div>", "---", "<!-- more -->",
]


def documents(seed: int, count: int) -> list[str]:
    rng = random.Random(seed)
    return [
        "".join(rng.choice(ATOMS) + rng.choice(["", " ", " ", "\n"]) for _ in range(rng.randrange(1, 40)))
        for _ in range(count)
    ]


def convert(md: Any, text: str) -> tuple[str, Any]:
    md.reset()
    return md.convert(text), getattr(md, "toc_tokens", None)


def test_every_document_converts_to_the_same_html_as_with_python_markdowns_own_inline_step() -> None:
    quick, plain = markup.make_converter("/"), markup.make_converter("/", quick_inline=False)
    assert type(quick.treeprocessors["inline"]) is markup._QuickInline
    assert type(plain.treeprocessors["inline"]) is InlineProcessor
    texts = [
        "Plain words, nothing else.",
        "A [link](https://example.org/) and *emphasis*, __strong__ and `code`.",
        "Escapes: \\*not emphasis\\*, \\[not a link\\], a back\\\\slash.",
        "Footnote[^n] and <https://auto.link/> and <someone@example.org>.\n\n[^n]: The note.",
        "Line ending with two spaces  \nnext line &amp; &copy; &#8212; <em>html</em> <!-- comment -->",
        "* list *item*\n* [ref][r]\n\n[r]: /posts/a/ 'T'\n",
        '!!! finding "A *key* finding"\n    With `code` and a [link](/x/).\n',
    ]
    for text in texts + documents(seed=10, count=1500):
        assert convert(quick, text) == convert(plain, text), text


def test_a_text_without_the_characters_a_pattern_needs_is_not_tried_against_it(monkeypatch: pytest.MonkeyPatch) -> None:
    tried: list[str] = []
    original = InlineProcessor._InlineProcessor__applyPattern  # type: ignore[attr-defined]

    def counting(self: Any, pattern: Any, data: str, index: int, start: int = 0) -> Any:
        tried.append(type(pattern).__name__)
        return original(self, pattern, data, index, start)

    monkeypatch.setattr(InlineProcessor, "_InlineProcessor__applyPattern", counting)
    md = markup.make_converter("/")
    assert convert(md, "Nothing here but words.")[0] == "<p>Nothing here but words.</p>"
    assert tried == []  # Python-Markdown's own step tries all ~15 patterns on this text
    assert convert(md, "One *word*.")[0] == "<p>One <em>word</em>.</p>"
    assert tried and set(tried) <= {"DelimiterProcessor", "AsteriskProcessor"}  # emphasis only


class _Percent(InlinePattern):
    def handleMatch(self, m: Any, data: str) -> tuple[etree.Element, int, int]:
        el = etree.Element("mark")
        el.text = m.group(1)
        return el, m.start(0), m.end(0)


def test_a_pattern_it_does_not_know_is_always_tried() -> None:
    md = markup.make_converter("/")
    md.inlinePatterns.register(_Percent(r"%%(.+?)%%", md), "percent", 1)
    assert convert(md, "a %%marked%% word")[0] == "<p>a <mark>marked</mark> word</p>"
    assert markup._needs("percent", md.inlinePatterns["percent"]) is None


def test_a_known_pattern_whose_expression_changed_is_always_tried() -> None:
    md = markup.make_converter("/")
    link = md.inlinePatterns["link"]
    assert markup._needs("link", link) is not None
    link.compiled_re = re.compile(r"(?<!\!)[\[{]", link.compiled_re.flags)  # as a newer version might
    assert markup._needs("link", link) is None
