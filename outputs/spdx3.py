"""SPDX 3.0.1 documents (JSON-LD) of audited models, with the AI and Dataset profiles, built with
spdx-python-model (SPDX's own bindings, generated from the 3.0.1 model's SHACL shapes).

The same bill of materials as the SPDX 2.3 writer (outputs/spdx.py), in 3.0.1's terms: the model
and each base model an `ai_AIPackage`, each linked dataset a `dataset_DatasetPackage` the model is
`trainedOn`, each code repository a `software_Package` it `dependsOn`, each weight file a
`software_File` it `contains` (sha256 from the LFS pointer). A model `descendantOf` its base, or is
one of the base's variants (`hasVariant`) when it is a quantization. Licences are
`simplelicensing_LicenseExpression`s joined to packages by `hasDeclaredLicense` and
`hasConcludedLicense`; a LicenseRef maps to a `expandedlicensing_CustomLicense` holding its text.
The twelve openness cells are `review` annotations on the model.
"""
from __future__ import annotations

import io
import json
import re
from datetime import datetime, timezone
from importlib.metadata import version

from spdx_python_model import v3_0_1 as spdx3

from openness.outputs.bom import ModelBom, Part
from openness.outputs.spdx_common import (DOCUMENT_COMMENT, VARIANT_RELATIONS, LicenceNames, UniqueIds, annotation_notes,
                                   concluded, document_namespace, model_purl, part_comment, part_purl, slug)

NO_ASSERTION_LICENSE = "https://spdx.org/rdf/3.0.1/terms/ExpandedLicensing/NoAssertionLicense"
LICENSE_REF = re.compile(r"LicenseRef-[A-Za-z0-9.-]+")
PROFILES = ("core", "software", "ai", "dataset", "simpleLicensing", "expandedLicensing")


def build_document3(bom: ModelBom, created: datetime | None = None) -> spdx3.SHACLObjectSet:
    """The document's objects: `serialize3` writes them, `validate3` checks what it wrote."""
    created = created or datetime.now(timezone.utc).replace(microsecond=0)
    builder = _Builder3(bom, created)
    model = builder.ai_package(bom.model_id, bom.sha, bom.url, bom.author, model_purl(bom.model_id, bom.sha),
                               "The model repository at this commit, as openness audited it.")
    builder.licences(model, bom.declared, concluded(bom.explained), other_name=bom.licence_name)
    for weight in bom.weights:
        builder.relate(model, "contains", builder.weights(weight, bom))
    owners = {bom.model_id: model}  # base models by id: an ancestor's own base relates to it
    for part in bom.parts:
        element = builder.part(part)
        owner = owners.get(part.parent, model)
        if part.kind == "base_model":
            owners.setdefault(part.id, element)
        if part.kind == "base_model" and part.note in VARIANT_RELATIONS:
            builder.relate(element, "hasVariant", owner, part.note)
        else:
            builder.relate(owner, {"dataset": "trainedOn", "code": "dependsOn"}.get(part.kind, "descendantOf"),
                           element, part.note)
    for note in annotation_notes(bom.explained, bom.endpoint):
        builder.add(spdx3.Annotation(spdxId=builder.numbered("Annotation"), creationInfo=builder.info, subject=model,
                                     annotationType=spdx3.AnnotationType.review, statement=note))
    return builder.document(model)


