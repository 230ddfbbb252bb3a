//! The PostgreSQL probe against a client database under the test's control: a fresh database
//! with planted defects (`fixtures/postgres/schema.sql`) and a workload that leaves an N+1
//! pattern, a slow statement and a sequential-scan-heavy table in the statistics. Every planted
//! defect's check must fail or warn; every other check must pass (the list is exact).
//!
//! The fixture runs only when `TEST_DATABASE_URL` names PostgreSQL (CI's second pass); the
//! database is made on `PROBE_FIXTURE_DATABASE_URL` (default
//! `postgres://postgres@127.0.0.1:5432/postgres`), which needs pg_stat_statements preloaded.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;

use audit::probes::error::ProbeError;
use audit::probes::guard::Guard;
use audit::probes::postgres::{self, PostgresTarget};
use audit::probes::progress::Progress;
use audit::probes::{CheckResult, CheckStatus, ProbeOutput};
use sqlx::postgres::PgConnection;
use sqlx::{Connection, Row};

const DEFAULT_FIXTURE_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";
const SCHEMA: &str = include_str!("fixtures/postgres/schema.sql");
const NOT_LOADED: &str =
    "pg_stat_statements is not usable on the fixture server, so the workload checks could not run";
const PRELOAD: &str = "Preload it: ALTER SYSTEM SET shared_preload_libraries = \
    'pg_stat_statements', then restart the server (.ci/run does this).";

// ---------------------------------------------------------------------------------------------
// Connection strings

#[test]
fn parse_accepts_plain_urls_with_defaults() {
    let t = PostgresTarget::parse("postgres://auditor:Secr3t%21@db.example.com/shop").unwrap();
    assert_eq!(
        (
            t.host.as_str(),
            t.port,
            t.database.as_str(),
            t.user.as_str()
        ),
        ("db.example.com", 5432, "shop", "auditor")
    );
    assert_eq!(t.password.as_deref(), Some("Secr3t!"));
    assert_eq!(t.sslmode, "prefer");
    assert_eq!(t.label(), "db.example.com:5432/shop");

    let t = PostgresTarget::parse(
        "postgresql://auditor@10.0.0.5:6432/app?sslmode=verify-full&application_name=x&connect_timeout=30",
    )
    .unwrap();
    assert_eq!(t.port, 6432);
    assert_eq!(t.sslmode, "verify-full");
    assert_eq!(
        t.connect_timeout_secs,
        Some(postgres::MAX_CONNECT_TIMEOUT_SECS)
    );
}

#[test]
fn parse_refuses_what_could_reach_our_own_server() {
    let refusals: [(&str, &str); 16] = [
        ("mysql://u:p@h/db", "Only postgres:// and postgresql://"),
        ("host=db.example.com user=u", "starts with postgres://"),
        ("postgres://u:p@/db", "Unix sockets are not allowed"),
        (
            "postgres://u:p@%2Fvar%2Frun%2Fpostgresql/db",
            "Unix sockets are not allowed",
        ),
        (
            "postgres://u:p@h/db?host=/var/run/postgresql",
            "The parameter host is not allowed",
        ),
        (
            "postgres://u:p@h/db?hostaddr=10.0.0.1",
            "The parameter hostaddr is not allowed",
        ),
        ("postgres://u:p@h/db?sslkey=/etc/key", "sslkey names a file"),
        (
            "postgres://u:p@h/db?sslcert=/etc/cert",
            "sslcert names a file",
        ),
        (
            "postgres://u:p@h/db?sslrootcert=/etc/ca",
            "sslrootcert names a file",
        ),
        (
            "postgres://u:p@h/db?passfile=/root/.pgpass",
            "passfile names a file",
        ),
        ("postgres://u:p@h/db?service=prod", "service names a file"),
        ("postgres://u:p@h1,h2/db", "one host only"),
        ("postgres://u:p@h1:5432,h2:5433/db", "one host only"),
        (
            "postgres://u:p@h/db?options=-c%20x%3Dy",
            "The parameter options is not allowed",
        ),
        (
            "postgres://u:p@h/db?sslmode=sometimes",
            "sslmode must be one of",
        ),
        ("postgres://u:p@h/", "Give a database name"),
    ];
    for (dsn, expected) in refusals {
        let message = PostgresTarget::parse(dsn).unwrap_err();
        assert!(
            message.contains(expected),
            "{dsn}: expected {expected:?} in {message:?}"
        );
        assert!(
            !message.contains("p@"),
            "{dsn}: the message echoes the input: {message}"
        );
    }
    let message =
        PostgresTarget::parse("postgres://u:p@h/db?sslmode=require&sslmode=disable").unwrap_err();
    assert!(message.contains("given twice"), "{message}");
    let message = PostgresTarget::parse("postgres://:p@h/db").unwrap_err();
    assert!(message.contains("Give a user name"), "{message}");
}

