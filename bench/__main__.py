"""``python -m bench`` (or ``make bench``): time qsite on generated sites and print a Markdown table.

For each size it generates the seeded corpus (bench/corpus.py) and, for several runs, times
``qsite build`` as a separate process, as an editor or CI would run it:

* cold build: after ``qsite clean`` (no output, no cache);
* no-change rebuild: the same site again;
* one-post edit: a sentence appended to one post;
* a later one-post edit: another sentence appended to the same post (the first edit follows a
  cold build; this one shows an editor's later saves);
* one-template edit: a comment added to templates/post.html (every post page uses it);
* ``qsite serve``: from saving a post to the reload event and to the edited page being served
  (bench/serve.py), on the ``--serve-size`` site;
* with ``--pelican``: Pelican 4.12's cold build of the same posts (bench/pelican.py), each run
  interleaved with qsite's cold builds without and with the search index, so that the machine's
  load at the time weighs on all three alike; the speed-up is Pelican's time over qsite's.

Reported: the median with min and max, and the peak resident memory of the cold build (the
largest single process, from ``wait4``'s rusage, which covers the worker processes too).
Timings depend on the machine and on what else it is running; the table says which machine.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from datetime import date
from pathlib import Path

from bench import pelican
from bench.corpus import generate
from bench.serve import measure_serve, ms
from qsite import THEME

REPO = Path(__file__).resolve().parent.parent


def run_build(site: Path, jobs: int | None, extra: tuple[str, ...] = ()) -> tuple[float, int, float]:
    """(seconds, peak RSS in bytes, CPU seconds) of one ``qsite build`` in its own process. The
    CPU time (user + system, workers included) does not grow when other processes compete
    for the cores, so it tells the work done on a busy machine, where wall times scatter."""
    cmd = [sys.executable, "-m", "qsite", "build", "--quiet", "--source", str(site), *extra]
    if jobs:
        cmd += ["--jobs", str(jobs)]
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=site, stdout=subprocess.DEVNULL)
    _pid, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"qsite build failed in {site} (exit {proc.returncode})")
    return elapsed, usage.ru_maxrss * 1024, usage.ru_utime + usage.ru_stime  # Linux reports kilobytes


def cache_bytecode(work: Path) -> bool:
    """Let the measured processes keep qsite's compiled bytecode, as an installed qsite has it
    (pip compiles it on install). Where the shell sets PYTHONDONTWRITEBYTECODE, every build
    would otherwise compile qsite's own modules again: ~30 ms of CPU before a no-change build
    even starts (its imports, about a fifth of it at 1,000 posts), and again in each worker
    that imports more. The bytecode goes into ``work/pycache`` (PYTHONPYCACHEPREFIX), written
    by the first build, not into the source tree. Returns whether it was needed."""
    if not os.environ.get("PYTHONDONTWRITEBYTECODE"):
        return False
    del os.environ["PYTHONDONTWRITEBYTECODE"]
    os.environ["PYTHONPYCACHEPREFIX"] = str(work / "pycache")
    return True


def clean(site: Path) -> None:
    cmd = [sys.executable, "-m", "qsite", "clean", "--source", str(site)]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)


def measure(site: Path, runs: int, jobs: int | None, extra: tuple[str, ...] = ()) -> dict[str, list[float]]:
    results: dict[str, list[float]] = {
        "cold": [], "nochange": [], "edit": [], "template": [], "later": [], "memory": []
    }
    posts = sorted((site / "content" / "posts").glob("*.md"))
    post = posts[len(posts) // 2]
    template = site / "templates" / "post.html"
    for run in range(runs):
        clean(site)
        seconds, rss, _cpu = run_build(site, jobs, extra)
        results["cold"].append(seconds)
        results["memory"].append(rss)
        results["nochange"].append(run_build(site, jobs, extra)[0])
        with post.open("a", encoding="utf-8") as f:
            f.write(f"\nOne more sentence, added by benchmark run {run}.\n")
        results["edit"].append(run_build(site, jobs, extra)[0])
        with post.open("a", encoding="utf-8") as f:  # the next save: what an editor's later saves cost
            f.write(f"\nAnd one more, added by benchmark run {run}.\n")
        results["later"].append(run_build(site, jobs, extra)[0])
        text = template.read_text(encoding="utf-8")
        text = text.replace("{% block main %}", f"{{% block main %}}<!-- bench {run} -->", 1)
        template.write_text(text, encoding="utf-8")
        results["template"].append(run_build(site, jobs, extra)[0])
        times = ", ".join(f"{k} {v[-1]:.2f} s" for k, v in results.items() if k != "memory")
        print(f"  {site.name} run {run + 1}/{runs}: {times}, {rss / 2**20:.0f} MiB", file=sys.stderr)
    return results


def compare_pelican(
    site: Path, project: Path, exe: Path, runs: int, jobs: int | None
) -> dict[str, list[float]]:
    """Cold builds, run by run: Pelican, qsite ``--no-search``, qsite with the search index."""
    results: dict[str, list[float]] = defaultdict(list)
    for run in range(runs):
        seconds, rss, cpu = pelican.cold_build(exe, project)
        results["pelican"].append(seconds)
        results["pelican_cpu"].append(cpu)
        results["pelican_memory"].append(rss)
        for name, extra in (("nosearch", ("--no-search",)), ("search", ())):
            clean(site)
            seconds, _rss, cpu = run_build(site, jobs, extra)
            results[name].append(seconds)
            results[f"{name}_cpu"].append(cpu)
        print(f"  {site.name} run {run + 1}/{runs}: " + ", ".join(
            f"{name} {results[name][-1]:.2f} s (CPU {results[name + '_cpu'][-1]:.2f} s)"
            for name in ("pelican", "nosearch", "search")), file=sys.stderr)
    return results


def speedup(pelican_times: list[float], qsite_times: list[float]) -> str:
    """The median of each run's Pelican time over qsite's (min–max), and qsite's time as a
    fraction of Pelican's: a run's two builds saw the same load, so their ratio is steadier."""
    ratios = [p / q for p, q in zip(pelican_times, qsite_times, strict=True)]
    return (f"{statistics.median(ratios):.2f}× ({min(ratios):.2f}–{max(ratios):.2f}; "
            f"qsite/Pelican {1 / statistics.median(ratios):.2f})")


def cell(values: list[float], unit: str = "s") -> str:
    if unit == "MiB":
        values = [v / 2**20 for v in values]
        return f"{statistics.median(values):.0f} MiB ({min(values):.0f}–{max(values):.0f})"
    return f"{statistics.median(values):.2f} s ({min(values):.2f}–{max(values):.2f})"


def machine() -> str:
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return f"{model}, {cores} cores, {platform.system()} {platform.release()}, Python {platform.python_version()}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 5000],
                        help="post counts (default: 1000 5000; 20000 works too, at minutes per cold build)")
    parser.add_argument("--runs", type=int, default=3, help="runs per measurement; the median is reported (default: 3)")
    parser.add_argument("--jobs", type=int, default=None, help="passed to qsite build --jobs (default: one per core)")
    parser.add_argument("--no-search", action="store_true", help="build with --no-search (no Pagefind index)")
    parser.add_argument("--seed", type=int, default=2020)
    parser.add_argument("--work", type=Path, default=None, help="where to generate the sites (default: a temp folder)")
    parser.add_argument("--serve-size", type=int, default=1000, help="posts for the qsite serve measurement (0: skip)")
    parser.add_argument("--serve-edits", type=int, default=7, help="edits timed in qsite serve (default: 7)")
    parser.add_argument("--pelican", action="store_true",
                        help="also time Pelican 4.12's cold build of the same posts (installed in a venv of its own)")
    parser.add_argument("--pelican-venv", type=Path, default=None,
                        help="the venv with Pelican, made there if missing (default: pelican-venv in the work folder)")
    args = parser.parse_args(argv)

    work = args.work or Path(tempfile.mkdtemp(prefix="qsite-bench-"))
    load_before = os.getloadavg()[0]  # other work on the machine: timings mean little above its cores
    bytecode = "; bytecode cached in the work folder (PYTHONDONTWRITEBYTECODE lifted)" if cache_bytecode(work) else ""
    exe: Path | None = None
    versions = ""
    if args.pelican:
        found = pelican.ensure(args.pelican_venv or work / "pelican-venv")
        if isinstance(found, str):
            print(f"Pelican skipped: {found}", file=sys.stderr)
        else:
            exe, versions = found
    rows = []
    comparisons: list[str] = []
    cpu_rows: list[str] = []
    for size in args.sizes:
        site = generate(work / f"posts-{size}", size, seed=args.seed, templates=THEME)
        print(f"Generated {size} posts in {site}", file=sys.stderr)
        if exe is not None:
            project = pelican.convert(site, work / f"pelican-{size}")
            c = compare_pelican(site, project, exe, args.runs, args.jobs)
            comparisons.append(
                f"| {size:,} | {cell(c['pelican'])} | {cell(c['nosearch'])} | {speedup(c['pelican'], c['nosearch'])} "
                f"| {cell(c['search'])} | {speedup(c['pelican'], c['search'])} | {cell(c['pelican_memory'], 'MiB')} |"
            )
            cpu_rows.append(
                f"| {size:,} | {cell(c['pelican_cpu'])} | {cell(c['nosearch_cpu'])} "
                f"| {speedup(c['pelican_cpu'], c['nosearch_cpu'])} | {cell(c['search_cpu'])} "
                f"| {speedup(c['pelican_cpu'], c['search_cpu'])} |"
            )
        r = measure(site, args.runs, args.jobs, ("--no-search",) if args.no_search else ())
        rows.append(
            f"| {size:,} | {cell(r['cold'])} | {cell(r['nochange'])} | {cell(r['edit'])} | {cell(r['later'])} "
            f"| {cell(r['template'])} | {cell(r['memory'], 'MiB')} |"
        )
    print(f"Measured {date.today().isoformat()} on {machine()}; median of {args.runs} runs (min–max), "
          f"`qsite build --jobs {args.jobs or 'default'}{' --no-search' if args.no_search else ''}`, "
          f"corpus seed {args.seed}, {'no search index' if args.no_search else 'Pagefind search index included'}; "
          f"load average {load_before:.1f} at the start, {os.getloadavg()[0]:.1f} at the end{bytecode}.\n")
    print("| posts | cold build | no-change rebuild | one-post edit | the next one-post edit "
          "| one-template edit (post.html) | peak memory |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for row in rows:
        print(row)
    if comparisons:
        print(f"\nCold builds against {versions} (`pelican content`, one process, theme notmyidea, "
              f"no content cache; bench/pelican.py), interleaved run by run; speed-up = Pelican's time ÷ qsite's, "
              f"median of the runs' ratios (min–max):\n")
        print("| posts | Pelican cold | qsite cold, no search | speed-up | qsite cold, with search | speed-up "
              "| Pelican peak memory |")
        print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
        for row in comparisons:
            print(row)
        print("\nThe same builds' CPU time (user + system, qsite's workers and Pagefind included): the work "
              "done, whatever else the machine ran; qsite's wall time gains over it from its second core.\n")
        print("| posts | Pelican CPU | qsite CPU, no search | ratio | qsite CPU, with search | ratio |")
        print("| ---: | ---: | ---: | ---: | ---: | ---: |")
        for row in cpu_rows:
            print(row)
    if args.serve_size:
        folder = work / f"posts-{args.serve_size}"
        site = generate(folder, args.serve_size, seed=args.seed, templates=THEME)
        serve = measure_serve(site, args.serve_edits)
        print(f"\n`qsite serve` with {args.serve_size:,} posts, median of {args.serve_edits} edits (min–max): "
              f"saving a post to the reload event {ms(serve['event'])}, "
              f"to the edited page served {ms(serve['shown'])}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
