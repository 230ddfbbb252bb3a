//! The probes of an engagement: targets (HTTP API, PostgreSQL, repository, uploads), runs with
//! live progress and cancel, each run's checks beside the previous run's, and claimed versus
//! observed.
//!
//! Server functions first (thin: who is asking, then the domain), then the page.
use std::sync::Arc;
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
    engagement_head, engagement_id_param, merged_error, notice_banner, on_success, ProblemBanner,
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

    /// The domain's input. The numbers are checked here, where the browser can run the check
    /// before sending; the domain checks them again with everything else (addresses, paths).
    pub fn parse(&self) -> Result<ProbeTargetsInput, Vec<FieldError>> {
        let mut problems = Vec::new();
        let mut number =
            |field: &str, text: &str, range: std::ops::RangeInclusive<u32>, message: String| {
                let text = text.trim();
                if text.is_empty() {
                    return None;
                }
                match text.parse::<u32>() {
                    Ok(n) if range.contains(&n) => Some(n),
                    _ => {
                        problems.push(FieldError::new(field, message));
                        None
                    }
                }
            };
        let http_rate = number(
            "http_rate",
            &self.http_rate,
            1..=MAX_HTTP_RATE,
            format!("Give a whole number of requests per second, from 1 to {MAX_HTTP_RATE}: the probe stays gentle."),
        );
        let http_duration_secs = number(
            "http_duration_secs",
            &self.http_duration_secs,
            5..=MAX_HTTP_DURATION_SECS,
            format!(
                "Give a whole number of seconds per endpoint, from 5 to {MAX_HTTP_DURATION_SECS}."
            ),
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

/// Whether a run of this status stored checks: finished, or stopped by its time bound (a
/// cancelled or failed run keeps none).
pub fn has_checks(status: RunStatus) -> bool {
    matches!(status, RunStatus::Done | RunStatus::TimedOut)
}

/// The run whose checks the page shows: the one asked for (`?run=`), else the newest one with
/// checks, else none.
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
            let runs = audit::probes::store::list_runs(
                &state.db,
                firm_id,
                engagement_id,
                None,
                RUNS_SHOWN,
            )
            .await
            .map_err(fail)?;
            match runs.iter().find(|r| has_checks(r.status)) {
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

// ---------------------------------------------------------------------------------------------
// The page

/// How often the page asks for the runs' progress while one is queued or running.
const POLL_EVERY: Duration = Duration::from_secs(1);

/// What the page's parts reach: the engagement, the data to reload, the live runs and the
/// actions (made once for the page, so a reload does not lose their last answer).
#[derive(Clone, Copy)]
struct Ctx {
    engagement_id: i64,
    data: Resource<Result<ProbesData, UiError>>,
    shown: Resource<Result<Option<ProbeRunDetail>, UiError>>,
    /// The runs as the last poll saw them; `None` shows the runs of `data`.
    live: RwSignal<Option<Vec<ProbeRun>>>,
    notice: RwSignal<Option<String>>,
    save: ServerAction<SaveProbeTargets>,
    start: ServerAction<StartProbeRun>,
    cancel: ServerAction<CancelProbeRun>,
    delete: ServerAction<DeleteProbeUpload>,
    /// The engagement and targets version the form was last reset to (see `targets_section`).
    form_version: StoredValue<Option<(i64, i64)>>,
}

impl Ctx {
    /// Everything again: targets, uploads, runs, claims and the shown run's checks.
    fn reload(self) {
        self.data.refetch();
        self.shown.refetch();
    }

    fn page_href(self, query: &str, anchor: &str) -> String {
        format!("/engagements/{}/probes{query}#{anchor}", self.engagement_id)
    }
}

#[component]
pub fn ProbesPage() -> impl IntoView {
    let id = engagement_id_param();
    let query = use_query_map();
    let run_param =
        Memo::new(move |_| query.with(|q| q.get("run").and_then(|r| r.trim().parse::<i64>().ok())));
    let uploaded = Memo::new(move |_| {
        query.with(|q| q.get("uploaded").and_then(|n| n.trim().parse::<u32>().ok()))
    });
    let upload_error =
        Memo::new(move |_| query.with(|q| q.get("upload_error").filter(|m| !m.trim().is_empty())));
    let data = Resource::new(id, load_probes_page);
    let shown = Resource::new(
        move || (id(), run_param.get()),
        |(engagement_id, run_id)| shown_probe_run(engagement_id, run_id),
    );
    let live = RwSignal::new(None::<Vec<ProbeRun>>);
    let notice = RwSignal::new(None::<String>);
    let ctx = Ctx {
        // Set from the loaded data in `probes_view` (the route's id can change under the page).
        engagement_id: -1,
        data,
        shown,
        live,
        notice,
        save: ServerAction::new(),
        start: ServerAction::new(),
        cancel: ServerAction::new(),
        delete: ServerAction::new(),
        form_version: StoredValue::new(None),
    };
    // Fresh page data carries the runs; the polled list is only for between reloads.
    Effect::new(move |_| {
        data.track();
        live.set(None);
    });
    on_success(ctx.save, move |_| {
        notice.set(Some("Targets saved.".to_owned()));
        ctx.reload();
    });
    on_success(ctx.start, move |run: ProbeRun| {
        notice.set(Some(format!(
            "{} run #{} queued. Its progress shows below.",
            run.kind.label(),
            run.id
        )));
        ctx.reload();
    });
    on_success(ctx.cancel, move |run: ProbeRun| {
        let text = if run.status == RunStatus::Cancelled {
            format!("{} run #{} cancelled.", run.kind.label(), run.id)
        } else {
            format!(
                "Stopping {} run #{}: it ends at its next step.",
                run.kind.label(),
                run.id
            )
        };
        notice.set(Some(text));
        ctx.reload();
    });
    on_success(ctx.delete, move |_| {
        notice.set(Some("Upload deleted.".to_owned()));
        ctx.reload();
    });
    let poll_error = poll_while_active(ctx, id);
    view! {
        <Transition fallback=|| view! { <p class="muted">"Loading the probes…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Err(e) => view! { <LoadError error=e/> }.into_any(),
                    Ok(d) => probes_view(d, ctx, run_param, uploaded, upload_error, poll_error),
                }
            })}
        </Transition>
    }
}

