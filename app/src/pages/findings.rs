//! The findings of an engagement: suggested from answers, written by hand, edited.
//!
//! Also the pieces the interventions page shares: the engagement's header with its sub-pages, a
//! banner that lists every field's message, and "do this when an action succeeds".
use audit::findings::{
    Confidence, EvidenceKind, EvidenceLink, Finding, FindingInput, FindingOrigin, FindingStatus,
    Severity, MAX_MARKDOWN_CHARS, MAX_TITLE_CHARS,
};
use audit::questionnaire::Area;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Form;
use leptos_router::hooks::{use_params_map, use_query_map};
use serde::{Deserialize, Serialize};

use crate::components::{action_error, format_time, ErrorBanner, FieldMessage, LoadError};
use crate::error::UiError;

#[cfg(feature = "ssr")]
use crate::state::{app_state, current_member, fail};

/// The findings page: the engagement's names and its findings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FindingsData {
    pub engagement_id: i64,
    pub client_name: String,
    pub system_name: String,
    /// Open ones first, then by severity and number.
    pub findings: Vec<Finding>,
}

/// What "Suggest findings from answers" did (the domain's report, which is server-only).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SuggestedFindings {
    pub created: Vec<String>,
    pub updated: Vec<String>,
    pub resolved: Vec<String>,
    pub unchanged: usize,
}

#[server(prefix = "/fn", endpoint = "engagement_findings")]
pub async fn engagement_findings(engagement_id: i64) -> Result<FindingsData, UiError> {
    let member = current_member().await?;
    let state = app_state()?;
    let engagement = audit::engagements::get(&state.db, member.firm_id, engagement_id)
        .await
        .map_err(fail)?;
    let findings = audit::findings::list_findings(&state.db, member.firm_id, engagement_id)
        .await
        .map_err(fail)?;
    Ok(FindingsData {
        engagement_id,
        client_name: engagement.client_name,
        system_name: engagement.system_name,
        findings,
    })
}

#[server(prefix = "/fn", endpoint = "suggest_engagement_findings")]
pub async fn suggest_engagement_findings(engagement_id: i64) -> Result<SuggestedFindings, UiError> {
    let member = current_member().await?;
    let state = app_state()?;
    let report = audit::findings::suggest_findings(
        &state.db,
        &audit::activity::Actor::from(&member),
        member.firm_id,
        engagement_id,
    )
    .await
    .map_err(fail)?;
    Ok(SuggestedFindings {
        created: report.created,
        updated: report.updated,
        resolved: report.resolved,
        unchanged: report.unchanged,
    })
}

#[server(prefix = "/fn", endpoint = "create_engagement_finding")]
pub async fn create_engagement_finding(
    engagement_id: i64,
    form: FindingInput,
) -> Result<Finding, UiError> {
    let member = current_member().await?;
    let state = app_state()?;
    audit::findings::create_finding(&state.db, &member, engagement_id, &form)
        .await
        .map_err(fail)
}

#[server(prefix = "/fn", endpoint = "update_engagement_finding")]
pub async fn update_engagement_finding(
    engagement_id: i64,
    finding_id: i64,
    form: FindingInput,
) -> Result<Finding, UiError> {
    let member = current_member().await?;
    let state = app_state()?;
    audit::findings::update_finding(&state.db, &member, engagement_id, finding_id, &form)
        .await
        .map_err(fail)
}

#[server(prefix = "/fn", endpoint = "delete_engagement_finding")]
pub async fn delete_engagement_finding(engagement_id: i64, finding_id: i64) -> Result<(), UiError> {
    let member = current_member().await?;
    let state = app_state()?;
    audit::findings::delete_finding(&state.db, &member, engagement_id, finding_id)
        .await
        .map_err(fail)
}

// ---------------------------------------------------------------------------------------------
// Shared with the interventions page

pub(crate) fn engagement_id_param() -> impl Fn() -> i64 + Copy + Send + Sync + 'static {
    let params = use_params_map();
    // A non-numeric id can match nothing; -1 makes the lookup answer "not found".
    move || params.with(|p| p.get("id").and_then(|id| id.parse().ok()).unwrap_or(-1))
}

