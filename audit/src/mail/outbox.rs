//! Mail goes out through an outbox: a row written in the same transaction as the change that
//! causes it, and a `send_mail` job that delivers it. Nothing is ever silently dropped: with no
//! SMTP server configured, messages are written as `.eml` files under the data folder and listed
//! on the firm owner's Outbox page.
use std::path::PathBuf;

use lettre::message::header::{ContentTransferEncoding, ContentType};
use lettre::message::{Attachment, Body, Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use serde::{Deserialize, Serialize};
use sqlx::AnyConnection;

use super::OutboxMessage;
use crate::clock::now_ms;
use crate::db::Db;
use crate::error::{Error, Result};
use crate::fields::EmailAddress;
use crate::jobs;

pub const SEND_MAIL: &str = "send_mail";

/// A message to send, before it has an outbox row.
#[derive(Debug, Clone)]
pub struct OutgoingMail {
    pub firm_id: Option<i64>,
    pub to: EmailAddress,
    pub subject: String,
    pub body_text: String,
}

#[derive(Debug, Serialize, Deserialize)]
struct SendMailPayload {
    outbox_id: i64,
}

/// Writes the outbox row and its delivery job, inside the caller's transaction.
pub async fn enqueue(conn: &mut AnyConnection, mail: OutgoingMail) -> Result<i64> {
    let now = now_ms();
    let outbox_id: i64 = sqlx::query_scalar(
        r#"insert into outbox (firm_id, to_address, subject, body_text, status, created_at, updated_at)
           values ($1, $2, $3, $4, 'queued', $5, $5) returning outbox_id"#,
    )
    .bind(mail.firm_id)
    .bind(mail.to.as_str())
    .bind(&mail.subject)
    .bind(&mail.body_text)
    .bind(now)
    .fetch_one(&mut *conn)
    .await?;
    let payload = serde_json::to_string(&SendMailPayload { outbox_id })
        .map_err(|e| Error::Internal(e.to_string()))?;
    jobs::enqueue(conn, SEND_MAIL, &payload, mail.firm_id).await?;
    Ok(outbox_id)
}

/// How mail leaves Plumbline.
#[derive(Clone)]
pub enum Transport {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    /// One `.eml` file per message in this folder (development, tests, and no SMTP configured).
    Files(PathBuf),
}

/// SMTP settings; `url` like `smtps://mail.example.com:465` or `smtp://localhost:25`.
#[derive(Debug, Clone)]
pub struct SmtpSettings {
    pub url: String,
    pub username: Option<String>,
    pub password: Option<String>,
}

impl Transport {
    pub fn smtp(settings: &SmtpSettings) -> Result<Transport> {
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::from_url(&settings.url)
            .map_err(|e| Error::invalid("smtp_url", format!("not an SMTP URL: {e}")))?;
        if let (Some(user), Some(password)) = (&settings.username, &settings.password) {
            builder = builder.credentials(Credentials::new(user.clone(), password.clone()));
        }
        Ok(Transport::Smtp(builder.build()))
    }

    pub fn files(folder: impl Into<PathBuf>) -> Result<Transport> {
        let folder = folder.into();
        std::fs::create_dir_all(&folder).map_err(|e| {
            Error::Internal(format!(
                "cannot create mail folder {}: {e}",
                folder.display()
            ))
        })?;
        Ok(Transport::Files(folder))
    }

    pub fn name(&self) -> &'static str {
        match self {
            Transport::Smtp(_) => "smtp",
            Transport::Files(_) => "file",
        }
    }

    async fn send(&self, message: Message) -> std::result::Result<(), String> {
        match self {
            Transport::Smtp(smtp) => smtp
                .send(message)
                .await
                .map(|_| ())
                .map_err(|e| e.to_string()),
            Transport::Files(folder) => AsyncFileTransport::<Tokio1Executor>::new(folder)
                .send(message)
                .await
                .map(|_| ())
                .map_err(|e| e.to_string()),
        }
    }
}

