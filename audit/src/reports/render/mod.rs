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
