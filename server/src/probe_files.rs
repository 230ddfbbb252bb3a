//! The probes page's file uploads (multipart), which server functions do not serve: repository
//! archives and log files for the repository probe and the log import. The member comes from the
//! session; another firm's engagement is a 404. A browser is sent back to the probes page with
//! the outcome in the URL (`?uploaded=2` or `?upload_error=…`), so it works without JavaScript.
use axum::extract::multipart::MultipartRejection;
use axum::extract::{DefaultBodyLimit, Multipart, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::post;
use axum::Router;
use tower_sessions::Session;

use crate::decision_files::{log_in_first, member};
use app::state::AppState;
use audit::activity::Actor;
use audit::probes::store::{save_upload, MAX_UPLOAD_BYTES};
use audit::probes::ProbeKind;

/// A request may carry several files with its form; each is capped by the store.
pub const UPLOAD_BODY_LIMIT: usize = MAX_UPLOAD_BYTES + 2 * 1024 * 1024;

pub fn router() -> Router<AppState> {
    Router::new().route(
        "/engagements/{id}/probe-uploads",
        post(upload).layer(DefaultBodyLimit::max(UPLOAD_BODY_LIMIT)),
    )
}

pub fn is_upload_path(path: &str) -> bool {
    path.strip_prefix("/engagements/")
        .and_then(|rest| rest.strip_suffix("/probe-uploads"))
        .is_some_and(|id| !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()))
}

fn probes_page(engagement_id: &str) -> String {
    format!("/engagements/{engagement_id}/probes")
}

fn back_with_error(engagement_id: &str, message: &str) -> Response {
    Redirect::to(&format!(
        "{}?upload_error={}#uploads",
        probes_page(engagement_id),
        audit::fields::query_value(message)
    ))
    .into_response()
}

/// `POST /engagements/{id}/probe-uploads` (multipart: `kind` = logs | repository, then one or
/// more `file` fields).
async fn upload(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
    multipart: Result<Multipart, MultipartRejection>,
) -> Response {
    let Ok(engagement_id) = id.parse::<i64>() else {
        return (
            StatusCode::NOT_FOUND,
            "There is no such engagement in your firm.",
        )
            .into_response();
    };
    let Some(member) = member(&state, &session).await else {
        return log_in_first(&probes_page(&id));
    };
    let Ok(mut multipart) = multipart else {
        return back_with_error(&id, "Send the files as a form with a field named “file”.");
    };
    let actor = Actor::from(&member);
    let mut kind = None;
    let mut saved = 0;
    loop {
        match multipart.next_field().await {
            Ok(Some(field)) if field.name() == Some("kind") => {
                let text = field.text().await.unwrap_or_default();
                kind = ProbeKind::parse(&text);
            }
            Ok(Some(field)) if field.name() == Some("file") => {
                let Some(kind) = kind else {
                    return back_with_error(
                        &id,
                        "Say whether the files are logs or a repository archive.",
                    );
                };
                let name = field.file_name().unwrap_or_default().to_owned();
                let bytes = match field.bytes().await {
                    Ok(bytes) => bytes,
                    Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                        return back_with_error(
                            &id,
                            &format!(
                                "The upload is too large; files can be at most {} MB.",
                                MAX_UPLOAD_BYTES / 1_048_576
                            ),
                        )
                    }
                    Err(_) => {
                        return back_with_error(&id, "The upload could not be read. Try again.")
                    }
                };
                if bytes.is_empty() && name.is_empty() {
                    continue; // the form was sent without choosing a file
                }
                match save_upload(
                    &state.db,
                    &actor,
                    member.firm_id,
                    engagement_id,
                    kind,
                    &name,
                    &bytes,
                )
                .await
                {
                    Ok(_) => saved += 1,
                    Err(audit::Error::NotFound) => {
                        return (
                            StatusCode::NOT_FOUND,
                            "There is no such engagement in your firm.",
                        )
                            .into_response()
                    }
                    Err(audit::Error::Invalid(errors)) => {
                        let message = errors
                            .first()
                            .map(|e| e.message.clone())
                            .unwrap_or_default();
                        return back_with_error(&id, &message);
                    }
                    Err(e) => {
                        tracing::error!(error = %e, "could not store a probe upload");
                        return back_with_error(&id, app::error::INTERNAL_MESSAGE);
                    }
                }
            }
            Ok(Some(_)) => {}
            Ok(None) => break,
            Err(_) => return back_with_error(&id, "The upload could not be read. Try again."),
        }
    }
    if saved == 0 {
        return back_with_error(&id, "Choose a file to upload.");
    }
    Redirect::to(&format!("{}?uploaded={saved}#uploads", probes_page(&id))).into_response()
}
