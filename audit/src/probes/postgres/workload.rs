//! The statement workload from pg_stat_statements: is it there, which statements are slow,
//! and which look like N+1 lookups.
use serde_json::{json, Value};
use sqlx::postgres::PgConnection;
use sqlx::Row;

use super::session::{self, quote_ident, Unavailable, MARK};
use super::{round2, Context, Statements};
use crate::findings::Severity;
use crate::probes::model::{CheckArea, CheckResult, CheckSpec, CheckStatus};

pub const STAT_STATEMENTS: CheckSpec = CheckSpec {
    id: "pg.stat-statements",
    area: CheckArea::Observability,
    title: "pg_stat_statements is available",
    severity: Severity::Medium,
    threshold: "installed in the database and loaded through shared_preload_libraries",
    source: "pg-index-health (pg_stat_statements checks); PgHero query stats",
};

/// PgHero's `slow_query_ms` and `slow_query_calls`.
pub const PGHERO_SLOW_MEAN_MS: f64 = 20.0;
pub const PGHERO_SLOW_CALLS: i64 = 100;
/// Ours: a mean above the slow-query-log bound is slow however rarely it runs.
pub const SLOW_MEAN_MS: f64 = 200.0;

pub const SLOW_QUERIES: CheckSpec = CheckSpec {
    id: "pg.slow-queries",
    area: CheckArea::Database,
    title: "Slow queries",
    severity: Severity::High,
    threshold: "a data statement with mean ≥ 20 ms and ≥ 100 calls (PgHero slow_query_ms, slow_query_calls), or mean ≥ 200 ms (ours, the slow-query-log bound)",
    source: "PgHero; ours",
};

/// The public write-up's N+1 bounds, and ours for quieter databases.
pub const N_PLUS_ONE_CALLS: i64 = 100_000;
pub const N_PLUS_ONE_MEAN_MS: f64 = 1.0;
pub const N_PLUS_ONE_SHARE: f64 = 0.05;
pub const N_PLUS_ONE_MIN_CALLS: i64 = 1_000;

pub const N_PLUS_ONE: CheckSpec = CheckSpec {
    id: "pg.n-plus-one",
    area: CheckArea::Database,
    title: "N+1 query patterns",
    severity: Severity::Medium,
    threshold: "a single-table SELECT filtered only by key equality (col = $n) returning 0.5–1.5 rows per call with mean < 1 ms, and either > 100,000 calls (public write-up) or ≥ 1,000 calls taking ≥ 5 % of all execution time (ours)",
    source: "pg_stat_statements N+1 write-up; ours (reference/probes.md §1.2)",
};

