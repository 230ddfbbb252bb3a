//! The renderers: one function per output, each reading only the report model (and the firm's
//! logo bytes, which travel beside the model).
//!
//! Markdown typed by people is converted per output with escaping: to sanitized HTML for the
//! HTML report, to escaped Typst markup for the PDF, and kept as Markdown (under headings the
//! template owns) for the Markdown report.
mod html;
mod markdown;
mod typst;

pub use self::html::html;
pub use self::markdown::markdown;
pub use self::typst::{pdf, typst_source, PdfError};

/// "2026-11-02 to 2026-12-18", "from …", "until …", or `None` when neither date is set.
pub(crate) fn engagement_dates(start: Option<&str>, due: Option<&str>) -> Option<String> {
    let start = start.map(str::trim).filter(|s| !s.is_empty());
    let due = due.map(str::trim).filter(|s| !s.is_empty());
    match (start, due) {
        (Some(start), Some(due)) => Some(format!("{start} to {due}")),
        (Some(start), None) => Some(format!("from {start}")),
        (None, Some(due)) => Some(format!("until {due}")),
        (None, None) => None,
    }
}

/// How the numbers are made, for the "Method" appendix of every output: (label, plain text).
/// One wording for all three outputs, so they cannot explain the numbers differently.
pub(crate) const METHOD: [(&str, &str); 4] = [
    (
        "Area scores",
        "Each area is scored from 0 to 100 from the weighted answers to its questions: \"Yes\" counts in full, \"Partly\" half, \"No\" and \"Don't know\" nothing, and so does a question not answered yet. \"Not applicable\" takes the question out of the score. An area's score is 100 × Σ (weight × value) ÷ Σ weight over its applicable questions, rounded; an area where no question applies has no score. The overall score is the same sum over every applicable question of every area.",
    ),
    (
        "Red flags",
        "A question marked as a red flag and answered \"No\". Red flags are listed apart from the score.",
    ),
    (
        "Risk",
        "An area's risk is High when its score is below 50 or it has a red flag; otherwise Medium when its score is below 75 or two questions or more were answered \"Don't know\"; otherwise Low.",
    ),
    (
        "Priority",
        "Each intervention's priority is impact × confidence ÷ effort in engineer-weeks, with confidence counted as 1.0 for High, 0.8 for Medium and 0.5 for Low. Interventions are ordered by priority, highest first, except that an intervention another depends on always comes before it and takes the highest priority of the work it unblocks; the consultant may pin the order by hand. The roadmap walks that order: each intervention is one engineer's work and starts once its dependencies are done and an engineer is free.",
    ),
];

/// Numbers, lists and dates worded the same way in the Markdown and HTML reports; the askama
/// templates call these as methods of the template.
pub(crate) trait Wording {
    fn weeks(&self, value: &f64) -> String {
        crate::reports::charts::format_weeks(*value)
    }

    fn priority(&self, value: &f64) -> String {
        markdown::format_priority(*value)
    }

    fn score(&self, value: &Option<u32>) -> String {
        markdown::format_score(*value)
    }

    fn or_not_set(&self, value: &Option<String>) -> String {
        value.clone().unwrap_or_else(|| "not set".into())
    }

    fn dates(&self, start: &Option<String>, due: &Option<String>) -> String {
        engagement_dates(start.as_deref(), due.as_deref()).unwrap_or_else(|| "dates not set".into())
    }

    fn list(&self, values: &[String]) -> String {
        markdown::format_list(values)
    }
}
