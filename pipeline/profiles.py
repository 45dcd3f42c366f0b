"""Crawl profiles: a small TOML file naming what a scheduled job crawls and where its results go.

    name = "nightly"                      # default: the file's stem
    warehouse = "/srv/openness/hub.duckdb"
    export_dir = "/srv/openness/snapshots"  # each run's dated snapshot; also the archive of compacted runs
    keep_runs = 14                        # retention: runs whose rows stay in the warehouse
    report_dir = "/srv/www/openness"      # optional: the HTML report after each run
    log = "/var/log/openness/nightly.log" # optional: where cron sends the job's output
    env_file = "/srv/openness/tokens.env" # optional: HF_TOKEN=..., GITHUB_TOKEN=... read at run time
    [schedule]
    at = "02:30"                          # daily, local time of the machine
    days = ["Mon", "Thu"]                 # optional: only these weekdays
    [selection]                           # as `openness crawl`: authors, search, filters, sort, limit, model_ids
    sort = "downloads"
    [endpoints]                           # hub, github_api, web_base
    [crawl]                               # follow_depth, papers, file_sizes, sizes_now, licence_files,
                                          # concurrency, rate_budget = {api = "2500/300"}

Relative paths are relative to the profile file, so a profile and its warehouse can move together.
"""
from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from openness.pipeline.errors import ProfileError
from openness.crawler.licence_files import MODES as LICENCE_MODES
from openness.crawler.settings import DEFAULTS, parse_budget

DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_SELECTION = {"authors": list, "search": str, "filters": list, "sort": str, "limit": int, "model_ids": list}
_ENDPOINTS = {"hub": str, "github_api": str, "web_base": str}
_CRAWL = {"follow_depth": int, "papers": bool, "file_sizes": bool, "sizes_now": bool, "licence_files": str,
          "concurrency": int, "rate_budget": dict}
_TOP = {"name", "warehouse", "export_dir", "keep_runs", "report_dir", "log", "env_file", "classify",
        "schedule", "selection", "endpoints", "crawl"}


@dataclass
class Profile:
    path: Path
    name: str
    warehouse: Path
    export_dir: Path
    keep_runs: int | None = None
    report_dir: Path | None = None
    log: Path | None = None
    env_file: Path | None = None
    classify: bool = True
    at: str = "02:30"
    days: list[str] = field(default_factory=list)
    selection: dict = field(default_factory=dict)
    endpoints: dict = field(default_factory=dict)
    crawl: dict = field(default_factory=dict)

    @property
    def hub(self) -> str:
        return self.endpoints.get("hub", DEFAULTS["HUB_ENDPOINT"])


def load_profile(path) -> Profile:
    path = Path(path).resolve()
    try:
        data = tomllib.loads(path.read_text("utf-8"))
    except OSError as exc:
        raise ProfileError(f"cannot read profile {path}: {exc.strerror}") from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ProfileError(f"profile {path} is not valid TOML: {exc}") from exc
    unknown = set(data) - _TOP
    if unknown:
        raise ProfileError(f"profile {path}: unknown keys {sorted(unknown)} (known: {sorted(_TOP)})")
    for key in ("warehouse", "export_dir"):
        if not isinstance(data.get(key), str):
            raise ProfileError(f"profile {path}: '{key}' (a path) is required")
    schedule = _table(path, data, "schedule", {"at": str, "days": list})
    profile = Profile(
        path=path, name=_name(path, data.get("name", path.stem)), warehouse=_path(path, data["warehouse"]),
        export_dir=_path(path, data["export_dir"]), keep_runs=_positive(path, data.get("keep_runs")),
        report_dir=_path(path, data.get("report_dir")), log=_path(path, data.get("log")),
        env_file=_path(path, data.get("env_file")), classify=bool(data.get("classify", True)),
        at=_time(path, schedule.get("at", "02:30")), days=_days(path, schedule.get("days", [])),
        selection=_table(path, data, "selection", _SELECTION), endpoints=_table(path, data, "endpoints", _ENDPOINTS),
        crawl=_table(path, data, "crawl", _CRAWL))
    if "rate_budget" in profile.crawl:
        try:
            profile.crawl["rate_budget"] = {b: parse_budget(b, v) for b, v in profile.crawl["rate_budget"].items()}
        except ValueError as exc:
            raise ProfileError(f"profile {path}: [crawl] rate_budget: {exc}") from None
    if profile.crawl.get("licence_files", "auto") not in LICENCE_MODES:
        raise ProfileError(f"profile {path}: [crawl] licence_files must be one of {', '.join(LICENCE_MODES)}")
    return profile


def _table(path: Path, data: dict, key: str, fields: dict) -> dict:
    table = data.get(key, {})
    if not isinstance(table, dict):
        raise ProfileError(f"profile {path}: [{key}] must be a table")
    for name, value in table.items():
        if name not in fields:
            raise ProfileError(f"profile {path}: [{key}] has no '{name}' (known: {', '.join(fields)})")
        if not isinstance(value, fields[name]) or (fields[name] is int and isinstance(value, bool)):
            raise ProfileError(f"profile {path}: [{key}] {name} must be a {fields[name].__name__}")
    return dict(table)


def _name(path: Path, name) -> str:
    if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}", name):
        raise ProfileError(f"profile {path}: name must be letters, digits, '.', '_' or '-' (it names files and units)")
    return name


def _path(profile_path: Path, value) -> Path | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        raise ProfileError(f"profile {profile_path}: paths must be strings")
    return (profile_path.parent / Path(value).expanduser()).resolve()


def _positive(path: Path, value) -> int | None:
    if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 1):
        raise ProfileError(f"profile {path}: keep_runs must be a whole number of at least 1")
    return value


def _time(path: Path, value: str) -> str:
    match = re.fullmatch(r"([01]?\d|2[0-3]):([0-5]\d)", value)
    if not match:
        raise ProfileError(f"profile {path}: [schedule] at must be HH:MM (24 h), got {value!r}")
    return f"{int(match.group(1)):02d}:{match.group(2)}"


def _days(path: Path, days: list) -> list[str]:
    bad = [d for d in days if d not in DAYS]
    if bad:
        raise ProfileError(f"profile {path}: [schedule] days must be among {', '.join(DAYS)}, got {bad}")
    return sorted(set(days), key=DAYS.index)