/// Finds pg_stat_statements in the connected database and tries to read it.
pub async fn probe_statements(conn: &mut PgConnection, ctx: &mut Context) {
    let found = async {
        let mut tx = session::begin(conn).await?;
        let row = sqlx::query(&format!(
            "{MARK} select n.nspname::text as schema
             from pg_extension e join pg_namespace n on n.oid = e.extnamespace
             where e.extname = 'pg_stat_statements'"
        ))
        .fetch_optional(&mut *tx)
        .await?;
        let _ = tx.rollback().await;
        match row {
            Some(row) => Ok::<_, Unavailable>(Some(row.try_get::<String, _>("schema")?)),
            None => Ok(None),
        }
    }
    .await;
    let schema = match found {
        Ok(Some(schema)) => schema,
        Ok(None) => {
            ctx.statements = Statements::Missing(format!(
                "the extension is not installed in database {} (CREATE EXTENSION pg_stat_statements; the server must also load it through shared_preload_libraries)",
                ctx.database
            ));
            return;
        }
        Err(Unavailable(why)) => {
            ctx.statements = Statements::Unreadable(format!("could not look for it: {why}"));
            return;
        }
    };
    let view = format!("{}.pg_stat_statements", quote_ident(&schema));
    let track = async {
        let mut tx = session::begin(conn).await?;
        let row = sqlx::query(&format!(
            "{MARK} select coalesce(current_setting('pg_stat_statements.track', true), '')::text"
        ))
        .fetch_one(&mut *tx)
        .await?;
        let _ = tx.rollback().await;
        Ok::<_, Unavailable>(row.try_get::<String, _>(0)?)
    }
    .await;
    if matches!(track.as_deref(), Ok("none")) {
        ctx.statements = Statements::Missing(
            "pg_stat_statements.track is none, so no statement is recorded".into(),
        );
        return;
    }
    let counted = async {
        let mut tx = session::begin(conn).await?;
        let row = sqlx::query(&format!(
            "{MARK} select count(*)::int8 as total,
                    count(*) filter (where query = '<insufficient privilege>')::int8 as hidden
             from {view}
             where dbid = (select oid from pg_database where datname = current_database())"
        ))
        .fetch_one(&mut *tx)
        .await?;
        let _ = tx.rollback().await;
        Ok::<_, Unavailable>((
            row.try_get::<i64, _>("total")?,
            row.try_get::<i64, _>("hidden")?,
        ))
    }
    .await;
    match counted {
        Ok((total, hidden)) => {
            ctx.statements = Statements::Ready(view);
            ctx.statement_count = Some(total);
            ctx.hidden_statements = Some(hidden);
        }
        Err(Unavailable(why)) if why.contains("shared_preload_libraries") => {
            ctx.statements = Statements::Missing(format!(
                "the extension is installed but the server does not load it (add pg_stat_statements to shared_preload_libraries and restart): {why}"
            ));
        }
        Err(Unavailable(why)) => {
            ctx.statements = Statements::Unreadable(format!("it cannot be read: {why}"));
        }
    }
}

pub fn stat_statements(ctx: &Context) -> Result<CheckResult, Unavailable> {
    let spec = &STAT_STATEMENTS;
    match &ctx.statements {
        Statements::Ready(view) => {
            let count = ctx.statement_count.unwrap_or(0);
            let hidden = ctx.hidden_statements.unwrap_or(0);
            let mut summary =
                format!("pg_stat_statements records {count} statements for this database");
            let mut evidence = vec![format!("read from {view}")];
            if hidden > 0 {
                summary.push_str(&format!(
                    "; {hidden} show no text to the probe's role (grant pg_read_all_stats)"
                ));
                evidence.push(format!(
                    "{hidden} statements show <insufficient privilege> instead of their text"
                ));
            }
            Ok(CheckResult::pass(spec, summary)
                .with_measured(json!({ "statements": count, "hidden_texts": hidden, "view": view }))
                .with_evidence(evidence))
        }
        Statements::Missing(why) => Ok(spec
            .result(
                CheckStatus::Fail,
                format!("pg_stat_statements is missing: {why}"),
            )
            .with_evidence(vec![why.clone()])),
        Statements::Unreadable(why) => Ok(CheckResult::could_not_run(
            spec,
            format!("pg_stat_statements {why}"),
        )),
    }
}

/// One statement of this database, summed over users.
#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    pub query: String,
    pub calls: i64,
    pub total_ms: f64,
    pub rows: i64,
}

impl Statement {
    pub fn mean_ms(&self) -> f64 {
        if self.calls > 0 {
            self.total_ms / self.calls as f64
        } else {
            0.0
        }
    }

    pub fn hidden(&self) -> bool {
        self.query == "<insufficient privilege>"
    }
}

