"""``python -m bench.pagefind_api``: index one built site with Pagefind four ways, and time each.

qsite indexes its output by running Pagefind's command line once per shard (qsite/search.py),
over a folder of hard links to the shard's pages, two shards at a time. Issue 10 asks whether
Pagefind's Python API — one long-running indexer fed HTML from memory — is faster. This takes
the HTML pages of a built site (``--site``: a qsite site folder with ``output/``, built with or
without search; by default the generated 1,000-post benchmark site, built here) and indexes the
pages qsite would index (those with ``data-pagefind-body``) in the same shards:

* ``cli-shards``: what qsite does today: one ``pagefind --site`` per shard, ``--jobs`` at a time;
  with ``--shard-pages 50 100 200`` once per shard size (qsite's ``SHARD_PAGES``), to weigh
  smaller shards (a one-post edit re-indexes one shard: the CPU of one run) against more runs;
* ``cli-reduced``: as ``cli-shards``, each page reduced to what Pagefind reads of it
  (``qsite.search.as_pagefind_reads_it``, as qsite gives them since), written, not linked;
  checked to give the same files as ``cli-shards``, byte for byte, after qsite's filter ordering;
* ``cli-whole``: one ``pagefind --site`` over every indexed page (no shards: not incremental);
* ``api-package``: the ``pagefind`` package's ``PagefindIndex`` as shipped (asyncio), one index
  per shard, pages added from memory with ``add_html_file``. Its reader task sleeps 100 ms
  before reading each reply (pagefind/service/__init__.py, ``_wait_for_responses``), so it is
  timed on the first ``--package-pages`` pages only and the time per page is given;
* ``service``: the same ``pagefind --service`` process the package starts, driven by a small
  client here that pipelines the requests and reads replies as they come: one process, one
  index per shard, every page from memory, each shard's files written to its own folder.

Each way writes into its own folder under ``--work``; the report gives the wall and CPU time
(of this process and its children) of each, and checks that every way indexed the same pages
(by URL). Nothing here changes qsite: it is a measurement for choosing how qsite should index.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import json
import math
import os
import re
import resource
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from bench.corpus import generate
from qsite import THEME

REPO = Path(__file__).resolve().parent.parent
EXCLUDE = ".heading-anchor"  # as qsite/search.py: the "#" links beside headings are not words
SHARD_PAGES = 200  # as qsite/search.py


def pagefind_binary() -> Path:
    from pagefind.service import get_executable

    found = get_executable()
    if found is None:
        raise SystemExit("the Pagefind binary was not found: pip install 'pagefind[bin]'")
    return found


def indexed_pages(out: Path) -> dict[str, bytes]:
    """Output file → HTML, for the pages qsite indexes: those with ``data-pagefind-body``."""
    pages = {}
    for path in sorted(out.rglob("*.html")):
        rel = path.relative_to(out).as_posix()
        if rel.startswith("pagefind/"):
            continue
        html = path.read_bytes()
        if b"data-pagefind-body" in html:
            pages[rel] = html
    return pages


def shards(pages: list[str], site: Path, shard_pages: int = SHARD_PAGES) -> dict[str, list[str]]:
    """Shard name → its pages, as qsite/search.py assigns them: posts by year (the year is in the
    source file's name), other pages in ``pages``, a year of more than ``SHARD_PAGES`` posts
    split by a hash of the path into a power of two of buckets."""
    years = {}
    for source in (site / "content" / "posts").glob("*.md"):
        found = re.match(r"(\d{4})-\d{2}-\d{2}-(.+)", source.stem)
        if found:
            years[f"posts/{found.group(2)}/index.html"] = int(found.group(1))
    groups: dict[str, list[str]] = {}
    for rel in pages:
        year = years.get(rel)
        groups.setdefault("pages" if year is None else f"posts-{year}", []).append(rel)
    result: dict[str, list[str]] = {}
    for name, members in groups.items():
        n = 1 if len(members) <= shard_pages else 2 ** math.ceil(math.log2(len(members) / shard_pages))
        for rel in members:
            bucket = int.from_bytes(hashlib.sha1(rel.encode()).digest()[:4], "big") % n
            result.setdefault(name if n == 1 else f"{name}-{bucket + 1}-of-{n}", []).append(rel)
    return dict(sorted(result.items()))


def url_of(rel: str) -> str:
    return "/" + (rel[: -len("index.html")] if rel.endswith("index.html") else rel)


def run_cli(
    binary: Path, site: Path, out: Path, pages: list[str], bundle: Path, work: Path, reduce: bool = False
) -> int:
    """One Pagefind CLI run over a folder of hard links to ``pages`` (with ``reduce``: of each
    page reduced to what Pagefind reads of it); returns pages indexed."""
    from qsite.search import as_pagefind_reads_it

    for rel in pages:
        target = work / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        page = as_pagefind_reads_it((out / rel).read_bytes()) if reduce else None
        if page is not None:
            target.write_bytes(page)
        else:
            os.link(out / rel, target)
    run = subprocess.run(
        [str(binary), "--site", str(work), "--output-path", str(bundle), "--exclude-selectors", EXCLUDE],
        capture_output=True, text=True, check=True,
    )
    found = re.search(r"Indexed (\d+) pages?", run.stdout + run.stderr)
    return int(found.group(1)) if found else 0


def cli_shards(binary: Path, site: Path, out: Path, groups: dict[str, list[str]], dest: Path, jobs: int) -> int:
    def one(name: str) -> int:
        return run_cli(binary, site, out, groups[name], dest / name, dest / ".links" / name)

    with ThreadPoolExecutor(max_workers=jobs) as pool:
        return sum(pool.map(one, groups))


def cli_reduced(binary: Path, site: Path, out: Path, groups: dict[str, list[str]], dest: Path, jobs: int) -> int:
    def one(name: str) -> int:
        return run_cli(binary, site, out, groups[name], dest / name, dest / ".links" / name, reduce=True)

    with ThreadPoolExecutor(max_workers=jobs) as pool:
        return sum(pool.map(one, groups))


def same_files(a: Path, b: Path) -> bool:
    """Whether two ways wrote the same index files, once their filters are put in order."""
    from qsite.search import _order_filters

    def files(root: Path) -> dict[str, bytes]:
        for bundle in sorted(p.parent for p in root.glob("*/pagefind-entry.json")):
            _order_filters(bundle)
        return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*"))
                if p.is_file() and not p.relative_to(root).as_posix().startswith(".links")}

    return files(a) == files(b)


def cli_whole(binary: Path, site: Path, out: Path, groups: dict[str, list[str]], dest: Path, _jobs: int) -> int:
    every = [rel for members in groups.values() for rel in members]
    return run_cli(binary, site, out, every, dest / "all", dest / ".links")


class Service:
    """A client of ``pagefind --service`` (the protocol of the ``pagefind`` package: base64 JSON
    messages, each followed by a comma, replies likewise), pipelined: requests go out as fast
    as the pipe takes them while a thread reads replies as they arrive."""

    def __init__(self, binary: Path, cwd: Path):
        self.proc = subprocess.Popen(
            [str(binary), "--service"], cwd=cwd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, bufsize=0
        )
        self.next_id = 0
        self.replies: dict[int, dict[str, Any]] = {}
        self.cond = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        buffer = b""
        while chunk := self.proc.stdout.read(1 << 16):
            buffer += chunk
            *messages, buffer = buffer.split(b",")
            for raw in messages:
                reply = json.loads(base64.b64decode(raw))
                with self.cond:
                    self.replies[reply.get("message_id", -1)] = reply["payload"]
                    self.cond.notify_all()

    def send(self, payload: dict[str, Any]) -> int:
        assert self.proc.stdin is not None
        self.next_id += 1
        message = {"message_id": self.next_id, "payload": payload}
        self.proc.stdin.write(base64.b64encode(json.dumps(message).encode()) + b",")
        return self.next_id

    def wait(self, message_id: int) -> dict[str, Any]:
        with self.cond:
            if not self.cond.wait_for(lambda: message_id in self.replies, timeout=300):
                raise SystemExit(f"pagefind --service gave no reply to message {message_id}")
            reply = self.replies.pop(message_id)
        if reply.get("type") == "Error":
            raise SystemExit(f"pagefind --service: {reply.get('message')}")
        return reply

    def close(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        self.proc.wait(timeout=60)


def service(binary: Path, site: Path, out: Path, groups: dict[str, list[str]], dest: Path, _jobs: int) -> int:
    client = Service(binary, dest)
    config = {"exclude_selectors": [EXCLUDE]}
    indexes = {name: client.wait(client.send({"type": "NewIndex", "config": config}))["index_id"] for name in groups}
    sent = [
        client.send({"type": "AddFile", "index_id": indexes[name], "url": url_of(rel),
                     "file_contents": (out / rel).read_text(encoding="utf-8")})
        for name, members in groups.items() for rel in members
    ]
    count = sum(1 for message_id in sent if client.wait(message_id)["type"] == "IndexedFile")
    writes = [client.send({"type": "WriteFiles", "index_id": indexes[name], "output_path": str(dest / name)})
              for name in groups]
    for message_id in writes:
        client.wait(message_id)
    client.close()
    return count


def api_package(binary: Path, site: Path, out: Path, groups: dict[str, list[str]], dest: Path, _jobs: int) -> int:
    from pagefind.index import IndexConfig, PagefindIndex

    async def index() -> int:
        count = 0
        for name, members in groups.items():
            config = IndexConfig(exclude_selectors=[EXCLUDE], output_path=str(dest / name))
            async with PagefindIndex(config=config) as idx:
                replies = await asyncio.gather(*(
                    idx.add_html_file(content=(out / rel).read_text(encoding="utf-8"), url=url_of(rel))
                    for rel in members
                ))
                count += len(replies)
        return count

    os.environ["PAGEFIND_BINARY_PATH"] = str(binary)
    return asyncio.run(index())


def urls_in(bundle: Path) -> set[str]:
    """The URLs of the pages in every index under ``bundle`` (from each shard's fragments)."""
    import gzip

    found = set()
    for fragment in bundle.rglob("fragment/*.pf_fragment"):
        data = gzip.decompress(fragment.read_bytes())
        data = data[data.index(b"{"):]
        found.add(json.loads(data)["url"])
    return found


def cpu_now() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.pagefind_api", description=__doc__.split("\n\n")[0])
    parser.add_argument("--site", type=Path, default=None, help="a built qsite site (default: generate 1,000 posts)")
    parser.add_argument("--work", type=Path, default=Path(os.environ.get("TMPDIR", "/tmp")) / "qsite-pagefind")
    parser.add_argument("--jobs", type=int, default=2, help="CLI shard runs at a time (qsite: one per core)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--package-pages", type=int, default=30,
                        help="pages given to the pagefind package's own API (it reads a reply per 100 ms)")
    parser.add_argument("--ways", nargs="+",
                        default=["cli-shards", "cli-reduced", "cli-whole", "service", "api-package"])
    parser.add_argument("--shard-pages", nargs="+", type=int, default=[SHARD_PAGES],
                        help="shard sizes to run cli-shards with (qsite's SHARD_PAGES; default: qsite's)")
    args = parser.parse_args(argv)

    site = args.site
    if site is None:
        site = args.work / "posts-1000"
        if not (site / "output" / "index.html").is_file():
            generate(site, 1000, seed=2020, templates=THEME)
            subprocess.run([sys.executable, "-m", "qsite", "build", "--quiet", "--no-search", "--source", str(site)],
                           check=True)
    out = site / "output"
    binary = pagefind_binary()
    pages = indexed_pages(out)
    groups = shards(list(pages), site)
    version = subprocess.run([str(binary), "--version"], capture_output=True, text=True).stdout.strip()
    print(f"{version}: {len(pages)} pages in {len(groups)} shards, from {out}\n")
    ways: dict[str, Callable[..., int]] = {
        "cli-shards": cli_shards, "cli-reduced": cli_reduced, "cli-whole": cli_whole, "service": service,
        "api-package": api_package,
    }
    print("| way | pages | wall (median, min–max) | CPU, with children (median) | per page | shards | CPU per shard |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    reference: set[str] | None = None
    runs: list[tuple[str, str, dict[str, list[str]]]] = []
    for name in args.ways:
        if name == "cli-shards":
            runs += [(name, f"{name} ({size})", shards(list(pages), site, size)) for size in args.shard_pages]
        else:
            runs.append((name, name, groups))
    for name, label, grouped in runs:
        subset = grouped
        if name == "api-package":
            first = list(pages)[: args.package_pages]
            subset = {k: [r for r in v if r in first] for k, v in grouped.items()}
            subset = {k: v for k, v in subset.items() if v}
        walls, cpus, count = [], [], 0
        for _ in range(args.runs if name != "api-package" else 1):
            dest = args.work / "ways" / label.replace(" ", "")
            shutil.rmtree(dest, ignore_errors=True)
            dest.mkdir(parents=True)
            start, cpu = time.perf_counter(), cpu_now()
            count = ways[name](binary, site, out, subset, dest, args.jobs)
            walls.append(time.perf_counter() - start)
            cpus.append(cpu_now() - cpu)
        walls.sort()
        cpus.sort()
        urls = urls_in(args.work / "ways" / label.replace(" ", ""))
        if subset is grouped and name != "api-package":
            reference = reference or urls
            same = "same pages" if urls == reference else f"DIFFERENT pages ({len(urls ^ reference)} differ)"
        else:
            same = f"first {len(urls)} pages"
        if name == "cli-reduced" and "cli-shards" in args.ways and args.shard_pages == [SHARD_PAGES]:
            identical = same_files(args.work / "ways" / f"cli-shards({SHARD_PAGES})", args.work / "ways" / label)
            same += ", same files as cli-shards" if identical else ", FILES DIFFER from cli-shards"
        median = walls[len(walls) // 2]
        cpu = cpus[len(cpus) // 2]
        print(f"| {label} | {count} ({same}) | {median:.2f} s ({walls[0]:.2f}–{walls[-1]:.2f}) "
              f"| {cpu:.2f} s | {median / max(count, 1) * 1000:.1f} ms | {len(subset)} | {cpu / len(subset):.3f} s |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
