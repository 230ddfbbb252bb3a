//! The `plumbline` command line.
use std::io::Read;
use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::settings::Settings;
use crate::startup::{open_database, Application};

#[derive(Debug, Parser)]
#[command(
    name = "plumbline",
    version,
    about = "Backend-architecture audits: engagements, questionnaires, probes, reports."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the web app and API, with a job worker in the same process (the default).
    Serve {
        /// Address to listen on, HOST:PORT (default 127.0.0.1:3000, or PLUMBLINE_ADDR).
        #[arg(long)]
        addr: Option<SocketAddr>,
    },
    /// Run background jobs only (for more workers beside the web servers).
    Worker,
    /// Apply database migrations and exit.
    Migrate,
    /// Manage accounts.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Manage API tokens.
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
    /// Copy the SQLite database to a file while Plumbline runs.
    Backup {
        #[arg(long)]
        to: PathBuf,
    },
    /// The question bank: export the built-in one, check a file being edited.
    Bank {
        #[command(subcommand)]
        command: BankCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum BankCommand {
    /// Print the built-in question bank as JSON.
    Export,
    /// Check one bank file (an area or the intervention catalogue) and list its problems.
    Check {
        /// The TOML file, e.g. bank/database.toml.
        file: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a firm and its owner; the password is read from standard input.
    Create {
        #[arg(long)]
        email: String,
        #[arg(long)]
        password_stdin: bool,
        #[arg(long)]
        firm: String,
        /// The owner's name (defaults to the part of the e-mail before @).
        #[arg(long)]
        name: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create an API token for a member and print it once.
    Create {
        #[arg(long)]
        email: String,
        #[arg(long, default_value = "cli")]
        name: String,
    },
}

/// What went wrong, said in one line to standard error; the process exits with 1.
pub type CliResult = Result<(), String>;

pub async fn run(cli: Cli, mut settings: Settings) -> CliResult {
    match cli.command.unwrap_or(Command::Serve { addr: None }) {
        Command::Serve { addr } => {
            require_builtin_bank()?;
            if let Some(addr) = addr {
                settings.addr = addr;
            }
            let app = Application::build(settings)
                .await
                .map_err(|e| e.to_string())?;
            app.run_until_stopped(shutdown_signal())
                .await
                .map_err(|e| e.to_string())
        }
        Command::Worker => {
            require_builtin_bank()?;
            let db = open_database(&settings).await.map_err(|e| e.to_string())?;
            let base_url = settings.public_url(settings.addr);
            let probes = std::sync::Arc::new(settings.probe_runtime().map_err(|e| e.to_string())?);
            let worker = crate::worker::build(db.clone(), &settings, &base_url, probes)
                .map_err(|e| e.to_string())?;
            crate::worker::schedule_recurring(&db)
                .await
                .map_err(|e| e.to_string())?;
            tracing::info!(worker = worker.name(), "worker started");
            worker
                .run(std::time::Duration::from_millis(500), shutdown_signal())
                .await;
            db.close().await;
            Ok(())
        }
        Command::Migrate => {
            let db = open_database(&settings).await.map_err(|e| e.to_string())?;
            db.close().await;
            println!("migrations applied");
            Ok(())
        }
        Command::User {
            command:
                UserCommand::Create {
                    email,
                    password_stdin,
                    firm,
                    name,
                },
        } => {
            if !password_stdin {
                return Err(
                    "pass --password-stdin and write the password to standard input".to_owned(),
                );
            }
            let mut password = String::new();
            std::io::stdin()
                .read_to_string(&mut password)
                .map_err(|e| format!("cannot read the password from standard input: {e}"))?;
            let password = password.trim_end_matches(['\n', '\r']).to_owned();
            let display_name =
                name.unwrap_or_else(|| email.split('@').next().unwrap_or("owner").to_owned());
            let form = audit::accounts::SignUpForm {
                firm_name: firm,
                display_name,
                email,
                password,
            };
            let sign_up = form.parse().map_err(|errors| {
                errors
                    .iter()
                    .map(|e| format!("{}: {}", e.field, e.message))
                    .collect::<Vec<_>>()
                    .join("; ")
            })?;
            let db = open_database(&settings).await.map_err(|e| e.to_string())?;
            let member = audit::accounts::sign_up(&db, &sign_up)
                .await
                .map_err(describe)?;
            db.close().await;
            println!(
                "created {} (owner of {}, user {})",
                member.email, member.firm_name, member.user_id
            );
            Ok(())
        }
        Command::Token {
            command: TokenCommand::Create { email, name },
        } => {
            let email =
                audit::fields::EmailAddress::parse("email", &email).map_err(|e| e.message)?;
            let db = open_database(&settings).await.map_err(|e| e.to_string())?;
            let member = audit::accounts::member_by_email(&db, &email)
                .await
                .map_err(describe)?
                .ok_or_else(|| format!("no account with the e-mail address {email}"))?;
            let (secret, _) = audit::accounts::create_api_token(&db, &member, &name)
                .await
                .map_err(describe)?;
            db.close().await;
            eprintln!("API token for {email} (shown once; keep it secret):");
            println!("{secret}");
            Ok(())
        }
        Command::Backup { to } => backup(&settings, &to).await,
        Command::Bank { command } => bank(command),
    }
}

/// Serving with a broken bank would fail on the first questionnaire; fail at start-up instead.
fn require_builtin_bank() -> CliResult {
    audit::questionnaire::builtin_bank()
        .map(|_| ())
        .map_err(|e| format!("question bank: {e}"))
}

fn bank(command: BankCommand) -> CliResult {
    match command {
        BankCommand::Export => {
            let bank =
                audit::questionnaire::builtin_bank().map_err(|e| format!("question bank: {e}"))?;
            let mut json = serde_json::to_string_pretty(&bank)
                .map_err(|e| format!("cannot write the bank as JSON: {e}"))?;
            json.push('\n');
            // `plumbline bank export | head` closes the pipe early; that is not an error.
            match std::io::Write::write_all(&mut std::io::stdout().lock(), json.as_bytes()) {
                Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
                    Err(format!("cannot write the bank: {e}"))
                }
                _ => Ok(()),
            }
        }
        BankCommand::Check { file } => {
            let name = file.display().to_string();
            let text =
                std::fs::read_to_string(&file).map_err(|e| format!("cannot read {name}: {e}"))?;
            match audit::questionnaire::check_file(&name, &text) {
                Ok(summary) => {
                    println!("{summary}");
                    Ok(())
                }
                Err(errors) => {
                    // One `file:line: message` per line, as editors and CI logs expect.
                    for problem in &errors.0 {
                        eprintln!("{problem}");
                    }
                    let count = errors.0.len();
                    Err(format!(
                        "{name}: {count} problem{}",
                        if count == 1 { "" } else { "s" }
                    ))
                }
            }
        }
    }
}

/// SQLite: `vacuum into` writes a consistent copy while others keep reading and writing.
/// PostgreSQL has its own tool for this.
async fn backup(settings: &Settings, to: &std::path::Path) -> CliResult {
    match audit::db::Backend::from_url(&settings.database_url) {
        Some(audit::db::Backend::Postgres) => {
            println!(
                "Plumbline is on PostgreSQL: back it up with pg_dump, for example\n  pg_dump --format=custom --file=plumbline.dump \"$DATABASE_URL\""
            );
            Ok(())
        }
        _ => {
            if to.exists() {
                return Err(format!(
                    "{} already exists; choose a new file",
                    to.display()
                ));
            }
            let db = open_database(settings).await.map_err(|e| e.to_string())?;
            let target = to.display().to_string();
            sqlx::query("vacuum into $1")
                .bind(&target)
                .execute(db.pool())
                .await
                .map_err(|e| format!("backup to {target} failed: {e}"))?;
            db.close().await;
            println!("backed up to {target}");
            Ok(())
        }
    }
}

fn describe(error: audit::Error) -> String {
    match error {
        audit::Error::Invalid(fields) => fields
            .iter()
            .map(|e| format!("{}: {}", e.field, e.message))
            .collect::<Vec<_>>()
            .join("; "),
        audit::Error::Conflict { message, .. } => message,
        other => other.to_string(),
    }
}

/// Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
}
