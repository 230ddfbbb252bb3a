//! The question-bank pages are the owner's: a consultant gets 403, the owner the page, and
//! another firm's template is 404.
mod common;

use reqwest::StatusCode;

use common::{json, unique_email, with_app};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_bank_pages_are_for_the_owner_only() {
    with_app(|app| async move {
        let owner = app.sign_up(&unique_email("owner-")).await;
        let consultant = app.consultant(&owner).await;

        let page = app.get(&consultant, "/firm/bank").await;
        assert_eq!(page.status(), StatusCode::FORBIDDEN);

        let page = app.get(&owner, "/firm/bank").await;
        assert_eq!(page.status(), StatusCode::OK);
        let html = page.text().await.expect("the page");
        assert!(html.contains("Clone the built-in bank"), "{html}");
        assert!(html.contains("No templates yet"), "{html}");

        let response = app
            .call_fn(&owner, "clone_bank_template", &[("name", "House bank")])
            .await;
        assert_eq!(response.status(), StatusCode::OK);
        let id = json(response).await.as_i64().expect("the template's id");

        let page = app.get(&owner, &format!("/firm/bank/{id}")).await;
        assert_eq!(page.status(), StatusCode::OK);
        let html = page.text().await.expect("the editor");
        assert!(html.contains("House bank"), "{html}");
        assert!(html.contains("Publish as version "), "{html}");
        assert!(html.contains("A “no” is a red flag"), "{html}");

        // The editor's forms, as a browser sends them (an unticked checkbox sends nothing).
        let id_text = id.to_string();
        let question_id = first_question_id(&html);
        let save = |weight: &'static str| {
            let id_text = id_text.clone();
            let question_id = question_id.clone();
            let app = app.clone();
            let owner = owner.clone();
            async move {
                app.call_fn(
                    &owner,
                    "save_bank_template_question",
                    &[
                        ("bank_template_id", id_text.as_str()),
                        ("form[question_id]", question_id.as_str()),
                        ("form[prompt]", "Did anyone restore a backup this quarter?"),
                        ("form[help]", "A backup nobody restored is a hope."),
                        ("form[weight]", weight),
                    ],
                )
                .await
            }
        };
        let refused = json(save("9").await).await;
        assert_eq!(refused["code"], "invalid", "{refused}");
        assert_eq!(refused["fields"][0]["field"], "weight", "{refused}");
        let saved = save("2").await;
        assert_eq!(saved.status(), StatusCode::OK);
        let saved = json(saved).await;
        assert_eq!(
            (saved["weight"].as_i64(), saved["red_flag"].as_bool()),
            (Some(2), Some(false)),
            "{saved}"
        );
        let published = app
            .call_fn(
                &owner,
                "publish_bank_template",
                &[("bank_template_id", id_text.as_str())],
            )
            .await;
        assert_eq!(published.status(), StatusCode::OK);
        assert_eq!(json(published).await["version"], 1);

        let page = app.get(&consultant, &format!("/firm/bank/{id}")).await;
        assert_eq!(page.status(), StatusCode::FORBIDDEN);
        let other = app.sign_up(&unique_email("other-")).await;
        let page = app.get(&other, &format!("/firm/bank/{id}")).await;
        assert_eq!(page.status(), StatusCode::NOT_FOUND);
    })
    .await;
}

/// The id of the first question in the editor's HTML.
fn first_question_id(html: &str) -> String {
    let marker = r#"name="form[question_id]" value=""#;
    let start = html.find(marker).expect("a question form in the editor") + marker.len();
    html[start..].chars().take_while(|c| *c != '"').collect()
}
