//! The consultant's side of the questionnaire: the answers area by area with comments and
//! requests for clarification, area reviews and reopening; the scores and what moved them;
//! milestones and their comparison.
use audit::questionnaire::{
    Answer, AnswerChange, Area, AreaScore, BankVersionInfo, Choice, Comment, EvidenceFile,
    FounderInvitation, Question, Questionnaire, QuestionnaireStatus, Scorecard, Trend,
};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Form;
use leptos_router::hooks::{use_params_map, use_query_map};
use serde::{Deserialize, Serialize};

use crate::components::{action_error, format_time, ErrorBanner, FieldMessage, LoadError};
use crate::error::UiError;

#[cfg(feature = "ssr")]
use crate::state::{app_state, current_member, fail};

/// The questionnaire as the consultant reviews it, with the founders who can be asked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReviewData {
    pub questionnaire: Questionnaire,
    /// Founders whose invitation is not revoked: they can be asked for a clarification.
    pub founders: Vec<FounderInvitation>,
    /// Whether any founder was ever invited (revoked ones included).
    pub invited_any: bool,
}

/// The comment form under each answer.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct CommentForm {
    pub question_id: String,
    pub body: String,
    /// A founder invitation id to ask for a clarification, or empty for a plain note.
    #[serde(default)]
    pub ask_founder: String,
}

/// The scores page: the engagement's names and its scorecard.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScoresData {
    pub engagement_id: i64,
    pub client_name: String,
    pub system_name: String,
    pub bank_version: BankVersionInfo,
    pub scorecard: Scorecard,
}

/// A milestone as listed: its snapshot stays on the server.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MilestoneSummary {
    pub milestone_id: i64,
    pub name: String,
    pub created_at: i64,
    pub overall: Option<u32>,
    pub answered: usize,
    pub questions: usize,
}

/// Two milestones side by side, as the page shows them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Comparison {
    pub before: MilestoneSummary,
    pub after: MilestoneSummary,
    /// (area, score before, score after)
    pub areas: Vec<(Area, Option<u32>, Option<u32>)>,
    pub changes: Vec<AnswerChange>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MilestonesData {
    pub engagement_id: i64,
    pub client_name: String,
    pub system_name: String,
    /// Newest first.
    pub milestones: Vec<MilestoneSummary>,
    pub comparison: Option<Comparison>,
    /// Why the asked-for comparison could not be made.
    pub comparison_problem: Option<String>,
}

#[cfg(feature = "ssr")]
fn summary(m: &audit::questionnaire::Milestone) -> MilestoneSummary {
    MilestoneSummary {
        milestone_id: m.milestone_id,
        name: m.name.clone(),
        created_at: m.created_at,
        overall: m.snapshot.scores.overall,
        answered: m.snapshot.scores.answered,
        questions: m.snapshot.scores.questions,
    }
}

#[server(prefix = "/fn", endpoint = "review_questionnaire")]
pub async fn review_questionnaire(engagement_id: i64) -> Result<ReviewData, UiError> {
    use audit::questionnaire::Respondent;
    let member = current_member().await?;
    let state = app_state()?;
    let firm_id = member.firm_id;
    let questionnaire =
        audit::questionnaire::questionnaire(&state.db, &Respondent::Member(member), engagement_id)
            .await
            .map_err(fail)?;
    let invitations =
        audit::questionnaire::list_founder_invitations(&state.db, firm_id, engagement_id)
            .await
            .map_err(fail)?;
    let invited_any = !invitations.is_empty();
    let founders = invitations
        .into_iter()
        .filter(|i| i.revoked_at.is_none())
        .collect();
    Ok(ReviewData {
        questionnaire,
        founders,
        invited_any,
    })
}

#[server(prefix = "/fn", endpoint = "add_comment")]
pub async fn add_comment(engagement_id: i64, form: CommentForm) -> Result<(), UiError> {
    let member = current_member().await?;
    let state = app_state()?;
    let ask_founder = match form.ask_founder.trim() {
        "" => None,
        id => Some(id.parse::<i64>().map_err(|_| {
            fail(audit::Error::invalid(
                "ask_founder",
                "Choose a founder from the list, or nobody.",
            ))
        })?),
    };
    audit::questionnaire::add_comment(
        &state.db,
        &member,
        engagement_id,
        form.question_id.trim(),
        &form.body,
        ask_founder,
        &state.base_url,
    )
    .await
    .map_err(fail)
}

