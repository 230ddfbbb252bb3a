use serde::{Deserialize, Serialize};

/// What changed.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Subject {
    Answer,
    Finding,
    Intervention,
    Decision,
}

impl Subject {
    pub fn as_str(self) -> &'static str {
        match self {
            Subject::Answer => "answer",
            Subject::Finding => "finding",
            Subject::Intervention => "intervention",
            Subject::Decision => "decision",
        }
    }

    pub fn parse(value: &str) -> Option<Subject> {
        [
            Subject::Answer,
            Subject::Finding,
            Subject::Intervention,
            Subject::Decision,
        ]
        .into_iter()
        .find(|s| s.as_str() == value)
    }
}

/// One line of the activity log.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ActivityEntry {
    pub activity_id: i64,
    /// A member's name, a founder's name with "(founder)", or "Plumbline" for scheduled work.
    pub actor: String,
    pub subject: Subject,
    /// The question id, or F-3, I-2, ADR-0004.
    pub subject_ref: String,
    /// created, updated, deleted, generated, reopened, …
    pub action: String,
    /// One sentence a person reads.
    pub summary: String,
    /// The state before and after, as JSON; null when there was none.
    pub before: Option<String>,
    pub after: Option<String>,
    pub created_at: i64,
}

/// A page of the log, newest first. `next_before` asks for the page after this one.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct ActivityPage {
    pub entries: Vec<ActivityEntry>,
    pub next_before: Option<i64>,
}
