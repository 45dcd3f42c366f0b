"""The licence knowledge base: one YAML file per licence under data/licences/, loaded and validated
here and nowhere else. Code never hard-codes a licence; it asks this module."""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import yaml
from openness.extractors.errors import KnowledgeError

CRITERIA = ("research", "commercial", "modify", "copyright_derivative", "other_license_derivative")
KINDS = {"code", "data", "model", "content", "documentation", "font", "any"}
_SPDX = re.compile(r"^(NOASSERTION|LicenseRef-[A-Za-z0-9.\-]+|[A-Za-z0-9][A-Za-z0-9.+\-]*)$")
_REQUIRED = ("id", "name", "spdx_id", "hub_id", "kind", "family", "osi_approved", "fsf_libre", "category",
             "facts_source", "aliases", "fingerprints", "rubric")


@dataclass(frozen=True)
class Criterion:
    allowed: bool
    why: str


@dataclass(frozen=True)
class Licence:
    id: str
    name: str
    spdx_id: str
    hub_id: str | None
    kind: str
    family: bool
    aliases: tuple[str, ...]
    fingerprints: tuple[str, ...]
    rubric: dict[str, Criterion]
    url: str | None = None
    note: str | None = None
    # facts about the licence from outside the audit, with where they come from: OSI approval and
    # FSF's free-licence list as the SPDX License List marks them (None: no fact recorded), and
    # the licence's category (Permissive, Copyleft, ...) as ScanCode's LicenseDB gives it
    osi_approved: bool | None = None
    fsf_libre: bool | None = None
    category: str | None = None
    facts_source: str = ""

    @property
    def points(self) -> int:
        """The taxonomy's 5-point licence rubric: one point per criterion allowed."""
        return sum(self.rubric[c].allowed for c in CRITERIA)

    def as_row(self) -> dict:
        row = {"id": self.id, "name": self.name, "spdx_id": self.spdx_id}
        row.update({c: self.rubric[c].allowed for c in CRITERIA})
        row["points"] = self.points
        row["justification"] = {c: self.rubric[c].why for c in CRITERIA}
        row.update({"hub_id": self.hub_id, "kind": self.kind, "family": self.family, "aliases": list(self.aliases),
                    "osi_approved": self.osi_approved, "fsf_libre": self.fsf_libre, "category": self.category,
                    "facts_source": self.facts_source})
        return row


def _data_file(name: str) -> Path:
    return Path(str(resources.files("openness.extractors") / "data" / name))


def licences_dir() -> Path:
    return _data_file("licences")


def load_licences(folder: Path | None = None) -> dict[str, Licence]:
    """Every licence by id; raises KnowledgeError on the first file that breaks the schema."""
    folder = folder or licences_dir()
    licences: dict[str, Licence] = {}
    names: dict[str, str] = {}
    for path in sorted(folder.glob("*.yml")):
        licence = _parse(path)
        for name in (licence.id, licence.hub_id, *licence.aliases):
            if name is None:
                continue
            key = normalise_name(name)
            if names.get(key, licence.id) != licence.id:
                raise KnowledgeError(f"{path.name}: name {name!r} also names {names[key]}")
            names[key] = licence.id
        licences[licence.id] = licence
    if not licences:
        raise KnowledgeError(f"no licence files in {folder}")
    return licences


@functools.cache
def knowledge() -> dict[str, Licence]:
    return load_licences()


@functools.lru_cache(maxsize=8192)  # the engine asks for the same few names millions of times
def lookup(name: str) -> Licence | None:
    """A licence by id, Hub id or alias, ignoring case, spaces and underscores."""
    return _by_name().get(normalise_name(name))


@functools.cache
def _by_name() -> dict[str, Licence]:
    table = {}
    for licence in knowledge().values():
        for name in (licence.id, licence.hub_id, *licence.aliases):
            if name:
                table[normalise_name(name)] = licence
    for licence in knowledge().values():  # its full name too ("Apache License 2.0"), where nothing else has it
        table.setdefault(normalise_name(licence.name), licence)
    return table


def normalise_name(name: str) -> str:
    return re.sub(r"[\s_]+", "-", name.strip().lower())


