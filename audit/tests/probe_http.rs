//! The HTTP/API probe against two fixture servers on loopback: a "good" API that does
//! everything the checks look for, and a "bad" one with planted defects. Every check's status is
//! asserted on both, so each defect is found and nothing is flagged that the fixture lacks.
//! Plus unit tests of the Observatory scoring and of the latency scheduler's correction.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use audit::probes::fetch::{FetchLimits, FetchRequest, FetchResponse, Fetcher, Timing, TlsInfo};
use audit::probes::guard::Guard;
use audit::probes::http::latency::{self, LatencySettings};
use audit::probes::http::observatory::{self, Cookie, HttpVisit, Outcome};
use audit::probes::http::{self as http_probe, HttpProbeTarget};
use audit::probes::progress::Progress;
use audit::probes::{CheckResult, CheckStatus, ProbeOutput};
use axum::body::{Body, Bytes};
use axum::extract::{Query, Request};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde_json::{json, Value};
use url::Url;

fn fetcher() -> Fetcher {
    fetcher_with(FetchLimits::default())
}

fn fetcher_with(limits: FetchLimits) -> Fetcher {
    let allow = Guard::parse_allow_list("127.0.0.0/8").unwrap();
    Fetcher::new(Arc::new(Guard::new(allow)), limits)
}

async fn serve(router: Router) -> Url {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(listener, router).await.unwrap();
    });
    Url::parse(&format!("http://{addr}/")).unwrap()
}

fn target(base: Url, endpoints: &[&str]) -> HttpProbeTarget {
    HttpProbeTarget {
        base_url: base,
        endpoints: endpoints.iter().map(|e| (*e).to_owned()).collect(),
        openapi_url: None,
        rate: 20,
        duration: Duration::from_millis(1500),
        warmup: Duration::from_millis(200),
    }
}

fn check<'a>(output: &'a ProbeOutput, id: &str) -> &'a CheckResult {
    output
        .checks
        .iter()
        .find(|c| c.id == id)
        .unwrap_or_else(|| panic!("no check {id}"))
}

fn statuses(output: &ProbeOutput) -> Vec<(String, CheckStatus)> {
    output
        .checks
        .iter()
        .map(|c| (c.id.clone(), c.status))
        .collect()
}

// ---------------------------------------------------------------------------------------------
// The good API

static REQUEST_IDS: AtomicU64 = AtomicU64::new(1);

fn problem(status: StatusCode, title: &str) -> Response {
    let body = json!({
        "type": "about:blank",
        "title": title,
        "status": status.as_u16(),
    });
    (
        status,
        [(header::CONTENT_TYPE, "application/problem+json")],
        body.to_string(),
    )
        .into_response()
}

/// JSON with an ETag (304 on a match), Cache-Control, and gzip for bodies of 1 KiB or more.
fn respond(request: &HeaderMap, value: &Value) -> Response {
    let body = value.to_string().into_bytes();
    let mut hasher = DefaultHasher::new();
    body.hash(&mut hasher);
    let etag = format!("\"{:x}\"", hasher.finish());
    let mut headers = HeaderMap::new();
    headers.insert(header::ETAG, HeaderValue::from_str(&etag).unwrap());
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=60"),
    );
    headers.insert(header::VARY, HeaderValue::from_static("Accept-Encoding"));
    if request
        .get(header::IF_NONE_MATCH)
        .is_some_and(|v| v.as_bytes() == etag.as_bytes())
    {
        return (StatusCode::NOT_MODIFIED, headers).into_response();
    }
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    let gzip = request
        .get(header::ACCEPT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("gzip"));
    if gzip && body.len() >= 1024 {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        encoder.write_all(&body).unwrap();
        let compressed = encoder.finish().unwrap();
        headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        return (StatusCode::OK, headers, compressed).into_response();
    }
    (StatusCode::OK, headers, body).into_response()
}

async fn good_headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    // The router's own 405 (with its Allow header) gets a Problem JSON body too.
    if response.status() == StatusCode::METHOD_NOT_ALLOWED {
        let (mut parts, _) = response.into_parts();
        parts.headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        let body = json!({"type": "about:blank", "title": "Method not allowed", "status": 405});
        response = Response::from_parts(parts, Body::from(body.to_string()));
    }
    let id = REQUEST_IDS.fetch_add(1, Ordering::Relaxed);
    let h = response.headers_mut();
    let set = |h: &mut HeaderMap, name: &'static str, value: &str| {
        h.insert(name, HeaderValue::from_str(value).unwrap());
    };
    set(h, "x-request-id", &format!("req-{id}"));
    set(
        h,
        "content-security-policy",
        "default-src 'none'; frame-ancestors 'none'",
    );
    set(h, "referrer-policy", "no-referrer");
    set(h, "x-content-type-options", "nosniff");
    set(h, "x-frame-options", "DENY");
    set(h, "cross-origin-resource-policy", "same-origin");
    set(h, "cross-origin-opener-policy", "same-origin");
    set(h, "cross-origin-embedder-policy", "require-corp");
    set(
        h,
        "strict-transport-security",
        "max-age=63072000; includeSubDomains",
    );
    set(h, "ratelimit-policy", "\"default\";q=100;w=60");
    set(h, "ratelimit", "\"default\";r=99;t=30");
    set(h, "server-timing", "app;dur=1");
    response
}

