//! Firm templates of the question bank: the owner clones the built-in bank, edits questions,
//! weights and wording, and publishes the template as the firm's next version. Questionnaires
//! opened afterwards pin that version; those opened before keep theirs (see `versions`).
//!
//! Only the owner changes templates (`Forbidden` for a consultant); another firm's template is
//! `NotFound`, so ids leak nothing.
use std::collections::HashMap;

use super::bank::{Bank, Question};
use super::model::BankVersionInfo;
use super::templates_model::*;
use super::versions;
use crate::accounts::Member;
use crate::clock::now_ms;
use crate::db::Db;
use crate::error::{Error, Result};
use crate::fields::required_text;

/// bank_template_id, name, updated_at, and the name and version it was cloned from.
type SummaryRow = (i64, String, i64, Option<String>, Option<i64>);
/// name, content, updated_at, and the name and version it was cloned from.
type TemplateRow = (String, String, i64, Option<String>, Option<i64>);

/// How often a change is retried when another save of the same template got in between.
const SAVE_ATTEMPTS: usize = 5;

fn require_owner(member: &Member) -> Result<()> {
    if member.is_owner() {
        Ok(())
    } else {
        Err(Error::Forbidden(
            "Only the firm's owner can change the question bank.".to_owned(),
        ))
    }
}

fn bank_from(bank_template_id: i64, content: &str) -> Result<Bank> {
    serde_json::from_str(content)
        .map_err(|e| Error::Internal(format!("bank template {bank_template_id}: {e}")))
}

fn content_of(bank: &Bank) -> Result<String> {
    serde_json::to_string(bank).map_err(|e| Error::Internal(e.to_string()))
}

fn based_on_label(name: Option<String>, version: Option<i64>) -> Option<String> {
    match (name, version) {
        (Some(name), Some(version)) => Some(format!("{name} v{version}")),
        _ => None,
    }
}

/// The newest built-in version; registers the compiled-in bank if start-up has not (tests,
/// tools that open the database directly).
async fn newest_builtin(db: &Db) -> Result<i64> {
    if let Some(id) = versions::latest_builtin_version_id(db).await? {
        return Ok(id);
    }
    let bank = super::builtin_bank().map_err(|e| Error::Internal(e.to_string()))?;
    versions::register_builtin_bank(db, &bank).await
}

/// The owner copies the newest built-in bank into a new template named `name`; returns its id.
#[tracing::instrument(skip(db, owner), fields(firm_id = owner.firm_id))]
pub async fn clone_builtin(db: &Db, owner: &Member, name: &str) -> Result<i64> {
    require_owner(owner)?;
    let name = required_text("name", "template name", name, MAX_TEMPLATE_NAME_CHARS)
        .map_err(|e| Error::Invalid(vec![e]))?;
    let bank_version_id = newest_builtin(db).await?;
    let (_, bank) = versions::bank_version(db, owner.firm_id, bank_version_id).await?;
    let now = now_ms();
    let id = sqlx::query_scalar(
        r#"insert into bank_templates (firm_id, name, content, based_on_version_id, created_by,
                                       created_at, updated_at)
           values ($1, $2, $3, $4, $5, $6, $6)
           returning bank_template_id"#,
    )
    .bind(owner.firm_id)
    .bind(&name)
    .bind(content_of(&bank)?)
    .bind(bank_version_id)
    .bind(owner.user_id)
    .bind(now)
    .fetch_one(db.pool())
    .await?;
    Ok(id)
}

/// Every version the firm published, by template, newest first.
async fn published_by_template(
    db: &Db,
    firm_id: i64,
    bank_template_id: Option<i64>,
) -> Result<HashMap<i64, Vec<BankVersionInfo>>> {
    let rows: Vec<(i64, i64, String, i64)> = sqlx::query_as(
        r#"select bank_version_id, bank_template_id, name, version from bank_versions
           where firm_id = $1 and bank_template_id is not null
             and ($2 = 0 or bank_template_id = $2)
           order by version desc, bank_version_id desc
           limit 2000"#,
    )
    .bind(firm_id)
    .bind(bank_template_id.unwrap_or(0))
    .fetch_all(db.pool())
    .await?;
    let mut by_template: HashMap<i64, Vec<BankVersionInfo>> = HashMap::new();
    for (bank_version_id, template, name, version) in rows {
        by_template
            .entry(template)
            .or_default()
            .push(BankVersionInfo {
                bank_version_id,
                name,
                version,
                builtin: false,
            });
    }
    Ok(by_template)
}

