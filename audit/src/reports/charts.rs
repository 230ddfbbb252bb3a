//! Charts as standalone SVG, drawn once from the report model and used by both the HTML report
//! (inline) and the PDF (as image files Typst reads).
//!
//! The SVG is deliberately plain SVG 1.1 so every consumer draws it the same: `xmlns`, `width`,
//! `height` and `viewBox` on the root; only `rect`, `line`, `circle`, `text`, `path` and `g`;
//! presentation attributes (no CSS, no ids, no external references). Typst's SVG reader (usvg)
//! and browsers both accept that subset.
//!
//! Every label comes from the report, so every label is collapsed to one line, truncated to fit
//! and escaped. No input makes a chart fail: empty lists draw a small "nothing yet" picture,
//! odd numbers (negative, huge, not a number) are clamped onto the axes.
use std::fmt::Write as _;

use super::model::{AreaSection, Report};

/// Fonts the PDF has (Libertinus ships with Typst, DejaVu with most systems) and a generic
/// fallback for browsers.
const FONT: &str = "Libertinus Serif, DejaVu Sans, sans-serif";
/// The accent when the firm's is missing or not a plain `#rrggbb`.
pub(crate) const FALLBACK_ACCENT: &str = "#1f4e79";
/// Every chart has the same width so they line up in both outputs.
const WIDTH: f64 = 640.0;
const INK: &str = "#222222";
const MUTED: &str = "#666666";
const GRID: &str = "#dddddd";
/// The message on a chart with nothing to draw.
const NO_INTERVENTIONS: &str = "No interventions yet";
const NO_AREAS: &str = "No areas yet";
/// Above this many engineer-weeks the axes stop growing; bigger values sit on the edge.
const MAX_WEEKS: f64 = 1000.0;
/// The planner lays out at most 100 engineers; a report never needs more lanes.
const MAX_LANES: u32 = 100;
/// Rough width of one character at the chart's small font size, to decide what fits in a bar.
const CHAR_WIDTH: f64 = 6.8;

/// The firm's accent colour, but only when it is exactly `#rrggbb`: it goes into attributes and
/// style sheets, so anything else (a name, `red;}` …) falls back to the default.
pub(crate) fn accent(report: &Report) -> &str {
    let accent = report.cover.firm.accent.as_str();
    let bytes = accent.as_bytes();
    let plain_hex =
        bytes.len() == 7 && bytes[0] == b'#' && bytes[1..].iter().all(|b| b.is_ascii_hexdigit());
    if plain_hex {
        accent
    } else {
        FALLBACK_ACCENT
    }
}

/// Escapes text for XML and HTML text and attribute values.
///
/// Beyond the five characters markup needs (`& < > " '`), `=` and `:` are written as character
/// references too: the page then never contains `onerror=` or `javascript:` as plain bytes even
/// when someone typed them, so pattern-matching scanners (mail gateways, proxies) do not flag a
/// report that merely quotes an attack. Control characters XML forbids become spaces.
pub(crate) fn escape_text(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len() + text.len() / 8);
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            '=' => escaped.push_str("&#61;"),
            ':' => escaped.push_str("&#58;"),
            '\t' | '\n' | '\r' => escaped.push(c),
            // XML 1.0 allows none of these, not even as references.
            c if c.is_control() || c == '\u{FFFE}' || c == '\u{FFFF}' => escaped.push(' '),
            c => escaped.push(c),
        }
    }
    escaped
}

/// One line of at most `max_chars` characters: whitespace runs collapse to one space and a long
/// text ends in "…".
pub(crate) fn truncate(text: &str, max_chars: usize) -> String {
    let one_line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if one_line.chars().count() <= max_chars {
        return one_line;
    }
    let keep = max_chars.saturating_sub(1);
    let mut cut: String = one_line.chars().take(keep).collect();
    cut.truncate(cut.trim_end().len());
    cut.push('…');
    cut
}

/// A label ready for a `<text>` element: one line, truncated, escaped.
fn label(text: &str, max_chars: usize) -> String {
    escape_text(&truncate(text, max_chars))
}

/// A coordinate with one decimal and no trailing `.0`, so the SVG stays short and stable.
fn num(value: f64) -> String {
    let value = if value.is_finite() { value } else { 0.0 };
    let rounded = (value * 10.0).round() / 10.0;
    if rounded == rounded.trunc() {
        format!("{rounded:.0}")
    } else {
        format!("{rounded:.1}")
    }
}

