//! ADR files: MADR/Nygard Markdown and zip archives in the `docs/adr/` layout.
//!
//! Export writes MADR 2 (the layout Log4brains reads; adr-tools accepts its file names and first
//! line). Import reads MADR 2 (`- Status:` bullets under the title), MADR 3/4 (YAML front matter)
//! and Nygard/adr-tools files (`Date:` line, `## Status` section).
//!
//! Round trip: [`parse_adr`] of [`adr_to_markdown`] gives the record back, as long as its texts are
//! normalised the way the parser normalises them: no leading blank lines or trailing whitespace,
//! `\n` line ends, one-line title/deciders, dates as `YYYY-MM-DD`, code fences closed. Lines of a
//! text that the parser would take for a section heading (`## Decision Outcome` outside a code
//! fence, in the context) are written with a backslash (`\## Decision Outcome`, which Markdown
//! renders as the plain text) and read back without it.
use std::collections::BTreeMap;
use std::io::{Cursor, Read, Write};

use serde::{Deserialize, Serialize};
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipArchive, ZipWriter};

use super::DecisionStatus;

/// One decision record as an ADR file holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdrRecord {
    pub number: u32,
    pub title: String,
    pub status: DecisionStatus,
    /// `YYYY-MM-DD`, when the decision was last updated.
    pub date: Option<String>,
    /// As typed, e.g. "Ana Lima, Bo Chen".
    pub deciders: String,
    /// Markdown.
    pub context: String,
    /// Markdown (usually a list, maybe followed by the pros and cons of each option).
    pub options: String,
    /// Markdown.
    pub decision: String,
    /// Markdown.
    pub consequences: String,
    /// Number of the record this one replaces.
    pub supersedes: Option<u32>,
    /// Number of the record that replaces this one.
    pub superseded_by: Option<u32>,
    /// `YYYY-MM-DD`: a waiver's expiry (Plumbline extension, written as an `- Expires:` bullet).
    pub expires: Option<String>,
}

/// A file of an imported archive that did not become a record, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SkippedFile {
    pub path: String,
    pub reason: String,
}

/// What [`adrs_from_zip`] found: the records, sorted by number, and the files it left out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct AdrImport {
    pub records: Vec<AdrRecord>,
    pub skipped: Vec<SkippedFile>,
}

/// Where the records live inside an exported archive (and what `.adr-dir` says, for adr-tools).
pub const ADR_DIR: &str = "docs/adr";

const MAX_SLUG: usize = 60;
const MAX_ENTRIES: usize = 1000;
const MAX_FILE_BYTES: u64 = 1024 * 1024;
const MAX_TOTAL_BYTES: u64 = 20 * 1024 * 1024;

// ---------------------------------------------------------------------------------------------
// File names
// ---------------------------------------------------------------------------------------------

/// `0007-use-postgresql-for-everything.md`: the number on 4 digits, the title in kebab-case
/// (lowercase ASCII letters and digits, every other run of characters a single '-', trimmed,
/// at most 60 characters cut at a word boundary; common accented Latin letters are folded to
/// ASCII, other letters dropped; an empty result becomes "decision"). Only `[a-z0-9-.]` ever comes
/// out, so no title can lead a path out of its folder.
pub fn adr_file_name(number: u32, title: &str) -> String {
    format!("{number:04}-{}.md", slug(title))
}

fn slug(title: &str) -> String {
    let mut out = String::new();
    let mut pending_dash = false;
    let push = |piece: &str, out: &mut String, pending_dash: &mut bool| {
        if *pending_dash && !out.is_empty() {
            out.push('-');
        }
        *pending_dash = false;
        out.push_str(piece);
    };
    for c in title.chars() {
        for lc in c.to_lowercase() {
            if lc.is_ascii_alphanumeric() {
                let mut buf = [0u8; 4];
                push(lc.encode_utf8(&mut buf), &mut out, &mut pending_dash);
            } else if let Some(folded) = fold_latin(lc) {
                push(folded, &mut out, &mut pending_dash);
            } else if is_combining_mark(lc) {
                // "e\u{301}" (decomposed "é"): the mark goes, the letter stays.
            } else {
                pending_dash = true;
            }
        }
        if out.len() > 4 * MAX_SLUG {
            break;
        }
    }
    if out.len() > MAX_SLUG {
        let at_boundary = out.as_bytes().get(MAX_SLUG) == Some(&b'-');
        let cut = if at_boundary {
            MAX_SLUG
        } else {
            match out.get(..MAX_SLUG).and_then(|head| head.rfind('-')) {
                Some(pos) if pos > 0 => pos,
                _ => MAX_SLUG,
            }
        };
        out.truncate(cut);
        while out.ends_with('-') {
            out.pop();
        }
    }
    if out.is_empty() {
        out.push_str("decision");
    }
    out
}

fn is_combining_mark(c: char) -> bool {
    matches!(c, '\u{300}'..='\u{36f}')
}