/// The firm's templates, newest first.
#[tracing::instrument(skip(db))]
pub async fn list_templates(db: &Db, firm_id: i64) -> Result<Vec<BankTemplateSummary>> {
    let rows: Vec<SummaryRow> = sqlx::query_as(
        r#"select t.bank_template_id, t.name, t.updated_at, v.name, v.version
           from bank_templates t
           left join bank_versions v on v.bank_version_id = t.based_on_version_id
           where t.firm_id = $1
           order by t.bank_template_id desc
           limit 200"#,
    )
    .bind(firm_id)
    .fetch_all(db.pool())
    .await?;
    let mut published = published_by_template(db, firm_id, None).await?;
    Ok(rows
        .into_iter()
        .map(
            |(bank_template_id, name, updated_at, base_name, base_version)| BankTemplateSummary {
                bank_template_id,
                name,
                based_on: based_on_label(base_name, base_version),
                updated_at,
                published: published.remove(&bank_template_id).unwrap_or_default(),
            },
        )
        .collect())
}

/// One template of the firm, with its questions and published versions.
#[tracing::instrument(skip(db))]
pub async fn get_template(db: &Db, firm_id: i64, bank_template_id: i64) -> Result<BankTemplate> {
    let row: Option<TemplateRow> = sqlx::query_as(
        r#"select t.name, t.content, t.updated_at, v.name, v.version
           from bank_templates t
           left join bank_versions v on v.bank_version_id = t.based_on_version_id
           where t.bank_template_id = $1 and t.firm_id = $2"#,
    )
    .bind(bank_template_id)
    .bind(firm_id)
    .fetch_optional(db.pool())
    .await?;
    let (name, content, updated_at, base_name, base_version) = row.ok_or(Error::NotFound)?;
    let published = published_by_template(db, firm_id, Some(bank_template_id))
        .await?
        .remove(&bank_template_id)
        .unwrap_or_default();
    Ok(BankTemplate {
        bank_template_id,
        name,
        based_on: based_on_label(base_name, base_version),
        bank: bank_from(bank_template_id, &content)?,
        updated_at,
        published,
    })
}

/// Reads the template, applies `change` and writes it back if nobody saved it in between
/// (compare-and-set on `updated_at`, which every write moves forward by at least 1 ms);
/// otherwise reads again and retries.
async fn change_bank<T>(
    db: &Db,
    owner: &Member,
    bank_template_id: i64,
    mut change: impl FnMut(&mut Bank) -> Result<T>,
) -> Result<T> {
    require_owner(owner)?;
    for _ in 0..SAVE_ATTEMPTS {
        let row: Option<(String, i64)> = sqlx::query_as(
            "select content, updated_at from bank_templates where bank_template_id = $1 and firm_id = $2",
        )
        .bind(bank_template_id)
        .bind(owner.firm_id)
        .fetch_optional(db.pool())
        .await?;
        let (content, updated_at) = row.ok_or(Error::NotFound)?;
        let mut bank = bank_from(bank_template_id, &content)?;
        let outcome = change(&mut bank)?;
        let written = sqlx::query(
            r#"update bank_templates set content = $1, updated_at = $2
               where bank_template_id = $3 and firm_id = $4 and updated_at = $5"#,
        )
        .bind(content_of(&bank)?)
        .bind(now_ms().max(updated_at + 1))
        .bind(bank_template_id)
        .bind(owner.firm_id)
        .bind(updated_at)
        .execute(db.pool())
        .await?
        .rows_affected();
        if written == 1 {
            return Ok(outcome);
        }
    }
    Err(Error::Conflict {
        field: None,
        message: "The template kept changing while this was saved. Reload the page and try again."
            .to_owned(),
    })
}

fn question_gone() -> Error {
    Error::Conflict {
        field: None,
        message: "This question is no longer in the template. Reload the page to see it as it is."
            .to_owned(),
    }
}

/// The owner changes a question's wording, weight and red flag; returns the question as saved.
#[tracing::instrument(skip(db, owner, edit), fields(firm_id = owner.firm_id))]
pub async fn update_question(
    db: &Db,
    owner: &Member,
    bank_template_id: i64,
    edit: &QuestionEdit,
) -> Result<Question> {
    require_owner(owner)?;
    let fields = edit.parse().map_err(Error::Invalid)?;
    change_bank(db, owner, bank_template_id, |bank| {
        let question = bank
            .areas
            .iter_mut()
            .flat_map(|a| a.questions.iter_mut())
            .find(|q| q.id == fields.question_id)
            .ok_or_else(question_gone)?;
        question.prompt = fields.prompt.clone();
        question.help = fields.help.clone();
        question.weight = fields.weight;
        question.red_flag = fields.red_flag;
        Ok(question.clone())
    })
    .await
}

