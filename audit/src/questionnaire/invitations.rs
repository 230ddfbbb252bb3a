//! Founder invitations: a single-use link (token stored hashed, 14 days) that starts a session
//! reaching one engagement's questionnaire and nothing else. Consultants re-send and revoke them;
//! a founder whose link was used or ran out can have a fresh one mailed to the invited address.
use serde::{Deserialize, Serialize};
use sqlx::AnyConnection;

use super::model::{
    FounderInvitation, FounderInvitationForm, FounderInvitationPreview, FOUNDER_INVITATION_TTL_DAYS,
};
use crate::accounts::{new_secret, secret_hash, Member};
use crate::clock::{now_ms, DAY_MS, MINUTE_MS};
use crate::db::Db;
use crate::error::{Error, FieldError, Result};
use crate::fields::{required_text, EmailAddress};
use crate::mail::{self, OutgoingMail};

const TTL_MS: i64 = FOUNDER_INVITATION_TTL_DAYS * DAY_MS;
/// A founder can ask for a fresh link at most this often.
const FRESH_LINK_INTERVAL_MS: i64 = 5 * MINUTE_MS;

/// What a founder's session carries: checked against the database on every request, so a
/// revoked invitation or an archived engagement ends the session at once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FounderAccess {
    pub founder_invitation_id: i64,
    pub firm_id: i64,
    pub engagement_id: i64,
    pub name: String,
    pub email: String,
    pub firm_name: String,
    pub client_name: String,
}

/// Why a link no longer works, in words a founder can act on.
fn link_problem(used: bool, revoked: bool, expired: bool) -> Error {
    let message = if revoked {
        "This invitation was withdrawn by the consultant. Ask them for a new one."
    } else if used {
        "This link has already been used. Ask below for a fresh link to be e-mailed to you."
    } else if expired {
        "This link has expired. Ask below for a fresh link to be e-mailed to you."
    } else {
        "This link does not work."
    };
    Error::Conflict {
        field: None,
        message: message.to_owned(),
    }
}

/// Why a fresh link is being sent; it sets the e-mail's words.
pub enum LinkPurpose {
    Invitation {
        from: String,
    },
    Resend {
        from: String,
    },
    Reminder,
    FreshLink,
    Clarification {
        prompt: String,
        comment: String,
        from: String,
        /// Where the link leads after sign-in (`/questionnaire?area=…#q-…`).
        next: String,
    },
}

/// Gives the invitation a new token and expiry and mails the link, inside the caller's transaction.
pub(crate) async fn mail_fresh_link(
    conn: &mut AnyConnection,
    firm_id: i64,
    engagement_id: i64,
    founder_invitation_id: i64,
    base_url: &str,
    purpose: LinkPurpose,
) -> Result<()> {
    let found: Option<(String, String, Option<i64>, String, String)> = sqlx::query_as(
        r#"select i.name, i.email, i.revoked_at, e.client_name, f.name
           from founder_invitations i
           join engagements e on e.engagement_id = i.engagement_id
           join firms f on f.firm_id = i.firm_id
           where i.founder_invitation_id = $1 and i.engagement_id = $2 and i.firm_id = $3"#,
    )
    .bind(founder_invitation_id)
    .bind(engagement_id)
    .bind(firm_id)
    .fetch_optional(&mut *conn)
    .await?;
    let (name, email, revoked_at, client_name, firm_name) = found.ok_or(Error::NotFound)?;
    let reinstates = matches!(purpose, LinkPurpose::Resend { .. });
    if revoked_at.is_some() && !reinstates {
        return Err(Error::Conflict {
            field: None,
            message: format!("The invitation of {name} was revoked; re-send it first."),
        });
    }
    let token = new_secret("fnd_");
    let now = now_ms();
    sqlx::query(
        r#"update founder_invitations
           set token_hash = $1, expires_at = $2, used_at = null, revoked_at = null,
               sent_count = sent_count + 1, last_sent_at = $3, updated_at = $3
           where founder_invitation_id = $4"#,
    )
    .bind(secret_hash(&token))
    .bind(now + TTL_MS)
    .bind(now)
    .bind(founder_invitation_id)
    .execute(&mut *conn)
    .await?;
    let base = base_url.trim_end_matches('/');
    let mut link = format!("{base}/invite/{token}");
    let (subject, opening) = match &purpose {
        LinkPurpose::Invitation { from } | LinkPurpose::Resend { from } => (
            format!("{client_name}: your backend-architecture questionnaire"),
            format!(
                "Hello {name},\n\n{from} of {firm_name} invites you to answer the backend-architecture \
                 questionnaire for {client_name}: five short areas (observability, database, caching & \
                 queues, deployment & infrastructure, people). Every answer saves as you go, so you can \
                 stop and come back."
            ),
        ),
        LinkPurpose::Reminder => (
            format!("{client_name}: a reminder about the questionnaire"),
            format!(
                "Hello {name},\n\nThe backend-architecture questionnaire for {client_name} is waiting for \
                 you. Your answers so far are kept; pick up where you left off."
            ),
        ),
        LinkPurpose::FreshLink => (
            format!("{client_name}: your new questionnaire link"),
            format!("Hello {name},\n\nHere is the fresh link you asked for."),
        ),
        LinkPurpose::Clarification {
            prompt,
            comment,
            from,
            next,
        } => {
            link.push_str(&format!("?next={}", crate::fields::query_value(next)));
            (
                format!("{client_name}: a question about one of your answers"),
                format!(
                    "Hello {name},\n\n{from} asks for a clarification on “{prompt}”:\n\n{comment}\n\n\
                     The link below leads straight to that question."
                ),
            )
        }
    };
    let to = EmailAddress::parse("email", &email).map_err(|e| Error::Internal(e.message))?;
    mail::enqueue(
        conn,
        OutgoingMail {
            firm_id: Some(firm_id),
            to,
            subject,
            body_text: format!(
                "{opening}\n\nOpen the questionnaire (the link works once, for {FOUNDER_INVITATION_TTL_DAYS} days):\n{link}\n"
            ),
        },
    )
    .await?;
    Ok(())
}

