//! The PDF report: the model is written as Typst source by an askama template
//! (`templates/report.typ`), then typeset in-process by the `typeset` crate.
//!
//! The template is rendered with `escape = "none"`, so every value goes through an explicit
//! filter (see [`filters`]): `text` for single-line fields, `markdown` for Markdown fields,
//! `string` for values placed in code. A value without a filter would be Typst source, which is
//! why the template only ever prints our own words, numbers and filtered fields.
use askama::Template;

use crate::reports::{charts, FindingLine, Report};

mod markup;

/// Typst refused the document (a bug in our template, never in user text).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the PDF could not be typeset: {0}")]
pub struct PdfError(pub String);

/// The heading colour when the firm's accent is not a `#rrggbb` colour.
const DEFAULT_ACCENT: &str = "#1f4e79";

/// The chart files handed to Typst, by the names the template reads.
const SCORECARD_CHART: &str = "charts/scorecard.svg";
const IMPACT_EFFORT_CHART: &str = "charts/impact-effort.svg";
const ROADMAP_CHART: &str = "charts/roadmap.svg";

/// The Typst source of the report (the main file), for tests and debugging.
///
/// Charts are placed when their SVG is not empty; the logo is never placed here, since its
/// bytes are not known (see [`pdf`]).
pub fn typst_source(report: &Report) -> String {
    let charts = Charts::draw(report);
    render(report, &charts, None)
}

/// The report as a PDF, typeset in-process. CPU-bound: async callers use `spawn_blocking`.
///
/// `logo` is the firm's uploaded logo; it is placed on the cover when the report's branding
/// says there is one (and with which extension).
pub fn pdf(report: &Report, logo: Option<&[u8]>) -> Result<Vec<u8>, PdfError> {
    let charts = Charts::draw(report);
    let logo = logo.and_then(|bytes| {
        let extension = report.cover.firm.logo.as_ref()?.extension.as_str();
        logo_file_name(extension).map(|name| (name, bytes))
    });
    let today = cover_date(&report.cover.date);
    let ident = format!(
        "plumbline:{}:{}",
        report.cover.client_name, report.cover.version_label
    );

    let typeset = |charts: &Charts, logo: Option<(&'static str, &[u8])>| {
        let main = render(report, charts, logo.map(|(name, _)| name));
        let mut files: Vec<(&str, Vec<u8>)> = charts.files();
        if let Some((name, bytes)) = logo {
            files.push((name, bytes.to_vec()));
        }
        typeset::pdf(&typeset::Job {
            main: &main,
            files,
            today,
            ident: &ident,
        })
    };

    match typeset(&charts, logo) {
        Ok(bytes) => Ok(bytes),
        Err(error) if logo.is_some() || !charts.is_empty() => {
            // A logo Typst cannot decode, or a chart it cannot read, must not cost the client
            // the whole report: it is typeset again with neither, and the cause is logged.
            tracing::warn!(%error, "the report's logo or charts could not be typeset; left out");
            typeset(&Charts::default(), None).map_err(pdf_error)
        }
        Err(error) => Err(pdf_error(error)),
    }
}

fn pdf_error(error: typeset::TypesetError) -> PdfError {
    PdfError(error.messages.join("; "))
}

/// The template's data: the report plus what was decided about it in Rust (the checked accent,
/// which images exist, the findings grouped by area).
#[derive(Template)]
#[template(path = "report.typ", escape = "none")]
struct ReportTyp<'a> {
    r: &'a Report,
    /// `#rrggbb`, checked.
    accent: &'a str,
    /// `logo.png` and the like, when a logo is handed to Typst.
    logo: Option<&'static str>,
    scorecard_chart: bool,
    impact_effort_chart: bool,
    roadmap_chart: bool,
    /// "2026-11-02 to 2026-12-18", "from 2026-11-02", … when either date is set.
    engagement_dates: Option<String>,
    finding_groups: Vec<FindingGroup<'a>>,
    method: [(&'static str, &'static str); 4],
}

/// The findings of one area, in the report's order.
struct FindingGroup<'a> {
    area: &'a str,
    findings: Vec<&'a FindingLine>,
}

fn render(report: &Report, charts: &Charts, logo: Option<&'static str>) -> String {
    let template = ReportTyp {
        r: report,
        accent: accent(&report.cover.firm.accent),
        logo,
        scorecard_chart: !charts.scorecard.is_empty(),
        impact_effort_chart: !charts.impact_effort.is_empty(),
        roadmap_chart: !charts.roadmap.is_empty(),
        engagement_dates: super::engagement_dates(
            report.cover.start_date.as_deref(),
            report.cover.due_date.as_deref(),
        ),
        finding_groups: group_findings(&report.findings),
        method: super::METHOD,
    };
    // Rendering only fails when a filter fails, and ours never do; an empty source would then
    // fail in Typst with a clear message rather than panic here.
    template.render().unwrap_or_default()
}

