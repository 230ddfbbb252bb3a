//! API behaviour (reference §2.4): status codes and error bodies on requests that should fail,
//! pagination, caching, compression, rate-limit headers, versioning, trace headers and exposed
//! internals. Each check is a function over the responses it needs; the few that must ask
//! something more (a conditional request, `?limit=1`) send one request per endpoint at most.
use http::Method;
use serde_json::{json, Value};
use url::Url;

use super::super::fetch::{FetchError, FetchRequest, FetchResponse, Fetcher};
use super::super::model::{CheckArea, CheckResult, CheckSpec, CheckStatus};
use super::common::{
    body_text, clip, content_type, decoded_body, fetch_failure, header, header_all, header_lists,
    is_json_type, is_text_like, json_body, media_type, path_of, request_id_header,
    request_id_in_body, stack_trace_marker, with_query,
};
use super::latency::EndpointLatency;
use super::Endpoint;
use crate::findings::Severity;

pub const STATUS_CODES: CheckSpec = CheckSpec {
    id: "http.status-codes",
    area: CheckArea::Api,
    title: "Status codes on requests that should fail",
    severity: Severity::Medium,
    threshold: "unknown path → 404; wrong method → 405 with Allow; malformed JSON body → 400, \
                415 or 422, never 5xx; a 401 carries WWW-Authenticate. A 5xx, or a 2xx to a \
                request that should fail, fails; any other mismatch warns",
    source: "RFC 9110 §15; Zally 150 (standard status codes)",
};

pub const ERROR_BODIES: CheckSpec = CheckSpec {
    id: "http.error-bodies",
    area: CheckArea::Api,
    title: "Error bodies: Problem JSON with a request id",
    severity: Severity::Low,
    threshold: "every 4xx body is application/problem+json (or one consistent JSON error \
                object: warn) with a request id in the body or an X-Request-Id / Request-Id / \
                traceparent header (warn without); a non-JSON body or a stack trace fails",
    source: "RFC 9457; Zally 176 (Problem JSON); ZAP 10023 / 90022 (debug error disclosure)",
};

pub const PAGINATION: CheckSpec = CheckSpec {
    id: "http.pagination",
    area: CheckArea::Api,
    title: "Pagination on list endpoints",
    severity: Severity::Medium,
    threshold: "a list (top-level JSON array, or an object's main array) without a next \
                link/cursor that ignores ?limit=1 is unpaginated: fail above 100 items, warn \
                otherwise",
    source: "Zalando RESTful guidelines (MUST paginate); Spectral owasp:api4:2023-array-limit; \
             RFC 8288 Link rel=next",
};

pub const CACHE_HEADERS: CheckSpec = CheckSpec {
    id: "http.cache-headers",
    area: CheckArea::CachingQueues,
    title: "Cache headers and conditional requests",
    severity: Severity::Low,
    threshold: "every GET 200 has Cache-Control and a validator (ETag or Last-Modified), or an \
                explicit no-store; an ETag sent back in If-None-Match yields 304. None of them \
                anywhere fails; partial coverage warns (ours)",
    source: "ZAP 10015 (re-examine Cache-Control directives); RFC 9111 / RFC 9110 §13",
};

pub const COMPRESSION: CheckSpec = CheckSpec {
    id: "http.compression",
    area: CheckArea::CachingQueues,
    title: "Compression of text and JSON responses",
    severity: Severity::Low,
    threshold: "with Accept-Encoding: br, gzip, zstd, every text/JSON body of 1 KiB or more \
                comes back with Content-Encoding (fail otherwise) and Vary: Accept-Encoding \
                (warn otherwise)",
    source: "Lighthouse uses-text-compression",
};

pub const RATE_LIMIT_HEADERS: CheckSpec = CheckSpec {
    id: "http.rate-limit-headers",
    area: CheckArea::Api,
    title: "Rate-limit headers",
    severity: Severity::Medium,
    threshold: "RateLimit / RateLimit-Policy, RateLimit-Limit or X-RateLimit-Limit on the \
                endpoints (warn without: a limit may exist unannounced); any 429 seen carries \
                Retry-After (fail otherwise). We never try to trigger a 429",
    source: "Spectral owasp:api4:2023-rate-limit and -rate-limit-retry-after; Zally 153; \
             IETF draft-ietf-httpapi-ratelimit-headers",
};

pub const VERSIONING: CheckSpec = CheckSpec {
    id: "http.versioning",
    area: CheckArea::Api,
    title: "API versioning scheme",
    severity: Severity::Low,
    threshold: "one versioning scheme visible: a /v1-style path segment, a versioned media \
                type, an API-Version header or a versioned host (warn without); Deprecation \
                and Sunset headers are noted",
    source: "Zally 115 / 116 (no one style imposed); RFC 9745 Deprecation; RFC 8594 Sunset",
};

pub const TRACE_HEADERS: CheckSpec = CheckSpec {
    id: "http.trace-headers",
    area: CheckArea::Observability,
    title: "Request ids and trace headers",
    severity: Severity::Low,
    threshold: "every endpoint response carries a request id (X-Request-Id, Request-Id, \
                X-Correlation-Id, traceparent / traceresponse); warn otherwise. Server-Timing \
                and an echoed trace id are noted",
    source: "W3C Trace Context (traceparent, traceresponse); W3C Server Timing",
};

pub const EXPOSED_INTERNALS: CheckSpec = CheckSpec {
    id: "http.exposed-internals",
    area: CheckArea::Api,
    title: "Internal endpoints exposed",
    severity: Severity::High,
    threshold: "none of /metrics (Prometheus # HELP), /actuator, /actuator/env, /debug/pprof/, \
                /.env, /server-status answers 200 with its telltale content (ours)",
    source: "ours (reference §2.4 exposed internals); Spring Boot Actuator, Prometheus, Go pprof \
             and Apache mod_status defaults",
};

// ---------------------------------------------------------------------------------------------
// Status codes and error bodies

/// How one status probe went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Ok,
    /// A mismatch that is not dangerous: a 404 instead of a 405, a missing header.
    Minor(String),
    /// A 5xx, or a 2xx to a request that should have failed.
    Serious(String),
    /// The answer tells nothing about the rule (auth in front, method not routed).
    NotJudged(String),
}

