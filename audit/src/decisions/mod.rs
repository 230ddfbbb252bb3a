//! Architecture decision records (MADR-style) per engagement: numbered, superseding one another,
//! linked to findings and interventions, and exported to / imported from the `docs/adr/` layout
//! that adr-tools and Log4brains read. A waiver of a finding is a record with an expiry date.
mod model;
pub use model::*;

#[cfg(feature = "server")]
mod adr;
#[cfg(feature = "server")]
pub use adr::*;
#[cfg(feature = "server")]
mod store;
#[cfg(feature = "server")]
pub use store::*;
