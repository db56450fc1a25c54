"""``python -m bench.memory --size N [--edit]``: where a qsite build's memory goes, step by step.

Issue 10 asks for a cold 20,000-post build (with the search index) under 600 MB at its peak,
and ``python -m bench`` reports only that peak: the largest resident size of the build's
process or of any process it started (``wait4``'s ``ru_maxrss``), which for forked workers
includes the pages they share with the parent. This builds a generated site
(bench/corpus.py) **in this process**, as ``qsite build`` would, and prints, after each
pipeline step (the functions in ``STEPS``, wrapped where ``qsite.build`` calls them):

* the parent's resident size now (``VmRSS``) and its peak so far (``VmHWM``): a peak above
  the resident size after the step means the step itself held more than it left behind;
* the largest resident size any worker process reached in that step, and how much of it was
  the worker's own (private, not shared with the parent: ``smaps_rollup``), read by each
  worker after each chunk of work it does (``parallel._call``, wrapped);
* the peak of ``getrusage(RUSAGE_CHILDREN)``: the largest process the build started and
  waited for (workers and Pagefind), which is what ``bench`` reports when above the parent's.

With ``--trace``, Python's own allocations are traced too (``tracemalloc``, in this process
only: use ``--jobs 1`` to see the workers' work), and the top allocation sites (by line) are
printed at the end of the step where traced memory was largest, with the traced peak. Tracing
doubles the memory and slows the build down about three times: the resident sizes of a
traced run are not the build's; run without ``--trace`` for those.

Modes: cold (``qsite clean`` first), or ``--edit``: a cold build in a separate process
first (not measured; ``--keep`` starts from the site's last build instead), then one sentence
appended to one post and that build measured.
Sites are generated once into ``--work`` and reused.
"""

from __future__ import annotations

import argparse
import functools
import os
import resource
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.corpus import generate
from qsite import THEME

MiB = 1024 * 1024

# (owner's dotted path, attribute): the pipeline steps, in order, wrapped where qsite.build
# finds them (a module-level name of qsite.build, or a method of a class).
STEPS: tuple[tuple[str, str], ...] = (
    ("qsite.build:Engine", "on_disk"),  # Cache.open
    ("qsite.build:Engine", "begin"),
    ("qsite.build", "read_content"),
    ("qsite.build:Engine", "content_read"),
    ("qsite.build", "make_site"),
    ("qsite.build", "group_site"),
    ("qsite.build", "plan"),
    ("qsite.build:Engine", "planned"),
    ("qsite.build", "static_outputs"),
    ("qsite.build", "media_outputs"),
    ("qsite.build", "check_paths"),
    ("qsite.build", "Renderer"),
    ("qsite.build", "render"),
    ("qsite.build", "index"),
    ("qsite.build:Stage", "commit"),
    ("qsite.build:Engine", "finish"),
    ("qsite.build:Engine", "record"),
)


def _status() -> dict[str, int]:
    """This process's VmRSS and VmHWM, in bytes."""
    found = {}
    with open("/proc/self/status", encoding="ascii") as f:
        for line in f:
            if line.startswith(("VmRSS:", "VmHWM:")):
                name, value, _unit = line.split()
                found[name[:-1]] = int(value) * 1024
    return found


def _private() -> int:
    """Bytes of this process's resident memory it shares with no other process."""
    total = 0
    with open("/proc/self/smaps_rollup", encoding="ascii") as f:
        for line in f:
            if line.startswith(("Private_Clean:", "Private_Dirty:")):
                total += int(line.split()[1]) * 1024
    return total


