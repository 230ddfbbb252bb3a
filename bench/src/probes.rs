//! The probes' own numbers: HTTP latency percentiles beside oha's on the same endpoint, and the
//! PostgreSQL probe's time on a generated 500-table schema.
//!
//! HTTP: a fixture endpoint on 127.0.0.1:0, served from a thread with a runtime of its own so
//! that the client under test never shares a scheduler with it, answers each request after a
//! delay from a fixed cycle of 100 values (2–20 ms, skewed low), slept on a blocking thread so
//! the delay is exact. Any 100 consecutive requests see every value once, so two runs of the
//! same length see the same distribution whichever request comes first. Plumbline's latency
//! probe and oha (never both at once) load it at the same open-model rate, each after a
//! discarded warm-up, in rounds that alternate which goes first; each client's p50/p95/p99 is
//! the median over the rounds, and those are compared.
//!
//! PostgreSQL: a fresh database with a generated schema (keys, foreign keys with and without an
//! index, indexes, a few thousand rows in some tables, `analyze`, then a small read workload so
//! pg_stat_statements has statements where it is loaded), probed the way a probe-run job
//! does (`postgres::run` through the guard), timed on the wall clock, and dropped afterwards.
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use audit::probes::fetch::{FetchLimits, Fetcher};
use audit::probes::guard::Guard;
use audit::probes::http::latency::{self, EndpointLatency, LatencySettings};
use audit::probes::postgres::{self, PostgresTarget};
use audit::probes::progress::Progress;
use serde::{Deserialize, Serialize};
use sqlx::{Connection, PgConnection};
use url::Url;

use crate::BenchResult;

/// Each probe percentile must be within this share of oha's.
pub const HTTP_BUDGET_RELATIVE: f64 = 0.10;
/// The PostgreSQL probe on the generated schema must finish within this many seconds.
pub const POSTGRES_BUDGET_SECONDS: f64 = 5.0;
/// The database the PostgreSQL part creates (dropped first if a failed run left it) and drops.
pub const BENCH_DATABASE: &str = "plumbline_bench_probe";
/// Requests in flight at most, for the probe (`max_in_flight`) and oha (`-c`) alike.
const MAX_IN_FLIGHT: usize = 20;

#[derive(Debug, clap::Args)]
pub struct ProbeArgs {
    /// Where to write the figures (JSON).
    #[arg(long)]
    pub out: PathBuf,
    /// The oha binary (install with `cargo install oha --locked`).
    #[arg(long, default_value = "oha")]
    pub oha: PathBuf,
    /// A PostgreSQL URL whose user may create and drop databases; without one the PostgreSQL
    /// part is skipped.
    #[arg(long, env = "TEST_DATABASE_URL", hide_env_values = true)]
    pub pg_url: Option<String>,
    /// Requests per second, for the probe and oha alike.
    #[arg(long, default_value_t = 100)]
    pub rate: u32,
    /// Measured seconds, for the probe and oha alike.
    #[arg(long, default_value_t = 20)]
    pub duration_secs: u64,
    /// Discarded seconds at the same rate before each measurement.
    #[arg(long, default_value_t = 2)]
    pub warmup_secs: u64,
    /// Rounds of one probe run and one oha run each (alternating which goes first); the
    /// figures compared are the medians over the rounds.
    #[arg(long, default_value_t = 3)]
    pub rounds: usize,
    /// Tables in the generated PostgreSQL schema.
    #[arg(long, default_value_t = 500)]
    pub tables: usize,
}

/// Everything `plumbline-bench probes` measured, as written to `--out`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ProbeFigures {
    /// CPUs the machine offered (the numbers are from a shared machine when this is small).
    pub cpus: usize,
    pub http: HttpFigures,
    /// `None` when the PostgreSQL part was skipped; `postgres_skipped` says why.
    pub postgres: Option<PostgresFigures>,
    pub postgres_skipped: Option<String>,
}

/// The HTTP probe's percentiles beside oha's on the same fixture endpoint.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct HttpFigures {
    pub rate: u32,
    pub duration_s: f64,
    pub warmup_s: f64,
    pub max_in_flight: usize,
    /// What the fixture does, in words.
    pub fixture: String,
    /// Percentiles of the fixture's own delay cycle: the floor both clients measure above.
    pub fixture_delay: Percentiles,
    /// The probe's percentiles: each the median over the rounds.
    pub probe: Percentiles,
    /// oha's percentiles: each the median over the rounds.
    pub oha: Percentiles,
    /// Each round: one measured run of each client, never at the same time.
    pub rounds: Vec<HttpRound>,
    /// `oha --version`.
    pub oha_version: String,
    /// The measured oha run's arguments (the URL last).
    pub oha_args: Vec<String>,
    /// p50, p95, p99 in that order.
    pub comparison: Vec<PercentileComparison>,
    pub budget_relative: f64,
    /// Every percentile within `budget_relative` of oha's.
    pub within_budget: bool,
}

/// One round of the comparison.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct HttpRound {
    /// The probe ran before oha in this round (rounds alternate).
    pub probe_first: bool,
    pub probe: ClientLatency,
    pub oha: ClientLatency,
}

/// Three percentiles in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Percentiles {
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub p99_ms: f64,
}

/// One client's measurement of the fixture.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ClientLatency {
    /// Samples behind the percentiles.
    pub n: u64,
    pub percentiles: Percentiles,
    pub max_ms: Option<f64>,
    pub achieved_rate: f64,
    /// Requests that got no answer (refused, reset, aborted at the deadline).
    pub errors: u64,
    /// Requests the fixture answered during the measured run, warm-up excluded.
    pub served: u64,
}

/// One percentile of the probe against oha's.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PercentileComparison {
    /// "p50", "p95" or "p99".
    pub percentile: String,
    pub probe_ms: f64,
    pub oha_ms: f64,
    /// (probe − oha) / oha: positive when the probe measured slower.
    pub relative_difference: f64,
    pub within_budget: bool,
}

