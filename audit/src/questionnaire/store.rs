//! Storage of a questionnaire: the pinned bank, answers with versions, submission, comments and
//! area reviews. Who may do what is decided here, from the `Respondent`, not in the pages.
use std::collections::HashMap;
use std::sync::Arc;

use sqlx::Row;

use super::bank::{Area, Bank, Choice};
use super::invitations::{self, FounderAccess};
use super::model::*;
use super::scoring::{self, Scorecard};
use super::versions;
use crate::accounts::Member;
use crate::activity;
use crate::clock::now_ms;
use crate::db::Db;
use crate::error::{Error, Result};
use crate::fields::EmailAddress;
use crate::mail::{self, OutgoingMail};
use crate::markdown::to_safe_html;

/// Who is answering: a founder through an invitation, or a member of the engagement's firm.
#[derive(Debug, Clone)]
pub enum Respondent {
    Founder(FounderAccess),
    Member(Member),
}

impl Respondent {
    pub fn firm_id(&self) -> i64 {
        match self {
            Respondent::Founder(f) => f.firm_id,
            Respondent::Member(m) => m.firm_id,
        }
    }

    pub fn name(&self) -> String {
        match self {
            Respondent::Founder(f) => format!("{} (founder)", f.name),
            Respondent::Member(m) => m.display_name.clone(),
        }
    }

    /// The respondent as the activity log names them.
    pub fn actor(&self) -> activity::Actor {
        match self {
            Respondent::Founder(_) => activity::Actor {
                name: self.name(),
                user_id: None,
            },
            Respondent::Member(m) => activity::Actor::from(m),
        }
    }

    /// A founder reaches their own engagement only; anything else reads as not found.
    fn check_engagement(&self, engagement_id: i64) -> Result<()> {
        match self {
            Respondent::Founder(f) if f.engagement_id != engagement_id => Err(Error::NotFound),
            _ => Ok(()),
        }
    }
}

/// The questionnaire row of an engagement of the firm, created (pinning the default bank
/// version) the first time anyone opens it. Returns (bank_version_id, status, submitted_at, submitted_by).
async fn ensure(
    db: &Db,
    firm_id: i64,
    engagement_id: i64,
) -> Result<(i64, QuestionnaireStatus, Option<i64>, Option<String>)> {
    let read = || async {
        let row: Option<(i64, String, Option<i64>, Option<String>)> = sqlx::query_as(
            r#"select bank_version_id, status, submitted_at, submitted_by from questionnaires
               where engagement_id = $1 and firm_id = $2"#,
        )
        .bind(engagement_id)
        .bind(firm_id)
        .fetch_optional(db.pool())
        .await?;
        Ok::<_, Error>(row)
    };
    if let Some((v, s, at, by)) = read().await? {
        return Ok((v, QuestionnaireStatus::from_db(&s), at, by));
    }
    // Only an engagement of this firm gets a questionnaire.
    let exists: Option<i64> = sqlx::query_scalar(
        "select engagement_id from engagements where engagement_id = $1 and firm_id = $2",
    )
    .bind(engagement_id)
    .bind(firm_id)
    .fetch_optional(db.pool())
    .await?;
    if exists.is_none() {
        return Err(Error::NotFound);
    }
    let bank_version_id = default_version(db, firm_id).await?;
    let now = now_ms();
    sqlx::query(
        r#"insert into questionnaires (engagement_id, firm_id, bank_version_id, status, created_at, updated_at)
           values ($1, $2, $3, 'open', $4, $4)
           on conflict (engagement_id) do nothing"#,
    )
    .bind(engagement_id)
    .bind(firm_id)
    .bind(bank_version_id)
    .bind(now)
    .execute(db.pool())
    .await?;
    let (v, s, at, by) = read().await?.ok_or(Error::NotFound)?;
    Ok((v, QuestionnaireStatus::from_db(&s), at, by))
}

/// The version new questionnaires pin; registers the built-in bank if start-up has not (tests,
/// tools that open the database directly).
async fn default_version(db: &Db, firm_id: i64) -> Result<i64> {
    match versions::default_bank_version_id(db, firm_id).await {
        Ok(id) => Ok(id),
        Err(Error::Internal(_)) => {
            let bank = super::builtin_bank().map_err(|e| Error::Internal(e.to_string()))?;
            versions::register_builtin_bank(db, &bank).await
        }
        Err(e) => Err(e),
    }
}

