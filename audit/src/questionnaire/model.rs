//! What the questionnaire pages and the REST API exchange: answers with their versions, the
//! founder invitations, comments, reviews, evidence files and milestones.
use serde::{Deserialize, Serialize};

use super::bank::{Area, Bank, Choice};
use super::scoring::Scorecard;
use crate::error::FieldError;

/// Invitations for founders last this long.
pub const FOUNDER_INVITATION_TTL_DAYS: i64 = 14;
/// Largest evidence file a founder may upload.
pub const MAX_EVIDENCE_BYTES: usize = 5 * 1024 * 1024;
pub const MAX_NOTES_CHARS: usize = 10_000;
pub const MAX_LINKS: usize = 10;

/// Whether founders may still change answers.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum QuestionnaireStatus {
    #[default]
    Open,
    /// Submitted for review: read-only to founders until the consultant reopens it.
    Submitted,
}

impl QuestionnaireStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            QuestionnaireStatus::Open => "open",
            QuestionnaireStatus::Submitted => "submitted",
        }
    }

    pub fn from_db(value: &str) -> Self {
        if value == "submitted" {
            QuestionnaireStatus::Submitted
        } else {
            QuestionnaireStatus::Open
        }
    }
}

/// One stored answer. `version` goes up by one with every write; a write must name the version
/// it replaces, so two founders answering at once never overwrite each other unseen.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Answer {
    pub question_id: String,
    pub choice: Option<Choice>,
    /// Markdown as typed.
    pub notes: String,
    /// The notes rendered and sanitized; safe to put in a page.
    pub notes_html: String,
    pub links: Vec<String>,
    pub version: i64,
    /// Who wrote this version: a founder's or a member's name.
    pub answered_by: String,
    pub updated_at: i64,
}

/// An answer as a form or an API client sends it.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AnswerInput {
    pub question_id: String,
    /// `yes`, `partly`, `no`, `dont_know` or `not_applicable`; empty for "no choice yet".
    #[serde(default)]
    pub choice: String,
    #[serde(default)]
    pub notes: String,
    /// One link per line.
    #[serde(default)]
    pub links: String,
    /// The version this write replaces: 0 when there was no answer yet.
    #[serde(default)]
    pub version: i64,
}

/// An answer that passed every rule.
#[derive(Debug, Clone, PartialEq)]
pub struct AnswerFields {
    pub question_id: String,
    pub choice: Option<Choice>,
    pub notes: String,
    pub links: Vec<String>,
    pub version: i64,
}

impl AnswerInput {
    pub fn parse(&self, bank: &Bank) -> Result<AnswerFields, Vec<FieldError>> {
        let mut errors = Vec::new();
        let question = bank.question(self.question_id.trim());
        if question.is_none() {
            errors.push(FieldError::new(
                "question_id",
                "There is no such question in this engagement's question bank.",
            ));
        }
        let choice = match self.choice.trim() {
            "" => None,
            value => match Choice::parse(value) {
                Some(choice) => Some(choice),
                None => {
                    errors.push(FieldError::new(
                        "choice",
                        "Choose yes, partly, no, don't know or not applicable.",
                    ));
                    None
                }
            },
        };
        if let (Some(Choice::NotApplicable), Some(q)) = (choice, question) {
            if !q.allows_not_applicable {
                errors.push(FieldError::new(
                    "choice",
                    "This question applies to every system; choose another answer.",
                ));
            }
        }
        let notes = self.notes.trim().to_owned();
        if notes.chars().count() > MAX_NOTES_CHARS {
            errors.push(FieldError::new(
                "notes",
                format!("Notes can be at most {MAX_NOTES_CHARS} characters."),
            ));
        }
        let links: Vec<String> = self
            .links
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(str::to_owned)
            .collect();
        if links.len() > MAX_LINKS {
            errors.push(FieldError::new(
                "links",
                format!("At most {MAX_LINKS} links per answer."),
            ));
        }
        for link in &links {
            let ok = (link.starts_with("https://") || link.starts_with("http://"))
                && link.len() <= 2000
                && !link.chars().any(char::is_whitespace);
            if !ok {
                errors.push(FieldError::new(
                    "links",
                    format!(
                        "“{}” is not a web address starting with https://.",
                        shorten(link)
                    ),
                ));
            }
        }
        if self.version < 0 {
            errors.push(FieldError::new(
                "version",
                "The version cannot be negative.",
            ));
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(AnswerFields {
            question_id: self.question_id.trim().to_owned(),
            choice,
            notes,
            links,
            version: self.version,
        })
    }
}

fn shorten(text: &str) -> String {
    if text.chars().count() > 60 {
        format!("{}…", text.chars().take(60).collect::<String>())
    } else {
        text.to_owned()
    }
}

/// What a save did. A stale write is not an error: the page shows the newer answer and offers
/// to keep either.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum SaveOutcome {
    Saved {
        answer: Answer,
    },
    /// Someone saved a newer version first; nothing was written.
    Stale {
        current: Answer,
    },
}

