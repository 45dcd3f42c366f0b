"""classification/scale/codec.py: the inner loop's JSON reads and writes exactly what json.loads and
json.dumps(sort_keys=True) do, so cells written through it are the bytes they always were."""
import datetime
import json
import math

import pytest

from openness.classification.scale.codec import decode, encode, encode_any

VALUES = [
    [],
    {},
    "",
    None,
    True,
    0,
    -17,
    2**70,
    0.1,
    1e-07,
    123456789.123,
    "licence: apache-2.0",
    'a "quoted" \\ back\\slash\nnew line\ttab',
    "non-ASCII: é 中文 🤗 and a lone surrogate \ud800",
    {"url": "https://hub.example/org/model/resolve/abc/README.md", "line_start": 2, "line_end": None,
     "path": "README.md", "snippet": "license: x"},
    [{"id": "mit", "points": 5, "source": "the card's licence"}, {"id": None, "points": None, "source": "x"}],
    {"z": [1, 2, {"b": 1, "a": [True, False, None]}], "a": {"nested": {"deeper": ["x", 1.5]}}, "m": -0.0},
    {3: "int keys", 1: "are written as text"},
]


@pytest.mark.parametrize("value", VALUES, ids=range(len(VALUES)))
def test_encode_writes_what_json_dumps_writes(value):
    assert encode(value) == json.dumps(value, sort_keys=True)
    assert encode_any(value) == json.dumps(value, sort_keys=True, default=str)


@pytest.mark.parametrize("value", VALUES, ids=range(len(VALUES)))
def test_decode_reads_what_json_loads_reads(value):
    for text in (json.dumps(value), json.dumps(value, sort_keys=True, indent=2), json.dumps(value, ensure_ascii=False)):
        assert decode(text) == json.loads(text)
        assert type(decode(text)) is type(json.loads(text))


def test_values_json_has_no_type_for():
    when = datetime.date(2026, 11, 26)
    assert encode_any({"when": when, "ids": ("a", "b")}) == json.dumps({"when": when, "ids": ("a", "b")},
                                                                       sort_keys=True, default=str)
    with pytest.raises(TypeError, match="not JSON serializable"):
        encode({"when": when})


def test_not_a_number_is_written_and_read_as_json_does():
    assert encode([math.nan, math.inf, -math.inf]) == json.dumps([math.nan, math.inf, -math.inf], sort_keys=True)
    assert math.isnan(decode("NaN")) and decode("-Infinity") == -math.inf


@pytest.mark.parametrize("text", [" [1] ", "\n{}\n", "[1] [2]", "[1,", "", "{'a': 1}", '"unterminated', "[1] x",
                                  '{"a": 1,}'])
def test_text_around_or_broken_json_goes_the_standard_way(text):
    try:
        expected = json.loads(text)
    except json.JSONDecodeError as exc:
        with pytest.raises(json.JSONDecodeError) as raised:
            decode(text)
        assert (raised.value.msg, raised.value.pos) == (exc.msg, exc.pos)
    else:
        assert decode(text) == expected


def test_bytes_are_read_as_json_loads_reads_them():
    assert decode(b'{"a": [1, 2]}') == {"a": [1, 2]}
