//! The log-import probe against committed fixtures (see `fixtures/logs/make_fixtures.py` for
//! what each one plants): every planted problem is found with the status it deserves, nothing
//! the fixture does not contain is flagged, and no bytes at all make it panic.
#![allow(clippy::unwrap_used)]

use std::io::Write;

use audit::probes::logs::{self, LogFile, LogLimits};
use audit::probes::progress::Progress;
use audit::probes::{CheckResult, CheckStatus, ProbeOutput};
use proptest::prelude::*;
use serde_json::Value;

const LATENCY: &str = "logs.latency-percentiles";
const ERRORS: &str = "logs.error-rate";
const SLOW: &str = "logs.slow-statements";
const MALFORMED: &str = "logs.malformed-lines";

fn fixture(name: &str) -> LogFile {
    let path = format!("{}/tests/fixtures/logs/{name}", env!("CARGO_MANIFEST_DIR"));
    LogFile {
        name: name.to_owned(),
        bytes: std::fs::read(&path).unwrap(),
    }
}

fn inline(name: &str, text: &str) -> LogFile {
    LogFile {
        name: name.to_owned(),
        bytes: text.as_bytes().to_vec(),
    }
}

fn run(files: &[LogFile]) -> ProbeOutput {
    logs::run(files, &Progress::new())
}

fn check<'a>(output: &'a ProbeOutput, id: &str) -> &'a CheckResult {
    output
        .checks
        .iter()
        .find(|c| c.id == id)
        .unwrap_or_else(|| panic!("no check {id}"))
}

fn statuses(output: &ProbeOutput) -> Vec<(&str, CheckStatus)> {
    output
        .checks
        .iter()
        .map(|c| (c.id.as_str(), c.status))
        .collect()
}

fn evidence_mentions(check: &CheckResult, text: &str) -> bool {
    check.evidence.iter().any(|e| e.contains(text))
}

/// The row of an endpoint in the raw endpoint table.
fn endpoint<'a>(output: &'a ProbeOutput, key: &str) -> &'a Value {
    output.raw["endpoints"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["endpoint"] == key)
        .unwrap_or_else(|| panic!("no endpoint {key} in {}", output.raw["endpoints"]))
}

#[test]
fn every_check_has_its_fixed_id_threshold_and_source() {
    let ids: Vec<&str> = logs::CHECKS.iter().map(|c| c.id).collect();
    assert_eq!(ids, [LATENCY, ERRORS, SLOW, MALFORMED]);
    for spec in logs::CHECKS {
        assert!(
            !spec.threshold.is_empty() && !spec.source.is_empty(),
            "{}",
            spec.id
        );
    }
}

#[test]
fn nginx_combined_log_finds_the_slow_and_the_failing_endpoint() {
    let output = run(&[fixture("access_combined.log")]);
    assert_eq!(
        statuses(&output),
        [
            (LATENCY, CheckStatus::Fail),
            (ERRORS, CheckStatus::Fail),
            (SLOW, CheckStatus::CouldNotRun),
            (MALFORMED, CheckStatus::Pass),
        ]
    );

    // Folding: ids, uuids and tokens; query strings dropped; method kept.
    let keys: Vec<&str> = output.raw["endpoints"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["endpoint"].as_str().unwrap())
        .collect();
    let mut sorted = keys.clone();
    sorted.sort_unstable();
    assert_eq!(
        sorted,
        [
            "GET /files/{token}",
            "GET /orders/{uuid}",
            "GET /reports/{id}/export",
            "GET /users/{id}",
            "POST /checkout",
        ]
    );
    assert_eq!(endpoint(&output, "GET /users/{id}")["requests"], 150);
    assert_eq!(endpoint(&output, "GET /users/{id}")["status_4xx"], 5);
    assert_eq!(endpoint(&output, "GET /orders/{uuid}")["n"], 120);

    // The slow endpoint, and only it.
    let latency = check(&output, LATENCY);
    assert_eq!(latency.evidence.len(), 1, "{:?}", latency.evidence);
    assert!(evidence_mentions(latency, "GET /reports/{id}/export"));
    assert!(evidence_mentions(latency, "p99 over 1000 ms"));
    assert!(evidence_mentions(latency, "(n = 100)"));
    let reports = endpoint(&output, "GET /reports/{id}/export");
    assert!(reports["p99_ms"].as_f64().unwrap() > 1000.0);
    assert!(reports["p50_ms"].as_f64().unwrap() < 1000.0);
    // p99 only when n ≥ 100: ten file downloads have p50/p95 but no p99.
    let files = endpoint(&output, "GET /files/{token}");
    assert_eq!(files["n"], 10);
    assert!(files["p95_ms"].is_number());
    assert!(files["p99_ms"].is_null());
    assert_eq!(latency.measured["endpoints_judged"], 4);

    // 12 of 480 requests were 503, all on the checkout.
    let errors = check(&output, ERRORS);
    assert_eq!(errors.measured["requests"], 480);
    assert_eq!(errors.measured["status_5xx"], 12);
    assert_eq!(errors.measured["status_4xx"], 5);
    assert_eq!(errors.evidence.len(), 2, "{:?}", errors.evidence);
    assert!(errors.evidence[0].starts_with("overall: 12 of 480 requests were 5xx (2.50 %)"));
    assert!(errors.evidence[1].starts_with("POST /checkout: 12 of 100 requests 5xx (12.00 %"));

    // Two planted malformed lines: counted, below 1 %, line numbers given.
    let malformed = check(&output, MALFORMED);
    assert_eq!(malformed.measured["malformed"], 2);
    assert_eq!(malformed.measured["lines"], 482);
    assert!(evidence_mentions(malformed, "e.g. lines 18, 301"));
    assert_eq!(output.raw["files"][0]["format"], "combined");
    assert_eq!(
        output.raw["files"][0]["malformed_examples"],
        serde_json::json!([18, 301])
    );
}

