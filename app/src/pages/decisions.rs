//! The architecture decision records of an engagement: the list (superseding links, waivers),
//! one record opened, the editor with a live Markdown preview (rendered and sanitized on the
//! server, never in the browser), and the ADR zip download and import, which are plain HTTP
//! routes of the server (`server/src/decision_files.rs`).
use std::time::Duration;

use audit::decisions::{Decision, DecisionInput, DecisionStatus};
use audit::findings::MAX_MARKDOWN_CHARS;
use audit::FieldError;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};
use serde::{Deserialize, Serialize};

use crate::components::{action_error, LoadError};
use crate::error::UiError;

#[cfg(feature = "ssr")]
use crate::state::{app_state, current_member, fail};

/// The session key under which the import route leaves its report for the page (shown once).
pub const SESSION_IMPORT_REPORT: &str = "decisions_import_report";

/// How long typing must pause before the preview is asked for.
const PREVIEW_DELAY: Duration = Duration::from_millis(300);

/// A file of an imported archive that was not read as a record, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SkippedLine {
    pub path: String,
    pub reason: String,
}

/// What the last ADR zip import did, for a browser that posted the form without asking for
/// JSON: the import route keeps it in the session and redirects to the page, which shows it once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportReport {
    pub engagement_id: i64,
    pub ok: bool,
    pub message: String,
    #[serde(default)]
    pub imported: Vec<String>,
    #[serde(default)]
    pub skipped: Vec<SkippedLine>,
}

/// A finding or an intervention a record can be linked to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LinkChoice {
    pub id: i64,
    /// F-3, I-2
    pub reference: String,
    pub title: String,
}

/// Everything the decisions page shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DecisionsData {
    pub engagement_id: i64,
    pub client_name: String,
    pub system_name: String,
    /// By number.
    pub decisions: Vec<Decision>,
    pub findings: Vec<LinkChoice>,
    pub interventions: Vec<LinkChoice>,
    /// Today on the server's clock (UTC, YYYY-MM-DD): a new record's date.
    pub today: String,
    /// The report of an import posted without JavaScript, once.
    pub import: Option<ImportReport>,
}

#[server(prefix = "/fn", endpoint = "decisions_page")]
pub async fn decisions_page(engagement_id: i64) -> Result<DecisionsData, UiError> {
    let member = current_member().await?;
    let state = app_state()?;
    let firm_id = member.firm_id;
    let engagement = audit::engagements::get(&state.db, firm_id, engagement_id)
        .await
        .map_err(fail)?;
    let decisions = audit::decisions::list_decisions(&state.db, firm_id, engagement_id)
        .await
        .map_err(fail)?;
    let findings = audit::findings::list_findings(&state.db, firm_id, engagement_id)
        .await
        .map_err(fail)?
        .into_iter()
        .map(|f| LinkChoice {
            id: f.finding_id,
            reference: f.reference(),
            title: f.title,
        })
        .collect();
    let interventions = audit::interventions::list_interventions(&state.db, firm_id, engagement_id)
        .await
        .map_err(fail)?
        .into_iter()
        .map(|i| LinkChoice {
            id: i.intervention_id,
            reference: i.reference(),
            title: i.title,
        })
        .collect();
    let session = crate::state::session().await?;
    // A report that cannot be read any more is dropped rather than failing the page.
    let import = crate::state::take_from_session::<ImportReport>(&session, SESSION_IMPORT_REPORT)
        .await
        .unwrap_or_else(|e| {
            tracing::warn!(error = %e, "could not read the import report");
            None
        })
        .filter(|r| r.engagement_id == engagement_id);
    let today = crate::components::format_time(audit::clock::now_ms())
        .chars()
        .take(10)
        .collect();
    Ok(DecisionsData {
        engagement_id,
        client_name: engagement.client_name,
        system_name: engagement.system_name,
        decisions,
        findings,
        interventions,
        today,
        import,
    })
}

/// Writes a new record (`decision_id` empty) or a new version of one.
#[server(prefix = "/fn", endpoint = "save_decision")]
pub async fn save_decision(
    engagement_id: i64,
    decision_id: Option<i64>,
    form: DecisionInput,
) -> Result<Decision, UiError> {
    let member = current_member().await?;
    let state = app_state()?;
    // The checks the browser ran while the fields were typed, for forms posted without it.
    form.parse().map_err(|e| fail(audit::Error::Invalid(e)))?;
    let saved = match decision_id {
        None => audit::decisions::create_decision(&state.db, &member, engagement_id, &form).await,
        Some(decision_id) => {
            audit::decisions::update_decision(&state.db, &member, engagement_id, decision_id, &form)
                .await
        }
    }
    .map_err(fail)?;
    leptos_axum::redirect(&format!(
        "/engagements/{engagement_id}/decisions?decision={}#adr-{}",
        saved.decision_id, saved.number
    ));
    Ok(saved)
}

