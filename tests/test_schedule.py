"""Crawl profiles, their schedules (cron, systemd), and the job they run: its lock, its log lines
and its exit codes."""
from __future__ import annotations

import fcntl
import os
import stat
import textwrap

import duckdb
import pytest
from click.testing import CliRunner

from openness.cli.main import cli
from openness.pipeline.config import CrawlConfig
from openness.pipeline.profiles import ProfileError, load_profile
from openness.pipeline.schedules import cron_line, install_cron, systemd_units


def write_profile(folder, body: str, name: str = "nightly.toml"):
    path = folder / name
    path.write_text(textwrap.dedent(body), "utf-8")
    return path


def emulated_profile(folder, server, extra: str = ""):
    base = server.base_url
    return write_profile(folder, f"""
        warehouse = "data/hub.duckdb"
        export_dir = "snapshots"
        keep_runs = 1
        report_dir = "report"
        {extra}
        [schedule]
        at = "2:05"
        [selection]
        authors = ["tinystack", "aurora-labs"]
        [endpoints]
        hub = "{base}"
        github_api = "{base}/api/v3"
        web_base = "{base}/web"
        [crawl]
        follow_depth = 1
        papers = false
        """)


def test_a_profile_is_read_with_paths_beside_it(tmp_path):
    profile = load_profile(write_profile(tmp_path, """
        warehouse = "hub.duckdb"
        export_dir = "~/snapshots"
        log = "/var/log/openness.log"
        [schedule]
        at = "7:30"
        days = ["Thu", "Mon"]
        [selection]
        filters = ["license:mit"]
        [crawl]
        rate_budget = {api = "2500/300"}
        """))
    assert profile.name == "nightly" and profile.warehouse == tmp_path / "hub.duckdb"
    assert profile.export_dir == (tmp_path / os.path.expanduser("~/snapshots")).resolve()
    assert (profile.at, profile.days, profile.selection) == ("07:30", ["Mon", "Thu"], {"filters": ["license:mit"]})
    assert profile.hub == "https://huggingface.co"
    assert CrawlConfig.from_profile(profile).rate_budget == {"api": (2500, 300.0)}


@pytest.mark.parametrize("body, message", [
    ("warehouse = 'a'\nexport_dir = 'b'\n[selection]\nsort = 3\n", "sort must be a str"),
    ("warehouse = 'a'\nexport_dir = 'b'\nkeep = 3\n", "unknown keys ['keep']"),
    ("warehouse = 'a'\n", "'export_dir' (a path) is required"),
    ("warehouse = 'a'\nexport_dir = 'b'\n[schedule]\nat = '25:00'\n", "at must be HH:MM"),
    ("warehouse = 'a'\nexport_dir = 'b'\n[schedule]\ndays = ['Funday']\n", "days must be among"),
    ("warehouse = 'a'\nexport_dir = 'b'\nname = 'a b'\n", "name must be"),
    ("warehouse = 'a'\nexport_dir = 'b'\nkeep_runs = 0\n", "keep_runs must be"),
    ("warehouse = [\n", "not valid TOML"),
    ("warehouse = 'a'\nexport_dir = 'b'\n[crawl]\nrate_budget = {api = 'lots'}\n", "rate_budget: expected api=N/SECONDS"),
])
def test_a_bad_profile_says_what_is_wrong(tmp_path, body, message):
    with pytest.raises(ProfileError, match=message.replace("[", r"\[").replace("]", r"\]").replace("(", r"\(").replace(")", r"\)")):
        load_profile(write_profile(tmp_path, body))


def test_cron_and_systemd_schedules(tmp_path):
    profile = load_profile(write_profile(tmp_path, """
        warehouse = "hub.duckdb"
        export_dir = "snapshots"
        log = "logs/night%ly.log"
        [schedule]
        at = "02:30"
        days = ["Sun", "Wed"]
        """))
    line = cron_line(profile)
    fields = line.split(" ", 5)
    assert fields[:5] == ["30", "2", "*", "*", "3,0"]
    assert f"cd {tmp_path} && " in line and f" run {tmp_path / 'nightly.toml'}" in line
    assert "night\\%ly.log" in line and line.endswith("# openness:nightly")  # cron reads a bare % as a newline
    units = systemd_units(profile)
    assert units.timer_name == "openness-nightly.timer" and "OnCalendar=Wed,Sun *-*-* 02:30:00" in units.timer
    assert "Type=oneshot" in units.service and "SuccessExitStatus=75" in units.service
    assert f"run {tmp_path / 'nightly.toml'}" in units.service


def fake_crontab(tmp_path):
    """A crontab command that keeps the table in a file, as the real one keeps it in the spool."""
    table = tmp_path / "crontab.txt"
    script = tmp_path / "bin" / "crontab"
    script.parent.mkdir()
    script.write_text(f"""#!/bin/sh
if [ "$1" = "-l" ]; then [ -f {table} ] && cat {table} && exit 0; echo "no crontab for you" >&2; exit 1; fi
cat > {table}
""")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return script, table


