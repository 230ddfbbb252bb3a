//! The written report: the consultant's page (the draft's settings with a live preview, issuing
//! frozen versions, their digests and verification, sharing with the founders) and the founder's
//! read-only page. The files themselves are plain HTTP routes of the server
//! (`server/src/report_files.rs`): `/engagements/{id}/report/{draft|vN}.{pdf|md|html}` and
//! `/questionnaire/report/vN.{pdf|md|html}`.
use std::time::Duration;

use audit::interventions::MAX_CAPACITY;
use audit::reports::{
    ReportDraft, ReportDraftInput, ReportFormat, ReportVersion, Verification, VersionStatus,
    MAX_SUMMARY_CHARS,
};
use leptos::prelude::*;
use leptos_meta::Title;
use serde::{Deserialize, Serialize};

use crate::components::{action_error, format_time, ErrorBanner, FieldMessage, LoadError};
use crate::error::UiError;
use crate::pages::findings::{engagement_head, engagement_id_param, notice_banner, on_success};

#[cfg(feature = "ssr")]
use crate::state::{app_state, current_founder, current_member, fail};

/// How often the page asks for the versions' progress while one is rendering.
const POLL_EVERY: Duration = Duration::from_secs(1);

/// The consultant's page: the engagement's names and the draft.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportPageData {
    pub engagement_id: i64,
    pub client_name: String,
    pub system_name: String,
    pub draft: ReportDraft,
}

/// A version shared with the founders.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SharedVersion {
    pub number: i64,
    pub created_at: i64,
    pub issued_by: String,
    pub shared_at: Option<i64>,
}

/// The founder's page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FounderReportData {
    pub client_name: String,
    pub firm_name: String,
    /// Newest first.
    pub versions: Vec<SharedVersion>,
}

#[server(prefix = "/fn", endpoint = "load_report_page")]
pub async fn load_report_page(engagement_id: i64) -> Result<ReportPageData, UiError> {
    let member = current_member().await?;
    let state = app_state()?;
    let engagement = audit::engagements::get(&state.db, member.firm_id, engagement_id)
        .await
        .map_err(fail)?;
    let draft = audit::reports::draft(&state.db, &member, engagement_id)
        .await
        .map_err(fail)?;
    Ok(ReportPageData {
        engagement_id,
        client_name: engagement.client_name,
        system_name: engagement.system_name,
        draft,
    })
}

/// The issued versions, newest first (also what the page polls while one renders).
#[server(prefix = "/fn", endpoint = "report_versions")]
pub async fn report_versions(engagement_id: i64) -> Result<Vec<ReportVersion>, UiError> {
    let member = current_member().await?;
    let state = app_state()?;
    // The newest 100: an engagement issues a handful of versions, not pages of them.
    let versions =
        audit::reports::list_versions(&state.db, member.firm_id, engagement_id, None, 100)
            .await
            .map_err(fail)?;
    Ok(versions)
}

#[server(prefix = "/fn", endpoint = "save_report_draft")]
pub async fn save_report_draft(
    engagement_id: i64,
    form: ReportDraftInput,
) -> Result<ReportDraft, UiError> {
    let member = current_member().await?;
    let state = app_state()?;
    audit::reports::save_draft(&state.db, &member, engagement_id, &form)
        .await
        .map_err(fail)
}

#[server(prefix = "/fn", endpoint = "issue_report")]
pub async fn issue_report(engagement_id: i64) -> Result<ReportVersion, UiError> {
    let member = current_member().await?;
    let state = app_state()?;
    audit::reports::issue(&state.db, &member, engagement_id)
        .await
        .map_err(fail)
}

#[server(prefix = "/fn", endpoint = "verify_report")]
pub async fn verify_report(engagement_id: i64, number: i64) -> Result<Verification, UiError> {
    let member = current_member().await?;
    let state = app_state()?;
    audit::reports::verify(&state.db, member.firm_id, engagement_id, number)
        .await
        .map_err(fail)
}