/// The editor's live preview: Markdown rendered and sanitized exactly as a saved record is.
#[server(prefix = "/fn", endpoint = "preview_decision_markdown")]
pub async fn preview_decision_markdown(text: String) -> Result<String, UiError> {
    current_member().await?;
    if text.chars().count() > MAX_MARKDOWN_CHARS {
        return Err(fail(audit::Error::Invalid(vec![FieldError::new(
            "text",
            format!("At most {MAX_MARKDOWN_CHARS} characters can be previewed."),
        )])));
    }
    Ok(audit::markdown::to_safe_html(&text))
}

fn engagement_id_param() -> impl Fn() -> i64 + Copy + Send + Sync + 'static {
    let params = use_params_map();
    // A non-numeric id can match nothing; -1 makes the lookup answer "not found".
    move || params.with(|p| p.get("id").and_then(|id| id.parse().ok()).unwrap_or(-1))
}

/// The page's address with a record opened and/or in the editor.
fn page_href(
    engagement_id: i64,
    open: Option<i64>,
    edit: Option<i64>,
    anchor: Option<String>,
) -> String {
    let mut href = format!("/engagements/{engagement_id}/decisions");
    let params: Vec<String> = [("decision", open), ("edit", edit)]
        .into_iter()
        .filter_map(|(name, value)| value.map(|v| format!("{name}={v}")))
        .collect();
    if !params.is_empty() {
        href.push('?');
        href.push_str(&params.join("&"));
    }
    if let Some(anchor) = anchor {
        href.push('#');
        href.push_str(&anchor);
    }
    href
}

fn anchor_of(number: i64) -> String {
    format!("adr-{number}")
}

#[component]
pub fn DecisionsPage() -> impl IntoView {
    let id = engagement_id_param();
    let query = use_query_map();
    let opened = Memo::new(move |_| {
        query.with(|q| q.get("decision").and_then(|d| d.trim().parse::<i64>().ok()))
    });
    let editing = Memo::new(move |_| {
        query.with(|q| q.get("edit").and_then(|d| d.trim().parse::<i64>().ok()))
    });
    let data = Resource::new(id, decisions_page);
    let save = ServerAction::<SaveDecision>::new();
    // A saved record reloads the list (the server also moves the page to it).
    Effect::new(move |_| {
        if save.value().with(|v| matches!(v, Some(Ok(_)))) {
            data.refetch();
        }
    });
    view! {
        <Transition fallback=|| view! { <p class="muted">"Loading the decision records…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Err(e) => view! { <LoadError error=e/> }.into_any(),
                    Ok(d) => decisions_view(d, opened, editing, save, data),
                }
            })}
        </Transition>
    }
}

/// The engagement's name and the links between its pages.
fn page_head(engagement_id: i64, client_name: String, system_name: String) -> AnyView {
    let links = [
        ("Overview", String::new()),
        ("Questionnaire", "/questionnaire".to_owned()),
        ("Scores", "/scores".to_owned()),
        ("Findings", "/findings".to_owned()),
        ("Interventions", "/interventions".to_owned()),
        ("Decisions", "/decisions".to_owned()),
        ("Probes", "/probes".to_owned()),
        ("Report", "/report".to_owned()),
    ];
    view! {
        <div class="page-head">
            <div>
                <h1>"Decision records"</h1>
                <p class="muted">{client_name}" · "{system_name}</p>
            </div>
        </div>
        <nav class="subnav" aria-label="Engagement">
            {links.into_iter().map(|(label, page)| {
                let current = label == "Decisions";
                view! {
                    <a href=format!("/engagements/{engagement_id}{page}") aria-current=current.then_some("page")>{label}</a>
                }
            }).collect_view()}
        </nav>
    }
    .into_any()
}

/// What the editor needs besides the record it edits.
#[derive(Clone)]
struct EditorContext {
    engagement_id: i64,
    decisions: Vec<Decision>,
    findings: Vec<LinkChoice>,
    interventions: Vec<LinkChoice>,
    today: String,
}

