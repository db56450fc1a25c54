"""The GitHub workflows (issues 4 and 13) are code nobody runs locally, so they are tested here:
their structure (triggers, permissions, the order of the steps that check, build and deploy), the
`qsite` commands they run (parsed by qsite's own argument parser, so a renamed option fails here,
not in CI), the scripts of the steps that decide what goes live (run for real with bash on real
sites), and every file through actionlint (a test extra: a Python wheel carrying its binary)."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from qsite.cli import make_parser
from qsite.mailer import ENV, SENT_FILE

from conftest import BASE, REPO, post, write_files

WORKFLOWS = REPO / ".github" / "workflows"
NAMES = ("check.yml", "publish.yml", "send-digest.yml")
BIN = Path(sys.executable).parent  # the venv running the tests: its qsite and actionlint

# The current major version of every action the workflows use (November 2026; each checked
# against the action's releases). An older major runs on a Node version GitHub has retired.
CURRENT = {
    "actions/checkout": "v7",
    "actions/setup-python": "v7",
    "actions/cache": "v6",
    "actions/configure-pages": "v6",
    "actions/upload-pages-artifact": "v5",
    "actions/deploy-pages": "v5",
    "actions/upload-artifact": "v7",
}


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
    return found[0]


def named(job: dict[str, Any], words: str) -> dict[str, Any]:
    found = [s for s in steps(job) if words in s.get("name", "")]
    assert len(found) == 1, f"expected one step named with {words!r}"
    return found[0]


def runs(job: dict[str, Any]) -> list[str]:
    return [s["run"] for s in steps(job) if "run" in s]


def command_words(script: str) -> list[list[str]]:
    """The arguments of every `qsite` command in a script."""
    commands = []
    for line in script.splitlines():
        lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
        lexer.whitespace_split, lexer.commenters = True, "#"
        words = list(lexer)
        for i, word in enumerate(words):
            if word == "qsite" or word.endswith("/qsite"):
                rest = words[i + 1 :]
                end = next((j for j, w in enumerate(rest) if w in (";", "|", "||", "&&", "&", ">", ">>", ")")), None)
                commands.append(rest[:end])
    return commands


def qsite_commands(job: dict[str, Any]) -> list[list[str]]:
    return [c for script in runs(job) for c in command_words(script)]


def run_step(step: dict[str, Any], cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """A step's script as the runner runs it (``bash -e``), with the step's own env (values
    without ``${{ }}``) and ``env``; `qsite` is the one under test, through ``PATH``."""
    environ = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}
    environ.pop("GITHUB_ACTIONS", None)
    environ.update({k: str(v) for k, v in step.get("env", {}).items() if "${{" not in str(v)})
    environ.update(env)
    return subprocess.run(["bash", "-e", "-c", step["run"]], cwd=cwd, env=environ, capture_output=True,
                          text=True, timeout=300)


def venv_link(workspace: Path, name: str) -> None:
    """``workspace/name/bin/qsite``: the qsite under test, where a workflow installed one."""
    (workspace / name / "bin").mkdir(parents=True)
    (workspace / name / "bin" / "qsite").symlink_to(BIN / "qsite")


def site_files(*posts: tuple[str, str]) -> dict[str, str]:
    return {**BASE, **{f"content/posts/{name}.md": text for name, text in posts}}


def write_site(root: Path, files: dict[str, str]) -> Path:
    write_files(root, files)
    return root


GOOD = ("good", post("A good post", "2020-04-01", body="Fine."))
BROKEN_SCHEDULED = ("later", post("Coming soon", "2099-01-01", body="See [this](/posts/nowhere/)."))
BROKEN_DRAFT = ("draft", post("Half written", "2020-04-02", body="![](/images/missing.png)", draft="true"))


# --- every workflow ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_every_action_is_at_its_current_major_version(name: str) -> None:
    used = [s["uses"] for job in load(name)["jobs"].values() for s in steps(job) if "uses" in s]
    assert used
    for ref in used:
        action, _, version = ref.partition("@")
        assert action in CURRENT, f"{action}: add its current major to CURRENT"
        assert version == CURRENT[action], f"{name}: {ref} is not {action}@{CURRENT[action]}"


@pytest.mark.parametrize("name", NAMES)
def test_pip_downloads_are_cached_keyed_on_the_dependencies(name: str) -> None:
    for job in load(name)["jobs"].values():
        if not any("setup-python" in s.get("uses", "") for s in steps(job)):
            continue
        setup = uses(job, "actions/setup-python")
        assert setup["with"]["python-version"]
        assert setup["with"]["cache"] == "pip"
        keyed = setup["with"]["cache-dependency-path"]
        assert keyed.endswith("pyproject.toml")
        checkout = next(s for s in steps(job) if s.get("uses", "").startswith("actions/checkout"))
        assert keyed == str(Path(checkout.get("with", {}).get("path", ".")) / "pyproject.toml").removeprefix("./")


@pytest.mark.parametrize("name", NAMES)
def test_every_qsite_command_in_a_workflow_parses(name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for folder in ("new", "base"):  # the preview's two checkouts
        (tmp_path / folder).mkdir()
    monkeypatch.chdir(tmp_path)
    workflow = load(name)
    parser = make_parser()
    seen = 0
    for job in workflow["jobs"].values():
        for command in qsite_commands(job):
            args = [a if not a.startswith("$") else "https://example.org/" for a in command]
            if args[0] != "diff" and "--source" not in args:
                args += ["--source", str(REPO)]
            parsed = parser.parse_args(args)
            assert parsed.handler is not None
            seen += 1
    assert seen >= 1


def test_actionlint_finds_nothing_wrong() -> None:
    actionlint = shutil.which("actionlint", path=f"{BIN}{os.pathsep}{os.environ['PATH']}")
    assert actionlint, "actionlint is a test extra (pip install -e '.[test]')"
    files = [str(WORKFLOWS / n) for n in NAMES]
    assert sorted(p.name for p in WORKFLOWS.glob("*.yml")) == sorted(NAMES)
    done = subprocess.run([actionlint, "-no-color", *files], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr


# --- the pull-request check --------------------------------------------------------------------


def test_check_runs_tests_then_checks_today_scheduled_and_drafts() -> None:
    workflow = load("check.yml")
    assert "pull_request" in workflow["on"]
    assert workflow["permissions"] == {"contents": "read"}
    job = workflow["jobs"]["check"]
    order = [s.get("uses", s.get("run", "")).split("@")[0] for s in steps(job)]
    assert order.index("actions/checkout") < order.index("actions/setup-python") < order.index("make test")
    assert qsite_commands(job) == [
        ["check", "--strict"],
        ["check", "--strict", "--future"],
        ["check", "--strict", "--drafts", "--future"],
    ]
    check_steps = [s for s in steps(job) if "qsite check" in s.get("run", "")]
    assert all(order.index("make test") < steps(job).index(s) for s in check_steps)  # the venv make test made
    assert not any(s.get("continue-on-error") for s in check_steps[:2])  # these two fail the check


def test_a_scheduled_post_with_a_broken_link_fails_the_pull_request_check(tmp_path: Path) -> None:
    job = load("check.yml")["jobs"]["check"]
    root = write_site(tmp_path, site_files(GOOD, BROKEN_SCHEDULED))
    venv_link(root, ".venv")  # where `make test` made it, at the top of the repository
    today = run_step(named(job, "Check the site"), root)
    assert today.returncode == 0, today.stderr  # not published yet, so the old check let it through
    future = run_step(named(job, "scheduled posts"), root)
    assert future.returncode == 1
    assert "content/posts/later.md" in future.stderr and "/posts/nowhere/" in future.stderr


def test_the_drafts_pass_warns_but_never_fails(tmp_path: Path) -> None:
    job = load("check.yml")["jobs"]["check"]
    step = named(job, "drafts")
    assert step["env"]["GITHUB_ACTIONS"] == "false"  # no error annotations for an unfinished draft
    root = write_site(tmp_path, site_files(GOOD, BROKEN_DRAFT))
    venv_link(root, ".venv")
    broken = run_step(step, root)
    assert broken.returncode == 0
    assert "content/posts/draft.md" in broken.stderr
    assert broken.stdout.startswith("::warning ")
    (root / "content/posts/draft.md").unlink()
    clean = run_step(step, root)
    assert clean.returncode == 0 and "::warning" not in clean.stdout


# --- previews for reviewers --------------------------------------------------------------------


def test_preview_builds_base_and_pull_request_and_summarises_the_difference(tmp_path: Path) -> None:
    job = load("check.yml")["jobs"]["preview"]
    assert job["if"] == "github.event_name == 'pull_request'"
    checkouts = [s for s in steps(job) if s.get("uses", "").startswith("actions/checkout")]
    assert [c["with"]["path"] for c in checkouts] == ["new", "base"]
    assert checkouts[1]["with"]["ref"] == "${{ github.event.pull_request.base.sha }}"
    build_step, summary_step = named(job, "Build both"), named(job, "adds, changes and removes")
    builds = command_words(build_step["run"])
    assert [(c[c.index("--source") + 1], c[c.index("--output") + 1]) for c in builds] == [
        ("new", "preview"), ("base", "base-preview")]
    assert all("--drafts" in c and "--future" in c for c in builds)
    assert "export SOURCE_DATE_EPOCH" in build_step["run"]
    upload = uses(job, "actions/upload-artifact")
    assert upload["with"]["path"].rstrip("/") == "preview"
    assert command_words(summary_step["run"]) == [["diff", "base-preview", "preview"]]
    order = steps(job)
    assert order.index(build_step) < order.index(upload) < order.index(summary_step)

    # The two steps, run: the base has a post the pull request removes, the pull request adds one
    # (a draft) and schedules another.
    write_site(tmp_path / "base", site_files(GOOD, ("old", post("An old post", "2020-03-01"))))
    write_site(tmp_path / "new", site_files(GOOD, BROKEN_DRAFT, ("soon", post("Scheduled one", "2099-02-01"))))
    venv_link(tmp_path, ".venv-new")
    venv_link(tmp_path, ".venv-base")
    built = run_step(build_step, tmp_path)
    assert built.returncode == 0, built.stderr
    assert (tmp_path / "preview/posts/draft/index.html").is_file()
    assert (tmp_path / "preview/posts/soon/index.html").is_file()
    summary = tmp_path / "summary.md"
    done = run_step(summary_step, tmp_path, GITHUB_STEP_SUMMARY=str(summary),
                    ARTIFACT_URL="https://github.com/o/r/actions/runs/1/artifacts/2")
    assert done.returncode == 0, done.stderr
    text = summary.read_text(encoding="utf-8")
    assert "[site-preview](https://github.com/o/r/actions/runs/1/artifacts/2)" in text
    added = text.split("#### Added")[1].split("####")[0]
    assert "| Half written | `/posts/draft/` |" in added and "| Scheduled one | `/posts/soon/` |" in added
    removed = text.split("#### Removed")[1].split("####")[0]
    assert "| An old post | `/posts/old/` |" in removed


# --- publishing --------------------------------------------------------------------------------


def test_publish_triggers_permissions_and_concurrency() -> None:
    workflow = load("publish.yml")
    on = workflow["on"]
    assert on["push"]["branches"] == ["main"]
    [schedule] = on["schedule"]
    _minute, _hour, day, month, weekday = schedule["cron"].split()
    assert (day, month, weekday) == ("*", "*", "*"), "daily, so scheduled posts appear on their date"
    assert "workflow_dispatch" in on
    assert workflow["permissions"] == {"contents": "read", "pages": "write", "id-token": "write"}
    assert workflow["concurrency"]["group"] == "pages"
    assert workflow["concurrency"]["cancel-in-progress"] is False


def test_publish_checks_scheduled_posts_before_it_builds_and_deploys() -> None:
    workflow = load("publish.yml")
    build, deploy = workflow["jobs"]["build"], workflow["jobs"]["deploy"]
    pages = uses(build, "actions/configure-pages")
    check_steps = [s for s in steps(build) if "qsite check" in s.get("run", "")]
    build_steps = [s for s in steps(build) if "qsite build" in s.get("run", "")]
    assert len(check_steps) == 1 and len(build_steps) == 1
    [check] = command_words(check_steps[0]["run"])
    assert check[:3] == ["check", "--strict", "--future"]
    assert not check_steps[0].get("continue-on-error")  # a problem stops the job, so deploy never runs
    # it checks the site at the address it is published at
    assert check_steps[0]["env"] == build_steps[0]["env"]
    assert check[check.index("--base-url") + 1] == "$BASE_URL"
    order = steps(build)
    upload = uses(build, "actions/upload-pages-artifact")
    assert order.index(pages) < order.index(check_steps[0]) < order.index(build_steps[0]) < order.index(upload)
    assert deploy["needs"] == "build"

    [[_, *args]] = command_words(build_steps[0]["run"])
    base_url = args[args.index("--base-url") + 1]
    assert build_steps[0]["env"][base_url.removeprefix("$")] == "${{ steps." + pages["id"] + ".outputs.base_url }}"
    cache = uses(build, "actions/cache")
    assert cache["with"]["path"] == ".qsite-cache"
    assert order.index(pages) < order.index(cache) < order.index(build_steps[0])
    assert deploy["environment"]["name"] == "github-pages"
    deployment = uses(deploy, "actions/deploy-pages")
    assert deploy["environment"]["url"] == "${{ steps." + deployment["id"] + ".outputs.page_url }}"


def test_published_files_are_the_site_without_the_marker(tmp_path: Path) -> None:
    """The step between build and upload, run on a real build: everything the site has,
    .well-known/ included, and not qsite's .qsite-output marker."""
    build = load("publish.yml")["jobs"]["build"]
    [[_, *args]] = [c for c in qsite_commands(build) if c[0] == "build"]
    output = args[args.index("--output") + 1]
    upload = uses(build, "actions/upload-pages-artifact")
    assert upload["with"]["include-hidden-files"] is True  # .well-known/ is published
    step = named(build, "marker")
    assert steps(build).index(step) == steps(build).index(upload) - 1

    root = write_site(tmp_path / "repo", {**site_files(GOOD), "content/.well-known/security.txt": "Contact: x\n"})
    made = subprocess.run([str(BIN / "qsite"), "build", "--quiet", "--output", output], cwd=root,
                          capture_output=True, text=True, timeout=300)
    assert made.returncode == 0, made.stderr
    assert (root / output / ".qsite-output").is_file()
    done = run_step(step, root)
    assert done.returncode == 0, done.stderr
    published = root / upload["with"]["path"]
    files = {p.relative_to(published).as_posix() for p in published.rglob("*") if p.is_file()}
    built = {p.relative_to(root / output).as_posix() for p in (root / output).rglob("*") if p.is_file()}
    assert files == built - {".qsite-output"}
    assert ".well-known/security.txt" in files and "posts/good/index.html" in files
    assert (root / output / ".qsite-output").is_file()  # the output folder itself keeps its marker


def test_readme_says_how_to_switch_pages_to_github_actions() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Publishing", 1)[1].split("\n## ", 1)[0]
    assert "Settings → Pages" in section and "**GitHub Actions**" in section
    for name in NAMES:
        assert name in section


# --- sending the digest ------------------------------------------------------------------------


def test_send_digest_is_run_by_hand_with_secrets_and_records_the_sending() -> None:
    workflow = load("send-digest.yml")
    assert workflow["on"] == {"workflow_dispatch": None}
    assert workflow["permissions"]["contents"] == "write"
    [job] = workflow["jobs"].values()
    send = named(job, "Send")
    assert command_words(send["run"]) == [["digest", "--send", "--base-url", "$BASE_URL"]]  # the latest finished
    for variable in ENV.values():
        assert send["env"][variable] == "${{ secrets." + variable + " }}"
    record = named(job, "Record")
    assert steps(job).index(send) < steps(job).index(record)
    assert f"git add {SENT_FILE}" in record["run"] and "git push" in record["run"]
    assert "secrets." not in record["run"] and "env" not in record
