//! Storage of decision records: numbering, links to findings and interventions, superseding,
//! waivers, and export to / import from zips of ADR files. Every change is written to the
//! activity log in the same transaction.
use std::collections::{HashMap, HashSet};

use serde::{Deserialize, Serialize};
use sqlx::{AnyConnection, Row};

use super::adr::{self, AdrRecord, SkippedFile};
use super::model::*;
use crate::accounts::Member;
use crate::activity::{self, Actor, Change, Subject};
use crate::clock::{now_ms, DAY_MS};
use crate::db::Db;
use crate::engagements::{all_in_engagement, check_firm_engagement};
use crate::error::{Error, Result};
use crate::findings;
use crate::markdown::to_safe_html;

const COLUMNS: &str =
    "decision_id, number, title, status, context, options, decision, consequences, \
                       decided_on, deciders, supersedes_id, superseded_by_id, expires_on, version, \
                       created_at, updated_at";

/// A row before its links are filled in: (decision, supersedes_id, superseded_by_id).
fn decision_from_row(row: &sqlx::any::AnyRow) -> Result<(Decision, Option<i64>, Option<i64>)> {
    let status: String = row.try_get("status")?;
    let context: String = row.try_get("context")?;
    let options: String = row.try_get("options")?;
    let decision: String = row.try_get("decision")?;
    let consequences: String = row.try_get("consequences")?;
    Ok((
        Decision {
            decision_id: row.try_get("decision_id")?,
            number: row.try_get("number")?,
            title: row.try_get("title")?,
            status: DecisionStatus::parse(&status)
                .ok_or_else(|| Error::Internal("decision row has an unknown status".to_owned()))?,
            context_html: to_safe_html(&context),
            options_html: to_safe_html(&options),
            decision_html: to_safe_html(&decision),
            consequences_html: to_safe_html(&consequences),
            context,
            options,
            decision,
            consequences,
            decided_on: row.try_get("decided_on")?,
            deciders: row.try_get("deciders")?,
            supersedes: None,
            superseded_by: None,
            expires_on: row.try_get("expires_on")?,
            finding_ids: Vec::new(),
            intervention_ids: Vec::new(),
            version: row.try_get("version")?,
            created_at: row.try_get("created_at")?,
            updated_at: row.try_get("updated_at")?,
        },
        row.try_get("supersedes_id")?,
        row.try_get("superseded_by_id")?,
    ))
}

/// Every record of the engagement with its links, by number.
async fn load(conn: &mut AnyConnection, engagement_id: i64) -> Result<Vec<Decision>> {
    let sql = format!(
        "select {COLUMNS} from decisions where engagement_id = $1 order by number limit 1000"
    );
    let rows = sqlx::query(&sql)
        .bind(engagement_id)
        .fetch_all(&mut *conn)
        .await?;
    let parsed = rows
        .iter()
        .map(decision_from_row)
        .collect::<Result<Vec<_>>>()?;
    let refs: HashMap<i64, DecisionRef> = parsed
        .iter()
        .map(|(d, ..)| {
            (
                d.decision_id,
                DecisionRef {
                    decision_id: d.decision_id,
                    number: d.number,
                    title: d.title.clone(),
                },
            )
        })
        .collect();
    let mut decisions: Vec<Decision> = parsed
        .into_iter()
        .map(|(mut d, supersedes, superseded_by)| {
            d.supersedes = supersedes.and_then(|id| refs.get(&id).cloned());
            d.superseded_by = superseded_by.and_then(|id| refs.get(&id).cloned());
            d
        })
        .collect();
    let position: HashMap<i64, usize> = decisions
        .iter()
        .enumerate()
        .map(|(i, d)| (d.decision_id, i))
        .collect();
    let finding_links: Vec<(i64, i64)> = sqlx::query_as(
        r#"select l.decision_id, l.finding_id from decision_findings l
           join decisions d on d.decision_id = l.decision_id
           where d.engagement_id = $1 order by l.finding_id"#,
    )
    .bind(engagement_id)
    .fetch_all(&mut *conn)
    .await?;
    for (decision_id, finding_id) in finding_links {
        if let Some(&i) = position.get(&decision_id) {
            decisions[i].finding_ids.push(finding_id);
        }
    }
    let intervention_links: Vec<(i64, i64)> = sqlx::query_as(
        r#"select l.decision_id, l.intervention_id from decision_interventions l
           join decisions d on d.decision_id = l.decision_id
           where d.engagement_id = $1 order by l.intervention_id"#,
    )
    .bind(engagement_id)
    .fetch_all(&mut *conn)
    .await?;
    for (decision_id, intervention_id) in intervention_links {
        if let Some(&i) = position.get(&decision_id) {
            decisions[i].intervention_ids.push(intervention_id);
        }
    }
    Ok(decisions)
}

