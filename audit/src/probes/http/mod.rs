//! The HTTP/API probe: honest latency percentiles per endpoint (open model: each request is
//! scheduled at `t0 + i/rate` and its latency counted from that intended time, as oha
//! `--latency-correction` and wrk2 do), status codes and error bodies, pagination, caching,
//! compression, rate limits, versioning, the OpenAPI document, security headers scored the way
//! the Mozilla HTTP Observatory scores them, and TLS.
//!
//! Every request goes through the guarded `Fetcher`. Apart from the latency measurement (at the
//! configured rate, bounded by rate × duration per endpoint) requests are sent one at a time,
//! and nothing is sent that could change data: the only bodies are malformed JSON.
pub mod behaviour;
pub mod common;
pub mod latency;
pub mod observatory;
pub mod openapi;
pub mod tls;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http::Method;
use serde_json::{json, Value};
use url::Url;

use super::error::ProbeError;
use super::fetch::{FetchError, FetchRequest, FetchResponse, Fetcher};
use super::model::{
    CheckArea, CheckResult, CheckSpec, CheckStatus, ProbeOutput, MAX_HTTP_DURATION_SECS,
    MAX_HTTP_ENDPOINTS, MAX_HTTP_RATE,
};
use super::progress::Progress;
use crate::findings::Severity;
use common::{header_all, headers_json, is_html, path_of};
use latency::{EndpointLatency, LatencySettings};

#[derive(Debug, Clone)]
pub struct HttpProbeTarget {
    pub base_url: Url,
    /// Paths (or absolute URLs on the same host) to measure and inspect.
    pub endpoints: Vec<String>,
    /// Where the OpenAPI document is, if the consultant knows; otherwise well-known paths are tried.
    pub openapi_url: Option<String>,
    /// Requests per second of the latency measurement, per endpoint.
    pub rate: u32,
    /// How long each endpoint is measured (after a warm-up that is discarded).
    pub duration: Duration,
    pub warmup: Duration,
}

pub const SECURITY_HEADERS: CheckSpec = CheckSpec {
    id: "http.security-headers",
    area: CheckArea::Api,
    title: "Security headers (HTTP Observatory score)",
    severity: Severity::Medium,
    threshold: "Observatory score: base 100 plus each test's modifier, bonuses only when the \
                penalties leave ≥ 90, grade from the score rounded down to a multiple of 5; \
                fail below C (< 50), warn below B (< 70) (ours)",
    source: "Mozilla HTTP Observatory (mdn-http-observatory, algorithm v6) scoring table, \
             reimplemented",
};

pub const COOKIES: CheckSpec = CheckSpec {
    id: "http.cookies",
    area: CheckArea::Api,
    title: "Cookie flags (Secure, HttpOnly, SameSite)",
    severity: Severity::High,
    threshold: "the Observatory's cookie test: fail at −20 or worse (no Secure, a session cookie \
                without HttpOnly, invalid SameSite, anti-CSRF cookie without SameSite), warn at \
                −5/−10 (no Secure but HSTS protects); pass when no cookie is set",
    source: "Mozilla HTTP Observatory cookie test; ZAP 10010 / 10011 / 10054",
};

/// Every check this probe yields, in the order it reports them.
pub const CHECKS: [&CheckSpec; 15] = [
    &latency::LATENCY,
    &behaviour::STATUS_CODES,
    &behaviour::ERROR_BODIES,
    &behaviour::PAGINATION,
    &behaviour::CACHE_HEADERS,
    &behaviour::COMPRESSION,
    &behaviour::RATE_LIMIT_HEADERS,
    &behaviour::VERSIONING,
    &openapi::OPENAPI,
    &openapi::OPENAPI_LINT,
    &SECURITY_HEADERS,
    &COOKIES,
    &tls::TLS,
    &behaviour::TRACE_HEADERS,
    &behaviour::EXPOSED_INTERNALS,
];

/// The Origin we send to see whether CORS reflects it.
pub const CORS_PROBE_ORIGIN: &str = "https://evil.example";

/// Progress steps besides the base URL, the OpenAPI document and the endpoints: pagination,
/// cache headers, compression, versioning, OpenAPI, security headers, TLS, exposed internals,
/// latency, done.
const CHECK_STEPS: i64 = 10;