/// A consultant's comment on an answer, or a request to a founder for clarification.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Comment {
    pub answer_comment_id: i64,
    pub question_id: String,
    pub clarification: bool,
    pub body_html: String,
    pub author_name: String,
    pub created_at: i64,
}

/// An uploaded file as listed next to its answer (the bytes are served by `/evidence/{id}`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvidenceFile {
    pub evidence_file_id: i64,
    pub question_id: String,
    pub file_name: String,
    pub content_type: String,
    pub size_bytes: i64,
    pub uploaded_by: String,
    pub created_at: i64,
}

/// Which bank an engagement answers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BankVersionInfo {
    pub bank_version_id: i64,
    /// "Built-in" or the firm template's name.
    pub name: String,
    pub version: i64,
    pub builtin: bool,
}

impl BankVersionInfo {
    pub fn label(&self) -> String {
        format!("{} v{}", self.name, self.version)
    }
}

/// Everything the questionnaire page needs, in one request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Questionnaire {
    pub engagement_id: i64,
    pub client_name: String,
    pub system_name: String,
    pub status: QuestionnaireStatus,
    pub submitted_at: Option<i64>,
    pub submitted_by: Option<String>,
    pub bank_version: BankVersionInfo,
    pub bank: Bank,
    pub answers: Vec<Answer>,
    pub files: Vec<EvidenceFile>,
    pub comments: Vec<Comment>,
    pub reviewed_areas: Vec<Area>,
}

impl Questionnaire {
    pub fn answer(&self, question_id: &str) -> Option<&Answer> {
        self.answers.iter().find(|a| a.question_id == question_id)
    }

    /// Answered (a choice given) and total questions of an area.
    pub fn progress(&self, area: Area) -> (usize, usize) {
        self.bank.progress(area, |id| self.has_choice(id))
    }

    pub fn overall_progress(&self) -> (usize, usize) {
        self.bank.overall_progress(|id| self.has_choice(id))
    }

    fn has_choice(&self, question_id: &str) -> bool {
        self.answer(question_id).is_some_and(|a| a.choice.is_some())
    }

    pub fn is_open(&self) -> bool {
        self.status == QuestionnaireStatus::Open
    }
}

/// A questionnaire's progress without its answers (`store::questionnaire_progress`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QuestionnaireProgress {
    pub status: QuestionnaireStatus,
    pub bank_version: BankVersionInfo,
    /// Questions with a choice given, of all the bank's questions.
    pub answered: usize,
    pub questions: usize,
    /// Whether any answer is stored, even one with notes only (the bank is fixed from then on).
    pub any_answers: bool,
}

/// A founder's invitation as the consultant sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FounderInvitation {
    pub founder_invitation_id: i64,
    pub name: String,
    pub email: String,
    pub expires_at: i64,
    pub used_at: Option<i64>,
    pub revoked_at: Option<i64>,
    pub sent_count: i64,
    pub last_sent_at: i64,
    pub last_progress_at: Option<i64>,
}

impl FounderInvitation {
    pub fn state(&self, now: i64) -> &'static str {
        if self.revoked_at.is_some() {
            "revoked"
        } else if self.used_at.is_some() {
            "opened"
        } else if self.expires_at < now {
            "expired"
        } else {
            "sent"
        }
    }
}

/// What the invitation page shows before the founder starts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FounderInvitationPreview {
    pub name: String,
    pub firm_name: String,
    pub client_name: String,
}

/// The form that invites a founder.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct FounderInvitationForm {
    pub name: String,
    pub email: String,
}

/// A milestone: the answers and scores as they were when the consultant took it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Milestone {
    pub milestone_id: i64,
    pub name: String,
    pub created_at: i64,
    pub snapshot: MilestoneSnapshot,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MilestoneSnapshot {
    pub bank_version: BankVersionInfo,
    /// question id → choice, for answered questions.
    pub answers: Vec<(String, Choice)>,
    pub scores: Scorecard,
}

/// One question's move between two milestones.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AnswerChange {
    pub question_id: String,
    pub area: Area,
    pub prompt: String,
    pub before: Option<Choice>,
    pub after: Option<Choice>,
    pub trend: Trend,
}

/// Which way an answer moved: along no/don't know < partly < yes; "not applicable" only changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Trend {
    Better,
    Worse,
    Changed,
}

/// Two milestones side by side.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MilestoneComparison {
    pub before: Milestone,
    pub after: Milestone,
    /// (area, score before, score after)
    pub areas: Vec<(Area, Option<u32>, Option<u32>)>,
    pub changes: Vec<AnswerChange>,
}
