//! `/api/v1/engagements/{engagement_id}/probe-…`: probe targets, uploads, runs (start, read,
//! cancel), results pushed in by a client's CI, and the claimed-versus-observed view. A client's
//! CI can upload a log and start its import, or push checks it ran itself. Another firm's
//! engagement reads as not found.
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection, QueryRejection};
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::error::{ErrorBody, ErrorDetail};
use super::findings::{engagement_path, item_path, stale_error, CountMeta};
use super::paging::{page_meta, page_query, PageMeta, PageQuery};
use super::{ApiError, ApiJson, Caller};
use app::state::AppState;
use audit::activity::Actor;
use audit::probes::store::{self, PushedResults, RunParams};
use audit::probes::{
    ClaimComparison, ProbeKind, ProbeRun, ProbeRunDetail, ProbeTargets, ProbeTargetsInput,
    ProbeUpload,
};

/// The largest upload `POST …/probe-uploads` reads (the store's own limit, plus nothing).
pub const UPLOAD_LIMIT: usize = store::MAX_UPLOAD_BYTES;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/api/v1/engagements/{engagement_id}/probe-targets",
            get(get_targets).put(save_targets),
        )
        .route(
            "/api/v1/engagements/{engagement_id}/probe-uploads",
            get(list_uploads)
                .post(upload)
                .layer(DefaultBodyLimit::max(UPLOAD_LIMIT)),
        )
        .route(
            "/api/v1/engagements/{engagement_id}/probe-runs",
            get(list_runs).post(start_run),
        )
        .route(
            "/api/v1/engagements/{engagement_id}/probe-runs/{run_id}",
            get(get_run),
        )
        .route(
            "/api/v1/engagements/{engagement_id}/probe-runs/{run_id}/cancel",
            post(cancel_run),
        )
        .route(
            "/api/v1/engagements/{engagement_id}/probe-results",
            post(push_results),
        )
        .route("/api/v1/engagements/{engagement_id}/claims", get(claims))
}

/// Uploads take a large body (`middleware::limit_body` lets this path through).
pub fn is_upload_path(path: &str) -> bool {
    path.starts_with("/api/v1/engagements/") && path.ends_with("/probe-uploads")
}

