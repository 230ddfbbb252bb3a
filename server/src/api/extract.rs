//! Extractors that answer bad input with the API's error body: the calling member (bearer
//! token) and JSON bodies.
use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRef, FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use serde::de::DeserializeOwned;

use super::error::{request_id_of, ApiError};
use app::state::AppState;
use audit::accounts::Member;

/// The member whose API token came with the request.
pub struct Caller {
    pub member: Member,
    pub request_id: Option<String>,
}

impl<S> FromRequestParts<S> for Caller
where
    S: Send + Sync,
    AppState: FromRef<S>,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let state = AppState::from_ref(state);
        let request_id = request_id_of(&parts.headers);
        let unauthenticated = |message: &str| {
            ApiError::new(StatusCode::UNAUTHORIZED, "unauthenticated", message)
                .with_request_id(request_id.clone())
        };
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| {
                unauthenticated("Send an API token as Authorization: Bearer <token>.")
            })?;
        let member = audit::accounts::member_by_api_token(&state.db, token)
            .await
            .map_err(|e| ApiError::from_domain(e, request_id.clone()))?
            .ok_or_else(|| unauthenticated("The API token is unknown or revoked."))?;
        Ok(Caller { member, request_id })
    }
}

impl Caller {
    /// A domain error as this caller's API error, carrying its request id.
    pub fn fail(&self, error: audit::Error) -> ApiError {
        ApiError::from_domain(error, self.request_id.clone())
    }
}

/// `Json<T>` whose rejections are the API's error body: 400 for broken JSON, 415 for a missing
/// content type, 413 for a body over the limit, 422 for JSON of the wrong shape.
pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let request_id = request_id_of(request.headers());
        match axum::Json::<T>::from_request(request, state).await {
            Ok(axum::Json(value)) => Ok(ApiJson(value)),
            Err(rejection) => {
                let (status, code, message) = match &rejection {
                    JsonRejection::JsonSyntaxError(e) => (
                        StatusCode::BAD_REQUEST,
                        "malformed_json",
                        format!("The body is not valid JSON: {}", e.body_text()),
                    ),
                    JsonRejection::JsonDataError(e) => (
                        StatusCode::UNPROCESSABLE_ENTITY,
                        "invalid",
                        format!(
                            "The JSON does not have the expected fields: {}",
                            e.body_text()
                        ),
                    ),
                    JsonRejection::MissingJsonContentType(_) => (
                        StatusCode::UNSUPPORTED_MEDIA_TYPE,
                        "unsupported_media_type",
                        "Send the body as JSON with Content-Type: application/json.".to_owned(),
                    ),
                    JsonRejection::BytesRejection(_)
                        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE =>
                    {
                        (
                            StatusCode::PAYLOAD_TOO_LARGE,
                            "payload_too_large",
                            "The request body is too large.".to_owned(),
                        )
                    }
                    _ => (
                        StatusCode::BAD_REQUEST,
                        "bad_request",
                        "The request body could not be read.".to_owned(),
                    ),
                };
                Err(ApiError::new(status, code, message).with_request_id(request_id))
            }
        }
    }
}