/// Shares a version with the founders (`notify` is the checkbox: any value means "e-mail them")
/// or stops sharing it.
#[server(prefix = "/fn", endpoint = "share_report")]
pub async fn share_report(
    engagement_id: i64,
    number: i64,
    shared: bool,
    notify: Option<String>,
) -> Result<ReportVersion, UiError> {
    let member = current_member().await?;
    let state = app_state()?;
    let notify = shared && notify.is_some_and(|n| !n.is_empty());
    audit::reports::share(
        &state.db,
        &member,
        engagement_id,
        number,
        shared,
        notify,
        &state.base_url,
    )
    .await
    .map_err(fail)
}

/// The versions shared with the founder of this session; the engagement is the session's,
/// never one named by the browser.
#[server(prefix = "/fn", endpoint = "founder_reports")]
pub async fn founder_reports() -> Result<FounderReportData, UiError> {
    let founder = current_founder().await?;
    let state = app_state()?;
    let versions = audit::reports::shared_versions(&state.db, &founder)
        .await
        .map_err(fail)?;
    Ok(FounderReportData {
        client_name: founder.client_name,
        firm_name: founder.firm_name,
        versions: versions
            .into_iter()
            .map(|v| SharedVersion {
                number: v.number,
                created_at: v.created_at,
                issued_by: v.issued_by,
                shared_at: v.shared_at,
            })
            .collect(),
    })
}

// ---------------------------------------------------------------------------------------------
// The consultant's page

/// The first 12 hex digits of a digest, for tables.
fn short_sha(sha: &str) -> String {
    let head: String = sha.chars().take(12).collect();
    format!("{head}…")
}

/// What the page's parts reach (all `Copy`).
#[derive(Clone, Copy)]
struct Ctx {
    engagement_id: i64,
    versions: Resource<Result<Vec<ReportVersion>, UiError>>,
    /// The versions as the last poll saw them; `None` shows those of `versions`.
    live: RwSignal<Option<Vec<ReportVersion>>>,
    notice: RwSignal<Option<String>>,
    issue: ServerAction<IssueReport>,
    verify: ServerAction<VerifyReport>,
    share: ServerAction<ShareReport>,
}

impl Ctx {
    /// Puts a version the server just answered with into the shown list (newest first), so the
    /// table changes at once without asking for every version again.
    fn merge(self, row: ReportVersion) {
        let mut rows = self
            .live
            .get_untracked()
            .or_else(|| self.versions.get_untracked().and_then(Result::ok))
            .unwrap_or_default();
        match rows.iter_mut().find(|r| r.number == row.number) {
            Some(existing) => *existing = row,
            None => {
                rows.push(row);
                rows.sort_by_key(|r| std::cmp::Reverse(r.number));
            }
        }
        self.live.set(Some(rows));
    }

    fn file_href(self, name: &str, download: bool) -> String {
        let query = if download { "?download=1" } else { "" };
        format!("/engagements/{}/report/{name}{query}", self.engagement_id)
    }
}

#[component]
pub fn ReportPage() -> impl IntoView {
    let id = engagement_id_param();
    let data = Resource::new(id, load_report_page);
    let versions = Resource::new(id, report_versions);
    let save = ServerAction::<SaveReportDraft>::new();
    let live = RwSignal::new(None::<Vec<ReportVersion>>);
    let notice = RwSignal::new(None::<String>);
    let ctx = Ctx {
        // Set from the loaded data in `report_view` (the route's id can change under the page).
        engagement_id: -1,
        versions,
        live,
        notice,
        issue: ServerAction::new(),
        verify: ServerAction::new(),
        share: ServerAction::new(),
    };
    // Another engagement's page (the route's id changed) starts from its own versions.
    Effect::new(move |previous: Option<i64>| {
        let current = id();
        if previous.is_some_and(|p| p != current) {
            live.set(None);
        }
        current
    });
    on_success(save, move |d: ReportDraft| {
        notice.set(Some(format!(
            "Draft saved (edit {}). The preview below shows it.",
            d.version
        )));
    });
    on_success(ctx.issue, move |v: ReportVersion| {
        notice.set(Some(format!(
            "v{} issued. Its files are being rendered; they show below when ready.",
            v.number
        )));
        ctx.merge(v);
    });
    on_success(ctx.share, move |v: ReportVersion| {
        notice.set(Some(if v.shared_with_founders {
            format!("v{} is shared with the founders.", v.number)
        } else {
            format!("v{} is no longer shared with the founders.", v.number)
        }));
        ctx.merge(v);
    });
    let poll_error = poll_while_rendering(ctx, id);
    view! {
        <Transition fallback=|| view! { <p class="muted">"Loading the report…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Err(e) => view! { <LoadError error=e/> }.into_any(),
                    Ok(d) => report_view(d, ctx, save, data, poll_error),
                }
            })}
        </Transition>
    }
}

