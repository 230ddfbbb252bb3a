//! The decision records' plain routes: the ADR zip download and the ADR zip import, for members
//! of the engagement's firm only; and the engagement page's activity card listing the changes.
mod common;

use reqwest::header::{ACCEPT, CONTENT_TYPE, LOCATION, ORIGIN};
use reqwest::{Client, Response, StatusCode};
use serde_json::Value;

use common::{header, json, new_client, unique_email, with_app, TestApp};

/// A firm's owner and a new engagement's id.
async fn firm_with_engagement(app: &TestApp, client_name: &str) -> (Client, String, i64) {
    let owner = app.sign_up(&unique_email("adr-owner-")).await;
    let token = app.api_token(&owner).await;
    let id = new_engagement(app, &token, client_name).await;
    (owner, token, id)
}

async fn new_engagement(app: &TestApp, token: &str, client_name: &str) -> i64 {
    app.create_engagement(token, client_name).await["engagement_id"]
        .as_i64()
        .expect("the engagement's id")
}

/// Writes a record through the page's server function; returns it as JSON.
async fn save_decision(
    app: &TestApp,
    client: &Client,
    engagement_id: i64,
    fields: &[(&str, &str)],
) -> Value {
    let id = engagement_id.to_string();
    let mut form = vec![("engagement_id", id.as_str())];
    form.extend_from_slice(fields);
    let response = app.call_fn(client, "save_decision", &form).await;
    assert_eq!(response.status(), StatusCode::OK, "the record is saved");
    json(response).await
}

/// Two records: PostgreSQL for everything (ADR-0001), then a read replica that supersedes it.
async fn two_records(app: &TestApp, client: &Client, engagement_id: i64) -> (Value, Value) {
    let first = save_decision(
        app,
        client,
        engagement_id,
        &[
            ("form[title]", "Use PostgreSQL for everything"),
            ("form[status]", "accepted"),
            ("form[decided_on]", "2026-01-15"),
            ("form[context]", "One database, **one** backup."),
        ],
    )
    .await;
    let first_id = first["decision_id"].as_i64().expect("an id").to_string();
    let second = save_decision(
        app,
        client,
        engagement_id,
        &[
            ("form[title]", "Split reporting into a read replica"),
            ("form[status]", "accepted"),
            ("form[supersedes]", first_id.as_str()),
        ],
    )
    .await;
    (first, second)
}