fn decisions_view(
    d: DecisionsData,
    opened: Memo<Option<i64>>,
    editing: Memo<Option<i64>>,
    save: ServerAction<SaveDecision>,
    data: Resource<Result<DecisionsData, UiError>>,
) -> AnyView {
    let id = d.engagement_id;
    let head = page_head(id, d.client_name.clone(), d.system_name.clone());
    let report = d.import.clone().map(import_report_view);
    let saved = move || {
        save.value().get().and_then(|r| r.ok()).map(|s| {
            view! {
                <p class="banner ok" role="status">
                    "Saved "{s.reference()}" · "{s.title.clone()}"."
                </p>
            }
        })
    };
    let download = (!d.decisions.is_empty()).then(|| {
        view! {
            <a class="button secondary" href=format!("/engagements/{id}/decisions.zip") download rel="external">
                "Download all as ADR zip"
            </a>
        }
    });
    let list = decision_list(&d, opened, editing);
    let context = EditorContext {
        engagement_id: id,
        decisions: d.decisions.clone(),
        findings: d.findings.clone(),
        interventions: d.interventions.clone(),
        today: d.today.clone(),
    };
    let editor = move || {
        let edit = editing.get();
        let current = edit.and_then(|e| {
            context
                .decisions
                .iter()
                .find(|x| x.decision_id == e)
                .cloned()
        });
        decision_editor(context.clone(), current, save, data)
    };
    view! {
        <Title text=format!("Decisions · {}", d.client_name)/>
        {head}
        <p class="muted">
            "Architecture decision records: what was decided, why, what else was considered and what follows. "
            "A record with an expiry date is a waiver: its linked findings count as accepted risks until then."
        </p>
        {saved}
        {report}
        <div class="decisions-toolbar">
            <a class="button" href=move || page_href(id, opened.get(), None, Some("editor".to_owned()))>"New record"</a>
            {download}
        </div>
        {list}
        <div id="editor" class="decision-editor-wrap">{editor}</div>
        {import_form(id)}
    }
    .into_any()
}

fn import_report_view(r: ImportReport) -> AnyView {
    let class = if r.ok { "banner ok" } else { "banner error" };
    let role = if r.ok { "status" } else { "alert" };
    let imported = (!r.imported.is_empty()).then(|| {
        view! {
            <p>"Imported:"</p>
            <ul class="import-list">
                {r.imported.iter().map(|line| view! { <li>{line.clone()}</li> }).collect_view()}
            </ul>
        }
    });
    let skipped = (!r.skipped.is_empty()).then(|| {
        view! {
            <p>"Skipped:"</p>
            <ul class="import-list">
                {r.skipped.iter().map(|s| view! {
                    <li><code>{s.path.clone()}</code>" — "{s.reason.clone()}</li>
                }).collect_view()}
            </ul>
        }
    });
    view! {
        <div class=class role=role id="import-report">
            <p>{r.message.clone()}</p>
            {imported}
            {skipped}
        </div>
    }
    .into_any()
}

fn status_badge(status: DecisionStatus) -> impl IntoView {
    view! { <span class=format!("pill decision-status {}", status.as_str())>{status.label()}</span> }
}

fn decision_list(
    d: &DecisionsData,
    opened: Memo<Option<i64>>,
    editing: Memo<Option<i64>>,
) -> AnyView {
    let id = d.engagement_id;
    if d.decisions.is_empty() {
        return view! {
            <div class="empty card">
                <p>
                    "No decision records yet. Write the first one below — for instance the database or "
                    "queueing choice the audit rests on — or import the "<code>"docs/adr"</code>
                    " folder the team already keeps, as a zip."
                </p>
            </div>
        }
        .into_any();
    }
    view! {
        <ol class="decision-list">
            {d.decisions.iter().map(|record| {
                decision_item(id, record.clone(), &d.findings, &d.interventions, opened, editing)
            }).collect_view()}
        </ol>
    }
    .into_any()
}

fn decision_item(
    engagement_id: i64,
    record: Decision,
    findings: &[LinkChoice],
    interventions: &[LinkChoice],
    opened: Memo<Option<i64>>,
    editing: Memo<Option<i64>>,
) -> AnyView {
    let decision_id = record.decision_id;
    let anchor = anchor_of(record.number);
    let is_open = move || opened.get() == Some(decision_id);
    let toggle_href = {
        let anchor = anchor.clone();
        move || {
            let open = (!is_open()).then_some(decision_id);
            page_href(engagement_id, open, editing.get(), Some(anchor.clone()))
        }
    };
    let relation = |label: &'static str, r: &audit::decisions::DecisionRef| {
        let (target, anchor) = (r.decision_id, anchor_of(r.number));
        let title = r.title.clone();
        let reference = r.reference();
        view! {
            <span class="decision-relation">
                {label}" "
                <a href=move || page_href(engagement_id, Some(target), editing.get(), Some(anchor.clone())) title=title>{reference}</a>
            </span>
        }
    };
    let superseded_by = record
        .superseded_by
        .as_ref()
        .map(|r| relation("Superseded by", r));
    let supersedes = record
        .supersedes
        .as_ref()
        .map(|r| relation("Supersedes", r));
    let waiver = record.expires_on.clone().map(|until| {
        if record.status == DecisionStatus::Accepted {
            view! { <span class="waiver-badge">{format!("waiver until {until}")}</span> }.into_any()
        } else {
            view! {
                <span class="waiver-badge pending" title="It takes effect once the record is accepted.">
                    {format!("waiver (not in force) until {until}")}
                </span>
            }
            .into_any()
        }
    });
    let body = decision_body(engagement_id, &record, findings, interventions);
    let title_id = format!("{anchor}-title");
    let labelled_by = title_id.clone();
    view! {
        <li class="card decision" id=anchor aria-labelledby=labelled_by>
            <div class="decision-head">
                <h2 id=title_id>
                    <a href=toggle_href aria-expanded=move || if is_open() { "true" } else { "false" }>
                        <span class="decision-ref">{record.reference()}</span>" "{record.title.clone()}
                    </a>
                </h2>
                <p class="decision-meta">
                    {status_badge(record.status)}
                    {record.decided_on.clone().map(|date| view! { <span class="muted small">{date}</span> })}
                    {waiver}
                    {superseded_by}
                    {supersedes}
                </p>
            </div>
            <div class="decision-body" hidden=move || !is_open()>{body}</div>
        </li>
    }
    .into_any()
}

