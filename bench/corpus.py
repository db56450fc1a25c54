"""A deterministic corpus of realistic posts for the benchmark.

The same ``(seed, count)`` always gives the same files, byte for byte, so two runs (or two
machines) measure the same work. Posts look like the community's real ones: 400-1200 words
under a few headings, lists, links to other posts and to the web, a table or a code block in
some, 1-3 of the four themes and 0-4 tags from a shared pool, so theme and tag pages have the
sizes a real site would give them.
"""

from __future__ import annotations

import random
import shutil
from datetime import date, timedelta
from pathlib import Path

THEMES = (
    ("health-inequalities", "Health inequalities and meeting the needs of vulnerable groups"),
    ("staff-wellbeing", "Staff wellbeing and system resilience"),
    ("space-to-learn", "Space and support to learn"),
    ("collaborative-improvement", "Collaborative improvement alive and strong"),
)

SITE_YAML = """\
title: Benchmark Site
description: A generated site for measuring build speed.
base_url: https://example.org/
author: Improvement Community
posts_per_page: 10
themes:
"""

_WORDS_TEXT = """
team ward patients staff huddle learning improvement change data run chart measure week month
nurse doctor pharmacist reception practice clinic hospital community service people family
carer volunteer shift rota break rest support wellbeing resilience pressure workload time
space reflection session meeting conversation question idea test cycle plan study act small
step result outcome waiting list referral appointment phone video call text message letter
leaflet interpreter language access trust safety risk harm incident review feedback survey
story voice experience partner network system board manager lead coach champion peer group
circle round training skill habit routine checklist handover board whiteboard note log diary
record share spread scale sustain adopt adapt local regional national primary secondary social
care housing hostel outreach street health inequality deprivation barrier digital inclusion
literacy travel
"""
WORDS = _WORDS_TEXT.split()

CONNECTORS = ["and", "but", "so", "because", "while", "when", "after", "before", "although", "since"]
OPENERS = (
    "We found that", "In practice", "At first", "By the second week", "Looking back",
    "The team noticed that", "Several colleagues said", "What surprised us was that",
    "It helped that", "Our data showed that",
)
HEADINGS = (
    "What we tried", "What happened", "What we learned", "What we would do differently",
    "Why it mattered", "Who was involved", "Measuring the change", "Keeping it going",
    "Spreading the idea", "The next step", "Where we started", "What got in the way",
)
TAG_POOL = (
    "huddles", "remote consultations", "primary care", "digital inclusion", "interpreters",
    "rough sleeping", "asylum seekers", "Roma and Traveller", "night shifts", "breaks",
    "Schwartz rounds", "peer support", "run charts", "QI coaching", "learning logs",
    "PDSA", "handover", "patient voice", "volunteers", "mental health", "vaccination",
    "outreach", "care homes", "pharmacy", "community nursing", "discharge", "falls",
    "nutrition", "dementia", "maternity", "children and young people", "social prescribing",
    "housing", "homelessness", "carers", "frailty", "end of life", "sickness absence",
    "retention", "induction", "supervision", "reflective practice", "networks",
    "collaboratives", "measurement", "spread", "sustainability", "co-production",
    "health literacy", "translation", "text messaging", "video calls", "waiting lists",
    "referrals", "safety huddles", "incident review", "staff survey", "rota design",
    "rest spaces", "wellbeing hubs",
)


def _sentence(rng: random.Random) -> str:
    words = [rng.choice(WORDS) for _ in range(rng.randint(8, 18))]
    if rng.random() < 0.5:
        words.insert(rng.randint(3, len(words) - 2), rng.choice(CONNECTORS))
    text = " ".join(words)
    if rng.random() < 0.5:
        text = f"{rng.choice(OPENERS)} {text}"
    if rng.random() < 0.1:
        text = text.replace(" data ", " *data* ", 1)
    return text[0].upper() + text[1:] + "."


def _paragraph(rng: random.Random, words: list[int], links: list[str]) -> str:
    sentences = [_sentence(rng) for _ in range(rng.randint(3, 6))]
    if links and rng.random() < 0.35:
        i = rng.randrange(len(sentences))
        sentences[i] = sentences[i][:-1] + f", as [another team described]({rng.choice(links)})."
    if rng.random() < 0.15:
        sentences.append("The [guidance](https://www.england.nhs.uk/) helped us start.")
    text = " ".join(sentences)
    words[0] += len(text.split())
    return text


def _table(rng: random.Random) -> str:
    rows = ["| Week | Calls | Missed | Notes |", "| --- | ---: | ---: | --- |"]
    for week in range(1, rng.randint(4, 8)):
        note = f"{rng.choice(WORDS)} {rng.choice(WORDS)}"
        rows.append(f"| {week} | {rng.randint(20, 90)} | {rng.randint(0, 12)} | {note} |")
    return "\n".join(rows)


