"""``qsite new`` without ``--theme``: ask on the terminal which themes the post is about.

Every post needs at least one theme, and an editor starting a post rarely remembers the slugs,
so on a terminal qsite lists the themes and asks, by number or slug, until the answer is usable.
Without a terminal (a script, CI) there is no one to ask: that is a usage error naming the slugs.
The asking and saying are passed in (``input`` and ``print`` from ``qsite/cli.py``), so this
module neither reads nor prints by itself.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from qsite.problems import ConfigError, Problem


def ask_themes(
    themes: Sequence[tuple[str, str]],
    ask: Callable[[str], str] | None,
    say: Callable[[str], None],
) -> list[str]:
    """The chosen slugs, from ``themes`` as (slug, title) pairs in site.yaml's order. ``ask``
    is None when there is no terminal; end of input (Ctrl-D) is a usage error too."""
    slugs = [slug for slug, _ in themes]
    if ask is None:
        fix = f"add --theme with one of: {', '.join(slugs)} (repeat --theme for several)"
        raise ConfigError([Problem("--theme", None, "no theme given", fix)])
    say("Which themes is this post about?")
    for number, (slug, title) in enumerate(themes, 1):
        say(f"  {number}. {title} ({slug})")
    while True:
        try:
            answer = ask("Theme numbers or slugs, separated by spaces or commas: ")
        except EOFError:
            fix = f"use --theme with one of: {', '.join(slugs)}"
            raise ConfigError([Problem("--theme", None, "no theme chosen", fix)]) from None
        chosen: list[str] = []
        unknown: list[str] = []
        for word in answer.replace(",", " ").split():
            if word.isdigit() and 1 <= int(word) <= len(slugs):
                chosen.append(slugs[int(word) - 1])
            elif word in slugs:
                chosen.append(word)
            else:
                unknown.append(word)
        if chosen and not unknown:
            return chosen
        if unknown:
            say(f"Not a theme: {', '.join(unknown)}. Type numbers from 1 to {len(slugs)}, or slugs.")
        else:
            say("Choose at least one theme.")
