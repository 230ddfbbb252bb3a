//! Security headers scored the way the Mozilla HTTP Observatory (mdn-http-observatory,
//! algorithm v6) scores them: each test yields one outcome with a modifier, the modifiers are
//! added to a base of 100, bonuses count only if the score without them is at least 90, and the
//! grade comes from the score rounded down to a multiple of 5.
//!
//! The Observatory is MPL-2.0: this is our own implementation of its published outcome table
//! (reference `probes.md` §2.1), not a copy of its files. Two of its inputs we cannot have: the
//! HSTS preload list (so no "preloaded" bonus) and an HTML parser (so Subresource Integrity is
//! scored 0 on HTML pages and said so).
use http::HeaderMap;
use serde_json::{json, Value};
use url::Url;

use super::common::{header, header_all};

/// The score bonuses need, before bonuses, to count (`MINIMUM_SCORE_FOR_EXTRA_CREDIT`).
pub const MINIMUM_SCORE_FOR_BONUSES: i32 = 90;

/// HSTS `max-age` the Observatory accepts as six months (it uses 15,552,000 s, a little under).
pub const HSTS_SIX_MONTHS: u64 = 15_552_000;

/// One test's outcome: the test, the Observatory's name for the outcome, and its modifier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub test: &'static str,
    pub result: &'static str,
    pub modifier: i32,
    /// What we saw, for the evidence: the header value, the cookie names.
    pub detail: String,
}

impl Outcome {
    fn new(test: &'static str, result: &'static str, modifier: i32) -> Outcome {
        Outcome {
            test,
            result,
            modifier,
            detail: String::new(),
        }
    }

    fn with_detail(mut self, detail: impl Into<String>) -> Outcome {
        self.detail = detail.into();
        self
    }

    pub fn to_json(&self) -> Value {
        json!({
            "test": self.test,
            "result": self.result,
            "modifier": self.modifier,
            "detail": self.detail,
        })
    }
}

/// The total: `score` as the Observatory reports it (never below 0, not rounded), the grade
/// from the score rounded down to a multiple of 5.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Score {
    pub score: i32,
    pub grade: &'static str,
    /// The score with penalties only.
    pub uncurved: i32,
    pub bonuses_counted: bool,
}

/// Adds the modifiers to 100; bonuses count only if the penalties alone leave ≥ 90.
pub fn score(outcomes: &[Outcome]) -> Score {
    let penalties: i32 = outcomes.iter().map(|o| o.modifier.min(0)).sum();
    let all: i32 = outcomes.iter().map(|o| o.modifier).sum();
    let uncurved = 100 + penalties;
    let bonuses_counted = uncurved >= MINIMUM_SCORE_FOR_BONUSES;
    let raw = if bonuses_counted { 100 + all } else { uncurved };
    let score = raw.max(0);
    Score {
        score,
        grade: grade_for_score(score),
        uncurved,
        bonuses_counted,
    }
}

/// The grade band: the score rounded down to a multiple of 5 (capped at 100) looked up in the
/// Observatory's chart.
pub fn grade_for_score(score: i32) -> &'static str {
    let key = (score.max(0) - score.max(0) % 5).min(100);
    match key {
        100 => "A+",
        90 | 95 => "A",
        85 => "A-",
        80 => "B+",
        70 | 75 => "B",
        65 => "B-",
        60 => "C+",
        50 | 55 => "C",
        45 => "C-",
        40 => "D+",
        30 | 35 => "D",
        25 => "D-",
        _ => "F",
    }
}

// ---- Content-Security-Policy ----

/// Sources that allow nearly anything.
const BROAD_SOURCES: [&str; 8] = [
    "ftp:",
    "http:",
    "https:",
    "*",
    "http://*",
    "http://*.*",
    "https://*",
    "https://*.*",
];
const INLINE_SOURCES: [&str; 2] = ["'unsafe-inline'", "data:"];
const NONCE_OR_HASH: [&str; 4] = ["'sha256-", "'sha384-", "'sha512-", "'nonce-"];

/// A parsed policy: directive → sources (lowercase), in header order.
pub type Policy = Vec<(String, Vec<String>)>;

