//! Server-side glue for server functions: the one application state, who is asking, and how a
//! domain error becomes what the browser reads.
use std::sync::Arc;

use audit::accounts::{LoginLimiter, Member};
use audit::db::Db;
use audit::questionnaire::FounderAccess;
use audit::telemetry::RouteMetrics;
use axum::extract::FromRef;
use http::{Method, StatusCode};
use leptos::prelude::*;
use leptos_axum::ResponseOptions;
use tower_sessions::Session;

use crate::error::UiError;

/// Built once at start-up, handed to axum and (as context) to every server function.
#[derive(Clone, FromRef)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub db: Db,
    /// Where people reach Plumbline, for links in e-mails (`https://audits.example.com`).
    pub base_url: String,
    pub login_limiter: Arc<LoginLimiter>,
    pub metrics: Arc<RouteMetrics>,
    /// The sealing key, allow-list and limits of probe runs.
    pub probes: Arc<audit::probes::run::ProbeRuntime>,
}

/// The session key holding the logged-in member's `user_id`.
pub const SESSION_USER: &str = "user_id";
/// The session key of a founder's session: the invitation it came from. Such a session reaches
/// that engagement's questionnaire and nothing else.
pub const SESSION_FOUNDER: &str = "founder_invitation_id";
/// When that founder session began (unix ms): a revocation ends every session begun before it.
pub const SESSION_FOUNDER_SINCE: &str = "founder_since";

pub fn app_state() -> Result<AppState, UiError> {
    use_context::<AppState>().ok_or_else(|| {
        tracing::error!("AppState missing from the server function context");
        UiError::internal()
    })
}

pub async fn session() -> Result<Session, UiError> {
    leptos_axum::extract::<Session>().await.map_err(|e| {
        tracing::error!(error = ?e, "no session layer");
        UiError::internal()
    })
}

/// Takes a one-time value (a flash message, an import report) out of the session. Only a value
/// that is there is removed: `Session::remove` marks the session changed even when the key is
/// absent, and a changed session is written back, so every page view would have been a write.
pub async fn take_from_session<T: serde::de::DeserializeOwned>(
    session: &Session,
    key: &str,
) -> Result<Option<T>, tower_sessions::session::Error> {
    match session.get::<T>(key).await? {
        Some(value) => {
            session.remove_value(key).await?;
            Ok(Some(value))
        }
        None => Ok(None),
    }
}

/// Who is asking, looked up once per request: each of a page's resources checks it (the
/// engagement's overview has five) and each check was a query. Provided fresh for every request
/// (`server::startup`); remembered with the user it was looked up for, so a request whose
/// session changes user looks up again.
#[derive(Clone, Default)]
pub struct RequestMember(Arc<tokio::sync::OnceCell<(i64, Option<Member>)>>);

/// The logged-in member, or `None`.
pub async fn current_member_opt() -> Result<Option<Member>, UiError> {
    let state = app_state()?;
    let session = session().await?;
    let user_id: Option<i64> = session.get(SESSION_USER).await.map_err(internal)?;
    let Some(user_id) = user_id else {
        return Ok(None);
    };
    let look_up = || async {
        audit::accounts::member_by_id(&state.db, user_id)
            .await
            .map_err(fail)
    };
    let Some(memo) = use_context::<RequestMember>() else {
        return look_up().await;
    };
    let (remembered_for, member) = memo
        .0
        .get_or_try_init(|| async { Ok::<_, UiError>((user_id, look_up().await?)) })
        .await?;
    if *remembered_for == user_id {
        Ok(member.clone())
    } else {
        look_up().await
    }
}

/// The logged-in member, or an `unauthenticated` error (401).
pub async fn current_member() -> Result<Member, UiError> {
    current_member_opt().await?.ok_or_else(|| {
        fail(audit::Error::Unauthenticated(
            "Log in to continue.".to_owned(),
        ))
    })
}

/// The logged-in member if they own the firm, or a `forbidden` error (403).
pub async fn current_owner() -> Result<Member, UiError> {
    let member = current_member().await?;
    if !member.is_owner() {
        return Err(fail(audit::Error::Forbidden(
            "Only the firm's owner can see this.".to_owned(),
        )));
    }
    Ok(member)
}

/// The founder of this session, if the invitation is still valid.
pub async fn current_founder_opt() -> Result<Option<FounderAccess>, UiError> {
    let state = app_state()?;
    let session = session().await?;
    let invitation: Option<i64> = session.get(SESSION_FOUNDER).await.map_err(internal)?;
    let since: Option<i64> = session.get(SESSION_FOUNDER_SINCE).await.map_err(internal)?;
    match invitation {
        None => Ok(None),
        Some(id) => audit::questionnaire::founder_access(&state.db, id, since.unwrap_or(0))
            .await
            .map_err(fail),
    }
}