#[derive(Debug, Clone)]
pub struct StatusProbe {
    pub name: &'static str,
    pub method: Method,
    pub url: Url,
    pub expected: &'static str,
    pub result: Result<FetchResponse, FetchError>,
    pub verdict: Verdict,
}

impl StatusProbe {
    fn label(&self) -> String {
        format!("{} {}", self.method, path_of(&self.url))
    }

    fn line(&self) -> String {
        let answer = match &self.result {
            Ok(r) => r.status.to_string(),
            Err(e) => format!("no answer ({e})"),
        };
        let verdict = match &self.verdict {
            Verdict::Ok => "as expected".to_owned(),
            Verdict::Minor(w) | Verdict::Serious(w) => format!("mismatch: {w}"),
            Verdict::NotJudged(w) => format!("not judged: {w}"),
        };
        format!(
            "{}: {answer} (expected {}) — {verdict}",
            self.label(),
            self.expected
        )
    }
}

/// A body no server can parse as JSON: it stops mid-object.
pub const MALFORMED_JSON: &str = "{\"plumbline-probe\": ";

/// What the status probes aim at.
pub struct StatusTargets {
    pub unknown: Url,
    /// The wrong-method probe: an endpoint whose GET worked, and a method it does not declare.
    pub wrong_method: Option<(Url, Method)>,
    /// The malformed-body probe: a POST path from the document, else the same endpoint.
    pub malformed: Option<Url>,
}

fn request(method: Method, url: &Url, body: Option<&str>) -> FetchRequest {
    let mut req = FetchRequest::get(url.clone());
    req.method = method;
    req.follow_redirects = false;
    req.headers
        .push(("accept".to_owned(), "application/json, */*".to_owned()));
    if let Some(body) = body {
        req.headers
            .push(("content-type".to_owned(), "application/json".to_owned()));
        req.body = Some(body.as_bytes().to_vec());
    }
    req
}

/// Sends the three probes (one request each). Bodies are malformed JSON, so even a handler that
/// does accept the method cannot write anything.
pub async fn status_probes(fetcher: &Fetcher, targets: &StatusTargets) -> Vec<StatusProbe> {
    let mut probes = Vec::new();
    let result = fetcher
        .fetch(request(Method::GET, &targets.unknown, None))
        .await;
    let verdict = judge_unknown(&result);
    probes.push(StatusProbe {
        name: "unknown-path",
        method: Method::GET,
        url: targets.unknown.clone(),
        expected: "404",
        result,
        verdict,
    });
    if let Some((url, method)) = &targets.wrong_method {
        let result = fetcher
            .fetch(request(method.clone(), url, Some(MALFORMED_JSON)))
            .await;
        let verdict = judge_wrong_method(&result);
        probes.push(StatusProbe {
            name: "wrong-method",
            method: method.clone(),
            url: url.clone(),
            expected: "405 with Allow",
            result,
            verdict,
        });
    }
    if let Some(url) = &targets.malformed {
        let result = fetcher
            .fetch(request(Method::POST, url, Some(MALFORMED_JSON)))
            .await;
        let verdict = judge_malformed(&result);
        probes.push(StatusProbe {
            name: "malformed-json",
            method: Method::POST,
            url: url.clone(),
            expected: "400, 415 or 422",
            result,
            verdict,
        });
    }
    probes
}

fn common_verdict(status: u16, what: &str) -> Option<Verdict> {
    if status >= 500 {
        return Some(Verdict::Serious(format!(
            "{status}: a server error on {what}"
        )));
    }
    if (200..300).contains(&status) {
        return Some(Verdict::Serious(format!("{status}: {what} was accepted")));
    }
    if status == 401 || status == 403 {
        return Some(Verdict::NotJudged(format!(
            "{status}: authentication is checked first"
        )));
    }
    None
}

pub fn judge_unknown(result: &Result<FetchResponse, FetchError>) -> Verdict {
    let Ok(r) = result else {
        return Verdict::NotJudged("no answer".to_owned());
    };
    match r.status {
        404 | 410 => Verdict::Ok,
        s => common_verdict(s, "an unknown path")
            .unwrap_or_else(|| Verdict::Minor(format!("{s} instead of 404"))),
    }
}

pub fn judge_wrong_method(result: &Result<FetchResponse, FetchError>) -> Verdict {
    let Ok(r) = result else {
        return Verdict::NotJudged("no answer".to_owned());
    };
    match r.status {
        405 if header(&r.headers, "allow").is_some() => Verdict::Ok,
        405 => Verdict::Minor("405 without an Allow header".to_owned()),
        // The method is routed and the body was refused: nothing wrong, nothing learnt.
        400 | 415 | 422 => Verdict::NotJudged(format!(
            "{}: the method is routed here (the malformed body was refused)",
            r.status
        )),
        s => common_verdict(s, "a method the endpoint does not offer")
            .unwrap_or_else(|| Verdict::Minor(format!("{s} instead of 405"))),
    }
}

pub fn judge_malformed(result: &Result<FetchResponse, FetchError>) -> Verdict {
    let Ok(r) = result else {
        return Verdict::NotJudged("no answer".to_owned());
    };
    match r.status {
        400 | 415 | 422 => Verdict::Ok,
        404 | 405 | 501 => Verdict::NotJudged(format!(
            "{}: POST is not offered here, so the body was never read",
            r.status
        )),
        s => common_verdict(s, "a malformed JSON body")
            .unwrap_or_else(|| Verdict::Minor(format!("{s} instead of 400/422"))),
    }
}

/// The endpoints that answered 401: each must say how to authenticate.
fn unauthorised(endpoints: &[Endpoint]) -> Vec<(&Endpoint, &FetchResponse)> {
    endpoints
        .iter()
        .filter_map(|e| match &e.baseline {
            Ok(r) if r.status == 401 => Some((e, r)),
            _ => None,
        })
        .collect()
}

