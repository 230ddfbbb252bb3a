//! Cloning a repository by URL without letting the URL, the server or the repository steer
//! git (reference/probes.md §5.2 item 7).
//!
//! - Only `https://` URLs without user or password, on a host the guard allows; git's other
//!   transports (`ssh://`, `git://`, `file://`, `ext::`, `user@host:path`) are refused by
//!   name before parsing, and by `protocol.allow=never` in git itself.
//! - The host is resolved once through the guard and pinned with `http.curloptResolve`, so git
//!   never resolves it again (no DNS rebinding); redirects are not followed.
//! - No configuration but ours: no system or global config, no credential helper, no prompt,
//!   no hooks, no proxy (the environment is cleared), links written as plain files.
//! - Shallow (`--depth`), one branch, no tags; the folder is watched and git is killed when it
//!   grows past the size or file cap, or when the time bound passes.
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use tokio::io::AsyncReadExt;
use url::{Host, Url};

use super::super::error::ProbeError;
use super::super::guard::{Guard, LookupError};
use super::super::progress::Progress;
use super::RepoCaps;

/// How a clone runs, beyond the caps.
#[derive(Debug, Clone)]
pub struct CloneOptions {
    /// The whole clone, from start to the last byte written.
    pub timeout: Duration,
    /// Extra CA certificates (PEM) git trusts, for tests against a local TLS server. Production
    /// leaves it empty and git trusts the system roots.
    pub ca_file: Option<PathBuf>,
}

impl Default for CloneOptions {
    fn default() -> Self {
        CloneOptions {
            timeout: Duration::from_secs(300),
            ca_file: None,
        }
    }
}

pub fn check_repository_url(url: &str, guard: &Guard) -> Result<Url, String> {
    let url = url.trim();
    if url.is_empty() {
        return Err("the repository URL is empty".to_owned());
    }
    if url.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err("the repository URL contains spaces or control characters".to_owned());
    }
    let lower = url.to_ascii_lowercase();
    // git's `<transport>::<address>` form (`ext::sh -c ...` runs a command).
    if let Some((transport, _)) = lower.split_once("::") {
        if !transport.contains('/') {
            return Err(format!(
                "git transport syntax ({transport}::) is not allowed: give an https:// URL"
            ));
        }
    }
    if !lower.contains("://") {
        // `git@github.com:team/app.git`: scp-like SSH syntax.
        if url.contains(':') {
            return Err(
                "SSH addresses (user@host:path) are not allowed: give the https:// URL".to_owned(),
            );
        }
        return Err("the repository URL must start with https://".to_owned());
    }
    let scheme = lower.split("://").next().unwrap_or("");
    if scheme != "https" {
        return Err(format!(
            "only https:// repository URLs are allowed, not {scheme}://"
        ));
    }
    let parsed = Url::parse(url).map_err(|e| format!("the repository URL is not valid ({e})"))?;
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(
            "the repository URL must not contain a user name, password or token: \
             give a public URL, or upload an archive of a private repository"
                .to_owned(),
        );
    }
    if parsed.query().is_some() || parsed.fragment().is_some() {
        return Err("the repository URL must not have a query (?) or fragment (#)".to_owned());
    }
    if parsed.path().trim_matches('/').is_empty() {
        return Err("the repository URL has no repository path".to_owned());
    }
    guard
        .check_url(url, &["https"])
        .map_err(|refusal| refusal.to_string())
}

/// Clones with the default options.
pub async fn clone_repository(
    url: &str,
    guard: &Guard,
    dest: &Path,
    caps: &RepoCaps,
    progress: &Progress,
) -> Result<(), ProbeError> {
    clone_repository_with(url, guard, dest, caps, progress, &CloneOptions::default()).await
}

