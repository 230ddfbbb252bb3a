//! Log import: access logs (nginx combined, JSON lines) become per-endpoint p50/p95/p99 and
//! error rates with path parameters folded (`/users/123` → `/users/{id}`); PostgreSQL
//! slow-query logs become the slowest statements. Malformed lines are counted, never fatal.
//!
//! The files come from founders or a CI job, so every byte is hostile: the format is sniffed
//! per file, gzip is decompressed as a stream up to a cap, lines are cut at 64 KiB, endpoint and
//! statement tables are capped, and no input makes this module panic or fail the run — the
//! worst a file can do is be counted as malformed.
mod access;
mod checks;
mod fold;
mod input;
mod slow_queries;

use std::io::BufRead;

use super::model::ProbeOutput;
use super::progress::Progress;
use access::{EndpointTable, JsonLine};
use input::LineReader;
use slow_queries::{PendingStatement, PgLine, StatementTable};

pub use checks::{CHECKS, ERROR_RATE, LATENCY_PERCENTILES, MALFORMED_LINES, SLOW_STATEMENTS};

#[derive(Debug, Clone)]
pub struct LogFile {
    pub name: String,
    pub bytes: Vec<u8>,
}

/// The bounds that keep a hostile upload from exhausting memory.
#[derive(Debug, Clone)]
pub struct LogLimits {
    /// Bytes all gzip files of a run may decompress to, together (so ten bombs cost no more
    /// than one); reading stops there and the file is reported.
    pub max_decompressed_bytes: u64,
    /// Distinct endpoints kept; the rest share one "(other endpoints)" row.
    pub max_endpoints: usize,
    /// Distinct normalised statements kept; the rest share one "(other statements)" row.
    pub max_statements: usize,
}

impl Default for LogLimits {
    fn default() -> Self {
        LogLimits {
            max_decompressed_bytes: 512 * 1024 * 1024,
            max_endpoints: 500,
            max_statements: 500,
        }
    }
}

/// Reads every file (format detected per file) and returns the log checks.
pub fn run(files: &[LogFile], progress: &Progress) -> ProbeOutput {
    run_with_limits(files, progress, &LogLimits::default())
}

/// `run` with explicit bounds (tests use small ones).
pub fn run_with_limits(files: &[LogFile], progress: &Progress, limits: &LogLimits) -> ProbeOutput {
    progress.set_total(i64::try_from(files.len()).unwrap_or(i64::MAX));
    let mut tables = Tables {
        endpoints: EndpointTable::new(limits.max_endpoints),
        statements: StatementTable::new(limits.max_statements),
    };
    let mut reports = Vec::with_capacity(files.len());
    let mut cancelled = false;
    let mut gzip_budget = limits.max_decompressed_bytes;
    for file in files {
        if progress.is_cancelled() {
            cancelled = true;
            break;
        }
        let name = display_name(&file.name);
        progress.set_label(format!("Reading {name}"));
        let report = read_file(file, &name, limits, &mut gzip_budget, &mut tables, progress);
        cancelled = report.cancelled;
        reports.push(report);
        progress.step(name);
        if cancelled {
            break;
        }
    }
    checks::build(&reports, &mut tables, cancelled)
}

/// What a file turned out to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LogFormat {
    /// No non-blank line.
    Empty,
    /// None of the first lines matched a format we read: every line is malformed.
    Unknown,
    /// nginx/Apache combined or common log format, with or without a request time.
    Combined,
    JsonLines,
    Postgres,
}

impl LogFormat {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            LogFormat::Empty => "empty",
            LogFormat::Unknown => "unknown",
            LogFormat::Combined => "combined",
            LogFormat::JsonLines => "json-lines",
            LogFormat::Postgres => "postgresql",
        }
    }

    pub(crate) fn label(self) -> &'static str {
        match self {
            LogFormat::Empty => "empty",
            LogFormat::Unknown => "unrecognised format",
            LogFormat::Combined => "combined access log",
            LogFormat::JsonLines => "JSON access log",
            LogFormat::Postgres => "PostgreSQL log",
        }
    }

    pub(crate) fn is_access(self) -> bool {
        matches!(self, LogFormat::Combined | LogFormat::JsonLines)
    }
}

