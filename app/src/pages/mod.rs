//! One module per feature; each holds its pages and the server functions they call.
pub mod account;
pub mod activity;
pub mod auth;
pub mod bank;
pub mod decisions;
pub mod engagements;
pub mod findings;
pub mod firm;
pub mod interventions;
pub mod invitations;
pub mod probes;
pub mod questionnaire;
pub mod report;
pub mod review;

use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn Home() -> impl IntoView {
    view! {
        <Title text=""/>
        <section class="hero">
            <h1>"Backend-architecture audits, written down"</h1>
            <p>
                "Open an engagement, invite the founders to a five-area questionnaire, check their answers "
                "against the real system, and hand over a short list of interventions ordered by impact per "
                "week of effort."
            </p>
            <p class="actions">
                <a class="button" href="/signup">"Create an account"</a>
                <a href="/login">"Log in"</a>
                <a href="/engagements">"Your engagements"</a>
            </p>
        </section>
    }
}

#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    crate::state::set_status(http::StatusCode::NOT_FOUND);
    view! {
        <Title text="Not found"/>
        <section class="card">
            <h1>"Page not found"</h1>
            <p>"There is nothing at this address, or it belongs to another firm."</p>
            <p><a href="/engagements">"Back to engagements"</a></p>
        </section>
    }
}