fn actor(caller: &Caller) -> Actor {
    Actor::from(&caller.member)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ProbeTargetsBody {
    pub data: ProbeTargets,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StaleTargetsBody {
    pub error: ErrorDetail,
    pub current: ProbeTargets,
}

#[utoipa::path(get, path = "/api/v1/engagements/{engagement_id}/probe-targets", tag = "probes",
    params(("engagement_id" = i64, Path, description = "Engagement id")),
    responses((status = 200, description = "The targets; a stored connection string is never returned, only whether one is set and where it points", body = ProbeTargetsBody),
              (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_targets(
    State(state): State<AppState>,
    caller: Caller,
    path: Result<Path<i64>, PathRejection>,
) -> Result<Json<ProbeTargetsBody>, ApiError> {
    let id = engagement_path(path, &caller.request_id)?;
    let targets = store::get_targets(&state.db, caller.member.firm_id, id)
        .await
        .map_err(|e| caller.fail(e))?;
    Ok(Json(ProbeTargetsBody { data: targets }))
}

#[utoipa::path(put, path = "/api/v1/engagements/{engagement_id}/probe-targets", tag = "probes",
    request_body = ProbeTargetsInput,
    params(("engagement_id" = i64, Path, description = "Engagement id")),
    responses((status = 200, body = ProbeTargetsBody), (status = 400, body = ErrorBody),
              (status = 401, body = ErrorBody), (status = 404, body = ErrorBody),
              (status = 409, description = "Someone saved a newer version first; nothing was written", body = StaleTargetsBody),
              (status = 422, description = "A target is malformed or refused by the outbound guard", body = ErrorBody)))]
pub async fn save_targets(
    State(state): State<AppState>,
    caller: Caller,
    path: Result<Path<i64>, PathRejection>,
    ApiJson(input): ApiJson<ProbeTargetsInput>,
) -> Result<Response, ApiError> {
    let id = engagement_path(path, &caller.request_id)?;
    let firm_id = caller.member.firm_id;
    let guard = state
        .probes
        .guard_for(&state.db, firm_id)
        .await
        .map_err(|e| caller.fail(e))?;
    match store::save_targets(&state.db, &state.probes.key, &guard, firm_id, id, &input).await {
        Ok(targets) => Ok(Json(ProbeTargetsBody { data: targets }).into_response()),
        Err(conflict @ audit::Error::Conflict { .. }) => {
            let current = store::get_targets(&state.db, firm_id, id)
                .await
                .map_err(|e| caller.fail(e))?;
            if current.version == input.version {
                return Err(caller.fail(conflict));
            }
            let body = StaleTargetsBody {
                error: stale_error(
                    &caller,
                    "set of probe targets",
                    input.version,
                    current.version,
                ),
                current,
            };
            Ok((StatusCode::CONFLICT, Json(body)).into_response())
        }
        Err(e) => Err(caller.fail(e)),
    }
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct UploadQuery {
    /// `logs` or `repository` (an archive: .zip, .tar.gz, .tar).
    pub kind: String,
    /// The file's name, for people and for format detection (`access.log.gz`).
    pub file_name: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UploadBody {
    pub data: ProbeUpload,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UploadList {
    /// Newest first.
    pub data: Vec<ProbeUpload>,
    pub meta: CountMeta,
}

#[utoipa::path(get, path = "/api/v1/engagements/{engagement_id}/probe-uploads", tag = "probes",
    params(("engagement_id" = i64, Path, description = "Engagement id")),
    responses((status = 200, body = UploadList), (status = 401, body = ErrorBody),
              (status = 404, body = ErrorBody)))]
pub async fn list_uploads(
    State(state): State<AppState>,
    caller: Caller,
    path: Result<Path<i64>, PathRejection>,
) -> Result<Json<UploadList>, ApiError> {
    let id = engagement_path(path, &caller.request_id)?;
    let uploads = store::list_uploads(&state.db, caller.member.firm_id, id)
        .await
        .map_err(|e| caller.fail(e))?;
    Ok(Json(UploadList {
        meta: CountMeta {
            count: uploads.len(),
        },
        data: uploads,
    }))
}

#[utoipa::path(post, path = "/api/v1/engagements/{engagement_id}/probe-uploads", tag = "probes",
    request_body(content = Vec<u8>, content_type = "application/octet-stream",
                 description = "The file's bytes, at most 50 MB"),
    params(("engagement_id" = i64, Path, description = "Engagement id"), UploadQuery),
    responses((status = 201, body = UploadBody), (status = 401, body = ErrorBody),
              (status = 404, body = ErrorBody), (status = 413, body = ErrorBody),
              (status = 422, body = ErrorBody)))]
pub async fn upload(
    State(state): State<AppState>,
    caller: Caller,
    path: Result<Path<i64>, PathRejection>,
    query: Result<Query<UploadQuery>, QueryRejection>,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<UploadBody>), ApiError> {
    let id = engagement_path(path, &caller.request_id)?;
    let Query(query) = query.map_err(|_| {
        caller.fail(audit::Error::invalid(
            "kind",
            "Say what the file is and its name: ?kind=logs&file_name=access.log",
        ))
    })?;
    let kind = ProbeKind::parse(&query.kind)
        .ok_or_else(|| caller.fail(audit::Error::invalid("kind", "kind is logs or repository.")))?;
    let bytes = body.map_err(|_| {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            "Uploads can be at most 50 MB.",
        )
        .with_request_id(caller.request_id.clone())
    })?;
    let upload = store::save_upload(
        &state.db,
        &actor(&caller),
        caller.member.firm_id,
        id,
        kind,
        &query.file_name,
        &bytes,
    )
    .await
    .map_err(|e| caller.fail(e))?;
    Ok((StatusCode::CREATED, Json(UploadBody { data: upload })))
}

