//! The report as one standalone HTML page (`templates/report.html`): styles inline, charts inline
//! SVG, the logo as a data URI, no script.
//!
//! Safety, layer by layer:
//! - askama escapes every value by default; single-line fields go through the `text` filter,
//!   which escapes more (see [`escape_text`]) and marks the result safe;
//! - Markdown typed by people goes through the `body` filter: first the Markdown report's
//!   re-emitter (raw HTML becomes visible text, headings become bold paragraphs, unsafe links
//!   lose their target), then [`to_safe_html`] (pulldown-cmark and ammonia), then `=` and `:` in
//!   text are written as references like everywhere else;
//! - the accent colour reaches the style sheet only as a checked `#rrggbb`;
//! - the logo is embedded only when its bytes are a PNG, a JPEG or an SVG, always in an `<img>`
//!   (where an SVG's scripts never run), never inline.
use askama::Template;
use base64::Engine as _;

use super::markdown::{body as markdown_body, findings_by_area, FindingGroup};
use super::Wording;
use crate::markdown::to_safe_html;
use crate::reports::charts::{self, escape_text};
use crate::reports::Report;

/// Logos larger than this are left out: the report is one file, mailed and printed.
const MAX_LOGO_BYTES: usize = 2 * 1024 * 1024;

/// The report as one standalone HTML page: styles inline, charts inline SVG, the logo as a
/// data URI, no script.
pub fn html(report: &Report, logo: Option<&[u8]>) -> String {
    let page = ReportHtml {
        report,
        accent: charts::accent(report),
        logo: logo.and_then(logo_data_uri),
        scorecard_chart: charts::scorecard(report),
        impact_effort_chart: charts::impact_effort(report),
        roadmap_chart: charts::roadmap(report),
        finding_groups: findings_by_area(&report.findings),
        method: super::METHOD,
    };
    match page.render() {
        Ok(html) => html,
        // The template is fixed and its data plain, so this does not happen; if it ever does,
        // the reader still gets a valid page saying so rather than a crash.
        Err(error) => format!(
            "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Backend architecture audit</title></head><body><h1>Backend architecture audit</h1><p>The report could not be rendered: {}.</p></body></html>\n",
            escape_text(&error.to_string())
        ),
    }
}

#[derive(Template)]
#[template(path = "report.html")]
struct ReportHtml<'a> {
    report: &'a Report,
    /// A checked `#rrggbb`.
    accent: &'a str,
    /// `data:image/…;base64,…` of a recognised image.
    logo: Option<String>,
    /// SVG documents drawn by [`charts`], every label escaped there.
    scorecard_chart: String,
    impact_effort_chart: String,
    roadmap_chart: String,
    finding_groups: Vec<FindingGroup<'a>>,
    method: [(&'static str, &'static str); 4],
}

/// The template calls the shared wording helpers as `self.weeks(…)` and so on.
impl Wording for ReportHtml<'_> {}

/// Filters the template uses; askama looks them up in a module named `filters`.
mod filters {
    use askama::filters::Safe;
    use askama::{Result, Values};

    /// A single-line field, escaped for HTML text or a quoted attribute.
    #[askama::filter_fn]
    pub fn text(value: impl std::fmt::Display, _: &dyn Values) -> Result<Safe<String>> {
        Ok(Safe(super::escape_text(&value.to_string())))
    }

    /// Markdown typed by people, as sanitised HTML.
    #[askama::filter_fn]
    pub fn body(value: impl std::fmt::Display, _: &dyn Values) -> Result<Safe<String>> {
        Ok(Safe(super::typed_html(&value.to_string())))
    }
}

/// Markdown typed by people as HTML that runs nothing and opens no section of its own.
pub(crate) fn typed_html(markdown: &str) -> String {
    escape_scanner_bait(&to_safe_html(&markdown_body(markdown)))
}

