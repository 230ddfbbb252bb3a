//! The job queue on the backend `TEST_DATABASE_URL` selects: leases that run out, failures with
//! backoff, dead jobs and their retry, graceful release, and two workers racing for one queue.
mod common;

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use audit::clock::now_ms;
use audit::db::Db;
use audit::jobs::{self, HandlerFuture, Job, JobStatus, Worker, DEFAULT_MAX_ATTEMPTS};
use audit::Error;

use common::{is_postgres, with_db};

type Runs = Arc<Mutex<Vec<i64>>>;

/// A handler that records the id of every job it runs and succeeds.
fn recorder(runs: Runs) -> impl Fn(Job) -> HandlerFuture + Send + Sync + 'static {
    move |job: Job| {
        let runs = runs.clone();
        Box::pin(async move {
            // Give the other worker a chance to run in between (the race test).
            tokio::task::yield_now().await;
            runs.lock().expect("runs lock").push(job.job_id);
            Ok(())
        })
    }
}

fn recorded(runs: &Runs) -> Vec<i64> {
    runs.lock().expect("runs lock").clone()
}

async fn enqueue(db: &Db, kind: &str, firm_id: Option<i64>) -> i64 {
    let mut conn = db.pool().acquire().await.expect("a connection");
    jobs::enqueue(&mut conn, kind, "{}", firm_id)
        .await
        .expect("enqueue a job")
}

async fn job(db: &Db, job_id: i64) -> Job {
    jobs::get(db, job_id).await.expect("the job exists")
}

/// Who holds the job's lease, and until when.
async fn lease(db: &Db, job_id: i64) -> (Option<String>, Option<i64>) {
    sqlx::query_as("select lease_owner, lease_until from jobs where job_id = $1")
        .bind(job_id)
        .fetch_one(db.pool())
        .await
        .expect("the job's lease")
}

