"""Limits on a card's YAML, shared by the crawler and the Hub emulator: YAML's aliases let a few
hundred bytes stand for billions of nodes (a "billion laughs" card). Parsing such a card is cheap,
but anything that then walks or serialises the value (JSON for an answer or a warehouse column)
expands every alias, and one card took the emulator to 4 GB in a minute. A card over these limits
has no usable metadata."""
from __future__ import annotations

import yaml

MAX_FRONT_MATTER_CHARS = 1_000_000
MAX_EXPANDED_NODES = 100_000  # nodes once every alias is expanded; real cards stay under a few thousand
# characters of scalars once every alias is expanded: one long string named 10,000 times is a bomb
# of few nodes (a 200 KB string made a 2 GB answer); real cards repeat little, so twice the front
# matter's own limit is room enough
MAX_EXPANDED_CHARS = 2 * MAX_FRONT_MATTER_CHARS


def yaml_problem(text: str) -> str | None:
    """Why text (a card's front matter) must not be loaded, or None when it is within the limits."""
    if len(text) > MAX_FRONT_MATTER_CHARS:
        return f"front matter of {len(text):,} characters (limit {MAX_FRONT_MATTER_CHARS:,})"
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return None  # not a bomb; the YAML error is reported by whoever loads it
    except RecursionError:
        return "YAML nested too deeply"
    if root is None:
        return None
    nodes, chars = expanded_size(root)
    if nodes > MAX_EXPANDED_NODES:
        return f"YAML aliases expand to more than {MAX_EXPANDED_NODES:,} nodes"
    if chars > MAX_EXPANDED_CHARS:
        return f"YAML aliases expand to more than {MAX_EXPANDED_CHARS:,} characters"
    return None


def expanded_size(root: yaml.Node) -> tuple[int, int]:
    """(nodes, scalar characters) root holds once aliases are expanded, counted without expanding
    them (each capped just above its limit; an alias inside its own anchor counts as endless)."""
    endless = (MAX_EXPANDED_NODES + 1, MAX_EXPANDED_CHARS + 1)
    sizes: dict[int, tuple[int, int]] = {}
    open_nodes: set[int] = set()
    stack = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        children = _children(node)
        if children_done:
            open_nodes.discard(id(node))
            own_chars = len(node.value) if isinstance(node, yaml.ScalarNode) else 0
            nodes = 1 + sum(sizes[id(c)][0] for c in children)
            chars = own_chars + sum(sizes[id(c)][1] for c in children)
            sizes[id(node)] = (min(nodes, endless[0]), min(chars, endless[1]))
            continue
        if id(node) in sizes:
            continue
        if id(node) in open_nodes:  # reached again below itself: a recursive alias
            return endless
        open_nodes.add(id(node))
        stack.append((node, True))
        stack.extend((c, False) for c in children)
    return sizes[id(root)]


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    return []