fn decision_body(
    engagement_id: i64,
    record: &Decision,
    findings: &[LinkChoice],
    interventions: &[LinkChoice],
) -> AnyView {
    let sections = [
        ("Context", record.context_html.clone()),
        ("Options considered", record.options_html.clone()),
        ("Decision", record.decision_html.clone()),
        ("Consequences", record.consequences_html.clone()),
    ];
    let linked = |ids: &[i64], choices: &[LinkChoice], page: &str| -> Vec<AnyView> {
        ids.iter()
            .map(|id| match choices.iter().find(|c| c.id == *id) {
                Some(c) => view! {
                    <li><a href=format!("/engagements/{engagement_id}/{page}")>{c.reference.clone()}</a>" "{c.title.clone()}</li>
                }
                .into_any(),
                None => view! { <li class="muted">"(removed)"</li> }.into_any(),
            })
            .collect()
    };
    let finding_items = linked(&record.finding_ids, findings, "findings");
    let intervention_items = linked(&record.intervention_ids, interventions, "interventions");
    let decision_id = record.decision_id;
    let anchor = anchor_of(record.number);
    view! {
        {sections.into_iter().map(|(title, html)| {
            let text = if html.trim().is_empty() {
                view! { <p class="muted">"Not written."</p> }.into_any()
            } else {
                view! { <div class="markdown" inner_html=html></div> }.into_any()
            };
            view! { <h3>{title}</h3>{text} }
        }).collect_view()}
        <dl class="facts">
            <dt>"Date"</dt><dd>{record.decided_on.clone().unwrap_or_else(|| "—".to_owned())}</dd>
            <dt>"Deciders"</dt><dd>{if record.deciders.is_empty() { "—".to_owned() } else { record.deciders.clone() }}</dd>
            <dt>"Version"</dt><dd>{record.version}</dd>
        </dl>
        {(!finding_items.is_empty()).then(|| view! {
            <h3>{if record.expires_on.is_some() { "Findings waived" } else { "Findings" }}</h3>
            <ul class="decision-links">{finding_items}</ul>
        })}
        {(!intervention_items.is_empty()).then(|| view! {
            <h3>"Interventions"</h3>
            <ul class="decision-links">{intervention_items}</ul>
        })}
        <div class="actions">
            <a class="button secondary" href=page_href(engagement_id, Some(decision_id), Some(decision_id), Some("editor".to_owned()))>
                "Edit "{record.reference()}
            </a>
            <a href=page_href(engagement_id, None, None, Some(anchor))>"Close"</a>
        </div>
    }
    .into_any()
}

/// The form's fields as a record has them.
fn input_of(d: &Decision) -> DecisionInput {
    DecisionInput {
        title: d.title.clone(),
        status: d.status.as_str().to_owned(),
        context: d.context.clone(),
        options: d.options.clone(),
        decision: d.decision.clone(),
        consequences: d.consequences.clone(),
        decided_on: d.decided_on.clone().unwrap_or_default(),
        deciders: d.deciders.clone(),
        supersedes: d.supersedes.as_ref().map(|r| r.decision_id),
        expires_on: d.expires_on.clone().unwrap_or_default(),
        finding_ids: d.finding_ids.clone(),
        intervention_ids: d.intervention_ids.clone(),
        version: d.version,
    }
}

/// Which message a field shows: the browser's own check once the field was changed (or the
/// form was submitted), else what the server said about it on the last save.
#[derive(Clone, Copy)]
struct FieldMessages {
    client: Memo<Vec<FieldError>>,
    server: Signal<Option<UiError>>,
    touched: RwSignal<Vec<&'static str>>,
    submitted: RwSignal<bool>,
}

