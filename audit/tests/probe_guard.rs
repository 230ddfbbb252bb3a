//! The outbound guard and the guarded HTTP client: every blocked range and host-name form is
//! refused, the allow-list opens only what it names, and the client connects only to checked
//! addresses, re-checking each redirect hop. Network use is limited to loopback.
#![allow(clippy::unwrap_used)]

use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use audit::probes::fetch::{FetchError, FetchLimits, FetchRequest, Fetcher, USER_AGENT};
use audit::probes::guard::Guard;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use axum::Router;
use url::Url;

fn ip(text: &str) -> IpAddr {
    text.parse().unwrap()
}

fn loopback_guard() -> Guard {
    Guard::new(Guard::parse_allow_list("127.0.0.0/8").unwrap())
}

// ---------------------------------------------------------------------------------------------
// Addresses

#[test]
fn every_blocked_range_is_refused_and_named() {
    let cases = [
        ("0.1.2.3", "0.0.0.0/8"),
        ("10.0.0.1", "10.0.0.0/8"),
        ("100.64.0.1", "100.64.0.0/10"),
        ("100.100.100.200", "100.64.0.0/10"),
        ("127.0.0.1", "127.0.0.0/8"),
        ("127.255.255.254", "127.0.0.0/8"),
        ("169.254.169.254", "169.254.0.0/16"),
        ("169.254.170.2", "169.254.0.0/16"),
        ("172.16.0.1", "172.16.0.0/12"),
        ("172.31.255.255", "172.16.0.0/12"),
        ("192.0.0.8", "192.0.0.0/24"),
        ("192.0.2.1", "192.0.2.0/24"),
        ("192.168.1.1", "192.168.0.0/16"),
        ("198.18.0.1", "198.18.0.0/15"),
        ("198.19.255.1", "198.18.0.0/15"),
        ("198.51.100.7", "198.51.100.0/24"),
        ("203.0.113.9", "203.0.113.0/24"),
        ("224.0.0.1", "224.0.0.0/4"),
        ("239.255.255.250", "224.0.0.0/4"),
        ("240.0.0.1", "240.0.0.0/4"),
        ("255.255.255.255", "240.0.0.0/4"),
        ("168.63.129.16", "168.63.129.16/32"),
        ("::", "::/128"),
        ("::1", "::1/128"),
        ("fc00::1", "fc00::/7"),
        ("fd00:ec2::254", "fc00::/7"),
        ("fe80::1", "fe80::/10"),
        ("ff02::1", "ff00::/8"),
        ("2001:db8::1", "2001:db8::/32"),
        ("64:ff9b::a9fe:a9fe", "64:ff9b::/96"),
        ("64:ff9b:1::1", "64:ff9b:1::/48"),
        ("2002:7f00:1::1", "2002::/16"),
        ("2001:0:4136:e378:8000:63bf:3fff:fdd2", "2001::/32"),
        // IPv4-mapped and IPv4-compatible forms are checked as the IPv4 address they carry.
        ("::ffff:127.0.0.1", "127.0.0.0/8"),
        ("::ffff:169.254.169.254", "169.254.0.0/16"),
        ("::ffff:10.0.0.1", "10.0.0.0/8"),
        ("::127.0.0.1", "127.0.0.0/8"),
        ("::10.1.2.3", "10.0.0.0/8"),
        // Outside the IPv6 global unicast space.
        ("100::1", "2000::/3"),
        ("4000::1", "2000::/3"),
    ];
    let guard = Guard::default();
    for (address, range) in cases {
        let refusal = guard
            .check_ip(ip(address))
            .expect_err(&format!("{address} must be refused"));
        assert!(
            refusal.0.contains(range),
            "{address}: refusal {:?} should name {range}",
            refusal.0
        );
    }
}