async fn one(conn: &mut AnyConnection, engagement_id: i64, decision_id: i64) -> Result<Decision> {
    load(conn, engagement_id)
        .await?
        .into_iter()
        .find(|d| d.decision_id == decision_id)
        .ok_or(Error::NotFound)
}

/// The engagement's records by number.
pub async fn list_decisions(db: &Db, firm_id: i64, engagement_id: i64) -> Result<Vec<Decision>> {
    check_firm_engagement(db, firm_id, engagement_id).await?;
    let mut conn = db.pool().acquire().await?;
    load(&mut conn, engagement_id).await
}

pub async fn get_decision(
    db: &Db,
    firm_id: i64,
    engagement_id: i64,
    decision_id: i64,
) -> Result<Decision> {
    check_firm_engagement(db, firm_id, engagement_id).await?;
    let mut conn = db.pool().acquire().await?;
    one(&mut conn, engagement_id, decision_id).await
}

/// What the activity log keeps of a record.
fn snapshot(d: &Decision) -> Option<String> {
    activity::snapshot(&serde_json::json!({
        "title": d.title,
        "status": d.status,
        "context": d.context,
        "options": d.options,
        "decision": d.decision,
        "consequences": d.consequences,
        "decided_on": d.decided_on,
        "deciders": d.deciders,
        "supersedes": d.supersedes.as_ref().map(DecisionRef::reference),
        "superseded_by": d.superseded_by.as_ref().map(DecisionRef::reference),
        "expires_on": d.expires_on,
        "finding_ids": d.finding_ids,
        "intervention_ids": d.intervention_ids,
    }))
}