/// Clones `url` into `dest` (which must not exist); on any failure `dest` is removed.
pub async fn clone_repository_with(
    url: &str,
    guard: &Guard,
    dest: &Path,
    caps: &RepoCaps,
    progress: &Progress,
    options: &CloneOptions,
) -> Result<(), ProbeError> {
    progress.set_label("Cloning");
    let url = check_repository_url(url, guard).map_err(ProbeError::Refused)?;
    if dest.exists() {
        return Err(ProbeError::Internal(format!(
            "the clone folder {} already exists",
            dest.display()
        )));
    }
    let host = url
        .host_str()
        .ok_or_else(|| ProbeError::Refused("the repository URL has no host".to_owned()))?
        .to_owned();
    let port = url.port_or_known_default().unwrap_or(443);
    // Resolve once, through the guard, and hand git the checked address.
    let pin = match url.host() {
        Some(Host::Domain(_)) => {
            // `lookup` is `resolve` telling a refusal from a name that does not exist.
            let addrs = guard.lookup(&host, port).await.map_err(|e| match e {
                LookupError::Refused(refusal) => ProbeError::Refused(refusal.to_string()),
                LookupError::NotFound(why) => ProbeError::Unreachable(why),
            })?;
            // Every address passed the guard; IPv4 first, as the one most often reachable.
            let addr = addrs
                .iter()
                .find(|a| a.is_ipv4())
                .or_else(|| addrs.first())
                .ok_or_else(|| ProbeError::Unreachable(format!("{host} has no address")))?;
            let ip = match addr.ip() {
                std::net::IpAddr::V4(v4) => v4.to_string(),
                std::net::IpAddr::V6(v6) => format!("[{v6}]"),
            };
            Some(format!("{host}:{port}:{ip}"))
        }
        // IP literals were checked by `check_url`; there is nothing to resolve.
        _ => None,
    };

    let home = scratch_home(dest)?;
    let result = run_clone(&url, pin.as_deref(), dest, &home, caps, progress, options).await;
    let _ = tokio::fs::remove_dir_all(&home).await;
    if result.is_err() {
        let _ = tokio::fs::remove_dir_all(dest).await;
    }
    result
}

/// An empty HOME for git and curl, so no `.gitconfig` or `.netrc` of the server is read.
fn scratch_home(dest: &Path) -> Result<PathBuf, ProbeError> {
    let name = dest
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "clone".to_owned());
    let home = std::env::temp_dir().join(format!(
        "plumbline-git-home-{name}-{}",
        rand::random::<u64>()
    ));
    std::fs::create_dir_all(&home)
        .map_err(|e| ProbeError::Internal(format!("could not create a git home folder: {e}")))?;
    Ok(home)
}

