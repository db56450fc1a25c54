"""Images that load fast and never shift: sizes, resized variants and WebP, made with Pillow.

Every ``<img>`` of a post or page is given its ``width`` and ``height`` (so the browser reserves
the space before the file arrives, and nothing below it moves), ``decoding="async"``, and
``loading="lazy"`` on all but the first image of the body (the first is usually on the first
screen; lazy-loading it would only delay it). A raster image (PNG, JPEG, WebP) wider than a
step of ``WIDTHS`` also gets narrower copies in its own format and WebP copies at each width,
published beside the original (``images/a.png`` → ``images/a-480w.png``, ``images/a-480w.webp``,
``images/a.webp``), offered through a ``<picture>``:

    <picture><source type="image/webp" srcset="… 480w, …" sizes="…">
    <img src="/images/a.png" srcset="… 480w, …" sizes="…" width=… height=… alt=…></picture>

Why ``<picture>`` and not WebP in the ``<img>``'s own srcset: the same HTML goes into the Atom
feeds and the digest email, whose readers and mail clients often ignore ``srcset`` and cannot
all show WebP; there the ``<img>`` falls back to the original file, as committed. GIFs keep
their animation, so they are measured but not resized; SVGs are measured from their root
element's ``width``/``height`` or ``viewBox`` (read with a bounded regex: no XML parser ever
sees the file, so no entity expansion), never rasterised. A copy that would not be smaller in
bytes than the original is left out: it would only cost the reader.

Encoding is slow, so it is done once per distinct image: the results sit in
``.qsite-cache/images/<hash of the file's bytes>/`` (with ``qsite build``; ``serve`` keeps
them in memory), and a rebuild of an unchanged image reads them back. ``Gallery.encoded``
counts the files encoded by this build, for tests and ``-v`` output.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import weakref
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urljoin

from qsite import markup

WIDTHS = (480, 960, 1440)  # srcset steps, px: a phone, a laptop's post column at 2x, a wide 1.5x screen
SIZES = "(min-width: 44rem) 40rem, 100vw"  # the post column's width (site.css), else the viewport
VERSION = "images-1"  # bump when what is encoded (sizes, quality) changes: a new cache folder
RESIZABLE = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".webp": "WEBP"}
_SAVE: dict[str, dict[str, Any]] = {
    "PNG": {"compress_level": 6},  # zlib's default: level 9 took 3x as long for 10 % less
    "JPEG": {"quality": 82, "progressive": True, "optimize": True},
    "WEBP": {"quality": 80, "method": 4},
}
_SVG_ROOT = re.compile(rb"<svg\b[^>]{0,4000}>", re.I)
_SVG_ATTR = re.compile(rb"""\s(width|height|viewBox)\s*=\s*["']([^"']{0,200})["']""", re.I)
_SVG_LENGTH = re.compile(r"^\s*([0-9]*\.?[0-9]+)\s*(px)?\s*$")
_EXTERNAL = re.compile(r"^(?:[a-zA-Z][a-zA-Z0-9+.-]*:|//)")


@dataclass(frozen=True)
class Copy:
    """One resized or re-encoded copy: its output path (beside the original) and width."""

    out: str
    width: int
    data: bytes = b""


@dataclass(frozen=True)
class Measured:
    """An image's displayed size and the copies offered for it."""

    width: int
    height: int
    copies: tuple[Copy, ...] = ()  # in the original's format, narrowest first
    webp: tuple[Copy, ...] = ()  # WebP, narrowest first (the widest at the original's width)


