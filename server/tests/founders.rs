//! The founder's side of the questionnaire, end to end: the invitation link (single use, expiry,
//! fresh links, revocation), what a founder's session reaches, saving answers (with versions, and
//! as a plain form post without JavaScript), submission, evidence files and reminders.
mod common;

use audit::clock::{now_ms, DAY_MS};
use reqwest::header::{ACCEPT, CONTENT_TYPE, ORIGIN};
use reqwest::{Client, Response, StatusCode};
use serde_json::Value;

use common::{
    area_questions, founder_token_in, header, is_fn_redirect, json, new_client, unique_email,
    with_app, TestApp,
};

const CLIENT: &str = "Brightwater Analytics";
const OTHER_CLIENT: &str = "Saltmarsh Confidential";

/// A firm's owner (the consultant), their e-mail address, and a new engagement's id.
async fn consultant_with_engagement(app: &TestApp) -> (Client, String, i64) {
    let email = unique_email("founders-owner-");
    let consultant = app.sign_up(&email).await;
    let token = app.api_token(&consultant).await;
    let id = app.create_engagement(&token, CLIENT).await["engagement_id"]
        .as_i64()
        .expect("the engagement's id");
    (consultant, email, id)
}

/// A founder invited to the engagement and in a session of their own.
async fn founder_of(app: &TestApp, consultant: &Client, engagement_id: i64) -> Client {
    let (_, token) = app
        .invite_founder(
            consultant,
            engagement_id,
            "Ada Founder",
            &unique_email("founder-"),
        )
        .await;
    app.start_founder(&token).await
}

