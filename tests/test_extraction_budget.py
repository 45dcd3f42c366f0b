"""What one model's extraction may cost (extractors/budget.py): linear in the mentions on a line,
a time budget per extractor and a size budget per document, past which the model is still stored
with what was found and the rest is said to be too complex."""
from __future__ import annotations

import time

from openness import extractors
from openness.extractors import Document, ModelRecord, extract_all, sentences


def _card(links: int) -> ModelRecord:
    """One line of links and parentheses with no full stop: a clause as long as the line."""
    line = ", see ".join(f"[repo {i}](https://github.com/org{i}/repo{i}) and (notes {i})" for i in range(links))
    text = f"---\nlicense: mit\n---\n# Kite\n\nSee {line}.\n"
    return ModelRecord("kite/kite-7b", "a" * 40, {}, [{"path": "README.md"}],
                       {"README.md": Document("README.md", "u", text)}, "u")


def test_the_text_read_around_each_mention_is_bounded_so_extraction_is_linear_in_the_links(monkeypatch):
    """Counted, not timed: the characters the clause helpers mask per link stay the same whether a
    line holds 100 links or 400 (each link's clause was once the whole line: quadratic)."""
    read = []
    masked = sentences.mask_urls

    def counting(text: str) -> str:
        read.append(len(text))
        return masked(text)
    monkeypatch.setattr(sentences, "mask_urls", counting)
    per_link = {}
    for links in (100, 400):
        read.clear()
        sentences._boundaries.cache_clear()
        findings = extract_all(_card(links))
        assert sum(f.signal == "code.link" for f in findings) == links
        per_link[links] = (sum(read) - max(read)) / links  # the line's own masking, once, aside
    assert per_link[400] <= per_link[100] * 1.1 and per_link[400] < 20 * sentences.READ_AROUND


def test_an_extractor_past_its_time_budget_is_too_complex_and_the_others_are_kept(monkeypatch):
    class Slow:
        NAME, VERSION = "slow", "1"

        @staticmethod
        def extract(record):
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline:  # a pathological regular expression, say
                pass
            return []
    monkeypatch.setattr(extractors, "EXTRACTORS", (Slow,) + extractors.EXTRACTORS)
    started = time.monotonic()
    findings = extract_all(_card(3), max_seconds=0.2)
    assert time.monotonic() - started < 4  # stopped at its budget, not at its end
    errors = [f.value for f in findings if f.signal == "extractor.error"]
    assert errors == [{"extractor": "slow", "error": "too_complex: more than 0.2 s on this record"}]
    assert {"licence.declared", "code.link"} <= {f.signal for f in findings}


def test_a_document_past_its_size_budget_is_read_up_to_it_and_said_to_be_too_complex():
    record = _card(50)
    findings = extract_all(record, max_chars=1000)
    errors = [f.value["error"] for f in findings if f.signal == "extractor.error"]
    assert errors == ["too_complex: README.md is longer than 1,000 characters; read up to there"]
    links = [f for f in findings if f.signal == "code.link"]
    assert 0 < len(links) < 50 and any(f.signal == "licence.declared" for f in findings)
    assert extract_all(record) == extract_all(record)  # and without a cut, nothing said
    assert not [f for f in extract_all(record) if f.signal == "extractor.error"]


def test_the_time_budget_holds_in_a_thread_too(monkeypatch):
    """A crawl extracting in a thread (EXTRACT_PROCESSES 0) has no timer signal there: the budget is
    kept by an exception raised in the thread, and only in the extractor that ran past it."""
    import threading

    class Slow:
        NAME, VERSION = "slow", "1"

        @staticmethod
        def extract(record):
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline:
                pass
            return []
    monkeypatch.setattr(extractors, "EXTRACTORS", (Slow,) + extractors.EXTRACTORS)
    found, took = [], []

    def run():
        started = time.monotonic()
        found.extend(extract_all(_card(3), max_seconds=0.2))
        took.append(time.monotonic() - started)
        time.sleep(0.4)  # past where the other extractors' timers would strike, had they not been cancelled
        took.append("finished")
    thread = threading.Thread(target=run)
    thread.start()
    thread.join(10)
    assert not thread.is_alive() and took[0] < 4 and took[1:] == ["finished"]
    errors = [f.value for f in found if f.signal == "extractor.error"]
    assert errors == [{"extractor": "slow", "error": "too_complex: more than 0.2 s on this record"}]
    assert {"licence.declared", "code.link"} <= {f.signal for f in found}
