//! The consultant's side of the questionnaire: the answers page with comments, requests for
//! clarification, area reviews and reopening; the scores page; milestones and their comparison.
mod common;

use std::time::{Duration, Instant};

use reqwest::{Client, Method, StatusCode};
use serde_json::{json as json_value, Value};

use common::{area_questions, json, unique_email, with_app, TestApp};

const CLIENT: &str = "Quillfeather Logistics";

/// A firm's owner, their API token and a new engagement's id.
async fn firm_with_engagement(app: &TestApp) -> (Client, String, i64) {
    let email = unique_email("review-owner-");
    let owner = app.sign_up(&email).await;
    let token = app.api_token(&owner).await;
    let engagement = app.create_engagement(&token, CLIENT).await;
    let id = engagement["engagement_id"]
        .as_i64()
        .expect("the engagement's id");
    (owner, token, id)
}

/// Invites a founder through the engagement page's server function; returns the invitation id
/// once the invitation mail has gone out.
async fn invite_founder(app: &TestApp, owner: &Client, id: i64, founder_email: &str) -> i64 {
    let response = app
        .call_fn(
            owner,
            "invite_founder",
            &[
                ("engagement_id", id.to_string().as_str()),
                ("form[name]", "Fay Founder"),
                ("form[email]", founder_email),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK, "the founder is invited");
    let invitation = json(response).await.as_i64().expect("the invitation's id");
    app.wait_for_mail_to(founder_email).await;
    invitation
}

async fn review_data(app: &TestApp, client: &Client, id: i64) -> Value {
    let response = app
        .call_fn(
            client,
            "review_questionnaire",
            &[("engagement_id", &id.to_string())],
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    json(response).await
}

/// The questions of one area in the review data, as (id, red flag).
fn questions_of(data: &Value, area: &str) -> Vec<(String, bool)> {
    area_questions(data, area)
        .iter()
        .map(|q| {
            (
                q["id"].as_str().expect("an id").to_owned(),
                q["red_flag"].as_bool().expect("red_flag"),
            )
        })
        .collect()
}

async fn comment(
    app: &TestApp,
    client: &Client,
    id: i64,
    question_id: &str,
    body: &str,
    ask_founder: &str,
) -> reqwest::Response {
    app.call_fn(
        client,
        "add_comment",
        &[
            ("engagement_id", &id.to_string()),
            ("form[question_id]", question_id),
            ("form[body]", body),
            ("form[ask_founder]", ask_founder),
        ],
    )
    .await
}

async fn put_answer(app: &TestApp, token: &str, id: i64, question_id: &str, answer: Value) {
    let response = app
        .api(
            Method::PUT,
            &format!("/api/v1/engagements/{id}/questionnaire/answers/{question_id}"),
            token,
        )
        .json(&answer)
        .send()
        .await
        .expect("the API answers");
    assert_eq!(
        response.status(),
        StatusCode::OK,
        "{:?}",
        response.text().await
    );
}

async fn page(app: &TestApp, client: &Client, path: &str) -> String {
    let response = app.get(client, path).await;
    assert_eq!(response.status(), StatusCode::OK, "GET {path}");
    response.text().await.expect("a page")
}

/// Waits for a mail to `to` whose text contains `marker`.
async fn wait_for_mail_with(app: &TestApp, to: &str, marker: &str) -> String {
    let started = Instant::now();
    loop {
        if let Some(mail) = app
            .mail_files()
            .into_iter()
            .find(|m| m.contains(&format!("To: {to}")) && m.contains(marker))
        {
            return mail;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "no mail to {to} with {marker:?}; files: {:?}",
            app.mail_files()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn review_pages_belong_to_the_firm() {
    with_app(|app| async move {
        let (owner_a, _, id) = firm_with_engagement(&app).await;
        let owner_b = app.sign_up(&unique_email("review-other-")).await;

        let answers = page(&app, &owner_a, &format!("/engagements/{id}/questionnaire")).await;
        assert!(answers.contains(CLIENT));
        assert!(answers.contains("Mark this area reviewed"));
        assert!(answers.contains("No founder has been invited yet"));
        assert!(answers.contains(&format!("href=\"/engagements/{id}\"")));
        let scores = page(&app, &owner_a, &format!("/engagements/{id}/scores")).await;
        assert!(scores.contains("How scores are computed"));
        let milestones = page(&app, &owner_a, &format!("/engagements/{id}/milestones")).await;
        assert!(milestones.contains("No milestones yet"));

        for path in [
            format!("/engagements/{id}/questionnaire"),
            format!("/engagements/{id}/questionnaire?area=people"),
            format!("/engagements/{id}/scores"),
            format!("/engagements/{id}/milestones"),
        ] {
            let response = app.get(&owner_b, &path).await;
            assert_eq!(response.status(), StatusCode::NOT_FOUND, "{path}");
            let text = response.text().await.expect("a page");
            assert!(!text.contains(CLIENT), "{path} gives the client away");
        }
        let id_text = id.to_string();
        for (endpoint, form) in [
            (
                "review_questionnaire",
                vec![("engagement_id", id_text.as_str())],
            ),
            (
                "engagement_scores",
                vec![("engagement_id", id_text.as_str())],
            ),
            (
                "engagement_milestones",
                vec![("engagement_id", id_text.as_str())],
            ),
            (
                "reopen_questionnaire",
                vec![("engagement_id", id_text.as_str())],
            ),
            (
                "take_milestone",
                vec![("engagement_id", id_text.as_str()), ("name", "Mine now")],
            ),
            (
                "set_area_reviewed",
                vec![
                    ("engagement_id", id_text.as_str()),
                    ("area", "database"),
                    ("reviewed", "true"),
                ],
            ),
        ] {
            let response = app.call_fn(&owner_b, endpoint, &form).await;
            assert_eq!(response.status(), StatusCode::NOT_FOUND, "{endpoint}");
        }
        let response = comment(&app, &owner_b, id, "observability.x", "hello", "").await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
        let milestones: i64 = sqlx::query_scalar("select count(*) from milestones")
            .fetch_one(app.db.pool())
            .await
            .expect("a count");
        assert_eq!(milestones, 0);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn comments_are_inert_and_clarifications_reach_the_founder() {
    with_app(|app| async move {
        let (owner, token, id) = firm_with_engagement(&app).await;
        let founder_email = unique_email("founder-");
        let invitation = invite_founder(&app, &owner, id, &founder_email).await;
        let data = review_data(&app, &owner, id).await;
        assert_eq!(data["invited_any"], true);
        assert_eq!(data["founders"][0]["founder_invitation_id"], invitation);
        let (question, _) = questions_of(&data, "observability")[0].clone();

        // A note, with Markdown and a script that must come back inert.
        let response = comment(
            &app,
            &owner,
            id,
            &question,
            "**Why** not? <script>alert(1)</script>",
            "",
        )
        .await;
        assert_eq!(
            response.status(),
            StatusCode::OK,
            "{:?}",
            response.text().await
        );
        // An empty comment is refused, with its field.
        let response = comment(&app, &owner, id, &question, "   ", "").await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(json(response).await["fields"][0]["field"], "body");

        // A request for clarification mails the founder a link.
        let response = comment(
            &app,
            &owner,
            id,
            &question,
            "Which dashboard shows this?",
            &invitation.to_string(),
        )
        .await;
        assert_eq!(
            response.status(),
            StatusCode::OK,
            "{:?}",
            response.text().await
        );
        let mail =
            wait_for_mail_with(&app, &founder_email, "a question about one of your answers").await;
        assert!(mail.contains(CLIENT), "{mail}");

        let data = review_data(&app, &owner, id).await;
        let comments = data["questionnaire"]["comments"]
            .as_array()
            .expect("comments");
        assert_eq!(comments.len(), 2);
        let note = comments[0]["body_html"].as_str().expect("body_html");
        assert!(note.contains("<strong>Why</strong>"), "{note}");
        assert!(!note.contains("<script"), "{note}");
        assert_eq!(comments[0]["clarification"], false);
        assert_eq!(comments[1]["clarification"], true);

        // Notes with a script are inert on the page too, and the answer shows.
        put_answer(
            &app,
            &token,
            id,
            &question,
            json_value!({
                "choice": "partly",
                "notes": "See <script>alert(1)</script> *here*",
                "links": ["https://grafana.example.com/d/latency"],
                "version": 0,
            }),
        )
        .await;
        let html = page(&app, &owner, &format!("/engagements/{id}/questionnaire")).await;
        assert!(html.contains(&format!("id=\"q-{question}\"")));
        assert!(html.contains("Clarification requested"));
        assert!(html.contains("<em>here</em>"));
        assert!(html.contains("https://grafana.example.com/d/latency"));
        assert!(html.contains("rel=\"noopener noreferrer nofollow\""));
        assert!(
            !html.contains("<script>alert(1)"),
            "a script reached the page"
        );
        assert!(
            html.contains("Fay Founder"),
            "the founder is offered in the select"
        );

        // A founder of nobody's is refused.
        let response = comment(&app, &owner, id, &question, "Hello", "nobody").await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let response = comment(&app, &owner, id, &question, "Hello", "999999").await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn areas_are_reviewed_and_a_submitted_questionnaire_reopened() {
    with_app(|app| async move {
        let (owner, _, id) = firm_with_engagement(&app).await;
        let id_text = id.to_string();
        let set = |reviewed: &'static str| {
            let app = app.clone();
            let owner = owner.clone();
            let id_text = id_text.clone();
            async move {
                app.call_fn(
                    &owner,
                    "set_area_reviewed",
                    &[
                        ("engagement_id", id_text.as_str()),
                        ("area", "database"),
                        ("reviewed", reviewed),
                    ],
                )
                .await
            }
        };
        assert_eq!(set("true").await.status(), StatusCode::OK);
        let data = review_data(&app, &owner, id).await;
        assert_eq!(
            data["questionnaire"]["reviewed_areas"],
            json_value!(["database"])
        );
        let html = page(
            &app,
            &owner,
            &format!("/engagements/{id}/questionnaire?area=database"),
        )
        .await;
        assert!(html.contains("Mark as not reviewed"));
        assert!(html.contains("(reviewed)"));
        assert_eq!(set("false").await.status(), StatusCode::OK);
        let data = review_data(&app, &owner, id).await;
        assert_eq!(data["questionnaire"]["reviewed_areas"], json_value!([]));
        let response = app
            .call_fn(
                &owner,
                "set_area_reviewed",
                &[
                    ("engagement_id", &id_text),
                    ("area", "nowhere"),
                    ("reviewed", "true"),
                ],
            )
            .await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);

        // A founder submits; the consultant sees it and reopens.
        let founder_email = unique_email("founder-");
        let invitation = invite_founder(&app, &owner, id, &founder_email).await;
        let access =
            audit::questionnaire::founder_access(&app.db, invitation, audit::clock::now_ms())
                .await
                .expect("the founder's access is read")
                .expect("the invitation is live");
        audit::questionnaire::submit(&app.db, &access, &app.address)
            .await
            .expect("the founder submits");
        let data = review_data(&app, &owner, id).await;
        assert_eq!(data["questionnaire"]["status"], "submitted");
        let html = page(&app, &owner, &format!("/engagements/{id}/questionnaire")).await;
        assert!(html.contains("Reopen for the founders"));
        assert!(html.contains("Fay Founder"));
        let response = app
            .call_fn(
                &owner,
                "reopen_questionnaire",
                &[("engagement_id", &id_text)],
            )
            .await;
        assert_eq!(response.status(), StatusCode::OK);
        let data = review_data(&app, &owner, id).await;
        assert_eq!(data["questionnaire"]["status"], "open");
        let html = page(&app, &owner, &format!("/engagements/{id}/questionnaire")).await;
        assert!(!html.contains("Reopen for the founders"));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scores_explain_and_milestones_compare() {
    with_app(|app| async move {
        let (owner, token, id) = firm_with_engagement(&app).await;
        let id_text = id.to_string();
        let data = review_data(&app, &owner, id).await;
        let questions = questions_of(&data, "observability");
        let (red_flag, _) = questions
            .iter()
            .find(|(_, red)| *red)
            .expect("observability has a red-flag question")
            .clone();
        let (plain, _) = questions
            .iter()
            .find(|(_, red)| !*red)
            .expect("observability has an ordinary question")
            .clone();

        let take = |name: &'static str| {
            let app = app.clone();
            let owner = owner.clone();
            let id_text = id_text.clone();
            async move {
                let response = app
                    .call_fn(
                        &owner,
                        "take_milestone",
                        &[("engagement_id", id_text.as_str()), ("name", name)],
                    )
                    .await;
                assert_eq!(response.status(), StatusCode::OK, "milestone {name}");
                json(response).await.as_i64().expect("the milestone's id")
            }
        };
        let response = app
            .call_fn(
                &owner,
                "take_milestone",
                &[("engagement_id", &id_text), ("name", " ")],
            )
            .await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(json(response).await["fields"][0]["field"], "name");

        put_answer(
            &app,
            &token,
            id,
            &red_flag,
            json_value!({"choice": "no", "version": 0}),
        )
        .await;
        let before = take("Before the audit").await;

        // The red flag shows on the scores page, linked to its question.
        let scores = app
            .call_fn(&owner, "engagement_scores", &[("engagement_id", &id_text)])
            .await;
        assert_eq!(scores.status(), StatusCode::OK);
        let scores = json(scores).await;
        let observability = &scores["scorecard"]["areas"][0];
        assert_eq!(observability["area"], "observability");
        assert_eq!(observability["risk"], "high");
        assert_eq!(
            observability["red_flags"][0]["question_id"],
            red_flag.as_str()
        );
        let html = page(&app, &owner, &format!("/engagements/{id}/scores")).await;
        assert!(html.contains("What moved this score"));
        assert!(html.contains("High risk"));
        assert!(html.contains(&format!(
            "/engagements/{id}/questionnaire?area=observability#q-{red_flag}"
        )));
        let answers = page(&app, &owner, &format!("/engagements/{id}/questionnaire")).await;
        assert!(answers.contains("red-flag-badge"));

        put_answer(
            &app,
            &token,
            id,
            &red_flag,
            json_value!({"choice": "yes", "version": 1}),
        )
        .await;
        put_answer(
            &app,
            &token,
            id,
            &plain,
            json_value!({"choice": "partly", "version": 0}),
        )
        .await;
        let after = take("After the interventions").await;

        let response = app
            .call_fn(
                &owner,
                "engagement_milestones",
                &[
                    ("engagement_id", id_text.as_str()),
                    ("before", &before.to_string()),
                    ("after", &after.to_string()),
                ],
            )
            .await;
        assert_eq!(response.status(), StatusCode::OK);
        let data = json(response).await;
        assert_eq!(data["milestones"].as_array().expect("milestones").len(), 2);
        let comparison = &data["comparison"];
        assert_eq!(comparison["before"]["name"], "Before the audit");
        assert_eq!(comparison["after"]["name"], "After the interventions");
        let (area, score_before, score_after) = (
            &comparison["areas"][0][0],
            comparison["areas"][0][1].as_u64().expect("a score before"),
            comparison["areas"][0][2].as_u64().expect("a score after"),
        );
        assert_eq!(area, "observability");
        assert!(score_after > score_before, "{score_before} → {score_after}");
        let changes = comparison["changes"].as_array().expect("changes");
        assert_eq!(changes.len(), 2, "{changes:?}");
        assert!(changes
            .iter()
            .all(|c| c["trend"] == "better" && c["area"] == "observability"));

        // Asked the other way round, the older one still comes first.
        let html = page(
            &app,
            &owner,
            &format!("/engagements/{id}/milestones?before={after}&after={before}"),
        )
        .await;
        assert!(html.contains("Improved (2)"));
        assert!(html.contains("Before the audit → After the interventions"));
        assert!(html.contains("delta up"));

        // A milestone of nobody's: the page stays, with a message.
        let html = page(
            &app,
            &owner,
            &format!("/engagements/{id}/milestones?before={before}&after=999999"),
        )
        .await;
        assert!(html.contains("does not exist any more"));
    })
    .await;
}
