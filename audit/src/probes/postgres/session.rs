//! The probe's one connection: dialled to an address the guard checked, every query inside a
//! read-only transaction with short timeouts, and every failure turned into words.
use std::net::SocketAddr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgConnection, PgSslMode};
use sqlx::{Connection, Postgres, Transaction};

use super::target::PostgresTarget;
use crate::probes::error::ProbeError;
use crate::probes::guard::Guard;

/// Every statement the probe sends starts with this comment, so the workload checks can leave
/// the probe's own statements out of pg_stat_statements. (Written out where a `&'static str`
/// is needed: `TRANSACTION_SETTINGS`, explain.rs, and the filter in workload.rs.)
pub const MARK: &str = "/* plumbline-probe */";

/// How the probe names itself in `pg_stat_activity`.
pub const APPLICATION_NAME: &str = "plumbline-probe";

/// The connect bound when the connection string does not ask for a shorter one.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Per-transaction limits (PgHero's permissions guide and `reference/probes.md` §5.3).
const TRANSACTION_SETTINGS: [&str; 2] = [
    "/* plumbline-probe */ set local statement_timeout = '5s'",
    "/* plumbline-probe */ set local lock_timeout = '1s'",
];

/// Why one check could not look, in words for the consultant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unavailable(pub String);

impl From<sqlx::Error> for Unavailable {
    fn from(error: sqlx::Error) -> Self {
        Unavailable(describe(&error))
    }
}

/// An sqlx error as one line: the server's message and SQLSTATE when there is one.
pub fn describe(error: &sqlx::Error) -> String {
    match error {
        sqlx::Error::Database(db) => match db.code() {
            Some(code) => format!("{} (SQLSTATE {code})", db.message()),
            None => db.message().to_owned(),
        },
        sqlx::Error::PoolTimedOut | sqlx::Error::Io(_) | sqlx::Error::Tls(_) => error.to_string(),
        sqlx::Error::ColumnDecode { index, source } => {
            format!("could not read column {index}: {source}")
        }
        other => other.to_string(),
    }
}

/// Environment variables libpq-style clients (sqlx too) read on their own: on our server they
/// would send the operator's certificate or options to the client's database.
const LEAKY_ENV: [&str; 3] = ["PGSSLCERT", "PGSSLKEY", "PGOPTIONS"];

/// Resolves through the guard and connects to the first checked address that answers.
/// Returns the connection and the address it reached.
pub async fn connect(
    target: &PostgresTarget,
    guard: &Guard,
) -> Result<(PgConnection, SocketAddr), ProbeError> {
    for name in LEAKY_ENV {
        if std::env::var_os(name).is_some() {
            return Err(ProbeError::Internal(format!(
                "{name} is set in the server's environment; the probe will not send it to a client's database"
            )));
        }
    }
    let ssl_mode = match target.sslmode.parse::<PgSslMode>() {
        Ok(mode) => mode,
        Err(_) => {
            return Err(ProbeError::Invalid(format!(
                "Unknown sslmode {}.",
                target.sslmode
            )))
        }
    };
    let addresses = guard
        .resolve(&target.host, target.port)
        .await
        .map_err(|refusal| ProbeError::Refused(refusal.0))?;
    if addresses.is_empty() {
        return Err(ProbeError::Unreachable(format!(
            "{} has no address",
            target.host
        )));
    }
    let timeout = target
        .connect_timeout_secs
        .map(Duration::from_secs)
        .unwrap_or(CONNECT_TIMEOUT)
        .min(CONNECT_TIMEOUT);

    let mut last_error = String::new();
    for address in addresses {
        // Dial the checked IP itself, never the name: sqlx would resolve the name again, and a
        // second answer may point somewhere the guard never saw (DNS rebinding). sqlx verifies
        // a certificate against the host it dials, so verify-full checks the IP, not the name.
        let options = PgConnectOptions::new_without_pgpass()
            .host(&address.ip().to_string())
            .port(address.port())
            .username(&target.user)
            // An empty password is what sqlx sends when none is set; setting it also stops
            // sqlx from using PGPASSWORD from our own environment.
            .password(target.password.as_deref().unwrap_or(""))
            .database(&target.database)
            .ssl_mode(ssl_mode)
            .application_name(APPLICATION_NAME)
            // Unnamed statements only: works through PgBouncer in transaction mode.
            .statement_cache_capacity(0);
        match tokio::time::timeout(timeout, PgConnection::connect_with(&options)).await {
            Ok(Ok(connection)) => return Ok((connection, address)),
            Ok(Err(error)) => {
                last_error = describe(&error);
                if matches!(error, sqlx::Error::Tls(_))
                    && target.sslmode == "verify-full"
                    && target.host.parse::<std::net::IpAddr>().is_err()
                {
                    last_error.push_str(
                        "; the probe dials the checked IP address and sqlx verifies the certificate against that address, not the host name: use sslmode=verify-ca, or a certificate that names the IP",
                    );
                }
                // A refused password or a missing database will not change on another address.
                if let sqlx::Error::Database(_) = error {
                    break;
                }
            }
            Err(_) => {
                last_error = format!("no answer within {} s from {address}", timeout.as_secs());
            }
        }
    }
    Err(ProbeError::Unreachable(format!(
        "could not connect to {}: {last_error}",
        target.label()
    )))
}

/// Opens a read-only transaction with the probe's statement and lock timeouts. The caller
/// rolls it back; nothing the probe does is ever committed.
pub async fn begin(conn: &mut PgConnection) -> Result<Transaction<'_, Postgres>, Unavailable> {
    let mut tx = conn
        .begin_with(format!("{MARK} begin transaction read only"))
        .await?;
    // `sqlx::query`, never `raw_sql`, anywhere in this probe: rustc cannot prove raw_sql's
    // future `Send` for every lifetime, which the job runner's spawned task needs.
    for setting in TRANSACTION_SETTINGS {
        sqlx::query(setting).execute(&mut *tx).await?;
    }
    Ok(tx)
}

/// Quotes an identifier read from the catalog for use in SQL text.
pub fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_identifiers() {
        assert_eq!(quote_ident("public"), "\"public\"");
        assert_eq!(quote_ident("we\"ird"), "\"we\"\"ird\"");
    }
}