/// While any run is queued or running, asks for the runs every second (in the browser only:
/// effects do not run on the server) and reloads the page when one of them finishes. Returns
/// the last poll's error, if it failed.
fn poll_while_active(
    ctx: Ctx,
    engagement_id: impl Fn() -> i64 + Copy + Send + Sync + 'static,
) -> RwSignal<Option<String>> {
    let poll_error = RwSignal::new(None::<String>);
    // Bumped after a failed poll, so the effect schedules the next try.
    let retry = RwSignal::new(0_u64);
    let timer = StoredValue::new(None::<TimeoutHandle>);
    let stop = move || {
        if let Some(Some(handle)) = timer.try_get_value() {
            handle.clear();
        }
    };
    on_cleanup(stop);
    Effect::new(move |_| {
        retry.track();
        let runs = ctx
            .live
            .get()
            .or_else(|| ctx.data.get().and_then(Result::ok).map(|d| d.runs));
        let active: Vec<i64> = runs
            .iter()
            .flatten()
            .filter(|r| r.status.is_active())
            .map(|r| r.id)
            .collect();
        stop();
        if active.is_empty() {
            return;
        }
        let engagement_id = untrack(engagement_id);
        let handle = set_timeout_with_handle(
            move || {
                leptos::task::spawn_local(async move {
                    match probe_runs(engagement_id).await {
                        Ok(runs) => {
                            let _ = poll_error.try_set(None);
                            let finished = active.iter().any(|id| {
                                runs.iter()
                                    .find(|r| r.id == *id)
                                    .is_none_or(|r| !r.status.is_active())
                            });
                            let _ = ctx.live.try_set(Some(runs));
                            if finished {
                                ctx.reload();
                            }
                        }
                        Err(e) => {
                            let _ = poll_error.try_set(Some(e.message));
                            let _ = retry.try_update(|n| *n += 1);
                        }
                    }
                });
            },
            POLL_EVERY,
        )
        .ok();
        timer.try_set_value(handle);
    });
    poll_error
}

fn probes_view(
    d: ProbesData,
    ctx: Ctx,
    run_param: Memo<Option<i64>>,
    uploaded: Memo<Option<u32>>,
    upload_error: Memo<Option<String>>,
    poll_error: RwSignal<Option<String>>,
) -> AnyView {
    let id = d.engagement_id;
    let ctx = Ctx {
        engagement_id: id,
        ..ctx
    };
    let contradicted = d
        .claims
        .iter()
        .filter(|c| c.verdict == Verdict::Contradicts)
        .count();
    let claims_link = if contradicted > 0 {
        format!("Claimed versus observed ({contradicted} contradicted)")
    } else {
        "Claimed versus observed".to_owned()
    };
    let targets = targets_section(&d, ctx);
    let uploads = uploads_section(&d, ctx, uploaded, upload_error);
    let run = run_section(&d, ctx);
    let runs = runs_section(d.runs.clone(), ctx, run_param, poll_error);
    let checks = checks_section(ctx, !d.runs.is_empty());
    let claims = claims_section(id, d.claims.clone(), !d.runs.is_empty());
    view! {
        <Title text=format!("Probes · {}", d.client_name)/>
        {engagement_head(id, d.client_name.clone(), d.system_name.clone(), "probes")}
        <p class="muted probes-intro">
            "Probes look at the real system and set what they see beside the founders' answers. "
            "They only read: the HTTP probe sends gentle requests that change nothing, the database "
            "probe connects read-only, and the repository and log probes read files."
        </p>
        <nav class="probe-jumps" aria-label="On this page">
            <a href="#targets">"Targets"</a>
            <a href="#uploads">"Uploads"</a>
            <a href="#run">"Run a probe"</a>
            <a href="#runs">"Runs"</a>
            <a href="#claims">{claims_link}</a>
        </nav>
        {notice_banner(ctx.notice)}
        {targets}
        {uploads}
        {run}
        {runs}
        {checks}
        {claims}
    }
    .into_any()
}

// ---------------------------------------------------------------------------------------------
// Targets

