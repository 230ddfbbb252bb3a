//! Dependencies read from the manifests of each ecosystem, and the libraries that show
//! observability, queues and caches. Manifests are parsed where a parser is at hand (JSON,
//! TOML) and read line by line otherwise; lock files are not read, so only direct
//! dependencies count — the libraries the team chose.
use serde_json::json;

use super::super::model::{CheckArea, CheckResult, CheckSpec, CheckStatus};
use super::tree::{find_line, Tree};
use super::Context;
use crate::findings::Severity;

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Dependency {
    /// Lowercased: `@opentelemetry/api`, `tracing-subscriber`, `go.uber.org/zap`.
    pub name: String,
    /// Cargo features named on the dependency (tracing-subscriber's `json`).
    pub features: Vec<String>,
    pub manifest: String,
    pub line: usize,
    pub ecosystem: &'static str,
}

impl Dependency {
    pub fn evidence(&self) -> String {
        format!(
            "{}:{} {} ({})",
            self.manifest, self.line, self.name, self.ecosystem
        )
    }
}

#[derive(Debug, Clone, Default)]
pub(crate) struct Dependencies {
    pub manifests: Vec<String>,
    pub list: Vec<Dependency>,
}

impl Dependencies {
    pub fn read(tree: &Tree) -> Dependencies {
        let mut deps = Dependencies::default();
        for file in &tree.files {
            let name = file.lower_name();
            let ecosystem = match name {
                "package.json" => "Node.js",
                "cargo.toml" => "Rust",
                "go.mod" => "Go",
                "pyproject.toml" | "pipfile" | "setup.py" | "setup.cfg" => "Python",
                n if n.starts_with("requirements") && n.ends_with(".txt") => "Python",
                "gemfile" => "Ruby",
                "pom.xml" | "build.gradle" | "build.gradle.kts" => "Java",
                "composer.json" => "PHP",
                n if n.ends_with(".csproj") => ".NET",
                _ => continue,
            };
            let Some(text) = tree.read(&file.path) else {
                continue;
            };
            deps.manifests.push(file.path.clone());
            let mut found: Vec<(String, Vec<String>)> = Vec::new();
            match name {
                "package.json" | "composer.json" => json_dependencies(&text, &mut found),
                "cargo.toml" => cargo_dependencies(&text, &mut found),
                "pyproject.toml" | "pipfile" => pyproject_dependencies(&text, &mut found),
                "go.mod" => go_dependencies(&text, &mut found),
                "gemfile" => gem_dependencies(&text, &mut found),
                "pom.xml" => xml_values(&text, "<artifactId>", "</artifactId>", &mut found),
                n if n.ends_with(".csproj") => {
                    xml_values(&text, "Include=\"", "\"", &mut found);
                }
                "build.gradle" | "build.gradle.kts" => gradle_dependencies(&text, &mut found),
                // requirements*.txt, setup.py, setup.cfg: one requirement per line or string.
                _ => requirement_lines(&text, &mut found),
            }
            for (dep, features) in found {
                let line = find_line(&text, &dep)
                    .or_else(|| find_line(&text.to_lowercase(), &dep))
                    .unwrap_or(1);
                deps.list.push(Dependency {
                    name: dep,
                    features,
                    manifest: file.path.clone(),
                    line,
                    ecosystem,
                });
            }
        }
        deps
    }

    /// Dependencies matching any pattern (`name` exactly, `prefix*`), with the pattern's label.
    pub fn matching<'a>(&'a self, table: &'a [Lib]) -> Vec<(&'a Dependency, &'a Lib)> {
        let mut out = Vec::new();
        for dep in &self.list {
            if let Some(lib) = table.iter().find(|lib| lib.matches(dep)) {
                out.push((dep, lib));
            }
        }
        out
    }
}

/// A library we look for: a name or `prefix*` pattern and what it gives.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Lib {
    pub pattern: &'static str,
    pub kind: Kind,
}

