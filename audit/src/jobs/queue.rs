//! Durable background work: a job table in the same database as everything else.
//!
//! A job is `queued`, then `running` under a lease, then `done`; a failure puts it back as
//! `failed` with a backoff, and after `max_attempts` it is `dead` (visible and retryable in the UI).
//! A worker that dies mid-job never releases its lease; when the lease runs out another worker
//! claims the job again. Completion is guarded by the lease owner, so a worker that lost its lease
//! cannot mark a job done twice. On PostgreSQL the claim uses `for update skip locked`; SQLite has
//! one writer at a time, so its claim (one `update ... returning`) is already exclusive.
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use sqlx::AnyConnection;
use tracing::Instrument;

use super::{Job, JobStatus};
use crate::clock::{now_ms, MINUTE_MS, SECOND_MS};
use crate::db::{Backend, Db};
use crate::error::{Error, Result};

pub const DEFAULT_MAX_ATTEMPTS: i64 = 5;
/// A running job's worker renews its lease every third of this (see `Worker::run_once`), so a
/// long job keeps its lease however long it runs, and a job whose worker died is claimed again
/// within this time. (It was 5 minutes without renewal: the scale-out run waited that long for
/// the job of a killed instance, and a job over 5 minutes could run twice.)
pub const DEFAULT_LEASE: Duration = Duration::from_secs(30);

const JOB_COLUMNS: &str =
    "job_id, kind, payload, status, attempts, max_attempts, run_at, last_error, created_at, updated_at";

/// Puts a job on the queue, inside the caller's transaction so it exists only if the change does.
pub async fn enqueue(
    conn: &mut AnyConnection,
    kind: &str,
    payload: &str,
    firm_id: Option<i64>,
) -> Result<i64> {
    let now = now_ms();
    let job_id = sqlx::query_scalar(
        r#"insert into jobs (kind, payload, status, attempts, max_attempts, run_at, firm_id, created_at, updated_at)
           values ($1, $2, 'queued', 0, $3, $4, $5, $4, $4) returning job_id"#,
    )
    .bind(kind)
    .bind(payload)
    .bind(DEFAULT_MAX_ATTEMPTS)
    .bind(now)
    .bind(firm_id)
    .fetch_one(conn)
    .await?;
    Ok(job_id)
}

/// Schedules a recurring job's next run at `run_at`, unless a run of that kind is already
/// pending (besides `except_job_id`, the run that is scheduling its successor). Two chains
/// started at once by two workers therefore merge back into one.
pub async fn schedule_next(
    db: &Db,
    kind: &str,
    run_at: i64,
    except_job_id: Option<i64>,
) -> Result<bool> {
    let pending: i64 = sqlx::query_scalar(
        r#"select count(*) from jobs
           where kind = $1 and status in ('queued', 'running', 'failed') and job_id <> $2"#,
    )
    .bind(kind)
    .bind(except_job_id.unwrap_or(0))
    .fetch_one(db.pool())
    .await?;
    if pending > 0 {
        return Ok(false);
    }
    let now = now_ms();
    sqlx::query(
        r#"insert into jobs (kind, payload, status, attempts, max_attempts, run_at, created_at, updated_at)
           values ($1, '{}', 'queued', 0, $2, $3, $4, $4)"#,
    )
    .bind(kind)
    .bind(DEFAULT_MAX_ATTEMPTS)
    .bind(run_at)
    .bind(now)
    .execute(db.pool())
    .await?;
    Ok(true)
}

/// Claims the next runnable job for `worker`, holding it for `lease`. Runnable: queued or failed
/// jobs whose time has come, and running jobs whose lease ran out (their worker died).
pub async fn claim(db: &Db, worker: &str, lease: Duration) -> Result<Option<Job>> {
    let now = now_ms();
    let lease_until = now + lease.as_millis() as i64;
    let lock = match db.backend() {
        Backend::Postgres => "for update skip locked",
        Backend::Sqlite => "",
    };
    let sql = format!(
        r#"update jobs set status = 'running', attempts = attempts + 1, lease_owner = $1,
                  lease_until = $2, updated_at = $3
           where job_id = (
               select job_id from jobs
               where (status in ('queued', 'failed') and run_at <= $3)
                  or (status = 'running' and lease_until < $3)
               order by run_at, job_id
               limit 1
               {lock}
           )
           returning {JOB_COLUMNS}"#
    );
    let job: Option<Job> = sqlx::query_as(&sql)
        .bind(worker)
        .bind(lease_until)
        .bind(now)
        .fetch_optional(db.pool())
        .await?;
    Ok(job)
}

