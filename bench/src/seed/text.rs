//! The words the seeded firm is made of: clients, founders, findings, decisions. Everything is
//! picked by index through `pick`, so the same scale always writes the same text.
use audit::questionnaire::Area;

/// A 64-bit mix of the numbers that identify one choice (splitmix64's finaliser): the same
/// inputs always give the same value, and neighbouring inputs give unrelated ones.
pub fn mix(parts: &[u64]) -> u64 {
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    for &p in parts {
        x ^= p.wrapping_add(0x9e37_79b9_7f4a_7c15).wrapping_add(x << 6);
        x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        x ^= x >> 31;
    }
    x
}

/// One of `items`, chosen by `key`.
pub fn pick<'a>(items: &[&'a str], key: u64) -> &'a str {
    items[(key % items.len() as u64) as usize]
}

/// `count` different items of `items` (fewer if there are fewer), in a key-dependent order.
pub fn pick_distinct<'a>(items: &[&'a str], key: u64, count: usize) -> Vec<&'a str> {
    distinct_indices(items.len(), key, count)
        .into_iter()
        .map(|i| items[i])
        .collect()
}

/// `count` different indices below `n` (fewer if `n` is smaller), in a key-dependent order.
pub fn distinct_indices(n: usize, key: u64, count: usize) -> Vec<usize> {
    if n == 0 {
        return Vec::new();
    }
    let start = (key % n as u64) as usize;
    // A step coprime with n walks every index once before repeating.
    let mut step = 1 + (mix(&[key, 7]) % n as u64) as usize;
    while gcd(step, n) != 1 {
        step += 1;
    }
    (0..count.min(n)).map(|i| (start + i * step) % n).collect()
}

fn gcd(a: usize, b: usize) -> usize {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}

pub const CLIENT_PREFIXES: [&str; 20] = [
    "Acme",
    "Northwind",
    "Bluefin",
    "Kestrel",
    "Lumen",
    "Orbital",
    "Quarry",
    "Tidewater",
    "Fernhill",
    "Copperleaf",
    "Halcyon",
    "Juniper",
    "Marlow",
    "Nimbus",
    "Parcel",
    "Redwood",
    "Saltmarsh",
    "Verity",
    "Wayfarer",
    "Zephyr",
];

pub const CLIENT_SUFFIXES: [&str; 10] = [
    "Health",
    "Logistics",
    "Pay",
    "Labs",
    "Robotics",
    "Foods",
    "Energy",
    "Learning",
    "Travel",
    "Insurance",
];

pub const SYSTEMS: [&str; 12] = [
    "Billing API",
    "Patient portal",
    "Dispatch service",
    "Checkout",
    "Ledger",
    "Search backend",
    "Mobile API",
    "Data pipeline",
    "Partner integrations",
    "Scheduling service",
    "Notifications platform",
    "Admin console backend",
];

pub const SYSTEM_SENTENCES: [&str; 10] = [
    "A Rails monolith on Heroku with a PostgreSQL primary and a Sidekiq worker fleet.",
    "A Django application behind a load balancer, with Celery workers and Redis as broker and cache.",
    "A set of Node.js services on Kubernetes sharing one PostgreSQL cluster.",
    "A Go API on ECS with Aurora PostgreSQL and an SQS queue for background work.",
    "A Laravel application on two virtual machines, deployed by hand over SSH.",
    "A Spring Boot service with a read replica, deployed through GitHub Actions to EKS.",
    "An Elixir/Phoenix API with Oban jobs and a single managed PostgreSQL instance.",
    "A FastAPI service on Cloud Run backed by Cloud SQL and Pub/Sub.",
    "A .NET API on Azure App Service with SQL-heavy reporting endpoints.",
    "A Next.js front end over a NestJS API and a PostgreSQL database that has grown for five years.",
];

pub const ENGAGEMENT_GOALS: [&str; 8] = [
    "The founders want to know whether the system will carry the next order of magnitude of traffic.",
    "An investor asked for an independent view of the backend before the next round.",
    "Latency complaints from the largest customers started after the last feature push.",
    "The team doubled this year and releases have become slower and riskier.",
    "Two outages in one quarter made the board ask what else could break.",
    "The CTO is leaving and the company wants the architecture written down before the handover.",
    "A planned enterprise deal requires answers about reliability and data protection.",
    "The database bill tripled in six months without a matching rise in customers.",
];

