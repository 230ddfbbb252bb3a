//! Findings, interventions, decision records and the activity log on the backend
//! `TEST_DATABASE_URL` selects: the automatic steps are re-runnable and respect hand edits,
//! dependencies and cycles, superseding, waivers and their expiry, ADR zip round trips, the
//! append-only log, and another firm's engagement refused.
mod common;

use audit::accounts::Member;
use audit::activity::{list_activity, Actor, Subject};
use audit::db::Db;
use audit::decisions::{self, DecisionInput, DecisionStatus};
use audit::engagements::{self, EngagementInput};
use audit::findings::{self, FindingInput, FindingStatus, Severity};
use audit::interventions::{self, InterventionInput};
use audit::questionnaire::{self, AnswerInput, Respondent, SaveOutcome};
use audit::Error;

use common::{owner, with_db};

async fn new_engagement(db: &Db, member: &Member) -> i64 {
    let fields = EngagementInput {
        client_name: Some("Acme".to_owned()),
        system_name: Some("Ledger".to_owned()),
        ..Default::default()
    }
    .parse()
    .expect("valid engagement fields");
    engagements::create(db, member, &fields)
        .await
        .expect("create an engagement")
        .engagement_id
}

/// Answers `question_id` with `choice`, replacing whatever version is stored.
async fn answer(db: &Db, member: &Member, engagement: i64, question_id: &str, choice: &str) {
    let who = Respondent::Member(member.clone());
    let current = questionnaire::questionnaire(db, &who, engagement)
        .await
        .expect("the questionnaire")
        .answers
        .iter()
        .find(|a| a.question_id == question_id)
        .map(|a| a.version)
        .unwrap_or(0);
    let input = AnswerInput {
        question_id: question_id.to_owned(),
        choice: choice.to_owned(),
        version: current,
        ..Default::default()
    };
    let outcome = questionnaire::save_answer(db, &who, engagement, &input)
        .await
        .expect("an answer");
    assert!(matches!(outcome, SaveOutcome::Saved { .. }), "{outcome:?}");
}

fn field_of(error: &Error) -> String {
    match error {
        Error::Invalid(fields) => fields[0].field.clone(),
        other => panic!("expected Invalid, got {other:?}"),
    }
}

fn message_of(error: &Error) -> String {
    match error {
        Error::Invalid(fields) => fields[0].message.clone(),
        other => panic!("expected Invalid, got {other:?}"),
    }
}

const RED_FLAG: &str = "observability.latency-percentiles";
const PLAIN: &str = "observability.slow-query-log";

