-- The written report: the firm's branding, the engagement's draft settings (executive summary,
-- roadmap team), and issued versions, which are immutable: their model and rendered files are
-- stored with SHA-256 digests and never updated, except for sharing and rendering progress.

alter table firms add column report_accent text not null default '#1f4e79';
alter table firms add column report_logo blob;
-- 'png', 'jpg' or 'svg'; set together with report_logo.
alter table firms add column report_logo_kind text;

create table report_drafts (
    engagement_id bigint primary key references engagements (engagement_id) on delete cascade,
    -- The consultant's executive summary, Markdown.
    summary text not null default '',
    -- Engineers for the roadmap, and its first day (YYYY-MM-DD; empty: the day it is rendered).
    roadmap_capacity bigint not null default 2,
    roadmap_start text not null default '',
    version bigint not null,
    updated_at bigint not null
);

create table report_versions (
    report_version_id integer primary key,
    engagement_id bigint not null references engagements (engagement_id) on delete cascade,
    -- v1, v2, … within the engagement.
    number bigint not null,
    -- 'rendering' until the job has written every file, then 'issued'; 'failed' keeps the error.
    status text not null check (status in ('rendering', 'issued', 'failed')),
    progress bigint not null default 0,
    progress_label text not null default '',
    error text not null default '',
    -- The report model as JSON, frozen when the consultant pressed Issue.
    model text not null,
    model_sha256 text not null,
    markdown text,
    markdown_sha256 text,
    html text,
    html_sha256 text,
    pdf blob,
    pdf_sha256 text,
    -- The firm's logo as it was when issued, so a later logo change leaves old versions alone.
    logo blob,
    issued_by text not null,
    issued_by_user_id bigint,
    shared_with_founders bigint not null default 0,
    shared_at bigint,
    created_at bigint not null,
    updated_at bigint not null,
    unique (engagement_id, number)
);
create index report_versions_engagement on report_versions (engagement_id, number);

-- An e-mail that carries an issued report as its attachment (the PDF is read when it is sent).
alter table outbox add column report_version_id bigint;
