//! Storage of findings. Every change is written to the activity log in the same transaction.
use std::collections::{HashMap, HashSet};

use serde::{Deserialize, Serialize};
use sqlx::{AnyConnection, Row};

use super::model::*;
use crate::accounts::Member;
use crate::activity::{self, Actor, Change, Subject};
use crate::clock::now_ms;
use crate::db::Db;
use crate::engagements::check_firm_engagement;
use crate::error::{Error, Result};
use crate::markdown::to_safe_html;
use crate::questionnaire::{self, Answer, Area, Bank, Choice, EvidenceFile};

const COLUMNS: &str = "finding_id, number, area, severity, title, description, confidence, status, \
                       origin, evidence, edited_fields, accepted_until, version, created_at, updated_at";

fn finding_from_row(row: &sqlx::any::AnyRow) -> Result<Finding> {
    let bad = |what: &str| Error::Internal(format!("finding row has an unknown {what}"));
    let area: String = row.try_get("area")?;
    let severity: String = row.try_get("severity")?;
    let confidence: String = row.try_get("confidence")?;
    let status: String = row.try_get("status")?;
    let origin: String = row.try_get("origin")?;
    let evidence: String = row.try_get("evidence")?;
    let edited: String = row.try_get("edited_fields")?;
    let description: String = row.try_get("description")?;
    Ok(Finding {
        finding_id: row.try_get("finding_id")?,
        number: row.try_get("number")?,
        area: Area::parse(&area).ok_or_else(|| bad("area"))?,
        severity: Severity::parse(&severity).ok_or_else(|| bad("severity"))?,
        title: row.try_get("title")?,
        description_html: to_safe_html(&description),
        description,
        confidence: Confidence::parse(&confidence).ok_or_else(|| bad("confidence"))?,
        status: FindingStatus::parse(&status).ok_or_else(|| bad("status"))?,
        origin: FindingOrigin::parse(&origin).ok_or_else(|| bad("origin"))?,
        evidence: serde_json::from_str(&evidence).unwrap_or_default(),
        edited_fields: edited
            .split(',')
            .filter(|f| !f.is_empty())
            .map(str::to_owned)
            .collect(),
        accepted_until: row.try_get("accepted_until")?,
        version: row.try_get("version")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

/// Most findings an engagement lists; the automatic step makes at most one per question.
pub const MAX_FINDINGS: i64 = 1000;

/// The engagement's findings: open ones first, then by severity and number.
pub async fn list_findings(db: &Db, firm_id: i64, engagement_id: i64) -> Result<Vec<Finding>> {
    check_firm_engagement(db, firm_id, engagement_id).await?;
    let sql = format!(
        "select {COLUMNS} from findings where engagement_id = $1 and firm_id = $2 \
         order by number limit {MAX_FINDINGS}"
    );
    let rows = sqlx::query(&sql)
        .bind(engagement_id)
        .bind(firm_id)
        .fetch_all(db.pool())
        .await?;
    let mut findings = rows
        .iter()
        .map(finding_from_row)
        .collect::<Result<Vec<_>>>()?;
    findings.sort_by_key(|f| (f.status != FindingStatus::Open, f.severity, f.number));
    Ok(findings)
}

async fn finding_in(
    conn: &mut AnyConnection,
    firm_id: i64,
    engagement_id: i64,
    finding_id: i64,
) -> Result<Finding> {
    let sql = format!(
        "select {COLUMNS} from findings where finding_id = $1 and engagement_id = $2 and firm_id = $3"
    );
    let row = sqlx::query(&sql)
        .bind(finding_id)
        .bind(engagement_id)
        .bind(firm_id)
        .fetch_optional(conn)
        .await?
        .ok_or(Error::NotFound)?;
    finding_from_row(&row)
}

pub async fn get_finding(
    db: &Db,
    firm_id: i64,
    engagement_id: i64,
    finding_id: i64,
) -> Result<Finding> {
    let mut conn = db.pool().acquire().await?;
    finding_in(&mut conn, firm_id, engagement_id, finding_id).await
}

/// What the activity log keeps of a finding.
fn finding_snapshot(f: &Finding) -> Option<String> {
    activity::snapshot(&serde_json::json!({
        "area": f.area,
        "severity": f.severity,
        "title": f.title,
        "description": f.description,
        "confidence": f.confidence,
        "status": f.status,
        "evidence": f.evidence,
        "accepted_until": f.accepted_until,
    }))
}

/// The next F-/I-/ADR- number of an engagement for `table` (findings, interventions, decisions).
/// Two writers on PostgreSQL may both read the same number; the unique (engagement_id, number)
/// index refuses the second, which then retries (see `with_retry`). On SQLite the write
/// transaction holds the lock from its start, so the race cannot happen there.
pub(crate) async fn next_number(
    conn: &mut AnyConnection,
    table: &str,
    engagement_id: i64,
) -> Result<i64> {
    let sql = format!("select coalesce(max(number), 0) + 1 from {table} where engagement_id = $1");
    Ok(sqlx::query_scalar(&sql)
        .bind(engagement_id)
        .fetch_one(conn)
        .await?)
}

/// Runs a transaction body again when it lost a race for a unique number (three tries).
pub(crate) async fn with_retry<T, F, Fut>(mut body: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T>>,
{
    let mut tries = 0;
    loop {
        tries += 1;
        match body().await {
            Err(e) if e.is_unique_violation() && tries < 3 => continue,
            other => return other,
        }
    }
}

fn link_evidence(links: &[String]) -> Vec<EvidenceLink> {
    links
        .iter()
        .map(|l| EvidenceLink {
            kind: EvidenceKind::Link,
            target: l.clone(),
            label: l.clone(),
        })
        .collect()
}

/// A consultant writes a finding by hand.
pub async fn create_finding(
    db: &Db,
    member: &Member,
    engagement_id: i64,
    input: &FindingInput,
) -> Result<Finding> {
    check_firm_engagement(db, member.firm_id, engagement_id).await?;
    let fields = input.parse().map_err(Error::Invalid)?;
    with_retry(|| async {
        let mut tx = db.begin_write().await?;
        let number = next_number(&mut tx, "findings", engagement_id).await?;
        let now = now_ms();
        let evidence = serde_json::to_string(&link_evidence(&fields.links))
            .map_err(|e| Error::Internal(e.to_string()))?;
        let finding_id: i64 = sqlx::query_scalar(
            r#"insert into findings (engagement_id, firm_id, number, area, severity, title, description,
                                     confidence, status, origin, evidence, edited_fields, version,
                                     created_at, updated_at)
               values ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'manual', $10, '', 1, $11, $11)
               returning finding_id"#,
        )
        .bind(engagement_id)
        .bind(member.firm_id)
        .bind(number)
        .bind(fields.area.as_str())
        .bind(fields.severity.as_str())
        .bind(&fields.title)
        .bind(&fields.description)
        .bind(fields.confidence.as_str())
        .bind(fields.status.unwrap_or_default().as_str())
        .bind(&evidence)
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        let finding = finding_in(&mut tx, member.firm_id, engagement_id, finding_id).await?;
        activity::record(
            &mut tx,
            Change {
                engagement_id,
                firm_id: member.firm_id,
                actor: &Actor::from(member),
                subject: Subject::Finding,
                subject_ref: finding.reference(),
                action: "created",
                summary: format!("{} written: {}", finding.reference(), finding.title),
                before: None,
                after: finding_snapshot(&finding),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(finding)
    })
    .await
}

fn stale_finding() -> Error {
    Error::Conflict {
        field: None,
        message: "Someone changed this finding since you opened it. Reload to see their change, \
                  then make yours again."
            .to_owned(),
    }
}

/// A consultant edits a finding. The fields they change are remembered as edited by hand, so
/// re-running the automatic step leaves them alone.
pub async fn update_finding(
    db: &Db,
    member: &Member,
    engagement_id: i64,
    finding_id: i64,
    input: &FindingInput,
) -> Result<Finding> {
    let fields = input.parse().map_err(Error::Invalid)?;
    let mut tx = db.begin_write().await?;
    let before = finding_in(&mut tx, member.firm_id, engagement_id, finding_id).await?;
    if fields.version != before.version {
        return Err(stale_finding());
    }
    let status = fields.status.unwrap_or(before.status);
    let mut edited: Vec<String> = before.edited_fields.clone();
    let mut mark = |name: &str, changed: bool| {
        if changed && !edited.iter().any(|e| e == name) {
            edited.push(name.to_owned());
        }
    };
    mark("area", fields.area != before.area);
    mark("severity", fields.severity != before.severity);
    mark("title", fields.title != before.title);
    mark("description", fields.description != before.description);
    mark("confidence", fields.confidence != before.confidence);
    mark("status", status != before.status);
    // Hand-added links replace the earlier hand-added ones; automatic evidence stays.
    let mut evidence: Vec<EvidenceLink> = before
        .evidence
        .iter()
        .filter(|e| e.kind != EvidenceKind::Link)
        .cloned()
        .collect();
    evidence.extend(link_evidence(&fields.links));
    let evidence_json =
        serde_json::to_string(&evidence).map_err(|e| Error::Internal(e.to_string()))?;
    // Setting a waived finding's status by hand ends the waiver's hold on it.
    let (accepted_until, waiver_cleared) = if status != before.status {
        (None, true)
    } else {
        (before.accepted_until, false)
    };
    let updated = sqlx::query(
        r#"update findings set area = $1, severity = $2, title = $3, description = $4, confidence = $5,
                               status = $6, evidence = $7, edited_fields = $8, accepted_until = $9,
                               waiver_decision_id = case when $10 then null else waiver_decision_id end,
                               version = version + 1, updated_at = $11
           where finding_id = $12 and version = $13"#,
    )
    .bind(fields.area.as_str())
    .bind(fields.severity.as_str())
    .bind(&fields.title)
    .bind(&fields.description)
    .bind(fields.confidence.as_str())
    .bind(status.as_str())
    .bind(&evidence_json)
    .bind(edited.join(","))
    .bind(accepted_until)
    .bind(waiver_cleared)
    .bind(now_ms())
    .bind(finding_id)
    .bind(before.version)
    .execute(&mut *tx)
    .await?;
    if updated.rows_affected() != 1 {
        return Err(stale_finding());
    }
    let after = finding_in(&mut tx, member.firm_id, engagement_id, finding_id).await?;
    activity::record(
        &mut tx,
        Change {
            engagement_id,
            firm_id: member.firm_id,
            actor: &Actor::from(member),
            subject: Subject::Finding,
            subject_ref: after.reference(),
            action: "updated",
            summary: describe_change(&before, &after),
            before: finding_snapshot(&before),
            after: finding_snapshot(&after),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(after)
}

fn describe_change(before: &Finding, after: &Finding) -> String {
    let mut parts = Vec::new();
    if before.status != after.status {
        parts.push(format!(
            "status {} → {}",
            before.status.label(),
            after.status.label()
        ));
    }
    if before.severity != after.severity {
        parts.push(format!(
            "severity {} → {}",
            before.severity.label(),
            after.severity.label()
        ));
    }
    if before.title != after.title {
        parts.push("title".to_owned());
    }
    if before.description != after.description {
        parts.push("description".to_owned());
    }
    if before.confidence != after.confidence {
        parts.push("confidence".to_owned());
    }
    if before.area != after.area {
        parts.push(format!("area → {}", after.area.label()));
    }
    if before.evidence != after.evidence {
        parts.push("evidence".to_owned());
    }
    if parts.is_empty() {
        format!("{} saved without changes", after.reference())
    } else {
        format!("{} changed: {}", after.reference(), parts.join(", "))
    }
}

/// Deletes a finding written by hand. Generated findings are resolved or accepted instead: the
/// automatic step would make them again.
pub async fn delete_finding(
    db: &Db,
    member: &Member,
    engagement_id: i64,
    finding_id: i64,
) -> Result<()> {
    let mut tx = db.begin_write().await?;
    let before = finding_in(&mut tx, member.firm_id, engagement_id, finding_id).await?;
    if before.origin != FindingOrigin::Manual {
        return Err(Error::Conflict {
            field: None,
            message: format!(
                "{} was made from the answers; mark it resolved or accepted risk instead, or \
                 re-running the suggestions would bring it back.",
                before.reference()
            ),
        });
    }
    sqlx::query("delete from findings where finding_id = $1")
        .bind(finding_id)
        .execute(&mut *tx)
        .await?;
    activity::record(
        &mut tx,
        Change {
            engagement_id,
            firm_id: member.firm_id,
            actor: &Actor::from(member),
            subject: Subject::Finding,
            subject_ref: before.reference(),
            action: "deleted",
            summary: format!("{} deleted: {}", before.reference(), before.title),
            before: finding_snapshot(&before),
            after: None,
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// What one run of the automatic step did.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SuggestReport {
    /// References of findings made now (F-4, …).
    pub created: Vec<String>,
    /// Findings brought up to date with the answers.
    pub updated: Vec<String>,
    /// Findings whose answer is no longer weak, marked resolved.
    pub resolved: Vec<String>,
    /// Findings left as they were.
    pub unchanged: usize,
}

/// What an automatic step would write for one weakness (a weak answer, a failed check).
pub(crate) struct Proposal {
    pub origin_key: String,
    pub area: Area,
    pub severity: Severity,
    pub title: String,
    pub description: String,
    pub confidence: Confidence,
    pub evidence: Vec<EvidenceLink>,
}

fn proposals(bank: &Bank, answers: &[Answer], files: &[EvidenceFile]) -> Vec<Proposal> {
    let by_question: HashMap<&str, &Answer> = answers
        .iter()
        .map(|a| (a.question_id.as_str(), a))
        .collect();
    let mut out = Vec::new();
    for area in &bank.areas {
        for question in &area.questions {
            let Some(answer) = by_question.get(question.id.as_str()) else {
                continue;
            };
            let Some(choice) = answer.choice else {
                continue;
            };
            let Some((severity, confidence)) = weakness(question, choice) else {
                continue;
            };
            let prefix = match choice {
                Choice::No => "No",
                Choice::Partly => "Only partly",
                _ => "Nobody knows",
            };
            let mut description = format!(
                "The founders answered **{}** to: {}\n\n{}",
                choice.label(),
                question.prompt,
                question.help
            );
            if question.red_flag {
                description.push_str(&format!(
                    "\n\nThis question is a red flag of the {} area: {}",
                    area.area.label(),
                    area.red_flag
                ));
            }
            if !answer.notes.is_empty() {
                let quoted: Vec<String> = answer.notes.lines().map(|l| format!("> {l}")).collect();
                description.push_str(&format!("\n\nTheir notes:\n\n{}", quoted.join("\n")));
            }
            let mut evidence = vec![EvidenceLink {
                kind: EvidenceKind::Answer,
                target: question.id.clone(),
                label: format!("Answered {} by {}", choice.label(), answer.answered_by),
            }];
            evidence.extend(
                files
                    .iter()
                    .filter(|f| f.question_id == question.id)
                    .map(|f| EvidenceLink {
                        kind: EvidenceKind::File,
                        target: f.evidence_file_id.to_string(),
                        label: f.file_name.clone(),
                    }),
            );
            out.push(Proposal {
                origin_key: format!("answer:{}", question.id),
                area: area.area,
                severity,
                title: format!("{prefix}: {}", question.prompt),
                description,
                confidence,
                evidence,
            });
        }
    }
    out
}

/// The automatic step: a finding for every red flag and weak answer, linked to the answer (and
/// its links and files). Run again after answers change, it updates the findings it made instead
/// of duplicating them, leaves every field a consultant edited by hand alone, resolves findings
/// whose answer is no longer weak and reopens the ones whose weakness came back.
pub async fn suggest_findings(
    db: &Db,
    actor: &Actor,
    firm_id: i64,
    engagement_id: i64,
) -> Result<SuggestReport> {
    check_firm_engagement(db, firm_id, engagement_id).await?;
    let (bank, answers, files) =
        questionnaire::answers_with_evidence(db, firm_id, engagement_id).await?;
    let proposals = proposals(&bank, &answers, &files);
    let keep = HashSet::new();
    with_retry(|| {
        apply_proposals(
            db,
            actor,
            firm_id,
            engagement_id,
            FindingOrigin::Answers,
            &proposals,
            &keep,
        )
    })
    .await
}

/// Brings an automatic step's findings (those of `origin`) in line with its `proposals`: new
/// weaknesses become findings, known ones are updated (fields edited by hand stay), and open
/// findings no longer proposed are resolved — except those keyed in `keep` (the step could not
/// look this time, so it neither confirms nor clears them).
pub(crate) async fn apply_proposals(
    db: &Db,
    actor: &Actor,
    firm_id: i64,
    engagement_id: i64,
    origin: FindingOrigin,
    proposals: &[Proposal],
    keep: &HashSet<String>,
) -> Result<SuggestReport> {
    let source = match origin {
        FindingOrigin::Probe => "the probes",
        _ => "the answers",
    };
    let mut report = SuggestReport::default();
    let mut tx = db.begin_write().await?;
    let sql = format!(
        "select origin_key, {COLUMNS} from findings where engagement_id = $1 and origin = $2"
    );
    let rows = sqlx::query(&sql)
        .bind(engagement_id)
        .bind(origin.as_str())
        .fetch_all(&mut *tx)
        .await?;
    let mut existing: HashMap<String, Finding> = HashMap::new();
    for row in &rows {
        let key: Option<String> = row.try_get("origin_key")?;
        if let Some(key) = key {
            existing.insert(key, finding_from_row(row)?);
        }
    }
    let now = now_ms();
    let mut wanted: HashSet<&str> = HashSet::new();
    for p in proposals {
        wanted.insert(p.origin_key.as_str());
        let evidence =
            serde_json::to_string(&p.evidence).map_err(|e| Error::Internal(e.to_string()))?;
        let Some(before) = existing.get(&p.origin_key) else {
            let number = next_number(&mut tx, "findings", engagement_id).await?;
            let finding_id: i64 = sqlx::query_scalar(
                r#"insert into findings (engagement_id, firm_id, number, area, severity, title, description,
                                         confidence, status, origin, origin_key, evidence, edited_fields,
                                         version, created_at, updated_at)
                   values ($1, $2, $3, $4, $5, $6, $7, $8, 'open', $12, $9, $10, '', 1, $11, $11)
                   returning finding_id"#,
            )
            .bind(engagement_id)
            .bind(firm_id)
            .bind(number)
            .bind(p.area.as_str())
            .bind(p.severity.as_str())
            .bind(&p.title)
            .bind(&p.description)
            .bind(p.confidence.as_str())
            .bind(&p.origin_key)
            .bind(&evidence)
            .bind(now)
            .bind(origin.as_str())
            .fetch_one(&mut *tx)
            .await?;
            let after = finding_in(&mut tx, firm_id, engagement_id, finding_id).await?;
            activity::record(
                &mut tx,
                Change {
                    engagement_id,
                    firm_id,
                    actor,
                    subject: Subject::Finding,
                    subject_ref: after.reference(),
                    action: "generated",
                    summary: format!(
                        "{} suggested from {source}: {}",
                        after.reference(),
                        after.title
                    ),
                    before: None,
                    after: finding_snapshot(&after),
                },
            )
            .await?;
            report.created.push(after.reference());
            continue;
        };
        let edited = |name: &str| before.edited_fields.iter().any(|e| e == name);
        let keep_or = |name: &str, current: String, proposed: String| {
            if edited(name) {
                current
            } else {
                proposed
            }
        };
        let severity = if edited("severity") {
            before.severity
        } else {
            p.severity
        };
        let confidence = if edited("confidence") {
            before.confidence
        } else {
            p.confidence
        };
        let area = if edited("area") { before.area } else { p.area };
        let title = keep_or("title", before.title.clone(), p.title.clone());
        let description = keep_or(
            "description",
            before.description.clone(),
            p.description.clone(),
        );
        // A weakness that came back reopens the finding the step had resolved.
        let status = if before.status == FindingStatus::Resolved && !edited("status") {
            FindingStatus::Open
        } else {
            before.status
        };
        // Links a consultant added by hand stay; the answer's own evidence is refreshed.
        let mut merged: Vec<EvidenceLink> = p.evidence.clone();
        for e in &before.evidence {
            if e.kind == EvidenceKind::Link && !merged.contains(e) {
                merged.push(e.clone());
            }
        }
        let unchanged = severity == before.severity
            && confidence == before.confidence
            && area == before.area
            && title == before.title
            && description == before.description
            && status == before.status
            && merged == before.evidence;
        if unchanged {
            report.unchanged += 1;
            continue;
        }
        let merged_json =
            serde_json::to_string(&merged).map_err(|e| Error::Internal(e.to_string()))?;
        sqlx::query(
            r#"update findings set area = $1, severity = $2, title = $3, description = $4, confidence = $5,
                                   status = $6, evidence = $7, version = version + 1, updated_at = $8
               where finding_id = $9"#,
        )
        .bind(area.as_str())
        .bind(severity.as_str())
        .bind(&title)
        .bind(&description)
        .bind(confidence.as_str())
        .bind(status.as_str())
        .bind(&merged_json)
        .bind(now)
        .bind(before.finding_id)
        .execute(&mut *tx)
        .await?;
        let after = finding_in(&mut tx, firm_id, engagement_id, before.finding_id).await?;
        let action = if status != before.status {
            "reopened"
        } else {
            "generated"
        };
        activity::record(
            &mut tx,
            Change {
                engagement_id,
                firm_id,
                actor,
                subject: Subject::Finding,
                subject_ref: after.reference(),
                action,
                summary: format!("{} brought up to date with {source}", after.reference()),
                before: finding_snapshot(before),
                after: finding_snapshot(&after),
            },
        )
        .await?;
        report.updated.push(after.reference());
    }
    // Findings whose answer is no longer weak: resolved, unless a consultant set the status.
    for (key, before) in &existing {
        if wanted.contains(key.as_str())
            || keep.contains(key)
            || before.status != FindingStatus::Open
            || before.edited_fields.iter().any(|e| e == "status")
        {
            if !wanted.contains(key.as_str()) {
                report.unchanged += 1;
            }
            continue;
        }
        sqlx::query(
            "update findings set status = 'resolved', version = version + 1, updated_at = $1 where finding_id = $2",
        )
        .bind(now)
        .bind(before.finding_id)
        .execute(&mut *tx)
        .await?;
        let after = finding_in(&mut tx, firm_id, engagement_id, before.finding_id).await?;
        activity::record(
            &mut tx,
            Change {
                engagement_id,
                firm_id,
                actor,
                subject: Subject::Finding,
                subject_ref: after.reference(),
                action: "resolved",
                summary: format!(
                    "{} resolved: {source} no longer show the weakness",
                    after.reference()
                ),
                before: finding_snapshot(before),
                after: finding_snapshot(&after),
            },
        )
        .await?;
        report.resolved.push(after.reference());
    }
    tx.commit().await?;
    Ok(report)
}

/// A waiver (an accepted decision record with an expiry) makes its findings accepted risks until
/// `until` (ms). Called by the decision store in its transaction.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn hold_waiver(
    conn: &mut AnyConnection,
    actor: &Actor,
    firm_id: i64,
    engagement_id: i64,
    decision_id: i64,
    decision_ref: &str,
    finding_ids: &[i64],
    until: i64,
) -> Result<()> {
    for &finding_id in finding_ids {
        let before = finding_in(conn, firm_id, engagement_id, finding_id).await?;
        if before.status == FindingStatus::Resolved {
            continue;
        }
        if before.status == FindingStatus::AcceptedRisk && before.accepted_until == Some(until) {
            continue;
        }
        sqlx::query(
            r#"update findings set status = 'accepted_risk', accepted_until = $1, waiver_decision_id = $2,
                                   version = version + 1, updated_at = $3
               where finding_id = $4"#,
        )
        .bind(until)
        .bind(decision_id)
        .bind(now_ms())
        .bind(finding_id)
        .execute(&mut *conn)
        .await?;
        let after = finding_in(conn, firm_id, engagement_id, finding_id).await?;
        activity::record(
            conn,
            Change {
                engagement_id,
                firm_id,
                actor,
                subject: Subject::Finding,
                subject_ref: after.reference(),
                action: "waived",
                summary: format!(
                    "{} is an accepted risk under {decision_ref} until its expiry",
                    after.reference()
                ),
                before: finding_snapshot(&before),
                after: finding_snapshot(&after),
            },
        )
        .await?;
    }
    Ok(())
}

/// The findings a waiver held that it no longer holds (record rejected, superseded, deprecated,
/// its expiry removed, or the finding unlinked) open again; `keep` lists the ones it still holds.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn release_waiver(
    conn: &mut AnyConnection,
    actor: &Actor,
    firm_id: i64,
    engagement_id: i64,
    decision_id: i64,
    decision_ref: &str,
    keep: &[i64],
) -> Result<()> {
    let ids: Vec<i64> = sqlx::query_scalar(
        "select finding_id from findings where waiver_decision_id = $1 and status = 'accepted_risk'",
    )
    .bind(decision_id)
    .fetch_all(&mut *conn)
    .await?;
    for finding_id in ids.into_iter().filter(|id| !keep.contains(id)) {
        reopen(
            conn,
            actor,
            firm_id,
            engagement_id,
            finding_id,
            &format!("its waiver {decision_ref} no longer holds"),
        )
        .await?;
    }
    Ok(())
}

async fn reopen(
    conn: &mut AnyConnection,
    actor: &Actor,
    firm_id: i64,
    engagement_id: i64,
    finding_id: i64,
    why: &str,
) -> Result<()> {
    let before = finding_in(conn, firm_id, engagement_id, finding_id).await?;
    let reopened = sqlx::query(
        r#"update findings set status = 'open', accepted_until = null, waiver_decision_id = null,
                               version = version + 1, updated_at = $1
           where finding_id = $2 and status = 'accepted_risk'"#,
    )
    .bind(now_ms())
    .bind(finding_id)
    .execute(&mut *conn)
    .await?;
    // Another worker got there first: nothing to write down twice.
    if reopened.rows_affected() == 0 {
        return Ok(());
    }
    let after = finding_in(conn, firm_id, engagement_id, finding_id).await?;
    activity::record(
        conn,
        Change {
            engagement_id,
            firm_id,
            actor,
            subject: Subject::Finding,
            subject_ref: after.reference(),
            action: "reopened",
            summary: format!("{} reopened: {why}", after.reference()),
            before: finding_snapshot(&before),
            after: finding_snapshot(&after),
        },
    )
    .await?;
    Ok(())
}

/// The scheduled job: every finding whose waiver ran out before `now` opens again. Returns how
/// many it reopened.
pub async fn reopen_expired_waivers(db: &Db, now: i64) -> Result<usize> {
    let due: Vec<(i64, i64, i64)> = sqlx::query_as(
        r#"select finding_id, engagement_id, firm_id from findings
           where status = 'accepted_risk' and accepted_until is not null and accepted_until <= $1
           order by finding_id limit 500"#,
    )
    .bind(now)
    .fetch_all(db.pool())
    .await?;
    let actor = Actor::plumbline();
    for (finding_id, engagement_id, firm_id) in &due {
        let mut tx = db.begin_write().await?;
        reopen(
            &mut tx,
            &actor,
            *firm_id,
            *engagement_id,
            *finding_id,
            "its waiver expired",
        )
        .await?;
        tx.commit().await?;
    }
    Ok(due.len())
}