class _Builder3:
    def __init__(self, bom: ModelBom, created: datetime):
        self.bom = bom
        self.namespace = document_namespace(bom, created) + "/"
        self.objects = spdx3.SHACLObjectSet()
        self.ids = UniqueIds()
        self.serials: dict[str, int] = {}
        self.info = spdx3.CreationInfo(specVersion="3.0.1", created=created, comment=DOCUMENT_COMMENT)
        agent = self.add(spdx3.SoftwareAgent(spdxId=self.iri("Agent-openness"), name="openness", creationInfo=self.info))
        tool = self.add(spdx3.Tool(spdxId=self.iri("Tool-openness"), name=f"openness-{version('openness')}",
                                   creationInfo=self.info))
        self.info.createdBy = [agent]
        self.info.createdUsing = [tool]
        self.names = LicenceNames(bom.licence_texts)
        self.expressions: dict[str, spdx3.simplelicensing_LicenseExpression] = {}
        self.suppliers: dict[str, spdx3.Organization] = {}

    def iri(self, kind: str, name: str = "") -> str:
        return self.ids(self.namespace + (f"{kind}-{slug(name)}" if name else kind))

    def numbered(self, kind: str) -> str:
        """Relationships and annotations have no name: they are numbered, in the order written."""
        self.serials[kind] = self.serials.get(kind, 0) + 1
        return self.iri(kind, f"{self.serials[kind]:04d}")

    def add(self, element):
        self.objects.add(element)
        return element

    def ai_package(self, name: str, sha: str | None, url: str | None, author: str | None, purl: str | None,
                   comment: str | None) -> spdx3.ai_AIPackage:
        package = self.add(spdx3.ai_AIPackage(spdxId=self.iri("Model", name), name=name, creationInfo=self.info,
                                              software_primaryPurpose=spdx3.software_SoftwarePurpose.model))
        self._package_fields(package, sha, url, purl, comment)
        if author:
            package.suppliedBy = self._supplier(author)
        return package

    def weights(self, weight: dict, bom: ModelBom) -> spdx3.software_File:
        size = f"{weight['size']} bytes" if weight.get("size") else "size unknown"
        file = self.add(spdx3.software_File(
            spdxId=self.iri("Weights", weight["path"]), name=weight["path"], creationInfo=self.info,
            software_primaryPurpose=spdx3.software_SoftwarePurpose.model,
            comment=f"A weight file of {bom.model_id} ({size}; sha256 from its LFS pointer), at "
                    f"{bom.url}/resolve/{bom.sha}/{weight['path']}."))
        if weight.get("lfs_sha256"):
            file.verifiedUsing = [spdx3.Hash(algorithm=spdx3.HashAlgorithm.sha256, hashValue=weight["lfs_sha256"])]
        self.licences(file, None, concluded(bom.explained), package=False)
        return file

    def part(self, part: Part):
        comment = part_comment(part)
        url = part.url if part.resolved else None
        if part.kind == "base_model":
            element = self.ai_package(part.id, part.version, url, None, part_purl(part), comment)
        elif part.kind == "dataset":
            element = self.add(spdx3.dataset_DatasetPackage(
                spdxId=self.iri("Dataset", part.id), name=part.id, creationInfo=self.info,
                software_primaryPurpose=spdx3.software_SoftwarePurpose.data,
                dataset_datasetType=[spdx3.dataset_DatasetType.noAssertion]))
            self._package_fields(element, part.version, url, None, comment)
        else:
            element = self.add(spdx3.software_Package(
                spdxId=self.iri("Code", part.id), name=part.id, creationInfo=self.info,
                software_primaryPurpose=spdx3.software_SoftwarePurpose.source))
            self._package_fields(element, part.version, url, part_purl(part), comment)
        self.licences(element, part.declared, part.licence_ids)
        return element

    def licences(self, element, declared: str | None, concluded_ids: list[str], other_name: str | None = None,
                 package: bool = True) -> None:
        """Exactly one concluded licence per artifact, and one declared per package, NoAssertion when
        none is known: the AI, Dataset and licensing profiles' conformance rules."""
        if package:
            self.relate(element, "hasDeclaredLicense", self._expression(self.names.declared(declared, other_name)))
        self.relate(element, "hasConcludedLicense", self._expression(self.names.concluded(concluded_ids)))

    def relate(self, source, kind: str, target, comment: str | None = None) -> None:
        relation = spdx3.Relationship(spdxId=self.numbered("Relationship"), creationInfo=self.info, from_=source,
                                      to=[target], relationshipType=getattr(spdx3.RelationshipType, kind))
        self.add(_assign(relation, comment=comment))

    def document(self, model) -> spdx3.SHACLObjectSet:
        for custom in self.names.custom():
            self.add(spdx3.expandedlicensing_CustomLicense(
                spdxId=self._custom_iri(custom.ref), name=custom.name, creationInfo=self.info,
                simplelicensing_licenseText=custom.text, expandedlicensing_seeAlso=list(custom.links),
                comment=custom.comment))
        document = spdx3.SpdxDocument(spdxId=self.iri("Document"), name=f"openness audit of {self.bom.model_id}",
                                      creationInfo=self.info, rootElement=[model],
                                      dataLicense=self._expression("CC0-1.0"),
                                      profileConformance=[getattr(spdx3.ProfileIdentifierType, p) for p in PROFILES])
        document.element = sorted((o for o in self.objects.objects if isinstance(o, spdx3.Element)),
                                  key=lambda o: o._id)
        self.add(document)
        return self.objects

    def _package_fields(self, package, sha, url, purl, comment) -> None:
        _assign(package, software_packageVersion=sha, software_downloadLocation=url, software_packageUrl=purl,
                comment=comment)

    def _supplier(self, author: str) -> spdx3.Organization:
        if author not in self.suppliers:
            self.suppliers[author] = self.add(spdx3.Organization(spdxId=self.iri("Supplier", author), name=author,
                                                                 creationInfo=self.info))
        return self.suppliers[author]

    def _expression(self, expression: str | None):
        """One LicenseExpression element per distinct expression; none: the NoAssertionLicense individual."""
        if expression is None:
            return NO_ASSERTION_LICENSE
        if expression not in self.expressions:
            refs = sorted(set(LICENSE_REF.findall(expression)))
            self.expressions[expression] = self.add(spdx3.simplelicensing_LicenseExpression(
                spdxId=self.iri("License", expression), creationInfo=self.info,
                simplelicensing_licenseExpression=expression,
                simplelicensing_customIdToUri=[spdx3.DictionaryEntry(key=ref, value=self._custom_iri(ref)) for ref in refs]))
        return self.expressions[expression]

    def _custom_iri(self, ref: str) -> str:
        return self.namespace + ref  # the same IRI from every expression that names it: not from iri()


