//! Accounts in the browser: sign-up, log-in and log-out, the session cookie, the log-in rate
//! limit, and joining a firm from an invitation mail.
mod common;

use reqwest::header::{COOKIE, SET_COOKIE};
use reqwest::{Client, Response, StatusCode};
use serde_json::Value;

use common::{
    header, is_fn_redirect, join_token_in, json, new_client, unique_email, with_app, TestApp,
    PASSWORD,
};

const SESSION_COOKIE: &str = "plumbline_session";

/// The `plumbline_session` Set-Cookie header of a response, if it sets one.
fn session_set_cookie(response: &Response) -> Option<String> {
    response
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{SESSION_COOKIE}=")))
        .map(str::to_owned)
}

/// The cookie's value: `plumbline_session=VALUE; HttpOnly; ...` → `VALUE`.
fn cookie_value(set_cookie: &str) -> String {
    set_cookie
        .split(';')
        .next()
        .and_then(|pair| pair.split_once('='))
        .map(|(_, value)| value.to_owned())
        .expect("a name=value pair")
}

/// Who a raw session cookie value belongs to, asked by a client without a cookie store.
async fn who_has(app: &TestApp, session: &str) -> Value {
    let response = Client::new()
        .post(app.url("/fn/who_am_i"))
        .header(reqwest::header::ORIGIN, &app.address)
        .header(COOKIE, format!("{SESSION_COOKIE}={session}"))
        .send()
        .await
        .expect("an answer");
    assert_eq!(response.status(), StatusCode::OK);
    json(response).await
}

async fn who_am_i(app: &TestApp, client: &Client) -> Value {
    let response = app.call_fn(client, "who_am_i", &[]).await;
    assert_eq!(response.status(), StatusCode::OK);
    json(response).await
}

/// Signs up with raw form values; returns the response.
async fn sign_up_with(app: &TestApp, firm: &str, email: &str, password: &str) -> Response {
    app.call_fn(
        &new_client(),
        "sign_up",
        &[
            ("form[firm_name]", firm),
            ("form[display_name]", "Olive Owner"),
            ("form[email]", email),
            ("form[password]", password),
        ],
    )
    .await
}

