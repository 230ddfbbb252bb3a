//! Storage of firms, members, invitations and API tokens.
use sqlx::{AnyConnection, Row};

use super::model::*;
use super::password;
use super::tokens::{new_secret, secret_hash};
use crate::clock::{now_ms, DAY_MS};
use crate::db::Db;
use crate::error::{Error, Result};
use crate::fields::{EmailAddress, Password};
use crate::mail::{self, OutgoingMail};

/// Invitation links for consultants stay valid this long.
pub const MEMBER_INVITATION_TTL_MS: i64 = 7 * DAY_MS;

const MEMBER_COLUMNS: &str =
    "u.user_id, u.firm_id, f.name as firm_name, u.email, u.display_name, u.role";

fn member_from_row(row: &sqlx::any::AnyRow) -> Result<Member> {
    let role: String = row.try_get("role")?;
    Ok(Member {
        user_id: row.try_get("user_id")?,
        firm_id: row.try_get("firm_id")?,
        firm_name: row.try_get("firm_name")?,
        email: row.try_get("email")?,
        display_name: row.try_get("display_name")?,
        role: Role::from_db(&role),
    })
}

fn email_taken() -> Error {
    Error::conflict(
        "email",
        "An account with this e-mail address already exists. Log in instead.",
    )
}

/// Creates a firm and its owner in one transaction.
pub async fn sign_up(db: &Db, sign_up: &SignUp) -> Result<Member> {
    let password_hash = password::hash(&sign_up.password).await?;
    let mut tx = db.begin_write().await?;
    let now = now_ms();
    let firm_id: i64 = sqlx::query_scalar(
        r#"insert into firms (name, created_at, updated_at) values ($1, $2, $2) returning firm_id"#,
    )
    .bind(&sign_up.firm_name)
    .bind(now)
    .fetch_one(&mut *tx)
    .await?;
    let user_id = insert_user(
        &mut tx,
        firm_id,
        &sign_up.email,
        &sign_up.display_name,
        &password_hash,
        Role::Owner,
    )
    .await?;
    tx.commit().await?;
    member_by_id(db, user_id).await?.ok_or(Error::NotFound)
}

async fn insert_user(
    conn: &mut AnyConnection,
    firm_id: i64,
    email: &EmailAddress,
    display_name: &str,
    password_hash: &str,
    role: Role,
) -> Result<i64> {
    let now = now_ms();
    let inserted = sqlx::query_scalar(
        r#"insert into users (firm_id, email, display_name, password_hash, role, created_at, updated_at)
           values ($1, $2, $3, $4, $5, $6, $6) returning user_id"#,
    )
    .bind(firm_id)
    .bind(email.as_str())
    .bind(display_name)
    .bind(password_hash)
    .bind(role.as_str())
    .bind(now)
    .fetch_one(conn)
    .await
    .map_err(Error::from);
    match inserted {
        Err(e) if e.is_unique_violation() => Err(email_taken()),
        other => other,
    }
}

pub async fn member_by_id(db: &Db, user_id: i64) -> Result<Option<Member>> {
    let sql = format!(
        "select {MEMBER_COLUMNS} from users u join firms f on f.firm_id = u.firm_id where u.user_id = $1"
    );
    let row = sqlx::query(&sql)
        .bind(user_id)
        .fetch_optional(db.pool())
        .await?;
    row.as_ref().map(member_from_row).transpose()
}

pub async fn member_by_email(db: &Db, email: &EmailAddress) -> Result<Option<Member>> {
    let sql = format!(
        "select {MEMBER_COLUMNS} from users u join firms f on f.firm_id = u.firm_id where u.email = $1"
    );
    let row = sqlx::query(&sql)
        .bind(email.as_str())
        .fetch_optional(db.pool())
        .await?;
    row.as_ref().map(member_from_row).transpose()
}

/// The one message for a wrong e-mail and a wrong password, so neither gives the other away.
pub const WRONG_CREDENTIALS: &str = "Wrong e-mail address or password.";

/// Checks an e-mail address and password. Unknown addresses cost as much time as known ones.
pub async fn authenticate(db: &Db, email: &str, candidate: &str) -> Result<Member> {
    let email = EmailAddress::parse("email", email)
        .map_err(|_| Error::Unauthenticated(WRONG_CREDENTIALS.to_owned()))?;
    let stored: Option<(i64, String)> =
        sqlx::query_as("select user_id, password_hash from users where email = $1")
            .bind(email.as_str())
            .fetch_optional(db.pool())
            .await?;
    let (user_id, hash) = match stored {
        Some((id, hash)) => (Some(id), Some(hash)),
        None => (None, None),
    };
    if !password::verify(candidate, hash).await? {
        return Err(Error::Unauthenticated(WRONG_CREDENTIALS.to_owned()));
    }
    let user_id = user_id.ok_or_else(|| Error::Unauthenticated(WRONG_CREDENTIALS.to_owned()))?;
    member_by_id(db, user_id)
        .await?
        .ok_or_else(|| Error::Unauthenticated(WRONG_CREDENTIALS.to_owned()))
}

