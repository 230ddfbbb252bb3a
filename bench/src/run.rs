//! The whole benchmark run: for each database, seed a large firm, start the release server, load
//! every route at 1, 50 and 200 connections; then export the large report beside Chromium and
//! WeasyPrint, run the probes' own benchmark, size the wasm bundle, and write BENCHMARKS.md and
//! bench/results.json.
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::load::{LoadPoint, Target, Wrk};
use crate::proc::{self, Server};
use crate::{scratch_dir, BenchResult};

#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// The release `plumbline` binary.
    #[arg(long)]
    pub plumbline: PathBuf,
    /// The built site (target/site of a release `cargo xtask site --release`).
    #[arg(long)]
    pub site_root: PathBuf,
    /// The repository root: BENCHMARKS.md, bench/results.json and bench/load.lua live there.
    #[arg(long)]
    pub repo: PathBuf,
    #[arg(long, default_value = "wrk")]
    pub wrk: PathBuf,
    #[arg(long, default_value = "oha")]
    pub oha: PathBuf,
    #[arg(long, default_value = "/usr/bin/chromium")]
    pub chromium: PathBuf,
    #[arg(long)]
    pub weasyprint: Option<PathBuf>,
    /// PostgreSQL server to run on as well (an admin URL; a database `plumbline_bench` is made).
    #[arg(long, env = "TEST_DATABASE_URL")]
    pub postgres: Option<String>,
    #[arg(long, default_value_t = 2000)]
    pub engagements: usize,
    #[arg(long, default_value_t = 200)]
    pub complete: usize,
    /// Seconds of each load point (after a 2 s warm-up).
    #[arg(long, default_value_t = 10)]
    pub seconds: u32,
    /// Connection counts of the load points.
    #[arg(long, value_delimiter = ',', default_value = "1,50,200")]
    pub connections: Vec<u32>,
    /// Leave out bench/scale-out.sh, which otherwise runs when PostgreSQL is available (about
    /// two minutes).
    #[arg(long)]
    pub no_scale_out: bool,
    /// The command line to print as "how to reproduce".
    #[arg(long, default_value = "cargo xtask bench")]
    pub command: String,
}

