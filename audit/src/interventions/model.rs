//! What the intervention pages and the REST API exchange, and the checks of the intervention
//! form (shared with the browser).
use serde::{Deserialize, Serialize};

use super::plan::{DependencyCycle, OrderDeparture};
use crate::error::FieldError;
use crate::fields::{optional_date, optional_text, required_text};
use crate::findings::{Confidence, MAX_MARKDOWN_CHARS, MAX_TITLE_CHARS};

/// Largest effort one intervention may have: half a year of one engineer. Bigger work is several
/// interventions.
pub const MAX_EFFORT_WEEKS: f64 = 26.0;

/// One intervention as the pages and the API show it.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Intervention {
    pub intervention_id: i64,
    /// I-1, I-2, … within the engagement.
    pub number: i64,
    /// The question bank's intervention id when it was suggested from findings.
    pub template_id: Option<String>,
    pub title: String,
    /// Markdown as typed.
    pub rationale: String,
    /// The rationale rendered and sanitized; safe to put in a page.
    pub rationale_html: String,
    /// 1 to 5.
    pub impact: u32,
    /// What the change should do, in the client's numbers, e.g. "p95 latency −40 %".
    pub expected_effect: String,
    /// Engineer-weeks.
    pub effort_weeks: f64,
    pub confidence: Confidence,
    /// impact × confidence ÷ effort.
    pub priority: f64,
    /// Ids of the interventions that must come first.
    pub depends_on: Vec<i64>,
    /// Ids of the findings it fixes.
    pub finding_ids: Vec<i64>,
    /// The consultant's pinned position, if they pinned the order.
    pub pinned_position: Option<i64>,
    pub version: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

impl Intervention {
    pub fn reference(&self) -> String {
        format!("I-{}", self.number)
    }
}

/// The intervention form as typed.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct InterventionInput {
    pub title: String,
    #[serde(default)]
    pub rationale: String,
    /// 1 to 5, as typed.
    pub impact: String,
    #[serde(default)]
    pub expected_effect: String,
    /// Engineer-weeks, as typed: "2", "0.5", "1,5".
    pub effort_weeks: String,
    /// high, medium (the default) or low.
    #[serde(default)]
    pub confidence: String,
    /// Interventions that must come first.
    #[serde(default)]
    pub depends_on: Vec<i64>,
    /// Findings it fixes.
    #[serde(default)]
    pub finding_ids: Vec<i64>,
    /// The version this edit replaces; ignored when creating.
    #[serde(default)]
    pub version: i64,
}

/// A checked intervention form.
#[derive(Debug, Clone, PartialEq)]
pub struct InterventionFields {
    pub title: String,
    pub rationale: String,
    pub impact: u32,
    pub expected_effect: String,
    pub effort_weeks: f64,
    pub confidence: Confidence,
    pub depends_on: Vec<i64>,
    pub finding_ids: Vec<i64>,
    pub version: i64,
}

