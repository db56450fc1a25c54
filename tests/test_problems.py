"""Each editor mistake → one exact ``path:line: error: message`` and a fix; never a traceback.

Lines are lines of the file, not of the YAML block (Hugo's TestErrorFrontmatterYAMLSyntax).
Sites use the tiny templates (conftest.TINY): a mistake is found before anything renders, and
what a fine post becomes is printed as ``post|url|title|``."""

import pytest

from conftest import TINY_BASE, post


def errors(build_site, files: dict[str, str | bytes]) -> list[str]:
    site = build_site({**TINY_BASE, **files}, expect_ok=False)
    assert site.error is not None, "the build should have failed"
    assert site.error.exit_code == 1
    return site.messages()


def only(build_site, files: dict[str, str | bytes]) -> str:
    (message,) = errors(build_site, files)
    return message


def test_unknown_field_did_you_mean(build_site):
    text = "---\ntitle: A\ndate: 2020-04-01\ntheme: [staff-wellbeing]\n---\nBody\n"
    messages = errors(build_site, {"content/posts/a.md": text})
    assert "content/posts/a.md:4: error: unknown front-matter field 'theme'\n    fix: did you mean 'themes'?" in messages
    assert "content/posts/a.md:1: error: this post has no themes" in "\n".join(messages)


def test_unknown_theme_did_you_mean(build_site):
    text = "---\ntitle: A\ndate: 2020-04-01\nthemes:\n  - space-to-learn\n  - staff-welbeing\n---\n"
    assert only(build_site, {"content/posts/a.md": text}) == (
        "content/posts/a.md:6: error: there is no theme 'staff-welbeing'\n    fix: did you mean 'staff-wellbeing'?"
    )


def test_line_counts_blank_lines_before_front_matter(build_site):
    text = "\n\n\n---\ntitle: A\ndate: 2020-04-01\nthemes: [staff-wellbeing]\nsumary: typo\n---\n"
    assert only(build_site, {"content/posts/a.md": text}).startswith(
        "content/posts/a.md:8: error: unknown front-matter field 'sumary'"
    )


def test_impossible_date(build_site):
    message = only(build_site, {"content/posts/a.md": post("A", "2020-02-30")})
    assert message.startswith("content/posts/a.md:3: error: '2020-02-30' is not a real date")


def test_date_in_the_wrong_shape(build_site):
    message = only(build_site, {"content/posts/a.md": post("A", "14/04/2020")})
    assert message.startswith("content/posts/a.md:3: error: '14/04/2020' is not a date; write it as YYYY-MM-DD")


def test_missing_title_and_date(build_site):
    messages = errors(build_site, {"content/posts/a.md": "---\nthemes: [staff-wellbeing]\n---\nBody\n"})
    assert messages == [
        "content/posts/a.md:1: error: this post has no date\n"
        "    fix: add 'date: YYYY-MM-DD' to the front matter, or start the file name with the date",
        "content/posts/a.md:1: error: this post has no title\n    fix: add a line 'title: …' to the front matter",
    ]


def test_norway_problem_stays_text(build_site):
    site = build_site(
        {**TINY_BASE, "content/posts/2020-04-01-no.md": "---\ntitle: no\nthemes: [staff-wellbeing]\ntags: [on, 10:30]\n---\n"}
    )
    site.assert_lines("posts/no/index.html", "post|/posts/no/|no|")
    assert site.exists("tags/on/index.html")
    assert site.exists("tags/10-30/index.html")


def test_draft_must_be_a_real_boolean(build_site):
    message = only(build_site, {"content/posts/a.md": post("A", "2020-04-01", draft="no")})
    assert message == "content/posts/a.md:5: error: draft should be true or false, not 'no'\n    fix: draft: true"


def test_duplicate_key(build_site):
    text = "---\ntitle: A\ndate: 2020-04-01\ntitle: B\nthemes: [staff-wellbeing]\n---\n"
    assert only(build_site, {"content/posts/a.md": text}).startswith(
        "content/posts/a.md:4: error: 'title' is given twice (first on line 2)"
    )


def test_anchors_and_aliases_refused(build_site):
    text = "---\ntitle: &t A\ndate: 2020-04-01\nthemes: [staff-wellbeing]\nsummary: *t\n---\n"
    assert only(build_site, {"content/posts/a.md": text}).startswith(
        "content/posts/a.md:2: error: YAML anchors (&t) are not allowed here"
    )


def test_alias_bomb_is_a_message_not_a_hang(build_site):
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]\n" for i in range(9)
    )
    text = "---\ntitle: A\n" + bomb + "---\n"
    assert "YAML anchors (&a) are not allowed here" in only(build_site, {"content/posts/a.md": text})