fn field_names(body: &Value) -> Vec<String> {
    body["fields"]
        .as_array()
        .expect("a list of fields")
        .iter()
        .map(|f| f["field"].as_str().expect("a field name").to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signing_up_logs_the_owner_in() {
    with_app(|app| async move {
        let email = unique_email("owner-");
        let owner = app.sign_up(&email).await;
        let page = app.get(&owner, "/engagements").await;
        assert_eq!(page.status(), StatusCode::OK);
        let html = page.text().await.expect("a page");
        assert!(html.contains("Engagements"), "{html}");

        let me = who_am_i(&app, &owner).await;
        assert_eq!(me["email"], email.as_str());
        assert_eq!(me["role"], "owner");
        assert_eq!(me["firm_name"], format!("Firm of {email}"));
        assert_eq!(who_am_i(&app, &app.client).await, Value::Null);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn anonymous_visitors_are_sent_to_log_in_with_the_way_back() {
    with_app(|app| async move {
        for (path, next) in [
            ("/engagements", "/engagements"),
            ("/engagements/new", "/engagements/new"),
            ("/engagements/12/edit", "/engagements/12/edit"),
            ("/firm", "/firm"),
            ("/firm/outbox", "/firm/outbox"),
            ("/account/tokens", "/account/tokens"),
            (
                "/engagements?q=a b&archived=1",
                "/engagements%3Fq%3Da%2520b%26archived%3D1",
            ),
        ] {
            let response = app.get(&app.client, path).await;
            assert_eq!(response.status(), StatusCode::SEE_OTHER, "{path}");
            assert_eq!(
                header(response.headers(), "location").as_deref(),
                Some(format!("/login?next={next}").as_str()),
                "{path}"
            );
        }
        for public in ["/", "/login", "/signup", "/login?next=/firm"] {
            let response = app.get(&app.client, public).await;
            assert_eq!(response.status(), StatusCode::OK, "{public}");
        }
        // Server functions check for themselves.
        let list = app
            .call_fn(
                &app.client,
                "list_engagements",
                &[("query[include_archived]", "false")],
            )
            .await;
        assert_eq!(list.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(json(list).await["code"], "unauthenticated");

        // After log-in the way back is followed, but only to a path of ours.
        let email = unique_email("owner-");
        app.sign_up(&email).await;
        for (next, to) in [
            ("/engagements/new", "/engagements/new"),
            ("//evil.example/x", "/engagements"),
            ("https://evil.example/", "/engagements"),
            ("/\\evil.example", "/engagements"),
        ] {
            let client = new_client();
            let response = app
                .call_fn(
                    &client,
                    "log_in",
                    &[
                        ("email", email.as_str()),
                        ("password", PASSWORD),
                        ("next", next),
                    ],
                )
                .await;
            assert!(is_fn_redirect(&response, to), "next={next}");
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_password_and_an_unknown_email_get_the_same_answer() {
    with_app(|app| async move {
        let email = unique_email("owner-");
        app.sign_up(&email).await;

        let mut answers = Vec::new();
        for (who, password) in [
            (email.clone(), "not the right password"),
            (unique_email("nobody-"), PASSWORD),
            ("not-an-address".to_owned(), PASSWORD),
        ] {
            let client = new_client();
            let response = app.log_in(&client, &who, password).await;
            assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{who}");
            assert!(
                session_set_cookie(&response).is_none(),
                "no session for {who}"
            );
            let body = json(response).await;
            assert_eq!(body["code"], "unauthenticated");
            assert!(body["fields"].as_array().is_some_and(|f| f.is_empty()));
            answers.push(body["message"].clone());
            assert_eq!(who_am_i(&app, &client).await, Value::Null);
        }
        assert_eq!(answers[0], "Wrong e-mail address or password.");
        assert!(answers.iter().all(|a| *a == answers[0]), "{answers:?}");

        // The right password works, whatever the case of the address.
        let client = new_client();
        let response = app.log_in(&client, &email.to_uppercase(), PASSWORD).await;
        assert!(is_fn_redirect(&response, "/engagements"));
        assert_eq!(who_am_i(&app, &client).await["email"], email.as_str());
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_session_cookie_is_http_only_lax_and_rotates_at_log_in() {
    with_app(|app| async move {
        let email = unique_email("owner-");
        let client = new_client();
        let response = app
            .call_fn(
                &client,
                "sign_up",
                &[
                    ("form[firm_name]", "Rotating Firm"),
                    ("form[display_name]", "Olive Owner"),
                    ("form[email]", email.as_str()),
                    ("form[password]", PASSWORD),
                ],
            )
            .await;
        assert!(is_fn_redirect(&response, "/engagements"));
        let set_cookie = session_set_cookie(&response).expect("a session cookie at sign-up");
        let attributes: Vec<String> = set_cookie
            .split(';')
            .skip(1)
            .map(|a| a.trim().to_lowercase())
            .collect();
        assert!(attributes.contains(&"httponly".to_owned()), "{set_cookie}");
        assert!(
            attributes.contains(&"samesite=lax".to_owned()),
            "{set_cookie}"
        );
        assert!(attributes.contains(&"path=/".to_owned()), "{set_cookie}");
        // Served over plain http here, so not Secure (a Secure cookie would never come back).
        assert!(!attributes.contains(&"secure".to_owned()), "{set_cookie}");
        let first = cookie_value(&set_cookie);
        assert!(first.len() >= 16, "an unguessable id: {first}");
        assert_eq!(who_has(&app, &first).await["email"], email.as_str());

        // Logging in again on the same browser gives a new session id; the old one is dead.
        let response = app.log_in(&client, &email, PASSWORD).await;
        assert!(is_fn_redirect(&response, "/engagements"));
        let set_cookie = session_set_cookie(&response).expect("a session cookie at log-in");
        assert!(
            set_cookie.to_lowercase().contains("httponly"),
            "{set_cookie}"
        );
        assert!(
            set_cookie.to_lowercase().contains("samesite=lax"),
            "{set_cookie}"
        );
        let second = cookie_value(&set_cookie);
        assert_ne!(first, second, "the session id changes at log-in");
        assert_eq!(
            who_has(&app, &first).await,
            Value::Null,
            "the old id is void"
        );
        assert_eq!(who_has(&app, &second).await["email"], email.as_str());
        assert_eq!(who_am_i(&app, &client).await["email"], email.as_str());

        // An id made up by someone else does not log anyone in.
        assert_eq!(who_has(&app, "planted-by-an-attacker").await, Value::Null);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn too_many_failed_log_ins_are_answered_429_with_retry_after() {
    with_app(|app| async move {
        let email = unique_email("owner-");
        app.sign_up(&email).await;
        let client = new_client();
        // login_max_attempts is 5 in tests.
        for attempt in 1..=5 {
            let response = app.log_in(&client, &email, "wrong password!").await;
            assert_eq!(
                response.status(),
                StatusCode::UNAUTHORIZED,
                "attempt {attempt}"
            );
        }
        let limited = app.log_in(&client, &email, "wrong password!").await;
        assert_eq!(limited.status(), StatusCode::TOO_MANY_REQUESTS);
        let retry_after: u64 = header(limited.headers(), "retry-after")
            .expect("a Retry-After header")
            .parse()
            .expect("Retry-After in seconds");
        assert!((1..=15 * 60).contains(&retry_after), "{retry_after}");
        let request_id = header(limited.headers(), "x-request-id");
        let body = json(limited).await;
        assert_eq!(body["code"], "rate_limited");
        assert_eq!(body["request_id"].as_str(), request_id.as_deref());

        // Even the right password waits now, so guessing cannot go on.
        let right = app.log_in(&client, &email, PASSWORD).await;
        assert_eq!(right.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(who_am_i(&app, &client).await, Value::Null);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logging_out_ends_the_session() {
    with_app(|app| async move {
        let email = unique_email("owner-");
        let client = new_client();
        let response = sign_up_with(&app, "Leaving Firm", &email, PASSWORD).await;
        let session = cookie_value(&session_set_cookie(&response).expect("a session cookie"));
        // The client above had no cookie store of its own: log in on a browser-like one.
        let response = app.log_in(&client, &email, PASSWORD).await;
        assert!(is_fn_redirect(&response, "/engagements"));
        let current = cookie_value(&session_set_cookie(&response).expect("a session cookie"));
        assert_eq!(
            app.get(&client, "/engagements").await.status(),
            StatusCode::OK
        );

        let out = app.call_fn(&client, "log_out", &[]).await;
        assert!(is_fn_redirect(&out, "/login"), "log-out sends to /login");
        let cleared = session_set_cookie(&out).expect("the cookie is cleared");
        assert!(cleared.to_lowercase().contains("max-age=0"), "{cleared}");

        let page = app.get(&client, "/engagements").await;
        assert_eq!(page.status(), StatusCode::SEE_OTHER);
        assert_eq!(who_am_i(&app, &client).await, Value::Null);
        // The session is gone on the server too: replaying the old cookie does not help.
        assert_eq!(who_has(&app, &current).await, Value::Null);
        // Log-out ends this browser's session only.
        assert_eq!(who_has(&app, &session).await["email"], email.as_str());
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invitation_mail_holds_a_working_join_link() {
    with_app(|app| async move {
        let owner = app.sign_up(&unique_email("owner-")).await;
        let owner_me = who_am_i(&app, &owner).await;
        let invited = unique_email("consultant-");
        let response = app
            .call_fn(&owner, "invite_member", &[("email", invited.as_str())])
            .await;
        assert_eq!(response.status(), StatusCode::OK);

        let mail = app.wait_for_mail_to(&invited).await;
        let link_start = mail
            .find(&format!("{}/join/", app.address))
            .expect("a link");
        let link: String = mail[link_start..]
            .chars()
            .take_while(|c| !c.is_whitespace())
            .collect();
        let token = join_token_in(&mail);
        assert!(link.ends_with(&token), "{link}");

        // The link opens the join page, which names the firm and the address.
        let path = link
            .strip_prefix(&app.address)
            .expect("a link to this site");
        let page = app.get(&new_client(), path).await;
        assert_eq!(page.status(), StatusCode::OK);
        let html = page.text().await.expect("a page");
        let firm_name = owner_me["firm_name"].as_str().expect("a firm name");
        assert!(html.contains(firm_name), "{html}");
        assert!(html.contains(&invited), "{html}");

        // Joining logs the consultant in, in the owner's firm.
        let (joined, consultant) = app.join(&token).await;
        assert!(is_fn_redirect(&joined, "/engagements"));
        let me = who_am_i(&app, &consultant).await;
        assert_eq!(me["email"], invited.as_str());
        assert_eq!(me["role"], "consultant");
        assert_eq!(me["firm_id"], owner_me["firm_id"]);
        assert_eq!(
            app.get(&consultant, "/engagements").await.status(),
            StatusCode::OK
        );

        // The link works once.
        let (again, _) = app.join(&token).await;
        assert_eq!(again.status(), StatusCode::CONFLICT);
        assert_eq!(json(again).await["code"], "conflict");
        // The consultant logs in with the chosen password.
        let later = new_client();
        let response = app.log_in(&later, &invited, PASSWORD).await;
        assert!(is_fn_redirect(&response, "/engagements"));

        // A made-up token names no invitation.
        let (bogus, _) = app.join("inv_madeup").await;
        assert_eq!(bogus.status(), StatusCode::NOT_FOUND);
        let page = app.get(&app.client, "/join/inv_madeup").await;
        assert_eq!(page.status(), StatusCode::NOT_FOUND);

        // An address that already has an account cannot be invited.
        let response = app
            .call_fn(&owner, "invite_member", &[("email", invited.as_str())])
            .await;
        assert_eq!(response.status(), StatusCode::CONFLICT);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_up_names_the_fields_at_fault_and_refuses_a_taken_address() {
    with_app(|app| async move {
        let response = sign_up_with(&app, "Some Firm", "not-an-address", "short").await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(session_set_cookie(&response).is_none());
        let body = json(response).await;
        assert_eq!(body["code"], "invalid");
        let fields = field_names(&body);
        assert!(fields.contains(&"email".to_owned()), "{body}");
        assert!(fields.contains(&"password".to_owned()), "{body}");
        assert!(!fields.contains(&"firm_name".to_owned()), "{body}");

        let response = sign_up_with(&app, "  ", &unique_email("x-"), PASSWORD).await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(field_names(&json(response).await), ["firm_name"]);

        let email = unique_email("taken-");
        app.sign_up(&email).await;
        for again in [email.clone(), email.to_uppercase()] {
            let response = sign_up_with(&app, "Second Firm", &again, PASSWORD).await;
            assert_eq!(response.status(), StatusCode::CONFLICT, "{again}");
            assert!(session_set_cookie(&response).is_none());
            let body = json(response).await;
            assert_eq!(body["code"], "conflict");
            assert_eq!(field_names(&body), ["email"], "{body}");
        }
        let firms: i64 = sqlx::query_scalar("select count(*) from firms")
            .fetch_one(app.db.pool())
            .await
            .expect("a count");
        assert_eq!(firms, 1, "failed sign-ups leave no firm behind");
    })
    .await;
}
