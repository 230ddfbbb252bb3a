//! Storage of probes: an engagement's targets, uploaded files, runs with their progress, and
//! the checks each run yielded. Every function takes the firm id and refuses (as not found)
//! an engagement of another firm.
use std::collections::HashMap;

use sqlx::Row;

use super::guard::Guard;
use super::model::*;
use super::postgres::PostgresTarget;
use super::repo::check_repository_url;
use super::seal::SealKey;
use crate::activity::Actor;
use crate::clock::now_ms;
use crate::db::Db;
use crate::engagements::check_firm_engagement;
use crate::error::{Error, Result};
use crate::fields::clean_file_name;

/// The most an upload (a repository archive or a log file) may weigh.
pub const MAX_UPLOAD_BYTES: usize = 50 * 1024 * 1024;
/// Runs listed per page.
pub const RUN_PAGE_SIZE: i64 = 20;
/// A heartbeat younger than this means the run's worker is alive.
const HEARTBEAT_FRESH_MS: i64 = 30 * crate::clock::SECOND_MS;
/// The job that runs one probe run; its payload is the run id.
pub const PROBE_RUN_JOB: &str = "probe_run";

fn internal(e: impl std::fmt::Display) -> Error {
    Error::Internal(e.to_string())
}

/// The sealing context of an engagement's connection string.
pub(crate) fn postgres_context(engagement_id: i64) -> String {
    format!("postgres:{engagement_id}")
}

// ---------------------------------------------------------------------------------------------
// Targets

pub async fn get_targets(db: &Db, firm_id: i64, engagement_id: i64) -> Result<ProbeTargets> {
    check_firm_engagement(db, firm_id, engagement_id).await?;
    targets_of(db, engagement_id).await
}

async fn targets_of(db: &Db, engagement_id: i64) -> Result<ProbeTargets> {
    let row = sqlx::query(
        r#"select http_base_url, http_endpoints, http_openapi_url, http_rate, http_duration_secs,
                  postgres_sealed, postgres_label, repository_url, version
           from probe_targets where engagement_id = $1"#,
    )
    .bind(engagement_id)
    .fetch_optional(db.pool())
    .await?;
    let Some(row) = row else {
        return Ok(ProbeTargets {
            http_rate: DEFAULT_HTTP_RATE,
            http_duration_secs: DEFAULT_HTTP_DURATION_SECS,
            version: 0,
            ..ProbeTargets::default()
        });
    };
    let endpoints: String = row.try_get("http_endpoints")?;
    let sealed: Option<String> = row.try_get("postgres_sealed")?;
    let rate: i64 = row.try_get("http_rate")?;
    let duration: i64 = row.try_get("http_duration_secs")?;
    Ok(ProbeTargets {
        http_base_url: row.try_get("http_base_url")?,
        http_endpoints: serde_json::from_str(&endpoints).unwrap_or_default(),
        http_openapi_url: row.try_get("http_openapi_url")?,
        http_rate: rate.clamp(1, MAX_HTTP_RATE as i64) as u32,
        http_duration_secs: duration.clamp(1, MAX_HTTP_DURATION_SECS as i64) as u32,
        postgres_set: sealed.is_some(),
        postgres_label: row.try_get("postgres_label")?,
        repository_url: row.try_get("repository_url")?,
        version: row.try_get("version")?,
    })
}

/// The checked form of what a consultant typed; every problem is named on its field.
struct CheckedTargets {
    http_base_url: String,
    http_endpoints: Vec<String>,
    http_openapi_url: String,
    http_rate: u32,
    http_duration_secs: u32,
    postgres: Option<PostgresTarget>,
    repository_url: String,
}

