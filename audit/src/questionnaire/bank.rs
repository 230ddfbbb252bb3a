//! The question bank: five areas of questions, each with its answer scale, weight, red flag,
//! the evidence it asks for, the probe checks that can confirm or contradict it, and the
//! interventions it suggests. The built-in bank is data (`bank/*.toml` at the repository root);
//! firms clone it into templates and publish their own versions.
use serde::{Deserialize, Serialize};

/// The five areas of the audit (seed 000), in the order the questionnaire walks them.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Area {
    Observability,
    Database,
    CachingQueues,
    DeploymentInfrastructure,
    People,
}

impl Area {
    pub const ALL: [Area; 5] = [
        Area::Observability,
        Area::Database,
        Area::CachingQueues,
        Area::DeploymentInfrastructure,
        Area::People,
    ];

    /// The id used in files, URLs and the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Area::Observability => "observability",
            Area::Database => "database",
            Area::CachingQueues => "caching-queues",
            Area::DeploymentInfrastructure => "deployment-infrastructure",
            Area::People => "people",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Area::Observability => "Observability",
            Area::Database => "Database",
            Area::CachingQueues => "Caching & queues",
            Area::DeploymentInfrastructure => "Deployment & infrastructure",
            Area::People => "People layer",
        }
    }

    pub fn parse(value: &str) -> Option<Area> {
        Area::ALL.into_iter().find(|a| a.as_str() == value.trim())
    }
}

/// The answer scale. "Don't know" is a gap of its own (never a yes); "not applicable" leaves
/// the question out of the area's score.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Choice {
    Yes,
    Partly,
    No,
    DontKnow,
    NotApplicable,
}

impl Choice {
    pub const ALL: [Choice; 5] = [
        Choice::Yes,
        Choice::Partly,
        Choice::No,
        Choice::DontKnow,
        Choice::NotApplicable,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Choice::Yes => "yes",
            Choice::Partly => "partly",
            Choice::No => "no",
            Choice::DontKnow => "dont_know",
            Choice::NotApplicable => "not_applicable",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Choice::Yes => "Yes",
            Choice::Partly => "Partly",
            Choice::No => "No",
            Choice::DontKnow => "Don't know",
            Choice::NotApplicable => "Not applicable",
        }
    }

    pub fn parse(value: &str) -> Option<Choice> {
        Choice::ALL.into_iter().find(|c| c.as_str() == value.trim())
    }
}

/// One question as a founder reads it.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Question {
    /// Stable across versions: `<area>.<slug>`, e.g. `observability.latency-percentiles`.
    pub id: String,
    pub area: Area,
    pub prompt: String,
    /// Why it matters and what evidence helps; Markdown.
    pub help: String,
    /// 1 to 5: how much the question counts in its area's score.
    pub weight: u32,
    /// A "no" to this question is a red flag, listed apart from the score.
    pub red_flag: bool,
    /// Whether "not applicable" is offered (some questions apply to every system).
    #[serde(default = "yes")]
    pub allows_not_applicable: bool,
    /// What a founder can attach or link to support the answer.
    #[serde(default)]
    pub evidence: Vec<String>,
    /// Ids of probe checks that can confirm or contradict the answer (`http.latency-percentiles`).
    #[serde(default)]
    pub probe_checks: Vec<String>,
    /// Ids of interventions (in the bank's catalogue) that fix a weak answer.
    #[serde(default)]
    pub interventions: Vec<String>,
    /// The seed items this question comes from, e.g. `000 Observability: slow query log`.
    #[serde(default)]
    pub sources: Vec<String>,
}

fn yes() -> bool {
    true
}

impl Question {
    /// The choices offered for this question, in display order.
    pub fn choices(&self) -> Vec<Choice> {
        Choice::ALL
            .into_iter()
            .filter(|c| *c != Choice::NotApplicable || self.allows_not_applicable)
            .collect()
    }
}

/// One area of the bank: its guiding question, its red-flag sentence and its questions.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AreaBank {
    pub area: Area,
    pub title: String,
    /// The guiding question of the area ("Can you see what's slow?").
    pub question: String,
    /// The seed's red-flag sentence for the area.
    pub red_flag: String,
    pub questions: Vec<Question>,
}

/// A suggested structural change that questions point to; findings and the roadmap use it later.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InterventionTemplate {
    pub id: String,
    pub title: String,
    /// Markdown: what to do and why.
    pub rationale: String,
    /// 1 to 5.
    pub impact: u32,
    /// Typical effort in engineer-weeks.
    pub effort_weeks: f64,
}

/// A whole bank: the five areas in order and the intervention catalogue.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Bank {
    pub areas: Vec<AreaBank>,
    pub interventions: Vec<InterventionTemplate>,
}

impl Bank {
    pub fn area(&self, area: Area) -> Option<&AreaBank> {
        self.areas.iter().find(|a| a.area == area)
    }

    pub fn questions(&self) -> impl Iterator<Item = &Question> {
        self.areas.iter().flat_map(|a| a.questions.iter())
    }

    /// Answered and total questions of an area, `answered` saying which question ids count.
    pub fn progress(&self, area: Area, answered: impl Fn(&str) -> bool) -> (usize, usize) {
        let Some(area) = self.area(area) else {
            return (0, 0);
        };
        let done = area.questions.iter().filter(|q| answered(&q.id)).count();
        (done, area.questions.len())
    }

    /// Answered and total questions of the whole bank.
    pub fn overall_progress(&self, answered: impl Fn(&str) -> bool) -> (usize, usize) {
        Area::ALL
            .into_iter()
            .map(|area| self.progress(area, &answered))
            .fold((0, 0), |(a, t), (x, y)| (a + x, t + y))
    }

    pub fn question(&self, id: &str) -> Option<&Question> {
        self.questions().find(|q| q.id == id)
    }

    pub fn intervention(&self, id: &str) -> Option<&InterventionTemplate> {
        self.interventions.iter().find(|i| i.id == id)
    }
}
