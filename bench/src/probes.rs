//! The probes' own numbers: HTTP latency percentiles beside oha's on the same endpoint, and the
//! PostgreSQL probe's time on a generated 500-table schema.
use std::path::PathBuf;

use crate::BenchResult;

#[derive(Debug, clap::Args)]
pub struct ProbeArgs {
    /// Where to write the figures (JSON).
    #[arg(long)]
    pub out: PathBuf,
}

pub async fn main(_args: ProbeArgs) -> BenchResult {
    Err("probes: not written yet".into())
}
