//! The questionnaire REST API: the questions with their answers, versioned answer writes with
//! a 409 for stale ones, the scorecard, tenancy, and the OpenAPI document.
mod common;

use reqwest::{Method, Response, StatusCode};
use serde_json::{json as j, Value};

use common::{api_error_body, json, new_client, with_app, TestApp};

async fn token(app: &TestApp) -> String {
    app.fresh_firm_token().await
}

/// A fresh firm's token and one engagement of it.
async fn engagement(app: &TestApp) -> (String, i64) {
    let token = token(app).await;
    let engagement = app.create_engagement(&token, "Acme Corp").await;
    let id = engagement["engagement_id"]
        .as_i64()
        .expect("an engagement_id");
    (token, id)
}

async fn send(request: reqwest::RequestBuilder) -> Response {
    request.send().await.expect("the API answers")
}

async fn questionnaire(app: &TestApp, token: &str, id: i64) -> Value {
    let response = send(app.api(
        Method::GET,
        &format!("/api/v1/engagements/{id}/questionnaire"),
        token,
    ))
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    json(response).await["data"].clone()
}

async fn put_answer(
    app: &TestApp,
    token: &str,
    id: i64,
    question_id: &str,
    body: Value,
) -> Response {
    send(
        app.api(
            Method::PUT,
            &format!("/api/v1/engagements/{id}/questionnaire/answers/{question_id}"),
            token,
        )
        .json(&body),
    )
    .await
}

async fn scores(app: &TestApp, token: &str, id: i64) -> Value {
    let response = send(app.api(
        Method::GET,
        &format!("/api/v1/engagements/{id}/scores"),
        token,
    ))
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    json(response).await["data"].clone()
}

/// Asserts the API's error body; returns the whole body.
async fn api_error(response: Response, status: StatusCode, code: &str) -> Value {
    api_error_body(response, status, code).await
}

