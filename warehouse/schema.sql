-- The warehouse's tables are a public interface: rename nothing without a migration.
-- Every row carries the run_id of the crawl that wrote it.

CREATE TABLE IF NOT EXISTS schema_info (
    version     INTEGER NOT NULL,
    applied_at  TIMESTAMP NOT NULL
);

-- One row per crawl. status: running, complete, failed, interrupted.
CREATE TABLE IF NOT EXISTS crawl_runs (
    run_id            VARCHAR PRIMARY KEY,
    started_at        TIMESTAMP NOT NULL,
    finished_at       TIMESTAMP,
    status            VARCHAR NOT NULL,
    endpoint          VARCHAR,
    selection         JSON,
    models_seen       INTEGER,
    models_new        INTEGER,
    models_changed    INTEGER,
    models_unchanged  INTEGER,
    files_fetched     INTEGER,
    failures          INTEGER,
    requests_api      INTEGER,
    requests_resolvers INTEGER,
    seconds           DOUBLE,
    stats             JSON,
    message           VARCHAR
);

-- One row per model and commit. complete is false while a transient failure (5xx, timeout,
-- 429) left a document unfetched: the next crawl fetches that commit again.
CREATE TABLE IF NOT EXISTS models (
    model_id       VARCHAR NOT NULL,
    sha            VARCHAR NOT NULL,
    author         VARCHAR,
    created_at     TIMESTAMP,
    last_modified  TIMESTAMP,
    gated          VARCHAR,          -- none, auto, manual
    private        BOOLEAN,
    disabled       BOOLEAN,
    downloads      BIGINT,
    likes          BIGINT,
    tags           VARCHAR[],
    pipeline_tag   VARCHAR,
    library_name   VARCHAR,
    license        VARCHAR,          -- the card's licence tag, as written
    card_data      JSON,             -- README front matter as the Hub parsed it
    card_status    VARCHAR,          -- ok, no_readme, no_metadata, invalid_metadata, unreadable
    card_error     VARCHAR,
    config         JSON,
    safetensors    JSON,
    info           JSON,             -- the listing's payload, whole
    complete       BOOLEAN NOT NULL,
    run_id         VARCHAR NOT NULL,
    PRIMARY KEY (model_id, sha)
);
-- Weight files whose size and sha256 the crawl left for later, read from a later crawl's spare
-- capacity, by `audit` and `export --spdx`, or by `crawl --sizes-now` (NULL: stored before schema 13).
ALTER TABLE models ADD COLUMN IF NOT EXISTS sizes_pending INTEGER;

CREATE TABLE IF NOT EXISTS repo_files (
    model_id     VARCHAR NOT NULL,
    sha          VARCHAR NOT NULL,
    path         VARCHAR NOT NULL,
    size         BIGINT,             -- NULL when the crawl ran without file sizes
    lfs_sha256   VARCHAR,
    blob_id      VARCHAR,
    run_id       VARCHAR NOT NULL,
    PRIMARY KEY (model_id, sha, path)
);

-- One row per fetched text of a commit (README.md, licence-like files, license_link targets).
CREATE TABLE IF NOT EXISTS documents (
    model_id     VARCHAR NOT NULL,
    sha          VARCHAR NOT NULL,
    path         VARCHAR NOT NULL,
    url          VARCHAR NOT NULL,
    http_status  INTEGER NOT NULL,
    sha256       VARCHAR NOT NULL,   -- of the bytes as served
    size_bytes   BIGINT NOT NULL,
    encoding     VARCHAR,            -- how the bytes were decoded; NULL for binary
    truncated    BOOLEAN NOT NULL,   -- text cut at the crawl's document size cap
    text         VARCHAR,
    fetched_at   TIMESTAMP NOT NULL,
    run_id       VARCHAR NOT NULL,
    PRIMARY KEY (model_id, sha, path)
);