/// While any version renders, asks for the versions every second (in the browser only: effects
/// do not run on the server). Returns the last poll's error, if it failed.
fn poll_while_rendering(
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
        let rows = ctx
            .live
            .get()
            .or_else(|| ctx.versions.get().and_then(Result::ok));
        let rendering = rows
            .iter()
            .flatten()
            .any(|v| v.status == VersionStatus::Rendering);
        stop();
        if !rendering {
            return;
        }
        let engagement_id = untrack(engagement_id);
        let handle = set_timeout_with_handle(
            move || {
                leptos::task::spawn_local(async move {
                    match report_versions(engagement_id).await {
                        Ok(rows) => {
                            let _ = poll_error.try_set(None);
                            let _ = ctx.live.try_set(Some(rows));
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

fn report_view(
    d: ReportPageData,
    ctx: Ctx,
    save: ServerAction<SaveReportDraft>,
    data: Resource<Result<ReportPageData, UiError>>,
    poll_error: RwSignal<Option<String>>,
) -> AnyView {
    let id = d.engagement_id;
    let ctx = Ctx {
        engagement_id: id,
        ..ctx
    };
    view! {
        <Title text=format!("Report · {}", d.client_name)/>
        {engagement_head(id, d.client_name.clone(), d.system_name.clone(), "report")}
        <h2 class="report-title">"Report"</h2>
        <p class="muted report-intro">
            "The written report for the founders: the scores, what the probes saw, the findings, the "
            "interventions in order and the roadmap, the decisions and the answers, as PDF, Markdown and "
            "HTML. Write the executive summary, check the preview, then issue a version: an issued "
            "version is frozen, hashed and can be shared with the founders."
        </p>
        {notice_banner(ctx.notice)}
        <div class="report-layout">
            {draft_section(d.draft, ctx, save, data)}
            {preview_section(ctx, save)}
        </div>
        {versions_section(ctx, poll_error)}
    }
    .into_any()
}

fn draft_section(
    draft: ReportDraft,
    ctx: Ctx,
    save: ServerAction<SaveReportDraft>,
    data: Resource<Result<ReportPageData, UiError>>,
) -> AnyView {
    let id = ctx.engagement_id;
    let error = action_error(save);
    let pending = save.pending();
    let conflict = move || error.get().is_some_and(|e| e.code == "conflict");
    // A reload (after a refused stale save) rebuilds this form in place: `prop:value` puts the
    // stored text into fields the person already typed in, which the attribute alone would not.
    // Field messages go under their fields; the banner is for the rest (a stale draft, say).
    let general = Signal::derive(move || error.get().filter(|e| e.fields.is_empty()));
    // The newest saved edit: the next save replaces it. A reload brings a version at least as new.
    let initial_version = draft.version;
    let version = move || {
        save.value()
            .get()
            .and_then(|r| r.ok())
            .map_or(initial_version, |d| d.version.max(initial_version))
    };
    let invalid =
        move |field: &'static str| move || error.get().and_then(|e| e.field(field)).map(|_| "true");
    let reload = move |_: leptos::ev::MouseEvent| {
        save.clear();
        ctx.notice.set(None);
        data.refetch();
    };
    view! {
        <section class="card report-draft" id="draft" aria-labelledby="draft-heading">
            <h2 id="draft-heading">"Draft"</h2>
            <ActionForm action=save attr:class="report-draft-form">
                <input type="hidden" name="engagement_id" value=id/>
                <input type="hidden" name="form[version]" value=version/>
                <label for="report-summary">"Executive summary (Markdown)"</label>
                <textarea id="report-summary" name="form[summary]" rows="10"
                    maxlength=MAX_SUMMARY_CHARS.to_string()
                    aria-describedby="report-summary-help summary-error"
                    aria-invalid=invalid("summary")
                    prop:value=draft.summary.clone()>{draft.summary.clone()}</textarea>
                <p class="help" id="report-summary-help">
                    "A page for the founders: what you found, what to do first and why. It opens the report; "
                    "the scores, findings and interventions follow by themselves."
                </p>
                <FieldMessage error field="summary"/>
                <div class="row">
                    <div>
                        <label for="report-capacity">"Engineers on the roadmap"</label>
                        <input id="report-capacity" name="form[roadmap_capacity]" type="number" min="1"
                            max=MAX_CAPACITY.to_string() step="1" inputmode="numeric" required
                            value=draft.roadmap_capacity.to_string()
                            prop:value=draft.roadmap_capacity.to_string()
                            aria-describedby="roadmap_capacity-error"
                            aria-invalid=invalid("roadmap_capacity")/>
                        <FieldMessage error field="roadmap_capacity"/>
                    </div>
                    <div>
                        <label for="report-start">"Roadmap starts"</label>
                        <input id="report-start" name="form[roadmap_start]" type="date"
                            value=draft.roadmap_start.clone()
                            prop:value=draft.roadmap_start.clone()
                            aria-describedby="report-start-help roadmap_start-error"
                            aria-invalid=invalid("roadmap_start")/>
                        <p class="help" id="report-start-help">"Empty: the day the report is rendered."</p>
                        <FieldMessage error field="roadmap_start"/>
                    </div>
                </div>
                <ErrorBanner error=general/>
                {move || conflict().then(|| view! {
                    <p class="help">"Reloading shows their version in the form; copy anything you typed that you want to keep first."</p>
                    <button type="button" class="secondary" on:click=reload>"Reload the draft"</button>
                })}
                <div class="actions">
                    <button type="submit" disabled=move || pending.get()>
                        {move || if pending.get() { "Saving…" } else { "Save draft" }}
                    </button>
                </div>
            </ActionForm>
        </section>
    }
    .into_any()
}

fn preview_section(ctx: Ctx, save: ServerAction<SaveReportDraft>) -> AnyView {
    // The saved edit's number makes a new address after each save, so the frame loads again.
    let src = move || {
        let base = ctx.file_href("draft.html", false);
        match save.value().get().and_then(|r| r.ok()) {
            Some(d) => format!("{base}?edit={}", d.version),
            None => base,
        }
    };
    let downloads = [
        ("draft.pdf", "Download draft PDF"),
        ("draft.md", "Markdown"),
        ("draft.html", "HTML"),
    ];
    view! {
        <section class="card report-preview" id="preview" aria-labelledby="preview-heading">
            <h2 id="preview-heading">"Preview"</h2>
            <p class="muted small">"The draft as it stands now, with today's scores, findings and interventions. It reloads after each save."</p>
            <iframe title="Report preview" src=src class="report-frame" sandbox="allow-same-origin"></iframe>
            <p class="report-downloads">
                {downloads.into_iter().map(|(file, label)| view! {
                    <a href=ctx.file_href(file, true) download rel="external">{label}</a>
                }).collect_view()}
            </p>
            <p class="help">"Typesetting the PDF takes a second or so."</p>
        </section>
    }
    .into_any()
}

/// What a row shows; a row is rebuilt only when this changes.
type RowKey = (i64, VersionStatus, i64, String, bool, Option<i64>);

fn row_key(v: &ReportVersion) -> RowKey {
    (
        v.number,
        v.status,
        v.progress,
        v.progress_label.clone(),
        v.shared_with_founders,
        v.shared_at,
    )
}

fn versions_section(ctx: Ctx, poll_error: RwSignal<Option<String>>) -> AnyView {
    let versions = ctx.versions;
    let issue_error = action_error(ctx.issue);
    let verify_error = action_error(ctx.verify);
    let share_error = action_error(ctx.share);
    view! {
        <section class="card report-versions" id="versions" aria-labelledby="versions-heading">
            <h2 id="versions-heading">"Versions"</h2>
            <ErrorBanner error=issue_error/>
            <ErrorBanner error=verify_error/>
            <ErrorBanner error=share_error/>
            {move || poll_error.get().map(|e| view! {
                <p class="banner error" role="alert">"The progress could not be refreshed: "{e}" Trying again…"</p>
            })}
            <Transition fallback=|| view! { <p class="muted">"Loading the versions…"</p> }>
                {move || Suspend::new(async move {
                    match versions.await {
                        Err(e) => view! {
                            <div class="banner error" role="alert"><p>{e.message}</p></div>
                        }.into_any(),
                        Ok(base) => versions_body(base, ctx),
                    }
                })}
            </Transition>
        </section>
    }
    .into_any()
}

fn versions_body(base: Vec<ReportVersion>, ctx: Ctx) -> AnyView {
    let live = ctx.live;
    let rows = move || live.get().unwrap_or_else(|| base.clone());
    let next = {
        let rows = rows.clone();
        move || rows().iter().map(|v| v.number).max().unwrap_or(0) + 1
    };
    let empty = {
        let rows = rows.clone();
        move || rows().is_empty()
    };
    let is_empty = empty.clone();
    let pending = ctx.issue.pending();
    let details = NodeRef::<leptos::html::Details>::new();
    on_success(ctx.issue, move |_: ReportVersion| {
        if let Some(d) = details.get_untracked() {
            d.set_open(false);
        }
    });
    let next_label = next.clone();
    view! {
        <details class="confirm issue-confirm" node_ref=details>
            <summary>{move || format!("Issue v{}…", next_label())}</summary>
            <p>
                "Issuing freezes the report as it stands now, as PDF, Markdown and HTML with the SHA-256 of "
                "each file. An issued version never changes: later edits go into the next version."
            </p>
            <ActionForm action=ctx.issue attr:class="inline">
                <input type="hidden" name="engagement_id" value=ctx.engagement_id/>
                <button type="submit" disabled=move || pending.get()>
                    {move || if pending.get() { "Issuing…".to_owned() } else { format!("Yes, issue v{}", next()) }}
                </button>
            </ActionForm>
        </details>
        <Show when=empty>
            <p class="muted" data-testid="versions-empty">
                "No version issued yet. Write the summary, check the preview, then issue v1."
            </p>
        </Show>
        <Show when=move || !is_empty()>
            <div class="table-wrap"><table class="versions-table stack-table">
                <thead>
                    <tr>
                        <th scope="col">"Version"</th>
                        <th scope="col">"Issued"</th>
                        <th scope="col">"Status"</th>
                        <th scope="col">"Files"</th>
                        <th scope="col">"Founders"</th>
                    </tr>
                </thead>
                <tbody>
                    <For each=rows.clone() key=row_key children=move |v| version_row_view(v, ctx)/>
                </tbody>
            </table></div>
        </Show>
    }
    .into_any()
}

fn version_row_view(v: ReportVersion, ctx: Ctx) -> AnyView {
    let number = v.number;
    let label = format!("v{number}");
    let status = match v.status {
        VersionStatus::Rendering => {
            let progress_id = format!("version-{number}-progress");
            let text = if v.progress_label.trim().is_empty() {
                "Queued".to_owned()
            } else {
                v.progress_label.clone()
            };
            view! {
                <span class="pill rendering">{v.status.label()}</span>
                <div class="version-progress">
                    <label for=progress_id.clone()>{text}</label>
                    <progress id=progress_id max="100" value=v.progress data-testid="version-progress">
                        {format!("{} %", v.progress)}
                    </progress>
                </div>
            }
            .into_any()
        }
        VersionStatus::Failed => view! {
            <span class="pill failed">{v.status.label()}</span>
            <p class="field-error">{v.error.clone()}</p>
        }
        .into_any(),
        VersionStatus::Issued => view! {
            <span class="pill issued" data-testid="version-status">{v.status.label()}</span>
        }
        .into_any(),
    };
    let files = (v.status == VersionStatus::Issued).then(|| files_cell(&v, ctx));
    let sharing = (v.status == VersionStatus::Issued).then(|| sharing_cell(&v, ctx));
    view! {
        <tr id=format!("version-{number}") data-testid="report-version" data-state=v.status.as_str()>
            <th scope="row">{label}</th>
            <td data-label="Issued">
                {format_time(v.created_at)}
                <span class="muted small">" by "{v.issued_by.clone()}</span>
            </td>
            <td data-label="Status">{status}</td>
            <td data-label="Files">{files}</td>
            <td data-label="Founders">{sharing}</td>
        </tr>
    }
    .into_any()
}

fn files_cell(v: &ReportVersion, ctx: Ctx) -> AnyView {
    let number = v.number;
    let label = format!("v{number}");
    let pending = ctx.verify.pending();
    let result = move || {
        ctx.verify
            .value()
            .get()
            .and_then(|r| r.ok())
            .filter(|r| r.number == number)
            .map(verify_result_view)
    };
    // Each file with the digest stored when it was issued.
    let files: Vec<(ReportFormat, String)> = ReportFormat::ALL
        .into_iter()
        .map(|format| (format, v.sha256(format).unwrap_or_default().to_owned()))
        .collect();
    let digests = files.clone();
    view! {
        <ul class="version-files">
            {files.into_iter().map(|(format, sha256)| {
                let href = ctx.file_href(&format!("v{number}.{}", format.extension()), true);
                view! {
                    <li>
                        <a href=href download rel="external">
                            <span class="visually-hidden">"Download "{label.clone()}" "</span>{format.label()}
                        </a>
                        " "<code class="sha" title=format!("SHA-256 {sha256}")>{short_sha(&sha256)}</code>
                    </li>
                }
            }).collect_view()}
        </ul>
        <details class="digests">
            <summary>"SHA-256 in full"</summary>
            <dl>
                {digests.into_iter().map(|(format, sha256)| view! {
                    <dt>{format!("report.{}", format.extension())}</dt>
                    <dd><code class="sha-full">{sha256}</code></dd>
                }).collect_view()}
            </dl>
        </details>
        <ActionForm action=ctx.verify attr:class="inline">
            <input type="hidden" name="engagement_id" value=ctx.engagement_id/>
            <input type="hidden" name="number" value=number/>
            <button type="submit" class="secondary" disabled=move || pending.get()>
                "Verify"<span class="visually-hidden">" "{label.clone()}</span>
            </button>
        </ActionForm>
        {result}
    }
    .into_any()
}

fn verify_result_view(r: Verification) -> AnyView {
    if r.intact {
        return view! {
            <p class="banner ok verify-result" role="status" data-testid="verify-result">
                "Intact: every file matches its SHA-256."
            </p>
        }
        .into_any();
    }
    view! {
        <div class="banner error verify-result" role="alert" data-testid="verify-result">
            <p>"Changed since it was issued:"</p>
            <ul>
                {r.files.into_iter().filter(|f| !f.matches).map(|f| view! {
                    <li>
                        <code>{f.file}</code>": stored "<code title=f.stored_sha256.clone()>{short_sha(&f.stored_sha256)}</code>
                        ", now "<code title=f.computed_sha256.clone()>{short_sha(&f.computed_sha256)}</code>
                    </li>
                }).collect_view()}
            </ul>
        </div>
    }
    .into_any()
}

fn sharing_cell(v: &ReportVersion, ctx: Ctx) -> AnyView {
    let number = v.number;
    let label = format!("v{number}");
    let pending = ctx.share.pending();
    if v.shared_with_founders {
        let since = v
            .shared_at
            .map(|at| format!("Shared since {}", format_time(at)))
            .unwrap_or_else(|| "Shared".to_owned());
        return view! {
            <p class="shared-since" data-testid="shared-since">{since}</p>
            <ActionForm action=ctx.share attr:class="inline">
                <input type="hidden" name="engagement_id" value=ctx.engagement_id/>
                <input type="hidden" name="number" value=number/>
                <input type="hidden" name="shared" value="false"/>
                <button type="submit" class="secondary" disabled=move || pending.get()>
                    "Stop sharing"<span class="visually-hidden">" "{label.clone()}</span>
                </button>
            </ActionForm>
        }
        .into_any();
    }
    let notify_id = format!("notify-{number}");
    let notify_for = notify_id.clone();
    view! {
        <ActionForm action=ctx.share attr:class="share-form">
            <input type="hidden" name="engagement_id" value=ctx.engagement_id/>
            <input type="hidden" name="number" value=number/>
            <input type="hidden" name="shared" value="true"/>
            <label class="check" for=notify_for>
                <input type="checkbox" id=notify_id name="notify" value="on"/>
                <span>"E-mail the founders (PDF attached when under 5 MB)"</span>
            </label>
            <button type="submit" disabled=move || pending.get()>
                "Share with founders"<span class="visually-hidden">" "{label.clone()}</span>
            </button>
        </ActionForm>
    }
    .into_any()
}

// ---------------------------------------------------------------------------------------------
// The founder's page

/// `/questionnaire/report`: the versions shared with the founder, the newest shown in place.
#[component]
pub fn FounderReportPage() -> impl IntoView {
    let reports = Resource::new(|| (), |_| founder_reports());
    view! {
        <Title text="Report"/>
        <Suspense fallback=|| view! { <p>"Loading the report…"</p> }>
            {move || Suspend::new(async move {
                match reports.await {
                    Ok(r) => founder_report_view(r),
                    Err(e) if e.is_unauthenticated() => view! {
                        <section class="card narrow">
                            <h1>"Open your invitation link"</h1>
                            <p>{e.message.clone()}</p>
                        </section>
                    }.into_any(),
                    Err(e) => view! { <LoadError error=e/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

fn founder_report_view(r: FounderReportData) -> AnyView {
    let href = |number: i64, extension: &str, download: bool| {
        let query = if download { "?download=1" } else { "" };
        format!("/questionnaire/report/v{number}.{extension}{query}")
    };
    let head = view! {
        <div class="page-head">
            <div>
                <h1>"Report: "{r.client_name.clone()}</h1>
                <p class="muted">"From "{r.firm_name.clone()}</p>
            </div>
            <a href="/questionnaire">"Back to the questionnaire"</a>
        </div>
    };
    let Some(newest) = r.versions.first().cloned() else {
        return view! {
            {head}
            <div class="empty card" data-testid="founder-report-empty">
                <p>"Your consultant has not shared a report yet."</p>
            </div>
        }
        .into_any();
    };
    view! {
        {head}
        <section class="card" aria-labelledby="shared-heading">
            <h2 id="shared-heading">"Versions"</h2>
            <div class="table-wrap"><table class="versions-table stack-table">
                <thead>
                    <tr>
                        <th scope="col">"Version"</th>
                        <th scope="col">"Issued"</th>
                        <th scope="col">"Download"</th>
                    </tr>
                </thead>
                <tbody>
                    {r.versions.iter().map(|v| {
                        let number = v.number;
                        let label = format!("v{number}");
                        view! {
                            <tr data-testid="shared-version">
                                <th scope="row">{label.clone()}</th>
                                <td data-label="Issued">{format_time(v.created_at)}<span class="muted small">" by "{v.issued_by.clone()}</span></td>
                                <td class="report-downloads" data-label="Download">
                                    {ReportFormat::ALL.into_iter().map(|f| view! {
                                        <a href=href(number, f.extension(), true) download rel="external">
                                            <span class="visually-hidden">"Download "{label.clone()}" "</span>{f.label()}
                                        </a>
                                    }).collect_view()}
                                </td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table></div>
        </section>
        <section class="card report-preview" aria-labelledby="newest-heading">
            <h2 id="newest-heading">{format!("v{}", newest.number)}</h2>
            <iframe title="Report" src=href(newest.number, "html", false) class="report-frame report-reading" sandbox="allow-same-origin"></iframe>
        </section>
    }
    .into_any()
}
