//! The questionnaire panel of the engagement page: progress, links to review, scores and
//! milestones, and the founders' invitations (invite, re-send, revoke).
use audit::engagements::{Engagement, Founder};
use audit::questionnaire::{
    BankVersionInfo, FounderInvitation, FounderInvitationForm, QuestionnaireStatus,
};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::components::{action_error, format_time, ErrorBanner, FieldMessage};
use crate::error::UiError;

#[cfg(feature = "ssr")]
use crate::state::{app_state, current_member, fail};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QuestionnaireOverview {
    pub status: QuestionnaireStatus,
    pub answered: usize,
    pub questions: usize,
    pub bank_version: BankVersionInfo,
    /// The versions the firm may switch to; empty once anyone has answered.
    pub bank_choices: Vec<BankVersionInfo>,
    pub invitations: Vec<FounderInvitation>,
    /// The server's clock, so "expired" reads the same on every screen.
    pub now: i64,
}

#[server(prefix = "/fn", endpoint = "questionnaire_summary")]
pub async fn questionnaire_summary(engagement_id: i64) -> Result<QuestionnaireOverview, UiError> {
    use audit::questionnaire::Respondent;
    let member = current_member().await?;
    let state = app_state()?;
    let invitations =
        audit::questionnaire::list_founder_invitations(&state.db, member.firm_id, engagement_id)
            .await
            .map_err(fail)?;
    let progress = audit::questionnaire::questionnaire_progress(
        &state.db,
        &Respondent::Member(member.clone()),
        engagement_id,
    )
    .await
    .map_err(fail)?;
    let bank_choices = if progress.any_answers {
        Vec::new()
    } else {
        audit::questionnaire::list_bank_versions(&state.db, member.firm_id)
            .await
            .map_err(fail)?
    };
    Ok(QuestionnaireOverview {
        status: progress.status,
        answered: progress.answered,
        questions: progress.questions,
        bank_version: progress.bank_version,
        bank_choices,
        invitations,
        now: audit::clock::now_ms(),
    })
}

#[server(prefix = "/fn", endpoint = "set_engagement_bank")]
pub async fn set_engagement_bank(engagement_id: i64, bank_version_id: i64) -> Result<(), UiError> {
    let member = current_member().await?;
    let state = app_state()?;
    audit::questionnaire::set_bank_version(&state.db, &member, engagement_id, bank_version_id)
        .await
        .map(|_| ())
        .map_err(fail)
}

#[server(prefix = "/fn", endpoint = "invite_founder")]
pub async fn invite_founder(
    engagement_id: i64,
    form: FounderInvitationForm,
) -> Result<i64, UiError> {
    let member = current_member().await?;
    let state = app_state()?;
    audit::questionnaire::invite_founder(&state.db, &member, engagement_id, &form, &state.base_url)
        .await
        .map_err(fail)
}

#[server(prefix = "/fn", endpoint = "resend_founder_invitation")]
pub async fn resend_founder_invitation(
    engagement_id: i64,
    founder_invitation_id: i64,
) -> Result<(), UiError> {
    let member = current_member().await?;
    let state = app_state()?;
    audit::questionnaire::resend_founder_invitation(
        &state.db,
        &member,
        engagement_id,
        founder_invitation_id,
        &state.base_url,
    )
    .await
    .map_err(fail)
}

#[server(prefix = "/fn", endpoint = "revoke_founder_invitation")]
pub async fn revoke_founder_invitation(
    engagement_id: i64,
    founder_invitation_id: i64,
) -> Result<(), UiError> {
    let member = current_member().await?;
    let state = app_state()?;
    audit::questionnaire::revoke_founder_invitation(
        &state.db,
        &member,
        engagement_id,
        founder_invitation_id,
    )
    .await
    .map_err(fail)
}

