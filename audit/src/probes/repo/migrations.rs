//! Migrations: does each have a way back (a down step), and do the SQL ones avoid the locks
//! squawk warns about?
use std::collections::{BTreeMap, BTreeSet};

use serde_json::json;

use super::super::model::{CheckArea, CheckResult, CheckSpec, CheckStatus};
use super::tree::{line_of, RepoFile};
use super::Context;
use crate::findings::Severity;

pub(crate) const MIGRATIONS_DOWN: CheckSpec = CheckSpec {
    id: "repo.migrations-down",
    area: CheckArea::Database,
    title: "Migrations can be reversed",
    severity: Severity::Medium,
    threshold: "every migration has a down step: sqlx/golang-migrate `.down.sql`, Flyway `U` \
                file, goose `-- +goose Down` or dbmate `-- migrate:down` with SQL, Rails `def \
                down`/`reversible`/`def change`, Alembic `def downgrade` with a body other \
                than pass, knex/Sequelize/TypeORM `down`, Django (reversible unless RunPython \
                or RunSQL has no reverse); all fail when none has one, some warn, Prisma (no \
                down migrations) warns; no migrations: could not run",
    source: "the migration tools' own reversal conventions; ours",
};

pub(crate) const MIGRATION_LINT: CheckSpec = CheckSpec {
    id: "repo.migration-lint",
    area: CheckArea::Database,
    title: "Migrations avoid locking changes",
    severity: Severity::Medium,
    threshold: "no SQL migration hits squawk's require-concurrent-index-creation (CREATE INDEX \
                without CONCURRENTLY on an existing table), adding-required-field (ADD COLUMN \
                NOT NULL without DEFAULT), constraint-missing-not-valid (ADD FOREIGN KEY or \
                CHECK without NOT VALID), changing-column-type, renaming-column or \
                ban-drop-column; any hit warns; PostgreSQL projects only",
    source: "squawk rule names (reference/probes.md §1.5), reimplemented on statement text",
};

/// One migration and whether it can be reversed.
#[derive(Debug, Clone)]
struct Migration<'a> {
    file: &'a RepoFile,
    framework: &'static str,
    /// None: the framework has no down migrations (Prisma).
    reversible: Option<bool>,
}

fn in_migrations_folder(file: &RepoFile) -> bool {
    file.lower.split('/').rev().skip(1).any(|segment| {
        matches!(
            segment,
            "migrations" | "migration" | "migrate" | "db_migrations" | "versions"
        )
    })
}

/// The SQL of a section (`-- +goose Down`) up to the next section marker, comments dropped.
fn section_has_sql(text: &str, marker: &str, next_markers: &[&str]) -> bool {
    let Some(at) = text.find(marker) else {
        return false;
    };
    text[at + marker.len()..]
        .lines()
        .skip(1)
        .take_while(|l| !next_markers.iter().any(|m| l.contains(m)))
        .any(|l| {
            let l = l.trim();
            !l.is_empty() && !l.starts_with("--")
        })
}

/// The body of a Python function after `def name(`: its indented lines, minus `pass`,
/// docstrings and comments.
fn python_body_does_something(text: &str, def: &str) -> bool {
    let Some(at) = text.find(def) else {
        return false;
    };
    text[at..]
        .lines()
        .skip(1)
        .take_while(|l| l.trim().is_empty() || l.starts_with(' ') || l.starts_with('\t'))
        .any(|l| {
            let l = l.trim();
            !(l.is_empty()
                || l == "pass"
                || l == "..."
                || l.starts_with('#')
                || l.starts_with("\"\"\"")
                || l.starts_with("'''"))
        })
}

