"""A deliberately small YAML reader shared by site.yaml and front matter.

Editors are not programmers, so YAML's surprises are turned into messages instead of data:

* YAML 1.2 core schema, not PyYAML's 1.1: only ``true``/``false`` are booleans, so ``no``,
  ``on`` or ``NO`` (the Norway problem) and ``10:30`` (sexagesimal in 1.1) stay text. Dates are
  not resolved here either: they stay text, and the model parses them with a message that
  names the line, where PyYAML would raise a bare ``ValueError`` for ``2020-02-30``.
* Nothing is ever constructed from a tag (``!!python/object`` …): we compose nodes and build
  plain values ourselves, so there is no unsafe loader to pick by mistake.
* Anchors and aliases are refused, which also rules out alias ("billion laughs") bombs;
  duplicate keys and nesting deeper than ``MAX_DEPTH`` are refused too.

Every value's line is kept in ``Document.lines`` keyed by its path (``("themes", 1)``), offset
so it is a line of the *file*, which is what an editor sees in their editor.

Speed: a cold build reads every post's front matter, and PyYAML's pure-Python scanner is ~12×
slower than libyaml's, which PyYAML's wheels include. So ``load`` first composes with libyaml
(``yaml.cyaml.CParser``: the same nodes and marks) and builds the values with the same
``_build``, but trusts that only when it is certain the pure-Python path would give the same
document: for text with no anchor (an ``&`` where a node starts), tab, directive or unusual
line break or BOM, when libyaml succeeds, the tree is at most ``MAX_DEPTH`` deep and ``_build``
finds nothing wrong.
Everything else — every mistake above all — goes through the pure-Python path, so an editor
sees exactly the same message and line whichever path ran, and a PyYAML without libyaml
changes nothing but speed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import yaml
from yaml.composer import Composer
from yaml.events import AliasEvent, CollectionStartEvent, ScalarEvent
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from yaml.parser import Parser
from yaml.reader import Reader
from yaml.resolver import BaseResolver
from yaml.scanner import Scanner

MAX_DEPTH = 20

Key = tuple[str | int, ...]

STR = "tag:yaml.org,2002:str"
INT = "tag:yaml.org,2002:int"
FLOAT = "tag:yaml.org,2002:float"
BOOL = "tag:yaml.org,2002:bool"
NULL = "tag:yaml.org,2002:null"
SEQ = "tag:yaml.org,2002:seq"
MAP = "tag:yaml.org,2002:map"


class YamlProblem(Exception):
    """A problem at a 1-based line of the file (offset already applied)."""

    def __init__(self, line: int | None, message: str, fix: str | None = None):
        super().__init__(message)
        self.line = line
        self.message = message
        self.fix = fix


class _Resolver12(BaseResolver):
    """Implicit types of the YAML 1.2 core schema, nothing more."""


_Resolver12.yaml_implicit_resolvers = {}
_Resolver12.add_implicit_resolver(BOOL, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))
_Resolver12.add_implicit_resolver(
    INT, re.compile(r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$"), list("-+0123456789")
)
_Resolver12.add_implicit_resolver(
    FLOAT,
    re.compile(
        r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
        r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
    ),
    list("-+.0123456789"),
)
_Resolver12.add_implicit_resolver(NULL, re.compile(r"^(?:~|null|Null|NULL|)$"), ["~", "n", "N", ""])


try:  # libyaml, when PyYAML was built with it (its wheels are)
    from yaml.cyaml import CParser
except ImportError:  # pragma: no cover - depends on how PyYAML was installed
    CParser = None


class _Loader(Reader, Scanner, Parser, Composer, _Resolver12):
    def __init__(self, text: str, line_offset: int):
        Reader.__init__(self, text)
        Scanner.__init__(self)
        Parser.__init__(self)
        Composer.__init__(self)
        _Resolver12.__init__(self)
        self._depth = 0
        self._offset = line_offset

    def compose_node(self, parent: Node | None, index: Any) -> Node:  # type: ignore[override]
        event = self.peek_event()
        line = event.start_mark.line + 1 + self._offset
        if isinstance(event, AliasEvent):
            raise YamlProblem(
                line,
                f"YAML aliases (*{event.anchor}) are not allowed here",
                "write the value out in full instead of referring to an anchor",
            )
        if isinstance(event, ScalarEvent | CollectionStartEvent) and event.anchor is not None:
            raise YamlProblem(
                line,
                f"YAML anchors (&{event.anchor}) are not allowed here",
                f"remove '&{event.anchor}' and write each value out in full",
            )
        self._depth += 1
        if self._depth > MAX_DEPTH:
            raise YamlProblem(line, f"values are nested more than {MAX_DEPTH} levels deep")
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


@dataclass(frozen=True)
class Document:
    value: Any
    lines: dict[Key, int]
    first_line: int

    def line(self, *key: str | int) -> int:
        """The line of ``key``, or of its nearest parent that has one."""
        path: Key = tuple(key)
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return self.first_line


def load(text: str, line_offset: int = 0) -> Document:
    """Parse one YAML document. ``line_offset`` is the number of file lines before ``text``.

    Raises :class:`YamlProblem` for anything an editor must fix.
    """
    doc = load_libyaml(text, line_offset)
    return doc if doc is not None else load_pure(text, line_offset)


# Where libyaml and the pure-Python reader could disagree (found by tests/test_strict_yaml.py's
# comparison of the two), or where only the pure-Python path can tell what is wrong: anchors
# (libyaml's nodes do not keep them; an alias without an anchor fails in both), tags, tabs,
# directives, document markers, a comment stuck to a block scalar's header (``|#``), line
# breaks other than \n, byte-order marks. (And, seen in the nodes: a ``?`` in plain text
# inside brackets, which libyaml reads as text and the pure-Python path as a key's mark.)
# An anchor opens a node, so its ``&`` follows only the start of a line or an indicator
# (``- ``, ``? ``, ``: ``, ``[``, ``{``, ``,``), spaces aside: an ``&`` after anything else is
# text, as in "A&E" or "Q & A", which editors write in titles and which libyaml may read.
_NOT_FOR_LIBYAML = re.compile(
    "[!\t\r\x85\u2028\u2029\ufeff]|(?:^|[-?:\\[{,])[ \n]*&|^(?:%|---|\\.\\.\\.)|[|>][-+0-9]*#", re.M
)
# A nesting level needs one of these characters, so their count bounds the depth libyaml's
# (recursive) composer may reach, whatever its own limit: a hostile text goes the slow way.
_INDICATORS = "-:?[{"
_MAX_INDICATORS = 2000


def _for_libyaml(text: str) -> bool:
    """Whether libyaml's reading of ``text`` may be trusted when it succeeds (linear time)."""
    if CParser is None or sum(text.count(c) for c in _INDICATORS) > _MAX_INDICATORS:
        return False
    return not (_NOT_FOR_LIBYAML.search(text) or _FORBIDDEN.search(text))


