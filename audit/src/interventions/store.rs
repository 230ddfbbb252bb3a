//! Storage of interventions, their links to findings and their dependencies. The order and the
//! roadmap are computed by the pure planner (`plan.rs`) from what is stored here.
use std::collections::{HashMap, HashSet};

use serde::{Deserialize, Serialize};
use sqlx::{AnyConnection, Row};

use super::model::*;
use super::plan::{self, DependencyCycle, PinProblem, PlanItem};
use crate::accounts::Member;
use crate::activity::{self, Actor, Change, Subject};
use crate::clock::now_ms;
use crate::db::Db;
use crate::engagements::{all_in_engagement, check_firm_engagement};
use crate::error::{Error, Result};
use crate::findings::{self, Confidence, EvidenceKind, FindingStatus};
use crate::markdown::to_safe_html;
use crate::questionnaire;

/// What "Suggest interventions" did.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct InterventionSuggestReport {
    /// References of interventions made now (I-4, …).
    pub created: Vec<String>,
    /// Existing interventions that got links to more findings.
    pub linked: Vec<String>,
}

const COLUMNS: &str =
    "intervention_id, number, template_id, title, rationale, impact, expected_effect, \
                       effort_weeks, confidence, pinned_position, version, created_at, updated_at";

fn intervention_from_row(row: &sqlx::any::AnyRow) -> Result<Intervention> {
    let rationale: String = row.try_get("rationale")?;
    let impact: i64 = row.try_get("impact")?;
    let effort_weeks: f64 = row.try_get("effort_weeks")?;
    let confidence: String = row.try_get("confidence")?;
    let confidence = Confidence::parse(&confidence)
        .ok_or_else(|| Error::Internal("intervention row has an unknown confidence".to_owned()))?;
    let impact = u32::try_from(impact).unwrap_or(1);
    Ok(Intervention {
        intervention_id: row.try_get("intervention_id")?,
        number: row.try_get("number")?,
        template_id: row.try_get("template_id")?,
        title: row.try_get("title")?,
        rationale_html: to_safe_html(&rationale),
        rationale,
        impact,
        expected_effect: row.try_get("expected_effect")?,
        effort_weeks,
        confidence,
        priority: plan::priority(impact, confidence.factor(), effort_weeks),
        depends_on: Vec::new(),
        finding_ids: Vec::new(),
        pinned_position: row.try_get("pinned_position")?,
        version: row.try_get("version")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

/// Every intervention of the engagement with its dependencies and findings, by number.
async fn load(conn: &mut AnyConnection, engagement_id: i64) -> Result<Vec<Intervention>> {
    let sql = format!(
        "select {COLUMNS} from interventions where engagement_id = $1 order by number limit 1000"
    );
    let rows = sqlx::query(&sql)
        .bind(engagement_id)
        .fetch_all(&mut *conn)
        .await?;
    let mut interventions = rows
        .iter()
        .map(intervention_from_row)
        .collect::<Result<Vec<_>>>()?;
    let dependencies: Vec<(i64, i64)> = sqlx::query_as(
        r#"select d.intervention_id, d.depends_on_id from intervention_dependencies d
           join interventions i on i.intervention_id = d.intervention_id
           where i.engagement_id = $1 order by d.depends_on_id"#,
    )
    .bind(engagement_id)
    .fetch_all(&mut *conn)
    .await?;
    let links: Vec<(i64, i64)> = sqlx::query_as(
        r#"select l.intervention_id, l.finding_id from intervention_findings l
           join interventions i on i.intervention_id = l.intervention_id
           where i.engagement_id = $1 order by l.finding_id"#,
    )
    .bind(engagement_id)
    .fetch_all(&mut *conn)
    .await?;
    let position: HashMap<i64, usize> = interventions
        .iter()
        .enumerate()
        .map(|(i, x)| (x.intervention_id, i))
        .collect();
    for (id, depends_on) in dependencies {
        if let Some(&i) = position.get(&id) {
            interventions[i].depends_on.push(depends_on);
        }
    }
    for (id, finding_id) in links {
        if let Some(&i) = position.get(&id) {
            interventions[i].finding_ids.push(finding_id);
        }
    }
    Ok(interventions)
}

fn plan_items(interventions: &[Intervention]) -> Vec<PlanItem> {
    interventions
        .iter()
        .map(|i| PlanItem {
            id: i.intervention_id,
            impact: i.impact,
            confidence: i.confidence.factor(),
            effort_weeks: i.effort_weeks,
            depends_on: i.depends_on.clone(),
        })
        .collect()
}

/// The shown order (pinned, else computed) with where it departs from the computed one.
fn build_plan(mut interventions: Vec<Intervention>) -> InterventionPlan {
    let items = plan_items(&interventions);
    let by_number: Vec<i64> = interventions.iter().map(|i| i.intervention_id).collect();
    let (computed, cycle) = match plan::computed_order(&items) {
        Ok(order) => (order, None),
        // Only an import or a race could store a circle; show the numbers' order and say so.
        Err(cycle) => (by_number.clone(), Some(cycle)),
    };
    let mut pinned: Vec<(i64, i64)> = interventions
        .iter()
        .filter_map(|i| i.pinned_position.map(|p| (p, i.intervention_id)))
        .collect();
    pinned.sort_unstable();
    let pinned: Vec<i64> = pinned.into_iter().map(|(_, id)| id).collect();
    let shown = if pinned.is_empty() || cycle.is_some() {
        computed.clone()
    } else {
        plan::effective_order(&items, &pinned).unwrap_or_else(|_| computed.clone())
    };
    let departures = plan::departures(&computed, &shown);
    let rank: HashMap<i64, usize> = shown.iter().enumerate().map(|(i, id)| (*id, i)).collect();
    interventions.sort_by_key(|i| rank.get(&i.intervention_id).copied().unwrap_or(usize::MAX));
    InterventionPlan {
        interventions,
        computed_order: computed,
        pinned: !pinned.is_empty(),
        departures,
        cycle,
    }
}

/// The engagement's interventions by number.
pub async fn list_interventions(
    db: &Db,
    firm_id: i64,
    engagement_id: i64,
) -> Result<Vec<Intervention>> {
    check_firm_engagement(db, firm_id, engagement_id).await?;
    let mut conn = db.pool().acquire().await?;
    load(&mut conn, engagement_id).await
}

/// The interventions in the order shown, with the computed order and where a pin departs from it.
pub async fn intervention_plan(
    db: &Db,
    firm_id: i64,
    engagement_id: i64,
) -> Result<InterventionPlan> {
    Ok(build_plan(
        list_interventions(db, firm_id, engagement_id).await?,
    ))
}

const DATE_FORMAT: &[time::format_description::FormatItem<'static>] =
    time::macros::format_description!("[year]-[month]-[day]");

fn date_after_weeks(start: time::Date, weeks: f64) -> String {
    // Whole days: a roadmap is read in days, not in hours.
    let days = (weeks * 7.0).round() as i64;
    let date = start
        .checked_add(time::Duration::days(days))
        .unwrap_or(start);
    date.format(DATE_FORMAT).unwrap_or_default()
}

/// The last day of work that ends `weeks` after `start`: a week's work from Monday 4 January ends
/// on Sunday 10 January, not on the Monday after.
fn last_day_after_weeks(start: time::Date, weeks: f64) -> String {
    let days = ((weeks * 7.0).round() as i64 - 1).max(0);
    let date = start
        .checked_add(time::Duration::days(days))
        .unwrap_or(start);
    date.format(DATE_FORMAT).unwrap_or_default()
}

/// The plan laid into weeks for `capacity` engineers from `start` (YYYY-MM-DD; today if None).
pub async fn roadmap(
    db: &Db,
    firm_id: i64,
    engagement_id: i64,
    capacity: u32,
    start: Option<String>,
) -> Result<(InterventionPlan, RoadmapView)> {
    let start_date = match start.as_deref() {
        Some(s) => time::Date::parse(s, DATE_FORMAT).map_err(|_| {
            Error::invalid("start", format!("\"{s}\" is not a date like 2027-01-04."))
        })?,
        None => time::OffsetDateTime::now_utc().date(),
    };
    let plan = intervention_plan(db, firm_id, engagement_id).await?;
    let items = plan_items(&plan.interventions);
    let shown: Vec<i64> = plan
        .interventions
        .iter()
        .map(|i| i.intervention_id)
        .collect();
    let laid = plan::schedule(&shown, &items, capacity);
    let by_id: HashMap<i64, &Intervention> = plan
        .interventions
        .iter()
        .map(|i| (i.intervention_id, i))
        .collect();
    let entries = laid
        .slots
        .iter()
        .filter_map(|slot| {
            let i = by_id.get(&slot.id)?;
            Some(RoadmapEntry {
                intervention_id: i.intervention_id,
                reference: i.reference(),
                title: i.title.clone(),
                engineer: slot.engineer,
                start_week: slot.start_week,
                end_week: slot.end_week,
                start_date: date_after_weeks(start_date, slot.start_week),
                end_date: last_day_after_weeks(start_date, slot.end_week),
            })
        })
        .collect();
    let view = RoadmapView {
        capacity: laid.capacity,
        start: start_date.format(DATE_FORMAT).unwrap_or_default(),
        end: last_day_after_weeks(start_date, laid.total_weeks),
        total_weeks: laid.total_weeks,
        entries,
    };
    Ok((plan, view))
}

/// What the activity log keeps of an intervention.
fn snapshot(i: &Intervention) -> Option<String> {
    activity::snapshot(&serde_json::json!({
        "title": i.title,
        "rationale": i.rationale,
        "impact": i.impact,
        "expected_effect": i.expected_effect,
        "effort_weeks": i.effort_weeks,
        "confidence": i.confidence,
        "depends_on": i.depends_on,
        "finding_ids": i.finding_ids,
        "pinned_position": i.pinned_position,
    }))
}

/// Refuses links to interventions or findings of another engagement.
async fn check_links(
    conn: &mut AnyConnection,
    engagement_id: i64,
    depends_on: &[i64],
    finding_ids: &[i64],
) -> Result<()> {
    if !all_in_engagement(
        conn,
        "interventions",
        "intervention_id",
        depends_on,
        engagement_id,
    )
    .await?
    {
        return Err(Error::invalid(
            "depends_on",
            "A dependency must be another intervention of this engagement.",
        ));
    }
    if !all_in_engagement(conn, "findings", "finding_id", finding_ids, engagement_id).await? {
        return Err(Error::invalid(
            "finding_ids",
            "A linked finding must be a finding of this engagement.",
        ));
    }
    Ok(())
}

/// "I-1 Slow query log → I-2 Fix N+1 queries → I-1 Slow query log"
fn describe_cycle(cycle: &DependencyCycle, interventions: &[Intervention]) -> String {
    let name = |id: &i64| {
        interventions
            .iter()
            .find(|i| i.intervention_id == *id)
            .map(|i| format!("{} {}", i.reference(), i.title))
            .unwrap_or_else(|| format!("#{id}"))
    };
    let mut names: Vec<String> = cycle.ids.iter().map(name).collect();
    if let Some(first) = cycle.ids.first() {
        names.push(name(first));
    }
    format!(
        "These interventions would depend on each other in a circle, so none could start: {}. Remove one of these dependencies.",
        names.join(" → ")
    )
}

async fn write_links(
    conn: &mut AnyConnection,
    intervention_id: i64,
    depends_on: &[i64],
    finding_ids: &[i64],
) -> Result<()> {
    sqlx::query("delete from intervention_dependencies where intervention_id = $1")
        .bind(intervention_id)
        .execute(&mut *conn)
        .await?;
    sqlx::query("delete from intervention_findings where intervention_id = $1")
        .bind(intervention_id)
        .execute(&mut *conn)
        .await?;
    for &d in depends_on {
        sqlx::query(
            "insert into intervention_dependencies (intervention_id, depends_on_id) values ($1, $2)",
        )
        .bind(intervention_id)
        .bind(d)
        .execute(&mut *conn)
        .await?;
    }
    for &f in finding_ids {
        sqlx::query(
            "insert into intervention_findings (intervention_id, finding_id) values ($1, $2)",
        )
        .bind(intervention_id)
        .bind(f)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

async fn one(
    conn: &mut AnyConnection,
    engagement_id: i64,
    intervention_id: i64,
) -> Result<Intervention> {
    load(conn, engagement_id)
        .await?
        .into_iter()
        .find(|i| i.intervention_id == intervention_id)
        .ok_or(Error::NotFound)
}

#[allow(clippy::too_many_arguments)]
async fn insert(
    conn: &mut AnyConnection,
    firm_id: i64,
    engagement_id: i64,
    template_id: Option<&str>,
    fields: &InterventionFields,
) -> Result<i64> {
    let number = findings::next_number(conn, "interventions", engagement_id).await?;
    let now = now_ms();
    let id: i64 = sqlx::query_scalar(
        r#"insert into interventions (engagement_id, firm_id, number, template_id, title, rationale, impact,
                                      expected_effect, effort_weeks, confidence, version, created_at, updated_at)
           values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 1, $11, $11)
           returning intervention_id"#,
    )
    .bind(engagement_id)
    .bind(firm_id)
    .bind(number)
    .bind(template_id)
    .bind(&fields.title)
    .bind(&fields.rationale)
    .bind(i64::from(fields.impact))
    .bind(&fields.expected_effect)
    .bind(fields.effort_weeks)
    .bind(fields.confidence.as_str())
    .bind(now)
    .fetch_one(&mut *conn)
    .await?;
    write_links(conn, id, &fields.depends_on, &fields.finding_ids).await?;
    Ok(id)
}

pub async fn create_intervention(
    db: &Db,
    member: &Member,
    engagement_id: i64,
    input: &InterventionInput,
) -> Result<Intervention> {
    check_firm_engagement(db, member.firm_id, engagement_id).await?;
    let fields = input.parse().map_err(Error::Invalid)?;
    findings::with_retry(|| async {
        let mut tx = db.begin_write().await?;
        check_links(
            &mut tx,
            engagement_id,
            &fields.depends_on,
            &fields.finding_ids,
        )
        .await?;
        let id = insert(&mut tx, member.firm_id, engagement_id, None, &fields).await?;
        let created = one(&mut tx, engagement_id, id).await?;
        activity::record(
            &mut tx,
            Change {
                engagement_id,
                firm_id: member.firm_id,
                actor: &Actor::from(member),
                subject: Subject::Intervention,
                subject_ref: created.reference(),
                action: "created",
                summary: format!("{} written: {}", created.reference(), created.title),
                before: None,
                after: snapshot(&created),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(created)
    })
    .await
}

fn stale() -> Error {
    Error::Conflict {
        field: None,
        message: "Someone changed this intervention since you opened it. Reload to see their \
                  change, then make yours again."
            .to_owned(),
    }
}

/// Edits an intervention; a dependency that would close a circle is refused with a message
/// naming the circle.
pub async fn update_intervention(
    db: &Db,
    member: &Member,
    engagement_id: i64,
    intervention_id: i64,
    input: &InterventionInput,
) -> Result<Intervention> {
    check_firm_engagement(db, member.firm_id, engagement_id).await?;
    let fields = input.parse().map_err(Error::Invalid)?;
    let mut tx = db.begin_write().await?;
    let all = load(&mut tx, engagement_id).await?;
    let before = all
        .iter()
        .find(|i| i.intervention_id == intervention_id)
        .cloned()
        .ok_or(Error::NotFound)?;
    if fields.version != before.version {
        return Err(stale());
    }
    if fields.depends_on.contains(&intervention_id) {
        return Err(Error::invalid(
            "depends_on",
            "An intervention cannot depend on itself.",
        ));
    }
    check_links(
        &mut tx,
        engagement_id,
        &fields.depends_on,
        &fields.finding_ids,
    )
    .await?;
    let mut items = plan_items(&all);
    for item in &mut items {
        if item.id == intervention_id {
            item.depends_on = fields.depends_on.clone();
        }
    }
    if let Some(cycle) = plan::find_cycle(&items) {
        return Err(Error::invalid("depends_on", describe_cycle(&cycle, &all)));
    }
    let updated = sqlx::query(
        r#"update interventions set title = $1, rationale = $2, impact = $3, expected_effect = $4,
                                    effort_weeks = $5, confidence = $6, version = version + 1, updated_at = $7
           where intervention_id = $8 and version = $9"#,
    )
    .bind(&fields.title)
    .bind(&fields.rationale)
    .bind(i64::from(fields.impact))
    .bind(&fields.expected_effect)
    .bind(fields.effort_weeks)
    .bind(fields.confidence.as_str())
    .bind(now_ms())
    .bind(intervention_id)
    .bind(before.version)
    .execute(&mut *tx)
    .await?;
    if updated.rows_affected() != 1 {
        return Err(stale());
    }
    write_links(
        &mut tx,
        intervention_id,
        &fields.depends_on,
        &fields.finding_ids,
    )
    .await?;
    let after = one(&mut tx, engagement_id, intervention_id).await?;
    activity::record(
        &mut tx,
        Change {
            engagement_id,
            firm_id: member.firm_id,
            actor: &Actor::from(member),
            subject: Subject::Intervention,
            subject_ref: after.reference(),
            action: "updated",
            summary: format!("{} changed: {}", after.reference(), after.title),
            before: snapshot(&before),
            after: snapshot(&after),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(after)
}

pub async fn delete_intervention(
    db: &Db,
    member: &Member,
    engagement_id: i64,
    intervention_id: i64,
) -> Result<()> {
    check_firm_engagement(db, member.firm_id, engagement_id).await?;
    let mut tx = db.begin_write().await?;
    let before = one(&mut tx, engagement_id, intervention_id).await?;
    sqlx::query("delete from interventions where intervention_id = $1")
        .bind(intervention_id)
        .execute(&mut *tx)
        .await?;
    activity::record(
        &mut tx,
        Change {
            engagement_id,
            firm_id: member.firm_id,
            actor: &Actor::from(member),
            subject: Subject::Intervention,
            subject_ref: before.reference(),
            action: "deleted",
            summary: format!("{} deleted: {}", before.reference(), before.title),
            before: snapshot(&before),
            after: None,
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Suggests interventions from the question bank's intervention ids of the findings that are
/// still open: one per catalogue entry, linked to every finding that points to it. Run again, it
/// only adds what is missing.
pub async fn suggest_interventions(
    db: &Db,
    member: &Member,
    engagement_id: i64,
) -> Result<InterventionSuggestReport> {
    let firm_id = member.firm_id;
    let open = findings::list_findings(db, firm_id, engagement_id).await?;
    let (_, bank) = questionnaire::engagement_bank(db, firm_id, engagement_id).await?;
    // Catalogue id → the open findings that call for it, in catalogue order.
    let mut wanted: Vec<(String, Vec<i64>)> = Vec::new();
    for finding in open.iter().filter(|f| f.status == FindingStatus::Open) {
        for evidence in finding
            .evidence
            .iter()
            .filter(|e| e.kind == EvidenceKind::Answer)
        {
            let Some(question) = bank.question(&evidence.target) else {
                continue;
            };
            for template_id in &question.interventions {
                match wanted.iter_mut().find(|(t, _)| t == template_id) {
                    Some((_, ids)) if !ids.contains(&finding.finding_id) => {
                        ids.push(finding.finding_id)
                    }
                    Some(_) => {}
                    None => wanted.push((template_id.clone(), vec![finding.finding_id])),
                }
            }
        }
    }
    let actor = Actor::from(member);
    findings::with_retry(|| async {
        let mut report = InterventionSuggestReport::default();
        let mut tx = db.begin_write().await?;
        let existing = load(&mut tx, engagement_id).await?;
        for (template_id, finding_ids) in &wanted {
            let Some(template) = bank.intervention(template_id) else {
                continue;
            };
            if let Some(current) = existing
                .iter()
                .find(|i| i.template_id.as_deref() == Some(template_id.as_str()))
            {
                let have: HashSet<i64> = current.finding_ids.iter().copied().collect();
                let missing: Vec<i64> = finding_ids
                    .iter()
                    .copied()
                    .filter(|f| !have.contains(f))
                    .collect();
                if missing.is_empty() {
                    continue;
                }
                for f in &missing {
                    sqlx::query(
                        "insert into intervention_findings (intervention_id, finding_id) values ($1, $2)",
                    )
                    .bind(current.intervention_id)
                    .bind(f)
                    .execute(&mut *tx)
                    .await?;
                }
                let after = one(&mut tx, engagement_id, current.intervention_id).await?;
                activity::record(
                    &mut tx,
                    Change {
                        engagement_id,
                        firm_id,
                        actor: &actor,
                        subject: Subject::Intervention,
                        subject_ref: after.reference(),
                        action: "linked",
                        summary: format!(
                            "{} linked to {} more finding(s)",
                            after.reference(),
                            missing.len()
                        ),
                        before: snapshot(current),
                        after: snapshot(&after),
                    },
                )
                .await?;
                report.linked.push(after.reference());
                continue;
            }
            let fields = InterventionFields {
                title: template.title.clone(),
                rationale: template.rationale.clone(),
                impact: template.impact.clamp(1, 5),
                expected_effect: String::new(),
                effort_weeks: template.effort_weeks.clamp(0.1, MAX_EFFORT_WEEKS),
                confidence: Confidence::Medium,
                depends_on: Vec::new(),
                finding_ids: finding_ids.clone(),
                version: 0,
            };
            let id = insert(&mut tx, firm_id, engagement_id, Some(template_id), &fields).await?;
            let created = one(&mut tx, engagement_id, id).await?;
            activity::record(
                &mut tx,
                Change {
                    engagement_id,
                    firm_id,
                    actor: &actor,
                    subject: Subject::Intervention,
                    subject_ref: created.reference(),
                    action: "generated",
                    summary: format!(
                        "{} suggested from the findings: {}",
                        created.reference(),
                        created.title
                    ),
                    before: None,
                    after: snapshot(&created),
                },
            )
            .await?;
            report.created.push(created.reference());
        }
        tx.commit().await?;
        Ok(report)
    })
    .await
}

fn pin_problem(problem: PinProblem, all: &[Intervention]) -> Error {
    let name = |id: i64| {
        all.iter()
            .find(|i| i.intervention_id == id)
            .map(|i| format!("{} {}", i.reference(), i.title))
            .unwrap_or_else(|| format!("#{id}"))
    };
    let message = match problem {
        PinProblem::DependencyAfter { id, dependency } => format!(
            "{} depends on {}, so it cannot come before it.",
            name(id),
            name(dependency)
        ),
        PinProblem::Unknown { id } => {
            format!("#{id} is not an intervention of this engagement.")
        }
        PinProblem::Duplicate { id } => format!("{} appears twice in the order.", name(id)),
    };
    Error::invalid("order", message)
}

/// Pins the shown order by hand (intervention ids in the wanted order; ones left out follow in
/// computed order). Refused when it puts an intervention before one it depends on.
pub async fn pin_order(
    db: &Db,
    member: &Member,
    engagement_id: i64,
    order: &[i64],
) -> Result<InterventionPlan> {
    if order.is_empty() {
        return Err(Error::invalid(
            "order",
            "List the interventions in the order you want.",
        ));
    }
    write_pins(db, member, engagement_id, order).await
}

/// Back to the computed order.
pub async fn clear_pinned_order(
    db: &Db,
    member: &Member,
    engagement_id: i64,
) -> Result<InterventionPlan> {
    write_pins(db, member, engagement_id, &[]).await
}

/// Stores `order` as the pinned positions (none: the computed order stands) and logs the order
/// before and after.
async fn write_pins(
    db: &Db,
    member: &Member,
    engagement_id: i64,
    order: &[i64],
) -> Result<InterventionPlan> {
    check_firm_engagement(db, member.firm_id, engagement_id).await?;
    let mut tx = db.begin_write().await?;
    let all = load(&mut tx, engagement_id).await?;
    plan::check_pinned_order(&plan_items(&all), order).map_err(|p| pin_problem(p, &all))?;
    let references = |plan: &InterventionPlan| -> Vec<String> {
        plan.interventions
            .iter()
            .map(Intervention::reference)
            .collect()
    };
    let before = references(&build_plan(all));
    sqlx::query("update interventions set pinned_position = null where engagement_id = $1")
        .bind(engagement_id)
        .execute(&mut *tx)
        .await?;
    for (position, id) in order.iter().enumerate() {
        sqlx::query(
            "update interventions set pinned_position = $1 where intervention_id = $2 and engagement_id = $3",
        )
        .bind(position as i64 + 1)
        .bind(id)
        .bind(engagement_id)
        .execute(&mut *tx)
        .await?;
    }
    let plan = build_plan(load(&mut tx, engagement_id).await?);
    let after = references(&plan);
    let (action, summary) = if order.is_empty() {
        (
            "unpinned",
            format!("Back to the computed order: {}", after.join(", ")),
        )
    } else {
        (
            "pinned",
            format!("Order pinned by hand: {}", after.join(", ")),
        )
    };
    activity::record(
        &mut tx,
        Change {
            engagement_id,
            firm_id: member.firm_id,
            actor: &Actor::from(member),
            subject: Subject::Intervention,
            subject_ref: "order".to_owned(),
            action,
            summary,
            before: activity::snapshot(&before),
            after: activity::snapshot(&after),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(plan)
}
