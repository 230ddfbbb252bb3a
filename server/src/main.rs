use clap::Parser;

use server::cli::{run, Cli};
use server::settings::Settings;

#[tokio::main]
async fn main() {
    let cli = Cli::parse();
    let settings = match Settings::load() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("plumbline: {e}");
            std::process::exit(2);
        }
    };
    server::telemetry::init(settings.log_format);
    if let Err(e) = run(cli, settings).await {
        eprintln!("plumbline: {e}");
        std::process::exit(1);
    }
}
