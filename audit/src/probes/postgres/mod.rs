//! The PostgreSQL probe: read-only transactions with a statement timeout, catalog checks
//! (pg-index-health, PgHero, pgdoctor thresholds), the statement workload from
//! pg_stat_statements (slow queries, N+1 shapes, EXPLAIN of the slowest) and settings.
//!
//! One connection, dialled to the address the guard checked. Each check runs in its own
//! `BEGIN READ ONLY` transaction with `statement_timeout = 5s` and `lock_timeout = 1s`, rolled
//! back afterwards; a check that fails (no privilege, extension missing, an older server)
//! becomes that check's could-not-run, never a failed run.
mod catalog;
mod explain;
mod session;
mod settings;
mod target;
mod workload;

use serde_json::{json, Value};
use sqlx::postgres::PgConnection;
use sqlx::{Connection, Row};

use super::error::ProbeError;
use super::guard::Guard;
use super::model::{CheckResult, CheckSpec, CheckStatus, ProbeOutput};
use super::progress::Progress;
use session::{Unavailable, MARK};

pub use target::{PostgresTarget, MAX_CONNECT_TIMEOUT_SECS};

/// pgdoctor: statistics younger than this make the runtime checks unreliable.
pub const YOUNG_STATISTICS_DAYS: f64 = 7.0;

/// What every check may need to know about the server, read once after connecting.
pub(crate) struct Context {
    /// `server_version_num`, e.g. 150004.
    pub server_version: i32,
    pub database: String,
    /// Days since the statistics began (`stats_reset`, else the server's start).
    pub stats_age_days: f64,
    /// When they began, as the server prints it.
    pub stats_since: String,
    /// Whether `stats_reset` was set; otherwise the age counts from the server's start.
    pub stats_reset_known: bool,
    /// Whether pg_stat_statements can be read, and where.
    pub statements: Statements,
    /// How many statements it holds for this database, when readable.
    pub statement_count: Option<i64>,
    /// How many of them show `<insufficient privilege>` instead of their text.
    pub hidden_statements: Option<i64>,
}

/// The state of pg_stat_statements in the connected database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Statements {
    /// Readable; the schema-qualified view name.
    Ready(String),
    /// Not installed or not loaded: a finding about the client's system.
    Missing(String),
    /// Present but the probe may not read it (privilege, an error): the probe's limit.
    Unreadable(String),
}

impl Statements {
    /// The view, or why the workload checks cannot run.
    pub fn view(&self) -> Result<&str, Unavailable> {
        match self {
            Statements::Ready(view) => Ok(view),
            Statements::Missing(why) | Statements::Unreadable(why) => Err(Unavailable(format!(
                "pg_stat_statements is not available: {why}"
            ))),
        }
    }
}

impl Context {
    pub fn stats_young(&self) -> bool {
        self.stats_age_days < YOUNG_STATISTICS_DAYS
    }
}

/// The checks, in the order they run and are shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Check {
    StatStatements,
    SlowQueries,
    NPlusOne,
    ExplainSlowest,
    UnindexedForeignKeys,
    UnusedIndexes,
    DuplicateIndexes,
    MissingPrimaryKeys,
    SeqScanHeavy,
    SlowQueryLog,
    StatementTimeout,
    ConnectionSaturation,
    Pooling,
    CacheHitRate,
    SequenceExhaustion,
    StatisticsAge,
    MissingTimestamps,
    NotValidConstraints,
    InvalidIndexes,
    Bloat,
    SchemaSmells,
}

impl Check {
    const ALL: [Check; 21] = [
        Check::StatStatements,
        Check::SlowQueries,
        Check::NPlusOne,
        Check::ExplainSlowest,
        Check::UnindexedForeignKeys,
        Check::UnusedIndexes,
        Check::DuplicateIndexes,
        Check::MissingPrimaryKeys,
        Check::SeqScanHeavy,
        Check::SlowQueryLog,
        Check::StatementTimeout,
        Check::ConnectionSaturation,
        Check::Pooling,
        Check::CacheHitRate,
        Check::SequenceExhaustion,
        Check::StatisticsAge,
        Check::MissingTimestamps,
        Check::NotValidConstraints,
        Check::InvalidIndexes,
        Check::Bloat,
        Check::SchemaSmells,
    ];