#[test]
fn refusals_say_why() {
    let guard = Guard::default();
    let refusal = guard.check_ip(ip("169.254.169.254")).unwrap_err();
    assert!(
        refusal
            .0
            .starts_with("169.254.169.254 is in 169.254.0.0/16 (link-local, cloud metadata"),
        "{refusal}"
    );
    let refusal = guard.check_ip(ip("::ffff:127.0.0.1")).unwrap_err();
    assert!(
        refusal.0.contains("IPv4 127.0.0.1") && refusal.0.contains("loopback"),
        "{refusal}"
    );
}

#[test]
fn public_addresses_are_allowed() {
    let guard = Guard::default();
    for address in [
        "93.184.215.14",
        "1.1.1.1",
        "8.8.8.8",
        "100.63.255.255",  // just below the shared range
        "100.128.0.1",     // just above it
        "172.32.0.1",      // just above 172.16/12
        "168.63.129.17",   // next to the Azure endpoint
        "2606:4700::1111", // Cloudflare
        "2a00:1450:4001::200e",
        "::ffff:93.184.215.14",
    ] {
        assert_eq!(guard.check_ip(ip(address)), Ok(()), "{address}");
    }
}

// ---------------------------------------------------------------------------------------------
// URLs and names

#[test]
fn url_encodings_and_local_names_are_refused() {
    let guard = Guard::default();
    let schemes = ["http", "https"];
    let cases = [
        ("http://2130706433/", "127.0.0.0/8"),
        ("http://0x7f000001/", "127.0.0.0/8"),
        ("http://0x7f.1/", "127.0.0.0/8"),
        ("http://0177.0.0.1/", "127.0.0.0/8"),
        ("http://127.1/", "127.0.0.0/8"),
        ("http://127.0.0.1./", "127.0.0.0/8"),
        ("http://0xa9fea9fe/", "169.254.0.0/16"),
        ("http://2852039166/", "169.254.0.0/16"),
        ("http://[::ffff:127.0.0.1]/", "127.0.0.0/8"),
        ("http://[::ffff:7f00:1]/", "127.0.0.0/8"),
        ("http://[::1]/", "::1/128"),
        ("http://169.254.169.254/latest/meta-data/", "169.254.0.0/16"),
        ("http://[fd00:ec2::254]/", "fc00::/7"),
        ("http://100.100.100.200/", "100.64.0.0/10"),
        ("http://metadata.google.internal/", "metadata"),
        ("http://metadata.google.internal./", "metadata"),
        ("http://METADATA.Google.Internal/", "metadata"),
        ("http://db.internal/", "internal"),
        ("http://localhost/", "loopback name"),
        ("http://localhost./", "loopback name"),
        ("http://foo.localhost/", "loopback name"),
        ("http://printer.local/", "local-network"),
        ("http://api.default.svc.cluster.local/", "local-network"),
        ("http://api.default.svc/", "Kubernetes"),
        ("http://redis/", "single-label"),
        ("http://user:pw@example.com/", "user name or password"),
        ("http://user@example.com/", "user name or password"),
        ("ftp://example.com/", "scheme \"ftp\""),
        ("file:///etc/passwd", "scheme \"file\""),
        ("gopher://x/", "scheme \"gopher\""),
        ("not a url", "not a valid URL"),
        ("http:///", "not a valid URL"),
    ];
    for (url, expected) in cases {
        let refusal = guard
            .check_url(url, &schemes)
            .expect_err(&format!("{url} must be refused"));
        assert!(
            refusal.0.contains(expected),
            "{url}: refusal {:?} should mention {expected:?}",
            refusal.0
        );
    }
}

#[test]
fn numeric_hosts_of_other_schemes_are_read_as_addresses() {
    // The WHATWG parser keeps `postgres://2130706433` as a name; the guard reads it as the
    // resolver would.
    let refusal = Guard::default()
        .check_url("postgres://2130706433:5432/db", &["postgres"])
        .unwrap_err();
    assert!(refusal.0.contains("127.0.0.0/8"), "{refusal}");
}

