//! Interventions: the structural changes that fix findings, ordered by impact per week of effort
//! with dependencies first (seed 002), and laid into a roadmap that fits the team's capacity.
mod model;
pub use model::*;
mod plan;
pub use plan::*;

#[cfg(feature = "server")]
mod store;
#[cfg(feature = "server")]
pub use store::*;
