//! The repository probe against a fixture repository built here with the `git` CLI: every
//! planted defect is found and nothing else is flagged, from the folder itself, from a tar.gz
//! and a zip of it, and from a clone over HTTPS through the guard. Hostile archives and URLs
//! are refused.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use audit::probes::error::ProbeError;
use audit::probes::guard::Guard;
use audit::probes::progress::Progress;
use audit::probes::repo::{
    check_repository_url, clone_repository, clone_repository_with, run, unpack_archive,
    unpack_archive_report, CloneOptions, RepoCaps,
};
use audit::probes::{CheckResult, CheckStatus, ProbeOutput};

const ALICE: (&str, &str) = ("Alice Deploy", "alice@example.com");
const BOB: (&str, &str) = ("Bob Docs", "bob@example.com");

/// What the fixture must yield: each planted defect, and nothing else flagged.
const EXPECTED: &[(&str, CheckStatus)] = &[
    // FROM node:latest (DL3007) and no USER (DL3002 / CKV_DOCKER_3): warnings only.
    ("repo.dockerfile", CheckStatus::Warn),
    ("repo.ci-present", CheckStatus::Pass),
    // No infrastructure as code in the fixture.
    ("repo.iac", CheckStatus::Warn),
    // No rollback mechanism and no runbook.
    ("repo.rollback", CheckStatus::Fail),
    ("repo.staging-parity", CheckStatus::CouldNotRun),
    ("repo.db-backups", CheckStatus::CouldNotRun),
    ("repo.slow-query-log-iac", CheckStatus::CouldNotRun),
    // sqlx migrations without down files.
    ("repo.migrations-down", CheckStatus::Fail),
    ("repo.migration-lint", CheckStatus::Pass),
    ("repo.openapi-spec", CheckStatus::Warn),
    ("repo.observability-libraries", CheckStatus::Pass),
    ("repo.queue-library", CheckStatus::Pass),
    ("repo.cache-library", CheckStatus::Pass),
    ("repo.queue-dlq", CheckStatus::CouldNotRun),
    // A PR template with one checklist item.
    ("repo.review-checklist", CheckStatus::Warn),
    // No CODEOWNERS.
    ("repo.codeowners", CheckStatus::Fail),
    ("repo.adr", CheckStatus::Pass),
    ("repo.onboarding-docs", CheckStatus::Pass),
    // Only Alice ever touched the deploy files.
    ("repo.bus-factor", CheckStatus::Fail),
];

fn git(dir: &Path, args: &[&str], who: (&str, &str)) {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_AUTHOR_NAME", who.0)
        .env("GIT_AUTHOR_EMAIL", who.1)
        .env("GIT_COMMITTER_NAME", who.0)
        .env("GIT_COMMITTER_EMAIL", who.1)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn commit(dir: &Path, who: (&str, &str), files: &[(&str, &str)], message: &str) {
    for (path, text) in files {
        let path = dir.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    git(dir, &["add", "-A"], who);
    git(dir, &["commit", "-q", "-m", message], who);
}

fn today() -> String {
    time::OffsetDateTime::now_utc().date().to_string()
}

/// The fixture: a small Node.js service with the defects listed in `EXPECTED`.
fn build_fixture(dir: &Path) {
    std::fs::create_dir_all(dir).unwrap();
    git(dir, &["init", "-q", "-b", "main"], ALICE);
    commit(
        dir,
        BOB,
        &[
            (
                "README.md",
                "# Shop\n\nThe shop's API.\n\n## Getting started\n\n```sh\nnpm install\nnpm run dev\n```\n\n## License\n\nMIT\n",
            ),
            (
                "package.json",
                r#"{
  "name": "shop",
  "version": "1.0.0",
  "scripts": { "dev": "node src/index.js", "test": "node --test" },
  "dependencies": {
    "@opentelemetry/api": "^1.9.0",
    "pino": "^9.0.0",
    "bullmq": "^5.0.0",
    "ioredis": "^5.4.0",
    "pg": "^8.11.0",
    "express": "^4.19.0"
  }
}
"#,
            ),
            ("src/index.js", "const express = require('express');\nexpress().listen(3000);\n"),
        ],
        "Start the shop",
    );
    commit(
        dir,
        ALICE,
        &[
            (
                "Dockerfile",
                "FROM node:latest\nWORKDIR /app\nCOPY package.json ./\nRUN npm install --omit=dev\nCOPY . .\nCMD [\"node\", \"src/index.js\"]\n",
            ),
            (
                ".github/workflows/ci.yml",
                "name: CI\non:\n  push:\n    branches: [main]\n  pull_request:\njobs:\n  test:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@v4\n      - run: npm ci && npm test\n",
            ),
        ],
        "Container build and CI",
    );
    commit(
        dir,
        ALICE,
        &[
            (
                "migrations/20240101000000_create_users.sql",
                "-- Users\nCREATE TABLE users (\n  id bigserial PRIMARY KEY,\n  email text NOT NULL\n);\nCREATE UNIQUE INDEX users_email ON users (email);\n",
            ),
            (
                "migrations/20240102000000_create_orders.sql",
                "CREATE TABLE orders (\n  id bigserial PRIMARY KEY,\n  user_id bigint NOT NULL REFERENCES users (id)\n);\n",
            ),
        ],
        "Schema",
    );
    commit(
        dir,
        BOB,
        &[
            (
                "docs/adr/0001-use-postgresql.md",
                &format!(
                    "# 1. Use PostgreSQL\n\nDate: {}\n\n## Status\n\nAccepted\n\n## Context\n\nWe need a relational store.\n\n## Decision\n\nPostgreSQL.\n",
                    today()
                ),
            ),
            (
                ".github/pull_request_template.md",
                "## What changed\n\n## Checklist\n\n- [ ] Tests added\n",
            ),
        ],
        "Decision record and PR template",
    );
    // A second deploy change by the same person: still one author.
    commit(
        dir,
        ALICE,
        &[(
            "Dockerfile",
            "FROM node:latest\nWORKDIR /app\nCOPY package*.json ./\nRUN npm install --omit=dev\nCOPY . .\nCMD [\"node\", \"src/index.js\"]\n",
        )],
        "Copy the lock file too",
    );
}

fn statuses(output: &ProbeOutput) -> BTreeMap<String, CheckStatus> {
    output
        .checks
        .iter()
        .map(|c| (c.id.clone(), c.status))
        .collect()
}

fn check<'a>(output: &'a ProbeOutput, id: &str) -> &'a CheckResult {
    output.checks.iter().find(|c| c.id == id).unwrap()
}

