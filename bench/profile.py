"""``python -m bench.profile cold|edit``: where a qsite build spends its time, by step and by function.

Issue 10 asks why a cold 1,000-post build renders its ~1,860 pages so slowly, and which costs
of a one-post edit grow with the size of the site. This builds a generated site (bench/corpus.py)
**in this process** with ``--jobs 1`` — so that the profile sees the work the worker processes
would otherwise do — and prints:

* the build's own stage timings (``BuildResult.timings``) without the profiler, best of
  ``--repeat`` builds, and the wall time of each;
* step timers: the wall and CPU time of each pipeline function in ``STEPS`` that exists in this
  version of qsite, and of rendering each template, in the fastest of those builds;
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
so their absolute seconds are not the build's: read their shares, and the step timers. Those
wrap only the pipeline functions (a microsecond a call), so they time the build as it runs, in
wall and CPU time: on a machine busy with other work, the CPU time is the steadier of the two.
(cProfile on CPU time would be steadier still, but reading the CPU clock at every call makes
it ten times slower, which skews the shares towards code making many small calls.)
"""

from __future__ import annotations

import argparse
import cProfile
import functools
import inspect
import io
import os
import pstats
import re
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.corpus import generate
from qsite import THEME

REPO = Path(__file__).resolve().parent.parent

# Pipeline functions by (module file's name, function name), in pipeline order: whichever
# exist in this version of qsite are reported, with their cumulative time.
STEPS: tuple[tuple[str, str, str], ...] = (
    ("fastpath.py", "snapshot_sources", "stat every source (no-change shortcut)"),
    ("fastpath.py", "configure", "read site.yaml"),
    ("cache.py", "Cache.open", "open the cache: load parsed files, bodies, pages"),
    ("content.py", "find_content", "walk content/"),
    ("cache.py", "Cache.known_digest", "stat each file, look up its hash"),
    ("cache.py", "Cache.hash_file", "hash a changed file"),
    ("build.py", "_parse_chunk", "read and parse front matter"),
    ("model.py", "read_meta", "validate front matter"),
    ("digest.py", "read_curations", "read digest editions"),
    ("comments.py", "read_comments", "read comments"),
    ("build.py", "_markdown_chunk", "Markdown → HTML"),
    ("model.py", "make_post", "make posts"),
    ("grouping.py", "group", "group: themes, tags, archive, related"),
    ("digest.py", "assemble", "assemble digest editions"),
    ("render.py", "Renderer.__init__", "Renderer: Jinja environment and globals"),
    ("render.py", "plan", "plan pages"),
    ("digest.py", "plan", "plan digest pages"),
    ("engine.py", "Engine.pages", "decide which pages to render (page keys, keep the rest)"),
    ("cache.py", "traced_page_key", "page keys (hash each page's inputs)"),
    ("write.py", "Stage.keep", "keep an unchanged page in the next tree"),
    ("build.py", "_render_chunk", "render pages (Jinja)"),
    ("digest.py", "finish", "finish emails (inline CSS)"),
    ("write.py", "Stage.put", "stage output files"),
    ("search.py", "index_stage", "search index (Pagefind)"),
    ("search.py", "_run_pagefind", "…of which the Pagefind runs (threads)"),
    ("write.py", "Stage._assemble", "assemble the next tree (from the spare)"),
    ("write.py", "Stage.commit", "commit the stage"),
    ("cache.py", "Cache.save", "save the cache"),
    ("fastpath.py", "record", "record the no-change shortcut"),
)


def qsite_modules() -> list[Any]:
    import qsite.build
    import qsite.cli  # noqa: F401  (imports the rest of qsite)

    return [m for n, m in list(sys.modules.items()) if n.startswith("qsite.") and m is not None]


def resolve(file: str, dotted: str) -> list[tuple[Any, type | None, str, Callable[..., Any]]]:
    """(module, class or None, name, function) for ``dotted`` (``name`` or ``Class.name``) in the
    qsite module whose file is ``file``; [] if this version of qsite has no such function."""
    *cls_name, name = dotted.split(".")
    found = []
    for module in qsite_modules():
        if Path(getattr(module, "__file__", "") or "").name != file:
            continue
        owner = getattr(module, cls_name[0], None) if cls_name else module
        if owner is None:
            continue
        raw = vars(owner).get(name)
        fn = raw.__func__ if isinstance(raw, classmethod | staticmethod) else raw
        if inspect.isfunction(fn) and fn.__module__ == module.__name__:
            found.append((module, owner if cls_name else None, name, inspect.unwrap(fn)))
    return found


