//! Evidence files attached to answers: checked by content (never by the name or the type the
//! browser claims), stored in the database so every instance serves them, and served only to
//! members of the engagement's firm and its founders.
use sha2::{Digest, Sha256};

use super::model::{EvidenceFile, MAX_EVIDENCE_BYTES};
use super::store::{engagement_bank, Respondent};
use crate::clock::now_ms;
use crate::db::Db;
use crate::error::{Error, Result};
use crate::fields::clean_file_name;

/// The kinds of file a founder may attach, told apart by their first bytes.
fn sniff(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(b"%PDF-") {
        Some("application/pdf")
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("image/jpeg")
    } else if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
        Some("image/gif")
    } else if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        Some("image/webp")
    } else if std::str::from_utf8(bytes).is_ok() && !bytes.contains(&0) {
        // Logs, CSV, JSON, Markdown, SQL…: always served as plain text, never as HTML.
        Some("text/plain; charset=utf-8")
    } else {
        None
    }
}

const KINDS: &str = "PDF, PNG, JPEG, GIF or WebP images, and plain-text files such as logs, CSV, \
                     JSON or Markdown";

/// The extensions that go with each kind; a name that promises another kind is refused.
fn extension_fits(file_name: &str, content_type: &str) -> bool {
    let extension = file_name
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    let binary: &[(&str, &[&str])] = &[
        ("application/pdf", &["pdf"]),
        ("image/png", &["png"]),
        ("image/jpeg", &["jpg", "jpeg"]),
        ("image/gif", &["gif"]),
        ("image/webp", &["webp"]),
    ];
    let claimed = binary
        .iter()
        .find(|(_, exts)| exts.contains(&extension.as_str()))
        .map(|(kind, _)| *kind);
    match claimed {
        Some(kind) => kind == content_type,
        // Any other extension (txt, log, csv, json, md, even html or svg) must hold text, which
        // is served as plain text; a name without an extension may hold any accepted kind.
        None => content_type.starts_with("text/plain") || extension.is_empty(),
    }
}

/// Checks and stores a file for one question of the engagement.
pub async fn save_file(
    db: &Db,
    who: &Respondent,
    engagement_id: i64,
    question_id: &str,
    file_name: &str,
    bytes: &[u8],
) -> Result<EvidenceFile> {
    let (_, bank) = match who {
        Respondent::Founder(f) if f.engagement_id != engagement_id => return Err(Error::NotFound),
        _ => engagement_bank(db, who.firm_id(), engagement_id).await?,
    };
    let question = bank
        .question(question_id.trim())
        .ok_or_else(|| Error::invalid("question_id", "There is no such question."))?;
    let file_name = clean_file_name(file_name, "evidence");
    if bytes.is_empty() {
        return Err(Error::invalid(
            "file",
            "The file is empty. Choose a file to attach.",
        ));
    }
    if bytes.len() > MAX_EVIDENCE_BYTES {
        return Err(Error::invalid(
            "file",
            format!(
                "“{file_name}” is {:.1} MB; files can be at most {} MB.",
                bytes.len() as f64 / 1_048_576.0,
                MAX_EVIDENCE_BYTES / 1_048_576
            ),
        ));
    }
    let Some(content_type) = sniff(bytes) else {
        return Err(Error::invalid(
            "file",
            format!("“{file_name}” is not a kind of file Plumbline keeps. Attach {KINDS}."),
        ));
    };
    if !extension_fits(&file_name, content_type) {
        return Err(Error::invalid(
            "file",
            format!("“{file_name}” does not contain what its name says. Attach {KINDS}."),
        ));
    }
    let now = now_ms();
    let uploaded_by = who.name();
    let evidence_file_id: i64 = sqlx::query_scalar(
        r#"insert into evidence_files (engagement_id, question_id, file_name, content_type, size_bytes,
                                       sha256, content, uploaded_by, created_at, updated_at)
           values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9) returning evidence_file_id"#,
    )
    .bind(engagement_id)
    .bind(&question.id)
    .bind(&file_name)
    .bind(content_type)
    .bind(bytes.len() as i64)
    .bind(hex::encode(Sha256::digest(bytes)))
    .bind(bytes.to_vec())
    .bind(&uploaded_by)
    .bind(now)
    .fetch_one(db.pool())
    .await?;
    Ok(EvidenceFile {
        evidence_file_id,
        question_id: question.id.clone(),
        file_name,
        content_type: content_type.to_owned(),
        size_bytes: bytes.len() as i64,
        uploaded_by,
        created_at: now,
    })
}