def _parse(path: Path) -> Licence:
    try:
        data = yaml.safe_load(path.read_text("utf-8"))
    except yaml.YAMLError as exc:
        raise KnowledgeError(f"{path.name}: not YAML: {' '.join(str(exc).split())}") from None
    if not isinstance(data, dict):
        raise KnowledgeError(f"{path.name}: expected a mapping")
    missing = [k for k in _REQUIRED if k not in data]
    if missing:
        raise KnowledgeError(f"{path.name}: missing {', '.join(missing)}")
    if data["id"] != path.stem:
        raise KnowledgeError(f"{path.name}: id {data['id']!r} differs from the file name")
    if not _SPDX.match(str(data["spdx_id"])):
        raise KnowledgeError(f"{path.name}: spdx_id {data['spdx_id']!r} is neither an SPDX id nor LicenseRef-...")
    if data["kind"] not in KINDS:
        raise KnowledgeError(f"{path.name}: kind must be one of {sorted(KINDS)}")
    if not isinstance(data["family"], bool):
        raise KnowledgeError(f"{path.name}: family must be true or false")
    for key in ("osi_approved", "fsf_libre"):
        if data[key] not in (True, False, None):
            raise KnowledgeError(f"{path.name}: {key} must be true, false or null (no fact recorded)")
    if data["category"] is not None and not isinstance(data["category"], str):
        raise KnowledgeError(f"{path.name}: category must be text or null")
    if not isinstance(data["facts_source"], str) or not data["facts_source"].strip():
        raise KnowledgeError(f"{path.name}: facts_source must say where osi_approved, fsf_libre and category come from")
    for key in ("aliases", "fingerprints"):
        if not isinstance(data[key], list) or not all(isinstance(v, str) and v.strip() for v in data[key]):
            raise KnowledgeError(f"{path.name}: {key} must be a list of non-empty strings")
    return Licence(id=data["id"], name=str(data["name"]), spdx_id=str(data["spdx_id"]), hub_id=data["hub_id"],
                   kind=data["kind"], family=data["family"], aliases=tuple(data["aliases"]),
                   fingerprints=tuple(data["fingerprints"]), rubric=_rubric(path, data["rubric"]),
                   url=data.get("url"), note=data.get("note"), osi_approved=data["osi_approved"],
                   fsf_libre=data["fsf_libre"], category=data["category"], facts_source=data["facts_source"])


def _rubric(path: Path, rubric) -> dict[str, Criterion]:
    if not isinstance(rubric, dict) or set(rubric) != set(CRITERIA):
        raise KnowledgeError(f"{path.name}: rubric must answer exactly {', '.join(CRITERIA)}")
    out = {}
    for criterion in CRITERIA:
        answer = rubric[criterion]
        if not isinstance(answer, dict) or not isinstance(answer.get("allowed"), bool):
            raise KnowledgeError(f"{path.name}: rubric.{criterion}.allowed must be true or false")
        why = answer.get("why")
        if not isinstance(why, str) or len(why.split()) < 4 or "\n" in why.strip():
            raise KnowledgeError(f"{path.name}: rubric.{criterion}.why must be a one-line justification")
        out[criterion] = Criterion(answer["allowed"], why.strip())
    return out


@dataclass(frozen=True)
class WeightFormat:
    format: str
    patterns: tuple[re.Pattern, ...]
    full_path: bool = False

    def matches(self, path: str) -> bool:
        target = path if self.full_path else path.rsplit("/", 1)[-1]
        return any(p.search(target) for p in self.patterns)


@functools.cache
def weight_formats() -> tuple[WeightFormat, ...]:
    path = _data_file("weight_formats.yml")
    entries = yaml.safe_load(path.read_text("utf-8"))
    formats = []
    for entry in entries:
        try:
            patterns = tuple(re.compile(p, re.IGNORECASE) for p in entry["patterns"])
        except (KeyError, re.error, TypeError) as exc:
            raise KnowledgeError(f"weight_formats.yml: bad entry {entry!r}: {exc}") from exc
        formats.append(WeightFormat(entry["format"], patterns, bool(entry.get("full_path"))))
    return tuple(formats)


STAGES = ("pretraining", "sft", "alignment")


# A regex character that ends a pattern's leading literal text.
_META = set(".^$*+?{}[]|()\\")
MIN_ANCHOR = 3