/// Everything one run measured; `bench/results.json` is this, BENCHMARKS.md is written from it.
#[derive(Debug, Serialize, Deserialize)]
pub struct Results {
    pub command: String,
    pub finished_at: String,
    pub git_commit: String,
    pub machine: Machine,
    pub scale: Scale,
    pub backends: Vec<Backend>,
    pub report: Option<ReportFigures>,
    pub probes: Option<Value>,
    pub wasm: Option<WasmSize>,
    pub scale_out: Option<Value>,
    /// Steps that could not run, with why (a missing tool, no PostgreSQL).
    pub skipped: Vec<String>,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct Machine {
    pub cpu: String,
    pub cores: usize,
    pub memory_gb: f64,
    pub kernel: String,
    pub rustc: String,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct Scale {
    pub engagements: usize,
    pub complete: usize,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct Backend {
    pub name: String,
    pub seed_seconds: f64,
    pub cold_start_ms: f64,
    pub idle_rss_mb: f64,
    pub loaded_rss_mb: f64,
    pub peak_rss_mb: f64,
    pub loads: Vec<LoadPoint>,
    pub exports: Vec<Export>,
}

/// One report export through the server's draft download route.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Export {
    pub format: String,
    /// The first export after start: the model from the database, then the render.
    pub first_ms: f64,
    /// The same, unchanged report again.
    pub again_ms: f64,
    pub bytes: usize,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct ReportFigures {
    pub engagement_id: i64,
    pub ours: Engine,
    pub chromium: Option<Engine>,
    pub weasyprint: Option<Engine>,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct Engine {
    pub name: String,
    pub seconds: f64,
    pub peak_mb: f64,
    pub pages: Option<u32>,
    pub how: String,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct WasmSize {
    pub raw_bytes: u64,
    pub gzip_bytes: u64,
    pub brotli_bytes: Option<u64>,
}

pub async fn main(args: RunArgs) -> BenchResult {
    let scratch = scratch_dir().join("run");
    if scratch.exists() {
        std::fs::remove_dir_all(&scratch).map_err(|e| format!("{}: {e}", scratch.display()))?;
    }
    std::fs::create_dir_all(&scratch).map_err(|e| format!("{}: {e}", scratch.display()))?;
    let mut results = Results {
        command: args.command.clone(),
        finished_at: String::new(),
        git_commit: git_commit(&args.repo),
        machine: machine(),
        scale: Scale {
            engagements: args.engagements,
            complete: args.complete,
        },
        backends: Vec::new(),
        report: None,
        probes: None,
        wasm: None,
        scale_out: None,
        skipped: Vec::new(),
    };

    // SQLite first: the budgets are set on it, and the report baselines run against its server.
    let sqlite_url = format!("sqlite://{}/bench.db", scratch.display());
    let (backend, report) = backend_run(&args, "SQLite", &sqlite_url, &scratch, true).await?;
    results.backends.push(backend);
    results.report = report;

    match args.postgres.as_deref().filter(|u| !u.trim().is_empty()) {
        Some(admin) => {
            let url = fresh_postgres(admin, "plumbline_bench").await?;
            let (backend, _) = backend_run(&args, "PostgreSQL", &url, &scratch, false).await?;
            results.backends.push(backend);
        }
        None => results
            .skipped
            .push("PostgreSQL: TEST_DATABASE_URL is not set".into()),
    }

    step("probes: HTTP percentiles beside oha's, PostgreSQL probe on 500 tables");
    let probes_out = scratch.join("probes.json");
    let mut probes = Command::new(std::env::current_exe().map_err(|e| e.to_string())?);
    probes.arg("probes").arg("--out").arg(&probes_out);
    match run_inherit(&mut probes) {
        Ok(()) => results.probes = Some(read_json(&probes_out)?),
        Err(e) => results.skipped.push(format!("probes: {e}")),
    }

    step("wasm bundle size");
    match wasm_size(&args.site_root.join("pkg").join("plumbline_bg.wasm")) {
        Ok(size) => results.wasm = Some(size),
        Err(e) => results.skipped.push(format!("wasm size: {e}")),
    }

    let postgres = args
        .postgres
        .as_deref()
        .is_some_and(|u| !u.trim().is_empty());
    if postgres && !args.no_scale_out {
        step("scale-out: two servers and a worker on PostgreSQL behind nginx");
        let out = scratch.join("scale-out.json");
        let mut script = Command::new("bash");
        script
            .arg(args.repo.join("bench").join("scale-out.sh"))
            .env("PLUMBLINE_BIN", &args.plumbline)
            .env("PLUMBLINE_SITE_ROOT", &args.site_root)
            .env("SCALE_OUT_OUT", &out);
        match run_inherit(&mut script) {
            Ok(()) => results.scale_out = Some(read_json(&out)?),
            Err(e) => results.skipped.push(format!("scale-out: {e}")),
        }
    }

    results.finished_at = now_utc();
    let json = serde_json::to_string_pretty(&results).map_err(|e| e.to_string())?;
    let json_path = args.repo.join("bench").join("results.json");
    std::fs::write(&json_path, json + "\n").map_err(|e| format!("{}: {e}", json_path.display()))?;
    let md_path = write_benchmarks_md(&args.repo, &results)?;
    println!("\nwrote {} and {}", md_path.display(), json_path.display());
    Ok(())
}

/// `plumbline-bench write`: the repository whose results and notes to use.
#[derive(Debug, clap::Args)]
pub struct WriteArgs {
    #[arg(long, default_value = ".")]
    pub repo: PathBuf,
}

/// BENCHMARKS.md from the last run's results and the current notes; measures nothing.
pub fn write_only(args: &WriteArgs) -> BenchResult {
    let json_path = args.repo.join("bench").join("results.json");
    let json = std::fs::read_to_string(&json_path).map_err(|e| {
        format!(
            "{}: {e} (run `cargo xtask bench` first)",
            json_path.display()
        )
    })?;
    let results: Results =
        serde_json::from_str(&json).map_err(|e| format!("{}: {e}", json_path.display()))?;
    let md_path = write_benchmarks_md(&args.repo, &results)?;
    println!("wrote {} from {}", md_path.display(), json_path.display());
    Ok(())
}

/// Tables from `results`, then the hand-written notes.
fn write_benchmarks_md(repo: &Path, results: &Results) -> BenchResult<PathBuf> {
    let notes = std::fs::read_to_string(repo.join("bench").join("notes.md")).unwrap_or_default();
    let md_path = repo.join("BENCHMARKS.md");
    std::fs::write(&md_path, crate::write::benchmarks_md(results, &notes))
        .map_err(|e| format!("{}: {e}", md_path.display()))?;
    Ok(md_path)
}

fn step(title: &str) {
    println!("\n== {title}");
}

/// Seeds, starts, loads, measures one database; on SQLite also the report and its baselines.
async fn backend_run(
    args: &RunArgs,
    name: &str,
    url: &str,
    scratch: &Path,
    with_report: bool,
) -> BenchResult<(Backend, Option<ReportFigures>)> {
    let dir = scratch.join(name.to_lowercase());
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;

    step(&format!(
        "{name}: seed {} engagements ({} complete)",
        args.engagements, args.complete
    ));
    let manifest_path = dir.join("manifest.json");
    let started = Instant::now();
    let mut seed = Command::new(std::env::current_exe().map_err(|e| e.to_string())?);
    seed.arg("seed")
        .args(["--database-url", url])
        .args(["--engagements", &args.engagements.to_string()])
        .args(["--complete", &args.complete.to_string()])
        .arg("--manifest")
        .arg(&manifest_path);
    run_inherit(&mut seed)?;
    let seed_seconds = started.elapsed().as_secs_f64();
    let manifest = read_json(&manifest_path)?;

    step(&format!("{name}: start the release server"));
    let server =
        proc::start_server(&args.plumbline, url, &args.site_root, &dir.join("data")).await?;
    println!("cold start: {:.0} ms", server.cold_start_ms);
    // Let start-up work (migrations check, the worker's first poll) settle before reading memory.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let idle_rss_mb = proc::rss_mb(server.pid());
    println!("idle memory: {idle_rss_mb:.1} MB");

    let people = People::log_in(&server, &manifest, &dir, true).await?;
    let large = manifest_i64(&manifest, "large_engagement_id")?;
    let targets = vec![
        Target {
            route: "/healthz (baseline)".into(),
            path: "/healthz".into(),
            ..Target::default()
        },
        Target {
            route: "engagement list".into(),
            path: "/engagements".into(),
            sessions: Some(people.member.clone()),
            ..Target::default()
        },
        Target {
            route: "engagement overview".into(),
            path: format!("/engagements/{large}"),
            sessions: Some(people.member.clone()),
            ..Target::default()
        },
        Target {
            route: "questionnaire page (founder)".into(),
            path: "/questionnaire".into(),
            sessions: Some(people.founders.clone()),
            ..Target::default()
        },
        Target {
            route: "autosave (server fn)".into(),
            path: "/fn/save_answer".into(),
            sessions: Some(people.founders.clone()),
            autosave: true,
            ..Target::default()
        },
        Target {
            route: "REST list".into(),
            path: "/api/v1/engagements".into(),
            header: Some(format!("Authorization: Bearer {}", people.api_token)),
            ..Target::default()
        },
    ];
    let wrk = Wrk {
        wrk: args.wrk.clone(),
        script: args.repo.join("bench").join("load.lua"),
        base: server.base.clone(),
    };
    step(&format!("{name}: load ({} s per point)", args.seconds));
    let mut loads = Vec::new();
    for target in &targets {
        for &connections in &args.connections {
            let point = wrk.point(target, connections, args.seconds)?;
            println!(
                "{:<30} c={:<4} {:>8.0} req/s  p50 {:>7.2} ms  p95 {:>7.2} ms  p99 {:>7.2} ms  errors {}",
                point.route,
                connections,
                point.throughput_rps,
                point.p50_ms,
                point.p95_ms,
                point.p99_ms,
                point.errors
            );
            if point.requests == 0 {
                println!(
                    "  no request completed: the server's log is {}",
                    server.log.display()
                );
            }
            loads.push(point);
        }
    }
    let loaded_rss_mb = proc::rss_mb(server.pid());
    let peak_rss_mb = proc::hwm_mb(server.pid());
    println!("memory after load: {loaded_rss_mb:.1} MB (peak {peak_rss_mb:.1} MB)");
    drop(server);

    // The exports run on a server of their own, so its memory high-water mark is the report's.
    step(&format!("{name}: report export (fresh server)"));
    let server =
        proc::start_server(&args.plumbline, url, &args.site_root, &dir.join("data")).await?;
    // Founder links work once: the founders logged in above; the exports need only the member.
    let people = People::log_in(&server, &manifest, &dir, false).await?;
    let mut exports = Vec::new();
    let mut pdf_first = None;
    for format in ["pdf", "md", "html"] {
        let path = format!("/engagements/{large}/report/draft.{format}");
        let (first_ms, bytes) = people.get(&server, &path).await?;
        if format == "pdf" {
            pdf_first = Some((first_ms, proc::hwm_mb(server.pid())));
        }
        let (again_ms, _) = people.get(&server, &path).await?;
        let file = dir.join(format!("report.{format}"));
        std::fs::write(&file, &bytes).map_err(|e| format!("{}: {e}", file.display()))?;
        println!(
            "{format:<4} first {first_ms:>8.1} ms  again {again_ms:>8.1} ms  {} bytes",
            bytes.len()
        );
        exports.push(Export {
            format: format.into(),
            first_ms,
            again_ms,
            bytes: bytes.len(),
        });
    }
    drop(server);

    let cold_start_ms = cold_start(args, url, &dir).await?;
    let report = match (with_report, pdf_first) {
        (true, Some((ms, hwm))) => Some(report_baselines(args, &dir, large, ms, hwm)),
        _ => None,
    };
    Ok((
        Backend {
            name: name.into(),
            seed_seconds,
            cold_start_ms,
            idle_rss_mb,
            loaded_rss_mb,
            peak_rss_mb,
            loads,
            exports,
        },
        report,
    ))
}

/// Cold start on a migrated, seeded database: the best of five starts, as a user restarting
/// the service sees it once the binary is in the page cache.
async fn cold_start(args: &RunArgs, url: &str, dir: &Path) -> BenchResult<f64> {
    let mut best = f64::MAX;
    for _ in 0..5 {
        let server =
            proc::start_server(&args.plumbline, url, &args.site_root, &dir.join("data")).await?;
        best = best.min(server.cold_start_ms);
    }
    println!("cold start (best of 5): {best:.0} ms");
    Ok(best)
}

/// Our PDF beside Chromium's and WeasyPrint's on the same HTML.
fn report_baselines(
    args: &RunArgs,
    dir: &Path,
    engagement_id: i64,
    ours_ms: f64,
    ours_peak_mb: f64,
) -> ReportFigures {
    step("report baselines: the same HTML through Chromium and WeasyPrint");
    let html = dir.join("report.html");
    let ours = Engine {
        name: "Plumbline (Typst, in the server)".into(),
        seconds: ours_ms / 1000.0,
        peak_mb: ours_peak_mb,
        pages: pdf_pages(&dir.join("report.pdf")),
        how: "GET draft.pdf on a fresh server: model from the database, markup, typesetting; \
              peak = the server process's VmHWM"
            .into(),
    };
    let chromium_pdf = dir.join("chromium.pdf");
    let profile = dir.join("chromium-profile");
    let mut chromium = Command::new(&args.chromium);
    chromium
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-pdf-header-footer",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(format!("--print-to-pdf={}", chromium_pdf.display()))
        .arg(format!("file://{}", html.display()));
    let chromium = match proc::measure(&mut chromium, "chromium") {
        Ok(run) => Some(Engine {
            name: "Chromium --print-to-pdf".into(),
            seconds: run.seconds,
            peak_mb: run.peak_mb,
            pages: pdf_pages(&chromium_pdf),
            how: "headless, launch included; peak = sum of the process tree's RSS".into(),
        }),
        Err(e) => {
            println!("chromium: {e}");
            None
        }
    };
    let weasyprint = args.weasyprint.as_ref().and_then(|bin| {
        let out = dir.join("weasyprint.pdf");
        let mut cmd = Command::new(bin);
        cmd.arg(&html).arg(&out);
        match proc::measure(&mut cmd, "weasyprint") {
            Ok(run) => Some(Engine {
                name: "WeasyPrint".into(),
                seconds: run.seconds,
                peak_mb: run.peak_mb,
                pages: pdf_pages(&out),
                how: "the weasyprint command, interpreter start included".into(),
            }),
            Err(e) => {
                println!("weasyprint: {e}");
                None
            }
        }
    });
    for engine in [Some(&ours), chromium.as_ref(), weasyprint.as_ref()]
        .into_iter()
        .flatten()
    {
        println!(
            "{:<36} {:>7.3} s  peak {:>7.1} MB  {} pages",
            engine.name,
            engine.seconds,
            engine.peak_mb,
            engine.pages.map_or("?".into(), |p| p.to_string())
        );
    }
    ReportFigures {
        engagement_id,
        ours,
        chromium,
        weasyprint,
    }
}

fn pdf_pages(path: &Path) -> Option<u32> {
    let out = Command::new("pdfinfo").arg(path).output().ok()?;
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("Pages:"))
        .and_then(|n| n.trim().parse().ok())
}

/// The member's and the founders' sessions, logged in over HTTP as a browser does, written as
/// session files for `bench/load.lua`.
struct People {
    client: reqwest::Client,
    member_cookie: String,
    member: PathBuf,
    founders: PathBuf,
    api_token: String,
}

impl People {
    async fn log_in(
        server: &Server,
        manifest: &Value,
        dir: &Path,
        with_founders: bool,
    ) -> BenchResult<People> {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| e.to_string())?;
        let email = manifest_str(manifest, "member_email")?;
        let password = manifest_str(manifest, "member_password")?;
        let member_cookie = session_cookie(
            &client,
            server,
            "log_in",
            &[("email", email.as_str()), ("password", password.as_str())],
        )
        .await?;
        let member = dir.join("member.sessions");
        std::fs::write(&member, format!("{member_cookie}\n")).map_err(|e| e.to_string())?;

        let founders_list = manifest
            .get("founders")
            .and_then(Value::as_array)
            .ok_or("the manifest has no founders")?;
        let mut lines = String::new();
        for f in founders_list.iter().filter(|_| with_founders) {
            let token = f
                .get("token")
                .and_then(Value::as_str)
                .ok_or("a founder without token")?;
            let cookie =
                session_cookie(&client, server, "start_questionnaire", &[("token", token)]).await?;
            let name = f.get("founder_name").and_then(Value::as_str).unwrap_or("");
            let question = f.get("question_id").and_then(Value::as_str).unwrap_or("");
            let version = f.get("version").and_then(Value::as_i64).unwrap_or(0);
            lines.push_str(&format!("{cookie}\t{name}\t{question}\t{version}\n"));
        }
        let founders = dir.join("founders.sessions");
        std::fs::write(&founders, lines).map_err(|e| e.to_string())?;
        Ok(People {
            client,
            member_cookie,
            member,
            founders,
            api_token: manifest_str(manifest, "api_token")?,
        })
    }

    /// A GET as the member, timed to the last byte.
    async fn get(&self, server: &Server, path: &str) -> BenchResult<(f64, Vec<u8>)> {
        let started = Instant::now();
        let response = self
            .client
            .get(format!("{}{path}", server.base))
            .header("Cookie", &self.member_cookie)
            .send()
            .await
            .map_err(|e| format!("GET {path}: {e}"))?;
        let status = response.status();
        let bytes = response
            .bytes()
            .await
            .map_err(|e| format!("GET {path}: {e}"))?;
        let ms = started.elapsed().as_secs_f64() * 1000.0;
        if !status.is_success() {
            return Err(format!(
                "GET {path}: {status}: {}",
                String::from_utf8_lossy(&bytes[..bytes.len().min(300)])
            ));
        }
        Ok((ms, bytes.to_vec()))
    }
}

/// Calls a server function that logs someone in and returns the `name=value` of its cookie.
async fn session_cookie(
    client: &reqwest::Client,
    server: &Server,
    endpoint: &str,
    form: &[(&str, &str)],
) -> BenchResult<String> {
    let response = client
        .post(format!("{}/fn/{endpoint}", server.base))
        .header("Origin", &server.base)
        .form(form)
        .send()
        .await
        .map_err(|e| format!("/fn/{endpoint}: {e}"))?;
    let status = response.status();
    let cookie = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| v.split(';').next())
        .map(str::to_owned)
        .next();
    match cookie {
        Some(cookie) if status.is_success() || status.is_redirection() => Ok(cookie),
        _ => Err(format!(
            "/fn/{endpoint} gave no session ({status}): {}",
            response.text().await.unwrap_or_default()
        )),
    }
}

fn manifest_str(manifest: &Value, key: &str) -> BenchResult<String> {
    manifest
        .get(key)
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| format!("the seed manifest has no `{key}`"))
}

fn manifest_i64(manifest: &Value, key: &str) -> BenchResult<i64> {
    manifest
        .get(key)
        .and_then(Value::as_i64)
        .ok_or_else(|| format!("the seed manifest has no `{key}`"))
}

fn read_json(path: &Path) -> BenchResult<Value> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
}

