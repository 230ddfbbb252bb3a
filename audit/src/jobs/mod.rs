//! Durable background work: the job model, shared with the browser's Jobs page; the queue and
//! worker are in `queue` (server only).
use serde::{Deserialize, Serialize};

#[cfg(feature = "server")]
mod queue;
#[cfg(feature = "server")]
pub use queue::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobStatus {
    Queued,
    Running,
    Done,
    Failed,
    Dead,
}

impl JobStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            JobStatus::Queued => "queued",
            JobStatus::Running => "running",
            JobStatus::Done => "done",
            JobStatus::Failed => "failed",
            JobStatus::Dead => "dead",
        }
    }

    pub fn from_db(value: &str) -> JobStatus {
        match value {
            "running" => JobStatus::Running,
            "done" => JobStatus::Done,
            "failed" => JobStatus::Failed,
            "dead" => JobStatus::Dead,
            _ => JobStatus::Queued,
        }
    }
}

/// A job as the worker and the Jobs page see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(sqlx::FromRow))]
pub struct Job {
    pub job_id: i64,
    pub kind: String,
    pub payload: String,
    #[cfg_attr(feature = "server", sqlx(try_from = "String"))]
    pub status: JobStatus,
    pub attempts: i64,
    pub max_attempts: i64,
    pub run_at: i64,
    pub last_error: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

impl From<String> for JobStatus {
    fn from(value: String) -> Self {
        JobStatus::from_db(&value)
    }
}
