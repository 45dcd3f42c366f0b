"""`openness query`, `export` and `diff`: reading the warehouse."""
from __future__ import annotations

import inspect

import click

from openness.cli.formatting import counted, render_results
from openness.cli.options import hub_endpoint, output_format, warehouse_path
from openness.cli.progress import progress_bar
from openness.outputs.diff import as_json as diff_json, diff_runs
from openness.outputs.export import export_snapshot
from openness.outputs.snapshots import export_run, retain
from openness.warehouse.db import TABLES, latest_views, views
from openness.warehouse.query import MAX_MEMORY_MB, MAX_SECONDS, run_statements

# outputs.spdx's FORMATS; spdx-tools loads its licence list slowly, so it is imported only when used
SPDX_FORMATS = ("json", "tag-value", "yaml", "xml", "rdf", "spdx3")


@click.command()
@click.argument("sql")
@output_format
@click.option("--width", type=click.IntRange(min=0), default=60, show_default=True,
              help="With --table: cut longer values to this many characters (0: never cut).")
@click.option("--max-seconds", type=click.FloatRange(min=0.1), default=MAX_SECONDS, show_default=True,
              envvar="OPENNESS_QUERY_MAX_SECONDS", help="Stop a statement that runs longer (env OPENNESS_QUERY_MAX_SECONDS).")
@click.option("--max-memory-mb", type=click.IntRange(min=64), default=MAX_MEMORY_MB, show_default=True,
              envvar="OPENNESS_QUERY_MAX_MEMORY_MB", help="Memory for the query: DuckDB's, and what the process may map beyond what it held "
                   "(env OPENNESS_QUERY_MAX_MEMORY_MB).")
@click.pass_context
def query(ctx: click.Context, sql: str, fmt: str, width: int, max_seconds: float, max_memory_mb: int) -> None:
    """Run SQL on a read-only connection to the warehouse; several statements (separated by ';')
    each print their result, a JSON list of them with --json.

    For the current state read the latest_* views: one row per model at its newest commit. The
    tables keep every commit, so after a licence change `classifications` holds a model's cells
    twice. For example: SELECT label, count(*) FROM latest_classifications WHERE component =
    'deployment.data.weights' GROUP BY label.

    The connection reads the warehouse and nothing else: no file is read or written, no other
    database attached, no extension loaded, no setting changed; such statements are refused.
    Works while a crawl runs: a crawl holds the write lock only while it loads a batch, and the
    query waits for that. Its tables and views (docs/schema.md says what each holds) follow.
    """
    results = run_statements(warehouse_path(ctx), sql, max_seconds=max_seconds, max_memory_mb=max_memory_mb,
                             cap_process=True)
    click.echo(render_results([(r.statement, r.columns, r.rows) for r in results], fmt, width or None), nl=False)


query.help = (f"{inspect.cleandoc(query.help or '')}\n\n"
              f"Views of the current state: {', '.join(latest_views())}.\n\n"
              f"Tables (the per-commit ones keep every commit a crawl stored): "
              f"{', '.join(TABLES)}.\n\nOther views: {', '.join(v for v in views() if v not in latest_views())}.")


@click.command()
@click.option("--out", "out_dir", type=click.Path(file_okay=False),
              help="Folder for <table>.parquet files and manifest.json; with --run, the folder its dated "
                   "snapshot folder goes in.")
@click.option("--run", "run_id", help="Only this crawl run's snapshot ('latest': the newest crawl), written to "
                                      "OUT/<date>_<run id>/.")
@click.option("--spdx", "spdx_dir", type=click.Path(file_okay=False),
              help="Instead: one SPDX document per model (an AI bill of materials) into this folder.")
@click.option("--model", "model_ids", multiple=True, help="With --spdx: this model only (repeatable; default: "
                                                          "every classified model).")
@click.option("--format", "fmt", type=click.Choice(SPDX_FORMATS), default="json", show_default=True,
              help="With --spdx: the SPDX 2.3 serialisation, or spdx3: SPDX 3.0.1 JSON-LD with the AI and "
                   "Dataset profiles.")
@click.option("--read-pending-sizes/--no-read-pending-sizes", default=True, show_default=True,
              help="With --spdx: first read the weight sizes and sha256 that crawls left pending for these "
                   "models (a crawl of them by id at the endpoint that crawled them), so each weight file "
                   "has its checksum.")
