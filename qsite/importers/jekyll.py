"""A Jekyll site folder → qsite content.

- ``_posts/`` (also ``<category>/_posts/``): date and name from the file name, front matter
  ``title``, ``date``, ``categories``/``category``, ``tags``/``tag``, ``author``, ``excerpt``,
  ``permalink``, ``redirect_from``, ``published: false`` (→ ``draft: true``);
- ``_drafts/`` → posts with ``draft: true``;
- pages: Markdown or HTML files with front matter outside ``_`` folders (the home page and
  ``404`` are qsite's own and skipped);
- every post's old address is worked out from ``_config.yml``'s ``permalink`` (its named
  styles ``date``, ``pretty``, ``ordinal``, ``weekdate``, ``none`` or a pattern) or its own
  ``permalink``, and kept, with ``redirect_from``, as ``aliases``.

Liquid in bodies is converted where its meaning is plain (``{{ site.baseurl }}``, ``{% link %}``,
``{% post_url %}``, ``{% raw %}``, ``{% highlight %}``, ``{% comment %}``) and otherwise left as
text and listed in the report.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from datetime import date as Day
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import yaml

from qsite.importers import html as convert
from qsite.importers.report import Report
from qsite.importers.run import Options, Plan, Site, alias_path, read_mapping, suggest_permalinks, themes_for
from qsite.importers.writer import Doc, Raw, Slugs, existing_slugs, slug_for
from qsite.problems import ContentError, Problem, Problems
from qsite.urls import tag_slug

STYLES = {
    "date": "/:categories/:year/:month/:day/:title:output_ext",
    "pretty": "/:categories/:year/:month/:day/:title/",
    "ordinal": "/:categories/:year/:y_day/:title:output_ext",
    "weekdate": "/:categories/:year/W:week/:short_day/:title:output_ext",
    "none": "/:categories/:title:output_ext",
}
_POST_NAME = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})-(.+)$")
_MARKDOWN = (".md", ".markdown", ".mkd", ".mkdn")
_SKIP_FOLDERS = {"assets", "vendor", "node_modules", "css", "js", "images", "img", "fonts"}
_SKIP_PAGES = {"index", "404", "feed", "sitemap", "search", "readme", "license", "changelog"}


@dataclass
class _Source:
    """One post or page as read, before its body is converted."""

    path: Path
    rel: str  # from the Jekyll folder: "_posts/2020-04-02-x.md"
    meta: dict[str, Any]
    body: str
    body_line: int
    kind: str  # "post" or "page"
    draft: bool = False
    date: datetime = field(default_factory=lambda: datetime(1970, 1, 1))
    name: str = ""  # title part of the file name
    folder_categories: list[str] = field(default_factory=list)


def split(text: str, rel: str, problems: Problems) -> tuple[dict[str, Any], str, int] | None:
    """Front matter and body; a problem at the file's line for YAML that does not parse. A file
    without front matter is None (Jekyll copies such files as they are)."""
    text = text.removeprefix("\ufeff").replace("\r\n", "\n")
    lines = text.split("\n")
    if not lines or lines[0].rstrip() != "---":
        return None
    end = next((i for i in range(1, len(lines)) if lines[i].rstrip() in ("---", "...")), None)
    if end is None:
        problems.add(rel, 1, "the front matter that starts here is never closed", "add a line '---' after it")
        return None
    try:
        meta = yaml.safe_load("\n".join(lines[1:end])) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        reason = getattr(exc, "problem", None) or "not valid YAML"
        problems.add(rel, mark.line + 2 if mark else 1, f"the front matter is not valid YAML: {reason}",
                     "fix the front matter in the Jekyll site, then import again")
        return None
    if not isinstance(meta, dict):
        problems.add(rel, 2, "the front matter is not 'key: value' lines")
        return None
    return meta, "\n".join(lines[end + 1 :]), end + 2


def _words(value: Any) -> list[str]:
    """Jekyll's lists: a YAML list, or one string of words separated by spaces."""
    if value is None:
        return []
    if isinstance(value, list):
        return [str(v) for v in value if v is not None and str(v).strip()]
    return str(value).split()


