"""``python -m bench.profile cold|edit``: where a qsite build spends its time, by step and by function.

Issue 10 asks why a cold 1,000-post build renders its ~1,860 pages so slowly, and which costs
of a one-post edit grow with the size of the site. This builds a generated site (bench/corpus.py)
**in this process** with ``--jobs 1`` — so that the profile sees the work the worker processes
would otherwise do — and prints:

* the build's own stage timings (``BuildResult.timings``) without the profiler, best of
  ``--repeat`` builds, and the wall time of each;
* under cProfile: the cumulative time of each pipeline function that exists in this version
  of qsite (looked up by name, so the script survives the redesign), the time spent in each
  library or qsite module (own time, summed by file), and the top functions by own time;
* with ``--pyinstrument`` (if installed: ``pip install pyinstrument`` into your venv, it is not
  a qsite dependency), pyinstrument's call tree, which costs less than cProfile per call;
* for ``edit``, also the cost of starting Python and importing qsite (``-X importtime``).

Modes:

* ``cold``: ``qsite clean`` then a build (``--no-search`` to leave out Pagefind);
* ``edit``: a warm build first (not profiled), then a sentence appended to one post and a
  build of that, profiled — each repeat appends one more sentence.

Profilers slow Python code down (cProfile by 1.5–2×, much more for code making many small calls),
so their absolute seconds are not the build's: read their shares, and the unprofiled timings.
cProfile here counts this process's CPU time, not wall time, so a machine busy with other work
does not blur the shares (but time spent waiting for I/O or for Pagefind's processes is not seen:
the unprofiled wall and CPU times show how much that is).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import re
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from bench.corpus import generate

REPO = Path(__file__).resolve().parent.parent

# Pipeline functions by (module file's name, function name), in pipeline order: whichever
# exist in this version of qsite are reported, with their cumulative time.
STEPS: tuple[tuple[str, str, str], ...] = (
    ("fastpath.py", "snapshot_sources", "stat every source (no-change shortcut)"),
    ("fastpath.py", "configure", "read site.yaml"),
    ("cache.py", "open", "open the cache: load parsed files, bodies, pages"),
    ("content.py", "find_content", "walk content/"),
    ("cache.py", "known_digest", "stat each file, look up its hash"),
    ("cache.py", "hash_file", "hash a changed file"),
    ("build.py", "_parse_chunk", "read and parse front matter"),
    ("model.py", "read_meta", "validate front matter"),
    ("digest.py", "read_curations", "read digest editions"),
    ("comments.py", "read_comments", "read comments"),
    ("build.py", "_markdown_chunk", "Markdown → HTML"),
    ("model.py", "make_post", "make posts"),
    ("grouping.py", "group", "group: themes, tags, archive, related"),
    ("digest.py", "assemble", "assemble digest editions"),
    ("render.py", "__init__", "Renderer: Jinja environment and globals"),
    ("render.py", "plan", "plan pages"),
    ("digest.py", "plan", "plan digest pages"),
    ("cache.py", "page_key", "page keys (hash each page's inputs)"),
    ("build.py", "_render_chunk", "render pages (Jinja)"),
    ("digest.py", "finish", "finish emails (inline CSS)"),
    ("write.py", "put", "stage output files"),
    ("search.py", "index_stage", "search index (Pagefind)"),
    ("search.py", "_run_pagefind", "…of which the Pagefind runs (threads)"),
    ("write.py", "commit", "commit the stage"),
    ("cache.py", "save", "save the cache"),
    ("fastpath.py", "record", "record the no-change shortcut"),
)


def _category(filename: str) -> str:
    """Which library or qsite module a profiled function belongs to."""
    if filename.startswith("~") or filename.startswith("<"):
        return "built-ins (C: hashing, pickling, I/O, str ops)"
    parts = Path(filename).parts
    if "qsite" in parts:
        return "qsite/" + parts[-1]
    if "site-packages" in parts:
        return parts[parts.index("site-packages") + 1].split(".")[0]
    if filename.endswith((".html", ".xml", ".txt")):
        return "compiled templates (Jinja's generated code)"
    if "python3" in filename or "lib/python" in filename:
        return "stdlib/" + parts[-1]
    return filename


def quiet_build(root: Path, options: Any) -> Any:
    from qsite.build import build

    return build(root, options)


def report(profile: cProfile.Profile, top: int) -> str:
    out = io.StringIO()
    stats = pstats.Stats(profile, stream=out)
    raw: dict[tuple[str, int, str], Any] = stats.stats  # type: ignore[attr-defined]
    total = max((ct for (_cc, _nc, _tt, ct, _callers) in raw.values()), default=0.0)
    lines = [f"Profiled total: {total:.2f} s of this process's CPU time (inflated by the profiler;"
             " waiting for a child process, such as Pagefind, costs none)", ""]
    lines += ["Pipeline functions (cumulative, including what they call):", ""]
    lines += ["| step | function | calls | seconds | share |", "| --- | --- | ---: | ---: | ---: |"]
    for file, name, what in STEPS:
        hits = [(v[1], v[3]) for (f, _line, n), v in raw.items() if n == name and Path(f).name == file
                and "qsite" in Path(f).parts]
        if hits:
            calls = sum(h[0] for h in hits)
            seconds = sum(h[1] for h in hits)
            lines.append(f"| {what} | {file[:-3]}.{name} | {calls} | {seconds:.3f} | {seconds / total:.0%} |")
    by_category: dict[str, float] = defaultdict(float)
    for (f, _line, _name), (_cc, _nc, tt, _ct, _callers) in raw.items():
        by_category[_category(f)] += tt
    lines += ["", "Own time by library or module (excluding what they call):", ""]
    lines += ["| where | seconds | share |", "| --- | ---: | ---: |"]
    for where, seconds in sorted(by_category.items(), key=lambda kv: -kv[1])[:top]:
        lines.append(f"| {where} | {seconds:.3f} | {seconds / total:.0%} |")
    lines += ["", f"Top {top} functions by own time:", "", "```"]
    stats.sort_stats("tottime").print_stats(top)
    text = out.getvalue()
    body = text[text.find("   ncalls"):] if "   ncalls" in text else text
    lines += [re.sub(r"/\S*/(site-packages|qsite)/", r"\1/", line) for line in body.strip().splitlines()]
    lines.append("```")
    return "\n".join(lines)


def import_time() -> str:
    """Seconds to start Python and import what ``qsite build`` imports, and the slowest imports."""
    cmd = [sys.executable, "-X", "importtime", "-c", "import qsite.cli, qsite.build"]
    best = float("inf")
    stderr = ""
    for _ in range(3):
        start = time.perf_counter()
        run = subprocess.run(cmd, capture_output=True, text=True, check=True)
        best = min(best, time.perf_counter() - start)
        stderr = run.stderr
    rows = []
    for line in stderr.splitlines():
        found = re.match(r"import time:\s+(\d+) \|\s+(\d+) \|(\s*)(\S+)", line)
        if found and len(found.group(3)) <= 3:  # top-level imports only
            rows.append((int(found.group(2)) / 1e6, found.group(4)))
    slowest = ", ".join(f"{name} {sec * 1000:.0f} ms" for sec, name in sorted(rows, reverse=True)[:8])
    return f"Python start + `import qsite.cli, qsite.build`: {best:.3f} s (best of 3, with -X importtime); {slowest}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.profile", description=__doc__.split("\n\n")[0])
    parser.add_argument("mode", choices=("cold", "edit"))
    parser.add_argument("--size", type=int, default=None, help="posts (default: 1000 cold, 5000 edit)")
    parser.add_argument("--no-search", action="store_true")
    parser.add_argument("--jobs", type=int, default=1, help="worker processes (default 1: profile sees all work)")
    parser.add_argument("--repeat", type=int, default=3, help="unprofiled builds timed (default 3)")
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--pyinstrument", action="store_true", help="also print pyinstrument's call tree")
    parser.add_argument("--seed", type=int, default=2020)
    parser.add_argument("--work", type=Path, default=Path(os.environ.get("TMPDIR", "/tmp")) / "qsite-profile")
    args = parser.parse_args(argv)
    size = args.size or (1000 if args.mode == "cold" else 5000)

    from qsite.build import Options, clean

    site = args.work / f"posts-{size}"
    if not (site / "site.yaml").is_file():
        generate(site, size, seed=args.seed, templates=REPO / "templates")
    options = Options(jobs=args.jobs, search=not args.no_search)
    posts = sorted((site / "content" / "posts").glob("*.md"))
    edits = [0]

    def prepare() -> None:
        if args.mode == "cold":
            clean(site)
        else:
            if not (site / "output").is_dir():
                quiet_build(site, options)  # the warm state an editor has
            edits[0] += 1
            with posts[len(posts) // 2].open("a", encoding="utf-8") as f:
                f.write(f"\nOne more sentence, added by the profiler ({edits[0]}, {time.time_ns()}).\n")

    print(f"# qsite {args.mode} build, {size:,} posts, search {'off' if args.no_search else 'on'}, "
          f"--jobs {args.jobs}, in one process\n")
    if args.mode == "edit":
        print(import_time() + "\n")
    best: dict[str, float] | None = None
    walls: list[float] = []
    cpus: list[float] = []
    for _ in range(args.repeat):
        prepare()
        start, cpu = time.perf_counter(), time.process_time()
        result = quiet_build(site, options)
        walls.append(time.perf_counter() - start)
        cpus.append(time.process_time() - cpu)
        if best is None or walls[-1] == min(walls):
            best = dict(result.timings)
        print(f"  unprofiled build: {walls[-1]:.2f} s (CPU {cpus[-1]:.2f} s), {result.pages} pages planned, "
              f"{result.pages - result.cache_hits} rendered", file=sys.stderr)
    if best is not None:
        stages = ", ".join(f"{k} {v:.3f} s" for k, v in best.items())
        print(f"Unprofiled, in-process after imports: wall {', '.join(f'{w:.2f}' for w in walls)} s, "
              f"CPU of this process {', '.join(f'{c:.2f}' for c in cpus)} s (children such as Pagefind not "
              f"included); wall stages of the fastest: {stages}\n")

    prepare()
    profile = cProfile.Profile(time.process_time)  # CPU time: other processes' load does not count
    profile.enable()
    quiet_build(site, options)
    profile.disable()
    print(report(profile, args.top))

    if args.pyinstrument:
        try:
            from pyinstrument import Profiler
        except ImportError:
            print("\npyinstrument is not installed here: pip install pyinstrument", file=sys.stderr)
            return 0
        prepare()
        profiler = Profiler(interval=0.001)
        profiler.start()
        quiet_build(site, options)
        profiler.stop()
        print("\npyinstrument call tree:\n\n```")
        print(profiler.output_text(unicode=True, color=False, show_all=False).strip())
        print("```")
    return 0


if __name__ == "__main__":
    sys.exit(main())
