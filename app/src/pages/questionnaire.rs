//! The founder's side: the invitation link, and the questionnaire area by area. Every answer
//! saves as it is given (a server function per answer); with JavaScript off, each area is a plain
//! form whose post saves what changed (`server/src/answering.rs`).
use std::collections::HashMap;

use audit::questionnaire::{
    Answer, AnswerInput, Area, Choice, Comment, EvidenceFile, FounderInvitationPreview, Question,
    Questionnaire, SaveOutcome,
};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};
use serde::{Deserialize, Serialize};

use crate::components::{action_error, format_time, ErrorBanner, LoadError};
use crate::error::UiError;

#[cfg(feature = "ssr")]
use crate::state::{
    app_state, current_founder, fail, internal, session, SESSION_FOUNDER, SESSION_FOUNDER_SINCE,
    SESSION_USER,
};

/// A one-time message for the next page view (set by plain form posts and uploads).
pub const SESSION_FLASH: &str = "flash";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Flash {
    pub ok: bool,
    pub text: String,
}

/// What the founder's page loads.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FounderView {
    pub founder_name: String,
    pub firm_name: String,
    pub questionnaire: Questionnaire,
    pub flash: Option<Flash>,
    /// Whether the consultant shared a report version with the founders.
    #[serde(default)]
    pub report_shared: bool,
}

#[server(prefix = "/fn", endpoint = "my_questionnaire")]
pub async fn my_questionnaire() -> Result<FounderView, UiError> {
    use audit::questionnaire::Respondent;
    let founder = current_founder().await?;
    let state = app_state()?;
    let session = session().await?;
    let flash: Option<Flash> = crate::state::take_from_session(&session, SESSION_FLASH)
        .await
        .map_err(internal)?;
    let questionnaire = audit::questionnaire::questionnaire(
        &state.db,
        &Respondent::Founder(founder.clone()),
        founder.engagement_id,
    )
    .await
    .map_err(fail)?;
    let report_shared = !audit::reports::shared_versions(&state.db, &founder)
        .await
        .map_err(fail)?
        .is_empty();
    Ok(FounderView {
        founder_name: founder.name,
        firm_name: founder.firm_name,
        questionnaire,
        flash,
        report_shared,
    })
}

#[server(prefix = "/fn", endpoint = "save_answer")]
pub async fn save_answer(input: AnswerInput) -> Result<SaveOutcome, UiError> {
    use audit::questionnaire::Respondent;
    let founder = current_founder().await?;
    let state = app_state()?;
    let engagement_id = founder.engagement_id;
    audit::questionnaire::save_answer(
        &state.db,
        &Respondent::Founder(founder),
        engagement_id,
        &input,
    )
    .await
    .map_err(fail)
}

#[server(prefix = "/fn", endpoint = "submit_questionnaire")]
pub async fn submit_questionnaire() -> Result<(), UiError> {
    let founder = current_founder().await?;
    let state = app_state()?;
    audit::questionnaire::submit(&state.db, &founder, &state.base_url)
        .await
        .map_err(fail)?;
    leptos_axum::redirect("/questionnaire");
    Ok(())
}

#[server(prefix = "/fn", endpoint = "preview_founder_invitation")]
pub async fn preview_founder_invitation(
    token: String,
) -> Result<FounderInvitationPreview, UiError> {
    let state = app_state()?;
    audit::questionnaire::preview_founder_invitation(&state.db, &token)
        .await
        .map_err(fail)
}

/// Uses the invitation link up and starts a session that reaches this questionnaire only. A
/// member logged in on the same browser is logged out: one session is one person.
#[server(prefix = "/fn", endpoint = "start_questionnaire")]
pub async fn start_questionnaire(token: String, next: Option<String>) -> Result<(), UiError> {
    let state = app_state()?;
    let access = audit::questionnaire::accept_founder_invitation(&state.db, &token)
        .await
        .map_err(fail)?;
    let session = session().await?;
    session.cycle_id().await.map_err(internal)?;
    session
        .remove::<i64>(SESSION_USER)
        .await
        .map_err(internal)?;
    session
        .insert(SESSION_FOUNDER, access.founder_invitation_id)
        .await
        .map_err(internal)?;
    session
        .insert(SESSION_FOUNDER_SINCE, audit::clock::now_ms())
        .await
        .map_err(internal)?;
    let target = next
        .filter(|n| n.starts_with("/questionnaire") && !n.contains("//") && !n.contains('\\'))
        .unwrap_or_else(|| "/questionnaire".to_owned());
    leptos_axum::redirect(&target);
    Ok(())
}

