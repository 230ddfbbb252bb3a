//! Starts Plumbline on a free port against a fresh database (SQLite, or PostgreSQL when
//! `TEST_DATABASE_URL` names a server), with mail written as files into a temporary folder.
//! Every test gets its own application, so tests never depend on each other.
#![allow(dead_code)]

use std::future::Future;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::header::{HeaderMap, ORIGIN};
use reqwest::{Client, Response, StatusCode};
use serde_json::Value;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use audit::db::Db;
use audit::testing::TestDb;
use server::settings::Settings;
use server::startup::{Application, StartError};

/// The password of every account the tests create (long enough for the 12-character rule).
pub const PASSWORD: &str = "correct horse battery staple";

/// How long one page may take (they take milliseconds), and how often a stalled one is retried.
const PAGE_WAIT: Duration = Duration::from_secs(10);
const PAGE_ATTEMPTS: u32 = 3;

/// How long to wait for the in-process worker (it polls every 500 ms) to deliver a message.
const MAIL_WAIT: Duration = Duration::from_secs(10);
/// Jobs include typesetting a report, which in a debug build on a busy 2-core machine (CI
/// builds and tests in parallel) took over 10 s once. A deadline, not a timing.
const JOB_WAIT: Duration = Duration::from_secs(60);

pub struct TestApp {
    /// `http://127.0.0.1:PORT`, also the `Origin` a browser on this site sends.
    pub address: String,
    pub port: u16,
    /// A pool of its own onto the application's database, for looking at rows directly.
    pub db: Db,
    /// Where the file transport writes `.eml` files (`data_dir/outbox`).
    pub mail_dir: PathBuf,
    /// An anonymous client: cookie store on, redirects not followed.
    pub client: Client,
    folder: PathBuf,
    shutdown: Option<oneshot::Sender<()>>,
    server: Option<JoinHandle<Result<(), StartError>>>,
    test_db: Option<TestDb>,
}

pub use audit::testing::unique;

pub use audit::testing::unique_email;

/// A browser-like client: it keeps cookies and does not follow redirects, so tests see them.
pub fn new_client() -> Client {
    Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30))
        .build()
        .expect("an HTTP client")
}

/// Starts the application with a fresh database and temporary data and site folders.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// Like [`spawn_app`], with a chance to change the settings first.
pub async fn spawn_app_with(change: impl FnOnce(&mut Settings)) -> TestApp {
    let test_db = TestDb::new().await.expect("a fresh test database");
    let folder = std::env::temp_dir().join(unique("plumbline-server-test-"));
    let data_dir = folder.join("data");
    let site_root = folder.join("site");
    std::fs::create_dir_all(&data_dir).expect("a temporary data folder");
    std::fs::create_dir_all(&site_root).expect("a temporary site folder");

    let mut settings = Settings {
        addr: "127.0.0.1:0".parse().expect("an address"),
        database_url: test_db.url.clone(),
        data_dir,
        site_root,
        login_max_attempts: 5,
        ..Settings::default()
    };
    change(&mut settings);
    let mail_dir = settings.mail_folder();

    let application = match Application::build(settings).await {
        Ok(application) => application,
        Err(e) => {
            test_db.drop_database().await;
            let _ = std::fs::remove_dir_all(&folder);
            panic!("the application does not start: {e}");
        }
    };
    let port = application.port();
    let (shutdown_tx, shutdown_rx) = oneshot::channel::<()>();
    let server = tokio::spawn(application.run_until_stopped(async move {
        let _ = shutdown_rx.await;
    }));

    TestApp {
        address: format!("http://127.0.0.1:{port}"),
        port,
        db: test_db.db.clone(),
        mail_dir,
        client: new_client(),
        folder,
        shutdown: Some(shutdown_tx),
        server: Some(server),
        test_db: Some(test_db),
    }
}

/// The JSON body of a response (panics, with the text, when it is not JSON).
pub async fn json(response: Response) -> Value {
    let status = response.status();
    let text = response.text().await.expect("a response body");
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("a JSON body ({status}): {e}: {text:?}"))
}

