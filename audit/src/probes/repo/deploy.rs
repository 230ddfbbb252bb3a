//! Deployment and infrastructure checks: container build, CI, infrastructure as code, rollback,
//! staging parity, and the API contract.
use std::collections::{BTreeMap, BTreeSet};

use serde_json::json;

use super::super::model::{CheckArea, CheckResult, CheckSpec, CheckStatus};
use super::dockerfile::{self, Level};
use super::libraries::Dependency;
use super::tree::{find_line, RepoFile, Tree};
use super::Context;
use crate::findings::Severity;

pub(crate) const DOCKERFILE: CheckSpec = CheckSpec {
    id: "repo.dockerfile",
    area: CheckArea::DeploymentInfrastructure,
    title: "Container build and Dockerfile smells",
    severity: Severity::Medium,
    threshold: "a Dockerfile or Containerfile exists and has no Error-level rule hits \
                (DL3000 relative WORKDIR, DL3004 sudo, DL3020 ADD for files); Warning-level \
                hits warn (DL3002 last USER root or no USER, DL3006 untagged image, DL3007 \
                :latest, DL3008 unpinned apt packages, DL3025 shell-form CMD, DL4006 pipe \
                without pipefail); no container build warns",
    source: "hadolint rule ids (reimplemented, hadolint is GPL-3.0); checkov CKV_DOCKER_3",
};

pub(crate) const CI: CheckSpec = CheckSpec {
    id: "repo.ci-present",
    area: CheckArea::DeploymentInfrastructure,
    title: "Continuous integration configured",
    severity: Severity::High,
    threshold: "a CI configuration (GitHub Actions, GitLab CI, CircleCI, Jenkins, Azure \
                Pipelines, Bitbucket Pipelines, Buildkite, Travis, Woodpecker, Drone) that runs \
                on pull requests; none fails. Whether checks passed on merged pull requests \
                (Scorecard CI-Tests ≥ 8) needs the forge's API and is not read from files",
    source: "OpenSSF Scorecard CI-Tests (CI file conventions)",
};

pub(crate) const IAC: CheckSpec = CheckSpec {
    id: "repo.iac",
    area: CheckArea::DeploymentInfrastructure,
    title: "Infrastructure defined in code",
    severity: Severity::Medium,
    threshold: "infrastructure as code (Terraform, Pulumi, CDK, CloudFormation, Kubernetes, \
                Helm, Kustomize, Serverless, Bicep) that defines the database; IaC without a \
                database, or no IaC in this repository (it may live in another), warns",
    source: "ours (reference/probes.md §3.2), file conventions of the IaC tools; checkov §3.4",
};

pub(crate) const ROLLBACK: CheckSpec = CheckSpec {
    id: "repo.rollback",
    area: CheckArea::DeploymentInfrastructure,
    title: "One-command rollback",
    severity: Severity::High,
    threshold: "a rollback mechanism (Helm chart, Argo Rollouts or Argo CD, `kubectl rollout \
                undo`, a rollback script or make/just target, a deploy workflow taking a \
                version input) and a runbook that mentions rollback, with deployed images not \
                tagged :latest; one of the two warns, neither fails",
    source: "ours (reference/probes.md §3.2)",
};

pub(crate) const STAGING_PARITY: CheckSpec = CheckSpec {
    id: "repo.staging-parity",
    area: CheckArea::DeploymentInfrastructure,
    title: "Staging configured like production",
    severity: Severity::Medium,
    threshold: "staging and production configuration side by side (Helm values, Kustomize \
                overlays, Terraform environments or tfvars, .env files): the same files, and \
                at most 10 % of configuration keys differ",
    source: "ours (reference/probes.md §3.2)",
};

pub(crate) const OPENAPI: CheckSpec = CheckSpec {
    id: "repo.openapi-spec",
    area: CheckArea::Api,
    title: "API contract in the repository",
    severity: Severity::Low,
    threshold: "an OpenAPI or Swagger document (by name, or a YAML/JSON file declaring \
                `openapi: 3` or `swagger: \"2.0\"`), a library generating one from code, or a \
                GraphQL/protobuf schema; none warns",
    source: "OpenAPI Specification (document markers); ours",
};

/// Dockerfile names: `Dockerfile`, `Dockerfile.prod`, `api.Dockerfile`, `Containerfile`.
pub(crate) fn is_dockerfile(file: &RepoFile) -> bool {
    dockerfile_name(file.lower_name())
}