type FileRow = (i64, String, String, String, i64, String, i64);

fn file_from_row(row: FileRow) -> EvidenceFile {
    let (
        evidence_file_id,
        question_id,
        file_name,
        content_type,
        size_bytes,
        uploaded_by,
        created_at,
    ) = row;
    EvidenceFile {
        evidence_file_id,
        question_id,
        file_name,
        content_type,
        size_bytes,
        uploaded_by,
        created_at,
    }
}

pub(crate) async fn list_files(db: &Db, engagement_id: i64) -> Result<Vec<EvidenceFile>> {
    let rows: Vec<FileRow> = sqlx::query_as(
        r#"select evidence_file_id, question_id, file_name, content_type, size_bytes, uploaded_by, created_at
           from evidence_files where engagement_id = $1 order by evidence_file_id limit 1000"#,
    )
    .bind(engagement_id)
    .fetch_all(db.pool())
    .await?;
    Ok(rows.into_iter().map(file_from_row).collect())
}

/// A file and its bytes, for a member of the firm or a founder of the engagement.
pub async fn get_file(
    db: &Db,
    who: &Respondent,
    evidence_file_id: i64,
) -> Result<(EvidenceFile, Vec<u8>)> {
    let row: Option<(i64, i64, Vec<u8>)> = sqlx::query_as(
        r#"select f.engagement_id, e.firm_id, f.content from evidence_files f
           join engagements e on e.engagement_id = f.engagement_id
           where f.evidence_file_id = $1"#,
    )
    .bind(evidence_file_id)
    .fetch_optional(db.pool())
    .await?;
    let (engagement_id, firm_id, content) = row.ok_or(Error::NotFound)?;
    let allowed = match who {
        Respondent::Founder(f) => f.engagement_id == engagement_id,
        Respondent::Member(m) => m.firm_id == firm_id,
    };
    if !allowed {
        return Err(Error::NotFound);
    }
    let row: FileRow = sqlx::query_as(
        r#"select evidence_file_id, question_id, file_name, content_type, size_bytes, uploaded_by, created_at
           from evidence_files where evidence_file_id = $1"#,
    )
    .bind(evidence_file_id)
    .fetch_one(db.pool())
    .await?;
    Ok((file_from_row(row), content))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_are_told_apart_by_content() {
        assert_eq!(sniff(b"%PDF-1.7 ..."), Some("application/pdf"));
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\n...."), Some("image/png"));
        assert_eq!(
            sniff(b"2026-01-01 GET /users 200 12ms\n"),
            Some("text/plain; charset=utf-8")
        );
        assert_eq!(sniff(&[0x7f, b'E', b'L', b'F', 0, 0, 0xff]), None);
    }

    #[test]
    fn a_name_cannot_promise_another_kind() {
        assert!(!extension_fits("diagram.png", "application/pdf"));
        assert!(!extension_fits("evil.pdf", "text/plain; charset=utf-8"));
        assert!(extension_fits("slow.log", "text/plain; charset=utf-8"));
        assert!(extension_fits("Report.PDF", "application/pdf"));
    }

    #[test]
    fn file_names_lose_paths_and_quotes() {
        assert_eq!(clean_file_name("../../etc/passwd", "evidence"), "passwd");
        assert_eq!(clean_file_name("a\"b<c>.txt", "evidence"), "abc.txt");
        assert_eq!(clean_file_name("", "evidence"), "evidence");
    }
}
