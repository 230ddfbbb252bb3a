//! The questionnaire's plain HTTP routes, for what server functions do not serve: the area form
//! post of browsers without JavaScript, evidence uploads (multipart) and evidence downloads.
use std::collections::HashMap;

use axum::extract::{DefaultBodyLimit, Multipart, Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use tower_sessions::Session;

use app::pages::questionnaire::{Flash, SESSION_FLASH};
use app::state::{AppState, SESSION_FOUNDER, SESSION_FOUNDER_SINCE, SESSION_USER};
use audit::questionnaire::{
    self as q, AnswerInput, Area, Respondent, SaveOutcome, MAX_EVIDENCE_BYTES,
};

/// Requests to `/evidence` may carry a file this large with its form; the domain refuses
/// files over `MAX_EVIDENCE_BYTES` with a message, so a slightly larger file still gets one.
pub const EVIDENCE_BODY_LIMIT: usize = 3 * MAX_EVIDENCE_BYTES;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/questionnaire/save", post(save_area))
        .route(
            "/evidence",
            post(upload_evidence).layer(DefaultBodyLimit::max(EVIDENCE_BODY_LIMIT)),
        )
        .route("/evidence/{evidence_file_id}", get(download_evidence))
}

/// Who is asking: a logged-in member, else a founder with a valid invitation.
async fn respondent(state: &AppState, session: &Session) -> Option<Respondent> {
    if let Ok(Some(user_id)) = session.get::<i64>(SESSION_USER).await {
        if let Ok(Some(member)) = audit::accounts::member_by_id(&state.db, user_id).await {
            return Some(Respondent::Member(member));
        }
    }
    if let Ok(Some(id)) = session.get::<i64>(SESSION_FOUNDER).await {
        let since = session
            .get::<i64>(SESSION_FOUNDER_SINCE)
            .await
            .ok()
            .flatten()
            .unwrap_or(0);
        if let Ok(Some(founder)) = q::founder_access(&state.db, id, since).await {
            return Some(Respondent::Founder(founder));
        }
    }
    None
}

async fn flash(session: &Session, ok: bool, text: impl Into<String>) {
    let flash = Flash {
        ok,
        text: text.into(),
    };
    if let Err(e) = session.insert(SESSION_FLASH, flash).await {
        tracing::warn!(error = %e, "could not store the flash message");
    }
}

fn not_signed_in() -> Response {
    Redirect::to("/questionnaire").into_response()
}

