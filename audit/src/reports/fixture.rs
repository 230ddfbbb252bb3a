//! A fixed report for renderer tests: a small engagement with every section filled, and a
//! hostile variant whose every typed field carries markup, script and odd scripts.
use super::model::*;

/// Strings a user could type that must come out as text in every output.
pub const HOSTILE: &[&str] = &[
    "# not a heading",
    "$x^2$ and $$ math",
    r"back\slash \\ and \n",
    "*stars* and **bold** and _under_ scores_",
    "<b>raw html</b> & <i>ampersand</i>",
    "<script>alert('x')</script>",
    "<img src=x onerror=alert(1)>",
    "@mention and <label>",
    "brackets ] [ and braces { } and #set page(width: 1cm)",
    "`tick` and ```fence",
    "#import \"/etc/passwd\" and #read(\"/etc/passwd\")",
    "Supercalifragilisticexpialidocious_Supercalifragilisticexpialidocious_Supercalifragilisticexpialidocious_Supercalifragilisticexpialidocious",
    "שלום עולם — right to left",
    "emoji 🚀🔥 and ∑ ≠ ≤",
    "// comment /* block */ and https://example.com/x?y=1",
    "~ tilde -- dash --- and 'quotes' \"double\" ... = heading? + list? - list? 1. list?",
    "[link](javascript:alert(1)) and [ok](https://example.com)",
];

