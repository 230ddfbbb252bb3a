//! Honest latency: an open-model load (reference §4). Request *i* is scheduled at
//! `t0 + i/rate` and its latency counted from that intended time, as oha
//! `--latency-correction`, wrk2 `-R` and k6 `constant-arrival-rate` do. Each request is spawned
//! at its time, so a stalled server does not stop the sending: a closed loop would wait, send
//! fewer requests during the stall and hide it from the percentiles (coordinated omission).
//!
//! The timer's own lateness is not the server's: tokio wakes on whole milliseconds, typically
//! 1–2 ms after the time asked for. When the sending loop was waiting for a request's time
//! (it was ahead), the latency counts from the wake-up, as oha's does (its scheduler times from
//! its wake-up too); when the loop was behind (waiting for a slot while the server was slow),
//! it counts from the intended time, so the queueing is charged to the server.
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use hdrhistogram::Histogram;
use serde_json::{json, Value};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tokio::time::Instant;
use url::Url;

use super::super::fetch::{FetchError, FetchRequest, Fetcher};
use super::super::model::{CheckArea, CheckResult, CheckSpec, CheckStatus};
use super::super::progress::Progress;
use super::common::path_of;
use crate::findings::Severity;

pub const LATENCY: CheckSpec = CheckSpec {
    id: "http.latency-percentiles",
    area: CheckArea::Observability,
    title: "Latency percentiles per endpoint",
    severity: Severity::Medium,
    threshold: "p99 (p95 when fewer than 100 samples) of every endpoint: fail above 1000 ms, \
                warn above 500 ms (ours); requests at a fixed rate, latency from the intended \
                send time; p99 reported only with n ≥ 100",
    source: "open-model load as oha --latency-correction, wrk2 -R and k6 constant-arrival-rate; \
             HdrHistogram (3 significant figures)",
};

pub const FAIL_MS: f64 = 1000.0;
pub const WARN_MS: f64 = 500.0;
/// Below this many samples p99 is not reported (reference §4).
pub const MIN_SAMPLES_P99: u64 = 100;
/// Achieved rate below this share of the target flags the run.
pub const MIN_RATE_SHARE: f64 = 0.95;

/// How one endpoint is measured.
#[derive(Debug, Clone)]
pub struct LatencySettings {
    /// Requests per second.
    pub rate: u32,
    /// Measured time, after the warm-up.
    pub duration: Duration,
    /// Requests at the same rate whose results are discarded.
    pub warmup: Duration,
    /// At most this many requests in flight; a request waiting for a slot is still timed from
    /// its intended send time.
    pub max_in_flight: usize,
}

impl Default for LatencySettings {
    fn default() -> Self {
        LatencySettings {
            rate: 5,
            duration: Duration::from_secs(20),
            warmup: Duration::from_secs(5),
            max_in_flight: 20,
        }
    }
}

/// What one endpoint's measurement yielded. Latencies are in microseconds.
#[derive(Debug, Clone, Default)]
pub struct EndpointLatency {
    pub url: String,
    /// Samples in the histogram (answers and timeouts).
    pub n: u64,
    pub p50_us: Option<u64>,
    pub p95_us: Option<u64>,
    /// Only when `n ≥ 100`.
    pub p99_us: Option<u64>,
    pub max_us: Option<u64>,
    /// Measured requests planned (rate × duration).
    pub planned: u64,
    /// Measured requests actually sent.
    pub sent: u64,
    pub ok_2xx: u64,
    pub non_2xx: u64,
    /// Requests over the fetch timeout: counted as latency = time waited, never dropped.
    pub timeouts: u64,
    /// Requests that failed without an answer (refused connection, protocol error): not latency.
    pub errors: u64,
    pub status_counts: BTreeMap<u16, u64>,
    pub target_rate: f64,
    pub achieved_rate: f64,
    /// Why the measurement stopped before the plan (a 429 or 503, a cancel).
    pub stopped_early: Option<String>,
    pub saw_429: bool,
    /// A 429 or 503 was answered: the measurement stopped and others should not start.
    pub backed_off: bool,
    pub saw_429_without_retry_after: bool,
    pub first_error: Option<String>,
}