/// Makes a failed job runnable now instead of after its backoff.
async fn skip_backoff(db: &Db, job_id: i64) {
    sqlx::query("update jobs set run_at = 0 where job_id = $1")
        .bind(job_id)
        .execute(db.pool())
        .await
        .expect("move run_at to the past");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_whose_worker_died_runs_once_more_after_the_lease_runs_out() {
    with_db(|db| async move {
        let job_id = enqueue(&db, "count", None).await;
        let runs: Runs = Arc::default();

        // The first worker claims the job and dies (is dropped) without running or releasing it.
        let doomed = Worker::new(db.clone(), "doomed")
            .with_lease(Duration::from_millis(300))
            .handle("count", recorder(runs.clone()));
        let claimed = doomed
            .claim_only()
            .await
            .expect("claim")
            .expect("a runnable job");
        assert_eq!(claimed.job_id, job_id);
        assert_eq!(claimed.status, JobStatus::Running);
        assert_eq!(claimed.attempts, 1);
        assert_eq!(lease(&db, job_id).await.0.as_deref(), Some("doomed"));
        drop(doomed);

        tokio::time::sleep(Duration::from_millis(500)).await;

        let survivor = Worker::new(db.clone(), "survivor").handle("count", recorder(runs.clone()));
        assert!(
            survivor.run_once().await.expect("run"),
            "the expired lease makes the job runnable"
        );
        assert!(
            !survivor.run_once().await.expect("run"),
            "nothing else is runnable"
        );
        assert_eq!(
            recorded(&runs),
            vec![job_id],
            "the job ran exactly once to completion"
        );

        assert!(
            !jobs::complete(&db, job_id, "doomed")
                .await
                .expect("complete"),
            "the worker that lost its lease cannot complete the job"
        );
        let done = job(&db, job_id).await;
        assert_eq!(done.status, JobStatus::Done);
        assert_eq!(done.attempts, 2);
        assert_eq!(done.last_error, None);
        assert_eq!(lease(&db, job_id).await, (None, None));
    })
    .await;
}

#[tokio::test]
async fn a_job_under_a_live_lease_is_not_claimed_by_another_worker() {
    with_db(|db| async move {
        let job_id = enqueue(&db, "count", None).await;
        let runs: Runs = Arc::default();
        let holder = Worker::new(db.clone(), "holder").with_lease(Duration::from_secs(60));
        let claimed = holder.claim_only().await.expect("claim").expect("a job");
        assert_eq!(claimed.job_id, job_id);

        let other = Worker::new(db.clone(), "other").handle("count", recorder(runs.clone()));
        assert!(
            !other.run_once().await.expect("run"),
            "the job is leased to holder"
        );
        assert!(recorded(&runs).is_empty());
        assert!(
            !jobs::complete(&db, job_id, "other")
                .await
                .expect("complete"),
            "only the lease owner completes a job"
        );
        assert!(jobs::complete(&db, job_id, "holder")
            .await
            .expect("complete"));
        assert!(
            !jobs::complete(&db, job_id, "holder")
                .await
                .expect("complete"),
            "a done job is not completed twice"
        );
        let done = job(&db, job_id).await;
        assert_eq!((done.status, done.attempts), (JobStatus::Done, 1));
    })
    .await;
}

#[tokio::test]
async fn a_failing_job_backs_off_dies_after_max_attempts_and_can_be_retried() {
    with_db(|db| async move {
        let owner = common::owner(&db).await;
        let stranger = common::owner(&db).await;
        let job_id = enqueue(&db, "flaky", Some(owner.firm_id)).await;
        let failing = Worker::new(db.clone(), "failing").handle("flaky", |_job: Job| async {
            Err::<(), _>("the client's API said 503".to_owned())
        });

        let before = now_ms();
        assert!(failing.run_once().await.expect("run"));
        let failed = job(&db, job_id).await;
        assert_eq!(failed.status, JobStatus::Failed);
        assert_eq!(failed.attempts, 1);
        assert_eq!(failed.max_attempts, DEFAULT_MAX_ATTEMPTS);
        assert_eq!(
            failed.last_error.as_deref(),
            Some("the client's API said 503")
        );
        assert!(
            failed.run_at >= before + jobs::backoff_ms(1),
            "run_at {} is pushed back by the backoff from {before}",
            failed.run_at
        );
        assert!(failed.run_at <= now_ms() + jobs::backoff_ms(1));
        assert_eq!(lease(&db, job_id).await, (None, None));
        assert!(
            !failing.run_once().await.expect("run"),
            "not runnable during the backoff"
        );

        // The firm's Jobs page lists it; another firm's does not.
        let troubled = jobs::list_troubled(&db, owner.firm_id, None, 50)
            .await
            .expect("list");
        assert_eq!(
            troubled.iter().map(|j| j.job_id).collect::<Vec<_>>(),
            vec![job_id]
        );
        assert!(jobs::list_troubled(&db, stranger.firm_id, None, 50)
            .await
            .expect("list")
            .is_empty());

        // Each later attempt backs off longer, until the attempts are used up.
        for attempt in 2..=DEFAULT_MAX_ATTEMPTS {
            skip_backoff(&db, job_id).await;
            let before = now_ms();
            assert!(failing.run_once().await.expect("run"));
            let after = job(&db, job_id).await;
            assert_eq!(after.attempts, attempt);
            if attempt < DEFAULT_MAX_ATTEMPTS {
                assert_eq!(after.status, JobStatus::Failed);
                assert!(after.run_at >= before + jobs::backoff_ms(attempt));
            }
        }
        let dead = job(&db, job_id).await;
        assert_eq!(dead.status, JobStatus::Dead);
        assert_eq!(dead.attempts, DEFAULT_MAX_ATTEMPTS);
        assert_eq!(
            dead.last_error.as_deref(),
            Some("the client's API said 503")
        );
        skip_backoff(&db, job_id).await;
        assert!(
            !failing.run_once().await.expect("run"),
            "a dead job is never claimed"
        );
        let troubled = jobs::list_troubled(&db, owner.firm_id, None, 50)
            .await
            .expect("list");
        assert_eq!(troubled.first().map(|j| j.status), Some(JobStatus::Dead));

        // Retry is scoped to the firm: another firm's retry finds nothing.
        assert!(matches!(
            jobs::retry(&db, stranger.firm_id, job_id).await,
            Err(Error::NotFound)
        ));
        assert_eq!(job(&db, job_id).await.status, JobStatus::Dead);

        jobs::retry(&db, owner.firm_id, job_id)
            .await
            .expect("retry");
        let queued = job(&db, job_id).await;
        assert_eq!(queued.status, JobStatus::Queued);
        assert_eq!(queued.attempts, 0);
        assert!(queued.run_at <= now_ms());
        assert!(
            matches!(
                jobs::retry(&db, owner.firm_id, job_id).await,
                Err(Error::NotFound)
            ),
            "a queued job is not retried"
        );

        // Now the job succeeds, with a fresh count of attempts.
        let runs: Runs = Arc::default();
        let healthy = Worker::new(db.clone(), "healthy").handle("flaky", recorder(runs.clone()));
        assert!(healthy.run_once().await.expect("run"));
        assert_eq!(recorded(&runs), vec![job_id]);
        let done = job(&db, job_id).await;
        assert_eq!(
            (done.status, done.attempts, done.last_error),
            (JobStatus::Done, 1, None)
        );
        assert!(jobs::list_troubled(&db, owner.firm_id, None, 50)
            .await
            .expect("list")
            .is_empty());
    })
    .await;
}

#[tokio::test]
async fn a_job_of_an_unknown_kind_fails_with_a_message() {
    with_db(|db| async move {
        let job_id = enqueue(&db, "mystery", None).await;
        let worker = Worker::new(db.clone(), "w").handle("count", recorder(Arc::default()));
        assert!(worker.run_once().await.expect("run"));
        let failed = job(&db, job_id).await;
        assert_eq!(failed.status, JobStatus::Failed);
        assert!(
            failed
                .last_error
                .as_deref()
                .is_some_and(|e| e.contains("mystery")),
            "{failed:?}"
        );
    })
    .await;
}

#[tokio::test]
async fn release_all_gives_running_jobs_back_without_counting_the_attempt() {
    with_db(|db| async move {
        let first = enqueue(&db, "count", None).await;
        let second = enqueue(&db, "count", None).await;
        let third = enqueue(&db, "count", None).await;
        let stopping = Worker::new(db.clone(), "stopping");
        let other = Worker::new(db.clone(), "other");
        assert_eq!(
            stopping
                .claim_only()
                .await
                .expect("claim")
                .map(|j| j.job_id),
            Some(first)
        );
        assert_eq!(
            stopping
                .claim_only()
                .await
                .expect("claim")
                .map(|j| j.job_id),
            Some(second)
        );
        assert_eq!(
            other.claim_only().await.expect("claim").map(|j| j.job_id),
            Some(third)
        );

        assert_eq!(jobs::release_all(&db, "nobody").await.expect("release"), 0);
        assert_eq!(
            jobs::release_all(&db, "stopping").await.expect("release"),
            2
        );
        for job_id in [first, second] {
            let released = job(&db, job_id).await;
            assert_eq!(released.status, JobStatus::Queued);
            assert_eq!(
                released.attempts, 0,
                "the interrupted attempt does not count"
            );
            assert!(released.run_at <= now_ms(), "runnable at once");
            assert_eq!(lease(&db, job_id).await, (None, None));
        }
        let untouched = job(&db, third).await;
        assert_eq!(
            (untouched.status, untouched.attempts),
            (JobStatus::Running, 1)
        );
        assert_eq!(lease(&db, third).await.0.as_deref(), Some("other"));
        assert_eq!(
            jobs::release_all(&db, "stopping").await.expect("release"),
            0
        );

        let runs: Runs = Arc::default();
        let next = Worker::new(db.clone(), "next").handle("count", recorder(runs.clone()));
        while next.run_once().await.expect("run") {}
        assert_eq!(recorded(&runs), vec![first, second]);
        for job_id in [first, second] {
            let done = job(&db, job_id).await;
            assert_eq!((done.status, done.attempts), (JobStatus::Done, 1));
        }
    })
    .await;
}

/// Enqueues `count` jobs, lets two workers in two tasks drain the queue, and checks every job ran
/// exactly once.
async fn race(db: Db, count: usize) {
    let mut tx = db.pool().begin().await.expect("begin");
    let mut enqueued = Vec::with_capacity(count);
    for n in 0..count {
        let payload = format!("{{\"n\":{n}}}");
        enqueued.push(
            jobs::enqueue(&mut tx, "race", &payload, None)
                .await
                .expect("enqueue"),
        );
    }
    tx.commit().await.expect("commit");

    let runs: Runs = Arc::default();
    let tasks: Vec<_> = ["racer-a", "racer-b"]
        .into_iter()
        .map(|name| {
            let worker = Worker::new(db.clone(), name).handle("race", recorder(runs.clone()));
            tokio::spawn(async move {
                let mut ran = 0usize;
                while worker.run_once().await.expect("claim and record a job") {
                    ran += 1;
                }
                ran
            })
        })
        .collect();
    let mut per_worker = Vec::new();
    for task in tasks {
        per_worker.push(task.await.expect("worker task"));
    }
    eprintln!("jobs run per worker: {per_worker:?}");

    let runs = recorded(&runs);
    assert_eq!(runs.len(), count, "one run per job, no duplicates");
    let distinct: HashSet<i64> = runs.iter().copied().collect();
    assert_eq!(distinct.len(), count, "no job ran twice");
    assert_eq!(distinct, enqueued.iter().copied().collect::<HashSet<_>>());
    assert_eq!(per_worker.iter().sum::<usize>(), count);
    assert_eq!(
        jobs::count_by_status(&db).await.expect("counts"),
        vec![("done".to_owned(), count as i64)]
    );
    let (fewest, most): (i64, i64) =
        sqlx::query_as("select min(attempts), max(attempts) from jobs")
            .fetch_one(db.pool())
            .await
            .expect("attempts");
    assert_eq!((fewest, most), (1, 1), "every job was claimed once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_workers_racing_on_postgres_run_every_job_exactly_once() {
    with_db(|db| async move {
        if !is_postgres(&db) {
            eprintln!("skipped: the PostgreSQL race needs TEST_DATABASE_URL=postgres://...");
            return;
        }
        race(db, 100).await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_workers_racing_on_sqlite_run_every_job_exactly_once() {
    with_db(|db| async move {
        if is_postgres(&db) {
            eprintln!("skipped: this is the SQLite race (the PostgreSQL one runs instead)");
            return;
        }
        race(db, 100).await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_asked_to_stop_finishes_its_job_and_stops_although_the_queue_is_not_empty() {
    with_db(|db| async move {
        const JOBS: usize = 20;
        for _ in 0..JOBS {
            enqueue(&db, "slow", None).await;
        }
        let runs: Runs = Arc::default();
        let recorded_runs = runs.clone();
        let worker = Worker::new(db.clone(), "stopping").handle("slow", move |job: Job| {
            let runs = recorded_runs.clone();
            async move {
                tokio::time::sleep(Duration::from_millis(50)).await;
                runs.lock().expect("runs lock").push(job.job_id);
                Ok(())
            }
        });
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let running = tokio::spawn(worker.run(Duration::from_millis(10), async move {
            let _ = stopped.await;
        }));
        tokio::time::sleep(Duration::from_millis(120)).await;
        let _ = stop.send(());
        tokio::time::timeout(Duration::from_secs(5), running)
            .await
            .expect("the worker stops")
            .expect("the worker task");

        let ran = recorded(&runs).len();
        assert!(
            (1..JOBS).contains(&ran),
            "the worker stopped between jobs instead of draining the queue ({ran} of {JOBS} ran)"
        );
        assert_eq!(
            jobs::count_by_status(&db).await.expect("counts"),
            vec![
                ("done".to_owned(), ran as i64),
                ("queued".to_owned(), (JOBS - ran) as i64)
            ],
            "what it did not run is queued for others, none left running"
        );
    })
    .await;
}

/// A job that runs longer than its lease keeps it: its worker renews the lease while the job
/// runs, so no other worker claims it and it runs once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_job_keeps_its_lease_while_its_worker_lives() {
    with_db(|db| async move {
        let job_id = enqueue(&db, "slow", None).await;
        let runs: Runs = Arc::default();
        let slow_runs = runs.clone();
        let slow = Worker::new(db.clone(), "slow")
            .with_lease(Duration::from_millis(300))
            .handle("slow", move |job: Job| {
                let runs = slow_runs.clone();
                async move {
                    // Four leases long.
                    tokio::time::sleep(Duration::from_millis(1200)).await;
                    runs.lock().expect("runs lock").push(job.job_id);
                    Ok(())
                }
            });
        let running = tokio::spawn(async move { slow.run_once().await });

        let other = Worker::new(db.clone(), "other")
            .with_lease(Duration::from_millis(300))
            .handle("slow", recorder(runs.clone()));
        for _ in 0..8 {
            tokio::time::sleep(Duration::from_millis(120)).await;
            assert!(
                !other.run_once().await.expect("run"),
                "the running job's lease is renewed, so it is not runnable elsewhere"
            );
        }
        assert!(running.await.expect("the worker ran").expect("run"));
        assert_eq!(recorded(&runs), vec![job_id], "the job ran exactly once");
        assert_eq!(job(&db, job_id).await.status, JobStatus::Done);
    })
    .await;
}
