//! Properties of scoring that hold for any bank and any answers: scores stay within 0 to 100,
//! a better answer never lowers a score, "not applicable" changes nothing, and an area's lost
//! points and its score add up to 100.
use std::collections::HashMap;

use proptest::prelude::*;

use audit::questionnaire::{score, Area, AreaBank, Bank, Choice, Question, Scorecard};

/// A question's shape: weight and red flag.
type Shape = (u32, bool);

fn question(area: Area, index: usize, (weight, red_flag): Shape) -> Question {
    Question {
        id: format!("{}.q{index}", area.as_str()),
        area,
        prompt: format!("Question {index}?"),
        help: "Why it matters.".to_owned(),
        weight,
        red_flag,
        allows_not_applicable: true,
        evidence: vec![],
        probe_checks: vec![],
        interventions: vec![],
        sources: vec![],
    }
}

fn build(shapes: &[Vec<Shape>]) -> Bank {
    Bank {
        areas: Area::ALL
            .into_iter()
            .zip(shapes)
            .map(|(area, questions)| AreaBank {
                area,
                title: area.label().to_owned(),
                question: "?".to_owned(),
                red_flag: "!".to_owned(),
                questions: questions
                    .iter()
                    .enumerate()
                    .map(|(i, shape)| question(area, i, *shape))
                    .collect(),
            })
            .collect(),
        interventions: vec![],
    }
}

fn any_answer() -> impl Strategy<Value = Option<Choice>> {
    prop_oneof![
        Just(None),
        Just(Some(Choice::Yes)),
        Just(Some(Choice::Partly)),
        Just(Some(Choice::No)),
        Just(Some(Choice::DontKnow)),
        Just(Some(Choice::NotApplicable)),
    ]
}

/// Five areas of 0 to 8 questions, each with an answer or none.
fn bank_and_answers() -> impl Strategy<Value = (Vec<Vec<Shape>>, Vec<Vec<Option<Choice>>>)> {
    proptest::collection::vec(
        proptest::collection::vec(((1u32..=5, any::<bool>()), any_answer()), 0..8),
        5,
    )
    .prop_map(|areas| {
        areas
            .into_iter()
            .map(|questions| questions.into_iter().unzip::<_, _, Vec<_>, Vec<_>>())
            .unzip()
    })
}

fn answer_map(bank: &Bank, answers: &[Vec<Option<Choice>>]) -> HashMap<String, Choice> {
    bank.areas
        .iter()
        .zip(answers)
        .flat_map(|(area, given)| {
            area.questions
                .iter()
                .zip(given)
                .filter_map(|(q, c)| c.map(|c| (q.id.clone(), c)))
        })
        .collect()
}

/// How good an answer is, for answers that count: unanswered, no and don't know are worth
/// nothing, partly half, yes all.
fn rank(choice: Option<Choice>) -> Option<u8> {
    match choice {
        Some(Choice::NotApplicable) => None,
        Some(Choice::Yes) => Some(2),
        Some(Choice::Partly) => Some(1),
        Some(Choice::No) | Some(Choice::DontKnow) | None => Some(0),
    }
}

fn scores(card: &Scorecard) -> (Vec<Option<u32>>, Option<u32>) {
    (card.areas.iter().map(|a| a.score).collect(), card.overall)
}

