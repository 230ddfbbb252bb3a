//! `/api/v1/engagements/{engagement_id}/decisions`: architecture decision records, and
//! `decisions.zip` to export them as `docs/adr/` files or import such an archive. Another firm's
//! engagement reads as not found.
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection};
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;
use utoipa::ToSchema;

use super::error::{ErrorBody, ErrorDetail};
use super::findings::{engagement_path, item_path, stale_error, CountMeta};
use super::{ApiError, ApiJson, Caller};
use app::state::AppState;
use audit::decisions::{self as domain, Decision, DecisionInput};

/// The largest archive `POST …/decisions.zip` reads. The ordinary body limit is smaller;
/// `middleware::limit_body` lets this route through to this limit.
pub const DECISIONS_ZIP_LIMIT: usize = 10 * 1024 * 1024;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/api/v1/engagements/{engagement_id}/decisions",
            get(list_decisions).post(create_decision),
        )
        .route(
            "/api/v1/engagements/{engagement_id}/decisions.zip",
            get(export_decisions)
                .post(import_decisions)
                .layer(DefaultBodyLimit::max(DECISIONS_ZIP_LIMIT)),
        )
        .route(
            "/api/v1/engagements/{engagement_id}/decisions/{decision_id}",
            get(get_decision).patch(update_decision),
        )
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DecisionList {
    /// By number.
    pub data: Vec<Decision>,
    pub meta: CountMeta,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DecisionBody {
    pub data: Decision,
}

/// 409 for a stale edit: the standard error body plus the record as it is stored now.
#[derive(Debug, Serialize, ToSchema)]
pub struct StaleDecisionBody {
    pub error: ErrorDetail,
    pub current: Decision,
}

/// A zip archive of `docs/adr/NNNN-title.md` files (MADR or Nygard).
#[derive(Debug, ToSchema)]
#[schema(value_type = String, format = Binary)]
pub struct ZipArchive(pub Vec<u8>);

impl IntoResponse for ZipArchive {
    fn into_response(self) -> Response {
        (
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/zip"),
            )],
            self.0,
        )
            .into_response()
    }
}

/// A file of the archive that did not become a record.
#[derive(Debug, Serialize, ToSchema)]
pub struct SkippedFileView {
    /// The file's path inside the archive.
    pub path: String,
    /// Why it was left out.
    pub reason: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DecisionImportView {
    /// "ADR-0003 Use PostgreSQL", one per record imported.
    pub imported: Vec<String>,
    pub skipped: Vec<SkippedFileView>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DecisionImportBody {
    pub data: DecisionImportView,
}

#[utoipa::path(get, path = "/api/v1/engagements/{engagement_id}/decisions", tag = "decisions",
    params(("engagement_id" = i64, Path, description = "Engagement id")),
    responses((status = 200, body = DecisionList), (status = 401, body = ErrorBody),
              (status = 404, body = ErrorBody)))]
pub async fn list_decisions(
    State(state): State<AppState>,
    caller: Caller,
    path: Result<Path<i64>, PathRejection>,
) -> Result<Json<DecisionList>, ApiError> {
    let id = engagement_path(path, &caller.request_id)?;
    let decisions = domain::list_decisions(&state.db, caller.member.firm_id, id)
        .await
        .map_err(|e| caller.fail(e))?;
    Ok(Json(DecisionList {
        meta: CountMeta {
            count: decisions.len(),
        },
        data: decisions,
    }))
}

#[utoipa::path(post, path = "/api/v1/engagements/{engagement_id}/decisions", tag = "decisions",
    request_body = DecisionInput,
    params(("engagement_id" = i64, Path, description = "Engagement id")),
    responses((status = 201, description = "Written; an accepted record that supersedes another marks that one superseded", body = DecisionBody),
              (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
              (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_decision(
    State(state): State<AppState>,
    caller: Caller,
    path: Result<Path<i64>, PathRejection>,
    ApiJson(input): ApiJson<DecisionInput>,
) -> Result<(StatusCode, Json<DecisionBody>), ApiError> {
    let id = engagement_path(path, &caller.request_id)?;
    let decision = domain::create_decision(&state.db, &caller.member, id, &input)
        .await
        .map_err(|e| caller.fail(e))?;
    Ok((StatusCode::CREATED, Json(DecisionBody { data: decision })))
}

#[utoipa::path(get, path = "/api/v1/engagements/{engagement_id}/decisions/{decision_id}",
    tag = "decisions",
    params(("engagement_id" = i64, Path, description = "Engagement id"),
           ("decision_id" = i64, Path, description = "Decision record id")),
    responses((status = 200, body = DecisionBody), (status = 401, body = ErrorBody),
              (status = 404, body = ErrorBody)))]
pub async fn get_decision(
    State(state): State<AppState>,
    caller: Caller,
    path: Result<Path<(i64, i64)>, PathRejection>,
) -> Result<Json<DecisionBody>, ApiError> {
    let (id, decision_id) = item_path(path, &caller.request_id)?;
    let decision = domain::get_decision(&state.db, caller.member.firm_id, id, decision_id)
        .await
        .map_err(|e| caller.fail(e))?;
    Ok(Json(DecisionBody { data: decision }))
}

#[utoipa::path(patch, path = "/api/v1/engagements/{engagement_id}/decisions/{decision_id}",
    tag = "decisions", request_body = DecisionInput,
    params(("engagement_id" = i64, Path, description = "Engagement id"),
           ("decision_id" = i64, Path, description = "Decision record id")),
    responses((status = 200, body = DecisionBody), (status = 400, body = ErrorBody),
              (status = 401, body = ErrorBody), (status = 404, body = ErrorBody),
              (status = 409, description = "Someone saved a newer version first; nothing was written", body = StaleDecisionBody),
              (status = 422, body = ErrorBody)))]