/// The bank an engagement answers with.
pub async fn engagement_bank(
    db: &Db,
    firm_id: i64,
    engagement_id: i64,
) -> Result<(BankVersionInfo, Arc<Bank>)> {
    let (bank_version_id, ..) = ensure(db, firm_id, engagement_id).await?;
    versions::bank_version(db, firm_id, bank_version_id).await
}

/// What the activity log keeps of an answer: the choice, notes and links.
fn answer_snapshot(answer: &Answer) -> Option<String> {
    activity::snapshot(&serde_json::json!({
        "choice": answer.choice,
        "notes": answer.notes,
        "links": answer.links,
        "version": answer.version,
    }))
}

fn answer_from_row(row: &sqlx::any::AnyRow) -> Result<Answer> {
    let choice: Option<String> = row.try_get("choice")?;
    let notes: String = row.try_get("notes")?;
    let links: String = row.try_get("links")?;
    Ok(Answer {
        question_id: row.try_get("question_id")?,
        choice: choice.as_deref().and_then(Choice::parse),
        notes_html: to_safe_html(&notes),
        notes,
        links: links.lines().map(str::to_owned).collect(),
        version: row.try_get("version")?,
        answered_by: row.try_get("answered_by")?,
        updated_at: row.try_get("updated_at")?,
    })
}

const ANSWER_COLUMNS: &str = "question_id, choice, notes, links, version, answered_by, updated_at";

async fn answers_of(db: &Db, engagement_id: i64) -> Result<Vec<Answer>> {
    let sql = format!("select {ANSWER_COLUMNS} from answers where engagement_id = $1");
    let rows = sqlx::query(&sql)
        .bind(engagement_id)
        .fetch_all(db.pool())
        .await?;
    rows.iter().map(answer_from_row).collect()
}

async fn answer_of(
    conn: &mut sqlx::AnyConnection,
    engagement_id: i64,
    question_id: &str,
) -> Result<Option<Answer>> {
    let sql = format!(
        "select {ANSWER_COLUMNS} from answers where engagement_id = $1 and question_id = $2"
    );
    let row = sqlx::query(&sql)
        .bind(engagement_id)
        .bind(question_id)
        .fetch_optional(conn)
        .await?;
    row.as_ref().map(answer_from_row).transpose()
}

/// Everything the questionnaire page shows, for a founder of the engagement or a member of its firm.
pub async fn questionnaire(db: &Db, who: &Respondent, engagement_id: i64) -> Result<Questionnaire> {
    who.check_engagement(engagement_id)?;
    let firm_id = who.firm_id();
    let (bank_version_id, status, submitted_at, submitted_by) =
        ensure(db, firm_id, engagement_id).await?;
    let (bank_version, bank) = versions::bank_version(db, firm_id, bank_version_id).await?;
    let (client_name, system_name): (String, String) = sqlx::query_as(
        "select client_name, system_name from engagements where engagement_id = $1 and firm_id = $2",
    )
    .bind(engagement_id)
    .bind(firm_id)
    .fetch_one(db.pool())
    .await?;
    let reviewed: Vec<String> =
        sqlx::query_scalar("select area from area_reviews where engagement_id = $1")
            .bind(engagement_id)
            .fetch_all(db.pool())
            .await?;
    Ok(Questionnaire {
        engagement_id,
        client_name,
        system_name,
        status,
        submitted_at,
        submitted_by,
        bank_version,
        bank: Bank::clone(&bank),
        answers: answers_of(db, engagement_id).await?,
        files: super::evidence::list_files(db, engagement_id).await?,
        comments: comments_of(db, engagement_id)
            .await?
            .into_iter()
            // A consultant's own notes stay with the firm; founders see what was asked of them.
            .filter(|c| c.clarification || matches!(who, Respondent::Member(_)))
            .collect(),
        reviewed_areas: reviewed.iter().filter_map(|a| Area::parse(a)).collect(),
    })
}

/// How far a questionnaire is, for the engagement's overview: what `questionnaire` would give
/// for it without reading every answer, file and comment (and rendering each answer's notes).
pub async fn questionnaire_progress(
    db: &Db,
    who: &Respondent,
    engagement_id: i64,
) -> Result<QuestionnaireProgress> {
    who.check_engagement(engagement_id)?;
    let firm_id = who.firm_id();
    let (bank_version_id, status, ..) = ensure(db, firm_id, engagement_id).await?;
    let (bank_version, bank) = versions::bank_version(db, firm_id, bank_version_id).await?;
    let answers: Vec<(String, Option<String>)> =
        sqlx::query_as("select question_id, choice from answers where engagement_id = $1")
            .bind(engagement_id)
            .fetch_all(db.pool())
            .await?;
    let chosen: std::collections::HashSet<&str> = answers
        .iter()
        .filter(|(_, choice)| choice.as_deref().and_then(Choice::parse).is_some())
        .map(|(question_id, _)| question_id.as_str())
        .collect();
    let (answered, questions) = bank.overall_progress(|id| chosen.contains(id));
    Ok(QuestionnaireProgress {
        status,
        bank_version,
        answered,
        questions,
        any_answers: !answers.is_empty(),
    })
}

