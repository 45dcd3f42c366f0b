"""The emulator driven by the unmodified huggingface_hub client, plus raw HTTP where the client hides detail."""
from __future__ import annotations

import http.client
import json
import socket
import subprocess
import sys
import urllib.request
from urllib.parse import urlsplit

import pytest
from huggingface_hub import HfApi, hf_hub_download
from huggingface_hub.errors import (DisabledRepoError, GatedRepoError, RemoteEntryNotFoundError,
                                    RepositoryNotFoundError, RevisionNotFoundError)

from conftest import request_log


def raw(server, method: str, path: str):
    parts = urlsplit(server.base_url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    connection.request(method, path)
    response = connection.getresponse()
    body = response.read()
    connection.close()
    return response.status, {k.lower(): v for k, v in response.getheaders()}, body


@pytest.fixture
def api(sample_world, emulator):
    server = emulator(sample_world, page_size=5)
    return HfApi(endpoint=server.base_url), server


def test_listing_paginates_with_absolute_link_and_cursor(api):
    client, server = api
    models = list(client.list_models())
    assert len(models) == 31  # 33 repos less the private and the disabled one
    assert len({m.id for m in models}) == 31
    pages = [r for r in request_log(server) if r["path"].startswith("/api/models")]
    assert len(pages) == 7
    assert all("cursor=" in p["path"] for p in pages[1:])
    status, headers, _ = raw(server, "GET", "/api/models")
    assert headers["link"].startswith(f"<{server.base_url}/api/models?") and 'rel="next"' in headers["link"]


def test_listing_filters_search_author_and_sort(api):
    client, _ = api
    assert {m.id for m in client.list_models(filter="license:mit")} == {
        "tinystack/tiny-bert-sentiment", "tinystack/tinygpt-v2"}
    assert [m.id for m in client.list_models(author="nimbus-ai")] == ["nimbus-ai/nimbus-13b", "nimbus-ai/nimbus-ultra"]
    assert {m.id for m in client.list_models(search="aurora-7b")} >= {"aurora-labs/aurora-7b", "kestrel-ml/aurora-7b-GGUF"}
    assert {m.id for m in client.list_models(filter="dataset:openfield/webtext-clean")} == {
        "aurora-labs/aurora-7b", "aurora-labs/aurora-7b-chat"}
    assert {m.id for m in client.list_models(filter="gguf")} == {"kestrel-ml/aurora-7b-GGUF"}
    by_downloads = [m.id for m in client.list_models(sort="downloads", limit=3)]
    assert by_downloads == ["nimbus-ai/nimbus-13b", "aurora-labs/aurora-7b", "aurora-labs/aurora-7b-chat"]
    assert [m.id for m in client.list_models(pipeline_tag="text-to-image")] == ["lumen-collective/lumen-diffusion-xl"]


def test_expand_returns_only_the_requested_keys(api):
    client, server = api
    _, _, body = raw(server, "GET", "/api/models?author=aurora-labs&expand=sha&expand=gated&expand=siblings")
    items = json.loads(body)
    assert {frozenset(i) for i in items} == {frozenset({"_id", "id", "sha", "gated", "siblings"})}
    assert all(set(s) == {"rfilename"} for i in items for s in i["siblings"])
    model = next(iter(client.list_models(author="tinystack", expand=["cardData", "safetensors"])))
    assert model.card_data is not None and model.sha is None
    status, _, body = raw(server, "GET", "/api/models?expand=usedStorage")
    assert status == 400
    status, _, _ = raw(server, "GET", "/api/models?expand=sha&full=true")
    assert status == 400


def test_model_info_revision_and_tree(api, sample_world):
    client, _ = api
    info = client.model_info("aurora-labs/aurora-7b")
    assert info.sha and info.card_data.license == "apache-2.0"
    assert info.safetensors.total == 7_241_732_096
    assert info.last_modified.year == 2025
    assert client.model_info("aurora-labs/aurora-7b", revision=info.sha).sha == info.sha
    with pytest.raises(RevisionNotFoundError):
        client.model_info("aurora-labs/aurora-7b", revision="v9.9")
    blobs = client.model_info("aurora-labs/aurora-7b", files_metadata=True)
    shard = next(s for s in blobs.siblings if s.rfilename.startswith("model-00001"))
    assert shard.size == 4_900_000_000 and len(shard.lfs.sha256) == 64
    tree = {e.path: e for e in client.list_repo_tree("aurora-labs/aurora-7b", recursive=True)}
    assert tree["LICENSE"].size == len((sample_world / "models/aurora-labs/aurora-7b/files/LICENSE").read_bytes())
    assert tree["LICENSE"].lfs is None
    assert tree["model-00002-of-00003.safetensors"].lfs.size == 4_900_000_000
    nested = [e.path for e in client.list_repo_tree("lumen-collective/lumen-diffusion-xl", path_in_repo="unet")]
    assert nested == ["unet/diffusion_pytorch_model.safetensors"]


def test_hf_hub_download_reads_files_byte_for_byte(api, sample_world, tmp_path):
    client, server = api
    path = hf_hub_download("quillwork/modele-francais", "README.md", endpoint=server.base_url, cache_dir=tmp_path)
    stored = sample_world / "models" / "quillwork" / "modele-francais" / "files" / "README.md"
    assert open(path, "rb").read() == stored.read_bytes()
    status, headers, body = raw(server, "HEAD", "/tinystack/tiny-bert-sentiment/resolve/main/LICENSE.txt")
    assert status == 200 and body == b""
    assert headers["x-repo-commit"] == client.model_info("tinystack/tiny-bert-sentiment").sha
    assert headers["etag"].startswith('"') and int(headers["content-length"]) > 100
    assert "x-xet-hash" not in headers


def test_typed_errors_as_the_hub_sends_them(api, tmp_path):
    client, server = api
    with pytest.raises(GatedRepoError):
        hf_hub_download("nimbus-ai/nimbus-13b", "LICENSE", endpoint=server.base_url, cache_dir=tmp_path)
    with pytest.raises(GatedRepoError):  # the gate is checked before whether the file exists
        hf_hub_download("nimbus-ai/nimbus-13b", "no-such-file", endpoint=server.base_url, cache_dir=tmp_path)
    assert hf_hub_download("nimbus-ai/nimbus-13b", "README.md", endpoint=server.base_url, cache_dir=tmp_path)
    with pytest.raises(RepositoryNotFoundError):
        client.model_info("nobody/nothing")
    with pytest.raises(RepositoryNotFoundError):
        client.model_info("nimbus-ai/nimbus-internal")  # private: as for a visitor
    with pytest.raises(DisabledRepoError):
        client.model_info("basalt/taken-down")
    with pytest.raises(RemoteEntryNotFoundError):
        hf_hub_download("aurora-labs/aurora-7b", "nope.txt", endpoint=server.base_url, cache_dir=tmp_path)
    status, headers, _ = raw(server, "GET", "/openfield/snapshot-gap/resolve/main/LICENSE")
    assert (status, headers["x-error-code"], headers["x-world-missing"]) == (404, "EntryNotFound", "1")
    status, headers, _ = raw(server, "GET", "/aurora-labs/aurora-7b/resolve/main/nope.txt")
    assert "x-world-missing" not in headers


def test_renamed_repos_redirect(api, tmp_path):
    client, server = api
    assert client.model_info("tinystack/tiny-gpt").id == "tinystack/tinygpt-v2"
    status, headers, _ = raw(server, "GET", "/tinystack/tiny-gpt/resolve/main/README.md")
    assert status == 307 and headers["location"] == "/tinystack/tinygpt-v2/resolve/main/README.md"
    path = hf_hub_download("tinystack/tiny-gpt", "README.md", endpoint=server.base_url, cache_dir=tmp_path)
    assert "TinyGPT v2" in open(path).read()
    assert client.dataset_info("webtext").id == "openfield/webtext-clean"


def test_ids_match_in_any_case_and_answer_with_the_id_as_written(api, tmp_path):
    """The Hub matches repo ids case-insensitively (a card's base_model "Org/Model-6B" reaches
    org/model-6b), and its answer gives the id as the repo writes it."""
    client, server = api
    assert client.model_info("Aurora-Labs/AURORA-7B").id == "aurora-labs/aurora-7b"
    path = hf_hub_download("AURORA-LABS/aurora-7b", "README.md", endpoint=server.base_url, cache_dir=tmp_path)
    assert "Aurora" in open(path).read()
    assert client.dataset_info("OpenField/WebText-Clean").id == "openfield/webtext-clean"


def test_datasets_endpoints(api, tmp_path):
    client, server = api
    assert {d.id for d in client.list_datasets()} == {
        "openfield/webtext-clean", "openfield/code-mix", "quillwork/instruct-mix", "cedar-research/clinical-notes-synthetic"}
    info = client.dataset_info("openfield/code-mix")
    assert info.card_data.license == "other"
    path = hf_hub_download("openfield/code-mix", "LICENSE", repo_type="dataset", endpoint=server.base_url,
                           cache_dir=tmp_path)
    assert "permissive" in open(path).read()
    with pytest.raises(GatedRepoError):
        hf_hub_download("cedar-research/clinical-notes-synthetic", ".gitattributes", repo_type="dataset",
                        endpoint=server.base_url, cache_dir=tmp_path)


def test_request_log_has_one_line_per_request_with_its_bucket(api):
    client, server = api
    client.model_info("aurora-labs/aurora-7b")
    raw(server, "HEAD", "/aurora-labs/aurora-7b/resolve/main/README.md")
    log = request_log(server)
    assert [(r["method"], r["bucket"], r["status"]) for r in log] == [("GET", "api", 200), ("HEAD", "resolvers", 200)]
    assert log[0]["path"] == "/api/models/aurora-labs/aurora-7b"


def test_rate_limit_answers_429_with_the_hubs_headers(sample_world, emulator):
    server = emulator(sample_world, rate_limit="3/60")
    statuses = [raw(server, "GET", "/api/models/aurora-labs/aurora-7b")[0] for _ in range(3)]
    status, headers, _ = raw(server, "GET", "/api/models/aurora-labs/aurora-7b")
    assert statuses == [200, 200, 200] and status == 429
    assert headers["ratelimit"].startswith('"api";r=0;t=')
    assert headers["ratelimit-policy"] == '"fixed window";"api";q=3;w=60'
    assert raw(server, "GET", "/aurora-labs/aurora-7b/resolve/main/README.md")[0] == 200  # another bucket
    _, headers, _ = raw(server, "GET", "/aurora-labs/aurora-7b/resolve/main/README.md")
    assert headers["ratelimit"].startswith('"resolvers";r=1;')


def test_faults_are_injected_deterministically(sample_world, emulator):
    server = emulator(sample_world, faults="error=0.5,seed=3")
    first = [raw(server, "GET", f"/api/models/aurora-labs/aurora-7b?n={i}")[0] for i in range(20)]
    assert 0 < first.count(503) < 20 and set(first) == {200, 503}
    again = emulator(sample_world, faults="error=0.5,seed=3")
    assert [raw(again, "GET", f"/api/models/aurora-labs/aurora-7b?n={i}")[0] for i in range(20)] == first


def test_resets_and_truncated_bodies(sample_world, emulator):
    server = emulator(sample_world, faults="reset=1")
    with pytest.raises((ConnectionError, http.client.HTTPException, socket.error)):
        raw(server, "GET", "/api/models")
    cut = emulator(sample_world, faults="truncate=1")
    with pytest.raises(http.client.IncompleteRead):
        raw(cut, "GET", "/api/models")


def test_world_serve_prints_the_base_url_first(sample_world):
    process = subprocess.Popen([sys.executable, "-m", "openness", "world", "serve", str(sample_world)],
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        url = process.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:")
        with urllib.request.urlopen(url + "/api/models?limit=2") as response:
            assert len(json.load(response)) == 2
    finally:
        process.terminate()
        process.wait(10)


def _tiny_world(root, model_id: str, card: str, **extra):
    folder = root / "models" / model_id
    (folder / "files").mkdir(parents=True)
    (folder / "files" / "README.md").write_text(card, "utf-8")
    (folder / "info.json").write_text(json.dumps({"id": model_id, **extra}), "utf-8")


def test_several_worlds_are_served_as_one_and_the_first_wins(emulator, tmp_path, sample_world):
    first, second = tmp_path / "first", tmp_path / "second"
    _tiny_world(first, "heron-lab/heron-7b", "# first\n", downloads=1)
    _tiny_world(second, "heron-lab/heron-7b", "# second\n", downloads=2)
    _tiny_world(second, "heron-lab/wren-1b", "# only here\n")
    server = emulator([first, second, sample_world])
    api = HfApi(endpoint=server.base_url)
    assert api.model_info("heron-lab/heron-7b").downloads == 1
    assert api.model_info("heron-lab/wren-1b").id == "heron-lab/wren-1b"
    ids = {m.id for m in api.list_models(limit=1000)}
    assert {"heron-lab/heron-7b", "heron-lab/wren-1b"} <= ids and len(ids) > 2  # the sample world's too


def test_paper_pages_as_the_hub_serves_them(emulator, tmp_path):
    world = tmp_path / "world"
    _tiny_world(world, "heron-lab/heron-7b", "# Heron\n")
    (world / "papers").mkdir()
    (world / "papers" / "2409.00001.json").write_text(json.dumps(
        {"id": "2409.00001", "title": "Heron", "githubRepo": "https://github.com/heron-lab/heron-train",
         "_provenance": "test"}), "utf-8")
    server = emulator(world)
    paper = HfApi(endpoint=server.base_url).paper_info("2409.00001")
    assert (paper.title, paper.github_repo) == ("Heron", "https://github.com/heron-lab/heron-train")
    status, _, body = raw(server, "GET", "/api/papers/2409.00002")
    assert status == 404 and json.loads(body) == {"error": "Paper not found"}
    assert request_log(server)[-1]["bucket"] == "api"


def test_a_card_value_of_any_type_never_breaks_the_listing(emulator, tmp_path, sample_world):
    """One model whose library_name is a list (card YAML may say anything) once made every listing
    page a 500."""
    import shutil
    world = tmp_path / "world"
    shutil.copytree(sample_world, world)
    info = world / "models" / "aurora-labs" / "aurora-7b" / "info.json"
    info.write_text(json.dumps({**json.loads(info.read_text("utf-8")), "library_name": ["x"], "pipeline_tag": 5}))
    server = emulator(world)
    for query in ("limit=5", "filter=transformers", "filter=x"):
        status, _, body = raw(server, "GET", f"/api/models?{query}")
        assert status == 200, (query, body[:200])
    assert "aurora-labs/aurora-7b" in {m["id"] for m in json.loads(raw(server, "GET", "/api/models?limit=100")[2])}


def test_an_answer_over_the_emulators_limit_is_a_clear_500(tmp_path, emulator):
    """Whatever a world holds, no answer grows past the limit: the emulator says why instead."""
    for name, notes in (("a-small", "s"), ("z-large", "l" * 200_000)):
        folder = tmp_path / "world" / "models" / "team" / name
        (folder / "files").mkdir(parents=True)
        (folder / "info.json").write_text(json.dumps({"cardData": {"notes": notes}}), "utf-8")
    server = emulator(tmp_path / "world", max_answer_bytes=100_000)
    status, headers, _ = raw(server, "GET", "/api/models?expand=cardData")
    assert status == 500 and "over the emulator's limit of 100,000" in headers["x-error-message"]
    assert raw(server, "GET", "/api/models/team/z-large?expand=cardData")[0] == 500
    assert raw(server, "GET", "/api/models/team/a-small?expand=cardData")[0] == 200
    assert raw(server, "GET", "/api/models?expand=cardData&limit=1")[0] == 200
