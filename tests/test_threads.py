"""Issue 11, threaded comments: ``reply_to`` nests a reply under the comment it answers,
``role`` and ``author_id`` say who the commenter is, a post's own author gets a badge, and each
way a thread can be wrong stops the build at its file and line. The thread's shape is printed
by a tiny template; the production markup (lists inside lists, the screen-reader text, the
badge, the count) is checked on the real templates."""

from __future__ import annotations

from conftest import BASE, TINY_BASE, post

PENNY = "---\nname: Penny Pereira\nrole: Head of Q\n---\nBio.\n"
THE_POST = post("Huddles", "2020-04-09", author="penny")

# Each comment on one line, indented by its depth: shows the nesting, the badge and the role.
THREAD = (
    "{% for c in comments | selectattr('reply_to', 'none') recursive %}"
    "{{ '  ' * (loop.depth - 1) }}{{ c.name }}|{{ c.author }}|{{ c.role }}|{{ c.in_reply_to }}|"
    "{{ 'badge' if c.post_author else '' }}|{{ c.author_url }}|\n{{ loop(c.replies) }}{% endfor %}"
    "count={{ comments | length }}\n"
)


def comment(author: str, date: str, body: str = "Thanks.", **extra: str) -> str:
    lines = [f"author: {author}", f"date: {date}"] + [f"{k}: {v}" for k, v in extra.items()]
    return "---\n" + "\n".join(lines) + "\n---\n" + body + "\n"


def thread_files(**comments: str) -> dict[str, str]:
    files = {
        **TINY_BASE,
        "templates/post.html": THREAD,
        "content/authors/penny.md": PENNY,
        "content/posts/huddles.md": THE_POST,
    }
    files.update({f"content/comments/huddles/{name}.md": text for name, text in comments.items()})
    return files


def test_a_three_level_thread_is_nested_with_the_post_authors_badge(build_site):
    site = build_site(
        thread_files(
            first=comment("Sam Okafor", "2020-04-10", role="Q member, seconded to an acute trust"),
            answer=comment("Penny Pereira", "2020-04-11", author_id="penny", reply_to="first"),
            again=comment("Sam Okafor", "2020-04-12", reply_to="answer"),
            other=comment("Ana Costa", "2020-04-10 12:00"),
        )
    )
    assert site.read("posts/huddles/index.html") == (
        "first|Sam Okafor|Q member, seconded to an acute trust|None||None|\n"
        "  answer|Penny Pereira|Head of Q|Sam Okafor|badge|/authors/penny/|\n"
        "    again|Sam Okafor|None|Penny Pereira||None|\n"
        "other|Ana Costa|None|None||None|\n"
        "count=4\n"
    )


def test_a_commenter_named_as_the_post_author_gets_the_badge_without_a_profile(build_site):
    files = {
        **TINY_BASE,
        "templates/post.html": THREAD,
        "content/posts/huddles.md": post("Huddles", "2020-04-09", author="Ward 7 Team"),
        "content/comments/huddles/a.md": comment("Ward 7 Team", "2020-04-10"),
        "content/comments/huddles/b.md": comment("Ward 8 Team", "2020-04-10"),
    }
    site = build_site(files)
    assert site.read("posts/huddles/index.html").splitlines()[:2] == [
        "a|Ward 7 Team|None|None|badge|None|",
        "b|Ward 8 Team|None|None||None|",
    ]


def test_the_real_post_page_nests_replies_with_screen_reader_text_and_counts_them(build_site):
    site = build_site(
        {
            **BASE,
            "content/authors/penny.md": PENNY,
            "content/posts/huddles.md": THE_POST,
            "content/comments/huddles/first.md": comment("Sam Okafor", "2020-04-10", role="Q member"),
            "content/comments/huddles/answer.md": comment(
                "Penny Pereira", "2020-04-11", "Thank you, Sam.", author_id="penny", reply_to="first"
            ),
        }
    )
    html = site.read("posts/huddles/index.html")
    site.assert_lines(
        "posts/huddles/index.html",
        """
        <a href="#comments">2 comments</a>
        <strong class="comment-author">Sam Okafor</strong>, <span class="comment-role">Q member</span>
        <ol class="comment-list comment-replies">
        <li class="comment by-post-author" id="comment-answer">
        <span class="visually-hidden">In reply to Sam Okafor: </span><strong class="comment-author"><a href="/authors/penny/">Penny Pereira</a></strong>, <span class="comment-role">Head of Q</span> <strong class="badge badge-author">Post author</strong>
        "commentCount":2
        """,
    )
    # the reply sits inside the first comment's list item, not beside it
    first = html.index('id="comment-first"')
    assert first < html.index('class="comment-list comment-replies"') < html.index('id="comment-answer"')
    assert html.index('id="comment-answer"') < html.index("</li>", first)


def test_each_thread_mistake_is_an_error_at_its_line(build_site):
    site = build_site(
        thread_files(
            first=comment("Sam", "2020-04-10"),
            typo=comment("Ana", "2020-04-11", reply_to="frist"),
            early=comment("Bo", "2020-04-09 08:00", reply_to="first"),
            before_post=comment("Cy", "2020-04-01"),
            loop_a=comment("Di", "2020-04-12", reply_to="loop_b"),
            loop_b=comment("Ed", "2020-04-12", reply_to="loop_a"),
            self_reply=comment("Fi", "2020-04-12", reply_to="self_reply"),
            stranger=comment("Gu", "2020-04-12", author_id="peny"),
        ),
        expect_ok=False,
    )
    text = "\n".join(site.messages())
    expected = [
        "content/comments/huddles/typo.md:4: error: reply_to names no comment 'frist' on this post\n"
        "    fix: did you mean 'first'?",
        "content/comments/huddles/early.md:3: error: this reply is dated before the comment it answers (first, 2020-04-10)",
        "content/comments/huddles/before_post.md:3: error: this comment is dated 2020-04-01, before its post (2020-04-09)",
        "content/comments/huddles/loop_a.md:4: error: these comments reply to each other in a loop: "
        "loop_a → loop_b → loop_a",
        "content/comments/huddles/loop_b.md:4: error: these comments reply to each other in a loop: "
        "loop_a → loop_b → loop_a",
        "content/comments/huddles/self_reply.md:4: error: these comments reply to each other in a loop: "
        "self_reply → self_reply",
        "content/comments/huddles/stranger.md:4: error: there is no author profile 'peny'\n    fix: did you mean 'penny'?",
    ]
    for message in expected:
        assert message in text
    assert site.error is not None and site.error.exit_code == 1


def test_a_very_long_chain_of_replies_nests_only_so_deep_and_builds(build_site):
    """Each reply answering the one before, 300 times: nested as deep as MAX_DEPTH, then side
    by side, each still naming whom it answers; no recursion limit is reached anywhere."""
    from qsite.comments import MAX_DEPTH

    chain = {"c0": comment("Person 0", "2020-04-10")}
    for i in range(1, 300):
        chain[f"c{i}"] = comment(f"Person {i}", "2020-04-10", reply_to=f"c{i - 1}")
    site = build_site(thread_files(**chain))
    lines = site.read("posts/huddles/index.html").splitlines()
    assert lines[0] == "c0|Person 0|None|None||None|"
    assert lines[MAX_DEPTH - 1] == "  " * (MAX_DEPTH - 1) + f"c{MAX_DEPTH - 1}|Person {MAX_DEPTH - 1}|None|Person {MAX_DEPTH - 2}||None|"
    assert lines[299] == "  " * MAX_DEPTH + "c299|Person 299|None|Person 298||None|"
    assert lines[-1] == "count=300"
