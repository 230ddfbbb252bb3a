//! Settings: defaults, then `plumbline.toml` if present, then `PLUMBLINE_*` and `DATABASE_URL`
//! from the environment. A bad value stops start-up with one line naming the setting.
//! Secrets (the database password, SMTP password) never appear in `Debug` output or logs.
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

#[derive(Clone)]
pub struct Settings {
    pub addr: SocketAddr,
    pub database_url: String,
    /// Where people reach Plumbline; links in e-mails start with it. Unset, it is the address
    /// the server listens on (see `public_url`).
    pub base_url: Option<String>,
    pub data_dir: PathBuf,
    /// Built site: `pkg/` (wasm, js, css) and public assets.
    pub site_root: PathBuf,
    pub log_format: LogFormat,
    pub smtp_url: Option<String>,
    pub smtp_username: Option<String>,
    pub smtp_password: Option<String>,
    pub mail_from: String,
    /// Run the job worker inside `serve` (true) or only in `plumbline worker` processes.
    pub run_worker: bool,
    pub login_max_attempts: u32,
    pub login_window_secs: u64,
    pub request_timeout_secs: u64,
    pub body_limit_bytes: usize,
    /// `/metrics` answers scrapers on this machine without credentials; others need an owner.
    pub metrics_open_to_loopback: bool,
    /// A founder whose invitation has seen no progress for this many days gets a reminder.
    pub reminder_days: i64,
    /// 64 hex digits sealing secrets at rest (client connection strings). Unset, a key file is
    /// made in the data folder on first start; set it when several instances share a database.
    pub secret_key: Option<String>,
    /// Ranges every firm's probes may reach although the guard blocks them (comma-separated
    /// CIDRs): how tests and on-premise installations reach loopback and private networks.
    pub probe_allow: String,
    /// The most one probe run may take.
    pub probe_time_limit_secs: u64,
    /// The HTTP probe's discarded warm-up before it measures an endpoint.
    pub probe_warmup_secs: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

/// One bad setting: which one and what is wrong, said in one line.
#[derive(Debug, thiserror::Error)]
#[error("bad setting {setting}: {problem}")]
pub struct SettingsError {
    pub setting: String,
    pub problem: String,
}

fn bad(setting: &str, problem: impl Into<String>) -> SettingsError {
    SettingsError {
        setting: setting.to_owned(),
        problem: problem.into(),
    }
}

/// Each setting's key in `plumbline.toml` and its environment variable. The file is read as
/// if its keys were these variables, so both sources go through one parser.
const SETTINGS: &[(&str, &str)] = &[
    ("addr", "PLUMBLINE_ADDR"),
    ("database_url", "DATABASE_URL"),
    ("base_url", "PLUMBLINE_BASE_URL"),
    ("data_dir", "PLUMBLINE_DATA_DIR"),
    ("site_root", "PLUMBLINE_SITE_ROOT"),
    ("log_format", "PLUMBLINE_LOG_FORMAT"),
    ("smtp_url", "PLUMBLINE_SMTP_URL"),
    ("smtp_username", "PLUMBLINE_SMTP_USERNAME"),
    ("smtp_password", "PLUMBLINE_SMTP_PASSWORD"),
    ("mail_from", "PLUMBLINE_MAIL_FROM"),
    ("run_worker", "PLUMBLINE_RUN_WORKER"),
    ("login_max_attempts", "PLUMBLINE_LOGIN_MAX_ATTEMPTS"),
    ("login_window_secs", "PLUMBLINE_LOGIN_WINDOW_SECS"),
    ("request_timeout_secs", "PLUMBLINE_REQUEST_TIMEOUT_SECS"),
    ("body_limit_bytes", "PLUMBLINE_BODY_LIMIT_BYTES"),
    (
        "metrics_open_to_loopback",
        "PLUMBLINE_METRICS_OPEN_TO_LOOPBACK",
    ),
    ("reminder_days", "PLUMBLINE_REMINDER_DAYS"),
    ("secret_key", "PLUMBLINE_SECRET_KEY"),
    ("probe_allow", "PLUMBLINE_PROBE_ALLOW"),
    ("probe_time_limit_secs", "PLUMBLINE_PROBE_TIME_LIMIT_SECS"),
    ("probe_warmup_secs", "PLUMBLINE_PROBE_WARMUP_SECS"),
];

impl Default for Settings {
    fn default() -> Self {
        Settings {
            addr: SocketAddr::from(([127, 0, 0, 1], 3000)),
            database_url: "sqlite://data/plumbline.db".to_owned(),
            base_url: None,
            data_dir: PathBuf::from("data"),
            site_root: PathBuf::from("target/site"),
            log_format: LogFormat::Text,
            smtp_url: None,
            smtp_username: None,
            smtp_password: None,
            mail_from: "Plumbline <plumbline@localhost>".to_owned(),
            run_worker: true,
            login_max_attempts: 10,
            login_window_secs: 15 * 60,
            request_timeout_secs: 30,
            body_limit_bytes: 1024 * 1024,
            metrics_open_to_loopback: true,
            reminder_days: 3,
            secret_key: None,
            probe_allow: String::new(),
            probe_time_limit_secs: 15 * 60,
            probe_warmup_secs: 5,
        }
    }
}

impl Settings {
    /// Reads `plumbline.toml` (or the file `PLUMBLINE_CONFIG` names) and the process environment.
    pub fn load() -> Result<Settings, SettingsError> {
        let env: Vec<(String, String)> = std::env::vars().collect();
        let file =
            std::env::var("PLUMBLINE_CONFIG").unwrap_or_else(|_| "plumbline.toml".to_owned());
        Settings::from_sources(Path::new(&file), &env)
    }