fn targets_section(d: &ProbesData, ctx: Ctx) -> AnyView {
    let t = &d.targets;
    let initial = TargetsForm::from_targets(t);
    // The numbers as typed, checked in the browser with the server's parser once a field was
    // left or a save tried; the server's answer shows otherwise.
    let rate = RwSignal::new(initial.http_rate.clone());
    let duration = RwSignal::new(initial.http_duration_secs.clone());
    let checked = RwSignal::new(false);
    let problems = move || {
        TargetsForm {
            http_rate: rate.get(),
            http_duration_secs: duration.get(),
            ..TargetsForm::default()
        }
        .parse()
        .err()
    };
    let server_error = action_error(ctx.save);
    let error = merged_error(checked, problems, server_error);
    let pending = ctx.save.pending();
    let conflict = move || server_error.get().is_some_and(|e| e.code == "conflict");
    let on_save = move |ev: leptos::ev::MouseEvent| {
        checked.set(true);
        if untrack(problems).is_some() {
            ev.prevent_default();
        }
    };
    let invalid =
        move |field: &'static str| move || error.get().and_then(|e| e.field(field)).map(|_| "true");
    // Tachys rebuilds a re-rendered page in place, so what was typed outlives a reload. Once a
    // save lands (a new version), put the form back to the saved values: that also empties the
    // connection string field, which is never filled back. Other reloads (a run finishing)
    // leave what is being typed alone.
    let form = NodeRef::<leptos::html::Form>::new();
    let replace = NodeRef::<leptos::html::Details>::new();
    let version = t.version;
    Effect::new(move |_| {
        let Some(form) = form.get() else { return };
        if ctx.form_version.get_value() != Some((ctx.engagement_id, version)) {
            form.reset();
            if let Some(replace) = replace.get() {
                replace.set_open(false);
            }
            ctx.form_version
                .set_value(Some((ctx.engagement_id, version)));
        }
    });
    let allow = if d.firm_allow.trim().is_empty() {
        view! {
            <p class="help">
                "Probes reach public addresses only (and any range the operator of this Plumbline allows). "
                "For an on-premise system on a private or loopback address, the firm owner adds its range "
                "to the probe allow-list on the "
                <a href="/firm#probe-allow">"Firm page"</a>"."
            </p>
        }
        .into_any()
    } else {
        view! {
            <p class="help">
                "Besides public addresses, your firm lets probes reach "<code>{d.firm_allow.clone()}</code>
                " (the firm owner sets this on the "<a href="/firm#probe-allow">"Firm page"</a>")."
            </p>
        }
        .into_any()
    };
    let postgres = if t.postgres_set {
        view! {
            <p class="stored-secret" data-testid="postgres-stored">
                "Stored, encrypted: "<code>{t.postgres_label.clone()}</code>
            </p>
            <details class="replace-secret" node_ref=replace>
                <summary>"Replace"</summary>
                <label for="postgres_url">"New connection string"</label>
                <input id="postgres_url" name="form[postgres_url]" type="password" autocomplete="off"
                    spellcheck="false" placeholder="postgres://auditor:…@db.example.com:5432/app"
                    aria-describedby="postgres_url-help postgres_url-error" aria-invalid=invalid("postgres_url")/>
            </details>
            <label class="check remove-secret">
                <input type="checkbox" name="form[clear_postgres]" value="true"/>
                "Remove the stored connection string"
            </label>
        }
        .into_any()
    } else {
        view! {
            <label for="postgres_url">"Connection string "<span class="muted small">"(optional)"</span></label>
            <input id="postgres_url" name="form[postgres_url]" type="password" autocomplete="off"
                spellcheck="false" placeholder="postgres://auditor:…@db.example.com:5432/app"
                aria-describedby="postgres_url-help postgres_url-error" aria-invalid=invalid("postgres_url")/>
        }
        .into_any()
    };
    view! {
        <section class="card probe-targets" id="targets" aria-labelledby="targets-heading">
            <h2 id="targets-heading">"Targets"</h2>
            <p class="muted small">"What the probes look at. Fill in what the client gave you; each probe needs only its own part."</p>
            {allow}
            <ActionForm action=ctx.save node_ref=form>
                <input type="hidden" name="engagement_id" value=ctx.engagement_id/>
                <input type="hidden" name="form[version]" value=version/>
                <fieldset class="probe-target">
                    <legend>"HTTP API"</legend>
                    <label for="http_base_url">"Base URL"</label>
                    <input id="http_base_url" name="form[http_base_url]" inputmode="url" autocomplete="off"
                        spellcheck="false" placeholder="https://api.example.com" value=initial.http_base_url
                        aria-describedby="http_base_url-error" aria-invalid=invalid("http_base_url")/>
                    <FieldMessage error field="http_base_url"/>
                    <label for="http_endpoints">"Endpoints"</label>
                    <textarea id="http_endpoints" name="form[http_endpoints]" rows="4" spellcheck="false"
                        placeholder="/api/v1/users\n/api/v1/orders?page=1"
                        aria-describedby="http_endpoints-help http_endpoints-error"
                        aria-invalid=invalid("http_endpoints")>{initial.http_endpoints}</textarea>
                    <p class="help" id="http_endpoints-help">
                        {format!("One path per line, starting with /, at most {MAX_HTTP_ENDPOINTS}. Each is timed, and checked for errors, caching and compression. Prefer read-only GET endpoints.")}
                    </p>
                    <FieldMessage error field="http_endpoints"/>
                    <label for="http_openapi_url">"OpenAPI document "<span class="muted small">"(optional)"</span></label>
                    <input id="http_openapi_url" name="form[http_openapi_url]" inputmode="url" autocomplete="off"
                        spellcheck="false" placeholder="/openapi.json" value=initial.http_openapi_url
                        aria-describedby="http_openapi_url-help http_openapi_url-error"
                        aria-invalid=invalid("http_openapi_url")/>
                    <p class="help" id="http_openapi_url-help">"A full URL, or a path under the base URL. Left empty, the usual places are tried."</p>
                    <FieldMessage error field="http_openapi_url"/>
                    <div class="row">
                        <div>
                            <label for="http_rate">"Rate (requests per second)"</label>
                            <input id="http_rate" name="form[http_rate]" inputmode="numeric" autocomplete="off"
                                value=initial.http_rate aria-describedby="http_rate-help http_rate-error"
                                aria-invalid=invalid("http_rate")
                                on:input=move |ev| rate.set(event_target_value(&ev))
                                on:change=move |_| checked.set(true)/>
                            <p class="help" id="http_rate-help">
                                {format!("{DEFAULT_HTTP_RATE} by default, at most {MAX_HTTP_RATE}: gentle enough for a production API.")}
                            </p>
                            <FieldMessage error field="http_rate"/>
                        </div>
                        <div>
                            <label for="http_duration_secs">"Duration (seconds per endpoint)"</label>
                            <input id="http_duration_secs" name="form[http_duration_secs]" inputmode="numeric"
                                autocomplete="off" value=initial.http_duration_secs
                                aria-describedby="http_duration_secs-help http_duration_secs-error"
                                aria-invalid=invalid("http_duration_secs")
                                on:input=move |ev| duration.set(event_target_value(&ev))
                                on:change=move |_| checked.set(true)/>
                            <p class="help" id="http_duration_secs-help">
                                {format!("{DEFAULT_HTTP_DURATION_SECS} by default, 5 to {MAX_HTTP_DURATION_SECS}. Rate × duration is the most requests one endpoint gets.")}
                            </p>
                            <FieldMessage error field="http_duration_secs"/>
                        </div>
                    </div>
                </fieldset>
                <fieldset class="probe-target">
                    <legend>"PostgreSQL"</legend>
                    {postgres}
                    <div class="help" id="postgres_url-help">
                        <p>"Stored encrypted and never shown again. Give a role that can only read; for instance:"</p>
                        <pre class="role-hint"><code>"CREATE ROLE auditor LOGIN PASSWORD '…';\nGRANT pg_monitor TO auditor;\nALTER ROLE auditor SET default_transaction_read_only = on;"</code></pre>
                    </div>
                    <FieldMessage error field="postgres_url"/>
                </fieldset>
                <fieldset class="probe-target">
                    <legend>"Repository"</legend>
                    <label for="repository_url">"Repository URL "<span class="muted small">"(optional)"</span></label>
                    <input id="repository_url" name="form[repository_url]" inputmode="url" autocomplete="off"
                        spellcheck="false" placeholder="https://github.com/acme/api.git" value=initial.repository_url
                        aria-describedby="repository_url-help repository_url-error"
                        aria-invalid=invalid("repository_url")/>
                    <p class="help" id="repository_url-help">"https:// only. For a private repository, upload an archive under Uploads instead."</p>
                    <FieldMessage error field="repository_url"/>
                </fieldset>
                <ErrorBanner error/>
                {move || conflict().then(|| view! {
                    <button type="button" class="secondary" on:click=move |_| { ctx.save.clear(); ctx.reload(); }>
                        "Reload the targets"
                    </button>
                })}
                <div class="actions">
                    <button type="submit" disabled=move || pending.get() on:click=on_save>
                        {move || if pending.get() { "Saving…" } else { "Save targets" }}
                    </button>
                </div>
            </ActionForm>
        </section>
    }
    .into_any()
}

