//! Access logs: nginx/Apache combined (and common) lines and JSON lines become request records
//! (method, target, status, latency), which are folded into endpoints and summarised.
//!
//! Latency units, since logs rarely say:
//! - combined lines: a trailing bare decimal (`... "curl/8" 0.123`), `rt=0.123` or
//!   `request_time=0.123` is nginx's `$request_time`: seconds with millisecond resolution.
//!   `urt=`/`upstream_response_time=` (also seconds) is used only when no request time is there.
//!   A bare *integer* is not taken: Apache's `%D` (µs) and `%T` (s) cannot be told apart.
//! - JSON lines: the unit follows the key (see `LATENCY_KEYS`): `request_time` and
//!   `upstream_response_time` are nginx seconds, `duration_ms`/`duration`/`latency`/
//!   `response_time` are milliseconds (lograge, pino-http, morgan), `duration_us` microseconds,
//!   `duration_ns` and ECS `event.duration` nanoseconds. A string with a unit suffix (`"12.5ms"`,
//!   `"1.2s"`, Go's `"1m2.5s"`) uses its own unit.
use std::collections::HashMap;

use serde_json::Value;

use super::fold::fold_path;

/// One request as a log line describes it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct AccessRecord {
    /// Upper-case HTTP method, when the line has a plausible one.
    pub method: Option<String>,
    /// The request target (path, maybe with query, maybe absolute), when there is one.
    pub target: Option<String>,
    pub status: u16,
    /// Microseconds, saturating at `u32::MAX` (71 minutes).
    pub latency_us: Option<u32>,
}

// ---------------------------------------------------------------------------------------------
// Combined / common log format

/// `host ident user [time] "request" status bytes ["referer" "agent"] [extra...]`.
/// Apache's `vhost_combined` puts `vhost:port` first, so one to four tokens before `[` are
/// accepted. Returns None when the line is not of that shape.
pub(crate) fn parse_combined(line: &str) -> Option<AccessRecord> {
    let open = line.find('[')?;
    let head_tokens = line[..open].split_whitespace().count();
    if !(2..=4).contains(&head_tokens) || line[..open].contains('"') {
        return None;
    }
    let after_open = &line[open + 1..];
    let close = after_open.find(']')?;
    let mut rest = after_open[close + 1..].trim_start();

    let request = take_quoted(&mut rest)?;
    let status = parse_status(take_token(&mut rest)?)?;
    let bytes = take_token(&mut rest)?;
    if bytes != "-" && !bytes.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    // Referer and user agent (combined) are optional (common format ends here).
    for _ in 0..2 {
        if rest.starts_with('"') {
            take_quoted(&mut rest)?;
        }
    }
    let latency_us = trailing_latency(rest);
    let (method, target) = split_request_line(request);
    Some(AccessRecord {
        method,
        target,
        status,
        latency_us,
    })
}

/// Takes a `"..."` field from the front of `rest` (backslash escapes the next character, as
/// Apache writes `\"`), returning its inside.
fn take_quoted<'a>(rest: &mut &'a str) -> Option<&'a str> {
    let s = *rest;
    let inner = s.strip_prefix('"')?;
    let mut escaped = false;
    for (i, c) in inner.char_indices() {
        if escaped {
            escaped = false;
        } else if c == '\\' {
            escaped = true;
        } else if c == '"' {
            *rest = inner[i + 1..].trim_start();
            return Some(&inner[..i]);
        }
    }
    None
}

/// `key="value with spaces"` from the front of `rest` (nginx's `urt="0.010, 0.020"`).
fn take_quoted_pair<'a>(rest: &mut &'a str) -> Option<(&'a str, &'a str)> {
    let s = *rest;
    let eq = s.find('=')?;
    let key = &s[..eq];
    if key.is_empty() || !key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        return None;
    }
    let mut after = &s[eq + 1..];
    if !after.starts_with('"') {
        return None;
    }
    let value = take_quoted(&mut after)?;
    *rest = after;
    Some((key, value))
}

fn take_token<'a>(rest: &mut &'a str) -> Option<&'a str> {
    let s = rest.trim_start();
    if s.is_empty() {
        return None;
    }
    let end = s.find(char::is_whitespace).unwrap_or(s.len());
    *rest = s[end..].trim_start();
    Some(&s[..end])
}