fn assert_expected(output: &ProbeOutput, history: bool) {
    let found = statuses(output);
    let mut expected: BTreeMap<String, CheckStatus> = EXPECTED
        .iter()
        .map(|(id, s)| ((*id).to_owned(), *s))
        .collect();
    if !history {
        expected.insert("repo.bus-factor".to_owned(), CheckStatus::CouldNotRun);
    }
    assert_eq!(
        found,
        expected,
        "checks: {:#?}",
        output
            .checks
            .iter()
            .map(|c| format!("{} {:?}: {} | {:?}", c.id, c.status, c.summary, c.evidence))
            .collect::<Vec<_>>()
    );
    for c in &output.checks {
        assert!(!c.threshold.is_empty() && !c.source.is_empty(), "{}", c.id);
        assert!(c.id.starts_with("repo."));
    }

    let docker = check(output, "repo.dockerfile");
    let rules: Vec<&String> = docker
        .evidence
        .iter()
        .filter(|e| e.contains("hadolint") || e.contains("checkov"))
        .collect();
    assert_eq!(rules.len(), 2, "{:?}", docker.evidence);
    assert!(
        rules[0].starts_with("Dockerfile:1 hadolint DL3007 (warning)"),
        "{rules:?}"
    );
    assert!(
        rules[1].starts_with("Dockerfile:1 hadolint DL3002 / checkov CKV_DOCKER_3"),
        "{rules:?}"
    );

    let migrations = check(output, "repo.migrations-down");
    assert!(
        migrations
            .evidence
            .iter()
            .any(|e| e == "migrations/20240101000000_create_users.sql: no down step"),
        "{:?}",
        migrations.evidence
    );
    let review = check(output, "repo.review-checklist");
    assert!(review.evidence[0]
        .starts_with(".github/pull_request_template.md: 1 checklist item(s) from line 5"));
    let observability = check(output, "repo.observability-libraries");
    assert!(observability
        .evidence
        .iter()
        .any(|e| e.starts_with("package.json:6 @opentelemetry/api")));
    assert!(observability.evidence.iter().any(|e| e.contains("pino")));
    let onboarding = check(output, "repo.onboarding-docs");
    assert!(onboarding.evidence[0].starts_with("README.md:5 setup section with commands"));
    assert!(check(output, "repo.adr")
        .summary
        .contains("1 decision record"));

    let bus = check(output, "repo.bus-factor");
    if history {
        assert!(
            bus.evidence[0].starts_with("Alice Deploy: 3 commit(s)"),
            "{:?}",
            bus.evidence
        );
        assert!(!bus.evidence.iter().any(|e| e.contains("Bob")));
        assert!(
            !bus.evidence.iter().any(|e| e.contains('@')),
            "no e-mail addresses shown"
        );
    } else {
        assert!(
            bus.why.as_deref().unwrap().contains("no git history"),
            "{:?}",
            bus.why
        );
    }
}

