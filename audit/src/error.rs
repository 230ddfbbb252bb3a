//! The domain's one error type. Callers at a boundary (REST, server functions) turn it into what
//! their client reads; internal causes stay in the logs.
use serde::{Deserialize, Serialize};

/// A problem with one input field, shown next to that field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: &str, message: impl Into<String>) -> Self {
        Self {
            field: field.to_owned(),
            message: message.into(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The input was understood but breaks a rule; each field says which.
    #[error("invalid input: {0:?}")]
    Invalid(Vec<FieldError>),
    /// Not there, or not yours: both read the same so that ids of other firms leak nothing.
    #[error("not found")]
    NotFound,
    /// The change clashes with what is stored (a taken e-mail address, a used invitation).
    #[error("conflict: {message}")]
    Conflict {
        field: Option<String>,
        message: String,
    },
    /// Nobody is logged in, or the credentials are wrong.
    #[error("unauthenticated: {0}")]
    Unauthenticated(String),
    /// Logged in, but this role may not do this.
    #[error("forbidden: {0}")]
    Forbidden(String),
    /// Too many attempts; try again after this many seconds.
    #[error("rate limited, retry after {retry_after_secs} s")]
    RateLimited { retry_after_secs: u64 },
    #[cfg(feature = "server")]
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[cfg(feature = "server")]
    #[error("migration: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    /// Anything else that went wrong on our side; the text is for the log only.
    #[error("internal: {0}")]
    Internal(String),
}

impl Error {
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        Error::Invalid(vec![FieldError::new(field, message)])
    }

    pub fn conflict(field: &str, message: impl Into<String>) -> Self {
        Error::Conflict {
            field: Some(field.to_owned()),
            message: message.into(),
        }
    }

    /// True when a unique constraint refused the write. Callers turn that into a `Conflict`
    /// naming the field the user can change.
    #[cfg(feature = "server")]
    pub fn is_unique_violation(&self) -> bool {
        match self {
            Error::Database(sqlx::Error::Database(e)) => {
                e.is_unique_violation()
                    || e.message().contains("UNIQUE constraint failed")
                    || e.message().contains("duplicate key value")
            }
            _ => false,
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
