//! Small readers over a `FetchResponse` shared by the checks: headers, the decoded body, JSON,
//! request ids, and the evidence lines they print.
use std::io::Read;

use http::HeaderMap;
use serde_json::Value;
use url::Url;

use super::super::fetch::{FetchError, FetchResponse};

/// Headers that carry a request or correlation id (W3C Trace Context's `traceparent` and
/// `traceresponse` count: they identify the request too).
pub const REQUEST_ID_HEADERS: [&str; 8] = [
    "x-request-id",
    "request-id",
    "x-correlation-id",
    "correlation-id",
    "x-amzn-requestid",
    "x-trace-id",
    "traceparent",
    "traceresponse",
];

/// Body members that carry a request id, compared without `_`, `-` and case.
const REQUEST_ID_KEYS: [&str; 6] = [
    "requestid",
    "xrequestid",
    "traceid",
    "correlationid",
    "instanceid",
    "errorid",
];

/// Decompressed bodies are capped too: a small gzip body must not become gigabytes.
const MAX_DECODED_BYTES: u64 = 16 * 1024 * 1024;

/// The first value of a header, if it is text.
pub fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
}

/// Every value of a header that is text (a header may be sent several times).
pub fn header_all(headers: &HeaderMap, name: &str) -> Vec<String> {
    headers
        .get_all(name)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .map(|v| v.trim().to_owned())
        .collect()
}

/// `Content-Type` in lowercase, empty when missing.
pub fn content_type(response: &FetchResponse) -> String {
    header(&response.headers, "content-type")
        .unwrap_or_default()
        .to_ascii_lowercase()
}

/// The media type without parameters: `application/json`.
pub fn media_type(response: &FetchResponse) -> String {
    content_type(response)
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_owned()
}

pub fn is_json_type(media: &str) -> bool {
    media == "application/json" || media.ends_with("+json") || media == "text/json"
}

/// Text that compresses well (Lighthouse's `uses-text-compression` looks at the same kinds).
pub fn is_text_like(media: &str) -> bool {
    media.starts_with("text/")
        || is_json_type(media)
        || media.ends_with("+xml")
        || media == "application/xml"
        || media == "application/javascript"
        || media == "application/ecmascript"
        || media == "application/x-javascript"
}

pub fn is_html(response: &FetchResponse) -> bool {
    let media = media_type(response);
    media == "text/html" || media == "application/xhtml+xml"
}

/// The body as the server meant it: gzip and deflate undone; `None` for an encoding we cannot
/// undo (br, zstd) or a corrupt stream.
pub fn decoded_body(response: &FetchResponse) -> Option<Vec<u8>> {
    let encoding = header(&response.headers, "content-encoding")
        .unwrap_or("identity")
        .to_ascii_lowercase();
    let mut out = Vec::new();
    match encoding.as_str() {
        "" | "identity" => return Some(response.body.clone()),
        "gzip" | "x-gzip" => {
            flate2::read::MultiGzDecoder::new(response.body.as_slice())
                .take(MAX_DECODED_BYTES)
                .read_to_end(&mut out)
                .ok()?;
        }
        "deflate" => {
            // "deflate" is zlib-wrapped by the RFC, raw in some servers: try both.
            let zlib = flate2::read::ZlibDecoder::new(response.body.as_slice())
                .take(MAX_DECODED_BYTES)
                .read_to_end(&mut out);
            if zlib.is_err() {
                out.clear();
                flate2::read::DeflateDecoder::new(response.body.as_slice())
                    .take(MAX_DECODED_BYTES)
                    .read_to_end(&mut out)
                    .ok()?;
            }
        }
        _ => return None,
    }
    Some(out)
}

/// The decoded body as text (lossy), empty when it cannot be decoded.
pub fn body_text(response: &FetchResponse) -> String {
    decoded_body(response)
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default()
}

/// The body parsed as JSON, whatever the content type claims.
pub fn json_body(response: &FetchResponse) -> Option<Value> {
    if response.body_truncated {
        return None;
    }
    let body = decoded_body(response)?;
    serde_json::from_slice(&body).ok()
}

