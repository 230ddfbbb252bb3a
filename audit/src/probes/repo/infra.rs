//! Checks on what the infrastructure code says about queues and databases: dead-letter queues,
//! the slow-query log threshold, and database backups. Terraform resources are read as blocks
//! (brace-matched); CloudFormation and Kubernetes YAML by their keys.
use serde_json::json;

use super::super::model::{CheckArea, CheckResult, CheckSpec, CheckStatus};
use super::deploy::{iac_markers, DATABASE_MARKERS};
use super::tree::{line_of, RepoFile};
use super::Context;
use crate::findings::Severity;

pub(crate) const QUEUE_DLQ: CheckSpec = CheckSpec {
    id: "repo.queue-dlq",
    area: CheckArea::CachingQueues,
    title: "Queues have dead-letter queues",
    severity: Severity::High,
    threshold: "every consumer queue defined in infrastructure code has a dead-letter queue \
                (SQS redrive_policy / RedrivePolicy, Pub/Sub dead_letter_policy, RabbitMQ \
                x-dead-letter-exchange), with maxReceiveCount ≤ 10; a queue without one fails, \
                a higher count warns; no queue in code: could not run",
    source: "checkov CKV_AWS_116 (dead-letter configuration) and ours (reference/probes.md §3.2)",
};

pub(crate) const SLOW_QUERY_LOG: CheckSpec = CheckSpec {
    id: "repo.slow-query-log-iac",
    area: CheckArea::Observability,
    title: "Slow-query log set in infrastructure code",
    severity: Severity::Medium,
    threshold: "log_min_duration_statement (PostgreSQL) ≤ 200 ms, or long_query_time (MySQL) \
                ≤ 0.2 s, where the database is defined in code; off (-1) or higher fails, a \
                database without the setting fails (PostgreSQL's default is off); no database \
                in code: could not run",
    source: "ours (reference/probes.md §3.2); checkov CKV_AWS_129 for RDS log exports",
};

pub(crate) const DB_BACKUPS: CheckSpec = CheckSpec {
    id: "repo.db-backups",
    area: CheckArea::Database,
    title: "Database backups configured in code",
    severity: Severity::High,
    threshold: "every database defined in code keeps automatic backups: RDS \
                backup_retention_period ≥ 7 days (0 fails, 1–6 or unset warns), Cloud SQL \
                backup_configuration enabled, a CloudNativePG backup section; a restore drill \
                cannot be seen in code; no database in code: could not run",
    source: "checkov CKV_AWS_133 (RDS backup policy); 7 days is ours",
};

/// A Terraform block: `resource "<kind>" "<name>" { body }`.
#[derive(Debug, Clone)]
pub(crate) struct TfBlock<'a> {
    pub name: String,
    pub line: usize,
    pub body: &'a str,
}

/// The `resource "<kind>"` blocks of a Terraform file.
pub(crate) fn tf_blocks<'a>(text: &'a str, kind: &str) -> Vec<TfBlock<'a>> {
    let needle = format!("resource \"{kind}\"");
    let mut blocks = Vec::new();
    let mut from = 0;
    while let Some(found) = text[from..].find(&needle) {
        let start = from + found;
        let after = start + needle.len();
        from = after;
        let rest = &text[after..];
        let name = rest
            .trim_start()
            .strip_prefix('"')
            .and_then(|r| r.split('"').next())
            .unwrap_or("")
            .to_owned();
        let Some(open) = rest.find('{') else {
            break;
        };
        let body_start = after + open + 1;
        let body_end = matching_brace(text, body_start).unwrap_or(text.len());
        blocks.push(TfBlock {
            name,
            line: line_of(text, start),
            body: &text[body_start..body_end],
        });
        from = body_end.max(from);
    }
    blocks
}

/// The index of the `}` closing a block whose body starts at `start`; strings are skipped.
fn matching_brace(text: &str, start: usize) -> Option<usize> {
    let mut depth = 1usize;
    let mut in_string = false;
    let mut escaped = false;
    for (i, c) in text[start..].char_indices() {
        if in_string {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => in_string = true,
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    return Some(start + i);
                }
            }
            _ => {}
        }
    }
    None
}

