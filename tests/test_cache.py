"""The build cache and parallel builds must never change a byte of the output.

The property test edits a site at random — bodies, titles, themes, dates, deletions, renames,
new posts, templates, site.yaml — and after every edit compares a warm build (cache and
previous output reused) with a clean cold build, file for file. The edits cover every kind of
file an editor writes: posts, comments, digest edition files, site.yaml and its sections.
"""

from __future__ import annotations

import os
import random
import shutil
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from qsite import cli
from qsite.build import Options, build
from qsite.incremental import cache as cache_module
from qsite.incremental import cachefiles

from conftest import NOW, SITE_YAML, copy_templates, post, write_files
from search_index import comparable

THEMES = ("health-inequalities", "staff-wellbeing", "space-to-learn", "collaborative-improvement")
TAGS = ("huddles", "night shifts", "peer support", "run charts", "interpreters")


def tree(folder: Path) -> dict[str, bytes]:
    """Every file's bytes; in Pagefind's bundle, the few files Pagefind names and orders
    differently each time it indexes the very same HTML are compared by what they say, and
    every page's indexed text, URL and filters byte for byte (tests/search_index.py)."""
    files = {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and not p.relative_to(folder).as_posix().startswith("pagefind/")
    }
    if (folder / "pagefind").is_dir():
        files.update(comparable(folder))
    return files


def stamps(folder: Path) -> dict[str, tuple[int, int]]:
    return {
        p.relative_to(folder).as_posix(): (p.stat().st_mtime_ns, p.stat().st_ino)
        for p in folder.rglob("*")
        if p.is_file()
    }


def random_post(rng: random.Random, n: int) -> str:
    themes = rng.sample(THEMES, k=rng.randint(1, 3))
    tags = rng.sample(TAGS, k=rng.randint(0, 3))
    body = "\n\n".join(
        [f"Paragraph {rng.randint(0, 999)} about [post one](/posts/p0/)."]
        + [f"## Heading {k}\n\n- item {rng.randint(0, 9)}\n- item two" for k in range(rng.randint(0, 2))]
    )
    extra = {"tags": f"[{', '.join(tags)}]"} if tags else {}
    if rng.random() < 0.3:
        extra["summary"] = f"Summary {rng.randint(0, 99)}"
    if rng.random() < 0.4:  # theme pages and digests show takeaways
        extra["takeaways"] = f"[Lesson {rng.randint(0, 99)}]"
    if rng.random() < 0.3:  # the home page shows featured posts
        extra["featured"] = "true"
    return post(f"Post {n} v{rng.randint(0, 99)}", f"2020-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}",
                f"[{', '.join(themes)}]", body, **extra)


def start_site(root: Path, rng: random.Random, count: int = 8) -> None:
    files: dict[str, str | bytes] = {"site.yaml": SITE_YAML.replace("posts_per_page: 10", "posts_per_page: 2")}
    for n in range(count):
        files[f"content/posts/p{n}.md"] = random_post(rng, n)
    # Scheduled: published only once the test's clock passes their dates (see "time" edits).
    files["content/posts/soon.md"] = post("Soon", "2021-12-03", "[space-to-learn]", takeaways="[Due soon]")
    files["content/posts/later.md"] = post("Later", "2022-01-10", featured="true")
    files["content/pages/about.md"] = "---\ntitle: About\n---\nAbout us.\n"
    files["content/images/a.svg"] = "<svg xmlns='http://www.w3.org/2000/svg'/>"
    write_files(root, files)
    copy_templates(root)