fn classify<'a>(
    ctx: &Context,
    file: &'a RepoFile,
    names: &BTreeSet<&str>,
) -> Option<Migration<'a>> {
    let ext = file.extension();
    let name = file.lower_name();
    let found = |framework, reversible| {
        Some(Migration {
            file,
            framework,
            reversible,
        })
    };
    if file.lower.starts_with("prisma/migrations/") || file.lower.contains("/prisma/migrations/") {
        return (name == "migration.sql")
            .then_some(())
            .and(found("Prisma", None));
    }
    if file.lower.starts_with("db/migrate/") || file.lower.contains("/db/migrate/") {
        if ext != "rb" {
            return None;
        }
        let text = ctx.tree.read(&file.path)?;
        let reversible = text.contains("def down")
            || text.contains("reversible")
            || (text.contains("def change") && !text.contains("execute"));
        return found("Rails", Some(reversible));
    }
    if !in_migrations_folder(file) {
        return None;
    }
    match ext {
        "py" => {
            if name == "__init__.py" {
                return None;
            }
            let text = ctx.tree.read(&file.path)?;
            if text.contains("def upgrade") {
                return found(
                    "Alembic",
                    Some(python_body_does_something(&text, "def downgrade")),
                );
            }
            if text.contains("class Migration") {
                let irreversible = ["RunPython(", "RunSQL("].iter().any(|call| {
                    text.match_indices(call).any(|(at, _)| {
                        let args: String = text[at..].chars().take(400).collect();
                        let args = args.split(')').next().unwrap_or("");
                        !(args.contains(',') || args.contains("reverse"))
                    })
                });
                return found("Django", Some(!irreversible));
            }
            None
        }
        "js" | "ts" | "mjs" | "cjs" => {
            let text = ctx.tree.read(&file.path)?;
            let has_up = ["exports.up", "function up", "up:", "async up(", "up ="]
                .iter()
                .any(|m| text.contains(m));
            if !has_up {
                return None;
            }
            let has_down = [
                "exports.down",
                "function down",
                "down:",
                "async down(",
                "down =",
            ]
            .iter()
            .any(|m| text.contains(m));
            found("knex/Sequelize/TypeORM", Some(has_down))
        }
        "sql" => {
            // Down files are the other half of a pair, not migrations of their own.
            if name.ends_with(".down.sql") || (name.starts_with('u') && name.contains("__")) {
                return None;
            }
            if name.starts_with('v') && name.contains("__") {
                let version = name[1..].split("__").next().unwrap_or("");
                let dir = file.dir().to_lowercase();
                let undo = if dir.is_empty() {
                    format!("u{version}__")
                } else {
                    format!("{dir}/u{version}__")
                };
                let has_undo = names.iter().any(|n| n.starts_with(&undo));
                return found("Flyway", Some(has_undo));
            }
            if name.starts_with("r__") {
                return None;
            }
            let text = ctx.tree.read(&file.path)?;
            if text.contains("+goose Up") {
                return found(
                    "goose",
                    Some(section_has_sql(&text, "+goose Down", &["+goose Up"])),
                );
            }
            if text.contains("migrate:up") {
                return found(
                    "dbmate",
                    Some(section_has_sql(&text, "migrate:down", &["migrate:up"])),
                );
            }
            if let Some(stem) = file.path.strip_suffix(".up.sql") {
                let down = format!("{stem}.down.sql").to_lowercase();
                return found("sqlx/golang-migrate", Some(names.contains(down.as_str())));
            }
            found("SQL (sqlx or plain)", Some(false))
        }
        _ => None,
    }
}

fn find_migrations<'a>(ctx: &'a Context) -> Vec<Migration<'a>> {
    let names: BTreeSet<&str> = ctx.tree.files.iter().map(|f| f.lower.as_str()).collect();
    ctx.tree
        .files
        .iter()
        .filter_map(|f| classify(ctx, f, &names))
        .collect()
}