// ---------------------------------------------------------------------------------------------
// Uploads

/// A file size people read: 820 B, 14.2 KB, 3.1 MB.
fn human_size(bytes: i64) -> String {
    const KB: f64 = 1024.0;
    let b = bytes.max(0) as f64;
    if b < KB {
        format!("{bytes} B")
    } else if b < KB * KB {
        format!("{:.1} KB", b / KB)
    } else {
        format!("{:.1} MB", b / (KB * KB))
    }
}

fn upload_kind_label(kind: ProbeKind) -> &'static str {
    match kind {
        ProbeKind::Repository => "Repository archive",
        ProbeKind::Logs => "Log file",
        other => other.label(),
    }
}

fn uploads_section(
    d: &ProbesData,
    ctx: Ctx,
    uploaded: Memo<Option<u32>>,
    upload_error: Memo<Option<String>>,
) -> AnyView {
    let kind = RwSignal::new("logs".to_owned());
    let logs = move || kind.get() == "logs";
    let delete_error = action_error(ctx.delete);
    let list = if d.uploads.is_empty() {
        view! {
            <p class="muted" data-testid="uploads-empty">
                "No uploads yet. Upload a repository archive when the repository cannot be reached by URL, "
                "or access logs and PostgreSQL logs to import their latencies and slow statements."
            </p>
        }
        .into_any()
    } else {
        view! {
            <div class="table-wrap">
                <table class="stack-table uploads-table">
                    <thead>
                        <tr>
                            <th scope="col">"File"</th>
                            <th scope="col">"Kind"</th>
                            <th scope="col">"Size"</th>
                            <th scope="col">"Uploaded by"</th>
                            <th scope="col">"When"</th>
                            <th scope="col"><span class="visually-hidden">"Actions"</span></th>
                        </tr>
                    </thead>
                    <tbody>
                        {d.uploads.iter().map(|u| upload_row(u.clone(), ctx)).collect_view()}
                    </tbody>
                </table>
            </div>
        }
        .into_any()
    };
    view! {
        <section class="card" id="uploads" aria-labelledby="uploads-heading">
            <h2 id="uploads-heading">"Uploads"</h2>
            <p class="muted small">
                "Repository archives (.zip, .tar.gz, .tgz or .tar) for the repository probe; log files "
                "(nginx combined or JSON-lines access logs, PostgreSQL logs; plain or gzip) for the log import. "
                "At most 50 MB each."
            </p>
            {move || uploaded.get().map(|n| view! {
                <p class="banner ok" role="status" data-testid="upload-ok">
                    {if n == 1 { "1 file uploaded.".to_owned() } else { format!("{n} files uploaded.") }}
                </p>
            })}
            {move || upload_error.get().map(|message| view! {
                <div class="banner error" role="alert" data-testid="upload-error">
                    <p>"The upload did not go through: "{message}</p>
                </div>
            })}
            <form method="post" action=format!("/engagements/{}/probe-uploads", ctx.engagement_id)
                enctype="multipart/form-data" class="probe-upload-form">
                <div class="row">
                    <div>
                        <label for="upload-kind">"What it is"</label>
                        <select id="upload-kind" name="kind" on:change=move |ev| kind.set(event_target_value(&ev))>
                            <option value="logs" selected=true>"Log files"</option>
                            <option value="repository">"Repository archive"</option>
                        </select>
                    </div>
                    <div>
                        <label for="upload-file">{move || if logs() { "Files (choose several at once)" } else { "Archive" }}</label>
                        <input id="upload-file" type="file" name="file" required multiple=logs
                            accept=move || if logs() { ".log,.txt,.json,.jsonl,.gz,.csv,text/plain,application/gzip" } else { ".zip,.tar,.tgz,.gz,application/zip,application/gzip,application/x-tar" }/>
                    </div>
                </div>
                <div class="actions">
                    <button type="submit">"Upload"</button>
                </div>
            </form>
            <ErrorBanner error=delete_error/>
            {list}
        </section>
    }
    .into_any()
}

fn upload_row(u: ProbeUpload, ctx: Ctx) -> AnyView {
    let name = u.file_name.clone();
    view! {
        <tr data-testid="upload">
            <td data-label="File"><span class="file-name">{u.file_name.clone()}</span></td>
            <td data-label="Kind">{upload_kind_label(u.kind)}</td>
            <td data-label="Size" class="num">{human_size(u.size_bytes)}</td>
            <td data-label="Uploaded by">{u.uploaded_by.clone()}</td>
            <td data-label="When">{format_time(u.created_at)}</td>
            <td>
                <details class="danger-zone inline-confirm">
                    <summary>"Delete…"<span class="visually-hidden">" "{name.clone()}</span></summary>
                    <p class="small">{format!("“{name}” goes for good. Runs that read it keep their checks.")}</p>
                    <ActionForm action=ctx.delete>
                        <input type="hidden" name="engagement_id" value=ctx.engagement_id/>
                        <input type="hidden" name="upload_id" value=u.id/>
                        <button type="submit" class="danger">"Yes, delete it"</button>
                    </ActionForm>
                </details>
            </td>
        </tr>
    }
    .into_any()
}

// ---------------------------------------------------------------------------------------------
// Run buttons

