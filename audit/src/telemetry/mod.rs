//! Plumbline's own latency figures: the per-route summary (shared with the admin page) and, on
//! the server, the histograms behind it.
use serde::{Deserialize, Serialize};

#[cfg(feature = "server")]
mod metrics;
#[cfg(feature = "server")]
pub use metrics::*;

/// One route's figures as the admin page and `/metrics` show them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RouteSummary {
    pub route: String,
    pub requests: u64,
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    /// Share of responses with a 5xx status.
    pub error_rate: f64,
    pub client_errors: u64,
    pub server_errors: u64,
}
