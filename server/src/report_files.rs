//! The report's plain HTTP routes for browsers, with the session as the credential:
//! - `GET /engagements/{id}/report/{file}`: `draft.pdf|md|html` (the report as it stands) or
//!   `v{N}.pdf|md|html` (an issued version), for a member of the engagement's firm;
//! - `GET /questionnaire/report/{file}`: `v{N}.…` of a version shared with the founder's
//!   engagement, for that founder's session;
//! - `POST /firm/branding` (multipart): the firm owner's accent colour and logo.
//!
//! Files are served inline (the HTML draft is the page's live preview) unless `?download=1`
//! asks for an attachment. Anything the caller may not see reads as not found.
use axum::extract::multipart::MultipartRejection;
use axum::extract::rejection::QueryRejection;
use axum::extract::{DefaultBodyLimit, Multipart, Path, Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use serde::Deserialize;
use tower_sessions::Session;

use crate::decision_files::{log_in_first, member};
use app::state::{AppState, SESSION_FOUNDER, SESSION_FOUNDER_SINCE};
use audit::reports::{self, ReportFormat};

/// A branding form may carry a logo this large, plus the form around it.
const BRANDING_BODY_LIMIT: usize = reports::MAX_LOGO_BYTES + 64 * 1024;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/engagements/{id}/report/{file}", get(engagement_file))
        .route("/questionnaire/report/{file}", get(founder_file))
        .route(
            "/firm/branding",
            post(save_branding).layer(DefaultBodyLimit::max(BRANDING_BODY_LIMIT)),
        )
}

/// Is this the branding form (which may carry a body over the ordinary limit)?
pub fn is_branding_path(path: &str) -> bool {
    path == "/firm/branding"
}

/// Which file a URL names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportFile {
    Draft(ReportFormat),
    Version(i64, ReportFormat),
}

/// `draft.pdf` or `v3.html`; anything else is `None`.
pub fn parse_file(name: &str) -> Option<ReportFile> {
    let (stem, extension) = name.rsplit_once('.')?;
    let format = ReportFormat::from_extension(extension)?;
    if stem == "draft" {
        return Some(ReportFile::Draft(format));
    }
    let number = stem.strip_prefix('v')?;
    if number.is_empty() || !number.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let number: i64 = number.parse().ok().filter(|n| *n > 0)?;
    Some(ReportFile::Version(number, format))
}

#[derive(Debug, Default, Deserialize)]
struct FileQuery {
    download: Option<String>,
}

fn not_found() -> Response {
    (StatusCode::NOT_FOUND, "There is no such report here.").into_response()
}

/// The file as a response: its type, inline or attachment, its digest, and never cached by a
/// shared cache (reports are confidential).
pub fn file_response(
    bytes: Vec<u8>,
    format: ReportFormat,
    file_name: &str,
    download: bool,
    sha256: Option<&str>,
) -> Response {
    let mut response = bytes.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(format.content_type()),
    );
    let disposition = if download { "attachment" } else { "inline" };
    if let Ok(value) = HeaderValue::from_str(&format!("{disposition}; filename=\"{file_name}\"")) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    if format == ReportFormat::Html {
        // The report is a document, not an app: no script may run in it, whatever it contains.
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(
                "default-src 'none'; img-src data:; style-src 'unsafe-inline'; frame-ancestors 'self'",
            ),
        );
        // Our own pages show it in a frame (the live preview); nobody else's may.
        headers.insert(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("SAMEORIGIN"),
        );
    }
    if let Some(Ok(value)) = sha256.map(HeaderValue::from_str) {
        headers.insert("x-content-sha256", value);
    }
    response
}

/// A file name without the client's characters: `acme-launch-api-v3.pdf`.
pub fn download_name(system: &str, label: &str, format: ReportFormat) -> String {
    let mut slug: String = system
        .to_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    while slug.contains("--") {
        slug = slug.replace("--", "-");
    }
    let slug = slug.trim_matches('-');
    let slug = if slug.is_empty() { "report" } else { slug };
    let slug: String = slug.chars().take(60).collect();
    format!("{slug}-{label}.{}", format.extension())
}

fn failure(error: audit::Error, what: &str) -> Response {
    match error {
        audit::Error::NotFound => not_found(),
        audit::Error::Conflict { message, .. } => (StatusCode::CONFLICT, message).into_response(),
        e => {
            tracing::error!(error = %e, "could not serve the {what}");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                app::error::INTERNAL_MESSAGE,
            )
                .into_response()
        }
    }
}

async fn engagement_file(
    State(state): State<AppState>,
    session: Session,
    Path((id, file)): Path<(String, String)>,
    query: Result<Query<FileQuery>, QueryRejection>,
) -> Response {
    let (Ok(engagement_id), Some(file)) = (id.parse::<i64>(), parse_file(&file)) else {
        return not_found();
    };
    let Some(member) = member(&state, &session).await else {
        return log_in_first(&format!("/engagements/{engagement_id}/report"));
    };
    let download = query.is_ok_and(|Query(q)| q.download.is_some());
    let served = async {
        let engagement = audit::engagements::get(&state.db, member.firm_id, engagement_id).await?;
        match file {
            ReportFile::Draft(format) => {
                let bytes =
                    reports::render_draft(&state.db, &member, engagement_id, format).await?;
                let name = download_name(&engagement.system_name, "draft", format);
                Ok(file_response(bytes, format, &name, download, None))
            }
            ReportFile::Version(number, format) => {
                let (bytes, sha) =
                    reports::version_file(&state.db, member.firm_id, engagement_id, number, format)
                        .await?;
                let name = download_name(&engagement.system_name, &format!("v{number}"), format);
                Ok(file_response(bytes, format, &name, download, Some(&sha)))
            }
        }
    };
    served
        .await
        .unwrap_or_else(|e: audit::Error| failure(e, "report file"))
}