impl Lib {
    fn matches(&self, dep: &Dependency) -> bool {
        let hit = match self.pattern.strip_suffix('*') {
            Some(prefix) => dep.name.starts_with(prefix),
            None => dep.name == self.pattern,
        };
        // tracing-subscriber writes structured logs only with its `json` feature.
        hit && (self.pattern != "tracing-subscriber" || dep.features.iter().any(|f| f == "json"))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Tracing,
    Metrics,
    /// OpenTelemetry and APM agents: traces and metrics.
    TracingAndMetrics,
    ErrorTracking,
    StructuredLogs,
    Queue,
    Cache,
}

impl Kind {
    pub fn label(self) -> &'static str {
        match self {
            Kind::Tracing => "tracing",
            Kind::Metrics => "metrics",
            Kind::TracingAndMetrics => "tracing and metrics",
            Kind::ErrorTracking => "error tracking",
            Kind::StructuredLogs => "structured logs",
            Kind::Queue => "queue",
            Kind::Cache => "cache",
        }
    }
}

const fn lib(pattern: &'static str, kind: Kind) -> Lib {
    Lib { pattern, kind }
}

pub(crate) const OBSERVABILITY: &[Lib] = &[
    // OpenTelemetry in every ecosystem, and APM agents.
    lib("@opentelemetry/*", Kind::TracingAndMetrics),
    lib("opentelemetry*", Kind::TracingAndMetrics),
    lib("tracing-opentelemetry", Kind::Tracing),
    lib("go.opentelemetry.io/*", Kind::TracingAndMetrics),
    lib("io.opentelemetry*", Kind::TracingAndMetrics),
    lib("@vercel/otel", Kind::TracingAndMetrics),
    lib("dd-trace", Kind::TracingAndMetrics),
    lib("ddtrace", Kind::TracingAndMetrics),
    lib("dd-java-agent", Kind::TracingAndMetrics),
    lib("gopkg.in/datadog/dd-trace-go.v1", Kind::TracingAndMetrics),
    lib("newrelic", Kind::TracingAndMetrics),
    lib("newrelic_rpm", Kind::TracingAndMetrics),
    lib("github.com/newrelic/go-agent*", Kind::TracingAndMetrics),
    lib("elastic-apm*", Kind::TracingAndMetrics),
    lib("elastic-apm-node", Kind::TracingAndMetrics),
    lib("scout_apm", Kind::TracingAndMetrics),
    lib("aws-xray-sdk*", Kind::Tracing),
    lib("jaeger-client", Kind::Tracing),
    lib("@honeycombio/*", Kind::Tracing),
    lib("honeycomb-beeline", Kind::Tracing),
    // Prometheus and StatsD clients.
    lib("prom-client", Kind::Metrics),
    lib("prometheus", Kind::Metrics),
    lib("prometheus-client", Kind::Metrics),
    lib("prometheus_client", Kind::Metrics),
    lib("prometheus-flask-exporter", Kind::Metrics),
    lib("django-prometheus", Kind::Metrics),
    lib("prometheus-fastapi-instrumentator", Kind::Metrics),
    lib("metrics-exporter-prometheus", Kind::Metrics),
    lib("autometrics", Kind::Metrics),
    lib("axum-prometheus", Kind::Metrics),
    lib("actix-web-prom", Kind::Metrics),
    lib("github.com/prometheus/client_golang", Kind::Metrics),
    lib("micrometer-*", Kind::Metrics),
    lib("simpleclient*", Kind::Metrics),
    lib("yabeda*", Kind::Metrics),
    lib("hot-shots", Kind::Metrics),
    lib("statsd", Kind::Metrics),
    lib("node-statsd", Kind::Metrics),
    lib("datadog", Kind::Metrics),
    lib("promphp/prometheus_client_php", Kind::Metrics),
    lib("prometheus-net*", Kind::Metrics),
    // Error tracking.
    lib("@sentry/*", Kind::ErrorTracking),
    lib("sentry*", Kind::ErrorTracking),
    lib("github.com/getsentry/sentry-go", Kind::ErrorTracking),
    lib("io.sentry*", Kind::ErrorTracking),
    lib("bugsnag*", Kind::ErrorTracking),
    lib("@bugsnag/*", Kind::ErrorTracking),
    lib("rollbar*", Kind::ErrorTracking),
    lib("honeybadger*", Kind::ErrorTracking),
    lib("@honeybadger-io/*", Kind::ErrorTracking),
    lib("airbrake*", Kind::ErrorTracking),
    // Structured (JSON) logging.
    lib("pino*", Kind::StructuredLogs),
    lib("winston", Kind::StructuredLogs),
    lib("bunyan", Kind::StructuredLogs),
    lib("@nestjs/pino*", Kind::StructuredLogs),
    lib("structlog", Kind::StructuredLogs),
    lib("python-json-logger", Kind::StructuredLogs),
    lib("json-logging", Kind::StructuredLogs),
    lib("loguru", Kind::StructuredLogs),
    lib("lograge", Kind::StructuredLogs),
    lib("semantic_logger", Kind::StructuredLogs),
    lib("rails_semantic_logger", Kind::StructuredLogs),
    lib("ougai", Kind::StructuredLogs),
    lib("logstash-logback-encoder", Kind::StructuredLogs),
    lib("ecs-logging-java", Kind::StructuredLogs),
    lib("go.uber.org/zap", Kind::StructuredLogs),
    lib("github.com/rs/zerolog", Kind::StructuredLogs),
    lib("github.com/sirupsen/logrus", Kind::StructuredLogs),
    lib("tracing-subscriber", Kind::StructuredLogs),
    lib("tracing-bunyan-formatter", Kind::StructuredLogs),
    lib("slog-json", Kind::StructuredLogs),
    lib("json_env_logger", Kind::StructuredLogs),
    lib("serilog*", Kind::StructuredLogs),
    lib("monolog/monolog", Kind::StructuredLogs),
];

