"""Issue 11: ``qsite new comment POST --author NAME [--reply-to NAME] [--role TEXT]`` writes a
comment file the build accepts as it is (a reply nested under its parent), and refuses a post
or a comment that does not exist with a did-you-mean. Run in-process through ``cli.main``."""

from __future__ import annotations

from pathlib import Path

import pytest

from qsite import cli
from qsite.build import Options, build

from conftest import NOW, TINY_BASE, post, write_files

THREAD = (
    "{% for c in comments | selectattr('reply_to', 'none') recursive %}"
    "{{ '  ' * (loop.depth - 1) }}{{ c.author }}|{{ c.role }}|{{ 'badge' if c.post_author else '' }}|\n"
    "{{ loop(c.replies) }}{% endfor %}"
)


@pytest.fixture
def site(tmp_path: Path) -> Path:
    write_files(
        tmp_path,
        {
            **TINY_BASE,
            "templates/post.html": THREAD,
            "content/authors/penny.md": "---\nname: Penny Pereira\n---\n",
            "content/posts/2020-04-09-huddles.md": post("Huddles", "2020-04-09", author="penny"),
            "content/comments/huddles/first.md": "---\nauthor: Sam\ndate: 2020-04-10\n---\nThanks.\n",
        },
    )
    return tmp_path


def test_new_comment_writes_a_reply_that_builds_nested(site: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["new", "comment", "huddles", "--author", "penny", "--reply-to", "first", "--role", "Head of Q",
            "--source", str(site)]
    assert cli.main(argv) == 0
    rel = capsys.readouterr().out.strip()
    assert rel.startswith("content/comments/huddles/") and rel.endswith("-penny-pereira.md")
    text = (site / rel).read_text(encoding="utf-8")
    assert 'author: "Penny Pereira"\n' in text and "author_id: penny\n" in text
    assert 'reply_to: "first"\n' in text and 'role: "Head of Q"\n' in text
    # a second one on the same day gets its own file, never the first one's
    assert cli.main(argv) == 0
    assert capsys.readouterr().out.strip().endswith("-penny-pereira-2.md")
    build(site, Options(output=site / "output", now=NOW.replace(year=2099)))
    page = (site / "output/posts/huddles/index.html").read_text(encoding="utf-8")
    assert page == "Sam|None||\n  Penny Pereira|Head of Q|badge|\n  Penny Pereira|Head of Q|badge|\n"


def test_new_comment_with_a_free_text_author(site: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["new", "comment", "huddles", "--author", "Ana: Costa", "--source", str(site)]) == 0
    text = (site / capsys.readouterr().out.strip()).read_text(encoding="utf-8")
    assert 'author: "Ana: Costa"\n' in text and "author_id" not in text and "reply_to" not in text
    # a post may still be titled "Comment": only "comment POST" is a comment
    assert cli.main(["new", "Comment", "--theme", "staff-wellbeing", "--source", str(site)]) == 0
    assert capsys.readouterr().out.strip().endswith("-comment.md")


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["hudles", "--author", "Sam"], "POST: error: there is no post 'hudles'\n    fix: did you mean 'huddles'?"),
        (["huddles", "--author", "Sam", "--reply-to", "frist"],
         "--reply-to: error: there is no comment 'frist' on 'huddles'\n    fix: did you mean 'first'?"),
        (["huddles"], "--author: error: give the commenter's name once"),
    ],
)
def test_new_comment_refuses_what_does_not_exist(
    site: Path, capsys: pytest.CaptureFixture[str], args: list[str], expected: str
) -> None:
    assert cli.main(["new", "comment", *args, "--source", str(site)]) == 2
    assert expected in capsys.readouterr().err
    assert sorted(p.name for p in (site / "content/comments/huddles").iterdir()) == ["first.md"]


@pytest.mark.parametrize("option", [["--theme", "staff-wellbeing"], ["--tag", "huddles"], ["--draft"],
                                    ["--slug", "x"], ["--date", "2020-04-12"]])
def test_new_comment_refuses_options_only_a_post_has(
    site: Path, capsys: pytest.CaptureFixture[str], option: list[str]
) -> None:
    before = sorted(p.name for p in (site / "content/comments/huddles").iterdir())
    assert cli.main(["new", "comment", "huddles", "--author", "Sam", *option, "--source", str(site)]) == 2
    assert f"{option[0]} is for posts, not comments" in capsys.readouterr().err
    assert sorted(p.name for p in (site / "content/comments/huddles").iterdir()) == before  # nothing written
