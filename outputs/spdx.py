"""SPDX 2.3 documents of audited models (an AI bill of materials), built and validated with
spdx-tools: a package for the model (its card's licence declared, the licence the audit concluded
for its weights), one per weight file (LFS sha256), per linked dataset and code repository and per
base model up the chain, with their licences; relationships between them; the twelve openness cells
as annotations. AI licences without an SPDX id are LicenseRef-openness-<id>, with the licence file's
text where the audit stored one, else its name and where it is published."""
from __future__ import annotations

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

from openness.outputs.bom import ModelBom, Part, gather
from openness.outputs.errors import InvalidSpdx, NothingToReport
from openness.outputs.spdx_common import (DOCUMENT_COMMENT, VARIANT_RELATIONS, LicenceNames, UniqueIds, annotation_notes,
                                   concluded, document_namespace, model_purl, part_comment, part_purl, slug)

FORMATS = {"json": ".spdx.json", "tag-value": ".spdx", "yaml": ".spdx.yaml", "xml": ".spdx.xml", "rdf": ".spdx.rdf.xml",
           "spdx3": ".spdx3.json"}  # spdx3: SPDX 3.0.1 JSON-LD (outputs/spdx3.py); the rest SPDX 2.3
RELATION_TO = {"dataset": RelationshipType.GENERATED_FROM, "code": RelationshipType.DEPENDS_ON}


@dataclass
class SpdxResult:
    files: dict[str, str] = field(default_factory=dict)   # model id -> written file
    packages: int = 0


def export_spdx(warehouse_path, out_dir, model_ids: list[str] | None = None, fmt: str = "json",
                endpoint: str = "https://huggingface.co", progress=None) -> SpdxResult:
    """One validated SPDX document per model (default: every classified model); progress(models
    written, models) as it goes."""
    models = model_ids or _classified(warehouse_path)
    if not models:  # an empty folder and exit 0 would read as "done"
        raise NothingToReport(f"no model in {warehouse_path} is classified yet: run `openness classify` first")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    write = _write_spdx3 if fmt == "spdx3" else _write_spdx2
    result = SpdxResult()
    for model_id in models:
        path = out / (model_id.replace("/", "__") + FORMATS[fmt])
        result.packages += write(gather(warehouse_path, model_id, endpoint), path)
        result.files[model_id] = str(path)
        if progress:
            progress(len(result.files), len(models))
    return result


def _write_spdx2(bom: ModelBom, path: Path) -> int:
    document = build_document(bom)
    errors = validate_full_spdx_document(document)
    if errors:
        raise InvalidSpdx(f"{bom.model_id}: " + "; ".join(e.validation_message for e in errors[:5]))
    write_file(document, str(path), validate=False)
    return len(document.packages)


def _write_spdx3(bom: ModelBom, path: Path) -> int:
    from openness.outputs.spdx3 import build_document3, serialize3, validate3, packages3
    objects = build_document3(bom)
    try:
        data = serialize3(objects)  # the bindings refuse a required property left empty
    except ValueError as exc:
        raise InvalidSpdx(f"{bom.model_id}: {exc}") from exc
    errors = validate3(data)
    if errors:
        raise InvalidSpdx(f"{bom.model_id}: " + "; ".join(errors[:5]))
    path.write_bytes(data)
    return len(packages3(objects))


def _classified(warehouse_path) -> list[str]:
    from openness.warehouse.db import connect
    with connect(warehouse_path, read_only=True) as con:
        return [r[0] for r in con.execute("SELECT DISTINCT s.model_id FROM model_summaries s JOIN latest_models m "
                                          "USING (model_id, sha) ORDER BY 1").fetchall()]


def build_document(bom: ModelBom, created: datetime | None = None) -> Document:
    created = created or datetime.now(timezone.utc).replace(microsecond=0, tzinfo=None)
    tool = Actor(ActorType.TOOL, f"openness-{version('openness')}")
    builder = _Builder(bom)
    model = builder.package("Model", bom.model_id, bom.sha, bom.url, bom.declared, concluded(bom.explained),
                            PackagePurpose.OTHER, supplier=bom.author, purl=model_purl(bom.model_id, bom.sha),
                            comment="The model repository at this commit, as openness audited it.",
                            other_name=bom.licence_name)
    relations = [Relationship("SPDXRef-DOCUMENT", RelationshipType.DESCRIBES, model.spdx_id)]
    for weight in bom.weights:
        package = builder.weights(weight, bom, concluded(bom.explained))
        relations.append(Relationship(model.spdx_id, RelationshipType.CONTAINS, package.spdx_id))
    ids = {("base_model", bom.model_id): model.spdx_id}
    for part in bom.parts:
        package = builder.part(part)
        ids[(part.kind, part.id)] = package.spdx_id
        owner = ids.get(("base_model", part.parent), model.spdx_id)
        relations.append(Relationship(owner, _relation(part), package.spdx_id, comment=part.note))
    return Document(
        creation_info=CreationInfo("SPDX-2.3", "SPDXRef-DOCUMENT", f"openness audit of {bom.model_id}",
                                   document_namespace(bom, created), [tool], created, creator_comment=DOCUMENT_COMMENT),
        packages=builder.packages, relationships=relations,
        annotations=_annotations(bom.explained, bom.endpoint, model.spdx_id, tool, created),
        extracted_licensing_info=builder.extracted())


def _relation(part: Part) -> RelationshipType:
    if part.kind == "base_model":
        return RelationshipType.VARIANT_OF if part.note in VARIANT_RELATIONS else RelationshipType.DESCENDANT_OF
    return RELATION_TO[part.kind]


class _Builder:
    """Packages with unique SPDX ids, and the LicenseRefs their expressions use."""

    def __init__(self, bom: ModelBom):
        self.bom = bom
        self.packages: list[Package] = []
        self.names = LicenceNames(bom.licence_texts)
        self.ids = UniqueIds()

    def package(self, kind: str, name: str, version: str | None, url: str, declared: str | None,
                concluded_ids: list[str], purpose: PackagePurpose, supplier: str | None = None,
                purl: str | None = None, comment: str | None = None, checksums=None, file_name=None,
                other_name: str | None = None) -> Package:
        package = Package(self._id(kind, name), name, url if url else SpdxNoAssertion(), version=version,
                          supplier=Actor(ActorType.ORGANIZATION, supplier) if supplier else SpdxNoAssertion(),
                          files_analyzed=False, checksums=checksums or [], file_name=file_name,
                          license_declared=_parsed(self.names.declared(declared, other_name)),
                          license_concluded=_parsed(self.names.concluded(concluded_ids)),
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
        return self.package(kind, part.id, part.version, part.url if part.resolved else "", part.declared,
                            part.licence_ids, purpose, purl=part_purl(part), comment=part_comment(part))

    def extracted(self) -> list[ExtractedLicensingInfo]:
        return [ExtractedLicensingInfo(c.ref, c.text, c.name, list(c.links), comment=c.comment)
                for c in self.names.custom()]

    def _id(self, kind: str, name: str) -> str:
        return self.ids(f"SPDXRef-{kind}-{slug(name)}")


def _parsed(expression: str | None):
    return spdx_licensing.parse(expression) if expression else SpdxNoAssertion()


def _annotations(explained: dict | None, hub: str, spdx_id: str, tool: Actor, created: datetime) -> list[Annotation]:
    kind = AnnotationType.REVIEW if explained else AnnotationType.OTHER
    return [Annotation(spdx_id, kind, tool, created, note) for note in annotation_notes(explained, hub)]