/// The value of a response header as text, if present.
pub fn header(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// The token of the first `/join/<token>` link in a text.
pub fn join_token_in(text: &str) -> String {
    let start = text.find("/join/").expect("a /join/ link in the mail") + "/join/".len();
    text[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect()
}

/// Did a server function answer with leptos' redirect (a header for the JavaScript client)?
pub fn is_fn_redirect(response: &Response, to: &str) -> bool {
    response.status() == StatusCode::OK
        && response.headers().contains_key("serverfnredirect")
        && header(response.headers(), "location").as_deref() == Some(to)
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    /// A GET as a browser of this site sends it, body read in full (the returned response holds
    /// it). A page whose answer stalls is asked for again, loudly: Leptos' streaming SSR now and
    /// then never finishes a response when resources resolve on other threads (upstream, see
    /// leptos-rs/leptos#4647); a page that always stalls still fails here.
    pub async fn get(&self, client: &Client, path: &str) -> Response {
        let url = self.url(path);
        for attempt in 1..=PAGE_ATTEMPTS {
            match tokio::time::timeout(PAGE_WAIT, fetch_whole(client, &url)).await {
                Ok(response) => return response,
                Err(_) => {
                    // Straight to stderr, past the test harness' capture, so it is seen.
                    let _ = writeln!(
                        std::io::stderr(),
                        "WARNING: GET {path} did not finish within {PAGE_WAIT:?} \
                         (attempt {attempt} of {PAGE_ATTEMPTS}); asking again"
                    );
                }
            }
        }
        panic!("GET {path} never finished ({PAGE_ATTEMPTS} attempts of {PAGE_WAIT:?})");
    }

    /// Calls a server function (`POST /fn/<endpoint>`, form-encoded) from this site's origin.
    pub async fn call_fn(
        &self,
        client: &Client,
        endpoint: &str,
        form: &[(&str, &str)],
    ) -> Response {
        client
            .post(self.url(&format!("/fn/{endpoint}")))
            .header(ORIGIN, &self.address)
            .form(form)
            .send()
            .await
            .expect("the server function answers")
    }

    /// Signs up a new firm whose owner is `email`; returns that owner's logged-in client.
    pub async fn sign_up(&self, email: &str) -> Client {
        let client = new_client();
        let firm = format!("Firm of {email}");
        let response = self
            .call_fn(
                &client,
                "sign_up",
                &[
                    ("form[firm_name]", firm.as_str()),
                    ("form[display_name]", "Olive Owner"),
                    ("form[email]", email),
                    ("form[password]", PASSWORD),
                ],
            )
            .await;
        assert!(
            is_fn_redirect(&response, "/engagements"),
            "sign-up of {email} succeeds: {} {:?} {:?}",
            response.status(),
            response.headers().clone(),
            response.text().await
        );
        client
    }

    /// Logs `client` in; returns the server function's response.
    pub async fn log_in(&self, client: &Client, email: &str, password: &str) -> Response {
        self.call_fn(
            client,
            "log_in",
            &[("email", email), ("password", password)],
        )
        .await
    }

    /// Creates an API token named `ci` for the member logged in on `client`.
    pub async fn api_token(&self, client: &Client) -> String {
        let response = self
            .call_fn(client, "create_api_token", &[("name", "ci")])
            .await;
        assert_eq!(response.status(), StatusCode::OK, "an API token is created");
        json(response)
            .await
            .as_str()
            .expect("the token as a JSON string")
            .to_owned()
    }

    /// A request to the REST API with a bearer token (and no cookies).
    pub fn api(&self, method: reqwest::Method, path: &str, token: &str) -> reqwest::RequestBuilder {
        new_client()
            .request(method, self.url(path))
            .bearer_auth(token)
    }

    /// Creates an engagement through the API; returns its JSON (`data`).
    pub async fn create_engagement(&self, token: &str, client_name: &str) -> Value {
        let response = self
            .api(reqwest::Method::POST, "/api/v1/engagements", token)
            .json(&serde_json::json!({
                "client_name": client_name,
                "system_name": "Payments API",
            }))
            .send()
            .await
            .expect("the API answers");
        assert_eq!(response.status(), StatusCode::CREATED);
        json(response).await["data"].clone()
    }

    /// The text of every `.eml` file the worker wrote so far.
    pub fn mail_files(&self) -> Vec<String> {
        mail_files_in(&self.mail_dir)
    }

    /// Waits (up to 10 s) for a mail file addressed to `to`; returns its text.
    pub async fn wait_for_mail_to(&self, to: &str) -> String {
        let started = Instant::now();
        loop {
            if let Some(mail) = self
                .mail_files()
                .into_iter()
                .find(|m| m.contains(&format!("To: {to}")))
            {
                return mail;
            }
            assert!(
                started.elapsed() < MAIL_WAIT,
                "no mail to {to} arrived within {MAIL_WAIT:?}; files: {:?}",
                self.mail_files()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits (up to `JOB_WAIT`) until the worker has no queued or running job left.
    pub async fn wait_for_jobs(&self) {
        let started = Instant::now();
        loop {
            // Jobs due now; a recurring job's next run (an hour away) is not pending work.
            let pending: i64 = sqlx::query_scalar(
                "select count(*) from jobs where status in ('queued', 'running') and run_at <= $1",
            )
            .bind(audit::clock::now_ms())
            .fetch_one(self.db.pool())
            .await
            .expect("a count of pending jobs");
            if pending == 0 {
                return;
            }
            assert!(
                started.elapsed() < JOB_WAIT,
                "{pending} jobs still pending after {JOB_WAIT:?}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The owner on `owner` invites `email`; returns the token from the invitation mail.
    pub async fn invite(&self, owner: &Client, email: &str) -> String {
        let response = self
            .call_fn(owner, "invite_member", &[("email", email)])
            .await;
        assert_eq!(
            response.status(),
            StatusCode::OK,
            "the owner invites {email}"
        );
        join_token_in(&self.wait_for_mail_to(email).await)
    }

    /// Accepts an invitation on a new client; returns the server function's response and client.
    pub async fn join(&self, token: &str) -> (Response, Client) {
        let client = new_client();
        let response = self
            .call_fn(
                &client,
                "join_firm",
                &[
                    ("token", token),
                    ("form[display_name]", "Connie Consultant"),
                    ("form[password]", PASSWORD),
                ],
            )
            .await;
        (response, client)
    }

    /// A consultant of the owner's firm (invited by mail, invitation accepted), logged in.
    pub async fn consultant(&self, owner: &Client) -> Client {
        let email = unique_email("consultant-");
        let token = self.invite(owner, &email).await;
        let (response, client) = self.join(&token).await;
        assert!(
            is_fn_redirect(&response, "/engagements"),
            "the invitation is accepted: {}",
            response.status()
        );
        client
    }

    /// Stops the server (finishing in-flight requests) and removes the database and folders.
    pub async fn stop(self) {
        if let Err(e) = self.shutdown().await {
            panic!("{e}");
        }
    }

    async fn shutdown(mut self) -> Result<(), String> {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        let stopped = match self.server.take() {
            None => Ok(()),
            Some(server) => match tokio::time::timeout(Duration::from_secs(15), server).await {
                Ok(Ok(Ok(()))) => Ok(()),
                Ok(Ok(Err(e))) => Err(format!("the server stopped with an error: {e}")),
                Ok(Err(e)) => Err(format!("the server task failed: {e}")),
                Err(_) => Err("the server did not stop within 15 s".to_owned()),
            },
        };
        self.db.close().await;
        if let Some(test_db) = self.test_db.take() {
            test_db.drop_database().await;
        }
        let _ = std::fs::remove_dir_all(&self.folder);
        stopped
    }
}

/// A test that panicked never reaches `stop`: the server task ends with it, and the folders go.
/// (The database is removed by [`with_app`], which outlives the test body.)
impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(server) = self.server.take() {
            server.abort();
        }
        let _ = std::fs::remove_dir_all(&self.folder);
    }
}

/// Runs `body` against a fresh application and stops it afterwards, removing its database also
/// when the body panics (the panic is then passed on, so the test fails with its own message).
pub async fn with_app<F, Fut>(body: F)
where
    F: FnOnce(Arc<TestApp>) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    with_app_settings(|_| {}, body).await
}

/// [`with_app`] with changed settings.
pub async fn with_app_settings<F, Fut>(change: impl FnOnce(&mut Settings), body: F)
where
    F: FnOnce(Arc<TestApp>) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let app = Arc::new(spawn_app_with(change).await);
    let outcome = tokio::spawn(body(app.clone())).await;
    let stopped = match Arc::try_unwrap(app) {
        Ok(app) => app.shutdown().await,
        Err(_) => Err("the test body kept a handle on the application".to_owned()),
    };
    if let Err(error) = outcome {
        match error.try_into_panic() {
            Ok(panic) => std::panic::resume_unwind(panic),
            Err(error) => panic!("test body did not finish: {error}"),
        }
    }
    if let Err(e) = stopped {
        panic!("{e}");
    }
}

/// Sends a GET and reads the whole body; the response is rebuilt around the bytes read.
async fn fetch_whole(client: &Client, url: &str) -> Response {
    let response = client
        .get(url)
        .send()
        .await
        .expect("the GET request is answered");
    let status = response.status();
    let version = response.version();
    let headers = response.headers().clone();
    let body = response.bytes().await.expect("the whole body");
    let mut whole = http::Response::new(body);
    *whole.status_mut() = status;
    *whole.version_mut() = version;
    *whole.headers_mut() = headers;
    Response::from(whole)
}

fn mail_files_in(folder: &Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(folder) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "eml"))
        .collect();
    files.sort();
    files
        .iter()
        .filter_map(|p| std::fs::read_to_string(p).ok())
        .collect()
}

/// The token of the first `/invite/<token>` link (a founder's invitation) in a text.
pub fn founder_token_in(text: &str) -> String {
    let start = text.find("/invite/").expect("an /invite/ link in the mail") + "/invite/".len();
    text[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect()
}

impl TestApp {
    /// The text of every mail file addressed to `to` so far.
    pub fn mails_to(&self, to: &str) -> Vec<String> {
        let header = format!("To: {to}");
        self.mail_files()
            .into_iter()
            .filter(|m| m.contains(&header))
            .collect()
    }

    /// Waits (up to 10 s) for a mail to `to` for which `wanted` holds; returns its text.
    pub async fn wait_for_mail_to_matching(
        &self,
        to: &str,
        wanted: impl Fn(&str) -> bool,
    ) -> String {
        let started = Instant::now();
        loop {
            if let Some(mail) = self.mails_to(to).into_iter().find(|m| wanted(m)) {
                return mail;
            }
            assert!(
                started.elapsed() < MAIL_WAIT,
                "no such mail to {to} arrived within {MAIL_WAIT:?}; mails to {to}: {:?}",
                self.mails_to(to)
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The member on `consultant` invites a founder to an engagement (`/fn/invite_founder`);
    /// returns the invitation's id and the token of the link in the invitation mail.
    pub async fn invite_founder(
        &self,
        consultant: &Client,
        engagement_id: i64,
        name: &str,
        email: &str,
    ) -> (i64, String) {
        let response = self
            .call_fn(
                consultant,
                "invite_founder",
                &[
                    ("engagement_id", engagement_id.to_string().as_str()),
                    ("form[name]", name),
                    ("form[email]", email),
                ],
            )
            .await;
        assert_eq!(response.status(), StatusCode::OK, "{email} is invited");
        let invitation_id = json(response)
            .await
            .as_i64()
            .expect("the new invitation's id");
        let token = founder_token_in(&self.wait_for_mail_to(email).await);
        (invitation_id, token)
    }

    /// Opens a founder's link in a browser of its own and starts the questionnaire; returns that
    /// browser, now in a founder session.
    pub async fn start_founder(&self, token: &str) -> Client {
        let client = new_client();
        let response = self
            .call_fn(&client, "start_questionnaire", &[("token", token)])
            .await;
        assert!(
            is_fn_redirect(&response, "/questionnaire"),
            "the founder's link starts the questionnaire: {} {:?}",
            response.status(),
            response.text().await
        );
        client
    }
}

/// The questions of one area in a questionnaire as the server functions return it (under
/// `questionnaire.bank`), in bank order.
pub fn area_questions<'a>(view: &'a Value, area: &str) -> &'a [Value] {
    view["questionnaire"]["bank"]["areas"]
        .as_array()
        .expect("areas")
        .iter()
        .find(|a| a["area"] == area)
        .expect("the area")["questions"]
        .as_array()
        .expect("questions")
}

/// Asserts the API's one error body (JSON, a code, a message, a field key) and that its request
/// id is the response's `x-request-id`; returns the whole body.
pub async fn api_error_body(response: Response, status: StatusCode, code: &str) -> Value {
    assert_eq!(response.status(), status);
    let content_type = header(response.headers(), "content-type").unwrap_or_default();
    assert!(
        content_type.starts_with("application/json"),
        "{status} {code}: content-type {content_type:?}"
    );
    let request_id = header(response.headers(), "x-request-id").expect("an x-request-id");
    let body = json(response).await;
    let error = &body["error"];
    assert_eq!(error["code"], code, "{body}");
    assert!(
        error["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{body}"
    );
    assert!(
        error.as_object().expect("an object").contains_key("field"),
        "{body}"
    );
    assert_eq!(
        error["request_id"].as_str(),
        Some(request_id.as_str()),
        "{body}"
    );
    body
}

impl TestApp {
    /// An API token of the owner of a fresh firm.
    pub async fn fresh_firm_token(&self) -> String {
        let owner = self.sign_up(&unique_email("owner-")).await;
        self.api_token(&owner).await
    }
}
