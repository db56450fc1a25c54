"""What users of other generators lost data to: half-written sites, deleted folders, escapes."""

from __future__ import annotations

from pathlib import Path

import pytest

from qsite.build import Options, build
from qsite.problems import ConfigError, ContentError

from conftest import BASE, copy_templates, post, write_files


def snapshot(folder: Path) -> dict[str, tuple[bytes, int]]:
    return {
        p.relative_to(folder).as_posix(): (p.read_bytes(), p.stat().st_mtime_ns)
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def make_site(root: Path, files: dict[str, str | bytes]) -> Path:
    write_files(root, {**BASE, **files})
    copy_templates(root)
    return root


def test_failed_build_leaves_previous_output_byte_for_byte(tmp_path):
    root = make_site(tmp_path / "site", {"content/posts/a.md": post("A", "2020-04-01")})
    build(root)
    before = snapshot(root / "output")
    assert "posts/a/index.html" in before

    (root / "content/posts/b.md").write_text(post("B", "2020-02-30"))
    with pytest.raises(ContentError):
        build(root)
    assert snapshot(root / "output") == before
    assert [p.name for p in root.iterdir() if p.name.startswith(".output")] == [".output.spare"]  # no staging left


def test_template_error_leaves_previous_output_and_names_the_line(tmp_path):
    root = make_site(tmp_path / "site", {"content/posts/a.md": post("A", "2020-04-01")})
    build(root)
    before = snapshot(root / "output")
    page = root / "templates/page.html"
    page.write_text(page.read_text().replace("{{ page.title }}", "{{ page.titel }}"))
    (root / "content/pages/about.md").parent.mkdir(parents=True, exist_ok=True)
    (root / "content/pages/about.md").write_text("---\ntitle: About\n---\n")
    with pytest.raises(ContentError) as info:
        build(root)
    (problem,) = info.value.problems
    line = next(i for i, text in enumerate(page.read_text().splitlines(), 1) if "page.titel" in text)
    assert (problem.path, problem.line) == ("templates/page.html", line)
    assert "titel" in problem.message
    assert snapshot(root / "output") == before


def test_rebuild_replaces_removed_pages(tmp_path):
    root = make_site(tmp_path / "site", {"content/posts/a.md": post("A", "2020-04-01"), "content/posts/b.md": post("B", "2020-04-02")})
    build(root)
    (root / "content/posts/b.md").unlink()
    build(root)
    assert not (root / "output/posts/b/index.html").exists()
    assert (root / "output/posts/a/index.html").exists()


def test_unchanged_files_keep_their_mtime(tmp_path):
    root = make_site(tmp_path / "site", {"content/posts/a.md": post("A", "2020-04-01")})
    build(root)
    before = snapshot(root / "output")
    (root / "content/posts/b.md").write_text(post("B", "2020-01-01", "[space-to-learn]"))
    build(root)
    after = snapshot(root / "output")
    assert after["static/site.css"] == before["static/site.css"]
    assert after["index.html"][0] != before["index.html"][0]


@pytest.mark.parametrize(
    ("output", "why"),
    [
        (".", "it is the site's own folder"),
        ("..", "it contains the site's own folder"),
        ("content/out", "it is inside content/"),
        ("templates", "it is inside templates/"),
        ("site.yaml", "it is an existing file"),
    ],
)
def test_refused_output_folders(tmp_path, output, why):
    root = make_site(tmp_path / "site", {"content/posts/a.md": post("A", "2020-04-01")})
    before = snapshot(tmp_path)
    with pytest.raises(ConfigError) as info:
        build(root, Options(output=root / output))
    assert why in info.value.problems[0].message
    assert snapshot(tmp_path) == before


def test_folder_holding_a_site_is_refused(tmp_path):
    root = make_site(tmp_path / "site", {})
    other = make_site(tmp_path / "other-site", {})
    with pytest.raises(ConfigError, match=r"it holds site\.yaml"):
        build(root, Options(output=other))


def test_non_empty_folder_not_made_by_qsite_is_refused(tmp_path):
    root = make_site(tmp_path / "site", {})
    precious = tmp_path / "docs"
    precious.mkdir()
    (precious / "thesis.docx").write_text("years of work")
    with pytest.raises(ConfigError, match="qsite did not make it"):
        build(root, Options(output=precious))
    assert (precious / "thesis.docx").read_text() == "years of work"


def test_prefix_is_not_a_parent(tmp_path):
    """``docs-site`` is not inside ``docs``: compare path parts, not strings."""
    root = make_site(tmp_path / "docs", {"content/posts/a.md": post("A", "2020-04-01")})
    build(root, Options(output=tmp_path / "docs-site"))
    assert (tmp_path / "docs-site/posts/a/index.html").exists()


def test_symlinked_output_to_source_is_refused(tmp_path):
    root = make_site(tmp_path / "site", {})
    (tmp_path / "sneaky").symlink_to(root / "content", target_is_directory=True)
    with pytest.raises(ConfigError, match="inside content/"):
        build(root, Options(output=tmp_path / "sneaky"))


def test_relative_output_dir_is_relative_to_the_site(tmp_path, monkeypatch):
    root = make_site(tmp_path / "site", {"site.yaml": BASE["site.yaml"] + "output_dir: public\n"})
    monkeypatch.chdir(tmp_path)
    build(root)
    assert (root / "public/index.html").exists()
    assert not (tmp_path / "public").exists()


def test_output_that_cannot_be_created_is_exit_2(tmp_path):
    """Root may write anywhere, so the folder is made impossible rather than forbidden."""
    root = make_site(tmp_path / "site", {})
    (tmp_path / "a-file").write_text("not a folder")
    with pytest.raises(ConfigError, match=r"cannot create the output folder"):
        build(root, Options(output=tmp_path / "a-file" / "out"))


def test_write_failure_is_exit_2_and_cleans_up(tmp_path, monkeypatch):
    """A full disk is simulated where the kernel would report it: the write itself fails."""
    root = make_site(tmp_path / "site", {"content/posts/a.md": post("A", "2020-04-01")})
    build(root)
    before = snapshot(root / "output")
    import errno

    real_open = open

    def full_disk(file, mode="r", *args, **kwargs):
        if "w" in mode and "staging" in str(file):
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_open(file, mode, *args, **kwargs)

    monkeypatch.setattr("builtins.open", full_disk)
    (root / "content/posts/b.md").write_text(post("B", "2020-04-02"))
    with pytest.raises(ConfigError, match="No space left on device"):
        build(root)
    monkeypatch.undo()
    assert snapshot(root / "output") == before
    assert not [p for p in root.iterdir() if "staging" in p.name]


def test_symlink_leading_outside_is_not_followed(tmp_path):
    secret = tmp_path / "secret.md"
    secret.write_text(post("Secret", "2020-04-01"))
    root = make_site(tmp_path / "site", {"content/posts/a.md": post("A", "2020-04-01")})
    (root / "content/posts/link.md").symlink_to(secret)
    (root / "content/images").mkdir()
    (root / "content/images/etc").symlink_to("/etc", target_is_directory=True)
    with pytest.raises(ContentError) as info:
        build(root)
    messages = [p.format() for p in info.value.problems]
    assert any(m.startswith("content/posts/link.md: error: this is a link to") and "outside the site folder" in m for m in messages)
    assert any(m.startswith("content/images/etc: error: this is a link to /etc") for m in messages)


def test_symlink_inside_the_site_is_fine(tmp_path):
    root = make_site(tmp_path / "site", {"content/shared/a.md": post("A", "2020-04-01")})
    (root / "content/posts").mkdir(parents=True, exist_ok=True)
    (root / "content/posts/a.md").symlink_to(root / "content/shared/a.md")
    result = build(root)
    assert [p.slug for p in result.site.posts] == ["a"]
