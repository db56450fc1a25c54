"""Nothing leaked, nothing silently replaced or dropped (issue 9, items 4, 7 and 17): the one
rule for symlinks holds in templates/ as in content/, every path qsite generates is checked for
collisions, and dotfiles under content/ are published (.well-known/) or named as skipped."""

from __future__ import annotations

from pathlib import Path

import pytest

from qsite import search, write
from qsite.build import Options, build
from qsite.problems import ContentError
from qsite.render import RefusedLink, make_env

from conftest import BASE, NOW, copy_templates, post, write_files


def make_site(root: Path, files: dict[str, str | bytes]) -> Path:
    write_files(root, {**BASE, "content/posts/a.md": post("A", "2020-04-01"), **files})
    copy_templates(root)
    return root


def problems_of(root: Path) -> list[str]:
    with pytest.raises(ContentError) as info:
        build(root, Options(now=NOW, search=False))
    return [p.format() for p in info.value.problems]


# ---- Item 4: symlinks under templates/ ----


def test_a_static_file_linked_from_outside_is_an_error_naming_the_link(tmp_path):
    secret = tmp_path / "passwd"
    secret.write_text("root:x:0:0")
    root = make_site(tmp_path / "site", {})
    (root / "templates/static/passwd.txt").symlink_to(secret)
    messages = problems_of(root)
    assert any(m.startswith("templates/static/passwd.txt: error: this is a link to") and "outside the site folder" in m
               for m in messages), messages
    assert any("fix: copy the file into the site" in m for m in messages)
    assert not (root / "output").exists()


def test_a_partial_linked_from_outside_is_an_error_and_never_read(tmp_path):
    secret = tmp_path / "secret.html"
    secret.write_text("SECRET-IN-EVERY-PAGE")
    root = make_site(tmp_path / "site", {})
    (root / "templates/partials").mkdir(exist_ok=True)
    (root / "templates/partials/secret.html").symlink_to(secret)
    messages = problems_of(root)
    assert any(m.startswith("templates/partials/secret.html: error: this is a link to") for m in messages), messages
    # and the loader itself refuses it, whoever asks (serve, check): not only the build's walk
    with pytest.raises(RefusedLink) as info:
        make_env(root / "templates").get_template("partials/secret.html")
    assert info.value.problem.path == "templates/partials/secret.html"


def test_a_templates_folder_linked_from_outside_is_refused(tmp_path):
    elsewhere = tmp_path / "shared-partials"
    elsewhere.mkdir()
    (elsewhere / "x.html").write_text("outside")
    root = make_site(tmp_path / "site", {})
    (root / "templates/shared").symlink_to(elsewhere, target_is_directory=True)
    messages = problems_of(root)
    assert any(m.startswith("templates/shared: error: this is a link to") for m in messages), messages
    with pytest.raises(RefusedLink):
        make_env(root / "templates").get_template("shared/x.html")


@pytest.mark.parametrize("link", ["templates/static/config.txt", "content/images/config.txt"])
def test_a_link_into_git_inside_the_site_is_an_error(tmp_path, link):
    """The checkout action stores its token in .git/config: never read, never published."""
    root = make_site(tmp_path / "site", {".git/config": "[http] extraheader = AUTHORIZATION: basic c2VjcmV0"})
    (root / link).parent.mkdir(parents=True, exist_ok=True)
    (root / link).symlink_to(root / ".git/config")
    messages = problems_of(root)
    assert any(m.startswith(f"{link}: error: this is a link into .git/") for m in messages), messages


def test_a_link_inside_the_site_still_works_in_templates(tmp_path):
    root = make_site(tmp_path / "site", {"shared/extra.css": "body{}"})
    (root / "templates/static/extra.css").symlink_to(root / "shared/extra.css")
    build(root, Options(now=NOW, search=False))
    assert (root / "output/static/extra.css").read_text() == "body{}"


