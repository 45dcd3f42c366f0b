"""Code: links to code hosts with their roles from context (pre-training, fine-tuning, alignment,
evaluation, safety evaluation, inference), custom code shipped in the repo, and the library that
runs the model (which says nothing about how the model was trained)."""
from __future__ import annotations

import re

from extractors.base import Finding, Located, ModelRecord, heading_above, headings
from extractors.knowledge import code_roles

NAME, VERSION = "code", "1"
_LINK = re.compile(r"https?://(?:www\.)?(github\.com|gitlab\.com|bitbucket\.org|codeberg\.org)/"
                   r"([A-Za-z0-9][\w.-]*)/([\w.-]+?)(?:\.git)?(?=[/#?)\]\s\"'>,]|$)(\S*)", re.I)
_CUSTOM = re.compile(r"^(modeling|configuration|tokenization|processing|image_processing)_\w+\.py$")
_NOT_REPOS = {"sponsors", "features", "orgs", "topics", "about", "pricing", "settings", "login", "marketplace"}


def extract(record: ModelRecord) -> list[Finding]:
    at = Located(record, NAME, VERSION)
    findings: list[Finding] = []

    def add(signal, value, confidence, evidence):
        findings.append(Finding(record.model_id, record.sha, signal, value, confidence, tuple(evidence)))

    readme = record.readme()
    lines = readme.text.splitlines() if readme and readme.text else []
    sections = headings(lines)
    seen = set()
    for number, line in enumerate(lines, 1):
        for match in _LINK.finditer(line):
            host, owner, rest = match.group(1).lower(), match.group(2), match.group(4)
            repo = match.group(3).rstrip(".")  # a sentence's full stop is not part of the name
            key = f"{host}/{owner}/{repo}".lower()
            if owner.lower() in _NOT_REPOS or key in seen:
                continue
            seen.add(key)
            roles = _roles(f"{repo} {rest} {line} {heading_above(sections, number)}")
            add("code.link", {"host": host, "repo": f"{owner}/{repo}", "url": f"https://{host}/{owner}/{repo}",
                              "roles": roles}, 0.8 if roles else 0.6, [at.lines("README.md", number, number)])
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


def _roles(context: str) -> list[str]:
    return [role.id for role in code_roles() if role.pattern.search(context)]
