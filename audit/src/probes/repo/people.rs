//! People and process checks read from the repository: decision records, code owners, review
//! checklists, onboarding documents, and who knows the deploy (bus factor from history).
use std::collections::BTreeMap;

use serde_json::json;

use super::super::model::{CheckArea, CheckResult, CheckSpec, CheckStatus};
use super::deploy::is_dockerfile;
use super::history::is_bot;
use super::tree::{RepoFile, Tree};
use super::Context;
use crate::findings::Severity;

pub(crate) const ADR: CheckSpec = CheckSpec {
    id: "repo.adr",
    area: CheckArea::People,
    title: "Architecture decisions written down",
    severity: Severity::Medium,
    threshold: "at least one ADR in doc/adr (or the folder named by .adr-dir), docs/adr (or \
                adrFolder of .log4brains.yml), docs/decisions or docs/architecture/decisions, \
                and the newest is less than 12 months old (date from git history, else from \
                the record)",
    source: "adr-tools, MADR and log4brains folder conventions (reference/probes.md §3.2)",
};

pub(crate) const CODEOWNERS: CheckSpec = CheckSpec {
    id: "repo.codeowners",
    area: CheckArea::People,
    title: "Code owners defined",
    severity: Severity::Medium,
    threshold: "a CODEOWNERS file (root, .github/, docs/ or .gitlab/) with a `*` rule or a \
                rule for every top-level folder; partial coverage warns, none fails",
    source: "GitHub and GitLab CODEOWNERS locations; OpenSSF Scorecard Branch-Protection tier 4",
};

pub(crate) const REVIEW_CHECKLIST: CheckSpec = CheckSpec {
    id: "repo.review-checklist",
    area: CheckArea::People,
    title: "Review checklist in the pull-request template",
    severity: Severity::Medium,
    threshold: "a pull- or merge-request template with at least 3 checklist items (`- [ ]`); \
                fewer warns, no template fails. Whether merging requires a review is a \
                branch-protection setting the files do not show",
    source: "ours (reference/probes.md §3.2); GitHub and GitLab template locations",
};

pub(crate) const ONBOARDING: CheckSpec = CheckSpec {
    id: "repo.onboarding-docs",
    area: CheckArea::People,
    title: "Onboarding documentation",
    severity: Severity::Medium,
    threshold: "content score ≥ 6 of 10: README getting-started/setup/development section with \
                commands 6 (without commands 3), CONTRIBUTING 3, docs/onboarding 3, dev \
                container or Gitpod 2, a setup/bootstrap target or script 2; 1–5 warns, 0 fails",
    source: "ours, scored like OpenSSF Scorecard Security-Policy (content-scored)",
};

pub(crate) const BUS_FACTOR: CheckSpec = CheckSpec {
    id: "repo.bus-factor",
    area: CheckArea::People,
    title: "More than one person changes the deploy",
    severity: Severity::High,
    threshold: "distinct human authors (bots ignored) of the commits that touched deploy-related \
                files (Dockerfile, CI, IaC, deploy scripts, migrations) in the last 12 months, \
                or in all fetched history if none: 1 fails, 2 warns, 3 or more pass",
    source: "ours; bus-factor analysis of git history (reference/probes.md §3.2)",
};

const DEFAULT_ADR_DIRS: &[&str] = &[
    "doc/adr",
    "docs/adr",
    "docs/decisions",
    "docs/architecture/decisions",
];

/// The ADR folders to look in: the configured ones first, then the conventions.
fn adr_dirs(tree: &Tree) -> Vec<String> {
    let mut dirs = Vec::new();
    // adr-tools: `.adr-dir` holds the folder.
    if let Some(text) = tree.get(".adr-dir").and_then(|f| tree.read(&f.path)) {
        if let Some(line) = text.lines().map(str::trim).find(|l| !l.is_empty()) {
            dirs.push(line.trim_matches('/').to_owned());
        }
    }
    // log4brains: `adrFolder: ./docs/adr` in `.log4brains.yml`.
    if let Some(text) = tree.get(".log4brains.yml").and_then(|f| tree.read(&f.path)) {
        for line in text.lines() {
            if let Some(value) = line.trim().strip_prefix("adrFolder:") {
                let value = value
                    .trim()
                    .trim_matches(['"', '\''])
                    .trim_start_matches("./");
                dirs.push(value.trim_matches('/').to_owned());
            }
        }
    }
    for dir in DEFAULT_ADR_DIRS {
        if !dirs.iter().any(|d| d == dir) {
            dirs.push((*dir).to_owned());
        }
    }
    dirs.retain(|d| !d.is_empty() && !d.contains(".."));
    dirs
}

