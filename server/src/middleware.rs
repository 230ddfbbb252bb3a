//! Layers every request passes: latency per route, the same-origin check on state-changing
//! requests, the log-in guard for pages, and security headers.
use std::sync::Arc;
use std::time::Instant;

use axum::body::Body;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use tower_sessions::Session;

use crate::api::ApiError;
use app::state::SESSION_USER;
use audit::telemetry::RouteMetrics;

/// Records each response's latency under its route template (`/engagements/{id}`), so figures
/// group by endpoint rather than by id. Unmatched paths share one bucket.
pub async fn record_latency(
    State(metrics): State<Arc<RouteMetrics>>,
    request: Request,
    next: Next,
) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| {
            let path = request.uri().path();
            if path.starts_with("/pkg/") {
                "/pkg/*".to_owned()
            } else {
                "(unmatched)".to_owned()
            }
        });
    let route = format!("{} {route}", request.method());
    let started = Instant::now();
    let response = next.run(request).await;
    metrics.record(&route, response.status().as_u16(), started.elapsed());
    response
}

/// Refuses state-changing requests that a browser sent from another site (CSRF). A browser sends
/// `Origin` on every such request; its host must be ours. Requests with a bearer token and no
/// cookie are API calls and carry no ambient authority, so they pass.
pub async fn same_origin(request: Request, next: Next) -> Response {
    if matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    ) {
        return next.run(request).await;
    }
    let headers = request.headers();
    if is_bearer_without_cookie(headers) || is_same_origin(headers) {
        return next.run(request).await;
    }
    tracing::warn!(origin = ?headers.get(header::ORIGIN), "cross-site request refused");
    let request_id = crate::api::request_id_of(headers);
    ApiError::new(
        StatusCode::FORBIDDEN,
        "cross_site_request",
        "This request came from another site and was refused.",
    )
    .with_request_id(request_id)
    .into_response()
}

fn is_bearer_without_cookie(headers: &HeaderMap) -> bool {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("Bearer "))
        && headers.get(header::COOKIE).is_none()
}

fn is_same_origin(headers: &HeaderMap) -> bool {
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
    match headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) {
        Some(origin) => {
            let origin_host = origin
                .split_once("://")
                .map(|(_, rest)| rest.trim_end_matches('/'));
            origin_host.is_some() && origin_host == host
        }
        // No Origin: not a modern browser's cross-site form post. Sec-Fetch-Site, when sent,
        // must not say cross-site.
        None => !matches!(
            headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()),
            Some("cross-site") | Some("same-site")
        ),
    }
}

/// Pages behind log-in send anonymous visitors to the log-in page (with the way back), before
/// anything renders. Server functions check for themselves as well.
pub async fn require_login_for_pages(session: Session, request: Request, next: Next) -> Response {
    let path = request.uri().path();
    let protected = ["/engagements", "/firm", "/account"]
        .iter()
        .any(|p| path == *p || path.starts_with(&format!("{p}/")));
    if protected && matches!(*request.method(), Method::GET | Method::HEAD) {
        let logged_in = matches!(session.get::<i64>(SESSION_USER).await, Ok(Some(_)));
        if !logged_in {
            let next_path = request
                .uri()
                .path_and_query()
                .map(|pq| pq.as_str().to_owned())
                .unwrap_or_else(|| path.to_owned());
            let target = format!("/login?next={}", audit::fields::query_value(&next_path));
            return Redirect::to(&target).into_response();
        }
    }
    next.run(request).await
}

/// Content-Security-Policy for every response that does not set its own: pages set a stricter
/// one carrying their script nonce (`app::state::page_security_policy`); this one, for JSON,
/// files and errors, allows no inline script at all.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; \
     style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; \
     base-uri 'self'; form-action 'self'; object-src 'none'";

/// Answers 404 for unknown `/api/` paths with the API's JSON error rather than an HTML page.
pub async fn api_not_found(headers: HeaderMap) -> Response {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "not_found",
        "There is no such API route.",
    )
    .with_request_id(crate::api::request_id_of(&headers))
    .into_response()
}

