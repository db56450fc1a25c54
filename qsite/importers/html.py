"""Old blogs' HTML → qsite Markdown, with ``markdownify`` (BeautifulSoup underneath).

Why a library: WordPress bodies are years of hand-edited HTML (unclosed tags, entities, inline
styles, editor comments); a regular-expression converter gets lists in tables and code in
lists wrong, while markdownify walks a real parse tree and is widely used for exactly this.

What Markdown cannot say is kept as HTML, which Python-Markdown passes through: figures,
embeds (iframe, video, audio), ``details``, definition lists. Tables become Markdown tables
(qsite enables the ``tables`` extension). Everything an editor must look at is noted in a
``Notes`` value rather than printed, so the caller's report lists it once per post.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field

import nh3
from bs4 import BeautifulSoup
from markdownify import MarkdownConverter

from qsite import comments

# Elements copied through as raw HTML, because Markdown has no way to write them.
KEEP_AS_HTML = ("figure", "iframe", "video", "audio", "object", "embed", "details", "dl")
_KEEP_TOKEN = "QSITEKEEPHTML{}QSITE"

# Shortcodes WordPress sites commonly use; any other ``[name attr=…]`` or ``[name]…[/name]`` is
# reported too. ``[caption]`` alone is converted (to a figure).
_SHORTCODE = re.compile(r"\[(/?)([a-z][a-z0-9_-]*)((?:\s+[^\]]*)?)\]")
_COMMON_SHORTCODES = frozenset(
    {"gallery", "embed", "audio", "video", "playlist", "wp_caption", "youtube", "vimeo", "contact-form-7",
     "contact-form", "soundcloud", "googlemaps", "slideshare", "code", "sourcecode", "latex", "table", "button"}
)
_CAPTION = re.compile(r"\[(?:caption|wp_caption)([^\]]*)\](.*?)\[/(?:caption|wp_caption)\]", re.S)
_BLOCK_COMMENT = re.compile(r"<!--\s*/?wp:[^>]*?-->\n?", re.S)
_MORE = re.compile(r"<!--\s*more\b[^>]*-->", re.I)
_MORE_TOKEN = "QSITEMOREQSITE"
_BLOCK_TAGS = (
    "table|thead|tfoot|caption|col|colgroup|tbody|tr|td|th|div|dl|dd|dt|ul|ol|li|pre|form|map|area|blockquote|"
    "address|math|style|p|h[1-6]|hr|fieldset|legend|section|article|aside|hgroup|header|footer|nav|figure|"
    "figcaption|details|menu|summary|iframe|video|audio|object|embed|script"
)
_STARTS_BLOCK = re.compile(rf"^\s*</?(?:{_BLOCK_TAGS})\b", re.I)
_PRE = re.compile(r"<pre\b.*?</pre>", re.S | re.I)


@dataclass
class Notes:
    """What one body needs an editor for: shortcodes left as text, images still on the old host."""

    shortcodes: list[str] = field(default_factory=list)
    images: list[str] = field(default_factory=list)
    scripts: list[str] = field(default_factory=list)  # removed: embeds that need redoing


def is_block_editor(text: str) -> bool:
    return "<!-- wp:" in text


def autop(text: str) -> str:
    """WordPress's ``wpautop``, simplified: the classic editor stores paragraphs as blank lines
    and line breaks as newlines, and adds ``<p>``/``<br>`` only when showing a post. ``<pre>``
    blocks are left alone."""
    kept: list[str] = []

    def hold(match: re.Match[str]) -> str:
        kept.append(match.group(0))
        return f"\n\nQSITEPRE{len(kept) - 1}QSITE\n\n"

    text = _PRE.sub(hold, text.replace("\r\n", "\n"))
    out: list[str] = []
    for chunk in re.split(r"\n\s*\n", text):
        chunk = chunk.strip("\n")
        if not chunk.strip():
            continue
        if re.fullmatch(r"QSITEPRE\d+QSITE", chunk.strip()) or _STARTS_BLOCK.match(chunk):
            out.append(chunk)
        else:
            out.append("<p>" + chunk.replace("\n", "<br />\n") + "</p>")
    joined = "\n\n".join(out)
    return re.sub(r"QSITEPRE(\d+)QSITE", lambda m: kept[int(m.group(1))], joined)


def _attribute(attrs: str, name: str) -> str:
    found = re.search(rf'\b{name}\s*=\s*(?:"([^"]*)"|\'([^\']*)\'|(\S+))', attrs)
    return next((g for g in found.groups() if g is not None), "") if found else ""


def _caption_to_figure(match: re.Match[str]) -> str:
    """``[caption …]<img …> Words[/caption]`` → ``<figure><img …><figcaption>Words</figcaption></figure>``.
    The caption is the text after the image (or, in old exports, the ``caption`` attribute)."""
    attrs, inner = match.group(1), match.group(2)
    soup = BeautifulSoup(inner, "html.parser")
    image = soup.find("img")
    if image is not None and image.parent is not None and image.parent.name == "a":
        image = image.parent  # a linked image stays linked
    picture = str(image) if image is not None else ""
    if image is not None:
        image.extract()
    caption = soup.decode().strip() or html.escape(_attribute(attrs, "caption"))
    return f"<figure>{picture}<figcaption>{caption}</figcaption></figure>"


class _Converter(MarkdownConverter):
    """markdownify with qsite's Markdown habits: ATX headings, ``-`` bullets, fenced code."""

    def convert_pre(self, el, text, parent_tags):  # type: ignore[no-untyped-def]
        code = el.get_text()
        language = ""
        inner = el.find("code")
        for cls in (inner.get("class") if inner is not None else None) or el.get("class") or []:
            if cls.startswith("language-"):
                language = cls.removeprefix("language-")
        fence = "~~~" if "```" in code else "```"
        return f"\n\n{fence}{language}\n{code.strip(chr(10))}\n{fence}\n\n"

    def convert_br(self, el, text, parent_tags):  # type: ignore[no-untyped-def]
        # Python-Markdown's own line break is two trailing spaces, which editors cannot see.
        return "<br>\n"


