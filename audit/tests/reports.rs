//! The report on the backend `TEST_DATABASE_URL` selects: the model gathered from a real
//! engagement (findings by area and severity, interventions in their order, decisions, answers,
//! milestones), the Markdown snapshot with ids and dates redacted, issuing frozen versions through
//! the render job, digests, sharing, branding, and another firm refused.
mod common;

use audit::accounts::Member;
use audit::db::Db;
use audit::decisions::{self, DecisionInput};
use audit::engagements::{self, EngagementInput, Founder};
use audit::findings::{self, FindingInput};
use audit::interventions::{self, InterventionInput};
use audit::questionnaire::{self, AnswerInput, Respondent};
use audit::reports::{self, ReportDraftInput, ReportFormat, VersionStatus};
use audit::Error;

use common::{owner, with_db};

async fn engagement(db: &Db, member: &Member) -> i64 {
    let fields = EngagementInput {
        client_name: Some("Acme Rockets".to_owned()),
        system_name: Some("Launch API".to_owned()),
        founders: Some(vec![Founder {
            name: "Fay Founder".to_owned(),
            email: "fay@acme.test".to_owned(),
        }]),
        ..Default::default()
    }
    .parse()
    .expect("valid engagement fields");
    engagements::create(db, member, &fields)
        .await
        .expect("an engagement")
        .engagement_id
}

async fn finding(
    db: &Db,
    member: &Member,
    id: i64,
    area: &str,
    severity: &str,
    title: &str,
) -> i64 {
    let input = FindingInput {
        area: area.to_owned(),
        severity: severity.to_owned(),
        title: title.to_owned(),
        description: format!("About *{title}*."),
        confidence: "high".to_owned(),
        ..Default::default()
    };
    findings::create_finding(db, member, id, &input)
        .await
        .expect("a finding")
        .finding_id
}

async fn intervention(
    db: &Db,
    member: &Member,
    id: i64,
    title: &str,
    impact: &str,
    effort: &str,
) -> i64 {
    let input = InterventionInput {
        title: title.to_owned(),
        impact: impact.to_owned(),
        effort_weeks: effort.to_owned(),
        confidence: "high".to_owned(),
        ..Default::default()
    };
    interventions::create_intervention(db, member, id, &input)
        .await
        .expect("an intervention")
        .intervention_id
}

/// A small engagement with every section of the report filled.
async fn filled(db: &Db, member: &Member) -> i64 {
    let id = engagement(db, member).await;
    let who = Respondent::Member(member.clone());
    let bank = questionnaire::questionnaire(db, &who, id)
        .await
        .expect("the questionnaire");
    let first = bank.bank.areas[0].questions[0].id.clone();
    questionnaire::save_answer(
        db,
        &who,
        id,
        &AnswerInput {
            question_id: first,
            choice: "no".to_owned(),
            notes: "We have *averages* only.".to_owned(),
            version: 0,
            ..Default::default()
        },
    )
    .await
    .expect("an answer");
    finding(db, member, id, "people", "low", "No review checklist").await;
    finding(
        db,
        member,
        id,
        "database",
        "high",
        "Foreign keys without an index",
    )
    .await;
    finding(
        db,
        member,
        id,
        "observability",
        "critical",
        "No latency percentiles",
    )
    .await;
    intervention(db, member, id, "Move PDFs to a queue", "3", "3").await;
    intervention(db, member, id, "Per-route percentiles", "5", "1").await;
    let input = DecisionInput {
        title: "Use PostgreSQL for everything".to_owned(),
        status: "accepted".to_owned(),
        context: "Two databases drift.".to_owned(),
        decision: "PostgreSQL only.".to_owned(),
        ..Default::default()
    };
    decisions::create_decision(db, member, id, &input)
        .await
        .expect("a decision record");
    id
}

fn draft_input(summary: &str, capacity: &str, start: &str, version: i64) -> ReportDraftInput {
    ReportDraftInput {
        summary: summary.to_owned(),
        roadmap_capacity: capacity.to_owned(),
        roadmap_start: start.to_owned(),
        version,
    }
}

