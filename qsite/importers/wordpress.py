"""WordPress export files (WXR 1.0–1.2, Tools → Export → All content) → qsite content.

What becomes what:

- published posts → ``content/posts/``; drafts, pending and private posts → posts with
  ``draft: true``; scheduled posts keep their future date (qsite holds them back itself);
- published pages → ``content/pages/`` (drafts likewise with ``draft: true``);
- trash, revisions, auto-drafts, nav menu items and other internal types are skipped and
  counted; attachments are listed in the report (nothing is downloaded);
- ``wp:author`` → ``content/authors/<id>.md`` profiles, named by posts' ``author``;
- categories → themes through ``--theme-map``/``--default-theme``, and, with tags, → tags;
- approved comments → ``content/comments/<post-slug>/``, ``wp:comment_parent`` → ``reply_to``;
  pingbacks, trackbacks, spam, trashed and unapproved comments are skipped and counted.
  Commenters' e-mail and IP addresses are never written.

The file is parsed with ``defusedxml``: an export that declares entities (the "billion laughs"
bomb) or reaches for external ones is refused before any expansion happens.
"""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml import ElementTree as SafeTree

from qsite.importers import html as convert
from qsite.importers.report import Report
from qsite.importers.run import Options, Plan, Site, alias_path, suggest_permalinks, themes_for
from qsite.importers.writer import Doc, Raw, Slugs, existing_slugs, slug_for
from qsite.problems import ContentError, Problem
from qsite.urls import tag_slug

_NAMESPACES = {  # checked in order: the excerpt namespace is inside the export's
    "/excerpt/": "excerpt",
    "wordpress.org/export/": "wp",
    "purl.org/rss/1.0/modules/content/": "content",
    "purl.org/dc/elements/1.1/": "dc",
}
_NO_DATE = ("", "0000-00-00 00:00:00")
_UNCATEGORISED = {"uncategorized", "uncategorised"}


def _name(tag: str) -> str:
    """``{http://wordpress.org/export/1.2/}post_id`` → ``wp:post_id``, whatever the WXR version."""
    if not tag.startswith("{"):
        return tag
    uri, _, local = tag[1:].partition("}")
    for part, prefix in _NAMESPACES.items():
        if part in uri:
            return f"{prefix}:{local}"
    return local


def _text(element: Element, name: str) -> str:
    for child in element:
        if _name(child.tag) == name:
            return (child.text or "").strip() if name != "content:encoded" else child.text or ""
    return ""


def _children(element: Element, name: str) -> list[Element]:
    return [child for child in element if _name(child.tag) == name]


