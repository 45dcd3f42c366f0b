"""Turning results into text: tables, CSV, JSON, and the crawl summary."""
from __future__ import annotations

import csv
import io
import json
import re
from datetime import date, datetime

from openness.outputs.search_text import format_search

# Control characters a terminal acts on (ESC starts CSI and OSC sequences; C1's CSI and OSC are
# single bytes): stored ids and card text are untrusted, so a table shows them as \x1b, never raw.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
# JSON escapes C0 itself; C1 it leaves raw unless told
_C1 = re.compile("[\x7f-\x9f]")


def counted(n: int, noun: str, plural: str | None = None) -> str:
    """"1 model", "2 models": a count with its noun in the number it takes."""
    return f"{n:,} {noun if n == 1 else plural or noun + 's'}"


def visible(text: str) -> str:
    """The text with every control character a terminal would act on written out (as \\x1b)."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def _plain(value):
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, (bytes, bytearray)):
        return value.hex()
    return value


def render_rows(columns: list[str], rows: list[tuple], fmt: str, max_width: int | None = 60) -> str:
    """Rows as a table (values cut to max_width characters, None: never), JSON or CSV."""
    if fmt == "json":
        return _json(_records(columns, rows))
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows([[_plain(v) for v in row] for row in rows])
        return buffer.getvalue()
    return _table(columns, rows, max_width)


def render_results(results: list[tuple[str, list[str], list[tuple]]], fmt: str, max_width: int | None = 60) -> str:
    """Several statements' results (statement, columns, rows): one alone as render_rows prints it;
    more each under its statement, as a JSON list with --json, blank-line separated with --csv."""
    if len(results) == 1:
        return render_rows(results[0][1], results[0][2], fmt, max_width)
    if fmt == "json":
        return _json([{"statement": statement, "rows": _records(columns, rows)} for statement, columns, rows in results])
    parts = [("" if fmt == "csv" else f"-- {statement}\n") + render_rows(columns, rows, fmt, max_width)
             for statement, columns, rows in results]
    return "\n".join(parts)


def _json(value) -> str:
    text = json.dumps(value, indent=2, default=str, ensure_ascii=False)
    return _C1.sub(lambda m: f"\\u{ord(m.group()):04x}", text) + "\n"


def _records(columns: list[str], rows: list[tuple]) -> list[dict]:
    return [{c: _plain(v) for c, v in zip(columns, row)} for row in rows]


def _cell(value, max_width: int | None) -> str:
    text = "NULL" if value is None else str(_plain(value))
    text = visible(" ".join(text.split()) if "\n" in text or "\t" in text else text)
    return text if max_width is None or len(text) <= max_width else text[: max_width - 1] + "…"


def _table(columns: list[str], rows: list[tuple], max_width: int | None) -> str:
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
        + (f", {result.models_retried} fetched again to complete" if result.models_retried else "")
        + (f", {result.models_again} fetched again whole (--full)" if result.models_again else "")
        + (f"; {result.models_left_incomplete} still incomplete (files the next crawl fetches)"
           if result.models_left_incomplete else "")
        + (f"; {result.models_not_stored} not stored (the next crawl fetches them)" if result.models_not_stored else "")
        + (f", {result.models_vanished} left the listing (see vanished_models)" if result.models_vanished else ""),
        f"files    {result.files_fetched} fetched" + _licence_files_summary(result) + _sizes_summary(result),
        *_cards_summary(result),
        f"links    {result.targets_followed} targets followed: {result.targets_resolved} resolved, "
        f"{result.targets_failed} failed"
        + (f" ({result.targets_failed_for_now} for now: followed again next time)" if result.targets_failed_for_now else "")
        + f", {result.targets_deferred} deferred; "
        f"{result.base_models_stored} base models stored, {result.linked_files_fetched} files read",
        f"failures {sum(result.failures.values())}: {failures}"
        + (f" ({result.retries_given_up} requests given up after their retries; -v prints each)"
           if result.retries_given_up else ""),
        *[f"unreachable {service}: {line}" for service, line in result.unreachable.items()],
        f"requests api {result.requests.get('api', 0)}, resolvers {result.requests.get('resolvers', 0)}, "
        f"github {result.requests.get('github', 0)}"
        + (f" ({result.responses_429} answered 429 and retried)" if result.responses_429 else ""),
        *(["budget   " + ", ".join(f"{bucket} {used}" for bucket, used in result.budget.items())] if result.budget else []),
    ]) + "\n"


def _cards_summary(result) -> list[str]:
    """What the Hub's card dump gave, when a crawl asked for one or 'auto' weighed it."""
    if not result.bootstrap:
        return []
    line = f"cards    {result.bootstrap.removeprefix('cards ')}"
    if result.bootstrap.startswith("cards from"):
        line += (f": {result.cards_from_dump} read from it, {result.cards_stale_in_dump} older there than the "
                 f"listing and {result.cards_not_in_dump} not in it or not readable there (fetched from their repos)")
    return [line]


def _licence_files_summary(result) -> str:
    parts = []
    if result.licence_files_deferred:
        parts.append(f"{counted(result.licence_files_deferred, 'licence file')} left for the next crawl, which "
                     "reads them first (until then their models' licences say 'not read yet')")
    if result.licence_files_revisited:
        parts.append(f"pending licence files of {counted(result.licence_files_revisited, 'unchanged model')} read")
    return "".join("; " + part for part in parts)