#[tokio::test]
async fn suggested_findings_follow_the_answers_without_duplicates_or_undoing_hand_edits() {
    with_db(|db| async move {
        let owner = owner(&db).await;
        let engagement = new_engagement(&db, &owner).await;
        answer(&db, &owner, engagement, RED_FLAG, "no").await;
        answer(&db, &owner, engagement, PLAIN, "partly").await;
        answer(&db, &owner, engagement, "observability.tracing", "yes").await;
        let actor = Actor::from(&owner);

        let first = findings::suggest_findings(&db, &actor, owner.firm_id, engagement)
            .await
            .expect("suggest");
        assert_eq!(first.created.len(), 2, "{first:?}");
        let list = findings::list_findings(&db, owner.firm_id, engagement)
            .await
            .expect("list");
        let red = list
            .iter()
            .find(|f| f.evidence.iter().any(|e| e.target == RED_FLAG))
            .expect("a finding for the red flag");
        assert_eq!(red.severity, Severity::Critical);
        assert_eq!(red.status, FindingStatus::Open);
        assert!(red.description.contains("red flag"), "{}", red.description);

        // Again, unchanged answers: nothing new.
        let again = findings::suggest_findings(&db, &actor, owner.firm_id, engagement)
            .await
            .expect("suggest again");
        assert!(
            again.created.is_empty() && again.updated.is_empty(),
            "{again:?}"
        );
        assert_eq!(again.unchanged, 2);

        // The consultant retitles the red flag finding by hand; the answer then improves.
        let edit = FindingInput {
            area: red.area.as_str().to_owned(),
            severity: red.severity.as_str().to_owned(),
            title: "No latency percentiles anywhere".to_owned(),
            description: red.description.clone(),
            confidence: red.confidence.as_str().to_owned(),
            status: String::new(),
            links: "https://grafana.example.com/d/1".to_owned(),
            version: red.version,
        };
        let edited = findings::update_finding(&db, &owner, engagement, red.finding_id, &edit)
            .await
            .expect("edit");
        assert_eq!(edited.edited_fields, vec!["title".to_owned()]);
        let stale = findings::update_finding(&db, &owner, engagement, red.finding_id, &edit)
            .await
            .expect_err("a stale version");
        assert!(matches!(stale, Error::Conflict { .. }), "{stale:?}");

        answer(&db, &owner, engagement, RED_FLAG, "partly").await;
        let third = findings::suggest_findings(&db, &actor, owner.firm_id, engagement)
            .await
            .expect("suggest after the answer changed");
        assert_eq!(third.updated.len(), 1, "{third:?}");
        let after = findings::get_finding(&db, owner.firm_id, engagement, red.finding_id)
            .await
            .expect("the finding");
        assert_eq!(
            after.title, "No latency percentiles anywhere",
            "hand edit kept"
        );
        assert_eq!(
            after.severity,
            Severity::High,
            "severity follows the answer"
        );
        assert!(
            after
                .evidence
                .iter()
                .any(|e| e.target == "https://grafana.example.com/d/1"),
            "hand-added link kept: {:?}",
            after.evidence
        );

        // Fixed: resolved; weak again: reopened, never duplicated.
        answer(&db, &owner, engagement, RED_FLAG, "yes").await;
        let fourth = findings::suggest_findings(&db, &actor, owner.firm_id, engagement)
            .await
            .expect("suggest after a fix");
        assert_eq!(fourth.resolved.len(), 1, "{fourth:?}");
        answer(&db, &owner, engagement, RED_FLAG, "no").await;
        findings::suggest_findings(&db, &actor, owner.firm_id, engagement)
            .await
            .expect("suggest after a relapse");
        let list = findings::list_findings(&db, owner.firm_id, engagement)
            .await
            .expect("list");
        assert_eq!(list.len(), 2, "no duplicates");
        let red = list
            .iter()
            .find(|f| f.finding_id == red.finding_id)
            .expect("the same finding");
        assert_eq!(red.status, FindingStatus::Open);

        // A generated finding cannot be deleted (it would come back); a hand-written one can.
        let refused = findings::delete_finding(&db, &owner, engagement, red.finding_id)
            .await
            .expect_err("generated");
        assert!(matches!(refused, Error::Conflict { .. }));
        let manual = findings::create_finding(
            &db,
            &owner,
            engagement,
            &FindingInput {
                area: "database".into(),
                severity: "low".into(),
                title: "Backups never restored".into(),
                ..Default::default()
            },
        )
        .await
        .expect("a finding by hand");
        assert_eq!(manual.number, 3);
        findings::delete_finding(&db, &owner, engagement, manual.finding_id)
            .await
            .expect("delete a hand-written finding");

        // Bad input names its fields and saves nothing.
        let bad = findings::create_finding(
            &db,
            &owner,
            engagement,
            &FindingInput {
                area: "kitchen".into(),
                severity: "apocalyptic".into(),
                title: " ".into(),
                ..Default::default()
            },
        )
        .await
        .expect_err("bad input");
        match bad {
            Error::Invalid(fields) => {
                let names: Vec<&str> = fields.iter().map(|f| f.field.as_str()).collect();
                assert_eq!(names, vec!["area", "severity", "title"]);
            }
            other => panic!("{other:?}"),
        }

        // Every change is in the activity log, newest first; the log refuses edits.
        let log = list_activity(&db, owner.firm_id, engagement, None, 200)
            .await
            .expect("the log");
        assert!(log.entries.iter().any(|e| e.subject == Subject::Answer));
        assert!(log
            .entries
            .iter()
            .any(|e| e.subject == Subject::Finding && e.action == "deleted"));
        assert!(log
            .entries
            .windows(2)
            .all(|w| w[0].activity_id > w[1].activity_id));
        let rewrite = sqlx::query("update activity set summary = 'nothing happened'")
            .execute(db.pool())
            .await;
        assert!(rewrite.is_err(), "the activity log must refuse updates");
        let erase = sqlx::query("delete from activity").execute(db.pool()).await;
        assert!(erase.is_err(), "the activity log must refuse deletes");
        let page = list_activity(&db, owner.firm_id, engagement, None, 3)
            .await
            .expect("a page");
        assert_eq!(page.entries.len(), 3);
        let next = list_activity(&db, owner.firm_id, engagement, page.next_before, 3)
            .await
            .expect("the next page");
        assert!(next.entries[0].activity_id < page.entries[2].activity_id);
    })
    .await;
}

