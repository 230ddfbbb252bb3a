//! The report as a Markdown document (`templates/report.md`).
//!
//! The template owns every heading and table; text from the report reaches it only through
//! [`escaped_report`], a copy of the model in which
//! - single-line fields (names, titles, prompts, evidence lines) are escaped so they stay text
//!   wherever the template puts them: in a table cell, a heading, after a list marker;
//! - Markdown typed by people (summary, descriptions, rationales, decision records, notes) is
//!   parsed and written out again with raw HTML turned into visible text, headings turned into
//!   bold paragraphs (so typed text cannot open a report section) and links other than http(s),
//!   mailto and relative ones reduced to their text.
//!
//! The template is rendered without escaping (askama's HTML escaping means nothing in Markdown),
//! which is why it never sees the model itself.
use askama::Template;
use pulldown_cmark::{CowStr, Event, Options, Parser, Tag, TagEnd};

use super::Wording;
use crate::reports::{
    AnswerGroup, AnswerLine, AreaSection, Branding, ClaimLine, Comparison, ComparisonArea,
    ComparisonChange, Cover, DecisionLine, FindingLine, InterventionLine, LogoRef, Method, Report,
    Roadmap, RoadmapLine, Summary,
};

/// The report as a Markdown document.
pub fn markdown(report: &Report) -> String {
    let escaped = escaped_report(report);
    let template = ReportMarkdown {
        report: &escaped,
        finding_groups: findings_by_area(&escaped.findings),
        method: super::METHOD,
    };
    match template.render() {
        // askama drops the template's final newline; a text file ends with one.
        Ok(text) => format!("{}\n", text.trim_end()),
        // The template is fixed and its data plain, so this does not happen; if it ever does,
        // the reader still gets a document saying so rather than a crash.
        Err(error) => format!(
            "# Backend architecture audit\n\nThe report could not be rendered: {}.\n",
            inline(&error.to_string())
        ),
    }
}

#[derive(Template)]
#[template(path = "report.md", escape = "none")]
struct ReportMarkdown<'a> {
    /// Already escaped: see [`escaped_report`].
    report: &'a Report,
    finding_groups: Vec<FindingGroup<'a>>,
    method: [(&'static str, &'static str); 4],
}

/// The template calls the shared wording helpers as `self.weeks(…)` and so on.
impl Wording for ReportMarkdown<'_> {}

/// Findings of one area, in the report's order.
pub(super) struct FindingGroup<'a> {
    pub(super) area: &'a str,
    pub(super) findings: Vec<&'a FindingLine>,
}

/// Findings grouped by area, areas in order of first appearance (the model sorts findings by
/// area already; grouping by first appearance keeps a hand-pinned order intact too).
pub(super) fn findings_by_area(findings: &[FindingLine]) -> Vec<FindingGroup<'_>> {
    let mut groups: Vec<FindingGroup<'_>> = Vec::new();
    for finding in findings {
        match groups.iter_mut().find(|g| g.area == finding.area) {
            Some(group) => group.findings.push(finding),
            None => groups.push(FindingGroup {
                area: &finding.area,
                findings: vec![finding],
            }),
        }
    }
    groups
}

/// "54 / 100" or "not scored".
pub(super) fn format_score(score: Option<u32>) -> String {
    match score {
        Some(score) => format!("{score} / 100"),
        None => "not scored".into(),
    }
}

/// A priority with two decimals, as the model computes it.
pub(super) fn format_priority(value: f64) -> String {
    if value.is_finite() {
        format!("{value:.2}")
    } else {
        "0.00".into()
    }
}

/// "I-1, I-2", or "none".
pub(super) fn format_list(values: &[String]) -> String {
    if values.is_empty() {
        "none".into()
    } else {
        values.join(", ")
    }
}

