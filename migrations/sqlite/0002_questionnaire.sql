-- The questionnaire: question-bank versions and firm templates, founder invitations, answers with
-- versions, comments, area reviews, evidence files and milestones.

-- A frozen bank: built-in (firm_id null, one row per distinct content) or published by a firm
-- from one of its templates. `content` is the Bank as JSON; rows are never updated.
create table bank_versions (
    bank_version_id integer primary key,
    firm_id bigint references firms (firm_id),
    bank_template_id bigint,
    name text not null,
    version bigint not null,
    content_hash text not null,
    content text not null,
    created_by bigint references users (user_id),
    created_at bigint not null,
    updated_at bigint not null
);
create unique index bank_versions_builtin_hash on bank_versions (content_hash) where firm_id is null;
create index bank_versions_firm_id on bank_versions (firm_id, bank_version_id);
-- Two publishes of one template at once cannot both take the same version number.
create unique index bank_versions_template_version on bank_versions (bank_template_id, version)
    where bank_template_id is not null;

-- A firm's editable copy of a bank; publishing freezes it into a new bank_versions row.
create table bank_templates (
    bank_template_id integer primary key,
    firm_id bigint not null references firms (firm_id),
    name text not null,
    content text not null,
    based_on_version_id bigint references bank_versions (bank_version_id),
    created_by bigint not null references users (user_id),
    created_at bigint not null,
    updated_at bigint not null
);
create index bank_templates_firm_id on bank_templates (firm_id);

-- One per engagement, created when the questionnaire is first opened: it pins the bank version.
create table questionnaires (
    engagement_id bigint primary key references engagements (engagement_id) on delete cascade,
    firm_id bigint not null references firms (firm_id),
    bank_version_id bigint not null references bank_versions (bank_version_id),
    status text not null check (status in ('open', 'submitted')),
    submitted_at bigint,
    submitted_by text,
    created_at bigint not null,
    updated_at bigint not null
);

create table answers (
    answer_id integer primary key,
    engagement_id bigint not null references engagements (engagement_id) on delete cascade,
    question_id text not null,
    choice text check (choice in ('yes', 'partly', 'no', 'dont_know', 'not_applicable')),
    notes text not null,
    links text not null,
    version bigint not null,
    answered_by text not null,
    created_at bigint not null,
    updated_at bigint not null,
    unique (engagement_id, question_id)
);

create table founder_invitations (
    founder_invitation_id integer primary key,
    firm_id bigint not null references firms (firm_id),
    engagement_id bigint not null references engagements (engagement_id) on delete cascade,
    name text not null,
    email text not null,
    token_hash text not null unique,
    expires_at bigint not null,
    used_at bigint,
    revoked_at bigint,
    -- Founder sessions started before this moment are over (set when the invitation is revoked,
    -- kept when a re-send reinstates it).
    sessions_valid_from bigint not null default 0,
    sent_count bigint not null,
    last_sent_at bigint not null,
    last_progress_at bigint,
    reminded_at bigint,
    created_by bigint not null references users (user_id),
    created_at bigint not null,
    updated_at bigint not null
);
create index founder_invitations_engagement_id on founder_invitations (engagement_id);
-- The reminder sweep looks for live invitations by when they last moved.
create index founder_invitations_reminder on founder_invitations (revoked_at, expires_at);

create table answer_comments (
    answer_comment_id integer primary key,
    engagement_id bigint not null references engagements (engagement_id) on delete cascade,
    question_id text not null,
    kind text not null check (kind in ('comment', 'clarification')),
    body text not null,
    author_name text not null,
    author_user_id bigint references users (user_id),
    created_at bigint not null,
    updated_at bigint not null
);
create index answer_comments_engagement_id on answer_comments (engagement_id, question_id);

create table area_reviews (
    engagement_id bigint not null references engagements (engagement_id) on delete cascade,
    area text not null,
    reviewed_by bigint not null references users (user_id),
    created_at bigint not null,
    updated_at bigint not null,
    primary key (engagement_id, area)
);

create table evidence_files (
    evidence_file_id integer primary key,
    engagement_id bigint not null references engagements (engagement_id) on delete cascade,
    question_id text not null,
    file_name text not null,
    content_type text not null,
    size_bytes bigint not null,
    sha256 text not null,
    content blob not null,
    uploaded_by text not null,
    created_at bigint not null,
    updated_at bigint not null
);
create index evidence_files_engagement_id on evidence_files (engagement_id, question_id);

-- A snapshot of answers and scores (JSON) that a later audit compares against.
create table milestones (
    milestone_id integer primary key,
    engagement_id bigint not null references engagements (engagement_id) on delete cascade,
    name text not null,
    snapshot text not null,
    created_by bigint not null references users (user_id),
    created_at bigint not null,
    updated_at bigint not null
);
create index milestones_engagement_id on milestones (engagement_id, milestone_id);