def edit(root: Path, rng: random.Random, step: int) -> str:
    """One random edit of the kinds editors and developers make; returns what it did.
    ("nothing" and "time" edit no file: the test's clock moves on in "time".)"""
    posts = sorted((root / "content/posts").glob("*.md"))
    kind = rng.choice(["body", "title", "themes", "date", "delete", "rename", "add", "template", "config",
                       "takeaways", "featured", "touch", "nothing", "time", "comment", "edition", "section"])
    if kind in ("nothing", "time"):
        return kind
    if kind == "edition":  # a digest edition file, new or rewritten (an empty month is only a warning)
        path = root / f"content/digests/2020-0{rng.randint(1, 9)}.md"
        write_files(root, {path.relative_to(root).as_posix(): f"---\neditor: Editor {step}\n---\nIntroduction {step}.\n"})
        return f"{kind} {path.name}"
    if kind == "section":  # one theme's description in site.yaml
        path = root / "site.yaml"
        lines = path.read_text().splitlines()
        at = rng.choice([i for i, ln in enumerate(lines) if ln.startswith("    description:")])
        lines[at] = f"    description: Described at step {step}."
        path.write_text("\n".join(lines) + "\n")
        return f"{kind} {lines[at - 2].strip()}"
    if not posts and kind not in ("template", "config"):
        kind = "add"
    if kind == "add":
        (root / f"content/posts/new{step}.md").write_text(random_post(rng, 100 + step))
        return kind
    if kind in ("template", "config"):
        if kind == "template":
            name = rng.choice(["post.html", "partials/macros.html", "base.html", "tag.html", "feed.xml"])
            path = root / "templates" / name
            if name == "partials/macros.html":
                text = path.read_text().replace('<ol class="post-list">', f'<ol class="post-list" data-v="{step}">')
            else:
                text = path.read_text().replace("{% block main %}", f"{{% block main %}}<!-- v{step} -->", 1)
                if text == path.read_text():
                    text = text.replace("<feed ", f"<feed data-v='{step}' ", 1)
            path.write_text(text)
        else:
            path = root / "site.yaml"
            lines = path.read_text().splitlines()
            lines[0] = f"title: Test Site {step}"
            lines = [f"posts_per_page: {rng.randint(1, 3)}" if ln.startswith("posts_per_page") else ln for ln in lines]
            path.write_text("\n".join(lines) + "\n")
        return f"{kind} {path.name}"
    target = rng.choice(posts)
    if kind == "comment":  # on a post: deleting or renaming the post takes its comments along
        rel = f"content/comments/{target.stem}/c{rng.randint(0, 2)}.md"
        # dated after every post: a comment older than its post is an error (issue 11)
        write_files(root, {rel: f"---\nauthor: Sam {step}\ndate: 2023-04-02\n---\nThanks, *step {step}*.\n"})
        return f"{kind} {rel}"
    text = target.read_text()
    front, body = text.split("\n---\n", 1)
    if kind == "body":
        target.write_text(front + "\n---\n" + body + f"\nMore words {step}.\n")
    elif kind == "title":
        target.write_text(front.replace("title: ", f"title: Renamed {step} ", 1) + "\n---\n" + body)
    elif kind == "themes":
        lines = [f"themes: [{rng.choice(THEMES)}]" if ln.startswith("themes:") else ln for ln in front.split("\n")]
        target.write_text("\n".join(lines) + "\n---\n" + body)
    elif kind == "date":
        lines = [f"date: 2021-0{rng.randint(1, 9)}-0{rng.randint(1, 9)}" if ln.startswith("date:") else ln
                 for ln in front.split("\n")]
        target.write_text("\n".join(lines) + "\n---\n" + body)
    elif kind == "takeaways":
        lines = [ln for ln in front.split("\n") if not ln.startswith("takeaways:")]
        target.write_text("\n".join([*lines, f"takeaways: [Learned {step}]"]) + "\n---\n" + body)
    elif kind == "featured":
        featured = "featured: true" in front
        lines = [ln for ln in front.split("\n") if not ln.startswith("featured:")]
        target.write_text("\n".join([*lines, f"featured: {'false' if featured else 'true'}"]) + "\n---\n" + body)
    elif kind == "touch":  # same bytes, new mtime: the file must be read again, and change nothing
        target.write_text(text)
    elif kind == "delete":
        target.unlink()
        shutil.rmtree(root / "content/comments" / target.stem, ignore_errors=True)
    elif kind == "rename":
        target.rename(target.with_name(f"renamed-{step}.md"))
        shutil.rmtree(root / "content/comments" / target.stem, ignore_errors=True)
    return f"{kind} {target.name}"


@pytest.mark.parametrize("trust_stat", [False, True])
def test_warm_build_equals_cold_build_after_random_edits(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, trust_stat: bool
) -> None:
    if trust_stat:  # also exercise reusing files by their stat alone, without hashing them
        monkeypatch.setattr(cache_module, "RACY_NS", -10**12)
        monkeypatch.setattr(cachefiles, "RACY_NS", -10**12)
    rng = random.Random(20200402)
    root = tmp_path / "site"
    start_site(root, rng)
    warm_out, cold_out = tmp_path / "warm", tmp_path / "cold"
    hits = quick = 0
    now = NOW
    kinds: set[str] = set()
    for step in range(30):
        done = edit(root, rng, step) if step else "nothing"
        kinds.add(done.split()[0])
        if done == "time":  # a scheduled post becomes due, an edition in progress ends
            now += timedelta(days=rng.choice([1, 3, 12, 40]))
        # quick: the CLI's no-change shortcut (qsite/incremental/fastpath.py) must also give the cold output
        warm = build(root, Options(now=now, output=warm_out, quick=True))
        build(root, Options(now=now, output=cold_out, cache=False))
        assert tree(warm_out) == tree(cold_out), f"step {step}: after {done}, warm output differs"
        hits += warm.cache_hits
        quick += warm.quick
    assert hits > 0, "the cache was never used, so this test proved nothing"
    assert quick > 0, "the no-change shortcut was never taken, so this test proved nothing about it"
    assert {"comment", "edition", "section", "config", "template"} <= kinds, kinds


