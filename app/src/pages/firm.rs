//! The firm owner's pages: members and invitations, the mail outbox, troubled jobs, and
//! Plumbline's own latency figures.
use audit::accounts::{Member, MemberInvitation};
use audit::jobs::Job;
use audit::mail::OutboxMessage;
use audit::telemetry::RouteSummary;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::components::{action_error, format_time, ErrorBanner, FieldMessage, LoadError};
use crate::error::UiError;
use crate::pages::probes::{firm_probe_allow, SaveFirmProbeAllow};

#[cfg(feature = "ssr")]
use crate::state::{app_state, current_owner, fail};

/// Rows per page on the owner's lists.
const PAGE: i64 = 50;

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct FirmMembers {
    pub members: Vec<Member>,
    pub invitations: Vec<MemberInvitation>,
}

#[server(prefix = "/fn", endpoint = "firm_overview")]
pub async fn firm_overview() -> Result<FirmMembers, UiError> {
    let owner = current_owner().await?;
    let state = app_state()?;
    let members = audit::accounts::list_members(&state.db, owner.firm_id)
        .await
        .map_err(fail)?;
    let invitations = audit::accounts::list_member_invitations(&state.db, owner.firm_id)
        .await
        .map_err(fail)?;
    Ok(FirmMembers {
        members,
        invitations,
    })
}

#[server(prefix = "/fn", endpoint = "invite_member")]
pub async fn invite_member(email: String) -> Result<String, UiError> {
    let owner = current_owner().await?;
    let state = app_state()?;
    let email = audit::fields::EmailAddress::parse("email", &email)
        .map_err(|e| fail(audit::Error::Invalid(vec![e])))?;
    audit::accounts::invite_member(&state.db, &owner, &email, &state.base_url)
        .await
        .map_err(fail)?;
    Ok(email.to_string())
}

/// The firm's report look as the owner's form shows it.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct BrandingSettings {
    /// `#rrggbb`
    pub accent: String,
    /// `PNG`, `JPEG` or `SVG` when a logo is on file.
    pub logo: Option<String>,
}

#[server(prefix = "/fn", endpoint = "report_branding")]
pub async fn report_branding() -> Result<BrandingSettings, UiError> {
    let owner = current_owner().await?;
    let state = app_state()?;
    let branding = audit::reports::build::firm_branding(&state.db, owner.firm_id)
        .await
        .map_err(fail)?;
    let logo = branding.branding.logo.map(|l| {
        match l.extension.as_str() {
            "png" => "PNG",
            "jpg" => "JPEG",
            _ => "SVG",
        }
        .to_owned()
    });
    Ok(BrandingSettings {
        accent: branding.branding.accent,
        logo,
    })
}

