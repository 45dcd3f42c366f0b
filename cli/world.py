"""`openness world ...`: the Hub emulator."""
from __future__ import annotations

import click

from openness.emulator import make_server
from openness.emulator.card_dump import DEFAULT_DATASET, write_card_dump


@click.group()
def world() -> None:
    """Serve a world (a frozen copy of Hub and GitHub repos) as the Hub would."""


@world.command("serve")
@click.argument("world_dirs", nargs=-1, required=True, type=click.Path(exists=True, file_okay=False))
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=0, show_default=True, help="0 picks a free port.")
@click.option("--log-requests", type=click.Path(dir_okay=False), help="Append one JSON line per request.")
@click.option("--rate-limit", metavar="N/SECONDS", help="Fixed-window limit per bucket, e.g. 500/300, or per named "
              "bucket, e.g. api=500/300,resolvers=3000/300 (the Hub's anonymous budget).")
@click.option("--faults", metavar="SPEC", help="e.g. latency=0.05,error=0.1,reset=0.05,truncate=0.05,html=0.05,seed=1; only=TEXT: only requests whose path contains TEXT")
@click.option("--github-rate-limit", metavar="N/SECONDS",
              help="GitHub's own fixed-window limit (default: --rate-limit's), e.g. 60/3600.")
@click.option("--page-size", default=1000, show_default=True, help="Listing and tree page size.")
@click.option("--uploads", type=click.Path(file_okay=False),
              help="Take writes (create_repo, upload_folder, `openness publish`) into this folder, itself a "
                   "world served first; without it the emulator is read-only.")
@click.option("--time-scale", default=1.0, show_default=True, type=click.FloatRange(min=0.001),
              help="Real seconds per second of --rate-limit's windows (a crawl of it needs the same HUB_TIME_SCALE).")
def serve(world_dirs, host, port, log_requests, rate_limit, github_rate_limit, faults, page_size, uploads,
          time_scale) -> None:
    """Serve WORLD_DIRS (several are served as one world; where two hold the same repo, the first
    given wins); the first line of output is the base URL. Stop with Ctrl-C.

    The Hub's API is at the base URL, GitHub's REST API at <base>/api/v3, and the world's web/
    pages at <base>/web/<host>/<path>: `openness crawl --world-endpoint <base>` points the crawl at
    all three.
    With --uploads, repos created through it (a token is needed, as on the Hub) are written there.
    """
    try:
        server = make_server(list(world_dirs), host, port, rate_limit=rate_limit, faults=faults,
                             log_requests=log_requests, page_size=page_size, github_rate_limit=github_rate_limit,
                             uploads=uploads, time_scale=time_scale)
    except (ValueError, OSError) as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(server.base_url)
    click.echo(f"serving {', '.join(world_dirs)}: {len(server.world.repos['models'])} models, "
               f"{len(server.world.repos['datasets'])} datasets, {len(server.world.github)} GitHub repos, "
               f"{len(server.world.papers)} paper pages; crawl it with: openness crawl --world-endpoint "
               f"{server.base_url}", err=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


@world.command("dump-cards")
@click.argument("world_dirs", nargs=-1, required=True, type=click.Path(exists=True, file_okay=False))
@click.option("--out", required=True, type=click.Path(file_okay=False),
              help="A world folder to write the dataset into (serve it beside WORLD_DIRS).")
@click.option("--dataset", "dataset_id", default=DEFAULT_DATASET, show_default=True, help="The dataset's id.")
@click.option("--stale", default=0.0, show_default=True, type=click.FloatRange(0.0, 1.0),
              help="Share of models given a card and last_modified older than the world's.")
@click.option("--seed", default=0, show_default=True, help="Which models are stale.")
@click.option("--date", help="The dump's date (ISO 8601, e.g. 2026-12-04T00:00:00.000Z); default: the day "
                             "after the world's newest model.")
def dump_cards(world_dirs, out, dataset_id, stale, seed, date) -> None:
    """Write a world's model cards as the Hub's daily card dumps hold them: a dataset of Parquet
    files (one row per model: modelId, author, last_modified, createdAt, downloads, likes,
    library_name, tags, pipeline_tag, card), for `openness crawl --bootstrap`."""
    try:
        written = write_card_dump(list(world_dirs), out, dataset_id, stale=stale, seed=seed, date=date)
    except (ValueError, OSError) as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"{written.folder}: {written.rows} cards in {written.files} Parquet "
               f"{'file' if written.files == 1 else 'files'}, {written.stale} stale; dump of {written.date}; "
               f"serve it with: openness world serve {' '.join(world_dirs)} {out}")
