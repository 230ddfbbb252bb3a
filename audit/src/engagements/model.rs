use serde::{Deserialize, Serialize};

use crate::error::FieldError;
use crate::fields::{optional_date, optional_text, required_text, EmailAddress};

/// The client's funding stage; it sets what "good enough" means in the report.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    PreSeed,
    #[default]
    Seed,
    SeriesA,
    SeriesB,
    Growth,
}

impl Stage {
    pub const ALL: [Stage; 5] = [
        Stage::PreSeed,
        Stage::Seed,
        Stage::SeriesA,
        Stage::SeriesB,
        Stage::Growth,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Stage::PreSeed => "pre_seed",
            Stage::Seed => "seed",
            Stage::SeriesA => "series_a",
            Stage::SeriesB => "series_b",
            Stage::Growth => "growth",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Stage::PreSeed => "Pre-seed",
            Stage::Seed => "Seed",
            Stage::SeriesA => "Series A",
            Stage::SeriesB => "Series B",
            Stage::Growth => "Growth",
        }
    }

    pub fn parse(value: &str) -> Option<Stage> {
        Stage::ALL.into_iter().find(|s| s.as_str() == value.trim())
    }
}

/// Where an engagement stands. Archived engagements leave the default list but keep everything.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    #[default]
    Active,
    OnHold,
    Completed,
    Archived,
}

impl Status {
    pub const ALL: [Status; 4] = [
        Status::Active,
        Status::OnHold,
        Status::Completed,
        Status::Archived,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Active => "active",
            Status::OnHold => "on_hold",
            Status::Completed => "completed",
            Status::Archived => "archived",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Status::Active => "Active",
            Status::OnHold => "On hold",
            Status::Completed => "Completed",
            Status::Archived => "Archived",
        }
    }

    pub fn parse(value: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|s| s.as_str() == value.trim())
    }
}

/// A founder or client engineer who will answer the questionnaire.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Founder {
    pub name: String,
    pub email: String,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Engagement {
    pub engagement_id: i64,
    pub client_name: String,
    pub system_name: String,
    pub description: String,
    pub founders: Vec<Founder>,
    pub team_size: Option<i64>,
    pub stage: Stage,
    pub start_date: Option<String>,
    pub due_date: Option<String>,
    pub status: Status,
    pub created_at: i64,
    pub updated_at: i64,
}

/// One line of the engagements list.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EngagementSummary {
    pub engagement_id: i64,
    pub client_name: String,
    pub system_name: String,
    pub stage: Stage,
    pub status: Status,
    pub due_date: Option<String>,
    pub updated_at: i64,
}

/// What the list asks for: a search, whether archived ones show, and where the page starts.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EngagementQuery {
    pub search: Option<String>,
    pub include_archived: bool,
    /// Keyset cursor: the last `engagement_id` of the previous page (ids go downwards).
    pub before: Option<i64>,
    pub limit: Option<i64>,
}

pub const DEFAULT_PAGE_SIZE: i64 = 25;
pub const MAX_PAGE_SIZE: i64 = 100;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EngagementPage {
    pub items: Vec<EngagementSummary>,
    /// Pass as `before` for the next page; `None` on the last page.
    pub next_before: Option<i64>,
}

/// The engagement form as typed in the browser: founders are one `Name <email>` per line.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EngagementForm {
    pub client_name: String,
    pub system_name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub founders: String,
    #[serde(default)]
    pub team_size: String,
    #[serde(default)]
    pub stage: String,
    #[serde(default)]
    pub start_date: String,
    #[serde(default)]
    pub due_date: String,
    #[serde(default)]
    pub status: String,
}

impl EngagementForm {
    /// The form filled with a stored engagement, for editing.
    pub fn from_engagement(e: &Engagement) -> Self {
        Self {
            client_name: e.client_name.clone(),
            system_name: e.system_name.clone(),
            description: e.description.clone(),
            founders: e
                .founders
                .iter()
                .map(|f| format!("{} <{}>", f.name, f.email))
                .collect::<Vec<_>>()
                .join("\n"),
            team_size: e.team_size.map(|n| n.to_string()).unwrap_or_default(),
            stage: e.stage.as_str().to_owned(),
            start_date: e.start_date.clone().unwrap_or_default(),
            due_date: e.due_date.clone().unwrap_or_default(),
            status: e.status.as_str().to_owned(),
        }
    }