#[component]
pub fn FirmPage() -> impl IntoView {
    let invite = ServerAction::<InviteMember>::new();
    let overview = Resource::new(move || invite.version().get(), |_| firm_overview());
    let error = action_error(invite);
    view! {
        <Title text="Firm"/>
        <h1>"Firm"</h1>
        <p class="muted"><a href="/firm/bank">"Question bank"</a>": your firm's own versions of the questionnaire."</p>
        <section class="card">
            <h2>"Invite a consultant"</h2>
            <p class="muted">"They get an e-mail with a link to choose a password; it works once, for 7 days."</p>
            <ErrorBanner error/>
            {move || invite.value().get().and_then(|r| r.ok()).map(|email| view! {
                <p class="banner ok" role="status">"Invitation sent to "{email}"."</p>
            })}
            <ActionForm action=invite attr:class="inline-form">
                <label for="invite_email">"E-mail"</label>
                <input id="invite_email" name="email" type="email" required/>
                <button type="submit">"Send invitation"</button>
            </ActionForm>
            <FieldMessage error field="email"/>
        </section>
        <ProbeAllowList/>
        <ReportBranding/>
        <Transition fallback=|| view! { <p class="muted">"Loading members…"</p> }>
            {move || Suspend::new(async move {
                match overview.await {
                    Err(e) => view! { <LoadError error=e/> }.into_any(),
                    Ok(o) => view! {
                        <section class="card">
                            <h2>"Members"</h2>
                            <div class="table-wrap"><table>
                                <thead><tr><th scope="col">"Name"</th><th scope="col">"E-mail"</th><th scope="col">"Role"</th></tr></thead>
                                <tbody>
                                    {o.members.into_iter().map(|m| view! {
                                        <tr><td>{m.display_name}</td><td>{m.email}</td><td>{m.role.as_str()}</td></tr>
                                    }).collect_view()}
                                </tbody>
                            </table></div>
                        </section>
                        <section class="card">
                            <h2>"Invitations"</h2>
                            {if o.invitations.is_empty() {
                                view! { <p class="muted">"No invitations yet. Invite a consultant above."</p> }.into_any()
                            } else {
                                view! {
                                    <div class="table-wrap"><table>
                                        <thead><tr><th scope="col">"E-mail"</th><th scope="col">"Sent"</th><th scope="col">"State"</th></tr></thead>
                                        <tbody>
                                            {o.invitations.into_iter().map(|i| view! {
                                                <tr>
                                                    <td>{i.email}</td>
                                                    <td>{format_time(i.created_at)}</td>
                                                    <td>{match i.accepted_at {
                                                        Some(at) => format!("accepted {}", format_time(at)),
                                                        None => format!("open until {}", format_time(i.expires_at)),
                                                    }}</td>
                                                </tr>
                                            }).collect_view()}
                                        </tbody>
                                    </table></div>
                                }.into_any()
                            }}
                        </section>
                    }.into_any(),
                }
            })}
        </Transition>
    }
}

/// The ranges probes may reach besides public addresses: for on-premise systems.
#[component]
fn ProbeAllowList() -> impl IntoView {
    let save = ServerAction::<SaveFirmProbeAllow>::new();
    let allow = Resource::new(move || save.version().get(), |_| firm_probe_allow());
    let error = action_error(save);
    // A refused range is named under the field; the banner is for everything else.
    let general = Signal::derive(move || error.get().filter(|e| e.code != "invalid"));
    let pending = save.pending();
    let saved = move || {
        save.value().get().and_then(|r| r.ok()).map(|ranges| {
            let text = if ranges.is_empty() {
                "Saved: probes reach public addresses only.".to_owned()
            } else {
                format!("Saved: probes may also reach {ranges}.")
            };
            view! { <p class="banner ok" role="status">{text}</p> }
        })
    };
    view! {
        <section class="card" id="probe-allow" aria-labelledby="probe-allow-heading">
            <h2 id="probe-allow-heading">"Probe allow-list"</h2>
            <p class="muted">
                "Probes refuse private, loopback and link-local addresses, so a mistyped target cannot "
                "turn them on your own network. For a client whose system runs on premises, list the ranges "
                "probes may reach here; it applies to every engagement of the firm. Leave it empty to "
                "allow public addresses only."
            </p>
            {saved}
            <ErrorBanner error=general/>
            <Transition fallback=|| view! { <p class="muted">"Loading the allow-list…"</p> }>
                {move || Suspend::new(async move {
                    match allow.await {
                        Err(e) => view! { <LoadError error=e/> }.into_any(),
                        Ok(ranges) => {
                            // Show the ranges as saved (normalised), not as they were typed.
                            let form = NodeRef::new();
                            crate::pages::findings::reset_after_render(vec![form], Vec::new());
                            view! {
                            <ActionForm action=save attr:class="inline-form" node_ref=form>
                                <label for="probe_allow">"Ranges (comma-separated CIDRs)"</label>
                                <input id="probe_allow" name="ranges" value=ranges autocomplete="off" spellcheck="false"
                                    placeholder="10.20.0.0/16, 192.168.1.10/32"
                                    aria-describedby="probe_allow-help probe_allow-error"/>
                                <button type="submit" disabled=move || pending.get()>
                                    {move || if pending.get() { "Saving…" } else { "Save allow-list" }}
                                </button>
                            </ActionForm>
                            }.into_any()
                        }
                    }
                })}
            </Transition>
            <FieldMessage error field="probe_allow"/>
            <p class="help" id="probe_allow-help">"For example "<code>"10.20.0.0/16"</code>" for a data-centre network, or "
                <code>"127.0.0.1/32"</code>" to probe a system on this machine. A single address counts as its own range."</p>
        </section>
    }
}