def _code(rng: random.Random) -> str:
    lines = ["```python", "import csv", "", "def weekly_counts(path):"]
    lines += ["    counts = {}", "    with open(path) as f:", "        for row in csv.DictReader(f):"]
    lines += [f"            counts[row['{rng.choice(WORDS)}']] = counts.get(row['week'], 0) + 1"]
    lines += ["    return counts", "```"]
    return "\n".join(lines)


def body(rng: random.Random, links: list[str]) -> str:
    target = rng.randint(400, 1000)  # paragraphs and lists overshoot by up to ~200 words
    words = [0]
    parts = [_paragraph(rng, words, links)]
    if rng.random() < 0.3:
        parts.append("<!-- more -->")
    headings = rng.sample(HEADINGS, k=len(HEADINGS))
    table_done = code_done = False
    while words[0] < target:
        parts.append(f"## {headings.pop() if headings else 'More'}")
        for _ in range(rng.randint(1, 3)):
            parts.append(_paragraph(rng, words, links))
            if words[0] >= target:
                break
        roll = rng.random()
        if roll < 0.35:
            items = [f"- {_sentence(rng)}" for _ in range(rng.randint(3, 6))]
            words[0] += sum(len(i.split()) for i in items)
            parts.append("\n".join(items))
        elif roll < 0.5:
            items = [f"{n}. {_sentence(rng)}" for n in range(1, rng.randint(3, 5))]
            words[0] += sum(len(i.split()) for i in items)
            parts.append("\n".join(items))
        if not table_done and rng.random() < 0.15:
            parts.append(_table(rng))
            table_done = True
        if not code_done and rng.random() < 0.05:
            parts.append(_code(rng))
            code_done = True
        if rng.random() < 0.2:
            parts.append(f"### {rng.choice(HEADINGS)} in detail")
    return "\n\n".join(parts) + "\n"


def post_text(rng: random.Random, n: int, day: date, slugs: list[str]) -> tuple[str, str]:
    """(file name, text) of post ``n``; ``slugs`` are earlier posts it may link to."""
    title = " ".join(rng.choice(WORDS) for _ in range(rng.randint(3, 7))).capitalize()
    title = f"{title} ({n})"
    slug = f"post-{n:05d}"
    themes = rng.sample([t for t, _ in THEMES], k=rng.choice((1, 1, 2, 2, 2, 3)))
    tags = rng.sample(TAG_POOL, k=rng.randint(0, 4))
    lines = ["---", f'title: "{title}"', f"date: {day.isoformat()} {rng.randint(7, 19):02d}:{rng.randint(0, 59):02d}"]
    lines.append(f"themes: [{', '.join(themes)}]")
    if tags:
        lines.append(f"tags: [{', '.join(tags)}]")
    if rng.random() < 0.5:
        lines.append(f'summary: "{_sentence(rng)}"')
    if rng.random() < 0.3:
        lines.append("takeaways:")
        lines += [f'  - "{_sentence(rng)}"' for _ in range(rng.randint(1, 3))]
    if rng.random() < 0.05:
        lines.append("featured: true")
    lines.append("---")
    links = [f"/posts/{s}/" for s in rng.sample(slugs, k=min(3, len(slugs)))]
    return f"{day.isoformat()}-{slug}.md", "\n".join(lines) + "\n\n" + body(rng, links)


def generate(root: Path, count: int, seed: int = 2020, templates: Path | None = None) -> Path:
    """Write a site of ``count`` posts into ``root`` (emptied first) and return it."""
    if root.exists():
        shutil.rmtree(root)
    posts = root / "content" / "posts"
    posts.mkdir(parents=True)
    yaml = SITE_YAML + "".join(
        f"  - slug: {s}\n    title: {t}\n    description: Posts about {t.lower()}.\n" for s, t in THEMES
    )
    (root / "site.yaml").write_text(yaml, encoding="utf-8")
    (root / "content" / "pages").mkdir()
    (root / "content" / "pages" / "about.md").write_text("---\ntitle: About\n---\nAbout this site.\n", encoding="utf-8")
    rng = random.Random(seed)
    start = date(2015, 1, 1)
    span = 365 * 8
    slugs: list[str] = []
    for n in range(count):
        day = start + timedelta(days=rng.randrange(span))
        name, text = post_text(rng, n, day, slugs)
        (posts / name).write_text(text, encoding="utf-8")
        slugs.append(f"post-{n:05d}")
    if templates is not None:
        shutil.copytree(templates, root / "templates")
    return root
