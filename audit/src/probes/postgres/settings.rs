//! Settings and connections: the slow-query log, the statement timeout, connection
//! saturation, pooling evidence and the age of the statistics.
use serde_json::json;
use sqlx::postgres::PgConnection;
use sqlx::Row;

use super::session::{Unavailable, MARK};
use super::{days_text, round2, Context, YOUNG_STATISTICS_DAYS};
use crate::findings::Severity;
use crate::probes::model::{CheckArea, CheckResult, CheckSpec, CheckStatus};

/// Ours: statements slower than this must reach the log.
pub const SLOW_LOG_MAX_MS: f64 = 200.0;

pub const SLOW_QUERY_LOG: CheckSpec = CheckSpec {
    id: "pg.slow-query-log",
    area: CheckArea::Observability,
    title: "Slow-query log",
    severity: Severity::Medium,
    threshold: "the database's default log_min_duration_statement: 1–200 ms pass; 0 (every statement) or above 200 ms warn; −1 (off) fail",
    source: "ours (pgdoctor suggests 2000 ms, which is looser)",
};

/// pgdoctor's statement_timeout bounds.
pub const STATEMENT_TIMEOUT_WARN_MS: f64 = 5_000.0;
pub const STATEMENT_TIMEOUT_FAIL_MS: f64 = 10_000.0;

pub const STATEMENT_TIMEOUT: CheckSpec = CheckSpec {
    id: "pg.statement-timeout",
    area: CheckArea::Database,
    title: "Statement timeout",
    severity: Severity::Medium,
    threshold: "the database's default statement_timeout: ≤ 5 s pass; > 5 s warn; > 10 s fail; unset (0) fail",
    source: "pgdoctor (5 s / 10 s, recommends 3 s); unset as a failure is ours",
};

pub const CONNECTION_SATURATION: CheckSpec = CheckSpec {
    id: "pg.connection-saturation",
    area: CheckArea::Database,
    title: "Connection saturation",
    severity: Severity::High,
    threshold: "client connections over max_connections: > 70 % warn, > 85 % fail (pgdoctor); ≥ 100 sessions idle in transaction warn (PgHero)",
    source: "pgdoctor; PgHero",
};

pub const POOLING: CheckSpec = CheckSpec {
    id: "pg.pooling",
    area: CheckArea::Database,
    title: "Connection pooling evidence",
    severity: Severity::Medium,
    threshold: "for this database: abandoned sessions > 1 % warn, > 5 % fail (from 100 sessions); idle connections > 50 % warn, > 75 % fail (from 20 connections); ≥ 10 connections idle over 30 min warn, ≥ 50 fail; busy ratio active_time / session_time < 20 % warn (from 1 h of session time)",
    source: "pgdoctor; the minimum samples are ours",
};

pub const STATISTICS_AGE: CheckSpec = CheckSpec {
    id: "pg.statistics-age",
    area: CheckArea::Database,
    title: "Statistics age",
    severity: Severity::Low,
    threshold: "statistics younger than 7 days make the runtime checks unreliable: warn",
    source: "pgdoctor; PgHero last_stats_reset_time",
};

/// A duration setting as text (`3s`, `500`, `1min`, `-1`) in milliseconds; a bare number
/// is in milliseconds, the unit of both settings read here.
pub fn parse_duration_ms(text: &str) -> Option<f64> {
    let text = text.trim().trim_matches('\'').trim();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '-' || c == '+'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: f64 = number.parse().ok()?;
    let factor = match unit.trim() {
        "" | "ms" => 1.0,
        "us" => 0.001,
        "s" => 1_000.0,
        "min" => 60_000.0,
        "h" => 3_600_000.0,
        "d" => 86_400_000.0,
        _ => return None,
    };
    Some(number * factor)
}

/// A setting as the application's sessions start with it, and where that comes from.
struct DefaultSetting {
    /// In milliseconds.
    value_ms: f64,
    text: String,
    origin: String,
    /// `role: name=value` lines for roles with their own value.
    role_overrides: Vec<String>,
}