fn is_adr(file: &RepoFile) -> bool {
    let name = file.lower_name();
    matches!(file.extension(), "md" | "markdown" | "adoc" | "rst")
        && !matches!(
            name,
            "readme.md" | "index.md" | "readme.adoc" | "readme.rst"
        )
        && !name.contains("template")
}

/// Unix time of midnight UTC on a `YYYY-MM-DD` date found in `text`.
fn parse_date(text: &str) -> Option<i64> {
    let bytes = text.as_bytes();
    if bytes.len() < 10 {
        return None;
    }
    for i in 0..=bytes.len() - 10 {
        let s = &bytes[i..i + 10];
        let digits = |r: std::ops::Range<usize>| s[r].iter().all(u8::is_ascii_digit);
        if digits(0..4) && s[4] == b'-' && digits(5..7) && s[7] == b'-' && digits(8..10) {
            let text = std::str::from_utf8(s).ok()?;
            let year: i32 = text[0..4].parse().ok()?;
            let month: u8 = text[5..7].parse().ok()?;
            let day: u8 = text[8..10].parse().ok()?;
            let month = time::Month::try_from(month).ok()?;
            let date = time::Date::from_calendar_date(year, month, day).ok()?;
            return Some(date.midnight().assume_utc().unix_timestamp());
        }
    }
    None
}

/// The record's own date: a `date:` line, else the first date in its head, else a
/// `YYYYMMDD-` file name (log4brains).
fn content_date(file: &RepoFile, text: &str) -> Option<i64> {
    let head: Vec<&str> = text.lines().take(40).collect();
    let dated = head
        .iter()
        .find(|l| l.to_lowercase().contains("date"))
        .and_then(|l| parse_date(l));
    dated.or_else(|| parse_date(&head.join("\n"))).or_else(|| {
        let name = file.name();
        let digits: String = name.chars().take(8).collect();
        if digits.len() == 8 && digits.chars().all(|c| c.is_ascii_digit()) {
            parse_date(&format!(
                "{}-{}-{}",
                &digits[0..4],
                &digits[4..6],
                &digits[6..8]
            ))
        } else {
            None
        }
    })
}

fn days(seconds: i64) -> i64 {
    seconds / 86_400
}

pub(crate) fn check_adr(ctx: &Context) -> CheckResult {
    let dirs = adr_dirs(&ctx.tree);
    let mut records: Vec<&RepoFile> = Vec::new();
    let mut used_dirs: Vec<&str> = Vec::new();
    for dir in &dirs {
        let found: Vec<&RepoFile> = ctx.tree.under(dir).filter(|f| is_adr(f)).collect();
        if !found.is_empty() {
            used_dirs.push(dir);
            records.extend(found);
        }
    }
    if records.is_empty() {
        return ADR.result(
            CheckStatus::Fail,
            format!(
                "No architecture decision records (looked in {})",
                dirs.join(", ")
            ),
        );
    }
    let from_content = records
        .iter()
        .filter_map(|f| {
            let text = ctx.tree.read(&f.path)?;
            content_date(f, &text).map(|d| (d, f.path.as_str()))
        })
        .max();
    let from_history = match &ctx.history {
        Ok(history) => used_dirs
            .iter()
            .filter_map(|d| history.newest_addition(d).map(|t| (t, *d)))
            .max(),
        Err(_) => None,
    };
    // A shallow clone dates old files by its oldest fetched commit: trust the record first.
    let shallow = ctx.history.as_ref().map(|h| h.shallow).unwrap_or(false);
    let (newest, how) = match (from_history, from_content, shallow) {
        (Some((t, d)), _, false) => (Some(t), format!("newest addition to {d} in git history")),
        (_, Some((t, f)), _) => (Some(t), format!("date written in {f}")),
        (Some((t, d)), None, true) => (Some(t), format!("newest addition to {d} in git history")),
        (None, None, _) => (None, "no date found".to_owned()),
    };
    let mut evidence: Vec<String> = records
        .iter()
        .rev()
        .take(10)
        .map(|f| f.path.clone())
        .collect();
    evidence.push(format!("date from: {how}"));
    let age_days = newest.map(|t| days(ctx.now - t));
    let measured = json!({
        "records": records.len(),
        "folders": used_dirs,
        "newest_age_days": age_days,
    });
    let (status, summary) = match age_days {
        Some(age) if age < 365 => (
            CheckStatus::Pass,
            format!(
                "{} decision record(s); the newest is {age} day(s) old",
                records.len()
            ),
        ),
        Some(age) => (
            CheckStatus::Warn,
            format!(
                "{} decision record(s), but the newest is {} months old",
                records.len(),
                age / 30
            ),
        ),
        None => (
            CheckStatus::Warn,
            format!(
                "{} decision record(s), but none could be dated",
                records.len()
            ),
        ),
    };
    ADR.result(status, summary)
        .with_evidence(evidence)
        .with_measured(measured)
}

