-- Probes: the targets of an engagement, uploaded files (repository archives, logs), runs with
-- their progress, and the checks each run yielded. Runs are kept so a re-run shows what changed.

-- Ranges the firm owner lets probes reach (comma-separated CIDRs), on top of the operator's
-- PLUMBLINE_PROBE_ALLOW.
alter table firms add column probe_allow text not null default '';

create table probe_targets (
    engagement_id bigint primary key references engagements (engagement_id) on delete cascade,
    http_base_url text not null default '',
    -- JSON array of paths.
    http_endpoints text not null default '[]',
    http_openapi_url text not null default '',
    http_rate bigint not null default 5,
    http_duration_secs bigint not null default 20,
    -- The connection string sealed with the installation's key (nonce and ciphertext, base64);
    -- never sent back to anyone, only replaced.
    postgres_sealed text,
    postgres_label text not null default '',
    repository_url text not null default '',
    version bigint not null,
    updated_at bigint not null
);

create table probe_uploads (
    upload_id integer primary key,
    engagement_id bigint not null references engagements (engagement_id) on delete cascade,
    kind text not null check (kind in ('repository', 'logs')),
    file_name text not null,
    size_bytes bigint not null,
    sha256 text not null,
    content blob not null,
    uploaded_by text not null,
    created_at bigint not null
);
create index probe_uploads_engagement on probe_uploads (engagement_id, kind, upload_id);

create table probe_runs (
    run_id integer primary key,
    engagement_id bigint not null references engagements (engagement_id) on delete cascade,
    firm_id bigint not null references firms (firm_id),
    kind text not null check (kind in ('http', 'postgres', 'repository', 'logs')),
    status text not null check (status in ('queued', 'running', 'done', 'failed', 'cancelled', 'timed_out')),
    -- What was probed, safe to show (never a password).
    target text not null,
    -- What the job needs to run: JSON (upload ids, settings at the time of the start).
    params text not null,
    progress_done bigint not null default 0,
    progress_total bigint not null default 0,
    progress_label text not null default '',
    cancel_requested bigint not null default 0,
    -- The job running it writes this twice a second; a second worker that finds it fresh
    -- leaves the run alone (its job retries later) instead of running it twice.
    heartbeat_at bigint,
    error text,
    -- Everything the probe measured, as JSON, for the record.
    raw text,
    started_by text not null,
    created_at bigint not null,
    started_at bigint,
    finished_at bigint
);
create index probe_runs_engagement on probe_runs (engagement_id, run_id);

create table probe_checks (
    run_id bigint not null references probe_runs (run_id) on delete cascade,
    check_id text not null,
    position bigint not null,
    area text not null,
    title text not null,
    status text not null check (status in ('pass', 'warn', 'fail', 'could_not_run')),
    severity text not null check (severity in ('critical', 'high', 'medium', 'low')),
    threshold text not null,
    source text not null,
    summary text not null,
    measured text not null,
    evidence text not null,
    why text,
    primary key (run_id, check_id)
);