async fn check_engagement(db: &Db, firm_id: i64, engagement_id: i64) -> Result<()> {
    let found: Option<i64> = sqlx::query_scalar(
        "select engagement_id from engagements where engagement_id = $1 and firm_id = $2",
    )
    .bind(engagement_id)
    .bind(firm_id)
    .fetch_optional(db.pool())
    .await?;
    found.map(|_| ()).ok_or(Error::NotFound)
}

/// Invites a founder; the invitation and its e-mail are written in one transaction.
pub async fn invite_founder(
    db: &Db,
    member: &Member,
    engagement_id: i64,
    form: &FounderInvitationForm,
    base_url: &str,
) -> Result<i64> {
    check_engagement(db, member.firm_id, engagement_id).await?;
    let mut errors: Vec<FieldError> = Vec::new();
    let name = required_text("name", "name", &form.name, 120)
        .map_err(|e| errors.push(e))
        .ok();
    let email = EmailAddress::parse("email", &form.email)
        .map_err(|e| errors.push(e))
        .ok();
    let (Some(name), Some(email)) = (name, email) else {
        return Err(Error::Invalid(errors));
    };
    let live: Option<i64> = sqlx::query_scalar(
        r#"select founder_invitation_id from founder_invitations
           where engagement_id = $1 and email = $2 and revoked_at is null"#,
    )
    .bind(engagement_id)
    .bind(email.as_str())
    .fetch_optional(db.pool())
    .await?;
    if live.is_some() {
        return Err(Error::conflict(
            "email",
            "This founder is already invited; use “Re-send” to mail a new link.",
        ));
    }
    let now = now_ms();
    let mut tx = db.begin_write().await?;
    // The placeholder hash is replaced by mail_fresh_link in the same transaction.
    let founder_invitation_id: i64 = sqlx::query_scalar(
        r#"insert into founder_invitations (firm_id, engagement_id, name, email, token_hash, expires_at,
                                            sent_count, last_sent_at, created_by, created_at, updated_at)
           values ($1, $2, $3, $4, $5, $6, 0, $6, $7, $6, $6) returning founder_invitation_id"#,
    )
    .bind(member.firm_id)
    .bind(engagement_id)
    .bind(&name)
    .bind(email.as_str())
    .bind(secret_hash(&new_secret("placeholder_")))
    .bind(now)
    .bind(member.user_id)
    .fetch_one(&mut *tx)
    .await?;
    mail_fresh_link(
        &mut tx,
        member.firm_id,
        engagement_id,
        founder_invitation_id,
        base_url,
        LinkPurpose::Invitation {
            from: member.display_name.clone(),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(founder_invitation_id)
}

pub async fn list_founder_invitations(
    db: &Db,
    firm_id: i64,
    engagement_id: i64,
) -> Result<Vec<FounderInvitation>> {
    check_engagement(db, firm_id, engagement_id).await?;
    type Row = (
        i64,
        String,
        String,
        i64,
        Option<i64>,
        Option<i64>,
        i64,
        i64,
        Option<i64>,
    );
    let rows: Vec<Row> = sqlx::query_as(
        r#"select founder_invitation_id, name, email, expires_at, used_at, revoked_at, sent_count,
                  last_sent_at, last_progress_at
           from founder_invitations where engagement_id = $1 and firm_id = $2
           order by founder_invitation_id limit 100"#,
    )
    .bind(engagement_id)
    .bind(firm_id)
    .fetch_all(db.pool())
    .await?;
    Ok(rows
        .into_iter()
        .map(
            |(
                id,
                name,
                email,
                expires_at,
                used_at,
                revoked_at,
                sent_count,
                last_sent_at,
                last_progress_at,
            )| {
                FounderInvitation {
                    founder_invitation_id: id,
                    name,
                    email,
                    expires_at,
                    used_at,
                    revoked_at,
                    sent_count,
                    last_sent_at,
                    last_progress_at,
                }
            },
        )
        .collect())
}

/// Mails a new link (the old one stops working); also reinstates a revoked invitation.
pub async fn resend_founder_invitation(
    db: &Db,
    member: &Member,
    engagement_id: i64,
    founder_invitation_id: i64,
    base_url: &str,
) -> Result<()> {
    let mut tx = db.begin_write().await?;
    mail_fresh_link(
        &mut tx,
        member.firm_id,
        engagement_id,
        founder_invitation_id,
        base_url,
        LinkPurpose::Resend {
            from: member.display_name.clone(),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Revokes an invitation: its link stops working and the founder's open sessions end.
pub async fn revoke_founder_invitation(
    db: &Db,
    member: &Member,
    engagement_id: i64,
    founder_invitation_id: i64,
) -> Result<()> {
    let now = now_ms();
    let updated = sqlx::query(
        r#"update founder_invitations set revoked_at = $1, sessions_valid_from = $1, updated_at = $1
           where founder_invitation_id = $2 and engagement_id = $3 and firm_id = $4"#,
    )
    .bind(now)
    .bind(founder_invitation_id)
    .bind(engagement_id)
    .bind(member.firm_id)
    .execute(db.pool())
    .await?;
    if updated.rows_affected() == 0 {
        return Err(Error::NotFound);
    }
    Ok(())
}

type LinkRow = (
    i64,
    String,
    String,
    i64,
    Option<i64>,
    Option<i64>,
    String,
    String,
);

async fn find_by_token(db: &Db, token: &str) -> Result<LinkRow> {
    let found: Option<LinkRow> = sqlx::query_as(
        r#"select i.founder_invitation_id, i.name, i.email, i.expires_at, i.used_at, i.revoked_at,
                  e.client_name, f.name
           from founder_invitations i
           join engagements e on e.engagement_id = i.engagement_id
           join firms f on f.firm_id = i.firm_id
           where i.token_hash = $1 and e.status <> 'archived'"#,
    )
    .bind(secret_hash(token.trim()))
    .fetch_optional(db.pool())
    .await?;
    found.ok_or(Error::NotFound)
}

/// What the invitation page shows; does not use the link up (mail scanners open links too).
pub async fn preview_founder_invitation(db: &Db, token: &str) -> Result<FounderInvitationPreview> {
    let (_, name, _, expires_at, used_at, revoked_at, client_name, firm_name) =
        find_by_token(db, token).await?;
    if used_at.is_some() || revoked_at.is_some() || expires_at < now_ms() {
        return Err(link_problem(
            used_at.is_some(),
            revoked_at.is_some(),
            expires_at < now_ms(),
        ));
    }
    Ok(FounderInvitationPreview {
        name,
        firm_name,
        client_name,
    })
}

/// Uses the link up and returns what the founder's session carries.
pub async fn accept_founder_invitation(db: &Db, token: &str) -> Result<FounderAccess> {
    let (founder_invitation_id, _, _, expires_at, used_at, revoked_at, ..) =
        find_by_token(db, token).await?;
    let now = now_ms();
    // Guarded so that of two racing accepts only one succeeds.
    let updated = sqlx::query(
        r#"update founder_invitations set used_at = $1, updated_at = $1
           where founder_invitation_id = $2 and token_hash = $3 and used_at is null
             and revoked_at is null and expires_at > $1"#,
    )
    .bind(now)
    .bind(founder_invitation_id)
    .bind(secret_hash(token.trim()))
    .execute(db.pool())
    .await?;
    if updated.rows_affected() != 1 {
        // Lost a race with another accept, or the link was already dead.
        let expired = expires_at < now;
        let revoked = revoked_at.is_some();
        return Err(link_problem(
            used_at.is_some() || (!revoked && !expired),
            revoked,
            expired,
        ));
    }
    founder_access(db, founder_invitation_id, now)
        .await?
        .ok_or(Error::NotFound)
}

/// A founder's access, if the invitation is still valid (not revoked, engagement not archived)
/// and the session began after the last revocation: a re-send reinstates the invitation, never
/// the sessions that were open when it was revoked.
pub async fn founder_access(
    db: &Db,
    founder_invitation_id: i64,
    session_started_at: i64,
) -> Result<Option<FounderAccess>> {
    let row: Option<(i64, i64, i64, String, String, String, String)> = sqlx::query_as(
        r#"select i.founder_invitation_id, i.firm_id, i.engagement_id, i.name, i.email, f.name, e.client_name
           from founder_invitations i
           join engagements e on e.engagement_id = i.engagement_id
           join firms f on f.firm_id = i.firm_id
           where i.founder_invitation_id = $1 and i.revoked_at is null and e.status <> 'archived'
             and i.sessions_valid_from <= $2"#,
    )
    .bind(founder_invitation_id)
    .bind(session_started_at)
    .fetch_optional(db.pool())
    .await?;
    Ok(row.map(
        |(founder_invitation_id, firm_id, engagement_id, name, email, firm_name, client_name)| {
            FounderAccess {
                founder_invitation_id,
                firm_id,
                engagement_id,
                name,
                email,
                firm_name,
                client_name,
            }
        },
    ))
}

/// From a used or expired link: mails a fresh one to the invited address (never elsewhere), at
/// most once every five minutes.
pub async fn request_fresh_link(db: &Db, token: &str, base_url: &str) -> Result<()> {
    let found: Option<(i64, i64, i64, Option<i64>, i64)> = sqlx::query_as(
        r#"select founder_invitation_id, firm_id, engagement_id, revoked_at, last_sent_at
           from founder_invitations where token_hash = $1"#,
    )
    .bind(secret_hash(token.trim()))
    .fetch_optional(db.pool())
    .await?;
    let (founder_invitation_id, firm_id, engagement_id, revoked_at, last_sent_at) =
        found.ok_or(Error::NotFound)?;
    if revoked_at.is_some() {
        return Err(link_problem(false, true, false));
    }
    let wait_ms = last_sent_at + FRESH_LINK_INTERVAL_MS - now_ms();
    if wait_ms > 0 {
        return Err(Error::RateLimited {
            retry_after_secs: (wait_ms as u64).div_ceil(1000),
        });
    }
    let mut tx = db.begin_write().await?;
    mail_fresh_link(
        &mut tx,
        firm_id,
        engagement_id,
        founder_invitation_id,
        base_url,
        LinkPurpose::FreshLink,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Takes the connection of the save's own transaction: on SQLite a second write after the
/// commit would queue for the write lock again.
pub(crate) async fn record_progress(
    conn: &mut sqlx::AnyConnection,
    founder_invitation_id: i64,
    now: i64,
) -> Result<()> {
    sqlx::query(
        "update founder_invitations set last_progress_at = $1 where founder_invitation_id = $2",
    )
    .bind(now)
    .bind(founder_invitation_id)
    .execute(conn)
    .await?;
    Ok(())
}

/// The scheduled sweep: a founder whose invitation has seen no progress for `after_days` (and
/// no reminder in that time) gets a reminder with a fresh link. Safe to run on several workers
/// at once: each reminder is claimed by a guarded update. Returns how many were sent.
pub async fn send_due_reminders(
    db: &Db,
    now: i64,
    after_days: i64,
    base_url: &str,
) -> Result<usize> {
    let cutoff = now - after_days.max(1) * DAY_MS;
    let due: Vec<(i64, i64, i64)> = sqlx::query_as(
        r#"select i.founder_invitation_id, i.firm_id, i.engagement_id
           from founder_invitations i
           join engagements e on e.engagement_id = i.engagement_id
           left join questionnaires q on q.engagement_id = i.engagement_id
           where i.revoked_at is null
             and e.status in ('active', 'on_hold')
             and (q.status is null or q.status = 'open')
             and coalesce(i.last_progress_at, i.last_sent_at) < $1
             and i.last_sent_at < $1
             and (i.reminded_at is null or i.reminded_at < $1)
           order by i.founder_invitation_id limit 500"#,
    )
    .bind(cutoff)
    .fetch_all(db.pool())
    .await?;
    let mut sent = 0;
    for (founder_invitation_id, firm_id, engagement_id) in due {
        let mut tx = db.begin_write().await?;
        let claimed = sqlx::query(
            r#"update founder_invitations set reminded_at = $1
               where founder_invitation_id = $2 and (reminded_at is null or reminded_at < $3)"#,
        )
        .bind(now)
        .bind(founder_invitation_id)
        .bind(cutoff)
        .execute(&mut *tx)
        .await?;
        if claimed.rows_affected() != 1 {
            continue;
        }
        mail_fresh_link(
            &mut tx,
            firm_id,
            engagement_id,
            founder_invitation_id,
            base_url,
            LinkPurpose::Reminder,
        )
        .await?;
        tx.commit().await?;
        sent += 1;
    }
    Ok(sent)
}
