//! The activity card of the engagement page: who changed what and when, newest first, with the
//! state before and after each change; older entries a page at a time (keyset, by entry id).
use audit::activity::{ActivityEntry, ActivityPage, Subject};
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::components::{format_time, LoadError};
use crate::error::UiError;

#[cfg(feature = "ssr")]
use crate::state::{app_state, current_member, fail};

/// How many entries the card shows at a time.
pub const ACTIVITY_CARD_SIZE: i64 = 20;

/// The query parameter holding the id the next page starts before.
const BEFORE_PARAM: &str = "activity_before";

#[server(prefix = "/fn", endpoint = "engagement_activity")]
pub async fn engagement_activity(
    engagement_id: i64,
    before: Option<i64>,
) -> Result<ActivityPage, UiError> {
    let member = current_member().await?;
    let state = app_state()?;
    // The log is firm-scoped already; this makes another firm's engagement a 404, not an
    // empty card.
    audit::engagements::check_firm_engagement(&state.db, member.firm_id, engagement_id)
        .await
        .map_err(fail)?;
    audit::activity::list_activity(
        &state.db,
        member.firm_id,
        engagement_id,
        before,
        ACTIVITY_CARD_SIZE,
    )
    .await
    .map_err(fail)
}

/// Indents a JSON text for reading. It only re-spaces the text (strings are kept as they are),
/// so the same output comes from the server and the browser without a JSON library.
pub fn pretty_json(text: &str) -> String {
    fn newline(out: &mut String, indent: usize) {
        out.push('\n');
        for _ in 0..indent {
            out.push_str("  ");
        }
    }
    let mut out = String::with_capacity(text.len() * 2);
    let (mut indent, mut in_string, mut escaped) = (0_usize, false, false);
    let mut chars = text.trim().chars().peekable();
    while let Some(c) = chars.next() {
        if in_string {
            out.push(c);
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
            }
            continue;
        }
        match c {
            '"' => {
                in_string = true;
                out.push(c);
            }
            '{' | '[' => {
                while chars.peek().is_some_and(|c| c.is_whitespace()) {
                    chars.next();
                }
                let close = if c == '{' { '}' } else { ']' };
                out.push(c);
                if chars.peek() == Some(&close) {
                    chars.next();
                    out.push(close);
                } else {
                    indent += 1;
                    newline(&mut out, indent);
                }
            }
            '}' | ']' => {
                indent = indent.saturating_sub(1);
                newline(&mut out, indent);
                out.push(c);
            }
            ',' => {
                out.push(c);
                newline(&mut out, indent);
            }
            ':' => out.push_str(": "),
            c if c.is_whitespace() => {}
            c => out.push(c),
        }
    }
    out
}

/// Where an entry's subject can be seen, when that page has an anchor for it.
fn subject_href(engagement_id: i64, entry: &ActivityEntry) -> Option<String> {
    match entry.subject {
        Subject::Decision => {
            let number: i64 = entry.subject_ref.strip_prefix("ADR-")?.parse().ok()?;
            Some(format!(
                "/engagements/{engagement_id}/decisions#adr-{number}"
            ))
        }
        Subject::Answer => Some(format!("/engagements/{engagement_id}/questionnaire")),
        Subject::Finding => Some(format!("/engagements/{engagement_id}/findings")),
        Subject::Intervention => Some(format!("/engagements/{engagement_id}/interventions")),
    }
}

#[component]
pub fn ActivityCard(engagement_id: i64) -> impl IntoView {
    let query = use_query_map();
    let before = move || {
        query.with(|q| {
            q.get(BEFORE_PARAM)
                .and_then(|b| b.trim().parse::<i64>().ok())
        })
    };
    let page = Resource::new(
        move || (engagement_id, before()),
        |(id, before)| engagement_activity(id, before),
    );
    view! {
        <section class="card activity" id="activity" aria-labelledby="activity-title">
            <h2 id="activity-title">"Activity"</h2>
            <Transition fallback=|| view! { <p class="muted">"Loading the activity…"</p> }>
                {move || {
                    let asked_before = before();
                    Suspend::new(async move {
                        match page.await {
                            Err(e) => view! { <LoadError error=e/> }.into_any(),
                            Ok(p) => activity_list(engagement_id, p, asked_before).into_any(),
                        }
                    })
                }}
            </Transition>
        </section>
    }
}