const DATE_FORMAT: &[time::format_description::FormatItem<'static>] =
    time::macros::format_description!("[year]-[month]-[day]");

/// The moment a waiver expiring on `date` (YYYY-MM-DD) stops holding: the end of that day, UTC.
fn waiver_end_ms(date: &str) -> Option<i64> {
    let day = time::Date::parse(date, DATE_FORMAT).ok()?;
    let midnight = day.midnight().assume_utc().unix_timestamp() * 1000;
    Some(midnight + DAY_MS)
}

/// Checks the links and the expiry of a form against the engagement.
async fn check_fields(
    conn: &mut AnyConnection,
    engagement_id: i64,
    decision_id: Option<i64>,
    fields: &DecisionFields,
    expiry_changed: bool,
) -> Result<()> {
    if let Some(old) = fields.supersedes {
        if Some(old) == decision_id {
            return Err(Error::invalid(
                "supersedes",
                "A record cannot supersede itself.",
            ));
        }
        if !all_in_engagement(conn, "decisions", "decision_id", &[old], engagement_id).await? {
            return Err(Error::invalid(
                "supersedes",
                "Choose a record of this engagement to supersede.",
            ));
        }
    }
    if !all_in_engagement(
        conn,
        "findings",
        "finding_id",
        &fields.finding_ids,
        engagement_id,
    )
    .await?
    {
        return Err(Error::invalid(
            "finding_ids",
            "A linked finding must be a finding of this engagement.",
        ));
    }
    if !all_in_engagement(
        conn,
        "interventions",
        "intervention_id",
        &fields.intervention_ids,
        engagement_id,
    )
    .await?
    {
        return Err(Error::invalid(
            "intervention_ids",
            "A linked intervention must be an intervention of this engagement.",
        ));
    }
    if let (Some(expires), true) = (&fields.expires_on, expiry_changed) {
        if waiver_end_ms(expires).is_none_or(|end| end <= now_ms()) {
            return Err(Error::invalid(
                "expires_on",
                "The expiry date has passed; a waiver needs a date from today on.",
            ));
        }
    }
    Ok(())
}

async fn write_links(
    conn: &mut AnyConnection,
    decision_id: i64,
    fields: &DecisionFields,
) -> Result<()> {
    sqlx::query("delete from decision_findings where decision_id = $1")
        .bind(decision_id)
        .execute(&mut *conn)
        .await?;
    sqlx::query("delete from decision_interventions where decision_id = $1")
        .bind(decision_id)
        .execute(&mut *conn)
        .await?;
    for &f in &fields.finding_ids {
        sqlx::query("insert into decision_findings (decision_id, finding_id) values ($1, $2)")
            .bind(decision_id)
            .bind(f)
            .execute(&mut *conn)
            .await?;
    }
    for &i in &fields.intervention_ids {
        sqlx::query(
            "insert into decision_interventions (decision_id, intervention_id) values ($1, $2)",
        )
        .bind(decision_id)
        .bind(i)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// What follows from a record's state: an accepted record that supersedes another marks the
/// older one superseded (and links back); an accepted record with an expiry holds its linked
/// findings as accepted risks; a record that stops being a waiver releases them.
async fn apply_consequences(
    conn: &mut AnyConnection,
    actor: &Actor,
    firm_id: i64,
    engagement_id: i64,
    decision: &Decision,
) -> Result<()> {
    if decision.status == DecisionStatus::Accepted {
        if let Some(old) = &decision.supersedes {
            let before = one(conn, engagement_id, old.decision_id).await?;
            let already = before.status == DecisionStatus::Superseded
                && before.superseded_by.as_ref().map(|r| r.decision_id)
                    == Some(decision.decision_id);
            if !already {
                sqlx::query(
                    r#"update decisions set status = 'superseded', superseded_by_id = $1,
                                            version = version + 1, updated_at = $2
                       where decision_id = $3"#,
                )
                .bind(decision.decision_id)
                .bind(now_ms())
                .bind(old.decision_id)
                .execute(&mut *conn)
                .await?;
                let after = one(conn, engagement_id, old.decision_id).await?;
                activity::record(
                    conn,
                    Change {
                        engagement_id,
                        firm_id,
                        actor,
                        subject: Subject::Decision,
                        subject_ref: after.reference(),
                        action: "superseded",
                        summary: format!(
                            "{} superseded by {} {}",
                            after.reference(),
                            decision.reference(),
                            decision.title
                        ),
                        before: snapshot(&before),
                        after: snapshot(&after),
                    },
                )
                .await?;
                // A superseded waiver no longer holds its findings.
                findings::release_waiver(
                    conn,
                    actor,
                    firm_id,
                    engagement_id,
                    old.decision_id,
                    &after.reference(),
                    &[],
                )
                .await?;
            }
        }
    }
    let waiver_end = match (&decision.status, &decision.expires_on) {
        (DecisionStatus::Accepted, Some(expires)) => waiver_end_ms(expires),
        _ => None,
    };
    let held: &[i64] = if waiver_end.is_some() {
        &decision.finding_ids
    } else {
        &[]
    };
    findings::release_waiver(
        conn,
        actor,
        firm_id,
        engagement_id,
        decision.decision_id,
        &decision.reference(),
        held,
    )
    .await?;
    if let Some(until) = waiver_end {
        findings::hold_waiver(
            conn,
            actor,
            firm_id,
            engagement_id,
            decision.decision_id,
            &decision.reference(),
            held,
            until,
        )
        .await?;
    }
    Ok(())
}

/// Writes a new record with the next number. Accepting a record that supersedes another marks
/// the older one superseded and links both ways; an accepted record with an expiry makes its
/// linked findings accepted risks until then.
pub async fn create_decision(
    db: &Db,
    member: &Member,
    engagement_id: i64,
    input: &DecisionInput,
) -> Result<Decision> {
    check_firm_engagement(db, member.firm_id, engagement_id).await?;
    let fields = input.parse().map_err(Error::Invalid)?;
    let actor = Actor::from(member);
    findings::with_retry(|| async {
        let mut tx = db.begin_write().await?;
        check_fields(&mut tx, engagement_id, None, &fields, true).await?;
        let number = findings::next_number(&mut tx, "decisions", engagement_id).await?;
        let now = now_ms();
        let decision_id: i64 = sqlx::query_scalar(
            r#"insert into decisions (engagement_id, firm_id, number, title, status, context, options, decision,
                                      consequences, decided_on, deciders, supersedes_id, expires_on, version,
                                      created_by, created_at, updated_at)
               values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, 1, $14, $15, $15)
               returning decision_id"#,
        )
        .bind(engagement_id)
        .bind(member.firm_id)
        .bind(number)
        .bind(&fields.title)
        .bind(fields.status.as_str())
        .bind(&fields.context)
        .bind(&fields.options)
        .bind(&fields.decision)
        .bind(&fields.consequences)
        .bind(&fields.decided_on)
        .bind(&fields.deciders)
        .bind(fields.supersedes)
        .bind(&fields.expires_on)
        .bind(member.user_id)
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        write_links(&mut tx, decision_id, &fields).await?;
        let created = one(&mut tx, engagement_id, decision_id).await?;
        activity::record(
            &mut tx,
            Change {
                engagement_id,
                firm_id: member.firm_id,
                actor: &actor,
                subject: Subject::Decision,
                subject_ref: created.reference(),
                action: "created",
                summary: format!(
                    "{} written ({}): {}",
                    created.reference(),
                    created.status.label(),
                    created.title
                ),
                before: None,
                after: snapshot(&created),
            },
        )
        .await?;
        // Consequences change the superseded record and the waived findings, not this one.
        apply_consequences(&mut tx, &actor, member.firm_id, engagement_id, &created).await?;
        tx.commit().await?;
        Ok(created)
    })
    .await
}

fn stale() -> Error {
    Error::Conflict {
        field: None,
        message: "Someone changed this decision record since you opened it. Reload to see their \
                  change, then make yours again."
            .to_owned(),
    }
}

pub async fn update_decision(
    db: &Db,
    member: &Member,
    engagement_id: i64,
    decision_id: i64,
    input: &DecisionInput,
) -> Result<Decision> {
    check_firm_engagement(db, member.firm_id, engagement_id).await?;
    let fields = input.parse().map_err(Error::Invalid)?;
    let actor = Actor::from(member);
    let mut tx = db.begin_write().await?;
    let before = one(&mut tx, engagement_id, decision_id).await?;
    if fields.version != before.version {
        return Err(stale());
    }
    let expiry_changed = fields.expires_on != before.expires_on;
    check_fields(
        &mut tx,
        engagement_id,
        Some(decision_id),
        &fields,
        expiry_changed,
    )
    .await?;
    let updated = sqlx::query(
        r#"update decisions set title = $1, status = $2, context = $3, options = $4, decision = $5,
                                consequences = $6, decided_on = $7, deciders = $8, supersedes_id = $9,
                                expires_on = $10, version = version + 1, updated_at = $11
           where decision_id = $12 and version = $13"#,
    )
    .bind(&fields.title)
    .bind(fields.status.as_str())
    .bind(&fields.context)
    .bind(&fields.options)
    .bind(&fields.decision)
    .bind(&fields.consequences)
    .bind(&fields.decided_on)
    .bind(&fields.deciders)
    .bind(fields.supersedes)
    .bind(&fields.expires_on)
    .bind(now_ms())
    .bind(decision_id)
    .bind(before.version)
    .execute(&mut *tx)
    .await?;
    if updated.rows_affected() != 1 {
        return Err(stale());
    }
    write_links(&mut tx, decision_id, &fields).await?;
    let after = one(&mut tx, engagement_id, decision_id).await?;
    let summary = if before.status != after.status {
        format!(
            "{} {} → {}: {}",
            after.reference(),
            before.status.label(),
            after.status.label(),
            after.title
        )
    } else {
        format!("{} changed: {}", after.reference(), after.title)
    };
    activity::record(
        &mut tx,
        Change {
            engagement_id,
            firm_id: member.firm_id,
            actor: &actor,
            subject: Subject::Decision,
            subject_ref: after.reference(),
            action: "updated",
            summary,
            before: snapshot(&before),
            after: snapshot(&after),
        },
    )
    .await?;
    apply_consequences(&mut tx, &actor, member.firm_id, engagement_id, &after).await?;
    tx.commit().await?;
    Ok(after)
}

fn as_adr(d: &Decision) -> AdrRecord {
    let number = |n: i64| u32::try_from(n).unwrap_or(0);
    AdrRecord {
        number: number(d.number),
        title: d.title.clone(),
        status: d.status,
        date: d.decided_on.clone(),
        deciders: d.deciders.clone(),
        context: d.context.clone(),
        options: d.options.clone(),
        decision: d.decision.clone(),
        consequences: d.consequences.clone(),
        supersedes: d.supersedes.as_ref().map(|r| number(r.number)),
        superseded_by: d.superseded_by.as_ref().map(|r| number(r.number)),
        expires: d.expires_on.clone(),
    }
}

/// The records as a zip of `docs/adr/NNNN-title.md` files; returns (file name, bytes).
pub async fn export_decisions_zip(
    db: &Db,
    firm_id: i64,
    engagement_id: i64,
) -> Result<(String, Vec<u8>)> {
    let decisions = list_decisions(db, firm_id, engagement_id).await?;
    let records: Vec<AdrRecord> = decisions.iter().map(as_adr).collect();
    let bytes = adr::adrs_to_zip(&records).map_err(Error::Internal)?;
    Ok((
        format!("engagement-{engagement_id}-decision-records.zip"),
        bytes,
    ))
}

/// What an import did.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DecisionImport {
    /// "ADR-0003 Use PostgreSQL", one per record imported.
    pub imported: Vec<String>,
    /// Files that could not be read as records, with why.
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<Object>))]
    pub skipped: Vec<SkippedFile>,
}