/// Parses one policy. `None` when it is invalid the way the Observatory counts invalid: shorter
/// than the shortest directive, or a directive repeated (report-uri / report-to excepted).
pub fn parse_csp(policy: &str) -> Option<Policy> {
    let clean = policy.replace(['\r', '\n'], "");
    let clean = clean.trim();
    if clean.len() < "img-src".len() - 1 {
        return None;
    }
    let mut out: Policy = Vec::new();
    for entry in clean.split(';') {
        let mut words = entry.split_whitespace();
        let Some(directive) = words.next() else {
            continue;
        };
        let directive = directive.to_ascii_lowercase();
        let mut sources: Vec<String> = words.map(|w| w.to_lowercase()).collect();
        if out.iter().any(|(d, _)| *d == directive) {
            if directive == "report-uri" || directive == "report-to" {
                continue;
            }
            return None;
        }
        // An empty source list means 'none'.
        if sources.is_empty() && directive.ends_with("-src") {
            sources.push("'none'".to_owned());
        }
        out.push((directive, sources));
    }
    Some(out)
}

fn directive<'a>(policy: &'a Policy, name: &str) -> Option<&'a Vec<String>> {
    policy.iter().find(|(d, _)| d == name).map(|(_, s)| s)
}

fn has_nonce_or_hash(sources: &[String]) -> bool {
    sources
        .iter()
        .any(|s| NONCE_OR_HASH.iter().any(|p| s.starts_with(p)))
}

/// The CSP test. Several policies (several headers, or one with commas) can only tighten what
/// the first allows; we score the first and say so in the detail.
pub fn csp(headers: &HeaderMap, https: bool) -> Outcome {
    const TEST: &str = "content-security-policy";
    let policies: Vec<String> = header_all(headers, "content-security-policy")
        .iter()
        .flat_map(|v| {
            v.split(',')
                .map(|p| p.trim().to_owned())
                .collect::<Vec<_>>()
        })
        .collect();
    if policies.is_empty() {
        if header(headers, "content-security-policy-report-only").is_some() {
            return Outcome::new(TEST, "csp-not-implemented-but-reporting-enabled", -25)
                .with_detail("Content-Security-Policy-Report-Only only");
        }
        return Outcome::new(TEST, "csp-not-implemented", -25);
    }
    let mut parsed = Vec::new();
    for p in &policies {
        match parse_csp(p) {
            Some(policy) => parsed.push(policy),
            None => {
                return Outcome::new(TEST, "csp-header-invalid", -25)
                    .with_detail(super::common::clip(p, 200))
            }
        }
    }
    let policy = &parsed[0];
    let detail = if policies.len() > 1 {
        format!(
            "{} (first of {} policies scored)",
            super::common::clip(&policies[0], 200),
            policies.len()
        )
    } else {
        super::common::clip(&policies[0], 200)
    };
    if policy.is_empty() {
        return Outcome::new(TEST, "csp-not-implemented", -25).with_detail(detail);
    }

    let star = vec!["*".to_owned()];
    let default_src = directive(policy, "default-src");
    let fallback = |name: &str| -> Vec<String> {
        directive(policy, name)
            .or(default_src)
            .cloned()
            .unwrap_or_else(|| star.clone())
    };
    let object_src = fallback("object-src");
    let mut script_src = fallback("script-src");
    let mut style_src = fallback("style-src");

    // A nonce or hash makes browsers ignore 'unsafe-inline'.
    for list in [&mut script_src, &mut style_src] {
        if has_nonce_or_hash(list) {
            list.retain(|s| s != "'unsafe-inline'");
        }
    }
    let strict_dynamic = script_src.iter().any(|s| s == "'strict-dynamic'");
    if strict_dynamic {
        if !has_nonce_or_hash(&script_src) {
            return Outcome::new(TEST, "csp-header-invalid", -25).with_detail(format!(
                "{detail}: 'strict-dynamic' without a nonce or hash"
            ));
        }
        // With 'strict-dynamic', host and scheme sources, 'self' and 'unsafe-inline' are ignored.
        script_src.retain(|s| {
            !(BROAD_SOURCES.iter().any(|b| s.starts_with(b))
                || s == "'self'"
                || s == "'unsafe-inline'")
        });
    }

    let passive = ["img-src", "media-src"];
    let mut active: Vec<&String> = policy
        .iter()
        .filter(|(d, _)| !passive.contains(&d.as_str()) && d != "script-src")
        .flat_map(|(_, s)| s.iter())
        .collect();
    active.extend(script_src.iter());
    let passive_sources: Vec<String> = passive
        .iter()
        .flat_map(|d| {
            directive(policy, d)
                .or(default_src)
                .cloned()
                .unwrap_or_default()
        })
        .collect();
    let insecure = |s: &str| s.starts_with("http:") || s.starts_with("ftp:");
    let broad = |s: &String| BROAD_SOURCES.contains(&s.as_str());
    let broad_or_inline =
        |s: &String| BROAD_SOURCES.contains(&s.as_str()) || INLINE_SOURCES.contains(&s.as_str());

    // The first problem found, in the Observatory's order, decides the outcome.
    if script_src.iter().any(broad_or_inline) || object_src.iter().any(broad) {
        return Outcome::new(TEST, "csp-implemented-with-unsafe-inline", -20).with_detail(detail);
    }
    if https && active.iter().any(|s| insecure(s)) {
        return Outcome::new(TEST, "csp-implemented-with-insecure-scheme", -20).with_detail(detail);
    }
    if script_src
        .iter()
        .chain(style_src.iter())
        .any(|s| s == "'unsafe-eval'")
    {
        return Outcome::new(TEST, "csp-implemented-with-unsafe-eval", -10).with_detail(detail);
    }
    if https && passive_sources.iter().any(|s| insecure(s)) {
        return Outcome::new(
            TEST,
            "csp-implemented-with-insecure-scheme-in-passive-content-only",
            -10,
        )
        .with_detail(detail);
    }
    if style_src.iter().any(broad_or_inline) {
        return Outcome::new(
            TEST,
            "csp-implemented-with-unsafe-inline-in-style-src-only",
            0,
        )
        .with_detail(detail);
    }
    if default_src.is_some_and(|d| d.len() == 1 && d[0] == "'none'") {
        return Outcome::new(TEST, "csp-implemented-with-no-unsafe-default-src-none", 10)
            .with_detail(detail);
    }
    Outcome::new(TEST, "csp-implemented-with-no-unsafe", 5).with_detail(detail)
}

