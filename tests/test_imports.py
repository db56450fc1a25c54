"""The module graph of qsite/: no import cycles, and no step imports the command line.

Imports are read with ``ast``, not by importing, so every import counts wherever it is written:
at the top, inside a function (imported late so ``qsite build`` starts fast), and under
``if TYPE_CHECKING:``. Those last two count on purpose. A late or type-only import still means
"this module needs that one to be understood": a reader follows it, a type checker loads both,
``typing.get_type_hints`` evaluates it at run time, and moving it out of the guard turns a quiet
cycle into an ImportError. A cycle is fixed by moving what both sides need into a module below
both (as ``qsite/summaries.py`` holds what the commands print), never by hiding an import.
"""

from __future__ import annotations

import ast
import itertools
from collections.abc import Iterator
from pathlib import Path

import pytest

QSITE = Path(__file__).resolve().parent.parent / "qsite"

# The command line: the callers of every step. Only ``python -m qsite`` may import it.
COMMANDS = ("qsite.cli", "qsite.commands")
ENTRY = "qsite.__main__"

Edges = dict[str, dict[str, str]]  # module → imported module → where ("qsite/x.py:12")


def module_name(path: Path, top: Path) -> str:
    parts = list(path.relative_to(top.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def import_graph(top: Path) -> Edges:
    """Every import from a module of the package at ``top`` to another, absolute or relative."""
    files = {module_name(path, top): path for path in sorted(top.rglob("*.py"))}
    packages = {name for name, path in files.items() if path.name == "__init__.py"}

    def known(name: str) -> str | None:
        """``name`` if it is a module of the package, else the closest enclosing one."""
        while name and name not in files:
            name = name.rpartition(".")[0]
        return name or None

    edges: Edges = {name: {} for name in files}
    for name, path in files.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        for node, how in _imports(tree):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            else:
                if node.level:
                    package = name if name in packages else name.rpartition(".")[0]
                    for _ in range(node.level - 1):
                        package = package.rpartition(".")[0]
                    base = f"{package}.{node.module}" if node.module else package
                else:
                    base = node.module or ""
                # ``from qsite import cli`` imports the module qsite.cli; ``from qsite.x import f`` imports qsite.x.
                targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in files else base for alias in node.names]
            for target in targets:
                found = known(target) if target.split(".")[0] == top.name else None
                if found and found != name:
                    edges[name].setdefault(found, f"{path.relative_to(top.parent)}:{node.lineno}{how}")
    return edges


def _imports(node: ast.AST, how: str = "") -> Iterator[tuple[ast.Import | ast.ImportFrom, str]]:
    """Every import statement under ``node``, with where it hides: in a function, or for the type checker."""
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.Import | ast.ImportFrom):
            yield child, how
        elif isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
            yield from _imports(child, how or ", inside a function")
        elif isinstance(child, ast.If) and _is_type_checking(child.test):
            for statement in child.body:
                yield from _imports(ast.Module([statement], []), ", under if TYPE_CHECKING")
            for statement in child.orelse:
                yield from _imports(ast.Module([statement], []), how)
        else:
            yield from _imports(child, how)


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def cycles(edges: Edges) -> Iterator[list[str]]:
    """One cycle through each strongly connected group of modules (Tarjan), first module repeated last."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    groups: list[set[str]] = []

    def connect(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        for target in sorted(edges[module]):
            if target not in index:
                connect(target)
                low[module] = min(low[module], low[target])
            elif target in stack:
                low[module] = min(low[module], index[target])
        if low[module] == index[module]:
            group = set()
            while True:
                member = stack.pop()
                group.add(member)
                if member == module:
                    break
            if len(group) > 1:
                groups.append(group)

    for module in sorted(edges):
        if module not in index:
            connect(module)
    for group in groups:
        start = min(group)
        yield _path_back(start, group, edges)


def _path_back(start: str, group: set[str], edges: Edges) -> list[str]:
    """The shortest path from ``start`` back to itself inside ``group`` (breadth first)."""
    previous: dict[str, str] = {}
    frontier = [start]
    while frontier:
        following = []
        for module in frontier:
            for target in sorted(edges[module]):
                if target == start:
                    path = [module]
                    while path[-1] != start:
                        path.append(previous[path[-1]])
                    return [*reversed(path), start]
                if target in group and target not in previous:
                    previous[target] = module
                    following.append(target)
        frontier = following
    raise AssertionError(f"{start} is in a cycle but has no way back")  # pragma: no cover


def describe(cycle: list[str], edges: Edges) -> str:
    steps = [f"{a} -> {b} ({edges[a][b]})" for a, b in itertools.pairwise(cycle)]
    return " -> ".join(cycle) + "\n    " + "\n    ".join(steps)


def test_qsite_has_no_import_cycles() -> None:
    edges = import_graph(QSITE)
    found = [describe(cycle, edges) for cycle in cycles(edges)]
    assert not found, "import cycles in qsite/ (each import counts, see this module's docstring):\n" + "\n".join(found)


def test_no_step_imports_the_command_line() -> None:
    """Steps return values and raise Problems; the command line calls them, never the reverse."""
    edges = import_graph(QSITE)

    def is_command(module: str) -> bool:
        return any(module == c or module.startswith(c + ".") for c in COMMANDS)

    assert any(is_command(m) for m in edges), "the command line moved: update COMMANDS above"
    callers = [
        f"{module} imports {target} ({where})"
        for module, targets in sorted(edges.items())
        if not is_command(module) and module != ENTRY
        for target, where in targets.items()
        if is_command(target)
    ]
    assert not callers, "\n".join(callers)


# -- the walker itself, on a package made for it, so the two tests above cannot pass by seeing nothing


@pytest.fixture
def package(tmp_path: Path) -> Path:
    files = {
        "__init__.py": "",
        "a.py": "from pkg.b import f\n",
        "b.py": "def f():\n    from . import c\n",  # late and relative
        "c.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pkg.a import A\n",
        "d.py": "import pkg.sub.e\n",
        "sub/__init__.py": "from .e import g\n",
        "sub/e.py": "from ..d import h\nimport os\nfrom pkg import __doc__\n",
        "ok.py": "from pkg.a import A\nfrom pkg import sub\n",
    }
    for rel, text in files.items():
        path = tmp_path / "pkg" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return tmp_path / "pkg"


def test_the_walker_sees_every_kind_of_import(package: Path) -> None:
    edges = import_graph(package)
    assert {m: sorted(t) for m, t in edges.items()} == {
        "pkg": [],
        "pkg.a": ["pkg.b"],
        "pkg.b": ["pkg.c"],
        "pkg.c": ["pkg.a"],
        "pkg.d": ["pkg.sub.e"],
        "pkg.sub": ["pkg.sub.e"],
        "pkg.sub.e": ["pkg", "pkg.d"],
        "pkg.ok": ["pkg.a", "pkg.sub"],
    }
    assert edges["pkg.c"]["pkg.a"] == "pkg/c.py:3, under if TYPE_CHECKING"
    assert edges["pkg.b"]["pkg.c"] == "pkg/b.py:2, inside a function"
    assert sorted(cycles(edges)) == [["pkg.a", "pkg.b", "pkg.c", "pkg.a"], ["pkg.d", "pkg.sub.e", "pkg.d"]]
    assert describe(["pkg.d", "pkg.sub.e", "pkg.d"], edges) == (
        "pkg.d -> pkg.sub.e -> pkg.d\n    pkg.d -> pkg.sub.e (pkg/d.py:1)\n    pkg.sub.e -> pkg.d (pkg/sub/e.py:1)"
    )
