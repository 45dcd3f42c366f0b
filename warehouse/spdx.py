"""SPDX 2.3 documents of audited models (an AI bill of materials), built and validated with
spdx-tools: a package for the model (its card's licence declared, the licence the audit concluded
for its weights), one per weight file (LFS sha256), per linked dataset and code repository and per
base model up the chain, with their licences; relationships between them; the twelve openness cells
as annotations. AI licences without an SPDX id are LicenseRef-openness-<id>, with the licence file's
text where the audit stored one, else its name and where it is published."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from importlib.metadata import version
from pathlib import Path

from spdx_tools.common.spdx_licensing import spdx_licensing
from spdx_tools.spdx.model import (Actor, ActorType, Annotation, AnnotationType, Checksum, ChecksumAlgorithm,
                                   CreationInfo, Document, ExternalPackageRef, ExternalPackageRefCategory,
                                   ExtractedLicensingInfo, Package, PackagePurpose, Relationship, RelationshipType,
                                   SpdxNoAssertion)
from spdx_tools.spdx.validation.document_validator import validate_full_spdx_document
from spdx_tools.spdx.writer.write_anything import write_file

from extractors.knowledge import knowledge, lookup
from warehouse.bom import ModelBom, Part, gather
from warehouse.errors import WarehouseError

FORMATS = {"json": ".spdx.json", "tag-value": ".spdx", "yaml": ".spdx.yaml", "xml": ".spdx.xml", "rdf": ".spdx.rdf.xml"}
RELATION_TO = {"dataset": RelationshipType.GENERATED_FROM, "code": RelationshipType.DEPENDS_ON}
# base_model_relation: a quantization is the same model in another form; the rest derive from it
VARIANT_RELATIONS = {"quantized"}


class InvalidSpdx(WarehouseError):
    """spdx-tools' validator found errors in a document we built (a bug: it is never written)."""


@dataclass
class SpdxResult:
    files: dict[str, str] = field(default_factory=dict)   # model id -> written file
    packages: int = 0


