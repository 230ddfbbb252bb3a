//! Loading question banks: the built-in bank is whole and consistent, and a broken file is
//! reported with its name and the line at fault.
use std::collections::HashSet;

use audit::questionnaire::{
    assemble, builtin_bank, check_file, parse_area_file, parse_interventions_file, Area, AreaFile,
    BankErrors, InterventionTemplate,
};

const CATALOGUE: &str = r#"
[[interventions]]
id = "latency-dashboards"
title = "Latency dashboards"
rationale = "Percentiles per route."
impact = 4
effort_weeks = 1.5

[[interventions]]
id = "slow-query-log"
title = "Slow query log"
rationale = "Log queries slower than 100 ms."
impact = 3
effort_weeks = 0.5
"#;

/// A valid area file for `area`, two questions.
fn area_text(area: Area) -> String {
    let id = area.as_str();
    format!(
        r#"area = "{id}"
title = "{title}"
question = "Is it fine?"
red_flag = "If nobody knows, it is not fine."

[[questions]]
id = "{id}.first"
prompt = "Do you measure it?"
help = """
Because *measuring* matters.
"""
weight = 3
red_flag = true
evidence = ["a dashboard"]
probe_checks = ["http.latency-percentiles"]
interventions = ["latency-dashboards"]
sources = ["000 Observability: latency"]

[[questions]]
id = "{id}.second"
prompt = "Do you log slow queries?"
help = "Because they hide."
weight = 2
allows_not_applicable = false
interventions = ["slow-query-log"]
"#,
        title = area.label()
    )
}

fn catalogue() -> Vec<InterventionTemplate> {
    parse_interventions_file("bank/interventions.toml", CATALOGUE).expect("the catalogue parses")
}

fn all_areas() -> Vec<AreaFile> {
    Area::ALL
        .into_iter()
        .map(|area| {
            parse_area_file(&format!("bank/{}.toml", area.as_str()), &area_text(area))
                .expect("the area parses")
        })
        .collect()
}

/// (line, message) of every problem, for the file named `file`.
fn problems_in(errors: &BankErrors, file: &str) -> Vec<(usize, String)> {
    errors
        .0
        .iter()
        .filter(|p| p.file == file)
        .map(|p| (p.line, p.message.clone()))
        .collect()
}

fn line_of(text: &str, needle: &str) -> usize {
    text.lines()
        .position(|l| l.contains(needle))
        .map(|i| i + 1)
        .unwrap_or_else(|| panic!("`{needle}` is not in the text"))
}

#[test]
fn the_builtin_bank_loads_whole() {
    let bank = builtin_bank().unwrap_or_else(|e| panic!("the built-in bank loads:\n{e}"));
    let areas: Vec<Area> = bank.areas.iter().map(|a| a.area).collect();
    assert_eq!(areas, Area::ALL.to_vec());
    for area in &bank.areas {
        assert!(
            (8..=15).contains(&area.questions.len()),
            "{} has {} questions",
            area.area.as_str(),
            area.questions.len()
        );
        for q in &area.questions {
            assert_eq!(q.area, area.area, "{}", q.id);
            assert!(q.id.starts_with(&format!("{}.", area.area.as_str())));
        }
    }
    let used: HashSet<&str> = bank
        .questions()
        .flat_map(|q| q.interventions.iter().map(String::as_str))
        .collect();
    for intervention in &bank.interventions {
        assert!(
            used.contains(intervention.id.as_str()),
            "no question suggests intervention `{}`",
            intervention.id
        );
    }
    // Serialises for `plumbline bank export` and back.
    let json = serde_json::to_string(&bank).expect("serialises");
    let back: audit::questionnaire::Bank = serde_json::from_str(&json).expect("deserialises");
    assert_eq!(back, bank);
}

#[test]
fn every_builtin_file_passes_the_check() {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../bank");
    for name in [
        "observability",
        "database",
        "caching-queues",
        "deployment-infrastructure",
        "people",
        "interventions",
    ] {
        let file = format!("bank/{name}.toml");
        let text = std::fs::read_to_string(format!("{root}/{name}.toml")).expect("readable");
        let summary = check_file(&file, &text).unwrap_or_else(|e| panic!("{e}"));
        assert!(summary.starts_with(&format!("{file}: ")), "{summary}");
        assert!(summary.ends_with("no problems"), "{summary}");
    }
}

#[test]
fn a_fixture_bank_assembles_in_questionnaire_order() {
    let mut areas = all_areas();
    areas.reverse();
    let bank = assemble(areas, catalogue()).expect("assembles");
    let order: Vec<Area> = bank.areas.iter().map(|a| a.area).collect();
    assert_eq!(order, Area::ALL.to_vec());
    let q = bank.question("database.second").expect("present");
    assert_eq!(q.area, Area::Database);
    assert!(!q.allows_not_applicable);
    assert!(!q.red_flag);
    assert_eq!(q.weight, 2);
    let first = bank.question("people.first").expect("present");
    assert!(first.allows_not_applicable);
    assert!(first.red_flag);
    assert_eq!(first.help, "Because *measuring* matters.\n");
}

