"""GitHub Actions annotations: a problem as a workflow command, so it shows on the pull request's diff.

``qsite check`` prints these after its usual problem lines when ``GITHUB_ACTIONS`` is ``true``
(see ``.github/workflows/check.yml``). The format is GitHub's ``::error file=…,line=…::message``,
with its own escaping for properties and for the message.
"""

from __future__ import annotations

import os
from pathlib import Path

from qsite.problems import Problem


def annotation(problem: Problem, root: Path) -> str:
    """One workflow command. ``file`` is relative to the repository (the workspace), where the
    site may be a subfolder; a problem that is not about a file (``--base-url``) names itself
    in the message instead."""
    path = Path(problem.path)
    full = path if path.is_absolute() else root / path
    props = []
    if not problem.path.startswith("-") and full.is_file():
        workspace = Path(os.environ.get("GITHUB_WORKSPACE") or Path.cwd()).resolve()
        try:
            file = full.resolve().relative_to(workspace).as_posix()
        except ValueError:
            file = full.resolve().as_posix()
        props.append(f"file={_escape_property(file)}")
        if problem.line:
            props.append(f"line={problem.line}")
    message = problem.message + (f"\nFix: {problem.fix}" if problem.fix else "")
    if not props:
        message = f"{problem.path}: {message}"
    kind = "error" if problem.severity == "error" else "warning"
    where = " " + ",".join(props) if props else ""
    return f"::{kind}{where}::{_escape_data(message)}"


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")