fn intervention(title: &str, impact: u32, effort: &str, depends_on: Vec<i64>) -> InterventionInput {
    InterventionInput {
        title: title.to_owned(),
        impact: impact.to_string(),
        effort_weeks: effort.to_owned(),
        confidence: "high".to_owned(),
        depends_on,
        ..Default::default()
    }
}

#[tokio::test]
async fn interventions_come_in_dependency_order_refuse_cycles_and_fit_the_team() {
    with_db(|db| async move {
        let owner = owner(&db).await;
        let engagement = new_engagement(&db, &owner).await;
        let a = interventions::create_intervention(
            &db,
            &owner,
            engagement,
            &intervention("Slow query log", 2, "0.5", vec![]),
        )
        .await
        .expect("A");
        let b = interventions::create_intervention(
            &db,
            &owner,
            engagement,
            &intervention("Fix N+1 queries", 5, "1", vec![a.intervention_id]),
        )
        .await
        .expect("B");
        let c = interventions::create_intervention(
            &db,
            &owner,
            engagement,
            &intervention("Read replica", 3, "3", vec![]),
        )
        .await
        .expect("C");
        let plan = interventions::intervention_plan(&db, owner.firm_id, engagement)
            .await
            .expect("plan");
        let order: Vec<i64> = plan
            .interventions
            .iter()
            .map(|i| i.intervention_id)
            .collect();
        // B has the highest priority (5/1) and pulls its dependency A forward; C (1.0) last.
        assert_eq!(
            order,
            vec![a.intervention_id, b.intervention_id, c.intervention_id]
        );

        // A depending on B closes a circle: refused, naming both.
        let mut edit = intervention("Slow query log", 2, "0.5", vec![b.intervention_id]);
        edit.version = a.version;
        let refused =
            interventions::update_intervention(&db, &owner, engagement, a.intervention_id, &edit)
                .await
                .expect_err("a cycle");
        assert_eq!(field_of(&refused), "depends_on");
        let message = message_of(&refused);
        assert!(
            message.contains("I-1") && message.contains("I-2"),
            "{message}"
        );

        // One engineer: one after another, dates from the start.
        let (_, roadmap) =
            interventions::roadmap(&db, owner.firm_id, engagement, 1, Some("2027-01-04".into()))
                .await
                .expect("a roadmap");
        assert_eq!(roadmap.entries.len(), 3);
        assert_eq!(roadmap.entries[0].start_date, "2027-01-04");
        // Half a week from Monday: the last day of work is Thursday.
        assert_eq!(roadmap.entries[0].end_date, "2027-01-07");
        assert_eq!(roadmap.entries[1].start_week, roadmap.entries[0].end_week);
        assert!((roadmap.total_weeks - 4.5).abs() < 1e-9, "{roadmap:?}");
        // Two engineers: C runs beside A and B.
        let (_, two) =
            interventions::roadmap(&db, owner.firm_id, engagement, 2, Some("2027-01-04".into()))
                .await
                .expect("a roadmap for two");
        assert!((two.total_weeks - 3.0).abs() < 1e-9, "{two:?}");

        // A pin that puts B before A is refused; a valid one shows its departures.
        let refused = interventions::pin_order(
            &db,
            &owner,
            engagement,
            &[b.intervention_id, a.intervention_id, c.intervention_id],
        )
        .await
        .expect_err("B before its dependency");
        assert_eq!(field_of(&refused), "order");
        let pinned = interventions::pin_order(
            &db,
            &owner,
            engagement,
            &[c.intervention_id, a.intervention_id, b.intervention_id],
        )
        .await
        .expect("a valid pin");
        assert!(pinned.pinned);
        assert_eq!(pinned.interventions[0].intervention_id, c.intervention_id);
        assert_eq!(pinned.departures.len(), 3);
        let unpinned = interventions::clear_pinned_order(&db, &owner, engagement)
            .await
            .expect("unpin");
        assert!(!unpinned.pinned && unpinned.departures.is_empty());

        // Bad numbers name their fields.
        let bad = interventions::create_intervention(
            &db,
            &owner,
            engagement,
            &intervention("Rewrite", 9, "0", vec![]),
        )
        .await
        .expect_err("impact 9, effort 0");
        match bad {
            Error::Invalid(fields) => {
                let names: Vec<&str> = fields.iter().map(|f| f.field.as_str()).collect();
                assert_eq!(names, vec!["impact", "effort_weeks"]);
            }
            other => panic!("{other:?}"),
        }
    })
    .await;
}