/// The latency measurement of all endpoints together stops starting new endpoints after this
/// (ours: keeps a run with many endpoints and long settings inside the run's time bound).
const LATENCY_BUDGET: Duration = Duration::from_secs(600);

/// At most this many requests of one endpoint's measurement in flight.
const MAX_IN_FLIGHT: usize = 20;

/// One endpoint: how it is shown, where it is, and what a plain GET answered.
#[derive(Debug, Clone)]
pub struct Endpoint {
    pub label: String,
    pub url: Url,
    /// The path as the OpenAPI document names it, when it came from there.
    pub doc_path: Option<String>,
    pub baseline: Result<FetchResponse, FetchError>,
}

pub async fn run(
    target: &HttpProbeTarget,
    fetcher: &Fetcher,
    progress: &Progress,
) -> Result<ProbeOutput, ProbeError> {
    let base = fetcher
        .guard()
        .check_url(target.base_url.as_str(), &["http", "https"])
        .map_err(|r| ProbeError::Refused(r.0))?;
    let settings = LatencySettings {
        rate: target.rate.clamp(1, MAX_HTTP_RATE),
        duration: target
            .duration
            .min(Duration::from_secs(u64::from(MAX_HTTP_DURATION_SECS))),
        warmup: target
            .warmup
            .min(Duration::from_secs(u64::from(MAX_HTTP_DURATION_SECS))),
        max_in_flight: MAX_IN_FLIGHT,
    };
    // Base and OpenAPI, then the check steps; endpoints (a GET and a measurement each) are
    // added once known.
    progress.set_total(2 + CHECK_STEPS);
    progress.set_label("Base URL");

    let base_response = match fetcher.fetch(api_get(&base)).await {
        Ok(r) => r,
        Err(FetchError::Refused(why)) => return Err(ProbeError::Refused(why)),
        Err(FetchError::Tls(why)) => return Ok(tls_failed_output(&base, &why)),
        Err(e) => return Err(ProbeError::Unreachable(format!("{base}: {e}"))),
    };
    progress.step("OpenAPI document");
    cancelled(progress)?;
    // The original base is kept for the redirection test; everything else asks where the base
    // URL led (http → https on the same host, say).
    let requested_base = base;
    let base = effective_base(&requested_base, &base_response);

    let discovery = openapi::discover(fetcher, &base, target.openapi_url.as_deref()).await;
    let doc = discovery.found.as_ref().and_then(|f| f.doc.as_ref());
    progress.step("Endpoints");
    cancelled(progress)?;

    let (planned, mut notes) = plan_endpoints(&base, &target.endpoints, doc);
    progress.set_total(2 + 2 * planned.len() as i64 + CHECK_STEPS);

    // One plain GET per endpoint, carrying a traceparent to see whether it is echoed.
    let trace_id = format!("{:032x}", rand::random::<u128>());
    let traceparent = format!("00-{trace_id}-{:016x}-01", rand::random::<u64>());
    let mut endpoints = Vec::with_capacity(planned.len());
    for (label, url, doc_path) in planned {
        cancelled(progress)?;
        let request = api_get(&url).header("traceparent", &traceparent);
        let baseline = fetcher.fetch(request).await;
        if let Err(e) = &baseline {
            notes.push(common::fetch_failure(&label, e));
        }
        progress.step(format!("GET {label}"));
        endpoints.push(Endpoint {
            label,
            url,
            doc_path,
            baseline,
        });
    }

    let mut checks: Vec<CheckResult> = Vec::new();

    // Status codes and error bodies.
    let targets = status_targets(&base, &endpoints, doc);
    let probes = behaviour::status_probes(fetcher, &targets).await;
    checks.push(behaviour::status_codes(&probes, &endpoints));
    checks.push(behaviour::error_bodies(&probes, &endpoints));
    progress.step("Pagination");
    cancelled(progress)?;

    checks.push(behaviour::pagination(fetcher, &endpoints).await);
    progress.step("Cache headers");
    cancelled(progress)?;
    checks.push(behaviour::cache_headers(fetcher, &endpoints).await);
    progress.step("Compression");
    cancelled(progress)?;
    checks.push(behaviour::compression(fetcher, &endpoints).await);
    progress.step("Versioning");
    checks.push(behaviour::versioning(&base, &endpoints, doc));
    progress.step("OpenAPI");
    checks.push(openapi::check_present(&discovery));
    checks.push(openapi::lint(&discovery));
    progress.step("Security headers");
    cancelled(progress)?;

    let (security, cookies, observatory_raw) =
        security_headers(fetcher, &requested_base, &base_response, &endpoints).await;
    checks.push(security);
    checks.push(cookies);
    progress.step("TLS");
    checks.push(tls::evaluate(&base_response, now_unix()));
    checks.push(behaviour::trace_headers(&endpoints, &trace_id));
    progress.step("Exposed internals");
    cancelled(progress)?;
    checks.push(behaviour::exposed_internals(fetcher, &base).await);
    progress.step("Latency");

    // The measurement last: the longest part, at the configured rate.
    let mut measured: Vec<(String, EndpointLatency)> = Vec::new();
    let mut skipped: Vec<String> = Vec::new();
    let mut backed_off = false;
    let started = std::time::Instant::now();
    for endpoint in &endpoints {
        cancelled(progress)?;
        let over_budget = started.elapsed() + settings.warmup + settings.duration > LATENCY_BUDGET;
        if backed_off || over_budget {
            skipped.push(endpoint.label.clone());
            progress.step(format!("Skipped {}", endpoint.label));
            continue;
        }
        progress.set_label(format!("Latency of {}", endpoint.label));
        let m = latency::measure_endpoint(fetcher, &endpoint.url, &settings, progress).await;
        // A 429 or 503 on one endpoint is the server asking us to stop: we stop everywhere.
        backed_off = m.backed_off;
        measured.push((endpoint.label.clone(), m));
        progress.step(format!("Measured {}", endpoint.label));
    }
    cancelled(progress)?;
    let mut latency_check = latency::evaluate(&measured, &settings);
    if !skipped.is_empty() {
        latency_check.evidence.push(format!(
            "not measured ({}): {}",
            if backed_off {
                "the server asked us to back off"
            } else {
                "the measurement budget of 10 minutes was spent"
            },
            skipped.join(", ")
        ));
    }
    checks.push(latency_check);
    let probe_responses: Vec<&FetchResponse> = probes
        .iter()
        .filter_map(|p| p.result.as_ref().ok())
        .collect();
    checks.push(behaviour::rate_limit(
        &endpoints,
        &probe_responses,
        &measured,
    ));
    progress.step("Done");

    // Report in the fixed order of CHECKS.
    checks.sort_by_key(|c| {
        CHECKS
            .iter()
            .position(|s| s.id == c.id)
            .unwrap_or(usize::MAX)
    });

    let raw = json!({
        "base": response_json(&base_response),
        "endpoints": endpoints.iter().map(|e| json!({
            "label": e.label,
            "url": e.url.as_str(),
            "from_openapi": e.doc_path.is_some(),
            "response": match &e.baseline {
                Ok(r) => response_json(r),
                Err(err) => json!({ "error": err.to_string() }),
            },
        })).collect::<Vec<_>>(),
        "notes": notes,
        "openapi_tried": discovery.tried,
        "status_probes": probes.iter().map(|p| json!({
            "probe": p.name,
            "method": p.method.as_str(),
            "url": p.url.as_str(),
            "response": match &p.result {
                Ok(r) => response_json(r),
                Err(err) => json!({ "error": err.to_string() }),
            },
        })).collect::<Vec<_>>(),
        "observatory": observatory_raw,
        "latency": measured.iter().map(|(label, m)| {
            let mut v = m.to_json();
            if let Value::Object(map) = &mut v {
                map.insert("endpoint".into(), json!(label));
            }
            v
        }).collect::<Vec<_>>(),
    });
    Ok(ProbeOutput { checks, raw })
}