fn multipart_body(parts: &[(&str, Option<&str>, &[u8])]) -> (String, Vec<u8>) {
    let boundary = "plumbline-adr-test-5d1e0a7c93".to_owned();
    let mut body = Vec::new();
    for (name, file_name, bytes) in parts {
        let disposition = match file_name {
            Some(file) => format!("form-data; name=\"{name}\"; filename=\"{file}\""),
            None => format!("form-data; name=\"{name}\""),
        };
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: {disposition}\r\n\
                 Content-Type: application/octet-stream\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (boundary, body)
}

/// Posts a multipart form to the import route, asking for JSON or not.
async fn import(
    app: &TestApp,
    client: &Client,
    engagement_id: i64,
    parts: &[(&str, Option<&str>, &[u8])],
    as_json: bool,
) -> Response {
    let (boundary, body) = multipart_body(parts);
    let accept = if as_json {
        "application/json"
    } else {
        "text/html,application/xhtml+xml"
    };
    client
        .post(app.url(&format!("/engagements/{engagement_id}/decisions/import")))
        .header(ORIGIN, &app.address)
        .header(ACCEPT, accept)
        .header(
            CONTENT_TYPE,
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(body)
        .send()
        .await
        .expect("the import is answered")
}

/// Asserts a JSON refusal of an import; returns its message.
async fn refused(response: Response, status: StatusCode) -> String {
    assert_eq!(response.status(), status);
    let body = json(response).await;
    assert_eq!(body["error"]["field"], "file", "{body}");
    body["error"]["message"]
        .as_str()
        .expect("a message")
        .to_owned()
}

async fn download(app: &TestApp, client: &Client, engagement_id: i64) -> Response {
    client
        .get(app.url(&format!("/engagements/{engagement_id}/decisions.zip")))
        .send()
        .await
        .expect("the download is answered")
}

async fn page(app: &TestApp, client: &Client, path: &str) -> String {
    let response = app.get(client, path).await;
    assert_eq!(response.status(), StatusCode::OK, "GET {path}");
    response.text().await.expect("a page")
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle.as_bytes())
}

/// A zip archive with the files stored uncompressed: enough to hand the importer a README.
fn stored_zip(files: &[(&str, &str)]) -> Vec<u8> {
    fn crc32(bytes: &[u8]) -> u32 {
        let mut crc = !0_u32;
        for byte in bytes {
            crc ^= u32::from(*byte);
            for _ in 0..8 {
                crc = if crc & 1 == 1 {
                    (crc >> 1) ^ 0xEDB8_8320
                } else {
                    crc >> 1
                };
            }
        }
        !crc
    }
    let (mut out, mut central) = (Vec::new(), Vec::new());
    for (name, text) in files {
        let (name, data) = (name.as_bytes(), text.as_bytes());
        let (crc, size, offset) = (crc32(data), data.len() as u32, out.len() as u32);
        out.extend_from_slice(&0x0403_4b50_u32.to_le_bytes());
        out.extend_from_slice(&[20, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        out.extend_from_slice(&crc.to_le_bytes());
        out.extend_from_slice(&size.to_le_bytes());
        out.extend_from_slice(&size.to_le_bytes());
        out.extend_from_slice(&(name.len() as u16).to_le_bytes());
        out.extend_from_slice(&0_u16.to_le_bytes());
        out.extend_from_slice(name);
        out.extend_from_slice(data);
        central.extend_from_slice(&0x0201_4b50_u32.to_le_bytes());
        central.extend_from_slice(&[20, 0, 20, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        central.extend_from_slice(&crc.to_le_bytes());
        central.extend_from_slice(&size.to_le_bytes());
        central.extend_from_slice(&size.to_le_bytes());
        central.extend_from_slice(&(name.len() as u16).to_le_bytes());
        central.extend_from_slice(&[0; 12]);
        central.extend_from_slice(&offset.to_le_bytes());
        central.extend_from_slice(name);
    }
    let (central_offset, central_size) = (out.len() as u32, central.len() as u32);
    out.extend_from_slice(&central);
    out.extend_from_slice(&0x0605_4b50_u32.to_le_bytes());
    out.extend_from_slice(&[0, 0, 0, 0]);
    out.extend_from_slice(&(files.len() as u16).to_le_bytes());
    out.extend_from_slice(&(files.len() as u16).to_le_bytes());
    out.extend_from_slice(&central_size.to_le_bytes());
    out.extend_from_slice(&central_offset.to_le_bytes());
    out.extend_from_slice(&0_u16.to_le_bytes());
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_adr_zip_holds_every_record_and_imports_into_another_engagement() {
    with_app(|app| async move {
        let (owner, token, id) = firm_with_engagement(&app, "Harbour Freight").await;
        two_records(&app, &owner, id).await;

        let response = download(&app, &owner, id).await;
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(
            header(response.headers(), "content-type").as_deref(),
            Some("application/zip")
        );
        let disposition =
            header(response.headers(), "content-disposition").expect("a Content-Disposition");
        assert!(disposition.starts_with("attachment;"), "{disposition}");
        assert!(disposition.contains(".zip\""), "{disposition}");
        let zip = response.bytes().await.expect("the zip").to_vec();
        assert!(zip.starts_with(b"PK"), "a zip archive");
        for file in [
            "docs/adr/0001-use-postgresql-for-everything.md",
            "docs/adr/0002-split-reporting-into-a-read-replica.md",
        ] {
            assert!(contains(&zip, file), "the zip holds {file}");
        }

        // The same archive into a fresh engagement, as a script does it.
        let other = new_engagement(&app, &token, "Harbour Freight, second audit").await;
        let response = import(
            &app,
            &owner,
            other,
            &[("file", Some("adr.zip"), &zip)],
            true,
        )
        .await;
        assert_eq!(response.status(), StatusCode::OK);
        let report = json(response).await;
        assert_eq!(
            report["imported"].as_array().map(Vec::len),
            Some(2),
            "{report}"
        );
        assert_eq!(report["skipped"], serde_json::json!([]), "{report}");
        let response = app
            .call_fn(
                &owner,
                "decisions_page",
                &[("engagement_id", &other.to_string())],
            )
            .await;
        assert_eq!(response.status(), StatusCode::OK);
        let data = json(response).await;
        let decisions = data["decisions"].as_array().expect("the records");
        assert_eq!(decisions.len(), 2);
        assert_eq!(decisions[0]["title"], "Use PostgreSQL for everything");
        assert_eq!(decisions[0]["status"], "superseded");
        assert_eq!(decisions[0]["superseded_by"]["number"], 2);
        assert_eq!(decisions[1]["supersedes"]["number"], 1);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_members_of_the_firm_reach_the_zip_routes() {
    with_app(|app| async move {
        let (owner, _, id) = firm_with_engagement(&app, "Lantern Health").await;
        two_records(&app, &owner, id).await;
        let zip = download(&app, &owner, id)
            .await
            .bytes()
            .await
            .expect("the zip")
            .to_vec();

        // Another firm's member: as if the engagement did not exist.
        let stranger = app.sign_up(&unique_email("adr-stranger-")).await;
        assert_eq!(
            download(&app, &stranger, id).await.status(),
            StatusCode::NOT_FOUND
        );
        let response = import(
            &app,
            &stranger,
            id,
            &[("file", Some("adr.zip"), &zip)],
            true,
        )
        .await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
        let response = import(
            &app,
            &stranger,
            id,
            &[("file", Some("adr.zip"), &zip)],
            false,
        )
        .await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
        assert_eq!(
            download(&app, &owner, 999_999).await.status(),
            StatusCode::NOT_FOUND
        );

        // Nobody logged in: sent to log in, or told so in JSON; nothing is imported.
        let anonymous = new_client();
        let response = download(&app, &anonymous, id).await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        assert_eq!(
            header(response.headers(), LOCATION.as_str()).as_deref(),
            Some(format!("/login?next=/engagements/{id}/decisions").as_str())
        );
        let response = import(
            &app,
            &anonymous,
            id,
            &[("file", Some("adr.zip"), &zip)],
            true,
        )
        .await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        let response = import(
            &app,
            &anonymous,
            id,
            &[("file", Some("adr.zip"), &zip)],
            false,
        )
        .await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        let count: i64 =
            sqlx::query_scalar("select count(*) from decisions where engagement_id = $1")
                .bind(id)
                .fetch_one(app.db.pool())
                .await
                .expect("a count");
        assert_eq!(count, 2, "nothing was imported by the refused requests");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn imports_say_precisely_what_is_wrong() {
    with_app(|app| async move {
        let (owner, _, id) = firm_with_engagement(&app, "Copperleaf Bank").await;

        let message = refused(
            import(
                &app,
                &owner,
                id,
                &[("file", Some("notes.txt"), b"just text")],
                true,
            )
            .await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert!(message.contains("not a zip archive"), "{message}");

        let message = refused(
            import(&app, &owner, id, &[("comment", None, b"hello")], true).await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert!(message.contains("Choose an ADR zip"), "{message}");
        // What a browser sends when no file was chosen: an empty part without a name.
        let message = refused(
            import(&app, &owner, id, &[("file", Some(""), b"")], true).await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert!(message.contains("Choose an ADR zip"), "{message}");

        let mut big = b"PK\x03\x04".to_vec();
        big.resize(10 * 1024 * 1024 + 1, b'a');
        let message = refused(
            import(&app, &owner, id, &[("file", Some("big.zip"), &big)], true).await,
            StatusCode::PAYLOAD_TOO_LARGE,
        )
        .await;
        assert!(message.contains("at most 10 MB"), "{message}");

        // Not a multipart form at all.
        let response = owner
            .post(app.url(&format!("/engagements/{id}/decisions/import")))
            .header(ORIGIN, &app.address)
            .header(ACCEPT, "application/json")
            .form(&[("file", "x")])
            .send()
            .await
            .expect("an answer");
        let message = refused(response, StatusCode::BAD_REQUEST).await;
        assert!(message.contains("multipart"), "{message}");

        // A browser without JavaScript: back to the page, which says it once.
        let response = import(
            &app,
            &owner,
            id,
            &[("file", Some("notes.txt"), b"text")],
            false,
        )
        .await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        let back = format!("/engagements/{id}/decisions");
        assert_eq!(
            header(response.headers(), LOCATION.as_str()).as_deref(),
            Some(back.as_str())
        );
        let html = page(&app, &owner, &back).await;
        assert!(
            html.contains("is not a zip archive"),
            "the page shows the refusal"
        );
        let html = page(&app, &owner, &back).await;
        assert!(!html.contains("is not a zip archive"), "only once");

        // Files that are not records are listed with the reason; the record is imported.
        let zip = stored_zip(&[
            ("docs/adr/README.md", "# Decisions\n\nThe team's records.\n"),
            (
                "docs/adr/0001-queue-heavy-work.md",
                "# 1. Queue heavy work\n\nDate: 2026-02-01\n\n## Status\n\nAccepted\n\n\
                 ## Context\n\nReports time out.\n\n## Decision\n\nRender them on a queue.\n\n\
                 ## Consequences\n\nA worker to run.\n",
            ),
        ]);
        let response = import(&app, &owner, id, &[("file", Some("adr.zip"), &zip)], false).await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        let html = page(&app, &owner, &back).await;
        assert!(html.contains("Imported 1 record"), "{html}");
        assert!(
            html.contains("docs/adr/README.md"),
            "the skipped file is named"
        );
        assert!(html.contains("not a decision record"), "with its reason");
        assert!(html.contains("Queue heavy work"), "the record is listed");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_activity_card_lists_decision_changes_to_the_firm_only() {
    with_app(|app| async move {
        let (owner, _, id) = firm_with_engagement(&app, "Saltmarsh Energy").await;
        let response = app
            .call_fn(
                &owner,
                "engagement_activity",
                &[("engagement_id", &id.to_string())],
            )
            .await;
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(json(response).await["entries"], serde_json::json!([]));
        let html = page(&app, &owner, &format!("/engagements/{id}")).await;
        assert!(html.contains("Nothing has changed yet"), "the empty state");

        two_records(&app, &owner, id).await;
        let response = app
            .call_fn(
                &owner,
                "engagement_activity",
                &[("engagement_id", &id.to_string())],
            )
            .await;
        assert_eq!(response.status(), StatusCode::OK);
        let activity = json(response).await;
        let refs: Vec<&str> = activity["entries"]
            .as_array()
            .expect("entries")
            .iter()
            .filter(|e| e["subject"] == "decision")
            .filter_map(|e| e["subject_ref"].as_str())
            .collect();
        assert!(refs.contains(&"ADR-0001"), "{activity}");
        assert!(refs.contains(&"ADR-0002"), "{activity}");
        let html = page(&app, &owner, &format!("/engagements/{id}")).await;
        assert!(html.contains("ADR-0002"), "the card lists the changes");
        assert!(html.contains("Before and after"), "with the states");

        let stranger = app.sign_up(&unique_email("activity-stranger-")).await;
        let response = app
            .call_fn(
                &stranger,
                "engagement_activity",
                &[("engagement_id", &id.to_string())],
            )
            .await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_waiver_posted_as_a_plain_form_links_findings_and_accepts_their_risk() {
    with_app(|app| async move {
        let email = unique_email("adr-waiver-");
        let owner = app.sign_up(&email).await;
        let token = app.api_token(&owner).await;
        let id = new_engagement(&app, &token, "Tidewater Mills").await;
        let user_id: i64 = sqlx::query_scalar("select user_id from users where email = $1")
            .bind(&email)
            .fetch_one(app.db.pool())
            .await
            .expect("the owner's id");
        let member = audit::accounts::member_by_id(&app.db, user_id)
            .await
            .expect("a lookup")
            .expect("the owner");
        let mut finding_ids = Vec::new();
        for title in [
            "No index on orders.customer_id",
            "Reports run on the primary",
        ] {
            let input = audit::findings::FindingInput {
                area: "database".to_owned(),
                severity: "high".to_owned(),
                title: title.to_owned(),
                confidence: "high".to_owned(),
                ..Default::default()
            };
            let finding = audit::findings::create_finding(&app.db, &member, id, &input)
                .await
                .expect("a finding");
            finding_ids.push(finding.finding_id.to_string());
        }

        // The names a browser posts for ticked checkboxes: `form[finding_ids][]`, once per box.
        let saved = save_decision(
            &app,
            &owner,
            id,
            &[
                ("form[title]", "Accept the missing index until the rewrite"),
                ("form[status]", "accepted"),
                ("form[expires_on]", "2099-03-01"),
                ("form[finding_ids][]", finding_ids[0].as_str()),
                ("form[finding_ids][]", finding_ids[1].as_str()),
            ],
        )
        .await;
        assert_eq!(saved["expires_on"], "2099-03-01");
        let linked: Vec<String> = saved["finding_ids"]
            .as_array()
            .expect("linked findings")
            .iter()
            .map(|v| v.to_string())
            .collect();
        assert_eq!(linked, finding_ids, "both findings are linked");
        let statuses: Vec<String> = sqlx::query_scalar(
            "select status from findings where engagement_id = $1 order by number",
        )
        .bind(id)
        .fetch_all(app.db.pool())
        .await
        .expect("the findings' statuses");
        assert_eq!(statuses, ["accepted_risk", "accepted_risk"]);

        let html = page(&app, &owner, &format!("/engagements/{id}/decisions")).await;
        assert!(html.contains("waiver until 2099-03-01"), "the waiver badge");
        assert!(
            html.contains("Findings waived"),
            "the record names what it waives"
        );
    })
    .await;
}