    fn spec(self) -> &'static CheckSpec {
        match self {
            Check::StatStatements => &workload::STAT_STATEMENTS,
            Check::SlowQueries => &workload::SLOW_QUERIES,
            Check::NPlusOne => &workload::N_PLUS_ONE,
            Check::ExplainSlowest => &explain::EXPLAIN_SLOWEST,
            Check::UnindexedForeignKeys => &catalog::UNINDEXED_FOREIGN_KEYS,
            Check::UnusedIndexes => &catalog::UNUSED_INDEXES,
            Check::DuplicateIndexes => &catalog::DUPLICATE_INDEXES,
            Check::MissingPrimaryKeys => &catalog::MISSING_PRIMARY_KEYS,
            Check::SeqScanHeavy => &catalog::SEQ_SCAN_HEAVY,
            Check::SlowQueryLog => &settings::SLOW_QUERY_LOG,
            Check::StatementTimeout => &settings::STATEMENT_TIMEOUT,
            Check::ConnectionSaturation => &settings::CONNECTION_SATURATION,
            Check::Pooling => &settings::POOLING,
            Check::CacheHitRate => &catalog::CACHE_HIT_RATE,
            Check::SequenceExhaustion => &catalog::SEQUENCE_EXHAUSTION,
            Check::StatisticsAge => &settings::STATISTICS_AGE,
            Check::MissingTimestamps => &catalog::MISSING_TIMESTAMPS,
            Check::NotValidConstraints => &catalog::NOT_VALID_CONSTRAINTS,
            Check::InvalidIndexes => &catalog::INVALID_INDEXES,
            Check::Bloat => &catalog::BLOAT,
            Check::SchemaSmells => &catalog::SCHEMA_SMELLS,
        }
    }

    /// Runtime checks read cumulative statistics; young statistics make them less certain.
    fn is_runtime(self) -> bool {
        matches!(
            self,
            Check::SlowQueries
                | Check::NPlusOne
                | Check::UnusedIndexes
                | Check::SeqScanHeavy
                | Check::Pooling
                | Check::CacheHitRate
                | Check::Bloat
        )
    }

    async fn run(self, conn: &mut PgConnection, ctx: &Context) -> Result<CheckResult, Unavailable> {
        match self {
            Check::StatStatements => workload::stat_statements(ctx),
            Check::SlowQueries => workload::slow_queries(conn, ctx).await,
            Check::NPlusOne => workload::n_plus_one(conn, ctx).await,
            Check::ExplainSlowest => explain::explain_slowest(conn, ctx).await,
            Check::UnindexedForeignKeys => catalog::unindexed_foreign_keys(conn).await,
            Check::UnusedIndexes => catalog::unused_indexes(conn).await,
            Check::DuplicateIndexes => catalog::duplicate_indexes(conn).await,
            Check::MissingPrimaryKeys => catalog::missing_primary_keys(conn).await,
            Check::SeqScanHeavy => catalog::seq_scan_heavy(conn).await,
            Check::SlowQueryLog => settings::slow_query_log(conn).await,
            Check::StatementTimeout => settings::statement_timeout(conn).await,
            Check::ConnectionSaturation => settings::connection_saturation(conn).await,
            Check::Pooling => settings::pooling(conn, ctx).await,
            Check::CacheHitRate => catalog::cache_hit_rate(conn).await,
            Check::SequenceExhaustion => catalog::sequence_exhaustion(conn).await,
            Check::StatisticsAge => Ok(settings::statistics_age(ctx)),
            Check::MissingTimestamps => catalog::missing_timestamps(conn).await,
            Check::NotValidConstraints => catalog::not_valid_constraints(conn).await,
            Check::InvalidIndexes => catalog::invalid_indexes(conn).await,
            Check::Bloat => catalog::bloat(conn).await,
            Check::SchemaSmells => catalog::schema_smells(conn).await,
        }
    }
}

/// The ids of every check this probe yields, in order (the question bank names them).
pub fn check_ids() -> Vec<&'static str> {
    Check::ALL.iter().map(|c| c.spec().id).collect()
}

pub async fn run(
    target: &PostgresTarget,
    guard: &Guard,
    progress: &Progress,
) -> Result<ProbeOutput, ProbeError> {
    progress.set_total(Check::ALL.len() as i64);
    progress.set_label("Connecting");
    let (mut conn, address) = session::connect(target, guard).await?;
    let outcome = run_checks(&mut conn, target, address, progress).await;
    // Close politely: a dropped socket counts as an abandoned session in pg_stat_database,
    // which the pooling check of the next run would hold against the client.
    let _ = conn.close().await;
    outcome
}

