//! What a probe run is and what it yields, shared with the browser.
//!
//! A probe looks at the client's real system (HTTP API, PostgreSQL, repository, logs) and
//! yields checks. Every check names the threshold it applied and the tool that threshold comes
//! from, so a consultant can defend it in front of the client.
use serde::{Deserialize, Serialize};

use crate::findings::Severity;
use crate::questionnaire::Area;

/// The four probe families.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProbeKind {
    Http,
    Postgres,
    Repository,
    Logs,
}

impl ProbeKind {
    pub const ALL: [ProbeKind; 4] = [
        ProbeKind::Http,
        ProbeKind::Postgres,
        ProbeKind::Repository,
        ProbeKind::Logs,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ProbeKind::Http => "http",
            ProbeKind::Postgres => "postgres",
            ProbeKind::Repository => "repository",
            ProbeKind::Logs => "logs",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            ProbeKind::Http => "HTTP API",
            ProbeKind::Postgres => "PostgreSQL",
            ProbeKind::Repository => "Repository",
            ProbeKind::Logs => "Log import",
        }
    }

    /// The prefix of its check ids (`http.`, `pg.`, `repo.`, `logs.`).
    pub fn check_prefix(self) -> &'static str {
        match self {
            ProbeKind::Http => "http.",
            ProbeKind::Postgres => "pg.",
            ProbeKind::Repository => "repo.",
            ProbeKind::Logs => "logs.",
        }
    }

    pub fn parse(value: &str) -> Option<ProbeKind> {
        ProbeKind::ALL
            .into_iter()
            .find(|k| k.as_str() == value.trim())
    }
}

/// The outcome of one check.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckStatus {
    Pass,
    Warn,
    Fail,
    /// The check could not look (no privilege, extension missing, endpoint down); `why` says.
    CouldNotRun,
}

impl CheckStatus {
    pub const ALL: [CheckStatus; 4] = [
        CheckStatus::Pass,
        CheckStatus::Warn,
        CheckStatus::Fail,
        CheckStatus::CouldNotRun,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            CheckStatus::Pass => "pass",
            CheckStatus::Warn => "warn",
            CheckStatus::Fail => "fail",
            CheckStatus::CouldNotRun => "could_not_run",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            CheckStatus::Pass => "Pass",
            CheckStatus::Warn => "Warn",
            CheckStatus::Fail => "Fail",
            CheckStatus::CouldNotRun => "Could not run",
        }
    }

    pub fn parse(value: &str) -> Option<CheckStatus> {
        CheckStatus::ALL
            .into_iter()
            .find(|s| s.as_str() == value.trim())
    }
}

/// Where a check's result belongs: one of the five audit areas, or API design and security,
/// which the HTTP probe also looks at but which is not one of the five.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CheckArea {
    Observability,
    Database,
    CachingQueues,
    DeploymentInfrastructure,
    People,
    Api,
}

impl CheckArea {
    pub fn as_str(self) -> &'static str {
        match self {
            CheckArea::Api => "api",
            other => other.audit_area().map(Area::as_str).unwrap_or("api"),
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            CheckArea::Api => "API design & security",
            other => other.audit_area().map(Area::label).unwrap_or("API"),
        }
    }

    /// The questionnaire area, if the check belongs to one of the five.
    pub fn audit_area(self) -> Option<Area> {
        match self {
            CheckArea::Observability => Some(Area::Observability),
            CheckArea::Database => Some(Area::Database),
            CheckArea::CachingQueues => Some(Area::CachingQueues),
            CheckArea::DeploymentInfrastructure => Some(Area::DeploymentInfrastructure),
            CheckArea::People => Some(Area::People),
            CheckArea::Api => None,
        }
    }

    pub fn parse(value: &str) -> Option<CheckArea> {
        match value.trim() {
            "api" => Some(CheckArea::Api),
            other => Area::parse(other).map(CheckArea::from),
        }
    }
}

impl From<Area> for CheckArea {
    fn from(area: Area) -> Self {
        match area {
            Area::Observability => CheckArea::Observability,
            Area::Database => CheckArea::Database,
            Area::CachingQueues => CheckArea::CachingQueues,
            Area::DeploymentInfrastructure => CheckArea::DeploymentInfrastructure,
            Area::People => CheckArea::People,
        }
    }
}