/// Saves one answer if `input.version` is the stored version (0: no answer yet). A stale write
/// writes nothing and returns the newer answer.
pub async fn save_answer(
    db: &Db,
    who: &Respondent,
    engagement_id: i64,
    input: &AnswerInput,
) -> Result<SaveOutcome> {
    who.check_engagement(engagement_id)?;
    let firm_id = who.firm_id();
    let (bank_version_id, status, ..) = ensure(db, firm_id, engagement_id).await?;
    if matches!(who, Respondent::Founder(_)) && status == QuestionnaireStatus::Submitted {
        return Err(Error::Conflict {
            field: None,
            message: "The questionnaire was submitted for review, so answers are read-only until \
                      the consultant reopens it."
                .to_owned(),
        });
    }
    let (_, bank) = versions::bank_version(db, firm_id, bank_version_id).await?;
    let fields = input.parse(&bank).map_err(Error::Invalid)?;
    let now = now_ms();
    let links = fields.links.join("\n");
    // The write and its line in the activity log commit together.
    let mut tx = db.begin_write().await?;
    let before = answer_of(&mut tx, engagement_id, &fields.question_id).await?;
    let written = if fields.version == 0 {
        sqlx::query(
            r#"insert into answers (engagement_id, question_id, choice, notes, links, version,
                                    answered_by, created_at, updated_at)
               values ($1, $2, $3, $4, $5, 1, $6, $7, $7)
               on conflict (engagement_id, question_id) do nothing"#,
        )
        .bind(engagement_id)
        .bind(&fields.question_id)
        .bind(fields.choice.map(Choice::as_str))
        .bind(&fields.notes)
        .bind(&links)
        .bind(who.name())
        .bind(now)
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1
    } else {
        sqlx::query(
            r#"update answers set choice = $1, notes = $2, links = $3, version = version + 1,
                                  answered_by = $4, updated_at = $5
               where engagement_id = $6 and question_id = $7 and version = $8"#,
        )
        .bind(fields.choice.map(Choice::as_str))
        .bind(&fields.notes)
        .bind(&links)
        .bind(who.name())
        .bind(now)
        .bind(engagement_id)
        .bind(&fields.question_id)
        .bind(fields.version)
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1
    };
    let current = answer_of(&mut tx, engagement_id, &fields.question_id)
        .await?
        .unwrap_or_else(|| Answer {
            question_id: fields.question_id.clone(),
            choice: None,
            notes: String::new(),
            notes_html: String::new(),
            links: Vec::new(),
            version: 0,
            answered_by: String::new(),
            updated_at: 0,
        });
    if written {
        let shown = |a: &Answer| a.choice.map(Choice::label).unwrap_or("no choice");
        let summary = match &before {
            Some(b) if b.choice != current.choice => {
                format!("{}: {} → {}", fields.question_id, shown(b), shown(&current))
            }
            Some(_) => format!("{}: notes or links changed", fields.question_id),
            None => format!("{}: answered {}", fields.question_id, shown(&current)),
        };
        activity::record(
            &mut tx,
            activity::Change {
                engagement_id,
                firm_id,
                actor: &who.actor(),
                subject: activity::Subject::Answer,
                subject_ref: fields.question_id.clone(),
                action: if before.is_some() {
                    "updated"
                } else {
                    "created"
                },
                summary,
                before: before.as_ref().and_then(answer_snapshot),
                after: answer_snapshot(&current),
            },
        )
        .await?;
        if let Respondent::Founder(f) = who {
            invitations::record_progress(&mut tx, f.founder_invitation_id, now).await?;
        }
    }
    tx.commit().await?;
    if !written {
        return Ok(SaveOutcome::Stale { current });
    }
    Ok(SaveOutcome::Saved { answer: current })
}