/// The founder of this session, or an `unauthenticated` error (401) that says how to get in.
pub async fn current_founder() -> Result<FounderAccess, UiError> {
    current_founder_opt().await?.ok_or_else(|| {
        fail(audit::Error::Unauthenticated(
            "Open the link in your invitation e-mail to reach the questionnaire.".to_owned(),
        ))
    })
}

fn request_id() -> Option<String> {
    use_context::<http::request::Parts>().and_then(|parts| {
        parts
            .headers
            .get("x-request-id")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    })
}

/// A plain HTML form post (JavaScript off) is answered with a redirect back to the form, which
/// carries the error in its URL; a status set here would replace that redirect.
fn is_plain_form_post() -> bool {
    use_context::<http::request::Parts>().is_some_and(|parts| {
        parts.method == Method::POST
            && parts
                .headers
                .get(http::header::ACCEPT)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.contains("text/html"))
    })
}

pub fn set_status(status: StatusCode) {
    if is_plain_form_post() {
        return;
    }
    if let Some(response) = use_context::<ResponseOptions>() {
        response.set_status(status);
    }
}

/// Turns a domain error into the browser's error: logs internal causes (once, here), sets the
/// HTTP status, and never puts internal text in the message.
pub fn fail(error: audit::Error) -> UiError {
    use audit::Error as E;
    let (status, mut ui) = match &error {
        E::Invalid(fields) => {
            let mut ui = UiError::new("invalid", "Some fields need another look.");
            ui.fields = fields.clone();
            (StatusCode::UNPROCESSABLE_ENTITY, ui)
        }
        E::NotFound => (
            StatusCode::NOT_FOUND,
            UiError::new(
                "not_found",
                "There is nothing here. It may have been moved, or it belongs to another firm.",
            ),
        ),
        E::Conflict { field, message } => {
            let mut ui = UiError::new("conflict", message.clone());
            if let Some(field) = field {
                ui.fields
                    .push(audit::FieldError::new(field, message.clone()));
            }
            (StatusCode::CONFLICT, ui)
        }
        E::Unauthenticated(message) => (
            StatusCode::UNAUTHORIZED,
            UiError::new("unauthenticated", message.clone()),
        ),
        E::Forbidden(message) => (
            StatusCode::FORBIDDEN,
            UiError::new("forbidden", message.clone()),
        ),
        E::RateLimited { retry_after_secs } => {
            if !is_plain_form_post() {
                if let Some(response) = use_context::<ResponseOptions>() {
                    if let Ok(value) = http::HeaderValue::from_str(&retry_after_secs.to_string()) {
                        response.insert_header(http::header::RETRY_AFTER, value);
                    }
                }
            }
            (
                StatusCode::TOO_MANY_REQUESTS,
                UiError::new(
                    "rate_limited",
                    format!(
                        "Too many attempts. Try again in {} minutes.",
                        retry_after_secs.div_ceil(60)
                    ),
                ),
            )
        }
        E::Database(_) | E::Migration(_) | E::Internal(_) => {
            tracing::error!(error = %error, "server function failed");
            (StatusCode::INTERNAL_SERVER_ERROR, UiError::internal())
        }
    };
    set_status(status);
    ui.request_id = request_id();
    ui
}

pub fn internal(error: impl std::fmt::Display) -> UiError {
    fail(audit::Error::Internal(error.to_string()))
}

/// The Content-Security-Policy of a page: scripts only from our origin or carrying this
/// response's nonce (Leptos puts it on its hydration and streaming scripts), wasm compilation,
/// nothing from other origins, no framing. See docs/adr/0004-security-headers-and-same-origin-check.md.
pub fn page_security_policy(nonce: &str) -> String {
    format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; \
         style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; \
         frame-ancestors 'none'; base-uri 'self'; form-action 'self'; object-src 'none'"
    )
}

/// Sets the page's policy with this response's nonce; called while the shell renders, before
/// the headers are sent.
pub fn set_page_security_policy() {
    let (Some(nonce), Some(response)) =
        (leptos::nonce::use_nonce(), use_context::<ResponseOptions>())
    else {
        return;
    };
    if let Ok(value) = http::HeaderValue::from_str(&page_security_policy(&nonce)) {
        response.insert_header(http::header::CONTENT_SECURITY_POLICY, value);
    }
}
