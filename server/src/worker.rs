//! The job worker with every job kind Plumbline knows. `serve` runs one in-process; `plumbline
//! worker` runs only this, for scale-out.
use std::sync::Arc;

use audit::db::Db;
use audit::jobs::Worker;
use audit::mail::{self, Transport};
use audit::probes::run::ProbeRuntime;
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

/// The recurring sweep that reminds founders whose invitation has stalled.
pub const FOUNDER_REMINDERS: &str = "founder_reminders";
/// How often the reminder sweep runs.
const REMINDER_SWEEP_MS: i64 = audit::clock::HOUR_MS;

/// The recurring sweep that reopens findings whose waiver (a decision record's expiry) passed.
pub const WAIVER_EXPIRY: &str = "waiver_expiry";
/// How often the waiver sweep runs: waivers end at the end of a day, so within the hour after.
const WAIVER_SWEEP_MS: i64 = audit::clock::HOUR_MS;

/// Puts the first run of every recurring job on the queue, if none is pending.
pub async fn schedule_recurring(db: &Db) -> Result<(), audit::Error> {
    let now = audit::clock::now_ms();
    audit::jobs::schedule_next(db, FOUNDER_REMINDERS, now, None).await?;
    audit::jobs::schedule_next(db, WAIVER_EXPIRY, now, None).await?;
    Ok(())
}

/// `base_url` is where links in e-mails point.
pub fn build(
    db: Db,
    settings: &Settings,
    base_url: &str,
    probes: Arc<ProbeRuntime>,
) -> Result<Worker, audit::Error> {
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
    let reminder_db = db.clone();
    let waiver_db = db.clone();
    let suggest_db = db.clone();
    let probe_db = db.clone();
    let report_db = db.clone();
    let base_url = Arc::new(base_url.to_owned());
    let reminder_days = settings.reminder_days;
    Ok(Worker::new(db, name)
        .handle(mail::SEND_MAIL, move |job| {
            let db = mail_db.clone();
            let transport = transport.clone();
            let from = from.clone();
            async move { mail::deliver(&db, &transport, &from, &job.payload).await }
        })
        .handle(FOUNDER_REMINDERS, move |job| {
            let db = reminder_db.clone();
            let base_url = base_url.clone();
            async move {
                let now = audit::clock::now_ms();
                let sent =
                    audit::questionnaire::send_due_reminders(&db, now, reminder_days, &base_url)
                        .await
                        .map_err(|e| e.to_string())?;
                if sent > 0 {
                    tracing::info!(sent, "founder reminders sent");
                }
                audit::jobs::schedule_next(
                    &db,
                    FOUNDER_REMINDERS,
                    now + REMINDER_SWEEP_MS,
                    Some(job.job_id),
                )
                .await
                .map_err(|e| e.to_string())?;
                Ok(())
            }
        })
        .handle(audit::questionnaire::SUGGEST_FINDINGS, move |job| {
            let db = suggest_db.clone();
            async move {
                let (firm_id, engagement_id) =
                    audit::questionnaire::suggest_findings_payload(&job.payload)
                        .ok_or_else(|| format!("bad payload {:?}", job.payload))?;
                let actor = audit::activity::Actor::plumbline();
                let report = audit::findings::suggest_findings(&db, &actor, firm_id, engagement_id)
                    .await
                    .map_err(|e| e.to_string())?;
                tracing::info!(
                    engagement_id,
                    created = report.created.len(),
                    "findings suggested after submission"
                );
                Ok(())
            }
        })
        .handle(audit::probes::store::PROBE_RUN_JOB, move |job| {
            let db = probe_db.clone();
            let probes = probes.clone();
            async move {
                let run_id = audit::probes::run::run_payload(&job.payload)
                    .ok_or_else(|| format!("bad payload {:?}", job.payload))?;
                audit::probes::run::execute(&db, &probes, run_id)
                    .await
                    .map_err(|e| e.to_string())
            }
        })
        .handle(audit::reports::RENDER_REPORT_JOB, move |job| {
            let db = report_db.clone();
            async move {
                audit::reports::render_version_job(&db, &job.payload)
                    .await
                    .map_err(|e| e.to_string())
            }
        })
        .handle(WAIVER_EXPIRY, move |job| {
            let db = waiver_db.clone();
            async move {
                let now = audit::clock::now_ms();
                let reopened = audit::findings::reopen_expired_waivers(&db, now)
                    .await
                    .map_err(|e| e.to_string())?;
                if reopened > 0 {
                    tracing::info!(reopened, "findings reopened after their waiver expired");
                }
                audit::jobs::schedule_next(
                    &db,
                    WAIVER_EXPIRY,
                    now + WAIVER_SWEEP_MS,
                    Some(job.job_id),
                )
                .await
                .map_err(|e| e.to_string())?;
                Ok(())
            }
        }))
}