/// Every statement recorded for the connected database, the probe's own left out.
pub async fn load_statements(
    conn: &mut PgConnection,
    ctx: &Context,
) -> Result<Vec<Statement>, Unavailable> {
    let view = ctx.statements.view()?;
    // PG 13 renamed total_time to total_exec_time.
    let total = if ctx.server_version >= 130_000 {
        "total_exec_time"
    } else {
        "total_time"
    };
    // One row per statement, summed over the users who ran it. Rows the role may not see
    // have no queryid; they stay apart rather than add up into one made-up statement.
    let rows = sqlx::query(&format!(
        "{MARK} select min(left(query, 4000)) as query,
                sum(calls)::int8 as calls,
                sum(total)::float8 as total_ms,
                sum(rows)::int8 as rows
         from (select query, calls, {total} as total, rows,
                      coalesce(queryid::text, 'hidden ' || row_number() over ()) as statement
               from {view}
               where dbid = (select oid from pg_database where datname = current_database())
                 and query not like '/* plumbline-probe */%') as recorded
         group by statement"
    ))
    .fetch_all(&mut *conn)
    .await?;
    let mut statements = Vec::with_capacity(rows.len());
    for row in rows {
        statements.push(Statement {
            query: row
                .try_get::<Option<String>, _>("query")?
                .unwrap_or_default(),
            calls: row.try_get::<Option<i64>, _>("calls")?.unwrap_or(0),
            total_ms: row.try_get::<Option<f64>, _>("total_ms")?.unwrap_or(0.0),
            rows: row.try_get::<Option<i64>, _>("rows")?.unwrap_or(0),
        });
    }
    statements.sort_by(|a, b| b.total_ms.total_cmp(&a.total_ms));
    Ok(statements)
}

pub async fn slow_queries(
    conn: &mut PgConnection,
    ctx: &Context,
) -> Result<CheckResult, Unavailable> {
    let spec = &SLOW_QUERIES;
    let statements = load_statements(conn, ctx).await?;
    let all_ms: f64 = statements.iter().map(|s| s.total_ms).sum();
    let slow: Vec<&Statement> = statements.iter().filter(|s| is_slow(s)).collect();
    let measured = json!({
        "statements": statements.len(),
        "total_exec_ms": round2(all_ms),
        "slow": slow.iter().take(10).map(|s| statement_json(s, all_ms)).collect::<Vec<_>>(),
        "top_by_total_time": statements.iter().take(5).map(|s| statement_json(s, all_ms)).collect::<Vec<_>>(),
    });
    let mut evidence: Vec<String> = slow
        .iter()
        .take(10)
        .map(|s| statement_line(s, all_ms))
        .collect();
    // Statements whose text the role may not read cannot be told from migrations: said, not
    // counted.
    let hidden_slow = statements
        .iter()
        .filter(|s| s.hidden() && meets_slow_bounds(s))
        .count();
    if hidden_slow > 0 {
        evidence.push(format!(
            "{hidden_slow} statement(s) whose text the probe's role may not read meet the bounds too (grant pg_read_all_stats)"
        ));
    }
    if slow.is_empty() {
        evidence.extend(
            statements
                .iter()
                .filter(|s| is_data_statement(&s.query))
                .take(3)
                .map(|s| format!("top by time: {}", statement_line(s, all_ms))),
        );
        return Ok(CheckResult::pass(
            spec,
            format!(
                "No slow statements among {} recorded for this database",
                statements.len()
            ),
        )
        .with_measured(measured)
        .with_evidence(evidence));
    }
    let worst = slow.iter().map(|s| s.mean_ms()).fold(0.0_f64, f64::max);
    Ok(spec
        .result(
            CheckStatus::Fail,
            format!(
                "{} of {} statements are slow; the slowest averages {:.0} ms",
                slow.len(),
                statements.len(),
                worst
            ),
        )
        .with_measured(measured)
        .with_evidence(evidence))
}

/// PgHero's rule, or ours for statements slower than the slow-query-log bound.
/// Only data statements count: a slow migration or VACUUM is not a slow query.
pub fn is_slow(statement: &Statement) -> bool {
    is_data_statement(&statement.query) && meets_slow_bounds(statement)
}

fn meets_slow_bounds(statement: &Statement) -> bool {
    let mean = statement.mean_ms();
    (mean >= PGHERO_SLOW_MEAN_MS && statement.calls >= PGHERO_SLOW_CALLS) || mean >= SLOW_MEAN_MS
}