fn check_targets(input: &ProbeTargetsInput, guard: &Guard) -> Result<CheckedTargets> {
    let mut problems = Vec::new();
    let base = input.http_base_url.trim().trim_end_matches('/').to_owned();
    if !base.is_empty() {
        if base.len() > 500 {
            problems.push((
                "http_base_url",
                "Keep the address under 500 characters.".to_owned(),
            ));
        } else if let Err(refusal) = guard.check_url(&base, &["http", "https"]) {
            problems.push(("http_base_url", refusal.0));
        }
    }
    let mut endpoints = Vec::new();
    for line in &input.http_endpoints {
        let path = line.trim();
        if path.is_empty() {
            continue;
        }
        if !path.starts_with('/') || path.starts_with("//") {
            problems.push((
                "http_endpoints",
                format!("“{path}” is not a path: each endpoint starts with a single /, like /api/v1/users."),
            ));
        } else if path.len() > 500 || path.chars().any(char::is_whitespace) {
            problems.push((
                "http_endpoints",
                format!(
                    "“{}” is too long or contains spaces.",
                    path.chars().take(60).collect::<String>()
                ),
            ));
        } else if !endpoints.iter().any(|e| e == path) {
            endpoints.push(path.to_owned());
        }
    }
    if endpoints.len() > MAX_HTTP_ENDPOINTS {
        problems.push((
            "http_endpoints",
            format!(
                "At most {MAX_HTTP_ENDPOINTS} endpoints; there are {}.",
                endpoints.len()
            ),
        ));
    }
    if !endpoints.is_empty() && base.is_empty() {
        problems.push((
            "http_base_url",
            "Endpoints need a base URL to hang from.".to_owned(),
        ));
    }
    let openapi = input.http_openapi_url.trim().to_owned();
    if !openapi.is_empty() && !openapi.starts_with('/') {
        if let Err(refusal) = guard.check_url(&openapi, &["http", "https"]) {
            problems.push(("http_openapi_url", refusal.0));
        }
    }
    let rate = input.http_rate.unwrap_or(DEFAULT_HTTP_RATE);
    if !(1..=MAX_HTTP_RATE).contains(&rate) {
        problems.push((
            "http_rate",
            format!("Between 1 and {MAX_HTTP_RATE} requests per second: the probe stays gentle."),
        ));
    }
    let duration = input
        .http_duration_secs
        .unwrap_or(DEFAULT_HTTP_DURATION_SECS);
    if !(5..=MAX_HTTP_DURATION_SECS).contains(&duration) {
        problems.push((
            "http_duration_secs",
            format!("Between 5 and {MAX_HTTP_DURATION_SECS} seconds per endpoint."),
        ));
    }
    let postgres = match input.postgres_url.trim() {
        "" => None,
        dsn => match PostgresTarget::parse(dsn) {
            Ok(target) => {
                match guard.check_url(&format!("http://{}/", bracket(&target.host)), &["http"]) {
                    Ok(_) => Some(target),
                    Err(refusal) => {
                        problems.push(("postgres_url", refusal.0));
                        None
                    }
                }
            }
            Err(problem) => {
                problems.push(("postgres_url", problem));
                None
            }
        },
    };
    let repository_url = input.repository_url.trim().to_owned();
    if !repository_url.is_empty() {
        if let Err(problem) = check_repository_url(&repository_url, guard) {
            problems.push(("repository_url", problem));
        }
    }
    if !problems.is_empty() {
        return Err(Error::Invalid(
            problems
                .into_iter()
                .map(|(field, message)| crate::FieldError {
                    field: field.to_owned(),
                    message,
                })
                .collect(),
        ));
    }
    Ok(CheckedTargets {
        http_base_url: base,
        http_endpoints: endpoints,
        http_openapi_url: openapi,
        http_rate: rate,
        http_duration_secs: duration,
        postgres,
        repository_url,
    })
}

/// An IPv6 literal goes in brackets inside a URL.
fn bracket(host: &str) -> String {
    if host.contains(':') && !host.starts_with('[') {
        format!("[{host}]")
    } else {
        host.to_owned()
    }
}

/// Saves the targets. The connection string is sealed and never returned; an empty one keeps
/// the stored string, `clear_postgres` removes it. A stale `version` is a conflict.
pub async fn save_targets(
    db: &Db,
    key: &SealKey,
    guard: &Guard,
    firm_id: i64,
    engagement_id: i64,
    input: &ProbeTargetsInput,
) -> Result<ProbeTargets> {
    check_firm_engagement(db, firm_id, engagement_id).await?;
    let checked = check_targets(input, guard)?;
    let sealed = match &checked.postgres {
        Some(_) => Some(key.seal(&postgres_context(engagement_id), input.postgres_url.trim())?),
        None => None,
    };
    let endpoints = serde_json::to_string(&checked.http_endpoints).map_err(internal)?;
    let now = now_ms();
    let mut tx = db.begin_write().await?;
    let current: Option<(i64, Option<String>, String)> = sqlx::query_as(
        "select version, postgres_sealed, postgres_label from probe_targets where engagement_id = $1",
    )
    .bind(engagement_id)
    .fetch_optional(&mut *tx)
    .await?;
    let current_version = current.as_ref().map(|c| c.0).unwrap_or(0);
    if current_version != input.version {
        return Err(Error::Conflict {
            field: None,
            message: "Someone changed the probe targets since you opened them. Reload, then make your change again."
                .to_owned(),
        });
    }
    let (old_sealed, old_label) = current.map(|c| (c.1, c.2)).unwrap_or((None, String::new()));
    let (postgres_sealed, postgres_label) = match (&checked.postgres, sealed) {
        (Some(target), Some(sealed)) => (Some(sealed), target.label()),
        _ if input.clear_postgres => (None, String::new()),
        _ => (old_sealed, old_label),
    };
    let version = current_version + 1;
    if current_version == 0 {
        sqlx::query(
            r#"insert into probe_targets (engagement_id, http_base_url, http_endpoints, http_openapi_url,
                   http_rate, http_duration_secs, postgres_sealed, postgres_label, repository_url, version, updated_at)
               values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"#,
        )
        .bind(engagement_id)
        .bind(&checked.http_base_url)
        .bind(&endpoints)
        .bind(&checked.http_openapi_url)
        .bind(checked.http_rate as i64)
        .bind(checked.http_duration_secs as i64)
        .bind(&postgres_sealed)
        .bind(&postgres_label)
        .bind(&checked.repository_url)
        .bind(version)
        .bind(now)
        .execute(&mut *tx)
        .await?;
    } else {
        sqlx::query(
            r#"update probe_targets set http_base_url = $1, http_endpoints = $2, http_openapi_url = $3,
                   http_rate = $4, http_duration_secs = $5, postgres_sealed = $6, postgres_label = $7,
                   repository_url = $8, version = $9, updated_at = $10
               where engagement_id = $11"#,
        )
        .bind(&checked.http_base_url)
        .bind(&endpoints)
        .bind(&checked.http_openapi_url)
        .bind(checked.http_rate as i64)
        .bind(checked.http_duration_secs as i64)
        .bind(&postgres_sealed)
        .bind(&postgres_label)
        .bind(&checked.repository_url)
        .bind(version)
        .bind(now)
        .bind(engagement_id)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    targets_of(db, engagement_id).await
}

