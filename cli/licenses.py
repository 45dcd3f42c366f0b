"""`openness licenses`: the licence knowledge base and its rubric scores."""
from __future__ import annotations

import json
from dataclasses import asdict

import click

from openness.cli.formatting import render_rows
from openness.crawler.settings import DEFAULTS
from openness.extractors.identify import default_identifier
from openness.extractors.knowledge import CRITERIA, knowledge

CRAWL_DOCUMENT_CAP = DEFAULTS["CRAWL_MAX_DOCUMENT_BYTES"]

_SHORT = {"research": "R", "commercial": "C", "modify": "M", "copyright_derivative": "D",
          "other_license_derivative": "O"}


@click.group(invoke_without_command=True)
@click.option("--json", "as_json", is_flag=True, help="Every licence with its rubric answers and justifications.")
@click.pass_context
def licenses(ctx: click.Context, as_json: bool) -> None:
    """List the licence knowledge base: each licence's SPDX id (or LicenseRef), its five rubric answers
    (research, commercial use, modification, copyright in derivatives, derivatives under other terms)
    and points out of 5, and whether it is OSI-approved and on FSF's free list (as the SPDX License
    List marks them; - where no fact is recorded). Columns R C M D O OSI FSF in the table; --json adds
    the justifications and the facts' sources. A classified warehouse holds the same as its
    `licences` table."""
    if ctx.invoked_subcommand is not None:
        return
    rows = [licence.as_row() for licence in sorted(knowledge().values(), key=lambda l: l.id)]
    if as_json:
        click.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    columns = ["id", "spdx_id"] + [_SHORT[c] for c in CRITERIA] + ["points", "OSI", "FSF", "name"]
    table = [(r["id"], r["spdx_id"], *("✓" if r[c] else "·" for c in CRITERIA), r["points"],
              *_fact(r["osi_approved"]), *_fact(r["fsf_libre"]), r["name"]) for r in rows]
    click.echo(render_rows(columns, table, "table", max_width=48), nl=False)


def _fact(value: bool | None) -> tuple[str]:
    return ("-" if value is None else "✓" if value else "·",)


@licenses.command("identify")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Every match with its score and method.")
def identify(files, as_json) -> None:
    """Name the licence of each text FILE, with a score; 'unknown' rather than a guess."""
    identifier = default_identifier()
    results = []
    for path in files:
        with open(path, "rb") as handle:
            text = handle.read(CRAWL_DOCUMENT_CAP).decode("utf-8", errors="replace")
        found = identifier.identify(text)
        results.append({"file": path, "licence": found.licence_id, "matches": [asdict(m) for m in found.matches]})
    if as_json:
        click.echo(json.dumps(results, indent=2))
        return
    for result in results:
        best = max(result["matches"], key=lambda m: m["score"]) if result["matches"] else None
        label = (f"{best['licence_id'] or '(not in the knowledge base)'}  {best['spdx_id']}  score {best['score']:.2f}  "
                 f"by {best['method']}") if best else "unknown"
        click.echo(f"{result['file']}: {label}")
