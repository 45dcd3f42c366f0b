"""Web pages beyond the Hub and GitHub (papers' abstract pages): where they are read from, what
robots.txt allows, and what a page says, as pure functions."""
from __future__ import annotations

import html
import re
from urllib.parse import urlsplit

from protego import Protego

USER_AGENT_TOKEN = "openness"


def web_url(url: str, web_base: str | None) -> str:
    """The URL a page is fetched from: itself, or under a world's web/ folder when a base is set
    (WEB_BASE/<host>/<path>, as the emulator serves it)."""
    if not web_base:
        return url
    parts = urlsplit(url)
    return f"{web_base.rstrip('/')}/{parts.netloc}{parts.path or '/'}" + (f"?{parts.query}" if parts.query else "")


def robots_url(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}/robots.txt"


class Robots:
    """robots.txt of one host: allow all when it has none (4xx), as the convention is."""

    def __init__(self, text: str | None):
        self.parser = Protego.parse(text) if text else None

    def allowed(self, url: str) -> bool:
        return self.parser is None or self.parser.can_fetch(url, USER_AGENT_TOKEN)

    def delay(self) -> float | None:
        return self.parser.crawl_delay(USER_AGENT_TOKEN) if self.parser else None


_META = re.compile(r"<meta\s+[^>]*name=[\"'](citation_title|citation_abstract|description|og:title)[\"'][^>]*"
                   r"content=[\"']([^\"']*)[\"']", re.IGNORECASE)
_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)
_H1 = re.compile(r"<h1[^>]*>(.*?)</h1>", re.IGNORECASE | re.DOTALL)
_ABSTRACT = re.compile(r"<blockquote[^>]*>(.*?)</blockquote>", re.IGNORECASE | re.DOTALL)


def paper_fields(page: str) -> dict | None:
    """Title and abstract of an abstract page: citation meta tags first (arXiv writes them), then
    the page's own title, heading and abstract block. None when the page is no paper's: neither
    citation tags nor an abstract (a proxy's sign-in page, an error page served with 200)."""
    meta = {name.lower(): html.unescape(value).strip() for name, value in _META.findall(page)}
    if not ("citation_title" in meta or "citation_abstract" in meta or _ABSTRACT.search(page)):
        return None
    title = meta.get("citation_title") or meta.get("og:title") or _text(_H1, page) or _text(_TITLE, page)
    abstract = meta.get("citation_abstract") or _text(_ABSTRACT, page) or meta.get("description")
    if title:
        title = re.sub(r"^\[[^\]]+\]\s*", "", title)  # arXiv's '[2304.01373] ' prefix
    return {"title": (title or None) and title[:1000], "abstract": (abstract or None) and abstract[:10000]}


def _text(pattern: re.Pattern, page: str) -> str | None:
    match = pattern.search(page)
    if not match:
        return None
    text = html.unescape(re.sub(r"<[^>]+>", " ", match.group(1)))
    text = re.sub(r"\s+", " ", text).strip()
    text = re.sub(r"^Abstract:\s*", "", text)
    return text or None