#[server(prefix = "/fn", endpoint = "request_fresh_link")]
pub async fn request_fresh_link(token: String) -> Result<(), UiError> {
    let state = app_state()?;
    audit::questionnaire::request_fresh_link(&state.db, &token, &state.base_url)
        .await
        .map_err(fail)
}

#[server(prefix = "/fn", endpoint = "leave_questionnaire")]
pub async fn leave_questionnaire() -> Result<(), UiError> {
    let session = session().await?;
    session.flush().await.map_err(internal)?;
    leptos_axum::redirect("/questionnaire/signed-out");
    Ok(())
}

/// `/invite/:token`: says who invites whom, and starts only when the founder presses the button,
/// because mail scanners open links too and the link works once.
#[component]
pub fn FounderInvitationPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let token = move || params.with(|p| p.get("token").unwrap_or_default());
    let next = move || query.with(|q| q.get("next").unwrap_or_default());
    let preview = Resource::new(token, preview_founder_invitation);
    let start = ServerAction::<StartQuestionnaire>::new();
    let start_error = action_error(start);
    let fresh = ServerAction::<RequestFreshLink>::new();
    let fresh_error = action_error(fresh);
    let fresh_sent = move || matches!(fresh.value().get(), Some(Ok(())));
    view! {
        <Title text="Your questionnaire"/>
        <Suspense fallback=|| view! { <p>"Loading your invitation…"</p> }>
            {move || Suspend::new(async move {
                match preview.await {
                    Ok(p) => view! {
                        <section class="card narrow">
                            <h1>"Hello "{p.name.clone()}</h1>
                            <p>{p.firm_name.clone()}" asks you to answer the backend-architecture questionnaire for "
                                <strong>{p.client_name.clone()}</strong>"."</p>
                            <p class="muted">"Five short areas: observability, database, caching & queues, deployment & "
                                "infrastructure, and people. Every answer saves as you give it, so you can stop and "
                                "come back. “Don't know” is a fine answer."</p>
                            <ErrorBanner error=start_error/>
                            <ActionForm action=start>
                                <input type="hidden" name="token" value=token/>
                                <input type="hidden" name="next" value=next/>
                                <button type="submit">"Start the questionnaire"</button>
                            </ActionForm>
                        </section>
                    }.into_any(),
                    Err(e) if e.is_not_found() => view! {
                        <section class="card narrow">
                            <h1>"This link does not work"</h1>
                            <p>"Check that you opened the whole link from the e-mail, or ask the consultant to re-send the invitation."</p>
                        </section>
                    }.into_any(),
                    Err(e) if e.code == "conflict" => view! {
                        <section class="card narrow">
                            <h1>"This link cannot be used again"</h1>
                            <p>{e.message.clone()}</p>
                            <Show when=move || !e.message.contains("withdrawn")>
                                <Show when=fresh_sent fallback=move || view! {
                                    <ErrorBanner error=fresh_error/>
                                    <ActionForm action=fresh>
                                        <input type="hidden" name="token" value=token/>
                                        <button type="submit">"E-mail me a fresh link"</button>
                                    </ActionForm>
                                    <p class="help">"It goes to the address the invitation was sent to."</p>
                                }>
                                    <div class="banner ok" role="status"><p>"A fresh link is on its way to the address the invitation was sent to."</p></div>
                                </Show>
                            </Show>
                        </section>
                    }.into_any(),
                    Err(e) => view! { <LoadError error=e/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
pub fn SignedOutPage() -> impl IntoView {
    view! {
        <Title text="Signed out"/>
        <section class="card narrow">
            <h1>"You are signed out"</h1>
            <p>"Your answers are saved. To come back, ask for a fresh link from your last invitation e-mail, or ask the consultant to re-send it."</p>
        </section>
    }
}

/// How one question's autosave stands.
#[derive(Debug, Clone, PartialEq)]
enum SaveState {
    Idle,
    Saving,
    Saved,
    /// Someone saved a newer version first; nothing of ours was written.
    Stale(Answer),
    Failed(String),
}

/// One question's inputs and save state. All fields are signals, so the struct is `Copy` and
/// every event handler can hold it.
#[derive(Clone, Copy)]
struct QuestionState {
    question_id: StoredValue<String>,
    choice: RwSignal<Option<Choice>>,
    notes: RwSignal<String>,
    links: RwSignal<String>,
    version: RwSignal<i64>,
    status: RwSignal<SaveState>,
    in_flight: StoredValue<bool>,
    /// The page's latest known answers, for the progress bars.
    known: RwSignal<HashMap<String, Answer>>,
}

impl QuestionState {
    fn new(
        question_id: &str,
        answer: Option<&Answer>,
        known: RwSignal<HashMap<String, Answer>>,
    ) -> Self {
        Self {
            question_id: StoredValue::new(question_id.to_owned()),
            choice: RwSignal::new(answer.and_then(|a| a.choice)),
            notes: RwSignal::new(answer.map(|a| a.notes.clone()).unwrap_or_default()),
            links: RwSignal::new(answer.map(|a| a.links.join("\n")).unwrap_or_default()),
            version: RwSignal::new(answer.map(|a| a.version).unwrap_or(0)),
            status: RwSignal::new(SaveState::Idle),
            in_flight: StoredValue::new(false),
            known,
        }
    }

    fn input(&self) -> AnswerInput {
        AnswerInput {
            question_id: self.question_id.get_value(),
            choice: self
                .choice
                .get_untracked()
                .map(|c| c.as_str().to_owned())
                .unwrap_or_default(),
            notes: self.notes.get_untracked(),
            links: self.links.get_untracked(),
            version: self.version.get_untracked(),
        }
    }

    fn take(&self, answer: &Answer) {
        self.choice.set(answer.choice);
        self.notes.set(answer.notes.clone());
        self.links.set(answer.links.join("\n"));
        self.version.set(answer.version);
        self.known
            .update(|k| _ = k.insert(answer.question_id.clone(), answer.clone()));
    }

    /// Saves now, or — if a save is on its way — lets that one save again when it returns, so
    /// quick changes go out in order and never race each other into a stale version.
    fn request_save(self) {
        if self.in_flight.get_value() {
            return;
        }
        self.in_flight.set_value(true);
        self.status.set(SaveState::Saving);
        leptos::task::spawn_local(async move {
            loop {
                let sent = self.input();
                match save_answer(sent.clone()).await {
                    Ok(SaveOutcome::Saved { answer }) => {
                        self.version.set(answer.version);
                        self.known
                            .update(|k| _ = k.insert(answer.question_id.clone(), answer.clone()));
                        let now = self.input();
                        if (now.choice, now.notes, now.links)
                            == (sent.choice, sent.notes, sent.links)
                        {
                            self.status.set(SaveState::Saved);
                            break;
                        }
                    }
                    Ok(SaveOutcome::Stale { current }) => {
                        self.status.set(SaveState::Stale(current));
                        break;
                    }
                    Err(e) => {
                        let mut message = e.message.clone();
                        for f in &e.fields {
                            message.push(' ');
                            message.push_str(&f.message);
                        }
                        self.status.set(SaveState::Failed(message));
                        break;
                    }
                }
            }
            self.in_flight.set_value(false);
        });
    }
}

fn area_from_query(value: Option<String>) -> Area {
    value
        .as_deref()
        .and_then(Area::parse)
        .unwrap_or(Area::Observability)
}

/// `/questionnaire`: the founder's questionnaire, one area at a time.
#[component]
pub fn FounderQuestionnairePage() -> impl IntoView {
    let query = use_query_map();
    let area = Memo::new(move |_| area_from_query(query.with(|q| q.get("area"))));
    let submit = ServerAction::<SubmitQuestionnaire>::new();
    // Loaded once, and again after submitting (which makes the page read-only).
    let view_data = Resource::new(move || submit.version().get(), |_| my_questionnaire());
    let known = RwSignal::new(HashMap::<String, Answer>::new());
    let submit_error = action_error(submit);
    view! {
        <Title text="Questionnaire"/>
        <Suspense fallback=|| view! { <p>"Loading the questionnaire…"</p> }>
            {move || Suspend::new(async move {
                let data = match view_data.await {
                    Ok(data) => data,
                    Err(e) if e.is_unauthenticated() => return view! {
                        <section class="card narrow">
                            <h1>"Open your invitation link"</h1>
                            <p>{e.message.clone()}</p>
                        </section>
                    }.into_any(),
                    Err(e) => return view! { <LoadError error=e/> }.into_any(),
                };
                // Merge what the server sent with what this page saved since (newer versions win).
                known.update_untracked(|k| {
                    for a in &data.questionnaire.answers {
                        let newer = k.get(&a.question_id).is_none_or(|mine| mine.version < a.version);
                        if newer {
                            k.insert(a.question_id.clone(), a.clone());
                        }
                    }
                });
                founder_page(data, area, known, submit, submit_error).into_any()
            })}
        </Suspense>
    }
}

fn founder_page(
    data: FounderView,
    area: Memo<Area>,
    known: RwSignal<HashMap<String, Answer>>,
    submit: ServerAction<SubmitQuestionnaire>,
    submit_error: Signal<Option<UiError>>,
) -> impl IntoView {
    let q = data.questionnaire;
    let open = q.is_open();
    let bank = StoredValue::new(q.bank.clone());
    let files = StoredValue::new(q.files.clone());
    let comments = StoredValue::new(q.comments.clone());
    let progress = move |a: Area| {
        bank.with_value(|b| {
            let Some(area) = b.area(a) else { return (0, 0) };
            let answered = known.with(|k| {
                area.questions
                    .iter()
                    .filter(|q| k.get(&q.id).is_some_and(|a| a.choice.is_some()))
                    .count()
            });
            (answered, area.questions.len())
        })
    };
    let overall = move || {
        Area::ALL
            .into_iter()
            .map(progress)
            .fold((0, 0), |(a, t), (x, y)| (a + x, t + y))
    };
    let flash = data.flash.map(|f| {
        let class = if f.ok { "banner ok" } else { "banner error" };
        view! { <div class=class role="status"><p>{f.text}</p></div> }
    });
    let submitted_note = q.submitted_at.map(|at| {
        view! {
            <div class="banner ok" role="status">
                <p>"Submitted for review on "{format_time(at)}
                    {q.submitted_by.clone().map(|by| format!(" by {by}"))}
                    ". The answers are read-only now; the consultant reopens the questionnaire if anything needs changing."</p>
            </div>
        }
    });
    let tabs = view! {
        <nav class="area-tabs" aria-label="Areas">
            {Area::ALL.into_iter().map(|a| {
                let current = move || area.get() == a;
                view! {
                    <a href=format!("/questionnaire?area={}", a.as_str()) class="area-tab"
                        aria-current=move || if current() { "page" } else { "false" }>
                        <span class="area-name">{a.label()}</span>
                        <progress max=move || progress(a).1 value=move || progress(a).0
                            aria-label=format!("{} progress", a.label())></progress>
                        <span class="small muted">{move || { let (x, t) = progress(a); format!("{x}/{t}") }}</span>
                    </a>
                }
            }).collect_view()}
        </nav>
    }
    .into_any();
    let area_section = move || {
        let a = area.get();
        bank.with_value(|b| b.area(a).cloned()).map(|area_bank| {
                let next_area = Area::ALL.iter().skip_while(|x| **x != a).nth(1).copied();
                let questions = area_bank.questions.clone();
                let upload_forms = questions.iter().map(|question| view! {
                    <form id=format!("upload-{}", question.id) method="post" action="/evidence"
                        enctype="multipart/form-data" class="upload-form">
                        <input type="hidden" name="question_id" value=question.id.clone()/>
                    </form>
                }).collect_view();
                view! {
                    <section class="area" aria-labelledby="area-title">
                        <h2 id="area-title">{area_bank.title.clone()}": "{area_bank.question.clone()}</h2>
                        <form method="post" action="/questionnaire/save" class="area-form">
                            <input type="hidden" name="area" value=a.as_str()/>
                            {questions.iter().map(|question| {
                                let answer = known.with_untracked(|k| k.get(&question.id).cloned());
                                let mine: Vec<EvidenceFile> = files.with_value(|f| f.iter().filter(|f| f.question_id == question.id).cloned().collect());
                                let asked: Vec<Comment> = comments.with_value(|c| c.iter().filter(|c| c.question_id == question.id).cloned().collect());
                                question_card(question.clone(), answer, mine, asked, open, known)
                            }).collect_view()}
                            <Show when=move || open>
                                <div class="actions">
                                    <button type="submit" name="go" value="stay" class="secondary">"Save this area"</button>
                                    {next_area.map(|n| view! {
                                        <button type="submit" name="go" value=n.as_str()>"Save and go to "{n.label()}</button>
                                    })}
                                </div>
                                <p class="help">"Answers save as you choose them; these buttons are for browsers without JavaScript."</p>
                            </Show>
                        </form>
                        {upload_forms}
                    </section>
                }
                .into_any()
            })
    };
    let submit_box = view! {
        <Show when=move || open>
            <section class="card submit-box">
                <h2>"Done?"</h2>
                <p>{move || { let (a, t) = overall(); if a < t { format!("{} questions are still open. You can submit anyway; “Don't know” is a fine answer.", t - a) } else { "Every question has an answer.".to_owned() } }}</p>
                <ErrorBanner error=submit_error/>
                <details>
                    <summary>"Submit for review…"</summary>
                    <p>"After submitting, the answers are read-only until the consultant reopens the questionnaire."</p>
                    <ActionForm action=submit>
                        <button type="submit">"Submit for review now"</button>
                    </ActionForm>
                </details>
            </section>
        </Show>
    }
    .into_any();
    let report_link = data.report_shared.then(|| {
        view! {
            <p class="banner info report-shared" role="status">
                "The consultant shared the audit report with you. "
                <a href="/questionnaire/report">"Read the report"</a>
            </p>
        }
    });
    let leave = ServerAction::<LeaveQuestionnaire>::new();
    view! {
        <div class="page-head">
            <div>
                <h1>"Questionnaire: "{q.client_name.clone()}</h1>
                <p class="muted">"For "{data.founder_name.clone()}" · asked by "{data.firm_name.clone()}</p>
            </div>
            <ActionForm action=leave attr:class="inline">
                <button type="submit" class="secondary">"Sign out"</button>
            </ActionForm>
        </div>
        {flash}
        {report_link}
        {submitted_note}
        <div class="overall-progress">
            <label for="overall-progress">{move || { let (a, t) = overall(); format!("{a} of {t} questions answered") }}</label>
            <progress id="overall-progress" max=move || overall().1 value=move || overall().0></progress>
        </div>
        {tabs}
        {area_section}
        {submit_box}
    }
}

fn question_card(
    question: Question,
    answer: Option<Answer>,
    files: Vec<EvidenceFile>,
    asked: Vec<Comment>,
    open: bool,
    known: RwSignal<HashMap<String, Answer>>,
) -> AnyView {
    let st = QuestionState::new(&question.id, answer.as_ref(), known);
    let id = question.id.clone();
    let choices = question.choices();
    let radio_name = format!("choice:{id}");
    let status_view = move || match st.status.get() {
        SaveState::Idle => view! { <span></span> }.into_any(),
        SaveState::Saving => view! { <span class="save-state">"Saving…"</span> }.into_any(),
        SaveState::Saved => view! { <span class="save-state ok">"Saved"</span> }.into_any(),
        SaveState::Failed(message) => {
            view! { <span class="save-state error" role="alert">{message}</span> }.into_any()
        }
        SaveState::Stale(current) => {
            let theirs = current.clone();
            let label = current.choice.map(|c| c.label()).unwrap_or("no answer");
            view! {
                <div class="banner error stale" role="alert">
                    <p>{format!("{} saved “{}” at {} while you were answering; your change was not saved.",
                        current.answered_by, label, format_time(current.updated_at))}</p>
                    {(!current.notes.is_empty()).then(|| view! { <p class="small pre">"Their notes: "{current.notes.clone()}</p> })}
                    <div class="actions">
                        <button type="button" class="secondary" on:click=move |_| { st.take(&theirs); st.status.set(SaveState::Saved); }>"Keep theirs"</button>
                        <button type="button" on:click=move |_| { st.version.set(current.version); st.request_save(); }>"Keep mine"</button>
                    </div>
                </div>
            }.into_any()
        }
    };
    let help = question.help.clone();
    let evidence = question.evidence.clone();
    view! {
        <article class="question card" id=format!("q-{id}")>
            <fieldset disabled=!open>
                <legend><h3>{question.prompt.clone()}</h3></legend>
                {asked.into_iter().map(|c| view! {
                    <div class="banner info clarification" role="note">
                        <p class="small"><strong>{c.author_name.clone()}" asks"</strong>" · "{format_time(c.created_at)}</p>
                        // body_html was rendered from Markdown and sanitized on the server.
                        <div inner_html=c.body_html.clone()></div>
                    </div>
                }).collect_view()}
                <details class="why">
                    <summary>"Why this matters"</summary>
                    <p class="pre">{help}</p>
                    {(!evidence.is_empty()).then(|| view! {
                        <p class="small"><strong>"Evidence that helps: "</strong>{evidence.join("; ")}</p>
                    })}
                </details>
                <input type="hidden" name=format!("version:{id}") prop:value=move || st.version.get().to_string() value=st.version.get_untracked().to_string()/>
                <div class="choices" role="radiogroup" aria-label="Your answer">
                    {choices.into_iter().map(|c| {
                        let input_id = format!("{id}-{}", c.as_str());
                        view! {
                            <label class=format!("choice {}", c.as_str()) for=input_id.clone()>
                                <input type="radio" id=input_id.clone() name=radio_name.clone() value=c.as_str()
                                    checked=st.choice.get_untracked() == Some(c)
                                    prop:checked=move || st.choice.get() == Some(c)
                                    on:change=move |_| { st.choice.set(Some(c)); st.request_save(); }/>
                                {c.label()}
                            </label>
                        }
                    }).collect_view()}
                </div>
                <div class="save-line">
                    <span aria-live="polite">{status_view}</span>
                    // Takes a choice back (the scores count it as not answered again).
                    <Show when=move || open && st.choice.get().is_some()>
                        <button type="button" class="link small clear-choice"
                            on:click=move |_| { st.choice.set(None); st.request_save(); }>"Clear answer"</button>
                    </Show>
                </div>
                <details class="extras" open=!st.notes.get_untracked().is_empty() || !st.links.get_untracked().is_empty() || !files.is_empty()>
                    <summary>"Notes, links and files"</summary>
                    <label for=format!("notes-{id}")>"Notes (Markdown)"</label>
                    <textarea id=format!("notes-{id}") name=format!("notes:{id}") rows="3" maxlength="10000"
                        prop:value=move || st.notes.get()
                        on:input=move |ev| st.notes.set(event_target_value(&ev))
                        on:change=move |_| st.request_save()>{st.notes.get_untracked()}</textarea>
                    <label for=format!("links-{id}")>"Links, one per line"</label>
                    <textarea id=format!("links-{id}") name=format!("links:{id}") rows="2" placeholder="https://"
                        prop:value=move || st.links.get()
                        on:input=move |ev| st.links.set(event_target_value(&ev))
                        on:change=move |_| st.request_save()>{st.links.get_untracked()}</textarea>
                    {(!files.is_empty()).then(|| view! {
                        <ul class="files">
                            {files.iter().map(|f| view! {
                                <li><a href=format!("/evidence/{}", f.evidence_file_id)>{f.file_name.clone()}</a>
                                    <span class="muted small">{format!(" {} · {}", human_size(f.size_bytes), f.uploaded_by)}</span></li>
                            }).collect_view()}
                        </ul>
                    })}
                    <label for=format!("file-{id}")>"Attach a file"</label>
                    <div class="inline-form">
                        <input type="file" id=format!("file-{id}") name="file" form=format!("upload-{id}")
                            accept=".pdf,.png,.jpg,.jpeg,.gif,.webp,.txt,.log,.csv,.json,.md,.yaml,.yml,.sql"/>
                        <button type="submit" class="secondary" form=format!("upload-{id}")>"Upload"</button>
                    </div>
                    <p class="help">"PDF, images, or text files such as logs, CSV or JSON; up to 5 MB."</p>
                </details>
            </fieldset>
        </article>
    }
    .into_any()
}

pub fn human_size(bytes: i64) -> String {
    if bytes >= 1_048_576 {
        format!("{:.1} MB", bytes as f64 / 1_048_576.0)
    } else if bytes >= 1024 {
        format!("{} KB", bytes / 1024)
    } else {
        format!("{bytes} B")
    }
}