/// A small, complete report: five areas, two contradictions, four findings, three
/// interventions on a roadmap, two decision records, answers and a milestone comparison.
pub fn sample_report() -> Report {
    let area =
        |key: &str, title: &str, score: Option<u32>, risk: &str, flags: Vec<&str>| AreaSection {
            key: key.into(),
            title: title.into(),
            score,
            risk: risk.into(),
            answered: 11,
            questions: 12,
            red_flags: flags.into_iter().map(String::from).collect(),
            open_findings: 1,
        };
    Report {
        cover: Cover {
            client_name: "Acme Rockets".into(),
            system_name: "Launch API".into(),
            start_date: Some("2026-11-02".into()),
            due_date: Some("2026-12-18".into()),
            consultant: "Cora Consultant".into(),
            firm: Branding {
                name: "Plumb & Partners".into(),
                accent: "#1f4e79".into(),
                logo: None,
            },
            version_label: "Version 1".into(),
            date: "2026-12-02".into(),
        },
        summary: Summary {
            text: "The system works, but **nobody can see it**. Three changes buy most of the risk back:\n\n- per-route latency percentiles\n- indexes that match the filters\n- a queue for PDF generation".into(),
            overall_score: Some(54),
            red_flag_count: 2,
            contradiction_count: 1,
            open_finding_count: 3,
            top_interventions: vec![
                "I-2 Per-route latency percentiles".into(),
                "I-1 Index the foreign keys".into(),
                "I-3 Move PDF rendering to a queue".into(),
            ],
            total_effort_weeks: 5.5,
        },
        areas: vec![
            area("observability", "Observability", Some(35), "High", vec!["Do you track p50/p95/p99 latency per endpoint?"]),
            area("database", "Database", Some(48), "High", vec!["Do your indexes match the filters and joins of your queries?"]),
            area("caching-queues", "Caching & queues", Some(62), "Medium", vec![]),
            area("deployment-infrastructure", "Deployment & infrastructure", Some(71), "Medium", vec![]),
            area("people", "People", None, "Not scored", vec![]),
        ],
        claims: vec![
            ClaimLine {
                area: "Database".into(),
                prompt: "Do your indexes match the filters and joins of your queries?".into(),
                claimed: "Yes".into(),
                observed: "fail".into(),
                verdict: "Contradicted".into(),
                checks: vec!["pg.unindexed-foreign-keys (fail): 12 foreign keys without an index".into()],
            },
            ClaimLine {
                area: "Observability".into(),
                prompt: "Is there a slow query log at 200 ms or less?".into(),
                claimed: "No".into(),
                observed: "pass".into(),
                verdict: "Better than claimed".into(),
                checks: vec!["pg.slow-query-log (pass): log_min_duration_statement = 150 ms".into()],
            },
        ],
        probes_ran: true,
        findings: vec![
            FindingLine {
                reference: "F-2".into(),
                area: "Observability".into(),
                severity: "Critical".into(),
                title: "No latency percentiles per route".into(),
                description: "Only averages are collected. A p99 of *seconds* hides behind a mean of 80 ms.".into(),
                confidence: "High".into(),
                status: "Open".into(),
                evidence: vec!["Answer: Answered No by Fay Founder (founder)".into()],
            },
            FindingLine {
                reference: "F-1".into(),
                area: "Database".into(),
                severity: "High".into(),
                title: "Foreign keys without an index".into(),
                description: "Twelve foreign keys have no index; joins on `orders.customer_id` scan the table.".into(),
                confidence: "High".into(),
                status: "Open".into(),
                evidence: vec!["Probe: pg.unindexed-foreign-keys, run 4".into()],
            },
            FindingLine {
                reference: "F-3".into(),
                area: "Caching & queues".into(),
                severity: "Medium".into(),
                title: "PDFs rendered inside the request".into(),
                description: "Invoice PDFs take 2–4 s inside the checkout request.".into(),
                confidence: "Medium".into(),
                status: "Open".into(),
                evidence: vec![],
            },
            FindingLine {
                reference: "F-4".into(),
                area: "People".into(),
                severity: "Low".into(),
                title: "No written review checklist".into(),
                description: "Reviews depend on who reviews.".into(),
                confidence: "Low".into(),
                status: "Accepted risk".into(),
                evidence: vec![],
            },
        ],
        interventions: vec![
            InterventionLine {
                position: 1,
                reference: "I-2".into(),
                title: "Per-route latency percentiles".into(),
                impact: 5,
                expected_effect: "p99 visible per route".into(),
                effort_weeks: 1.0,
                confidence: "High".into(),
                priority: 5.0,
                rationale: "You cannot fix what you cannot see.".into(),
                depends_on: vec![],
                fixes: vec!["F-2".into()],
            },
            InterventionLine {
                position: 2,
                reference: "I-1".into(),
                title: "Index the foreign keys".into(),
                impact: 4,
                expected_effect: "p95 −40 %".into(),
                effort_weeks: 1.5,
                confidence: "High".into(),
                priority: 2.67,
                rationale: "Twelve indexes, created concurrently.".into(),
                depends_on: vec!["I-2".into()],
                fixes: vec!["F-1".into()],
            },
            InterventionLine {
                position: 3,
                reference: "I-3".into(),
                title: "Move PDF rendering to a queue".into(),
                impact: 3,
                expected_effect: String::new(),
                effort_weeks: 3.0,
                confidence: "Medium".into(),
                priority: 0.75,
                rationale: "Checkout stops waiting for PDFs.".into(),
                depends_on: vec![],
                fixes: vec!["F-3".into()],
            },
        ],
        roadmap: Roadmap {
            capacity: 2,
            start: "2027-01-04".into(),
            end: "2027-01-31".into(),
            total_weeks: 4.0,
            entries: vec![
                RoadmapLine { reference: "I-2".into(), title: "Per-route latency percentiles".into(), engineer: 1, start_week: 0.0, end_week: 1.0, start_date: "2027-01-04".into(), end_date: "2027-01-10".into() },
                RoadmapLine { reference: "I-3".into(), title: "Move PDF rendering to a queue".into(), engineer: 2, start_week: 0.0, end_week: 3.0, start_date: "2027-01-04".into(), end_date: "2027-01-24".into() },
                RoadmapLine { reference: "I-1".into(), title: "Index the foreign keys".into(), engineer: 1, start_week: 1.0, end_week: 2.5, start_date: "2027-01-11".into(), end_date: "2027-01-21".into() },
            ],
        },
        decisions: vec![
            DecisionLine {
                reference: "ADR-0001".into(),
                title: "Use PostgreSQL for everything".into(),
                status: "Accepted".into(),
                decided_on: Some("2026-11-20".into()),
                deciders: "Fay Founder, Cora Consultant".into(),
                context: "Two databases drift.".into(),
                options: "- PostgreSQL\n- PostgreSQL and MongoDB".into(),
                decision: "PostgreSQL only.".into(),
                consequences: "One backup, one set of migrations.".into(),
                expires_on: None,
            },
            DecisionLine {
                reference: "ADR-0002".into(),
                title: "Accept the missing review checklist until March".into(),
                status: "Accepted".into(),
                decided_on: Some("2026-11-25".into()),
                deciders: "Fay Founder".into(),
                context: "The team is two people.".into(),
                options: String::new(),
                decision: "Waive F-4 until the third hire.".into(),
                consequences: "Revisit in March.".into(),
                expires_on: Some("2027-03-01".into()),
            },
        ],
        answers: vec![AnswerGroup {
            area: "Observability".into(),
            answers: vec![
                AnswerLine { question_id: "obs-latency-percentiles".into(), prompt: "Do you track p50/p95/p99 latency per endpoint?".into(), choice: "No".into(), notes: "We have *averages* in Grafana.".into() },
                AnswerLine { question_id: "obs-slow-query-log".into(), prompt: "Is there a slow query log at 200 ms or less?".into(), choice: "Not answered".into(), notes: String::new() },
            ],
        }],
        comparison: Some(Comparison {
            before: "Kick-off".into(),
            after: "Re-audit".into(),
            areas: vec![
                ComparisonArea { area: "Observability".into(), before: Some(20), after: Some(35) },
                ComparisonArea { area: "Database".into(), before: Some(48), after: Some(48) },
            ],
            changes: vec![ComparisonChange {
                area: "Observability".into(),
                prompt: "Are errors on a dashboard?".into(),
                before: "No".into(),
                after: "Yes".into(),
                trend: "better".into(),
            }],
        }),
        method: Method {
            bank_name: "Plumbline built-in bank".into(),
            bank_version: "built-in".into(),
            bank_hash: "0123456789ab".into(),
        },
    }
}

