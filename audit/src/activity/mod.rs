//! The activity log of an engagement: every change to answers, findings, interventions and
//! decision records — who, what, when, before and after. Append-only: the code only inserts,
//! and database triggers refuse updates and deletes.
mod model;
pub use model::*;

#[cfg(feature = "server")]
mod store;
#[cfg(feature = "server")]
pub use store::*;
