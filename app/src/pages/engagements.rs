//! Engagements: the list (search, keyset pages), creating, viewing, editing and archiving.
use audit::engagements::{
    Engagement, EngagementForm, EngagementPage, EngagementQuery, Stage, Status,
};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::{Form, A};
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::components::{action_error, format_time, ErrorBanner, FieldMessage, LoadError};
use crate::error::UiError;

#[cfg(feature = "ssr")]
use crate::state::{app_state, current_member, fail};

#[server(prefix = "/fn", endpoint = "list_engagements")]
pub async fn list_engagements(query: EngagementQuery) -> Result<EngagementPage, UiError> {
    let member = current_member().await?;
    let state = app_state()?;
    audit::engagements::list(&state.db, member.firm_id, &query)
        .await
        .map_err(fail)
}

#[server(prefix = "/fn", endpoint = "get_engagement")]
pub async fn get_engagement(engagement_id: i64) -> Result<Engagement, UiError> {
    let member = current_member().await?;
    let state = app_state()?;
    audit::engagements::get(&state.db, member.firm_id, engagement_id)
        .await
        .map_err(fail)
}

#[server(prefix = "/fn", endpoint = "create_engagement")]
pub async fn create_engagement(form: EngagementForm) -> Result<i64, UiError> {
    let member = current_member().await?;
    let state = app_state()?;
    let fields = form.parse().map_err(|e| fail(audit::Error::Invalid(e)))?;
    let engagement = audit::engagements::create(&state.db, &member, &fields)
        .await
        .map_err(fail)?;
    leptos_axum::redirect(&format!("/engagements/{}", engagement.engagement_id));
    Ok(engagement.engagement_id)
}

#[server(prefix = "/fn", endpoint = "update_engagement")]
pub async fn update_engagement(engagement_id: i64, form: EngagementForm) -> Result<i64, UiError> {
    let member = current_member().await?;
    let state = app_state()?;
    let fields = form.parse().map_err(|e| fail(audit::Error::Invalid(e)))?;
    audit::engagements::update(&state.db, member.firm_id, engagement_id, &fields)
        .await
        .map_err(fail)?;
    leptos_axum::redirect(&format!("/engagements/{engagement_id}"));
    Ok(engagement_id)
}

#[server(prefix = "/fn", endpoint = "archive_engagement")]
pub async fn archive_engagement(engagement_id: i64) -> Result<(), UiError> {
    let member = current_member().await?;
    let state = app_state()?;
    audit::engagements::archive(&state.db, member.firm_id, engagement_id)
        .await
        .map_err(fail)?;
    leptos_axum::redirect("/engagements");
    Ok(())
}

#[component]
pub fn EngagementListPage() -> impl IntoView {
    let query = use_query_map();
    let search = move || query.with(|q| q.get("q").unwrap_or_default());
    let request = move || {
        query.with(|q| EngagementQuery {
            search: q.get("q").filter(|s| !s.trim().is_empty()),
            include_archived: q.get("archived").is_some_and(|v| v == "1"),
            before: q.get("before").and_then(|b| b.parse().ok()),
            limit: None,
        })
    };
    let page = Resource::new(request, list_engagements);
    view! {
        <Title text="Engagements"/>
        <div class="page-head">
            <h1>"Engagements"</h1>
            <A href="/engagements/new" attr:class="button">"New engagement"</A>
        </div>
        <Form method="GET" action="" attr:class="search" attr:role="search">
            <label for="q">"Search"</label>
            <input id="q" type="search" name="q" value=search placeholder="Client or system name"/>
            <label class="check">
                <input type="checkbox" name="archived" value="1" checked=move || request().include_archived/>
                "Include archived"
            </label>
            <button type="submit">"Search"</button>
        </Form>
        <Transition fallback=|| view! { <p class="muted">"Loading engagements…"</p> }>
            {move || Suspend::new(async move {
                match page.await {
                    Err(e) => view! { <LoadError error=e/> }.into_any(),
                    Ok(p) => engagement_table(p, request()).into_any(),
                }
            })}
        </Transition>
    }
}

