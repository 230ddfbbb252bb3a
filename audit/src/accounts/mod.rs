//! Accounts: firms, their members (owner and consultants), invitations, API tokens and log-in.
mod model;
pub use model::*;

#[cfg(feature = "server")]
mod limiter;
#[cfg(feature = "server")]
mod password;
#[cfg(feature = "server")]
mod store;
#[cfg(feature = "server")]
mod tokens;
#[cfg(feature = "server")]
pub use limiter::LoginLimiter;
#[cfg(feature = "server")]
pub use store::*;
#[cfg(feature = "server")]
pub use tokens::*;