/// `Dockerfile`, `Dockerfile.prod`, `api.Dockerfile`, `Containerfile` — but not source or
/// documentation files that happen to be named after it (`dockerfile.rs`, `dockerfile.md`).
fn dockerfile_name(name: &str) -> bool {
    const NOT_DOCKERFILES: [&str; 16] = [
        "rs", "go", "py", "js", "ts", "rb", "java", "kt", "md", "txt", "json", "yaml", "yml",
        "toml", "snap", "orig",
    ];
    let variant = name
        .strip_prefix("dockerfile.")
        .or_else(|| name.strip_prefix("containerfile."));
    match variant {
        Some(suffix) => !NOT_DOCKERFILES.contains(&suffix),
        None => name == "dockerfile" || name == "containerfile" || name.ends_with(".dockerfile"),
    }
}

pub(crate) fn check_dockerfile(ctx: &Context) -> CheckResult {
    let files: Vec<&RepoFile> = ctx.tree.files.iter().filter(|f| is_dockerfile(f)).collect();
    if files.is_empty() {
        return DOCKERFILE.result(
            CheckStatus::Warn,
            "No container build: no Dockerfile or Containerfile in the repository",
        );
    }
    let mut evidence = Vec::new();
    let mut errors = 0;
    let mut warnings = 0;
    let mut measured = Vec::new();
    for file in &files {
        let Some(text) = ctx.tree.read(&file.path) else {
            continue;
        };
        let report = dockerfile::lint(&text);
        if report.stages > 1 {
            evidence.push(format!(
                "{}: multi-stage build ({} stages)",
                file.path, report.stages
            ));
        } else {
            evidence.push(format!("{}: single-stage build", file.path));
        }
        for hit in &report.hits {
            match hit.level {
                Level::Error => errors += 1,
                Level::Warning => warnings += 1,
            }
            evidence.push(hit.evidence(&file.path));
        }
        measured.push(json!({
            "file": file.path,
            "stages": report.stages,
            "rules": report.hits.iter().map(|h| h.rule).collect::<Vec<_>>(),
        }));
    }
    let names = files
        .iter()
        .map(|f| f.path.as_str())
        .collect::<Vec<_>>()
        .join(", ");
    let (status, summary) = if errors > 0 {
        (
            CheckStatus::Fail,
            format!("{errors} error-level and {warnings} warning-level rule hit(s) in {names}"),
        )
    } else if warnings > 0 {
        (
            CheckStatus::Warn,
            format!("{warnings} warning-level rule hit(s) in {names}"),
        )
    } else {
        (CheckStatus::Pass, format!("{names}: no rule hits"))
    };
    DOCKERFILE
        .result(status, summary)
        .with_evidence(evidence)
        .with_measured(json!({ "dockerfiles": measured, "errors": errors, "warnings": warnings }))
}

/// (CI system, whether it is GitHub Actions) for a CI configuration file.
fn ci_system(file: &RepoFile) -> Option<&'static str> {
    let p = file.lower.as_str();
    if p.starts_with(".github/workflows/") && (p.ends_with(".yml") || p.ends_with(".yaml")) {
        return Some("GitHub Actions");
    }
    match p {
        ".gitlab-ci.yml" | ".gitlab-ci.yaml" => Some("GitLab CI"),
        ".circleci/config.yml" | ".circleci/config.yaml" => Some("CircleCI"),
        "jenkinsfile" => Some("Jenkins"),
        "azure-pipelines.yml" | "azure-pipelines.yaml" => Some("Azure Pipelines"),
        "bitbucket-pipelines.yml" => Some("Bitbucket Pipelines"),
        ".travis.yml" => Some("Travis CI"),
        ".drone.yml" => Some("Drone"),
        "appveyor.yml" | ".appveyor.yml" => Some("AppVeyor"),
        "cloudbuild.yaml" | "cloudbuild.yml" => Some("Google Cloud Build"),
        _ if p.starts_with(".buildkite/") => Some("Buildkite"),
        _ if p.starts_with(".woodpecker/") || p == ".woodpecker.yml" => Some("Woodpecker"),
        _ if p.starts_with(".tekton/") => Some("Tekton"),
        _ => None,
    }
}