CREATE TABLE IF NOT EXISTS fetch_failures (
    run_id       VARCHAR NOT NULL,
    model_id     VARCHAR,
    sha          VARCHAR,
    url          VARCHAR NOT NULL,
    path         VARCHAR,
    status       INTEGER,            -- HTTP status; NULL when no answer came
    reason       VARCHAR NOT NULL,   -- not_found, gated, disabled, missing_file, not_in_snapshot, ...
    transient    BOOLEAN NOT NULL,   -- worth retrying in a later crawl
    error_code   VARCHAR,            -- the Hub's X-Error-Code
    message      VARCHAR,
    failed_at    TIMESTAMP NOT NULL
);

-- Volatile counters, one row per model and run, so trends can be queried.
CREATE TABLE IF NOT EXISTS model_stats (
    run_id       VARCHAR NOT NULL,
    model_id     VARCHAR NOT NULL,
    sha          VARCHAR,
    downloads    BIGINT,
    likes        BIGINT,
    observed_at  TIMESTAMP NOT NULL,
    PRIMARY KEY (run_id, model_id)
);

-- What the listing said of a model's access in each run (schema 6): gating and visibility change
-- without a commit, so they are kept per run beside the counters.
ALTER TABLE model_stats ADD COLUMN IF NOT EXISTS gated VARCHAR;
-- 0: the crawl's selection listed the model; n: a link n deep reached it (schema 7). Only depth 0
-- says what a run's selection held; NULL (older rows) counts as 0.
ALTER TABLE model_stats ADD COLUMN IF NOT EXISTS depth INTEGER;

-- Models the previous crawl of the same selection listed and this one did not, each asked for by id
-- to tell why (schema 7). outcome: gone (404/401: deleted, or private, the Hub answers both alike to
-- a visitor), renamed (now_id says to what), private (visible to the token only), disabled,
-- unlisted (exists and is public but the selection no longer lists it), unknown (no answer; asked
-- again next crawl).
-- Runs compacted by retention (schema 7): their rows left the warehouse after being archived as a
-- snapshot folder (archive) whose manifest was checked against them.
ALTER TABLE crawl_runs ADD COLUMN IF NOT EXISTS compacted_at TIMESTAMP;
ALTER TABLE crawl_runs ADD COLUMN IF NOT EXISTS archive VARCHAR;

CREATE TABLE IF NOT EXISTS vanished_models (
    run_id        VARCHAR NOT NULL,
    model_id      VARCHAR NOT NULL,
    last_seen_run VARCHAR,
    last_sha      VARCHAR,
    outcome       VARCHAR NOT NULL,
    now_id        VARCHAR,
    http_status   INTEGER,
    message       VARCHAR,
    observed_at   TIMESTAMP NOT NULL,
    PRIMARY KEY (run_id, model_id)
);

-- The newest known commit of each model (ties broken by the commit id: one answer every time).
CREATE OR REPLACE VIEW latest_models AS
SELECT * FROM models
QUALIFY row_number() OVER (PARTITION BY model_id ORDER BY last_modified DESC NULLS LAST, run_id DESC, sha) = 1;