def parse(text: bytes, rel: str) -> Element:
    """The export's root element, or ``ContentError`` at the line of the mistake."""
    try:
        root = SafeTree.fromstring(text, forbid_dtd=False, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        where = re.search(rb"<!ENTITY", text) or re.search(rb"<!DOCTYPE", text)
        line = text.count(b"\n", 0, where.start()) + 1 if where else None
        message = f"the export declares XML entities, which are refused ({type(exc).__name__})"
        fix = "a WordPress export never declares entities: export the site again"
        raise ContentError([Problem(rel, line, message, fix)]) from None
    except ParseError as exc:
        line, column = exc.position
        raise ContentError([Problem(rel, line, f"this is not well-formed XML (column {column + 1}): "
                                    f"{str(exc).split(':')[0]}",
                                    "export the site again, or fix the XML at this line")]) from None
    channel = root.find("channel")
    if root.tag != "rss" or channel is None or not any(_name(c.tag).startswith("wp:") for c in channel):
        raise ContentError([Problem(rel, 1, "this is not a WordPress export (WXR) file",
                                    "in WordPress use Tools → Export → All content, and import that file")])
    return channel


def _date(text: str) -> datetime | None:
    if text.strip() in _NO_DATE:
        return None
    try:
        return datetime.strptime(text.strip(), "%Y-%m-%d %H:%M:%S")
    except ValueError:
        return None


def _when(date: datetime) -> Raw:
    return Raw(f"{date:%Y-%m-%d %H:%M}")


class _Authors:
    """``wp:author`` entries → profile ids; logins that no entry describes stay free-text names."""

    def __init__(self, channel: Element):
        self.by_login: dict[str, tuple[str, str]] = {}  # login → (id, display name)
        self.by_user_id: dict[str, str] = {}  # wp:author_id → profile id
        slugs = Slugs()
        for author in _children(channel, "wp:author"):
            login = _text(author, "wp:author_login")
            name = convert.plain(_text(author, "wp:author_display_name")) or login
            first, last = _text(author, "wp:author_first_name"), _text(author, "wp:author_last_name")
            if name == login and (first or last):
                name = f"{first} {last}".strip()
            ident = slugs.claim(slug_for(name, login, fallback="author"))
            self.by_login[login.lower()] = (ident, name or ident)  # a profile must have a name
            self.by_user_id[_text(author, "wp:author_id")] = ident

    def docs(self) -> list[Doc]:
        return [
            Doc(f"content/authors/{ident}.md", {"name": name, "type": "person"}, "")
            for ident, name in self.by_login.values()
        ]

    def byline(self, login: str) -> str:
        """``dc:creator`` → a profile id; exports spell a login's case differently at times."""
        found = self.by_login.get(login.lower())
        return found[0] if found else login


def plan(source: Path, site: Site, options: Options, mark: str) -> Plan:
    """Read the export whole and decide every file; ``ContentError`` for a malformed one."""
    rel = source.name
    try:
        data = source.read_bytes()
    except OSError as exc:
        raise ContentError([Problem(rel, None, f"cannot read the export: {exc.strerror}")]) from None
    channel = parse(data, rel)
    state = _Import(channel, source, site, options, mark)
    items = sorted(channel.iter("item"), key=lambda i: (_text(i, "wp:post_date"), _int(_text(i, "wp:post_id"))))
    for item in items:
        if state.wanted(item):
            state.add(item)
    state.relink()
    report = state.report
    report.permalinks = suggest_permalinks(state.old_addresses)
    unused = sorted(set(options.theme_map) - state.categories)
    if unused:
        report.notes.append("--theme-map names categories no imported post has: " + ", ".join(unused))
    return Plan(state.docs, report, addresses=state.addresses)


class _Import:
    """One export's import under way: the files planned so far, the URL names taken, the report."""

    def __init__(self, channel: Element, source: Path, site: Site, options: Options, mark: str):
        self.site, self.options = site, options
        self.report = Report("WordPress", str(source))
        self.authors = _Authors(channel)
        self.docs: list[Doc] = self.authors.docs()
        self.report.imported["authors"] = len(self.docs)
        if self.docs:
            self.report.notes.append("Authors' e-mail addresses are not copied; add role, organisation and a "
                                     "short bio to each file in content/authors/.")
        self.slugs = {
            "post": Slugs(existing_slugs(site.root, "posts", mark)),
            "page": Slugs(existing_slugs(site.root, "pages", mark)),
        }
        self.categories: set[str] = set()  # lower case, for the note on unused --theme-map items
        self.old_addresses: list[tuple[str, datetime, str]] = []  # (old path, date, slug) of each post
        self.addresses: set[str] = set()
        self.moved: dict[str, str] = {}  # old path (or /?p=ID) → new address, for links between posts
        urls = (_text(channel, name) for name in ("link", "wp:base_site_url", "wp:base_blog_url"))
        self.hosts = {urlsplit(url).netloc for url in urls} - {""}

    def wanted(self, item: Element) -> bool:
        """Posts and pages are imported; everything else is counted (attachments listed)."""
        kind, status = _text(item, "wp:post_type"), _text(item, "wp:status")
        if kind == "attachment":
            self.report.attachments.append(_text(item, "wp:attachment_url") or _text(item, "guid"))
            self.report.skip("attachments (listed in the report)")
            return False
        if kind not in ("post", "page"):
            names = {"revision": "revisions", "nav_menu_item": "menu items"}
            self.report.skip(names.get(kind, f"items of type {kind}"))
            return False
        if status in ("trash", "auto-draft", "inherit"):
            self.report.skip("trashed posts and pages" if status == "trash" else "automatic drafts")
            return False
        return True

    def add(self, item: Element) -> None:
        kind = _text(item, "wp:post_type")
        draft = _text(item, "wp:status") in ("draft", "pending", "private")
        if _text(item, "wp:post_password") and not draft:
            draft = True  # readers needed a password: never publish it by importing it
            self.report.notes.append(f"Password-protected, so imported as a draft: {_text(item, 'title')!r}")
        post_id = _text(item, "wp:post_id")
        title = convert.plain(_text(item, "title")) or f"Untitled ({kind} {post_id})"
        date = (_date(_text(item, "wp:post_date")) or _date(_text(item, "wp:post_date_gmt"))
                or _date(_text(item, "wp:post_modified")) or datetime(1970, 1, 1))
        wanted = slug_for(unquote(_text(item, "wp:post_name")), title, fallback=f"{kind}-{post_id}")
        slug = self.slugs[kind].claim(wanted)
        rel = f"content/posts/{date:%Y-%m-%d}-{slug}.md" if kind == "post" else f"content/pages/{slug}.md"
        if slug != wanted:
            self.report.renamed.append((rel, wanted, slug))
        new_url = self.site.post_url(date, slug) if kind == "post" else f"/{slug}/"
        self.addresses.add(new_url)
        link = None if draft else alias_path(_text(item, "link"))
        if link and kind == "page" and link == f"/{wanted}/" and slug != wanted:
            link = None  # the old address is the address of the site's own page of that name
        aliases = [link] if link and link != new_url else []
        self.report.aliases += len(aliases)
        if link:
            self.moved[link] = new_url
        if not draft and post_id:
            query = f"/?{'p' if kind == 'post' else 'page_id'}={post_id}"
            self.report.query_links.append((query, new_url))
            self.moved[query] = new_url
        if kind == "post" and link and not draft:
            self.old_addresses.append((link, date, wanted))
        meta: dict[str, Any] = {"title": title}
        notes: list[str] = []
        if kind == "post":
            draft = self._post_fields(item, meta, date, rel, notes) or draft
        meta["draft"] = True if draft else None
        meta["aliases"] = aliases
        found = convert.Notes()
        self.docs.append(Doc(rel, meta, convert.html_to_markdown(_text(item, "content:encoded"), found), notes))
        self.report.imported[f"draft {kind}s" if draft else f"{kind}s"] += 1
        if found.shortcodes:
            self.report.shortcodes[rel] = found.shortcodes
        if found.images:
            self.report.images[rel] = found.images
        if found.scripts:
            self.report.scripts[rel] = found.scripts
        comments = _comments(item, slug, kind, date, self.authors, self.report)
        self.docs += comments
        self.report.imported["comments"] += len(comments)

    def relink(self) -> None:
        """Links from one imported post to another, written with the old site's address
        (``https://old.example/2020/04/x/`` or ``…/?p=12``), → the new address, so they work
        before and after the old domain is pointed at the new site."""
        if not self.moved:
            return
        hosts = "|".join(re.escape(host) for host in sorted(self.hosts)) or "(?!)"
        link = re.compile(rf'(\]\(|href=")((?:https?:)?//(?:{hosts}))?(/[^)\s"#]*)(#[^)\s"]*)?')

        def new(match: re.Match[str]) -> str:
            path = match.group(3)
            target = self.moved.get(path) or self.moved.get(path + "/")
            if target is None:
                return match.group(0)
            return match.group(1) + target + (match.group(4) or "")

        for doc in self.docs:
            if doc.rel.startswith(("content/posts/", "content/pages/")):
                doc.body = link.sub(new, doc.body)

    def _post_fields(self, item: Element, meta: dict[str, Any], date: datetime, rel: str, notes: list[str]) -> bool:
        """A post's date, themes, author, tags and summary; True if it has no theme (a draft)."""
        terms = item.findall("category")
        categories = [convert.plain(c.text or "") for c in terms if c.get("domain") == "category"]
        categories = [c for c in categories if c.lower() not in _UNCATEGORISED]
        tags = [convert.plain(c.text or "") for c in terms if c.get("domain") == "post_tag"]
        # --theme-map may name a category by its name or by its URL name (nicename)
        nicenames = [unquote(c.get("nicename") or "") for c in terms if c.get("domain") == "category"]
        nicenames = [n for n in nicenames if n and n.lower() not in _UNCATEGORISED]
        self.categories.update(c.lower() for c in categories + nicenames)
        themes = themes_for(categories + nicenames, self.options)
        meta["date"] = _when(date)
        meta["themes"] = themes
        if not themes:
            self.report.no_theme.append(rel)
            notes.append(f"no theme: add 'themes: [...]' with one or more of: {', '.join(self.site.themes)}")
        creator = _text(item, "dc:creator")
        meta["author"] = self.authors.byline(creator) if creator else None
        meta["tags"] = _tags(categories + tags)
        meta["summary"] = convert.plain(_text(item, "excerpt:encoded")) or None
        meta["featured"] = True if _text(item, "wp:is_sticky") == "1" else None  # sticky: the editor's pick
        return not themes


def _int(text: str) -> int:
    return int(text) if text.isdigit() else 0


def _tags(names: list[str]) -> list[str]:
    seen: set[str] = set()
    tags: list[str] = []
    for name in names:
        slug = tag_slug(name) if name else ""
        if slug and slug not in seen and len(slug) <= 100:
            seen.add(slug)
            tags.append(name)
    return tags


def _comments(
    item: Element, post_slug: str, kind: str, post_date: datetime, authors: _Authors, report: Report
) -> list[Doc]:
    """Approved comments → files; a reply names its parent's file (``reply_to``). A reply to
    a comment that was not imported (spam, say) becomes a comment of its own.

    qsite refuses a comment dated before its post or a reply dated before its parent (issue
    11), which a post re-dated in WordPress can leave behind: such a comment is dated with its
    post (or parent) and the report says so. A loop of parents (a damaged export) is cut."""
    kept: dict[str, tuple[Element, datetime]] = {}  # comment id → (element, date)
    for comment in _children(item, "wp:comment"):
        ctype = _text(comment, "wp:comment_type")
        approved = _text(comment, "wp:comment_approved")
        if ctype in ("pingback", "trackback"):
            report.skip(f"{ctype}s")
        elif approved == "spam":
            report.skip("spam comments")
        elif approved == "trash":
            report.skip("trashed comments")
        elif approved != "1":
            report.skip("unapproved comments")
        elif kind != "post":
            report.skip("comments on pages (qsite has comments on posts only)")
        elif not convert.plain(_text(comment, "wp:comment_content")):
            report.skip("empty comments")
        else:
            kept[_text(comment, "wp:comment_id")] = (comment, _date(_text(comment, "wp:comment_date")) or post_date)
    parents = {cid: _text(comment, "wp:comment_parent") for cid, (comment, _) in kept.items()}
    parents = {cid: "" if parent == "0" else parent for cid, parent in parents.items()}  # "0": no parent
    for cid in kept:  # a loop of parents: its earliest comment starts the thread
        seen: list[str] = []
        while cid in kept and cid not in seen:
            seen.append(cid)
            cid = parents[cid]
        if cid in seen:
            loop = seen[seen.index(cid):]
            parents[min(loop, key=lambda c: (kept[c][1], _int(c)))] = ""  # no comment has the id ""
    placed: dict[str, tuple[str, datetime]] = {}  # comment id → (file stem, date)
    docs: list[Doc] = []

    def place(cid: str) -> None:
        chain: list[str] = []  # this comment and its unplaced ancestors, child first
        while cid in kept and cid not in placed and cid not in chain:
            chain.append(cid)
            cid = parents[cid]
        for current in reversed(chain):
            comment, date = kept[current]
            above = placed.get(parents[current])
            earliest = max(post_date, above[1]) if above else post_date
            if date < earliest:
                what = "parent" if above and above[1] > post_date else "post"
                report.notes.append(f"Comment {current} on '{post_slug}' was dated before its {what}; "
                                    f"dated {earliest:%Y-%m-%d %H:%M} instead")
                date = earliest
            author = convert.plain(_text(comment, "wp:comment_author")) or "Anonymous"
            stem = f"{date:%Y-%m-%d}-{slug_for(author, fallback='comment')[:40].strip('-')}-{current}"
            placed[current] = (stem, date)
            meta: dict[str, Any] = {
                "author": author,
                "date": _when(date),
                "reply_to": above[0] if above else None,
                "author_id": authors.by_user_id.get(_text(comment, "wp:comment_user_id")),
            }
            body = convert.comment_to_markdown(_text(comment, "wp:comment_content"))
            docs.append(Doc(f"content/comments/{post_slug}/{stem}.md", meta, body))

    for cid in kept:
        place(cid)
    return docs
