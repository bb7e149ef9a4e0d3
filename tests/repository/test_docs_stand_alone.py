"""The repository's documents stand alone (issue 13, item 10; DECISIONLOG Part 8).

README.md, DECISIONLOG.md, docs/, the dbt project's YAML and SQL, and the comments and
docstrings of the Python code may only point at files of this repository: no path outside it
(a sibling checkout, a machine's working directory), no document that is not here, no
repository path that does not exist. A reader who clones the repository can follow every
reference.
"""

from __future__ import annotations

import io
import os
import re
import tokenize
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SKIP_DIRS = {".git", ".venv", "var", "node_modules", "target", "logs", "dbt_packages", "__pycache__",
             ".pytest_cache", ".ruff_cache", ".mypy_cache", ".hypothesis", "build"}
TOP_DIRS = ("docs/", "vigie/", "connectors/", "dbt_project/", "tests/", "expectations/", "dags/",
            "deploy/", "scripts/", "benchmarks/", "config/", ".ci/")
CODE_DIRS = ("vigie", "connectors", "expectations", "dags", "deploy", "tests", "benchmarks", "scripts")

OUTSIDE = re.compile(r"\.\./shared|/work/|\bshared/docs/")
REPO_PATH = re.compile(
    r"(?<![\w./-])((?:\./)?(?:" + "|".join(re.escape(t) for t in TOP_DIRS) + r")[\w./*<>{}-]*[\w/*>}])"
)
MD_NAME = re.compile(r"(?<![\w/.-])([\w.-]+\.md)\b")
MD_LINK = re.compile(r"\]\(([^)\s]+)\)")


def _repo_files() -> tuple[set[str], set[str]]:
    files: set[str] = set()
    dirs: set[str] = set()
    for here, subdirs, names in os.walk(ROOT):
        subdirs[:] = [d for d in subdirs if d not in SKIP_DIRS and not d.endswith(".egg-info")]
        rel = Path(here).relative_to(ROOT).as_posix()
        if rel != ".":
            dirs.add(rel)
        files.update((Path(rel) / n).as_posix() if rel != "." else n for n in names)
    return files, dirs


FILES, DIRS = _repo_files()
NAMES = {Path(f).name for f in FILES}


def _exists(path: str) -> bool:
    """A repository path, a directory, a glob or template (checked up to its first wildcard), or
    ``module.attribute`` (``vigie/config.load_config``)."""
    path = path.removeprefix("./").rstrip("/.")
    if any(c in path for c in "*<{"):
        prefix = re.split(r"[*<{]", path)[0].rstrip("/")
        return prefix in FILES or prefix in DIRS or any(f.startswith(prefix) for f in FILES)
    if path in FILES or path in DIRS:
        return True
    stem = path
    while "." in Path(stem).name:
        stem = stem.rsplit(".", 1)[0]
        if f"{stem}.py" in FILES or stem in DIRS:
            return True
    return False


def _python_prose(text: str) -> list[tuple[int, str]]:
    """Comments and docstrings of a Python file, with their line numbers."""
    out: list[tuple[int, str]] = []
    previous = tokenize.NEWLINE
    for tok in tokenize.generate_tokens(io.StringIO(text).readline):
        if tok.type == tokenize.COMMENT:
            out.append((tok.start[0], tok.string))
        elif tok.type == tokenize.STRING and previous in (tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT):
            out.extend((tok.start[0] + i, line) for i, line in enumerate(tok.string.splitlines()))
        if tok.type not in (tokenize.NL, tokenize.COMMENT):
            previous = tok.type
    return out


def _documents() -> list[str]:
    docs = ["README.md", "DECISIONLOG.md"]
    docs += sorted(f for f in FILES if f.startswith("docs/") and f.endswith(".md"))
    docs += sorted(f for f in FILES if f.startswith("dbt_project/") and f.endswith((".yml", ".sql")))
    docs += sorted(f for f in FILES if f.endswith(".py") and f.split("/", 1)[0] in CODE_DIRS)
    return docs


def _problems(rel: str) -> list[str]:
    text = (ROOT / rel).read_text(encoding="utf-8")
    lines = _python_prose(text) if rel.endswith(".py") else list(enumerate(text.splitlines(), 1))
    found: list[str] = []
    for n, line in lines:
        where = f"{rel}:{n}"
        if OUTSIDE.search(line):
            found.append(f"{where}: points outside the repository: {line.strip()[:100]}")
        if rel.endswith(".md"):
            for m in MD_LINK.finditer(line):
                target = m.group(1).split("#", 1)[0]
                if not target or re.match(r"^[a-z]+:", target):
                    continue
                resolved = os.path.normpath((Path(rel).parent / target).as_posix())
                if resolved.startswith("..") or not _exists(resolved):
                    found.append(f"{where}: link to a missing file: {target}")
        for m in REPO_PATH.finditer(line):
            if not _exists(m.group(1)):
                found.append(f"{where}: no such file in the repository: {m.group(1)}")
        for m in MD_NAME.finditer(line):
            if m.group(1) not in NAMES:
                found.append(f"{where}: names a document that is not in the repository: {m.group(1)}")
    return found


def test_documents_point_only_at_files_of_the_repository() -> None:
    problems = [p for rel in _documents() for p in _problems(rel)]
    assert problems == [], "\n".join(problems)


def test_the_checker_catches_what_it_is_for(tmp_path: Path) -> None:
    """The patterns themselves: an outside path, a missing document, a missing repository
    path and a broken link are reported; existing files, globs and templates are not."""
    assert OUTSIDE.search("see ../shared/docs/domain.md") and OUTSIDE.search("/work/main/x")
    assert _exists("docs/landing.md") and _exists("dbt_project/models/*/") and _exists("vigie/config.load_config")
    assert not _exists("docs/nowhere.md") and not _exists("vigie/nowhere.py")
    assert [m.group(1) for m in REPO_PATH.finditer("read `vigie/transform.py` and docs/x.md.")] == [
        "vigie/transform.py", "docs/x.md",
    ]
    assert [m.group(1) for m in MD_NAME.finditer("domain.md §5, not docs/domain.md")] == ["domain.md"]