/// The request time after the standard fields: `rt=`/`request_time=` wins, then the first bare
/// decimal, then `urt=`/`upstream_response_time=`. All in seconds (nginx).
fn trailing_latency(mut rest: &str) -> Option<u32> {
    let mut bare = None;
    let mut upstream = None;
    // Bounded: a hostile line has at most 64 KiB, but there is no reason to look at more than
    // a few dozen trailing fields.
    for _ in 0..32 {
        let (key, value) = if rest.starts_with('"') {
            (None, take_quoted(&mut rest)?)
        } else if let Some((key, value)) = take_quoted_pair(&mut rest) {
            (Some(key), value)
        } else {
            match take_token(&mut rest) {
                Some(token) => match token.split_once('=') {
                    Some((key, value)) => (Some(key), value),
                    None => (None, token),
                },
                None => break,
            }
        };
        match key {
            Some("rt" | "request_time") => {
                if let Some(us) = seconds_list_to_us(value) {
                    return Some(us);
                }
            }
            Some("urt" | "upstream_response_time") if upstream.is_none() => {
                upstream = seconds_list_to_us(value);
            }
            Some(_) => {}
            None if bare.is_none() && value.contains('.') => bare = seconds_to_us(value),
            None => {}
        }
    }
    bare.or(upstream)
}

/// `GET /path HTTP/1.1` → (Some("GET"), Some("/path")). A request line nginx could not parse
/// (`-`, TLS bytes sent to a plain port) gives (None, None): the line is still a valid log line
/// and counts toward the status totals.
fn split_request_line(request: &str) -> (Option<String>, Option<String>) {
    let mut parts = request.split_whitespace();
    let (Some(method), Some(target)) = (parts.next(), parts.next()) else {
        return (None, None);
    };
    let method = valid_method(method);
    let target = valid_target(target);
    if method.is_none() || target.is_none() {
        return (None, None);
    }
    (method, target)
}

fn valid_method(method: &str) -> Option<String> {
    let ok = !method.is_empty()
        && method.len() <= 20
        && method
            .bytes()
            .all(|b| b.is_ascii_alphabetic() || b == b'-' || b == b'_');
    ok.then(|| method.to_ascii_uppercase())
}

fn valid_target(target: &str) -> Option<String> {
    let lower = target.get(..8).unwrap_or(target).to_ascii_lowercase();
    let ok = target.starts_with('/')
        || target == "*"
        || lower.starts_with("http://")
        || lower.starts_with("https://");
    ok.then(|| target.to_owned())
}

fn parse_status(s: &str) -> Option<u16> {
    if s.len() != 3 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok().filter(|code| (100..=599).contains(code))
}

// ---------------------------------------------------------------------------------------------
// Durations

#[derive(Debug, Clone, Copy)]
enum Unit {
    Seconds,
    Millis,
    Micros,
    Nanos,
}

impl Unit {
    fn to_us(self, value: f64) -> f64 {
        match self {
            Unit::Seconds => value * 1e6,
            Unit::Millis => value * 1e3,
            Unit::Micros => value,
            Unit::Nanos => value / 1e3,
        }
    }
}

fn us_from_f64(us: f64) -> Option<u32> {
    if !us.is_finite() || us < 0.0 {
        return None;
    }
    // `as` saturates for floats: anything above 71 minutes becomes u32::MAX.
    Some(us.round() as u32)
}

fn seconds_to_us(s: &str) -> Option<u32> {
    let value: f64 = s.parse().ok()?;
    us_from_f64(Unit::Seconds.to_us(value))
}

/// nginx writes `$upstream_response_time` as `0.012, 0.003` (several upstreams tried) or
/// `0.012 : 0.003` (internal redirect); the time spent is the sum. `-` means none.
fn seconds_list_to_us(s: &str) -> Option<u32> {
    let mut total = 0.0f64;
    let mut any = false;
    for part in s.split([',', ':']) {
        let part = part.trim();
        if part.is_empty() {
            continue;
        }
        let value: f64 = part.parse().ok()?;
        total += value;
        any = true;
    }
    if !any {
        return None;
    }
    us_from_f64(Unit::Seconds.to_us(total))
}

