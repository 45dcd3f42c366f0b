"""crawler/payloads.py: any type in any field the Hub echoes still gives a stored model (issue:
`tags: 5` in a card made the model unstorable)."""
from __future__ import annotations

import pytest

from openness.crawler.payloads import read_model_payload
from openness.crawler.records import model_row

ODD_VALUES = [5, "s", [1], {"a": 1}, None, True, 1.5, ["x", {"y": 2}], [[1]], "2024-13-99"]
TOP_FIELDS = ["author", "sha", "createdAt", "lastModified", "private", "disabled", "downloads", "gated", "gguf",
              "likes", "library_name", "tags", "pipeline_tag", "cardData", "model-index", "config", "transformersInfo",
              "siblings", "safetensors", "evalResults", "inferenceProviderMapping", "ignore_metadata_errors"]
CARD_FIELDS = ["language", "license", "license_name", "license_link", "library_name", "tags", "base_model", "datasets",
               "metrics", "model-index", "eval_results", "pipeline_tag", "ignore_metadata_errors", "widget"]


@pytest.mark.parametrize("field", TOP_FIELDS)
def test_any_value_of_a_top_level_field_gives_a_storable_model(field):
    for value in ODD_VALUES:
        info, clean, _ = read_model_payload({"id": "a/b", "sha": "f" * 40, field: value})
        assert model_row(info, clean, "ok", None, True)["model_id"] == "a/b"


@pytest.mark.parametrize("field", CARD_FIELDS)
def test_any_value_of_a_card_field_gives_a_storable_model(field):
    for value in ODD_VALUES:
        info, clean, _ = read_model_payload({"id": "a/b", "sha": "f" * 40, "cardData": {field: value}})
        assert model_row(info, clean, "ok", None, True)["model_id"] == "a/b"


def test_plain_meanings_are_kept_and_every_change_is_noted():
    info, clean, notes = read_model_payload({
        "id": "a/b", "sha": "f" * 40, "tags": "solo", "downloads": 12.0, "likes": True,
        "lastModified": "2024-05-01T02:00:00+02:00", "siblings": [{"rfilename": "README.md"}, {"name": "x"}],
        "cardData": {"tags": 5, "license": ["mit", 3], "language": "en"}})
    assert clean["tags"] == ["solo"] and clean["downloads"] == 12 and "likes" not in clean
    assert clean["lastModified"] == "2024-05-01T00:00:00.000Z" and info.last_modified.hour == 0
    assert clean["siblings"] == [{"rfilename": "README.md"}] and [s.rfilename for s in info.siblings] == ["README.md"]
    assert clean["cardData"] == {"license": ["mit", "3"], "language": "en"}
    assert len(notes) == 6 and all(":" in n for n in notes)


def test_a_clean_payload_is_left_as_it_is():
    payload = {"id": "a/b", "sha": "f" * 40, "tags": ["x"], "downloads": 3, "lastModified": "2024-01-01T00:00:00.000Z",
               "cardData": {"license": "mit", "base_model": "c/d"}, "siblings": [{"rfilename": "README.md"}]}
    _, clean, notes = read_model_payload(payload)
    assert clean == payload and notes == []


def test_a_payload_without_an_id_is_refused():
    with pytest.raises(ValueError, match="without an id"):
        read_model_payload({"sha": "f" * 40})


def test_counts_and_sizes_past_64_bits_are_dropped_and_noted():
    from openness.crawler.records import as_int
    info, clean, notes = read_model_payload({"id": "a/b", "likes": 2**63, "downloads": 2**63 - 1, "usedStorage": -2**64,
                                             "siblings": [{"rfilename": "w.bin", "size": 2**64},
                                                          {"rfilename": "x.bin", "lfs": {"size": 2**70, "sha256": "0" * 64,
                                                                                         "pointerSize": 134}}]})
    assert "likes" not in clean and clean["downloads"] == 2**63 - 1 and "usedStorage" not in clean
    assert clean["siblings"] == [{"rfilename": "w.bin"}, {"rfilename": "x.bin"}]
    assert any(n.startswith("likes: 9223372036854775808 is past") for n in notes) and any("siblings" in n for n in notes)
    assert as_int(2**63) is None and as_int(-2**63) == -2**63 and as_int(True) is None