impl EndpointLatency {
    pub fn rate_ok(&self) -> bool {
        self.target_rate <= 0.0 || self.achieved_rate >= self.target_rate * MIN_RATE_SHARE
    }

    /// The percentile judged: p99 when there are enough samples, else p95, in ms.
    pub fn judged_ms(&self) -> Option<(&'static str, f64)> {
        match (self.p99_us, self.p95_us) {
            (Some(p99), _) => Some(("p99", p99 as f64 / 1000.0)),
            (None, Some(p95)) => Some(("p95", p95 as f64 / 1000.0)),
            _ => None,
        }
    }

    pub fn to_json(&self) -> Value {
        let ms = |us: Option<u64>| us.map(|v| (v as f64 / 1000.0 * 10.0).round() / 10.0);
        json!({
            "url": self.url,
            "n": self.n,
            "p50_ms": ms(self.p50_us),
            "p95_ms": ms(self.p95_us),
            "p99_ms": ms(self.p99_us),
            "p99_note": if self.p99_us.is_none() { Some("n too small for p99") } else { None },
            "max_ms": ms(self.max_us),
            "planned": self.planned,
            "sent": self.sent,
            "responses_2xx": self.ok_2xx,
            "responses_other": self.non_2xx,
            "timeouts": self.timeouts,
            "errors": self.errors,
            "status_counts": self.status_counts.iter().map(|(k, v)| (k.to_string(), json!(v))).collect::<serde_json::Map<_, _>>(),
            "target_rate": self.target_rate,
            "achieved_rate": (self.achieved_rate * 10.0).round() / 10.0,
            "rate_ok": self.rate_ok(),
            "stopped_early": self.stopped_early,
            "first_error": self.first_error,
        })
    }

    /// One evidence line: `/v1/items: p50 3 ms · p95 5 ms · p99 n too small (n=30) · …`.
    pub fn line(&self, label: &str) -> String {
        let ms = |us: Option<u64>| match us {
            Some(v) => format!("{:.0} ms", v as f64 / 1000.0),
            None => "–".to_owned(),
        };
        let p99 = match self.p99_us {
            Some(_) => format!("p99 {}", ms(self.p99_us)),
            None => format!("p99 n too small (n={})", self.n),
        };
        let mut line = format!(
            "{label}: p50 {} · p95 {} · {p99} · n={} · {} × 2xx, {} other",
            ms(self.p50_us),
            ms(self.p95_us),
            self.n,
            self.ok_2xx,
            self.non_2xx,
        );
        if self.timeouts > 0 {
            line.push_str(&format!(", {} timed out", self.timeouts));
        }
        if self.errors > 0 {
            line.push_str(&format!(", {} without an answer", self.errors));
        }
        line.push_str(&format!(
            " · {:.1}/{:.0} rps{}",
            self.achieved_rate,
            self.target_rate,
            if self.rate_ok() {
                ""
            } else {
                " (achieved < 95 % of target)"
            }
        ));
        if let Some(why) = &self.stopped_early {
            line.push_str(&format!(" · stopped early: {why}"));
        }
        line
    }
}

/// What a spawned request reports back.
struct Sample {
    index: u64,
    latency: Duration,
    outcome: Result<(u16, bool), FetchError>,
}

