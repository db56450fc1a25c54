"""``qsite import KIND PATH``: read the old blog whole, plan every file, then write.

The importer is a tool beside the build, not a step of it: it reads ``site.yaml`` only for the
theme slugs (to check ``--theme-map``) and the post address scheme, and writes Markdown files
that the build then reads like any editor's. Reading and planning raise ``ContentError`` (exit
1, ``file:line``) before a single file is written.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import yaml

from qsite import urls
from qsite.importers.report import Report
from qsite.importers.writer import Doc, copy_all, existing_slugs, marker, write_all
from qsite.problems import ConfigError, Problem, QsiteError, did_you_mean

DEFAULT_POST_PATTERN = "/posts/:slug/"
# Address schemes qsite's `permalinks.post` can express, most specific first.
CANDIDATE_PATTERNS = ("/:year/:month/:day/:slug/", "/:year/:month/:slug/", "/:year/:slug/", "/posts/:slug/", "/:slug/")


@dataclass(frozen=True)
class Options:
    theme_map: dict[str, str] = field(default_factory=dict)  # category name (lower case) → theme slug
    default_theme: str | None = None
    force: bool = False
    dry_run: bool = False


@dataclass
class Plan:
    """Everything an importer decided, before anything is written."""

    docs: list[Doc]
    report: Report
    copies: list[tuple[Path, str]] = field(default_factory=list)  # (file of the old site, content/… path)
    addresses: set[str] = field(default_factory=set)  # every imported post's and page's new address


@dataclass(frozen=True)
class Site:
    """What an importer needs to know of the site it imports into."""

    root: Path
    themes: tuple[str, ...]
    post_pattern: str

    def post_url(self, date: datetime, slug: str) -> str:
        return expand(self.post_pattern, date, slug)


def expand(pattern: str, date: datetime, slug: str) -> str:
    return (
        pattern.replace(":year", f"{date.year:04d}")
        .replace(":month", f"{date.month:02d}")
        .replace(":day", f"{date.day:02d}")
        .replace(":slug", slug)
    )


def suggest_permalinks(old: list[tuple[str, datetime, str]]) -> str | None:
    """The first scheme that gives every post (old path, date, slug) its old path, if any."""
    if not old:
        return None
    for pattern in CANDIDATE_PATTERNS:
        if all(expand(pattern, date, slug) == path for path, date, slug in old):
            return pattern
    return None


def parse_theme_map(items: list[str], themes: tuple[str, ...]) -> dict[str, str]:
    """``["Wellbeing=staff-wellbeing", …]`` → ``{"wellbeing": "staff-wellbeing"}``; a usage
    error (exit 2) for a malformed item or a slug that is not one of site.yaml's themes."""
    mapping: dict[str, str] = {}
    for item in items:
        name, sep, slug = item.rpartition("=")
        if not sep or not name.strip() or not slug.strip():
            raise ConfigError([Problem("--theme-map", None, f"{item!r} is not 'Category name=theme-slug'",
                                       'for example: --theme-map "Staff wellbeing=staff-wellbeing"')])
        mapping[name.strip().lower()] = check_theme(slug.strip(), themes, "--theme-map")
    return mapping


def check_theme(slug: str, themes: tuple[str, ...], option: str) -> str:
    if slug not in themes:
        guess = did_you_mean(slug, themes)
        raise ConfigError([Problem(option, None, f"{slug!r} is not a theme in site.yaml",
                                   f"did you mean '{guess}'?" if guess else f"use one of: {', '.join(themes)}")])
    return slug