/// A duration string: a bare number in the key's unit, or Go-style number+unit pairs
/// (`12.5ms`, `1.2s`, `1m2.5s`, `350µs`).
fn duration_string_to_us(s: &str, unit: Unit) -> Option<u32> {
    let s = s.trim();
    if let Ok(value) = s.parse::<f64>() {
        return us_from_f64(unit.to_us(value));
    }
    let mut total_us = 0.0f64;
    let mut rest = s;
    let mut parts = 0;
    while !rest.is_empty() {
        let number_end = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        if number_end == 0 {
            return None;
        }
        let value: f64 = rest[..number_end].parse().ok()?;
        rest = &rest[number_end..];
        let unit_end = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let factor_us = match rest[..unit_end].trim() {
            "ns" => 1e-3,
            "us" | "µs" | "μs" => 1.0,
            "ms" => 1e3,
            "s" => 1e6,
            "m" => 60e6,
            "h" => 3600e6,
            _ => return None,
        };
        total_us += value * factor_us;
        rest = &rest[unit_end..];
        parts += 1;
        if parts > 8 {
            return None;
        }
    }
    if parts == 0 {
        return None;
    }
    us_from_f64(total_us)
}

// ---------------------------------------------------------------------------------------------
// JSON lines

pub(crate) enum JsonLine {
    Request(AccessRecord),
    /// A JSON object that is not a request (an application log line: "server started").
    NotARequest,
    Malformed,
}

const METHOD_KEYS: &[&str] = &[
    "method",
    "request_method",
    "http.method",
    "http.request.method",
    "req.method",
    "verb",
];

/// Tried in order; the first string value wins. `request` may be a whole request line.
const PATH_KEYS: &[&str] = &[
    "path",
    "uri",
    "request_uri",
    "url",
    "http.target",
    "http.url",
    "url.path",
    "url.original",
    "req.url",
    "request",
];

const STATUS_KEYS: &[&str] = &[
    "status",
    "status_code",
    "statusCode",
    "http.status_code",
    "http.status",
    "http.response.status_code",
    "res.statusCode",
    "response.status",
    "response_status",
];

/// Tried in order: the request's own time before the upstream's.
const LATENCY_KEYS: &[(&str, Unit)] = &[
    ("request_time", Unit::Seconds),
    ("duration_ms", Unit::Millis),
    ("response_time_ms", Unit::Millis),
    ("latency_ms", Unit::Millis),
    ("elapsed_ms", Unit::Millis),
    ("duration_us", Unit::Micros),
    ("duration_ns", Unit::Nanos),
    ("event.duration", Unit::Nanos),
    ("duration", Unit::Millis),
    ("latency", Unit::Millis),
    ("response_time", Unit::Millis),
    ("responseTime", Unit::Millis),
    ("http.duration", Unit::Millis),
    ("upstream_response_time", Unit::Seconds),
];

pub(crate) fn looks_like_json(line: &str) -> bool {
    line.trim_start().starts_with('{')
        && matches!(serde_json::from_str::<Value>(line), Ok(Value::Object(_)))
}

pub(crate) fn parse_json(line: &str) -> JsonLine {
    let Ok(Value::Object(object)) = serde_json::from_str::<Value>(line) else {
        return JsonLine::Malformed;
    };
    let object = Value::Object(object);

    let mut method = METHOD_KEYS
        .iter()
        .find_map(|k| lookup(&object, k).and_then(Value::as_str))
        .and_then(valid_method);
    let mut target = None;
    for key in PATH_KEYS {
        let Some(value) = lookup(&object, key).and_then(Value::as_str) else {
            continue;
        };
        if let Some(t) = valid_target(value) {
            target = Some(t);
            break;
        }
        // `"request": "GET /x HTTP/1.1"` (nginx's `$request` in a JSON log_format).
        let (m, t) = split_request_line(value);
        if t.is_some() {
            target = t;
            if method.is_none() {
                method = m;
            }
            break;
        }
    }
    let status = STATUS_KEYS
        .iter()
        .find_map(|k| lookup(&object, k).and_then(json_status));
    let (Some(target), Some(status)) = (target, status) else {
        return JsonLine::NotARequest;
    };
    let latency_us = LATENCY_KEYS.iter().find_map(|(key, unit)| {
        let value = lookup(&object, key)?;
        match value {
            Value::Number(n) => n.as_f64().and_then(|v| us_from_f64(unit.to_us(v))),
            Value::String(s) if matches!(unit, Unit::Seconds) => seconds_list_to_us(s),
            Value::String(s) => duration_string_to_us(s, *unit),
            _ => None,
        }
    });
    JsonLine::Request(AccessRecord {
        method,
        target: Some(target),
        status,
        latency_us,
    })
}

