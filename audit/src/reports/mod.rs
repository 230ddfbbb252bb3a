//! The written report: one model built from the engagement, rendered to Markdown, HTML and PDF,
//! issued as immutable hashed versions and shared with the founders.
mod model;
pub use model::*;

#[cfg(feature = "server")]
pub mod build;
#[cfg(feature = "server")]
pub mod cache;
#[cfg(feature = "server")]
pub mod charts;
#[cfg(feature = "server")]
pub mod fixture;
#[cfg(feature = "server")]
pub mod render;
#[cfg(feature = "server")]
pub mod store;
#[cfg(feature = "server")]
pub use store::*;
