//! The OpenAPI document: found at the given URL or a well-known path (RFC 9727's
//! `/.well-known/api-catalog` first), parsed when it is JSON, and linted with a few rules from
//! Spectral's OWASP ruleset and Zalando's Zally. YAML is recognised but not parsed (no YAML
//! crate here), so a YAML document counts as found and cannot be linted.
use serde_json::{json, Value};
use url::Url;

use super::super::fetch::{FetchRequest, Fetcher};
use super::super::model::{CheckArea, CheckResult, CheckSpec, CheckStatus};
use super::common::{body_text, clip, fetch_failure, json_body, path_of};
use crate::findings::Severity;

pub const OPENAPI: CheckSpec = CheckSpec {
    id: "http.openapi",
    area: CheckArea::Api,
    title: "OpenAPI document published",
    severity: Severity::Low,
    threshold: "an OpenAPI (or Swagger) document at the given URL or a well-known path: \
                /.well-known/api-catalog, /openapi.json, /openapi.yaml, /swagger.json, \
                /v3/api-docs, /swagger/v1/swagger.json, /api/openapi.json, /api/v1/openapi.json",
    source: "Zally 101 (provide an API specification using OpenAPI); RFC 9727 api-catalog",
};

pub const OPENAPI_LINT: CheckSpec = CheckSpec {
    id: "http.openapi-lint",
    area: CheckArea::Api,
    title: "OpenAPI document lint",
    severity: Severity::Low,
    threshold: "every operation defines 4xx and 5xx (or default) responses; servers use https \
                (fail otherwise); list responses are bounded (maxItems or a limit parameter); \
                error responses use application/problem+json; any other violation warns",
    source: "Spectral OWASP owasp:api8:2023-define-error-responses-*, \
             owasp:api8:2023-no-server-http, owasp:api4:2023-array-limit; Zally 151, 176",
};

/// Well-known places, tried in order when no URL is given.
pub const WELL_KNOWN: [&str; 8] = [
    "/.well-known/api-catalog",
    "/openapi.json",
    "/openapi.yaml",
    "/swagger.json",
    "/v3/api-docs",
    "/swagger/v1/swagger.json",
    "/api/openapi.json",
    "/api/v1/openapi.json",
];

/// Endpoints taken from the document at most.
pub const MAX_DOC_ENDPOINTS: usize = 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocFormat {
    Json,
    Yaml,
}

#[derive(Debug, Clone)]
pub struct FoundDoc {
    pub url: Url,
    pub format: DocFormat,
    /// The parsed document (JSON only).
    pub doc: Option<Value>,
}

#[derive(Debug, Clone, Default)]
pub struct Discovery {
    /// One line per URL tried: what it answered.
    pub tried: Vec<String>,
    /// How many of the URLs tried answered at all (any HTTP status).
    pub answered: usize,
    pub found: Option<FoundDoc>,
}

/// Looks at `given` (absolute, or a path under the base URL) or else the well-known paths.
pub async fn discover(fetcher: &Fetcher, base: &Url, given: Option<&str>) -> Discovery {
    let mut discovery = Discovery::default();
    let candidates: Vec<Url> = match given.map(str::trim).filter(|g| !g.is_empty()) {
        Some(g) => match base.join(g) {
            Ok(url) => vec![url],
            Err(e) => {
                discovery.tried.push(format!("{g}: not a URL ({e})"));
                return discovery;
            }
        },
        None => WELL_KNOWN
            .iter()
            .filter_map(|p| base.join(p).ok())
            .collect(),
    };
    for url in candidates {
        let request = FetchRequest::get(url.clone()).header(
            "accept",
            "application/json, application/yaml;q=0.9, */*;q=0.5",
        );
        let response = match fetcher.fetch(request).await {
            Ok(r) => r,
            Err(e) => {
                discovery.tried.push(fetch_failure(url.as_str(), &e));
                continue;
            }
        };
        discovery.answered += 1;
        if response.status != 200 {
            discovery
                .tried
                .push(format!("{}: {}", url, response.status));
            continue;
        }
        let mut found = recognise(&response.url, json_body(&response), &body_text(&response));
        // RFC 9727: the catalog is a linkset whose `service-desc` links point at the document.
        if found.is_none() && url.path() == "/.well-known/api-catalog" {
            if let Some(href) = json_body(&response).as_ref().and_then(service_desc) {
                discovery.tried.push(format!("{url}: api-catalog → {href}"));
                if let Ok(doc_url) = response.url.join(&href) {
                    match fetcher.fetch(FetchRequest::get(doc_url.clone())).await {
                        Ok(doc) if doc.status == 200 => {
                            found = recognise(&doc.url, json_body(&doc), &body_text(&doc));
                        }
                        Ok(doc) => discovery.tried.push(format!("{doc_url}: {}", doc.status)),
                        Err(e) => discovery.tried.push(fetch_failure(doc_url.as_str(), &e)),
                    }
                }
            }
        }
        match found {
            Some(doc) => {
                discovery.tried.push(format!(
                    "{}: 200, {} document",
                    doc.url,
                    match doc.format {
                        DocFormat::Json => "JSON",
                        DocFormat::Yaml => "YAML",
                    }
                ));
                discovery.found = Some(doc);
                return discovery;
            }
            None => discovery
                .tried
                .push(format!("{url}: 200 but not an OpenAPI document")),
        }
    }
    discovery
}

