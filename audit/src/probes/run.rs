//! Running a probe: the job behind a run. It opens the targets, builds the guard from the
//! operator's and the firm's allow-lists, runs the probe under a time bound while storing its
//! progress twice a second (and passing on a cancel), then stores the checks and feeds them to
//! the findings.
use std::sync::Arc;
use std::time::Duration;

use ipnet::IpNet;

use super::error::ProbeError;
use super::fetch::{FetchLimits, Fetcher};
use super::guard::Guard;
use super::model::{ProbeKind, ProbeOutput, RunStatus};
use super::progress::Progress;
use super::seal::SealKey;
use super::{http, logs, postgres, repo, store};
use crate::db::Db;
use crate::error::{Error, Result};

/// What every run needs from the installation.
#[derive(Debug, Clone)]
pub struct ProbeRuntime {
    pub key: SealKey,
    /// `PLUMBLINE_PROBE_ALLOW`: ranges every firm's probes may reach.
    pub operator_allow: Vec<IpNet>,
    /// The most a run may take before it is stopped.
    pub time_bound: Duration,
    /// Where clones and unpacked archives go while a run reads them.
    pub work_dir: std::path::PathBuf,
    /// A warm-up before the HTTP latency measurement, discarded (reference §4 says ≥ 10 s for
    /// wrk2's calibration; tests shorten it).
    pub http_warmup: Duration,
}

impl ProbeRuntime {
    pub fn new(
        key: SealKey,
        operator_allow: Vec<IpNet>,
        work_dir: std::path::PathBuf,
    ) -> ProbeRuntime {
        ProbeRuntime {
            key,
            operator_allow,
            time_bound: Duration::from_secs(15 * 60),
            work_dir,
            http_warmup: Duration::from_secs(5),
        }
    }

    /// The guard for one firm: the operator's ranges plus the firm owner's.
    pub async fn guard_for(&self, db: &Db, firm_id: i64) -> Result<Guard> {
        let firm = store::firm_probe_allow(db, firm_id).await?;
        let mut allow = self.operator_allow.clone();
        allow.extend(Guard::parse_allow_list(&firm).unwrap_or_default());
        Ok(Guard::new(allow))
    }
}

/// The payload of a probe-run job.
pub fn run_payload(payload: &str) -> Option<i64> {
    payload.trim().parse().ok()
}

/// Runs one probe run to its end. Errors are only the store's: a probe that fails is a run
/// whose status says so.
pub async fn execute(db: &Db, runtime: &ProbeRuntime, run_id: i64) -> Result<()> {
    let Some(job) = store::begin_run(db, run_id).await? else {
        return Ok(());
    };
    let guard = runtime.guard_for(db, job.firm_id).await?;
    let progress = Progress::new();
    // Boxed as `Send` here, where every lifetime is concrete: rustc cannot otherwise prove the
    // probes' futures `Send` for all lifetimes when the worker's handler needs it.
    let mut work: std::pin::Pin<
        Box<
            dyn std::future::Future<Output = std::result::Result<ProbeOutput, ProbeError>>
                + Send
                + '_,
        >,
    > = Box::pin(probe(db, runtime, &job, guard, progress.clone()));
    let deadline = tokio::time::sleep(runtime.time_bound);
    tokio::pin!(deadline);
    let mut tick = tokio::time::interval(Duration::from_millis(500));
    let outcome: Option<std::result::Result<ProbeOutput, ProbeError>> = loop {
        tokio::select! {
            result = &mut work => break Some(result),
            _ = &mut deadline => break None,
            _ = tick.tick() => {
                let (done, total, label) = progress.snapshot();
                if store::record_progress(db, run_id, done, total, &label).await? && !progress.is_cancelled() {
                    progress.cancel();
                    // Give the probe a moment to stop at its next step, then drop it.
                    match tokio::time::timeout(Duration::from_secs(5), &mut work).await {
                        Ok(result) => break Some(result.and(Err(ProbeError::Cancelled))),
                        Err(_) => break Some(Err(ProbeError::Cancelled)),
                    }
                }
            }
        }
    };
    match outcome {
        None => {
            let error = format!(
                "The run took longer than its limit of {} minutes and was stopped.",
                runtime.time_bound.as_secs() / 60
            );
            store::finish_run(db, run_id, RunStatus::TimedOut, None, Some(&error)).await
        }
        Some(Err(ProbeError::Cancelled)) => {
            store::finish_run(db, run_id, RunStatus::Cancelled, None, None).await
        }
        Some(Err(e)) => {
            store::finish_run(db, run_id, RunStatus::Failed, None, Some(&e.to_string())).await
        }
        Some(Ok(output)) => {
            store::finish_run(db, run_id, RunStatus::Done, Some(&output), None).await?;
            let actor = crate::activity::Actor::plumbline();
            super::feed::findings_from_checks(db, &actor, job.firm_id, job.engagement_id).await?;
            Ok(())
        }
    }
}

