"""`openness classify` and `openness explain`: the taxonomy's cells, and why each has its value."""
from __future__ import annotations

import json
from dataclasses import asdict

import click

from cli.options import json_flag, warehouse_path
from warehouse.classify import classify_warehouse, explain
from warehouse.errors import WarehouseError


@click.command()
@click.option("--model", "model_ids", multiple=True, help="Only this model (and its base models), repeatable.")
@json_flag
@click.pass_context
def classify(ctx, model_ids, as_json) -> None:
    """Classify the latest commit of every model on the 12 components of the openness taxonomy.

    Each cell gets a level (C1-C5 / D1-D5, N/A or Unknown), the licences that decide it, its
    confidence and the findings behind it (tables classifications and model_summaries). Offline:
    it reads what crawls stored. Run it again after a crawl or a change of the rules."""
    try:
        result = classify_warehouse(warehouse_path(ctx), list(model_ids) or None)
    except WarehouseError as exc:
        raise click.ClickException(str(exc)) from exc
    if as_json:
        click.echo(json.dumps(asdict(result), indent=2))
        return
    click.echo(f"run {result.run_id}: {result.models} models classified with rules version "
               f"{result.rules_version} in {result.seconds:.1f}s")
    for label, count in sorted(result.by_label.items()):
        click.echo(f"  {label:8} {count}")


@click.command("explain")
@click.argument("model_id")
@json_flag
@click.pass_context
def explain_command(ctx, model_id, as_json) -> None:
    """The 12 cells of MODEL_ID: level, label, licences, and the evidence for each (URL, path,
    line, snippet). --json prints the documented, stable shape."""
    try:
        explained = explain(warehouse_path(ctx), model_id)
    except WarehouseError as exc:
        raise click.ClickException(str(exc)) from exc
    if as_json:
        click.echo(json.dumps(explained, indent=2, default=str))
        return
    click.echo(f"{explained['model_id']} @ {explained['sha'][:12]} (rules v{explained['rules_version']})")
    for key, cell in explained["components"].items():
        licences = ", ".join(f"{l['id']} ({l['points']})" for l in cell["licenses"] if l.get("id")) or "-"
        inherited = f" from {cell['inherited_from']}" if cell["inherited_from"] else ""
        click.echo(f"{key:28} {cell['label']:8} {cell['reason']}{inherited}; licences: {licences}")
        for evidence in cell["evidence"][:3]:
            where = evidence.get("path") or evidence.get("url") or ""
            line = f":{evidence['line_start']}" if evidence.get("line_start") else ""
            click.echo(f"    {where}{line}  {str(evidence.get('snippet', ''))[:100]!r}")
    totals = explained["summary"]
    click.echo(f"summary: {totals['fully_open']} fully open, {totals['semi_open']} semi-open, {totals['closed']} closed, "
               f"{totals['unknown']} unknown, {totals['not_applicable']} n/a; family {totals['family']}")
    mof = f"MOF Class {totals['mof_class']}" if totals["mof_class"] else "below MOF Class III"
    click.echo(f"{mof}" + (f" (next needs: {', '.join(totals['mof_missing'])})" if totals["mof_missing"] else "")
               + f"; OSAID: {totals['osaid'].replace('_', ' ')}"
               + (f" (missing: {', '.join(totals['osaid_missing'])})" if totals["osaid_missing"] else ""))