/// Whether the response's (first) CSP sets `frame-ancestors`, which stands in for X-Frame-Options.
fn csp_frame_ancestors(headers: &HeaderMap) -> bool {
    header_all(headers, "content-security-policy")
        .iter()
        .flat_map(|v| v.split(',').map(str::to_owned).collect::<Vec<_>>())
        .filter_map(|p| parse_csp(&p))
        .any(|policy| directive(&policy, "frame-ancestors").is_some())
}

// ---- Cookies ----

/// One `Set-Cookie` as the cookie test needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cookie {
    pub name: String,
    pub secure: bool,
    pub http_only: bool,
    /// The SameSite value as sent, lowercase; `None` when absent.
    pub same_site: Option<String>,
}

impl Cookie {
    /// Parses a `Set-Cookie` value; `None` when it has no name.
    pub fn parse(set_cookie: &str) -> Option<Cookie> {
        let mut parts = set_cookie.split(';');
        let pair = parts.next()?;
        let name = pair.split('=').next()?.trim();
        if name.is_empty() {
            return None;
        }
        let mut cookie = Cookie {
            name: name.to_owned(),
            secure: false,
            http_only: false,
            same_site: None,
        };
        for attribute in parts {
            let mut kv = attribute.splitn(2, '=');
            let key = kv.next().unwrap_or_default().trim().to_ascii_lowercase();
            let value = kv.next().map(|v| v.trim().to_ascii_lowercase());
            match key.as_str() {
                "secure" => cookie.secure = true,
                "httponly" => cookie.http_only = true,
                "samesite" => cookie.same_site = Some(value.unwrap_or_default()),
                _ => {}
            }
        }
        Some(cookie)
    }

    /// The Observatory's rule: a name containing "login" or "sess" is a session cookie.
    pub fn is_session(&self) -> bool {
        let name = self.name.to_ascii_lowercase();
        name.contains("login") || name.contains("sess")
    }

    fn is_anti_csrf(&self) -> bool {
        self.name.to_ascii_lowercase().contains("csrf")
    }