class _CLoader(CParser or object, _Resolver12):  # type: ignore[misc]
    """libyaml's parser and composer with the YAML 1.2 resolver."""

    def __init__(self, text: str):
        CParser.__init__(self, text)  # type: ignore[misc]
        _Resolver12.__init__(self)


def load_libyaml(text: str, line_offset: int = 0) -> Document | None:
    """``load`` through libyaml, or None whenever only the pure-Python path may answer: then
    ``load_pure`` gives the document or the problem, with its own message and line."""
    if not _for_libyaml(text):
        return None
    loader = _CLoader(text)
    try:
        node = loader.get_single_node()
    except (yaml.YAMLError, ValueError, RecursionError):
        return None
    finally:
        loader.dispose()
    lines: dict[Key, int] = {}
    if node is None:
        return Document(None, lines, line_offset + 1)
    if _pure_would_differ(node):
        return None
    try:
        value = _build(node, (), lines, line_offset)
    except YamlProblem:
        return None
    return Document(value, lines, line_offset + 1)


def _pure_would_differ(root: Node) -> bool:
    """Whether a node lies deeper than ``MAX_DEPTH`` (the root is at depth 1, keys and values
    of a mapping one below it, as the pure-Python composer counts), or a plain scalar inside
    brackets holds a ``?``."""
    stack = [(root, 1, False)]
    while stack:
        node, depth, flow = stack.pop()
        if depth > MAX_DEPTH:
            return True
        if isinstance(node, ScalarNode):
            if flow and not node.style and "?" in node.value:  # plain: style "" or None
                return True
        elif isinstance(node, SequenceNode):
            inner = flow or bool(node.flow_style)
            stack.extend((item, depth + 1, inner) for item in node.value)
        elif isinstance(node, MappingNode):
            inner = flow or bool(node.flow_style)
            for key, value in node.value:
                stack.append((key, depth + 1, inner))
                stack.append((value, depth + 1, inner))
    return False