/// A count of weeks as people write it: "2", "2.5".
pub(crate) fn format_weeks(value: f64) -> String {
    let value = if value.is_finite() { value } else { 0.0 };
    let rounded = (value * 100.0).round() / 100.0;
    let text = format!("{rounded:.2}");
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// Engineer-weeks made safe for an axis: not a number or negative is 0, huge is [`MAX_WEEKS`].
fn clamp_weeks(value: f64) -> f64 {
    if value.is_finite() {
        value.clamp(0.0, MAX_WEEKS)
    } else {
        0.0
    }
}

/// A tick step of 1, 2, 5, 10, 20, 50 … weeks giving at most about ten ticks up to `max`.
fn tick_step(max: f64) -> f64 {
    let mut step = 1.0;
    let mut factors = [2.0, 2.5, 2.0].into_iter().cycle();
    while max / step > 10.0 {
        step *= factors.next().unwrap_or(2.0);
    }
    step
}

/// The root element. `label` describes the chart for screen readers (inline in HTML).
fn open_svg(out: &mut String, height: f64, description: &str) {
    let _ = write!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="{w}" height="{h}" viewBox="0 0 {w} {h}" role="img" aria-label="{d}" font-family="{FONT}" font-size="12" fill="{INK}">"#,
        w = num(WIDTH),
        h = num(height),
        d = escape_text(description),
    );
}

/// A small chart that says there is nothing to draw, still a valid SVG of the usual width.
fn empty_chart(description: &str, message: &str) -> String {
    let mut out = String::new();
    open_svg(&mut out, 60.0, description);
    let _ = write!(
        out,
        r##"<rect x="0.5" y="0.5" width="{w}" height="59" fill="#fafafa" stroke="{GRID}"/><text x="{x}" y="35" text-anchor="middle" fill="{MUTED}" font-size="14">{m}</text></svg>"##,
        w = num(WIDTH - 1.0),
        x = num(WIDTH / 2.0),
        m = escape_text(message),
    );
    out
}

/// Fixed colours per risk, so a red area looks red whatever the firm's accent.
fn risk_colour(risk: &str) -> &'static str {
    match risk {
        "High" => "#c62828",
        "Medium" => "#ef8f00",
        "Low" => "#2e7d32",
        _ => "#9e9e9e",
    }
}

