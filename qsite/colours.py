"""Theme colours (``color:`` of each theme in site.yaml), checked against WCAG 2.2 AA.

A theme's colour is used three ways by the default theme (``static/site.css``, ``email.html``):
as the background of its chips under white text, as the text of theme headings and card links
on the page and card backgrounds, and as link text in the email edition (on white). In the dark
scheme the backgrounds are near-black and chip text is dark, so the same hue is used as a
light pastel (``dark_variant``) that passes every dark-scheme pairing. An editor gives
one colour; the light one is checked here, and a failing one is reported at its line in
site.yaml with the nearest passing colour of the same hue. Themes without a colour get one from
``PALETTE``, whose colours all pass (tests/test_colours.py).

WCAG 2.2's contrast ratio (success criterion 1.4.3, level AA): 4.5:1 for text, computed from
relative luminance with the sRGB transfer function as the standard defines it.
"""

from __future__ import annotations

import colorsys
import re
from collections.abc import Sequence
from dataclasses import replace
from typing import Any, Protocol, TypeVar

from qsite.schema import At, Invalid, Type

AA = 4.5  # WCAG 2.2 SC 1.4.3, normal-size text
AAA = 7.0  # SC 1.4.6: what the dark scheme's variants reach

# What a theme colour meets in the default theme's CSS (site.css's --surface, --bg, --chip-fg).
LIGHT = (("white chip text", "#ffffff"), ("the page background", "#f0f4f5"))
DARK = (("the dark card background", "#1b242b"), ("the dark page background", "#0f1419"),
        ("dark chip text", "#0b0c0c"))

# Distinct colours for themes without one, each passing every LIGHT pairing; the first four are
# the example site's. Past the palette, hues are spread around the colour wheel (``_spread``).
PALETTE = ("#873e63", "#206b38", "#864900", "#006c73", "#4c2c92", "#1d4f91", "#a4262c", "#5a5a00")

HEX = re.compile(r"#[0-9a-fA-F]{6}")


def _rgb(color: str) -> tuple[float, float, float]:
    return tuple(int(color[i : i + 2], 16) / 255 for i in (1, 3, 5))  # type: ignore[return-value]


def _hex(rgb: Sequence[float]) -> str:
    return "#" + "".join(f"{round(max(0.0, min(1.0, c)) * 255):02x}" for c in rgb)


def luminance(color: str) -> float:
    """WCAG relative luminance of ``#rrggbb``."""
    def linear(c: float) -> float:
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (linear(c) for c in _rgb(color))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: str, b: str) -> float:
    """WCAG contrast ratio of two colours, 1 to 21."""
    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def _mix(color: str, toward: str, amount: float) -> str:
    return _hex([c + (t - c) * amount for c, t in zip(_rgb(color), _rgb(toward), strict=True)])


def failures(color: str, against: Sequence[tuple[str, str]] = LIGHT) -> list[tuple[str, float]]:
    """(what, ratio) for each pairing ``color`` fails."""
    return [(what, contrast(color, other)) for what, other in against if contrast(color, other) < AA]


def _nearest(color: str, toward: str, against: Sequence[tuple[str, str]]) -> str:
    """``color`` mixed with ``toward`` just enough (in steps of 1 %) to pass every pairing."""
    for step in range(101):
        mixed = _mix(color, toward, step / 100)
        if not failures(mixed, against):
            return mixed
    return toward


def passing(color: str) -> str:
    """The light-scheme colour nearest ``color`` (the same hue, darkened) that passes."""
    return _nearest(color.lower(), "#000000", LIGHT)


def dark_variant(color: str) -> str:
    """``color`` for the dark scheme: the same hue, as a light pastel that reaches AAA's 7:1
    against every dark pairing (minimal AA contrast makes muddy colours on near-black)."""
    hue, _light, saturation = colorsys.rgb_to_hls(*_rgb(color.lower()))
    saturation = min(saturation, 0.5)
    for step in range(50, 101):
        pastel = _hex(colorsys.hls_to_rgb(hue, step / 100, saturation))
        if all(contrast(pastel, other) >= AAA for _what, other in DARK):
            return pastel
    return "#ffffff"


LIGHT_SURFACE, DARK_SURFACE = "#ffffff", "#0f1419"  # what a tint is mixed toward in each scheme


def tint(color: str, surface: str) -> str:
    """A background of ``color``'s hue for text in ``color`` (the design pass's chips): mixed
    toward the scheme's surface from 90 % on, just far enough that ``color`` on it meets AA.
    Always found: ``color`` itself passes on the surface (checked above, or made so)."""
    for step in range(90, 101):
        mixed = _mix(color.lower(), surface, step / 100)
        if contrast(color, mixed) >= AA:
            return mixed
    return surface


def _spread(index: int) -> str:
    """A colour for the ``index``-th theme past the palette: hues a golden angle apart."""
    hue = (index * 0.381966) % 1.0
    return passing(_hex(colorsys.hls_to_rgb(hue, 0.4, 0.75)))


class _Themed(Protocol):
    color: str


T = TypeVar("T", bound=_Themed)


def assign(themes: Sequence[T]) -> tuple[T, ...]:
    """Every theme with a colour: its own, or a palette colour no other theme uses."""
    # The i-th theme takes the i-th palette colour when nobody has it, so giving one theme a colour
    # of its own does not recolour the others (nor redraw their preview cards).
    candidates = [*PALETTE, *(_spread(i) for i in range(len(themes)))]
    used = {t.color.lower() for t in themes if t.color}
    chosen: list[T] = []
    for index, theme in enumerate(themes):
        if not theme.color:
            own = candidates[index] if index < len(candidates) else None
            colour = own if own and own not in used else next(c for c in candidates if c not in used)
            used.add(colour)
            theme = replace(theme, color=colour)  # type: ignore[type-var]
        chosen.append(theme)
    return tuple(chosen)


class ThemeColour(Type):
    """``color: "#RRGGBB"`` of a theme: the shape, then WCAG 2.2 AA contrast in the light scheme
    (the dark scheme's variant is made to pass, ``dark_variant``). A failing colour is reported
    with the passing colour of the same hue nearest to it."""

    null_is_absent = False  # `color: #7c2855` unquoted: YAML reads a comment, so no value

    def convert(self, value: Any, at: At) -> Any:
        quote = 'put the colour in quotes: color: "#7c2855"'
        if value is None:
            raise Invalid(f"'{at.name}' has no value (YAML reads everything after # as a comment)", quote)
        if not isinstance(value, str) or not HEX.fullmatch(value.strip()):
            raise Invalid(f"'{at.name}' should be a colour written #RRGGBB, not {value!r}", quote)
        color = value.strip().lower()
        failed = failures(color)
        if failed:
            said = ", ".join(f"{ratio:.2f}:1 against {what}" for what, ratio in failed)
            better = passing(color)
            raise Invalid(
                f"theme colour {color} is too light for text: {said} (WCAG 2.2 AA needs {AA}:1)",
                f'use color: "{better}", the same hue darkened ({contrast(better, LIGHT[1][1]):.2f}:1)',
            )
        return color
