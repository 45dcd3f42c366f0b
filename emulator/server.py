"""The Hub emulator: serves a world with the Hub's URLs, headers, pagination and errors.

One handler class answers every request; routing maps a path to a small answer function that
returns an `Answer`. Rate limiting, faults and the request log wrap every answer the same way.
"""
from __future__ import annotations

import hashlib
import json
import socket
import sys
import struct
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from openness.emulator import commit_routes, github_routes, hub_routes
from openness.emulator.answer import Answer
from openness.emulator.limits import FaultPlan, FaultSpec, FixedWindowLimiter, scaled_clock
from openness.emulator.store import World, owner_of, token_key

# The largest answer the emulator sends (a world can hold anything: a page of 1,000 models with
# megabyte cards would be gigabytes) and the largest write body it reads (the Hub takes files
# this large inline; above it they go through LFS, which the emulator does not emulate).
MAX_ANSWER_BYTES = 256 * 2**20
MAX_WRITE_BYTES = 256 * 2**20
DRAINED_BYTES = 64 * 2**10  # an unread body this small is read and dropped, keeping the connection


def bucket_of(path: str) -> str:
    if path.startswith("/api/v3/"):
        return "github"
    if path.startswith("/web/") and "/resolve/" not in path:
        return "web"
    if path.startswith("/api/"):
        return "api"
    if "/resolve/" in path:
        return "resolvers"
    return "pages"


# What a captive portal or a misconfigured proxy answers in place of the Hub.
PROXY_PAGE = (b"<!DOCTYPE html><html><head><title>Gateway notice</title></head>"
              b"<body><h1>Please sign in to the network</h1></body></html>")


class EmulatorServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, world: World, host: str = "127.0.0.1", port: int = 0, *,
                 rate_limit: dict | None = None, faults: FaultSpec | None = None,
                 log_path: str | None = None, page_size: int = 1000,
                 github_rate_limit: dict | None = None, uploads: str | None = None, time_scale: float = 1.0,
                 max_answer_bytes: int = MAX_ANSWER_BYTES, max_write_bytes: int = MAX_WRITE_BYTES):
        super().__init__((host, port), EmulatorHandler)
        self.max_answer_bytes, self.max_write_bytes = max_answer_bytes, max_write_bytes
        self.world = world
        self.uploads = Path(uploads) if uploads else None  # where repos created here are written
        for repo in (r for kind in world.repos.values() for r in kind.values()):
            # created through an emulator in an earlier run: still its token's own
            if self.uploads and self.uploads.resolve() in repo.folder.resolve().parents:
                repo.owner = owner_of(repo.folder)
        self.page_size = page_size
        # the Hub's windows in seconds of their own: w of them last w * time_scale real seconds (tests
        # of pacing logic run a 2-second window in a fraction of one; the crawl is told the same scale)
        self.time_scale = time_scale
        self.limiter = FixedWindowLimiter(rate_limit, clock=scaled_clock(time_scale)) if rate_limit else None
        # GitHub's budget is its own (60 or 5,000 an hour), apart from the Hub's
        self.github_limiter = FixedWindowLimiter(github_rate_limit) if github_rate_limit else self.limiter
        self.faults = FaultPlan(faults or FaultSpec())
        self._log_file = open(log_path, "a", encoding="utf-8") if log_path else None
        self._log_lock = threading.Lock()

    @property
    def base_url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"

    def log_request_line(self, record: dict) -> None:
        if self._log_file is None:
            return
        line = json.dumps(record, separators=(",", ":"))
        with self._log_lock:
            self._log_file.write(line + "\n")
            self._log_file.flush()

    def handle_error(self, request, client_address) -> None:
        """A client that hangs up mid-answer (a crawl killed, a download cancelled as too large) is
        the client's business; anything else is printed as socketserver does."""
        if isinstance(sys.exc_info()[1], (ConnectionResetError, BrokenPipeError)):
            return
        super().handle_error(request, client_address)

    def server_close(self) -> None:
        super().server_close()
        if self._log_file is not None:
            self._log_file.close()


def github_rate_headers(limiter: FixedWindowLimiter, bucket: str, remaining: int, reset: int) -> dict[str, str]:
    """GitHub's X-RateLimit-* headers for a bucket's window as it stands."""
    limit = (limiter.limit_for(bucket) or (10**9, 1))[0]
    return {"X-RateLimit-Limit": str(limit), "X-RateLimit-Remaining": str(remaining),
            "X-RateLimit-Reset": str(int(time.time()) + reset), "X-RateLimit-Resource": "core",
            "X-RateLimit-Used": str(limit - remaining)}


def etag_of(body: bytes, base_url: str = "") -> str:
    """A strong ETag of an answer's bytes, as GitHub sends one with every answer; the emulator's own
    address left out, so that the same repo served again (on another port) keeps its ETag."""
    return '"' + hashlib.sha256(body.replace(base_url.encode(), b"")).hexdigest()[:32] + '"'


