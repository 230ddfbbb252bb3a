//! The four log checks, each with its threshold and the practice it follows, built from what
//! the files yielded. Thresholds are ours unless a tool is named; the `source` says so.
use serde_json::{json, Value};

use super::access::EndpointSummary;
use super::slow_queries::StatementSummary;
use super::{FileReport, LogFormat, Tables};
use crate::findings::Severity;
use crate::probes::model::{CheckArea, CheckResult, CheckSpec, CheckStatus, ProbeOutput};

pub const LATENCY_PERCENTILES: CheckSpec = CheckSpec {
    id: "logs.latency-percentiles",
    area: CheckArea::Observability,
    title: "Endpoint latency (p50 / p95 / p99) from the access logs",
    severity: Severity::High,
    threshold: "fail: any endpoint with n ≥ 100 timed requests has p99 > 1000 ms; \
                warn: p99 > 500 ms (n ≥ 100) or p95 > 200 ms (n ≥ 20). \
                p99 is shown only when n ≥ 100, always with n",
    source: "Ours: p95 < 200 ms is the seeds' API latency budget (004 performance checklist); \
             the p99 limits are ours; per-endpoint latency is a Google SRE golden signal; \
             p99 only with n ≥ 100 per reference §4",
};

pub const ERROR_RATE: CheckSpec = CheckSpec {
    id: "logs.error-rate",
    area: CheckArea::Observability,
    title: "Share of 5xx responses in the access logs",
    severity: Severity::High,
    threshold: "fail: 5xx > 1 % of all requests, or > 5 % on any endpoint with n ≥ 100; \
                warn: 5xx > 0.1 % of all requests. 4xx are counted, not judged",
    source: "Ours, anchored to Google SRE error budgets (a 99.9 % availability objective \
             allows 0.1 % errors) and the golden signal 'errors'",
};

pub const SLOW_STATEMENTS: CheckSpec = CheckSpec {
    id: "logs.slow-statements",
    area: CheckArea::Database,
    title: "Slowest statements in the PostgreSQL slow-query log",
    severity: Severity::Medium,
    threshold: "fail: any statement's mean duration > 1000 ms; warn: any mean > 200 ms. \
                Statements grouped with their literals replaced by $n",
    source: "Ours: 200 ms matches our slow-query-log rule (seed 000); PgHero's slow_query_ms \
             of 20 ms applies to pg_stat_statements, not to a slow log. Grouping as \
             pg_stat_statements normalises",
};

pub const MALFORMED_LINES: CheckSpec = CheckSpec {
    id: "logs.malformed-lines",
    area: CheckArea::Observability,
    title: "Log lines that could not be read",
    severity: Severity::Low,
    threshold: "warn: any file with 1 % or more malformed lines, in an unrecognised format, \
                or not read to its end (decompressed-size cap, corrupt gzip)",
    source: "Ours",
};

/// Every log check, in the order they are reported.
pub const CHECKS: [CheckSpec; 4] = [
    LATENCY_PERCENTILES,
    ERROR_RATE,
    SLOW_STATEMENTS,
    MALFORMED_LINES,
];

const FAIL_P99_US: u32 = 1_000_000;
const WARN_P99_US: u32 = 500_000;
const WARN_P95_US: u32 = 200_000;
/// Below this many samples a p99 is just one of the slowest few requests.
const MIN_N_P99: u64 = 100;
/// Below this many samples a p95 is the maximum; such endpoints are listed, not judged.
const MIN_N_P95: u64 = 20;

const FAIL_OVERALL_5XX: f64 = 0.01;
const WARN_OVERALL_5XX: f64 = 0.001;
const FAIL_ENDPOINT_5XX: f64 = 0.05;
const MIN_N_ENDPOINT_5XX: u64 = 100;

const FAIL_MEAN_MS: f64 = 1000.0;
const WARN_MEAN_MS: f64 = 200.0;

/// Rows in a check's measured table, evidence lines per check, rows in the raw record.
const TABLE_ROWS: usize = 50;
const EVIDENCE_ROWS: usize = 10;
const RAW_ENDPOINTS: usize = 200;
const RAW_STATEMENTS: usize = 100;
const RAW_FILES: usize = 200;