def test_python_tags_refused(build_site):
    text = "---\ntitle: !!python/object/apply:os.system ['echo hacked']\ndate: 2020-04-01\nthemes: [staff-wellbeing]\n---\n"
    assert only(build_site, {"content/posts/a.md": text}).startswith(
        "content/posts/a.md:2: error: the YAML tag !!python/object/apply:os.system is not allowed"
    )


def test_deep_nesting(build_site):
    text = "---\ntitle: A\nsummary: " + "[" * 200 + "]" * 200 + "\n---\n"
    assert "nested more than" in only(build_site, {"content/posts/a.md": text})


def test_not_utf8(build_site):
    text = b"---\ntitle: Caf\xe9\ndate: 2020-04-01\nthemes: [staff-wellbeing]\n---\n"
    assert only(build_site, {"content/posts/a.md": text}).startswith(
        "content/posts/a.md:2: error: the file is not UTF-8 text (byte 0xe9 on this line)"
    )


def test_empty_file(build_site):
    assert only(build_site, {"content/posts/a.md": ""}).startswith("content/posts/a.md:1: error: the file is empty")


def test_no_front_matter(build_site):
    assert only(build_site, {"content/posts/a.md": "Just some text\n"}).startswith(
        "content/posts/a.md:1: error: the file does not start with front matter"
    )


def test_unclosed_front_matter(build_site):
    assert only(build_site, {"content/posts/a.md": "---\ntitle: A\n\nBody\n"}).startswith(
        "content/posts/a.md:1: error: the front matter that starts here is never closed"
    )


def test_unquoted_colon_gets_a_quoting_fix(build_site):
    text = "---\ntitle: Huddles: what we learned\ndate: 2020-04-01\nthemes: [staff-wellbeing]\n---\n"
    message = only(build_site, {"content/posts/a.md": text})
    assert message.startswith("content/posts/a.md:2: error: this is not valid YAML")
    assert 'title: "Huddles: what we learned"' in message


def test_bom_and_crlf_are_fine(build_site):
    text = "\ufeff---\r\ntitle: Windows post\r\ndate: 2020-04-01\r\nthemes: [staff-wellbeing]\r\n---\r\nBody\r\n"
    site = build_site({**TINY_BASE, "content/posts/a.md": text.encode("utf-8")})
    site.assert_lines("posts/a/index.html", "post|/posts/a/|Windows post|2020-04-01T00:00:00+01:00|")


def test_every_problem_of_every_file_in_one_run(build_site):
    messages = errors(
        build_site,
        {
            "content/posts/a.md": post("A", "2020-02-30"),
            "content/posts/b.md": post("B", "2020-04-01", "[nope]"),
            "content/posts/c.md": "",
            "content/pages/about.md": "---\ntitle: About\ndate: 2020-01-01\n---\n",
        },
    )
    assert [m.split(": error")[0] for m in messages] == [
        "content/pages/about.md:3",
        "content/posts/a.md:3",
        "content/posts/b.md:4",
        "content/posts/c.md:1",
    ]


def test_explicit_slug_must_be_a_slug(build_site):
    message = only(build_site, {"content/posts/a.md": post("A", "2020-04-01", slug="Huddles & Us")})
    assert message == (
        "content/posts/a.md:5: error: slug 'Huddles & Us' can only have lower-case letters, digits and single hyphens\n"
        "    fix: slug: huddles-and-us"
    )


@pytest.mark.parametrize("slug", ["../../etc", "/abs", "a/b", "%2e%2e", ".."])
def test_slug_cannot_leave_its_folder(build_site, slug):
    message = only(build_site, {"content/posts/a.md": post("A", "2020-04-01", slug=f"'{slug}'")})
    assert "can only have lower-case letters" in message


def test_two_posts_one_url_names_both(build_site):
    message = only(
        build_site,
        {
            "content/posts/2020-04-01-huddles.md": post("A", "2020-04-01"),
            "content/posts/old/huddles.md": post("B", "2020-05-01"),
        },
    )
    assert message.startswith(
        "content/posts/old/huddles.md: error: this and content/posts/2020-04-01-huddles.md would both be published at /posts/huddles/"
    )


def test_page_cannot_take_reserved_path(build_site):
    message = only(build_site, {"content/pages/tags.md": "---\ntitle: Tags\n---\n"})
    assert "the page URL /tags/ is reserved" in message


def test_theme_given_as_plain_text_is_accepted(build_site):
    site = build_site({**TINY_BASE, "content/posts/a.md": post("A", "2020-04-01", "space-to-learn")})
    site.assert_lines("themes/space-to-learn/index.html", "/posts/a/|A|")


def test_too_many_takeaways(build_site):
    lines = "".join(f"  - point {i}\n" for i in range(6))
    text = f"---\ntitle: A\ndate: 2020-04-01\nthemes: [staff-wellbeing]\ntakeaways:\n{lines}---\n"
    assert "there are 6 takeaways; keep it to 5 at most" in only(build_site, {"content/posts/a.md": text})
