"""What the SPDX 2.3 and 3.0.1 writers share: how a model's parts are named and annotated, and how
its licences are written.

Licences: a licence with an SPDX id
is that id; an AI licence without one (Llama, Gemma, OpenRAIL...) is LicenseRef-openness-<id>; a
card's licence tag the knowledge base does not know is LicenseRef-openness-card-<name>. Each
LicenseRef a document uses needs its text (or where it is published) in the document; `custom()`
lists them."""
from __future__ import annotations

import re
from dataclasses import dataclass

from spdx_tools.common.spdx_licensing import spdx_licensing

from openness.extractors.knowledge import knowledge, lookup
from openness.extractors.locations import PUBLIC_HUB, evidence_url
from openness.outputs.bom import ModelBom, Part

UNNAMED = ("other", "unknown")  # knowledge-base ids that name no licence
DOCUMENT_COMMENT = ("An AI bill of materials: what openness found in the model's repository and what its card links "
                    "to, with the openness classification.")
# base_model_relation: a quantization is the same model in another form; the rest derive from it
VARIANT_RELATIONS = {"quantized"}


@dataclass(frozen=True)
class CustomLicence:
    ref: str                 # LicenseRef-...
    name: str
    text: str                # the stored licence file, else a note saying where it is published
    links: tuple[str, ...]
    from_knowledge: bool     # named by the knowledge base, not only by a card

    @property
    def comment(self) -> str:
        return "Named by openness's licence knowledge base" if self.from_knowledge else "As the card names it"


class LicenceNames:
    def __init__(self, licence_texts: dict[str, dict] | None = None):
        self.licence_texts = licence_texts or {}  # knowledge id -> {text, url} of a licence file the audit stored
        self.refs: dict[str, tuple[str, str | None]] = {}  # LicenseRef -> (name, knowledge id)

    def declared(self, tag: str | None, other_name: str | None = None) -> str | None:
        """A card's or host's licence tag as an expression; other_name: the card's license_name,
        when the tag is `other`."""
        if not tag:
            return None
        licence = lookup(tag)
        if licence is None or licence.id in UNNAMED:
            name = other_name if licence is not None and licence.id == "other" and other_name else tag
            return self._ref(f"LicenseRef-openness-card-{slug(name)}", name, None)
        return self.symbol(licence)

    def concluded(self, ids: list[str]) -> str | None:
        """The knowledge-base ids the audit concluded, as one expression (all of them apply)."""
        symbols = [self.symbol(knowledge()[i]) for i in ids if i in knowledge() and i not in UNNAMED]
        return " AND ".join(dict.fromkeys(symbols)) or None

    def symbol(self, licence) -> str:
        spdx_id = licence.spdx_id
        if spdx_id.startswith("LicenseRef-") or spdx_licensing.validate(spdx_id).errors:
            ref = spdx_id if spdx_id.startswith("LicenseRef-") else f"LicenseRef-openness-{slug(licence.id)}"
            return self._ref(ref, licence.name, licence.id)
        return spdx_id

    def custom(self) -> list[CustomLicence]:
        out = []
        for ref in sorted(self.refs):
            name, licence_id = self.refs[ref]
            licence = knowledge().get(licence_id) if licence_id else None
            stored = self.licence_texts.get(licence_id) if licence_id else None
            links = tuple(u for u in (stored and stored["url"], licence and licence.url) if u)
            text = stored["text"] if stored else (f"{name}. The audit stored no copy of this licence's text"
                                                   + (f"; it is published at {links[0]}." if links else "."))
            out.append(CustomLicence(ref, name, text, links, licence is not None))
        return out

    def _ref(self, ref: str, name: str, licence_id: str | None) -> str:
        self.refs.setdefault(ref, (name, licence_id))
        return ref


class UniqueIds:
    """Ids made from names, a -2, -3... suffix where two names give one id."""

    def __init__(self):
        self.taken: set[str] = set()

    def __call__(self, base: str) -> str:
        unique, n = base, 1
        while unique in self.taken:
            n += 1
            unique = f"{base}-{n}"
        self.taken.add(unique)
        return unique


def document_namespace(bom: ModelBom, created) -> str:
    return f"https://spdx.openness.invalid/{bom.model_id}/{bom.sha}/{created:%Y%m%dT%H%M%S}"


def part_comment(part: Part) -> str | None:
    if not part.resolved:
        return f"Linked by the card; not followed: {part.note}."
    return f"Code repository ({part.note})." if part.kind == "code" and part.note else None


def slug(text: str) -> str:
    """What an SPDX id may hold of a name: letters, digits, '.' and '-'."""
    return re.sub(r"[^A-Za-z0-9.]+", "-", text).strip("-") or "x"


def concluded(explained: dict | None) -> list[str]:
    """The knowledge-base ids the audit concluded for the weights (openness explain's weights cell)."""
    if not explained:
        return []
    cell = explained["components"].get("deployment.data.weights", {})
    return list(dict.fromkeys(l["id"] for l in cell.get("licenses", []) if l.get("id")))


def model_purl(model_id: str, sha: str | None) -> str:
    return f"pkg:huggingface/{model_id}" + (f"@{sha}" if sha else "")


def part_purl(part: Part) -> str | None:
    if part.kind == "base_model":
        return model_purl(part.id, part.version)
    if part.kind == "code" and part.id.startswith("github.com/"):
        return f"pkg:github/{part.id.removeprefix('github.com/')}" + (f"@{part.version}" if part.version else "")
    return None


def annotation_notes(explained: dict | None, hub: str = PUBLIC_HUB) -> list[str]:
    """The twelve cells, one note each, and the verdicts: what a reader of the BOM needs to see."""
    if not explained:
        return ["openness: not classified yet"]
    notes = [f"openness README.md: {explained['card_read_from']}"] if explained.get("card_read_from") else []
    for key, cell in explained["components"].items():
        licences = ", ".join(dict.fromkeys(f"{l['id']} ({l['points']}/5)" for l in cell["licenses"] if l.get("id"))) or "none"
        evidence = cell["evidence"][0] if cell["evidence"] else {}
        where = evidence_url(evidence, hub) or evidence.get("path") or ""
        inherited = f", inherited from {cell['inherited_from']}" if cell.get("inherited_from") else ""
        notes.append(f"openness {key}: {cell['label']} ({cell['reason']}{inherited}); licences: {licences}"
                     + (f"; evidence: {where}" if where else ""))
    summary = explained["summary"]
    notes.append(f"openness summary (rules v{explained['rules_version']}): {summary['fully_open']} fully open, "
                 f"{summary['semi_open']} semi-open, {summary['closed']} closed, {summary['unknown']} unknown, "
                 f"{summary['not_applicable']} not applicable; family {summary['family']}; MOF class "
                 f"{summary['mof_class'] or 'none'}; OSAID {summary['osaid']}")
    return notes