pub const FIRST_NAMES: [&str; 32] = [
    "Ada", "Bruno", "Chiara", "Dev", "Elena", "Farid", "Greta", "Hugo", "Ines", "Jonas", "Keiko",
    "Lars", "Maya", "Nikolai", "Olu", "Priya", "Quentin", "Rosa", "Sami", "Tara", "Umar", "Vera",
    "Wen", "Ximena", "Yusuf", "Zofia", "Amara", "Björn", "Camille", "Diego", "Esther", "Felix",
];

pub const LAST_NAMES: [&str; 32] = [
    "Lovelace",
    "Almeida",
    "Bianchi",
    "Raman",
    "Petrova",
    "Haddad",
    "Lindqvist",
    "Moreau",
    "Castro",
    "Becker",
    "Tanaka",
    "Nilsen",
    "Okafor",
    "Volkov",
    "Adeyemi",
    "Sharma",
    "Dubois",
    "Navarro",
    "Khalil",
    "Singh",
    "Farouk",
    "Novak",
    "Zhang",
    "Reyes",
    "Demir",
    "Kowalska",
    "Mensah",
    "Holm",
    "Laurent",
    "Ortega",
    "Cohen",
    "Wagner",
];

pub const FOUNDER_ROLES: [&str; 5] = [
    "CTO",
    "CEO",
    "Head of Engineering",
    "VP Engineering",
    "Lead engineer",
];

/// Finding titles: twelve per area, in the order of `Area::ALL`.
pub fn finding_titles(area: Area) -> [&'static str; 12] {
    match area {
        Area::Observability => [
            "No per-endpoint latency percentiles",
            "Slow query log is switched off",
            "Errors are only visible as exception e-mails",
            "Debugging a slow endpoint requires SSH access",
            "Logs are unstructured and spread over hosts",
            "No request tracing across services",
            "Error responses carry no request id",
            "Alerts fire on causes, not on symptoms users feel",
            "No runbooks behind the alerts that exist",
            "Connection pool saturation is invisible",
            "Background job latency is not measured",
            "Dashboards show averages that hide the tail",
        ],
        Area::Database => [
            "The ten slowest queries have never been explained",
            "N+1 query patterns on the list endpoints",
            "Foreign keys without supporting indexes",
            "Sequential scans dominate the busiest tables",
            "Tables without primary keys",
            "Constraints added as NOT VALID and never validated",
            "Migrations are irreversible and lock large tables",
            "No connection pooling in front of PostgreSQL",
            "No statement timeout: runaway queries hold connections",
            "Backups are taken but have never been restored",
            "An integer sequence is close to exhaustion",
            "Offset pagination on tables with millions of rows",
        ],
        Area::CachingQueues => [
            "Slow work runs inside the request",
            "No dead-letter queue for failed jobs",
            "Jobs are not idempotent and are retried blindly",
            "Cache invalidation is done by hand in controllers",
            "No cache headers on read-heavy endpoints",
            "Responses are not compressed",
            "The queue has no visibility: depth and age are unknown",
            "Redis is both cache and job broker without limits",
            "Thundering herd on cache expiry",
            "Session data stored in the cache without persistence",
            "Scheduled jobs overlap when they run long",
            "Third-party calls have no timeouts or circuit breakers",
        ],
        Area::DeploymentInfrastructure => [
            "Staging differs from production in ways that matter",
            "No tested rollback path",
            "Deploys are manual and depend on one person",
            "Infrastructure is not described as code",
            "No continuous integration gate before merge",
            "Error rate after deploys is not watched",
            "No published API specification",
            "API versioning is implicit",
            "No rate limiting on public endpoints",
            "TLS and security headers are incomplete",
            "Status codes do not follow HTTP semantics",
            "Secrets live in the repository history",
        ],
        Area::People => [
            "No review checklist for risky changes",
            "Architecture decisions are not written down",
            "Onboarding takes weeks and lives in people's heads",
            "Bus factor of one on the billing code",
            "No code owners for critical paths",
            "On-call is informal and unpaid",
            "Incidents end without a written review",
            "Technical debt is tracked nowhere",
            "Estimates are not compared with outcomes",
            "Product pressure skips the testing stage",
            "No engineering ladder or growth conversations",
            "Knowledge of the data model sits with one contractor",
        ],
    }
}