def _assign(element, **values):
    """Set the values given: the bindings refuse None for a property that is simply absent."""
    for name, value in values.items():
        if value is not None:
            setattr(element, name, value)
    return element


def serialize3(objects: spdx3.SHACLObjectSet) -> bytes:
    """JSON-LD, with the graph in a stable order (the library writes it in set order)."""
    buffer = io.BytesIO()
    spdx3.JSONLDSerializer().write(objects, buffer)
    data = json.loads(buffer.getvalue())
    data["@graph"].sort(key=lambda o: (o.get("spdxId") or o.get("@id") or "", o.get("type", "")))
    return json.dumps(data, indent=2, ensure_ascii=False).encode("utf-8")


def read3(data: bytes) -> spdx3.SHACLObjectSet:
    objects = spdx3.SHACLObjectSet()
    spdx3.JSONLDDeserializer().read(io.BytesIO(data), objects)
    return objects


def packages3(objects: spdx3.SHACLObjectSet) -> list:
    return sorted(objects.foreach_type(spdx3.software_Package), key=lambda o: o._id)


def validate3(data: bytes) -> list[str]:
    """What is wrong with a written document, read back with the same bindings: every type, value
    pattern and cardinality of the 3.0.1 model is checked as it is read; then that every element
    referred to is in the document (or is one of SPDX's named individuals), that the document lists
    each element, and that each licence expression is valid SPDX with its LicenseRefs resolved."""
    try:
        objects = read3(data)
    except (ValueError, TypeError, KeyError) as exc:
        return [f"does not read back as SPDX 3.0.1: {exc}"]
    errors = [f"refers to {iri}, which the document does not hold" for iri in sorted(objects.link())]
    documents = list(objects.foreach_type(spdx3.SpdxDocument))
    if len(documents) != 1:
        return errors + [f"{len(documents)} SpdxDocument elements, not one"]
    document = documents[0]
    listed = {iri_of(e) for e in document.element}
    elements = {o._id for o in objects.foreach_type(spdx3.Element) if o is not document}
    errors += [f"{iri} is not listed in the document's elements" for iri in sorted(elements - listed)]
    if not document.rootElement:
        errors.append("the document has no root element")
    customs = {o._id for o in objects.foreach_type(spdx3.expandedlicensing_CustomLicense)}
    for expression in objects.foreach_type(spdx3.simplelicensing_LicenseExpression):
        errors += _expression_errors(expression, customs)
    return errors + _conformance_errors(objects)


# Profile conformance (SPDX 3.0.1): each software artifact has exactly one concluded licence; each
# AI and dataset package also exactly one declared licence.
LICENCE_RULES = (("hasConcludedLicense", "software_SoftwareArtifact"), ("hasDeclaredLicense", "ai_AIPackage"),
                 ("hasDeclaredLicense", "dataset_DatasetPackage"))
LICENCE_INDIVIDUALS = {NO_ASSERTION_LICENSE, "https://spdx.org/rdf/3.0.1/terms/ExpandedLicensing/NoneLicense"}


def _conformance_errors(objects) -> list[str]:
    errors, seen = [], {}
    for relation in objects.foreach_type(spdx3.Relationship):
        kind = relation.relationshipType.rsplit("/", 1)[1]
        if kind not in ("hasConcludedLicense", "hasDeclaredLicense"):
            continue
        seen.setdefault((kind, iri_of(relation.from_)), []).append(relation)
        for target in relation.to:
            if not (isinstance(target, spdx3.simplelicensing_AnyLicenseInfo) or iri_of(target) in LICENCE_INDIVIDUALS):
                errors.append(f"{relation._id}: {kind} to {iri_of(target)}, not a licence")
    for kind, cls in LICENCE_RULES:
        for element in objects.foreach_type(getattr(spdx3, cls)):
            found = len(seen.get((kind, element._id), []))
            if found != 1:
                errors.append(f"{element._id}: {found} {kind} relationships, not exactly one")
    return errors


def _expression_errors(expression, customs: set[str]) -> list[str]:
    from license_expression import ExpressionError
    from spdx_tools.common.spdx_licensing import spdx_licensing
    text = expression.simplelicensing_licenseExpression
    try:
        parsed = spdx_licensing.parse(text, validate=False)
    except ExpressionError as exc:
        return [f"{text!r} is not a licence expression: {exc}"]
    errors = [f"{text!r}: {key} is neither an SPDX licence id nor a LicenseRef"
              for key in spdx_licensing.unknown_license_keys(parsed) if not key.startswith("LicenseRef-")]
    mapped = {entry.key: entry.value for entry in expression.simplelicensing_customIdToUri}
    for ref in LICENSE_REF.findall(text):
        if mapped.get(ref) not in customs:
            errors.append(f"{text!r}: {ref} has no CustomLicense in the document")
    return errors


def iri_of(element) -> str:
    """An element's IRI, whether the bindings hold it as an object or as a bare IRI."""
    return element if isinstance(element, str) else element._id
