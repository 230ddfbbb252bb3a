//! The report through the REST API and the browser routes: the draft in three formats, bad
//! draft input named on its field, issuing frozen versions rendered by the worker, digests that
//! verify (and catch tampering), sharing with founders by e-mail with the PDF attached, the
//! founder's read-only access, branding, and tenancy.
mod common;

use reqwest::{Method, StatusCode};
use serde_json::{json as j, Value};
use sha2::{Digest, Sha256};

use common::{header, with_app, TestApp};

fn call(
    app: &TestApp,
    method: Method,
    id: i64,
    rest: &str,
    token: &str,
) -> reqwest::RequestBuilder {
    app.api(method, &format!("/api/v1/engagements/{id}{rest}"), token)
}

async fn expect(request: reqwest::RequestBuilder, status: StatusCode) -> Value {
    let response = request.send().await.expect("the API answers");
    let got = response.status();
    let text = response.text().await.expect("a body");
    assert_eq!(got, status, "{text}");
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("a JSON body ({got}): {e}: {text:?}"))
}

async fn bytes_of(
    request: reqwest::RequestBuilder,
    status: StatusCode,
) -> (Vec<u8>, reqwest::header::HeaderMap) {
    let response = request.send().await.expect("the server answers");
    assert_eq!(response.status(), status, "{:?}", response.headers());
    let headers = response.headers().clone();
    (response.bytes().await.expect("a body").to_vec(), headers)
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex_encode(&Sha256::digest(bytes))
}

