//! Engagements: one client audit, from first contact to issued report.
mod model;
pub use model::*;

#[cfg(feature = "server")]
mod store;
#[cfg(feature = "server")]
pub use store::*;
