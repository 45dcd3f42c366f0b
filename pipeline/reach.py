"""Whether the services a crawl talks to can be reached, asked before it starts: a TCP connect to
each host (no request is spent). The Hub must answer or the crawl does not start; GitHub's API and
the web hosts of papers are only followed, so a crawl whose followers cannot reach theirs still
reads the Hub, says once which host failed and which flag points elsewhere, and is `partial`,
instead of retrying every link to a host that does not resolve."""
from __future__ import annotations

import socket
import urllib.request
from urllib.parse import urlsplit

from openness.pipeline.config import CrawlConfig
from openness.pipeline.errors import CrawlError

# Where a paper's abstract page is read when no --web-base is given: arXiv ids are cited most.
PAPER_HOST = "https://arxiv.org"
FIXES = {"github": "--github-api", "web": "--web-base"}


def unreachable_reason(url: str, timeout: float = 5.0) -> str | None:
    """Why nothing answers at url's host and port (no such host, connection refused, no answer
    within timeout), or None when it answers. None too when a proxy is configured for the host:
    then the proxy decides."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if urllib.request.getproxies().get(parts.scheme) and not urllib.request.proxy_bypass(host):
        return None
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        socket.create_connection((host, port), timeout=timeout).close()
    except socket.gaierror as exc:
        return f"no such host ({exc.strerror or exc})"
    except (TimeoutError, socket.timeout):
        return f"no answer within {timeout:g} s"
    except OSError as exc:
        return str(exc.strerror or exc)
    return None


def check_reachable(url: str, timeout: float = 5.0) -> None:
    """Fail within seconds when nothing listens at url's host, instead of after every retry of
    every request."""
    reason = unreachable_reason(url, timeout)
    if reason:
        raise CrawlError(f"could not connect to {url}: {reason}")


def unreachable_followers(config: CrawlConfig, timeout: float = 5.0) -> dict[str, str]:
    """service (github, web) -> one line saying which host could not be reached and the flag that
    fixes it, for the services this crawl would follow links to."""
    if config.follow_depth <= 0:
        return {}
    bases = {"github": config.github_api}
    if config.fetch_papers:
        bases["web"] = config.web_base or PAPER_HOST
    found = {}
    for service, base in bases.items():
        reason = unreachable_reason(base, timeout) if base else None
        if reason:
            found[service] = (f"{base} could not be reached ({reason}); give {FIXES[service]}, or "
                              "--world-endpoint for an emulator")
    return found
