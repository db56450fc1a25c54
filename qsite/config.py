"""Step 1: ``site.yaml`` → a frozen :class:`SiteConfig`.

The schema below is the reference documentation for every key (MkDocs keeps its defaults the
same way), and it is strict: an unknown key is a mistake with a did-you-mean, never silently
ignored, because a typo in ``posts_per_page`` should not quietly give ten posts a page.
"""

from __future__ import annotations

import re
import zoneinfo
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from qsite import strict_yaml
from qsite.problems import ConfigError, Problem, Problems, did_you_mean

SLUG_RE = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")


@dataclass(frozen=True)
class ThemeDef:
    slug: str
    title: str
    description: str


@dataclass(frozen=True)
class NavLink:
    title: str
    url: str


@dataclass(frozen=True)
class SiteConfig:
    """Validated settings. ``root`` is the folder holding site.yaml; paths are resolved."""

    root: Path
    title: str
    base_url: str
    themes: tuple[ThemeDef, ...]
    description: str = ""
    language: str = "en-GB"
    timezone: str = "Europe/London"
    author: str = ""
    posts_per_page: int = 10
    output_dir: Path = Path("output")
    nav: tuple[NavLink, ...] = ()
    markdown_time_limit: float = 5.0
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def base_path(self) -> str:
        """The path part of base_url, always ending in ``/``: ``/q-blog/`` for a sub-path site."""
        return urlsplit(self.base_url).path or "/"

    @property
    def origin(self) -> str:
        parts = urlsplit(self.base_url)
        return f"{parts.scheme}://{parts.netloc}"

    @property
    def tz(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.timezone)

    def theme(self, slug: str) -> ThemeDef | None:
        return next((t for t in self.themes if t.slug == slug), None)


# key: (type, required, default, documentation)
SCHEMA: dict[str, tuple[type | tuple[type, ...], bool, Any, str]] = {
    "title": (str, True, None, "The site's name, shown in the header, feeds and browser tab."),
    "description": (str, False, "", "One sentence about the site, for the home page and feeds."),
    "base_url": (
        str,
        True,
        None,
        "Absolute URL the site is published at; a sub-path such as "
        "https://example.org/q-blog/ is fine. Overridden by --base-url.",
    ),
    "language": (str, False, "en-GB", "BCP 47 language tag for <html lang> and feeds."),
    "timezone": (str, False, "Europe/London", "IANA zone that dates without a time are read in."),
    "author": (str, False, "", "Default author for posts that name none."),
    "posts_per_page": (int, False, 10, "Posts on each page of the home, theme and tag lists."),
    "output_dir": (str, False, "output", "Where `qsite build` writes, relative to site.yaml."),
    "nav": (list, False, [], "Extra header links: a list of {title, url}."),
    "themes": (list, True, None, "The ordered list of themes: {slug, title, description}."),
    "markdown_time_limit": (
        (int, float),
        False,
        5.0,
        "Seconds one post, page or comment may take to convert from Markdown before the build "
        "stops with an error naming it (pathological text can take minutes).",
    ),
}

# Sections that later steps own; each declares its own keys the same way. A frozenset in the
# type slot is a choice of texts (MkDocs' ``Choice``), so a typo gets a did-you-mean.
SECTIONS: dict[str, dict[str, tuple[type | tuple[type, ...] | frozenset[str], bool, Any, str]]] = {
    "digest": {
        "period": (
            frozenset({"month", "week"}),
            False,
            "month",
            "How often a learning digest edition is made: month (2020-04) or ISO week (2020-W16).",
        ),
    },
    "accessibility": {
        "contact": (str, False, "", "Email address or URL where readers report an accessibility problem."),
        "reviewed": (str, False, "", "Date the statement was last reviewed, YYYY-MM-DD."),
        "standard": (str, False, "WCAG 2.2 level AA", "The standard the site is tested against."),
        "known_issues": (list, False, [], "Parts of the site known not to meet the standard, one line each."),
    },
    "comments": {
        "submit_url": (str, False, "", "Where readers leave a comment: a form, an issue template or a mailto: link."),
        "moderation": (
            str,
            False,
            "An editor reads every comment before it is published, usually within a few working days.",
            "The sentence under 'Leave a comment' saying how moderation works.",
        ),
    },
}

_TYPE_NAMES = {str: "text", int: "a whole number", list: "a list", dict: "a mapping", bool: "true or false"}


def _type_name(kind: type | tuple[type, ...]) -> str:
    if isinstance(kind, tuple):
        return " or ".join(_TYPE_NAMES.get(k, k.__name__) for k in kind)
    return _TYPE_NAMES.get(kind, kind.__name__)


def _is(value: Any, kind: type | tuple[type, ...]) -> bool:
    if isinstance(value, bool) and kind is not bool and not (isinstance(kind, tuple) and bool in kind):
        return False
    return isinstance(value, kind)