def export_spdx(warehouse_path, out_dir, model_ids: list[str] | None = None, fmt: str = "json",
                endpoint: str = "https://huggingface.co") -> SpdxResult:
    """One validated SPDX document per model (default: every classified model)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    result = SpdxResult()
    for model_id in model_ids or _classified(warehouse_path):
        document = build_document(gather(warehouse_path, model_id, endpoint))
        errors = validate_full_spdx_document(document)
        if errors:
            raise InvalidSpdx(f"{model_id}: " + "; ".join(e.validation_message for e in errors[:5]))
        path = out / (model_id.replace("/", "__") + FORMATS[fmt])
        write_file(document, str(path), validate=False)
        result.files[model_id] = str(path)
        result.packages += len(document.packages)
    return result


def _classified(warehouse_path) -> list[str]:
    from warehouse.db import connect
    with connect(warehouse_path, read_only=True) as con:
        return [r[0] for r in con.execute("SELECT DISTINCT s.model_id FROM model_summaries s JOIN latest_models m "
                                          "USING (model_id, sha) ORDER BY 1").fetchall()]


def build_document(bom: ModelBom, created: datetime | None = None) -> Document:
    created = created or datetime.now(timezone.utc).replace(microsecond=0, tzinfo=None)
    tool = Actor(ActorType.TOOL, f"openness-{version('openness')}")
    builder = _Builder(bom)
    model = builder.package("Model", bom.model_id, bom.sha, bom.url, bom.declared, _concluded(bom.explained),
                            PackagePurpose.OTHER, supplier=bom.author, purl=_purl(bom.model_id, bom.sha),
                            comment="The model repository at this commit, as openness audited it.")
    relations = [Relationship("SPDXRef-DOCUMENT", RelationshipType.DESCRIBES, model.spdx_id)]
    for weight in bom.weights:
        package = builder.weights(weight, bom, _concluded(bom.explained))
        relations.append(Relationship(model.spdx_id, RelationshipType.CONTAINS, package.spdx_id))
    ids = {("base_model", bom.model_id): model.spdx_id}
    for part in bom.parts:
        package = builder.part(part)
        ids[(part.kind, part.id)] = package.spdx_id
        owner = ids.get(("base_model", part.parent), model.spdx_id)
        relations.append(Relationship(owner, _relation(part), package.spdx_id, comment=part.note))
    return Document(
        creation_info=CreationInfo("SPDX-2.3", "SPDXRef-DOCUMENT", f"openness audit of {bom.model_id}",
                                   f"https://spdx.openness.invalid/{bom.model_id}/{bom.sha}/{created:%Y%m%dT%H%M%S}",
                                   [tool], created, creator_comment="An AI bill of materials: what openness found in the "
                                   "model's repository and what its card links to, with the openness classification."),
        packages=builder.packages, relationships=relations,
        annotations=_annotations(bom.explained, model.spdx_id, tool, created),
        extracted_licensing_info=builder.extracted())


def _relation(part: Part) -> RelationshipType:
    if part.kind == "base_model":
        return RelationshipType.VARIANT_OF if part.note in VARIANT_RELATIONS else RelationshipType.DESCENDANT_OF
    return RELATION_TO[part.kind]


def _concluded(explained: dict | None) -> list[str]:
    """The knowledge-base ids the audit concluded for the weights (openness explain's weights cell)."""
    if not explained:
        return []
    cell = explained["components"].get("deployment.data.weights", {})
    return list(dict.fromkeys(l["id"] for l in cell.get("licenses", []) if l.get("id")))


def _purl(model_id: str, sha: str | None) -> str:
    return f"pkg:huggingface/{model_id}" + (f"@{sha}" if sha else "")


class _Builder:
    """Packages with unique SPDX ids, and the LicenseRefs their expressions use."""

    def __init__(self, bom: ModelBom):
        self.bom = bom
        self.packages: list[Package] = []
        self.refs: dict[str, tuple[str, str | None]] = {}  # LicenseRef -> (name, knowledge id)
        self.used: set[str] = set()

    def package(self, kind: str, name: str, version: str | None, url: str, declared: str | None,
                concluded_ids: list[str], purpose: PackagePurpose, supplier: str | None = None,
                purl: str | None = None, comment: str | None = None, checksums=None, file_name=None) -> Package:
        package = Package(self._id(kind, name), name, url if url else SpdxNoAssertion(), version=version,
                          supplier=Actor(ActorType.ORGANIZATION, supplier) if supplier else SpdxNoAssertion(),
                          files_analyzed=False, checksums=checksums or [], file_name=file_name,
                          license_declared=self._declared(declared), license_concluded=self._expression(concluded_ids),
                          copyright_text=SpdxNoAssertion(), primary_package_purpose=purpose, comment=comment,
                          external_references=[ExternalPackageRef(ExternalPackageRefCategory.PACKAGE_MANAGER, "purl", purl)]
                          if purl else [])
        self.packages.append(package)
        return package

    def weights(self, weight: dict, bom: ModelBom, concluded: list[str]) -> Package:
        checksums = [Checksum(ChecksumAlgorithm.SHA256, weight["lfs_sha256"])] if weight.get("lfs_sha256") else []
        size = f"{weight['size']} bytes" if weight.get("size") else "size unknown"
        return self.package("Weights", weight["path"], bom.sha, f"{bom.url}/resolve/{bom.sha}/{weight['path']}",
                            None, concluded, PackagePurpose.FILE, checksums=checksums, file_name=weight["path"],
                            comment=f"A weight file of {bom.model_id} ({size}; sha256 from its LFS pointer).")

    def part(self, part: Part) -> Package:
        purpose = {"dataset": PackagePurpose.OTHER, "code": PackagePurpose.SOURCE}.get(part.kind, PackagePurpose.OTHER)
        kind = {"dataset": "Dataset", "code": "Code", "base_model": "BaseModel"}[part.kind]
        purl = _purl(part.id, part.version) if part.kind == "base_model" else (
            f"pkg:github/{part.id.removeprefix('github.com/')}" + (f"@{part.version}" if part.version else "")
            if part.kind == "code" and part.id.startswith("github.com/") else None)
        comment = None if part.resolved else f"Linked by the card; not followed: {part.note}."
        if part.resolved and part.note and part.kind == "code":
            comment = f"Code repository ({part.note})."
        return self.package(kind, part.id, part.version, part.url if part.resolved else "", part.declared,
                            part.licence_ids, purpose, purl=purl, comment=comment)

    def extracted(self) -> list[ExtractedLicensingInfo]:
        infos = []
        for ref in sorted(self.used):
            name, licence_id = self.refs[ref]
            licence = knowledge().get(licence_id) if licence_id else None
            stored = self.bom.licence_texts.get(licence_id) if licence_id else None
            links = [u for u in (stored and stored["url"], licence and licence.url) if u]
            text = stored["text"] if stored else (f"{name}. The audit stored no copy of this licence's text"
                                                   + (f"; it is published at {links[0]}." if links else "."))
            infos.append(ExtractedLicensingInfo(ref, text, name, links, comment="Named by openness's licence knowledge "
                                                "base" if licence else "As the card names it"))
        return infos

    def _declared(self, tag: str | None):
        if not tag:
            return SpdxNoAssertion()
        licence = lookup(tag)
        if licence is None or licence.id in ("other", "unknown"):
            name = self.bom.licence_name if licence is not None and licence.id == "other" and self.bom.licence_name else tag
            return self._parse(self._ref(f"LicenseRef-openness-card-{_slug(name)}", name, None))
        return self._parse(self._symbol(licence))

    def _expression(self, ids: list[str]):
        symbols = [self._symbol(knowledge()[i]) for i in ids if i in knowledge() and i not in ("other", "unknown")]
        return self._parse(" AND ".join(dict.fromkeys(symbols))) if symbols else SpdxNoAssertion()

    def _symbol(self, licence) -> str:
        spdx_id = licence.spdx_id
        if spdx_id.startswith("LicenseRef-") or spdx_licensing.validate(spdx_id).errors:
            ref = spdx_id if spdx_id.startswith("LicenseRef-") else f"LicenseRef-openness-{_slug(licence.id)}"
            return self._ref(ref, licence.name, licence.id)
        return spdx_id

    def _ref(self, ref: str, name: str, licence_id: str | None) -> str:
        self.refs.setdefault(ref, (name, licence_id))
        self.used.add(ref)
        return ref

    def _parse(self, expression: str):
        return spdx_licensing.parse(expression)

    def _id(self, kind: str, name: str) -> str:
        base = f"SPDXRef-{kind}-{_slug(name)}"
        taken = {p.spdx_id for p in self.packages}
        spdx_id, n = base, 1
        while spdx_id in taken:
            n += 1
            spdx_id = f"{base}-{n}"
        return spdx_id


def _annotations(explained: dict | None, spdx_id: str, tool: Actor, created: datetime) -> list[Annotation]:
    """The twelve cells, one annotation each, and the verdicts: what a reader of the BOM needs to see."""
    if not explained:
        return [Annotation(spdx_id, AnnotationType.OTHER, tool, created, "openness: not classified yet")]
    notes = []
    for key, cell in explained["components"].items():
        licences = ", ".join(dict.fromkeys(f"{l['id']} ({l['points']}/5)" for l in cell["licenses"] if l.get("id"))) or "none"
        evidence = cell["evidence"][0] if cell["evidence"] else {}
        where = evidence.get("url") or evidence.get("path") or ""
        inherited = f", inherited from {cell['inherited_from']}" if cell.get("inherited_from") else ""
        notes.append(f"openness {key}: {cell['label']} ({cell['reason']}{inherited}); licences: {licences}"
                     + (f"; evidence: {where}" if where else ""))
    summary = explained["summary"]
    notes.append(f"openness summary (rules v{explained['rules_version']}): {summary['fully_open']} fully open, "
                 f"{summary['semi_open']} semi-open, {summary['closed']} closed, {summary['unknown']} unknown, "
                 f"{summary['not_applicable']} not applicable; family {summary['family']}; MOF class "
                 f"{summary['mof_class'] or 'none'}; OSAID {summary['osaid']}")
    return [Annotation(spdx_id, AnnotationType.REVIEW, tool, created, note) for note in notes]


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9.]+", "-", text).strip("-") or "x"