#[test]
fn a_gzipped_copy_gives_the_same_checks() {
    let plain = run(&[fixture("access_combined.log")]);
    let gzipped = run(&[fixture("access_combined.log.gz")]);
    assert_eq!(statuses(&plain), statuses(&gzipped));
    for id in [LATENCY, ERRORS] {
        assert_eq!(check(&plain, id).summary, check(&gzipped, id).summary);
        assert_eq!(check(&plain, id).measured, check(&gzipped, id).measured);
    }
    assert_eq!(gzipped.raw["files"][0]["gzip"], true);

    // Recognised by its magic bytes, whatever the name.
    let mut renamed = fixture("access_combined.log.gz");
    renamed.name = "upload.bin".to_owned();
    assert_eq!(statuses(&run(&[renamed])), statuses(&plain));
}

#[test]
fn a_gzip_over_the_decompressed_size_cap_stops_and_says_so() {
    let limits = LogLimits {
        max_decompressed_bytes: 8 * 1024,
        ..LogLimits::default()
    };
    let output = logs::run_with_limits(
        &[fixture("access_combined.log.gz")],
        &Progress::new(),
        &limits,
    );
    let malformed = check(&output, MALFORMED);
    assert_eq!(malformed.status, CheckStatus::Warn);
    assert!(
        evidence_mentions(malformed, "decompressed size limit of 8 KiB"),
        "{:?}",
        malformed.evidence
    );
    let lines = output.raw["files"][0]["lines"].as_u64().unwrap();
    assert!(lines > 50 && lines < 130, "{lines}");
    assert!(output.raw["files"][0]["stopped"].is_string());
}

#[test]
fn the_decompressed_size_cap_is_shared_by_all_files_of_a_run() {
    let one = fixture("access_combined.log").bytes.len() as u64;
    let limits = LogLimits {
        max_decompressed_bytes: one + one / 2,
        ..LogLimits::default()
    };
    let gz = fixture("access_combined.log.gz");
    let output = logs::run_with_limits(&[gz.clone(), gz], &Progress::new(), &limits);
    let files = output.raw["files"].as_array().unwrap();
    assert!(files[0]["stopped"].is_null());
    assert_eq!(files[0]["lines"], 482);
    assert!(files[1]["stopped"].is_string());
    assert!(files[1]["lines"].as_u64().unwrap() < 482);
}

#[test]
fn a_corrupt_gzip_is_reported_not_fatal() {
    let mut bytes = fixture("access_combined.log.gz").bytes;
    let middle = bytes.len() / 2;
    for b in &mut bytes[middle..middle + 64] {
        *b ^= 0x5a;
    }
    let output = run(&[LogFile {
        name: "broken.log.gz".to_owned(),
        bytes,
    }]);
    assert_eq!(check(&output, MALFORMED).status, CheckStatus::Warn);
    assert!(output.raw["files"][0]["stopped"].is_string());
}