pub(crate) fn check_codeowners(ctx: &Context) -> CheckResult {
    let Some(file) = ctx.tree.find_lower(&[
        ".github/codeowners",
        "codeowners",
        "docs/codeowners",
        ".gitlab/codeowners",
    ]) else {
        return CODEOWNERS.result(
            CheckStatus::Fail,
            "No CODEOWNERS file: no one is named as owner of any part of the code",
        );
    };
    let text = ctx.tree.read(&file.path).unwrap_or_default();
    let mut patterns: Vec<(usize, String)> = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        // GitLab sections (`[Backend]`, `^[Docs]`) and comments are not rules.
        if line.is_empty()
            || line.starts_with('#')
            || line.starts_with('[')
            || line.starts_with("^[")
        {
            continue;
        }
        let mut words = line.split_whitespace();
        let Some(pattern) = words.next() else {
            continue;
        };
        // A pattern without owners removes ownership.
        if words.next().is_some() {
            patterns.push((i + 1, pattern.to_owned()));
        }
    }
    let catch_all = patterns
        .iter()
        .find(|(_, p)| matches!(p.as_str(), "*" | "/*" | "**" | "/**" | "/"));
    let folders = ctx.tree.top_level_dirs();
    let uncovered: Vec<&String> = folders
        .iter()
        .filter(|dir| {
            !patterns.iter().any(|(_, p)| {
                let p = p.trim_start_matches('/');
                p == dir.as_str()
                    || p.strip_prefix(dir.as_str())
                        .is_some_and(|rest| matches!(rest, "/" | "/*" | "/**" | "/**/*"))
            })
        })
        .collect();
    let measured = json!({
        "rules": patterns.len(),
        "catch_all": catch_all.is_some(),
        "top_level_folders": folders.len(),
        "uncovered_folders": uncovered.len(),
    });
    let (status, summary, mut evidence) = if let Some((line, p)) = catch_all {
        (
            CheckStatus::Pass,
            format!("{} has a catch-all rule", file.path),
            vec![format!("{}:{line} `{p}` rule", file.path)],
        )
    } else if patterns.is_empty() {
        (
            CheckStatus::Fail,
            format!("{} has no rule with an owner", file.path),
            Vec::new(),
        )
    } else if uncovered.is_empty() {
        (
            CheckStatus::Pass,
            format!("{} covers every top-level folder", file.path),
            Vec::new(),
        )
    } else {
        (
            CheckStatus::Warn,
            format!(
                "{} leaves {} of {} top-level folder(s) without an owner",
                file.path,
                uncovered.len(),
                folders.len()
            ),
            uncovered
                .iter()
                .take(10)
                .map(|d| format!("{d}/ has no owner"))
                .collect(),
        )
    };
    evidence.push(format!("{}: {} rule(s)", file.path, patterns.len()));
    CODEOWNERS
        .result(status, summary)
        .with_evidence(evidence)
        .with_measured(measured)
}

fn is_review_template(file: &RepoFile) -> bool {
    let p = file.lower.as_str();
    let name = file.lower_name();
    let template_name = name.starts_with("pull_request_template");
    (template_name
        && matches!(
            file.dir().to_lowercase().as_str(),
            "" | ".github" | "docs" | ".azuredevops"
        ))
        || ((p.starts_with(".github/pull_request_template/")
            || p.starts_with("docs/pull_request_template/")
            || p.starts_with(".gitlab/merge_request_templates/"))
            && matches!(file.extension(), "md" | "txt"))
}

