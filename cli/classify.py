"""`openness classify`, `explain`, `audit` and `report`: the taxonomy's cells, and why each has its value."""
from __future__ import annotations

import json
from dataclasses import asdict

import click

from openness.cli.formatting import counted, format_agreement, format_explanation
from openness.cli.progress import progress_bar
from openness.cli.options import follow_options, hub_endpoint, json_flag, warehouse_path
from openness.pipeline.audit import audit as run_audit
from openness.pipeline.config import CrawlConfig
from openness.classification.scale.classify import classify_warehouse, explain
from openness.classification.taxonomy.evaluate import evaluate_warehouse
from openness.outputs.report import write_report


@click.command()
@click.option("--model", "model_ids", multiple=True, help="Only this model (and its base models), repeatable.")
@click.option("--full", is_flag=True, help="Classify every model again, changed or not.")
@click.option("--workers", type=click.IntRange(min=1), default=None,
              help="Processes classifying at once (default: one per core; 1: in this process).")
@json_flag
@click.pass_context
def classify(ctx, model_ids, full, workers, as_json) -> None:
    """Classify the latest commit of every model on the 12 components of the openness taxonomy.

    Each cell gets a level (C1-C5 / D1-D5, N/A or Unknown), the licences that decide it, its
    confidence and the findings behind it (tables classifications and model_summaries). Offline:
    it reads what crawls stored. Only the models whose inputs changed since their last
    classification are redone (a new commit, other findings, another outcome of a link or of what
    it led to, a base model whose cells changed, other rules or knowledge), each with the reason in
    model_summaries.redone_because; --full redoes all. Large runs are split over a process per
    core; the cells are the same bytes whatever the number of workers."""
    with progress_bar("classify", " models") as progress:
        result = classify_warehouse(warehouse_path(ctx), list(model_ids) or None, full=full, workers=workers,
                                    progress=progress)
    if as_json:
        click.echo(json.dumps(asdict(result), indent=2))
        return
    click.echo(f"run {result.run_id}: {counted(result.models, 'model')} classified, {result.unchanged} unchanged, with rules "
               f"version {result.rules_version} (classifier {result.classifier_version}) in {result.seconds:.1f}s"
               + (f" by {result.workers} worker processes" if result.workers > 1 else ""))
    for reason, count in sorted(result.redone.items()):
        click.echo(f"  {reason:28} {count}")
    if result.by_label:
        click.echo("cells written: " + ", ".join(f"{label} {count}" for label, count in sorted(result.by_label.items())))


@click.command("explain")
@click.argument("model_id")
@json_flag
@click.pass_context
def explain_command(ctx, model_id, as_json) -> None:
    """The 12 cells of MODEL_ID: level, label, licences, and the evidence for each (URL, path,
    line, snippet). --json prints the documented, stable shape."""
    explained = explain(warehouse_path(ctx), model_id)
    if as_json:
        click.echo(json.dumps(explained, indent=2, default=str))
        return
    click.echo(format_explanation(explained))


@click.command()
@click.argument("model_ids", nargs=-1, required=True)
@hub_endpoint
@follow_options
@json_flag
@click.pass_context
def audit(ctx, model_ids, hub_endpoint, follow_depth, github_api, web_base, papers, as_json) -> None:
    """How open is MODEL_ID? Crawl it and what it links to (reusing what the warehouse holds and
    has not changed), classify it, and explain every cell."""
    config = CrawlConfig(warehouse=warehouse_path(ctx), endpoint=hub_endpoint, follow_depth=follow_depth,
                         github_api=github_api, web_base=web_base, fetch_papers=papers)
    result = run_audit(config, list(model_ids))
    if as_json:
        click.echo(json.dumps({"explanations": result.explanations, "not_found": result.not_found,
                               "renamed": result.renamed, "crawl": asdict(result.crawl)}, indent=2, default=str))
    else:
        for asked, now in result.renamed.items():
            click.echo(f"{asked} is now {now}: stored and explained as {now}")
        for explained in result.explanations:
            click.echo(format_explanation(explained))
        for model_id, why in result.not_found.items():
            click.echo(f"{model_id}: {why}", err=True)
    if result.not_found:
        ctx.exit(1)


@click.command()
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False),
              help="Folder for index.html and the matrix's other pages.")
@click.option("--limit", type=click.IntRange(min=0), default=500, show_default=True,
              help="Models in the matrix (the most downloaded; 0: all); the counts, charts and families cover all.")
@click.option("--page-size", type=click.IntRange(min=1), default=100, show_default=True,
              help="Models on each page of the matrix.")
@click.pass_context
def report(ctx, out_dir, limit, page_size) -> None:
    """A static HTML report laid out like the taxonomy's figure: the models x components matrix
    with columns grouped by stage (training, evaluation, deployment), code and data side by side,
    a legend beside it, in a colour-blind-safe palette with the level written in every cell; filters
    by author, licence and family; charts of levels and licences over every classified model; the
    largest families (a family's cell is its most open member's; its members one click away); and
    each cell's evidence on click, with the snippet and, for what was read from the public Hub, a
    link to the file at that commit and line. Self-contained pages: open index.html in a browser
    or publish the folder as it is."""
    with progress_bar("report", " pages") as progress:
        result = write_report(warehouse_path(ctx), out_dir, limit, page_size, progress)
    click.echo(f"{result.index}: {result.models_shown} of {result.models_classified} classified models in the matrix, "
               f"{result.page_size} a page ({result.pages} page{'s' if result.pages != 1 else ''})")


@click.command()
@click.argument("gold", type=click.Path(dir_okay=False))
@json_flag
@click.pass_context
def evaluate(ctx, gold, as_json) -> None:
    """How far the classifications agree with GOLD, a CSV of cells classified by hand
    (model_id,component,level; more columns allowed): agreement overall and per component, exact
    and within one level, cells called open (level 4-5) that the gold set puts at 1-2, a confusion
    table, and every disagreement with its reason, licences and evidence. Offline: crawl and
    classify the gold set's models first."""
    agreement = evaluate_warehouse(warehouse_path(ctx), gold)
    if as_json:
        click.echo(json.dumps(agreement.as_dict(), indent=2, default=str))
        return
    click.echo(format_agreement(agreement))