/// Runs a command with its output shown, failing on a non-zero exit.
fn run_inherit(command: &mut Command) -> BenchResult {
    let status = command
        .status()
        .map_err(|e| format!("could not run {command:?}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{command:?} exited with {status}"))
    }
}

/// A database of its own on the PostgreSQL server, dropped and made again.
async fn fresh_postgres(admin_url: &str, name: &str) -> BenchResult<String> {
    let admin = audit::db::Db::connect(admin_url)
        .await
        .map_err(|e| format!("PostgreSQL at {admin_url}: {e}"))?;
    for sql in [
        format!("drop database if exists {name} with (force)"),
        format!("create database {name}"),
    ] {
        sqlx::query(&sql)
            .execute(admin.pool())
            .await
            .map_err(|e| format!("{sql}: {e}"))?;
    }
    admin.close().await;
    let (base, _) = admin_url
        .rsplit_once('/')
        .ok_or_else(|| format!("{admin_url} names no database"))?;
    Ok(format!("{base}/{name}"))
}

fn wasm_size(path: &Path) -> BenchResult<WasmSize> {
    let raw_bytes = std::fs::metadata(path)
        .map_err(|e| format!("{}: {e}", path.display()))?
        .len();
    let compressed = |tool: &str, args: &[&str]| -> Option<u64> {
        let out = Command::new(tool).args(args).arg(path).output().ok()?;
        out.status.success().then_some(out.stdout.len() as u64)
    };
    let gzip_bytes = compressed("gzip", &["-9", "-c"]).ok_or("gzip failed")?;
    let brotli_bytes = compressed("brotli", &["-q", "11", "-c"]);
    println!(
        "wasm: {raw_bytes} bytes, gzip -9 {gzip_bytes}, brotli {}",
        brotli_bytes.map_or("(no brotli)".into(), |b| b.to_string())
    );
    Ok(WasmSize {
        raw_bytes,
        gzip_bytes,
        brotli_bytes,
    })
}

fn git_commit(repo: &Path) -> String {
    Command::new("git")
        .arg("-C")
        .arg(repo)
        .args(["rev-parse", "--short", "HEAD"])
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default()
}

fn machine() -> Machine {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let cpu = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .map(|l| l.trim_start_matches([' ', '\t', ':']).to_owned())
        .unwrap_or_else(|| "unknown".into());
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let memory_kb: f64 = meminfo
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|l| l.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0.0);
    let text = |cmd: &str, arg: &str| {
        Command::new(cmd)
            .arg(arg)
            .output()
            .ok()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
            .unwrap_or_default()
    };
    Machine {
        cpu,
        cores: std::thread::available_parallelism().map_or(0, |n| n.get()),
        memory_gb: memory_kb / 1024.0 / 1024.0,
        kernel: text("uname", "-r"),
        rustc: text("rustc", "-V"),
    }
}

fn now_utc() -> String {
    Command::new("date")
        .args(["-u", "+%Y-%m-%d %H:%M UTC"])
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default()
}