/// Imports records from a zip of ADR files (MADR or Nygard). Numbers are kept when they are
/// all free in the engagement; otherwise the records are numbered after the existing ones, and
/// their supersede links follow.
pub async fn import_decisions_zip(
    db: &Db,
    member: &Member,
    engagement_id: i64,
    bytes: &[u8],
) -> Result<DecisionImport> {
    check_firm_engagement(db, member.firm_id, engagement_id).await?;
    let read = adr::adrs_from_zip(bytes).map_err(|message| {
        Error::invalid(
            "file",
            format!("The file could not be imported: {message}."),
        )
    })?;
    let actor = Actor::from(member);
    let mut tx = db.begin_write().await?;
    let taken: HashSet<i64> = load(&mut tx, engagement_id)
        .await?
        .iter()
        .map(|d| d.number)
        .collect();
    let offset = if read
        .records
        .iter()
        .any(|r| taken.contains(&i64::from(r.number)))
    {
        taken.iter().copied().max().unwrap_or(0)
    } else {
        0
    };
    let now = now_ms();
    let mut ids: HashMap<u32, i64> = HashMap::new();
    let mut imported = Vec::new();
    for record in &read.records {
        let number = i64::from(record.number) + offset;
        let decision_id: i64 = sqlx::query_scalar(
            r#"insert into decisions (engagement_id, firm_id, number, title, status, context, options, decision,
                                      consequences, decided_on, deciders, expires_on, version,
                                      created_by, created_at, updated_at)
               values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 1, $13, $14, $14)
               returning decision_id"#,
        )
        .bind(engagement_id)
        .bind(member.firm_id)
        .bind(number)
        .bind(&record.title)
        .bind(record.status.as_str())
        .bind(&record.context)
        .bind(&record.options)
        .bind(&record.decision)
        .bind(&record.consequences)
        .bind(&record.date)
        .bind(&record.deciders)
        .bind(&record.expires)
        .bind(member.user_id)
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        ids.insert(record.number, decision_id);
    }
    // Supersede links point within the archive; one to a record it does not hold is dropped.
    for record in &read.records {
        let Some(&id) = ids.get(&record.number) else {
            continue;
        };
        let supersedes = record.supersedes.and_then(|n| ids.get(&n).copied());
        let superseded_by = record.superseded_by.and_then(|n| ids.get(&n).copied());
        if supersedes.is_some() || superseded_by.is_some() {
            sqlx::query(
                "update decisions set supersedes_id = $1, superseded_by_id = $2 where decision_id = $3",
            )
            .bind(supersedes)
            .bind(superseded_by)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        }
        let created = one(&mut tx, engagement_id, id).await?;
        activity::record(
            &mut tx,
            Change {
                engagement_id,
                firm_id: member.firm_id,
                actor: &actor,
                subject: Subject::Decision,
                subject_ref: created.reference(),
                action: "imported",
                summary: format!("{} imported: {}", created.reference(), created.title),
                before: None,
                after: snapshot(&created),
            },
        )
        .await?;
        imported.push(format!("{} {}", created.reference(), created.title));
    }
    tx.commit().await?;
    Ok(DecisionImport {
        imported,
        skipped: read.skipped,
    })
}
