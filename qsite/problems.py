"""Problems are values, not exceptions: every step collects them so an editor sees all of
their mistakes in one run instead of fixing them one build at a time.

Exception tree (only raised at the boundary between steps)::

    QsiteError            carries a list of Problem; cli turns it into an exit code
    ├── ContentError      exit 1: something in content/ or templates/ an editor can fix
    └── ConfigError       exit 2: site.yaml, the command line or the environment
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field


@dataclass(frozen=True, order=True)
class Problem:
    """One mistake at one place. ``line`` is a line of the file (1-based), not of a YAML block."""

    path: str
    line: int | None
    message: str
    fix: str | None = None
    severity: str = "error"

    def location(self) -> str:
        return f"{self.path}:{self.line}" if self.line else self.path

    def format(self) -> str:
        text = f"{self.location()}: {self.severity}: {self.message}"
        if self.fix:
            text += f"\n    fix: {self.fix}"
        return text

    def __str__(self) -> str:
        return self.format()


@dataclass
class Problems:
    """A collector that steps append to; kept explicit so no step hides a problem in a log."""

    items: list[Problem] = field(default_factory=list)

    def add(
        self,
        path: str,
        line: int | None,
        message: str,
        fix: str | None = None,
        severity: str = "error",
    ) -> None:
        self.items.append(Problem(path, line, message, fix, severity))

    def extend(self, problems: Iterable[Problem]) -> None:
        self.items.extend(problems)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.items if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.items if p.severity == "warning"]

    def __bool__(self) -> bool:
        return bool(self.errors)

    def __len__(self) -> int:
        return len(self.items)


class QsiteError(Exception):
    """Ends a command. ``problems`` are printed by the CLI, which alone decides the exit code."""

    exit_code = 1

    def __init__(self, problems: Iterable[Problem]):
        self.problems = sorted(problems, key=_sort_key)
        super().__init__("\n".join(p.format() for p in self.problems))


class ContentError(QsiteError):
    exit_code = 1


class ConfigError(QsiteError):
    exit_code = 2


def _sort_key(p: Problem) -> tuple[str, int, str]:
    return (p.path, p.line or 0, p.message)


def did_you_mean(word: str, choices: Iterable[str]) -> str | None:
    """The closest of ``choices`` to a mistyped ``word``, as click suggests a mistyped option."""
    options = list(choices)
    low = word.lower()
    for option in options:  # `Theme` or `THEMES`: case is the whole mistake
        if option.lower() == low:
            return option
    for option in options:  # `theme` for `themes`: a prefix is a stronger hint than edit distance
        if min(len(low), len(option)) >= 3 and (option.startswith(low) or low.startswith(option)):
            return option
    import difflib  # here: only a mistake needs it, and every command imports this module (issue 10)

    close = difflib.get_close_matches(low, options, n=1, cutoff=0.6)
    return close[0] if close else None
