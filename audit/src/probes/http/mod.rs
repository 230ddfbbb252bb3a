//! The HTTP/API probe: honest latency percentiles per endpoint (open model: each request is
//! scheduled at `t0 + i/rate` and its latency counted from that intended time, as oha
//! `--latency-correction` and wrk2 do), status codes and error bodies, pagination, caching,
//! compression, rate limits, versioning, the OpenAPI document, security headers scored the way
//! the Mozilla HTTP Observatory scores them, and TLS.
use std::time::Duration;

use url::Url;

use super::error::ProbeError;
use super::fetch::Fetcher;
use super::model::ProbeOutput;
use super::progress::Progress;

#[derive(Debug, Clone)]
pub struct HttpProbeTarget {
    pub base_url: Url,
    /// Paths (or absolute URLs on the same origin) to measure and inspect.
    pub endpoints: Vec<String>,
    /// Where the OpenAPI document is, if the consultant knows; otherwise well-known paths are tried.
    pub openapi_url: Option<String>,
    /// Requests per second of the latency measurement, per endpoint.
    pub rate: u32,
    /// How long each endpoint is measured (after a warm-up that is discarded).
    pub duration: Duration,
    pub warmup: Duration,
}

pub async fn run(
    target: &HttpProbeTarget,
    fetcher: &Fetcher,
    progress: &Progress,
) -> Result<ProbeOutput, ProbeError> {
    let _ = (target, fetcher, progress);
    todo!()
}