@hub_endpoint
@click.pass_context
def export(ctx: click.Context, out_dir, run_id, spdx_dir, model_ids, fmt, read_pending_sizes, hub_endpoint) -> None:
    """Write a Parquet snapshot with a manifest (schema version, run ids, row counts, sha256 per
    file): of every table, or with --run of one crawl: the models it listed, their commits and all
    that is known of them, what their links led to, the run's failures and vanished models.

    With --spdx: an SPDX 2.3 document per model, validated with spdx-tools: packages for the
    model, its weight files (LFS sha256), linked datasets and code repositories and its base models,
    their declared and concluded licences, relationships, and the twelve cells as annotations. With
    --format spdx3: the same as SPDX 3.0.1 JSON-LD (AIPackage, DatasetPackage), checked as it is
    read back with SPDX's 3.0.1 bindings. A weight file whose size a crawl left pending is read
    first (--no-read-pending-sizes: listed without its checksum)."""
    if bool(out_dir) == bool(spdx_dir):
        raise click.UsageError("give --out DIR (Parquet) or --spdx DIR (SPDX documents)")
    if spdx_dir:
        from openness.outputs.spdx import export_spdx
        if read_pending_sizes:
            _read_pending_sizes(warehouse_path(ctx), list(model_ids))
        with progress_bar("spdx", " models") as progress:
            written = export_spdx(warehouse_path(ctx), spdx_dir, list(model_ids), fmt, hub_endpoint, progress)
        click.echo(f"{counted(len(written.files), 'SPDX document')} ({counted(written.packages, 'package')}) in {spdx_dir}")
        return
    with progress_bar("export", " tables") as progress:
        result = (export_run(warehouse_path(ctx), run_id, out_dir, progress) if run_id
                  else export_snapshot(warehouse_path(ctx), out_dir, progress=progress))
    for table, rows in result.tables.items():
        click.echo(f"{table:16} {rows:>10} rows")
    click.echo(f"manifest: {result.manifest}")


def _read_pending_sizes(warehouse: str, model_ids: list[str]) -> None:
    from openness.pipeline.sizes import read_pending_sizes
    pending = read_pending_sizes(warehouse, model_ids)
    if pending.asked:
        click.echo(f"weight sizes read for {pending.read} of {pending.asked} models that had them pending"
                   + (f" (crawl {', '.join(pending.runs)})" if pending.runs else ""), err=True)
    for endpoint, why in pending.not_read.items():
        click.echo(f"could not read pending weight sizes from {endpoint}: {why}", err=True)


@click.command()
@click.argument("repo_id")
@hub_endpoint
@click.option("--private", is_flag=True, help="Create the dataset repo private (an existing repo keeps its visibility).")
@click.option("--revision", help="Commit to this branch (created from main when missing) instead of main.")
@click.pass_context
def publish(ctx: click.Context, repo_id: str, hub_endpoint: str, private: bool, revision: str | None) -> None:
    """Publish a snapshot of the warehouse as the Hub dataset REPO_ID (owner/name): a Parquet file
    per table, manifest.json, and a dataset card with the schema, the taxonomy's levels, what was
    crawled when, and a config per table for the Hub's viewer and `datasets`. The repo is created
    when missing. The token comes from HF_TOKEN or `huggingface-cli login` and is never stored. Publishing
    an unchanged warehouse again commits nothing."""
    from openness.outputs.publish import publish_snapshot
    with progress_bar("snapshot", " tables") as progress:
        result = publish_snapshot(warehouse_path(ctx), repo_id, hub_endpoint, private=private, revision=revision,
                                  progress=progress)
    state = f"committed {result.commit[:12]}" if result.committed else f"unchanged at {result.commit[:12]}: nothing committed"
    click.echo(f"{result.url} ({result.revision}): {result.files} files, {state}")


@click.command("retain")
@click.option("--keep", type=click.IntRange(min=1), required=True, help="How many of the newest crawl runs keep their rows.")
@click.option("--archive", "archive_dir", required=True, type=click.Path(file_okay=False),
              help="Folder for the snapshots of compacted runs (an export --run already there is reused).")
@click.pass_context
def retain_command(ctx, keep: int, archive_dir: str) -> None:
    """Keep the newest KEEP crawl runs in the warehouse and compact older ones: each is archived
    as a dated snapshot (checked row by row count against the warehouse) before its per-run rows,
    and the commits no kept run lists, are removed; crawl_runs keeps every run with its archive's
    path. The newest commit of every model always stays."""
    result = retain(warehouse_path(ctx), keep, archive_dir)
    click.echo(f"kept {len(result.kept)} runs; compacted {len(result.compacted)}")
    for run_id, archive in result.compacted.items():
        click.echo(f"  {run_id} -> {archive}")
    removed = ", ".join(f"{table} {n}" for table, n in result.rows_removed.items() if n)
    if removed:
        click.echo(f"rows removed (archived): {removed}")


@click.command("diff")
@click.argument("run_a", required=False)
@click.argument("run_b", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print the changes as JSON.")
@click.pass_context
def diff(ctx, run_a, run_b, as_json) -> None:
    """What changed from crawl RUN_A to RUN_B (default: the latest crawl, and the latest before it
    that selected the same models, else the one before it): new, removed and
    renamed models, new commits, licence and gating changes, and classification changes where both
    commits are classified."""
    result = diff_runs(warehouse_path(ctx), run_a, run_b)
    if as_json:
        click.echo(diff_json(result))
        return
    counts = ", ".join(f"{kind} {n}" for kind, n in sorted(result.counts.items()))
    click.echo(f"{result.run_a} -> {result.run_b}: " + (f"{counted(len(result.models), 'model')} changed ({counts})"
                                                         if counts else "no changes"))
    if result.note:
        click.echo(f"note: {result.note}")
    for change in result.changes:
        detail = f" {change.detail}" if change.detail else ""
        arrow = f": {change.before} -> {change.after}" if change.before or change.after else ""
        click.echo(f"  {change.kind:14} {change.model_id}{detail}{arrow}")
