//! Dockerfile smells after hadolint's rules (reimplemented from the rule list: hadolint is
//! GPL-3.0, so no code of it is used), plus checkov CKV_DOCKER_3 for an image with no USER.
//!
//! The parser is deliberately small: instructions with their line, continuation lines joined,
//! comments dropped, heredoc bodies kept with the instruction. That is all the rules need.

/// One instruction: the keyword upper-cased, the arguments as written (continuations joined).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Instruction {
    pub line: usize,
    pub keyword: String,
    pub args: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Level {
    Warning,
    Error,
}

impl Level {
    fn as_str(self) -> &'static str {
        match self {
            Level::Warning => "warning",
            Level::Error => "error",
        }
    }
}

/// One rule hit.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Hit {
    pub line: usize,
    /// "hadolint DL3007", "checkov CKV_DOCKER_3".
    pub rule: &'static str,
    pub level: Level,
    pub message: String,
}

impl Hit {
    pub fn evidence(&self, file: &str) -> String {
        format!(
            "{file}:{} {} ({}): {}",
            self.line,
            self.rule,
            self.level.as_str(),
            self.message
        )
    }
}

/// What one Dockerfile shows.
#[derive(Debug, Clone, Default)]
pub(crate) struct Report {
    pub stages: usize,
    pub hits: Vec<Hit>,
}

pub(crate) fn parse(text: &str) -> Vec<Instruction> {
    let mut lines = text.lines().enumerate().peekable();
    // The `# escape=` parser directive may only appear before the first instruction.
    let mut escape = '\\';
    let mut instructions = Vec::new();
    let mut seen_instruction = false;
    while let Some((index, raw)) = lines.next() {
        let line = raw.trim();
        if line.is_empty() {
            continue;
        }
        if let Some(comment) = line.strip_prefix('#') {
            if !seen_instruction {
                let directive = comment.trim().to_ascii_lowercase();
                if let Some(value) = directive.strip_prefix("escape=") {
                    if let Some(c) = value.trim().chars().next() {
                        escape = c;
                    }
                }
            }
            continue;
        }
        seen_instruction = true;
        let mut full = String::new();
        let mut current = raw.trim_end().to_owned();
        loop {
            if let Some(stripped) = current.strip_suffix(escape) {
                full.push_str(stripped);
                full.push(' ');
                // Docker drops comment lines inside a continued instruction.
                let mut next = None;
                for (_, candidate) in lines.by_ref() {
                    if candidate.trim_start().starts_with('#') {
                        continue;
                    }
                    next = Some(candidate.trim_end().to_owned());
                    break;
                }
                match next {
                    Some(n) => current = n,
                    None => break,
                }
            } else {
                full.push_str(&current);
                break;
            }
        }
        let full = full.trim();
        let (keyword, args) = match full.split_once(char::is_whitespace) {
            Some((k, a)) => (k.to_ascii_uppercase(), a.trim().to_owned()),
            None => (full.to_ascii_uppercase(), String::new()),
        };
        let mut args = args;
        // Heredocs (`RUN <<EOF` ... `EOF`): the body belongs to the instruction.
        if let Some(marker) = heredoc_marker(&args) {
            for (_, body) in lines.by_ref() {
                if body.trim() == marker {
                    break;
                }
                args.push('\n');
                args.push_str(body);
            }
        }
        instructions.push(Instruction {
            line: index + 1,
            keyword,
            args,
        });
    }
    instructions
}

fn heredoc_marker(args: &str) -> Option<String> {
    let at = args.find("<<")?;
    let rest = args[at + 2..].trim_start_matches('-');
    let marker: String = rest
        .trim_matches(|c| c == '"' || c == '\'')
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect();
    if marker.is_empty() {
        None
    } else {
        Some(marker)
    }
}

/// The image reference of a FROM, split: (name, tag, digest, stage alias).
struct From {
    image: String,
    tag: Option<String>,
    digest: bool,
    alias: Option<String>,
}