pub async fn n_plus_one(
    conn: &mut PgConnection,
    ctx: &Context,
) -> Result<CheckResult, Unavailable> {
    let spec = &N_PLUS_ONE;
    let statements = load_statements(conn, ctx).await?;
    if !statements.is_empty() && statements.iter().all(Statement::hidden) {
        return Err(Unavailable(
            "the probe's role sees no statement texts (grant pg_read_all_stats), so shapes cannot be read".into(),
        ));
    }
    let hidden = statements.iter().filter(|s| s.hidden()).count();
    let all_ms: f64 = statements.iter().map(|s| s.total_ms).sum();
    let mut found: Vec<(&Statement, String)> = Vec::new();
    for statement in &statements {
        if let Some(table) = n_plus_one_table(statement, all_ms) {
            found.push((statement, table));
        }
    }
    let measured = json!({
        "statements": statements.len(),
        "hidden_texts": hidden,
        "total_exec_ms": round2(all_ms),
        "patterns": found.iter().map(|(s, table)| {
            let mut value = statement_json(s, all_ms);
            if let Value::Object(map) = &mut value {
                map.insert("table".into(), json!(table));
            }
            value
        }).collect::<Vec<_>>(),
    });
    let hidden_note = (hidden > 0).then(|| {
        format!(
            "{hidden} of {} statements hide their text from the probe's role (grant pg_read_all_stats); their shapes were not read",
            statements.len()
        )
    });
    if found.is_empty() {
        return Ok(CheckResult::pass(
            spec,
            format!(
                "No N+1 lookup shapes among {} statements",
                statements.len() - hidden
            ),
        )
        .with_measured(measured)
        .with_evidence(hidden_note.into_iter().collect()));
    }
    let mut evidence: Vec<String> = found
        .iter()
        .take(10)
        .map(|(s, table)| format!("{table}: {}", statement_line(s, all_ms)))
        .collect();
    evidence.extend(hidden_note);
    let most = found.iter().map(|(s, _)| s.calls).max().unwrap_or(0);
    Ok(spec
        .result(
            CheckStatus::Fail,
            format!(
                "{} statement(s) look like N+1 lookups; the busiest ran {most} times",
                found.len()
            ),
        )
        .with_measured(measured)
        .with_evidence(evidence))
}

/// The table an N+1 lookup reads, if the statement is one.
pub fn n_plus_one_table(statement: &Statement, all_ms: f64) -> Option<String> {
    if statement.calls <= 0 || statement.mean_ms() >= N_PLUS_ONE_MEAN_MS {
        return None;
    }
    let rows_per_call = statement.rows as f64 / statement.calls as f64;
    if !(0.5..=1.5).contains(&rows_per_call) {
        return None;
    }
    let share = if all_ms > 0.0 {
        statement.total_ms / all_ms
    } else {
        0.0
    };
    let busy = statement.calls > N_PLUS_ONE_CALLS
        || (statement.calls >= N_PLUS_ONE_MIN_CALLS && share >= N_PLUS_ONE_SHARE);
    if !busy {
        return None;
    }
    key_lookup_table(&statement.query)
}

/// The table of a `select … from <one table> where <col> = $n [and <col> = $m]` statement:
/// the shape an ORM sends once per row of a list it already has.
pub fn key_lookup_table(query: &str) -> Option<String> {
    let text = normalise(query);
    let rest = text.strip_prefix("select ")?;
    for word in [
        " join ",
        " union ",
        " intersect ",
        " except ",
        "(select",
        " over ",
    ] {
        if rest.contains(word) {
            return None;
        }
    }
    let (_, after_from) = rest.split_once(" from ")?;
    let (from, filter) = after_from.split_once(" where ")?;
    let from_tokens: Vec<&str> = from.split(' ').filter(|t| !t.is_empty()).collect();
    let table = match from_tokens.as_slice() {
        [table] | [table, _] => *table,
        [table, "as", _] => *table,
        _ => return None,
    };
    if table.contains(',') || table.contains('(') || !is_identifier(table) {
        return None;
    }
    let mut filter = filter;
    for tail in [
        " order by ",
        " limit ",
        " offset ",
        " for ",
        " group by ",
        " fetch ",
    ] {
        if let Some((head, _)) = filter.split_once(tail) {
            filter = head;
        }
    }
    let conjuncts: Vec<&str> = filter.split(" and ").collect();
    if conjuncts.is_empty() || conjuncts.len() > 3 {
        return None;
    }
    for conjunct in conjuncts {
        let conjunct = conjunct
            .trim()
            .trim_start_matches('(')
            .trim_end_matches(')');
        let tokens: Vec<&str> = conjunct.split(' ').filter(|t| !t.is_empty()).collect();
        let key_equality = match tokens.as_slice() {
            [left, "=", right] => {
                (is_identifier(left) && is_parameter(right))
                    || (is_parameter(left) && is_identifier(right))
            }
            _ => false,
        };
        if !key_equality {
            return None;
        }
    }
    Some(table.replace('"', ""))
}

