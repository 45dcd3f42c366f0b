"""JSON for classification's inner loop: the standard library's own C scanner and encoder, each
made once. `json.loads` and `JSONEncoder.encode` set their machinery up again on every call,
which, at a dozen findings and twelve cells a model, costs more than the reading and writing
themselves. Same objects out as `json.loads`, same text as `json.dumps(..., sort_keys=True)`.
"""
from __future__ import annotations

import json
from json.encoder import c_make_encoder, encode_basestring_ascii
from json.scanner import c_make_scanner


def _not_serialisable(value):
    raise TypeError(f"Object of type {value.__class__.__name__} is not JSON serializable")


def _encoder(default):
    """A sorted-keys encoder, as json.dumps(sort_keys=True, default=default) writes. No check for
    circular structures: cells are trees of lists, dicts and scalars."""
    if c_make_encoder is None:  # an interpreter without the C accelerator
        return json.JSONEncoder(sort_keys=True, default=default).encode
    encode = c_make_encoder(None, default, encode_basestring_ascii, None, ": ", ", ", True, False, True)
    return lambda value: "".join(encode(value, 0))


encode = _encoder(_not_serialisable)
encode_any = _encoder(str)  # evidence may carry a value JSON has no type for: written as its str()
_scan = c_make_scanner(json.JSONDecoder()) if c_make_scanner is not None else None


def decode(text: str):
    """json.loads(text); text that is not one JSON value alone (or that the fast path does not
    take) goes the standard way, which raises the standard error."""
    if _scan is not None and isinstance(text, str):
        try:
            value, end = _scan(text, 0)
        except (StopIteration, ValueError):
            end = -1
        if end == len(text):
            return value
    return json.loads(text)
