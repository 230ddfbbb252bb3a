//! The decision records' plain HTTP routes, for what server functions do not serve: the ADR zip
//! of an engagement as a download, and importing such a zip (multipart upload). Both take the
//! logged-in member from the session; another firm's engagement is a 404.
use axum::extract::multipart::MultipartRejection;
use axum::extract::{DefaultBodyLimit, Multipart, Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use tower_sessions::Session;

use app::pages::decisions::{ImportReport, SkippedLine, SESSION_IMPORT_REPORT};
use app::state::{AppState, SESSION_USER};
use audit::accounts::Member;

/// The largest ADR zip an import reads.
pub const MAX_IMPORT_BYTES: usize = 10 * 1024 * 1024;

/// An import request may be this large with its form, so that a file somewhat over
/// `MAX_IMPORT_BYTES` still gets the "too large" message rather than a bare refusal.
pub const IMPORT_BODY_LIMIT: usize = MAX_IMPORT_BYTES + 2 * 1024 * 1024;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/engagements/{id}/decisions.zip", get(download_zip))
        .route(
            "/engagements/{id}/decisions/import",
            post(import_zip).layer(DefaultBodyLimit::max(IMPORT_BODY_LIMIT)),
        )
}

/// Is this the import route (which may carry a body over the ordinary limit)?
pub fn is_import_path(path: &str) -> bool {
    path.strip_prefix("/engagements/")
        .and_then(|rest| rest.strip_suffix("/decisions/import"))
        .is_some_and(|id| !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()))
}

/// The logged-in member, if any.
pub(crate) async fn member(state: &AppState, session: &Session) -> Option<Member> {
    let user_id = session.get::<i64>(SESSION_USER).await.ok().flatten()?;
    match audit::accounts::member_by_id(&state.db, user_id).await {
        Ok(member) => member,
        Err(e) => {
            tracing::error!(error = %e, "could not look up the session's member");
            None
        }
    }
}

fn decisions_page(engagement_id: &str) -> String {
    format!("/engagements/{engagement_id}/decisions")
}

pub(crate) fn log_in_first(back: &str) -> Response {
    let target = format!("/login?next={}", audit::fields::query_value(back));
    Redirect::to(&target).into_response()
}

fn not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        "There is no such engagement in your firm.",
    )
        .into_response()
}

fn wants_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("application/json"))
}

/// `GET /engagements/{id}/decisions.zip`: every record as `docs/adr/NNNN-title.md`.
async fn download_zip(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
) -> Response {
    let Ok(engagement_id) = id.parse::<i64>() else {
        return not_found();
    };
    let Some(member) = member(&state, &session).await else {
        return log_in_first(&decisions_page(&id));
    };
    let exported = async {
        audit::engagements::check_firm_engagement(&state.db, member.firm_id, engagement_id).await?;
        audit::decisions::export_decisions_zip(&state.db, member.firm_id, engagement_id).await
    };
    match exported.await {
        Ok((file_name, bytes)) => {
            let ascii: String = file_name
                .chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() || ".-_".contains(c) {
                        c
                    } else {
                        '_'
                    }
                })
                .collect();
            let disposition = format!(
                "attachment; filename=\"{ascii}\"; filename*=UTF-8''{}",
                audit::fields::query_value(&file_name)
            );
            let mut response = bytes.into_response();
            let headers = response.headers_mut();
            headers.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/zip"),
            );
            if let Ok(v) = HeaderValue::from_str(&disposition) {
                headers.insert(header::CONTENT_DISPOSITION, v);
            }
            headers.insert(
                header::CACHE_CONTROL,
                HeaderValue::from_static("private, no-store"),
            );
            response
        }
        Err(audit::Error::NotFound) => not_found(),
        Err(e) => {
            tracing::error!(error = %e, "could not export the decision records");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                app::error::INTERNAL_MESSAGE,
            )
                .into_response()
        }
    }
}