pub(crate) fn check_ci(ctx: &Context) -> CheckResult {
    let found: Vec<(&RepoFile, &str)> = ctx
        .tree
        .files
        .iter()
        .filter_map(|f| ci_system(f).map(|s| (f, s)))
        .collect();
    if found.is_empty() {
        return CI.result(
            CheckStatus::Fail,
            "No CI configuration found: nothing builds or tests a change before it is merged",
        );
    }
    let systems: BTreeSet<&str> = found.iter().map(|(_, s)| *s).collect();
    let mut evidence = Vec::new();
    let mut on_pull_requests = false;
    for (file, system) in &found {
        let mut line = format!("{} ({system})", file.path);
        if *system == "GitHub Actions" {
            let text = ctx.tree.read(&file.path).unwrap_or_default();
            if let Some(n) = ["pull_request", "merge_group"]
                .iter()
                .find_map(|t| find_line(&text, t))
            {
                on_pull_requests = true;
                line = format!("{}:{n} ({system}, runs on pull requests)", file.path);
            }
        } else {
            // GitLab, CircleCI and the others run on every pushed branch by default.
            on_pull_requests = true;
        }
        evidence.push(line);
    }
    let systems = systems.into_iter().collect::<Vec<_>>().join(", ");
    let result = if on_pull_requests {
        CI.result(
            CheckStatus::Pass,
            format!("CI configured ({systems}), {} file(s)", found.len()),
        )
    } else {
        CI.result(
            CheckStatus::Warn,
            format!("CI configured ({systems}) but no workflow runs on pull requests"),
        )
    };
    result
        .with_evidence(evidence)
        .with_measured(json!({ "files": found.len() }))
}

/// One infrastructure-as-code file and the tool it belongs to.
#[derive(Debug, Clone)]
pub(crate) struct IacFile {
    pub path: String,
    pub tool: &'static str,
}

/// What a YAML/JSON file's head says it is: CloudFormation, Kubernetes, or neither.
fn yaml_kind(text: &str) -> Option<&'static str> {
    if text.contains("AWSTemplateFormatVersion") || text.contains("Type: AWS::") {
        return Some("CloudFormation");
    }
    if text.contains("\"Type\": \"AWS::") {
        return Some("CloudFormation");
    }
    let top_level = |key: &str| text.lines().any(|l| l.starts_with(key));
    if top_level("apiVersion:") && top_level("kind:") {
        return Some("Kubernetes");
    }
    None
}

/// Finds infrastructure-as-code files (done once per run; several checks read them).
pub(crate) fn find_iac(tree: &Tree) -> Vec<IacFile> {
    let mut found = Vec::new();
    for file in &tree.files {
        let name = file.lower_name();
        let ext = file.extension();
        let terraform = ext == "tf"
            || name.ends_with(".tf.json")
            || ext == "tfvars"
            || (ext == "hcl" && (name == "terragrunt.hcl" || file.lower.contains("terraform")));
        let tool = if terraform {
            Some("Terraform")
        } else if name == "pulumi.yaml" || (name.starts_with("pulumi.") && ext == "yaml") {
            Some("Pulumi")
        } else if name == "cdk.json" {
            Some("AWS CDK")
        } else if name == "chart.yaml" {
            Some("Helm")
        } else if name == "kustomization.yaml" || name == "kustomization.yml" {
            Some("Kustomize")
        } else if name == "serverless.yml" || name == "serverless.yaml" {
            Some("Serverless Framework")
        } else if ext == "bicep" {
            Some("Bicep")
        } else if name == "render.yaml" {
            Some("Render Blueprint")
        } else if matches!(ext, "yaml" | "yml" | "json" | "template")
            && !file.lower.starts_with(".github/")
            && !file.lower.starts_with(".gitlab")
            && file.size <= 512 * 1024
            && name != "package.json"
            && !name.starts_with("tsconfig")
        {
            tree.head(&file.path, 16 * 1024)
                .and_then(|text| yaml_kind(&text))
        } else {
            None
        };
        if let Some(tool) = tool {
            found.push(IacFile {
                path: file.path.clone(),
                tool,
            });
        }
    }
    found
}

/// Text markers of a managed or in-cluster database in IaC.
pub(crate) const DATABASE_MARKERS: &[&str] = &[
    "\"aws_db_instance\"",
    "\"aws_rds_cluster\"",
    "\"google_sql_database_instance\"",
    "\"azurerm_postgresql",
    "\"azurerm_mysql",
    "\"azurerm_mssql",
    "\"digitalocean_database_cluster\"",
    "\"scaleway_rdb_instance\"",
    "AWS::RDS::DBInstance",
    "AWS::RDS::DBCluster",
    "postgresql.cnpg.io",
    "acid.zalan.do",
    "kind: PostgresCluster",
    "aws.rds.Instance",
    "aws.rds.Cluster",
    "image: postgres",
    "image: mysql",
    "image: mariadb",
    "bitnami/postgresql",
];