#[tokio::test]
async fn interventions_are_suggested_from_open_findings_once() {
    with_db(|db| async move {
        let owner = owner(&db).await;
        let engagement = new_engagement(&db, &owner).await;
        answer(&db, &owner, engagement, RED_FLAG, "no").await;
        answer(
            &db,
            &owner,
            engagement,
            "observability.debug-without-ssh",
            "no",
        )
        .await;
        findings::suggest_findings(&db, &Actor::from(&owner), owner.firm_id, engagement)
            .await
            .expect("findings");
        let report = interventions::suggest_interventions(&db, &owner, engagement)
            .await
            .expect("suggest");
        // latency-dashboards (both findings point to it) and structured-logging-tracing.
        assert_eq!(report.created.len(), 2, "{report:?}");
        let list = interventions::list_interventions(&db, owner.firm_id, engagement)
            .await
            .expect("list");
        let dashboards = list
            .iter()
            .find(|i| i.template_id.as_deref() == Some("latency-dashboards"))
            .expect("latency dashboards suggested");
        assert_eq!(dashboards.finding_ids.len(), 2);
        let again = interventions::suggest_interventions(&db, &owner, engagement)
            .await
            .expect("suggest again");
        assert!(
            again.created.is_empty() && again.linked.is_empty(),
            "{again:?}"
        );
    })
    .await;
}

fn record(title: &str, status: &str) -> DecisionInput {
    DecisionInput {
        title: title.to_owned(),
        status: status.to_owned(),
        context: "We need one database.\n\n```\n## not a heading\n```".to_owned(),
        options: "- PostgreSQL\n- MySQL".to_owned(),
        decision: "PostgreSQL.".to_owned(),
        consequences: "One engine to run.".to_owned(),
        decided_on: "2026-11-20".to_owned(),
        deciders: "Ana Lima, Bo Chen".to_owned(),
        ..Default::default()
    }
}

