"""SPDX 2.3 export (issue 7): every real-sample model exports to a document that spdx-tools
validates with no errors, whose licences agree with `openness explain`, and that parses back to the
same packages, licences and relationships, in JSON and tag-value."""
from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from spdx_tools.spdx.parser.parse_anything import parse_file
from spdx_tools.spdx.validation.document_validator import validate_full_spdx_document

from openness.cli.main import cli
from openness.cli.query import SPDX_FORMATS
from conftest import world_endpoints
from openness.pipeline.runner import CrawlConfig, run_crawl
from openness.extractors.knowledge import knowledge
from openness.classification.scale.classify import classify_warehouse, explain
from openness.outputs.bom import gather
from openness.outputs.spdx import FORMATS, build_document, export_spdx


def spdx_symbols(expression) -> set[str]:
    return {str(s) for s in expression.symbols} if hasattr(expression, "symbols") else set()


def expected_symbols(ids) -> set[str]:
    """Knowledge-base ids as the export writes them: an SPDX id, else LicenseRef-openness-<id>."""
    out = set()
    for licence_id in ids:
        spdx_id = knowledge()[licence_id].spdx_id
        out.add(spdx_id if spdx_id not in ("NOASSERTION", "OpenMDW-1.0") else f"LicenseRef-openness-{licence_id}")
    return out


def summary(document) -> dict:
    return {"packages": sorted((p.spdx_id, p.name, p.version or "", str(p.license_declared), str(p.license_concluded),
                                tuple(sorted((c.algorithm.name, c.value) for c in p.checksums))) for p in document.packages),
            "relationships": sorted((r.spdx_element_id, r.relationship_type.name, str(r.related_spdx_element_id))
                                    for r in document.relationships),
            "licence_refs": sorted(e.license_id for e in document.extracted_licensing_info),
            "annotations": sorted(a.annotation_comment for a in document.annotations)}


def test_every_real_sample_model_exports_a_valid_document_that_agrees_with_explain(audited, tmp_path):
    result = export_spdx(audited, tmp_path / "json")
    assert len(result.files) == 6
    for model_id, path in result.files.items():
        document = parse_file(path)
        assert validate_full_spdx_document(document) == [], model_id
        model = next(p for p in document.packages if p.spdx_id.startswith("SPDXRef-Model-"))
        assert model.name == model_id
        explained = explain(audited, model_id)
        weights = explained["components"]["deployment.data.weights"]
        concluded = expected_symbols({l["id"] for l in weights["licenses"] if l.get("id")} - {"other", "unknown"})
        assert spdx_symbols(model.license_concluded) == concluded, model_id
        cells = [a.annotation_comment for a in document.annotations if a.spdx_id == model.spdx_id]
        assert len(cells) == 13  # twelve cells and the summary
        for key, cell in explained["components"].items():
            assert any(c.startswith(f"openness {key}: {cell['label']} ({cell['reason']}") for c in cells), (model_id, key)
        refs = {e.license_id for e in document.extracted_licensing_info}
        used = set().union(*(spdx_symbols(p.license_declared) | spdx_symbols(p.license_concluded) for p in document.packages))
        assert {s for s in used if s.startswith("LicenseRef-")} == refs  # every LicenseRef explained, none extra
        assert all(e.extracted_text for e in document.extracted_licensing_info)


def test_weights_datasets_code_and_bases_are_packages_with_relationships(audited, tmp_path):
    files = export_spdx(audited, tmp_path / "json").files
    documents = {model_id: parse_file(path) for model_id, path in files.items()}
    kinds = {p.spdx_id.split("-")[1] for d in documents.values() for p in d.packages}
    assert {"Model", "Weights", "Dataset", "Code", "BaseModel"} <= kinds
    for document in documents.values():
        ids = {p.spdx_id: p for p in document.packages}
        for relation in document.relationships:
            assert relation.spdx_element_id in ids or relation.spdx_element_id == "SPDXRef-DOCUMENT"
            assert str(relation.related_spdx_element_id) in ids
        for package in ids.values():
            if package.spdx_id.startswith("SPDXRef-Weights-"):
                assert [c.algorithm.name for c in package.checksums] in ([], ["SHA256"])
    relations = {r.relationship_type.name for d in documents.values() for r in d.relationships}
    assert {"DESCRIBES", "CONTAINS", "GENERATED_FROM", "DEPENDS_ON"} <= relations
    assert relations & {"DESCENDANT_OF", "VARIANT_OF"}


def test_weight_files_carry_their_lfs_sha256_and_a_quantization_is_a_variant(sample_world, emulator, warehouse, tmp_path):
    run_crawl(CrawlConfig(warehouse=warehouse, use_token=False, authors=["kestrel-ml", "aurora-labs"],
                          settings={"WEB_DELAY": 0.0}, **world_endpoints(emulator(sample_world))))
    classify_warehouse(warehouse)
    model = "kestrel-ml/aurora-7b-GGUF"
    document = parse_file(export_spdx(warehouse, tmp_path, [model]).files[model])
    info = json.loads((sample_world / "models" / model / "info.json").read_text("utf-8"))
    lfs = {s["rfilename"]: s["lfs"]["sha256"] for s in info["siblings"] if s.get("lfs")}
    weights = {p.file_name: [c.value for c in p.checksums] for p in document.packages if p.spdx_id.startswith("SPDXRef-Weights-")}
    assert weights and weights == {path: [sha] for path, sha in lfs.items() if path in weights}
    relation = next(r for r in document.relationships if str(r.related_spdx_element_id).startswith("SPDXRef-BaseModel-"))
    assert relation.relationship_type.name == "VARIANT_OF" and relation.comment == "quantized"


@pytest.mark.parametrize("fmt", ["json", "tag-value", "yaml"])
def test_documents_round_trip_through_spdx_tools(audited, tmp_path, fmt):
    written = export_spdx(audited, tmp_path / fmt, fmt=fmt).files
    for model_id, path in written.items():
        built = build_document(gather(audited, model_id))  # what was meant, before any serialisation
        assert summary(parse_file(path)) == summary(built), model_id


def test_export_spdx_command(audited, tmp_path):
    assert set(SPDX_FORMATS) == set(FORMATS)
    runner = CliRunner()
    model = "allenai/OLMo-7B"
    out = runner.invoke(cli, ["--warehouse", audited, "export", "--spdx", str(tmp_path / "s"), "--model", model,
                              "--format", "tag-value"])
    assert out.exit_code == 0, out.output
    text = (tmp_path / "s" / "allenai__OLMo-7B.spdx").read_text("utf-8")
    assert "SPDXVersion: SPDX-2.3" in text and f"PackageName: {model}" in text
    both = runner.invoke(cli, ["--warehouse", audited, "export", "--spdx", "a", "--out", "b"])
    assert both.exit_code == 2 and "give --out DIR" in both.output
    missing = runner.invoke(cli, ["--warehouse", audited, "export", "--spdx", str(tmp_path / "m"), "--model", "no/such"])
    assert missing.exit_code == 1 and "not in the warehouse" in missing.output
