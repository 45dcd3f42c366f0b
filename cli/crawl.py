"""`openness crawl` and `openness demo`."""
from __future__ import annotations

import json
import os
import shutil
import sys
from dataclasses import asdict

import click

from openness.cli.errors import EXIT_RETRY_LATER
from openness.cli.formatting import crawl_summary, format_explanation, render_rows
from openness.cli.options import follow_options, hub_endpoint, json_flag, warehouse_path
from openness.pipeline.demo import run_demo
from openness.pipeline.errors import CrawlInterrupted
from openness.pipeline.config import CrawlConfig
from openness.pipeline.runner import run_crawl
from openness.crawler.licence_files import MODES as LICENCE_MODES
from openness.crawler.settings import DEFAULTS, parse_budget

SORTS = ["downloads", "likes", "lastModified", "createdAt", "trendingScore"]


def _budget(ctx, param, values):
    budget = {}
    for value in values:
        bucket, _, spec = value.partition("=")
        try:
            budget[bucket] = parse_budget(bucket, spec)
        except ValueError as exc:
            raise click.BadParameter(str(exc)) from None
    return budget or None


def _log_level(ctx) -> str:
    return ("WARNING", "INFO", "DEBUG")[min(ctx.find_root().obj["verbose"], 2)]


def partial_reasons(result) -> str:
    if result.unreachable:
        return "links to " + " and ".join(result.unreachable) + " were not followed: their host could not be reached"
    if result.models_not_stored:
        return f"{result.models_not_stored} models could not be stored (see the log); the next crawl fetches them"
    if result.models_left_incomplete:
        return f"{result.models_left_incomplete} models still incomplete (see fetch_failures)"
    if result.targets_failed_for_now:
        return (f"{result.targets_failed_for_now} followed links failed for now (a server error, a reset, a timeout; "
                "see link_targets); the next crawl follows them again")
    if result.targets_left_incomplete:
        return (f"{result.targets_left_incomplete} followed repositories or datasets stored incomplete "
                "(see fetch_failures); the next crawl follows them again")
    return "a listing page or a model's rows could not be read (see fetch_failures)"


@click.command()
@hub_endpoint
@click.option("--author", "authors", multiple=True, help="Only this author's models (repeatable).")
@click.option("--search", help="Only models whose id contains this text.")
@click.option("--filter", "filters", multiple=True, help="A Hub tag every model must carry, e.g. license:mit.")
@click.option("--sort", type=click.Choice(SORTS), help="Listing order (descending).")
@click.option("--limit", type=click.IntRange(min=1), help="Stop after this many models.")
@click.option("--model", "model_ids", multiple=True, help="Crawl exactly this model (repeatable).")
@click.option("--full", is_flag=True, help="Fetch every model again, changed or not.")
@click.option("--bootstrap", default=DEFAULTS["CRAWL_BOOTSTRAP"], show_default=True, metavar="DATASET|auto|off",
              help="Read the cards of new models from a Hub card dump (a dataset of Parquet files with "
                   "modelId, last_modified, card) instead of one request each. 'auto': the Hub's daily dump "
                   f"({DEFAULTS['CRAWL_BOOTSTRAP_DATASET']}) for a first crawl of more than "
                   f"{DEFAULTS['CRAWL_BOOTSTRAP_MIN_MODELS']:,} models. A card older there than the listing "
                   "says is fetched from the repo.")
@click.option("--licence-files", type=click.Choice(LICENCE_MODES), default=DEFAULTS["CRAWL_LICENCE_FILES"],
              show_default=True,
              help="When new models' licence files are read: now (with the card); spare (only from spare "
                   "capacity, the rest left for the next crawl, which reads them first); later (all left for "
                   "it); auto: spare when cards come from a card dump, else now. Until a licence file is "
                   "read, no licence it could change is called (nearly) restriction-free.")
@click.option("--file-sizes/--no-file-sizes", default=DEFAULTS["CRAWL_FETCH_FILE_SIZES"], show_default=True,
              help="Read the sizes and LFS sha256 of changed repos' weight files (a file tree, one api "
                   "request, or a HEAD per file), from spare capacity unless --sizes-now.")
@click.option("--sizes-now", is_flag=True, default=DEFAULTS["CRAWL_SIZES_NOW"],
              help="Read every weight size in this crawl, and those earlier crawls left pending, even where "
                   "that slows it. By default they are read only while a bucket has spare capacity.")
@click.option("--rate-budget", multiple=True, callback=_budget, metavar="BUCKET=N/SECONDS",
              help="Override a bucket's budget, e.g. api=2500/300 for a PRO account.")
@follow_options
@click.option("--concurrency", type=click.IntRange(min=1), default=DEFAULTS["CONCURRENT_REQUESTS"], show_default=True,
              help="Requests in flight at once.")
@click.option("--redis", "redis_url", envvar="OPENNESS_REDIS_URL", metavar="URL",
              help="Spread the crawl over --workers processes sharing one frontier in this Redis "
                   "(redis://host:6379/0; needs openness[distributed]).")