pub async fn update_decision(
    State(state): State<AppState>,
    caller: Caller,
    path: Result<Path<(i64, i64)>, PathRejection>,
    ApiJson(input): ApiJson<DecisionInput>,
) -> Result<Response, ApiError> {
    let (id, decision_id) = item_path(path, &caller.request_id)?;
    match domain::update_decision(&state.db, &caller.member, id, decision_id, &input).await {
        Ok(decision) => Ok(Json(DecisionBody { data: decision }).into_response()),
        Err(conflict @ audit::Error::Conflict { .. }) => {
            let current = domain::get_decision(&state.db, caller.member.firm_id, id, decision_id)
                .await
                .map_err(|e| caller.fail(e))?;
            if current.version == input.version {
                return Err(caller.fail(conflict));
            }
            let body = StaleDecisionBody {
                error: stale_error(&caller, "decision record", input.version, current.version),
                current,
            };
            Ok((StatusCode::CONFLICT, Json(body)).into_response())
        }
        Err(e) => Err(caller.fail(e)),
    }
}

/// A file name safe to put between the quotes of `Content-Disposition`.
fn attachment_name(name: &str) -> String {
    let safe: String = name
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        .collect();
    if safe.trim_matches('.').is_empty() {
        "decisions.zip".to_owned()
    } else {
        safe
    }
}

#[utoipa::path(get, path = "/api/v1/engagements/{engagement_id}/decisions.zip",
    tag = "decisions",
    params(("engagement_id" = i64, Path, description = "Engagement id")),
    responses((status = 200, description = "The records as `docs/adr/NNNN-title.md` files (MADR), as an attachment",
               content_type = "application/zip", body = ZipArchive),
              (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn export_decisions(
    State(state): State<AppState>,
    caller: Caller,
    path: Result<Path<i64>, PathRejection>,
) -> Result<Response, ApiError> {
    let id = engagement_path(path, &caller.request_id)?;
    let (file_name, bytes) = domain::export_decisions_zip(&state.db, caller.member.firm_id, id)
        .await
        .map_err(|e| caller.fail(e))?;
    let disposition = format!("attachment; filename=\"{}\"", attachment_name(&file_name));
    let mut response = ZipArchive(bytes).into_response();
    if let Ok(value) = HeaderValue::from_str(&disposition) {
        response
            .headers_mut()
            .insert(header::CONTENT_DISPOSITION, value);
    }
    Ok(response)
}

/// Content types an archive may come with; none at all is accepted too.
const ZIP_TYPES: [&str; 4] = [
    "application/zip",
    "application/x-zip-compressed",
    "application/x-zip",
    "application/octet-stream",
];

#[utoipa::path(post, path = "/api/v1/engagements/{engagement_id}/decisions.zip",
    tag = "decisions",
    request_body(content = ZipArchive, content_type = "application/zip",
                 description = "A zip of ADR files (MADR or Nygard), at most 10 MB"),
    params(("engagement_id" = i64, Path, description = "Engagement id")),
    responses((status = 200, description = "What was imported and which files were skipped, with why", body = DecisionImportBody),
              (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
              (status = 404, body = ErrorBody), (status = 413, body = ErrorBody),
              (status = 415, body = ErrorBody),
              (status = 422, description = "The body is not a zip archive", body = ErrorBody)))]
pub async fn import_decisions(
    State(state): State<AppState>,
    caller: Caller,
    path: Result<Path<i64>, PathRejection>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<DecisionImportBody>, ApiError> {
    let id = engagement_path(path, &caller.request_id)?;
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .map(|v| v.to_str().unwrap_or_default().to_ascii_lowercase());
    if let Some(content_type) = content_type {
        let essence = content_type.split(';').next().unwrap_or_default().trim();
        if !ZIP_TYPES.contains(&essence) {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "Send the archive itself as the body, with Content-Type: application/zip.",
            )
            .with_request_id(caller.request_id.clone()));
        }
    }
    let bytes = body.map_err(|rejection| {
        let e = if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                "The archive is larger than 10 MB.",
            )
        } else {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "bad_request",
                "The request body could not be read.",
            )
        };
        e.with_request_id(caller.request_id.clone())
    })?;
    let import = domain::import_decisions_zip(&state.db, &caller.member, id, &bytes)
        .await
        .map_err(|e| caller.fail(e))?;
    Ok(Json(DecisionImportBody {
        data: DecisionImportView {
            imported: import.imported,
            skipped: import
                .skipped
                .into_iter()
                .map(|s| SkippedFileView {
                    path: s.path,
                    reason: s.reason,
                })
                .collect(),
        },
    }))
}
