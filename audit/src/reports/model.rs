//! The report model: everything the written report says, gathered once from the engagement.
//!
//! Every renderer (Markdown, HTML, PDF) reads this and nothing else, so the three outputs say the
//! same thing. An issued version stores this model as JSON next to its files; the files can be
//! rendered again from it and checked against their SHA-256.
//!
//! Text typed by people (the summary, finding descriptions, rationales, decision records, answer
//! notes) stays Markdown here; each renderer converts it for its own output with escaping.
use serde::{Deserialize, Serialize};

use crate::interventions::RoadmapInput;
use crate::FieldError;

/// The whole report. Plain data: labels are already words ("High", "Contradicted"), dates are
/// YYYY-MM-DD, so templates need no logic beyond loops.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    pub cover: Cover,
    pub summary: Summary,
    /// The five areas in bank order.
    pub areas: Vec<AreaSection>,
    /// Answers that probe evidence contradicts, worst first. Empty when no probe ran.
    pub claims: Vec<ClaimLine>,
    /// Whether any probe evidence was compared with the answers at all.
    pub probes_ran: bool,
    /// By area (bank order), then severity (critical first), then number.
    pub findings: Vec<FindingLine>,
    /// In the order the consultant recommends (computed, or pinned by hand).
    pub interventions: Vec<InterventionLine>,
    pub roadmap: Roadmap,
    pub decisions: Vec<DecisionLine>,
    /// Questionnaire answers, one group per area.
    pub answers: Vec<AnswerGroup>,
    /// Before/after when the engagement has two milestones or more (first against last).
    pub comparison: Option<Comparison>,
    pub method: Method,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cover {
    pub client_name: String,
    pub system_name: String,
    /// YYYY-MM-DD, when set on the engagement.
    pub start_date: Option<String>,
    pub due_date: Option<String>,
    /// Who prepared the report (the consultant who issued it, or who previewed the draft).
    pub consultant: String,
    pub firm: Branding,
    /// "Draft" or "Version 3".
    pub version_label: String,
    /// YYYY-MM-DD: the day the version was issued (or the draft rendered).
    pub date: String,
}

