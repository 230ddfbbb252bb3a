//! A small HTTP/1.1 client over the guard: every hop of every request connects only to an
//! address the guard checked, redirects are followed by hand (each hop checked again), and time
//! and bytes are capped. TLS details (version, certificate expiry) are kept for the TLS check.
use std::sync::Arc;
use std::time::Duration;

use http::{HeaderMap, Method};
use url::Url;

use super::guard::Guard;

#[derive(Debug, Clone)]
pub struct FetchLimits {
    pub connect_timeout: Duration,
    /// For the whole request including every redirect hop and reading the body.
    pub total_timeout: Duration,
    /// Bytes of body kept; the rest is read and dropped up to twice this, then the connection closes.
    pub max_body_bytes: usize,
    pub max_redirects: u8,
}

impl Default for FetchLimits {
    fn default() -> Self {
        FetchLimits {
            connect_timeout: Duration::from_secs(5),
            total_timeout: Duration::from_secs(15),
            max_body_bytes: 5 * 1024 * 1024,
            max_redirects: 3,
        }
    }
}

#[derive(Debug, Clone)]
pub struct FetchRequest {
    pub method: Method,
    pub url: Url,
    pub headers: Vec<(String, String)>,
    pub body: Option<Vec<u8>>,
    /// Follow 301/302/303/307/308 (each hop checked by the guard), up to `max_redirects`.
    pub follow_redirects: bool,
}

impl FetchRequest {
    pub fn get(url: Url) -> FetchRequest {
        FetchRequest {
            method: Method::GET,
            url,
            headers: Vec::new(),
            body: None,
            follow_redirects: true,
        }
    }

    pub fn header(mut self, name: &str, value: &str) -> FetchRequest {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }
}

#[derive(Debug, Clone)]
pub struct TlsInfo {
    /// "TLSv1.3", "TLSv1.2".
    pub version: String,
    /// Leaf certificate's notAfter, Unix seconds.
    pub cert_not_after: Option<i64>,
    /// The certificate chain verified against the web PKI roots for this host name.
    pub verified: bool,
    /// Why verification failed, when it did.
    pub verify_error: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct Timing {
    pub connect: Option<Duration>,
    pub tls: Option<Duration>,
    /// From sending the request to the first byte of the response head.
    pub ttfb: Duration,
    pub total: Duration,
    /// The request went over a kept-alive connection (no connect time).
    pub reused_connection: bool,
}

#[derive(Debug, Clone)]
pub struct FetchResponse {
    /// The URL that answered (after redirects).
    pub url: Url,
    pub status: u16,
    pub headers: HeaderMap,
    /// As sent (not decompressed), at most `max_body_bytes`.
    pub body: Vec<u8>,
    pub body_truncated: bool,
    /// Each redirect followed: (status, Location as sent).
    pub redirects: Vec<(u16, String)>,
    pub tls: Option<TlsInfo>,
    pub timing: Timing,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FetchError {
    #[error("refused: {0}")]
    Refused(String),
    #[error("timed out after {0:?}")]
    Timeout(Duration),
    #[error("could not connect: {0}")]
    Connect(String),
    #[error("TLS failed: {0}")]
    Tls(String),
    #[error("too many redirects (more than {0})")]
    TooManyRedirects(u8),
    #[error("bad response: {0}")]
    Protocol(String),
}

/// The guarded client. Cheap to clone; keeps idle connections per checked address so that
/// repeated requests to one origin (the latency measurement) reuse a connection.
#[derive(Clone)]
pub struct Fetcher {
    guard: Arc<Guard>,
    limits: FetchLimits,
}

impl Fetcher {
    pub fn new(guard: Arc<Guard>, limits: FetchLimits) -> Fetcher {
        Fetcher { guard, limits }
    }

    pub fn guard(&self) -> &Guard {
        &self.guard
    }

    pub fn limits(&self) -> &FetchLimits {
        &self.limits
    }

    pub async fn fetch(&self, request: FetchRequest) -> Result<FetchResponse, FetchError> {
        let _ = request;
        todo!()
    }
}