/// Measures one endpoint with GET requests at a fixed rate. Total time is bounded by
/// `warmup + duration` plus the fetch timeout for the last requests in flight.
pub async fn measure_endpoint(
    fetcher: &Fetcher,
    url: &Url,
    settings: &LatencySettings,
    progress: &Progress,
) -> EndpointLatency {
    let rate = settings.rate.max(1);
    let interval = Duration::from_secs_f64(1.0 / f64::from(rate));
    let warm_count = (settings.warmup.as_secs_f64() * f64::from(rate)).round() as u64;
    let planned = ((settings.duration.as_secs_f64() * f64::from(rate)).round() as u64).max(1);
    let total = warm_count + planned;
    // A safety net over the fetcher's own timeout: whatever happens, a request ends.
    let timeout = fetcher.limits().total_timeout + Duration::from_secs(1);

    let mut result = EndpointLatency {
        url: url.to_string(),
        planned,
        target_rate: f64::from(rate),
        ..EndpointLatency::default()
    };
    // 1 µs to 60 s at 3 significant figures (≤ 0.1 % quantisation error).
    let mut histogram = match Histogram::<u64>::new_with_bounds(1, 60_000_000, 3) {
        Ok(h) => h,
        Err(e) => {
            result.first_error = Some(format!("histogram: {e}"));
            return result;
        }
    };

    let slots = Arc::new(Semaphore::new(settings.max_in_flight.max(1)));
    let stop = Arc::new(AtomicBool::new(false));
    let mut tasks: JoinSet<Sample> = JoinSet::new();
    let t0 = Instant::now();
    let mut first_measured_send: Option<Instant> = None;
    let mut last_measured_send: Option<Instant> = None;

    for index in 0..total {
        if progress.is_cancelled() {
            result.stopped_early = Some("cancelled".to_owned());
            break;
        }
        if stop.load(Ordering::Relaxed) {
            break;
        }
        let intended = t0 + interval.mul_f64(index as f64);
        let ahead = Instant::now() < intended;
        tokio::time::sleep_until(intended).await;
        // Ahead: whatever the sleep overran is the timer's granularity (or our own machine),
        // not the server's. Behind: the backlog counts (see the module comment).
        let start = if ahead { Instant::now() } else { intended };
        while let Some(done) = tasks.try_join_next() {
            if let Ok(sample) = done {
                record(&mut result, &mut histogram, &stop, warm_count, sample);
            }
        }
        if stop.load(Ordering::Relaxed) {
            break;
        }
        // Waiting for a slot delays the send, not the start the latency counts from.
        let Ok(permit) = slots.clone().acquire_owned().await else {
            break;
        };
        if index >= warm_count {
            let now = Instant::now();
            first_measured_send.get_or_insert(intended);
            last_measured_send = Some(now);
            result.sent += 1;
        }
        let fetcher = fetcher.clone();
        let request = FetchRequest::get(url.clone()).header("accept", "application/json, */*");
        tasks.spawn(async move {
            let _permit = permit;
            let outcome = match tokio::time::timeout(timeout, fetcher.fetch(request)).await {
                Ok(Ok(response)) => {
                    let retry_after = response.headers.contains_key("retry-after");
                    Ok((response.status, retry_after))
                }
                Ok(Err(e)) => Err(e),
                Err(_) => Err(FetchError::Timeout(timeout)),
            };
            Sample {
                index,
                latency: start.elapsed(),
                outcome,
            }
        });
    }
    if progress.is_cancelled() {
        tasks.abort_all();
    }
    while let Some(done) = tasks.join_next().await {
        if let Ok(sample) = done {
            record(&mut result, &mut histogram, &stop, warm_count, sample);
        }
    }

    if let (Some(first), Some(last)) = (first_measured_send, last_measured_send) {
        // The span the sends took, one interval per request: exactly 1/rate each when on time.
        let span = last.saturating_duration_since(first) + interval;
        result.achieved_rate = result.sent as f64 / span.as_secs_f64();
    }
    result.n = histogram.len();
    if result.n > 0 {
        result.p50_us = Some(histogram.value_at_quantile(0.50));
        result.p95_us = Some(histogram.value_at_quantile(0.95));
        if result.n >= MIN_SAMPLES_P99 {
            result.p99_us = Some(histogram.value_at_quantile(0.99));
        }
        result.max_us = Some(histogram.max());
    }
    result
}

