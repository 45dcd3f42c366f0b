"""SPDX 3.0.1 export (issue 7): every real-sample model exports to JSON-LD that SPDX's 3.0.1 bindings
read back without an error and that our document checks pass; the AI and Dataset profiles' classes
are used; licences agree with `openness explain` and with the SPDX 2.3 document of the same model;
the written document reads back to the same packages, licences and relationships."""
from __future__ import annotations

import json

from click.testing import CliRunner

from openness.cli.main import cli
from test_spdx import expected_symbols
from openness.outputs.bom import gather
from openness.classification.scale.classify import explain
from openness.outputs.spdx import _classified as classified, build_document, export_spdx
from openness.outputs.spdx3 import LICENSE_REF, build_document3, iri_of, read3, serialize3, spdx3, validate3

# SPDX 2.3 relationship -> (3.0.1 relationship, whether 3.0.1 states it from the other end)
RELATION_23_TO_3 = {"CONTAINS": ("contains", False), "GENERATED_FROM": ("trainedOn", False),
                    "DEPENDS_ON": ("dependsOn", False), "DESCENDANT_OF": ("descendantOf", False),
                    "VARIANT_OF": ("hasVariant", True)}


def licence_of(objects, element, kind: str) -> str:
    """The expression a package's hasDeclaredLicense / hasConcludedLicense relationship points to."""
    for relation in objects.foreach_type(spdx3.Relationship):
        if relation.from_ is element or relation.from_ == element._id:
            if relation.relationshipType.endswith(f"/{kind}"):
                target = relation.to[0]
                return "NOASSERTION" if isinstance(target, str) else target.simplelicensing_licenseExpression
    return "NOASSERTION"


def summary3(objects) -> dict:
    packages = sorted(objects.foreach_type(spdx3.software_Package), key=lambda p: p._id)
    files = sorted(objects.foreach_type(spdx3.software_File), key=lambda f: f._id)
    name = {o._id: o.name for o in objects.foreach_type(spdx3.Element) if o.name}
    return {
        "packages": [(type(p).__name__, p.name, p.software_packageVersion or "", licence_of(objects, p, "hasDeclaredLicense"),
                      licence_of(objects, p, "hasConcludedLicense")) for p in packages],
        "files": [(f.name, tuple(h.hashValue for h in f.verifiedUsing)) for f in files],
        "relationships": sorted((name.get(iri_of(r.from_)), r.relationshipType.rsplit("/", 1)[1], name.get(iri_of(r.to[0])))
                                for r in objects.foreach_type(spdx3.Relationship)
                                if not r.relationshipType.endswith("License")),
        "custom_licences": sorted((c.name, c.simplelicensing_licenseText) for c in
                                  objects.foreach_type(spdx3.expandedlicensing_CustomLicense)),
        "annotations": sorted(a.statement for a in objects.foreach_type(spdx3.Annotation)),
    }


def test_every_real_sample_model_exports_valid_spdx3_that_agrees_with_explain(audited, tmp_path):
    result = export_spdx(audited, tmp_path, fmt="spdx3")
    assert len(result.files) == 6
    for model_id, path in result.files.items():
        data = open(path, "rb").read()
        assert validate3(data) == [], model_id
        assert json.loads(data)["@context"] == "https://spdx.org/rdf/3.0.1/spdx-context.jsonld"
        objects = read3(data)
        document = next(objects.foreach_type(spdx3.SpdxDocument))
        model = document.rootElement[0]
        assert isinstance(model, spdx3.ai_AIPackage) and model.name == model_id
        assert model.software_primaryPurpose.endswith("/model")
        explained = explain(audited, model_id)
        weights = explained["components"]["deployment.data.weights"]
        concluded = expected_symbols({l["id"] for l in weights["licenses"] if l.get("id")} - {"other", "unknown"})
        expression = licence_of(objects, model, "hasConcludedLicense")
        assert (set(expression.split(" AND ")) if expression != "NOASSERTION" else set()) == concluded, model_id
        cells = [a.statement for a in objects.foreach_type(spdx3.Annotation) if iri_of(a.subject) == model._id]
        assert len(cells) == 13  # twelve cells and the summary
        for key, cell in explained["components"].items():
            assert any(c.startswith(f"openness {key}: {cell['label']} ({cell['reason']}") for c in cells), (model_id, key)
        customs = {c.name: c for c in objects.foreach_type(spdx3.expandedlicensing_CustomLicense)}
        assert all(c.simplelicensing_licenseText for c in customs.values())


