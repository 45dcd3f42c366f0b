"""A snapshot published as a Hub dataset: the Parquet files and manifest of `export`, with a dataset
card (schema, levels, what was crawled when, and `configs` so the Hub's viewer shows each table),
committed with huggingface_hub. The token comes from where huggingface_hub looks (HF_TOKEN, the
login's file) and is never stored. A snapshot that did not change commits nothing: its files are
written the same byte for byte (the manifest's time is the last crawl's, not the export's), and
the client leaves out files whose content the repo already has."""
from __future__ import annotations

import json
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from string import Template

from openness.outputs.errors import PublishFailed
from openness.outputs.export import export_snapshot
from openness.scratch import owned_folder
from openness.warehouse.db import SCHEMA_VERSION, connect

TITLE = "Openness of Hugging Face models"


@dataclass
class PublishResult:
    repo_id: str
    revision: str
    url: str            # the dataset's page
    commit: str         # the revision's commit after publishing
    committed: bool     # False: the repo already held this snapshot, nothing was committed
    files: int
    private: bool


PUBLISH_PREFIX = "openness-publish-"


def publish_snapshot(warehouse: str, repo_id: str, endpoint: str, private: bool = False,
                     revision: str | None = None, progress=None) -> PublishResult:
    """Export the warehouse and commit it to the dataset repo `repo_id` (created when missing);
    progress(tables written, tables) while the snapshot is written (huggingface_hub shows its
    uploads' own)."""
    from huggingface_hub import HfApi
    from huggingface_hub.errors import HfHubHTTPError, HFValidationError
    from huggingface_hub.utils import validate_repo_id

    try:
        validate_repo_id(repo_id)
    except HFValidationError as exc:
        raise PublishFailed(f"{repo_id!r} is not a Hub repo id (owner/name): {_first_line(exc)}") from exc
    api = HfApi(endpoint=endpoint)
    with owned_folder(PUBLISH_PREFIX) as scratch:
        folder = Path(scratch) / "snapshot"  # beside the owner's pid, which is not uploaded
        folder.mkdir()
        stage_snapshot(warehouse, folder, repo_id, progress)
        try:
            return _commit(api, folder, repo_id, private, revision)
        except HfHubHTTPError as exc:
            status = getattr(getattr(exc, "response", None), "status_code", None)
            if status == 412:
                raise PublishFailed(f"{repo_id} changed while this snapshot was uploading (another publish?); nothing "
                                    "was committed: publish again") from exc
            raise PublishFailed(f"the Hub at {endpoint} refused to publish {repo_id}: {_first_line(exc)}"
                                + (f"; {_token_hint()}" if status in (401, 403) else "")) from exc
        except (*_transport_errors(), OSError) as exc:
            raise PublishFailed(f"could not reach the Hub at {endpoint}: {_first_line(exc)}") from exc


def _commit(api, folder: Path, repo_id: str, private: bool, revision: str | None) -> PublishResult:
    # created only when missing: create_repo(exist_ok=True) answers a refused creation of an
    # existing repo with a URL of its own making, which it cannot parse off the public Hub
    if not api.repo_exists(repo_id, repo_type="dataset"):
        api.create_repo(repo_id, repo_type="dataset", private=private)
    url = f"{api.endpoint}/datasets/{repo_id}"
    if revision:
        api.create_branch(repo_id, repo_type="dataset", branch=revision, exist_ok=True)
    before = api.dataset_info(repo_id, revision=revision).sha
    # on top of the head read above, or not at all: two publishes racing to one repo would otherwise
    # mix one's manifest with the other's Parquet files (the Hub answers a stale parent with 412)
    commit = api.upload_folder(repo_id=repo_id, repo_type="dataset", folder_path=str(folder), revision=revision,
                               commit_message=f"openness snapshot (schema {SCHEMA_VERSION})", parent_commit=before)
    return PublishResult(repo_id=repo_id, revision=revision or "main", url=url, commit=commit.oid,
                         committed=commit.oid != before, files=sum(1 for _ in folder.iterdir()), private=private)


