"""A listing page too large to read: asked again in halves, so one model whose metadata is huge
(a card that expands to gigabytes, on a Hub that served it) costs that model alone, never the
pages after it. Pure helpers over the page's URL; the models spider sends the requests.

The search costs two requests per halving at most (about 20 for a page of 1,000): a page of size
2s (or 2s - 1) failed, so when its first half (s) reads, the trouble lies in the next s models, which are asked
at size s too; when that reads as well, the two halves only failed together, and the listing goes
back to its own page size. A single model too large is recorded and passed."""
from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit


def page_limit(url: str) -> int | None:
    """The page size a listing URL asks for (its `limit`), None when it names none."""
    for key, value in parse_qsl(urlsplit(url).query, keep_blank_values=True):
        if key == "limit":
            try:
                return int(value)
            except ValueError:
                return None
    return None


def with_limit(url: str, limit: int) -> str:
    """url asking for pages of `limit` models; every other parameter (the cursor too) kept in order."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    if any(key == "limit" for key, _ in query):
        query = [(key, str(limit) if key == "limit" else value) for key, value in query]
    else:
        query.append(("limit", str(limit)))
    return urlunsplit(parts._replace(query=urlencode(query)))


def smaller_page(url: str) -> str | None:
    """The same page at half its size, rounded up (two halves cover the whole page), or None when it
    already holds a single model."""
    limit = page_limit(url)
    if limit is None or limit <= 1:
        return None
    return with_limit(url, (limit + 1) // 2)


def next_page(next_url: str | None, read_url: str, full_limit: int | None, halved_and_read: bool) -> tuple[str | None, bool]:
    """(the page to ask after the one at read_url, whether it is the second half of a failed page):
    the listing's own size once the trouble is passed, the halved size while it may lie ahead."""
    if next_url is None or full_limit is None:
        return next_url, False
    size = page_limit(read_url)
    if size is not None and size < full_limit and not halved_and_read:
        return with_limit(next_url, size), True
    return with_limit(next_url, full_limit), False