#[tokio::test]
async fn the_model_orders_findings_and_interventions_and_fills_every_section() {
    with_db(|db| async move {
        let member = owner(&db).await;
        let id = filled(&db, &member).await;
        reports::save_draft(
            &db,
            &member,
            id,
            &draft_input("The **summary**.", "2", "2027-01-04", 0),
        )
        .await
        .expect("the draft saves");
        let (report, logo) = reports::draft_report(&db, &member, id)
            .await
            .expect("the model");
        assert!(logo.is_none());
        assert_eq!(report.cover.client_name, "Acme Rockets");
        assert_eq!(report.cover.version_label, "Draft");
        assert_eq!(report.summary.text, "The **summary**.");
        assert_eq!(report.areas.len(), 5);
        // Findings by area in bank order, then severity.
        let titles: Vec<&str> = report.findings.iter().map(|f| f.title.as_str()).collect();
        assert_eq!(
            titles,
            [
                "No latency percentiles",
                "Foreign keys without an index",
                "No review checklist"
            ]
        );
        // Interventions by priority: 5 × 1.0 ÷ 1 before 3 × 1.0 ÷ 3.
        let order: Vec<&str> = report
            .interventions
            .iter()
            .map(|i| i.title.as_str())
            .collect();
        assert_eq!(order, ["Per-route percentiles", "Move PDFs to a queue"]);
        assert_eq!(report.interventions[0].position, 1);
        assert_eq!(report.summary.top_interventions.len(), 2);
        assert_eq!(report.roadmap.start, "2027-01-04");
        assert_eq!(report.roadmap.capacity, 2);
        assert_eq!(report.roadmap.entries.len(), 2);
        assert_eq!(report.decisions.len(), 1);
        assert_eq!(report.decisions[0].reference, "ADR-0001");
        assert!(!report.probes_ran, "no probe has run");
        let answered = report.answers[0]
            .answers
            .iter()
            .find(|a| a.choice == "No")
            .expect("the answered question");
        assert_eq!(answered.notes, "We have *averages* only.");
        assert!(report.comparison.is_none(), "no milestones yet");

        // Two milestones bring the before/after section.
        questionnaire::create_milestone(&db, &member, id, "Kick-off")
            .await
            .expect("a milestone");
        questionnaire::create_milestone(&db, &member, id, "Re-audit")
            .await
            .expect("a milestone");
        let (report, _) = reports::draft_report(&db, &member, id)
            .await
            .expect("the model");
        let comparison = report.comparison.expect("a comparison");
        assert_eq!(
            (comparison.before.as_str(), comparison.after.as_str()),
            ("Kick-off", "Re-audit")
        );
    })
    .await;
}