-- Staged batches already loaded, so a batch is never loaded twice (a crawl killed between a
-- load's commit and the removal of its staged files loads nothing again).
CREATE TABLE IF NOT EXISTS loaded_batches (
    batch_id   VARCHAR PRIMARY KEY,
    run_id     VARCHAR NOT NULL,
    row_count  BIGINT NOT NULL,
    loaded_at  TIMESTAMP NOT NULL
);

-- Evidence-backed findings of the extractors (schema version 2). One row per finding of a model
-- commit; `openness extract` replaces a commit's findings with the current rules' output.
CREATE TABLE IF NOT EXISTS findings (
    finding_id         VARCHAR NOT NULL,
    model_id           VARCHAR NOT NULL,
    sha                VARCHAR NOT NULL,
    signal             VARCHAR NOT NULL,   -- weights.formats, licence.declared, ...
    value              JSON,
    confidence         DOUBLE NOT NULL,
    extractor          VARCHAR,
    extractor_version  VARCHAR,
    evidence           JSON NOT NULL,      -- [{url, path, line_start, line_end, snippet, extractor, version}]
    run_id             VARCHAR NOT NULL,
    PRIMARY KEY (model_id, sha, finding_id)
);

-- Following the evidence (schema version 3): what models link to, and what those targets are.

-- One row per link a model commit's findings make: to a Hub dataset, a base model, a code
-- repository or a paper. Replaced with the commit's findings. depth: 1 for links of the models a
-- crawl selected, n+1 for links of a target reached at depth n.
CREATE TABLE IF NOT EXISTS model_links (
    model_id     VARCHAR NOT NULL,
    sha          VARCHAR NOT NULL,
    kind         VARCHAR NOT NULL,   -- dataset, base_model, code, paper
    target       VARCHAR NOT NULL,   -- dataset or model id as written, github.com/owner/repo, arxiv:ID
    url          VARCHAR,            -- where the target is read
    context      VARCHAR,            -- the snippet that makes the link
    path         VARCHAR,
    line_start   INTEGER,
    signal       VARCHAR NOT NULL,   -- the finding the link comes from
    depth        INTEGER NOT NULL,
    run_id       VARCHAR NOT NULL,
    PRIMARY KEY (model_id, sha, kind, target)
);

-- Whose a link is (schema 8). own: released by the model's developers for this model (their
-- organisation, "our code", a repository named after the model, a command that fetches it ...);
-- mention: a comparison, related work, a library used, a pull request (recorded, not followed: it
-- cannot open a component); guess: a repository named after the model family in its author's
-- GitHub organisation, looked up when the card links no code of its own. relevance_why: the words
-- or the rule that decided.
ALTER TABLE model_links ADD COLUMN IF NOT EXISTS relevance VARCHAR;
ALTER TABLE model_links ADD COLUMN IF NOT EXISTS relevance_why VARCHAR;
ALTER TABLE model_links ADD COLUMN IF NOT EXISTS paths VARCHAR[];   -- files of the target the card points at

-- The latest outcome of following each target, shared by every model that links to it.
-- status: resolved, failed (reason says why: not_found, private, gated, unsupported_host,
-- unreachable, ...) or deferred (rate limited: retry_after says when a later crawl may try).
CREATE TABLE IF NOT EXISTS link_targets (
    kind         VARCHAR NOT NULL,
    target       VARCHAR NOT NULL,
    status       VARCHAR NOT NULL,
    reason       VARCHAR,
    transient    BOOLEAN NOT NULL,   -- failed for now (5xx, timeout): a later crawl tries again
    http_status  INTEGER,
    resolved_id  VARCHAR,            -- the canonical id after redirects (the_pile -> EleutherAI/pile)
    message      VARCHAR,
    retry_after  TIMESTAMP,
    depth        INTEGER,
    attempts     INTEGER NOT NULL,
    checked_at   TIMESTAMP NOT NULL,
    run_id       VARCHAR NOT NULL,
    PRIMARY KEY (kind, target)
);

