//! A member's own API tokens, for CI and scripts that call `/api/v1`.
use audit::accounts::ApiToken;
use leptos::prelude::*;
use leptos_meta::Title;

use crate::components::{action_error, format_time, ErrorBanner, FieldMessage, LoadError};
use crate::error::UiError;

#[cfg(feature = "ssr")]
use crate::state::{app_state, current_member, fail};

#[server(prefix = "/fn", endpoint = "list_api_tokens")]
pub async fn list_api_tokens() -> Result<Vec<ApiToken>, UiError> {
    let member = current_member().await?;
    let state = app_state()?;
    audit::accounts::list_api_tokens(&state.db, &member)
        .await
        .map_err(fail)
}

/// Returns the secret: the only time it is ever shown.
#[server(prefix = "/fn", endpoint = "create_api_token")]
pub async fn create_api_token(name: String) -> Result<String, UiError> {
    let member = current_member().await?;
    let state = app_state()?;
    let (secret, _) = audit::accounts::create_api_token(&state.db, &member, &name)
        .await
        .map_err(fail)?;
    Ok(secret)
}

#[server(prefix = "/fn", endpoint = "revoke_api_token")]
pub async fn revoke_api_token(api_token_id: i64) -> Result<(), UiError> {
    let member = current_member().await?;
    let state = app_state()?;
    audit::accounts::revoke_api_token(&state.db, &member, api_token_id)
        .await
        .map_err(fail)
}

#[component]
pub fn TokensPage() -> impl IntoView {
    let create = ServerAction::<CreateApiToken>::new();
    let revoke = ServerAction::<RevokeApiToken>::new();
    let tokens = Resource::new(
        move || (create.version().get(), revoke.version().get()),
        |_| list_api_tokens(),
    );
    let error = action_error(create);
    let revoke_error = action_error(revoke);
    view! {
        <Title text="API tokens"/>
        <h1>"API tokens"</h1>
        <p class="muted">"For scripts and CI calling "<a href="/api/v1/openapi.json">"the REST API"</a>": send "<code>"Authorization: Bearer <token>"</code>"."</p>
        <section class="card">
            <h2>"Create a token"</h2>
            <ErrorBanner error/>
            {move || create.value().get().and_then(|r| r.ok()).map(|secret| view! {
                <div class="banner ok" role="status">
                    <p>"Copy this token now; it will not be shown again:"</p>
                    <p><code class="secret">{secret}</code></p>
                </div>
            })}
            <ActionForm action=create attr:class="inline-form">
                <label for="token_name">"Name"</label>
                <input id="token_name" name="name" required maxlength="80" placeholder="CI pipeline"/>
                <button type="submit">"Create token"</button>
            </ActionForm>
            <FieldMessage error field="name"/>
        </section>
        <ErrorBanner error=revoke_error/>
        <Transition fallback=|| view! { <p class="muted">"Loading tokens…"</p> }>
            {move || Suspend::new(async move {
                match tokens.await {
                    Err(e) => view! { <LoadError error=e/> }.into_any(),
                    Ok(list) if list.is_empty() => view! { <p class="muted">"No tokens yet."</p> }.into_any(),
                    Ok(list) => view! {
                        <div class="table-wrap"><table>
                            <thead><tr><th scope="col">"Name"</th><th scope="col">"Created"</th><th scope="col">"Last used"</th><th scope="col"><span class="visually-hidden">"Action"</span></th></tr></thead>
                            <tbody>
                                {list.into_iter().map(|t| view! {
                                    <tr>
                                        <td>{t.name.clone()}</td>
                                        <td>{format_time(t.created_at)}</td>
                                        <td>{t.last_used_at.map(format_time).unwrap_or_else(|| "never".to_owned())}</td>
                                        <td>
                                            <details>
                                                <summary>"Revoke…"</summary>
                                                <ActionForm action=revoke>
                                                    <input type="hidden" name="api_token_id" value=t.api_token_id/>
                                                    <button type="submit" class="danger">"Yes, revoke “"{t.name.clone()}"”"</button>
                                                </ActionForm>
                                            </details>
                                        </td>
                                    </tr>
                                }).collect_view()}
                            </tbody>
                        </table></div>
                    }.into_any(),
                }
            })}
        </Transition>
    }
}
