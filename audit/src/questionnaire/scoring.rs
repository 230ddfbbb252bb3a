//! How scores are computed.
//!
//! Each answer has a value: **yes** = 1, **partly** = ½, **no** = 0, **don't know** = 0 (and the
//! question is listed as a gap: nobody could tell), **not answered** = 0 (listed as not answered
//! yet). **Not applicable** takes the question out of the score altogether (when the question
//! offers it; otherwise it counts as not answered).
//!
//! - **Area score** = 100 × Σ (weight × value) ÷ Σ weight, over the area's applicable
//!   questions, rounded to a whole number. An area where no question applies has no score.
//! - **Red flag**: a question marked as a red flag and answered "no". Red flags are listed apart
//!   from the score.
//! - **Risk** of an area: *high* if its score is below 50 or it has a red flag; otherwise
//!   *medium* if its score is below 75 or it has two gaps or more; otherwise *low*. An area
//!   without a score is *low*.
//! - **Overall score** = 100 × Σ (weight × value) ÷ Σ weight over every applicable question of
//!   every area, rounded: each question counts by its weight, wherever it sits.
//! - **Explanation**: each applicable question that lost points, with the points it cost its
//!   area: 100 × weight × (1 − value) ÷ Σ weight of the area's applicable questions, to one
//!   decimal. The points lost and the area score add up to 100, give or take rounding.
//!
//! Pure code: the browser shows the same numbers as the server.
use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::bank::{Area, AreaBank, Bank, Choice, Question};

/// How worried to be about an area.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Risk {
    High,
    Medium,
    Low,
}

impl Risk {
    pub fn as_str(self) -> &'static str {
        match self {
            Risk::High => "high",
            Risk::Medium => "medium",
            Risk::Low => "low",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Risk::High => "High risk",
            Risk::Medium => "Medium risk",
            Risk::Low => "Low risk",
        }
    }
}

/// A red-flag question answered "no".
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RedFlag {
    pub question_id: String,
    pub area: Area,
    pub prompt: String,
}

/// One line of an area's explanation: a question and what it cost the area.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScoreLine {
    pub question_id: String,
    pub prompt: String,
    /// `None`: not answered yet.
    pub choice: Option<Choice>,
    pub weight: u32,
    /// Points of the area's 100 this answer cost, to one decimal.
    pub points_lost: f64,
    /// Says it in words: `"No" cost 15.0 points`.
    pub note: String,
}

/// One area's score, risk, red flags, gaps and the lines that explain the score.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AreaScore {
    pub area: Area,
    pub title: String,
    /// 0 to 100; `None` when no question of the area applies.
    pub score: Option<u32>,
    pub risk: Risk,
    /// Questions with an answer of any kind (including "don't know" and "not applicable").
    pub answered: usize,
    pub questions: usize,
    pub red_flags: Vec<RedFlag>,
    /// Ids of questions answered "don't know".
    pub gaps: Vec<String>,
    /// Ids of questions without an answer.
    pub unanswered: Vec<String>,
    /// Questions that lost points, most costly first, then the questions left out as not
    /// applicable.
    pub explanation: Vec<ScoreLine>,
}

/// The scores of every area of a bank and the overall score.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Scorecard {
    pub areas: Vec<AreaScore>,
    /// 0 to 100; `None` when no question applies anywhere.
    pub overall: Option<u32>,
    pub answered: usize,
    pub questions: usize,
    /// Every red flag, in bank order.
    pub red_flags: Vec<RedFlag>,
}

/// What an answer means for the score, once "not applicable" has been checked against the
/// question.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Counted {
    /// Out of the score.
    NotApplicable,
    /// In the score, worth `halves` / 2.
    Scored { choice: Option<Choice>, halves: u64 },
}

fn counted(question: &Question, choice: Option<Choice>) -> Counted {
    match choice {
        Some(Choice::NotApplicable) if question.allows_not_applicable => Counted::NotApplicable,
        // "Not applicable" on a question that does not offer it: not a valid answer.
        Some(Choice::NotApplicable) | None => Counted::Scored {
            choice: None,
            halves: 0,
        },
        Some(Choice::Yes) => Counted::Scored { choice, halves: 2 },
        Some(Choice::Partly) => Counted::Scored { choice, halves: 1 },
        Some(Choice::No) | Some(Choice::DontKnow) => Counted::Scored { choice, halves: 0 },
    }
}