/// What the consultant saw, per area.
pub fn observations(area: Area) -> [&'static str; 8] {
    match area {
        Area::Observability => [
            "The only latency figure the team could show us is the average response time on the hosting provider's overview page, which moved by less than ten per cent during last month's incident.",
            "When we asked which endpoint was slowest last week, the answer came from a customer support ticket rather than from a graph.",
            "Application logs are written as free text to local files on each host and rotated after three days, so nothing older than the weekend can be searched.",
            "Exceptions are reported by e-mail to a shared inbox that receives several hundred messages a day; nobody reads it systematically.",
            "There is no request identifier that connects a log line in the API with the matching database statement or the job it enqueued.",
            "The alerting rules that exist watch CPU and memory on the database host, not the error rate or latency that customers experience.",
            "During our walkthrough the team needed forty minutes and two SSH sessions to find out why the search endpoint had been slow that morning.",
            "The monitoring agent is installed on the web hosts but not on the job workers, so queue backlogs are discovered by customers.",
        ],
        Area::Database => [
            "pg_stat_statements shows that five statements account for more than seventy per cent of total database time, and none of them has been looked at with EXPLAIN ANALYZE.",
            "The orders list endpoint issues one query per line item; a page of fifty orders produced 412 statements in our trace.",
            "Eleven of the forty-three foreign keys have no index that leads with the referencing column, including the ones used by the nightly cleanup job.",
            "The events table grows by about two million rows a week and is read mostly by sequential scans, because its only index is on the primary key.",
            "Two tables that hold audit data have no primary key, which blocks logical replication and makes duplicate rows impossible to remove safely.",
            "Migrations are written by hand, have no down step and were applied during working hours, taking an ACCESS EXCLUSIVE lock on the largest table for minutes.",
            "Each web process opens its own connections; at peak the database reached 94 per cent of max_connections and refused new ones twice last month.",
            "Nightly backups run and succeed, but nobody has restored one, and the restore time for the current 380 GB is unknown.",
        ],
        Area::CachingQueues => [
            "Invoice PDFs are rendered inside the HTTP request, which takes up to nine seconds for large accounts and ties up a web worker the whole time.",
            "Failed jobs are retried twenty-five times with exponential back-off and then silently dropped; there is no place where they can be inspected.",
            "The same Redis instance holds the cache, the job queue and user sessions, with no memory limit and the default eviction policy.",
            "Read-heavy catalogue endpoints send no Cache-Control header, so every mobile client refetches the same data on each screen change.",
            "The queue depth is not graphed; last quarter a stuck worker let 80,000 e-mails pile up for six hours before anyone noticed.",
            "When the product cache expires every hour, hundreds of requests recompute it at once and the p99 latency spikes for a minute.",
            "Calls to the payment provider and the address lookup service have no timeout, so a slow partner makes our API slow too.",
            "Scheduled jobs are started by cron on every host, and the reporting job sometimes runs twice in parallel when it takes longer than an hour.",
        ],
        Area::DeploymentInfrastructure => [
            "Staging runs on a single small instance with a database snapshot from last year, so performance problems only show up in production.",
            "Rolling back means reverting the commit and redeploying, which took 35 minutes in the last incident because the pipeline rebuilds everything.",
            "Deployments are run from the lead engineer's laptop with a shell script; when he is on holiday, nobody deploys.",
            "The cloud resources were created through the console; there is no record of why the database has the settings it has.",
            "The test suite exists but is not required to pass before merging, and about one run in five fails for reasons nobody investigates.",
            "There is no published description of the API; partners integrate by reading the mobile app's network traffic.",
            "Public endpoints accept unlimited requests; a misbehaving partner script once sent 40,000 requests a minute for an hour.",
            "The API returns status 200 with an error message in the body for validation errors and for server failures alike.",
        ],
        Area::People => [
            "Risky changes such as migrations and payment code are reviewed like any other pull request, by whoever is free.",
            "Nobody could tell us why the system uses two different queue libraries; the people who chose them have left.",
            "The newest engineer needed five weeks to ship a first change, most of it spent finding out how to run the system locally.",
            "Only one engineer has ever changed the billing code, and he is also the only one who knows the deployment script.",
            "On-call is whoever notices the problem first; there is no rota, no compensation and no handover.",
            "The last three incidents ended when the system recovered; none of them has a written account of what happened and why.",
            "Technical debt is discussed in retrospectives but never written down, so it competes with features from memory.",
            "Estimates are made in planning but never compared with how long the work actually took.",
        ],
    }
}

