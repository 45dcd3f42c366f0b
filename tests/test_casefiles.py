"""The case files: a case with phrasings is one case per phrasing, each with its words in place."""
from __future__ import annotations

import pytest

from casefiles import cases, expand


def test_each_phrasing_is_a_case_with_its_words_in_place(tmp_path):
    path = tmp_path / "wren.yml"
    path.write_text("model_id: a/b\ndocuments:\n  README.md: |\n    # B\n\n    {phrase}\n"
                    "phrasings:\n- 'Trained with X.'\n- 'X trained it.'\nexpect: {k: '{phrase}'}\n", "utf-8")
    expanded = expand(path)
    assert [name for name, _ in expanded] == ["wren[1]", "wren[2]"]
    assert expanded[1][1]["documents"]["README.md"] == "# B\n\nX trained it.\n"
    assert expanded[0][1]["expect"] == {"k": "Trained with X."} and "phrasings" not in expanded[0][1]


def test_phrasings_without_a_place_or_given_twice_are_refused(tmp_path):
    path = tmp_path / "bad.yml"
    path.write_text("model_id: a/b\nphrasings:\n- 'one'\n", "utf-8")
    with pytest.raises(ValueError, match="no {phrase}"):
        expand(path)
    path.write_text("model_id: '{phrase}'\nphrasings:\n- 'one'\n- 'one'\n", "utf-8")
    with pytest.raises(ValueError, match="twice"):
        expand(path)


def test_the_rules_are_tested_on_many_phrasings():
    phrased = [name for kind in ("classify", "extract", "repo_roles") for name, _ in cases(kind) if "[" in name]
    assert len(phrased) >= 200
