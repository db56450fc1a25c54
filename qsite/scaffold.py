"""Starting points written into a site folder: ``qsite theme copy`` (default templates to
customise) and ``qsite init`` (a whole new site).

Both only ever create files: every file is opened with ``O_EXCL``, so nothing an editor has is
overwritten, not even by a second command racing this one, and nothing is written through a
symlink that leads out of the site. What they would write is planned first (and, for ``init``,
``site.yaml`` is validated by the same schema a build uses), so a bad answer writes nothing.
"""

from __future__ import annotations

import os
import zoneinfo
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from qsite import THEME
from qsite.problems import ConfigError, Problem, did_you_mean


@dataclass
class Written:
    """What a scaffold command did: files created, and files left alone because they exist."""

    created: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)


def create_files(root: Path, files: dict[str, str | bytes]) -> Written:
    """Create each ``root/rel`` that does not exist yet; existing ones are kept as they are."""
    written = Written()
    real_root = root.resolve()
    for rel, data in files.items():
        target = root / rel
        if not target.parent.resolve().is_relative_to(real_root):  # a symlinked folder on the way
            message = "its folder leads outside the site folder; qsite will not write there"
            raise ConfigError([Problem(rel, None, message)])
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            written.kept.append(rel)
            continue
        except OSError as exc:
            raise ConfigError([Problem(rel, None, f"cannot create the file: {exc.strerror}")]) from None
        with os.fdopen(fd, "wb") as f:
            f.write(data.encode("utf-8") if isinstance(data, str) else data)
        written.created.append(rel)
    return written


# -- qsite theme ----------------------------------------------------------------------------


def theme_files() -> list[str]:
    """Every file of the default theme, as its path under templates/ (``partials/macros.html``)."""
    return sorted(p.relative_to(THEME).as_posix() for p in THEME.rglob("*") if p.is_file())


def choose_theme_files(names: Sequence[str]) -> list[str]:
    """``names`` (files or folders of the theme, ``post.html``, ``static``) as theme files; all
    of them if none. An unknown name is a usage error with a did-you-mean."""
    every = theme_files()
    if not names:
        return every
    chosen: list[str] = []
    problems: list[Problem] = []
    for name in names:
        clean = name.strip().removeprefix("templates/").strip("/")
        found = [f for f in every if f == clean or f.startswith(clean + "/")]
        if not found:
            guess = did_you_mean(clean, every + sorted({f.split("/")[0] for f in every if "/" in f}))
            fix = f"did you mean {guess}?" if guess else "qsite theme list names them all"
            problems.append(Problem(name, None, "the default theme has no such template or folder", fix))
        chosen += [f for f in found if f not in chosen]
    if problems:
        raise ConfigError(problems)
    return chosen


def copy_theme(root: Path, names: Sequence[str]) -> Written:
    """Copy default templates (or all) into ``root/templates/``, never over a file there."""
    if not (root / "site.yaml").is_file():
        raise ConfigError([Problem(str(root / "site.yaml"), None, "there is no site.yaml here",
                                   "run qsite in the site's folder, or pass --source DIR")])
    chosen = choose_theme_files(names)
    written = create_files(root, {f"templates/{rel}": (THEME / rel).read_bytes() for rel in chosen})
    return written


def overridden(root: Path, files: Iterable[str]) -> set[str]:
    """Which of the theme's ``files`` the site at ``root`` overrides in its templates/."""
    return {rel for rel in files if (root / "templates" / rel).is_file()}


# -- qsite init -----------------------------------------------------------------------------

STARTER = Path(__file__).resolve().parent / "starter"
TIMEZONE = zoneinfo.ZoneInfo("Europe/London")  # what site.yaml says; the welcome posts are dated in it


@dataclass(frozen=True)
class NewSite:
    """What ``qsite init`` was told (or asked on the terminal): checked by ``plan_site``."""

    title: str
    base_url: str
    themes: tuple[tuple[str, str], ...]  # (slug, title)
    contact: str = ""


def parse_theme(value: str) -> tuple[str, str]:
    """``--theme "slug=Title"`` (or just ``"Title"``, slug made from it) → (slug, title)."""
    from qsite.urls import SLUG_RE, slugify

    slug, sep, title = value.partition("=")
    if not sep:
        slug, title = slugify(value), value
    slug, title = slug.strip(), " ".join(title.split())
    if not slug or not title:
        raise ConfigError([Problem("--theme", None, f"{value!r} is not a theme",
                                   'write it as slug=Title, e.g. --theme "mental-health=Mental health"')])
    if not SLUG_RE.fullmatch(slug):
        raise ConfigError([Problem("--theme", None, f"{slug!r} is not a valid theme slug (its address, "
                                   "/themes/<slug>/)", f'use --theme "{slugify(slug) or "theme"}={title}"')])
    return slug, title


def ask_new_site(given: NewSite, ask: Callable[[str], str], say: Callable[[str], None]) -> NewSite:
    """Ask on the terminal for whatever ``given`` lacks (end of input is a usage error)."""
    try:
        title = given.title or ask("The site's title: ").strip()
        base_url = given.base_url or ask("The address it will be published at (https://…/): ").strip()
        themes = list(given.themes)
        if not themes:
            say("Its themes: every post belongs to one or more. One per line as slug=Title, or just a title; "
                "an empty line ends the list.")
            while True:
                line = ask(f"Theme {len(themes) + 1}: ").strip()
                if not line:
                    if themes:
                        break
                    say("A site needs at least one theme.")
                    continue
                themes.append(parse_theme(line))
        contact = given.contact or ask(
            "Where readers report an accessibility problem (email or web address; empty: the About page): "
        ).strip()
    except EOFError:
        raise ConfigError([Problem("qsite init", None, "no answer given",
                                   "pass --title, --base-url and --theme instead")]) from None
    return NewSite(title, base_url, tuple(themes), contact)