/// A JSON object with `openapi` or `swagger`, or text with an `openapi:`/`swagger:` line.
fn recognise(url: &Url, json: Option<Value>, text: &str) -> Option<FoundDoc> {
    if let Some(doc) = json {
        if doc.get("openapi").is_some() || doc.get("swagger").is_some() {
            return Some(FoundDoc {
                url: url.clone(),
                format: DocFormat::Json,
                doc: Some(doc),
            });
        }
        return None;
    }
    let yaml = text.lines().take(200).any(|line| {
        let line = line.trim_start_matches('\u{feff}');
        line.starts_with("openapi:") || line.starts_with("swagger:")
    });
    yaml.then(|| FoundDoc {
        url: url.clone(),
        format: DocFormat::Yaml,
        doc: None,
    })
}

/// The first `service-desc` href of an RFC 9264 linkset.
fn service_desc(catalog: &Value) -> Option<String> {
    catalog
        .get("linkset")?
        .as_array()?
        .iter()
        .filter_map(|entry| entry.get("service-desc")?.as_array())
        .flatten()
        .find_map(|link| link.get("href")?.as_str().map(str::to_owned))
}

pub fn check_present(discovery: &Discovery) -> CheckResult {
    let evidence = discovery.tried.clone();
    match &discovery.found {
        Some(found) => {
            let (version, paths) = match &found.doc {
                Some(doc) => (
                    doc.get("openapi")
                        .or_else(|| doc.get("swagger"))
                        .and_then(Value::as_str)
                        .unwrap_or("?")
                        .to_owned(),
                    doc.get("paths")
                        .and_then(Value::as_object)
                        .map(|p| p.len())
                        .unwrap_or(0),
                ),
                None => ("?".to_owned(), 0),
            };
            let summary = match found.format {
                DocFormat::Json => format!(
                    "OpenAPI {version} document at {} ({paths} paths)",
                    path_of(&found.url)
                ),
                DocFormat::Yaml => format!(
                    "YAML OpenAPI document at {} (found; not parsed, so not linted)",
                    path_of(&found.url)
                ),
            };
            OPENAPI
                .result(CheckStatus::Pass, summary)
                .with_measured(json!({
                    "url": found.url.as_str(),
                    "format": match found.format { DocFormat::Json => "json", DocFormat::Yaml => "yaml" },
                    "version": version,
                    "paths": paths,
                }))
                .with_evidence(evidence)
        }
        None if discovery.answered == 0 => {
            CheckResult::could_not_run(&OPENAPI, "none of the places tried answered")
                .with_evidence(evidence)
        }
        None => OPENAPI
            .result(
                CheckStatus::Fail,
                format!(
                    "No OpenAPI document found ({} place{} tried)",
                    discovery.tried.len(),
                    if discovery.tried.len() == 1 { "" } else { "s" }
                ),
            )
            .with_measured(json!({ "found": false }))
            .with_evidence(evidence),
    }
}

const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "patch", "head", "options", "trace",
];

/// Follows local `$ref`s (`#/components/...`), at most 10 deep.
fn resolve<'a>(doc: &'a Value, mut value: &'a Value) -> &'a Value {
    for _ in 0..10 {
        match value.get("$ref").and_then(Value::as_str) {
            Some(r) if r.starts_with('#') => match doc.pointer(&r[1..]) {
                Some(target) => value = target,
                None => return value,
            },
            _ => return value,
        }
    }
    value
}

/// Each operation: (METHOD, path, operation object).
fn operations(doc: &Value) -> Vec<(String, String, &Value)> {
    let mut out = Vec::new();
    let Some(paths) = doc.get("paths").and_then(Value::as_object) else {
        return out;
    };
    for (path, item) in paths {
        let item = resolve(doc, item);
        for method in METHODS {
            if let Some(op) = item.get(method) {
                out.push((method.to_ascii_uppercase(), path.clone(), op));
            }
        }
    }
    out
}