def svg_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) of an SVG from its root element: ``width``/``height`` in px or plain
    numbers, else the ``viewBox``. Only the first 64 KB are looked at, with bounded patterns."""
    root = _SVG_ROOT.search(data[:65536])
    if root is None:
        return None
    attrs = {k.decode().lower(): v.decode("utf-8", "replace") for k, v in _SVG_ATTR.findall(root.group(0))}
    width, height = (_SVG_LENGTH.match(attrs.get(k, "")) for k in ("width", "height"))
    if width and height and float(width.group(1)) > 0 and float(height.group(1)) > 0:
        return round(float(width.group(1))), round(float(height.group(1)))
    box = attrs.get("viewbox", "").replace(",", " ").split()
    try:
        w, h = float(box[2]), float(box[3])
    except (IndexError, ValueError):
        return None
    return (round(w), round(h)) if w > 0 and h > 0 else None


def variant_name(out: str, width: int | None, fmt_suffix: str) -> str:
    """``images/a.png`` at 480 px as WebP → ``images/a-480w.webp``; None: full width."""
    stem = out.rsplit(".", 1)[0]
    return f"{stem}-{width}w{fmt_suffix}" if width else stem + fmt_suffix


class Gallery:
    """The images of one build: measures and encodes each once, rewrites ``<img>`` tags, and
    lists the copies to publish. ``folder``: where encoded copies are cached (None: memory)."""

    def __init__(self, assets: list[Any], base_path: str, folder: Path | None, memory: dict[str, Any] | None = None):
        self.sources = {a.out: a.source for a in assets}
        self.base_path = base_path
        self.folder = folder
        self.memory: dict[str, Any] = memory if memory is not None else {}
        self.measured: dict[str, Measured | None] = {}
        self.encoded = 0  # image files encoded by this build (the rest came from the cache)

    # -- measuring and encoding --

    def measure(self, out: str) -> Measured | None:
        if out not in self.measured:
            source = self.sources.get(out)
            self.measured[out] = None if source is None else self._measure(out, source.read_bytes())
        return self.measured[out]

    def _measure(self, out: str, data: bytes) -> Measured | None:
        suffix = Path(out).suffix.lower()
        if suffix == ".svg":
            size = svg_size(data)
            return Measured(*size) if size else None
        key = hashlib.sha256(VERSION.encode() + b"\0" + data).hexdigest()[:32]
        found = self._load(key, out)
        if found is not None:
            return found
        made = self._encode(out, data, suffix)
        if made is not None:
            self._save(key, made)
        return made

    def _encode(self, out: str, data: bytes, suffix: str) -> Measured | None:
        from PIL import Image, ImageOps, UnidentifiedImageError

        try:
            with Image.open(io.BytesIO(data)) as opened:
                image = ImageOps.exif_transpose(opened)  # browsers show a JPEG the way its EXIF says
                width, height = image.size
                fmt = RESIZABLE.get(suffix)
                if fmt is None or getattr(opened, "is_animated", False):  # resizing would lose the animation
                    return Measured(width, height)
                image.load()
        except (UnidentifiedImageError, OSError, Image.DecompressionBombError):
            return None  # not an image Pillow reads: left as written (check.py still sees it)
        copies: list[Copy] = []
        webp: list[Copy] = []
        for step in [w for w in WIDTHS if w < width] + [width]:
            resized = image if step == width else image.resize((step, round(height * step / width)), Image.LANCZOS)
            label = None if step == width else step
            if step != width:
                self._keep(copies, Copy(variant_name(out, label, suffix), step, self._save_as(resized, fmt)), data)
            if fmt != "WEBP":
                self._keep(webp, Copy(variant_name(out, label, ".webp"), step, self._save_as(resized, "WEBP")), data)
        return Measured(width, height, tuple(copies), tuple(webp))

    @staticmethod
    def _keep(into: list[Copy], copy: Copy, original: bytes) -> None:
        if len(copy.data) < len(original):  # a copy no smaller than the original only costs the reader
            into.append(copy)

    def _save_as(self, image: Any, fmt: str) -> bytes:
        if fmt == "JPEG" and image.mode not in ("RGB", "L"):
            image = image.convert("RGB")
        if fmt == "WEBP" and image.mode not in ("RGB", "RGBA"):
            image = image.convert("RGBA" if "A" in image.mode or "transparency" in image.info else "RGB")
        buffer = io.BytesIO()
        image.save(buffer, format=fmt, **_SAVE[fmt])
        self.encoded += 1
        return buffer.getvalue()

    # -- the cache: one folder per distinct image, a JSON index of what it holds --

    def _load(self, key: str, out: str) -> Measured | None:
        if self.folder is None:
            found = self.memory.get(key)
            return _renamed(found, out) if found is not None else None
        try:
            info = json.loads((self.folder / key / "info.json").read_text())
            width, height = int(info["width"]), int(info["height"])
            copies = tuple(
                tuple(Copy(variant_name(out, w or None, s), int(w) or width, (self.folder / key / f).read_bytes())
                      for f, s, w in info[kind])
                for kind in ("copies", "webp")
            )
            return Measured(width, height, *copies)
        except (OSError, ValueError, KeyError, TypeError):
            return None  # missing or unreadable: encoded again

    def _save(self, key: str, made: Measured) -> None:
        if self.folder is None:
            self.memory[key] = made
            return
        folder = self.folder / key
        folder.mkdir(parents=True, exist_ok=True)
        info: dict[str, Any] = {"width": made.width, "height": made.height}
        for kind, copies in (("copies", made.copies), ("webp", made.webp)):
            info[kind] = []
            for copy in copies:
                suffix = Path(copy.out).suffix
                name = f"{copy.width}{suffix}"
                write_atomically(folder / name, copy.data)
                full = copy.width == made.width
                info[kind].append([name, suffix, 0 if full else copy.width])
        write_atomically(folder / "info.json", json.dumps(info).encode())  # last: it vouches for the rest

    # -- HTML --

    def rewrite(self, body: markup.Rendered, page_url: str) -> markup.Rendered:
        """``body`` with every local image sized (and offered in smaller copies), the first
        eager and the rest lazy; its summary (shown on lists) with every image lazy."""
        if "<img" not in body.html:
            return body
        html = markup.rewrite_images(body.html, lambda attrs, n: self._tag(attrs, page_url, lazy=n > 0))
        summary = body.summary_html
        if "<img" in summary:
            summary = markup.rewrite_images(summary, lambda attrs, _n: self._tag(attrs, page_url, lazy=True))
        return replace(body, html=html, summary_html=summary)

    def local(self, src: str, page_url: str) -> str | None:
        """The asset an ``src`` names (``/images/a.png``, ``../../images/a.png``), or None."""
        if not src or _EXTERNAL.match(src):
            return None
        path = unquote(urljoin(page_url, src).split("#")[0].split("?")[0])
        prefix = self.base_path.rstrip("/") + "/"
        return path[len(prefix):] if path.startswith(prefix) else None

    def _tag(self, attrs: dict[str, str], page_url: str, lazy: bool) -> str | None:
        out = self.local(attrs.get("src", ""), page_url)
        measured = self.measure(out) if out else None
        if measured is None:
            return None
        attrs.setdefault("width", str(measured.width))
        attrs.setdefault("height", str(measured.height))
        if lazy:
            attrs.setdefault("loading", "lazy")
        attrs.setdefault("decoding", "async")
        if "srcset" in attrs or not (measured.copies or measured.webp):
            return markup.img_tag(attrs)
        src = attrs["src"]
        if not src.endswith(out):  # a query, a fragment or %-escapes: sized, but no copies offered
            return markup.img_tag(attrs)
        url = src[: len(src) - len(out)]  # the src's own spelling of the folder, base path included

        def srcset(copies: tuple[Copy, ...], original: Copy | None) -> str:
            return ", ".join(f"{url}{c.out} {c.width}w" for c in (*copies, *([original] if original else [])))

        if measured.copies:
            attrs["srcset"] = srcset(measured.copies, Copy(out, measured.width))
            attrs["sizes"] = SIZES
        webp = srcset(measured.webp, None)
        source = f'<source type="image/webp" srcset="{webp}" sizes="{SIZES}">' if measured.webp else ""
        return f"<picture>{source}{markup.img_tag(attrs)}</picture>"

    def outputs(self) -> list[tuple[str, bytes]]:
        """(path, bytes) of every copy made for the images the pages use, to publish."""
        return [
            (copy.out, copy.data)
            for measured in self.measured.values() if measured is not None
            for copy in (*measured.copies, *measured.webp)
        ]


def _renamed(made: Measured, out: str) -> Measured:
    """A cached image published under another name (the same bytes at two paths)."""
    def move(copy: Copy) -> Copy:
        full = copy.width == made.width
        return replace(copy, out=variant_name(out, None if full else copy.width, Path(copy.out).suffix))

    return replace(made, copies=tuple(map(move, made.copies)), webp=tuple(map(move, made.webp)))


def write_atomically(path: Path, data: bytes) -> None:
    """A killed build leaves no half-written cache file that a later build would trust."""
    part = path.with_name(f".{path.name}.{os.getpid()}.part")
    part.write_bytes(data)
    os.replace(part, path)


_kept: weakref.WeakKeyDictionary[Any, dict[str, Any]] = weakref.WeakKeyDictionary()


def gallery(engine: Any, config: Any, assets: list[Any], cache_folder: str) -> Gallery:
    """The build's gallery: cached in ``.qsite-cache/images/`` for an on-disk engine
    (``qsite build``), in memory for as long as the engine lives otherwise (``qsite serve``)."""
    root = getattr(engine, "root", None)
    if root is not None:
        return Gallery(assets, config.base_path, Path(root) / cache_folder / "images")
    return Gallery(assets, config.base_path, None, _kept.setdefault(engine, {}))