/// Σ weight × value (in halves) and Σ weight of the applicable questions.
#[derive(Debug, Clone, Copy, Default)]
struct Tally {
    earned_halves: u64,
    applicable_weight: u64,
}

impl Tally {
    /// round(100 × earned ÷ applicable), in whole numbers so the result is exact.
    fn percent(self) -> Option<u32> {
        if self.applicable_weight == 0 {
            return None;
        }
        // 100 × (h / 2) / w rounded half up = ⌊(100·h + w) / (2·w)⌋.
        let value =
            (100 * self.earned_halves + self.applicable_weight) / (2 * self.applicable_weight);
        Some(u32::try_from(value.min(100)).unwrap_or(100))
    }
}

/// Scores `answers` (question id → choice) against `bank`. Answers to questions the bank does not
/// have are ignored.
pub fn score(bank: &Bank, answers: &HashMap<String, Choice>) -> Scorecard {
    let mut total = Tally::default();
    let areas: Vec<AreaScore> = bank
        .areas
        .iter()
        .map(|area| {
            let (area_score, tally) = score_area(area, answers);
            total.earned_halves += tally.earned_halves;
            total.applicable_weight += tally.applicable_weight;
            area_score
        })
        .collect();
    Scorecard {
        overall: total.percent(),
        answered: areas.iter().map(|a| a.answered).sum(),
        questions: areas.iter().map(|a| a.questions).sum(),
        red_flags: areas.iter().flat_map(|a| a.red_flags.clone()).collect(),
        areas,
    }
}

fn score_area(area: &AreaBank, answers: &HashMap<String, Choice>) -> (AreaScore, Tally) {
    let mut tally = Tally::default();
    let mut answered = 0;
    let mut red_flags = Vec::new();
    let mut gaps = Vec::new();
    let mut unanswered = Vec::new();
    let counted: Vec<(&Question, Counted)> = area
        .questions
        .iter()
        .map(|q| {
            let choice = answers.get(&q.id).copied();
            let c = counted(q, choice);
            match c {
                Counted::NotApplicable => answered += 1,
                Counted::Scored { choice, halves } => {
                    tally.earned_halves += u64::from(q.weight) * halves;
                    tally.applicable_weight += u64::from(q.weight);
                    match choice {
                        None => unanswered.push(q.id.clone()),
                        Some(choice) => {
                            answered += 1;
                            if choice == Choice::DontKnow {
                                gaps.push(q.id.clone());
                            }
                            if choice == Choice::No && q.red_flag {
                                red_flags.push(RedFlag {
                                    question_id: q.id.clone(),
                                    area: area.area,
                                    prompt: q.prompt.clone(),
                                });
                            }
                        }
                    }
                }
            }
            (q, c)
        })
        .collect();

    let score = tally.percent();
    let explanation = explain(&counted, tally.applicable_weight);
    let risk = match score {
        None => Risk::Low,
        Some(s) if s < 50 || !red_flags.is_empty() => Risk::High,
        Some(s) if s < 75 || gaps.len() >= 2 => Risk::Medium,
        Some(_) => Risk::Low,
    };
    let area_score = AreaScore {
        area: area.area,
        title: area.title.clone(),
        score,
        risk,
        answered,
        questions: area.questions.len(),
        red_flags,
        gaps,
        unanswered,
        explanation,
    };
    (area_score, tally)
}

fn explain(counted: &[(&Question, Counted)], applicable_weight: u64) -> Vec<ScoreLine> {
    let mut lost = Vec::new();
    let mut left_out = Vec::new();
    for (q, c) in counted {
        match *c {
            Counted::NotApplicable => left_out.push(ScoreLine {
                question_id: q.id.clone(),
                prompt: q.prompt.clone(),
                choice: Some(Choice::NotApplicable),
                weight: q.weight,
                points_lost: 0.0,
                note: "Not applicable: left out of the score".to_owned(),
            }),
            Counted::Scored { choice, halves } => {
                if halves >= 2 || q.weight == 0 || applicable_weight == 0 {
                    continue;
                }
                let missing = (2 - halves) as f64 / 2.0;
                let points = 100.0 * f64::from(q.weight) * missing / applicable_weight as f64;
                let points_lost = (points * 10.0).round() / 10.0;
                let note = match choice {
                    None => format!("Not answered yet: cost {points_lost:.1} points"),
                    Some(Choice::DontKnow) => {
                        format!("\"Don't know\" counts as a gap: cost {points_lost:.1} points")
                    }
                    Some(other) => format!("\"{}\" cost {points_lost:.1} points", other.label()),
                };
                lost.push(ScoreLine {
                    question_id: q.id.clone(),
                    prompt: q.prompt.clone(),
                    choice,
                    weight: q.weight,
                    points_lost,
                    note,
                });
            }
        }
    }
    // Stable: equal losses keep bank order.
    lost.sort_by(|a, b| b.points_lost.total_cmp(&a.points_lost));
    lost.extend(left_out);
    lost
}