/// The area form without JavaScript: saves each question whose answer differs from what is
/// stored, with the version the page was shown with, and reports stale ones instead of
/// overwriting them.
async fn save_area(
    State(state): State<AppState>,
    session: Session,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    let Some(Respondent::Founder(founder)) = respondent(&state, &session).await else {
        return not_signed_in();
    };
    let form: HashMap<String, String> = fields.into_iter().collect();
    let area = form.get("area").and_then(|a| Area::parse(a));
    let go = form.get("go").and_then(|a| Area::parse(a)).or(area);
    let back = format!(
        "/questionnaire?area={}",
        go.unwrap_or(Area::Observability).as_str()
    );
    let who = Respondent::Founder(founder.clone());
    let questionnaire = match q::questionnaire(&state.db, &who, founder.engagement_id).await {
        Ok(questionnaire) => questionnaire,
        Err(e) => {
            tracing::error!(error = %e, "could not load the questionnaire for a form post");
            flash(&session, false, app::error::INTERNAL_MESSAGE).await;
            return Redirect::to(&back).into_response();
        }
    };
    let Some(area_bank) = area.and_then(|a| questionnaire.bank.area(a)) else {
        flash(
            &session,
            false,
            "The form named no area; nothing was saved.",
        )
        .await;
        return Redirect::to(&back).into_response();
    };
    let (mut saved, mut stale, mut refused) = (0, Vec::new(), Vec::new());
    for question in &area_bank.questions {
        let stored = questionnaire.answer(&question.id);
        let field = |name: &str| form.get(&format!("{name}:{}", question.id)).cloned();
        let input = AnswerInput {
            question_id: question.id.clone(),
            // A radio group cannot be cleared without JavaScript: no choice keeps the stored one.
            choice: field("choice")
                .or_else(|| stored.and_then(|a| a.choice).map(|c| c.as_str().to_owned()))
                .unwrap_or_default(),
            notes: field("notes").unwrap_or_default(),
            links: field("links").unwrap_or_default(),
            version: field("version")
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(0),
        };
        let unchanged = match stored {
            Some(a) => {
                a.choice.map(|c| c.as_str()).unwrap_or("") == input.choice
                    && a.notes == input.notes.trim()
                    && a.links.join("\n") == input.links.trim().replace("\r\n", "\n")
            }
            None => {
                input.choice.is_empty()
                    && input.notes.trim().is_empty()
                    && input.links.trim().is_empty()
            }
        };
        if unchanged {
            continue;
        }
        match q::save_answer(&state.db, &who, founder.engagement_id, &input).await {
            Ok(SaveOutcome::Saved { .. }) => saved += 1,
            Ok(SaveOutcome::Stale { .. }) => stale.push(question.prompt.clone()),
            Err(audit::Error::Invalid(errors)) => refused.push(format!(
                "“{}”: {}",
                question.prompt,
                errors
                    .iter()
                    .map(|e| e.message.as_str())
                    .collect::<Vec<_>>()
                    .join(" ")
            )),
            Err(audit::Error::Conflict { message, .. }) => refused.push(message),
            Err(e) => {
                tracing::error!(error = %e, "could not save an answer from a form post");
                refused.push(app::error::INTERNAL_MESSAGE.to_owned());
            }
        }
    }
    let mut text = match saved {
        0 => "Nothing changed.".to_owned(),
        1 => "Saved 1 answer.".to_owned(),
        n => format!("Saved {n} answers."),
    };
    if !stale.is_empty() {
        text.push_str(&format!(
            " Someone else changed these answers while you were answering, so yours were not saved; \
             they now show the newer answer: {}.",
            stale.join("; ")
        ));
    }
    if !refused.is_empty() {
        text.push_str(&format!(" Not saved: {}", refused.join(" ")));
    }
    flash(&session, stale.is_empty() && refused.is_empty(), text).await;
    Redirect::to(&back).into_response()
}

fn wants_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("application/json"))
}

/// An upload refused or failed: JSON for scripts, a message on the page for browsers.
async fn upload_problem(
    session: &Session,
    json: bool,
    status: StatusCode,
    message: String,
    back: &str,
) -> Response {
    if json {
        let body =
            serde_json::json!({"error": {"code": "invalid", "message": message, "field": "file"}});
        return (status, Json(body)).into_response();
    }
    flash(session, false, message).await;
    Redirect::to(back).into_response()
}

