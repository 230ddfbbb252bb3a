#![allow(clippy::unwrap_used)]
use audit::probes::guard::Guard;
use audit::probes::postgres::{self, PostgresTarget};
use audit::probes::progress::Progress;
#[tokio::test]
async fn restricted_role() {
    let target = PostgresTarget::parse("postgres://plumbline_tmp_reader@127.0.0.1/plumbline_tmp_roletest?sslmode=disable").unwrap();
    let guard = Guard::new(vec!["127.0.0.0/8".parse().unwrap()]);
    let out = postgres::run(&target, &guard, &Progress::new()).await.unwrap();
    for c in &out.checks { println!("{} {} | {} | {:?}", c.id, c.status.as_str(), c.summary, c.evidence); }
}