pub(crate) fn check_review_checklist(ctx: &Context) -> CheckResult {
    let templates: Vec<&RepoFile> = ctx
        .tree
        .files
        .iter()
        .filter(|f| is_review_template(f))
        .collect();
    if templates.is_empty() {
        return REVIEW_CHECKLIST.result(
            CheckStatus::Fail,
            "No pull-request or merge-request template",
        );
    }
    let mut best = 0;
    let mut evidence = Vec::new();
    for file in &templates {
        let text = ctx.tree.read(&file.path).unwrap_or_default();
        let items: Vec<usize> = text
            .lines()
            .enumerate()
            .filter(|(_, l)| {
                let l = l.trim_start();
                ["- [ ]", "* [ ]", "- [x]", "* [x]", "- [X]"]
                    .iter()
                    .any(|m| l.starts_with(m))
            })
            .map(|(i, _)| i + 1)
            .collect();
        best = best.max(items.len());
        evidence.push(format!(
            "{}: {} checklist item(s){}",
            file.path,
            items.len(),
            items
                .first()
                .map(|l| format!(" from line {l}"))
                .unwrap_or_default()
        ));
    }
    let (status, summary) = if best >= 3 {
        (
            CheckStatus::Pass,
            format!("The pull-request template has a {best}-item review checklist"),
        )
    } else {
        (
            CheckStatus::Warn,
            format!("The pull-request template has {best} checklist item(s); 3 or more expected"),
        )
    };
    REVIEW_CHECKLIST
        .result(status, summary)
        .with_evidence(evidence)
        .with_measured(json!({ "templates": templates.len(), "most_items": best }))
}

const ONBOARDING_HEADINGS: &[&str] = &[
    "getting started",
    "get started",
    "setup",
    "set up",
    "setting up",
    "development",
    "developing",
    "local development",
    "running locally",
    "run locally",
    "installation",
    "install",
    "quick start",
    "quickstart",
    "how to run",
    "prerequisites",
    "onboarding",
];

/// (line, has commands) of the README's onboarding section, if it has one.
fn readme_section(text: &str) -> Option<(usize, bool)> {
    let lines: Vec<&str> = text.lines().collect();
    for (i, line) in lines.iter().enumerate() {
        let heading = line.trim_start();
        let level = heading.chars().take_while(|c| *c == '#').count();
        let is_md_heading = level > 0 && heading[level..].starts_with(' ');
        let underlined = lines.get(i + 1).is_some_and(|next| {
            let next = next.trim();
            next.len() >= 3 && (next.chars().all(|c| c == '=') || next.chars().all(|c| c == '-'))
        });
        if !(is_md_heading || underlined) {
            continue;
        }
        let title = heading.trim_start_matches('#').trim().to_lowercase();
        let title = title.trim_start_matches(|c: char| !c.is_alphanumeric());
        if !ONBOARDING_HEADINGS.iter().any(|h| title.starts_with(h)) {
            continue;
        }
        // The section runs to the next heading of the same or a higher level.
        let body: Vec<&str> = lines
            .iter()
            .skip(i + 1)
            .take_while(|l| {
                let l = l.trim_start();
                let next_level = l.chars().take_while(|c| *c == '#').count();
                !(level > 0 && next_level > 0 && next_level <= level)
            })
            .copied()
            .collect();
        let has_commands = body.iter().any(|l| {
            let t = l.trim_start();
            t.starts_with("```")
                || t.starts_with("~~~")
                || t.starts_with("$ ")
                || l.starts_with("    ")
        });
        return Some((i + 1, has_commands));
    }
    None
}

const BOOTSTRAP_TARGETS: &[&str] = &[
    "setup",
    "bootstrap",
    "init",
    "dev",
    "install",
    "deps",
    "start",
];

