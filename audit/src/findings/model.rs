//! What the findings pages and the REST API exchange, and the checks of the finding form (shared
//! with the browser so a form is checked by the same code on both sides).
use serde::{Deserialize, Serialize};

use crate::error::FieldError;
use crate::fields::{optional_text, required_text};
use crate::questionnaire::{Area, Choice, Question};

pub const MAX_TITLE_CHARS: usize = 200;
pub const MAX_MARKDOWN_CHARS: usize = 20_000;

/// How bad a finding is; critical first.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Critical,
    High,
    Medium,
    Low,
}

impl Severity {
    pub const ALL: [Severity; 4] = [
        Severity::Critical,
        Severity::High,
        Severity::Medium,
        Severity::Low,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Critical => "critical",
            Severity::High => "high",
            Severity::Medium => "medium",
            Severity::Low => "low",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Severity::Critical => "Critical",
            Severity::High => "High",
            Severity::Medium => "Medium",
            Severity::Low => "Low",
        }
    }

    pub fn parse(value: &str) -> Option<Severity> {
        Severity::ALL
            .into_iter()
            .find(|s| s.as_str() == value.trim())
    }
}

/// How sure the consultant is: of a finding (a founder's word is less than a probe's
/// measurement) or of an intervention's impact. The factors are RICE's: 100 %, 80 %, 50 %.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Confidence {
    High,
    Medium,
    Low,
}

impl Confidence {
    pub const ALL: [Confidence; 3] = [Confidence::High, Confidence::Medium, Confidence::Low];

    pub fn as_str(self) -> &'static str {
        match self {
            Confidence::High => "high",
            Confidence::Medium => "medium",
            Confidence::Low => "low",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Confidence::High => "High (100 %)",
            Confidence::Medium => "Medium (80 %)",
            Confidence::Low => "Low (50 %)",
        }
    }

    /// The factor priority multiplies by.
    pub fn factor(self) -> f64 {
        match self {
            Confidence::High => 1.0,
            Confidence::Medium => 0.8,
            Confidence::Low => 0.5,
        }
    }

    pub fn parse(value: &str) -> Option<Confidence> {
        Confidence::ALL
            .into_iter()
            .find(|c| c.as_str() == value.trim())
    }
}

/// Whether a finding still needs work.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum FindingStatus {
    #[default]
    Open,
    /// Waived by a decision record until its expiry date, or accepted for good by hand.
    AcceptedRisk,
    Resolved,
}

impl FindingStatus {
    pub const ALL: [FindingStatus; 3] = [
        FindingStatus::Open,
        FindingStatus::AcceptedRisk,
        FindingStatus::Resolved,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            FindingStatus::Open => "open",
            FindingStatus::AcceptedRisk => "accepted_risk",
            FindingStatus::Resolved => "resolved",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            FindingStatus::Open => "Open",
            FindingStatus::AcceptedRisk => "Accepted risk",
            FindingStatus::Resolved => "Resolved",
        }
    }

    pub fn parse(value: &str) -> Option<FindingStatus> {
        FindingStatus::ALL
            .into_iter()
            .find(|s| s.as_str() == value.trim())
    }
}

/// Who made a finding.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FindingOrigin {
    /// Written by a consultant.
    Manual,
    /// Made by the automatic step from a red flag or a weak answer.
    Answers,
    /// Made from a probe result.
    Probe,
}

impl FindingOrigin {
    pub fn as_str(self) -> &'static str {
        match self {
            FindingOrigin::Manual => "manual",
            FindingOrigin::Answers => "answers",
            FindingOrigin::Probe => "probe",
        }
    }

    pub fn parse(value: &str) -> Option<FindingOrigin> {
        [
            FindingOrigin::Manual,
            FindingOrigin::Answers,
            FindingOrigin::Probe,
        ]
        .into_iter()
        .find(|o| o.as_str() == value)
    }
}

/// What a piece of evidence is.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EvidenceKind {
    /// An answer of the questionnaire; `target` is the question id.
    Answer,
    /// An uploaded evidence file; `target` is its id.
    File,
    /// A probe result; `target` is the check id.
    Probe,
    /// A web address.
    Link,
}

/// One link from a finding to what backs it.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EvidenceLink {
    pub kind: EvidenceKind,
    pub target: String,
    /// What the link shows, e.g. "Answered No by Fay Founder (founder)".
    pub label: String,
}

/// One finding as the pages and the API show it.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    pub finding_id: i64,
    /// F-1, F-2, … within the engagement.
    pub number: i64,
    pub area: Area,
    pub severity: Severity,
    pub title: String,
    /// Markdown as typed.
    pub description: String,
    /// The description rendered and sanitized; safe to put in a page.
    pub description_html: String,
    pub confidence: Confidence,
    pub status: FindingStatus,
    pub origin: FindingOrigin,
    pub evidence: Vec<EvidenceLink>,
    /// Fields a consultant changed by hand; the automatic step leaves them alone.
    pub edited_fields: Vec<String>,
    /// While a waiver holds: when it ends (ms since the epoch).
    pub accepted_until: Option<i64>,
    /// Goes up by one with every write; an edit must name the version it replaces.
    pub version: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

