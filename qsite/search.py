"""Full-text search: index the built site with Pagefind, offline, after every build.

The index is made over the *staging* folder, just before it is swapped into place (see
``write.write_site(before_swap=…)``), so a failed index leaves the previous site, index and all,
exactly as it was instead of publishing pages whose search is missing or stale.

Pagefind's binary comes from the ``pagefind[bin]`` package on PyPI (found through the
``pagefind`` package's own lookup, which also honours ``PAGEFIND_BINARY_PATH``); nothing is
downloaded at build time. We run the binary's command line rather than the package's asyncio
service API: a subprocess has an exit code, a timeout and captured output to quote in an
error, whereas the service's reader task dies silently if the binary crashes and leaves the
caller waiting forever.

What gets indexed is decided by the templates: only elements marked ``data-pagefind-body``
(post and page bodies), with ``data-pagefind-filter="theme"`` on theme chips so readers can
search within one theme.
"""

from __future__ import annotations

import re
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from qsite.problems import ConfigError, Problem

BUNDLE = "pagefind"  # output subfolder; reserved in urls.RESERVED
TIMEOUT_SECONDS = 300
EXCLUDE = ".heading-anchor"  # the "#" links Markdown adds to headings are not words
_PAGES = re.compile(r"Indexed (\d+) pages?")

INSTALL_FIX = "install it with: pip install 'pagefind[bin]' (or build with --no-search)"


@dataclass(frozen=True)
class Indexed:
    pages: int
    seconds: float


def made_by_indexer(path: str) -> bool:
    """Whether a site-relative path belongs to the search bundle, which Pagefind writes after
    rendering: ``qsite check`` checks rendered pages in memory, where the bundle is not yet."""
    return path == BUNDLE or path.startswith(BUNDLE + "/")


def find_binary() -> Path:
    """The Pagefind executable, or ConfigError (exit 2): a missing tool is the environment's
    problem, not the editor's content."""
    try:
        from pagefind.service import get_executable
    except ImportError:
        raise ConfigError(
            [Problem("pagefind", None, "the pagefind package is not installed", INSTALL_FIX)]
        ) from None
    try:
        found = get_executable()
    except (FileNotFoundError, OSError):
        found = None
    if found is None or not found.is_file():
        raise ConfigError(
            [Problem("pagefind", None, "the Pagefind binary was not found", INSTALL_FIX)]
        )
    return found


def index_site(folder: Path) -> Indexed:
    """Index every HTML file under ``folder`` into ``folder/pagefind/``."""
    binary = find_binary()
    start = time.perf_counter()
    try:
        run = subprocess.run(
            [
                str(binary),
                "--site",
                str(folder),
                "--output-subdir",
                BUNDLE,
                "--exclude-selectors",
                EXCLUDE,
            ],
            capture_output=True,
            text=True,
            timeout=TIMEOUT_SECONDS,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise ConfigError(
            [
                Problem(
                    "pagefind",
                    None,
                    f"search indexing took longer than {TIMEOUT_SECONDS} s and was stopped",
                    "build with --no-search, and report this",
                )
            ]
        ) from None
    except OSError as exc:
        raise ConfigError(
            [Problem(str(binary), None, f"cannot run Pagefind: {exc.strerror or exc}", INSTALL_FIX)]
        ) from None
    seconds = time.perf_counter() - start
    output = (run.stdout or "") + (run.stderr or "")
    if run.returncode != 0 or not (folder / BUNDLE / "pagefind.js").is_file():
        tail = " / ".join(line.strip() for line in output.strip().splitlines()[-5:] if line.strip())
        raise ConfigError(
            [
                Problem(
                    "pagefind",
                    None,
                    f"search indexing failed (exit {run.returncode}): {tail or 'no output'}",
                    "build with --no-search to publish without search, and report this",
                )
            ]
        )
    match = _PAGES.search(output)
    return Indexed(int(match.group(1)) if match else 0, seconds)