#[component]
pub fn QuestionnairePanel(
    engagement_id: i64,
    /// The engagement's own resource: its founders are offered a one-click invitation.
    engagement: Resource<Result<Engagement, UiError>>,
) -> impl IntoView {
    let invite = ServerAction::<InviteFounder>::new();
    let invite_error = action_error(invite);
    let resend = ServerAction::<ResendFounderInvitation>::new();
    let revoke = ServerAction::<RevokeFounderInvitation>::new();
    let set_bank = ServerAction::<SetEngagementBank>::new();
    let bank_error = action_error(set_bank);
    let row_error = Signal::derive(move || {
        resend
            .value()
            .get()
            .and_then(|r| r.err())
            .or_else(|| revoke.value().get().and_then(|r| r.err()))
    });
    let summary = Resource::new(
        move || {
            (
                invite.version().get(),
                resend.version().get(),
                revoke.version().get(),
                set_bank.version().get(),
            )
        },
        move |_| questionnaire_summary(engagement_id),
    );
    let base = format!("/engagements/{engagement_id}");
    view! {
        <section class="card questionnaire-panel">
            <h2>"Questionnaire"</h2>
            <Transition fallback=|| view! { <p class="muted">"Loading the questionnaire…"</p> }>
                {move || Suspend::new(async move {
                    let founders = engagement.await.map(|e| e.founders).unwrap_or_default();
                    let s = match summary.await {
                        Ok(s) => s,
                        Err(e) => return view! { <p class="field-error">{e.message}</p> }.into_any(),
                    };
                    let status = match s.status {
                        QuestionnaireStatus::Open => view! { <span class="pill active">"Open for answers"</span> },
                        QuestionnaireStatus::Submitted => view! { <span class="pill sent">"Submitted for review"</span> },
                    };
                    let invited: Vec<String> = s.invitations.iter().filter(|i| i.revoked_at.is_none()).map(|i| i.email.to_lowercase()).collect();
                    let not_invited: Vec<Founder> = founders.into_iter().filter(|f| !invited.contains(&f.email.to_lowercase())).collect();
                    view! {
                        <p>{status}" · "{format!("{} of {} questions answered", s.answered, s.questions)}" · "
                            <span class="muted small">{s.bank_version.label()}</span></p>
                        {(s.bank_choices.len() > 1).then(|| {
                            let current = s.bank_version.bank_version_id;
                            view! {
                                <ActionForm action=set_bank attr:class="inline-form bank-choice">
                                    <input type="hidden" name="engagement_id" value=engagement_id/>
                                    <label for="bank_version_id">"Question bank (until the first answer)"</label>
                                    <select id="bank_version_id" name="bank_version_id">
                                        {s.bank_choices.iter().map(|v| view! {
                                            <option value=v.bank_version_id selected=v.bank_version_id == current>{v.label()}</option>
                                        }).collect_view()}
                                    </select>
                                    <button type="submit" class="secondary">"Use this bank"</button>
                                </ActionForm>
                                <ErrorBanner error=bank_error/>
                            }
                        })}
                        <progress max=s.questions value=s.answered aria-label="Questionnaire progress"></progress>
                        <h3>"Founders"</h3>
                        <ErrorBanner error=row_error/>
                        {if s.invitations.is_empty() {
                            view! { <p class="muted">"Nobody is invited yet. Invite the founders below; each gets a link to the questionnaire by e-mail."</p> }.into_any()
                        } else {
                            invitation_table(engagement_id, s.invitations.clone(), s.now, resend, revoke).into_any()
                        }}
                        {(!not_invited.is_empty()).then(|| view! {
                            <div class="invite-known">
                                {not_invited.into_iter().map(|f| view! {
                                    <ActionForm action=invite attr:class="inline">
                                        <input type="hidden" name="engagement_id" value=engagement_id/>
                                        <input type="hidden" name="form[name]" value=f.name.clone()/>
                                        <input type="hidden" name="form[email]" value=f.email.clone()/>
                                        <button type="submit" class="secondary">"Invite "{f.name.clone()}</button>
                                    </ActionForm>
                                }).collect_view()}
                            </div>
                        })}
                    }.into_any()
                })}
            </Transition>
            <details class="invite-other">
                <summary>"Invite someone else…"</summary>
                <ErrorBanner error=invite_error/>
                <ActionForm action=invite>
                    <input type="hidden" name="engagement_id" value=engagement_id/>
                    <div class="row">
                        <div>
                            <label for="invite-name">"Name"</label>
                            <input id="invite-name" name="form[name]" required maxlength="120" autocomplete="off"/>
                            <FieldMessage error=invite_error field="name"/>
                        </div>
                        <div>
                            <label for="invite-email">"E-mail"</label>
                            <input id="invite-email" name="form[email]" type="email" required autocomplete="off"/>
                            <FieldMessage error=invite_error field="email"/>
                        </div>
                    </div>
                    <div class="actions"><button type="submit">"Send the invitation"</button></div>
                </ActionForm>
            </details>
            <p class="actions">
                <a href=format!("{base}/questionnaire")>"Review answers"</a>
                <a href=format!("{base}/scores")>"Scores"</a>
                <a href=format!("{base}/milestones")>"Milestones"</a>
            </p>
        </section>
    }
}

fn invitation_table(
    engagement_id: i64,
    invitations: Vec<FounderInvitation>,
    now: i64,
    resend: ServerAction<ResendFounderInvitation>,
    revoke: ServerAction<RevokeFounderInvitation>,
) -> impl IntoView {
    view! {
        <div class="table-wrap">
            <table>
                <thead><tr><th scope="col">"Founder"</th><th scope="col">"Invitation"</th><th scope="col">"Last answer"</th><th scope="col">"Actions"</th></tr></thead>
                <tbody>
                    {invitations.into_iter().map(|i| {
                        let state = i.state(now);
                        let id = i.founder_invitation_id;
                        view! {
                            <tr>
                                <td>{i.name.clone()}<br/><span class="muted small">{i.email.clone()}</span></td>
                                <td><span class=format!("pill {state}")>{state}</span>
                                    <br/><span class="muted small">{format!("sent {}×, last {}", i.sent_count, format_time(i.last_sent_at))}</span></td>
                                <td>{i.last_progress_at.map(format_time).unwrap_or_else(|| "—".to_owned())}</td>
                                <td>
                                    <ActionForm action=resend attr:class="inline">
                                        <input type="hidden" name="engagement_id" value=engagement_id/>
                                        <input type="hidden" name="founder_invitation_id" value=id/>
                                        <button type="submit" class="secondary">{if state == "revoked" { "Re-send (reinstate)" } else { "Re-send" }}</button>
                                    </ActionForm>
                                    {(state != "revoked").then(|| view! {
                                        <details class="danger-zone inline-confirm">
                                            <summary>"Revoke…"</summary>
                                            <p class="small">"The link stops working and the founder's open session ends. Answers are kept."</p>
                                            <ActionForm action=revoke>
                                                <input type="hidden" name="engagement_id" value=engagement_id/>
                                                <input type="hidden" name="founder_invitation_id" value=id/>
                                                <button type="submit" class="danger">"Yes, revoke"</button>
                                            </ActionForm>
                                        </details>
                                    })}
                                </td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}
