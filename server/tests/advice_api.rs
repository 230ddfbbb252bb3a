//! The advice REST API of an engagement: findings (by hand and suggested from weak answers,
//! re-runnable), interventions in dependency-and-priority order with a roadmap and a pinned
//! order, decision records with superseding and `docs/adr/` zip export and import, tenancy, and
//! the OpenAPI document.
mod common;

use std::io::{Cursor, Read, Write};

use reqwest::{Method, Response, StatusCode};
use serde_json::{json as j, Value};

use common::{api_error_body, header, json, new_client, with_app, TestApp};

/// A fresh firm's token and one engagement of it.
async fn engagement(app: &TestApp) -> (String, i64) {
    let token = app.fresh_firm_token().await;
    let id = new_engagement(app, &token).await;
    (token, id)
}

async fn new_engagement(app: &TestApp, token: &str) -> i64 {
    app.create_engagement(token, "Acme Corp").await["engagement_id"]
        .as_i64()
        .expect("an engagement_id")
}

async fn send(request: reqwest::RequestBuilder) -> Response {
    request.send().await.expect("the API answers")
}

/// A request to `/api/v1/engagements/{id}{rest}`.
fn call(
    app: &TestApp,
    method: Method,
    id: i64,
    rest: &str,
    token: &str,
) -> reqwest::RequestBuilder {
    app.api(method, &format!("/api/v1/engagements/{id}{rest}"), token)
}

/// Sends, expects `status`, returns the JSON body.
async fn expect(request: reqwest::RequestBuilder, status: StatusCode) -> Value {
    let response = send(request).await;
    let got = response.status();
    let text = response.text().await.expect("a body");
    assert_eq!(got, status, "{text}");
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("a JSON body ({got}): {e}: {text:?}"))
}

fn id_of(value: &Value, key: &str) -> i64 {
    value[key]
        .as_i64()
        .unwrap_or_else(|| panic!("{key} in {value}"))
}

