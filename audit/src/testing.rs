//! Fresh databases for tests: a SQLite file in a temporary folder, or, when `TEST_DATABASE_URL`
//! names a PostgreSQL server, a database of its own that is dropped afterwards.
use crate::db::{Backend, Db};
use crate::error::{Error, Result};

pub struct TestDb {
    pub db: Db,
    pub url: String,
    cleanup: Cleanup,
}

enum Cleanup {
    SqliteFolder(std::path::PathBuf),
    PostgresDatabase { admin_url: String, name: String },
}

impl TestDb {
    /// A migrated, empty database on the backend the environment asks for.
    pub async fn new() -> Result<TestDb> {
        let suffix = format!(
            "{}_{}",
            std::process::id(),
            crate::accounts::new_secret("")[..12].to_owned()
        );
        match std::env::var("TEST_DATABASE_URL")
            .ok()
            .filter(|u| !u.is_empty())
        {
            Some(admin_url) if Backend::from_url(&admin_url) == Some(Backend::Postgres) => {
                let name = format!("plumbline_test_{suffix}");
                let admin = Db::connect(&admin_url).await?;
                sqlx::query(&format!("create database {name}"))
                    .execute(admin.pool())
                    .await?;
                admin.close().await;
                let url = replace_database(&admin_url, &name);
                let db = Db::connect(&url).await?;
                db.migrate().await?;
                Ok(TestDb {
                    db,
                    url,
                    cleanup: Cleanup::PostgresDatabase { admin_url, name },
                })
            }
            _ => {
                let folder = std::env::temp_dir().join(format!("plumbline-test-{suffix}"));
                std::fs::create_dir_all(&folder).map_err(|e| Error::Internal(e.to_string()))?;
                let url = format!("sqlite://{}/test.db", folder.display());
                let db = Db::connect(&url).await?;
                db.migrate().await?;
                Ok(TestDb {
                    db,
                    url,
                    cleanup: Cleanup::SqliteFolder(folder),
                })
            }
        }
    }

    /// Closes the pool and removes the database.
    pub async fn drop_database(self) {
        self.db.close().await;
        match self.cleanup {
            Cleanup::SqliteFolder(folder) => {
                let _ = std::fs::remove_dir_all(folder);
            }
            Cleanup::PostgresDatabase { admin_url, name } => {
                if let Ok(admin) = Db::connect(&admin_url).await {
                    let _ = sqlx::query(&format!("drop database if exists {name} with (force)"))
                        .execute(admin.pool())
                        .await;
                    admin.close().await;
                }
            }
        }
    }
}

/// A name no other call in this process returns (e-mail addresses, folders).
pub fn unique(prefix: &str) -> String {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    format!(
        "{prefix}{}x{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// An e-mail address no other test uses.
pub fn unique_email(prefix: &str) -> String {
    format!("{}@example.com", unique(prefix))
}

/// `postgres://user@host:5432/postgres?x=y` with the database name replaced.
fn replace_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map(|i| i + 3).unwrap_or(0);
    let root = match base[scheme_end..].find('/') {
        Some(i) => &base[..scheme_end + i],
        None => base,
    };
    match query {
        Some(q) => format!("{root}/{name}?{q}"),
        None => format!("{root}/{name}"),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn replaces_the_database_name() {
        assert_eq!(
            super::replace_database("postgres://postgres@127.0.0.1:5432/postgres", "t1"),
            "postgres://postgres@127.0.0.1:5432/t1"
        );
        assert_eq!(
            super::replace_database("postgres://h", "t1"),
            "postgres://h/t1"
        );
    }
}
