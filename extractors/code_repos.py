"""What a code repository is for, from its own files: roles (pre-training, fine-tuning, alignment,
evaluation, safety evaluation, inference) read off the paths of its tree, its README's headings and
the packages its requirements name, each with evidence; and its licence, by the licence extractor
over the repo's licence files. Pure: the fetched tree and texts in, results out."""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field

from openness.extractors import licenses, training_data
from openness.extractors.base import SNIPPET_MAX, Document, Finding, ModelRecord, cap_snippet, headings, located
from openness.extractors.knowledge import RepoRole, evaluations, model_licence_words, repo_roles

NAME, VERSION = "code_repos", "2"
# Files that are code or run configuration: results (.json, .csv) and prose (.md) in an evals/
# folder are not evaluation code.
CODE_SUFFIXES = (".py", ".sh", ".ipynb", ".yaml", ".yml", ".gin", ".jsonnet", ".libsonnet", ".toml", ".rs", ".cpp", ".cc",
                 ".cu", ".c", ".h", ".go", ".js", ".ts", ".jl", ".lua", ".java", ".scala", ".swift", ".kt")
REQUIREMENT_FILES = ("requirements.txt", "pyproject.toml", "setup.py", "setup.cfg", "environment.yml")
MAX_PATHS_PER_ROLE = 5
# A model card kept at a repo's root (MODEL_CARD.md): read for the models the repo belongs to; and
# what a document is (Markdown, reST) among the files models link to inside a repo.
MODEL_DOCUMENT = re.compile(r"^model[_-]?card\w*\.(md|markdown|rst)$", re.IGNORECASE)
DOCUMENT_SUFFIXES = (".md", ".markdown", ".rst")
OPENING_LINES = 25  # prose lines of a README that say what the repo is for


@dataclass
class RepoFiles:
    repo: str                         # github.com/owner/repo
    ref: str                          # the tree sha
    paths: list[str]                  # blobs of the tree
    documents: dict[str, Document] = field(default_factory=dict)


@dataclass
class RoleEvidence:
    role: str
    source: str          # path, config (named by model size), readme, package, fallback (code nothing else
    #                      explains: the most likely role, code that runs the model)
    path: str
    line_start: int | None
    snippet: str

    def __post_init__(self):
        self.snippet = self.snippet[:SNIPPET_MAX]  # a line's start: still verbatim, never megabytes


def roles(files: RepoFiles) -> tuple[list[str], list[RoleEvidence]]:
    """The roles with evidence, in the knowledge file's order, and the evidence itself. A repo
    without code has no role; a repo with code always has one (its most likely, from its README or
    its entry points, when nothing says more)."""
    if not any(p.lower().endswith(CODE_SUFFIXES) for p in files.paths):
        return [], []
    evidence: dict[str, list[RoleEvidence]] = {}
    readme = _readme(files)
    for role in repo_roles():
        found = _path_evidence(role, files.paths, role.paths, _near_top) + _readme_evidence(role, files, readme)
        found += _statement_evidence(role, files, readme) + _config_evidence(role, files, readme)
        found += _package_evidence(role, files)
        if role.role == "evaluation":
            found += _harness_evidence(readme)
        if found:
            evidence[role.role] = found
    _add_generic_paths(evidence, files.paths)
    if not evidence:  # code, and nothing says what for: it loads and runs a model, most likely
        code = sorted((p for p in files.paths if p.lower().endswith(CODE_SUFFIXES)), key=lambda p: (p.count("/"), p))
        evidence["inference"] = [RoleEvidence("inference", "fallback", code[0], None, code[0])]
    ordered = [r.role for r in repo_roles() if r.role in evidence]
    return ordered, [e for r in ordered for e in evidence[r]]


def _path_evidence(role: RepoRole, paths: list[str], pattern: re.Pattern | None, name_of) -> list[RoleEvidence]:
    if pattern is None:
        return []
    flagged = _flagged_folders(role.not_paths, paths) if role.not_paths else frozenset()
    hits = [p for p in paths if p.lower().endswith(CODE_SUFFIXES) and pattern.search(name_of(p))
            and not _looks_like_not(role, p, flagged)]
    return [RoleEvidence(role.role, "path", p, None, p) for p in sorted(hits, key=lambda p: (p.count("/"), p))[:MAX_PATHS_PER_ROLE]]


