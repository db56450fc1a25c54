"""``python -m bench.proof record|verify`` (``make proof``): prove a refactoring left the output alone.

The engine redesign (issue 10) is a series of steps that must not change one byte of what a
build writes. This records, once, a digest of every file that clean builds of two reference
sites write, and later compares a fresh build against it:

* ``example``: this repository's own site (content/, site.yaml, templates/ if it has one);
* ``bench-1000``: the benchmark's generated 1,000-post site (bench/corpus.py, seed 2020).

Both are built in a separate process with a fixed ``SOURCE_DATE_EPOCH``, no cache and the search
index. Every file, the search index's included (qsite makes Pagefind's output deterministic), is
compared by its SHA-256: equal digests mean equal bytes. The records live in
``bench/proof/<name>.json``; an intended change of the output is recorded again with ``record``,
in the same commit, and says why.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.corpus import generate
from qsite import THEME

REPO = Path(__file__).resolve().parent.parent
RECORDS = Path(__file__).resolve().parent / "proof"
EPOCH = "1638360000"  # 2021-12-01 11:20 UTC: after the example site's last post
SITES = ("example", "bench-1000")


def make_site(name: str, work: Path) -> Path:
    """A fresh copy of the reference site ``name`` in ``work``."""
    site = work / name
    if name == "example":
        site.mkdir(parents=True)
        shutil.copy2(REPO / "site.yaml", site / "site.yaml")
        for folder in ("content", "templates"):  # templates/: only what differs from the default theme
            if (REPO / folder).is_dir():
                shutil.copytree(REPO / folder, site / folder)
        return site
    return generate(site, 1000, seed=2020, templates=THEME)


def build(site: Path, out: Path) -> None:
    env = {**os.environ, "SOURCE_DATE_EPOCH": EPOCH, "PYTHONHASHSEED": "0"}
    cmd = [sys.executable, "-m", "qsite", "build", "--quiet", "--no-cache", "--source", str(site), "--output", str(out)]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, encoding="utf-8")
    if proc.returncode != 0:
        raise SystemExit(f"qsite build of {site} failed (exit {proc.returncode}):\n{proc.stdout}{proc.stderr}")


def digest(out: Path) -> dict[str, dict[str, str]]:
    """Every written file's SHA-256, by its path in the output folder."""
    files = {
        path.relative_to(out).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(out.rglob("*"))
        if path.is_file()
    }
    return {"files": files}


def differences(recorded: dict[str, dict[str, str]], fresh: dict[str, dict[str, str]]) -> list[str]:
    """One line per file that differs; empty when the outputs are the same."""
    lines = []
    old_files, new_files = recorded["files"], fresh["files"]
    for rel in sorted(set(old_files) | set(new_files)):
        if rel not in new_files:
            lines.append(f"missing: {rel}")
        elif rel not in old_files:
            lines.append(f"new:     {rel}")
        elif old_files[rel] != new_files[rel]:
            lines.append(f"changed: {rel}")
    return lines


def run(names: list[str], mode: str) -> int:
    failed = False
    with tempfile.TemporaryDirectory(prefix="qsite-proof-") as tmp:
        for name in names:
            site = make_site(name, Path(tmp))
            out = Path(tmp) / f"{name}-out"
            build(site, out)
            fresh = digest(out)
            record = RECORDS / f"{name}.json"
            if mode == "record":
                RECORDS.mkdir(exist_ok=True)
                record.write_text(json.dumps(fresh, indent=1, sort_keys=True) + "\n", encoding="utf-8")
                print(f"{name}: recorded {len(fresh['files'])} files in {record.relative_to(REPO)}")
                continue
            diff = differences(json.loads(record.read_text(encoding="utf-8")), fresh)
            if diff:
                failed = True
                print(f"{name}: {len(diff)} difference(s) from {record.relative_to(REPO)}:")
                print("\n".join("  " + line for line in diff[:50]))
            else:
                print(f"{name}: identical to the recorded build ({len(fresh['files'])} files)")
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.proof", description=__doc__.split("\n\n")[0])
    parser.add_argument("mode", choices=["record", "verify"])
    parser.add_argument("sites", nargs="*", metavar="SITE", help=f"which reference sites (default: {' '.join(SITES)})")
    args = parser.parse_args(argv)
    unknown = [s for s in args.sites if s not in SITES]
    if unknown:
        parser.error(f"unknown site {unknown[0]!r}: choose from {', '.join(SITES)}")
    return run(args.sites or list(SITES), args.mode)


if __name__ == "__main__":
    sys.exit(main())
