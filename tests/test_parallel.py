"""qsite/parallel.py: work spread over forked workers comes back in order, and the workers'
garbage collector leaves alone what they inherited (issue 10: the cost of parallel builds)."""

from __future__ import annotations

import json
import subprocess
import sys

from conftest import NOW, TINY_BASE, post, write_files

# Run in a fresh interpreter: a pool is only forked from a process with one thread, and other
# tests (serve's) leave threads behind in this one.
SCRIPT = """
import gc, json, os
from qsite import parallel

def where(_state, chunk):
    return [(item, os.getpid(), gc.get_freeze_count()) for item in chunk]

parallel.MIN_PARALLEL = 1
held = [{"post": i} for i in range(10_000)]  # what a parent holds when it forks: the model
workers = parallel.Workers(2)
results = list(workers.map(where, list(range(200))))
print(json.dumps({"results": results, "parent": os.getpid(), "held": len(held),
                  "batches": workers.parallel_batches, "frozen_after": gc.get_freeze_count()}))
"""


def test_workers_return_results_in_order_and_never_collect_the_parents_objects() -> None:
    proc = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    results = report["results"]
    assert report["batches"] == 1
    assert [item for item, _pid, _frozen in results] == list(range(200))
    assert all(pid != report["parent"] for _item, pid, _frozen in results)
    # everything inherited is out of the collector's sight in the workers …
    assert all(frozen >= report["held"] for _item, _pid, frozen in results)
    # … and back in it in the parent once the workers are done
    assert report["frozen_after"] == 0


PAUSED = """
import gc, json
from qsite import parallel

def collector(_state, chunk):
    return [gc.isenabled() for _ in chunk]

parallel.MIN_PARALLEL = 1
seen = {}

@parallel.collector_paused()
def build():
    seen["during"] = gc.isenabled()
    seen["workers"] = list(parallel.Workers(2).map(collector, list(range(8))))
    raise ValueError("a failed build")

try:
    build()
except ValueError:
    pass
seen["after"] = gc.isenabled()
gc.disable()
with parallel.collector_paused():
    pass
seen["kept_off"] = not gc.isenabled()
print(json.dumps(seen))
"""