/// `POST /evidence` (multipart: `question_id`, `file`): attaches a file to an answer.
async fn upload_evidence(
    State(state): State<AppState>,
    session: Session,
    headers: HeaderMap,
    mut multipart: Multipart,
) -> Response {
    let json = wants_json(&headers);
    let Some(who) = respondent(&state, &session).await else {
        return StatusCode::NOT_FOUND.into_response();
    };
    // A founder's engagement comes from the session; a member names it in the form.
    let (mut question_id, mut named_engagement, mut file) = (String::new(), 0_i64, None);
    loop {
        match multipart.next_field().await {
            Ok(Some(field)) => match field.name() {
                Some("question_id") => question_id = field.text().await.unwrap_or_default(),
                Some("engagement_id") => {
                    named_engagement = field
                        .text()
                        .await
                        .ok()
                        .and_then(|v| v.trim().parse().ok())
                        .unwrap_or(0)
                }
                Some("file") => {
                    let name = field.file_name().unwrap_or("evidence").to_owned();
                    match field.bytes().await {
                        Ok(bytes) => file = Some((name, bytes)),
                        Err(_) => {
                            let message = format!(
                                "The file is too large; files can be at most {} MB.",
                                MAX_EVIDENCE_BYTES / 1_048_576
                            );
                            return upload_problem(
                                &session,
                                json,
                                StatusCode::PAYLOAD_TOO_LARGE,
                                message,
                                "/questionnaire",
                            )
                            .await;
                        }
                    }
                }
                _ => {}
            },
            Ok(None) => break,
            Err(e) => {
                let (status, message) = if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    (
                        StatusCode::PAYLOAD_TOO_LARGE,
                        format!(
                            "The file is too large; files can be at most {} MB.",
                            MAX_EVIDENCE_BYTES / 1_048_576
                        ),
                    )
                } else {
                    (
                        StatusCode::BAD_REQUEST,
                        "The upload could not be read. Try again.".to_owned(),
                    )
                };
                return upload_problem(&session, json, status, message, "/questionnaire").await;
            }
        }
    }
    let engagement_id = match &who {
        Respondent::Founder(f) => f.engagement_id,
        Respondent::Member(_) => named_engagement,
    };
    let back = match &who {
        Respondent::Founder(_) => {
            let area = question_id.split('.').next().unwrap_or("observability");
            format!(
                "/questionnaire?area={}#q-{}",
                Area::parse(area).unwrap_or(Area::Observability).as_str(),
                audit::fields::query_value(&question_id)
            )
        }
        Respondent::Member(_) => format!("/engagements/{engagement_id}/questionnaire"),
    };
    let Some((file_name, bytes)) =
        file.filter(|(name, bytes)| !(name.is_empty() && bytes.is_empty()))
    else {
        return upload_problem(
            &session,
            json,
            StatusCode::UNPROCESSABLE_ENTITY,
            "Choose a file to attach first.".to_owned(),
            &back,
        )
        .await;
    };
    match q::save_file(
        &state.db,
        &who,
        engagement_id,
        &question_id,
        &file_name,
        &bytes,
    )
    .await
    {
        Ok(saved) => {
            if json {
                return (
                    StatusCode::CREATED,
                    Json(serde_json::json!({"data": saved})),
                )
                    .into_response();
            }
            flash(&session, true, format!("Attached “{}”.", saved.file_name)).await;
            Redirect::to(&back).into_response()
        }
        Err(audit::Error::Invalid(errors)) => {
            let message = errors
                .iter()
                .map(|e| e.message.as_str())
                .collect::<Vec<_>>()
                .join(" ");
            let status = if bytes.len() > MAX_EVIDENCE_BYTES {
                StatusCode::PAYLOAD_TOO_LARGE
            } else {
                StatusCode::UNPROCESSABLE_ENTITY
            };
            upload_problem(&session, json, status, message, &back).await
        }
        Err(audit::Error::NotFound) => StatusCode::NOT_FOUND.into_response(),
        Err(e) => {
            tracing::error!(error = %e, "could not store an evidence file");
            upload_problem(
                &session,
                json,
                StatusCode::INTERNAL_SERVER_ERROR,
                app::error::INTERNAL_MESSAGE.to_owned(),
                &back,
            )
            .await
        }
    }
}

/// `GET /evidence/{id}`: the file, to members of the firm and founders of the engagement only.
/// Always a download in a sandbox, so an uploaded file can never run as part of Plumbline.
async fn download_evidence(
    State(state): State<AppState>,
    session: Session,
    Path(evidence_file_id): Path<i64>,
) -> Response {
    let Some(who) = respondent(&state, &session).await else {
        return StatusCode::NOT_FOUND.into_response();
    };
    match q::get_file(&state.db, &who, evidence_file_id).await {
        Ok((file, bytes)) => {
            let ascii: String = file
                .file_name
                .chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() || ".-_ ".contains(c) {
                        c
                    } else {
                        '_'
                    }
                })
                .collect();
            let disposition = format!(
                "attachment; filename=\"{ascii}\"; filename*=UTF-8''{}",
                audit::fields::query_value(&file.file_name)
            );
            let mut response = bytes.into_response();
            let headers = response.headers_mut();
            if let Ok(v) = HeaderValue::from_str(&file.content_type) {
                headers.insert(header::CONTENT_TYPE, v);
            }
            if let Ok(v) = HeaderValue::from_str(&disposition) {
                headers.insert(header::CONTENT_DISPOSITION, v);
            }
            headers.insert(
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static("sandbox; default-src 'none'"),
            );
            headers.insert(
                header::CACHE_CONTROL,
                HeaderValue::from_static("private, no-store"),
            );
            response
        }
        Err(audit::Error::NotFound) => StatusCode::NOT_FOUND.into_response(),
        Err(e) => {
            tracing::error!(error = %e, "could not read an evidence file");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}