    fn same_site_invalid(&self) -> bool {
        match self.same_site.as_deref() {
            None => false,
            Some(v) => !matches!(v, "lax" | "strict" | "none"),
        }
    }

    pub fn describe(&self) -> String {
        let yes_no = |b: bool| if b { "yes" } else { "no" };
        format!(
            "{}: Secure {}, HttpOnly {}, SameSite {}{}",
            self.name,
            yes_no(self.secure),
            yes_no(self.http_only),
            self.same_site.as_deref().unwrap_or("not set"),
            if self.is_session() {
                " (session cookie)"
            } else {
                ""
            }
        )
    }
}

/// Cookie outcomes from least to most severe; the worst one seen is the result.
const COOKIE_ORDER: [(&str, i32); 7] = [
    ("cookies-without-secure-flag-but-protected-by-hsts", -5),
    ("cookies-without-secure-flag", -20),
    (
        "cookies-session-without-secure-flag-but-protected-by-hsts",
        -10,
    ),
    ("cookies-samesite-flag-invalid", -20),
    ("cookies-anticsrf-without-samesite-flag", -20),
    ("cookies-session-without-httponly-flag", -30),
    ("cookies-session-without-secure-flag", -40),
];

/// The cookie test over every cookie set on the responses seen. `hsts_ok` is whether the HSTS
/// test passed (a valid policy of at least six months over verified HTTPS).
pub fn cookies(cookies: &[Cookie], hsts_ok: bool) -> Outcome {
    const TEST: &str = "cookies";
    // Heroku's affinity cookie is ignored by the Observatory too.
    let cookies: Vec<&Cookie> = cookies
        .iter()
        .filter(|c| c.name != "heroku-session-affinity")
        .collect();
    if cookies.is_empty() {
        return Outcome::new(TEST, "cookies-not-found", 0);
    }
    let mut worst: Option<usize> = None;
    let mut note = |result: &str| {
        if let Some(rank) = COOKIE_ORDER.iter().position(|(r, _)| *r == result) {
            worst = Some(worst.map_or(rank, |w| w.max(rank)));
        }
    };
    let mut missing_same_site = false;
    for cookie in &cookies {
        if cookie.same_site_invalid()
            || (!cookie.secure && cookie.same_site.as_deref() == Some("none"))
        {
            note("cookies-samesite-flag-invalid");
        }
        if !cookie.secure {
            note(if hsts_ok {
                "cookies-without-secure-flag-but-protected-by-hsts"
            } else {
                "cookies-without-secure-flag"
            });
        }
        if cookie.is_anti_csrf() && cookie.same_site.is_none() {
            note("cookies-anticsrf-without-samesite-flag");
        }
        if cookie.is_session() && !cookie.secure {
            note(if hsts_ok {
                "cookies-session-without-secure-flag-but-protected-by-hsts"
            } else {
                "cookies-session-without-secure-flag"
            });
        }
        if cookie.is_session() && !cookie.http_only {
            note("cookies-session-without-httponly-flag");
        }
        if cookie.same_site.is_none() {
            missing_same_site = true;
        }
    }
    let names = cookies
        .iter()
        .map(|c| c.name.as_str())
        .collect::<Vec<_>>()
        .join(", ");
    match worst {
        Some(rank) => {
            let (result, modifier) = COOKIE_ORDER[rank];
            Outcome::new(TEST, result, modifier).with_detail(names)
        }
        None if missing_same_site => {
            Outcome::new(TEST, "cookies-secure-with-httponly-sessions", 0).with_detail(names)
        }
        None => Outcome::new(
            TEST,
            "cookies-secure-with-httponly-sessions-and-samesite",
            5,
        )
        .with_detail(names),
    }
}

// ---- CORS ----