def parse_config(text: str, root: Path, path: str = "site.yaml") -> SiteConfig:
    """Validate every key at once; raises ConfigError listing all problems."""
    problems = Problems()
    try:
        doc = strict_yaml.load(text)
    except strict_yaml.YamlProblem as exc:
        raise ConfigError([_p(path, exc.line, exc.message, exc.fix)]) from None
    data = doc.value
    if not isinstance(data, dict):
        raise ConfigError([_p(path, 1, "site.yaml must be a list of 'key: value' settings")])

    known = {**SCHEMA, **{k: (dict, False, {}, "") for k in SECTIONS}}
    values: dict[str, Any] = {}
    for key, value in data.items():
        if key not in known:
            guess = did_you_mean(key, known)
            problems.add(
                path,
                doc.line(key),
                f"unknown setting '{key}'",
                f"did you mean '{guess}'?" if guess else f"known settings: {', '.join(known)}",
            )
            continue
        kind = known[key][0]
        if not _is(value, kind):
            problems.add(path, doc.line(key), f"'{key}' should be {_type_name(kind)}, not {value!r}")
            continue
        values[key] = value
    for key, (_kind, required, default, _doc) in SCHEMA.items():
        if key not in data:
            if required:
                problems.add(path, 1, f"'{key}' is required", f"add a line '{key}: …'")
            else:
                values[key] = default

    base_url = values.get("base_url")
    if isinstance(base_url, str):
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            problems.add(
                path,
                doc.line("base_url"),
                f"base_url must be an absolute http(s) URL, not {base_url!r}",
                "for example: base_url: https://example.org/q-blog/",
            )
        elif parts.query or parts.fragment:
            problems.add(path, doc.line("base_url"), "base_url cannot have a query or #fragment")
        elif not base_url.endswith("/"):
            values["base_url"] = base_url + "/"

    tz = values.get("timezone")
    if isinstance(tz, str):
        try:
            zoneinfo.ZoneInfo(tz)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            problems.add(path, doc.line("timezone"), f"unknown timezone {tz!r}", "for example: Europe/London")

    if isinstance(values.get("posts_per_page"), int) and values["posts_per_page"] < 1:
        problems.add(path, doc.line("posts_per_page"), "posts_per_page must be at least 1")
    limit = values.get("markdown_time_limit")
    if isinstance(limit, int | float) and not isinstance(limit, bool) and not 0 < limit < 86400:
        problems.add(path, doc.line("markdown_time_limit"), "markdown_time_limit must be a number of seconds above 0")

    themes = _themes(values.get("themes"), doc, path, problems)
    nav = _nav(values.get("nav") or [], doc, path, problems)

    extra: dict[str, Any] = {}
    for section, schema in SECTIONS.items():
        extra[section] = _section(section, values.get(section) or {}, schema, doc, path, problems)
    _check_readers_settings(extra, doc, path, problems)

    if problems:
        raise ConfigError(problems.items)
    out = Path(values["output_dir"])
    return SiteConfig(
        root=root,
        title=values["title"],
        description=values["description"],
        base_url=values["base_url"],
        language=values["language"],
        timezone=values["timezone"],
        author=values["author"],
        posts_per_page=values["posts_per_page"],
        output_dir=out if out.is_absolute() else root / out,
        nav=nav,
        themes=themes,
        markdown_time_limit=float(values["markdown_time_limit"]),
        extra=extra,
    )


def _is_date(text: str) -> bool:
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return bool(re.fullmatch(r"\d{4}-\d{2}-\d{2}", text))


def _check_readers_settings(extra: dict[str, Any], doc: strict_yaml.Document, path: str, problems: Problems) -> None:
    """Values of the accessibility and comments sections that a type alone cannot check."""
    reviewed = extra.get("accessibility", {}).get("reviewed", "")
    if reviewed and not _is_date(reviewed.strip()):
        problems.add(
            path,
            doc.line("accessibility", "reviewed"),
            f"accessibility.reviewed should be a date, not {reviewed!r}",
            "for example: reviewed: 2024-03-01",
        )
    issues = extra.get("accessibility", {}).get("known_issues", [])
    for i, issue in enumerate(issues):
        if not isinstance(issue, str) or not issue.strip():
            problems.add(
                path,
                doc.line("accessibility", "known_issues", i),
                "each of accessibility.known_issues should be a line of text",
            )
    url = extra.get("comments", {}).get("submit_url", "")
    if url and urlsplit(url).scheme not in ("http", "https", "mailto"):
        problems.add(
            path,
            doc.line("comments", "submit_url"),
            f"comments.submit_url should be an http(s) or mailto: link, not {url!r}",
            "for example: submit_url: mailto:editors@example.org",
        )


def _p(path: str, line: int | None, message: str, fix: str | None = None) -> Problem:
    return Problem(path, line, message, fix)