/// The stored connection string, opened; only the job that runs the probe asks for it.
pub(crate) async fn open_postgres(
    db: &Db,
    key: &SealKey,
    engagement_id: i64,
) -> Result<Option<String>> {
    let sealed: Option<Option<String>> =
        sqlx::query_scalar("select postgres_sealed from probe_targets where engagement_id = $1")
            .bind(engagement_id)
            .fetch_optional(db.pool())
            .await?;
    match sealed.flatten() {
        Some(sealed) => Ok(Some(key.open(&postgres_context(engagement_id), &sealed)?)),
        None => Ok(None),
    }
}

// ---------------------------------------------------------------------------------------------
// The firm's allow-list

pub async fn firm_probe_allow(db: &Db, firm_id: i64) -> Result<String> {
    let allow: Option<String> =
        sqlx::query_scalar("select probe_allow from firms where firm_id = $1")
            .bind(firm_id)
            .fetch_optional(db.pool())
            .await?;
    allow.ok_or(Error::NotFound)
}

/// The firm owner's ranges (comma-separated CIDRs); checked, and stored one per comma.
pub async fn set_firm_probe_allow(db: &Db, firm_id: i64, text: &str) -> Result<String> {
    let nets = Guard::parse_allow_list(text).map_err(|e| Error::invalid("probe_allow", e))?;
    let normalised = nets
        .iter()
        .map(|n| n.to_string())
        .collect::<Vec<_>>()
        .join(", ");
    sqlx::query("update firms set probe_allow = $1, updated_at = $2 where firm_id = $3")
        .bind(&normalised)
        .bind(now_ms())
        .bind(firm_id)
        .execute(db.pool())
        .await?;
    Ok(normalised)
}

// ---------------------------------------------------------------------------------------------
// Uploads

fn upload_kind(kind: ProbeKind) -> Result<&'static str> {
    match kind {
        ProbeKind::Repository => Ok("repository"),
        ProbeKind::Logs => Ok("logs"),
        _ => Err(Error::invalid(
            "kind",
            "Only repository archives and log files are uploaded.",
        )),
    }
}

pub async fn save_upload(
    db: &Db,
    actor: &Actor,
    firm_id: i64,
    engagement_id: i64,
    kind: ProbeKind,
    file_name: &str,
    bytes: &[u8],
) -> Result<ProbeUpload> {
    check_firm_engagement(db, firm_id, engagement_id).await?;
    let kind_text = upload_kind(kind)?;
    let file_name = clean_file_name(file_name, "upload");
    if bytes.is_empty() {
        return Err(Error::invalid(
            "file",
            format!("“{file_name}” is empty. Choose a file to upload."),
        ));
    }
    if bytes.len() > MAX_UPLOAD_BYTES {
        return Err(Error::invalid(
            "file",
            format!(
                "“{file_name}” is {:.1} MB; uploads can be at most {} MB.",
                bytes.len() as f64 / 1_048_576.0,
                MAX_UPLOAD_BYTES / 1_048_576
            ),
        ));
    }
    use sha2::Digest;
    let sha256 = hex::encode(sha2::Sha256::digest(bytes));
    let now = now_ms();
    let id: i64 = sqlx::query_scalar(
        r#"insert into probe_uploads (engagement_id, kind, file_name, size_bytes, sha256, content, uploaded_by, created_at)
           values ($1, $2, $3, $4, $5, $6, $7, $8) returning upload_id"#,
    )
    .bind(engagement_id)
    .bind(kind_text)
    .bind(&file_name)
    .bind(bytes.len() as i64)
    .bind(&sha256)
    .bind(bytes)
    .bind(&actor.name)
    .bind(now)
    .fetch_one(db.pool())
    .await?;
    Ok(ProbeUpload {
        id,
        kind,
        file_name,
        size_bytes: bytes.len() as i64,
        sha256,
        uploaded_by: actor.name.clone(),
        created_at: now,
    })
}