/// The CORS test on a response to a request that carried `Origin: origin_sent`.
pub fn cors(headers: &HeaderMap, origin_sent: &str) -> Outcome {
    const TEST: &str = "cross-origin-resource-sharing";
    let Some(acao) = header(headers, "access-control-allow-origin") else {
        return Outcome::new(TEST, "cross-origin-resource-sharing-not-implemented", 0);
    };
    let credentials = header(headers, "access-control-allow-credentials")
        .is_some_and(|v| v.eq_ignore_ascii_case("true"));
    let detail = format!(
        "Access-Control-Allow-Origin: {acao}{}",
        if credentials {
            ", Access-Control-Allow-Credentials: true"
        } else {
            ""
        }
    );
    if acao.trim() == "*" {
        Outcome::new(
            TEST,
            "cross-origin-resource-sharing-implemented-with-public-access",
            0,
        )
        .with_detail(detail)
    } else if acao == origin_sent && credentials {
        Outcome::new(
            TEST,
            "cross-origin-resource-sharing-implemented-with-universal-access",
            -50,
        )
        .with_detail(format!("{detail} (our Origin reflected)"))
    } else {
        Outcome::new(
            TEST,
            "cross-origin-resource-sharing-implemented-with-restricted-access",
            0,
        )
        .with_detail(detail)
    }
}

// ---- Redirection ----

/// What happened when the site was asked for over plain HTTP.
#[derive(Debug, Clone)]
pub enum HttpVisit {
    /// Nothing answers on HTTP.
    NoHttp,
    /// Not tried (the base URL uses a non-default HTTPS port, or the guard refused).
    NotTried(String),
    /// The route: the HTTP URL first, then every redirect target; whether the last hop's
    /// certificate verified (true when it is plain HTTP).
    Route { route: Vec<Url>, verified: bool },
}

pub fn redirection(visit: &HttpVisit) -> Outcome {
    const TEST: &str = "redirection";
    match visit {
        HttpVisit::NoHttp => Outcome::new(TEST, "redirection-not-needed-no-http", 0)
            .with_detail("nothing answers over HTTP"),
        HttpVisit::NotTried(why) => Outcome::new(TEST, "redirection-not-needed-no-http", 0)
            .with_detail(format!("HTTP not tried: {why}")),
        HttpVisit::Route { route, verified } => {
            let detail = route
                .iter()
                .map(Url::as_str)
                .collect::<Vec<_>>()
                .join(" → ");
            if !verified {
                return Outcome::new(TEST, "redirection-invalid-cert", -20).with_detail(detail);
            }
            if route.len() <= 1 {
                return Outcome::new(TEST, "redirection-missing", -20).with_detail(detail);
            }
            let last_https = route.last().is_some_and(|u| u.scheme() == "https");
            if !last_https {
                return Outcome::new(TEST, "redirection-not-to-https", -20).with_detail(detail);
            }
            if route[1].scheme() == "http" {
                return Outcome::new(TEST, "redirection-not-to-https-on-initial-redirection", -10)
                    .with_detail(detail);
            }
            if route[0].scheme() == "http"
                && route[1].scheme() == "https"
                && route[0].host_str() != route[1].host_str()
            {
                return Outcome::new(TEST, "redirection-off-host-from-http", -5)
                    .with_detail(detail);
            }
            Outcome::new(TEST, "redirection-to-https", 0).with_detail(detail)
        }
    }
}

// ---- Referrer-Policy ----

pub fn referrer_policy(headers: &HeaderMap) -> Outcome {
    const TEST: &str = "referrer-policy";
    const PRIVATE: [&str; 4] = [
        "no-referrer",
        "same-origin",
        "strict-origin",
        "strict-origin-when-cross-origin",
    ];
    const UNSAFE: [&str; 4] = [
        "origin",
        "origin-when-cross-origin",
        "unsafe-url",
        "no-referrer-when-downgrade",
    ];
    let values = header_all(headers, "referrer-policy");
    if values.is_empty() {
        return Outcome::new(TEST, "referrer-policy-not-implemented", 0);
    }
    let joined = values.join(", ");
    // Browsers use the last value they understand.
    let policy = joined
        .split(',')
        .map(|p| p.trim().to_ascii_lowercase())
        .rfind(|p| PRIVATE.contains(&p.as_str()) || UNSAFE.contains(&p.as_str()));
    match policy {
        Some(p) if PRIVATE.contains(&p.as_str()) => {
            Outcome::new(TEST, "referrer-policy-private", 5).with_detail(joined)
        }
        Some(_) => Outcome::new(TEST, "referrer-policy-unsafe", -5).with_detail(joined),
        None => Outcome::new(TEST, "referrer-policy-header-invalid", -5).with_detail(joined),
    }
}

// ---- Strict-Transport-Security ----