/// Extends the lease `worker` holds on a running job. Returns false when it no longer holds it.
pub async fn renew(db: &Db, job_id: i64, worker: &str, lease: Duration) -> Result<bool> {
    let renewed = sqlx::query(
        "update jobs set lease_until = $1 where job_id = $2 and status = 'running' and lease_owner = $3",
    )
    .bind(now_ms() + lease.as_millis() as i64)
    .bind(job_id)
    .bind(worker)
    .execute(db.pool())
    .await?;
    Ok(renewed.rows_affected() == 1)
}

/// Marks a claimed job done. Returns false when `worker` no longer holds the lease.
pub async fn complete(db: &Db, job_id: i64, worker: &str) -> Result<bool> {
    let done = sqlx::query(
        "update jobs set status = 'done', lease_owner = null, lease_until = null, last_error = null, updated_at = $1 \
         where job_id = $2 and status = 'running' and lease_owner = $3",
    )
    .bind(now_ms())
    .bind(job_id)
    .bind(worker)
    .execute(db.pool())
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Backoff before attempt `attempts + 1`: 10 s, 20 s, 40 s, ... capped at 30 minutes.
pub fn backoff_ms(attempts: i64) -> i64 {
    let exponent = attempts.clamp(1, 16) as u32 - 1;
    (10 * SECOND_MS)
        .saturating_mul(1i64 << exponent)
        .min(30 * MINUTE_MS)
}

/// Records a failed attempt: back to `failed` with a backoff, or `dead` when attempts are used up.
pub async fn fail(db: &Db, job: &Job, worker: &str, error: &str) -> Result<JobStatus> {
    let now = now_ms();
    let status = if job.attempts >= job.max_attempts {
        JobStatus::Dead
    } else {
        JobStatus::Failed
    };
    let error: String = error.chars().take(2000).collect();
    sqlx::query(
        "update jobs set status = $1, run_at = $2, last_error = $3, lease_owner = null, lease_until = null, updated_at = $4 \
         where job_id = $5 and status = 'running' and lease_owner = $6",
    )
    .bind(status.as_str())
    .bind(now + backoff_ms(job.attempts))
    .bind(error)
    .bind(now)
    .bind(job.job_id)
    .bind(worker)
    .execute(db.pool())
    .await?;
    Ok(status)
}

/// Gives back every job `worker` holds, at once runnable, without counting the attempt
/// (graceful shutdown).
pub async fn release_all(db: &Db, worker: &str) -> Result<u64> {
    let now = now_ms();
    let released = sqlx::query(
        "update jobs set status = 'queued', attempts = attempts - 1, run_at = $1, lease_owner = null, \
         lease_until = null, updated_at = $1 where status = 'running' and lease_owner = $2",
    )
    .bind(now)
    .bind(worker)
    .execute(db.pool())
    .await?;
    Ok(released.rows_affected())
}

/// A failed or dead job runs again now, with a fresh count of attempts. Scoped to the firm.
pub async fn retry(db: &Db, firm_id: i64, job_id: i64) -> Result<()> {
    let now = now_ms();
    let done = sqlx::query(
        "update jobs set status = 'queued', attempts = 0, run_at = $1, updated_at = $1 \
         where job_id = $2 and firm_id = $3 and status in ('failed', 'dead')",
    )
    .bind(now)
    .bind(job_id)
    .bind(firm_id)
    .execute(db.pool())
    .await?;
    if done.rows_affected() == 0 {
        return Err(Error::NotFound);
    }
    Ok(())
}

/// Jobs of a firm that need a person: failed (will retry) and dead (will not), newest first.
pub async fn list_troubled(
    db: &Db,
    firm_id: i64,
    before: Option<i64>,
    limit: i64,
) -> Result<Vec<Job>> {
    let sql = format!(
        "select {JOB_COLUMNS} from jobs where firm_id = $1 and status in ('failed', 'dead') \
         and job_id < $2 order by job_id desc limit $3"
    );
    let jobs: Vec<Job> = sqlx::query_as(&sql)
        .bind(firm_id)
        .bind(before.unwrap_or(i64::MAX))
        .bind(limit.clamp(1, 200))
        .fetch_all(db.pool())
        .await?;
    Ok(jobs)
}

pub async fn get(db: &Db, job_id: i64) -> Result<Job> {
    let sql = format!("select {JOB_COLUMNS} from jobs where job_id = $1");
    let job: Option<Job> = sqlx::query_as(&sql)
        .bind(job_id)
        .fetch_optional(db.pool())
        .await?;
    job.ok_or(Error::NotFound)
}

/// Counts of jobs by status, for `/metrics` and the test harness ("no job left unprocessed").
pub async fn count_by_status(db: &Db) -> Result<Vec<(String, i64)>> {
    Ok(
        sqlx::query_as("select status, count(*) from jobs group by status order by status")
            .fetch_all(db.pool())
            .await?,
    )
}

pub type HandlerFuture = Pin<Box<dyn Future<Output = std::result::Result<(), String>> + Send>>;
pub type Handler = Arc<dyn Fn(Job) -> HandlerFuture + Send + Sync>;

/// Runs jobs: claims one, dispatches it by kind, records the outcome. Each kind has one handler.
#[derive(Clone)]
pub struct Worker {
    db: Db,
    name: String,
    lease: Duration,
    handlers: HashMap<String, Handler>,
}

impl Worker {
    pub fn new(db: Db, name: impl Into<String>) -> Self {
        Self {
            db,
            name: name.into(),
            lease: DEFAULT_LEASE,
            handlers: HashMap::new(),
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn with_lease(mut self, lease: Duration) -> Self {
        self.lease = lease;
        self
    }

    pub fn handle<F, Fut>(mut self, kind: &str, handler: F) -> Self
    where
        F: Fn(Job) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = std::result::Result<(), String>> + Send + 'static,
    {
        self.handlers
            .insert(kind.to_owned(), Arc::new(move |job| Box::pin(handler(job))));
        self
    }

    /// Claims one job only, without running it: what a worker that then dies looks like.
    pub async fn claim_only(&self) -> Result<Option<Job>> {
        claim(&self.db, &self.name, self.lease).await
    }

    /// Claims and runs one job. Returns false when the queue had nothing runnable.
    #[tracing::instrument(skip(self), fields(worker = %self.name))]
    pub async fn run_once(&self) -> Result<bool> {
        let Some(job) = claim(&self.db, &self.name, self.lease).await? else {
            return Ok(false);
        };
        let span = tracing::info_span!("job", job_id = job.job_id, kind = %job.kind, attempt = job.attempts);
        let work = async {
            match self.handlers.get(&job.kind) {
                Some(handler) => handler(job.clone()).instrument(span).await,
                None => Err(format!("no handler for job kind {:?}", job.kind)),
            }
        };
        tokio::pin!(work);
        // The heartbeat: while the job runs its lease is renewed every third of the lease.
        let mut heartbeat = tokio::time::interval(self.lease / 3);
        heartbeat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        heartbeat.tick().await; // the first tick is immediate; the claim just set the lease
        let outcome = loop {
            tokio::select! {
                outcome = &mut work => break outcome,
                _ = heartbeat.tick() => {
                    match renew(&self.db, job.job_id, &self.name, self.lease).await {
                        Ok(true) => {}
                        Ok(false) => tracing::warn!("lease lost while the job runs"),
                        Err(e) => tracing::warn!(error = %e, "could not renew the job's lease"),
                    }
                }
            }
        };
        match outcome {
            Ok(()) => {
                if !complete(&self.db, job.job_id, &self.name).await? {
                    tracing::warn!("lease lost before completion; another worker owns the job");
                }
            }
            Err(error) => {
                let status = fail(&self.db, &job, &self.name, &error).await?;
                tracing::warn!(%error, status = status.as_str(), "job failed");
            }
        }
        Ok(true)
    }

    /// Runs until `shutdown` resolves (the job in hand is finished first), then gives back what it
    /// holds. Polls every `idle` when the queue is empty.
    pub async fn run(self, idle: Duration, shutdown: impl Future<Output = ()>) {
        tokio::pin!(shutdown);
        loop {
            let busy = match self.run_once().await {
                Ok(busy) => busy,
                Err(e) => {
                    tracing::error!(error = %e, "worker could not claim or record a job");
                    false
                }
            };
            if busy {
                // Between jobs a stop request wins: on a queue that never empties the worker
                // would otherwise never look at it, and a stopping instance would keep claiming.
                tokio::select! {
                    biased;
                    _ = &mut shutdown => break,
                    _ = std::future::ready(()) => continue,
                }
            }
            tokio::select! {
                _ = &mut shutdown => break,
                _ = tokio::time::sleep(idle) => {}
            }
        }
        match release_all(&self.db, &self.name).await {
            Ok(n) if n > 0 => tracing::info!(released = n, "released claimed jobs"),
            Ok(_) => {}
            Err(e) => tracing::error!(error = %e, "could not release claimed jobs"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_is_capped() {
        assert_eq!(backoff_ms(1), 10_000);
        assert_eq!(backoff_ms(2), 20_000);
        assert_eq!(backoff_ms(3), 40_000);
        assert_eq!(backoff_ms(40), 30 * MINUTE_MS);
    }
}