/// An import refused: JSON for scripts, the report on the page for browsers.
async fn refuse(
    session: &Session,
    json: bool,
    engagement_id: i64,
    status: StatusCode,
    code: &str,
    message: String,
) -> Response {
    if json {
        let body =
            serde_json::json!({"error": {"code": code, "message": message, "field": "file"}});
        return (status, Json(body)).into_response();
    }
    let report = ImportReport {
        engagement_id,
        ok: false,
        message,
        imported: Vec::new(),
        skipped: Vec::new(),
    };
    remember(session, &report).await;
    Redirect::to(&decisions_page(&engagement_id.to_string())).into_response()
}

async fn remember(session: &Session, report: &ImportReport) {
    if let Err(e) = session.insert(SESSION_IMPORT_REPORT, report).await {
        tracing::warn!(error = %e, "could not store the import report");
    }
}

fn too_large() -> String {
    format!(
        "The file is too large; an ADR zip can be at most {} MB.",
        MAX_IMPORT_BYTES / 1_048_576
    )
}

/// `POST /engagements/{id}/decisions/import` (multipart: `file`): adds the records of an ADR zip.
/// Answers `{"imported": [...], "skipped": [{path, reason}]}` to `Accept: application/json`;
/// otherwise redirects to the decisions page, which shows the same once.
async fn import_zip(
    State(state): State<AppState>,
    session: Session,
    headers: HeaderMap,
    Path(id): Path<String>,
    multipart: Result<Multipart, MultipartRejection>,
) -> Response {
    let json = wants_json(&headers);
    let Ok(engagement_id) = id.parse::<i64>() else {
        return not_found();
    };
    let Some(member) = member(&state, &session).await else {
        if json {
            let body = serde_json::json!({"error": {
                "code": "unauthenticated",
                "message": "Log in to continue.",
            }});
            return (StatusCode::UNAUTHORIZED, Json(body)).into_response();
        }
        return log_in_first(&decisions_page(&id));
    };
    match audit::engagements::check_firm_engagement(&state.db, member.firm_id, engagement_id).await
    {
        Ok(()) => {}
        Err(audit::Error::NotFound) => {
            if json {
                let body = serde_json::json!({"error": {
                    "code": "not_found",
                    "message": "There is no such engagement in your firm.",
                }});
                return (StatusCode::NOT_FOUND, Json(body)).into_response();
            }
            return not_found();
        }
        Err(e) => {
            tracing::error!(error = %e, "could not check the engagement of an import");
            return refuse(
                &session,
                json,
                engagement_id,
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                app::error::INTERNAL_MESSAGE.to_owned(),
            )
            .await;
        }
    }
    let mut multipart = match multipart {
        Ok(multipart) => multipart,
        Err(_) => {
            return refuse(
                &session,
                json,
                engagement_id,
                StatusCode::BAD_REQUEST,
                "invalid",
                "Send the zip as a multipart form with a field named “file”.".to_owned(),
            )
            .await;
        }
    };
    let mut file = None;
    loop {
        match multipart.next_field().await {
            Ok(Some(field)) if field.name() == Some("file") => {
                let name = field.file_name().unwrap_or_default().to_owned();
                match field.bytes().await {
                    Ok(bytes) => file = Some((name, bytes)),
                    Err(e) => {
                        let (status, code, message) = if e.status() == StatusCode::PAYLOAD_TOO_LARGE
                        {
                            (StatusCode::PAYLOAD_TOO_LARGE, "too_large", too_large())
                        } else {
                            (
                                StatusCode::BAD_REQUEST,
                                "invalid",
                                "The upload could not be read. Try again.".to_owned(),
                            )
                        };
                        return refuse(&session, json, engagement_id, status, code, message).await;
                    }
                }
            }
            Ok(Some(_)) => {}
            Ok(None) => break,
            Err(e) => {
                let (status, code, message) = if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    (StatusCode::PAYLOAD_TOO_LARGE, "too_large", too_large())
                } else {
                    (
                        StatusCode::BAD_REQUEST,
                        "invalid",
                        "The upload could not be read. Try again.".to_owned(),
                    )
                };
                return refuse(&session, json, engagement_id, status, code, message).await;
            }
        }
    }
    // A browser sends an empty, nameless part when no file was chosen.
    let Some((file_name, bytes)) =
        file.filter(|(name, bytes)| !(name.is_empty() && bytes.is_empty()))
    else {
        return refuse(
            &session,
            json,
            engagement_id,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
            "Choose an ADR zip to import first.".to_owned(),
        )
        .await;
    };
    if bytes.len() > MAX_IMPORT_BYTES {
        return refuse(
            &session,
            json,
            engagement_id,
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            too_large(),
        )
        .await;
    }
    // Every zip archive, even an empty one, starts with a local file header or the end record.
    if !(bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(b"PK\x05\x06")) {
        let shown = if file_name.is_empty() {
            "This file".to_owned()
        } else {
            format!("“{file_name}”")
        };
        return refuse(
            &session,
            json,
            engagement_id,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
            format!(
                "{shown} is not a zip archive. Zip the folder holding the records \
                 (e.g. docs/adr) and import that."
            ),
        )
        .await;
    }
    match audit::decisions::import_decisions_zip(&state.db, &member, engagement_id, &bytes).await {
        Ok(import) => {
            if json {
                return (StatusCode::OK, Json(import)).into_response();
            }
            let message = match (import.imported.len(), import.skipped.len()) {
                (0, 0) => "The zip held no decision records (Markdown files) to import.".to_owned(),
                (0, skipped) => format!(
                    "Nothing was imported; {} not read as records (see why below).",
                    files(skipped)
                ),
                (imported, 0) => format!("Imported {}.", records(imported)),
                (imported, skipped) => format!(
                    "Imported {}; {} not read as records (see why below).",
                    records(imported),
                    files(skipped)
                ),
            };
            let report = ImportReport {
                engagement_id,
                ok: !import.imported.is_empty() && import.skipped.is_empty(),
                message,
                imported: import.imported,
                skipped: import
                    .skipped
                    .into_iter()
                    .map(|s| SkippedLine {
                        path: s.path,
                        reason: s.reason,
                    })
                    .collect(),
            };
            remember(&session, &report).await;
            Redirect::to(&decisions_page(&id)).into_response()
        }
        Err(audit::Error::Invalid(errors)) => {
            let message = errors
                .iter()
                .map(|e| e.message.as_str())
                .collect::<Vec<_>>()
                .join(" ");
            refuse(
                &session,
                json,
                engagement_id,
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid",
                message,
            )
            .await
        }
        Err(audit::Error::Conflict { message, .. }) => {
            refuse(
                &session,
                json,
                engagement_id,
                StatusCode::CONFLICT,
                "conflict",
                message,
            )
            .await
        }
        Err(audit::Error::NotFound) => not_found(),
        Err(e) => {
            tracing::error!(error = %e, "could not import an ADR zip");
            refuse(
                &session,
                json,
                engagement_id,
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                app::error::INTERNAL_MESSAGE.to_owned(),
            )
            .await
        }
    }
}

fn records(n: usize) -> String {
    if n == 1 {
        "1 record".to_owned()
    } else {
        format!("{n} records")
    }
}

fn files(n: usize) -> String {
    if n == 1 {
        "1 file was".to_owned()
    } else {
        format!("{n} files were")
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn only_the_import_route_is_an_import_path() {
        assert!(super::is_import_path("/engagements/12/decisions/import"));
        assert!(!super::is_import_path("/engagements//decisions/import"));
        assert!(!super::is_import_path("/engagements/x/decisions/import"));
        assert!(!super::is_import_path("/engagements/12/decisions"));
        assert!(!super::is_import_path("/evidence"));
    }
}