/// A founder submits the questionnaire for review; the consultant who opened the engagement
/// gets an e-mail in the same transaction.
pub async fn submit(db: &Db, founder: &FounderAccess, base_url: &str) -> Result<()> {
    ensure(db, founder.firm_id, founder.engagement_id).await?;
    let now = now_ms();
    let mut tx = db.begin_write().await?;
    let updated = sqlx::query(
        r#"update questionnaires set status = 'submitted', submitted_at = $1, submitted_by = $2, updated_at = $1
           where engagement_id = $3 and firm_id = $4 and status = 'open'"#,
    )
    .bind(now)
    .bind(&founder.name)
    .bind(founder.engagement_id)
    .bind(founder.firm_id)
    .execute(&mut *tx)
    .await?;
    if updated.rows_affected() == 0 {
        return Err(Error::Conflict {
            field: None,
            message: "The questionnaire has already been submitted for review.".to_owned(),
        });
    }
    let (consultant_email, client_name): (String, String) = sqlx::query_as(
        r#"select u.email, e.client_name from engagements e join users u on u.user_id = e.created_by
           where e.engagement_id = $1"#,
    )
    .bind(founder.engagement_id)
    .fetch_one(&mut *tx)
    .await?;
    let to =
        EmailAddress::parse("email", &consultant_email).map_err(|e| Error::Internal(e.message))?;
    let link = format!(
        "{}/engagements/{}/questionnaire",
        base_url.trim_end_matches('/'),
        founder.engagement_id
    );
    mail::enqueue(
        &mut tx,
        OutgoingMail {
            firm_id: Some(founder.firm_id),
            to,
            subject: format!("{client_name}: questionnaire submitted for review"),
            body_text: format!(
                "{} <{}> submitted the questionnaire of {client_name} for review.\n\nReview the answers here:\n{link}\n",
                founder.name, founder.email
            ),
        },
    )
    .await?;
    // The consultant opens the review with findings already suggested from the answers.
    crate::jobs::enqueue(
        &mut tx,
        SUGGEST_FINDINGS,
        &format!("{} {}", founder.firm_id, founder.engagement_id),
        Some(founder.firm_id),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The job that suggests findings from a submitted questionnaire; its payload is
/// "<firm_id> <engagement_id>".
pub const SUGGEST_FINDINGS: &str = "suggest_findings";

/// (firm_id, engagement_id) of a `suggest_findings` job.
pub fn suggest_findings_payload(payload: &str) -> Option<(i64, i64)> {
    let (firm, engagement) = payload.split_once(' ')?;
    Some((firm.parse().ok()?, engagement.parse().ok()?))
}

/// The consultant reopens a submitted questionnaire so founders can change answers again.
pub async fn reopen(db: &Db, member: &Member, engagement_id: i64) -> Result<()> {
    ensure(db, member.firm_id, engagement_id).await?;
    sqlx::query(
        r#"update questionnaires set status = 'open', submitted_at = null, submitted_by = null, updated_at = $1
           where engagement_id = $2 and firm_id = $3"#,
    )
    .bind(now_ms())
    .bind(engagement_id)
    .bind(member.firm_id)
    .execute(db.pool())
    .await?;
    Ok(())
}

async fn comments_of(db: &Db, engagement_id: i64) -> Result<Vec<Comment>> {
    let rows: Vec<(i64, String, String, String, String, i64)> = sqlx::query_as(
        r#"select answer_comment_id, question_id, kind, body, author_name, created_at
           from answer_comments where engagement_id = $1 order by answer_comment_id limit 1000"#,
    )
    .bind(engagement_id)
    .fetch_all(db.pool())
    .await?;
    Ok(rows
        .into_iter()
        .map(
            |(answer_comment_id, question_id, kind, body, author_name, created_at)| Comment {
                answer_comment_id,
                question_id,
                clarification: kind == "clarification",
                body_html: to_safe_html(&body),
                author_name,
                created_at,
            },
        )
        .collect())
}

/// A consultant comments on an answer. With `ask_founder`, the comment is a request for
/// clarification: that founder gets an e-mail with a fresh link straight to the question.
pub async fn add_comment(
    db: &Db,
    member: &Member,
    engagement_id: i64,
    question_id: &str,
    body: &str,
    ask_founder: Option<i64>,
    base_url: &str,
) -> Result<()> {
    let (_, bank) = engagement_bank(db, member.firm_id, engagement_id).await?;
    let question = bank
        .question(question_id)
        .ok_or_else(|| Error::invalid("question_id", "There is no such question."))?;
    // A comment is Markdown and may span paragraphs.
    let body = crate::fields::optional_text("body", "comment", body, 5000)
        .map_err(|e| Error::Invalid(vec![e]))?;
    if body.is_empty() {
        return Err(Error::invalid("body", "Enter the comment."));
    }
    let now = now_ms();
    let mut tx = db.begin_write().await?;
    sqlx::query(
        r#"insert into answer_comments (engagement_id, question_id, kind, body, author_name, author_user_id,
                                        created_at, updated_at)
           values ($1, $2, $3, $4, $5, $6, $7, $7)"#,
    )
    .bind(engagement_id)
    .bind(&question.id)
    .bind(if ask_founder.is_some() { "clarification" } else { "comment" })
    .bind(&body)
    .bind(&member.display_name)
    .bind(member.user_id)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    if let Some(founder_invitation_id) = ask_founder {
        let question_link = format!(
            "/questionnaire?area={}#q-{}",
            question.area.as_str(),
            question.id
        );
        invitations::mail_fresh_link(
            &mut tx,
            member.firm_id,
            engagement_id,
            founder_invitation_id,
            base_url,
            invitations::LinkPurpose::Clarification {
                prompt: question.prompt.clone(),
                comment: body.clone(),
                from: member.display_name.clone(),
                next: question_link,
            },
        )
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Marks an area reviewed (or not) by the consultant.
pub async fn set_area_reviewed(
    db: &Db,
    member: &Member,
    engagement_id: i64,
    area: Area,
    reviewed: bool,
) -> Result<()> {
    ensure(db, member.firm_id, engagement_id).await?;
    if reviewed {
        let now = now_ms();
        sqlx::query(
            r#"insert into area_reviews (engagement_id, area, reviewed_by, created_at, updated_at)
               values ($1, $2, $3, $4, $4) on conflict (engagement_id, area) do nothing"#,
        )
        .bind(engagement_id)
        .bind(area.as_str())
        .bind(member.user_id)
        .bind(now)
        .execute(db.pool())
        .await?;
    } else {
        sqlx::query("delete from area_reviews where engagement_id = $1 and area = $2")
            .bind(engagement_id)
            .bind(area.as_str())
            .execute(db.pool())
            .await?;
    }
    Ok(())
}

/// Switches the engagement to another bank version the firm may use, while nobody has answered
/// yet; after the first answer the version stays pinned.
pub async fn set_bank_version(
    db: &Db,
    member: &Member,
    engagement_id: i64,
    bank_version_id: i64,
) -> Result<BankVersionInfo> {
    ensure(db, member.firm_id, engagement_id).await?;
    let (info, _) = versions::bank_version(db, member.firm_id, bank_version_id)
        .await
        .map_err(|e| match e {
            Error::NotFound => Error::invalid(
                "bank_version_id",
                "Choose one of the firm's question banks.",
            ),
            other => other,
        })?;
    let now = now_ms();
    let updated = sqlx::query(
        r#"update questionnaires set bank_version_id = $1, updated_at = $2
           where engagement_id = $3 and firm_id = $4
             and not exists (select 1 from answers where answers.engagement_id = $3)"#,
    )
    .bind(bank_version_id)
    .bind(now)
    .bind(engagement_id)
    .bind(member.firm_id)
    .execute(db.pool())
    .await?;
    if updated.rows_affected() == 0 {
        return Err(Error::Conflict {
            field: Some("bank_version_id".to_owned()),
            message: "Founders have started answering, so this engagement keeps its question bank."
                .to_owned(),
        });
    }
    Ok(info)
}

/// The answered choices of an engagement, by question id.
pub async fn choices_of(db: &Db, engagement_id: i64) -> Result<HashMap<String, Choice>> {
    let rows: Vec<(String, Option<String>)> =
        sqlx::query_as("select question_id, choice from answers where engagement_id = $1")
            .bind(engagement_id)
            .fetch_all(db.pool())
            .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(q, c)| c.as_deref().and_then(Choice::parse).map(|c| (q, c)))
        .collect())
}

/// The engagement's scores, for a founder of it or a member of its firm.
pub async fn scores(
    db: &Db,
    who: &Respondent,
    engagement_id: i64,
) -> Result<(BankVersionInfo, Scorecard)> {
    who.check_engagement(engagement_id)?;
    let (info, bank) = engagement_bank(db, who.firm_id(), engagement_id).await?;
    let choices = choices_of(db, engagement_id).await?;
    Ok((info, scoring::score(&bank, &choices)))
}

/// What the automatic findings step reads: the pinned bank, the answers and the evidence files.
pub async fn answers_with_evidence(
    db: &Db,
    firm_id: i64,
    engagement_id: i64,
) -> Result<(Arc<Bank>, Vec<Answer>, Vec<EvidenceFile>)> {
    let (_, bank) = engagement_bank(db, firm_id, engagement_id).await?;
    let answers = answers_of(db, engagement_id).await?;
    let files = super::evidence::list_files(db, engagement_id).await?;
    Ok((bank, answers, files))
}