fn hex_encode(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A firm's owner (browser client and token) and an engagement with a founder, a finding and an
/// intervention.
async fn engagement(app: &TestApp) -> (reqwest::Client, String, i64) {
    let email = common::unique_email("owner-");
    let owner = app.sign_up(&email).await;
    let token = app.api_token(&owner).await;
    let id = app.create_engagement(&token, "Acme Rockets").await["engagement_id"]
        .as_i64()
        .expect("an engagement_id");
    expect(
        call(app, Method::PATCH, id, "", &token).json(&j!({
            "founders": [{"name": "Fay Founder", "email": "fay@acme.test"}],
            "start_date": "2026-11-02",
        })),
        StatusCode::OK,
    )
    .await;
    expect(
        call(app, Method::POST, id, "/findings", &token).json(&j!({
            "area": "database",
            "severity": "high",
            "title": "Foreign keys without an index",
            "description": "Joins on `orders.customer_id` **scan** the table.",
            "confidence": "high",
        })),
        StatusCode::CREATED,
    )
    .await;
    expect(
        call(app, Method::POST, id, "/interventions", &token).json(&j!({
            "title": "Index the foreign keys",
            "impact": "4",
            "effort_weeks": "1.5",
            "rationale": "Twelve indexes, created concurrently.",
        })),
        StatusCode::CREATED,
    )
    .await;
    (owner, token, id)
}

#[tokio::test]
async fn the_draft_renders_in_three_formats_and_bad_input_is_named() {
    with_app(|app| async move {
        let (_, token, id) = engagement(&app).await;

        let draft = expect(
            call(&app, Method::GET, id, "/report-draft", &token),
            StatusCode::OK,
        )
        .await;
        assert_eq!(draft["data"]["version"], 0);
        assert_eq!(draft["data"]["roadmap_capacity"], 2);

        // Each bad field is named, and nothing is written.
        let long = "x".repeat(20_001);
        for (body, field) in [
            (
                j!({"roadmap_capacity": "0", "version": 0}),
                "roadmap_capacity",
            ),
            (
                j!({"roadmap_capacity": "many", "version": 0}),
                "roadmap_capacity",
            ),
            (
                j!({"roadmap_capacity": "101", "version": 0}),
                "roadmap_capacity",
            ),
            (
                j!({"roadmap_capacity": "2", "roadmap_start": "2027-13-01", "version": 0}),
                "roadmap_start",
            ),
            (
                j!({"roadmap_capacity": "2", "summary": long, "version": 0}),
                "summary",
            ),
        ] {
            let refused = expect(
                call(&app, Method::PUT, id, "/report-draft", &token).json(&body),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
            assert_eq!(refused["error"]["field"], field, "{refused}");
            assert!(refused["error"]["request_id"].is_string(), "{refused}");
        }
        // Broken JSON is a 400, never a 500.
        let broken = call(&app, Method::PUT, id, "/report-draft", &token)
            .header("content-type", "application/json")
            .body("{\"summary\": ")
            .send()
            .await
            .expect("the API answers");
        assert_eq!(broken.status(), StatusCode::BAD_REQUEST);

        let saved = expect(
            call(&app, Method::PUT, id, "/report-draft", &token).json(&j!({
                "summary": "Three changes buy most of the risk back. <script>alert(1)</script>",
                "roadmap_capacity": "3",
                "roadmap_start": "2027-01-04",
                "version": 0,
            })),
            StatusCode::OK,
        )
        .await;
        assert_eq!(saved["data"]["version"], 1);
        // A save from the old version is refused with the stored draft.
        let stale = expect(
            call(&app, Method::PUT, id, "/report-draft", &token)
                .json(&j!({"summary": "mine", "roadmap_capacity": "1", "version": 0})),
            StatusCode::CONFLICT,
        )
        .await;
        assert_eq!(stale["error"]["code"], "stale_version");
        assert_eq!(stale["current"]["roadmap_capacity"], 3);

        let (markdown, headers) = bytes_of(
            call(&app, Method::GET, id, "/report.md", &token),
            StatusCode::OK,
        )
        .await;
        let markdown = String::from_utf8(markdown).expect("UTF-8 Markdown");
        assert!(header(&headers, "content-type").is_some_and(|t| t.starts_with("text/markdown")));
        assert!(
            markdown.contains("Three changes buy most of the risk back"),
            "{markdown}"
        );
        assert!(
            markdown.contains("Foreign keys without an index"),
            "{markdown}"
        );
        assert!(markdown.contains("Index the foreign keys"), "{markdown}");
        assert!(!markdown.contains("<script>"), "{markdown}");

        let (html, headers) = bytes_of(
            call(&app, Method::GET, id, "/report.html", &token),
            StatusCode::OK,
        )
        .await;
        let html = String::from_utf8(html).expect("UTF-8 HTML");
        assert!(
            html.starts_with("<!DOCTYPE html>"),
            "{}",
            &html[..80.min(html.len())]
        );
        assert!(
            !html.to_lowercase().contains("<script"),
            "no script in the report"
        );
        assert!(html.contains("Acme Rockets"));
        assert!(header(&headers, "content-security-policy")
            .is_some_and(|p| p.contains("default-src 'none'")));
        assert_eq!(
            header(&headers, "x-frame-options").as_deref(),
            Some("SAMEORIGIN")
        );

        let (pdf, headers) = bytes_of(
            call(&app, Method::GET, id, "/report.pdf", &token),
            StatusCode::OK,
        )
        .await;
        assert!(pdf.starts_with(b"%PDF-"), "a PDF");
        assert_eq!(
            header(&headers, "content-type").as_deref(),
            Some("application/pdf")
        );

        // Another firm sees none of it; nobody without a token either.
        let other = app.fresh_firm_token().await;
        for rest in ["/report.pdf", "/report.md", "/report-draft", "/reports"] {
            let refused = call(&app, Method::GET, id, rest, &other)
                .send()
                .await
                .expect("answers");
            assert_eq!(refused.status(), StatusCode::NOT_FOUND, "{rest}");
        }
        let anonymous = common::new_client()
            .get(app.url(&format!("/api/v1/engagements/{id}/report.pdf")))
            .send()
            .await
            .expect("answers");
        assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    })
    .await;
}

#[tokio::test]
async fn issued_versions_are_frozen_verifiable_and_shared_with_founders() {
    with_app(|app| async move {
        let (owner, token, id) = engagement(&app).await;
        expect(
            call(&app, Method::PUT, id, "/report-draft", &token)
                .json(&j!({"summary": "Version one's summary.", "roadmap_capacity": "2", "version": 0})),
            StatusCode::OK,
        )
        .await;

        let empty = expect(call(&app, Method::GET, id, "/reports", &token), StatusCode::OK).await;
        assert_eq!(empty["meta"]["count"], 0);

        let queued = expect(call(&app, Method::POST, id, "/reports", &token), StatusCode::ACCEPTED).await;
        assert_eq!(queued["data"]["number"], 1);
        assert_eq!(queued["data"]["status"], "rendering");
        // Its files are not there until the job has rendered them.
        let early = call(&app, Method::GET, id, "/reports/1.pdf", &token).send().await.expect("answers");
        assert!(
            [StatusCode::CONFLICT, StatusCode::OK].contains(&early.status()),
            "{}",
            early.status()
        );
        app.wait_for_jobs().await;

        let v1 = expect(call(&app, Method::GET, id, "/reports/1", &token), StatusCode::OK).await;
        assert_eq!(v1["data"]["status"], "issued", "{v1}");
        assert_eq!(v1["data"]["progress"], 100);
        let (pdf, headers) =
            bytes_of(call(&app, Method::GET, id, "/reports/1.pdf", &token), StatusCode::OK).await;
        assert!(pdf.starts_with(b"%PDF-"));
        assert_eq!(v1["data"]["pdf_sha256"].as_str(), Some(sha256_hex(&pdf).as_str()));
        assert_eq!(header(&headers, "x-content-sha256"), Some(sha256_hex(&pdf)));
        assert_eq!(v1["data"]["pdf_bytes"].as_i64(), i64::try_from(pdf.len()).ok());
        let (md1, _) = bytes_of(call(&app, Method::GET, id, "/reports/1.md", &token), StatusCode::OK).await;
        let md1 = String::from_utf8(md1).expect("UTF-8");
        assert!(md1.contains("Version one's summary."), "{md1}");
        assert!(md1.contains("Version 1"), "{md1}");

        let verified = expect(call(&app, Method::GET, id, "/reports/1/verify", &token), StatusCode::OK).await;
        assert_eq!(verified["data"]["intact"], true, "{verified}");
        assert_eq!(verified["data"]["files"].as_array().map(Vec::len), Some(4));

        // The engagement moves on; v1 stays as it was issued.
        expect(
            call(&app, Method::PUT, id, "/report-draft", &token)
                .json(&j!({"summary": "Version two's summary.", "roadmap_capacity": "2", "version": 1})),
            StatusCode::OK,
        )
        .await;
        let v2 = expect(call(&app, Method::POST, id, "/reports", &token), StatusCode::ACCEPTED).await;
        assert_eq!(v2["data"]["number"], 2);
        app.wait_for_jobs().await;
        let (again, _) = bytes_of(call(&app, Method::GET, id, "/reports/1.md", &token), StatusCode::OK).await;
        assert_eq!(String::from_utf8(again).expect("UTF-8"), md1, "v1 never changes");
        let (md2, _) = bytes_of(call(&app, Method::GET, id, "/reports/2.md", &token), StatusCode::OK).await;
        assert!(String::from_utf8(md2).expect("UTF-8").contains("Version two's summary."));
        let list = expect(call(&app, Method::GET, id, "/reports", &token), StatusCode::OK).await;
        assert_eq!(list["data"][0]["number"], 2, "newest first");
        // Pages of versions, newest first, by keyset.
        let first = expect(call(&app, Method::GET, id, "/reports?limit=1", &token), StatusCode::OK).await;
        assert_eq!(first["data"][0]["number"], 2);
        assert_eq!(first["meta"]["next_before"], 2);
        let second = expect(
            call(&app, Method::GET, id, "/reports?before=2&limit=1", &token),
            StatusCode::OK,
        )
        .await;
        assert_eq!(second["data"][0]["number"], 1);
        for (query, field) in [("?limit=0", "limit"), ("?limit=101", "limit"), ("?before=x", "before")] {
            let refused = expect(
                call(&app, Method::GET, id, &format!("/reports{query}"), &token),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
            assert_eq!(refused["error"]["field"], field, "{query}");
        }

        // Tampering with a stored file is caught.
        sqlx::query("update report_versions set markdown = markdown || 'x' where engagement_id = $1 and number = 2")
            .bind(id)
            .execute(app.db.pool())
            .await
            .expect("tampered");
        let tampered = expect(call(&app, Method::GET, id, "/reports/2/verify", &token), StatusCode::OK).await;
        assert_eq!(tampered["data"]["intact"], false, "{tampered}");

        // Bad version paths name nothing.
        for rest in ["/reports/0", "/reports/abc", "/reports/1.exe", "/reports/99", "/reports/99.pdf", "/reports/-1", "/reports/1.pdf/verify"] {
            let refused = call(&app, Method::GET, id, rest, &token).send().await.expect("answers");
            assert_eq!(refused.status(), StatusCode::NOT_FOUND, "{rest}");
        }

        // The founder is invited first, so the share mail below is the second one to arrive.
        let (_, founder_token) = app.invite_founder(&owner, id, "Fay Founder", "fay@acme.test").await;
        let founder = app.start_founder(&founder_token).await;

        // Sharing v1 with e-mail: the founder gets a link and the PDF attached.
        let shared = expect(
            call(&app, Method::POST, id, "/reports/1/share", &token).json(&j!({"shared": true, "notify": true})),
            StatusCode::OK,
        )
        .await;
        assert_eq!(shared["data"]["shared_with_founders"], true);
        let mail = app
            .wait_for_mail_to_matching("fay@acme.test", |m| m.contains("Audit report v1"))
            .await;
        assert!(mail.contains("/questionnaire/report"), "{mail}");
        assert!(mail.contains("application/pdf"), "the PDF is attached: {mail}");
        assert!(mail.contains("audit-report-v1.pdf"), "{mail}");

        // The founder's session reaches shared versions only, read-only.
        let own = app.get(&founder, "/questionnaire/report/v1.pdf").await;
        assert_eq!(own.status(), StatusCode::OK);
        assert!(own.bytes().await.expect("a body").starts_with(b"%PDF-"));
        let unshared = app.get(&founder, "/questionnaire/report/v2.pdf").await;
        assert_eq!(unshared.status(), StatusCode::NOT_FOUND);
        // A founder's session is not a member's: the consultant's routes stay closed.
        let consultant_route = founder
            .get(app.url(&format!("/engagements/{id}/report/v1.pdf")))
            .send()
            .await
            .expect("answers");
        assert_ne!(consultant_route.status(), StatusCode::OK);

        // Stop sharing: gone for the founder.
        expect(
            call(&app, Method::POST, id, "/reports/1/share", &token).json(&j!({"shared": false})),
            StatusCode::OK,
        )
        .await;
        let withdrawn = app.get(&founder, "/questionnaire/report/v1.pdf").await;
        assert_eq!(withdrawn.status(), StatusCode::NOT_FOUND);

        // The consultant's browser routes, with the session: the draft and a version.
        let draft_html = app.get(&owner, &format!("/engagements/{id}/report/draft.html")).await;
        assert_eq!(draft_html.status(), StatusCode::OK);
        let download = app.get(&owner, &format!("/engagements/{id}/report/v1.pdf?download=1")).await;
        assert_eq!(download.status(), StatusCode::OK);
        assert!(header(download.headers(), "content-disposition").is_some_and(|d| d.starts_with("attachment")));
        let junk = app.get(&owner, &format!("/engagements/{id}/report/v1.exe")).await;
        assert_eq!(junk.status(), StatusCode::NOT_FOUND);

        // Another firm can neither read nor share.
        let other = app.fresh_firm_token().await;
        for (method, rest) in [(Method::GET, "/reports/1"), (Method::GET, "/reports/1.pdf"), (Method::GET, "/reports/1/verify"), (Method::POST, "/reports")] {
            let refused = call(&app, method, id, rest, &other).send().await.expect("answers");
            assert_eq!(refused.status(), StatusCode::NOT_FOUND, "{rest}");
        }
        let refused = call(&app, Method::POST, id, "/reports/1/share", &other)
            .json(&j!({"shared": true}))
            .send()
            .await
            .expect("answers");
        assert_eq!(refused.status(), StatusCode::NOT_FOUND);
    })
    .await;
}

fn percent_decoded(url: &str) -> String {
    let bytes = url.replace('+', " ").into_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok());
        match (bytes[i], hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A 1×1 PNG.
const PNG: &[u8] = &[
    0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1F, 0x15, 0xC4,
    0x89, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9C, 0x63, 0xF8, 0xCF, 0xC0, 0xF0,
    0x1F, 0x00, 0x05, 0x00, 0x01, 0xFF, 0x89, 0x99, 0x3D, 0x1D, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45,
    0x4E, 0x44, 0xAE, 0x42, 0x60, 0x82,
];

#[tokio::test]
async fn the_owner_brands_the_report_and_bad_branding_is_refused() {
    with_app(|app| async move {
        let (owner, token, id) = engagement(&app).await;
        let post = |client: &reqwest::Client, accent: &str, logo: Option<(&'static [u8], &str)>| {
            let mut form = reqwest::multipart::Form::new().text("accent", accent.to_owned());
            if let Some((bytes, name)) = logo {
                form = form.part(
                    "logo",
                    reqwest::multipart::Part::bytes(bytes).file_name(name.to_owned()),
                );
            }
            client
                .post(app.url("/firm/branding"))
                .header(reqwest::header::ORIGIN, app.url(""))
                .multipart(form)
                .send()
        };
        // The form redirects back to the firm page with the outcome in the query.
        let saved = post(&owner, "#AA3300", Some((PNG, "logo.png")))
            .await
            .expect("answers");
        assert_eq!(
            header(saved.headers(), "location").as_deref(),
            Some("/firm?branding=saved#branding")
        );
        let html = app
            .get(&owner, &format!("/engagements/{id}/report/draft.html"))
            .await;
        let html = html.text().await.expect("a body");
        assert!(
            html.contains("data:image/png;base64,"),
            "the logo is in the HTML"
        );
        assert!(html.contains("#aa3300"), "the accent is in the HTML");
        let (pdf, _) = bytes_of(
            call(&app, Method::GET, id, "/report.pdf", &token),
            StatusCode::OK,
        )
        .await;
        assert!(
            pdf.starts_with(b"%PDF-"),
            "a PDF with the logo still typesets"
        );

        for (accent, logo, words) in [
            ("red", None, "not a colour"),
            ("#12345g", None, "not a colour"),
            ("#123456</style><script>", None, "not a colour"),
            (
                "#123456",
                Some((&b"GIF89a not allowed"[..], "logo.gif")),
                "PNG, JPEG or SVG",
            ),
        ] {
            let refused = post(&owner, accent, logo).await.expect("answers");
            let url = percent_decoded(&header(refused.headers(), "location").unwrap_or_default());
            assert!(url.contains("branding_error="), "{accent}: {url}");
            assert!(url.contains(words), "{accent}: {url}");
        }
        // The refused attempts left the saved look alone.
        let html = app
            .get(&owner, &format!("/engagements/{id}/report/draft.html"))
            .await;
        assert!(html.text().await.expect("a body").contains("#aa3300"));

        // A consultant who is not the owner cannot change it.
        let consultant = app.consultant(&owner).await;
        let refused = post(&consultant, "#000000", None).await.expect("answers");
        let location = percent_decoded(&header(refused.headers(), "location").unwrap_or_default());
        assert!(location.contains("Only the firm's owner"), "{location}");
    })
    .await;
}

/// An engagement filled through the API from the large fixture report (60 findings, 25
/// interventions with dependencies, 30 decision records, every question answered), for timing.
async fn large_engagement(app: &TestApp) -> (reqwest::Client, i64) {
    use std::collections::HashMap;
    let large = audit::reports::fixture::large_report();
    let email = common::unique_email("owner-");
    let owner = app.sign_up(&email).await;
    let token = app.api_token(&owner).await;
    let id = app.create_engagement(&token, "Acme Rockets").await["engagement_id"]
        .as_i64()
        .expect("an engagement_id");
    let area_key: HashMap<&str, &str> = large
        .areas
        .iter()
        .map(|a| (a.title.as_str(), a.key.as_str()))
        .collect();
    let mut finding_ids = HashMap::new();
    for f in &large.findings {
        let created = expect(
            call(app, Method::POST, id, "/findings", &token).json(&j!({
                "area": area_key[f.area.as_str()],
                "severity": f.severity.to_lowercase(),
                "title": f.title,
                "description": f.description,
                "confidence": f.confidence.to_lowercase(),
            })),
            StatusCode::CREATED,
        )
        .await;
        finding_ids.insert(f.reference.clone(), created["data"]["finding_id"].clone());
    }
    let mut interventions = large.interventions.clone();
    interventions.sort_by_key(|i| i.reference[2..].parse::<u32>().unwrap_or(0));
    let mut intervention_ids = HashMap::new();
    for i in &interventions {
        let depends_on: Vec<&Value> = i.depends_on.iter().map(|r| &intervention_ids[r]).collect();
        let fixes: Vec<&Value> = i.fixes.iter().map(|r| &finding_ids[r]).collect();
        let created = expect(
            call(app, Method::POST, id, "/interventions", &token).json(&j!({
                "title": i.title,
                "rationale": i.rationale,
                "impact": i.impact.to_string(),
                "expected_effect": i.expected_effect,
                "effort_weeks": i.effort_weeks.to_string(),
                "confidence": i.confidence.to_lowercase(),
                "depends_on": depends_on,
                "finding_ids": fixes,
            })),
            StatusCode::CREATED,
        )
        .await;
        intervention_ids.insert(
            i.reference.clone(),
            created["data"]["intervention_id"].clone(),
        );
    }
    for d in &large.decisions {
        expect(
            call(app, Method::POST, id, "/decisions", &token).json(&j!({
                "title": d.title,
                "status": "accepted",
                "context": d.context,
                "options": d.options,
                "decision": d.decision,
                "consequences": d.consequences,
                "deciders": d.deciders,
                "decided_on": d.decided_on,
            })),
            StatusCode::CREATED,
        )
        .await;
    }
    let questionnaire = expect(
        call(app, Method::GET, id, "/questionnaire", &token),
        StatusCode::OK,
    )
    .await;
    // "Not applicable" is refused for some questions; these four fit every one.
    let choices = ["yes", "partly", "no", "dont_know"];
    let mut n = 0;
    for area in questionnaire["data"]["areas"].as_array().expect("areas") {
        for question in area["questions"].as_array().expect("questions") {
            let qid = question["id"].as_str().expect("a question id");
            expect(
                call(app, Method::PUT, id, &format!("/questionnaire/answers/{qid}"), &token).json(
                    &j!({
                        "choice": choices[n % choices.len()],
                        "notes": if n % 2 == 0 { "We measure *averages*; the limit is in a wiki page from 2024." } else { "" },
                        "version": 0,
                    }),
                ),
                StatusCode::OK,
            )
            .await;
            n += 1;
        }
    }
    expect(
        call(app, Method::PUT, id, "/report-draft", &token).json(&j!({
            "summary": large.summary.text,
            "roadmap_capacity": "3",
            "roadmap_start": "2027-01-04",
            "version": 0,
        })),
        StatusCode::OK,
    )
    .await;
    (owner, id)
}

/// Prints how long the draft of a large report takes through the browser route, first and
/// again unchanged. For measuring by hand in release; nothing here is asserted about time:
/// `cargo test --release -p server --test reports_api -- --ignored --nocapture large_draft`
#[tokio::test]
#[ignore = "timing, run by hand in release"]
async fn large_draft_export_timings() {
    with_app(|app| async move {
        let (owner, id) = large_engagement(&app).await;
        for format in ["pdf", "md", "html"] {
            for attempt in ["first", "again", "again"] {
                let started = std::time::Instant::now();
                let response = app
                    .get(
                        &owner,
                        &format!("/engagements/{id}/report/draft.{format}?download=1"),
                    )
                    .await;
                assert_eq!(response.status(), StatusCode::OK);
                let bytes = response.bytes().await.expect("a body").len();
                println!(
                    "draft.{format} {attempt}: {:?} ({bytes} bytes)",
                    started.elapsed()
                );
            }
        }
    })
    .await;
}

/// Prints how long the large fixture report takes in each format (the first render and the best
/// of two more) and the process's peak memory. For measuring by hand in release, alone so the
/// peak is this test's; nothing is asserted about time:
/// `cargo test --release -p server --test reports_api -- --ignored --nocapture --exact large_report_render_timings`
#[test]
#[ignore = "timing, run by hand in release"]
fn large_report_render_timings() {
    use audit::reports::render;
    let report = audit::reports::fixture::large_report();
    let time = |label: &str, work: &mut dyn FnMut() -> usize| {
        let mut runs = Vec::new();
        let mut size = 0;
        for _ in 0..3 {
            let started = std::time::Instant::now();
            size = std::hint::black_box(work());
            runs.push(started.elapsed());
        }
        let best = runs[1..].iter().min().copied().unwrap_or_default();
        println!(
            "{label}: first {:?}, best of two more {best:?} ({size} bytes)",
            runs[0]
        );
    };
    time("typst source", &mut || render::typst_source(&report).len());
    time("pdf", &mut || {
        render::pdf(&report, None).expect("typesets").len()
    });
    time("markdown", &mut || render::markdown(&report).len());
    time("html", &mut || render::html(&report, None).len());
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let peak = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .unwrap_or("VmHWM: unknown");
    println!("peak memory: {peak}");
}
