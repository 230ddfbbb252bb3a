//! `/api/v1/engagements/{engagement_id}/interventions`: the interventions in the order shown
//! (computed: dependencies first, then priority; or pinned by hand), optionally laid into a
//! roadmap for a team; writing, editing, deleting, suggesting from findings, and pinning the
//! order. Another firm's engagement reads as not found.
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::error::{ErrorBody, ErrorDetail};
use super::findings::{engagement_path, item_path, not_found, stale_error};
use super::{ApiError, ApiJson, Caller};
use app::state::AppState;
use audit::interventions::{
    self as domain, Intervention, InterventionInput, InterventionPlan, InterventionSuggestReport,
    RoadmapInput, RoadmapView,
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/api/v1/engagements/{engagement_id}/interventions",
            get(list_interventions).post(create_intervention),
        )
        .route(
            "/api/v1/engagements/{engagement_id}/interventions/suggest",
            post(suggest_interventions),
        )
        .route(
            "/api/v1/engagements/{engagement_id}/interventions/order",
            put(pin_order).delete(clear_pinned_order),
        )
        .route(
            "/api/v1/engagements/{engagement_id}/interventions/{intervention_id}",
            get(get_intervention)
                .patch(update_intervention)
                .delete(delete_intervention),
        )
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct PlanParams {
    /// Engineers available, 1 to 100: lays the interventions into a roadmap for them.
    capacity: Option<String>,
    /// The roadmap's first day, YYYY-MM-DD (default today); only with `capacity`.
    start: Option<String>,
}

/// One intervention in the order shown.
#[derive(Debug, Serialize, ToSchema)]
pub struct PlannedIntervention {
    #[serde(flatten)]
    pub intervention: Intervention,
    /// 1-based place in the order shown.
    pub position: usize,
}

