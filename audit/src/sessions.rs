//! tower-sessions' store over our own pool, so sessions live in the same database (SQLite or
//! PostgreSQL) and several instances behind a load balancer share them.
use async_trait::async_trait;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{Error as StoreError, Result as StoreResult};
use tower_sessions::SessionStore;

use crate::clock::now_ms;
use crate::db::Db;

#[derive(Clone, Debug)]
pub struct DbSessionStore {
    db: Db,
}

impl DbSessionStore {
    pub fn new(db: Db) -> Self {
        Self { db }
    }

    /// Removes expired sessions; run now and then by the server.
    pub async fn delete_expired(&self) -> Result<u64, sqlx::Error> {
        let done = sqlx::query("delete from sessions where expires_at < $1")
            .bind(now_ms())
            .execute(self.db.pool())
            .await?;
        Ok(done.rows_affected())
    }
}

fn backend(e: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(e.to_string())
}

fn expiry_ms(record: &Record) -> i64 {
    (record.expiry_date.unix_timestamp_nanos() / 1_000_000) as i64
}

#[async_trait]
impl SessionStore for DbSessionStore {
    async fn create(&self, record: &mut Record) -> StoreResult<()> {
        // Ids are 128 random bits; on the rare clash draw a new one.
        loop {
            let data = serde_json::to_string(&record.data).map_err(backend)?;
            let inserted = sqlx::query(
                "insert into sessions (session_id, data, expires_at) values ($1, $2, $3) \
                 on conflict (session_id) do nothing",
            )
            .bind(record.id.to_string())
            .bind(data)
            .bind(expiry_ms(record))
            .execute(self.db.pool())
            .await
            .map_err(backend)?;
            if inserted.rows_affected() == 1 {
                return Ok(());
            }
            record.id = Id::default();
        }
    }

    async fn save(&self, record: &Record) -> StoreResult<()> {
        let data = serde_json::to_string(&record.data).map_err(backend)?;
        sqlx::query(
            "insert into sessions (session_id, data, expires_at) values ($1, $2, $3) \
             on conflict (session_id) do update set data = excluded.data, expires_at = excluded.expires_at",
        )
        .bind(record.id.to_string())
        .bind(data)
        .bind(expiry_ms(record))
        .execute(self.db.pool())
        .await
        .map_err(backend)?;
        Ok(())
    }

    async fn load(&self, id: &Id) -> StoreResult<Option<Record>> {
        let row: Option<(String, i64)> = sqlx::query_as(
            "select data, expires_at from sessions where session_id = $1 and expires_at > $2",
        )
        .bind(id.to_string())
        .bind(now_ms())
        .fetch_optional(self.db.pool())
        .await
        .map_err(backend)?;
        let Some((data, expires_at)) = row else {
            return Ok(None);
        };
        let data = serde_json::from_str(&data).map_err(backend)?;
        let expiry_date =
            time::OffsetDateTime::from_unix_timestamp_nanos(expires_at as i128 * 1_000_000)
                .map_err(backend)?;
        Ok(Some(Record {
            id: *id,
            data,
            expiry_date,
        }))
    }

    async fn delete(&self, id: &Id) -> StoreResult<()> {
        sqlx::query("delete from sessions where session_id = $1")
            .bind(id.to_string())
            .execute(self.db.pool())
            .await
            .map_err(backend)?;
        Ok(())
    }
}