/// The three charts as SVG (empty while a chart is not drawn).
#[derive(Default)]
struct Charts {
    scorecard: String,
    impact_effort: String,
    roadmap: String,
}

impl Charts {
    fn draw(report: &Report) -> Charts {
        Charts {
            scorecard: charts::scorecard(report),
            impact_effort: charts::impact_effort(report),
            roadmap: charts::roadmap(report),
        }
    }

    fn is_empty(&self) -> bool {
        self.scorecard.is_empty() && self.impact_effort.is_empty() && self.roadmap.is_empty()
    }

    /// The non-empty charts as files for Typst.
    fn files(&self) -> Vec<(&'static str, Vec<u8>)> {
        [
            (SCORECARD_CHART, &self.scorecard),
            (IMPACT_EFFORT_CHART, &self.impact_effort),
            (ROADMAP_CHART, &self.roadmap),
        ]
        .into_iter()
        .filter(|(_, svg)| !svg.is_empty())
        .map(|(name, svg)| (name, svg.as_bytes().to_vec()))
        .collect()
    }
}

/// The firm's accent when it is `#rrggbb`, else the default: it is printed into the source as
/// `rgb("…")`, so it is checked again here rather than trusted from the settings page.
fn accent(value: &str) -> &str {
    let hex = value.strip_prefix('#').unwrap_or("");
    if hex.len() == 6 && hex.chars().all(|c| c.is_ascii_hexdigit()) {
        value
    } else {
        DEFAULT_ACCENT
    }
}

/// The logo's file name inside the document, for the extensions Typst can read.
fn logo_file_name(extension: &str) -> Option<&'static str> {
    match extension.trim().to_ascii_lowercase().as_str() {
        "png" => Some("logo.png"),
        "jpg" | "jpeg" => Some("logo.jpg"),
        "svg" => Some("logo.svg"),
        _ => None,
    }
}

/// The report's date as Typst's `today` (so the PDF does not change with the day it is
/// rendered); 1970-01-01 when the date is not YYYY-MM-DD.
fn cover_date(date: &str) -> (i32, u8, u8) {
    let parsed = (|| {
        let mut parts = date.trim().splitn(3, '-');
        let year: i32 = parts.next()?.parse().ok()?;
        let month: u8 = parts.next()?.parse().ok()?;
        let day: u8 = parts.next()?.parse().ok()?;
        let plausible =
            (1..=9999).contains(&year) && (1..=12).contains(&month) && (1..=31).contains(&day);
        plausible.then_some((year, month, day))
    })();
    parsed.unwrap_or((1970, 1, 1))
}

/// Findings grouped by area, keeping the report's order (areas in bank order, as the model
/// sorted them); an area that comes back later starts no second group.
fn group_findings(findings: &[FindingLine]) -> Vec<FindingGroup<'_>> {
    let mut groups: Vec<FindingGroup<'_>> = Vec::new();
    for finding in findings {
        match groups.iter_mut().find(|group| group.area == finding.area) {
            Some(group) => group.findings.push(finding),
            None => groups.push(FindingGroup {
                area: &finding.area,
                findings: vec![finding],
            }),
        }
    }
    groups
}

/// How much of the client's and the system's names the running header shows.
const HEADER_CHARACTERS: usize = 40;

/// `value` cut to [`HEADER_CHARACTERS`] characters, an ellipsis marking the cut.
fn shorten(value: &str) -> String {
    let value = value.trim();
    if value.chars().count() <= HEADER_CHARACTERS {
        return value.to_owned();
    }
    let kept: String = value.chars().take(HEADER_CHARACTERS - 1).collect();
    format!("{}…", kept.trim_end())
}

/// A number of weeks or a priority for print: at most two decimals, no trailing zeros
/// ("1", "2.5", "2.67"); a dash when the number is not finite.
fn number(value: f64) -> String {
    if !value.is_finite() {
        return "—".to_owned();
    }
    let fixed = format!("{value:.2}");
    let trimmed = fixed.trim_end_matches('0').trim_end_matches('.');
    match trimmed {
        "-0" | "" => "0".to_owned(),
        other => other.to_owned(),
    }
}

/// The template's filters. Each returns Typst source that shows its input as text.
mod filters {
    use std::borrow::Borrow;
    use std::fmt::Display;

    /// A single-line field (a title, a name, a label) as escaped markup.
    #[askama::filter_fn]
    pub fn text<T: Display>(value: T, _: &dyn askama::Values) -> askama::Result<String> {
        Ok(super::markup::text(&value.to_string()))
    }