pub(crate) const QUEUES: &[Lib] = &[
    // Ruby
    lib("sidekiq", Kind::Queue),
    lib("resque", Kind::Queue),
    lib("good_job", Kind::Queue),
    lib("solid_queue", Kind::Queue),
    lib("delayed_job", Kind::Queue),
    lib("delayed_job_active_record", Kind::Queue),
    lib("que", Kind::Queue),
    lib("sneakers", Kind::Queue),
    lib("bunny", Kind::Queue),
    lib("karafka", Kind::Queue),
    lib("shoryuken", Kind::Queue),
    // Python
    lib("celery", Kind::Queue),
    lib("rq", Kind::Queue),
    lib("dramatiq", Kind::Queue),
    lib("huey", Kind::Queue),
    lib("arq", Kind::Queue),
    lib("kombu", Kind::Queue),
    lib("pika", Kind::Queue),
    lib("aio-pika", Kind::Queue),
    lib("confluent-kafka", Kind::Queue),
    lib("kafka-python", Kind::Queue),
    lib("aiokafka", Kind::Queue),
    lib("nats-py", Kind::Queue),
    lib("taskiq", Kind::Queue),
    lib("procrastinate", Kind::Queue),
    // Node.js
    lib("bullmq", Kind::Queue),
    lib("bull", Kind::Queue),
    lib("bee-queue", Kind::Queue),
    lib("agenda", Kind::Queue),
    lib("pg-boss", Kind::Queue),
    lib("graphile-worker", Kind::Queue),
    lib("amqplib", Kind::Queue),
    lib("amqp-connection-manager", Kind::Queue),
    lib("kafkajs", Kind::Queue),
    lib("@aws-sdk/client-sqs", Kind::Queue),
    lib("sqs-consumer", Kind::Queue),
    lib("nats", Kind::Queue),
    lib("@google-cloud/pubsub", Kind::Queue),
    lib("@nestjs/bull*", Kind::Queue),
    lib("inngest", Kind::Queue),
    lib("faktory-worker", Kind::Queue),
    // Rust
    lib("lapin", Kind::Queue),
    lib("apalis*", Kind::Queue),
    lib("rdkafka", Kind::Queue),
    lib("async-nats", Kind::Queue),
    lib("aws-sdk-sqs", Kind::Queue),
    lib("fang", Kind::Queue),
    lib("sqlxmq", Kind::Queue),
    lib("underway", Kind::Queue),
    lib("faktory", Kind::Queue),
    // Go
    lib("github.com/hibiken/asynq", Kind::Queue),
    lib("github.com/riverqueue/river*", Kind::Queue),
    lib("github.com/ibm/sarama", Kind::Queue),
    lib("github.com/shopify/sarama", Kind::Queue),
    lib("github.com/segmentio/kafka-go", Kind::Queue),
    lib("github.com/confluentinc/confluent-kafka-go*", Kind::Queue),
    lib("github.com/nats-io/nats.go", Kind::Queue),
    lib("github.com/rabbitmq/amqp091-go", Kind::Queue),
    lib("github.com/streadway/amqp", Kind::Queue),
    lib("github.com/contribsys/faktory*", Kind::Queue),
    lib("github.com/aws/aws-sdk-go-v2/service/sqs", Kind::Queue),
    // Java
    lib("spring-kafka", Kind::Queue),
    lib("spring-rabbit", Kind::Queue),
    lib("spring-boot-starter-amqp", Kind::Queue),
    lib("kafka-clients", Kind::Queue),
    lib("jobrunr*", Kind::Queue),
    lib("quartz", Kind::Queue),
    // PHP, .NET
    lib("php-amqplib/php-amqplib", Kind::Queue),
    lib("laravel/horizon", Kind::Queue),
    lib("symfony/messenger", Kind::Queue),
    lib("hangfire*", Kind::Queue),
    lib("masstransit*", Kind::Queue),
    lib("rabbitmq.client", Kind::Queue),
];

