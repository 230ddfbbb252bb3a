//! The questionnaire: the question bank (model, loader and the built-in bank in `bank/*.toml`)
//! and the scoring of a set of answers into a scorecard.
mod bank;
pub use bank::*;

mod scoring;
pub use scoring::*;

#[cfg(feature = "server")]
mod load;
#[cfg(feature = "server")]
pub use load::*;

mod model;
pub use model::*;

#[cfg(feature = "server")]
mod evidence;
#[cfg(feature = "server")]
pub use evidence::*;
#[cfg(feature = "server")]
mod invitations;
#[cfg(feature = "server")]
pub use invitations::*;
#[cfg(feature = "server")]
mod milestones;
#[cfg(feature = "server")]
pub use milestones::*;
#[cfg(feature = "server")]
mod store;
#[cfg(feature = "server")]
pub use store::*;
#[cfg(feature = "server")]
mod versions;
#[cfg(feature = "server")]
pub use versions::*;

mod templates_model;
pub use templates_model::*;
#[cfg(feature = "server")]
mod templates;
#[cfg(feature = "server")]
pub use templates::*;
