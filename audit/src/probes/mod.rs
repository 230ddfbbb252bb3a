//! Automated probes: evidence from the client's real system that confirms or contradicts what
//! the founders claimed. Four families (HTTP/API, PostgreSQL, repository, logs) yield checks;
//! every outbound connection goes through one guard (`guard`). Runs are jobs with progress, a
//! time bound and cancellation (`run`); targets, runs and checks are stored (`store`); checks
//! feed findings and the claimed-versus-observed view (`claims`).
mod model;

pub use model::*;

#[cfg(feature = "server")]
pub mod claims;
#[cfg(feature = "server")]
pub mod error;
#[cfg(feature = "server")]
pub mod feed;
#[cfg(feature = "server")]
pub mod fetch;
#[cfg(feature = "server")]
pub mod guard;
#[cfg(feature = "server")]
pub mod http;
#[cfg(feature = "server")]
pub mod logs;
#[cfg(feature = "server")]
pub mod postgres;
#[cfg(feature = "server")]
pub mod progress;
#[cfg(feature = "server")]
pub mod repo;
#[cfg(feature = "server")]
pub mod run;
#[cfg(feature = "server")]
pub mod seal;
#[cfg(feature = "server")]
pub mod store;

/// Every check id the four probes can produce.
#[cfg(feature = "server")]
pub fn check_ids() -> Vec<&'static str> {
    let mut ids: Vec<&'static str> = http::CHECKS.iter().map(|c| c.id).collect();
    ids.extend(postgres::check_ids());
    ids.extend(repo::check_specs().iter().map(|c| c.id));
    ids.extend(logs::CHECKS.iter().map(|c| c.id));
    ids
}

/// Check ids the question bank names that need a code forge's API (GitHub, GitLab) rather than
/// a clone: no probe produces them yet, so those questions stay unconfirmed.
pub const FORGE_API_CHECKS: [&str; 2] = ["repo.branch-protection", "repo.code-review"];
