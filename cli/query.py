"""`openness query`, `export` and `diff`: reading the warehouse."""
from __future__ import annotations

import click

from cli.formatting import render_rows
from cli.options import output_format, warehouse_path
from warehouse.diff import as_json as diff_json, diff_runs
from warehouse.errors import WarehouseError
from warehouse.export import export_snapshot
from warehouse.query import run_query


@click.command()
@click.argument("sql")
@output_format
@click.pass_context
def query(ctx: click.Context, sql: str, fmt: str) -> None:
    """Run SQL on a read-only connection to the warehouse.

    Works while a crawl runs: a crawl holds the write lock only while it loads a batch, and the
    query waits for that.  Tables: crawl_runs, models, repo_files, documents, fetch_failures,
    model_stats; view latest_models.
    """
    try:
        result = run_query(warehouse_path(ctx), sql)
    except WarehouseError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(render_rows(result.columns, result.rows, fmt), nl=False)


@click.command()
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False),
              help="Folder for <table>.parquet files and manifest.json.")
@click.pass_context
def export(ctx: click.Context, out_dir: str) -> None:
    """Write a Parquet snapshot of every table, with a manifest (schema version, run ids,
    row counts, sha256 per file)."""
    try:
        result = export_snapshot(warehouse_path(ctx), out_dir)
    except WarehouseError as exc:
        raise click.ClickException(str(exc)) from exc
    for table, rows in result.tables.items():
        click.echo(f"{table:16} {rows:>10} rows")
    click.echo(f"manifest: {result.manifest}")


@click.command("diff")
@click.argument("run_a", required=False)
@click.argument("run_b", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print the changes as JSON.")
@click.pass_context
def diff(ctx, run_a, run_b, as_json) -> None:
    """What changed from crawl RUN_A to RUN_B (default: the two latest crawls): new, removed and
    renamed models, new commits, licence and gating changes, and classification changes where both
    commits are classified."""
    try:
        result = diff_runs(warehouse_path(ctx), run_a, run_b)
    except WarehouseError as exc:
        raise click.ClickException(str(exc)) from exc
    if as_json:
        click.echo(diff_json(result))
        return
    click.echo(f"{result.run_a} -> {result.run_b}: {len(result.models)} models changed "
               + (", ".join(f"{kind} {n}" for kind, n in sorted(result.counts.items())) or "(no changes)"))
    if result.note:
        click.echo(f"note: {result.note}")
    for change in result.changes:
        detail = f" {change.detail}" if change.detail else ""
        arrow = f": {change.before} -> {change.after}" if change.before or change.after else ""
        click.echo(f"  {change.kind:14} {change.model_id}{detail}{arrow}")