/// The HSTS test. `https`: the scored response came over HTTPS; `verified`: its certificate
/// verified. The preload list is not consulted, so "hsts-preloaded" (+5) never occurs here.
pub fn hsts(headers: &HeaderMap, https: bool, verified: bool) -> Outcome {
    const TEST: &str = "strict-transport-security";
    if !https {
        return Outcome::new(TEST, "hsts-not-implemented-no-https", -20);
    }
    if !verified {
        return Outcome::new(TEST, "hsts-invalid-cert", -20);
    }
    let values = header_all(headers, "strict-transport-security");
    let Some(value) = values.first() else {
        return Outcome::new(TEST, "hsts-not-implemented", -20);
    };
    let detail = super::common::clip(value, 200);
    // Sent twice (or folded with a comma) counts as invalid.
    if values.len() > 1 || value.contains(',') {
        return Outcome::new(TEST, "hsts-header-invalid", -20).with_detail(detail);
    }
    let max_age = value.split(';').find_map(|part| {
        let part = part.trim().to_ascii_lowercase();
        part.strip_prefix("max-age=")
            .map(|v| v.trim_matches('"').parse::<u64>().ok())
    });
    match max_age {
        Some(Some(age)) if age >= HSTS_SIX_MONTHS => {
            Outcome::new(TEST, "hsts-implemented-max-age-at-least-six-months", 0)
                .with_detail(detail)
        }
        Some(Some(_)) => Outcome::new(TEST, "hsts-implemented-max-age-less-than-six-months", -10)
            .with_detail(detail),
        _ => Outcome::new(TEST, "hsts-header-invalid", -20).with_detail(detail),
    }
}

/// The HSTS test "passed" (what the cookie test asks).
pub fn hsts_passes(outcome: &Outcome) -> bool {
    matches!(
        outcome.result,
        "hsts-implemented-max-age-at-least-six-months" | "hsts-preloaded"
    )
}

// ---- Subresource Integrity ----

/// SRI matters only for HTML. We do not parse HTML, so an HTML page scores 0 and says so.
pub fn sri(is_html: bool) -> Outcome {
    const TEST: &str = "subresource-integrity";
    if is_html {
        Outcome::new(TEST, "sri-not-assessed", 0)
            .with_detail("HTML page: scripts not inspected (no HTML parser here)")
    } else {
        Outcome::new(TEST, "sri-not-implemented-response-not-html", 0)
    }
}

// ---- X-Content-Type-Options ----

pub fn x_content_type_options(headers: &HeaderMap) -> Outcome {
    const TEST: &str = "x-content-type-options";
    match header(headers, "x-content-type-options") {
        None => Outcome::new(TEST, "x-content-type-options-not-implemented", -5),
        Some(v) if v.eq_ignore_ascii_case("nosniff") => {
            Outcome::new(TEST, "x-content-type-options-nosniff", 0).with_detail(v)
        }
        Some(v) => Outcome::new(TEST, "x-content-type-options-header-invalid", -5).with_detail(v),
    }
}

// ---- X-Frame-Options ----

pub fn x_frame_options(headers: &HeaderMap) -> Outcome {
    const TEST: &str = "x-frame-options";
    if csp_frame_ancestors(headers) {
        return Outcome::new(TEST, "x-frame-options-implemented-via-csp", 5)
            .with_detail("CSP frame-ancestors");
    }
    match header(headers, "x-frame-options") {
        None => Outcome::new(TEST, "x-frame-options-not-implemented", -20),
        Some(v) => {
            let lower = v.to_ascii_lowercase();
            if lower == "deny" || lower == "sameorigin" {
                Outcome::new(TEST, "x-frame-options-sameorigin-or-deny", 5).with_detail(v)
            } else if lower.starts_with("allow-from") {
                Outcome::new(TEST, "x-frame-options-allow-from-origin", 0).with_detail(v)
            } else {
                Outcome::new(TEST, "x-frame-options-header-invalid", -20).with_detail(v)
            }
        }
    }
}

// ---- Cross-Origin-Resource-Policy / -Opener-Policy / -Embedder-Policy ----