/// Runs `then` with the result each time `action` succeeds (in the browser; without JavaScript
/// the form post reloads the page anyway).
pub(crate) fn on_success<S, T>(action: ServerAction<S>, then: impl Fn(T) + 'static)
where
    S: leptos::server_fn::ServerFn<Output = T, Error = UiError> + Clone + Send + Sync + 'static,
    T: Clone + Send + Sync + 'static,
{
    Effect::new(move |_| {
        if let Some(Ok(value)) = action.value().get() {
            then(value);
        }
    });
}

/// The engagement's name, its system and the links between its pages.
pub(crate) fn engagement_head(
    engagement_id: i64,
    client_name: String,
    system_name: String,
    current: &'static str,
) -> AnyView {
    let base = format!("/engagements/{engagement_id}");
    let links = [
        ("overview", "Overview", base.clone()),
        (
            "questionnaire",
            "Questionnaire",
            format!("{base}/questionnaire"),
        ),
        ("scores", "Scores", format!("{base}/scores")),
        ("findings", "Findings", format!("{base}/findings")),
        (
            "interventions",
            "Interventions",
            format!("{base}/interventions"),
        ),
        ("decisions", "Decisions", format!("{base}/decisions")),
        ("probes", "Probes", format!("{base}/probes")),
        ("report", "Report", format!("{base}/report")),
    ];
    view! {
        <div class="page-head">
            <div>
                <h1>{client_name}</h1>
                <p class="muted">{system_name}</p>
            </div>
        </div>
        <nav class="subnav" aria-label="Engagement">
            {links.into_iter().map(|(key, label, href)| view! {
                <a href=href aria-current=(key == current).then_some("page")>{label}</a>
            }).collect_view()}
        </nav>
    }
    .into_any()
}

/// Like `ErrorBanner`, but also lists what each field's message says: for actions whose form
/// has no field to put the message under (pinning an order, say).
#[component]
pub(crate) fn ProblemBanner(error: Signal<Option<UiError>>) -> impl IntoView {
    move || {
        error.get().map(|e| {
            // For a refused input the fields' messages say it all; the general line adds nothing.
            let general = (e.code != "invalid" || e.fields.is_empty()).then(|| e.message.clone());
            view! {
                <div class="banner error" role="alert">
                    {general.map(|m| view! { <p>{m}</p> })}
                    {e.fields.iter().map(|f| view! { <p>{f.message.clone()}</p> }).collect_view()}
                    {e.request_id.clone().map(|id| view! { <p class="muted small">"Request id: "<code>{id}</code></p> })}
                </div>
            }
        })
    }
}

/// A short-lived "what just happened" line for the whole page.
pub(crate) fn notice_banner(notice: RwSignal<Option<String>>) -> impl IntoView {
    view! {
        <div class="notice-line" role="status" aria-live="polite" data-testid="notice">
            {move || notice.get().map(|n| view! { <p class="banner ok">{n}</p> })}
        </div>
    }
}

/// Tachys rebuilds a re-rendered page in place, element by element, so DOM state the view does
/// not describe outlives a reload: what was typed into a form, whether a `<details>` is open —
/// and after a delete or a reorder that element may show another finding. After each render,
/// put the forms back to the values the view gives them and fold the details.
pub(crate) fn reset_after_render(
    forms: Vec<NodeRef<leptos::html::Form>>,
    details: Vec<NodeRef<leptos::html::Details>>,
) {
    Effect::new(move |_| {
        for form in &forms {
            if let Some(form) = form.get() {
                form.reset();
            }
        }
        for d in &details {
            if let Some(d) = d.get() {
                d.set_open(false);
            }
        }
    });
}

/// The client's check of a form, merged with the server's answer: once the person has left a
/// field or tried to submit, the browser's own parse shows field messages at once; otherwise (and
/// when the parse passes) the server's last answer shows.
pub(crate) fn merged_error(
    checked: RwSignal<bool>,
    client: impl Fn() -> Option<Vec<audit::FieldError>> + Send + Sync + 'static,
    server: Signal<Option<UiError>>,
) -> Signal<Option<UiError>> {
    Signal::derive(move || {
        if checked.get() {
            if let Some(fields) = client() {
                let mut e = UiError::new("invalid", "Some fields need another look.");
                e.fields = fields;
                return Some(e);
            }
        }
        server.get()
    })
}

// ---------------------------------------------------------------------------------------------
// The findings page

fn origin_label(origin: FindingOrigin) -> &'static str {
    match origin {
        FindingOrigin::Manual => "Written by hand",
        FindingOrigin::Answers => "From the answers",
        FindingOrigin::Probe => "From a probe",
    }
}

fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

fn suggest_summary(r: &SuggestedFindings) -> String {
    let mut text = format!(
        "{} new, {} updated, {} resolved",
        r.created.len(),
        r.updated.len(),
        r.resolved.len()
    );
    if r.unchanged > 0 {
        text.push_str(&format!(" ({} unchanged)", r.unchanged));
    }
    let refs: Vec<String> = r
        .created
        .iter()
        .chain(&r.updated)
        .chain(&r.resolved)
        .cloned()
        .collect();
    if !refs.is_empty() {
        text.push_str(&format!(": {}", refs.join(", ")));
    }
    text.push('.');
    if refs.is_empty() && r.unchanged == 0 {
        text.push_str(" The answers hold no red flag or weak answer yet.");
    }
    text
}

/// The filters in the URL: `?status=open&area=database`.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
struct Filter {
    status: Option<FindingStatus>,
    area: Option<Area>,
}

impl Filter {
    fn keeps(&self, f: &Finding) -> bool {
        self.status.is_none_or(|s| s == f.status) && self.area.is_none_or(|a| a == f.area)
    }

    fn is_set(&self) -> bool {
        self.status.is_some() || self.area.is_some()
    }
}

/// What the page's parts need to reach: the engagement, the data to reload and the notice.
#[derive(Clone, Copy)]
struct Ctx {
    engagement_id: i64,
    data: Resource<Result<FindingsData, UiError>>,
    notice: RwSignal<Option<String>>,
}

#[component]
pub fn FindingsPage() -> impl IntoView {
    let id = engagement_id_param();
    let query = use_query_map();
    let filter = move || {
        query.with(|q| Filter {
            status: q.get("status").and_then(|s| FindingStatus::parse(&s)),
            area: q.get("area").and_then(|a| Area::parse(&a)),
        })
    };
    let data = Resource::new(id, engagement_findings);
    let notice = RwSignal::new(None::<String>);
    let suggest = ServerAction::<SuggestEngagementFindings>::new();
    on_success(suggest, move |_| {
        notice.set(None);
        data.refetch();
    });
    view! {
        <Transition fallback=|| view! { <p class="muted">"Loading the findings…"</p> }>
            {move || {
                let filter = filter();
                Suspend::new(async move {
                    match data.await {
                        Err(e) => view! { <LoadError error=e/> }.into_any(),
                        Ok(d) => {
                            let ctx = Ctx { engagement_id: d.engagement_id, data, notice };
                            findings_view(d, filter, suggest, ctx).into_any()
                        }
                    }
                })
            }}
        </Transition>
    }
}