fn good_openapi() -> Value {
    let problem = json!({"$ref": "#/components/responses/Problem"});
    json!({
        "openapi": "3.1.0",
        "info": {"title": "Good API", "version": "1.2.0"},
        "servers": [{"url": "/"}],
        "paths": {
            "/v1/items": {
                "get": {
                    "parameters": [
                        {"name": "limit", "in": "query", "schema": {"type": "integer", "maximum": 50}},
                        {"name": "cursor", "in": "query", "schema": {"type": "string"}}
                    ],
                    "responses": {
                        "200": {"description": "a page", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ItemPage"}}}},
                        "400": problem, "500": problem
                    }
                },
                "post": {
                    "requestBody": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Item"}}}},
                    "responses": {"201": {"description": "created"}, "400": problem, "500": problem}
                }
            },
            "/v1/items/{id}": {
                "get": {
                    "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "integer"}}],
                    "responses": {
                        "200": {"description": "an item", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Item"}}}},
                        "404": problem, "500": problem
                    }
                }
            },
            "/v1/status": {
                "get": {"responses": {"200": {"description": "up"}, "4XX": problem, "5XX": problem}}
            },
            "/v1/catalog": {
                "get": {"responses": {"200": {"description": "reference data"}, "default": problem}}
            },
            "/v1/me": {
                "get": {"responses": {"200": {"description": "me"}, "401": problem, "500": problem}}
            }
        },
        "components": {
            "schemas": {
                "Item": {"type": "object", "properties": {"id": {"type": "integer"}, "name": {"type": "string"}}},
                "ItemPage": {"type": "object", "properties": {
                    "items": {"type": "array", "maxItems": 50, "items": {"$ref": "#/components/schemas/Item"}},
                    "next": {"type": "string"}
                }}
            },
            "responses": {
                "Problem": {"description": "a problem", "content": {"application/problem+json": {"schema": {"type": "object"}}}}
            }
        }
    })
}

#[derive(serde::Deserialize)]
struct Page {
    limit: Option<usize>,
    cursor: Option<usize>,
}

async fn good_items(headers: HeaderMap, Query(page): Query<Page>) -> Response {
    let limit = page.limit.unwrap_or(5).clamp(1, 50);
    let start = page.cursor.unwrap_or(0);
    let items: Vec<Value> = (start..start + limit)
        .map(|i| json!({"id": i, "name": format!("item {i}")}))
        .collect();
    respond(
        &headers,
        &json!({"items": items, "next": format!("/v1/items?cursor={}", start + limit)}),
    )
}

async fn good_create(body: Bytes) -> Response {
    match serde_json::from_slice::<Value>(&body) {
        Ok(_) => StatusCode::CREATED.into_response(),
        Err(_) => problem(StatusCode::BAD_REQUEST, "Malformed JSON"),
    }
}

async fn good_catalog(headers: HeaderMap) -> Response {
    let countries: serde_json::Map<String, Value> = (0..60)
        .map(|i| {
            (
                format!("C{i:02}"),
                json!({"name": format!("Country number {i}"), "currency": "EUR"}),
            )
        })
        .collect();
    respond(&headers, &json!({"countries": countries}))
}

async fn good_me() -> Response {
    let mut response = problem(StatusCode::UNAUTHORIZED, "Credentials required");
    response.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Bearer realm=\"good\""),
    );
    response
}

fn good_api() -> Router {
    Router::new()
        .route(
            "/",
            get(|h: HeaderMap| async move { respond(&h, &json!({"name": "good api"})) }),
        )
        .route(
            "/openapi.json",
            get(|| async { axum::Json(good_openapi()) }),
        )
        .route("/v1/items", get(good_items).post(good_create))
        .route(
            "/v1/items/{id}",
            get(|h: HeaderMap| async move { respond(&h, &json!({"id": 1, "name": "item 1"})) }),
        )
        .route(
            "/v1/status",
            get(|h: HeaderMap| async move { respond(&h, &json!({"status": "ok"})) }),
        )
        .route("/v1/catalog", get(good_catalog))
        .route("/v1/me", get(good_me))
        .fallback(|| async { problem(StatusCode::NOT_FOUND, "Not found") })
        .layer(middleware::from_fn(good_headers))
}

// ---------------------------------------------------------------------------------------------
// The bad API

fn html(status: StatusCode, text: &str) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        format!("<html><body><h1>{text}</h1></body></html>"),
    )
        .into_response()
}

/// CORS that reflects any Origin and allows credentials.
async fn bad_cors(request: Request, next: Next) -> Response {
    let origin = request.headers().get(header::ORIGIN).cloned();
    let mut response = next.run(request).await;
    if let Some(origin) = origin {
        response
            .headers_mut()
            .insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
        response.headers_mut().insert(
            header::ACCESS_CONTROL_ALLOW_CREDENTIALS,
            HeaderValue::from_static("true"),
        );
    }
    response
}

