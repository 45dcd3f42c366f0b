"""`openness schedule` and `openness run`: scheduled crawls of a named profile."""
from __future__ import annotations

from pathlib import Path

import click

from openness.pipeline.job import run_job
from openness.pipeline.profiles import load_profile
from openness.pipeline.schedules import cron_line, install_cron, install_systemd, systemd_units

profile_argument = click.argument("profile", type=click.Path(dir_okay=False))


@click.command()
@profile_argument
@click.option("--cron", "kind", flag_value="cron", default=True, help="A crontab line (the default).")
@click.option("--systemd", "kind", flag_value="systemd", help="A systemd service and timer.")
@click.option("--install", is_flag=True, help="Write it: into your crontab (replacing this profile's earlier line), "
                                              "or the unit files into --unit-dir.")
@click.option("--unit-dir", type=click.Path(file_okay=False), default="~/.config/systemd/user", show_default=True,
              help="Where --systemd --install writes the units.")
def schedule(profile, kind, install, unit_dir) -> None:
    """Print (or --install) a schedule that runs `openness run PROFILE` at the profile's
    [schedule] time. PROFILE is a TOML file: selection, endpoints, warehouse, export_dir, keep_runs
    (see docs/operations.md, "Scheduled crawls")."""
    loaded = load_profile(profile)
    if kind == "cron" and install:
        click.echo(f"installed in your crontab:\n{install_cron(loaded)}")
    elif kind == "cron":
        click.echo(cron_line(loaded))
    elif install:
        paths = install_systemd(loaded, Path(unit_dir).expanduser())
        click.echo("wrote " + ", ".join(str(p) for p in paths))
        click.echo(f"enable it: systemctl --user daemon-reload && systemctl --user enable --now {paths[1].name}")
    else:
        units = systemd_units(loaded)
        click.echo(f"# {units.service_name}\n{units.service}\n# {units.timer_name}\n{units.timer}", nl=False)


@click.command("run")
@profile_argument
@click.pass_context
def run_profile(ctx, profile) -> None:
    """Run a profile's job now: crawl, classify, export the run's snapshot, apply retention, write the
    report. One line per step goes to stderr. Exit 0: done; 1: a step failed or the crawl was
    partial; 75: the previous job of this warehouse is still running (nothing done)."""
    loaded = load_profile(profile)
    result = run_job(loaded, lambda line: click.echo(line, err=True))
    ctx.exit(result.exit_code)
