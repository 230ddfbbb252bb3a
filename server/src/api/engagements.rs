//! `/api/v1/engagements`: list, get, create, update, archive. Scoped to the caller's firm.
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{ApiError, ApiJson, Caller};
use app::state::AppState;
use audit::engagements::{self, Engagement, EngagementInput, EngagementQuery, EngagementSummary};

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/api/v1/engagements",
            get(list_engagements).post(create_engagement),
        )
        .route(
            "/api/v1/engagements/{engagement_id}",
            get(get_engagement).patch(update_engagement),
        )
        .route(
            "/api/v1/engagements/{engagement_id}/archive",
            post(archive_engagement),
        )
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct ListParams {
    /// Matches client or system name, case-insensitively.
    q: Option<String>,
    /// Include archived engagements.
    #[serde(default)]
    include_archived: bool,
    /// Cursor from `meta.next_cursor` of the previous page.
    cursor: Option<i64>,
    /// Page size, 1 to 100 (default 25).
    limit: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PageMeta {
    /// Pass as `cursor` for the next page; null on the last page.
    pub next_cursor: Option<i64>,
    pub limit: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EngagementList {
    pub data: Vec<EngagementSummary>,
    pub meta: PageMeta,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EngagementBody {
    pub data: Engagement,
}

fn engagement_id(
    path: Result<Path<i64>, axum::extract::rejection::PathRejection>,
    request_id: &Option<String>,
) -> Result<i64, ApiError> {
    // A non-numeric id names nothing: 404 like any unknown engagement.
    path.map(|Path(id)| id).map_err(|_| {
        ApiError::new(StatusCode::NOT_FOUND, "not_found", "No such resource.")
            .with_request_id(request_id.clone())
    })
}

#[utoipa::path(get, path = "/api/v1/engagements", params(ListParams), tag = "engagements",
    responses((status = 200, body = EngagementList), (status = 401, body = super::error::ErrorBody)))]
pub async fn list_engagements(
    State(state): State<AppState>,
    caller: Caller,
    params: Result<Query<ListParams>, QueryRejection>,
) -> Result<Json<EngagementList>, ApiError> {
    let Query(params) = params.map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "bad_query",
            format!("The query string is invalid: {}", e.body_text()),
        )
        .with_request_id(caller.request_id.clone())
    })?;
    let limit = params.limit.unwrap_or(engagements::DEFAULT_PAGE_SIZE);
    if !(1..=engagements::MAX_PAGE_SIZE).contains(&limit) {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
            "limit is between 1 and 100.",
        )
        .with_field("limit")
        .with_request_id(caller.request_id));
    }
    let query = EngagementQuery {
        search: params.q,
        include_archived: params.include_archived,
        before: params.cursor,
        limit: Some(limit),
    };
    let page = engagements::list(&state.db, caller.member.firm_id, &query)
        .await
        .map_err(|e| caller.fail(e))?;
    Ok(Json(EngagementList {
        data: page.items,
        meta: PageMeta {
            next_cursor: page.next_before,
            limit,
        },
    }))
}

#[utoipa::path(post, path = "/api/v1/engagements", request_body = EngagementInput, tag = "engagements",
    responses((status = 201, body = EngagementBody), (status = 400, body = super::error::ErrorBody),
              (status = 401, body = super::error::ErrorBody), (status = 422, body = super::error::ErrorBody)))]
pub async fn create_engagement(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(input): ApiJson<EngagementInput>,
) -> Result<(StatusCode, Json<EngagementBody>), ApiError> {
    let fields = input
        .parse()
        .map_err(|e| caller.fail(audit::Error::Invalid(e)))?;
    let engagement = engagements::create(&state.db, &caller.member, &fields)
        .await
        .map_err(|e| caller.fail(e))?;
    Ok((
        StatusCode::CREATED,
        Json(EngagementBody { data: engagement }),
    ))
}

#[utoipa::path(get, path = "/api/v1/engagements/{engagement_id}", tag = "engagements",
    params(("engagement_id" = i64, Path, description = "Engagement id")),
    responses((status = 200, body = EngagementBody), (status = 404, body = super::error::ErrorBody)))]
pub async fn get_engagement(
    State(state): State<AppState>,
    caller: Caller,
    path: Result<Path<i64>, axum::extract::rejection::PathRejection>,
) -> Result<Json<EngagementBody>, ApiError> {
    let id = engagement_id(path, &caller.request_id)?;
    let engagement = engagements::get(&state.db, caller.member.firm_id, id)
        .await
        .map_err(|e| caller.fail(e))?;
    Ok(Json(EngagementBody { data: engagement }))
}

#[utoipa::path(patch, path = "/api/v1/engagements/{engagement_id}", request_body = EngagementInput, tag = "engagements",
    params(("engagement_id" = i64, Path, description = "Engagement id")),
    responses((status = 200, body = EngagementBody), (status = 404, body = super::error::ErrorBody),
              (status = 422, body = super::error::ErrorBody)))]
pub async fn update_engagement(
    State(state): State<AppState>,
    caller: Caller,
    path: Result<Path<i64>, axum::extract::rejection::PathRejection>,
    ApiJson(input): ApiJson<EngagementInput>,
) -> Result<Json<EngagementBody>, ApiError> {
    let id = engagement_id(path, &caller.request_id)?;
    // Fields left out keep their stored value: the stored engagement fills the gaps.
    let current = engagements::get(&state.db, caller.member.firm_id, id)
        .await
        .map_err(|e| caller.fail(e))?;
    let merged = EngagementInput {
        client_name: input.client_name.or(Some(current.client_name)),
        system_name: input.system_name.or(Some(current.system_name)),
        description: input.description.or(Some(current.description)),
        founders: input.founders.or(Some(current.founders)),
        team_size: input.team_size.or(current.team_size),
        stage: input.stage.or(Some(current.stage.as_str().to_owned())),
        start_date: input.start_date.or(current.start_date),
        due_date: input.due_date.or(current.due_date),
        status: input.status.or(Some(current.status.as_str().to_owned())),
    };
    let fields = merged
        .parse()
        .map_err(|e| caller.fail(audit::Error::Invalid(e)))?;
    let engagement = engagements::update(&state.db, caller.member.firm_id, id, &fields)
        .await
        .map_err(|e| caller.fail(e))?;
    Ok(Json(EngagementBody { data: engagement }))
}

#[utoipa::path(post, path = "/api/v1/engagements/{engagement_id}/archive", tag = "engagements",
    params(("engagement_id" = i64, Path, description = "Engagement id")),
    responses((status = 200, body = EngagementBody), (status = 404, body = super::error::ErrorBody)))]
pub async fn archive_engagement(
    State(state): State<AppState>,
    caller: Caller,
    path: Result<Path<i64>, axum::extract::rejection::PathRejection>,
) -> Result<Json<EngagementBody>, ApiError> {
    let id = engagement_id(path, &caller.request_id)?;
    let engagement = engagements::archive(&state.db, caller.member.firm_id, id)
        .await
        .map_err(|e| caller.fail(e))?;
    Ok(Json(EngagementBody { data: engagement }))
}