pub(crate) fn build(reports: &[FileReport], tables: &mut Tables, cancelled: bool) -> ProbeOutput {
    let endpoints = tables.endpoints.summaries();
    let statements = tables.statements.summaries();
    let has_access = reports.iter().any(|r| r.format.is_access());
    let has_pg = reports.iter().any(|r| r.format == LogFormat::Postgres);

    let mut checks = vec![
        latency_check(has_access, &endpoints),
        error_rate_check(has_access, tables, &endpoints),
        slow_statements_check(has_pg, &statements, tables.statements.capped()),
        malformed_check(reports),
    ];
    if cancelled {
        for check in checks
            .iter_mut()
            .filter(|c| c.status != CheckStatus::CouldNotRun)
        {
            check
                .summary
                .push_str(" (cancelled before every file was read)");
        }
    }

    let mut by_requests: Vec<&EndpointSummary> = endpoints.iter().collect();
    by_requests.sort_by_key(|e| std::cmp::Reverse(e.counts.requests));
    let raw = json!({
        "files_total": reports.len(),
        "files": reports.iter().take(RAW_FILES).map(file_json).collect::<Vec<_>>(),
        "cancelled": cancelled,
        "latency_measured": tables.endpoints.timed() > 0,
        "endpoints_total": tables.endpoints.len(),
        "endpoints_capped": tables.endpoints.capped(),
        "endpoints": by_requests.iter().take(RAW_ENDPOINTS).map(|e| endpoint_json(e)).collect::<Vec<_>>(),
        "statements_total": tables.statements.len(),
        "statements_capped": tables.statements.capped(),
        "statements": statements.iter().take(RAW_STATEMENTS).map(statement_json).collect::<Vec<_>>(),
        "units": "milliseconds; combined logs: $request_time / rt= in seconds; JSON: request_time \
                  and upstream_response_time in seconds, duration_ms/duration/latency/response_time \
                  in ms, duration_us in µs, duration_ns and event.duration in ns",
    });
    ProbeOutput { checks, raw }
}

// ---------------------------------------------------------------------------------------------
// logs.latency-percentiles

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Verdict {
    Ok,
    Warn,
    Fail,
}

fn latency_verdict(e: &EndpointSummary) -> (Verdict, &'static str) {
    let p99 = e.p99_us.unwrap_or(0);
    let p95 = e.p95_us.unwrap_or(0);
    if e.timed >= MIN_N_P99 && p99 > FAIL_P99_US {
        (Verdict::Fail, "p99 over 1000 ms")
    } else if e.timed >= MIN_N_P99 && p99 > WARN_P99_US {
        (Verdict::Warn, "p99 over 500 ms")
    } else if p95 > WARN_P95_US {
        (Verdict::Warn, "p95 over 200 ms")
    } else {
        (Verdict::Ok, "")
    }
}