/// Why a weakness matters, any area.
pub const IMPACTS: [&str; 12] = [
    "Until this is in place the team cannot tell whether a change made things better or worse, so every optimisation is a guess.",
    "The risk is not a slow day but a long outage: when this fails, it fails at the moment the system is busiest.",
    "Customers feel this first, and they report it later than a graph would have.",
    "It turns a five-minute investigation into an afternoon, and the afternoon is usually during an incident.",
    "Each month this stays as it is, the fix becomes larger, because more code and more data depend on the current shape.",
    "It concentrates knowledge in one or two people, which makes holidays, illness and resignations operational risks.",
    "An investor's technical due diligence will find this, and it is cheaper to fix it before than to explain it during.",
    "The cost is paid in engineering time: we estimate several hours a week spent working around it.",
    "It also hides other problems: while this is unmeasured, nobody can rank what to fix first.",
    "The growth plan in the pitch deck assumes ten times today's traffic; this is one of the first things that would break.",
    "Enterprise customers ask about this in security questionnaires, and today the honest answer would cost the deal.",
    "Fixing it is mostly configuration and habit rather than new code, so the return on a small effort is unusually high.",
];

/// What to do, per area.
pub fn recommendations(area: Area) -> [&'static str; 8] {
    match area {
        Area::Observability => [
            "Record a latency histogram per route and put p50, p95 and p99 on one dashboard next to the request count.",
            "Ship logs as JSON with a request id on every line to one searchable store, and keep them for at least thirty days.",
            "Replace the exception inbox with an error tracker grouped by cause, and review the top ten groups weekly.",
            "Alert on the error rate and the p95 latency of the five most used endpoints, each alert with a one-page runbook.",
            "Add OpenTelemetry tracing to the API and the job workers so a slow request can be followed into the database.",
            "Return a request id in every error response and log it, so support can find the exact failing request.",
            "Install the monitoring agent on the workers too, and graph queue depth and job age next to web latency.",
            "Agree on three service-level indicators with the product team and review them in the weekly meeting.",
        ],
        Area::Database => [
            "Enable pg_stat_statements, take the ten statements with the highest total time and fix their plans one by one.",
            "Add the missing foreign-key indexes concurrently, starting with the tables the cleanup job deletes from.",
            "Replace the per-row queries on list endpoints with eager loading, and add a test that counts statements per request.",
            "Put PgBouncer in transaction mode in front of the database and size the pool from measured concurrency, not from defaults.",
            "Set a statement timeout of a few seconds for web traffic and a longer one for the reporting role.",
            "Write migrations so they can be rolled back, split long locks into small steps and run a linter on them in CI.",
            "Restore last night's backup into a scratch instance every month and write down how long it took.",
            "Move list endpoints to keyset pagination on an indexed column, keeping offset only for small admin screens.",
        ],
        Area::CachingQueues => [
            "Move PDF rendering and e-mail sending to background jobs and let the request return as soon as the work is queued.",
            "Give every queue a dead-letter queue, graph its size, and review the dead letters in the weekly meeting.",
            "Make jobs idempotent with a key stored alongside their effect, so a retry never charges or e-mails twice.",
            "Separate the cache from the job broker, set a memory limit and an eviction policy suited to each.",
            "Send Cache-Control and ETag headers on catalogue endpoints so clients and the CDN can reuse responses.",
            "Refresh hot cache entries ahead of expiry, or add jitter and a lock so only one request recomputes them.",
            "Set timeouts on every outbound call and wrap the payment provider in a circuit breaker with a clear fallback.",
            "Run scheduled jobs through the job system with a uniqueness lock instead of cron on every host.",
        ],
        Area::DeploymentInfrastructure => [
            "Describe the infrastructure in Terraform, starting with the database and its parameters, and review changes like code.",
            "Make the pipeline deploy a previously built image so rolling back is choosing an older tag, and rehearse it monthly.",
            "Require the test suite to pass before merge, quarantine flaky tests and track how many remain.",
            "Give staging a recent, anonymised copy of production data and the same instance classes for the database.",
            "Publish an OpenAPI description generated from the code and lint it in CI.",
            "Add per-client rate limits at the edge and return 429 with a Retry-After header.",
            "Use status codes as HTTP defines them and one error body format with a machine-readable code.",
            "Move secrets to the cloud provider's secret store, rotate the ones found in history and add a scanner to CI.",
        ],
        Area::People => [
            "Write a short checklist for migrations, payment code and authentication changes, and require a second reviewer for them.",
            "Start architecture decision records for every decision that is expensive to reverse, beginning with the ones already made.",
            "Write a one-page onboarding guide that a new engineer follows on the first day, and update it after each new hire.",
            "Pair a second engineer on billing for the next three changes so two people can deploy and debug it.",
            "Set up a paid on-call rota with a handover note, and keep the pager load visible.",
            "Hold a blameless review after every incident that customers noticed, with owners and dates for the actions.",
            "Keep a technical debt register with a rough cost per item and spend a fixed share of each cycle on it.",
            "Compare estimates with outcomes once a month; the point is calibration, not blame.",
        ],
    }
}