/// Text markers of a message queue in IaC.
pub(crate) const QUEUE_MARKERS: &[&str] = &[
    "\"aws_sqs_queue\"",
    "AWS::SQS::Queue",
    "\"google_pubsub_subscription\"",
    "\"azurerm_servicebus_queue\"",
    "\"aws_mq_broker\"",
    "\"aws_msk_cluster\"",
    "image: rabbitmq",
    "x-dead-letter-exchange",
    "aws.sqs.Queue",
];

/// (file, line, marker) of every marker found in the IaC files.
pub(crate) fn iac_markers<'a>(
    ctx: &'a Context,
    markers: &[&'a str],
) -> Vec<(&'a str, usize, &'a str)> {
    let mut hits = Vec::new();
    for file in &ctx.iac {
        let Some(text) = ctx.tree.read(&file.path) else {
            continue;
        };
        for marker in markers {
            if let Some(line) = find_line(&text, marker) {
                hits.push((file.path.as_str(), line, *marker));
            }
        }
    }
    hits
}

pub(crate) fn check_iac(ctx: &Context) -> CheckResult {
    if ctx.iac.is_empty() {
        return IAC.result(
            CheckStatus::Warn,
            "No infrastructure as code in this repository (it may live in another repository)",
        );
    }
    let mut tools: BTreeMap<&str, usize> = BTreeMap::new();
    for file in &ctx.iac {
        *tools.entry(file.tool).or_default() += 1;
    }
    let tools_text = tools
        .iter()
        .map(|(tool, n)| format!("{tool} ({n})"))
        .collect::<Vec<_>>()
        .join(", ");
    let databases = iac_markers(ctx, DATABASE_MARKERS);
    let queues = iac_markers(ctx, QUEUE_MARKERS);
    let mut evidence: Vec<String> = ctx
        .iac
        .iter()
        .take(20)
        .map(|f| format!("{} ({})", f.path, f.tool))
        .collect();
    evidence.extend(
        databases
            .iter()
            .map(|(f, l, m)| format!("{f}:{l} database: {}", m.trim_matches('"'))),
    );
    evidence.extend(
        queues
            .iter()
            .map(|(f, l, m)| format!("{f}:{l} queue: {}", m.trim_matches('"'))),
    );
    let measured = json!({
        "files": ctx.iac.len(),
        "tools": tools,
        "database_defined": !databases.is_empty(),
        "queue_defined": !queues.is_empty(),
    });
    let result = if databases.is_empty() {
        IAC.result(
            CheckStatus::Warn,
            format!(
                "Infrastructure as code found ({tools_text}), but no database is defined in it"
            ),
        )
    } else {
        IAC.result(
            CheckStatus::Pass,
            format!("Infrastructure as code found ({tools_text}), database included"),
        )
    };
    result.with_evidence(evidence).with_measured(measured)
}

/// Commands that roll a release back in one step.
const ROLLBACK_COMMANDS: &[&str] = &[
    "kubectl rollout undo",
    "helm rollback",
    "argocd app rollback",
    "kubectl argo rollouts undo",
    "heroku rollback",
    "heroku releases:rollback",
    "kamal rollback",
    "deploy:rollback",
    "cap rollback",
    "flyctl releases rollback",
    "vercel rollback",
    "aws deploy stop-deployment",
];

/// Files that may hold a deploy or rollback command: shell scripts, pipelines, task runners,
/// and Python/Ruby only where deploy scripts live (not the whole application).
fn is_script_like(file: &RepoFile) -> bool {
    let name = file.lower_name();
    let script_dir = ["scripts/", "script/", "bin/", "deploy/", "ops/", "tools/"]
        .iter()
        .any(|d| file.lower.starts_with(d) || file.lower.contains(&format!("/{d}")));
    matches!(file.extension(), "sh" | "bash" | "yml" | "yaml" | "ps1")
        || (matches!(file.extension(), "py" | "rb") && script_dir)
        || matches!(
            name,
            "makefile"
                | "justfile"
                | ".justfile"
                | "taskfile.yml"
                | "package.json"
                | "procfile"
                | "fabfile.py"
                | "rakefile"
        )
}

fn is_doc(file: &RepoFile) -> bool {
    let name = file.lower_name();
    matches!(file.extension(), "md" | "adoc" | "rst" | "txt")
        && !name.starts_with("changelog")
        && !name.starts_with("license")
        && !file.lower.contains("migrations/")
}