/// The firm's look on the cover and in headings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Branding {
    pub name: String,
    /// `#rrggbb`, checked when the owner saved it.
    pub accent: String,
    /// Set when the firm uploaded a logo; the bytes travel beside the model, not inside it.
    pub logo: Option<LogoRef>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogoRef {
    /// `png`, `jpg` or `svg`: the file name the renderers give it (`logo.png`).
    pub extension: String,
    /// `image/png`, `image/jpeg` or `image/svg+xml`.
    pub media_type: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// The consultant's executive summary, Markdown. May be empty.
    pub text: String,
    /// 0 to 100, when any question applies.
    pub overall_score: Option<u32>,
    pub red_flag_count: usize,
    pub contradiction_count: usize,
    pub open_finding_count: usize,
    /// The first three interventions of the order: "I-3 Add a read-through cache".
    pub top_interventions: Vec<String>,
    /// Engineer-weeks of all interventions together.
    pub total_effort_weeks: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AreaSection {
    /// `observability`, `database`, …
    pub key: String,
    pub title: String,
    pub score: Option<u32>,
    /// "Low", "Medium", "High" or "Not scored".
    pub risk: String,
    pub answered: usize,
    pub questions: usize,
    /// The prompts of red-flag questions answered "no".
    pub red_flags: Vec<String>,
    pub open_findings: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClaimLine {
    pub area: String,
    pub prompt: String,
    /// "Yes", "Partly", … or "Not answered".
    pub claimed: String,
    /// "fail", "warn", "pass".
    pub observed: String,
    /// "Contradicted", "Better than claimed", …
    pub verdict: String,
    /// "pg.unindexed-foreign-keys (fail): 12 foreign keys without an index"
    pub checks: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FindingLine {
    /// F-3
    pub reference: String,
    pub area: String,
    /// "Critical", "High", "Medium", "Low"
    pub severity: String,
    pub title: String,
    /// Markdown.
    pub description: String,
    pub confidence: String,
    /// "Open", "Accepted risk", "Resolved"
    pub status: String,
    /// "Answer: Answered No by Fay (founder)", "Probe: pg.unindexed-foreign-keys …"
    pub evidence: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InterventionLine {
    /// 1-based place in the order.
    pub position: usize,
    /// I-2
    pub reference: String,
    pub title: String,
    /// 1 to 5.
    pub impact: u32,
    /// "p95 −40 %"; may be empty.
    pub expected_effect: String,
    pub effort_weeks: f64,
    pub confidence: String,
    /// impact × confidence ÷ effort, two decimals.
    pub priority: f64,
    /// Markdown.
    pub rationale: String,
    /// References of the interventions that must come first.
    pub depends_on: Vec<String>,
    /// References of the findings it fixes.
    pub fixes: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Roadmap {
    /// Engineers working on the interventions at once.
    pub capacity: u32,
    /// YYYY-MM-DD
    pub start: String,
    pub end: String,
    pub total_weeks: f64,
    pub entries: Vec<RoadmapLine>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RoadmapLine {
    pub reference: String,
    pub title: String,
    /// 1-based engineer.
    pub engineer: u32,
    pub start_week: f64,
    pub end_week: f64,
    pub start_date: String,
    pub end_date: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DecisionLine {
    /// ADR-0003
    pub reference: String,
    pub title: String,
    /// "Accepted", "Superseded by ADR-0004", …
    pub status: String,
    pub decided_on: Option<String>,
    pub deciders: String,
    /// Markdown, each.
    pub context: String,
    pub options: String,
    pub decision: String,
    pub consequences: String,
    /// A waiver's end date.
    pub expires_on: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AnswerGroup {
    pub area: String,
    pub answers: Vec<AnswerLine>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AnswerLine {
    pub question_id: String,
    pub prompt: String,
    /// "Yes", "Partly", "No", "Don't know", "Not applicable" or "Not answered".
    pub choice: String,
    /// Markdown; may be empty.
    pub notes: String,
}

/// Two milestones side by side.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Comparison {
    pub before: String,
    pub after: String,
    /// (area title, score before, score after)
    pub areas: Vec<ComparisonArea>,
    /// "Yes → No" lines: question prompt, before, after, "better"/"worse"/"changed".
    pub changes: Vec<ComparisonChange>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ComparisonArea {
    pub area: String,
    pub before: Option<u32>,
    pub after: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ComparisonChange {
    pub area: String,
    pub prompt: String,
    pub before: String,
    pub after: String,
    pub trend: String,
}

/// How the numbers were made, so a reader can check them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Method {
    /// "Plumbline built-in bank" or the firm template's name.
    pub bank_name: String,
    /// "built-in 2026.1" / "version 3"
    pub bank_version: String,
    /// The first 12 hex digits of the bank's content hash.
    pub bank_hash: String,
}

/// The sections every output has, in order; tests check each output for every title.
pub const SECTION_TITLES: [&str; 7] = [
    "Executive summary",
    "Scorecard",
    "Claimed versus observed",
    "Findings",
    "Interventions",
    "Roadmap",
    "Appendix",
];

/// The three outputs of a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReportFormat {
    Pdf,
    Markdown,
    Html,
}

impl ReportFormat {
    pub const ALL: [ReportFormat; 3] = [
        ReportFormat::Pdf,
        ReportFormat::Markdown,
        ReportFormat::Html,
    ];

    /// `pdf`, `md`, `html`: the file extension, which is also how URLs name the format.
    pub fn extension(self) -> &'static str {
        match self {
            ReportFormat::Pdf => "pdf",
            ReportFormat::Markdown => "md",
            ReportFormat::Html => "html",
        }
    }

    pub fn from_extension(value: &str) -> Option<ReportFormat> {
        ReportFormat::ALL
            .into_iter()
            .find(|f| f.extension() == value)
    }

    pub fn content_type(self) -> &'static str {
        match self {
            ReportFormat::Pdf => "application/pdf",
            ReportFormat::Markdown => "text/markdown; charset=utf-8",
            ReportFormat::Html => "text/html; charset=utf-8",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            ReportFormat::Pdf => "PDF",
            ReportFormat::Markdown => "Markdown",
            ReportFormat::Html => "HTML",
        }
    }

    /// The column of `report_versions` that holds the file.
    pub fn column(self) -> &'static str {
        match self {
            ReportFormat::Pdf => "pdf",
            ReportFormat::Markdown => "markdown",
            ReportFormat::Html => "html",
        }
    }
}

/// The image formats a firm logo may have, told by the file's first bytes, not its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogoKind {
    Png,
    Jpg,
    Svg,
}

impl LogoKind {
    pub fn as_str(self) -> &'static str {
        match self {
            LogoKind::Png => "png",
            LogoKind::Jpg => "jpg",
            LogoKind::Svg => "svg",
        }
    }

    pub fn parse(value: &str) -> Option<LogoKind> {
        [LogoKind::Png, LogoKind::Jpg, LogoKind::Svg]
            .into_iter()
            .find(|k| k.as_str() == value)
    }

    pub fn extension(self) -> &'static str {
        self.as_str()
    }

    pub fn media_type(self) -> &'static str {
        match self {
            LogoKind::Png => "image/png",
            LogoKind::Jpg => "image/jpeg",
            LogoKind::Svg => "image/svg+xml",
        }
    }

    pub fn sniff(bytes: &[u8]) -> Option<LogoKind> {
        if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
            return Some(LogoKind::Png);
        }
        if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
            return Some(LogoKind::Jpg);
        }
        let head = String::from_utf8_lossy(&bytes[..bytes.len().min(512)]).to_lowercase();
        let head = head.trim_start_matches('\u{feff}').trim_start();
        if (head.starts_with("<svg") || head.starts_with("<?xml")) && head.contains("<svg") {
            return Some(LogoKind::Svg);
        }
        None
    }
}