/// Evidence bullets for the longer findings.
pub const EVIDENCE_LINES: [&str; 10] = [
    "Interview with the CTO and the two senior engineers (week 1).",
    "Walkthrough of the production dashboards and alert rules.",
    "pg_stat_statements snapshot taken on the third day of the engagement.",
    "Review of the last 200 merged pull requests and their pipelines.",
    "Trace of the orders, search and checkout endpoints under production traffic.",
    "The incident channel history of the last two quarters.",
    "Repository archive at the commit deployed on the first day.",
    "Access logs of one weekday, 14.2 million requests.",
    "The cloud provider's billing export for the last six months.",
    "Onboarding notes written by the two most recent hires.",
];

pub const LINKS: [&str; 6] = [
    "https://www.postgresql.org/docs/current/pgstatstatements.html",
    "https://opentelemetry.io/docs/specs/semconv/http/http-metrics/",
    "https://sre.google/sre-book/monitoring-distributed-systems/",
    "https://www.pgbouncer.org/config.html",
    "https://adr.github.io/madr/",
    "https://developer.mozilla.org/en-US/docs/Web/HTTP/Headers/Cache-Control",
];

pub const EXPECTED_EFFECTS: [&str; 12] = [
    "p95 latency of the list endpoints −40 %",
    "Database CPU at peak −30 %",
    "Time to find the cause of a slow endpoint under 10 minutes",
    "No web request longer than 2 s",
    "Zero silently dropped jobs",
    "Rollback in under 5 minutes",
    "Deploys by any engineer, any day",
    "Error rate visible within one minute",
    "New engineer ships on day 3",
    "Two people can change billing",
    "Connection errors at peak: none",
    "Restore time known and under 2 hours",
];

pub const DECISION_TITLES: [&str; 30] = [
    "Use PostgreSQL as the only primary datastore",
    "Adopt OpenTelemetry for traces and metrics",
    "Put PgBouncer in transaction mode in front of the database",
    "Move PDF rendering to background jobs",
    "Keep the monolith and extract no services this year",
    "Adopt keyset pagination for public list endpoints",
    "Set a 5 second statement timeout for web traffic",
    "Use Terraform for all cloud resources",
    "Deploy immutable images and roll back by tag",
    "Publish an OpenAPI description generated from code",
    "Version the public API in the URL path",
    "Rate limit per API client at the edge",
    "Separate cache and job broker into two Redis instances",
    "Give every queue a dead-letter queue",
    "Make payment jobs idempotent with stored keys",
    "Restore a backup into a scratch instance every month",
    "Require two reviewers for migrations and billing code",
    "Write architecture decision records for irreversible choices",
    "Start a paid on-call rota",
    "Run blameless reviews after customer-facing incidents",
    "Keep a technical debt register with costs",
    "Use feature flags for risky releases",
    "Adopt a single error body format across the API",
    "Store secrets in the cloud secret manager",
    "Accept offset pagination on admin screens",
    "Defer read replicas until the primary is tuned",
    "Log as JSON with request ids everywhere",
    "Alert on symptoms, not on causes",
    "Move cron jobs into the job system",
    "Keep the reporting queries on a separate role with a longer timeout",
];