/// A `rollback` target in a Makefile (`rollback:`) or justfile (`rollback version:`).
fn rollback_target(text: &str) -> Option<usize> {
    text.lines().enumerate().find_map(|(i, line)| {
        let head = line.split(':').next()?;
        let mut words = head.split_whitespace();
        let first = words.next()?;
        let is_target = !line.starts_with(char::is_whitespace)
            && line.contains(':')
            && !line.contains(":=")
            && first.to_lowercase().contains("rollback");
        is_target.then_some(i + 1)
    })
}

/// `workflow_dispatch` with an input naming a version, tag, ref, image or sha.
fn dispatch_with_version(text: &str) -> Option<usize> {
    let at = text.find("workflow_dispatch")?;
    let rest = &text[at..];
    let inputs = rest.find("inputs:")?;
    let window: String = rest[inputs..].chars().take(600).collect();
    let names_version = window.lines().skip(1).any(|l| {
        let key = l.trim().trim_end_matches(':').to_lowercase();
        l.trim().ends_with(':')
            && ["version", "tag", "ref", "image", "sha", "release", "commit"]
                .iter()
                .any(|w| key.contains(w))
    });
    names_version.then(|| find_line(text, "workflow_dispatch").unwrap_or(1))
}

pub(crate) fn check_rollback(ctx: &Context) -> CheckResult {
    let mut mechanisms: Vec<String> = Vec::new();
    for file in &ctx.iac {
        if file.tool == "Helm" {
            mechanisms.push(format!(
                "{} (Helm chart: `helm rollback` restores a release)",
                file.path
            ));
        }
        if file.tool == "Kubernetes" {
            let text = ctx.tree.read(&file.path).unwrap_or_default();
            if let Some(line) = find_line(&text, "kind: Rollout") {
                mechanisms.push(format!("{}:{line} (Argo Rollouts)", file.path));
            } else if text.contains("argoproj.io") {
                if let Some(line) = find_line(&text, "kind: Application") {
                    mechanisms.push(format!("{}:{line} (Argo CD application)", file.path));
                }
            }
        }
    }
    for file in ctx.tree.files.iter().filter(|f| is_script_like(f)) {
        if file.lower_name().contains("rollback") && !file.lower.contains("migrat") {
            mechanisms.push(format!("{} (rollback script)", file.path));
            continue;
        }
        let Some(text) = ctx.tree.read(&file.path) else {
            continue;
        };
        if let Some((line, command)) = ROLLBACK_COMMANDS
            .iter()
            .find_map(|c| find_line(&text, c).map(|l| (l, c)))
        {
            mechanisms.push(format!("{}:{line} `{command}`", file.path));
        } else if matches!(file.lower_name(), "makefile" | "justfile" | ".justfile") {
            if let Some(line) = rollback_target(&text) {
                mechanisms.push(format!("{}:{line} rollback target", file.path));
            }
        } else if file.lower.starts_with(".github/workflows/") {
            if let Some(line) = dispatch_with_version(&text) {
                mechanisms.push(format!(
                    "{}:{line} deploy workflow takes a version to redeploy",
                    file.path
                ));
            }
        }
    }
    let runbook = ctx.tree.files.iter().filter(|f| is_doc(f)).find_map(|f| {
        let text = ctx.tree.read(&f.path)?;
        let lower = text.to_lowercase();
        ["rollback", "roll back", "roll-back", "rolling back"]
            .iter()
            .find_map(|w| find_line(&lower, w))
            .map(|line| format!("{}:{line} documents rollback", f.path))
    });
    // A deployment that runs `:latest` cannot be rolled back to a known image.
    let latest: Vec<String> = ctx
        .iac
        .iter()
        .filter(|f| matches!(f.tool, "Kubernetes" | "Helm"))
        .filter_map(|f| {
            let text = ctx.tree.read(&f.path)?;
            let line = text.lines().position(|l| {
                let l = l.trim();
                l.starts_with("image:") && l.trim_end_matches(['"', '\'']).ends_with(":latest")
            })?;
            Some(format!("{}:{} image tagged :latest", f.path, line + 1))
        })
        .collect();

    let mut evidence = mechanisms.clone();
    evidence.extend(runbook.clone());
    evidence.extend(latest.clone());
    let measured = json!({
        "mechanisms": mechanisms.len(),
        "runbook": runbook.is_some(),
        "latest_images": latest.len(),
    });
    let (status, summary) = match (mechanisms.is_empty(), runbook.is_some()) {
        (false, true) if latest.is_empty() => (
            CheckStatus::Pass,
            "A rollback mechanism and a runbook that mentions rollback".to_owned(),
        ),
        (false, true) => (
            CheckStatus::Warn,
            "A rollback mechanism and a runbook, but deployed images are tagged :latest".to_owned(),
        ),
        (false, false) => (
            CheckStatus::Warn,
            "A rollback mechanism, but no runbook mentions how to roll back".to_owned(),
        ),
        (true, true) => (
            CheckStatus::Warn,
            "Rollback is documented, but no one-command mechanism was found".to_owned(),
        ),
        (true, false) => (
            CheckStatus::Fail,
            "No rollback mechanism and no documented rollback".to_owned(),
        ),
    };
    ROLLBACK
        .result(status, summary)
        .with_evidence(evidence)
        .with_measured(measured)
}