fn findings_view(
    d: FindingsData,
    filter: Filter,
    suggest: ServerAction<SuggestEngagementFindings>,
    ctx: Ctx,
) -> AnyView {
    let id = d.engagement_id;
    let pending = suggest.pending();
    let suggest_error = action_error(suggest);
    let report = move || {
        suggest.value().get().and_then(|r| r.ok()).map(|r| {
            view! {
                <p class="banner ok" data-testid="suggest-report">
                    "Suggested from the answers: "{suggest_summary(&r)}
                </p>
            }
        })
    };
    let total = d.findings.len();
    let open = d
        .findings
        .iter()
        .filter(|f| f.status == FindingStatus::Open)
        .count();
    let shown: Vec<Finding> = d.findings.into_iter().filter(|f| filter.keeps(f)).collect();
    let list = if total == 0 {
        view! {
            <div class="empty card" data-testid="findings-empty">
                <p>"No findings yet. Press “Suggest findings from answers” to turn the red flags and weak "
                    "answers of the "<a href=format!("/engagements/{id}/questionnaire")>"questionnaire"</a>
                    " into findings, or write one by hand below."</p>
            </div>
        }
        .into_any()
    } else if shown.is_empty() {
        view! {
            <div class="empty card">
                <p>"No findings match these filters. "<a href=format!("/engagements/{id}/findings")>"Show all findings"</a></p>
            </div>
        }
        .into_any()
    } else {
        Severity::ALL
            .into_iter()
            .filter_map(|severity| {
                let group: Vec<Finding> = shown
                    .iter()
                    .filter(|f| f.severity == severity)
                    .cloned()
                    .collect();
                (!group.is_empty()).then(|| severity_group(severity, group, ctx))
            })
            .collect_view()
            .into_any()
    };
    view! {
        <Title text=format!("Findings · {}", d.client_name)/>
        {engagement_head(id, d.client_name.clone(), d.system_name.clone(), "findings")}
        <section class="card findings-toolbar">
            <h2>"Findings"</h2>
            <p class="muted">
                {if total == 0 { "None yet.".to_owned() } else {
                    format!("{} · {} open.", count(total, "finding", "findings"), open)
                }}
                " Suggesting again after answers change updates the findings it made, resolves those "
                "whose answer is no longer weak, and never undoes your edits."
            </p>
            <div class="toolbar-actions">
                <ActionForm action=suggest attr:class="inline">
                    <input type="hidden" name="engagement_id" value=id/>
                    <button type="submit" data-testid="suggest-findings" disabled=move || pending.get()>
                        {move || if pending.get() { "Suggesting…" } else { "Suggest findings from answers" }}
                    </button>
                </ActionForm>
                <a class="button secondary" href="#new-finding">"New finding"</a>
            </div>
            <div role="status" aria-live="polite">{report}</div>
            <ErrorBanner error=suggest_error/>
        </section>
        {notice_banner(ctx.notice)}
        {(total > 0).then(|| filter_form(filter))}
        <div class="finding-groups" data-testid="findings">{list}</div>
        <NewFinding ctx/>
    }
    .into_any()
}

fn filter_form(filter: Filter) -> AnyView {
    view! {
        <Form method="GET" action="" attr:class="search finding-filters" attr:aria-label="Filter findings">
            <label for="filter-status">"Status"</label>
            <select id="filter-status" name="status">
                <option value="" selected=filter.status.is_none()>"Any status"</option>
                {FindingStatus::ALL.into_iter().map(|s| view! {
                    <option value=s.as_str() selected=filter.status == Some(s)>{s.label()}</option>
                }).collect_view()}
            </select>
            <label for="filter-area">"Area"</label>
            <select id="filter-area" name="area">
                <option value="" selected=filter.area.is_none()>"Any area"</option>
                {Area::ALL.into_iter().map(|a| view! {
                    <option value=a.as_str() selected=filter.area == Some(a)>{a.label()}</option>
                }).collect_view()}
            </select>
            <button type="submit" class="secondary">"Filter"</button>
            {filter.is_set().then(|| view! { <a href="?">"Clear filters"</a> })}
        </Form>
    }
    .into_any()
}

fn severity_group(severity: Severity, group: Vec<Finding>, ctx: Ctx) -> AnyView {
    let heading_id = format!("severity-{}", severity.as_str());
    let labelled_by = heading_id.clone();
    let n = group.len();
    view! {
        <section class="severity-group" aria-labelledby=labelled_by data-testid=format!("severity-{}", severity.as_str())>
            <h2 id=heading_id>
                <span class=format!("severity-badge {}", severity.as_str())>{severity.label()}</span>
                <span class="muted small">" "{count(n, "finding", "findings")}</span>
            </h2>
            <ol class="finding-list">
                {group.into_iter().map(|finding| view! { <FindingCard finding ctx/> }).collect_view()}
            </ol>
        </section>
    }
    .into_any()
}

/// Where an answer's question is shown: its area is the question id's prefix.
fn answer_href(engagement_id: i64, fallback: Area, question_id: &str) -> String {
    let area = question_id
        .split('.')
        .next()
        .and_then(Area::parse)
        .unwrap_or(fallback);
    format!(
        "/engagements/{engagement_id}/questionnaire?area={}#q-{question_id}",
        area.as_str()
    )
}