#[test]
fn ordinary_urls_pass() {
    let guard = Guard::default();
    let url = guard
        .check_url("https://Example.com/path?q=1#frag", &["https"])
        .unwrap();
    assert_eq!(url.host_str(), Some("example.com"));
    assert!(guard
        .check_url("https://93.184.215.14/", &["https"])
        .is_ok());
    assert!(guard
        .check_url("https://[2606:4700::1111]/", &["https"])
        .is_ok());
    // The scheme list is the caller's.
    assert!(guard.check_url("http://example.com/", &["https"]).is_err());
}

#[tokio::test]
async fn resolve_refuses_literals_and_local_names_without_an_allow_list() {
    let guard = Guard::default();
    assert!(guard.resolve("127.0.0.1", 80).await.is_err());
    assert!(guard.resolve("[::1]", 80).await.is_err());
    assert!(guard.resolve("2130706433", 80).await.is_err());
    assert!(guard.resolve("169.254.169.254", 80).await.is_err());
    let refusal = guard.resolve("localhost", 80).await.unwrap_err();
    assert!(refusal.0.contains("loopback name"), "{refusal}");
    let refusal = guard
        .connect("localhost", 80, Duration::from_secs(1))
        .await
        .unwrap_err();
    assert!(refusal.0.contains("loopback name"), "{refusal}");
    assert_eq!(
        guard.resolve("93.184.215.14", 443).await.unwrap(),
        vec!["93.184.215.14:443".parse::<SocketAddr>().unwrap()]
    );
}

// ---------------------------------------------------------------------------------------------
// The allow-list

#[test]
fn allow_list_parsing() {
    let nets = Guard::parse_allow_list("127.0.0.0/8, ::1\n10.1.2.3  fd00::/8,,").unwrap();
    let shown: Vec<String> = nets.iter().map(ToString::to_string).collect();
    assert_eq!(shown, ["127.0.0.0/8", "::1/128", "10.1.2.3/32", "fd00::/8"]);
    // Host bits are dropped: the range meant is the one named.
    let nets = Guard::parse_allow_list("10.1.2.3/16").unwrap();
    assert_eq!(nets[0].to_string(), "10.1.0.0/16");
    assert!(Guard::parse_allow_list("").unwrap().is_empty());
    let error = Guard::parse_allow_list("127.0.0.0/8, 10.0.0.0/33").unwrap_err();
    assert!(error.contains("10.0.0.0/33"), "{error}");
    let error = Guard::parse_allow_list("127.0.0.1, intranet").unwrap_err();
    assert!(error.contains("intranet"), "{error}");
}

#[tokio::test]
async fn allow_list_opens_only_what_it_names() {
    let guard = loopback_guard();
    assert_eq!(guard.check_ip(ip("127.0.0.1")), Ok(()));
    assert_eq!(guard.check_ip(ip("127.3.2.1")), Ok(()));
    assert_eq!(guard.check_ip(ip("::ffff:127.0.0.1")), Ok(()));
    assert!(guard.check_url("http://127.0.0.1:8080/", &["http"]).is_ok());
    assert!(guard
        .check_url("http://2130706433:8080/", &["http"])
        .is_ok());
    // Everything else stays refused.
    assert!(guard.check_ip(ip("10.0.0.1")).is_err());
    assert!(guard.check_ip(ip("169.254.169.254")).is_err());
    assert!(guard.check_ip(ip("::1")).is_err());
    assert!(guard.check_url("http://10.0.0.1/", &["http"]).is_err());
    assert!(guard
        .check_url("http://169.254.169.254/", &["http"])
        .is_err());
    assert!(guard.check_url("http://[::1]:8080/", &["http"]).is_err());
    assert!(guard
        .check_url("http://user@127.0.0.1/", &["http"])
        .is_err());

    // A local-only name passes only if every address it resolves to is allow-listed. Whether
    // `localhost` also resolves to ::1 depends on the machine, so allow both loopbacks here.
    let both = Guard::new(Guard::parse_allow_list("127.0.0.0/8, ::1").unwrap());
    let addrs = both.resolve("localhost", 8080).await.unwrap();
    assert!(!addrs.is_empty());
    assert!(addrs
        .iter()
        .all(|a| a.ip().is_loopback() && a.port() == 8080));
    assert!(both.check_url("http://localhost:8080/", &["http"]).is_ok());
    // With an allow-list that does not cover loopback, `localhost` stays refused: a local-only
    // name needs every one of its addresses allow-listed (resolved from /etc/hosts, no network).
    let elsewhere = Guard::new(Guard::parse_allow_list("10.20.0.0/16").unwrap());
    let refusal = elsewhere.resolve("localhost", 80).await.unwrap_err();
    assert!(refusal.0.contains("not allow-listed"), "{refusal}");
    // `with_allowed` adds a firm's ranges on top.
    let firm = guard.with_allowed(&Guard::parse_allow_list("10.20.0.0/16").unwrap());
    assert_eq!(firm.check_ip(ip("10.20.1.1")), Ok(()));
    assert!(firm.check_ip(ip("10.21.1.1")).is_err());
}