/// Escapes a single-line field for any inline position: table cell, heading, list item.
///
/// Line breaks become spaces (a table row is one line). Characters with inline meaning are
/// backslash-escaped; `<`, `>` (and `&` before what could read as a reference) become entities
/// so no tag or reference can form. Characters
/// that only mean something at the start of a line (`-`, `+`, `=`, `1.`) are escaped only there:
/// a field can follow a list marker. `(`, `)`, `.` and `!` elsewhere are left alone: with `[` and
/// `]` escaped they cannot form a link, and the Markdown stays readable.
pub(crate) fn inline(text: &str) -> String {
    let chars: Vec<char> = text
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .collect();
    let mut escaped = String::with_capacity(chars.len() + chars.len() / 8);
    let leading_digits = chars.iter().take_while(|c| c.is_ascii_digit()).count();
    for (index, &c) in chars.iter().enumerate() {
        let before = index.checked_sub(1).and_then(|i| chars.get(i));
        let after = chars.get(index + 1);
        match c {
            // `&` only matters where it could start a reference (`&lt;`, `&#60;`).
            '&' if starts_reference(&chars[index + 1..]) => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            // Inside a word (`log_min_duration`) an underscore never emphasises.
            '_' if before.is_some_and(|b| b.is_alphanumeric())
                && after.is_some_and(|a| a.is_alphanumeric()) =>
            {
                escaped.push(c);
            }
            '\\' | '`' | '*' | '_' | '{' | '}' | '[' | ']' | '#' | '|' | '~' | '$' => {
                escaped.push('\\');
                escaped.push(c);
            }
            '-' | '+' | '=' if index == 0 => {
                escaped.push('\\');
                escaped.push(c);
            }
            '.' | ')' if index > 0 && index == leading_digits => {
                escaped.push('\\');
                escaped.push(c);
            }
            c if c.is_control() => escaped.push(' '),
            c => escaped.push(c),
        }
    }
    escaped
}

/// Whether text after an `&` reads as a character reference: letters or `#` and digits, then `;`.
fn starts_reference(rest: &[char]) -> bool {
    let name = rest
        .iter()
        .take_while(|c| c.is_ascii_alphanumeric() || **c == '#')
        .count();
    name > 0 && rest.get(name) == Some(&';')
}

/// The parser options the typed Markdown is read with (the same as for the web pages).
fn parser_options() -> Options {
    Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH
}

/// Re-emits Markdown typed by people so it is safe to place under the template's headings: raw
/// HTML becomes visible text, headings become bold paragraphs, unsafe links lose their target.
pub(crate) fn body(text: &str) -> String {
    let events = defused_events(text);
    let mut out = String::with_capacity(text.len() + 16);
    match pulldown_cmark_to_cmark::cmark(events.iter(), &mut out, parser_options()) {
        Ok(_) => out.trim().to_string(),
        // The serializer refuses event streams it cannot spell; then the text goes out as
        // escaped plain paragraphs, which loses formatting but nothing else.
        Err(_) => plain_paragraphs(text),
    }
}

/// Every paragraph of `text` as escaped plain text.
fn plain_paragraphs(text: &str) -> String {
    text.split("\n\n")
        .map(inline)
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join("\n\n")
}

/// Links a reader may follow from a report: web, mail and in-document or relative ones.
fn safe_destination(url: &str) -> bool {
    let url = url.trim().to_ascii_lowercase();
    let scheme_end = url.find(':');
    let path_start = url.find(['/', '?', '#']);
    let has_scheme = match (scheme_end, path_start) {
        (Some(colon), Some(path)) => colon < path,
        (Some(_), None) => true,
        (None, _) => false,
    };
    !has_scheme
        || url.starts_with("http://")
        || url.starts_with("https://")
        || url.starts_with("mailto:")
}

