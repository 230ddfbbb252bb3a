//! `/healthz` (the process answers), `/readyz` (database reachable, migrations applied) and
//! `/metrics` (Prometheus text).
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;

use app::state::AppState;

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

pub async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    let mut body = state.metrics.prometheus();
    if let Ok(counts) = audit::jobs::count_by_status(&state.db).await {
        body.push_str(
            "# HELP plumbline_jobs Jobs in the queue by status.\n# TYPE plumbline_jobs gauge\n",
        );
        for (status, count) in counts {
            body.push_str(&format!("plumbline_jobs{{status=\"{status}\"}} {count}\n"));
        }
    }
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], body)
}