#[server(prefix = "/fn", endpoint = "set_area_reviewed")]
pub async fn set_area_reviewed(
    engagement_id: i64,
    area: String,
    reviewed: bool,
) -> Result<(), UiError> {
    let member = current_member().await?;
    let state = app_state()?;
    let area = Area::parse(&area)
        .ok_or_else(|| fail(audit::Error::invalid("area", "There is no such area.")))?;
    audit::questionnaire::set_area_reviewed(&state.db, &member, engagement_id, area, reviewed)
        .await
        .map_err(fail)
}

#[server(prefix = "/fn", endpoint = "reopen_questionnaire")]
pub async fn reopen_questionnaire(engagement_id: i64) -> Result<(), UiError> {
    let member = current_member().await?;
    let state = app_state()?;
    audit::questionnaire::reopen(&state.db, &member, engagement_id)
        .await
        .map_err(fail)
}

#[server(prefix = "/fn", endpoint = "engagement_scores")]
pub async fn engagement_scores(engagement_id: i64) -> Result<ScoresData, UiError> {
    use audit::questionnaire::Respondent;
    let member = current_member().await?;
    let state = app_state()?;
    let engagement = audit::engagements::get(&state.db, member.firm_id, engagement_id)
        .await
        .map_err(fail)?;
    let (bank_version, scorecard) =
        audit::questionnaire::scores(&state.db, &Respondent::Member(member), engagement_id)
            .await
            .map_err(fail)?;
    Ok(ScoresData {
        engagement_id,
        client_name: engagement.client_name,
        system_name: engagement.system_name,
        bank_version,
        scorecard,
    })
}

#[server(prefix = "/fn", endpoint = "take_milestone")]
pub async fn take_milestone(engagement_id: i64, name: String) -> Result<i64, UiError> {
    let member = current_member().await?;
    let state = app_state()?;
    audit::questionnaire::create_milestone(&state.db, &member, engagement_id, &name)
        .await
        .map_err(fail)
}

/// The engagement's milestones and, when two are named, their comparison.
#[server(prefix = "/fn", endpoint = "engagement_milestones")]
pub async fn engagement_milestones(
    engagement_id: i64,
    before: Option<i64>,
    after: Option<i64>,
) -> Result<MilestonesData, UiError> {
    let member = current_member().await?;
    let state = app_state()?;
    let firm_id = member.firm_id;
    // Milestones are listed by engagement; this is what makes another firm's engagement a 404.
    let engagement = audit::engagements::get(&state.db, firm_id, engagement_id)
        .await
        .map_err(fail)?;
    let milestones = audit::questionnaire::list_milestones(&state.db, firm_id, engagement_id)
        .await
        .map_err(fail)?;
    let (mut comparison, mut comparison_problem) = (None, None);
    if let (Some(before), Some(after)) = (before, after) {
        match audit::questionnaire::compare_milestones(
            &state.db,
            firm_id,
            engagement_id,
            before,
            after,
        )
        .await
        {
            Ok(c) => {
                comparison = Some(Comparison {
                    before: summary(&c.before),
                    after: summary(&c.after),
                    areas: c.areas,
                    changes: c.changes,
                })
            }
            // The engagement is there, so it is one of the milestones that is not.
            Err(audit::Error::NotFound) => {
                comparison_problem = Some(
                    "One of these milestones does not exist any more; pick two from the lists."
                        .to_owned(),
                )
            }
            Err(e) => return Err(fail(e)),
        }
    }
    Ok(MilestonesData {
        engagement_id,
        client_name: engagement.client_name,
        system_name: engagement.system_name,
        milestones: milestones.iter().map(summary).collect(),
        comparison,
        comparison_problem,
    })
}

fn engagement_id_param() -> impl Fn() -> i64 + Copy + Send + Sync + 'static {
    let params = use_params_map();
    // A non-numeric id can match nothing; -1 makes the lookup answer "not found".
    move || params.with(|p| p.get("id").and_then(|id| id.parse().ok()).unwrap_or(-1))
}

