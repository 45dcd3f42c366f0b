"""`python -m openness`: the same command as `openness`."""
from openness.cli.main import cli

cli(prog_name="openness")