/// Where the order shown departs from the computed one.
#[derive(Debug, Serialize, ToSchema)]
pub struct Departure {
    pub intervention_id: i64,
    /// 1-based place in the computed order.
    pub computed_position: usize,
    /// 1-based place in the order shown.
    pub shown_position: usize,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PlanMeta {
    pub count: usize,
    /// Intervention ids in the computed order: dependencies first, then highest priority.
    pub computed_order: Vec<i64>,
    /// Whether the order shown was pinned by hand.
    pub pinned: bool,
    /// Where the order shown departs from the computed one (empty unless pinned).
    pub departures: Vec<Departure>,
    /// A dependency circle that slipped in (ids, each depending on the next); the order then
    /// falls back to numbers. Null normally.
    pub cycle: Option<Vec<i64>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct InterventionList {
    pub data: Vec<PlannedIntervention>,
    pub meta: PlanMeta,
    /// Only when `capacity` was asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub roadmap: Option<RoadmapView>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct InterventionBody {
    pub data: Intervention,
}

/// 409 for a stale edit: the standard error body plus the intervention as it is stored now.
#[derive(Debug, Serialize, ToSchema)]
pub struct StaleInterventionBody {
    pub error: ErrorDetail,
    pub current: Intervention,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct InterventionSuggestBody {
    pub data: InterventionSuggestReport,
}

/// A hand-pinned order: every intervention id, first one first.
#[derive(Debug, Deserialize, ToSchema)]
pub struct PinOrderRequest {
    pub order: Vec<i64>,
}

fn plan_list(plan: InterventionPlan, roadmap: Option<RoadmapView>) -> InterventionList {
    let meta = PlanMeta {
        count: plan.interventions.len(),
        computed_order: plan.computed_order,
        pinned: plan.pinned,
        departures: plan
            .departures
            .into_iter()
            .map(|d| Departure {
                intervention_id: d.id,
                computed_position: d.computed_position,
                shown_position: d.shown_position,
            })
            .collect(),
        cycle: plan.cycle.map(|c| c.ids),
    };
    let data = plan
        .interventions
        .into_iter()
        .enumerate()
        .map(|(index, intervention)| PlannedIntervention {
            intervention,
            position: index + 1,
        })
        .collect();
    InterventionList {
        data,
        meta,
        roadmap,
    }
}

async fn find_intervention(
    state: &AppState,
    caller: &Caller,
    engagement_id: i64,
    intervention_id: i64,
) -> Result<Intervention, ApiError> {
    domain::list_interventions(&state.db, caller.member.firm_id, engagement_id)
        .await
        .map_err(|e| caller.fail(e))?
        .into_iter()
        .find(|i| i.intervention_id == intervention_id)
        .ok_or_else(|| not_found(&caller.request_id))
}

#[utoipa::path(get, path = "/api/v1/engagements/{engagement_id}/interventions",
    tag = "interventions",
    params(("engagement_id" = i64, Path, description = "Engagement id"), PlanParams),
    responses((status = 200, description = "In the order shown, with the roadmap when `capacity` is given", body = InterventionList),
              (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
              (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn list_interventions(
    State(state): State<AppState>,
    caller: Caller,
    path: Result<Path<i64>, PathRejection>,
    params: Result<Query<PlanParams>, QueryRejection>,
) -> Result<Json<InterventionList>, ApiError> {
    let id = engagement_path(path, &caller.request_id)?;
    let Query(params) = params.map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "bad_query",
            format!("The query string is invalid: {}", e.body_text()),
        )
        .with_request_id(caller.request_id.clone())
    })?;
    let firm_id = caller.member.firm_id;
    let list = match (params.capacity, params.start) {
        (None, None) => {
            let plan = domain::intervention_plan(&state.db, firm_id, id)
                .await
                .map_err(|e| caller.fail(e))?;
            plan_list(plan, None)
        }
        (None, Some(_)) => {
            return Err(caller.fail(audit::Error::invalid(
                "capacity",
                "Give the engineers available as capacity to lay out a roadmap from start.",
            )))
        }
        (Some(capacity), start) => {
            let input = RoadmapInput {
                capacity,
                start: start.unwrap_or_default(),
            };
            let (capacity, start) = input
                .parse()
                .map_err(|e| caller.fail(audit::Error::Invalid(e)))?;
            let (plan, roadmap) = domain::roadmap(&state.db, firm_id, id, capacity, start)
                .await
                .map_err(|e| caller.fail(e))?;
            plan_list(plan, Some(roadmap))
        }
    };
    Ok(Json(list))
}

#[utoipa::path(post, path = "/api/v1/engagements/{engagement_id}/interventions",
    tag = "interventions", request_body = InterventionInput,
    params(("engagement_id" = i64, Path, description = "Engagement id")),
    responses((status = 201, body = InterventionBody), (status = 400, body = ErrorBody),
              (status = 401, body = ErrorBody), (status = 404, body = ErrorBody),
              (status = 422, description = "Invalid, or a dependency circle (`depends_on`)", body = ErrorBody)))]
pub async fn create_intervention(
    State(state): State<AppState>,
    caller: Caller,
    path: Result<Path<i64>, PathRejection>,
    ApiJson(input): ApiJson<InterventionInput>,
) -> Result<(StatusCode, Json<InterventionBody>), ApiError> {
    let id = engagement_path(path, &caller.request_id)?;
    let intervention = domain::create_intervention(&state.db, &caller.member, id, &input)
        .await
        .map_err(|e| caller.fail(e))?;
    Ok((
        StatusCode::CREATED,
        Json(InterventionBody { data: intervention }),
    ))
}

#[utoipa::path(get, path = "/api/v1/engagements/{engagement_id}/interventions/{intervention_id}",
    tag = "interventions",
    params(("engagement_id" = i64, Path, description = "Engagement id"),
           ("intervention_id" = i64, Path, description = "Intervention id")),
    responses((status = 200, body = InterventionBody), (status = 401, body = ErrorBody),
              (status = 404, body = ErrorBody)))]
pub async fn get_intervention(
    State(state): State<AppState>,
    caller: Caller,
    path: Result<Path<(i64, i64)>, PathRejection>,
) -> Result<Json<InterventionBody>, ApiError> {
    let (id, intervention_id) = item_path(path, &caller.request_id)?;
    let intervention = find_intervention(&state, &caller, id, intervention_id).await?;
    Ok(Json(InterventionBody { data: intervention }))
}

#[utoipa::path(patch, path = "/api/v1/engagements/{engagement_id}/interventions/{intervention_id}",
    tag = "interventions", request_body = InterventionInput,
    params(("engagement_id" = i64, Path, description = "Engagement id"),
           ("intervention_id" = i64, Path, description = "Intervention id")),
    responses((status = 200, body = InterventionBody), (status = 400, body = ErrorBody),
              (status = 401, body = ErrorBody), (status = 404, body = ErrorBody),
              (status = 409, description = "Someone saved a newer version first; nothing was written", body = StaleInterventionBody),
              (status = 422, description = "Invalid, or a dependency circle (`depends_on`, naming it)", body = ErrorBody)))]
