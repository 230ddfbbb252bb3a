//! The Markdown and HTML reports and their SVG charts: every section in order, the sample's
//! content, hostile text staying text, well-formed markup, and the logo.
use audit::reports::charts::{impact_effort, roadmap, scorecard};
use audit::reports::fixture::{hostile_report, sample_report, HOSTILE};
use audit::reports::render::{html, markdown};
use audit::reports::{Report, SECTION_TITLES};
use pulldown_cmark::{Event, Parser, Tag, TagEnd};

/// An empty engagement: nothing answered, found, planned or decided yet.
fn empty_report() -> Report {
    let mut report = sample_report();
    report.summary.text.clear();
    report.summary.top_interventions.clear();
    report.areas.clear();
    report.claims.clear();
    report.probes_ran = false;
    report.findings.clear();
    report.interventions.clear();
    report.roadmap.entries.clear();
    report.decisions.clear();
    report.answers.clear();
    report.comparison = None;
    report
}

/// Where `needle` first appears in `haystack` at or after `from`.
fn position(haystack: &str, needle: &str, from: usize) -> Option<usize> {
    haystack
        .get(from..)
        .and_then(|rest| rest.find(needle))
        .map(|at| at + from)
}

/// Asserts the section titles appear in `SECTION_TITLES` order.
fn assert_sections_in_order(output: &str, heading_prefix: &str, heading_suffix: &str) {
    let mut from = 0;
    for title in SECTION_TITLES {
        let heading = format!("{heading_prefix}{title}{heading_suffix}");
        let at = position(output, &heading, from)
            .unwrap_or_else(|| panic!("{heading:?} missing or out of order in:\n{output}"));
        from = at + heading.len();
    }
}

/// The text between two headings (or to the end).
fn section<'a>(output: &'a str, start: &str, end: &str) -> &'a str {
    let from = output
        .find(start)
        .unwrap_or_else(|| panic!("{start:?} missing"));
    let to = position(output, end, from).unwrap_or(output.len());
    &output[from..to]
}

// ---------------------------------------------------------------------------------------------
// A minimal well-formedness check for the markup we write: every tag closed in order, attribute
// values quoted, `&` only as a reference, no `<` or `>` loose in text. Strict enough for XML
// (the SVG) and for the HTML this renderer writes (given its void elements).
// ---------------------------------------------------------------------------------------------

/// Elements a `<p>` cannot contain; opening one inside a paragraph is invalid HTML.
const BLOCKS: &[&str] = &[
    "address",
    "article",
    "aside",
    "blockquote",
    "div",
    "dl",
    "fieldset",
    "figure",
    "footer",
    "form",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "header",
    "hr",
    "main",
    "nav",
    "ol",
    "p",
    "pre",
    "section",
    "table",
    "ul",
];

fn check_reference(text: &str, at: usize) -> Result<usize, String> {
    let rest = &text[at + 1..];
    let end = rest
        .find(';')
        .filter(|&end| end > 0 && end <= 10)
        .ok_or_else(|| format!("bare & at {at}: {}", excerpt(text, at)))?;
    let name = &rest[..end];
    let valid = if let Some(number) = name.strip_prefix("#x") {
        !number.is_empty() && number.chars().all(|c| c.is_ascii_hexdigit())
    } else if let Some(number) = name.strip_prefix('#') {
        !number.is_empty() && number.chars().all(|c| c.is_ascii_digit())
    } else {
        name.chars().all(|c| c.is_ascii_alphanumeric())
    };
    if valid {
        Ok(end + 2)
    } else {
        Err(format!("bad reference &{name}; at {at}"))
    }
}

/// About 60 characters either side of `at`, for error messages.
fn excerpt(text: &str, at: usize) -> String {
    let start = at.saturating_sub(60);
    text.char_indices()
        .skip_while(|(i, _)| *i < start)
        .take_while(|(i, _)| *i < at + 60)
        .map(|(_, c)| c)
        .collect()
}