/// One check's result, as a probe produces it.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckResult {
    /// Stable id, prefixed by the probe kind: `pg.unindexed-foreign-keys`. The question bank's
    /// `probe_checks` name these ids.
    pub id: String,
    pub area: CheckArea,
    /// What was checked, in a consultant's words: "Foreign keys without an index".
    pub title: String,
    pub status: CheckStatus,
    /// How bad a failure is; a warning lowers it one step when it becomes a finding.
    pub severity: Severity,
    /// The rule applied, in words: "any foreign key whose columns lead no index".
    pub threshold: String,
    /// The tool the threshold follows: "pg-index-health #5", "Mozilla HTTP Observatory".
    pub source: String,
    /// One line saying what was seen: "3 of 41 foreign keys have no index".
    pub summary: String,
    /// Measured values, for the record and the report (percentiles, counts, settings).
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub measured: serde_json::Value,
    /// Evidence lines a person can check: "orders(customer_id) → customers", a header seen.
    pub evidence: Vec<String>,
    /// For could-not-run: why ("permission denied for pg_stat_statements").
    pub why: Option<String>,
}

impl CheckResult {
    /// A check that looked and found what it wanted.
    pub fn pass(spec: &CheckSpec, summary: impl Into<String>) -> CheckResult {
        spec.result(CheckStatus::Pass, summary)
    }

    /// A check that could not look, saying why.
    pub fn could_not_run(spec: &CheckSpec, why: impl Into<String>) -> CheckResult {
        let why = why.into();
        let mut result = spec.result(CheckStatus::CouldNotRun, format!("Could not run: {why}"));
        result.why = Some(why);
        result
    }

    pub fn with_measured(mut self, measured: serde_json::Value) -> CheckResult {
        self.measured = measured;
        self
    }

    pub fn with_evidence(mut self, evidence: Vec<String>) -> CheckResult {
        self.evidence = evidence;
        self
    }
}

/// The fixed part of a check: written once per check as a constant, so the id, threshold and
/// source tool live next to each other and every result of the check repeats them exactly.
#[derive(Debug, Clone, Copy)]
pub struct CheckSpec {
    pub id: &'static str,
    pub area: CheckArea,
    pub title: &'static str,
    pub severity: Severity,
    pub threshold: &'static str,
    pub source: &'static str,
}

impl CheckSpec {
    pub fn result(&self, status: CheckStatus, summary: impl Into<String>) -> CheckResult {
        CheckResult {
            id: self.id.to_owned(),
            area: self.area,
            title: self.title.to_owned(),
            status,
            severity: self.severity,
            threshold: self.threshold.to_owned(),
            source: self.source.to_owned(),
            summary: summary.into(),
            measured: serde_json::Value::Null,
            evidence: Vec::new(),
            why: None,
        }
    }
}

/// Everything a probe returns: its checks, and the raw measurements they came from, stored
/// with the run so a later question ("what did the server send?") has an answer.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ProbeOutput {
    pub checks: Vec<CheckResult>,
    pub raw: serde_json::Value,
}

/// Where a run is in its life.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    Queued,
    Running,
    Done,
    /// The probe stopped on an error it could not turn into checks (the target refused).
    Failed,
    Cancelled,
    /// The run hit its time bound; checks finished before it are kept.
    TimedOut,
}

impl RunStatus {
    pub const ALL: [RunStatus; 6] = [
        RunStatus::Queued,
        RunStatus::Running,
        RunStatus::Done,
        RunStatus::Failed,
        RunStatus::Cancelled,
        RunStatus::TimedOut,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Queued => "queued",
            RunStatus::Running => "running",
            RunStatus::Done => "done",
            RunStatus::Failed => "failed",
            RunStatus::Cancelled => "cancelled",
            RunStatus::TimedOut => "timed_out",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            RunStatus::Queued => "Queued",
            RunStatus::Running => "Running",
            RunStatus::Done => "Done",
            RunStatus::Failed => "Failed",
            RunStatus::Cancelled => "Cancelled",
            RunStatus::TimedOut => "Timed out",
        }
    }

    pub fn parse(value: &str) -> Option<RunStatus> {
        RunStatus::ALL
            .into_iter()
            .find(|s| s.as_str() == value.trim())
    }

    /// Still going: the page keeps polling.
    pub fn is_active(self) -> bool {
        matches!(self, RunStatus::Queued | RunStatus::Running)
    }
}

/// One stored check of a run.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredCheck {
    #[serde(flatten)]
    pub result: CheckResult,
    /// The status of the same check in the previous finished run of this kind, if it ran.
    pub previous_status: Option<CheckStatus>,
}

