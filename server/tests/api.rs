//! The REST API, `/api/v1`: engagements with a bearer token, the error body, and the OpenAPI
//! document.
mod common;

use reqwest::{Method, Response, StatusCode};
use serde_json::{json as j, Value};

use common::{api_error_body, header, json, new_client, unique_email, with_app, TestApp};

async fn token(app: &TestApp) -> String {
    app.fresh_firm_token().await
}

async fn send(request: reqwest::RequestBuilder) -> Response {
    request.send().await.expect("the API answers")
}

/// The `error` object of the API's one error body (see `common::api_error_body`).
async fn api_error(response: Response, status: StatusCode, code: &str) -> Value {
    api_error_body(response, status, code).await["error"].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_get_update_and_archive_an_engagement() {
    with_app(|app| async move {
        let token = token(&app).await;
        let created = send(
            app.api(Method::POST, "/api/v1/engagements", &token)
                .json(&j!({
                    "client_name": "Acme Corp",
                    "system_name": "Payments API",
                    "description": "Card payments",
                    "founders": [{"name": "Ada Founder", "email": "ADA@acme.test"}],
                    "team_size": 6,
                    "stage": "series_a",
                    "start_date": "2026-11-01",
                    "due_date": "2026-12-01"
                })),
        )
        .await;
        assert_eq!(created.status(), StatusCode::CREATED);
        let created = json(created).await["data"].clone();
        let id = created["engagement_id"].as_i64().expect("an engagement_id");
        assert_eq!(created["client_name"], "Acme Corp");
        assert_eq!(created["system_name"], "Payments API");
        assert_eq!(created["description"], "Card payments");
        assert_eq!(
            created["founders"],
            j!([{"name": "Ada Founder", "email": "ada@acme.test"}])
        );
        assert_eq!(created["team_size"], 6);
        assert_eq!(created["stage"], "series_a");
        assert_eq!(created["status"], "active");
        assert_eq!(created["start_date"], "2026-11-01");
        assert_eq!(created["due_date"], "2026-12-01");
        assert!(created["created_at"].as_i64().is_some_and(|t| t > 0));
        assert!(created["updated_at"].as_i64().is_some());
        // snake_case throughout: no camelCase key anywhere.
        for key in created.as_object().expect("an object").keys() {
            assert_eq!(key, &key.to_lowercase(), "snake_case key {key}");
        }

        let path = format!("/api/v1/engagements/{id}");
        let got = send(app.api(Method::GET, &path, &token)).await;
        assert_eq!(got.status(), StatusCode::OK);
        assert_eq!(json(got).await["data"], created);

        // PATCH changes only the fields it names.
        let updated = send(
            app.api(Method::PATCH, &path, &token)
                .json(&j!({"system_name": "Payments API v2", "status": "on_hold"})),
        )
        .await;
        assert_eq!(updated.status(), StatusCode::OK);
        let updated = json(updated).await["data"].clone();
        assert_eq!(updated["system_name"], "Payments API v2");
        assert_eq!(updated["status"], "on_hold");
        for kept in [
            "client_name",
            "description",
            "founders",
            "team_size",
            "stage",
            "start_date",
            "due_date",
            "created_at",
        ] {
            assert_eq!(updated[kept], created[kept], "{kept} is kept");
        }
        let again = json(send(app.api(Method::GET, &path, &token)).await).await;
        assert_eq!(again["data"], updated, "the update is stored");

        // A PATCH that breaks a rule is refused with the field named.
        let bad = send(
            app.api(Method::PATCH, &path, &token)
                .json(&j!({"due_date": "2026-10-01"})),
        )
        .await;
        let error = api_error(bad, StatusCode::UNPROCESSABLE_ENTITY, "invalid").await;
        assert_eq!(error["field"], "due_date");

        let archived = send(app.api(Method::POST, &format!("{path}/archive"), &token)).await;
        assert_eq!(archived.status(), StatusCode::OK);
        assert_eq!(json(archived).await["data"]["status"], "archived");

        // Archived engagements leave the default list and come back on request.
        let list = json(send(app.api(Method::GET, "/api/v1/engagements", &token)).await).await;
        assert_eq!(list["data"], j!([]));
        let list = json(
            send(app.api(
                Method::GET,
                "/api/v1/engagements?include_archived=true",
                &token,
            ))
            .await,
        )
        .await;
        assert_eq!(list["data"][0]["engagement_id"], id);
        assert_eq!(list["data"][0]["status"], "archived");

        // Unknown and non-numeric ids are 404 with the error body.
        let missing = send(app.api(Method::GET, "/api/v1/engagements/999999", &token)).await;
        api_error(missing, StatusCode::NOT_FOUND, "not_found").await;
        let missing = send(app.api(Method::GET, "/api/v1/engagements/abc", &token)).await;
        api_error(missing, StatusCode::NOT_FOUND, "not_found").await;
        let missing = send(
            app.api(Method::PATCH, "/api/v1/engagements/999999", &token)
                .json(&j!({"system_name": "X"})),
        )
        .await;
        api_error(missing, StatusCode::NOT_FOUND, "not_found").await;
        let missing =
            send(app.api(Method::POST, "/api/v1/engagements/999999/archive", &token)).await;
        api_error(missing, StatusCode::NOT_FOUND, "not_found").await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_list_pages_with_a_cursor_and_searches() {
    with_app(|app| async move {
        let token = token(&app).await;
        let mut ids = Vec::new();
        for name in ["Acme One", "Globex", "acme two", "Initech", "ACME three"] {
            let e = app.create_engagement(&token, name).await;
            ids.push(e["engagement_id"].as_i64().expect("an id"));
        }
        ids.reverse(); // newest first

        let mut seen = Vec::new();
        let mut cursor: Option<i64> = None;
        let mut pages = 0;
        loop {
            let path = match cursor {
                Some(c) => format!("/api/v1/engagements?limit=2&cursor={c}"),
                None => "/api/v1/engagements?limit=2".to_owned(),
            };
            let response = send(app.api(Method::GET, &path, &token)).await;
            assert_eq!(response.status(), StatusCode::OK);
            let page = json(response).await;
            assert_eq!(page["meta"]["limit"], 2, "{page}");
            assert!(
                page["meta"]
                    .as_object()
                    .expect("meta")
                    .contains_key("next_cursor"),
                "{page}"
            );
            let data = page["data"].as_array().expect("data");
            assert!(data.len() <= 2);
            for e in data {
                assert!(e["client_name"].is_string() && e["stage"] == "seed", "{e}");
                seen.push(e["engagement_id"].as_i64().expect("an id"));
            }
            pages += 1;
            match page["meta"]["next_cursor"].as_i64() {
                Some(next) => cursor = Some(next),
                None => {
                    assert!(page["meta"]["next_cursor"].is_null());
                    break;
                }
            }
            assert!(pages < 10, "the cursor ends");
        }
        assert_eq!(pages, 3);
        assert_eq!(seen, ids, "every engagement once, newest first");

        // A full last page says there is no next one.
        let page =
            json(send(app.api(Method::GET, "/api/v1/engagements?limit=5", &token)).await).await;
        assert_eq!(page["data"].as_array().expect("data").len(), 5);
        assert!(page["meta"]["next_cursor"].is_null(), "{page}");
        let page = json(send(app.api(Method::GET, "/api/v1/engagements", &token)).await).await;
        assert_eq!(page["meta"]["limit"], 25);

        // q matches client or system name, case-insensitively; it combines with the cursor.
        let found =
            json(send(app.api(Method::GET, "/api/v1/engagements?q=ACME", &token)).await).await;
        let names: Vec<&str> = found["data"]
            .as_array()
            .expect("data")
            .iter()
            .map(|e| e["client_name"].as_str().expect("a name"))
            .collect();
        assert_eq!(names, ["ACME three", "acme two", "Acme One"]);
        let found =
            json(send(app.api(Method::GET, "/api/v1/engagements?q=acme&limit=2", &token)).await)
                .await;
        let next = found["meta"]["next_cursor"].as_i64().expect("a next page");
        let rest = json(
            send(app.api(
                Method::GET,
                &format!("/api/v1/engagements?q=acme&limit=2&cursor={next}"),
                &token,
            ))
            .await,
        )
        .await;
        assert_eq!(rest["data"][0]["client_name"], "Acme One");
        assert_eq!(rest["data"].as_array().expect("data").len(), 1);
        let found =
            json(send(app.api(Method::GET, "/api/v1/engagements?q=payments%20api", &token)).await)
                .await;
        assert_eq!(
            found["data"].as_array().expect("data").len(),
            5,
            "system name"
        );
        // LIKE wildcards in q are literal text.
        let found =
            json(send(app.api(Method::GET, "/api/v1/engagements?q=%25", &token)).await).await;
        assert_eq!(found["data"], j!([]));

        for bad in ["limit=0", "limit=101", "limit=-1"] {
            let response =
                send(app.api(Method::GET, &format!("/api/v1/engagements?{bad}"), &token)).await;
            let error = api_error(response, StatusCode::UNPROCESSABLE_ENTITY, "invalid").await;
            assert_eq!(error["field"], "limit", "{bad}");
        }
        let response = send(app.api(Method::GET, "/api/v1/engagements?limit=many", &token)).await;
        assert!(response.status().is_client_error());
        api_error(response, StatusCode::BAD_REQUEST, "bad_query").await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_valid_token_the_api_answers_401() {
    with_app(|app| async move {
        let anonymous = send(new_client().get(app.url("/api/v1/engagements"))).await;
        let error = api_error(anonymous, StatusCode::UNAUTHORIZED, "unauthenticated").await;
        assert!(error["field"].is_null());

        let bad = send(app.api(Method::GET, "/api/v1/engagements", "plt_not-a-real-token")).await;
        api_error(bad, StatusCode::UNAUTHORIZED, "unauthenticated").await;

        let post = send(
            new_client()
                .post(app.url("/api/v1/engagements"))
                .json(&j!({"client_name": "A", "system_name": "B"})),
        )
        .await;
        api_error(post, StatusCode::UNAUTHORIZED, "unauthenticated").await;

        let basic = send(
            new_client()
                .get(app.url("/api/v1/engagements"))
                .basic_auth("user", Some("pass")),
        )
        .await;
        api_error(basic, StatusCode::UNAUTHORIZED, "unauthenticated").await;

        // A session cookie is not an API credential.
        let owner = app.sign_up(&unique_email("owner-")).await;
        let cookie = send(owner.get(app.url("/api/v1/engagements"))).await;
        api_error(cookie, StatusCode::UNAUTHORIZED, "unauthenticated").await;

        // A revoked token stops working.
        let token = app.api_token(&owner).await;
        let ok = send(app.api(Method::GET, "/api/v1/engagements", &token)).await;
        assert_eq!(ok.status(), StatusCode::OK);
        let tokens = json(app.call_fn(&owner, "list_api_tokens", &[]).await).await;
        let token_id = tokens[0]["api_token_id"].as_i64().expect("a token id");
        let revoked = app
            .call_fn(
                &owner,
                "revoke_api_token",
                &[("api_token_id", token_id.to_string().as_str())],
            )
            .await;
        assert_eq!(revoked.status(), StatusCode::OK);
        let gone = send(app.api(Method::GET, "/api/v1/engagements", &token)).await;
        api_error(gone, StatusCode::UNAUTHORIZED, "unauthenticated").await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_bodies_get_the_error_body() {
    with_app(|app| async move {
        let token = token(&app).await;
        let post = |body: String| {
            app.api(Method::POST, "/api/v1/engagements", &token)
                .header("content-type", "application/json")
                .body(body)
        };

        let malformed = send(post("{\"client_name\": ".to_owned())).await;
        api_error(malformed, StatusCode::BAD_REQUEST, "malformed_json").await;

        let wrong_shape = send(post(j!({"client_name": 5, "system_name": "X"}).to_string())).await;
        api_error(wrong_shape, StatusCode::UNPROCESSABLE_ENTITY, "invalid").await;
        let wrong_shape = send(post("[1, 2]".to_owned())).await;
        api_error(wrong_shape, StatusCode::UNPROCESSABLE_ENTITY, "invalid").await;

        let missing = send(post(j!({"system_name": "Payments"}).to_string())).await;
        let error = api_error(missing, StatusCode::UNPROCESSABLE_ENTITY, "invalid").await;
        assert_eq!(error["field"], "client_name");

        let bad_stage = send(post(
            j!({"client_name": "A", "system_name": "B", "stage": "unicorn"}).to_string(),
        ))
        .await;
        let error = api_error(bad_stage, StatusCode::UNPROCESSABLE_ENTITY, "invalid").await;
        assert_eq!(error["field"], "stage");

        let not_json = send(
            app.api(Method::POST, "/api/v1/engagements", &token)
                .header("content-type", "text/plain")
                .body("client_name=A"),
        )
        .await;
        api_error(
            not_json,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
        )
        .await;

        // Over the 1 MiB limit: refused before it is read, with the same error body.
        let huge = j!({
            "client_name": "A",
            "system_name": "B",
            "description": "x".repeat(2 * 1024 * 1024),
        })
        .to_string();
        let too_large = send(post(huge)).await;
        api_error(
            too_large,
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
        )
        .await;

        let count: i64 = sqlx::query_scalar("select count(*) from engagements")
            .fetch_one(app.db.pool())
            .await
            .expect("a count");
        assert_eq!(count, 0, "nothing was created");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_api_routes_are_json_404s() {
    with_app(|app| async move {
        let token = token(&app).await;
        for path in [
            "/api/v1/nope",
            "/api/v2/engagements",
            "/api/v1/engagements/1/nope",
        ] {
            let response = send(app.api(Method::GET, path, &token)).await;
            api_error(response, StatusCode::NOT_FOUND, "not_found").await;
        }
        let anonymous = send(new_client().get(app.url("/api/v1/nope"))).await;
        api_error(anonymous, StatusCode::NOT_FOUND, "not_found").await;
        let post = send(app.api(Method::POST, "/api/v1/nope", &token)).await;
        api_error(post, StatusCode::NOT_FOUND, "not_found").await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_openapi_document_describes_the_engagement_routes() {
    with_app(|app| async move {
        let response = send(new_client().get(app.url("/api/v1/openapi.json"))).await;
        assert_eq!(response.status(), StatusCode::OK);
        assert!(header(response.headers(), "content-type")
            .expect("a content type")
            .starts_with("application/json"));
        let doc = json(response).await;
        assert!(doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.")));
        let paths = doc["paths"].as_object().expect("paths");
        let list = &paths["/api/v1/engagements"];
        assert!(
            list["get"].is_object() && list["post"].is_object(),
            "{list}"
        );
        let one = &paths["/api/v1/engagements/{engagement_id}"];
        assert!(one["get"].is_object() && one["patch"].is_object(), "{one}");
        assert!(paths["/api/v1/engagements/{engagement_id}/archive"]["post"].is_object());
        let schemas = doc["components"]["schemas"].as_object().expect("schemas");
        for schema in ["Engagement", "EngagementInput", "ErrorBody"] {
            assert!(schemas.contains_key(schema), "{schema}");
        }
        assert_eq!(
            doc["components"]["securitySchemes"]["bearer"]["scheme"]
                .as_str()
                .map(str::to_lowercase)
                .as_deref(),
            Some("bearer")
        );
    })
    .await;
}
