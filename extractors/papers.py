"""Papers: the arXiv ids a model cites, from the Hub's arxiv: tags and from the card's text
(arxiv.org links and "arXiv:2304.01373" mentions). Versions are dropped: a paper is one target
whatever revision a card links."""
from __future__ import annotations

import re

from openness.extractors.base import Finding, Located, ModelRecord, heading_above, headings
from openness.extractors.lineage import lineage
from openness.extractors.relevance import DEFAULT_OWN, MENTION, Judgement, judge_paper

NAME, VERSION = "papers", "3"
_NEW_ID = r"\d{4}\.\d{4,5}"
_OLD_ID = r"[a-z-]+(?:\.[A-Z]{2})?/\d{7}"
_IN_TEXT = re.compile(rf"arxiv\.org/(?:abs|pdf|html)/({_NEW_ID}|{_OLD_ID})(?:v\d+)?|\barxiv\s*:\s*({_NEW_ID})(?:v\d+)?",
                      re.IGNORECASE)
_TAG = re.compile(rf"^arxiv:({_NEW_ID}|{_OLD_ID})(?:v\d+)?$", re.IGNORECASE)
MAX_PAPERS = 50  # a card citing more is a bibliography; the first ones are the model's own


def extract(record: ModelRecord) -> list[Finding]:
    at = Located(record, NAME, VERSION)
    found: dict[str, list] = {}
    judged: dict[str, object] = {}
    derivative = lineage(record) is not None
    readme = record.readme()
    lines = readme.text.splitlines() if readme and readme.text else []
    sections = headings(lines)
    for number, line in enumerate(lines, 1):
        for match in _IN_TEXT.finditer(line):
            paper = (match.group(1) or match.group(2)).lower()
            judgement = judge_paper(line, match.start(), match.end(), heading_above(sections, number), derivative)
            if paper not in found and len(found) < MAX_PAPERS:
                found[paper] = [at.lines("README.md", number, number)]
                judged[paper] = judgement
            elif paper in found and judgement.relevance == "own" and judged[paper].relevance != "own":
                judged[paper] = judgement  # cited as a mention first, then as the model's own
    tagged = [m.group(1).lower() for t in record.tags if isinstance(t, str) and (m := _TAG.match(t))]
    for paper in tagged:
        if paper in found:
            found[paper].append(at.info_key("tags"))
        elif len(found) < MAX_PAPERS:
            found[paper] = [at.info_key("tags")]
    # a base model's card citing papers without calling any its own: the first one it cites is
    # most likely its own paper; the later ones are what it builds on
    for paper in found:
        judged.setdefault(paper, Judgement(MENTION, "tagged only, and the model is a derivative") if derivative
                          else Judgement("own", DEFAULT_OWN))  # a Hub tag with no line of the card
    defaulted = [p for p in found if judged[p].why == DEFAULT_OWN]
    for paper in defaulted[1:]:
        judged[paper] = Judgement(MENTION, "a later paper the card cites without calling it its own")
    findings = []
    for paper, evidence in found.items():
        relevance, why = judged[paper].relevance, judged[paper].why
        findings.append(Finding(record.model_id, record.sha, "paper.arxiv",
                                {"id": paper, "url": f"https://arxiv.org/abs/{paper}", "tagged": paper in tagged,
                                 "relevance": relevance, "why": why}, 1.0, tuple(evidence)))
    return findings