/// One file's reading, for the malformed-lines check and the raw record.
#[derive(Debug, Clone)]
pub(crate) struct FileReport {
    pub name: String,
    pub format: LogFormat,
    pub gzip: bool,
    /// Non-blank lines read.
    pub lines: u64,
    /// Requests (access logs) or timed statements (PostgreSQL) taken from the file.
    pub records: u64,
    /// Requests with a latency.
    pub timed: u64,
    /// Well-formed lines that are not requests or timed statements (application log lines,
    /// checkpoints, errors).
    pub ignored: u64,
    pub malformed: u64,
    /// The first few malformed line numbers (1-based), so a person can look.
    pub malformed_examples: Vec<u64>,
    /// Why reading stopped before the end (size cap, corrupt gzip).
    pub stopped: Option<String>,
    pub cancelled: bool,
    pub notes: Vec<String>,
}

const MALFORMED_EXAMPLES: usize = 5;

impl FileReport {
    fn malformed_line(&mut self, number: u64) {
        self.malformed += 1;
        if self.malformed_examples.len() < MALFORMED_EXAMPLES {
            self.malformed_examples.push(number);
        }
    }
}

pub(crate) struct Tables {
    pub endpoints: EndpointTable,
    pub statements: StatementTable,
}

/// Non-blank lines looked at to decide a file's format.
const SNIFF_LINES: usize = 20;

/// Lines between two looks at the cancel flag inside one file.
const CANCEL_CHECK_LINES: u64 = 64 * 1024;

fn read_file(
    file: &LogFile,
    name: &str,
    limits: &LogLimits,
    gzip_budget: &mut u64,
    tables: &mut Tables,
    progress: &Progress,
) -> FileReport {
    let gzip = input::is_gzip(&file.bytes);
    let mut report = FileReport {
        name: name.to_owned(),
        format: LogFormat::Empty,
        gzip,
        lines: 0,
        records: 0,
        timed: 0,
        ignored: 0,
        malformed: 0,
        malformed_examples: Vec::new(),
        stopped: None,
        cancelled: false,
        notes: Vec::new(),
    };
    if !gzip && file.name.to_ascii_lowercase().ends_with(".gz") {
        report
            .notes
            .push("named .gz but not gzip-compressed: read as plain text".to_owned());
    }
    if let Some(container) = input::other_container(&file.bytes) {
        report.notes.push(format!(
            "looks {container}: upload plain text or gzip (.gz) instead"
        ));
    }
    if gzip {
        let mut reader = input::gunzip(&file.bytes, *gzip_budget, limits.max_decompressed_bytes);
        read_lines(&mut reader, &mut report, tables, progress);
        *gzip_budget = reader.get_ref().remaining();
    } else {
        read_lines(file.bytes.as_slice(), &mut report, tables, progress);
    }
    report
}

struct SniffedLine {
    number: u64,
    bytes: Vec<u8>,
    too_long: bool,
}

fn is_blank(bytes: &[u8]) -> bool {
    bytes.iter().all(u8::is_ascii_whitespace)
}

fn read_lines<R: BufRead>(
    reader: R,
    report: &mut FileReport,
    tables: &mut Tables,
    progress: &Progress,
) {
    let mut lines = LineReader::new(reader);
    let mut sniffed = Vec::new();
    while sniffed.len() < SNIFF_LINES {
        let Some(line) = lines.next_line() else { break };
        if !is_blank(line.bytes) {
            sniffed.push(SniffedLine {
                number: line.number,
                bytes: line.bytes.to_vec(),
                too_long: line.too_long,
            });
        }
    }
    report.format = detect(&sniffed);
    let mut parser = FileParser {
        format: report.format,
        pending: None,
    };
    for line in &sniffed {
        parser.line(line.number, &line.bytes, line.too_long, report, tables);
    }
    drop(sniffed);
    while let Some(line) = lines.next_line() {
        if is_blank(line.bytes) {
            continue;
        }
        parser.line(line.number, line.bytes, line.too_long, report, tables);
        if report.lines.is_multiple_of(CANCEL_CHECK_LINES) && progress.is_cancelled() {
            report.cancelled = true;
            break;
        }
    }
    parser.flush(report, tables);
    if let Some(error) = lines.error() {
        report.stopped = Some(format!(
            "reading stopped after {} lines: {error}",
            report.lines
        ));
    }
}