def script_roles(paths: list[str]) -> dict[str, list[str]]:
    """The roles that scripts shipped in a model repo show by their names alone (train.py,
    finetune_lora.py, inference.py, eval/run.py): its README is the model card, not what the code
    is for, and code nothing names is not given a role."""
    evidence = {role.role: hits for role in repo_roles() if (hits := _path_evidence(role, paths, role.paths, _near_top))}
    _add_generic_paths(evidence, paths)
    return {r.role: [e.path for e in evidence[r.role]] for r in repo_roles() if r.role in evidence}


def _add_generic_paths(evidence: dict[str, list[RoleEvidence]], paths: list[str]) -> None:
    """Generic paths (train.py) as evidence, only for roles that the more specific ones left
    unexplained (a repo with finetune.py and train.py trains by fine-tuning)."""
    for role in repo_roles():
        if role.generic_paths and role.role not in evidence and not any(r in evidence for r in role.unless):
            found = _path_evidence(role, paths, role.generic_paths, _top_file_stem)
            if found:
                evidence[role.role] = found


def _looks_like_not(role: RepoRole, path: str, flagged: frozenset[str]) -> bool:
    """The path looks like the role and is not: it or a file beside it says so (a benchmark folder
    holding a dummy model or a throughput script times models; it does not evaluate them)."""
    if role.not_paths is None:
        return False
    return bool(role.not_paths.search(path)) or ("/" in path and path.rsplit("/", 1)[0] in flagged)


def _flagged_folders(pattern: re.Pattern, paths: list[str]) -> frozenset[str]:
    """Folders holding a file whose name matches `pattern`."""
    return frozenset(p.rsplit("/", 1)[0] for p in paths if "/" in p and pattern.search(p.rsplit("/", 1)[1]))


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


def _readme(files: RepoFiles) -> Document | None:
    return next((d for p, d in sorted(files.documents.items()) if "/" not in p and p.lower().startswith("readme")), None)


def _harness_evidence(readme: Document | None) -> list[RoleEvidence]:
    """README lines saying the evaluations were run with a public harness (the repo's evaluation
    setup: its configs and results, run by that harness)."""
    if readme is None or not readme.text:
        return []
    harnesses = [h for h in evaluations() if h.kind == "harness"]
    for number, line in enumerate(readme.text.splitlines(), 1):
        if re.search(r"\beval\w*", line, re.IGNORECASE) and any(h.pattern.search(line) for h in harnesses):
            return [RoleEvidence("evaluation", "readme", readme.path, number, line.strip()[:300])]
    return []


_COMMAND = re.compile(r"\b(?:python3?(?:\s+-m)?|torchrun|accelerate\s+launch|deepspeed|bash|sh|sbatch|srun|composer)\s+"
                      r"(?:--?\S+\s+)*(?P<target>[\w./-]+)")
_REFERENCE = re.compile(r"(?<![\w/])(?:\./(?P<relative>[\w.-]+(?:/[\w.-]+)*)|(?P<path>[\w-]+(?:/[\w.-]+)+|"
                        r"[\w-]+\.(?:py|sh|ya?ml|json|ipynb|gin))|(?P<module>[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+))\b")


def _readme_evidence(role: RepoRole, files: RepoFiles, readme: Document | None) -> list[RoleEvidence]:
    """Headings of the README that name the role. Outside inference, a section counts only when it
    runs or points at the repo's own files: one that sends the reader elsewhere is not this repo's."""
    if role.headings is None or readme is None or not readme.text:
        return []
    lines = readme.text.splitlines()
    found_headings = headings(lines)
    out = []
    for index, (number, text) in enumerate(found_headings):
        if not role.headings.search(text):
            continue
        end = found_headings[index + 1][0] - 1 if index + 1 < len(found_headings) else len(lines)
        if role.role != "inference" and not _refers_here("\n".join(lines[number:end]), files.paths):
            continue
        out.append(RoleEvidence(role.role, "readme", readme.path, number, lines[number - 1].strip()))
    return out[:MAX_PATHS_PER_ROLE]


