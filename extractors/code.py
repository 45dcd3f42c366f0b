"""Code: links to code hosts with their roles from context (pre-training, fine-tuning, alignment,
evaluation, safety evaluation, inference), custom code and scripts shipped in the repo, and the
library that runs the model (which says nothing about how the model was trained)."""
from __future__ import annotations

import re

from openness.extractors.base import Finding, Located, ModelRecord, heading_above, headings
from openness.extractors.code_repos import script_roles
from openness.extractors.knowledge import code_roles
from openness.extractors.lineage import lineage
from openness.extractors.relevance import LinkAt, family_stem, judge_code_link
from openness.extractors.sentences import clause

NAME, VERSION = "code", "3"
_LINK = re.compile(r"https?://(?:www\.)?(github\.com|gitlab\.com|bitbucket\.org|codeberg\.org)/"
                   r"([A-Za-z0-9][\w.-]*)/([\w.-]+?)(?:\.git)?(?=[/#?)\]\s\"'>,`*]|$)(\S*)", re.I)
_CUSTOM = re.compile(r"^(modeling|configuration|tokenization|processing|image_processing)_\w+\.py$")
_SCRIPT_SUFFIXES = (".py", ".sh", ".ipynb")
_NOT_REPOS = {"sponsors", "features", "orgs", "topics", "about", "pricing", "settings", "login", "marketplace"}
_BIBTEX_FIELD = re.compile(r"^\s*(url|howpublished|journal|note|eprint|doi|publisher|booktitle)\s*=", re.IGNORECASE)
# Statements that the code of a role is not released: stated closed, or only promised.
_CODE_ROLES = r"(?P<role>training|pre-?training|fine-?tuning|evaluation|evaluations|eval|inference|alignment|rlhf)"
_CLOSED_CODE = (
    re.compile(rf"\b(?:do|does|did|will|shall|can|could)\s*(?:not|n't)\s+(?:currently\s+)?(?:release|publish|open[- ]?source|share|"
               rf"make\s+public)\s+(?:\w+\s+){{0,3}}?{_CODE_ROLES}\s+(?:code|scripts?|codebase|pipeline|library|framework)",
               re.IGNORECASE),
    re.compile(rf"\b{_CODE_ROLES}\s+(?:code|scripts?|codebase|pipeline|library|framework)\s+(?:is|are|was|were|has\s+been|"
               rf"have\s+been)\s+not\s+(?:yet\s+)?(?:publicly\s+)?(?:released|available|open[- ]?sourced|published)",
               re.IGNORECASE),
    re.compile(rf"\b(?:our|an?|the|used|using|with)\s+(?:own\s+)?(?:internal|proprietary|in-house|private|custom|closed)\s+"
               rf"(?:[\w-]+\s+){{0,2}}?{_CODE_ROLES}s?\s+(?:code|scripts?|codebase|code\s?base|library|libraries|framework|"
               rf"infrastructure|tooling|harness|pipeline|stack|software)", re.IGNORECASE),
    re.compile(rf"\b(?:may|might|will|plan\s+to|intend\s+to|hope\s+to)\s+(?:later\s+|eventually\s+)?release\s+"
               rf"(?:the\s+|our\s+)?(?:code|scripts?)\s+(?:for|to)\s+{_CODE_ROLES}", re.IGNORECASE),
)
_CLOSED_HINT = re.compile(r"not|n't|internal|proprietary|in-house|private|custom|closed|release", re.IGNORECASE)
_BIBTEX_ENTRY = re.compile(r"^\s*@\w+\s*\{")
# The role each word of _CODE_ROLES names, hyphens dropped ("pre-training" is "pretraining").
_ROLE_OF_WORD = {"training": "pretraining", "pretraining": "pretraining", "finetuning": "finetuning",
                 "evaluation": "evaluation", "evaluations": "evaluation", "eval": "evaluation", "inference": "inference",
                 "alignment": "alignment", "rlhf": "alignment"}


