//! Reading a bank from TOML: one file per area (`bank/observability.toml`, …) and the
//! intervention catalogue (`bank/interventions.toml`). Every problem names its file and line, and
//! a file is checked whole: all its problems are reported at once, not just the first.
//!
//! The built-in bank is compiled into the binary ([`builtin_bank`]); `plumbline bank check FILE`
//! runs [`check_file`] on a file being edited.
use std::collections::{HashMap, HashSet};
use std::fmt;
use std::ops::Range;

use serde::Deserialize;
use toml::Spanned;

use super::bank::{Area, AreaBank, Bank, InterventionTemplate, Question};

/// At most this many questions per area: a founder answers every one of them.
const MAX_QUESTIONS: usize = 40;
/// A prompt is one question a founder reads at a glance; the help says the rest.
const MAX_PROMPT_CHARS: usize = 300;
/// Half a year: an intervention bigger than that is a programme, not an intervention.
const MAX_EFFORT_WEEKS: f64 = 26.0;
const PROBE_KINDS: [&str; 4] = ["http", "pg", "repo", "logs"];

/// One thing wrong in a bank file, where it is and what it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BankProblem {
    pub file: String,
    /// 1-based; 0 when the problem is about the bank as a whole (a missing area).
    pub line: usize,
    pub message: String,
}

impl fmt::Display for BankProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "{}: {}", self.file, self.message)
        } else {
            write!(f, "{}:{}: {}", self.file, self.line, self.message)
        }
    }
}

/// Every problem found, in file order; displayed one per line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BankErrors(pub Vec<BankProblem>);

impl fmt::Display for BankErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, problem) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{problem}")?;
        }
        Ok(())
    }
}

impl std::error::Error for BankErrors {}

/// One area file, read and checked, with the lines its questions came from so that problems
/// found later (an intervention missing from the catalogue) can still name a line.
#[derive(Debug, Clone, PartialEq)]
pub struct AreaFile {
    pub file: String,
    pub bank: AreaBank,
    area_line: usize,
    /// Parallel to `bank.questions`.
    lines: Vec<QuestionLines>,
}

#[derive(Debug, Clone, PartialEq)]
struct QuestionLines {
    id: usize,
    /// Parallel to the question's `interventions`.
    interventions: Vec<usize>,
}

impl AreaFile {
    pub fn into_bank(self) -> AreaBank {
        self.bank
    }

