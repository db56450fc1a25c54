"""Front matter through libyaml (issue 10, C4): the fast path must read every text exactly as the
pure-Python path does, or step aside so that the pure-Python path answers, with its own
message and line. The comparison below is what found each of ``_NOT_FOR_LIBYAML``'s cases."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from qsite import strict_yaml
from qsite.content import parse_document

REPO = Path(__file__).resolve().parent.parent

# Pieces of YAML, valid and not, put together at random: structure, flow brackets, scalars of
# every implicit type, tags, anchors, block scalars, comments, document markers.
PIECES = [
    "a", "b", "key", "title", ": ", ":", "- ", "-", "[", "]", "{", "}", ", ", ",", "\n", "\n  ", "\n    ",
    "  ", " ", "'x'", "'it''s'", '"y\\n"', '"\\u00e9"', "!!str ", "!!int ", "!foo ", "! ", "*a", "&a ", "? ",
    " #c", "#", "|", "|-", ">", ">+", "true", "no", "1.5", "0x1F", "0o17", ".inf", "-.inf", ".nan", "null",
    "~", "2020-04-01", "10:30", "a:b", "http://x.y/z", "---", "...", "@", "`", "\\", "é", "😀", "%", '"',
    "'", "1e3", "+1", "-0", "012", "<<", "=", "!!map ", "!!float ", "\n-", "\n- ", "\n? ", "\n: ", "a: b",
    "?", "a?b", "x:y", "--", "..", "\t", "&", "A&E", " & ", "&x", "-&", ":&", "[&", ",&",
]
SCALARS = PIECES[19:70]


def _random_text(rng: random.Random) -> str:
    return "".join(rng.choice(PIECES) for _ in range(rng.randint(1, 24)))


def _random_document(rng: random.Random, depth: int = 0) -> str:
    """Mostly valid front matter: mappings of scalars, block and flow lists, nested mappings."""
    indent = "  " * depth
    lines = []
    for _ in range(rng.randint(1, 4)):
        key = rng.choice(["a", "b", "title", "themes", "a b", "'q'", "1", "true", "null", "a"])
        choice = rng.random()
        if choice < 0.45 or depth > 2:
            tail = rng.choice(["", " x", " y z", ":", " #c", "\n" + indent + "  more"])
            lines.append(f"{indent}{key}: {rng.choice(SCALARS).strip()}{tail}")
        elif choice < 0.65:
            lines.append(f"{indent}{key}:")
            lines += [f"{indent}  - {rng.choice(SCALARS).strip()}" for _ in range(rng.randint(0, 3))]
        elif choice < 0.8:
            items = ", ".join(rng.choice(SCALARS).strip() for _ in range(rng.randint(0, 3)))
            lines.append(f"{indent}{key}: [{items}]")
        elif choice < 0.88:
            lines.append(f"{indent}{key}: {rng.choice(['|', '>', '|-', '>+'])}\n{indent}  line one\n{indent}  line two")
        else:
            lines.append(f"{indent}{key}:")
            lines.append(_random_document(rng, depth + 1))
    return "\n".join(lines)


def _outcome(load: object, text: str) -> object:
    try:
        doc = load(text, 3)  # type: ignore[operator]
    except strict_yaml.YamlProblem as exc:
        return ("problem", exc.line, exc.message, exc.fix)
    if doc is None:
        return None
    return ("document", repr(doc.value), doc.lines, doc.first_line)


@pytest.mark.skipif(strict_yaml.CParser is None, reason="PyYAML without libyaml")
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_whatever_libyaml_reads_the_pure_python_path_reads_the_same(seed: int) -> None:
    rng = random.Random(seed)
    fast = 0
    for i in range(4000):
        text = _random_text(rng) if i % 2 else _random_document(rng)
        through_c = _outcome(strict_yaml.load_libyaml, text)
        if through_c is None:
            continue
        fast += 1
        assert through_c == _outcome(strict_yaml.load_pure, text), text
    assert fast > 500  # the comparison saw the fast path, not only its refusals


@pytest.mark.skipif(strict_yaml.CParser is None, reason="PyYAML without libyaml")
@pytest.mark.parametrize(
    "text",
    [
        "a: &x 1\nb: *x\n",  # an anchor: libyaml's nodes forget it
        "a: [b, &x c]\n",  # anchors wherever a node starts
        "- &x a\n",
        "&x a: b\n",
        "a:\n  &x b\n",
        "a: {b: 1,&x c: 2}\n",
        "a: *x\n",  # an alias without an anchor
        "a: !!str 1\n",  # tags
        "a: !\n",
        "a:\tb\n",  # a tab
        "%YAML 1.2\n---\na: 1\n",  # a directive
        "a: 1\n...\n",  # a document marker
        "a: |#\n  x\n",  # a comment stuck to a block scalar's header
        "a: [b?]\n",  # a ? inside brackets
        "a: 1\r\nb: 2\n",  # another line break
        "a: 1\nb: 2\na: 3\n",  # a duplicate key: libyaml composes it, _build refuses it
        "a: [b, {c: d}]: e\n",  # not plain keys
        "".join(f"{'  ' * i}k:\n" for i in range(25)),  # deeper than MAX_DEPTH
        "[" * 3000 + "]" * 3000,  # deeper than libyaml may go
        "a: \x0b\n",  # a control character
        "title: Huddles: what we learned\n",  # invalid YAML
    ],
)
def test_what_libyaml_might_read_otherwise_goes_the_pure_python_way(text: str) -> None:
    assert strict_yaml.load_libyaml(text, 3) is None
    assert _outcome(strict_yaml.load, text) == _outcome(strict_yaml.load_pure, text)


@pytest.mark.skipif(strict_yaml.CParser is None, reason="PyYAML without libyaml")
@pytest.mark.parametrize(
    "text",
    [
        "title: A&E waiting times\n",  # what an NHS site writes in a title
        "title: Q & A with the ward team\ntags: [A&E, R&D]\n",
        "summary: 'Tips & tricks'\nthemes:\n  - safety & quality\n",
    ],
)
def test_an_ampersand_in_text_is_read_by_libyaml(text: str) -> None:
    """Only an ``&`` where a node starts is an anchor; one inside text needs no slow path."""
    doc = strict_yaml.load_libyaml(text, 3)
    assert doc is not None
    assert _outcome(strict_yaml.load, text) == _outcome(strict_yaml.load_pure, text)


@pytest.mark.skipif(strict_yaml.CParser is None, reason="PyYAML without libyaml")
def test_the_example_sites_front_matter_is_read_by_libyaml() -> None:
    posts = sorted((REPO / "content" / "posts").glob("*.md"))
    assert posts
    for path in posts:
        text = path.read_text(encoding="utf-8")
        front = text.split("---\n")[1]
        doc = strict_yaml.load_libyaml(front, 1)
        assert doc is not None, path
        pure = strict_yaml.load_pure(front, 1)
        assert (doc.value, doc.lines) == (pure.value, pure.lines)


def test_without_libyaml_the_pure_python_path_reads_everything(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(strict_yaml, "CParser", None)
    text = "---\ntitle: A\ndate: 2020-04-01\nthemes: [staff-wellbeing]\nflag: no\n---\nBody\n"
    assert strict_yaml.load_libyaml("title: A\n") is None
    doc = parse_document("content/posts/a.md", "post", text)
    assert not isinstance(doc, Exception) and doc.meta == {
        "title": "A", "date": "2020-04-01", "themes": ["staff-wellbeing"], "flag": "no"
    }
    assert doc.line("themes", 0) == 4


@pytest.mark.parametrize(("text", "line"), [("a: 1\nb: !!int ten\n", 5), ("a: !!float\n", 4)])
def test_a_number_tag_on_text_that_is_no_number_is_a_problem_not_a_crash(text: str, line: int) -> None:
    with pytest.raises(strict_yaml.YamlProblem) as caught:
        strict_yaml.load(text, 3)
    assert caught.value.line == line and "is not a number" in caught.value.message
