//! PostgreSQL slow-query logs (`log_min_duration_statement`, stderr format, any
//! `log_line_prefix`): entries `LOG:  duration: 1234.567 ms  statement: ...` and
//! `LOG:  duration: ... ms  execute <name>: ...` become statements, grouped after their literals
//! are replaced by `$n` as pg_stat_statements does, so the same query with different parameters
//! is one row.
//!
//! PostgreSQL writes a multi-line message with a tab after every newline (`append_with_tabs` in
//! elog.c), so a line starting with a tab or space continues the entry before it. Messages are
//! expected in English (`lc_messages = C`/`en`): the `duration:` marker is matched literally.
//! `parse`/`bind` phase durations and auto_explain `plan:` entries are not counted (ignored):
//! counting them with `execute` would count one execution two or three times.
use std::collections::HashMap;

use super::fold::truncate_at_char;

/// Bytes kept of one statement's text (continuation lines included). Enough to tell statements
/// apart; a 10 MB bulk INSERT keeps its start.
const MAX_STATEMENT_BYTES: usize = 16 * 1024;

pub(crate) const OTHER_STATEMENTS: &str = "(other statements)";

/// Severity markers PostgreSQL writes before a message (always followed by two spaces).
const SEVERITY_MARKERS: &[&str] = &[
    "LOG:  ",
    "ERROR:  ",
    "WARNING:  ",
    "FATAL:  ",
    "PANIC:  ",
    "DETAIL:  ",
    "HINT:  ",
    "STATEMENT:  ",
    "CONTEXT:  ",
    "NOTICE:  ",
    "INFO:  ",
    "DEBUG:  ",
    "QUERY:  ",
    "LOCATION:  ",
];

/// What one line of a PostgreSQL log is.
#[derive(Debug, PartialEq)]
pub(crate) enum PgLine<'a> {
    /// A `duration:` entry; `statement` is None for phases we do not count (parse, bind, plan,
    /// a bare `duration:` from `log_duration`).
    Timed {
        ms: f64,
        statement: Option<&'a str>,
    },
    /// Starts with whitespace: more of the entry before.
    Continuation(&'a str),
    /// Any other log entry (checkpoints, errors, connection lines).
    OtherEntry,
    Malformed,
}

pub(crate) fn looks_like_pg(line: &str) -> bool {
    SEVERITY_MARKERS.iter().any(|m| line.contains(m))
}

pub(crate) fn classify(line: &str) -> PgLine<'_> {
    if line.starts_with([' ', '\t']) {
        return PgLine::Continuation(line);
    }
    let Some(at) = line.find("LOG:  ") else {
        return if looks_like_pg(line) {
            PgLine::OtherEntry
        } else {
            PgLine::Malformed
        };
    };
    let message = skip_sqlstate(&line[at + "LOG:  ".len()..]);
    let Some(rest) = message.strip_prefix("duration: ") else {
        return PgLine::OtherEntry;
    };
    let Some((number, rest)) = rest.split_once(' ') else {
        return PgLine::Malformed;
    };
    let Some(ms) = number
        .parse::<f64>()
        .ok()
        .filter(|ms| ms.is_finite() && *ms >= 0.0)
    else {
        return PgLine::Malformed;
    };
    let Some(rest) = rest.strip_prefix("ms") else {
        return PgLine::Malformed;
    };
    let rest = rest.trim_start();
    let statement = if let Some(text) = rest.strip_prefix("statement: ") {
        Some(text)
    } else if let Some(named) = rest.strip_prefix("execute ") {
        // `execute <unnamed>: ...`, `execute S_1: ...`, `execute fetch from S_2/C_3: ...`
        match named.split_once(": ") {
            Some((_, text)) => Some(text),
            None => return PgLine::Malformed,
        }
    } else {
        None
    };
    PgLine::Timed { ms, statement }
}

/// `log_error_verbosity = verbose` puts the SQLSTATE first: `LOG:  00000: duration: ...`.
fn skip_sqlstate(message: &str) -> &str {
    let bytes = message.as_bytes();
    if bytes.len() > 7
        && bytes[5] == b':'
        && bytes[6] == b' '
        && bytes[..5].iter().all(u8::is_ascii_alphanumeric)
    {
        &message[7..]
    } else {
        message
    }
}

#[derive(Debug, Clone)]
struct StatementStats {
    calls: u64,
    total_ms: f64,
    max_ms: f64,
    /// Where it was first seen: `file:line`.
    first_seen: String,
}

