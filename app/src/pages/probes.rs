//! The probes of an engagement: targets (HTTP API, PostgreSQL, repository, uploads), runs with
//! live progress and cancel, each run's checks beside the previous run's, and claimed versus
//! observed.
//!
//! Server functions first (thin: who is asking, then the domain), then the page.
use std::time::Duration;

use audit::probes::{
    CheckStatus, ClaimComparison, ProbeKind, ProbeRun, ProbeRunDetail, ProbeTargets,
    ProbeTargetsInput, ProbeUpload, RunStatus, StoredCheck, Verdict, DEFAULT_HTTP_DURATION_SECS,
    DEFAULT_HTTP_RATE, MAX_HTTP_DURATION_SECS, MAX_HTTP_ENDPOINTS, MAX_HTTP_RATE,
};
use audit::FieldError;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;
use serde::{Deserialize, Serialize};

use crate::components::{action_error, format_time, ErrorBanner, FieldMessage, LoadError};
use crate::error::UiError;
use crate::pages::findings::{
    engagement_head, engagement_id_param, notice_banner, on_success, ProblemBanner,
};

#[cfg(feature = "ssr")]
use crate::state::{app_state, current_member, current_owner, fail};

/// Runs shown on the page (newest first); older ones page through the API.
pub const RUNS_SHOWN: i64 = 20;

/// Everything the probes page shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProbesData {
    pub engagement_id: i64,
    pub client_name: String,
    pub system_name: String,
    pub targets: ProbeTargets,
    /// Newest first.
    pub uploads: Vec<ProbeUpload>,
    /// Newest first, at most `RUNS_SHOWN`.
    pub runs: Vec<ProbeRun>,
    /// Contradictions first.
    pub claims: Vec<ClaimComparison>,
    /// The firm's allow-listed ranges (the owner edits them on the firm page).
    pub firm_allow: String,
}

#[server(prefix = "/fn", endpoint = "load_probes_page")]
pub async fn load_probes_page(engagement_id: i64) -> Result<ProbesData, UiError> {
    let member = current_member().await?;
    let state = app_state()?;
    let firm_id = member.firm_id;
    let engagement = audit::engagements::get(&state.db, firm_id, engagement_id)
        .await
        .map_err(fail)?;
    let store = |e| fail(e);
    Ok(ProbesData {
        engagement_id,
        client_name: engagement.client_name,
        system_name: engagement.system_name,
        targets: audit::probes::store::get_targets(&state.db, firm_id, engagement_id)
            .await
            .map_err(store)?,
        uploads: audit::probes::store::list_uploads(&state.db, firm_id, engagement_id)
            .await
            .map_err(store)?,
        runs: audit::probes::store::list_runs(&state.db, firm_id, engagement_id, None, RUNS_SHOWN)
            .await
            .map_err(store)?,
        claims: audit::probes::claims::compare(&state.db, firm_id, engagement_id)
            .await
            .map_err(store)?,
        firm_allow: audit::probes::store::firm_probe_allow(&state.db, firm_id)
            .await
            .map_err(store)?,
    })
}

/// The targets form as the browser posts it: text fields, endpoints one per line, the numbers
/// as typed (empty means the gentle default), the "remove" checkbox present only when ticked.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TargetsForm {
    #[serde(default)]
    pub http_base_url: String,
    #[serde(default)]
    pub http_endpoints: String,
    #[serde(default)]
    pub http_openapi_url: String,
    #[serde(default)]
    pub http_rate: String,
    #[serde(default)]
    pub http_duration_secs: String,
    #[serde(default)]
    pub postgres_url: String,
    #[serde(default)]
    pub clear_postgres: Option<String>,
    #[serde(default)]
    pub repository_url: String,
    #[serde(default)]
    pub version: i64,
}

impl TargetsForm {
    /// The form filled with the stored targets; the connection string is never filled back.
    pub fn from_targets(t: &ProbeTargets) -> TargetsForm {
        TargetsForm {
            http_base_url: t.http_base_url.clone(),
            http_endpoints: t.http_endpoints.join("\n"),
            http_openapi_url: t.http_openapi_url.clone(),
            http_rate: t.http_rate.to_string(),
            http_duration_secs: t.http_duration_secs.to_string(),
            postgres_url: String::new(),
            clear_postgres: None,
            repository_url: t.repository_url.clone(),
            version: t.version,
        }
    }

    /// The domain's input; numbers that are not whole numbers are named on their field (the
    /// domain checks the ranges and everything else).
    pub fn parse(&self) -> Result<ProbeTargetsInput, Vec<FieldError>> {
        let mut problems = Vec::new();
        let mut number = |field: &str, text: &str, message: String| -> Option<u32> {
            let text = text.trim();
            if text.is_empty() {
                return None;
            }
            match text.parse::<u32>() {
                Ok(n) => Some(n),
                Err(_) => {
                    problems.push(FieldError::new(field, message));
                    None
                }
            }
        };
        let http_rate = number(
            "http_rate",
            &self.http_rate,
            format!("Give a whole number of requests per second, from 1 to {MAX_HTTP_RATE}."),
        );
        let http_duration_secs = number(
            "http_duration_secs",
            &self.http_duration_secs,
            format!("Give a whole number of seconds, from 5 to {MAX_HTTP_DURATION_SECS}."),
        );
        if !problems.is_empty() {
            return Err(problems);
        }
        Ok(ProbeTargetsInput {
            http_base_url: self.http_base_url.trim().to_owned(),
            http_endpoints: self
                .http_endpoints
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(str::to_owned)
                .collect(),
            http_openapi_url: self.http_openapi_url.trim().to_owned(),
            http_rate,
            http_duration_secs,
            postgres_url: self.postgres_url.trim().to_owned(),
            clear_postgres: self
                .clear_postgres
                .as_deref()
                .is_some_and(|v| !v.trim().is_empty()),
            repository_url: self.repository_url.trim().to_owned(),
            version: self.version,
        })
    }
}

