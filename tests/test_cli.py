"""The command line: exit codes 0/1/2, messages on stderr, never a traceback for bad input.

Most tests call ``cli.main(argv)`` in this process (its return value is the exit code, capsys
holds what it printed); a few run ``python -m qsite`` and the installed ``qsite`` script, to prove
the exit code reaches the shell.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from qsite import __version__
from qsite.cli import COMMANDS, main
from qsite.serve import build_in_memory

from conftest import BASE, copy_templates, post, tree, with_signals, write_files


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
    "new": "--source -s --theme -t --tag --author --draft --slug --date --reply-to --role",
    "check": "--source -s --drafts --future --base-url --strict",
    "serve": "--source -s --host --port -p",
    "digest": "--source -s --drafts --future --base-url --output -o --print --eml --send --again",
    "diff": "",  # issue 13: two folders, no options
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


# -- interrupted builds (issue 15) ----------------------------------------------------------------


def staging_started(root: Path) -> bool:
    """Whether the build has begun writing: a file in its staging folder beside output/."""
    return any(p.is_file() for staging in root.glob(".output.staging-*") for p in staging.rglob("*"))


@pytest.mark.parametrize(
    ("signum", "group"),
    [(signal.SIGINT, True), (signal.SIGTERM, False)],
    ids=["ctrl-c", "kill"],  # Ctrl-C signals the terminal's whole process group, worker processes included
)
def test_an_interrupted_build_leaves_the_old_output(tmp_path, signum, group):
    # Enough posts that rendering them takes a good while (0.6 s on an idle machine) after the
    # first file is staged; no search index, which would only make the test slower.
    posts = {f"content/posts/p{i:03}.md": post(f"Post {i}", f"2020-{1 + i % 12:02}-{1 + i % 28:02}") for i in range(300)}
    root = make_site(tmp_path / "site", posts)
    assert run("build", "-q", "--no-search", cwd=root).returncode == 0
    old = tree(root / "output")
    settings = root / "site.yaml"
    settings.write_text(settings.read_text().replace("title: Test Site", "title: Renamed Site"))  # every page changes

    proc = subprocess.Popen(
        with_signals([sys.executable, "-m", "qsite", "build", "-q", "--no-search"]),
        cwd=root, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        start_new_session=True,  # a process group of its own, like a command typed at a terminal
    )
    try:
        end = time.monotonic() + 60
        while not staging_started(root):
            assert proc.poll() is None and time.monotonic() < end, "the build ended before it staged a file"
            time.sleep(0.005)
        if group:
            os.killpg(proc.pid, signum)
        else:
            proc.send_signal(signum)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 128 + signum, err  # 130 or 143, as a shell reports a process the signal stopped
    assert err == "Interrupted: the output folder still holds the last complete build.\n"  # from no worker either
    assert out == ""
    with pytest.raises(ProcessLookupError):
        os.killpg(proc.pid, 0)  # no worker process is left behind
    assert tree(root / "output") == old
    # the spare tree the first build left (qsite/write.py) is there still, and nothing else
    assert sorted(p.name for p in root.iterdir()) == [
        ".output.spare", ".qsite-cache", "content", "output", "site.yaml", "templates"
    ]

    if signum == signal.SIGTERM:  # and nothing left behind spoils the next build
        again = run("build", "-q", "--no-search", cwd=root)
        assert again.returncode == 0, again.stderr
        assert "Renamed Site" in (root / "output/index.html").read_text()


def test_a_reader_that_stops_early_gets_no_traceback(tmp_path):
    """``qsite build | head -1``: the pipe is closed before the summary is printed. That is the
    reader's choice, so no traceback (from the print or from the flush at exit), the status a
    shell gives a process SIGPIPE stopped, and the build itself complete."""
    root = make_site(tmp_path / "site", {"content/posts/a.md": post("A", "2020-04-01")})
    read, write = os.pipe()
    os.close(read)  # the reader is gone before the first line is written
    try:
        result = subprocess.run(
            [sys.executable, "-m", "qsite", "build", "--no-search"],
            cwd=root, stdout=write, stderr=subprocess.PIPE, text=True, timeout=60,
        )
    finally:
        os.close(write)
    assert result.stderr == ""
    assert result.returncode == 128 + signal.SIGPIPE
    assert "<title>A" in (root / "output/posts/a/index.html").read_text()


# -- the environment it runs in (issue 15) -------------------------------------------------------


def test_new_without_a_theme_and_with_standard_input_closed_is_a_usage_error(tmp_path):
    """Cron, some CI runners and ``cmd 0<&-`` start a process with no standard input at all
    (Python's ``sys.stdin`` is then None): no terminal to ask on, so the same message as for
    a pipe, not a traceback."""
    root = make_site(tmp_path / "site", {})
    closed = ["sh", "-c", 'exec "$0" "$@" 0<&-', sys.executable, "-m", "qsite", "new", "Huddles"]
    result = subprocess.run(closed, cwd=root, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2, result.stderr
    assert "--theme: error: no theme given" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (root / "content/posts").exists()


def test_a_build_under_umask_077_is_still_world_readable(tmp_path):
    """The output is for a web server, usually another user: files and folders are made
    readable by all (write.py's modes) whatever the umask of the shell or CI job that built
    them, the search index (made by Pagefind, another program) included."""
    root = make_site(tmp_path / "site", {"content/posts/a.md": post("A", "2020-04-01")})
    result = subprocess.run(
        [sys.executable, "-m", "qsite", "build", "-q"], cwd=root, capture_output=True, text=True, timeout=120, umask=0o077
    )
    assert result.returncode == 0, result.stderr
    out = root / "output"
    paths = [out, *out.rglob("*")]
    assert any(p.name == "pagefind.js" for p in paths)  # the search index is there to check
    for path in paths:
        needed = 0o005 if path.is_dir() else 0o004
        assert path.stat().st_mode & needed == needed, f"{path.relative_to(out)} is {oct(path.stat().st_mode)}"
