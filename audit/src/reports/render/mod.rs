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
