//! The audit domain of Plumbline, organised by feature. No HTTP here.
//!
//! Without the `server` feature this crate is the model and its parsers, which the browser
//! (WebAssembly) shares with the server so that a form is checked by the same code in both.
#![forbid(unsafe_code)]

pub mod accounts;
pub mod activity;
pub mod decisions;
pub mod engagements;
pub mod error;
pub mod fields;
pub mod findings;
pub mod interventions;
pub mod jobs;
pub mod mail;
pub mod probes;
pub mod questionnaire;
pub mod reports;
pub mod telemetry;

#[cfg(feature = "server")]
pub mod clock;
#[cfg(feature = "server")]
pub mod db;
#[cfg(feature = "server")]
pub mod markdown;
#[cfg(feature = "server")]
pub mod sessions;
#[cfg(feature = "server")]
pub mod testing;

pub use error::{Error, FieldError};