#[tokio::test]
async fn fixture_folder_yields_each_planted_defect_and_nothing_else() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("shop");
    build_fixture(&repo);
    let progress = Progress::new();
    let output = run(&repo, &progress).await.unwrap();
    assert_expected(&output, true);
    let (done, total, _) = progress.snapshot();
    assert_eq!(done, total);
    assert_eq!(total, EXPECTED.len() as i64 + 1);
    assert_eq!(output.raw["history"]["commits"], 5);
}

const CAROL: (&str, &str) = ("Carol Infra", "carol@example.com");
const DEPENDABOT: (&str, &str) = (
    "dependabot[bot]",
    "49699333+dependabot[bot]@users.noreply.github.com",
);

/// A repository that does everything the checks ask for: every check passes.
fn build_well_run(dir: &Path) {
    std::fs::create_dir_all(dir).unwrap();
    git(dir, &["init", "-q", "-b", "main"], ALICE);
    commit(
        dir,
        ALICE,
        &[
            ("README.md", "# Api\n\n## Development\n\n```sh\ncargo run\n```\n"),
            (
                "Cargo.toml",
                "[package]\nname = \"api\"\nversion = \"0.1.0\"\n\n[dependencies]\nopentelemetry = \"0.27\"\ntracing-subscriber = { version = \"0.3\", features = [\"json\", \"env-filter\"] }\napalis = \"0.6\"\nmoka = \"0.12\"\nsqlx = { version = \"0.8\", features = [\"postgres\"] }\n",
            ),
            ("src/main.rs", "fn main() {}\n"),
            (
                "Dockerfile",
                "FROM rust:1.80 AS build\nWORKDIR /src\nCOPY . .\nRUN cargo build --release\nFROM debian:12-slim\nCOPY --from=build /src/target/release/api /usr/local/bin/api\nUSER 10001\nCMD [\"/usr/local/bin/api\"]\n",
            ),
            (
                "migrations/20240101000000_init.up.sql",
                "CREATE TABLE jobs (id bigint PRIMARY KEY, state text NOT NULL);\nCREATE INDEX jobs_state ON jobs (state);\n",
            ),
            ("migrations/20240101000000_init.down.sql", "DROP TABLE jobs;\n"),
            (
                "openapi.yaml",
                "openapi: 3.0.3\ninfo:\n  title: Api\n  version: 1.0.0\npaths: {}\n",
            ),
            ("CODEOWNERS", "# Everyone reviews everything\n* @acme/backend\n"),
            (
                ".github/pull_request_template.md",
                "- [ ] Tests\n- [ ] Migration has a down step\n- [ ] Logs and metrics added\n",
            ),
            (
                "docs/adr/0001-record-architecture-decisions.md",
                "# 1. Record architecture decisions\n\nDate: 2020-01-01\n",
            ),
            (
                "docs/runbook.md",
                "# Runbook\n\n## Roll back a release\n\nRun the Deploy workflow with the previous version.\n",
            ),
        ],
        "Service",
    );
    commit(
        dir,
        BOB,
        &[
            (
                ".github/workflows/ci.yml",
                "on: [push, pull_request]\njobs:\n  test:\n    runs-on: ubuntu-latest\n    steps:\n      - run: cargo test\n",
            ),
            (
                ".github/workflows/deploy.yml",
                "on:\n  workflow_dispatch:\n    inputs:\n      version:\n        required: true\njobs:\n  deploy:\n    runs-on: ubuntu-latest\n    steps:\n      - run: ./deploy.sh ${{ inputs.version }}\n",
            ),
            ("deploy/values-staging.yaml", "image:\n  tag: v1\nreplicas: 1\nenv:\n  LOG_LEVEL: info\n"),
            ("deploy/values-prod.yaml", "image:\n  tag: v1\nreplicas: 3\nenv:\n  LOG_LEVEL: warn\n"),
        ],
        "Pipelines",
    );
    commit(
        dir,
        CAROL,
        &[(
            "infra/main.tf",
            r#"resource "aws_db_parameter_group" "main" {
  family = "postgres16"
  parameter {
    name  = "log_min_duration_statement"
    value = "200"
  }
}

resource "aws_db_instance" "main" {
  engine                  = "postgres"
  parameter_group_name    = aws_db_parameter_group.main.name
  backup_retention_period = 14
}

resource "aws_sqs_queue" "jobs" {
  name = "jobs"
  redrive_policy = jsonencode({
    deadLetterTargetArn = aws_sqs_queue.jobs_dlq.arn
    maxReceiveCount     = 5
  })
}

resource "aws_sqs_queue" "jobs_dlq" {
  name = "jobs-dlq"
}
"#,
        )],
        "Infrastructure",
    );
    commit(
        dir,
        DEPENDABOT,
        &[(
            "Dockerfile",
            "FROM rust:1.81 AS build\nWORKDIR /src\nCOPY . .\nRUN cargo build --release\nFROM debian:12-slim\nCOPY --from=build /src/target/release/api /usr/local/bin/api\nUSER 10001\nCMD [\"/usr/local/bin/api\"]\n",
        )],
        "Bump rust from 1.80 to 1.81",
    );
}