#[test]
fn json_lines_log_warns_on_p95_and_on_the_overall_error_rate() {
    let output = run(&[fixture("access.jsonl")]);
    assert_eq!(
        statuses(&output),
        [
            (LATENCY, CheckStatus::Warn),
            (ERRORS, CheckStatus::Warn),
            (SLOW, CheckStatus::CouldNotRun),
            (MALFORMED, CheckStatus::Pass),
        ]
    );
    let latency = check(&output, LATENCY);
    assert_eq!(latency.evidence.len(), 1, "{:?}", latency.evidence);
    assert!(evidence_mentions(latency, "GET /api/items/{id}"));
    assert!(evidence_mentions(latency, "p95 over 200 ms"));
    let items = endpoint(&output, "GET /api/items/{id}");
    let p95 = items["p95_ms"].as_f64().unwrap();
    assert!((250.0..=300.0).contains(&p95), "{p95}");
    assert!(items["p99_ms"].as_f64().unwrap() < 500.0);

    let errors = check(&output, ERRORS);
    assert_eq!(errors.measured["requests"], 450);
    assert_eq!(errors.measured["status_5xx"], 1);
    assert_eq!(errors.measured["status_4xx"], 10);
    // Only the overall line: no endpoint is over 5 %.
    assert_eq!(errors.evidence.len(), 1, "{:?}", errors.evidence);

    // Application log lines are skipped, not malformed.
    assert_eq!(output.raw["files"][0]["format"], "json-lines");
    assert_eq!(output.raw["files"][0]["malformed"], 0);
    assert_eq!(output.raw["files"][0]["ignored"], 5);
}

#[test]
fn json_keys_vary_between_loggers() {
    // nginx `escape=json` (strings, seconds), OTel-style nested keys, a Go duration string.
    let text = [
        r#"{"request_method":"GET","request_uri":"/a/1?x=2","status":"200","request_time":"0.012"}"#,
        r#"{"http":{"method":"GET","target":"/a/2","status_code":200},"duration":"15ms"}"#,
        r#"{"http.method":"GET","http.url":"https://api.example.com/a/3","http.status_code":502,"latency":"1.2s"}"#,
    ]
    .join("\n");
    let output = run(&[inline("mixed.json", &text)]);
    let row = endpoint(&output, "GET /a/{id}");
    assert_eq!(row["requests"], 3);
    assert_eq!(row["n"], 3);
    assert_eq!(row["status_5xx"], 1);
    assert_eq!(row["p50_ms"], 15.0);
    assert_eq!(row["max_ms"], 1200.0);
    // Three timed requests cannot be judged.
    assert_eq!(check(&output, LATENCY).status, CheckStatus::CouldNotRun);
}

#[test]
fn combined_log_without_request_time_reports_errors_but_not_percentiles() {
    let mut text = String::new();
    for i in 0..200 {
        let status = if i % 50 == 0 { 500 } else { 200 };
        text.push_str(&format!(
            "10.0.0.{} - - [02/May/2024:10:00:00 +0000] \"GET /users/{i} HTTP/1.1\" {status} 12 \"-\" \"curl/8\"\n",
            i % 200
        ));
    }
    let output = run(&[inline("access.log", &text)]);
    let latency = check(&output, LATENCY);
    assert_eq!(latency.status, CheckStatus::CouldNotRun);
    assert!(latency.why.as_deref().unwrap().contains("$request_time"));
    let errors = check(&output, ERRORS);
    // 4 of 200 = 2 %: over 1 % overall.
    assert_eq!(errors.status, CheckStatus::Fail);
    assert_eq!(errors.measured["status_5xx"], 4);
    assert_eq!(output.raw["latency_measured"], false);
}

#[test]
fn the_rt_variant_and_healthy_traffic_pass() {
    let mut text = String::new();
    for i in 0..150 {
        text.push_str(&format!(
            "10.0.0.1 - - [02/May/2024:10:00:00 +0000] \"GET /health HTTP/1.1\" 200 2 \"-\" \"kube-probe\" rt=0.00{} uct=\"0.000\" urt=\"0.001\"\n",
            i % 10
        ));
    }
    let output = run(&[inline("access.log", &text)]);
    assert_eq!(
        statuses(&output),
        [
            (LATENCY, CheckStatus::Pass),
            (ERRORS, CheckStatus::Pass),
            (SLOW, CheckStatus::CouldNotRun),
            (MALFORMED, CheckStatus::Pass),
        ]
    );
    assert!(check(&output, LATENCY).evidence.is_empty());
    assert_eq!(endpoint(&output, "GET /health")["max_ms"], 9.0);
}

