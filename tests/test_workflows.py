"""The GitHub workflows (issue 4) are code nobody runs locally, so their structure is tested here:
triggers, permissions, and the steps that test, check, build and deploy. Every `qsite` command
they run is parsed by qsite's own argument parser, so a renamed option fails here, not in CI."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any

import pytest
import yaml

from qsite.cli import make_parser

from conftest import REPO

WORKFLOWS = REPO / ".github" / "workflows"


def load(name: str) -> dict[str, Any]:
    data = yaml.safe_load((WORKFLOWS / name).read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    # YAML 1.1 (PyYAML) reads the key `on` as the boolean True; GitHub reads it as "on"
    if True in data:
        data["on"] = data.pop(True)
    return data


def steps(job: dict[str, Any]) -> list[dict[str, Any]]:
    return list(job["steps"])


def uses(job: dict[str, Any], action: str) -> dict[str, Any]:
    found = [s for s in steps(job) if str(s.get("uses", "")).split("@")[0] == action]
    assert len(found) == 1, f"expected one step using {action}"
    assert "@v" in found[0]["uses"], "pin actions to a major version"
    return found[0]


def runs(job: dict[str, Any]) -> list[str]:
    return [s["run"] for s in steps(job) if "run" in s]


def qsite_commands(job: dict[str, Any]) -> list[list[str]]:
    commands = []
    for script in runs(job):
        for line in script.splitlines():
            words = shlex.split(line)
            for i, word in enumerate(words):
                if word == "qsite" or word.endswith("/qsite"):
                    commands.append(words[i + 1 :])
    return commands


def test_check_runs_tests_and_strict_check_on_every_pull_request() -> None:
    workflow = load("check.yml")
    assert "pull_request" in workflow["on"]
    assert workflow["permissions"] == {"contents": "read"}
    [job] = workflow["jobs"].values()
    order = [s.get("uses", s.get("run", "")).split("@")[0] for s in steps(job)]
    assert (
        order.index("actions/checkout")
        < order.index("actions/setup-python")
        < order.index("make test")
    )
    assert uses(job, "actions/setup-python")["with"]["python-version"]
    commands = qsite_commands(job)
    assert commands == [["check", "--strict"]]
    check_step = next(r for r in runs(job) if "qsite check" in r)
    assert order.index("make test") < order.index(check_step)  # it uses the venv make test made


def test_publish_triggers_permissions_and_concurrency() -> None:
    workflow = load("publish.yml")
    on = workflow["on"]
    assert on["push"]["branches"] == ["main"]
    [schedule] = on["schedule"]
    _minute, _hour, day, month, weekday = schedule["cron"].split()
    assert (day, month, weekday) == ("*", "*", "*"), (
        "daily, so scheduled posts appear on their date"
    )
    assert "workflow_dispatch" in on
    assert workflow["permissions"] == {"contents": "read", "pages": "write", "id-token": "write"}
    assert workflow["concurrency"]["group"] == "pages"
    assert workflow["concurrency"]["cancel-in-progress"] is False


def test_publish_builds_with_the_pages_base_url_and_deploys() -> None:
    workflow = load("publish.yml")
    build, deploy = workflow["jobs"]["build"], workflow["jobs"]["deploy"]

    pages = uses(build, "actions/configure-pages")
    build_steps = [s for s in steps(build) if "qsite build" in s.get("run", "")]
    assert len(build_steps) == 1
    [[_, *args]] = [c for c in qsite_commands(build) if c[0] == "build"]
    base_url = args[args.index("--base-url") + 1]
    env_name = base_url.removeprefix("$")
    assert build_steps[0]["env"][env_name] == "${{ steps." + pages["id"] + ".outputs.base_url }}"
    output = args[args.index("--output") + 1]
    assert uses(build, "actions/upload-pages-artifact")["with"]["path"] == output

    cache = uses(build, "actions/cache")
    assert cache["with"]["path"] == ".qsite-cache"
    order = steps(build)
    assert order.index(pages) < order.index(cache) < order.index(build_steps[0])

    assert deploy["needs"] == "build"
    assert deploy["environment"]["name"] == "github-pages"
    deployment = uses(deploy, "actions/deploy-pages")
    assert deploy["environment"]["url"] == (
        "${{ steps." + deployment["id"] + ".outputs.page_url }}"
    )


@pytest.mark.parametrize("name", ["check.yml", "publish.yml"])
def test_every_qsite_command_in_a_workflow_parses(name: str, tmp_path: Path) -> None:
    workflow = load(name)
    parser = make_parser()
    seen = 0
    for job in workflow["jobs"].values():
        for command in qsite_commands(job):
            args = [a if not a.startswith("$") else "https://example.org/" for a in command]
            parsed = parser.parse_args([*args, "--source", str(REPO)])
            assert parsed.handler is not None
            seen += 1
    assert seen >= 1