async fn founder_file(
    State(state): State<AppState>,
    session: Session,
    Path(file): Path<String>,
    query: Result<Query<FileQuery>, QueryRejection>,
) -> Response {
    let Some(ReportFile::Version(number, format)) = parse_file(&file) else {
        return not_found();
    };
    let founder_id = session.get::<i64>(SESSION_FOUNDER).await.ok().flatten();
    let since = session
        .get::<i64>(SESSION_FOUNDER_SINCE)
        .await
        .ok()
        .flatten()
        .unwrap_or(0);
    let founder = match founder_id {
        Some(id) => audit::questionnaire::founder_access(&state.db, id, since)
            .await
            .ok()
            .flatten(),
        None => None,
    };
    let Some(founder) = founder else {
        return Redirect::to("/questionnaire").into_response();
    };
    let download = query.is_ok_and(|Query(q)| q.download.is_some());
    match reports::shared_file(&state.db, &founder, number, format).await {
        Ok((bytes, sha)) => {
            let name = download_name(&founder.client_name, &format!("v{number}"), format);
            file_response(bytes, format, &name, download, Some(&sha))
        }
        Err(e) => failure(e, "shared report file"),
    }
}

fn branding_back(error: Option<&str>) -> Response {
    let target = match error {
        None => "/firm?branding=saved#branding".to_owned(),
        Some(message) => format!(
            "/firm?branding_error={}#branding",
            audit::fields::query_value(message)
        ),
    };
    Redirect::to(&target).into_response()
}

/// `POST /firm/branding` (multipart: `accent`, `logo`, `remove_logo`).
async fn save_branding(
    State(state): State<AppState>,
    session: Session,
    multipart: Result<Multipart, MultipartRejection>,
) -> Response {
    let Some(member) = member(&state, &session).await else {
        return log_in_first("/firm");
    };
    let Ok(mut multipart) = multipart else {
        return branding_back(Some("The form could not be read; send it again."));
    };
    let mut accent = String::new();
    let mut logo: Option<Vec<u8>> = None;
    let mut remove_logo = false;
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(_) => {
                return branding_back(Some(&format!(
                    "The logo is too large; the largest is {} KB.",
                    reports::MAX_LOGO_BYTES / 1024
                )))
            }
        };
        let name = field.name().unwrap_or_default().to_owned();
        let Ok(bytes) = field.bytes().await else {
            return branding_back(Some(&format!(
                "The logo is too large; the largest is {} KB.",
                reports::MAX_LOGO_BYTES / 1024
            )));
        };
        match name.as_str() {
            "accent" => accent = String::from_utf8_lossy(&bytes).into_owned(),
            "logo" if !bytes.is_empty() => logo = Some(bytes.to_vec()),
            "remove_logo" => remove_logo = true,
            _ => {}
        }
    }
    match reports::save_branding(&state.db, &member, &accent, logo.as_deref(), remove_logo).await {
        Ok(()) => branding_back(None),
        Err(audit::Error::Invalid(problems)) => {
            let message = problems
                .iter()
                .map(|p| p.message.clone())
                .collect::<Vec<_>>()
                .join(" ");
            branding_back(Some(&message))
        }
        Err(audit::Error::Forbidden(message)) => branding_back(Some(&message)),
        Err(e) => {
            tracing::error!(error = %e, "could not save the report branding");
            branding_back(Some(app::error::INTERNAL_MESSAGE))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{download_name, parse_file, ReportFile};
    use audit::reports::ReportFormat;

    #[test]
    fn file_names_parse_strictly() {
        assert_eq!(
            parse_file("draft.pdf"),
            Some(ReportFile::Draft(ReportFormat::Pdf))
        );
        assert_eq!(
            parse_file("v12.md"),
            Some(ReportFile::Version(12, ReportFormat::Markdown))
        );
        for bad in [
            "v0.pdf",
            "v.pdf",
            "v-1.pdf",
            "v1.exe",
            "draft",
            "v1",
            "x1.pdf",
            "v1.pdf.pdf",
            "",
            "v99999999999999999999.pdf",
            "v+1.pdf",
        ] {
            assert_eq!(parse_file(bad), None, "{bad}");
        }
    }

    #[test]
    fn download_names_keep_only_safe_characters() {
        assert_eq!(
            download_name("Launch API", "v3", ReportFormat::Pdf),
            "launch-api-v3.pdf"
        );
        assert_eq!(
            download_name("\"; rm -rf / <x>", "draft", ReportFormat::Html),
            "rm-rf-x-draft.html"
        );
        assert_eq!(
            download_name("שלום", "v1", ReportFormat::Markdown),
            "report-v1.md"
        );
    }
}
