"""Whose is a link? A card links its developers' own code and paper, and it also mentions other
people's: models it beats, libraries it runs on, tools it thanks, pull requests. Only the model's
own links can open a component, so every code and paper link is judged here, with the words or the
rule that decided. Pure; the knowledge (phrases, headings, libraries) is data/link_relevance.yml.

The order is an auditor's: a pull-request link, a bibliography or a building block everyone uses
(a framework, an inference engine) is never the release, nor a "modified version of" a public repo;
the card's own words ("our code is available at") decide next; then a comparison; then "trained
using X"; then related work ("based on", "adapted from"); then whose repository it is (the model's
organisation, or a repository named after the model); then commands that fetch it; then words that
make it a library or a benchmark. Nothing said: a mention.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from openness.extractors.knowledge import link_relevance
from openness.extractors.sentences import READ_AROUND, clause, clause_span, parenthetical

OWN, MENTION, GUESS = "own", "mention", "guess"
DEFAULT_OWN = "the paper a base model's card cites"
# Pieces of a model name that say its size, version or variant, not its family.
_NOISE = re.compile(r"^(\d+(\.\d+)?[kmbt]|\d+x\d+(\.\d+)?[mb]|a\d+(\.\d+)?b|v\d+(\.\d+)*[a-z]?|\d{4,}|"
                    r"base|chat|instruct\w*|it|hf|sft|dpo|rlhf|orpo|gguf|ggml|awq|gptq|exl2|mlx|onnx|\d+bit|fp\d+|bf16|"
                    r"int\d|q\d\w*|deduped|preview|alpha|beta|final|latest|original|pt)$", re.IGNORECASE)


@dataclass(frozen=True)
class Judgement:
    relevance: str        # own, mention
    why: str              # the rule and, where words decided, the words
    used: bool = False    # own because the card says it made the model ("trained using X"): a
    #                       codebase someone else may own, which counts for what its own files show


def family_stem(model_id: str) -> str:
    """A model name up to its first size, version or variant piece, separators kept:
    'open_heron_7b' -> 'open_heron', 'Heron-2-7b-hf' -> 'Heron-2', 'Wren-1.3B-Instruct' -> 'Wren'."""
    name = model_id.rsplit("/", 1)[-1]
    pieces = re.split(r"([-_])", name)
    kept = []
    for index in range(0, len(pieces), 2):
        if _NOISE.match(pieces[index]) and kept:
            break
        kept += pieces[max(index - 1, 0):index + 1] if index else [pieces[0]]
    return "".join(kept).strip("-_") or name


def _norm(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())


def same_owner(author: str, owner: str) -> bool:
    """The repo's owner is the model's organisation: the same name, or one name extends the other
    (stabilityai / Stability-AI, facebook / facebookresearch, Qwen / QwenLM)."""
    a, o = _norm(author), _norm(owner)
    if not a or not o:
        return False
    short, long = sorted((a, o), key=len)
    return a == o or (len(short) >= 4 and long.startswith(short))


def named_after(model_id: str, repo: str) -> bool:
    """The repo is named after the model's family (wren2 / wren-2, Heron-2 / heron, Kite / Kite-Eval)."""
    family, name = _norm(family_stem(model_id)), _norm(repo)
    short = min(family, name, key=len)
    return len(short) >= 4 and (family in name or name in family)


@dataclass(frozen=True)
class LinkAt:
    """Where a card links a repo: the model, the line, the link's offsets in it, the heading above."""
    model_id: str
    author: str
    line: str
    start: int
    end: int
    heading: str = ""
    citation: bool = False      # inside a BibTeX entry
    derivative: bool = False    # the card names a base model
    bases: tuple[str, ...] = () # the base models' ids and names, as the card gives them

    @property
    def clause(self) -> str:
        left, right = clause_span(self.line, self.start, self.end)
        return self.line[left:right]

    @property
    def before(self) -> str:
        """The clause up to the link, a markdown link's anchor text left out."""
        left, _ = clause_span(self.line, self.start, self.end)
        return re.sub(r"\[[^\]]*\]\(\s*$", "", self.line[left:self.start])

    @property
    def after(self) -> str:
        """The clause from the link on (a markdown link's closing parenthesis included)."""
        _, right = clause_span(self.line, self.start, self.end)
        return self.line[self.end:right]

    @property
    def context(self) -> str:
        return f"{self.clause} {parenthetical(self.line, self.start)}"


def judge_code_link(at: LinkAt, owner: str, repo: str, url_rest: str) -> Judgement:
    """Own or mention, for a link to owner/repo (url_rest: what follows the repo in the URL)."""
    return _never_own(at, owner, repo, url_rest) or _by_words(at) or _by_whose(at, owner, repo) or _last_words(at)


def _never_own(at: LinkAt, owner: str, repo: str, url_rest: str) -> Judgement | None:
    """A pull request, a bibliography, a building block everyone uses, a comparison table's row."""
    knowledge = link_relevance()
    first_path = url_rest.strip("/").split("/", 1)[0].lower() if url_rest.startswith("/") else ""
    if first_path in knowledge.mention_paths:
        return Judgement(MENTION, f"a link to a {first_path} page, not to the repository")
    if at.citation or knowledge.mention_headings.match(at.heading or ""):
        return Judgement(MENTION, f"cited under '{at.heading}'" if at.heading and not at.citation else "a citation")
    if f"{owner}/{repo}".lower() in knowledge.libraries:
        return Judgement(MENTION, f"a library everyone uses ({owner}/{repo})")
    base = _base_repo(at, owner, repo)
    if base:
        return Judgement(MENTION, f"its base model's repository ({base})")
    row = _table_row(at.line, at.start)
    if row is not None:
        label, _ = row
        if same_owner(at.author, owner):
            return Judgement(OWN, f"the model's own organisation ({owner})")
        if _first(knowledge.own, f"{label}:", only=("label",)):
            return Judgement(OWN, f"a table row labelled '{label}'")
        return Judgement(MENTION, "a table row (a comparison or a results table)")
    return None


