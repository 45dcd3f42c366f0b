"""Pure helpers of the crawler: URLs, Link headers, file choice, decoding, card status, failure reasons."""
from __future__ import annotations

import pytest

from openness.crawler import hub
from openness.crawler.errors import reason_for_exception, reason_for_status
from openness.crawler.records import licence_tag


def test_listing_url_asks_for_every_expand_key_and_caps_the_page():
    url = hub.listing_url("https://hub.example/", authors=["a"], search="x y", filters=["license:mit"],
                          sort="downloads", limit=5000)
    assert url.startswith("https://hub.example/api/models?author=a&search=x+y&filter=license%3Amit&sort=downloads")
    assert "limit=1000" in url and url.count("expand=") == len(hub.LISTING_EXPAND)
    assert "full=" not in url and "cardData=" not in url  # the Hub rejects them beside expand


def test_file_url_pins_the_commit_and_quotes_paths():
    url = hub.file_url("https://hub.example", "org/m", "abc123", "docs/LICENSE 2.txt")
    assert url == "https://hub.example/org/m/resolve/abc123/docs/LICENSE%202.txt"


@pytest.mark.parametrize("header,expected", [
    ('<https://h/api/models?cursor=abc>; rel="next"', "https://h/api/models?cursor=abc"),
    ('<https://h/p1>; rel="prev", <https://h/p3>; rel="next"', "https://h/p3"),
    ('<https://h/p1>; rel="prev"', None),
    (None, None),
    ("garbage", None),
])
def test_next_page_url(header, expected):
    assert hub.next_page_url(header) == expected


def test_licence_like_paths_finds_licence_files_and_the_card_link():
    paths = ["README.md", "LICENSE", "licence.txt", "COPYING", "USE_POLICY.md", "NOTICE", "docs/LICENSE-GPL.txt",
             "model.safetensors", "my_license_notes.md", "LICENSE.pdf", "terms/custom-terms.md"]
    chosen = hub.licence_like_paths(paths, {"license_link": "terms/custom-terms.md"})
    assert chosen[0] == "terms/custom-terms.md"
    assert set(chosen) == {"terms/custom-terms.md", "LICENSE", "licence.txt", "COPYING", "USE_POLICY.md", "NOTICE",
                           "docs/LICENSE-GPL.txt", "LICENSE.pdf"}
    flood = [f"LICENSE-{i}" for i in range(50)]
    assert len(hub.licence_like_paths(flood, None)) == hub.MAX_LICENCE_FILES


@pytest.mark.parametrize("link,expected", [
    ("LICENSE", "LICENSE"), ("./LICENSE.md", "LICENSE.md"),
    ("https://huggingface.co/org/m/blob/main/LICENSE", "LICENSE"),
    ("https://huggingface.co/org/m/resolve/main/docs/terms.txt", "docs/terms.txt"),
    ("https://example.com/license", None), ("", None), (42, None), (None, None),
])
def test_license_link_path(link, expected):
    assert hub.license_link_path({"license_link": link}) == expected


def test_decode_document_reports_encoding_binary_and_truncation():
    assert hub.decode_document("héllo".encode(), 100) == ("héllo", "utf-8", False)
    assert hub.decode_document("\ufeffbom".encode(), 100) == ("bom", "utf-8", False)
    assert hub.decode_document("café « x »".encode("cp1252"), 100) == ("café « x »", "cp1252", False)
    assert hub.decode_document(b"\x81\x8d\x8f\x90\x9d", 100)[1] == "latin-1"
    assert hub.decode_document(b"%PDF\x00\x01binary", 100) == (None, None, False)
    assert hub.decode_document("wide".encode("utf-16"), 100) == ("wide", "utf-16", False)
    text, encoding, truncated = hub.decode_document("aé".encode() * 10, 5)  # cap cuts 'é' in two
    assert (text, encoding, truncated) == ("aéa", "utf-8", True)


@pytest.mark.parametrize("text,status", [
    ("---\nlicense: mit\n---\n# x", "ok"),
    ("\ufeff---\r\nlicense: mit\r\n---\r\n", "ok"),
    ("# no metadata", "no_metadata"),
    ("", "no_metadata"),
    ("---\nlicense: [unclosed\n---\n", "invalid_metadata"),
    ("---\n- a\n- b\n---\n", "invalid_metadata"),
    ("---\nmodel-index: 3\nlicense: mit\n---\n", "ok"),
    (None, "unreadable"),
])
def test_card_status(text, status):
    assert hub.card_status(text)[0] == status


def test_parse_model_rejects_what_huggingface_hub_cannot_read():
    assert hub.parse_model({"id": "a/b", "sha": "1"}).id == "a/b"
    for payload in ({"sha": "1"}, ["not", "a", "dict"], {"id": "a/b", "lastModified": "2024-01-01T00:00:00+00:00"}):
        with pytest.raises(Exception):
            hub.parse_model(payload)


@pytest.mark.parametrize("status,headers,reason,transient", [
    (401, {"x-error-code": "GatedRepo"}, "gated", False),
    (401, {"x-error-code": "RepoNotFound"}, "not_found", False),
    (404, {"x-error-code": "EntryNotFound"}, "missing_file", False),
    (404, {"x-error-code": "EntryNotFound", "x-world-missing": "1"}, "not_in_snapshot", False),
    (404, {"x-error-code": "RevisionNotFound"}, "revision_not_found", True),
    (403, {"x-error-message": "Access to this resource is disabled."}, "disabled", False),
    (429, {}, "rate_limited", True), (503, {}, "server_error", True), (404, {}, "not_found", False),
    (418, {}, "http_error", False),
])
def test_reason_for_status(status, headers, reason, transient):
    named = reason_for_status(status, headers)
    assert (named.reason, named.transient) == (reason, transient)


def test_reason_for_exception():
    from twisted.internet.error import ConnectionLost, TCPTimedOutError, TimeoutError
    from twisted.web._newclient import ResponseFailed
    assert reason_for_exception(TimeoutError()).reason == "timeout"
    assert reason_for_exception(TCPTimedOutError()).reason == "timeout"
    assert reason_for_exception(ConnectionLost()).reason == "connection_error"
    assert reason_for_exception(ResponseFailed(["_DataLoss"])).reason == "truncated_body"


@pytest.mark.parametrize("card,tags,expected", [
    ({"license": "mit"}, [], "mit"),
    ({"licenses": ["mit", "apache-2.0"]}, [], "mit, apache-2.0"),
    ({}, ["license:cc-by-4.0"], "cc-by-4.0"),
    (None, ["region:us"], None),
    ({"license": 7}, [], "7"),  # kept as written, as licence.declared keeps it
])
def test_licence_tag(card, tags, expected):
    assert licence_tag(card, tags) == expected