pub fn status_codes(probes: &[StatusProbe], endpoints: &[Endpoint]) -> CheckResult {
    let mut evidence: Vec<String> = probes.iter().map(StatusProbe::line).collect();
    let mut serious = Vec::new();
    let mut minor = Vec::new();
    let mut judged = 0;
    for probe in probes {
        match &probe.verdict {
            Verdict::Ok => judged += 1,
            Verdict::Minor(w) => {
                judged += 1;
                minor.push(format!("{}: {w}", probe.label()));
            }
            Verdict::Serious(w) => {
                judged += 1;
                serious.push(format!("{}: {w}", probe.label()));
            }
            Verdict::NotJudged(_) => {}
        }
    }
    let unauth = unauthorised(endpoints);
    for (endpoint, response) in &unauth {
        judged += 1;
        match header(&response.headers, "www-authenticate") {
            Some(challenge) => evidence.push(format!(
                "GET {}: 401 with WWW-Authenticate: {}",
                endpoint.label,
                clip(challenge, 80)
            )),
            None => {
                let line = format!("GET {}: 401 without WWW-Authenticate", endpoint.label);
                evidence.push(line.clone());
                minor.push(line);
            }
        }
    }
    if unauth.is_empty() {
        evidence.push(
            "no endpoint answered 401 without credentials, so WWW-Authenticate was not probed"
                .to_owned(),
        );
    }
    let measured = json!({
        "probes": probes.iter().map(|p| json!({
            "probe": p.name,
            "method": p.method.as_str(),
            "url": p.url.as_str(),
            "status": p.result.as_ref().ok().map(|r| r.status),
            "expected": p.expected,
            "verdict": match &p.verdict {
                Verdict::Ok => "ok",
                Verdict::Minor(_) => "mismatch",
                Verdict::Serious(_) => "serious-mismatch",
                Verdict::NotJudged(_) => "not-judged",
            },
        })).collect::<Vec<_>>(),
        "unauthorised_endpoints": unauth.len(),
    });
    if judged == 0 {
        return CheckResult::could_not_run(
            &STATUS_CODES,
            "no probe got an answer that could be judged",
        )
        .with_measured(measured)
        .with_evidence(evidence);
    }
    let (status, summary) = if !serious.is_empty() {
        let mut all = serious.clone();
        all.extend(minor.iter().cloned());
        (CheckStatus::Fail, all.join("; "))
    } else if !minor.is_empty() {
        (CheckStatus::Warn, minor.join("; "))
    } else {
        (
            CheckStatus::Pass,
            format!(
                "{judged} probe{} answered as RFC 9110 expects",
                plural(judged)
            ),
        )
    };
    STATUS_CODES
        .result(status, summary)
        .with_measured(measured)
        .with_evidence(evidence)
}

/// How a 4xx body looks.
#[derive(Debug, Clone, PartialEq, Eq)]
enum BodyKind {
    Problem,
    JsonObject(Vec<String>),
    NotJson(String),
}

pub fn error_bodies(probes: &[StatusProbe], endpoints: &[Endpoint]) -> CheckResult {
    let mut seen: Vec<(String, &FetchResponse)> = probes
        .iter()
        .filter_map(|p| p.result.as_ref().ok().map(|r| (p.label(), r)))
        .collect();
    seen.extend(endpoints.iter().filter_map(|e| {
        e.baseline
            .as_ref()
            .ok()
            .map(|r| (format!("GET {}", e.label), r))
    }));

    let mut evidence = Vec::new();
    let mut traces = Vec::new();
    let mut evidence_traces = Vec::new();
    let mut not_json = Vec::new();
    let mut no_id = Vec::new();
    let mut kinds = Vec::new();
    for (label, response) in &seen {
        let text = body_text(response);
        // Stack traces are looked for in every error body, 5xx included.
        if response.status >= 400 {
            if let Some(marker) = stack_trace_marker(&text) {
                traces.push(format!("{label} ({})", response.status));
                evidence_traces.push(format!(
                    "{label} → {}: contains \"{marker}\"",
                    response.status
                ));
            }
        }
        if !(400..500).contains(&response.status) {
            continue;
        }
        let media = media_type(response);
        let body = json_body(response);
        let kind = match &body {
            Some(Value::Object(map)) => {
                let problem_members = map.contains_key("title")
                    || map.contains_key("type")
                    || map.contains_key("detail");
                if media == "application/problem+json" && problem_members {
                    BodyKind::Problem
                } else {
                    let mut keys: Vec<String> = map.keys().cloned().collect();
                    keys.sort();
                    BodyKind::JsonObject(keys)
                }
            }
            _ if text.trim().is_empty() => BodyKind::NotJson("empty body".to_owned()),
            _ => BodyKind::NotJson(if media.is_empty() {
                "no content type".to_owned()
            } else {
                media.clone()
            }),
        };
        let id = request_id_header(&response.headers)
            .map(|(name, value)| format!("{name}: {}", clip(&value, 60)))
            .or_else(|| {
                body.as_ref()
                    .and_then(request_id_in_body)
                    .map(|v| format!("id in body: {}", clip(&v, 60)))
            });
        let shape = match &kind {
            BodyKind::Problem => "application/problem+json".to_owned(),
            BodyKind::JsonObject(keys) => format!("JSON object {{{}}}", keys.join(", ")),
            BodyKind::NotJson(what) => format!("not JSON ({what})"),
        };
        evidence.push(format!(
            "{label} → {}: {shape}; {}",
            response.status,
            id.clone().unwrap_or_else(|| "no request id".to_owned())
        ));
        if let BodyKind::NotJson(_) = kind {
            not_json.push(format!("{label} ({})", response.status));
        }
        if id.is_none() {
            no_id.push(format!("{label} ({})", response.status));
        }
        kinds.push(kind);
    }
    evidence.extend(evidence_traces);
    let measured = json!({
        "error_responses": kinds.len(),
        "problem_json": kinds.iter().filter(|k| **k == BodyKind::Problem).count(),
        "not_json": not_json.len(),
        "without_request_id": no_id.len(),
        "stack_traces": traces.len(),
    });
    if kinds.is_empty() && traces.is_empty() {
        return CheckResult::could_not_run(&ERROR_BODIES, "no 4xx response was provoked")
            .with_measured(measured)
            .with_evidence(evidence);
    }

    let json_objects: Vec<&Vec<String>> = kinds
        .iter()
        .filter_map(|k| match k {
            BodyKind::JsonObject(keys) => Some(keys),
            _ => None,
        })
        .collect();
    // Consistent: every non-problem JSON error object shares at least one member name.
    let consistent = match json_objects.split_first() {
        None => true,
        Some((first, rest)) => first
            .iter()
            .any(|key| rest.iter().all(|keys| keys.contains(key))),
    };

    let mut fails = Vec::new();
    if !traces.is_empty() {
        fails.push(format!("stack trace in {}", traces.join(", ")));
    }
    if !not_json.is_empty() {
        fails.push(format!("not JSON: {}", not_json.join(", ")));
    }
    let mut warns = Vec::new();
    if !json_objects.is_empty() {
        if consistent {
            warns.push(format!(
                "{} JSON error bod{} not application/problem+json",
                json_objects.len(),
                if json_objects.len() == 1 { "y" } else { "ies" }
            ));
        } else {
            warns.push("JSON error objects of different shapes".to_owned());
        }
    }
    if !no_id.is_empty() {
        warns.push(format!("no request id: {}", no_id.join(", ")));
    }
    let (status, summary) = if !fails.is_empty() {
        fails.extend(warns);
        (CheckStatus::Fail, fails.join("; "))
    } else if !warns.is_empty() {
        (CheckStatus::Warn, warns.join("; "))
    } else {
        (
            CheckStatus::Pass,
            format!(
                "{} error response{}: Problem JSON with a request id",
                kinds.len(),
                plural(kinds.len())
            ),
        )
    };
    ERROR_BODIES
        .result(status, summary)
        .with_measured(measured)
        .with_evidence(evidence)
}

