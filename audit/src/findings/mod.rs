//! Findings: what is wrong, by area and severity, with the evidence behind it. Made by hand, or
//! by the automatic step from red flags and weak answers (later also from probe results), which
//! can be re-run without duplicating findings or undoing a consultant's edits.
mod model;
pub use model::*;

#[cfg(feature = "server")]
mod store;
#[cfg(feature = "server")]
pub use store::*;