const STAGING_WORDS: &[&str] = &["staging", "stage", "stg", "preprod", "pre-prod"];
const PRODUCTION_WORDS: &[&str] = &["production", "prod", "prd", "live"];

/// The environment a path names (in a folder or a file-name part), and the path with that
/// word replaced, so `values-staging.yaml` and `values-prod.yaml` share a key.
fn environment_of(path: &str) -> Option<(bool, String)> {
    let mut is_staging = None;
    let mut key = String::new();
    for (i, segment) in path.split('/').enumerate() {
        if i > 0 {
            key.push('/');
        }
        let mut rebuilt = String::new();
        let mut rest = segment;
        // Split on `-`, `_` and `.`, keeping the separators.
        while !rest.is_empty() {
            let end = rest.find(['-', '_', '.']).unwrap_or(rest.len());
            let word = &rest[..end];
            let lower = word.to_lowercase();
            if is_staging.is_none() && STAGING_WORDS.contains(&lower.as_str()) {
                is_staging = Some(true);
                rebuilt.push_str("{env}");
            } else if is_staging.is_none() && PRODUCTION_WORDS.contains(&lower.as_str()) {
                is_staging = Some(false);
                rebuilt.push_str("{env}");
            } else {
                rebuilt.push_str(word);
            }
            if end < rest.len() {
                rebuilt.push_str(&rest[end..end + 1]);
                rest = &rest[end + 1..];
            } else {
                rest = "";
            }
        }
        key.push_str(&rebuilt);
    }
    is_staging.map(|s| (s, key))
}

/// Configuration keys of a file: dotted YAML paths, `key =` names, `KEY=` lines, JSON paths.
fn config_keys(path: &str, text: &str) -> BTreeSet<String> {
    let mut keys = BTreeSet::new();
    let lower = path.to_lowercase();
    if lower.ends_with(".json") {
        if let Ok(value) = serde_json::from_str::<serde_json::Value>(text) {
            flatten_json("", &value, &mut keys);
        }
        return keys;
    }
    if lower.ends_with(".yaml") || lower.ends_with(".yml") {
        let mut stack: Vec<(usize, String)> = Vec::new();
        for line in text.lines() {
            let trimmed = line.trim_start();
            if trimmed.is_empty() || trimmed.starts_with('#') || trimmed.starts_with('-') {
                continue;
            }
            let indent = line.len() - trimmed.len();
            let Some((key, _)) = trimmed.split_once(':') else {
                continue;
            };
            if key.contains(' ') || key.is_empty() {
                continue;
            }
            while stack.last().is_some_and(|(i, _)| *i >= indent) {
                stack.pop();
            }
            let mut full: Vec<&str> = stack.iter().map(|(_, k)| k.as_str()).collect();
            full.push(key);
            keys.insert(full.join("."));
            stack.push((indent, key.to_owned()));
        }
        return keys;
    }
    for line in text.lines() {
        let line = line.trim().trim_start_matches("export ");
        if line.starts_with('#') {
            continue;
        }
        if let Some((key, _)) = line.split_once('=') {
            let key = key.trim();
            if !key.is_empty() && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                keys.insert(key.to_owned());
            }
        } else if let Some(rest) = line.strip_prefix("module \"") {
            keys.insert(format!("module.{}", rest.split('"').next().unwrap_or("")));
        } else if let Some(rest) = line.strip_prefix("resource \"") {
            let parts: Vec<&str> = rest.split('"').collect();
            keys.insert(format!(
                "{}.{}",
                parts.first().unwrap_or(&""),
                parts.get(2).unwrap_or(&"")
            ));
        }
    }
    keys
}

fn flatten_json(prefix: &str, value: &serde_json::Value, keys: &mut BTreeSet<String>) {
    if let Some(map) = value.as_object() {
        for (k, v) in map {
            let path = if prefix.is_empty() {
                k.clone()
            } else {
                format!("{prefix}.{k}")
            };
            keys.insert(path.clone());
            flatten_json(&path, v, keys);
        }
    }
}