fn evidence_item(engagement_id: i64, area: Area, e: EvidenceLink) -> AnyView {
    match e.kind {
        EvidenceKind::Answer => view! {
            <li class="evidence-answer">
                <span class="muted small">"Answer · "</span>
                <a href=answer_href(engagement_id, area, &e.target)>{e.label}</a>
            </li>
        }
        .into_any(),
        EvidenceKind::File => view! {
            <li class="evidence-file">
                <span class="muted small">"File · "</span>
                <a href=format!("/evidence/{}", e.target)>{e.label}</a>
            </li>
        }
        .into_any(),
        EvidenceKind::Probe => {
            // Probe evidence is `<run id>:<check id>`: link to that check in that run.
            let href = e.target.split_once(':').map(|(run, check)| {
                format!("/engagements/{engagement_id}/probes?run={run}#check-{check}")
            });
            view! {
                <li class="evidence-probe">
                    <span class="muted small">"Probe · "</span>
                    {match href {
                        Some(href) => view! { <a href=href>{e.label}</a> }.into_any(),
                        None => view! { <span>{e.label}" "<code class="small">{e.target}</code></span> }.into_any(),
                    }}
                </li>
            }
            .into_any()
        }
        EvidenceKind::Link => view! {
            <li class="evidence-link">
                <span class="muted small">"Link · "</span>
                <a href=e.target target="_blank" rel="noopener noreferrer">
                    {e.label}<span class="visually-hidden">" (opens in a new tab)"</span>
                </a>
            </li>
        }
        .into_any(),
    }
}

/// The form's fields as signals, so the browser can check them with the same parser as the server.
#[derive(Clone, Copy)]
struct FindingDraft {
    area: RwSignal<String>,
    severity: RwSignal<String>,
    title: RwSignal<String>,
    description: RwSignal<String>,
    confidence: RwSignal<String>,
    status: RwSignal<String>,
    links: RwSignal<String>,
    /// Set once a field was left or a submit tried: from then on messages show as one types.
    checked: RwSignal<bool>,
}

impl FindingDraft {
    fn new(initial: &FindingInput) -> Self {
        Self {
            area: RwSignal::new(initial.area.clone()),
            severity: RwSignal::new(initial.severity.clone()),
            title: RwSignal::new(initial.title.clone()),
            description: RwSignal::new(initial.description.clone()),
            confidence: RwSignal::new(initial.confidence.clone()),
            status: RwSignal::new(initial.status.clone()),
            links: RwSignal::new(initial.links.clone()),
            checked: RwSignal::new(false),
        }
    }

    fn input(&self) -> FindingInput {
        FindingInput {
            area: self.area.get(),
            severity: self.severity.get(),
            title: self.title.get(),
            description: self.description.get(),
            confidence: self.confidence.get(),
            status: self.status.get(),
            links: self.links.get(),
            version: 0,
        }
    }

    fn problems(&self) -> Option<Vec<audit::FieldError>> {
        self.input().parse().err()
    }

    /// On submit: start showing messages, and hold the form back if the parse fails.
    fn blocks_submit(&self) -> bool {
        self.checked.set(true);
        untrack(|| self.problems().is_some())
    }

    fn error(self, server: Signal<Option<UiError>>) -> Signal<Option<UiError>> {
        merged_error(self.checked, move || self.problems(), server)
    }
}

fn finding_input(f: &Finding) -> FindingInput {
    FindingInput {
        area: f.area.as_str().to_owned(),
        severity: f.severity.as_str().to_owned(),
        title: f.title.clone(),
        description: f.description.clone(),
        confidence: f.confidence.as_str().to_owned(),
        status: f.status.as_str().to_owned(),
        links: f
            .evidence
            .iter()
            .filter(|e| e.kind == EvidenceKind::Link)
            .map(|e| e.target.clone())
            .collect::<Vec<_>>()
            .join("\n"),
        version: f.version,
    }
}

