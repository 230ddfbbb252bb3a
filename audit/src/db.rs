//! The store: one sqlx `Any` pool whose backend (SQLite or PostgreSQL) is chosen by the URL.
//!
//! Queries are written once, in the SQL both engines accept (`$1` parameters, `returning`), and
//! use only the types `Any` carries (i64, text). Where the engines differ (claiming a job), the
//! caller asks `backend()`. See docs/adr/0002-one-sql-dialect-over-sqlx-any.md.
use std::ops::{Deref, DerefMut};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyConnection, AnyPool, ConnectOptions, Connection, Executor};
use tokio::sync::{Mutex, OwnedMutexGuard};

use crate::error::{Error, Result};

/// Statements slower than this are logged at WARN (the seeds' slow-query threshold).
pub const SLOW_STATEMENT: Duration = Duration::from_millis(200);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// The backend a `DATABASE_URL` names, or `None` for a scheme Plumbline does not speak.
    pub fn from_url(url: &str) -> Option<Backend> {
        if url.starts_with("sqlite:") {
            Some(Backend::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Some(Backend::Postgres)
        } else {
            None
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

#[derive(Clone, Debug)]
pub struct Db {
    pool: AnyPool,
    backend: Backend,
    /// SQLite has one writer at a time. Writers that wait inside SQLite wait in its busy
    /// handler, which sleeps 1, 2, 5 … up to 100 ms between tries, and they hold a pooled
    /// connection while they sleep: with 50 founders autosaving, most of the pool sleeps and the
    /// readers queue behind it. Waiting here instead is a FIFO queue that wakes the next writer
    /// the moment the last one commits. PostgreSQL locks rows, not the database: no gate.
    write_gate: Option<Arc<Mutex<()>>>,
}

/// A transaction that will write (see [`Db::begin_write`]). Use it as the transaction it
/// wraps: `&mut *tx` is the connection, `commit` and `rollback` end it, and on SQLite the next
/// writer goes in when it ends (or is dropped).
pub struct WriteTx {
    tx: sqlx::Transaction<'static, sqlx::Any>,
    _turn: Option<OwnedMutexGuard<()>>,
}

impl WriteTx {
    pub async fn commit(self) -> std::result::Result<(), sqlx::Error> {
        self.tx.commit().await
    }

    pub async fn rollback(self) -> std::result::Result<(), sqlx::Error> {
        self.tx.rollback().await
    }
}

impl Deref for WriteTx {
    type Target = AnyConnection;

    fn deref(&self) -> &AnyConnection {
        &self.tx
    }
}

impl DerefMut for WriteTx {
    fn deref_mut(&mut self) -> &mut AnyConnection {
        &mut self.tx
    }
}

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/postgres");

impl Db {
    /// Opens a pool. A SQLite file (and its folder) is created on first use and put in WAL mode.
    pub async fn connect(url: &str) -> Result<Db> {
        sqlx::any::install_default_drivers();
        let backend = Backend::from_url(url).ok_or_else(|| {
            Error::invalid(
                "database_url",
                "must start with sqlite: or postgres:// (for example sqlite://data/plumbline.db)",
            )
        })?;
        let url = match backend {
            Backend::Sqlite => prepare_sqlite_url(url)?,
            Backend::Postgres => url.to_owned(),
        };
        let options = AnyConnectOptions::from_str(&url)?
            .log_statements(log::LevelFilter::Trace)
            .log_slow_statements(log::LevelFilter::Warn, SLOW_STATEMENT);
        let pool = AnyPoolOptions::new()
            .max_connections(match backend {
                Backend::Sqlite => 8,
                Backend::Postgres => 16,
            })
            .acquire_timeout(Duration::from_secs(10))
            .after_connect(move |conn, _meta| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        // WAL lets readers go on while one writer writes; busy_timeout makes
                        // writers queue instead of failing with "database is locked".
                        conn.execute(
                            "pragma journal_mode = wal; pragma busy_timeout = 10000; \
                             pragma foreign_keys = on; pragma synchronous = normal;",
                        )
                        .await?;
                    }
                    Ok(())
                })
            })
            .after_release(|conn, _meta| {
                Box::pin(async move {
                    // A connection must come back outside any transaction. sqlx rolls back a
                    // dropped `Transaction`, but on SQLite a future cancelled while it opened one
                    // with a custom statement (our `BEGIN IMMEDIATE`: after the database began,
                    // before sqlx handed the transaction out) leaves it open with nobody to end
                    // it. That connection then held the write lock for good: every later write
                    // failed with "database is locked". A ping first lets a queued rollback of
                    // an ordinary dropped transaction run; what is still open is closed.
                    if conn.is_in_transaction() {
                        conn.ping().await?;
                        if conn.is_in_transaction() {
                            tracing::warn!(
                                "a pooled connection came back inside a transaction: closed"
                            );
                            return Ok(false);
                        }
                    }
                    Ok(true)
                })
            })
            .connect_with(options)
            .await?;
        let write_gate = (backend == Backend::Sqlite).then(|| Arc::new(Mutex::new(())));
        Ok(Db {
            pool,
            backend,
            write_gate,
        })
    }

    /// A transaction that will write. On SQLite it takes the write lock at `BEGIN IMMEDIATE`:
    /// a deferred transaction that reads first and writes later fails at once with "database is
    /// locked" when another connection committed in between (WAL snapshots cannot be upgraded),
    /// whereas an immediate one waits its turn under `busy_timeout`. Before that, SQLite writers
    /// of this process take their turn at the write gate (see `write_gate`), before they take a
    /// pooled connection.
    pub async fn begin_write(&self) -> Result<WriteTx> {
        let turn = match &self.write_gate {
            Some(gate) => Some(gate.clone().lock_owned().await),
            None => None,
        };
        let tx = match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => self.pool.begin().await?,
        };
        Ok(WriteTx { tx, _turn: turn })
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    fn migrator(&self) -> &'static sqlx::migrate::Migrator {
        match self.backend {
            Backend::Sqlite => &SQLITE_MIGRATIONS,
            Backend::Postgres => &POSTGRES_MIGRATIONS,
        }
    }

    pub async fn migrate(&self) -> Result<()> {
        self.migrator().run(&self.pool).await?;
        Ok(())
    }

    /// True when the database answers and every embedded migration has been applied (`/readyz`).
    pub async fn is_ready(&self) -> bool {
        let applied: Vec<i64> =
            match sqlx::query_scalar("select version from _sqlx_migrations where success = true")
                .fetch_all(&self.pool)
                .await
            {
                Ok(v) => v,
                Err(_) => return false,
            };
        self.migrator().iter().all(|m| applied.contains(&m.version))
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// Creates the folder of a SQLite file and asks sqlx to create the file itself (`mode=rwc`).
fn prepare_sqlite_url(url: &str) -> Result<String> {
    let rest = url
        .trim_start_matches("sqlite://")
        .trim_start_matches("sqlite:");
    let (path, query) = match rest.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (rest, None),
    };
    if path.is_empty() || path == ":memory:" {
        return Ok(url.to_owned());
    }
    if let Some(parent) = std::path::Path::new(path).parent() {
        if !parent.as_os_str().is_empty() {
            std::fs::create_dir_all(parent).map_err(|e| {
                Error::Internal(format!("cannot create folder {}: {e}", parent.display()))
            })?;
        }
    }
    Ok(match query {
        Some(q) if q.contains("mode=") => url.to_owned(),
        Some(q) => format!("sqlite://{path}?{q}&mode=rwc"),
        None => format!("sqlite://{path}?mode=rwc"),
    })
}