impl FieldMessages {
    fn message(&self, field: &'static str) -> Option<String> {
        let touched = self.touched.with(|t| t.contains(&field));
        let client = || {
            self.client.with(|errors| {
                errors
                    .iter()
                    .find(|e| e.field == field)
                    .map(|e| e.message.clone())
            })
        };
        if touched {
            client()
        } else {
            self.server
                .get()
                .and_then(|e| e.field(field))
                .or_else(|| self.submitted.get().then(client).flatten())
        }
    }

    fn touch(&self, field: &'static str) {
        if !self.touched.with_untracked(|t| t.contains(&field)) {
            self.touched.update(|t| t.push(field));
        }
    }

    fn view(self, field: &'static str) -> impl IntoView {
        move || {
            self.message(field).map(|message| {
                view! { <p class="field-error" id=format!("decision-{field}-error") role="alert">{message}</p> }
            })
        }
    }

    fn invalid(
        self,
        field: &'static str,
    ) -> impl Fn() -> Option<&'static str> + Send + Sync + Copy {
        move || self.message(field).map(|_| "true")
    }
}

/// The text signals of the editor, as the form has them.
#[derive(Clone, Copy)]
struct EditorFields {
    title: RwSignal<String>,
    status: RwSignal<String>,
    decided_on: RwSignal<String>,
    deciders: RwSignal<String>,
    supersedes: RwSignal<String>,
    expires_on: RwSignal<String>,
    context: RwSignal<String>,
    options: RwSignal<String>,
    decision: RwSignal<String>,
    consequences: RwSignal<String>,
    finding_ids: RwSignal<Vec<i64>>,
}

impl EditorFields {
    fn new(input: &DecisionInput) -> Self {
        Self {
            title: RwSignal::new(input.title.clone()),
            status: RwSignal::new(input.status.clone()),
            decided_on: RwSignal::new(input.decided_on.clone()),
            deciders: RwSignal::new(input.deciders.clone()),
            supersedes: RwSignal::new(input.supersedes.map(|s| s.to_string()).unwrap_or_default()),
            expires_on: RwSignal::new(input.expires_on.clone()),
            context: RwSignal::new(input.context.clone()),
            options: RwSignal::new(input.options.clone()),
            decision: RwSignal::new(input.decision.clone()),
            consequences: RwSignal::new(input.consequences.clone()),
            finding_ids: RwSignal::new(input.finding_ids.clone()),
        }
    }

    /// What the browser can check by itself (the same `parse` the server runs).
    fn input(&self) -> DecisionInput {
        DecisionInput {
            title: self.title.get(),
            status: self.status.get(),
            context: self.context.get(),
            options: self.options.get(),
            decision: self.decision.get(),
            consequences: self.consequences.get(),
            decided_on: self.decided_on.get(),
            deciders: self.deciders.get(),
            supersedes: self.supersedes.get().trim().parse().ok(),
            expires_on: self.expires_on.get(),
            finding_ids: self.finding_ids.get(),
            intervention_ids: Vec::new(),
            version: 0,
        }
    }
}