/// Checks markup; returns the names of the elements opened, in order.
fn check_markup(text: &str, void: &[&str]) -> Result<Vec<String>, String> {
    let mut stack: Vec<String> = Vec::new();
    let mut opened = Vec::new();
    let mut at = 0;
    let bytes = text.as_bytes();
    while at < text.len() {
        // Inside <style> the text is CSS: only its end tag matters.
        let in_style = stack.last().is_some_and(|top| top == "style");
        match bytes[at] {
            b'<' => {
                if in_style && !text[at..].starts_with("</style>") {
                    at += 1;
                    continue;
                }
                if text[at..].starts_with("<!DOCTYPE html>") {
                    at += "<!DOCTYPE html>".len();
                    continue;
                }
                let end = find_tag_end(text, at)?;
                let tag = &text[at + 1..end];
                at = end + 1;
                if let Some(name) = tag.strip_prefix('/') {
                    let name = name.trim();
                    match stack.pop() {
                        Some(open) if open == name => {}
                        other => {
                            return Err(format!(
                                "</{name}> closes {other:?} near {}",
                                excerpt(text, at)
                            ))
                        }
                    }
                    continue;
                }
                let self_closing = tag.ends_with('/');
                let tag = tag.trim_end_matches('/');
                let name: String = tag
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
                    .collect();
                if name.is_empty() {
                    return Err(format!("empty tag name near {}", excerpt(text, at)));
                }
                check_attributes(&tag[name.len()..])
                    .map_err(|e| format!("<{name}>: {e} near {}", excerpt(text, at)))?;
                if stack.last().is_some_and(|top| top == "p") && BLOCKS.contains(&name.as_str()) {
                    return Err(format!("<{name}> inside <p> near {}", excerpt(text, at)));
                }
                opened.push(name.clone());
                if !self_closing && !void.contains(&name.as_str()) {
                    stack.push(name);
                }
            }
            b'>' if !in_style => {
                return Err(format!("loose > near {}", excerpt(text, at)));
            }
            b'&' if !in_style => {
                at += check_reference(text, at)?;
            }
            _ => at += 1,
        }
    }
    if stack.is_empty() {
        Ok(opened)
    } else {
        Err(format!("unclosed: {stack:?}"))
    }
}

/// The `>` ending the tag opened at `start`, skipping quoted attribute values.
fn find_tag_end(text: &str, start: usize) -> Result<usize, String> {
    let mut quote = None;
    for (offset, c) in text[start + 1..].char_indices() {
        match (quote, c) {
            (None, '"' | '\'') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (None, '<') => return Err(format!("< inside a tag near {}", excerpt(text, start))),
            (None, '>') => return Ok(start + 1 + offset),
            _ => {}
        }
    }
    Err(format!("unterminated tag near {}", excerpt(text, start)))
}

/// Attributes must be `name="value"` (or bare names), values free of `<` and bare `&`.
fn check_attributes(attributes: &str) -> Result<(), String> {
    let mut rest = attributes.trim();
    while !rest.is_empty() {
        let name_end = rest
            .find(|c: char| c == '=' || c.is_whitespace())
            .unwrap_or(rest.len());
        let name = &rest[..name_end];
        if name.is_empty()
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == ':')
        {
            return Err(format!("bad attribute name {name:?}"));
        }
        if name.to_ascii_lowercase().starts_with("on") {
            return Err(format!("event handler attribute {name}"));
        }
        rest = rest[name_end..].trim_start();
        if let Some(value) = rest.strip_prefix('=') {
            let value = value.trim_start();
            let Some(quoted) = value.strip_prefix('"') else {
                return Err(format!("unquoted value of {name}"));
            };
            let end = quoted
                .find('"')
                .ok_or_else(|| format!("unterminated value of {name}"))?;
            let content = &quoted[..end];
            if content.contains('<') {
                return Err(format!("< in value of {name}"));
            }
            let mut at = 0;
            while let Some(amp) = position(content, "&", at) {
                at = amp + check_reference(content, amp)?;
            }
            rest = quoted[end + 1..].trim_start();
        }
    }
    Ok(())
}