#[test]
fn postgres_slow_log_groups_literals_and_finds_the_slow_statement() {
    let output = run(&[fixture("postgresql-slow.log")]);
    assert_eq!(
        statuses(&output),
        [
            (LATENCY, CheckStatus::CouldNotRun),
            (ERRORS, CheckStatus::CouldNotRun),
            (SLOW, CheckStatus::Fail),
            (MALFORMED, CheckStatus::Pass),
        ]
    );
    let slow = check(&output, SLOW);
    let rows = slow.measured["top_by_total_time"].as_array().unwrap();
    let texts: Vec<&str> = rows
        .iter()
        .map(|r| r["statement"].as_str().unwrap())
        .collect();
    assert_eq!(
        texts,
        [
            "SELECT o.id, o.total FROM orders o WHERE o.customer_id = $1 AND o.status = $2 ORDER BY o.created_at DESC",
            "UPDATE carts SET updated_at = now() WHERE id = $1",
            "SELECT * FROM products WHERE id IN ($1 /*, ... */)",
            "SELECT count(*) FROM sessions WHERE expires_at < now()",
        ]
    );
    // The two orders statements (different literals, a comment, multi-line) are one row.
    assert_eq!(rows[0]["calls"], 2);
    assert_eq!(rows[0]["max_ms"], 1610.9);
    assert!((rows[0]["mean_ms"].as_f64().unwrap() - 1565.5065).abs() < 0.01);
    assert_eq!(rows[1]["calls"], 2);
    assert_eq!(rows[2]["calls"], 2);
    assert_eq!(slow.measured["timed_entries"], 8);

    // Flagged: orders (fail), carts and products (over 200 ms); sessions (107 ms) is not.
    assert_eq!(slow.evidence.len(), 3, "{:?}", slow.evidence);
    assert!(slow.evidence[0].contains("FROM orders"));
    assert!(slow.evidence[0].starts_with("mean 1566 ms, max 1611 ms, 2 calls"));
    assert!(!evidence_mentions(slow, "sessions"));
    assert!(slow
        .summary
        .starts_with("1 of 4 statements average over 1000 ms"));
    // The e-mail in the error's DETAIL and STATEMENT never reaches the report.
    assert!(!output.raw.to_string().contains("someone@example.com"));

    let file = &output.raw["files"][0];
    assert_eq!(file["format"], "postgresql");
    assert_eq!(file["malformed"], 0);
    assert_eq!(file["records"], 8);
}

#[test]
fn binary_garbage_is_counted_malformed_without_panicking() {
    let output = run(&[fixture("garbage.bin")]);
    assert_eq!(
        statuses(&output),
        [
            (LATENCY, CheckStatus::CouldNotRun),
            (ERRORS, CheckStatus::CouldNotRun),
            (SLOW, CheckStatus::CouldNotRun),
            (MALFORMED, CheckStatus::Warn),
        ]
    );
    let file = &output.raw["files"][0];
    assert_eq!(file["format"], "unknown");
    assert!(file["lines"].as_u64().unwrap() > 0);
    assert_eq!(file["lines"], file["malformed"]);
    assert_eq!(file["malformed_examples"].as_array().unwrap().len(), 5);
}

#[test]
fn a_garbage_file_beside_good_ones_is_flagged_alone() {
    let output = run(&[
        fixture("access_combined.log"),
        fixture("garbage.bin"),
        fixture("postgresql-slow.log"),
    ]);
    let malformed = check(&output, MALFORMED);
    assert_eq!(malformed.status, CheckStatus::Warn);
    assert!(
        malformed.summary.starts_with("1 of 3 files"),
        "{}",
        malformed.summary
    );
    assert_eq!(check(&output, LATENCY).status, CheckStatus::Fail);
    assert_eq!(check(&output, SLOW).status, CheckStatus::Fail);
}

#[test]
fn no_uploads_means_every_check_could_not_run() {
    let output = run(&[]);
    assert_eq!(output.checks.len(), 4);
    for c in &output.checks {
        assert_eq!(c.status, CheckStatus::CouldNotRun, "{}", c.id);
        assert!(c.why.is_some());
    }
    // An empty file is no better.
    let output = run(&[inline("empty.log", "\n\n")]);
    assert!(output
        .checks
        .iter()
        .all(|c| c.status == CheckStatus::CouldNotRun));
}

