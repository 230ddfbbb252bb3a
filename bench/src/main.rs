//! `plumbline-bench`: the parts of the benchmark harness that need Plumbline's own code. `cargo
//! xtask bench` builds everything in release and runs `plumbline-bench run`, which calls the
//! others; each can also be run alone while working on one number.
use std::path::PathBuf;

use bench::seed;
use clap::{Parser, Subcommand};

mod load;
mod probes;
mod proc;
mod run;
mod write;

#[derive(Debug, Parser)]
#[command(name = "plumbline-bench", about = "Plumbline's benchmark harness")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Seed a large firm into a migrated database and write a manifest of what was made.
    Seed(seed::SeedArgs),
    /// HTTP probe percentiles against oha's, and the PostgreSQL probe on a 500-table schema.
    Probes(probes::ProbeArgs),
    /// The whole run: seed, load, report export, probes, memory; writes BENCHMARKS.md.
    Run(run::RunArgs),
    /// Writes BENCHMARKS.md again from bench/results.json and bench/notes.md, without measuring:
    /// for when only the notes changed.
    Write(run::WriteArgs),
}

#[tokio::main]
async fn main() {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Seed(args) => seed::main(args).await,
        Command::Probes(args) => probes::main(args).await,
        Command::Run(args) => run::main(args).await,
        Command::Write(args) => run::write_only(&args),
    };
    if let Err(e) = result {
        eprintln!("plumbline-bench: {e}");
        std::process::exit(1);
    }
}

/// What every step returns: a one-line reason on failure.
pub type BenchResult<T = ()> = Result<T, String>;

/// Where results and scratch files go.
pub fn scratch_dir() -> PathBuf {
    std::env::temp_dir().join("plumbline-bench")
}