proptest! {
    #[test]
    fn scores_stay_between_0_and_100((shapes, answers) in bank_and_answers()) {
        let bank = build(&shapes);
        let card = score(&bank, &answer_map(&bank, &answers));
        for area in &card.areas {
            if let Some(s) = area.score {
                prop_assert!(s <= 100);
            }
            for line in &area.explanation {
                prop_assert!((0.0..=100.0).contains(&line.points_lost));
            }
        }
        if let Some(s) = card.overall {
            prop_assert!(s <= 100);
        }
        prop_assert_eq!(card.questions, shapes.iter().map(Vec::len).sum::<usize>());
    }

    #[test]
    fn a_better_answer_never_lowers_a_score(
        (shapes, answers) in bank_and_answers(),
        pick in any::<prop::sample::Index>(),
        better in prop_oneof![Just(Choice::Partly), Just(Choice::Yes)],
    ) {
        let positions: Vec<(usize, usize)> = answers
            .iter()
            .enumerate()
            .flat_map(|(a, given)| (0..given.len()).map(move |q| (a, q)))
            .collect();
        prop_assume!(!positions.is_empty());
        let (a, q) = positions[pick.index(positions.len())];
        let before_rank = rank(answers[a][q]);
        prop_assume!(before_rank.is_some_and(|r| r < rank(Some(better)).unwrap_or(0)));

        let bank = build(&shapes);
        let before = score(&bank, &answer_map(&bank, &answers));
        let mut raised = answers.clone();
        raised[a][q] = Some(better);
        let after = score(&bank, &answer_map(&bank, &raised));

        let (areas_before, overall_before) = scores(&before);
        let (areas_after, overall_after) = scores(&after);
        for (b, f) in areas_before.iter().zip(&areas_after) {
            prop_assert_eq!(b.is_some(), f.is_some());
        }
        prop_assert!(areas_after[a] >= areas_before[a], "{:?} -> {:?}", areas_before[a], areas_after[a]);
        prop_assert!(overall_after >= overall_before, "{:?} -> {:?}", overall_before, overall_after);
        // The other areas do not move.
        for (i, (b, f)) in areas_before.iter().zip(&areas_after).enumerate() {
            if i != a {
                prop_assert_eq!(b, f);
            }
        }
    }

    #[test]
    fn a_question_answered_not_applicable_changes_no_score(
        (shapes, answers) in bank_and_answers(),
        area in 0usize..5,
        shape in (1u32..=5, any::<bool>()),
    ) {
        let bank = build(&shapes);
        let before = score(&bank, &answer_map(&bank, &answers));

        let mut more_shapes = shapes.clone();
        let mut more_answers = answers.clone();
        more_shapes[area].push(shape);
        more_answers[area].push(Some(Choice::NotApplicable));
        let bank = build(&more_shapes);
        let after = score(&bank, &answer_map(&bank, &more_answers));

        prop_assert_eq!(scores(&before), scores(&after));
        for (b, f) in before.areas.iter().zip(&after.areas) {
            prop_assert_eq!(b.risk, f.risk);
            prop_assert_eq!(&b.red_flags, &f.red_flags);
            prop_assert_eq!(&b.gaps, &f.gaps);
        }
    }

    #[test]
    fn points_lost_and_score_add_up_to_100((shapes, answers) in bank_and_answers()) {
        let bank = build(&shapes);
        let card = score(&bank, &answer_map(&bank, &answers));
        for area in &card.areas {
            let Some(s) = area.score else {
                prop_assert!(area.explanation.iter().all(|l| l.points_lost == 0.0));
                continue;
            };
            let lines = area.explanation.len() as f64;
            let lost: f64 = area.explanation.iter().map(|l| l.points_lost).sum();
            // The score is rounded to a whole number, each line to a tenth.
            let slack = 0.5 + 0.05 * lines + 1e-9;
            prop_assert!(
                (lost + f64::from(s) - 100.0).abs() <= slack,
                "score {} + lost {} in {:?}", s, lost, area.explanation
            );
            // Most costly first; "not applicable" lines last.
            let costs: Vec<f64> = area.explanation.iter().map(|l| l.points_lost).collect();
            prop_assert!(costs.windows(2).all(|w| w[0] >= w[1]), "{:?}", costs);
        }
    }

    #[test]
    fn red_flags_are_red_flag_questions_answered_no((shapes, answers) in bank_and_answers()) {
        let bank = build(&shapes);
        let card = score(&bank, &answer_map(&bank, &answers));
        let expected: usize = shapes
            .iter()
            .zip(&answers)
            .flat_map(|(s, a)| s.iter().zip(a))
            .filter(|((_, red), c)| *red && **c == Some(Choice::No))
            .count();
        prop_assert_eq!(card.red_flags.len(), expected);
        for area in &card.areas {
            if !area.red_flags.is_empty() {
                prop_assert_eq!(area.risk, audit::questionnaire::Risk::High);
            }
        }
    }
}