/// One probe kind's run form: what it will look at, or why it cannot run yet.
struct RunChoice {
    kind: ProbeKind,
    button: &'static str,
    /// What a run reads, when it can run.
    plan: Option<String>,
    /// Why it cannot run yet.
    missing: Option<&'static str>,
    /// Uploads sent with the run (the newest repository archive).
    upload_ids: Vec<i64>,
}

fn run_choices(d: &ProbesData) -> Vec<RunChoice> {
    let t = &d.targets;
    let http = if t.http_base_url.is_empty() {
        RunChoice {
            kind: ProbeKind::Http,
            button: "Run HTTP probe",
            plan: None,
            missing: Some("Set the API's base URL under Targets first."),
            upload_ids: Vec::new(),
        }
    } else {
        let endpoints = match t.http_endpoints.len() {
            0 => "the base URL".to_owned(),
            1 => "1 endpoint".to_owned(),
            n => format!("{n} endpoints"),
        };
        RunChoice {
            kind: ProbeKind::Http,
            button: "Run HTTP probe",
            plan: Some(format!(
                "{}: times {endpoints} at {} requests/s for {} s each, then checks headers, TLS, errors and the API's design.",
                t.http_base_url, t.http_rate, t.http_duration_secs
            )),
            missing: None,
            upload_ids: Vec::new(),
        }
    };
    let postgres = RunChoice {
        kind: ProbeKind::Postgres,
        button: "Run database probe",
        plan: t.postgres_set.then(|| {
            format!(
                "{}: settings, indexes, bloat and the slowest statements, read-only.",
                t.postgres_label
            )
        }),
        missing: (!t.postgres_set)
            .then_some("Save a PostgreSQL connection string under Targets first."),
        upload_ids: Vec::new(),
    };
    let newest_archive = d.uploads.iter().find(|u| u.kind == ProbeKind::Repository);
    let repository = RunChoice {
        kind: ProbeKind::Repository,
        button: "Run repository probe",
        plan: match newest_archive {
            Some(u) => Some(format!(
                "Reads the newest uploaded archive, {}.",
                u.file_name
            )),
            None if !t.repository_url.is_empty() => Some(format!("Clones {}.", t.repository_url)),
            None => None,
        },
        missing: (newest_archive.is_none() && t.repository_url.is_empty()).then_some(
            "Set a repository URL under Targets, or upload an archive under Uploads, first.",
        ),
        upload_ids: newest_archive.map(|u| vec![u.id]).unwrap_or_default(),
    };
    let has_logs = d.uploads.iter().any(|u| u.kind == ProbeKind::Logs);
    let logs = RunChoice {
        kind: ProbeKind::Logs,
        button: "Import logs",
        plan: has_logs.then(|| "Reads the log files ticked below.".to_owned()),
        missing: (!has_logs)
            .then_some("Upload access logs or PostgreSQL logs under Uploads first."),
        upload_ids: Vec::new(),
    };
    vec![http, postgres, repository, logs]
}

fn run_section(d: &ProbesData, ctx: Ctx) -> AnyView {
    let pending = ctx.start.pending();
    let error = action_error(ctx.start);
    let log_uploads: Vec<ProbeUpload> = d
        .uploads
        .iter()
        .filter(|u| u.kind == ProbeKind::Logs)
        .cloned()
        .collect();
    let cards = run_choices(d)
        .into_iter()
        .map(|choice| {
            let kind = choice.kind;
            let note_id = format!("run-{}-note", kind.as_str());
            let ready = choice.missing.is_none();
            let note = match (&choice.plan, choice.missing) {
                (_, Some(missing)) => view! { <p class="help run-missing" id=note_id.clone()>{missing}</p> }.into_any(),
                (Some(plan), None) => view! { <p class="help" id=note_id.clone()>{plan.clone()}</p> }.into_any(),
                (None, None) => ().into_any(),
            };
            let picker = (kind == ProbeKind::Logs && !log_uploads.is_empty()).then(|| {
                view! {
                    <fieldset class="checks log-picker">
                        <legend>"Log files"</legend>
                        {log_uploads.iter().map(|u| view! {
                            <label class="check">
                                <input type="checkbox" name="upload_ids[]" value=u.id.to_string() checked=true/>
                                <span>{u.file_name.clone()}" "<span class="muted small">{format!("({})", human_size(u.size_bytes))}</span></span>
                            </label>
                        }).collect_view()}
                    </fieldset>
                }
            });
            view! {
                <div class="probe-kind" data-testid=format!("run-{}", kind.as_str())>
                    <h3>{kind.label()}</h3>
                    {note}
                    <ActionForm action=ctx.start>
                        <input type="hidden" name="engagement_id" value=ctx.engagement_id/>
                        <input type="hidden" name="kind" value=kind.as_str()/>
                        {choice.upload_ids.iter().map(|id| view! {
                            <input type="hidden" name="upload_ids[]" value=id.to_string()/>
                        }).collect_view()}
                        {picker}
                        <button type="submit" aria-describedby=note_id disabled=move || !ready || pending.get()>
                            {choice.button}
                        </button>
                    </ActionForm>
                </div>
            }
        })
        .collect_view();
    view! {
        <section class="card" id="run" aria-labelledby="run-heading">
            <h2 id="run-heading">"Run a probe"</h2>
            <p class="muted small">"A run goes to the background; its progress shows under Runs, and you can cancel it there."</p>
            <ProblemBanner error/>
            <div class="probe-kinds">{cards}</div>
        </section>
    }
    .into_any()
}

// ---------------------------------------------------------------------------------------------
// Runs

/// What a run card shows; a card is rebuilt only when this changes.
type RunKey = (i64, RunStatus, i64, i64, String, bool, [i64; 4]);

fn run_key(r: &ProbeRun) -> RunKey {
    (
        r.id,
        r.status,
        r.progress_done,
        r.progress_total,
        r.progress_label.clone(),
        r.cancel_requested,
        [r.passed, r.warned, r.failed, r.could_not_run],
    )
}

