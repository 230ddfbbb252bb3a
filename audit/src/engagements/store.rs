//! Storage of engagements and their founders. Every query takes the caller's `firm_id`: an
//! engagement of another firm is `NotFound`, never `Forbidden`, so ids leak nothing.
use sqlx::{AnyConnection, Row};

use super::model::*;
use crate::accounts::Member;
use crate::clock::now_ms;
use crate::db::Db;
use crate::error::{Error, Result};

const COLUMNS: &str = "engagement_id, client_name, system_name, description, team_size, stage, \
                       start_date, due_date, status, created_at, updated_at";

fn engagement_from_row(row: &sqlx::any::AnyRow, founders: Vec<Founder>) -> Result<Engagement> {
    let stage: String = row.try_get("stage")?;
    let status: String = row.try_get("status")?;
    Ok(Engagement {
        engagement_id: row.try_get("engagement_id")?,
        client_name: row.try_get("client_name")?,
        system_name: row.try_get("system_name")?,
        description: row.try_get("description")?,
        founders,
        team_size: row.try_get("team_size")?,
        stage: Stage::parse(&stage).unwrap_or_default(),
        start_date: row.try_get("start_date")?,
        due_date: row.try_get("due_date")?,
        status: Status::parse(&status).unwrap_or_default(),
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

async fn replace_founders(
    conn: &mut AnyConnection,
    engagement_id: i64,
    fields: &EngagementFields,
) -> Result<()> {
    sqlx::query("delete from founders where engagement_id = $1")
        .bind(engagement_id)
        .execute(&mut *conn)
        .await?;
    let now = now_ms();
    for (position, (name, email)) in fields.founders.iter().enumerate() {
        sqlx::query(
            r#"insert into founders (engagement_id, name, email, position, created_at, updated_at)
               values ($1, $2, $3, $4, $5, $5)"#,
        )
        .bind(engagement_id)
        .bind(name)
        .bind(email.as_str())
        .bind(position as i64)
        .bind(now)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

async fn founders_of(db: &Db, engagement_id: i64) -> Result<Vec<Founder>> {
    let rows: Vec<(String, String)> = sqlx::query_as(
        "select name, email from founders where engagement_id = $1 order by position",
    )
    .bind(engagement_id)
    .fetch_all(db.pool())
    .await?;
    Ok(rows
        .into_iter()
        .map(|(name, email)| Founder { name, email })
        .collect())
}

#[tracing::instrument(skip(db, member, fields), fields(firm_id = member.firm_id))]
pub async fn create(db: &Db, member: &Member, fields: &EngagementFields) -> Result<Engagement> {
    let now = now_ms();
    let mut tx = db.begin_write().await?;
    let engagement_id: i64 = sqlx::query_scalar(
        r#"insert into engagements (firm_id, client_name, system_name, description, team_size, stage,
                                    start_date, due_date, status, created_by, created_at, updated_at)
           values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11) returning engagement_id"#,
    )
    .bind(member.firm_id)
    .bind(&fields.client_name)
    .bind(&fields.system_name)
    .bind(&fields.description)
    .bind(fields.team_size)
    .bind(fields.stage.as_str())
    .bind(&fields.start_date)
    .bind(&fields.due_date)
    .bind(fields.status.as_str())
    .bind(member.user_id)
    .bind(now)
    .fetch_one(&mut *tx)
    .await?;
    replace_founders(&mut tx, engagement_id, fields).await?;
    tx.commit().await?;
    get(db, member.firm_id, engagement_id).await
}

#[tracing::instrument(skip(db))]
pub async fn get(db: &Db, firm_id: i64, engagement_id: i64) -> Result<Engagement> {
    let sql =
        format!("select {COLUMNS} from engagements where engagement_id = $1 and firm_id = $2");
    let row = sqlx::query(&sql)
        .bind(engagement_id)
        .bind(firm_id)
        .fetch_optional(db.pool())
        .await?
        .ok_or(Error::NotFound)?;
    let founders = founders_of(db, engagement_id).await?;
    engagement_from_row(&row, founders)
}

/// Escapes `%`, `_` and `\` so a search for "50%" means the text, not a pattern.
fn like_pattern(search: &str) -> String {
    let mut pattern = String::from("%");
    for c in search.trim().to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

/// engagement_id, client_name, system_name, stage, status, due_date, updated_at
type SummaryRow = (i64, String, String, String, String, Option<String>, i64);

/// A page of the firm's engagements, newest first, with keyset pagination on `engagement_id`.
#[tracing::instrument(skip(db))]
pub async fn list(db: &Db, firm_id: i64, query: &EngagementQuery) -> Result<EngagementPage> {
    let limit = query
        .limit
        .unwrap_or(DEFAULT_PAGE_SIZE)
        .clamp(1, MAX_PAGE_SIZE);
    let search = query
        .search
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty());
    let rows: Vec<SummaryRow> = sqlx::query_as(
        r#"select engagement_id, client_name, system_name, stage, status, due_date, updated_at
           from engagements
           where firm_id = $1
             and engagement_id < $2
             and ($3 = 1 or status <> 'archived')
             and ($4 = '' or lower(client_name) like $4 escape '\' or lower(system_name) like $4 escape '\')
           order by engagement_id desc
           limit $5"#,
    )
    .bind(firm_id)
    .bind(query.before.unwrap_or(i64::MAX))
    .bind(i64::from(query.include_archived))
    .bind(search.map(like_pattern).unwrap_or_default())
    .bind(limit + 1)
    .fetch_all(db.pool())
    .await?;
    let has_more = rows.len() as i64 > limit;
    let items: Vec<EngagementSummary> = rows
        .into_iter()
        .take(limit as usize)
        .map(
            |(engagement_id, client_name, system_name, stage, status, due_date, updated_at)| {
                EngagementSummary {
                    engagement_id,
                    client_name,
                    system_name,
                    stage: Stage::parse(&stage).unwrap_or_default(),
                    status: Status::parse(&status).unwrap_or_default(),
                    due_date,
                    updated_at,
                }
            },
        )
        .collect();
    let next_before = if has_more {
        items.last().map(|e| e.engagement_id)
    } else {
        None
    };
    Ok(EngagementPage { items, next_before })
}

#[tracing::instrument(skip(db, fields))]
pub async fn update(
    db: &Db,
    firm_id: i64,
    engagement_id: i64,
    fields: &EngagementFields,
) -> Result<Engagement> {
    let mut tx = db.begin_write().await?;
    let done = sqlx::query(
        r#"update engagements set client_name = $1, system_name = $2, description = $3, team_size = $4,
                  stage = $5, start_date = $6, due_date = $7, status = $8, updated_at = $9
           where engagement_id = $10 and firm_id = $11"#,
    )
    .bind(&fields.client_name)
    .bind(&fields.system_name)
    .bind(&fields.description)
    .bind(fields.team_size)
    .bind(fields.stage.as_str())
    .bind(&fields.start_date)
    .bind(&fields.due_date)
    .bind(fields.status.as_str())
    .bind(now_ms())
    .bind(engagement_id)
    .bind(firm_id)
    .execute(&mut *tx)
    .await?;
    if done.rows_affected() == 0 {
        return Err(Error::NotFound);
    }
    replace_founders(&mut tx, engagement_id, fields).await?;
    tx.commit().await?;
    get(db, firm_id, engagement_id).await
}

/// Archiving keeps everything and takes the engagement off the default list.
#[tracing::instrument(skip(db))]
pub async fn archive(db: &Db, firm_id: i64, engagement_id: i64) -> Result<Engagement> {
    let done = sqlx::query(
        "update engagements set status = 'archived', updated_at = $1 where engagement_id = $2 and firm_id = $3",
    )
    .bind(now_ms())
    .bind(engagement_id)
    .bind(firm_id)
    .execute(db.pool())
    .await?;
    if done.rows_affected() == 0 {
        return Err(Error::NotFound);
    }
    get(db, firm_id, engagement_id).await
}

/// Ok when the engagement belongs to the firm; another firm's engagement reads as not found,
/// so its existence is not given away.
pub async fn check_firm_engagement(db: &Db, firm_id: i64, engagement_id: i64) -> Result<()> {
    let found: Option<i64> = sqlx::query_scalar(
        "select engagement_id from engagements where engagement_id = $1 and firm_id = $2",
    )
    .bind(engagement_id)
    .bind(firm_id)
    .fetch_optional(db.pool())
    .await?;
    found.map(|_| ()).ok_or(Error::NotFound)
}

/// Whether every id in `ids` names a row of `table` (findings, interventions, decisions) in the
/// engagement: links never reach another engagement's records.
pub(crate) async fn all_in_engagement(
    conn: &mut sqlx::AnyConnection,
    table: &str,
    id_column: &str,
    ids: &[i64],
    engagement_id: i64,
) -> Result<bool> {
    let sql =
        format!("select {id_column} from {table} where {id_column} = $1 and engagement_id = $2");
    for &id in ids {
        let found: Option<i64> = sqlx::query_scalar(&sql)
            .bind(id)
            .bind(engagement_id)
            .fetch_optional(&mut *conn)
            .await?;
        if found.is_none() {
            return Ok(false);
        }
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    #[test]
    fn search_patterns_escape_wildcards() {
        assert_eq!(super::like_pattern(" 50%_off "), "%50\\%\\_off%");
    }
}
