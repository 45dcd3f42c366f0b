"""Schedules for a crawl profile: a crontab line, or a systemd service and timer, that run
`openness run PROFILE` at the profile's time; and installing them."""
from __future__ import annotations

import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from openness.pipeline.profiles import DAYS, Profile, ProfileError


def job_command(profile: Profile) -> list[str]:
    """The installed `openness` beside this Python (a venv's bin/), else this Python running the CLI."""
    script = Path(sys.executable).with_name("openness")
    base = [str(script)] if script.exists() else [sys.executable, "-m", "openness"]
    return base + ["run", str(profile.path)]


def _marker(profile: Profile) -> str:
    return f"# openness:{profile.name}"


def cron_line(profile: Profile) -> str:
    hour, minute = profile.at.split(":")
    days = ",".join(str((DAYS.index(d) + 1) % 7) for d in profile.days) or "*"  # cron: 0 = Sunday
    command = " ".join(shlex.quote(part) for part in job_command(profile))
    output = f" >> {shlex.quote(str(profile.log))} 2>&1" if profile.log else ""
    # cron reads % as a newline: the command must not carry one unescaped
    command = f"cd {shlex.quote(str(profile.path.parent))} && {command}{output}".replace("%", r"\%")
    return f"{int(minute)} {int(hour)} * * {days} {command} {_marker(profile)}"


@dataclass
class SystemdUnits:
    service_name: str
    service: str
    timer_name: str
    timer: str


def systemd_units(profile: Profile) -> SystemdUnits:
    name = f"openness-{profile.name}"
    days = ",".join(profile.days) + " " if profile.days else ""
    output = f"StandardOutput=append:{profile.log}\nStandardError=append:{profile.log}\n" if profile.log else ""
    service = (f"[Unit]\nDescription=openness crawl profile {profile.name} ({profile.path})\n"
               "Wants=network-online.target\nAfter=network-online.target\n\n"
               f"[Service]\nType=oneshot\nWorkingDirectory={profile.path.parent}\n"
               f"ExecStart={' '.join(shlex.quote(p) for p in job_command(profile))}\n"
               # 75 is "the previous run still holds the lock": skipped, not failed
               f"SuccessExitStatus=75\nNice=10\nKillSignal=SIGTERM\nTimeoutStopSec=120\n{output}")
    timer = (f"[Unit]\nDescription=openness crawl profile {profile.name}, at {days}{profile.at}\n\n"
             f"[Timer]\nOnCalendar={days}*-*-* {profile.at}:00\nPersistent=true\nUnit={name}.service\n\n"
             "[Install]\nWantedBy=timers.target\n")
    return SystemdUnits(f"{name}.service", service, f"{name}.timer", timer)


def install_cron(profile: Profile, crontab: str = "crontab") -> str:
    """Put the profile's line into the user's crontab, replacing the line an earlier install wrote
    (found by its marker) and keeping every other line. Returns the line."""
    listed = subprocess.run([crontab, "-l"], capture_output=True, text=True)
    # `crontab -l` fails when the user has no crontab yet: that is an empty one
    current = listed.stdout.splitlines() if listed.returncode == 0 else []
    line = cron_line(profile)
    kept = [existing for existing in current if not existing.rstrip().endswith(_marker(profile))]
    written = subprocess.run([crontab, "-"], input="\n".join(kept + [line]) + "\n", capture_output=True, text=True)
    if written.returncode != 0:
        raise ProfileError(f"crontab refused the new table: {written.stderr.strip()}")
    return line


def install_systemd(profile: Profile, unit_dir: Path) -> list[Path]:
    units = systemd_units(profile)
    unit_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, text in ((units.service_name, units.service), (units.timer_name, units.timer)):
        path = unit_dir / name
        path.write_text(text, "utf-8")
        paths.append(path)
    return paths
