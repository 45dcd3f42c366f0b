"""`openness report`: what the warehouse's classifications say, gathered for a static HTML report
(outputs/report_html.py renders it). Read-only. The counts, charts and families cover every
classified model; the matrix shows the most downloaded ones, a page at a time, so a warehouse of
the whole Hub opens as fast as a small one."""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from openness.classification.scale.classify import card_dump_notes
from openness.extractors.locations import evidence_url
from openness.warehouse.db import connect
from openness.outputs.errors import NothingToReport
from openness.outputs.report_html import column_names, page_name, render
from openness.outputs.search_text import format_search

INDEX_FILE = "report-index.js"  # every shown model's page, read by each page's filters and search
MAX_EVIDENCE = 3     # per cell in the report; `openness explain` shows them all
MAX_SNIPPET = 400    # characters of each snippet shown inline
TOP_FAMILIES, MAX_MEMBERS = 50, 50
PUBLIC_HUB = "https://huggingface.co/"

# The taxonomy's figure: stages, each with its parts, each part's code and data side by side.
FIGURE = (
    ("Training", (("Pretraining", ("training.code.pretraining", "code"), ("training.data.pretraining", "data")),
                  ("Fine-tuning", ("training.code.finetuning", "code"), ("training.data.sft", "data")),
                  ("Alignment", ("training.code.alignment", "code"), ("training.data.alignment", "data")))),
    ("Evaluation", (("General", ("evaluation.code.general", "code"), ("evaluation.data.utility", "data")),
                    ("Safety", ("evaluation.code.safety", "code"), ("evaluation.data.safety", "data")))),
    ("Deployment", (("Release", ("deployment.code.inference", "inference code"),
                     ("deployment.data.weights", "weights")),)),
)
COLUMNS = tuple(key for _, parts in FIGURE for _, *columns in parts for key, _ in columns)


@dataclass
class ReportResult:
    out_dir: str
    index: str
    models_shown: int
    models_classified: int
    pages: int = 1
    page_size: int = 100