/// Timed statements across every slow log of the run, grouped by normalised text.
pub(crate) struct StatementTable {
    statements: HashMap<String, StatementStats>,
    cap: usize,
    capped: bool,
}

#[derive(Debug, Clone)]
pub(crate) struct StatementSummary {
    pub text: String,
    pub calls: u64,
    pub total_ms: f64,
    pub mean_ms: f64,
    pub max_ms: f64,
    pub first_seen: String,
}

impl StatementSummary {
    pub fn is_aggregate(&self) -> bool {
        self.text == OTHER_STATEMENTS
    }
}

impl StatementTable {
    pub(crate) fn new(cap: usize) -> StatementTable {
        StatementTable {
            statements: HashMap::new(),
            cap,
            capped: false,
        }
    }

    pub(crate) fn record(&mut self, text: &str, ms: f64, first_seen: impl FnOnce() -> String) {
        let key = normalize(text);
        let key = if self.statements.len() < self.cap || self.statements.contains_key(&key) {
            key
        } else {
            self.capped = true;
            OTHER_STATEMENTS.to_owned()
        };
        let stats = self
            .statements
            .entry(key)
            .or_insert_with(|| StatementStats {
                calls: 0,
                total_ms: 0.0,
                max_ms: 0.0,
                first_seen: first_seen(),
            });
        stats.calls += 1;
        stats.total_ms += ms;
        stats.max_ms = stats.max_ms.max(ms);
    }

    pub(crate) fn capped(&self) -> bool {
        self.capped
    }

    pub(crate) fn len(&self) -> usize {
        self.statements.len()
    }

    /// Every statement, by total time, largest first.
    pub(crate) fn summaries(&self) -> Vec<StatementSummary> {
        let mut out: Vec<StatementSummary> = self
            .statements
            .iter()
            .map(|(text, s)| StatementSummary {
                text: text.clone(),
                calls: s.calls,
                total_ms: s.total_ms,
                mean_ms: if s.calls == 0 {
                    0.0
                } else {
                    s.total_ms / s.calls as f64
                },
                max_ms: s.max_ms,
                first_seen: s.first_seen.clone(),
            })
            .collect();
        out.sort_by(|a, b| {
            b.total_ms
                .total_cmp(&a.total_ms)
                .then_with(|| a.text.cmp(&b.text))
        });
        out
    }
}

/// A statement being read: the `duration:` line, then its continuation lines.
pub(crate) struct PendingStatement {
    pub ms: f64,
    pub text: String,
    pub line: u64,
}

impl PendingStatement {
    pub(crate) fn new(ms: f64, first: &str, line: u64) -> PendingStatement {
        let mut text = first.to_owned();
        truncate_at_char(&mut text, MAX_STATEMENT_BYTES);
        PendingStatement { ms, text, line }
    }

    pub(crate) fn continue_with(&mut self, line: &str) {
        if self.text.len() >= MAX_STATEMENT_BYTES {
            return;
        }
        self.text.push('\n');
        self.text.push_str(line);
        truncate_at_char(&mut self.text, MAX_STATEMENT_BYTES);
    }
}

// ---------------------------------------------------------------------------------------------
// Normalisation

#[derive(Debug)]
enum Tok<'a> {
    /// Keywords, identifiers, operators, parameters: kept as written.
    Text(&'a str),
    /// A constant: rendered as the next `$n`. `squashed` when it stands for a list of them.
    Literal { squashed: bool },
}

