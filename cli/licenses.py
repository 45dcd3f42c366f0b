"""`openness licenses`: the licence knowledge base and its rubric scores."""
from __future__ import annotations

import json

import click

from cli.formatting import render_rows
from extractors.knowledge import CRITERIA, KnowledgeError, knowledge

_SHORT = {"research": "R", "commercial": "C", "modify": "M", "copyright_derivative": "D",
          "other_license_derivative": "O"}


@click.group(invoke_without_command=True)
@click.option("--json", "as_json", is_flag=True, help="Every licence with its rubric answers and justifications.")
@click.pass_context
def licenses(ctx: click.Context, as_json: bool) -> None:
    """List the licence knowledge base: each licence's SPDX id (or LicenseRef), its five rubric answers
    (research, commercial use, modification, copyright in derivatives, derivatives under other terms)
    and points out of 5. Columns R C M D O in the table; --json adds the justifications."""
    if ctx.invoked_subcommand is not None:
        return
    try:
        rows = [licence.as_row() for licence in sorted(knowledge().values(), key=lambda l: l.id)]
    except KnowledgeError as exc:
        raise click.ClickException(str(exc)) from exc
    if as_json:
        click.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    columns = ["id", "spdx_id"] + [_SHORT[c] for c in CRITERIA] + ["points", "name"]
    table = [(r["id"], r["spdx_id"], *("✓" if r[c] else "·" for c in CRITERIA), r["points"], r["name"]) for r in rows]
    click.echo(render_rows(columns, table, "table", max_width=48), nl=False)
