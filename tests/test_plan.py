"""Planning (qsite/plan.py, issue 10): every page, the digest's included, is planned once with
its digest context, its source file and, for an email edition, the address it is finished
against; the render step finishes what its job asks for, and each output carries its job's
template, source and URL. Tiny templates print exactly the values under test."""

from __future__ import annotations

from pathlib import Path

from qsite.build import BuildResult, Options, configure, render_site
from qsite.render import Job, Renderer

from conftest import NOW, post, write_files

SITE = """\
title: Test Site
description: A site for tests.
base_url: https://example.org/
posts_per_page: 1
themes:
  - slug: staff-wellbeing
    title: Staff wellbeing
    description: Looking after the people who care.
"""

# Every template the plan names, each printing its URL path; the ones under test print more.
TEMPLATES: dict[str, str] = {
    f"templates/{name}": "{{ path }}|\n"
    for name in (
        "page.html", "themes.html", "tags.html", "tag.html", "archive.html", "404.html", "search.html",
        "accessibility.html", "feed.xml", "robots.txt", "digest.html", "email.txt",
        "digest-feed.xml",
    )
}
TEMPLATES.update(
    {
        "templates/index.html": "{{ path }}|latest={{ digest.latest.key if digest.latest else '' }}|"
        "featured={{ digest.featured | map(attribute='slug') | join(',') }}|\n",
        "templates/post.html": "{{ path }}|{{ post_edition.label if post_edition else 'none' }}|"
        "{{ post_edition.url if post_edition else '' }}|\n",
        "templates/theme.html": "{{ path }}|takeaways={{ digest.takeaways[theme.slug] | map(attribute='slug')"
        " | join(',') }}|\n",
        "templates/digests.html": "{{ path }}|{{ digest.editions | map(attribute='key') | join(',') }}|\n",
        "templates/sitemap.xml": "{% for path, _ in entries %}{{ path }}|{% endfor %}\n",
        "templates/email.html": "<html><head><style>p { color: red }</style></head>"
        '<body><p><a href="/posts/a/">{{ edition.label }}</a></p></body></html>\n',
        "templates/note.html": '<html><head><style>p { color: blue }</style></head><body><p><a href="/x/">x</a>'
        "</p></body></html>\n",
    }
)

FILES: dict[str, str] = {
    "site.yaml": SITE,
    **TEMPLATES,
    "content/posts/a.md": post("A", "2020-04-01", featured="true", takeaways="[Huddles help]"),
    "content/posts/b.md": post("B", "2020-05-02"),
    "content/digests/2020-04.md": "---\neditor: Digest group\npicks: [a]\n---\nIntro.\n",
}


def render(root: Path) -> BuildResult:
    write_files(root, FILES)  # type: ignore[arg-type]
    options = Options(now=NOW, search=False)
    return render_site(configure(root, options), options)


def test_each_page_gets_its_digest_context_when_planned(tmp_path: Path) -> None:
    result = render(tmp_path)
    files = {o.path: o.data.decode() for o in result.outputs if not o.path.endswith(".png")}  # not cards
    assert files["posts/a/index.html"] == "posts/a/|April 2020|/digest/2020-04/|\n"
    assert files["posts/b/index.html"] == "posts/b/|May 2020|/digest/2020-05/|\n"
    # the home page's first page shows the latest edition and the picks; its second, nothing
    assert files["index.html"] == "|latest=2020-05|featured=a|\n"
    assert files["page/2/index.html"] == "page/2/|latest=|featured=|\n"
    assert files["themes/staff-wellbeing/index.html"] == "themes/staff-wellbeing/|takeaways=a|\n"
    assert files["themes/staff-wellbeing/page/2/index.html"] == "themes/staff-wellbeing/page/2/|takeaways=|\n"
    assert files["sitemap.xml"].split("|")[-4:-1] == ["digest/", "digest/2020-05/", "digest/2020-04/"]
    assert files["digest/2020-04/email.txt"] == "digest/2020-04/email.txt|\n"
    assert files["digest/index.html"] == "digest/|2020-05,2020-04|\n"  # the index alone gets every edition


def test_an_output_carries_the_template_source_and_url_of_its_job(tmp_path: Path) -> None:
    result = render(tmp_path)
    made = {o.path: (o.template, o.source, o.url) for o in result.outputs}
    assert made["posts/a/index.html"] == ("post.html", "content/posts/a.md", "posts/a/")
    assert made["digest/2020-04/index.html"] == ("digest.html", "content/digests/2020-04.md", "digest/2020-04/")
    assert made["digest/2020-04/email.html"] == ("email.html", "content/digests/2020-04.md", "digest/2020-04/email.html")
    assert made["digest/2020-05/index.html"] == ("digest.html", None, "digest/2020-05/")  # no editor wrote one
    assert made["page/2/index.html"] == ("index.html", None, "page/2/")  # a list shows no one file
    assert made["static/pygments.css"] == (None, None, None)


def test_the_email_edition_is_finished_because_its_job_asks(tmp_path: Path) -> None:
    result = render(tmp_path)
    email = next(o for o in result.outputs if o.path == "digest/2020-04/email.html").data.decode()
    assert "<style" not in email and 'style="color: red;"' in email
    assert 'href="https://example.org/posts/a/"' in email
    # whatever the template or the address: the job's ``mail`` is what asks for it
    assert result.site is not None and result.groups is not None
    renderer = Renderer(result.site, result.groups, tmp_path / "templates")
    plain = renderer.render(Job("note.html", "notes/", {})).data.decode()
    assert "<style>" in plain and 'href="/x/"' in plain
    mail = renderer.render(Job("note.html", "notes/", {}, mail="https://example.org/notes/")).data.decode()
    assert "<style" not in mail and 'style="color: blue;"' in mail
    assert 'href="https://example.org/x/"' in mail
