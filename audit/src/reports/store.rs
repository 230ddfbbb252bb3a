//! Storage of the report: the draft's settings, issued versions and their files, sharing with
//! the founders, and the firm's branding.
//!
//! Issuing freezes the model in the request (so what the consultant saw is what is issued) and
//! queues a job that renders the three files; the row is then only ever read, except for the
//! sharing flag. Files are served with the SHA-256 stored beside them, and `verify` recomputes it.
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sqlx::Row;
use tokio::sync::Semaphore;

use super::build::{self, Edition};
use super::cache::{self, RenderCache, RenderKey};
use super::model::{
    FileCheck, Report, ReportDraft, ReportDraftInput, ReportVersion, Verification, VersionStatus,
};
use super::{render, LogoKind, ReportFormat};
use crate::accounts::Member;
use crate::clock::now_ms;
use crate::db::Db;
use crate::engagements::check_firm_engagement;
use crate::error::{Error, Result};
use crate::jobs;
use crate::mail::{self, OutgoingMail};
use crate::questionnaire::FounderAccess;

/// The job that renders an issued version's files.
pub const RENDER_REPORT_JOB: &str = "render_report";

/// The largest logo a firm may upload.
pub const MAX_LOGO_BYTES: usize = 512 * 1024;
/// A PDF up to this size goes with the e-mail as an attachment; larger ones only as a link.
pub const MAX_ATTACHMENT_BYTES: usize = 5 * 1024 * 1024;

/// How many PDFs are typeset at once: each takes a core for up to a few seconds.
const CONCURRENT_RENDERS: usize = 2;

fn renders() -> &'static Semaphore {
    static RENDERS: OnceLock<Semaphore> = OnceLock::new();
    RENDERS.get_or_init(|| Semaphore::new(CONCURRENT_RENDERS))
}