// ---------------------------------------------------------------------------------------------
// The guarded client against a loopback server

#[derive(Clone)]
struct Seen {
    requests: Arc<AtomicUsize>,
    port: u16,
}

async fn count(
    State(seen): State<Seen>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    seen.requests.fetch_add(1, Ordering::SeqCst);
    next.run(request).await
}

async fn hello() -> impl IntoResponse {
    ([("x-test", "yes")], "hello")
}

async fn echo(headers: HeaderMap, method: Method) -> String {
    let get = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("absent")
            .to_owned()
    };
    format!(
        "method={method} host={} ua={} authorization={}",
        get("host"),
        get("user-agent"),
        get("authorization")
    )
}

async fn redirect(Path(n): Path<u32>) -> Response {
    if n == 0 {
        return "done".into_response();
    }
    (
        StatusCode::FOUND,
        [("location", format!("/redirect/{}", n - 1))],
    )
        .into_response()
}

async fn redirect_to(State(seen): State<Seen>, Path(target): Path<String>) -> Response {
    let location = match target.as_str() {
        "metadata" => "http://169.254.169.254/latest/meta-data/".to_owned(),
        "private" => "http://10.0.0.1/".to_owned(),
        "v6-loopback" => format!("http://[::1]:{}/", seen.port),
        "other-origin" => format!("http://localhost:{}/echo", seen.port),
        _ => "/".to_owned(),
    };
    (StatusCode::FOUND, [("location", location)]).into_response()
}

async fn see_other() -> Response {
    (StatusCode::SEE_OTHER, [("location", "/echo")]).into_response()
}

async fn peer(ConnectInfo(peer): ConnectInfo<SocketAddr>) -> String {
    peer.port().to_string()
}

async fn slow() -> &'static str {
    tokio::time::sleep(Duration::from_secs(5)).await;
    "late"
}

/// Starts the fixture server on 127.0.0.1 and returns its port and request counter.
async fn spawn_server() -> Seen {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let seen = Seen {
        requests: Arc::new(AtomicUsize::new(0)),
        port: listener.local_addr().unwrap().port(),
    };
    let app = Router::new()
        .route("/", get(hello))
        .route("/echo", any(echo))
        .route("/big", get(|| async { "a".repeat(10_000) }))
        .route("/redirect/{n}", get(redirect))
        .route("/to/{target}", get(redirect_to))
        .route("/see-other", any(see_other))
        .route("/peer", get(peer))
        .route("/slow", get(slow))
        .layer(axum::middleware::from_fn_with_state(seen.clone(), count))
        .with_state(seen.clone());
    tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
        .unwrap();
    });
    seen
}