def _refers_here(section: str, paths: list[str]) -> bool:
    """The section runs or names a file or folder of this repo (not a URL elsewhere)."""
    folders = {p.rsplit("/", 1)[0] for p in paths if "/" in p}
    known = set(paths) | folders
    for match in list(_COMMAND.finditer(section)) + list(_REFERENCE.finditer(section)):
        groups = match.groupdict()
        target = (groups.get("target") or groups.get("path") or groups.get("relative") or groups.get("module") or "").strip("./")
        as_module = target.replace(".", "/")  # a module by its dotted name: wren.tasks is wren/tasks.py
        if target and ("://" not in section[max(0, match.start() - 12):match.start()]) and (
                target in known or as_module in folders or f"{as_module}.py" in known
                or any(p.endswith("/" + target) for p in paths)):
            return True
    return False


def _statement_evidence(role: RepoRole, files: RepoFiles, readme: Document | None) -> list[RoleEvidence]:
    """What the README's opening lines say the repo is for ("a toolkit to train custom models")."""
    if role.statements is None or readme is None or not readme.text:
        return []
    prose = [(n, line) for n, line in enumerate(readme.text.splitlines(), 1)
             if line.strip() and not line.lstrip().startswith(("#", "<", "|", "!", "[!", "```"))][:OPENING_LINES]
    prose = [(n, line) for n, line in prose if "://" not in line]  # a line that points elsewhere speaks of that
    for number, line in prose:
        found = role.statements.search(line)
        if found:
            return [RoleEvidence(role.role, "readme", readme.path, number, line.strip()[:300])]
    return []


def _config_evidence(role: RepoRole, files: RepoFiles, readme: Document | None) -> list[RoleEvidence]:
    """Configuration files named by model size (configs/7b.yaml), in a repo whose README speaks of
    training: training configurations for the released sizes."""
    if role.configs is None or readme is None or not re.search(r"\btrain", readme.text or "", re.IGNORECASE):
        return []
    hits = [p for p in files.paths if re.match(r"^([^/]+/)?configs?/", p) and p.lower().endswith((".yaml", ".yml", ".json", ".py"))
            and role.configs.search(p.rsplit("/", 1)[-1].rsplit(".", 1)[0])]
    return [RoleEvidence(role.role, "config", p, None, p) for p in sorted(hits)[:MAX_PATHS_PER_ROLE]]


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
    and what each text is; and whether its README says that licence covers the models too, or
    releases the models with no other terms for them."""
    findings = [f for f in licenses.extract(_as_record(files)) if f.signal != "licence.declared"]
    readme = _readme(files)
    lines = readme.text.splitlines() if readme and readme.text else []
    words = model_licence_words()
    found, confidence = _first_line(lines, words.covers_models), 0.8
    if found is None and not any(words.models_own_terms.search(line) for line in lines):
        found, confidence = _first_line(lines, words.releases_models), 0.6
    if found:
        number, line, match = found
        snippet, _, column = cap_snippet(line, match.start(), match.end())
        evidence = located(_as_record(files), readme.path, number, number, snippet, NAME, VERSION, column)
        findings.append(Finding(files.repo, files.ref, "licence.covers_models", {"statement": match.group(0)},
                                confidence, (evidence,)))
    return findings


def _first_line(lines: list[str], pattern: re.Pattern):
    for number, line in enumerate(lines, 1):
        match = pattern.search(line)
        if match:
            return number, line, match
    return None


def identified_licences(findings: list[Finding]) -> list[str]:
    """The licences of the repo's code: what its licence files are, a model licence file aside."""
    return sorted({f.value["id"] for f in findings if f.signal == "licence.identified" and f.value.get("id")
                   and f.value.get("scope") != "model"})


def evidence_rows(evidence: list[RoleEvidence]) -> list[dict]:
    return [asdict(e) for e in evidence]


def document_findings(files: RepoFiles) -> dict[str, list[Finding]]:
    """What the repo's model documents (any Markdown or reST file read besides the README) say of
    the training data, per path. Which of them speak for a model is the classification's call: the
    ones the model links, and the root model cards of repos it owns."""
    record = _as_record(files)
    out = {}
    for path in sorted(files.documents):
        if "/" not in path and not MODEL_DOCUMENT.match(path) or not path.lower().endswith(DOCUMENT_SUFFIXES):
            continue  # the README and root files are the repo's, not a model's
        found = [f for f in training_data.prose_findings(record, path) if f.signal != "data.section"]
        if found:
            out[path] = found
    return out


def _as_record(files: RepoFiles) -> ModelRecord:
    """The repo read as a model repo without a card, for the extractors that read one."""
    return ModelRecord(files.repo, files.ref, {}, [{"path": p} for p in files.paths], files.documents, kind="code")