/// Starts a run. Targets given here are saved first (as `PUT …/probe-targets` would), so a CI
/// job can name what to probe in one call.
#[derive(Debug, Deserialize, ToSchema)]
pub struct StartRunRequest {
    pub kind: ProbeKind,
    /// Uploads to read (log files; one repository archive).
    #[serde(default)]
    pub upload_ids: Vec<i64>,
    pub http_base_url: Option<String>,
    pub http_endpoints: Option<Vec<String>>,
    pub repository_url: Option<String>,
    pub postgres_url: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RunBody {
    pub data: ProbeRun,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RunDetailBody {
    pub data: ProbeRunDetail,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RunList {
    /// Newest first.
    pub data: Vec<ProbeRun>,
    pub meta: PageMeta,
}

#[utoipa::path(post, path = "/api/v1/engagements/{engagement_id}/probe-runs", tag = "probes",
    request_body = StartRunRequest,
    params(("engagement_id" = i64, Path, description = "Engagement id")),
    responses((status = 202, description = "Queued; poll the run for progress", body = RunBody),
              (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
              (status = 404, body = ErrorBody),
              (status = 422, description = "The target is missing, malformed or refused by the outbound guard", body = ErrorBody)))]
pub async fn start_run(
    State(state): State<AppState>,
    caller: Caller,
    path: Result<Path<i64>, PathRejection>,
    ApiJson(request): ApiJson<StartRunRequest>,
) -> Result<(StatusCode, Json<RunBody>), ApiError> {
    let id = engagement_path(path, &caller.request_id)?;
    let firm_id = caller.member.firm_id;
    let names_targets = request.http_base_url.is_some()
        || request.http_endpoints.is_some()
        || request.repository_url.is_some()
        || request.postgres_url.is_some();
    if names_targets {
        let current = store::get_targets(&state.db, firm_id, id)
            .await
            .map_err(|e| caller.fail(e))?;
        let input = ProbeTargetsInput {
            http_base_url: request
                .http_base_url
                .clone()
                .unwrap_or(current.http_base_url),
            http_endpoints: request
                .http_endpoints
                .clone()
                .unwrap_or(current.http_endpoints),
            http_openapi_url: current.http_openapi_url,
            http_rate: Some(current.http_rate),
            http_duration_secs: Some(current.http_duration_secs),
            postgres_url: request.postgres_url.clone().unwrap_or_default(),
            clear_postgres: false,
            repository_url: request
                .repository_url
                .clone()
                .unwrap_or(current.repository_url),
            version: current.version,
        };
        let guard = state
            .probes
            .guard_for(&state.db, firm_id)
            .await
            .map_err(|e| caller.fail(e))?;
        store::save_targets(&state.db, &state.probes.key, &guard, firm_id, id, &input)
            .await
            .map_err(|e| caller.fail(e))?;
    }
    let params = RunParams {
        upload_ids: request.upload_ids,
    };
    let run = store::start_run(
        &state.db,
        &actor(&caller),
        firm_id,
        id,
        request.kind,
        &params,
    )
    .await
    .map_err(|e| caller.fail(e))?;
    Ok((StatusCode::ACCEPTED, Json(RunBody { data: run })))
}

#[utoipa::path(get, path = "/api/v1/engagements/{engagement_id}/probe-runs", tag = "probes",
    params(("engagement_id" = i64, Path, description = "Engagement id"), PageQuery),
    responses((status = 200, body = RunList), (status = 401, body = ErrorBody),
              (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn list_runs(
    State(state): State<AppState>,
    caller: Caller,
    path: Result<Path<i64>, PathRejection>,
    query: Result<Query<PageQuery>, QueryRejection>,
) -> Result<Json<RunList>, ApiError> {
    let id = engagement_path(path, &caller.request_id)?;
    let (before, limit) = page_query(query, store::RUN_PAGE_SIZE, &caller)?;
    let runs = store::list_runs(&state.db, caller.member.firm_id, id, before, limit)
        .await
        .map_err(|e| caller.fail(e))?;
    Ok(Json(RunList {
        meta: page_meta(runs.len(), limit, runs.last().map(|r| r.id)),
        data: runs,
    }))
}

#[utoipa::path(get, path = "/api/v1/engagements/{engagement_id}/probe-runs/{run_id}", tag = "probes",
    params(("engagement_id" = i64, Path, description = "Engagement id"),
           ("run_id" = i64, Path, description = "Run id")),
    responses((status = 200, description = "Status, progress and (once finished) the checks, each beside its status in the previous run", body = RunDetailBody),
              (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_run(
    State(state): State<AppState>,
    caller: Caller,
    path: Result<Path<(i64, i64)>, PathRejection>,
) -> Result<Json<RunDetailBody>, ApiError> {
    let (id, run_id) = item_path(path, &caller.request_id)?;
    let detail = store::get_run(&state.db, caller.member.firm_id, id, run_id)
        .await
        .map_err(|e| caller.fail(e))?;
    Ok(Json(RunDetailBody { data: detail }))
}

#[utoipa::path(post, path = "/api/v1/engagements/{engagement_id}/probe-runs/{run_id}/cancel", tag = "probes",
    params(("engagement_id" = i64, Path, description = "Engagement id"),
           ("run_id" = i64, Path, description = "Run id")),
    responses((status = 200, description = "A queued run is cancelled at once; a running one stops at its next step", body = RunBody),
              (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn cancel_run(
    State(state): State<AppState>,
    caller: Caller,
    path: Result<Path<(i64, i64)>, PathRejection>,
) -> Result<Json<RunBody>, ApiError> {
    let (id, run_id) = item_path(path, &caller.request_id)?;
    let run = store::cancel_run(&state.db, caller.member.firm_id, id, run_id)
        .await
        .map_err(|e| caller.fail(e))?;
    Ok(Json(RunBody { data: run }))
}

#[utoipa::path(post, path = "/api/v1/engagements/{engagement_id}/probe-results", tag = "probes",
    request_body = PushedResults,
    params(("engagement_id" = i64, Path, description = "Engagement id")),
    responses((status = 201, description = "Stored as a finished run; its failures become findings", body = RunBody),
              (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
              (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn push_results(
    State(state): State<AppState>,
    caller: Caller,
    path: Result<Path<i64>, PathRejection>,
    ApiJson(pushed): ApiJson<PushedResults>,
) -> Result<(StatusCode, Json<RunBody>), ApiError> {
    let id = engagement_path(path, &caller.request_id)?;
    let firm_id = caller.member.firm_id;
    let actor = actor(&caller);
    let run = store::push_results(&state.db, &actor, firm_id, id, &pushed)
        .await
        .map_err(|e| caller.fail(e))?;
    audit::probes::feed::findings_from_checks(&state.db, &actor, firm_id, id)
        .await
        .map_err(|e| caller.fail(e))?;
    Ok((StatusCode::CREATED, Json(RunBody { data: run })))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ClaimList {
    /// Contradictions first.
    pub data: Vec<ClaimComparison>,
    pub meta: ClaimMeta,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ClaimMeta {
    pub count: usize,
    pub contradictions: usize,
}

#[utoipa::path(get, path = "/api/v1/engagements/{engagement_id}/claims", tag = "probes",
    params(("engagement_id" = i64, Path, description = "Engagement id")),
    responses((status = 200, description = "Each question whose checks ran, beside the founders' answer", body = ClaimList),
              (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn claims(
    State(state): State<AppState>,
    caller: Caller,
    path: Result<Path<i64>, PathRejection>,
) -> Result<Json<ClaimList>, ApiError> {
    let id = engagement_path(path, &caller.request_id)?;
    let claims = audit::probes::claims::compare(&state.db, caller.member.firm_id, id)
        .await
        .map_err(|e| caller.fail(e))?;
    let contradictions = claims
        .iter()
        .filter(|c| c.verdict == audit::probes::Verdict::Contradicts)
        .count();
    Ok(Json(ClaimList {
        meta: ClaimMeta {
            count: claims.len(),
            contradictions,
        },
        data: claims,
    }))
}
