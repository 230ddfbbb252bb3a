//! The connection string a consultant gives for the client's database, checked strictly.
//!
//! A hosted scanner must not let a connection string reach files or sockets on our own server
//! (`reference/probes.md` §5.2 rule 7): only TCP to one named host, only three harmless
//! parameters, and the password never appears in a message, a label or `Debug` output.
use std::fmt;

use url::Url;

/// The parameters a connection string may carry; everything else is refused.
const ALLOWED_PARAMS: [&str; 3] = ["sslmode", "application_name", "connect_timeout"];

/// Parameters that name files on the probe's server or move the connection elsewhere.
const FILE_PARAMS: [&str; 6] = [
    "sslkey",
    "sslcert",
    "sslrootcert",
    "sslcrl",
    "passfile",
    "service",
];

const SSL_MODES: [&str; 6] = [
    "disable",
    "allow",
    "prefer",
    "require",
    "verify-ca",
    "verify-full",
];

/// The longest connect timeout a connection string may ask for; the probe's own bound.
pub const MAX_CONNECT_TIMEOUT_SECS: u64 = 10;

/// A checked connection string: only allow-listed parameters, never a Unix socket or a file.
#[derive(Clone, PartialEq, Eq)]
pub struct PostgresTarget {
    /// A DNS name or an IP address (IPv6 without brackets).
    pub host: String,
    pub port: u16,
    pub database: String,
    pub user: String,
    pub password: Option<String>,
    /// disable, allow, prefer, require, verify-ca or verify-full.
    pub sslmode: String,
    /// `connect_timeout` from the string, at most `MAX_CONNECT_TIMEOUT_SECS`.
    pub connect_timeout_secs: Option<u64>,
}

/// Written by hand so the password never reaches a log line.
impl fmt::Debug for PostgresTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PostgresTarget")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("database", &self.database)
            .field("user", &self.user)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("sslmode", &self.sslmode)
            .field("connect_timeout_secs", &self.connect_timeout_secs)
            .finish()
    }
}

impl PostgresTarget {
    /// Parses `postgres://` / `postgresql://` URLs; says exactly what is wrong otherwise.
    /// No message repeats the input, so a password in it is never echoed.
    pub fn parse(dsn: &str) -> Result<PostgresTarget, String> {
        let dsn = dsn.trim();
        let Some((scheme, rest)) = dsn.split_once("://") else {
            return Err(
                "Give a URL that starts with postgres:// or postgresql:// (key=value strings are not accepted)."
                    .into(),
            );
        };
        if !matches!(
            scheme.to_ascii_lowercase().as_str(),
            "postgres" | "postgresql"
        ) {
            return Err("Only postgres:// and postgresql:// URLs are accepted.".into());
        }
        // Several hosts (`h1,h2`) are a libpq extension the URL parser would misread; look at
        // the authority ourselves first.
        let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
        let host_part = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
        if host_part.contains(',') {
            return Err("Give one host only; several hosts are not supported.".into());
        }
        if host_part.is_empty() {
            return Err(
                "Give a host name or address after the @ (Unix sockets are not allowed).".into(),
            );
        }

        let url = Url::parse(dsn)
            .map_err(|e| format!("The connection string is not a valid URL ({e})."))?;
        if url.fragment().is_some() {
            return Err("Remove the #fragment from the connection string.".into());
        }

        let host = match url.host() {
            Some(url::Host::Ipv6(ip)) => ip.to_string(),
            Some(url::Host::Ipv4(ip)) => ip.to_string(),
            Some(url::Host::Domain(raw)) => {
                let decoded = decode(raw, "host")?;
                if decoded.starts_with('/') {
                    return Err("Unix sockets are not allowed; give a host name or address.".into());
                }
                if decoded.is_empty()
                    || decoded.len() > 253
                    || !decoded
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.' || c == '_')
                {
                    return Err(
                        "The host may contain only letters, digits, dots, hyphens and underscores."
                            .into(),
                    );
                }
                decoded.to_ascii_lowercase()
            }
            None => {
                return Err(
                    "Give a host name or address after the @ (Unix sockets are not allowed)."
                        .into(),
                )
            }
        };

        let port = url.port().unwrap_or(5432);
        if port == 0 {
            return Err("Port 0 is not a valid port.".into());
        }

        let user = decode(url.username(), "user name")?;
        if user.is_empty() {
            return Err("Give a user name (postgres://user:password@host/database).".into());
        }
        let password = match url.password() {
            Some(raw) => Some(decode(raw, "password")?).filter(|p| !p.is_empty()),
            None => None,
        };

        let path = url.path().strip_prefix('/').unwrap_or(url.path());
        let database = decode(path, "database name")?;
        if database.is_empty() {
            return Err(
                "Give a database name after the host (postgres://user@host:5432/database).".into(),
            );
        }
        if database.contains('/') {
            return Err("The database name may not contain a slash.".into());
        }

        let mut sslmode = None;
        let mut application_name = None;
        let mut connect_timeout = None;
        for (key, value) in url.query_pairs() {
            let key = key.as_ref();
            if key == "host" || key == "hostaddr" {
                return Err(format!(
                    "The parameter {key} is not allowed: give the host in the URL itself (Unix sockets are not allowed)."
                ));
            }
            if FILE_PARAMS.contains(&key) {
                return Err(format!(
                    "The parameter {key} names a file on the probe's server and is not allowed."
                ));
            }
            if !ALLOWED_PARAMS.contains(&key) {
                return Err(format!(
                    "The parameter {} is not allowed; only sslmode, application_name and connect_timeout are.",
                    printable(key)
                ));
            }
            let seen = match key {
                "sslmode" => sslmode.replace(value.to_string()),
                "application_name" => application_name.replace(value.to_string()),
                _ => connect_timeout.replace(value.to_string()),
            };
            if seen.is_some() {
                return Err(format!("The parameter {key} is given twice."));
            }
        }

        let sslmode = match sslmode {
            None => "prefer".to_owned(),
            Some(mode) if SSL_MODES.contains(&mode.as_str()) => mode,
            Some(_) => return Err(
                "sslmode must be one of disable, allow, prefer, require, verify-ca, verify-full."
                    .into(),
            ),
        };
        // The probe always names itself `plumbline-probe` so the client's DBA can see it; the
        // parameter is accepted (people paste their app's string) but must be plain text.
        if let Some(name) = application_name {
            if name.len() > 63 || name.chars().any(|c| c.is_control()) {
                return Err("application_name must be plain text of at most 63 characters.".into());
            }
        }
        let connect_timeout_secs = match connect_timeout {
            None => None,
            Some(text) => match text.trim().parse::<u64>() {
                Ok(secs) if secs > 0 => Some(secs.min(MAX_CONNECT_TIMEOUT_SECS)),
                _ => {
                    return Err("connect_timeout must be a whole number of seconds above 0.".into())
                }
            },
        };

        Ok(PostgresTarget {
            host,
            port,
            database,
            user,
            password,
            sslmode,
            connect_timeout_secs,
        })
    }