/// The PostgreSQL probe on the generated schema.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PostgresFigures {
    pub database: String,
    pub server_version_num: Option<i64>,
    pub schema: SchemaStats,
    /// Statements of the read workload run before the probe (lookups by key, counts, joins).
    pub workload_statements: u64,
    /// Creating the schema, loading rows, `analyze` and the workload (not part of the budget).
    pub setup_seconds: f64,
    /// `postgres::run`, connect to close, on the wall clock.
    pub probe_seconds: f64,
    pub budget_seconds: f64,
    pub within_budget: bool,
    /// How many checks the probe returned.
    pub checks: usize,
    /// Checks per status ("pass", "warn", "fail", "could_not_run").
    pub statuses: BTreeMap<String, usize>,
    /// What the probe said about pg_stat_statements (its `raw.pg_stat_statements`).
    pub pg_stat_statements: serde_json::Value,
    pub check_results: Vec<CheckFigure>,
}

/// One check's outcome, short.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CheckFigure {
    pub id: String,
    pub status: String,
    pub summary: String,
}

/// What the generated schema holds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SchemaStats {
    pub tables: usize,
    pub tables_without_primary_key: usize,
    pub columns: usize,
    pub foreign_keys: usize,
    pub unindexed_foreign_keys: usize,
    /// Indexes beyond primary keys (foreign-key indexes included).
    pub indexes: usize,
    pub tables_with_rows: usize,
    pub rows: u64,
}

pub async fn main(args: ProbeArgs) -> BenchResult {
    // Before anything slow: without oha there is nothing to compare with.
    let oha_version = oha_version(&args.oha).await?;

    let http = http_accuracy(&args, oha_version).await?;

    let (postgres, postgres_skipped) = match postgres_admin_url(args.pg_url.as_deref()) {
        Ok(admin_url) => (
            Some(postgres_on_generated_schema(&admin_url, args.tables).await?),
            None,
        ),
        Err(why) => (None, Some(why)),
    };

    let figures = ProbeFigures {
        cpus: std::thread::available_parallelism().map_or(1, |n| n.get()),
        http,
        postgres,
        postgres_skipped,
    };
    if let Some(dir) = args.out.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| format!("probes: {}: {e}", dir.display()))?;
    }
    let json = serde_json::to_string_pretty(&figures)
        .map_err(|e| format!("probes: cannot write the figures as JSON: {e}"))?;
    std::fs::write(&args.out, json + "\n")
        .map_err(|e| format!("probes: {}: {e}", args.out.display()))?;
    print!("{}", summary(&figures));
    println!("figures written to {}", args.out.display());
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// HTTP: the probe against oha

async fn http_accuracy(args: &ProbeArgs, oha_version: String) -> BenchResult<HttpFigures> {
    let rate = args.rate.max(1);
    let duration = Duration::from_secs(args.duration_secs.max(1));
    let warmup = Duration::from_secs(args.warmup_secs);
    let round_count = args.rounds.max(1);
    let fixture = Fixture::start()?;
    let url = Url::parse(&format!("http://{}/", fixture.addr))
        .map_err(|e| format!("probes: fixture URL: {e}"))?;
    let measured_args = oha_args(rate, duration, &url);

    // Alternating which client goes first cancels any drift in the machine's state; the
    // median over rounds keeps one noisy run (another process on a core) from deciding alone.
    let mut rounds = Vec::with_capacity(round_count);
    for round in 0..round_count {
        let probe_first = round % 2 == 0;
        println!(
            "HTTP round {}/{round_count}: {} first, {rate} rps for {}s (+{}s warm-up) each on {url}",
            round + 1,
            if probe_first { "the probe" } else { "oha" },
            duration.as_secs(),
            warmup.as_secs()
        );
        let (probe, oha) = if probe_first {
            let probe = probe_round(&fixture, &url, rate, duration, warmup).await?;
            let oha = oha_round(&fixture, &args.oha, &url, rate, warmup, &measured_args).await?;
            (probe, oha)
        } else {
            let oha = oha_round(&fixture, &args.oha, &url, rate, warmup, &measured_args).await?;
            let probe = probe_round(&fixture, &url, rate, duration, warmup).await?;
            (probe, oha)
        };
        rounds.push(HttpRound {
            probe_first,
            probe,
            oha,
        });
    }
    fixture.stop()?;

    let probe = median_percentiles(rounds.iter().map(|r| r.probe.percentiles));
    let oha = median_percentiles(rounds.iter().map(|r| r.oha.percentiles));
    let comparison = compare(&probe, &oha);
    let delays = fixture_delays_sorted();
    Ok(HttpFigures {
        rate,
        duration_s: duration.as_secs_f64(),
        warmup_s: warmup.as_secs_f64(),
        max_in_flight: MAX_IN_FLIGHT,
        fixture: format!(
            "GET / on 127.0.0.1 (axum, own runtime thread) answering \"ok\" after a delay from a fixed cycle of {DELAY_CYCLE} values, {:.0}–{:.0} ms, skewed low",
            delays.first().copied().map_or(0.0, ms),
            delays.last().copied().map_or(0.0, ms),
        ),
        fixture_delay: fixture_delay_percentiles(),
        within_budget: comparison.iter().all(|c| c.within_budget),
        probe,
        oha,
        rounds,
        oha_version,
        oha_args: measured_args,
        comparison,
        budget_relative: HTTP_BUDGET_RELATIVE,
    })
}

/// One measured run of Plumbline's latency probe on the fixture, with a fresh fetcher (so a
/// cold start and warm-up, like oha's).
async fn probe_round(
    fixture: &Fixture,
    url: &Url,
    rate: u32,
    duration: Duration,
    warmup: Duration,
) -> BenchResult<ClientLatency> {
    // The fixture is on loopback, which the guard refuses unless it is allow-listed (as the
    // operator's PLUMBLINE_PROBE_ALLOW does for on-premise use).
    let allow =
        Guard::parse_allow_list("127.0.0.0/8").map_err(|e| format!("probes: allow-list: {e}"))?;
    let fetcher = Fetcher::new(Arc::new(Guard::new(allow)), FetchLimits::default());
    let settings = LatencySettings {
        rate,
        duration,
        warmup,
        max_in_flight: MAX_IN_FLIGHT,
    };
    fixture.reset();
    let measured = latency::measure_endpoint(&fetcher, url, &settings, &Progress::new()).await;
    // The warm-up requests went through the fixture too; only the measured ones count.
    let warm = (warmup.as_secs_f64() * f64::from(rate)).round() as u64;
    probe_latency(&measured, fixture.served().saturating_sub(warm))
    // The fetcher and its pooled connections are dropped on return, before oha starts.
}

