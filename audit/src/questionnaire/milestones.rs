//! Milestones: the consultant snapshots answers and scores; any two can be compared side by side.
use std::collections::HashMap;

use super::bank::{Area, Bank, Choice};
use super::model::*;
use super::scoring;
use super::store::{choices_of, engagement_bank};
use crate::accounts::Member;
use crate::clock::now_ms;
use crate::db::Db;
use crate::error::{Error, Result};
use crate::fields::required_text;

/// The order answers improve along; `None` for not applicable, which only changes.
fn rank(choice: Option<Choice>) -> Option<u8> {
    match choice {
        None | Some(Choice::No) | Some(Choice::DontKnow) => Some(0),
        Some(Choice::Partly) => Some(1),
        Some(Choice::Yes) => Some(2),
        Some(Choice::NotApplicable) => None,
    }
}

/// Compares two snapshots question by question, in the order of the later bank.
pub fn compare(bank: &Bank, before: Milestone, after: Milestone) -> MilestoneComparison {
    let old: HashMap<&str, Choice> = before
        .snapshot
        .answers
        .iter()
        .map(|(q, c)| (q.as_str(), *c))
        .collect();
    let new: HashMap<&str, Choice> = after
        .snapshot
        .answers
        .iter()
        .map(|(q, c)| (q.as_str(), *c))
        .collect();
    let changes = bank
        .questions()
        .filter_map(|q| {
            let (b, a) = (
                old.get(q.id.as_str()).copied(),
                new.get(q.id.as_str()).copied(),
            );
            if b == a {
                return None;
            }
            let trend = match (rank(b), rank(a)) {
                (Some(x), Some(y)) if y > x => Trend::Better,
                (Some(x), Some(y)) if y < x => Trend::Worse,
                _ => Trend::Changed,
            };
            Some(AnswerChange {
                question_id: q.id.clone(),
                area: q.area,
                prompt: q.prompt.clone(),
                before: b,
                after: a,
                trend,
            })
        })
        .collect();
    let score_of = |m: &Milestone, area: Area| {
        m.snapshot
            .scores
            .areas
            .iter()
            .find(|s| s.area == area)
            .and_then(|s| s.score)
    };
    let areas = Area::ALL
        .into_iter()
        .map(|area| (area, score_of(&before, area), score_of(&after, area)))
        .collect();
    MilestoneComparison {
        before,
        after,
        areas,
        changes,
    }
}

/// Snapshots the engagement's answers and scores now.
pub async fn create_milestone(
    db: &Db,
    member: &Member,
    engagement_id: i64,
    name: &str,
) -> Result<i64> {
    let name =
        required_text("name", "milestone name", name, 120).map_err(|e| Error::Invalid(vec![e]))?;
    let (bank_version, bank) = engagement_bank(db, member.firm_id, engagement_id).await?;
    let choices = choices_of(db, engagement_id).await?;
    let scores = scoring::score(&bank, &choices);
    let mut answers: Vec<(String, Choice)> = choices.into_iter().collect();
    answers.sort_by(|a, b| a.0.cmp(&b.0));
    let snapshot = MilestoneSnapshot {
        bank_version,
        answers,
        scores,
    };
    let snapshot = serde_json::to_string(&snapshot).map_err(|e| Error::Internal(e.to_string()))?;
    let now = now_ms();
    let milestone_id: i64 = sqlx::query_scalar(
        r#"insert into milestones (engagement_id, name, snapshot, created_by, created_at, updated_at)
           values ($1, $2, $3, $4, $5, $5) returning milestone_id"#,
    )
    .bind(engagement_id)
    .bind(&name)
    .bind(&snapshot)
    .bind(member.user_id)
    .bind(now)
    .fetch_one(db.pool())
    .await?;
    Ok(milestone_id)
}

fn milestone_from_row(
    (milestone_id, name, created_at, snapshot): (i64, String, i64, String),
) -> Result<Milestone> {
    let snapshot: MilestoneSnapshot = serde_json::from_str(&snapshot)
        .map_err(|e| Error::Internal(format!("milestone {milestone_id}: {e}")))?;
    Ok(Milestone {
        milestone_id,
        name,
        created_at,
        snapshot,
    })
}

/// The engagement's milestones, newest first.
pub async fn list_milestones(db: &Db, firm_id: i64, engagement_id: i64) -> Result<Vec<Milestone>> {
    let rows: Vec<(i64, String, i64, String)> = sqlx::query_as(
        r#"select m.milestone_id, m.name, m.created_at, m.snapshot from milestones m
           join engagements e on e.engagement_id = m.engagement_id
           where m.engagement_id = $1 and e.firm_id = $2
           order by m.milestone_id desc limit 100"#,
    )
    .bind(engagement_id)
    .bind(firm_id)
    .fetch_all(db.pool())
    .await?;
    rows.into_iter().map(milestone_from_row).collect()
}

/// Two milestones of one engagement side by side (the older one first).
pub async fn compare_milestones(
    db: &Db,
    firm_id: i64,
    engagement_id: i64,
    first: i64,
    second: i64,
) -> Result<MilestoneComparison> {
    let all = list_milestones(db, firm_id, engagement_id).await?;
    let find = |id: i64| {
        all.iter()
            .find(|m| m.milestone_id == id)
            .cloned()
            .ok_or(Error::NotFound)
    };
    let (mut before, mut after) = (find(first)?, find(second)?);
    if before.milestone_id > after.milestone_id {
        std::mem::swap(&mut before, &mut after);
    }
    let (_, bank) = engagement_bank(db, firm_id, engagement_id).await?;
    Ok(compare(&bank, before, after))
}
