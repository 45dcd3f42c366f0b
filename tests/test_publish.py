"""`openness publish` (issue 19): a snapshot committed as a Hub dataset through the emulator's write
routes with the unmodified huggingface_hub client, read back with the client and DuckDB; an
unchanged warehouse published again commits nothing; refusals are one clear line."""
from __future__ import annotations

import hashlib
import json

import duckdb
import pytest
import yaml
from click.testing import CliRunner
from huggingface_hub import HfApi, snapshot_download
from huggingface_hub.errors import RepositoryNotFoundError

from conftest import request_log, world_endpoints
from openness.classification.scale.classify import classify_warehouse
from openness.cli.main import cli
from openness.emulator import sample_world_path
from openness.pipeline.runner import CrawlConfig, run_crawl
from openness.outputs.export import snapshot_views
from openness.warehouse.db import TABLES

REPO = "openness-audits/hub-openness"


@pytest.fixture(scope="module")
def classified(tmp_path_factory, sample_world):
    from openness.emulator import serving
    warehouse = str(tmp_path_factory.mktemp("publish") / "openness.duckdb")
    with serving(sample_world) as server:
        run_crawl(CrawlConfig(warehouse=warehouse, use_token=False, follow_depth=0, **world_endpoints(server)))
    classify_warehouse(warehouse)
    return warehouse


@pytest.fixture
def token(monkeypatch, tmp_path):
    monkeypatch.setenv("HF_TOKEN", "hf_publish_test_token")
    monkeypatch.setenv("HF_TOKEN_PATH", str(tmp_path / "no-stored-token"))
    return "hf_publish_test_token"


def publish(warehouse, server, *args):
    return CliRunner().invoke(cli, ["--warehouse", warehouse, "publish", REPO, "--hub-endpoint", server.base_url, *args])


def test_a_snapshot_round_trips_through_the_hub_client_and_duckdb(classified, emulator, token, tmp_path):
    server = emulator(sample_world_path(), uploads=str(tmp_path / "uploads"))
    first = publish(classified, server)
    assert first.exit_code == 0, first.output
    assert f"{server.base_url}/datasets/{REPO} (main): " in first.output and "committed" in first.output
    assert token not in first.output and token not in json.dumps(request_log(server))  # never printed or logged

    local = snapshot_download(REPO, repo_type="dataset", endpoint=server.base_url, cache_dir=str(tmp_path / "cache"))
    manifest = json.loads(open(f"{local}/manifest.json", encoding="utf-8").read())
    assert {entry["table"] for entry in manifest["files"].values()} == set(TABLES) | set(snapshot_views())
    with duckdb.connect(classified, read_only=True) as warehouse:
        for name, entry in manifest["files"].items():
            data = open(f"{local}/{name}", "rb").read()
            assert hashlib.sha256(data).hexdigest() == entry["sha256"], name
            read = duckdb.sql(f"SELECT count(*) FROM read_parquet('{local}/{name}')").fetchall()[0][0]
            assert read == entry["rows"] == warehouse.execute(f"SELECT count(*) FROM {entry['table']}").fetchall()[0][0]
        cells = warehouse.execute("SELECT model_id, component, label FROM classifications ORDER BY ALL").fetchall()
    assert duckdb.sql(f"SELECT model_id, component, label FROM read_parquet('{local}/classifications.parquet') "
                      "ORDER BY ALL").fetchall() == cells and cells

    card = open(f"{local}/README.md", encoding="utf-8").read()
    front = yaml.safe_load(card.split("---")[1])
    assert {c["config_name"]: c["data_files"] for c in front["configs"]} == {
        t: f"{t}.parquet" for t in (*TABLES, *snapshot_views())}
    assert [c["config_name"] for c in front["configs"] if c.get("default")] == ["latest_summaries"]
    assert "| `latest_classifications` | current state |" in card and "| `classifications` | full history |" in card
    assert "| C1 / D1 | not released" in card and "| `classifications` |" in card
    assert "**Selection**: the whole listing" in card and "**Hub endpoint**: http://127.0.0.1:" in card

    commits = [r for r in request_log(server) if r["path"].endswith("/commit/main")]
    again = publish(classified, server)
    assert again.exit_code == 0, again.output
    assert "nothing committed" in again.output
    assert [r for r in request_log(server) if r["path"].endswith("/commit/main")] == commits
    # what the emulator stored is a world repo: a later emulator serves it as it is
    assert (tmp_path / "uploads" / "datasets" / REPO / "files" / "classifications.parquet").is_file()
    assert not (tmp_path / "uploads" / "datasets" / REPO / "files" / "owner.pid").exists()