pub async fn update_intervention(
    State(state): State<AppState>,
    caller: Caller,
    path: Result<Path<(i64, i64)>, PathRejection>,
    ApiJson(input): ApiJson<InterventionInput>,
) -> Result<Response, ApiError> {
    let (id, intervention_id) = item_path(path, &caller.request_id)?;
    match domain::update_intervention(&state.db, &caller.member, id, intervention_id, &input).await
    {
        Ok(intervention) => Ok(Json(InterventionBody { data: intervention }).into_response()),
        Err(conflict @ audit::Error::Conflict { .. }) => {
            let current = find_intervention(&state, &caller, id, intervention_id).await?;
            if current.version == input.version {
                return Err(caller.fail(conflict));
            }
            let body = StaleInterventionBody {
                error: stale_error(&caller, "intervention", input.version, current.version),
                current,
            };
            Ok((StatusCode::CONFLICT, Json(body)).into_response())
        }
        Err(e) => Err(caller.fail(e)),
    }
}

#[utoipa::path(delete, path = "/api/v1/engagements/{engagement_id}/interventions/{intervention_id}",
    tag = "interventions",
    params(("engagement_id" = i64, Path, description = "Engagement id"),
           ("intervention_id" = i64, Path, description = "Intervention id")),
    responses((status = 204, description = "Deleted"), (status = 401, body = ErrorBody),
              (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn delete_intervention(
    State(state): State<AppState>,
    caller: Caller,
    path: Result<Path<(i64, i64)>, PathRejection>,
) -> Result<StatusCode, ApiError> {
    let (id, intervention_id) = item_path(path, &caller.request_id)?;
    domain::delete_intervention(&state.db, &caller.member, id, intervention_id)
        .await
        .map_err(|e| caller.fail(e))?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/api/v1/engagements/{engagement_id}/interventions/suggest",
    tag = "interventions",
    params(("engagement_id" = i64, Path, description = "Engagement id")),
    responses((status = 200, description = "Interventions from the question bank for the open findings", body = InterventionSuggestBody),
              (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn suggest_interventions(
    State(state): State<AppState>,
    caller: Caller,
    path: Result<Path<i64>, PathRejection>,
) -> Result<Json<InterventionSuggestBody>, ApiError> {
    let id = engagement_path(path, &caller.request_id)?;
    let report = domain::suggest_interventions(&state.db, &caller.member, id)
        .await
        .map_err(|e| caller.fail(e))?;
    Ok(Json(InterventionSuggestBody { data: report }))
}

#[utoipa::path(put, path = "/api/v1/engagements/{engagement_id}/interventions/order",
    tag = "interventions", request_body = PinOrderRequest,
    params(("engagement_id" = i64, Path, description = "Engagement id")),
    responses((status = 200, description = "Pinned; the list in the new order", body = InterventionList),
              (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
              (status = 404, body = ErrorBody),
              (status = 422, description = "The order puts an intervention before one it depends on, or names unknown ids", body = ErrorBody)))]
pub async fn pin_order(
    State(state): State<AppState>,
    caller: Caller,
    path: Result<Path<i64>, PathRejection>,
    ApiJson(request): ApiJson<PinOrderRequest>,
) -> Result<Json<InterventionList>, ApiError> {
    let id = engagement_path(path, &caller.request_id)?;
    let plan = domain::pin_order(&state.db, &caller.member, id, &request.order)
        .await
        .map_err(|e| caller.fail(e))?;
    Ok(Json(plan_list(plan, None)))
}

#[utoipa::path(delete, path = "/api/v1/engagements/{engagement_id}/interventions/order",
    tag = "interventions",
    params(("engagement_id" = i64, Path, description = "Engagement id")),
    responses((status = 200, description = "Back to the computed order", body = InterventionList),
              (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn clear_pinned_order(
    State(state): State<AppState>,
    caller: Caller,
    path: Result<Path<i64>, PathRejection>,
) -> Result<Json<InterventionList>, ApiError> {
    let id = engagement_path(path, &caller.request_id)?;
    let plan = domain::clear_pinned_order(&state.db, &caller.member, id)
        .await
        .map_err(|e| caller.fail(e))?;
    Ok(Json(plan_list(plan, None)))
}
