"""benchmarks/faults.py at a tiny size, so it cannot rot: fault storms and kills converge to the
crawl that met no faults (0 rows lost, 0 duplicated, the same classifications)."""
from __future__ import annotations

from benchmarks.faults import measure


def test_faults_converge_to_the_uninterrupted_warehouse(tmp_path):
    report = measure(models=40, rates=[0.3], kill_count=2, seed=3, root=tmp_path)
    assert [s["scenario"] for s in report["scenarios"]] == ["storm 0.3", "2 kills"]
    storm, kills = report["scenarios"]
    assert storm["statuses"][-1] == "complete" and storm["runs"] > 1  # the storm did bite
    assert len(kills["kills"]) == 2 and not any(k.startswith("failed") for k in kills["kills"]), kills["kills"]
    for scenario in report["scenarios"]:
        assert scenario["rows_lost"] == 0 and scenario["rows_duplicated_or_different"] == 0, scenario
        assert scenario["classifications_identical"], scenario
    assert report["baseline_rows"]["models"] == 40 and report["baseline_rows"]["classifications"] == 40 * 12