fn cancelled(progress: &Progress) -> Result<(), ProbeError> {
    if progress.is_cancelled() {
        Err(ProbeError::Cancelled)
    } else {
        Ok(())
    }
}

fn now_unix() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or_default()
}

/// A GET as an API client sends it.
fn api_get(url: &Url) -> FetchRequest {
    FetchRequest::get(url.clone()).header("accept", "application/json, */*;q=0.8")
}

/// Status, final URL and headers of a response (no body) for the raw record.
fn response_json(r: &FetchResponse) -> Value {
    json!({
        "url": r.url.as_str(),
        "status": r.status,
        "headers": headers_json(&r.headers),
        "body_bytes": r.body.len(),
        "redirects": r.redirects.iter().map(|(s, l)| json!([s, l])).collect::<Vec<_>>(),
        "tls": r.tls.as_ref().map(|t| json!({
            "version": t.version,
            "verified": t.verified,
            "cert_not_after": t.cert_not_after,
        })),
        "ttfb_ms": r.timing.ttfb.as_secs_f64() * 1000.0,
    })
}

/// When the TLS handshake with the base URL fails nothing else can be asked: the TLS check
/// fails and says why, every other check says it could not look.
fn tls_failed_output(base: &Url, why: &str) -> ProbeOutput {
    let checks = CHECKS
        .iter()
        .map(|spec| {
            if spec.id == tls::TLS.id {
                tls::TLS
                    .result(CheckStatus::Fail, format!("TLS handshake failed: {why}"))
                    .with_evidence(vec![format!("{base}: {why}")])
            } else {
                CheckResult::could_not_run(spec, format!("the TLS handshake failed ({why})"))
            }
        })
        .collect();
    ProbeOutput {
        checks,
        raw: json!({ "base": base.as_str(), "tls_error": why }),
    }
}

