//! Processes the benchmark starts and measures: the server, the report engines, the load tools.
//!
//! Memory is read from `/proc`: a process's resident set (`VmRSS`), its high-water mark
//! (`VmHWM`), and for an engine that forks helpers (Chromium starts a dozen processes) the sum of
//! the resident sets of the whole process tree, sampled every few milliseconds while it runs.
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::BenchResult;

/// A field of `/proc/<pid>/status` in kilobytes (`VmRSS`, `VmHWM`).
pub fn status_kb(pid: u32, field: &str) -> Option<u64> {
    let status = fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find(|line| line.starts_with(field) && line[field.len()..].starts_with(':'))
        .and_then(|line| line.split_whitespace().nth(1))
        .and_then(|kb| kb.parse().ok())
}

pub fn rss_mb(pid: u32) -> f64 {
    status_kb(pid, "VmRSS").unwrap_or(0) as f64 / 1024.0
}

pub fn hwm_mb(pid: u32) -> f64 {
    status_kb(pid, "VmHWM").unwrap_or(0) as f64 / 1024.0
}

/// The process and every descendant, by walking parent ids in `/proc/*/stat`.
fn tree_of(root: u32) -> Vec<u32> {
    let mut parents: Vec<(u32, u32)> = Vec::new();
    if let Ok(entries) = fs::read_dir("/proc") {
        for entry in entries.flatten() {
            let Some(pid) = entry
                .file_name()
                .to_str()
                .and_then(|s| s.parse::<u32>().ok())
            else {
                continue;
            };
            let Ok(stat) = fs::read_to_string(format!("/proc/{pid}/stat")) else {
                continue;
            };
            // The command name is in parentheses and may hold spaces; fields follow the last ')'.
            let ppid = stat
                .rsplit_once(')')
                .and_then(|(_, rest)| rest.split_whitespace().nth(1))
                .and_then(|p| p.parse::<u32>().ok());
            if let Some(ppid) = ppid {
                parents.push((pid, ppid));
            }
        }
    }
    let mut tree = vec![root];
    let mut i = 0;
    while i < tree.len() {
        let parent = tree[i];
        tree.extend(
            parents
                .iter()
                .filter(|(_, p)| *p == parent)
                .map(|(c, _)| *c),
        );
        i += 1;
    }
    tree
}

/// What running a command to its end cost.
#[derive(Debug, Clone, Copy)]
pub struct Run {
    pub seconds: f64,
    /// The largest sum of resident sets of the process tree seen while it ran.
    pub peak_mb: f64,
}

/// Runs a command to its end, sampling the memory of its whole process tree every 5 ms.
/// Fails with the command's standard error when it exits unsuccessfully.
pub fn measure(command: &mut Command, label: &str) -> BenchResult<Run> {
    let started = Instant::now();
    let mut child = command
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("{label}: could not start: {e}"))?;
    let mut peak_kb = 0;
    let status = loop {
        let total: u64 = tree_of(child.id())
            .into_iter()
            .filter_map(|pid| status_kb(pid, "VmRSS"))
            .sum();
        peak_kb = peak_kb.max(total);
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) => std::thread::sleep(Duration::from_millis(5)),
            Err(e) => return Err(format!("{label}: {e}")),
        }
    };
    let seconds = started.elapsed().as_secs_f64();
    if !status.success() {
        let mut err = String::new();
        if let Some(mut stderr) = child.stderr.take() {
            use std::io::Read;
            let _ = stderr.read_to_string(&mut err);
        }
        return Err(format!("{label} failed ({status}): {}", tail(&err, 600)));
    }
    Ok(Run {
        seconds,
        peak_mb: peak_kb as f64 / 1024.0,
    })
}

fn tail(text: &str, max: usize) -> &str {
    let start = text.len().saturating_sub(max);
    let mut start = start;
    while !text.is_char_boundary(start) {
        start += 1;
    }
    &text[start..]
}

/// A `plumbline serve` the benchmark started; killed when dropped.
pub struct Server {
    pub child: Child,
    pub base: String,
    /// From spawn to the first `200` of `/healthz`.
    pub cold_start_ms: f64,
    /// Where its output goes.
    pub log: PathBuf,
}

impl Server {
    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts the server on a free loopback port and waits until `/healthz` answers.
pub async fn start_server(
    plumbline: &Path,
    database_url: &str,
    site_root: &Path,
    data_dir: &Path,
) -> BenchResult<Server> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(|e| format!("no free port: {e}"))?
        .port();
    let addr = format!("127.0.0.1:{port}");
    let base = format!("http://{addr}");
    fs::create_dir_all(data_dir).map_err(|e| format!("{}: {e}", data_dir.display()))?;
    // One log per start, stdout (where the server logs) and stderr (panics) both: a point that
    // went wrong can be read afterwards.
    let log_path = data_dir.join(format!("server-{port}.log"));
    let log = fs::File::create(&log_path).map_err(|e| format!("server log: {e}"))?;
    let log_err = log.try_clone().map_err(|e| format!("server log: {e}"))?;
    let started = Instant::now();
    let child = Command::new(plumbline)
        .args(["serve", "--addr", &addr])
        .env("DATABASE_URL", database_url)
        .env("PLUMBLINE_SITE_ROOT", site_root)
        .env("PLUMBLINE_DATA_DIR", data_dir)
        .env("PLUMBLINE_BASE_URL", &base)
        // Logging every request to a file at info level is part of what production does.
        .env("RUST_LOG", "info")
        .stdout(log)
        .stderr(log_err)
        .spawn()
        .map_err(|e| format!("could not start {}: {e}", plumbline.display()))?;
    let mut server = Server {
        child,
        base: base.clone(),
        cold_start_ms: 0.0,
        log: log_path.clone(),
    };
    let health = format!("{base}/healthz");
    let client = reqwest::Client::new();
    loop {
        if let Ok(Some(status)) = server.child.try_wait() {
            return Err(format!(
                "the server exited at start ({status}); see {}",
                log_path.display()
            ));
        }
        if let Ok(r) = client.get(&health).send().await {
            if r.status().is_success() {
                break;
            }
        }
        if started.elapsed() > Duration::from_secs(60) {
            return Err("the server did not answer /healthz within 60 s".into());
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    server.cold_start_ms = started.elapsed().as_secs_f64() * 1000.0;
    Ok(server)
}