def _fingerprint(authorization: str | None) -> str | bool:
    """False without credentials; else 8 hex digits of the header's sha256, so a test can tell
    which token came without any log holding one."""
    if not authorization:
        return False
    return hashlib.sha256(authorization.encode()).hexdigest()[:8]


def _web_page(world: World, host_and_path: str) -> Answer:
    """A page of the world's web/ folder: /web/<host>/<path>, as that host would serve it."""
    host, _, path = host_and_path.partition("/")
    page = world.web_page(host, path) if host else None
    if page is None:
        return Answer(404, b"<html><body><h1>404 Not Found</h1></body></html>", {}, "text/html; charset=utf-8")
    body = page.read_bytes()
    is_html = body.lstrip()[:1] == b"<"
    return Answer(200, body, {}, "text/html; charset=utf-8" if is_html else "text/plain; charset=utf-8")


class EmulatorHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: EmulatorServer
    timeout = 120  # seconds a connection may sit idle or mid-body before the emulator closes it
    server_version = "openness-hub-emulator"

    def setup(self):
        super().setup()
        # headers and body go out in two writes; without this, Nagle's algorithm and the
        # client's delayed ACK add ~40 ms to every keep-alive answer
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format, *args):  # quiet: the JSON request log replaces it
        pass

    def do_GET(self):
        self._serve("GET")

    def do_HEAD(self):
        self._serve("HEAD")

    def do_POST(self):
        self._serve("POST")

    def _serve(self, method: str) -> None:
        self._arrived = time.time()
        self._body_read = False  # read by a write route once its token is known to be good
        split = urlsplit(self.path)
        path = unquote(split.path)
        query = parse_qs(split.query, keep_blank_values=True)
        bucket = bucket_of(split.path)
        server = self.server
        fault = server.faults.decide(method, self.path)
        if server.faults.spec.latency:
            time.sleep(server.faults.spec.latency)
        if fault == "reset":
            self._log(method, 0, bucket, "reset")
            self._reset_connection()
            return
        not_modified = self._not_modified(method, path, split.path, query, bucket) if fault is None else None
        if not_modified is not None:  # as GitHub: a conditional request answered 304 costs none of the budget
            self._send(method, not_modified, bucket)
            return
        rejected, rate_headers = self._rate_check(bucket, split.path)
        if rejected is not None:
            self._send(method, rejected, bucket)
            return
        if fault == "error":
            answer = Answer.error(503, "Service temporarily unavailable (injected fault)")
        elif fault == "html":
            answer = Answer(200, PROXY_PAGE, {}, "text/html; charset=utf-8")
        else:
            try:
                answer = self._route(method, path, split.path, query, bucket)
            except Exception as exc:  # the emulator must answer, whatever a world holds
                answer = Answer.error(500, f"emulator error: {type(exc).__name__}: {exc}")
        answer.headers.update(rate_headers)
        if bucket == "github" and answer.status == 200:
            answer.headers["ETag"] = etag_of(answer.body, self._base_url())
        if len(answer.body) > server.max_answer_bytes:
            answer = Answer.error(500, f"emulator error: an answer of {len(answer.body):,} bytes is over the "
                                       f"emulator's limit of {server.max_answer_bytes:,}")
        self._send(method, answer, bucket, fault)

    def _not_modified(self, method: str, path: str, raw_path: str, query: dict, bucket: str) -> Answer | None:
        """GitHub's 304 for a GET whose If-None-Match names the answer's current ETag, with the rate
        headers as they stand (not spent); None when the request must be answered in full."""
        wanted = self.headers.get("If-None-Match")
        if bucket != "github" or method != "GET" or not wanted:
            return None
        try:
            answer = self._route(method, path, raw_path, query, bucket)
        except Exception:
            return None
        etag = etag_of(answer.body, self._base_url())
        if answer.status != 200 or etag not in [tag.strip() for tag in wanted.split(",")]:
            return None
        limiter = self.server.github_limiter
        headers = {"ETag": etag, "X-GitHub-Media-Type": "github.v3; format=json"}
        if limiter is not None:
            headers.update(github_rate_headers(limiter, "github", *limiter.peek("github")))
        return Answer(304, b"", headers)

    def _read_body(self) -> bytes | Answer:
        """The request's body, or the answer refusing it: over the size limit (not read at all) or
        shorter than its Content-Length (the client went away mid-body: nothing of it is applied)."""
        self._body_read = True
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            self.close_connection = True
            return Answer.error(400, "Content-Length is not a number")
        if length > self.server.max_write_bytes:
            self.close_connection = True
            return Answer.error(413, f"A body of {length:,} bytes is over the emulator's limit of "
                                     f"{self.server.max_write_bytes:,}")
        try:
            body = self.rfile.read(length) if length > 0 else b""
        except OSError:  # the socket's timeout: the client stopped sending
            body = b""
        if len(body) < length:
            self.close_connection = True
            return Answer.error(400, f"The body ended after {len(body):,} of its {length:,} bytes: nothing applied")
        return body

    def _route(self, method: str, path: str, raw_path: str, query: dict, bucket: str) -> Answer:
        server = self.server
        if bucket == "web":
            return _web_page(server.world, path[len("/web/"):])
        if bucket != "github":
            caller = token_key((self.headers.get("Authorization") or "").removeprefix("Bearer").strip())
            segments = [s for s in path.strip("/").split("/") if s]
            written = commit_routes.route(server.world, server.uploads, method, segments, self._read_body, caller,
                                          self._base_url())
            return written or hub_routes.route(server.world, method, path, query, self._base_url(),
                                               server.page_size, caller)
        limiter = server.github_limiter
        if raw_path.rstrip("/") == "/api/v3/rate_limit":
            remaining, reset = limiter.peek("github") if limiter else (5000, 3600)
            limit = (limiter.limit_for("github") or (10**9, 1))[0] if limiter else 5000
            core = {"limit": limit, "remaining": remaining, "reset": int(time.time()) + reset,
                    "used": limit - remaining, "resource": "core"}
            return Answer.json({"resources": {"core": core}, "rate": core})
        return github_routes.route(server.world, raw_path[len("/api/v3"):], query, self._base_url())

    def _rate_check(self, bucket: str, raw_path: str) -> tuple[Answer | None, dict[str, str]]:
        """(the refusal when the bucket's window is spent, the headers every answer carries): the
        Hub's RateLimit headers and 429, or GitHub's X-RateLimit-* headers and 403."""
        github = bucket == "github"
        limiter = self.server.github_limiter if github else self.server.limiter
        headers = {"X-GitHub-Media-Type": "github.v3; format=json"} if github else {}
        if limiter is None or bucket in ("pages", "web") or raw_path.rstrip("/") == "/api/v3/rate_limit":
            return None, headers
        admitted, remaining, reset = limiter.admit(bucket)
        if github:
            headers.update(github_rate_headers(limiter, bucket, remaining, reset))
            refusal = Answer.json({"message": "API rate limit exceeded for 127.0.0.1.",
                                   "documentation_url": github_routes.DOCS}, 403, headers)
        else:
            headers.update({"RateLimit": f'"{bucket}";r={remaining};t={reset}',
                            "RateLimit-Policy": limiter.policy_header(bucket)})
            refusal = Answer.error(429, f"You have exceeded our hourly quotas for action '{bucket}'. Retry later.",
                                   headers={**headers, "Retry-After": str(reset)})
        return (None if admitted else refusal), headers

    def _base_url(self) -> str:
        host = self.headers.get("Host") or "{}:{}".format(*self.server.server_address[:2])
        return f"http://{host}"

    def _discard_unread_body(self) -> None:
        """A body no route read (a refused write, a GET with a body) must not be taken for the next
        request: a small one is read and dropped, a larger one ends the connection after the answer."""
        if self._body_read:
            return
        self._body_read = True
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if 0 <= length <= DRAINED_BYTES:
            if length:
                self.rfile.read(length)
        else:
            self.close_connection = True

    def _send(self, method: str, answer: Answer, bucket: str, fault: str | None = None) -> None:
        self._discard_unread_body()
        body = answer.body if method != "HEAD" else b""
        cut = fault == "truncate" and len(body) > 1
        # logged before the body goes out, so a client holding its answer finds the line written
        self._log(method, answer.status, bucket, fault if fault != "truncate" or cut else None)
        try:
            self.send_response(answer.status)
            self.send_header("Content-Type", answer.content_type)
            self.send_header("Content-Length", str(len(answer.body)))
            for key, value in answer.headers.items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(body[: len(body) // 2] if cut else body)
            self.wfile.flush()
            if cut:
                self._end_early()
        except (BrokenPipeError, ConnectionResetError):  # e.g. the client timed out first
            self.close_connection = True

    def _reset_connection(self) -> None:
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
        except OSError:
            pass
        self.close_connection = True

    def _end_early(self) -> None:
        """Close cleanly after a short body, so the client sees fewer bytes than Content-Length."""
        try:
            self.connection.shutdown(socket.SHUT_WR)
        except OSError:
            pass
        self.close_connection = True

    def _log(self, method: str, status: int, bucket: str, fault: str | None) -> None:
        record = {"ts": round(self._arrived, 4), "method": method, "path": self.path,
                  "status": status, "bucket": bucket, "auth": _fingerprint(self.headers.get("Authorization"))}
        if fault:
            record["fault"] = fault
        self.server.log_request_line(record)

