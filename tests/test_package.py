"""The package a second community installs (issue 13): ``python -m build`` makes an sdist and a
wheel from it holding the theme and the starter files, and that wheel, installed into a new
virtual environment, runs ``qsite init``, ``build`` and ``check --strict`` with no other step.

Offline by design (CI and this machine reach no other host): the sdist and wheel are built with
``--no-isolation`` from the test environment's setuptools, and the new environment (made
without pip, the wheel installed into it by this environment's pip with ``--no-deps
--no-index``) borrows the *dependencies* of the test environment through a ``.pth`` line. Only
the dependencies: that folder's own ``.pth`` files (the editable install of this checkout) are
not processed for a folder added that way, and the test asserts that ``qsite`` is imported from
the new environment, run from a folder outside the repository."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import venv
import zipfile
from pathlib import Path

import pytest

from qsite import __version__

from conftest import REPO

pytestmark = pytest.mark.package


def run(args: list[str | Path], cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    proc = subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, f"{args} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}"
    return proc


def test_the_wheel_installs_and_starts_a_site_with_nothing_else(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    source = tmp_path / "source"  # a copy, so the build's egg-info and build/ stay out of the checkout
    shutil.copytree(REPO / "qsite", source / "qsite", ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, source / name)
    run([sys.executable, "-m", "build", "--no-isolation", "--outdir", dist, source], tmp_path, timeout=180)
    [wheel] = dist.glob(f"qsite-{__version__}-py3-none-any.whl")
    [sdist] = dist.glob(f"qsite-{__version__}.tar.gz")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    for needed in ("qsite/theme/base.html", "qsite/theme/static/site.css", "qsite/theme/partials/macros.html",
                   "qsite/theme/themes.css", "qsite/starter/publish.yml", "qsite/starter/README.md"):
        assert needed in names
    with tarfile.open(sdist) as archive:
        assert f"qsite-{__version__}/qsite/theme/post.html" in archive.getnames()

    env_dir = tmp_path / "fresh"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    python = env_dir / "bin" / "python"
    run([sys.executable, "-m", "pip", "--python", python, "install", "--quiet", "--no-deps", "--no-index", wheel],
        tmp_path)
    fresh_site = Path(run([python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"], tmp_path).stdout.strip())
    (fresh_site / "borrowed-dependencies.pth").write_text(sysconfig.get_path("purelib") + "\n")

    work = tmp_path / "work"
    work.mkdir()
    where = run([python, "-c", "import qsite; print(qsite.__file__)"], work).stdout.strip()
    assert Path(where).is_relative_to(env_dir)
    qsite = env_dir / "bin" / "qsite"
    assert run([qsite, "--version"], work).stdout.strip() == f"qsite {__version__}"
    run([qsite, "init", "site", "--title", "Care Learning", "--base-url", "https://example.org/care/",
         "--theme", "mental-health=Mental health", "--theme", "primary-care=Primary care"], work)
    run([qsite, "build", "--source", "site"], work)
    run([qsite, "check", "--strict", "--source", "site"], work)
    assert (work / "site/output/static/themes.css").read_text().count("--theme:") == 6  # two themes: light, system dark, switched dark
    assert (work / "site/output/search/index.html").is_file()
    assert "qsite==" + __version__ in (work / "site/requirements.txt").read_text()
