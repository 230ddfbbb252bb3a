//! The question bank and the probes agree: every check a question names is one a probe
//! produces (or one of the few that need a forge's API), and check ids are unique.
use std::collections::HashSet;

use audit::probes::{check_ids, FORGE_API_CHECKS};

#[test]
fn every_check_the_bank_names_is_produced_by_a_probe() {
    let produced: HashSet<&str> = check_ids().into_iter().collect();
    let bank = audit::questionnaire::builtin_bank().expect("the built-in bank");
    let mut missing = Vec::new();
    for question in bank.questions() {
        for id in &question.probe_checks {
            if !produced.contains(id.as_str()) && !FORGE_API_CHECKS.contains(&id.as_str()) {
                missing.push(format!("{} names {id}", question.id));
            }
        }
    }
    assert!(missing.is_empty(), "checks no probe produces: {missing:?}");
}

#[test]
fn check_ids_are_unique_and_prefixed_by_their_probe() {
    let ids = check_ids();
    let unique: HashSet<&str> = ids.iter().copied().collect();
    assert_eq!(unique.len(), ids.len(), "a check id repeats: {ids:?}");
    for id in ids {
        assert!(
            ["http.", "pg.", "repo.", "logs."]
                .iter()
                .any(|p| id.starts_with(p)),
            "{id} has no probe prefix"
        );
    }
}
