"""Following links to Hub datasets: the dataset's info (renamed ids resolved through the Hub's
redirects), its card and its licence files at the listed commit, so a model's data components can
be judged by the datasets' own licences. A stored complete commit is not fetched again."""
from __future__ import annotations

from openness.crawler import hub
from openness.crawler.linked import dataset_row
from openness.crawler.spiders.targets import Follower, TargetFetch, json_body, response_headers
from openness.warehouse.links import Target, stored_dataset_commits


class DatasetFollower(Follower):
    kind = "dataset"

    def prepare(self, targets: list[Target]) -> None:
        self.stored = stored_dataset_commits(self.spider.warehouse, [t.target for t in targets])

    def start(self, target: Target):
        fetch = TargetFetch(target)
        yield self.request(fetch, hub.dataset_info_url(self.spider.endpoint, target.target), self.parse_info)

    def parse_info(self, response):
        fetch: TargetFetch = response.meta["target_fetch"]
        if response.status != 200:
            fetch.outcome = self.fail_on_status(fetch, response)
            yield from self.settle(fetch)
            return
        try:
            payload = json_body(response)
            if not isinstance(payload, dict) or not isinstance(payload.get("id"), str) or not payload.get("sha"):
                raise ValueError("a dataset payload without id or sha")
        except ValueError as exc:
            fetch.outcome = self.target_item(fetch, "failed", reason="bad_payload", transient=True,
                                             http_status=200, message=str(exc))
            yield from self.settle(fetch)
            return
        fetch.data.update(payload=payload, resolved_id=payload["id"])
        if (payload["id"], payload["sha"]) not in self.stored:
            siblings = [s.get("rfilename") for s in payload.get("siblings") or [] if isinstance(s, dict)]
            paths = [p for p in siblings if isinstance(p, str)]
            wanted = (["README.md"] if "README.md" in paths else []) + hub.licence_like_paths(paths, payload.get("cardData"))
            for path in dict.fromkeys(wanted):
                url = hub.file_url(self.spider.endpoint, payload["id"], payload["sha"], path, repo_type="dataset")
                request = self.request(fetch, url, self.parse_file, path)
                request.meta["download_maxsize"] = self.spider.max_document * 4
                yield request
        else:
            fetch.data["unchanged"] = True
        yield from self.settle(fetch)

    def parse_file(self, response):
        fetch: TargetFetch = response.meta["target_fetch"]
        path = response.meta["path"]
        if response.status == 200 and hub.html_in_place_of_file(response_headers(response)):
            self.record_failure(fetch, response, path)
            fetch.failures[-1].update(reason="unexpected_html", transient=True, message=hub.HTML_IN_PLACE)
        elif response.status == 200:
            self.store_document(fetch, response, path, fetch.data["payload"]["sha"])
        else:
            self.record_failure(fetch, response, path)
        yield from self.settle(fetch)

    def finish(self, fetch: TargetFetch):
        payload = fetch.data["payload"]
        readme = next((d for d in fetch.documents if d["path"] == "README.md"), None)
        status = hub.card_status(readme["text"])[0] if readme else "no_readme"
        row = dataset_row(payload, status, fetch.documents, not fetch.transient_failures)
        yield {"kind": "dataset", "row": row, "documents": fetch.documents}
        yield self.resolved_item(fetch)