fn decision_editor(
    ctx: EditorContext,
    current: Option<Decision>,
    save: ServerAction<SaveDecision>,
    data: Resource<Result<DecisionsData, UiError>>,
) -> AnyView {
    let engagement_id = ctx.engagement_id;
    let initial = current
        .as_ref()
        .map(input_of)
        .unwrap_or_else(|| DecisionInput {
            status: DecisionStatus::Proposed.as_str().to_owned(),
            decided_on: ctx.today.clone(),
            ..DecisionInput::default()
        });
    let fields = EditorFields::new(&initial);
    let client = Memo::new(move |_| fields.input().parse().err().unwrap_or_default());
    let server = action_error(save);
    let messages = FieldMessages {
        client,
        server,
        touched: RwSignal::new(Vec::new()),
        submitted: RwSignal::new(false),
    };
    // Each answer from the server starts the fields' messages afresh.
    Effect::new(move |_| {
        if save.version().get() > 0 {
            messages.touched.set(Vec::new());
        }
    });
    let pending = save.pending();
    let heading = match &current {
        Some(d) => format!("Edit {} · {}", d.reference(), d.title),
        None => "New decision record".to_owned(),
    };
    let decision_id = current
        .as_ref()
        .map(|d| d.decision_id.to_string())
        .unwrap_or_default();
    let reference_of = {
        let decisions = ctx.decisions.clone();
        move |id: i64| {
            decisions
                .iter()
                .find(|d| d.decision_id == id)
                .map(|d| d.reference())
        }
    };
    let others: Vec<(i64, String)> = ctx
        .decisions
        .iter()
        .filter(|d| Some(d.decision_id) != current.as_ref().map(|c| c.decision_id))
        .map(|d| (d.decision_id, format!("{} · {}", d.reference(), d.title)))
        .collect();
    let finding_refs: Vec<(i64, String)> = ctx
        .findings
        .iter()
        .map(|f| (f.id, f.reference.clone()))
        .collect();
    let supersede_hint = move || {
        let target = fields.supersedes.get().trim().parse::<i64>().ok()?;
        let reference = reference_of(target)?;
        let accepted = fields.status.get() == DecisionStatus::Accepted.as_str();
        Some(view! {
            <p class="hint" role="status">
                {if accepted {
                    format!("Saving marks {reference} as superseded by this record and links the two.")
                } else {
                    format!("{reference} is marked superseded once this record is accepted.")
                }}
            </p>
        })
    };
    let waiver_hint = move || {
        let until = fields.expires_on.get();
        if until.trim().is_empty() {
            return None;
        }
        let chosen = fields.finding_ids.get();
        let refs: Vec<String> = finding_refs
            .iter()
            .filter(|(id, _)| chosen.contains(id))
            .map(|(_, r)| r.clone())
            .collect();
        let accepted = fields.status.get() == DecisionStatus::Accepted.as_str();
        let text = if refs.is_empty() {
            "Tick the findings this waiver covers.".to_owned()
        } else if accepted {
            format!(
                "Saving makes {} accepted risks until {until}; they reopen after that date.",
                refs.join(", ")
            )
        } else {
            format!(
                "{} become accepted risks until {until} once this record is accepted.",
                refs.join(", ")
            )
        };
        Some(view! { <p class="hint" role="status">{text}</p> })
    };
    let on_submit_click = move |ev: leptos::ev::MouseEvent| {
        if !messages.client.with_untracked(|e| e.is_empty()) {
            ev.prevent_default();
            messages.submitted.set(true);
            messages.touched.set(Vec::new());
        }
    };
    let problem = move || {
        if messages.submitted.get() && !messages.client.with(|e| e.is_empty()) {
            return Some(
                view! {
                    <div class="banner error" role="alert"><p>"Some fields need another look."</p></div>
                }
                .into_any(),
            );
        }
        let error = server.get()?;
        if error.code == "conflict" && error.fields.is_empty() {
            let reload = move |ev: leptos::ev::MouseEvent| {
                ev.prevent_default();
                save.clear();
                data.refetch();
            };
            let href = page_href(engagement_id, None, None, Some("editor".to_owned()));
            return Some(
                view! {
                    <div class="banner error" role="alert">
                        <p>{error.message.clone()}</p>
                        <p>"Reloading shows the newer version in the form; copy anything you typed that you want to keep first."</p>
                        <a class="button secondary" href=href on:click=reload>"Reload the record"</a>
                    </div>
                }
                .into_any(),
            );
        }
        Some(
            view! {
                <div class="banner error" role="alert">
                    <p>{error.message.clone()}</p>
                    {error.request_id.clone().map(|id| view! { <p class="muted small">"Request id: "<code>{id}</code></p> })}
                </div>
            }
            .into_any(),
        )
    };
    let finding_picker = link_picker(
        "Findings",
        "finding_ids",
        ctx.findings.clone(),
        initial.finding_ids.clone(),
        Some(fields.finding_ids),
        format!("/engagements/{engagement_id}/findings"),
        "No findings yet. Write or suggest them on the Findings page, then link them here.",
    );
    let intervention_picker = link_picker(
        "Interventions",
        "intervention_ids",
        ctx.interventions.clone(),
        initial.intervention_ids.clone(),
        None,
        format!("/engagements/{engagement_id}/interventions"),
        "No interventions yet. Plan them on the Interventions page, then link them here.",
    );
    let cancel = current.as_ref().map(|d| {
        view! {
            <a href=page_href(engagement_id, Some(d.decision_id), None, Some(anchor_of(d.number)))>"Cancel"</a>
        }
    });
    let button = if current.is_some() {
        "Save changes"
    } else {
        "Save record"
    };
    let status_value = initial.status.clone();
    let supersedes_value = initial.supersedes;
    let markdown = |field: &'static str, label: &'static str, help: &'static str| {
        let (text, html) = match field {
            "context" => (
                fields.context,
                current.as_ref().map(|d| d.context_html.clone()),
            ),
            "options" => (
                fields.options,
                current.as_ref().map(|d| d.options_html.clone()),
            ),
            "decision" => (
                fields.decision,
                current.as_ref().map(|d| d.decision_html.clone()),
            ),
            _ => (
                fields.consequences,
                current.as_ref().map(|d| d.consequences_html.clone()),
            ),
        };
        markdown_field(field, label, help, text, html.unwrap_or_default(), messages)
    };
    let context_field = markdown(
        "context",
        "Context",
        "The forces at play: what the system does, what hurts, what constrains the choice.",
    );
    let options_field = markdown(
        "options",
        "Options considered",
        "One bullet per option, with its pros and cons.",
    );
    let decision_field = markdown(
        "decision",
        "Decision",
        "What was chosen, and why this option over the others.",
    );
    let consequences_field = markdown(
        "consequences",
        "Consequences",
        "What becomes easier, what becomes harder, what to watch.",
    );
    view! {
        <section class="card decision-editor" aria-labelledby="editor-title">
            <h2 id="editor-title">{heading}</h2>
            {problem}
            <ActionForm action=save>
                <input type="hidden" name="engagement_id" value=engagement_id/>
                <input type="hidden" name="decision_id" value=decision_id/>
                <input type="hidden" name="form[version]" value=initial.version/>
                <label for="decision-title">"Title"</label>
                <input id="decision-title" name="form[title]" required maxlength="200"
                    value=initial.title.clone()
                    placeholder="Use PostgreSQL for everything"
                    aria-describedby="decision-title-error"
                    aria-invalid=messages.invalid("title")
                    on:input=move |ev| { fields.title.set(event_target_value(&ev)); messages.touch("title"); }/>
                {messages.view("title")}
                <div class="row">
                    <div>
                        <label for="decision-status">"Status"</label>
                        <select id="decision-status" name="form[status]"
                            on:change=move |ev| { fields.status.set(event_target_value(&ev)); messages.touch("status"); }>
                            {DecisionStatus::ALL.into_iter().map(|s| view! {
                                <option value=s.as_str() selected=s.as_str() == status_value>{s.label()}</option>
                            }).collect_view()}
                        </select>
                        {messages.view("status")}
                    </div>
                    <div>
                        <label for="decision-decided_on">"Date"</label>
                        <input id="decision-decided_on" type="date" name="form[decided_on]"
                            value=initial.decided_on.clone()
                            aria-invalid=messages.invalid("decided_on")
                            on:input=move |ev| { fields.decided_on.set(event_target_value(&ev)); messages.touch("decided_on"); }/>
                        {messages.view("decided_on")}
                    </div>
                </div>
                <label for="decision-deciders">"Deciders"</label>
                <input id="decision-deciders" name="form[deciders]" maxlength="300"
                    value=initial.deciders.clone()
                    placeholder="CTO, lead backend engineer"
                    aria-invalid=messages.invalid("deciders")
                    on:input=move |ev| { fields.deciders.set(event_target_value(&ev)); messages.touch("deciders"); }/>
                {messages.view("deciders")}
                <p class="help">"Markdown in the four texts below; the preview with each shows it as the record will."</p>
                {context_field}
                {options_field}
                {decision_field}
                {consequences_field}
                <label for="decision-supersedes">"Supersedes"</label>
                <select id="decision-supersedes" name="form[supersedes]" aria-describedby="decision-supersedes-help"
                    on:change=move |ev| { fields.supersedes.set(event_target_value(&ev)); messages.touch("supersedes"); }>
                    <option value="" selected=supersedes_value.is_none()>"Nothing"</option>
                    {others.into_iter().map(|(id, label)| view! {
                        <option value=id.to_string() selected=supersedes_value == Some(id)>{label}</option>
                    }).collect_view()}
                </select>
                <p class="help" id="decision-supersedes-help">"The record this one replaces."</p>
                {supersede_hint}
                {messages.view("supersedes")}
                <label for="decision-expires_on">"Waiver expiry"</label>
                <input id="decision-expires_on" type="date" name="form[expires_on]"
                    value=initial.expires_on.clone()
                    aria-describedby="decision-expires_on-help"
                    aria-invalid=messages.invalid("expires_on")
                    on:input=move |ev| { fields.expires_on.set(event_target_value(&ev)); messages.touch("expires_on"); }/>
                <p class="help" id="decision-expires_on-help">
                    "A date here makes this record a waiver of the findings linked below: while it is accepted, "
                    "they count as accepted risks until that date. Leave it empty for an ordinary decision."
                </p>
                {waiver_hint}
                {messages.view("expires_on")}
                {finding_picker}
                {messages.view("finding_ids")}
                {intervention_picker}
                {messages.view("intervention_ids")}
                <div class="actions">
                    <button type="submit" disabled=move || pending.get() on:click=on_submit_click>
                        {move || if pending.get() { "Saving…" } else { button }}
                    </button>
                    {cancel}
                </div>
            </ActionForm>
        </section>
    }
    .into_any()
}

