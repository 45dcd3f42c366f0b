"""Option decorators shared by several commands."""
from __future__ import annotations

import click

from crawler.settings import DEFAULTS


def hub_endpoint(function):
    return click.option("--hub-endpoint", default=DEFAULTS["HUB_ENDPOINT"], show_default=True,
                        help="Base URL of the Hub, or of an emulator (default: HF_ENDPOINT, else the Hub).")(function)


def output_format(function):
    function = click.option("--csv", "fmt", flag_value="csv", help="Write CSV.")(function)
    function = click.option("--json", "fmt", flag_value="json", help="Write JSON.")(function)
    return click.option("--table", "fmt", flag_value="table", default=True, help="A table (the default).")(function)


def json_flag(function):
    return click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")(function)


def warehouse_path(ctx: click.Context) -> str:
    return ctx.find_root().obj["warehouse"]