class Meter:
    """Resident sizes after each step, and what the workers reported during it."""

    def __init__(self, trace: bool, top: int):
        self.trace = trace
        self.top = top
        self.rows: list[tuple[str, float, dict[str, int], int, int, int]] = []
        self.reports = Path(tempfile.mkstemp(prefix="qsite-memory-", suffix=".txt")[1])
        self.read_to = 0
        self.start = time.perf_counter()
        self.largest: tuple[int, str, Any] | None = None  # (traced bytes, step, snapshot)
        self.depth = 0

    def worker_report(self) -> tuple[int, int]:
        """(largest RSS, its private part) a worker reported since the last step."""
        with self.reports.open(encoding="ascii") as f:
            f.seek(self.read_to)
            lines = f.readlines()
            self.read_to = f.tell()
        best = (0, 0)
        for line in lines:
            _pid, rss, private = (int(x) for x in line.split())
            best = max(best, (rss, private))
        return best

    def step(self, name: str) -> None:
        worker, private = self.worker_report()
        children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
        self.rows.append((name, time.perf_counter() - self.start, _status(), worker, private, children))
        if self.trace:
            current, _peak = tracemalloc.get_traced_memory()
            if self.largest is None or current > self.largest[0]:
                self.largest = (current, name, tracemalloc.take_snapshot())

    def wrap(self, name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(fn)
        def measured(*args: Any, **kwargs: Any) -> Any:
            self.depth += 1
            try:
                return fn(*args, **kwargs)
            finally:
                self.depth -= 1
                if self.depth == 0:  # a step called by another step is the outer one's
                    self.step(name)

        return measured

    def table(self) -> str:
        lines = [
            "| after step | s | parent RSS | parent peak so far | largest worker in step (private) | "
            "largest child so far |",
            "| --- | ---: | ---: | ---: | ---: | ---: |",
        ]
        for name, at, status, worker, private, children in self.rows:
            in_worker = f"{worker / MiB:.0f} ({private / MiB:.0f})" if worker else ""
            lines.append(
                f"| {name} | {at:.1f} | {status['VmRSS'] / MiB:.0f} | {status['VmHWM'] / MiB:.0f} | "
                f"{in_worker} | {children / MiB:.0f} |"
            )
        return "\n".join(lines)

    def allocations(self) -> str:
        if self.largest is None:
            return ""
        current, name, snapshot = self.largest
        _now, peak = tracemalloc.get_traced_memory()
        snapshot = snapshot.filter_traces((tracemalloc.Filter(False, tracemalloc.__file__),))
        stats = snapshot.statistics("lineno")
        lines = [f"Traced Python memory: largest after '{name}' {current / MiB:.0f} MiB; traced peak "
                 f"{peak / MiB:.0f} MiB. Top allocation sites then (held, blocks):"]
        for stat in stats[: self.top]:
            frame = stat.traceback[0]
            lines.append(f"  {stat.size / MiB:7.1f} MiB {stat.count:9,d}  {frame.filename}:{frame.lineno}")
        return "\n".join(lines)


def install(meter: Meter) -> None:
    """Wrap the steps, and the worker's entry point so each worker reports after each chunk."""
    import importlib

    from qsite import parallel

    for owner_path, attr in STEPS:
        module_name, _, cls = owner_path.partition(":")
        owner = importlib.import_module(module_name)
        if cls:
            owner = getattr(owner, cls)
            raw = owner.__dict__[attr]
            if isinstance(raw, classmethod):
                setattr(owner, attr, classmethod(meter.wrap(f"{cls}.{attr}", raw.__func__)))
                continue
            setattr(owner, attr, meter.wrap(f"{cls}.{attr}", raw))
        else:
            setattr(owner, attr, meter.wrap(attr, getattr(owner, attr)))
    reports = str(meter.reports)
    call = parallel._call

    def reporting_call(fn: Callable[..., Any], chunk: Any) -> Any:
        result = call(fn, chunk)
        line = f"{os.getpid()} {_status()['VmHWM']} {_private()}\n"
        with open(reports, "a", encoding="ascii") as f:  # one small append: whole lines
            f.write(line)
        return result

    # sent to the workers by name: found again there, in the forked copy of this module
    reporting_call.__qualname__ = reporting_call.__name__ = "_reporting_call"
    reporting_call.__module__ = __name__
    globals()["_reporting_call"] = reporting_call
    parallel._call = reporting_call


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.memory", description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=5000, help="posts (default 5000)")
    parser.add_argument("--edit", action="store_true", help="measure a one-post edit after a cold build")
    parser.add_argument("--no-search", action="store_true")
    parser.add_argument("--jobs", type=int, default=None, help="worker processes (default: one per core, as bench)")
    parser.add_argument("--trace", action="store_true", help="also trace Python's allocations (slow)")
    parser.add_argument("--top", type=int, default=25, help="allocation sites printed with --trace")
    parser.add_argument("--seed", type=int, default=2020)
    parser.add_argument("--keep", action="store_true", help="--edit: start from the site's last build if it has one")
    parser.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)  # the measured process
    parser.add_argument("--work", type=Path, default=Path(os.environ.get("TMPDIR", "/tmp")) / "qsite-memory")
    args = parser.parse_args(argv)

    if args.measure:
        return measure(args)
    import subprocess

    from qsite.build import clean

    site = args.work / f"posts-{args.size}"
    if not (site / "site.yaml").is_file():
        generate(site, args.size, seed=args.seed, templates=THEME)
    extra = ["--no-search"] if args.no_search else []
    if args.jobs:
        extra += ["--jobs", str(args.jobs)]
    if not args.keep:
        clean(site)
    if args.edit and not (args.keep and (site / "output").is_dir()):  # an editor's warm state, in its own process
        cmd = [sys.executable, "-m", "qsite", "build", "--quiet", "--source", str(site), *extra]
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    if args.edit:
        post = sorted((site / "content" / "posts").glob("*.md"))[args.size // 2]
        with post.open("a", encoding="utf-8") as f:
            f.write(f"\nOne more sentence, added by bench.memory ({time.time_ns()}).\n")
    # measured in a fresh process, whose children are only the build's
    argv = [a for a in (argv if argv is not None else sys.argv[1:])]
    return subprocess.run([sys.executable, "-m", "bench.memory", *argv, "--measure"]).returncode


def measure(args: argparse.Namespace) -> int:
    """The build itself, in this process, with the steps wrapped."""
    from qsite.build import Options, build

    site = args.work / f"posts-{args.size}"
    meter = Meter(args.trace, args.top)
    install(meter)
    if args.trace:
        tracemalloc.start()
    meter.step("start (imports)")
    try:
        result = build(site, Options(jobs=args.jobs, search=not args.no_search))
    finally:
        meter.reports.unlink()
    print(f"# qsite build, {'one-post edit' if args.edit else 'cold'}, {args.size:,} posts, search "
          f"{'off' if args.no_search else 'on'}, --jobs {args.jobs or 'default'}{', traced' if args.trace else ''}: "
          f"{result.pages:,} pages planned, {result.pages - result.cache_hits:,} rendered\n")
    print("Resident sizes in MiB.\n")
    print(meter.table())
    if args.trace:
        print("\n" + meter.allocations())
    usage = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
    print(f"\nPeak: this process {usage / MiB:.0f} MiB, largest child {children / MiB:.0f} MiB; "
          f"bench reports the larger, {max(usage, children) / MiB:.0f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