def test_a_build_runs_without_the_cyclic_collector_and_leaves_it_as_it_was() -> None:
    # issue 10: the collector's full passes over a 5,000-post model cost about a second of a
    # one-post rebuild; a worker collects its own garbage, and a failed build still restores it
    proc = subprocess.run([sys.executable, "-c", PAUSED], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    seen = json.loads(proc.stdout)
    assert seen["during"] is False
    assert seen["workers"] == [True] * 8
    assert seen["after"] is True
    assert seen["kept_off"] is True


def test_build_and_render_site_run_with_the_collector_paused(build_site, monkeypatch) -> None:
    import gc

    from qsite import build as pipeline

    seen: list[bool] = []
    real_plan = pipeline.plan

    def plan(*args, **kwargs):  # the real planning step, noting the collector's state
        seen.append(gc.isenabled())
        return real_plan(*args, **kwargs)

    monkeypatch.setattr(pipeline, "plan", plan)
    site = build_site({**TINY_BASE, "content/posts/a.md": post("A", "2021-01-02")}, search=False)
    assert site.exists("posts/a/index.html")
    pipeline.render_site(pipeline.configure(site.root), pipeline.Options(now=NOW, search=False))
    assert seen == [False, False]
    assert gc.isenabled()


# A parallel build in a fresh process, noting which process makes each output folder and each
# page key: forked workers inherit the patched functions, and append to one log file.
WHO_WRITES = """
import json, os, sys
from datetime import datetime, UTC
from pathlib import Path
from qsite import build as pipeline, parallel, write
from qsite.incremental import engine

log = Path(sys.argv[3])
parallel.MIN_PARALLEL = 1

def noted(kind, real):
    def call(*args, **kwargs):
        with open(log, "a") as f:
            f.write(json.dumps([kind, os.getpid()]) + "\\n")
        return real(*args, **kwargs)
    return call

real_mkdirs = write._mkdirs
def mkdirs(folder, made):
    if folder not in made:
        with open(log, "a") as f:
            f.write(json.dumps(["folder", os.getpid(), folder]) + "\\n")
    return real_mkdirs(folder, made)

write._mkdirs = mkdirs
engine.traced_page_key = noted("key", engine.traced_page_key)
options = pipeline.Options(output=Path(sys.argv[2]), jobs=2, search=False, now=datetime(2021, 12, 1, 12, tzinfo=UTC))
results = [pipeline.build(Path(sys.argv[1]), options) for _ in range(2)]  # cold, then everything unchanged
print(json.dumps({"parent": os.getpid(), "pages": [r.pages for r in results], "hits": [r.cache_hits for r in results],
                  "written": [r.written.written for r in results], "batches": results[0].parallel_batches}))
"""


def test_workers_write_and_key_the_pages_they_render(tmp_path) -> None:
    # issue 10 (bench/PROFILE.md C2, C7): a cold build's pages (and the files it copies) are
    # written into the staging folder by the workers that render them, and keyed there, instead of all keyed by the
    # parent first and then each pickled back to it and written by it one by one; the keys
    # made in the workers are the parent's, so the next build keeps every page.
    root, out, log = tmp_path / "site", tmp_path / "out", tmp_path / "log"
    write_files(root, {**TINY_BASE, **{f"content/posts/p{i}.md": post(f"P{i}", f"2021-01-{1 + i:02}") for i in range(12)}})
    proc = subprocess.run([sys.executable, "-c", WHO_WRITES, str(root), str(out), str(log)],
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    parent = report["parent"]
    notes = [json.loads(line) for line in log.read_text().splitlines()]
    pages = {(pid, folder[0]) for kind, pid, *folder in notes if kind == "folder" and "/new/posts/p" in folder[0]}
    keys = [pid for kind, pid, *_ in notes if kind == "key"]
    assert len({folder for _pid, folder in pages}) == 12
    # every folder of the staged site made by a worker: the pages' and those of the files
    # copied as they are (theme files, preview cards), which the workers write too
    staged = {pid for kind, pid, *folder in notes if kind == "folder" and "/new/" in folder[0]}
    assert staged and parent not in staged
    assert len(keys) >= report["pages"][0]  # the cold build keyed every page, in the workers …
    assert keys[: report["pages"][0]].count(parent) == 0
    # … and the next build keys none at all: the record the engine made from the workers' keys
    # (their contexts' fingerprints and the files they held) shows that nothing changed
    assert keys[report["pages"][0] :] == []
    assert report["hits"][1] == report["pages"][1] and report["written"][1] == 0  # the same keys: all kept
    assert (out / "posts/p3/index.html").is_file()


HOLES = """
import json, os
from qsite import parallel

def rss():
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) // 1024 for line in f if line.startswith("VmRSS:"))

def worker_rss(_state, chunk):
    return [rss() for _ in chunk]

parallel.MIN_PARALLEL = 1
texts = [str(i).rjust(6000, "x") for i in range(40_000)]  # ~240 MB of mid-sized texts
kept = texts[1::2]  # every other one let go: holes the C heap keeps
del texts
before = rss()
workers = list(parallel.Workers(2).map(worker_rss, [0, 1]))
print(json.dumps({"before": before, "workers": workers, "kept": len(kept)}))
"""


def test_workers_are_forked_without_the_parents_freed_memory() -> None:
    # issue 10: a forked worker's resident size counts the parent's pages, and so the free
    # holes a build leaves in the C heap (each file's text let go after the content step):
    # they are given back to the system before the pool forks
    proc = subprocess.run([sys.executable, "-c", HOLES], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["before"] > 200  # MiB: the holes are still counted here …
    assert max(report["workers"]) < report["before"] - 25  # … and not in the workers (a page per hole)