fn upload_from_row(row: &sqlx::any::AnyRow) -> Result<ProbeUpload> {
    let kind: String = row.try_get("kind")?;
    Ok(ProbeUpload {
        id: row.try_get("upload_id")?,
        kind: ProbeKind::parse(&kind).ok_or_else(|| internal("bad upload kind"))?,
        file_name: row.try_get("file_name")?,
        size_bytes: row.try_get("size_bytes")?,
        sha256: row.try_get("sha256")?,
        uploaded_by: row.try_get("uploaded_by")?,
        created_at: row.try_get("created_at")?,
    })
}

/// The engagement's uploads, newest first (at most 200: older ones are rarely wanted).
pub async fn list_uploads(db: &Db, firm_id: i64, engagement_id: i64) -> Result<Vec<ProbeUpload>> {
    check_firm_engagement(db, firm_id, engagement_id).await?;
    let rows = sqlx::query(
        r#"select upload_id, kind, file_name, size_bytes, sha256, uploaded_by, created_at
           from probe_uploads where engagement_id = $1 order by upload_id desc limit 200"#,
    )
    .bind(engagement_id)
    .fetch_all(db.pool())
    .await?;
    rows.iter().map(upload_from_row).collect()
}

pub async fn delete_upload(
    db: &Db,
    firm_id: i64,
    engagement_id: i64,
    upload_id: i64,
) -> Result<()> {
    check_firm_engagement(db, firm_id, engagement_id).await?;
    let done = sqlx::query("delete from probe_uploads where upload_id = $1 and engagement_id = $2")
        .bind(upload_id)
        .bind(engagement_id)
        .execute(db.pool())
        .await?;
    if done.rows_affected() == 0 {
        return Err(Error::NotFound);
    }
    Ok(())
}