fn parse_from(args: &str) -> From {
    let words: Vec<&str> = args
        .split_whitespace()
        .filter(|w| !w.starts_with("--"))
        .collect();
    let reference = words.first().copied().unwrap_or("");
    let alias = match (words.get(1), words.get(2)) {
        (Some(kw), Some(name)) if kw.eq_ignore_ascii_case("as") => Some(name.to_lowercase()),
        _ => None,
    };
    let (without_digest, digest) = match reference.split_once('@') {
        Some((r, _)) => (r, true),
        None => (reference, false),
    };
    // A tag is the part after the last ':' that follows the last '/' (`host:5000/img` has none).
    let last_slash = without_digest.rfind('/').map(|i| i + 1).unwrap_or(0);
    let (image, tag) = match without_digest[last_slash..].rfind(':') {
        Some(i) => (
            without_digest[..last_slash + i].to_owned(),
            Some(without_digest[last_slash + i + 1..].to_owned()),
        ),
        None => (without_digest.to_owned(), None),
    };
    From {
        image,
        tag,
        digest,
        alias,
    }
}

/// Shell words of a RUN, with `&&`, `||`, `;`, `|` and newlines as their own tokens.
fn shell_tokens(command: &str) -> Vec<String> {
    let spaced = command
        .replace("&&", " && ")
        .replace("||", " || ")
        .replace([';', '\n'], " ; ");
    let mut tokens = Vec::new();
    for word in spaced.split_whitespace() {
        if word.contains('|') && word != "||" {
            for (i, part) in word.split('|').enumerate() {
                if i > 0 {
                    tokens.push("|".to_owned());
                }
                if !part.is_empty() {
                    tokens.push(part.to_owned());
                }
            }
        } else {
            tokens.push(word.to_owned());
        }
    }
    tokens
}

fn is_separator(token: &str) -> bool {
    matches!(token, "&&" | "||" | ";" | "|")
}

/// Drops quoted strings, so a `|` inside quotes is not taken for a pipe.
fn without_quotes(text: &str) -> String {
    let mut out = String::new();
    let mut quote: Option<char> = None;
    for c in text.chars() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if c == '"' || c == '\'' => quote = Some(c),
            None => out.push(c),
        }
    }
    out
}

/// The RUN's command: JSON (exec) form is joined into one line.
fn run_command(args: &str) -> String {
    let args = args.trim();
    if args.starts_with('[') {
        if let Ok(parts) = serde_json::from_str::<Vec<String>>(args) {
            return parts.join(" ");
        }
    }
    // `RUN --mount=... cmd`: flags of RUN itself are not part of the command.
    let mut rest = args;
    while rest.starts_with("--") {
        match rest.split_once(char::is_whitespace) {
            Some((_, tail)) => rest = tail.trim_start(),
            None => return String::new(),
        }
    }
    rest.to_owned()
}

const ARCHIVE_SUFFIXES: &[&str] = &[
    ".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tbz2", ".tbz", ".tar.xz", ".txz", ".gz", ".bz2",
    ".xz", ".zst", ".tar.zst",
];

/// A USER instruction: its line and the user named.
type UserLine = (usize, String);

fn is_root_user(user: &str) -> bool {
    let name = user.split(':').next().unwrap_or("").trim();
    name == "root" || name == "0"
}