impl InterventionInput {
    pub fn parse(&self) -> Result<InterventionFields, Vec<FieldError>> {
        let mut errors = Vec::new();
        let title = required_text("title", "title", &self.title, MAX_TITLE_CHARS)
            .map_err(|e| errors.push(e))
            .unwrap_or_default();
        let rationale = optional_text(
            "rationale",
            "rationale",
            &self.rationale,
            MAX_MARKDOWN_CHARS,
        )
        .map_err(|e| errors.push(e))
        .unwrap_or_default();
        let expected_effect = if self.expected_effect.trim().is_empty() {
            String::new()
        } else {
            required_text(
                "expected_effect",
                "expected effect",
                &self.expected_effect,
                200,
            )
            .map_err(|e| errors.push(e))
            .unwrap_or_default()
        };
        let impact = match self.impact.trim().parse::<u32>() {
            Ok(n) if (1..=5).contains(&n) => n,
            _ => {
                errors.push(FieldError::new(
                    "impact",
                    "Give the impact as a whole number from 1 (small) to 5 (large).",
                ));
                0
            }
        };
        let effort_weeks = match self.effort_weeks.trim().replace(',', ".").parse::<f64>() {
            Ok(w) if w.is_finite() && w > 0.0 && w <= MAX_EFFORT_WEEKS => {
                (w * 100.0).round() / 100.0
            }
            Ok(w) if w.is_finite() && w > MAX_EFFORT_WEEKS => {
                errors.push(FieldError::new(
                    "effort_weeks",
                    format!(
                        "At most {MAX_EFFORT_WEEKS} engineer-weeks; split bigger work into several interventions."
                    ),
                ));
                0.0
            }
            _ => {
                errors.push(FieldError::new(
                    "effort_weeks",
                    "Give the effort in engineer-weeks, a number above 0 such as 2 or 0.5.",
                ));
                0.0
            }
        };
        if effort_weeks > 0.0 && effort_weeks < 0.1 {
            errors.push(FieldError::new(
                "effort_weeks",
                "The smallest effort is 0.1 engineer-weeks (half a day).",
            ));
        }
        let confidence = match self.confidence.trim() {
            "" => Some(Confidence::Medium),
            value => Confidence::parse(value),
        };
        if confidence.is_none() {
            errors.push(FieldError::new("confidence", "Choose high, medium or low."));
        }
        let mut depends_on = self.depends_on.clone();
        depends_on.sort_unstable();
        depends_on.dedup();
        let mut finding_ids = self.finding_ids.clone();
        finding_ids.sort_unstable();
        finding_ids.dedup();
        match confidence {
            Some(confidence) if errors.is_empty() => Ok(InterventionFields {
                title,
                rationale,
                impact,
                expected_effect,
                effort_weeks,
                confidence,
                depends_on,
                finding_ids,
                version: self.version,
            }),
            _ => Err(errors),
        }
    }
}

/// The roadmap question: how many engineers, from which date.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RoadmapInput {
    /// Engineers available, as typed.
    pub capacity: String,
    /// YYYY-MM-DD, as typed; empty for today.
    #[serde(default)]
    pub start: String,
}

/// Largest team the roadmap plans for.
pub const MAX_CAPACITY: u32 = 100;

impl RoadmapInput {
    /// (engineers, start date if given).
    pub fn parse(&self) -> Result<(u32, Option<String>), Vec<FieldError>> {
        let mut errors = Vec::new();
        let capacity = match self.capacity.trim().parse::<u32>() {
            Ok(n) if (1..=MAX_CAPACITY).contains(&n) => n,
            _ => {
                errors.push(FieldError::new(
                    "capacity",
                    format!(
                        "Give the engineers available as a whole number from 1 to {MAX_CAPACITY}."
                    ),
                ));
                0
            }
        };
        let start = optional_date("start", &self.start)
            .map_err(|e| errors.push(e))
            .unwrap_or_default();
        if errors.is_empty() {
            Ok((capacity, start))
        } else {
            Err(errors)
        }
    }
}

/// One intervention on the roadmap, with calendar dates.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RoadmapEntry {
    pub intervention_id: i64,
    /// I-3
    pub reference: String,
    pub title: String,
    /// Which engineer (1-based) carries it.
    pub engineer: u32,
    /// Weeks from the start.
    pub start_week: f64,
    pub end_week: f64,
    /// YYYY-MM-DD: the first and the last day of work (both included).
    pub start_date: String,
    pub end_date: String,
}

/// The interventions laid into weeks for a team.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RoadmapView {
    pub capacity: u32,
    /// YYYY-MM-DD: the first day, and the last day of the last intervention (included).
    pub start: String,
    pub end: String,
    pub total_weeks: f64,
    pub entries: Vec<RoadmapEntry>,
}

/// The interventions in the order shown, with what the consultant needs to judge it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InterventionPlan {
    /// In the order shown: the pinned order if there is one, else the computed order.
    pub interventions: Vec<Intervention>,
    /// Ids in the computed order (dependencies first, then priority).
    pub computed_order: Vec<i64>,
    /// Whether the consultant pinned the order by hand.
    pub pinned: bool,
    /// Where the shown order departs from the computed one.
    pub departures: Vec<OrderDeparture>,
    /// A dependency cycle, if one slipped in (e.g. by import); the order then falls back to numbers.
    pub cycle: Option<DependencyCycle>,
}