def _markdownify(markup: str) -> str:
    return _Converter(heading_style="ATX", bullets="-", sub_symbol="<sub>", sup_symbol="<sup>",
                      escape_underscores=False, escape_misc=False).convert(markup)


def html_to_markdown(text: str, notes: Notes, *, classic: bool | None = None) -> str:
    """One post's HTML body → Markdown. ``classic``: apply ``autop`` (default: unless the text
    has block-editor comments, which store their own ``<p>`` tags)."""
    if classic is None:
        classic = not is_block_editor(text)
    text = _BLOCK_COMMENT.sub("", text)
    text = _MORE.sub(f"\n\n{_MORE_TOKEN}\n\n", text)
    if classic:
        text = autop(text)
    text = _CAPTION.sub(_caption_to_figure, text)
    for match in _SHORTCODE.finditer(text):
        closing, name, attrs = match.groups()
        if closing:
            continue
        if name in _COMMON_SHORTCODES or attrs.strip() or f"[/{name}]" in text:
            shortcode = match.group(0)
            if shortcode not in notes.shortcodes:
                notes.shortcodes.append(shortcode)
    soup = BeautifulSoup(text, "html.parser")
    for image in soup.find_all(["img", "source"]):
        src = image.get("src")
        if src and src not in notes.images:
            notes.images.append(str(src))
    for script in soup.find_all("script"):
        notes.scripts.append(str(script.get("src") or "inline script"))
        script.decompose()
    kept: list[str] = []
    for element in soup.find_all(KEEP_AS_HTML):
        if element.find_parent(KEEP_AS_HTML) is not None:
            continue
        kept.append(str(element))
        element.replace_with(_KEEP_TOKEN.format(len(kept) - 1))
    markdown = _markdownify(soup.decode())
    for index, raw in enumerate(kept):
        token = _KEEP_TOKEN.format(index)
        markdown = markdown.replace(token, f"\n\n{raw}\n\n")
    markdown = markdown.replace(_MORE_TOKEN, "<!-- more -->")
    markdown = re.sub(r"[ \t]+\n", "\n", markdown)
    markdown = re.sub(r"\n{3,}", "\n\n", markdown)
    return markdown.strip() + "\n"


def comment_to_markdown(text: str) -> str:
    """A WordPress comment's HTML → Markdown, first cleaned by the same allow-list that qsite's
    comments are rendered through (``qsite/comments.py``), so nothing the public wrote reaches
    the file that the comment renderer would not let through anyway. WordPress stores comments
    like classic posts: blank lines are paragraphs."""
    cleaned = nh3.clean(
        autop(text),
        tags=set(comments.ALLOWED_TAGS),
        attributes=comments.ALLOWED_ATTRIBUTES,
        url_schemes=set(comments.URL_SCHEMES),
        link_rel=None,
        strip_comments=True,
    )
    markdown = _markdownify(cleaned)
    markdown = re.sub(r"[ \t]+\n", "\n", markdown)
    return re.sub(r"\n{3,}", "\n\n", markdown).strip() + "\n"


def plain(text: str) -> str:
    """A title or name from an export: entities decoded (WordPress stores ``&#8217;``), tags
    dropped, spaces collapsed."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", "", text)).split())
