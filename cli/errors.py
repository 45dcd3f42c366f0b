"""How a command ends when something goes wrong: one line on stderr and a documented exit code,
never a traceback for a user's mistake or a broken file.

    0   done
    1   an error: the line says what and, where it can, what to do
    2   a usage error (click's: an unknown option, a missing argument)
    75  retry later: a partial crawl (`openness crawl`), or a job whose previous run still holds
        the warehouse (`openness run`)
"""
from __future__ import annotations

import click
import duckdb

from openness.errors import OpennessError
from openness.warehouse.db import unreadable

EXIT_RETRY_LATER = 75  # sysexits' EX_TEMPFAIL (1 and 2 are click's own)


class OpennessGroup(click.Group):
    """Turns every domain error a command meets into one line (exit 1), in one place: the
    packages' own errors, and a warehouse file DuckDB fails on while a command reads it (a file
    cut short opens, then fails at the first read of a missing block)."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except OpennessError as exc:  # every error of ours raised on purpose
            raise click.ClickException(str(exc)) from exc
        except duckdb.Error as exc:
            warehouse = (ctx.obj or {}).get("warehouse", "")
            raise click.ClickException(str(unreadable(warehouse, exc))) from exc