const DATE_FORMAT: &[time::format_description::FormatItem<'static>] =
    time::macros::format_description!("[year]-[month]-[day]");

fn today() -> String {
    time::OffsetDateTime::now_utc()
        .date()
        .format(DATE_FORMAT)
        .unwrap_or_default()
}

impl VersionStatus {
    fn from_db(value: &str) -> VersionStatus {
        match value {
            "issued" => VersionStatus::Issued,
            "failed" => VersionStatus::Failed,
            _ => VersionStatus::Rendering,
        }
    }
}

const VERSION_COLUMNS: &str =
    "report_version_id, number, status, progress, progress_label, error, \
     model_sha256, markdown_sha256, html_sha256, pdf_sha256, issued_by, shared_with_founders, \
     shared_at, created_at";

fn version_from_row(row: &sqlx::any::AnyRow) -> Result<ReportVersion> {
    let status: String = row.try_get("status")?;
    let shared: i64 = row.try_get("shared_with_founders")?;
    Ok(ReportVersion {
        report_version_id: row.try_get("report_version_id")?,
        number: row.try_get("number")?,
        status: VersionStatus::from_db(&status),
        progress: row.try_get("progress")?,
        progress_label: row.try_get("progress_label")?,
        error: row.try_get("error")?,
        model_sha256: row.try_get("model_sha256")?,
        markdown_sha256: row.try_get("markdown_sha256")?,
        html_sha256: row.try_get("html_sha256")?,
        pdf_sha256: row.try_get("pdf_sha256")?,
        pdf_bytes: row.try_get("pdf_bytes")?,
        issued_by: row.try_get("issued_by")?,
        shared_with_founders: shared != 0,
        shared_at: row.try_get("shared_at")?,
        created_at: row.try_get("created_at")?,
    })
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

// ---------------------------------------------------------------------------------------------
// The draft

/// The engagement's draft settings (defaults until first saved).
pub async fn draft(db: &Db, member: &Member, engagement_id: i64) -> Result<ReportDraft> {
    check_firm_engagement(db, member.firm_id, engagement_id).await?;
    let row: Option<(String, i64, String, i64)> = sqlx::query_as(
        "select summary, roadmap_capacity, roadmap_start, version from report_drafts where engagement_id = $1",
    )
    .bind(engagement_id)
    .fetch_optional(db.pool())
    .await?;
    Ok(match row {
        Some((summary, capacity, start, version)) => ReportDraft {
            summary,
            roadmap_capacity: u32::try_from(capacity)
                .unwrap_or(1)
                .clamp(1, crate::interventions::MAX_CAPACITY),
            roadmap_start: start,
            version,
        },
        None => ReportDraft {
            summary: String::new(),
            roadmap_capacity: 2,
            roadmap_start: String::new(),
            version: 0,
        },
    })
}

/// Saves the draft's settings; an edit made from an older version is refused with the current one.
pub async fn save_draft(
    db: &Db,
    member: &Member,
    engagement_id: i64,
    input: &ReportDraftInput,
) -> Result<ReportDraft> {
    let (summary, capacity, start) = input.parse().map_err(Error::Invalid)?;
    check_firm_engagement(db, member.firm_id, engagement_id).await?;
    let mut tx = db.begin_write().await?;
    let current: Option<i64> =
        sqlx::query_scalar("select version from report_drafts where engagement_id = $1")
            .bind(engagement_id)
            .fetch_optional(&mut *tx)
            .await?;
    if current.unwrap_or(0) != input.version {
        return Err(Error::Conflict {
            field: None,
            message: "Someone changed this report's draft since you opened it. Reload to see \
                      their change, then make yours again."
                .to_owned(),
        });
    }
    let now = now_ms();
    let version = input.version + 1;
    sqlx::query(
        r#"insert into report_drafts (engagement_id, summary, roadmap_capacity, roadmap_start, version, updated_at)
           values ($1, $2, $3, $4, $5, $6)
           on conflict (engagement_id) do update set summary = $2, roadmap_capacity = $3,
               roadmap_start = $4, version = $5, updated_at = $6"#,
    )
    .bind(engagement_id)
    .bind(&summary)
    .bind(i64::from(capacity))
    .bind(&start)
    .bind(version)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(ReportDraft {
        summary,
        roadmap_capacity: capacity,
        roadmap_start: start,
        version,
    })
}

/// The report as it stands now, dated today and labelled "Draft".
pub async fn draft_report(
    db: &Db,
    member: &Member,
    engagement_id: i64,
) -> Result<(Report, Option<Vec<u8>>)> {
    let edition = Edition {
        consultant: member.display_name.clone(),
        version_label: "Draft".to_owned(),
        date: today(),
    };
    build::build(db, member, engagement_id, edition).await
}

/// Renders `report` to one format. PDFs are typeset on a blocking thread, a few at a time.
pub async fn render_report(
    report: Report,
    logo: Option<Vec<u8>>,
    format: ReportFormat,
) -> Result<Vec<u8>> {
    match format {
        ReportFormat::Markdown => Ok(render::markdown(&report).into_bytes()),
        ReportFormat::Html => Ok(render::html(&report, logo.as_deref()).into_bytes()),
        ReportFormat::Pdf => {
            let _slot = renders()
                .acquire()
                .await
                .map_err(|e| Error::Internal(e.to_string()))?;
            tokio::task::spawn_blocking(move || render::pdf(&report, logo.as_deref()))
                .await
                .map_err(|e| Error::Internal(format!("the PDF render stopped: {e}")))?
                .map_err(|e| Error::Internal(e.to_string()))
        }
    }
}

/// The draft rendered to one format, from the render cache when nothing that changes its bytes
/// changed since it was last rendered (ADR 0012).
#[tracing::instrument(skip(db, member))]
pub async fn render_draft(
    db: &Db,
    member: &Member,
    engagement_id: i64,
    format: ReportFormat,
) -> Result<Vec<u8>> {
    let (report, logo) = draft_report(db, member, engagement_id).await?;
    render_cached(cache::drafts(), report, logo, format).await
}

/// [`render_report`] through `cache`: a file rendered before from the same model, logo and
/// format is served from it, and a new one is kept in it.
pub async fn render_cached(
    cache: &Mutex<RenderCache>,
    report: Report,
    logo: Option<Vec<u8>>,
    format: ReportFormat,
) -> Result<Vec<u8>> {
    let key = RenderKey::new(&report, logo.as_deref(), format);
    // A poisoned lock only means another render panicked while holding it; the entries are
    // whole files either way, so the cache goes on being used.
    let kept = cache
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .get(&key);
    tracing::debug!(cached = kept.is_some(), ?format, "report render");
    if let Some(file) = kept {
        return Ok(file.as_ref().clone());
    }
    let bytes = render_report(report, logo, format).await?;
    cache
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .insert(key, Arc::new(bytes.clone()));
    Ok(bytes)
}

// ---------------------------------------------------------------------------------------------
// Issued versions

#[derive(Debug, Serialize, Deserialize)]
struct RenderPayload {
    report_version_id: i64,
}

/// Freezes the report as it stands and queues the rendering of its files: v1, v2, …
pub async fn issue(db: &Db, member: &Member, engagement_id: i64) -> Result<ReportVersion> {
    // The model is gathered before the write transaction so the write lock is held briefly;
    // only the version number, known inside it, is filled in after.
    let edition = Edition {
        consultant: member.display_name.clone(),
        version_label: String::new(),
        date: today(),
    };
    let (mut report, logo) = build::build(db, member, engagement_id, edition).await?;
    let mut tx = db.begin_write().await?;
    let number: i64 = sqlx::query_scalar(
        "select coalesce(max(number), 0) + 1 from report_versions where engagement_id = $1",
    )
    .bind(engagement_id)
    .fetch_one(&mut *tx)
    .await?;
    report.cover.version_label = format!("Version {number}");
    let model = serde_json::to_string(&report).map_err(|e| Error::Internal(e.to_string()))?;
    let now = now_ms();
    let report_version_id: i64 = sqlx::query_scalar(
        r#"insert into report_versions (engagement_id, number, status, progress, progress_label,
               model, model_sha256, logo, issued_by, issued_by_user_id, created_at, updated_at)
           values ($1, $2, 'rendering', 0, 'Queued', $3, $4, $5, $6, $7, $8, $8)
           returning report_version_id"#,
    )
    .bind(engagement_id)
    .bind(number)
    .bind(&model)
    .bind(sha256_hex(model.as_bytes()))
    .bind(logo)
    .bind(&member.display_name)
    .bind(member.user_id)
    .bind(now)
    .fetch_one(&mut *tx)
    .await?;
    let payload = serde_json::to_string(&RenderPayload { report_version_id })
        .map_err(|e| Error::Internal(e.to_string()))?;
    jobs::enqueue(&mut tx, RENDER_REPORT_JOB, &payload, Some(member.firm_id)).await?;
    tx.commit().await?;
    get_version(db, member.firm_id, engagement_id, number).await
}

async fn set_progress(db: &Db, report_version_id: i64, progress: i64, label: &str) -> Result<()> {
    sqlx::query(
        "update report_versions set progress = $2, progress_label = $3, updated_at = $4 where report_version_id = $1",
    )
    .bind(report_version_id)
    .bind(progress)
    .bind(label)
    .bind(now_ms())
    .execute(db.pool())
    .await?;
    Ok(())
}

/// The job: renders Markdown, HTML and PDF from the frozen model and stores them with their
/// digests. A template that cannot render is a bug, not bad luck: it marks the version failed
/// with the reason instead of retrying.
pub async fn render_version_job(db: &Db, payload: &str) -> Result<()> {
    let RenderPayload { report_version_id } =
        serde_json::from_str(payload).map_err(|e| Error::Internal(e.to_string()))?;
    let row: Option<(String, Option<Vec<u8>>, String)> = sqlx::query_as(
        "select model, logo, status from report_versions where report_version_id = $1",
    )
    .bind(report_version_id)
    .fetch_optional(db.pool())
    .await?;
    let Some((model, logo, status)) = row else {
        return Ok(()); // the engagement was deleted meanwhile
    };
    if status != "rendering" {
        return Ok(()); // rendered already (a retried job)
    }
    let report: Report =
        serde_json::from_str(&model).map_err(|e| Error::Internal(e.to_string()))?;

    set_progress(db, report_version_id, 10, "Writing Markdown").await?;
    let markdown = render::markdown(&report);
    set_progress(db, report_version_id, 30, "Writing HTML").await?;
    let html = render::html(&report, logo.as_deref());
    set_progress(db, report_version_id, 50, "Typesetting the PDF").await?;
    let pdf = match render_report(report, logo, ReportFormat::Pdf).await {
        Ok(pdf) => pdf,
        Err(e) => {
            tracing::error!(report_version_id, error = %e, "report rendering failed");
            sqlx::query(
                "update report_versions set status = 'failed', error = $2, progress_label = 'Failed', updated_at = $3 where report_version_id = $1",
            )
            .bind(report_version_id)
            .bind("The PDF could not be typeset. The error is in the server log; please report it.")
            .bind(now_ms())
            .execute(db.pool())
            .await?;
            return Ok(());
        }
    };
    set_progress(db, report_version_id, 90, "Storing the files").await?;
    sqlx::query(
        r#"update report_versions set status = 'issued', progress = 100, progress_label = 'Issued',
               markdown = $2, markdown_sha256 = $3, html = $4, html_sha256 = $5, pdf = $6,
               pdf_sha256 = $7, updated_at = $8
           where report_version_id = $1 and status = 'rendering'"#,
    )
    .bind(report_version_id)
    .bind(&markdown)
    .bind(sha256_hex(markdown.as_bytes()))
    .bind(&html)
    .bind(sha256_hex(html.as_bytes()))
    .bind(&pdf)
    .bind(sha256_hex(&pdf))
    .bind(now_ms())
    .execute(db.pool())
    .await?;
    Ok(())
}

fn select_versions(filter: &str) -> String {
    let columns = VERSION_COLUMNS
        .split(", ")
        .map(|column| format!("v.{}", column.trim()))
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "select {columns}, cast(length(v.pdf) as bigint) as pdf_bytes \
         from report_versions v join engagements e on e.engagement_id = v.engagement_id \
         where e.firm_id = $1 and v.engagement_id = $2 {filter}"
    )
}