pub(crate) const CACHES: &[Lib] = &[
    // Node.js
    lib("ioredis", Kind::Cache),
    lib("redis", Kind::Cache),
    lib("@redis/client", Kind::Cache),
    lib("@upstash/redis", Kind::Cache),
    lib("memcached", Kind::Cache),
    lib("memjs", Kind::Cache),
    lib("keyv", Kind::Cache),
    lib("cache-manager", Kind::Cache),
    lib("node-cache", Kind::Cache),
    lib("lru-cache", Kind::Cache),
    // Python
    lib("redis-py", Kind::Cache),
    lib("django-redis", Kind::Cache),
    lib("pymemcache", Kind::Cache),
    lib("python-memcached", Kind::Cache),
    lib("cachetools", Kind::Cache),
    lib("dogpile.cache", Kind::Cache),
    lib("flask-caching", Kind::Cache),
    lib("aiocache", Kind::Cache),
    // Ruby
    lib("dalli", Kind::Cache),
    lib("redis-rails", Kind::Cache),
    lib("redis-store", Kind::Cache),
    lib("solid_cache", Kind::Cache),
    // Rust
    lib("deadpool-redis", Kind::Cache),
    lib("bb8-redis", Kind::Cache),
    lib("fred", Kind::Cache),
    lib("moka", Kind::Cache),
    lib("cached", Kind::Cache),
    lib("quick_cache", Kind::Cache),
    lib("mini-moka", Kind::Cache),
    lib("memcache", Kind::Cache),
    // Go
    lib("github.com/redis/go-redis*", Kind::Cache),
    lib("github.com/go-redis/redis*", Kind::Cache),
    lib("github.com/gomodule/redigo", Kind::Cache),
    lib("github.com/bradfitz/gomemcache", Kind::Cache),
    lib("github.com/dgraph-io/ristretto*", Kind::Cache),
    lib("github.com/allegro/bigcache*", Kind::Cache),
    lib("github.com/patrickmn/go-cache", Kind::Cache),
    // Java
    lib("caffeine", Kind::Cache),
    lib("ehcache", Kind::Cache),
    lib("jedis", Kind::Cache),
    lib("lettuce-core", Kind::Cache),
    lib("redisson*", Kind::Cache),
    lib("spring-boot-starter-cache", Kind::Cache),
    lib("spring-boot-starter-data-redis", Kind::Cache),
    // PHP, .NET
    lib("predis/predis", Kind::Cache),
    lib("stackexchange.redis", Kind::Cache),
    lib("microsoft.extensions.caching.*", Kind::Cache),
];

