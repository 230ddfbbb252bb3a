//! Firm templates of the question bank as the pages see them, and the forms that edit them. The
//! parsers run in the browser and on the server alike.
use serde::{Deserialize, Serialize};

use super::bank::{Area, Bank};
use super::model::BankVersionInfo;
use crate::error::FieldError;

/// A template's name, as shown in lists and on the versions it publishes.
pub const MAX_TEMPLATE_NAME_CHARS: usize = 120;
/// A prompt is one question a founder reads at a glance (the bank files hold the same limit).
pub const MAX_QUESTION_PROMPT_CHARS: usize = 300;
pub const MAX_QUESTION_HELP_CHARS: usize = 4000;
/// A founder answers every question of an area; the bank files hold the same limit.
pub const MAX_AREA_QUESTIONS: usize = 40;
pub const MIN_WEIGHT: u32 = 1;
pub const MAX_WEIGHT: u32 = 5;

/// A firm's editable copy of a bank, with the versions published from it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BankTemplate {
    pub bank_template_id: i64,
    pub name: String,
    /// The version it was cloned from, like "Built-in v1".
    pub based_on: Option<String>,
    pub bank: Bank,
    pub updated_at: i64,
    /// Newest first.
    pub published: Vec<BankVersionInfo>,
}

impl BankTemplate {
    /// The number the next publication gets.
    pub fn next_version(&self) -> i64 {
        next_version(&self.published)
    }
}

/// One line of the firm's template list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BankTemplateSummary {
    pub bank_template_id: i64,
    pub name: String,
    pub based_on: Option<String>,
    pub updated_at: i64,
    /// Newest first.
    pub published: Vec<BankVersionInfo>,
}

impl BankTemplateSummary {
    pub fn next_version(&self) -> i64 {
        next_version(&self.published)
    }
}

fn next_version(published: &[BankVersionInfo]) -> i64 {
    published.iter().map(|v| v.version).max().unwrap_or(0) + 1
}

/// A question's editable parts as the editor's form sends them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct QuestionEdit {
    pub question_id: String,
    #[serde(default)]
    pub prompt: String,
    #[serde(default)]
    pub help: String,
    /// As typed (or selected): 1 to 5.
    #[serde(default)]
    pub weight: String,
    /// A checkbox: absent when unticked.
    #[serde(default)]
    pub red_flag: bool,
}

/// A question edit that passed every rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuestionChange {
    pub question_id: String,
    pub prompt: String,
    pub help: String,
    pub weight: u32,
    pub red_flag: bool,
}

impl QuestionEdit {
    /// Every field is checked, so one submission shows every problem at once.
    pub fn parse(&self) -> Result<QuestionChange, Vec<FieldError>> {
        let mut errors = Vec::new();
        let question_id = self.question_id.trim().to_owned();
        if question_id.is_empty() {
            errors.push(FieldError::new(
                "question_id",
                "Name the question to change.",
            ));
        }
        let wording = parse_wording(&self.prompt, &self.help, &self.weight, &mut errors);
        match wording {
            Some((prompt, help, weight)) if errors.is_empty() => Ok(QuestionChange {
                question_id,
                prompt,
                help,
                weight,
                red_flag: self.red_flag,
            }),
            _ => Err(errors),
        }
    }
}

/// A question a firm adds to one area of its template.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct NewQuestion {
    /// The area's id, like `observability`.
    pub area: String,
    #[serde(default)]
    pub prompt: String,
    #[serde(default)]
    pub help: String,
    #[serde(default)]
    pub weight: String,
    #[serde(default)]
    pub red_flag: bool,
}

/// A new question that passed every rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewQuestionFields {
    pub area: Area,
    pub prompt: String,
    pub help: String,
    pub weight: u32,
    pub red_flag: bool,
}

impl NewQuestion {
    pub fn parse(&self) -> Result<NewQuestionFields, Vec<FieldError>> {
        let mut errors = Vec::new();
        let area = Area::parse(&self.area);
        if area.is_none() {
            errors.push(FieldError::new("area", "Choose one of the five areas."));
        }
        let wording = parse_wording(&self.prompt, &self.help, &self.weight, &mut errors);
        match (area, wording) {
            (Some(area), Some((prompt, help, weight))) if errors.is_empty() => {
                Ok(NewQuestionFields {
                    area,
                    prompt,
                    help,
                    weight,
                    red_flag: self.red_flag,
                })
            }
            _ => Err(errors),
        }
    }
}