async fn probe(
    db: &Db,
    runtime: &ProbeRuntime,
    job: &store::RunJob,
    guard: Guard,
    progress: Progress,
) -> std::result::Result<ProbeOutput, ProbeError> {
    let store_error = |e: Error| ProbeError::Internal(e.to_string());
    let targets = store::get_targets(db, job.firm_id, job.engagement_id)
        .await
        .map_err(store_error)?;
    match job.kind {
        ProbeKind::Http => {
            let base_url = guard
                .check_url(&targets.http_base_url, &["http", "https"])
                .map_err(|r| ProbeError::Refused(r.0))?;
            let target = http::HttpProbeTarget {
                base_url,
                endpoints: targets.http_endpoints.clone(),
                openapi_url: Some(targets.http_openapi_url.clone()).filter(|u| !u.is_empty()),
                rate: targets.http_rate,
                duration: Duration::from_secs(targets.http_duration_secs as u64),
                warmup: runtime.http_warmup,
            };
            let fetcher = Fetcher::new(Arc::new(guard), FetchLimits::default());
            sendable(http::run(&target, &fetcher, &progress)).await
        }
        ProbeKind::Postgres => {
            let dsn = store::open_postgres(db, &runtime.key, job.engagement_id)
                .await
                .map_err(store_error)?
                .ok_or_else(|| ProbeError::Invalid("No connection string is stored.".into()))?;
            let target = postgres::PostgresTarget::parse(&dsn).map_err(ProbeError::Invalid)?;
            sendable(postgres::run(&target, &guard, &progress)).await
        }
        ProbeKind::Repository => {
            let run_dir = run_dir_in(&runtime.work_dir, job.run_id)?;
            let dir = run_dir.join("repo");
            let caps = repo::RepoCaps::default();
            let files = store::upload_contents(db, job.engagement_id, &job.params.upload_ids)
                .await
                .map_err(store_error)?;
            let result = async {
                let mut unpacked = None;
                match files.first() {
                    Some((name, bytes)) => {
                        progress.set_label("Unpacking");
                        let (name, bytes, dest, caps) =
                            (name.clone(), bytes.clone(), dir.clone(), caps.clone());
                        let report = tokio::task::spawn_blocking(move || {
                            repo::unpack_archive_report(&name, &bytes, &dest, &caps)
                        })
                        .await
                        .map_err(|e| ProbeError::Internal(e.to_string()))??;
                        unpacked = Some(report);
                    }
                    None => {
                        sendable(repo::clone_repository(
                            &targets.repository_url,
                            &guard,
                            &dir,
                            &caps,
                            &progress,
                        ))
                        .await?
                    }
                }
                let mut output = sendable(repo::run(&dir, &progress)).await?;
                // What unpacking left out (links, devices, .git hooks) goes on the record.
                if let (Some(report), serde_json::Value::Object(raw)) = (unpacked, &mut output.raw)
                {
                    raw.insert(
                        "unpack".to_owned(),
                        serde_json::to_value(report).unwrap_or_default(),
                    );
                }
                Ok(output)
            };
            let result = sendable(result).await;
            let _ = tokio::fs::remove_dir_all(&run_dir).await;
            result
        }
        ProbeKind::Logs => {
            let files = store::upload_contents(db, job.engagement_id, &job.params.upload_ids)
                .await
                .map_err(store_error)?
                .into_iter()
                .map(|(name, bytes)| logs::LogFile { name, bytes })
                .collect::<Vec<_>>();
            let progress = progress.clone();
            tokio::task::spawn_blocking(move || logs::run(&files, &progress))
                .await
                .map_err(|e| ProbeError::Internal(e.to_string()))
        }
    }
}

/// A fresh folder for one run (the clone or the unpacked archive goes inside it as `repo`).
fn run_dir_in(
    work_dir: &std::path::Path,
    run_id: i64,
) -> std::result::Result<std::path::PathBuf, ProbeError> {
    let dir = work_dir.join(format!(
        "run-{run_id}-{}",
        crate::accounts::new_secret("")[..8].to_owned()
    ));
    std::fs::create_dir_all(&dir)
        .map_err(|e| ProbeError::Internal(format!("{}: {e}", dir.display())))?;
    Ok(dir)
}

/// Boxes a probe's future as `Send` where its lifetimes are concrete (see `execute`).
fn sendable<'a, T>(
    future: impl std::future::Future<Output = T> + Send + 'a,
) -> std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send + 'a>> {
    Box::pin(future)
}