/// Area scores as horizontal bars, 0–100, coloured by risk.
pub fn scorecard(report: &Report) -> String {
    const DESCRIPTION: &str = "Scorecard: score per area from 0 to 100";
    if report.areas.is_empty() {
        return empty_chart(DESCRIPTION, NO_AREAS);
    }
    // Area names on the left, bars in the middle, "35 · High" on the right.
    let bar_left = 190.0;
    let bar_width = 330.0;
    let top = 24.0;
    let row = 30.0;
    let bar_height = 18.0;
    let height = top + row * report.areas.len() as f64 + 30.0;
    let bottom = top + row * report.areas.len() as f64;

    let mut out = String::new();
    open_svg(&mut out, height, DESCRIPTION);

    // Grid lines and their values every 25 points.
    out.push_str(&format!(r#"<g stroke="{GRID}" stroke-width="1">"#));
    for value in [0.0, 25.0, 50.0, 75.0, 100.0] {
        let x = bar_left + bar_width * value / 100.0;
        let _ = write!(
            out,
            r#"<line x1="{x}" y1="{y1}" x2="{x}" y2="{y2}"/>"#,
            x = num(x),
            y1 = num(top - 6.0),
            y2 = num(bottom),
        );
    }
    out.push_str("</g>");
    out.push_str(&format!(
        r#"<g fill="{MUTED}" font-size="10" text-anchor="middle">"#
    ));
    for value in [0.0, 25.0, 50.0, 75.0, 100.0] {
        let x = bar_left + bar_width * value / 100.0;
        let _ = write!(
            out,
            r#"<text x="{x}" y="{y}">{v}</text>"#,
            x = num(x),
            y = num(bottom + 16.0),
            v = num(value),
        );
    }
    out.push_str("</g>");

    for (index, area) in report.areas.iter().enumerate() {
        let y = top + row * index as f64;
        scorecard_row(&mut out, area, y, bar_left, bar_width, bar_height);
    }
    out.push_str("</svg>");
    out
}

fn scorecard_row(
    out: &mut String,
    area: &AreaSection,
    y: f64,
    bar_left: f64,
    bar_width: f64,
    bar_height: f64,
) {
    let text_y = num(y + bar_height / 2.0 + 4.0);
    let _ = write!(
        out,
        r#"<text x="{x}" y="{text_y}" text-anchor="end">{t}</text>"#,
        x = num(bar_left - 8.0),
        t = label(&area.title, 28),
    );
    match area.score {
        Some(score) => {
            let score = score.min(100);
            let colour = risk_colour(&area.risk);
            // The full track first, so a low score still shows how far 100 is.
            let _ = write!(
                out,
                r##"<rect x="{x}" y="{y}" width="{w}" height="{h}" fill="#f1f1f1"/>"##,
                x = num(bar_left),
                y = num(y),
                w = num(bar_width),
                h = num(bar_height),
            );
            let _ = write!(
                out,
                r#"<rect x="{x}" y="{y}" width="{w}" height="{h}" fill="{colour}"/>"#,
                x = num(bar_left),
                y = num(y),
                w = num(bar_width * f64::from(score) / 100.0),
                h = num(bar_height),
            );
            let _ = write!(
                out,
                r#"<text x="{x}" y="{text_y}">{score} · {risk}</text>"#,
                x = num(bar_left + bar_width + 8.0),
                risk = label(&area.risk, 12),
            );
        }
        None => {
            // An empty, dashed bar: the area is there but nothing in it applies (yet).
            let _ = write!(
                out,
                r##"<rect x="{x}" y="{y}" width="{w}" height="{h}" fill="#ffffff" stroke="#9e9e9e" stroke-dasharray="4 3"/>"##,
                x = num(bar_left + 0.5),
                y = num(y + 0.5),
                w = num(bar_width - 1.0),
                h = num(bar_height - 1.0),
            );
            let _ = write!(
                out,
                r#"<text x="{x}" y="{text_y}" fill="{MUTED}" text-anchor="middle" font-style="italic">not scored</text>"#,
                x = num(bar_left + bar_width / 2.0),
            );
        }
    }
}

/// Impact (1–5) against effort (engineer-weeks), one labelled dot per intervention.
pub fn impact_effort(report: &Report) -> String {
    const DESCRIPTION: &str = "Impact versus effort: one dot per intervention";
    if report.interventions.is_empty() {
        return empty_chart(DESCRIPTION, NO_INTERVENTIONS);
    }
    let accent = accent(report);
    let (left, right, top, bottom) = (60.0, WIDTH - 24.0, 20.0, 330.0);
    let height = bottom + 50.0;
    let max_effort = report
        .interventions
        .iter()
        .map(|i| clamp_weeks(i.effort_weeks))
        .fold(4.0_f64, f64::max)
        .ceil();
    let x_of = |effort: f64| left + (right - left) * clamp_weeks(effort) / max_effort;
    let y_of = |impact: u32| {
        let impact = f64::from(impact.clamp(1, 5));
        bottom - (bottom - top) * (impact - 1.0) / 4.0
    };

    let mut out = String::new();
    open_svg(&mut out, height, DESCRIPTION);

    // Quadrants: the dividing lines at half the effort axis and at impact 3.
    let mid_x = num((left + right) / 2.0);
    let mid_y = num(y_of(3));
    let _ = write!(
        out,
        r##"<rect x="{left}" y="{top}" width="{w}" height="{h}" fill="#fcfcfc" stroke="{GRID}"/><g stroke="#bbbbbb" stroke-dasharray="5 4"><line x1="{mid_x}" y1="{top}" x2="{mid_x}" y2="{bottom}"/><line x1="{left}" y1="{mid_y}" x2="{right}" y2="{mid_y}"/></g>"##,
        left = num(left),
        top = num(top),
        right = num(right),
        bottom = num(bottom),
        w = num(right - left),
        h = num(bottom - top),
    );
    let _ = write!(
        out,
        r#"<g fill="{MUTED}" font-size="11" font-style="italic"><text x="{l}" y="{t}">quick wins</text><text x="{r}" y="{t}" text-anchor="end">big bets</text><text x="{l}" y="{b}">fill-ins</text><text x="{r}" y="{b}" text-anchor="end">hard slogs</text></g>"#,
        l = num(left + 8.0),
        r = num(right - 8.0),
        t = num(top + 16.0),
        b = num(bottom - 8.0),
    );

    // Axes: effort ticks along the bottom, impact 1–5 up the side.
    let step = tick_step(max_effort);
    out.push_str(&format!(
        r#"<g fill="{MUTED}" font-size="10" text-anchor="middle">"#
    ));
    let mut tick = 0.0;
    while tick <= max_effort + 1e-9 {
        let _ = write!(
            out,
            r#"<text x="{x}" y="{y}">{v}</text>"#,
            x = num(x_of(tick)),
            y = num(bottom + 15.0),
            v = format_weeks(tick),
        );
        tick += step;
    }
    out.push_str("</g>");
    out.push_str(&format!(
        r#"<g fill="{MUTED}" font-size="10" text-anchor="end">"#
    ));
    for impact in 1..=5 {
        let _ = write!(
            out,
            r#"<text x="{x}" y="{y}">{impact}</text>"#,
            x = num(left - 8.0),
            y = num(y_of(impact) + 4.0),
        );
    }
    out.push_str("</g>");
    let _ = write!(
        out,
        r#"<text x="{x}" y="{y}" text-anchor="middle">Effort (engineer-weeks)</text><text x="16" y="{ym}" text-anchor="middle" transform="rotate(-90 16 {ym})">Impact</text>"#,
        x = num((left + right) / 2.0),
        y = num(bottom + 38.0),
        ym = num((top + bottom) / 2.0),
    );

    // Dots, then labels; interventions on the same spot stack their labels downwards.
    let mut placed: Vec<(String, String)> = Vec::new();
    for intervention in &report.interventions {
        let x = num(x_of(intervention.effort_weeks));
        let y_value = y_of(intervention.impact);
        let y = num(y_value);
        let same_spot = placed
            .iter()
            .filter(|(px, py)| *px == x && *py == y)
            .count();
        placed.push((x.clone(), y.clone()));
        let _ = write!(
            out,
            r##"<circle cx="{x}" cy="{y}" r="6" fill="{accent}" fill-opacity="0.85" stroke="#ffffff" stroke-width="1.5"/>"##,
        );
        // Labels to the right of the dot, or to the left near the right edge.
        let near_right = x_of(intervention.effort_weeks) > right - 60.0;
        let (label_x, anchor) = if near_right {
            (x_of(intervention.effort_weeks) - 10.0, "end")
        } else {
            (x_of(intervention.effort_weeks) + 10.0, "start")
        };
        let _ = write!(
            out,
            r#"<text x="{lx}" y="{ly}" text-anchor="{anchor}" font-weight="bold">{t}</text>"#,
            lx = num(label_x),
            ly = num(y_value + 4.0 + 13.0 * same_spot as f64),
            t = label(&intervention.reference, 12),
        );
    }
    out.push_str("</svg>");
    out
}

/// The roadmap as a timeline: one lane per engineer, one bar per intervention, weeks on the axis.
pub fn roadmap(report: &Report) -> String {
    const DESCRIPTION: &str = "Roadmap: one lane per engineer, weeks along the top";
    let entries = &report.roadmap.entries;
    if entries.is_empty() {
        return empty_chart(DESCRIPTION, NO_INTERVENTIONS);
    }
    let accent = accent(report);
    let lanes = entries
        .iter()
        .map(|e| e.engineer)
        .fold(report.roadmap.capacity, u32::max)
        .clamp(1, MAX_LANES);
    let end = entries
        .iter()
        .map(|e| clamp_weeks(e.end_week))
        .fold(clamp_weeks(report.roadmap.total_weeks), f64::max)
        .max(1.0)
        .ceil();
    let (left, right, top) = (96.0, WIDTH - 16.0, 34.0);
    let lane_height = 34.0;
    let bar_height = 22.0;
    let bottom = top + lane_height * f64::from(lanes);
    let height = bottom + 30.0;
    let x_of = |week: f64| left + (right - left) * clamp_weeks(week) / end;

    let mut out = String::new();
    open_svg(&mut out, height, DESCRIPTION);

    // Week ticks with a light line down through the lanes.
    let step = tick_step(end);
    out.push_str(&format!(r#"<g stroke="{GRID}" stroke-width="1">"#));
    let mut tick = 0.0;
    while tick <= end + 1e-9 {
        let _ = write!(
            out,
            r#"<line x1="{x}" y1="{y1}" x2="{x}" y2="{y2}"/>"#,
            x = num(x_of(tick)),
            y1 = num(top - 6.0),
            y2 = num(bottom),
        );
        tick += step;
    }
    out.push_str("</g>");
    out.push_str(&format!(
        r#"<g fill="{MUTED}" font-size="10" text-anchor="middle">"#
    ));
    let mut tick = 0.0;
    while tick <= end + 1e-9 {
        let _ = write!(
            out,
            r#"<text x="{x}" y="{y}">{v}</text>"#,
            x = num(x_of(tick)),
            y = num(top - 10.0),
            v = format_weeks(tick),
        );
        tick += step;
    }
    out.push_str("</g>");
    let _ = write!(
        out,
        r#"<text x="{x}" y="{y}" fill="{MUTED}" font-size="11" text-anchor="middle">Weeks from {start}</text>"#,
        x = num((left + right) / 2.0),
        y = num(bottom + 20.0),
        start = label(&report.roadmap.start, 20),
    );

    // Lanes, striped so a long roadmap stays readable.
    for lane in 0..lanes {
        let y = top + lane_height * f64::from(lane);
        if lane % 2 == 0 {
            let _ = write!(
                out,
                r##"<rect x="{x}" y="{y}" width="{w}" height="{h}" fill="#f6f6f6"/>"##,
                x = num(left),
                y = num(y),
                w = num(right - left),
                h = num(lane_height),
            );
        }
        let _ = write!(
            out,
            r#"<text x="{x}" y="{ty}" text-anchor="end">Engineer {n}</text>"#,
            x = num(left - 8.0),
            ty = num(y + lane_height / 2.0 + 4.0),
            n = lane + 1,
        );
    }

    for entry in entries {
        let lane = entry.engineer.clamp(1, lanes) - 1;
        let y = top + lane_height * f64::from(lane) + (lane_height - bar_height) / 2.0;
        let x1 = x_of(entry.start_week);
        let x2 = x_of(entry.end_week).max(x1 + 3.0);
        let width = x2 - x1;
        let _ = write!(
            out,
            r##"<rect x="{x}" y="{y}" width="{w}" height="{h}" rx="3" fill="{accent}" stroke="#ffffff" stroke-width="1"/>"##,
            x = num(x1),
            y = num(y),
            w = num(width),
            h = num(bar_height),
        );
        // Reference and title inside the bar when they fit, the reference alone when only it
        // fits, and the reference after the bar when the bar is too short even for that.
        let fits = ((width - 10.0) / CHAR_WIDTH).floor().max(0.0) as usize;
        let reference = truncate(&entry.reference, 12);
        let reference_len = reference.chars().count();
        let text_y = num(y + bar_height / 2.0 + 4.0);
        if fits >= reference_len {
            let title_room = fits.saturating_sub(reference_len + 1);
            let text = if title_room >= 6 {
                format!("{reference} {}", truncate(&entry.title, title_room))
            } else {
                reference
            };
            let _ = write!(
                out,
                r##"<text x="{x}" y="{text_y}" fill="#ffffff">{t}</text>"##,
                x = num(x1 + 5.0),
                t = escape_text(&text),
            );
        } else {
            let (x, anchor) = if x2 + 4.0 + CHAR_WIDTH * reference_len as f64 > right {
                (x1 - 4.0, "end")
            } else {
                (x2 + 4.0, "start")
            };
            let _ = write!(
                out,
                r#"<text x="{x}" y="{text_y}" text-anchor="{anchor}">{t}</text>"#,
                x = num(x),
                t = escape_text(&reference),
            );
        }
    }
    out.push_str("</svg>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reports::fixture::{hostile_report, sample_report};

    #[test]
    fn accent_must_be_plain_hex() {
        let mut report = sample_report();
        report.cover.firm.accent = "#A1b2C3".into();
        assert_eq!(accent(&report), "#A1b2C3");
        for bad in ["red", "#fff", "#12345g", "#123456;} body{", "", "#1234567"] {
            report.cover.firm.accent = bad.into();
            assert_eq!(accent(&report), FALLBACK_ACCENT, "{bad}");
        }
    }

    #[test]
    fn a_hostile_accent_never_reaches_the_svg() {
        let mut report = sample_report();
        report.cover.firm.accent = r#""/><script>alert(1)</script>"#.into();
        for svg in [impact_effort(&report), roadmap(&report)] {
            assert!(!svg.contains("<script"), "{svg}");
            assert!(svg.contains(FALLBACK_ACCENT), "{svg}");
        }
    }

    #[test]
    fn escaping_covers_markup_and_scanner_bait() {
        assert_eq!(
            escape_text(r#"<a href="x" onerror='y'>&"#),
            "&lt;a href&#61;&quot;x&quot; onerror&#61;&#39;y&#39;&gt;&amp;"
        );
        assert_eq!(escape_text("javascript:"), "javascript&#58;");
        assert_eq!(escape_text("a\u{0}b\u{1b}c"), "a b c");
    }

    #[test]
    fn truncation_counts_characters_and_marks_the_cut() {
        assert_eq!(truncate("short", 10), "short");
        assert_eq!(truncate("a  b\n c", 10), "a b c");
        assert_eq!(truncate("abcdefghijkl", 6), "abcde…");
        assert_eq!(truncate("🚀🚀🚀🚀", 3), "🚀🚀…");
        assert_eq!(truncate("anything", 0), "…");
    }

    #[test]
    fn numbers_stay_short_and_finite() {
        assert_eq!(num(12.0), "12");
        assert_eq!(num(12.25), "12.3");
        assert_eq!(num(f64::NAN), "0");
        assert_eq!(format_weeks(2.5), "2.5");
        assert_eq!(format_weeks(3.0), "3");
        assert_eq!(tick_step(4.0), 1.0);
        assert_eq!(tick_step(30.0), 5.0);
        assert_eq!(tick_step(1000.0), 100.0);
    }

    #[test]
    fn sample_charts_carry_their_labels() {
        let report = sample_report();
        let scorecard = scorecard(&report);
        assert!(scorecard.contains("Observability"), "{scorecard}");
        assert!(scorecard.contains("35 · High"), "{scorecard}");
        assert!(scorecard.contains("not scored"), "{scorecard}");
        assert!(scorecard.contains("Caching &amp; queues"), "{scorecard}");
        let impact = impact_effort(&report);
        let roadmap = roadmap(&report);
        for reference in ["I-1", "I-2", "I-3"] {
            assert!(impact.contains(reference), "{impact}");
            assert!(roadmap.contains(reference), "{roadmap}");
        }
        assert!(impact.contains("quick wins"), "{impact}");
        assert!(roadmap.contains("Engineer 2"), "{roadmap}");
    }

    #[test]
    fn empty_reports_still_draw() {
        let mut report = sample_report();
        report.areas.clear();
        report.interventions.clear();
        report.roadmap.entries.clear();
        assert!(scorecard(&report).contains(NO_AREAS));
        assert!(impact_effort(&report).contains(NO_INTERVENTIONS));
        assert!(roadmap(&report).contains(NO_INTERVENTIONS));
    }

    #[test]
    fn odd_numbers_are_clamped_onto_the_axes() {
        let mut report = sample_report();
        report.interventions[0].effort_weeks = f64::NAN;
        report.interventions[1].effort_weeks = -3.0;
        report.interventions[2].effort_weeks = 1e300;
        report.interventions[2].impact = 99;
        report.roadmap.entries[0].engineer = 0;
        report.roadmap.entries[1].engineer = u32::MAX;
        report.roadmap.entries[2].end_week = f64::INFINITY;
        report.roadmap.capacity = u32::MAX;
        report.areas[0].score = Some(u32::MAX);
        for svg in [scorecard(&report), impact_effort(&report), roadmap(&report)] {
            for bad in ["NaN", "=\"inf", "=\"-inf"] {
                assert!(!svg.contains(bad), "{bad} in {svg}");
            }
            assert!(svg.len() < 100_000, "{} bytes", svg.len());
        }
    }

    #[test]
    fn hostile_labels_are_escaped() {
        let report = hostile_report();
        for svg in [impact_effort(&report), roadmap(&report)] {
            assert!(!svg.contains("<script"), "{svg}");
            assert!(!svg.contains("<b>"), "{svg}");
        }
    }
}