pub fn corp(headers: &HeaderMap) -> Outcome {
    const TEST: &str = "cross-origin-resource-policy";
    let values = header_all(headers, "cross-origin-resource-policy");
    if values.is_empty() {
        return Outcome::new(TEST, "cross-origin-resource-policy-not-implemented", 0);
    }
    let value = values.join(", ").to_ascii_lowercase();
    let (result, modifier) = match value.as_str() {
        "same-site" => (
            "cross-origin-resource-policy-implemented-with-same-site",
            10,
        ),
        "same-origin" => (
            "cross-origin-resource-policy-implemented-with-same-origin",
            10,
        ),
        "cross-origin" => (
            "cross-origin-resource-policy-implemented-with-cross-origin",
            0,
        ),
        _ => ("cross-origin-resource-policy-header-invalid", -5),
    };
    Outcome::new(TEST, result, modifier).with_detail(value)
}

/// A structured-field token without parameters: `same-origin; report-to="x"` → `same-origin`.
fn sf_token(value: &str) -> String {
    value
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase()
}

pub fn coop(headers: &HeaderMap) -> Outcome {
    const TEST: &str = "cross-origin-opener-policy";
    let values = header_all(headers, "cross-origin-opener-policy");
    match values.as_slice() {
        [] => Outcome::new(TEST, "coop-not-implemented", 0),
        [one] => {
            let (result, modifier) = match sf_token(one).as_str() {
                "same-origin" => ("coop-implemented-with-same-origin", 10),
                "same-origin-allow-popups" => {
                    ("coop-implemented-with-same-origin-allow-popups", 10)
                }
                "noopener-allow-popups" => ("coop-implemented-with-noopener-allow-popups", 10),
                "unsafe-none" => ("coop-implemented-with-unsafe-none", 0),
                _ => ("coop-header-invalid", -5),
            };
            Outcome::new(TEST, result, modifier).with_detail(one.clone())
        }
        _ => Outcome::new(TEST, "coop-header-invalid", -5).with_detail("sent more than once"),
    }
}

pub fn coep(headers: &HeaderMap) -> Outcome {
    const TEST: &str = "cross-origin-embedder-policy";
    let values = header_all(headers, "cross-origin-embedder-policy");
    match values.as_slice() {
        [] => Outcome::new(TEST, "coep-not-implemented", 0),
        [one] => {
            let (result, modifier) = match sf_token(one).as_str() {
                "require-corp" => ("coep-implemented-with-require-corp", 10),
                "credentialless" => ("coep-implemented-with-credentialless", 10),
                "unsafe-none" => ("coep-implemented-with-unsafe-none", 0),
                _ => ("coep-header-invalid", -5),
            };
            Outcome::new(TEST, result, modifier).with_detail(one.clone())
        }
        _ => Outcome::new(TEST, "coep-header-invalid", -5).with_detail("sent more than once"),
    }
}

/// Everything the twelve tests need.
pub struct Scan<'a> {
    /// The response scored (the base URL, or the first endpoint with a usable status).
    pub headers: &'a HeaderMap,
    pub https: bool,
    pub verified: bool,
    pub is_html: bool,
    /// Every cookie set on the responses seen.
    pub cookies: &'a [Cookie],
    /// The response to the same URL requested with `Origin: cors_origin`, if it answered.
    pub cors_headers: Option<&'a HeaderMap>,
    pub cors_origin: &'a str,
    pub http_visit: &'a HttpVisit,
}

/// Runs the twelve tests, in the Observatory's order.
pub fn run_tests(scan: &Scan<'_>) -> Vec<Outcome> {
    let hsts = hsts(scan.headers, scan.https, scan.verified);
    let cors = match scan.cors_headers {
        Some(headers) => cors(headers, scan.cors_origin),
        None => Outcome::new(
            "cross-origin-resource-sharing",
            "cross-origin-resource-sharing-not-implemented",
            0,
        )
        .with_detail("the request with an Origin header got no answer"),
    };
    vec![
        csp(scan.headers, scan.https),
        cookies(scan.cookies, hsts_passes(&hsts)),
        coep(scan.headers),
        coop(scan.headers),
        cors,
        redirection(scan.http_visit),
        referrer_policy(scan.headers),
        hsts,
        sri(scan.is_html),
        x_content_type_options(scan.headers),
        x_frame_options(scan.headers),
        corp(scan.headers),
    ]
}