def leading_literal(pattern: str) -> str | None:
    """Text every match of `pattern` must contain, lowercased: its leading literal run (a character
    made optional by a quantifier dropped), when at least MIN_ANCHOR long; None when there is none,
    or when a top-level '|' makes it not necessary. A cheap `in` test on the card then skips the
    regex scan for the names a card does not mention (cards run to megabytes)."""
    depth, escaped = 0, False
    for char in pattern:
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif char in "([":
            depth += 1
        elif char in ")]":
            depth -= 1
        elif char == "|" and depth == 0:
            return None
    literal, index = [], 0
    while index < len(pattern):
        char = pattern[index]
        if char == "\\" and index + 1 < len(pattern) and not pattern[index + 1].isalnum():
            literal.append(pattern[index + 1])
            index += 2
            continue
        if char in _META:
            if char in "?*{":
                literal = literal[:-1]
            break
        literal.append(char)
        index += 1
    text = "".join(literal).lower()
    return text if len(text) >= MIN_ANCHOR else None


def anchors_of(patterns: list[str]) -> tuple[str, ...] | None:
    """One necessary text per pattern, or None when some pattern has none (then always scan)."""
    anchors = [leading_literal(p) for p in patterns]
    return None if any(a is None for a in anchors) else tuple(anchors)


@dataclass(frozen=True)
class Corpus:
    id: str
    name: str
    hub_ids: tuple[str, ...]
    pattern: re.Pattern
    licence: str
    stage: str
    anchors: tuple[str, ...] | None = None
    licence_source: str | None = None   # where the licence comes from, when not the corpus's Hub tag


@functools.cache
def corpora() -> tuple[Corpus, ...]:
    path = _data_file("corpora.yml")
    out = []
    for entry in yaml.safe_load(path.read_text("utf-8")):
        try:
            flags = 0 if entry.get("case_sensitive") else re.IGNORECASE
            pattern = re.compile(r"(?<![\w/-])(?:" + "|".join(entry["patterns"]) + r")(?![\w-])", flags)
            corpus = Corpus(entry["id"], entry["name"], tuple(entry["hub_ids"]), pattern, entry["licence"], entry["stage"],
                            anchors_of(entry["patterns"]), entry.get("licence_source"))
        except (KeyError, TypeError, re.error) as exc:
            raise KnowledgeError(f"corpora.yml: bad entry {entry!r}: {exc}") from exc
        if corpus.stage not in STAGES:
            raise KnowledgeError(f"corpora.yml: {corpus.id}: stage must be one of {STAGES}")
        if corpus.licence not in knowledge():
            raise KnowledgeError(f"corpora.yml: {corpus.id}: licence {corpus.licence!r} is not in data/licences/")
        out.append(corpus)
    return tuple(out)


@functools.cache
def corpus_by_hub_id() -> dict[str, Corpus]:
    return {hub_id.lower(): c for c in corpora() for hub_id in c.hub_ids}


# What a dataset's name may hold besides a corpus's name: "the", a kind word, a note in brackets.
_NAME_NOTE = re.compile(r"\s*\([^)]*\)\s*$")
_NAME_KIND = re.compile(r"\s+(?:dataset|corpus|corpora|data)\s*$", re.IGNORECASE)
_NAME_THE = re.compile(r"^\s*the\s+", re.IGNORECASE)


@functools.lru_cache(maxsize=4096)
def corpus_by_name(name: str) -> Corpus | None:
    """The corpus a dataset name that is no Hub id names ("the Pile", "C4 (English)"): its whole
    name is the corpus's name, give or take "the", a kind word and a note in brackets."""
    if "/" in name:
        return None
    bare = _NAME_KIND.sub("", _NAME_NOTE.sub("", name.strip()))
    spaced = re.sub(r"[-_]+", " ", bare)  # "the-pile", "the_pile"
    for candidate in dict.fromkeys((name.strip(), bare, _NAME_THE.sub("", bare), spaced, _NAME_THE.sub("", spaced))):
        for corpus in corpora():
            match = corpus.pattern.match(candidate)
            if match and match.end() == len(candidate):
                return corpus
    return None


@dataclass(frozen=True)
class CorpusWords:
    """data/corpus_words.yml: the words that say what a sentence makes of a corpus it names, each
    list as one alternation (no groups of its own)."""
    elsewhere: str
    training_cues: str
    evaluation_cues: str
    derivations: str
    done_to_it: str
    format_names: str
    formatting: str
    training: str


@functools.cache
def corpus_words() -> CorpusWords:
    data = yaml.safe_load(_data_file("corpus_words.yml").read_text("utf-8"))
    try:
        words = {key: "|".join(f"(?:{p})" for p in data[key]) for key in CorpusWords.__dataclass_fields__}
        for key, alternation in words.items():
            re.compile(alternation)
            if not data[key] or not all(isinstance(p, str) and p for p in data[key]):
                raise KnowledgeError(f"corpus_words.yml: {key} must be a list of patterns")
    except (KeyError, TypeError, re.error) as exc:
        raise KnowledgeError(f"corpus_words.yml: missing or malformed {exc}") from exc
    return CorpusWords(**words)


