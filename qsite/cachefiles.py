"""The build cache's files and the key of the engine that wrote them, without the libraries the
build renders with: the no-change shortcut (``fastpath``) reads the cache before (and, when
nothing changed, instead of) importing Jinja, Markdown or Pygments.

``ENGINE`` hashes qsite's version, its own source files (the Markdown settings in markup.py
among them), the Python version and the versions of the libraries qsite depends on: anything
that changes stamps every cache file as someone else's.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.metadata
import os
import pickle
import sys
import tempfile
from pathlib import Path
from typing import Any

from qsite import __version__

FOLDER = ".qsite-cache"
RACY_NS = 2_000_000_000  # a file changed this close to being read may change again unseen


def _engine() -> str:
    """Everything outside the site that can change what a build produces."""
    h = hashlib.sha256(f"qsite {__version__} python {sys.version_info[:2]}".encode())
    for requirement in importlib.metadata.requires("qsite") or []:
        if "extra ==" in requirement:
            continue
        name = requirement.split(">")[0].split("=")[0].split("<")[0].split(";")[0].strip()
        with contextlib.suppress(importlib.metadata.PackageNotFoundError):
            h.update(f"{name} {importlib.metadata.version(name)}".encode())
    package = Path(__file__).resolve().parent
    for source in sorted(package.glob("*.py")):
        h.update(source.name.encode() + source.read_bytes())
    return h.hexdigest()


ENGINE = _engine()


def _load(path: Path) -> Any:
    try:
        with open(path, "rb") as f:
            engine, data = pickle.load(f)
    except Exception:  # a missing, old or damaged cache file is just a miss
        return None
    return data if engine == ENGINE else None


def _dump(path: Path, data: Any) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            pickle.dump((ENGINE, data), f, protocol=5)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
