"""What was searched for a cell that nothing released or that could not be told, in one line: the
card, the model's own links and their outcomes, papers read, mentions not counted, corpora named as
excluded, what stayed unsettled. `openness explain` prints it; the report's cell panel shows it."""
from __future__ import annotations


def format_search(search: dict) -> str:
    """One line of what was searched for a not-found or Unknown cell."""
    parts = [f"card {search.get('card')}"]
    links = search.get("links")
    if links is not None:
        parts.append("own links: " + (", ".join(
            f"{l['target']} ({l['status']}{': ' + ', '.join(l['roles']) if l.get('roles') else ''}"
            f"{'; found by name' if l.get('relevance') == 'guess' else ''})" for l in links) or "none"))
    if search.get("papers"):
        parts.append("papers: " + ", ".join(f"{p['paper']} ({p['hub_page']})" for p in search["papers"]))
    if search.get("mentions"):
        parts.append("mentions, not counted: " + ", ".join(f"{m['target']} ({m['why']})" for m in search["mentions"]))
    if search.get("excluded"):
        parts.append("named as excluded: " + ", ".join(f"{e['corpus']} ('{e['why']}')" for e in search["excluded"]))
    if search.get("gaps"):
        parts.append("not settled: " + "; ".join(search["gaps"]))
    return "; ".join(parts)