fn runs_section(
    base: Vec<ProbeRun>,
    ctx: Ctx,
    run_param: Memo<Option<i64>>,
    poll_error: RwSignal<Option<String>>,
) -> AnyView {
    // Plain closures, not derived signals: `live` is set when fresh page data arrives, which
    // can reach this view's effects just as the reload disposes the view; a closure holds no
    // reactive storage that could be gone by then.
    let live = ctx.live;
    let base = Arc::new(base);
    let runs = move || live.get().unwrap_or_else(|| base.as_ref().clone());
    // The run whose checks show below: the one asked for, else the newest one with checks (the
    // server picks the same for `shown_probe_run`).
    let shown_id = {
        let runs = runs.clone();
        move || {
            run_param
                .get()
                .or_else(|| runs().iter().find(|r| has_checks(r.status)).map(|r| r.id))
        }
    };
    let each = runs.clone();
    let cancel_error = action_error(ctx.cancel);
    view! {
        <section class="card" id="runs" aria-labelledby="runs-heading">
            <h2 id="runs-heading">"Runs"</h2>
            {move || poll_error.get().map(|e| view! {
                <p class="banner error" role="alert">"The progress could not be refreshed: "{e}" Trying again…"</p>
            })}
            <ErrorBanner error=cancel_error/>
            {move || runs().is_empty().then(|| view! {
                <p class="muted" data-testid="runs-empty">
                    "No runs yet. Fill in a target above and press its Run button; the run's progress shows here."
                </p>
            })}
            <ol class="run-list" data-testid="runs">
                <For each=each key=run_key children=move |run| run_card(run, ctx, shown_id.clone())/>
            </ol>
        </section>
    }
    .into_any()
}

fn count_line(r: &ProbeRun) -> Option<AnyView> {
    if r.passed + r.warned + r.failed + r.could_not_run == 0 {
        return None;
    }
    let parts = [
        (CheckStatus::Fail, r.failed),
        (CheckStatus::Warn, r.warned),
        (CheckStatus::Pass, r.passed),
        (CheckStatus::CouldNotRun, r.could_not_run),
    ];
    Some(
        view! {
            <ul class="run-counts" aria-label="Checks by result" data-testid="run-counts">
                {parts.into_iter().map(|(status, n)| view! {
                    <li class=format!("count {}", status.as_str())>
                        <strong>{n}</strong>" "{status.label().to_lowercase()}
                    </li>
                }).collect_view()}
            </ul>
        }
        .into_any(),
    )
}

fn run_card(
    run: ProbeRun,
    ctx: Ctx,
    shown_id: impl Fn() -> Option<i64> + Clone + Send + Sync + 'static,
) -> AnyView {
    let is_shown = {
        let run_id = run.id;
        move || shown_id() == Some(run_id)
    };
    let run_id = run.id;
    let active = run.status.is_active();
    let name = format!("{} run #{}", run.kind.label(), run.id);
    let progress = active.then(|| {
        let progress_id = format!("run-{run_id}-progress");
        let label = if run.progress_label.trim().is_empty() {
            if run.status == RunStatus::Queued {
                "Waiting for a worker…".to_owned()
            } else {
                "Starting…".to_owned()
            }
        } else {
            run.progress_label.clone()
        };
        let known = run.progress_total > 0;
        let step = known.then(|| format!(" · {} of {}", run.progress_done, run.progress_total));
        view! {
            <div class="run-progress">
                <label for=progress_id.clone()>{label}<span class="muted">{step}</span></label>
                <progress id=progress_id data-testid="run-progress"
                    max=known.then_some(run.progress_total) value=known.then_some(run.progress_done)>
                    {known.then(|| format!("{} of {}", run.progress_done, run.progress_total))}
                </progress>
            </div>
        }
    });
    let cancel = active.then(|| {
        let stopping = run.cancel_requested;
        let name = name.clone();
        view! {
            <ActionForm action=ctx.cancel attr:class="inline">
                <input type="hidden" name="engagement_id" value=ctx.engagement_id/>
                <input type="hidden" name="run_id" value=run_id/>
                <button type="submit" class="secondary" disabled=stopping>
                    {if stopping { "Stopping…" } else { "Cancel" }}
                    <span class="visually-hidden">" "{name.clone()}</span>
                </button>
            </ActionForm>
        }
    });
    let show = has_checks(run.status).then(|| {
        let href = ctx.page_href(&format!("?run={run_id}"), "checks");
        view! {
            <a href=href aria-current={ let shown = is_shown.clone(); move || shown().then_some("true") }>
                {let shown = is_shown.clone(); move || if shown() { "Checks shown below" } else { "Show checks" }}
                <span class="visually-hidden">" of "{name.clone()}</span>
            </a>
        }
    });
    let finished = run
        .finished_at
        .map(|at| format!(" · finished {}", format_time(at)));
    let error = run
        .error
        .clone()
        .map(|e| view! { <p class="field-error run-error">{e}</p> });
    let timed_out = (run.status == RunStatus::TimedOut).then(
        || view! { <p class="help">"It hit its time limit; the checks it finished are kept."</p> },
    );
    view! {
        <li class=move || if is_shown() { "probe-run shown" } else { "probe-run" }
            id=format!("run-{run_id}") data-testid="probe-run" data-run-id=run_id data-status=run.status.as_str()>
            <div class="run-head">
                <h3>{name.clone()}</h3>
                <span class=format!("pill {}", run.status.as_str()) data-testid="run-status">{run.status.label()}</span>
            </div>
            <p class="muted small run-meta">
                <span class="run-target">{run.target.clone()}</span>
                " · started by "{run.started_by.clone()}" · "{format_time(run.created_at)}{finished}
            </p>
            {progress}
            {count_line(&run)}
            {error}
            {timed_out}
            <div class="run-actions">{cancel}{show}</div>
        </li>
    }
    .into_any()
}

// ---------------------------------------------------------------------------------------------
// A run's checks

