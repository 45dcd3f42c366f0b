"""The Hub's daily card dumps as a source of model cards for a first crawl.

A dump is a Hub dataset of Parquet files, one row per public model: `modelId`, `last_modified`
and the README text as `card`, beside other metadata. Reading it costs a few requests (the
dataset's info, one resolver download per file, cached by huggingface_hub), where reading every
card costs one resolver request per model. The listing stays the source of truth for each model's
commit and lastModified: a dump row counts for a model only when it is at least as new as the
listing says the model is (`fresh_card`).

The rows are copied once into a DuckDB file of the crawl's own (its job folder), so the crawl
looks up a listing page's ids without holding the dump in memory."""
from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from datetime import datetime

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from openness.crawler.hub import decode_document, sha256_hex
from openness.crawler.records import naive_utc, utcnow
from openness.errors import OpennessError
from openness.extractors import locations

logger = logging.getLogger(__name__)

# What a dump must hold, and the types each column may have.
_STRINGS = (pa.string(), pa.large_string())
REQUIRED = {"modelId": "a string", "last_modified": "a timestamp or an ISO 8601 string", "card": "a string"}
# DuckDB's memory while it copies the rows (it spills to the job folder past it).
INDEX_MEMORY = "256MB"


class DumpUnreadable(OpennessError):
    """A card dump that cannot be read, or whose schema is not one we know; the crawl goes on per model."""


@dataclass(frozen=True)
class DumpSource:
    """Which dump a card came from: the dataset, its commit and its date (the commit's time)."""
    dataset: str
    revision: str
    date: datetime | None  # naive UTC
    files: tuple[str, ...]

    def describe(self) -> str:
        day = self.date.strftime("%Y-%m-%d") if self.date else "an unknown date"
        return f"the Hub's daily dump of {day} ({self.dataset}@{self.revision[:12]})"


@dataclass(frozen=True)
class DumpCard:
    text: str
    last_modified: datetime  # naive UTC
    file: str                # the dump's Parquet file, as a repo path
    row: int                 # 0-based row in that file


class CardDump:
    """The rows of one dump, looked up by model id."""

    def __init__(self, source: DumpSource, index_path: str, requests: dict[str, int] | None = None):
        self.source = source
        self.requests = requests or {}  # what opening it cost, per bucket
        self.con = duckdb.connect(index_path, read_only=True)

    def cards(self, model_ids: list[str]) -> dict[str, DumpCard]:
        """The newest row of each id the dump holds with a card."""
        if not model_ids:
            return {}
        rows = self.con.execute(
            "SELECT model_id, last_modified, card, file, row FROM cards WHERE model_id IN (SELECT unnest($ids)) "
            "QUALIFY row_number() OVER (PARTITION BY model_id ORDER BY last_modified DESC, file DESC, row DESC) = 1",
            {"ids": list(model_ids)}).fetchall()
        return {model_id: DumpCard(card, modified, self.source.files[file], row)
                for model_id, modified, card, file, row in rows}

    def close(self) -> None:
        self.con.close()