fn bad_api() -> Router {
    Router::new()
        .route(
            "/",
            get(|| async {
                let mut r = html(StatusCode::OK, "Welcome");
                r.headers_mut().insert(
                    header::SET_COOKIE,
                    HeaderValue::from_static("session=abc123; Path=/"),
                );
                r
            }),
        )
        .route(
            "/items",
            get(|| async {
                let items: Vec<Value> = (0..500).map(|i| json!({"id": i, "name": "x"})).collect();
                axum::Json(Value::Array(items))
            })
            .post(|| async {
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Internal Server Error\nTraceback (most recent call last):\n  File \"app.py\", line 12, in create\nValueError: bad json\n",
                )
            }),
        )
        .route(
            "/slow",
            get(|| async {
                tokio::time::sleep(Duration::from_millis(600)).await;
                axum::Json(json!({"ok": true}))
            }),
        )
        .route(
            "/admin",
            get(|| async { html(StatusCode::UNAUTHORIZED, "Unauthorized") }),
        )
        .route(
            "/metrics",
            get(|| async {
                "# HELP http_requests_total Total requests.\n# TYPE http_requests_total counter\nhttp_requests_total 42\n"
            }),
        )
        .method_not_allowed_fallback(|| async { html(StatusCode::NOT_FOUND, "Not Found") })
        .fallback(|| async { html(StatusCode::NOT_FOUND, "Not Found") })
        .layer(middleware::from_fn(bad_cors))
}

// ---------------------------------------------------------------------------------------------
// The probe end to end