/// The question ids of an area of the questionnaire.
fn question_ids(area: &Value) -> Vec<String> {
    area["questions"]
        .as_array()
        .expect("questions")
        .iter()
        .map(|q| q["id"].as_str().expect("a question id").to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_questionnaire_lists_five_areas_with_unanswered_questions() {
    with_app(|app| async move {
        let (token, id) = engagement(&app).await;
        let data = questionnaire(&app, &token, id).await;
        assert_eq!(data["engagement_id"], id);
        assert_eq!(data["status"], "open");
        assert!(data["submitted_at"].is_null());
        let bank = &data["bank_version"];
        assert!(bank["bank_version_id"].as_i64().is_some(), "{bank}");
        assert!(bank["version"].as_i64().is_some(), "{bank}");
        assert_eq!(bank["builtin"], true);
        assert!(bank["name"].as_str().is_some_and(|n| !n.is_empty()));

        let areas = data["areas"].as_array().expect("areas");
        let names: Vec<&str> = areas.iter().filter_map(|a| a["area"].as_str()).collect();
        assert_eq!(
            names,
            [
                "observability",
                "database",
                "caching-queues",
                "deployment-infrastructure",
                "people"
            ]
        );
        for area in areas {
            assert!(area["title"].as_str().is_some_and(|t| !t.is_empty()));
            assert!(area["question"].as_str().is_some_and(|t| !t.is_empty()));
            assert!(area["red_flag"].as_str().is_some_and(|t| !t.is_empty()));
            let questions = area["questions"].as_array().expect("questions");
            assert!(!questions.is_empty(), "{}", area["area"]);
            for q in questions {
                let qid = q["id"].as_str().expect("an id");
                assert!(
                    qid.starts_with(area["area"].as_str().unwrap_or("?")),
                    "{qid}"
                );
                assert!(q["prompt"].as_str().is_some_and(|p| !p.is_empty()));
                assert!(q["help"].is_string());
                assert!((1..=5).contains(&q["weight"].as_i64().expect("a weight")));
                assert!(q["red_flag"].is_boolean());
                let choices = q["choices"].as_array().expect("choices");
                assert!(choices.contains(&j!("yes")) && choices.contains(&j!("dont_know")));
                assert!(q["evidence"].is_array());
                assert!(q["probe_checks"].is_array());
                assert!(q["interventions"].is_array());
                assert!(q["answer"].is_null(), "{q}");
                assert!(q.get("answer").is_some(), "answer is present as null");
            }
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_carry_versions_and_a_stale_write_is_a_409() {
    with_app(|app| async move {
        let (token, id) = engagement(&app).await;
        let data = questionnaire(&app, &token, id).await;
        let qid = question_ids(&data["areas"][0])[0].clone();

        let first = put_answer(
            &app,
            &token,
            id,
            &qid,
            j!({"choice": "partly", "notes": "Only **p95**.", "links": ["https://grafana.acme.test/d/1"], "version": 0}),
        )
        .await;
        assert_eq!(first.status(), StatusCode::OK);
        let first = json(first).await["data"].clone();
        assert_eq!(first["version"], 1);
        assert_eq!(first["choice"], "partly");
        assert_eq!(first["notes"], "Only **p95**.");
        assert!(first.get("notes_html").is_none(), "{first}");
        assert_eq!(first["links"], j!(["https://grafana.acme.test/d/1"]));
        assert_eq!(first["answered_by"], "Olive Owner");
        assert!(first["updated_at"].as_i64().is_some_and(|t| t > 0));

        // A second writer still holding version 0.
        let stale = put_answer(&app, &token, id, &qid, j!({"choice": "no", "version": 0})).await;
        let body = api_error(stale, StatusCode::CONFLICT, "stale_version").await;
        assert_eq!(body["current"]["version"], 1, "{body}");
        assert_eq!(body["current"]["choice"], "partly", "{body}");
        let message = body["error"]["message"].as_str().unwrap_or_default();
        assert!(message.contains("Olive Owner"), "{message}");

        let second = put_answer(&app, &token, id, &qid, j!({"choice": "yes", "version": 1})).await;
        assert_eq!(second.status(), StatusCode::OK);
        let second = json(second).await["data"].clone();
        assert_eq!(second["version"], 2);
        assert_eq!(second["choice"], "yes");
        assert_eq!(second["notes"], "");
        assert_eq!(second["links"], j!([]));

        let data = questionnaire(&app, &token, id).await;
        let answer = &data["areas"][0]["questions"][0]["answer"];
        assert_eq!(answer["version"], 2, "{answer}");
        assert_eq!(answer["choice"], "yes", "{answer}");
        assert!(data["areas"][0]["questions"][1]["answer"].is_null());
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_answers_name_the_field() {
    with_app(|app| async move {
        let (token, id) = engagement(&app).await;
        let data = questionnaire(&app, &token, id).await;
        let qid = question_ids(&data["areas"][0])[0].clone();

        let response = put_answer(
            &app,
            &token,
            id,
            &qid,
            j!({"choice": "maybe", "version": 0}),
        )
        .await;
        let body = api_error(response, StatusCode::UNPROCESSABLE_ENTITY, "invalid").await;
        assert_eq!(body["error"]["field"], "choice", "{body}");

        let response = put_answer(
            &app,
            &token,
            id,
            "observability.no-such-question",
            j!({"choice": "yes", "version": 0}),
        )
        .await;
        let body = api_error(response, StatusCode::UNPROCESSABLE_ENTITY, "invalid").await;
        assert_eq!(body["error"]["field"], "question_id", "{body}");

        let response = put_answer(
            &app,
            &token,
            id,
            &qid,
            j!({"choice": "yes", "links": ["ftp://files.acme.test/x"], "version": 0}),
        )
        .await;
        let body = api_error(response, StatusCode::UNPROCESSABLE_ENTITY, "invalid").await;
        assert_eq!(body["error"]["field"], "links", "{body}");

        let response = put_answer(
            &app,
            &token,
            id,
            &qid,
            j!({"choice": "yes", "links": ["https://a.test\nhttps://b.test"], "version": 0}),
        )
        .await;
        let body = api_error(response, StatusCode::UNPROCESSABLE_ENTITY, "invalid").await;
        assert_eq!(body["error"]["field"], "links", "{body}");

        let response = send(
            app.api(
                Method::PUT,
                &format!("/api/v1/engagements/{id}/questionnaire/answers/{qid}"),
                &token,
            )
            .header("content-type", "application/json")
            .body("{\"choice\": "),
        )
        .await;
        api_error(response, StatusCode::BAD_REQUEST, "malformed_json").await;

        let response = put_answer(&app, &token, id, &qid, j!({"choice": "yes"})).await;
        api_error(response, StatusCode::UNPROCESSABLE_ENTITY, "invalid").await;

        // Nothing above was written.
        let data = questionnaire(&app, &token, id).await;
        assert!(data["areas"][0]["questions"][0]["answer"].is_null());
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scores_follow_the_answers() {
    with_app(|app| async move {
        let (token, id) = engagement(&app).await;
        let before = scores(&app, &token, id).await;
        assert_eq!(before["answered"], 0);
        assert!(before["questions"].as_i64().is_some_and(|n| n > 0));
        assert_eq!(before["red_flags"], j!([]));
        assert_eq!(before["areas"].as_array().map(Vec::len), Some(5));
        assert_eq!(before["bank_version"]["builtin"], true);

        let data = questionnaire(&app, &token, id).await;
        let first_area = &data["areas"][0];
        let area_name = first_area["area"].as_str().expect("an area").to_owned();
        let ids = question_ids(first_area);
        for qid in &ids {
            let response =
                put_answer(&app, &token, id, qid, j!({"choice": "yes", "version": 0})).await;
            assert_eq!(response.status(), StatusCode::OK, "{qid}");
        }
        // A red-flag question of another area, answered "no".
        let red_flag = data["areas"][1]["questions"]
            .as_array()
            .expect("questions")
            .iter()
            .find(|q| q["red_flag"] == true)
            .expect("a red-flag question in the second area");
        let red_id = red_flag["id"].as_str().expect("an id").to_owned();
        let response = put_answer(
            &app,
            &token,
            id,
            &red_id,
            j!({"choice": "no", "version": 0}),
        )
        .await;
        assert_eq!(response.status(), StatusCode::OK);

        let after = scores(&app, &token, id).await;
        assert_eq!(after["answered"], ids.len() as i64 + 1, "{after}");
        let area = after["areas"]
            .as_array()
            .expect("areas")
            .iter()
            .find(|a| a["area"] == area_name.as_str())
            .expect("the first area's score");
        assert_eq!(area["score"], 100, "{area}");
        assert_eq!(area["risk"], "low", "{area}");
        assert_eq!(area["answered"], ids.len() as i64);
        assert_eq!(area["explanation"], j!([]));

        let flags = after["red_flags"].as_array().expect("red flags");
        assert_eq!(flags.len(), 1, "{after}");
        assert_eq!(flags[0]["question_id"], red_id.as_str());
        assert_eq!(flags[0]["area"], data["areas"][1]["area"]);
        let second = &after["areas"][1];
        assert_eq!(second["risk"], "high", "{second}");
        assert!(after["overall"]
            .as_i64()
            .is_some_and(|s| (1..100).contains(&s)));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_firms_engagement_is_not_found() {
    with_app(|app| async move {
        let (owner, id) = engagement(&app).await;
        let data = questionnaire(&app, &owner, id).await;
        let qid = question_ids(&data["areas"][0])[0].clone();
        let other = token(&app).await;

        let response = send(app.api(
            Method::GET,
            &format!("/api/v1/engagements/{id}/questionnaire"),
            &other,
        ))
        .await;
        api_error(response, StatusCode::NOT_FOUND, "not_found").await;
        let response = put_answer(&app, &other, id, &qid, j!({"choice": "no", "version": 0})).await;
        api_error(response, StatusCode::NOT_FOUND, "not_found").await;
        let response = send(app.api(
            Method::GET,
            &format!("/api/v1/engagements/{id}/scores"),
            &other,
        ))
        .await;
        api_error(response, StatusCode::NOT_FOUND, "not_found").await;

        // A non-numeric engagement id names nothing either.
        let response =
            send(app.api(Method::GET, "/api/v1/engagements/abc/questionnaire", &owner)).await;
        api_error(response, StatusCode::NOT_FOUND, "not_found").await;

        // The other firm's write did not land.
        let data = questionnaire(&app, &owner, id).await;
        assert!(data["areas"][0]["questions"][0]["answer"].is_null());
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_token_the_answer_is_401() {
    with_app(|app| async move {
        let (_, id) = engagement(&app).await;
        let client = new_client();
        let response = send(client.get(app.url(&format!("/api/v1/engagements/{id}/questionnaire")))).await;
        api_error(response, StatusCode::UNAUTHORIZED, "unauthenticated").await;
        let response = send(
            client
                .put(app.url(&format!(
                    "/api/v1/engagements/{id}/questionnaire/answers/observability.latency-percentiles"
                )))
                .json(&j!({"choice": "yes", "version": 0})),
        )
        .await;
        api_error(response, StatusCode::UNAUTHORIZED, "unauthenticated").await;
        let response = send(client.get(app.url(&format!("/api/v1/engagements/{id}/scores")))).await;
        api_error(response, StatusCode::UNAUTHORIZED, "unauthenticated").await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_openapi_document_lists_the_questionnaire_routes() {
    with_app(|app| async move {
        let response = send(new_client().get(app.url("/api/v1/openapi.json"))).await;
        assert_eq!(response.status(), StatusCode::OK);
        let doc = json(response).await;
        let paths = &doc["paths"];
        let questionnaire = &paths["/api/v1/engagements/{engagement_id}/questionnaire"];
        assert!(questionnaire["get"].is_object(), "{paths}");
        let answer =
            &paths["/api/v1/engagements/{engagement_id}/questionnaire/answers/{question_id}"];
        assert!(answer["put"].is_object(), "{paths}");
        assert!(answer["put"]["responses"]["409"].is_object(), "{answer}");
        assert!(
            paths["/api/v1/engagements/{engagement_id}/scores"]["get"].is_object(),
            "{paths}"
        );
        let schemas = &doc["components"]["schemas"];
        for name in [
            "QuestionnaireBody",
            "AnswerRequest",
            "StaleAnswerBody",
            "ScoresBody",
            "AreaScore",
        ] {
            assert!(schemas[name].is_object(), "schema {name}");
        }
    })
    .await;
}
