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

use crate::error::FieldError;
use crate::fields::{optional_date, optional_text, required_text};
use crate::findings::{MAX_MARKDOWN_CHARS, MAX_TITLE_CHARS};

/// Another record, as a link names it.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DecisionRef {
    pub decision_id: i64,
    pub number: i64,
    pub title: String,
}

impl DecisionRef {
    pub fn reference(&self) -> String {
        format!("ADR-{:04}", self.number)
    }
}

/// One architecture decision record as the pages and the API show it.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Decision {
    pub decision_id: i64,
    /// ADR-0001, ADR-0002, … within the engagement.
    pub number: i64,
    pub title: String,
    pub status: DecisionStatus,
    /// Markdown as typed, and rendered + sanitized (`*_html`, safe to put in a page).
    pub context: String,
    pub options: String,
    pub decision: String,
    pub consequences: String,
    pub context_html: String,
    pub options_html: String,
    pub decision_html: String,
    pub consequences_html: String,
    /// YYYY-MM-DD
    pub decided_on: Option<String>,
    pub deciders: String,
    pub supersedes: Option<DecisionRef>,
    pub superseded_by: Option<DecisionRef>,
    /// A waiver's expiry (YYYY-MM-DD): while the record is accepted, its linked findings are
    /// accepted risks until this date; a scheduled job reopens them after it.
    pub expires_on: Option<String>,
    pub finding_ids: Vec<i64>,
    pub intervention_ids: Vec<i64>,
    pub version: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

impl Decision {
    pub fn reference(&self) -> String {
        format!("ADR-{:04}", self.number)
    }
}

/// The decision record form as typed.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DecisionInput {
    pub title: String,
    /// proposed (the default), accepted, rejected, deprecated or superseded.
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub context: String,
    #[serde(default)]
    pub options: String,
    #[serde(default)]
    pub decision: String,
    #[serde(default)]
    pub consequences: String,
    /// YYYY-MM-DD; empty for none.
    #[serde(default)]
    pub decided_on: String,
    #[serde(default)]
    pub deciders: String,
    /// The id of the record this one replaces.
    #[serde(default)]
    pub supersedes: Option<i64>,
    /// YYYY-MM-DD: makes the record a waiver of its linked findings until then.
    #[serde(default)]
    pub expires_on: String,
    #[serde(default)]
    pub finding_ids: Vec<i64>,
    #[serde(default)]
    pub intervention_ids: Vec<i64>,
    /// The version this edit replaces; ignored when creating.
    #[serde(default)]
    pub version: i64,
}

/// A checked decision record form.
#[derive(Debug, Clone, PartialEq)]
pub struct DecisionFields {
    pub title: String,
    pub status: DecisionStatus,
    pub context: String,
    pub options: String,
    pub decision: String,
    pub consequences: String,
    pub decided_on: Option<String>,
    pub deciders: String,
    pub supersedes: Option<i64>,
    pub expires_on: Option<String>,
    pub finding_ids: Vec<i64>,
    pub intervention_ids: Vec<i64>,
    pub version: i64,
}

impl DecisionInput {
    pub fn parse(&self) -> Result<DecisionFields, Vec<FieldError>> {
        let mut errors = Vec::new();
        let title = required_text("title", "title", &self.title, MAX_TITLE_CHARS)
            .map_err(|e| errors.push(e))
            .unwrap_or_default();
        let status = match self.status.trim() {
            "" => Some(DecisionStatus::Proposed),
            value => DecisionStatus::ALL
                .into_iter()
                .find(|s| s.as_str() == value),
        };
        if status.is_none() {
            errors.push(FieldError::new(
                "status",
                "Choose proposed, accepted, rejected, deprecated or superseded.",
            ));
        }
        let mut text = |field: &str, label: &str, raw: &str| {
            optional_text(field, label, raw, MAX_MARKDOWN_CHARS)
                .map_err(|e| errors.push(e))
                .unwrap_or_default()
        };
        let context = text("context", "context", &self.context);
        let options = text("options", "options considered", &self.options);
        let decision = text("decision", "decision", &self.decision);
        let consequences = text("consequences", "consequences", &self.consequences);
        let deciders = if self.deciders.trim().is_empty() {
            String::new()
        } else {
            required_text("deciders", "deciders", &self.deciders, 300)
                .map_err(|e| errors.push(e))
                .unwrap_or_default()
        };
        let decided_on = optional_date("decided_on", &self.decided_on)
            .map_err(|e| errors.push(e))
            .unwrap_or_default();
        let expires_on = optional_date("expires_on", &self.expires_on)
            .map_err(|e| errors.push(e))
            .unwrap_or_default();
        let mut finding_ids = self.finding_ids.clone();
        finding_ids.sort_unstable();
        finding_ids.dedup();
        let mut intervention_ids = self.intervention_ids.clone();
        intervention_ids.sort_unstable();
        intervention_ids.dedup();
        match status {
            Some(status) if errors.is_empty() => Ok(DecisionFields {
                title,
                status,
                context,
                options,
                decision,
                consequences,
                decided_on,
                deciders,
                supersedes: self.supersedes,
                expires_on,
                finding_ids,
                intervention_ids,
                version: self.version,
            }),
            _ => Err(errors),
        }
    }
}