def _entries(
    name: str, items: Any, keys: dict[str, bool], doc: strict_yaml.Document, path: str, problems: Problems
) -> list[tuple[int, dict[str, str]]]:
    """Check a list of small mappings with text values; ``keys`` maps key → required."""
    good: list[tuple[int, dict[str, str]]] = []
    if items is None:
        return good
    for i, item in enumerate(items):
        line = doc.line(name, i)
        if not isinstance(item, dict):
            problems.add(path, line, f"each entry of '{name}' needs {', '.join(keys)}")
            continue
        ok = True
        for key, value in item.items():
            if key not in keys:
                guess = did_you_mean(key, keys)
                problems.add(
                    path,
                    doc.line(name, i, key),
                    f"unknown key '{key}' in {name}",
                    f"did you mean '{guess}'?" if guess else f"use {', '.join(keys)}",
                )
                ok = False
            elif not isinstance(value, str) or not value.strip():
                problems.add(path, doc.line(name, i, key), f"'{key}' in {name} should be non-empty text")
                ok = False
        for key, required in keys.items():
            if required and key not in item:
                problems.add(path, line, f"this entry of '{name}' has no '{key}'")
                ok = False
        if ok:
            good.append((i, {k: v.strip() for k, v in item.items()}))
    return good


def _themes(
    items: Any, doc: strict_yaml.Document, path: str, problems: Problems
) -> tuple[ThemeDef, ...]:
    themes: list[ThemeDef] = []
    if items is not None and not items:
        problems.add(path, doc.line("themes"), "'themes' needs at least one theme")
    seen: dict[str, int] = {}
    for i, item in _entries("themes", items, {"slug": True, "title": True, "description": False}, doc, path, problems):
        slug = item["slug"]
        line = doc.line("themes", i, "slug")
        if not SLUG_RE.match(slug):
            from qsite.urls import slugify

            problems.add(path, line, f"theme slug {slug!r} is not a valid slug", f"use '{slugify(slug)}'")
            continue
        if slug in seen:
            problems.add(
                path, line, f"theme '{slug}' is listed twice (first on line {seen[slug]})", "remove one"
            )
            continue
        seen[slug] = line
        themes.append(ThemeDef(slug, item["title"], item.get("description", "")))
    return tuple(themes)


def _nav(items: Any, doc: strict_yaml.Document, path: str, problems: Problems) -> tuple[NavLink, ...]:
    return tuple(
        NavLink(item["title"], item["url"])
        for _i, item in _entries("nav", items, {"title": True, "url": True}, doc, path, problems)
    )


def _section(
    name: str,
    data: dict[str, Any],
    schema: dict[str, tuple[type | tuple[type, ...] | frozenset[str], bool, Any, str]],
    doc: strict_yaml.Document,
    path: str,
    problems: Problems,
) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in data.items():
        if key not in schema:
            guess = did_you_mean(key, schema)
            problems.add(
                path,
                doc.line(name, key),
                f"unknown setting '{name}.{key}'",
                f"did you mean '{guess}'?" if guess else f"known: {', '.join(schema) or 'none'}",
            )
        elif isinstance(choices := schema[key][0], frozenset):
            if value in choices:
                result[key] = value
                continue
            guess = did_you_mean(str(value), sorted(choices))
            problems.add(
                path,
                doc.line(name, key),
                f"'{name}.{key}' should be one of {', '.join(sorted(choices))}, not {value!r}",
                f"did you mean '{guess}'?" if guess else None,
            )
        elif not _is(value, schema[key][0]):
            problems.add(path, doc.line(name, key), f"'{name}.{key}' should be {_type_name(schema[key][0])}")
        else:
            result[key] = value
    for key, (_kind, required, default, _doc) in schema.items():
        if key not in data:
            if required:
                problems.add(path, doc.line(name), f"'{name}.{key}' is required")
            result.setdefault(key, default)
    return result


def load_config(root: Path, overrides: dict[str, Any] | None = None) -> SiteConfig:
    """Read ``root/site.yaml``; ``overrides`` come from the command line (base_url, output_dir)."""
    path = root / "site.yaml"
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ConfigError(
            [_p(str(path), None, "there is no site.yaml here", "run qsite in the site's folder, or pass --source DIR")]
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError([_p(str(path), None, f"cannot read site.yaml: {exc}")]) from None
    config = parse_config(text.replace("\r\n", "\n"), root.resolve())
    if overrides:
        from dataclasses import replace

        changes = dict(overrides)
        if "base_url" in changes:
            base = changes["base_url"]
            parts = urlsplit(base)
            if parts.scheme not in ("http", "https") or not parts.netloc:
                raise ConfigError([_p("--base-url", None, f"must be an absolute http(s) URL, not {base!r}")])
            changes["base_url"] = base if base.endswith("/") else base + "/"
        if "output_dir" in changes:
            out = Path(changes["output_dir"])
            changes["output_dir"] = out if out.is_absolute() else Path.cwd() / out
        config = replace(config, **changes)
    return config
