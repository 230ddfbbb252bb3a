//! Reading git history with the `git` command, hardened: the repository may come from an
//! upload, so no hook, pager, fsmonitor or signature helper configured in it may run, no
//! global or system configuration is read, and every command has a time bound.
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Output kept from one git command; `git log` of a few thousand commits is far smaller.
const MAX_OUTPUT_BYTES: u64 = 16 * 1024 * 1024;
const GIT_TIMEOUT: Duration = Duration::from_secs(30);

/// A repository's history, once `git` has shown it can read it.
#[derive(Debug, Clone)]
pub(crate) struct History {
    root: PathBuf,
    /// Commits reachable from HEAD (capped by the clone depth).
    pub commits: u64,
    /// The clone is shallow: older history was not fetched.
    pub shallow: bool,
}

/// One commit touching the files asked about.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Commit {
    pub author: String,
    pub email: String,
    pub time: i64,
}

impl History {
    /// Opens the history at `root/.git`, or says why there is none.
    pub fn open(root: &Path) -> Result<History, String> {
        let git_dir = root.join(".git");
        match git_dir.symlink_metadata() {
            Ok(meta) if meta.is_dir() => {}
            Ok(_) => return Err("`.git` is not a folder".to_owned()),
            Err(_) => {
                return Err(
                    "no git history (no `.git` folder: an archive without history)".to_owned(),
                )
            }
        }
        let history = History {
            root: root.to_path_buf(),
            commits: 0,
            shallow: git_dir.join("shallow").is_file(),
        };
        let count = history
            .git(&["rev-list", "--count", "HEAD"])
            .map_err(|e| format!("git could not read the history ({e})"))?;
        let commits = count.trim().parse::<u64>().unwrap_or(0);
        Ok(History { commits, ..history })
    }

    /// Runs `git <args>` on this repository, returning stdout.
    pub fn git(&self, args: &[&str]) -> Result<String, String> {
        let git_dir = self.root.join(".git");
        let mut command = Command::new("git");
        command
            .arg(format!("--git-dir={}", git_dir.display()))
            .arg(format!("--work-tree={}", self.root.display()))
            .arg("--no-pager")
            .args([
                "-c",
                "core.hooksPath=/dev/null",
                "-c",
                "core.fsmonitor=false",
                "-c",
                "core.pager=cat",
                "-c",
                "log.showSignature=false",
                "-c",
                "diff.external=",
                "-c",
                "gpg.program=/bin/false",
            ])
            .args(args);
        run_git(command, GIT_TIMEOUT)
    }

    /// Unix time of the newest commit that added a file under `dir`.
    pub fn newest_addition(&self, dir: &str) -> Option<i64> {
        let out = self
            .git(&[
                "log",
                "-1",
                "--diff-filter=A",
                "--format=%ct",
                "--",
                &format!(":(literal){dir}"),
            ])
            .ok()?;
        out.trim().parse().ok()
    }

    /// Commits (newest first, merges excluded) touching any of `paths`.
    pub fn commits_touching(&self, paths: &[String], limit: usize) -> Result<Vec<Commit>, String> {
        let limit = format!("-n{limit}");
        let mut args: Vec<&str> = vec![
            "log",
            "--no-merges",
            "--use-mailmap",
            "--format=%aN%x1f%aE%x1f%ct",
            &limit,
            "--",
        ];
        let literal: Vec<String> = paths.iter().map(|p| format!(":(literal){p}")).collect();
        args.extend(literal.iter().map(String::as_str));
        let out = self.git(&args)?;
        Ok(out
            .lines()
            .filter_map(|line| {
                let mut parts = line.split('\u{1f}');
                let author = parts.next()?.trim().to_owned();
                let email = parts.next()?.trim().to_lowercase();
                let time = parts.next()?.trim().parse().ok()?;
                Some(Commit {
                    author,
                    email,
                    time,
                })
            })
            .collect())
    }
}

/// Bots commit dependency bumps and releases; they are nobody's knowledge of the deploy.
pub(crate) fn is_bot(commit: &Commit) -> bool {
    let name = commit.author.to_lowercase();
    let email = &commit.email;
    name.contains("[bot]")
        || email.contains("[bot]")
        || name.ends_with(" bot")
        || name.ends_with("-bot")
        || name.starts_with("dependabot")
        || name.starts_with("renovate")
        || matches!(
            name.as_str(),
            "github-actions" | "github actions" | "gitlab ci" | "semantic-release-bot" | "snyk bot"
        )
}

/// Runs a prepared git command with a clean environment and a time bound.
pub(crate) fn run_git(mut command: Command, timeout: Duration) -> Result<String, String> {
    command
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", "/nonexistent")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_TERMINAL_PROMPT", "0")
        .env("GIT_OPTIONAL_LOCKS", "0")
        .env("GIT_NO_REPLACE_OBJECTS", "1")
        .env("LC_ALL", "C")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command
        .spawn()
        .map_err(|e| format!("git could not be started: {e}"))?;
    // Read both pipes on their own threads so a full pipe never blocks git.
    let stdout = child.stdout.take();
    let stderr = child.stderr.take();
    let out_reader = std::thread::spawn(move || read_all(stdout, MAX_OUTPUT_BYTES));
    let err_reader = std::thread::spawn(move || read_all(stderr, 64 * 1024));
    let started = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) if started.elapsed() > timeout => {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(10)),
            Err(_) => break None,
        }
    };
    let out = out_reader.join().unwrap_or_default();
    let err = err_reader.join().unwrap_or_default();
    match status {
        Some(s) if s.success() => Ok(String::from_utf8_lossy(&out).into_owned()),
        Some(_) => {
            let message = String::from_utf8_lossy(&err);
            let first = message
                .lines()
                .map(str::trim)
                .find(|l| !l.is_empty())
                .unwrap_or("failed");
            Err(first.chars().take(200).collect())
        }
        None => Err(format!("git took longer than {} s", timeout.as_secs())),
    }
}

fn read_all(pipe: Option<impl Read>, cap: u64) -> Vec<u8> {
    let mut bytes = Vec::new();
    if let Some(pipe) = pipe {
        let mut limited = pipe.take(cap);
        let _ = limited.read_to_end(&mut bytes);
        // Drain the rest so git is not blocked writing to a pipe nobody reads.
        let mut rest = limited.into_inner();
        let _ = std::io::copy(&mut rest, &mut std::io::sink());
    }
    bytes
}