#[test]
fn endpoints_are_capped_so_a_hostile_file_cannot_grow_the_table() {
    let mut text = String::new();
    for i in 0..50 {
        text.push_str(&format!(
            "1.2.3.4 - - [02/May/2024:10:00:00 +0000] \"GET /page-{i}-x HTTP/1.1\" 404 0 \"-\" \"scanner\" 0.001\n"
        ));
    }
    let limits = LogLimits {
        max_endpoints: 10,
        ..LogLimits::default()
    };
    let output = logs::run_with_limits(&[inline("scan.log", &text)], &Progress::new(), &limits);
    assert_eq!(output.raw["endpoints_total"], 11);
    assert_eq!(output.raw["endpoints_capped"], true);
    assert_eq!(endpoint(&output, "(other endpoints)")["requests"], 40);
}

#[test]
fn progress_counts_files_and_cancel_stops_between_them() {
    let progress = Progress::new();
    let files = [fixture("postgresql-slow.log"), fixture("access.jsonl")];
    let _ = logs::run(&files, &progress);
    let (done, total, label) = progress.snapshot();
    assert_eq!((done, total), (2, 2));
    assert_eq!(label, "access.jsonl");

    let progress = Progress::new();
    progress.cancel();
    let output = logs::run(&files, &progress);
    assert_eq!(output.raw["cancelled"], true);
    assert_eq!(output.raw["files_total"], 0);
    assert_eq!(progress.snapshot().0, 0);
}

#[test]
fn huge_lines_and_crlf_are_handled() {
    let good =
        "10.0.0.1 - - [02/May/2024:10:00:00 +0000] \"GET /a HTTP/1.1\" 200 1 \"-\" \"x\" 0.010";
    let mut text = String::new();
    for _ in 0..120 {
        text.push_str(good);
        text.push_str("\r\n");
    }
    // One request line of 1 MiB: cut, counted malformed, nothing else affected.
    text.push_str(&format!(
        "10.0.0.1 - - [02/May/2024:10:00:00 +0000] \"GET /{} HTTP/1.1\" 200 1 \"-\" \"x\" 0.010\n",
        "a".repeat(1 << 20)
    ));
    let output = run(&[inline("big.log", &text)]);
    let file = &output.raw["files"][0];
    assert_eq!(file["lines"], 121);
    assert_eq!(file["malformed"], 1);
    assert_eq!(endpoint(&output, "GET /a")["requests"], 120);
    assert_eq!(check(&output, MALFORMED).status, CheckStatus::Pass);
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2_encoder();
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

fn flate2_encoder() -> flate2::write::GzEncoder<Vec<u8>> {
    flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast())
}

/// Starts that steer arbitrary bytes into each parser.
const PREFIXES: [&[u8]; 6] = [
    b"",
    b"10.0.0.1 - - [02/May/2024:10:00:00 +0000] \"GET /a HTTP/1.1\" 200 1 \"-\" \"x\" 0.010\n",
    b"{\"method\":\"GET\",\"path\":\"/a\",\"status\":200,\"duration_ms\":1}\n",
    b"x LOG:  duration: 1.0 ms  statement: SELECT '",
    b"x LOG:  duration: 1.0 ms  statement: SELECT $tag$",
    b"\x1f\x8b",
];

proptest! {
    #[test]
    fn run_never_panics_on_arbitrary_bytes(
        prefix in 0..PREFIXES.len(),
        body in proptest::collection::vec(any::<u8>(), 0..2048),
        compress in any::<bool>(),
    ) {
        let mut bytes = PREFIXES[prefix].to_vec();
        bytes.extend_from_slice(&body);
        let bytes = if compress { gzip(&bytes) } else { bytes };
        let output = run(&[LogFile { name: "fuzz.log".to_owned(), bytes }]);
        prop_assert_eq!(output.checks.len(), 4);
    }

    #[test]
    fn run_never_panics_on_line_shaped_noise(
        lines in proptest::collection::vec("[ -~\t]{0,120}", 0..60),
        prefix in 1..5usize,
    ) {
        let mut text = String::from_utf8_lossy(PREFIXES[prefix]).into_owned();
        text.push_str(&lines.join("\n"));
        let output = run(&[inline("noise.log", &text)]);
        prop_assert_eq!(output.checks.len(), 4);
    }
}