pub(crate) fn check_onboarding(ctx: &Context) -> CheckResult {
    let tree = &ctx.tree;
    let mut score = 0;
    let mut evidence = Vec::new();
    if let Some(readme) = tree
        .files
        .iter()
        .find(|f| !f.path.contains('/') && f.lower_name().starts_with("readme"))
    {
        let text = tree.read(&readme.path).unwrap_or_default();
        match readme_section(&text) {
            Some((line, true)) => {
                score += 6;
                evidence.push(format!(
                    "{}:{line} setup section with commands (+6)",
                    readme.path
                ));
            }
            Some((line, false)) => {
                score += 3;
                evidence.push(format!(
                    "{}:{line} setup section without commands (+3)",
                    readme.path
                ));
            }
            None => evidence.push(format!(
                "{}: no getting-started or setup section",
                readme.path
            )),
        }
    }
    if let Some(f) = tree.files.iter().find(|f| {
        f.lower_name().starts_with("contributing")
            && matches!(f.dir().to_lowercase().as_str(), "" | ".github" | "docs")
    }) {
        score += 3;
        evidence.push(format!("{} (+3)", f.path));
    }
    if let Some(f) = tree.under("docs").chain(tree.under("doc")).find(|f| {
        let name = f.lower_name();
        name.starts_with("onboarding")
            || name.starts_with("getting-started")
            || name.starts_with("getting_started")
            || f.lower.contains("/onboarding/")
    }) {
        score += 3;
        evidence.push(format!("{} (+3)", f.path));
    }
    if let Some(f) = tree.find_lower(&[
        ".devcontainer/devcontainer.json",
        ".devcontainer.json",
        ".gitpod.yml",
        "devbox.json",
    ]) {
        score += 2;
        evidence.push(format!(
            "{} reproducible development environment (+2)",
            f.path
        ));
    }
    let bootstrap = tree
        .find_lower(&[
            "bin/setup",
            "script/bootstrap",
            "script/setup",
            "scripts/setup.sh",
            "scripts/bootstrap.sh",
        ])
        .map(|f| format!("{} (+2)", f.path))
        .or_else(|| {
            tree.files
                .iter()
                .filter(|f| {
                    !f.path.contains('/')
                        && matches!(
                            f.lower_name(),
                            "makefile" | "justfile" | ".justfile" | "taskfile.yml"
                        )
                })
                .find_map(|f| {
                    let text = tree.read(&f.path)?;
                    text.lines().enumerate().find_map(|(i, line)| {
                        let target = line.split(':').next()?.trim();
                        let target = target.split_whitespace().next()?;
                        (!line.starts_with(char::is_whitespace)
                            && line.contains(':')
                            && !line.contains(":=")
                            && BOOTSTRAP_TARGETS.contains(&target.to_lowercase().as_str()))
                        .then(|| format!("{}:{} `{target}` target (+2)", f.path, i + 1))
                    })
                })
        });
    if let Some(line) = bootstrap {
        score += 2;
        evidence.push(line);
    }
    let score = score.min(10);
    let (status, summary) = match score {
        6.. => (
            CheckStatus::Pass,
            format!("Onboarding documentation scores {score}/10"),
        ),
        1..=5 => (
            CheckStatus::Warn,
            format!("Onboarding documentation scores {score}/10: a new developer has to ask"),
        ),
        _ => (
            CheckStatus::Fail,
            "No onboarding documentation: no setup section, CONTRIBUTING, guide or bootstrap"
                .to_owned(),
        ),
    };
    ONBOARDING
        .result(status, summary)
        .with_evidence(evidence)
        .with_measured(json!({ "score": score }))
}

/// Files whose changes are deploys: container, CI, IaC, deploy scripts, migrations.
pub(crate) fn is_deploy_related(ctx: &Context, file: &RepoFile) -> bool {
    let p = file.lower.as_str();
    let name = file.lower_name();
    is_dockerfile(file)
        || p.starts_with(".github/workflows/")
        || matches!(
            name,
            ".gitlab-ci.yml"
                | "jenkinsfile"
                | "azure-pipelines.yml"
                | "bitbucket-pipelines.yml"
                | "procfile"
                | "fly.toml"
                | "app.yaml"
                | "render.yaml"
                | "vercel.json"
                | "netlify.toml"
        )
        || p.starts_with(".circleci/")
        || p.starts_with(".buildkite/")
        || name.starts_with("docker-compose")
        || name.starts_with("compose.")
        || ((name.contains("deploy") || name.contains("release"))
            && !matches!(file.extension(), "md" | "txt"))
        || p.contains("migrations/")
        || p.starts_with("db/migrate/")
        || p.contains("/db/migrate/")
        || ctx.iac.iter().any(|i| i.path == file.path)
}