/// A page of versions when the caller names no size.
pub const VERSION_PAGE_SIZE: i64 = 25;

/// Issued versions, newest first: `limit` of them with a number below `before` (if given).
pub async fn list_versions(
    db: &Db,
    firm_id: i64,
    engagement_id: i64,
    before: Option<i64>,
    limit: i64,
) -> Result<Vec<ReportVersion>> {
    check_firm_engagement(db, firm_id, engagement_id).await?;
    let sql = select_versions("and v.number < $3 order by v.number desc limit $4");
    let rows = sqlx::query(&sql)
        .bind(firm_id)
        .bind(engagement_id)
        .bind(before.unwrap_or(i64::MAX))
        .bind(limit.clamp(1, 100))
        .fetch_all(db.pool())
        .await?;
    rows.iter().map(version_from_row).collect()
}

pub async fn get_version(
    db: &Db,
    firm_id: i64,
    engagement_id: i64,
    number: i64,
) -> Result<ReportVersion> {
    let sql = select_versions("and v.number = $3");
    let row = sqlx::query(&sql)
        .bind(firm_id)
        .bind(engagement_id)
        .bind(number)
        .fetch_optional(db.pool())
        .await?;
    version_from_row(&row.ok_or(Error::NotFound)?)
}

/// One file of an issued version, with its stored digest. A version still rendering (or
/// failed) has no files yet: that reads as a conflict naming why.
pub async fn version_file(
    db: &Db,
    firm_id: i64,
    engagement_id: i64,
    number: i64,
    format: ReportFormat,
) -> Result<(Vec<u8>, String)> {
    let version = get_version(db, firm_id, engagement_id, number).await?;
    if version.status != VersionStatus::Issued {
        return Err(Error::conflict(
            "version",
            match version.status {
                VersionStatus::Failed => format!("v{number} failed to render: {}", version.error),
                _ => format!(
                    "v{number} is still rendering ({}%); try again in a moment.",
                    version.progress
                ),
            },
        ));
    }
    let column = format.column();
    let sql = format!("select {column} from report_versions where report_version_id = $1");
    let row = sqlx::query(&sql)
        .bind(version.report_version_id)
        .fetch_one(db.pool())
        .await?;
    let bytes = match format {
        ReportFormat::Pdf => row.try_get::<Option<Vec<u8>>, _>(0)?.unwrap_or_default(),
        _ => row
            .try_get::<Option<String>, _>(0)?
            .unwrap_or_default()
            .into_bytes(),
    };
    let sha = version.sha256(format).unwrap_or_default().to_owned();
    Ok((bytes, sha))
}