const HTML_VOID: &[&str] = &[
    "meta", "img", "br", "hr", "link", "input", "wbr", "col", "source",
];
const SVG_ELEMENTS: &[&str] = &["svg", "g", "rect", "line", "circle", "text", "path"];

/// A chart is plain standalone SVG: the root with its namespace and sizes, only the elements
/// Typst's reader and browsers agree on, no styles or references, well-formed.
fn assert_plain_svg(svg: &str) {
    assert!(
        svg.starts_with(r#"<svg xmlns="http://www.w3.org/2000/svg""#),
        "{svg}"
    );
    let root = &svg[..svg.find('>').unwrap_or(svg.len())];
    for attribute in [
        " width=\"",
        " height=\"",
        " viewBox=\"0 0 ",
        "font-family=\"Libertinus Serif, DejaVu Sans, sans-serif\"",
    ] {
        assert!(root.contains(attribute), "{attribute} missing on {root}");
    }
    assert!(svg.ends_with("</svg>"), "{svg}");
    let elements = check_markup(svg, &[]).unwrap_or_else(|e| panic!("{e}\n{svg}"));
    for element in &elements {
        assert!(
            SVG_ELEMENTS.contains(&element.as_str()),
            "<{element}> in {svg}"
        );
    }
    assert_eq!(elements.iter().filter(|e| *e == "svg").count(), 1, "{svg}");
    for banned in [
        "class=", " style=", "<style", "href", "<script", "url(", " id=\"",
    ] {
        assert!(!svg.contains(banned), "{banned} in {svg}");
    }
}

// ---------------------------------------------------------------------------------------------
// Markdown
// ---------------------------------------------------------------------------------------------

#[test]
fn markdown_of_the_sample_matches_its_snapshot() {
    insta::assert_snapshot!("sample_markdown", markdown(&sample_report()));
}

#[test]
fn markdown_has_every_section_finding_and_intervention_in_order() {
    let report = sample_report();
    let md = markdown(&report);
    assert!(md.starts_with("# Backend architecture audit\n"), "{md}");
    assert_sections_in_order(&md, "\n## ", "\n");
    for finding in &report.findings {
        assert!(md.contains(&finding.title), "{} missing", finding.title);
    }
    assert!(md.contains("\n## Before and after\n"), "{md}");
    assert!(md.contains("\n### Decision records\n"), "{md}");
    assert!(md.contains("\n### Questionnaire answers\n"), "{md}");
    assert!(md.contains("\n### Method\n"), "{md}");
    assert!(md.contains("0123456789ab"), "{md}");

    let interventions = section(&md, "\n## Interventions\n", "\n## Roadmap\n");
    let mut from = 0;
    for intervention in &report.interventions {
        let row = format!(
            "| {} | {} | {} |",
            intervention.position, intervention.reference, intervention.title
        );
        from = position(interventions, &row, from)
            .unwrap_or_else(|| panic!("{row} missing or out of order in:\n{interventions}"));
    }
}

#[test]
fn markdown_empty_states_are_sentences() {
    let md = markdown(&empty_report());
    assert_sections_in_order(&md, "\n## ", "\n");
    for sentence in [
        "No summary written yet.",
        "No areas scored.",
        "No probe has run yet.",
        "No findings recorded.",
        "No interventions recorded.",
        "Nothing is scheduled yet.",
        "No decision records.",
        "No answers recorded.",
    ] {
        assert!(md.contains(sentence), "{sentence} missing in:\n{md}");
    }
    assert!(!md.contains("Before and after"), "{md}");
    // No table without rows: every header separator is followed by a row.
    assert!(!md.contains("| --- |\n\n"), "{md}");
}

/// The headings of a Markdown document (level and text), read as a Markdown reader would.
fn markdown_headings(md: &str) -> Vec<(usize, String)> {
    let mut headings = Vec::new();
    let mut current: Option<(usize, String)> = None;
    for event in Parser::new_ext(md, pulldown_cmark::Options::ENABLE_TABLES) {
        match event {
            Event::Start(Tag::Heading { level, .. }) => {
                current = Some((level as usize, String::new()))
            }
            Event::Text(text) | Event::Code(text) => {
                if let Some((_, heading)) = current.as_mut() {
                    heading.push_str(&text);
                }
            }
            Event::End(TagEnd::Heading(_)) => headings.extend(current.take()),
            _ => {}
        }
    }
    headings
}

/// The headings the template writes for `report`: fixed titles, and for per-item headings the
/// fixed start (the rest is the item's title).
fn template_headings(report: &Report) -> Vec<(usize, String)> {
    let mut expected = vec![
        (1, "Backend architecture audit".to_string()),
        (2, "Executive summary".into()),
        (3, "Key numbers".into()),
        (2, "Scorecard".into()),
        (2, "Claimed versus observed".into()),
        (2, "Findings".into()),
    ];
    let mut areas: Vec<&str> = Vec::new();
    for finding in &report.findings {
        if !areas.contains(&finding.area.as_str()) {
            areas.push(&finding.area);
        }
    }
    for area in areas {
        expected.push((3, area.to_string()));
        for finding in report.findings.iter().filter(|f| f.area == area) {
            expected.push((4, format!("{} ", finding.reference)));
        }
    }
    expected.push((2, "Interventions".into()));
    for i in &report.interventions {
        expected.push((3, format!("{}. {} ", i.position, i.reference)));
    }
    expected.push((2, "Roadmap".into()));
    if report.comparison.is_some() {
        expected.push((2, "Before and after".into()));
    }
    expected.push((2, "Appendix".into()));
    expected.push((3, "Decision records".into()));
    for d in &report.decisions {
        expected.push((4, format!("{} ", d.reference)));
    }
    expected.push((3, "Questionnaire answers".into()));
    for group in &report.answers {
        expected.push((4, group.area.clone()));
    }
    expected.push((3, "Method".into()));
    expected
}

fn assert_headings_are_the_templates(report: &Report, md: &str) {
    let actual = markdown_headings(md);
    let expected = template_headings(report);
    assert_eq!(
        actual.len(),
        expected.len(),
        "headings differ:\n{actual:#?}\nexpected:\n{expected:#?}"
    );
    for ((level, text), (expected_level, expected_start)) in actual.iter().zip(&expected) {
        assert_eq!(level, expected_level, "{text}");
        assert!(
            text.starts_with(expected_start.as_str()),
            "heading {text:?} should start with {expected_start:?}"
        );
    }
}

#[test]
fn markdown_headings_are_only_the_templates() {
    let report = sample_report();
    assert_headings_are_the_templates(&report, &markdown(&report));
}

#[test]
fn hostile_text_stays_text_in_markdown() {
    let report = hostile_report();
    let md = markdown(&report);
    assert!(!md.to_ascii_lowercase().contains("<script"), "{md}");
    assert!(!md.contains("<img"), "{md}");
    assert!(md.contains("&lt;script&gt;"), "{md}");
    assert_headings_are_the_templates(&report, &md);
    // Read back, the document has no HTML at all (the template writes none) and no link to a
    // script.
    for event in Parser::new_ext(&md, pulldown_cmark::Options::ENABLE_TABLES) {
        match event {
            Event::Html(html) | Event::InlineHtml(html) => panic!("raw HTML {html:?} in:\n{md}"),
            Event::Start(Tag::Link { dest_url, .. })
            | Event::Start(Tag::Image { dest_url, .. }) => {
                assert!(
                    dest_url.starts_with("https://"),
                    "link to {dest_url} in:\n{md}"
                );
            }
            _ => {}
        }
    }
    // No line a Markdown reader could take for a top-level heading, other than the title.
    let top_level = md.lines().filter(|line| line.starts_with("# ")).count();
    assert_eq!(top_level, 1, "{md}");
    // Tables keep their shape: every row of the claims table has the header's cell count.
    let claims = section(&md, "\n## Claimed versus observed\n", "\n## Findings\n");
    for row in claims.lines().filter(|l| l.starts_with('|')) {
        let cells = row.replace("\\|", "").matches('|').count();
        assert_eq!(cells, 7, "{row}");
    }
}

// ---------------------------------------------------------------------------------------------
// HTML
// ---------------------------------------------------------------------------------------------

#[test]
fn html_has_every_section_finding_and_intervention_in_order() {
    let report = sample_report();
    let page = html(&report, None);
    assert!(
        page.starts_with("<!DOCTYPE html>\n<html lang=\"en\">"),
        "{page}"
    );
    assert!(page.contains("<meta charset=\"utf-8\">"), "{page}");
    assert!(page.contains("<meta name=\"viewport\""), "{page}");
    assert!(
        page.contains("<title>Backend architecture audit · Acme Rockets</title>"),
        "{page}"
    );
    assert_sections_in_order(&page, "<h2>", "</h2>");
    for finding in &report.findings {
        assert!(page.contains(&finding.title), "{} missing", finding.title);
    }
    assert!(page.contains("<h2>Before and after</h2>"), "{page}");
    for heading in ["Decision records", "Questionnaire answers", "Method"] {
        assert!(page.contains(&format!("<h3>{heading}</h3>")), "{heading}");
    }
    let interventions = section(&page, "<h2>Interventions</h2>", "<h2>Roadmap</h2>");
    let mut from = 0;
    for intervention in &report.interventions {
        let row = format!(
            "<tr><td class=\"num\">{}</td><td>{}</td><td>{}</td>",
            intervention.position, intervention.reference, intervention.title
        );
        from = position(interventions, &row, from)
            .unwrap_or_else(|| panic!("{row} missing or out of order in:\n{interventions}"));
    }
    // The three charts, inline.
    assert_eq!(
        page.matches("<svg xmlns=\"http://www.w3.org/2000/svg\"")
            .count(),
        3
    );
    // The firm's accent, checked, in the style sheet.
    assert!(page.contains("--accent: #1f4e79;"), "{page}");
}

#[test]
fn html_is_well_formed_with_unique_ids() {
    for report in [sample_report(), hostile_report(), empty_report()] {
        let page = html(&report, None);
        check_markup(&page, HTML_VOID).unwrap_or_else(|e| panic!("{e}"));
        let mut ids: Vec<&str> = page
            .split(" id=\"")
            .skip(1)
            .map(|rest| &rest[..rest.find('"').unwrap_or(0)])
            .collect();
        let count = ids.len();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), count, "duplicate ids");
        // Every table has a head and a body, and there is no table without rows.
        assert_eq!(
            page.matches("<table>").count(),
            page.matches("<thead>").count()
        );
        assert_eq!(
            page.matches("<table>").count(),
            page.matches("<tbody>").count()
        );
        assert!(!page.contains("<tbody>\n</tbody>"), "{page}");
        assert_eq!(page.matches("<script").count(), 0);
    }
}