#[cfg(test)]
mod tests {
    use super::*;

    fn question(area: Area, slug: &str, weight: u32, red_flag: bool) -> Question {
        Question {
            id: format!("{}.{slug}", area.as_str()),
            area,
            prompt: format!("{slug}?"),
            help: "help".to_owned(),
            weight,
            red_flag,
            allows_not_applicable: true,
            evidence: vec![],
            probe_checks: vec![],
            interventions: vec![],
            sources: vec![],
        }
    }

    fn bank(areas: Vec<(Area, Vec<Question>)>) -> Bank {
        Bank {
            areas: areas
                .into_iter()
                .map(|(area, questions)| AreaBank {
                    area,
                    title: area.label().to_owned(),
                    question: "?".to_owned(),
                    red_flag: "!".to_owned(),
                    questions,
                })
                .collect(),
            interventions: vec![],
        }
    }

    fn answers(pairs: &[(&str, Choice)]) -> HashMap<String, Choice> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), *v)).collect()
    }

    fn one_area() -> Bank {
        let o = Area::Observability;
        bank(vec![(
            o,
            vec![
                question(o, "a", 3, true),
                question(o, "b", 2, false),
                question(o, "c", 1, false),
                question(o, "d", 2, false),
            ],
        )])
    }

    #[test]
    fn all_yes_is_100_and_low_risk() {
        let card = score(
            &one_area(),
            &answers(&[
                ("observability.a", Choice::Yes),
                ("observability.b", Choice::Yes),
                ("observability.c", Choice::Yes),
                ("observability.d", Choice::Yes),
            ]),
        );
        let area = &card.areas[0];
        assert_eq!(area.score, Some(100));
        assert_eq!(area.risk, Risk::Low);
        assert!(area.explanation.is_empty());
        assert_eq!(card.overall, Some(100));
        assert_eq!(card.answered, 4);
        assert_eq!(card.questions, 4);
    }

    #[test]
    fn weights_values_and_lists() {
        // Weights 3, 2, 1, 2 = 8. a no (0), b partly (1), c don't know (0), d unanswered (0).
        let card = score(
            &one_area(),
            &answers(&[
                ("observability.a", Choice::No),
                ("observability.b", Choice::Partly),
                ("observability.c", Choice::DontKnow),
                ("unknown.question", Choice::Yes),
            ]),
        );
        let area = &card.areas[0];
        assert_eq!(area.score, Some(13)); // 100 × 1 / 8 = 12.5 → 13
        assert_eq!(area.risk, Risk::High);
        assert_eq!(area.answered, 3);
        assert_eq!(area.gaps, vec!["observability.c"]);
        assert_eq!(area.unanswered, vec!["observability.d"]);
        assert_eq!(area.red_flags.len(), 1);
        assert_eq!(area.red_flags[0].question_id, "observability.a");
        assert_eq!(card.red_flags, area.red_flags);

        let lines: Vec<(&str, f64, &str)> = area
            .explanation
            .iter()
            .map(|l| (l.question_id.as_str(), l.points_lost, l.note.as_str()))
            .collect();
        assert_eq!(
            lines,
            vec![
                ("observability.a", 37.5, "\"No\" cost 37.5 points"),
                (
                    "observability.d",
                    25.0,
                    "Not answered yet: cost 25.0 points"
                ),
                ("observability.b", 12.5, "\"Partly\" cost 12.5 points"),
                (
                    "observability.c",
                    12.5,
                    "\"Don't know\" counts as a gap: cost 12.5 points"
                ),
            ]
        );
        let lost: f64 = area.explanation.iter().map(|l| l.points_lost).sum();
        assert!((lost + 13.0 - 100.0).abs() <= 0.5 + 1e-9);
    }

    #[test]
    fn not_applicable_leaves_the_denominator() {
        let card = score(
            &one_area(),
            &answers(&[
                ("observability.a", Choice::Yes),
                ("observability.b", Choice::NotApplicable),
                ("observability.c", Choice::No),
                ("observability.d", Choice::NotApplicable),
            ]),
        );
        let area = &card.areas[0];
        assert_eq!(area.score, Some(75)); // 3 of 4
        assert_eq!(area.risk, Risk::Low);
        assert_eq!(area.answered, 4);
        let last = area.explanation.last().expect("lines");
        assert_eq!(last.points_lost, 0.0);
        assert_eq!(last.note, "Not applicable: left out of the score");
        assert_eq!(area.explanation.len(), 3);
        assert_eq!(area.explanation[0].question_id, "observability.c");
        assert_eq!(area.explanation[0].points_lost, 25.0);
    }

    #[test]
    fn not_applicable_where_not_offered_counts_as_unanswered() {
        let mut bank = one_area();
        bank.areas[0].questions[0].allows_not_applicable = false;
        let card = score(
            &bank,
            &answers(&[("observability.a", Choice::NotApplicable)]),
        );
        let area = &card.areas[0];
        assert!(area.unanswered.contains(&"observability.a".to_owned()));
        assert_eq!(area.score, Some(0));
    }

    #[test]
    fn all_not_applicable_has_no_score_and_low_risk() {
        let card = score(
            &one_area(),
            &answers(&[
                ("observability.a", Choice::NotApplicable),
                ("observability.b", Choice::NotApplicable),
                ("observability.c", Choice::NotApplicable),
                ("observability.d", Choice::NotApplicable),
            ]),
        );
        assert_eq!(card.areas[0].score, None);
        assert_eq!(card.areas[0].risk, Risk::Low);
        assert_eq!(card.overall, None);
    }

    #[test]
    fn two_gaps_make_medium_risk() {
        let o = Area::Observability;
        let bank = bank(vec![(
            o,
            (0..10)
                .map(|i| question(o, &format!("q{i}"), 1, false))
                .collect(),
        )]);
        let mut given: HashMap<String, Choice> = (0..10)
            .map(|i| (format!("observability.q{i}"), Choice::Yes))
            .collect();
        given.insert("observability.q0".to_owned(), Choice::DontKnow);
        assert_eq!(score(&bank, &given).areas[0].risk, Risk::Low); // 90, one gap
        given.insert("observability.q1".to_owned(), Choice::DontKnow);
        let card = score(&bank, &given);
        assert_eq!(card.areas[0].score, Some(80));
        assert_eq!(card.areas[0].risk, Risk::Medium);
    }

    #[test]
    fn risk_thresholds() {
        let o = Area::Observability;
        let bank = bank(vec![(
            o,
            (0..4)
                .map(|i| question(o, &format!("q{i}"), 1, false))
                .collect(),
        )]);
        let with = |yes: usize| -> (Option<u32>, Risk) {
            let given: HashMap<String, Choice> = (0..4)
                .map(|i| {
                    let c = if i < yes { Choice::Yes } else { Choice::No };
                    (format!("observability.q{i}"), c)
                })
                .collect();
            let card = score(&bank, &given);
            (card.areas[0].score, card.areas[0].risk)
        };
        assert_eq!(with(1), (Some(25), Risk::High));
        assert_eq!(with(2), (Some(50), Risk::Medium));
        assert_eq!(with(3), (Some(75), Risk::Low));
    }

    #[test]
    fn overall_weighs_questions_not_areas() {
        let o = Area::Observability;
        let d = Area::Database;
        let bank = bank(vec![
            (o, vec![question(o, "a", 1, false)]),
            (
                d,
                vec![
                    question(d, "a", 3, false),
                    question(d, "b", 5, false),
                    question(d, "c", 1, false),
                ],
            ),
        ]);
        let card = score(
            &bank,
            &answers(&[
                ("observability.a", Choice::Yes),
                ("database.a", Choice::No),
                ("database.b", Choice::No),
                ("database.c", Choice::No),
            ]),
        );
        assert_eq!(card.areas[0].score, Some(100));
        assert_eq!(card.areas[1].score, Some(0));
        assert_eq!(card.overall, Some(10)); // 1 of 10
    }

    #[cfg(feature = "server")]
    #[test]
    fn risk_serialises_in_snake_case() {
        assert_eq!(
            serde_json::to_string(&Risk::Medium).expect("serialises"),
            "\"medium\""
        );
        assert_eq!(Risk::High.as_str(), "high");
    }
}