/// The same body for any request whose body was over the limit.
pub fn body_too_large(request_id: Option<String>) -> Response<Body> {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload_too_large",
        "The request body is too large.",
    )
    .with_request_id(request_id)
    .into_response()
}

/// The body-limit layer refuses a too-large `Content-Length` with plain text; this answers with
/// the API's error body instead, like every other refusal.
pub async fn payload_too_large_as_json(request: Request, next: Next) -> Response {
    let request_id = crate::api::request_id_of(request.headers());
    let response = next.run(request).await;
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if response.status() == StatusCode::PAYLOAD_TOO_LARGE && !is_json {
        return body_too_large(request_id);
    }
    response
}

/// The ordinary body limit for every route but evidence uploads and ADR archive imports
/// (`/api/v1/engagements/{id}/decisions.zip`, which have their own `DefaultBodyLimit`), by
/// declared length (browsers and HTTP clients declare it; a body without one is still capped by
/// the outer limit layer and, for extractors, by `DefaultBodyLimit`).
pub async fn limit_body(
    axum::extract::State(limit): axum::extract::State<usize>,
    request: Request,
    next: Next,
) -> Response {
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    let path = request.uri().path();
    let large_allowed = path == "/evidence"
        || (path.starts_with("/api/v1/engagements/") && path.ends_with("/decisions.zip"))
        || crate::decision_files::is_import_path(path)
        || crate::api::probes::is_upload_path(path)
        || crate::probe_files::is_upload_path(path)
        || crate::report_files::is_branding_path(path);
    if !large_allowed && declared.is_some_and(|len| len > limit) {
        return body_too_large(crate::api::request_id_of(request.headers()));
    }
    next.run(request).await
}

/// Ends a streamed HTML page that stops sending for `PAGE_STALL` with an error, so the connection
/// is closed instead of held open forever. Leptos very rarely stalls an SSR stream
/// (leptos-rs/leptos#4647); the timeout layer only bounds the time to the headers.
/// See docs/adr/0006-bound-stalled-page-streams.md.
pub async fn bound_page_stream(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    let is_html = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    if !is_html {
        return response;
    }
    let (parts, body) = response.into_parts();
    Response::from_parts(parts, bound_stream(body, PAGE_STALL))
}

/// `body`, ended with an error when it sends nothing for `stall`.
fn bound_stream(body: Body, stall: std::time::Duration) -> Body {
    use futures_util::StreamExt;

    let chunks =
        futures_util::stream::unfold(Some(body.into_data_stream()), move |state| async move {
            let mut stream = state?;
            match tokio::time::timeout(stall, stream.next()).await {
                Ok(Some(chunk)) => Some((chunk, Some(stream))),
                Ok(None) => None,
                Err(_) => {
                    tracing::error!(
                        stall_ms = stall.as_millis() as u64,
                        "page stream stalled; closing it"
                    );
                    Some((Err(axum::Error::new("page stream stalled")), None))
                }
            }
        });
    Body::from_stream(chunks)
}

/// How long a page may go without sending anything before it is cut off.
pub const PAGE_STALL: std::time::Duration = std::time::Duration::from_secs(20);

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn a_stalled_body_ends_with_an_error_and_a_finished_one_is_untouched() {
        let finished = bound_stream(Body::from("<p>done</p>"), Duration::from_millis(50));
        let bytes = axum::body::to_bytes(finished, 1024)
            .await
            .expect("whole body");
        assert_eq!(&bytes[..], b"<p>done</p>");

        let first = futures_util::stream::once(async { Ok::<_, std::io::Error>("<p>start") });
        let never = futures_util::stream::pending();
        let stalled = Body::from_stream(futures_util::StreamExt::chain(first, never));
        let bounded = bound_stream(stalled, Duration::from_millis(50));
        let result =
            tokio::time::timeout(Duration::from_secs(5), axum::body::to_bytes(bounded, 1024)).await;
        assert!(
            matches!(result, Ok(Err(_))),
            "the stalled body must end with an error"
        );
    }
}
