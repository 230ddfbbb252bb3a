//! Mail: the outbox message as the Outbox page shows it; sending is in `outbox` (server only).
use serde::{Deserialize, Serialize};

#[cfg(feature = "server")]
mod outbox;
#[cfg(feature = "server")]
pub use outbox::*;

/// An outbox row as the Outbox page shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(sqlx::FromRow))]
pub struct OutboxMessage {
    pub outbox_id: i64,
    pub to_address: String,
    pub subject: String,
    pub body_text: String,
    pub status: String,
    pub transport: Option<String>,
    pub sent_at: Option<i64>,
    pub last_error: Option<String>,
    pub created_at: i64,
}
