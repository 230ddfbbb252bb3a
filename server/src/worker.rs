//! The job worker with every job kind Plumbline knows. `serve` runs one in-process; `plumbline
//! worker` runs only this, for scale-out.
use std::sync::Arc;

use audit::db::Db;
use audit::jobs::Worker;
use audit::mail::{self, Transport};
use lettre::message::Mailbox;

use crate::settings::Settings;

/// How mail leaves: SMTP when configured, otherwise `.eml` files under the data folder.
pub fn mail_transport(settings: &Settings) -> Result<Transport, audit::Error> {
    match &settings.smtp_url {
        Some(url) => Transport::smtp(&mail::SmtpSettings {
            url: url.clone(),
            username: settings.smtp_username.clone(),
            password: settings.smtp_password.clone(),
        }),
        None => Transport::files(settings.mail_folder()),
    }
}

pub fn build(db: Db, settings: &Settings) -> Result<Worker, audit::Error> {
    let transport = Arc::new(mail_transport(settings)?);
    let from: Mailbox = settings
        .mail_from
        .parse()
        .map_err(|_| audit::Error::invalid("mail_from", "not a mailbox"))?;
    let from = Arc::new(from);
    let name = format!(
        "{}-{}",
        std::env::var("HOSTNAME").unwrap_or_else(|_| "plumbline".to_owned()),
        audit::accounts::new_secret("")[..8].to_owned()
    );
    let mail_db = db.clone();
    Ok(Worker::new(db, name).handle(mail::SEND_MAIL, move |job| {
        let db = mail_db.clone();
        let transport = transport.clone();
        let from = from.clone();
        async move { mail::deliver(&db, &transport, &from, &job.payload).await }
    }))
}