/// `http.status_code` as a flat key, or nested (`{"http": {"status_code": 200}}`).
fn lookup<'a>(object: &'a Value, key: &str) -> Option<&'a Value> {
    if let Some(v) = object.get(key) {
        return Some(v);
    }
    if !key.contains('.') {
        return None;
    }
    key.split('.').try_fold(object, |v, part| v.get(part))
}

fn json_status(value: &Value) -> Option<u16> {
    let code = match value {
        Value::Number(n) => n.as_u64()?,
        Value::String(s) => s.trim().parse().ok()?,
        _ => return None,
    };
    u16::try_from(code)
        .ok()
        .filter(|code| (100..=599).contains(code))
}

// ---------------------------------------------------------------------------------------------
// Aggregation

/// Where requests go once the endpoint cap is reached, and requests without a usable target.
pub(crate) const OTHER_ENDPOINTS: &str = "(other endpoints)";
pub(crate) const UNPARSED_REQUEST: &str = "(unparsed request line)";

#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct StatusCounts {
    pub requests: u64,
    pub s4xx: u64,
    pub s5xx: u64,
}

impl StatusCounts {
    fn add(&mut self, status: u16) {
        self.requests += 1;
        match status {
            400..=499 => self.s4xx += 1,
            500..=599 => self.s5xx += 1,
            _ => {}
        }
    }
}

#[derive(Default)]
struct EndpointStats {
    counts: StatusCounts,
    /// Every latency sample, µs. Exact percentiles by sorting (as oha does); memory is four
    /// bytes per timed request, bounded by the upload's size.
    latencies_us: Vec<u32>,
}

/// Requests per endpoint, across every access log of the run.
pub(crate) struct EndpointTable {
    endpoints: HashMap<String, EndpointStats>,
    cap: usize,
    capped: bool,
    totals: StatusCounts,
    timed: u64,
}

/// One endpoint's figures. Percentiles are nearest-rank over the exact samples.
#[derive(Debug, Clone)]
pub(crate) struct EndpointSummary {
    pub key: String,
    pub counts: StatusCounts,
    pub timed: u64,
    pub p50_us: Option<u32>,
    pub p95_us: Option<u32>,
    pub p99_us: Option<u32>,
    pub max_us: Option<u32>,
}

impl EndpointSummary {
    /// A bucket of many endpoints, not one: listed, never judged.
    pub fn is_aggregate(&self) -> bool {
        self.key == OTHER_ENDPOINTS || self.key == UNPARSED_REQUEST
    }
}

impl EndpointTable {
    pub(crate) fn new(cap: usize) -> EndpointTable {
        EndpointTable {
            endpoints: HashMap::new(),
            cap,
            capped: false,
            totals: StatusCounts::default(),
            timed: 0,
        }
    }

    pub(crate) fn record(&mut self, record: &AccessRecord) {
        let key = match &record.target {
            Some(target) => match &record.method {
                Some(method) => format!("{method} {}", fold_path(target)),
                None => fold_path(target),
            },
            None => UNPARSED_REQUEST.to_owned(),
        };
        // A hostile or very varied file cannot grow the table past the cap: new endpoints
        // beyond it share one bucket.
        let key = if self.endpoints.len() < self.cap || self.endpoints.contains_key(&key) {
            key
        } else {
            self.capped = true;
            OTHER_ENDPOINTS.to_owned()
        };
        let stats = self.endpoints.entry(key).or_default();
        stats.counts.add(record.status);
        self.totals.add(record.status);
        if let Some(us) = record.latency_us {
            stats.latencies_us.push(us);
            self.timed += 1;
        }
    }

    pub(crate) fn totals(&self) -> StatusCounts {
        self.totals
    }

    pub(crate) fn timed(&self) -> u64 {
        self.timed
    }

    pub(crate) fn capped(&self) -> bool {
        self.capped
    }

    pub(crate) fn len(&self) -> usize {
        self.endpoints.len()
    }

    /// Every endpoint's figures (sorts each endpoint's samples once).
    pub(crate) fn summaries(&mut self) -> Vec<EndpointSummary> {
        let mut out: Vec<EndpointSummary> = self
            .endpoints
            .iter_mut()
            .map(|(key, stats)| {
                stats.latencies_us.sort_unstable();
                let samples = &stats.latencies_us;
                EndpointSummary {
                    key: key.clone(),
                    counts: stats.counts,
                    timed: samples.len() as u64,
                    p50_us: percentile(samples, 50),
                    p95_us: percentile(samples, 95),
                    p99_us: percentile(samples, 99),
                    max_us: samples.last().copied(),
                }
            })
            .collect();
        out.sort_by(|a, b| a.key.cmp(&b.key));
        out
    }
}