#[test]
fn html_empty_states_are_sentences() {
    let page = html(&empty_report(), None);
    assert_sections_in_order(&page, "<h2>", "</h2>");
    for sentence in [
        "No summary written yet.",
        "No areas scored.",
        "No probe has run yet.",
        "No findings recorded.",
        "No interventions recorded.",
        "Nothing is scheduled yet.",
        "No decision records.",
        "No answers recorded.",
    ] {
        assert!(page.contains(sentence), "{sentence} missing");
    }
    assert!(!page.contains("Before and after"), "{page}");
    assert!(!page.contains("<table>"), "{page}");
}

#[test]
fn hostile_text_stays_text_in_html() {
    let report = hostile_report();
    let page = html(&report, None);
    let lower = page.to_ascii_lowercase();
    assert!(!lower.contains("<script"), "{page}");
    assert!(!lower.contains("onerror="), "{page}");
    assert!(!lower.contains("javascript:"), "{page}");
    assert!(!lower.contains("<img"), "{page}");
    assert!(!lower.contains("<label"), "{page}");
    assert!(page.contains("&lt;script&gt;"), "{page}");
    // Typed headings do not open sections: the only h1 is the title, h2s are the template's.
    assert_eq!(page.matches("<h1").count(), 1);
    assert_eq!(
        page.matches("<h2").count(),
        SECTION_TITLES.len() + usize::from(report.comparison.is_some())
    );
}

