"""The SQL that the declaration of the engine's inputs (taxonomy/inputs.py) builds: a model's shape
in the warehouse (fill.py) and the fingerprints that tell what changed (changes.py). Nothing here
names a field: every query is made from the declaration, so a new input or field reaches both.

Hashes have explicit boundaries: DuckDB hashes several list arguments as if they were one list
(`hash(['a', 'b'], [])` equals `hash(['a'], ['b'])`, structs alike), so a list field is hashed
after its length.
"""
from __future__ import annotations

from openness.classification.taxonomy.inputs import (BASE_LINKS, FINDING_ID, INPUTS, JSON, MARKED, STAGE_NAMES,
                                                     TEXT, TEXTS, Field)

# How a shape's evidence marks the model's id and commit, as JSON text writes the markers (shapes.py).
MARKED_SQL = "replace(replace({field}, sha, '\\u0000S\\u0001'), model_id, '\\u0000M\\u0001')"


def boundaries(fields: tuple[Field, ...] | list[Field], expr=lambda f: f.name) -> str:
    """The fields as hash() arguments, each list after its length."""
    parts = []
    for field in fields:
        parts += [f"len({expr(field)})", expr(field)] if field.kind == TEXTS else [expr(field)]
    return ", ".join(parts)


def no_control(text_sql: str) -> str:
    """SQL: the text holds no control character, nor its escape as JSON text (shapes.CONTROL_MARKS)."""
    return f"NOT (contains({text_sql}, '\\u000') OR contains({text_sql}, chr(0)) OR contains({text_sql}, chr(1)))"


def _texts(fields) -> str:
    """The fields' texts joined, for no_control (NULLs skipped)."""
    parts = [f"array_to_string({f.name}, chr(2))" if f.kind == TEXTS else f.name
             for f in fields if f.kind in (TEXT, TEXTS, JSON)]
    return f"concat_ws(chr(2), {', '.join(parts)})"


def _shape_part(declared) -> str:
    """One input's part of a shape, per commit of the block: an ordered digest of its rows with
    identity taken out (a finding id's place is its order; evidence marked), an order-free sum
    over other bytes (a second key), whether the warehouse may vouch for its texts, and, for the
    input that holds them, the finding ids in their markers' order."""
    kept = [f for f in declared.fields if f.identity != FINDING_ID]
    mark = (lambda f: MARKED_SQL.format(field=f.name) if f.identity == MARKED else f.name)
    plain = [no_control(_texts(declared.fields))]
    plain += [f"regexp_full_match({f.name}, '[A-Za-z0-9._:-]+')" for f in declared.fields if f.identity == FINDING_ID]
    ids = [f", list({f.name} ORDER BY {declared.order}) AS fids" for f in declared.fields if f.identity == FINDING_ID]
    return f"""{declared.name} AS (
    SELECT model_id, sha, hash(list(hash({boundaries(kept, mark)}) ORDER BY {declared.order})) AS digest,
           bit_xor(hash({boundaries(kept[::-1], mark)})) AS sum, bool_and({' AND '.join(plain)}) AS plain{''.join(ids)}
    FROM ({declared.rows.format(keys='wanted')}) GROUP BY model_id, sha
)"""


def shapes_sql(inputs=INPUTS) -> str:
    """block_shapes: one row per model commit of the block (`wanted`): whether the warehouse may
    fill it in, the digest of its inputs with its identity taken out (two: an ordered one and an
    order-free one), its finding ids in the order their markers are numbered, its names for the
    stage words, and the fingerprints it is compared by. `block_bases`: the bases' cells' digests."""
    names = [i.name for i in inputs]
    holder = next(i.name for i in inputs if any(f.identity == FINDING_ID for f in i.fields))
    info = next(i for i in inputs if i.one)
    words = ", ".join(f"coalesce({info.name}_names.{field}, [])" for field in STAGE_NAMES)
    parts = ",\n".join(_shape_part(declared) for declared in inputs)
    joins = "\n".join(f"LEFT JOIN {name} USING (model_id, sha)" for name in names)
    return f"""
CREATE OR REPLACE TEMP TABLE block_shapes AS
WITH {parts},
bases AS (
    SELECT model_id, sha, hash(list(hash(base, digest) ORDER BY n)) AS digest, bool_and(plain) AS plain
    FROM block_bases GROUP BY model_id, sha
),
{info.name}_names AS ({info.rows.format(keys='wanted')})
SELECT w.model_id, w.sha,
       {info.name}.digest IS NOT NULL AND regexp_full_match(w.model_id, '[A-Za-z0-9._-]+/[A-Za-z0-9._-]+')
           AND regexp_full_match(w.sha, '[0-9a-f]{{16,64}}') AND regexp_matches(w.sha, '[a-f]')
           AND {' AND '.join(f'coalesce({n}.plain, true)' for n in names + ['bases'])} AS eligible,
       hash({', '.join(f'{n}.digest' for n in names + ['bases'])}) AS key,
       hash({', '.join(f'coalesce({n}.sum, 0)' for n in names)}) AS key2,
       replace(array_to_string(flatten([[w.model_id], {words}]), ' '), '/', ' ') AS names,
       coalesce({holder}.fids, []) AS fids, i.inputs_fp, i.links_fp, s.sha IS NOT NULL AS stored, s.cells_fp AS stored_fp
FROM wanted w
{joins}
LEFT JOIN bases USING (model_id, sha)
LEFT JOIN {info.name}_names USING (model_id, sha)
LEFT JOIN input_fingerprints i USING (model_id, sha)
LEFT JOIN model_summaries s USING (model_id, sha)
"""


def fingerprints_sql(inputs=INPUTS + (BASE_LINKS,)) -> str:
    """input_fingerprints: one row per latest model commit, with two order-free sums of row hashes:
    its own inputs (inputs_fp) and what its links led to (links_fp), each over every declared
    field of every row (a commit's rows are unique by key, so no two cancel out), and the base
    links the plan reads. A change of any is a change of the model's inputs."""
    everything = inputs
    parts = ",\n".join(f"""{d.name} AS (
    SELECT model_id, sha, bit_xor(hash({boundaries(d.fields)})) AS fp
    FROM ({d.rows.format(keys='latest_models')}) GROUP BY model_id, sha
)""" for d in everything)
    groups = {"inputs": [d.name for d in everything if d.group == "inputs"],
              "links": [d.name for d in everything if d.group == "links"]}
    sums = {group: f"hash({', '.join(f'coalesce({n}.fp, 0)' for n in members)})" for group, members in groups.items()}
    joins = "\n".join(f"LEFT JOIN {d.name} USING (model_id, sha)" for d in everything)
    return f"""
CREATE OR REPLACE TEMP TABLE input_fingerprints AS
WITH {parts}
SELECT m.model_id, m.sha, {sums['inputs']} AS inputs_fp, {sums['links']} AS links_fp
FROM (SELECT model_id, sha FROM latest_models) m
{joins}
"""
