"""``qsite init`` (issue 13): a new community's site in one command, that builds, passes
``check --strict`` (scheduled posts and drafts too), serves, and carries workflows that check
what will go live. Refuses a folder that is not empty unless --force, and never overwrites."""

from __future__ import annotations

import shlex
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest
import yaml

from qsite import __version__, scaffold
from qsite.cli import main, make_parser

from conftest import with_signals

ARGS = ["--title", "Care Learning", "--base-url", "https://example.github.io/care/",
        "--theme", "mental-health=Mental health", "--theme", "Primary care"]


def _init(folder: Path, *extra: str) -> int:
    return main(["init", str(folder), *ARGS, *extra])


def test_init_makes_a_site_that_builds_and_passes_every_strict_check(tmp_path: Path) -> None:
    site = tmp_path / "site"
    assert _init(site) == 0
    files = sorted(p.relative_to(site).as_posix() for p in site.rglob("*") if p.is_file())
    day = next(f for f in files if f.startswith("content/posts/")).split("/")[-1][:10]
    assert files == sorted([
        ".github/workflows/check.yml", ".github/workflows/publish.yml", ".gitignore", "README.md",
        "content/pages/about.md", f"content/posts/{day}-welcome-to-mental-health.md",
        f"content/posts/{day}-welcome-to-primary-care.md", "requirements.txt", "site.yaml",
    ])
    assert main(["build", "--source", str(site), "--no-search", "-q"]) == 0
    assert (site / "output/themes/primary-care/index.html").is_file()
    assert main(["check", "--strict", "--source", str(site)]) == 0
    assert main(["check", "--strict", "--future", "--drafts", "--source", str(site)]) == 0
    assert (site / "requirements.txt").read_text().splitlines()[-1] == f"qsite=={__version__}"
    assert "/output/" in (site / ".gitignore").read_text()
    readme = (site / "README.md").read_text()
    assert "Care Learning" in readme and "Source** to **GitHub Actions" in readme
    statement = (site / "output/accessibility/index.html").read_text()
    assert '<a href="/care/about/#contact">contact us</a>' in statement and "not tested" in statement


def test_init_s_site_serves(tmp_path: Path) -> None:
    site = tmp_path / "site"
    assert _init(site, "--contact", "access@example.org") == 0
    proc = subprocess.Popen(with_signals([sys.executable, "-m", "qsite", "serve", "--port", "0", "--source", str(site)]),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        assert proc.stdout is not None
        deadline = time.monotonic() + 60
        url = None
        while url is None and time.monotonic() < deadline:
            line = proc.stdout.readline()
            if "Serving the site at " in line:
                url = line.split("Serving the site at ")[1].split(" ")[0]
            assert line or proc.poll() is None, "serve ended before serving"
        assert url is not None
        with urllib.request.urlopen(url + "posts/welcome-to-mental-health/", timeout=30) as response:
            assert "Welcome to Mental health" in response.read().decode()
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_init_refuses_a_folder_that_is_not_empty_and_force_never_overwrites(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    site = tmp_path / "site"
    site.mkdir()
    (site / "README.md").write_text("ours\n")
    assert _init(site) == 2
    assert "not empty" in capsys.readouterr().err
    assert sorted(p.name for p in site.iterdir()) == ["README.md"]
    assert _init(site, "--force") == 0
    assert (site / "README.md").read_text() == "ours\n"
    assert "Kept" in capsys.readouterr().err
    assert (site / "site.yaml").is_file()


@pytest.mark.parametrize(("args", "where"), [
    (["--title", "T", "--base-url", "https://example.org/", "--theme", "Bad Slug!=Bad"], "--theme"),
    (["--title", "T", "--base-url", "https://example.org/", "--theme", "a=A", "--theme", "a=B"], "site.yaml"),
    (["--title", "T", "--base-url", "ftp://example.org/", "--theme", "a=A"], "--base-url"),
    (["--base-url", "https://example.org/", "--theme", "a=A"], "--title"),
    (["--title", "T", "--base-url", "https://example.org/"], "--theme"),
])
def test_a_bad_or_missing_answer_writes_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], where: str) -> None:
    assert main(["init", str(tmp_path / "site"), *args]) == 2  # pytest's stdin is no terminal: no prompts
    assert capsys.readouterr().err.startswith(where)
    assert not (tmp_path / "site").exists()