/// The statement with its constants replaced by `$n` (numbered after any `$n` it already has),
/// comments removed and whitespace collapsed; a parenthesised list of constants becomes
/// `($n /*, ... */)` as in pg_stat_statements 18, so `IN (1, 2)` and `IN (3, 4, 5)` group.
/// Case is kept, as pg_stat_statements keeps it. Works on any text: unterminated quotes and
/// comments run to the end.
pub(crate) fn normalize(sql: &str) -> String {
    let bytes = sql.as_bytes();
    let mut toks: Vec<(bool, Tok<'_>)> = Vec::new();
    let mut space = false;
    let mut max_param: u32 = 0;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        let start = i;
        if b.is_ascii_whitespace() {
            space = true;
            i += 1;
            continue;
        }
        if b == b'-' && bytes.get(i + 1) == Some(&b'-') {
            i = find_byte(bytes, i, b'\n');
            space = true;
            continue;
        }
        if b == b'/' && bytes.get(i + 1) == Some(&b'*') {
            i = skip_block_comment(bytes, i);
            space = true;
            continue;
        }
        let tok = if b == b'\'' {
            // E'...' (backslash escapes), B'...', X'...', N'...': the prefix is part of the
            // constant.
            let mut backslash = false;
            if let (false, Some((_, Tok::Text(prev)))) = (space, toks.last()) {
                if prev.len() == 1
                    && matches!(
                        prev.as_bytes()[0],
                        b'e' | b'E' | b'b' | b'B' | b'x' | b'X' | b'n' | b'N'
                    )
                {
                    backslash = prev.eq_ignore_ascii_case("e");
                    if let Some((prefix_space, _)) = toks.pop() {
                        space = prefix_space;
                    }
                }
            }
            i = skip_string(bytes, i, b'\'', backslash);
            Tok::Literal { squashed: false }
        } else if b == b'"' {
            i = skip_string(bytes, i, b'"', false);
            Tok::Text(&sql[start..i])
        } else if b == b'$' && bytes.get(i + 1).is_some_and(u8::is_ascii_digit) {
            i += 1;
            while i < bytes.len() && bytes[i].is_ascii_digit() {
                i += 1;
            }
            if let Ok(n) = sql[start + 1..i].parse::<u32>() {
                max_param = max_param.max(n);
            }
            Tok::Text(&sql[start..i])
        } else if b == b'$' {
            match dollar_quote_end(bytes, i) {
                Some(end) => {
                    i = end;
                    Tok::Literal { squashed: false }
                }
                None => {
                    i += 1;
                    Tok::Text(&sql[start..i])
                }
            }
        } else if b.is_ascii_digit()
            || (b == b'.' && bytes.get(i + 1).is_some_and(u8::is_ascii_digit))
        {
            // 42, 4.2, .5, 1e-3, 0x1F: a number runs on through letters and digits.
            i += 1;
            while i < bytes.len() {
                let c = bytes[i];
                let exponent_sign = (c == b'+' || c == b'-') && matches!(bytes[i - 1], b'e' | b'E');
                if is_ident_byte(c) || c == b'.' || exponent_sign {
                    i += 1;
                } else {
                    break;
                }
            }
            Tok::Literal { squashed: false }
        } else if is_ident_byte(b) {
            while i < bytes.len() && (is_ident_byte(bytes[i]) || bytes[i] == b'$') {
                i += 1;
            }
            Tok::Text(&sql[start..i])
        } else {
            i += 1;
            Tok::Text(&sql[start..i])
        };

        // `( $1 , $2` → `( $1 /*, ... */`: inside parentheses, a literal that follows
        // "literal ," is dropped and the first one stands for the list.
        if matches!(tok, Tok::Literal { .. }) && toks.len() >= 3 {
            let n = toks.len();
            let list_start = match toks[n - 2].1 {
                Tok::Literal { squashed: true } => true,
                Tok::Literal { squashed: false } => matches!(toks[n - 3].1, Tok::Text("(")),
                Tok::Text(_) => false,
            };
            if list_start && matches!(toks[n - 1].1, Tok::Text(",")) {
                toks.pop();
                if let Some((_, Tok::Literal { squashed })) = toks.last_mut() {
                    *squashed = true;
                }
                space = false;
                continue;
            }
        }
        toks.push((space && !toks.is_empty(), tok));
        space = false;
    }

    let mut out = String::with_capacity(sql.len().min(MAX_STATEMENT_BYTES));
    let mut next_param = max_param;
    for (space_before, tok) in toks {
        if space_before {
            out.push(' ');
        }
        match tok {
            Tok::Text(text) => out.push_str(text),
            Tok::Literal { squashed } => {
                next_param = next_param.saturating_add(1);
                out.push('$');
                out.push_str(&next_param.to_string());
                if squashed {
                    out.push_str(" /*, ... */");
                }
            }
        }
    }
    out
}

/// Letters, digits, `_` and any non-ASCII byte (PostgreSQL allows non-ASCII identifiers; every
/// byte of a multi-byte character is ≥ 0x80, so slices stay on character boundaries).
fn is_ident_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b >= 0x80
}

/// Index of the next `needle` at or after `from`, or the end.
fn find_byte(bytes: &[u8], from: usize, needle: u8) -> usize {
    bytes[from..]
        .iter()
        .position(|&b| b == needle)
        .map_or(bytes.len(), |p| from + p)
}