def test_no_change_rebuild_renders_nothing_and_keeps_every_file(build_site) -> None:
    files = {"site.yaml": SITE_YAML, "content/posts/a.md": post("A", "2020-04-01"),
             "content/posts/b.md": post("B", "2020-04-02", "[space-to-learn]")}
    site = build_site(files)
    before = stamps(site.out)
    again = build_site({})
    assert again.result is not None
    assert again.result.cache_hits == again.result.pages
    assert again.result.written is not None and again.result.written.written == 0
    assert stamps(site.out) == before


def test_unchanged_files_keep_their_mtime_after_an_edit(build_site) -> None:
    files = {"site.yaml": SITE_YAML, "content/posts/a.md": post("A", "2020-04-01"),
             "content/posts/b.md": post("B", "2020-04-02", "[space-to-learn]")}
    site = build_site(files)
    before = stamps(site.out)
    build_site({"content/posts/b.md": post("B", "2020-04-02", "[space-to-learn]", "A new body.")})
    after = stamps(site.out)
    assert "A new body." in site.read("posts/b/index.html")
    assert after["posts/b/index.html"] != before["posts/b/index.html"]
    for unchanged in ("posts/a/index.html", "static/site.css", "themes/staff-wellbeing/index.html", "robots.txt"):
        assert after[unchanged] == before[unchanged], unchanged


def test_a_template_edit_rerenders_the_pages_that_use_it(build_site) -> None:
    files = {"site.yaml": SITE_YAML, "content/posts/a.md": post("A", "2020-04-01", tags="[huddles]")}
    site = build_site(files)
    before = stamps(site.out)
    tag_html = (site.root / "templates/tag.html").read_text().replace("{% block main %}", "{% block main %}TAGGED!")
    built = build_site({"templates/tag.html": tag_html})
    assert "TAGGED!" in site.read("tags/huddles/index.html")
    assert stamps(site.out)["posts/a/index.html"] == before["posts/a/index.html"]
    assert built.result is not None and built.result.cache_hits == built.result.pages - 1


def test_a_hand_edited_output_file_is_rendered_again(build_site) -> None:
    site = build_site({"site.yaml": SITE_YAML, "content/posts/a.md": post("A", "2020-04-01")})
    page = site.out / "posts/a/index.html"
    good = page.read_bytes()
    os.unlink(page)
    page.write_bytes(good.replace(b"<h1>A</h1>", b"<h1>Vandalised</h1>"))
    build_site({})
    assert page.read_bytes() == good


BUILD_AND_COUNT = """
import sys
from pathlib import Path
from qsite.build import Options, build
from datetime import datetime, UTC
result = build(Path(sys.argv[1]), Options(output=Path(sys.argv[2]), jobs=int(sys.argv[3]), cache=False, search=False,
                                          now=datetime(2021, 12, 1, 12, 0, tzinfo=UTC)))
print(result.parallel_batches)
"""


def test_jobs_1_and_jobs_2_give_identical_output(tmp_path: Path) -> None:
    # In a fresh process, as the CLI runs: this one may have threads left by other tests, and
    # qsite never forks a process that has threads. 80 posts is enough for every step to use
    # the workers (parallel.MIN_PARALLEL).
    root = tmp_path / "site"
    start_site(root, random.Random(7), count=80)
    batches = {}
    for jobs in (1, 2):
        run = subprocess.run(
            [sys.executable, "-c", BUILD_AND_COUNT, str(root), str(tmp_path / f"out{jobs}"), str(jobs)],
            capture_output=True, text=True, check=True,
        )
        batches[jobs] = int(run.stdout.strip())
    # with 2 jobs, front matter with Markdown (one pass per file: bench/PROFILE.md C3), preview
    # cards and pages went to workers
    assert batches == {1: 0, 2: 3}
    assert tree(tmp_path / "out1") == tree(tmp_path / "out2")


def test_clean_removes_output_and_cache(build_site, capsys: pytest.CaptureFixture[str]) -> None:
    site = build_site({"site.yaml": SITE_YAML, "content/posts/a.md": post("A", "2020-04-01")})
    assert (site.root / ".qsite-cache").is_dir()
    assert cli.main(["clean", "--source", str(site.root), "--output", str(site.out)]) == 0
    assert not site.out.exists() and not (site.root / ".qsite-cache").exists()
    assert "Removed" in capsys.readouterr().out


def test_clean_refuses_a_folder_qsite_did_not_make(build_site, tmp_path: Path) -> None:
    site = build_site({"site.yaml": SITE_YAML, "content/posts/a.md": post("A", "2020-04-01")})
    precious = tmp_path / "precious"
    precious.mkdir()
    (precious / "thesis.docx").write_text("years of work")
    assert cli.main(["clean", "--source", str(site.root), "--output", str(precious)]) == 2
    assert (precious / "thesis.docx").exists()


def test_no_cache_neither_reads_nor_writes_the_cache(build_site) -> None:
    site = build_site({"site.yaml": SITE_YAML, "content/posts/a.md": post("A", "2020-04-01")}, cache=False)
    assert not (site.root / ".qsite-cache").exists()
    assert site.result is not None and site.result.cache_hits == 0