def test_prompts_ask_for_what_the_options_leave_out() -> None:
    answers = iter(["Care Learning", "https://example.org/", "mental-health=Mental health", "Primary care", "", ""])
    said: list[str] = []
    site = scaffold.ask_new_site(scaffold.NewSite("", "", ()), lambda _prompt: next(answers), said.append)
    assert site == scaffold.NewSite("Care Learning", "https://example.org/",
                                    (("mental-health", "Mental health"), ("primary-care", "Primary care")), "")


# -- the workflows init writes ---------------------------------------------------------------


def _workflow(site: Path, name: str) -> dict[str, Any]:
    data = yaml.safe_load((site / ".github/workflows" / name).read_text())
    data["on"] = data.pop(True)  # YAML 1.1 reads the key `on` as true
    return data


def _commands(job: dict[str, Any]) -> list[tuple[list[str], dict[str, Any]]]:
    found = []
    for step in job["steps"]:
        for line in str(step.get("run", "")).splitlines():
            words = shlex.split(line)
            if words[:1] == ["qsite"]:
                make_parser().parse_args(words[1:])  # every option still exists
                found.append((words[1:], step))
    return found


def _uses(job: dict[str, Any]) -> list[str]:
    return [step["uses"] for step in job["steps"] if "uses" in step]


CURRENT = {"actions/checkout": 7, "actions/setup-python": 7, "actions/cache": 6,
           "actions/upload-pages-artifact": 5, "actions/deploy-pages": 5, "actions/configure-pages": 6}


def _current(uses: list[str]) -> None:
    for action in uses:
        name, _, version = action.partition("@")
        assert int(version.removeprefix("v")) >= CURRENT[name], action


def test_the_pull_request_check_covers_scheduled_posts_and_drafts_as_warnings(tmp_path: Path) -> None:
    assert _init(tmp_path / "site") == 0
    workflow = _workflow(tmp_path / "site", "check.yml")
    assert "pull_request" in workflow["on"] and workflow["permissions"] == {"contents": "read"}
    [job] = workflow["jobs"].values()
    commands = _commands(job)
    assert [c for c, _ in commands] == [["check", "--strict"], ["check", "--strict", "--future"],
                                       ["check", "--strict", "--future", "--drafts"]]
    assert commands[2][1]["continue-on-error"] is True and "continue-on-error" not in commands[1][1]
    setup = next(s for s in job["steps"] if s.get("uses", "").startswith("actions/setup-python"))
    assert setup["with"]["cache"] == "pip" and setup["with"]["cache-dependency-path"] == "requirements.txt"
    assert any("pip install -r requirements.txt" in str(s.get("run")) for s in job["steps"])
    _current(_uses(job))


def test_publish_checks_before_deploying_and_leaves_the_marker_out(tmp_path: Path) -> None:
    assert _init(tmp_path / "site") == 0
    workflow = _workflow(tmp_path / "site", "publish.yml")
    assert workflow["permissions"] == {"contents": "read", "pages": "write", "id-token": "write"}
    build, deploy = workflow["jobs"]["build"], workflow["jobs"]["deploy"]
    steps = [str(s.get("run", s.get("uses"))) for s in build["steps"]]
    check = steps.index("qsite check --strict --future")
    built = next(i for i, s in enumerate(steps) if s.startswith("qsite build"))
    marker = steps.index("rm -f output/.qsite-output")
    upload = next(i for i, s in enumerate(steps) if s.startswith("actions/upload-pages-artifact"))
    assert check < built < marker < upload
    assert not any(s.get("continue-on-error") for s in build["steps"])  # a problem stops the run
    assert deploy["needs"] == "build"
    _current(_uses(build) + _uses(deploy))