/// The typed Markdown's events with HTML, headings and unsafe links defused.
fn defused_events(text: &str) -> Vec<Event<'_>> {
    let mut events: Vec<Event<'_>> = Vec::new();
    // For each open link or image: whether its start was kept (so its end is kept too).
    let mut links: Vec<bool> = Vec::new();
    // Inside an HTML block: the block became a paragraph, its lines joined by soft breaks.
    let mut html_block_lines = 0_usize;
    for event in Parser::new_ext(text, parser_options()) {
        match event {
            Event::Start(Tag::HtmlBlock) => {
                html_block_lines = 0;
                events.push(Event::Start(Tag::Paragraph));
            }
            Event::End(TagEnd::HtmlBlock) => events.push(Event::End(TagEnd::Paragraph)),
            // Raw HTML is written as escaped text; each line of an HTML block stays a line, and
            // `inline` escapes what would start a heading, list or table there.
            Event::Html(html) => {
                for line in html.lines() {
                    if html_block_lines > 0 {
                        events.push(Event::SoftBreak);
                    }
                    html_block_lines += 1;
                    events.push(Event::InlineHtml(CowStr::from(inline(line))));
                }
            }
            Event::InlineHtml(html) => {
                events.push(Event::InlineHtml(CowStr::from(inline(&html))));
            }
            Event::Start(Tag::Heading { .. }) => {
                events.push(Event::Start(Tag::Paragraph));
                events.push(Event::Start(Tag::Strong));
            }
            Event::End(TagEnd::Heading(_)) => {
                // An empty heading would become `****`, which reads as a rule: drop it.
                if matches!(events.last(), Some(Event::Start(Tag::Strong))) {
                    events.pop();
                    events.pop();
                } else {
                    events.push(Event::End(TagEnd::Strong));
                    events.push(Event::End(TagEnd::Paragraph));
                }
            }
            Event::Start(Tag::Link { ref dest_url, .. })
            | Event::Start(Tag::Image { ref dest_url, .. }) => {
                // An unsafe link keeps its text (an autolink's text is its destination).
                let keep = safe_destination(dest_url);
                links.push(keep);
                if keep {
                    events.push(event);
                }
            }
            Event::End(TagEnd::Link) | Event::End(TagEnd::Image) => {
                if links.pop().unwrap_or(false) {
                    events.push(event);
                }
            }
            other => events.push(other),
        }
    }
    events
}

