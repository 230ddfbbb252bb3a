//! BENCHMARKS.md from one run's results: the budgets first, each beside its figure, then the
//! tables every figure came from.
use std::fmt::Write as _;

use serde_json::Value;

use crate::load::LoadPoint;
use crate::run::{Backend, Results};

/// The issue's budgets, on the 2-core machine, SQLite, release build.
pub const PAGE_P99_MS: f64 = 50.0;
pub const OVERVIEW_SHARE_OF_HEALTHZ: f64 = 0.25;
pub const AUTOSAVE_P99_MS: f64 = 30.0;
pub const PDF_SECONDS: f64 = 1.0;
pub const PDF_PEAK_MB: f64 = 300.0;
pub const WEASYPRINT_FACTOR: f64 = 5.0;
pub const REEXPORT_MS: f64 = 200.0;
pub const PROBE_DEVIATION: f64 = 0.10;
pub const PG_PROBE_SECONDS: f64 = 5.0;
pub const IDLE_MB: f64 = 60.0;
pub const COLD_START_MS: f64 = 1000.0;
pub const WASM_COMPRESSED_BYTES: u64 = 600 * 1024;

/// One budget line: what, the figure, the limit, met or not (None: not measured).
struct Budget {
    what: String,
    figure: String,
    limit: String,
    met: Option<bool>,
}

pub fn benchmarks_md(results: &Results, notes: &str) -> String {
    let mut md = String::new();
    let m = &results.machine;
    let _ = writeln!(md, "# Benchmarks\n");
    let _ = writeln!(
        md,
        "Written by `{}` (the `plumbline-bench` harness, release build) on {}, commit `{}`. \
         Do not edit by hand: run it again. Hand-written notes on what changed the numbers are \
         in `bench/notes.md` and appear at the end.\n",
        results.command, results.finished_at, results.git_commit
    );
    let _ = writeln!(
        md,
        "**Machine:** {} · {} cores · {:.0} GiB · Linux {} · {}. The load tool (wrk) runs on the \
         same cores as the server, so every throughput here is shared with the client.\n",
        m.cpu, m.cores, m.memory_gb, m.kernel, m.rustc
    );
    let _ = writeln!(
        md,
        "**Data:** {} engagements in one firm, {} of them complete (every question answered, 60 \
         findings, 25 interventions with dependencies, 30 decision records, probe runs).\n",
        results.scale.engagements, results.scale.complete
    );

    let budgets = budgets(results);
    let _ = writeln!(md, "## Budgets\n");
    let _ = writeln!(md, "| Budget | Measured | Limit | Met |\n|---|---|---|---|");
    for b in &budgets {
        let met = match b.met {
            Some(true) => "yes",
            Some(false) => "**no**",
            None => "not measured",
        };
        let _ = writeln!(md, "| {} | {} | {} | {met} |", b.what, b.figure, b.limit);
    }
    let _ = writeln!(md);

    for backend in &results.backends {
        write_backend(&mut md, backend);
    }
    write_report(&mut md, results);
    write_probes(&mut md, results.probes.as_ref());
    if let Some(w) = &results.wasm {
        let _ = writeln!(md, "## Wasm bundle\n");
        let _ = writeln!(
            md,
            "`target/site/pkg/plumbline_bg.wasm` (profile `wasm-release`): {} raw, {} with \
             `gzip -9`, {} with `brotli -q 11`.\n",
            kb(w.raw_bytes),
            kb(w.gzip_bytes),
            w.brotli_bytes.map_or("—".into(), kb)
        );
    }
    if let Some(s) = &results.scale_out {
        let _ = writeln!(md, "## Scale-out on PostgreSQL\n");
        let _ = writeln!(
            md,
            "`bench/scale-out.sh`: two `plumbline serve` and one `plumbline worker` behind nginx \
             on loopback, steady load for 60 s, one server killed with SIGKILL half-way.\n"
        );
        write_scale_out(&mut md, s);
    }
    if !results.skipped.is_empty() {
        let _ = writeln!(md, "## Not run\n");
        for s in &results.skipped {
            let _ = writeln!(md, "- {s}");
        }
        let _ = writeln!(md);
    }
    let _ = writeln!(md, "## Reproduce\n");
    let _ = writeln!(
        md,
        "```sh\n{}\n```\n\nIt installs wrk (Debian), oha (crates.io), WeasyPrint (PyPI, in a \
         virtualenv under `~/.cache/plumbline`) and Chromium (Debian) when missing, builds the \
         server, the harness and the site in release, then runs `plumbline-bench run`. With \
         `TEST_DATABASE_URL` set it also runs on PostgreSQL.\n",
        results.command
    );
    if !notes.trim().is_empty() {
        let _ = writeln!(md, "{}", notes.trim_end());
    }
    md
}