/// The number after `<area>.custom-` in a question id.
fn custom_number(question_id: &str) -> Option<u64> {
    question_id
        .split_once(".custom-")
        .and_then(|(_, n)| n.parse().ok())
}

/// The owner adds a question at the end of an area. Its id is `<area>.custom-<n>`, with `n`
/// above every custom number the template or its published versions used, so an id never
/// names two different questions. It has no interventions and no probe checks.
#[tracing::instrument(skip(db, owner, new), fields(firm_id = owner.firm_id))]
pub async fn add_question(
    db: &Db,
    owner: &Member,
    bank_template_id: i64,
    new: &NewQuestion,
) -> Result<Question> {
    require_owner(owner)?;
    let fields = new.parse().map_err(Error::Invalid)?;
    let published: Vec<String> = sqlx::query_scalar(
        "select content from bank_versions where firm_id = $1 and bank_template_id = $2 limit 1000",
    )
    .bind(owner.firm_id)
    .bind(bank_template_id)
    .fetch_all(db.pool())
    .await?;
    let mut used = 0;
    for content in &published {
        let bank = bank_from(bank_template_id, content)?;
        used = bank
            .questions()
            .filter_map(|q| custom_number(&q.id))
            .fold(used, u64::max);
    }
    change_bank(db, owner, bank_template_id, |bank| {
        let next = bank
            .questions()
            .filter_map(|q| custom_number(&q.id))
            .fold(used, u64::max)
            + 1;
        let area = bank
            .areas
            .iter_mut()
            .find(|a| a.area == fields.area)
            .ok_or_else(|| Error::invalid("area", "This template has no such area."))?;
        if area.questions.len() >= MAX_AREA_QUESTIONS {
            return Err(Error::invalid(
                "prompt",
                format!("An area holds at most {MAX_AREA_QUESTIONS} questions; remove one first."),
            ));
        }
        let question = Question {
            id: format!("{}.custom-{next}", fields.area.as_str()),
            area: fields.area,
            prompt: fields.prompt.clone(),
            help: fields.help.clone(),
            weight: fields.weight,
            red_flag: fields.red_flag,
            allows_not_applicable: true,
            evidence: Vec::new(),
            probe_checks: Vec::new(),
            interventions: Vec::new(),
            sources: Vec::new(),
        };
        area.questions.push(question.clone());
        Ok(question)
    })
    .await
}

/// The owner removes a question; the last question of an area stays (an empty area cannot be
/// scored).
#[tracing::instrument(skip(db, owner), fields(firm_id = owner.firm_id))]
pub async fn remove_question(
    db: &Db,
    owner: &Member,
    bank_template_id: i64,
    question_id: &str,
) -> Result<()> {
    change_bank(db, owner, bank_template_id, |bank| {
        let area = bank
            .areas
            .iter_mut()
            .find(|a| a.questions.iter().any(|q| q.id == question_id))
            .ok_or_else(question_gone)?;
        if area.questions.len() <= 1 {
            return Err(Error::Conflict {
                field: None,
                message: format!(
                    "This is the last question of {}, and an area needs at least one. Add another \
                     question to the area before removing this one.",
                    area.area.label()
                ),
            });
        }
        area.questions.retain(|q| q.id != question_id);
        Ok(())
    })
    .await
}

/// The owner freezes the template as the firm's next version. New questionnaires pin it;
/// questionnaires already opened keep the version they pinned.
#[tracing::instrument(skip(db, owner), fields(firm_id = owner.firm_id))]
pub async fn publish(db: &Db, owner: &Member, bank_template_id: i64) -> Result<BankVersionInfo> {
    require_owner(owner)?;
    let template = get_template(db, owner.firm_id, bank_template_id).await?;
    versions::publish_firm_version(
        db,
        owner.firm_id,
        bank_template_id,
        &template.name,
        &template.bank,
        owner.user_id,
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn custom_numbers_are_read_from_custom_ids_only() {
        assert_eq!(custom_number("database.custom-12"), Some(12));
        assert_eq!(custom_number("database.backups-restored"), None);
        assert_eq!(custom_number("database.custom-x"), None);
    }

    #[test]
    fn based_on_needs_name_and_version() {
        assert_eq!(
            based_on_label(Some("Built-in".into()), Some(2)).as_deref(),
            Some("Built-in v2")
        );
        assert_eq!(based_on_label(None, None), None);
    }
}