@click.option("--workers", type=click.IntRange(min=1), default=DEFAULTS["CRAWL_WORKERS"], show_default=True,
              help="With --redis: worker processes; each takes its share of the rate budget.")
@click.option("--batch-size", type=click.IntRange(min=1), default=DEFAULTS["CRAWL_BATCH_MODELS"], show_default=True,
              help="Models per staged batch; each batch is loaded in one short transaction.")
@json_flag
@click.pass_context
def crawl(ctx, hub_endpoint, authors, search, filters, sort, limit, model_ids, full, bootstrap, licence_files,
          file_sizes, sizes_now,
          rate_budget, follow_depth, github_api, web_base, papers, concurrency, redis_url, workers, batch_size,
          as_json) -> None:
    """Crawl Hub models into the warehouse.

    One listing request (with expand) brings the metadata of up to 1,000 models; README.md and
    licence-like files of new and changed models follow through /resolve/. Unchanged models cost
    nothing beyond their share of a listing page. The token comes from HF_TOKEN or
    `huggingface-cli login` and is never stored.

    Then the links the models' findings make are followed, each target once per crawl: Hub
    datasets, base models (to their roots), GitHub repos and arXiv papers. A target GitHub's rate
    limit holds back is recorded as deferred, and the next crawl takes it up.

    With --redis, one lister and --workers workers share the frontier through scrapy-redis; the
    workers stage their rows, this process loads them, then follows the links.
    """
    config = CrawlConfig(warehouse=warehouse_path(ctx), endpoint=hub_endpoint, authors=list(authors),
                         search=search, filters=list(filters), sort=sort, limit=limit,
                         model_ids=list(model_ids), full=full, bootstrap=bootstrap, licence_files=licence_files,
                         fetch_file_sizes=file_sizes,
                         sizes_now=sizes_now, rate_budget=rate_budget, follow_depth=follow_depth, github_api=github_api,
                         web_base=web_base, fetch_papers=papers, redis_url=redis_url, workers=workers,
                         settings={"CONCURRENT_REQUESTS": concurrency, "CRAWL_BATCH_MODELS": batch_size,
                                   "LOG_LEVEL": _log_level(ctx)})
    try:
        result = run_crawl(config)
    except CrawlInterrupted as exc:  # what it did still says something: the summary, then why it stopped
        click.echo(crawl_summary(exc.result).rstrip(), err=True)
        raise click.ClickException(str(exc)) from exc
    click.echo(json.dumps(asdict(result), indent=2) if as_json else crawl_summary(result).rstrip())
    if result.status == "partial":  # what was read is stored; the next crawl fetches the rest
        click.echo(f"partial: {partial_reasons(result)}; crawl again later to complete it", err=True)
        ctx.exit(EXIT_RETRY_LATER)
    if result.status != "complete":
        ctx.exit(1)


@click.command()
@click.option("--report", "report_dir", default="openness-report", show_default=True, type=click.Path(file_okay=False),
              help="Folder for the HTML report.")
@click.pass_context
def demo(ctx, report_dir) -> None:
    """Serve the bundled sample world on a free port, crawl it (following links), classify it,
    explain one model, write the HTML report, and summarise."""
    result = run_demo(warehouse_path(ctx), report_dir)
    click.echo(f"sample world served at {result.endpoint}")
    click.echo("1. The whole listing, then the links its cards make:")
    click.echo(crawl_summary(result.crawl))
    click.echo("2. Repos a listing does not show, asked for by id:")
    click.echo(crawl_summary(result.by_id))
    classified = result.classified
    click.echo(f"3. Classified: {classified.models} models x 12 components (rules v{classified.rules_version})"
               + (f", {classified.unchanged} unchanged since the last classification" if classified.unchanged else ""))
    for title, table in result.highlights:
        click.echo(title)
        click.echo(render_rows(table.columns, table.rows, "table"))
    click.echo("One model explained (openness explain):")
    click.echo(format_explanation(result.explained))
    click.echo(f"\nreport: {result.report.index}  (open it in a browser)")
    click.echo(f"warehouse: {result.warehouse}  (try: {command_name()} --warehouse {result.warehouse} "
               "explain aurora-labs/aurora-7b)")


def command_name(argv0: str | None = None) -> str:
    """How to run this command again from here: `openness` when that is on PATH and is this one,
    else the path it was started by (after the Quick start: .venv/bin/openness), else `python -m`."""
    started = argv0 if argv0 is not None else sys.argv[0]
    on_path = shutil.which("openness")
    if on_path and started and os.path.exists(started) and os.path.samefile(on_path, started):
        return "openness"
    if started and os.path.basename(started) == "openness" and os.path.exists(started):
        relative = os.path.relpath(started)
        return relative if relative.startswith("..") or os.sep in relative else f".{os.sep}{relative}"
    return f"{sys.executable} -m openness"