def read_mapping(path: Path, name: str, error: type[QsiteError], fix: str) -> dict[str, Any]:
    """A YAML file read as a mapping (anything else reads as empty); invalid YAML is ``error``
    at its line, so nothing is written."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise error([Problem(name, mark.line + 1 if mark else None, f"{name} is not valid YAML", fix)]) from None
    return data if isinstance(data, dict) else {}


def read_site(root: Path) -> Site:
    """Theme slugs and the post address scheme from ``site.yaml``, read leniently: the importer
    must not refuse to run over a setting the build checks anyway."""
    path = root / "site.yaml"
    if not path.is_file():
        raise ConfigError([Problem("site.yaml", None, "there is no site.yaml in this folder",
                                   "run qsite import in the site's folder, or pass --source DIR")])
    data = read_mapping(path, "site.yaml", ConfigError, "run qsite check to see what is wrong")
    themes = tuple(str(t.get("slug")) for t in data.get("themes") or () if isinstance(t, dict) and t.get("slug"))
    permalinks = data.get("permalinks")
    pattern = permalinks.get("post") if isinstance(permalinks, dict) else None
    return Site(root, themes, pattern if isinstance(pattern, str) and ":slug" in pattern else DEFAULT_POST_PATTERN)


def themes_for(categories: list[str], options: Options) -> list[str]:
    """Categories → theme slugs by ``--theme-map`` (names compared without case); the default
    theme when none maps."""
    themes: list[str] = []
    for name in categories:
        slug = options.theme_map.get(name.strip().lower())
        if slug and slug not in themes:
            themes.append(slug)
    if not themes and options.default_theme:
        themes.append(options.default_theme)
    return themes


def alias_path(url_or_path: str) -> str | None:
    """An old address → the path an alias names: ``https://old.example/2020/04/x/`` →
    ``/2020/04/x/``. None where no redirect page can stand: a query link (``/?p=12``, which a
    static host answers with the home page) or a file other than ``.html`` (``/feed.xml``)."""
    text = url_or_path.strip()
    text = re.sub(r"^[a-z][a-z0-9+.-]*://[^/]+", "", text, flags=re.I)
    if not text or "?" in text:
        return None
    text = quote(text.split("#", 1)[0], safe="/%:@!$&'()*+,;=-._~")
    if not text.startswith("/"):
        text = "/" + text
    if text == "/" or any(part in (".", "..") for part in text.split("/")):
        return None
    last = text.rstrip("/").rsplit("/", 1)[-1]
    if not text.endswith("/") and "." in last:
        return text if last.lower().endswith((".html", ".htm")) else None
    return text if text.endswith("/") else text + "/"


def keep_free_addresses(plan: Plan, taken: Collection[str] = ()) -> None:
    """Leave out an alias qsite cannot publish: an address of qsite's own (``/tags/``, once a
    WordPress post's permalink), of an imported post or page, of a page or post the site already
    has (``taken``: ``qsite init``'s ``/about/``), or an alias already given. qsite would refuse
    the build over it; the report names each one instead."""
    given: set[str] = set(taken)
    for doc in plan.docs:
        kept: list[str] = []
        for alias in doc.meta.get("aliases") or ():
            if alias.strip("/").split("/")[0] in urls.RESERVED or alias in plan.addresses or alias in given:
                plan.report.dropped_aliases.append((doc.rel, alias))
                plan.report.aliases -= 1
            else:
                kept.append(alias)
                given.add(alias)
        if "aliases" in doc.meta:
            doc.meta["aliases"] = kept


def run(kind: str, source: Path, root: Path, options: Options, reader: Any) -> Report:
    """Plan with ``reader(source, site, options, mark)`` (``wordpress.plan`` or
    ``jekyll.plan``), then write. Nothing is written when planning fails."""
    site = read_site(root)
    mark = marker(kind, source.resolve().name)
    plan: Plan = reader(source, site, options, mark)
    taken = {f"/{slug}/" for slug in existing_slugs(root, "pages", mark) if slug not in urls.RESERVED}
    taken |= {f"/posts/{slug}/" for slug in existing_slugs(root, "posts", mark)}  # the default scheme's
    keep_free_addresses(plan, taken)
    plan.report.written = write_all(root, plan.docs, mark, force=options.force, dry_run=options.dry_run)
    plan.report.copied = copy_all(root, plan.copies, dry_run=options.dry_run)
    plan.report.dry_run = options.dry_run
    return plan.report