fn fetcher(guard: Guard) -> Fetcher {
    Fetcher::new(
        Arc::new(guard),
        FetchLimits {
            connect_timeout: Duration::from_secs(2),
            total_timeout: Duration::from_secs(5),
            max_body_bytes: 1024,
            max_redirects: 3,
        },
    )
}

fn at(seen: &Seen, path: &str) -> Url {
    Url::parse(&format!("http://127.0.0.1:{}{path}", seen.port)).unwrap()
}

#[tokio::test]
async fn get_returns_status_headers_and_body() {
    let seen = spawn_server().await;
    let client = fetcher(loopback_guard());
    let response = client
        .fetch(FetchRequest::get(at(&seen, "/")))
        .await
        .unwrap();
    assert_eq!(response.status, 200);
    assert_eq!(response.headers.get("x-test").unwrap(), "yes");
    assert_eq!(response.body, b"hello");
    assert!(!response.body_truncated);
    assert!(response.redirects.is_empty());
    assert!(response.tls.is_none());
    assert!(response.timing.connect.is_some());
    assert!(!response.timing.reused_connection);
    assert!(response.timing.total >= response.timing.ttfb);

    // The Host header comes from the URL, and we say who we are unless told otherwise.
    let response = client
        .fetch(FetchRequest::get(at(&seen, "/echo")).header("Host", "evil.example"))
        .await
        .unwrap();
    let text = String::from_utf8(response.body).unwrap();
    assert!(
        text.contains(&format!("host=127.0.0.1:{}", seen.port)),
        "{text}"
    );
    assert!(text.contains(&format!("ua={USER_AGENT}")), "{text}");
    let response = client
        .fetch(FetchRequest::get(at(&seen, "/echo")).header("User-Agent", "custom/1"))
        .await
        .unwrap();
    assert!(String::from_utf8(response.body)
        .unwrap()
        .contains("ua=custom/1"));
}

#[tokio::test]
async fn the_body_is_capped() {
    let seen = spawn_server().await;
    let response = fetcher(loopback_guard())
        .fetch(FetchRequest::get(at(&seen, "/big")))
        .await
        .unwrap();
    assert_eq!(response.status, 200);
    assert_eq!(response.body.len(), 1024);
    assert!(response.body_truncated);
}

#[tokio::test]
async fn redirects_are_followed_listed_and_limited() {
    let seen = spawn_server().await;
    let client = fetcher(loopback_guard());
    let response = client
        .fetch(FetchRequest::get(at(&seen, "/redirect/3")))
        .await
        .unwrap();
    assert_eq!(response.status, 200);
    assert_eq!(response.body, b"done");
    assert_eq!(response.url, at(&seen, "/redirect/0"));
    assert_eq!(
        response.redirects,
        vec![
            (302, "/redirect/2".to_owned()),
            (302, "/redirect/1".to_owned()),
            (302, "/redirect/0".to_owned()),
        ]
    );

    let error = client
        .fetch(FetchRequest::get(at(&seen, "/redirect/4")))
        .await
        .unwrap_err();
    assert_eq!(error, FetchError::TooManyRedirects(3));

    // Not following: the redirect itself is the answer.
    let mut request = FetchRequest::get(at(&seen, "/redirect/2"));
    request.follow_redirects = false;
    let response = client.fetch(request).await.unwrap();
    assert_eq!(response.status, 302);
    assert_eq!(response.headers.get("location").unwrap(), "/redirect/1");
}