/// The database's own value (ALTER DATABASE … SET) if there is one, else the server's.
/// Per-role values are listed: the probe cannot tell which role the application uses.
async fn default_setting(
    conn: &mut PgConnection,
    name: &str,
) -> Result<DefaultSetting, Unavailable> {
    let overrides = sqlx::query(&format!(
        "{MARK} select coalesce(r.rolname, '')::text as role,
                coalesce(r.rolname = current_user, false) as mine,
                s.setdatabase <> 0 as in_database,
                split_part(cfg, '=', 2)::text as value
         from pg_db_role_setting s
         left join pg_roles r on r.oid = s.setrole
         cross join lateral unnest(s.setconfig) as cfg
         where (s.setdatabase = 0
                or s.setdatabase = (select oid from pg_database where datname = current_database()))
           and split_part(cfg, '=', 1) = $1
         order by 1"
    ))
    .bind(name)
    .fetch_all(&mut *conn)
    .await?;
    let mut database_value = None;
    let mut role_overrides = Vec::new();
    let mut mine = false;
    for row in &overrides {
        mine |= row.try_get::<bool, _>("mine")?;
        let role: String = row.try_get("role")?;
        let in_database: bool = row.try_get("in_database")?;
        let value: String = row.try_get("value")?;
        if role.is_empty() {
            if in_database {
                database_value = Some(value);
            }
        } else {
            role_overrides.push(format!(
                "role {role}: {name}={value}{}",
                if in_database {
                    " (in this database)"
                } else {
                    ""
                }
            ));
        }
    }
    if let Some(text) = database_value {
        let value_ms = parse_duration_ms(&text)
            .ok_or_else(|| Unavailable(format!("cannot read {name}={text}")))?;
        return Ok(DefaultSetting {
            value_ms,
            text,
            origin: "ALTER DATABASE … SET".into(),
            role_overrides,
        });
    }
    // `reset_val` is what a session starts with: the server's value unless the probe's own
    // role sets one (then the server's value cannot be seen from here). `source` would not
    // tell: the probe's SET LOCAL makes it "session".
    if mine {
        return Err(Unavailable(format!(
            "the probe's role has its own {name} (ALTER ROLE … SET), which hides the server's value, and the database sets none"
        )));
    }
    let row = sqlx::query(&format!(
        "{MARK} select reset_val::text as value from pg_settings where name = $1"
    ))
    .bind(name)
    .fetch_one(&mut *conn)
    .await?;
    let text: String = row.try_get("value")?;
    let value_ms = parse_duration_ms(&text)
        .ok_or_else(|| Unavailable(format!("cannot read {name}={text}")))?;
    Ok(DefaultSetting {
        value_ms,
        text,
        origin: "server configuration".into(),
        role_overrides,
    })
}

fn setting_evidence(name: &str, setting: &DefaultSetting) -> Vec<String> {
    let mut evidence = vec![format!("{name} = {} ({})", setting.text, setting.origin)];
    evidence.extend(setting.role_overrides.iter().cloned());
    evidence
}

pub async fn slow_query_log(conn: &mut PgConnection) -> Result<CheckResult, Unavailable> {
    let spec = &SLOW_QUERY_LOG;
    let setting = default_setting(conn, "log_min_duration_statement").await?;
    let ms = setting.value_ms;
    let (status, summary) = if ms < 0.0 {
        (
            CheckStatus::Fail,
            "The slow-query log is off (log_min_duration_statement = -1)".to_owned(),
        )
    } else if ms == 0.0 {
        (
            CheckStatus::Warn,
            "Every statement is logged (log_min_duration_statement = 0): heavy log volume"
                .to_owned(),
        )
    } else if ms > SLOW_LOG_MAX_MS {
        (
            CheckStatus::Warn,
            format!("Only statements slower than {ms:.0} ms are logged (bound: 200 ms)"),
        )
    } else {
        (
            CheckStatus::Pass,
            format!("Statements slower than {ms:.0} ms are logged"),
        )
    };
    Ok(spec
        .result(status, summary)
        .with_measured(json!({ "log_min_duration_statement_ms": ms, "origin": setting.origin }))
        .with_evidence(setting_evidence("log_min_duration_statement", &setting)))
}