fn latency_check(has_access: bool, endpoints: &[EndpointSummary]) -> CheckResult {
    let spec = &LATENCY_PERCENTILES;
    if !has_access {
        return CheckResult::could_not_run(
            spec,
            "no access log was uploaded (nginx/Apache combined or JSON lines)",
        );
    }
    let timed: u64 = endpoints.iter().map(|e| e.timed).sum();
    if timed == 0 {
        return CheckResult::could_not_run(
            spec,
            "the access logs have no latency field (nginx combined without $request_time, or \
             JSON lines without request_time/duration_ms/latency), so percentiles could not be \
             measured; request counts and error rates are in logs.error-rate. Adding \
             $request_time at the end of the nginx log_format makes them measurable",
        );
    }

    let mut table: Vec<&EndpointSummary> = endpoints.iter().filter(|e| e.timed > 0).collect();
    table.sort_by_key(|e| {
        std::cmp::Reverse(u64::from(e.p99_us.unwrap_or(0)).saturating_mul(e.timed))
    });
    let judged: Vec<&EndpointSummary> = endpoints
        .iter()
        .filter(|e| !e.is_aggregate() && e.timed >= MIN_N_P95)
        .collect();
    let not_judged = endpoints
        .iter()
        .filter(|e| !e.is_aggregate() && e.timed > 0 && e.timed < MIN_N_P95)
        .count();
    let measured = json!({
        "timed_requests": timed,
        "endpoints_timed": endpoints.iter().filter(|e| e.timed > 0).count(),
        "endpoints_judged": judged.len(),
        "endpoints": table.iter().take(TABLE_ROWS).map(|e| endpoint_json(e)).collect::<Vec<_>>(),
    });
    if judged.is_empty() {
        return CheckResult::could_not_run(
            spec,
            format!(
                "no endpoint has {MIN_N_P95} or more timed requests ({timed} timed requests in \
                 all), too few for a p95"
            ),
        )
        .with_measured(measured);
    }

    let mut offenders: Vec<(Verdict, &'static str, &EndpointSummary)> = judged
        .iter()
        .map(|e| {
            let (verdict, reason) = latency_verdict(e);
            (verdict, reason, *e)
        })
        .filter(|(v, _, _)| *v != Verdict::Ok)
        .collect();
    offenders.sort_by(|a, b| {
        b.0.cmp(&a.0)
            .then_with(|| b.2.p99_us.cmp(&a.2.p99_us))
            .then_with(|| a.2.key.cmp(&b.2.key))
    });
    let fails = offenders.iter().filter(|o| o.0 == Verdict::Fail).count();
    let worst = offenders.first().map(|(_, _, e)| latency_line(e));
    let note = if not_judged > 0 {
        format!(
            " ({} with fewer than {MIN_N_P95} timed requests not judged)",
            plural(not_judged as u64, "endpoint")
        )
    } else {
        String::new()
    };
    let (status, summary) = match (fails, worst) {
        (0, None) => (
            CheckStatus::Pass,
            format!(
                "{}, {}: every one within p95 ≤ 200 ms and p99 ≤ 500 ms{note}",
                plural(judged.len() as u64, "endpoint"),
                plural(timed, "timed request")
            ),
        ),
        (0, Some(worst)) => (
            CheckStatus::Warn,
            format!(
                "{} of {} endpoints over the latency budget (p95 > 200 ms or p99 > 500 ms); \
                 worst {worst}{note}",
                offenders.len(),
                judged.len()
            ),
        ),
        (_, worst) => (
            CheckStatus::Fail,
            format!(
                "{fails} of {} endpoints have p99 over 1000 ms; worst {}{note}",
                judged.len(),
                worst.unwrap_or_default()
            ),
        ),
    };
    let evidence = offenders
        .iter()
        .take(EVIDENCE_ROWS)
        .map(|(_, reason, e)| format!("{}: {reason}", latency_line(e)))
        .collect();
    spec.result(status, summary)
        .with_measured(measured)
        .with_evidence(evidence)
}

/// `GET /reports/{id}: p50 420 ms, p95 1320 ms, p99 1480 ms (n = 100)`.
fn latency_line(e: &EndpointSummary) -> String {
    let p99 = if e.timed >= MIN_N_P99 {
        format!("p99 {}", fmt_us(e.p99_us))
    } else {
        "p99 not shown (n < 100)".to_owned()
    };
    format!(
        "{}: p50 {}, p95 {}, {p99} (n = {})",
        clean(&e.key, 200),
        fmt_us(e.p50_us),
        fmt_us(e.p95_us),
        e.timed
    )
}

// ---------------------------------------------------------------------------------------------
// logs.error-rate

fn error_rate_check(
    has_access: bool,
    tables: &Tables,
    endpoints: &[EndpointSummary],
) -> CheckResult {
    let spec = &ERROR_RATE;
    if !has_access {
        return CheckResult::could_not_run(
            spec,
            "no access log was uploaded (nginx/Apache combined or JSON lines)",
        );
    }
    let totals = tables.endpoints.totals();
    if totals.requests == 0 {
        return CheckResult::could_not_run(spec, "the access logs hold no request lines");
    }
    let overall = share(totals.s5xx, totals.requests);
    let mut offenders: Vec<&EndpointSummary> = endpoints
        .iter()
        .filter(|e| {
            !e.is_aggregate()
                && e.counts.requests >= MIN_N_ENDPOINT_5XX
                && share(e.counts.s5xx, e.counts.requests) > FAIL_ENDPOINT_5XX
        })
        .collect();
    offenders.sort_by(|a, b| {
        share(b.counts.s5xx, b.counts.requests)
            .total_cmp(&share(a.counts.s5xx, a.counts.requests))
            .then_with(|| a.key.cmp(&b.key))
    });

    let mut table: Vec<&EndpointSummary> = endpoints.iter().collect();
    table.sort_by(|a, b| {
        b.counts
            .s5xx
            .cmp(&a.counts.s5xx)
            .then_with(|| b.counts.requests.cmp(&a.counts.requests))
    });
    let measured = json!({
        "requests": totals.requests,
        "status_5xx": totals.s5xx,
        "status_4xx": totals.s4xx,
        "share_5xx_percent": round3(overall * 100.0),
        "share_4xx_percent": round3(share(totals.s4xx, totals.requests) * 100.0),
        "latency_measured": tables.endpoints.timed() > 0,
        "endpoints": table.iter().take(TABLE_ROWS).map(|e| json!({
            "endpoint": clean(&e.key, 200),
            "requests": e.counts.requests,
            "status_5xx": e.counts.s5xx,
            "status_4xx": e.counts.s4xx,
            "share_5xx_percent": round3(share(e.counts.s5xx, e.counts.requests) * 100.0),
        })).collect::<Vec<_>>(),
    });

    let overall_line = format!(
        "{} of {} requests were 5xx ({}); {} were 4xx ({}, not judged)",
        totals.s5xx,
        totals.requests,
        fmt_share(overall),
        totals.s4xx,
        fmt_share(share(totals.s4xx, totals.requests))
    );
    let mut evidence = vec![format!("overall: {overall_line}")];
    evidence.extend(offenders.iter().take(EVIDENCE_ROWS).map(|e| {
        format!(
            "{}: {} of {} requests 5xx ({}, over 5 %)",
            clean(&e.key, 200),
            e.counts.s5xx,
            e.counts.requests,
            fmt_share(share(e.counts.s5xx, e.counts.requests))
        )
    }));

    let endpoint_note = match offenders.first() {
        Some(worst) => format!(
            "; {} over 5 % 5xx, worst {} ({})",
            plural(offenders.len() as u64, "endpoint"),
            clean(&worst.key, 200),
            fmt_share(share(worst.counts.s5xx, worst.counts.requests))
        ),
        None => String::new(),
    };
    let (status, summary) = if overall > FAIL_OVERALL_5XX || !offenders.is_empty() {
        (CheckStatus::Fail, format!("{overall_line}{endpoint_note}"))
    } else if overall > WARN_OVERALL_5XX {
        (
            CheckStatus::Warn,
            format!("{overall_line}: over the 0.1 % a 99.9 % objective allows"),
        )
    } else {
        (CheckStatus::Pass, overall_line)
    };
    spec.result(status, summary)
        .with_measured(measured)
        .with_evidence(evidence)
}

// ---------------------------------------------------------------------------------------------
// logs.slow-statements

fn slow_statements_check(
    has_pg: bool,
    statements: &[StatementSummary],
    capped: bool,
) -> CheckResult {
    let spec = &SLOW_STATEMENTS;
    if !has_pg {
        return CheckResult::could_not_run(spec, "no PostgreSQL slow-query log was uploaded");
    }
    if statements.is_empty() {
        return CheckResult::could_not_run(
            spec,
            "the PostgreSQL log holds no `duration: … ms  statement:` entries; is \
             log_min_duration_statement set (pg.slow-query-log checks it)?",
        );
    }
    let entries: u64 = statements.iter().map(|s| s.calls).sum();
    let measured = json!({
        "statements": statements.len(),
        "timed_entries": entries,
        "capped": capped,
        "top_by_total_time": statements.iter().take(TABLE_ROWS).map(statement_json).collect::<Vec<_>>(),
    });
    // Already sorted by total time, largest first: the order a consultant would work in.
    let offenders: Vec<&StatementSummary> = statements
        .iter()
        .filter(|s| !s.is_aggregate() && s.mean_ms > WARN_MEAN_MS)
        .collect();
    let fails = offenders
        .iter()
        .filter(|s| s.mean_ms > FAIL_MEAN_MS)
        .count();
    let evidence = offenders
        .iter()
        .take(EVIDENCE_ROWS)
        .map(|s| statement_line(s, 200))
        .collect();
    let (status, summary) = if fails > 0 {
        let worst = offenders
            .iter()
            .filter(|s| s.mean_ms > FAIL_MEAN_MS)
            .max_by(|a, b| a.mean_ms.total_cmp(&b.mean_ms));
        (
            CheckStatus::Fail,
            format!(
                "{fails} of {} statements average over 1000 ms; slowest {}",
                statements.len(),
                worst.map(|s| statement_line(s, 80)).unwrap_or_default()
            ),
        )
    } else if let Some(worst) = offenders
        .iter()
        .max_by(|a, b| a.mean_ms.total_cmp(&b.mean_ms))
    {
        (
            CheckStatus::Warn,
            format!(
                "{} of {} statements average over 200 ms; slowest {}",
                offenders.len(),
                statements.len(),
                statement_line(worst, 80)
            ),
        )
    } else {
        (
            CheckStatus::Pass,
            format!(
                "{} from {}: none averages over 200 ms",
                plural(statements.len() as u64, "statement"),
                plural(entries, "timed entry")
            ),
        )
    };
    spec.result(status, summary)
        .with_measured(measured)
        .with_evidence(evidence)
}

/// `mean 1565 ms, max 1611 ms, 2 calls, total 3131 ms: SELECT … WHERE customer_id = $1`.
fn statement_line(s: &StatementSummary, chars: usize) -> String {
    format!(
        "mean {}, max {}, {} calls, total {}: {}",
        fmt_ms(s.mean_ms),
        fmt_ms(s.max_ms),
        s.calls,
        fmt_ms(s.total_ms),
        clean(&s.text, chars)
    )
}

// ---------------------------------------------------------------------------------------------
// logs.malformed-lines

fn malformed_check(reports: &[FileReport]) -> CheckResult {
    let spec = &MALFORMED_LINES;
    if reports.is_empty() {
        return CheckResult::could_not_run(spec, "no log files were uploaded");
    }
    let lines: u64 = reports.iter().map(|r| r.lines).sum();
    let malformed: u64 = reports.iter().map(|r| r.malformed).sum();
    let ignored: u64 = reports.iter().map(|r| r.ignored).sum();
    let stopped = reports.iter().any(|r| r.stopped.is_some());
    if lines == 0 && !stopped {
        return CheckResult::could_not_run(spec, "the uploaded files hold no lines");
    }
    let flagged = reports.iter().filter(|r| file_flagged(r)).count();
    let measured = json!({
        "files": reports.len(),
        "lines": lines,
        "malformed": malformed,
        "ignored": ignored,
        "malformed_percent": round3(share(malformed, lines) * 100.0),
    });
    let mut evidence: Vec<String> = reports.iter().take(TABLE_ROWS).map(file_line).collect();
    if reports.len() > TABLE_ROWS {
        evidence.push(format!("… and {} more files", reports.len() - TABLE_ROWS));
    }
    let totals = format!(
        "{malformed} of {lines} lines malformed ({})",
        fmt_share(share(malformed, lines))
    );
    let (status, summary) = if flagged > 0 {
        (
            CheckStatus::Warn,
            format!(
                "{flagged} of {} files have 1 % or more malformed lines or were not read in \
                 full; {totals}",
                reports.len()
            ),
        )
    } else {
        (
            CheckStatus::Pass,
            format!("{} read: {totals}", plural(reports.len() as u64, "file")),
        )
    };
    spec.result(status, summary)
        .with_measured(measured)
        .with_evidence(evidence)
}

fn file_flagged(r: &FileReport) -> bool {
    let mostly_bad =
        r.lines > 0 && (r.format == LogFormat::Unknown || r.malformed * 100 >= r.lines);
    mostly_bad || r.stopped.is_some()
}

/// `access.log.gz (combined access log, gzip): 431 lines, 2 malformed (0.46 %), e.g. lines 17, 90`.
fn file_line(r: &FileReport) -> String {
    let mut line = format!(
        "{} ({}{}): {} lines, {} malformed ({})",
        r.name,
        r.format.label(),
        if r.gzip { ", gzip" } else { "" },
        r.lines,
        r.malformed,
        fmt_share(share(r.malformed, r.lines))
    );
    if !r.malformed_examples.is_empty() {
        let numbers: Vec<String> = r.malformed_examples.iter().map(u64::to_string).collect();
        line.push_str(&format!(", e.g. lines {}", numbers.join(", ")));
    }
    if r.ignored > 0 {
        line.push_str(&format!("; {} other entries skipped", r.ignored));
    }
    if let Some(stopped) = &r.stopped {
        line.push_str(&format!("; {}", clean(stopped, 200)));
    }
    for note in &r.notes {
        line.push_str(&format!("; {note}"));
    }
    line
}

// ---------------------------------------------------------------------------------------------
// JSON rows and formatting

fn file_json(r: &FileReport) -> Value {
    json!({
        "name": r.name,
        "format": r.format.as_str(),
        "gzip": r.gzip,
        "lines": r.lines,
        "records": r.records,
        "timed": r.timed,
        "ignored": r.ignored,
        "malformed": r.malformed,
        "malformed_examples": r.malformed_examples,
        "stopped": r.stopped,
        "cancelled": r.cancelled,
        "notes": r.notes,
    })
}

fn endpoint_json(e: &EndpointSummary) -> Value {
    json!({
        "endpoint": clean(&e.key, 200),
        "requests": e.counts.requests,
        "status_4xx": e.counts.s4xx,
        "status_5xx": e.counts.s5xx,
        "n": e.timed,
        "p50_ms": e.p50_us.map(us_to_ms),
        "p95_ms": e.p95_us.map(us_to_ms),
        // Reference §4: p99 only when n ≥ 100.
        "p99_ms": e.p99_us.filter(|_| e.timed >= MIN_N_P99).map(us_to_ms),
        "max_ms": e.max_us.map(us_to_ms),
    })
}

fn statement_json(s: &StatementSummary) -> Value {
    json!({
        "statement": clean(&s.text, 500),
        "calls": s.calls,
        "total_ms": round3(s.total_ms),
        "mean_ms": round3(s.mean_ms),
        "max_ms": round3(s.max_ms),
        "first_seen": s.first_seen,
    })
}

/// `1 endpoint`, `2 endpoints`, `3 timed entries`.
fn plural(n: u64, singular: &str) -> String {
    if n == 1 {
        format!("1 {singular}")
    } else if let Some(stem) = singular.strip_suffix('y') {
        format!("{n} {stem}ies")
    } else {
        format!("{n} {singular}s")
    }
}

fn share(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 / whole as f64
    }
}

fn fmt_share(share: f64) -> String {
    format!("{:.2} %", share * 100.0)
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

fn us_to_ms(us: u32) -> f64 {
    round3(f64::from(us) / 1000.0)
}

fn fmt_us(us: Option<u32>) -> String {
    match us {
        Some(us) => fmt_ms(f64::from(us) / 1000.0),
        None => "—".to_owned(),
    }
}

/// Whole milliseconds from 10 ms up, one decimal below.
fn fmt_ms(ms: f64) -> String {
    if ms >= 10.0 {
        format!("{ms:.0} ms")
    } else {
        format!("{ms:.1} ms")
    }
}

/// Text from a log made safe to show: control characters (newlines, escape sequences) become
/// `?`, and at most `max_chars` characters are kept.
pub(crate) fn clean(text: &str, max_chars: usize) -> String {
    let mut out = String::with_capacity(text.len().min(max_chars * 4));
    for (i, c) in text.chars().enumerate() {
        if i >= max_chars {
            out.push('…');
            break;
        }
        out.push(if c.is_control() { '?' } else { c });
    }
    out
}