#[test]
fn the_password_never_shows() {
    let password = "hunter2-very-secret";
    let t = PostgresTarget::parse(&format!(
        "postgres://app:{password}@db.example.com:5433/shop"
    ))
    .unwrap();
    assert!(!format!("{t:?}").contains(password));
    assert!(format!("{t:?}").contains("<redacted>"));
    assert!(!t.label().contains(password));
    assert!(!t.label().contains("app"));
    // Refusals say what is wrong without repeating the string.
    let message =
        PostgresTarget::parse(&format!("postgres://app:{password}@db/shop?sslkey=/x")).unwrap_err();
    assert!(!message.contains(password));
}

// ---------------------------------------------------------------------------------------------
// The guard comes first

#[tokio::test]
async fn the_guard_refuses_loopback_that_is_not_allow_listed() {
    // Nothing listens on this port: a refusal proves the guard answered before any connect.
    for dsn in [
        "postgres://postgres@127.0.0.1:1/postgres",
        "postgres://postgres@localhost:1/postgres",
    ] {
        let target = PostgresTarget::parse(dsn).unwrap();
        let outcome = postgres::run(&target, &Guard::new(Vec::new()), &Progress::new()).await;
        match outcome {
            Err(ProbeError::Refused(why)) => assert!(!why.is_empty()),
            other => panic!("{dsn}: expected a refusal, got {other:?}"),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The fixture database

/// `Some(admin URL)` when the fixture should run; says why not otherwise.
fn fixture_url() -> Option<String> {
    let selected = std::env::var("TEST_DATABASE_URL").unwrap_or_default();
    if !selected.starts_with("postgres://") && !selected.starts_with("postgresql://") {
        println!(
            "skipped: the PostgreSQL probe fixture runs only when TEST_DATABASE_URL names PostgreSQL"
        );
        return None;
    }
    Some(
        std::env::var("PROBE_FIXTURE_DATABASE_URL")
            .ok()
            .filter(|u| !u.trim().is_empty())
            .unwrap_or_else(|| DEFAULT_FIXTURE_URL.to_owned()),
    )
}

/// The admin URL with its database replaced.
fn url_for(admin: &str, database: &str) -> String {
    let mut url = url::Url::parse(admin).expect("PROBE_FIXTURE_DATABASE_URL is a URL");
    url.set_path(&format!("/{database}"));
    url.set_query(None);
    url.to_string()
}

async fn admin(admin_url: &str) -> PgConnection {
    PgConnection::connect(admin_url).await.unwrap_or_else(|e| {
        panic!("cannot reach the fixture server at PROBE_FIXTURE_DATABASE_URL: {e}")
    })
}

/// Makes the fixture database, runs `body` on it and drops the database again even when the
/// body panics. The body runs on a runtime of its own in a blocking thread, so its future need
/// not be `Send` (sqlx's `raw_sql`, used for the workload, is not provably so).
async fn with_fixture<F, Fut>(admin_url: &str, body: F)
where
    F: FnOnce(String, String) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()>,
{
    let name = format!(
        "plumbline_probe_fixture_{}_{:08x}",
        std::process::id(),
        rand::random::<u32>()
    );
    let mut conn = admin(admin_url).await;
    sqlx::query(&format!("create database \"{name}\""))
        .execute(&mut conn)
        .await
        .unwrap();
    conn.close().await.unwrap();

    let (url, database) = (url_for(admin_url, &name), name.clone());
    let outcome = tokio::task::spawn_blocking(move || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(body(url, database))
    })
    .await;

    let mut conn = admin(admin_url).await;
    sqlx::query(&format!("drop database if exists \"{name}\" with (force)"))
        .execute(&mut conn)
        .await
        .unwrap();
    conn.close().await.unwrap();
    if let Err(error) = outcome {
        if error.is_panic() {
            std::panic::resume_unwind(error.into_panic());
        }
        panic!("the fixture test did not finish: {error}");
    }
}

/// Schema, settings and a clean pg_stat_statements for the fixture database.
async fn set_up(url: &str, name: &str) {
    let mut conn = PgConnection::connect(url).await.unwrap();
    sqlx::raw_sql(SCHEMA).execute(&mut conn).await.unwrap();
    sqlx::raw_sql(&format!(
        // Planted (pg.slow-query-log): the slow-query log is off. Healthy: a 3 s statement
        // timeout on the database.
        "alter database \"{name}\" set log_min_duration_statement = -1;
         alter database \"{name}\" set statement_timeout = '3s'"
    ))
    .execute(&mut conn)
    .await
    .unwrap();
    // Only this database's statements; when pg_stat_statements is not loaded this fails and
    // the probe says why below.
    let _ = sqlx::raw_sql(
        "select pg_stat_statements_reset(0, (select oid from pg_database where datname = current_database()), 0)",
    )
    .execute(&mut conn)
    .await;
    conn.close().await.unwrap();
}

/// The application's traffic, in under ten seconds.
async fn workload(url: &str) {
    let mut conn = PgConnection::connect(url).await.unwrap();
    // Planted (pg.n-plus-one): 110,000 single-row lookups by key (the write-up's bound is
    // 100,000 calls with a mean under 1 ms). Sent as multi-statement simple queries: each
    // statement is its own pg_stat_statements call, its constant normalised to $1.
    for batch in 0..11 {
        let sql: String = (0..10_000)
            .map(|i| {
                format!(
                    "select id, email, name from customers where id = {};",
                    (batch * 10_000 + i) % 5_000 + 1
                )
            })
            .collect();
        sqlx::raw_sql(&sql).execute(&mut conn).await.unwrap();
    }
    // The list those lookups would come from (healthy: it uses the primary key).
    for _ in 0..20 {
        sqlx::query("select id, customer_id, total_cents from orders order by id desc limit 50")
            .fetch_all(&mut conn)
            .await
            .unwrap();
    }
    // Planted (pg.seq-scan-heavy): 120 sequential scans of the 12,000-row events table.
    let sql: String = (0..120)
        .map(|i| {
            format!(
                "select count(*), max(created_at) from events where kind = 'kind-{}';",
                i % 50
            )
        })
        .collect();
    sqlx::raw_sql(&sql).execute(&mut conn).await.unwrap();
    // Planted (pg.slow-queries): one statement slower than 200 ms.
    sqlx::query("select pg_sleep(0.25)")
        .execute(&mut conn)
        .await
        .unwrap();
    // Make the table statistics visible now (PG 15+: flushed before the next query returns);
    // older servers send them to the collector within half a second.
    if sqlx::query("select pg_stat_force_next_flush()")
        .execute(&mut conn)
        .await
        .is_err()
    {
        tokio::time::sleep(std::time::Duration::from_millis(1_000)).await;
    }
    sqlx::query("select 1").execute(&mut conn).await.unwrap();
    conn.close().await.unwrap();
}

fn by_id(output: &ProbeOutput) -> BTreeMap<&str, &CheckResult> {
    output.checks.iter().map(|c| (c.id.as_str(), c)).collect()
}

fn has_evidence(check: &CheckResult, needle: &str) -> bool {
    check.evidence.iter().any(|line| line.contains(needle))
}

#[tokio::test]
async fn the_probe_finds_every_planted_defect_and_nothing_else() {
    let Some(admin_url) = fixture_url() else {
        return;
    };
    // Young statistics (under 7 days) lower runtime failures to warnings; a fresh database
    // counts its statistics from the server's start.
    let mut conn = admin(&admin_url).await;
    let young: bool = sqlx::query("select now() - pg_postmaster_start_time() < interval '7 days'")
        .fetch_one(&mut conn)
        .await
        .unwrap()
        .get(0);
    conn.close().await.unwrap();

    with_fixture(&admin_url, move |url, name| async move {
        set_up(&url, &name).await;
        let started = std::time::Instant::now();
        workload(&url).await;
        println!("workload took {:?}", started.elapsed());

        let target = PostgresTarget::parse(&format!("{url}?sslmode=disable")).unwrap();
        let guard = Guard::new(vec![
            "127.0.0.0/8".parse().unwrap(),
            "::1/128".parse().unwrap(),
        ]);
        let progress = Progress::new();
        let output = postgres::run(&target, &guard, &progress).await.unwrap();
        let checks = by_id(&output);
        // PLUMBLINE_PRINT_PROBE=1 shows what the probe returned (with --nocapture).
        if std::env::var_os("PLUMBLINE_PRINT_PROBE").is_some() {
            println!("{}", serde_json::to_string_pretty(&output).unwrap());
        }

        // Every check ran once, in the fixed list, with its threshold and source named.
        assert_eq!(
            output
                .checks
                .iter()
                .map(|c| c.id.as_str())
                .collect::<Vec<_>>(),
            postgres::check_ids()
        );
        assert_eq!(progress.snapshot().0, progress.snapshot().1);
        assert_eq!(progress.snapshot().1, output.checks.len() as i64);
        for check in &output.checks {
            assert!(
                !check.threshold.is_empty() && !check.source.is_empty(),
                "{}",
                check.id
            );
            if check.status == CheckStatus::CouldNotRun {
                assert!(
                    check.why.as_deref().is_some_and(|w| !w.is_empty()),
                    "{}",
                    check.id
                );
            }
        }

        let statements = checks["pg.stat-statements"];
        if statements.status != CheckStatus::Pass {
            let why = statements.why.as_deref().unwrap_or(&statements.summary);
            panic!("{NOT_LOADED}: {why}. {PRELOAD}");
        }

        use CheckStatus::{Fail, Pass, Warn};
        let runtime_defect = if young { Warn } else { Fail };
        let expected: [(&str, CheckStatus); 21] = [
            ("pg.stat-statements", Pass),
            ("pg.slow-queries", runtime_defect),
            ("pg.n-plus-one", runtime_defect),
            ("pg.explain-slowest", Warn),
            ("pg.unindexed-foreign-keys", Fail),
            ("pg.unused-indexes", Pass),
            ("pg.duplicate-indexes", Fail),
            ("pg.missing-primary-keys", Fail),
            ("pg.seq-scan-heavy", Warn),
            ("pg.slow-query-log", Fail),
            ("pg.statement-timeout", Pass),
            ("pg.connection-saturation", Pass),
            ("pg.pooling", Pass),
            ("pg.cache-hit-rate", Pass),
            ("pg.sequence-exhaustion", Pass),
            ("pg.statistics-age", if young { Warn } else { Pass }),
            ("pg.missing-timestamps", Pass),
            ("pg.not-valid-constraints", Pass),
            ("pg.invalid-indexes", Pass),
            ("pg.bloat", Pass),
            ("pg.schema-smells", Pass),
        ];
        let mut wrong = Vec::new();
        for (id, status) in expected {
            let check = checks[id];
            if check.status != status {
                wrong.push(format!(
                    "{id}: expected {}, got {} — {} {:?}",
                    status.as_str(),
                    check.status.as_str(),
                    check.summary,
                    check.evidence
                ));
            }
        }
        assert!(wrong.is_empty(), "checks off:\n{}", wrong.join("\n"));

        // The evidence names the planted objects.
        assert!(has_evidence(
            checks["pg.unindexed-foreign-keys"],
            "orders(customer_id) → customers"
        ));
        // Only the planted ones: the indexed foreign key of order_items is not listed.
        assert_eq!(checks["pg.unindexed-foreign-keys"].evidence.len(), 1);
        assert_eq!(checks["pg.duplicate-indexes"].evidence.len(), 1);
        assert_eq!(
            checks["pg.missing-primary-keys"].evidence,
            vec!["audit_log".to_owned()]
        );
        assert!(has_evidence(
            checks["pg.duplicate-indexes"],
            "customers_email"
        ));
        assert!(has_evidence(checks["pg.seq-scan-heavy"], "events"));
        assert!(has_evidence(checks["pg.slow-queries"], "pg_sleep"));
        assert!(has_evidence(checks["pg.n-plus-one"], "customers"));
        assert!(has_evidence(
            checks["pg.explain-slowest"],
            "indexable seq scan: public.events"
        ));
        assert!(has_evidence(
            checks["pg.slow-query-log"],
            "log_min_duration_statement = -1"
        ));
        assert!(has_evidence(
            checks["pg.statement-timeout"],
            "statement_timeout = 3s"
        ));

        // Young statistics are said out loud on the runtime checks.
        if young {
            assert!(checks["pg.slow-queries"]
                .summary
                .contains("runtime checks are less certain"));
            assert!(checks["pg.slow-queries"]
                .measured
                .get("stats_age_days")
                .is_some());
        }
        assert!(output.raw.get("server_version_num").is_some());

        // The probe changed nothing: the fixture's five tables, and no others.
        let mut conn = PgConnection::connect(&url).await.unwrap();
        let tables: i64 = sqlx::query("select count(*) from pg_tables where schemaname = 'public'")
            .fetch_one(&mut conn)
            .await
            .unwrap()
            .get(0);
        assert_eq!(tables, 5);
        // Every statement it sent was a read inside a read-only transaction.
        let sent: Vec<String> = sqlx::query_scalar(
            "select query from pg_stat_statements
             where dbid = (select oid from pg_database where datname = current_database())
               and query like '/* plumbline-probe */%'",
        )
        .fetch_all(&mut conn)
        .await
        .unwrap();
        assert!(sent
            .iter()
            .any(|q| q.starts_with("/* plumbline-probe */ begin transaction read only")));
        let allowed = [
            "begin",
            "set",
            "select",
            "savepoint",
            "rollback",
            "prepare",
            "explain",
            "deallocate",
        ];
        for query in &sent {
            let first = query["/* plumbline-probe */".len()..]
                .split_whitespace()
                .next()
                .unwrap_or_default();
            assert!(allowed.contains(&first), "the probe sent: {query}");
        }
        conn.close().await.unwrap();

        // A cancelled run stops between checks.
        let cancelled = Progress::new();
        cancelled.cancel();
        match postgres::run(&target, &guard, &cancelled).await {
            Err(ProbeError::Cancelled) => {}
            other => panic!("expected a cancelled run, got {other:?}"),
        }
    })
    .await;
}

#[tokio::test]
async fn without_pg_stat_statements_the_workload_checks_say_why() {
    let Some(admin_url) = fixture_url() else {
        return;
    };
    with_fixture(&admin_url, |url, _name| async move {
        // An empty database: the extension was never created in it.
        let target = PostgresTarget::parse(&format!("{url}?sslmode=disable")).unwrap();
        let guard = Guard::new(vec![
            "127.0.0.0/8".parse().unwrap(),
            "::1/128".parse().unwrap(),
        ]);
        let output = postgres::run(&target, &guard, &Progress::new())
            .await
            .unwrap();
        let checks = by_id(&output);

        let statements = checks["pg.stat-statements"];
        assert_eq!(
            statements.status,
            CheckStatus::Fail,
            "{}",
            statements.summary
        );
        assert!(
            statements.summary.contains("not installed in database"),
            "{}",
            statements.summary
        );
        for id in ["pg.slow-queries", "pg.n-plus-one", "pg.explain-slowest"] {
            let check = checks[id];
            assert_eq!(
                check.status,
                CheckStatus::CouldNotRun,
                "{id}: {}",
                check.summary
            );
            let why = check.why.as_deref().unwrap_or_default();
            assert!(
                why.starts_with(
                    "pg_stat_statements is not available: the extension is not installed"
                ),
                "{id}: {why}"
            );
        }
        // Nothing to read yet: too few block reads to judge the cache.
        assert_eq!(checks["pg.cache-hit-rate"].status, CheckStatus::CouldNotRun);
        // The catalog checks pass on an empty schema.
        for id in [
            "pg.unindexed-foreign-keys",
            "pg.duplicate-indexes",
            "pg.missing-primary-keys",
            "pg.missing-timestamps",
            "pg.not-valid-constraints",
            "pg.invalid-indexes",
            "pg.sequence-exhaustion",
            "pg.schema-smells",
            "pg.unused-indexes",
            "pg.seq-scan-heavy",
            "pg.bloat",
        ] {
            assert_eq!(
                checks[id].status.as_str(),
                "pass",
                "{id}: {}",
                checks[id].summary
            );
        }
    })
    .await;
}