/// The report with every text escaped for Markdown: single-line fields by [`inline`], typed
/// Markdown by [`body`]. Every struct is taken apart field by field, so a field added to the
/// model fails to compile here until someone decides how it is escaped.
fn escaped_report(report: &Report) -> Report {
    let Report {
        cover,
        summary,
        areas,
        claims,
        probes_ran,
        findings,
        interventions,
        roadmap,
        decisions,
        answers,
        comparison,
        method,
    } = report;
    let all = |values: &[String]| values.iter().map(|v| inline(v)).collect::<Vec<_>>();
    let maybe = |value: &Option<String>| value.as_deref().map(inline);

    let Cover {
        client_name,
        system_name,
        start_date,
        due_date,
        consultant,
        firm,
        version_label,
        date,
    } = cover;
    let Branding { name, accent, logo } = firm;
    let cover = Cover {
        client_name: inline(client_name),
        system_name: inline(system_name),
        start_date: maybe(start_date),
        due_date: maybe(due_date),
        consultant: inline(consultant),
        firm: Branding {
            name: inline(name),
            accent: inline(accent),
            logo: logo.as_ref().map(
                |LogoRef {
                     extension,
                     media_type,
                 }| LogoRef {
                    extension: inline(extension),
                    media_type: inline(media_type),
                },
            ),
        },
        version_label: inline(version_label),
        date: inline(date),
    };

    let Summary {
        text,
        overall_score,
        red_flag_count,
        contradiction_count,
        open_finding_count,
        top_interventions,
        total_effort_weeks,
    } = summary;
    let summary = Summary {
        text: body(text),
        overall_score: *overall_score,
        red_flag_count: *red_flag_count,
        contradiction_count: *contradiction_count,
        open_finding_count: *open_finding_count,
        top_interventions: all(top_interventions),
        total_effort_weeks: *total_effort_weeks,
    };

    let areas = areas
        .iter()
        .map(
            |AreaSection {
                 key,
                 title,
                 score,
                 risk,
                 answered,
                 questions,
                 red_flags,
                 open_findings,
             }| AreaSection {
                key: inline(key),
                title: inline(title),
                score: *score,
                risk: inline(risk),
                answered: *answered,
                questions: *questions,
                red_flags: all(red_flags),
                open_findings: *open_findings,
            },
        )
        .collect();

    let claims = claims
        .iter()
        .map(
            |ClaimLine {
                 area,
                 prompt,
                 claimed,
                 observed,
                 verdict,
                 checks,
             }| ClaimLine {
                area: inline(area),
                prompt: inline(prompt),
                claimed: inline(claimed),
                observed: inline(observed),
                verdict: inline(verdict),
                checks: all(checks),
            },
        )
        .collect();

    let findings = findings
        .iter()
        .map(
            |FindingLine {
                 reference,
                 area,
                 severity,
                 title,
                 description,
                 confidence,
                 status,
                 evidence,
             }| FindingLine {
                reference: inline(reference),
                area: inline(area),
                severity: inline(severity),
                title: inline(title),
                description: body(description),
                confidence: inline(confidence),
                status: inline(status),
                evidence: all(evidence),
            },
        )
        .collect();

    let interventions = interventions
        .iter()
        .map(
            |InterventionLine {
                 position,
                 reference,
                 title,
                 impact,
                 expected_effect,
                 effort_weeks,
                 confidence,
                 priority,
                 rationale,
                 depends_on,
                 fixes,
             }| InterventionLine {
                position: *position,
                reference: inline(reference),
                title: inline(title),
                impact: *impact,
                expected_effect: inline(expected_effect),
                effort_weeks: *effort_weeks,
                confidence: inline(confidence),
                priority: *priority,
                rationale: body(rationale),
                depends_on: all(depends_on),
                fixes: all(fixes),
            },
        )
        .collect();

    let Roadmap {
        capacity,
        start,
        end,
        total_weeks,
        entries,
    } = roadmap;
    let roadmap = Roadmap {
        capacity: *capacity,
        start: inline(start),
        end: inline(end),
        total_weeks: *total_weeks,
        entries: entries
            .iter()
            .map(
                |RoadmapLine {
                     reference,
                     title,
                     engineer,
                     start_week,
                     end_week,
                     start_date,
                     end_date,
                 }| RoadmapLine {
                    reference: inline(reference),
                    title: inline(title),
                    engineer: *engineer,
                    start_week: *start_week,
                    end_week: *end_week,
                    start_date: inline(start_date),
                    end_date: inline(end_date),
                },
            )
            .collect(),
    };

    let decisions = decisions
        .iter()
        .map(
            |DecisionLine {
                 reference,
                 title,
                 status,
                 decided_on,
                 deciders,
                 context,
                 options,
                 decision,
                 consequences,
                 expires_on,
             }| DecisionLine {
                reference: inline(reference),
                title: inline(title),
                status: inline(status),
                decided_on: maybe(decided_on),
                deciders: inline(deciders),
                context: body(context),
                options: body(options),
                decision: body(decision),
                consequences: body(consequences),
                expires_on: maybe(expires_on),
            },
        )
        .collect();

    let answers = answers
        .iter()
        .map(|AnswerGroup { area, answers }| AnswerGroup {
            area: inline(area),
            answers: answers
                .iter()
                .map(
                    |AnswerLine {
                         question_id,
                         prompt,
                         choice,
                         notes,
                     }| AnswerLine {
                        question_id: inline(question_id),
                        prompt: inline(prompt),
                        choice: inline(choice),
                        notes: body(notes),
                    },
                )
                .collect(),
        })
        .collect();

    let comparison = comparison.as_ref().map(
        |Comparison {
             before,
             after,
             areas,
             changes,
         }| Comparison {
            before: inline(before),
            after: inline(after),
            areas: areas
                .iter()
                .map(
                    |ComparisonArea {
                         area,
                         before,
                         after,
                     }| ComparisonArea {
                        area: inline(area),
                        before: *before,
                        after: *after,
                    },
                )
                .collect(),
            changes: changes
                .iter()
                .map(
                    |ComparisonChange {
                         area,
                         prompt,
                         before,
                         after,
                         trend,
                     }| ComparisonChange {
                        area: inline(area),
                        prompt: inline(prompt),
                        before: inline(before),
                        after: inline(after),
                        trend: inline(trend),
                    },
                )
                .collect(),
        },
    );

    let Method {
        bank_name,
        bank_version,
        bank_hash,
    } = method;
    let method = Method {
        bank_name: inline(bank_name),
        bank_version: inline(bank_version),
        bank_hash: inline(bank_hash),
    };

    Report {
        cover,
        summary,
        areas,
        claims,
        probes_ran: *probes_ran,
        findings,
        interventions,
        roadmap,
        decisions,
        answers,
        comparison,
        method,
    }
}