fn fold_latin(c: char) -> Option<&'static str> {
    Some(match c {
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'ā' | 'ă' | 'ą' => "a",
        'æ' => "ae",
        'ç' | 'ć' | 'ĉ' | 'ċ' | 'č' => "c",
        'ď' | 'đ' | 'ð' => "d",
        'è' | 'é' | 'ê' | 'ë' | 'ē' | 'ĕ' | 'ė' | 'ę' | 'ě' => "e",
        'ĝ' | 'ğ' | 'ġ' | 'ģ' => "g",
        'ĥ' | 'ħ' => "h",
        'ì' | 'í' | 'î' | 'ï' | 'ĩ' | 'ī' | 'ĭ' | 'į' | 'ı' => "i",
        'ĵ' => "j",
        'ķ' => "k",
        'ĺ' | 'ļ' | 'ľ' | 'ŀ' | 'ł' => "l",
        'ñ' | 'ń' | 'ņ' | 'ň' => "n",
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' | 'ō' | 'ŏ' | 'ő' => "o",
        'œ' => "oe",
        'ŕ' | 'ŗ' | 'ř' => "r",
        'ś' | 'ŝ' | 'ş' | 'š' | 'ș' => "s",
        'ß' => "ss",
        'ţ' | 'ť' | 'ŧ' | 'ț' => "t",
        'þ' => "th",
        'ù' | 'ú' | 'û' | 'ü' | 'ũ' | 'ū' | 'ŭ' | 'ů' | 'ű' | 'ų' => "u",
        'ŵ' => "w",
        'ý' | 'ÿ' | 'ŷ' => "y",
        'ź' | 'ż' | 'ž' => "z",
        _ => return None,
    })
}

// ---------------------------------------------------------------------------------------------
// Markdown structure shared by the writer and the parser
// ---------------------------------------------------------------------------------------------

/// The record's Markdown texts, in file order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    Context,
    Options,
    Decision,
    Consequences,
}

impl Field {
    fn index(self) -> usize {
        match self {
            Field::Context => 0,
            Field::Options => 1,
            Field::Decision => 2,
            Field::Consequences => 3,
        }
    }
}

/// What a heading line (after the title) means to the parser.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Heading {
    /// The section of a field; the heading itself is not part of the text ("## Decision Outcome").
    Drop(Field),
    /// A section that belongs with a field and keeps its heading ("## Pros and Cons of the Options").
    Keep(Field),
    /// Nygard's `## Status` section.
    Status,
    /// Any other heading: part of the text of the section it is in.
    Plain,
}

fn classify(level: usize, text: &str) -> Heading {
    let name = heading_name(text);
    match level {
        2 => match name.as_str() {
            "context" | "context and problem statement" | "problem statement" => {
                Heading::Drop(Field::Context)
            }
            "decision drivers" => Heading::Keep(Field::Context),
            "considered options" | "options" | "options considered" | "alternatives" => {
                Heading::Drop(Field::Options)
            }
            "pros and cons of the options" | "pros and cons" => Heading::Keep(Field::Options),
            "decision" | "decision outcome" => Heading::Drop(Field::Decision),
            "validation" | "confirmation" => Heading::Keep(Field::Decision),
            "consequences" => Heading::Drop(Field::Consequences),
            "more information" | "links" | "references" | "related decisions" | "notes" => {
                Heading::Keep(Field::Consequences)
            }
            "status" => Heading::Status,
            _ => Heading::Plain,
        },
        3 => match name.as_str() {
            "consequences" => Heading::Drop(Field::Consequences),
            "positive consequences" | "negative consequences" => Heading::Keep(Field::Consequences),
            _ => Heading::Plain,
        },
        _ => Heading::Plain,
    }
}