    /// Every field is checked, so one submission shows every problem at once.
    pub fn parse(&self) -> Result<EngagementFields, Vec<FieldError>> {
        let mut errors = Vec::new();
        let founders = parse_founder_lines(&self.founders)
            .map_err(|e| errors.push(e))
            .ok();
        let team_size = match self.team_size.trim() {
            "" => None,
            raw => raw
                .parse::<i64>()
                .map_err(|_| {
                    errors.push(FieldError::new(
                        "team_size",
                        "Team size is a whole number of people, like 6.",
                    ))
                })
                .ok(),
        };
        let input = EngagementInput {
            client_name: Some(self.client_name.clone()),
            system_name: Some(self.system_name.clone()),
            description: Some(self.description.clone()),
            founders: Some(founders.unwrap_or_default()),
            team_size,
            stage: Some(self.stage.clone()).filter(|s| !s.is_empty()),
            start_date: Some(self.start_date.clone()),
            due_date: Some(self.due_date.clone()),
            status: Some(self.status.clone()).filter(|s| !s.is_empty()),
        };
        match input.parse() {
            Ok(fields) if errors.is_empty() => Ok(fields),
            Ok(_) => Err(errors),
            Err(more) => {
                errors.extend(more);
                Err(errors)
            }
        }
    }
}

/// `Ada Lovelace <ada@example.com>` per line; blank lines are skipped.
pub fn parse_founder_lines(text: &str) -> Result<Vec<Founder>, FieldError> {
    let mut founders = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let parsed = line
            .strip_suffix('>')
            .and_then(|l| l.rsplit_once('<'))
            .map(|(name, email)| (name.trim(), email.trim()));
        let Some((name, email)) = parsed else {
            return Err(FieldError::new(
                "founders",
                format!(
                    "Line {}: write a founder as Name <name@example.com>.",
                    n + 1
                ),
            ));
        };
        founders.push(Founder {
            name: name.to_owned(),
            email: email.to_owned(),
        });
    }
    Ok(founders)
}

/// The engagement as the REST API receives it (JSON), and what the form becomes.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EngagementInput {
    #[serde(default)]
    pub client_name: Option<String>,
    #[serde(default)]
    pub system_name: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub founders: Option<Vec<Founder>>,
    #[serde(default)]
    pub team_size: Option<i64>,
    #[serde(default)]
    pub stage: Option<String>,
    #[serde(default)]
    pub start_date: Option<String>,
    #[serde(default)]
    pub due_date: Option<String>,
    #[serde(default)]
    pub status: Option<String>,
}

pub const MAX_FOUNDERS: usize = 20;

/// An engagement's fields after every rule passed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EngagementFields {
    pub client_name: String,
    pub system_name: String,
    pub description: String,
    pub founders: Vec<(String, EmailAddress)>,
    pub team_size: Option<i64>,
    pub stage: Stage,
    pub start_date: Option<String>,
    pub due_date: Option<String>,
    pub status: Status,
}

