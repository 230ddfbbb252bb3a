//! The interventions of an engagement, their order and the roadmap.
//!
//! The order is the domain's: dependencies first, then priority (impact × confidence ÷ effort),
//! unless the consultant pinned one by hand. The roadmap's team size and start date live in the
//! URL (`?capacity=2&start=2027-01-04`), so it works without JavaScript and can be shared. Both
//! charts are HTML and inline SVG made here, each with a text alternative.
use std::sync::Arc;

use audit::findings::{Confidence, FindingStatus, MAX_MARKDOWN_CHARS, MAX_TITLE_CHARS};
use audit::interventions::{
    Intervention, InterventionInput, InterventionPlan, RoadmapEntry, RoadmapView, MAX_CAPACITY,
};
use audit::FieldError;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Form;
use leptos_router::hooks::use_query_map;
use serde::{Deserialize, Serialize};

use crate::components::{action_error, civil_from_days, ErrorBanner, FieldMessage, LoadError};
use crate::error::UiError;
use crate::pages::findings::{
    engagement_head, engagement_id_param, merged_error, notice_banner, on_success,
    reset_after_render, ProblemBanner,
};

#[cfg(feature = "ssr")]
use crate::state::{app_state, current_member, fail};

/// Engineers the roadmap plans for when the URL does not say.
pub const DEFAULT_CAPACITY: u32 = 2;

/// A finding as the intervention form offers it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FindingOption {
    pub finding_id: i64,
    /// F-3
    pub reference: String,
    pub title: String,
    pub status: FindingStatus,
}

/// The interventions page: the plan, the roadmap for the asked team and the findings to link.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InterventionsData {
    pub engagement_id: i64,
    pub client_name: String,
    pub system_name: String,
    pub plan: InterventionPlan,
    /// None when the roadmap question did not parse (see `roadmap_errors`).
    pub roadmap: Option<RoadmapView>,
    pub roadmap_errors: Vec<FieldError>,
    /// The roadmap form as shown: what the URL said, or the defaults.
    pub capacity: String,
    pub start: String,
    pub findings: Vec<FindingOption>,
}

/// What "Suggest interventions from findings" did (the domain's report, which is server-only).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SuggestedInterventions {
    pub created: Vec<String>,
    pub linked: Vec<String>,
}

#[server(prefix = "/fn", endpoint = "interventions_overview")]
pub async fn interventions_overview(
    engagement_id: i64,
    capacity: Option<String>,
    start: Option<String>,
) -> Result<InterventionsData, UiError> {
    use audit::interventions::RoadmapInput;
    let member = current_member().await?;
    let state = app_state()?;
    let firm_id = member.firm_id;
    let engagement = audit::engagements::get(&state.db, firm_id, engagement_id)
        .await
        .map_err(fail)?;
    let capacity = capacity
        .filter(|c| !c.trim().is_empty())
        .unwrap_or_else(|| DEFAULT_CAPACITY.to_string());
    let start = start.filter(|s| !s.trim().is_empty()).unwrap_or_else(|| {
        let today = audit::clock::now_ms().div_euclid(86_400_000);
        format_date(next_monday_or_today(today))
    });
    let asked = RoadmapInput {
        capacity: capacity.clone(),
        start: start.clone(),
    };
    let (plan, roadmap, roadmap_errors) = match asked.parse() {
        Ok((engineers, from)) => {
            let (plan, roadmap) =
                audit::interventions::roadmap(&state.db, firm_id, engagement_id, engineers, from)
                    .await
                    .map_err(fail)?;
            (plan, Some(roadmap), Vec::new())
        }
        Err(errors) => {
            let plan = audit::interventions::intervention_plan(&state.db, firm_id, engagement_id)
                .await
                .map_err(fail)?;
            (plan, None, errors)
        }
    };
    let findings = audit::findings::list_findings(&state.db, firm_id, engagement_id)
        .await
        .map_err(fail)?
        .into_iter()
        .map(|f| FindingOption {
            finding_id: f.finding_id,
            reference: f.reference(),
            title: f.title,
            status: f.status,
        })
        .collect();
    Ok(InterventionsData {
        engagement_id,
        client_name: engagement.client_name,
        system_name: engagement.system_name,
        plan,
        roadmap,
        roadmap_errors,
        capacity,
        start,
        findings,
    })
}

#[server(prefix = "/fn", endpoint = "suggest_engagement_interventions")]
pub async fn suggest_engagement_interventions(
    engagement_id: i64,
) -> Result<SuggestedInterventions, UiError> {
    let member = current_member().await?;
    let state = app_state()?;
    let report = audit::interventions::suggest_interventions(&state.db, &member, engagement_id)
        .await
        .map_err(fail)?;
    Ok(SuggestedInterventions {
        created: report.created,
        linked: report.linked,
    })
}

#[server(prefix = "/fn", endpoint = "create_engagement_intervention")]
pub async fn create_engagement_intervention(
    engagement_id: i64,
    form: InterventionInput,
) -> Result<Intervention, UiError> {
    let member = current_member().await?;
    let state = app_state()?;
    audit::interventions::create_intervention(&state.db, &member, engagement_id, &form)
        .await
        .map_err(fail)
}

#[server(prefix = "/fn", endpoint = "update_engagement_intervention")]
pub async fn update_engagement_intervention(
    engagement_id: i64,
    intervention_id: i64,
    form: InterventionInput,
) -> Result<Intervention, UiError> {
    let member = current_member().await?;
    let state = app_state()?;
    audit::interventions::update_intervention(
        &state.db,
        &member,
        engagement_id,
        intervention_id,
        &form,
    )
    .await
    .map_err(fail)
}

#[server(prefix = "/fn", endpoint = "delete_engagement_intervention")]
pub async fn delete_engagement_intervention(
    engagement_id: i64,
    intervention_id: i64,
) -> Result<(), UiError> {
    let member = current_member().await?;
    let state = app_state()?;
    audit::interventions::delete_intervention(&state.db, &member, engagement_id, intervention_id)
        .await
        .map_err(fail)
}