// ---------------------------------------------------------------------------------------------
// The draft's settings and issued versions, as the API and the pages show them

/// The executive summary's longest text; a report summary is a page, not a book.
pub const MAX_SUMMARY_CHARS: usize = 20_000;

/// The draft's settings as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReportDraft {
    pub summary: String,
    pub roadmap_capacity: u32,
    /// YYYY-MM-DD, or empty for "the day it is rendered".
    pub roadmap_start: String,
    /// 0 until first saved.
    pub version: i64,
}

/// The draft form as typed.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReportDraftInput {
    #[serde(default)]
    pub summary: String,
    pub roadmap_capacity: String,
    #[serde(default)]
    pub roadmap_start: String,
    /// The version this edit replaces (0 for a draft never saved).
    pub version: i64,
}

impl ReportDraftInput {
    /// (summary, engineers, start date or empty). The roadmap's fields follow the interventions
    /// page's rules, reported under this form's field names.
    pub fn parse(&self) -> Result<(String, u32, String), Vec<FieldError>> {
        let mut errors = Vec::new();
        let summary = self.summary.trim().to_owned();
        if summary.chars().count() > MAX_SUMMARY_CHARS {
            errors.push(FieldError::new(
                "summary",
                format!("The summary is longer than {MAX_SUMMARY_CHARS} characters; shorten it."),
            ));
        }
        let roadmap = RoadmapInput {
            capacity: self.roadmap_capacity.clone(),
            start: self.roadmap_start.clone(),
        }
        .parse();
        match roadmap {
            Ok((capacity, start)) if errors.is_empty() => {
                Ok((summary, capacity, start.unwrap_or_default()))
            }
            Ok(_) => Err(errors),
            Err(problems) => {
                errors.extend(problems.into_iter().map(|mut problem| {
                    problem.field = format!("roadmap_{}", problem.field);
                    problem
                }));
                Err(errors)
            }
        }
    }
}

/// Where an issued version is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum VersionStatus {
    Rendering,
    Issued,
    Failed,
}

impl VersionStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            VersionStatus::Rendering => "rendering",
            VersionStatus::Issued => "issued",
            VersionStatus::Failed => "failed",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            VersionStatus::Rendering => "Rendering",
            VersionStatus::Issued => "Issued",
            VersionStatus::Failed => "Failed",
        }
    }
}

/// One issued version as lists show it (without its files).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReportVersion {
    pub report_version_id: i64,
    /// 1, 2, … within the engagement (shown as v1, v2).
    pub number: i64,
    pub status: VersionStatus,
    /// 0 to 100 while rendering.
    pub progress: i64,
    pub progress_label: String,
    /// Why rendering failed, when it did.
    pub error: String,
    pub model_sha256: String,
    pub markdown_sha256: Option<String>,
    pub html_sha256: Option<String>,
    pub pdf_sha256: Option<String>,
    pub pdf_bytes: Option<i64>,
    pub issued_by: String,
    pub shared_with_founders: bool,
    pub shared_at: Option<i64>,
    /// When it was issued (ms since the epoch).
    pub created_at: i64,
}

impl ReportVersion {
    pub fn label(&self) -> String {
        format!("v{}", self.number)
    }

    pub fn sha256(&self, format: ReportFormat) -> Option<&str> {
        match format {
            ReportFormat::Pdf => self.pdf_sha256.as_deref(),
            ReportFormat::Markdown => self.markdown_sha256.as_deref(),
            ReportFormat::Html => self.html_sha256.as_deref(),
        }
    }
}

/// Each stored file's digest recomputed and compared with the one stored at issue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Verification {
    pub number: i64,
    pub files: Vec<FileCheck>,
    /// True when every file (and the model) matches its digest.
    pub intact: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FileCheck {
    /// `model.json`, `report.md`, `report.html`, `report.pdf`
    pub file: String,
    pub stored_sha256: String,
    pub computed_sha256: String,
    pub matches: bool,
}