pub(crate) fn lint(text: &str) -> Report {
    let instructions = parse(text);
    let mut report = Report::default();
    // Per stage: alias, whether USER was set and to what, whether SHELL sets pipefail.
    let mut aliases: Vec<String> = Vec::new();
    // (alias, last USER) of every stage seen, for a final stage built FROM an earlier one.
    let mut stage_users: Vec<(Option<String>, Option<UserLine>)> = Vec::new();
    let mut last_user: Option<UserLine> = None;
    let mut pipefail = false;
    let mut final_from_line = 0;
    let mut final_image_sets_user = false;

    for ins in &instructions {
        let hit = |rule, level, message: String| Hit {
            line: ins.line,
            rule,
            level,
            message,
        };
        match ins.keyword.as_str() {
            "FROM" => {
                if report.stages > 0 {
                    if let Some(entry) = stage_users.last_mut() {
                        entry.1 = last_user.clone();
                    }
                }
                report.stages += 1;
                let from = parse_from(&ins.args);
                let lower_image = from.image.to_lowercase();
                let earlier = stage_users
                    .iter()
                    .find(|(alias, _)| alias.as_deref() == Some(lower_image.as_str()));
                // A stage built on an earlier stage starts with that stage's user.
                last_user = earlier.and_then(|(_, user)| user.clone());
                final_image_sets_user = from.tag.as_deref().is_some_and(|t| t.contains("nonroot"))
                    || lower_image == "scratch";
                pipefail = false;
                final_from_line = ins.line;
                let is_stage_ref = aliases.contains(&lower_image);
                let is_variable = from.image.contains('$');
                if !is_stage_ref && !is_variable && lower_image != "scratch" {
                    match from.tag.as_deref() {
                        None if !from.digest => report.hits.push(hit(
                            "hadolint DL3006",
                            Level::Warning,
                            format!("FROM {} has no tag: pin a version", from.image),
                        )),
                        Some("latest") if !from.digest => report.hits.push(hit(
                            "hadolint DL3007",
                            Level::Warning,
                            format!(
                                "FROM {}:latest: pin a version instead of latest",
                                from.image
                            ),
                        )),
                        _ => {}
                    }
                }
                if let Some(alias) = from.alias.clone() {
                    aliases.push(alias);
                }
                stage_users.push((from.alias, None));
            }
            "USER" => {
                last_user = Some((ins.line, ins.args.trim().to_owned()));
            }
            "SHELL" => {
                pipefail = ins.args.contains("pipefail");
            }
            "WORKDIR" => {
                let dir = ins.args.trim().trim_matches('"').trim_matches('\'');
                let windows_drive = dir.as_bytes().get(1) == Some(&b':');
                if !(dir.starts_with('/') || dir.starts_with('$') || windows_drive) {
                    report.hits.push(hit(
                        "hadolint DL3000",
                        Level::Error,
                        format!("WORKDIR {dir} is relative: use an absolute path"),
                    ));
                }
            }
            "ADD" => {
                let words: Vec<String> = if ins.args.trim_start().starts_with('[') {
                    serde_json::from_str(ins.args.trim()).unwrap_or_default()
                } else {
                    ins.args
                        .split_whitespace()
                        .filter(|w| !w.starts_with("--"))
                        .map(str::to_owned)
                        .collect()
                };
                let sources = words.split_last().map(|(_, s)| s).unwrap_or(&[]);
                let local_file = sources.iter().find(|s| {
                    let lower = s.to_lowercase();
                    !(lower.starts_with("http://")
                        || lower.starts_with("https://")
                        || lower.starts_with("git@")
                        || ARCHIVE_SUFFIXES.iter().any(|a| lower.ends_with(a)))
                });
                if let Some(source) = local_file {
                    report.hits.push(hit(
                        "hadolint DL3020",
                        Level::Error,
                        format!("ADD {source}: use COPY for files and folders"),
                    ));
                }
            }
            "CMD" | "ENTRYPOINT" if !ins.args.trim_start().starts_with('[') => {
                report.hits.push(hit(
                    "hadolint DL3025",
                    Level::Warning,
                    format!(
                        "{} in shell form: use the JSON form so signals reach the process",
                        ins.keyword
                    ),
                ));
            }
            "RUN" => {
                let command = run_command(&ins.args);
                let tokens = shell_tokens(&command);
                if tokens.iter().any(|t| t == "sudo") {
                    report.hits.push(hit(
                        "hadolint DL3004",
                        Level::Error,
                        "sudo in RUN: the build already runs as root; use USER".to_owned(),
                    ));
                }
                let unpinned = unpinned_apt_packages(&tokens);
                if !unpinned.is_empty() {
                    report.hits.push(hit(
                        "hadolint DL3008",
                        Level::Warning,
                        format!(
                            "apt-get install without pinned versions: {}",
                            unpinned.join(", ")
                        ),
                    ));
                }
                let piped = shell_tokens(&without_quotes(&command))
                    .iter()
                    .any(|t| t == "|");
                if piped && !pipefail && !command.contains("pipefail") {
                    report.hits.push(hit(
                        "hadolint DL4006",
                        Level::Warning,
                        "RUN with a pipe and no SHELL [\"/bin/bash\", \"-o\", \"pipefail\", \"-c\"]: a failing first command is ignored".to_owned(),
                    ));
                }
            }
            _ => {}
        }
    }

    if report.stages > 0 {
        match &last_user {
            Some((line, user)) if is_root_user(user) => report.hits.push(Hit {
                line: *line,
                rule: "hadolint DL3002",
                level: Level::Warning,
                message: format!("the last USER is {user}: the container runs as root"),
            }),
            None if !final_image_sets_user => report.hits.push(Hit {
                line: final_from_line,
                rule: "hadolint DL3002 / checkov CKV_DOCKER_3",
                level: Level::Warning,
                message: "the final stage sets no USER: the container runs as root".to_owned(),
            }),
            _ => {}
        }
    }
    report
}

