//! Frozen question banks. The built-in bank is registered at start-up (a new row only when its
//! content changed); firms publish their templates as new versions. Rows are never updated, so
//! an engagement that pinned a version answers the same questions forever.
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use sha2::{Digest, Sha256};

use super::bank::Bank;
use super::model::BankVersionInfo;
use crate::clock::now_ms;
use crate::db::Db;
use crate::error::{Error, Result};

pub const BUILTIN_NAME: &str = "Built-in";

fn content_of(bank: &Bank) -> Result<(String, String)> {
    let content = serde_json::to_string(bank).map_err(|e| Error::Internal(e.to_string()))?;
    let hash = hex::encode(Sha256::digest(content.as_bytes()));
    Ok((content, hash))
}

/// Stores the built-in bank unless a version with the same content exists; returns its id.
pub async fn register_builtin_bank(db: &Db, bank: &Bank) -> Result<i64> {
    let (content, hash) = content_of(bank)?;
    if let Some(id) = sqlx::query_scalar::<_, i64>(
        "select bank_version_id from bank_versions where firm_id is null and content_hash = $1",
    )
    .bind(&hash)
    .fetch_optional(db.pool())
    .await?
    {
        return Ok(id);
    }
    let now = now_ms();
    let inserted = sqlx::query_scalar::<_, i64>(
        r#"insert into bank_versions (firm_id, name, version, content_hash, content, created_at, updated_at)
           values (null, $1, (select coalesce(max(version), 0) + 1 from bank_versions where firm_id is null),
                   $2, $3, $4, $4)
           returning bank_version_id"#,
    )
    .bind(BUILTIN_NAME)
    .bind(&hash)
    .bind(&content)
    .bind(now)
    .fetch_one(db.pool())
    .await
    .map_err(Error::from);
    match inserted {
        // Two instances starting at once: the other one registered the same content.
        Err(e) if e.is_unique_violation() => Ok(sqlx::query_scalar(
            "select bank_version_id from bank_versions where firm_id is null and content_hash = $1",
        )
        .bind(&hash)
        .fetch_one(db.pool())
        .await?),
        other => other,
    }
}

/// Freezes a firm's template into its next version.
pub async fn publish_firm_version(
    db: &Db,
    firm_id: i64,
    bank_template_id: i64,
    name: &str,
    bank: &Bank,
    user_id: i64,
) -> Result<BankVersionInfo> {
    let (content, hash) = content_of(bank)?;
    let now = now_ms();
    // The unique index on (template, version) refuses the loser of two simultaneous publishes;
    // it takes the next number.
    let mut attempts = 0;
    let (bank_version_id, version): (i64, i64) = loop {
        let inserted = sqlx::query_as(
            r#"insert into bank_versions (firm_id, bank_template_id, name, version, content_hash, content,
                                          created_by, created_at, updated_at)
               values ($1, $2, $3,
                       (select coalesce(max(version), 0) + 1 from bank_versions where bank_template_id = $2),
                       $4, $5, $6, $7, $7)
               returning bank_version_id, version"#,
        )
        .bind(firm_id)
        .bind(bank_template_id)
        .bind(name)
        .bind(&hash)
        .bind(&content)
        .bind(user_id)
        .bind(now)
        .fetch_one(db.pool())
        .await
        .map_err(Error::from);
        match inserted {
            Err(e) if e.is_unique_violation() && attempts < 5 => attempts += 1,
            other => break other?,
        }
    };
    Ok(BankVersionInfo {
        bank_version_id,
        name: name.to_owned(),
        version,
        builtin: false,
    })
}

/// Parsed banks by the SHA-256 of their content, so the answer path (every autosave reads the
/// bank) skips fetching and parsing ~60 KB of JSON. Keyed by content, not by id: an entry can
/// never be stale or belong to another database (tests open many in one process).
fn parsed_banks() -> &'static Mutex<HashMap<String, Arc<Bank>>> {
    static PARSED: OnceLock<Mutex<HashMap<String, Arc<Bank>>>> = OnceLock::new();
    PARSED.get_or_init(Default::default)
}

fn cached_bank(content_hash: &str) -> Option<Arc<Bank>> {
    parsed_banks()
        .lock()
        .ok()
        .and_then(|banks| banks.get(content_hash).cloned())
}

/// A version the firm may use: built-in ones, or its own. Another firm's version is `NotFound`.
pub async fn bank_version(
    db: &Db,
    firm_id: i64,
    bank_version_id: i64,
) -> Result<(BankVersionInfo, Arc<Bank>)> {
    // Who may use the version is checked on every call; only the content comes from the cache.
    let row: Option<(i64, Option<i64>, String, i64, String)> = sqlx::query_as(
        r#"select bank_version_id, firm_id, name, version, content_hash from bank_versions
           where bank_version_id = $1 and (firm_id is null or firm_id = $2)"#,
    )
    .bind(bank_version_id)
    .bind(firm_id)
    .fetch_optional(db.pool())
    .await?;
    let (bank_version_id, owner, name, version, content_hash) = row.ok_or(Error::NotFound)?;
    let info = BankVersionInfo {
        bank_version_id,
        name,
        version,
        builtin: owner.is_none(),
    };
    if let Some(bank) = cached_bank(&content_hash) {
        return Ok((info, bank));
    }
    let content: String =
        sqlx::query_scalar("select content from bank_versions where bank_version_id = $1")
            .bind(bank_version_id)
            .fetch_one(db.pool())
            .await?;
    let bank: Arc<Bank> = Arc::new(
        serde_json::from_str(&content)
            .map_err(|e| Error::Internal(format!("bank version {bank_version_id}: {e}")))?,
    );
    if let Ok(mut banks) = parsed_banks().lock() {
        banks.insert(content_hash, bank.clone());
    }
    Ok((info, bank))
}

/// The versions a firm can pin: every built-in one and its own, newest first.
pub async fn list_bank_versions(db: &Db, firm_id: i64) -> Result<Vec<BankVersionInfo>> {
    let rows: Vec<(i64, Option<i64>, String, i64)> = sqlx::query_as(
        r#"select bank_version_id, firm_id, name, version from bank_versions
           where firm_id is null or firm_id = $1
           order by bank_version_id desc limit 200"#,
    )
    .bind(firm_id)
    .fetch_all(db.pool())
    .await?;
    Ok(rows
        .into_iter()
        .map(|(bank_version_id, owner, name, version)| BankVersionInfo {
            bank_version_id,
            name,
            version,
            builtin: owner.is_none(),
        })
        .collect())
}

/// What a new questionnaire pins: the firm's most recently published version, or else the
/// newest built-in one.
pub async fn default_bank_version_id(db: &Db, firm_id: i64) -> Result<i64> {
    let firm: Option<i64> =
        sqlx::query_scalar("select max(bank_version_id) from bank_versions where firm_id = $1")
            .bind(firm_id)
            .fetch_one(db.pool())
            .await?;
    if let Some(id) = firm {
        return Ok(id);
    }
    latest_builtin_version_id(db)
        .await?
        .ok_or_else(|| Error::Internal("no built-in question bank registered".to_owned()))
}

/// The newest built-in version, if one is registered.
pub async fn latest_builtin_version_id(db: &Db) -> Result<Option<i64>> {
    Ok(
        sqlx::query_scalar("select max(bank_version_id) from bank_versions where firm_id is null")
            .fetch_one(db.pool())
            .await?,
    )
}
