//! `plumbline bank export` and `plumbline bank check FILE`, run as the built binary.
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the server crate sits in the workspace")
        .to_path_buf()
}

/// Runs `plumbline ARGS` from the workspace root with default settings (no settings file).
fn plumbline(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_plumbline"))
        .args(args)
        .current_dir(workspace_root())
        .env("PLUMBLINE_CONFIG", "/nonexistent/plumbline-test.toml")
        .env_remove("DATABASE_URL")
        .output()
        .expect("plumbline runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn bank_export_prints_the_builtin_bank_as_json() {
    let out = plumbline(&["bank", "export"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let bank: serde_json::Value = serde_json::from_slice(&out.stdout).expect("valid JSON");
    let areas = bank["areas"].as_array().expect("areas");
    assert_eq!(areas.len(), 5);
    assert_eq!(areas[0]["area"], "observability");
    assert_eq!(areas[4]["area"], "people");
    assert!(bank["interventions"]
        .as_array()
        .is_some_and(|i| !i.is_empty()));
}

#[test]
fn bank_check_passes_a_builtin_file() {
    let out = plumbline(&["bank", "check", "bank/database.toml"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(
        stdout.starts_with("bank/database.toml: ") && stdout.trim_end().ends_with("no problems"),
        "{stdout}"
    );
}

#[test]
fn bank_check_lists_problems_with_their_lines() {
    let path = std::env::temp_dir().join(format!("plumbline-bad-bank-{}.toml", std::process::id()));
    std::fs::write(
        &path,
        r#"area = "database"
title = "Database"
question = "Is the database healthy?"
red_flag = "Nobody knows."

[[questions]]
id = "database.bad-weight"
prompt = "Is it?"
help = "Because."
weight = 9

[[questions]]
id = "database.nameless"
prompt = ""
help = "Because."
weight = 2
"#,
    )
    .expect("temp file written");
    let name = path.display().to_string();
    let out = plumbline(&["bank", "check", &name]);
    std::fs::remove_file(&path).ok();

    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains(&format!("{name}:10: weight is 9")),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!("{name}:14: prompt is empty")),
        "{stderr}"
    );
    assert!(text(&out.stdout).is_empty());
}

#[test]
fn bank_check_says_when_a_file_cannot_be_read() {
    let out = plumbline(&["bank", "check", "/nonexistent/bank.toml"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("cannot read /nonexistent/bank.toml"),
        "{stderr}"
    );
}