/// The finding form's fields (new and edit). `prefix` keeps ids unique on the page.
fn finding_fields(
    prefix: String,
    initial: FindingInput,
    draft: FindingDraft,
    error: Signal<Option<UiError>>,
    editing: bool,
) -> AnyView {
    let [area_id, severity_id, title_id, description_id, confidence_id, status_id, links_id] = [
        "area",
        "severity",
        "title",
        "description",
        "confidence",
        "status",
        "links",
    ]
    .map(|f| format!("{prefix}-{f}"));
    let links_help = format!("{links_id}-help");
    let description_help = format!("{description_id}-help");
    let leave = move |_| draft.checked.set(true);
    let area = initial.area.clone();
    let severity = initial.severity.clone();
    let confidence = initial.confidence.clone();
    let status = initial.status.clone();
    view! {
        <div class="row">
            <div>
                <label for=area_id.clone()>"Area"</label>
                <select id=area_id name="form[area]" on:change=move |ev| { draft.area.set(event_target_value(&ev)); leave(()); }>
                    <option value="" selected=area.is_empty()>"Choose an area…"</option>
                    {Area::ALL.into_iter().map(|a| view! {
                        <option value=a.as_str() selected=a.as_str() == area>{a.label()}</option>
                    }).collect_view()}
                </select>
                <FieldMessage error field="area"/>
            </div>
            <div>
                <label for=severity_id.clone()>"Severity"</label>
                <select id=severity_id name="form[severity]" on:change=move |ev| { draft.severity.set(event_target_value(&ev)); leave(()); }>
                    {Severity::ALL.into_iter().map(|s| view! {
                        <option value=s.as_str() selected=s.as_str() == severity>{s.label()}</option>
                    }).collect_view()}
                </select>
                <FieldMessage error field="severity"/>
            </div>
        </div>
        <label for=title_id.clone()>"Title"</label>
        <input id=title_id name="form[title]" maxlength=MAX_TITLE_CHARS.to_string() value=initial.title
            autocomplete="off"
            on:input=move |ev| draft.title.set(event_target_value(&ev))
            on:change=move |_| leave(())/>
        <FieldMessage error field="title"/>
        <label for=description_id.clone()>"Description "<span class="muted small">"(Markdown)"</span></label>
        <textarea id=description_id name="form[description]" rows="5" maxlength=MAX_MARKDOWN_CHARS.to_string()
            aria-describedby=description_help.clone()
            on:input=move |ev| draft.description.set(event_target_value(&ev))
            on:change=move |_| leave(())>{initial.description}</textarea>
        <p class="help" id=description_help>"What is wrong, what it costs the client, and how you know."</p>
        <FieldMessage error field="description"/>
        <div class="row">
            <div>
                <label for=confidence_id.clone()>"Confidence"</label>
                <select id=confidence_id name="form[confidence]" on:change=move |ev| { draft.confidence.set(event_target_value(&ev)); leave(()); }>
                    {Confidence::ALL.into_iter().map(|c| view! {
                        <option value=c.as_str() selected=c.as_str() == confidence || (confidence.is_empty() && c == Confidence::Medium)>{c.label()}</option>
                    }).collect_view()}
                </select>
                <FieldMessage error field="confidence"/>
            </div>
            {editing.then(|| view! {
                <div>
                    <label for=status_id.clone()>"Status"</label>
                    <select id=status_id name="form[status]" on:change=move |ev| { draft.status.set(event_target_value(&ev)); leave(()); }>
                        {FindingStatus::ALL.into_iter().map(|s| view! {
                            <option value=s.as_str() selected=s.as_str() == status>{s.label()}</option>
                        }).collect_view()}
                    </select>
                    <FieldMessage error field="status"/>
                </div>
            })}
        </div>
        <label for=links_id.clone()>"Links "<span class="muted small">"(optional)"</span></label>
        <textarea id=links_id name="form[links]" rows="2" aria-describedby=links_help.clone()
            placeholder="https://grafana.example.com/d/latency"
            on:input=move |ev| draft.links.set(event_target_value(&ev))
            on:change=move |_| leave(())>{initial.links}</textarea>
        <p class="help" id=links_help>"Web addresses that back the finding, one per line (at most 10). Linked answers and files stay as they are."</p>
        <FieldMessage error field="links"/>
    }
    .into_any()
}

