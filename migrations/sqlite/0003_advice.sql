-- Advice: findings, interventions with their dependencies, architecture decision records and the
-- append-only activity log of an engagement.

create table findings (
    finding_id integer primary key,
    engagement_id bigint not null references engagements (engagement_id) on delete cascade,
    firm_id bigint not null references firms (firm_id),
    -- F-1, F-2, … per engagement, in the order they were made.
    number bigint not null,
    area text not null check (area in ('observability', 'database', 'caching-queues', 'deployment-infrastructure', 'people')),
    severity text not null check (severity in ('critical', 'high', 'medium', 'low')),
    title text not null,
    description text not null,
    confidence text not null check (confidence in ('low', 'medium', 'high')),
    status text not null check (status in ('open', 'accepted_risk', 'resolved')),
    -- Who made it: a consultant by hand, the automatic step from answers, or (later) a probe.
    origin text not null check (origin in ('manual', 'answers', 'probe')),
    -- What made a generated finding (`answer:<question id>`): re-running the step finds it again.
    origin_key text,
    -- Evidence links as JSON: [{"kind": "answer", "target": "database.n-plus-one", "label": "…"}].
    evidence text not null,
    -- Fields a consultant changed by hand, comma-separated: the automatic step leaves them alone.
    edited_fields text not null default '',
    -- While a waiver (an accepted decision record with an expiry) holds: its end, in ms.
    accepted_until bigint,
    waiver_decision_id bigint,
    version bigint not null,
    created_at bigint not null,
    updated_at bigint not null,
    unique (engagement_id, number)
);
create unique index findings_origin_key on findings (engagement_id, origin_key) where origin_key is not null;
-- The waiver job looks only at findings whose accepted risk may have run out.
create index findings_accepted_until on findings (accepted_until) where status = 'accepted_risk';

create table interventions (
    intervention_id integer primary key,
    engagement_id bigint not null references engagements (engagement_id) on delete cascade,
    firm_id bigint not null references firms (firm_id),
    number bigint not null,
    -- The question bank's intervention id when it was suggested from findings.
    template_id text,
    title text not null,
    rationale text not null,
    impact bigint not null check (impact between 1 and 5),
    expected_effect text not null,
    effort_weeks real not null check (effort_weeks > 0),
    confidence text not null check (confidence in ('low', 'medium', 'high')),
    -- A consultant's hand-pinned position (1-based); null when the computed order stands.
    pinned_position bigint,
    version bigint not null,
    created_at bigint not null,
    updated_at bigint not null,
    unique (engagement_id, number)
);
create unique index interventions_template_id on interventions (engagement_id, template_id) where template_id is not null;

create table intervention_findings (
    intervention_id bigint not null references interventions (intervention_id) on delete cascade,
    finding_id bigint not null references findings (finding_id) on delete cascade,
    primary key (intervention_id, finding_id)
);
create index intervention_findings_finding_id on intervention_findings (finding_id);

create table intervention_dependencies (
    intervention_id bigint not null references interventions (intervention_id) on delete cascade,
    depends_on_id bigint not null references interventions (intervention_id) on delete cascade,
    primary key (intervention_id, depends_on_id),
    check (intervention_id <> depends_on_id)
);
create index intervention_dependencies_depends_on_id on intervention_dependencies (depends_on_id);

create table decisions (
    decision_id integer primary key,
    engagement_id bigint not null references engagements (engagement_id) on delete cascade,
    firm_id bigint not null references firms (firm_id),
    -- ADR-0001, ADR-0002, … per engagement.
    number bigint not null,
    title text not null,
    status text not null check (status in ('proposed', 'accepted', 'rejected', 'deprecated', 'superseded')),
    context text not null,
    options text not null,
    decision text not null,
    consequences text not null,
    -- YYYY-MM-DD, as people write them in ADR files.
    decided_on text,
    deciders text not null,
    supersedes_id bigint references decisions (decision_id) on delete set null,
    superseded_by_id bigint references decisions (decision_id) on delete set null,
    -- A waiver's end (YYYY-MM-DD): its linked findings are accepted risks until then.
    expires_on text,
    version bigint not null,
    created_by bigint references users (user_id),
    created_at bigint not null,
    updated_at bigint not null,
    unique (engagement_id, number)
);

create table decision_findings (
    decision_id bigint not null references decisions (decision_id) on delete cascade,
    finding_id bigint not null references findings (finding_id) on delete cascade,
    primary key (decision_id, finding_id)
);
create index decision_findings_finding_id on decision_findings (finding_id);

create table decision_interventions (
    decision_id bigint not null references decisions (decision_id) on delete cascade,
    intervention_id bigint not null references interventions (intervention_id) on delete cascade,
    primary key (decision_id, intervention_id)
);
create index decision_interventions_intervention_id on decision_interventions (intervention_id);

-- Every change to answers, findings, interventions and decision records: who, what, when, before
-- and after (JSON). Rows are only ever inserted; the triggers below refuse anything else.
create table activity (
    activity_id integer primary key,
    engagement_id bigint not null references engagements (engagement_id),
    firm_id bigint not null references firms (firm_id),
    actor text not null,
    actor_user_id bigint,
    subject text not null check (subject in ('answer', 'finding', 'intervention', 'decision')),
    subject_ref text not null,
    action text not null,
    summary text not null,
    before text,
    after text,
    created_at bigint not null
);
create index activity_engagement_id on activity (engagement_id, activity_id);

create trigger activity_no_update before update on activity
begin
    select raise(abort, 'the activity log is append-only');
end;
create trigger activity_no_delete before delete on activity
begin
    select raise(abort, 'the activity log is append-only');
end;