    pub fn from_sources(file: &Path, env: &[(String, String)]) -> Result<Settings, SettingsError> {
        let mut s = Settings::default();
        if file.exists() {
            s.apply_file(file)?;
        }
        for (key, value) in env {
            if key == "DATABASE_URL" || key.starts_with("PLUMBLINE_") {
                s.apply(key, value)?;
            }
        }
        s.check()?;
        Ok(s)
    }

    fn apply_file(&mut self, file: &Path) -> Result<(), SettingsError> {
        let name = file.display().to_string();
        let text =
            std::fs::read_to_string(file).map_err(|e| bad(&name, format!("cannot read: {e}")))?;
        let table: toml::Table =
            toml::from_str(&text).map_err(|e| bad(&name, e.message().to_owned()))?;
        for (key, value) in table {
            let setting = format!("{key} in {name}");
            let env_name = SETTINGS
                .iter()
                .find(|(file_key, _)| *file_key == key)
                .map(|(_, env_name)| *env_name)
                .ok_or_else(|| {
                    bad(
                        &setting,
                        "is not a Plumbline setting (see README, Settings)",
                    )
                })?;
            let value = match value {
                toml::Value::String(text) => text,
                toml::Value::Integer(_) | toml::Value::Boolean(_) => value.to_string(),
                other => {
                    return Err(bad(
                        &setting,
                        format!("{other} is not a string, number or true/false"),
                    ))
                }
            };
            // Errors name the key in the file, not the environment variable it maps to.
            self.apply(env_name, &value)
                .map_err(|e| bad(&setting, e.problem))?;
        }
        Ok(())
    }