/// The first integer (with an optional sign and unit) within `window` characters after `at`.
fn number_after(text: &str, at: usize, window: usize) -> Option<(i64, String)> {
    let tail: String = text.get(at..)?.chars().take(window).collect();
    let bytes = tail.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        let negative = c == b'-' && bytes.get(i + 1).is_some_and(u8::is_ascii_digit);
        if c.is_ascii_digit() || negative {
            let begin = i;
            i += 1;
            while i < bytes.len() && (bytes[i].is_ascii_digit() || bytes[i] == b'.') {
                i += 1;
            }
            let number = tail[begin..i].split('.').next().unwrap_or("0");
            let value: i64 = number.parse().ok()?;
            let unit: String = tail[i..]
                .chars()
                .take_while(|c| c.is_ascii_alphabetic())
                .collect();
            return Some((value, unit.to_lowercase()));
        }
        // Stop at the end of the value's line in YAML or a shell command.
        if c == b'\n' && tail[..i].contains(':') && !tail[..i].contains("name") {
            return None;
        }
        i += 1;
    }
    None
}

fn tf_files<'a>(ctx: &'a Context) -> impl Iterator<Item = &'a str> + 'a {
    ctx.iac
        .iter()
        .filter(|f| f.tool == "Terraform")
        .map(|f| f.path.as_str())
}

pub(crate) fn check_queue_dlq(ctx: &Context) -> CheckResult {
    // (where, has a DLQ, maxReceiveCount)
    let mut queues: Vec<(String, bool, Option<i64>)> = Vec::new();
    for path in tf_files(ctx) {
        let Some(text) = ctx.tree.read(path) else {
            continue;
        };
        let sqs = tf_blocks(&text, "aws_sqs_queue");
        let policies = tf_blocks(&text, "aws_sqs_queue_redrive_policy");
        // Queues another queue names as its dead-letter target are DLQs themselves.
        let targets: Vec<String> = sqs
            .iter()
            .map(|q| q.body)
            .chain(policies.iter().map(|p| p.body))
            .flat_map(|body| {
                body.split("aws_sqs_queue.")
                    .skip(1)
                    .filter_map(|r| r.split('.').next().map(str::to_owned))
                    .collect::<Vec<_>>()
            })
            .collect();
        for queue in &sqs {
            let lower = queue.name.to_lowercase();
            if targets.contains(&queue.name) || lower.contains("dlq") || lower.contains("dead") {
                continue;
            }
            let separate = policies
                .iter()
                .find(|p| p.body.contains(&format!("aws_sqs_queue.{}.", queue.name)));
            let body = separate.map(|p| p.body).unwrap_or(queue.body);
            let has = queue.body.contains("redrive_policy") || separate.is_some();
            let max = body
                .find("maxReceiveCount")
                .and_then(|at| number_after(body, at, 40))
                .map(|(n, _)| n);
            queues.push((
                format!("{path}:{} aws_sqs_queue.{}", queue.line, queue.name),
                has,
                max,
            ));
        }
        for sub in tf_blocks(&text, "google_pubsub_subscription") {
            queues.push((
                format!(
                    "{path}:{} google_pubsub_subscription.{}",
                    sub.line, sub.name
                ),
                sub.body.contains("dead_letter_policy"),
                sub.body
                    .find("max_delivery_attempts")
                    .and_then(|at| number_after(sub.body, at, 40))
                    .map(|(n, _)| n),
            ));
        }
    }
    for file in ctx.iac.iter().filter(|f| f.tool == "CloudFormation") {
        let Some(text) = ctx.tree.read(&file.path) else {
            continue;
        };
        let count = text.matches("AWS::SQS::Queue").count();
        let redrives = text.matches("RedrivePolicy").count();
        if count == 0 {
            continue;
        }
        let max = text
            .find("maxReceiveCount")
            .and_then(|at| number_after(&text, at, 40))
            .map(|(n, _)| n);
        let line = line_of(&text, text.find("AWS::SQS::Queue").unwrap_or(0));
        // A template with DLQs has one queue per redrive more than it has redrives.
        queues.push((
            format!(
                "{}:{line} {count} SQS queue(s), {redrives} RedrivePolicy",
                file.path
            ),
            redrives > 0,
            max,
        ));
    }
    let rabbit: Vec<String> = ctx
        .iac
        .iter()
        .filter_map(|f| {
            let text = ctx.tree.read(&f.path)?;
            let at = text.find("x-dead-letter-exchange")?;
            Some(format!(
                "{}:{} x-dead-letter-exchange",
                f.path,
                line_of(&text, at)
            ))
        })
        .collect();
    for place in rabbit {
        queues.push((place, true, None));
    }
    if queues.is_empty() {
        return CheckResult::could_not_run(
            &QUEUE_DLQ,
            "no queue is defined in infrastructure code (dead-letter settings of job libraries \
             are not read)",
        );
    }
    let missing: Vec<&String> = queues.iter().filter(|q| !q.1).map(|q| &q.0).collect();
    let high: Vec<String> = queues
        .iter()
        .filter_map(|q| {
            q.2.filter(|n| *n > 10)
                .map(|n| format!("{}: maxReceiveCount {n}", q.0))
        })
        .collect();
    let evidence: Vec<String> = queues
        .iter()
        .map(|(place, has, max)| {
            format!(
                "{place}: {}{}",
                if *has {
                    "dead-letter queue"
                } else {
                    "no dead-letter queue"
                },
                max.map(|n| format!(", max receives {n}"))
                    .unwrap_or_default()
            )
        })
        .collect();
    let measured = json!({ "queues": queues.len(), "without_dlq": missing.len(), "max_receive_over_10": high.len() });
    let (status, summary) = if !missing.is_empty() {
        (
            CheckStatus::Fail,
            format!(
                "{} of {} queue(s) have no dead-letter queue",
                missing.len(),
                queues.len()
            ),
        )
    } else if !high.is_empty() {
        (
            CheckStatus::Warn,
            format!(
                "Every queue has a dead-letter queue, but {} retry more than 10 times",
                high.len()
            ),
        )
    } else {
        (
            CheckStatus::Pass,
            format!("All {} queue(s) have a dead-letter queue", queues.len()),
        )
    };
    QUEUE_DLQ
        .result(status, summary)
        .with_evidence(evidence)
        .with_measured(measured)
}

