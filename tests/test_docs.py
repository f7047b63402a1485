"""The README and docs/ point only at files in the repository: a reader of a fresh clone can
follow every relative link, and none leads outside the checkout (``../shared`` is not there)."""

import re
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]

# [words](target) and [words](target "title"); ![alt](target) too. Reference definitions:
# [name]: target
INLINE = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
REFERENCE = re.compile(r"^\s*\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+.*)?$", re.M)
# A path written in code that climbs out of the folder it is written in: `../shared/…`.
CLIMBING = re.compile(r"`(\.\./[^`]*)`")
FENCE = re.compile(r"^```.*?^```", re.M | re.S)


def relative_links(text: str) -> list[str]:
    """The link targets of a Markdown text that are paths (no scheme, no host, not an
    anchor on the same page), without their ``#anchor``."""
    text = FENCE.sub("", text)  # code examples are not links
    targets = INLINE.findall(text) + REFERENCE.findall(text)
    paths = []
    for target in targets:
        parts = urlsplit(target)
        if parts.scheme or parts.netloc or not parts.path:
            continue
        paths.append(unquote(parts.path))
    return paths


def broken_links(document: Path, root: Path = ROOT) -> list[str]:
    """What is wrong with the links of one document: each relative link to a missing file or
    leaving the repository, and each path in code that climbs out of it."""
    text = document.read_text(encoding="utf-8")
    problems = []
    for path in relative_links(text):
        target = (document.parent / path).resolve()
        if not target.is_relative_to(root):
            problems.append(f"{path}: outside the repository")
        elif not target.exists():
            problems.append(f"{path}: no such file")
    for path in CLIMBING.findall(FENCE.sub("", text)):
        if not (document.parent / path).resolve().is_relative_to(root):
            problems.append(f"{path}: outside the repository")
    return problems


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda d: str(d.relative_to(ROOT)))
def test_every_relative_link_leads_to_a_file_in_the_repository(document):
    assert broken_links(document) == []


def test_the_readme_links_to_each_page_of_the_docs():
    linked = {(ROOT / path).resolve() for path in relative_links((ROOT / "README.md").read_text())}
    assert set(DOCUMENTS[1:]) <= linked


def test_a_missing_file_a_link_out_of_the_repository_and_a_path_outside_are_caught(tmp_path):
    root = tmp_path / "repo"
    (root / "docs").mkdir(parents=True)
    (root / "docs" / "architecture.md").write_text("# Layout\n", encoding="utf-8")
    sample = root / "docs" / "sample.md"
    sample.write_text(
        "See [the design](../../shared/DESIGN.md), [gone](gone.md), [ok](architecture.md#hooks),\n"
        "[web](https://example.org/x.md), [here](#top), `../../shared/DESIGN.md`.\n\n"
        "[ref]: ./nowhere.md\n\n```\n[code](not-a-link.md)\n```\n",
        encoding="utf-8",
    )
    assert broken_links(sample, root) == [
        "../../shared/DESIGN.md: outside the repository",
        "gone.md: no such file",
        "./nowhere.md: no such file",
        "../../shared/DESIGN.md: outside the repository",
    ]
