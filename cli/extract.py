"""`openness extract`: re-apply the current extractors to what the warehouse holds."""
from __future__ import annotations

import json
from dataclasses import asdict

import click

from openness.cli.options import json_flag, warehouse_path
from openness.pipeline.extract import extract_stored


@click.command()
@click.option("--model", "model_ids", multiple=True, help="Only this model's commits (repeatable).")
@json_flag
@click.pass_context
def extract(ctx, model_ids, as_json) -> None:
    """Run the extractors over every stored commit (no network) and replace their findings.

    Crawls run the extractors already; run this after the rules or the knowledge base changed.
    Idempotent: a second run writes the same findings."""
    result = extract_stored(warehouse_path(ctx), list(model_ids) or None)
    if as_json:
        click.echo(json.dumps(asdict(result), indent=2))
        return
    click.echo(f"run {result.run_id}: {result.findings} findings and {result.links} links for {result.commits} commits "
               f"in {result.seconds:.1f}s" + (f", {result.errors} extractor errors" if result.errors else ""))
    for signal, count in sorted(result.by_signal.items()):
        click.echo(f"  {signal:28} {count}")
