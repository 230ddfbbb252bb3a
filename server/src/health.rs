//! `/healthz` (the process answers), `/readyz` (database reachable, migrations applied) and
//! `/metrics` (Prometheus text).
use std::net::SocketAddr;

use axum::extract::{ConnectInfo, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use tower_sessions::Session;

use crate::api::{request_id_of, ApiError};
use app::state::{AppState, SESSION_USER};

pub async fn healthz() -> impl IntoResponse {
    (StatusCode::OK, "ok\n")
}

pub async fn readyz(State(state): State<AppState>) -> impl IntoResponse {
    if state.db.is_ready().await {
        (StatusCode::OK, "ready\n")
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            "not ready: database unreachable or migrations pending\n",
        )
    }
}

/// Who may read `/metrics` without credentials.
#[derive(Clone, Copy, Debug)]
pub struct MetricsAccess {
    pub open_to_loopback: bool,
}

/// Prometheus text. Open to scrapers on this machine (loopback); from elsewhere it takes a firm
/// owner, by API token or session, since route names and queue depths describe the installation.
pub async fn metrics(
    State(state): State<AppState>,
    Extension(access): Extension<MetricsAccess>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    session: Session,
    headers: HeaderMap,
) -> Response {
    if !(access.open_to_loopback && peer.ip().is_loopback()) {
        if let Err(refusal) = require_owner(&state, &session, &headers).await {
            return refusal.into_response();
        }
    }
    let mut body = state.metrics.prometheus();
    if let Ok(counts) = audit::jobs::count_by_status(&state.db).await {
        body.push_str(
            "# HELP plumbline_jobs Jobs in the queue by status.\n# TYPE plumbline_jobs gauge\n",
        );
        for (status, count) in counts {
            body.push_str(&format!("plumbline_jobs{{status=\"{status}\"}} {count}\n"));
        }
    }
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], body).into_response()
}

async fn require_owner(
    state: &AppState,
    session: &Session,
    headers: &HeaderMap,
) -> Result<(), ApiError> {
    let request_id = request_id_of(headers);
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    let member = match token {
        Some(token) => audit::accounts::member_by_api_token(&state.db, token.trim()).await,
        None => match session.get::<i64>(SESSION_USER).await {
            Ok(Some(user_id)) => audit::accounts::member_by_id(&state.db, user_id).await,
            _ => Ok(None),
        },
    }
    .map_err(|e| ApiError::from_domain(e, request_id.clone()))?;
    match member {
        Some(m) if m.is_owner() => Ok(()),
        Some(_) => Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "Only a firm owner can read the metrics.",
        )
        .with_request_id(request_id)),
        None => Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
            "Send an owner's API token as Authorization: Bearer <token>.",
        )
        .with_request_id(request_id)),
    }
}