#[tokio::test]
async fn decision_records_supersede_waive_findings_and_round_trip_through_adr_zips() {
    with_db(|db| async move {
        let owner = owner(&db).await;
        let engagement = new_engagement(&db, &owner).await;
        let first = decisions::create_decision(
            &db,
            &owner,
            engagement,
            &record("Use PostgreSQL for everything", "accepted"),
        )
        .await
        .expect("ADR-0001");
        assert_eq!(first.reference(), "ADR-0001");
        let mut second = record("Split reporting into a read replica", "accepted");
        second.supersedes = Some(first.decision_id);
        let second = decisions::create_decision(&db, &owner, engagement, &second)
            .await
            .expect("ADR-0002");
        let first = decisions::get_decision(&db, owner.firm_id, engagement, first.decision_id)
            .await
            .expect("ADR-0001 again");
        assert_eq!(first.status, DecisionStatus::Superseded);
        assert_eq!(
            first.superseded_by.as_ref().map(|r| r.decision_id),
            Some(second.decision_id)
        );
        assert_eq!(
            second.supersedes.as_ref().map(|r| r.decision_id),
            Some(first.decision_id)
        );

        // A waiver: the finding is an accepted risk until the expiry, then the job reopens it.
        let finding = findings::create_finding(
            &db,
            &owner,
            engagement,
            &FindingInput {
                area: "deployment-infrastructure".into(),
                severity: "medium".into(),
                title: "Staging differs from production".into(),
                ..Default::default()
            },
        )
        .await
        .expect("a finding");
        let mut waiver = record("Accept staging drift until the migration", "accepted");
        waiver.expires_on = "2020-01-01".to_owned();
        waiver.finding_ids = vec![finding.finding_id];
        let refused = decisions::create_decision(&db, &owner, engagement, &waiver)
            .await
            .expect_err("an expiry in the past");
        assert_eq!(field_of(&refused), "expires_on");
        waiver.expires_on = "2199-12-31".to_owned();
        let waiver = decisions::create_decision(&db, &owner, engagement, &waiver)
            .await
            .expect("a waiver");
        let held = findings::get_finding(&db, owner.firm_id, engagement, finding.finding_id)
            .await
            .expect("the finding");
        assert_eq!(held.status, FindingStatus::AcceptedRisk);
        assert!(held.accepted_until.is_some());
        let now = audit::clock::now_ms();
        assert_eq!(
            findings::reopen_expired_waivers(&db, now)
                .await
                .expect("sweep"),
            0
        );
        let later = held.accepted_until.unwrap_or(now) + 1;
        assert_eq!(
            findings::reopen_expired_waivers(&db, later)
                .await
                .expect("sweep"),
            1
        );
        let reopened = findings::get_finding(&db, owner.firm_id, engagement, finding.finding_id)
            .await
            .expect("the finding");
        assert_eq!(reopened.status, FindingStatus::Open);
        assert_eq!(waiver.finding_ids, vec![finding.finding_id]);

        // Export, then import into a fresh engagement: the same records.
        let (name, zip) = decisions::export_decisions_zip(&db, owner.firm_id, engagement)
            .await
            .expect("export");
        assert!(name.ends_with(".zip"));
        let fresh = new_engagement(&db, &owner).await;
        let imported = decisions::import_decisions_zip(&db, &owner, fresh, &zip)
            .await
            .expect("import");
        assert_eq!(imported.imported.len(), 3, "{imported:?}");
        assert!(imported.skipped.is_empty(), "{imported:?}");
        let original = decisions::list_decisions(&db, owner.firm_id, engagement)
            .await
            .expect("original");
        let copy = decisions::list_decisions(&db, owner.firm_id, fresh)
            .await
            .expect("copy");
        for (a, b) in original.iter().zip(&copy) {
            assert_eq!(
                (
                    &a.title,
                    a.number,
                    a.status,
                    &a.context,
                    &a.options,
                    &a.decision,
                    &a.consequences,
                    &a.decided_on,
                    &a.deciders,
                    &a.expires_on
                ),
                (
                    &b.title,
                    b.number,
                    b.status,
                    &b.context,
                    &b.options,
                    &b.decision,
                    &b.consequences,
                    &b.decided_on,
                    &b.deciders,
                    &b.expires_on
                ),
            );
            assert_eq!(
                a.supersedes.as_ref().map(|r| r.number),
                b.supersedes.as_ref().map(|r| r.number)
            );
            assert_eq!(
                a.superseded_by.as_ref().map(|r| r.number),
                b.superseded_by.as_ref().map(|r| r.number)
            );
        }
        // Importing again numbers them after the existing ones.
        decisions::import_decisions_zip(&db, &owner, fresh, &zip)
            .await
            .expect("import again");
        let numbers: Vec<i64> = decisions::list_decisions(&db, owner.firm_id, fresh)
            .await
            .expect("list")
            .iter()
            .map(|d| d.number)
            .collect();
        assert_eq!(numbers, vec![1, 2, 3, 4, 5, 6]);
        let garbage = decisions::import_decisions_zip(&db, &owner, fresh, b"not a zip")
            .await
            .expect_err("not a zip");
        assert_eq!(field_of(&garbage), "file");
    })
    .await;
}