/// The sample report with a hostile string in every field a person types.
pub fn hostile_report() -> Report {
    let mut report = sample_report();
    let all = HOSTILE.join("\n\n");
    let one = HOSTILE.join(" ");
    report.cover.client_name = one.clone();
    report.cover.system_name = HOSTILE[5].into();
    report.cover.consultant = HOSTILE[3].into();
    report.cover.firm.name = HOSTILE[4].into();
    report.summary.text = all.clone();
    report.summary.top_interventions = vec![one.clone()];
    for f in &mut report.findings {
        f.title = one.clone();
        f.description = all.clone();
        f.evidence = vec![one.clone()];
    }
    for i in &mut report.interventions {
        i.title = one.clone();
        i.rationale = all.clone();
        i.expected_effect = HOSTILE[1].into();
    }
    for r in &mut report.roadmap.entries {
        r.title = one.clone();
    }
    for d in &mut report.decisions {
        d.title = one.clone();
        d.context = all.clone();
        d.options = all.clone();
        d.decision = all.clone();
        d.consequences = all.clone();
        d.deciders = one.clone();
    }
    for c in &mut report.claims {
        c.prompt = one.clone();
        c.checks = vec![one.clone()];
    }
    for g in &mut report.answers {
        for a in &mut g.answers {
            a.notes = all.clone();
        }
    }
    report
}