impl Finding {
    pub fn reference(&self) -> String {
        format!("F-{}", self.number)
    }
}

/// The finding form as typed: new findings and edits.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FindingInput {
    pub area: String,
    pub severity: String,
    pub title: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub confidence: String,
    /// Empty keeps the current status (open for a new finding).
    #[serde(default)]
    pub status: String,
    /// Extra evidence: web addresses, one per line.
    #[serde(default)]
    pub links: String,
    /// The version this edit replaces; ignored when creating.
    #[serde(default)]
    pub version: i64,
}

/// A checked finding form.
#[derive(Debug, Clone, PartialEq)]
pub struct FindingFields {
    pub area: Area,
    pub severity: Severity,
    pub title: String,
    pub description: String,
    pub confidence: Confidence,
    pub status: Option<FindingStatus>,
    pub links: Vec<String>,
    pub version: i64,
}

impl FindingInput {
    pub fn parse(&self) -> Result<FindingFields, Vec<FieldError>> {
        let mut errors = Vec::new();
        let area = Area::parse(&self.area);
        if area.is_none() {
            errors.push(FieldError::new("area", "Choose one of the five areas."));
        }
        let severity = Severity::parse(&self.severity);
        if severity.is_none() {
            errors.push(FieldError::new(
                "severity",
                "Choose critical, high, medium or low.",
            ));
        }
        let confidence = match self.confidence.trim() {
            "" => Some(Confidence::Medium),
            value => Confidence::parse(value),
        };
        if confidence.is_none() {
            errors.push(FieldError::new("confidence", "Choose high, medium or low."));
        }
        let status = match self.status.trim() {
            "" => None,
            value => match FindingStatus::parse(value) {
                Some(s) => Some(s),
                None => {
                    errors.push(FieldError::new(
                        "status",
                        "Choose open, accepted risk or resolved.",
                    ));
                    None
                }
            },
        };
        let title = required_text("title", "title", &self.title, MAX_TITLE_CHARS)
            .map_err(|e| errors.push(e))
            .unwrap_or_default();
        let description = optional_text(
            "description",
            "description",
            &self.description,
            MAX_MARKDOWN_CHARS,
        )
        .map_err(|e| errors.push(e))
        .unwrap_or_default();
        let links = parse_links(&self.links)
            .map_err(|e| errors.push(e))
            .unwrap_or_default();
        match (area, severity, confidence) {
            (Some(area), Some(severity), Some(confidence)) if errors.is_empty() => {
                Ok(FindingFields {
                    area,
                    severity,
                    title,
                    description,
                    confidence,
                    status,
                    links,
                    version: self.version,
                })
            }
            _ => Err(errors),
        }
    }
}

/// Web addresses, one per line: at most 10, each http(s) and without spaces.
pub fn parse_links(raw: &str) -> Result<Vec<String>, FieldError> {
    let links: Vec<String> = raw
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect();
    if links.len() > 10 {
        return Err(FieldError::new("links", "At most 10 links."));
    }
    for link in &links {
        let ok = (link.starts_with("https://") || link.starts_with("http://"))
            && link.len() <= 2000
            && !link.chars().any(char::is_whitespace);
        if !ok {
            let shown: String = link.chars().take(60).collect();
            return Err(FieldError::new(
                "links",
                format!("“{shown}” is not a web address starting with https://."),
            ));
        }
    }
    Ok(links)
}

/// What the automatic step proposes for one answer: a red flag or a weak answer becomes a finding.
/// `None` when the answer is not a weakness (yes, not applicable, unanswered).
///
/// Severity follows the question's weight and red flag: a "no" to a red-flag question is
/// critical; a red-flag question answered "partly" or "don't know", or a "no" to a heavy question
/// (weight 4–5), is high; other "no"s and weak answers to heavy questions are medium; the rest low.
/// "Don't know" lowers confidence: nobody has looked.
pub fn weakness(question: &Question, choice: Choice) -> Option<(Severity, Confidence)> {
    let heavy = question.weight >= 4;
    let severity = match (choice, question.red_flag) {
        (Choice::Yes | Choice::NotApplicable, _) => return None,
        (Choice::No, true) => Severity::Critical,
        (Choice::Partly | Choice::DontKnow, true) => Severity::High,
        (Choice::No, false) if heavy => Severity::High,
        (Choice::No, false) => Severity::Medium,
        (Choice::Partly | Choice::DontKnow, false) if heavy => Severity::Medium,
        (Choice::Partly | Choice::DontKnow, false) => Severity::Low,
    };
    let confidence = if choice == Choice::DontKnow {
        Confidence::Low
    } else {
        Confidence::Medium
    };
    Some((severity, confidence))
}