/// A probe run as people see it.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProbeRun {
    pub id: i64,
    pub engagement_id: i64,
    pub kind: ProbeKind,
    pub status: RunStatus,
    /// What was probed, safe to show: the base URL, `db.example.com:5432/app`, a file name.
    pub target: String,
    pub progress_done: i64,
    pub progress_total: i64,
    pub progress_label: String,
    pub cancel_requested: bool,
    pub error: Option<String>,
    /// Who started it: a member's name, "API token", or "upload".
    pub started_by: String,
    pub created_at: i64,
    pub started_at: Option<i64>,
    pub finished_at: Option<i64>,
    /// Counts by status, filled once checks exist.
    pub passed: i64,
    pub warned: i64,
    pub failed: i64,
    pub could_not_run: i64,
}

/// A run with its checks.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProbeRunDetail {
    pub run: ProbeRun,
    pub checks: Vec<StoredCheck>,
}

/// The probe targets of an engagement, as the consultant sees them: the database connection
/// string is never sent back, only whether one is set and where it points.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ProbeTargets {
    pub http_base_url: String,
    /// Paths under the base URL, one per line in the form: `/api/v1/users`.
    pub http_endpoints: Vec<String>,
    /// Where the API's OpenAPI document is (absolute, or a path under the base URL).
    pub http_openapi_url: String,
    /// Requests per second of the latency measurement (gentle by default).
    pub http_rate: u32,
    /// Seconds of the latency measurement per endpoint.
    pub http_duration_secs: u32,
    /// Whether a PostgreSQL connection string is stored (encrypted).
    pub postgres_set: bool,
    /// `host:port/database` of the stored connection string, without user or password.
    pub postgres_label: String,
    pub repository_url: String,
    pub version: i64,
}

pub const DEFAULT_HTTP_RATE: u32 = 5;
pub const MAX_HTTP_RATE: u32 = 50;
pub const DEFAULT_HTTP_DURATION_SECS: u32 = 20;
pub const MAX_HTTP_DURATION_SECS: u32 = 120;
pub const MAX_HTTP_ENDPOINTS: usize = 50;

/// What a consultant sends to change the targets. An empty `postgres_url` keeps the stored
/// one; `clear_postgres` removes it.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ProbeTargetsInput {
    #[serde(default)]
    pub http_base_url: String,
    #[serde(default)]
    pub http_endpoints: Vec<String>,
    #[serde(default)]
    pub http_openapi_url: String,
    #[serde(default)]
    pub http_rate: Option<u32>,
    #[serde(default)]
    pub http_duration_secs: Option<u32>,
    #[serde(default)]
    pub postgres_url: String,
    #[serde(default)]
    pub clear_postgres: bool,
    #[serde(default)]
    pub repository_url: String,
    pub version: i64,
}

/// How a check bears on a founder's answer.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// The evidence agrees with the answer.
    Confirms,
    /// The founders claimed better than the evidence shows (a "yes" the checks fail).
    Contradicts,
    /// The evidence is better than the answer (a "no" the checks pass): worth a word.
    BetterThanClaimed,
    /// The founders did not know, or did not answer; the evidence answers for them.
    Settles,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Confirms => "confirms",
            Verdict::Contradicts => "contradicts",
            Verdict::BetterThanClaimed => "better_than_claimed",
            Verdict::Settles => "settles",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Verdict::Confirms => "Confirmed",
            Verdict::Contradicts => "Contradicted",
            Verdict::BetterThanClaimed => "Better than claimed",
            Verdict::Settles => "Settled by evidence",
        }
    }
}

/// One question set beside the checks that bear on it.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClaimComparison {
    pub question_id: String,
    pub area: Area,
    pub prompt: String,
    pub red_flag: bool,
    /// The founders' answer (`yes`, `partly`, ...) or None when unanswered.
    pub claimed: Option<crate::questionnaire::Choice>,
    /// The worst status among the checks that ran (could-not-run ignored).
    pub observed: CheckStatus,
    pub verdict: Verdict,
    /// The checks, newest result of each: id, title, status, summary, run id.
    pub checks: Vec<ObservedCheck>,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ObservedCheck {
    pub id: String,
    pub title: String,
    pub status: CheckStatus,
    pub summary: String,
    pub run_id: i64,
}

/// A file uploaded for a probe: a repository archive or a log.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProbeUpload {
    pub id: i64,
    /// `repository` (an archive) or `logs`.
    pub kind: ProbeKind,
    pub file_name: String,
    pub size_bytes: i64,
    pub sha256: String,
    pub uploaded_by: String,
    pub created_at: i64,
}