#[test]
fn a_hostile_accent_falls_back_to_the_default() {
    let mut report = sample_report();
    report.cover.firm.accent = "red; } body { display: none".into();
    let page = html(&report, None);
    assert!(page.contains("--accent: #1f4e79;"), "{page}");
    assert!(!page.contains("red; }"), "{page}");
}

#[test]
fn a_png_logo_is_embedded_and_junk_is_ignored() {
    let report = sample_report();
    let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0";
    let page = html(&report, Some(png));
    assert!(page.contains("src=\"data:image/png;base64,"), "{page}");
    assert!(page.contains("alt=\"Plumb &amp; Partners logo\""), "{page}");

    let junk = html(&report, Some(b"<html><script>alert(1)</script></html>"));
    assert!(!junk.contains("<img"), "{junk}");
    assert!(!junk.contains("<script"), "{junk}");

    let svg_logo = b"<svg xmlns=\"http://www.w3.org/2000/svg\"><script>alert(1)</script></svg>";
    let page = html(&report, Some(svg_logo));
    assert!(page.contains("src=\"data:image/svg+xml;base64,"), "{page}");
    assert!(!page.contains("<script"), "an SVG logo is never inlined");
}

// ---------------------------------------------------------------------------------------------
// Charts
// ---------------------------------------------------------------------------------------------

