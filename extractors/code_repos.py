"""What a code repository is for, from its own files: roles (pre-training, fine-tuning, alignment,
evaluation, safety evaluation, inference) read off the paths of its tree, its README's headings and
the packages its requirements name, each with evidence; and its licence, by the licence extractor
over the repo's licence files. Pure: the fetched tree and texts in, results out."""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field

from extractors import licenses
from extractors.base import Document, Finding, ModelRecord, headings
from extractors.knowledge import RepoRole, repo_roles

NAME, VERSION = "code_repos", "1"
# Files that are code or run configuration: results (.json, .csv) and prose (.md) in an evals/
# folder are not evaluation code.
CODE_SUFFIXES = (".py", ".sh", ".ipynb", ".yaml", ".yml", ".jsonnet", ".libsonnet", ".toml", ".rs", ".cpp", ".cc",
                 ".cu", ".c", ".h", ".go", ".js", ".ts", ".jl", ".lua", ".java", ".scala", ".swift", ".kt")
REQUIREMENT_FILES = ("requirements.txt", "pyproject.toml", "setup.py", "setup.cfg", "environment.yml")
MAX_PATHS_PER_ROLE = 5


@dataclass
class RepoFiles:
    repo: str                         # github.com/owner/repo
    ref: str                          # the tree sha
    paths: list[str]                  # blobs of the tree
    documents: dict[str, Document] = field(default_factory=dict)


@dataclass
class RoleEvidence:
    role: str
    source: str          # path, readme, package
    path: str
    line_start: int | None
    snippet: str


def roles(files: RepoFiles) -> tuple[list[str], list[RoleEvidence]]:
    """The roles with evidence, in the knowledge file's order, and the evidence itself."""
    evidence: dict[str, list[RoleEvidence]] = {}
    for role in repo_roles():
        found = _path_evidence(role, files.paths, role.paths, _near_top) + _readme_evidence(role, files)
        found += _package_evidence(role, files)
        if found:
            evidence[role.role] = found
    for role in repo_roles():  # generic paths only where the more specific roles found nothing
        if role.generic_paths and role.role not in evidence and not any(r in evidence for r in role.unless):
            found = _path_evidence(role, files.paths, role.generic_paths, _top_file_stem)
            if found:
                evidence[role.role] = found
    ordered = [r.role for r in repo_roles() if r.role in evidence]
    return ordered, [e for r in ordered for e in evidence[r]]


def _path_evidence(role: RepoRole, paths: list[str], pattern: re.Pattern | None, name_of) -> list[RoleEvidence]:
    if pattern is None:
        return []
    hits = [p for p in paths if p.lower().endswith(CODE_SUFFIXES) and pattern.search(name_of(p))]
    return [RoleEvidence(role.role, "path", p, None, p) for p in sorted(hits, key=lambda p: (p.count("/"), p))[:MAX_PATHS_PER_ROLE]]


def _near_top(path: str) -> str:
    """The first two pieces of a path (after a leading src/), without the file's suffix: deeper
    names are a project's data and vendored code (an eval harness's task named 'toxigen', a copy of
    another library's examples), not what the repo is for."""
    pieces = path.split("/")
    if pieces[0] == "src" and len(pieces) > 1:
        pieces = pieces[1:]
    top = pieces[:2]
    if len(top) == len(pieces):
        top[-1] = top[-1].rsplit(".", 1)[0]
    return "/".join(top)


def _top_file_stem(path: str) -> str:
    """A file's stem when it sits in the top two levels: a generic word ('train') says what a
    script does, not what a folder of data is for."""
    pieces = _near_top(path).split("/")
    return pieces[-1] if len(path.removeprefix("src/").split("/")) <= 2 else ""


def _readme_evidence(role: RepoRole, files: RepoFiles) -> list[RoleEvidence]:
    readme = next((d for p, d in sorted(files.documents.items()) if "/" not in p and p.lower().startswith("readme")), None)
    if role.headings is None or readme is None or not readme.text:
        return []
    lines = readme.text.splitlines()
    return [RoleEvidence(role.role, "readme", readme.path, number, lines[number - 1].strip())
            for number, text in headings(lines) if role.headings.search(text)][:MAX_PATHS_PER_ROLE]


def _package_evidence(role: RepoRole, files: RepoFiles) -> list[RoleEvidence]:
    if role.packages is None:
        return []
    found = []
    for path in REQUIREMENT_FILES:
        doc = files.documents.get(path)
        for number, line in enumerate(doc.text.splitlines() if doc and doc.text else [], 1):
            name = _requirement_name(line)
            if name and role.packages.fullmatch(name):
                found.append(RoleEvidence(role.role, "package", path, number, line.strip()))
    return found[:MAX_PATHS_PER_ROLE]


_REQUIREMENT = re.compile(r"""^\s*["']?([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?\s*(?:[<>=!~;,"'@]|$)""")


def _requirement_name(line: str) -> str | None:
    """The package a requirements line (or a pyproject/setup.py dependency string) names."""
    line = line.split("#", 1)[0]
    match = _REQUIREMENT.match(line)
    return match.group(1) if match else None


def licence_findings(files: RepoFiles) -> list[Finding]:
    """The licence extractor over the repo as if it were a model without a card: its licence files
    and what each text is."""
    record = ModelRecord(files.repo, files.ref, {}, [{"path": p} for p in files.paths], files.documents)
    return [f for f in licenses.extract(record) if f.signal != "licence.declared"]


def identified_licences(findings: list[Finding]) -> list[str]:
    return sorted({f.value["id"] for f in findings if f.signal == "licence.identified" and f.value.get("id")})


def evidence_rows(evidence: list[RoleEvidence]) -> list[dict]:
    return [asdict(e) for e in evidence]