class StepTimers:
    """Wall and CPU time of each pipeline function in ``STEPS`` (inclusive of what it calls),
    and of ``Renderer.render`` by template: wrappers put in place of the functions, in their
    own module and wherever another qsite module imported them by name."""

    def __init__(self) -> None:
        self.wall: dict[str, float] = defaultdict(float)
        self.cpu: dict[str, float] = defaultdict(float)
        self.calls: dict[str, int] = defaultdict(int)
        self.depth: dict[str, int] = defaultdict(int)
        self.order: list[str] = []

    def reset(self) -> None:
        self.wall.clear()
        self.cpu.clear()
        self.calls.clear()

    def _wrap(self, label: str, fn: Callable[..., Any], by_template: bool = False) -> Callable[..., Any]:
        timers = self

        @functools.wraps(fn)
        def timed(*args: Any, **kwargs: Any) -> Any:
            key = label
            if by_template and len(args) > 1 and hasattr(args[1], "template"):
                key = f"{label} {args[1].template}"
            if timers.depth[key]:  # a recursive call: counted by the outer one
                return fn(*args, **kwargs)
            timers.depth[key] += 1
            wall, cpu = time.perf_counter(), time.process_time()
            try:
                return fn(*args, **kwargs)
            finally:
                timers.wall[key] += time.perf_counter() - wall
                timers.cpu[key] += time.process_time() - cpu
                timers.calls[key] += 1
                timers.depth[key] -= 1

        return timed

    def install(self) -> None:
        steps = [*STEPS, ("render.py", "Renderer.render", "render")]
        for file, dotted, what in steps:
            label = f"{file[:-3]}.{dotted}: {what}" if what != "render" else "render one page:"
            for _module, owner, name, fn in resolve(file, dotted):
                if owner is None:
                    timed = self._wrap(label, fn)
                    for other in qsite_modules():
                        for attr, value in list(vars(other).items()):
                            if value is fn:
                                setattr(other, attr, timed)
                else:
                    raw = vars(owner)[name]
                    timed = self._wrap(label, fn, by_template=what == "render")
                    if isinstance(raw, classmethod):
                        timed = classmethod(timed)
                    elif isinstance(raw, staticmethod):
                        timed = staticmethod(timed)
                    setattr(owner, name, timed)
                self.order.append(label)

    def table(self) -> str:
        lines = ["| step (inclusive) | calls | wall s | CPU s |", "| --- | ---: | ---: | ---: |"]
        keys = [k for k in self.order if k in self.wall]
        keys += sorted((k for k in self.wall if k not in keys), key=lambda k: -self.cpu[k])
        for key in dict.fromkeys(keys):
            lines.append(f"| {key} | {self.calls[key]} | {self.wall[key]:.3f} | {self.cpu[key]:.3f} |")
        return "\n".join(lines)


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
    lines = [f"Profiled total: {total:.2f} s (wall clock, inflated by the profiler)", ""]
    lines += ["Pipeline functions (cumulative, including what they call):", ""]
    lines += ["| step | function | calls | seconds | share |", "| --- | --- | ---: | ---: | ---: |"]
    for file, dotted, what in STEPS:
        where = {(fn.__code__.co_filename, fn.__code__.co_firstlineno) for *_, fn in resolve(file, dotted)}
        name = dotted.split(".")[-1]
        hits = [(v[1], v[3]) for (f, line, n), v in raw.items() if n == name and (f, line) in where]
        if hits:
            calls = sum(h[0] for h in hits)
            seconds = sum(h[1] for h in hits)
            lines.append(f"| {what} | {file[:-3]}.{dotted} | {calls} | {seconds:.3f} | {seconds / total:.0%} |")
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
        generate(site, size, seed=args.seed, templates=THEME)
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
    timers = StepTimers()
    timers.install()
    best_table = ""
    for _ in range(args.repeat):
        prepare()
        timers.reset()
        start, cpu = time.perf_counter(), time.process_time()
        result = quiet_build(site, options)
        walls.append(time.perf_counter() - start)
        cpus.append(time.process_time() - cpu)
        if best is None or walls[-1] == min(walls):
            best = dict(result.timings)
            best_table = timers.table()
        print(f"  unprofiled build: {walls[-1]:.2f} s (CPU {cpus[-1]:.2f} s), {result.pages} pages planned, "
              f"{result.pages - result.cache_hits} rendered", file=sys.stderr)
    if best is not None:
        stages = ", ".join(f"{k} {v:.3f} s" for k, v in best.items())
        print(f"Unprofiled, in-process after imports: wall {', '.join(f'{w:.2f}' for w in walls)} s, "
              f"CPU of this process {', '.join(f'{c:.2f}' for c in cpus)} s (children such as Pagefind not "
              f"included); wall stages of the fastest: {stages}\n")
        print(f"Step timers of the fastest build (jobs {args.jobs}: work done in worker processes is not seen):\n")
        print(best_table + "\n")

    prepare()
    profile = cProfile.Profile()
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
