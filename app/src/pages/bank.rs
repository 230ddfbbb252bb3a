//! The firm's question bank: templates cloned from the built-in bank, the editor (wording,
//! weights, red flags, added and removed questions) and publishing a template as the firm's next
//! version. Owner only; a consultant gets 403.
use audit::questionnaire::{
    Area, AreaBank, BankTemplate, BankTemplateSummary, BankVersionInfo, NewQuestion, Question,
    QuestionEdit, MAX_QUESTION_HELP_CHARS, MAX_QUESTION_PROMPT_CHARS, MAX_TEMPLATE_NAME_CHARS,
    MAX_WEIGHT, MIN_WEIGHT,
};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use crate::components::{action_error, format_time, ErrorBanner, FieldMessage, LoadError};
use crate::error::UiError;

#[cfg(feature = "ssr")]
use crate::state::{app_state, current_owner, fail};

#[server(prefix = "/fn", endpoint = "list_bank_templates")]
pub async fn list_bank_templates() -> Result<Vec<BankTemplateSummary>, UiError> {
    let owner = current_owner().await?;
    let state = app_state()?;
    audit::questionnaire::list_templates(&state.db, owner.firm_id)
        .await
        .map_err(fail)
}

#[server(prefix = "/fn", endpoint = "clone_bank_template")]
pub async fn clone_bank_template(name: String) -> Result<i64, UiError> {
    let owner = current_owner().await?;
    let state = app_state()?;
    let id = audit::questionnaire::clone_builtin(&state.db, &owner, &name)
        .await
        .map_err(fail)?;
    leptos_axum::redirect(&format!("/firm/bank/{id}"));
    Ok(id)
}

#[server(prefix = "/fn", endpoint = "get_bank_template")]
pub async fn get_bank_template(bank_template_id: i64) -> Result<BankTemplate, UiError> {
    let owner = current_owner().await?;
    let state = app_state()?;
    audit::questionnaire::get_template(&state.db, owner.firm_id, bank_template_id)
        .await
        .map_err(fail)
}

#[server(prefix = "/fn", endpoint = "save_bank_template_question")]
pub async fn save_bank_template_question(
    bank_template_id: i64,
    form: QuestionEdit,
) -> Result<Question, UiError> {
    let owner = current_owner().await?;
    let state = app_state()?;
    audit::questionnaire::update_question(&state.db, &owner, bank_template_id, &form)
        .await
        .map_err(fail)
}

#[server(prefix = "/fn", endpoint = "add_bank_template_question")]
pub async fn add_bank_template_question(
    bank_template_id: i64,
    form: NewQuestion,
) -> Result<Question, UiError> {
    let owner = current_owner().await?;
    let state = app_state()?;
    audit::questionnaire::add_question(&state.db, &owner, bank_template_id, &form)
        .await
        .map_err(fail)
}

#[server(prefix = "/fn", endpoint = "remove_bank_template_question")]
pub async fn remove_bank_template_question(
    bank_template_id: i64,
    question_id: String,
) -> Result<(), UiError> {
    let owner = current_owner().await?;
    let state = app_state()?;
    audit::questionnaire::remove_question(&state.db, &owner, bank_template_id, &question_id)
        .await
        .map_err(fail)
}

#[server(prefix = "/fn", endpoint = "publish_bank_template")]
pub async fn publish_bank_template(bank_template_id: i64) -> Result<BankVersionInfo, UiError> {
    let owner = current_owner().await?;
    let state = app_state()?;
    audit::questionnaire::publish(&state.db, &owner, bank_template_id)
        .await
        .map_err(fail)
}

/// Bumps `refresh` each time `action` succeeds, so the page reloads the template then (and
/// keeps what was typed when it failed).
fn refresh_on_success<S, T>(action: ServerAction<S>, refresh: RwSignal<usize>)
where
    S: leptos::server_fn::ServerFn<Output = T, Error = UiError> + Clone + Send + Sync + 'static,
    T: Clone + Send + Sync + 'static,
{
    Effect::new(move |_| {
        if matches!(action.value().get(), Some(Ok(_))) {
            refresh.update(|n| *n += 1);
        }
    });
}

fn versions_text(published: &[BankVersionInfo]) -> String {
    published
        .iter()
        .map(|v| format!("v{}", v.version))
        .collect::<Vec<_>>()
        .join(", ")
}