fn point<'a>(backend: &'a Backend, route: &str, connections: u32) -> Option<&'a LoadPoint> {
    backend
        .loads
        .iter()
        .find(|p| p.route.starts_with(route) && p.connections == connections)
}

fn budgets(results: &Results) -> Vec<Budget> {
    let mut out = Vec::new();
    let sqlite = results.backends.iter().find(|b| b.name == "SQLite");
    if let Some(b) = sqlite {
        for p in b.loads.iter().filter(|p| p.connections == 50) {
            let autosave = p.route.starts_with("autosave");
            let limit = if autosave {
                AUTOSAVE_P99_MS
            } else {
                PAGE_P99_MS
            };
            out.push(Budget {
                what: format!("{}: p99 at 50 connections", p.route),
                figure: format!("{:.1} ms ({} errors)", p.p99_ms, p.errors),
                limit: format!("< {limit:.0} ms"),
                // A point that completed no request measured nothing: it cannot meet a budget.
                met: Some(p.p99_ms < limit && p.errors == 0 && p.requests > 0),
            });
        }
        if let (Some(o), Some(h)) = (
            point(b, "engagement overview", 50),
            point(b, "/healthz", 50),
        ) {
            let share = o.throughput_rps / h.throughput_rps.max(1.0);
            out.push(Budget {
                what: "Overview throughput vs /healthz at 50 connections".into(),
                figure: format!(
                    "{:.0} vs {:.0} req/s = {:.1} %",
                    o.throughput_rps,
                    h.throughput_rps,
                    share * 100.0
                ),
                limit: format!("≥ {:.0} %", OVERVIEW_SHARE_OF_HEALTHZ * 100.0),
                met: Some(share >= OVERVIEW_SHARE_OF_HEALTHZ),
            });
        }
    }
    if let Some(r) = &results.report {
        let pages = r.ours.pages.map_or("?".into(), |p| p.to_string());
        out.push(Budget {
            what: format!("Large report to PDF ({pages} pages)"),
            figure: format!("{:.3} s", r.ours.seconds),
            limit: format!("< {PDF_SECONDS:.0} s"),
            met: Some(r.ours.seconds < PDF_SECONDS),
        });
        if let Some(c) = &r.chromium {
            out.push(Budget {
                what: "PDF faster than Chromium --print-to-pdf".into(),
                figure: format!("{:.3} s vs {:.3} s", r.ours.seconds, c.seconds),
                limit: "faster".into(),
                met: Some(r.ours.seconds < c.seconds),
            });
        }
        if let Some(w) = &r.weasyprint {
            let factor = w.seconds / r.ours.seconds.max(1e-9);
            out.push(Budget {
                what: "PDF vs WeasyPrint".into(),
                figure: format!(
                    "{factor:.1}× faster ({:.3} s vs {:.3} s)",
                    r.ours.seconds, w.seconds
                ),
                limit: format!("≥ {WEASYPRINT_FACTOR:.0}×"),
                met: Some(factor >= WEASYPRINT_FACTOR),
            });
        }
        out.push(Budget {
            what: "PDF export peak memory (whole server process)".into(),
            figure: format!("{:.0} MB", r.ours.peak_mb),
            limit: format!("< {PDF_PEAK_MB:.0} MB"),
            met: Some(r.ours.peak_mb < PDF_PEAK_MB),
        });
    }
    if let Some(e) = sqlite.and_then(|b| b.exports.iter().find(|e| e.format == "pdf")) {
        out.push(Budget {
            what: "Re-export of the unchanged report (PDF)".into(),
            figure: format!("{:.1} ms", e.again_ms),
            limit: format!("< {REEXPORT_MS:.0} ms"),
            met: Some(e.again_ms < REEXPORT_MS),
        });
    }
    out.extend(probe_budgets(results.probes.as_ref()));
    if let Some(b) = sqlite {
        out.push(Budget {
            what: "Idle memory (RSS after start)".into(),
            figure: format!("{:.1} MB", b.idle_rss_mb),
            limit: format!("< {IDLE_MB:.0} MB"),
            met: Some(b.idle_rss_mb < IDLE_MB),
        });
        out.push(Budget {
            what: "Cold start (spawn to first /healthz 200)".into(),
            figure: format!("{:.0} ms", b.cold_start_ms),
            limit: format!("< {COLD_START_MS:.0} ms"),
            met: Some(b.cold_start_ms < COLD_START_MS),
        });
    }
    if let Some(w) = &results.wasm {
        // What a browser downloads: the server sends the brotli copy to browsers that accept
        // it (all current ones do), the gzip copy otherwise.
        let sent = w.brotli_bytes.unwrap_or(w.gzip_bytes).min(w.gzip_bytes);
        out.push(Budget {
            what: "Wasm bundle as sent (brotli; gzip for the rest)".into(),
            figure: format!("{} (gzip {})", kb(sent), kb(w.gzip_bytes)),
            limit: format!("< {}", kb(WASM_COMPRESSED_BYTES)),
            met: Some(sent < WASM_COMPRESSED_BYTES),
        });
    }
    out
}