/// `#rrggbb` and nothing else, as the server checks it.
fn is_accent(value: &str) -> bool {
    value.len() == 7 && value.starts_with('#') && value[1..].bytes().all(|b| b.is_ascii_hexdigit())
}

/// The report's accent colour and logo: a plain multipart form to the server's branding route,
/// which redirects back here with `branding=saved` or `branding_error=…`.
#[component]
fn ReportBranding() -> impl IntoView {
    let query = use_query_map();
    let saved = move || query.with(|q| q.get("branding").is_some_and(|b| b == "saved"));
    let problem = move || {
        query.with(|q| {
            q.get("branding_error")
                .map(|m| m.trim().to_owned())
                .filter(|m| !m.is_empty())
        })
    };
    let branding = Resource::new(|| (), |_| report_branding());
    view! {
        <section class="card" id="branding" aria-labelledby="branding-heading">
            <h2 id="branding-heading">"Report branding"</h2>
            <p class="muted">
                "The accent colour and logo on the cover and headings of the reports your firm issues, "
                "beside the firm's name. Versions issued before a change keep the look they had."
            </p>
            {move || saved().then(|| view! {
                <p class="banner ok" role="status">"Report branding saved. Drafts and new versions use it."</p>
            })}
            {move || problem().map(|m| view! {
                <div class="banner error" role="alert"><p>{m}</p></div>
            })}
            <Transition fallback=|| view! { <p class="muted">"Loading the branding…"</p> }>
                {move || Suspend::new(async move {
                    match branding.await {
                        Err(e) => view! { <div class="banner error" role="alert"><p>{e.message}</p></div> }.into_any(),
                        Ok(b) => branding_form(b).into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

fn branding_form(b: BrandingSettings) -> impl IntoView {
    let accent = RwSignal::new(b.accent.clone());
    let typed = RwSignal::new(b.accent.clone());
    let on_text = move |ev: leptos::ev::Event| {
        let value = event_target_value(&ev).trim().to_lowercase();
        typed.set(value.clone());
        if is_accent(&value) {
            accent.set(value);
        }
    };
    let on_color = move |ev: leptos::ev::Event| {
        let value = event_target_value(&ev).to_lowercase();
        typed.set(value.clone());
        accent.set(value);
    };
    let text_invalid = move || (!is_accent(&typed.get())).then_some("true");
    let logo_line = match b.logo.clone() {
        Some(kind) => format!("Logo on file: {kind}. Uploading another replaces it."),
        None => "No logo yet: the cover shows the firm's name only.".to_owned(),
    };
    let has_logo = b.logo.is_some();
    view! {
        <form method="post" action="/firm/branding" enctype="multipart/form-data" class="branding-form">
            <label for="branding-accent">"Accent colour"</label>
            <div class="accent-inputs">
                <input id="branding-accent" type="color" name="accent" value=b.accent.clone()
                    prop:value=move || accent.get() on:input=on_color/>
                <input id="branding-accent-text" type="text" value=b.accent.clone()
                    prop:value=move || typed.get() on:input=on_text
                    aria-label="Accent colour as #rrggbb" aria-describedby="branding-accent-help"
                    aria-invalid=text_invalid
                    pattern="#[0-9a-fA-F]{6}" maxlength="7" size="8" autocomplete="off" spellcheck="false"/>
                <span class="accent-swatch" aria-hidden="true" style=move || format!("background: {}", accent.get())></span>
            </div>
            <p class="help" id="branding-accent-help">"Pick a colour, or type it like #1f4e79. Dark colours read best on white paper."</p>
            <label for="branding-logo">"Logo"</label>
            <input id="branding-logo" type="file" name="logo"
                accept="image/png,image/jpeg,image/svg+xml,.png,.jpg,.jpeg,.svg"
                aria-describedby="branding-logo-help"/>
            <p class="help" id="branding-logo-help">"PNG, JPEG or SVG, at most 512 KB. "{logo_line}</p>
            <Show when=move || has_logo>
                <label class="check" for="branding-remove-logo">
                    <input id="branding-remove-logo" type="checkbox" name="remove_logo" value="on"/>
                    <span>"Remove logo"</span>
                </label>
            </Show>
            <div class="actions">
                <button type="submit">"Save branding"</button>
            </div>
        </form>
    }
}

fn before_param() -> impl Fn() -> Option<i64> + Copy + Send + Sync + 'static {
    let query = use_query_map();
    move || query.with(|q| q.get("before").and_then(|b| b.parse().ok()))
}

#[server(prefix = "/fn", endpoint = "list_outbox")]
pub async fn list_outbox(before: Option<i64>) -> Result<Vec<OutboxMessage>, UiError> {
    let owner = current_owner().await?;
    let state = app_state()?;
    audit::mail::list_outbox(&state.db, owner.firm_id, before, PAGE)
        .await
        .map_err(fail)
}

#[component]
pub fn OutboxPage() -> impl IntoView {
    let before = before_param();
    let messages = Resource::new(before, list_outbox);
    view! {
        <Title text="Outbox"/>
        <h1>"Outbox"</h1>
        <p class="muted">"Every e-mail Plumbline sends for your firm. Without an SMTP server configured they are kept here and as files in the data folder, never dropped."</p>
        <Transition fallback=|| view! { <p class="muted">"Loading the outbox…"</p> }>
            {move || Suspend::new(async move {
                match messages.await {
                    Err(e) => view! { <LoadError error=e/> }.into_any(),
                    Ok(list) if list.is_empty() => view! {
                        <div class="empty card"><p>"No e-mail yet. Invitations you send from the Firm page appear here."</p></div>
                    }.into_any(),
                    Ok(list) => {
                        let next = (list.len() as i64 == PAGE).then(|| list.last().map(|m| m.outbox_id)).flatten();
                        view! {
                            {list.into_iter().map(|m| view! {
                                <article class="card mail">
                                    <header>
                                        <strong>{m.subject.clone()}</strong>
                                        <span class=format!("pill {}", m.status)>{m.status.clone()}</span>
                                    </header>
                                    <p class="muted small">"To "{m.to_address.clone()}" · "{format_time(m.created_at)}
                                        {m.transport.clone().map(|t| format!(" · via {t}"))}</p>
                                    {m.last_error.clone().map(|e| view! { <p class="field-error">{e}</p> })}
                                    <details><summary>"Message"</summary><pre>{m.body_text.clone()}</pre></details>
                                </article>
                            }).collect_view()}
                            {next.map(|n| view! { <nav class="pager"><a href=format!("/firm/outbox?before={n}") rel="next">"Older →"</a></nav> })}
                        }.into_any()
                    }
                }
            })}
        </Transition>
    }
}

#[server(prefix = "/fn", endpoint = "list_troubled_jobs")]
pub async fn list_troubled_jobs(before: Option<i64>) -> Result<Vec<Job>, UiError> {
    let owner = current_owner().await?;
    let state = app_state()?;
    audit::jobs::list_troubled(&state.db, owner.firm_id, before, PAGE)
        .await
        .map_err(fail)
}

#[server(prefix = "/fn", endpoint = "retry_job")]
pub async fn retry_job(job_id: i64) -> Result<(), UiError> {
    let owner = current_owner().await?;
    let state = app_state()?;
    audit::jobs::retry(&state.db, owner.firm_id, job_id)
        .await
        .map_err(fail)
}

#[component]
pub fn JobsPage() -> impl IntoView {
    let before = before_param();
    let retry = ServerAction::<RetryJob>::new();
    let jobs = Resource::new(
        move || (before(), retry.version().get()),
        |(b, _)| list_troubled_jobs(b),
    );
    let error = action_error(retry);
    view! {
        <Title text="Jobs"/>
        <h1>"Jobs that need attention"</h1>
        <p class="muted">"Background work (mail, later probes and reports) that failed. Failed jobs retry by themselves with a growing pause; dead ones used up their attempts and wait for you."</p>
        <ErrorBanner error/>
        <Transition fallback=|| view! { <p class="muted">"Loading jobs…"</p> }>
            {move || Suspend::new(async move {
                match jobs.await {
                    Err(e) => view! { <LoadError error=e/> }.into_any(),
                    Ok(list) if list.is_empty() => view! {
                        <div class="empty card"><p>"Nothing failed. Background work is running normally."</p></div>
                    }.into_any(),
                    Ok(list) => view! {
                        <div class="table-wrap"><table>
                            <thead><tr><th scope="col">"Job"</th><th scope="col">"Kind"</th><th scope="col">"State"</th><th scope="col">"Attempts"</th><th scope="col">"Last error"</th><th scope="col"><span class="visually-hidden">"Action"</span></th></tr></thead>
                            <tbody>
                                {list.into_iter().map(|j| view! {
                                    <tr>
                                        <td>"#"{j.job_id}</td>
                                        <td>{j.kind.clone()}</td>
                                        <td><span class=format!("pill {}", j.status.as_str())>{j.status.as_str()}</span></td>
                                        <td>{j.attempts}" / "{j.max_attempts}</td>
                                        <td class="small">{j.last_error.clone().unwrap_or_default()}</td>
                                        <td>
                                            <ActionForm action=retry>
                                                <input type="hidden" name="job_id" value=j.job_id/>
                                                <button type="submit" class="secondary">"Retry now"</button>
                                            </ActionForm>
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

#[server(prefix = "/fn", endpoint = "route_latencies")]
pub async fn route_latencies() -> Result<Vec<RouteSummary>, UiError> {
    current_owner().await?;
    let state = app_state()?;
    Ok(state.metrics.summaries())
}

#[component]
pub fn MetricsPage() -> impl IntoView {
    let summaries = Resource::new(|| (), |_| route_latencies());
    view! {
        <Title text="Metrics"/>
        <h1>"Latency per route"</h1>
        <p class="muted">"Since this Plumbline process started. The same figures are at "<a href="/metrics">"/metrics"</a>" for Prometheus."</p>
        <Transition fallback=|| view! { <p class="muted">"Loading figures…"</p> }>
            {move || Suspend::new(async move {
                match summaries.await {
                    Err(e) => view! { <LoadError error=e/> }.into_any(),
                    Ok(list) => view! {
                        <div class="table-wrap"><table>
                            <thead><tr><th scope="col">"Route"</th><th scope="col">"Requests"</th><th scope="col">"p50 ms"</th><th scope="col">"p95 ms"</th><th scope="col">"p99 ms"</th><th scope="col">"Max ms"</th><th scope="col">"5xx rate"</th><th scope="col">"4xx"</th></tr></thead>
                            <tbody>
                                {list.into_iter().map(|s| view! {
                                    <tr>
                                        <td><code>{s.route}</code></td>
                                        <td>{s.requests}</td>
                                        <td>{format!("{:.1}", s.p50_ms)}</td>
                                        <td>{format!("{:.1}", s.p95_ms)}</td>
                                        <td>{format!("{:.1}", s.p99_ms)}</td>
                                        <td>{format!("{:.1}", s.max_ms)}</td>
                                        <td>{format!("{:.2} %", s.error_rate * 100.0)}</td>
                                        <td>{s.client_errors}</td>
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