    /// Sets one setting, named by its environment variable, from text.
    fn apply(&mut self, key: &str, value: &str) -> Result<(), SettingsError> {
        let optional = |v: &str| Some(v.to_owned()).filter(|v| !v.is_empty());
        match key {
            "DATABASE_URL" => self.database_url = value.to_owned(),
            "PLUMBLINE_ADDR" => self.addr = parse_addr(key, value)?,
            "PLUMBLINE_BASE_URL" => self.base_url = optional(value),
            "PLUMBLINE_DATA_DIR" => self.data_dir = PathBuf::from(value),
            "PLUMBLINE_SITE_ROOT" => self.site_root = PathBuf::from(value),
            "PLUMBLINE_LOG_FORMAT" => self.log_format = parse_log_format(key, value)?,
            "PLUMBLINE_SMTP_URL" => self.smtp_url = optional(value),
            "PLUMBLINE_SMTP_USERNAME" => self.smtp_username = optional(value),
            "PLUMBLINE_SMTP_PASSWORD" => self.smtp_password = optional(value),
            "PLUMBLINE_MAIL_FROM" => self.mail_from = value.to_owned(),
            "PLUMBLINE_RUN_WORKER" => self.run_worker = parse_bool(key, value)?,
            "PLUMBLINE_LOGIN_MAX_ATTEMPTS" => self.login_max_attempts = parse_number(key, value)?,
            "PLUMBLINE_LOGIN_WINDOW_SECS" => self.login_window_secs = parse_number(key, value)?,
            "PLUMBLINE_REQUEST_TIMEOUT_SECS" => {
                self.request_timeout_secs = parse_number(key, value)?
            }
            "PLUMBLINE_BODY_LIMIT_BYTES" => self.body_limit_bytes = parse_number(key, value)?,
            "PLUMBLINE_METRICS_OPEN_TO_LOOPBACK" => {
                self.metrics_open_to_loopback = parse_bool(key, value)?
            }
            "PLUMBLINE_REMINDER_DAYS" => self.reminder_days = parse_number(key, value)?,
            "PLUMBLINE_SECRET_KEY" => self.secret_key = optional(value),
            "PLUMBLINE_PROBE_ALLOW" => self.probe_allow = value.to_owned(),
            "PLUMBLINE_PROBE_TIME_LIMIT_SECS" => {
                self.probe_time_limit_secs = parse_number(key, value)?
            }
            "PLUMBLINE_PROBE_WARMUP_SECS" => self.probe_warmup_secs = parse_number(key, value)?,
            "PLUMBLINE_CONFIG" => {}
            other => {
                return Err(bad(
                    other,
                    "is not a Plumbline setting (see README, Settings)",
                ))
            }
        }
        Ok(())
    }

    /// Rules on the values once every source is read.
    fn check(&mut self) -> Result<(), SettingsError> {
        if audit::db::Backend::from_url(&self.database_url).is_none() {
            return Err(bad(
                "DATABASE_URL",
                "must start with sqlite: or postgres:// (for example sqlite://data/plumbline.db)",
            ));
        }
        if let Some(url) = &self.base_url {
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                return Err(bad(
                    "PLUMBLINE_BASE_URL",
                    "must start with http:// or https://",
                ));
            }
            self.base_url = Some(url.trim_end_matches('/').to_owned());
        }
        if self.mail_from.parse::<lettre::message::Mailbox>().is_err() {
            return Err(bad(
                "PLUMBLINE_MAIL_FROM",
                "must be an address like Plumbline <audits@example.com>",
            ));
        }
        if self.login_max_attempts == 0 {
            return Err(bad("PLUMBLINE_LOGIN_MAX_ATTEMPTS", "must be at least 1"));
        }
        if !(1..=90).contains(&self.reminder_days) {
            return Err(bad(
                "PLUMBLINE_REMINDER_DAYS",
                "must be a number of days from 1 to 90",
            ));
        }
        if let Some(key) = &self.secret_key {
            audit::probes::seal::SealKey::from_hex(key)
                .map_err(|e| bad("PLUMBLINE_SECRET_KEY", e))?;
        }
        audit::probes::guard::Guard::parse_allow_list(&self.probe_allow)
            .map_err(|e| bad("PLUMBLINE_PROBE_ALLOW", e))?;
        if !(10..=24 * 3600).contains(&self.probe_time_limit_secs) {
            return Err(bad(
                "PLUMBLINE_PROBE_TIME_LIMIT_SECS",
                "must be from 10 seconds to 24 hours",
            ));
        }
        if self.probe_warmup_secs > 60 {
            return Err(bad("PLUMBLINE_PROBE_WARMUP_SECS", "must be at most 60"));
        }
        if self.body_limit_bytes < 1024 {
            return Err(bad("PLUMBLINE_BODY_LIMIT_BYTES", "must be at least 1024"));
        }
        Ok(())
    }

