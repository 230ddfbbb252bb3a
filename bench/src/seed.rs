//! Seeds a large firm deterministically (the same data for the same scale on every run).
use std::path::PathBuf;

use crate::BenchResult;

#[derive(Debug, clap::Args)]
pub struct SeedArgs {
    /// A database URL (sqlite://… or postgres://…); migrated before seeding.
    #[arg(long)]
    pub database_url: String,
    #[arg(long, default_value_t = 2000)]
    pub engagements: usize,
    /// How many of them are complete: every question answered, findings, interventions, decisions, probe runs.
    #[arg(long, default_value_t = 200)]
    pub complete: usize,
    /// Where to write the manifest (JSON) the load steps read.
    #[arg(long)]
    pub manifest: PathBuf,
}

pub async fn main(_args: SeedArgs) -> BenchResult {
    Err("seed: not written yet".into())
}