/// One measured run of oha on the fixture, after a discarded warm-up run of its own.
async fn oha_round(
    fixture: &Fixture,
    oha: &std::path::Path,
    url: &Url,
    rate: u32,
    warmup: Duration,
    measured_args: &[String],
) -> BenchResult<ClientLatency> {
    if !warmup.is_zero() {
        run_oha(oha, &oha_args(rate, warmup, url)).await?;
    }
    fixture.reset();
    let report = run_oha(oha, measured_args).await?;
    oha_latency(&report, fixture.served())
}

/// The median of each percentile over the rounds (the mean of the middle two for an even
/// count).
fn median_percentiles(rounds: impl Iterator<Item = Percentiles>) -> Percentiles {
    let rounds: Vec<Percentiles> = rounds.collect();
    let median = |pick: fn(&Percentiles) -> f64| {
        let mut values: Vec<f64> = rounds.iter().map(pick).collect();
        values.sort_by(f64::total_cmp);
        match values.len() {
            0 => 0.0,
            n if n % 2 == 1 => values[n / 2],
            n => (values[n / 2 - 1] + values[n / 2]) / 2.0,
        }
    };
    Percentiles {
        p50_ms: median(|p| p.p50_ms),
        p95_ms: median(|p| p.p95_ms),
        p99_ms: median(|p| p.p99_ms),
    }
}

/// The probe's measurement in the common shape; an endpoint that did not answer is an error.
fn probe_latency(m: &EndpointLatency, served: u64) -> BenchResult<ClientLatency> {
    let percentile = |name: &str, us: Option<u64>| {
        us.map(|v| v as f64 / 1000.0).ok_or_else(|| {
            format!(
                "probes: the HTTP probe has no {name} (n = {}, errors = {}{})",
                m.n,
                m.errors,
                m.first_error
                    .as_deref()
                    .map(|e| format!(", first: {e}"))
                    .unwrap_or_default()
            )
        })
    };
    Ok(ClientLatency {
        n: m.n,
        percentiles: Percentiles {
            p50_ms: percentile("p50", m.p50_us)?,
            p95_ms: percentile("p95", m.p95_us)?,
            p99_ms: percentile("p99", m.p99_us)?,
        },
        max_ms: m.max_us.map(|v| v as f64 / 1000.0),
        achieved_rate: m.achieved_rate,
        errors: m.errors + m.timeouts,
        served,
    })
}

fn compare(probe: &Percentiles, oha: &Percentiles) -> Vec<PercentileComparison> {
    [
        ("p50", probe.p50_ms, oha.p50_ms),
        ("p95", probe.p95_ms, oha.p95_ms),
        ("p99", probe.p99_ms, oha.p99_ms),
    ]
    .into_iter()
    .map(|(name, probe_ms, oha_ms)| {
        let relative_difference = relative_difference(probe_ms, oha_ms);
        PercentileComparison {
            percentile: name.to_owned(),
            probe_ms,
            oha_ms,
            relative_difference,
            within_budget: relative_difference.abs() <= HTTP_BUDGET_RELATIVE,
        }
    })
    .collect()
}

/// (probe − oha) / oha; infinite when oha measured zero and the probe did not.
fn relative_difference(probe_ms: f64, oha_ms: f64) -> f64 {
    if oha_ms > 0.0 {
        (probe_ms - oha_ms) / oha_ms
    } else if probe_ms == oha_ms {
        0.0
    } else {
        f64::INFINITY
    }
}

// ---------------------------------------------------------------------------------------------
// The fixture endpoint

/// Length of the delay cycle.
const DELAY_CYCLE: u64 = 100;
/// Visits the cycle in a scrambled but fixed order: coprime with `DELAY_CYCLE`, so every
/// `DELAY_CYCLE` consecutive requests see each delay exactly once.
const DELAY_STRIDE: u64 = 37;

/// The delay of the fixture's `index`-th answer: step k of the cycle waits
/// 2 ms + 18 ms × (k/99)², so the median is about 6.4 ms, p95 about 18.2 ms and p99 19.6 ms.
fn fixture_delay(index: u64) -> Duration {
    let step = (index % DELAY_CYCLE) * DELAY_STRIDE % DELAY_CYCLE;
    let last = DELAY_CYCLE - 1;
    Duration::from_micros(2_000 + 18_000 * step * step / (last * last))
}

fn fixture_delays_sorted() -> Vec<Duration> {
    let mut delays: Vec<Duration> = (0..DELAY_CYCLE).map(fixture_delay).collect();
    delays.sort();
    delays
}

/// Nearest-rank percentiles of one cycle of delays.
fn fixture_delay_percentiles() -> Percentiles {
    let delays = fixture_delays_sorted();
    let at = |q: f64| {
        let rank = ((q * delays.len() as f64).ceil() as usize).clamp(1, delays.len());
        delays.get(rank - 1).copied().map_or(0.0, ms)
    };
    Percentiles {
        p50_ms: at(0.50),
        p95_ms: at(0.95),
        p99_ms: at(0.99),
    }
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

/// The fixture endpoint, served from its own thread and runtime until `stop`.
struct Fixture {
    addr: SocketAddr,
    /// Requests answered since the last `reset`; also picks each answer's delay.
    served: Arc<AtomicU64>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<Result<(), String>>>,
}

impl Fixture {
    fn start() -> BenchResult<Fixture> {
        let fail = |e: std::io::Error| format!("probes: fixture endpoint: {e}");
        // Bound here, so the address is known and taken before the thread starts.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").map_err(fail)?;
        listener.set_nonblocking(true).map_err(fail)?;
        let addr = listener.local_addr().map_err(fail)?;
        let served = Arc::new(AtomicU64::new(0));
        let (shutdown, stopped) = tokio::sync::oneshot::channel::<()>();
        let counter = served.clone();
        let thread = std::thread::Builder::new()
            .name("probe-fixture".into())
            .spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .map_err(|e| format!("fixture runtime: {e}"))?;
                runtime.block_on(async move {
                    let listener = tokio::net::TcpListener::from_std(listener)
                        .map_err(|e| format!("fixture listener: {e}"))?;
                    let app = axum::Router::new()
                        .route("/", axum::routing::get(answer))
                        .with_state(counter);
                    axum::serve(listener, app)
                        .with_graceful_shutdown(async {
                            let _ = stopped.await;
                        })
                        .await
                        .map_err(|e| format!("fixture server: {e}"))
                })
            })
            .map_err(fail)?;
        Ok(Fixture {
            addr,
            served,
            shutdown: Some(shutdown),
            thread: Some(thread),
        })
    }

    /// Starts the delay cycle and the count afresh, before a measured run.
    fn reset(&self) {
        self.served.store(0, Ordering::SeqCst);
    }

    fn served(&self) -> u64 {
        self.served.load(Ordering::SeqCst)
    }

    /// Stops serving and waits for the thread; reports the server's error if it had one.
    fn stop(mut self) -> BenchResult {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        match self.thread.take().map(std::thread::JoinHandle::join) {
            Some(Ok(Err(e))) => Err(format!("probes: {e}")),
            Some(Err(_)) => Err("probes: the fixture thread panicked".into()),
            Some(Ok(Ok(()))) | None => Ok(()),
        }
    }
}

