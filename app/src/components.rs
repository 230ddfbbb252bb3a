//! Pieces shared by pages: the navigation bar, field messages, error banners, dates.
use audit::accounts::Member;
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_location;

use crate::error::UiError;
use crate::pages::auth::LogOut;

/// The top bar. It asks who is logged in again on every navigation, so logging in or out
/// shows at once.
#[component]
pub fn Nav() -> impl IntoView {
    let location = use_location();
    let member = Resource::new(
        move || location.pathname.get(),
        |_| crate::pages::auth::who_am_i(),
    );
    let log_out = ServerAction::<LogOut>::new();
    // Founders reach only their questionnaire: their bar offers nothing else.
    let founder_area = move || {
        location
            .pathname
            .with(|p| p.starts_with("/questionnaire") || p.starts_with("/invite/"))
    };
    view! {
        <header class="topbar">
            <a class="brand" href="/">"Plumbline"</a>
            <Show when=founder_area>
                <nav aria-label="Questionnaire"><span class="who">"Backend-architecture questionnaire"</span></nav>
            </Show>
            <Show when=move || !founder_area()>
            <Transition fallback=|| ()>
                {move || Suspend::new(async move {
                    match member.await {
                        Ok(Some(m)) => member_links(m, log_out).into_any(),
                        _ => view! {
                            <nav aria-label="Account">
                                <A href="/login">"Log in"</A>
                                <A href="/signup">"Sign up"</A>
                            </nav>
                        }.into_any(),
                    }
                })}
            </Transition>
            </Show>
        </header>
    }
}

fn member_links(m: Member, log_out: ServerAction<LogOut>) -> impl IntoView {
    let owner = m.is_owner();
    view! {
        <nav aria-label="Main">
            <A href="/engagements">"Engagements"</A>
            <Show when=move || owner>
                <A href="/firm">"Firm"</A>
                <A href="/firm/outbox">"Outbox"</A>
                <A href="/firm/jobs">"Jobs"</A>
                <A href="/firm/metrics">"Metrics"</A>
            </Show>
            <A href="/account/tokens">"API tokens"</A>
            <span class="who" title=m.email.clone()>{m.display_name.clone()}" · "{m.firm_name.clone()}</span>
            <ActionForm action=log_out attr:class="inline">
                <button type="submit" class="link">"Log out"</button>
            </ActionForm>
        </nav>
    }
}

/// The message for one field under its input, from the last failed submission.
#[component]
pub fn FieldMessage(error: Signal<Option<UiError>>, #[prop(into)] field: String) -> impl IntoView {
    move || {
        error.get().and_then(|e| e.field(&field)).map(|message| {
            view! { <p class="field-error" id=format!("{field}-error") role="alert">{message}</p> }
        })
    }
}

/// A banner with the error's message and the request id to quote, if any.
#[component]
pub fn ErrorBanner(error: Signal<Option<UiError>>) -> impl IntoView {
    view! {
        {move || error.get().map(|e| view! {
            <div class="banner error" role="alert">
                <p>{e.message.clone()}</p>
                {e.request_id.clone().map(|id| view! { <p class="muted small">"Request id: "<code>{id}</code></p> })}
            </div>
        })}
    }
}

/// The error of a server action's last run, if it failed.
pub fn action_error<T, S>(action: ServerAction<S>) -> Signal<Option<UiError>>
where
    S: leptos::server_fn::ServerFn<Output = T, Error = UiError> + Clone + Send + Sync + 'static,
    T: Clone + Send + Sync + 'static,
{
    Signal::derive(move || action.value().get().and_then(|r| r.err()))
}

/// A page-level error from a resource: "log in", "not found" or the message.
#[component]
pub fn LoadError(error: UiError) -> impl IntoView {
    if error.is_unauthenticated() {
        view! {
            <section class="card">
                <h1>"Log in to continue"</h1>
                <p><a href="/login">"Log in"</a>" to see this page."</p>
            </section>
        }
        .into_any()
    } else if error.is_not_found() {
        view! { <crate::pages::NotFound/> }.into_any()
    } else {
        view! {
            <section class="card">
                <h1>"This page could not be shown"</h1>
                <p>{error.message.clone()}</p>
                {error.request_id.clone().map(|id| view! { <p class="muted small">"Request id: "<code>{id}</code></p> })}
            </section>
        }
        .into_any()
    }
}

/// A unix-millisecond time as `YYYY-MM-DD HH:MM` UTC, the same on server and browser.
pub fn format_time(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02} UTC",
        rem / 3600,
        (rem % 3600) / 60
    )
}

/// Howard Hinnant's days-to-civil algorithm (proleptic Gregorian): (year, month, day).
pub fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    #[test]
    fn formats_unix_milliseconds_in_utc() {
        assert_eq!(super::format_time(0), "1970-01-01 00:00 UTC");
        // Checked against `date -u -d @1795000000` and `date -u -d @951782400`.
        assert_eq!(
            super::format_time(1_795_000_000_000),
            "2026-11-18 11:06 UTC"
        );
        assert_eq!(super::format_time(951_782_400_000), "2000-02-29 00:00 UTC");
    }
}