/// Lower case, comments gone, `=` spaced, whitespace collapsed, trailing `;` dropped.
fn normalise(query: &str) -> String {
    let stripped = strip_comments(query).to_lowercase().replace('=', " = ");
    let collapsed = stripped.split_whitespace().collect::<Vec<_>>().join(" ");
    collapsed.trim_end_matches(';').trim().to_owned()
}

fn strip_comments(query: &str) -> String {
    let mut out = String::with_capacity(query.len());
    let mut rest = query;
    loop {
        let block = rest.find("/*");
        let line = rest.find("--");
        match (block, line) {
            (Some(b), l) if l.is_none_or(|l| b < l) => {
                out.push_str(&rest[..b]);
                out.push(' ');
                rest = match rest[b + 2..].find("*/") {
                    Some(end) => &rest[b + 2 + end + 2..],
                    None => "",
                };
            }
            (_, Some(l)) => {
                out.push_str(&rest[..l]);
                out.push(' ');
                rest = match rest[l..].find('\n') {
                    Some(end) => &rest[l + end..],
                    None => "",
                };
            }
            _ => {
                out.push_str(rest);
                return out;
            }
        }
    }
}

fn is_identifier(token: &str) -> bool {
    !token.is_empty()
        && !token.starts_with('$')
        && !token.starts_with(|c: char| c.is_ascii_digit())
        && token
            .chars()
            .all(|c| c.is_alphanumeric() || c == '_' || c == '.' || c == '"')
}

fn is_parameter(token: &str) -> bool {
    token
        .strip_prefix('$')
        .is_some_and(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()))
}

/// The statement's first keyword, comments and parentheses skipped: `select`, `with`, ...
pub fn statement_kind(query: &str) -> String {
    strip_comments(query)
        .trim_start_matches(|c: char| c.is_whitespace() || c == '(')
        .split(|c: char| !c.is_ascii_alphabetic())
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase()
}

/// Statements that read or write data (not DDL, VACUUM, SET, transaction control).
pub fn is_data_statement(query: &str) -> bool {
    matches!(
        statement_kind(query).as_str(),
        "select" | "with" | "insert" | "update" | "delete" | "merge" | "values" | "table"
    )
}

/// The highest `$n` in a normalised statement: how many parameters it takes.
pub fn parameter_count(query: &str) -> usize {
    let bytes = query.as_bytes();
    let mut highest = 0;
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'$' {
            let start = i + 1;
            let mut end = start;
            while end < bytes.len() && bytes[end].is_ascii_digit() {
                end += 1;
            }
            if let Some(n) = query.get(start..end).and_then(|d| d.parse::<usize>().ok()) {
                highest = highest.max(n);
            }
            i = end.max(i + 1);
        } else {
            i += 1;
        }
    }
    highest
}

/// A statement's text on one line, cut to `max` characters.
pub fn shorten(query: &str, max: usize) -> String {
    let line = query.split_whitespace().collect::<Vec<_>>().join(" ");
    if line.chars().count() <= max {
        line
    } else {
        let cut: String = line.chars().take(max).collect();
        format!("{cut}…")
    }
}

fn statement_line(s: &Statement, all_ms: f64) -> String {
    format!(
        "{} calls, mean {:.2} ms, {:.1} rows/call, {:.1} % of time: {}",
        s.calls,
        s.mean_ms(),
        if s.calls > 0 {
            s.rows as f64 / s.calls as f64
        } else {
            0.0
        },
        share_percent(s, all_ms),
        shorten(&s.query, 160)
    )
}

