//! The repository probe: what a repository shows about deployment, decisions, review and
//! observability (Dockerfile smells after hadolint, CI, infrastructure as code, rollback, ADRs,
//! CODEOWNERS, review checklists, migrations with down steps, OpenAPI, libraries per ecosystem,
//! onboarding docs, bus factor of deploy-related files). It reads a clone (https only, shallow,
//! size-capped, through the guard) or an uploaded archive unpacked safely.
use std::path::Path;

use super::error::ProbeError;
use super::guard::Guard;
use super::model::ProbeOutput;
use super::progress::Progress;

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

/// Checks a repository URL without touching the network: https only, no userinfo, a host the
/// guard allows by name.
pub fn check_repository_url(url: &str, guard: &Guard) -> Result<url::Url, String> {
    let _ = (url, guard);
    todo!()
}

/// Clones `url` into `dest` (which must not exist), shallow and capped, through the guard.
pub async fn clone_repository(
    url: &str,
    guard: &Guard,
    dest: &Path,
    caps: &RepoCaps,
    progress: &Progress,
) -> Result<(), ProbeError> {
    let _ = (url, guard, dest, caps, progress);
    todo!()
}

/// Unpacks a `.zip`, `.tar.gz`/`.tgz` or `.tar` upload into `dest`: no path traversal, no links
/// out, size and file-count caps.
pub fn unpack_archive(
    file_name: &str,
    bytes: &[u8],
    dest: &Path,
    caps: &RepoCaps,
) -> Result<(), ProbeError> {
    let _ = (file_name, bytes, dest, caps);
    todo!()
}

/// Runs every repository check on a checked-out (or unpacked) tree at `dir`.
pub async fn run(dir: &Path, progress: &Progress) -> Result<ProbeOutput, ProbeError> {
    let _ = (dir, progress);
    todo!()
}