def test_install_replaces_its_own_line_and_keeps_the_others(tmp_path):
    crontab, table = fake_crontab(tmp_path)
    profile = load_profile(write_profile(tmp_path, "warehouse = 'a'\nexport_dir = 'b'\n"))
    install_cron(profile, str(crontab))  # no crontab yet
    table.write_text(table.read_text() + "0 1 * * * backup.sh\n")
    profile.at = "04:15"
    install_cron(profile, str(crontab))
    lines = table.read_text().splitlines()
    assert len(lines) == 2 and lines[0] == "0 1 * * * backup.sh" and lines[1].startswith("15 4 * * * ")


def test_schedule_command_prints_and_installs(tmp_path):
    path = write_profile(tmp_path, "warehouse = 'a'\nexport_dir = 'b'\n")
    runner = CliRunner()
    printed = runner.invoke(cli, ["schedule", str(path)])
    assert printed.exit_code == 0 and printed.output.startswith("30 2 * * * ")
    units = runner.invoke(cli, ["schedule", "--systemd", "--install", "--unit-dir", str(tmp_path / "units"), str(path)])
    assert units.exit_code == 0 and "systemctl --user enable --now openness-nightly.timer" in units.output
    assert sorted(p.name for p in (tmp_path / "units").iterdir()) == ["openness-nightly.service", "openness-nightly.timer"]
    missing = runner.invoke(cli, ["schedule", str(tmp_path / "nope.toml")])
    assert missing.exit_code == 1 and "cannot read profile" in missing.output


def test_the_job_crawls_classifies_exports_retains_and_reports(sample_world, emulator, tmp_path):
    path = emulated_profile(tmp_path, emulator(sample_world))
    runner = CliRunner()
    first = runner.invoke(cli, ["run", str(path)])
    second = runner.invoke(cli, ["run", str(path)])
    assert first.exit_code == 0 and second.exit_code == 0, first.stderr + second.stderr
    steps = [line.split("] ", 1)[1].split(":")[0] for line in second.stderr.splitlines()]
    assert steps == ["crawl", "classify", "export", "retain", "report", "done"]
    assert "retain: ok 1 runs kept, 1 compacted" in second.stderr
    snapshots = sorted(p.name for p in (tmp_path / "snapshots").iterdir())
    assert len(snapshots) == 2 and all((tmp_path / "snapshots" / s / "manifest.json").exists() for s in snapshots)
    with duckdb.connect(str(tmp_path / "data" / "hub.duckdb"), read_only=True) as con:
        assert con.execute("SELECT count(DISTINCT run_id) FROM model_stats").fetchall() == [(1,)]
        assert con.execute("SELECT count(*) FROM crawl_runs WHERE archive IS NOT NULL").fetchall() == [(1,)]
    assert (tmp_path / "report" / "index.html").exists()


def test_an_overlapping_job_is_skipped_and_a_failing_one_says_where(tmp_path):
    path = write_profile(tmp_path, """
        warehouse = "hub.duckdb"
        export_dir = "snapshots"
        [endpoints]
        hub = "ftp://nowhere"
        """)
    runner = CliRunner()
    failed = runner.invoke(cli, ["run", str(path)])
    assert failed.exit_code == 1 and "FAILED in crawl: the Hub endpoint must be an http(s) URL" in failed.stderr
    with open(tmp_path / "hub.duckdb.job.lock", "a+") as held:
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        skipped = runner.invoke(cli, ["run", str(path)])
    assert skipped.exit_code == 75 and "SKIPPED: the previous job still runs" in skipped.stderr
    env = write_profile(tmp_path, 'warehouse = "hub.duckdb"\nexport_dir = "s"\nenv_file = "missing.env"\n', "env.toml")
    no_env = runner.invoke(cli, ["run", str(env)])
    assert no_env.exit_code == 1 and "FAILED before the crawl: cannot read env_file" in no_env.stderr


def test_an_unexpected_error_in_a_step_is_one_log_line_and_exit_1(tmp_path, monkeypatch):
    import openness.pipeline.job
    path = write_profile(tmp_path, 'warehouse = "hub.duckdb"\nexport_dir = "s"\n')
    def broken(config):
        raise ValueError("something nobody expected")
    monkeypatch.setattr(openness.pipeline.job, "run_crawl", broken)
    result = CliRunner().invoke(cli, ["run", str(path)])
    assert result.exit_code == 1 and "FAILED in crawl: ValueError: something nobody expected" in result.stderr
    assert "Traceback" not in result.stderr + result.output


def test_tokens_come_from_the_env_file_and_are_never_logged(tmp_path, monkeypatch):
    secret = "hf_" + "x" * 30
    (tmp_path / "tokens.env").write_text(f"export HF_TOKEN='{secret}'\n# a comment\n")
    (tmp_path / "tokens.env").chmod(0o644)
    path = write_profile(tmp_path, """
        warehouse = "hub.duckdb"
        export_dir = "snapshots"
        env_file = "tokens.env"
        [endpoints]
        hub = "ftp://nowhere"
        """)
    monkeypatch.delenv("HF_TOKEN", raising=False)
    result = CliRunner().invoke(cli, ["run", str(path)])
    assert os.environ.get("HF_TOKEN") == secret and secret not in result.stderr + result.output
    assert "readable by others; chmod 600" in result.stderr
    monkeypatch.delenv("HF_TOKEN")
