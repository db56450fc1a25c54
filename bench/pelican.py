"""Pelican 4.12 on the benchmark's corpus: the comparison issue 10's cold-build targets name.

Pelican renders Markdown with the same Python-Markdown library as qsite, so timing it on the
same posts, on the same machine, in the same run, tells how much of qsite's cold build is more
than Markdown. It lives in a venv of its own (``python -m venv`` + ``pip install
'pelican==4.12.*' markdown``), never in qsite's: it is a yardstick, not a dependency. When it
cannot be installed the benchmark says so in one line and goes on without it.

The corpus is converted post for post (bench/corpus.py's front matter → Pelican's ``Key: value``
metadata): title, date, tags, summary, and the post's first theme as its category (Pelican has
one category per article, qsite up to three themes). The configuration is the smallest that
builds a comparable site: the built-in ``notmyidea`` theme, the same Markdown extensions as
qsite, ten posts a page, feeds on (all posts and one per category, 20 entries each, as
qsite's site and theme feeds), absolute URLs, and no content cache, so every run is cold.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

VERSION = "4.12.*"

CONF = """\
# Written by bench/pelican.py: the smallest configuration comparable with qsite's site.
AUTHOR = "Improvement Community"
SITENAME = "Benchmark Site"
SITEURL = "https://example.org"
PATH = "content"
ARTICLE_PATHS = ["posts"]
PAGE_PATHS = ["pages"]
TIMEZONE = "Europe/London"
DEFAULT_LANG = "en"
THEME = "notmyidea"
RELATIVE_URLS = False
DEFAULT_PAGINATION = 10
ARTICLE_URL = "posts/{slug}/"
ARTICLE_SAVE_AS = "posts/{slug}/index.html"
PAGE_URL = "{slug}/"
PAGE_SAVE_AS = "{slug}/index.html"
FEED_DOMAIN = SITEURL
FEED_ALL_ATOM = "feeds/all.atom.xml"
CATEGORY_FEED_ATOM = "feeds/{slug}.atom.xml"
FEED_MAX_ITEMS = 20
CACHE_CONTENT = False
LOAD_CONTENT_CACHE = False
MARKDOWN = {
    "extension_configs": {
        "markdown.extensions.tables": {},
        "markdown.extensions.fenced_code": {},
        "markdown.extensions.footnotes": {},
        "markdown.extensions.attr_list": {},
        "markdown.extensions.sane_lists": {},
        "markdown.extensions.codehilite": {"css_class": "highlight", "guess_lang": False},
        "markdown.extensions.toc": {"permalink": "#", "permalink_class": "heading-anchor"},
        "markdown.extensions.meta": {},
    },
    "output_format": "html5",
}
"""

_FRONT = re.compile(r"\A---\n(.*?)\n---\n", re.S)


def convert(site: Path, dest: Path) -> Path:
    """Write a Pelican project in ``dest`` (emptied first) holding the qsite ``site``'s posts
    and pages; returns ``dest``. Reads one file at a time, so a 20,000-post corpus costs no
    more memory than a 1,000-post one."""
    if dest.exists():
        shutil.rmtree(dest)
    for kind in ("posts", "pages"):
        folder = dest / "content" / kind
        folder.mkdir(parents=True)
        for path in sorted((site / "content" / kind).glob("*.md")):
            text = path.read_text(encoding="utf-8")
            found = _FRONT.match(text)
            meta = yaml.safe_load(found.group(1)) if found else {}
            body = text[found.end():] if found else text
            lines = [f"Title: {meta['title']}"]
            if kind == "posts":
                slug = re.sub(r"^\d{4}-\d{2}-\d{2}-", "", path.stem)
                lines += [f"Date: {meta['date']}", f"Slug: {slug}", f"Category: {meta['themes'][0]}"]
                if meta.get("tags"):
                    lines.append(f"Tags: {', '.join(meta['tags'])}")
                if meta.get("summary"):
                    lines.append(f"Summary: {meta['summary']}")
            else:
                lines.append(f"Slug: {path.stem}")
            (folder / path.name).write_text("\n".join(lines) + "\n\n" + body, encoding="utf-8")
    (dest / "pelicanconf.py").write_text(CONF, encoding="utf-8")
    return dest


def ensure(venv: Path) -> tuple[Path, str] | str:
    """(the ``pelican`` executable in ``venv``, its version), installing Pelican there if it is
    missing; or a one-line reason why it cannot be had."""
    venv = venv.absolute()  # Pelican runs in the project's folder: a relative path would miss
    exe = venv / "bin" / "pelican"
    if not exe.is_file():
        try:
            if not (venv / "bin" / "python").is_file():
                subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, capture_output=True)
            pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", f"pelican=={VERSION}", "markdown"]
            run = subprocess.run(pip, capture_output=True, text=True, timeout=600)
        except (OSError, subprocess.SubprocessError) as exc:
            return f"cannot create a venv for Pelican in {venv}: {exc}"
        if run.returncode != 0 or not exe.is_file():
            tail = (run.stderr or run.stdout).strip().splitlines()[-1:] or ["no output"]
            return f"pip could not install pelican=={VERSION} into {venv}: {tail[0]}"
    try:
        version = subprocess.run([str(exe), "--version"], capture_output=True, text=True, timeout=60).stdout.strip()
        markdown = subprocess.run(
            [str(venv / "bin" / "python"), "-c", "import markdown; print(markdown.__version__)"],
            capture_output=True, text=True, timeout=60,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError) as exc:
        return f"cannot run {exe}: {exc}"
    if not version.startswith(VERSION.rstrip("*")):
        return f"{exe} is Pelican {version or '?'}, not {VERSION}"
    return exe, f"Pelican {version}, Markdown {markdown}"


def cold_build(exe: Path, project: Path) -> tuple[float, int, float]:
    """(seconds, peak RSS in bytes, CPU seconds) of one Pelican build from nothing: no output,
    no cache."""
    for folder in ("output", "cache", "__pycache__"):
        shutil.rmtree(project / folder, ignore_errors=True)
    cmd = [str(exe), "content", "-s", "pelicanconf.py", "-o", "output", "-q"]
    with tempfile.TemporaryFile() as log:  # a file, not a pipe: a chatty build cannot block on it
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=project, stdout=log, stderr=subprocess.STDOUT)
        _pid, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - start
        log.seek(0)
        errors = log.read().decode(errors="replace")
    if os.waitstatus_to_exitcode(status) != 0 or not (project / "output" / "index.html").is_file():
        raise SystemExit(f"Pelican failed in {project}: {errors.strip()[-500:]}")
    return elapsed, usage.ru_maxrss * 1024, usage.ru_utime + usage.ru_stime