# ---- Item 7: every generated path takes part in the collision check ----


@pytest.mark.parametrize("name", ["pagefind/pagefind.js", "pagefind/pagefind-ui.js", "pagefind/shards.json"])
def test_a_content_file_where_the_search_index_goes_is_an_error_naming_it(tmp_path, name):
    root = make_site(tmp_path / "site", {f"content/{name}": "alert('mine')"})
    messages = problems_of(root)
    assert any(m.startswith(f"content/{name}: error: pagefind/ in the output is qsite's own") for m in messages), messages


def test_the_reserved_folder_is_the_search_bundle():
    assert search.BUNDLE in write.RESERVED_FOLDERS


def test_a_path_staged_twice_is_an_error_not_a_silent_overwrite(tmp_path):
    with write.Stage(tmp_path / "out") as stage:
        stage.put("pagefind/pagefind.js", b"one")
        with pytest.raises(ContentError, match="two things would be written"):
            stage.put("pagefind/pagefind.js", b"two")


# ---- Item 17: dotfiles under content/ ----


def test_well_known_is_published_and_other_dotfiles_are_named_as_skipped(build_site):
    site = build_site({
        **BASE,
        "content/posts/a.md": post("A", "2020-04-01"),
        "content/.well-known/security.txt": "Contact: mailto:security@example.org\n",
        "content/.well-known/acme-challenge/token": "abc.def",
        "content/.htaccess": "Deny from all",
        "content/images/.drafts/x.png": b"\x89PNG",
        "content/images/.DS_Store": b"\0",
    }, search=False)
    assert site.read(".well-known/security.txt") == "Contact: mailto:security@example.org\n"
    assert site.read(".well-known/acme-challenge/token") == "abc.def"
    assert not site.exists(".htaccess") and not site.exists("images/.drafts/x.png")
    warnings = site.messages()
    assert any(m.startswith("content/.htaccess: warning: skipped: names starting with a dot") for m in warnings)
    assert any(m.startswith("content/images/.drafts: warning: skipped") for m in warnings)
    assert not any(".DS_Store" in m for m in warnings)


def _reference_check(paths: list[str]) -> list[str] | str:
    """What ``check_paths`` said before its fast path: each path read by ``PurePosixPath``."""
    from pathlib import PurePosixPath

    seen: set[str] = set()
    said: list[str] = []
    for path in paths:
        parts = PurePosixPath(path).parts
        if path.startswith("/") or ".." in parts or not parts:
            return "escapes"
        if parts[0] in write.RESERVED_FOLDERS or path == write.MARKER:
            said.append(f"{path}: reserved {parts[0]}")
        elif path in seen:
            said.append(f"{path}: twice")
        seen.add(path)
    return said


@pytest.mark.parametrize("path", [
    "posts/a/index.html", "index.html", "/etc/passwd", "../up.html", "a/../../b", "a/..", "", ".", "./",
    "pagefind/x.js", "./pagefind/x.js", "pagefind", "a//b", "a/./b", "a/b/", ".qsite-output", "x/.qsite-output",
    ".well-known/security.txt", "a/.hidden", "pagefind.html", "a\\..\\b", "//etc", "a/b/..",
])
def test_check_paths_reads_every_path_as_a_posix_path_would(path: str) -> None:
    """``check_paths`` splits the common path itself (13,000 paths at 5,000 posts, each a
    PurePosixPath before): the same verdict as PurePosixPath's parts, whatever the path."""
    paths = ["posts/a/index.html", path, path]
    expected = _reference_check(paths)
    try:
        write.check_paths(paths)
        said: list[str] | str = []
    except AssertionError:
        said = "escapes"
    except ContentError as exc:
        said = [
            f"{p.path}: reserved {p.message.split('/')[0].split(' ')[0]}" if "qsite's own" in p.message
            else f"{p.path}: twice" for p in exc.problems
        ]
    assert said == expected