pub(crate) fn check_migrations_down(ctx: &Context) -> CheckResult {
    let migrations = find_migrations(ctx);
    if migrations.is_empty() {
        return CheckResult::could_not_run(
            &MIGRATIONS_DOWN,
            "no migrations found in the repository",
        );
    }
    let mut by_framework: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    for m in &migrations {
        let entry = by_framework.entry(m.framework).or_default();
        entry.0 += 1;
        if m.reversible == Some(true) {
            entry.1 += 1;
        }
    }
    let counted: Vec<&Migration> = migrations
        .iter()
        .filter(|m| m.reversible.is_some())
        .collect();
    let reversible = counted
        .iter()
        .filter(|m| m.reversible == Some(true))
        .count();
    let prisma = migrations.len() - counted.len();
    let mut evidence: Vec<String> = by_framework
        .iter()
        .map(|(fw, (total, rev))| {
            if *fw == "Prisma" {
                format!("{fw}: {total} migration(s); Prisma has no down migrations")
            } else {
                format!("{fw}: {rev} of {total} migration(s) have a down step")
            }
        })
        .collect();
    evidence.extend(
        counted
            .iter()
            .filter(|m| m.reversible == Some(false))
            .take(10)
            .map(|m| format!("{}: no down step", m.file.path)),
    );
    let measured = json!({
        "migrations": migrations.len(),
        "reversible": reversible,
        "prisma": prisma,
        "frameworks": by_framework.keys().collect::<Vec<_>>(),
    });
    let (status, summary) = if counted.is_empty() {
        (
            CheckStatus::Warn,
            format!("{prisma} Prisma migration(s): Prisma has no down migrations, rollback is a new forward migration"),
        )
    } else if reversible == counted.len() && prisma == 0 {
        (
            CheckStatus::Pass,
            format!("All {reversible} migration(s) have a down step"),
        )
    } else if reversible == 0 {
        (
            CheckStatus::Fail,
            format!("None of the {} migration(s) has a down step", counted.len()),
        )
    } else {
        (
            CheckStatus::Warn,
            format!(
                "{reversible} of {} migration(s) have a down step",
                counted.len()
            ),
        )
    };
    MIGRATIONS_DOWN
        .result(status, summary)
        .with_evidence(evidence)
        .with_measured(measured)
}

/// Dependencies that mean the project talks to PostgreSQL.
const POSTGRES_DEPENDENCIES: &[&str] = &[
    "pg",
    "postgres",
    "postgresql",
    "pg-promise",
    "psycopg",
    "psycopg2",
    "psycopg2-binary",
    "asyncpg",
    "tokio-postgres",
    "deadpool-postgres",
    "diesel",
    "github.com/lib/pq",
    "github.com/jackc/pgx/v5",
    "github.com/jackc/pgx/v4",
    "pg_query",
    "r2dbc-postgresql",
];

const MYSQL_DEPENDENCIES: &[&str] = &[
    "mysql",
    "mysql2",
    "mysqlclient",
    "pymysql",
    "mysql_async",
    "github.com/go-sql-driver/mysql",
    "mysql-connector-java",
    "mysql-connector-j",
];

fn uses_postgres(ctx: &Context) -> Option<bool> {
    let pg = ctx.deps.list.iter().any(|d| {
        POSTGRES_DEPENDENCIES.contains(&d.name.as_str())
            || (d.name == "sqlx" && d.features.iter().any(|f| f == "postgres"))
    });
    if pg {
        return Some(true);
    }
    let mysql = ctx
        .deps
        .list
        .iter()
        .any(|d| MYSQL_DEPENDENCIES.contains(&d.name.as_str()));
    if mysql {
        return Some(false);
    }
    None
}

/// SQL statements with comments removed, each with its starting byte offset.
fn statements(text: &str) -> Vec<(usize, String)> {
    let mut cleaned = String::with_capacity(text.len());
    let mut chars = text.char_indices().peekable();
    // Replace comments with spaces so offsets keep pointing at the right line.
    while let Some((_, c)) = chars.next() {
        if c == '-' && chars.peek().map(|(_, n)| *n) == Some('-') {
            cleaned.push(' ');
            for (_, n) in chars.by_ref() {
                if n == '\n' {
                    cleaned.push('\n');
                    break;
                }
                cleaned.push(' ');
            }
        } else if c == '/' && chars.peek().map(|(_, n)| *n) == Some('*') {
            cleaned.push(' ');
            let mut previous = ' ';
            for (_, n) in chars.by_ref() {
                cleaned.push(if n == '\n' { '\n' } else { ' ' });
                if previous == '*' && n == '/' {
                    break;
                }
                previous = n;
            }
        } else {
            cleaned.push(c);
        }
    }
    let mut out = Vec::new();
    let mut start = 0;
    for (i, c) in cleaned.char_indices() {
        if c == ';' {
            out.push((start, cleaned[start..i].to_owned()));
            start = i + 1;
        }
    }
    out.push((start, cleaned[start..].to_owned()));
    out.into_iter()
        .filter(|(_, s)| !s.trim().is_empty())
        .map(|(at, s)| {
            let leading = s.len() - s.trim_start().len();
            let normal = s
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
                .to_uppercase();
            (at + leading, normal)
        })
        .collect()
}