#[test]
fn sample_charts_are_plain_svg_with_every_label() {
    let report = sample_report();
    let charts = [scorecard(&report), impact_effort(&report), roadmap(&report)];
    for svg in &charts {
        assert_plain_svg(svg);
    }
    for area in &report.areas {
        assert!(
            charts[0].contains(&area.title.replace('&', "&amp;")),
            "{}",
            area.title
        );
    }
    for intervention in &report.interventions {
        assert!(
            charts[1].contains(&intervention.reference),
            "{}",
            intervention.reference
        );
    }
    for entry in &report.roadmap.entries {
        assert!(charts[2].contains(&entry.reference), "{}", entry.reference);
    }
}

#[test]
fn empty_charts_are_still_plain_svg() {
    let report = empty_report();
    for svg in [scorecard(&report), impact_effort(&report), roadmap(&report)] {
        assert_plain_svg(&svg);
    }
    assert!(impact_effort(&report).contains("No interventions yet"));
    assert!(roadmap(&report).contains("No interventions yet"));
}

#[test]
fn hostile_chart_labels_are_escaped() {
    let mut report = hostile_report();
    for (area, hostile) in report.areas.iter_mut().zip(HOSTILE.iter().skip(4)) {
        area.title = (*hostile).into();
        area.risk = HOSTILE[5].into();
    }
    for (i, intervention) in report.interventions.iter_mut().enumerate() {
        intervention.reference = format!("<i>{i}&");
    }
    for (i, entry) in report.roadmap.entries.iter_mut().enumerate() {
        entry.reference = format!("<r>{i}&");
    }
    let charts = [scorecard(&report), impact_effort(&report), roadmap(&report)];
    for svg in &charts {
        assert_plain_svg(svg);
    }
    assert!(
        charts[0].contains("&lt;b&gt;raw html&lt;/b&gt; &amp;"),
        "{}",
        charts[0]
    );
    assert!(charts[1].contains("&lt;i&gt;0&amp;"), "{}", charts[1]);
    assert!(charts[2].contains("&lt;r&gt;0&amp;"), "{}", charts[2]);
    // Long titles are cut to fit, with an ellipsis.
    assert!(charts[2].contains('…'), "{}", charts[2]);
}
