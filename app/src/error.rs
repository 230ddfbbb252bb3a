//! The error a server function hands the browser: a stable code, a human message, the fields
//! to mark, and the request id to quote to support. Internal causes never reach it.
use audit::FieldError;
use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UiError {
    pub code: String,
    pub message: String,
    #[serde(default)]
    pub fields: Vec<FieldError>,
    #[serde(default)]
    pub request_id: Option<String>,
}

/// What the browser is told about any failure on our side; the cause is in the log.
pub const INTERNAL_MESSAGE: &str = "Something went wrong on our side. Try again in a moment.";

impl UiError {
    pub fn internal() -> Self {
        UiError::new("internal", INTERNAL_MESSAGE)
    }

    pub fn new(code: &str, message: impl Into<String>) -> Self {
        Self {
            code: code.to_owned(),
            message: message.into(),
            fields: Vec::new(),
            request_id: None,
        }
    }

    /// The message for one field, if that field is at fault.
    pub fn field(&self, name: &str) -> Option<String> {
        self.fields
            .iter()
            .find(|f| f.field == name)
            .map(|f| f.message.clone())
    }

    pub fn is_unauthenticated(&self) -> bool {
        self.code == "unauthenticated"
    }

    pub fn is_not_found(&self) -> bool {
        self.code == "not_found"
    }
}

impl std::fmt::Display for UiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for UiError {}

impl FromServerFnError for UiError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        let (code, message) = match &value {
            ServerFnErrorErr::Request(_) => (
                "network",
                "Plumbline could not be reached. Check your connection and try again.",
            ),
            ServerFnErrorErr::Args(_) | ServerFnErrorErr::MissingArg(_) => (
                "bad_request",
                "The form was incomplete. Reload the page and try again.",
            ),
            _ => ("internal", INTERNAL_MESSAGE),
        };
        // On the server this runs inside the request (arguments that did not parse): answer
        // 400 for those rather than server_fn's default 500.
        #[cfg(feature = "ssr")]
        if code == "bad_request" {
            tracing::info!(error = %value, "server function arguments refused");
            crate::state::set_status(http::StatusCode::BAD_REQUEST);
        }
        UiError::new(code, message)
    }
}