fn message(body: &Value) -> String {
    body["error"]["message"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

async fn create_finding(app: &TestApp, token: &str, id: i64, body: Value) -> Value {
    expect(
        call(app, Method::POST, id, "/findings", token).json(&body),
        StatusCode::CREATED,
    )
    .await["data"]
        .clone()
}

async fn create_intervention(app: &TestApp, token: &str, id: i64, body: Value) -> Value {
    expect(
        call(app, Method::POST, id, "/interventions", token).json(&body),
        StatusCode::CREATED,
    )
    .await["data"]
        .clone()
}

async fn create_decision(app: &TestApp, token: &str, id: i64, body: Value) -> Value {
    expect(
        call(app, Method::POST, id, "/decisions", token).json(&body),
        StatusCode::CREATED,
    )
    .await["data"]
        .clone()
}

/// The questionnaire of an engagement (`data` of the questionnaire GET).
async fn questionnaire(app: &TestApp, token: &str, id: i64) -> Value {
    expect(
        call(app, Method::GET, id, "/questionnaire", token),
        StatusCode::OK,
    )
    .await["data"]
        .clone()
}

async fn answer(
    app: &TestApp,
    token: &str,
    id: i64,
    question_id: &str,
    choice: &str,
    version: i64,
) {
    expect(
        call(
            app,
            Method::PUT,
            id,
            &format!("/questionnaire/answers/{question_id}"),
            token,
        )
        .json(&j!({"choice": choice, "version": version})),
        StatusCode::OK,
    )
    .await;
}

/// A zip of `(path, bytes)` files.
fn zip_of(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (path, bytes) in files {
        writer.start_file(*path, options).expect("a zip entry");
        writer.write_all(bytes).expect("zip entry bytes");
    }
    writer.finish().expect("a finished zip").into_inner()
}

/// The `(path, text)` of every file in a zip.
fn unzip(bytes: &[u8]) -> Vec<(String, String)> {
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).expect("a zip archive");
    let mut files = Vec::new();
    for index in 0..archive.len() {
        let mut file = archive.by_index(index).expect("a zip entry");
        if file.is_dir() {
            continue;
        }
        let name = file.name().expect("an entry name").into_owned();
        let mut text = String::new();
        file.read_to_string(&mut text).expect("UTF-8 text");
        files.push((name, text));
    }
    files
}

async fn import_zip(app: &TestApp, token: &str, id: i64, bytes: Vec<u8>) -> Response {
    send(
        call(app, Method::POST, id, "/decisions.zip", token)
            .header("content-type", "application/zip")
            .body(bytes),
    )
    .await
}

// ---------------------------------------------------------------------------------------------
// Findings

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn findings_are_written_listed_edited_and_deleted() {
    with_app(|app| async move {
        let (token, id) = engagement(&app).await;

        let empty = expect(
            call(&app, Method::GET, id, "/findings", &token),
            StatusCode::OK,
        )
        .await;
        assert_eq!(empty["data"], j!([]));
        assert_eq!(empty["meta"]["count"], 0);

        let first = create_finding(
            &app,
            &token,
            id,
            j!({
                "area": "database",
                "severity": "high",
                "title": "No read replica",
                "description": "Reports run on the **primary**.",
                "confidence": "high",
                "links": "https://grafana.acme.test/d/db"
            }),
        )
        .await;
        assert_eq!(first["number"], 1);
        assert_eq!(first["area"], "database");
        assert_eq!(first["severity"], "high");
        assert_eq!(first["confidence"], "high");
        assert_eq!(first["status"], "open");
        assert_eq!(first["origin"], "manual");
        assert_eq!(first["version"], 1);
        assert!(
            first["description_html"]
                .as_str()
                .is_some_and(|h| h.contains("<strong>primary</strong>")),
            "{first}"
        );
        assert_eq!(first["evidence"][0]["kind"], "link", "{first}");
        assert_eq!(
            first["evidence"][0]["target"],
            "https://grafana.acme.test/d/db"
        );
        let second = create_finding(
            &app,
            &token,
            id,
            j!({"area": "people", "severity": "low", "title": "One on-call engineer"}),
        )
        .await;
        assert_eq!(second["number"], 2);
        assert_eq!(second["confidence"], "medium", "the default confidence");
        let first_id = id_of(&first, "finding_id");
        let second_id = id_of(&second, "finding_id");

        let list = expect(
            call(&app, Method::GET, id, "/findings", &token),
            StatusCode::OK,
        )
        .await;
        assert_eq!(list["meta"]["count"], 2);
        let ids: Vec<i64> = list["data"]
            .as_array()
            .expect("findings")
            .iter()
            .map(|f| id_of(f, "finding_id"))
            .collect();
        assert_eq!(ids, [first_id, second_id], "high before low");

        let one = expect(
            call(
                &app,
                Method::GET,
                id,
                &format!("/findings/{first_id}"),
                &token,
            ),
            StatusCode::OK,
        )
        .await;
        assert_eq!(one["data"], first);

        // Field errors name the field.
        for (body, field) in [
            (
                j!({"area": "kitchen", "severity": "high", "title": "x"}),
                "area",
            ),
            (
                j!({"area": "database", "severity": "urgent", "title": "x"}),
                "severity",
            ),
            (
                j!({"area": "database", "severity": "high", "title": "  "}),
                "title",
            ),
            (
                j!({"area": "database", "severity": "high", "title": "x", "confidence": "sure"}),
                "confidence",
            ),
            (
                j!({"area": "database", "severity": "high", "title": "x", "links": "ftp://x.test"}),
                "links",
            ),
        ] {
            let response =
                send(call(&app, Method::POST, id, "/findings", &token).json(&body)).await;
            let error = api_error_body(response, StatusCode::UNPROCESSABLE_ENTITY, "invalid").await;
            assert_eq!(error["error"]["field"], field, "{body}: {error}");
        }
        // JSON of the wrong shape, broken JSON, no JSON content type.
        let response =
            send(call(&app, Method::POST, id, "/findings", &token).json(&j!({"area": "database"})))
                .await;
        api_error_body(response, StatusCode::UNPROCESSABLE_ENTITY, "invalid").await;
        let response = send(
            call(&app, Method::POST, id, "/findings", &token)
                .header("content-type", "application/json")
                .body("{not json"),
        )
        .await;
        api_error_body(response, StatusCode::BAD_REQUEST, "malformed_json").await;
        let response = send(call(&app, Method::POST, id, "/findings", &token).body("x")).await;
        api_error_body(
            response,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
        )
        .await;

        // An edit names the version it replaces.
        let edit = j!({
            "area": "database",
            "severity": "critical",
            "title": "No read replica; reports lock the primary",
            "description": "Reports run on the **primary**.",
            "confidence": "high",
            "status": "open",
            "version": 1
        });
        let edited = expect(
            call(
                &app,
                Method::PATCH,
                id,
                &format!("/findings/{first_id}"),
                &token,
            )
            .json(&edit),
            StatusCode::OK,
        )
        .await["data"]
            .clone();
        assert_eq!(edited["version"], 2);
        assert_eq!(edited["severity"], "critical");
        assert_eq!(edited["title"], "No read replica; reports lock the primary");
        assert_eq!(
            edited["evidence"],
            j!([]),
            "the hand-added links were replaced"
        );
        let edited_fields = edited["edited_fields"].as_array().expect("edited fields");
        assert!(edited_fields.contains(&j!("severity")) && edited_fields.contains(&j!("title")));

        // A second writer still holding version 1.
        let mut stale = edit.clone();
        stale["title"] = j!("Someone else's title");
        let response = send(
            call(
                &app,
                Method::PATCH,
                id,
                &format!("/findings/{first_id}"),
                &token,
            )
            .json(&stale),
        )
        .await;
        let body = api_error_body(response, StatusCode::CONFLICT, "stale_version").await;
        assert_eq!(body["error"]["field"], "version", "{body}");
        assert_eq!(body["current"]["version"], 2, "{body}");
        assert_eq!(
            body["current"]["title"],
            "No read replica; reports lock the primary"
        );

        let mut bad = edit.clone();
        bad["version"] = j!(2);
        bad["status"] = j!("gone");
        let response = send(
            call(
                &app,
                Method::PATCH,
                id,
                &format!("/findings/{first_id}"),
                &token,
            )
            .json(&bad),
        )
        .await;
        let body = api_error_body(response, StatusCode::UNPROCESSABLE_ENTITY, "invalid").await;
        assert_eq!(body["error"]["field"], "status");

        let mut resolved = edit.clone();
        resolved["version"] = j!(2);
        resolved["status"] = j!("resolved");
        let resolved = expect(
            call(
                &app,
                Method::PATCH,
                id,
                &format!("/findings/{first_id}"),
                &token,
            )
            .json(&resolved),
            StatusCode::OK,
        )
        .await;
        assert_eq!(resolved["data"]["status"], "resolved");
        assert_eq!(resolved["data"]["version"], 3);

        // Delete; then it is gone.
        let response = send(call(
            &app,
            Method::DELETE,
            id,
            &format!("/findings/{second_id}"),
            &token,
        ))
        .await;
        assert_eq!(response.status(), StatusCode::NO_CONTENT);
        assert!(response.bytes().await.expect("a body").is_empty());
        for method in [Method::GET, Method::DELETE] {
            let response = send(call(
                &app,
                method,
                id,
                &format!("/findings/{second_id}"),
                &token,
            ))
            .await;
            api_error_body(response, StatusCode::NOT_FOUND, "not_found").await;
        }
        let response = send(
            call(
                &app,
                Method::PATCH,
                id,
                &format!("/findings/{second_id}"),
                &token,
            )
            .json(&edit),
        )
        .await;
        api_error_body(response, StatusCode::NOT_FOUND, "not_found").await;
        let list = expect(
            call(&app, Method::GET, id, "/findings", &token),
            StatusCode::OK,
        )
        .await;
        assert_eq!(list["meta"]["count"], 1);

        // Paths that name nothing answer with the API's error body.
        for path in ["/findings/abc", "/findings/99999999"] {
            let response = send(call(&app, Method::GET, id, path, &token)).await;
            api_error_body(response, StatusCode::NOT_FOUND, "not_found").await;
        }
        let response = send(app.api(Method::GET, "/api/v1/engagements/x/findings", &token)).await;
        api_error_body(response, StatusCode::NOT_FOUND, "not_found").await;
        let response =
            send(new_client().get(app.url(&format!("/api/v1/engagements/{id}/findings")))).await;
        api_error_body(response, StatusCode::UNAUTHORIZED, "unauthenticated").await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn findings_are_suggested_from_weak_answers_and_a_rerun_keeps_edits() {
    with_app(|app| async move {
        let (token, id) = engagement(&app).await;
        let data = questionnaire(&app, &token, id).await;
        let questions: Vec<&Value> = data["areas"]
            .as_array()
            .expect("areas")
            .iter()
            .flat_map(|a| a["questions"].as_array().expect("questions").iter())
            .collect();
        let red = questions
            .iter()
            .find(|q| q["red_flag"] == true)
            .expect("a red-flag question");
        let plain: Vec<&&Value> = questions
            .iter()
            .filter(|q| q["red_flag"] == false)
            .take(2)
            .collect();
        assert_eq!(plain.len(), 2);
        let red_id = red["id"].as_str().expect("an id").to_owned();
        let plain_ids: Vec<String> = plain
            .iter()
            .map(|q| q["id"].as_str().expect("an id").to_owned())
            .collect();
        answer(&app, &token, id, &red_id, "no", 0).await;
        for qid in &plain_ids {
            answer(&app, &token, id, qid, "no", 0).await;
        }
        // A "yes" is no weakness.
        let strong = questions
            .iter()
            .filter(|q| q["red_flag"] == false)
            .nth(2)
            .expect("a third question");
        let strong_id = strong["id"].as_str().expect("an id").to_owned();
        answer(&app, &token, id, &strong_id, "yes", 0).await;

        let report = expect(
            call(&app, Method::POST, id, "/findings/suggest", &token),
            StatusCode::OK,
        )
        .await["data"]
            .clone();
        assert_eq!(
            report["created"].as_array().map(Vec::len),
            Some(3),
            "{report}"
        );
        assert_eq!(report["updated"], j!([]), "{report}");
        assert_eq!(report["unchanged"], 0, "{report}");

        let list = expect(
            call(&app, Method::GET, id, "/findings", &token),
            StatusCode::OK,
        )
        .await;
        let findings = list["data"].as_array().expect("findings").clone();
        assert_eq!(findings.len(), 3, "{list}");
        let by_question = |qid: &str| -> Value {
            findings
                .iter()
                .find(|f| {
                    f["evidence"].as_array().is_some_and(|e| {
                        e.iter()
                            .any(|l| l["kind"] == "answer" && l["target"] == qid)
                    })
                })
                .cloned()
                .unwrap_or_else(|| panic!("a finding with evidence linking {qid}: {list}"))
        };
        let red_finding = by_question(&red_id);
        assert_eq!(red_finding["severity"], "critical", "{red_finding}");
        assert_eq!(red_finding["origin"], "answers");
        assert_eq!(red_finding["status"], "open");
        assert_eq!(
            red_finding["area"].as_str(),
            red_id.split('.').next(),
            "{red_finding}"
        );
        for qid in &plain_ids {
            let finding = by_question(qid);
            assert_eq!(finding["origin"], "answers");
            assert!(
                ["high", "medium"].contains(&finding["severity"].as_str().unwrap_or_default()),
                "{finding}"
            );
        }
        assert!(!findings.iter().any(|f| f["evidence"]
            .as_array()
            .is_some_and(|e| e.iter().any(|l| l["target"] == strong_id.as_str()))));
        // Critical first.
        assert_eq!(findings[0]["finding_id"], red_finding["finding_id"]);

        // Again: nothing new.
        let again = expect(
            call(&app, Method::POST, id, "/findings/suggest", &token),
            StatusCode::OK,
        )
        .await["data"]
            .clone();
        assert_eq!(again["created"], j!([]), "{again}");
        assert_eq!(again["updated"], j!([]), "{again}");
        assert_eq!(again["unchanged"], 3, "{again}");
        let list = expect(
            call(&app, Method::GET, id, "/findings", &token),
            StatusCode::OK,
        )
        .await;
        assert_eq!(list["meta"]["count"], 3);

        // A consultant retitles the red flag's finding; the founder then answers "partly".
        let red_finding_id = id_of(&red_finding, "finding_id");
        let retitled = expect(
            call(
                &app,
                Method::PATCH,
                id,
                &format!("/findings/{red_finding_id}"),
                &token,
            )
            .json(&j!({
                "area": red_finding["area"],
                "severity": red_finding["severity"],
                "title": "Our own words for it",
                "description": red_finding["description"],
                "confidence": red_finding["confidence"],
                "version": red_finding["version"]
            })),
            StatusCode::OK,
        )
        .await["data"]
            .clone();
        assert_eq!(retitled["edited_fields"], j!(["title"]), "{retitled}");
        answer(&app, &token, id, &red_id, "partly", 1).await;

        let third = expect(
            call(&app, Method::POST, id, "/findings/suggest", &token),
            StatusCode::OK,
        )
        .await["data"]
            .clone();
        assert_eq!(third["created"], j!([]), "{third}");
        let reference = format!("F-{}", red_finding["number"]);
        assert_eq!(third["updated"], j!([reference]), "{third}");
        let after = expect(
            call(
                &app,
                Method::GET,
                id,
                &format!("/findings/{red_finding_id}"),
                &token,
            ),
            StatusCode::OK,
        )
        .await["data"]
            .clone();
        assert_eq!(after["title"], "Our own words for it", "{after}");
        assert_eq!(
            after["severity"], "high",
            "a red flag answered partly: {after}"
        );

        // A finding made from the answers is resolved, not deleted.
        let response = send(call(
            &app,
            Method::DELETE,
            id,
            &format!("/findings/{red_finding_id}"),
            &token,
        ))
        .await;
        api_error_body(response, StatusCode::CONFLICT, "conflict").await;

        // The weakness gone: resolved by the next run.
        answer(&app, &token, id, &plain_ids[0], "yes", 1).await;
        let fourth = expect(
            call(&app, Method::POST, id, "/findings/suggest", &token),
            StatusCode::OK,
        )
        .await["data"]
            .clone();
        assert_eq!(
            fourth["resolved"].as_array().map(Vec::len),
            Some(1),
            "{fourth}"
        );
        let resolved = by_question(&plain_ids[0]);
        let resolved = expect(
            call(
                &app,
                Method::GET,
                id,
                &format!("/findings/{}", id_of(&resolved, "finding_id")),
                &token,
            ),
            StatusCode::OK,
        )
        .await["data"]
            .clone();
        assert_eq!(resolved["status"], "resolved", "{resolved}");
    })
    .await;
}

// ---------------------------------------------------------------------------------------------
// Interventions

fn ids_in_order(list: &Value) -> Vec<i64> {
    list["data"]
        .as_array()
        .expect("interventions")
        .iter()
        .map(|i| id_of(i, "intervention_id"))
        .collect()
}

fn named(message: &str, intervention: &Value) -> bool {
    let reference = format!("I-{}", intervention["number"]);
    let title = intervention["title"].as_str().unwrap_or("?");
    message.contains(&reference) || message.contains(title)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn interventions_come_dependencies_first_and_fit_a_roadmap() {
    with_app(|app| async move {
        let (token, id) = engagement(&app).await;

        // The enabler: little impact on its own.
        let enabler = create_intervention(
            &app,
            &token,
            id,
            j!({"title": "Add a read replica", "impact": "1", "effort_weeks": "1"}),
        )
        .await;
        let enabler_id = id_of(&enabler, "intervention_id");
        assert_eq!(enabler["number"], 1);
        assert_eq!(enabler["confidence"], "medium");
        assert_eq!(enabler["depends_on"], j!([]));
        // Worth more per week, but it needs the replica.
        let dependent = create_intervention(
            &app,
            &token,
            id,
            j!({
                "title": "Move reports to the replica",
                "rationale": "Reports lock the *primary*.",
                "impact": "5",
                "expected_effect": "p95 −40 %",
                "effort_weeks": "2",
                "depends_on": [enabler_id]
            }),
        )
        .await;
        let dependent_id = id_of(&dependent, "intervention_id");
        assert_eq!(dependent["number"], 2);
        assert_eq!(dependent["depends_on"], j!([enabler_id]));
        assert!(
            dependent["rationale_html"]
                .as_str()
                .is_some_and(|h| h.contains("<em>primary</em>")),
            "{dependent}"
        );

        let list = expect(
            call(&app, Method::GET, id, "/interventions", &token),
            StatusCode::OK,
        )
        .await;
        assert_eq!(ids_in_order(&list), [enabler_id, dependent_id], "{list}");
        assert_eq!(list["data"][0]["position"], 1);
        assert_eq!(list["data"][1]["position"], 2);
        let priority = |i: &Value| i["priority"].as_f64().expect("a priority");
        assert!((priority(&list["data"][0]) - 0.8).abs() < 1e-9, "{list}");
        assert!((priority(&list["data"][1]) - 2.0).abs() < 1e-9, "{list}");
        assert_eq!(list["meta"]["count"], 2);
        assert_eq!(
            list["meta"]["computed_order"],
            j!([enabler_id, dependent_id])
        );
        assert_eq!(list["meta"]["pinned"], false);
        assert_eq!(list["meta"]["departures"], j!([]));
        assert!(
            list.get("roadmap").is_none(),
            "no roadmap unless asked: {list}"
        );

        let one = expect(
            call(
                &app,
                Method::GET,
                id,
                &format!("/interventions/{dependent_id}"),
                &token,
            ),
            StatusCode::OK,
        )
        .await;
        assert_eq!(one["data"]["title"], "Move reports to the replica");

        // A circle: the enabler made to depend on what depends on it.
        let response = send(
            call(
                &app,
                Method::PATCH,
                id,
                &format!("/interventions/{enabler_id}"),
                &token,
            )
            .json(&j!({
                "title": "Add a read replica",
                "impact": "1",
                "effort_weeks": "1",
                "depends_on": [dependent_id],
                "version": enabler["version"]
            })),
        )
        .await;
        let body = api_error_body(response, StatusCode::UNPROCESSABLE_ENTITY, "invalid").await;
        assert_eq!(body["error"]["field"], "depends_on", "{body}");
        let text = message(&body);
        assert!(
            named(&text, &enabler) && named(&text, &dependent),
            "the message names both: {text}"
        );

        // Field errors.
        for (body, field) in [
            (
                j!({"title": "", "impact": "3", "effort_weeks": "1"}),
                "title",
            ),
            (
                j!({"title": "x", "impact": "9", "effort_weeks": "1"}),
                "impact",
            ),
            (
                j!({"title": "x", "impact": "3", "effort_weeks": "0"}),
                "effort_weeks",
            ),
            (
                j!({"title": "x", "impact": "3", "effort_weeks": "1", "confidence": "?"}),
                "confidence",
            ),
        ] {
            let response =
                send(call(&app, Method::POST, id, "/interventions", &token).json(&body)).await;
            let error = api_error_body(response, StatusCode::UNPROCESSABLE_ENTITY, "invalid").await;
            assert_eq!(error["error"]["field"], field, "{body}: {error}");
        }

        // An edit with the version it replaces, then a stale one.
        let edit = j!({
            "title": "Add a read replica (PostgreSQL 16)",
            "impact": "1",
            "effort_weeks": "1",
            "version": enabler["version"]
        });
        let edited = expect(
            call(
                &app,
                Method::PATCH,
                id,
                &format!("/interventions/{enabler_id}"),
                &token,
            )
            .json(&edit),
            StatusCode::OK,
        )
        .await["data"]
            .clone();
        assert_eq!(edited["title"], "Add a read replica (PostgreSQL 16)");
        let new_version = edited["version"].as_i64().expect("a version");
        assert!(new_version > enabler["version"].as_i64().unwrap_or(i64::MAX));
        let response = send(
            call(
                &app,
                Method::PATCH,
                id,
                &format!("/interventions/{enabler_id}"),
                &token,
            )
            .json(&edit),
        )
        .await;
        let body = api_error_body(response, StatusCode::CONFLICT, "stale_version").await;
        assert_eq!(body["current"]["version"], new_version, "{body}");

        // The roadmap for one engineer from a Monday: one after the other.
        let list = expect(
            call(
                &app,
                Method::GET,
                id,
                "/interventions?capacity=1&start=2027-01-04",
                &token,
            ),
            StatusCode::OK,
        )
        .await;
        assert_eq!(ids_in_order(&list), [enabler_id, dependent_id]);
        let roadmap = &list["roadmap"];
        assert_eq!(roadmap["capacity"], 1, "{roadmap}");
        assert_eq!(roadmap["start"], "2027-01-04", "{roadmap}");
        let entries = roadmap["entries"].as_array().expect("entries");
        assert_eq!(entries.len(), 2, "{roadmap}");
        assert_eq!(entries[0]["intervention_id"], enabler_id);
        assert_eq!(entries[1]["intervention_id"], dependent_id);
        assert_eq!(entries[0]["reference"], "I-1");
        for entry in entries {
            assert_eq!(entry["engineer"], 1, "{entry}");
        }
        let week = |e: &Value, k: &str| e[k].as_f64().expect("a week");
        assert_eq!(week(&entries[0], "start_week"), 0.0);
        assert_eq!(week(&entries[0], "end_week"), 1.0);
        assert_eq!(week(&entries[1], "start_week"), 1.0);
        assert_eq!(week(&entries[1], "end_week"), 3.0);
        assert_eq!(roadmap["total_weeks"].as_f64(), Some(3.0), "{roadmap}");
        assert_eq!(entries[0]["start_date"], "2027-01-04", "{roadmap}");
        assert_eq!(entries[1]["start_date"], "2027-01-11", "{roadmap}");
        let date = |e: &Value, k: &str| e[k].as_str().expect("a date").to_owned();
        assert!(date(&entries[0], "end_date") >= date(&entries[0], "start_date"));
        assert!(date(&entries[0], "end_date") <= date(&entries[1], "start_date"));
        assert!(date(&entries[1], "end_date") > date(&entries[1], "start_date"));
        assert!(
            date(&entries[1], "end_date").as_str() >= "2027-01-22",
            "{roadmap}"
        );
        assert!(
            date(&entries[1], "end_date").as_str() <= "2027-01-25",
            "{roadmap}"
        );
        assert_eq!(roadmap["end"], entries[1]["end_date"], "{roadmap}");

        // Two engineers cannot beat the dependency.
        let two = expect(
            call(
                &app,
                Method::GET,
                id,
                "/interventions?capacity=2&start=2027-01-04",
                &token,
            ),
            StatusCode::OK,
        )
        .await;
        assert_eq!(two["roadmap"]["total_weeks"].as_f64(), Some(3.0), "{two}");

        // Bad roadmap questions name the field.
        for (query, field) in [
            ("capacity=0", "capacity"),
            ("capacity=101", "capacity"),
            ("capacity=two", "capacity"),
            ("capacity=1&start=2027-13-04", "start"),
            ("capacity=1&start=next%20monday", "start"),
            ("start=2027-01-04", "capacity"),
        ] {
            let response = send(call(
                &app,
                Method::GET,
                id,
                &format!("/interventions?{query}"),
                &token,
            ))
            .await;
            let body = api_error_body(response, StatusCode::UNPROCESSABLE_ENTITY, "invalid").await;
            assert_eq!(body["error"]["field"], field, "{query}: {body}");
        }
        let response = send(call(
            &app,
            Method::GET,
            id,
            "/interventions?capacity=1&capacity=2",
            &token,
        ))
        .await;
        api_error_body(response, StatusCode::BAD_REQUEST, "bad_query").await;

        // Delete the dependent; the enabler stays.
        let response = send(call(
            &app,
            Method::DELETE,
            id,
            &format!("/interventions/{dependent_id}"),
            &token,
        ))
        .await;
        assert_eq!(response.status(), StatusCode::NO_CONTENT);
        let list = expect(
            call(&app, Method::GET, id, "/interventions", &token),
            StatusCode::OK,
        )
        .await;
        assert_eq!(ids_in_order(&list), [enabler_id]);
        for path in [
            format!("/interventions/{dependent_id}"),
            "/interventions/abc".to_owned(),
        ] {
            let response = send(call(&app, Method::GET, id, &path, &token)).await;
            api_error_body(response, StatusCode::NOT_FOUND, "not_found").await;
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pinned_order_must_keep_dependencies_first_and_can_be_undone() {
    with_app(|app| async move {
        let (token, id) = engagement(&app).await;
        let enabler = create_intervention(
            &app,
            &token,
            id,
            j!({"title": "Add a read replica", "impact": "1", "effort_weeks": "1"}),
        )
        .await;
        let enabler_id = id_of(&enabler, "intervention_id");
        let dependent = create_intervention(
            &app,
            &token,
            id,
            j!({"title": "Move reports to the replica", "impact": "5", "effort_weeks": "2",
                "depends_on": [enabler_id]}),
        )
        .await;
        let dependent_id = id_of(&dependent, "intervention_id");
        // Cheap and valuable: first in the computed order.
        let quick = create_intervention(
            &app,
            &token,
            id,
            j!({"title": "Alert on p95", "impact": "3", "effort_weeks": "0.5", "confidence": "high"}),
        )
        .await;
        let quick_id = id_of(&quick, "intervention_id");

        let list = expect(
            call(&app, Method::GET, id, "/interventions", &token),
            StatusCode::OK,
        )
        .await;
        let computed = [quick_id, enabler_id, dependent_id];
        assert_eq!(ids_in_order(&list), computed, "{list}");
        assert_eq!(list["meta"]["computed_order"], j!(computed));

        // The dependent before its enabler: refused, naming both.
        let response = send(
            call(&app, Method::PUT, id, "/interventions/order", &token)
                .json(&j!({"order": [dependent_id, enabler_id, quick_id]})),
        )
        .await;
        let body = api_error_body(response, StatusCode::UNPROCESSABLE_ENTITY, "invalid").await;
        let text = message(&body);
        assert!(
            named(&text, &enabler) && named(&text, &dependent),
            "the message names both: {text}"
        );
        let list = expect(
            call(&app, Method::GET, id, "/interventions", &token),
            StatusCode::OK,
        )
        .await;
        assert_eq!(list["meta"]["pinned"], false, "nothing was pinned: {list}");

        // Broken bodies.
        let response = send(
            call(&app, Method::PUT, id, "/interventions/order", &token)
                .json(&j!({"order": "first"})),
        )
        .await;
        api_error_body(response, StatusCode::UNPROCESSABLE_ENTITY, "invalid").await;

        // A valid pin: the quick win last.
        let pinned_order = [enabler_id, dependent_id, quick_id];
        let pinned = expect(
            call(&app, Method::PUT, id, "/interventions/order", &token)
                .json(&j!({"order": pinned_order})),
            StatusCode::OK,
        )
        .await;
        assert_eq!(ids_in_order(&pinned), pinned_order, "{pinned}");
        assert_eq!(pinned["meta"]["pinned"], true);
        assert_eq!(pinned["meta"]["computed_order"], j!(computed));
        let departures = pinned["meta"]["departures"].as_array().expect("departures");
        assert_eq!(departures.len(), 3, "{pinned}");
        let quick_departure = departures
            .iter()
            .find(|d| d["intervention_id"] == quick_id)
            .expect("the quick win departs");
        assert_eq!(quick_departure["computed_position"], 1);
        assert_eq!(quick_departure["shown_position"], 3);
        for (index, item) in pinned["data"].as_array().expect("data").iter().enumerate() {
            assert_eq!(item["position"], index + 1);
        }

        // The list and the roadmap follow the pin.
        let list = expect(
            call(
                &app,
                Method::GET,
                id,
                "/interventions?capacity=1&start=2027-01-04",
                &token,
            ),
            StatusCode::OK,
        )
        .await;
        assert_eq!(ids_in_order(&list), pinned_order);
        assert_eq!(list["meta"]["pinned"], true);
        let entries = list["roadmap"]["entries"].as_array().expect("entries");
        let roadmap_order: Vec<i64> = entries.iter().map(|e| id_of(e, "intervention_id")).collect();
        assert_eq!(roadmap_order, pinned_order);

        // Unpinned: back to the computed order.
        let unpinned = expect(
            call(&app, Method::DELETE, id, "/interventions/order", &token),
            StatusCode::OK,
        )
        .await;
        assert_eq!(unpinned["meta"]["pinned"], false);
        assert_eq!(unpinned["meta"]["departures"], j!([]));
        assert_eq!(ids_in_order(&unpinned), computed);
        let list = expect(
            call(&app, Method::GET, id, "/interventions", &token),
            StatusCode::OK,
        )
        .await;
        assert_eq!(ids_in_order(&list), computed);
        assert_eq!(list["meta"]["pinned"], false);
    })
    .await;
}

// ---------------------------------------------------------------------------------------------
// Decision records

fn titles_and_statuses(list: &Value) -> Vec<(String, String)> {
    let mut pairs: Vec<(String, String)> = list["data"]
        .as_array()
        .expect("decisions")
        .iter()
        .map(|d| {
            (
                d["title"].as_str().unwrap_or_default().to_owned(),
                d["status"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    pairs.sort();
    pairs
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_accepted_record_supersedes_an_older_one() {
    with_app(|app| async move {
        let (token, id) = engagement(&app).await;
        let old = create_decision(
            &app,
            &token,
            id,
            j!({
                "title": "Use MySQL",
                "status": "accepted",
                "context": "We need a relational store.",
                "decision": "MySQL 5.7.",
                "decided_on": "2024-03-01",
                "deciders": "Olive Owner"
            }),
        )
        .await;
        let old_id = id_of(&old, "decision_id");
        assert_eq!(old["number"], 1);
        assert_eq!(old["status"], "accepted");
        assert_eq!(old["decided_on"], "2024-03-01");
        assert!(old["superseded_by"].is_null());

        let new = create_decision(
            &app,
            &token,
            id,
            j!({
                "title": "Use PostgreSQL",
                "status": "accepted",
                "context": "MySQL 5.7 is out of support.",
                "options": "* PostgreSQL\n* MySQL 8",
                "decision": "PostgreSQL 16.",
                "supersedes": old_id
            }),
        )
        .await;
        let new_id = id_of(&new, "decision_id");
        assert_eq!(new["number"], 2);
        assert_eq!(new["status"], "accepted");
        assert_eq!(new["supersedes"]["decision_id"], old_id, "{new}");
        assert_eq!(new["supersedes"]["title"], "Use MySQL", "{new}");

        let old_now = expect(
            call(
                &app,
                Method::GET,
                id,
                &format!("/decisions/{old_id}"),
                &token,
            ),
            StatusCode::OK,
        )
        .await["data"]
            .clone();
        assert_eq!(old_now["status"], "superseded", "{old_now}");
        assert_eq!(old_now["superseded_by"]["decision_id"], new_id, "{old_now}");
        assert_eq!(old_now["superseded_by"]["number"], 2, "{old_now}");

        let list = expect(
            call(&app, Method::GET, id, "/decisions", &token),
            StatusCode::OK,
        )
        .await;
        assert_eq!(list["meta"]["count"], 2);
        assert_eq!(list["data"][0]["decision_id"], old_id);
        assert_eq!(list["data"][1]["decision_id"], new_id);

        // Field errors.
        for (body, field) in [
            (j!({"title": ""}), "title"),
            (j!({"title": "x", "status": "maybe"}), "status"),
            (j!({"title": "x", "decided_on": "yesterday"}), "decided_on"),
            (j!({"title": "x", "expires_on": "2027-02-30"}), "expires_on"),
        ] {
            let response =
                send(call(&app, Method::POST, id, "/decisions", &token).json(&body)).await;
            let error = api_error_body(response, StatusCode::UNPROCESSABLE_ENTITY, "invalid").await;
            assert_eq!(error["error"]["field"], field, "{body}: {error}");
        }

        // An edit with its version, then a stale one.
        let edit = j!({
            "title": "Use PostgreSQL 16",
            "status": "accepted",
            "context": "MySQL 5.7 is out of support.",
            "decision": "PostgreSQL 16.",
            "supersedes": old_id,
            "version": new["version"]
        });
        let edited = expect(
            call(
                &app,
                Method::PATCH,
                id,
                &format!("/decisions/{new_id}"),
                &token,
            )
            .json(&edit),
            StatusCode::OK,
        )
        .await["data"]
            .clone();
        assert_eq!(edited["title"], "Use PostgreSQL 16");
        let response = send(
            call(
                &app,
                Method::PATCH,
                id,
                &format!("/decisions/{new_id}"),
                &token,
            )
            .json(&edit),
        )
        .await;
        let body = api_error_body(response, StatusCode::CONFLICT, "stale_version").await;
        assert_eq!(body["current"]["version"], edited["version"], "{body}");
        assert_eq!(body["current"]["title"], "Use PostgreSQL 16", "{body}");

        for path in ["/decisions/abc", "/decisions/99999999"] {
            let response = send(call(&app, Method::GET, id, path, &token)).await;
            api_error_body(response, StatusCode::NOT_FOUND, "not_found").await;
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn decision_records_go_out_as_a_zip_and_come_back_in() {
    with_app(|app| async move {
        let (token, id) = engagement(&app).await;
        let old = create_decision(
            &app,
            &token,
            id,
            j!({"title": "Use MySQL", "status": "accepted", "decision": "MySQL 5.7."}),
        )
        .await;
        create_decision(
            &app,
            &token,
            id,
            j!({"title": "Use PostgreSQL", "status": "accepted", "decision": "PostgreSQL 16.",
                "supersedes": id_of(&old, "decision_id")}),
        )
        .await;
        create_decision(
            &app,
            &token,
            id,
            j!({"title": "Cache sessions in Redis", "context": "Logins are slow."}),
        )
        .await;
        let original = expect(
            call(&app, Method::GET, id, "/decisions", &token),
            StatusCode::OK,
        )
        .await;

        let response = send(call(&app, Method::GET, id, "/decisions.zip", &token)).await;
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(
            header(response.headers(), "content-type").as_deref(),
            Some("application/zip")
        );
        let disposition = header(response.headers(), "content-disposition").expect("a disposition");
        assert!(
            disposition.starts_with("attachment; filename=\"") && disposition.ends_with(".zip\""),
            "{disposition}"
        );
        let bytes = response.bytes().await.expect("the zip").to_vec();
        let files = unzip(&bytes);
        let markdown: Vec<&(String, String)> =
            files.iter().filter(|(p, _)| p.ends_with(".md")).collect();
        assert!(
            markdown
                .iter()
                .any(|(p, text)| p.starts_with("docs/adr/0001-") && text.contains("Use MySQL")),
            "{files:?}"
        );
        assert!(
            markdown
                .iter()
                .any(|(p, _)| p.starts_with("docs/adr/0002-")),
            "{files:?}"
        );

        // Into a fresh engagement of the same firm: the same records.
        let other = new_engagement(&app, &token).await;
        let report = expect(
            call(&app, Method::POST, other, "/decisions.zip", &token)
                .header("content-type", "application/zip")
                .body(bytes.clone()),
            StatusCode::OK,
        )
        .await["data"]
            .clone();
        assert_eq!(
            report["imported"].as_array().map(Vec::len),
            Some(3),
            "{report}"
        );
        assert_eq!(report["skipped"], j!([]), "{report}");
        let copy = expect(
            call(&app, Method::GET, other, "/decisions", &token),
            StatusCode::OK,
        )
        .await;
        assert_eq!(
            titles_and_statuses(&copy),
            titles_and_statuses(&original),
            "{copy}"
        );
        let superseded = copy["data"]
            .as_array()
            .expect("decisions")
            .iter()
            .find(|d| d["title"] == "Use MySQL")
            .expect("the old record")
            .clone();
        assert_eq!(superseded["status"], "superseded");
        assert_eq!(
            superseded["superseded_by"]["title"], "Use PostgreSQL",
            "{superseded}"
        );

        // Not a zip: 422 with a message, nothing written.
        let fresh = new_engagement(&app, &token).await;
        let response = import_zip(
            &app,
            &token,
            fresh,
            b"these are not the bytes of a zip".to_vec(),
        )
        .await;
        let body = api_error_body(response, StatusCode::UNPROCESSABLE_ENTITY, "invalid").await;
        assert!(message(&body).to_lowercase().contains("zip"), "{body}");
        let response = import_zip(&app, &token, fresh, Vec::new()).await;
        api_error_body(response, StatusCode::UNPROCESSABLE_ENTITY, "invalid").await;
        let list = expect(
            call(&app, Method::GET, fresh, "/decisions", &token),
            StatusCode::OK,
        )
        .await;
        assert_eq!(list["meta"]["count"], 0);

        // A wrong content type.
        let response = send(
            call(&app, Method::POST, fresh, "/decisions.zip", &token)
                .header("content-type", "text/plain")
                .body(bytes.clone()),
        )
        .await;
        api_error_body(
            response,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
        )
        .await;

        // One good record and one without a title: imported and skipped.
        let good = "# Use PostgreSQL\n\n## Status\n\nAccepted\n\n## Context\n\nMySQL is old.\n\n\
                    ## Decision\n\nPostgreSQL 16.\n\n## Consequences\n\nA migration.\n";
        let broken = "Just some notes, no heading at all.\n";
        let mixed = zip_of(&[
            ("docs/adr/0001-use-postgresql.md", good.as_bytes()),
            ("docs/adr/0002-broken.md", broken.as_bytes()),
        ]);
        let report = expect(
            call(&app, Method::POST, fresh, "/decisions.zip", &token)
                .header("content-type", "application/zip")
                .body(mixed),
            StatusCode::OK,
        )
        .await["data"]
            .clone();
        assert_eq!(
            report["imported"].as_array().map(Vec::len),
            Some(1),
            "{report}"
        );
        assert!(
            report["imported"][0]
                .as_str()
                .is_some_and(|s| s.contains("Use PostgreSQL")),
            "{report}"
        );
        let skipped = report["skipped"].as_array().expect("skipped");
        assert_eq!(skipped.len(), 1, "{report}");
        assert_eq!(skipped[0]["path"], "docs/adr/0002-broken.md");
        assert!(
            skipped[0]["reason"].as_str().is_some_and(|r| !r.is_empty()),
            "{report}"
        );
        let list = expect(
            call(&app, Method::GET, fresh, "/decisions", &token),
            StatusCode::OK,
        )
        .await;
        assert_eq!(
            titles_and_statuses(&list),
            [("Use PostgreSQL".to_owned(), "accepted".to_owned())]
        );

        // Over the ordinary 1 MB body limit but under the archive's: read (and refused as no zip,
        // not as too large).
        let big = vec![b'x'; 2 * 1024 * 1024];
        let response = import_zip(&app, &token, fresh, big).await;
        api_error_body(response, StatusCode::UNPROCESSABLE_ENTITY, "invalid").await;
        // Over the archive's limit.
        let huge = vec![b'x'; 11 * 1024 * 1024];
        let response = import_zip(&app, &token, fresh, huge).await;
        api_error_body(response, StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large").await;
    })
    .await;
}

// ---------------------------------------------------------------------------------------------
// Tenancy and the document

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_firm_finds_nothing_of_an_engagement() {
    with_app(|app| async move {
        let (token, id) = engagement(&app).await;
        let finding = create_finding(
            &app,
            &token,
            id,
            j!({"area": "database", "severity": "high", "title": "No read replica"}),
        )
        .await;
        let intervention = create_intervention(
            &app,
            &token,
            id,
            j!({"title": "Add a read replica", "impact": "3", "effort_weeks": "1"}),
        )
        .await;
        let decision = create_decision(&app, &token, id, j!({"title": "Use PostgreSQL"})).await;
        let finding_id = id_of(&finding, "finding_id");
        let intervention_id = id_of(&intervention, "intervention_id");
        let decision_id = id_of(&decision, "decision_id");

        let stranger = app.fresh_firm_token().await;
        let finding_body =
            j!({"area": "database", "severity": "low", "title": "Mine now", "version": 1});
        let intervention_body =
            j!({"title": "Mine now", "impact": "1", "effort_weeks": "1", "version": 1});
        let decision_body = j!({"title": "Mine now", "version": 1});
        let requests: Vec<(Method, String, Option<Value>)> = vec![
            (Method::GET, "/findings".into(), None),
            (Method::POST, "/findings".into(), Some(finding_body.clone())),
            (Method::POST, "/findings/suggest".into(), None),
            (Method::GET, format!("/findings/{finding_id}"), None),
            (
                Method::PATCH,
                format!("/findings/{finding_id}"),
                Some(finding_body),
            ),
            (Method::DELETE, format!("/findings/{finding_id}"), None),
            (Method::GET, "/interventions".into(), None),
            (Method::GET, "/interventions?capacity=2".into(), None),
            (
                Method::POST,
                "/interventions".into(),
                Some(intervention_body.clone()),
            ),
            (Method::POST, "/interventions/suggest".into(), None),
            (
                Method::GET,
                format!("/interventions/{intervention_id}"),
                None,
            ),
            (
                Method::PATCH,
                format!("/interventions/{intervention_id}"),
                Some(intervention_body),
            ),
            (
                Method::DELETE,
                format!("/interventions/{intervention_id}"),
                None,
            ),
            (
                Method::PUT,
                "/interventions/order".into(),
                Some(j!({"order": [intervention_id]})),
            ),
            (Method::DELETE, "/interventions/order".into(), None),
            (Method::GET, "/decisions".into(), None),
            (
                Method::POST,
                "/decisions".into(),
                Some(decision_body.clone()),
            ),
            (Method::GET, format!("/decisions/{decision_id}"), None),
            (
                Method::PATCH,
                format!("/decisions/{decision_id}"),
                Some(decision_body),
            ),
            (Method::GET, "/decisions.zip".into(), None),
        ];
        for (method, path, body) in requests {
            let mut request = call(&app, method.clone(), id, &path, &stranger);
            if let Some(body) = body {
                request = request.json(&body);
            }
            let response = send(request).await;
            assert_eq!(response.status(), StatusCode::NOT_FOUND, "{method} {path}");
            api_error_body(response, StatusCode::NOT_FOUND, "not_found").await;
        }
        let valid = zip_of(&[(
            "docs/adr/0005-use-redis.md",
            b"# Use Redis\n\n## Status\n\nAccepted\n".as_slice(),
        )]);
        let response = import_zip(&app, &stranger, id, valid).await;
        api_error_body(response, StatusCode::NOT_FOUND, "not_found").await;
        let response = import_zip(&app, &stranger, id, b"garbage".to_vec()).await;
        api_error_body(response, StatusCode::NOT_FOUND, "not_found").await;

        // Nothing changed for the owner.
        let findings = expect(
            call(&app, Method::GET, id, "/findings", &token),
            StatusCode::OK,
        )
        .await;
        assert_eq!(findings["data"], j!([finding]));
        let interventions = expect(
            call(&app, Method::GET, id, "/interventions", &token),
            StatusCode::OK,
        )
        .await;
        assert_eq!(ids_in_order(&interventions), [intervention_id]);
        assert_eq!(interventions["data"][0]["title"], "Add a read replica");
        assert_eq!(interventions["meta"]["pinned"], false);
        let decisions = expect(
            call(&app, Method::GET, id, "/decisions", &token),
            StatusCode::OK,
        )
        .await;
        assert_eq!(
            titles_and_statuses(&decisions),
            [("Use PostgreSQL".to_owned(), "proposed".to_owned())]
        );
    })
    .await;
}

/// Every `$ref` of a JSON value, as `#/components/schemas/<name>` strings.
fn refs(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, v) in map {
                if key == "$ref" {
                    if let Some(s) = v.as_str() {
                        out.push(s.to_owned());
                    }
                } else {
                    refs(v, out);
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| refs(v, out)),
        _ => {}
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_openapi_document_describes_the_advice_routes() {
    with_app(|app| async move {
        let response = send(new_client().get(app.url("/api/v1/openapi.json"))).await;
        assert_eq!(response.status(), StatusCode::OK);
        let doc = json(response).await;
        let paths = &doc["paths"];
        let base = "/api/v1/engagements/{engagement_id}";
        for (path, methods) in [
            ("/findings", &["get", "post"][..]),
            ("/findings/{finding_id}", &["get", "patch", "delete"][..]),
            ("/findings/suggest", &["post"][..]),
            ("/interventions", &["get", "post"][..]),
            (
                "/interventions/{intervention_id}",
                &["get", "patch", "delete"][..],
            ),
            ("/interventions/suggest", &["post"][..]),
            ("/interventions/order", &["put", "delete"][..]),
            ("/decisions", &["get", "post"][..]),
            ("/decisions/{decision_id}", &["get", "patch"][..]),
            ("/decisions.zip", &["get", "post"][..]),
        ] {
            let item = &paths[format!("{base}{path}")];
            for method in methods {
                assert!(item[*method].is_object(), "{method} {path}: {item}");
            }
        }
        assert!(
            paths[format!("{base}/findings/{{finding_id}}")]["patch"]["responses"]["409"]
                .is_object()
        );
        let schemas = doc["components"]["schemas"].as_object().expect("schemas");
        for name in [
            "Finding",
            "FindingInput",
            "FindingList",
            "StaleFindingBody",
            "SuggestReport",
            "Intervention",
            "InterventionInput",
            "InterventionList",
            "RoadmapView",
            "PinOrderRequest",
            "Decision",
            "DecisionInput",
            "DecisionImportBody",
        ] {
            assert!(schemas.contains_key(name), "schema {name}");
        }
        // Every reference resolves.
        let mut all = Vec::new();
        refs(&doc, &mut all);
        assert!(!all.is_empty());
        for reference in all {
            let name = reference
                .strip_prefix("#/components/schemas/")
                .unwrap_or_else(|| panic!("a schema reference: {reference}"));
            assert!(
                schemas.contains_key(name),
                "{reference} is not in the components"
            );
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn interventions_are_suggested_for_open_findings_once() {
    with_app(|app| async move {
        let (token, id) = engagement(&app).await;
        let data = questionnaire(&app, &token, id).await;
        // Weak answers to the questions that name interventions in the bank.
        let weak: Vec<String> = data["areas"]
            .as_array()
            .expect("areas")
            .iter()
            .flat_map(|a| a["questions"].as_array().expect("questions").iter())
            .filter(|q| q["interventions"].as_array().is_some_and(|i| !i.is_empty()))
            .take(3)
            .map(|q| q["id"].as_str().expect("an id").to_owned())
            .collect();
        assert!(!weak.is_empty(), "the bank names interventions");
        for qid in &weak {
            answer(&app, &token, id, qid, "no", 0).await;
        }
        expect(
            call(&app, Method::POST, id, "/findings/suggest", &token),
            StatusCode::OK,
        )
        .await;

        let report = expect(
            call(&app, Method::POST, id, "/interventions/suggest", &token),
            StatusCode::OK,
        )
        .await["data"]
            .clone();
        let created = report["created"].as_array().expect("created").len();
        assert!(created >= 1, "{report}");
        let list = expect(
            call(&app, Method::GET, id, "/interventions", &token),
            StatusCode::OK,
        )
        .await;
        assert_eq!(list["meta"]["count"], created, "{list}");
        for item in list["data"].as_array().expect("interventions") {
            assert!(item["template_id"].is_string(), "{item}");
            assert!(
                item["finding_ids"]
                    .as_array()
                    .is_some_and(|f| !f.is_empty()),
                "linked to the findings it fixes: {item}"
            );
        }

        let again = expect(
            call(&app, Method::POST, id, "/interventions/suggest", &token),
            StatusCode::OK,
        )
        .await["data"]
            .clone();
        assert_eq!(again["created"], j!([]), "{again}");
        let list = expect(
            call(&app, Method::GET, id, "/interventions", &token),
            StatusCode::OK,
        )
        .await;
        assert_eq!(list["meta"]["count"], created);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn references_to_another_engagement_are_refused() {
    with_app(|app| async move {
        let (token, id) = engagement(&app).await;
        let other = new_engagement(&app, &token).await;
        let finding = create_finding(
            &app,
            &token,
            other,
            j!({"area": "database", "severity": "high", "title": "Elsewhere"}),
        )
        .await;
        let intervention = create_intervention(
            &app,
            &token,
            other,
            j!({"title": "Elsewhere", "impact": "1", "effort_weeks": "1"}),
        )
        .await;
        let decision = create_decision(&app, &token, other, j!({"title": "Elsewhere"})).await;
        for (path, body, field) in [
            (
                "/interventions",
                j!({"title": "B", "impact": "1", "effort_weeks": "1",
                    "depends_on": [intervention["intervention_id"]]}),
                "depends_on",
            ),
            (
                "/interventions",
                j!({"title": "B", "impact": "1", "effort_weeks": "1",
                    "finding_ids": [finding["finding_id"]]}),
                "finding_ids",
            ),
            (
                "/decisions",
                j!({"title": "D", "status": "accepted", "supersedes": decision["decision_id"]}),
                "supersedes",
            ),
            (
                "/decisions",
                j!({"title": "D", "finding_ids": [finding["finding_id"]]}),
                "finding_ids",
            ),
            (
                "/decisions",
                j!({"title": "D", "intervention_ids": [intervention["intervention_id"]]}),
                "intervention_ids",
            ),
        ] {
            let response = send(call(&app, Method::POST, id, path, &token).json(&body)).await;
            let error = api_error_body(response, StatusCode::UNPROCESSABLE_ENTITY, "invalid").await;
            assert_eq!(error["error"]["field"], field, "{body}: {error}");
        }
        // Pinning ids that are not this engagement's interventions.
        let response = send(
            call(&app, Method::PUT, id, "/interventions/order", &token)
                .json(&j!({"order": [intervention["intervention_id"]]})),
        )
        .await;
        let error = api_error_body(response, StatusCode::UNPROCESSABLE_ENTITY, "invalid").await;
        assert_eq!(error["error"]["field"], "order", "{error}");
        // The other engagement's record is still as it was.
        let still = expect(
            call(
                &app,
                Method::GET,
                other,
                &format!("/decisions/{}", id_of(&decision, "decision_id")),
                &token,
            ),
            StatusCode::OK,
        )
        .await["data"]
            .clone();
        assert_eq!(still["status"], "proposed");
        assert!(still["superseded_by"].is_null(), "{still}");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_accepted_waiver_makes_its_findings_accepted_risks() {
    with_app(|app| async move {
        let (token, id) = engagement(&app).await;
        let finding = create_finding(
            &app,
            &token,
            id,
            j!({"area": "database", "severity": "medium", "title": "No point-in-time recovery"}),
        )
        .await;
        let finding_id = id_of(&finding, "finding_id");
        let waiver = create_decision(
            &app,
            &token,
            id,
            j!({"title": "Live without PITR until the migration", "status": "accepted",
                "expires_on": "2099-06-30", "finding_ids": [finding_id]}),
        )
        .await;
        assert_eq!(waiver["expires_on"], "2099-06-30");
        assert_eq!(waiver["finding_ids"], j!([finding_id]));
        let waived = expect(
            call(
                &app,
                Method::GET,
                id,
                &format!("/findings/{finding_id}"),
                &token,
            ),
            StatusCode::OK,
        )
        .await["data"]
            .clone();
        assert_eq!(waived["status"], "accepted_risk", "{waived}");
        assert!(waived["accepted_until"].as_i64().is_some(), "{waived}");
    })
    .await;
}