/// Ids and dates vary per run; everything else of the Markdown is pinned.
fn redacted(markdown: &str) -> String {
    let mut out = String::with_capacity(markdown.len());
    let chars: Vec<char> = markdown.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let is_date = i + 10 <= chars.len()
            && chars[i..i + 10].iter().enumerate().all(|(k, c)| {
                if k == 4 || k == 7 {
                    *c == '-'
                } else {
                    c.is_ascii_digit()
                }
            });
        if is_date {
            out.push_str("[date]");
            i += 10;
        } else {
            out.push(chars[i]);
            i += 1;
        }
    }
    out.lines()
        .map(|line| {
            if line.contains("Plumbline built-in") || line.to_lowercase().contains("hash") {
                "[bank line]".to_owned()
            } else {
                line.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[tokio::test]
async fn the_markdown_of_a_real_engagement_matches_its_snapshot() {
    with_db(|db| async move {
        let member = owner(&db).await;
        let id = filled(&db, &member).await;
        reports::save_draft(
            &db,
            &member,
            id,
            &draft_input("The **summary**.", "1", "2027-01-04", 0),
        )
        .await
        .expect("the draft saves");
        let markdown = reports::render_draft(&db, &member, id, ReportFormat::Markdown)
            .await
            .expect("the Markdown");
        let markdown = String::from_utf8(markdown).expect("UTF-8");
        let markdown = redacted(&markdown.replace(&member.firm_name, "[firm]"));
        insta::assert_snapshot!("engagement_report_markdown", markdown);
    })
    .await;
}

#[tokio::test]
async fn a_draft_rendered_again_is_the_same_until_the_engagement_changes() {
    with_db(|db| async move {
        let member = owner(&db).await;
        let id = filled(&db, &member).await;
        let html = |db: Db, member: Member| async move {
            let bytes = reports::render_draft(&db, &member, id, ReportFormat::Html)
                .await
                .expect("the HTML");
            String::from_utf8(bytes).expect("UTF-8")
        };
        let first = html(db.clone(), member.clone()).await;
        assert_eq!(html(db.clone(), member.clone()).await, first);

        // A finding renamed: the draft is rendered again with the new title.
        let renamed = finding(
            &db,
            &member,
            id,
            "database",
            "medium",
            "Queries without a limit",
        )
        .await;
        let with_new = html(db.clone(), member.clone()).await;
        assert_ne!(with_new, first);
        let input = FindingInput {
            area: "database".to_owned(),
            severity: "medium".to_owned(),
            title: "Queries without a row limit".to_owned(),
            confidence: "high".to_owned(),
            version: 1,
            ..Default::default()
        };
        findings::update_finding(&db, &member, id, renamed, &input)
            .await
            .expect("the finding is renamed");
        let after = html(db.clone(), member.clone()).await;
        assert!(after.contains("Queries without a row limit"));
        assert!(!after.contains("Queries without a limit"));
    })
    .await;
}

#[tokio::test]
async fn bad_draft_input_is_named_and_stale_edits_refused() {
    with_db(|db| async move {
        let member = owner(&db).await;
        let id = engagement(&db, &member).await;
        for (input, field) in [
            (draft_input("", "0", "", 0), "roadmap_capacity"),
            (draft_input("", "x", "", 0), "roadmap_capacity"),
            (draft_input("", "2", "04/01/2027", 0), "roadmap_start"),
            (draft_input(&"x".repeat(20_001), "2", "", 0), "summary"),
        ] {
            match reports::save_draft(&db, &member, id, &input).await {
                Err(Error::Invalid(problems)) => assert_eq!(problems[0].field, field),
                other => panic!("expected {field} refused, got {other:?}"),
            }
        }
        let saved = reports::save_draft(&db, &member, id, &draft_input("One.", "2", "", 0))
            .await
            .expect("saves");
        assert_eq!(saved.version, 1);
        let stale = reports::save_draft(&db, &member, id, &draft_input("Two.", "2", "", 0)).await;
        assert!(matches!(stale, Err(Error::Conflict { .. })), "{stale:?}");
        assert_eq!(
            reports::draft(&db, &member, id)
                .await
                .expect("draft")
                .summary,
            "One."
        );

        // Another firm's member reads nothing and writes nothing.
        let stranger = owner(&db).await;
        assert!(matches!(
            reports::draft(&db, &stranger, id).await,
            Err(Error::NotFound)
        ));
        assert!(matches!(
            reports::save_draft(&db, &stranger, id, &draft_input("x", "2", "", 1)).await,
            Err(Error::NotFound)
        ));
        assert!(matches!(
            reports::issue(&db, &stranger, id).await,
            Err(Error::NotFound)
        ));
        assert!(matches!(
            reports::list_versions(&db, stranger.firm_id, id, None, 25).await,
            Err(Error::NotFound)
        ));
    })
    .await;
}

#[tokio::test]
async fn issued_versions_render_through_the_job_and_stay_as_issued() {
    with_db(|db| async move {
        let member = owner(&db).await;
        let id = filled(&db, &member).await;
        let v1 = reports::issue(&db, &member, id)
            .await
            .expect("v1 is issued");
        assert_eq!((v1.number, v1.status), (1, VersionStatus::Rendering));
        assert!(matches!(
            reports::version_file(&db, member.firm_id, id, 1, ReportFormat::Pdf).await,
            Err(Error::Conflict { .. })
        ));
        run_render_jobs(&db).await;
        let v1 = reports::get_version(&db, member.firm_id, id, 1)
            .await
            .expect("v1");
        assert_eq!(v1.status, VersionStatus::Issued, "{v1:?}");
        let (pdf, sha) = reports::version_file(&db, member.firm_id, id, 1, ReportFormat::Pdf)
            .await
            .expect("the PDF");
        assert!(pdf.starts_with(b"%PDF-"));
        assert_eq!(sha, reports::sha256_hex(&pdf));
        let (md1, _) = reports::version_file(&db, member.firm_id, id, 1, ReportFormat::Markdown)
            .await
            .expect("the Markdown");

        // The engagement changes; v1 does not.
        finding(
            &db,
            &member,
            id,
            "database",
            "medium",
            "A finding added after v1",
        )
        .await;
        let v2 = reports::issue(&db, &member, id).await.expect("v2");
        assert_eq!(v2.number, 2);
        run_render_jobs(&db).await;
        let (md1_again, _) =
            reports::version_file(&db, member.firm_id, id, 1, ReportFormat::Markdown)
                .await
                .expect("v1's Markdown");
        assert_eq!(md1, md1_again);
        assert!(!String::from_utf8_lossy(&md1).contains("A finding added after v1"));
        let (md2, _) = reports::version_file(&db, member.firm_id, id, 2, ReportFormat::Markdown)
            .await
            .expect("v2's Markdown");
        assert!(String::from_utf8_lossy(&md2).contains("A finding added after v1"));
        assert!(
            reports::verify(&db, member.firm_id, id, 1)
                .await
                .expect("verified")
                .intact
        );

        // Sharing: only issued versions, and the founder sees only shared ones.
        reports::share(&db, &member, id, 1, true, false, "http://plumbline.test")
            .await
            .expect("shared");
        let versions = reports::list_versions(&db, member.firm_id, id, None, 25)
            .await
            .expect("versions");
        assert_eq!(
            versions.iter().map(|v| v.number).collect::<Vec<_>>(),
            [2, 1]
        );
        assert!(versions[1].shared_with_founders && !versions[0].shared_with_founders);
    })
    .await;
}

/// Runs every queued render job in this process, as the worker would.
async fn run_render_jobs(db: &Db) {
    let payloads: Vec<String> = sqlx::query_scalar(
        "select payload from jobs where kind = $1 and status = 'queued' order by job_id",
    )
    .bind(reports::RENDER_REPORT_JOB)
    .fetch_all(db.pool())
    .await
    .expect("the queued render jobs");
    for payload in payloads {
        reports::render_version_job(db, &payload)
            .await
            .expect("the render job");
    }
    sqlx::query("update jobs set status = 'done' where kind = $1")
        .bind(reports::RENDER_REPORT_JOB)
        .execute(db.pool())
        .await
        .expect("jobs marked done");
}

#[tokio::test]
async fn branding_is_for_the_owner_and_checked() {
    with_db(|db| async move {
        let member = owner(&db).await;
        let png = b"\x89PNG\r\n\x1a\n0000";
        reports::save_branding(&db, &member, "#AA3300", Some(png), false)
            .await
            .expect("saved");
        let branding = reports::build::firm_branding(&db, member.firm_id)
            .await
            .expect("branding");
        assert_eq!(branding.branding.accent, "#aa3300");
        assert_eq!(branding.logo.as_deref(), Some(&png[..]));
        for (accent, logo) in [
            ("red", None),
            ("#aa33001", None),
            ("#aa3300;}", None),
            ("#aa3300", Some(&b"GIF89a"[..])),
        ] {
            let refused = reports::save_branding(&db, &member, accent, logo, false).await;
            assert!(
                matches!(refused, Err(Error::Invalid(_))),
                "{accent}: {refused:?}"
            );
        }
        let big = vec![0x89; reports::MAX_LOGO_BYTES + 1];
        assert!(matches!(
            reports::save_branding(&db, &member, "#000000", Some(&big), false).await,
            Err(Error::Invalid(_))
        ));
        reports::save_branding(&db, &member, "#000000", None, true)
            .await
            .expect("logo removed");
        let branding = reports::build::firm_branding(&db, member.firm_id)
            .await
            .expect("branding");
        assert!(branding.logo.is_none() && branding.branding.logo.is_none());
    })
    .await;
}