#[test]
fn a_syntax_error_names_the_file_and_line() {
    let text = area_text(Area::Database).replace("weight = 2", "weight = = 2");
    let errors = parse_area_file("bank/database.toml", &text).expect_err("broken");
    let line = line_of(&text, "weight = = 2");
    assert_eq!(errors.0.len(), 1, "{errors}");
    assert_eq!(errors.0[0].file, "bank/database.toml");
    assert_eq!(errors.0[0].line, line, "{errors}");
    assert!(errors
        .to_string()
        .starts_with(&format!("bank/database.toml:{line}: ")));
    // One problem, one line, even where toml's own message has several.
    assert_eq!(errors.to_string().lines().count(), 1, "{errors}");
}

#[test]
fn an_unknown_key_names_its_line() {
    let text = area_text(Area::Database).replace("weight = 2", "weight = 2\nwieght = 3");
    let errors = parse_area_file("bank/database.toml", &text).expect_err("broken");
    let problems = problems_in(&errors, "bank/database.toml");
    assert_eq!(problems.len(), 1, "{errors}");
    assert_eq!(problems[0].0, line_of(&text, "wieght"), "{errors}");
    assert!(problems[0].1.contains("wieght"), "{errors}");

    let top = format!("colour = \"blue\"\n{}", area_text(Area::Database));
    let errors = parse_area_file("bank/database.toml", &top).expect_err("broken");
    assert_eq!(errors.0[0].line, 1, "{errors}");
}

#[test]
fn a_missing_key_is_reported() {
    let text = area_text(Area::Database).replace("help = \"Because they hide.\"\n", "");
    let errors = parse_area_file("bank/database.toml", &text).expect_err("broken");
    assert!(errors.to_string().contains("help"), "{errors}");
    assert!(errors.0[0].line >= line_of(&text, "id = \"database.second\"") - 1);
}

#[test]
fn a_bad_weight_names_its_line() {
    let text = area_text(Area::Database).replace("weight = 2", "weight = 7");
    let errors = parse_area_file("bank/database.toml", &text).expect_err("broken");
    assert_eq!(
        problems_in(&errors, "bank/database.toml"),
        vec![(
            line_of(&text, "weight = 7"),
            "weight is 7; it must be 1 to 5".to_owned()
        )]
    );
    let text = area_text(Area::Database).replace("weight = 2", "weight = -1");
    let errors = parse_area_file("bank/database.toml", &text).expect_err("broken");
    assert_eq!(errors.0[0].line, line_of(&text, "weight = -1"));
}

#[test]
fn a_duplicate_id_names_the_second_line() {
    let text = area_text(Area::Database).replace("database.second", "database.first");
    let errors = parse_area_file("bank/database.toml", &text).expect_err("broken");
    let first = line_of(&text, "id = \"database.first\"");
    let second = text
        .lines()
        .enumerate()
        .filter(|(_, l)| l.contains("id = \"database.first\""))
        .map(|(i, _)| i + 1)
        .nth(1)
        .expect("twice");
    assert_eq!(
        problems_in(&errors, "bank/database.toml"),
        vec![(
            second,
            format!("question id `database.first` is used twice (first on line {first})")
        )]
    );
}

#[test]
fn an_unknown_intervention_names_the_question_file_and_line() {
    let mut areas = all_areas();
    let text = area_text(Area::CachingQueues).replace(
        "[\"slow-query-log\"]",
        "[\"slow-query-log\", \"add-more-servers\"]",
    );
    let broken =
        parse_area_file("bank/caching-queues.toml", &text).expect("valid on its own terms");
    areas[2] = broken;
    let errors = assemble(areas, catalogue()).expect_err("unknown intervention");
    assert_eq!(errors.0.len(), 1, "{errors}");
    let problem = &errors.0[0];
    assert_eq!(problem.file, "bank/caching-queues.toml");
    assert_eq!(problem.line, line_of(&text, "add-more-servers"));
    assert!(
        problem.message.contains("add-more-servers")
            && problem.message.contains("caching-queues.second"),
        "{errors}"
    );
}

#[test]
fn check_file_checks_interventions_against_the_builtin_catalogue() {
    let text = area_text(Area::Observability).replace(
        "interventions = [\"latency-dashboards\"]",
        "interventions = [\"no-such-intervention-anywhere\"]",
    );
    let errors = check_file("mine.toml", &text).expect_err("unknown intervention");
    assert!(errors.0.iter().any(|p| p.file == "mine.toml"
        && p.line == line_of(&text, "no-such-intervention-anywhere")
        && p.message.contains("no-such-intervention-anywhere")));
}

#[test]
fn check_file_tells_a_catalogue_from_an_area() {
    let summary = check_file("x.toml", CATALOGUE).expect("valid");
    assert_eq!(summary, "x.toml: 2 interventions, no problems");
    let errors = check_file("x.toml", "title = [").expect_err("syntax");
    assert_eq!(errors.0[0].line, 1);
}