fn activity_list(engagement_id: i64, page: ActivityPage, asked_before: Option<i64>) -> AnyView {
    let base = format!("/engagements/{engagement_id}");
    if page.entries.is_empty() {
        let text = if asked_before.is_some() {
            view! { <p class="muted">"No older changes. "<a href=format!("{base}#activity")>"Back to the newest"</a></p> }
                .into_any()
        } else {
            view! {
                <p class="muted empty-activity">
                    "Nothing has changed yet. Answers, findings, interventions and decision records are "
                    "logged here as soon as someone writes them, with who did it and what changed."
                </p>
            }
            .into_any()
        };
        return text;
    }
    let older = page
        .next_before
        .map(|next| format!("{base}?{BEFORE_PARAM}={next}#activity"));
    let pager = (asked_before.is_some() || older.is_some()).then(|| {
        view! {
            <nav class="pager" aria-label="Activity pages">
                {asked_before.map(|_| view! { <a href=format!("{base}#activity")>"Newest"</a> })}
                {older.map(|href| view! { <a href=href rel="next">"Older →"</a> })}
            </nav>
        }
    });
    view! {
        <ol class="activity-list">
            {page.entries.into_iter().map(|entry| activity_entry(engagement_id, entry)).collect_view()}
        </ol>
        {pager}
    }
    .into_any()
}

fn activity_entry(engagement_id: i64, entry: ActivityEntry) -> impl IntoView {
    let subject = match subject_href(engagement_id, &entry) {
        Some(href) => {
            view! { <a class="activity-ref" href=href>{entry.subject_ref.clone()}</a> }.into_any()
        }
        None => view! { <span class="activity-ref">{entry.subject_ref.clone()}</span> }.into_any(),
    };
    let changes = (entry.before.is_some() || entry.after.is_some()).then(|| {
        let side = |title: &'static str, json: Option<String>| match json {
            Some(json) => view! {
                <div>
                    <h3>{title}</h3>
                    <pre>{pretty_json(&json)}</pre>
                </div>
            }
            .into_any(),
            None => view! {
                <div>
                    <h3>{title}</h3>
                    <p class="muted small">"Nothing"</p>
                </div>
            }
            .into_any(),
        };
        view! {
            <details class="activity-changes">
                <summary>"Before and after"</summary>
                <div class="activity-diff">
                    {side("Before", entry.before.clone())}
                    {side("After", entry.after.clone())}
                </div>
            </details>
        }
    });
    view! {
        <li class="activity-entry">
            <p class="activity-meta small">
                <time>{format_time(entry.created_at)}</time>" · "<strong>{entry.actor.clone()}</strong>
                " · "{subject}
            </p>
            <p class="activity-summary">{entry.summary.clone()}</p>
            {changes}
        </li>
    }
}

#[cfg(test)]
mod tests {
    use super::pretty_json;

    #[test]
    fn json_is_indented_and_strings_are_left_alone() {
        assert_eq!(
            pretty_json(r#"{"title":"a, {b}: [c]","ids":[1,2],"none":{},"list":[ ]}"#),
            "{\n  \"title\": \"a, {b}: [c]\",\n  \"ids\": [\n    1,\n    2\n  ],\n  \"none\": {},\n  \"list\": []\n}"
        );
        assert_eq!(pretty_json(r#""quote \" inside""#), r#""quote \" inside""#);
        assert_eq!(pretty_json("null"), "null");
    }
}