impl Drop for Fixture {
    /// On an early return the server is told to stop; the thread is not waited for.
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
    }
}

async fn answer(
    axum::extract::State(served): axum::extract::State<Arc<AtomicU64>>,
) -> &'static str {
    let index = served.fetch_add(1, Ordering::SeqCst);
    let delay = fixture_delay(index);
    // Not `tokio::time::sleep`: tokio's timer wakes on whole milliseconds, up to 2 ms late, by
    // an amount that depends on where the request fell within the millisecond. A thread's
    // sleep (nanosleep) is within a few tens of microseconds, so the delays are what they say.
    let _ = tokio::task::spawn_blocking(move || std::thread::sleep(delay)).await;
    "ok"
}

// ---------------------------------------------------------------------------------------------
// oha

const OHA_INSTALL: &str = "install it with `cargo install oha --locked` (it lands in ~/.cargo/bin) or pass its path with --oha";

async fn oha_version(oha: &std::path::Path) -> BenchResult<String> {
    let output = tokio::process::Command::new(oha)
        .arg("--version")
        .output()
        .await
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => {
                format!("probes: oha not found at {oha:?}: {OHA_INSTALL}")
            }
            _ => format!("probes: cannot run {oha:?}: {e}; {OHA_INSTALL}"),
        })?;
    if !output.status.success() {
        return Err(format!(
            "probes: `{} --version` failed ({}): {OHA_INSTALL}",
            oha.display(),
            output.status
        ));
    }
    Ok(String::from_utf8_lossy(&output.stdout).trim().to_owned())
}

/// oha's open-model run: `-q` requests per second for `-z`, latency counted from each
/// request's scheduled time (`--latency-correction`), at most `MAX_IN_FLIGHT` connections,
/// and requests still in flight at the deadline waited for rather than dropped (the probe
/// waits for them too).
fn oha_args(rate: u32, duration: Duration, url: &Url) -> Vec<String> {
    vec![
        "-q".into(),
        rate.to_string(),
        "-z".into(),
        format!("{}s", duration.as_secs()),
        "-c".into(),
        MAX_IN_FLIGHT.to_string(),
        "--latency-correction".into(),
        "--wait-ongoing-requests-after-deadline".into(),
        "--no-tui".into(),
        "--output-format".into(),
        "json".into(),
        url.to_string(),
    ]
}

