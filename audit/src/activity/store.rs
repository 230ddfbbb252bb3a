use serde::Serialize;
use sqlx::AnyConnection;

use super::model::*;
use crate::accounts::Member;
use crate::clock::now_ms;
use crate::db::Db;
use crate::error::Result;

/// Who made a change.
#[derive(Debug, Clone)]
pub struct Actor {
    pub name: String,
    pub user_id: Option<i64>,
}

impl Actor {
    /// Scheduled work, such as the job that reopens findings whose waiver expired.
    pub fn plumbline() -> Actor {
        Actor {
            name: "Plumbline".to_owned(),
            user_id: None,
        }
    }
}

impl From<&Member> for Actor {
    fn from(member: &Member) -> Self {
        Actor {
            name: member.display_name.clone(),
            user_id: Some(member.user_id),
        }
    }
}

/// One change to write down.
pub struct Change<'a> {
    pub engagement_id: i64,
    pub firm_id: i64,
    pub actor: &'a Actor,
    pub subject: Subject,
    pub subject_ref: String,
    pub action: &'a str,
    pub summary: String,
    pub before: Option<String>,
    pub after: Option<String>,
}

/// A value as the JSON the log keeps for "before" and "after".
pub fn snapshot<T: Serialize>(value: &T) -> Option<String> {
    serde_json::to_string(value).ok()
}

/// Writes one change, in the caller's transaction so the log never disagrees with the data.
pub async fn record(conn: &mut AnyConnection, change: Change<'_>) -> Result<()> {
    sqlx::query(
        r#"insert into activity (engagement_id, firm_id, actor, actor_user_id, subject, subject_ref,
                                 action, summary, before, after, created_at)
           values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"#,
    )
    .bind(change.engagement_id)
    .bind(change.firm_id)
    .bind(&change.actor.name)
    .bind(change.actor.user_id)
    .bind(change.subject.as_str())
    .bind(&change.subject_ref)
    .bind(change.action)
    .bind(&change.summary)
    .bind(change.before)
    .bind(change.after)
    .bind(now_ms())
    .execute(conn)
    .await?;
    Ok(())
}

/// The engagement's log, newest first, `limit` entries older than `before` (an activity id).
/// Another firm's engagement has no entries to show.
pub async fn list_activity(
    db: &Db,
    firm_id: i64,
    engagement_id: i64,
    before: Option<i64>,
    limit: i64,
) -> Result<ActivityPage> {
    let limit = limit.clamp(1, 200);
    #[allow(clippy::type_complexity)]
    let rows: Vec<(
        i64,
        String,
        String,
        String,
        String,
        String,
        Option<String>,
        Option<String>,
        i64,
    )> = sqlx::query_as(
        r#"select activity_id, actor, subject, subject_ref, action, summary, before, after, created_at
           from activity
           where engagement_id = $1 and firm_id = $2 and activity_id < $3
           order by activity_id desc
           limit $4"#,
    )
    .bind(engagement_id)
    .bind(firm_id)
    .bind(before.unwrap_or(i64::MAX))
    .bind(limit + 1)
    .fetch_all(db.pool())
    .await?;
    let more = rows.len() as i64 > limit;
    let entries: Vec<ActivityEntry> = rows
        .into_iter()
        .take(limit as usize)
        .filter_map(
            |(
                activity_id,
                actor,
                subject,
                subject_ref,
                action,
                summary,
                before,
                after,
                created_at,
            )| {
                Some(ActivityEntry {
                    activity_id,
                    actor,
                    subject: Subject::parse(&subject)?,
                    subject_ref,
                    action,
                    summary,
                    before,
                    after,
                    created_at,
                })
            },
        )
        .collect();
    let next_before = if more {
        entries.last().map(|e| e.activity_id)
    } else {
        None
    };
    Ok(ActivityPage {
        entries,
        next_before,
    })
}
