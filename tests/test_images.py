"""Images that load fast and never shift, and preview cards (issue 14).

Whole sites with real images drawn here with Pillow, built with the default theme; the
assertions read the written HTML and open the written files with Pillow again."""

from __future__ import annotations

import io
import json
import re
from html import unescape
from pathlib import Path

import pytest
from PIL import Image, ImageDraw

from qsite import cards
from qsite.build import Options
from qsite.check import check_site
from qsite.sharing import describe

from conftest import BASE, NOW, SITE_YAML, TINY_BASE, BuildSite, copy_templates, post, write_files


def picture(width: int, height: int, fmt: str) -> bytes:
    """A gradient with shapes and a soft grain: compresses like a photo, quick to make."""
    image = Image.linear_gradient("L").resize((width, height)).convert("RGB")
    pen = ImageDraw.Draw(image)
    for i in range(0, width, max(1, width // 12)):
        pen.ellipse((i, height // 4, i + width // 10, height // 2), fill=(200, 40 + i % 200, 90))
    grain = Image.effect_noise((width // 8, height // 8), 60).resize((width, height), Image.BILINEAR).convert("RGB")
    image = Image.blend(image, grain, 0.3)  # texture, as a photo has, so smaller copies are smaller files
    buffer = io.BytesIO()
    image.save(buffer, format=fmt)
    return buffer.getvalue()


SVG_VIEWBOX = b'<?xml version="1.0"?>\n<!-- a diagram -->\n<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 300 150"><rect width="300" height="150"/></svg>'
BODY = """Intro.

![A wide photo](/images/wide.png)

Some text.

![A small photo](/images/small.jpg)

![A diagram](/images/diagram.svg)

![A tiny icon](/images/tiny.png)
"""


def image_site() -> dict[str, str | bytes]:
    return {
        **BASE,
        "content/images/wide.png": picture(2000, 1000, "PNG"),
        "content/images/small.jpg": picture(800, 600, "JPEG"),
        "content/images/diagram.svg": SVG_VIEWBOX,
        "content/images/tiny.png": picture(300, 200, "PNG"),
        "content/posts/a.md": post("A post with photos", "2020-04-01", body=BODY),
    }


def img_tags(html: str) -> list[dict[str, str]]:
    return [dict(re.findall(r'([\w-]+)="([^"]*)"', tag)) for tag in re.findall(r"<img\b[^>]*>", html)]


def candidates(srcset: str) -> list[tuple[str, int]]:
    return [(url, int(w.rstrip("w"))) for url, w in (c.split() for c in unescape(srcset).split(", "))]


def test_every_image_has_its_size_and_only_the_first_loads_eagerly(build_site: BuildSite) -> None:
    site = build_site(image_site())
    tags = img_tags(site.read("posts/a/index.html"))
    sizes = {t["src"]: (t.get("width"), t.get("height")) for t in tags}
    assert sizes == {
        "/images/wide.png": ("2000", "1000"),
        "/images/small.jpg": ("800", "600"),
        "/images/diagram.svg": ("300", "150"),  # from the viewBox: the root has no width/height
        "/images/tiny.png": ("300", "200"),
    }
    assert [t.get("loading") for t in tags] == [None, "lazy", "lazy", "lazy"]
    assert all(t.get("decoding") == "async" for t in tags)
    assert all(t.get("alt") for t in tags)
    for page in ("index.html", "archive/index.html", "feed.xml"):  # every <img> the build writes
        text = site.read(page)
        for tag in re.findall(r"<img\b[^>]*>", unescape(text)):
            assert " width=" in tag and " height=" in tag, (page, tag)


def test_raster_images_get_smaller_copies_and_webp_never_upscaled(build_site: BuildSite) -> None:
    site = build_site(image_site())
    html = site.read("posts/a/index.html")
    tags = {t["src"]: t for t in img_tags(html)}
    original = {name: (site.root / "content/images" / name).stat().st_size for name in ("wide.png", "small.jpg")}

    wide = candidates(tags["/images/wide.png"]["srcset"])
    assert [w for _u, w in wide] == [480, 960, 1440, 2000]
    small = candidates(tags["/images/small.jpg"]["srcset"])
    assert [w for _u, w in small] == [480, 800]  # 960 and 1440 would be upscaled
    for url, width in wide[:-1] + small[:-1]:
        path = site.out / url.lstrip("/")
        with Image.open(path) as image:
            assert image.width == width < 2000
        assert path.stat().st_size < original[Path(url).name.split("-")[0] + Path(url).suffix]
    assert tags["/images/wide.png"]["sizes"] == "(min-width: 44rem) 40rem, 100vw"
    assert "srcset" not in tags["/images/tiny.png"] and "srcset" not in tags["/images/diagram.svg"]
    assert '<source type="image/webp" srcset="/images/tiny.webp 300w"' in html  # smaller as WebP, same width

    sources = re.findall(r'<source type="image/webp" srcset="([^"]+)"', html)
    assert len(sources) == 3  # the PNGs and the JPEG; not the SVG
    for url, width in [c for s in sources for c in candidates(s)]:
        with Image.open(site.out / url.lstrip("/")) as image:
            assert image.format == "WEBP"
            assert image.width == width <= 2000
    assert "/images/wide.webp 2000w" in sources[0]
    assert not any(f.startswith("images/tiny-") for f in site.files())  # 300 px: no step below it


def test_a_rebuild_encodes_no_image_again_and_a_changed_image_only(build_site: BuildSite) -> None:
    files = image_site()
    first = build_site(files)
    assert first.result is not None and first.result.images_encoded >= 8
    before = first.read("posts/a/index.html")
    again = build_site({})
    assert again.result is not None and again.result.images_encoded == 0
    assert again.read("posts/a/index.html") == before
    changed = build_site({"content/images/small.jpg": picture(900, 600, "JPEG"), "site.yaml": SITE_YAML + "\n"})
    assert changed.result is not None
    assert changed.result.images_encoded == 3  # small.jpg only: 480 px JPEG, 480 px and 900 px WebP
    assert 'width="900"' in changed.read("posts/a/index.html")


def test_alt_text_is_still_checked_and_every_srcset_file_exists(tmp_path: Path) -> None:
    files = {
        **image_site(),
        "content/images/lonely.png": picture(1000, 500, "PNG"),
        "content/posts/b.md": post("B", "2020-04-02", body="![](/images/lonely.png)\n"),
    }
    write_files(tmp_path, files)
    copy_templates(tmp_path)
    report = check_site(tmp_path, Options(now=NOW))
    assert [(p.path, p.message) for p in report.problems if p.path != "site.yaml"] == [  # not the contact warning
        ("content/posts/b.md", "the image /images/lonely.png has empty alt text, so screen readers say nothing")
    ]  # and no broken link: every srcset candidate is among the checked site's files


# --- preview cards ---------------------------------------------------------------------------


def card_site() -> dict[str, str | bytes]:
    return {
        **BASE,
        "content/images/photo.jpg": picture(1600, 900, "JPEG"),
        "content/posts/a.md": post("Running virtual huddles when the team is spread across three sites", "2020-04-01"),
        "content/posts/b.md": post("Second", "2020-04-02", themes="[health-inequalities]"),
        "content/posts/c.md": post("With a photo", "2020-04-03", body="![A photo](/images/photo.jpg)\n"),
    }


def head(html: str, prop: str) -> str:
    match = re.search(rf'<meta (?:property|name)="{prop}" content="([^"]*)"', html)
    assert match, prop
    return match.group(1)


def json_ld(html: str) -> dict:
    return json.loads(re.search(r'<script type="application/ld\+json">(.*?)</script>', html, re.S).group(1))


def test_every_post_has_a_card_used_for_link_previews_unless_it_has_a_photo(build_site: BuildSite) -> None:
    site = build_site(card_site())
    for slug in ("a", "b", "c"):
        with Image.open(site.out / f"posts/{slug}/card.png") as card:
            assert card.format == "PNG" and card.size == (1200, 630)
    a = site.read("posts/a/index.html")
    assert head(a, "og:image") == head(a, "twitter:image") == "https://example.org/posts/a/card.png"
    assert (head(a, "og:image:width"), head(a, "og:image:height")) == ("1200", "630")
    assert json_ld(a)["image"] == "https://example.org/posts/a/card.png"
    c = site.read("posts/c/index.html")
    assert head(c, "og:image") == json_ld(c)["image"] == "https://example.org/images/photo.jpg"
    assert 'og:image:width' not in c

    logo = json_ld(a)["publisher"]["logo"]
    assert logo["url"] == "https://example.org/static/logo.png"
    with Image.open(site.out / "static/logo.png") as image:
        assert image.size == (logo["width"], logo["height"]) == (512, 512)

    # the theme's colour, read from site.css, is the card's background
    with Image.open(site.out / "posts/b/card.png") as card:
        assert card.convert("RGB").getpixel((5, 5)) == (0x87, 0x3E, 0x63)  # the palette's first: colours.PALETTE


def test_a_rebuild_draws_only_the_cards_whose_title_or_colour_changed(build_site: BuildSite) -> None:
    first = build_site(card_site())
    assert first.result is not None and first.result.cards_drawn == 3
    card_b = first.out.joinpath("posts/b/card.png").read_bytes()
    again = build_site({})
    assert again.result is not None and again.result.cards_drawn == 0
    retitled = build_site({"content/posts/a.md": post("A new title", "2020-04-01")})
    assert retitled.result is not None and retitled.result.cards_drawn == 1
    coloured = SITE_YAML.replace("  - slug: health-inequalities\n", '  - slug: health-inequalities\n    color: "#6a1f48"\n', 1)
    assert coloured != SITE_YAML
    recoloured = build_site({"site.yaml": coloured})
    assert recoloured.result is not None and recoloured.result.cards_drawn == 1  # b only
    assert recoloured.out.joinpath("posts/b/card.png").read_bytes() != card_b
    renamed = build_site({"site.yaml": coloured.replace("title: Test Site", "title: Renamed Site")})
    assert renamed.result is not None and renamed.result.cards_drawn == 3


def test_a_kept_card_is_given_as_its_cache_file_not_held_in_memory(build_site: BuildSite) -> None:
    # issue 10: a cold build of 5,000 posts held every card's bytes (~120 MB) until they were
    # written, which made its peak memory; a card the cache keeps is now read when it is written
    from qsite.incremental.engine import Engine
    from qsite.parallel import Workers

    built = build_site(card_site())
    assert built.result is not None and built.result.site is not None
    folder = built.root / ".qsite-cache/cards"
    damaged = sorted(folder.glob("*.png"))[0]
    damaged.write_bytes(b"not a PNG")  # refused by its first bytes, so drawn again
    deck = cards.deck(Engine.on_disk(built.root), built.result.config, ".qsite-cache")
    given = cards.outputs(built.result.site, deck, Workers(1))
    assert len(given) == 3 and deck.drawn == 1
    assert damaged.read_bytes().startswith(b"\x89PNG")  # drawn again and kept again
    for path, data in given:  # every card, the one just drawn too, given by its file
        assert isinstance(data, Path) and data.parent == folder
        assert data.read_bytes() == built.out.joinpath(path).read_bytes()


def test_without_the_fonts_cards_are_still_drawn_and_the_build_says_why(
    build_site: BuildSite, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(cards, "FONT_FOLDERS", (tmp_path / "no-fonts",))
    site = build_site({**TINY_BASE, "content/posts/a.md": post("A", "2020-04-01")})
    with Image.open(site.out / "posts/a/card.png") as card:
        assert card.size == (1200, 630)
    assert [p.message for p in site.problems if "fonts" in p.message] == [
        f"the DejaVu fonts were not found (looked in {tmp_path / 'no-fonts'}), so the preview cards use "
        "Pillow's plain built-in font"
    ]


def test_a_very_long_title_is_wrapped_and_cut_to_fit() -> None:
    font = str(cards.font_path(cards.TITLE_FONT) or "")
    data = cards.draw(cards.Card("Word " * 80, "#00703c", "Site", font))
    with Image.open(io.BytesIO(data)) as card:
        assert card.size == (1200, 630)
        mask = card.convert("L")
        right = mask.crop((1200 - cards.MARGIN + 2, 0, 1200, 630))  # nothing drawn in the right margin
        assert right.getextrema()[0] == right.getextrema()[1]


# --- meta descriptions -----------------------------------------------------------------------


def test_descriptions_are_cut_at_a_word_within_160_characters() -> None:
    assert describe("Short and whole.") == "Short and whole."
    assert describe("  spaced \n out  ") == "spaced out"
    assert describe(None) == ""
    text = "word " * 40 + "end"  # 203 characters
    cut = describe(text)
    assert len(cut) <= 160 and cut.endswith("word…") and not cut.endswith(" …")
    exact = "x" * 155 + " abcd"  # 160: fits whole
    assert describe(exact) == exact
    over = "x" * 155 + " abcdef"  # 162: the last word goes
    assert describe(over) == "x" * 155 + "…"
    assert describe("y" * 300) == "y" * 159 + "…"  # one long word: cut, still within 160
    assert describe("a, b, " + "c" * 200).startswith("a, b") and len(describe("a, b, " + "c" * 200)) <= 160


def test_meta_descriptions_of_pages_fit_in_160_characters(build_site: BuildSite) -> None:
    long = "Before March our team huddled every morning around a whiteboard in the office, and then a third of the team were working from home, so we moved the huddle online within a week."
    site = build_site({**BASE, "content/posts/a.md": post("A", "2020-04-01", summary=long)})
    html = site.read("posts/a/index.html")
    for prop in ("description", "og:description", "twitter:description"):
        value = unescape(head(html, prop))
        assert len(value) <= 160 and value.endswith("…") and long.startswith(value[:-1])
    assert json_ld(html)["description"] == unescape(head(html, "description"))


def test_animated_images_are_sized_but_never_resized(build_site: BuildSite) -> None:
    frames = [Image.new("RGB", (1000, 400), colour) for colour in ("red", "blue")]
    buffer = io.BytesIO()
    frames[0].save(buffer, format="WEBP", save_all=True, append_images=frames[1:], duration=200)
    site = build_site({
        **BASE,
        "content/images/moving.webp": buffer.getvalue(),
        "content/posts/a.md": post("A", "2020-04-01", body="![A moving picture](/images/moving.webp)\n"),
    })
    assert img_tags(site.read("posts/a/index.html")) == [
        {"alt": "A moving picture", "src": "/images/moving.webp", "width": "1000", "height": "400", "decoding": "async"}
    ]
    assert not any(f.startswith("images/moving-") for f in site.files())


def test_relative_images_and_cards_follow_the_post_address_scheme_and_base_path(build_site: BuildSite) -> None:
    yaml = SITE_YAML.replace("base_url: https://example.org/", "base_url: https://example.org/blog/")
    site = build_site({
        **BASE,
        "site.yaml": yaml + 'permalinks:\n  post: "/:year/:month/:slug/"\n',
        "content/images/wide.png": picture(1000, 500, "PNG"),
        "content/posts/a.md": post("A", "2020-04-01", body="![Wide](../../../images/wide.png)\n"),
        "content/posts/b.md": post("B", "2021-04-01"),
    })
    html = site.read("2020/04/a/index.html")
    tag = img_tags(html)[0]
    assert (tag["src"], tag["width"], tag["height"]) == ("../../../images/wide.png", "1000", "500")
    assert [url for url, _w in candidates(tag["srcset"])] == ["../../../images/wide-480w.png", "../../../images/wide.png"]
    assert head(html, "og:image") == "https://example.org/blog/images/wide.png"  # its own photo
    assert head(site.read("2021/04/b/index.html"), "og:image") == "https://example.org/blog/2021/04/b/card.png"
    with Image.open(site.out / "2021/04/b/card.png") as card:
        assert card.size == (1200, 630)