/// Nearest-rank percentile of sorted samples: the smallest sample with at least `p` % of the
/// samples at or below it.
fn percentile(sorted: &[u32], p: usize) -> Option<u32> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (p * sorted.len()).div_ceil(100).max(1);
    sorted.get(rank - 1).copied()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn combined_with_and_without_request_time() {
        let base = r#"10.0.0.1 - - [10/Oct/2024:13:55:36 +0000] "GET /users/7?x=1 HTTP/1.1" 200 512 "-" "curl/8.0""#;
        let plain = parse_combined(base).unwrap();
        assert_eq!(plain.method.as_deref(), Some("GET"));
        assert_eq!(plain.target.as_deref(), Some("/users/7?x=1"));
        assert_eq!(plain.status, 200);
        assert_eq!(plain.latency_us, None);
        assert_eq!(
            parse_combined(&format!("{base} 0.123")).unwrap().latency_us,
            Some(123_000)
        );
        assert_eq!(
            parse_combined(&format!("{base} 0.250 0.249"))
                .unwrap()
                .latency_us,
            Some(250_000)
        );
        assert_eq!(
            parse_combined(&format!(r#"{base} rt=0.042 uct="0.000" urt="0.040""#))
                .unwrap()
                .latency_us,
            Some(42_000)
        );
        assert_eq!(
            parse_combined(&format!(r#"{base} urt="0.010, 0.020""#))
                .unwrap()
                .latency_us,
            Some(30_000)
        );
        // Common log format, escaped quote in the request, vhost first.
        let common = r#"example.com:443 10.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /a\"b HTTP/1.0" 404 -"#;
        assert_eq!(parse_combined(common).unwrap().status, 404);
        // An unparsable request line is still a log line.
        let junk = r#"10.0.0.1 - - [10/Oct/2024:13:55:36 +0000] "\x16\x03\x01" 400 150 "-" "-""#;
        let rec = parse_combined(junk).unwrap();
        assert_eq!((rec.method, rec.target, rec.status), (None, None, 400));
        assert!(parse_combined("hello [world] \"x\" 2000 1").is_none());
        assert!(parse_combined("").is_none());
    }

    #[test]
    fn json_keys_and_units() {
        let JsonLine::Request(r) = parse_json(
            r#"{"http":{"method":"get","target":"/a/1","status_code":"503"},"duration":"1.5s"}"#,
        ) else {
            panic!("not a request")
        };
        assert_eq!(r.method.as_deref(), Some("GET"));
        assert_eq!(r.status, 503);
        assert_eq!(r.latency_us, Some(1_500_000));
        let JsonLine::Request(r) =
            parse_json(r#"{"request":"POST /b HTTP/1.1","status":"201","request_time":"0.007"}"#)
        else {
            panic!("not a request")
        };
        assert_eq!(r.method.as_deref(), Some("POST"));
        assert_eq!(r.latency_us, Some(7_000));
        let JsonLine::Request(r) =
            parse_json(r#"{"method":"GET","path":"/c","status":200,"duration_ms":12.5}"#)
        else {
            panic!("not a request")
        };
        assert_eq!(r.latency_us, Some(12_500));
        let JsonLine::Request(r) =
            parse_json(r#"{"method":"GET","url":"/d","status":200,"latency":"1m2.5s"}"#)
        else {
            panic!("not a request")
        };
        assert_eq!(r.latency_us, Some(62_500_000));
        assert!(matches!(
            parse_json(r#"{"level":"info","msg":"started"}"#),
            JsonLine::NotARequest
        ));
        assert!(matches!(parse_json("[1,2]"), JsonLine::Malformed));
        assert!(matches!(parse_json("{bad"), JsonLine::Malformed));
    }

    #[test]
    fn nearest_rank_percentiles() {
        let samples: Vec<u32> = (1..=100).collect();
        assert_eq!(percentile(&samples, 50), Some(50));
        assert_eq!(percentile(&samples, 95), Some(95));
        assert_eq!(percentile(&samples, 99), Some(99));
        assert_eq!(percentile(&[7], 99), Some(7));
        assert_eq!(percentile(&[], 50), None);
    }
}