/// Files where a database setting may be written: IaC, and PostgreSQL/MySQL config files.
fn setting_files(ctx: &Context) -> Vec<&RepoFile> {
    ctx.tree
        .files
        .iter()
        .filter(|f| {
            ctx.iac.iter().any(|i| i.path == f.path)
                || matches!(f.lower_name(), "postgresql.conf" | "my.cnf" | "mysqld.cnf")
                || f.lower_name().starts_with("docker-compose")
                || f.lower_name().starts_with("compose.")
        })
        .collect()
}

pub(crate) fn check_slow_query_log(ctx: &Context) -> CheckResult {
    // (where, value in ms)
    let mut settings: Vec<(String, i64)> = Vec::new();
    for file in setting_files(ctx) {
        let Some(text) = ctx.tree.read(&file.path) else {
            continue;
        };
        for (at, _) in text.match_indices("log_min_duration_statement") {
            if let Some((value, unit)) = number_after(&text, at + 26, 120) {
                let ms = match unit.as_str() {
                    "s" => value.saturating_mul(1000),
                    "min" => value.saturating_mul(60_000),
                    _ => value,
                };
                settings.push((
                    format!(
                        "{}:{} log_min_duration_statement",
                        file.path,
                        line_of(&text, at)
                    ),
                    ms,
                ));
            }
        }
        for (at, _) in text.match_indices("long_query_time") {
            let tail: String = text[at + 15..].chars().take(60).collect();
            let seconds = tail
                .split(|c: char| !(c.is_ascii_digit() || c == '.'))
                .find(|s| !s.is_empty() && s.parse::<f64>().is_ok())
                .and_then(|s| s.parse::<f64>().ok());
            if let Some(seconds) = seconds {
                settings.push((
                    format!("{}:{} long_query_time", file.path, line_of(&text, at)),
                    (seconds * 1000.0).round() as i64,
                ));
            }
        }
    }
    let databases = iac_markers(ctx, DATABASE_MARKERS);
    if settings.is_empty() && databases.is_empty() {
        return CheckResult::could_not_run(
            &SLOW_QUERY_LOG,
            "no database is defined in infrastructure code",
        );
    }
    if settings.is_empty() {
        let evidence = databases
            .iter()
            .map(|(f, l, m)| {
                format!(
                    "{f}:{l} database {} without a slow-query setting",
                    m.trim_matches('"')
                )
            })
            .collect();
        return SLOW_QUERY_LOG
            .result(
                CheckStatus::Fail,
                "The database is defined in code without a slow-query log threshold (off by default)",
            )
            .with_evidence(evidence)
            .with_measured(json!({ "settings": 0, "databases": databases.len() }));
    }
    let bad: Vec<&(String, i64)> = settings
        .iter()
        .filter(|(_, ms)| *ms < 0 || *ms > 200)
        .collect();
    let evidence = settings
        .iter()
        .map(|(place, ms)| {
            if *ms < 0 {
                format!("{place} = {ms} (off)")
            } else {
                format!("{place} = {ms} ms")
            }
        })
        .collect();
    let measured = json!({ "settings": settings.iter().map(|(p, ms)| json!({ "at": p, "ms": ms })).collect::<Vec<_>>() });
    let (status, summary) = if bad.is_empty() {
        (
            CheckStatus::Pass,
            format!(
                "Slow queries are logged from {} ms",
                settings.iter().map(|s| s.1).max().unwrap_or(0)
            ),
        )
    } else {
        (
            CheckStatus::Fail,
            format!(
                "{} slow-query setting(s) are off or above 200 ms",
                bad.len()
            ),
        )
    };
    SLOW_QUERY_LOG
        .result(status, summary)
        .with_evidence(evidence)
        .with_measured(measured)
}