/// Saves the targets; the connection string is sealed and never comes back.
#[server(prefix = "/fn", endpoint = "save_probe_targets")]
pub async fn save_probe_targets(
    engagement_id: i64,
    form: TargetsForm,
) -> Result<ProbeTargets, UiError> {
    let member = current_member().await?;
    let state = app_state()?;
    let input = form.parse().map_err(|e| fail(audit::Error::Invalid(e)))?;
    let guard = state
        .probes
        .guard_for(&state.db, member.firm_id)
        .await
        .map_err(fail)?;
    audit::probes::store::save_targets(
        &state.db,
        &state.probes.key,
        &guard,
        member.firm_id,
        engagement_id,
        &input,
    )
    .await
    .map_err(fail)
}

/// Queues a run of `kind`; repository and log runs read the chosen uploads.
#[server(prefix = "/fn", endpoint = "start_probe_run")]
pub async fn start_probe_run(
    engagement_id: i64,
    kind: ProbeKind,
    // A form without upload checkboxes sends no `upload_ids` at all.
    #[server(default)] upload_ids: Vec<i64>,
) -> Result<ProbeRun, UiError> {
    let member = current_member().await?;
    let state = app_state()?;
    audit::probes::store::start_run(
        &state.db,
        &audit::activity::Actor::from(&member),
        member.firm_id,
        engagement_id,
        kind,
        &audit::probes::store::RunParams { upload_ids },
    )
    .await
    .map_err(fail)
}

/// The newest runs, for polling while one is active.
#[server(prefix = "/fn", endpoint = "probe_runs")]
pub async fn probe_runs(engagement_id: i64) -> Result<Vec<ProbeRun>, UiError> {
    let member = current_member().await?;
    let state = app_state()?;
    audit::probes::store::list_runs(&state.db, member.firm_id, engagement_id, None, RUNS_SHOWN)
        .await
        .map_err(fail)
}

/// One run with its checks.
#[server(prefix = "/fn", endpoint = "load_probe_run")]
pub async fn load_probe_run(engagement_id: i64, run_id: i64) -> Result<ProbeRunDetail, UiError> {
    let member = current_member().await?;
    let state = app_state()?;
    audit::probes::store::get_run(&state.db, member.firm_id, engagement_id, run_id)
        .await
        .map_err(fail)
}

/// The run whose checks the page shows: the one asked for (`?run=`), else the newest finished
/// one, else none.
#[server(prefix = "/fn", endpoint = "shown_probe_run")]
pub async fn shown_probe_run(
    engagement_id: i64,
    run_id: Option<i64>,
) -> Result<Option<ProbeRunDetail>, UiError> {
    let member = current_member().await?;
    let state = app_state()?;
    let firm_id = member.firm_id;
    let run_id = match run_id {
        Some(id) => id,
        None => {
            let runs =
                audit::probes::store::list_runs(&state.db, firm_id, engagement_id, None, RUNS_SHOWN)
                    .await
                    .map_err(fail)?;
            match runs.iter().find(|r| !r.status.is_active()) {
                Some(run) => run.id,
                None => return Ok(None),
            }
        }
    };
    audit::probes::store::get_run(&state.db, firm_id, engagement_id, run_id)
        .await
        .map(Some)
        .map_err(fail)
}

#[server(prefix = "/fn", endpoint = "cancel_probe_run")]
pub async fn cancel_probe_run(engagement_id: i64, run_id: i64) -> Result<ProbeRun, UiError> {
    let member = current_member().await?;
    let state = app_state()?;
    audit::probes::store::cancel_run(&state.db, member.firm_id, engagement_id, run_id)
        .await
        .map_err(fail)
}

#[server(prefix = "/fn", endpoint = "delete_probe_upload")]
pub async fn delete_probe_upload(engagement_id: i64, upload_id: i64) -> Result<(), UiError> {
    let member = current_member().await?;
    let state = app_state()?;
    audit::probes::store::delete_upload(&state.db, member.firm_id, engagement_id, upload_id)
        .await
        .map_err(fail)
}

/// How many answers the probes contradict (for the engagement page's callout).
#[server(prefix = "/fn", endpoint = "contradiction_count")]
pub async fn contradiction_count(engagement_id: i64) -> Result<usize, UiError> {
    let member = current_member().await?;
    let state = app_state()?;
    let claims = audit::probes::claims::compare(&state.db, member.firm_id, engagement_id)
        .await
        .map_err(fail)?;
    Ok(claims
        .iter()
        .filter(|c| c.verdict == Verdict::Contradicts)
        .count())
}

/// The firm owner's allow-list of ranges probes may reach (comma-separated CIDRs).
#[server(prefix = "/fn", endpoint = "save_firm_probe_allow")]
pub async fn save_firm_probe_allow(ranges: String) -> Result<String, UiError> {
    let owner = current_owner().await?;
    let state = app_state()?;
    audit::probes::store::set_firm_probe_allow(&state.db, owner.firm_id, &ranges)
        .await
        .map_err(fail)
}

/// The firm's allow-list, for the firm page.
#[server(prefix = "/fn", endpoint = "firm_probe_allow")]
pub async fn firm_probe_allow() -> Result<String, UiError> {
    let member = current_member().await?;
    let state = app_state()?;
    audit::probes::store::firm_probe_allow(&state.db, member.firm_id)
        .await
        .map_err(fail)
}