// ---------------------------------------------------------------------------------------------
// Pagination

/// Member names (folded: lowercase, without `_ - . @`) that show a next page or page metadata.
const NEXT_KEYS: [&str; 17] = [
    "next",
    "nextcursor",
    "nextpage",
    "nextpagetoken",
    "nextlink",
    "nexturl",
    "nextoffset",
    "cursor",
    "endcursor",
    "hasmore",
    "hasnextpage",
    "continuationtoken",
    "odatanextlink",
    "totalpages",
    "pagination",
    "paging",
    "pageinfo",
];
const PAGE_CONTAINERS: [&str; 6] = [
    "links",
    "_links",
    "meta",
    "pagination",
    "paging",
    "pageinfo",
];

fn fold(key: &str) -> String {
    key.chars()
        .filter(|c| !matches!(c, '_' | '-' | '.' | '@'))
        .collect::<String>()
        .to_ascii_lowercase()
}

/// A list in a body: where it is, how many items, whether the body points to a next page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListShape {
    pub at: String,
    pub items: usize,
    pub next_in_body: Option<String>,
}

pub fn list_shape(body: &Value) -> Option<ListShape> {
    match body {
        Value::Array(items) => Some(ListShape {
            at: "top-level array".to_owned(),
            items: items.len(),
            next_in_body: None,
        }),
        Value::Object(map) => {
            let (key, items) = map
                .iter()
                .filter_map(|(k, v)| v.as_array().map(|a| (k, a.len())))
                .max_by_key(|(_, len)| *len)?;
            let mut next = None;
            for (k, v) in map {
                let folded = fold(k);
                if NEXT_KEYS.contains(&folded.as_str()) && !v.is_null() {
                    next = Some(k.clone());
                    break;
                }
                if PAGE_CONTAINERS.contains(&folded.as_str()) {
                    if let Value::Object(inner) = v {
                        if let Some((ik, _)) = inner.iter().find(|(ik, iv)| {
                            NEXT_KEYS.contains(&fold(ik).as_str()) && !iv.is_null()
                        }) {
                            next = Some(format!("{k}.{ik}"));
                            break;
                        }
                    }
                }
            }
            Some(ListShape {
                at: format!("\"{key}\""),
                items,
                next_in_body: next,
            })
        }
        _ => None,
    }
}

/// `Link: <…>; rel="next"` (RFC 8288).
fn link_next(response: &FetchResponse) -> bool {
    header_all(&response.headers, "link").iter().any(|value| {
        value.split(',').any(|link| {
            link.split(';').skip(1).any(|param| {
                let param = param.trim().to_ascii_lowercase();
                param
                    .strip_prefix("rel=")
                    .map(|r| r.trim_matches('"').split_whitespace().any(|t| t == "next"))
                    .unwrap_or(false)
            })
        })
    })
}