#[test]
fn every_problem_of_a_file_is_reported() {
    let text = area_text(Area::People)
        .replace("weight = 3", "weight = 0")
        .replace("prompt = \"Do you log slow queries?\"", "prompt = \"  \"")
        .replace("http.latency-percentiles", "smtp.latency")
        .replace("[\"slow-query-log\"]", "[\"Slow_Query_Log\"]")
        .replace("id = \"people.second\"", "id = \"database.second\"")
        .replace("title = \"People layer\"", "title = \"\"");
    let errors = parse_area_file("bank/people.toml", &text).expect_err("broken");
    let lines: Vec<usize> = errors.0.iter().map(|p| p.line).collect();
    assert_eq!(
        lines,
        vec![
            line_of(&text, "title = \"\""),
            line_of(&text, "weight = 0"),
            line_of(&text, "smtp.latency"),
            line_of(&text, "database.second"),
            line_of(&text, "prompt = \"  \""),
            line_of(&text, "Slow_Query_Log"),
        ],
        "{errors}"
    );
}

#[test]
fn question_id_shape_and_area() {
    for bad in [
        "first",
        "people.First",
        "people.",
        "peeple.first",
        "people.a_b",
    ] {
        let text = area_text(Area::People).replace("people.first", bad);
        let errors = parse_area_file("bank/people.toml", &text).expect_err(bad);
        assert_eq!(errors.0.len(), 1, "{bad}: {errors}");
        assert_eq!(errors.0[0].line, line_of(&text, &format!("id = \"{bad}\"")));
    }
    let text = area_text(Area::People).replace("area = \"people\"", "area = \"peeple\"");
    let errors = parse_area_file("bank/people.toml", &text).expect_err("unknown area");
    assert!(
        errors.to_string().contains("unknown area `peeple`"),
        "{errors}"
    );
}

#[test]
fn question_count_and_prompt_length_are_bounded() {
    let head = area_text(Area::People);
    let head = &head[..head.find("[[questions]]").expect("questions")];
    let errors = parse_area_file("p.toml", head).expect_err("no questions");
    assert!(errors.to_string().contains("no questions"), "{errors}");

    let mut many = head.to_owned();
    for i in 0..41 {
        many.push_str(&format!(
            "[[questions]]\nid = \"people.q{i}\"\nprompt = \"?\"\nhelp = \"h\"\nweight = 1\n\n"
        ));
    }
    let errors = parse_area_file("p.toml", &many).expect_err("too many");
    assert_eq!(errors.0.len(), 1, "{errors}");
    assert!(errors.0[0].message.contains("41 questions"), "{errors}");
    assert_eq!(errors.0[0].line, line_of(&many, "people.q40") - 1);

    let long = "x".repeat(301);
    let text = area_text(Area::People).replace("Do you measure it?", &long);
    let errors = parse_area_file("p.toml", &text).expect_err("too long");
    assert_eq!(errors.0[0].line, line_of(&text, &long));
}

#[test]
fn catalogue_problems_are_all_reported() {
    let text = CATALOGUE
        .replace("impact = 3", "impact = 6")
        .replace("effort_weeks = 1.5", "effort_weeks = 0")
        .replace("id = \"slow-query-log\"", "id = \"latency-dashboards\"")
        .replace("title = \"Latency dashboards\"", "title = \"\"");
    let errors = parse_interventions_file("bank/interventions.toml", &text).expect_err("broken");
    let lines: Vec<usize> = errors.0.iter().map(|p| p.line).collect();
    let second_id = text
        .lines()
        .enumerate()
        .filter(|(_, l)| l.contains("id = \"latency-dashboards\""))
        .map(|(i, _)| i + 1)
        .nth(1)
        .expect("twice");
    assert_eq!(
        lines,
        vec![
            line_of(&text, "title = \"\""),
            line_of(&text, "effort_weeks = 0"),
            second_id,
            line_of(&text, "impact = 6"),
        ],
        "{errors}"
    );
    let over = CATALOGUE.replace("effort_weeks = 0.5", "effort_weeks = 27");
    let errors = parse_interventions_file("i.toml", &over).expect_err("too long");
    assert_eq!(errors.0[0].line, line_of(&over, "effort_weeks = 27"));
    let unknown = CATALOGUE.replace("impact = 4", "impact = 4\ncost = 3");
    let errors = parse_interventions_file("i.toml", &unknown).expect_err("unknown key");
    assert_eq!(errors.0[0].line, line_of(&unknown, "cost = 3"));
}

#[test]
fn areas_must_each_appear_once() {
    let mut areas = all_areas();
    areas.pop();
    let extra = parse_area_file(
        "bank/copy.toml",
        &area_text(Area::Database).replace("database.", "database.x"),
    )
    .expect("valid");
    areas.push(extra);
    let errors = assemble(areas, catalogue()).expect_err("people missing, database twice");
    let text = errors.to_string();
    assert!(
        text.contains("bank/copy.toml:1: area `database` is already defined in bank/database.toml"),
        "{text}"
    );
    assert!(
        text.contains("bank: no file has area = \"people\""),
        "{text}"
    );
}