/// The probes' budgets, read from `plumbline-bench probes`' JSON.
fn probe_budgets(probes: Option<&Value>) -> Vec<Budget> {
    let mut out = Vec::new();
    let Some(p) = probes else {
        return out;
    };
    if let Some(http) = p.get("http") {
        for q in ["p50", "p95", "p99"] {
            let ours = http
                .pointer(&format!("/probe/{q}_ms"))
                .and_then(Value::as_f64);
            let oha = http
                .pointer(&format!("/oha/{q}_ms"))
                .and_then(Value::as_f64);
            if let (Some(ours), Some(oha)) = (ours, oha) {
                let deviation = (ours - oha).abs() / oha.max(1e-9);
                out.push(Budget {
                    what: format!("HTTP probe {q} vs oha's"),
                    figure: format!(
                        "{ours:.2} ms vs {oha:.2} ms ({:+.1} %)",
                        (ours - oha) / oha.max(1e-9) * 100.0
                    ),
                    limit: format!("within {:.0} %", PROBE_DEVIATION * 100.0),
                    met: Some(deviation <= PROBE_DEVIATION),
                });
            }
        }
    }
    if let Some(seconds) = p.pointer("/postgres/probe_seconds").and_then(Value::as_f64) {
        let tables = p
            .pointer("/postgres/schema/tables")
            .and_then(Value::as_u64)
            .unwrap_or(0);
        out.push(Budget {
            what: format!("PostgreSQL probe on {tables} tables"),
            figure: format!("{seconds:.2} s"),
            limit: format!("< {PG_PROBE_SECONDS:.0} s"),
            met: Some(seconds < PG_PROBE_SECONDS),
        });
    }
    out
}