def load_pure(text: str, line_offset: int = 0) -> Document:
    """``load`` through PyYAML's pure-Python reader, whose composer refuses anchors, aliases
    and deep nesting as it meets them: the authority for every message and line."""
    bad = _FORBIDDEN.search(text)
    if bad:
        # PyYAML's reader refuses these before parsing, with a position but no line: find it
        # here. Word pastes \x0b for Shift+Enter, and it is invisible in most editors.
        line = text.count("\n", 0, bad.start()) + 1 + line_offset
        raise YamlProblem(
            line,
            f"this line contains an invisible control character ({_char_name(bad.group())})",
            "retype the line, or delete the character (often pasted from Word with Shift+Enter); "
            "a line break inside a value is written as a new line, indented",
        )
    loader = _Loader(text, line_offset)
    try:
        node = loader.get_single_node()
    except YamlProblem:
        raise
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 + line_offset if mark else None
        what = exc.problem or exc.context or "invalid YAML"
        raise YamlProblem(line, f"this is not valid YAML: {what}", _yaml_fix(what)) from None
    except yaml.YAMLError as exc:  # reader errors (control characters) have no mark
        raise YamlProblem(line_offset + 1, f"this is not valid YAML: {exc}") from None
    except RecursionError:
        raise YamlProblem(line_offset + 1, "values are nested too deeply") from None
    finally:
        loader.dispose()
    lines: dict[Key, int] = {}
    if node is None:
        return Document(None, lines, line_offset + 1)
    value = _build(node, (), lines, line_offset)
    return Document(value, lines, line_offset + 1)


# What YAML's reader refuses: C0 controls but tab and newlines, DEL, C1 controls but NEL,
# surrogates and U+FFFE/U+FFFF (see yaml.reader.Reader.NON_PRINTABLE).
_FORBIDDEN = re.compile("[^\x09\x0a\x0d\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _char_name(char: str) -> str:
    import unicodedata

    code = f"U+{ord(char):04X}"
    name = unicodedata.name(char, "")
    return f"{code} {name}" if name else code


def _yaml_fix(what: str) -> str | None:
    if "mapping values are not allowed" in what:
        return "a value containing ': ' must be put in quotes, e.g. title: \"Huddles: what we learned\""
    if "found character '\\t'" in what or "tab" in what:
        return "indent with spaces, not tabs"
    if "could not find expected ':'" in what:
        return "each line should look like 'key: value'; check the line above for a missing colon"
    return None


def _build(node: Node, path: Key, lines: dict[Key, int], offset: int) -> Any:
    line = node.start_mark.line + 1 + offset
    lines[path] = line
    if isinstance(node, ScalarNode):
        return _scalar(node, line)
    if isinstance(node, SequenceNode):
        if node.tag != SEQ:
            raise YamlProblem(line, f"the YAML tag {_short(node.tag)} is not allowed", "remove the tag")
        return [_build(item, (*path, i), lines, offset) for i, item in enumerate(node.value)]
    if isinstance(node, MappingNode):
        if node.tag != MAP:
            raise YamlProblem(line, f"the YAML tag {_short(node.tag)} is not allowed", "remove the tag")
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key_line = key_node.start_mark.line + 1 + offset
            if not isinstance(key_node, ScalarNode) or key_node.tag not in (STR, INT, BOOL):
                raise YamlProblem(key_line, "keys must be plain words")
            key = str(key_node.value)
            if key == "<<":
                raise YamlProblem(key_line, "YAML merge keys (<<) are not allowed here")
            if key in result:
                raise YamlProblem(
                    key_line,
                    f"'{key}' is given twice (first on line {lines[(*path, key)]})",
                    f"keep one '{key}:' line and delete the other",
                )
            result[key] = _build(value_node, (*path, key), lines, offset)
            lines[(*path, key)] = key_line
        return result
    raise YamlProblem(line, "unsupported YAML")  # pragma: no cover - composer yields only these


def _scalar(node: ScalarNode, line: int) -> Any:
    tag, text = node.tag, node.value
    if tag == STR:
        return text
    if tag == NULL:
        return None
    if tag == BOOL:
        return text.lower() == "true"
    try:
        if tag == INT:
            if text.startswith("0o"):
                return int(text[2:], 8)
            if text.startswith("0x"):
                return int(text[2:], 16)
            return int(text)
        if tag == FLOAT:
            low = text.lower()
            if low.endswith("inf"):
                return float("-inf") if low.startswith("-") else float("inf")
            if low == ".nan":
                return float("nan")
            return float(text)
    except ValueError:  # only with a tag written by hand (!!int ten): plain numbers always convert
        raise YamlProblem(
            line, f"'{text}' is not a number, but is tagged {_short(tag)}", "remove the tag and write a plain value"
        ) from None
    raise YamlProblem(line, f"the YAML tag {_short(tag)} is not allowed", "remove the tag and write a plain value")


def _short(tag: str) -> str:
    return "!!" + tag.removeprefix("tag:yaml.org,2002:") if tag.startswith("tag:yaml.org") else tag