/// Delivers one outbox row (the `send_mail` job's work). Already-sent rows are not sent again,
/// so a job that ran twice after a lost lease does not mail twice.
pub async fn deliver(
    db: &Db,
    transport: &Transport,
    from: &Mailbox,
    payload: &str,
) -> std::result::Result<(), String> {
    let SendMailPayload { outbox_id } =
        serde_json::from_str(payload).map_err(|e| format!("bad send_mail payload: {e}"))?;
    let row: Option<(String, String, String, String, Option<i64>)> = sqlx::query_as(
        "select to_address, subject, body_text, status, report_version_id from outbox where outbox_id = $1",
    )
    .bind(outbox_id)
    .fetch_optional(db.pool())
    .await
    .map_err(|e| e.to_string())?;
    let Some((to, subject, body_text, status, report_version_id)) = row else {
        return Err(format!("outbox row {outbox_id} is gone"));
    };
    if status == "sent" {
        return Ok(());
    }
    // An issued report goes along as a PDF; it is read now rather than copied into the outbox.
    let attachment = match report_version_id {
        Some(id) => crate::reports::attachment_of(db, id)
            .await
            .map_err(|e| e.to_string())?,
        None => None,
    };
    let result = async {
        let to: Mailbox = to
            .parse()
            .map_err(|e| format!("bad recipient {to:?}: {e}"))?;
        let body = plain_body(&body_text);
        let text = SinglePart::builder()
            .header(ContentType::TEXT_PLAIN)
            .body(body);
        let builder = Message::builder()
            .from(from.clone())
            .to(to)
            .subject(subject);
        let message = match attachment {
            Some((file_name, pdf)) => {
                let pdf_type = ContentType::parse("application/pdf")
                    .map_err(|e| format!("bad content type: {e}"))?;
                builder.multipart(
                    MultiPart::mixed()
                        .singlepart(text)
                        .singlepart(Attachment::new(file_name).body(pdf, pdf_type)),
                )
            }
            None => builder.singlepart(text),
        }
        .map_err(|e| format!("cannot build message: {e}"))?;
        transport.send(message).await
    }
    .await;
    let now = now_ms();
    let (status, error) = match &result {
        Ok(()) => ("sent", None),
        Err(e) => ("failed", Some(e.clone())),
    };
    sqlx::query(
        "update outbox set status = $1, transport = $2, sent_at = $3, last_error = $4, updated_at = $5 where outbox_id = $6",
    )
    .bind(status)
    .bind(transport.name())
    .bind(if result.is_ok() { Some(now) } else { None })
    .bind(error)
    .bind(now)
    .bind(outbox_id)
    .execute(db.pool())
    .await
    .map_err(|e| e.to_string())?;
    result
}

/// The text as it is written, with CRLF line ends and no transfer encoding, so that a link stays
/// whole on its line (a mail line may have 998 characters). lettre itself only leaves lines shorter
/// than 76 characters unencoded: longer ones (every invitation) became quoted-printable, which
/// wraps links. Text that cannot go unencoded (longer lines, NUL, a lone CR) gets lettre's choice.
fn plain_body(text: &str) -> Body {
    let crlf = text.replace("\r\n", "\n").replace('\n', "\r\n");
    let fits = crlf
        .split("\r\n")
        .all(|line| line.len() <= 998 && !line.contains(['\r', '\0']));
    if !fits {
        return Body::new(text.to_owned());
    }
    let encoding = if crlf.is_ascii() {
        ContentTransferEncoding::SevenBit
    } else {
        ContentTransferEncoding::EightBit
    };
    Body::dangerous_pre_encoded(crlf.into_bytes(), encoding)
}

/// The firm's outbox, newest first, a page at a time (`before` is the last `outbox_id` seen).
pub async fn list_outbox(
    db: &Db,
    firm_id: i64,
    before: Option<i64>,
    limit: i64,
) -> Result<Vec<OutboxMessage>> {
    let messages: Vec<OutboxMessage> =
        sqlx::query_as(
            r#"select outbox_id, to_address, subject, body_text, status, transport, sent_at, last_error, created_at
               from outbox where firm_id = $1 and outbox_id < $2 order by outbox_id desc limit $3"#,
        )
        .bind(firm_id)
        .bind(before.unwrap_or(i64::MAX))
        .bind(limit.clamp(1, 200))
        .fetch_all(db.pool())
        .await?;
    Ok(messages)
}
