"""Option decorators shared by several commands."""
from __future__ import annotations

import functools

import click

from openness.crawler.settings import DEFAULTS


def hub_endpoint(function):
    return click.option("--hub-endpoint", default=DEFAULTS["HUB_ENDPOINT"], show_default=True,
                        help="Base URL of the Hub, or of an emulator (default: HF_ENDPOINT, else the Hub).")(function)


def follow_options(function):
    """How links are followed: depth, GitHub's API, web pages, papers (crawl and audit); and
    --world-endpoint, which points the Hub, GitHub and web pages at one emulator (the command gets
    hub_endpoint, github_api and web_base set from it)."""
    @functools.wraps(function)
    def pointed(*args, **kwargs):
        world = kwargs.pop("world_endpoint")
        if world:
            kwargs.update(world_endpoints(world, [name for name in ("hub_endpoint", "github_api", "web_base")
                                                  if _given(name)]))
        return function(*args, **kwargs)
    options = [
        click.option("--world-endpoint", metavar="URL", envvar="OPENNESS_WORLD_ENDPOINT",
                     help="An emulator's base URL (`openness world serve` prints it): the Hub there, GitHub at "
                          "URL/api/v3, web pages at URL/web. Instead of --hub-endpoint, --github-api, --web-base."),
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
        pointed = option(pointed)
    return pointed


def world_endpoints(world: str, given: list[str]) -> dict[str, str]:
    """hub_endpoint, github_api and web_base of an emulator at `world`; given: those the user set too."""
    if given:
        flags = ", ".join("--" + name.replace("_", "-") for name in given)
        raise click.UsageError(f"--world-endpoint points every service at the emulator: leave out {flags}")
    base = world.rstrip("/")
    return {"hub_endpoint": base, "github_api": f"{base}/api/v3", "web_base": f"{base}/web"}


def _given(name: str) -> bool:
    source = click.get_current_context().get_parameter_source(name)
    return source in (click.core.ParameterSource.COMMANDLINE, click.core.ParameterSource.ENVIRONMENT)


FORMATS = ("table", "json", "csv")


def output_format(function):
    """--table (the default), --json or --csv, passed on as `fmt`; two of them is a usage error
    (the last one given used to win without a word)."""
    @functools.wraps(function)
    def chosen(*args, **kwargs):
        asked = [name for name in FORMATS if kwargs.pop(f"as_{name}")]
        if len(asked) > 1:
            raise click.UsageError(f"--{asked[0]} and --{asked[1]} ask for two formats: give one")
        return function(*args, fmt=asked[0] if asked else "table", **kwargs)
    for name, help_text in reversed((("table", "A table (the default)."), ("json", "Write JSON."),
                                     ("csv", "Write CSV."))):
        chosen = click.option(f"--{name}", f"as_{name}", is_flag=True, help=help_text)(chosen)
    return chosen


def json_flag(function):
    return click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")(function)


def warehouse_path(ctx: click.Context) -> str:
    return ctx.find_root().obj["warehouse"]