    /// Problems for intervention ids that `known` does not contain.
    fn unknown_interventions(&self, known: &HashSet<&str>) -> Vec<BankProblem> {
        let mut problems = Vec::new();
        for (question, lines) in self.bank.questions.iter().zip(&self.lines) {
            for (id, line) in question.interventions.iter().zip(&lines.interventions) {
                if !known.contains(id.as_str()) {
                    problems.push(BankProblem {
                        file: self.file.clone(),
                        line: *line,
                        message: format!(
                            "question `{}` names intervention `{id}`, which is not in the catalogue",
                            question.id
                        ),
                    });
                }
            }
        }
        problems
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAreaFile {
    area: Spanned<String>,
    title: Spanned<String>,
    question: Spanned<String>,
    red_flag: Spanned<String>,
    #[serde(default)]
    questions: Vec<Spanned<RawQuestion>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawQuestion {
    id: Spanned<String>,
    prompt: Spanned<String>,
    help: Spanned<String>,
    // Signed so that `weight = -1` is reported as out of range rather than as a type error.
    weight: Spanned<i64>,
    #[serde(default)]
    red_flag: bool,
    #[serde(default = "yes")]
    allows_not_applicable: bool,
    #[serde(default)]
    evidence: Vec<String>,
    #[serde(default)]
    probe_checks: Vec<Spanned<String>>,
    #[serde(default)]
    interventions: Vec<Spanned<String>>,
    #[serde(default)]
    sources: Vec<String>,
}

fn yes() -> bool {
    true
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCatalogue {
    interventions: Vec<Spanned<RawIntervention>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawIntervention {
    id: Spanned<String>,
    title: Spanned<String>,
    rationale: Spanned<String>,
    impact: Spanned<i64>,
    effort_weeks: Spanned<f64>,
}

/// Collects the problems of one file.
struct Checker<'a> {
    file: &'a str,
    text: &'a str,
    problems: Vec<BankProblem>,
}

impl<'a> Checker<'a> {
    fn new(file: &'a str, text: &'a str) -> Self {
        Checker {
            file,
            text,
            problems: Vec::new(),
        }
    }

    fn line(&self, span: Range<usize>) -> usize {
        line_at(self.text, span.start)
    }

    fn report(&mut self, span: Range<usize>, message: impl Into<String>) {
        let line = self.line(span);
        self.problems.push(BankProblem {
            file: self.file.to_owned(),
            line,
            message: message.into(),
        });
    }

    fn non_empty(&mut self, value: &Spanned<String>, what: &str) {
        if value.get_ref().trim().is_empty() {
            self.report(value.span(), format!("{what} is empty"));
        }
    }

    fn finish<T>(mut self, value: T) -> Result<T, BankErrors> {
        if self.problems.is_empty() {
            Ok(value)
        } else {
            self.problems.sort_by_key(|p| p.line);
            Err(BankErrors(self.problems))
        }
    }
}

/// The 1-based line of a byte offset.
fn line_at(text: &str, offset: usize) -> usize {
    let end = offset.min(text.len());
    text.as_bytes()[..end]
        .iter()
        .filter(|b| **b == b'\n')
        .count()
        + 1
}

/// A TOML syntax or type error (missing key, unknown key, wrong type) at the line it points to.
fn syntax_problem(file: &str, text: &str, error: &toml::de::Error) -> BankErrors {
    let line = error.span().map_or(1, |span| line_at(text, span.start));
    BankErrors(vec![BankProblem {
        file: file.to_owned(),
        line,
        // toml's messages can run over several lines; a problem is one line.
        message: error
            .message()
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect::<Vec<_>>()
            .join("; "),
    }])
}

/// `[a-z0-9-]+`.
fn is_slug(value: &str) -> bool {
    !value.is_empty()
        && value
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// `[a-z0-9]+(-[a-z0-9]+)*`.
fn is_kebab(value: &str) -> bool {
    !value.is_empty()
        && value.split('-').all(|part| {
            !part.is_empty()
                && part
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        })
}

/// `(http|pg|repo|logs)\.[a-z0-9-]+`.
fn is_probe_check(value: &str) -> bool {
    value
        .split_once('.')
        .is_some_and(|(kind, name)| PROBE_KINDS.contains(&kind) && is_slug(name))
}

fn area_named(value: &str) -> Option<Area> {
    Area::ALL.into_iter().find(|a| a.as_str() == value)
}

fn area_ids() -> String {
    Area::ALL
        .iter()
        .map(|a| a.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Reads and checks one area file. `file` is the name problems are reported under.
pub fn parse_area_file(file: &str, text: &str) -> Result<AreaFile, BankErrors> {
    let raw: RawAreaFile = toml::from_str(text).map_err(|e| syntax_problem(file, text, &e))?;
    let mut check = Checker::new(file, text);

    let area = area_named(raw.area.get_ref());
    if area.is_none() {
        check.report(
            raw.area.span(),
            format!(
                "unknown area `{}`; the areas are {}",
                raw.area.get_ref(),
                area_ids()
            ),
        );
    }
    check.non_empty(&raw.title, "title");
    check.non_empty(&raw.question, "question");
    check.non_empty(&raw.red_flag, "red_flag");

    if raw.questions.is_empty() {
        check.report(
            raw.area.span(),
            "the area has no questions: add at least one [[questions]]",
        );
    } else if raw.questions.len() > MAX_QUESTIONS {
        check.report(
            raw.questions[MAX_QUESTIONS].span(),
            format!(
                "the area has {} questions; at most {MAX_QUESTIONS} are allowed",
                raw.questions.len()
            ),
        );
    }

    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut questions = Vec::with_capacity(raw.questions.len());
    let mut lines = Vec::with_capacity(raw.questions.len());
    for question in raw.questions {
        let q = question.into_inner();
        let id = q.id.get_ref().as_str();
        let id_line = check.line(q.id.span());
        match id.split_once('.') {
            Some((prefix, slug)) if is_slug(slug) && area_named(prefix).is_some() => {
                if let Some(area) = area {
                    if prefix != area.as_str() {
                        check.report(
                            q.id.span(),
                            format!(
                                "question id `{id}` is in the {} file; it must start with `{}.`",
                                area.as_str(),
                                area.as_str()
                            ),
                        );
                    }
                }
            }
            _ => check.report(
                q.id.span(),
                format!(
                    "question id `{id}` must be `<area>.<slug>`, e.g. `{}.latency-percentiles` \
                     (the slug in lowercase letters, digits and dashes)",
                    area.unwrap_or(Area::Observability).as_str()
                ),
            ),
        }
        if let Some(first) = seen.get(id) {
            check.report(
                q.id.span(),
                format!("question id `{id}` is used twice (first on line {first})"),
            );
        } else {
            seen.insert(id.to_owned(), id_line);
        }

        check.non_empty(&q.prompt, "prompt");
        let prompt_chars = q.prompt.get_ref().chars().count();
        if prompt_chars > MAX_PROMPT_CHARS {
            check.report(
                q.prompt.span(),
                format!(
                    "prompt is {prompt_chars} characters; at most {MAX_PROMPT_CHARS} (put the rest in help)"
                ),
            );
        }
        check.non_empty(&q.help, "help");
        let weight = *q.weight.get_ref();
        if !(1..=5).contains(&weight) {
            check.report(
                q.weight.span(),
                format!("weight is {weight}; it must be 1 to 5"),
            );
        }
        for probe in &q.probe_checks {
            if !is_probe_check(probe.get_ref()) {
                check.report(
                    probe.span(),
                    format!(
                        "probe check `{}` must be `<kind>.<name>` with kind one of {} \
                         and the name in lowercase letters, digits and dashes",
                        probe.get_ref(),
                        PROBE_KINDS.join(", ")
                    ),
                );
            }
        }
        let mut intervention_lines = Vec::with_capacity(q.interventions.len());
        for intervention in &q.interventions {
            if !is_kebab(intervention.get_ref()) {
                check.report(
                    intervention.span(),
                    format!(
                        "intervention id `{}` must be kebab-case (lowercase letters and digits \
                         joined by single dashes)",
                        intervention.get_ref()
                    ),
                );
            }
            intervention_lines.push(check.line(intervention.span()));
        }

        lines.push(QuestionLines {
            id: id_line,
            interventions: intervention_lines,
        });
        questions.push(Question {
            id: q.id.into_inner(),
            area: area.unwrap_or(Area::Observability),
            prompt: q.prompt.into_inner(),
            help: q.help.into_inner(),
            weight: u32::try_from(weight).unwrap_or(0),
            red_flag: q.red_flag,
            allows_not_applicable: q.allows_not_applicable,
            evidence: q.evidence,
            probe_checks: q
                .probe_checks
                .into_iter()
                .map(Spanned::into_inner)
                .collect(),
            interventions: q
                .interventions
                .into_iter()
                .map(Spanned::into_inner)
                .collect(),
            sources: q.sources,
        });
    }

    let area_line = check.line(raw.area.span());
    let bank = AreaBank {
        area: area.unwrap_or(Area::Observability),
        title: raw.title.into_inner(),
        question: raw.question.into_inner(),
        red_flag: raw.red_flag.into_inner(),
        questions,
    };
    check.finish(AreaFile {
        file: file.to_owned(),
        bank,
        area_line,
        lines,
    })
}

/// Reads and checks the intervention catalogue.
pub fn parse_interventions_file(
    file: &str,
    text: &str,
) -> Result<Vec<InterventionTemplate>, BankErrors> {
    let raw: RawCatalogue = toml::from_str(text).map_err(|e| syntax_problem(file, text, &e))?;
    let mut check = Checker::new(file, text);
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut catalogue = Vec::with_capacity(raw.interventions.len());
    for intervention in raw.interventions {
        let i = intervention.into_inner();
        let id = i.id.get_ref().as_str();
        if !is_kebab(id) {
            check.report(
                i.id.span(),
                format!(
                    "intervention id `{id}` must be kebab-case (lowercase letters and digits \
                     joined by single dashes)"
                ),
            );
        }
        if let Some(first) = seen.get(id) {
            check.report(
                i.id.span(),
                format!("intervention id `{id}` is used twice (first on line {first})"),
            );
        } else {
            seen.insert(id.to_owned(), check.line(i.id.span()));
        }
        check.non_empty(&i.title, "title");
        check.non_empty(&i.rationale, "rationale");
        let impact = *i.impact.get_ref();
        if !(1..=5).contains(&impact) {
            check.report(
                i.impact.span(),
                format!("impact is {impact}; it must be 1 to 5"),
            );
        }
        let effort = *i.effort_weeks.get_ref();
        // Written so that NaN fails too.
        if !(effort > 0.0 && effort <= MAX_EFFORT_WEEKS) {
            check.report(
                i.effort_weeks.span(),
                format!(
                    "effort_weeks is {effort}; it must be more than 0 and at most {MAX_EFFORT_WEEKS}"
                ),
            );
        }
        catalogue.push(InterventionTemplate {
            id: i.id.into_inner(),
            title: i.title.into_inner(),
            rationale: i.rationale.into_inner(),
            impact: u32::try_from(impact).unwrap_or(0),
            effort_weeks: effort,
        });
    }
    check.finish(catalogue)
}

/// Puts checked area files and a checked catalogue together: every area exactly once (in the
/// questionnaire's order), question ids unique across the bank, every intervention a question
/// names present in the catalogue.
pub fn assemble(
    areas: Vec<AreaFile>,
    interventions: Vec<InterventionTemplate>,
) -> Result<Bank, BankErrors> {
    let mut problems = Vec::new();

    let mut by_area: HashMap<Area, AreaFile> = HashMap::new();
    let mut question_ids: HashMap<String, (String, usize)> = HashMap::new();
    let known: HashSet<&str> = interventions.iter().map(|i| i.id.as_str()).collect();
    for area_file in areas {
        for (question, lines) in area_file.bank.questions.iter().zip(&area_file.lines) {
            if let Some((file, line)) = question_ids.get(&question.id) {
                problems.push(BankProblem {
                    file: area_file.file.clone(),
                    line: lines.id,
                    message: format!(
                        "question id `{}` is already used in {file}:{line}",
                        question.id
                    ),
                });
            } else {
                question_ids.insert(question.id.clone(), (area_file.file.clone(), lines.id));
            }
        }
        problems.extend(area_file.unknown_interventions(&known));
        let area = area_file.bank.area;
        if let Some(first) = by_area.get(&area) {
            problems.push(BankProblem {
                file: area_file.file.clone(),
                line: area_file.area_line,
                message: format!(
                    "area `{}` is already defined in {}",
                    area.as_str(),
                    first.file
                ),
            });
        } else {
            by_area.insert(area, area_file);
        }
    }

    let mut ordered = Vec::with_capacity(Area::ALL.len());
    for area in Area::ALL {
        match by_area.remove(&area) {
            Some(file) => ordered.push(file.into_bank()),
            None => problems.push(BankProblem {
                file: "bank".to_owned(),
                line: 0,
                message: format!("no file has area = \"{}\"", area.as_str()),
            }),
        }
    }

    if problems.is_empty() {
        Ok(Bank {
            areas: ordered,
            interventions,
        })
    } else {
        Err(BankErrors(problems))
    }
}

/// The built-in bank's files, as (name reported in problems, contents).
const BUILTIN_AREA_FILES: [(&str, &str); 5] = [
    (
        "bank/observability.toml",
        include_str!("../../../bank/observability.toml"),
    ),
    (
        "bank/database.toml",
        include_str!("../../../bank/database.toml"),
    ),
    (
        "bank/caching-queues.toml",
        include_str!("../../../bank/caching-queues.toml"),
    ),
    (
        "bank/deployment-infrastructure.toml",
        include_str!("../../../bank/deployment-infrastructure.toml"),
    ),
    (
        "bank/people.toml",
        include_str!("../../../bank/people.toml"),
    ),
];
const BUILTIN_INTERVENTIONS_FILE: (&str, &str) = (
    "bank/interventions.toml",
    include_str!("../../../bank/interventions.toml"),
);

fn builtin_interventions() -> Result<Vec<InterventionTemplate>, BankErrors> {
    let (file, text) = BUILTIN_INTERVENTIONS_FILE;
    parse_interventions_file(file, text)
}

/// The bank compiled into Plumbline, parsed and checked. It parses on every call: callers keep
/// the result.
pub fn builtin_bank() -> Result<Bank, BankErrors> {
    let mut problems = Vec::new();
    let mut areas = Vec::with_capacity(BUILTIN_AREA_FILES.len());
    for (file, text) in BUILTIN_AREA_FILES {
        match parse_area_file(file, text) {
            Ok(area) => areas.push(area),
            Err(BankErrors(found)) => problems.extend(found),
        }
    }
    let interventions = match builtin_interventions() {
        Ok(catalogue) => catalogue,
        Err(BankErrors(found)) => {
            problems.extend(found);
            Vec::new()
        }
    };
    if !problems.is_empty() {
        return Err(BankErrors(problems));
    }
    assemble(areas, interventions)
}

/// Checks one bank file for `plumbline bank check FILE`. Whether it is an area file or the
/// intervention catalogue is decided by its content; an area file's interventions are checked
/// against the built-in catalogue. `Ok` is a one-line summary.
pub fn check_file(file: &str, text: &str) -> Result<String, BankErrors> {
    let table: toml::Table = toml::from_str(text).map_err(|e| syntax_problem(file, text, &e))?;
    let is_catalogue = table.contains_key("interventions") && !table.contains_key("area");
    if is_catalogue {
        let catalogue = parse_interventions_file(file, text)?;
        return Ok(format!(
            "{file}: {} interventions, no problems",
            catalogue.len()
        ));
    }
    let area = parse_area_file(file, text)?;
    let catalogue = builtin_interventions()?;
    let known: HashSet<&str> = catalogue.iter().map(|i| i.id.as_str()).collect();
    let problems = area.unknown_interventions(&known);
    if !problems.is_empty() {
        return Err(BankErrors(problems));
    }
    Ok(format!(
        "{file}: {} questions in {}, no problems",
        area.bank.questions.len(),
        area.bank.title
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_one_based() {
        assert_eq!(line_at("a\nb\nc", 0), 1);
        assert_eq!(line_at("a\nb\nc", 2), 2);
        assert_eq!(line_at("a\nb\nc", 4), 3);
        assert_eq!(line_at("a\nb\nc", 99), 3);
    }

    #[test]
    fn id_shapes() {
        assert!(is_slug("latency-p99"));
        assert!(!is_slug("Latency"));
        assert!(!is_slug(""));
        assert!(is_kebab("latency-dashboards"));
        assert!(!is_kebab("latency--dashboards"));
        assert!(!is_kebab("-latency"));
        assert!(!is_kebab("latency_dashboards"));
        assert!(is_probe_check("http.latency-percentiles"));
        assert!(is_probe_check("pg.slow-queries"));
        assert!(!is_probe_check("ftp.x"));
        assert!(!is_probe_check("http."));
        assert!(!is_probe_check("http"));
    }

    #[test]
    fn problems_display_with_and_without_a_line() {
        let errors = BankErrors(vec![
            BankProblem {
                file: "bank/a.toml".to_owned(),
                line: 3,
                message: "bad".to_owned(),
            },
            BankProblem {
                file: "bank".to_owned(),
                line: 0,
                message: "missing".to_owned(),
            },
        ]);
        assert_eq!(errors.to_string(), "bank/a.toml:3: bad\nbank: missing");
    }
}
