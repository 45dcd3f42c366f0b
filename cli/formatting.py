"""Turning results into text: tables, CSV, JSON, and the crawl summary."""
from __future__ import annotations

import csv
import io
import json
from datetime import date, datetime


def _plain(value):
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, (bytes, bytearray)):
        return value.hex()
    return value


def render_rows(columns: list[str], rows: list[tuple], fmt: str, max_width: int = 60) -> str:
    if fmt == "json":
        return json.dumps([{c: _plain(v) for c, v in zip(columns, row)} for row in rows],
                          indent=2, default=str, ensure_ascii=False) + "\n"
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows([[_plain(v) for v in row] for row in rows])
        return buffer.getvalue()
    return _table(columns, rows, max_width)


def _cell(value, max_width: int) -> str:
    text = "NULL" if value is None else str(_plain(value))
    text = " ".join(text.split()) if "\n" in text or "\t" in text else text
    return text if len(text) <= max_width else text[: max_width - 1] + "…"


def _table(columns: list[str], rows: list[tuple], max_width: int) -> str:
    if not columns:
        return "(no result)\n"
    cells = [[_cell(v, max_width) for v in row] for row in rows]
    widths = [max([len(c)] + [len(r[i]) for r in cells]) for i, c in enumerate(columns)]
    line = lambda values: " │ ".join(v.ljust(w) for v, w in zip(values, widths)).rstrip()  # noqa: E731
    out = [line(columns), "─┼─".join("─" * w for w in widths)]
    out += [line(r) for r in cells]
    out.append(f"({len(rows)} row{'s' if len(rows) != 1 else ''})")
    return "\n".join(out) + "\n"


def crawl_summary(result) -> str:
    failures = ", ".join(f"{reason} {count}" for reason, count in result.failures.items()) or "none"
    return "\n".join([
        f"run {result.run_id}: {result.status} in {result.seconds:.1f}s",
        f"models   {result.models_seen} seen: {result.models_new} new, {result.models_changed} changed, "
        f"{result.models_unchanged} unchanged"
        + (f", {result.models_incomplete} completed" if result.models_incomplete else "")
        + (f", {result.models_vanished} left the listing (see vanished_models)" if result.models_vanished else ""),
        f"files    {result.files_fetched} fetched",
        f"links    {result.targets_followed} targets followed: {result.targets_resolved} resolved, "
        f"{result.targets_failed} failed, {result.targets_deferred} deferred; "
        f"{result.base_models_stored} base models stored, {result.linked_files_fetched} files read",
        f"failures {sum(result.failures.values())}: {failures}",
        f"requests api {result.requests.get('api', 0)}, resolvers {result.requests.get('resolvers', 0)}, "
        f"github {result.requests.get('github', 0)}"
        + (f" ({result.responses_429} answered 429 and retried)" if result.responses_429 else ""),
    ]) + "\n"


def format_explanation(explained: dict) -> str:
    """The text form of an explanation: a line per cell, its first evidence, the verdicts."""
    out = []
    out.append(f"{explained['model_id']} @ {explained['sha'][:12]} (rules v{explained['rules_version']})")
    for key, cell in explained["components"].items():
        licences = ", ".join(dict.fromkeys(f"{l['id']} ({l['points']})" for l in cell["licenses"] if l.get("id"))) or "-"
        inherited = f" from {cell['inherited_from']}" if cell["inherited_from"] else ""
        out.append(f"{key:28} {cell['label']:8} {cell['reason']}{inherited}; licences: {licences}")
        for evidence in cell["evidence"][:3]:
            where = evidence.get("path") or evidence.get("url") or ""
            if cell["inherited_from"] and evidence.get("path"):
                where = f"{cell['inherited_from']}: {where}"  # the base model's file, not this model's
            line = f":{evidence['line_start']}" if evidence.get("line_start") else ""
            out.append(f"    {where}{line}  {str(evidence.get('snippet', ''))[:100]!r}")
    totals = explained["summary"]
    out.append(f"summary: {totals['fully_open']} fully open, {totals['semi_open']} semi-open, {totals['closed']} closed, "
               f"{totals['unknown']} unknown, {totals['not_applicable']} n/a; family {totals['family']}")
    mof = f"MOF Class {totals['mof_class']}" if totals["mof_class"] else "below MOF Class III"
    out.append(f"{mof}" + (f" (next needs: {', '.join(totals['mof_missing'])})" if totals["mof_missing"] else "")
               + f"; OSAID: {totals['osaid'].replace('_', ' ')}"
               + (f" (missing: {', '.join(totals['osaid_missing'])})" if totals["osaid_missing"] else ""))
    return "\n".join(out)
