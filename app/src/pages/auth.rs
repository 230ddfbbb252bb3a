//! Sign-up, log-in, log-out, and joining a firm from an invitation link.
use audit::accounts::{InvitationPreview, JoinForm, Member, SignUpForm};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::components::{action_error, ErrorBanner, FieldMessage, LoadError};
use crate::error::UiError;

#[cfg(feature = "ssr")]
use crate::state::{app_state, fail, session, SESSION_USER};

#[server(prefix = "/fn", endpoint = "who_am_i")]
pub async fn who_am_i() -> Result<Option<Member>, UiError> {
    crate::state::current_member_opt().await
}

/// Starts a fresh session for `member`: a new session id, so one planted before log-in is useless.
#[cfg(feature = "ssr")]
async fn start_session(member: &Member) -> Result<(), UiError> {
    let session = session().await?;
    session.cycle_id().await.map_err(crate::state::internal)?;
    session
        .insert(SESSION_USER, member.user_id)
        .await
        .map_err(crate::state::internal)?;
    Ok(())
}

/// Only local paths are followed after log-in, so a link cannot send people elsewhere.
pub fn safe_next(next: &str) -> String {
    if next.starts_with('/') && !next.starts_with("//") && !next.contains('\\') {
        next.to_owned()
    } else {
        "/engagements".to_owned()
    }
}

#[server(prefix = "/fn", endpoint = "sign_up")]
pub async fn sign_up(form: SignUpForm) -> Result<(), UiError> {
    let state = app_state()?;
    let parsed = form.parse().map_err(|e| fail(audit::Error::Invalid(e)))?;
    let member = audit::accounts::sign_up(&state.db, &parsed)
        .await
        .map_err(fail)?;
    tracing::info!(
        user_id = member.user_id,
        firm_id = member.firm_id,
        "signed up"
    );
    start_session(&member).await?;
    leptos_axum::redirect("/engagements");
    Ok(())
}

#[server(prefix = "/fn", endpoint = "log_in")]
pub async fn log_in(email: String, password: String, next: Option<String>) -> Result<(), UiError> {
    use axum::extract::ConnectInfo;
    use std::net::SocketAddr;
    let state = app_state()?;
    let ip = leptos_axum::extract::<ConnectInfo<SocketAddr>>()
        .await
        .map(|ConnectInfo(addr)| addr.ip().to_string())
        .unwrap_or_else(|_| "unknown".to_owned());
    let email_key = format!("email:{}", email.trim().to_lowercase());
    let keys = [format!("ip:{ip}"), email_key.clone()];
    if let Err(retry_after_secs) = state.login_limiter.check(&keys) {
        tracing::warn!(%ip, "log-in rate limited");
        return Err(fail(audit::Error::RateLimited { retry_after_secs }));
    }
    let member = match audit::accounts::authenticate(&state.db, &email, &password).await {
        Ok(member) => member,
        Err(e) => {
            // Only failures count towards the limit.
            if matches!(e, audit::Error::Unauthenticated(_)) {
                state.login_limiter.record_failure(&keys);
            }
            return Err(fail(e));
        }
    };
    state.login_limiter.forget(&email_key);
    start_session(&member).await?;
    leptos_axum::redirect(&safe_next(next.as_deref().unwrap_or("/engagements")));
    Ok(())
}

#[server(prefix = "/fn", endpoint = "log_out")]
pub async fn log_out() -> Result<(), UiError> {
    let session = session().await?;
    session.flush().await.map_err(crate::state::internal)?;
    leptos_axum::redirect("/login");
    Ok(())
}

