"""Option decorators shared by several commands."""
from __future__ import annotations

import click

from openness.crawler.settings import DEFAULTS


def hub_endpoint(function):
    return click.option("--hub-endpoint", default=DEFAULTS["HUB_ENDPOINT"], show_default=True,
                        help="Base URL of the Hub, or of an emulator (default: HF_ENDPOINT, else the Hub).")(function)


def follow_options(function):
    """How links are followed: depth, GitHub's API, web pages, papers (crawl and audit)."""
    options = [
        click.option("--follow-depth", type=click.IntRange(min=0), default=DEFAULTS["FOLLOW_MAX_DEPTH"], show_default=True,
                     help="Follow links to datasets, base models, GitHub repos and papers this many steps; 0: none."),
        click.option("--github-api", default=DEFAULTS["GITHUB_API"], show_default=True, envvar="OPENNESS_GITHUB_API",
                     help="GitHub's REST API base URL (GitHub Enterprise or an emulator: <base>/api/v3). "
                          "GITHUB_TOKEN is sent when set, never stored."),
        click.option("--web-base", envvar="OPENNESS_WEB_BASE",
                     help="Read web pages (papers) as <base>/<host>/<path>, e.g. an emulator's <base>/web."),
        click.option("--papers/--no-papers", default=True, show_default=True,
                     help="Read cited papers' abstract pages where robots.txt allows (ids are recorded either way)."),
    ]
    for option in reversed(options):
        function = option(function)
    return function


def output_format(function):
    function = click.option("--csv", "fmt", flag_value="csv", help="Write CSV.")(function)
    function = click.option("--json", "fmt", flag_value="json", help="Write JSON.")(function)
    return click.option("--table", "fmt", flag_value="table", default=True, help="A table (the default).")(function)


def json_flag(function):
    return click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")(function)


def warehouse_path(ctx: click.Context) -> str:
    return ctx.find_root().obj["warehouse"]