def write_report(warehouse_path, out_dir, limit: int = 500, page_size: int = 100, progress=None) -> ReportResult:
    """index.html (the counts, charts, families and the matrix's first page) and models-N.html for
    the matrix's other pages: `limit` models (0: all), the most downloaded first, `page_size` a page;
    progress(pages written, pages) as it goes."""
    with connect(warehouse_path, read_only=True) as con:
        data = gather(con, limit)
    if not data["models"]:
        raise NothingToReport("no model is classified yet: run `openness classify` first")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    models = data["models"]
    pages = max(1, -(-len(models) // page_size))
    # one index of every shown model for every page's filters and search (beside the pages: embedded
    # in each, a report of the whole Hub would repeat it a thousand times)
    index = [[m["model_id"], m["author"], m["license"], m["family"], 1 + i // page_size] for i, m in enumerate(models)]
    (out / INDEX_FILE).write_text("window.OPENNESS_INDEX = " + _script_json(index) + ";\n", "utf-8")
    for number in range(1, pages + 1):
        name = page_name(number)
        page = {**data, "models": models[(number - 1) * page_size:number * page_size],
                "page": {"number": number, "pages": pages, "size": page_size, "first": (number - 1) * page_size + 1,
                         "shown": len(models)}}
        (out / name).write_text(render(page), "utf-8")
        if progress:
            progress(number, pages)
    for stale in out.glob("models-*.html"):  # a longer report written here before
        number = stale.stem.removeprefix("models-")
        if number.isdigit() and int(number) > pages:
            stale.unlink()
    return ReportResult(str(out), str(out / "index.html"), len(models), data["totals"]["models"], pages, page_size)


def gather(con, limit: int) -> dict:
    shown = con.execute("""
        SELECT s.model_id, s.sha, s.family, m.author, coalesce(m.license, '(none)'), m.downloads, m.gated,
               s.fully_open, s.semi_open, s.closed, s.unknown, s.not_applicable, s.mof_class, s.osaid
        FROM model_summaries s JOIN latest_models m USING (model_id, sha)
        ORDER BY m.downloads DESC NULLS LAST, s.model_id""" + (" LIMIT ?" if limit else ""),
                       [limit] if limit else []).fetchall()
    keys = ("model_id", "sha", "family", "author", "license", "downloads", "gated", "fully_open", "semi_open",
            "closed", "unknown", "not_applicable", "mof_class", "osaid")
    models = [dict(zip(keys, row)) for row in shown]
    cells = _cells(con, [(m["model_id"], m["sha"]) for m in models])
    for model in models:
        model["cells"] = [cells.get((model["model_id"], model["sha"], key)) for key in COLUMNS]
    return {"components": list(COLUMNS), "component_names": column_names(FIGURE), "figure": FIGURE,
            "models": models, "totals": _totals(con),
            "labels": _label_counts(con), "licences": _licence_counts(con), "families": _families(con)}


def _cells(con, commits: list[tuple[str, str]], evidence: bool = True) -> dict:
    if not commits:
        return {}
    rows = con.execute("""
        SELECT c.model_id, c.sha, c.component, c.label, c.level, c.reason, c.licences, c.points, c.confidence,
               c.inherited_from, """ + ("c.evidence, c.search" if evidence else "NULL, NULL") + """
        FROM classifications c JOIN (SELECT unnest(?::VARCHAR[]) AS model_id, unnest(?::VARCHAR[]) AS sha) w
             USING (model_id, sha)""", [[m for m, _ in commits], [s for _, s in commits]]).fetchall()
    found = {}
    for model_id, sha, component, label, level, reason, licences, points, confidence, inherited, shown, search in rows:
        found[(model_id, sha, component)] = {
            "label": label, "level": level, "reason": reason, "licences": json.loads(licences or "[]"), "points": points,
            "confidence": confidence, "inherited_from": inherited,
            "evidence": [evidence_entry(e) for e in json.loads(shown or "[]")[:MAX_EVIDENCE]],
            # what was looked for where nothing was found (a base model's cell: its own search)
            "search": format_search(json.loads(search)) if search and not inherited else None}
    _note_dump_cards(con, found)
    return found


def _note_dump_cards(con, cells: dict) -> None:
    """Evidence in a card that a crawl read from the Hub's card dump says so (a note beside it)."""
    wanted = {(e["repo"], e["revision"]) for cell in cells.values() for e in cell["evidence"]
              if e.get("path") == "README.md" and e.get("repo") and e.get("revision")}
    notes = card_dump_notes(con, wanted)
    for cell in cells.values():
        for entry in cell["evidence"]:
            note = notes.get((entry.pop("repo", None), entry.pop("revision", None)))
            if note and entry.get("path") == "README.md":
                entry["card"] = note


def evidence_entry(item: dict) -> dict:
    """What the report shows of one piece of evidence: where (path, line), the snippet, and a link
    to that file at that commit and line on the public Hub or GitHub (built from where the evidence
    is, extractors/locations.py, whatever endpoint the crawl read). Evidence stored with only the
    address it was read from links there only when that is the public Hub, GitHub or arXiv; another
    (an emulator, a mirror) is shown as text, since a link to it would break once it is gone."""
    url, line = evidence_url(item) or "", item.get("line_start")
    link = None
    if not item.get("repo") and url.startswith(PUBLIC_HUB) and "/resolve/" in url:
        link = url.replace("/resolve/", "/blob/", 1) + (f"#L{line}" if isinstance(line, int) and line > 0 else "")
    elif url.startswith(("https://github.com/", "https://arxiv.org/", PUBLIC_HUB)):
        link = url
    snippet = item.get("snippet") or ""
    return {"path": item.get("path"), "line": line, "link": link, "read_from": None if link else url,
            "repo": item.get("repo"), "revision": item.get("revision"),  # for _note_dump_cards, then dropped
            "snippet": snippet[:MAX_SNIPPET] + ("…" if len(snippet) > MAX_SNIPPET else "")}


def _script_json(value) -> str:
    """JSON that can sit inside a script: no card text closes the element or opens a comment."""
    return json.dumps(value, default=str, separators=(",", ":")).replace("</", "<\\/").replace("<!--", "<\\!--")


def _totals(con) -> dict:
    row = con.execute("""
        SELECT count(*), count(*) FILTER (WHERE mof_class = 'I'), count(*) FILTER (WHERE mof_class = 'II'),
               count(*) FILTER (WHERE mof_class = 'III'), count(*) FILTER (WHERE mof_class IS NULL),
               count(*) FILTER (WHERE osaid = 'open_source_ai')
        FROM model_summaries s JOIN latest_models m USING (model_id, sha)""").fetchall()[0]
    return dict(zip(("models", "mof_i", "mof_ii", "mof_iii", "mof_none", "open_source_ai"), row))


def _label_counts(con) -> dict[str, dict[str, int]]:
    counts: dict[str, dict[str, int]] = {key: {} for key in COLUMNS}
    for component, label, n in con.execute("""
            SELECT c.component, c.label, count(*) FROM classifications c JOIN latest_models m USING (model_id, sha)
            GROUP BY ALL ORDER BY ALL""").fetchall():
        counts.setdefault(component, {})[label] = n
    return counts


def _licence_counts(con, top: int = 20) -> list[dict]:
    rows = con.execute("""
        SELECT coalesce(m.license, '(none)') AS licence, count(*) AS models,
               count(*) FILTER (WHERE c.level = 5) AS open_weights
        FROM latest_models m JOIN model_summaries s USING (model_id, sha)
        LEFT JOIN classifications c ON c.model_id = m.model_id AND c.sha = m.sha AND c.component = 'deployment.data.weights'
        GROUP BY ALL ORDER BY models DESC, licence LIMIT ?""", [top]).fetchall()
    return [{"licence": l, "models": n, "open_weights": o} for l, n, o in rows]


def _families(con) -> list[dict]:
    """The largest families of every classified model: each cell its most open member's, and its
    members (the most downloaded first) with their own cells, one click away."""
    ranked = con.execute("""
        SELECT s.family, count(*) AS models FROM model_summaries s JOIN latest_models m USING (model_id, sha)
        GROUP BY 1 HAVING count(*) > 1 ORDER BY 2 DESC, 1 LIMIT ?""", [TOP_FAMILIES]).fetchall()
    names = [family for family, _ in ranked]
    heads = {(f, c): label for f, c, label in con.execute(
        "SELECT family, component, most_open_label FROM family_components WHERE list_contains(?, family)",
        [names]).fetchall()}
    members = con.execute("""
        SELECT s.family, s.model_id, s.sha FROM model_summaries s JOIN latest_models m USING (model_id, sha)
        WHERE list_contains(?, s.family)
        QUALIFY row_number() OVER (PARTITION BY s.family ORDER BY m.downloads DESC NULLS LAST, s.model_id) <= ?
        ORDER BY s.family, m.downloads DESC NULLS LAST, s.model_id""", [names, MAX_MEMBERS]).fetchall()
    cells = _cells(con, [(m, s) for _, m, s in members], evidence=False)
    by_family: dict[str, list] = {}
    for family, model_id, sha in members:
        by_family.setdefault(family, []).append(
            {"model_id": model_id, "cells": [(cells.get((model_id, sha, key)) or {}).get("label") for key in COLUMNS]})
    return [{"family": family, "models": n, "cells": [heads.get((family, key)) for key in COLUMNS],
             "members": by_family.get(family, [])} for family, n in ranked]