pub async fn statement_timeout(conn: &mut PgConnection) -> Result<CheckResult, Unavailable> {
    let spec = &STATEMENT_TIMEOUT;
    let setting = default_setting(conn, "statement_timeout").await?;
    let ms = setting.value_ms;
    let (status, summary) = if ms <= 0.0 {
        (
            CheckStatus::Fail,
            "No statement timeout: a runaway query can run for ever".to_owned(),
        )
    } else if ms > STATEMENT_TIMEOUT_FAIL_MS {
        (
            CheckStatus::Fail,
            format!("The statement timeout is {:.1} s (over 10 s)", ms / 1000.0),
        )
    } else if ms > STATEMENT_TIMEOUT_WARN_MS {
        (
            CheckStatus::Warn,
            format!("The statement timeout is {:.1} s (over 5 s)", ms / 1000.0),
        )
    } else {
        (
            CheckStatus::Pass,
            format!("The statement timeout is {:.1} s", ms / 1000.0),
        )
    };
    Ok(spec
        .result(status, summary)
        .with_measured(json!({ "statement_timeout_ms": ms, "origin": setting.origin }))
        .with_evidence(setting_evidence("statement_timeout", &setting)))
}

pub async fn connection_saturation(conn: &mut PgConnection) -> Result<CheckResult, Unavailable> {
    let spec = &CONNECTION_SATURATION;
    let row = sqlx::query(&format!(
        "{MARK} select count(*)::int8 as connections,
                count(*) filter (where state = 'idle in transaction')::int8 as idle_in_transaction,
                current_setting('max_connections')::int8 as max_connections
         from pg_stat_activity
         where backend_type = 'client backend'"
    ))
    .fetch_one(&mut *conn)
    .await?;
    let connections: i64 = row.try_get("connections")?;
    let idle_in_tx: i64 = row.try_get("idle_in_transaction")?;
    let max: i64 = row.try_get("max_connections")?;
    let used = if max > 0 {
        connections as f64 / max as f64 * 100.0
    } else {
        0.0
    };
    let mut status = if used > 85.0 {
        CheckStatus::Fail
    } else if used > 70.0 {
        CheckStatus::Warn
    } else {
        CheckStatus::Pass
    };
    let mut summary = format!("{connections} of {max} connections in use ({used:.0} %)");
    if idle_in_tx >= 100 {
        status = status.max(CheckStatus::Warn);
        summary.push_str(&format!("; {idle_in_tx} sessions idle in transaction"));
    }
    Ok(spec
        .result(status, summary)
        .with_measured(json!({
            "connections": connections,
            "max_connections": max,
            "used_percent": round2(used),
            "idle_in_transaction": idle_in_tx,
        }))
        .with_evidence(vec![format!(
            "{connections} client backends, {idle_in_tx} idle in transaction, max_connections = {max}"
        )]))
}

