"""Following links to GitHub repositories through the REST API: the repo (with the licence GitHub
detected), its recursive tree, its README, root licence files and dependency files. A repo not
pushed since its stored tree costs one request. Rate limits are the GitHub middleware's business:
a request it defers settles the target as deferred."""
from __future__ import annotations

from openness.crawler import github
from openness.crawler.linked import code_repo_row
from openness.crawler.spiders.targets import Follower, TargetFetch, json_body
from openness.warehouse.links import Target, linked_paths, stored_code_repos


class GitHubFollower(Follower):
    kind = "code"
    service = "github"

    def __init__(self, spider):
        super().__init__(spider)
        self.api = spider.settings.get("GITHUB_API").rstrip("/")

    def prepare(self, targets: list[Target]) -> None:
        self.stored = stored_code_repos(self.spider.warehouse, [t.target for t in targets])
        self.linked = linked_paths(self.spider.warehouse, [t.target for t in targets])

    def start(self, target: Target):
        fetch = TargetFetch(target)
        full_name = target.target.split("/", 1)[1]
        request = self.request(fetch, github.repo_url(self.api, full_name), self.parse_repo)
        _, etag = self.stored.get(target.target, (None, None))
        if etag:  # stored whole before: GitHub answers 304 if nothing changed, at no cost to its rate limit
            request.headers["If-None-Match"] = etag
        yield request

    def parse_repo(self, response):
        fetch: TargetFetch = response.meta["target_fetch"]
        tree = self._tree_request(fetch, response)
        if tree is not None:
            yield tree
        yield from self.settle(fetch)

    def _tree_request(self, fetch: TargetFetch, response):
        """The tree request for a repo answer, or None when the answer settles the target."""
        if response.status == 304:  # the ETag stored is current: so is the row
            fetch.data.update(unchanged=True, resolved_id=fetch.target.target)
            self.stats.inc_value("openness/github_not_modified")
            return None
        if response.status != 200:
            fetch.outcome = self.fail_on_status(fetch, response)
            return None
        try:
            payload = json_body(response)
            fields = github.repo_fields(payload if isinstance(payload, dict) else {})
            if not fields["full_name"]:
                raise ValueError("a repo payload without full_name")
        except ValueError as exc:
            fetch.outcome = self.target_item(fetch, "failed", reason="bad_payload", transient=True,
                                             http_status=200, message=str(exc))
            return None
        etag = response.headers.get(b"ETag")
        fields["etag"] = etag.decode("latin-1") if etag else None
        fetch.data.update(fields=fields, info=payload, resolved_id=f"github.com/{fields['full_name']}".lower())
        pushed_at, _ = self.stored.get(fetch.target.target, (None, None))
        if pushed_at is not None and fields["pushed_at"] is not None and fields["pushed_at"] <= pushed_at:
            fetch.data["unchanged"] = True
            return None
        return self.request(fetch, github.tree_url(self.api, fields["full_name"], fields["default_branch"]),
                            self.parse_tree)

    def parse_tree(self, response):
        fetch: TargetFetch = response.meta["target_fetch"]
        fields = fetch.data["fields"]
        if response.status != 200:
            self.record_failure(fetch, response, None)  # an empty repo answers 409: no tree, no files
            fetch.data.update(tree_sha="", paths=[], truncated=False)
        else:
            try:
                tree_sha, paths, truncated = github.tree_blobs(json_body(response))
            except ValueError as exc:
                self.record_failure(fetch, response, None)
                fetch.failures[-1].update(reason="bad_payload", transient=True, message=str(exc))
                tree_sha, paths, truncated = "", [], False
            fetch.data.update(tree_sha=tree_sha or "", paths=paths, truncated=truncated)
            for path in github.wanted_files(paths, self.linked.get(fetch.target.target, [])):
                # contents take a branch or commit, not a tree sha: the branch the tree was read from
                yield self.request(fetch, github.contents_url(self.api, fields["full_name"], path, fields["default_branch"]),
                                   self.parse_file, path)
        yield from self.settle(fetch)

    def parse_file(self, response):
        fetch: TargetFetch = response.meta["target_fetch"]
        path = response.meta["path"]
        if response.status != 200:
            self.record_failure(fetch, response, path)
        else:
            try:
                body = github.file_content(json_body(response))
                self.store_document(fetch, response, path, fetch.data["tree_sha"], body)
            except ValueError as exc:
                self.record_failure(fetch, response, path)
                fetch.failures[-1].update(reason="bad_payload", transient=True, message=str(exc))
        yield from self.settle(fetch)

    def finish(self, fetch: TargetFetch):
        data = fetch.data
        if "tree_sha" not in data:  # the tree's request got no answer (a reset, a cut body): read it next time
            failure = fetch.failures[-1] if fetch.failures else {"reason": "connection_error", "message": None}
            yield self.target_item(fetch, "failed", reason=failure["reason"], transient=True, message=failure["message"])
            return
        row = code_repo_row(data["resolved_id"], data["fields"], data["tree_sha"], data["paths"], data["truncated"],
                            fetch.documents, not fetch.transient_failures, data["info"])
        yield {"kind": "code_repo", "row": row, "documents": fetch.documents}
        yield self.resolved_item(fetch)