/// The heading levels a Markdown text has, for tests.
#[cfg(test)]
fn headings(markdown: &str) -> Vec<String> {
    let mut found = Vec::new();
    for event in Parser::new_ext(markdown, parser_options()) {
        if let Event::Start(Tag::Heading { level, .. }) = event {
            found.push(format!("{level:?}"));
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inline_fields_stay_text() {
        assert_eq!(inline("a | b"), r"a \| b");
        assert_eq!(inline("# title"), r"\# title");
        assert_eq!(inline("- item"), r"\- item");
        assert_eq!(inline("1. first"), r"1\. first");
        assert_eq!(inline("<b>x</b> & y"), "&lt;b&gt;x&lt;/b&gt; & y");
        assert_eq!(inline("&lt; and &#60;"), r"&amp;lt; and &amp;\#60;");
        assert_eq!(inline("log_min _x_"), r"log_min \_x\_");
        assert_eq!(
            inline("[x](javascript:alert(1))"),
            r"\[x\](javascript:alert(1))"
        );
        assert_eq!(inline("two\nlines\r\n  here"), "two lines here");
        assert_eq!(inline("Per-route p95 2.5 s"), "Per-route p95 2.5 s");
    }

    #[test]
    fn raw_html_becomes_visible_text() {
        let out =
            body("<script>alert('x')</script>\n\nand <b>bold</b> <img src=x onerror=alert(1)>");
        assert!(!out.contains('<'), "{out}");
        assert!(out.contains("&lt;script&gt;"), "{out}");
        assert!(out.contains("&lt;b&gt;bold&lt;/b&gt;"), "{out}");
        // Read back, nothing is HTML any more.
        for event in Parser::new_ext(&out, parser_options()) {
            assert!(
                !matches!(event, Event::Html(_) | Event::InlineHtml(_)),
                "{event:?} in {out}"
            );
        }
    }

    #[test]
    fn html_blocks_cannot_smuggle_markdown_structure() {
        let out = body("<div>\n# heading inside html\n[x](javascript:alert(1))\n</div>");
        assert!(headings(&out).is_empty(), "{out}");
        let links = Parser::new_ext(&out, parser_options())
            .filter(|e| matches!(e, Event::Start(Tag::Link { .. })))
            .count();
        assert_eq!(links, 0, "{out}");
        assert!(out.contains("&lt;div&gt;"), "{out}");
    }

    #[test]
    fn typed_headings_become_bold_paragraphs() {
        let out = body("# Findings\n\ntext\n\nSetext\n===\n\n#\n\nend");
        assert!(headings(&out).is_empty(), "{out}");
        assert!(out.contains("**Findings**"), "{out}");
        assert!(out.contains("**Setext**"), "{out}");
        assert!(!out.contains("****"), "{out}");
    }

    #[test]
    fn unsafe_links_keep_only_their_text() {
        let out = body("[bad](javascript:alert(1)) [ok](https://example.com) <javascript:alert(2)> [rel](docs/x.md) ![img](data:image/png;base64,AAAA)");
        assert!(!out.to_ascii_lowercase().contains("](javascript"), "{out}");
        assert!(!out.contains("<javascript"), "{out}");
        assert!(!out.contains("](data:"), "{out}");
        assert!(out.contains("[ok](https://example.com)"), "{out}");
        assert!(out.contains("[rel](docs/x.md)"), "{out}");
        assert!(out.contains("bad"), "{out}");
    }

    #[test]
    fn ordinary_markdown_survives() {
        let text =
            "The system works, but **nobody can see it**.\n\n- one\n- two\n\n`code` and *em*";
        let out = body(text);
        assert!(out.contains("**nobody can see it**"), "{out}");
        assert!(out.contains("* one"), "{out}");
        assert!(out.contains("`code`"), "{out}");
    }

    #[test]
    fn destinations() {
        assert!(safe_destination("https://x"));
        assert!(safe_destination("relative/path:with-colon"));
        assert!(safe_destination("#anchor"));
        assert!(safe_destination("mailto:a@b"));
        assert!(!safe_destination(" JavaScript:alert(1)"));
        assert!(!safe_destination("data:text/html,x"));
        assert!(!safe_destination("vbscript:x"));
    }
}