#[component]
pub fn BankTemplatesPage() -> impl IntoView {
    let templates = Resource::new(|| (), |_| list_bank_templates());
    let clone = ServerAction::<CloneBankTemplate>::new();
    let error = action_error(clone);
    let pending = clone.pending();
    view! {
        <Title text="Question bank"/>
        <div class="page-head">
            <h1>"Question bank"</h1>
            <a href="/firm">"Firm"</a>
        </div>
        <Suspense fallback=|| view! { <p class="muted">"Loading the question bank…"</p> }>
            {move || Suspend::new(async move {
                match templates.await {
                    Err(e) => view! { <LoadError error=e/> }.into_any(),
                    Ok(list) => view! {
                        <p class="muted">
                            "Clone the built-in bank into a template, change its questions, weights and wording, "
                            "and publish it. Questionnaires opened afterwards use your newest published version; "
                            "those already open keep theirs."
                        </p>
                        <section class="card">
                            <h2>"New questionnaires use"</h2>
                            <p>{in_use(&list)}</p>
                        </section>
                        {template_list(list)}
                        <section class="card">
                            <h2>"Clone the built-in bank"</h2>
                            <p class="muted">"A copy of the newest built-in questions to edit. Nothing changes for questionnaires until you publish it."</p>
                            <ErrorBanner error/>
                            <ActionForm action=clone attr:class="inline-form">
                                <label for="template_name">"Name"</label>
                                <input id="template_name" name="name" required maxlength=MAX_TEMPLATE_NAME_CHARS.to_string()
                                    placeholder="e.g. Seed-stage audit" aria-describedby="template_name-error"/>
                                <button type="submit" disabled=move || pending.get()>"Clone the built-in bank"</button>
                            </ActionForm>
                            <FieldMessage error field="name"/>
                        </section>
                    }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// Which version new questionnaires pin: the firm's most recently published one, or else the
/// built-in bank (the same rule as `default_bank_version_id`).
fn in_use(list: &[BankTemplateSummary]) -> String {
    list.iter()
        .flat_map(|t| t.published.iter())
        .max_by_key(|v| v.bank_version_id)
        .map(|v| v.label())
        .unwrap_or_else(|| {
            "The built-in bank: your firm has not published a version yet.".to_owned()
        })
}

fn template_list(list: Vec<BankTemplateSummary>) -> impl IntoView {
    if list.is_empty() {
        return view! {
            <div class="empty card">
                <p>"No templates yet. Clone the built-in bank below to make your firm's own version of the questionnaire."</p>
            </div>
        }
        .into_any();
    }
    view! {
        <div class="table-wrap"><table>
            <thead><tr>
                <th scope="col">"Template"</th>
                <th scope="col">"Based on"</th>
                <th scope="col">"Published"</th>
                <th scope="col">"Last edited"</th>
            </tr></thead>
            <tbody>
                {list.into_iter().map(|t| view! {
                    <tr>
                        <td><a href=format!("/firm/bank/{}", t.bank_template_id)>{t.name.clone()}</a></td>
                        <td>{t.based_on.clone().unwrap_or_else(|| "—".to_owned())}</td>
                        <td>{if t.published.is_empty() { "Not yet".to_owned() } else { versions_text(&t.published) }}</td>
                        <td>{format_time(t.updated_at)}</td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table></div>
    }
    .into_any()
}

fn template_id_param() -> impl Fn() -> i64 + Copy + Send + Sync + 'static {
    let params = use_params_map();
    // A non-numeric id can match nothing; -1 makes the lookup answer "not found".
    move || params.with(|p| p.get("id").and_then(|id| id.parse().ok()).unwrap_or(-1))
}

#[component]
pub fn BankTemplatePage() -> impl IntoView {
    let id = template_id_param();
    let refresh = RwSignal::new(0_usize);
    let template = Resource::new(
        move || (id(), refresh.get()),
        |(id, _)| get_bank_template(id),
    );
    let publish = ServerAction::<PublishBankTemplate>::new();
    refresh_on_success(publish, refresh);
    view! {
        <Suspense fallback=|| view! { <p class="muted">"Loading the template…"</p> }>
            {move || Suspend::new(async move {
                match template.await {
                    Err(e) => view! { <LoadError error=e/> }.into_any(),
                    Ok(t) => template_editor(t, publish, refresh).into_any(),
                }
            })}
        </Suspense>
    }
}

fn template_editor(
    t: BankTemplate,
    publish: ServerAction<PublishBankTemplate>,
    refresh: RwSignal<usize>,
) -> impl IntoView {
    let template_id = t.bank_template_id;
    let next = t.next_version();
    let publish_error = action_error(publish);
    let published = move || publish.value().get().and_then(|r| r.ok());
    view! {
        <Title text=t.name.clone()/>
        <div class="page-head">
            <div>
                <h1>{t.name.clone()}</h1>
                <p class="muted">
                    {t.based_on.clone().map(|b| format!("Based on {b} · "))}
                    "Last edited "{format_time(t.updated_at)}
                </p>
            </div>
            <a href="/firm/bank">"All templates"</a>
        </div>
        <section class="card">
            <h2>"Publish"</h2>
            {move || published().map(|v| view! {
                <p class="banner ok" role="status">"Published "{v.label()}". New questionnaires use it."</p>
            })}
            <p>{if t.published.is_empty() {
                "Not published yet: questionnaires do not use this template until you publish it.".to_owned()
            } else {
                format!("Published versions: {}.", versions_text(&t.published))
            }}</p>
            <ErrorBanner error=publish_error/>
            <details class="confirm">
                <summary>"Publish as version "{next}"…"</summary>
                <p>
                    "Version "{next}" freezes the template as it is now. Every questionnaire opened from now on "
                    "uses it. Engagements already under way keep the version their questionnaire started with, "
                    "so their answers and scores do not move."
                </p>
                <ActionForm action=publish>
                    <input type="hidden" name="bank_template_id" value=template_id/>
                    <button type="submit">"Yes, publish version "{next}</button>
                </ActionForm>
            </details>
        </section>
        <nav class="bank-areas card" aria-label="Areas">
            {t.bank.areas.iter().map(|a| view! {
                <a href=format!("#area-{}", a.area.as_str())>{a.title.clone()}" ("{a.questions.len()}")"</a>
            }).collect_view()}
        </nav>
        {t.bank.areas.into_iter().map(|area| view! {
            <AreaEditor template_id area refresh/>
        }).collect_view()}
    }
}

#[component]
fn AreaEditor(template_id: i64, area: AreaBank, refresh: RwSignal<usize>) -> impl IntoView {
    let AreaBank {
        area,
        title,
        question: guiding_question,
        questions,
        ..
    } = area;
    let only_one = questions.len() == 1;
    view! {
        <section class="bank-area" id=format!("area-{}", area.as_str())>
            <h2>{title}</h2>
            <p class="muted">{guiding_question}</p>
            {questions.into_iter().enumerate().map(|(i, question)| view! {
                <QuestionEditor template_id question number=i + 1 only_one refresh/>
            }).collect_view()}
            <AddQuestion template_id area refresh/>
        </section>
    }
}

fn weight_options(selected: u32) -> impl IntoView {
    (MIN_WEIGHT..=MAX_WEIGHT)
        .map(|w| {
            let label = match w {
                1 => "1 (counts least)".to_owned(),
                5 => "5 (counts most)".to_owned(),
                _ => w.to_string(),
            };
            view! { <option value=w.to_string() selected=w == selected>{label}</option> }
        })
        .collect_view()
}

#[component]
fn QuestionEditor(
    template_id: i64,
    question: Question,
    number: usize,
    only_one: bool,
    refresh: RwSignal<usize>,
) -> impl IntoView {
    let save = ServerAction::<SaveBankTemplateQuestion>::new();
    let remove = ServerAction::<RemoveBankTemplateQuestion>::new();
    refresh_on_success(remove, refresh);
    let error = action_error(save);
    let remove_error = action_error(remove);
    let pending = save.pending();
    let saved = move || !pending.get() && matches!(save.value().get(), Some(Ok(_)));
    let Question {
        id: question_id,
        prompt,
        help,
        weight,
        red_flag,
        ..
    } = question;
    let [prompt_id, help_id, weight_id] =
        ["prompt", "help", "weight"].map(|field| format!("{question_id}-{field}"));
    let article_id = format!("q-{question_id}");
    let shown_id = question_id.clone();
    let remove_id = question_id.clone();
    view! {
        // Typing after a save takes the "Saved" mark away until the next save.
        <article class="card bank-question" id=article_id
            on:input=move |_| if matches!(save.value().get_untracked(), Some(Ok(_))) { save.clear() }>
            <ActionForm action=save>
                <input type="hidden" name="bank_template_id" value=template_id/>
                <input type="hidden" name="form[question_id]" value=question_id/>
                <label for=prompt_id.clone()>"Question "{number}</label>
                <textarea id=prompt_id name="form[prompt]" rows="2" required
                    maxlength=MAX_QUESTION_PROMPT_CHARS.to_string()>{prompt}</textarea>
                <FieldMessage error field="prompt"/>
                <label for=help_id.clone()>"Help for founders "<span class="muted small">"(Markdown)"</span></label>
                <textarea id=help_id name="form[help]" rows="4" required
                    maxlength=MAX_QUESTION_HELP_CHARS.to_string()>{help}</textarea>
                <FieldMessage error field="help"/>
                <div class="row">
                    <div>
                        <label for=weight_id.clone()>"Weight"</label>
                        <select id=weight_id name="form[weight]">{weight_options(weight)}</select>
                        <FieldMessage error field="weight"/>
                    </div>
                    <div class="bank-flag">
                        <label class="check">
                            <input type="checkbox" name="form[red_flag]" value="true" checked=red_flag/>
                            "A “no” is a red flag"
                        </label>
                    </div>
                </div>
                <ErrorBanner error/>
                <div class="actions">
                    <button type="submit" disabled=move || pending.get()>"Save"</button>
                    <span class="muted" role="status" aria-live="polite">
                        {move || if pending.get() { "Saving…" } else if saved() { "Saved" } else { "" }}
                    </span>
                    <code class="small muted">{shown_id}</code>
                </div>
            </ActionForm>
            <ErrorBanner error=remove_error/>
            {if only_one {
                view! { <p class="muted small">"The only question of its area: add another before removing it."</p> }.into_any()
            } else {
                view! {
                    <details class="danger-zone">
                        <summary>"Remove…"</summary>
                        <p>"It leaves this template now, and the questionnaires once you publish. Engagements already under way keep it."</p>
                        <ActionForm action=remove>
                            <input type="hidden" name="bank_template_id" value=template_id/>
                            <input type="hidden" name="question_id" value=remove_id/>
                            <button type="submit" class="danger">"Yes, remove question "{number}</button>
                        </ActionForm>
                    </details>
                }.into_any()
            }}
        </article>
    }
}

#[component]
fn AddQuestion(template_id: i64, area: Area, refresh: RwSignal<usize>) -> impl IntoView {
    let add = ServerAction::<AddBankTemplateQuestion>::new();
    refresh_on_success(add, refresh);
    let error = action_error(add);
    let pending = add.pending();
    let [prompt_id, help_id, weight_id] =
        ["prompt", "help", "weight"].map(|field| format!("add-{}-{field}", area.as_str()));
    view! {
        <details class="card bank-add">
            <summary>"Add a question to "{area.label()}</summary>
            <ActionForm action=add>
                <input type="hidden" name="bank_template_id" value=template_id/>
                <input type="hidden" name="form[area]" value=area.as_str()/>
                <label for=prompt_id.clone()>"Question"</label>
                <textarea id=prompt_id name="form[prompt]" rows="2" required
                    maxlength=MAX_QUESTION_PROMPT_CHARS.to_string()></textarea>
                <FieldMessage error field="prompt"/>
                <label for=help_id.clone()>"Help for founders "<span class="muted small">"(Markdown)"</span></label>
                <textarea id=help_id name="form[help]" rows="3" required
                    maxlength=MAX_QUESTION_HELP_CHARS.to_string()></textarea>
                <FieldMessage error field="help"/>
                <div class="row">
                    <div>
                        <label for=weight_id.clone()>"Weight"</label>
                        <select id=weight_id name="form[weight]">{weight_options(3)}</select>
                        <FieldMessage error field="weight"/>
                    </div>
                    <div class="bank-flag">
                        <label class="check">
                            <input type="checkbox" name="form[red_flag]" value="true"/>
                            "A “no” is a red flag"
                        </label>
                    </div>
                </div>
                <ErrorBanner error/>
                <button type="submit" disabled=move || pending.get()>"Add the question"</button>
            </ActionForm>
        </details>
    }
}