/// Packages named after `apt-get install` (or `apt install`) without `=version`.
fn unpinned_apt_packages(tokens: &[String]) -> Vec<String> {
    let mut unpinned = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        let is_apt = matches!(tokens[i].as_str(), "apt-get" | "apt");
        if is_apt {
            // Find `install` within this command (before the next separator).
            let mut j = i + 1;
            while j < tokens.len() && !is_separator(&tokens[j]) && tokens[j] != "install" {
                j += 1;
            }
            if j < tokens.len() && tokens[j] == "install" {
                j += 1;
                while j < tokens.len() && !is_separator(&tokens[j]) {
                    let word = &tokens[j];
                    let skip = word.starts_with('-')
                        || word.contains('=')
                        || word.contains('$')
                        || word.ends_with(".deb");
                    if !skip && unpinned.len() < 5 {
                        unpinned.push(word.clone());
                    }
                    j += 1;
                }
            }
            i = j;
        } else {
            i += 1;
        }
    }
    unpinned
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(text: &str) -> Vec<&'static str> {
        lint(text).hits.iter().map(|h| h.rule).collect()
    }

    #[test]
    fn clean_multi_stage_file_has_no_hits() {
        let text = "FROM rust:1.80 AS build\nWORKDIR /src\nCOPY . .\nRUN cargo build --release\n\
                    FROM debian:12-slim\nCOPY --from=build /src/target/release/app /app\n\
                    USER 10001\nCMD [\"/app\"]\n";
        let report = lint(text);
        assert_eq!(report.stages, 2);
        assert!(report.hits.is_empty(), "{:?}", report.hits);
    }

    #[test]
    fn each_rule_fires() {
        let text = "FROM node\nFROM python:latest AS py\nWORKDIR app\nADD src /src\n\
                    RUN sudo apt-get update && apt-get install -y curl git=1:2.39 \\\n    vim\n\
                    RUN curl -s https://x | sh\nUSER root\nCMD node server.js\n";
        let found = rules(text);
        for rule in [
            "hadolint DL3006",
            "hadolint DL3007",
            "hadolint DL3000",
            "hadolint DL3020",
            "hadolint DL3004",
            "hadolint DL3008",
            "hadolint DL4006",
            "hadolint DL3002",
            "hadolint DL3025",
        ] {
            assert!(found.contains(&rule), "{rule} missing from {found:?}");
        }
        let apt = lint(text)
            .hits
            .into_iter()
            .find(|h| h.rule == "hadolint DL3008")
            .map(|h| h.message)
            .unwrap_or_default();
        assert!(apt.contains("curl") && apt.contains("vim") && !apt.contains("git"));
    }

    #[test]
    fn pipefail_shell_and_stage_users_are_honoured() {
        let text = "FROM alpine:3.20 AS base\nUSER app\nFROM base\nSHELL [\"/bin/ash\", \"-eo\", \"pipefail\", \"-c\"]\nRUN a | b\nRUN echo 'x|y'\n";
        assert!(rules(text).is_empty(), "{:?}", rules(text));
    }

    #[test]
    fn heredoc_and_registry_port() {
        let text = "FROM registry.local:5000/team/app:1.2\nRUN <<EOF\nsudo ls\nEOF\nUSER 1000\n";
        assert_eq!(rules(text), vec!["hadolint DL3004"]);
    }
}