fn checks_section(ctx: Ctx, any_runs: bool) -> AnyView {
    let shown = ctx.shown;
    view! {
        <section class="card" id="checks" aria-labelledby="checks-heading" data-testid="checks">
            <Transition fallback=|| view! { <h2 id="checks-heading">"Checks"</h2><p class="muted">"Loading the checks…"</p> }>
                {move || Suspend::new(async move {
                    match shown.await {
                        Err(e) if e.is_not_found() => view! {
                            <h2 id="checks-heading">"Checks"</h2>
                            <p class="muted">"That run is not in this engagement. "
                                <a href=ctx.page_href("", "checks")>"Show the newest run's checks"</a></p>
                        }.into_any(),
                        Err(e) => view! {
                            <h2 id="checks-heading">"Checks"</h2>
                            <div class="banner error" role="alert"><p>{e.message}</p></div>
                        }.into_any(),
                        Ok(None) => view! {
                            <h2 id="checks-heading">"Checks"</h2>
                            <p class="muted" data-testid="checks-empty">
                                {if any_runs {
                                    "No run has finished with checks yet; they show here once one does."
                                } else {
                                    "No checks yet. Run a probe above; its checks show here, worst first."
                                }}
                            </p>
                        }.into_any(),
                        Ok(Some(detail)) => run_checks(detail, ctx),
                    }
                })}
            </Transition>
        </section>
    }
    .into_any()
}

fn run_checks(detail: ProbeRunDetail, ctx: Ctx) -> AnyView {
    let run = detail.run;
    let heading = format!("Checks of {} run #{}", run.kind.label(), run.id);
    if run.status.is_active() {
        return view! {
            <h2 id="checks-heading">{heading}</h2>
            <p class="muted">"This run is still going; its checks show here when it finishes."</p>
        }
        .into_any();
    }
    let meta = format!(
        "{} · {} · {}",
        run.status.label(),
        run.target,
        format_time(run.finished_at.unwrap_or(run.created_at))
    );
    let changed = detail
        .checks
        .iter()
        .filter(|c| c.previous_status.is_some_and(|p| p != c.result.status))
        .count();
    let body = if detail.checks.is_empty() {
        view! {
            <p class="muted">
                {match run.status {
                    RunStatus::Failed => "The run stopped before any check finished; the error is shown on the run above.",
                    RunStatus::Cancelled => "The run was cancelled before any check finished.",
                    _ => "This run produced no checks.",
                }}
            </p>
        }
        .into_any()
    } else {
        [
            CheckStatus::Fail,
            CheckStatus::Warn,
            CheckStatus::Pass,
            CheckStatus::CouldNotRun,
        ]
        .into_iter()
        .filter_map(|status| {
            let group: Vec<StoredCheck> = detail
                .checks
                .iter()
                .filter(|c| c.result.status == status)
                .cloned()
                .collect();
            (!group.is_empty()).then(|| check_group(status, group))
        })
        .collect_view()
        .into_any()
    };
    let back = ctx.page_href("", "runs");
    view! {
        <h2 id="checks-heading">{heading}</h2>
        <p class="muted small">{meta}
            {(changed > 0).then(|| format!(" · {changed} changed since the previous run"))}
            " · "<a href=back>"All runs"</a>
        </p>
        {body}
    }
    .into_any()
}

fn status_icon(status: CheckStatus) -> &'static str {
    match status {
        CheckStatus::Pass => "✓",
        CheckStatus::Warn => "!",
        CheckStatus::Fail => "✗",
        CheckStatus::CouldNotRun => "–",
    }
}

fn check_badge(status: CheckStatus) -> AnyView {
    view! {
        <span class=format!("check-badge {}", status.as_str())>
            <span aria-hidden="true">{status_icon(status)}" "</span>{status.label()}
        </span>
    }
    .into_any()
}

fn check_group(status: CheckStatus, group: Vec<StoredCheck>) -> AnyView {
    let heading_id = format!("checks-{}", status.as_str());
    let labelled_by = heading_id.clone();
    let n = group.len();
    view! {
        <section class="check-group" aria-labelledby=labelled_by data-testid=format!("checks-{}", status.as_str())>
            <h3 id=heading_id>{check_badge(status)}<span class="muted small">{if n == 1 { " 1 check".to_owned() } else { format!(" {n} checks") }}</span></h3>
            <div class="table-wrap">
                <table class="stack-table checks-table">
                    <thead>
                        <tr>
                            <th scope="col">"Check"</th>
                            <th scope="col">"What was seen"</th>
                            <th scope="col">"Rule"</th>
                        </tr>
                    </thead>
                    <tbody>
                        {group.into_iter().map(check_row).collect_view()}
                    </tbody>
                </table>
            </div>
        </section>
    }
    .into_any()
}

fn check_row(c: StoredCheck) -> AnyView {
    let r = c.result;
    let changed = c.previous_status.filter(|p| *p != r.status).map(|p| {
        view! {
            <p class="changed" data-testid="check-changed">
                "Changed since the previous run: "{p.label()}" → "{r.status.label()}
            </p>
        }
    });
    // A could-not-run summary usually says why already ("Could not run: …").
    let why = r
        .why
        .clone()
        .filter(|why| r.status == CheckStatus::CouldNotRun && !r.summary.contains(why.as_str()))
        .map(|why| view! { <p class="small"><strong>"Why: "</strong>{why}</p> });
    let evidence = (!r.evidence.is_empty()).then(|| {
        let n = r.evidence.len();
        view! {
            <details class="check-evidence">
                <summary>{if n == 1 { "Evidence (1 line)".to_owned() } else { format!("Evidence ({n} lines)") }}</summary>
                <ul>
                    {r.evidence.iter().map(|line| view! { <li><code>{line.clone()}</code></li> }).collect_view()}
                </ul>
            </details>
        }
    });
    view! {
        <tr id=format!("check-{}", r.id) class=format!("check {}", r.status.as_str())
            data-testid="check" data-check-id=r.id.clone() data-status=r.status.as_str()>
            <td data-label="Check">
                <strong class="check-title">{r.title.clone()}</strong>
                <span class="check-id"><code>{r.id.clone()}</code>" · "{r.area.label()}</span>
                {changed}
            </td>
            <td data-label="What was seen">
                <span class="check-status-inline">{check_badge(r.status)}</span>
                <p class="check-summary">{r.summary.clone()}</p>
                {why}
                {evidence}
            </td>
            <td data-label="Rule">
                <p class="small">{r.threshold.clone()}</p>
                <p class="muted small">"Source: "{r.source.clone()}</p>
            </td>
        </tr>
    }
    .into_any()
}

// ---------------------------------------------------------------------------------------------
// Claimed versus observed