pub const DECISION_CONTEXTS: [&str; 10] = [
    "The system grew from a prototype, and most of its structure was chosen under time pressure rather than for the load it now carries.",
    "Traffic has tripled in the last twelve months and is expected to grow faster after the next enterprise contracts are signed.",
    "The team is six engineers, two of them hired this year, and nobody works on infrastructure full time.",
    "The audit found that incidents are noticed by customers first and investigated without data.",
    "Several options were discussed in the kick-off workshop; this record writes down which one we take and why.",
    "Cost matters: the infrastructure bill is the second largest line after salaries, and investors watch it.",
    "Whatever we choose has to be operable by the current team without a dedicated platform engineer.",
    "The founders want changes that show results within one quarter, so large rewrites are out of scope.",
    "Two previous attempts at this stalled because nobody owned them once the first version shipped.",
    "Customers on the enterprise plan have asked for written assurances about this in their last two renewals.",
];

pub const DECISION_OPTIONS: [&str; 12] = [
    "Keep the current setup and accept the risk for another year",
    "Adopt the managed offering of the cloud provider",
    "Build a small internal solution tailored to our needs",
    "Use the open-source standard and run it ourselves",
    "Buy a commercial product with support",
    "Postpone until after the next funding round",
    "Do the minimal change now and revisit in six months",
    "Rewrite the affected component from scratch",
    "Split the work across two quarters with a checkpoint",
    "Delegate to an outside contractor for the first version",
    "Adopt the practice for new code only",
    "Apply it everywhere at once in a dedicated sprint",
];

pub const DECISION_CONSEQUENCES: [&str; 10] = [
    "Engineers need a short introduction to the new tooling; we budget two days for it.",
    "The change adds one component to operate, which is acceptable given what it replaces.",
    "Some existing code has to be adapted; we will do it as we touch each part rather than in one go.",
    "We lose a little flexibility, and gain a setup that a new hire can understand in a day.",
    "Monthly costs rise slightly at first and should fall once the old path is removed.",
    "The decision is cheap to reverse for the first three months; after that, data depends on it.",
    "Reviews get slower for the affected areas, which is the point.",
    "Dashboards and runbooks must be updated in the same change, or the decision is not done.",
    "Partners need notice before the change reaches them; we will give them one release cycle.",
    "We will measure the effect with the latency and error dashboards and report it in the next milestone.",
];

/// The executive summary of the large engagement's report (Markdown).
pub fn executive_summary(client: &str, system: &str) -> String {
    format!(
        "{client}'s {system} works today, but it is run without the instruments that would show \
         where it is going to break. Most of the risk we found is **invisible risk**: slow \
         endpoints nobody can name, queries nobody has explained, jobs that fail without anyone \
         seeing it.\n\n\
         The good news is that the fixes are mostly configuration and habit rather than new \
         code. Three changes buy back most of the risk within one quarter:\n\n\
         - per-endpoint latency percentiles and an error-rate dashboard, so every later change \
           can be measured;\n\
         - indexes and query plans for the ten statements that take most of the database's \
           time, together with a connection pooler and statement timeouts;\n\
         - background jobs with dead-letter queues for the slow work that now runs inside \
           requests.\n\n\
         The people layer matters as much as the code: one engineer holds the deployment and \
         the billing code, and decisions are not written down. The roadmap at the end of this \
         report spreads the work over two engineers so that no single person becomes the \
         bottleneck again.\n\n\
         We compared what the founders told us with what the probes observed. Where they \
         disagree, the report says so, and the findings rest on the observation."
    )
}
