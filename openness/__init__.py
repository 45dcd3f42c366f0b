"""openness: audits Hugging Face model repositories and says, component by component and with
evidence, how open each model is.

Installed, the project's rooms live under this one import name (mapped from the project's top-level
folders, so nothing generic is claimed in site-packages), one room per step of the pipeline:

    openness.crawler         harvest: Scrapy spiders, followers, the Hub/GitHub/web clients, staging
    openness.extractors      extraction: pure functions from documents and file lists to findings
    openness.warehouse       storage: the DuckDB schema, staging, loading, runs, the read-only query
    openness.classification  the taxonomy (taxonomy/: rules, engine, dossiers, families, frameworks,
                             evaluation) and the machinery that runs it at scale (scale/: planner,
                             chunks, shapes, warehouse fill, workers)
    openness.outputs         report, SPDX, bill of materials, Parquet snapshots, diff
    openness.pipeline        orchestration across the steps: crawls, jobs, profiles, schedules, demo
    openness.emulator        the Hub emulator and its bundled sample world
    openness.cli             the `openness` command

`python -m openness` runs the command.
"""