#[tokio::test]
async fn another_firms_engagement_reads_as_not_found() {
    with_db(|db| async move {
        let owner = owner(&db).await;
        let engagement = new_engagement(&db, &owner).await;
        let stranger = common::owner(&db).await;
        let found = findings::list_findings(&db, stranger.firm_id, engagement).await;
        assert!(matches!(found, Err(Error::NotFound)), "{found:?}");
        let found = interventions::intervention_plan(&db, stranger.firm_id, engagement).await;
        assert!(matches!(found, Err(Error::NotFound)), "{found:?}");
        let found = decisions::list_decisions(&db, stranger.firm_id, engagement).await;
        assert!(matches!(found, Err(Error::NotFound)), "{found:?}");
        let written =
            decisions::create_decision(&db, &stranger, engagement, &record("Mine now", "")).await;
        assert!(matches!(written, Err(Error::NotFound)), "{written:?}");
        let zip = decisions::export_decisions_zip(&db, stranger.firm_id, engagement).await;
        assert!(matches!(zip, Err(Error::NotFound)));
        let log = list_activity(&db, stranger.firm_id, engagement, None, 10)
            .await
            .expect("an empty page");
        assert!(log.entries.is_empty());
    })
    .await;
}

/// The overview's progress, read without the answers, says what the whole questionnaire says:
/// before any answer, with notes only (no choice yet, but the bank is fixed), and with choices.
#[tokio::test]
async fn questionnaire_progress_agrees_with_the_whole_questionnaire() {
    with_db(|db| async move {
        let member = owner(&db).await;
        let engagement = new_engagement(&db, &member).await;
        let who = Respondent::Member(member.clone());
        let agree = |expected_any: bool| {
            let (db, who) = (db.clone(), who.clone());
            async move {
                let whole = questionnaire::questionnaire(&db, &who, engagement)
                    .await
                    .expect("the questionnaire");
                let progress = questionnaire::questionnaire_progress(&db, &who, engagement)
                    .await
                    .expect("its progress");
                assert_eq!(
                    (progress.answered, progress.questions),
                    whole.overall_progress()
                );
                assert_eq!(progress.status, whole.status);
                assert_eq!(progress.bank_version, whole.bank_version);
                assert_eq!(progress.any_answers, !whole.answers.is_empty());
                assert_eq!(progress.any_answers, expected_any);
                progress.answered
            }
        };
        assert_eq!(agree(false).await, 0);

        let notes_only = AnswerInput {
            question_id: PLAIN.to_owned(),
            notes: "Asked the CTO; waiting.".to_owned(),
            ..Default::default()
        };
        questionnaire::save_answer(&db, &who, engagement, &notes_only)
            .await
            .expect("notes without a choice");
        assert_eq!(agree(true).await, 0);

        answer(&db, &member, engagement, PLAIN, "partly").await;
        answer(&db, &member, engagement, RED_FLAG, "no").await;
        assert_eq!(agree(true).await, 2);

        // Another firm's engagement is not found, as the whole questionnaire is.
        let stranger = owner(&db).await;
        let refused =
            questionnaire::questionnaire_progress(&db, &Respondent::Member(stranger), engagement)
                .await;
        assert!(matches!(refused, Err(Error::NotFound)), "{refused:?}");
    })
    .await;
}