fn is_config_file(file: &RepoFile) -> bool {
    let name = file.lower_name();
    (matches!(
        file.extension(),
        "yaml" | "yml" | "json" | "tfvars" | "tf" | "env" | "hcl" | "toml"
    ) || name.starts_with(".env"))
        && !file.lower.starts_with(".github/")
        && !file.lower.starts_with(".gitlab")
        && !file.lower.contains("test")
}

pub(crate) fn check_staging_parity(ctx: &Context) -> CheckResult {
    // key → (staging files, production files)
    let mut pairs: BTreeMap<String, (Vec<&RepoFile>, Vec<&RepoFile>)> = BTreeMap::new();
    for file in ctx.tree.files.iter().filter(|f| is_config_file(f)) {
        if let Some((staging, key)) = environment_of(&file.path) {
            let entry = pairs.entry(key).or_default();
            if staging {
                entry.0.push(file);
            } else {
                entry.1.push(file);
            }
        }
    }
    let matched: Vec<(&RepoFile, &RepoFile)> = pairs
        .values()
        .filter_map(|(s, p)| Some((*s.first()?, *p.first()?)))
        .collect();
    if matched.is_empty() {
        return CheckResult::could_not_run(
            &STAGING_PARITY,
            "no staging and production configuration side by side in the repository",
        );
    }
    // Files present for one environment only, in folders where both exist.
    let both_dirs: BTreeSet<String> = matched
        .iter()
        .flat_map(|(s, p)| [s.dir().to_owned(), p.dir().to_owned()])
        .collect();
    let one_sided: Vec<String> = pairs
        .values()
        .filter(|(s, p)| s.is_empty() != p.is_empty())
        .flat_map(|(s, p)| s.iter().chain(p.iter()))
        .filter(|f| both_dirs.contains(f.dir()))
        .map(|f| format!("{}: no counterpart in the other environment", f.path))
        .collect();
    let mut evidence = Vec::new();
    let mut worst = 0.0_f64;
    for (staging, production) in &matched {
        let a = config_keys(
            &staging.path,
            &ctx.tree.read(&staging.path).unwrap_or_default(),
        );
        let b = config_keys(
            &production.path,
            &ctx.tree.read(&production.path).unwrap_or_default(),
        );
        let union = a.union(&b).count();
        let differing: Vec<&String> = a.symmetric_difference(&b).collect();
        let share = if union == 0 {
            0.0
        } else {
            differing.len() as f64 / union as f64
        };
        worst = worst.max(share);
        let sample = differing
            .iter()
            .take(5)
            .map(|k| k.as_str())
            .collect::<Vec<_>>()
            .join(", ");
        evidence.push(format!(
            "{} vs {}: {} of {union} keys differ ({:.0} %){}",
            staging.path,
            production.path,
            differing.len(),
            share * 100.0,
            if sample.is_empty() {
                String::new()
            } else {
                format!(": {sample}")
            }
        ));
    }
    evidence.extend(one_sided.iter().cloned());
    let measured = json!({ "pairs": matched.len(), "worst_key_diff": worst, "one_sided_files": one_sided.len() });
    let status = if worst <= 0.10 && one_sided.is_empty() {
        CheckStatus::Pass
    } else {
        CheckStatus::Warn
    };
    let summary = format!(
        "{} staging/production configuration pair(s); largest key difference {:.0} %{}",
        matched.len(),
        worst * 100.0,
        if one_sided.is_empty() {
            String::new()
        } else {
            format!(
                ", {} file(s) exist for one environment only",
                one_sided.len()
            )
        }
    );
    STAGING_PARITY
        .result(status, summary)
        .with_evidence(evidence)
        .with_measured(measured)
}

/// Libraries that generate an OpenAPI document from the code.
const OPENAPI_GENERATORS: &[&str] = &[
    "utoipa",
    "aide",
    "poem-openapi",
    "okapi",
    "rocket_okapi",
    "paperclip",
    "springdoc-openapi-starter-webmvc-ui",
    "springdoc-openapi-ui",
    "springfox-swagger2",
    "drf-spectacular",
    "drf-yasg",
    "fastapi",
    "flasgger",
    "apispec",
    "flask-smorest",
    "connexion",
    "@nestjs/swagger",
    "swagger-jsdoc",
    "tsoa",
    "@fastify/swagger",
    "express-openapi",
    "github.com/swaggo/swag",
    "github.com/danielgtaylor/huma/v2",
    "rswag",
    "rswag-specs",
    "grape-swagger",
    "swashbuckle.aspnetcore",
    "nswag.aspnetcore",
];