async fn run_checks(
    conn: &mut PgConnection,
    target: &PostgresTarget,
    address: std::net::SocketAddr,
    progress: &Progress,
) -> Result<ProbeOutput, ProbeError> {
    let ctx = read_context(conn).await?;
    let mut checks = Vec::with_capacity(Check::ALL.len());
    for check in Check::ALL {
        if progress.is_cancelled() {
            return Err(ProbeError::Cancelled);
        }
        let spec = check.spec();
        progress.set_label(spec.title);
        let result = match session::begin(conn).await {
            Ok(mut tx) => {
                let result = check.run(&mut tx, &ctx).await;
                // Nothing is ever committed; a failed rollback leaves the next check to fail.
                let _ = tx.rollback().await;
                result
            }
            Err(why) => Err(why),
        };
        let mut result = match result {
            Ok(result) => result,
            Err(Unavailable(why)) => CheckResult::could_not_run(spec, why),
        };
        if check.is_runtime() {
            qualify_runtime(&mut result, &ctx);
        }
        checks.push(result);
        progress.step(spec.title);
    }
    let raw = json!({
        "target": target.label(),
        "address": address.to_string(),
        "sslmode": target.sslmode,
        "server_version_num": ctx.server_version,
        "database": ctx.database,
        "stats_since": ctx.stats_since,
        "stats_reset_known": ctx.stats_reset_known,
        "stats_age_days": round2(ctx.stats_age_days),
        "pg_stat_statements": match &ctx.statements {
            Statements::Ready(view) => json!({ "view": view, "statements": ctx.statement_count, "hidden_texts": ctx.hidden_statements }),
            Statements::Missing(why) | Statements::Unreadable(why) => json!({ "unavailable": why }),
        },
    });
    Ok(ProbeOutput { checks, raw })
}

/// Young statistics (pgdoctor: under 7 days) make a runtime check less certain: it says so,
/// records the age, and a failure is lowered to a warning.
fn qualify_runtime(result: &mut CheckResult, ctx: &Context) {
    if result.status == CheckStatus::CouldNotRun {
        return;
    }
    let age = round2(ctx.stats_age_days);
    match &mut result.measured {
        Value::Object(map) => {
            map.insert("stats_age_days".into(), json!(age));
        }
        other => *other = json!({ "stats_age_days": age }),
    }
    if ctx.stats_young() {
        if result.status == CheckStatus::Fail {
            result.status = CheckStatus::Warn;
        }
        result.summary = format!(
            "{}; statistics are {} days old; runtime checks are less certain",
            result.summary,
            days_text(ctx.stats_age_days)
        );
    }
}

/// Days as people read them: two decimals below one, one below ten, whole days above.
pub(crate) fn days_text(days: f64) -> String {
    if days < 1.0 {
        format!("{days:.2}")
    } else if days < 10.0 {
        format!("{days:.1}")
    } else {
        format!("{days:.0}")
    }
}

pub(crate) fn round2(value: f64) -> f64 {
    (value * 100.0).round() / 100.0
}

/// Reads the server version, the statistics' age and whether pg_stat_statements can be read.
async fn read_context(conn: &mut PgConnection) -> Result<Context, ProbeError> {
    let basics = async {
        let mut tx = session::begin(conn).await?;
        let row = sqlx::query(&format!(
            "{MARK} select current_setting('server_version_num')::int4 as version,
                    current_database()::text as database,
                    d.stats_reset is not null as reset_known,
                    coalesce(d.stats_reset, pg_postmaster_start_time())::text as since,
                    (extract(epoch from now() - coalesce(d.stats_reset, pg_postmaster_start_time())) / 86400)::float8 as age_days
             from pg_stat_database d
             where d.datname = current_database()"
        ))
        .fetch_one(&mut *tx)
        .await?;
        let _ = tx.rollback().await;
        Ok::<_, Unavailable>((
            row.try_get::<i32, _>("version")?,
            row.try_get::<String, _>("database")?,
            row.try_get::<bool, _>("reset_known")?,
            row.try_get::<String, _>("since")?,
            row.try_get::<f64, _>("age_days")?,
        ))
    }
    .await;
    let (server_version, database, stats_reset_known, stats_since, stats_age_days) = basics
        .map_err(|Unavailable(why)| {
            ProbeError::Unreachable(format!(
                "connected, but could not read the server's version and statistics: {why}"
            ))
        })?;
    let mut ctx = Context {
        server_version,
        database,
        stats_age_days: stats_age_days.max(0.0),
        stats_since,
        stats_reset_known,
        statements: Statements::Unreadable("not looked at yet".into()),
        statement_count: None,
        hidden_statements: None,
    };
    workload::probe_statements(conn, &mut ctx).await;
    Ok(ctx)
}