/// Where the base URL led: its redirect target when that is on the same host (a scheme or
/// port change), keeping the base path; the base URL itself otherwise (a login page elsewhere
/// is not the API).
fn effective_base(base: &Url, response: &FetchResponse) -> Url {
    if response.url.origin() == base.origin() || response.url.host_str() != base.host_str() {
        return base.clone();
    }
    let mut out = response.url.clone();
    out.set_path(base.path());
    out.set_query(base.query());
    out
}

/// The base URL's path without its trailing slash: the prefix endpoints hang under.
fn base_prefix(base: &Url) -> String {
    base.path().trim_end_matches('/').to_owned()
}

/// `path` under `prefix` on the base's origin; a path that already starts with the prefix is
/// taken as written (people type `/api/v1/users` for a base of `…/api` too).
fn under_prefix(base: &Url, prefix: &str, path: &str) -> Option<Url> {
    let path = if path.starts_with('/') {
        path.to_owned()
    } else {
        format!("/{path}")
    };
    let full = if prefix.is_empty() || path == prefix || path.starts_with(&format!("{prefix}/")) {
        path
    } else {
        format!("{prefix}{path}")
    };
    base.join(&full).ok()
}

/// An endpoint before it is asked anything: (label, URL, path in the OpenAPI document).
type PlannedEndpoint = (String, Url, Option<String>);

/// The endpoints to look at: the typed ones (same host only), else the document's GET paths
/// without parameters, else the base URL itself. Returns (label, URL, document path) and notes
/// about entries skipped.
fn plan_endpoints(
    base: &Url,
    typed: &[String],
    doc: Option<&Value>,
) -> (Vec<PlannedEndpoint>, Vec<String>) {
    let mut notes = Vec::new();
    let mut out: Vec<PlannedEndpoint> = Vec::new();
    let prefix = base_prefix(base);
    for entry in typed.iter().map(|e| e.trim()).filter(|e| !e.is_empty()) {
        let url = if entry.contains("://") {
            match Url::parse(entry) {
                Ok(u) if u.host_str() == base.host_str() => Some(u),
                Ok(_) => {
                    notes.push(format!("{entry}: skipped, not on the base URL's host"));
                    None
                }
                Err(e) => {
                    notes.push(format!("{entry}: skipped, not a URL ({e})"));
                    None
                }
            }
        } else {
            under_prefix(base, &prefix, entry)
        };
        if let Some(url) = url {
            if !out.iter().any(|(_, u, _)| *u == url) {
                out.push((path_of(&url), url, None));
            }
        }
    }
    if out.is_empty() {
        if let Some(doc) = doc {
            let doc_prefix = openapi::path_prefix(doc, base);
            for path in openapi::get_paths(doc) {
                if let Some(url) = under_prefix(base, &doc_prefix, &path) {
                    out.push((path_of(&url), url, Some(path)));
                }
            }
            if !out.is_empty() {
                notes.push(format!(
                    "{} endpoints taken from the OpenAPI document (GET, no path parameters)",
                    out.len()
                ));
            }
        }
    }
    if out.is_empty() {
        notes.push("no endpoints given or documented: the base URL itself is measured".to_owned());
        out.push((path_of(base), base.clone(), None));
    }
    if out.len() > MAX_HTTP_ENDPOINTS {
        notes.push(format!(
            "{} endpoints given; the first {MAX_HTTP_ENDPOINTS} are probed",
            out.len()
        ));
        out.truncate(MAX_HTTP_ENDPOINTS);
    }
    (out, notes)
}