pub async fn verify(
    db: &Db,
    firm_id: i64,
    engagement_id: i64,
    number: i64,
) -> Result<Verification> {
    let version = get_version(db, firm_id, engagement_id, number).await?;
    let mut files = Vec::new();
    let model: String =
        sqlx::query_scalar("select model from report_versions where report_version_id = $1")
            .bind(version.report_version_id)
            .fetch_one(db.pool())
            .await?;
    files.push(check("model.json", &version.model_sha256, model.as_bytes()));
    if version.status == VersionStatus::Issued {
        for format in ReportFormat::ALL {
            let (bytes, stored) = version_file(db, firm_id, engagement_id, number, format).await?;
            files.push(check(
                &format!("report.{}", format.extension()),
                &stored,
                &bytes,
            ));
        }
    }
    let intact = files.iter().all(|f| f.matches);
    Ok(Verification {
        number,
        files,
        intact,
    })
}

fn check(file: &str, stored: &str, bytes: &[u8]) -> FileCheck {
    let computed = sha256_hex(bytes);
    FileCheck {
        file: file.to_owned(),
        stored_sha256: stored.to_owned(),
        matches: computed == stored,
        computed_sha256: computed,
    }
}

// ---------------------------------------------------------------------------------------------
// Sharing with the founders

/// Shares an issued version with the engagement's founders (their read-only report page), or
/// stops sharing it. With `notify`, each founder gets an e-mail with the link, and the PDF
/// attached when it is small enough.
pub async fn share(
    db: &Db,
    member: &Member,
    engagement_id: i64,
    number: i64,
    shared: bool,
    notify: bool,
    base_url: &str,
) -> Result<ReportVersion> {
    let version = get_version(db, member.firm_id, engagement_id, number).await?;
    if shared && version.status != VersionStatus::Issued {
        return Err(Error::conflict(
            "version",
            format!("v{number} has not finished rendering; share it once it is issued."),
        ));
    }
    let engagement = crate::engagements::get(db, member.firm_id, engagement_id).await?;
    let mut tx = db.begin_write().await?;
    let now = now_ms();
    sqlx::query(
        r#"update report_versions set shared_with_founders = $2,
               shared_at = case when $2 = 1 then coalesce(shared_at, $3) else null end, updated_at = $3
           where report_version_id = $1"#,
    )
    .bind(version.report_version_id)
    .bind(i64::from(shared))
    .bind(now)
    .execute(&mut *tx)
    .await?;
    if shared && notify {
        let attach = version
            .pdf_bytes
            .is_some_and(|n| usize::try_from(n).is_ok_and(|n| n <= MAX_ATTACHMENT_BYTES));
        for founder in &engagement.founders {
            let Ok(to) = crate::fields::EmailAddress::parse("email", &founder.email) else {
                continue;
            };
            let body_text = format!(
                "Hello {name},\n\n{consultant} has shared version {number} of the backend \
                 architecture audit report for {system} with you.\n\nRead it in your browser: \
                 {base_url}/questionnaire/report\n(If your session has ended, open your \
                 invitation link again or ask {consultant} for a new one.)\n{attached}\n",
                name = founder.name,
                consultant = member.display_name,
                system = engagement.system_name,
                attached = if attach {
                    "\nThe PDF is attached to this e-mail.\n"
                } else {
                    ""
                },
            );
            let outbox_id = mail::enqueue(
                &mut tx,
                OutgoingMail {
                    firm_id: Some(member.firm_id),
                    to,
                    subject: format!("Audit report v{number} for {}", engagement.system_name),
                    body_text,
                },
            )
            .await?;
            if attach {
                sqlx::query("update outbox set report_version_id = $2 where outbox_id = $1")
                    .bind(outbox_id)
                    .bind(version.report_version_id)
                    .execute(&mut *tx)
                    .await?;
            }
        }
    }
    tx.commit().await?;
    get_version(db, member.firm_id, engagement_id, number).await
}