    /// `host:port/database`, safe to show (no user, no password).
    pub fn label(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}/{}", self.host, self.port, self.database)
        } else {
            format!("{}:{}/{}", self.host, self.port, self.database)
        }
    }
}

/// Percent-decodes one part of the URL; `what` names it in the message (never its value).
fn decode(raw: &str, what: &str) -> Result<String, String> {
    let bytes = percent_decode(raw).ok_or_else(|| format!("The {what} has a broken %-escape."))?;
    let text = String::from_utf8(bytes).map_err(|_| format!("The {what} is not valid UTF-8."))?;
    if text.chars().any(|c| c == '\0') {
        return Err(format!("The {what} contains a NUL character."));
    }
    Ok(text)
}

fn percent_decode(raw: &str) -> Option<Vec<u8>> {
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = raw.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    Some(out)
}

/// A parameter name as it may be shown: short, printable.
fn printable(key: &str) -> String {
    let shown: String = key.chars().filter(|c| !c.is_control()).take(40).collect();
    if shown.is_empty() {
        "(empty)".into()
    } else {
        shown
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn parses_a_plain_url_with_defaults() {
        let t = PostgresTarget::parse("postgres://app:s3cret@db.example.com/shop").unwrap();
        assert_eq!(t.host, "db.example.com");
        assert_eq!(t.port, 5432);
        assert_eq!(t.user, "app");
        assert_eq!(t.password.as_deref(), Some("s3cret"));
        assert_eq!(t.sslmode, "prefer");
        assert_eq!(t.label(), "db.example.com:5432/shop");
        assert!(!format!("{t:?}").contains("s3cret"));
    }

    #[test]
    fn decodes_escapes_and_ipv6() {
        let t =
            PostgresTarget::parse("postgresql://a%40b:p%2Fw@[::1]:6543/my%20db?sslmode=require")
                .unwrap();
        assert_eq!(t.user, "a@b");
        assert_eq!(t.password.as_deref(), Some("p/w"));
        assert_eq!(t.host, "::1");
        assert_eq!(t.database, "my db");
        assert_eq!(t.label(), "[::1]:6543/my db");
    }
}