/// The path prefix the document's paths hang under: OpenAPI 3 `servers[0].url`'s path, or
/// Swagger 2 `basePath`. Empty when none.
pub fn path_prefix(doc: &Value, base: &Url) -> String {
    let from_servers = doc
        .get("servers")
        .and_then(Value::as_array)
        .and_then(|s| s.first())
        .and_then(|s| s.get("url"))
        .and_then(Value::as_str)
        .and_then(|u| base.join(u).ok())
        .map(|u| u.path().to_owned());
    let prefix = from_servers
        .or_else(|| {
            doc.get("basePath")
                .and_then(Value::as_str)
                .map(str::to_owned)
        })
        .unwrap_or_default();
    prefix.trim_end_matches('/').to_owned()
}

/// GET paths without path parameters, at most 20: the endpoints to measure when none are given.
pub fn get_paths(doc: &Value) -> Vec<String> {
    operations(doc)
        .into_iter()
        .filter(|(m, p, _)| m == "GET" && !p.contains('{'))
        .map(|(_, p, _)| p)
        .take(MAX_DOC_ENDPOINTS)
        .collect()
}

/// A path without parameters that takes a POST, for the malformed-body probe.
pub fn post_path(doc: &Value) -> Option<String> {
    operations(doc)
        .into_iter()
        .find(|(m, p, _)| m == "POST" && !p.contains('{'))
        .map(|(_, p, _)| p)
}

/// The methods the document declares for `path`.
pub fn declared_methods(doc: &Value, path: &str) -> Vec<String> {
    operations(doc)
        .into_iter()
        .filter(|(_, p, _)| p == path)
        .map(|(m, _, _)| m)
        .collect()
}

/// Query parameters that bound a page.
const LIMIT_PARAMS: [&str; 10] = [
    "limit",
    "per_page",
    "perpage",
    "page_size",
    "pagesize",
    "size",
    "max_results",
    "maxresults",
    "top",
    "first",
];

fn is_json_media(media: &str) -> bool {
    let media = media.to_ascii_lowercase();
    media.contains("json") || media == "*/*"
}

/// The JSON schema of a response (OpenAPI 3 `content`, or Swagger 2 `schema`).
fn response_schemas<'a>(doc: &'a Value, response: &'a Value) -> Vec<&'a Value> {
    let response = resolve(doc, response);
    let mut out = Vec::new();
    if let Some(content) = response.get("content").and_then(Value::as_object) {
        for (media, body) in content {
            if is_json_media(media) {
                if let Some(schema) = body.get("schema") {
                    out.push(resolve(doc, schema));
                }
            }
        }
    }
    if let Some(schema) = response.get("schema") {
        out.push(resolve(doc, schema));
    }
    out
}

/// An array in the schema (the schema itself, or one of its properties) and whether it has
/// `maxItems`.
fn list_array(doc: &Value, schema: &Value) -> Option<bool> {
    let is_array = |s: &Value| s.get("type").and_then(Value::as_str) == Some("array");
    if is_array(schema) {
        return Some(schema.get("maxItems").is_some());
    }
    let props = schema.get("properties").and_then(Value::as_object)?;
    props
        .values()
        .map(|p| resolve(doc, p))
        .find_map(|p| is_array(p).then(|| p.get("maxItems").is_some()))
}

fn parameter_names(doc: &Value, path_item: Option<&Value>, op: &Value) -> Vec<String> {
    let mut names = Vec::new();
    for params in [
        path_item.and_then(|i| i.get("parameters")),
        op.get("parameters"),
    ]
    .into_iter()
    .flatten()
    .filter_map(Value::as_array)
    {
        for p in params {
            let p = resolve(doc, p);
            if let Some(name) = p.get("name").and_then(Value::as_str) {
                names.push(name.to_ascii_lowercase());
            }
        }
    }
    names
}