impl EngagementInput {
    pub fn parse(&self) -> Result<EngagementFields, Vec<FieldError>> {
        let mut errors = Vec::new();
        let mut keep = |r: Result<String, FieldError>| r.map_err(|e| errors.push(e)).ok();
        let client_name = keep(required_text(
            "client_name",
            "client name",
            self.client_name.as_deref().unwrap_or(""),
            120,
        ));
        let system_name = keep(required_text(
            "system_name",
            "system name",
            self.system_name.as_deref().unwrap_or(""),
            120,
        ));
        let description = keep(optional_text(
            "description",
            "description",
            self.description.as_deref().unwrap_or(""),
            10_000,
        ));
        let mut founders = Vec::new();
        let given = self.founders.as_deref().unwrap_or(&[]);
        if given.len() > MAX_FOUNDERS {
            errors.push(FieldError::new(
                "founders",
                format!("List at most {MAX_FOUNDERS} founders."),
            ));
        }
        for f in given {
            let name = required_text("founders", "founder's name", &f.name, 120);
            let email = EmailAddress::parse("founders", &f.email);
            match (name, email) {
                (Ok(name), Ok(email)) => founders.push((name, email)),
                (Err(e), _) | (_, Err(e)) => errors.push(e),
            }
        }
        if let Some(n) = self.team_size {
            if !(1..=100_000).contains(&n) {
                errors.push(FieldError::new(
                    "team_size",
                    "Team size is between 1 and 100000 people.",
                ));
            }
        }
        let stage = match self.stage.as_deref() {
            None => Some(Stage::default()),
            Some(raw) => Stage::parse(raw).or_else(|| {
                errors.push(FieldError::new(
                    "stage",
                    "Stage is one of pre_seed, seed, series_a, series_b, growth.",
                ));
                None
            }),
        };
        let status = match self.status.as_deref() {
            None => Some(Status::default()),
            Some(raw) => Status::parse(raw).or_else(|| {
                errors.push(FieldError::new(
                    "status",
                    "Status is one of active, on_hold, completed, archived.",
                ));
                None
            }),
        };
        let start_date = optional_date("start_date", self.start_date.as_deref().unwrap_or(""))
            .map_err(|e| errors.push(e))
            .ok()
            .flatten();
        let due_date = optional_date("due_date", self.due_date.as_deref().unwrap_or(""))
            .map_err(|e| errors.push(e))
            .ok()
            .flatten();
        if let (Some(start), Some(due)) = (&start_date, &due_date) {
            // ISO dates compare correctly as text.
            if due < start {
                errors.push(FieldError::new(
                    "due_date",
                    "The due date is on or after the start date.",
                ));
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        match (client_name, system_name, description, stage, status) {
            (
                Some(client_name),
                Some(system_name),
                Some(description),
                Some(stage),
                Some(status),
            ) => Ok(EngagementFields {
                client_name,
                system_name,
                description,
                founders,
                team_size: self.team_size,
                stage,
                start_date,
                due_date,
                status,
            }),
            _ => Err(vec![FieldError::new("client_name", "Check the form.")]),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form() -> EngagementForm {
        EngagementForm {
            client_name: "Acme".into(),
            system_name: "API".into(),
            founders: "Ada Founder <ADA@acme.test>\n\n  Bob <bob@acme.test> ".into(),
            team_size: "6".into(),
            stage: "series_a".into(),
            start_date: "2026-11-01".into(),
            due_date: "2026-12-01".into(),
            ..Default::default()
        }
    }

    #[test]
    fn a_good_form_parses() {
        let fields = form().parse().expect("valid");
        assert_eq!(fields.founders.len(), 2);
        assert_eq!(fields.founders[0].1.as_str(), "ada@acme.test");
        assert_eq!(fields.stage, Stage::SeriesA);
        assert_eq!(fields.status, Status::Active);
    }

    #[test]
    fn every_bad_field_is_named() {
        let bad = EngagementForm {
            client_name: " ".into(),
            team_size: "six".into(),
            due_date: "2026-02-30".into(),
            ..form()
        };
        let errors = bad.parse().expect_err("invalid");
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert!(fields.contains(&"team_size"), "{fields:?}");
        assert!(fields.contains(&"client_name"), "{fields:?}");
        assert!(fields.contains(&"due_date"), "{fields:?}");
    }

    #[test]
    fn founder_lines_need_an_address_in_brackets() {
        let err = parse_founder_lines("Ada\n").expect_err("no address");
        assert!(err.message.contains("Line 1"));
    }

    #[test]
    fn due_date_before_start_is_refused() {
        let bad = EngagementForm {
            start_date: "2026-12-02".into(),
            ..form()
        };
        let errors = bad.parse().expect_err("invalid");
        assert_eq!(errors[0].field, "due_date");
    }
}