fn write_backend(md: &mut String, b: &Backend) {
    let _ = writeln!(md, "## {} \n", b.name);
    let _ = writeln!(
        md,
        "Seeded in {:.0} s. Cold start {:.0} ms (best of 5). Memory: {:.1} MB idle, {:.1} MB after \
         the load, {:.1} MB peak.\n",
        b.seed_seconds, b.cold_start_ms, b.idle_rss_mb, b.loaded_rss_mb, b.peak_rss_mb
    );
    let _ = writeln!(
        md,
        "| Route | Path | Conns | Req/s | p50 ms | p95 ms | p99 ms | Max ms | Errors |\n\
         |---|---|--:|--:|--:|--:|--:|--:|--:|"
    );
    for p in &b.loads {
        let _ = writeln!(
            md,
            "| {} | `{}` | {} | {:.0} | {:.2} | {:.2} | {:.2} | {:.1} | {} |",
            p.route,
            p.path,
            p.connections,
            p.throughput_rps,
            p.p50_ms,
            p.p95_ms,
            p.p99_ms,
            p.max_ms,
            p.errors
        );
    }
    let _ = writeln!(md);
    if !b.exports.is_empty() {
        let _ = writeln!(
            md,
            "Report export of the large engagement through `GET /engagements/{{id}}/report/draft.*` \
             (client-side time to the last byte):\n"
        );
        let _ = writeln!(
            md,
            "| Format | First | Again (unchanged) | Size |\n|---|--:|--:|--:|"
        );
        for e in &b.exports {
            let _ = writeln!(
                md,
                "| {} | {:.1} ms | {:.1} ms | {} |",
                e.format,
                e.first_ms,
                e.again_ms,
                kb(e.bytes as u64)
            );
        }
        let _ = writeln!(md);
    }
}

fn write_report(md: &mut String, results: &Results) {
    let Some(r) = &results.report else {
        return;
    };
    let _ = writeln!(md, "## Report to PDF beside other engines\n");
    let _ = writeln!(
        md,
        "The large engagement's report (SQLite). Chromium and WeasyPrint turn our own HTML export \
         of the same report into PDF.\n"
    );
    let _ = writeln!(
        md,
        "| Engine | Time | Peak memory | Pages | How |\n|---|--:|--:|--:|---|"
    );
    for e in [Some(&r.ours), r.chromium.as_ref(), r.weasyprint.as_ref()]
        .into_iter()
        .flatten()
    {
        let _ = writeln!(
            md,
            "| {} | {:.3} s | {:.0} MB | {} | {} |",
            e.name,
            e.seconds,
            e.peak_mb,
            e.pages.map_or("?".into(), |p| p.to_string()),
            e.how
        );
    }
    let _ = writeln!(md);
}

