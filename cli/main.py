"""The `openness` command: global options, then one module per command group."""
from __future__ import annotations

import logging

import click

from openness.cli import classify, crawl, extract, licenses, query, schedule, world
from openness.cli.errors import OpennessGroup


@click.group(cls=OpennessGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option("--warehouse", envvar="OPENNESS_WAREHOUSE", default="./openness.duckdb", show_default=True,
              type=click.Path(dir_okay=False), help="The DuckDB warehouse file (env OPENNESS_WAREHOUSE).")
@click.option("-v", "--verbose", count=True, help="More log output; repeat for debug.")
@click.version_option(package_name="openness")
@click.pass_context
def cli(ctx: click.Context, warehouse: str, verbose: int) -> None:
    """Audit how open Hugging Face models are, component by component, with evidence.

    Exit codes: 0 done; 1 an error (one line says what); 2 a usage error; 75 retry later (a
    partial crawl, or a job whose previous run still holds the warehouse)."""
    ctx.obj = {"warehouse": warehouse, "verbose": verbose}
    level = logging.WARNING if not verbose else (logging.INFO if verbose == 1 else logging.DEBUG)
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")


cli.add_command(world.world)
cli.add_command(crawl.crawl)
cli.add_command(crawl.demo)
cli.add_command(query.query)
cli.add_command(query.export)
cli.add_command(query.publish)
cli.add_command(query.diff)
cli.add_command(query.retain_command)
cli.add_command(schedule.schedule)
cli.add_command(schedule.run_profile)
cli.add_command(licenses.licenses)
cli.add_command(extract.extract)
cli.add_command(classify.classify)
cli.add_command(classify.explain_command)
cli.add_command(classify.evaluate)
cli.add_command(classify.audit)
cli.add_command(classify.report)