/// Prompt, help and weight; problems go into `errors`.
fn parse_wording(
    prompt: &str,
    help: &str,
    weight: &str,
    errors: &mut Vec<FieldError>,
) -> Option<(String, String, u32)> {
    let before = errors.len();
    // A prompt is one line: line breaks typed into the text area become spaces.
    let prompt = prompt.split_whitespace().collect::<Vec<_>>().join(" ");
    if prompt.is_empty() {
        errors.push(FieldError::new(
            "prompt",
            "Enter the question founders read.",
        ));
    } else if prompt.chars().count() > MAX_QUESTION_PROMPT_CHARS {
        errors.push(FieldError::new(
            "prompt",
            format!("A question has at most {MAX_QUESTION_PROMPT_CHARS} characters; put the rest in the help."),
        ));
    }
    let help = help.trim().replace("\r\n", "\n");
    if help.is_empty() {
        errors.push(FieldError::new(
            "help",
            "Say why the question matters and what evidence helps.",
        ));
    } else if help.chars().count() > MAX_QUESTION_HELP_CHARS {
        errors.push(FieldError::new(
            "help",
            format!("The help has at most {MAX_QUESTION_HELP_CHARS} characters."),
        ));
    }
    let weight = match weight.trim().parse::<u32>() {
        Ok(w) if (MIN_WEIGHT..=MAX_WEIGHT).contains(&w) => Some(w),
        _ => {
            errors.push(FieldError::new(
                "weight",
                format!("The weight is a whole number from {MIN_WEIGHT} to {MAX_WEIGHT}."),
            ));
            None
        }
    };
    match weight {
        Some(weight) if errors.len() == before => Some((prompt, help, weight)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn edit(prompt: &str, help: &str, weight: &str) -> QuestionEdit {
        QuestionEdit {
            question_id: "observability.latency".into(),
            prompt: prompt.into(),
            help: help.into(),
            weight: weight.into(),
            red_flag: true,
        }
    }

    fn fields(errors: &[FieldError]) -> Vec<&str> {
        errors.iter().map(|e| e.field.as_str()).collect()
    }

    #[test]
    fn a_good_edit_is_trimmed_and_the_prompt_kept_on_one_line() {
        let change = edit(
            "  Do you\nmeasure  p99? ",
            " Because.\r\nIt matters. ",
            " 4 ",
        )
        .parse()
        .expect("valid");
        assert_eq!(change.prompt, "Do you measure p99?");
        assert_eq!(change.help, "Because.\nIt matters.");
        assert_eq!(change.weight, 4);
        assert!(change.red_flag);
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let errors = edit(" ", "", "9").parse().expect_err("invalid");
        assert_eq!(fields(&errors), ["prompt", "help", "weight"]);
        let long = "x".repeat(MAX_QUESTION_PROMPT_CHARS + 1);
        let errors = edit(&long, &"y".repeat(MAX_QUESTION_HELP_CHARS + 1), "0")
            .parse()
            .expect_err("invalid");
        assert_eq!(fields(&errors), ["prompt", "help", "weight"]);
        for weight in ["", "five", "-1", "2.5", "6"] {
            let errors = edit("Q?", "H.", weight).parse().expect_err("bad weight");
            assert_eq!(fields(&errors), ["weight"], "{weight:?}");
        }
    }

    #[test]
    fn limits_are_inclusive() {
        let prompt = "x".repeat(MAX_QUESTION_PROMPT_CHARS);
        let help = "y".repeat(MAX_QUESTION_HELP_CHARS);
        for weight in ["1", "5"] {
            assert!(edit(&prompt, &help, weight).parse().is_ok());
        }
    }

    #[test]
    fn a_new_question_names_a_known_area() {
        let new = NewQuestion {
            area: "database".into(),
            prompt: "Do you test restores?".into(),
            help: "Backups nobody restored are hopes.".into(),
            weight: "5".into(),
            red_flag: false,
        };
        assert_eq!(new.parse().expect("valid").area, Area::Database);
        let errors = NewQuestion {
            area: "billing".into(),
            ..new
        }
        .parse()
        .expect_err("unknown area");
        assert_eq!(fields(&errors), ["area"]);
    }

    #[test]
    fn the_next_version_follows_the_highest() {
        let v = |version| BankVersionInfo {
            bank_version_id: version * 10,
            name: "Ours".into(),
            version,
            builtin: false,
        };
        assert_eq!(next_version(&[]), 1);
        assert_eq!(next_version(&[v(2), v(1)]), 3);
    }
}