/// Runs `then` each time `action` succeeds (in the browser; without JavaScript the form post
/// reloads the page anyway).
fn after_success<S, T>(action: ServerAction<S>, then: impl Fn() + 'static)
where
    S: leptos::server_fn::ServerFn<Output = T, Error = UiError> + Clone + Send + Sync + 'static,
    T: Clone + Send + Sync + 'static,
{
    Effect::new(move |_| {
        if action.value().with(|v| matches!(v, Some(Ok(_)))) {
            then();
        }
    });
}

fn question_href(engagement_id: i64, area: Area, question_id: &str) -> String {
    format!(
        "/engagements/{engagement_id}/questionnaire?area={}#q-{question_id}",
        area.as_str()
    )
}

/// The engagement's name, its system and the links between its questionnaire pages.
fn review_head(
    engagement_id: i64,
    client_name: String,
    system_name: String,
    current: &'static str,
) -> impl IntoView {
    let links = [
        (
            "overview",
            "Overview",
            format!("/engagements/{engagement_id}"),
        ),
        (
            "answers",
            "Answers",
            format!("/engagements/{engagement_id}/questionnaire"),
        ),
        (
            "scores",
            "Scores",
            format!("/engagements/{engagement_id}/scores"),
        ),
        (
            "milestones",
            "Milestones",
            format!("/engagements/{engagement_id}/milestones"),
        ),
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
}

fn choice_chip(choice: Option<Choice>, none: &'static str) -> AnyView {
    match choice {
        Some(c) => view! { <span class=format!("answer-chip {}", c.as_str())>{c.label()}</span> }
            .into_any(),
        None => view! { <span class="answer-chip none">{none}</span> }.into_any(),
    }
}

fn file_size(bytes: i64) -> String {
    const KB: i64 = 1024;
    if bytes < KB {
        format!("{bytes} B")
    } else if bytes < KB * KB {
        format!("{} KB", (bytes + KB / 2) / KB)
    } else {
        format!("{:.1} MB", bytes as f64 / (KB * KB) as f64)
    }
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

fn score_text(score: Option<u32>) -> String {
    score.map_or_else(|| "—".to_owned(), |s| s.to_string())
}

/// A 0–100 bar; the browser colours it by the risk thresholds (below 50, below 75).
fn score_bar(score: Option<u32>, label: String) -> AnyView {
    match score {
        Some(s) => view! {
            <meter class="score-bar" min="0" max="100" low="50" high="75" optimum="100" value=s aria-label=label>
                {s}" / 100"
            </meter>
        }
        .into_any(),
        None => view! { <p class="muted small">"No question of this area applies."</p> }.into_any(),
    }
}

// ---------------------------------------------------------------------------------------------
// Answers

#[component]
pub fn QuestionnaireReviewPage() -> impl IntoView {
    let id = engagement_id_param();
    let query = use_query_map();
    let chosen_area = move || {
        query.with(|q| {
            q.get("area")
                .and_then(|a| Area::parse(&a))
                .unwrap_or(Area::Observability)
        })
    };
    let data = Resource::new(id, review_questionnaire);
    let reopen = ServerAction::<ReopenQuestionnaire>::new();
    let review = ServerAction::<SetAreaReviewed>::new();
    after_success(reopen, move || data.refetch());
    after_success(review, move || data.refetch());
    let reopen_error = action_error(reopen);
    let review_error = action_error(review);
    view! {
        <Transition fallback=|| view! { <p class="muted">"Loading the answers…"</p> }>
            {move || {
                let area = chosen_area();
                Suspend::new(async move {
                    match data.await {
                        Err(e) => view! { <LoadError error=e/> }.into_any(),
                        Ok(d) => review_view(d, area, reopen, review, reopen_error, review_error, data)
                            .into_any(),
                    }
                })
            }}
        </Transition>
    }
}

fn review_view(
    d: ReviewData,
    area: Area,
    reopen: ServerAction<ReopenQuestionnaire>,
    review: ServerAction<SetAreaReviewed>,
    reopen_error: Signal<Option<UiError>>,
    review_error: Signal<Option<UiError>>,
    data: Resource<Result<ReviewData, UiError>>,
) -> impl IntoView {
    let ReviewData {
        questionnaire: q,
        founders,
        invited_any,
    } = d;
    let id = q.engagement_id;
    let (answered, total) = q.overall_progress();
    let status = match (q.status, q.submitted_at) {
        (QuestionnaireStatus::Submitted, at) => view! {
            <p>
                <span class="pill submitted">"Submitted"</span>" by "
                {q.submitted_by.clone().unwrap_or_else(|| "a founder".to_owned())}
                {at.map(|at| format!(" on {}", format_time(at)))}
                ". Founders cannot change answers until you reopen it."
            </p>
            <ErrorBanner error=reopen_error/>
            <ActionForm action=reopen attr:class="inline">
                <input type="hidden" name="engagement_id" value=id/>
                <button type="submit" class="secondary">"Reopen for the founders"</button>
            </ActionForm>
        }
        .into_any(),
        (QuestionnaireStatus::Open, _) => view! {
            <p><span class="pill open">"Open"</span>" Founders can still change their answers."</p>
        }
        .into_any(),
    };
    let tabs = Area::ALL
        .into_iter()
        .map(|a| {
            let (done, of) = q.progress(a);
            let reviewed = q.reviewed_areas.contains(&a);
            view! {
                <a class="area-tab" href=format!("/engagements/{id}/questionnaire?area={}", a.as_str())
                    aria-current=(a == area).then_some("page")>
                    <span class="area-name">
                        {a.label()}
                        {reviewed.then(|| view! { <span class="reviewed" aria-hidden="true">" ✓"</span><span class="visually-hidden">" (reviewed)"</span> })}
                    </span>
                    <progress max=of value=done aria-label=format!("{} answered", a.label())>{done}" of "{of}</progress>
                    <span class="small muted">{done}" of "{of}" answered"</span>
                </a>
            }
        })
        .collect_view();
    let reviewed = q.reviewed_areas.contains(&area);
    let area_bank = q.bank.area(area).cloned();
    let questions = area_bank
        .as_ref()
        .map(|a| a.questions.clone())
        .unwrap_or_default();
    let cards = questions
        .into_iter()
        .map(|question| {
            let answer = q.answer(&question.id).cloned();
            let files: Vec<EvidenceFile> = q
                .files
                .iter()
                .filter(|f| f.question_id == question.id)
                .cloned()
                .collect();
            let comments: Vec<Comment> = q
                .comments
                .iter()
                .filter(|c| c.question_id == question.id)
                .cloned()
                .collect();
            view! {
                <QuestionReview engagement_id=id question answer files comments
                    founders=founders.clone() data/>
            }
        })
        .collect_view();
    view! {
        <Title text=format!("Answers · {}", q.client_name)/>
        {review_head(id, q.client_name.clone(), q.system_name.clone(), "answers")}
        <section class="card questionnaire-status">
            <h2 class="visually-hidden">"Status"</h2>
            {status}
            <p class="muted small">"Question bank: "{q.bank_version.label()}</p>
            <label for="overall-progress">"Answered overall: "{answered}" of "{total}</label>
            <progress id="overall-progress" max=total value=answered>{answered}" of "{total}</progress>
        </section>
        {(!invited_any).then(|| view! {
            <div class="banner info">
                <p>"No founder has been invited yet. Invite the founders from the "
                    <a href=format!("/engagements/{id}")>"engagement page"</a>
                    " so they can answer; you can read the questions and leave notes meanwhile."</p>
            </div>
        })}
        <nav class="area-tabs" aria-label="Areas">{tabs}</nav>
        <section class="card area-head">
            <div class="page-head">
                <div>
                    <h2>
                        {area_bank.as_ref().map(|a| a.title.clone()).unwrap_or_else(|| area.label().to_owned())}
                        {reviewed.then(|| view! { " "<span class="pill reviewed">"Reviewed"</span> })}
                    </h2>
                    {area_bank.as_ref().map(|a| view! { <p class="muted">{a.question.clone()}</p> })}
                </div>
                <ActionForm action=review attr:class="inline">
                    <input type="hidden" name="engagement_id" value=id/>
                    <input type="hidden" name="area" value=area.as_str()/>
                    <input type="hidden" name="reviewed" value=if reviewed { "false" } else { "true" }/>
                    <button type="submit" class=if reviewed { "secondary" } else { "" }>
                        {if reviewed { "Mark as not reviewed" } else { "Mark this area reviewed" }}
                    </button>
                </ActionForm>
            </div>
            <ErrorBanner error=review_error/>
        </section>
        {cards}
    }
}

#[component]
fn QuestionReview(
    engagement_id: i64,
    question: Question,
    answer: Option<Answer>,
    files: Vec<EvidenceFile>,
    comments: Vec<Comment>,
    founders: Vec<FounderInvitation>,
    data: Resource<Result<ReviewData, UiError>>,
) -> impl IntoView {
    let action = ServerAction::<AddComment>::new();
    let error = action_error(action);
    let pending = action.pending();
    after_success(action, move || data.refetch());
    let choice = answer.as_ref().and_then(|a| a.choice);
    let red_flag = question.red_flag && choice == Some(Choice::No);
    let body_id = format!("comment-{}", question.id);
    let ask_id = format!("ask-{}", question.id);
    let anchor = format!("q-{}", question.id);
    let question_id = question.id.clone();
    let answered_by = answer.as_ref().filter(|a| a.version > 0).map(|a| {
        view! { <span class="muted small">"by "{a.answered_by.clone()}" · "{format_time(a.updated_at)}</span> }
    });
    let notes = answer
        .as_ref()
        .filter(|a| !a.notes_html.is_empty())
        .map(|a| {
            // notes_html was rendered from Markdown and sanitized on the server
            // (audit::markdown::to_safe_html), so it is safe to insert as HTML.
            view! { <div class="notes" inner_html=a.notes_html.clone()></div> }
        });
    let links = answer.as_ref().filter(|a| !a.links.is_empty()).map(|a| {
        view! {
            <ul class="links" aria-label="Links">
                {a.links.iter().map(|l| view! {
                    <li><a href=l.clone() rel="noopener noreferrer nofollow" target="_blank">{l.clone()}</a></li>
                }).collect_view()}
            </ul>
        }
    });
    let files = (!files.is_empty()).then(|| {
        view! {
            <ul class="files" aria-label="Evidence files">
                {files.into_iter().map(|f| view! {
                    <li>
                        <a href=format!("/evidence/{}", f.evidence_file_id)>{f.file_name}</a>
                        <span class="muted small">" · "{file_size(f.size_bytes)}" · "{f.uploaded_by}</span>
                    </li>
                }).collect_view()}
            </ul>
        }
    });
    let thread = (!comments.is_empty()).then(|| {
        view! {
            <ol class="comments" aria-label="Comments">
                {comments.into_iter().map(|c| view! {
                    <li class="comment">
                        <p class="small">
                            <strong>{c.author_name}</strong>
                            <span class="muted">" · "{format_time(c.created_at)}</span>
                            {c.clarification.then(|| view! { " "<span class="pill clarification">"Clarification requested"</span> })}
                        </p>
                        // Sanitized on the server (audit::markdown::to_safe_html).
                        <div class="comment-body" inner_html=c.body_html></div>
                    </li>
                }).collect_view()}
            </ol>
        }
    });
    view! {
        <article class="card question" id=anchor>
            <header class="question-head">
                <h3>{question.prompt.clone()}</h3>
                {red_flag.then(|| view! { <span class="red-flag-badge">"Red flag"</span> })}
            </header>
            <p class="answer-line">{choice_chip(choice, "Not answered yet")}" "{answered_by}</p>
            {notes}
            {links}
            {files}
            {thread}
            <details class="comment-details">
                <summary>"Comment or ask a founder"</summary>
                <ActionForm action attr:class="comment-form">
                    <input type="hidden" name="engagement_id" value=engagement_id/>
                    <input type="hidden" name="form[question_id]" value=question_id/>
                    <label for=body_id.clone()>"Comment"</label>
                    <textarea id=body_id name="form[body]" rows="2" maxlength="5000" required></textarea>
                    <FieldMessage error field="body"/>
                    <div class="inline-form">
                        <label for=ask_id.clone()>"Ask for clarification from"</label>
                        <select id=ask_id name="form[ask_founder]">
                            <option value="">"Nobody (just a note)"</option>
                            {founders.into_iter().map(|f| view! {
                                <option value=f.founder_invitation_id.to_string()>{format!("{} <{}>", f.name, f.email)}</option>
                            }).collect_view()}
                        </select>
                        <button type="submit" disabled=move || pending.get()>"Add comment"</button>
                    </div>
                    <ErrorBanner error/>
                </ActionForm>
            </details>
        </article>
    }
}

// ---------------------------------------------------------------------------------------------
// Scores

#[component]
pub fn ScoresPage() -> impl IntoView {
    let id = engagement_id_param();
    let data = Resource::new(id, engagement_scores);
    view! {
        <Transition fallback=|| view! { <p class="muted">"Loading the scores…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Err(e) => view! { <LoadError error=e/> }.into_any(),
                    Ok(d) => scores_view(d).into_any(),
                }
            })}
        </Transition>
    }
}