fn write_probes(md: &mut String, probes: Option<&Value>) {
    let Some(p) = probes else {
        return;
    };
    let _ = writeln!(md, "## Probes\n");
    if let Some(http) = p.get("http") {
        let _ = writeln!(
            md,
            "HTTP probe beside {} on the same fixture: {}, {} requests/s for {} s per client, \
             clients taking turns over {} rounds (the median round counts). Fixture's own delays: \
             p50 {} ms, p95 {} ms, p99 {} ms.\n",
            text(http, "/oha_version"),
            text(http, "/fixture"),
            text(http, "/rate"),
            text(http, "/duration_s"),
            http.get("rounds")
                .and_then(Value::as_array)
                .map_or(0, Vec::len),
            two_places(http, "/fixture_delay/p50_ms"),
            two_places(http, "/fixture_delay/p95_ms"),
            two_places(http, "/fixture_delay/p99_ms"),
        );
        let _ = writeln!(
            md,
            "| Round | Client | p50 ms | p95 ms | p99 ms | Requests | Errors |\n\
             |--:|---|--:|--:|--:|--:|--:|"
        );
        let rounds = http.get("rounds").and_then(Value::as_array);
        for (i, round) in rounds.into_iter().flatten().enumerate() {
            for client in ["probe", "oha"] {
                let c = format!("/{client}");
                let _ = writeln!(
                    md,
                    "| {} | {client} | {} | {} | {} | {} | {} |",
                    i + 1,
                    two_places(round, &format!("{c}/percentiles/p50_ms")),
                    two_places(round, &format!("{c}/percentiles/p95_ms")),
                    two_places(round, &format!("{c}/percentiles/p99_ms")),
                    text(round, &format!("{c}/n")),
                    text(round, &format!("{c}/errors")),
                );
            }
        }
        let _ = writeln!(md);
    }
    if let Some(pg) = p.get("postgres") {
        let _ = writeln!(
            md,
            "PostgreSQL probe (all {} checks, as a probe-run job runs them) on a generated schema of \
             {} tables: {} columns, {} foreign keys ({} without an index), {} indexes, {} rows in \
             {} tables. Setting it up and running {} workload statements took {} s (not counted); \
             the probe took **{} s**. What it found: {}.\n",
            text(pg, "/checks"),
            text(pg, "/schema/tables"),
            text(pg, "/schema/columns"),
            text(pg, "/schema/foreign_keys"),
            text(pg, "/schema/unindexed_foreign_keys"),
            text(pg, "/schema/indexes"),
            text(pg, "/schema/rows"),
            text(pg, "/schema/tables_with_rows"),
            text(pg, "/workload_statements"),
            two_places(pg, "/setup_seconds"),
            two_places(pg, "/probe_seconds"),
            pg.get("statuses")
                .and_then(Value::as_object)
                .map(|s| {
                    s.iter()
                        .map(|(status, n)| format!("{n} {status}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                })
                .unwrap_or_default(),
        );
    } else if let Some(why) = p.get("postgres_skipped").and_then(Value::as_str) {
        let _ = writeln!(md, "PostgreSQL probe: not run ({why}).\n");
    }
}

fn write_scale_out(md: &mut String, s: &Value) {
    let passed = s.get("passed").and_then(Value::as_bool) == Some(true);
    let _ = writeln!(
        md,
        "Killed `{}` after {} s of {} s, with {} connections. Result: **{}**.\n",
        text(s, "/setup/killed"),
        text(s, "/setup/killed_at_seconds"),
        text(s, "/setup/load_seconds"),
        text(s, "/setup/connections"),
        if passed { "passed" } else { "FAILED" }
    );
    let rows = [
        ("Requests in all", "/http/total"),
        (
            "Failed outside the kill window",
            "/http/failed_outside_kill_window",
        ),
        ("Failed in the kill window", "/http/failed_in_kill_window"),
        (
            "In flight on the killed instance",
            "/http/in_flight_on_killed",
        ),
        (
            "Retried by nginx on the other instance",
            "/http/retried_by_nginx",
        ),
        ("POSTs retried (must be 0)", "/http/retried_posts"),
        ("Requests after the kill", "/http/after_kill"),
        ("Failed after the kill", "/http/after_kill_failed"),
        (
            "Page redirected to log-in (session lost)",
            "/http/page_login_redirects",
        ),
        (
            "Logged-in page 3 s after the kill (status)",
            "/sessions/page_3s_after_kill",
        ),
        ("Render jobs enqueued", "/jobs/render_jobs"),
        ("Render jobs done", "/jobs/done"),
        (
            "Jobs held by the killed instance",
            "/jobs/held_by_killed_instance",
        ),
        (
            "Jobs run again after their lease ran out",
            "/jobs/retried_after_lease_expiry",
        ),
        ("Jobs lost", "/jobs/not_done"),
        ("Jobs run twice", "/jobs/run_twice"),
    ];
    let _ = writeln!(md, "| What | Figure |\n|---|--:|");
    for (what, pointer) in rows {
        let _ = writeln!(md, "| {what} | {} |", text(s, pointer));
    }
    let _ = writeln!(md);
    if let Some(checks) = s.get("checks").and_then(Value::as_object) {
        let list: Vec<String> = checks
            .iter()
            .map(|(name, ok)| {
                let mark = if ok.as_bool() == Some(true) {
                    "yes"
                } else {
                    "**no**"
                };
                format!("{} {mark}", name.replace('_', " "))
            })
            .collect();
        let _ = writeln!(md, "Checks: {}.\n", list.join("; "));
    }
}

/// A JSON value as table text: numbers and strings as they are, a list by its length.
fn text(v: &Value, pointer: &str) -> String {
    match v.pointer(pointer) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(a)) => a.len().to_string(),
        Some(Value::Null) | None => "—".into(),
        Some(other) => other.to_string(),
    }
}

/// A JSON number with two decimals (milliseconds, seconds).
fn two_places(v: &Value, pointer: &str) -> String {
    v.pointer(pointer)
        .and_then(Value::as_f64)
        .map_or("—".into(), |x| format!("{x:.2}"))
}

fn kb(bytes: u64) -> String {
    format!("{:.0} KB", bytes as f64 / 1024.0)
}