@dataclass(frozen=True)
class ModelLicenceWords:
    """data/model_licence_words.yml: when a code repository's licence is its models' licence."""
    covers_models: re.Pattern
    releases_models: re.Pattern
    models_own_terms: re.Pattern


@functools.cache
def model_licence_words() -> ModelLicenceWords:
    data = yaml.safe_load(_data_file("model_licence_words.yml").read_text("utf-8"))
    try:
        return ModelLicenceWords(**{key: re.compile("|".join(f"(?:{p})" for p in data[key]), re.IGNORECASE)
                                    for key in ModelLicenceWords.__dataclass_fields__})
    except (KeyError, TypeError, re.error) as exc:
        raise KnowledgeError(f"model_licence_words.yml: missing or malformed {exc}") from exc


LINEAGE_RELATIONS = ("quantized", "adapter", "merge", "finetune")


@functools.cache
def lineage_phrases() -> tuple[tuple[str, re.Pattern, bool], ...]:
    """(relation, words, whether they follow the base's name) from data/lineage.yml, in the file's
    order: the words before a base's name, then the words after a Hub id or link."""
    before, after = [], []
    for entry in _lineage_entries():
        if "relation" not in entry:
            continue
        relation = entry["relation"]
        before += [(relation, p, False) for p in entry["patterns"]]
        after += [(relation, p, True) for p in entry.get("after") or []]
        if relation not in LINEAGE_RELATIONS:
            raise KnowledgeError(f"lineage.yml: relation must be one of {LINEAGE_RELATIONS}")
    return tuple(before + after)


@functools.cache
def stage_phrases() -> tuple[tuple[str, re.Pattern], ...]:
    """(stage, words) from data/lineage.yml: how a card says this model went through a stage."""
    out = []
    for entry in _lineage_entries():
        if "stage" in entry:
            if entry["stage"] not in STAGES[1:]:
                raise KnowledgeError(f"lineage.yml: stage must be one of {STAGES[1:]}")
            out += [(entry["stage"], p) for p in entry["patterns"]]
    return tuple(out)


def _lineage_entries() -> list[dict]:
    try:
        return [{**entry, **{key: [re.compile(p, re.IGNORECASE) for p in entry.get(key) or []]
                             for key in ("patterns", "after")}}
                for entry in yaml.safe_load(_data_file("lineage.yml").read_text("utf-8"))]
    except (KeyError, TypeError, AttributeError, re.error) as exc:
        raise KnowledgeError(f"lineage.yml: bad entry: {exc}") from exc


@dataclass(frozen=True)
class Pattern:
    id: str
    kind: str
    pattern: re.Pattern
    anchors: tuple[str, ...] | None = None


def _patterns(file: str, key: str, kinds: set[str] | None, bounded: bool) -> tuple[Pattern, ...]:
    path = _data_file(file)
    out = []
    for entry in yaml.safe_load(path.read_text("utf-8")):
        try:
            body = "|".join(entry["patterns"])
            regex = rf"(?<![\w-])(?:{body})(?![\w-])" if bounded else rf"\b(?:{body})"
            flags = 0 if all(p.isupper() for p in entry["patterns"]) else re.IGNORECASE
            item = Pattern(entry[key], entry.get("kind", entry[key]), re.compile(regex, flags),
                           anchors_of(entry["patterns"]))
        except (KeyError, TypeError, re.error) as exc:
            raise KnowledgeError(f"{file}: bad entry {entry!r}: {exc}") from exc
        if kinds is not None and item.kind not in kinds:
            raise KnowledgeError(f"{file}: {item.id}: kind must be one of {sorted(kinds)}")
        out.append(item)
    return tuple(out)


@functools.cache
def code_roles() -> tuple[Pattern, ...]:
    return _patterns("code_roles.yml", "role", None, bounded=False)


@functools.cache
def evaluations() -> tuple[Pattern, ...]:
    return _patterns("evaluations.yml", "id", {"harness", "general", "safety"}, bounded=True)