fn record(
    result: &mut EndpointLatency,
    histogram: &mut Histogram<u64>,
    stop: &AtomicBool,
    warm_count: u64,
    sample: Sample,
) {
    // Backing off on 429 and 503 applies during the warm-up too (reference §5.5).
    if let Ok((status, retry_after)) = &sample.outcome {
        if *status == 429 || *status == 503 {
            stop.store(true, Ordering::Relaxed);
            result.backed_off = true;
            result
                .stopped_early
                .get_or_insert_with(|| format!("the server answered {status}; backing off"));
        }
        if *status == 429 {
            result.saw_429 = true;
            if !retry_after {
                result.saw_429_without_retry_after = true;
            }
        }
    }
    if sample.index < warm_count {
        return;
    }
    let micros = u64::try_from(sample.latency.as_micros())
        .unwrap_or(u64::MAX)
        .max(1);
    match sample.outcome {
        Ok((status, _)) => {
            histogram.saturating_record(micros);
            *result.status_counts.entry(status).or_default() += 1;
            if (200..300).contains(&status) {
                result.ok_2xx += 1;
            } else {
                result.non_2xx += 1;
            }
        }
        Err(FetchError::Timeout(_)) => {
            // A timeout is the slowest answer, not a missing one.
            histogram.saturating_record(micros);
            result.timeouts += 1;
        }
        Err(e) => {
            result.errors += 1;
            result.first_error.get_or_insert_with(|| e.to_string());
        }
    }
}

/// The latency check over every endpoint measured: (label, measurement).
pub fn evaluate(measured: &[(String, EndpointLatency)], settings: &LatencySettings) -> CheckResult {
    let mut evidence = Vec::new();
    let mut fails = Vec::new();
    let mut warns = Vec::new();
    let mut judged = 0;
    let mut slow_rate = Vec::new();
    for (label, m) in measured {
        evidence.push(m.line(label));
        if !m.rate_ok() && m.sent > 0 {
            slow_rate.push(label.clone());
        }
        let Some((which, value)) = m.judged_ms() else {
            continue;
        };
        judged += 1;
        if value > FAIL_MS {
            fails.push(format!("{label} {which} {value:.0} ms"));
        } else if value > WARN_MS {
            warns.push(format!("{label} {which} {value:.0} ms"));
        }
    }
    let measured_json = json!({
        "rate": settings.rate,
        "duration_s": settings.duration.as_secs_f64(),
        "warmup_s": settings.warmup.as_secs_f64(),
        "max_in_flight": settings.max_in_flight,
        "endpoints": measured.iter().map(|(label, m)| {
            let mut v = m.to_json();
            if let Value::Object(map) = &mut v {
                map.insert("endpoint".into(), json!(label));
            }
            v
        }).collect::<Vec<_>>(),
    });
    if judged == 0 {
        let why = measured
            .iter()
            .find_map(|(_, m)| m.first_error.clone())
            .unwrap_or_else(|| "no endpoint answered".to_owned());
        return CheckResult::could_not_run(&LATENCY, format!("no latency samples: {why}"))
            .with_measured(measured_json)
            .with_evidence(evidence);
    }
    if !slow_rate.is_empty() {
        evidence.push(format!(
            "achieved rate below 95 % of the target on {}: the figures there are less reliable",
            slow_rate.join(", ")
        ));
    }
    let (status, summary) = if !fails.is_empty() {
        (
            CheckStatus::Fail,
            format!("Slow: {} (over 1000 ms)", fails.join(", ")),
        )
    } else if !warns.is_empty() {
        (
            CheckStatus::Warn,
            format!("Slowish: {} (over 500 ms, our threshold)", warns.join(", ")),
        )
    } else {
        (
            CheckStatus::Pass,
            format!(
                "{judged} endpoint{} within 500 ms at the tail",
                if judged == 1 { "" } else { "s" }
            ),
        )
    };
    LATENCY
        .result(status, summary)
        .with_measured(measured_json)
        .with_evidence(evidence)
}

/// The label of an endpoint for evidence: its path and query.
pub fn label(url: &Url) -> String {
    path_of(url)
}