def _yaml(text: str) -> str:
    from qsite.new import yaml_quote

    return yaml_quote(text)


def _site_yaml(site: NewSite, contact: str) -> str:
    from qsite import colours
    from qsite.config import ThemeDef

    themes = "".join(
        f"  - slug: {t.slug}\n    title: {_yaml(t.title)}\n"
        f"    # description: A sentence shown on the theme's page and the list of themes.\n"
        f'    color: "{t.color}"\n'
        for t in colours.assign([ThemeDef(slug, title) for slug, title in site.themes])
    )
    return f"""\
# Settings for {site.title}: every key is described in qsite's README ("site.yaml reference").
# After an edit, `qsite check --strict` says at once if something is wrong, and where.

# The site's name, shown in the header, in feeds and in the browser tab.
title: {_yaml(site.title)}
# One sentence about the site, for the home page, feeds and link previews.
description: {_yaml(f"What the {site.title} community is learning.")}
# The address the site is published at. The publish workflow builds for GitHub Pages' own address.
base_url: {site.base_url}
# The language of the site (for <html lang> and feeds), and the time zone dates are read in.
language: en-GB
timezone: {TIMEZONE.key}
posts_per_page: 10

# Extra links in the header.
nav:
  - title: About
    url: /about/

# Every post belongs to one or more themes. slug: the theme's address (/themes/<slug>/) and the
# name posts use in `themes:`. color: its chips and headings; qsite checks it against WCAG 2.2
# AA contrast and suggests a passing one if it fails (leave it out for one from qsite's palette).
themes:
{themes}
# The accessibility statement at /accessibility/.
accessibility:
  # Where readers report a problem: an email address, a web address or a page of this site.
  contact: {_yaml(contact)}
  # How you test the site, in a sentence; until you say, the statement says it is not tested.
  # testing: "We check every new kind of page with a screen reader and the keyboard alone."
  # reviewed: {date.today().isoformat()}

# The learning digest: an edition per month (or week) of the posts editors pick.
# digest:
#   period: month
"""


def _welcome(site: NewSite, slug: str, title: str, day: date) -> tuple[str, str]:
    rel = f"content/posts/{day.isoformat()}-welcome-to-{slug}.md"
    text = f"""---
title: {_yaml(f"Welcome to {title}")}
date: {day.isoformat()}
themes: [{slug}]
tags: [welcome]
---
This is the first post in the theme *{title}*. Replace it with what your team is learning, or
delete it once the theme has posts of its own.

## Writing a post

Start a post with `qsite new "Your title" --theme {slug}`, then write in Markdown. Before you
open a pull request, `qsite check --strict` finds broken links and images without alt text.

All posts in this theme are on [its page](/themes/{slug}/).
"""
    return rel, text


ABOUT = """---
title: About
---
{title} is where our community shares what it is learning, in short posts grouped by theme
and a regular learning digest.

## Contact

To reach the editors of this site, or to report a problem with it, open an issue in the
site's repository, or write to any of its editors.
"""


def plan_site(folder: Path, site: NewSite, day: date) -> dict[str, str]:
    """Every file of the new site (path → text), site.yaml validated as a build would."""
    from qsite import __version__
    from qsite.config import check_base_url, parse_config

    if not site.title.strip():
        raise ConfigError([Problem("--title", None, "the site needs a title", '--title "Our learning"')])
    if not site.themes:
        raise ConfigError([Problem("--theme", None, "the site needs at least one theme",
                                   '--theme "mental-health=Mental health" (repeat for several)')])
    base_url = check_base_url(site.base_url) if site.base_url else ""
    if not base_url:
        raise ConfigError([Problem("--base-url", None, "the site needs the address it is published at",
                                   "--base-url https://example.github.io/our-site/")])
    site = NewSite(" ".join(site.title.split()), base_url, site.themes, site.contact.strip())
    contact = site.contact or "/about/#contact"
    files = {"site.yaml": _site_yaml(site, contact)}
    parse_config(files["site.yaml"], folder.resolve())  # a bad slug or title: ConfigError, nothing written
    for slug, title in site.themes:
        rel, text = _welcome(site, slug, title, day)
        files[rel] = text
    files["content/pages/about.md"] = ABOUT.format(title=site.title)
    files[".gitignore"] = (STARTER / "gitignore").read_text(encoding="utf-8")
    files["requirements.txt"] = f"# The qsite the workflows install; raise it to upgrade.\nqsite=={__version__}\n"
    for name in ("check.yml", "publish.yml"):
        files[f".github/workflows/{name}"] = (STARTER / name).read_text(encoding="utf-8")
    readme = (STARTER / "README.md").read_text(encoding="utf-8")
    files["README.md"] = (
        readme.replace("@TITLE@", site.title).replace("@BASE_URL@", base_url).replace("@VERSION@", __version__)
    )
    return files


def init_site(folder: Path, site: NewSite, day: date, *, force: bool = False) -> Written:
    """Write a new site into ``folder``: refused if it holds anything, unless ``force``; even
    then no existing file is replaced (it is listed in ``Written.kept``)."""
    if folder.exists() and not folder.is_dir():
        raise ConfigError([Problem(str(folder), None, "this is a file, not a folder")])
    files = plan_site(folder, site, day)  # before touching the disk: a bad answer writes nothing
    if folder.is_dir() and any(folder.iterdir()) and not force:
        raise ConfigError([Problem(str(folder), None, "this folder is not empty; qsite init starts a new site "
                                   "in an empty one", "choose a new folder, or add --force to add only the "
                                   "files that are missing (nothing is overwritten)")])
    folder.mkdir(parents=True, exist_ok=True)
    return create_files(folder, files)