fn statement_json(s: &Statement, all_ms: f64) -> Value {
    json!({
        "query": shorten(&s.query, 500),
        "calls": s.calls,
        "mean_ms": round2(s.mean_ms()),
        "total_ms": round2(s.total_ms),
        "rows": s.rows,
        "share_percent": round2(share_percent(s, all_ms)),
    })
}

fn share_percent(s: &Statement, all_ms: f64) -> f64 {
    if all_ms > 0.0 {
        s.total_ms / all_ms * 100.0
    } else {
        0.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn statement(query: &str, calls: i64, total_ms: f64, rows: i64) -> Statement {
        Statement {
            query: query.into(),
            calls,
            total_ms,
            rows,
        }
    }

    #[test]
    fn recognises_orm_key_lookups() {
        for query in [
            "select id, email from customers where id = $1",
            "SELECT \"customers\".* FROM \"customers\" WHERE \"customers\".\"id\" = $1 LIMIT $2",
            "select c1_0.id,c1_0.email from public.customers c1_0 where c1_0.id=$1",
            "/* app */ select * from orders o where o.tenant_id = $1 and o.id = $2",
        ] {
            assert!(key_lookup_table(query).is_some(), "{query}");
        }
        assert_eq!(
            key_lookup_table("select * from public.customers where id = $1").as_deref(),
            Some("public.customers")
        );
    }

    #[test]
    fn rejects_other_shapes() {
        for query in [
            "select * from customers where id > $1",
            "select * from customers c join orders o on o.customer_id = c.id where c.id = $1",
            "select * from customers where email like $1",
            "select * from customers, orders where customers.id = $1",
            "select * from customers where id in (select customer_id from orders where id = $1)",
            "select * from customers",
            "update customers set name = $1 where id = $2",
            "select * from customers where id = $1 or id = $2",
        ] {
            assert!(key_lookup_table(query).is_none(), "{query}");
        }
    }

    #[test]
    fn n_plus_one_needs_volume_speed_and_one_row() {
        let lookup = "select * from customers where id = $1";
        assert!(n_plus_one_table(&statement(lookup, 100_001, 2_000.0, 100_001), 1e9).is_some());
        // Too few calls for the write-up, too little time for ours.
        assert!(n_plus_one_table(&statement(lookup, 5_000, 50.0, 5_000), 1e9).is_none());
        // Ours: at least 1,000 calls and 5 % of all time.
        assert!(n_plus_one_table(&statement(lookup, 5_000, 50.0, 5_000), 900.0).is_some());
        // Many rows per call is a list, not a lookup.
        assert!(n_plus_one_table(&statement(lookup, 200_000, 2_000.0, 2_000_000), 1e9).is_none());
        // Slow per call is a slow query, not an N+1.
        assert!(n_plus_one_table(&statement(lookup, 200_000, 400_000.0, 200_000), 1e9).is_none());
    }

    #[test]
    fn slow_follows_pghero_or_ours() {
        assert!(is_slow(&statement("select pg_sleep($1)", 1, 250.0, 1)));
        assert!(is_slow(&statement(
            "select * from t where a = $1",
            100,
            2_000.0,
            5
        )));
        assert!(!is_slow(&statement(
            "select * from t where a = $1",
            99,
            1_980.0,
            5
        )));
        assert!(!is_slow(&statement("create index on t (a)", 1, 9_000.0, 0)));
        assert!(!is_slow(&statement(
            "<insufficient privilege>",
            1,
            9_000.0,
            0
        )));
    }

    #[test]
    fn reads_kinds_and_parameters() {
        assert_eq!(statement_kind("/* x */ -- y\n (SELECT 1)"), "select");
        assert_eq!(
            statement_kind("WITH a AS (select 1) select * from a"),
            "with"
        );
        assert_eq!(parameter_count("select $1, $12, $3"), 12);
        assert_eq!(parameter_count("select 1"), 0);
    }
}
