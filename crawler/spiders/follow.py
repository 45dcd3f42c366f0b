"""Following the evidence: after the selected models are stored, each wave reads the warehouse's
frontier (link targets no crawl has settled, or whose outcome is stale, deferred or transient),
hands each target to its follower once per crawl, and stops when a wave finds nothing new. Base
models reached this way are crawled like selected ones, so their own links make the next wave,
down to the depth limit."""
from __future__ import annotations

from datetime import timedelta

import scrapy

from openness.crawler.linked import target_row
from openness.crawler.spiders.datasets import DatasetFollower
from openness.crawler.spiders.github import GitHubFollower
from openness.crawler.spiders.papers import PaperFollower
from openness.extractors.links import unfollowable
from openness.warehouse.db import utcnow
from openness.warehouse.links import Target, frontier, observed_models


class LinkFollowing:
    def __init__(self, spider, follow_model):
        s = spider.settings
        self.spider = spider
        self.follow_model = follow_model  # Target -> Request for a base model's info
        self.max_depth = s.getint("FOLLOW_MAX_DEPTH")
        self.wave_size = s.getint("FOLLOW_WAVE_SIZE")
        self.stale_before = utcnow() - timedelta(days=s.getfloat("FOLLOW_RECHECK_DAYS"))
        self.followers = {f.kind: f for f in (DatasetFollower(spider), GitHubFollower(spider), PaperFollower(spider))}
        self.unreachable = s.getdict("FOLLOW_UNREACHABLE")  # service -> why, found before the crawl started
        self.settled: set[tuple[str, str]] = set()
        self.waves = 0

    @property
    def enabled(self) -> bool:
        return self.max_depth > 0

    def next_wave(self) -> tuple[list[scrapy.Request], list[dict]]:
        """(requests, items decided without a request) of the next wave; both empty when done."""
        spider = self.spider
        # settled targets have their rows loaded (the spider flushed before this), so the frontier
        # leaves them out; the set only guards against a target that somehow got no row
        targets = [t for t in frontier(spider.warehouse, spider.run_id, self.max_depth, self.stale_before,
                                       self.wave_size) if (t.kind, t.target) not in self.settled]
        self.settled.update((t.kind, t.target) for t in targets)
        if not targets:
            return [], []
        self.waves += 1
        spider.crawler.stats.inc_value("openness/follow_waves")
        spider.crawler.stats.inc_value("openness/targets_followed", len(targets))
        for kind, follower in self.followers.items():
            follower.prepare([t for t in targets if t.kind == kind and not unfollowable(t.kind, t.target)])
        models = [t.target for t in targets if t.kind == "base_model"]
        stored = observed_models(spider.warehouse, models, self.stale_before)
        requests, items = [], []
        for target in targets:
            for out in self._start(target, stored):
                (requests if isinstance(out, scrapy.Request) else items).append(out)
        return requests, items

    def _start(self, target: Target, stored_models: set[str]):
        reason = unfollowable(target.kind, target.target)
        if reason:
            self.spider.crawler.stats.inc_value("openness/targets_failed")
            yield {"kind": "target", "row": target_row(target.kind, target.target, "failed", target.depth, reason=reason)}
        elif target.kind == "base_model" and target.target in stored_models:
            self.spider.crawler.stats.inc_value("openness/targets_resolved")
            yield {"kind": "target", "row": target_row(target.kind, target.target, "resolved", target.depth,
                                                       reason="in_warehouse", resolved_id=target.target)}
        elif target.kind == "base_model":
            yield self.follow_model(target)
        elif target.kind == "code" and "github" in self.unreachable:
            stats = self.spider.crawler.stats
            stats.inc_value("openness/targets_failed")
            stats.inc_value("openness/unreachable/github")
            yield {"kind": "target", "row": target_row(target.kind, target.target, "failed", target.depth,
                                                       reason="unreachable", transient=True,
                                                       message=self.unreachable["github"])}
        elif target.kind in self.followers:
            yield from self.followers[target.kind].start(target)
        else:
            yield {"kind": "target", "row": target_row(target.kind, target.target, "failed", target.depth,
                                                       reason="unsupported_kind")}
