"""A world's model cards written as the Hub's daily card dumps are: a dataset repo of Parquet files,
one row per model with its metadata and its README as `card`, in the Hub's Parquet layout
(data/train-NNNNN-of-NNNNN.parquet, and a card whose `configs` names them).

A share of the models can be given an older card and an older `last_modified` than the world
serves, as a dump taken before their last commit holds them, so crawls meet the stale path."""
from __future__ import annotations

import json
import random
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from openness.emulator.store import World

DEFAULT_DATASET = "librarian-bots/model_cards_with_metadata"
ROWS_PER_FILE = 50_000
ROWS_PER_GROUP = 2_000
STALE_AGE = timedelta(days=30)  # how much older a stale row is than the model's last commit

SCHEMA = pa.schema([
    ("modelId", pa.string()), ("author", pa.string()),
    ("last_modified", pa.timestamp("us", tz="UTC")), ("createdAt", pa.timestamp("us", tz="UTC")),
    ("downloads", pa.int64()), ("likes", pa.int64()), ("library_name", pa.string()),
    ("tags", pa.list_(pa.string())), ("pipeline_tag", pa.string()), ("card", pa.string()),
])


@dataclass(frozen=True)
class DumpWritten:
    folder: Path          # the dataset's repo folder inside the output world
    dataset_id: str
    rows: int
    stale: int
    files: int
    date: str             # the dump's lastModified


def write_card_dump(world_dirs: list, out: str | Path, dataset_id: str = DEFAULT_DATASET,
                    stale: float = 0.0, seed: int = 0, date: str | None = None,
                    rows_per_file: int = ROWS_PER_FILE) -> DumpWritten:
    """Write the cards of every listable model of a world that has a README.md into `out`, a world
    folder holding one dataset, `dataset_id`. `stale`: the share of rows given an older card."""
    if not 0.0 <= stale <= 1.0:
        raise ValueError(f"--stale is a share between 0 and 1, not {stale}")
    if dataset_id.count("/") != 1 or not all(dataset_id.split("/")):
        raise ValueError(f"a dataset id is owner/name, not {dataset_id!r}")
    world = World(*world_dirs)
    models = sorted((r for r in world.listable("models") if "README.md" in r.files), key=lambda r: r.id)
    chosen = set(random.Random(seed).sample(range(len(models)), round(stale * len(models))))
    newest = max((_time(r.info.get("lastModified")) for r in models), default=_time(None))
    dump_date = date or _iso(newest + timedelta(days=1))
    folder = Path(out) / "datasets" / dataset_id
    data = folder / "files" / "data"
    data.mkdir(parents=True, exist_ok=True)
    for old in data.glob("train-*.parquet"):
        old.unlink()
    count = max(1, -(-len(models) // rows_per_file))
    for number in range(count):
        part = models[number * rows_per_file: (number + 1) * rows_per_file]
        rows = [_row(repo, number * rows_per_file + i in chosen) for i, repo in enumerate(part)]
        table = pa.Table.from_pylist(rows, schema=SCHEMA)
        pq.write_table(table, data / f"train-{number:05d}-of-{count:05d}.parquet", row_group_size=ROWS_PER_GROUP)
    (folder / "files" / "README.md").write_text(_dataset_card(), "utf-8")
    info = {"id": dataset_id, "lastModified": dump_date, "createdAt": dump_date,
            "tags": ["modality:text", "format:parquet"], "downloads": 0, "likes": 0}
    (folder / "info.json").write_text(json.dumps(info, indent=2) + "\n", "utf-8")
    return DumpWritten(folder, dataset_id, len(models), len(chosen), count, dump_date)


def _row(repo, stale: bool) -> dict:
    info = repo.info
    # a README that is not UTF-8 reaches a dump's text column with U+FFFD in place of its bytes
    card = repo.file_bytes("README.md").decode("utf-8", "replace")
    modified = _time(info.get("lastModified"))
    if stale:  # the card as it was a month before the model's last commit
        card, modified = older_card(card), modified - STALE_AGE
    tags = info.get("tags")
    return {"modelId": repo.id, "author": _text(info.get("author")), "last_modified": modified,
            "createdAt": _time(info.get("createdAt")), "downloads": _count(info.get("downloads")),
            "likes": _count(info.get("likes")), "library_name": _text(info.get("library_name")),
            "tags": [t for t in tags if isinstance(t, str)] if isinstance(tags, list) else [],
            "pipeline_tag": _text(info.get("pipeline_tag")), "card": card}


def older_card(card: str) -> str:
    """An earlier version of a card: its metadata block as it is, its prose not yet written."""
    if card.startswith("---"):
        end = card.find("\n---", 3)
        if end != -1:
            return card[: end + 4] + "\n\n# Model card\n\nMore information needed.\n"
    return "# Model card\n\nMore information needed.\n"


def _dataset_card() -> str:
    return ("---\nconfigs:\n- config_name: default\n  data_files:\n  - split: train\n    path: data/train-*\n---\n\n"
            "# Model cards with metadata\n\nOne row per public model of the Hub: its id, author, dates, "
            "counts, tags and its README as `card`, as they were when this dump was taken.\n")


def _time(value) -> datetime:
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(timezone.utc)
        except ValueError:
            pass
    return datetime(2024, 1, 1, tzinfo=timezone.utc)


def _iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _text(value) -> str | None:
    return value if isinstance(value, str) else None


def _count(value) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and -2**63 <= value < 2**63 else None