/// The word after `keyword` in `statement` (a table name), unquoted and lowercased.
fn word_after(statement: &str, keyword: &str) -> Option<String> {
    let at = statement.find(keyword)?;
    let rest = statement[at + keyword.len()..].trim_start();
    let rest = rest.strip_prefix("ONLY ").unwrap_or(rest);
    let rest = rest.strip_prefix("IF NOT EXISTS ").unwrap_or(rest);
    let rest = rest.strip_prefix("IF EXISTS ").unwrap_or(rest);
    let word: String = rest
        .chars()
        .take_while(|c| !c.is_whitespace() && *c != '(')
        .collect();
    Some(word.trim_matches('"').to_lowercase())
}

/// The up part of a migration file: goose and dbmate keep both directions in one file.
fn up_part(text: &str) -> &str {
    for marker in ["-- +goose Down", "-- migrate:down"] {
        if let Some(at) = text.find(marker) {
            return &text[..at];
        }
    }
    text
}

fn lint_sql(text: &str) -> Vec<(usize, &'static str, String)> {
    let text = up_part(text);
    let statements = statements(text);
    let created: BTreeSet<String> = statements
        .iter()
        .filter(|(_, s)| s.starts_with("CREATE TABLE") || s.starts_with("CREATE UNLOGGED TABLE"))
        .filter_map(|(_, s)| word_after(s, "TABLE"))
        .collect();
    let mut hits = Vec::new();
    for (at, s) in &statements {
        let line = line_of(text, *at);
        let mut hit = |rule: &'static str, what: &str| hits.push((line, rule, what.to_owned()));
        let is_index = s.starts_with("CREATE INDEX") || s.starts_with("CREATE UNIQUE INDEX");
        if is_index && !s.contains("CONCURRENTLY") {
            let table = word_after(s, " ON ").unwrap_or_default();
            if !created.contains(&table) {
                hit(
                    "require-concurrent-index-creation",
                    &format!("CREATE INDEX on {table} without CONCURRENTLY blocks writes"),
                );
            }
        }
        if !s.starts_with("ALTER TABLE") {
            continue;
        }
        let table = word_after(s, "ALTER TABLE").unwrap_or_default();
        if created.contains(&table) {
            continue;
        }
        for clause in s.split(", ") {
            let clause = clause.trim();
            let adds_column = clause.contains("ADD COLUMN")
                || (clause.contains(" ADD ") && !clause.contains("CONSTRAINT"));
            if adds_column
                && clause.contains("NOT NULL")
                && !clause.contains("DEFAULT")
                && !clause.contains("GENERATED")
            {
                hit(
                    "adding-required-field",
                    &format!(
                        "ADD COLUMN NOT NULL without DEFAULT on {table} fails on a non-empty table"
                    ),
                );
            }
            if (clause.contains("FOREIGN KEY") || clause.contains(" CHECK "))
                && clause.contains("ADD")
                && !clause.contains("NOT VALID")
            {
                hit(
                    "constraint-missing-not-valid",
                    &format!("constraint on {table} without NOT VALID scans the table under lock"),
                );
            }
            if clause.contains("ALTER COLUMN") && clause.contains(" TYPE ") {
                hit(
                    "changing-column-type",
                    &format!("column type change on {table} rewrites the table"),
                );
            }
            if clause.contains("RENAME COLUMN") {
                hit(
                    "renaming-column",
                    &format!("renaming a column of {table} breaks the running version"),
                );
            }
            if clause.contains("DROP COLUMN") {
                hit(
                    "ban-drop-column",
                    &format!("dropping a column of {table} breaks the running version"),
                );
            }
        }
    }
    hits
}

