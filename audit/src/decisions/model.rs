//! What the decision pages and the REST API exchange.
use serde::{Deserialize, Serialize};

/// The life of a decision record (MADR's statuses).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum DecisionStatus {
    #[default]
    Proposed,
    Accepted,
    Rejected,
    Deprecated,
    Superseded,
}

impl DecisionStatus {
    pub const ALL: [DecisionStatus; 5] = [
        DecisionStatus::Proposed,
        DecisionStatus::Accepted,
        DecisionStatus::Rejected,
        DecisionStatus::Deprecated,
        DecisionStatus::Superseded,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DecisionStatus::Proposed => "proposed",
            DecisionStatus::Accepted => "accepted",
            DecisionStatus::Rejected => "rejected",
            DecisionStatus::Deprecated => "deprecated",
            DecisionStatus::Superseded => "superseded",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            DecisionStatus::Proposed => "Proposed",
            DecisionStatus::Accepted => "Accepted",
            DecisionStatus::Rejected => "Rejected",
            DecisionStatus::Deprecated => "Deprecated",
            DecisionStatus::Superseded => "Superseded",
        }
    }

    /// Reads a status as people write it in ADR files too ("Accepted", "superseded by 3").
    pub fn parse(value: &str) -> Option<DecisionStatus> {
        let value = value.trim().to_ascii_lowercase();
        DecisionStatus::ALL
            .into_iter()
            .find(|s| value == s.as_str() || value.starts_with(&format!("{} ", s.as_str())))
    }
}