fn scores_view(d: ScoresData) -> impl IntoView {
    let id = d.engagement_id;
    let card = d.scorecard;
    view! {
        <Title text=format!("Scores · {}", d.client_name)/>
        {review_head(id, d.client_name.clone(), d.system_name.clone(), "scores")}
        <section class="card">
            <h2>"Overall"</h2>
            <p class="score-big">{score_text(card.overall)}<span class="muted small">" / 100"</span></p>
            {score_bar(card.overall, "Overall score".to_owned())}
            <p class="muted small">
                {card.answered}" of "{card.questions}" questions answered · "
                {plural(card.red_flags.len(), "red flag", "red flags")}" · question bank "{d.bank_version.label()}
            </p>
        </section>
        <div class="area-scores">
            {card.areas.into_iter().map(|a| area_score_card(id, a)).collect_view()}
        </div>
        <details class="card how">
            <summary>"How scores are computed"</summary>
            <p>"Each answer has a value: "<strong>"yes"</strong>" = 1, "<strong>"partly"</strong>" = ½, "
                <strong>"no"</strong>" = 0, "<strong>"don't know"</strong>" = 0 (and the question is listed as a gap: nobody could tell), "
                <strong>"not answered"</strong>" = 0 (listed as not answered yet). "<strong>"Not applicable"</strong>
                " takes the question out of the score altogether, where the question offers it."</p>
            <ul>
                <li><strong>"Area score"</strong>" = 100 × Σ (weight × value) ÷ Σ weight over the area's applicable questions, rounded. An area where no question applies has no score (—)."</li>
                <li><strong>"Red flag"</strong>": a question marked as a red flag and answered “no”. Red flags are listed apart from the score."</li>
                <li><strong>"Risk"</strong>": high if the score is below 50 or the area has a red flag; otherwise medium if the score is below 75 or there are two gaps or more; otherwise low. An area without a score is low."</li>
                <li><strong>"Overall score"</strong>" = the same sum over every applicable question of every area: each question counts by its weight, wherever it sits."</li>
                <li><strong>"What moved this score"</strong>": each applicable question that lost points, with the points it cost its area: 100 × weight × (1 − value) ÷ Σ weight of the area's applicable questions. The points lost and the area score add up to 100, give or take rounding."</li>
            </ul>
        </details>
    }
}

