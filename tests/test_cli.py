"""The command line: exit codes 0/1/2, messages on stderr, never a traceback for bad input.

Most tests call ``cli.main(argv)`` in this process (its return value is the exit code, capsys
holds what it printed); a few run ``python -m qsite`` and the installed ``qsite`` script, to prove
the exit code reaches the shell.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from qsite import __version__
from qsite.cli import COMMANDS, main
from qsite.serve import build_in_memory

from conftest import BASE, copy_templates, post, write_files


def make_site(root: Path, files: dict[str, str | bytes]) -> Path:
    write_files(root, {**BASE, **files})
    copy_templates(root)
    return root


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "qsite", *args], cwd=cwd, capture_output=True, text=True, timeout=60)


# -- in this process ----------------------------------------------------------------------------


def test_build_ok_prints_a_summary(tmp_path, monkeypatch, capsys):
    root = make_site(tmp_path / "site", {"content/posts/a.md": post("A", "2020-04-01")})
    monkeypatch.chdir(root)  # --source defaults to the current folder
    assert main(["build", "--no-search"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith(f"Built 1 posts and 0 pages into {root / 'output'}: ")
    assert out[1] == "Search: not indexed (--no-search)."
    assert (root / "output/posts/a/index.html").exists()


def test_content_errors_exit_1_listing_every_problem(tmp_path, capsys):
    root = make_site(
        tmp_path / "site",
        {"content/posts/a.md": post("A", "2020-02-30"), "content/posts/b.md": post("B", "2020-04-01", "[staff-welbeing]")},
    )
    assert main(["build", "--source", str(root)]) == 1
    lines = capsys.readouterr().err.splitlines()
    assert lines[0].startswith("content/posts/a.md:3: error: '2020-02-30' is not a real date")
    assert "content/posts/b.md:4: error: there is no theme 'staff-welbeing'" in lines
    assert "    fix: did you mean 'staff-wellbeing'?" in lines
    assert lines[-1] == "Found 2 errors."
    assert not (root / "output").exists()


def test_config_error_exits_2(tmp_path, capsys):
    root = make_site(tmp_path / "site", {"site.yaml": BASE["site.yaml"] + "colour: blue\n"})
    assert main(["build", "--source", str(root)]) == 2
    err = capsys.readouterr().err
    assert "site.yaml:" in err and "unknown setting 'colour'" in err


def test_missing_site_yaml_exits_2(tmp_path, capsys):
    assert main(["build", "--source", str(tmp_path)]) == 2
    assert "there is no site.yaml here" in capsys.readouterr().err


def test_refused_output_exits_2(tmp_path, capsys):
    root = make_site(tmp_path / "site", {})
    assert main(["build", "--source", str(root), "--output", str(root / "content")]) == 2
    assert "refusing to use this output folder: it is inside content/" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["build", "--no-such-flag"], "unrecognized arguments: --no-such-flag"),
        (["build", "--jobs", "0"], "'0' is not a whole number of at least 1"),
        (["serve", "--port", "70000"], "70000 is not a port number (0 to 65535)"),
        (["build", "--source", "/no/such/folder"], "/no/such/folder is not a folder"),
        (["publish"], "invalid choice: 'publish'"),
        ([], "the following arguments are required: COMMAND"),
    ],
)
def test_usage_errors_return_2_with_the_usage(argv, message, capsys):
    assert main(argv) == 2  # returned, not raised: main is the one place that decides the exit code
    err = capsys.readouterr().err
    assert err.startswith("usage: qsite")
    assert message in err


def test_source_and_output_options(tmp_path, monkeypatch, capsys):
    root = make_site(tmp_path / "site", {"content/posts/a.md": post("A", "2020-04-01")})
    monkeypatch.chdir(tmp_path)
    argv = ["build", "--source", str(root), "--output", "public", "--base-url", "https://x.example/sub/", "-q"]
    assert main(argv) == 0
    assert capsys.readouterr().out == ""
    assert 'href="/sub/posts/a/"' in (tmp_path / "public/index.html").read_text()


def test_version(capsys):
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"qsite {__version__}"


def test_help_lists_every_command_of_the_table(capsys):
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    listed = re.findall(r"^    (\w+) +(.+)$", out, re.MULTILINE)
    assert listed == [(c.name, c.help) for c in COMMANDS]


# Every option each command had before the commands became one table (issue 10): none may be lost.
OPTIONS = {
    "build": "--source -s --drafts --future --base-url --output -o --quiet -q --no-search --jobs -j --no-cache",
    "clean": "--source -s --output -o",
    "new": "--source -s --theme -t --tag --author --draft --slug",
    "check": "--source -s --drafts --future --base-url --strict",
    "serve": "--source -s --host --port -p",
    "digest": "--source -s --drafts --future --base-url --output -o --print",
}


@pytest.mark.parametrize("name", OPTIONS)
def test_each_command_keeps_its_options(name, capsys):
    assert main([name, "--help"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: qsite {name}")
    found = set(re.findall(r"(?<![\w-])(--?[a-z][a-z-]*)", out.split("options:", 1)[1])) - {"-h", "--help"}
    assert found == set(OPTIONS[name].split())


def test_shared_options_read_the_same_in_every_command(capsys):
    """--source, --output and the site options are defined once, so their help cannot drift apart."""
    helps = {}
    for command in COMMANDS:
        assert main([command.name, "--help"]) == 0
        helps[command.name] = capsys.readouterr().out
    for option in ("--source DIR, -s DIR", "--output DIR, -o DIR", "--base-url URL"):
        lines = {line.strip() for out in helps.values() for line in out.splitlines() if line.strip().startswith(option)}
        assert len(lines) == 1, lines


def test_serve_reads_site_yaml_as_build_does(tmp_path, capsys):
    """serve configures through the same path as build: a bad base_url is the same problem in both."""
    root = make_site(tmp_path / "site", {"site.yaml": BASE["site.yaml"].replace("https://example.org/", "ftp://example.org/")})
    assert main(["build", "--source", str(root)]) == 2
    built = capsys.readouterr().err.splitlines()
    attempt = build_in_memory(root, "http://127.0.0.1:8000")
    assert attempt.files is None
    served = [line for problem in attempt.problems for line in problem.format().splitlines()]
    assert served and served == built[: len(served)]
    assert "base_url" in served[0]


# -- real processes: the exit code reaches the shell ---------------------------------------------


def test_python_m_qsite_exits_with_the_code(tmp_path):
    root = make_site(tmp_path / "site", {"content/posts/a.md": post("A", "2020-02-30")})
    content = run("build", cwd=root)
    assert content.returncode == 1
    assert "Traceback" not in content.stderr
    assert content.stderr.splitlines()[-1] == "Found 1 error."
    usage = run("build", "--no-such-flag", cwd=tmp_path)
    assert usage.returncode == 2
    assert "usage:" in usage.stderr


def test_the_installed_script_runs_cli_main(tmp_path):
    """pyproject's ``qsite = "qsite.cli:main"``: the script exits with main's return value."""
    script = Path(sys.executable).with_name("qsite")
    if not script.exists():
        pytest.skip("qsite is not installed as a script beside this Python (run `make test`)")
    version = subprocess.run([script, "--version"], capture_output=True, text=True, timeout=60)
    assert (version.returncode, version.stdout.strip()) == (0, f"qsite {__version__}")
    missing = subprocess.run([script, "check", "--source", str(tmp_path)], capture_output=True, text=True, timeout=60)
    assert missing.returncode == 2
    assert "there is no site.yaml here" in missing.stderr