#[tokio::test]
async fn each_redirect_hop_is_checked_again() {
    let seen = spawn_server().await;
    let client = fetcher(loopback_guard());
    for (target, range) in [
        ("metadata", "169.254.0.0/16"),
        ("private", "10.0.0.0/8"),
        ("v6-loopback", "::1/128"),
    ] {
        let before = seen.requests.load(Ordering::SeqCst);
        let error = client
            .fetch(FetchRequest::get(at(&seen, &format!("/to/{target}"))))
            .await
            .unwrap_err();
        match error {
            FetchError::Refused(why) => {
                assert!(
                    why.starts_with("redirect (302) to http://"),
                    "{target}: {why}"
                );
                assert!(why.contains(range), "{target}: {why}");
            }
            other => panic!("{target}: expected a refusal, got {other:?}"),
        }
        // Only the first hop reached our server.
        assert_eq!(seen.requests.load(Ordering::SeqCst), before + 1);
    }
}

#[tokio::test]
async fn see_other_turns_into_get_and_credentials_stay_with_their_origin() {
    let seen = spawn_server().await;
    let client = fetcher(Guard::new(
        Guard::parse_allow_list("127.0.0.0/8, ::1").unwrap(),
    ));
    let mut request =
        FetchRequest::get(at(&seen, "/see-other")).header("Authorization", "Bearer t");
    request.method = Method::POST;
    request.body = Some(b"{}".to_vec());
    let response = client.fetch(request).await.unwrap();
    let text = String::from_utf8(response.body).unwrap();
    assert!(text.contains("method=GET"), "{text}");
    assert!(
        text.contains("authorization=Bearer t"),
        "same origin keeps it: {text}"
    );

    let response = client
        .fetch(FetchRequest::get(at(&seen, "/to/other-origin")).header("Authorization", "Bearer t"))
        .await
        .unwrap();
    let text = String::from_utf8(response.body).unwrap();
    assert!(text.contains("authorization=absent"), "{text}");
}