/// The lint over a parsed document.
pub fn lint(discovery: &Discovery) -> CheckResult {
    let Some(found) = &discovery.found else {
        return CheckResult::could_not_run(&OPENAPI_LINT, "no OpenAPI document was found");
    };
    let Some(doc) = &found.doc else {
        return CheckResult::could_not_run(
            &OPENAPI_LINT,
            "the OpenAPI document is YAML, which this probe does not parse",
        );
    };
    let mut violations: Vec<(&'static str, String)> = Vec::new();

    // servers use https (Spectral owasp:api8:2023-no-server-http); relative URLs inherit.
    if let Some(servers) = doc.get("servers").and_then(Value::as_array) {
        for server in servers {
            if let Some(url) = server.get("url").and_then(Value::as_str) {
                if url.to_ascii_lowercase().starts_with("http://") {
                    violations.push(("servers-https", format!("server {url} is plain http")));
                }
            }
        }
    }
    if let Some(schemes) = doc.get("schemes").and_then(Value::as_array) {
        if schemes.iter().any(|s| s.as_str() == Some("http")) {
            violations.push(("servers-https", "schemes include http".to_owned()));
        }
    }

    let paths = doc.get("paths").and_then(Value::as_object);
    let ops = operations(doc);
    for (method, path, op) in &ops {
        let label = format!("{method} {path}");
        let Some(responses) = op.get("responses").and_then(Value::as_object) else {
            violations.push(("error-responses", format!("{label}: no responses")));
            continue;
        };
        let codes: Vec<String> = responses.keys().map(|k| k.to_ascii_uppercase()).collect();
        let has_default = codes.iter().any(|c| c == "DEFAULT");
        let has_4xx = has_default || codes.iter().any(|c| c.starts_with('4'));
        let has_5xx = has_default || codes.iter().any(|c| c.starts_with('5'));
        if !has_4xx || !has_5xx {
            let missing = match (has_4xx, has_5xx) {
                (false, false) => "4xx and 5xx",
                (false, true) => "4xx",
                _ => "5xx",
            };
            violations.push(("error-responses", format!("{label}: no {missing} response")));
        }
        // Error responses as Problem JSON (Zally 176).
        for (code, response) in responses {
            let is_error = code.starts_with('4')
                || code.starts_with('5')
                || code.eq_ignore_ascii_case("default");
            if !is_error {
                continue;
            }
            let response = resolve(doc, response);
            let media: Vec<String> = response
                .get("content")
                .and_then(Value::as_object)
                .map(|c| c.keys().map(|k| k.to_ascii_lowercase()).collect())
                .unwrap_or_default();
            let produces: Vec<String> = op
                .get("produces")
                .or_else(|| doc.get("produces"))
                .and_then(Value::as_array)
                .map(|p| {
                    p.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_ascii_lowercase)
                        .collect()
                })
                .unwrap_or_default();
            let has_body = !media.is_empty() || response.get("schema").is_some();
            let problem = media
                .iter()
                .chain(produces.iter())
                .any(|m| m == "application/problem+json");
            if has_body && !problem {
                violations.push((
                    "problem-json",
                    format!("{label} {code}: not application/problem+json"),
                ));
            }
        }
        // Bounded lists (Spectral owasp:api4:2023-array-limit, relaxed: a limit parameter will do).
        if method == "GET" {
            let ok_response = responses
                .iter()
                .find(|(code, _)| code.as_str() == "200")
                .map(|(_, r)| r);
            let arrays: Vec<bool> = ok_response
                .map(|r| response_schemas(doc, r))
                .unwrap_or_default()
                .into_iter()
                .filter_map(|s| list_array(doc, s))
                .collect();
            if !arrays.is_empty() && !arrays.iter().all(|has_max| *has_max) {
                let path_item = paths.and_then(|p| p.get(path)).map(|i| resolve(doc, i));
                let names = parameter_names(doc, path_item, op);
                if !names.iter().any(|n| LIMIT_PARAMS.contains(&n.as_str())) {
                    violations.push((
                        "array-limit",
                        format!("{label}: list response without maxItems or a limit parameter"),
                    ));
                }
            }
        }
    }

    let count = |rule: &str| violations.iter().filter(|(r, _)| *r == rule).count();
    let measured = json!({
        "url": found.url.as_str(),
        "operations": ops.len(),
        "violations": {
            "error-responses": count("error-responses"),
            "servers-https": count("servers-https"),
            "array-limit": count("array-limit"),
            "problem-json": count("problem-json"),
        },
    });
    let mut evidence: Vec<String> = violations
        .iter()
        .take(20)
        .map(|(rule, text)| format!("[{rule}] {}", clip(text, 200)))
        .collect();
    if violations.len() > 20 {
        evidence.push(format!("… and {} more", violations.len() - 20));
    }
    if violations.is_empty() {
        return OPENAPI_LINT
            .result(
                CheckStatus::Pass,
                format!("{} operations pass the four rules", ops.len()),
            )
            .with_measured(measured);
    }
    let status = if count("servers-https") > 0 {
        CheckStatus::Fail
    } else {
        CheckStatus::Warn
    };
    let rules: Vec<&str> = [
        "error-responses",
        "servers-https",
        "array-limit",
        "problem-json",
    ]
    .into_iter()
    .filter(|r| count(r) > 0)
    .collect();
    OPENAPI_LINT
        .result(
            status,
            format!(
                "{} violation{} over {} operations ({})",
                violations.len(),
                if violations.len() == 1 { "" } else { "s" },
                ops.len(),
                rules.join(", ")
            ),
        )
        .with_measured(measured)
        .with_evidence(evidence)
}