#[tokio::test]
async fn a_well_run_repository_passes_every_check() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("api");
    build_well_run(&repo);
    let output = run(&repo, &Progress::new()).await.unwrap();
    let not_passing: Vec<String> = output
        .checks
        .iter()
        .filter(|c| c.status != CheckStatus::Pass)
        .map(|c| {
            format!(
                "{} {:?}: {} | {:?} | {:?}",
                c.id, c.status, c.summary, c.evidence, c.why
            )
        })
        .collect();
    assert!(not_passing.is_empty(), "{not_passing:#?}");
    assert_eq!(output.checks.len(), EXPECTED.len());

    let evidence = |id: &str| check(&output, id).evidence.join("\n");
    assert!(
        evidence("repo.bus-factor").contains("1 by bots ignored"),
        "{}",
        evidence("repo.bus-factor")
    );
    assert!(evidence("repo.queue-dlq")
        .contains("infra/main.tf:15 aws_sqs_queue.jobs: dead-letter queue, max receives 5"));
    assert!(evidence("repo.slow-query-log-iac")
        .contains("infra/main.tf:4 log_min_duration_statement = 200 ms"));
    assert!(evidence("repo.db-backups")
        .contains("infra/main.tf:9 aws_db_instance.main: backup_retention_period = 14 days"));
    assert!(evidence("repo.rollback")
        .contains(".github/workflows/deploy.yml:2 deploy workflow takes a version"));
    assert!(evidence("repo.rollback").contains("docs/runbook.md:3 documents rollback"));
    assert!(evidence("repo.staging-parity")
        .contains("deploy/values-staging.yaml vs deploy/values-prod.yaml: 0 of 5 keys differ"));
    // The ADR's written date is old, but git history says it was added today.
    assert!(check(&output, "repo.adr").summary.contains("0 day(s) old"));
}

#[tokio::test]
async fn a_cancelled_run_stops() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("shop");
    build_fixture(&repo);
    let progress = Progress::new();
    progress.cancel();
    assert_eq!(run(&repo, &progress).await, Err(ProbeError::Cancelled));
}

/// Every file under `dir`, relative, `.git` included.
fn all_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                out.push(path.strip_prefix(dir).unwrap().to_path_buf());
            }
        }
    }
    out.sort();
    out
}

fn tar_gz_of(dir: &Path, top: &str) -> Vec<u8> {
    let encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    let mut builder = tar::Builder::new(encoder);
    builder.append_dir_all(top, dir).unwrap();
    builder.into_inner().unwrap().finish().unwrap()
}

fn zip_of(dir: &Path, include_git: bool) -> Vec<u8> {
    use std::io::Write;
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default();
    for rel in all_files(dir) {
        if !include_git && rel.starts_with(".git") {
            continue;
        }
        zip.start_file(rel.to_string_lossy(), options).unwrap();
        zip.write_all(&std::fs::read(dir.join(&rel)).unwrap())
            .unwrap();
    }
    zip.finish().unwrap().into_inner()
}

#[tokio::test]
async fn archives_of_the_fixture_yield_the_same_results() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("shop");
    build_fixture(&repo);
    let caps = RepoCaps::default();

    // tar.gz with GitHub's `repo-main/` top folder and the history; the name says nothing.
    let dest = tmp.path().join("from-tar");
    let report =
        unpack_archive_report("upload.bin", &tar_gz_of(&repo, "shop-main"), &dest, &caps).unwrap();
    assert_eq!(report.stripped_top_folder.as_deref(), Some("shop-main"));
    assert!(dest.join(".git").is_dir() && dest.join("Dockerfile").is_file());
    assert_expected(&run(&dest, &Progress::new()).await.unwrap(), true);

    // zip at the root, history included.
    let dest = tmp.path().join("from-zip");
    unpack_archive("shop.zip", &zip_of(&repo, true), &dest, &caps).unwrap();
    assert_expected(&run(&dest, &Progress::new()).await.unwrap(), true);

    // zip without history: the ADR is dated by its content, bus factor cannot run.
    let dest = tmp.path().join("from-zip-no-git");
    unpack_archive("shop.zip", &zip_of(&repo, false), &dest, &caps).unwrap();
    assert_expected(&run(&dest, &Progress::new()).await.unwrap(), false);
}