/// A group of checkboxes naming findings or interventions.
fn link_picker(
    legend: &'static str,
    field: &'static str,
    choices: Vec<LinkChoice>,
    checked: Vec<i64>,
    track: Option<RwSignal<Vec<i64>>>,
    page: String,
    empty: &'static str,
) -> AnyView {
    if choices.is_empty() {
        return view! {
            <fieldset class="link-picker">
                <legend>{legend}</legend>
                <p class="muted small">{empty}" "<a href=page>{legend}</a></p>
            </fieldset>
        }
        .into_any();
    }
    view! {
        <fieldset class="link-picker">
            <legend>{legend}</legend>
            {choices.into_iter().map(|c| {
                let id = c.id;
                let toggle = move |ev: leptos::ev::Event| {
                    if let Some(track) = track {
                        let on = event_target_checked(&ev);
                        track.update(|ids| {
                            ids.retain(|x| *x != id);
                            if on {
                                ids.push(id);
                            }
                        });
                    }
                };
                view! {
                    <label class="check">
                        <input type="checkbox" name=format!("form[{field}][]") value=id.to_string()
                            checked=checked.contains(&id) on:change=toggle/>
                        <span><strong>{c.reference.clone()}</strong>" "{c.title.clone()}</span>
                    </label>
                }
            }).collect_view()}
        </fieldset>
    }
    .into_any()
}