def _as_datetime(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value.replace(tzinfo=None)  # the time as written: read in the site's timezone
    if isinstance(value, Day):
        return datetime(value.year, value.month, value.day)
    if isinstance(value, str):
        text = re.sub(r"\s*(Z|[+-]\d{2}:?\d{2})$", "", value.strip())
        for shape in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d"):
            try:
                return datetime.strptime(text, shape)
            except ValueError:
                continue
    return None


def _read_config(folder: Path) -> dict[str, Any]:
    path = folder / "_config.yml"
    if not path.is_file():
        return {}
    return read_mapping(path, "_config.yml", ContentError, "fix it in the Jekyll site, then import again")


def old_url(pattern: str, post: _Source, slug_source: str) -> str:
    """Jekyll's URL for a post: its permalink pattern with each placeholder filled in."""
    pattern = STYLES.get(pattern, pattern)
    d = post.date
    categories = "/".join(
        dict.fromkeys(c.lower().replace(" ", "%20") for c in post.folder_categories + _categories(post.meta))
    )
    values = {
        "year": f"{d.year:04d}", "month": f"{d.month:02d}", "i_month": str(d.month), "day": f"{d.day:02d}",
        "i_day": str(d.day), "short_year": f"{d.year % 100:02d}", "hour": f"{d.hour:02d}",
        "minute": f"{d.minute:02d}", "second": f"{d.second:02d}", "y_day": f"{d.timetuple().tm_yday:03d}",
        "week": f"{d.isocalendar()[1]:02d}", "short_day": d.strftime("%a"), "long_day": d.strftime("%A"),
        "short_month": d.strftime("%b"), "long_month": d.strftime("%B"),
        "title": slug_source, "slug": slug_source, "categories": categories, "output_ext": ".html",
    }
    url = re.sub(r":(\w+)", lambda m: values.get(m.group(1), m.group(0)), pattern)
    return re.sub(r"/{2,}", "/", "/" + url)


def _categories(meta: dict[str, Any]) -> list[str]:
    return _words(meta.get("categories")) + _words(meta.get("category"))


def _find_posts(folder: Path, problems: Problems) -> list[_Source]:
    found: list[_Source] = []
    for posts in sorted([*folder.glob("_posts"), *folder.glob("*/_posts"), *folder.glob("_drafts")]):
        drafts = posts.name == "_drafts"
        folder_categories = [] if posts.parent == folder else [posts.parent.name]
        for path in sorted(posts.rglob("*")):
            if path.suffix.lower() not in (*_MARKDOWN, ".html") or not path.is_file():
                continue
            rel = path.relative_to(folder).as_posix()
            parts = split(path.read_text(encoding="utf-8", errors="replace"), rel, problems)
            if parts is None:
                continue
            meta, body, body_line = parts
            named = _POST_NAME.match(path.stem)
            if not named and not drafts:
                problems.add(rel, None, "a post's file name must start with its date (YYYY-MM-DD-title)",
                             "rename it as Jekyll expects, then import again")
                continue
            source = _Source(path, rel, meta, body, body_line, "post", drafts or meta.get("published") is False,
                             name=named.group(4) if named else path.stem, folder_categories=folder_categories)
            when = _as_datetime(meta.get("date"))
            if when is None and named:
                when = datetime(int(named.group(1)), int(named.group(2)), int(named.group(3)))
            source.date = when or datetime.fromtimestamp(path.stat().st_mtime).replace(microsecond=0)
            found.append(source)
    return found


def _find_pages(folder: Path, problems: Problems) -> list[_Source]:
    found: list[_Source] = []
    for path in sorted(folder.rglob("*")):
        rel_parts = path.relative_to(folder).parts
        if any(p.startswith(("_", ".")) for p in rel_parts) or rel_parts[0] in _SKIP_FOLDERS:
            continue
        if not path.is_file() or path.suffix.lower() not in (*_MARKDOWN, ".html"):
            continue
        rel = path.relative_to(folder).as_posix()
        parts = split(path.read_text(encoding="utf-8", errors="replace"), rel, problems)
        if parts is None:
            continue
        meta, body, body_line = parts
        found.append(_Source(path, rel, meta, body, body_line, "page", meta.get("published") is False,
                             name=path.stem))
    return found


def _page_url(page: _Source, style: str) -> str:
    given = page.meta.get("permalink")
    if isinstance(given, str) and given.strip():
        return given.strip()
    rel = Path(page.rel)
    stem = rel.parent.as_posix() if rel.stem == "index" else rel.with_suffix("").as_posix()
    if stem in ("", "."):
        return "/"
    return f"/{stem}/" if style == "pretty" or rel.stem == "index" else f"/{stem}.html"


def plan(source: Path, site: Site, options: Options, mark: str) -> Plan:
    """Read the Jekyll site whole and decide every file; ``ContentError`` (with file:line) for
    front matter that does not parse, before anything is written."""
    config = _read_config(source)
    problems = Problems()
    posts = _find_posts(source, problems)
    pages = _find_pages(source, problems)
    if problems:
        raise ContentError(problems.errors)
    state = _Import(source, site, options, mark, config)
    for post in sorted(posts, key=lambda p: (p.date, p.rel)):
        state.place_post(post)
    for page in pages:
        state.place_page(page)
    docs = [state.doc(*planned) for planned in state.planned]  # after placing all: links need every address
    report = state.report
    comments = staticman_comments(source, state.threads, report)
    docs += comments
    if comments:
        report.imported["comments"] = len(comments)
    profiles = state.authors.docs()
    docs[:0] = profiles
    if profiles:
        report.imported["authors"] = len(profiles)
    if state.authors.names:
        report.notes.append("Authors kept as names: " + ", ".join(sorted(state.authors.names)) +
                            ". Make a profile in content/authors/<id>.md for each, and name its id in the posts.")
    if config.get("baseurl"):
        report.notes.append(f"The old site was served under {config['baseurl']}; aliases are written without it.")
    report.permalinks = suggest_permalinks(state.old_addresses)
    return Plan(docs, report, [(path, rel) for rel, path in state.copies.items()], state.addresses)


class _Import:
    """One Jekyll site's import under way: addresses first (so ``{% link %}`` and
    ``{% post_url %}`` can name any post), then each file's front matter and body."""

    def __init__(self, source: Path, site: Site, options: Options, mark: str, config: dict[str, Any]):
        self.source, self.site, self.options, self.config = source, site, options, config
        self.style = str(config.get("permalink") or "date")
        self.report = Report("Jekyll", str(source))
        self.slugs = {
            "post": Slugs(existing_slugs(site.root, "posts", mark)),
            "page": Slugs(existing_slugs(site.root, "pages", mark)),
        }
        self.addresses: set[str] = set()  # every new address
        self.links: dict[str, str] = {}  # Jekyll file (and post_url name) → new address
        self.planned: list[tuple[_Source, str, list[str]]] = []  # source, content/… path, aliases
        self.old_addresses: list[tuple[str, datetime, str]] = []
        self.threads: dict[str, tuple[str, datetime]] = {}  # a post's Jekyll names → (its slug, its date)
        self.authors = _Authors(source)
        self.copies: dict[str, Path] = {}  # content/… path → the old site's file

    def _claim(self, kind: str, wanted: str, rel_for: Callable[[str], str]) -> tuple[str, str]:
        slug = self.slugs[kind].claim(wanted)
        rel = rel_for(slug)
        if slug != wanted:
            self.report.renamed.append((rel, wanted, slug))
        return slug, rel

    def place_post(self, post: _Source) -> None:
        title_part = str(post.meta.get("slug") or post.name)
        wanted = slug_for(title_part, str(post.meta.get("title") or ""), fallback="post")
        slug, rel = self._claim("post", wanted, lambda s: f"content/posts/{post.date:%Y-%m-%d}-{s}.md")
        new_url = self.site.post_url(post.date, slug)
        own = post.meta.get("permalink")
        own = own.strip() if isinstance(own, str) else ""
        old = old_url(own or self.style, post, title_part)
        aliases = [] if post.draft else _aliases([old, *_words(post.meta.get("redirect_from"))], new_url)
        if not post.draft and not own:
            self.old_addresses.append((old, post.date, wanted))
        self.links[post.rel] = self.links[Path(post.rel).stem] = new_url
        self.addresses.add(new_url)
        self.planned.append((post, rel, aliases))
        for name in (Path(post.rel).stem, post.name, title_part):
            self.threads.setdefault(name, (slug, post.date))

    def place_page(self, page: _Source) -> None:
        if page.rel.count("/") == 0 and page.path.stem.lower() in _SKIP_PAGES:
            self.report.skip("home, 404 and feed pages (qsite makes its own)")
            return
        if _LISTING.search(page.body):
            self.report.skip("pages listing posts (qsite makes its own)")
            return
        base = page.path.parent.name if page.path.stem == "index" else page.path.stem
        permalink = str(page.meta.get("permalink") or "").strip("/").split("/")[-1]
        wanted = slug_for(permalink, base, str(page.meta.get("title") or ""), fallback="page")
        slug, rel = self._claim("page", wanted, lambda s: f"content/pages/{s}.md")
        aliases = _aliases([_page_url(page, self.style), *_words(page.meta.get("redirect_from"))], f"/{slug}/")
        self.links[page.rel] = f"/{slug}/"
        self.addresses.add(f"/{slug}/")
        self.planned.append((page, rel, aliases))

    def doc(self, item: _Source, rel: str, aliases: list[str]) -> Doc:
        body = self._body(item, rel)
        self.report.aliases += len(aliases)
        meta: dict[str, Any] = {"title": str(item.meta.get("title") or item.name.replace("-", " ").capitalize())}
        notes: list[str] = []
        draft = item.draft
        if item.kind == "post":
            draft = self._post_fields(item, meta, rel, notes) or draft
        else:
            summary = item.meta.get("description") or item.meta.get("excerpt")
            meta["summary"] = convert.plain(str(summary)) if summary else None
        meta["draft"] = True if draft else None
        meta["aliases"] = aliases
        kind = f"{item.kind}s"
        self.report.imported[f"draft {kind}" if draft else kind] += 1
        return Doc(rel, meta, body, notes)

    def _body(self, item: _Source, rel: str) -> str:
        leftovers: list[str] = []
        body = convert_liquid(item.body, self.links, leftovers)
        separator = str(self.config.get("excerpt_separator") or "")
        head, found, tail = body.partition(separator) if separator.strip() else (body, "", "")
        if found:  # qsite's summary marker, on a line of its own
            body = head.rstrip("\n") + "\n\n<!-- more -->\n\n" + tail.lstrip("\n")
        notes = convert.Notes()
        if item.path.suffix.lower() == ".html":
            body = convert.html_to_markdown(body, notes, classic=False)
        else:
            notes.images = markdown_images(body)
        if leftovers:
            self.report.liquid[rel] = leftovers
        images = [url for url in notes.images if not _local_copy(self.source, url, self.copies)]
        if images:
            self.report.images[rel] = images
        if notes.scripts:
            self.report.scripts[rel] = notes.scripts
        return body

    def _post_fields(self, post: _Source, meta: dict[str, Any], rel: str, notes: list[str]) -> bool:
        """A post's date, themes, authors, tags and summary; True if it has no theme (a draft)."""
        categories = post.folder_categories + _categories(post.meta)
        midnight = post.date.time() == datetime.min.time()
        meta["date"] = Raw(f"{post.date:%Y-%m-%d}" if midnight else f"{post.date:%Y-%m-%d %H:%M}")
        themes = themes_for(categories, self.options)
        meta["themes"] = themes
        if not themes:
            self.report.no_theme.append(rel)
            notes.append(f"no theme: add 'themes: [...]' with one or more of: {', '.join(self.site.themes)}")
        names = [self.authors.credit(name) for name in _names(post.meta)]
        meta["author" if len(names) == 1 else "authors"] = names[0] if len(names) == 1 else names
        meta["tags"] = _tags(categories + _words(post.meta.get("tags")) + _words(post.meta.get("tag")))
        excerpt = post.meta.get("excerpt") or post.meta.get("description")
        meta["summary"] = convert.plain(str(excerpt)) if excerpt else None
        return not themes


# A page that lists the blog's posts: qsite makes its own lists, so such a page is not imported.
_LISTING = re.compile(r"{%-?\s*for\s+\w+\s+in\s+(?:paginator\.posts|site\.posts|site\.categories|site\.tags)")


def _stamp(value: Any) -> datetime | None:
    if isinstance(value, int | float) or (isinstance(value, str) and value.isdigit()):
        return datetime.fromtimestamp(int(value), UTC).replace(tzinfo=None)
    return _as_datetime(value.removesuffix("Z").split(".")[0].replace("T", " ") if isinstance(value, str) else value)


def staticman_comments(folder: Path, threads: dict[str, tuple[str, datetime]], report: Report) -> list[Doc]:
    """Comments that Staticman committed to ``_data/comments/<post>/*.yml`` (``name``,
    ``message`` in Markdown, ``date``, and for threads ``_id`` with ``replying_to_uid``) →
    qsite comment files, replies keeping ``reply_to``. Hidden ones are skipped and counted;
    e-mail addresses are never written."""
    top = folder / "_data" / "comments"
    if not top.is_dir():
        return []
    docs: list[Doc] = []
    for thread in sorted(p for p in top.iterdir() if p.is_dir()):
        if thread.name not in threads:
            report.skip("comment folders for no imported post")
            continue
        post_slug, post_date = threads[thread.name]
        entries: list[tuple[datetime, str, dict[str, Any]]] = []
        for path in sorted(thread.glob("*.y*ml")):
            try:
                data = yaml.safe_load(path.read_text(encoding="utf-8"))
            except yaml.YAMLError as exc:
                mark = getattr(exc, "problem_mark", None)
                rel = path.relative_to(folder).as_posix()
                raise ContentError([Problem(rel, mark.line + 1 if mark else None, "this comment is not valid YAML",
                                            "fix it in the Jekyll site, then import again")]) from None
            if not isinstance(data, dict) or not str(data.get("message") or "").strip():
                report.skip("empty comments")
            elif data.get("hidden") not in (None, "", False):
                report.skip("hidden comments")
            else:
                entries.append((max(_stamp(data.get("date")) or post_date, post_date), path.stem, data))
        stems: dict[str, str] = {}  # _id → file stem
        for date, name, data in sorted(entries, key=lambda e: (e[0], e[1])):
            author = str(data.get("name") or "Anonymous").strip()
            who = slug_for(author, fallback="comment")[:40].strip("-")
            stem = f"{date:%Y-%m-%d}-{who}-{slug_for(name, fallback='c')[-8:].strip('-')}"
            parent = str(data.get("replying_to_uid") or "")
            meta = {"author": author, "date": Raw(f"{date:%Y-%m-%d %H:%M}"), "reply_to": stems.get(parent)}
            if data.get("_id"):
                stems[str(data["_id"])] = stem
            docs.append(Doc(f"content/comments/{post_slug}/{stem}.md", meta, str(data["message"]).strip()))
    return docs


def _local_copy(folder: Path, url: str, copies: dict[str, Path]) -> bool:
    """True if ``url`` (``/assets/board.jpg``) is a file of the old site, now to be copied to
    ``content/assets/board.jpg``, which the build publishes at the same address."""
    if not url.startswith("/") or url.startswith("//"):
        return False
    path = unquote(url.split("?", 1)[0].split("#", 1)[0]).lstrip("/")
    if not path or path.startswith(("_", ".")) or any(part in ("", ".", "..") for part in path.split("/")):
        return False
    source = (folder / path).resolve()
    if not source.is_file() or not source.is_relative_to(folder.resolve()):
        return False
    copies[f"content/{path}"] = source
    return True


def _names(meta: dict[str, Any]) -> list[str]:
    """A post's ``author`` (a name, or a list) and ``authors`` (a list), in order."""
    found: list[str] = []
    for key in ("author", "authors"):
        value = meta.get(key)
        for name in value if isinstance(value, list) else [value] if value else []:
            if str(name).strip() and str(name).strip() not in found:
                found.append(str(name).strip())
    return found


class _Authors:
    """Jekyll themes name a post's author by free text or by a key of ``_data/authors.yml``
    (``rnoor: {name: …, bio: …}``). Keys become profiles (``content/authors/<id>.md``) and the
    posts name their ids; free-text names stay names, listed in the report."""

    def __init__(self, folder: Path):
        self.data: dict[str, Any] = {}
        path = folder / "_data" / "authors.yml"
        if path.is_file():
            try:
                data = yaml.safe_load(path.read_text(encoding="utf-8"))
            except yaml.YAMLError as exc:
                mark = getattr(exc, "problem_mark", None)
                raise ContentError([Problem("_data/authors.yml", mark.line + 1 if mark else None,
                                            "_data/authors.yml is not valid YAML",
                                            "fix it in the Jekyll site, then import again")]) from None
            self.data = {str(k): v for k, v in data.items()} if isinstance(data, dict) else {}
        self.used: dict[str, str] = {}  # key → profile id
        self.names: set[str] = set()

    def credit(self, name: str) -> str:
        if name not in self.data:
            self.names.add(name)
            return name
        if name not in self.used:
            self.used[name] = slug_for(name, fallback="author")
        return self.used[name]

    def docs(self) -> list[Doc]:
        docs: list[Doc] = []
        for key, ident in self.used.items():
            entry = self.data[key] if isinstance(self.data[key], dict) else {"name": self.data[key]}
            url = str(entry.get("url") or entry.get("web") or entry.get("website") or "")
            meta = {
                "name": str(entry.get("name") or entry.get("display_name") or key),
                "role": str(entry["role"]) if entry.get("role") else None,
                "type": "person",
                "url": url if url.startswith(("https://", "http://")) else None,
            }
            bio = str(entry.get("bio") or entry.get("description") or "")
            docs.append(Doc(f"content/authors/{ident}.md", meta, bio))
        return docs


_MD_IMAGE = re.compile(r"!\[[^\]]*\]\(\s*<?([^)\s>]+)")
_HTML_IMAGE = re.compile(r"<img\b[^>]*\bsrc=[\"']([^\"']+)", re.I)


def markdown_images(body: str) -> list[str]:
    """Images a Markdown body shows from the old site or another host: every absolute or
    root-relative address, which the editor copies into ``content/images/``."""
    found = [*_MD_IMAGE.findall(body), *_HTML_IMAGE.findall(body)]
    return list(dict.fromkeys(url for url in found if url.startswith(("http://", "https://", "//", "/"))))


def _aliases(old: list[str], new_url: str) -> list[str]:
    paths: list[str] = []
    for item in old:
        path = alias_path(item)
        if path and path != new_url and path not in paths:
            paths.append(path)
    return paths


def _tags(names: list[str]) -> list[str]:
    seen: set[str] = set()
    tags: list[str] = []
    for name in names:
        slug = tag_slug(name)
        if slug and slug not in seen and len(slug) <= 100:
            seen.add(slug)
            tags.append(name)
    return tags


_RAW = re.compile(r"{%-?\s*raw\s*-?%}(.*?){%-?\s*endraw\s*-?%}", re.S)
_COMMENT = re.compile(r"{%-?\s*comment\s*-?%}.*?{%-?\s*endcomment\s*-?%}", re.S)
_HIGHLIGHT = re.compile(r"{%-?\s*highlight\s+(\w+)[^%]*-?%}\n?(.*?)\n?{%-?\s*endhighlight\s*-?%}", re.S)
_SITE_URL = re.compile(r"{{-?\s*site\.(?:baseurl|url)\s*-?}}")
_URL_FILTER = re.compile(r"""{{-?\s*(['"])([^'"]*)\1\s*\|\s*(?:relative_url|absolute_url)\s*-?}}""")
_LINK = re.compile(r"{%-?\s*(link|post_url)\s+(\S+)\s*-?%}")
_ANY = re.compile(r"{%.*?%}|{{.*?}}", re.S)


def convert_liquid(body: str, links: dict[str, str], leftovers: list[str]) -> str:
    """Liquid whose meaning is plain → Markdown; anything else is left and added to
    ``leftovers``. ``{% raw %}`` content is protected from every other rule."""
    kept: list[str] = []

    def hold(text: str) -> str:
        kept.append(text)
        return f"QSITERAW{len(kept) - 1}QSITE"

    body = _RAW.sub(lambda m: hold(m.group(1)), body)
    body = _COMMENT.sub("", body)
    body = _HIGHLIGHT.sub(lambda m: hold(f"```{m.group(1)}\n{m.group(2)}\n```"), body)
    body = _SITE_URL.sub("", body)
    body = _URL_FILTER.sub(lambda m: m.group(2), body)

    def link(match: re.Match[str]) -> str:
        target = match.group(2).strip("'\"")
        url = links.get(target) or links.get(Path(target).stem if match.group(1) == "post_url" else target)
        return url if url else match.group(0)

    body = _LINK.sub(link, body)
    for match in _ANY.finditer(body):
        if match.group(0) not in leftovers:
            leftovers.append(match.group(0))
    return re.sub(r"QSITERAW(\d+)QSITE", lambda m: kept[int(m.group(1))], body)