fn area_score_card(id: i64, a: AreaScore) -> impl IntoView {
    let heading_id = format!("score-{}", a.area.as_str());
    let labelled_by = heading_id.clone();
    let area = a.area;
    let red_flags = (!a.red_flags.is_empty()).then(|| {
        view! {
            <div class="red-flags">
                <h3>"Red flags"</h3>
                <ul>
                    {a.red_flags.iter().map(|f| view! {
                        <li><a href=question_href(id, f.area, &f.question_id)>{f.prompt.clone()}</a></li>
                    }).collect_view()}
                </ul>
            </div>
        }
    });
    let explanation = if a.explanation.is_empty() {
        view! { <p class="muted small">"No question cost this area points."</p> }.into_any()
    } else {
        let count = a.explanation.len();
        view! {
            // Folded: the list is long, and the red flags above say what matters most.
            <details class="explanation">
            <summary>{format!("What moved this score ({count} questions)")}</summary>
            <div class="table-wrap">
                <table>
                    <thead>
                        <tr>
                            <th scope="col">"Question"</th>
                            <th scope="col">"Answer"</th>
                            <th scope="col">"Points lost"</th>
                            <th scope="col">"Note"</th>
                        </tr>
                    </thead>
                    <tbody>
                        {a.explanation.into_iter().map(|line| view! {
                            <tr>
                                <td><a href=question_href(id, area, &line.question_id)>{line.prompt}</a></td>
                                <td>{choice_chip(line.choice, "Not answered yet")}</td>
                                <td class="num">{format!("{:.1}", line.points_lost)}</td>
                                <td>{line.note}</td>
                            </tr>
                        }).collect_view()}
                    </tbody>
                </table>
            </div>
            </details>
        }
        .into_any()
    };
    view! {
        <section class="card area-score" aria-labelledby=labelled_by>
            <div class="area-score-head">
                <h2 id=heading_id>{a.title.clone()}</h2>
                <span class=format!("risk-badge {}", a.risk.as_str())>{a.risk.label()}</span>
            </div>
            <p class="score-big">{score_text(a.score)}{a.score.map(|_| view! { <span class="muted small">" / 100"</span> })}</p>
            {score_bar(a.score, format!("{} score", a.title))}
            <p class="muted small">
                {a.answered}" of "{a.questions}" answered · "
                {a.gaps.len()}" “don't know” · "
                {a.unanswered.len()}" not answered yet"
            </p>
            {red_flags}
            {explanation}
        </section>
    }
}