/// The versions shared with a founder's engagement, newest first.
pub async fn shared_versions(db: &Db, founder: &FounderAccess) -> Result<Vec<ReportVersion>> {
    let sql = select_versions(
        "and v.shared_with_founders = 1 and v.status = 'issued' order by v.number desc limit 200",
    );
    let rows = sqlx::query(&sql)
        .bind(founder.firm_id)
        .bind(founder.engagement_id)
        .fetch_all(db.pool())
        .await?;
    rows.iter().map(version_from_row).collect()
}

/// A file of a version shared with the founder; anything not shared reads as not found.
pub async fn shared_file(
    db: &Db,
    founder: &FounderAccess,
    number: i64,
    format: ReportFormat,
) -> Result<(Vec<u8>, String)> {
    let version = get_version(db, founder.firm_id, founder.engagement_id, number).await?;
    if !version.shared_with_founders {
        return Err(Error::NotFound);
    }
    version_file(db, founder.firm_id, founder.engagement_id, number, format).await
}

/// The PDF to attach to an outbox message, if it names a version.
pub async fn attachment_of(db: &Db, report_version_id: i64) -> Result<Option<(String, Vec<u8>)>> {
    let row: Option<(i64, Option<Vec<u8>>)> =
        sqlx::query_as("select number, pdf from report_versions where report_version_id = $1")
            .bind(report_version_id)
            .fetch_optional(db.pool())
            .await?;
    Ok(row.and_then(|(number, pdf)| pdf.map(|pdf| (format!("audit-report-v{number}.pdf"), pdf))))
}