/// Where the status probes aim: a path nobody serves, a method the first working endpoint does
/// not declare (PATCH, else PUT; never DELETE), and a POST with a malformed body.
fn status_targets(
    base: &Url,
    endpoints: &[Endpoint],
    doc: Option<&Value>,
) -> behaviour::StatusTargets {
    let prefix = base_prefix(base);
    let unknown_path = format!("/plumbline-no-such-path-{:08x}", rand::random::<u32>());
    let unknown = under_prefix(base, &prefix, &unknown_path).unwrap_or_else(|| base.clone());
    let working = endpoints
        .iter()
        .find(|e| matches!(&e.baseline, Ok(r) if (200..300).contains(&r.status)));
    let wrong_method = working.and_then(|e| {
        let declared = match (doc, &e.doc_path) {
            (Some(doc), Some(path)) => openapi::declared_methods(doc, path),
            _ => Vec::new(),
        };
        [Method::PATCH, Method::PUT]
            .into_iter()
            .find(|m| !declared.iter().any(|d| d == m.as_str()))
            .map(|m| (e.url.clone(), m))
    });
    let malformed = doc
        .and_then(|d| {
            let doc_prefix = openapi::path_prefix(d, base);
            openapi::post_path(d).and_then(|p| under_prefix(base, &doc_prefix, &p))
        })
        .or_else(|| working.map(|e| e.url.clone()));
    behaviour::StatusTargets {
        unknown,
        wrong_method,
        malformed,
    }
}

/// The Observatory's tests on the first response with a status it accepts (2xx, 3xx, 401, 403):
/// the base URL's, else an endpoint's. Returns the security-headers and cookie checks and the
/// raw outcomes.
async fn security_headers(
    fetcher: &Fetcher,
    base: &Url,
    base_response: &FetchResponse,
    endpoints: &[Endpoint],
) -> (CheckResult, CheckResult, Value) {
    let usable =
        |r: &FetchResponse| (200..400).contains(&r.status) || matches!(r.status, 401 | 403);
    let scored = std::iter::once(base_response)
        .chain(endpoints.iter().filter_map(|e| e.baseline.as_ref().ok()))
        .find(|r| usable(r));

    // Cookies from every response seen (the Observatory reads its whole cookie jar).
    let cookies: Vec<observatory::Cookie> = std::iter::once(base_response)
        .chain(endpoints.iter().filter_map(|e| e.baseline.as_ref().ok()))
        .flat_map(|r| header_all(&r.headers, "set-cookie"))
        .filter_map(|c| observatory::Cookie::parse(&c))
        .fold(Vec::new(), |mut acc, c| {
            if !acc.iter().any(|k: &observatory::Cookie| k.name == c.name) {
                acc.push(c);
            }
            acc
        });

    let Some(scored) = scored else {
        let why = "no response had a status the Observatory scores (2xx, 3xx, 401, 403)";
        return (
            CheckResult::could_not_run(&SECURITY_HEADERS, why),
            cookie_check(&cookies, false),
            Value::Null,
        );
    };

    let https = scored.url.scheme() == "https";
    let verified = scored.tls.as_ref().is_some_and(|t| t.verified);
    let cors_response = fetcher
        .fetch(api_get(&scored.url).header("origin", CORS_PROBE_ORIGIN))
        .await
        .ok();
    let visit = http_visit(fetcher, base, base_response).await;
    let scan = observatory::Scan {
        headers: &scored.headers,
        https,
        verified,
        is_html: is_html(scored),
        cookies: &cookies,
        cors_headers: cors_response.as_ref().map(|r| &r.headers),
        cors_origin: CORS_PROBE_ORIGIN,
        http_visit: &visit,
    };
    let outcomes = observatory::run_tests(&scan);
    let score = observatory::score(&outcomes);
    let hsts_ok = outcomes
        .iter()
        .find(|o| o.test == "strict-transport-security")
        .is_some_and(observatory::hsts_passes);

    let evidence: Vec<String> = std::iter::once(format!("scored {}", scored.url))
        .chain(outcomes.iter().map(|o| {
            let detail = if o.detail.is_empty() {
                String::new()
            } else {
                format!(" — {}", o.detail)
            };
            format!("{}: {} ({:+}){detail}", o.test, o.result, o.modifier)
        }))
        .chain(std::iter::once(if score.bonuses_counted {
            "bonuses counted (penalties left ≥ 90)".to_owned()
        } else {
            format!(
                "bonuses not counted: penalties alone leave {} (< 90)",
                score.uncurved
            )
        }))
        .collect();
    let status = if score.score < 50 {
        CheckStatus::Fail
    } else if score.score < 70 {
        CheckStatus::Warn
    } else {
        CheckStatus::Pass
    };
    let raw = json!({
        "url": scored.url.as_str(),
        "score": score.score,
        "grade": score.grade,
        "uncurved": score.uncurved,
        "bonuses_counted": score.bonuses_counted,
        "tests": outcomes.iter().map(observatory::Outcome::to_json).collect::<Vec<_>>(),
    });
    let security = SECURITY_HEADERS
        .result(
            status,
            format!("Observatory score {} (grade {})", score.score, score.grade),
        )
        .with_measured(raw.clone())
        .with_evidence(evidence);
    (security, cookie_check(&cookies, hsts_ok), raw)
}

