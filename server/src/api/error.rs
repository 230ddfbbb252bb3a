//! The API's one error type. Internal causes are logged here, once, and never sent.
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable, for programs: `invalid`, `not_found`, `unauthenticated`, ...
    pub code: String,
    /// For people.
    pub message: String,
    /// The input field at fault, if one is.
    pub field: Option<String>,
    /// Quote it to support; it is in the `x-request-id` header too.
    pub request_id: Option<String>,
}

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub field: Option<String>,
    pub request_id: Option<String>,
    pub retry_after_secs: Option<u64>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            field: None,
            request_id: None,
            retry_after_secs: None,
        }
    }

    pub fn with_field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }

    pub fn with_request_id(mut self, request_id: Option<String>) -> Self {
        self.request_id = request_id;
        self
    }

    /// A domain error as the API reports it.
    pub fn from_domain(error: audit::Error, request_id: Option<String>) -> Self {
        use audit::Error as E;
        let e = match error {
            E::Invalid(fields) => {
                let first = fields.into_iter().next();
                let message = first
                    .as_ref()
                    .map(|f| f.message.clone())
                    .unwrap_or_else(|| "The input is invalid.".to_owned());
                let mut e = ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", message);
                e.field = first.map(|f| f.field);
                e
            }
            E::NotFound => ApiError::new(StatusCode::NOT_FOUND, "not_found", "No such resource."),
            E::Conflict { field, message } => {
                let mut e = ApiError::new(StatusCode::CONFLICT, "conflict", message);
                e.field = field;
                e
            }
            E::Unauthenticated(message) => {
                ApiError::new(StatusCode::UNAUTHORIZED, "unauthenticated", message)
            }
            E::Forbidden(message) => ApiError::new(StatusCode::FORBIDDEN, "forbidden", message),
            E::RateLimited { retry_after_secs } => {
                let mut e = ApiError::new(
                    StatusCode::TOO_MANY_REQUESTS,
                    "rate_limited",
                    "Too many requests.",
                );
                e.retry_after_secs = Some(retry_after_secs);
                e
            }
            other @ (E::Database(_) | E::Migration(_) | E::Internal(_)) => {
                tracing::error!(error = %other, request_id = ?request_id, "API request failed");
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "Something went wrong on our side. Try again in a moment.",
                )
            }
        };
        e.with_request_id(request_id)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let retry_after = self.retry_after_secs;
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code.to_owned(),
                message: self.message,
                field: self.field,
                request_id: self.request_id,
            },
        };
        let mut response = (self.status, Json(body)).into_response();
        if let Some(secs) = retry_after {
            if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
                response
                    .headers_mut()
                    .insert(axum::http::header::RETRY_AFTER, v);
            }
        }
        response
    }
}

pub fn request_id_of(headers: &HeaderMap) -> Option<String> {
    headers
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}