def _sizes_summary(result) -> str:
    read = {how: n for how, n in result.sizes_by.items() if how in ("tree", "head")}
    parts = ([("weight sizes read by " + ", ".join(f"{how} {n}" for how, n in read.items()))] if read else [])
    if result.sizes_by.get("pending"):
        parts.append(f"{result.sizes_by['pending']} models' weight sizes left pending for spare capacity "
                     "(audit, export --spdx and crawl --sizes-now read them)")
    if result.sizes_revisited:
        parts.append(f"pending weight sizes of {result.sizes_revisited} unchanged models read")
    return "".join("; " + part for part in parts)


def licence_text(licence: dict) -> str:
    """'apache-2.0 (5 points)'; a licence the rubric cannot score says so ('other (not scored)')
    instead of printing Python's None."""
    points = licence.get("points")
    scored = f"{points} point{'s' if points != 1 else ''}" if points is not None else "not scored"
    return f"{licence.get('id') or 'unknown'} ({scored})"


def format_explanation(explained: dict) -> str:
    """The text form of an explanation: a line per cell, its first evidence, the verdicts."""
    out = []
    out.append(f"{explained['model_id']} @ {explained['sha'][:12]} (rules v{explained['rules_version']})")
    own_card = explained.get("card_read_from")
    if own_card:
        out.append(f"README.md: {own_card}")
    for key, cell in explained["components"].items():
        licences = ", ".join(dict.fromkeys(licence_text(l) for l in cell["licenses"] if l.get("id"))) or "-"
        inherited = f" from {cell['inherited_from']}" if cell["inherited_from"] else ""
        out.append(f"{key:28} {cell['label']:8} {cell['reason']}{inherited}; licences: {licences}")
        for evidence in cell["evidence"][:3]:
            where = evidence.get("path") or evidence.get("url") or ""
            if cell["inherited_from"] and evidence.get("path"):
                where = f"{cell['inherited_from']}: {where}"  # the base model's file, not this model's
            line = f":{evidence['line_start']}" if evidence.get("line_start") else ""
            out.append(f"    {where}{line}  {str(evidence.get('snippet', ''))[:100]!r}")
            if evidence.get("read_from") and evidence["read_from"] != own_card:  # a base model's card
                out.append(f"      ({evidence['read_from']})")
        if cell.get("search") and not cell["inherited_from"]:
            out.append(f"    searched: {format_search(cell['search'])}")
    for link in explained.get("links") or []:  # whose each code and paper link is, and why
        out.append(f"link {link['kind']} {link['target']}: {link['relevance']} ({link['why']}); {link['status']}")
    totals = explained["summary"]
    closed = f"{totals['closed']} closed"
    if totals["closed"] and totals.get("closed_not_found") is not None:
        closed += f" ({totals['closed_not_found']} not found, {totals['closed_stated']} stated closed)"
    out.append(f"summary: {totals['fully_open']} fully open, {totals['semi_open']} semi-open, {closed}, "
               f"{totals['unknown']} unknown, {totals['not_applicable']} n/a; family {totals['family']}")
    mof = f"MOF Class {totals['mof_class']}" if totals["mof_class"] else "below MOF Class III"
    out.append(f"{mof}" + (f" (next needs: {', '.join(totals['mof_missing'])})" if totals["mof_missing"] else "")
               + f"; OSAID: {totals['osaid'].replace('_', ' ')}"
               + (f" (missing: {', '.join(totals['osaid_missing'])})" if totals["osaid_missing"] else ""))
    return "\n".join(out)


def _share(part: int, whole: int) -> str:
    return f"{part} ({100 * part / whole:.1f}%)" if whole else str(part)


def format_agreement(agreement) -> str:
    """The text form of `openness evaluate`: totals, per component, the confusion table, and every
    disagreement with the cell's reason, licences and first evidence."""
    total = agreement.cells
    out = [f"{total} gold cells: exact {_share(agreement.exact, total)}, within one level "
           f"{_share(agreement.within_one, total)}, false open {agreement.false_open}"
           + (f", {agreement.missing} not classified" if agreement.missing else "")]
    out.append("by component:")
    for key, counts in agreement.by_component.items():
        out.append(f"  {key:28} {counts['cells']:3} cells  exact {counts.get('exact', 0):3}  "
                   f"within one {counts.get('within_one', 0):3}  false open {counts.get('false_open', 0)}")
    columns = [str(level) for level in range(1, 6)] + ["N/A", "Unknown", "missing"]
    out.append("confusion (rows: gold level; columns: classified level or label):")
    out.append("  gold " + "".join(f"{c:>8}" for c in columns))
    for gold, row in agreement.confusion.items():
        out.append(f"  {gold:>4} " + "".join(f"{row.get(c, 0) or '.':>8}" for c in columns))
    out.append(f"disagreements ({len(agreement.disagreements)}):" if agreement.disagreements else "disagreements: none")
    for item in agreement.disagreements:
        licences = ", ".join(licence_text(l) for l in item["licences"]) or "-"
        flag = "  FALSE OPEN" if item["false_open"] else ""
        out.append(f"  {item['model_id']}  {item['component']}: gold {item['gold']}, classified {item['label']} "
                   f"({item['reason']}); licences: {licences}{flag}")
        for evidence in item["evidence"]:
            where = evidence.get("path") or evidence.get("url") or ""
            line = f":{evidence['line_start']}" if evidence.get("line_start") else ""
            out.append(f"      {where}{line}  {str(evidence.get('snippet', ''))[:100]!r}")
    return "\n".join(out)