/// A Markdown textarea with its preview, asked of the server when typing pauses.
fn markdown_field(
    field: &'static str,
    label: &'static str,
    help: &'static str,
    text: RwSignal<String>,
    initial_html: String,
    messages: FieldMessages,
) -> AnyView {
    let html = RwSignal::new(initial_html);
    let preview_error = RwSignal::new(None::<String>);
    let updating = RwSignal::new(false);
    let timer = StoredValue::new(None::<TimeoutHandle>);
    // Only the newest request may write the preview; an older one answering late is ignored.
    let asked = StoredValue::new(0_u64);
    let on_input = move |ev: leptos::ev::Event| {
        let value = event_target_value(&ev);
        text.set(value.clone());
        messages.touch(field);
        if let Some(Some(handle)) = timer.try_get_value() {
            handle.clear();
        }
        updating.set(true);
        let handle = set_timeout_with_handle(
            move || {
                let Some(n) = asked.try_update_value(|n| {
                    *n += 1;
                    *n
                }) else {
                    return;
                };
                leptos::task::spawn_local(async move {
                    let result = preview_decision_markdown(value).await;
                    if asked.try_get_value() != Some(n) {
                        return;
                    }
                    match result {
                        Ok(rendered) => {
                            let _ = html.try_set(rendered);
                            let _ = preview_error.try_set(None);
                        }
                        Err(e) => {
                            let _ = preview_error.try_set(Some(e.message));
                        }
                    }
                    let _ = updating.try_set(false);
                });
            },
            PREVIEW_DELAY,
        )
        .ok();
        timer.try_set_value(handle);
    };
    let id = format!("decision-{field}");
    let help_id = format!("{id}-help");
    let preview_label = format!("Preview: {label}");
    view! {
        <div class="markdown-field">
            <div class="markdown-input">
                <label for=id.clone()>{label}" "<span class="muted small">"(Markdown)"</span></label>
                <textarea id=id name=format!("form[{field}]") rows="6"
                    maxlength=MAX_MARKDOWN_CHARS.to_string()
                    aria-describedby=help_id.clone()
                    aria-invalid=messages.invalid(field)
                    on:input=on_input>{text.get_untracked()}</textarea>
                <p class="help" id=help_id>{help}</p>
                {messages.view(field)}
            </div>
            <div class="markdown-preview" role="region" aria-label=preview_label
                aria-busy=move || if updating.get() { "true" } else { "false" }>
                <p class="preview-label muted small">
                    "Preview"
                    {move || updating.get().then_some(" · updating…")}
                </p>
                {move || preview_error.get().map(|e| view! { <p class="field-error">{e}</p> })}
                {move || html.with(|h| h.trim().is_empty()).then(|| view! {
                    <p class="muted small">"Nothing to show yet."</p>
                })}
                <div class="markdown" inner_html=move || html.get()></div>
            </div>
        </div>
    }
    .into_any()
}

/// The ADR zip import: a plain multipart form to the server's import route, which answers with
/// a redirect back here and the report shown above.
fn import_form(engagement_id: i64) -> AnyView {
    view! {
        <section class="card" aria-labelledby="import-title">
            <h2 id="import-title">"Import ADR zip"</h2>
            <p class="muted">
                "A zip of Markdown records in MADR or Nygard form, as adr-tools and Log4brains keep them in "
                <code>"docs/adr/"</code>". They are added to this engagement; a number already taken here "
                "moves the record after the existing ones. Files that are not records are listed with the reason."
            </p>
            <form method="post" action=format!("/engagements/{engagement_id}/decisions/import")
                enctype="multipart/form-data" class="inline-form">
                <label for="adr-zip">"ADR zip (at most 10 MB)"</label>
                <input id="adr-zip" type="file" name="file" accept=".zip,application/zip" required/>
                <button type="submit">"Import"</button>
            </form>
        </section>
    }
    .into_any()
}
