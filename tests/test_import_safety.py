"""``qsite import`` never harms a site (issue 12): a second run writes nothing, ``--force``
replaces only files an import wrote, malformed input writes nothing and names file:line, and
hostile XML (entity bombs, external entities) is refused before it can expand."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
from test_import_wordpress import FIXTURE, files, front, import_wp

from qsite.importers.writer import Doc, check_inside
from qsite.problems import ConfigError

from conftest import SITE_YAML

HUDDLES = "content/posts/2020-04-02-huddles.md"


@pytest.fixture
def site(tmp_path: Path) -> Path:
    (tmp_path / "site.yaml").write_text(SITE_YAML, encoding="utf-8")
    return tmp_path


def snapshot(site: Path) -> dict[str, tuple[bytes, int]]:
    return {p.as_posix(): (p.read_bytes(), p.stat().st_mtime_ns) for p in (site / "content").rglob("*") if p.is_file()}


def test_a_second_import_writes_nothing(site: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert import_wp(site) == 0
    before = snapshot(site)
    capsys.readouterr()
    assert import_wp(site) == 0
    assert snapshot(site) == before
    out = capsys.readouterr().out
    assert "Files: 0 written, 15 already imported and left as they are (--force replaces them)." in out


def test_force_replaces_only_files_the_import_wrote(site: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert import_wp(site) == 0
    marked = site / HUDDLES
    marked.write_text(marked.read_text(encoding="utf-8").replace("Ten-minute", "Edited"), encoding="utf-8")
    unmarked = site / "content/comments/huddles/2020-04-03-sam-okafor-11.md"  # taken over: marker line deleted
    unmarked.write_text("\n".join(
        line for line in unmarked.read_text(encoding="utf-8").split("\n") if not line.startswith("# qsite-import:")
    ) + "\nAn editor's words.\n", encoding="utf-8")
    kept = unmarked.read_text(encoding="utf-8")
    capsys.readouterr()
    assert import_wp(site, "--force") == 0
    assert front(marked)[0]["title"] == "Ten-minute huddles that stuck"  # replaced
    assert unmarked.read_text(encoding="utf-8") == kept  # never replaced
    out = capsys.readouterr().out
    assert "Files: 0 written, 14 replaced (--force), 1 not written because a file of yours is at the same path." in out
    assert "Not written, a file of yours is there: content/comments/huddles/2020-04-03-sam-okafor-11.md" in out


def test_an_editors_post_keeps_its_name_and_the_import_takes_another(site: Path) -> None:
    mine = site / "content/posts/2019-01-01-huddles.md"
    mine.parent.mkdir(parents=True)
    mine.write_text("---\ntitle: Mine\nthemes: [staff-wellbeing]\n---\nMine.\n", encoding="utf-8")
    assert import_wp(site) == 0
    assert mine.read_text(encoding="utf-8").startswith("---\ntitle: Mine\n")
    assert not (site / HUDDLES).exists()
    meta, _ = front(site / "content/posts/2020-04-02-huddles-2.md")
    assert meta["aliases"] == ["/2020/04/huddles/"]
    assert (site / "content/comments/huddles-2/2020-04-03-sam-okafor-11.md").is_file()  # comments follow the post


def test_malformed_xml_names_file_and_line_and_writes_nothing(site: Path, capsys: pytest.CaptureFixture[str]) -> None:
    broken = site / "broken.xml"
    lines = FIXTURE.read_text(encoding="utf-8").split("\n")
    at = next(i for i, line in enumerate(lines) if "<title><![CDATA[Update]]></title>" in line)
    lines[at] = "\t\t<title>Update</titel>"
    broken.write_text("\n".join(lines), encoding="utf-8")
    assert import_wp(site, export=broken) == 1
    err = capsys.readouterr().err
    assert f"broken.xml:{at + 1}: error: this is not well-formed XML" in err
    assert not (site / "content").exists()


def test_a_file_that_is_not_a_wordpress_export_is_refused(site: Path, capsys: pytest.CaptureFixture[str]) -> None:
    feed = site / "feed.xml"
    feed.write_text("<rss><channel><title>A feed</title></channel></rss>", encoding="utf-8")
    assert import_wp(site, export=feed) == 1
    assert "feed.xml:1: error: this is not a WordPress export (WXR) file" in capsys.readouterr().err
    assert not (site / "content").exists()


BOMB = """<?xml version="1.0"?>
<!DOCTYPE rss [
 <!ENTITY a "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa">
""" + "".join(f' <!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">\n' for i in range(9)) + """]>
<rss xmlns:wp="http://wordpress.org/export/1.2/"><channel><wp:wxr_version>1.2</wp:wxr_version>
<item><title>&j;</title><wp:post_type>post</wp:post_type><wp:status>publish</wp:status></item></channel></rss>
"""


def test_an_entity_bomb_is_refused_quickly(site: Path) -> None:
    """10⁹ expansions if parsed naively; refused before any. Run as a real process with a
    generous deadline, so a regression fails instead of hanging the suite."""
    bomb = site / "bomb.xml"
    bomb.write_text(BOMB, encoding="utf-8")
    start = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "qsite", "import", "wordpress", str(bomb), "--source", str(site)],
        capture_output=True, text=True, timeout=60,
    )
    assert done.returncode == 1, done.stderr
    assert "bomb.xml:3: error: the export declares XML entities, which are refused" in done.stderr
    assert time.monotonic() - start < 30
    assert not (site / "content").exists()


def test_an_external_entity_is_refused(site: Path, capsys: pytest.CaptureFixture[str]) -> None:
    secret = site / "secret.txt"
    secret.write_text("the secret", encoding="utf-8")
    xxe = site / "xxe.xml"
    xxe.write_text(
        f'<?xml version="1.0"?>\n<!DOCTYPE rss [<!ENTITY x SYSTEM "file://{secret}">]>\n'
        '<rss xmlns:wp="http://wordpress.org/export/1.2/"><channel><wp:wxr_version>1.2</wp:wxr_version>'
        "<item><title>&x;</title><wp:post_type>post</wp:post_type><wp:status>publish</wp:status>"
        "</item></channel></rss>\n",
        encoding="utf-8",
    )
    assert import_wp(site, export=xxe) == 1
    assert "xxe.xml:2: error: the export declares XML entities" in capsys.readouterr().err
    assert not (site / "content").exists()


def test_nothing_is_written_outside_content(site: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        check_inside(site, [Doc("content/posts/a.md", {}, ""), Doc("content/../site.yaml", {}, "")])
    assert "outside content/" in caught.value.problems[0].message


def test_hostile_post_names_stay_inside_content(site: Path) -> None:
    export = site / "x.xml"
    export.write_text(
        FIXTURE.read_text(encoding="utf-8").replace("<![CDATA[huddles]]></wp:post_name>",
                                                     "<![CDATA[../../../site]]></wp:post_name>"),
        encoding="utf-8",
    )
    assert import_wp(site, export=export) == 0
    assert all(name.startswith("content/") for name in files(site))
    assert (site / "content/posts/2020-04-02-site.md").is_file()
    assert (site / "site.yaml").read_text(encoding="utf-8") == SITE_YAML


def test_a_dry_run_says_what_it_would_write_and_writes_nothing(site: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert import_wp(site, "--dry-run") == 0
    out = capsys.readouterr().out
    assert out.startswith("Dry run: nothing was written.\n") and "Files: 15 would be written." in out
    assert not (site / "content").exists()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["wordpress", "missing.xml"], "missing.xml: error: there is no such file or folder"),
        (["jekyll", "site.yaml"], "site.yaml: error: a Jekyll site is a folder"),
        (["wordpress", "."], ".: error: a WordPress export is a file"),
        (["wordpress", "site.yaml", "--report", "no/such/folder/r.md"], "the report's folder does not exist"),
        (["wordpress", "site.yaml", "--default-theme", "wellbeing"], "'wellbeing' is not a theme in site.yaml"),
        (["wordpress", "site.yaml", "--theme-map", "Wellbeing"], "'Wellbeing' is not 'Category name=theme-slug'"),
    ],
)
def test_usage_mistakes_exit_2_before_anything_is_read(
    site: Path, argv: list[str], message: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from qsite.cli import main

    monkeypatch.chdir(site)
    assert main(["import", *argv, "--source", str(site)]) == 2
    assert message in capsys.readouterr().err
    assert not (site / "content").exists()


def test_other_commands_do_not_pay_for_the_importers_libraries() -> None:
    """Every command builds the whole parser; BeautifulSoup, markdownify and defusedxml
    (0.8 s to import), and even YAML, are loaded only when an import runs."""
    script = (
        "import sys\nfrom qsite.cli import make_parser\nmake_parser()\n"
        "print(sorted(m for m in ('bs4', 'markdownify', 'defusedxml', 'nh3', 'yaml') if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60)
    assert done.stdout.strip() == "[]"
