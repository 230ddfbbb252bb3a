//! The whole benchmark run.
use std::path::PathBuf;

use crate::BenchResult;

#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// The release `plumbline` binary.
    #[arg(long)]
    pub plumbline: PathBuf,
}

pub async fn main(_args: RunArgs) -> BenchResult {
    Err("run: not written yet".into())
}