#[component]
fn FindingCard(finding: Finding, ctx: Ctx) -> impl IntoView {
    let Ctx {
        engagement_id,
        data,
        notice,
    } = ctx;
    let finding_id = finding.finding_id;
    let reference = finding.reference();
    let update = ServerAction::<UpdateEngagementFinding>::new();
    let delete = ServerAction::<DeleteEngagementFinding>::new();
    {
        let reference = reference.clone();
        on_success(update, move |f: Finding| {
            notice.set(Some(format!("{} saved.", f.reference())));
            data.refetch();
        });
        on_success(delete, move |_| {
            notice.set(Some(format!("{reference} deleted.")));
            data.refetch();
        });
    }
    let initial = finding_input(&finding);
    let draft = FindingDraft::new(&initial);
    let server_error = action_error(update);
    let error = draft.error(server_error);
    let delete_error = action_error(delete);
    let pending = update.pending();
    let conflict = move || server_error.get().is_some_and(|e| e.code == "conflict");
    let area = finding.area;
    let evidence = if finding.evidence.is_empty() {
        view! { <p class="muted small">"No evidence linked yet. Add web links when you edit it."</p> }
            .into_any()
    } else {
        view! {
            <ul class="evidence" aria-label=format!("Evidence for {reference}")>
                {finding.evidence.clone().into_iter().map(|e| evidence_item(engagement_id, area, e)).collect_view()}
            </ul>
        }
        .into_any()
    };
    let description = (!finding.description_html.is_empty()).then(|| {
        // Rendered from Markdown and sanitized on the server (audit::markdown::to_safe_html).
        view! { <div class="finding-body" inner_html=finding.description_html.clone()></div> }
    });
    let waiver = finding
        .accepted_until
        .map(|until| format!(" · accepted until {}", format_time(until)));
    let edited = (!finding.edited_fields.is_empty()).then(|| {
        format!(
            " · edited by hand: {} (suggesting again leaves these alone)",
            finding.edited_fields.join(", ")
        )
    });
    let manual = finding.origin == FindingOrigin::Manual;
    let delete_ref = reference.clone();
    let edit_summary = format!("Edit {reference}");
    let card_id = format!("finding-{finding_id}");
    let version = finding.version;
    let fields = finding_fields(format!("f{finding_id}"), initial, draft, error, true);
    let (edit_form, delete_form) = (NodeRef::new(), NodeRef::new());
    let (edit_details, delete_details) = (NodeRef::new(), NodeRef::new());
    reset_after_render(
        vec![edit_form, delete_form],
        vec![edit_details, delete_details],
    );
    view! {
        <li class="card finding" id=card_id data-testid="finding" data-reference=reference.clone()>
            <header class="finding-head">
                <h3><span class="ref">{reference.clone()}</span>" "{finding.title.clone()}</h3>
                <div class="badges">
                    <span class=format!("severity-badge {}", finding.severity.as_str())>{finding.severity.label()}</span>
                    <span class=format!("pill {}", finding.status.as_str())>{finding.status.label()}</span>
                    <span class=format!("origin-badge {}", finding.origin.as_str())>{origin_label(finding.origin)}</span>
                </div>
            </header>
            <p class="muted small finding-meta">
                {finding.area.label()}" · confidence "{finding.confidence.label()}
                {waiver}" · updated "{format_time(finding.updated_at)}{edited}
            </p>
            {description}
            <h4 class="visually-hidden">"Evidence"</h4>
            {evidence}
            <details class="finding-edit" node_ref=edit_details>
                <summary>{edit_summary}</summary>
                <ActionForm action=update node_ref=edit_form>
                    <input type="hidden" name="engagement_id" value=engagement_id/>
                    <input type="hidden" name="finding_id" value=finding_id/>
                    <input type="hidden" name="form[version]" value=version/>
                    {fields}
                    <ErrorBanner error=server_error/>
                    {move || conflict().then(|| view! {
                        <button type="button" class="secondary" on:click=move |_| { notice.set(None); data.refetch(); }>
                            "Reload the finding"
                        </button>
                    })}
                    <div class="actions">
                        <button type="submit" disabled=move || pending.get()
                            on:click=move |ev| if draft.blocks_submit() { ev.prevent_default() }>
                            {move || if pending.get() { "Saving…" } else { "Save changes" }}
                        </button>
                    </div>
                </ActionForm>
            </details>
            {if manual {
                view! {
                    <details class="danger-zone" node_ref=delete_details>
                        <summary>"Delete "{delete_ref.clone()}"…"</summary>
                        <p>{delete_ref.clone()}" goes for good; the activity log keeps a record of it."</p>
                        <ErrorBanner error=delete_error/>
                        <ActionForm action=delete node_ref=delete_form>
                            <input type="hidden" name="engagement_id" value=engagement_id/>
                            <input type="hidden" name="finding_id" value=finding_id/>
                            <button type="submit" class="danger">"Yes, delete "{delete_ref.clone()}</button>
                        </ActionForm>
                    </details>
                }
                .into_any()
            } else {
                view! {
                    <p class="muted small">"Made "{if finding.origin == FindingOrigin::Probe { "from a probe" } else { "from the answers" }}
                        ": to set it aside, mark it resolved or accepted risk."</p>
                }
                .into_any()
            }}
        </li>
    }
    .into_any()
}

