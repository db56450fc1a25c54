"""What an import did, in words: the summary printed after ``qsite import`` and the Markdown
file ``--report FILE`` writes. One value (``Report``) gathers everything as the importer goes,
so the counts printed and the counts written can never disagree."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from qsite.importers.writer import Written


@dataclass
class Report:
    kind: str  # "WordPress" or "Jekyll"
    source: str
    imported: Counter[str] = field(default_factory=Counter)  # "posts", "drafts", "pages", "comments", "authors"
    skipped: Counter[str] = field(default_factory=Counter)  # reason → how many
    no_theme: list[str] = field(default_factory=list)  # files imported as drafts for want of a theme
    shortcodes: dict[str, list[str]] = field(default_factory=dict)  # file → shortcodes left as text
    liquid: dict[str, list[str]] = field(default_factory=dict)  # file → Liquid tags left as text
    images: dict[str, list[str]] = field(default_factory=dict)  # file → image URLs on the old host
    scripts: dict[str, list[str]] = field(default_factory=dict)  # file → scripts removed (embeds)
    attachments: list[str] = field(default_factory=list)  # media library URLs (not downloaded)
    renamed: list[tuple[str, str, str]] = field(default_factory=list)  # (file, wanted slug, slug given)
    query_links: list[tuple[str, str]] = field(default_factory=list)  # ("/?p=12", new URL)
    aliases: int = 0
    dropped_aliases: list[tuple[str, str]] = field(default_factory=list)  # (file, old address qsite uses)
    permalinks: str | None = None  # a `permalinks.post` that reproduces every old post address
    notes: list[str] = field(default_factory=list)
    written: Written = field(default_factory=Written)
    copied: int = 0  # the old site's own files copied into content/ (Jekyll images)
    dry_run: bool = False  # then "written" and "replaced" are what a real run would do

    def skip(self, reason: str, count: int = 1) -> None:
        self.skipped[reason] += count

    def _imported(self) -> dict[str, int]:
        """The counts in reading order: who, then what, then what readers said."""
        order = ("authors", "posts", "draft posts", "pages", "draft pages", "comments")
        return {name: self.imported[name] for name in order if self.imported[name]}

    def summary(self) -> list[str]:
        """The lines printed after an import: counts first, then what needs an editor."""
        lines = [f"Imported from {self.kind} ({self.source}): " + (_counts(self._imported()) or "nothing")]
        if self.skipped:
            lines.append("Skipped: " + _counts(self.skipped))
        w = self.written
        would = "would be " if self.dry_run else ""
        files = f"Files: {len(w.written)} {would}written"
        if w.replaced:
            files += f", {len(w.replaced)} {would}replaced (--force)"
        if w.kept_ours:
            files += f", {len(w.kept_ours)} already imported and left as they are (--force replaces them)"
        if w.kept_theirs:
            files += f", {len(w.kept_theirs)} not written because a file of yours is at the same path"
        if self.copied:
            files += f", {self.copied} images {would}copied from the old site"
        lines.append(files + ".")
        if self.aliases:
            lines.append(f"Old addresses kept as aliases: {self.aliases}.")
        if self.dropped_aliases:
            lines.append(f"Old addresses not kept, because the new site uses them: {len(self.dropped_aliases)} "
                         "(listed in the report).")
        if self.permalinks:
            setting = f'permalinks: {{post: "{self.permalinks}"}}'
            lines.append(f"Every old post address fits this site.yaml setting: {setting}")
        todo = [
            (self.no_theme, "posts have no theme and were imported as drafts (add themes: to each)"),
            (self.shortcodes, "files keep WordPress shortcodes as text"),
            (self.liquid, "files keep Liquid tags as text"),
            (self.images, "files show images from the old site (copy them into content/images/)"),
            (self.scripts, "files had scripts, removed (embeds to redo as links or HTML)"),
        ]
        for items, words in todo:
            if items:
                lines.append(f"Needs an editor: {len(items)} {words}.")
        for rel in w.kept_theirs:
            lines.append(f"Not written, a file of yours is there: {rel}")
        return lines

    def markdown(self) -> str:
        """The report as a Markdown file an editor can work through, item by item."""
        out = [f"# Import from {self.kind}", "", f"Source: `{self.source}`", ""]
        out += ["## Imported", ""] + [f"- {name}: {n}" for name, n in self._imported().items()] + [""]
        if self.skipped:
            out += ["## Skipped", ""] + [f"- {name}: {n}" for name, n in self.skipped.items()] + [""]
        w = self.written
        out += ["## Files", "", f"- written: {len(w.written)}", f"- replaced with --force: {len(w.replaced)}",
                f"- already imported, left as they are: {len(w.kept_ours)}",
                f"- not written because a file of yours is at the same path: {len(w.kept_theirs)}",
                f"- images copied from the old site: {self.copied}", ""]
        out += [f"  - `{rel}`" for rel in w.kept_theirs]
        out += ["## Old addresses", "", f"Aliases written: {self.aliases}.", ""]
        if self.permalinks:
            out += ["Every old post address fits this setting in `site.yaml` (then re-run the import with "
                    "`--force` so aliases equal to the new addresses are left out):", "", "```yaml",
                    f'permalinks:\n  post: "{self.permalinks}"', "```", ""]
        if self.dropped_aliases:
            out += ["Not kept, because qsite or another imported page uses the address:", ""]
            out += [f"- `{rel}`: `{alias}`" for rel, alias in self.dropped_aliases] + [""]
        if self.renamed:
            out += ["Renamed because the URL name was taken (the old address is an alias):", ""]
            out += [f"- `{rel}`: `{wanted}` → `{given}`" for rel, wanted, given in self.renamed] + [""]
        if self.query_links:
            out += ["Links of the form `?p=ID` cannot be redirected by a static host; where you find them "
                    "(in other sites, newsletters), the new addresses are:", "", "| old | new |", "| --- | --- |"]
            out += [f"| `{old}` | `{new}` |" for old, new in self.query_links] + [""]
        out += ["## Needs an editor", ""]
        sections = [
            ("No theme: imported as drafts", {rel: [] for rel in self.no_theme}),
            ("Shortcodes left as text", self.shortcodes),
            ("Liquid tags left as text", self.liquid),
            ("Images still on the old site: copy each into content/images/ and change its address", self.images),
            ("Scripts removed: redo each embed as a link, or as HTML without a script", self.scripts),
        ]
        for title, items in sections:
            if not items:
                continue
            out += [f"### {title}", ""]
            for rel, things in items.items():
                out.append(f"- `{rel}`")
                out += [f"  - `{thing}`" for thing in things]
            out.append("")
        if self.attachments:
            out += ["### Media library files (not downloaded)", ""] + [f"- {url}" for url in self.attachments] + [""]
        if self.notes:
            out += ["## Notes", ""] + [f"- {note}" for note in self.notes] + [""]
        return "\n".join(out).rstrip("\n") + "\n"


def _counts(counter: Counter[str]) -> str:
    return ", ".join(f"{n} {name}" for name, n in counter.items() if n)