/// Asserts a server function's error: this status and code, and a message; returns the body.
async fn fn_error(response: Response, status: StatusCode, code: &str) -> Value {
    assert_eq!(response.status(), status);
    let body = json(response).await;
    assert_eq!(body["code"], code, "{body}");
    assert!(
        body["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{body}"
    );
    body
}

fn message(body: &Value) -> String {
    body["message"].as_str().unwrap_or_default().to_owned()
}

async fn my_questionnaire(app: &TestApp, founder: &Client) -> Value {
    let response = app.call_fn(founder, "my_questionnaire", &[]).await;
    assert_eq!(
        response.status(),
        StatusCode::OK,
        "the founder's questionnaire"
    );
    json(response).await
}

/// Asserts that a link is refused with a message containing `why`: starting with it gives a
/// conflict and no session, and so does its preview. Returns the browser that tried.
async fn link_refused(app: &TestApp, token: &str, why: &str) -> Client {
    let (response, browser) = start(app, token).await;
    let body = fn_error(response, StatusCode::CONFLICT, "conflict").await;
    assert!(message(&body).contains(why), "{body}");
    let refused = app.call_fn(&browser, "my_questionnaire", &[]).await;
    fn_error(refused, StatusCode::UNAUTHORIZED, "unauthenticated").await;
    let body = fn_error(preview(app, token).await, StatusCode::CONFLICT, "conflict").await;
    assert!(message(&body).contains(why), "{body}");
    browser
}

/// The question ids of one area, in the order the bank lists them.
fn question_ids(view: &Value, area: &str) -> Vec<String> {
    area_questions(view, area)
        .iter()
        .map(|q| q["id"].as_str().expect("a question id").to_owned())
        .collect()
}

fn first_question(view: &Value) -> String {
    question_ids(view, "observability")[0].clone()
}

/// The stored answer to a question, if any.
fn answer_in(view: &Value, question_id: &str) -> Option<Value> {
    view["questionnaire"]["answers"]
        .as_array()
        .expect("answers")
        .iter()
        .find(|a| a["question_id"] == question_id)
        .cloned()
}

async fn save(
    app: &TestApp,
    founder: &Client,
    question_id: &str,
    choice: &str,
    notes: &str,
    version: i64,
) -> Response {
    app.call_fn(
        founder,
        "save_answer",
        &[
            ("input[question_id]", question_id),
            ("input[choice]", choice),
            ("input[notes]", notes),
            ("input[links]", ""),
            ("input[version]", version.to_string().as_str()),
        ],
    )
    .await
}

/// Saves and expects `saved`; returns the stored answer.
async fn save_ok(
    app: &TestApp,
    founder: &Client,
    question_id: &str,
    choice: &str,
    notes: &str,
    version: i64,
) -> Value {
    let response = save(app, founder, question_id, choice, notes, version).await;
    assert_eq!(response.status(), StatusCode::OK);
    let body = json(response).await;
    assert_eq!(body["outcome"], "saved", "{body}");
    body["answer"].clone()
}

/// Starts the questionnaire with a link on a new browser; returns the response and the browser.
async fn start(app: &TestApp, token: &str) -> (Response, Client) {
    let client = new_client();
    let response = app
        .call_fn(&client, "start_questionnaire", &[("token", token)])
        .await;
    (response, client)
}

async fn preview(app: &TestApp, token: &str) -> Response {
    app.call_fn(
        &new_client(),
        "preview_founder_invitation",
        &[("token", token)],
    )
    .await
}

/// Waits for a mail to `to` carrying a founder link other than those in `seen`; returns its token.
async fn wait_for_new_link(app: &TestApp, to: &str, seen: &[&str]) -> String {
    let mail = app
        .wait_for_mail_to_matching(to, |m| {
            m.contains("/invite/") && !seen.contains(&founder_token_in(m).as_str())
        })
        .await;
    founder_token_in(&mail)
}

/// Uploads a file to `POST /evidence` as a script does (multipart, JSON answers).
async fn upload(
    app: &TestApp,
    client: &Client,
    question_id: &str,
    file_name: &str,
    bytes: &[u8],
) -> Response {
    let boundary = "plumbline-founders-test-0f6c2b9e41";
    let mut body = Vec::with_capacity(bytes.len() + 512);
    body.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"question_id\"\r\n\r\n\
             {question_id}\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; \
             filename=\"{file_name}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    client
        .post(app.url("/evidence"))
        .header(ORIGIN, &app.address)
        .header(ACCEPT, "application/json")
        .header(
            CONTENT_TYPE,
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(body)
        .send()
        .await
        .expect("the upload is answered")
}

/// Asserts an upload's JSON refusal; returns its message.
async fn upload_refused(response: Response, status: StatusCode) -> String {
    assert_eq!(response.status(), status);
    let body = json(response).await;
    assert_eq!(body["error"]["field"], "file", "{body}");
    body["error"]["message"]
        .as_str()
        .expect("a message")
        .to_owned()
}

/// The number of answers stored for an engagement.
async fn answers_stored(app: &TestApp, engagement_id: i64) -> i64 {
    sqlx::query_scalar("select count(*) from answers where engagement_id = $1")
        .bind(engagement_id)
        .fetch_one(app.db.pool())
        .await
        .expect("a count of answers")
}

/// The plain form post of one area, as a browser without JavaScript sends it.
async fn post_area(app: &TestApp, founder: &Client, form: &[(&str, &str)]) -> Response {
    founder
        .post(app.url("/questionnaire/save"))
        .header(ORIGIN, &app.address)
        .form(form)
        .send()
        .await
        .expect("the form post is answered")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invited_founder_opens_the_link_once_and_reaches_the_five_areas() {
    with_app(|app| async move {
        let (consultant, _, id) = consultant_with_engagement(&app).await;
        let email = unique_email("founder-");
        let (invitation, token) = app
            .invite_founder(&consultant, id, "Ada Founder", &email)
            .await;
        let mail = app.wait_for_mail_to(&email).await;
        assert!(
            mail.contains(&format!("{}/invite/{token}", app.address)),
            "{mail}"
        );
        assert!(mail.contains(CLIENT), "{mail}");
        assert!(token.starts_with("fnd_"), "{token}");
        assert_eq!(token.len(), "fnd_".len() + 64, "{token}");

        // The preview names who asks, and does not use the link up.
        for _ in 0..2 {
            let response = preview(&app, &token).await;
            assert_eq!(response.status(), StatusCode::OK);
            let preview = json(response).await;
            assert_eq!(preview["name"], "Ada Founder");
            assert_eq!(preview["client_name"], CLIENT);
        }

        // Starting sets a founder session that reaches the questionnaire.
        let founder = app.start_founder(&token).await;
        let view = my_questionnaire(&app, &founder).await;
        assert_eq!(view["founder_name"], "Ada Founder");
        assert_eq!(view["questionnaire"]["engagement_id"], id);
        assert_eq!(view["questionnaire"]["client_name"], CLIENT);
        let areas: Vec<&str> = view["questionnaire"]["bank"]["areas"]
            .as_array()
            .expect("areas")
            .iter()
            .map(|a| a["area"].as_str().expect("an area"))
            .collect();
        assert_eq!(
            areas,
            [
                "observability",
                "database",
                "caching-queues",
                "deployment-infrastructure",
                "people"
            ]
        );
        for area in &areas {
            assert!(
                !question_ids(&view, area).is_empty(),
                "{area} has questions"
            );
        }

        // The consultant sees the link as opened.
        let summary = app
            .call_fn(
                &consultant,
                "questionnaire_summary",
                &[("engagement_id", id.to_string().as_str())],
            )
            .await;
        assert_eq!(summary.status(), StatusCode::OK);
        let summary = json(summary).await;
        assert_eq!(
            summary["invitations"][0]["founder_invitation_id"],
            invitation
        );
        assert!(summary["invitations"][0]["used_at"].is_i64(), "{summary}");

        // The link works once: neither a second start nor the preview accepts it again.
        link_refused(&app, &token, "already been used").await;

        // The first browser's session goes on working.
        my_questionnaire(&app, &founder).await;

        // A link nobody was sent is not found.
        let unknown = format!("fnd_{}", "0".repeat(64));
        fn_error(
            preview(&app, &unknown).await,
            StatusCode::NOT_FOUND,
            "not_found",
        )
        .await;
        let (response, _) = start(&app, &unknown).await;
        fn_error(response, StatusCode::NOT_FOUND, "not_found").await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_link_is_refused_and_a_fresh_one_is_mailed_at_most_every_few_minutes() {
    with_app(|app| async move {
        let (consultant, _, id) = consultant_with_engagement(&app).await;
        let email = unique_email("founder-");
        let (invitation, token) = app
            .invite_founder(&consultant, id, "Ada Founder", &email)
            .await;
        // The invitation went out fifteen days ago and ran out a day ago.
        let now = now_ms();
        sqlx::query(
            "update founder_invitations set expires_at = $1, last_sent_at = $2 \
             where founder_invitation_id = $3",
        )
        .bind(now - DAY_MS)
        .bind(now - 15 * DAY_MS)
        .bind(invitation)
        .execute(app.db.pool())
        .await
        .expect("the invitation is backdated");

        let browser = link_refused(&app, &token, "expired").await;

        // A fresh link goes to the invited address, and works.
        let response = app
            .call_fn(&browser, "request_fresh_link", &[("token", &token)])
            .await;
        assert_eq!(response.status(), StatusCode::OK);
        let fresh = wait_for_new_link(&app, &email, &[&token]).await;
        let mail = app
            .wait_for_mail_to_matching(&email, |m| m.contains(&fresh))
            .await;
        assert!(mail.contains("fresh link you asked for"), "{mail}");
        let founder = app.start_founder(&fresh).await;
        my_questionnaire(&app, &founder).await;
        // The expired link is gone for good.
        let (response, _) = start(&app, &token).await;
        fn_error(response, StatusCode::NOT_FOUND, "not_found").await;

        // Asking again at once is refused, and says when to try again.
        let response = app
            .call_fn(&browser, "request_fresh_link", &[("token", &fresh)])
            .await;
        assert!(
            header(response.headers(), "retry-after").is_some(),
            "{:?}",
            response.headers()
        );
        fn_error(response, StatusCode::TOO_MANY_REQUESTS, "rate_limited").await;
        assert_eq!(app.mails_to(&email).len(), 2, "no third mail went out");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_invitation_ends_the_session_and_a_resend_reinstates_it_with_a_new_link() {
    with_app(|app| async move {
        let (consultant, _, id) = consultant_with_engagement(&app).await;
        let id_text = id.to_string();
        // Ada has started; Ben has not opened his link yet.
        let ada_email = unique_email("founder-ada-");
        let (ada_invitation, ada_token) = app
            .invite_founder(&consultant, id, "Ada Founder", &ada_email)
            .await;
        let ada = app.start_founder(&ada_token).await;
        let question = first_question(&my_questionnaire(&app, &ada).await);
        let ben_email = unique_email("founder-ben-");
        let (ben_invitation, ben_token) = app
            .invite_founder(&consultant, id, "Ben Founder", &ben_email)
            .await;

        for invitation in [ada_invitation, ben_invitation] {
            let response = app
                .call_fn(
                    &consultant,
                    "revoke_founder_invitation",
                    &[
                        ("engagement_id", id_text.as_str()),
                        ("founder_invitation_id", invitation.to_string().as_str()),
                    ],
                )
                .await;
            assert_eq!(response.status(), StatusCode::OK, "revoked");
        }

        // Ada's open session ends at once.
        let refused = app.call_fn(&ada, "my_questionnaire", &[]).await;
        fn_error(refused, StatusCode::UNAUTHORIZED, "unauthenticated").await;
        let refused = save(&app, &ada, &question, "yes", "", 0).await;
        fn_error(refused, StatusCode::UNAUTHORIZED, "unauthenticated").await;
        assert_eq!(answers_stored(&app, id).await, 0);

        // Ben's unused link no longer starts anything, nor mails a fresh link.
        let ben_browser = link_refused(&app, &ben_token, "withdrawn").await;
        let response = app
            .call_fn(&ben_browser, "request_fresh_link", &[("token", &ben_token)])
            .await;
        fn_error(response, StatusCode::CONFLICT, "conflict").await;

        let summary = json(
            app.call_fn(
                &consultant,
                "questionnaire_summary",
                &[("engagement_id", id_text.as_str())],
            )
            .await,
        )
        .await;
        let invitations = summary["invitations"].as_array().expect("invitations");
        assert_eq!(invitations.len(), 2, "{summary}");
        assert!(
            invitations.iter().all(|i| i["revoked_at"].is_i64()),
            "{summary}"
        );

        // A re-send reinstates Ben with a new link; the old one stays dead.
        let response = app
            .call_fn(
                &consultant,
                "resend_founder_invitation",
                &[
                    ("engagement_id", id_text.as_str()),
                    ("founder_invitation_id", ben_invitation.to_string().as_str()),
                ],
            )
            .await;
        assert_eq!(response.status(), StatusCode::OK, "re-sent");
        let fresh = wait_for_new_link(&app, &ben_email, &[&ben_token]).await;
        let (response, _) = start(&app, &ben_token).await;
        fn_error(response, StatusCode::NOT_FOUND, "not_found").await;
        let ben = app.start_founder(&fresh).await;
        let view = my_questionnaire(&app, &ben).await;
        assert_eq!(view["founder_name"], "Ben Founder");
        save_ok(&app, &ben, &question, "partly", "", 0).await;

        // Ada stays out until she is re-sent a link; the session that was ended stays ended.
        let refused = app.call_fn(&ada, "my_questionnaire", &[]).await;
        fn_error(refused, StatusCode::UNAUTHORIZED, "unauthenticated").await;
        let response = app
            .call_fn(
                &consultant,
                "resend_founder_invitation",
                &[
                    ("engagement_id", id_text.as_str()),
                    ("founder_invitation_id", ada_invitation.to_string().as_str()),
                ],
            )
            .await;
        assert_eq!(response.status(), StatusCode::OK, "re-sent");
        let fresh = wait_for_new_link(&app, &ada_email, &[&ada_token]).await;
        let refused = app.call_fn(&ada, "my_questionnaire", &[]).await;
        fn_error(refused, StatusCode::UNAUTHORIZED, "unauthenticated").await;
        let ada = app.start_founder(&fresh).await;
        my_questionnaire(&app, &ada).await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_founder_session_reaches_nothing_but_its_own_questionnaire() {
    with_app(|app| async move {
        let email = unique_email("founders-owner-");
        let consultant = app.sign_up(&email).await;
        let api_token = app.api_token(&consultant).await;
        let id = app.create_engagement(&api_token, CLIENT).await["engagement_id"]
            .as_i64()
            .expect("the engagement's id");
        let other = app.create_engagement(&api_token, OTHER_CLIENT).await["engagement_id"]
            .as_i64()
            .expect("the other engagement's id");

        // A founder of the other engagement attaches a file there.
        let other_founder = founder_of(&app, &consultant, other).await;
        let other_view = my_questionnaire(&app, &other_founder).await;
        let uploaded = upload(
            &app,
            &other_founder,
            &first_question(&other_view),
            "secret.txt",
            b"Saltmarsh: database password rotation log\n",
        )
        .await;
        assert_eq!(uploaded.status(), StatusCode::CREATED);
        let other_file = json(uploaded).await["data"]["evidence_file_id"]
            .as_i64()
            .expect("the file's id");

        let founder = founder_of(&app, &consultant, id).await;
        let view = my_questionnaire(&app, &founder).await;
        let question = first_question(&view);

        // Pages behind log-in send the founder to the log-in page.
        for path in [
            "/engagements".to_owned(),
            format!("/engagements/{id}"),
            format!("/engagements/{other}"),
            format!("/engagements/{id}/questionnaire"),
            "/firm".to_owned(),
            "/account/tokens".to_owned(),
        ] {
            let response = app.get(&founder, &path).await;
            assert!(
                response.status().is_redirection(),
                "GET {path}: {}",
                response.status()
            );
            let location = header(response.headers(), "location").unwrap_or_default();
            assert!(location.starts_with("/login"), "GET {path} → {location}");
        }

        // The members' server functions see no member.
        for (endpoint, args) in [
            (
                "list_engagements",
                vec![("query[include_archived]", "true".to_owned())],
            ),
            ("get_engagement", vec![("engagement_id", id.to_string())]),
            ("get_engagement", vec![("engagement_id", other.to_string())]),
            (
                "questionnaire_summary",
                vec![("engagement_id", id.to_string())],
            ),
            (
                "questionnaire_summary",
                vec![("engagement_id", other.to_string())],
            ),
        ] {
            let args: Vec<(&str, &str)> = args.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let response = app.call_fn(&founder, endpoint, &args).await;
            assert_eq!(
                response.status(),
                StatusCode::UNAUTHORIZED,
                "{endpoint} {args:?}"
            );
            let text = response.text().await.expect("a body");
            assert!(
                !text.contains(CLIENT) && !text.contains(OTHER_CLIENT),
                "{endpoint}: {text}"
            );
        }

        // The REST API wants a bearer token; the founder's cookie is none.
        for path in [
            "/api/v1/engagements".to_owned(),
            format!("/api/v1/engagements/{id}"),
            format!("/api/v1/engagements/{id}/questionnaire"),
        ] {
            let response = founder
                .get(app.url(&path))
                .send()
                .await
                .expect("the API answers");
            assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "GET {path}");
        }

        // Another engagement's file is not found.
        let response = app.get(&founder, &format!("/evidence/{other_file}")).await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
        assert!(!response.text().await.expect("a body").contains("Saltmarsh"));

        // Answers go to the founder's own engagement, whatever the request names.
        let other_text = other.to_string();
        let response = app
            .call_fn(
                &founder,
                "save_answer",
                &[
                    ("engagement_id", other_text.as_str()),
                    ("input[engagement_id]", other_text.as_str()),
                    ("input[question_id]", question.as_str()),
                    ("input[choice]", "yes"),
                    ("input[notes]", ""),
                    ("input[links]", ""),
                    ("input[version]", "0"),
                ],
            )
            .await;
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(json(response).await["outcome"], "saved");
        let choice_field = format!("choice:{question}");
        let version_field = format!("version:{question}");
        let response = post_area(
            &app,
            &founder,
            &[
                ("engagement_id", other_text.as_str()),
                ("area", "observability"),
                (choice_field.as_str(), "no"),
                (version_field.as_str(), "0"),
            ],
        )
        .await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        assert_eq!(
            answers_stored(&app, other).await,
            0,
            "nothing reached the other engagement"
        );
        assert_eq!(
            answers_stored(&app, id).await,
            1,
            "the founder's own engagement got it"
        );
        let other_view = my_questionnaire(&app, &other_founder).await;
        assert!(answer_in(&other_view, &question).is_none());
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_over_a_newer_answer_is_stale_and_shows_that_answer() {
    with_app(|app| async move {
        let (consultant, _, id) = consultant_with_engagement(&app).await;
        let a = founder_of(&app, &consultant, id).await;
        let b = founder_of(&app, &consultant, id).await;
        let view_a = my_questionnaire(&app, &a).await;
        let view_b = my_questionnaire(&app, &b).await;
        let question = first_question(&view_a);
        assert!(answer_in(&view_a, &question).is_none());
        assert!(answer_in(&view_b, &question).is_none());

        let saved = save_ok(&app, &a, &question, "yes", "From A", 0).await;
        assert_eq!(saved["version"], 1);

        let response = save(&app, &b, &question, "no", "From B", 0).await;
        assert_eq!(response.status(), StatusCode::OK);
        let stale = json(response).await;
        assert_eq!(stale["outcome"], "stale", "{stale}");
        assert_eq!(stale["current"]["version"], 1, "{stale}");
        assert_eq!(stale["current"]["choice"], "yes", "{stale}");
        assert_eq!(stale["current"]["notes"], "From A", "{stale}");

        let saved = save_ok(&app, &b, &question, "no", "From B", 1).await;
        assert_eq!(saved["version"], 2);
        assert_eq!(saved["choice"], "no");
        let view = my_questionnaire(&app, &a).await;
        let answer = answer_in(&view, &question).expect("the answer");
        assert_eq!(answer["version"], 2);
        assert_eq!(answer["notes"], "From B");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_javascript_an_area_form_saves_and_a_stale_answer_is_flashed() {
    with_app(|app| async move {
        let (consultant, _, id) = consultant_with_engagement(&app).await;
        let founder = founder_of(&app, &consultant, id).await;
        let question = first_question(&my_questionnaire(&app, &founder).await);
        let choice_field = format!("choice:{question}");
        let version_field = format!("version:{question}");

        let response = post_area(
            &app,
            &founder,
            &[
                ("area", "observability"),
                (choice_field.as_str(), "yes"),
                (version_field.as_str(), "0"),
                ("go", "database"),
            ],
        )
        .await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        assert_eq!(
            header(response.headers(), "location").as_deref(),
            Some("/questionnaire?area=database")
        );
        let view = my_questionnaire(&app, &founder).await;
        let answer = answer_in(&view, &question).expect("the answer is stored");
        assert_eq!(answer["choice"], "yes");
        assert_eq!(answer["version"], 1);
        assert_eq!(view["flash"]["ok"], true, "{}", view["flash"]);
        // The message is shown once.
        assert!(my_questionnaire(&app, &founder).await["flash"].is_null());

        // The same page posted again with a changed choice: someone else's answer is newer.
        let response = post_area(
            &app,
            &founder,
            &[
                ("area", "observability"),
                (choice_field.as_str(), "no"),
                (version_field.as_str(), "0"),
            ],
        )
        .await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        assert_eq!(
            header(response.headers(), "location").as_deref(),
            Some("/questionnaire?area=observability")
        );
        let view = my_questionnaire(&app, &founder).await;
        let answer = answer_in(&view, &question).expect("the answer");
        assert_eq!(answer["choice"], "yes", "not overwritten");
        assert_eq!(answer["version"], 1);
        assert_eq!(view["flash"]["ok"], false, "{}", view["flash"]);
        let flash = view["flash"]["text"].as_str().expect("a flash message");
        assert!(flash.contains("Someone else changed"), "{flash}");

        // Without a session the form leads back to the questionnaire, which asks for the link.
        let response = post_area(
            &app,
            &new_client(),
            &[
                ("area", "observability"),
                (choice_field.as_str(), "no"),
                (version_field.as_str(), "1"),
            ],
        )
        .await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        assert_eq!(answers_stored(&app, id).await, 1);
        let view = my_questionnaire(&app, &founder).await;
        assert_eq!(
            answer_in(&view, &question).expect("the answer")["version"],
            1
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_submitted_questionnaire_tells_the_consultant_and_becomes_read_only() {
    with_app(|app| async move {
        let (consultant, consultant_email, id) = consultant_with_engagement(&app).await;
        let founder = founder_of(&app, &consultant, id).await;
        let question = first_question(&my_questionnaire(&app, &founder).await);
        save_ok(&app, &founder, &question, "partly", "", 0).await;

        let response = app.call_fn(&founder, "submit_questionnaire", &[]).await;
        assert!(
            is_fn_redirect(&response, "/questionnaire"),
            "submitted: {} {:?}",
            response.status(),
            response.text().await
        );
        let mail = app
            .wait_for_mail_to_matching(&consultant_email, |m| {
                m.contains("submitted the questionnaire")
            })
            .await;
        assert!(mail.contains(CLIENT), "{mail}");
        assert!(
            mail.contains(&format!("/engagements/{id}/questionnaire")),
            "{mail}"
        );
        let view = my_questionnaire(&app, &founder).await;
        assert_eq!(view["questionnaire"]["status"], "submitted");

        // The submission put a job on the queue that suggests findings from the answers.
        app.wait_for_jobs().await;
        let firm_id: i64 =
            sqlx::query_scalar("select firm_id from engagements where engagement_id = $1")
                .bind(id)
                .fetch_one(app.db.pool())
                .await
                .expect("the engagement's firm");
        let findings = audit::findings::list_findings(&app.db, firm_id, id)
            .await
            .expect("findings");
        assert_eq!(
            findings.len(),
            1,
            "one finding for the 'partly': {findings:?}"
        );
        assert!(findings[0].evidence.iter().any(|e| e.target == question));

        let refused = save(&app, &founder, &question, "yes", "", 1).await;
        let body = fn_error(refused, StatusCode::CONFLICT, "conflict").await;
        assert!(message(&body).contains("read-only"), "{body}");
        let view = my_questionnaire(&app, &founder).await;
        assert_eq!(
            answer_in(&view, &question).expect("the answer")["choice"],
            "partly"
        );

        let again = app.call_fn(&founder, "submit_questionnaire", &[]).await;
        let body = fn_error(again, StatusCode::CONFLICT, "conflict").await;
        assert!(message(&body).contains("already been submitted"), "{body}");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn evidence_files_are_checked_by_content_and_served_only_as_sandboxed_downloads() {
    with_app(|app| async move {
        let (consultant, _, id) = consultant_with_engagement(&app).await;
        let founder = founder_of(&app, &consultant, id).await;
        let question = first_question(&my_questionnaire(&app, &founder).await);

        let pdf: &[u8] = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n";
        let response = upload(&app, &founder, &question, "runbook.pdf", pdf).await;
        assert_eq!(response.status(), StatusCode::CREATED);
        let file = json(response).await["data"].clone();
        assert_eq!(file["content_type"], "application/pdf", "{file}");
        assert_eq!(file["size_bytes"], pdf.len(), "{file}");
        assert_eq!(file["question_id"], question.as_str(), "{file}");
        let file_id = file["evidence_file_id"].as_i64().expect("the file's id");
        let view = my_questionnaire(&app, &founder).await;
        assert_eq!(
            view["questionnaire"]["files"][0]["evidence_file_id"],
            file_id
        );

        for (who, client) in [("founder", &founder), ("consultant", &consultant)] {
            let response = app.get(client, &format!("/evidence/{file_id}")).await;
            assert_eq!(response.status(), StatusCode::OK, "{who}");
            let headers = response.headers().clone();
            let disposition = header(&headers, "content-disposition").unwrap_or_default();
            assert!(
                disposition.starts_with("attachment"),
                "{who}: {disposition}"
            );
            assert!(disposition.contains("runbook.pdf"), "{who}: {disposition}");
            let policy = header(&headers, "content-security-policy").unwrap_or_default();
            assert!(policy.contains("sandbox"), "{who}: {policy}");
            assert_eq!(
                header(&headers, "content-type").as_deref(),
                Some("application/pdf")
            );
            let bytes = response.bytes().await.expect("the file");
            assert_eq!(bytes.as_ref(), pdf, "{who} gets the same bytes back");
        }

        // Nobody else gets it.
        let stranger = app.sign_up(&unique_email("founders-stranger-")).await;
        let response = app.get(&stranger, &format!("/evidence/{file_id}")).await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
        let response = app
            .get(&new_client(), &format!("/evidence/{file_id}"))
            .await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND);

        // A program is refused, naming what may be attached.
        let mut elf = vec![0x7f, b'E', b'L', b'F', 2, 1, 1, 0];
        elf.extend_from_slice(&[0u8, 0xff, 0x13, 0x37].repeat(64));
        let message = upload_refused(
            upload(&app, &founder, &question, "tool", &elf).await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert!(
            message.contains("PDF") && message.contains("PNG"),
            "{message}"
        );

        // Text that calls itself a picture is refused.
        let message = upload_refused(
            upload(
                &app,
                &founder,
                &question,
                "evil.png",
                b"<script>alert(1)</script>",
            )
            .await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert!(message.contains("evil.png"), "{message}");
        assert!(
            message.contains("PDF") && message.contains("plain-text"),
            "{message}"
        );

        // Too large.
        let big = vec![b'a'; 6 * 1024 * 1024];
        let message = upload_refused(
            upload(&app, &founder, &question, "huge.log", &big).await,
            StatusCode::PAYLOAD_TOO_LARGE,
        )
        .await;
        assert!(message.contains("5 MB"), "{message}");

        // Empty.
        let message = upload_refused(
            upload(&app, &founder, &question, "empty.txt", b"").await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert!(message.contains("empty"), "{message}");

        let stored: i64 =
            sqlx::query_scalar("select count(*) from evidence_files where engagement_id = $1")
                .bind(id)
                .fetch_one(app.db.pool())
                .await
                .expect("a count of files");
        assert_eq!(stored, 1, "only the PDF was kept");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn markdown_notes_come_back_rendered_and_inert() {
    with_app(|app| async move {
        let (consultant, _, id) = consultant_with_engagement(&app).await;
        let founder = founder_of(&app, &consultant, id).await;
        let view = my_questionnaire(&app, &founder).await;
        let questions = question_ids(&view, "observability");

        // Starting with `<script>`, the whole line is an HTML block (CommonMark), so nothing on
        // it is Markdown: the script goes, and the rest is plain, escaped text.
        let notes = "<script>alert(1)</script> **bold** [x](javascript:alert(1))";
        save_ok(&app, &founder, &questions[0], "no", notes, 0).await;
        // After other text the script is inline HTML, and the rest of the line is Markdown.
        let inline = format!("Our alerting: {notes}");
        save_ok(&app, &founder, &questions[1], "no", &inline, 0).await;
        // On a line of its own, the script is a block, and the next paragraph is Markdown.
        let blocks = "<script>alert(1)</script>\n\n**bold** [x](javascript:alert(1))";
        save_ok(&app, &founder, &questions[2], "no", blocks, 0).await;

        let view = my_questionnaire(&app, &founder).await;
        let answer = answer_in(&view, &questions[0]).expect("the answer");
        assert_eq!(answer["notes"], notes, "the notes are kept as typed");
        let html = answer["notes_html"].as_str().expect("notes_html");
        assert!(!html.contains("<script"), "{html}");
        assert!(!html.contains("alert(1)</script>"), "{html}");
        assert!(
            !html.to_lowercase().contains("href=\"javascript:"),
            "{html}"
        );

        for (question, typed) in [(&questions[1], inline.as_str()), (&questions[2], blocks)] {
            let answer = answer_in(&view, question).expect("the answer");
            assert_eq!(answer["notes"], typed, "the notes are kept as typed");
            let html = answer["notes_html"].as_str().expect("notes_html");
            assert!(!html.contains("<script"), "{html}");
            assert!(!html.to_lowercase().contains("javascript:"), "{html}");
            assert!(html.contains("<strong>bold</strong>"), "{html}");
            assert!(html.contains(">x</a>"), "the link text stays: {html}");
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_founder_without_progress_is_reminded_once_with_a_fresh_link() {
    with_app(|app| async move {
        let (consultant, _, id) = consultant_with_engagement(&app).await;
        let email = unique_email("founder-");
        let (_, token) = app
            .invite_founder(&consultant, id, "Ada Founder", &email)
            .await;

        let later = now_ms() + 4 * DAY_MS;
        let sent = audit::questionnaire::send_due_reminders(&app.db, later, 3, &app.address)
            .await
            .expect("the reminder sweep runs");
        assert_eq!(sent, 1);
        let fresh = wait_for_new_link(&app, &email, &[&token]).await;
        let mail = app
            .wait_for_mail_to_matching(&email, |m| m.contains(&fresh))
            .await;
        assert!(mail.contains("reminder"), "{mail}");
        assert!(mail.contains(CLIENT), "{mail}");
        let founder = app.start_founder(&fresh).await;
        my_questionnaire(&app, &founder).await;

        let again = audit::questionnaire::send_due_reminders(&app.db, later, 3, &app.address)
            .await
            .expect("the reminder sweep runs");
        assert_eq!(again, 0, "one reminder per quiet spell");
    })
    .await;
}

#[tokio::test]
async fn a_founder_sees_what_the_consultant_asked_but_not_the_consultants_own_notes() {
    with_app(|app| async move {
        let (consultant, _, id) = consultant_with_engagement(&app).await;
        let (invitation, token) = app
            .invite_founder(&consultant, id, "Ada Founder", &unique_email("founder-"))
            .await;
        let founder = app.start_founder(&token).await;
        let view = my_questionnaire(&app, &founder).await;
        let question = question_ids(&view, "database").remove(0);
        let comment = |body: &'static str, ask: String| {
            let (app, consultant, question) = (&app, &consultant, question.clone());
            async move {
                let response = app
                    .call_fn(
                        consultant,
                        "add_comment",
                        &[
                            ("engagement_id", id.to_string().as_str()),
                            ("form[question_id]", question.as_str()),
                            ("form[body]", body),
                            ("form[ask_founder]", ask.as_str()),
                        ],
                    )
                    .await;
                assert!(response.status().is_success(), "{}", response.status());
            }
        };
        comment(
            "Internal: they seem unsure here.\n\nCheck the logs.",
            String::new(),
        )
        .await;
        comment("Which **ORM** do you use?", invitation.to_string()).await;

        let view = my_questionnaire(&app, &founder).await;
        let comments = view["questionnaire"]["comments"]
            .as_array()
            .expect("comments");
        assert_eq!(comments.len(), 1, "only the clarification: {comments:?}");
        assert_eq!(comments[0]["clarification"], true);
        let html = comments[0]["body_html"].as_str().expect("body_html");
        assert!(html.contains("<strong>ORM</strong>"), "{html}");
    })
    .await;
}