def _by_words(at: LinkAt) -> Judgement | None:
    """What the clause says: not the released code; the developers' own; a comparison; what
    trained the model; related work."""
    knowledge = link_relevance()
    unreleased = _first(knowledge.mention, at.context, only=("not as released",))
    if unreleased:
        return Judgement(MENTION, unreleased)
    said = _first(knowledge.own, at.before, only=("label",)) or _first(knowledge.own, at.context,
                                                                       skip=("label", "trained with"))
    if said:
        return Judgement(OWN, said)
    pointer = None if at.derivative else (knowledge.pointer_before.search(at.before)
                                          or knowledge.pointer_after.search(at.after))
    if pointer:
        return Judgement(OWN, f"pointer: '{pointer.group(0).strip()}'")
    compared = _first(knowledge.mention, at.context, only=("comparison",))
    if compared:
        return Judgement(MENTION, compared)
    tokenizer = _first(knowledge.mention, at.context, only=("tokenizer",))
    if tokenizer:  # "the tokenizer was trained with X": not what trained the model
        return Judgement(MENTION, tokenizer)
    trained = _first(knowledge.own, at.context, only=("trained with",))
    if trained:
        return Judgement(OWN, trained, used=True)
    related = _first(knowledge.mention, at.context, only=("related work",))
    if related:  # "based on", "adapted from": someone else's work the model builds on
        return Judgement(MENTION, related)
    return None


def _base_repo(at: LinkAt, owner: str, repo: str) -> str | None:
    """In a derivative's card, the base model whose repository this is (the base's owner, or
    named after the base), when it is not the card's own organisation's: the base's code."""
    if not at.derivative or same_owner(at.author, owner):
        return None
    for base in at.bases:
        base_owner = base.split("/", 1)[0] if "/" in base else ""
        if (base_owner and same_owner(base_owner, owner)) or named_after(base, repo):
            return base
    return None


def _by_whose(at: LinkAt, owner: str, repo: str) -> Judgement | None:
    """Whose the repo is, and how the card reaches it: the model's organisation, a repository named
    after the model (in a card that names no base), a command that fetches it, a code heading."""
    knowledge = link_relevance()
    if same_owner(at.author, owner):
        return Judgement(OWN, f"the model's own organisation ({owner})")
    if not at.derivative and named_after(at.model_id, repo):
        return Judgement(OWN, f"named after the model ({repo})")
    # a command that fetches it: near it, not anywhere on a line that may hold hundreds of links
    command = knowledge.commands.search(at.line, max(0, at.start - READ_AROUND), at.end + READ_AROUND)
    if command:
        return Judgement(OWN, f"a command that fetches it: '{command.group(0).strip()}'")
    if at.heading and knowledge.own_headings.match(at.heading):
        return Judgement(OWN, f"listed under '{at.heading}'")
    return None


def _last_words(at: LinkAt) -> Judgement:
    other = _first(link_relevance().mention, at.context, skip=("comparison", "related work"))
    return Judgement(MENTION, other or "nothing says its developers released it for this model")


def judge_paper(line: str, start: int, end: int, heading: str, derivative: bool) -> Judgement:
    """Own or mention, for an arXiv link or id at line[start:end]."""
    knowledge = link_relevance()
    if heading and knowledge.mention_headings.match(heading) and not re.search(r"cit|bibtex", heading, re.I):
        return Judgement(MENTION, f"cited under '{heading}'")
    row = _table_row(line, start)
    if row is not None:
        label, cell = row
        if re.search(r"\b(paper|report|preprint|publication)\b", label, re.IGNORECASE):
            return Judgement(OWN, f"a table row labelled '{label}'")
        return Judgement(MENTION, "a table row (a comparison or a results table)")
    context = f"{clause(line, start, end)} {parenthetical(line, start)}"
    found = knowledge.mention_paper.search(context) if derivative else None
    if found:
        return Judgement(MENTION, f"'{found.group(0).strip()}'")
    found = knowledge.own_paper.search(context) or (None if derivative else knowledge.own_paper_base.search(context))
    if found:
        return Judgement(OWN, f"'{found.group(0).strip()}'")
    found = knowledge.mention_paper.search(context)
    if found:
        return Judgement(MENTION, f"'{found.group(0).strip()}'")
    if derivative:
        return Judgement(MENTION, "a derivative's card citing a paper without calling it its own")
    return Judgement(OWN, DEFAULT_OWN)


def _table_row(line: str, start: int) -> tuple[str, str] | None:
    """(the row's first cell, the cell holding `start`) when the line is a Markdown table row."""
    stripped = line.strip()
    if not stripped.startswith("|") or stripped.count("|") < 3:
        return None
    cells = line.split("|")
    offset, holding = 0, ""
    for cell in cells:
        if offset <= start <= offset + len(cell):
            holding = cell
            break
        offset += len(cell) + 1
    first = next((c.strip() for c in cells[1:] if c.strip()), "")
    return re.sub(r"[*_`]", "", first), holding.strip()


def _first(named, text: str, only: tuple = (), skip: tuple = ()) -> str | None:
    """'<name>: <words>' for the first named pattern that matches `text`."""
    for name, pattern in named:
        if (only and name not in only) or name in skip:
            continue
        found = pattern.search(text)
        if found:
            return f"{name}: '{found.group(0).strip()}'"
    return None