// ---------------------------------------------------------------------------------------------
// Milestones

#[component]
pub fn MilestonesPage() -> impl IntoView {
    let id = engagement_id_param();
    let query = use_query_map();
    let picked = move || {
        query.with(|q| {
            (
                q.get("before").and_then(|v| v.parse::<i64>().ok()),
                q.get("after").and_then(|v| v.parse::<i64>().ok()),
            )
        })
    };
    let data = Resource::new(
        move || (id(), picked()),
        |(id, (before, after))| engagement_milestones(id, before, after),
    );
    let take = ServerAction::<TakeMilestone>::new();
    after_success(take, move || data.refetch());
    let take_error = action_error(take);
    view! {
        <Transition fallback=|| view! { <p class="muted">"Loading the milestones…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Err(e) => view! { <LoadError error=e/> }.into_any(),
                    Ok(d) => milestones_view(d, take, take_error).into_any(),
                }
            })}
        </Transition>
    }
}

fn milestones_view(
    d: MilestonesData,
    take: ServerAction<TakeMilestone>,
    take_error: Signal<Option<UiError>>,
) -> impl IntoView {
    let id = d.engagement_id;
    let pending = take.pending();
    let list = if d.milestones.is_empty() {
        view! {
            <div class="empty card">
                <p>"No milestones yet. A milestone freezes the answers and scores as they are now. "
                    "Take one before the audit starts and another after the interventions, then compare "
                    "them to show what moved."</p>
            </div>
        }
        .into_any()
    } else {
        view! {
            <div class="table-wrap">
                <table>
                    <thead>
                        <tr>
                            <th scope="col">"Milestone"</th>
                            <th scope="col">"Taken"</th>
                            <th scope="col">"Overall score"</th>
                            <th scope="col">"Answered"</th>
                        </tr>
                    </thead>
                    <tbody>
                        {d.milestones.iter().map(|m| view! {
                            <tr>
                                <td>{m.name.clone()}</td>
                                <td>{format_time(m.created_at)}</td>
                                <td class="num">{score_text(m.overall)}</td>
                                <td>{m.answered}" of "{m.questions}</td>
                            </tr>
                        }).collect_view()}
                    </tbody>
                </table>
            </div>
        }
        .into_any()
    };
    let compare = compare_form(&d);
    let comparison = d.comparison.map(|c| comparison_view(id, c));
    view! {
        <Title text=format!("Milestones · {}", d.client_name)/>
        {review_head(id, d.client_name.clone(), d.system_name.clone(), "milestones")}
        <section class="card">
            <h2>"Take a milestone"</h2>
            <ErrorBanner error=take_error/>
            <ActionForm action=take attr:class="inline-form">
                <input type="hidden" name="engagement_id" value=id/>
                <label for="milestone-name">"Name"</label>
                <input id="milestone-name" name="name" required maxlength="120"
                    placeholder="Before the audit" aria-describedby="milestone-help"/>
                <button type="submit" disabled=move || pending.get()>"Take milestone"</button>
            </ActionForm>
            <FieldMessage error=take_error field="name"/>
            <p class="help" id="milestone-help">"Saves today's answers and scores under this name."</p>
        </section>
        <h2>"Milestones"</h2>
        {list}
        {compare}
        {d.comparison_problem.map(|p| view! { <div class="banner error" role="alert"><p>{p}</p></div> })}
        {comparison}
    }
}

