//! Load from a second process: wrk, with `bench/load.lua` rotating sessions and tracking
//! answer versions, one point per route and connection count.
use std::path::{Path, PathBuf};
use std::process::Command;

use serde::{Deserialize, Serialize};

use crate::BenchResult;

/// One route under load at one number of connections.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LoadPoint {
    pub route: String,
    pub path: String,
    pub connections: u32,
    pub seconds: f64,
    pub requests: u64,
    pub throughput_rps: f64,
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    /// Socket errors, timeouts and responses other than 2xx/3xx.
    pub errors: u64,
}

/// What a route needs besides its URL.
#[derive(Debug, Clone, Default)]
pub struct Target {
    pub route: String,
    pub path: String,
    /// One session per line, see `bench/load.lua`.
    pub sessions: Option<PathBuf>,
    pub autosave: bool,
    pub header: Option<String>,
}

#[derive(Deserialize)]
struct WrkErrors {
    connect: u64,
    read: u64,
    write: u64,
    status: u64,
    timeout: u64,
}

#[derive(Deserialize)]
struct WrkLatency {
    p50: f64,
    p95: f64,
    p99: f64,
    max: f64,
}

#[derive(Deserialize)]
struct WrkSummary {
    requests: u64,
    duration_us: f64,
    errors: WrkErrors,
    latency_us: WrkLatency,
}

pub struct Wrk {
    pub wrk: PathBuf,
    pub script: PathBuf,
    pub base: String,
}

impl Wrk {
    /// Runs wrk for `seconds` (after a 2 s warm-up run that is thrown away).
    pub fn point(&self, target: &Target, connections: u32, seconds: u32) -> BenchResult<LoadPoint> {
        // wrk needs at least one connection per thread; two threads keep one client core busy
        // each, the server gets what the machine has left (both share these 2 cores).
        let threads = connections.min(2);
        let url = format!("{}{}", self.base, target.path);
        let run = |secs: u32| -> BenchResult<String> {
            let mut wrk = Command::new(&self.wrk);
            wrk.args(["-t", &threads.to_string()])
                .args(["-c", &connections.to_string()])
                .args(["-d", &format!("{secs}s")])
                .args(["--timeout", "10s"])
                .arg("-s")
                .arg(&self.script)
                .arg(&url)
                .env("BENCH_THREADS", threads.to_string())
                .env("BENCH_ORIGIN", &self.base)
                .env("BENCH_AUTOSAVE", if target.autosave { "1" } else { "0" })
                .env("BENCH_HEADER", target.header.clone().unwrap_or_default())
                .env(
                    "BENCH_SESSIONS",
                    target.sessions.as_deref().unwrap_or(Path::new("")),
                );
            let out = wrk
                .output()
                .map_err(|e| format!("could not run {}: {e}", self.wrk.display()))?;
            if !out.status.success() {
                return Err(format!(
                    "wrk on {} failed: {}",
                    target.path,
                    String::from_utf8_lossy(&out.stderr)
                ));
            }
            let stderr = String::from_utf8_lossy(&out.stderr);
            if !stderr.trim().is_empty() {
                // Lua errors in bench/load.lua land here while wrk still exits 0.
                eprintln!("wrk on {} said: {}", target.path, stderr.trim());
            }
            Ok(String::from_utf8_lossy(&out.stdout).into_owned())
        };
        run(2)?;
        let stdout = run(seconds)?;
        let line = stdout
            .lines()
            .rev()
            .find(|l| l.starts_with('{'))
            .ok_or_else(|| format!("wrk printed no summary for {}: {stdout}", target.path))?;
        let s: WrkSummary = serde_json::from_str(line)
            .map_err(|e| format!("wrk summary for {}: {e}: {line}", target.path))?;
        let secs = s.duration_us / 1e6;
        let e = &s.errors;
        Ok(LoadPoint {
            route: target.route.clone(),
            path: target.path.clone(),
            connections,
            seconds: secs,
            requests: s.requests,
            throughput_rps: if secs > 0.0 {
                s.requests as f64 / secs
            } else {
                0.0
            },
            p50_ms: s.latency_us.p50 / 1000.0,
            p95_ms: s.latency_us.p95 / 1000.0,
            p99_ms: s.latency_us.p99 / 1000.0,
            max_ms: s.latency_us.max / 1000.0,
            errors: e.connect + e.read + e.write + e.status + e.timeout,
        })
    }
}
