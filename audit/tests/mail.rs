//! The outbox: mail written in the caller's transaction, delivered by a `send_mail` job as an
//! `.eml` file, and never written when the transaction rolls back.
mod common;

use std::path::{Path, PathBuf};

use audit::accounts;
use audit::db::Db;
use audit::jobs::{self, Job, Worker};
use audit::mail::{self, OutgoingMail, Transport, SEND_MAIL};
use lettre::message::Mailbox;

use common::{email, owner, unique, with_db};

const FROM: &str = "Plumbline <plumbline@localhost>";

/// A folder of its own for this test's mail, removed when dropped.
struct MailFolder(PathBuf);

impl MailFolder {
    fn new() -> Self {
        MailFolder(std::env::temp_dir().join(unique("plumbline-mail-test-")))
    }
}

impl Drop for MailFolder {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A worker whose `send_mail` handler writes `.eml` files into `folder`.
fn mailer(db: &Db, folder: &Path) -> Worker {
    let transport = Transport::files(folder).expect("a mail folder");
    let from: Mailbox = FROM.parse().expect("a valid sender");
    let handler_db = db.clone();
    Worker::new(db.clone(), "mailer").handle(SEND_MAIL, move |job: Job| {
        let db = handler_db.clone();
        let transport = transport.clone();
        let from = from.clone();
        async move { mail::deliver(&db, &transport, &from, &job.payload).await }
    })
}

/// The `.eml` files in a folder, as text with CRLF line ends turned into LF.
fn eml_files(folder: &Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(folder) else {
        return Vec::new();
    };
    entries
        .map(|entry| entry.expect("a folder entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "eml"))
        .map(|path| {
            std::fs::read_to_string(&path)
                .expect("a readable .eml file")
                .replace("\r\n", "\n")
        })
        .collect()
}

async fn job_count(db: &Db) -> i64 {
    sqlx::query_scalar("select count(*) from jobs")
        .fetch_one(db.pool())
        .await
        .expect("count jobs")
}

#[tokio::test]
async fn an_outbox_mail_is_delivered_as_an_eml_file_by_the_send_mail_job() {
    with_db(|db| async move {
        let folder = MailFolder::new();
        let owner = owner(&db).await;
        // A link longer than a mail line (78 characters) must arrive unbroken.
        let link = format!(
            "https://plumbline.example.com/engagements/42/questionnaire?token={}",
            "0123456789abcdef".repeat(5)
        );
        let body_text = format!(
            "Hello Ada,\n\nThe questionnaire for your backend audit is ready. Please answer it by Friday; \
             it takes about an hour and you can stop and continue later.\n\n{link}\n\nThank you,\nOlive Ødegård\n"
        );
        let subject = "Your Plumbline questionnaire";

        let mut tx = db.pool().begin().await.expect("begin");
        let outbox_id = mail::enqueue(
            &mut tx,
            OutgoingMail {
                firm_id: Some(owner.firm_id),
                to: email("Ada.Founder@Client.example"),
                subject: subject.to_owned(),
                body_text: body_text.clone(),
            },
        )
        .await
        .expect("enqueue the mail");
        tx.commit().await.expect("commit");

        let queued = mail::list_outbox(&db, owner.firm_id, None, 10).await.expect("outbox");
        assert_eq!(queued.len(), 1);
        assert_eq!(queued[0].outbox_id, outbox_id);
        assert_eq!(queued[0].status, "queued");
        assert_eq!(queued[0].to_address, "ada.founder@client.example");
        assert!(eml_files(&folder.0).is_empty(), "nothing is sent before the job runs");

        let worker = mailer(&db, &folder.0);
        assert!(worker.run_once().await.expect("run the send_mail job"));
        assert!(!worker.run_once().await.expect("run"), "one job per mail");

        let files = eml_files(&folder.0);
        assert_eq!(files.len(), 1, "one .eml file");
        let eml = &files[0];
        assert!(eml.contains("To: ada.founder@client.example"), "{eml}");
        assert!(eml.contains("From: Plumbline <plumbline@localhost>"), "{eml}");
        assert!(eml.contains(&format!("Subject: {subject}")), "{eml}");
        assert!(eml.contains("Content-Transfer-Encoding: 8bit"), "{eml}");
        assert!(eml.contains(&link), "the link is not broken by line wrapping:\n{eml}");
        assert!(
            eml.contains(body_text.trim_end()),
            "the whole body text, unwrapped and unencoded:\n{eml}"
        );

        let sent = mail::list_outbox(&db, owner.firm_id, None, 10).await.expect("outbox");
        assert_eq!(sent.len(), 1);
        assert_eq!(sent[0].status, "sent");
        assert_eq!(sent[0].transport.as_deref(), Some("file"));
        assert!(sent[0].sent_at.is_some());
        assert_eq!(sent[0].last_error, None);
        assert_eq!(
            jobs::count_by_status(&db).await.expect("counts"),
            vec![("done".to_owned(), 1)]
        );

        // Delivering the same row again (a job that ran twice) does not send it twice.
        let payload: String = sqlx::query_scalar("select payload from jobs")
            .fetch_one(db.pool())
            .await
            .expect("the job's payload");
        let transport = Transport::files(&folder.0).expect("a mail folder");
        let from: Mailbox = FROM.parse().expect("a valid sender");
        mail::deliver(&db, &transport, &from, &payload)
            .await
            .expect("a second delivery is a no-op");
        assert_eq!(eml_files(&folder.0).len(), 1, "still one .eml file");
    })
    .await;
}

#[tokio::test]
async fn a_rolled_back_transaction_leaves_no_outbox_row_and_no_job() {
    with_db(|db| async move {
        let folder = MailFolder::new();
        let owner = owner(&db).await;
        let mut tx = db.pool().begin().await.expect("begin");
        mail::enqueue(
            &mut tx,
            OutgoingMail {
                firm_id: Some(owner.firm_id),
                to: email("ada@client.example"),
                subject: "Never sent".to_owned(),
                body_text: "The change that caused this mail was rolled back.".to_owned(),
            },
        )
        .await
        .expect("enqueue the mail");
        tx.rollback().await.expect("rollback");

        assert!(mail::list_outbox(&db, owner.firm_id, None, 10)
            .await
            .expect("outbox")
            .is_empty());
        assert_eq!(job_count(&db).await, 0);
        let worker = mailer(&db, &folder.0);
        assert!(!worker.run_once().await.expect("run"), "no job to run");
        assert!(eml_files(&folder.0).is_empty());
    })
    .await;
}

#[tokio::test]
async fn an_invitation_mail_carries_a_working_link() {
    with_db(|db| async move {
        let folder = MailFolder::new();
        let owner = owner(&db).await;
        accounts::invite_member(
            &db,
            &owner,
            &email("newbie@example.com"),
            "https://plumbline.example.com/",
        )
        .await
        .expect("invite");
        let worker = mailer(&db, &folder.0);
        assert!(worker.run_once().await.expect("run the send_mail job"));

        let files = eml_files(&folder.0);
        assert_eq!(files.len(), 1);
        let eml = &files[0];
        assert!(eml.contains("To: newbie@example.com"), "{eml}");
        assert!(
            eml.contains(&format!(
                "Subject: {} invites you to Plumbline",
                owner.firm_name
            )),
            "{eml}"
        );
        let start = eml
            .find("https://plumbline.example.com/join/inv_")
            .unwrap_or_else(|| panic!("an unbroken join link in\n{eml}"));
        let token = common::token_in(&eml[start..]);
        assert_eq!(
            token.len(),
            "inv_".len() + 64,
            "the whole token is on one line: {token}"
        );
        let preview = accounts::preview_invitation(&db, &token)
            .await
            .expect("the link from the mail opens the invitation");
        assert_eq!(preview.email, "newbie@example.com");
        assert_eq!(preview.firm_name, owner.firm_name);
        let outbox = mail::list_outbox(&db, owner.firm_id, None, 10)
            .await
            .expect("outbox");
        assert_eq!(outbox.len(), 1);
        assert_eq!(outbox[0].status, "sent");
        let job = jobs::list_troubled(&db, owner.firm_id, None, 10)
            .await
            .expect("jobs");
        assert!(job.is_empty(), "the send_mail job did not fail: {job:?}");
        assert_eq!(
            jobs::count_by_status(&db).await.expect("counts"),
            vec![("done".to_owned(), 1)]
        );
    })
    .await;
}

#[tokio::test]
async fn a_line_too_long_for_a_mail_line_is_still_delivered() {
    with_db(|db| async move {
        let folder = MailFolder::new();
        let owner = owner(&db).await;
        let long_line = "word ".repeat(300);
        let mut tx = db.pool().begin().await.expect("begin");
        mail::enqueue(
            &mut tx,
            OutgoingMail {
                firm_id: Some(owner.firm_id),
                to: email("ada@client.example"),
                subject: "A very long line".to_owned(),
                body_text: format!("Hello,\n{long_line}\nBye\n"),
            },
        )
        .await
        .expect("enqueue the mail");
        tx.commit().await.expect("commit");

        assert!(mailer(&db, &folder.0).run_once().await.expect("run"));
        let files = eml_files(&folder.0);
        assert_eq!(files.len(), 1);
        assert!(
            files[0].lines().all(|line| line.len() <= 998),
            "no line over the limit of RFC 5322"
        );
        let outbox = mail::list_outbox(&db, owner.firm_id, None, 10)
            .await
            .expect("outbox");
        assert_eq!(outbox[0].status, "sent");
    })
    .await;
}