pub(crate) fn check_openapi(ctx: &Context) -> CheckResult {
    let mut documents = Vec::new();
    for file in &ctx.tree.files {
        if !matches!(file.extension(), "yaml" | "yml" | "json") || file.size > 5 * 1024 * 1024 {
            continue;
        }
        let name = file.lower_name();
        let by_name = name.starts_with("openapi")
            || name.starts_with("swagger")
            || name.contains(".openapi.")
            || name.contains("-openapi.");
        let Some(head) = ctx.tree.head(&file.path, 2000) else {
            continue;
        };
        let declared = ["openapi:", "\"openapi\":", "swagger:", "\"swagger\":"]
            .iter()
            .find_map(|m| find_line(&head, m));
        if let Some(line) = declared {
            documents.push(format!("{}:{line} OpenAPI/Swagger document", file.path));
        } else if by_name && head.contains("paths") {
            documents.push(format!("{} (named as an OpenAPI document)", file.path));
        }
    }
    let generators: Vec<&Dependency> = ctx
        .deps
        .list
        .iter()
        .filter(|d| OPENAPI_GENERATORS.contains(&d.name.as_str()))
        .collect();
    let schemas: Vec<String> = ctx
        .tree
        .files
        .iter()
        .filter(|f| matches!(f.extension(), "graphql" | "gql" | "proto"))
        .take(5)
        .map(|f| format!("{} (schema)", f.path))
        .collect();
    let mut evidence = documents.clone();
    evidence.extend(
        generators
            .iter()
            .map(|d| format!("{} generates an OpenAPI document", d.evidence())),
    );
    evidence.extend(schemas.iter().cloned());
    let measured = json!({
        "documents": documents.len(),
        "generators": generators.len(),
        "schemas": schemas.len(),
    });
    let (status, summary) = if !documents.is_empty() {
        (
            CheckStatus::Pass,
            format!(
                "{} OpenAPI/Swagger document(s) in the repository",
                documents.len()
            ),
        )
    } else if !generators.is_empty() {
        (
            CheckStatus::Pass,
            "The OpenAPI document is generated from code (no file committed)".to_owned(),
        )
    } else if !schemas.is_empty() {
        (
            CheckStatus::Pass,
            "A GraphQL or protobuf schema describes the API".to_owned(),
        )
    } else {
        (
            CheckStatus::Warn,
            "No OpenAPI document, generator or API schema in the repository".to_owned(),
        )
    };
    OPENAPI
        .result(status, summary)
        .with_evidence(evidence)
        .with_measured(measured)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn environments_pair_up() {
        assert_eq!(
            environment_of("deploy/values-staging.yaml"),
            Some((true, "deploy/values-{env}.yaml".to_owned()))
        );
        assert_eq!(
            environment_of("deploy/values-prod.yaml"),
            Some((false, "deploy/values-{env}.yaml".to_owned()))
        );
        assert_eq!(
            environment_of("k8s/overlays/production/deployment.yaml"),
            Some((false, "k8s/overlays/{env}/deployment.yaml".to_owned()))
        );
        assert_eq!(environment_of("src/main.rs"), None);
    }

    #[test]
    fn yaml_keys_are_dotted_paths() {
        let keys = config_keys("v.yaml", "image:\n  tag: 1\n  repo: x\nreplicas: 2\n");
        let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
        assert_eq!(keys, vec!["image", "image.repo", "image.tag", "replicas"]);
    }

    #[test]
    fn rollback_targets() {
        assert_eq!(
            rollback_target("deploy:\n\t./d\nrollback: deploy\n"),
            Some(3)
        );
        assert_eq!(
            rollback_target("rollback version:\n  ./r {{version}}\n"),
            Some(1)
        );
        assert_eq!(rollback_target("ROLLBACK := 1\n"), None);
    }
}

#[cfg(test)]
mod dockerfile_name_tests {
    use super::dockerfile_name;

    #[test]
    fn source_files_named_after_dockerfiles_are_not_dockerfiles() {
        for name in [
            "dockerfile",
            "dockerfile.prod",
            "api.dockerfile",
            "containerfile",
        ] {
            assert!(dockerfile_name(name), "{name}");
        }
        for name in [
            "dockerfile.rs",
            "dockerfile.md",
            "dockerfile.yaml",
            "dockerfiles",
        ] {
            assert!(!dockerfile_name(name), "{name}");
        }
    }
}