pub(crate) fn check_migration_lint(ctx: &Context) -> CheckResult {
    let sql: Vec<&RepoFile> = find_migrations(ctx)
        .into_iter()
        .filter(|m| m.file.extension() == "sql")
        .map(|m| m.file)
        .collect();
    if sql.is_empty() {
        return CheckResult::could_not_run(&MIGRATION_LINT, "no SQL migrations in the repository");
    }
    if uses_postgres(ctx) == Some(false) {
        return CheckResult::could_not_run(
            &MIGRATION_LINT,
            "the project uses MySQL; these rules are PostgreSQL's",
        );
    }
    let mut evidence = Vec::new();
    let mut rules: BTreeMap<&str, usize> = BTreeMap::new();
    for file in &sql {
        let Some(text) = ctx.tree.read(&file.path) else {
            continue;
        };
        for (line, rule, what) in lint_sql(&text) {
            *rules.entry(rule).or_default() += 1;
            if evidence.len() < 20 {
                evidence.push(format!("{}:{line} squawk {rule}: {what}", file.path));
            }
        }
    }
    let hits: usize = rules.values().sum();
    let measured = json!({ "files": sql.len(), "hits": hits, "rules": rules });
    let result = if hits == 0 {
        MIGRATION_LINT.result(
            CheckStatus::Pass,
            format!(
                "{} SQL migration(s), no locking or breaking change found",
                sql.len()
            ),
        )
    } else {
        MIGRATION_LINT.result(
            CheckStatus::Warn,
            format!(
                "{hits} risky statement(s) in {} SQL migration(s)",
                sql.len()
            ),
        )
    };
    result.with_evidence(evidence).with_measured(measured)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(sql: &str) -> Vec<&'static str> {
        lint_sql(sql).into_iter().map(|(_, r, _)| r).collect()
    }

    #[test]
    fn new_tables_are_exempt() {
        let sql = "-- first\nCREATE TABLE users (id bigint primary key, email text not null);\n\
                   CREATE INDEX users_email ON users (email);\n";
        assert!(rules(sql).is_empty());
    }

    #[test]
    fn existing_tables_are_linted() {
        let sql = "CREATE INDEX orders_user ON orders (user_id);\n\
                   ALTER TABLE orders ADD COLUMN note text NOT NULL;\n\
                   ALTER TABLE orders ADD CONSTRAINT fk FOREIGN KEY (user_id) REFERENCES users (id);\n\
                   /* comment; with semicolon */ ALTER TABLE orders ALTER COLUMN id TYPE bigint;\n\
                   CREATE INDEX CONCURRENTLY ok ON orders (x);\n\
                   ALTER TABLE orders ADD COLUMN flag boolean NOT NULL DEFAULT false;\n";
        assert_eq!(
            rules(sql),
            vec![
                "require-concurrent-index-creation",
                "adding-required-field",
                "constraint-missing-not-valid",
                "changing-column-type"
            ]
        );
        let lines: Vec<usize> = lint_sql(sql).into_iter().map(|(l, _, _)| l).collect();
        assert_eq!(lines, vec![1, 2, 3, 4]);
    }

    #[test]
    fn goose_down_section_is_not_linted() {
        let sql = "-- +goose Up\nCREATE TABLE t (id int);\n-- +goose Down\nALTER TABLE x DROP COLUMN y;\n";
        assert!(rules(sql).is_empty());
        assert!(section_has_sql(sql, "+goose Down", &["+goose Up"]));
        assert!(!section_has_sql(
            "-- +goose Up\nX;\n-- +goose Down\n-- nothing\n",
            "+goose Down",
            &["+goose Up"]
        ));
    }
}