pub async fn list_members(db: &Db, firm_id: i64) -> Result<Vec<Member>> {
    let sql = format!(
        "select {MEMBER_COLUMNS} from users u join firms f on f.firm_id = u.firm_id \
         where u.firm_id = $1 order by u.user_id limit 500"
    );
    let rows = sqlx::query(&sql).bind(firm_id).fetch_all(db.pool()).await?;
    rows.iter().map(member_from_row).collect()
}

/// The owner invites a consultant: the invitation and its e-mail are written in one transaction.
pub async fn invite_member(
    db: &Db,
    inviter: &Member,
    email: &EmailAddress,
    base_url: &str,
) -> Result<MemberInvitation> {
    if !inviter.is_owner() {
        return Err(Error::Forbidden(
            "Only the firm's owner can invite members.".to_owned(),
        ));
    }
    if member_by_email(db, email).await?.is_some() {
        return Err(email_taken());
    }
    let token = new_secret("inv_");
    let now = now_ms();
    let expires_at = now + MEMBER_INVITATION_TTL_MS;
    let mut tx = db.begin_write().await?;
    let member_invitation_id: i64 = sqlx::query_scalar(
        r#"insert into member_invitations (firm_id, email, token_hash, invited_by, expires_at, created_at, updated_at)
           values ($1, $2, $3, $4, $5, $6, $6) returning member_invitation_id"#,
    )
    .bind(inviter.firm_id)
    .bind(email.as_str())
    .bind(secret_hash(&token))
    .bind(inviter.user_id)
    .bind(expires_at)
    .bind(now)
    .fetch_one(&mut *tx)
    .await?;
    let link = format!("{}/join/{token}", base_url.trim_end_matches('/'));
    mail::enqueue(
        &mut tx,
        OutgoingMail {
            firm_id: Some(inviter.firm_id),
            to: email.clone(),
            subject: format!("{} invites you to Plumbline", inviter.firm_name),
            body_text: format!(
                "{} invites you to join {} on Plumbline, where the firm runs its backend-architecture audits.\n\n\
                 Accept the invitation and choose a password here (the link works once, for 7 days):\n{link}\n",
                inviter.display_name, inviter.firm_name
            ),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(MemberInvitation {
        member_invitation_id,
        email: email.to_string(),
        expires_at,
        accepted_at: None,
        created_at: now,
    })
}

pub async fn list_member_invitations(db: &Db, firm_id: i64) -> Result<Vec<MemberInvitation>> {
    let rows: Vec<(i64, String, i64, Option<i64>, i64)> = sqlx::query_as(
        r#"select member_invitation_id, email, expires_at, accepted_at, created_at
           from member_invitations where firm_id = $1 order by member_invitation_id desc limit 200"#,
    )
    .bind(firm_id)
    .fetch_all(db.pool())
    .await?;
    Ok(rows
        .into_iter()
        .map(
            |(member_invitation_id, email, expires_at, accepted_at, created_at)| MemberInvitation {
                member_invitation_id,
                email,
                expires_at,
                accepted_at,
                created_at,
            },
        )
        .collect())
}

async fn open_invitation(
    conn: &mut AnyConnection,
    token: &str,
) -> Result<(i64, i64, String, String)> {
    let found: Option<(i64, i64, String, String, i64, Option<i64>)> = sqlx::query_as(
        r#"select i.member_invitation_id, i.firm_id, f.name, i.email, i.expires_at, i.accepted_at
           from member_invitations i join firms f on f.firm_id = i.firm_id
           where i.token_hash = $1"#,
    )
    .bind(secret_hash(token))
    .fetch_optional(conn)
    .await?;
    match found {
        None => Err(Error::NotFound),
        Some((_, _, _, _, _, Some(_))) => Err(Error::Conflict {
            field: None,
            message: "This invitation has already been used. Log in instead.".to_owned(),
        }),
        Some((_, _, _, _, expires_at, None)) if expires_at < now_ms() => Err(Error::Conflict {
            field: None,
            message: "This invitation has expired. Ask the firm's owner for a new one.".to_owned(),
        }),
        Some((id, firm_id, firm_name, email, _, None)) => Ok((id, firm_id, firm_name, email)),
    }
}

pub async fn preview_invitation(db: &Db, token: &str) -> Result<InvitationPreview> {
    let mut conn = db.pool().acquire().await?;
    let (_, _, firm_name, email) = open_invitation(&mut conn, token).await?;
    Ok(InvitationPreview { firm_name, email })
}

/// Accepting an invitation creates the consultant's account; the link works once.
pub async fn accept_invitation(
    db: &Db,
    token: &str,
    display_name: &str,
    password: &Password,
) -> Result<Member> {
    let password_hash = password::hash(password).await?;
    let mut tx = db.begin_write().await?;
    let (invitation_id, firm_id, _, email) = open_invitation(&mut tx, token).await?;
    let email = EmailAddress::parse("email", &email).map_err(|e| Error::Internal(e.message))?;
    let user_id = insert_user(
        &mut tx,
        firm_id,
        &email,
        display_name,
        &password_hash,
        Role::Consultant,
    )
    .await?;
    let now = now_ms();
    // Guarded by `accepted_at is null`: of two racing accepts only one updates a row.
    let updated = sqlx::query(
        "update member_invitations set accepted_at = $1, updated_at = $1 \
         where member_invitation_id = $2 and accepted_at is null",
    )
    .bind(now)
    .bind(invitation_id)
    .execute(&mut *tx)
    .await?;
    if updated.rows_affected() != 1 {
        return Err(Error::Conflict {
            field: None,
            message: "This invitation has already been used. Log in instead.".to_owned(),
        });
    }
    tx.commit().await?;
    member_by_id(db, user_id).await?.ok_or(Error::NotFound)
}

/// Creates an API token for a member. The secret is returned once and only its hash is kept.
pub async fn create_api_token(db: &Db, member: &Member, name: &str) -> Result<(String, ApiToken)> {
    let name = crate::fields::required_text("name", "token name", name, 80)
        .map_err(|e| Error::Invalid(vec![e]))?;
    let secret = new_secret("plb_");
    let now = now_ms();
    let api_token_id: i64 = sqlx::query_scalar(
        r#"insert into api_tokens (firm_id, user_id, name, token_hash, created_at, updated_at)
           values ($1, $2, $3, $4, $5, $5) returning api_token_id"#,
    )
    .bind(member.firm_id)
    .bind(member.user_id)
    .bind(&name)
    .bind(secret_hash(&secret))
    .bind(now)
    .fetch_one(db.pool())
    .await?;
    Ok((
        secret,
        ApiToken {
            api_token_id,
            name,
            last_used_at: None,
            created_at: now,
        },
    ))
}

/// The member an API token belongs to, if the token exists and was not revoked. One read per
/// call; the token's `last_used_at` is written at most once a minute, so API reads do not queue
/// behind writes.
pub async fn member_by_api_token(db: &Db, secret: &str) -> Result<Option<Member>> {
    let sql = format!(
        "select {MEMBER_COLUMNS}, t.api_token_id, t.last_used_at from api_tokens t \
         join users u on u.user_id = t.user_id join firms f on f.firm_id = u.firm_id \
         where t.token_hash = $1 and t.revoked_at is null"
    );
    let Some(row) = sqlx::query(&sql)
        .bind(secret_hash(secret))
        .fetch_optional(db.pool())
        .await?
    else {
        return Ok(None);
    };
    let member = member_from_row(&row)?;
    let api_token_id: i64 = row.try_get("api_token_id")?;
    let last_used_at: Option<i64> = row.try_get("last_used_at")?;
    let now = now_ms();
    if last_used_at.is_none_or(|at| at < now - crate::clock::MINUTE_MS) {
        sqlx::query("update api_tokens set last_used_at = $1 where api_token_id = $2")
            .bind(now)
            .bind(api_token_id)
            .execute(db.pool())
            .await?;
    }
    Ok(Some(member))
}

pub async fn list_api_tokens(db: &Db, member: &Member) -> Result<Vec<ApiToken>> {
    let rows: Vec<(i64, String, Option<i64>, i64)> = sqlx::query_as(
        r#"select api_token_id, name, last_used_at, created_at from api_tokens
           where user_id = $1 and revoked_at is null order by api_token_id desc limit 100"#,
    )
    .bind(member.user_id)
    .fetch_all(db.pool())
    .await?;
    Ok(rows
        .into_iter()
        .map(|(api_token_id, name, last_used_at, created_at)| ApiToken {
            api_token_id,
            name,
            last_used_at,
            created_at,
        })
        .collect())
}

pub async fn revoke_api_token(db: &Db, member: &Member, api_token_id: i64) -> Result<()> {
    let now = now_ms();
    let done = sqlx::query(
        "update api_tokens set revoked_at = $1, updated_at = $1 \
         where api_token_id = $2 and user_id = $3 and revoked_at is null",
    )
    .bind(now)
    .bind(api_token_id)
    .bind(member.user_id)
    .execute(db.pool())
    .await?;
    if done.rows_affected() == 0 {
        return Err(Error::NotFound);
    }
    Ok(())
}