    /// A single-line field cut to [`super::HEADER_CHARACTERS`] characters (with an ellipsis),
    /// for the running header, which has one line.
    #[askama::filter_fn]
    pub fn short<T: Display>(value: T, _: &dyn askama::Values) -> askama::Result<String> {
        Ok(super::markup::text(&super::shorten(&value.to_string())))
    }

    /// A Markdown field as escaped Typst blocks.
    #[askama::filter_fn]
    pub fn markdown<T: Display>(value: T, _: &dyn askama::Values) -> askama::Result<String> {
        Ok(super::markup::markdown(&value.to_string()))
    }

    /// A Typst string literal, quotes included, for values placed in code.
    #[askama::filter_fn]
    pub fn string<T: Display>(value: T, _: &dyn askama::Values) -> askama::Result<String> {
        Ok(super::markup::string_literal(&value.to_string()))
    }

    /// Weeks or a priority: at most two decimals, as escaped markup.
    #[askama::filter_fn]
    pub fn number<T: Borrow<f64>>(value: T, _: &dyn askama::Values) -> askama::Result<String> {
        Ok(super::markup::text(&super::number(*value.borrow())))
    }

    /// A score out of 100, or a dash for an area no question applies to.
    #[askama::filter_fn]
    pub fn score<T: Borrow<Option<u32>>>(
        value: T,
        _: &dyn askama::Values,
    ) -> askama::Result<String> {
        Ok(match value.borrow() {
            Some(score) => score.to_string(),
            None => "—".to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reports::fixture::{hostile_report, sample_report};

    #[test]
    fn the_accent_is_a_colour_or_the_default() {
        assert_eq!(accent("#a1B2c3"), "#a1B2c3");
        for bad in [
            "",
            "#12345",
            "#1234567",
            "123456",
            "#12345g",
            "red\")#panic(\"",
        ] {
            assert_eq!(accent(bad), DEFAULT_ACCENT, "{bad:?}");
        }
    }

    #[test]
    fn the_cover_date_fixes_today_or_falls_back() {
        assert_eq!(cover_date("2026-12-02"), (2026, 12, 2));
        for bad in [
            "",
            "2026-13-01",
            "2026-12",
            "02.12.2026",
            "2026-12-32",
            "99999-01-01",
        ] {
            assert_eq!(cover_date(bad), (1970, 1, 1), "{bad:?}");
        }
    }

    #[test]
    fn numbers_print_with_at_most_two_decimals() {
        assert_eq!(number(1.0), "1");
        assert_eq!(number(2.5), "2.5");
        assert_eq!(number(2.666), "2.67");
        assert_eq!(number(0.1 + 0.2), "0.3");
        assert_eq!(number(-0.0001), "0");
        assert_eq!(number(f64::NAN), "—");
        assert_eq!(number(f64::INFINITY), "—");
    }

    #[test]
    fn names_in_the_header_are_cut_short() {
        assert_eq!(shorten("Acme Rockets"), "Acme Rockets");
        let long = "x".repeat(100);
        let short = shorten(&long);
        assert_eq!(short.chars().count(), HEADER_CHARACTERS);
        assert!(short.ends_with('…'));
    }

    #[test]
    fn only_images_typst_reads_become_the_logo() {
        assert_eq!(logo_file_name("PNG"), Some("logo.png"));
        assert_eq!(logo_file_name("jpeg"), Some("logo.jpg"));
        assert_eq!(logo_file_name("svg"), Some("logo.svg"));
        assert_eq!(logo_file_name("../main.typ"), None);
        assert_eq!(logo_file_name("pdf"), None);
    }

    #[test]
    fn findings_are_grouped_by_area_in_order() {
        let mut report = sample_report();
        let mut extra = report.findings[0].clone();
        extra.reference = "F-9".into();
        report.findings.push(extra);
        let groups = group_findings(&report.findings);
        let areas: Vec<&str> = groups.iter().map(|g| g.area).collect();
        assert_eq!(
            areas,
            ["Observability", "Database", "Caching & queues", "People"]
        );
        let first: Vec<&str> = groups[0]
            .findings
            .iter()
            .map(|f| f.reference.as_str())
            .collect();
        assert_eq!(first, ["F-2", "F-9"]);
    }

    #[test]
    fn the_source_has_every_section_and_no_raw_user_markup() {
        let source = typst_source(&sample_report());
        for title in crate::reports::SECTION_TITLES {
            assert!(source.contains(&format!("\n= {title}\n")), "{title:?}");
        }
        assert!(source.contains("\n= Before and after\n"));
        let hostile = typst_source(&hostile_report());
        assert!(!hostile.contains("#set page(width"));
        assert!(!hostile.contains("<script>"));
    }
}