fn compare_form(d: &MilestonesData) -> Option<AnyView> {
    if d.milestones.len() < 2 {
        return (d.milestones.len() == 1).then(|| {
            view! { <p class="muted">"Take another milestone later to compare the two."</p> }
                .into_any()
        });
    }
    // Newest first: by default compare the oldest with the newest.
    let before = d
        .comparison
        .as_ref()
        .map(|c| c.before.milestone_id)
        .or_else(|| d.milestones.last().map(|m| m.milestone_id));
    let after = d
        .comparison
        .as_ref()
        .map(|c| c.after.milestone_id)
        .or_else(|| d.milestones.first().map(|m| m.milestone_id));
    let options = move |selected: Option<i64>| {
        d.milestones
            .iter()
            .map(|m| {
                view! {
                    <option value=m.milestone_id.to_string() selected=selected == Some(m.milestone_id)>
                        {format!("{} ({})", m.name, format_time(m.created_at))}
                    </option>
                }
            })
            .collect_view()
    };
    let (before_options, after_options) = (options(before), options(after));
    Some(
        view! {
            <section class="card">
                <h2>"Compare two milestones"</h2>
                <Form method="GET" action="">
                    <div class="row">
                        <div>
                            <label for="before">"Before"</label>
                            <select id="before" name="before">{before_options}</select>
                        </div>
                        <div>
                            <label for="after">"After"</label>
                            <select id="after" name="after">{after_options}</select>
                        </div>
                    </div>
                    <button type="submit">"Compare"</button>
                </Form>
            </section>
        }
        .into_any(),
    )
}