/// A tar entry written byte by byte: `tar::Header::set_path` refuses `..` and absolute
/// paths, which is exactly what these archives must contain.
struct RawEntry<'a> {
    name: &'a str,
    kind: tar::EntryType,
    data: &'a [u8],
    link: Option<&'a str>,
}

fn raw_tar(entries: &[RawEntry]) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    for e in entries {
        let mut header = tar::Header::new_old();
        let name = e.name.as_bytes();
        header.as_old_mut().name[..name.len()].copy_from_slice(name);
        if let Some(link) = e.link {
            header.as_old_mut().linkname[..link.len()].copy_from_slice(link.as_bytes());
        }
        header.set_entry_type(e.kind);
        header.set_size(e.data.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        builder.append(&header, e.data).unwrap();
    }
    builder.into_inner().unwrap()
}

fn file<'a>(name: &'a str, data: &'a [u8]) -> RawEntry<'a> {
    RawEntry {
        name,
        kind: tar::EntryType::Regular,
        data,
        link: None,
    }
}

fn refusal(result: Result<(), ProbeError>) -> String {
    match result {
        Err(ProbeError::Invalid(message)) => message,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[test]
fn hostile_archives_are_refused_or_skipped() {
    let tmp = tempfile::tempdir().unwrap();
    let caps = RepoCaps::default();
    let dest = |name: &str| tmp.path().join("unpack").join(name);

    // Path traversal.
    let message = refusal(unpack_archive(
        "evil.tar",
        &raw_tar(&[file("ok.txt", b"ok"), file("../evil", b"x")]),
        &dest("dotdot"),
        &caps,
    ));
    assert!(message.contains("climbs out of the folder"), "{message}");
    assert!(!tmp.path().join("unpack").join("evil").exists());

    // Absolute path (inside the temp folder, so a failure of the test harms nothing).
    let absolute = tmp.path().join("abs-evil");
    let absolute = absolute.to_str().unwrap();
    let message = refusal(unpack_archive(
        "evil.tar",
        &raw_tar(&[file(absolute, b"x")]),
        &dest("absolute"),
        &caps,
    ));
    assert!(message.contains("absolute path"), "{message}");
    assert!(!Path::new(absolute).exists());

    // Windows forms in a zip: backslashes and drive letters.
    for (name, why) in [("..\\evil", "climbs out"), ("C:\\evil", "drive letter")] {
        use std::io::Write;
        let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        zip.start_file(name, zip::write::SimpleFileOptions::default())
            .unwrap();
        zip.write_all(b"x").unwrap();
        let bytes = zip.finish().unwrap().into_inner();
        let message = refusal(unpack_archive("evil.zip", &bytes, &dest("windows"), &caps));
        assert!(message.contains(why), "{message}");
    }

    // A link pointing outside, then a file "through" it: the link is skipped, the file lands
    // in an ordinary folder inside dest. Hard links and devices are skipped too.
    let outside = tmp.path().join("outside");
    std::fs::create_dir_all(&outside).unwrap();
    let outside_str = outside.to_str().unwrap().to_owned();
    let bytes = raw_tar(&[
        RawEntry {
            name: "link",
            kind: tar::EntryType::Symlink,
            data: b"",
            link: Some(&outside_str),
        },
        file("link/evil.txt", b"x"),
        // A second top-level entry, so `link/` is not taken for a `repo-main/` wrapper.
        file("README", b"r"),
        RawEntry {
            name: "hard",
            kind: tar::EntryType::Link,
            data: b"",
            link: Some("/etc/passwd"),
        },
        RawEntry {
            name: "device",
            kind: tar::EntryType::Char,
            data: b"",
            link: None,
        },
    ]);
    let links = dest("links");
    let report = unpack_archive_report("links.tar", &bytes, &links, &caps).unwrap();
    assert_eq!(report.links_skipped, 2);
    assert_eq!(report.special_skipped, 1);
    assert_eq!(report.files, 2);
    assert!(report.notes()[0].contains("2 symbolic or hard link(s) skipped"));
    assert!(std::fs::read_dir(&outside).unwrap().next().is_none());
    let link_meta = links.join("link").symlink_metadata().unwrap();
    assert!(link_meta.is_dir() && !link_meta.file_type().is_symlink());
    assert!(!links.join("hard").exists() && !links.join("device").exists());

    // A zip symlink is skipped as well.
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    zip.add_symlink("zlink", "/etc", zip::write::SimpleFileOptions::default())
        .unwrap();
    let bytes = zip.finish().unwrap().into_inner();
    let report = unpack_archive_report("l.zip", &bytes, &dest("zip-link"), &caps).unwrap();
    assert_eq!(report.links_skipped, 1);
    assert!(dest("zip-link").join("zlink").symlink_metadata().is_err());

    // A zip bomb: 8 MiB of zeros compress to a few KiB; the cap is 1 MiB, counted while reading.
    let small = RepoCaps {
        max_bytes: 1024 * 1024,
        max_files: 10,
        depth: 1,
    };
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    zip.start_file("zeros.bin", zip::write::SimpleFileOptions::default())
        .unwrap();
    std::io::Write::write_all(&mut zip, &vec![0u8; 8 * 1024 * 1024]).unwrap();
    let bomb = zip.finish().unwrap().into_inner();
    assert!(bomb.len() < 100 * 1024);
    let message = refusal(unpack_archive("bomb.zip", &bomb, &dest("bomb"), &small));
    assert!(message.contains("size cap"), "{message}");
    assert!(!dest("bomb").join("zeros.bin").exists());

    // Too many files.
    let names: Vec<String> = (0..30).map(|i| format!("f{i}.txt")).collect();
    let entries: Vec<RawEntry> = names.iter().map(|n| file(n, b"x")).collect();
    let message = refusal(unpack_archive(
        "many.tar",
        &raw_tar(&entries),
        &dest("many"),
        &small,
    ));
    assert!(message.contains("file-count cap"), "{message}");

    // A tar.gz whose skipped entry (a FIFO with a body) decompresses far past the cap.
    let fifo = raw_tar(&[RawEntry {
        name: "pipe",
        kind: tar::EntryType::Fifo,
        data: &vec![0u8; 8 * 1024 * 1024],
        link: None,
    }]);
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut gz, &fifo).unwrap();
    let message = refusal(unpack_archive(
        "pipe.tgz",
        &gz.finish().unwrap(),
        &dest("fifo"),
        &small,
    ));
    assert!(message.contains("over the size cap"), "{message}");

    // Not an archive at all.
    let message = refusal(unpack_archive("repo.zip", b"hello", &dest("junk"), &caps));
    assert!(message.contains("is not a .zip"), "{message}");

    // Nothing escaped into the temp folder besides what the test made.
    let mut top: Vec<String> = std::fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    top.sort();
    assert_eq!(top, vec!["outside", "unpack"]);
}

#[test]
fn an_uploaded_git_folder_cannot_make_git_run_anything() {
    let tmp = tempfile::tempdir().unwrap();
    let config = b"[core]\n\trepositoryformatversion = 0\n\tfsmonitor = touch /tmp/pwned\n\tpager = sh -c evil\n[extensions]\n\tobjectformat = sha1\n";
    let bytes = raw_tar(&[
        file(".git/config", config),
        file(".git/hooks/post-checkout", b"#!/bin/sh\ntouch /tmp/pwned\n"),
        file(".git/objects/info/alternates", b"/etc\n"),
        file(".git/HEAD", b"ref: refs/heads/main\n"),
    ]);
    let dest = tmp.path().join("repo");
    let report = unpack_archive_report("r.tar", &bytes, &dest, &RepoCaps::default()).unwrap();
    assert_eq!(report.git_files_dropped, 2);
    let written = std::fs::read_to_string(dest.join(".git/config")).unwrap();
    assert_eq!(
        written,
        "[core]\n\trepositoryformatversion = 0\n\tbare = false\n[extensions]\n\tobjectformat = sha1\n"
    );
    assert!(!dest.join(".git/hooks").exists());
    assert!(!dest.join(".git/objects/info/alternates").exists());
}

#[test]
fn repository_urls_are_checked_before_any_network() {
    let guard = Guard::default();
    let refused = [
        ("", "empty"),
        ("http://github.com/team/app.git", "only https://"),
        ("file:///etc/passwd", "only https://"),
        ("ssh://git@github.com/team/app.git", "only https://"),
        ("git://github.com/team/app.git", "only https://"),
        ("ext::sh", "transport syntax"),
        ("fd::17", "transport syntax"),
        ("git@github.com:team/app.git", "SSH addresses"),
        ("/srv/repos/app.git", "must start with https://"),
        (
            "https://user:secret@github.com/team/app.git",
            "user name, password or token",
        ),
        (
            "https://ghp_token@github.com/team/app.git",
            "user name, password or token",
        ),
        ("https://github.com/team/app.git?ref=main", "query"),
        ("https://github.com/", "no repository path"),
        ("https://github.com/team/app .git", "spaces"),
        ("https://localhost/team/app.git", "localhost"),
        ("https://169.254.169.254/latest/meta-data", "169.254"),
        ("https://10.0.0.8/team/app.git", "10."),
        ("https://0x7f000001/team/app.git", "127.0.0.1"),
        ("https://[::1]/team/app.git", "::1"),
    ];
    for (url, why) in refused {
        let message = check_repository_url(url, &guard).unwrap_err();
        assert!(message.contains(why), "{url}: {message}");
    }
    let ok = check_repository_url(" https://github.com/team/app.git ", &guard).unwrap();
    assert_eq!(ok.as_str(), "https://github.com/team/app.git");
}

#[tokio::test]
async fn clone_refuses_before_running_git() {
    let tmp = tempfile::tempdir().unwrap();
    let dest = tmp.path().join("clone");
    let result = clone_repository(
        "http://github.com/team/app.git",
        &Guard::default(),
        &dest,
        &RepoCaps::default(),
        &Progress::new(),
    )
    .await;
    assert!(
        matches!(result, Err(ProbeError::Refused(ref m)) if m.contains("https")),
        "{result:?}"
    );
    assert!(!dest.exists());
}

/// A git smart-HTTP server over TLS on loopback: `git http-backend` behind hyper.
mod server {
    use std::convert::Infallible;
    use std::net::SocketAddr;
    use std::path::PathBuf;
    use std::process::Stdio;
    use std::sync::Arc;

    use http_body_util::{BodyExt, Full};
    use hyper::body::{Bytes, Incoming};
    use hyper::{Request, Response, StatusCode};
    use hyper_util::rt::TokioIo;
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    use tokio::io::AsyncWriteExt;

    async fn backend(
        req: Request<Incoming>,
        root: PathBuf,
    ) -> Result<Response<Full<Bytes>>, Infallible> {
        let header = |name: &str| {
            req.headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_owned()
        };
        let (method, path, query) = (
            req.method().to_string(),
            req.uri().path().to_owned(),
            req.uri().query().unwrap_or("").to_owned(),
        );
        let (content_type, encoding, protocol) = (
            header("content-type"),
            header("content-encoding"),
            header("git-protocol"),
        );
        let body = req
            .into_body()
            .collect()
            .await
            .map(|b| b.to_bytes())
            .unwrap_or_default();
        let mut child = tokio::process::Command::new("git")
            .arg("http-backend")
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_PROJECT_ROOT", &root)
            .env("GIT_HTTP_EXPORT_ALL", "1")
            .env("REQUEST_METHOD", method)
            .env("PATH_INFO", path)
            .env("QUERY_STRING", query)
            .env("CONTENT_TYPE", content_type)
            .env("CONTENT_LENGTH", body.len().to_string())
            .env("HTTP_CONTENT_ENCODING", encoding)
            .env("GIT_PROTOCOL", protocol)
            .env("REMOTE_ADDR", "127.0.0.1")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(&body).await.unwrap();
        drop(stdin);
        let out = child.wait_with_output().await.unwrap().stdout;
        // CGI output: headers, a blank line, the body.
        let split = out
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .map(|i| (i, 4))
            .or_else(|| out.windows(2).position(|w| w == b"\n\n").map(|i| (i, 2)))
            .unwrap_or((out.len(), 0));
        let head = String::from_utf8_lossy(&out[..split.0]).into_owned();
        let mut response = Response::builder();
        for line in head.lines() {
            if let Some((name, value)) = line.split_once(':') {
                let value = value.trim();
                if name.eq_ignore_ascii_case("status") {
                    let code = value.split_whitespace().next().unwrap_or("200");
                    response = response.status(StatusCode::from_bytes(code.as_bytes()).unwrap());
                } else {
                    response = response.header(name.trim(), value);
                }
            }
        }
        let body = Bytes::copy_from_slice(&out[(split.0 + split.1).min(out.len())..]);
        Ok(response.body(Full::new(body)).unwrap())
    }

    /// Serves the bare repositories under `root` over HTTPS on 127.0.0.1; returns the address.
    pub async fn start(root: PathBuf, cert: &std::path::Path, key: &std::path::Path) -> SocketAddr {
        let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
            .unwrap()
            .map(|c| c.unwrap())
            .collect();
        let key = PrivateKeyDer::from_pem_file(key).unwrap();
        let config = rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .unwrap();
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                let (acceptor, root) = (acceptor.clone(), root.clone());
                tokio::spawn(async move {
                    let Ok(tls) = acceptor.accept(tcp).await else {
                        return;
                    };
                    let service = hyper::service::service_fn(move |req| backend(req, root.clone()));
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(tls), service)
                        .await;
                });
            }
        });
        addr
    }
}