-- Links with their outcome: pending until a crawl has followed the target; a mention is
-- not_followed (unless another model's own link made a crawl follow its target).
CREATE OR REPLACE VIEW links AS
SELECT l.model_id, l.sha, l.kind, l.target, l.url, l.context, l.path, l.line_start, l.signal, l.depth,
       coalesce(l.relevance, 'own') AS relevance, l.relevance_why,
       coalesce(t.status, CASE WHEN l.relevance = 'mention' THEN 'not_followed' ELSE 'pending' END) AS status,
       t.reason, t.http_status, t.resolved_id, t.message, t.retry_after, t.checked_at, l.run_id
FROM model_links l LEFT JOIN link_targets t USING (kind, target);

-- Hub dataset repos that models link to, one row per dataset commit.
CREATE TABLE IF NOT EXISTS datasets (
    dataset_id        VARCHAR NOT NULL,
    sha               VARCHAR NOT NULL,
    author            VARCHAR,
    last_modified     TIMESTAMP,
    gated             VARCHAR,
    private           BOOLEAN,
    disabled          BOOLEAN,
    tags              VARCHAR[],
    license           VARCHAR,          -- the card's licence tag, as written
    licence_ids       VARCHAR[],        -- knowledge-base ids from the tag and the licence files' texts
    licence_findings  JSON,             -- the licence extractor's findings over the dataset, with evidence
    card_data         JSON,
    card_status       VARCHAR,
    info              JSON,
    complete          BOOLEAN NOT NULL,
    run_id            VARCHAR NOT NULL,
    PRIMARY KEY (dataset_id, sha)
);

-- Code repositories (GitHub) that models link to, one row per repo and tree.
CREATE TABLE IF NOT EXISTS code_repos (
    repo              VARCHAR NOT NULL,  -- github.com/owner/repo, lower case
    tree_sha          VARCHAR NOT NULL,
    full_name         VARCHAR,
    html_url          VARCHAR,
    default_branch    VARCHAR,
    pushed_at         TIMESTAMP,
    archived          BOOLEAN,
    fork              BOOLEAN,
    description       VARCHAR,
    topics            VARCHAR[],
    host_licence      VARCHAR,           -- the licence GitHub detected (SPDX id), as GitHub states it
    licence_ids       VARCHAR[],         -- knowledge-base ids of the licence files' texts
    licence_findings  JSON,
    roles             VARCHAR[],         -- pretraining, finetuning, alignment, evaluation, safety_evaluation, inference
    role_evidence     JSON,              -- [{role, path, line_start, snippet, source}]
    file_count        INTEGER,
    tree_truncated    BOOLEAN,
    info              JSON,
    complete          BOOLEAN NOT NULL,
    run_id            VARCHAR NOT NULL,
    PRIMARY KEY (repo, tree_sha)
);

-- What the repo's model documents say of the training data (schema 8): the files models link to
-- inside it and its root model cards, each read like a model card's prose. {path: [findings]};
-- a model counts only the documents it links and the root model cards of repos it owns.
ALTER TABLE code_repos ADD COLUMN IF NOT EXISTS doc_findings JSON;
-- The tree's file paths (schema 10), so `openness extract` can judge roles again; NULL for a tree
-- crawled before they were kept (extract leaves its derived columns as they are and counts it).
ALTER TABLE code_repos ADD COLUMN IF NOT EXISTS paths VARCHAR[];
-- schema 17: the ETag of GitHub's repo answer, sent back as If-None-Match by the next crawl (a 304
-- costs none of GitHub's rate limit)
ALTER TABLE code_repos ADD COLUMN IF NOT EXISTS etag VARCHAR;
-- schema 18: a README read from the Hub's daily card dump (crawl --bootstrap) instead of the repo:
-- the dataset, its commit, the Parquet file and 0-based row, and the dump's date. NULL for a file
-- read from the model's own repo; a later crawl that fetches the file itself replaces the row.
ALTER TABLE documents ADD COLUMN IF NOT EXISTS dump_dataset VARCHAR;
ALTER TABLE documents ADD COLUMN IF NOT EXISTS dump_revision VARCHAR;
ALTER TABLE documents ADD COLUMN IF NOT EXISTS dump_file VARCHAR;
ALTER TABLE documents ADD COLUMN IF NOT EXISTS dump_row BIGINT;
ALTER TABLE documents ADD COLUMN IF NOT EXISTS dump_date TIMESTAMP;
-- schema 19: why a licence-like file the audit reads was not read at this commit: 'pending' (a
-- crawl that read its cards from a dump left it for later capacity; see models.licence_files_pending),
-- or the reason its fetch failed (gated, server_error, ...). NULL: read, not one the audit reads, or
-- stored before schema 19. The licence extractor turns it into a licence.unread finding.
ALTER TABLE repo_files ADD COLUMN IF NOT EXISTS unread VARCHAR;
ALTER TABLE models ADD COLUMN IF NOT EXISTS licence_files_pending INTEGER;

-- Texts read from link targets: dataset cards and licences, code READMEs and licences, paper pages.
CREATE TABLE IF NOT EXISTS linked_documents (
    kind         VARCHAR NOT NULL,
    target       VARCHAR NOT NULL,   -- the resolved id
    ref          VARCHAR NOT NULL,   -- commit or tree sha; '' for web pages
    path         VARCHAR NOT NULL,
    url          VARCHAR NOT NULL,
    sha256       VARCHAR NOT NULL,
    size_bytes   BIGINT NOT NULL,
    encoding     VARCHAR,
    truncated    BOOLEAN NOT NULL,
    text         VARCHAR,
    fetched_at   TIMESTAMP NOT NULL,
    run_id       VARCHAR NOT NULL,
    PRIMARY KEY (kind, target, ref, path)
);

-- Papers that models cite (arXiv), with what their abstract page says when robots.txt allows reading it.
CREATE TABLE IF NOT EXISTS papers (
    paper_id     VARCHAR PRIMARY KEY, -- arxiv:2304.01373
    url          VARCHAR NOT NULL,
    title        VARCHAR,
    abstract     VARCHAR,
    fetched      BOOLEAN NOT NULL,    -- false: recorded only (robots.txt, or fetching papers is off)
    note         VARCHAR,
    run_id       VARCHAR NOT NULL
);

-- What the Hub's paper page says (schema 8): the paper's official code and project page, and
-- whether the page was read (read, not_on_hub, failed).
ALTER TABLE papers ADD COLUMN IF NOT EXISTS github_repo VARCHAR;    -- owner/name on GitHub
ALTER TABLE papers ADD COLUMN IF NOT EXISTS project_page VARCHAR;
ALTER TABLE papers ADD COLUMN IF NOT EXISTS hub_page VARCHAR;

-- Code a model's own paper releases: the paper page's GitHub repository, a link of the model's
-- own one step further (followed like the card's own code links).
CREATE OR REPLACE VIEW paper_code_links AS
SELECT l.model_id, l.sha, 'code' AS kind, 'github.com/' || lower(p.github_repo) AS target,
       'https://github.com/' || p.github_repo AS url, l.target AS paper, l.depth + 1 AS depth
FROM model_links l JOIN papers p ON p.paper_id = l.target
WHERE l.kind = 'paper' AND coalesce(l.relevance, 'own') = 'own' AND p.github_repo IS NOT NULL;

-- The taxonomy's cells (schema version 4): one row per model commit and component, written by
-- `openness classify` with the rules version that made it. level: 1-5, NULL for N/A and Unknown.
CREATE TABLE IF NOT EXISTS classifications (
    model_id        VARCHAR NOT NULL,
    sha             VARCHAR NOT NULL,
    component       VARCHAR NOT NULL,   -- training.code.pretraining, ..., deployment.data.weights
    level           INTEGER,
    label           VARCHAR NOT NULL,   -- C1-C5, D1-D5, N/A, Unknown
    reason          VARCHAR NOT NULL,   -- licence, stated_closed, api_only, inherited, no_stage, no_evidence, ...
    licences        JSON,               -- every licence in play: [{id, points, source}]
    points          INTEGER,            -- the deciding (lowest) rubric points
    confidence      DOUBLE NOT NULL,
    finding_ids     VARCHAR[],
    evidence        JSON,               -- [{url, path, line_start, line_end, snippet, ...}]
    inherited_from  VARCHAR,            -- the base model the cell comes from
    rules_version   INTEGER NOT NULL,
    run_id          VARCHAR NOT NULL
    -- no primary key (schema 12): a model's cells are written with its summary, whose key holds
);

-- What was searched for a cell that nothing released or that could not be told (schema 8):
-- {card, own links and their outcomes, papers read, mentions not counted}.
ALTER TABLE classifications ADD COLUMN IF NOT EXISTS search JSON;

-- Per model commit: how many components are fully open, semi-open, closed, unknown, not
-- applicable; its family; its Model Openness Framework class and OSI Open Source AI verdict, with
-- what is missing for the next class or the verdict.
CREATE TABLE IF NOT EXISTS model_summaries (
    model_id        VARCHAR NOT NULL,
    sha             VARCHAR NOT NULL,
    family          VARCHAR NOT NULL,   -- eleutherai/pythia, meta-llama/llama-2, ...
    fully_open      INTEGER NOT NULL,
    semi_open       INTEGER NOT NULL,
    closed          INTEGER NOT NULL,
    unknown         INTEGER NOT NULL,
    not_applicable  INTEGER NOT NULL,
    mof_class       VARCHAR,            -- III, II, I or NULL (not even Class III)
    mof_missing     VARCHAR[],          -- what the next class still needs
    osaid           VARCHAR NOT NULL,   -- open_source_ai or not_open_source_ai
    osaid_missing   VARCHAR[],
    rules_version   INTEGER NOT NULL,
    run_id          VARCHAR NOT NULL,
    PRIMARY KEY (model_id, sha)
);

-- Columns that came after the table's first form (schema 5): a warehouse that has the table gains them.
ALTER TABLE model_summaries ADD COLUMN IF NOT EXISTS family VARCHAR;
ALTER TABLE model_summaries ADD COLUMN IF NOT EXISTS mof_class VARCHAR;
ALTER TABLE model_summaries ADD COLUMN IF NOT EXISTS mof_missing VARCHAR[];
ALTER TABLE model_summaries ADD COLUMN IF NOT EXISTS osaid VARCHAR;
ALTER TABLE model_summaries ADD COLUMN IF NOT EXISTS osaid_missing VARCHAR[];
-- schema 8: the closed components in their two kinds: not found (released nowhere the audit
-- searched) and stated closed (the card says so; inherited cells count by their own reason)
ALTER TABLE model_summaries ADD COLUMN IF NOT EXISTS closed_not_found INTEGER;
ALTER TABLE model_summaries ADD COLUMN IF NOT EXISTS closed_stated INTEGER;
-- schema 11: what the cells were made from, so a later `openness classify` redoes only what changed
-- (classification/changes.py): the classifier's version (rules, knowledge, code), fingerprints of
-- the commit's own inputs and of what its links led to, of the cells themselves, and why it was
-- classified this time.
ALTER TABLE model_summaries ADD COLUMN IF NOT EXISTS classifier_version VARCHAR;
ALTER TABLE model_summaries ADD COLUMN IF NOT EXISTS inputs_fp UBIGINT;
ALTER TABLE model_summaries ADD COLUMN IF NOT EXISTS links_fp UBIGINT;
ALTER TABLE model_summaries ADD COLUMN IF NOT EXISTS cells_fp VARCHAR;
ALTER TABLE model_summaries ADD COLUMN IF NOT EXISTS redone_because VARCHAR;

-- Each `openness classify` run (schema 14): started, then finished (complete), or found never
-- finished by a later run (interrupted). A run stopped part way may have written a base model's
-- new cells and not yet its derivatives': the next run redoes what is built on what it wrote.
CREATE TABLE IF NOT EXISTS classify_runs (
    run_id       VARCHAR PRIMARY KEY,
    started_at   TIMESTAMP NOT NULL,
    finished_at  TIMESTAMP,
    status       VARCHAR NOT NULL    -- running, complete, interrupted
);

-- A family's row: per component, how many of its latest models are classified and the most and
-- least open level among them (the family releases a component openly if one member does).
CREATE OR REPLACE VIEW family_components AS
SELECT s.family, c.component, count(*) AS models,
       max(c.level) AS most_open_level, min(c.level) AS least_open_level,
       arg_max(c.label, coalesce(c.level, 0)) AS most_open_label,
       count(*) FILTER (WHERE c.label = 'Unknown') AS unknown, count(*) FILTER (WHERE c.label = 'N/A') AS not_applicable
FROM classifications c JOIN model_summaries s USING (model_id, sha)
WHERE (c.model_id, c.sha) IN (SELECT model_id, sha FROM latest_models)
GROUP BY s.family, c.component;

-- The licence knowledge base the verdicts read (schema 16), one row per licence id that the cells'
-- `licences` name: its rubric answers and points (with why), and facts from outside the audit with
-- their source: OSI approval and FSF's free-licence list as the SPDX License List marks them (NULL:
-- no fact recorded) and its category. Written by every `openness classify`, so that a question such
-- as "weights under an OSI-approved licence" is one join.
CREATE TABLE IF NOT EXISTS licences (
    licence_id                VARCHAR PRIMARY KEY,
    name                      VARCHAR NOT NULL,
    spdx_id                   VARCHAR NOT NULL,  -- an SPDX id, or LicenseRef-...
    kind                      VARCHAR NOT NULL,  -- code, data, content, model, ...: what it is written for
    is_family                 BOOLEAN NOT NULL,  -- a family of licences (cc-by, gpl) rather than one text
    points                    INTEGER NOT NULL,  -- the 5-point rubric: one per freedom granted
    research                  BOOLEAN NOT NULL,
    commercial                BOOLEAN NOT NULL,
    modify                    BOOLEAN NOT NULL,
    copyright_derivative      BOOLEAN NOT NULL,
    other_license_derivative  BOOLEAN NOT NULL,
    justification             JSON NOT NULL,     -- {criterion: why}
    osi_approved              BOOLEAN,
    fsf_libre                 BOOLEAN,
    category                  VARCHAR,           -- Permissive, Copyleft, Source-available, ...
    facts_source              VARCHAR NOT NULL,
    url                       VARCHAR
);

-- The current state (schema 15). The tables above keep every commit a crawl stored: a model whose
-- licence changed has cells under its old commit and its new one, and counting `classifications`
-- counts both. These views keep what latest_models keeps, the newest commit of each model, and for
-- followed datasets and code repos the row classification reads (a complete fetch first, then the
-- newest); count and join with them unless the history is the point.
CREATE OR REPLACE VIEW latest_classifications AS
SELECT * FROM classifications WHERE (model_id, sha) IN (SELECT model_id, sha FROM latest_models);

CREATE OR REPLACE VIEW latest_summaries AS
SELECT * FROM model_summaries WHERE (model_id, sha) IN (SELECT model_id, sha FROM latest_models);

CREATE OR REPLACE VIEW latest_findings AS
SELECT * FROM findings WHERE (model_id, sha) IN (SELECT model_id, sha FROM latest_models);

CREATE OR REPLACE VIEW latest_links AS
SELECT * FROM links WHERE (model_id, sha) IN (SELECT model_id, sha FROM latest_models);

CREATE OR REPLACE VIEW latest_repo_files AS
SELECT * FROM repo_files WHERE (model_id, sha) IN (SELECT model_id, sha FROM latest_models);

CREATE OR REPLACE VIEW latest_documents AS
SELECT * FROM documents WHERE (model_id, sha) IN (SELECT model_id, sha FROM latest_models);

CREATE OR REPLACE VIEW latest_datasets AS
SELECT * FROM datasets
QUALIFY row_number() OVER (PARTITION BY dataset_id ORDER BY complete DESC, last_modified DESC NULLS LAST, sha) = 1;

CREATE OR REPLACE VIEW latest_code_repos AS
SELECT * FROM code_repos
QUALIFY row_number() OVER (PARTITION BY repo ORDER BY complete DESC, pushed_at DESC NULLS LAST, tree_sha) = 1;

-- The licences each current cell read, a row each (with its points, where it was read, and whether
-- it decided the cell's level: the lowest points in play), to join with `licences`. "Weights whose
-- deciding licence is OSI-approved" is
-- SELECT model_id FROM latest_cell_licences JOIN licences USING (licence_id)
-- WHERE component = 'deployment.data.weights' AND deciding AND osi_approved
CREATE OR REPLACE VIEW latest_cell_licences AS
SELECT c.model_id, c.sha, c.component, c.label, json_extract_string(u.entry, '$.id') AS licence_id,
       CAST(json_extract(u.entry, '$.points') AS INTEGER) AS points,
       CAST(json_extract(u.entry, '$.points') AS INTEGER) IS NOT DISTINCT FROM c.points AS deciding,
       json_extract_string(u.entry, '$.source') AS source
FROM latest_classifications c, unnest(from_json(coalesce(c.licences, '[]'), '["json"]')) AS u(entry);