#[tokio::test]
async fn good_api_passes_what_it_does_right() {
    let base = serve(good_api()).await;
    let progress = Progress::new();
    // No endpoints typed: they come from /openapi.json.
    let output = http_probe::run(&target(base, &[]), &fetcher(), &progress)
        .await
        .unwrap();
    use CheckStatus::*;
    let expected = vec![
        ("http.latency-percentiles", Pass),
        ("http.status-codes", Pass),
        ("http.error-bodies", Pass),
        ("http.pagination", Pass),
        ("http.cache-headers", Pass),
        ("http.compression", Pass),
        ("http.rate-limit-headers", Pass),
        ("http.versioning", Pass),
        ("http.openapi", Pass),
        ("http.openapi-lint", Pass),
        // Plain HTTP costs 40 points (no redirect to HTTPS, no HSTS): 60, C+.
        ("http.security-headers", Warn),
        ("http.cookies", Pass),
        ("http.tls", Fail),
        ("http.trace-headers", Pass),
        ("http.exposed-internals", Pass),
    ];
    let expected: Vec<(String, CheckStatus)> = expected
        .into_iter()
        .map(|(id, s)| (id.to_owned(), s))
        .collect();
    assert_eq!(statuses(&output), expected, "{:#?}", output.checks);

    // Endpoints from the document: GET paths without parameters.
    let latency = check(&output, "http.latency-percentiles");
    let measured: Vec<&str> = latency.measured["endpoints"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["endpoint"].as_str().unwrap())
        .collect();
    let mut sorted = measured.clone();
    sorted.sort();
    assert_eq!(
        sorted,
        vec!["/v1/catalog", "/v1/items", "/v1/me", "/v1/status"]
    );
    for e in latency.measured["endpoints"].as_array().unwrap() {
        // 20 rps × 1.5 s after a discarded warm-up; too few for p99.
        assert_eq!(e["n"], 30, "{e}");
        assert!(e["p99_ms"].is_null());
        assert_eq!(e["p99_note"], "n too small for p99");
        assert_eq!(e["rate_ok"], true, "{e}");
    }
    let me = latency.measured["endpoints"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["endpoint"] == "/v1/me")
        .unwrap();
    assert_eq!(me["responses_2xx"], 0);
    assert_eq!(me["responses_other"], 30);

    let security = check(&output, "http.security-headers");
    assert_eq!(security.measured["score"], 60);
    assert_eq!(security.measured["grade"], "C+");
    assert_eq!(security.measured["bonuses_counted"], false);
    let modifier = |test: &str| {
        security.measured["tests"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["test"] == test)
            .unwrap()["modifier"]
            .as_i64()
            .unwrap()
    };
    assert_eq!(modifier("content-security-policy"), 10);
    assert_eq!(modifier("x-frame-options"), 5);
    assert_eq!(modifier("referrer-policy"), 5);
    assert_eq!(modifier("cross-origin-resource-policy"), 10);
    assert_eq!(modifier("redirection"), -20);
    assert_eq!(modifier("strict-transport-security"), -20);
    assert_eq!(modifier("cross-origin-resource-sharing"), 0);

    let status = check(&output, "http.status-codes");
    let verdicts: Vec<(&str, &str)> = status.measured["probes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["probe"].as_str().unwrap(), p["verdict"].as_str().unwrap()))
        .collect();
    assert_eq!(
        verdicts,
        vec![
            ("unknown-path", "ok"),
            ("wrong-method", "ok"),
            ("malformed-json", "ok")
        ]
    );
    assert_eq!(
        check(&output, "http.tls").summary,
        format!(
            "No TLS: {} is served over plain HTTP",
            output.raw["base"]["url"].as_str().unwrap()
        )
    );
    assert!(check(&output, "http.compression")
        .evidence
        .iter()
        .any(|e| e.contains("/v1/catalog") && e.contains("gzip")));
    let (done, total, _) = progress.snapshot();
    assert_eq!(done, total);
}

#[tokio::test]
async fn bad_api_has_every_planted_defect_found() {
    let base = serve(bad_api()).await;
    let output = http_probe::run(
        &target(base, &["/items", "/slow", "/admin"]),
        &fetcher(),
        &Progress::new(),
    )
    .await
    .unwrap();
    use CheckStatus::*;
    let expected = vec![
        // /slow: p95 ≈ 600 ms with n = 30.
        ("http.latency-percentiles", Warn),
        // POST malformed → 500; PATCH → 404; 401 without WWW-Authenticate.
        ("http.status-codes", Fail),
        // HTML error pages, a Python traceback.
        ("http.error-bodies", Fail),
        // 500 items, ?limit=1 ignored.
        ("http.pagination", Fail),
        ("http.cache-headers", Fail),
        ("http.compression", Fail),
        ("http.rate-limit-headers", Warn),
        ("http.versioning", Warn),
        ("http.openapi", Fail),
        ("http.openapi-lint", CouldNotRun),
        ("http.security-headers", Fail),
        ("http.cookies", Fail),
        ("http.tls", Fail),
        ("http.trace-headers", Warn),
        ("http.exposed-internals", Fail),
    ];
    let expected: Vec<(String, CheckStatus)> = expected
        .into_iter()
        .map(|(id, s)| (id.to_owned(), s))
        .collect();
    assert_eq!(statuses(&output), expected, "{:#?}", output.checks);

    let latency = check(&output, "http.latency-percentiles");
    assert!(latency.summary.contains("/slow p95"), "{}", latency.summary);
    let slow = latency.measured["endpoints"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["endpoint"] == "/slow")
        .unwrap();
    assert!(slow["p95_ms"].as_f64().unwrap() >= 600.0, "{slow}");

    let pagination = check(&output, "http.pagination");
    assert_eq!(
        pagination.measured["unpaginated"],
        json!([{"endpoint": "/items", "items": 500}])
    );

    let status = check(&output, "http.status-codes");
    assert!(
        status.summary.contains("POST /items: 500"),
        "{}",
        status.summary
    );
    assert!(
        status.summary.contains("404 instead of 405"),
        "{}",
        status.summary
    );
    assert!(
        status.summary.contains("401 without WWW-Authenticate"),
        "{}",
        status.summary
    );

    let errors = check(&output, "http.error-bodies");
    assert_eq!(errors.measured["stack_traces"], 1);
    assert!(errors.measured["not_json"].as_u64().unwrap() >= 3);

    let security = check(&output, "http.security-headers");
    assert_eq!(security.measured["score"], 0);
    assert_eq!(security.measured["grade"], "F");
    let result_of = |test: &str| {
        security.measured["tests"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["test"] == test)
            .unwrap()["result"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    assert_eq!(
        result_of("cross-origin-resource-sharing"),
        "cross-origin-resource-sharing-implemented-with-universal-access"
    );
    assert_eq!(result_of("content-security-policy"), "csp-not-implemented");
    assert_eq!(result_of("cookies"), "cookies-session-without-secure-flag");

    let internals = check(&output, "http.exposed-internals");
    assert_eq!(
        internals.summary,
        "Exposed to anyone: /metrics (Prometheus metrics)"
    );
    let compression = check(&output, "http.compression");
    assert!(
        compression.summary.starts_with("Uncompressed: /items"),
        "{}",
        compression.summary
    );
}

#[tokio::test]
async fn refused_and_unreachable_targets() {
    // The guard refuses a private address that is not allow-listed.
    let strict = Fetcher::new(Arc::new(Guard::new(Vec::new())), FetchLimits::default());
    let result = http_probe::run(
        &target(Url::parse("http://127.0.0.1:9/").unwrap(), &[]),
        &strict,
        &Progress::new(),
    )
    .await;
    assert!(
        matches!(result, Err(audit::probes::error::ProbeError::Refused(_))),
        "{result:?}"
    );

    // Nothing listens: unreachable, not a run full of failures.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let result = http_probe::run(
        &target(
            Url::parse(&format!("http://127.0.0.1:{port}/")).unwrap(),
            &[],
        ),
        &fetcher(),
        &Progress::new(),
    )
    .await;
    assert!(
        matches!(
            result,
            Err(audit::probes::error::ProbeError::Unreachable(_))
        ),
        "{result:?}"
    );
}

// ---------------------------------------------------------------------------------------------
// The latency scheduler

/// A server that stops answering everything for 1 s once, at its 10th request (a GC pause, a
/// lock): every request that arrives during the stall waits for it to end.
fn stalling_server() -> Router {
    let count = Arc::new(AtomicU64::new(0));
    let stall_until: Arc<Mutex<Option<tokio::time::Instant>>> = Arc::new(Mutex::new(None));
    Router::new().route(
        "/tick",
        get(move || {
            let count = count.clone();
            let stall_until = stall_until.clone();
            async move {
                let n = count.fetch_add(1, Ordering::SeqCst) + 1;
                let until = {
                    let mut guard = stall_until.lock().unwrap();
                    if n == 10 {
                        *guard = Some(tokio::time::Instant::now() + Duration::from_secs(1));
                    }
                    *guard
                };
                if let Some(until) = until {
                    tokio::time::sleep_until(until).await;
                }
                "ok"
            }
        }),
    )
}

#[tokio::test]
async fn open_model_keeps_the_stall_in_p99_where_a_closed_loop_hides_it() {
    // Open model: 50 rps for 2.2 s = 110 samples, so p99 is reported.
    let base = serve(stalling_server()).await;
    let url = base.join("/tick").unwrap();
    let settings = LatencySettings {
        rate: 50,
        duration: Duration::from_millis(2200),
        warmup: Duration::ZERO,
        max_in_flight: 20,
    };
    let m = latency::measure_endpoint(&fetcher(), &url, &settings, &Progress::new()).await;
    assert_eq!(m.n, 110);
    assert_eq!(m.ok_2xx, 110);
    let p99 = m.p99_us.expect("n ≥ 100 gives a p99") as f64 / 1000.0;
    assert!(p99 >= 900.0, "the 1 s stall must show in p99, got {p99} ms");
    // Requests scheduled during the stall queue behind it: p95 moves too.
    assert!(m.p95_us.unwrap() as f64 / 1000.0 >= 700.0, "{m:?}");
    assert!(
        m.rate_ok(),
        "achieved {} of {}",
        m.achieved_rate,
        m.target_rate
    );

    // Closed loop against a fresh server: one request at a time, timed from its own send.
    let base = serve(stalling_server()).await;
    let url = base.join("/tick").unwrap();
    let client = fetcher();
    let mut samples = Vec::new();
    for _ in 0..110 {
        let started = Instant::now();
        client.fetch(FetchRequest::get(url.clone())).await.unwrap();
        samples.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    samples.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let closed_p99 = samples[(0.99 * samples.len() as f64).ceil() as usize - 1];
    assert!(
        closed_p99 < 500.0,
        "a closed loop records the stall once and hides it: p99 {closed_p99} ms"
    );
}

#[tokio::test]
async fn a_timeout_counts_as_latency_not_as_a_dropped_sample() {
    let router = Router::new().route(
        "/hang",
        get(|| async {
            tokio::time::sleep(Duration::from_secs(2)).await;
            "late"
        }),
    );
    let base = serve(router).await;
    let limits = FetchLimits {
        total_timeout: Duration::from_millis(300),
        ..FetchLimits::default()
    };
    let settings = LatencySettings {
        rate: 10,
        duration: Duration::from_millis(500),
        warmup: Duration::ZERO,
        max_in_flight: 20,
    };
    let m = latency::measure_endpoint(
        &fetcher_with(limits),
        &base.join("/hang").unwrap(),
        &settings,
        &Progress::new(),
    )
    .await;
    assert_eq!(m.sent, 5);
    assert_eq!(m.timeouts, 5);
    assert_eq!(m.n, 5, "every timeout is a sample");
    assert!(m.p50_us.unwrap() >= 300_000, "{m:?}");
    let result = latency::evaluate(&[("/hang".to_owned(), m)], &settings);
    assert_eq!(result.status, CheckStatus::Pass, "300 ms is under 500 ms");
}

#[test]
fn latency_thresholds() {
    let settings = LatencySettings::default();
    let with = |p95_ms: u64, p99_ms: Option<u64>| latency::EndpointLatency {
        n: if p99_ms.is_some() { 150 } else { 40 },
        p50_us: Some(1_000),
        p95_us: Some(p95_ms * 1000),
        p99_us: p99_ms.map(|v| v * 1000),
        target_rate: 5.0,
        achieved_rate: 5.0,
        sent: 40,
        ..Default::default()
    };
    let status = |m| latency::evaluate(&[("/x".to_owned(), m)], &settings).status;
    assert_eq!(status(with(100, Some(400))), CheckStatus::Pass);
    assert_eq!(status(with(100, Some(700))), CheckStatus::Warn);
    assert_eq!(status(with(100, Some(1200))), CheckStatus::Fail);
    // n < 100: p95 is judged.
    assert_eq!(status(with(1200, None)), CheckStatus::Fail);
    assert_eq!(status(with(501, None)), CheckStatus::Warn);
    assert_eq!(status(with(500, None)), CheckStatus::Pass);
}

// ---------------------------------------------------------------------------------------------
// Observatory scoring

fn outcome(modifier: i32) -> Outcome {
    Outcome {
        test: "t",
        result: "r",
        modifier,
        detail: String::new(),
    }
}

#[test]
fn grade_bands_follow_the_observatory_chart() {
    let cases = [
        (135, "A+"),
        (100, "A+"),
        (99, "A"),
        (95, "A"),
        (90, "A"),
        (89, "A-"),
        (85, "A-"),
        (84, "B+"),
        (80, "B+"),
        (79, "B"),
        (70, "B"),
        (69, "B-"),
        (65, "B-"),
        (64, "C+"),
        (60, "C+"),
        (59, "C"),
        (50, "C"),
        (49, "C-"),
        (45, "C-"),
        (44, "D+"),
        (40, "D+"),
        (39, "D"),
        (30, "D"),
        (29, "D-"),
        (25, "D-"),
        (24, "F"),
        (0, "F"),
        (-40, "F"),
    ];
    for (score, grade) in cases {
        assert_eq!(observatory::grade_for_score(score), grade, "score {score}");
    }
}

#[test]
fn bonuses_count_only_when_penalties_leave_at_least_90() {
    // 100 − 10 = 90: the +10 and +5 count → 105, A+.
    let s = observatory::score(&[outcome(10), outcome(-10), outcome(5)]);
    assert_eq!((s.score, s.grade, s.bonuses_counted), (105, "A+", true));
    // 100 − 15 = 85 < 90: the bonus is dropped → 85, A−.
    let s = observatory::score(&[outcome(10), outcome(-15)]);
    assert_eq!((s.score, s.grade, s.bonuses_counted), (85, "A-", false));
    // Never below 0.
    let s = observatory::score(&[outcome(-50), outcome(-40), outcome(-25)]);
    assert_eq!((s.score, s.grade), (0, "F"));
    // 100 − 5 − 20 = 75 is B; the grade uses the score rounded down to a multiple of 5.
    let s = observatory::score(&[outcome(-5), outcome(-20), outcome(10)]);
    assert_eq!((s.score, s.grade), (75, "B"));
}

fn headers(pairs: &[(&str, &str)]) -> http::HeaderMap {
    let mut map = http::HeaderMap::new();
    for (name, value) in pairs {
        map.append(
            http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
            http::HeaderValue::from_str(value).unwrap(),
        );
    }
    map
}

#[test]
fn csp_outcomes() {
    let csp = |value: &str| {
        observatory::csp(&headers(&[("content-security-policy", value)]), true).modifier
    };
    assert_eq!(csp("default-src 'none'"), 10);
    assert_eq!(csp("default-src 'self'"), 5);
    assert_eq!(
        csp("default-src 'self'; script-src 'self' 'unsafe-inline'"),
        -20
    );
    // No script-src and no default-src: scripts from anywhere.
    assert_eq!(csp("frame-ancestors 'none'"), -20);
    assert_eq!(
        csp("default-src 'self'; script-src 'self' 'unsafe-eval'"),
        -10
    );
    assert_eq!(
        csp("default-src 'self'; style-src 'self' 'unsafe-inline'"),
        0
    );
    assert_eq!(csp("default-src 'self'; img-src http://cdn.example"), -10);
    assert_eq!(
        csp("default-src 'self'; script-src http://cdn.example"),
        -20
    );
    // A nonce makes 'unsafe-inline' ignored.
    assert_eq!(
        csp("default-src 'self'; script-src 'nonce-abc' 'unsafe-inline'"),
        5
    );
    assert_eq!(csp("default-src 'self'; default-src 'none'"), -25);
    assert_eq!(csp("x"), -25);
    assert_eq!(observatory::csp(&headers(&[]), true).modifier, -25);
}

#[test]
fn cookie_outcomes() {
    let score = |set_cookies: &[&str], hsts_ok: bool| {
        let cookies: Vec<Cookie> = set_cookies
            .iter()
            .filter_map(|c| Cookie::parse(c))
            .collect();
        let o = observatory::cookies(&cookies, hsts_ok);
        (o.result, o.modifier)
    };
    assert_eq!(score(&[], false), ("cookies-not-found", 0));
    assert_eq!(
        score(&["sessionid=1; Secure; HttpOnly; SameSite=Lax"], false),
        ("cookies-secure-with-httponly-sessions-and-samesite", 5)
    );
    assert_eq!(
        score(&["theme=dark; Secure"], false),
        ("cookies-secure-with-httponly-sessions", 0)
    );
    assert_eq!(
        score(&["session=1"], false),
        ("cookies-session-without-secure-flag", -40)
    );
    assert_eq!(
        score(&["session=1; HttpOnly; SameSite=Strict"], true),
        (
            "cookies-session-without-secure-flag-but-protected-by-hsts",
            -10
        )
    );
    assert_eq!(
        score(&["login=1; Secure; SameSite=Lax"], false),
        ("cookies-session-without-httponly-flag", -30)
    );
    assert_eq!(
        score(&["theme=1; Secure; SameSite=Sometimes"], false),
        ("cookies-samesite-flag-invalid", -20)
    );
}

#[test]
fn header_tests() {
    let hsts = |value: &str| {
        observatory::hsts(
            &headers(&[("strict-transport-security", value)]),
            true,
            true,
        )
        .modifier
    };
    assert_eq!(hsts("max-age=31536000; includeSubDomains"), 0);
    assert_eq!(hsts("max-age=86400"), -10);
    assert_eq!(hsts("includeSubDomains"), -20);
    assert_eq!(observatory::hsts(&headers(&[]), true, true).modifier, -20);
    assert_eq!(
        observatory::hsts(&headers(&[]), false, true).result,
        "hsts-not-implemented-no-https"
    );

    let referrer =
        |v: &str| observatory::referrer_policy(&headers(&[("referrer-policy", v)])).modifier;
    assert_eq!(referrer("strict-origin-when-cross-origin"), 5);
    assert_eq!(referrer("unsafe-url"), -5);
    // The last value a browser understands wins.
    assert_eq!(referrer("unsafe-url, no-referrer"), 5);
    assert_eq!(referrer("bogus"), -5);

    let xfo = |pairs: &[(&str, &str)]| observatory::x_frame_options(&headers(pairs)).modifier;
    assert_eq!(xfo(&[]), -20);
    assert_eq!(xfo(&[("x-frame-options", "DENY")]), 5);
    assert_eq!(xfo(&[("x-frame-options", "nonsense")]), -20);
    assert_eq!(
        xfo(&[(
            "content-security-policy",
            "default-src 'none'; frame-ancestors 'self'"
        )]),
        5
    );

    let cors = |pairs: &[(&str, &str)]| {
        observatory::cors(&headers(pairs), "https://evil.example").modifier
    };
    assert_eq!(cors(&[]), 0);
    assert_eq!(cors(&[("access-control-allow-origin", "*")]), 0);
    assert_eq!(
        cors(&[
            ("access-control-allow-origin", "https://evil.example"),
            ("access-control-allow-credentials", "true")
        ]),
        -50
    );
    assert_eq!(
        cors(&[("access-control-allow-origin", "https://app.example")]),
        0
    );

    let url = |u: &str| Url::parse(u).unwrap();
    let redirect = |route: Vec<Url>| {
        observatory::redirection(&HttpVisit::Route {
            route,
            verified: true,
        })
        .modifier
    };
    assert_eq!(redirect(vec![url("http://a.example/")]), -20);
    assert_eq!(
        redirect(vec![url("http://a.example/"), url("https://a.example/")]),
        0
    );
    assert_eq!(
        redirect(vec![url("http://a.example/"), url("https://b.example/")]),
        -5
    );
    assert_eq!(
        redirect(vec![
            url("http://a.example/"),
            url("http://www.a.example/"),
            url("https://www.a.example/")
        ]),
        -10
    );
    assert_eq!(
        redirect(vec![url("http://a.example/"), url("http://www.a.example/")]),
        -20
    );
    assert_eq!(observatory::redirection(&HttpVisit::NoHttp).modifier, 0);

    let corp =
        |v: &str| observatory::corp(&headers(&[("cross-origin-resource-policy", v)])).modifier;
    assert_eq!(corp("same-site"), 10);
    assert_eq!(corp("cross-origin"), 0);
    assert_eq!(corp("bogus"), -5);
    assert_eq!(
        observatory::coop(&headers(&[(
            "cross-origin-opener-policy",
            "same-origin; report-to=\"x\""
        )]))
        .modifier,
        10
    );
    assert_eq!(
        observatory::coep(&headers(&[(
            "cross-origin-embedder-policy",
            "credentialless"
        )]))
        .modifier,
        10
    );
    assert_eq!(
        observatory::x_content_type_options(&headers(&[("x-content-type-options", "nosniff")]))
            .modifier,
        0
    );
}

// ---------------------------------------------------------------------------------------------
// TLS, OpenAPI discovery and lint, body shapes

fn response(url: &str, tls: Option<TlsInfo>) -> FetchResponse {
    FetchResponse {
        url: Url::parse(url).unwrap(),
        status: 200,
        headers: http::HeaderMap::new(),
        body: Vec::new(),
        body_truncated: false,
        redirects: Vec::new(),
        tls,
        timing: Timing::default(),
    }
}

#[test]
fn tls_expiry_and_verification() {
    let now = 1_800_000_000;
    let day = 86_400;
    let info = |days: i64, verified: bool| TlsInfo {
        version: "TLSv1.3".to_owned(),
        cert_not_after: Some(now + days * day + 60),
        verified,
        verify_error: (!verified).then(|| "unknown issuer".to_owned()),
    };
    let status = |tls: Option<TlsInfo>| {
        http_probe::tls::evaluate(&response("https://api.example/", tls), now).status
    };
    assert_eq!(status(Some(info(90, true))), CheckStatus::Pass);
    assert_eq!(status(Some(info(20, true))), CheckStatus::Warn);
    assert_eq!(status(Some(info(5, true))), CheckStatus::Fail);
    assert_eq!(status(Some(info(-1, true))), CheckStatus::Fail);
    assert_eq!(status(Some(info(90, false))), CheckStatus::Fail);
    let plain = http_probe::tls::evaluate(&response("http://api.example/", None), now);
    assert_eq!(plain.status, CheckStatus::Fail);
    assert!(plain.summary.starts_with("No TLS"));
}

#[tokio::test]
async fn openapi_found_through_the_api_catalog_as_yaml() {
    let router = Router::new()
        .route(
            "/.well-known/api-catalog",
            get(|| async {
                (
                    [(header::CONTENT_TYPE, "application/linkset+json")],
                    json!({"linkset": [{"anchor": "/", "service-desc": [{"href": "/docs/openapi.yaml", "type": "application/yaml"}]}]}).to_string(),
                )
            }),
        )
        .route(
            "/docs/openapi.yaml",
            get(|| async { "openapi: 3.0.3\ninfo:\n  title: Y\n  version: '1'\npaths: {}\n" }),
        );
    let base = serve(router).await;
    let discovery = http_probe::openapi::discover(&fetcher(), &base, None).await;
    let found = discovery.found.as_ref().unwrap();
    assert_eq!(found.url.path(), "/docs/openapi.yaml");
    assert_eq!(found.format, http_probe::openapi::DocFormat::Yaml);
    assert_eq!(
        http_probe::openapi::check_present(&discovery).status,
        CheckStatus::Pass
    );
    let lint = http_probe::openapi::lint(&discovery);
    assert_eq!(lint.status, CheckStatus::CouldNotRun);
    assert!(lint.why.unwrap().contains("YAML"));
}

#[test]
fn openapi_lint_finds_each_rule() {
    let doc = json!({
        "openapi": "3.0.3",
        "info": {"title": "Bad", "version": "1"},
        "servers": [{"url": "http://api.example"}],
        "paths": {
            "/users": {"get": {"responses": {
                "200": {"description": "all", "content": {"application/json": {"schema": {"type": "array", "items": {"type": "object"}}}}},
                "400": {"description": "bad", "content": {"application/json": {"schema": {"type": "object"}}}}
            }}}
        }
    });
    let discovery = http_probe::openapi::Discovery {
        tried: Vec::new(),
        answered: 1,
        found: Some(http_probe::openapi::FoundDoc {
            url: Url::parse("http://api.example/openapi.json").unwrap(),
            format: http_probe::openapi::DocFormat::Json,
            doc: Some(doc),
        }),
    };
    let lint = http_probe::openapi::lint(&discovery);
    assert_eq!(lint.status, CheckStatus::Fail, "http server: {lint:#?}");
    assert_eq!(
        lint.measured["violations"],
        json!({"error-responses": 1, "servers-https": 1, "array-limit": 1, "problem-json": 1})
    );
    assert_eq!(
        http_probe::openapi::get_paths(discovery.found.as_ref().unwrap().doc.as_ref().unwrap()),
        vec!["/users"]
    );
}

#[test]
fn list_shapes_and_version_segments() {
    use http_probe::behaviour::{is_version_segment, list_shape};
    let shape = list_shape(&json!([1, 2, 3])).unwrap();
    assert_eq!((shape.items, shape.next_in_body), (3, None));
    let shape = list_shape(&json!({"data": [1, 2], "meta": {"next_cursor": "abc"}})).unwrap();
    assert_eq!(shape.items, 2);
    assert_eq!(shape.next_in_body.as_deref(), Some("meta.next_cursor"));
    let shape = list_shape(&json!({"results": [1, 2], "next": null})).unwrap();
    assert_eq!(
        shape.next_in_body, None,
        "a null next is the last page, not pagination proof"
    );
    assert!(list_shape(&json!({"name": "x"})).is_none());
    for yes in ["v1", "V2", "v1.1", "v2beta1"] {
        assert!(is_version_segment(yes), "{yes}");
    }
    for no in ["v", "video", "users", "1", "v1x"] {
        assert!(!is_version_segment(no), "{no}");
    }
}

#[tokio::test]
async fn a_429_stops_the_measurement_and_without_retry_after_fails() {
    let router = Router::new().route(
        "/limited",
        get(|| async { (StatusCode::TOO_MANY_REQUESTS, "slow down") }),
    );
    let base = serve(router).await;
    let settings = LatencySettings {
        rate: 20,
        duration: Duration::from_secs(1),
        warmup: Duration::ZERO,
        max_in_flight: 20,
    };
    let m = latency::measure_endpoint(
        &fetcher(),
        &base.join("/limited").unwrap(),
        &settings,
        &Progress::new(),
    )
    .await;
    assert!(m.backed_off && m.saw_429 && m.saw_429_without_retry_after);
    assert!(m.sent < 20, "stopped early, sent {}", m.sent);
    let check = http_probe::behaviour::rate_limit(&[], &[], &[("/limited".to_owned(), m)]);
    assert_eq!(check.status, CheckStatus::Fail);
    assert!(
        check.summary.starts_with("429 without Retry-After"),
        "{}",
        check.summary
    );
}

#[tokio::test]
async fn a_cancelled_run_stops() {
    let base = serve(good_api()).await;
    let progress = Progress::new();
    progress.cancel();
    let result = http_probe::run(&target(base, &[]), &fetcher(), &progress).await;
    assert!(
        matches!(result, Err(audit::probes::error::ProbeError::Cancelled)),
        "{result:?}"
    );
}