/// Decides the format from the first non-blank lines: whichever format most of them parse as;
/// unknown when none does.
fn detect(lines: &[SniffedLine]) -> LogFormat {
    if lines.is_empty() {
        return LogFormat::Empty;
    }
    let (mut combined, mut json, mut pg) = (0, 0, 0);
    for line in lines.iter().filter(|l| !l.too_long) {
        let text = String::from_utf8_lossy(&line.bytes);
        if access::parse_combined(&text).is_some() {
            combined += 1;
        } else if access::looks_like_json(&text) {
            json += 1;
        } else if slow_queries::looks_like_pg(&text) {
            pg += 1;
        }
    }
    let best = combined.max(json).max(pg);
    if best == 0 {
        LogFormat::Unknown
    } else if combined == best {
        LogFormat::Combined
    } else if json == best {
        LogFormat::JsonLines
    } else {
        LogFormat::Postgres
    }
}

struct FileParser {
    format: LogFormat,
    /// A PostgreSQL statement whose continuation lines may still follow.
    pending: Option<PendingStatement>,
}

impl FileParser {
    fn line(
        &mut self,
        number: u64,
        bytes: &[u8],
        too_long: bool,
        report: &mut FileReport,
        tables: &mut Tables,
    ) {
        report.lines += 1;
        // Invalid UTF-8 is replaced, not rejected: the parsers decide whether the line makes
        // sense (nginx escapes non-ASCII bytes anyway; a PostgreSQL statement may be Latin-1).
        let text = String::from_utf8_lossy(bytes);
        match self.format {
            LogFormat::Empty | LogFormat::Unknown => report.malformed_line(number),
            LogFormat::Combined => {
                // A cut-off access line would be read wrongly; 64 KiB is no real request.
                match access::parse_combined(&text).filter(|_| !too_long) {
                    Some(record) => record_request(&record, report, tables),
                    None => report.malformed_line(number),
                }
            }
            LogFormat::JsonLines => {
                let parsed = if too_long {
                    JsonLine::Malformed
                } else {
                    access::parse_json(&text)
                };
                match parsed {
                    JsonLine::Request(record) => record_request(&record, report, tables),
                    JsonLine::NotARequest => report.ignored += 1,
                    JsonLine::Malformed => report.malformed_line(number),
                }
            }
            LogFormat::Postgres => match slow_queries::classify(&text) {
                PgLine::Continuation(more) => match self.pending.as_mut() {
                    Some(pending) => pending.continue_with(more),
                    // More of an entry we do not keep (an error's STATEMENT, a DETAIL).
                    None => report.ignored += 1,
                },
                PgLine::Timed {
                    ms,
                    statement: Some(statement),
                } => {
                    self.flush(report, tables);
                    self.pending = Some(PendingStatement::new(ms, statement, number));
                }
                PgLine::Timed {
                    statement: None, ..
                }
                | PgLine::OtherEntry => {
                    self.flush(report, tables);
                    report.ignored += 1;
                }
                PgLine::Malformed => {
                    self.flush(report, tables);
                    report.malformed_line(number);
                }
            },
        }
    }

    fn flush(&mut self, report: &mut FileReport, tables: &mut Tables) {
        if let Some(pending) = self.pending.take() {
            report.records += 1;
            let name = &report.name;
            tables.statements.record(&pending.text, pending.ms, || {
                format!("{name}:{}", pending.line)
            });
        }
    }
}

fn record_request(record: &access::AccessRecord, report: &mut FileReport, tables: &mut Tables) {
    report.records += 1;
    if record.latency_us.is_some() {
        report.timed += 1;
    }
    tables.endpoints.record(record);
}

/// A file name safe to show: control characters replaced, at most 120 characters.
fn display_name(name: &str) -> String {
    let cleaned = checks::clean(name, 120);
    if cleaned.trim().is_empty() {
        "(unnamed file)".to_owned()
    } else {
        cleaned
    }
}
