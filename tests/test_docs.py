"""The documentation a user reads: no development history in it, every link resolving, the params
reference and every quoted result generated from their sources."""

import re
import subprocess
from pathlib import Path

import pytest

from vlmrobust import findings, paths
from vlmrobust.params import reference

ROOT = paths.ROOT
TEXT_SUFFIXES = {".py", ".md", ".yaml", ".yml", ".toml", ".txt", ".cfg", ".sh", ""}
SKIP = {"tests/test_docs.py"}  # the patterns themselves

# Talk of how the compendium was built, which a user cannot act on: work sessions, issue numbers,
# the people who decide, and "here" meaning the machine it was developed on.
PROCESS_TALK = [
    (r"\bsessions?\b", "a work session"),
    (r"\bissues? #?\d+", "an issue number"),
    (r"(?<![\w&/])#\d{1,3}\b(?![\w;])", "an issue number"),
    (r"\bthe owners?\b|\bowners'", "the people who decide"),
    (r"\b(?:measured|checked|tested|timed|trained|seen|compared|downloaded|installed|reachable|lent) here\b",
     "'here' meaning a development machine"),
    (r"\b(?:machines?|machine kind) here\b|\bhere \((?:AMD|Intel)", "'here' meaning a development machine"),
    (r"\b\d+(?:\.\d+)? ?(?:s|seconds|minutes) here\b", "'here' meaning a development machine"),
]


def _project_files() -> list[Path]:
    out = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                         capture_output=True, text=True, check=True).stdout.split()
    return [ROOT / f for f in out if f not in SKIP and not f.startswith("zoo-weights/")
            and (ROOT / f).suffix in TEXT_SUFFIXES and (ROOT / f).is_file()]


def test_nothing_speaks_of_the_development_process():
    found = []
    for f in _project_files():
        for n, line in enumerate(f.read_text(errors="replace").splitlines(), 1):
            for pattern, what in PROCESS_TALK:
                if re.search(pattern, line, re.I):
                    found.append(f"{f.relative_to(ROOT)}:{n}: {what}: {line.strip()[:100]}")
    assert not found, "\n".join(found)


@pytest.mark.parametrize("line, caught", [
    ("as measured in session 12", True), ("(issue #18)", True), ("see #19 for it", True), ("the owners' choice", True),
    ("4 x 500 items in <= 30 s here", True), ("measured here", True), ("color: #555;", False),
    ("`owner/name` of a GitHub remote", False), ("the params file given here overrides it", False),
    ("#SBATCH --array=0-3", False),
])
def test_the_process_talk_patterns_catch_what_they_should(line, caught):
    assert any(re.search(p, line, re.I) for p, _ in PROCESS_TALK) is caught


def test_the_params_reference_is_generated_from_the_defaults():
    assert (ROOT / "docs" / "params.md").read_text() == reference.document(), \
        "docs/params.md is stale: python -m vlmrobust.params doc > docs/params.md"


def test_every_params_key_is_described():
    from vlmrobust.params.defaults import OPTIONAL_TOP_LEVEL_KEYS, TOP_LEVEL_KEYS, allowed

    assert set(reference.DESCRIPTIONS[""]) == set(TOP_LEVEL_KEYS + OPTIONAL_TOP_LEVEL_KEYS)
    for section in ("benchmark", "corruptions", "zoo", "model", "pair", "inference", "analysis", "safety"):
        assert set(reference.DESCRIPTIONS[section]) == set(allowed(section)), section


def test_every_quoted_result_is_generated_from_the_published_files():
    assert findings.stale() == [], "python -m vlmrobust.findings rewrites the stale blocks"


def test_every_block_has_content():
    for doc in findings.documents():
        for m in findings.BLOCK.finditer(doc.read_text()):
            assert m.group("body").strip(), f"{doc.name}: empty findings block {m.group('name')}"


LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")


@pytest.mark.parametrize("doc", ["README.md", "CHANGELOG.md", *sorted(p.name for p in (ROOT / "docs").glob("*.md"))])
def test_every_local_link_resolves(doc):
    path = ROOT / doc if (ROOT / doc).exists() else ROOT / "docs" / doc
    for target in LINK.findall(path.read_text()):
        if target.startswith(("http://", "https://", "mailto:")):
            continue
        assert (path.parent / target).exists(), f"{doc}: link to {target} does not resolve"


def test_every_doc_says_what_it_is_for():
    for doc in sorted((ROOT / "docs").glob("*.md")):
        head = "\n".join(doc.read_text().splitlines()[:8])
        assert "What this page is for" in head or "What every key" in head, doc.name


def test_the_readme_is_one_screen_per_path():
    text = (ROOT / "README.md").read_text()
    assert len(text.splitlines()) <= 260
    first_screen = "\n".join(text.splitlines()[:60])
    for command in ("make reproduce", "make test", "PARAMS=paper", "binder"):
        assert command.lower() in first_screen.lower(), command