/// "Decision Drivers <!-- optional -->" → "decision drivers"; "2. Context:" → "context".
fn heading_name(text: &str) -> String {
    let text = strip_html_comments(text);
    let text = text.trim().trim_matches(|c| c == '*' || c == '_').trim();
    let text = text.trim_end_matches(':').trim();
    let text = text.trim_start_matches(|c: char| c.is_ascii_digit() || c == '.');
    text.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// Whether the parser, reading this heading inside the text of `field`, would do anything but
/// keep the line in that text.
fn is_structural_in(heading: Heading, field: Option<Field>) -> bool {
    match heading {
        Heading::Drop(_) | Heading::Status => true,
        Heading::Keep(target) => Some(target) != field,
        Heading::Plain => false,
    }
}

/// An ATX heading: up to 3 spaces, 1–6 '#', then a space, a tab or the end of the line.
fn atx_heading(line: &str) -> Option<(usize, &str)> {
    let rest = line.trim_start_matches(' ');
    if line.len() - rest.len() > 3 {
        return None;
    }
    let after = rest.trim_start_matches('#');
    let level = rest.len() - after.len();
    if level == 0 || level > 6 {
        return None;
    }
    if !(after.is_empty() || after.starts_with(' ') || after.starts_with('\t')) {
        return None;
    }
    Some((level, after.trim()))
}

/// A line written with an escaping backslash: `(indent, line without one backslash, heading)`.
fn escaped_heading(line: &str) -> Option<(String, usize, String)> {
    let rest = line.trim_start_matches(' ');
    let indent = line.len() - rest.len();
    if indent > 3 || !rest.starts_with('\\') {
        return None;
    }
    let core_rest = rest.trim_start_matches('\\');
    let core = format!("{}{core_rest}", " ".repeat(indent));
    let (level, text) = atx_heading(&core)?;
    let unescaped = format!(
        "{}{}",
        " ".repeat(indent),
        rest.get(1..).unwrap_or_default()
    );
    Some((unescaped, level, text.to_string()))
}

/// Follows fenced code blocks (``` or ~~~, any indentation) line by line.
#[derive(Default)]
struct Fences {
    open: Option<(char, usize)>,
}

impl Fences {
    /// Whether `line` is code (a fence line or inside a fence), where headings mean nothing.
    fn is_code(&mut self, line: &str) -> bool {
        let trimmed = line.trim_start();
        match self.open {
            Some((ch, len)) => {
                let run = trimmed.len() - trimmed.trim_start_matches(ch).len();
                if run >= len && trimmed[run..].trim().is_empty() {
                    self.open = None;
                }
                true
            }
            None => {
                for ch in ['`', '~'] {
                    let after = trimmed.trim_start_matches(ch);
                    let run = trimmed.len() - after.len();
                    if run >= 3 && !(ch == '`' && after.contains('`')) {
                        self.open = Some((ch, run));
                        return true;
                    }
                }
                false
            }
        }
    }

    fn closing_line(&self) -> Option<String> {
        self.open.map(|(ch, len)| ch.to_string().repeat(len))
    }
}

fn strip_html_comments(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find("<!--") {
        out.push_str(&rest[..start]);
        match rest[start + 4..].find("-->") {
            Some(end) => rest = &rest[start + 4 + end + 3..],
            None => {
                rest = "";
                break;
            }
        }
    }
    out.push_str(rest);
    out
}

// ---------------------------------------------------------------------------------------------
// Writing
// ---------------------------------------------------------------------------------------------

/// Writes the record as MADR 2 Markdown, the layout Log4brains reads, whose file name and first
/// line adr-tools also accepts:
///
/// ```markdown
/// # Use PostgreSQL for everything
///
/// - Status: superseded by [ADR-0009](0009-split-the-event-store.md)
/// - Deciders: Ana Lima, Bo Chen
/// - Date: 2026-11-22
/// - Supersedes: [ADR-0003](0003-use-mysql.md)
/// - Expires: 2027-03-01
///
/// ## Context and Problem Statement
/// …
/// ## Considered Options
/// …
/// ## Decision Outcome
/// …
/// ### Consequences
/// …
/// ```
///
/// A record only knows the numbers of the records it links to; `titles` gives the title of a
/// record by number so the link can point at its file (`[ADR-0009](0009-split-the-event-store.md)`,
/// the form MADR's template uses). When it answers `None` the reference is written as plain
/// `ADR-0009`, which reads back just as well. Pass `&|_| None` when there is nothing to look up.
///
/// Lines omitted: `Deciders` when empty, `Date`/`Supersedes`/`Expires` when absent, and the
/// consequences section when empty. A status other than superseded with a `superseded_by`
/// gets its own `- Superseded by:` line so that nothing is lost. An empty title is written as
/// "Decision N".
pub fn adr_to_markdown(record: &AdrRecord, titles: &dyn Fn(u32) -> Option<String>) -> String {
    let reference = |number: u32| match titles(number) {
        Some(title) => format!("[ADR-{number:04}]({})", adr_file_name(number, &title)),
        None => format!("ADR-{number:04}"),
    };
    let mut out = String::new();
    let mut title = one_line(&record.title);
    if title.is_empty() {
        title = format!("Decision {}", record.number);
    }
    out.push_str("# ");
    out.push_str(&escape_title(&title));
    out.push_str("\n\n");

    let status = match (record.status, record.superseded_by) {
        (DecisionStatus::Superseded, Some(by)) => format!("superseded by {}", reference(by)),
        (status, _) => status.as_str().to_string(),
    };
    out.push_str(&format!("- Status: {status}\n"));
    let deciders = one_line(&record.deciders);
    if !deciders.is_empty() {
        out.push_str(&format!("- Deciders: {deciders}\n"));
    }
    if let Some(date) = &record.date {
        out.push_str(&format!("- Date: {}\n", one_line(date)));
    }
    if let Some(number) = record.supersedes {
        out.push_str(&format!("- Supersedes: {}\n", reference(number)));
    }
    if let (Some(by), false) = (
        record.superseded_by,
        record.status == DecisionStatus::Superseded,
    ) {
        out.push_str(&format!("- Superseded by: {}\n", reference(by)));
    }
    if let Some(expires) = &record.expires {
        out.push_str(&format!("- Expires: {}\n", one_line(expires)));
    }

    let sections = [
        (
            "## Context and Problem Statement",
            Field::Context,
            &record.context,
        ),
        ("## Considered Options", Field::Options, &record.options),
        ("## Decision Outcome", Field::Decision, &record.decision),
        (
            "### Consequences",
            Field::Consequences,
            &record.consequences,
        ),
    ];
    for (heading, field, text) in sections {
        let body = escape_body(text, field);
        if field == Field::Consequences && body.is_empty() {
            continue;
        }
        out.push('\n');
        out.push_str(heading);
        out.push('\n');
        if !body.is_empty() {
            out.push('\n');
            out.push_str(&body);
            out.push('\n');
        }
    }
    out
}

fn one_line(text: &str) -> String {
    text.split(['\r', '\n'])
        .map(str::trim)
        .filter(|part| !part.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// "3. Reasons" would read back as record 3 titled "Reasons": write it `3\. Reasons`.
fn escape_title(title: &str) -> String {
    let digits = title.len() - title.trim_start_matches(|c: char| c.is_ascii_digit()).len();
    if digits == 0 {
        return title.to_string();
    }
    let (number, rest) = title.split_at(digits);
    let after_slashes = rest.trim_start_matches('\\');
    let mut chars = after_slashes.chars();
    if chars.next() == Some('.') && matches!(chars.next(), Some(' ' | '\t')) {
        format!("{number}\\{rest}")
    } else {
        title.to_string()
    }
}

/// Reads the title line: `(number from "N. ", title)`, undoing [`escape_title`].
fn split_title(heading: &str) -> (Option<u32>, String) {
    let digits = heading.len()
        - heading
            .trim_start_matches(|c: char| c.is_ascii_digit())
            .len();
    if digits == 0 {
        return (None, heading.to_string());
    }
    let (number, rest) = heading.split_at(digits);
    if let Some(after_dot) = rest.strip_prefix('.') {
        if after_dot.starts_with([' ', '\t']) {
            return (number.parse().ok(), after_dot.trim().to_string());
        }
    }
    let after_slashes = rest.trim_start_matches('\\');
    let mut chars = after_slashes.chars();
    if rest.starts_with('\\')
        && chars.next() == Some('.')
        && matches!(chars.next(), Some(' ' | '\t'))
    {
        return (
            None,
            format!("{number}{}", rest.get(1..).unwrap_or_default()),
        );
    }
    (None, heading.to_string())
}

/// The text as the parser will give it back: trimmed, structural headings escaped, fences closed.
fn escape_body(text: &str, field: Field) -> String {
    let text = normalize_newlines(text);
    let mut fences = Fences::default();
    let mut lines = Vec::new();
    for line in trim_blank_lines(&text).lines() {
        if fences.is_code(line) {
            lines.push(line.to_string());
            continue;
        }
        let rest = line.trim_start_matches(' ');
        let indent = line.len() - rest.len();
        let core = format!("{}{}", " ".repeat(indent), rest.trim_start_matches('\\'));
        let needs_escape = atx_heading(&core)
            .is_some_and(|(level, name)| is_structural_in(classify(level, name), Some(field)));
        if needs_escape && indent <= 3 {
            lines.push(format!("{}\\{rest}", " ".repeat(indent)));
        } else {
            lines.push(line.to_string());
        }
    }
    if let Some(closing) = fences.closing_line() {
        lines.push(closing);
    }
    lines.join("\n")
}

fn normalize_newlines(text: &str) -> String {
    text.replace("\r\n", "\n").replace('\r', "\n")
}

/// Without the blank lines at the start and the whitespace at the end.
fn trim_blank_lines(text: &str) -> &str {
    let text = text.trim_end();
    let mut start = 0;
    for line in text.split_inclusive('\n') {
        if line.trim().is_empty() {
            start += line.len();
        } else {
            break;
        }
    }
    text.get(start..).unwrap_or_default()
}

// ---------------------------------------------------------------------------------------------
// Parsing
// ---------------------------------------------------------------------------------------------

#[derive(Default)]
struct Meta {
    status: Option<(DecisionStatus, Option<u32>)>,
    date: Option<String>,
    deciders: Option<String>,
    supersedes: Option<u32>,
    superseded_by: Option<u32>,
    expires: Option<String>,
    title: Option<String>,
    /// Front-matter keys we have no field for ("Consulted: Eve").
    extras: Vec<String>,
    /// Link lines of a Nygard status section we have no field for ("Amends [2. …](…)").
    links: Vec<String>,
}

impl Meta {
    /// Takes one `key: value` pair; false when the key means nothing to a record.
    fn set(&mut self, key: &str, value: &str) -> Result<bool, String> {
        let value = value.trim();
        match key {
            "status" => {
                if self.status.is_none() {
                    self.status = parse_status(value)?;
                }
            }
            "date" | "last updated" | "updated" => {
                if self.date.is_none() {
                    self.date = parse_date(value, "date")?;
                }
            }
            "deciders" | "decision makers" | "decision maker" | "decided by" => {
                if self.deciders.as_deref().is_none_or(str::is_empty) && !is_placeholder(value) {
                    self.deciders = Some(value.to_string());
                }
            }
            "supersedes" | "replaces" => {
                if self.supersedes.is_none() {
                    self.supersedes = reference_number(value);
                }
            }
            "superseded by" | "replaced by" => {
                if self.superseded_by.is_none() {
                    self.superseded_by = reference_number(value);
                }
            }
            "expires" | "expiry" | "expiry date" | "expiration" | "expiration date" => {
                if self.expires.is_none() {
                    self.expires = parse_date(value, "expiry date")?;
                }
            }
            _ => return Ok(false),
        }
        Ok(true)
    }
}

fn meta_key(raw: &str) -> String {
    raw.trim()
        .trim_matches(|c| c == '*' || c == '_')
        .trim()
        .to_lowercase()
        .replace(['-', '_'], " ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// `- Status: accepted`, `* **Date:** 2024-01-02`, `Date: 2016-02-12` → `(key, value)`.
fn meta_line(line: &str) -> Option<(String, String)> {
    let trimmed = line.trim();
    let trimmed = ["- ", "* ", "+ "]
        .iter()
        .find_map(|bullet| trimmed.strip_prefix(bullet))
        .unwrap_or(trimmed);
    let (key, value) = trimmed.split_once(':')?;
    if key.len() > 40 {
        return None;
    }
    let mut value = value.trim();
    if key.starts_with(['*', '_']) {
        // "**Status:** accepted"
        value = value.trim_start_matches(['*', '_']).trim();
    }
    Some((meta_key(key), strip_html_comments(value).trim().to_string()))
}

fn is_placeholder(value: &str) -> bool {
    let value = value.trim();
    value.is_empty() || (value.starts_with('{') && value.ends_with('}'))
}

/// "Accepted", "superseded by [ADR-0005](0005-example.md)", "draft" (Log4brains).
fn parse_status(raw: &str) -> Result<Option<(DecisionStatus, Option<u32>)>, String> {
    let clean = strip_html_comments(raw);
    let clean = clean.trim();
    if clean.is_empty() {
        return Ok(None);
    }
    let word: String = clean
        .trim_start_matches(|c: char| !c.is_alphabetic())
        .chars()
        .take_while(|c| c.is_alphabetic())
        .collect::<String>()
        .to_lowercase();
    let status = match word.as_str() {
        "draft" | "proposal" => Some(DecisionStatus::Proposed),
        _ => DecisionStatus::parse(&word),
    };
    match status {
        Some(DecisionStatus::Superseded) => {
            let from_word = clean.trim_start_matches(|c: char| !c.is_alphabetic());
            let rest = from_word.trim_start_matches(|c: char| c.is_alphabetic());
            Ok(Some((DecisionStatus::Superseded, reference_number(rest))))
        }
        Some(status) => Ok(Some((status, None))),
        None => Err(format!("unknown status '{}'", shorten(clean))),
    }
}

/// The record number a reference names: `[ADR-0003](0003-use-x.md)`, `[3. Use X](0003-use-x.md)`,
/// `ADR-0003`, `3`.
fn reference_number(text: &str) -> Option<u32> {
    if let Some(at) = text.find("](") {
        let target = text.get(at + 2..).unwrap_or_default();
        let target = target.split(')').next().unwrap_or_default();
        let file = target.rsplit(['/', '\\']).next().unwrap_or_default();
        let file = strip_adr_prefix(file);
        let digits: String = file.chars().take_while(char::is_ascii_digit).collect();
        if let Ok(number) = digits.parse() {
            return Some(number);
        }
    }
    let start = text.find(|c: char| c.is_ascii_digit())?;
    let digits: String = text
        .get(start..)?
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().ok()
}

fn strip_adr_prefix(name: &str) -> &str {
    match name.get(..4) {
        Some(head) if head.eq_ignore_ascii_case("adr-") || head.eq_ignore_ascii_case("adr_") => {
            name.get(4..).unwrap_or_default()
        }
        _ => name,
    }
}

/// `YYYY-MM-DD` (also `YYYY/MM/DD`, `YYYY.M.D`, or a date-time): the normalised date, `None` when
/// empty or a template placeholder.
fn parse_date(raw: &str, what: &str) -> Result<Option<String>, String> {
    let value = strip_html_comments(raw);
    let value = value.trim().trim_matches(['"', '\'']).trim();
    if value.is_empty() || value.to_ascii_uppercase().contains("YYYY") {
        return Ok(None);
    }
    let invalid = || format!("invalid {what} '{}' (expected YYYY-MM-DD)", shorten(value));
    let mut parts = Vec::new();
    let mut rest = value;
    for index in 0..3 {
        let digits = rest.len() - rest.trim_start_matches(|c: char| c.is_ascii_digit()).len();
        if digits == 0 || digits > 4 {
            return Err(invalid());
        }
        let number: u32 = rest[..digits].parse().map_err(|_| invalid())?;
        parts.push((number, digits));
        rest = &rest[digits..];
        if index < 2 {
            let mut chars = rest.chars();
            if !matches!(chars.next(), Some('-' | '/' | '.')) {
                return Err(invalid());
            }
            rest = chars.as_str();
        }
    }
    if rest.starts_with(|c: char| c.is_ascii_digit()) {
        return Err(invalid());
    }
    let [(year, year_digits), (month, month_digits), (day, day_digits)] = parts.as_slice() else {
        return Err(invalid());
    };
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return Err(invalid()),
    };
    if *year_digits != 4 || *month_digits > 2 || *day_digits > 2 || *day == 0 || *day > days {
        return Err(invalid());
    }
    Ok(Some(format!("{year:04}-{month:02}-{day:02}")))
}

fn shorten(text: &str) -> String {
    let one = one_line(text);
    if one.chars().count() > 40 {
        format!("{}…", one.chars().take(40).collect::<String>())
    } else {
        one
    }
}

/// YAML front matter as MADR 3/4 writes it: `key: value` lines, quoted values, `[a, b]` and
/// `- item` lists. Returns `(key, value)` pairs with lists joined by ", ".
fn front_matter(lines: &[&str]) -> Vec<(String, String)> {
    let mut pairs: Vec<(String, Vec<String>)> = Vec::new();
    for line in lines {
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let indented = line.starts_with([' ', '\t']);
        if let Some(item) = trimmed
            .strip_prefix("- ")
            .or((trimmed == "-").then_some(""))
        {
            if let Some((_, values)) = pairs.last_mut() {
                values.push(yaml_scalar(item));
            }
            continue;
        }
        if indented {
            if let Some((_, values)) = pairs.last_mut() {
                values.push(yaml_scalar(trimmed));
            }
            continue;
        }
        let Some((key, value)) = trimmed.split_once(':') else {
            continue;
        };
        let value = value.trim();
        let values = if value.starts_with('[') && value.ends_with(']') {
            value[1..value.len() - 1]
                .split(',')
                .map(yaml_scalar)
                .filter(|item| !item.is_empty())
                .collect()
        } else if value.is_empty() || value == "|" || value == ">" {
            Vec::new()
        } else {
            vec![yaml_scalar(value)]
        };
        pairs.push((meta_key(key), values));
    }
    pairs
        .into_iter()
        .map(|(key, values)| {
            let values: Vec<String> = values.into_iter().filter(|v| !v.is_empty()).collect();
            (key, values.join(", "))
        })
        .collect()
}

fn yaml_scalar(raw: &str) -> String {
    let raw = raw.trim();
    for quote in ['"', '\''] {
        if raw.len() >= 2 && raw.starts_with(quote) && raw.ends_with(quote) {
            return raw[1..raw.len() - 1].trim().to_string();
        }
    }
    let raw = match raw.find(" #") {
        Some(at) => &raw[..at],
        None => raw,
    };
    raw.trim().to_string()
}

/// Where the parser puts the lines it reads.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Target {
    Preamble,
    Status,
    Field(Field),
}

/// Parses an ADR file: MADR 2 (`- Status:` bullets under the title), MADR 3/4 (YAML front
/// matter) or Nygard/adr-tools (`Date:` line, `## Status` section with `Supersedes [1. …](…)` /
/// `Superseded by [3. …](…)` lines).
///
/// The number comes from the file name's `NNNN-` prefix (`adr-NNNN-` too), else from a
/// `# N. Title` heading; an error if neither. Sections are told apart only outside code fences.
/// Sections without a field of their own are kept, heading included, in the nearest sensible
/// field: "Decision Drivers" → context, "Pros and Cons of the Options" → options,
/// "Validation"/"Confirmation" → decision, "More Information"/"Links" → consequences, any other
/// in the field of the section before it. Text between the title and the first section goes at
/// the start of the context; front-matter keys without a field ("consulted", "informed") and the
/// extra link lines of a Nygard status go to the consequences under "## More Information" /
/// "## Links". A missing status reads as proposed.
///
/// Errors are short sentences: "no title (the file needs a '# Title' line)",
/// "unknown status 'maybe'", "invalid date '12/02/2016' (expected YYYY-MM-DD)", …
pub fn parse_adr(path: &str, text: &str) -> Result<AdrRecord, String> {
    let text = normalize_newlines(text.strip_prefix('\u{feff}').unwrap_or(text));
    let all: Vec<&str> = text.split('\n').collect();

    let mut meta = Meta::default();
    let mut body_start = 0;
    if all.first().map(|line| line.trim_end()) == Some("---") {
        if let Some(end) = all
            .iter()
            .skip(1)
            .position(|line| matches!(line.trim_end(), "---" | "..."))
        {
            let yaml = all.get(1..=end).unwrap_or_default();
            for (key, value) in front_matter(yaml) {
                if key == "title" {
                    meta.title = Some(value);
                } else if !meta.set(&key, &value)? && !is_placeholder(&value) {
                    meta.extras.push(format!("{}: {value}", capitalize(&key)));
                }
            }
            body_start = end + 2;
        }
    }
    let lines = all.get(body_start..).unwrap_or_default();

    // The title: the first level-1 heading outside code.
    let mut fences = Fences::default();
    let mut title_at = None;
    for (index, line) in lines.iter().enumerate() {
        if fences.is_code(line) {
            continue;
        }
        if let Some((1, text)) = atx_heading(line) {
            if !text.is_empty() {
                title_at = Some((index, text.to_string()));
                break;
            }
        }
    }
    let (heading_number, title) = match &title_at {
        Some((_, heading)) => split_title(heading),
        None => match meta.title.take().filter(|t| !t.trim().is_empty()) {
            Some(title) => split_title(title.trim()),
            None => return Err("no title (the file needs a '# Title' line)".to_string()),
        },
    };
    if title.trim().is_empty() {
        return Err("no title (the file needs a '# Title' line)".to_string());
    }
    let number = match file_number(path).or(heading_number) {
        Some(number) => number,
        None => {
            return Err(
                "no number (name the file 'NNNN-title.md' or start the title with 'N. ')"
                    .to_string(),
            )
        }
    };

    let mut preamble: Vec<String> = Vec::new();
    let mut fields: [Vec<String>; 4] = Default::default();
    let mut status_lines: Vec<String> = Vec::new();
    let mut target = Target::Preamble;
    let mut fences = Fences::default();
    let title_index = title_at.as_ref().map(|(index, _)| *index);

    let switch = |fields: &mut [Vec<String>; 4], field: Field| {
        if let Some(buffer) = fields.get_mut(field.index()) {
            if buffer.last().is_some_and(|last| !last.trim().is_empty()) {
                buffer.push(String::new());
            }
        }
    };

    for (index, line) in lines.iter().enumerate() {
        if Some(index) == title_index {
            continue;
        }
        let mut line = (*line).to_string();
        if !fences.is_code(&line) {
            let current = match target {
                Target::Field(field) => Some(field),
                _ => None,
            };
            if let Some((level, text)) = atx_heading(&line) {
                let after_title = title_index.is_none_or(|at| index > at);
                let heading = if after_title {
                    classify(level, text)
                } else {
                    Heading::Plain
                };
                match heading {
                    Heading::Drop(field) => {
                        switch(&mut fields, field);
                        target = Target::Field(field);
                        continue;
                    }
                    Heading::Keep(field) => {
                        if current != Some(field) {
                            switch(&mut fields, field);
                        }
                        target = Target::Field(field);
                    }
                    Heading::Status => {
                        target = Target::Status;
                        continue;
                    }
                    Heading::Plain => {
                        if target == Target::Preamble && after_title {
                            switch(&mut fields, Field::Context);
                            target = Target::Field(Field::Context);
                        }
                    }
                }
            } else if let Some((unescaped, level, text)) = escaped_heading(&line) {
                if is_structural_in(classify(level, &text), current) {
                    line = unescaped;
                }
            } else if target == Target::Preamble {
                if let Some((key, value)) = meta_line(&line) {
                    if meta.set(&key, &value)? {
                        continue;
                    }
                }
            }
        }
        match target {
            Target::Preamble => preamble.push(line),
            Target::Status => status_lines.push(line),
            Target::Field(field) => {
                if let Some(buffer) = fields.get_mut(field.index()) {
                    buffer.push(line);
                }
            }
        }
    }

    // Nygard status section: "Accepted", "Superseded by [3. Use X](0003-use-x.md)", links.
    for line in &status_lines {
        let clean = strip_html_comments(line);
        let clean = clean.trim();
        if clean.is_empty() {
            continue;
        }
        if let Some(rest) = strip_prefix_ignore_case(clean, "superseded by") {
            if meta.superseded_by.is_none() {
                meta.superseded_by = reference_number(rest);
            }
            if meta.status.is_none() {
                meta.status = Some((DecisionStatus::Superseded, None));
            }
        } else if strip_prefix_ignore_case(clean, "supersedes").is_some() {
            if meta.supersedes.is_none() {
                meta.supersedes = reference_number(clean);
            } else {
                meta.links.push(clean.to_string());
            }
        } else if meta.status.is_none() {
            let plain = clean.trim_start_matches(['-', '*', '+', ' ']);
            let plain = strip_prefix_ignore_case(plain, "status:").unwrap_or(plain);
            meta.status = parse_status(plain)?;
        } else {
            meta.links.push(clean.to_string());
        }
    }

    let [context, options, decision, consequences] =
        fields.map(|lines| trim_blank_lines(&lines.join("\n")).to_string());
    let preamble = trim_blank_lines(&preamble.join("\n")).to_string();
    let context = join_blocks(&[preamble, context]);
    let mut extra_blocks = vec![consequences];
    if !meta.extras.is_empty() {
        let list: Vec<String> = meta.extras.iter().map(|e| format!("- {e}")).collect();
        extra_blocks.push(format!("## More Information\n\n{}", list.join("\n")));
    }
    if !meta.links.is_empty() {
        let list: Vec<String> = meta.links.iter().map(|e| format!("- {e}")).collect();
        extra_blocks.push(format!("## Links\n\n{}", list.join("\n")));
    }
    let consequences = join_blocks(&extra_blocks);

    let (status, status_by) = meta.status.unwrap_or_default();
    Ok(AdrRecord {
        number,
        title: title.trim().to_string(),
        status,
        date: meta.date,
        deciders: meta.deciders.unwrap_or_default(),
        context,
        options,
        decision,
        consequences,
        supersedes: meta.supersedes,
        superseded_by: status_by.or(meta.superseded_by),
        expires: meta.expires,
    })
}

fn strip_prefix_ignore_case<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    let head = text.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| text.get(prefix.len()..))
        .flatten()
}

fn join_blocks(blocks: &[String]) -> String {
    blocks
        .iter()
        .filter(|block| !block.is_empty())
        .cloned()
        .collect::<Vec<_>>()
        .join("\n\n")
}

fn capitalize(key: &str) -> String {
    let mut chars = key.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// The number in `0007-title.md` / `adr-0007-title.md` (any folder).
fn file_number(path: &str) -> Option<u32> {
    let name = path.rsplit(['/', '\\']).next().unwrap_or(path);
    let name = strip_adr_prefix(name);
    let digits = name.len() - name.trim_start_matches(|c: char| c.is_ascii_digit()).len();
    if digits == 0 {
        return None;
    }
    let (number, rest) = name.split_at(digits);
    if !(rest.is_empty() || rest.starts_with(['-', '_', '.', ' '])) {
        return None;
    }
    number.parse().ok()
}

// ---------------------------------------------------------------------------------------------
// Zip archives
// ---------------------------------------------------------------------------------------------

/// A zip of `docs/adr/NNNN-title.md` files (MADR 2, see [`adr_to_markdown`]; links between the
/// records point at each other's files) plus `.adr-dir` containing `docs/adr`, which adr-tools
/// looks for. Records go in sorted by number; two records with the same number are an error.
pub fn adrs_to_zip(records: &[AdrRecord]) -> Result<Vec<u8>, String> {
    let mut sorted: Vec<&AdrRecord> = records.iter().collect();
    sorted.sort_by_key(|record| record.number);
    for pair in sorted.windows(2) {
        if let [a, b] = pair {
            if a.number == b.number {
                return Err(format!("two decision records are numbered {}", a.number));
            }
        }
    }
    let titles: BTreeMap<u32, &str> = sorted
        .iter()
        .map(|record| (record.number, record.title.as_str()))
        .collect();
    let lookup = |number: u32| titles.get(&number).map(|title| (*title).to_string());

    let failed = |e: zip::result::ZipError| format!("could not write the archive ({e})");
    let io_failed = |e: std::io::Error| format!("could not write the archive ({e})");
    let options = SimpleFileOptions::default()
        .compression_method(CompressionMethod::Deflated)
        .unix_permissions(0o644);
    let mut zip = ZipWriter::new(Cursor::new(Vec::new()));
    zip.start_file(".adr-dir", options).map_err(failed)?;
    zip.write_all(format!("{ADR_DIR}\n").as_bytes())
        .map_err(io_failed)?;
    for record in sorted {
        let name = format!("{ADR_DIR}/{}", adr_file_name(record.number, &record.title));
        zip.start_file(name, options).map_err(failed)?;
        zip.write_all(adr_to_markdown(record, &lookup).as_bytes())
            .map_err(io_failed)?;
    }
    Ok(zip.finish().map_err(failed)?.into_inner())
}

/// Reads every `*.md` file in the zip (any folder) as an ADR with [`parse_adr`]; the files that do
/// not parse are reported in `skipped` with why, the rest imported, sorted by number.
/// `README.md`, `index.md` and `*template.md` are skipped as "not a decision record"; other files
/// (and macOS `__MACOSX/`, `._*` clutter) are ignored silently. Two files with the same number: the
/// first in the archive is kept, the other skipped.
///
/// Against zip bombs: at most 1000 entries, each read through `take` up to 1 MiB whatever its
/// header says (a bigger file is skipped), at most 20 MiB in all. `Err` only when the bytes are
/// not a zip archive or an overall limit is exceeded.
pub fn adrs_from_zip(bytes: &[u8]) -> Result<AdrImport, String> {
    let mut archive =
        ZipArchive::new(Cursor::new(bytes)).map_err(|_| "this is not a zip archive".to_string())?;
    if archive.len() > MAX_ENTRIES {
        return Err(format!(
            "the archive has {} entries; at most {MAX_ENTRIES} are read",
            archive.len()
        ));
    }
    let mut records: Vec<AdrRecord> = Vec::new();
    let mut skipped: Vec<SkippedFile> = Vec::new();
    let mut owners: BTreeMap<u32, String> = BTreeMap::new();
    let mut total: u64 = 0;
    for index in 0..archive.len() {
        let path = match archive.name_for_index(index) {
            Some(Ok(name)) => name.into_owned(),
            _ => continue,
        };
        let file_name = path.rsplit(['/', '\\']).next().unwrap_or(&path).to_string();
        let lower = file_name.to_lowercase();
        if path.ends_with(['/', '\\'])
            || !lower.ends_with(".md")
            || path.starts_with("__MACOSX/")
            || path.contains("/__MACOSX/")
            || file_name.starts_with("._")
        {
            continue;
        }
        let mut skip = |reason: String| {
            skipped.push(SkippedFile {
                path: path.clone(),
                reason,
            })
        };
        let stem = lower.trim_end_matches(".md");
        if stem == "readme" || stem == "index" || stem.ends_with("template") {
            skip("not a decision record".to_string());
            continue;
        }
        let mut file = match archive.by_index(index) {
            Ok(file) => file,
            Err(e) => {
                skip(format!("could not be read ({e})"));
                continue;
            }
        };
        if file.is_dir() {
            continue;
        }
        let mut buffer = Vec::new();
        let read = file
            .by_ref()
            .take(MAX_FILE_BYTES + 1)
            .read_to_end(&mut buffer);
        total = total.saturating_add(buffer.len() as u64);
        if total > MAX_TOTAL_BYTES {
            return Err("the archive holds more than 20 MiB of Markdown".to_string());
        }
        if let Err(e) = read {
            skip(format!("could not be read ({e})"));
            continue;
        }
        if buffer.len() as u64 > MAX_FILE_BYTES {
            skip("larger than 1 MiB".to_string());
            continue;
        }
        let Ok(text) = String::from_utf8(buffer) else {
            skip("not UTF-8 text".to_string());
            continue;
        };
        match parse_adr(&path, &text) {
            Ok(record) => {
                if let Some(first) = owners.get(&record.number) {
                    skip(format!(
                        "number {} is already used by {first}",
                        record.number
                    ));
                } else {
                    owners.insert(record.number, path.clone());
                    records.push(record);
                }
            }
            Err(reason) => skip(reason),
        }
    }
    records.sort_by_key(|record| record.number);
    Ok(AdrImport { records, skipped })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_normalised_or_refused() {
        assert_eq!(
            parse_date("2024-02-29", "date"),
            Ok(Some("2024-02-29".into()))
        );
        assert_eq!(
            parse_date("2024/2/3", "date"),
            Ok(Some("2024-02-03".into()))
        );
        assert_eq!(
            parse_date("'2024-02-03T10:00:00Z'", "date"),
            Ok(Some("2024-02-03".into()))
        );
        assert_eq!(parse_date("{YYYY-MM-DD when updated}", "date"), Ok(None));
        assert_eq!(parse_date("", "date"), Ok(None));
        assert!(parse_date("2023-02-29", "date").is_err());
        assert!(parse_date("2023-13-01", "date").is_err());
        assert!(parse_date("2023-01-011", "date").is_err());
        assert!(parse_date("tomorrow", "date").is_err());
    }

    #[test]
    fn references_name_a_record() {
        assert_eq!(reference_number("[ADR-0003](0003-use-x.md)"), Some(3));
        assert_eq!(reference_number("[3. Use X](0003-use-x.md)"), Some(3));
        assert_eq!(
            reference_number("[Use X](../adr/adr-0012-use-x.md)"),
            Some(12)
        );
        assert_eq!(reference_number(" by ADR-0042"), Some(42));
        assert_eq!(reference_number("by 7"), Some(7));
        assert_eq!(reference_number(""), None);
        assert_eq!(reference_number("99999999999999"), None);
    }

    #[test]
    fn statuses_as_people_write_them() {
        assert_eq!(
            parse_status("Accepted."),
            Ok(Some((DecisionStatus::Accepted, None)))
        );
        assert_eq!(
            parse_status("draft"),
            Ok(Some((DecisionStatus::Proposed, None)))
        );
        assert_eq!(
            parse_status("Superseded by [ADR-0005](0005-example.md) <!-- x -->"),
            Ok(Some((DecisionStatus::Superseded, Some(5))))
        );
        assert_eq!(parse_status("<!-- optional -->"), Ok(None));
        assert_eq!(parse_status("maybe"), Err("unknown status 'maybe'".into()));
    }

    #[test]
    fn structural_lines_are_escaped_once() {
        let text = "## Decision Outcome\n\\## Status\n## Pros and Cons of the Options\n## Links\n```\n## Context\n";
        assert_eq!(
            escape_body(text, Field::Options),
            "\\## Decision Outcome\n\\\\## Status\n## Pros and Cons of the Options\n\\## Links\n```\n## Context\n```"
        );
        assert_eq!(escape_title("3. Reasons"), "3\\. Reasons");
        assert_eq!(split_title("3\\. Reasons"), (None, "3. Reasons".into()));
        assert_eq!(split_title("3. Reasons"), (Some(3), "Reasons".into()));
        assert_eq!(
            split_title("2FA for admins"),
            (None, "2FA for admins".into())
        );
    }

    #[test]
    fn file_numbers() {
        assert_eq!(file_number("docs/adr/0007-x.md"), Some(7));
        assert_eq!(file_number("ADR-0007-x.md"), Some(7));
        assert_eq!(file_number("docs\\adr\\0007_x.md"), Some(7));
        assert_eq!(file_number("2fa.md"), None);
        assert_eq!(file_number("x-0007.md"), None);
    }
}