    /// Where people reach Plumbline: `base_url`, or else the address the server listens on
    /// (`listening` is the bound address, which differs from `addr` with port 0).
    pub fn public_url(&self, listening: SocketAddr) -> String {
        self.base_url
            .clone()
            .unwrap_or_else(|| format!("http://{listening}"))
    }

    pub fn mail_folder(&self) -> PathBuf {
        self.data_dir.join("outbox")
    }

    /// What probe runs need: the sealing key (the setting, or the key file in the data folder),
    /// the operator's allow-list, the time bound, and a folder for clones.
    pub fn probe_runtime(&self) -> Result<audit::probes::run::ProbeRuntime, SettingsError> {
        use audit::probes::seal::SealKey;
        let key = match &self.secret_key {
            Some(hex) => SealKey::from_hex(hex).map_err(|e| bad("PLUMBLINE_SECRET_KEY", e))?,
            None => SealKey::load_or_create(&self.data_dir.join("secret.key")).map_err(|e| {
                bad(
                    "PLUMBLINE_SECRET_KEY",
                    format!("unset, and the key file failed: {e}"),
                )
            })?,
        };
        let allow = audit::probes::guard::Guard::parse_allow_list(&self.probe_allow)
            .map_err(|e| bad("PLUMBLINE_PROBE_ALLOW", e))?;
        let mut runtime =
            audit::probes::run::ProbeRuntime::new(key, allow, self.data_dir.join("probe-work"));
        runtime.time_bound = std::time::Duration::from_secs(self.probe_time_limit_secs);
        runtime.http_warmup = std::time::Duration::from_secs(self.probe_warmup_secs);
        Ok(runtime)
    }
}

fn parse_addr(setting: &str, value: &str) -> Result<SocketAddr, SettingsError> {
    value.parse().map_err(|_| {
        bad(
            setting,
            format!("{value:?} is not HOST:PORT like 127.0.0.1:3000"),
        )
    })
}

fn parse_log_format(setting: &str, value: &str) -> Result<LogFormat, SettingsError> {
    match value {
        "text" => Ok(LogFormat::Text),
        "json" => Ok(LogFormat::Json),
        _ => Err(bad(setting, format!("{value:?} is neither text nor json"))),
    }
}

fn parse_bool(setting: &str, value: &str) -> Result<bool, SettingsError> {
    match value {
        "true" | "1" | "yes" => Ok(true),
        "false" | "0" | "no" => Ok(false),
        _ => Err(bad(setting, format!("{value:?} is neither true nor false"))),
    }
}

fn parse_number<T: std::str::FromStr>(setting: &str, value: &str) -> Result<T, SettingsError> {
    value
        .parse()
        .map_err(|_| bad(setting, format!("{value:?} is not a whole number")))
}

/// `postgres://user:secret@host/db` → `postgres://user:***@host/db`.
pub fn redact_url(url: &str) -> String {
    let Some(scheme_end) = url.find("://").map(|i| i + 3) else {
        return url.to_owned();
    };
    let rest = &url[scheme_end..];
    let Some(at) = rest.find('@') else {
        return url.to_owned();
    };
    match rest[..at].find(':') {
        Some(colon) => format!(
            "{}{}:***{}",
            &url[..scheme_end],
            &rest[..colon],
            &rest[at..]
        ),
        None => url.to_owned(),
    }
}

impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings")
            .field("addr", &self.addr)
            .field("database_url", &redact_url(&self.database_url))
            .field("base_url", &self.base_url)
            .field("data_dir", &self.data_dir)
            .field("site_root", &self.site_root)
            .field("log_format", &self.log_format)
            .field("smtp_url", &self.smtp_url.as_deref().map(redact_url))
            .field("smtp_username", &self.smtp_username)
            .field("smtp_password", &self.smtp_password.as_ref().map(|_| "***"))
            .field("mail_from", &self.mail_from)
            .field("run_worker", &self.run_worker)
            .field("reminder_days", &self.reminder_days)
            .field("secret_key", &self.secret_key.as_ref().map(|_| "***"))
            .field("probe_allow", &self.probe_allow)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn defaults_serve_sqlite_on_port_3000() {
        let s = Settings::from_sources(Path::new("/nonexistent.toml"), &[]).expect("defaults");
        assert_eq!(s.addr.to_string(), "127.0.0.1:3000");
        assert_eq!(s.database_url, "sqlite://data/plumbline.db");
        assert_eq!(s.public_url(s.addr), "http://127.0.0.1:3000");
    }

    #[test]
    fn environment_overrides_the_file() {
        let dir = std::env::temp_dir().join(format!("plumbline-settings-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("tmp");
        let file = dir.join("plumbline.toml");
        std::fs::write(
            &file,
            "addr = \"127.0.0.1:4000\"\nmail_from = \"A <a@b.co>\"\n",
        )
        .expect("write");
        let s = Settings::from_sources(&file, &env(&[("PLUMBLINE_ADDR", "127.0.0.1:5000")]))
            .expect("ok");
        assert_eq!(s.addr.port(), 5000);
        assert_eq!(s.mail_from, "A <a@b.co>");
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn a_bad_setting_is_named_in_one_line() {
        let e = Settings::from_sources(Path::new("/none"), &env(&[("PLUMBLINE_ADDR", "nowhere")]))
            .expect_err("bad addr");
        assert_eq!(
            e.to_string(),
            "bad setting PLUMBLINE_ADDR: \"nowhere\" is not HOST:PORT like 127.0.0.1:3000"
        );
        let e = Settings::from_sources(Path::new("/none"), &env(&[("DATABASE_URL", "mysql://x")]))
            .expect_err("scheme");
        assert!(e.to_string().starts_with("bad setting DATABASE_URL"));
        let e = Settings::from_sources(Path::new("/none"), &env(&[("PLUMBLINE_NOPE", "1")]))
            .expect_err("unknown");
        assert!(e.to_string().contains("PLUMBLINE_NOPE"));
    }

    #[test]
    fn secrets_are_redacted() {
        let s = Settings::from_sources(
            Path::new("/none"),
            &env(&[
                ("DATABASE_URL", "postgres://app:hunter2@db/plumbline"),
                ("PLUMBLINE_SMTP_PASSWORD", "smtp-secret"),
            ]),
        )
        .expect("ok");
        let shown = format!("{s:?}");
        assert!(
            !shown.contains("hunter2") && !shown.contains("smtp-secret"),
            "{shown}"
        );
        assert!(shown.contains("postgres://app:***@db/plumbline"));
    }

    #[test]
    fn the_file_takes_numbers_and_booleans_and_names_its_bad_keys() {
        let dir =
            std::env::temp_dir().join(format!("plumbline-settings-file-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("tmp");
        let file = dir.join("plumbline.toml");
        std::fs::write(&file, "login_max_attempts = 3\nrun_worker = false\n").expect("write");
        let s = Settings::from_sources(&file, &[]).expect("ok");
        assert_eq!((s.login_max_attempts, s.run_worker), (3, false));

        std::fs::write(&file, "adr = \"127.0.0.1:1\"\n").expect("write");
        let e = Settings::from_sources(&file, &[]).expect_err("unknown key");
        assert!(e.setting.starts_with("adr in "), "{e}");

        std::fs::write(&file, "addr = \"nowhere\"\n").expect("write");
        let e = Settings::from_sources(&file, &[]).expect_err("bad value");
        assert!(e.to_string().starts_with("bad setting addr in "), "{e}");
        assert!(e.to_string().contains("is not HOST:PORT"), "{e}");
        let _ = std::fs::remove_dir_all(dir);
    }
}