/// A self-signed certificate for `localhost` made with the openssl CLI, or None without it.
fn self_signed(dir: &Path) -> Option<(PathBuf, PathBuf)> {
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    let status = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
        ])
        .args(["-nodes", "-days", "1", "-subj", "/CN=localhost"])
        .args(["-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .stderr(std::process::Stdio::null())
        .status()
        .ok()?;
    status.success().then_some((cert, key))
}

#[tokio::test]
async fn clone_over_https_through_the_guard() {
    let tmp = tempfile::tempdir().unwrap();
    let Some((cert, key)) = self_signed(tmp.path()) else {
        eprintln!("openssl is not installed: the HTTPS clone test is skipped");
        return;
    };
    let repo = tmp.path().join("shop");
    build_fixture(&repo);
    let served = tmp.path().join("served");
    std::fs::create_dir_all(&served).unwrap();
    let bare = served.join("shop.git");
    git(
        tmp.path(),
        &[
            "clone",
            "-q",
            "--bare",
            repo.to_str().unwrap(),
            bare.to_str().unwrap(),
        ],
        ALICE,
    );
    let addr = server::start(served, &cert, &key).await;
    // `localhost` is refused unless every address it resolves to is allow-listed.
    let url = format!("https://localhost:{}/shop.git", addr.port());
    let guard = Guard::new(vec![
        "127.0.0.0/8".parse().unwrap(),
        "::1/128".parse().unwrap(),
    ]);
    let options = CloneOptions {
        ca_file: Some(cert.clone()),
        ..CloneOptions::default()
    };
    let caps = RepoCaps::default();

    // A full clone reads like the folder itself.
    let dest = tmp.path().join("clone");
    let progress = Progress::new();
    clone_repository_with(&url, &guard, &dest, &caps, &progress, &options)
        .await
        .unwrap();
    assert_eq!(progress.snapshot().2, "Cloning");
    assert_expected(&run(&dest, &Progress::new()).await.unwrap(), true);

    // Depth 1: the history is too short to tell who changes the deploy.
    let shallow = tmp.path().join("shallow");
    let one = RepoCaps {
        depth: 1,
        ..RepoCaps::default()
    };
    clone_repository_with(&url, &guard, &shallow, &one, &Progress::new(), &options)
        .await
        .unwrap();
    let output = run(&shallow, &Progress::new()).await.unwrap();
    let bus = check(&output, "repo.bus-factor");
    assert_eq!(bus.status, CheckStatus::CouldNotRun);
    assert!(
        bus.why.as_deref().unwrap().contains("depth 1"),
        "{:?}",
        bus.why
    );

    // Over the size cap: git is stopped and the folder removed.
    let capped = tmp.path().join("capped");
    let tiny = RepoCaps {
        max_bytes: 4 * 1024,
        ..RepoCaps::default()
    };
    let result =
        clone_repository_with(&url, &guard, &capped, &tiny, &Progress::new(), &options).await;
    assert!(
        matches!(result, Err(ProbeError::Invalid(ref m)) if m.contains("size cap")),
        "{result:?}"
    );
    assert!(!capped.exists());

    // Without the test CA the certificate is not trusted: a clear message, nothing left.
    let untrusted = tmp.path().join("untrusted");
    let result = clone_repository(&url, &guard, &untrusted, &caps, &Progress::new()).await;
    assert!(
        matches!(result, Err(ProbeError::Unreachable(ref m)) if m.contains("TLS")),
        "{result:?}"
    );
    assert!(!untrusted.exists());

    // A repository that is not there.
    let missing = format!("https://localhost:{}/nothing.git", addr.port());
    let result = clone_repository_with(
        &missing,
        &guard,
        &tmp.path().join("missing"),
        &caps,
        &Progress::new(),
        &options,
    )
    .await;
    assert!(
        matches!(result, Err(ProbeError::Unreachable(ref m)) if m.contains("no repository")),
        "{result:?}"
    );

    // The guard without an allow-list refuses loopback before git starts.
    let refused = clone_repository_with(
        &url,
        &Guard::default(),
        &tmp.path().join("refused"),
        &caps,
        &Progress::new(),
        &options,
    )
    .await;
    assert!(
        matches!(refused, Err(ProbeError::Refused(_))),
        "{refused:?}"
    );
}
