"""The licence knowledge base as the warehouse's `licences` table: written again by every classify
run, in the same transaction style as its cells, so the table always holds the knowledge the cells
were made with (a licence id in a cell's `licences` joins to its row)."""
from __future__ import annotations

import json

import pyarrow as pa

from openness.extractors.knowledge import CRITERIA, knowledge
from openness.warehouse.db import write_registered
from openness.warehouse.staging import arrow_schema


def licence_rows() -> list[dict]:
    rows = []
    for licence in sorted(knowledge().values(), key=lambda l: l.id):
        rows.append({"licence_id": licence.id, "name": licence.name, "spdx_id": licence.spdx_id, "kind": licence.kind,
                     "is_family": licence.family, "points": licence.points,
                     **{c: licence.rubric[c].allowed for c in CRITERIA},
                     "justification": json.dumps({c: licence.rubric[c].why for c in CRITERIA}, sort_keys=True),
                     "osi_approved": licence.osi_approved, "fsf_libre": licence.fsf_libre,
                     "category": licence.category, "facts_source": licence.facts_source, "url": licence.url})
    return rows


def write_licences(con) -> int:
    """Replace the licences table with the knowledge base; how many rows it holds."""
    rows = licence_rows()
    table = pa.Table.from_pylist(rows, schema=arrow_schema("licences"))
    write_registered(con, {"knowledge_rows": table},
                     ["DELETE FROM licences", "INSERT INTO licences BY NAME SELECT * FROM knowledge_rows"])
    return len(rows)