async fn run_oha(oha: &std::path::Path, args: &[String]) -> BenchResult<OhaReport> {
    let output = tokio::process::Command::new(oha)
        .args(args)
        .stdin(std::process::Stdio::null())
        .output()
        .await
        .map_err(|e| format!("probes: cannot run {}: {e}; {OHA_INSTALL}", oha.display()))?;
    if !output.status.success() {
        return Err(format!(
            "probes: oha {} failed ({}): {}",
            args.join(" "),
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    parse_oha(&String::from_utf8_lossy(&output.stdout))
}

/// The parts of oha's `--output-format json` report read here (oha 1.x). Latencies are in
/// seconds; oha writes NaN (no samples) as null.
#[derive(Debug, Deserialize)]
struct OhaReport {
    summary: OhaSummary,
    #[serde(rename = "latencyPercentiles")]
    latency_percentiles: BTreeMap<String, Option<f64>>,
    #[serde(rename = "statusCodeDistribution", default)]
    status_code_distribution: BTreeMap<String, u64>,
    #[serde(rename = "errorDistribution", default)]
    error_distribution: BTreeMap<String, u64>,
}

#[derive(Debug, Deserialize)]
struct OhaSummary {
    slowest: Option<f64>,
    #[serde(rename = "requestsPerSec")]
    requests_per_sec: Option<f64>,
}

fn parse_oha(stdout: &str) -> BenchResult<OhaReport> {
    serde_json::from_str(stdout).map_err(|e| {
        let start: String = stdout.chars().take(200).collect();
        format!("probes: oha's JSON was not as expected ({e}); it began: {start:?}")
    })
}

fn oha_latency(report: &OhaReport, served: u64) -> BenchResult<ClientLatency> {
    let percentile = |key: &str| {
        report
            .latency_percentiles
            .get(key)
            .copied()
            .flatten()
            .map(|seconds| seconds * 1000.0)
            .ok_or_else(|| {
                format!(
                    "probes: oha reported no {key} (answers: {:?}, errors: {:?})",
                    report.status_code_distribution, report.error_distribution
                )
            })
    };
    Ok(ClientLatency {
        // oha's percentiles are over every request that got an answer, whatever its status.
        n: report.status_code_distribution.values().sum(),
        percentiles: Percentiles {
            p50_ms: percentile("p50")?,
            p95_ms: percentile("p95")?,
            p99_ms: percentile("p99")?,
        },
        max_ms: report.summary.slowest.map(|s| s * 1000.0),
        achieved_rate: report.summary.requests_per_sec.unwrap_or(0.0),
        errors: report.error_distribution.values().sum(),
        served,
    })
}

// ---------------------------------------------------------------------------------------------
// PostgreSQL: the probe on a generated schema

/// The admin URL to use, or why the PostgreSQL part is skipped.
fn postgres_admin_url(pg_url: Option<&str>) -> Result<String, String> {
    let url = pg_url.map(str::trim).unwrap_or_default();
    if url.is_empty() {
        return Err("skipped: no --pg-url and TEST_DATABASE_URL is not set".into());
    }
    if !url.starts_with("postgres://") && !url.starts_with("postgresql://") {
        return Err("skipped: --pg-url / TEST_DATABASE_URL does not name PostgreSQL".into());
    }
    Ok(url.to_owned())
}

/// The admin URL with its database replaced, keeping only the parameters a probe target may
/// carry (`PostgresTarget::parse` refuses the others).
fn database_url(admin_url: &str, database: &str) -> BenchResult<String> {
    let mut url =
        Url::parse(admin_url).map_err(|e| format!("probes: --pg-url is not a URL: {e}"))?;
    url.set_path(&format!("/{database}"));
    let kept: Vec<(String, String)> = url
        .query_pairs()
        .filter(|(k, _)| matches!(&**k, "sslmode" | "application_name" | "connect_timeout"))
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    url.set_query(None);
    if !kept.is_empty() {
        url.query_pairs_mut().extend_pairs(kept);
    }
    Ok(url.to_string())
}

/// An sqlx error as one line, without the URL (it may hold a password).
fn pg_error(what: &str, e: &sqlx::Error) -> String {
    match e {
        sqlx::Error::Database(db) => format!("probes: {what}: {}", db.message()),
        other => format!("probes: {what}: {other}"),
    }
}

async fn postgres_on_generated_schema(
    admin_url: &str,
    tables: usize,
) -> BenchResult<PostgresFigures> {
    println!("PostgreSQL: creating {BENCH_DATABASE} with {tables} tables");
    let mut admin = PgConnection::connect(admin_url)
        .await
        .map_err(|e| pg_error("connecting with --pg-url", &e))?;
    // A run that failed half-way may have left the database behind.
    for sql in [
        format!("drop database if exists {BENCH_DATABASE} with (force)"),
        format!("create database {BENCH_DATABASE}"),
    ] {
        sqlx::raw_sql(&sql)
            .execute(&mut admin)
            .await
            .map_err(|e| pg_error(&sql, &e))?;
    }
    let preloaded =
        sqlx::query_scalar::<_, String>("select current_setting('shared_preload_libraries')")
            .fetch_one(&mut admin)
            .await
            .map(|libraries| libraries.contains("pg_stat_statements"))
            .unwrap_or(false);

    let url = database_url(admin_url, BENCH_DATABASE)?;
    let outcome = async {
        let setup_started = Instant::now();
        let (schema, workload) = build_schema(&url, tables, preloaded).await?;
        let setup_seconds = setup_started.elapsed().as_secs_f64();
        println!("PostgreSQL: schema ready in {setup_seconds:.1}s; running the PostgreSQL probe");
        probe_database(&url, schema, workload, setup_seconds).await
    }
    .await;

    // Dropped whatever happened above; a failure here is reported only if the run succeeded.
    let dropped = sqlx::raw_sql(&format!(
        "drop database if exists {BENCH_DATABASE} with (force)"
    ))
    .execute(&mut admin)
    .await
    .map_err(|e| pg_error("dropping the bench database", &e));
    let _ = admin.close().await;
    let figures = outcome?;
    dropped?;
    Ok(figures)
}

/// Creates the schema and its rows in the (empty) database at `url`, runs `analyze` and then a
/// small read workload. Returns the schema's figures and how many workload statements ran.
async fn build_schema(
    url: &str,
    tables: usize,
    preloaded: bool,
) -> BenchResult<(SchemaStats, u64)> {
    let mut conn = PgConnection::connect(url)
        .await
        .map_err(|e| pg_error("connecting to the bench database", &e))?;
    // As on a client's server where it is loaded; where it is not, the probe says so.
    if preloaded {
        sqlx::raw_sql("create extension if not exists pg_stat_statements")
            .execute(&mut conn)
            .await
            .map_err(|e| pg_error("create extension pg_stat_statements", &e))?;
    }
    let schema = Schema::generate(tables);
    for sql in schema.statements() {
        sqlx::raw_sql(&sql).execute(&mut conn).await.map_err(|e| {
            let head: String = sql.chars().take(120).collect();
            pg_error(&format!("schema statement `{head}`"), &e)
        })?;
    }
    sqlx::raw_sql("analyze")
        .execute(&mut conn)
        .await
        .map_err(|e| pg_error("analyze", &e))?;
    // pg_stat_statements should hold the application's statements, not our set-up.
    if preloaded {
        let _ = sqlx::raw_sql("select pg_stat_statements_reset()")
            .execute(&mut conn)
            .await;
    }
    let statements = run_workload(&mut conn, &schema).await?;
    let _ = conn.close().await;
    Ok((schema.stats(), statements))
}

/// Lookups by key on each table with rows (one statement per row: the N+1 shape).
const LOOKUPS_PER_TABLE: i64 = 20;

/// An application's reads, so that pg_stat_statements (where loaded) and the table statistics
/// hold something for the workload and runtime checks to read: lookups by key, a count, and a
/// join to each parent that holds rows, on every table with rows. Returns how many ran.
async fn run_workload(conn: &mut PgConnection, schema: &Schema) -> BenchResult<u64> {
    let fail = |e: sqlx::Error| pg_error("workload", &e);
    let mut statements = 0;
    for table in schema.tables.iter().filter(|t| t.rows > 0 && t.primary_key) {
        let by_key = format!("select * from {0} where {0}_id = $1", table.name);
        for id in 1..=LOOKUPS_PER_TABLE {
            sqlx::query(&by_key)
                .bind(id)
                .fetch_optional(&mut *conn)
                .await
                .map_err(fail)?;
            statements += 1;
        }
        sqlx::query(&format!("select count(*) from {}", table.name))
            .fetch_one(&mut *conn)
            .await
            .map_err(fail)?;
        statements += 1;
        for (parent, _) in &table.foreign_keys {
            let parent = &schema.tables[*parent];
            if parent.rows == 0 {
                continue;
            }
            sqlx::query(&format!(
                "select c.*, p.* from {child} c join {parent} p using ({parent}_id)
                 order by c.{child}_id limit 100",
                child = table.name,
                parent = parent.name
            ))
            .fetch_all(&mut *conn)
            .await
            .map_err(fail)?;
            statements += 1;
        }
    }
    Ok(statements)
}

/// Runs the PostgreSQL probe as a probe-run job does and times it.
async fn probe_database(
    url: &str,
    schema: SchemaStats,
    workload_statements: u64,
    setup_seconds: f64,
) -> BenchResult<PostgresFigures> {
    let target = PostgresTarget::parse(url).map_err(|e| format!("probes: probe target: {e}"))?;
    // The bench's own server may be on loopback or a private network, which the guard refuses
    // unless allow-listed (as PLUMBLINE_PROBE_ALLOW does); this is our database, so allow all.
    let allow = Guard::parse_allow_list("0.0.0.0/0, ::/0")
        .map_err(|e| format!("probes: allow-list: {e}"))?;
    let guard = Guard::new(allow);
    let started = Instant::now();
    let output = postgres::run(&target, &guard, &Progress::new())
        .await
        .map_err(|e| format!("probes: the PostgreSQL probe failed: {e}"))?;
    let probe_seconds = started.elapsed().as_secs_f64();

    let mut statuses = BTreeMap::new();
    for check in &output.checks {
        *statuses
            .entry(check.status.as_str().to_owned())
            .or_default() += 1;
    }
    Ok(PostgresFigures {
        database: BENCH_DATABASE.to_owned(),
        server_version_num: output
            .raw
            .get("server_version_num")
            .and_then(|v| v.as_i64()),
        schema,
        workload_statements,
        setup_seconds,
        probe_seconds,
        budget_seconds: POSTGRES_BUDGET_SECONDS,
        within_budget: probe_seconds < POSTGRES_BUDGET_SECONDS,
        checks: output.checks.len(),
        statuses,
        pg_stat_statements: output
            .raw
            .get("pg_stat_statements")
            .cloned()
            .unwrap_or_default(),
        check_results: output
            .checks
            .iter()
            .map(|c| CheckFigure {
                id: c.id.clone(),
                status: c.status.as_str().to_owned(),
                summary: c.summary.clone(),
            })
            .collect(),
    })
}

/// What a table of the generated schema is made of.
#[derive(Debug, Clone)]
struct Table {
    name: String,
    /// `<name>_id bigint generated always as identity primary key`, or no primary key at all
    /// (an append-only log table, as real schemas have a few).
    primary_key: bool,
    /// (name, type) from `COLUMN_KINDS`.
    columns: Vec<(&'static str, &'static str)>,
    /// (referenced table's index, indexed?).
    foreign_keys: Vec<(usize, bool)>,
    /// `created_at` / `updated_at`.
    timestamps: bool,
    /// An index on the first plain column; `duplicate` adds a second identical one.
    indexed_column: bool,
    duplicate_index: bool,
    rows: u64,
}

/// Names the tables are made from: what a business application's schema holds.
const ENTITIES: [&str; 20] = [
    "customer",
    "account",
    "order",
    "order_line",
    "invoice",
    "payment",
    "product",
    "price",
    "shipment",
    "address",
    "subscription",
    "plan",
    "coupon",
    "review",
    "ticket",
    "message",
    "audit_event",
    "session",
    "warehouse",
    "stock_move",
];

/// Plain columns: (name, type, the value of row `g` when rows are loaded).
const COLUMN_KINDS: [(&str, &str, &str); 12] = [
    ("name", "text not null", "'name ' || g"),
    ("email", "text", "'user' || g || '@example.com'"),
    (
        "status",
        "varchar(20) not null",
        "case when g % 10 = 0 then 'closed' else 'active' end",
    ),
    ("amount", "numeric(12, 2)", "(g % 1000) * 1.25"),
    ("quantity", "integer not null", "g % 97"),
    ("is_active", "boolean not null", "g % 3 <> 0"),
    ("metadata", "jsonb", "jsonb_build_object('n', g)"),
    ("starts_on", "date", "date '2024-01-01' + (g % 365)::int"),
    ("external_ref", "uuid", "md5(g::text)::uuid"),
    ("notes", "text", "null"),
    ("score", "double precision", "g * 0.5"),
    ("code", "varchar(32)", "'C' || g"),
];

/// A fixed pseudo-random number from (table, foreign key): parents spread over the earlier
/// tables instead of all pointing at one.
fn spread(table: usize, key: usize) -> usize {
    let mixed = (table as u64)
        .wrapping_mul(6_364_136_223_846_793_005)
        .wrapping_add((key as u64 + 1).wrapping_mul(1_442_695_040_888_963_407));
    (mixed >> 33) as usize
}

/// The generated schema: deterministic, the same for the same table count.
struct Schema {
    tables: Vec<Table>,
}

impl Schema {
    fn generate(count: usize) -> Schema {
        let mut tables: Vec<Table> = Vec::with_capacity(count);
        let mut fk_counter = 0usize;
        for i in 0..count {
            let name = format!("{}_{i:03}", ENTITIES[i % ENTITIES.len()]);
            // One table in 25 is a log without a primary key.
            let primary_key = i % 25 != 24;
            let width = 3 + (i * 7) % 8; // 3..=10 plain columns
            let columns = (0..width)
                .map(|c| {
                    let (name, kind, _) = COLUMN_KINDS[(i + c) % COLUMN_KINDS.len()];
                    (name, kind)
                })
                .collect();
            // From the eleventh table on, most tables point at one or two earlier ones (which
            // have a primary key); one foreign key in three has no index.
            let mut foreign_keys: Vec<(usize, bool)> = Vec::new();
            if i >= 10 && i % 4 != 1 {
                let wanted = if i % 5 == 0 { 2 } else { 1 };
                for k in 0..wanted {
                    let mut parent = spread(i, k) % i;
                    while parent > 0 && !tables[parent].primary_key {
                        parent -= 1;
                    }
                    if foreign_keys.iter().any(|(p, _)| *p == parent) {
                        continue;
                    }
                    foreign_keys.push((parent, fk_counter % 3 != 2));
                    fk_counter += 1;
                }
            }
            tables.push(Table {
                name,
                primary_key,
                columns,
                foreign_keys,
                timestamps: i % 10 != 3,
                indexed_column: i % 4 == 0,
                duplicate_index: i % 50 == 0,
                // One table in ten holds 1,000–5,000 rows.
                rows: if i % 10 == 0 {
                    1_000 + (i as u64 * 137) % 4_000
                } else {
                    0
                },
            });
        }
        Schema { tables }
    }

    /// The statements, in order: each table with its indexes, then its rows.
    fn statements(&self) -> Vec<String> {
        let mut statements = Vec::new();
        for table in &self.tables {
            let mut columns: Vec<String> = Vec::new();
            if table.primary_key {
                columns.push(format!(
                    "{}_id bigint generated always as identity primary key",
                    table.name
                ));
            }
            for (name, kind) in &table.columns {
                columns.push(format!("{name} {kind}"));
            }
            for (parent, _) in &table.foreign_keys {
                let parent = &self.tables[*parent].name;
                columns.push(format!(
                    "{parent}_id bigint references {parent} ({parent}_id)"
                ));
            }
            if table.timestamps {
                columns.push("created_at timestamptz not null default now()".into());
                columns.push("updated_at timestamptz not null default now()".into());
            }
            statements.push(format!(
                "create table {} (\n  {}\n)",
                table.name,
                columns.join(",\n  ")
            ));
            for (parent, indexed) in &table.foreign_keys {
                if *indexed {
                    let parent = &self.tables[*parent].name;
                    statements.push(format!(
                        "create index {0}_{1}_id_idx on {0} ({1}_id)",
                        table.name, parent
                    ));
                }
            }
            if let (true, Some((column, _))) = (table.indexed_column, table.columns.first()) {
                statements.push(format!(
                    "create index {0}_{1}_idx on {0} ({1})",
                    table.name, column
                ));
                if table.duplicate_index {
                    statements.push(format!(
                        "create index {0}_{1}_again_idx on {0} ({1})",
                        table.name, column
                    ));
                }
            }
            if table.rows > 0 {
                statements.push(self.insert(table));
            }
        }
        statements
    }

    /// `insert … select … from generate_series`: foreign keys point at parent rows that exist
    /// (or are null when the parent holds none).
    fn insert(&self, table: &Table) -> String {
        let mut names: Vec<String> = Vec::new();
        let mut values: Vec<String> = Vec::new();
        for (name, _) in &table.columns {
            names.push((*name).to_owned());
            let value = COLUMN_KINDS
                .iter()
                .find(|(n, _, _)| n == name)
                .map_or("null", |(_, _, v)| v);
            values.push(value.to_owned());
        }
        for (parent, _) in &table.foreign_keys {
            let parent = &self.tables[*parent];
            names.push(format!("{}_id", parent.name));
            values.push(if parent.rows > 0 {
                format!("1 + g % {}", parent.rows)
            } else {
                "null".into()
            });
        }
        format!(
            "insert into {} ({}) select {} from generate_series(1, {}) as g",
            table.name,
            names.join(", "),
            values.join(", "),
            table.rows
        )
    }

    fn stats(&self) -> SchemaStats {
        let mut stats = SchemaStats {
            tables: self.tables.len(),
            ..SchemaStats::default()
        };
        for table in &self.tables {
            stats.tables_without_primary_key += usize::from(!table.primary_key);
            stats.columns += usize::from(table.primary_key)
                + table.columns.len()
                + table.foreign_keys.len()
                + if table.timestamps { 2 } else { 0 };
            stats.foreign_keys += table.foreign_keys.len();
            for (_, indexed) in &table.foreign_keys {
                if *indexed {
                    stats.indexes += 1;
                } else {
                    stats.unindexed_foreign_keys += 1;
                }
            }
            if table.indexed_column {
                stats.indexes += 1 + usize::from(table.duplicate_index);
            }
            if table.rows > 0 {
                stats.tables_with_rows += 1;
                stats.rows += table.rows;
            }
        }
        stats
    }
}

// ---------------------------------------------------------------------------------------------
// The summary on stdout

fn summary(figures: &ProbeFigures) -> String {
    let mut out = String::new();
    let h = &figures.http;
    out.push_str(&format!(
        "\nHTTP probe vs oha ({}), {} rps for {:.0} s, median of {} rounds; fixture delays p50 {:.1} / p95 {:.1} / p99 {:.1} ms\n",
        h.oha_version,
        h.rate,
        h.duration_s,
        h.rounds.len(),
        h.fixture_delay.p50_ms,
        h.fixture_delay.p95_ms,
        h.fixture_delay.p99_ms
    ));
    out.push_str(&format!(
        "  {:<5} {:>10} {:>10} {:>8}  within {:.0} %\n",
        "",
        "probe ms",
        "oha ms",
        "diff",
        h.budget_relative * 100.0
    ));
    for c in &h.comparison {
        out.push_str(&format!(
            "  {:<5} {:>10.2} {:>10.2} {:>+7.1}%  {}\n",
            c.percentile,
            c.probe_ms,
            c.oha_ms,
            c.relative_difference * 100.0,
            if c.within_budget { "yes" } else { "NO" }
        ));
    }
    for (round, (name, client)) in h
        .rounds
        .iter()
        .enumerate()
        .flat_map(|(i, r)| [(i + 1, ("probe", &r.probe)), (i + 1, ("oha", &r.oha))])
    {
        out.push_str(&format!(
            "  round {round} {name:<5}: p50 {:.2} p95 {:.2} p99 {:.2} ms, n={} errors={} served={} rate={:.1} rps max={}\n",
            client.percentiles.p50_ms,
            client.percentiles.p95_ms,
            client.percentiles.p99_ms,
            client.n,
            client.errors,
            client.served,
            client.achieved_rate,
            client
                .max_ms
                .map_or_else(|| "–".to_owned(), |v| format!("{v:.1} ms"))
        ));
    }
    match (&figures.postgres, &figures.postgres_skipped) {
        (Some(pg), _) => {
            let s = &pg.schema;
            out.push_str(&format!(
                "\nPostgreSQL probe on {} tables ({} foreign keys, {} without index; {} indexes; {} rows in {} tables): {:.2} s (budget {:.0} s: {})\n",
                s.tables,
                s.foreign_keys,
                s.unindexed_foreign_keys,
                s.indexes,
                s.rows,
                s.tables_with_rows,
                pg.probe_seconds,
                pg.budget_seconds,
                if pg.within_budget { "within" } else { "MISSED" }
            ));
            let statuses: Vec<String> = pg
                .statuses
                .iter()
                .map(|(status, n)| format!("{n} {status}"))
                .collect();
            out.push_str(&format!(
                "  {} checks: {}; schema set-up and {} workload statements {:.1} s\n",
                pg.checks,
                statuses.join(", "),
                pg.workload_statements,
                pg.setup_seconds
            ));
            for c in &pg.check_results {
                out.push_str(&format!("  {:<14} {}: {}\n", c.status, c.id, c.summary));
            }
        }
        (None, Some(why)) => out.push_str(&format!("\nPostgreSQL probe: {why}\n")),
        (None, None) => {}
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_delay_cycle_sees_every_value_once_per_hundred_requests() {
        let mut first: Vec<Duration> = (0..DELAY_CYCLE).map(fixture_delay).collect();
        let mut shifted: Vec<Duration> = (37..37 + DELAY_CYCLE).map(fixture_delay).collect();
        first.sort();
        shifted.sort();
        assert_eq!(first, shifted);
        first.dedup();
        assert_eq!(first.len() as u64, DELAY_CYCLE);
        assert_eq!(first.first(), Some(&Duration::from_millis(2)));
        assert_eq!(first.last(), Some(&Duration::from_millis(20)));
        let p = fixture_delay_percentiles();
        assert!((6.0..7.0).contains(&p.p50_ms), "{p:?}");
        assert!((18.0..18.5).contains(&p.p95_ms), "{p:?}");
        assert!((19.5..20.0).contains(&p.p99_ms), "{p:?}");
    }

    #[test]
    fn oha_json_is_read() {
        // Trimmed from oha 1.16's `--output-format json`.
        let json = r#"{
          "summary": {"successRate": 1.0, "total": 20.01, "slowest": 0.0213, "fastest": 0.0021,
                      "average": 0.0079, "requestsPerSec": 99.95, "totalData": 4000,
                      "sizePerRequest": 2, "sizePerSec": 199.9},
          "responseTimeHistogram": {"0.002": 10},
          "latencyPercentiles": {"p10": 0.0025, "p25": 0.0036, "p50": 0.0071, "p75": 0.0121,
                                 "p90": 0.0171, "p95": 0.0188, "p99": 0.0201, "p99.9": 0.0209,
                                 "p99.99": 0.0213},
          "rps": {"mean": 100.0, "stddev": 1.0, "max": 101.0, "min": 99.0, "percentiles": {}},
          "details": {},
          "statusCodeDistribution": {"200": 1999, "503": 1},
          "errorDistribution": {"aborted due to deadline": 2}
        }"#;
        let report = parse_oha(json).expect("parses");
        let latency = oha_latency(&report, 2000).expect("has percentiles");
        assert_eq!(latency.n, 2000);
        assert_eq!(latency.errors, 2);
        assert!((latency.percentiles.p50_ms - 7.1).abs() < 1e-9);
        assert!((latency.percentiles.p99_ms - 20.1).abs() < 1e-9);
        assert!(parse_oha("not json").is_err());
        // No samples: oha writes NaN as null; that is an error, not a zero.
        let empty = r#"{"summary": {"slowest": null, "requestsPerSec": 0.0},
                        "latencyPercentiles": {"p50": null, "p95": null, "p99": null}}"#;
        let report = parse_oha(empty).expect("parses");
        assert!(oha_latency(&report, 0).is_err());
    }

    #[test]
    fn percentiles_are_compared_relative_to_oha() {
        let probe = Percentiles {
            p50_ms: 7.5,
            p95_ms: 18.0,
            p99_ms: 23.0,
        };
        let oha = Percentiles {
            p50_ms: 7.0,
            p95_ms: 18.0,
            p99_ms: 20.0,
        };
        let c = compare(&probe, &oha);
        assert_eq!(
            c.iter().map(|c| c.within_budget).collect::<Vec<_>>(),
            [true, true, false]
        );
        assert!((c[2].relative_difference - 0.15).abs() < 1e-9);
        assert_eq!(relative_difference(0.0, 0.0), 0.0);

        // The median of each percentile over the rounds: one noisy round does not decide.
        let noisy = Percentiles {
            p50_ms: 9.0,
            p95_ms: 30.0,
            p99_ms: 90.0,
        };
        let median = median_percentiles([probe, noisy, oha].into_iter());
        assert_eq!(
            median,
            Percentiles {
                p50_ms: 7.5,
                p95_ms: 18.0,
                p99_ms: 23.0
            }
        );
        let two = median_percentiles([probe, oha].into_iter());
        assert!((two.p99_ms - 21.5).abs() < 1e-9);
    }

    #[test]
    fn the_schema_has_the_tables_and_keys_it_claims() {
        let schema = Schema::generate(500);
        let statements = schema.statements();
        let creates = statements
            .iter()
            .filter(|s| s.starts_with("create table "))
            .count();
        assert_eq!(creates, 500);
        let stats = schema.stats();
        assert_eq!(stats.tables, 500);
        assert_eq!(stats.tables_without_primary_key, 20);
        assert_eq!(stats.tables_with_rows, 50);
        assert!(stats.foreign_keys > 300, "{stats:?}");
        assert!(stats.unindexed_foreign_keys > 100, "{stats:?}");
        // Every foreign key points at an earlier table that has a primary key.
        for (i, table) in schema.tables.iter().enumerate() {
            for (parent, _) in &table.foreign_keys {
                assert!(*parent < i);
                assert!(schema.tables[*parent].primary_key);
            }
        }
        let mut parents: Vec<usize> = schema
            .tables
            .iter()
            .flat_map(|t| t.foreign_keys.iter().map(|(p, _)| *p))
            .collect();
        parents.sort_unstable();
        parents.dedup();
        assert!(parents.len() > 100, "{} parents", parents.len());
        // Names are unique (a clash would fail the create).
        let mut names: Vec<&str> = schema.tables.iter().map(|t| t.name.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), 500);
        let indexes = statements
            .iter()
            .filter(|s| s.starts_with("create index "))
            .count();
        assert_eq!(indexes, stats.indexes);
        let inserts = statements
            .iter()
            .filter(|s| s.starts_with("insert into "))
            .count();
        assert_eq!(inserts, 50);
    }

    #[test]
    fn the_bench_database_url_keeps_only_probe_parameters() {
        let url = database_url(
            "postgres://postgres:pw@127.0.0.1:5432/postgres?sslmode=disable&options=-c%20x",
            BENCH_DATABASE,
        )
        .expect("a URL");
        assert_eq!(
            url,
            "postgres://postgres:pw@127.0.0.1:5432/plumbline_bench_probe?sslmode=disable"
        );
        assert!(PostgresTarget::parse(&url).is_ok());
        assert!(postgres_admin_url(None).is_err());
        assert!(postgres_admin_url(Some("sqlite://x.db")).is_err());
    }
}
