//! The PDF report: typeset from the fixture reports and read back with poppler's tools
//! (`pdftotext`, `pdffonts`, `pdfinfo`), the way a reader's viewer would see it.
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use std::sync::{Arc, Mutex};

use audit::reports::cache::{RenderCache, RenderKey};
use audit::reports::fixture::{hostile_report, large_report, sample_report, HOSTILE};
use audit::reports::render::{pdf, typst_source};
use audit::reports::{render_cached, Report, ReportFormat, SECTION_TITLES};

/// A PDF written to a temporary folder (kept as long as the value lives).
struct WrittenPdf {
    _dir: tempfile::TempDir,
    path: PathBuf,
}

fn write(bytes: &[u8]) -> WrittenPdf {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let path = dir.path().join("report.pdf");
    std::fs::write(&path, bytes).expect("PDF written");
    WrittenPdf { _dir: dir, path }
}

fn tool(name: &str, args: &[&str], path: &Path) -> String {
    let output = Command::new(name)
        .args(args)
        .arg(path)
        .args(if name == "pdftotext" {
            &["-"][..]
        } else {
            &[][..]
        })
        .output()
        .unwrap_or_else(|error| panic!("{name} runs (poppler-utils): {error}"));
    assert!(
        output.status.success(),
        "{name} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// The text as `pdftotext -layout` reads it, white space squashed to single spaces and the
/// zero-width spaces that let long words break removed.
fn visible_text(file: &WrittenPdf) -> String {
    let text = tool("pdftotext", &["-layout"], &file.path).replace('\u{200B}', "");
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn page_count(file: &WrittenPdf) -> usize {
    tool("pdfinfo", &[], &file.path)
        .lines()
        .find_map(|line| line.strip_prefix("Pages:"))
        .and_then(|pages| pages.trim().parse().ok())
        .expect("pdfinfo prints the page count")
}

fn typeset(report: &Report) -> Vec<u8> {
    pdf(report, None).unwrap_or_else(|error| panic!("the report typesets: {error}"))
}

/// With `REPORT_SAMPLES=<folder>`, the PDFs are kept there for a person to look at
/// (the README's page images come from there, through `pdftoppm`).
fn keep_for_people(name: &str, bytes: &[u8]) {
    if let Some(folder) = std::env::var_os("REPORT_SAMPLES") {
        let _ = std::fs::write(std::path::Path::new(&folder).join(name), bytes);
    }
}

#[test]
fn the_sample_report_reads_in_order_with_every_section() {
    let report = sample_report();
    let started = Instant::now();
    let bytes = typeset(&report);
    let elapsed = started.elapsed();
    assert!(bytes.starts_with(b"%PDF-"), "not a PDF");

    keep_for_people("report-sample.pdf", &bytes);

    let file = write(&bytes);
    let pages = page_count(&file);
    println!(
        "sample report: {pages} pages, {} bytes, typeset in {elapsed:?}",
        bytes.len()
    );
    assert!((5..=20).contains(&pages), "{pages} pages");

    let text = visible_text(&file);
    // The contents page lists every title too, ending with the appendix's "Method": the
    // sections are looked for after it, each after the one before.
    let mut from = text.find("Method").expect("the contents list the method");
    for title in SECTION_TITLES {
        let found = text[from..].find(title).map(|i| i + from);
        assert!(found.is_some(), "section {title:?} missing after {from}");
        from = found.unwrap_or(from);
    }
    assert!(
        text.contains("Before and after"),
        "comparison section missing"
    );
    assert!(text.contains("Decision records"));
    assert!(text.contains("Questionnaire answers"));
    assert!(text.contains("Method"));
    for finding in &report.findings {
        assert!(
            text.contains(&finding.title),
            "finding {:?} missing",
            finding.title
        );
    }

    // The interventions' headings ("I-2 Per-route latency percentiles") in position order.
    let mut last = 0;
    for intervention in &report.interventions {
        let heading = format!("{} {}", intervention.reference, intervention.title);
        let at = text[last..]
            .find(&heading)
            .map(|i| i + last)
            .unwrap_or_else(|| panic!("{heading:?} missing or out of order"));
        last = at + heading.len();
    }

    // Cover facts and Markdown converted (the bullet list of the summary is a list).
    for expected in [
        "Backend architecture audit",
        "Acme Rockets",
        "Launch API",
        "Cora Consultant",
        "Version 1",
        "2026-11-02 to 2026-12-18",
        "Plumb & Partners",
        "nobody can see it",
        "per-route latency percentiles",
        "Contradicted",
        "Waiver expires",
        "0123456789ab",
    ] {
        assert!(text.contains(expected), "{expected:?} missing");
    }
    assert!(!text.contains("**"), "Markdown left unconverted");
}

#[test]
fn every_font_is_embedded() {
    let file = write(&typeset(&sample_report()));
    let fonts = tool("pdffonts", &[], &file.path);
    let rows: Vec<&str> = fonts
        .lines()
        .skip(2)
        .filter(|l| !l.trim().is_empty())
        .collect();
    assert!(!rows.is_empty(), "no fonts listed:\n{fonts}");
    for row in rows {
        // Columns: name, type, encoding, emb, sub, uni, object ID. The name never has spaces.
        let columns: Vec<&str> = row.split_whitespace().collect();
        let emb = columns.iter().rev().nth(4).copied();
        assert_eq!(emb, Some("yes"), "font not embedded: {row}");
    }
}

#[test]
fn the_hostile_report_shows_what_was_typed() {
    let report = hostile_report();
    let bytes = typeset(&report);
    assert!(bytes.starts_with(b"%PDF-"));
    keep_for_people("report-hostile.pdf", &bytes);
    let file = write(&bytes);
    let text = visible_text(&file);
    for expected in [
        "<script>alert('x')</script>",
        "#set page(width: 1cm)",
        "$x^2$ and $$ math",
        "#import \"/etc/passwd\" and #read(\"/etc/passwd\")",
        "<img src=x onerror=alert(1)>",
        "@mention and <label>",
        "// comment /* block */",
        "~ tilde -- dash ---",
    ] {
        assert!(text.contains(expected), "{expected:?} not shown literally");
    }
    // No page took the hostile `#set page(width: 1cm)`: all are A4 (595.276 × 841.89 pt).
    let info = tool("pdfinfo", &["-f", "1", "-l", "999"], &file.path);
    let sizes: Vec<&str> = info
        .lines()
        .filter(|l| l.starts_with("Page") && l.contains(" size:"))
        .collect();
    assert!(!sizes.is_empty());
    assert!(
        sizes.iter().all(|l| l.contains("595.276 x 841.89")),
        "{sizes:?}"
    );
    // The code a user typed reached the Typst source only escaped: every `#` and `$` of it is
    // preceded by a backslash.
    let source = typst_source(&report);
    for typed in ["#set page(width", "#import", "#read", "$x^2"] {
        for (at, _) in source.match_indices(typed) {
            assert!(
                source[..at].ends_with('\\'),
                "{typed:?} unescaped at byte {at}"
            );
        }
    }
    assert!(HOSTILE.iter().any(|s| s.contains("#set page")));
}

#[test]
fn the_same_report_gives_the_same_bytes() {
    let report = sample_report();
    assert_eq!(typeset(&report), typeset(&report));
}

#[test]
fn empty_sections_say_so() {
    let mut report = sample_report();
    report.summary.text = String::new();
    report.findings.clear();
    report.interventions.clear();
    report.roadmap.entries.clear();
    report.decisions.clear();
    report.claims.clear();
    report.probes_ran = false;
    report.comparison = None;
    report.answers.clear();
    report.cover.start_date = None;
    report.cover.due_date = None;
    report.cover.date = "not a date".into();
    report.cover.firm.accent = "red\")#panic(".into();
    let file = write(&typeset(&report));
    let text = visible_text(&file);
    for expected in [
        "No findings were recorded.",
        "No interventions were planned.",
        "No decision records were written.",
        "No probe ran",
        "No executive summary was written",
    ] {
        assert!(text.contains(expected), "{expected:?} missing");
    }
    assert!(!text.contains("Before and after"));
    for title in SECTION_TITLES {
        assert!(text.contains(title), "section {title:?} missing");
    }
}

#[test]
fn a_logo_is_placed_and_a_broken_one_is_left_out() {
    let mut report = sample_report();
    report.cover.firm.logo = Some(audit::reports::LogoRef {
        extension: "svg".into(),
        media_type: "image/svg+xml".into(),
    });
    let logo = br##"<svg xmlns="http://www.w3.org/2000/svg" width="40" height="20"><rect width="40" height="20" fill="#1f4e79"/></svg>"##;
    let with_logo = pdf(&report, Some(logo)).expect("typesets with a logo");
    let without = pdf(&report, None).expect("typesets without");
    assert_ne!(with_logo, without, "the logo changed nothing");

    let broken = pdf(&report, Some(b"not an image")).expect("a broken logo is left out");
    assert!(broken.starts_with(b"%PDF-"));
}

#[test]
fn a_report_of_empty_strings_typesets() {
    let mut report = sample_report();
    let blank = |value: &mut String| value.clear();
    blank(&mut report.cover.client_name);
    blank(&mut report.cover.system_name);
    blank(&mut report.cover.consultant);
    blank(&mut report.cover.firm.name);
    blank(&mut report.cover.version_label);
    blank(&mut report.cover.date);
    for finding in &mut report.findings {
        blank(&mut finding.reference);
        blank(&mut finding.title);
        blank(&mut finding.area);
        blank(&mut finding.description);
    }
    for intervention in &mut report.interventions {
        blank(&mut intervention.reference);
        blank(&mut intervention.title);
        blank(&mut intervention.rationale);
        intervention.effort_weeks = f64::NAN;
        intervention.priority = f64::INFINITY;
    }
    for decision in &mut report.decisions {
        blank(&mut decision.title);
        blank(&mut decision.context);
        blank(&mut decision.deciders);
    }
    for area in &mut report.areas {
        blank(&mut area.title);
    }
    if let Some(comparison) = report.comparison.as_mut() {
        blank(&mut comparison.before);
        blank(&mut comparison.after);
    }
    report.summary.top_interventions = vec![String::new()];
    let bytes = typeset(&report);
    assert!(bytes.starts_with(b"%PDF-"));
}

#[test]
fn the_large_report_typesets_to_about_fifty_pages() {
    let report = large_report();
    let started = Instant::now();
    let bytes = typeset(&report);
    let elapsed = started.elapsed();
    keep_for_people("report-large.pdf", &bytes);
    let file = write(&bytes);
    let pages = page_count(&file);
    println!(
        "large report: {pages} pages, {} bytes, typeset in {elapsed:?}",
        bytes.len()
    );
    assert!((40..=80).contains(&pages), "{pages} pages");
    let text = visible_text(&file);
    for title in SECTION_TITLES {
        assert!(text.contains(title), "section {title:?} missing");
    }
    let last = report.findings.last().expect("findings");
    assert!(text.contains(&last.title), "the last finding is missing");
}

fn cache(entries: usize, bytes: usize) -> Mutex<RenderCache> {
    Mutex::new(RenderCache::new(entries, bytes))
}

async fn through(cache: &Mutex<RenderCache>, report: &Report, format: ReportFormat) -> Vec<u8> {
    render_cached(cache, report.clone(), None, format)
        .await
        .unwrap_or_else(|error| panic!("the report renders: {error}"))
}

#[tokio::test]
async fn the_render_cache_gives_the_same_bytes_for_the_same_report() {
    let cache = cache(8, 64 * 1024 * 1024);
    let report = sample_report();
    let first = through(&cache, &report, ReportFormat::Pdf).await;
    assert!(first.starts_with(b"%PDF-"));
    let again = through(&cache, &report, ReportFormat::Pdf).await;
    assert_eq!(first, again);
    assert_eq!(cache.lock().expect("the cache").len(), 1);

    // What is kept is what is served, without typesetting again.
    let key = RenderKey::new(&report, None, ReportFormat::Pdf);
    cache
        .lock()
        .expect("the cache")
        .insert(key, Arc::new(b"kept".to_vec()));
    assert_eq!(through(&cache, &report, ReportFormat::Pdf).await, b"kept");
}

#[tokio::test]
async fn any_change_to_the_report_renders_it_again() {
    let cache = cache(16, 64 * 1024 * 1024);
    let report = sample_report();
    let base = through(&cache, &report, ReportFormat::Pdf).await;

    let mut dated = report.clone();
    dated.cover.date = "2026-12-03".into();
    let mut retitled = report.clone();
    retitled.findings[0].title = "Latency percentiles are averages".into();
    let mut accented = report.clone();
    accented.cover.firm.accent = "#7a1f1f".into();
    for changed in [&dated, &retitled, &accented] {
        let bytes = through(&cache, changed, ReportFormat::Pdf).await;
        assert_ne!(bytes, base, "a changed report gave the same PDF");
    }
    let markdown = through(&cache, &retitled, ReportFormat::Markdown).await;
    assert!(String::from_utf8_lossy(&markdown).contains("Latency percentiles are averages"));

    // A logo is part of the input too.
    let mut branded = report.clone();
    branded.cover.firm.logo = Some(audit::reports::LogoRef {
        extension: "svg".into(),
        media_type: "image/svg+xml".into(),
    });
    let logo = br##"<svg xmlns="http://www.w3.org/2000/svg" width="40" height="20"><rect width="40" height="20" fill="#1f4e79"/></svg>"##;
    let with_logo = render_cached(
        &cache,
        branded.clone(),
        Some(logo.to_vec()),
        ReportFormat::Pdf,
    )
    .await
    .expect("typesets with a logo");
    let other_logo = logo
        .iter()
        .map(|b| if *b == b'1' { b'2' } else { *b })
        .collect();
    let with_other = render_cached(&cache, branded, Some(other_logo), ReportFormat::Pdf)
        .await
        .expect("typesets with another logo");
    assert_ne!(with_logo, with_other, "another logo gave the same PDF");
}

#[tokio::test]
async fn the_render_cache_stays_within_its_bounds() {
    let budget = 4 * 1024 * 1024;
    let cache = cache(3, budget);
    for day in 1..=6 {
        let mut report = sample_report();
        report.cover.date = format!("2026-12-{day:02}");
        through(&cache, &report, ReportFormat::Html).await;
        let kept = cache.lock().expect("the cache");
        assert!(kept.len() <= 3, "{} entries", kept.len());
        assert!(kept.bytes() <= budget, "{} bytes", kept.bytes());
    }
}
