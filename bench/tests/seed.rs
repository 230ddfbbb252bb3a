//! The seed at a tiny scale, on the database the environment gives (SQLite, or PostgreSQL when
//! TEST_DATABASE_URL is set): everything it promises is there, and a second seed is refused.
use audit::accounts;
use audit::probes::store as probe_store;
use audit::questionnaire::{self, Respondent};
use audit::testing::TestDb;
use bench::seed::{self, Scale};

#[tokio::test]
async fn seeds_a_tiny_firm_and_refuses_a_second_seed() -> Result<(), String> {
    let test = TestDb::new().await.map_err(|e| e.to_string())?;
    let db = &test.db;
    let scale = Scale {
        engagements: 6,
        complete: 2,
        concurrency: Some(2),
    };
    let manifest = seed::seed(db, scale).await?;

    assert_eq!(manifest.counts.engagements, 6);
    assert_eq!(manifest.complete_engagement_ids.len(), 2);
    assert_eq!(manifest.founders.len(), 2);
    assert_eq!(
        manifest.large_engagement_id,
        manifest.complete_engagement_ids[0]
    );
    assert_eq!(manifest.member_email, seed::MEMBER_EMAIL);

    let member = accounts::authenticate(db, &manifest.member_email, &manifest.member_password)
        .await
        .map_err(|e| format!("the manifest's member cannot log in: {e}"))?;
    assert_eq!(member.firm_id, manifest.firm_id);
    let by_token = accounts::member_by_api_token(db, &manifest.api_token)
        .await
        .map_err(|e| e.to_string())?;
    assert_eq!(by_token.map(|m| m.user_id), Some(member.user_id));
    let members = accounts::list_members(db, manifest.firm_id)
        .await
        .map_err(|e| e.to_string())?;
    assert_eq!(members.len(), 2, "owner and consultant");

    let listed = audit::engagements::list(
        db,
        manifest.firm_id,
        &audit::engagements::EngagementQuery {
            include_archived: true,
            limit: Some(100),
            ..Default::default()
        },
    )
    .await
    .map_err(|e| e.to_string())?;
    assert_eq!(listed.items.len(), 6);

    let who = Respondent::Member(member.clone());
    for (engagement_id, founder) in manifest
        .complete_engagement_ids
        .iter()
        .zip(&manifest.founders)
    {
        let id = *engagement_id;
        assert_eq!(founder.engagement_id, id);

        let q = questionnaire::questionnaire(db, &who, id)
            .await
            .map_err(|e| e.to_string())?;
        let questions = q.bank.questions().count();
        assert!(questions > 0);
        assert_eq!(q.answers.len(), questions, "every question answered");
        assert!(q.answers.iter().all(|a| a.choice.is_some()));
        assert!(q.answers.iter().any(|a| !a.notes.is_empty()), "some notes");
        assert_eq!(q.status, questionnaire::QuestionnaireStatus::Open);

        let found = audit::findings::list_findings(db, member.firm_id, id)
            .await
            .map_err(|e| e.to_string())?;
        assert_eq!(found.len(), seed::FINDINGS_PER_ENGAGEMENT);

        let plan = audit::interventions::intervention_plan(db, member.firm_id, id)
            .await
            .map_err(|e| e.to_string())?;
        assert_eq!(plan.interventions.len(), seed::INTERVENTIONS_PER_ENGAGEMENT);
        assert!(plan.interventions.iter().any(|i| !i.depends_on.is_empty()));
        assert!(plan.cycle.is_none());

        let records = audit::decisions::list_decisions(db, member.firm_id, id)
            .await
            .map_err(|e| e.to_string())?;
        assert_eq!(records.len(), seed::DECISIONS_PER_ENGAGEMENT);

        let runs = probe_store::list_runs(db, member.firm_id, id, None, 50)
            .await
            .map_err(|e| e.to_string())?;
        assert!(runs.len() >= 4, "a run per probe kind");
        let claims = audit::probes::claims::compare(db, member.firm_id, id)
            .await
            .map_err(|e| e.to_string())?;
        assert!(!claims.is_empty(), "claimed versus observed has content");

        // The founder's link works and is not used up by the seed.
        let preview = questionnaire::preview_founder_invitation(db, &founder.token)
            .await
            .map_err(|e| format!("founder token of engagement {id}: {e}"))?;
        assert_eq!(preview.name, founder.founder_name);
        // The founder's next save names the stored version.
        let stored = q
            .answer(&founder.question_id)
            .ok_or("the founder's question is not answered")?;
        assert_eq!(stored.version, founder.version);
    }

    // The founder can log in and save the answer the manifest names.
    let founder = &manifest.founders[1];
    let access = questionnaire::accept_founder_invitation(db, &founder.token)
        .await
        .map_err(|e| e.to_string())?;
    let saved = questionnaire::save_answer(
        db,
        &Respondent::Founder(access),
        founder.engagement_id,
        &questionnaire::AnswerInput {
            question_id: founder.question_id.clone(),
            choice: "partly".into(),
            notes: "Updated by the founder.".into(),
            links: String::new(),
            version: founder.version,
        },
    )
    .await
    .map_err(|e| e.to_string())?;
    assert!(matches!(saved, questionnaire::SaveOutcome::Saved { .. }));

    // The large engagement has a draft summary and milestones.
    let draft = audit::reports::draft(db, &member, manifest.large_engagement_id)
        .await
        .map_err(|e| e.to_string())?;
    assert!(!draft.summary.is_empty());
    assert_eq!(manifest.counts.milestones, 2);

    let again = seed::seed(db, scale).await;
    match again {
        Err(e) => assert!(e.contains("already has"), "unexpected refusal: {e}"),
        Ok(_) => return Err("a second seed into the same database was not refused".into()),
    }

    test.drop_database().await;
    Ok(())
}
