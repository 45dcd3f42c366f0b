"""The text helpers behind whose a link is and what a sentence says of a corpus: clauses,
parentheses, negation scope; owners, names, and the order in which an auditor decides."""
from __future__ import annotations

import pytest

from openness.extractors.relevance import LinkAt, family_stem, judge_code_link, judge_paper, named_after, same_owner
from openness.extractors.sentences import clause, negated, parenthetical


def at(text: str, word: str) -> tuple[int, int]:
    start = text.index(word)
    return start, start + len(word)


def test_a_clause_ends_at_sentences_and_second_statements_not_at_urls_or_abbreviations():
    text = ("See https://x.org/a.b for details. We trained on C4 (e.g. its en split), but removed Wikipedia; "
            "then we stopped.")
    assert clause(text, *at(text, "C4")) == "We trained on C4 (e.g. its en split)"
    assert clause(text, *at(text, "Wikipedia")) == "removed Wikipedia"
    assert clause(text, *at(text, "x.org")).startswith("See https://x.org/a.b for details")
    assert parenthetical(text, text.index("its")) == "e.g. its en split"
    assert parenthetical("[a](https://x.org/b)", 5) == ""  # a markdown link's own parentheses


@pytest.mark.parametrize("text,word,negative", [
    ("Note that all Wikipedia pages were removed from this dataset.", "Wikipedia", True),
    ("The model was not trained on any part of Wikipedia.", "Wikipedia", True),
    ("We used The Pile excluding Books3.", "Books3", True),
    ("We used The Pile excluding Books3.", "The Pile", False),
    ("We trained on C4, with no deduplication, and on The Pile.", "The Pile", False),
    ("We trained on C4, with no deduplication.", "C4", False),
    ("Pre-trained on RedPajama.", "RedPajama", False),
])
def test_negation_governs_only_the_mention_it_is_about(text, word, negative):
    assert bool(negated(text, *at(text, word))) is negative


def test_names_owners_and_families():
    assert family_stem("org/open_heron_7b") == "open_heron"
    assert family_stem("org/Heron-2-7b-chat-hf") == "Heron-2"
    assert family_stem("org/Wren-1.3B-Instruct-v0.2") == "Wren"
    assert same_owner("stabilityish", "Stabilityish-AI") and same_owner("acme", "acmeresearch")
    assert not same_owner("ai", "aidev") and not same_owner("acme", "kestrel")
    assert named_after("org/Heron-2-7b", "heron") and named_after("org/wren2", "wren-2")
    assert not named_after("org/Heron-2-7b", "kite") and not named_after("org/ab-7b", "ab")


def judge(line, owner, repo, rest="", model="heron-lab/heron-7b", author="heron-lab", heading="", derivative=False):
    start = line.index("https://github.com")
    return judge_code_link(LinkAt(model, author, line, start, start + 30, heading, False, derivative), owner, repo, rest)


def test_the_order_an_auditor_decides_in():
    url = "https://github.com/kite-lab/kite"
    # a pull request is never the release, whoever owns the repo
    assert judge(f"Fixed in {url}/pull/3.", "heron-lab", "kite", "/pull/3").relevance == "mention"
    # own words beat a comparison elsewhere in the line; a comparison beats the owner
    assert judge(f"Our training code is at {url}.", "kite-lab", "kite").relevance == "own"
    assert judge(f"It beats other models (e.g. [Kite]({url})).", "heron-lab", "kite").relevance == "mention"
    # "based on" someone else's work is a mention; a repo named after a base model's family, in a
    # derivative's card, is not its own
    assert judge(f"Based on [Kite]({url}).", "kite-lab", "kite").relevance == "mention"
    assert judge(f"See {url}.", "kite-lab", "kite", model="heron-lab/kite-7b-ft", derivative=True).relevance == "mention"
    assert judge(f"See {url}.", "kite-lab", "kite", model="heron-lab/kite-7b").relevance == "own"
    # a building block everyone uses, whoever owns it
    assert judge("Trained using [JAX](https://github.com/google/jax).", "google", "jax", author="google").relevance == "mention"
    assert judge(f"Trained using [Kite]({url}).", "kite-lab", "kite").relevance == "own"
    # nothing said: a mention, with the reason
    judged = judge(f"See {url}.", "kite-lab", "kite")
    assert judged.relevance == "mention" and "nothing says" in judged.why


def test_papers_own_or_cited():
    line = "For full details of this model please read our [paper](https://arxiv.org/abs/2409.00001)."
    assert judge_paper(line, *at(line, "https"), "", False).relevance == "own"
    line = "Fine-tuned with the method of [this paper](https://arxiv.org/abs/2305.00002)."
    assert judge_paper(line, *at(line, "https"), "", True).relevance == "mention"
    line = "| Kite | [link](https://arxiv.org/abs/2302.00003) |"
    assert judge_paper(line, *at(line, "https"), "", False).relevance == "mention"


def test_clause_spans_found_by_bisection_match_a_walk_over_the_boundaries():
    """clause_span finds a line's boundaries once and bisects them; a plain walk says the same."""
    import random
    import re as regex
    from openness.extractors.sentences import _BOUNDARY, clause_span, mask_urls

    def walked(text, start, end):
        left, right = 0, len(text)
        for boundary in _BOUNDARY.finditer(mask_urls(text)):
            if boundary.end() <= start:
                left = boundary.end()
            elif boundary.start() >= end:
                right = boundary.start()
                break
        return left, right

    pieces = ["We trained on C4", ". ", ", but ", "; ", " whereas ", "e.g. this", " see https://x.org/a.b ", "and X", "!"]
    rng = random.Random(7)
    for _ in range(300):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(1, 12)))
        for match in regex.finditer(r"C4|X|this", text):
            assert clause_span(text, match.start(), match.end()) == walked(text, match.start(), match.end())
            assert clause_span(text, match.start()) == walked(text, match.start(), match.start())
