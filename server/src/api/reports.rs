//! `/api/v1/engagements/{engagement_id}/report…`: the written report.
//! - `report.pdf|md|html`: the draft as it stands now;
//! - `report-draft`: the executive summary and the roadmap's team (GET, PUT with version);
//! - `reports`: issued versions (GET lists, POST issues one: 202, rendered by a job);
//! - `reports/{version}`: one version (`3`), or its file (`3.pdf`, `3.md`, `3.html`);
//! - `reports/{version}/verify`, `reports/{version}/share`.
//!
//! Another firm's engagement reads as not found.
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::error::{ErrorBody, ErrorDetail};
use super::findings::{engagement_path, stale_error};
use super::paging::{page_meta, page_query, PageMeta, PageQuery};
use super::{ApiError, ApiJson, Caller};
use crate::report_files::{download_name, file_response};
use app::state::AppState;
use audit::reports::{self as domain, ReportDraft, ReportDraftInput, ReportFormat, ReportVersion};

pub fn router() -> Router<AppState> {
    let draft_file = |format: ReportFormat| {
        move |state: State<AppState>, caller: Caller, path: Result<Path<i64>, PathRejection>| {
            draft_file(state, caller, path, format)
        }
    };
    Router::new()
        .route(
            "/api/v1/engagements/{engagement_id}/report.pdf",
            get(draft_file(ReportFormat::Pdf)),
        )
        .route(
            "/api/v1/engagements/{engagement_id}/report.md",
            get(draft_file(ReportFormat::Markdown)),
        )
        .route(
            "/api/v1/engagements/{engagement_id}/report.html",
            get(draft_file(ReportFormat::Html)),
        )
        .route(
            "/api/v1/engagements/{engagement_id}/report-draft",
            get(get_draft).put(save_draft),
        )
        .route(
            "/api/v1/engagements/{engagement_id}/reports",
            get(list_versions).post(issue_version),
        )
        .route(
            "/api/v1/engagements/{engagement_id}/reports/{version}",
            get(get_version),
        )
        .route(
            "/api/v1/engagements/{engagement_id}/reports/{version}/verify",
            get(verify_version),
        )
        .route(
            "/api/v1/engagements/{engagement_id}/reports/{version}/share",
            post(share_version),
        )
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReportDraftBody {
    pub data: ReportDraft,
}

/// 409 for a stale draft edit: the standard error body plus the draft as it is stored now.
#[derive(Debug, Serialize, ToSchema)]
pub struct StaleDraftBody {
    pub error: ErrorDetail,
    pub current: ReportDraft,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReportVersionList {
    /// Newest first.
    pub data: Vec<ReportVersion>,
    pub meta: PageMeta,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReportVersionBody {
    pub data: ReportVersion,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct VerificationBody {
    pub data: domain::Verification,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ShareRequest {
    /// Show the version on the founders' report page (true) or stop (false).
    pub shared: bool,
    /// Also e-mail each founder a link, with the PDF attached when it is under 5 MB.
    #[serde(default)]
    pub notify: bool,
}

/// A version path: `3`, or `3.pdf` / `3.md` / `3.html` for one of its files.
fn version_path(
    path: Result<Path<(i64, String)>, PathRejection>,
    caller: &Caller,
) -> Result<(i64, i64, Option<ReportFormat>), ApiError> {
    let not_found = || {
        ApiError::new(StatusCode::NOT_FOUND, "not_found", "No such resource.")
            .with_request_id(caller.request_id.clone())
    };
    let Path((engagement_id, version)) = path.map_err(|_| not_found())?;
    let (number, format) = match version.split_once('.') {
        Some((number, extension)) => (
            number,
            Some(ReportFormat::from_extension(extension).ok_or_else(not_found)?),
        ),
        None => (version.as_str(), None),
    };
    let number = number
        .parse::<i64>()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(not_found)?;
    Ok((engagement_id, number, format))
}

#[utoipa::path(get, path = "/api/v1/engagements/{engagement_id}/report.pdf", tag = "reports",
    params(("engagement_id" = i64, Path, description = "Engagement id")),
    responses((status = 200, description = "The draft report, rendered now; `report.md` and `report.html` give the same report as Markdown and HTML", content_type = "application/pdf"),
              (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn draft_file(
    State(state): State<AppState>,
    caller: Caller,
    path: Result<Path<i64>, PathRejection>,
    format: ReportFormat,
) -> Result<Response, ApiError> {
    let id = engagement_path(path, &caller.request_id)?;
    let engagement = audit::engagements::get(&state.db, caller.member.firm_id, id)
        .await
        .map_err(|e| caller.fail(e))?;
    let bytes = domain::render_draft(&state.db, &caller.member, id, format)
        .await
        .map_err(|e| caller.fail(e))?;
    let name = download_name(&engagement.system_name, "draft", format);
    Ok(file_response(bytes, format, &name, false, None))
}

#[utoipa::path(get, path = "/api/v1/engagements/{engagement_id}/report-draft", tag = "reports",
    params(("engagement_id" = i64, Path, description = "Engagement id")),
    responses((status = 200, body = ReportDraftBody), (status = 401, body = ErrorBody),
              (status = 404, body = ErrorBody)))]
pub async fn get_draft(
    State(state): State<AppState>,
    caller: Caller,
    path: Result<Path<i64>, PathRejection>,
) -> Result<Json<ReportDraftBody>, ApiError> {
    let id = engagement_path(path, &caller.request_id)?;
    let draft = domain::draft(&state.db, &caller.member, id)
        .await
        .map_err(|e| caller.fail(e))?;
    Ok(Json(ReportDraftBody { data: draft }))
}

#[utoipa::path(put, path = "/api/v1/engagements/{engagement_id}/report-draft", tag = "reports",
    request_body = ReportDraftInput,
    params(("engagement_id" = i64, Path, description = "Engagement id")),
    responses((status = 200, body = ReportDraftBody), (status = 400, body = ErrorBody),
              (status = 401, body = ErrorBody), (status = 404, body = ErrorBody),
              (status = 409, description = "Stale version: nothing written", body = StaleDraftBody),
              (status = 422, body = ErrorBody)))]
pub async fn save_draft(
    State(state): State<AppState>,
    caller: Caller,
    path: Result<Path<i64>, PathRejection>,
    ApiJson(input): ApiJson<ReportDraftInput>,
) -> Result<Response, ApiError> {
    let id = engagement_path(path, &caller.request_id)?;
    match domain::save_draft(&state.db, &caller.member, id, &input).await {
        Ok(draft) => Ok(Json(ReportDraftBody { data: draft }).into_response()),
        Err(audit::Error::Conflict { .. }) => {
            let current = domain::draft(&state.db, &caller.member, id)
                .await
                .map_err(|e| caller.fail(e))?;
            let error = stale_error(&caller, "report draft", input.version, current.version);
            Ok((
                StatusCode::CONFLICT,
                Json(StaleDraftBody { error, current }),
            )
                .into_response())
        }
        Err(e) => Err(caller.fail(e)),
    }
}

#[utoipa::path(get, path = "/api/v1/engagements/{engagement_id}/reports", tag = "reports",
    params(("engagement_id" = i64, Path, description = "Engagement id"), PageQuery),
    responses((status = 200, body = ReportVersionList), (status = 401, body = ErrorBody),
              (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn list_versions(
    State(state): State<AppState>,
    caller: Caller,
    path: Result<Path<i64>, PathRejection>,
    query: Result<Query<PageQuery>, QueryRejection>,
) -> Result<Json<ReportVersionList>, ApiError> {
    let id = engagement_path(path, &caller.request_id)?;
    let (before, limit) = page_query(query, domain::VERSION_PAGE_SIZE, &caller)?;
    let versions = domain::list_versions(&state.db, caller.member.firm_id, id, before, limit)
        .await
        .map_err(|e| caller.fail(e))?;
    Ok(Json(ReportVersionList {
        meta: page_meta(versions.len(), limit, versions.last().map(|v| v.number)),
        data: versions,
    }))
}

#[utoipa::path(post, path = "/api/v1/engagements/{engagement_id}/reports", tag = "reports",
    params(("engagement_id" = i64, Path, description = "Engagement id")),
    responses((status = 202, description = "Frozen and queued: poll the version until `status` is `issued`", body = ReportVersionBody),
              (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn issue_version(
    State(state): State<AppState>,
    caller: Caller,
    path: Result<Path<i64>, PathRejection>,
) -> Result<(StatusCode, Json<ReportVersionBody>), ApiError> {
    let id = engagement_path(path, &caller.request_id)?;
    let version = domain::issue(&state.db, &caller.member, id)
        .await
        .map_err(|e| caller.fail(e))?;
    Ok((
        StatusCode::ACCEPTED,
        Json(ReportVersionBody { data: version }),
    ))
}

#[utoipa::path(get, path = "/api/v1/engagements/{engagement_id}/reports/{version}", tag = "reports",
    params(("engagement_id" = i64, Path, description = "Engagement id"),
           ("version" = String, Path, description = "The version number (`3`) for its status and digests, or `3.pdf`, `3.md`, `3.html` for one of its files (header `x-content-sha256` carries the digest stored at issue)")),
    responses((status = 200, body = ReportVersionBody), (status = 401, body = ErrorBody),
              (status = 404, body = ErrorBody),
              (status = 409, description = "The version's files are still rendering, or failed", body = ErrorBody)))]
pub async fn get_version(
    State(state): State<AppState>,
    caller: Caller,
    path: Result<Path<(i64, String)>, PathRejection>,
) -> Result<Response, ApiError> {
    let (id, number, format) = version_path(path, &caller)?;
    let firm_id = caller.member.firm_id;
    match format {
        None => {
            let version = domain::get_version(&state.db, firm_id, id, number)
                .await
                .map_err(|e| caller.fail(e))?;
            Ok(Json(ReportVersionBody { data: version }).into_response())
        }
        Some(format) => {
            let engagement = audit::engagements::get(&state.db, firm_id, id)
                .await
                .map_err(|e| caller.fail(e))?;
            let (bytes, sha) = domain::version_file(&state.db, firm_id, id, number, format)
                .await
                .map_err(|e| caller.fail(e))?;
            let name = download_name(&engagement.system_name, &format!("v{number}"), format);
            Ok(file_response(bytes, format, &name, false, Some(&sha)))
        }
    }
}

#[utoipa::path(get, path = "/api/v1/engagements/{engagement_id}/reports/{version}/verify", tag = "reports",
    params(("engagement_id" = i64, Path, description = "Engagement id"),
           ("version" = i64, Path, description = "Version number")),
    responses((status = 200, description = "Each stored file's SHA-256 recomputed and compared", body = VerificationBody),
              (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn verify_version(
    State(state): State<AppState>,
    caller: Caller,
    path: Result<Path<(i64, String)>, PathRejection>,
) -> Result<Json<VerificationBody>, ApiError> {
    let (id, number, format) = version_path(path, &caller)?;
    if format.is_some() {
        return Err(caller.fail(audit::Error::NotFound));
    }
    let verification = domain::verify(&state.db, caller.member.firm_id, id, number)
        .await
        .map_err(|e| caller.fail(e))?;
    Ok(Json(VerificationBody { data: verification }))
}

#[utoipa::path(post, path = "/api/v1/engagements/{engagement_id}/reports/{version}/share", tag = "reports",
    request_body = ShareRequest,
    params(("engagement_id" = i64, Path, description = "Engagement id"),
           ("version" = i64, Path, description = "Version number")),
    responses((status = 200, body = ReportVersionBody), (status = 400, body = ErrorBody),
              (status = 401, body = ErrorBody), (status = 404, body = ErrorBody),
              (status = 409, description = "Not issued yet", body = ErrorBody),
              (status = 422, body = ErrorBody)))]
pub async fn share_version(
    State(state): State<AppState>,
    caller: Caller,
    path: Result<Path<(i64, String)>, PathRejection>,
    ApiJson(request): ApiJson<ShareRequest>,
) -> Result<Json<ReportVersionBody>, ApiError> {
    let (id, number, format) = version_path(path, &caller)?;
    if format.is_some() {
        return Err(caller.fail(audit::Error::NotFound));
    }
    let version = domain::share(
        &state.db,
        &caller.member,
        id,
        number,
        request.shared,
        request.notify,
        &state.base_url,
    )
    .await
    .map_err(|e| caller.fail(e))?;
    Ok(Json(ReportVersionBody { data: version }))
}