/// Past the closing quote of a string or quoted identifier starting at `start` (a doubled
/// quote is an escaped quote); the end of input when unterminated.
fn skip_string(bytes: &[u8], start: usize, quote: u8, backslash: bool) -> usize {
    let mut i = start + 1;
    while i < bytes.len() {
        let c = bytes[i];
        if backslash && c == b'\\' {
            i += 2;
        } else if c == quote {
            if bytes.get(i + 1) == Some(&quote) {
                i += 2;
            } else {
                return i + 1;
            }
        } else {
            i += 1;
        }
    }
    bytes.len()
}

/// Past a (nested) `/* */` comment starting at `start`.
fn skip_block_comment(bytes: &[u8], start: usize) -> usize {
    let mut depth = 0usize;
    let mut i = start;
    while i + 1 < bytes.len() {
        if bytes[i] == b'/' && bytes[i + 1] == b'*' {
            depth += 1;
            i += 2;
        } else if bytes[i] == b'*' && bytes[i + 1] == b'/' {
            depth = depth.saturating_sub(1);
            i += 2;
            if depth == 0 {
                return i;
            }
        } else {
            i += 1;
        }
    }
    bytes.len()
}

/// `$tag$ ... $tag$` starting at `start`: the index past the closing tag (the end of input when
/// unterminated), or None when this `$` does not open a dollar quote.
fn dollar_quote_end(bytes: &[u8], start: usize) -> Option<usize> {
    let mut i = start + 1;
    while i < bytes.len()
        && (is_ident_byte(bytes[i]) && !(i == start + 1 && bytes[i].is_ascii_digit()))
    {
        i += 1;
    }
    if bytes.get(i) != Some(&b'$') {
        return None;
    }
    let tag = &bytes[start..=i];
    let body = i + 1;
    let end = bytes[body..]
        .windows(tag.len())
        .position(|w| w == tag)
        .map_or(bytes.len(), |p| body + p + tag.len());
    Some(end)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn literals_become_numbered_parameters() {
        assert_eq!(
            normalize("SELECT * FROM t WHERE a = 5 AND b = 'x''y' AND c = E'\\'' AND d = 1.5e-3"),
            "SELECT * FROM t WHERE a = $1 AND b = $2 AND c = $3 AND d = $4"
        );
        assert_eq!(
            normalize("select *\n\tfrom t1  -- comment\n\twhere id = $1 and x = 3 /* c */"),
            "select * from t1 where id = $1 and x = $2"
        );
        assert_eq!(
            normalize("SELECT $$a 'b'$$, $fn$x$fn$::text, col_2"),
            "SELECT $1, $2::text, col_2"
        );
        assert_eq!(
            normalize("WHERE id IN (1, 2, 3)"),
            normalize("WHERE id IN (4,5)")
        );
        assert_eq!(
            normalize("WHERE id IN (4,5)"),
            "WHERE id IN ($1 /*, ... */)"
        );
        assert_eq!(normalize("x = 'unterminated"), "x = $1");
        assert_eq!(
            normalize("\"Weird \"\" name\" = 1"),
            "\"Weird \"\" name\" = $1"
        );
    }

    #[test]
    fn classifies_log_lines() {
        assert_eq!(
            classify(
                "2024-05-02 10:00:01 UTC [42] LOG:  duration: 1520.113 ms  statement: SELECT 1"
            ),
            PgLine::Timed {
                ms: 1520.113,
                statement: Some("SELECT 1")
            }
        );
        assert_eq!(
            classify("LOG:  00000: duration: 3.5 ms  execute <unnamed>: SELECT $1"),
            PgLine::Timed {
                ms: 3.5,
                statement: Some("SELECT $1")
            }
        );
        assert_eq!(
            classify("x LOG:  duration: 3.5 ms  bind S_1: SELECT $1"),
            PgLine::Timed {
                ms: 3.5,
                statement: None
            }
        );
        assert_eq!(
            classify("x LOG:  checkpoint starting: time"),
            PgLine::OtherEntry
        );
        assert_eq!(classify("x ERROR:  boom"), PgLine::OtherEntry);
        assert_eq!(classify("\tFROM t"), PgLine::Continuation("\tFROM t"));
        assert_eq!(
            classify("x LOG:  duration: abc ms  statement: x"),
            PgLine::Malformed
        );
        assert_eq!(classify("garbage"), PgLine::Malformed);
    }
}