pub(crate) async fn upload_contents(
    db: &Db,
    engagement_id: i64,
    upload_ids: &[i64],
) -> Result<Vec<(String, Vec<u8>)>> {
    let mut out = Vec::new();
    for id in upload_ids {
        let row: Option<(String, Vec<u8>)> = sqlx::query_as(
            "select file_name, content from probe_uploads where upload_id = $1 and engagement_id = $2",
        )
        .bind(id)
        .bind(engagement_id)
        .fetch_optional(db.pool())
        .await?;
        if let Some(file) = row {
            out.push(file);
        }
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// Runs

/// What a run needs besides the stored targets: the files it reads.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct RunParams {
    #[serde(default)]
    pub upload_ids: Vec<i64>,
}

const RUN_COLUMNS: &str =
    "r.run_id, r.engagement_id, r.kind, r.status, r.target, r.progress_done, \
    r.progress_total, r.progress_label, r.cancel_requested, r.error, r.started_by, r.created_at, \
    r.started_at, r.finished_at";

const RUN_COUNTS: &str = "(select count(*) from probe_checks c where c.run_id = r.run_id and c.status = 'pass') as passed, \
    (select count(*) from probe_checks c where c.run_id = r.run_id and c.status = 'warn') as warned, \
    (select count(*) from probe_checks c where c.run_id = r.run_id and c.status = 'fail') as failed, \
    (select count(*) from probe_checks c where c.run_id = r.run_id and c.status = 'could_not_run') as could_not_run";

fn run_from_row(row: &sqlx::any::AnyRow) -> Result<ProbeRun> {
    let kind: String = row.try_get("kind")?;
    let status: String = row.try_get("status")?;
    let cancel: i64 = row.try_get("cancel_requested")?;
    Ok(ProbeRun {
        id: row.try_get("run_id")?,
        engagement_id: row.try_get("engagement_id")?,
        kind: ProbeKind::parse(&kind).ok_or_else(|| internal("bad run kind"))?,
        status: RunStatus::parse(&status).ok_or_else(|| internal("bad run status"))?,
        target: row.try_get("target")?,
        progress_done: row.try_get("progress_done")?,
        progress_total: row.try_get("progress_total")?,
        progress_label: row.try_get("progress_label")?,
        cancel_requested: cancel != 0,
        error: row.try_get("error")?,
        started_by: row.try_get("started_by")?,
        created_at: row.try_get("created_at")?,
        started_at: row.try_get("started_at")?,
        finished_at: row.try_get("finished_at")?,
        passed: row.try_get("passed")?,
        warned: row.try_get("warned")?,
        failed: row.try_get("failed")?,
        could_not_run: row.try_get("could_not_run")?,
    })
}

/// Starts a run of `kind` on the stored targets (and, for repositories and logs, the given
/// uploads): a `queued` run and its job, written together. Says what is missing when the
/// target for that kind is not set.
pub async fn start_run(
    db: &Db,
    actor: &Actor,
    firm_id: i64,
    engagement_id: i64,
    kind: ProbeKind,
    params: &RunParams,
) -> Result<ProbeRun> {
    check_firm_engagement(db, firm_id, engagement_id).await?;
    let targets = targets_of(db, engagement_id).await?;
    let uploads = list_uploads(db, firm_id, engagement_id).await?;
    let chosen: Vec<&ProbeUpload> = params
        .upload_ids
        .iter()
        .filter_map(|id| uploads.iter().find(|u| u.id == *id))
        .collect();
    if chosen.len() != params.upload_ids.len() {
        return Err(Error::invalid(
            "upload_ids",
            "One of the chosen uploads is not in this engagement.",
        ));
    }
    if chosen.iter().any(|u| u.kind != kind) {
        return Err(Error::invalid(
            "upload_ids",
            format!(
                "Only {} uploads can feed a {} run.",
                kind.label(),
                kind.label()
            ),
        ));
    }
    let target = match kind {
        ProbeKind::Http if targets.http_base_url.is_empty() => {
            return Err(Error::invalid(
                "http_base_url",
                "Set the API's base URL before running the HTTP probe.",
            ))
        }
        ProbeKind::Http => targets.http_base_url.clone(),
        ProbeKind::Postgres if !targets.postgres_set => {
            return Err(Error::invalid(
                "postgres_url",
                "Save a PostgreSQL connection string before running the database probe.",
            ))
        }
        ProbeKind::Postgres => targets.postgres_label.clone(),
        ProbeKind::Repository => match chosen.first() {
            Some(upload) => upload.file_name.clone(),
            None if !targets.repository_url.is_empty() => targets.repository_url.clone(),
            None => return Err(Error::invalid(
                "repository_url",
                "Set a repository URL or upload an archive before running the repository probe.",
            )),
        },
        ProbeKind::Logs if chosen.is_empty() => {
            return Err(Error::invalid(
                "upload_ids",
                "Upload at least one log file, then run the import.",
            ))
        }
        ProbeKind::Logs => chosen
            .iter()
            .map(|u| u.file_name.as_str())
            .collect::<Vec<_>>()
            .join(", "),
    };
    let params_json = serde_json::to_string(params).map_err(internal)?;
    let now = now_ms();
    let mut tx = db.begin_write().await?;
    let run_id: i64 = sqlx::query_scalar(
        r#"insert into probe_runs (engagement_id, firm_id, kind, status, target, params, started_by, created_at)
           values ($1, $2, $3, 'queued', $4, $5, $6, $7) returning run_id"#,
    )
    .bind(engagement_id)
    .bind(firm_id)
    .bind(kind.as_str())
    .bind(&target)
    .bind(&params_json)
    .bind(&actor.name)
    .bind(now)
    .fetch_one(&mut *tx)
    .await?;
    crate::jobs::enqueue(&mut tx, PROBE_RUN_JOB, &run_id.to_string(), Some(firm_id)).await?;
    tx.commit().await?;
    get_run(db, firm_id, engagement_id, run_id)
        .await
        .map(|d| d.run)
}

/// Runs of the engagement, newest first, `RUN_PAGE_SIZE` at a time before `before` (a run id).
pub async fn list_runs(
    db: &Db,
    firm_id: i64,
    engagement_id: i64,
    before: Option<i64>,
    limit: i64,
) -> Result<Vec<ProbeRun>> {
    check_firm_engagement(db, firm_id, engagement_id).await?;
    let sql = format!(
        "select {RUN_COLUMNS}, {RUN_COUNTS} from probe_runs r \
         where r.engagement_id = $1 and r.run_id < $2 order by r.run_id desc limit $3"
    );
    let rows = sqlx::query(&sql)
        .bind(engagement_id)
        .bind(before.unwrap_or(i64::MAX))
        .bind(limit.clamp(1, 100))
        .fetch_all(db.pool())
        .await?;
    rows.iter().map(run_from_row).collect()
}

fn check_from_row(row: &sqlx::any::AnyRow) -> Result<CheckResult> {
    let area: String = row.try_get("area")?;
    let status: String = row.try_get("status")?;
    let severity: String = row.try_get("severity")?;
    let measured: String = row.try_get("measured")?;
    let evidence: String = row.try_get("evidence")?;
    Ok(CheckResult {
        id: row.try_get("check_id")?,
        area: CheckArea::parse(&area).unwrap_or(CheckArea::Api),
        title: row.try_get("title")?,
        status: CheckStatus::parse(&status).ok_or_else(|| internal("bad check status"))?,
        severity: crate::findings::Severity::parse(&severity)
            .unwrap_or(crate::findings::Severity::Low),
        threshold: row.try_get("threshold")?,
        source: row.try_get("source")?,
        summary: row.try_get("summary")?,
        measured: serde_json::from_str(&measured).unwrap_or(serde_json::Value::Null),
        evidence: serde_json::from_str(&evidence).unwrap_or_default(),
        why: row.try_get("why")?,
    })
}

const CHECK_COLUMNS: &str =
    "check_id, area, title, status, severity, threshold, source, summary, measured, evidence, why";

async fn checks_of(db: &Db, run_id: i64) -> Result<Vec<CheckResult>> {
    let sql =
        format!("select {CHECK_COLUMNS} from probe_checks where run_id = $1 order by position");
    let rows = sqlx::query(&sql).bind(run_id).fetch_all(db.pool()).await?;
    rows.iter().map(check_from_row).collect()
}

/// A run with its checks, each beside its status in the previous finished run of that kind.
pub async fn get_run(
    db: &Db,
    firm_id: i64,
    engagement_id: i64,
    run_id: i64,
) -> Result<ProbeRunDetail> {
    check_firm_engagement(db, firm_id, engagement_id).await?;
    let sql = format!(
        "select {RUN_COLUMNS}, {RUN_COUNTS} from probe_runs r where r.run_id = $1 and r.engagement_id = $2"
    );
    let row = sqlx::query(&sql)
        .bind(run_id)
        .bind(engagement_id)
        .fetch_optional(db.pool())
        .await?
        .ok_or(Error::NotFound)?;
    let run = run_from_row(&row)?;
    let checks = checks_of(db, run_id).await?;
    let previous_id: Option<i64> = sqlx::query_scalar(
        r#"select max(run_id) from probe_runs
           where engagement_id = $1 and kind = $2 and run_id < $3 and status in ('done', 'timed_out')"#,
    )
    .bind(engagement_id)
    .bind(run.kind.as_str())
    .bind(run_id)
    .fetch_one(db.pool())
    .await?;
    let previous: HashMap<String, CheckStatus> = match previous_id {
        Some(id) => checks_of(db, id)
            .await?
            .into_iter()
            .map(|c| (c.id, c.status))
            .collect(),
        None => HashMap::new(),
    };
    Ok(ProbeRunDetail {
        checks: checks
            .into_iter()
            .map(|result| StoredCheck {
                previous_status: previous.get(&result.id).copied(),
                result,
            })
            .collect(),
        run,
    })
}

/// Asks a run to stop. A queued run is cancelled at once; a running one stops at its next step
/// (the job looks twice a second). A finished run is left as it is.
pub async fn cancel_run(
    db: &Db,
    firm_id: i64,
    engagement_id: i64,
    run_id: i64,
) -> Result<ProbeRun> {
    check_firm_engagement(db, firm_id, engagement_id).await?;
    let now = now_ms();
    let mut tx = db.begin_write().await?;
    let status: Option<String> = sqlx::query_scalar(
        "select status from probe_runs where run_id = $1 and engagement_id = $2",
    )
    .bind(run_id)
    .bind(engagement_id)
    .fetch_optional(&mut *tx)
    .await?;
    match status.as_deref().and_then(RunStatus::parse) {
        None => return Err(Error::NotFound),
        Some(RunStatus::Queued) => {
            sqlx::query(
                "update probe_runs set status = 'cancelled', cancel_requested = 1, finished_at = $1, \
                 progress_label = 'Cancelled before it started' where run_id = $2",
            )
            .bind(now)
            .bind(run_id)
            .execute(&mut *tx)
            .await?;
        }
        Some(RunStatus::Running) => {
            sqlx::query("update probe_runs set cancel_requested = 1 where run_id = $1")
                .bind(run_id)
                .execute(&mut *tx)
                .await?;
        }
        Some(_) => {}
    }
    tx.commit().await?;
    get_run(db, firm_id, engagement_id, run_id)
        .await
        .map(|d| d.run)
}

/// The newest check results of the engagement: per check id, the result from the newest
/// finished run that has it, with that run's id.
pub async fn latest_checks(
    db: &Db,
    firm_id: i64,
    engagement_id: i64,
) -> Result<Vec<(CheckResult, i64)>> {
    check_firm_engagement(db, firm_id, engagement_id).await?;
    // The database picks each check's newest finished run, so only those rows come back however
    // many runs the engagement has. The derived table names its columns apart: `status` and
    // `check_id` in CHECK_COLUMNS must mean the check's own.
    let sql = format!(
        r#"select run_id, {CHECK_COLUMNS} from probe_checks
           join (select c.check_id as latest_check, max(c.run_id) as latest_run
                 from probe_checks c
                 where c.run_id in (select run_id from probe_runs
                                    where engagement_id = $1 and status in ('done', 'timed_out'))
                 group by c.check_id) latest
             on latest.latest_run = run_id and latest.latest_check = check_id
           order by run_id desc, position"#
    );
    let rows = sqlx::query(&sql)
        .bind(engagement_id)
        .fetch_all(db.pool())
        .await?;
    rows.iter()
        .map(|row| Ok((check_from_row(row)?, row.try_get("run_id")?)))
        .collect()
}

// ---------------------------------------------------------------------------------------------
// What the job uses

/// A run as the job sees it.
pub(crate) struct RunJob {
    pub run_id: i64,
    pub engagement_id: i64,
    pub firm_id: i64,
    pub kind: ProbeKind,
    pub params: RunParams,
}

/// Marks a queued (or, after a worker died, running) run as running. None when it was
/// cancelled or already finished.
pub(crate) async fn begin_run(db: &Db, run_id: i64) -> Result<Option<RunJob>> {
    // engagement, firm, kind, status, params, cancel requested, heartbeat.
    type RunRow = (i64, i64, String, String, String, i64, Option<i64>);
    let mut tx = db.begin_write().await?;
    let row: Option<RunRow> = sqlx::query_as(
        "select engagement_id, firm_id, kind, status, params, cancel_requested, heartbeat_at from probe_runs where run_id = $1",
    )
    .bind(run_id)
    .fetch_optional(&mut *tx)
    .await?;
    let Some((engagement_id, firm_id, kind, status, params, cancel, heartbeat)) = row else {
        return Ok(None);
    };
    let status = RunStatus::parse(&status);
    if !matches!(status, Some(RunStatus::Queued | RunStatus::Running)) {
        return Ok(None);
    }
    // A run whose job lease ran out while it was still working (long runs outlive the lease):
    // the first worker is alive, so this claim backs off and its job retries later.
    if status == Some(RunStatus::Running)
        && heartbeat.is_some_and(|beat| now_ms() - beat < HEARTBEAT_FRESH_MS)
    {
        return Err(Error::Conflict {
            field: None,
            message: format!("probe run {run_id} is running in another worker"),
        });
    }
    if cancel != 0 {
        sqlx::query(
            "update probe_runs set status = 'cancelled', finished_at = $1 where run_id = $2",
        )
        .bind(now_ms())
        .bind(run_id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        return Ok(None);
    }
    sqlx::query(
        "update probe_runs set status = 'running', started_at = $1, heartbeat_at = $1, progress_done = 0, progress_label = 'Starting' where run_id = $2",
    )
    .bind(now_ms())
    .bind(run_id)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(Some(RunJob {
        run_id,
        engagement_id,
        firm_id,
        kind: ProbeKind::parse(&kind).ok_or_else(|| internal("bad run kind"))?,
        params: serde_json::from_str(&params).unwrap_or_default(),
    }))
}

/// Stores the progress; answers whether someone asked the run to stop.
pub(crate) async fn record_progress(
    db: &Db,
    run_id: i64,
    done: i64,
    total: i64,
    label: &str,
) -> Result<bool> {
    // One statement: store the progress and read back whether someone asked the run to stop.
    let cancel: Option<i64> = sqlx::query_scalar(
        "update probe_runs set progress_done = $1, progress_total = $2, progress_label = $3, heartbeat_at = $4 \
         where run_id = $5 and status = 'running' returning cancel_requested",
    )
    .bind(done)
    .bind(total)
    .bind(label)
    .bind(now_ms())
    .bind(run_id)
    .fetch_optional(db.pool())
    .await?;
    Ok(cancel.unwrap_or(0) != 0)
}

/// Writes the outcome: status, error, raw results and the checks, in one transaction.
pub(crate) async fn finish_run(
    db: &Db,
    run_id: i64,
    status: RunStatus,
    output: Option<&ProbeOutput>,
    error: Option<&str>,
) -> Result<()> {
    let raw = match output {
        Some(o) => Some(serde_json::to_string(&o.raw).map_err(internal)?),
        None => None,
    };
    let mut tx = db.begin_write().await?;
    sqlx::query("delete from probe_checks where run_id = $1")
        .bind(run_id)
        .execute(&mut *tx)
        .await?;
    if let Some(output) = output {
        insert_checks(&mut tx, run_id, &output.checks).await?;
    }
    let label = match status {
        RunStatus::Done => "Finished",
        RunStatus::Cancelled => "Cancelled",
        RunStatus::TimedOut => "Stopped at the time limit",
        RunStatus::Failed => "Failed",
        _ => "",
    };
    sqlx::query(
        r#"update probe_runs set status = $1, error = $2, raw = $3, finished_at = $4, progress_label = $5,
                  progress_done = case when $1 = 'done' then progress_total else progress_done end
           where run_id = $6"#,
    )
    .bind(status.as_str())
    .bind(error)
    .bind(&raw)
    .bind(now_ms())
    .bind(label)
    .bind(run_id)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

async fn insert_checks(
    conn: &mut sqlx::AnyConnection,
    run_id: i64,
    checks: &[CheckResult],
) -> Result<()> {
    let mut seen = std::collections::HashSet::new();
    for (position, check) in checks.iter().enumerate() {
        // One row per check id: a probe that reported an id twice keeps the first.
        if !seen.insert(check.id.as_str()) {
            continue;
        }
        sqlx::query(
            r#"insert into probe_checks (run_id, check_id, position, area, title, status, severity, threshold,
                                         source, summary, measured, evidence, why)
               values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"#,
        )
        .bind(run_id)
        .bind(&check.id)
        .bind(position as i64)
        .bind(check.area.as_str())
        .bind(&check.title)
        .bind(check.status.as_str())
        .bind(check.severity.as_str())
        .bind(&check.threshold)
        .bind(&check.source)
        .bind(&check.summary)
        .bind(serde_json::to_string(&check.measured).map_err(internal)?)
        .bind(serde_json::to_string(&check.evidence).map_err(internal)?)
        .bind(&check.why)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Results pushed in from outside (a client's CI)

/// A result file a CI job sends: the checks it ran itself, in Plumbline's check format.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PushedResults {
    pub kind: ProbeKind,
    /// What was probed, as the CI job names it ("main @ 4f2c1a9").
    pub target: String,
    pub checks: Vec<CheckResult>,
}

pub const MAX_PUSHED_CHECKS: usize = 500;

/// Stores pushed results as a finished run, after checking every check names its kind's prefix
/// and fits the limits; each problem is named with the check's position.
pub async fn push_results(
    db: &Db,
    actor: &Actor,
    firm_id: i64,
    engagement_id: i64,
    pushed: &PushedResults,
) -> Result<ProbeRun> {
    check_firm_engagement(db, firm_id, engagement_id).await?;
    let mut problems = Vec::new();
    let target = pushed.target.trim();
    if target.is_empty() || target.len() > 300 {
        problems.push((
            "target",
            "Name what was probed, in at most 300 characters.".to_owned(),
        ));
    }
    if pushed.checks.is_empty() || pushed.checks.len() > MAX_PUSHED_CHECKS {
        problems.push((
            "checks",
            format!("Send between 1 and {MAX_PUSHED_CHECKS} checks."),
        ));
    }
    for (i, check) in pushed.checks.iter().enumerate() {
        let prefix = pushed.kind.check_prefix();
        if !check.id.starts_with(prefix) || check.id.len() > 100 {
            problems.push((
                "checks",
                format!(
                    "Check {}: its id must start with “{prefix}” (at most 100 characters).",
                    i + 1
                ),
            ));
        }
        let too_long = check.title.len() > 300
            || check.summary.len() > 2000
            || check.threshold.len() > 1000
            || check.source.len() > 300
            || check.evidence.len() > 200
            || check.evidence.iter().any(|e| e.len() > 2000)
            || check.measured.to_string().len() > 100_000;
        if too_long || check.title.trim().is_empty() {
            problems.push((
                "checks",
                format!(
                    "Check {} ({}): a title is needed, and its texts must stay within the limits.",
                    i + 1,
                    check.id
                ),
            ));
        }
    }
    if !problems.is_empty() {
        problems.truncate(20);
        return Err(Error::Invalid(
            problems
                .into_iter()
                .map(|(field, message)| crate::FieldError {
                    field: field.to_owned(),
                    message,
                })
                .collect(),
        ));
    }
    let now = now_ms();
    let mut tx = db.begin_write().await?;
    let run_id: i64 = sqlx::query_scalar(
        r#"insert into probe_runs (engagement_id, firm_id, kind, status, target, params, progress_done, progress_total,
                                   progress_label, started_by, created_at, started_at, finished_at, raw)
           values ($1, $2, $3, 'done', $4, '{}', $5, $5, 'Pushed from outside', $6, $7, $7, $7, 'null') returning run_id"#,
    )
    .bind(engagement_id)
    .bind(firm_id)
    .bind(pushed.kind.as_str())
    .bind(target)
    .bind(pushed.checks.len() as i64)
    .bind(&actor.name)
    .bind(now)
    .fetch_one(&mut *tx)
    .await?;
    insert_checks(&mut tx, run_id, &pushed.checks).await?;
    tx.commit().await?;
    get_run(db, firm_id, engagement_id, run_id)
        .await
        .map(|d| d.run)
}