def stage_snapshot(warehouse: str, folder: Path, repo_id: str, progress=None) -> None:
    """The snapshot's Parquet files, manifest and dataset card in `folder`."""
    with connect(warehouse, read_only=True) as con:
        facts = _crawl_facts(con)
    result = export_snapshot(warehouse, folder, created_at=facts["last_crawl"], progress=progress)
    manifest = json.loads(Path(result.manifest).read_text(encoding="utf-8"))
    (folder / "README.md").write_text(dataset_card(repo_id, manifest, facts, _columns(folder)), encoding="utf-8")


def dataset_card(repo_id: str, manifest: dict, facts: dict, columns: dict[str, list[str]]) -> str:
    tables = {entry["table"]: (name, entry["rows"]) for name, entry in sorted(manifest["files"].items())}
    configs = "\n".join(f"- config_name: {table}\n  data_files: {name}"
                        + ("\n  default: true" if table == "latest_summaries" else "")
                        for table, (name, _) in tables.items())
    rows = "\n".join(f"| `{table}` | {'current state' if table.startswith('latest_') else 'full history'} | "
                     f"{count:,} | {', '.join(f'`{c}`' for c in columns.get(table, []))} |"
                     for table, (_, count) in tables.items())
    template = Template(files("openness.outputs").joinpath("data/dataset_card.md").read_text(encoding="utf-8"))
    return template.substitute(
        title=TITLE, repo_id=repo_id, configs=configs, tables=rows, schema_version=manifest["schema_version"],
        crawled=facts["crawled"], selections=facts["selections"], endpoints=facts["endpoints"],
        models=f"{facts['models']:,}", classified=f"{facts['classified']:,}")


def _crawl_facts(con) -> dict:
    runs = con.execute("SELECT started_at, finished_at, endpoint, selection FROM crawl_runs "
                       "WHERE status IN ('complete', 'partial') ORDER BY started_at").fetchall()
    if not runs:
        raise PublishFailed("the warehouse holds no finished crawl: nothing to publish")
    selections = sorted({_selection_text(json.loads(s) if isinstance(s, str) else (s or {})) for *_, s in runs})
    models = con.execute("SELECT count(*) FROM latest_models").fetchall()[0][0]
    classified = con.execute("SELECT count(*) FROM latest_summaries").fetchall()[0][0]
    last = max(r[1] or r[0] for r in runs)
    return {"crawled": f"{runs[0][0]:%Y-%m-%d} to {last:%Y-%m-%d} ({len(runs)} crawls)" if len(runs) > 1
            else f"{runs[0][0]:%Y-%m-%d}", "last_crawl": last.isoformat() + "Z",
            "selections": "; ".join(selections), "endpoints": ", ".join(sorted({r[2] for r in runs if r[2]})),
            "models": models, "classified": classified}


def _selection_text(selection: dict) -> str:
    parts = [f"{key} {', '.join(map(str, value)) if isinstance(value, list) else value}"
             for key, value in sorted(selection.items()) if value not in (None, [], False, "")]
    return " and ".join(parts) or "the whole listing"


def _columns(folder: Path) -> dict[str, list[str]]:
    import pyarrow.parquet as pq
    return {path.stem: pq.read_schema(path).names for path in sorted(folder.glob("*.parquet"))}


def _transport_errors() -> tuple[type[Exception], ...]:
    """The HTTP library's errors for a connection refused, a timeout or a cut answer: huggingface_hub
    has used requests, httpx and httpx2 in turn."""
    import importlib
    found = []
    for module, name in (("httpx2", "HTTPError"), ("httpx", "HTTPError"), ("requests", "RequestException")):
        try:
            found.append(getattr(importlib.import_module(module), name))
        except (ImportError, AttributeError):
            continue
    return tuple(found)


def _token_hint() -> str:
    """What to do about a refused write: publishing needs a token with write access."""
    from huggingface_hub import get_token
    if get_token() is None:
        return "no Hub token was found: set HF_TOKEN or run `huggingface-cli login` (a token with write access)"
    return "the token (HF_TOKEN, else the `huggingface-cli login` one) may lack write access to this repo"


def _first_line(exc: Exception) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]
