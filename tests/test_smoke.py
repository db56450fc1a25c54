from conftest import BASE, post


def test_post_listed_under_its_theme(build_site):
    site = build_site(
        {
            **BASE,
            "content/posts/a.md": post("A", "2020-04-01", "[staff-wellbeing]"),
            "content/posts/b.md": post("B", "2020-04-02", "[space-to-learn]"),
        }
    )
    site.assert_lines(
        "themes/staff-wellbeing/index.html",
        """
        href="/posts/a/">A</a>
        ! href="/posts/b/"
        """,
    )
