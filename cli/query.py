"""`openness query` and `openness export`: reading the warehouse."""
from __future__ import annotations

import click

from cli.formatting import render_rows
from cli.options import output_format, warehouse_path
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