/// A large report, deterministic, for measuring the renderers (about 50 PDF pages): all five
/// areas, 60 findings with several paragraphs each, 25 interventions with dependencies laid on a
/// three-engineer roadmap by the real planner, 30 decision records, 60 answers with notes, claims
/// and a before/after comparison.
pub fn large_report() -> Report {
    use crate::interventions::{computed_order, schedule, PlanItem};

    const AREAS: [(&str, &str); 5] = [
        ("observability", "Observability"),
        ("database", "Database"),
        ("caching-queues", "Caching & queues"),
        ("deployment-infrastructure", "Deployment & infrastructure"),
        ("people", "People layer"),
    ];
    const SEVERITIES: [&str; 4] = ["Critical", "High", "Medium", "Low"];
    const CONFIDENCES: [&str; 3] = ["High", "Medium", "Low"];
    const SUBJECTS: [&str; 12] = [
        "the checkout service",
        "the orders table",
        "the nightly export",
        "the session store",
        "the search index",
        "the invoice worker",
        "the public API gateway",
        "the billing reconciliation job",
        "the mobile sync endpoint",
        "the admin dashboard",
        "the webhook dispatcher",
        "the image pipeline",
    ];
    let subject = |n: usize| SUBJECTS[n % SUBJECTS.len()];
    let paragraphs = |n: usize, what: &str| {
        format!(
            "We looked at {what} in {s} over the two weeks of the engagement. Under the load of a \
             normal Tuesday it holds, but the p99 latency climbs to **{ms} ms** during the hourly \
             batch, and nothing alerts on it: the dashboards show averages only, and the average \
             stays below 120 ms while one request in a hundred waits for seconds.\n\n\
             The cause is structural rather than a bug. Every request to {s} takes a connection \
             from a pool of {pool}, and the batch holds {held} of them for the length of a \
             `SELECT … FOR UPDATE` over the whole day's rows. Requests queue for a connection; \
             the queue is invisible because the pool's wait time is not measured.\n\n\
             - The pool's wait time is not exported as a metric.\n\
             - The batch runs in one transaction instead of in pages of a few thousand rows.\n\
             - Retries in the client double the load exactly when it is highest.\n\n\
             Fixing it does not need a new system. Measure the wait, page the batch, and give \
             the client a retry budget; the effect should be visible within a day of the change.",
            s = subject(n),
            ms = 800 + (n * 137) % 2400,
            pool = 10 + n % 20,
            held = 4 + n % 6,
        )
    };

    let areas = AREAS
        .iter()
        .enumerate()
        .map(|(index, (key, title))| AreaSection {
            key: (*key).into(),
            title: (*title).into(),
            score: Some([35, 48, 62, 71, 58][index]),
            risk: ["High", "High", "Medium", "Medium", "Medium"][index].into(),
            answered: 11 + index % 2,
            questions: 12,
            red_flags: (0..index % 3)
                .map(|n| format!("Red flag {} of {title}: answered No", n + 1))
                .collect(),
            open_findings: 10,
        })
        .collect();

    let findings: Vec<FindingLine> = (0..60)
        .map(|n| {
            let area = AREAS[n * AREAS.len() / 60].1;
            FindingLine {
                reference: format!("F-{}", n + 1),
                area: area.into(),
                severity: SEVERITIES[(n / 3) % SEVERITIES.len()].into(),
                title: format!(
                    "{} has no guard against slow dependencies (case {})",
                    subject(n),
                    n + 1
                ),
                description: paragraphs(n, "how requests wait"),
                confidence: CONFIDENCES[n % CONFIDENCES.len()].into(),
                status: if n % 7 == 6 { "Accepted risk" } else { "Open" }.into(),
                evidence: (0..1 + n % 3)
                    .map(|e| match e {
                        0 => format!(
                            "Answer: Answered No by Fay Founder (founder) on question {}",
                            n + 1
                        ),
                        1 => format!("Probe: pg.lock-waits, run {}", n + 4),
                        _ => format!("Link: https://grafana.example.com/d/latency?panel={n}"),
                    })
                    .collect(),
            }
        })
        .collect();

    // 25 interventions; from the fifth on, each depends on one or two earlier ones.
    let plan: Vec<PlanItem> = (0..25_i64)
        .map(|n| PlanItem {
            id: n + 1,
            impact: 1 + (n as u32 * 3) % 5,
            confidence: [1.0, 0.8, 0.5][(n % 3) as usize],
            effort_weeks: 0.5 + (n % 6) as f64 * 0.75,
            depends_on: match n {
                0..=3 => vec![],
                _ if n % 3 == 0 => vec![n - 3, n - 4],
                _ => vec![n - 2],
            },
        })
        .collect();
    let order = computed_order(&plan).unwrap_or_else(|_| plan.iter().map(|p| p.id).collect());
    let capacity = 3;
    let laid = schedule(&order, &plan, capacity);
    let title = |id: i64| {
        format!(
            "Make {} observable and bounded (step {id})",
            subject(id as usize)
        )
    };
    let reference = |id: i64| format!("I-{id}");
    let interventions: Vec<InterventionLine> = order
        .iter()
        .enumerate()
        .filter_map(|(index, id)| {
            let item = plan.iter().find(|p| p.id == *id)?;
            Some(InterventionLine {
                position: index + 1,
                reference: reference(*id),
                title: title(*id),
                impact: item.impact,
                expected_effect: format!("p99 of {} −{} %", subject(*id as usize), 10 + id * 3),
                effort_weeks: item.effort_weeks,
                confidence: CONFIDENCES[(*id as usize + 2) % 3].into(),
                priority: (crate::interventions::priority(
                    item.impact,
                    item.confidence,
                    item.effort_weeks,
                ) * 100.0)
                    .round()
                    / 100.0,
                rationale: paragraphs(*id as usize, "what this change buys"),
                depends_on: item.depends_on.iter().map(|d| reference(*d)).collect(),
                fixes: (0..2)
                    .map(|k| format!("F-{}", (*id * 2 + k) % 60 + 1))
                    .collect(),
            })
        })
        .collect();

    let start = time::macros::date!(2027 - 01 - 04);
    let day = |weeks: f64| {
        let date = start + time::Duration::days((weeks * 7.0).round() as i64);
        format!(
            "{}-{:02}-{:02}",
            date.year(),
            u8::from(date.month()),
            date.day()
        )
    };
    let roadmap = Roadmap {
        capacity,
        start: day(0.0),
        end: day(laid.total_weeks),
        total_weeks: laid.total_weeks,
        entries: laid
            .slots
            .iter()
            .map(|slot| RoadmapLine {
                reference: reference(slot.id),
                title: title(slot.id),
                engineer: slot.engineer,
                start_week: slot.start_week,
                end_week: slot.end_week,
                start_date: day(slot.start_week),
                end_date: day(slot.end_week),
            })
            .collect(),
    };

    let decisions = (0..30)
        .map(|n| DecisionLine {
            reference: format!("ADR-{:04}", n + 1),
            title: format!("Keep {} on one database (record {})", subject(n), n + 1),
            status: if n % 5 == 4 {
                format!("Superseded by ADR-{:04}", n + 2)
            } else {
                "Accepted".into()
            },
            decided_on: Some(format!("2026-11-{:02}", 1 + n % 28)),
            deciders: "Fay Founder, Cora Consultant".into(),
            context: format!(
                "{s} grew from one table to forty in two years. Two stores drift, and every \
                 incident of the last quarter began where they disagree.\n\nThe team is four \
                 engineers; nobody owns the second store.",
                s = subject(n)
            ),
            options:
                "- Keep both stores and reconcile nightly\n- Move everything to PostgreSQL\n- \
                      Move everything to the document store"
                    .into(),
            decision: "Move everything to PostgreSQL, one table at a time, behind the existing \
                       repository interface."
                .into(),
            consequences: "One backup, one set of migrations, one place to look. The migration \
                           takes a quarter of one engineer's time for two months."
                .into(),
            expires_on: (n % 6 == 5).then(|| "2027-06-30".to_owned()),
        })
        .collect();

    let choices = [
        "Yes",
        "Partly",
        "No",
        "Don't know",
        "Not applicable",
        "Not answered",
    ];
    let answers = AREAS
        .iter()
        .map(|(key, title)| AnswerGroup {
            area: (*title).into(),
            answers: (0..12)
                .map(|n| AnswerLine {
                    question_id: format!("{key}-q{:02}", n + 1),
                    prompt: format!(
                        "Does {} have a written limit and an alert when it is reached?",
                        subject(n)
                    ),
                    choice: choices[n % choices.len()].into(),
                    notes: if n % 2 == 0 {
                        format!(
                            "We measure *averages* for {}; the limit is in a wiki page from 2024.",
                            subject(n)
                        )
                    } else {
                        String::new()
                    },
                })
                .collect(),
        })
        .collect();

    let claims = (0..8)
        .map(|n| ClaimLine {
            area: AREAS[n % AREAS.len()].1.into(),
            prompt: format!("Is {} covered by an index for every filter?", subject(n)),
            claimed: "Yes".into(),
            observed: if n % 3 == 2 { "pass" } else { "fail" }.into(),
            verdict: if n % 3 == 2 {
                "Better than claimed"
            } else {
                "Contradicted"
            }
            .into(),
            checks: vec![format!(
                "pg.unindexed-foreign-keys (fail): {} foreign keys without an index",
                n + 3
            )],
        })
        .collect();

    let mut report = sample_report();
    report.summary.text = format!(
        "{}\n\n{}",
        report.summary.text,
        paragraphs(0, "the whole system")
    );
    report.summary.overall_score = Some(55);
    report.summary.red_flag_count = 3;
    report.summary.contradiction_count = 5;
    report.summary.open_finding_count = findings.iter().filter(|f| f.status == "Open").count();
    report.summary.top_interventions = interventions
        .iter()
        .take(3)
        .map(|i| format!("{} {}", i.reference, i.title))
        .collect();
    report.summary.total_effort_weeks = interventions.iter().map(|i| i.effort_weeks).sum();
    report.areas = areas;
    report.claims = claims;
    report.findings = findings;
    report.interventions = interventions;
    report.roadmap = roadmap;
    report.decisions = decisions;
    report.answers = answers;
    report
}