/// The first request-id header present: (name, value).
pub fn request_id_header(headers: &HeaderMap) -> Option<(String, String)> {
    REQUEST_ID_HEADERS.iter().find_map(|name| {
        header(headers, name)
            .filter(|v| !v.is_empty())
            .map(|v| ((*name).to_owned(), v.to_owned()))
    })
}

/// A request id among the top-level members of a JSON error body (or one level down, in
/// `error` / `meta`): `request_id`, `requestId`, `trace_id`, `correlationId`...
pub fn request_id_in_body(body: &Value) -> Option<String> {
    let Value::Object(map) = body else {
        return None;
    };
    let direct = map.iter().find_map(|(key, value)| {
        let folded: String = key
            .chars()
            .filter(|c| *c != '_' && *c != '-')
            .collect::<String>()
            .to_ascii_lowercase();
        REQUEST_ID_KEYS
            .contains(&folded.as_str())
            .then(|| value_text(value))
            .flatten()
    });
    direct.or_else(|| {
        ["error", "meta", "errors"]
            .iter()
            .filter_map(|k| map.get(*k))
            .find_map(request_id_in_body)
    })
}

fn value_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Telltales of a stack trace or a framework's debug page in a body (ZAP 10023 "information
/// disclosure - debug error messages" and 90022 "application error disclosure" look for the
/// same kinds of strings).
const STACK_TRACE_MARKERS: [&str; 16] = [
    "traceback (most recent call last)",
    "stack backtrace:",
    "panicked at ",
    "exception in thread \"",
    "at java.lang.",
    "at org.springframework.",
    "at sun.reflect.",
    "   at system.",
    "   at microsoft.",
    "goroutine 1 [",
    "node_modules/",
    "at object.<anonymous>",
    ".php on line ",
    "stack trace:",
    "system.nullreferenceexception",
    "unhandled exception",
];

/// The first stack-trace marker found in `text`, if any.
pub fn stack_trace_marker(text: &str) -> Option<&'static str> {
    let lower = text.to_ascii_lowercase();
    STACK_TRACE_MARKERS
        .iter()
        .find(|marker| lower.contains(*marker))
        .copied()
}

/// `GET /v1/items` style label: the path and query of a URL.
pub fn path_of(url: &Url) -> String {
    match url.query() {
        Some(q) => format!("{}?{q}", url.path()),
        None => url.path().to_owned(),
    }
}

/// One line for the evidence when a request did not get an answer.
pub fn fetch_failure(label: &str, error: &FetchError) -> String {
    format!("{label}: no answer ({error})")
}

/// Cuts long header values and bodies for evidence lines.
pub fn clip(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let cut: String = text.chars().take(max).collect();
    format!("{cut}…")
}

/// The response headers as [name, value] pairs, values clipped, for the raw record.
pub fn headers_json(headers: &HeaderMap) -> Value {
    Value::Array(
        headers
            .iter()
            .map(|(name, value)| {
                let value = value.to_str().map(|v| clip(v, 512)).unwrap_or_default();
                Value::Array(vec![
                    Value::String(name.as_str().to_owned()),
                    Value::String(value),
                ])
            })
            .collect(),
    )
}

/// Whether a comma-separated header (`Vary`, `Allow`) lists `token`, case-insensitively.
pub fn header_lists(headers: &HeaderMap, name: &str, token: &str) -> bool {
    header_all(headers, name).iter().any(|value| {
        value
            .split(',')
            .any(|t| t.trim().eq_ignore_ascii_case(token) || t.trim() == "*")
    })
}

/// `limit=1` added to a URL's query (kept if there is one already).
pub fn with_query(url: &Url, key: &str, value: &str) -> Url {
    let mut out = url.clone();
    let kept: Vec<(String, String)> = url
        .query_pairs()
        .filter(|(k, _)| k != key)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    {
        let mut pairs = out.query_pairs_mut();
        pairs.clear();
        for (k, v) in &kept {
            pairs.append_pair(k, v);
        }
        pairs.append_pair(key, value);
    }
    out
}
