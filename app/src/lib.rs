//! Plumbline's browser UI: the shell, the routes, the pages and their server functions.
//!
//! Server functions are thin: parse, authorise, call the `audit` domain. They live next to the
//! page that uses them, under `pages/`.
#![forbid(unsafe_code)]
#![recursion_limit = "512"]

pub mod components;
pub mod error;
pub mod pages;
#[cfg(feature = "ssr")]
pub mod state;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Stylesheet, Title};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::{path, SsrMode};

use crate::components::Nav;
use crate::pages::{
    account, auth, bank, decisions, engagements, findings, firm, interventions, probes,
    questionnaire, report, review, NotFound,
};

/// The HTML document around the app, rendered on the server.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    #[cfg(feature = "ssr")]
    state::set_page_security_policy();
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <meta name="description" content="Plumbline: backend-architecture audits"/>
                <link rel="icon" href="/favicon.svg" type="image/svg+xml"/>
                <HydrationScripts options/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    // Browser tests wait for this mark before they type: it appears once hydration is done.
    Effect::new(move |_| {
        if let Some(body) = document().body() {
            let _ = body.set_attribute("data-hydrated", "true");
        }
    });

    view! {
        <Stylesheet id="plumbline" href="/pkg/plumbline.css"/>
        <Title formatter=|title: String| if title.is_empty() { "Plumbline".to_owned() } else { format!("{title} · Plumbline") }/>
        <Router>
            <Nav/>
            <main id="main">
                // Pages whose status depends on their data (404 for another firm's engagement, 403
                // for a consultant on the owner's pages) render fully before the status is sent.
                <Routes fallback=|| view! { <NotFound/> }>
                    <Route path=path!("/") view=pages::Home/>
                    <Route path=path!("/signup") view=auth::SignUpPage/>
                    <Route path=path!("/login") view=auth::LogInPage/>
                    <Route path=path!("/join/:token") view=auth::JoinPage ssr=SsrMode::Async/>
                    <Route path=path!("/engagements") view=engagements::EngagementListPage/>
                    <Route path=path!("/engagements/new") view=engagements::NewEngagementPage/>
                    <Route path=path!("/engagements/:id") view=engagements::EngagementPage ssr=SsrMode::Async/>
                    <Route path=path!("/engagements/:id/edit") view=engagements::EditEngagementPage ssr=SsrMode::Async/>
                    <Route path=path!("/engagements/:id/questionnaire") view=review::QuestionnaireReviewPage ssr=SsrMode::Async/>
                    <Route path=path!("/engagements/:id/scores") view=review::ScoresPage ssr=SsrMode::Async/>
                    <Route path=path!("/engagements/:id/milestones") view=review::MilestonesPage ssr=SsrMode::Async/>
                    <Route path=path!("/engagements/:id/findings") view=findings::FindingsPage ssr=SsrMode::Async/>
                    <Route path=path!("/engagements/:id/interventions") view=interventions::InterventionsPage ssr=SsrMode::Async/>
                    <Route path=path!("/engagements/:id/decisions") view=decisions::DecisionsPage ssr=SsrMode::Async/>
                    <Route path=path!("/engagements/:id/probes") view=probes::ProbesPage ssr=SsrMode::Async/>
                    <Route path=path!("/engagements/:id/report") view=report::ReportPage ssr=SsrMode::Async/>
                    <Route path=path!("/firm") view=firm::FirmPage ssr=SsrMode::Async/>
                    <Route path=path!("/firm/outbox") view=firm::OutboxPage ssr=SsrMode::Async/>
                    <Route path=path!("/firm/jobs") view=firm::JobsPage ssr=SsrMode::Async/>
                    <Route path=path!("/firm/metrics") view=firm::MetricsPage ssr=SsrMode::Async/>
                    <Route path=path!("/firm/bank") view=bank::BankTemplatesPage ssr=SsrMode::Async/>
                    <Route path=path!("/firm/bank/:id") view=bank::BankTemplatePage ssr=SsrMode::Async/>
                    <Route path=path!("/account/tokens") view=account::TokensPage/>
                    <Route path=path!("/invite/:token") view=questionnaire::FounderInvitationPage ssr=SsrMode::Async/>
                    <Route path=path!("/questionnaire") view=questionnaire::FounderQuestionnairePage ssr=SsrMode::Async/>
                    <Route path=path!("/questionnaire/signed-out") view=questionnaire::SignedOutPage/>
                    <Route path=path!("/questionnaire/report") view=report::FounderReportPage ssr=SsrMode::Async/>
                </Routes>
            </main>
        </Router>
    }
}