// ---------------------------------------------------------------------------------------------
// Branding

/// The firm owner's report look: name comes from the firm; accent and logo are set here.
pub async fn save_branding(
    db: &Db,
    member: &Member,
    accent: &str,
    logo: Option<&[u8]>,
    remove_logo: bool,
) -> Result<()> {
    if !member.is_owner() {
        return Err(Error::Forbidden(
            "Only the firm's owner can change the report's branding.".to_owned(),
        ));
    }
    let accent = accent.trim().to_lowercase();
    if !build::is_accent(&accent) {
        return Err(Error::invalid(
            "accent",
            format!("\"{accent}\" is not a colour like #1f4e79."),
        ));
    }
    let logo = match logo.filter(|bytes| !bytes.is_empty()) {
        Some(bytes) if bytes.len() > MAX_LOGO_BYTES => {
            return Err(Error::invalid(
                "logo",
                format!(
                    "The logo is {} KB; the largest is {} KB.",
                    bytes.len() / 1024,
                    MAX_LOGO_BYTES / 1024
                ),
            ))
        }
        Some(bytes) => Some((
            LogoKind::sniff(bytes).ok_or_else(|| {
                Error::invalid("logo", "The logo must be a PNG, JPEG or SVG image.")
            })?,
            bytes,
        )),
        None => None,
    };
    // The colour and the logo change together or not at all.
    let mut tx = db.begin_write().await?;
    sqlx::query("update firms set report_accent = $2, updated_at = $3 where firm_id = $1")
        .bind(member.firm_id)
        .bind(&accent)
        .bind(now_ms())
        .execute(&mut *tx)
        .await?;
    if let Some((kind, bytes)) = logo {
        sqlx::query("update firms set report_logo = $2, report_logo_kind = $3 where firm_id = $1")
            .bind(member.firm_id)
            .bind(bytes.to_vec())
            .bind(kind.as_str())
            .execute(&mut *tx)
            .await?;
    } else if remove_logo {
        sqlx::query(
            "update firms set report_logo = null, report_logo_kind = null where firm_id = $1",
        )
        .bind(member.firm_id)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(())
}