/// Pins the shown order: every intervention id, in the wanted order.
#[server(prefix = "/fn", endpoint = "pin_intervention_order")]
pub async fn pin_intervention_order(engagement_id: i64, order: Vec<i64>) -> Result<(), UiError> {
    let member = current_member().await?;
    let state = app_state()?;
    audit::interventions::pin_order(&state.db, &member, engagement_id, &order)
        .await
        .map_err(fail)?;
    Ok(())
}

#[server(prefix = "/fn", endpoint = "unpin_intervention_order")]
pub async fn unpin_intervention_order(engagement_id: i64) -> Result<(), UiError> {
    let member = current_member().await?;
    let state = app_state()?;
    audit::interventions::clear_pinned_order(&state.db, &member, engagement_id)
        .await
        .map_err(fail)?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Dates and numbers, the same on server and browser

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// `YYYY-MM-DD` as days since the epoch; None when it is not such a date.
fn parse_date(date: &str) -> Option<i64> {
    let mut parts = date.trim().splitn(3, '-');
    let y: i64 = parts.next()?.parse().ok()?;
    let m: i64 = parts.next()?.parse().ok()?;
    let d: i64 = parts.next()?.parse().ok()?;
    ((1..=12).contains(&m) && (1..=31).contains(&d)).then(|| days_from_civil(y, m, d))
}

#[cfg_attr(not(feature = "ssr"), allow(dead_code))]
fn format_date(days: i64) -> String {
    let (y, m, d) = civil_from_days(days);
    format!("{y:04}-{m:02}-{d:02}")
}

/// The roadmap's default start: today if it is a Monday, else the coming Monday.
#[cfg_attr(not(feature = "ssr"), allow(dead_code))]
fn next_monday_or_today(today: i64) -> i64 {
    // 1970-01-01 was a Thursday, so `(days + 3) % 7` is 0 on Mondays.
    today + (7 - (today + 3).rem_euclid(7)) % 7
}

/// "4 Jan" for a tick under the timeline.
fn short_date(days: i64) -> String {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let (_, m, d) = civil_from_days(days);
    let month = usize::try_from(m - 1)
        .ok()
        .and_then(|i| MONTHS.get(i))
        .copied()
        .unwrap_or("");
    format!("{d} {month}")
}

/// Weeks with at most two decimals and no trailing zeros: 0.5, 1, 2.25.
fn weeks_text(weeks: f64) -> String {
    let rounded = (weeks * 100.0).round() / 100.0 + 0.0;
    format!("{rounded}")
}

fn ordinal(n: usize) -> String {
    let suffix = match (n % 10, n % 100) {
        (_, 11..=13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{n}{suffix}")
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

fn suggest_summary(r: &SuggestedInterventions) -> String {
    let mut text = format!(
        "{} new, {} linked to more findings",
        r.created.len(),
        r.linked.len()
    );
    let refs: Vec<String> = r.created.iter().chain(&r.linked).cloned().collect();
    if refs.is_empty() {
        text.push_str(". No open finding has a suggested intervention that is not here already.");
    } else {
        text.push_str(&format!(": {}.", refs.join(", ")));
    }
    text
}

/// The order with the item at `from` swapped with its neighbour at `to`.
fn swapped(order: &[i64], from: usize, to: usize) -> Option<Vec<i64>> {
    (from < order.len() && to < order.len()).then(|| {
        let mut order = order.to_vec();
        order.swap(from, to);
        order
    })
}

// ---------------------------------------------------------------------------------------------
// The page

/// What the page's parts need to reach.
#[derive(Clone, Copy)]
struct Ctx {
    engagement_id: i64,
    data: Resource<Result<InterventionsData, UiError>>,
    notice: RwSignal<Option<String>>,
    pin: ServerAction<PinInterventionOrder>,
}

/// Lookups shared by every card.
struct Lookups {
    /// id → (I-n, title) of every intervention, in shown order.
    interventions: Vec<(i64, String, String)>,
    findings: Vec<FindingOption>,
}

impl Lookups {
    fn intervention_ref(&self, id: i64) -> Option<String> {
        self.interventions
            .iter()
            .find(|(i, _, _)| *i == id)
            .map(|(_, r, _)| r.clone())
    }
}

#[component]
pub fn InterventionsPage() -> impl IntoView {
    let id = engagement_id_param();
    let query = use_query_map();
    let asked = move || query.with(|q| (q.get("capacity"), q.get("start")));
    let data = Resource::new(
        move || (id(), asked()),
        |(id, (capacity, start))| interventions_overview(id, capacity, start),
    );
    let notice = RwSignal::new(None::<String>);
    let suggest = ServerAction::<SuggestEngagementInterventions>::new();
    let pin = ServerAction::<PinInterventionOrder>::new();
    let unpin = ServerAction::<UnpinInterventionOrder>::new();
    on_success(suggest, move |_| {
        notice.set(None);
        data.refetch();
    });
    on_success(pin, move |_| {
        notice.set(Some("Order pinned. The roadmap follows it.".to_owned()));
        data.refetch();
    });
    on_success(unpin, move |_| {
        notice.set(Some("Back to the computed order.".to_owned()));
        data.refetch();
    });
    view! {
        <Transition fallback=|| view! { <p class="muted">"Loading the interventions…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Err(e) => view! { <LoadError error=e/> }.into_any(),
                    Ok(d) => {
                        let ctx = Ctx { engagement_id: d.engagement_id, data, notice, pin };
                        interventions_view(d, ctx, suggest, unpin).into_any()
                    }
                }
            })}
        </Transition>
    }
}

fn interventions_view(
    d: InterventionsData,
    ctx: Ctx,
    suggest: ServerAction<SuggestEngagementInterventions>,
    unpin: ServerAction<UnpinInterventionOrder>,
) -> AnyView {
    let id = d.engagement_id;
    let InterventionsData {
        client_name,
        system_name,
        plan,
        roadmap,
        roadmap_errors,
        capacity,
        start,
        findings,
        ..
    } = d;
    let lookups = Arc::new(Lookups {
        interventions: plan
            .interventions
            .iter()
            .map(|i| (i.intervention_id, i.reference(), i.title.clone()))
            .collect(),
        findings,
    });
    let pending = suggest.pending();
    let suggest_error = action_error(suggest);
    let report = move || {
        suggest.value().get().and_then(|r| r.ok()).map(|r| {
            view! {
                <p class="banner ok" data-testid="suggest-report">
                    "Suggested from the open findings: "{suggest_summary(&r)}
                </p>
            }
        })
    };
    let no_findings = lookups.findings.is_empty();
    let title = format!("Interventions · {client_name}");
    let order = order_section(&plan, ctx, unpin, lookups.clone());
    let new_form = view! { <NewIntervention ctx lookups=lookups.clone()/> }.into_any();
    let roadmap = roadmap_section(roadmap, roadmap_errors, capacity, start);
    let chart = impact_effort_section(&plan.interventions);
    view! {
        <Title text=title/>
        {engagement_head(id, client_name, system_name, "interventions")}
        <section class="card interventions-toolbar">
            <h2>"Interventions"</h2>
            <p class="muted">
                "The structural changes that fix the findings, in the order to make them: what others "
                "depend on first, then the highest priority (impact × confidence ÷ effort)."
            </p>
            {no_findings.then(|| view! {
                <p class="muted small">"There are no findings to suggest from yet: "
                    <a href=format!("/engagements/{id}/findings")>"suggest or write findings"</a>" first."</p>
            })}
            <div class="toolbar-actions">
                <ActionForm action=suggest attr:class="inline">
                    <input type="hidden" name="engagement_id" value=id/>
                    <button type="submit" data-testid="suggest-interventions" disabled=move || pending.get()>
                        {move || if pending.get() { "Suggesting…" } else { "Suggest interventions from findings" }}
                    </button>
                </ActionForm>
                <a class="button secondary" href="#new-intervention">"New intervention"</a>
                <a href="#roadmap">"Roadmap"</a>
            </div>
            <div role="status" aria-live="polite">{report}</div>
            <ErrorBanner error=suggest_error/>
        </section>
        {notice_banner(ctx.notice)}
        {order}
        {new_form}
        {roadmap}
        {chart}
    }
    .into_any()
}

fn order_section(
    plan: &InterventionPlan,
    ctx: Ctx,
    unpin: ServerAction<UnpinInterventionOrder>,
    lookups: Arc<Lookups>,
) -> AnyView {
    let id = ctx.engagement_id;
    if plan.interventions.is_empty() {
        return view! {
            <div class="empty card" data-testid="interventions-empty">
                <p>"No interventions yet. Press “Suggest interventions from findings” to start from the "
                    "question bank's suggestions for the open findings, or add one by hand below."</p>
            </div>
        }
        .into_any();
    }
    let shown: Vec<i64> = plan
        .interventions
        .iter()
        .map(|i| i.intervention_id)
        .collect();
    let cycle = plan.cycle.as_ref().map(|c| {
        let mut names: Vec<String> = c
            .ids
            .iter()
            .map(|i| lookups.intervention_ref(*i).unwrap_or_else(|| format!("#{i}")))
            .collect();
        if let Some(first) = names.first().cloned() {
            names.push(first);
        }
        view! {
            <div class="banner error" role="alert" data-testid="cycle-warning">
                <p><strong>"These interventions depend on each other in a circle: "{names.join(" → ")}"."</strong></p>
                <p>"No order can satisfy a circle, so they are shown by number. Edit one of them and "
                    "untick the dependency that closes it."</p>
            </div>
        }
    });
    let pin_error = action_error(ctx.pin);
    let unpin_error = action_error(unpin);
    let pin_pending = ctx.pin.pending();
    let unpin_pending = unpin.pending();
    let order_inputs = order_inputs(&shown);
    let state_line = if plan.pinned {
        view! {
            <p data-testid="order-state">"You pinned this order by hand. "
                {if plan.departures.is_empty() { "It is the same as the computed order." } else { "Where it departs from the computed order, the card says so." }}</p>
            <ActionForm action=unpin attr:class="inline">
                <input type="hidden" name="engagement_id" value=id/>
                <button type="submit" class="secondary" data-testid="unpin-order" disabled=move || unpin_pending.get()>
                    "Back to the computed order"
                </button>
            </ActionForm>
        }
        .into_any()
    } else {
        view! {
            <p data-testid="order-state">"This is the computed order. Move an intervention up or down, or pin the order as it is, to fix it by hand."</p>
            <ActionForm action=ctx.pin attr:class="inline">
                <input type="hidden" name="engagement_id" value=id/>
                {order_inputs}
                <button type="submit" class="secondary" data-testid="pin-order" disabled=move || pin_pending.get()>
                    "Pin this order"
                </button>
            </ActionForm>
        }
        .into_any()
    };
    let departures = plan.departures.clone();
    let count = plan.interventions.len();
    let cards = plan
        .interventions
        .iter()
        .cloned()
        .enumerate()
        .map(|(index, item)| {
            let departure = departures
                .iter()
                .find(|d| d.id == item.intervention_id)
                .map(|d| d.computed_position);
            let up = index
                .checked_sub(1)
                .and_then(|above| swapped(&shown, index, above));
            let down = swapped(&shown, index, index + 1);
            view! {
                <InterventionCard item position=index + 1 of=count departure up down ctx lookups=lookups.clone()/>
            }
        })
        .collect_view();
    view! {
        <section class="order-section" aria-labelledby="order-heading">
            <h2 id="order-heading">"Order"</h2>
            {cycle}
            <div class="order-state">{state_line}</div>
            <ProblemBanner error=pin_error/>
            <ProblemBanner error=unpin_error/>
            <ol class="intervention-list" data-testid="interventions">{cards}</ol>
        </section>
    }
    .into_any()
}

fn order_inputs(order: &[i64]) -> AnyView {
    order
        .iter()
        .enumerate()
        .map(|(k, id)| view! { <input type="hidden" name=format!("order[{k}]") value=*id/> })
        .collect_view()
        .into_any()
}

/// A "move" button: a form that pins `order`, or a disabled button at the ends of the list.
fn move_button(
    ctx: Ctx,
    order: Option<Vec<i64>>,
    label: &'static str,
    accessible: String,
    testid: &'static str,
) -> AnyView {
    let pending = ctx.pin.pending();
    match order {
        Some(order) => view! {
            <ActionForm action=ctx.pin attr:class="inline">
                <input type="hidden" name="engagement_id" value=ctx.engagement_id/>
                {order_inputs(&order)}
                <button type="submit" class="secondary compact" aria-label=accessible data-testid=testid
                    disabled=move || pending.get()>{label}</button>
            </ActionForm>
        }
        .into_any(),
        None => view! {
            <button type="button" class="secondary compact" aria-label=accessible data-testid=testid disabled=true>{label}</button>
        }
        .into_any(),
    }
}

#[allow(clippy::too_many_arguments)]
#[component]
fn InterventionCard(
    item: Intervention,
    position: usize,
    of: usize,
    /// Its place in the computed order, when the shown order puts it elsewhere.
    departure: Option<usize>,
    /// The order with this one moved up / down, if it can move.
    up: Option<Vec<i64>>,
    down: Option<Vec<i64>>,
    ctx: Ctx,
    lookups: Arc<Lookups>,
) -> impl IntoView {
    let Ctx {
        engagement_id,
        data,
        notice,
        ..
    } = ctx;
    let intervention_id = item.intervention_id;
    let reference = item.reference();
    let update = ServerAction::<UpdateEngagementIntervention>::new();
    let delete = ServerAction::<DeleteEngagementIntervention>::new();
    {
        let reference = reference.clone();
        on_success(update, move |i: Intervention| {
            notice.set(Some(format!("{} saved.", i.reference())));
            data.refetch();
        });
        on_success(delete, move |_| {
            notice.set(Some(format!("{reference} deleted.")));
            data.refetch();
        });
    }
    let depends = item
        .depends_on
        .iter()
        .filter_map(|d| lookups.intervention_ref(*d))
        .collect::<Vec<_>>();
    let fixes: Vec<FindingOption> = lookups
        .findings
        .iter()
        .filter(|f| item.finding_ids.contains(&f.finding_id))
        .cloned()
        .collect();
    let links = (!depends.is_empty() || !fixes.is_empty()).then(|| {
        view! {
            <p class="small links-line">
                {(!depends.is_empty()).then(|| view! {
                    <span data-testid="depends-on">"Depends on "{depends.join(", ")}</span>
                })}
                {(!fixes.is_empty()).then(|| view! {
                    <span data-testid="fixes">"Fixes "
                        {fixes.iter().enumerate().map(|(k, f)| view! {
                            {(k > 0).then_some(", ")}
                            <a href=format!("/engagements/{engagement_id}/findings#finding-{}", f.finding_id)
                                title=f.title.clone()>{f.reference.clone()}</a>
                        }).collect_view()}
                    </span>
                })}
            </p>
        }
    });
    let departure = departure.map(|computed| {
        view! {
            <span class="departure" data-testid="departure"
                title=format!("The computed order puts {reference} {}", ordinal(computed))>
                "computed: "{ordinal(computed)}
            </span>
        }
    });
    let rationale_ref = NodeRef::new();
    let rationale = (!item.rationale_html.is_empty()).then(|| {
        // Rendered from Markdown and sanitized on the server (audit::markdown::to_safe_html).
        view! {
            <details class="rationale" node_ref=rationale_ref>
                <summary>"Rationale"</summary>
                <div inner_html=item.rationale_html.clone()></div>
            </details>
        }
    });
    let effect = if item.expected_effect.is_empty() {
        "—".to_owned()
    } else {
        item.expected_effect.clone()
    };
    let moves = view! {
        <div class="order-controls" role="group" aria-label=format!("Move {reference}")>
            {move_button(ctx, up, "↑ Up", format!("Move {reference} up"), "move-up")}
            {move_button(ctx, down, "↓ Down", format!("Move {reference} down"), "move-down")}
        </div>
    }
    .into_any();

    let initial = InterventionInput {
        title: item.title.clone(),
        rationale: item.rationale.clone(),
        impact: item.impact.to_string(),
        expected_effect: item.expected_effect.clone(),
        effort_weeks: weeks_text(item.effort_weeks),
        confidence: item.confidence.as_str().to_owned(),
        depends_on: item.depends_on.clone(),
        finding_ids: item.finding_ids.clone(),
        version: item.version,
    };
    let draft = InterventionDraft::new(&initial);
    let server_error = action_error(update);
    let error = draft.error(server_error);
    let delete_error = action_error(delete);
    let pending = update.pending();
    let conflict = move || server_error.get().is_some_and(|e| e.code == "conflict");
    let version = item.version;
    let fields = intervention_fields(
        format!("i{intervention_id}"),
        initial,
        draft,
        error,
        Some(intervention_id),
        &lookups,
    );
    let (edit_form, delete_form) = (NodeRef::new(), NodeRef::new());
    let (edit_details, delete_details) = (NodeRef::new(), NodeRef::new());
    reset_after_render(
        vec![edit_form, delete_form],
        vec![edit_details, delete_details, rationale_ref],
    );
    let card_id = format!("intervention-{intervention_id}");
    let edit_summary = format!("Edit {reference}");
    let delete_ref = reference.clone();
    view! {
        <li class="card intervention" id=card_id data-testid="intervention"
            data-reference=reference.clone() data-position=position.to_string()>
            <header class="intervention-head">
                <span class="position" title=format!("{} of {of}", ordinal(position))>
                    <span class="visually-hidden">"Position "</span>{position}
                </span>
                <h3><span class="ref">{reference.clone()}</span>" "{item.title.clone()}</h3>
                {departure}
            </header>
            <dl class="metrics">
                <div><dt>"Impact"</dt><dd>{item.impact}" / 5"</dd></div>
                <div><dt>"Expected effect"</dt><dd>{effect}</dd></div>
                <div><dt>"Effort"</dt><dd>{weeks_text(item.effort_weeks)}" wk"</dd></div>
                <div><dt>"Confidence"</dt><dd>{item.confidence.label()}</dd></div>
                <div><dt>"Priority"</dt><dd data-testid="priority">{format!("{:.2}", item.priority)}</dd></div>
            </dl>
            {links}
            {rationale}
            {moves}
            <details class="intervention-edit" node_ref=edit_details>
                <summary>{edit_summary}</summary>
                <ActionForm action=update node_ref=edit_form>
                    <input type="hidden" name="engagement_id" value=engagement_id/>
                    <input type="hidden" name="intervention_id" value=intervention_id/>
                    <input type="hidden" name="form[version]" value=version/>
                    {fields}
                    <ErrorBanner error=server_error/>
                    {move || conflict().then(|| view! {
                        <button type="button" class="secondary" on:click=move |_| { notice.set(None); data.refetch(); }>
                            "Reload the intervention"
                        </button>
                    })}
                    <div class="actions">
                        <button type="submit" disabled=move || pending.get()
                            on:click=move |ev| if draft.blocks_submit() { ev.prevent_default() }>
                            {move || if pending.get() { "Saving…" } else { "Save changes" }}
                        </button>
                    </div>
                </ActionForm>
            </details>
            <details class="danger-zone" node_ref=delete_details>
                <summary>"Delete "{delete_ref.clone()}"…"</summary>
                <p>{delete_ref.clone()}" goes for good, with its links to findings; interventions that "
                    "depended on it no longer wait for it."</p>
                <ErrorBanner error=delete_error/>
                <ActionForm action=delete node_ref=delete_form>
                    <input type="hidden" name="engagement_id" value=engagement_id/>
                    <input type="hidden" name="intervention_id" value=intervention_id/>
                    <button type="submit" class="danger">"Yes, delete "{delete_ref.clone()}</button>
                </ActionForm>
            </details>
        </li>
    }
    .into_any()
}

// ---------------------------------------------------------------------------------------------
// The intervention form

/// The form's checked fields as signals, so the browser runs the server's parser as one types.
#[derive(Clone, Copy)]
struct InterventionDraft {
    title: RwSignal<String>,
    rationale: RwSignal<String>,
    impact: RwSignal<String>,
    expected_effect: RwSignal<String>,
    effort_weeks: RwSignal<String>,
    confidence: RwSignal<String>,
    checked: RwSignal<bool>,
}

impl InterventionDraft {
    fn new(initial: &InterventionInput) -> Self {
        Self {
            title: RwSignal::new(initial.title.clone()),
            rationale: RwSignal::new(initial.rationale.clone()),
            impact: RwSignal::new(initial.impact.clone()),
            expected_effect: RwSignal::new(initial.expected_effect.clone()),
            effort_weeks: RwSignal::new(initial.effort_weeks.clone()),
            confidence: RwSignal::new(initial.confidence.clone()),
            checked: RwSignal::new(false),
        }
    }

    fn problems(&self) -> Option<Vec<FieldError>> {
        InterventionInput {
            title: self.title.get(),
            rationale: self.rationale.get(),
            impact: self.impact.get(),
            expected_effect: self.expected_effect.get(),
            effort_weeks: self.effort_weeks.get(),
            confidence: self.confidence.get(),
            depends_on: Vec::new(),
            finding_ids: Vec::new(),
            version: 0,
        }
        .parse()
        .err()
    }

    fn blocks_submit(&self) -> bool {
        self.checked.set(true);
        untrack(|| self.problems().is_some())
    }

    fn error(self, server: Signal<Option<UiError>>) -> Signal<Option<UiError>> {
        merged_error(self.checked, move || self.problems(), server)
    }
}

fn impact_label(n: u32) -> String {
    match n {
        1 => "1 · small".to_owned(),
        5 => "5 · large".to_owned(),
        n => n.to_string(),
    }
}

/// The intervention form's fields. `itself` is the intervention being edited (it cannot depend
/// on itself); `prefix` keeps ids unique on the page.
fn intervention_fields(
    prefix: String,
    initial: InterventionInput,
    draft: InterventionDraft,
    error: Signal<Option<UiError>>,
    itself: Option<i64>,
    lookups: &Lookups,
) -> AnyView {
    let [title_id, rationale_id, impact_id, effect_id, effort_id, confidence_id] = [
        "title",
        "rationale",
        "impact",
        "expected_effect",
        "effort_weeks",
        "confidence",
    ]
    .map(|f| format!("{prefix}-{f}"));
    let effort_help = format!("{effort_id}-help");
    let effect_help = format!("{effect_id}-help");
    let leave = move || draft.checked.set(true);
    let impact = initial.impact.clone();
    let confidence = initial.confidence.clone();
    let others: Vec<(usize, i64, String)> = lookups
        .interventions
        .iter()
        .filter(|(id, _, _)| Some(*id) != itself)
        .enumerate()
        .map(|(k, (id, r, t))| (k, *id, format!("{r} {t}")))
        .collect();
    let depends = if others.is_empty() {
        view! { <p class="muted small">"No other interventions yet."</p> }.into_any()
    } else {
        others
            .into_iter()
            .map(|(k, id, label)| {
                let checked = initial.depends_on.contains(&id);
                view! {
                    <label class="check">
                        <input type="checkbox" name=format!("form[depends_on][{k}]") value=id checked=checked/>
                        {label}
                    </label>
                }
            })
            .collect_view()
            .into_any()
    };
    let findings = if lookups.findings.is_empty() {
        view! { <p class="muted small">"No findings yet."</p> }.into_any()
    } else {
        lookups
            .findings
            .iter()
            .enumerate()
            .map(|(k, f)| {
                let checked = initial.finding_ids.contains(&f.finding_id);
                let status = (f.status != FindingStatus::Open)
                    .then(|| format!(" ({})", f.status.label().to_lowercase()));
                view! {
                    <label class="check">
                        <input type="checkbox" name=format!("form[finding_ids][{k}]") value=f.finding_id checked=checked/>
                        {format!("{} {}", f.reference, f.title)}
                        {status.map(|s| view! { <span class="muted small">{s}</span> })}
                    </label>
                }
            })
            .collect_view()
            .into_any()
    };
    view! {
        <label for=title_id.clone()>"Title"</label>
        <input id=title_id name="form[title]" maxlength=MAX_TITLE_CHARS.to_string() value=initial.title
            autocomplete="off"
            on:input=move |ev| draft.title.set(event_target_value(&ev))
            on:change=move |_| leave()/>
        <FieldMessage error field="title"/>
        <label for=rationale_id.clone()>"Rationale "<span class="muted small">"(Markdown, optional)"</span></label>
        <textarea id=rationale_id name="form[rationale]" rows="3" maxlength=MAX_MARKDOWN_CHARS.to_string()
            on:input=move |ev| draft.rationale.set(event_target_value(&ev))
            on:change=move |_| leave()>{initial.rationale}</textarea>
        <FieldMessage error field="rationale"/>
        <div class="row">
            <div>
                <label for=impact_id.clone()>"Impact"</label>
                <select id=impact_id name="form[impact]" on:change=move |ev| { draft.impact.set(event_target_value(&ev)); leave(); }>
                    {(1..=5u32).map(|n| view! {
                        <option value=n.to_string() selected=n.to_string() == impact>{impact_label(n)}</option>
                    }).collect_view()}
                </select>
                <FieldMessage error field="impact"/>
            </div>
            <div>
                <label for=effort_id.clone()>"Effort (engineer-weeks)"</label>
                <input id=effort_id name="form[effort_weeks]" inputmode="decimal" value=initial.effort_weeks
                    aria-describedby=effort_help.clone() autocomplete="off"
                    on:input=move |ev| draft.effort_weeks.set(event_target_value(&ev))
                    on:change=move |_| leave()/>
                <p class="help" id=effort_help>"From 0.1 (half a day) to 26."</p>
                <FieldMessage error field="effort_weeks"/>
            </div>
            <div>
                <label for=confidence_id.clone()>"Confidence"</label>
                <select id=confidence_id name="form[confidence]" on:change=move |ev| { draft.confidence.set(event_target_value(&ev)); leave(); }>
                    {Confidence::ALL.into_iter().map(|c| view! {
                        <option value=c.as_str() selected=c.as_str() == confidence || (confidence.is_empty() && c == Confidence::Medium)>{c.label()}</option>
                    }).collect_view()}
                </select>
                <FieldMessage error field="confidence"/>
            </div>
        </div>
        <label for=effect_id.clone()>"Expected effect "<span class="muted small">"(optional)"</span></label>
        <input id=effect_id name="form[expected_effect]" maxlength="200" value=initial.expected_effect
            placeholder="p95 latency −40 %" aria-describedby=effect_help.clone() autocomplete="off"
            on:input=move |ev| draft.expected_effect.set(event_target_value(&ev))
            on:change=move |_| leave()/>
        <p class="help" id=effect_help>"What the change should do, in the client's numbers."</p>
        <FieldMessage error field="expected_effect"/>
        <div class="row">
            <fieldset class="checks">
                <legend>"Depends on"</legend>
                {depends}
                <FieldMessage error field="depends_on"/>
            </fieldset>
            <fieldset class="checks">
                <legend>"Fixes findings"</legend>
                {findings}
                <FieldMessage error field="finding_ids"/>
            </fieldset>
        </div>
    }
    .into_any()
}

#[component]
fn NewIntervention(ctx: Ctx, lookups: Arc<Lookups>) -> impl IntoView {
    let Ctx {
        engagement_id,
        data,
        notice,
        ..
    } = ctx;
    let create = ServerAction::<CreateEngagementIntervention>::new();
    on_success(create, move |i: Intervention| {
        notice.set(Some(format!("{} added.", i.reference())));
        data.refetch();
    });
    let initial = InterventionInput {
        impact: "3".to_owned(),
        confidence: Confidence::Medium.as_str().to_owned(),
        ..InterventionInput::default()
    };
    let draft = InterventionDraft::new(&initial);
    let server_error = action_error(create);
    let error = draft.error(server_error);
    let pending = create.pending();
    let fields = intervention_fields(
        "new-intervention".to_owned(),
        initial,
        draft,
        error,
        None,
        &lookups,
    );
    let form = NodeRef::new();
    reset_after_render(vec![form], Vec::new());
    view! {
        <section class="card new-intervention" id="new-intervention" aria-labelledby="new-intervention-heading"
            data-testid="new-intervention">
            <h2 id="new-intervention-heading">"New intervention"</h2>
            <ActionForm action=create node_ref=form>
                <input type="hidden" name="engagement_id" value=engagement_id/>
                {fields}
                <ErrorBanner error=server_error/>
                <div class="actions">
                    <button type="submit" disabled=move || pending.get()
                        on:click=move |ev| if draft.blocks_submit() { ev.prevent_default() }>
                        {move || if pending.get() { "Adding…" } else { "Add intervention" }}
                    </button>
                </div>
            </ActionForm>
        </section>
    }
    .into_any()
}

// ---------------------------------------------------------------------------------------------
// The roadmap

fn roadmap_section(
    roadmap: Option<RoadmapView>,
    errors: Vec<FieldError>,
    capacity: String,
    start: String,
) -> AnyView {
    let error = (!errors.is_empty()).then(|| {
        let mut e = UiError::new("invalid", "The roadmap needs another look.");
        e.fields = errors;
        e
    });
    let error = Signal::derive(move || error.clone());
    let body = match roadmap {
        None => view! {
            <p class="muted">"Correct the team size or the start date to see the roadmap."</p>
        }
        .into_any(),
        Some(rm) if rm.entries.is_empty() => view! {
            <p class="muted" data-testid="roadmap-empty">"Add interventions above to see them laid out over the weeks."</p>
        }
        .into_any(),
        Some(rm) => {
            let summary = format!(
                "{} from {}: everything done by {}, {} weeks.",
                plural(rm.capacity as usize, "engineer", "engineers"),
                rm.start,
                rm.end,
                weeks_text(rm.total_weeks)
            );
            view! {
                <p data-testid="roadmap-summary">{summary}</p>
                {timeline(&rm)}
                {roadmap_table(&rm)}
            }
            .into_any()
        }
    };
    view! {
        <section class="card roadmap" id="roadmap" aria-labelledby="roadmap-heading">
            <h2 id="roadmap-heading">"Roadmap"</h2>
            <p class="muted small">"The interventions in the order above, each given to the first engineer free once what it depends on is done."</p>
            <Form method="GET" action="" attr:class="roadmap-form" attr:data-testid="roadmap-form">
                <div>
                    <label for="capacity">"Engineers available"</label>
                    <input id="capacity" name="capacity" type="number" min="1" max=MAX_CAPACITY.to_string()
                        step="1" inputmode="numeric" value=capacity/>
                    <FieldMessage error field="capacity"/>
                </div>
                <div>
                    <label for="start">"Start date"</label>
                    <input id="start" name="start" type="date" value=start/>
                    <FieldMessage error field="start"/>
                </div>
                <button type="submit">"Show the roadmap"</button>
            </Form>
            {body}
        </section>
    }
    .into_any()
}

/// One row per intervention, its bar placed by start and end week on a grid of weeks.
fn timeline(rm: &RoadmapView) -> AnyView {
    // At least one week wide; f64 → i64 saturates, and no roadmap is longer than 100 × 26 weeks.
    let weeks = (rm.total_weeks.ceil() as i64).clamp(1, 10_000);
    let step = ((weeks + 7) / 8).max(1);
    let percent = move |w: f64| (w / weeks as f64 * 100.0).clamp(0.0, 100.0);
    let start_day = parse_date(&rm.start);
    let ticks = (0..weeks)
        .step_by(usize::try_from(step).unwrap_or(1))
        .map(|n| {
            let date = start_day.map(|d| short_date(d + n * 7));
            view! {
                <span class="tl-tick" style=format!("left:{:.3}%", percent(n as f64))>
                    <span>{format!("Wk {}", n + 1)}</span>
                    {date.map(|d| view! { <span class="tl-date">{d}</span> })}
                </span>
            }
        })
        .collect_view();
    let grid = format!("background-size: calc(100% / {weeks}) 100%");
    let rows = rm
        .entries
        .iter()
        .map(|e| timeline_row(e, &grid, percent))
        .collect_view();
    let label = format!(
        "Timeline of {} for {} from {} to {}. The table below lists the same dates.",
        plural(rm.entries.len(), "intervention", "interventions"),
        plural(rm.capacity as usize, "engineer", "engineers"),
        rm.start,
        rm.end
    );
    view! {
        <div class="timeline" role="img" aria-label=label data-testid="roadmap-timeline">
            <div class="tl-row tl-head">
                <div class="tl-label small muted">"Intervention"</div>
                <div class="tl-track tl-ticks">{ticks}</div>
            </div>
            {rows}
        </div>
    }
    .into_any()
}

fn timeline_row(e: &RoadmapEntry, grid: &str, percent: impl Fn(f64) -> f64) -> AnyView {
    let left = percent(e.start_week);
    let width = (percent(e.end_week) - left).max(0.0);
    let lane = e.engineer.saturating_sub(1) % 6 + 1;
    let tip = format!(
        "{} {}: engineer {}, {} to {}",
        e.reference, e.title, e.engineer, e.start_date, e.end_date
    );
    view! {
        <div class="tl-row">
            <div class="tl-label">
                <span class="ref">{e.reference.clone()}</span>" "
                <span class="tl-title">{e.title.clone()}</span>
                <span class="tl-lane small muted">"Engineer "{e.engineer}</span>
            </div>
            <div class="tl-track" style=grid.to_owned()>
                <div class=format!("tl-bar lane-{lane}") style=format!("left:{left:.3}%;width:{width:.3}%")
                    title=tip data-testid="roadmap-bar" data-reference=e.reference.clone()
                    data-engineer=e.engineer.to_string()
                    data-start-week=weeks_text(e.start_week) data-end-week=weeks_text(e.end_week)>
                    <span>{e.reference.clone()}</span>
                </div>
            </div>
        </div>
    }
    .into_any()
}

fn roadmap_table(rm: &RoadmapView) -> AnyView {
    view! {
        <div class="table-wrap roadmap-table">
            <table data-testid="roadmap-table">
                <caption class="visually-hidden">"The roadmap as a table"</caption>
                <thead>
                    <tr>
                        <th scope="col">"Intervention"</th>
                        <th scope="col">"Engineer"</th>
                        <th scope="col">"Starts"</th>
                        <th scope="col">"Last day"</th>
                        <th scope="col">"Weeks"</th>
                    </tr>
                </thead>
                <tbody>
                    {rm.entries.iter().map(|e| view! {
                        <tr data-reference=e.reference.clone()>
                            <th scope="row">{e.reference.clone()}" "<span class="tl-title">{e.title.clone()}</span></th>
                            <td class="num">{e.engineer}</td>
                            <td>{e.start_date.clone()}</td>
                            <td>{e.end_date.clone()}</td>
                            <td class="num">{format!("{} – {}", weeks_text(e.start_week), weeks_text(e.end_week))}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
    .into_any()
}

// ---------------------------------------------------------------------------------------------
// Impact versus effort

const CHART_W: f64 = 480.0;
const CHART_H: f64 = 300.0;
const CHART_LEFT: f64 = 44.0;
const CHART_RIGHT: f64 = 16.0;
const CHART_TOP: f64 = 14.0;
const CHART_BOTTOM: f64 = 46.0;

fn impact_effort_section(items: &[Intervention]) -> AnyView {
    if items.is_empty() {
        return ().into_any();
    }
    view! {
        <section class="card impact-effort" aria-labelledby="impact-effort-heading">
            <h2 id="impact-effort-heading">"Impact and effort"</h2>
            {impact_effort_chart(items)}
        </section>
    }
    .into_any()
}

fn impact_effort_chart(items: &[Intervention]) -> AnyView {
    let max_effort = items
        .iter()
        .map(|i| i.effort_weeks)
        .filter(|w| w.is_finite())
        .fold(0.0_f64, f64::max);
    let x_max = (max_effort * 1.1).ceil().clamp(1.0, 1000.0);
    let plot_w = CHART_W - CHART_LEFT - CHART_RIGHT;
    let plot_h = CHART_H - CHART_TOP - CHART_BOTTOM;
    let x = move |w: f64| CHART_LEFT + w.clamp(0.0, x_max) / x_max * plot_w;
    let y = move |impact: f64| CHART_TOP + (5.5 - impact.clamp(0.5, 5.5)) / 5.0 * plot_h;
    let n = |v: f64| format!("{v:.1}");
    let x_step = (x_max / 6.0).ceil().max(1.0);
    let x_ticks: Vec<f64> = (0..=6)
        .map(|k| f64::from(k) * x_step)
        .filter(|w| *w <= x_max + 1e-9)
        .collect();
    let bottom = y(0.5);
    let (mid_x, mid_y) = (x(x_max / 2.0), y(3.0));
    let mut placed: Vec<(String, String)> = Vec::new();
    let points = items
        .iter()
        .map(|i| {
            let (px, py) = (x(i.effort_weeks), y(f64::from(i.impact)));
            // Points on the same spot get their labels stacked, not drawn over each other.
            let spot = (n(px), n(py));
            let same = placed.iter().filter(|p| **p == spot).count();
            placed.push(spot);
            let label_y = py - 8.0 - 13.0 * same as f64;
            let right_edge = px > CHART_W - CHART_RIGHT - 40.0;
            let (label_x, anchor) = if right_edge {
                (px - 8.0, "end")
            } else {
                (px + 8.0, "start")
            };
            view! {
                <g class="point" data-testid="chart-point" data-reference=i.reference()>
                    <circle cx=n(px) cy=n(py) r="5"></circle>
                    <text x=n(label_x) y=n(label_y) text-anchor=anchor>{i.reference()}</text>
                </g>
            }
        })
        .collect_view();
    let description = items
        .iter()
        .map(|i| {
            format!(
                "{} {}: impact {}, {} weeks",
                i.reference(),
                i.title,
                i.impact,
                weeks_text(i.effort_weeks)
            )
        })
        .collect::<Vec<_>>()
        .join("; ");
    let label = format!(
        "Impact versus effort. {description}. Quick wins, high impact for little effort, sit top left."
    );
    view! {
        <figure class="chart">
            <svg viewBox=format!("0 0 {CHART_W} {CHART_H}") role="img" aria-label=label
                data-testid="impact-effort-chart" preserveAspectRatio="xMidYMid meet">
                <rect class="quick-wins" x=n(CHART_LEFT) y=n(CHART_TOP) width=n(mid_x - CHART_LEFT) height=n(mid_y - CHART_TOP)></rect>
                <text class="quadrant" x=n(CHART_LEFT + 6.0) y=n(CHART_TOP + 14.0)>"Quick wins"</text>
                <line class="divider" x1=n(mid_x) y1=n(CHART_TOP) x2=n(mid_x) y2=n(bottom)></line>
                <line class="divider" x1=n(CHART_LEFT) y1=n(mid_y) x2=n(CHART_W - CHART_RIGHT) y2=n(mid_y)></line>
                {(1..=5).map(|v| {
                    let ty = y(f64::from(v));
                    view! {
                        <line class="grid" x1=n(CHART_LEFT) y1=n(ty) x2=n(CHART_W - CHART_RIGHT) y2=n(ty)></line>
                        <text class="tick" x=n(CHART_LEFT - 8.0) y=n(ty + 4.0) text-anchor="end">{v}</text>
                    }
                }).collect_view()}
                {x_ticks.into_iter().map(|w| view! {
                    <line class="grid" x1=n(x(w)) y1=n(bottom) x2=n(x(w)) y2=n(bottom + 4.0)></line>
                    <text class="tick" x=n(x(w)) y=n(bottom + 17.0) text-anchor="middle">{weeks_text(w)}</text>
                }).collect_view()}
                <line class="axis" x1=n(CHART_LEFT) y1=n(bottom) x2=n(CHART_W - CHART_RIGHT) y2=n(bottom)></line>
                <line class="axis" x1=n(CHART_LEFT) y1=n(CHART_TOP) x2=n(CHART_LEFT) y2=n(bottom)></line>
                <text class="axis-title" x=n(CHART_LEFT + plot_w / 2.0) y=n(CHART_H - 6.0) text-anchor="middle">"Effort (engineer-weeks)"</text>
                <text class="axis-title" x="12" y=n(CHART_TOP + plot_h / 2.0) text-anchor="middle"
                    transform=format!("rotate(-90 12 {})", n(CHART_TOP + plot_h / 2.0))>"Impact"</text>
                {points}
            </svg>
            <figcaption class="muted small">
                "Each point is an intervention: further right takes more weeks, higher helps more. "
                "The shaded corner holds the quick wins."
            </figcaption>
        </figure>
    }
    .into_any()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_round_trip_and_mondays_are_found() {
        assert_eq!(parse_date("1970-01-01"), Some(0));
        assert_eq!(
            parse_date("2027-01-04").map(format_date).as_deref(),
            Some("2027-01-04")
        );
        assert_eq!(
            parse_date("2024-02-29").map(format_date).as_deref(),
            Some("2024-02-29")
        );
        assert_eq!(parse_date("nonsense"), None);
        // 2027-01-04 is a Monday; the Thursday before it moves on to it, it stays itself.
        let monday = parse_date("2027-01-04").unwrap_or_default();
        assert_eq!(next_monday_or_today(monday), monday);
        assert_eq!(next_monday_or_today(monday - 4), monday);
        assert_eq!(next_monday_or_today(monday - 6), monday);
        assert_eq!(short_date(monday + 7), "11 Jan");
    }

    #[test]
    fn numbers_read_well() {
        assert_eq!(weeks_text(0.5), "0.5");
        assert_eq!(weeks_text(1.0), "1");
        assert_eq!(weeks_text(0.1 + 0.2), "0.3");
        assert_eq!(ordinal(1), "1st");
        assert_eq!(ordinal(3), "3rd");
        assert_eq!(ordinal(11), "11th");
        assert_eq!(ordinal(22), "22nd");
    }

    #[test]
    fn moving_swaps_neighbours_only_inside_the_list() {
        assert_eq!(swapped(&[1, 2, 3], 1, 0), Some(vec![2, 1, 3]));
        assert_eq!(swapped(&[1, 2, 3], 2, 3), None);
    }
}