fn engagement_table(page: EngagementPage, asked: EngagementQuery) -> impl IntoView {
    if page.items.is_empty() {
        let message = if asked.search.is_some() {
            view! { <p>"No engagements match this search. "<a href="/engagements">"Show all"</a></p> }.into_any()
        } else if asked.before.is_some() {
            view! { <p>"No older engagements. "<a href="/engagements">"Back to the newest"</a></p> }
                .into_any()
        } else {
            view! {
                <p>"No engagements yet. Open one for your first client with “New engagement” above; "
                    "then invite its founders to the questionnaire."</p>
            }
            .into_any()
        };
        return view! { <div class="empty card">{message}</div> }.into_any();
    }
    let next_href = page.next_before.map(|before| {
        let mut href = format!("/engagements?before={before}");
        if let Some(q) = &asked.search {
            href.push_str(&format!("&q={}", audit::fields::query_value(q)));
        }
        if asked.include_archived {
            href.push_str("&archived=1");
        }
        href
    });
    view! {
        <div class="table-wrap">
            <table>
                <thead>
                    <tr><th scope="col">"Client"</th><th scope="col">"System"</th><th scope="col">"Stage"</th><th scope="col">"Status"</th><th scope="col">"Due"</th><th scope="col">"Updated"</th></tr>
                </thead>
                <tbody>
                    {page.items.into_iter().map(|e| view! {
                        <tr>
                            <td><a href=format!("/engagements/{}", e.engagement_id)>{e.client_name}</a></td>
                            <td>{e.system_name}</td>
                            <td>{e.stage.label()}</td>
                            <td><span class=format!("pill {}", e.status.as_str())>{e.status.label()}</span></td>
                            <td>{e.due_date.unwrap_or_else(|| "—".to_owned())}</td>
                            <td>{format_time(e.updated_at)}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </div>
        <nav class="pager" aria-label="Pages">
            {asked.before.map(|_| view! { <a href="/engagements">"Newest"</a> })}
            {next_href.map(|href| view! { <a href=href rel="next">"Older →"</a> })}
        </nav>
    }
    .into_any()
}

/// The fields of the engagement form, shared by "new" and "edit".
#[component]
fn EngagementFields(
    initial: EngagementForm,
    error: Signal<Option<UiError>>,
    editing: bool,
) -> impl IntoView {
    let stage = initial.stage.clone();
    let status = initial.status.clone();
    view! {
        <label for="client_name">"Client name"</label>
        <input id="client_name" name="form[client_name]" required maxlength="120" value=initial.client_name/>
        <FieldMessage error field="client_name"/>
        <label for="system_name">"System name"</label>
        <input id="system_name" name="form[system_name]" required maxlength="120" value=initial.system_name/>
        <FieldMessage error field="system_name"/>
        <label for="description">"Description"</label>
        <textarea id="description" name="form[description]" rows="4" maxlength="10000">{initial.description}</textarea>
        <FieldMessage error field="description"/>
        <label for="founders">"Founders"</label>
        <textarea id="founders" name="form[founders]" rows="3" aria-describedby="founders-help">{initial.founders}</textarea>
        <p class="help" id="founders-help">"One per line, as "<code>"Name <name@example.com>"</code>". They answer the questionnaire."</p>
        <FieldMessage error field="founders"/>
        <div class="row">
            <div>
                <label for="team_size">"Team size"</label>
                <input id="team_size" name="form[team_size]" inputmode="numeric" value=initial.team_size/>
                <FieldMessage error field="team_size"/>
            </div>
            <div>
                <label for="stage">"Stage"</label>
                <select id="stage" name="form[stage]">
                    {Stage::ALL.into_iter().map(|s| {
                        let selected = s.as_str() == stage || (stage.is_empty() && s == Stage::default());
                        view! { <option value=s.as_str() selected=selected>{s.label()}</option> }
                    }).collect_view()}
                </select>
                <FieldMessage error field="stage"/>
            </div>
        </div>
        <div class="row">
            <div>
                <label for="start_date">"Start date"</label>
                <input id="start_date" name="form[start_date]" type="date" value=initial.start_date/>
                <FieldMessage error field="start_date"/>
            </div>
            <div>
                <label for="due_date">"Due date"</label>
                <input id="due_date" name="form[due_date]" type="date" value=initial.due_date/>
                <FieldMessage error field="due_date"/>
            </div>
        </div>
        {editing.then(|| view! {
            <label for="status">"Status"</label>
            <select id="status" name="form[status]">
                {Status::ALL.into_iter().map(|s| {
                    let selected = s.as_str() == status;
                    view! { <option value=s.as_str() selected=selected>{s.label()}</option> }
                }).collect_view()}
            </select>
            <FieldMessage error field="status"/>
        })}
    }
}

#[component]
pub fn NewEngagementPage() -> impl IntoView {
    let action = ServerAction::<CreateEngagement>::new();
    let error = action_error(action);
    let pending = action.pending();
    view! {
        <Title text="New engagement"/>
        <section class="card">
            <h1>"New engagement"</h1>
            <ErrorBanner error/>
            <ActionForm action>
                <EngagementFields initial=EngagementForm::default() error editing=false/>
                <div class="actions">
                    <button type="submit" disabled=move || pending.get()>
                        {move || if pending.get() { "Creating…" } else { "Create engagement" }}
                    </button>
                    <a href="/engagements">"Cancel"</a>
                </div>
            </ActionForm>
        </section>
    }
}

fn engagement_id_param() -> impl Fn() -> i64 + Copy + Send + Sync + 'static {
    let params = use_params_map();
    // A non-numeric id can match nothing; -1 makes the lookup answer "not found".
    move || params.with(|p| p.get("id").and_then(|id| id.parse().ok()).unwrap_or(-1))
}

#[component]
pub fn EngagementPage() -> impl IntoView {
    let id = engagement_id_param();
    let engagement = Resource::new(id, get_engagement);
    let contradictions = Resource::new(id, crate::pages::probes::contradiction_count);
    let archive = ServerAction::<ArchiveEngagement>::new();
    let archive_error = action_error(archive);
    view! {
        <Suspense fallback=|| view! { <p class="muted">"Loading the engagement…"</p> }>
            {move || Suspend::new(async move {
                // The callout is a bonus: if the comparison cannot be made, the page shows without it.
                let contradicted = contradictions.await.unwrap_or(0);
                match engagement.await {
                    Err(e) => view! { <LoadError error=e/> }.into_any(),
                    Ok(e) => view! {
                        <Title text=e.client_name.clone()/>
                        <div class="page-head">
                            <div>
                                <h1>{e.client_name.clone()}</h1>
                                <p class="muted">{e.system_name.clone()}" · "{e.stage.label()}" · "
                                    <span class=format!("pill {}", e.status.as_str())>{e.status.label()}</span></p>
                            </div>
                            <a class="button secondary" href=format!("/engagements/{}/edit", e.engagement_id)>"Edit"</a>
                        </div>
                        {engagement_links(e.engagement_id)}
                        {contradiction_callout(e.engagement_id, contradicted)}
                        <section class="card">
                            <h2>"About"</h2>
                            {if e.description.is_empty() {
                                view! { <p class="muted">"No description yet."</p> }.into_any()
                            } else {
                                view! { <p class="pre">{e.description.clone()}</p> }.into_any()
                            }}
                            <dl class="facts">
                                <dt>"Team size"</dt><dd>{e.team_size.map(|n| n.to_string()).unwrap_or_else(|| "—".into())}</dd>
                                <dt>"Start"</dt><dd>{e.start_date.clone().unwrap_or_else(|| "—".into())}</dd>
                                <dt>"Due"</dt><dd>{e.due_date.clone().unwrap_or_else(|| "—".into())}</dd>
                                <dt>"Created"</dt><dd>{format_time(e.created_at)}</dd>
                            </dl>
                        </section>
                        {(e.founders.is_empty()).then(|| view! {
                            <p class="muted">"No founders are listed yet. "<a href=format!("/engagements/{}/edit", e.engagement_id)>"Add them"</a>
                                " to invite them with one click, or invite anyone below."</p>
                        })}
                    }.into_any(),
                }
            })}
        </Suspense>
        // Outside the Suspense above: a component created inside a Suspend is created twice
        // during server rendering (Leptos walks the children again once the first resources
        // arrive), and so were these cards' resources, loaded and sent twice on every view.
        // They take the id once: no link leads from one engagement's overview to another's, so
        // the route never changes its id under a mounted page.
        <crate::pages::invitations::QuestionnairePanel engagement_id=untrack(id) engagement=engagement/>
        <crate::pages::activity::ActivityCard engagement_id=untrack(id)/>
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                match engagement.await {
                    Err(_) => ().into_any(),
                    Ok(e) => view! {
                        {(e.status != Status::Archived).then(|| view! {
                            <section class="card danger-zone">
                                <h2>"Archive"</h2>
                                <ErrorBanner error=archive_error/>
                                <details>
                                    <summary>"Archive this engagement…"</summary>
                                    <p>"It leaves the engagements list but keeps everything; you can still open it with “Include archived”."</p>
                                    <ActionForm action=archive>
                                        <input type="hidden" name="engagement_id" value=e.engagement_id/>
                                        <button type="submit" class="danger">"Yes, archive it"</button>
                                    </ActionForm>
                                </details>
                            </section>
                        })}
                    }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// "2 answers are contradicted by probe evidence → Claimed versus observed", when any are.
fn contradiction_callout(engagement_id: i64, contradicted: usize) -> Option<AnyView> {
    let what = match contradicted {
        0 => return None,
        1 => "1 answer is contradicted by probe evidence".to_owned(),
        n => format!("{n} answers are contradicted by probe evidence"),
    };
    Some(
        view! {
            <p class="banner callout contradiction-callout" data-testid="contradiction-callout">
                <strong><span aria-hidden="true">"⚠ "</span>{what}</strong>
                " → "<a href=format!("/engagements/{engagement_id}/probes#claims")>"Claimed versus observed"</a>
            </p>
        }
        .into_any(),
    )
}

/// The engagement's other pages, one row of links under its name.
fn engagement_links(engagement_id: i64) -> impl IntoView {
    let links = [
        ("Questionnaire", "questionnaire"),
        ("Scores", "scores"),
        ("Findings", "findings"),
        ("Interventions", "interventions"),
        ("Decisions", "decisions"),
        ("Probes", "probes"),
        ("Report", "report"),
    ];
    view! {
        <nav class="subnav engagement-links" aria-label="Engagement pages">
            {links.into_iter().map(|(label, page)| view! {
                <a href=format!("/engagements/{engagement_id}/{page}")>{label}</a>
            }).collect_view()}
        </nav>
    }
}

#[component]
pub fn EditEngagementPage() -> impl IntoView {
    let id = engagement_id_param();
    let engagement = Resource::new(id, get_engagement);
    let action = ServerAction::<UpdateEngagement>::new();
    let error = action_error(action);
    let pending = action.pending();
    view! {
        <Suspense fallback=|| view! { <p class="muted">"Loading the engagement…"</p> }>
            {move || Suspend::new(async move {
                match engagement.await {
                    Err(e) => view! { <LoadError error=e/> }.into_any(),
                    Ok(e) => view! {
                        <Title text=format!("Edit {}", e.client_name)/>
                        <section class="card">
                            <h1>"Edit "{e.client_name.clone()}</h1>
                            <ErrorBanner error/>
                            <ActionForm action>
                                <input type="hidden" name="engagement_id" value=e.engagement_id/>
                                <EngagementFields initial=EngagementForm::from_engagement(&e) error editing=true/>
                                <div class="actions">
                                    <button type="submit" disabled=move || pending.get()>"Save changes"</button>
                                    <a href=format!("/engagements/{}", e.engagement_id)>"Cancel"</a>
                                </div>
                            </ActionForm>
                        </section>
                    }.into_any(),
                }
            })}
        </Suspense>
    }
}
