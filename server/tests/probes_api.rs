//! The probes REST API of an engagement: targets (the connection string sealed, never sent
//! back; guard refusals named on their field), uploads, runs started, read and cancelled, a log
//! import run end to end through the job worker, results pushed by a client's CI, findings and
//! claimed versus observed, and tenancy.
mod common;

use reqwest::{Method, StatusCode};
use serde_json::{json as j, Value};

use common::{with_app, with_app_settings, TestApp};

async fn engagement(app: &TestApp) -> (String, i64) {
    let token = app.fresh_firm_token().await;
    let id = app.create_engagement(&token, "Acme Corp").await["engagement_id"]
        .as_i64()
        .expect("an engagement_id");
    (token, id)
}

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

fn field_of(body: &Value) -> String {
    body["error"]["field"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

/// An nginx access log (combined + $request_time) where /checkout fails one time in four.
fn access_log() -> String {
    let mut log = String::new();
    for i in 0..400 {
        let (path, status) = if i % 2 == 0 {
            (format!("/orders/{}", 1000 + i), 200)
        } else if i % 4 == 1 {
            ("/checkout".to_owned(), 502)
        } else {
            ("/checkout".to_owned(), 200)
        };
        log.push_str(&format!(
            "203.0.113.7 - - [22/Nov/2026:10:{:02}:{:02} +0000] \"GET {path} HTTP/1.1\" {status} 512 \"-\" \"curl/8\" 0.0{:02}\n",
            (i / 60) % 60,
            i % 60,
            10 + i % 50
        ));
    }
    log
}

#[tokio::test]
async fn targets_seal_the_connection_string_and_name_refusals() {
    with_app(|app| async move {
        let (token, id) = engagement(&app).await;
        let fresh = expect(call(&app, Method::GET, id, "/probe-targets", &token), StatusCode::OK).await;
        assert_eq!(fresh["data"]["version"], 0);
        assert_eq!(fresh["data"]["postgres_set"], false);

        // The guard refuses private, metadata and loopback addresses (no allow-list here).
        for (field, body) in [
            ("http_base_url", j!({"http_base_url": "http://169.254.169.254/latest", "version": 0})),
            ("http_base_url", j!({"http_base_url": "http://10.0.0.7", "version": 0})),
            ("http_base_url", j!({"http_base_url": "http://2130706433/", "version": 0})),
            ("repository_url", j!({"repository_url": "ssh://git@example.com/acme.git", "version": 0})),
            ("postgres_url", j!({"postgres_url": "postgres://u:p@/db?host=/var/run/postgresql", "version": 0})),
            ("http_endpoints", j!({"http_base_url": "https://api.example.com", "http_endpoints": ["users"], "version": 0})),
            ("http_rate", j!({"http_base_url": "https://api.example.com", "http_rate": 500, "version": 0})),
        ] {
            let refused = expect(
                call(&app, Method::PUT, id, "/probe-targets", &token).json(&body),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
            assert_eq!(field_of(&refused), field, "{body} → {refused}");
        }

        let saved = expect(
            call(&app, Method::PUT, id, "/probe-targets", &token).json(&j!({
                "http_base_url": "https://api.example.com/",
                "http_endpoints": ["/v1/users", "/v1/orders"],
                "postgres_url": "postgres://auditor:s3cret-word@db.example.com:6543/shop",
                "repository_url": "https://github.com/acme/shop.git",
                "version": 0
            })),
            StatusCode::OK,
        )
        .await;
        let data = &saved["data"];
        assert_eq!(data["http_base_url"], "https://api.example.com");
        assert_eq!(data["postgres_set"], true);
        assert_eq!(data["postgres_label"], "db.example.com:6543/shop");
        assert!(!saved.to_string().contains("s3cret"), "{saved}");
        let stored: String = sqlx::query_scalar("select postgres_sealed from probe_targets where engagement_id = $1")
            .bind(id)
            .fetch_one(app.db.pool())
            .await
            .expect("a sealed string");
        assert!(!stored.contains("s3cret") && !stored.contains("auditor"));

        // An empty connection string keeps the stored one; a stale version is refused.
        let kept = expect(
            call(&app, Method::PUT, id, "/probe-targets", &token)
                .json(&j!({"http_base_url": "https://api.example.com", "version": 1})),
            StatusCode::OK,
        )
        .await;
        assert_eq!(kept["data"]["postgres_set"], true);
        assert_eq!(kept["data"]["http_endpoints"], j!([]));
        let stale = expect(
            call(&app, Method::PUT, id, "/probe-targets", &token).json(&j!({"version": 1})),
            StatusCode::CONFLICT,
        )
        .await;
        assert_eq!(stale["current"]["version"], 2);
        let cleared = expect(
            call(&app, Method::PUT, id, "/probe-targets", &token)
                .json(&j!({"clear_postgres": true, "version": 2})),
            StatusCode::OK,
        )
        .await;
        assert_eq!(cleared["data"]["postgres_set"], false);
    })
    .await;
}

#[tokio::test]
async fn a_run_needs_its_target_and_a_queued_run_cancels_at_once() {
    with_app_settings(
        |settings| settings.run_worker = false,
        |app| async move {
            let (token, id) = engagement(&app).await;
            for (kind, field) in [
                ("http", "http_base_url"),
                ("postgres", "postgres_url"),
                ("repository", "repository_url"),
                ("logs", "upload_ids"),
            ] {
                let refused = expect(
                    call(&app, Method::POST, id, "/probe-runs", &token).json(&j!({"kind": kind})),
                    StatusCode::UNPROCESSABLE_ENTITY,
                )
                .await;
                assert_eq!(field_of(&refused), field, "{kind}");
            }
            let bad_kind = call(&app, Method::POST, id, "/probe-runs", &token)
                .json(&j!({"kind": "ftp"}))
                .send()
                .await
                .expect("an answer");
            assert_eq!(bad_kind.status(), StatusCode::UNPROCESSABLE_ENTITY);

            let started = expect(
                call(&app, Method::POST, id, "/probe-runs", &token)
                    .json(&j!({"kind": "http", "http_base_url": "https://api.example.com"})),
                StatusCode::ACCEPTED,
            )
            .await;
            assert_eq!(started["data"]["status"], "queued");
            let run_id = started["data"]["id"].as_i64().expect("a run id");
            let cancelled = expect(
                call(
                    &app,
                    Method::POST,
                    id,
                    &format!("/probe-runs/{run_id}/cancel"),
                    &token,
                ),
                StatusCode::OK,
            )
            .await;
            assert_eq!(cancelled["data"]["status"], "cancelled");
            let listed = expect(
                call(&app, Method::GET, id, "/probe-runs?limit=1", &token),
                StatusCode::OK,
            )
            .await;
            assert_eq!(listed["data"][0]["id"], run_id);
            let bad_limit = expect(
                call(&app, Method::GET, id, "/probe-runs?limit=0", &token),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
            assert_eq!(field_of(&bad_limit), "limit");

            // Another firm sees none of it.
            let other = app.fresh_firm_token().await;
            for path in ["/probe-runs", "/probe-targets", "/claims", "/probe-uploads"] {
                expect(
                    call(&app, Method::GET, id, path, &other),
                    StatusCode::NOT_FOUND,
                )
                .await;
            }
            expect(
                call(
                    &app,
                    Method::GET,
                    id,
                    &format!("/probe-runs/{run_id}"),
                    &other,
                ),
                StatusCode::NOT_FOUND,
            )
            .await;
        },
    )
    .await;
}

#[tokio::test]
async fn a_log_import_runs_as_a_job_feeds_findings_and_contradicts_a_yes() {
    with_app(|app| async move {
        let (token, id) = engagement(&app).await;
        // The founders claim deploys and scaling drop no requests.
        let question = "deployment-infrastructure.scaling-without-drops";
        expect(
            call(
                &app,
                Method::PUT,
                id,
                &format!("/questionnaire/answers/{question}"),
                &token,
            )
            .json(&j!({"choice": "yes", "version": 0})),
            StatusCode::OK,
        )
        .await;

        let empty = expect(
            call(
                &app,
                Method::POST,
                id,
                "/probe-uploads?kind=logs&file_name=empty.log",
                &token,
            )
            .body(""),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_eq!(field_of(&empty), "file");
        let uploaded = expect(
            call(
                &app,
                Method::POST,
                id,
                "/probe-uploads?kind=logs&file_name=access.log",
                &token,
            )
            .body(access_log()),
            StatusCode::CREATED,
        )
        .await;
        let upload_id = uploaded["data"]["id"].as_i64().expect("an upload id");

        let started = expect(
            call(&app, Method::POST, id, "/probe-runs", &token)
                .json(&j!({"kind": "logs", "upload_ids": [upload_id]})),
            StatusCode::ACCEPTED,
        )
        .await;
        let run_id = started["data"]["id"].as_i64().expect("a run id");
        app.wait_for_jobs().await;
        let run = expect(
            call(
                &app,
                Method::GET,
                id,
                &format!("/probe-runs/{run_id}"),
                &token,
            ),
            StatusCode::OK,
        )
        .await;
        assert_eq!(run["data"]["run"]["status"], "done", "{run}");
        let checks = run["data"]["checks"].as_array().expect("checks");
        let error_rate = checks
            .iter()
            .find(|c| c["id"] == "logs.error-rate")
            .expect("the error-rate check");
        assert_eq!(error_rate["status"], "fail", "{error_rate}");
        assert!(error_rate["threshold"]
            .as_str()
            .is_some_and(|t| !t.is_empty()));
        assert!(error_rate["source"].as_str().is_some_and(|s| !s.is_empty()));

        // The failure became a finding linked to the check.
        let findings = expect(
            call(&app, Method::GET, id, "/findings", &token),
            StatusCode::OK,
        )
        .await;
        let from_probe = findings["data"]
            .as_array()
            .expect("findings")
            .iter()
            .find(|f| {
                f["origin"] == "probe"
                    && f["evidence"][0]["target"]
                        .as_str()
                        .is_some_and(|t| t.ends_with(":logs.error-rate"))
            })
            .unwrap_or_else(|| panic!("a probe finding in {findings}"));
        assert_eq!(from_probe["status"], "open");

        // Claimed versus observed: the "yes" is contradicted.
        let claims = expect(
            call(&app, Method::GET, id, "/claims", &token),
            StatusCode::OK,
        )
        .await;
        assert!(
            claims["meta"]["contradictions"].as_u64().unwrap_or(0) >= 1,
            "{claims}"
        );
        let claim = claims["data"]
            .as_array()
            .expect("claims")
            .iter()
            .find(|c| c["question_id"] == question)
            .unwrap_or_else(|| panic!("{question} in {claims}"));
        assert_eq!(claim["claimed"], "yes");
        assert_eq!(claim["verdict"], "contradicts");

        // A re-run shows what changed: every check has its previous status.
        let again = expect(
            call(&app, Method::POST, id, "/probe-runs", &token)
                .json(&j!({"kind": "logs", "upload_ids": [upload_id]})),
            StatusCode::ACCEPTED,
        )
        .await;
        app.wait_for_jobs().await;
        let again_id = again["data"]["id"].as_i64().expect("a run id");
        let rerun = expect(
            call(
                &app,
                Method::GET,
                id,
                &format!("/probe-runs/{again_id}"),
                &token,
            ),
            StatusCode::OK,
        )
        .await;
        let rerun_rate = rerun["data"]["checks"]
            .as_array()
            .expect("checks")
            .iter()
            .find(|c| c["id"] == "logs.error-rate")
            .expect("the error-rate check again");
        assert_eq!(rerun_rate["previous_status"], "fail");
        // Still one finding for the check, not two.
        let findings = expect(
            call(&app, Method::GET, id, "/findings", &token),
            StatusCode::OK,
        )
        .await;
        let count = findings["data"]
            .as_array()
            .expect("findings")
            .iter()
            .filter(|f| {
                f["evidence"][0]["target"]
                    .as_str()
                    .is_some_and(|t| t.ends_with(":logs.error-rate"))
            })
            .count();
        assert_eq!(count, 1, "{findings}");
    })
    .await;
}

#[tokio::test]
async fn results_pushed_by_ci_become_a_run_and_findings() {
    with_app(|app| async move {
        let (token, id) = engagement(&app).await;
        let check = |id: &str, status: &str| {
            j!({
                "id": id, "area": "people", "title": "Decisions are written down", "status": status,
                "severity": "medium", "threshold": "at least one ADR newer than 12 months",
                "source": "adr-tools, MADR", "summary": "no docs/adr folder", "measured": {},
                "evidence": [], "why": null
            })
        };
        let refused = expect(
            call(&app, Method::POST, id, "/probe-results", &token).json(&j!({
                "kind": "repository", "target": "main", "checks": [check("pg.adr", "fail")]
            })),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_eq!(field_of(&refused), "checks");
        let pushed = expect(
            call(&app, Method::POST, id, "/probe-results", &token).json(&j!({
                "kind": "repository", "target": "main @ 4f2c1a9", "checks": [check("repo.adr", "fail")]
            })),
            StatusCode::CREATED,
        )
        .await;
        assert_eq!(pushed["data"]["status"], "done");
        assert_eq!(pushed["data"]["failed"], 1);
        let findings = expect(call(&app, Method::GET, id, "/findings", &token), StatusCode::OK).await;
        assert!(
            findings["data"].as_array().expect("findings").iter().any(|f| f["origin"] == "probe" && f["area"] == "people"),
            "{findings}"
        );
        // The check passes next time: its finding is resolved.
        expect(
            call(&app, Method::POST, id, "/probe-results", &token).json(&j!({
                "kind": "repository", "target": "main @ 9a9a9a9", "checks": [check("repo.adr", "pass")]
            })),
            StatusCode::CREATED,
        )
        .await;
        let findings = expect(call(&app, Method::GET, id, "/findings", &token), StatusCode::OK).await;
        let finding = findings["data"]
            .as_array()
            .expect("findings")
            .iter()
            .find(|f| f["origin"] == "probe")
            .expect("the probe finding");
        assert_eq!(finding["status"], "resolved");
        let document = expect(app.api(Method::GET, "/api/v1/openapi.json", &token), StatusCode::OK).await;
        for path in [
            "/api/v1/engagements/{engagement_id}/probe-runs",
            "/api/v1/engagements/{engagement_id}/probe-runs/{run_id}",
            "/api/v1/engagements/{engagement_id}/probe-results",
            "/api/v1/engagements/{engagement_id}/claims",
        ] {
            assert!(document["paths"][path].is_object(), "{path} documented");
        }
    })
    .await;
}