fn json_dependencies(text: &str, out: &mut Vec<(String, Vec<String>)>) {
    let Ok(value) = serde_json::from_str::<serde_json::Value>(text) else {
        return;
    };
    for section in [
        "dependencies",
        "devDependencies",
        "peerDependencies",
        "optionalDependencies",
        "require",
        "require-dev",
    ] {
        if let Some(map) = value.get(section).and_then(|v| v.as_object()) {
            out.extend(map.keys().map(|k| (k.to_lowercase(), Vec::new())));
        }
    }
}

fn cargo_dependencies(text: &str, out: &mut Vec<(String, Vec<String>)>) {
    let Ok(value) = text.parse::<toml::Table>() else {
        return;
    };
    let mut tables: Vec<&toml::Table> = Vec::new();
    for section in ["dependencies", "dev-dependencies", "build-dependencies"] {
        if let Some(t) = value.get(section).and_then(|v| v.as_table()) {
            tables.push(t);
        }
    }
    if let Some(t) = value
        .get("workspace")
        .and_then(|w| w.get("dependencies"))
        .and_then(|v| v.as_table())
    {
        tables.push(t);
    }
    if let Some(targets) = value.get("target").and_then(|v| v.as_table()) {
        for target in targets.values() {
            if let Some(t) = target.get("dependencies").and_then(|v| v.as_table()) {
                tables.push(t);
            }
        }
    }
    for table in tables {
        for (key, spec) in table {
            // `name = { package = "real-name" }` renames a dependency.
            let name = spec
                .get("package")
                .and_then(|p| p.as_str())
                .unwrap_or(key)
                .to_lowercase();
            let features = spec
                .get("features")
                .and_then(|f| f.as_array())
                .map(|a| {
                    a.iter()
                        .filter_map(|f| f.as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default();
            out.push((name, features));
        }
    }
}

fn pyproject_dependencies(text: &str, out: &mut Vec<(String, Vec<String>)>) {
    let Ok(value) = text.parse::<toml::Table>() else {
        return;
    };
    let mut strings: Vec<&str> = Vec::new();
    if let Some(project) = value.get("project") {
        if let Some(list) = project.get("dependencies").and_then(|d| d.as_array()) {
            strings.extend(list.iter().filter_map(|v| v.as_str()));
        }
        if let Some(groups) = project
            .get("optional-dependencies")
            .and_then(|d| d.as_table())
        {
            for list in groups.values().filter_map(|v| v.as_array()) {
                strings.extend(list.iter().filter_map(|v| v.as_str()));
            }
        }
    }
    for s in strings {
        if let Some(name) = requirement_name(s) {
            out.push((name, Vec::new()));
        }
    }
    // Poetry and Pipfile keep dependencies as table keys.
    let poetry = value
        .get("tool")
        .and_then(|t| t.get("poetry"))
        .and_then(|p| p.get("dependencies"))
        .and_then(|d| d.as_table());
    let pipfile = ["packages", "dev-packages"]
        .iter()
        .filter_map(|s| value.get(*s).and_then(|d| d.as_table()))
        .collect::<Vec<_>>();
    for table in poetry.into_iter().chain(pipfile) {
        out.extend(table.keys().map(|k| (k.to_lowercase(), Vec::new())));
    }
}

/// `celery[redis]>=5.3 ; python_version > "3.8"` → `celery`.
fn requirement_name(line: &str) -> Option<String> {
    let line = line.trim();
    if line.is_empty() || line.starts_with('#') || line.starts_with('-') {
        return None;
    }
    let name: String = line
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        .collect();
    if name.is_empty() {
        None
    } else {
        Some(name.to_lowercase().replace('_', "-"))
    }
}

fn requirement_lines(text: &str, out: &mut Vec<(String, Vec<String>)>) {
    for line in text.lines() {
        let line = line
            .trim()
            .trim_matches(|c| c == '"' || c == '\'' || c == ',');
        if let Some(name) = requirement_name(line) {
            out.push((name, Vec::new()));
        }
    }
}

fn go_dependencies(text: &str, out: &mut Vec<(String, Vec<String>)>) {
    let mut in_block = false;
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with("require (") {
            in_block = true;
            continue;
        }
        if in_block && line.starts_with(')') {
            in_block = false;
            continue;
        }
        let module = if in_block {
            line.split_whitespace().next()
        } else {
            line.strip_prefix("require ")
                .and_then(|r| r.split_whitespace().next())
        };
        if let Some(module) = module.filter(|m| !m.starts_with("//")) {
            out.push((module.to_lowercase(), Vec::new()));
        }
    }
}

fn gem_dependencies(text: &str, out: &mut Vec<(String, Vec<String>)>) {
    for line in text.lines() {
        if let Some(rest) = line.trim().strip_prefix("gem ") {
            let name: String = rest
                .trim()
                .trim_start_matches(['"', '\''])
                .chars()
                .take_while(|c| !matches!(c, '"' | '\''))
                .collect();
            if !name.is_empty() {
                out.push((name.to_lowercase(), Vec::new()));
            }
        }
    }
}

fn xml_values(text: &str, open: &str, close: &str, out: &mut Vec<(String, Vec<String>)>) {
    let mut rest = text;
    while let Some(at) = rest.find(open) {
        rest = &rest[at + open.len()..];
        if let Some(end) = rest.find(close) {
            let value = rest[..end].trim();
            if !value.is_empty() && !value.contains('$') && value.len() < 200 {
                out.push((value.to_lowercase(), Vec::new()));
            }
            rest = &rest[end..];
        }
    }
}

/// `implementation("io.micrometer:micrometer-registry-prometheus:1.12")` → the artifact id.
fn gradle_dependencies(text: &str, out: &mut Vec<(String, Vec<String>)>) {
    for line in text.lines() {
        for quoted in line.split(['"', '\'']).skip(1).step_by(2) {
            let parts: Vec<&str> = quoted.split(':').collect();
            if parts.len() >= 2 && !parts[0].contains(' ') {
                out.push((parts[1].to_lowercase(), Vec::new()));
            }
        }
    }
}

pub(crate) const OBSERVABILITY_LIBRARIES: CheckSpec = CheckSpec {
    id: "repo.observability-libraries",
    area: CheckArea::Observability,
    title: "Observability libraries in the dependencies",
    severity: Severity::Medium,
    threshold: "the dependency manifests (Cargo.toml, package.json, go.mod, requirements*.txt / \
                pyproject.toml, Gemfile, pom.xml / build.gradle, composer.json, *.csproj) name \
                a tracing or metrics library (OpenTelemetry, an APM agent, a Prometheus or \
                StatsD client) and a structured-logging one (pino, structlog, zap, \
                tracing-subscriber with json, logstash encoder...); one of the two warns, \
                neither fails",
    source: "ours (reference/probes.md §3.2), library names of each ecosystem",
};

pub(crate) const QUEUE_LIBRARY: CheckSpec = CheckSpec {
    id: "repo.queue-library",
    area: CheckArea::CachingQueues,
    title: "Queue or background-job library",
    severity: Severity::Medium,
    threshold: "a job or message-queue library among the dependencies (Sidekiq, Celery, RQ, \
                BullMQ, Faktory, lapin, apalis, Kafka, NATS, SQS, RabbitMQ clients...); none \
                warns: slow work may run inside requests",
    source: "ours (reference/probes.md §3.2), library names of each ecosystem",
};

pub(crate) const CACHE_LIBRARY: CheckSpec = CheckSpec {
    id: "repo.cache-library",
    area: CheckArea::CachingQueues,
    title: "Cache library",
    severity: Severity::Low,
    threshold: "a cache client or in-process cache among the dependencies (Redis clients, \
                memcached, Caffeine, moka, cachetools...); none warns",
    source: "ours (reference/probes.md §3.2), library names of each ecosystem",
};

fn no_manifest(spec: &CheckSpec) -> CheckResult {
    CheckResult::could_not_run(spec, "no dependency manifest found in the repository")
}

pub(crate) fn check_observability(ctx: &Context) -> CheckResult {
    if ctx.deps.manifests.is_empty() {
        return no_manifest(&OBSERVABILITY_LIBRARIES);
    }
    let found = ctx.deps.matching(OBSERVABILITY);
    let has = |kinds: &[Kind]| found.iter().any(|(_, lib)| kinds.contains(&lib.kind));
    let signals = has(&[Kind::Tracing, Kind::Metrics, Kind::TracingAndMetrics]);
    let logs = has(&[Kind::StructuredLogs]);
    let errors = has(&[Kind::ErrorTracking]);
    let evidence: Vec<String> = found
        .iter()
        .map(|(dep, lib)| format!("{} — {}", dep.evidence(), lib.kind.label()))
        .collect();
    let measured = json!({
        "tracing_or_metrics": signals,
        "structured_logs": logs,
        "error_tracking": errors,
        "manifests": ctx.deps.manifests,
    });
    let (status, summary) = match (signals, logs) {
        (true, true) => (
            CheckStatus::Pass,
            "Tracing or metrics and structured logging libraries are in the dependencies",
        ),
        (true, false) => (
            CheckStatus::Warn,
            "Tracing or metrics, but no structured-logging library",
        ),
        (false, true) => (
            CheckStatus::Warn,
            "Structured logging, but no tracing or metrics library",
        ),
        (false, false) if errors => (
            CheckStatus::Warn,
            "Only error tracking: no tracing, metrics or structured-logging library",
        ),
        (false, false) => (
            CheckStatus::Fail,
            "No tracing, metrics or structured-logging library in the dependencies",
        ),
    };
    OBSERVABILITY_LIBRARIES
        .result(status, summary)
        .with_evidence(evidence)
        .with_measured(measured)
}

fn library_check(
    ctx: &Context,
    spec: &CheckSpec,
    table: &[Lib],
    what: &str,
    none: &str,
) -> CheckResult {
    if ctx.deps.manifests.is_empty() {
        return no_manifest(spec);
    }
    let found = ctx.deps.matching(table);
    let mut names: Vec<&str> = found.iter().map(|(d, _)| d.name.as_str()).collect();
    names.dedup();
    let evidence: Vec<String> = found.iter().map(|(d, _)| d.evidence()).collect();
    let measured = json!({ "libraries": names, "manifests": ctx.deps.manifests.len() });
    let result = if found.is_empty() {
        spec.result(CheckStatus::Warn, none)
    } else {
        spec.result(CheckStatus::Pass, format!("{what}: {}", names.join(", ")))
    };
    result.with_evidence(evidence).with_measured(measured)
}

pub(crate) fn check_queue_library(ctx: &Context) -> CheckResult {
    library_check(
        ctx,
        &QUEUE_LIBRARY,
        QUEUES,
        "Queue or job library",
        "No queue or background-job library: slow work may run inside requests",
    )
}

pub(crate) fn check_cache_library(ctx: &Context) -> CheckResult {
    library_check(
        ctx,
        &CACHE_LIBRARY,
        CACHES,
        "Cache library",
        "No cache client or in-process cache library in the dependencies",
    )
}
