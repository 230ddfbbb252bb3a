//! Firms see only their own data, on every route: pages, server functions and the REST API answer
//! another firm's engagement with 404 (not 403: its existence is not given away). Owner-only
//! functions refuse consultants with 403.
mod common;

use reqwest::{Client, Method, StatusCode};
use serde_json::Value;

use common::{json, unique_email, with_app, TestApp};

const SECRET_CLIENT: &str = "Zanzibar Secret Holdings";

/// Firm A's owner creates an engagement through the server function; returns its id.
async fn create_engagement(app: &TestApp, owner: &Client, client_name: &str) -> i64 {
    let response = app
        .call_fn(
            owner,
            "create_engagement",
            &[
                ("form[client_name]", client_name),
                ("form[system_name]", "Ledger"),
                ("form[founders]", "Ada Founder <ada@zanzibar.test>"),
                ("form[team_size]", "4"),
                ("form[stage]", "seed"),
            ],
        )
        .await;
    assert_eq!(
        response.status(),
        StatusCode::OK,
        "the engagement is created"
    );
    json(response)
        .await
        .as_i64()
        .expect("the new engagement's id")
}

/// Asserts the server functions' error: this status and code.
async fn fn_error(response: reqwest::Response, status: StatusCode, code: &str) -> Value {
    assert_eq!(response.status(), status);
    let body = json(response).await;
    assert_eq!(body["code"], code, "{body}");
    assert!(
        body["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{body}"
    );
    body
}

async fn stored_client_name(app: &TestApp, id: i64) -> (String, String) {
    sqlx::query_as("select client_name, status from engagements where engagement_id = $1")
        .bind(id)
        .fetch_one(app.db.pool())
        .await
        .expect("the engagement is still stored")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_firms_engagement_is_404_on_every_route() {
    with_app(|app| async move {
        let owner_a = app.sign_up(&unique_email("owner-a-")).await;
        let id = create_engagement(&app, &owner_a, SECRET_CLIENT).await;
        let id_text = id.to_string();
        let owner_b = app.sign_up(&unique_email("owner-b-")).await;
        let consultant_b = app.consultant(&owner_b).await;
        let token_b = app.api_token(&owner_b).await;

        // Firm A sees its engagement.
        let page = app.get(&owner_a, &format!("/engagements/{id}")).await;
        assert_eq!(page.status(), StatusCode::OK);
        assert!(page.text().await.expect("a page").contains(SECRET_CLIENT));
        let edit = app.get(&owner_a, &format!("/engagements/{id}/edit")).await;
        assert_eq!(edit.status(), StatusCode::OK);

        for (who, member) in [("owner B", &owner_b), ("consultant B", &consultant_b)] {
            // Pages.
            for path in [
                format!("/engagements/{id}"),
                format!("/engagements/{id}/edit"),
            ] {
                let page = app.get(member, &path).await;
                assert_eq!(page.status(), StatusCode::NOT_FOUND, "{who} GET {path}");
                let html = page.text().await.expect("a page");
                assert!(!html.contains(SECRET_CLIENT), "{who} GET {path}: {html}");
                assert!(html.contains("Page not found"), "{who} GET {path}");
            }

            // Server functions.
            let got = app
                .call_fn(member, "get_engagement", &[("engagement_id", &id_text)])
                .await;
            let body = fn_error(got, StatusCode::NOT_FOUND, "not_found").await;
            assert!(!body.to_string().contains(SECRET_CLIENT));
            let updated = app
                .call_fn(
                    member,
                    "update_engagement",
                    &[
                        ("engagement_id", id_text.as_str()),
                        ("form[client_name]", "Taken Over"),
                        ("form[system_name]", "Ledger"),
                        ("form[status]", "completed"),
                    ],
                )
                .await;
            fn_error(updated, StatusCode::NOT_FOUND, "not_found").await;
            let archived = app
                .call_fn(member, "archive_engagement", &[("engagement_id", &id_text)])
                .await;
            fn_error(archived, StatusCode::NOT_FOUND, "not_found").await;

            // The list.
            let list = app
                .call_fn(
                    member,
                    "list_engagements",
                    &[("query[include_archived]", "true")],
                )
                .await;
            assert_eq!(list.status(), StatusCode::OK, "{who} lists engagements");
            let list = json(list).await;
            assert_eq!(list["items"], serde_json::json!([]), "{who}: {list}");
            let searched = app
                .call_fn(
                    member,
                    "list_engagements",
                    &[
                        ("query[search]", "zanzibar"),
                        ("query[include_archived]", "true"),
                    ],
                )
                .await;
            assert_eq!(json(searched).await["items"], serde_json::json!([]));
            let page = app.get(member, "/engagements").await;
            assert_eq!(page.status(), StatusCode::OK);
            assert!(!page.text().await.expect("a page").contains(SECRET_CLIENT));
        }

        // The REST API with firm B's token.
        let path = format!("/api/v1/engagements/{id}");
        let got = app
            .api(Method::GET, &path, &token_b)
            .send()
            .await
            .expect("answer");
        assert_eq!(got.status(), StatusCode::NOT_FOUND);
        let patched = app
            .api(Method::PATCH, &path, &token_b)
            .json(&serde_json::json!({"client_name": "Taken Over"}))
            .send()
            .await
            .expect("answer");
        assert_eq!(patched.status(), StatusCode::NOT_FOUND);
        let archived = app
            .api(Method::POST, &format!("{path}/archive"), &token_b)
            .send()
            .await
            .expect("answer");
        assert_eq!(archived.status(), StatusCode::NOT_FOUND);
        for query in [
            "",
            "?include_archived=true",
            "?q=zanzibar&include_archived=true",
        ] {
            let list = app
                .api(
                    Method::GET,
                    &format!("/api/v1/engagements{query}"),
                    &token_b,
                )
                .send()
                .await
                .expect("answer");
            assert_eq!(list.status(), StatusCode::OK);
            assert_eq!(json(list).await["data"], serde_json::json!([]), "{query}");
        }

        // Nothing firm B tried changed firm A's engagement, and A still lists it.
        assert_eq!(
            stored_client_name(&app, id).await,
            (SECRET_CLIENT.to_owned(), "active".to_owned())
        );
        let list = json(
            app.call_fn(
                &owner_a,
                "list_engagements",
                &[("query[include_archived]", "false")],
            )
            .await,
        )
        .await;
        assert_eq!(list["items"][0]["engagement_id"], id, "{list}");
        let token_a = app.api_token(&owner_a).await;
        let list = json(
            app.api(Method::GET, "/api/v1/engagements", &token_a)
                .send()
                .await
                .expect("answer"),
        )
        .await;
        assert_eq!(list["data"][0]["client_name"], SECRET_CLIENT);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_consultant_sees_the_firms_engagements() {
    with_app(|app| async move {
        let owner = app.sign_up(&unique_email("owner-")).await;
        let id = create_engagement(&app, &owner, SECRET_CLIENT).await;
        let consultant = app.consultant(&owner).await;
        let got = app
            .call_fn(
                &consultant,
                "get_engagement",
                &[("engagement_id", &id.to_string())],
            )
            .await;
        assert_eq!(got.status(), StatusCode::OK);
        assert_eq!(json(got).await["client_name"], SECRET_CLIENT);
        let page = app.get(&consultant, &format!("/engagements/{id}")).await;
        assert_eq!(page.status(), StatusCode::OK);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn owner_only_functions_refuse_a_consultant() {
    with_app(|app| async move {
        let owner_email = unique_email("owner-");
        let owner = app.sign_up(&owner_email).await;
        let consultant = app.consultant(&owner).await;
        let someone = unique_email("someone-");
        let calls: [(&str, Vec<(&str, &str)>); 6] = [
            ("firm_overview", vec![]),
            ("list_outbox", vec![]),
            ("list_troubled_jobs", vec![]),
            ("retry_job", vec![("job_id", "1")]),
            ("route_latencies", vec![]),
            ("invite_member", vec![("email", someone.as_str())]),
        ];
        for (endpoint, form) in &calls {
            let response = app.call_fn(&consultant, endpoint, form).await;
            let status = response.status();
            let body = json(response).await;
            assert_eq!(status, StatusCode::FORBIDDEN, "{endpoint}: {body}");
            assert_eq!(body["code"], "forbidden", "{endpoint}: {body}");
        }
        let invited: i64 =
            sqlx::query_scalar("select count(*) from member_invitations where email = $1")
                .bind(&someone)
                .fetch_one(app.db.pool())
                .await
                .expect("a count");
        assert_eq!(invited, 0, "the consultant invited no one");

        // Anonymous callers are asked to log in instead.
        for (endpoint, form) in &calls {
            let response = app.call_fn(&app.client, endpoint, form).await;
            assert_eq!(
                response.status(),
                StatusCode::UNAUTHORIZED,
                "anonymous {endpoint}"
            );
        }

        // The owner may.
        for endpoint in [
            "firm_overview",
            "list_outbox",
            "list_troubled_jobs",
            "route_latencies",
        ] {
            let response = app.call_fn(&owner, endpoint, &[]).await;
            assert_eq!(response.status(), StatusCode::OK, "owner {endpoint}");
        }
        let overview = json(app.call_fn(&owner, "firm_overview", &[]).await).await;
        assert_eq!(overview["members"].as_array().expect("members").len(), 2);

        // The owner's pages: 403 for the consultant, without the firm's data; 200 for the owner.
        for path in ["/firm", "/firm/outbox", "/firm/jobs", "/firm/metrics"] {
            let page = app.get(&consultant, path).await;
            assert_eq!(
                page.status(),
                StatusCode::FORBIDDEN,
                "consultant GET {path}"
            );
            let html = page.text().await.expect("a page");
            assert!(html.contains("Only the firm"), "{path}: {html}");
            assert!(!html.contains("Olive Owner"), "{path}: {html}");
            let page = app.get(&owner, path).await;
            assert_eq!(page.status(), StatusCode::OK, "owner GET {path}");
        }
        let page = app.get(&owner, "/firm").await;
        assert!(page.text().await.expect("a page").contains(&owner_email));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jobs_and_mail_stay_within_their_firm() {
    with_app(|app| async move {
        let owner_a = app.sign_up(&unique_email("owner-a-")).await;
        let invited = unique_email("invited-");
        app.invite(&owner_a, &invited).await;
        app.wait_for_jobs().await;
        let owner_b = app.sign_up(&unique_email("owner-b-")).await;

        // Firm A's mail job gave up: firm B can neither see nor retry it.
        let job_id: i64 = sqlx::query_scalar("select job_id from jobs where kind = 'send_mail'")
            .fetch_one(app.db.pool())
            .await
            .expect("the mail job");
        sqlx::query("update jobs set status = 'dead', last_error = 'smtp down' where job_id = $1")
            .bind(job_id)
            .execute(app.db.pool())
            .await
            .expect("the job is marked dead");
        let job = job_id.to_string();

        let listed = json(app.call_fn(&owner_b, "list_troubled_jobs", &[]).await).await;
        assert_eq!(listed, serde_json::json!([]));
        let outbox = json(app.call_fn(&owner_b, "list_outbox", &[]).await).await;
        assert_eq!(outbox, serde_json::json!([]));
        let overview = json(app.call_fn(&owner_b, "firm_overview", &[]).await).await;
        assert_eq!(overview["invitations"], serde_json::json!([]));
        assert_eq!(overview["members"].as_array().expect("members").len(), 1);
        let retried = app
            .call_fn(&owner_b, "retry_job", &[("job_id", &job)])
            .await;
        fn_error(retried, StatusCode::NOT_FOUND, "not_found").await;
        let status: String = sqlx::query_scalar("select status from jobs where job_id = $1")
            .bind(job_id)
            .fetch_one(app.db.pool())
            .await
            .expect("the job");
        assert_eq!(status, "dead");

        // Firm A's owner sees it and retries it.
        let listed = json(app.call_fn(&owner_a, "list_troubled_jobs", &[]).await).await;
        assert_eq!(listed[0]["job_id"], job_id, "{listed}");
        let outbox = json(app.call_fn(&owner_a, "list_outbox", &[]).await).await;
        assert_eq!(outbox[0]["to_address"], invited.as_str());
        let retried = app
            .call_fn(&owner_a, "retry_job", &[("job_id", &job)])
            .await;
        assert_eq!(retried.status(), StatusCode::OK);
    })
    .await;
}
