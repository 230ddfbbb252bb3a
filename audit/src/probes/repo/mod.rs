//! The repository probe: what a repository shows about deployment, decisions, review and
//! observability (Dockerfile smells after hadolint, CI, infrastructure as code, rollback, ADRs,
//! CODEOWNERS, review checklists, migrations with down steps, OpenAPI, libraries per ecosystem,
//! onboarding docs, bus factor of deploy-related files). It reads a clone (https only, shallow,
//! size-capped, through the guard) or an uploaded archive unpacked safely.
//!
//! The checks read a checked-out tree on disk: a clone is checked out (links written as plain
//! files, hooks disabled), an upload is unpacked. History comes from `.git` when there is one.
use std::path::Path;

use serde_json::json;

use super::error::ProbeError;
use super::model::{CheckResult, CheckSpec, ProbeOutput};
use super::progress::Progress;

mod deploy;
mod dockerfile;
mod fetch;
mod history;
mod infra;
mod libraries;
mod migrations;
mod people;
mod tree;
mod unpack;

pub use fetch::{check_repository_url, clone_repository, clone_repository_with, CloneOptions};
pub use unpack::{unpack_archive_report, UnpackReport};

#[derive(Debug, Clone)]
pub struct RepoCaps {
    pub max_bytes: u64,
    pub max_files: u64,
    /// Commits of history fetched (bus factor reads them).
    pub depth: u32,
}

impl Default for RepoCaps {
    fn default() -> Self {
        RepoCaps {
            max_bytes: 200 * 1024 * 1024,
            max_files: 50_000,
            depth: 500,
        }
    }
}

/// Unpacks a `.zip`, `.tar.gz`/`.tgz` or `.tar` upload into `dest`: no path traversal, no links
/// out, size and file-count caps. A single top-level folder (`repo-main/`) becomes the root.
/// `unpack_archive_report` says what was skipped (links, devices, git hooks).
pub fn unpack_archive(
    file_name: &str,
    bytes: &[u8],
    dest: &Path,
    caps: &RepoCaps,
) -> Result<(), ProbeError> {
    let report = unpack_archive_report(file_name, bytes, dest, caps)?;
    for note in report.notes() {
        tracing::info!(archive = file_name, "{note}");
    }
    Ok(())
}

/// What every check reads: the files, the dependencies, the IaC files, the history.
pub(crate) struct Context {
    pub tree: tree::Tree,
    pub deps: libraries::Dependencies,
    pub iac: Vec<deploy::IacFile>,
    /// The history, or why there is none (an archive without `.git`).
    pub history: Result<history::History, String>,
    /// Unix seconds: "now" for ages (ADR, bus-factor window).
    pub now: i64,
}

type Check = fn(&Context) -> CheckResult;

/// Every check in the order they run, with the spec naming its threshold and source.
const CHECKS: &[(&CheckSpec, Check)] = &[
    (&deploy::DOCKERFILE, deploy::check_dockerfile),
    (&deploy::CI, deploy::check_ci),
    (&deploy::IAC, deploy::check_iac),
    (&deploy::ROLLBACK, deploy::check_rollback),
    (&deploy::STAGING_PARITY, deploy::check_staging_parity),
    (&infra::DB_BACKUPS, infra::check_db_backups),
    (&infra::SLOW_QUERY_LOG, infra::check_slow_query_log),
    (
        &migrations::MIGRATIONS_DOWN,
        migrations::check_migrations_down,
    ),
    (
        &migrations::MIGRATION_LINT,
        migrations::check_migration_lint,
    ),
    (&deploy::OPENAPI, deploy::check_openapi),
    (
        &libraries::OBSERVABILITY_LIBRARIES,
        libraries::check_observability,
    ),
    (&libraries::QUEUE_LIBRARY, libraries::check_queue_library),
    (&libraries::CACHE_LIBRARY, libraries::check_cache_library),
    (&infra::QUEUE_DLQ, infra::check_queue_dlq),
    (&people::REVIEW_CHECKLIST, people::check_review_checklist),
    (&people::CODEOWNERS, people::check_codeowners),
    (&people::ADR, people::check_adr),
    (&people::ONBOARDING, people::check_onboarding),
    (&people::BUS_FACTOR, people::check_bus_factor),
];

/// The specs of every repository check, in run order.
pub fn check_specs() -> Vec<CheckSpec> {
    CHECKS.iter().map(|(spec, _)| **spec).collect()
}

/// Runs every repository check on a checked-out (or unpacked) tree at `dir`.
pub async fn run(dir: &Path, progress: &Progress) -> Result<ProbeOutput, ProbeError> {
    let dir = dir.to_path_buf();
    let progress = progress.clone();
    // File reads and `git log` block: keep them off the async workers.
    tokio::task::spawn_blocking(move || run_blocking(&dir, &progress))
        .await
        .map_err(|e| ProbeError::Internal(format!("the repository checks stopped: {e}")))?
}

fn run_blocking(dir: &Path, progress: &Progress) -> Result<ProbeOutput, ProbeError> {
    progress.set_total(CHECKS.len() as i64 + 1);
    progress.set_label("Reading files");
    if !dir.is_dir() {
        return Err(ProbeError::Invalid(format!(
            "{} is not a folder",
            dir.display()
        )));
    }
    let max_files = usize::try_from(RepoCaps::default().max_files).unwrap_or(usize::MAX);
    let tree = tree::Tree::walk(dir, max_files)
        .map_err(|e| ProbeError::Internal(format!("could not read the repository: {e}")))?;
    let deps = libraries::Dependencies::read(&tree);
    let iac = deploy::find_iac(&tree);
    let history = history::History::open(dir);
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let ctx = Context {
        tree,
        deps,
        iac,
        history,
        now,
    };
    progress.step("Files read");

    let mut checks = Vec::with_capacity(CHECKS.len());
    for (spec, check) in CHECKS {
        if progress.is_cancelled() {
            return Err(ProbeError::Cancelled);
        }
        progress.set_label(spec.title);
        checks.push(check(&ctx));
        progress.step(spec.title);
    }

    let history = match &ctx.history {
        Ok(h) => json!({ "commits": h.commits, "shallow": h.shallow }),
        Err(why) => json!({ "error": why }),
    };
    let raw = json!({
        "files": ctx.tree.files.len(),
        "truncated": ctx.tree.truncated,
        "links_skipped": ctx.tree.links_skipped,
        "manifests": ctx.deps.manifests,
        "dependencies": ctx.deps.list.len(),
        "iac_files": ctx.iac.iter().map(|f| json!({ "path": f.path, "tool": f.tool })).collect::<Vec<_>>(),
        "history": history,
    });
    Ok(ProbeOutput { checks, raw })
}