pub(crate) fn check_db_backups(ctx: &Context) -> CheckResult {
    // (where, status, what was seen)
    let mut dbs: Vec<(String, CheckStatus, String)> = Vec::new();
    for path in tf_files(ctx) {
        let Some(text) = ctx.tree.read(path) else {
            continue;
        };
        for kind in ["aws_db_instance", "aws_rds_cluster"] {
            for block in tf_blocks(&text, kind) {
                // Read replicas take their backups from the source.
                if block.body.contains("replicate_source_db") {
                    continue;
                }
                let days = block
                    .body
                    .find("backup_retention_period")
                    .and_then(|at| number_after(block.body, at, 60))
                    .map(|(n, _)| n);
                let place = format!("{path}:{} {kind}.{}", block.line, block.name);
                dbs.push(match days {
                    Some(0) => (
                        place,
                        CheckStatus::Fail,
                        "backup_retention_period = 0: no automatic backups".to_owned(),
                    ),
                    Some(d) if d < 7 => (
                        place,
                        CheckStatus::Warn,
                        format!("backup_retention_period = {d} days"),
                    ),
                    Some(d) => (
                        place,
                        CheckStatus::Pass,
                        format!("backup_retention_period = {d} days"),
                    ),
                    None => (
                        place,
                        CheckStatus::Warn,
                        "backup_retention_period not set: the provider default (1 day) applies"
                            .to_owned(),
                    ),
                });
            }
        }
        for block in tf_blocks(&text, "google_sql_database_instance") {
            let place = format!(
                "{path}:{} google_sql_database_instance.{}",
                block.line, block.name
            );
            let enabled = block.body.contains("backup_configuration")
                && block
                    .body
                    .split("backup_configuration")
                    .nth(1)
                    .is_some_and(|rest| {
                        rest.chars()
                            .take(300)
                            .collect::<String>()
                            .replace(' ', "")
                            .contains("enabled=true")
                    });
            dbs.push(if enabled {
                (
                    place,
                    CheckStatus::Pass,
                    "backup_configuration enabled".to_owned(),
                )
            } else {
                (
                    place,
                    CheckStatus::Fail,
                    "no enabled backup_configuration".to_owned(),
                )
            });
        }
    }
    for file in &ctx.iac {
        let Some(text) = ctx.tree.read(&file.path) else {
            continue;
        };
        if file.tool == "CloudFormation" {
            for (at, _) in text.match_indices("AWS::RDS::DB") {
                let place = format!("{}:{} AWS::RDS resource", file.path, line_of(&text, at));
                let window: String = text[at..].chars().take(3000).collect();
                let days = window
                    .find("BackupRetentionPeriod")
                    .and_then(|i| number_after(&window, i, 40))
                    .map(|(n, _)| n);
                dbs.push(match days {
                    Some(0) => (
                        place,
                        CheckStatus::Fail,
                        "BackupRetentionPeriod 0".to_owned(),
                    ),
                    Some(d) if d < 7 => (
                        place,
                        CheckStatus::Warn,
                        format!("BackupRetentionPeriod {d} days"),
                    ),
                    Some(d) => (
                        place,
                        CheckStatus::Pass,
                        format!("BackupRetentionPeriod {d} days"),
                    ),
                    None => (
                        place,
                        CheckStatus::Warn,
                        "BackupRetentionPeriod not set (1 day default)".to_owned(),
                    ),
                });
            }
        }
        if file.tool == "Kubernetes"
            && text.contains("postgresql.cnpg.io")
            && text.contains("kind: Cluster")
        {
            let at = text.find("kind: Cluster").unwrap_or(0);
            let place = format!("{}:{} CloudNativePG cluster", file.path, line_of(&text, at));
            dbs.push(if text.contains("backup:") {
                (
                    place,
                    CheckStatus::Pass,
                    "backup section present".to_owned(),
                )
            } else {
                (place, CheckStatus::Fail, "no backup section".to_owned())
            });
        }
    }
    if dbs.is_empty() {
        let other = iac_markers(ctx, DATABASE_MARKERS);
        if other.is_empty() {
            return CheckResult::could_not_run(
                &DB_BACKUPS,
                "no database is defined in infrastructure code",
            );
        }
        let evidence = other
            .iter()
            .map(|(f, l, m)| {
                format!(
                    "{f}:{l} {} (backup settings not readable)",
                    m.trim_matches('"')
                )
            })
            .collect();
        return DB_BACKUPS
            .result(
                CheckStatus::Warn,
                "A database is defined in code, but no backup setting could be read for it",
            )
            .with_evidence(evidence);
    }
    let worst = if dbs.iter().any(|d| d.1 == CheckStatus::Fail) {
        CheckStatus::Fail
    } else if dbs.iter().any(|d| d.1 == CheckStatus::Warn) {
        CheckStatus::Warn
    } else {
        CheckStatus::Pass
    };
    let ok = dbs.iter().filter(|d| d.1 == CheckStatus::Pass).count();
    let summary = format!(
        "{ok} of {} database(s) in code keep backups for 7 days or more (a restore drill is not visible in code)",
        dbs.len()
    );
    let evidence = dbs
        .iter()
        .map(|(place, _, what)| format!("{place}: {what}"))
        .collect();
    DB_BACKUPS
        .result(worst, summary)
        .with_evidence(evidence)
        .with_measured(json!({ "databases": dbs.len(), "with_backups": ok }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terraform_blocks_and_numbers() {
        let text = r#"
resource "aws_sqs_queue" "jobs" {
  name = "jobs"
  redrive_policy = jsonencode({ deadLetterTargetArn = aws_sqs_queue.jobs_dlq.arn, maxReceiveCount = 5 })
}
resource "aws_sqs_queue" "jobs_dlq" { name = "x{y}" }
"#;
        let blocks = tf_blocks(text, "aws_sqs_queue");
        assert_eq!(blocks.len(), 2);
        assert_eq!(blocks[0].name, "jobs");
        assert_eq!(blocks[0].line, 2);
        assert!(blocks[0].body.contains("maxReceiveCount"));
        assert_eq!(blocks[1].body.trim(), "name = \"x{y}\"");
        let at = text.find("maxReceiveCount").unwrap_or(0);
        assert_eq!(number_after(text, at, 40), Some((5, String::new())));
        let param = "parameter {\n  name  = \"log_min_duration_statement\"\n  value = \"250\"\n}";
        let at = param.find("log_min_duration_statement").unwrap_or(0) + 26;
        assert_eq!(number_after(param, at, 120), Some((250, String::new())));
        assert_eq!(number_after("=-1 ", 0, 10), Some((-1, String::new())));
        assert_eq!(number_after("=1s\n", 0, 10), Some((1, "s".to_owned())));
    }
}
