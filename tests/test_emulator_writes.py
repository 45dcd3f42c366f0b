"""The emulator's write routes as a hostile client meets them: a body is read only after its token
is known good and never past a size limit, a body cut short is applied as nothing, a repo takes
writes from the token that created it only, and a path the Hub would refuse is a 400."""
from __future__ import annotations

import base64
import json
import socket
import urllib.error
import urllib.request

import pytest

from openness.emulator import sample_world_path

OWNER, OTHER = "hf_owner_token", "hf_other_token"


@pytest.fixture
def server(emulator, tmp_path):
    server = emulator(sample_world_path(), uploads=str(tmp_path / "uploads"), max_write_bytes=20_000)
    server.uploads_path = tmp_path / "uploads"
    for name, private in (("data", False), ("secret", True)):
        body = json.dumps({"name": name, "organization": "team", "type": "dataset", "private": private}).encode()
        assert post(server, "/api/repos/create", body)[0] == 200
    return server


def post(server, path, body, token=OWNER, kind="application/json"):
    headers = {"Content-Type": kind, **({"Authorization": f"Bearer {token}"} if token else {})}
    request = urllib.request.Request(server.base_url + path, data=body, method="POST", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def ndjson(*files: tuple[str, bytes]) -> bytes:
    lines = [{"key": "header", "value": {"summary": "s"}}]
    lines += [{"key": "file", "value": {"path": path, "content": base64.b64encode(content).decode(),
                                        "encoding": "base64"}} for path, content in files]
    return ("\n".join(json.dumps(line) for line in lines) + "\n").encode()


def commit(server, *files, token=OWNER, repo="team/data"):
    return post(server, f"/api/datasets/{repo}/commit/main", ndjson(*files), token, "application/x-ndjson")


def stored(server) -> list[str]:
    files = server.uploads_path / "datasets" / "team" / "data" / "files"
    return sorted(p.relative_to(files).as_posix() for p in files.rglob("*") if p.is_file())


def raw_request(server, head: bytes, body: bytes = b"", close_after: bool = False) -> bytes:
    """Send a request by hand (a declared length the body need not keep) and read the answer."""
    host, port = server.server_address[:2]
    with socket.create_connection((host, port), timeout=10) as sock:
        sock.sendall(head + body)
        if close_after:
            sock.shutdown(socket.SHUT_WR)  # the client is gone mid-body
        answer = b""
        while b"\r\n\r\n" not in answer:
            chunk = sock.recv(65536)
            if not chunk:
                break
            answer += chunk
        return answer


def head_of(server, path: str, length: int, token: str | None = OWNER) -> bytes:
    auth = f"Authorization: Bearer {token}\r\n" if token else ""
    return (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{server.server_address[1]}\r\n{auth}"
            f"Content-Type: application/x-ndjson\r\nContent-Length: {length}\r\n\r\n").encode()


def test_a_body_is_not_read_before_the_token_is_checked_nor_past_the_limit(server):
    # ten gigabytes announced and none sent: the answer comes at once, without waiting for the body
    unauthenticated = raw_request(server, head_of(server, "/api/datasets/team/data/commit/main", 10**10, token=None))
    assert unauthenticated.startswith(b"HTTP/1.1 401")
    too_large = raw_request(server, head_of(server, "/api/datasets/team/data/commit/main", 10**10))
    assert too_large.startswith(b"HTTP/1.1 413")
    assert commit(server, ("big.bin", b"x" * 30_000))[0] == 413  # over the limit once base64'd
    assert stored(server) == []
    assert commit(server, ("small.txt", b"fits"))[0] == 200
    assert stored(server) == ["small.txt"]


@pytest.mark.parametrize("kept_lines", [1, 2, 3])
def test_a_commit_cut_short_is_applied_as_nothing_even_at_a_line_boundary(server, kept_lines):
    body = ndjson(("one.txt", b"1"), ("two.txt", b"2"), ("three.txt", b"3"))
    lines = body.splitlines(keepends=True)
    sent = b"".join(lines[:kept_lines])  # ends exactly after a whole line: valid NDJSON on its own
    answer = raw_request(server, head_of(server, "/api/datasets/team/data/commit/main", len(body)), sent,
                         close_after=True)
    assert answer.startswith(b"HTTP/1.1 400")
    assert stored(server) == []
    assert commit(server, ("whole.txt", b"w"))[0] == 200  # the repo takes the next whole commit
    assert stored(server) == ["whole.txt"]


def test_a_repo_takes_writes_from_the_token_that_created_it_only(server):
    assert commit(server, ("mine.txt", b"m"))[0] == 200
    status, answer = commit(server, ("theirs.txt", b"t"), token=OTHER)
    assert status == 403 and "another token" in answer["error"]
    preupload = json.dumps({"files": [{"path": "theirs.txt", "sample": "", "size": 1}]}).encode()
    assert post(server, "/api/datasets/team/data/preupload/main", preupload, token=OTHER)[0] == 403
    assert commit(server, ("theirs.txt", b"t"), token=OTHER, repo="team/secret")[0] == 404  # private: not shown
    assert commit(server, ("mine.txt", b"m"), repo="team/secret")[0] == 200
    assert stored(server) == ["mine.txt"]


def test_a_later_emulator_on_the_same_uploads_knows_each_repo_s_owner(server, emulator):
    again = emulator(sample_world_path(), uploads=str(server.uploads_path))
    assert commit(again, ("later.txt", b"l"), token=OTHER)[0] == 403
    assert commit(again, ("later.txt", b"l"))[0] == 200


@pytest.mark.parametrize("path", [
    "x/./y", "x//y", "x/../y", "./x", "x/", "a" * 300, "d/" + "é" * 130, "/".join(["seg"] * 300),
    "x\\y", ".git/config",
])
def test_a_path_the_hub_would_refuse_is_a_400_and_nothing_is_written(server, path):
    status, answer = commit(server, ("fine.txt", b"f"), (path, b"p"))
    assert status == 400 and answer["error"].startswith("Invalid path in repo")
    preupload = json.dumps({"files": [{"path": path, "sample": "", "size": 1}]}).encode()
    assert post(server, "/api/datasets/team/data/preupload/main", preupload)[0] == 400
    assert stored(server) == []


def test_a_file_where_a_folder_is_or_below_a_file_is_a_400(server):
    assert commit(server, ("a/b.txt", b"1"))[0] == 200
    assert commit(server, ("a", b"2"))[0] == 400  # a is a folder
    assert commit(server, ("a/b.txt/c", b"3"))[0] == 400  # a/b.txt is a file
    assert commit(server, ("n", b"4"), ("n/m", b"5"))[0] == 400  # both in one commit
    assert stored(server) == ["a/b.txt"]
    long_name = "n" * 255  # as long as a name can be: written whole, never through a longer temporary name
    assert commit(server, (long_name, b"6"))[0] == 200
    assert long_name in stored(server)


def test_a_body_sent_with_a_read_request_never_becomes_the_next_request(server):
    host, port = server.server_address[:2]
    smuggled = b"GET /api/models/aurora-labs/aurora-7b HTTP/1.1\r\nHost: x\r\n\r\n"
    head = (f"GET /api/models?limit=1 HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            f"Content-Length: {len(smuggled)}\r\n\r\n").encode()
    with socket.create_connection((host, port), timeout=10) as sock:
        sock.sendall(head + smuggled)
        sock.shutdown(socket.SHUT_WR)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    assert answer.count(b"HTTP/1.1 200") == 1