def test_the_profiles_classes_carry_datasets_code_bases_and_weights(audited, tmp_path):
    files = export_spdx(audited, tmp_path, fmt="spdx3").files
    every = [read3(open(path, "rb").read()) for path in files.values()]
    types = {type(o).__name__ for objects in every for o in objects.foreach()}
    assert {"ai_AIPackage", "dataset_DatasetPackage", "software_Package", "software_File",
            "simplelicensing_LicenseExpression", "expandedlicensing_CustomLicense", "Annotation"} <= types
    kinds = {r.relationshipType.rsplit("/", 1)[1] for objects in every for r in objects.foreach_type(spdx3.Relationship)}
    assert {"contains", "trainedOn", "dependsOn", "hasDeclaredLicense", "hasConcludedLicense"} <= kinds
    assert kinds & {"descendantOf", "hasVariant"}
    for objects in every:
        for dataset in objects.foreach_type(spdx3.dataset_DatasetPackage):
            assert dataset.software_primaryPurpose.endswith("/data") and dataset.dataset_datasetType


def test_spdx3_says_what_the_spdx23_document_says(audited):
    for model_id in classified(audited):
        assert_same_bom(gather(audited, model_id))


def assert_same_bom(bom) -> None:
    two = build_document(bom)
    three = build_document3(bom)
    by_id = {p.spdx_id: p for p in two.packages}
    assert sorted((p.name, p.version or "", str(p.license_declared) if p.license_declared else "NOASSERTION",
                   str(p.license_concluded)) for p in two.packages if p.files_analyzed is False and not p.file_name) == \
        sorted((p[1], p[2], p[3], p[4]) for p in summary3(three)["packages"])
    expected = set()
    for r in two.relationships:
        if r.relationship_type.name == "DESCRIBES":
            continue
        kind, reverse = RELATION_23_TO_3[r.relationship_type.name]
        source, target = by_id[r.spdx_element_id].name, by_id[str(r.related_spdx_element_id)].name
        expected.add((target, kind, source) if reverse else (source, kind, target))
    assert set(summary3(three)["relationships"]) == expected
    assert {e.license_id for e in two.extracted_licensing_info} == {
        ref for objects in [three] for e in objects.foreach_type(spdx3.simplelicensing_LicenseExpression)
        for ref in LICENSE_REF.findall(e.simplelicensing_licenseExpression)}


def test_spdx3_documents_round_trip(audited, tmp_path):
    written = export_spdx(audited, tmp_path, fmt="spdx3").files
    for model_id, path in written.items():
        built = build_document3(gather(audited, model_id))
        assert summary3(read3(open(path, "rb").read())) == summary3(built), model_id


def test_the_checks_find_what_is_wrong(audited):
    def first(kind, key):
        return next((d, o) for d in documents for o in d["@graph"] if o["type"] == kind and o.get(key))

    def errors_of(data) -> list[str]:
        return validate3(json.dumps(data).encode())

    documents = [json.loads(serialize3(build_document3(gather(audited, m)))) for m in classified(audited)]
    assert all(errors_of(d) == [] for d in documents)

    data, expression = first("simplelicensing_LicenseExpression", "simplelicensing_customIdToUri")
    expression["simplelicensing_customIdToUri"] = []
    assert any("has no CustomLicense" in e for e in errors_of(data))
    expression["simplelicensing_licenseExpression"] = "Apache-2.0 AND AND"
    assert any("is not a licence expression" in e for e in errors_of(data))

    data, dataset = first("dataset_DatasetPackage", "dataset_datasetType")
    document = next(o for o in data["@graph"] if o["type"] == "SpdxDocument")
    document["element"].remove(dataset["spdxId"])
    assert any(dataset["spdxId"] in e and "not listed" in e for e in errors_of(data))
    relation = next(o for o in data["@graph"] if o["type"] == "Relationship")
    relation["to"] = ["https://spdx.openness.invalid/nowhere"]
    assert any("nowhere" in e and "does not hold" in e for e in errors_of(data))
    declared = next(o for o in data["@graph"] if o["type"] == "Relationship" and o["relationshipType"] == "hasDeclaredLicense"
                    and o["from"] == dataset["spdxId"])
    data["@graph"].remove(declared)  # the Dataset profile wants exactly one declared licence per package
    assert any(dataset["spdxId"] in e and "0 hasDeclaredLicense" in e for e in errors_of(data))
    dataset["dataset_datasetType"] = ["notAType"]  # the bindings check every value against the model
    assert any("does not read back" in e for e in errors_of(data))


def test_export_spdx3_command(audited, tmp_path):
    out = CliRunner().invoke(cli, ["--warehouse", audited, "export", "--spdx", str(tmp_path), "--model",
                                   "allenai/OLMo-7B", "--format", "spdx3"])
    assert out.exit_code == 0, out.output
    data = json.loads((tmp_path / "allenai__OLMo-7B.spdx3.json").read_text("utf-8"))
    assert any(o["type"] == "ai_AIPackage" and o["name"] == "allenai/OLMo-7B" for o in data["@graph"])