pub async fn pooling(conn: &mut PgConnection, ctx: &Context) -> Result<CheckResult, Unavailable> {
    let spec = &POOLING;
    let activity = sqlx::query(&format!(
        "{MARK} select count(*)::int8 as connections,
                count(*) filter (where state = 'idle')::int8 as idle,
                count(*) filter (where state is null)::int8 as unknown,
                count(*) filter (where state = 'idle' and state_change < now() - interval '30 minutes')::int8 as long_idle
         from pg_stat_activity
         where backend_type = 'client backend'
           and datname = current_database()
           and pid <> pg_backend_pid()"
    ))
    .fetch_one(&mut *conn)
    .await?;
    let connections: i64 = activity.try_get("connections")?;
    let idle: i64 = activity.try_get("idle")?;
    let unknown: i64 = activity.try_get("unknown")?;
    let long_idle: i64 = activity.try_get("long_idle")?;

    let mut status = CheckStatus::Pass;
    let mut problems = Vec::new();
    let mut evidence = vec![format!(
        "{connections} other connections to this database, {idle} idle, {long_idle} idle for over 30 min"
    )];
    if unknown > 0 {
        evidence.push(format!(
            "{unknown} connections hide their state from the probe's role (grant pg_read_all_stats)"
        ));
    }
    let idle_share = if connections > 0 {
        idle as f64 / connections as f64 * 100.0
    } else {
        0.0
    };
    if connections >= 20 {
        if idle_share > 75.0 {
            status = status.max(CheckStatus::Fail);
            problems.push(format!("{idle_share:.0} % of connections are idle"));
        } else if idle_share > 50.0 {
            status = status.max(CheckStatus::Warn);
            problems.push(format!("{idle_share:.0} % of connections are idle"));
        }
    }
    if long_idle >= 50 {
        status = status.max(CheckStatus::Fail);
        problems.push(format!("{long_idle} connections idle for over 30 min"));
    } else if long_idle >= 10 {
        status = status.max(CheckStatus::Warn);
        problems.push(format!("{long_idle} connections idle for over 30 min"));
    }

    let mut measured = json!({
        "connections": connections,
        "idle": idle,
        "idle_percent": round2(idle_share),
        "idle_over_30_min": long_idle,
    });
    // Session accounting exists from PostgreSQL 14 on.
    if ctx.server_version >= 140_000 {
        let row = sqlx::query(&format!(
            "{MARK} select sessions::int8 as sessions,
                    sessions_abandoned::int8 as abandoned,
                    session_time::float8 as session_ms,
                    active_time::float8 as active_ms
             from pg_stat_database where datname = current_database()"
        ))
        .fetch_one(&mut *conn)
        .await?;
        let sessions: i64 = row.try_get("sessions")?;
        let abandoned: i64 = row.try_get("abandoned")?;
        let session_ms: f64 = row.try_get("session_ms")?;
        let active_ms: f64 = row.try_get("active_ms")?;
        let abandoned_share = if sessions > 0 {
            abandoned as f64 / sessions as f64 * 100.0
        } else {
            0.0
        };
        let busy = if session_ms > 0.0 {
            active_ms / session_ms * 100.0
        } else {
            0.0
        };
        if sessions >= 100 {
            if abandoned_share > 5.0 {
                status = status.max(CheckStatus::Fail);
                problems.push(format!("{abandoned_share:.1} % of sessions were abandoned"));
            } else if abandoned_share > 1.0 {
                status = status.max(CheckStatus::Warn);
                problems.push(format!("{abandoned_share:.1} % of sessions were abandoned"));
            }
        }
        if session_ms >= 3_600_000.0 && busy < 20.0 {
            status = status.max(CheckStatus::Warn);
            problems.push(format!(
                "sessions are busy {busy:.0} % of their time: an oversized pool or none"
            ));
        }
        evidence.push(format!(
            "{sessions} sessions since the statistics began, {abandoned} abandoned; busy {busy:.0} % of {:.1} h of session time",
            session_ms / 3_600_000.0
        ));
        if let serde_json::Value::Object(map) = &mut measured {
            map.insert("sessions".into(), json!(sessions));
            map.insert("sessions_abandoned".into(), json!(abandoned));
            map.insert("abandoned_percent".into(), json!(round2(abandoned_share)));
            map.insert(
                "session_hours".into(),
                json!(round2(session_ms / 3_600_000.0)),
            );
            map.insert("busy_percent".into(), json!(round2(busy)));
        }
    } else {
        evidence
            .push("session accounting needs PostgreSQL 14; only connections were looked at".into());
    }
    let summary = if problems.is_empty() {
        "Connections show no sign of a missing or oversized pool".to_owned()
    } else {
        problems.join("; ")
    };
    Ok(spec
        .result(status, summary)
        .with_measured(measured)
        .with_evidence(evidence))
}

pub fn statistics_age(ctx: &Context) -> CheckResult {
    let spec = &STATISTICS_AGE;
    let days = days_text(ctx.stats_age_days);
    let mut evidence = vec![format!("statistics since {}", ctx.stats_since)];
    if !ctx.stats_reset_known {
        evidence.push(
            "stats_reset is not set: the statistics count from the server's start, or from the database's creation if that was later".into(),
        );
    }
    let measured = json!({
        "stats_age_days": round2(ctx.stats_age_days),
        "stats_since": ctx.stats_since,
        "stats_reset_known": ctx.stats_reset_known,
    });
    let result = if ctx.stats_age_days < YOUNG_STATISTICS_DAYS {
        spec.result(
            CheckStatus::Warn,
            format!("Statistics are {days} days old; runtime checks are less certain"),
        )
    } else {
        CheckResult::pass(spec, format!("Statistics are {days} days old"))
    };
    result.with_measured(measured).with_evidence(evidence)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_durations() {
        assert_eq!(parse_duration_ms("3s"), Some(3_000.0));
        assert_eq!(parse_duration_ms("500"), Some(500.0));
        assert_eq!(parse_duration_ms("-1"), Some(-1.0));
        assert_eq!(parse_duration_ms("1min"), Some(60_000.0));
        assert_eq!(parse_duration_ms("250ms"), Some(250.0));
        assert_eq!(parse_duration_ms("0"), Some(0.0));
        assert_eq!(parse_duration_ms("soon"), None);
    }
}
