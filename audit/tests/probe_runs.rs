//! Probe runs as jobs, on the backend `TEST_DATABASE_URL` selects: a running run stops when
//! cancelled, a run stops at its time bound, and a second worker never runs a live run twice.
#![allow(clippy::unwrap_used)]
mod common;

use std::time::Duration;

use audit::accounts::Member;
use audit::activity::Actor;
use audit::db::Db;
use audit::engagements::{self, EngagementInput};
use audit::probes::guard::Guard;
use audit::probes::run::{execute, ProbeRuntime};
use audit::probes::seal::SealKey;
use audit::probes::store::{self, RunParams};
use audit::probes::{ProbeKind, ProbeTargetsInput, RunStatus};

use common::{owner, with_db};

async fn new_engagement(db: &Db, member: &Member) -> i64 {
    let fields = EngagementInput {
        client_name: Some("Acme".to_owned()),
        system_name: Some("Ledger".to_owned()),
        ..Default::default()
    }
    .parse()
    .unwrap();
    engagements::create(db, member, &fields)
        .await
        .unwrap()
        .engagement_id
}

/// An API on loopback whose every answer takes `delay`.
async fn slow_server(delay: Duration) -> String {
    let app = axum::Router::new().fallback(move || async move {
        tokio::time::sleep(delay).await;
        "slow"
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    address
}

fn runtime(time_bound: Duration) -> ProbeRuntime {
    let mut runtime = ProbeRuntime::new(
        SealKey::generate(),
        Guard::parse_allow_list("127.0.0.0/8").unwrap(),
        std::env::temp_dir().join("plumbline-probe-runs-test"),
    );
    runtime.time_bound = time_bound;
    runtime.http_warmup = Duration::ZERO;
    runtime
}

/// An HTTP run against a slow server, queued.
async fn slow_run(db: &Db, runtime: &ProbeRuntime) -> (Member, i64, i64) {
    let member = owner(db).await;
    let engagement = new_engagement(db, &member).await;
    let base = slow_server(Duration::from_secs(3)).await;
    let guard = runtime.guard_for(db, member.firm_id).await.unwrap();
    let input = ProbeTargetsInput {
        http_base_url: base,
        http_endpoints: vec!["/a".into(), "/b".into()],
        http_rate: Some(5),
        http_duration_secs: Some(30),
        version: 0,
        ..Default::default()
    };
    store::save_targets(db, &runtime.key, &guard, member.firm_id, engagement, &input)
        .await
        .unwrap();
    let run = store::start_run(
        db,
        &Actor::from(&member),
        member.firm_id,
        engagement,
        ProbeKind::Http,
        &RunParams::default(),
    )
    .await
    .unwrap();
    (member, engagement, run.id)
}

#[tokio::test]
async fn a_running_run_stops_when_cancelled_and_a_second_worker_backs_off() {
    with_db(|db| async move {
        let runtime = runtime(Duration::from_secs(120));
        let (member, engagement, run_id) = slow_run(&db, &runtime).await;
        let first = {
            let (db, runtime) = (db.clone(), runtime.clone());
            tokio::spawn(async move { execute(&db, &runtime, run_id).await })
        };
        // Wait until it runs and has written a heartbeat.
        let started = std::time::Instant::now();
        loop {
            let run = store::get_run(&db, member.firm_id, engagement, run_id)
                .await
                .unwrap()
                .run;
            if run.status == RunStatus::Running {
                break;
            }
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "the run never started"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        // A second worker whose lease claimed the same job leaves the live run alone.
        let second = execute(&db, &runtime, run_id).await;
        assert!(
            matches!(second, Err(audit::Error::Conflict { .. })),
            "{second:?}"
        );

        let cancelled = store::cancel_run(&db, member.firm_id, engagement, run_id)
            .await
            .unwrap();
        assert!(cancelled.cancel_requested);
        let stopped = tokio::time::timeout(Duration::from_secs(10), first).await;
        assert!(
            stopped.is_ok(),
            "the run did not stop within 10 s of the cancel"
        );
        let run = store::get_run(&db, member.firm_id, engagement, run_id)
            .await
            .unwrap()
            .run;
        assert_eq!(run.status, RunStatus::Cancelled);
        assert!(run.finished_at.is_some());
    })
    .await;
}

#[tokio::test]
async fn a_run_stops_at_its_time_bound() {
    with_db(|db| async move {
        let runtime = runtime(Duration::from_secs(2));
        let (member, engagement, run_id) = slow_run(&db, &runtime).await;
        tokio::time::timeout(Duration::from_secs(15), execute(&db, &runtime, run_id))
            .await
            .expect("the run ends near its bound")
            .unwrap();
        let run = store::get_run(&db, member.firm_id, engagement, run_id)
            .await
            .unwrap()
            .run;
        assert_eq!(run.status, RunStatus::TimedOut);
        assert!(run.error.unwrap_or_default().contains("limit"));
    })
    .await;
}