#[component]
pub fn SignUpPage() -> impl IntoView {
    let action = ServerAction::<SignUp>::new();
    let error = action_error(action);
    let pending = action.pending();
    view! {
        <Title text="Sign up"/>
        <section class="card narrow">
            <h1>"Create your firm's account"</h1>
            <p class="muted">"You will be the firm's owner and can invite consultants afterwards."</p>
            <ErrorBanner error/>
            <ActionForm action>
                <label for="firm_name">"Firm name"</label>
                <input id="firm_name" name="form[firm_name]" required maxlength="120" autocomplete="organization"/>
                <FieldMessage error field="firm_name"/>
                <label for="display_name">"Your name"</label>
                <input id="display_name" name="form[display_name]" required maxlength="120" autocomplete="name"/>
                <FieldMessage error field="display_name"/>
                <label for="email">"E-mail"</label>
                <input id="email" name="form[email]" type="email" required autocomplete="email"/>
                <FieldMessage error field="email"/>
                <label for="password">"Password"</label>
                <input id="password" name="form[password]" type="password" required minlength="12" maxlength="1024" autocomplete="new-password" aria-describedby="password-help"/>
                <p class="help" id="password-help">"At least 12 characters. A few unrelated words make a strong one."</p>
                <FieldMessage error field="password"/>
                <button type="submit" disabled=move || pending.get()>
                    {move || if pending.get() { "Creating account…" } else { "Create account" }}
                </button>
            </ActionForm>
            <p>"Already have an account? "<a href="/login">"Log in"</a></p>
        </section>
    }
}

#[component]
pub fn LogInPage() -> impl IntoView {
    let action = ServerAction::<LogIn>::new();
    let error = action_error(action);
    let pending = action.pending();
    let query = use_query_map();
    let next = move || query.with(|q| q.get("next").unwrap_or_default());
    view! {
        <Title text="Log in"/>
        <section class="card narrow">
            <h1>"Log in"</h1>
            <ErrorBanner error/>
            <ActionForm action>
                <input type="hidden" name="next" value=next/>
                <label for="email">"E-mail"</label>
                <input id="email" name="email" type="email" required autocomplete="username"/>
                <label for="password">"Password"</label>
                <input id="password" name="password" type="password" required autocomplete="current-password"/>
                <button type="submit" disabled=move || pending.get()>
                    {move || if pending.get() { "Logging in…" } else { "Log in" }}
                </button>
            </ActionForm>
            <p>"New to Plumbline? "<a href="/signup">"Create an account"</a></p>
        </section>
    }
}

#[server(prefix = "/fn", endpoint = "preview_invitation")]
pub async fn preview_invitation(token: String) -> Result<InvitationPreview, UiError> {
    let state = app_state()?;
    audit::accounts::preview_invitation(&state.db, &token)
        .await
        .map_err(fail)
}

#[server(prefix = "/fn", endpoint = "join_firm")]
pub async fn join_firm(token: String, form: JoinForm) -> Result<(), UiError> {
    let state = app_state()?;
    let (name, password) = form.parse().map_err(|e| fail(audit::Error::Invalid(e)))?;
    let member = audit::accounts::accept_invitation(&state.db, &token, &name, &password)
        .await
        .map_err(fail)?;
    start_session(&member).await?;
    leptos_axum::redirect("/engagements");
    Ok(())
}

#[component]
pub fn JoinPage() -> impl IntoView {
    let params = use_params_map();
    let token = move || params.with(|p| p.get("token").unwrap_or_default());
    let preview = Resource::new(token, preview_invitation);
    let action = ServerAction::<JoinFirm>::new();
    let error = action_error(action);
    view! {
        <Title text="Join a firm"/>
        <Suspense fallback=|| view! { <p>"Loading the invitation…"</p> }>
            {move || Suspend::new(async move {
                match preview.await {
                    Err(e) => view! { <LoadError error=e/> }.into_any(),
                    Ok(p) => view! {
                        <section class="card narrow">
                            <h1>"Join "{p.firm_name.clone()}</h1>
                            <p>"You were invited as "<strong>{p.email.clone()}</strong>". Choose your name and a password."</p>
                            <ErrorBanner error/>
                            <ActionForm action>
                                <input type="hidden" name="token" value=token/>
                                <label for="display_name">"Your name"</label>
                                <input id="display_name" name="form[display_name]" required maxlength="120"/>
                                <FieldMessage error field="display_name"/>
                                <label for="password">"Password"</label>
                                <input id="password" name="form[password]" type="password" required minlength="12" autocomplete="new-password"/>
                                <FieldMessage error field="password"/>
                                <button type="submit">"Join the firm"</button>
                            </ActionForm>
                        </section>
                    }.into_any(),
                }
            })}
        </Suspense>
    }
}
