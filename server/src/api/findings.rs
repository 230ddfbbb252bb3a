//! `/api/v1/engagements/{engagement_id}/findings`: list, write, edit (with the version it
//! replaces), delete, and the automatic step that suggests findings from the answers. The caller
//! acts as a member of the engagement's firm; another firm's engagement reads as not found.
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Serialize;
use utoipa::ToSchema;

use super::error::{ErrorBody, ErrorDetail};
use super::{ApiError, ApiJson, Caller};
use app::state::AppState;
use audit::activity::Actor;
use audit::findings::{self as domain, Finding, FindingInput, SuggestReport};

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/api/v1/engagements/{engagement_id}/findings",
            get(list_findings).post(create_finding),
        )
        .route(
            "/api/v1/engagements/{engagement_id}/findings/suggest",
            post(suggest_findings),
        )
        .route(
            "/api/v1/engagements/{engagement_id}/findings/{finding_id}",
            get(get_finding)
                .patch(update_finding)
                .delete(delete_finding),
        )
}

/// How many items a list holds.
#[derive(Debug, Serialize, ToSchema)]
pub struct CountMeta {
    pub count: usize,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FindingList {
    /// Open findings first, then by severity and number.
    pub data: Vec<Finding>,
    pub meta: CountMeta,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FindingBody {
    pub data: Finding,
}

/// 409 for a stale edit: the standard error body plus the finding as it is stored now.
#[derive(Debug, Serialize, ToSchema)]
pub struct StaleFindingBody {
    pub error: ErrorDetail,
    pub current: Finding,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SuggestBody {
    pub data: SuggestReport,
}

/// 404 in the API's error body: a path that names nothing (e.g. a non-numeric id).
pub(super) fn not_found(request_id: &Option<String>) -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "not_found", "No such resource.")
        .with_request_id(request_id.clone())
}

/// The engagement id of the path; a non-numeric id names nothing, so 404.
pub(super) fn engagement_path(
    path: Result<Path<i64>, PathRejection>,
    request_id: &Option<String>,
) -> Result<i64, ApiError> {
    path.map(|Path(id)| id).map_err(|_| not_found(request_id))
}

/// (engagement id, item id) of the path; a non-numeric id names nothing, so 404.
pub(super) fn item_path(
    path: Result<Path<(i64, i64)>, PathRejection>,
    request_id: &Option<String>,
) -> Result<(i64, i64), ApiError> {
    path.map(|Path(ids)| ids).map_err(|_| not_found(request_id))
}

/// The 409 error of a write that names an older version than the stored one.
pub(super) fn stale_error(caller: &Caller, what: &str, sent: i64, current: i64) -> ErrorDetail {
    ErrorDetail {
        code: "stale_version".to_owned(),
        message: format!(
            "Someone changed this {what} since you opened it: you sent version {sent}, the stored \
             one is version {current}; nothing was written. Compare it with yours and send again \
             with version {current}."
        ),
        field: Some("version".to_owned()),
        request_id: caller.request_id.clone(),
    }
}

#[utoipa::path(get, path = "/api/v1/engagements/{engagement_id}/findings", tag = "findings",
    params(("engagement_id" = i64, Path, description = "Engagement id")),
    responses((status = 200, body = FindingList), (status = 401, body = ErrorBody),
              (status = 404, body = ErrorBody)))]
pub async fn list_findings(
    State(state): State<AppState>,
    caller: Caller,
    path: Result<Path<i64>, PathRejection>,
) -> Result<Json<FindingList>, ApiError> {
    let id = engagement_path(path, &caller.request_id)?;
    let findings = domain::list_findings(&state.db, caller.member.firm_id, id)
        .await
        .map_err(|e| caller.fail(e))?;
    Ok(Json(FindingList {
        meta: CountMeta {
            count: findings.len(),
        },
        data: findings,
    }))
}

#[utoipa::path(post, path = "/api/v1/engagements/{engagement_id}/findings", tag = "findings",
    request_body = FindingInput,
    params(("engagement_id" = i64, Path, description = "Engagement id")),
    responses((status = 201, body = FindingBody), (status = 400, body = ErrorBody),
              (status = 401, body = ErrorBody), (status = 404, body = ErrorBody),
              (status = 422, body = ErrorBody)))]