fn cookie_check(cookies: &[observatory::Cookie], hsts_ok: bool) -> CheckResult {
    let outcome = observatory::cookies(cookies, hsts_ok);
    let status = if outcome.modifier <= -20 {
        CheckStatus::Fail
    } else if outcome.modifier < 0 {
        CheckStatus::Warn
    } else {
        CheckStatus::Pass
    };
    let summary = if cookies.is_empty() {
        "No cookies set".to_owned()
    } else {
        format!(
            "{} cookie{}: {} ({:+})",
            cookies.len(),
            if cookies.len() == 1 { "" } else { "s" },
            outcome.result,
            outcome.modifier
        )
    };
    COOKIES
        .result(status, summary)
        .with_measured(json!({
            "result": outcome.result,
            "modifier": outcome.modifier,
            "cookies": cookies.iter().map(|c| json!({
                "name": c.name,
                "secure": c.secure,
                "http_only": c.http_only,
                "same_site": c.same_site,
                "session": c.is_session(),
            })).collect::<Vec<_>>(),
        }))
        .with_evidence(cookies.iter().map(observatory::Cookie::describe).collect())
}

/// What plain HTTP does. For an http base URL the base response already says; for https on the
/// default port we ask `http://host/` once (a refused connection means no HTTP at all).
async fn http_visit(
    fetcher: &Fetcher,
    base: &Url,
    base_response: &FetchResponse,
) -> observatory::HttpVisit {
    if base.scheme() == "http" {
        return observatory::HttpVisit::Route {
            route: route_of(base, base_response),
            verified: base_response.tls.as_ref().is_none_or(|t| t.verified),
        };
    }
    if base.port().is_some() {
        return observatory::HttpVisit::NotTried("the base URL uses a non-default port".to_owned());
    }
    let mut http_url = base.clone();
    if http_url.set_scheme("http").is_err() {
        return observatory::HttpVisit::NotTried("no HTTP form of the base URL".to_owned());
    }
    http_url.set_path("/");
    http_url.set_query(None);
    match fetcher.fetch(FetchRequest::get(http_url.clone())).await {
        Ok(r) => observatory::HttpVisit::Route {
            route: route_of(&http_url, &r),
            verified: r.tls.as_ref().is_none_or(|t| t.verified),
        },
        Err(FetchError::Refused(why)) => observatory::HttpVisit::NotTried(why),
        Err(FetchError::Tls(_)) => observatory::HttpVisit::Route {
            route: vec![http_url],
            verified: false,
        },
        Err(_) => observatory::HttpVisit::NoHttp,
    }
}

/// The first URL and every redirect target, resolved against the hop before.
fn route_of(first: &Url, response: &FetchResponse) -> Vec<Url> {
    let mut route = vec![first.clone()];
    for (_, location) in &response.redirects {
        let Some(previous) = route.last() else {
            break;
        };
        match previous.join(location) {
            Ok(next) => route.push(next),
            Err(_) => break,
        }
    }
    route
}
