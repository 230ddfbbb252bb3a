//! Why a probe stopped without checks.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProbeError {
    /// The outbound guard refused the address (private range, metadata host, bad scheme...).
    #[error("refused: {0}")]
    Refused(String),
    /// The target did not answer, or answered in a way that makes every check meaningless.
    #[error("unreachable: {0}")]
    Unreachable(String),
    /// The target as given cannot be used (a connection string with a Unix socket...).
    #[error("{0}")]
    Invalid(String),
    #[error("cancelled")]
    Cancelled,
    #[error("internal error: {0}")]
    Internal(String),
}
