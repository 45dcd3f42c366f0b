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
    """Run the extractors over every stored commit (no network) and replace their findings; judge the
    stored datasets' licences and code repositories' roles and licences again.

    Crawls run the extractors already; run this after the rules or the knowledge base changed.
    With --model, the datasets and code repositories those models link to are judged again.
    Idempotent: a second run writes the same findings."""
    result = extract_stored(warehouse_path(ctx), list(model_ids) or None)
    if as_json:
        click.echo(json.dumps(asdict(result), indent=2))
        return
    click.echo(f"run {result.run_id}: {result.findings} findings and {result.links} links for {result.commits} commits "
               f"in {result.seconds:.1f}s" + (f", {result.errors} extractor errors" if result.errors else ""))
    click.echo(f"judged again: {result.datasets} datasets, {result.code_repos} code repositories"
               + (f" ({result.code_repos_without_paths} crawled before their file lists were kept: "
                  "crawl again to judge them)" if result.code_repos_without_paths else ""))
    for signal, count in sorted(result.by_signal.items()):
        click.echo(f"  {signal:28} {count}")
