//! What every deployment relies on: health and readiness, metrics per route, request ids and
//! security headers on every response, the same-origin check, 404s, and the job worker.
mod common;

use std::time::{Duration, Instant};

use reqwest::header::ORIGIN;
use reqwest::{Method, StatusCode};

use common::{header, json, new_client, unique_email, with_app, with_app_settings};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_and_readiness_answer() {
    with_app(|app| async move {
        let health = app.get(&app.client, "/healthz").await;
        assert_eq!(health.status(), StatusCode::OK);
        assert_eq!(health.text().await.expect("a body").trim(), "ok");

        let ready = app.get(&app.client, "/readyz").await;
        assert_eq!(ready.status(), StatusCode::OK);
        assert_eq!(ready.text().await.expect("a body").trim(), "ready");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_report_latency_per_route_template() {
    with_app(|app| async move {
        let owner = app.sign_up(&unique_email("owner-")).await;
        for _ in 0..3 {
            app.get(&app.client, "/healthz").await;
        }
        // Two ids, one route: figures group by the template, not by the id.
        for id in [1, 2] {
            app.get(&owner, &format!("/engagements/{id}")).await;
        }
        let token = app.api_token(&owner).await;
        app.api(Method::GET, "/api/v1/engagements/7", &token)
            .send()
            .await
            .expect("the API answers");

        let response = app.get(&app.client, "/metrics").await;
        assert_eq!(response.status(), StatusCode::OK);
        assert!(header(response.headers(), "content-type")
            .expect("a content type")
            .starts_with("text/plain"));
        let text = response.text().await.expect("a body");
        assert!(
            text.contains("# TYPE plumbline_http_request_duration_seconds summary"),
            "{text}"
        );
        for route in [
            "GET /healthz",
            "GET /engagements/{id}",
            "GET /api/v1/engagements/{engagement_id}",
            "POST /fn/sign_up",
        ] {
            assert!(
                text.contains(&format!(
                    "plumbline_http_request_duration_seconds{{route=\"{route}\",quantile=\"0.95\"}}"
                )),
                "a latency summary for {route}:\n{text}"
            );
        }
        assert!(
            text.contains(
                "plumbline_http_request_duration_seconds_count{route=\"GET /healthz\"} 3"
            ),
            "{text}"
        );
        assert!(
            !text.contains("/engagements/1\"") && !text.contains("/engagements/2\""),
            "ids do not become routes:\n{text}"
        );
        assert!(text.contains("plumbline_jobs"), "{text}");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_response_has_a_request_id_and_security_headers() {
    with_app(|app| async move {
        let owner = app.sign_up(&unique_email("owner-")).await;
        let anonymous = new_client();
        let mut responses = vec![
            ("/healthz", app.get(&anonymous, "/healthz").await),
            ("/metrics", app.get(&anonymous, "/metrics").await),
            ("/", app.get(&anonymous, "/").await),
            ("/login", app.get(&anonymous, "/login").await),
            (
                "/engagements anonymous",
                app.get(&anonymous, "/engagements").await,
            ),
            ("/engagements", app.get(&owner, "/engagements").await),
            ("/no/such/page", app.get(&anonymous, "/no/such/page").await),
            (
                "/api/v1/engagements",
                app.get(&anonymous, "/api/v1/engagements").await,
            ),
            ("/api/v1/nope", app.get(&anonymous, "/api/v1/nope").await),
            ("/fn/who_am_i", app.call_fn(&owner, "who_am_i", &[]).await),
        ];
        responses.push((
            "cross-site POST",
            anonymous
                .post(app.url("/fn/log_out"))
                .header(ORIGIN, "http://evil.example")
                .send()
                .await
                .expect("an answer"),
        ));
        let mut ids = Vec::new();
        for (what, response) in &responses {
            let h = response.headers();
            let id = header(h, "x-request-id").unwrap_or_default();
            assert!(!id.is_empty(), "{what}: x-request-id");
            ids.push(id);
            let csp = header(h, "content-security-policy").unwrap_or_default();
            assert!(
                csp.contains("frame-ancestors 'none'") && csp.contains("default-src 'self'"),
                "{what}: content-security-policy {csp:?}"
            );
            assert_eq!(
                header(h, "x-content-type-options").as_deref(),
                Some("nosniff"),
                "{what}"
            );
            assert_eq!(
                header(h, "referrer-policy").as_deref(),
                Some("strict-origin-when-cross-origin"),
                "{what}"
            );
            assert_eq!(
                header(h, "x-frame-options").as_deref(),
                Some("DENY"),
                "{what}"
            );
        }
        let mut distinct = ids.clone();
        distinct.sort();
        distinct.dedup();
        assert_eq!(distinct.len(), ids.len(), "request ids are unique: {ids:?}");

        // An id the caller sends (a proxy's) is kept, so logs line up across hops.
        let response = anonymous
            .get(app.url("/healthz"))
            .header("x-request-id", "edge-1234")
            .send()
            .await
            .expect("an answer");
        assert_eq!(
            header(response.headers(), "x-request-id").as_deref(),
            Some("edge-1234")
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cross_site_post_is_refused() {
    with_app(|app| async move {
        let owner = app.sign_up(&unique_email("owner-")).await;
        let form = [
            ("form[client_name]", "Forged Ltd"),
            ("form[system_name]", "Forged"),
        ];
        let forged = owner
            .post(app.url("/fn/create_engagement"))
            .header(ORIGIN, "http://evil.example")
            .form(&form)
            .send()
            .await
            .expect("an answer");
        assert_eq!(forged.status(), StatusCode::FORBIDDEN);
        let request_id = header(forged.headers(), "x-request-id");
        let body = json(forged).await;
        assert_eq!(body["error"]["code"], "cross_site_request");
        assert_eq!(body["error"]["request_id"].as_str(), request_id.as_deref());

        // Without Origin, a browser's Sec-Fetch-Site gives a cross-site post away.
        let forged = owner
            .post(app.url("/fn/create_engagement"))
            .header("sec-fetch-site", "cross-site")
            .form(&form)
            .send()
            .await
            .expect("an answer");
        assert_eq!(forged.status(), StatusCode::FORBIDDEN);

        // An origin that only starts like ours is another site.
        let forged = owner
            .post(app.url("/fn/create_engagement"))
            .header(ORIGIN, format!("{}.evil.example", app.address))
            .form(&form)
            .send()
            .await
            .expect("an answer");
        assert_eq!(forged.status(), StatusCode::FORBIDDEN);

        let count: i64 = sqlx::query_scalar("select count(*) from engagements")
            .fetch_one(app.db.pool())
            .await
            .expect("a count");
        assert_eq!(count, 0, "no forged engagement was created");

        // The same form from our own origin works.
        let ours = app.call_fn(&owner, "create_engagement", &form).await;
        assert_eq!(ours.status(), StatusCode::OK);

        // A bearer-token call without cookies carries no ambient authority and passes.
        let token = app.api_token(&owner).await;
        let api = app
            .api(Method::POST, "/api/v1/engagements", &token)
            .header(ORIGIN, "http://evil.example")
            .json(&serde_json::json!({"client_name": "Scripted", "system_name": "CI"}))
            .send()
            .await
            .expect("an answer");
        assert_eq!(api.status(), StatusCode::CREATED);

        // A cookie next to the bearer token makes it a browser request again.
        let api = owner
            .post(app.url("/api/v1/engagements"))
            .bearer_auth(&token)
            .header(ORIGIN, "http://evil.example")
            .json(&serde_json::json!({"client_name": "Ambient", "system_name": "CI"}))
            .send()
            .await
            .expect("an answer");
        assert_eq!(api.status(), StatusCode::FORBIDDEN);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_page_is_a_404_page() {
    with_app(|app| async move {
        let response = app.get(&app.client, "/no/such/page").await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
        assert!(header(response.headers(), "content-type")
            .expect("a content type")
            .starts_with("text/html"));
        let html = response.text().await.expect("a body");
        assert!(html.contains("Page not found"), "{html}");
        assert!(html.contains("<html"), "a whole page: {html}");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_worker_delivers_the_invitation_mail() {
    with_app(|app| async move {
        let owner = app.sign_up(&unique_email("owner-")).await;
        let invited = unique_email("invited-");
        let response = app
            .call_fn(&owner, "invite_member", &[("email", invited.as_str())])
            .await;
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(json(response).await, serde_json::json!(invited));

        let mail = app.wait_for_mail_to(&invited).await;
        assert!(mail.contains("invites you to Plumbline"), "{mail}");
        assert!(
            mail.contains(&format!("{}/join/inv_", app.address)),
            "the link starts with the base URL: {mail}"
        );

        // The outbox row is marked sent (just after the file is written), the job done.
        let started = Instant::now();
        loop {
            let (status, transport): (String, Option<String>) =
                sqlx::query_as("select status, transport from outbox where to_address = $1")
                    .bind(&invited)
                    .fetch_one(app.db.pool())
                    .await
                    .expect("the outbox row");
            if status == "sent" {
                assert_eq!(transport.as_deref(), Some("file"));
                break;
            }
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "the outbox row is still {status}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let started = Instant::now();
        loop {
            let status: String =
                sqlx::query_scalar("select status from jobs where kind = 'send_mail'")
                    .fetch_one(app.db.pool())
                    .await
                    .expect("the send_mail job");
            if status == "done" {
                break;
            }
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "the job is still {status}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }

        // The owner's Outbox lists it as sent.
        let outbox = json(app.call_fn(&owner, "list_outbox", &[]).await).await;
        let messages = outbox.as_array().expect("a list");
        assert_eq!(messages.len(), 1, "{outbox}");
        assert_eq!(messages[0]["to_address"], invited.as_str());
        assert_eq!(messages[0]["status"], "sent");
        assert_eq!(app.mail_files().len(), 1);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_allow_only_scripts_that_carry_their_nonce() {
    with_app(|app| async move {
        let anonymous = new_client();
        let response = app.get(&anonymous, "/login").await;
        let policy = header(response.headers(), "content-security-policy").expect("a policy");
        let script_src = policy
            .split(';')
            .map(str::trim)
            .find(|d| d.starts_with("script-src"))
            .expect("a script-src directive")
            .to_owned();
        assert!(!script_src.contains("unsafe-inline"), "{script_src}");
        let nonce = script_src
            .split_whitespace()
            .find_map(|s| s.strip_prefix("'nonce-").and_then(|s| s.strip_suffix('\'')))
            .expect("a nonce in script-src")
            .to_owned();
        let body = response.text().await.expect("a page");
        let scripts: Vec<&str> = body.split("<script").skip(1).collect();
        assert!(!scripts.is_empty(), "the page hydrates with a script");
        for script in scripts {
            let tag = script.split('>').next().unwrap_or_default();
            assert!(
                tag.contains(&format!("nonce=\"{nonce}\"")),
                "script without the nonce: <script{tag}>"
            );
        }
        // Another page gets another nonce.
        let again = app.get(&anonymous, "/login").await;
        let other = header(again.headers(), "content-security-policy").expect("a policy");
        assert_ne!(policy, other, "the nonce is fresh for every response");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_from_elsewhere_take_a_firm_owner() {
    // With the loopback exemption off, every scraper is treated as remote.
    with_app_settings(
        |settings| settings.metrics_open_to_loopback = false,
        |app| async move {
            let anonymous = app.get(&new_client(), "/metrics").await;
            assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
            assert_eq!(json(anonymous).await["error"]["code"], "unauthenticated");

            let owner = app.sign_up(&unique_email("owner-")).await;
            let token = app.api_token(&owner).await;
            let by_token = app
                .api(Method::GET, "/metrics", &token)
                .send()
                .await
                .expect("an answer");
            assert_eq!(by_token.status(), StatusCode::OK);
            assert_eq!(app.get(&owner, "/metrics").await.status(), StatusCode::OK);

            let consultant = app.consultant(&owner).await;
            assert_eq!(
                app.get(&consultant, "/metrics").await.status(),
                StatusCode::FORBIDDEN
            );
        },
    )
    .await;
}

/// The wasm bundle and its glue go out as the precompressed copy a release build writes beside
/// them, to browsers that accept it; others get the plain file.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_bundle_is_served_precompressed_when_the_browser_accepts_it() {
    let site = std::env::temp_dir().join(common::unique("plumbline-site-"));
    let pkg = site.join("pkg");
    std::fs::create_dir_all(&pkg).expect("a pkg folder");
    std::fs::write(pkg.join("plumbline.js"), "plain glue").expect("the plain file");
    // ServeDir sends the copy as it is; its bytes need not be real gzip for this check.
    std::fs::write(pkg.join("plumbline.js.gz"), "gzipped glue").expect("the .gz copy");
    let root = site.clone();
    with_app_settings(
        move |settings| settings.site_root = root,
        |app| async move {
            let gzipped = app
                .client
                .get(app.url("/pkg/plumbline.js"))
                .header("accept-encoding", "gzip, br")
                .send()
                .await
                .expect("an answer");
            assert_eq!(gzipped.status(), StatusCode::OK);
            assert_eq!(
                header(gzipped.headers(), "content-encoding").as_deref(),
                Some("gzip")
            );
            assert_eq!(gzipped.text().await.expect("a body"), "gzipped glue");

            let plain = app
                .client
                .get(app.url("/pkg/plumbline.js"))
                .send()
                .await
                .expect("an answer");
            assert_eq!(header(plain.headers(), "content-encoding"), None);
            assert_eq!(plain.text().await.expect("a body"), "plain glue");
        },
    )
    .await;
    let _ = std::fs::remove_dir_all(&site);
}