#[component]
fn NewFinding(ctx: Ctx) -> impl IntoView {
    let Ctx {
        engagement_id,
        data,
        notice,
    } = ctx;
    let create = ServerAction::<CreateEngagementFinding>::new();
    on_success(create, move |f: Finding| {
        notice.set(Some(format!("{} written.", f.reference())));
        data.refetch();
    });
    let initial = FindingInput {
        severity: Severity::Medium.as_str().to_owned(),
        confidence: Confidence::Medium.as_str().to_owned(),
        ..FindingInput::default()
    };
    let draft = FindingDraft::new(&initial);
    let server_error = action_error(create);
    let error = draft.error(server_error);
    let pending = create.pending();
    let fields = finding_fields("new-finding".to_owned(), initial, draft, error, false);
    let form = NodeRef::new();
    reset_after_render(vec![form], Vec::new());
    view! {
        <section class="card new-finding" id="new-finding" aria-labelledby="new-finding-heading" data-testid="new-finding">
            <h2 id="new-finding-heading">"New finding"</h2>
            <p class="muted small">"Something the questionnaire does not cover, or that you saw yourself. It starts open."</p>
            <ActionForm action=create node_ref=form>
                <input type="hidden" name="engagement_id" value=engagement_id/>
                {fields}
                <ErrorBanner error=server_error/>
                <div class="actions">
                    <button type="submit" disabled=move || pending.get()
                        on:click=move |ev| if draft.blocks_submit() { ev.prevent_default() }>
                        {move || if pending.get() { "Adding…" } else { "Add finding" }}
                    </button>
                </div>
            </ActionForm>
        </section>
    }
    .into_any()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_suggest_report_reads_as_counts() {
        let r = SuggestedFindings {
            created: vec!["F-1".into(), "F-2".into(), "F-3".into()],
            updated: vec!["F-4".into()],
            resolved: vec![],
            unchanged: 0,
        };
        assert_eq!(
            suggest_summary(&r),
            "3 new, 1 updated, 0 resolved: F-1, F-2, F-3, F-4."
        );
        assert_eq!(
            suggest_summary(&SuggestedFindings {
                unchanged: 2,
                ..Default::default()
            }),
            "0 new, 0 updated, 0 resolved (2 unchanged)."
        );
        assert_eq!(
            suggest_summary(&SuggestedFindings::default()),
            "0 new, 0 updated, 0 resolved. The answers hold no red flag or weak answer yet."
        );
    }

    #[test]
    fn answer_links_open_the_questions_area() {
        assert_eq!(
            answer_href(7, Area::Observability, "database.n-plus-one"),
            "/engagements/7/questionnaire?area=database#q-database.n-plus-one"
        );
        assert_eq!(
            answer_href(7, Area::People, "odd"),
            "/engagements/7/questionnaire?area=people#q-odd"
        );
    }
}