#[tokio::test]
async fn a_slow_answer_hits_the_total_timeout() {
    let seen = spawn_server().await;
    let client = Fetcher::new(
        Arc::new(loopback_guard()),
        FetchLimits {
            total_timeout: Duration::from_millis(300),
            ..FetchLimits::default()
        },
    );
    let started = std::time::Instant::now();
    let error = client
        .fetch(FetchRequest::get(at(&seen, "/slow")))
        .await
        .unwrap_err();
    assert_eq!(error, FetchError::Timeout(Duration::from_millis(300)));
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[tokio::test]
async fn kept_alive_connections_are_reused() {
    let seen = spawn_server().await;
    let client = fetcher(loopback_guard());
    let first = client
        .fetch(FetchRequest::get(at(&seen, "/peer")))
        .await
        .unwrap();
    let second = client
        .clone()
        .fetch(FetchRequest::get(at(&seen, "/peer")))
        .await
        .unwrap();
    assert!(!first.timing.reused_connection);
    assert!(first.timing.connect.is_some());
    assert!(second.timing.reused_connection);
    assert!(second.timing.connect.is_none());
    // The server saw both requests come from the same client port: one connection.
    assert_eq!(first.body, second.body);

    // Several in flight at once from clones of one fetcher.
    let mut tasks = Vec::new();
    for _ in 0..5 {
        let client = client.clone();
        let url = at(&seen, "/");
        tasks.push(tokio::spawn(async move {
            client.fetch(FetchRequest::get(url)).await
        }));
    }
    for task in tasks {
        assert_eq!(task.await.unwrap().unwrap().status, 200);
    }
}

#[tokio::test]
async fn without_the_allow_list_loopback_is_refused_before_connecting() {
    let seen = spawn_server().await;
    let client = fetcher(Guard::default());
    for url in [
        at(&seen, "/"),
        Url::parse(&format!("http://localhost:{}/", seen.port)).unwrap(),
        Url::parse(&format!("http://2130706433:{}/", seen.port)).unwrap(),
    ] {
        let error = client
            .fetch(FetchRequest::get(url.clone()))
            .await
            .unwrap_err();
        assert!(matches!(error, FetchError::Refused(_)), "{url}: {error:?}");
    }
    assert_eq!(seen.requests.load(Ordering::SeqCst), 0);
}

// ---------------------------------------------------------------------------------------------
// TLS: a self-signed certificate that expired on 2021-01-01 (made with openssl for this test).

const EXPIRED_CERT: &str = "-----BEGIN CERTIFICATE-----
MIIBUzCB+qADAgECAgEBMAoGCCqGSM49BAMCMBQxEjAQBgNVBAMMCWxvY2FsaG9z
dDAeFw0yMDAxMDEwMDAwMDBaFw0yMTAxMDEwMDAwMDBaMBQxEjAQBgNVBAMMCWxv
Y2FsaG9zdDBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABO3UEF7Ph+ocwT5oGwB1
EmozTiU3ERnz8CHFcqBRgyTQHFjMIG9srfQonGnWjgj4JFSwDPh9LcxerODpu7ES
A7qjPTA7MBoGA1UdEQQTMBGCCWxvY2FsaG9zdIcEfwAAATAdBgNVHQ4EFgQU1fZj
7jqcJhr4B6niBTxqqy6x1oMwCgYIKoZIzj0EAwIDSAAwRQIhAL4wMbFt7hAkzzlP
tpcsWay60yYmZqLV8VzpySprBcZZAiAyEAHKHXxLcDNMWevt8QFQa177mRPqn8hk
hU3/KY6rtw==
-----END CERTIFICATE-----
";

const EXPIRED_KEY: &str = "-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQglqVbpB2xX5roKNmK
wvWsRcbdqD/PNvVbb/rvHdJ8GEehRANCAATt1BBez4fqHME+aBsAdRJqM04lNxEZ
8/AhxXKgUYMk0BxYzCBvbK30KJxp1o4I+CRUsAz4fS3MXqzg6buxEgO6
-----END PRIVATE KEY-----
";

/// 2021-01-01T00:00:00Z, the certificate's notAfter.
const EXPIRED_NOT_AFTER: i64 = 1_609_459_200;

/// A one-request-per-connection HTTPS server that reports whether it got an Authorization
/// header.
async fn spawn_tls_server() -> u16 {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let cert = CertificateDer::from_pem_slice(EXPIRED_CERT.as_bytes()).unwrap();
    let key = PrivateKeyDer::from_pem_slice(EXPIRED_KEY.as_bytes()).unwrap();
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(vec![cert], key)
    .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        loop {
            let (tcp, _) = listener.accept().await.unwrap();
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let mut head = Vec::new();
                let mut buf = [0u8; 1024];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    match tls.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => head.extend_from_slice(&buf[..n]),
                    }
                }
                let head = String::from_utf8_lossy(&head).to_ascii_lowercase();
                let body = if head.contains("\r\nauthorization:") {
                    "authorization=present"
                } else {
                    "authorization=absent"
                };
                let response = format!(
                    "HTTP/1.1 200 OK\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = tls.write_all(response.as_bytes()).await;
                let _ = tls.shutdown().await;
            });
        }
    });
    port
}

#[tokio::test]
async fn an_unverified_certificate_is_reported_not_fatal() {
    let port = spawn_tls_server().await;
    let client = fetcher(loopback_guard());
    let url = Url::parse(&format!("https://127.0.0.1:{port}/")).unwrap();
    let response = client
        .fetch(FetchRequest::get(url).header("Authorization", "Bearer secret"))
        .await
        .unwrap();
    assert_eq!(response.status, 200);
    let tls = response.tls.unwrap();
    assert_eq!(tls.version, "TLSv1.3");
    assert_eq!(tls.cert_not_after, Some(EXPIRED_NOT_AFTER));
    assert!(!tls.verified);
    let why = tls.verify_error.unwrap();
    // webpki checks the validity period first, so the check can say "certificate expired".
    assert!(why.contains("certificate expired"), "{why}");
    assert!(response.timing.tls.is_some());
    // Credentials are not sent where nobody vouches for the other end.
    assert_eq!(response.body, b"authorization=absent");
}