def test_a_killed_publish_leaves_no_snapshot_behind_for_long(classified, emulator, token, tmp_path, monkeypatch):
    """A publish killed with -9 never removes its folder (the whole snapshot); the next one does,
    and leaves alone the folder of a publish still running and folders not ours."""
    import os
    import tempfile
    from openness.outputs.publish import PUBLISH_PREFIX
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    for name, pid in (("killed", 2**22 + 7), ("running", os.getpid()), ("foreign", None)):
        folder = scratch / f"{PUBLISH_PREFIX}{name}"
        (folder / "snapshot").mkdir(parents=True)
        if pid is not None:
            (folder / "owner.pid").write_text(str(pid))
    server = emulator(sample_world_path(), uploads=str(tmp_path / "uploads"))
    assert publish(classified, server).exit_code == 0
    assert sorted(p.name for p in scratch.iterdir()) == [f"{PUBLISH_PREFIX}foreign", f"{PUBLISH_PREFIX}running"]


def test_a_private_dataset_shows_only_to_a_token(classified, emulator, token, tmp_path):
    server = emulator(sample_world_path(), uploads=str(tmp_path / "uploads"))
    result = publish(classified, server, "--private")
    assert result.exit_code == 0, result.output
    assert HfApi(endpoint=server.base_url).dataset_info(REPO).private is True
    with pytest.raises(RepositoryNotFoundError):
        HfApi(endpoint=server.base_url, token=False).dataset_info(REPO)


def test_refusals_are_one_clear_line(classified, emulator, token, monkeypatch, tmp_path):
    read_only = emulator(sample_world_path())
    result = publish(classified, read_only)
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "refused to publish" in result.output and "read-only" in result.output

    writable = emulator(sample_world_path(), uploads=str(tmp_path / "uploads"))
    branch = publish(classified, writable, "--revision", "v2")  # the emulator holds main only
    assert branch.exit_code == 1 and "Traceback" not in branch.output and "refused to publish" in branch.output
    monkeypatch.delenv("HF_TOKEN")
    anonymous = publish(classified, writable)
    assert anonymous.exit_code == 1 and "Traceback" not in anonymous.output and "refused" in anonymous.output
    assert "no Hub token was found: set HF_TOKEN or run `huggingface-cli login`" in anonymous.output

    gone = CliRunner().invoke(cli, ["--warehouse", classified, "publish", REPO, "--hub-endpoint", "http://127.0.0.1:9"])
    assert gone.exit_code == 1 and "could not reach the Hub at http://127.0.0.1:9" in gone.output


def test_a_warehouse_without_a_crawl_has_nothing_to_publish(emulator, token, tmp_path):
    from openness.warehouse.db import connect
    empty = str(tmp_path / "empty.duckdb")
    server = emulator(sample_world_path(), uploads=str(tmp_path / "uploads"))
    missing = publish(empty, server)
    assert missing.exit_code == 1 and "no warehouse at" in missing.output
    with connect(empty):  # created, never crawled
        pass
    result = publish(empty, server)
    assert result.exit_code == 1 and "no finished crawl" in result.output


def test_long_writes_report_their_progress(classified, tmp_path):
    """What the CLI's bars (on a terminal only) are drawn from: tables written of all, models of all."""
    from openness.outputs.export import export_snapshot
    from openness.outputs.spdx import export_spdx
    tables, models = [], []
    export_snapshot(classified, tmp_path / "snap", progress=lambda done, total: tables.append((done, total)))
    files = len(TABLES) + len(snapshot_views())
    assert tables == [(n, files) for n in range(1, files + 1)]
    written = export_spdx(classified, tmp_path / "spdx", ["aurora-labs/aurora-7b", "openfield/polyglot-1b"],
                          progress=lambda done, total: models.append((done, total)))
    assert models == [(1, 2), (2, 2)] and len(written.files) == 2


def test_a_bad_repo_id_is_refused_before_anything_is_sent(classified, emulator, token, tmp_path):
    server = emulator(sample_world_path(), uploads=str(tmp_path / "uploads"))
    result = CliRunner().invoke(cli, ["--warehouse", classified, "publish", "owner/../name", "--hub-endpoint",
                                      server.base_url])
    assert result.exit_code == 1 and "is not a Hub repo id" in result.output and "Traceback" not in result.output
    assert request_log(server) == []