async fn run_clone(
    url: &Url,
    pin: Option<&str>,
    dest: &Path,
    home: &Path,
    caps: &RepoCaps,
    progress: &Progress,
    options: &CloneOptions,
) -> Result<(), ProbeError> {
    let mut config: Vec<String> = [
        "protocol.allow=never",
        "protocol.https.allow=always",
        "http.followRedirects=false",
        "http.sslVerify=true",
        "core.hooksPath=/dev/null",
        "core.symlinks=false",
        "core.fsmonitor=false",
        "credential.helper=",
        "submodule.recurse=false",
        "init.defaultBranch=main",
        "advice.detachedHead=false",
        // A server that trickles bytes is dropped instead of holding the job.
        "http.lowSpeedLimit=1000",
        "http.lowSpeedTime=30",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    if let Some(pin) = pin {
        config.push(format!("http.curloptResolve={pin}"));
    }
    if let Some(ca) = &options.ca_file {
        config.push(format!("http.sslCAInfo={}", ca.display()));
    }
    let mut command = tokio::process::Command::new("git");
    for c in &config {
        command.arg("-c").arg(c);
    }
    command
        .args(["clone", "--quiet", "--single-branch", "--no-tags"])
        .args(["--no-recurse-submodules", "--depth"])
        .arg(caps.depth.max(1).to_string())
        .arg("--")
        .arg(url.as_str())
        .arg(dest)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", home)
        .env("XDG_CONFIG_HOME", home)
        .env("GIT_TERMINAL_PROMPT", "0")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_LFS_SKIP_SMUDGE", "1")
        .env("LC_ALL", "C")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    // Its own process group, so the helpers git starts can be stopped with it.
    #[cfg(unix)]
    command.process_group(0);
    let mut child = command
        .spawn()
        .map_err(|e| ProbeError::Internal(format!("git could not be started: {e}")))?;
    let mut stderr = child.stderr.take();
    let stderr_task = tokio::spawn(async move {
        let mut text = Vec::new();
        if let Some(pipe) = stderr.as_mut() {
            let mut limited = pipe.take(64 * 1024);
            let _ = limited.read_to_end(&mut text).await;
        }
        String::from_utf8_lossy(&text).into_owned()
    });

    let started = Instant::now();
    let stop: Option<ProbeError> = loop {
        tokio::select! {
            status = child.wait() => {
                let status = status
                    .map_err(|e| ProbeError::Internal(format!("git did not finish: {e}")))?;
                if status.success() {
                    break None;
                }
                let message = stderr_task.await.unwrap_or_default();
                return Err(clone_error(&message, url));
            }
            _ = tokio::time::sleep(Duration::from_millis(250)) => {}
        }
        if progress.is_cancelled() {
            break Some(ProbeError::Cancelled);
        }
        if started.elapsed() > options.timeout {
            break Some(ProbeError::Unreachable(format!(
                "the clone took longer than {} s",
                options.timeout.as_secs()
            )));
        }
        let (bytes, files) = folder_size(dest, caps.max_files.saturating_mul(4));
        if let Some(stop) = over_caps(bytes, files, caps) {
            break Some(stop);
        }
    };
    if let Some(stop) = stop {
        kill_group(&mut child).await;
        stderr_task.abort();
        return Err(stop);
    }
    // One last measure: git may have finished between two looks.
    let (bytes, files) = folder_size(dest, caps.max_files.saturating_mul(4));
    if let Some(stop) = over_caps(bytes, files, caps) {
        return Err(stop);
    }
    Ok(())
}

fn over_caps(bytes: u64, files: u64, caps: &RepoCaps) -> Option<ProbeError> {
    if bytes > caps.max_bytes {
        return Some(ProbeError::Invalid(format!(
            "the repository is larger than {} MB, the size cap: upload an archive of the \
             relevant part instead",
            caps.max_bytes / (1024 * 1024)
        )));
    }
    // The checkout plus git's own files: allow the `.git` folder its share.
    if files > caps.max_files.saturating_add(1000) {
        return Some(ProbeError::Invalid(format!(
            "the repository has more than {} files, the file-count cap",
            caps.max_files
        )));
    }
    None
}

/// Bytes and files under `dir`, stopping early past `max_entries`.
fn folder_size(dir: &Path, max_entries: u64) -> (u64, u64) {
    let mut bytes = 0;
    let mut files = 0;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(current) = stack.pop() {
        let Ok(read) = std::fs::read_dir(&current) else {
            continue;
        };
        for entry in read.flatten() {
            let Ok(meta) = entry.path().symlink_metadata() else {
                continue;
            };
            if meta.is_dir() {
                stack.push(entry.path());
            } else {
                bytes += meta.len();
                files += 1;
                if files > max_entries {
                    return (bytes, files);
                }
            }
        }
    }
    (bytes, files)
}

async fn kill_group(child: &mut tokio::process::Child) {
    #[cfg(unix)]
    if let Some(pid) = child.id() {
        // The group id is git's pid (process_group(0)); `kill` reaches its helpers too.
        let _ = tokio::process::Command::new("kill")
            .args(["-KILL", "--", &format!("-{pid}")])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .await;
    }
    let _ = child.kill().await;
}

/// git's stderr turned into one sentence for the consultant; never the URL's secrets (there
/// are none: userinfo is refused) and never more than a line of git's own words.
fn clone_error(stderr: &str, url: &Url) -> ProbeError {
    // git quotes the URL; take it out so its path or port cannot look like a status.
    let lower = stderr.replace(url.as_str(), "<url>").to_lowercase();
    let host = url.host_str().unwrap_or("the host");
    if lower.contains("ssl") || lower.contains("certificate") || lower.contains("tls") {
        return ProbeError::Unreachable(format!(
            "the TLS connection to {host} failed (certificate not trusted or handshake error)"
        ));
    }
    if lower.contains("could not read username")
        || lower.contains("authentication failed")
        || lower.contains("terminal prompts disabled")
        || lower.contains("error: 401")
        || lower.contains("error: 403")
    {
        return ProbeError::Refused(format!(
            "{host} asked for credentials: the repository is private or the URL is wrong; \
             upload an archive of it instead"
        ));
    }
    if lower.contains("not found") || lower.contains("error: 404") {
        return ProbeError::Unreachable(format!("no repository at {url}"));
    }
    if lower.contains("redirect") || lower.contains("returned error: 30") {
        return ProbeError::Refused(format!(
            "{host} redirected the clone elsewhere: give the final https:// URL"
        ));
    }
    if lower.contains("couldn't connect")
        || lower.contains("failed to connect")
        || lower.contains("timed out")
        || lower.contains("connection refused")
    {
        return ProbeError::Unreachable(format!("{host} did not answer"));
    }
    let line = stderr
        .lines()
        .map(str::trim)
        .find(|l| l.starts_with("fatal:") || l.starts_with("error:"))
        .or_else(|| stderr.lines().map(str::trim).find(|l| !l.is_empty()))
        .unwrap_or("git failed without a message");
    let line: String = line.chars().take(200).collect();
    ProbeError::Unreachable(format!("the clone failed: {line}"))
}
