-- Foundation: firms, members, sessions, API tokens, engagements, jobs and the mail outbox.
-- Timestamps are unix milliseconds (bigint) so the same code reads them on SQLite and PostgreSQL.
create table firms (
    firm_id integer primary key,
    name text not null,
    created_at bigint not null,
    updated_at bigint not null
);

create table users (
    user_id integer primary key,
    firm_id bigint not null references firms (firm_id),
    email text not null unique,
    display_name text not null,
    password_hash text not null,
    role text not null check (role in ('owner', 'consultant')),
    created_at bigint not null,
    updated_at bigint not null
);
create index users_firm_id on users (firm_id);

create table member_invitations (
    member_invitation_id integer primary key,
    firm_id bigint not null references firms (firm_id),
    email text not null,
    token_hash text not null unique,
    invited_by bigint not null references users (user_id),
    expires_at bigint not null,
    accepted_at bigint,
    created_at bigint not null,
    updated_at bigint not null
);
create index member_invitations_firm_id on member_invitations (firm_id);

create table sessions (
    session_id text primary key,
    data text not null,
    expires_at bigint not null
);
create index sessions_expires_at on sessions (expires_at);

create table api_tokens (
    api_token_id integer primary key,
    firm_id bigint not null references firms (firm_id),
    user_id bigint not null references users (user_id),
    name text not null,
    token_hash text not null unique,
    last_used_at bigint,
    revoked_at bigint,
    created_at bigint not null,
    updated_at bigint not null
);
create index api_tokens_user_id on api_tokens (user_id);

create table engagements (
    engagement_id integer primary key,
    firm_id bigint not null references firms (firm_id),
    client_name text not null,
    system_name text not null,
    description text not null,
    team_size bigint,
    stage text not null,
    start_date text,
    due_date text,
    status text not null,
    created_by bigint not null references users (user_id),
    created_at bigint not null,
    updated_at bigint not null
);
-- The list page filters by firm and walks engagement_id downwards (keyset pagination).
create index engagements_firm_id_engagement_id on engagements (firm_id, engagement_id);

create table founders (
    founder_id integer primary key,
    engagement_id bigint not null references engagements (engagement_id) on delete cascade,
    name text not null,
    email text not null,
    position bigint not null,
    created_at bigint not null,
    updated_at bigint not null
);
create index founders_engagement_id on founders (engagement_id);

create table jobs (
    job_id integer primary key,
    kind text not null,
    payload text not null,
    status text not null check (status in ('queued', 'running', 'done', 'failed', 'dead')),
    attempts bigint not null default 0,
    max_attempts bigint not null,
    run_at bigint not null,
    lease_owner text,
    lease_until bigint,
    last_error text,
    firm_id bigint references firms (firm_id),
    created_at bigint not null,
    updated_at bigint not null
);
-- The worker claims the oldest runnable job: queued/failed ones by run_at, running ones whose lease ran out.
create index jobs_status_run_at on jobs (status, run_at);

create table outbox (
    outbox_id integer primary key,
    firm_id bigint references firms (firm_id),
    to_address text not null,
    subject text not null,
    body_text text not null,
    status text not null check (status in ('queued', 'sent', 'failed')),
    transport text,
    sent_at bigint,
    last_error text,
    created_at bigint not null,
    updated_at bigint not null
);
create index outbox_firm_id on outbox (firm_id, outbox_id);