pub async fn pagination(fetcher: &Fetcher, endpoints: &[Endpoint]) -> CheckResult {
    let mut evidence = Vec::new();
    let mut lists = Vec::new();
    let mut unpaginated: Vec<(String, usize)> = Vec::new();
    let mut json_seen = 0;
    for endpoint in endpoints {
        let Ok(response) = &endpoint.baseline else {
            continue;
        };
        if response.status != 200 {
            continue;
        }
        // A body over the size cap that starts as an array is an unbounded list in itself.
        if response.body_truncated {
            let starts_array = decoded_body(response)
                .and_then(|b| b.iter().copied().find(|c| !c.is_ascii_whitespace()))
                == Some(b'[');
            if starts_array {
                json_seen += 1;
                evidence.push(format!(
                    "{}: a JSON array larger than {} bytes (cut off)",
                    endpoint.label,
                    response.body.len()
                ));
                unpaginated.push((endpoint.label.clone(), usize::MAX));
                lists.push(json!({"endpoint": endpoint.label, "items": null, "paginated": false, "how": "body over the size cap"}));
            }
            continue;
        }
        let Some(body) = json_body(response) else {
            continue;
        };
        json_seen += 1;
        let Some(shape) = list_shape(&body) else {
            continue;
        };
        let (paginated, how) = if link_next(response) {
            (Some(true), "Link rel=\"next\" header".to_owned())
        } else if let Some(key) = &shape.next_in_body {
            (Some(true), format!("next page member \"{key}\""))
        } else if shape.items <= 1 {
            (None, "too few items to tell".to_owned())
        } else {
            let limited = with_query(&endpoint.url, "limit", "1");
            let request =
                FetchRequest::get(limited.clone()).header("accept", "application/json, */*");
            match fetcher.fetch(request).await {
                Ok(r) if r.status == 200 => {
                    let smaller = json_body(&r)
                        .as_ref()
                        .and_then(list_shape)
                        .map(|s| s.items < shape.items);
                    match smaller {
                        Some(true) => (Some(true), "honours ?limit=1".to_owned()),
                        Some(false) => (Some(false), "ignores ?limit=1".to_owned()),
                        None => (None, "?limit=1 returned no list".to_owned()),
                    }
                }
                Ok(r) => (None, format!("?limit=1 answered {}", r.status)),
                Err(e) => (None, format!("?limit=1 got no answer ({e})")),
            }
        };
        evidence.push(format!(
            "{}: list at {} with {} item{}; {how}",
            endpoint.label,
            shape.at,
            shape.items,
            plural(shape.items)
        ));
        if paginated == Some(false) {
            unpaginated.push((endpoint.label.clone(), shape.items));
        }
        lists.push(json!({
            "endpoint": endpoint.label,
            "at": shape.at,
            "items": shape.items,
            "paginated": paginated,
            "how": how,
        }));
    }
    let measured = json!({
        "lists": lists,
        "unpaginated": unpaginated.iter().map(|(e, n)| json!({"endpoint": e, "items": if *n == usize::MAX { Value::Null } else { json!(n) }})).collect::<Vec<_>>(),
    });
    if json_seen == 0 {
        return CheckResult::could_not_run(&PAGINATION, "no endpoint answered 200 with JSON")
            .with_measured(measured)
            .with_evidence(evidence);
    }
    let describe = |(e, n): &(String, usize)| {
        if *n == usize::MAX {
            format!("{e} (over the size cap)")
        } else {
            format!("{e} ({n} items)")
        }
    };
    let (status, summary) = if unpaginated.iter().any(|(_, n)| *n > 100) {
        (
            CheckStatus::Fail,
            format!(
                "Unpaginated list{}: {}",
                plural(unpaginated.len()),
                unpaginated
                    .iter()
                    .map(describe)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )
    } else if !unpaginated.is_empty() {
        (
            CheckStatus::Warn,
            format!(
                "Unpaginated list{} (small for now): {}",
                plural(unpaginated.len()),
                unpaginated
                    .iter()
                    .map(describe)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )
    } else if lists.is_empty() {
        (
            CheckStatus::Pass,
            "No endpoint returned a JSON list".to_owned(),
        )
    } else {
        (
            CheckStatus::Pass,
            format!(
                "{} list endpoint{}, none unpaginated",
                lists.len(),
                plural(lists.len())
            ),
        )
    };
    PAGINATION
        .result(status, summary)
        .with_measured(measured)
        .with_evidence(evidence)
}

// ---------------------------------------------------------------------------------------------
// Cache headers

pub async fn cache_headers(fetcher: &Fetcher, endpoints: &[Endpoint]) -> CheckResult {
    let mut evidence = Vec::new();
    let mut rows = Vec::new();
    let (mut good, mut partial, mut none, mut etag_ignored) = (0, 0, 0, 0);
    let mut cdn = Vec::new();
    for endpoint in endpoints {
        let Ok(response) = &endpoint.baseline else {
            continue;
        };
        if response.status != 200 {
            continue;
        }
        let headers = &response.headers;
        let cache_control = header(headers, "cache-control").map(str::to_owned);
        let etag = header(headers, "etag").map(str::to_owned);
        let last_modified = header(headers, "last-modified").map(str::to_owned);
        for name in ["age", "x-cache", "cf-cache-status", "x-served-by", "via"] {
            if let Some(v) = header(headers, name) {
                cdn.push(format!("{}: {name}: {}", endpoint.label, clip(v, 60)));
            }
        }
        let no_store = cache_control
            .as_deref()
            .is_some_and(|cc| cc.to_ascii_lowercase().contains("no-store"));
        let validator = etag.is_some() || last_modified.is_some();
        let revalidation = match &etag {
            Some(tag) => {
                let request = FetchRequest::get(endpoint.url.clone())
                    .header("accept", "application/json, */*")
                    .header("if-none-match", tag);
                match fetcher.fetch(request).await {
                    Ok(r) => Some(r.status),
                    Err(_) => None,
                }
            }
            None => None,
        };
        let honoured = match (&etag, revalidation) {
            (Some(_), Some(304)) => Some(true),
            (Some(_), Some(_)) => Some(false),
            _ => None,
        };
        let grade = if cache_control.is_some() && (no_store || validator) && honoured != Some(false)
        {
            good += 1;
            "complete"
        } else if cache_control.is_none() && !validator {
            none += 1;
            "none"
        } else {
            partial += 1;
            "partial"
        };
        if honoured == Some(false) {
            etag_ignored += 1;
        }
        evidence.push(format!(
            "{}: Cache-Control {}; ETag {}; Last-Modified {}{}",
            endpoint.label,
            cache_control
                .as_deref()
                .map(|v| clip(v, 60))
                .unwrap_or_else(|| "missing".to_owned()),
            etag.as_deref()
                .map(|v| clip(v, 40))
                .unwrap_or_else(|| "missing".to_owned()),
            if last_modified.is_some() {
                "present"
            } else {
                "missing"
            },
            match (honoured, revalidation) {
                (Some(true), _) => "; If-None-Match → 304".to_owned(),
                (Some(false), Some(s)) => format!("; If-None-Match → {s} (expected 304)"),
                _ => String::new(),
            }
        ));
        rows.push(json!({
            "endpoint": endpoint.label,
            "cache_control": cache_control,
            "etag": etag,
            "last_modified": last_modified,
            "if_none_match_status": revalidation,
            "grade": grade,
        }));
    }
    evidence.extend(cdn.iter().cloned());
    let measured = json!({ "endpoints": rows, "cdn_headers": cdn });
    let total = good + partial + none;
    if total == 0 {
        return CheckResult::could_not_run(&CACHE_HEADERS, "no endpoint answered GET with 200")
            .with_measured(measured)
            .with_evidence(evidence);
    }
    let (status, summary) = if none == total {
        (
            CheckStatus::Fail,
            format!("No Cache-Control, ETag or Last-Modified on any of {total} GET 200 responses"),
        )
    } else if partial > 0 || none > 0 {
        let mut parts = vec![format!(
            "{good} of {total} GET 200 responses fully cacheable"
        )];
        if etag_ignored > 0 {
            parts.push(format!("{etag_ignored} ignore If-None-Match"));
        }
        (CheckStatus::Warn, parts.join("; "))
    } else {
        (
            CheckStatus::Pass,
            format!(
                "{total} GET 200 response{} with Cache-Control and validators",
                plural(total)
            ),
        )
    };
    CACHE_HEADERS
        .result(status, summary)
        .with_measured(measured)
        .with_evidence(evidence)
}

// ---------------------------------------------------------------------------------------------
// Compression

pub const COMPRESSION_MIN_BYTES: usize = 1024;
const ACCEPT_ENCODING: &str = "br, gzip, zstd";

pub async fn compression(fetcher: &Fetcher, endpoints: &[Endpoint]) -> CheckResult {
    let mut evidence = Vec::new();
    let mut rows = Vec::new();
    let (mut answered, mut candidates) = (0, 0);
    let mut uncompressed = Vec::new();
    let mut no_vary = Vec::new();
    for endpoint in endpoints {
        let Ok(response) = &endpoint.baseline else {
            continue;
        };
        if response.status != 200 {
            continue;
        }
        answered += 1;
        let media = media_type(response);
        let size = decoded_body(response)
            .map(|b| b.len())
            .unwrap_or(response.body.len());
        if !is_text_like(&media) || size < COMPRESSION_MIN_BYTES {
            continue;
        }
        candidates += 1;
        let request = FetchRequest::get(endpoint.url.clone())
            .header("accept", "application/json, */*")
            .header("accept-encoding", ACCEPT_ENCODING);
        let r = match fetcher.fetch(request).await {
            Ok(r) => r,
            Err(e) => {
                evidence.push(fetch_failure(&endpoint.label, &e));
                continue;
            }
        };
        let encoding = header(&r.headers, "content-encoding")
            .map(|e| e.to_ascii_lowercase())
            .filter(|e| e != "identity");
        let vary = header_lists(&r.headers, "vary", "accept-encoding");
        match &encoding {
            None => uncompressed.push(format!("{} ({size} bytes)", endpoint.label)),
            Some(_) if !vary => no_vary.push(endpoint.label.clone()),
            Some(_) => {}
        }
        evidence.push(format!(
            "{}: {media}, {size} bytes → Content-Encoding {}{} ({} bytes sent)",
            endpoint.label,
            encoding.as_deref().unwrap_or("none"),
            if vary {
                ", Vary: Accept-Encoding"
            } else {
                ", no Vary: Accept-Encoding"
            },
            r.body.len()
        ));
        rows.push(json!({
            "endpoint": endpoint.label,
            "media_type": media,
            "bytes": size,
            "content_encoding": encoding,
            "bytes_sent": r.body.len(),
            "vary_accept_encoding": vary,
        }));
    }
    let measured = json!({ "endpoints": rows, "accept_encoding_sent": ACCEPT_ENCODING });
    if answered == 0 {
        return CheckResult::could_not_run(&COMPRESSION, "no endpoint answered GET with 200")
            .with_measured(measured)
            .with_evidence(evidence);
    }
    let (status, summary) = if !uncompressed.is_empty() {
        (
            CheckStatus::Fail,
            format!("Uncompressed: {}", uncompressed.join(", ")),
        )
    } else if !no_vary.is_empty() {
        (
            CheckStatus::Warn,
            format!(
                "Compressed without Vary: Accept-Encoding: {}",
                no_vary.join(", ")
            ),
        )
    } else if candidates == 0 {
        (
            CheckStatus::Pass,
            "No text or JSON body of 1 KiB or more to compress".to_owned(),
        )
    } else {
        (
            CheckStatus::Pass,
            format!(
                "{candidates} text/JSON body{} of 1 KiB or more compressed",
                if candidates == 1 { "" } else { "ies" }
            ),
        )
    };
    COMPRESSION
        .result(status, summary)
        .with_measured(measured)
        .with_evidence(evidence)
}

// ---------------------------------------------------------------------------------------------
// Rate-limit headers

const RATE_LIMIT_HEADER_NAMES: [&str; 7] = [
    "ratelimit",
    "ratelimit-policy",
    "ratelimit-limit",
    "ratelimit-remaining",
    "x-ratelimit-limit",
    "x-ratelimit-remaining",
    "x-rate-limit-limit",
];

pub fn rate_limit(
    endpoints: &[Endpoint],
    other: &[&FetchResponse],
    latency: &[(String, EndpointLatency)],
) -> CheckResult {
    let mut evidence = Vec::new();
    let mut answered = 0;
    let mut with_headers = 0;
    let mut names_seen: Vec<&str> = Vec::new();
    let mut bad_429 = Vec::new();
    let mut seen_429 = 0;
    for endpoint in endpoints {
        let Ok(response) = &endpoint.baseline else {
            continue;
        };
        answered += 1;
        let present: Vec<&str> = RATE_LIMIT_HEADER_NAMES
            .iter()
            .copied()
            .filter(|n| response.headers.contains_key(*n))
            .collect();
        if !present.is_empty() {
            with_headers += 1;
            evidence.push(format!(
                "{}: {}",
                endpoint.label,
                present
                    .iter()
                    .map(|n| format!(
                        "{n}: {}",
                        clip(header(&response.headers, n).unwrap_or_default(), 60)
                    ))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
            for n in present {
                if !names_seen.contains(&n) {
                    names_seen.push(n);
                }
            }
        }
        if response.status == 429 {
            seen_429 += 1;
            if !response.headers.contains_key("retry-after") {
                bad_429.push(format!("GET {}", endpoint.label));
            }
        }
    }
    for response in other {
        if response.status == 429 {
            seen_429 += 1;
            if !response.headers.contains_key("retry-after") {
                bad_429.push(path_of(&response.url));
            }
        }
    }
    for (label, m) in latency {
        if m.saw_429 {
            seen_429 += 1;
            evidence.push(format!(
                "{label}: 429 during the latency measurement (stopped there)"
            ));
        }
        if m.saw_429_without_retry_after {
            bad_429.push(format!("{label} (latency measurement)"));
        }
    }
    let measured = json!({
        "endpoints": answered,
        "with_rate_limit_headers": with_headers,
        "headers_seen": names_seen,
        "responses_429": seen_429,
        "responses_429_without_retry_after": bad_429.len(),
    });
    if answered == 0 && bad_429.is_empty() {
        return CheckResult::could_not_run(&RATE_LIMIT_HEADERS, "no endpoint answered")
            .with_measured(measured)
            .with_evidence(evidence);
    }
    let (status, summary) = if !bad_429.is_empty() {
        (
            CheckStatus::Fail,
            format!("429 without Retry-After: {}", bad_429.join(", ")),
        )
    } else if with_headers == 0 {
        (
            CheckStatus::Warn,
            format!(
                "No rate-limit headers on any of {answered} endpoint{}",
                plural(answered)
            ),
        )
    } else {
        (
            CheckStatus::Pass,
            format!(
                "Rate-limit headers ({}) on {with_headers} of {answered} endpoint{}",
                names_seen.join(", "),
                plural(answered)
            ),
        )
    };
    RATE_LIMIT_HEADERS
        .result(status, summary)
        .with_measured(measured)
        .with_evidence(evidence)
}

// ---------------------------------------------------------------------------------------------
// Versioning

/// `v1`, `v2`, `v1.1`, `v2beta1`.
pub fn is_version_segment(segment: &str) -> bool {
    let lower = segment.to_ascii_lowercase();
    let Some(rest) = lower.strip_prefix('v') else {
        return false;
    };
    let digits = rest.chars().take_while(char::is_ascii_digit).count();
    if digits == 0 {
        return false;
    }
    let tail = &rest[digits..];
    tail.is_empty()
        || tail
            .strip_prefix('.')
            .is_some_and(|t| !t.is_empty() && t.chars().all(|c| c.is_ascii_digit() || c == '.'))
        || ["alpha", "beta"].iter().any(|p| {
            tail.strip_prefix(p)
                .is_some_and(|t| t.chars().all(|c| c.is_ascii_digit()))
        })
}

fn versioned_media(content_type: &str) -> bool {
    let lower = content_type.to_ascii_lowercase();
    lower.contains("version=")
        || lower.contains(";v=")
        || lower.contains("; v=")
        || (lower.contains("vnd.")
            && lower
                .split(['.', '+', ';', '-'])
                .any(|part| is_version_segment(part.trim())))
}

fn version_header(name: &str) -> bool {
    name.ends_with("api-version") || name == "x-version" || name == "version"
}

pub fn versioning(base: &Url, endpoints: &[Endpoint], doc: Option<&Value>) -> CheckResult {
    let mut schemes: Vec<String> = Vec::new();
    let mut evidence = Vec::new();
    let mut add = |scheme: &str, line: String, evidence: &mut Vec<String>| {
        if !schemes.iter().any(|s| s == scheme) {
            schemes.push(scheme.to_owned());
        }
        if evidence.len() < 20 {
            evidence.push(line);
        }
    };
    if let Some(host) = base.host_str() {
        if let Some(first) = host.split('.').next() {
            if is_version_segment(first.trim_start_matches("api-")) && host.contains('.') {
                add("host", format!("versioned host {host}"), &mut evidence);
            }
        }
    }
    let mut unversioned_paths = Vec::new();
    let mut deprecation = Vec::new();
    for endpoint in endpoints {
        let in_path = endpoint
            .url
            .path_segments()
            .map(|mut s| s.any(is_version_segment))
            .unwrap_or(false);
        if in_path {
            add(
                "path",
                format!("{}: version in the path", endpoint.label),
                &mut evidence,
            );
        } else {
            unversioned_paths.push(endpoint.label.clone());
        }
        let Ok(response) = &endpoint.baseline else {
            continue;
        };
        let ct = content_type(response);
        if versioned_media(&ct) {
            add(
                "media-type",
                format!("{}: Content-Type {}", endpoint.label, clip(&ct, 80)),
                &mut evidence,
            );
        }
        for (name, value) in response.headers.iter() {
            if version_header(name.as_str()) {
                add(
                    "header",
                    format!(
                        "{}: {}: {}",
                        endpoint.label,
                        name,
                        clip(value.to_str().unwrap_or_default(), 40)
                    ),
                    &mut evidence,
                );
            }
        }
        for name in ["deprecation", "sunset"] {
            if let Some(v) = header(&response.headers, name) {
                deprecation.push(format!("{}: {name}: {}", endpoint.label, clip(v, 60)));
            }
        }
    }
    evidence.extend(deprecation.iter().cloned());
    let info_version = doc
        .and_then(|d| d.pointer("/info/version"))
        .and_then(Value::as_str)
        .map(str::to_owned);
    if let Some(v) = &info_version {
        evidence.push(format!("OpenAPI info.version {v}"));
    }
    if schemes.iter().any(|s| s == "path") && !unversioned_paths.is_empty() {
        evidence.push(format!(
            "without a version in the path: {}",
            unversioned_paths.join(", ")
        ));
    }
    let measured = json!({
        "schemes": schemes,
        "deprecation_headers": deprecation,
        "openapi_info_version": info_version,
    });
    if endpoints.is_empty() {
        return CheckResult::could_not_run(&VERSIONING, "no endpoints to look at")
            .with_measured(measured)
            .with_evidence(evidence);
    }
    let (status, summary) = if schemes.is_empty() {
        (
            CheckStatus::Warn,
            "No versioning scheme visible (path, media type, header or host)".to_owned(),
        )
    } else {
        (
            CheckStatus::Pass,
            format!("Versioned by {}", schemes.join(" and ")),
        )
    };
    VERSIONING
        .result(status, summary)
        .with_measured(measured)
        .with_evidence(evidence)
}

// ---------------------------------------------------------------------------------------------
// Trace headers

/// `trace_id`: the 32-hex trace id of the `traceparent` we sent on the endpoint requests.
pub fn trace_headers(endpoints: &[Endpoint], trace_id: &str) -> CheckResult {
    let mut evidence = Vec::new();
    let (mut answered, mut with_id, mut server_timing, mut echoed) = (0, 0, 0, 0);
    let mut missing = Vec::new();
    for endpoint in endpoints {
        let Ok(response) = &endpoint.baseline else {
            continue;
        };
        answered += 1;
        let id = request_id_header(&response.headers);
        let timing = header(&response.headers, "server-timing");
        let echo = ["traceparent", "traceresponse"]
            .iter()
            .any(|n| header(&response.headers, n).is_some_and(|v| v.contains(trace_id)));
        if id.is_some() {
            with_id += 1;
        } else {
            missing.push(endpoint.label.clone());
        }
        if timing.is_some() {
            server_timing += 1;
        }
        if echo {
            echoed += 1;
        }
        let mut parts = vec![match &id {
            Some((name, value)) => format!("{name}: {}", clip(value, 60)),
            None => "no request id".to_owned(),
        }];
        if let Some(t) = timing {
            parts.push(format!("Server-Timing: {}", clip(t, 60)));
        }
        if echo {
            parts.push("our trace id echoed".to_owned());
        }
        evidence.push(format!("{}: {}", endpoint.label, parts.join("; ")));
    }
    let measured = json!({
        "endpoints": answered,
        "with_request_id": with_id,
        "with_server_timing": server_timing,
        "trace_id_echoed": echoed,
    });
    if answered == 0 {
        return CheckResult::could_not_run(&TRACE_HEADERS, "no endpoint answered")
            .with_measured(measured)
            .with_evidence(evidence);
    }
    let (status, summary) = if missing.is_empty() {
        (
            CheckStatus::Pass,
            format!(
                "Request id on all {answered} endpoint{}{}",
                plural(answered),
                if server_timing > 0 {
                    "; Server-Timing present"
                } else {
                    ""
                }
            ),
        )
    } else {
        (
            CheckStatus::Warn,
            format!(
                "No request id on {} of {answered}: {}",
                missing.len(),
                missing.join(", ")
            ),
        )
    };
    TRACE_HEADERS
        .result(status, summary)
        .with_measured(measured)
        .with_evidence(evidence)
}

// ---------------------------------------------------------------------------------------------
// Exposed internals

/// (path, what it is, how to recognise its content).
const INTERNALS: [(&str, &str); 6] = [
    ("/metrics", "Prometheus metrics"),
    ("/actuator", "Spring Boot Actuator index"),
    ("/actuator/env", "Spring Boot Actuator environment"),
    ("/debug/pprof/", "Go pprof profiles"),
    ("/.env", "dotenv file"),
    ("/server-status", "Apache mod_status"),
];

/// Whether a 200 body is really the internal page (not a catch-all page or a login form).
pub fn telltale(path: &str, response: &FetchResponse) -> bool {
    let text = body_text(response);
    let html = media_type(response) == "text/html";
    match path {
        "/metrics" => text
            .lines()
            .any(|l| l.starts_with("# HELP ") || l.starts_with("# TYPE ")),
        "/actuator" => json_body(response).is_some_and(|b| b.get("_links").is_some()),
        "/actuator/env" => text.contains("propertySources") || text.contains("activeProfiles"),
        "/debug/pprof/" => {
            text.contains("Types of profiles available") || text.contains("/debug/pprof/goroutine")
        }
        "/.env" => {
            !html
                && !is_json_type(&media_type(response))
                && text.lines().filter(|l| is_env_line(l)).count() >= 1
                && !text.trim_start().starts_with('<')
        }
        "/server-status" => {
            text.contains("Apache Server Status") || text.contains("Total Accesses:")
        }
        _ => false,
    }
}

fn is_env_line(line: &str) -> bool {
    let line = line.trim().trim_start_matches("export ");
    let Some((key, _)) = line.split_once('=') else {
        return false;
    };
    !key.is_empty()
        && key.chars().next().is_some_and(|c| c.is_ascii_uppercase())
        && key
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
}

pub async fn exposed_internals(fetcher: &Fetcher, base: &Url) -> CheckResult {
    let mut evidence = Vec::new();
    let mut exposed = Vec::new();
    let mut answered = 0;
    let mut rows = Vec::new();
    for (path, what) in INTERNALS {
        let Ok(url) = base.join(path) else {
            continue;
        };
        let mut request = FetchRequest::get(url.clone());
        // A redirect (to a login page) is not exposure; only the page itself counts.
        request.follow_redirects = false;
        match fetcher.fetch(request).await {
            Ok(r) => {
                answered += 1;
                let found = r.status == 200 && telltale(path, &r);
                if found {
                    exposed.push(format!("{path} ({what})"));
                    evidence.push(format!(
                        "{path}: 200, {what}: \"{}\"",
                        clip(body_text(&r).lines().next().unwrap_or_default(), 80)
                    ));
                } else {
                    evidence.push(format!("{path}: {}", r.status));
                }
                rows.push(json!({"path": path, "status": r.status, "exposed": found}));
            }
            Err(e) => {
                evidence.push(fetch_failure(path, &e));
                rows.push(json!({"path": path, "status": null, "exposed": false}));
            }
        }
    }
    let measured = json!({ "paths": rows });
    if answered == 0 {
        return CheckResult::could_not_run(&EXPOSED_INTERNALS, "none of the paths answered")
            .with_measured(measured)
            .with_evidence(evidence);
    }
    let (status, summary) = if exposed.is_empty() {
        (
            CheckStatus::Pass,
            format!("None of the {} internal paths is exposed", INTERNALS.len()),
        )
    } else {
        (
            CheckStatus::Fail,
            format!("Exposed to anyone: {}", exposed.join(", ")),
        )
    };
    EXPOSED_INTERNALS
        .result(status, summary)
        .with_measured(measured)
        .with_evidence(evidence)
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}