def extract(record: ModelRecord) -> list[Finding]:
    at = Located(record, NAME, VERSION)
    findings: list[Finding] = []

    def add(signal, value, confidence, evidence):
        findings.append(Finding(record.model_id, record.sha, signal, value, confidence, tuple(evidence)))

    readme = record.readme()
    lines = readme.text.splitlines() if readme and readme.text else []
    sections = headings(lines)
    author = record.info.get("author") if isinstance(record.info.get("author"), str) else record.model_id.split("/")[0]
    declared = lineage(record)
    derivative, bases = declared is not None, (declared.ids + declared.names) if declared else ()
    citations = _citation_lines(lines)
    links: dict[str, dict] = {}
    for number, line in enumerate(lines, 1):
        for match in _LINK.finditer(line):
            host, owner, rest = match.group(1).lower(), match.group(2), match.group(4)
            repo = match.group(3).rstrip(".")  # a sentence's full stop is not part of the name
            key = f"{host}/{owner}/{repo}".lower()
            if owner.lower() in _NOT_REPOS:
                continue
            heading = heading_above(sections, number)
            judged = judge_code_link(LinkAt(record.model_id, author, line, match.start(), match.end(), heading,
                                            number in citations, derivative, bases), owner, repo, rest)
            known = links.get(key)
            path = _linked_path(rest)
            if known is not None:
                if path and path not in known["value"]["paths"]:
                    known["value"]["paths"].append(path)  # every file of it the card points at
                if known["value"]["relevance"] == "own" or judged.relevance != "own":
                    continue  # a repo is one link: its first own mention, else its first mention
            # a codebase the card says made the model is read for what its own files show, not for
            # the card's words around it ("trained using an optimiser library" is no training code)
            roles = [] if judged.used else _roles(f"{repo} {rest} {clause(line, match.start(), match.end())} {heading}")
            links[key] = {"value": {"host": host, "repo": f"{owner}/{repo}", "url": f"https://{host}/{owner}/{repo}",
                                    "paths": (known["value"]["paths"] if known else []) or ([path] if path else []),
                                    "roles": roles, "relevance": judged.relevance,
                                    "why": judged.why},
                          "number": number}
    for item in sorted(links.values(), key=lambda i: i["number"]):
        own = item["value"]["relevance"] == "own"
        add("code.link", item["value"], (0.8 if item["value"]["roles"] else 0.6) if own else 0.5,
            [at.lines("README.md", item["number"], item["number"])])
    if lines and not derivative and not any(i["value"]["relevance"] == "own" for i in links.values()):
        stem = family_stem(record.model_id)
        add("code.guess", {"host": "github.com", "repo": f"{author}/{stem}", "url": f"https://github.com/{author}/{stem}",
                           "why": "the card links no code of its own: a repository named after the model family "
                                  "in its author's GitHub organisation, if there is one"},
            0.4, [at.file("README.md")])
    for number, line in enumerate(lines, 1):
        if not _CLOSED_HINT.search(line):
            continue  # no word any statement of withheld code has: most lines of a card
        for pattern in _CLOSED_CODE:
            found = pattern.search(line)
            if found:
                role = _ROLE_OF_WORD[found.group("role").lower().replace("-", "")]
                add("code.nondisclosure", {"role": role, "statement": found.group(0)}, 0.8,
                    [at.lines("README.md", number, number)])
                break
    scripts = [p for p in record.paths if p.lower().endswith(_SCRIPT_SUFFIXES) and not _CUSTOM.match(p.rsplit("/", 1)[-1])]
    shown = script_roles(scripts)
    if shown:  # training or inference scripts shipped with the weights: the repo's own code
        add("code.scripts", {"roles": shown}, 0.8, [at.file(p) for paths in shown.values() for p in paths[:2]])
    custom = sorted(p for p in record.paths if "/" not in p and _CUSTOM.match(p))
    config = record.info.get("config") if isinstance(record.info.get("config"), dict) else {}
    auto_map = config.get("auto_map") if isinstance(config.get("auto_map"), dict) else {}
    if custom or auto_map:
        evidence = [at.file(p) for p in custom] + ([at.info_key("config")] if auto_map else [])
        add("code.custom", {"files": custom, "auto_map": sorted(auto_map)}, 1.0, evidence)
    library = record.info.get("library_name")
    if isinstance(library, str) and library:
        add("code.library", {"library": library, "role": "inference"}, 1.0, [at.info_key("library_name")])
    return findings


def _citation_lines(lines: list[str]) -> set[int]:
    """Line numbers of BibTeX entries (in or out of code fences) and of stray BibTeX fields."""
    found, depth = set(), 0
    for number, line in enumerate(lines, 1):
        if depth <= 0 and _BIBTEX_ENTRY.match(line):
            found.add(number)
            depth = line.count("{") - line.count("}")
        elif depth > 0:
            found.add(number)
            depth += line.count("{") - line.count("}")
        elif _BIBTEX_FIELD.match(line):
            found.add(number)
    return found


def _linked_path(rest: str) -> str | None:
    """The file or folder a link points at inside the repo (/blob/<ref>/<path>, /tree/<ref>/<path>)."""
    found = re.match(r"/(?:blob|tree|raw)/[^/\s]+/([^\s#?)\]\"'>]+)", rest or "")
    return found.group(1).rstrip(".,") if found else None


def _roles(context: str) -> list[str]:
    return [role.id for role in code_roles() if role.pattern.search(context)]