pub(crate) fn check_bus_factor(ctx: &Context) -> CheckResult {
    let history = match &ctx.history {
        Ok(history) => history,
        Err(why) => return CheckResult::could_not_run(&BUS_FACTOR, why.clone()),
    };
    if history.commits <= 1 {
        let why = if history.shallow {
            "the clone holds one commit (depth 1): who changed the deploy files is not in it"
        } else {
            "the history holds one commit: who changed the deploy files cannot be told"
        };
        return CheckResult::could_not_run(&BUS_FACTOR, why);
    }
    let paths: Vec<String> = ctx
        .tree
        .files
        .iter()
        .filter(|f| is_deploy_related(ctx, f))
        .take(500)
        .map(|f| f.path.clone())
        .collect();
    if paths.is_empty() {
        return CheckResult::could_not_run(
            &BUS_FACTOR,
            "no deploy-related files in the repository",
        );
    }
    let commits = match history.commits_touching(&paths, 5000) {
        Ok(c) => c,
        Err(e) => return CheckResult::could_not_run(&BUS_FACTOR, format!("git log failed: {e}")),
    };
    let year_ago = ctx.now - 365 * 86_400;
    let recent: Vec<_> = commits.iter().filter(|c| c.time >= year_ago).collect();
    let (window, considered) = if recent.is_empty() {
        ("all fetched history", commits.iter().collect::<Vec<_>>())
    } else {
        ("the last 12 months", recent)
    };
    if considered.is_empty() {
        return CheckResult::could_not_run(
            &BUS_FACTOR,
            "no commit in the fetched history touched the deploy-related files",
        );
    }
    let bots = considered.iter().filter(|c| is_bot(c)).count();
    // Authors by e-mail (mailmap applied); names are shown, e-mails are not.
    let mut authors: BTreeMap<String, (String, usize)> = BTreeMap::new();
    for commit in considered.iter().filter(|c| !is_bot(c)) {
        let key = if commit.email.is_empty() {
            commit.author.to_lowercase()
        } else {
            commit.email.clone()
        };
        let entry = authors
            .entry(key)
            .or_insert_with(|| (commit.author.clone(), 0));
        entry.1 += 1;
    }
    let mut ranked: Vec<&(String, usize)> = authors.values().collect();
    ranked.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let mut evidence: Vec<String> = ranked
        .iter()
        .take(10)
        .map(|(name, n)| format!("{name}: {n} commit(s) to deploy-related files"))
        .collect();
    evidence.push(format!(
        "{} deploy-related file(s) followed, {} commit(s) in {window}{}",
        paths.len(),
        considered.len(),
        if bots > 0 {
            format!(", {bots} by bots ignored")
        } else {
            String::new()
        }
    ));
    if history.shallow {
        evidence.push(format!(
            "shallow clone: {} commit(s) of history fetched",
            history.commits
        ));
    }
    let people = authors.len();
    let measured = json!({
        "authors": people,
        "commits": considered.len(),
        "bot_commits": bots,
        "window": window,
        "files": paths.len(),
        "shallow": history.shallow,
    });
    let (status, summary) = match people {
        0 => (
            CheckStatus::Fail,
            format!("No person changed the deploy-related files in {window}; only bots did"),
        ),
        1 => (
            CheckStatus::Fail,
            format!("One person made every change to the deploy-related files in {window}"),
        ),
        2 => (
            CheckStatus::Warn,
            format!("Two people changed the deploy-related files in {window}"),
        ),
        n => (
            CheckStatus::Pass,
            format!("{n} people changed the deploy-related files in {window}"),
        ),
    };
    BUS_FACTOR
        .result(status, summary)
        .with_evidence(evidence)
        .with_measured(measured)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_parsed() {
        assert_eq!(parse_date("Date: 1970-01-02"), Some(86_400));
        assert_eq!(parse_date("no date here"), None);
        assert_eq!(parse_date("2024-13-01"), None);
    }

    #[test]
    fn readme_sections() {
        let text = "# App\n\n## Getting started\n\n```sh\nnpm ci\n```\n\n## License\n";
        assert_eq!(readme_section(text), Some((3, true)));
        assert_eq!(
            readme_section("# App\n## Setup\nAsk Bob.\n## Other\n```x```"),
            Some((2, false))
        );
        assert_eq!(readme_section("# App\nGetting started is easy\n"), None);
    }
}