@dataclass(frozen=True)
class RepoRole:
    """How a code repository's own files show one role (data/repo_roles.yml)."""
    role: str
    paths: re.Pattern | None
    generic_paths: re.Pattern | None
    unless: tuple[str, ...]
    headings: re.Pattern | None
    packages: re.Pattern | None
    not_paths: re.Pattern | None = None     # look like the role and are not (a speed benchmark)
    statements: re.Pattern | None = None    # what a README's opening says the repo does
    configs: re.Pattern | None = None       # config file names that carry a model size


def _piece_pattern(patterns: list[str] | None) -> re.Pattern | None:
    """Whole pieces of a path or a name, where '_', '-', '.', '/' and spaces separate pieces."""
    if not patterns:
        return None
    return re.compile(rf"(?<![a-z0-9])(?:{'|'.join(patterns)})(?![a-z0-9])", re.IGNORECASE)


@functools.cache
def repo_roles() -> tuple[RepoRole, ...]:
    path = _data_file("repo_roles.yml")
    roles = []
    for entry in yaml.safe_load(path.read_text("utf-8")):
        try:
            statements = entry.get("statements")
            roles.append(RepoRole(entry["role"], _piece_pattern(entry.get("paths")),
                                  _piece_pattern(entry.get("generic_paths")), tuple(entry.get("unless") or ()),
                                  _piece_pattern(entry.get("headings")), _piece_pattern(entry.get("packages")),
                                  _piece_pattern(entry.get("not_paths")),
                                  re.compile("|".join(f"(?:{p})" for p in statements), re.IGNORECASE) if statements else None,
                                  _piece_pattern(entry.get("configs"))))
        except (KeyError, TypeError, re.error) as exc:
            raise KnowledgeError(f"repo_roles.yml: bad entry {entry!r}: {exc}") from exc
    known = {r.role for r in roles}
    for role in roles:
        if not set(role.unless) <= known:
            raise KnowledgeError(f"repo_roles.yml: {role.role}: unless names unknown roles {set(role.unless) - known}")
    return tuple(roles)


@dataclass(frozen=True)
class LinkRelevance:
    """How to tell a model's own links from mentions (data/link_relevance.yml)."""
    own: tuple[tuple[str, re.Pattern], ...]          # (name, pattern)
    mention: tuple[tuple[str, re.Pattern], ...]
    mention_headings: re.Pattern
    own_headings: re.Pattern
    mention_paths: frozenset[str]
    commands: re.Pattern
    libraries: frozenset[str]
    own_paper: re.Pattern
    own_paper_base: re.Pattern
    mention_paper: re.Pattern
    pointer_before: re.Pattern
    pointer_after: re.Pattern


def _any_of(patterns: list[str], where: str) -> re.Pattern:
    if not isinstance(patterns, list) or not patterns or not all(isinstance(p, str) for p in patterns):
        raise KnowledgeError(f"link_relevance.yml: {where} must be a list of patterns")
    try:
        return re.compile("|".join(f"(?:{p})" for p in patterns), re.IGNORECASE)
    except re.error as exc:
        raise KnowledgeError(f"link_relevance.yml: {where}: {exc}") from exc


def _heading_pattern(patterns: list[str], where: str) -> re.Pattern:
    inner = _any_of(patterns, where).pattern
    return re.compile(rf"^\W*(?:{inner})\W*$", re.IGNORECASE)


@functools.cache
def link_relevance() -> LinkRelevance:
    data = yaml.safe_load(_data_file("link_relevance.yml").read_text("utf-8"))
    try:
        named = {kind: tuple((name, _any_of(patterns, f"{kind}.{name}")) for name, patterns in data[kind].items())
                 for kind in ("own", "mention")}
        libraries = frozenset(str(l).lower() for l in data["libraries"])
        if not all(l.count("/") == 1 for l in libraries):
            raise KnowledgeError("link_relevance.yml: libraries are owner/name")
        return LinkRelevance(named["own"], named["mention"],
                             _heading_pattern(data["mention_headings"], "mention_headings"),
                             _heading_pattern(data["own_headings"], "own_headings"),
                             frozenset(str(p) for p in data["mention_paths"]), _any_of(data["commands"], "commands"),
                             libraries, _any_of(data["own_paper"], "own_paper"),
                             _any_of(data["own_paper_base"], "own_paper_base"),
                             _any_of(data["mention_paper"], "mention_paper"),
                             _any_of(data["pointer"]["before"], "pointer.before"),
                             _any_of(data["pointer"]["after"], "pointer.after"))
    except (KeyError, TypeError, AttributeError) as exc:
        raise KnowledgeError(f"link_relevance.yml: missing or malformed {exc}") from exc
