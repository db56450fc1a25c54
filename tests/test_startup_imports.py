"""What a ``qsite build`` process imports (issue 10): Python's start and qsite's imports were
0.28 s of every one-post rebuild, so a library a build does not use is imported where it is
used. Each test runs real ``qsite build`` processes on a small site and asks which modules the
last one had loaded when it ended: a fact of the run, not a timing."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import SITE_YAML, copy_templates, post, write_files

TESTS = Path(__file__).resolve().parent

# Imported only by what uses them: a pool of worker processes (big batches only: qsite/parallel.py),
# a "did you mean" for a mistake (qsite/problems.py, qsite/comments.py), and the temporary names
# of files and folders only a build that writes makes (qsite/write.py, qsite/incremental/cachefiles.py).
POOL = ("multiprocessing", "concurrent.futures.process")
MISTAKES = ("difflib",)
COMMENTS = ("nh3",)  # sanitises comments (qsite/comments.py): this site has none
WRITING = ("tempfile", "secrets", "random")


def _build(site: Path, watched: tuple[str, ...]) -> tuple[str, list[str]]:
    """Run ``qsite build`` on ``site`` in a process of its own: (what it printed, which of
    ``watched`` were in ``sys.modules`` when it had finished)."""
    script = (
        "import json, sys\n"
        "from qsite.cli import main\n"
        f"code = main(['build', '--source', {str(site)!r}])\n"
        f"print(json.dumps(sorted(m for m in {watched!r} if m in sys.modules)))\n"
        "sys.exit(code)\n"
    )
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=TESTS, check=False,
                          timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    *printed, modules = proc.stdout.strip().splitlines()
    return "\n".join(printed), json.loads(modules)


@pytest.fixture
def site(tmp_path: Path) -> Path:
    """A small site with the production templates, built once (the cache and output exist)."""
    root = tmp_path / "site"
    posts = {f"content/posts/p{i}.md": post(f"Post {i}", f"2020-04-{i + 1:02d}", body=f"Body {i}.") for i in range(5)}
    write_files(root, {"site.yaml": SITE_YAML, **posts})
    copy_templates(root)
    for path in root.rglob("*"):  # written long ago: the shortcut trusts their stamps
        os.utime(path, (1_600_000_000, 1_600_000_000))
    _build(root, ())
    return root


def test_a_one_post_edit_imports_no_process_pool_and_no_spelling_help(site: Path) -> None:
    edited = site / "content/posts/p2.md"
    edited.write_text(edited.read_text(encoding="utf-8") + "\nA sentence added.\n", encoding="utf-8")
    printed, loaded = _build(site, ("qsite.build", "jinja2", "markdown", *POOL, *MISTAKES, *COMMENTS))
    assert "nothing changed" not in printed
    assert "A sentence added." in (site / "output/posts/p2/index.html").read_text(encoding="utf-8")
    # the pipeline did run in this process (so the modules below were not missed for want of it)
    assert loaded == ["jinja2", "markdown", "qsite.build"]


def test_a_build_with_nothing_changed_makes_no_temporary_names(site: Path) -> None:
    printed, loaded = _build(site, ("qsite.incremental.fastpath", *POOL, *MISTAKES, *WRITING))
    assert "nothing changed" in printed
    assert loaded == ["qsite.incremental.fastpath"]


def test_the_pipeline_is_imported_with_the_garbage_collector_paused(site: Path) -> None:
    """Importing qsite.build makes thousands of lasting objects and little garbage: the
    collector's passes during it were ~8 ms of every build's start (qsite/cli.py run_build).
    A gc callback notes each pass that starts while qsite.build is being imported."""
    edited = site / "content/posts/p1.md"
    edited.write_text(edited.read_text(encoding="utf-8") + "\nAnother sentence.\n", encoding="utf-8")
    script = (
        "import gc, json, sys\n"
        "passes, during = [], []\n"
        "def seen(phase, info):\n"
        "    if phase == 'start':\n"
        "        passes.append(info['generation'])\n"
        "        module = sys.modules.get('qsite.build')\n"
        "        if module is not None and getattr(module.__spec__, '_initializing', False):\n"
        "            during.append(info['generation'])\n"
        "gc.callbacks.append(seen)\n"
        "from qsite.cli import main\n"
        f"code = main(['build', '--quiet', '--no-search', '--source', {str(site)!r}])\n"
        "print(json.dumps([len(passes), during, 'qsite.build' in sys.modules]))\n"
        "sys.exit(code)\n"
    )
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=TESTS, check=False,
                          timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    passes, during, imported = json.loads(proc.stdout.strip().splitlines()[-1])
    assert imported and passes > 0  # the pipeline ran, and the callback saw the collector work
    assert during == []


# XML 1.0's Char production, as the specification writes it (https://www.w3.org/TR/xml/#charsets).
XML_CHAR = ((0x9, 0x9), (0xA, 0xA), (0xD, 0xD), (0x20, 0xD7FF), (0xE000, 0xFFFD), (0x10000, 0x10FFFF))


def test_the_characters_xml_forbids_are_exactly_those_outside_its_char_production() -> None:
    """``render.XML_FORBIDDEN`` lists the forbidden characters (cheap to compile) instead of
    negating the allowed ranges (4.5 ms at every start): the same set, code point by code point."""
    from qsite.render import XML_FORBIDDEN

    every = "".join(map(chr, range(0x110000)))
    forbidden = {match.start() for match in XML_FORBIDDEN.finditer(every)}
    allowed = {c for low, high in XML_CHAR for c in range(low, high + 1)}
    assert forbidden == set(range(0x110000)) - allowed
    assert re.fullmatch(XML_FORBIDDEN, "\x0b") and not XML_FORBIDDEN.search("tab\tnewline\n\U0001f600")