def fresh_card(card: DumpCard | None, listed_modified: datetime | None) -> bool:
    """Whether a dump's card is the model's card at its listed commit: the row is at least as new as
    the listing's lastModified, to the precision both give (the listing's milliseconds; the whole
    second when the dump keeps no fraction, as a dump written with second precision does). A model
    the listing gives no date for is never taken from a dump."""
    listed = naive_utc(listed_modified)
    if card is None or listed is None:
        return False
    dumped = card.last_modified
    if dumped.microsecond == 0:
        return dumped >= listed.replace(microsecond=0)
    return dumped.replace(microsecond=dumped.microsecond // 1000 * 1000) >= listed


def document_row(model_id: str, sha: str, card: DumpCard, source: DumpSource, max_bytes: int) -> dict:
    """A README.md row read from a dump: the model's commit from the listing, and where in the dump
    the text was (dataset, revision, file, row) in place of an HTTP answer. The card's UTF-8 bytes
    are decoded and cut as a fetched README's are, so both give the same text."""
    raw = card.text.encode("utf-8", "surrogatepass")
    text, encoding, truncated = decode_document(raw, max_bytes)
    return {"model_id": model_id, "sha": sha, "path": "README.md",
            "url": locations.file_url("dataset", source.dataset, source.revision, card.file),
            "http_status": 200, "sha256": sha256_hex(raw), "size_bytes": len(raw), "encoding": encoding,
            "truncated": truncated, "text": text, "fetched_at": utcnow(),
            "dump_dataset": source.dataset, "dump_revision": source.revision, "dump_file": card.file,
            "dump_row": card.row, "dump_date": source.date}


def open_dump(dataset: str, endpoint: str, token, work_dir: str, cache_dir: str | None = None) -> CardDump:
    """Download a dump's Parquet files (huggingface_hub's cache keeps them), check their schema and
    copy their rows into an index in work_dir. Raises DumpUnreadable, saying why in one line."""
    from huggingface_hub import HfApi, hf_hub_download, try_to_load_from_cache
    from huggingface_hub.utils import disable_progress_bars
    disable_progress_bars()  # the crawl's own bar says the dump is being read
    requests = {"api": 1, "resolvers": 0}
    try:
        info = HfApi(endpoint=endpoint, token=token, library_name="openness").dataset_info(dataset)
        files = tuple(sorted(s.rfilename for s in info.siblings or [] if s.rfilename.endswith(".parquet")))
        if not files:
            raise DumpUnreadable(f"card dump {dataset}: the dataset holds no Parquet file")
        source = DumpSource(dataset, info.sha, naive_utc(info.last_modified), files)
        local = []
        for name in files:  # a file cached at this commit costs nothing; else a HEAD and a GET
            cached = try_to_load_from_cache(dataset, name, cache_dir=cache_dir, revision=info.sha, repo_type="dataset")
            requests["resolvers"] += 0 if isinstance(cached, str) else 2
            local.append(hf_hub_download(dataset, name, repo_type="dataset", revision=info.sha, endpoint=endpoint,
                                         token=token, cache_dir=cache_dir))
    except DumpUnreadable:
        raise
    except Exception as exc:  # the Hub's errors, a cut download, a full disk: the crawl goes on without it
        raise DumpUnreadable(f"card dump {dataset} could not be read: {_short(exc)}") from None
    for name, path in zip(files, local):
        problem = schema_problem(path)
        if problem:
            raise DumpUnreadable(f"card dump {dataset}: {name} {problem}")
    index_path = os.path.join(work_dir, "card-dump.duckdb")
    try:
        _copy_rows(local, index_path, work_dir)
    except (duckdb.Error, OSError) as exc:
        raise DumpUnreadable(f"card dump {dataset} could not be read: {_short(exc)}") from None
    return CardDump(source, index_path, requests)


def schema_problem(path: str) -> str | None:
    """Why a Parquet file is not a card dump we know, or None."""
    try:
        schema = pq.read_schema(path)
    except Exception as exc:  # not Parquet at all, or cut short
        return f"is not a Parquet file ({_short(exc)})"
    for name, wanted in REQUIRED.items():
        if name not in schema.names:
            return f"has no column {name!r} (its columns: {', '.join(schema.names[:12])})"
        kind = schema.field(name).type
        ok = kind in _STRINGS or (name == "last_modified" and pa.types.is_timestamp(kind))
        if not ok:
            return f"has column {name!r} as {kind}, not {wanted}"
    return None


def _copy_rows(local: list[str], index_path: str, work_dir: str) -> None:
    if os.path.exists(index_path):
        os.remove(index_path)
    con = duckdb.connect(index_path, config={"memory_limit": INDEX_MEMORY, "temp_directory": work_dir,
                                             "preserve_insertion_order": False})
    try:
        con.execute("SET TimeZone = 'UTC'")
        con.execute("CREATE TABLE cards (model_id VARCHAR, last_modified TIMESTAMP, card VARCHAR, "
                    "file INTEGER, row BIGINT)")
        for number, path in enumerate(local):
            # a date that is no date, an empty card: the row does not count (the card is fetched)
            con.execute(
                "INSERT INTO cards SELECT modelId, TRY_CAST(TRY_CAST(last_modified AS TIMESTAMPTZ) AS TIMESTAMP), "
                "card, $file, file_row_number FROM read_parquet($path, file_row_number = true) "
                "WHERE modelId IS NOT NULL AND card IS NOT NULL AND card <> '' "
                "AND TRY_CAST(TRY_CAST(last_modified AS TIMESTAMPTZ) AS TIMESTAMP) IS NOT NULL",
                {"file": number, "path": path})
        con.execute("CHECKPOINT")
    finally:
        con.close()


def _short(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text[:300]