/// Writes `=` and `:` in the text between tags as character references, as [`escape_text`]
/// does for single-line fields, so quoted attacks (`onerror=`, `javascript:`) never appear as
/// plain bytes. Input is ammonia's serialisation: text never holds a raw `<`, attribute values
/// are always double-quoted (and may hold `>`), so tags are found by tracking quotes.
fn escape_scanner_bait(html: &str) -> String {
    let mut out = String::with_capacity(html.len() + html.len() / 16);
    let mut in_tag = false;
    let mut in_quotes = false;
    for c in html.chars() {
        match (in_tag, c) {
            (false, '<') => {
                in_tag = true;
                out.push(c);
            }
            (false, '=') => out.push_str("&#61;"),
            (false, ':') => out.push_str("&#58;"),
            (true, '"') => {
                in_quotes = !in_quotes;
                out.push(c);
            }
            (true, '>') if !in_quotes => {
                in_tag = false;
                out.push(c);
            }
            _ => out.push(c),
        }
    }
    out
}

/// The logo as a data URI when its bytes are an image we embed, by content rather than by the
/// name or type it was uploaded with.
fn logo_data_uri(bytes: &[u8]) -> Option<String> {
    if bytes.is_empty() || bytes.len() > MAX_LOGO_BYTES {
        return None;
    }
    let media_type = if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        "image/png"
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        "image/jpeg"
    } else if looks_like_svg(bytes) {
        "image/svg+xml"
    } else {
        return None;
    };
    let encoded = base64::engine::general_purpose::STANDARD.encode(bytes);
    Some(format!("data:{media_type};base64,{encoded}"))
}

/// UTF-8 text that starts with markup and has an `<svg` element. Only ever shown through
/// `<img>`, so a script inside it does not run; this check only keeps junk out.
fn looks_like_svg(bytes: &[u8]) -> bool {
    let Ok(text) = std::str::from_utf8(bytes) else {
        return false;
    };
    let text = text.trim_start_matches('\u{feff}').trim_start();
    text.starts_with('<') && text.contains("<svg")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scanner_bait_is_escaped_in_text_only() {
        let html = r#"<p>onerror=1 <a href="https://x/?a=b:c" rel="x">javascript:y</a></p>"#;
        assert_eq!(
            escape_scanner_bait(html),
            r#"<p>onerror&#61;1 <a href="https://x/?a=b:c" rel="x">javascript&#58;y</a></p>"#
        );
        let quoted = r#"<img alt="a>b=c" src="x">d=e"#;
        assert_eq!(
            escape_scanner_bait(quoted),
            r#"<img alt="a>b=c" src="x">d&#61;e"#
        );
    }

    #[test]
    fn typed_markdown_runs_nothing() {
        let html = typed_html(
            "# Heading\n\n<script>alert(1)</script>\n\n<img src=x onerror=alert(1)>\n\n[x](javascript:alert(1)) **bold**",
        );
        let lower = html.to_ascii_lowercase();
        assert!(!lower.contains("<script"), "{html}");
        assert!(!lower.contains("<img"), "{html}");
        assert!(!lower.contains("onerror="), "{html}");
        assert!(!lower.contains("javascript:"), "{html}");
        assert!(!lower.contains("<h1"), "{html}");
        assert!(html.contains("<strong>Heading</strong>"), "{html}");
        assert!(html.contains("<strong>bold</strong>"), "{html}");
        assert!(html.contains("&lt;script&gt;"), "{html}");
    }

    #[test]
    fn logos_are_sniffed_by_content() {
        let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";
        assert!(logo_data_uri(png).is_some_and(|uri| uri.starts_with("data:image/png;base64,")));
        let jpeg = [0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10];
        assert!(logo_data_uri(&jpeg).is_some_and(|uri| uri.starts_with("data:image/jpeg;base64,")));
        let svg = b"<?xml version=\"1.0\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\"/>";
        assert!(logo_data_uri(svg).is_some_and(|uri| uri.starts_with("data:image/svg+xml;base64,")));
        assert_eq!(logo_data_uri(b"GIF89a"), None);
        assert_eq!(logo_data_uri(b"<html><script>1</script></html>"), None);
        assert_eq!(logo_data_uri(b""), None);
    }
}
