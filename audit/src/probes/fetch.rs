//! A small HTTP/1.1 client over the guard: every hop of every request connects only to an
//! address the guard checked, redirects are followed by hand (each hop checked again), and time
//! and bytes are capped. TLS details (version, certificate expiry) are kept for the TLS check.
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use http::header::{self, HeaderName, HeaderValue};
use http::{HeaderMap, Method, Request};
use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::client::conn::http1::{self, SendRequest};
use hyper_util::rt::TokioIo;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::{Resumption, WebPkiServerVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_rustls::TlsConnector;
use url::{Host, Position, Url};

use super::guard::{ConnectError, Guard, LookupError};

/// How the probes introduce themselves, unless the caller set a `User-Agent`.
pub const USER_AGENT: &str = "Plumbline-probe/0.1 (+backend audit; contact via the consultant)";

/// Headers that carry credentials: never sent over a connection whose certificate did not
/// verify (someone may be in the middle), nor to another origin after a redirect.
const CREDENTIAL_HEADERS: [HeaderName; 3] = [
    header::AUTHORIZATION,
    header::COOKIE,
    header::PROXY_AUTHORIZATION,
];

/// Idle connections kept per (scheme, host, port, address), and how long.
const MAX_IDLE_PER_KEY: usize = 8;
const MAX_IDLE_AGE: Duration = Duration::from_secs(30);

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

/// Timings of the hop that answered (`total` covers every hop and the body).
#[derive(Debug, Clone, Default)]
pub struct Timing {
    pub connect: Option<Duration>,
    pub tls: Option<Duration>,
    /// From sending the request to the first byte of the response head.
    pub ttfb: Duration,
    pub total: Duration,
    /// The request went over a kept-alive connection (no connect time).
    pub reused_connection: bool,
    /// Resolving the host name (zero for IP literals). Kept apart from `connect` (§4 of the
    /// probe reference splits DNS, connect, TLS, TTFB and total).
    pub dns: Option<Duration>,
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
/// repeated requests to one origin (the latency measurement) reuse a connection. Clones share
/// the pool, so a few requests can be in flight at once from clones of one fetcher.
///
/// No cookie jar; no proxy settings are read from the environment. If a certificate does not
/// verify, the request is still made (so the TLS check can report the expiry and version) but
/// without `Authorization`, `Cookie` or `Proxy-Authorization` headers.
#[derive(Clone)]
pub struct Fetcher {
    guard: Arc<Guard>,
    limits: FetchLimits,
    pool: Arc<Mutex<Pool>>,
}

impl Fetcher {
    pub fn new(guard: Arc<Guard>, limits: FetchLimits) -> Fetcher {
        Fetcher {
            guard,
            limits,
            pool: Arc::new(Mutex::new(Pool::default())),
        }
    }

    pub fn guard(&self) -> &Guard {
        &self.guard
    }

    pub fn limits(&self) -> &FetchLimits {
        &self.limits
    }

    pub async fn fetch(&self, request: FetchRequest) -> Result<FetchResponse, FetchError> {
        let total = self.limits.total_timeout;
        match tokio::time::timeout(total, self.fetch_hops(request)).await {
            Ok(result) => result,
            // Dropping the future drops the connection in use: it is never pooled half-read.
            Err(_) => Err(FetchError::Timeout(total)),
        }
    }

    async fn fetch_hops(&self, request: FetchRequest) -> Result<FetchResponse, FetchError> {
        let started = Instant::now();
        let mut method = request.method;
        let mut url = request.url;
        let mut body = request.body.map(Bytes::from);
        let mut headers = Vec::with_capacity(request.headers.len());
        for (name, value) in &request.headers {
            let name = HeaderName::from_bytes(name.as_bytes()).map_err(|_| {
                FetchError::Protocol(format!("invalid request header name {name:?}"))
            })?;
            let value = HeaderValue::from_str(value).map_err(|_| {
                FetchError::Protocol(format!("invalid value for request header {name}"))
            })?;
            // The Host header always comes from the URL: it names the checked origin.
            if name != header::HOST {
                headers.push((name, value));
            }
        }
        let mut redirects: Vec<(u16, String)> = Vec::new();
        loop {
            // Every hop is parsed and checked again; resolving happens inside `exchange`.
            // A refusal after a redirect says so: the consultant typed a safe address.
            let refused = |why: String| match redirects.last() {
                Some((status, location)) => {
                    FetchError::Refused(format!("redirect ({status}) to {location}: {why}"))
                }
                None => FetchError::Refused(why),
            };
            let checked = self
                .guard
                .check_url(url.as_str(), &["http", "https"])
                .map_err(|r| refused(r.0))?;
            let hop = match self
                .exchange(&method, &checked, &headers, body.as_ref())
                .await
            {
                Ok(hop) => hop,
                Err(FetchError::Refused(why)) => return Err(refused(why)),
                Err(other) => return Err(other),
            };
            let location = hop
                .head
                .headers
                .get(header::LOCATION)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            let status = hop.head.status.as_u16();
            let is_redirect = matches!(status, 301 | 302 | 303 | 307 | 308);
            match location {
                Some(location) if request.follow_redirects && is_redirect => {
                    if redirects.len() >= usize::from(self.limits.max_redirects) {
                        return Err(FetchError::TooManyRedirects(self.limits.max_redirects));
                    }
                    let next = checked.join(&location).map_err(|e| {
                        FetchError::Protocol(format!(
                            "redirect to an invalid Location {location:?}: {e}"
                        ))
                    })?;
                    redirects.push((status, location));
                    // 303 always, and 301/302 after a POST (what browsers do), continue as GET.
                    let to_get = (status == 303 && method != Method::HEAD)
                        || (matches!(status, 301 | 302) && method == Method::POST);
                    if to_get {
                        method = Method::GET;
                        body = None;
                        headers.retain(|(name, _)| {
                            name != header::CONTENT_TYPE
                                && name != header::CONTENT_LENGTH
                                && name != header::CONTENT_ENCODING
                        });
                    }
                    if next.origin() != checked.origin() {
                        headers.retain(|(name, _)| !CREDENTIAL_HEADERS.contains(name));
                    }
                    url = next;
                }
                _ => {
                    let mut timing = hop.timing;
                    timing.total = started.elapsed();
                    return Ok(FetchResponse {
                        url: checked,
                        status,
                        headers: hop.head.headers,
                        body: hop.body,
                        body_truncated: hop.body_truncated,
                        redirects,
                        tls: hop.tls,
                        timing,
                    });
                }
            }
        }
    }

    /// One request and response on one connection (pooled or new).
    async fn exchange(
        &self,
        method: &Method,
        url: &Url,
        headers: &[(HeaderName, HeaderValue)],
        body: Option<&Bytes>,
    ) -> Result<Hop, FetchError> {
        let host = url
            .host_str()
            .ok_or_else(|| FetchError::Refused("the URL has no host".to_owned()))?;
        let port = url
            .port_or_known_default()
            .ok_or_else(|| FetchError::Refused("the URL has no port".to_owned()))?;
        let dns_started = Instant::now();
        let addrs = self.guard.lookup(host, port).await.map_err(|e| match e {
            LookupError::Refused(r) => FetchError::Refused(r.0),
            LookupError::NotFound(why) => FetchError::Connect(why),
        })?;
        let dns = dns_started.elapsed();

        let mut allow_reuse = true;
        loop {
            let mut timing = Timing {
                dns: Some(dns),
                ..Timing::default()
            };
            let pooled = if allow_reuse {
                self.take_idle(url.scheme(), host, port, &addrs).await
            } else {
                None
            };
            let mut conn = match pooled {
                Some(conn) => {
                    timing.reused_connection = true;
                    conn
                }
                None => {
                    let (conn, connect, tls) = self.open(url, host, port, &addrs).await?;
                    timing.connect = Some(connect);
                    timing.tls = tls;
                    conn
                }
            };
            let request = build_request(method, url, headers, body, conn.tls.as_ref())?;
            let sent = Instant::now();
            let response = match conn.sender.send_request(request).await {
                Ok(response) => response,
                Err(e) => {
                    // A kept-alive connection the server closed meanwhile: try once on a new
                    // one if the request was never sent or is safe to repeat.
                    if timing.reused_connection && (e.is_canceled() || is_idempotent(method)) {
                        allow_reuse = false;
                        continue;
                    }
                    return Err(FetchError::Protocol(e.to_string()));
                }
            };
            timing.ttfb = sent.elapsed();
            let (head, incoming) = response.into_parts();
            let (body, body_truncated, complete) =
                read_capped(incoming, self.limits.max_body_bytes).await?;
            let closing = head.headers.get_all(header::CONNECTION).iter().any(|v| {
                v.to_str()
                    .is_ok_and(|v| v.to_ascii_lowercase().contains("close"))
            });
            let tls = conn.tls.clone();
            if complete && !closing {
                self.put_idle(conn);
            }
            return Ok(Hop {
                head,
                body,
                body_truncated,
                tls,
                timing,
            });
        }
    }

    /// Connects to a checked address, with TLS for https, and starts HTTP/1.1 on it.
    async fn open(
        &self,
        url: &Url,
        host: &str,
        port: u16,
        addrs: &[SocketAddr],
    ) -> Result<(Conn, Duration, Option<Duration>), FetchError> {
        let connect_timeout = self.limits.connect_timeout;
        let connect_started = Instant::now();
        let deadline = tokio::time::Instant::now() + connect_timeout;
        let (stream, addr) =
            self.guard
                .connect_checked(addrs, deadline)
                .await
                .map_err(|e| match e {
                    ConnectError::Refused(r) => FetchError::Refused(r.0),
                    ConnectError::TimedOut => FetchError::Timeout(connect_timeout),
                    ConnectError::Failed(why) => FetchError::Connect(why),
                })?;
        let connect = connect_started.elapsed();
        let key = PoolKey {
            scheme: url.scheme().to_owned(),
            host: host.to_owned(),
            port,
            addr,
        };
        if url.scheme() != "https" {
            let sender = start_http1(stream).await?;
            return Ok((
                Conn {
                    key,
                    sender,
                    tls: None,
                },
                connect,
                None,
            ));
        }
        let tls_started = Instant::now();
        let server_name = match url.host() {
            Some(Host::Domain(name)) => ServerName::try_from(name.to_owned())
                .map_err(|e| FetchError::Tls(format!("invalid server name {name:?}: {e}")))?,
            Some(Host::Ipv4(ip)) => ServerName::from(std::net::IpAddr::V4(ip)),
            Some(Host::Ipv6(ip)) => ServerName::from(std::net::IpAddr::V6(ip)),
            None => return Err(FetchError::Refused("the URL has no host".to_owned())),
        };
        let verify_error = Arc::new(Mutex::new(None));
        let config = tls_config(verify_error.clone())?;
        let tls_stream = TlsConnector::from(Arc::new(config))
            .connect(server_name, stream)
            .await
            .map_err(|e| FetchError::Tls(e.to_string()))?;
        let tls_time = tls_started.elapsed();
        let (_, session) = tls_stream.get_ref();
        let version = match session.protocol_version() {
            Some(rustls::ProtocolVersion::TLSv1_3) => "TLSv1.3".to_owned(),
            Some(rustls::ProtocolVersion::TLSv1_2) => "TLSv1.2".to_owned(),
            Some(other) => format!("{other:?}"),
            None => "unknown".to_owned(),
        };
        let cert_not_after = session
            .peer_certificates()
            .and_then(|chain| chain.first())
            .and_then(|leaf| x509_parser::parse_x509_certificate(leaf.as_ref()).ok())
            .map(|(_, cert)| cert.validity().not_after.timestamp());
        let verify_error = lock(&verify_error).take();
        let tls = TlsInfo {
            version,
            cert_not_after,
            verified: verify_error.is_none(),
            verify_error,
        };
        let sender = start_http1(tls_stream).await?;
        Ok((
            Conn {
                key,
                sender,
                tls: Some(tls),
            },
            connect,
            Some(tls_time),
        ))
    }

    /// An idle connection to one of `addrs` (in resolver order) that is still open.
    async fn take_idle(
        &self,
        scheme: &str,
        host: &str,
        port: u16,
        addrs: &[SocketAddr],
    ) -> Option<Conn> {
        for addr in addrs {
            let key = PoolKey {
                scheme: scheme.to_owned(),
                host: host.to_owned(),
                port,
                addr: *addr,
            };
            loop {
                let idle = {
                    let mut pool = lock(&self.pool);
                    let idle = pool.idle.get_mut(&key).and_then(Vec::pop);
                    if pool.idle.get(&key).is_some_and(Vec::is_empty) {
                        pool.idle.remove(&key);
                    }
                    idle
                };
                let Some(mut idle) = idle else { break };
                if idle.since.elapsed() > MAX_IDLE_AGE || idle.conn.sender.is_closed() {
                    continue;
                }
                // Waits for hyper to finish the previous exchange; fails if the peer closed.
                if idle.conn.sender.ready().await.is_ok() {
                    return Some(idle.conn);
                }
            }
        }
        None
    }

    fn put_idle(&self, conn: Conn) {
        let mut pool = lock(&self.pool);
        let list = pool.idle.entry(conn.key.clone()).or_default();
        list.retain(|idle| idle.since.elapsed() <= MAX_IDLE_AGE && !idle.conn.sender.is_closed());
        if list.len() < MAX_IDLE_PER_KEY {
            list.push(Idle {
                conn,
                since: Instant::now(),
            });
        }
    }
}

/// What one hop returned.
struct Hop {
    head: http::response::Parts,
    body: Vec<u8>,
    body_truncated: bool,
    tls: Option<TlsInfo>,
    timing: Timing,
}

/// The connection pool: idle HTTP/1.1 connections by the address they were made to.
#[derive(Default)]
struct Pool {
    idle: HashMap<PoolKey, Vec<Idle>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct PoolKey {
    scheme: String,
    host: String,
    port: u16,
    /// The checked address the connection was made to.
    addr: SocketAddr,
}

struct Conn {
    key: PoolKey,
    sender: SendRequest<Full<Bytes>>,
    /// What the TLS handshake of this connection found (reused requests report it too).
    tls: Option<TlsInfo>,
}

struct Idle {
    conn: Conn,
    since: Instant,
}

/// Locks a mutex; a poisoned one (a panic elsewhere while holding it) still holds usable data.
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn is_idempotent(method: &Method) -> bool {
    matches!(
        *method,
        Method::GET | Method::HEAD | Method::OPTIONS | Method::PUT | Method::DELETE | Method::TRACE
    )
}

/// Starts HTTP/1.1 on `io`; the connection runs in its own task until the sender is dropped.
async fn start_http1<S>(io: S) -> Result<SendRequest<Full<Bytes>>, FetchError>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (sender, connection) = http1::Builder::new()
        .handshake::<_, Full<Bytes>>(TokioIo::new(io))
        .await
        .map_err(|e| FetchError::Connect(e.to_string()))?;
    tokio::spawn(async move {
        if let Err(e) = connection.await {
            tracing::debug!(error = %e, "probe connection ended with an error");
        }
    });
    Ok(sender)
}

fn build_request(
    method: &Method,
    url: &Url,
    headers: &[(HeaderName, HeaderValue)],
    body: Option<&Bytes>,
    tls: Option<&TlsInfo>,
) -> Result<Request<Full<Bytes>>, FetchError> {
    // Origin form: path and query, never the fragment.
    let target = &url[Position::BeforePath..Position::AfterQuery];
    let target = if target.is_empty() { "/" } else { target };
    let host = match url.port() {
        Some(port) => format!("{}:{port}", url.host_str().unwrap_or_default()),
        None => url.host_str().unwrap_or_default().to_owned(),
    };
    let unverified = tls.is_some_and(|tls| !tls.verified);
    let mut request = Request::builder()
        .method(method.clone())
        .uri(target)
        .body(Full::new(body.cloned().unwrap_or_default()))
        .map_err(|e| FetchError::Protocol(format!("cannot build the request: {e}")))?;
    let map = request.headers_mut();
    map.insert(
        header::HOST,
        HeaderValue::from_str(&host)
            .map_err(|_| FetchError::Protocol(format!("invalid host {host:?}")))?,
    );
    for (name, value) in headers {
        if unverified && CREDENTIAL_HEADERS.contains(name) {
            continue;
        }
        map.append(name.clone(), value.clone());
    }
    if !map.contains_key(header::USER_AGENT) {
        map.insert(header::USER_AGENT, HeaderValue::from_static(USER_AGENT));
    }
    Ok(request)
}

/// Reads the body, keeping `max` bytes and reading on (dropping) up to `2 × max`. Returns the
/// kept bytes, whether any were dropped, and whether the body was read to its end (only then
/// can the connection carry another request).
async fn read_capped(
    mut incoming: Incoming,
    max: usize,
) -> Result<(Vec<u8>, bool, bool), FetchError> {
    let mut kept = Vec::new();
    let mut seen: usize = 0;
    let mut truncated = false;
    let read_limit = max.saturating_mul(2);
    while let Some(frame) = incoming.frame().await {
        let frame = frame.map_err(|e| FetchError::Protocol(format!("reading the body: {e}")))?;
        let Ok(data) = frame.into_data() else {
            continue; // trailers
        };
        seen = seen.saturating_add(data.len());
        let room = max.saturating_sub(kept.len());
        if data.len() > room {
            truncated = true;
        }
        kept.extend_from_slice(&data[..data.len().min(room)]);
        if seen > read_limit {
            // Too much to drain: give up on the connection rather than read on.
            return Ok((kept, true, false));
        }
    }
    Ok((kept, truncated, true))
}

/// The web PKI verifier (Mozilla's roots via webpki-roots), built once.
fn webpki_verifier() -> Result<Arc<WebPkiServerVerifier>, FetchError> {
    static VERIFIER: OnceLock<Result<Arc<WebPkiServerVerifier>, String>> = OnceLock::new();
    VERIFIER
        .get_or_init(|| {
            let mut roots = RootCertStore::empty();
            roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
            WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider())
                .build()
                .map_err(|e| e.to_string())
        })
        .clone()
        .map_err(FetchError::Tls)
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// A client configuration for one connection: HTTP/1.1 only, no session resumption (each
/// connection is a full handshake, so its certificate is verified and its timing honest), and a
/// verifier that records a failed verification in `verify_error` instead of failing.
fn tls_config(verify_error: Arc<Mutex<Option<String>>>) -> Result<ClientConfig, FetchError> {
    let verifier = RecordingVerifier {
        inner: webpki_verifier()?,
        error: verify_error,
    };
    let mut config = ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| FetchError::Tls(e.to_string()))?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    config.resumption = Resumption::disabled();
    Ok(config)
}

/// Verifies the certificate chain against the web PKI and, when that fails, records why and
/// lets the handshake go on, so the TLS check can still read the version and expiry and say
/// "certificate expired" or "unknown issuer". Handshake signatures are still verified, so the
/// server must hold the key of the certificate it showed.
#[derive(Debug)]
struct RecordingVerifier {
    inner: Arc<WebPkiServerVerifier>,
    error: Arc<Mutex<Option<String>>>,
}

impl ServerCertVerifier for RecordingVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if let Err(e) = self.inner.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        ) {
            *lock(&self.error) = Some(e.to_string());
        }
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}
