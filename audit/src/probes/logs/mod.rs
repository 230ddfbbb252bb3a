//! Log import: access logs (nginx combined, JSON lines) become per-endpoint p50/p95/p99 and
//! error rates with path parameters folded (`/users/123` → `/users/{id}`); PostgreSQL
//! slow-query logs become the slowest statements. Malformed lines are counted, never fatal.
use super::model::ProbeOutput;
use super::progress::Progress;

#[derive(Debug, Clone)]
pub struct LogFile {
    pub name: String,
    pub bytes: Vec<u8>,
}

/// Reads every file (format detected per file) and returns the log checks.
pub fn run(files: &[LogFile], progress: &Progress) -> ProbeOutput {
    let _ = (files, progress);
    todo!()
}