pub async fn create_finding(
    State(state): State<AppState>,
    caller: Caller,
    path: Result<Path<i64>, PathRejection>,
    ApiJson(input): ApiJson<FindingInput>,
) -> Result<(StatusCode, Json<FindingBody>), ApiError> {
    let id = engagement_path(path, &caller.request_id)?;
    let finding = domain::create_finding(&state.db, &caller.member, id, &input)
        .await
        .map_err(|e| caller.fail(e))?;
    Ok((StatusCode::CREATED, Json(FindingBody { data: finding })))
}

#[utoipa::path(get, path = "/api/v1/engagements/{engagement_id}/findings/{finding_id}",
    tag = "findings",
    params(("engagement_id" = i64, Path, description = "Engagement id"),
           ("finding_id" = i64, Path, description = "Finding id")),
    responses((status = 200, body = FindingBody), (status = 401, body = ErrorBody),
              (status = 404, body = ErrorBody)))]
pub async fn get_finding(
    State(state): State<AppState>,
    caller: Caller,
    path: Result<Path<(i64, i64)>, PathRejection>,
) -> Result<Json<FindingBody>, ApiError> {
    let (id, finding_id) = item_path(path, &caller.request_id)?;
    let finding = domain::get_finding(&state.db, caller.member.firm_id, id, finding_id)
        .await
        .map_err(|e| caller.fail(e))?;
    Ok(Json(FindingBody { data: finding }))
}

#[utoipa::path(patch, path = "/api/v1/engagements/{engagement_id}/findings/{finding_id}",
    tag = "findings", request_body = FindingInput,
    params(("engagement_id" = i64, Path, description = "Engagement id"),
           ("finding_id" = i64, Path, description = "Finding id")),
    responses((status = 200, description = "Saved; fields changed by hand are kept by the automatic step", body = FindingBody),
              (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
              (status = 404, body = ErrorBody),
              (status = 409, description = "Someone saved a newer version first; nothing was written", body = StaleFindingBody),
              (status = 422, body = ErrorBody)))]
pub async fn update_finding(
    State(state): State<AppState>,
    caller: Caller,
    path: Result<Path<(i64, i64)>, PathRejection>,
    ApiJson(input): ApiJson<FindingInput>,
) -> Result<Response, ApiError> {
    let (id, finding_id) = item_path(path, &caller.request_id)?;
    match domain::update_finding(&state.db, &caller.member, id, finding_id, &input).await {
        Ok(finding) => Ok(Json(FindingBody { data: finding }).into_response()),
        Err(conflict @ audit::Error::Conflict { .. }) => {
            let current = domain::get_finding(&state.db, caller.member.firm_id, id, finding_id)
                .await
                .map_err(|e| caller.fail(e))?;
            if current.version == input.version {
                return Err(caller.fail(conflict));
            }
            let body = StaleFindingBody {
                error: stale_error(&caller, "finding", input.version, current.version),
                current,
            };
            Ok((StatusCode::CONFLICT, Json(body)).into_response())
        }
        Err(e) => Err(caller.fail(e)),
    }
}

#[utoipa::path(delete, path = "/api/v1/engagements/{engagement_id}/findings/{finding_id}",
    tag = "findings",
    params(("engagement_id" = i64, Path, description = "Engagement id"),
           ("finding_id" = i64, Path, description = "Finding id")),
    responses((status = 204, description = "Deleted"), (status = 401, body = ErrorBody),
              (status = 404, body = ErrorBody),
              (status = 409, description = "Made from the answers: resolve it or accept the risk instead", body = ErrorBody)))]
pub async fn delete_finding(
    State(state): State<AppState>,
    caller: Caller,
    path: Result<Path<(i64, i64)>, PathRejection>,
) -> Result<StatusCode, ApiError> {
    let (id, finding_id) = item_path(path, &caller.request_id)?;
    domain::delete_finding(&state.db, &caller.member, id, finding_id)
        .await
        .map_err(|e| caller.fail(e))?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/api/v1/engagements/{engagement_id}/findings/suggest",
    tag = "findings",
    params(("engagement_id" = i64, Path, description = "Engagement id")),
    responses((status = 200, description = "A finding for every red flag and weak answer; safe to run again", body = SuggestBody),
              (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn suggest_findings(
    State(state): State<AppState>,
    caller: Caller,
    path: Result<Path<i64>, PathRejection>,
) -> Result<Json<SuggestBody>, ApiError> {
    let id = engagement_path(path, &caller.request_id)?;
    let actor = Actor::from(&caller.member);
    let report = domain::suggest_findings(&state.db, &actor, caller.member.firm_id, id)
        .await
        .map_err(|e| caller.fail(e))?;
    Ok(Json(SuggestBody { data: report }))
}