def test_the_emulator_refuses_hostile_commits(emulator, tmp_path):
    """What a client other than huggingface_hub may send: each refused with the Hub's kind of error,
    and nothing written outside the repo's folder."""
    import base64
    import urllib.error
    import urllib.request

    uploads = tmp_path / "uploads"
    server = emulator(sample_world_path(), uploads=str(uploads))

    def post(path, body, token="hf_x", kind="application/json"):
        request = urllib.request.Request(server.base_url + path, data=body, method="POST",
                                         headers={"Content-Type": kind, **({"Authorization": f"Bearer {token}"} if token else {})})
        try:
            with urllib.request.urlopen(request) as answer:
                return answer.status, json.loads(answer.read())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"{}")

    def commit(*lines, parent=None):
        header = {"key": "header", "value": {"summary": "s", **({"parentCommit": parent} if parent else {})}}
        body = "\n".join(json.dumps(line) for line in (header, *lines)).encode()
        return post("/api/datasets/team/data/commit/main", body, kind="application/x-ndjson")

    def add(path, content=b"x"):
        return {"key": "file", "value": {"path": path, "content": base64.b64encode(content).decode(), "encoding": "base64"}}

    assert post("/api/repos/create", b'{"name": "data", "organization": "team", "type": "dataset"}', token=None)[0] == 401
    assert post("/api/repos/create", b'{"name": "../up", "organization": "team", "type": "dataset"}')[0] == 400
    assert post("/api/repos/create", b'{"name": "data", "organization": "team", "type": "dataset"}')[0] == 200
    assert post("/api/repos/create", b'{"name": "data", "organization": "team", "type": "dataset"}')[0] == 409
    assert commit(add("../../escape.txt"))[0] == 400
    assert commit(add("/etc/passwd"))[0] == 400
    assert commit(add(".git/config"))[0] == 400
    assert commit({"key": "file", "value": {"path": "a.txt", "content": "not base64!"}})[0] == 400
    assert commit({"key": "lfsFile", "value": {"path": "big.bin", "oid": "0" * 64, "size": 1}})[0] == 400
    assert post("/api/datasets/team/data/commit/main", b"{not json", kind="application/x-ndjson")[0] == 400
    assert commit(add("ok.txt"), parent="0" * 40)[0] == 412  # a stale parent
    status, answer = commit(add("ok.txt"), add("a/b.txt", b"y"))
    assert status == 200 and len(answer["commitOid"]) == 40
    assert post("/api/models/aurora-labs/aurora-7b/commit/main", b'{"key":"header","value":{"summary":"s"}}\n',
                kind="application/x-ndjson")[0] == 403  # the world's own repos are read-only
    written = sorted(p.relative_to(uploads).as_posix() for p in uploads.rglob("*") if p.is_file())
    assert written == ["datasets/team/data/files/a/b.txt", "datasets/team/data/files/ok.txt",
                       "datasets/team/data/info.json", "datasets/team/data/owner.sha256"]
    assert "hf_x" not in (uploads / "datasets/team/data/owner.sha256").read_text()  # a digest, never the token


def test_a_publish_raced_by_another_commit_commits_nothing_and_says_so(classified, emulator, token, tmp_path,
                                                                       monkeypatch):
    """Between reading the repo's head and committing, another commit lands (a second publish): this
    one is committed on the head it read or not at all, so no snapshot mixes two runs' files."""
    server = emulator(sample_world_path(), uploads=str(tmp_path / "uploads"))
    assert publish(classified, server).exit_code == 0
    rival = HfApi(endpoint=server.base_url)
    upload = HfApi.upload_folder

    def raced(self, **kwargs):  # the head is read; the snapshot's files are about to go
        rival.upload_file(path_or_fileobj=b"another run's file", path_in_repo="manifest.json",
                          repo_id=kwargs["repo_id"], repo_type="dataset")
        return upload(self, **kwargs)
    monkeypatch.setattr(HfApi, "upload_folder", raced)
    result = publish(classified, server)
    assert result.exit_code == 1 and "changed while this snapshot was uploading" in result.output
    assert "Traceback" not in result.output
    head = rival.hf_hub_download(REPO, "manifest.json", repo_type="dataset", cache_dir=str(tmp_path / "c"))
    assert open(head, "rb").read() == b"another run's file"  # the rival's commit stands alone


def test_a_token_without_rights_to_the_repo_is_told_so(classified, emulator, token, monkeypatch, tmp_path):
    server = emulator(sample_world_path(), uploads=str(tmp_path / "uploads"))
    assert publish(classified, server).exit_code == 0
    monkeypatch.setenv("HF_TOKEN", "hf_someone_else")
    refused = publish(classified, server)
    assert refused.exit_code == 1 and "Traceback" not in refused.output
    assert "may lack write access to this repo" in refused.output