fn delta(before: Option<u32>, after: Option<u32>) -> AnyView {
    match (before, after) {
        (Some(b), Some(a)) if a > b => {
            view! { <span class="delta up">"▲ +"{a - b}</span> }.into_any()
        }
        (Some(b), Some(a)) if a < b => {
            view! { <span class="delta down">"▼ −"{b - a}</span> }.into_any()
        }
        (Some(_), Some(_)) => view! { <span class="delta same">"no change"</span> }.into_any(),
        _ => view! { <span class="muted">"—"</span> }.into_any(),
    }
}

fn comparison_view(id: i64, c: Comparison) -> impl IntoView {
    let group = |title: &'static str, trend: Trend| {
        let items: Vec<&AnswerChange> = c.changes.iter().filter(|ch| ch.trend == trend).collect();
        (!items.is_empty()).then(|| {
            view! {
                <h3>{format!("{title} ({})", items.len())}</h3>
                <ul class="changes">
                    {items.into_iter().map(|ch| view! {
                        <li>
                            <a href=question_href(id, ch.area, &ch.question_id)>{ch.prompt.clone()}</a>
                            <span class="muted small">" · "{ch.area.label()}</span>
                            <br/>
                            {choice_chip(ch.before, "Not answered")}" → "{choice_chip(ch.after, "Not answered")}
                        </li>
                    }).collect_view()}
                </ul>
            }
        })
    };
    let improved = group("Improved", Trend::Better);
    let worse = group("Got worse", Trend::Worse);
    let changed = group("Changed", Trend::Changed);
    let nothing = c.changes.is_empty().then(|| {
        view! { <p class="muted">"No answer changed between these milestones."</p> }
    });
    view! {
        <section class="card comparison">
            <h2>{format!("{} → {}", c.before.name, c.after.name)}</h2>
            <p class="muted small">{format_time(c.before.created_at)}" → "{format_time(c.after.created_at)}</p>
            <div class="table-wrap">
                <table>
                    <thead>
                        <tr>
                            <th scope="col">"Area"</th>
                            <th scope="col">"Before"</th>
                            <th scope="col">"After"</th>
                            <th scope="col">"Change"</th>
                        </tr>
                    </thead>
                    <tbody>
                        <tr>
                            <th scope="row">"Overall"</th>
                            <td class="num">{score_text(c.before.overall)}</td>
                            <td class="num">{score_text(c.after.overall)}</td>
                            <td>{delta(c.before.overall, c.after.overall)}</td>
                        </tr>
                        {c.areas.iter().map(|(area, b, a)| view! {
                            <tr>
                                <th scope="row">{area.label()}</th>
                                <td class="num">{score_text(*b)}</td>
                                <td class="num">{score_text(*a)}</td>
                                <td>{delta(*b, *a)}</td>
                            </tr>
                        }).collect_view()}
                    </tbody>
                </table>
            </div>
            {nothing}
            {improved}
            {worse}
            {changed}
        </section>
    }
}
