"""The Model Openness Framework class and the OSI Open Source AI Definition verdict of one model,
from its cells and a few artefacts its findings show (rules.yml, `frameworks`). Pure."""
from __future__ import annotations

from openness.classification.taxonomy.engine import NOT_APPLICABLE, Cell, Dossier

MOF_CLASSES = ("III", "II", "I")


def artefacts(dossier: Dossier) -> set[str]:
    signals = {f["signal"] for f in dossier.findings}
    disclosure = [f["value"].get("status") for f in dossier.of("data.disclosure")]
    found = set()
    if dossier.has_card:
        found.add("model_card")
    if {"data.section", "data.card_datasets", "data.corpus"} & signals:
        found.add("data_card")
    if "paper.arxiv" in signals:
        found.add("paper")
    if {"eval.model_index", "eval.benchmark"} & signals:
        found.add("evaluation_results")
    if "named" in disclosure or ("data.card_datasets" in signals and "withheld" not in disclosure):
        found.add("data_information")  # the data is named, corpus by corpus or dataset by dataset
    return found


def verdicts(cells: dict[str, Cell], dossier: Dossier, frameworks: dict) -> dict:
    present = artefacts(dossier)

    def met(piece: str) -> bool:
        if piece.startswith("artefact."):
            return piece.split(".", 1)[1] in present
        cell = cells[piece]
        return cell.level == 5 or cell.label == NOT_APPLICABLE

    mof_class, mof_missing = None, []
    for name in MOF_CLASSES:
        missing = [piece for piece in frameworks["mof"][name] if not met(piece)]
        if missing:
            mof_missing = missing
            break
        mof_class = name
    osaid_missing = [piece for pieces in frameworks["osaid"].values() for piece in pieces if not met(piece)]
    return {"mof_class": mof_class, "mof_missing": mof_missing,
            "osaid": "not_open_source_ai" if osaid_missing else "open_source_ai", "osaid_missing": osaid_missing}