fn verdict_icon(verdict: Verdict) -> &'static str {
    match verdict {
        Verdict::Contradicts => "⚠",
        Verdict::Confirms => "✓",
        Verdict::BetterThanClaimed => "↑",
        Verdict::Settles => "•",
    }
}

fn claims_section(engagement_id: i64, claims: Vec<ClaimComparison>, any_runs: bool) -> AnyView {
    let body = if claims.is_empty() {
        view! {
            <p class="muted" data-testid="claims-empty">
                "Run a probe to compare the answers with evidence."
                {any_runs.then_some(" None of the checks that ran so far bears on a question of the questionnaire.")}
            </p>
        }
        .into_any()
    } else {
        let tally = [
            Verdict::Contradicts,
            Verdict::Settles,
            Verdict::BetterThanClaimed,
            Verdict::Confirms,
        ]
        .into_iter()
        .filter_map(|v| {
            let n = claims.iter().filter(|c| c.verdict == v).count();
            (n > 0).then(|| format!("{n} {}", v.label().to_lowercase()))
        })
        .collect::<Vec<_>>()
        .join(" · ");
        view! {
            <p class="muted small">{tally}</p>
            <div class="table-wrap">
                <table class="stack-table claims-table">
                    <thead>
                        <tr>
                            <th scope="col">"Question"</th>
                            <th scope="col">"Founders' answer"</th>
                            <th scope="col">"Observed"</th>
                            <th scope="col">"Verdict"</th>
                            <th scope="col">"Checks"</th>
                        </tr>
                    </thead>
                    <tbody>
                        {claims.into_iter().map(|c| claim_row(engagement_id, c)).collect_view()}
                    </tbody>
                </table>
            </div>
        }
        .into_any()
    };
    view! {
        <section class="card" id="claims" aria-labelledby="claims-heading">
            <h2 id="claims-heading">"Claimed versus observed"</h2>
            <p class="muted small">
                "Each question whose checks ran, beside what the founders answered. A “yes” the checks "
                "fail or warn on is contradicted; a “don't know” is settled by the evidence."
            </p>
            {body}
        </section>
    }
    .into_any()
}

fn claim_row(engagement_id: i64, c: ClaimComparison) -> AnyView {
    let question_href = format!(
        "/engagements/{engagement_id}/questionnaire?area={}#q-{}",
        c.area.as_str(),
        c.question_id
    );
    let answer = match c.claimed {
        Some(choice) => {
            view! { <span class=format!("answer-chip {}", choice.as_str())>{choice.label()}</span> }
                .into_any()
        }
        None => view! { <span class="answer-chip none">"Not answered"</span> }.into_any(),
    };
    let verdict = c.verdict;
    let checks = c
        .checks
        .iter()
        .map(|check| {
            let href = format!(
                "/engagements/{engagement_id}/probes?run={}#check-{}",
                check.run_id, check.id
            );
            view! {
                <li>
                    {check_badge(check.status)}" "
                    <a href=href>{check.title.clone()}</a>" "<code class="small">{check.id.clone()}</code>
                    <span class="small muted">" — "{check.summary.clone()}</span>
                </li>
            }
        })
        .collect_view();
    view! {
        <tr class=format!("claim {}", verdict.as_str()) data-testid="claim"
            data-question-id=c.question_id.clone() data-verdict=verdict.as_str()>
            <td data-label="Question">
                <a href=question_href class="claim-prompt">{c.prompt.clone()}</a>
                <span class="muted small claim-area">" "{c.area.label()}</span>
                {c.red_flag.then(|| view! { <span class="red-flag-badge">"Red flag"</span> })}
            </td>
            <td data-label="Founders' answer" class="claim-fact">{answer}</td>
            <td data-label="Observed" class="claim-fact">{check_badge(c.observed)}</td>
            <td data-label="Verdict" class="claim-fact">
                <span class=format!("verdict-badge {}", verdict.as_str()) data-testid="verdict">
                    <span aria-hidden="true">{verdict_icon(verdict)}" "</span>{verdict.label()}
                </span>
            </td>
            <td data-label="Checks"><ul class="claim-checks">{checks}</ul></td>
        </tr>
    }
    .into_any()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_targets_form_reads_lines_and_numbers() {
        let form = TargetsForm {
            http_base_url: " https://api.example.com ".into(),
            http_endpoints: "/a\n\n  /b  \r\n".into(),
            http_rate: "".into(),
            http_duration_secs: " 30 ".into(),
            clear_postgres: Some("true".into()),
            version: 3,
            ..TargetsForm::default()
        };
        let input = form.parse().unwrap_or_default();
        assert_eq!(input.http_base_url, "https://api.example.com");
        assert_eq!(input.http_endpoints, vec!["/a", "/b"]);
        assert_eq!(input.http_rate, None);
        assert_eq!(input.http_duration_secs, Some(30));
        assert!(input.clear_postgres);
        assert_eq!(input.version, 3);
    }

    #[test]
    fn numbers_that_are_not_whole_are_named_on_their_field() {
        let form = TargetsForm {
            http_rate: "fast".into(),
            http_duration_secs: "-1".into(),
            ..TargetsForm::default()
        };
        let fields: Vec<String> = form
            .parse()
            .err()
            .unwrap_or_default()
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(fields, vec!["http_rate", "http_duration_secs"]);
    }

    #[test]
    fn the_stored_targets_fill_the_form_without_the_connection_string() {
        let targets = ProbeTargets {
            http_endpoints: vec!["/a".into(), "/b".into()],
            http_rate: 5,
            http_duration_secs: 20,
            postgres_set: true,
            postgres_label: "db:5432/app".into(),
            version: 2,
            ..ProbeTargets::default()
        };
        let form = TargetsForm::from_targets(&targets);
        assert_eq!(form.http_endpoints, "/a\n/b");
        assert_eq!(form.http_rate, "5");
        assert!(form.postgres_url.is_empty());
        assert_eq!(form.version, 2);
    }

    #[test]
    fn sizes_read_in_bytes_kilobytes_and_megabytes() {
        assert_eq!(human_size(820), "820 B");
        assert_eq!(human_size(14_540), "14.2 KB");
        assert_eq!(human_size(3 * 1024 * 1024 + 100_000), "3.1 MB");
    }
}
