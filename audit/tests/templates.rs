//! Firm templates of the question bank on the backend `TEST_DATABASE_URL` selects: clone, edit,
//! publish; which version new and running questionnaires pin; who may change a template.
mod common;

use audit::accounts::Member;
use audit::db::Db;
use audit::engagements::{self, EngagementInput};
use audit::questionnaire::{
    self, add_question, clone_builtin, engagement_bank, get_template, list_templates, publish,
    remove_question, update_question, Area, BankTemplate, NewQuestion, QuestionEdit,
};
use audit::Error;

use common::{consultant, owner, with_db};

async fn new_engagement(db: &Db, member: &Member, client_name: &str) -> i64 {
    let fields = EngagementInput {
        client_name: Some(client_name.to_owned()),
        system_name: Some("Ledger".to_owned()),
        ..Default::default()
    }
    .parse()
    .expect("valid engagement fields");
    engagements::create(db, member, &fields)
        .await
        .expect("create an engagement")
        .engagement_id
}

async fn template(db: &Db, member: &Member, id: i64) -> BankTemplate {
    get_template(db, member.firm_id, id)
        .await
        .expect("the firm's template")
}

/// The first question of the database area, as an edit that keeps it unchanged.
fn first_database_question(template: &BankTemplate) -> QuestionEdit {
    let q = &template
        .bank
        .area(Area::Database)
        .expect("a database area")
        .questions[0];
    QuestionEdit {
        question_id: q.id.clone(),
        prompt: q.prompt.clone(),
        help: q.help.clone(),
        weight: q.weight.to_string(),
        red_flag: q.red_flag,
    }
}

fn fields_of(error: &Error) -> Vec<String> {
    match error {
        Error::Invalid(fields) => fields.iter().map(|f| f.field.clone()).collect(),
        other => panic!("expected Invalid, got {other:?}"),
    }
}

#[tokio::test]
async fn a_published_template_is_pinned_by_new_questionnaires_only() {
    with_db(|db| async move {
        let owner = owner(&db).await;
        // Opened before the firm publishes anything: it pins the built-in bank.
        let early = new_engagement(&db, &owner, "Early Bird").await;
        let (early_version, _) = engagement_bank(&db, owner.firm_id, early)
            .await
            .expect("the early questionnaire");
        assert!(early_version.builtin);

        let id = clone_builtin(&db, &owner, "  House bank  ")
            .await
            .expect("the owner clones the built-in bank");
        let cloned = template(&db, &owner, id).await;
        assert_eq!(cloned.name, "House bank");
        assert_eq!(cloned.based_on, Some(early_version.label()));
        assert!(cloned.published.is_empty());
        assert_eq!(cloned.next_version(), 1);
        let (_, builtin) = engagement_bank(&db, owner.firm_id, early)
            .await
            .expect("the built-in bank");
        assert_eq!(cloned.bank, *builtin, "a clone starts as a copy");

        let original = first_database_question(&cloned);
        let new_weight = if original.weight == "5" { "1" } else { "5" };
        let edit = QuestionEdit {
            prompt: "Has anyone restored last night's backup this quarter?".into(),
            help: "A backup nobody restored is a hope.".into(),
            weight: new_weight.into(),
            red_flag: !original.red_flag,
            ..original.clone()
        };
        let saved = update_question(&db, &owner, id, &edit)
            .await
            .expect("the owner edits a question");
        assert_eq!(saved.prompt, edit.prompt);
        assert_eq!(saved.weight.to_string(), new_weight);

        let v1 = publish(&db, &owner, id).await.expect("publish");
        assert_eq!((v1.version, v1.builtin), (1, false));
        assert_eq!(v1.label(), "House bank v1");

        // A questionnaire opened now pins v1 and shows the edited question.
        let second = new_engagement(&db, &owner, "Second Co").await;
        let (pinned, bank) = engagement_bank(&db, owner.firm_id, second)
            .await
            .expect("the second questionnaire");
        assert_eq!(pinned, v1);
        let question = bank
            .question(&original.question_id)
            .expect("the edited question");
        assert_eq!(question.prompt, edit.prompt);
        assert_eq!(question.help, edit.help);
        assert_eq!(question.weight.to_string(), new_weight);
        assert_eq!(question.red_flag, edit.red_flag);

        // The early questionnaire keeps the built-in bank and its wording.
        let (still, bank) = engagement_bank(&db, owner.firm_id, early)
            .await
            .expect("the early questionnaire again");
        assert_eq!(still, early_version);
        assert_eq!(
            bank.question(&original.question_id)
                .expect("the original question")
                .prompt,
            original.prompt
        );

        let v2 = publish(&db, &owner, id).await.expect("publish again");
        assert_eq!(v2.version, 2);
        let third = new_engagement(&db, &owner, "Third Ltd").await;
        let (pinned, _) = engagement_bank(&db, owner.firm_id, third)
            .await
            .expect("the third questionnaire");
        assert_eq!(pinned, v2);
        let (pinned, _) = engagement_bank(&db, owner.firm_id, second)
            .await
            .expect("the second questionnaire again");
        assert_eq!(pinned, v1, "an opened questionnaire keeps its version");

        let listed = list_templates(&db, owner.firm_id)
            .await
            .expect("the firm's templates");
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].bank_template_id, id);
        let versions: Vec<i64> = listed[0].published.iter().map(|v| v.version).collect();
        assert_eq!(versions, [2, 1]);
        assert_eq!(listed[0].next_version(), 3);
    })
    .await;
}

#[tokio::test]
async fn questions_are_added_and_removed_but_an_area_never_empties() {
    with_db(|db| async move {
        let owner = owner(&db).await;
        let id = clone_builtin(&db, &owner, "Lean bank")
            .await
            .expect("clone");
        let new = NewQuestion {
            area: "people".into(),
            prompt: "Does more than one person know how to deploy?".into(),
            help: "Bus factor.".into(),
            weight: "3".into(),
            red_flag: true,
        };
        let added = add_question(&db, &owner, id, &new).await.expect("add");
        assert_eq!(added.id, "people.custom-1");
        assert_eq!(added.area, Area::People);
        assert!(added.interventions.is_empty() && added.probe_checks.is_empty());
        let bank = template(&db, &owner, id).await.bank;
        let people = bank.area(Area::People).expect("people");
        assert_eq!(people.questions.last(), Some(&added));

        // A removed custom question's id is not given to the next one once published.
        publish(&db, &owner, id).await.expect("publish");
        remove_question(&db, &owner, id, &added.id)
            .await
            .expect("remove the custom question");
        let again = add_question(&db, &owner, id, &new)
            .await
            .expect("add again");
        assert_eq!(again.id, "people.custom-2");

        let errors = add_question(
            &db,
            &owner,
            id,
            &NewQuestion {
                area: "billing".into(),
                weight: "0".into(),
                ..new.clone()
            },
        )
        .await
        .expect_err("an unknown area and a bad weight");
        assert_eq!(fields_of(&errors), ["area", "weight"]);

        // Empty the database area down to one question; the last one stays.
        let ids: Vec<String> = template(&db, &owner, id)
            .await
            .bank
            .area(Area::Database)
            .expect("database")
            .questions
            .iter()
            .map(|q| q.id.clone())
            .collect();
        let (last, rest) = ids.split_last().expect("database questions");
        for question_id in rest {
            remove_question(&db, &owner, id, question_id)
                .await
                .expect("remove");
        }
        let refused = remove_question(&db, &owner, id, last)
            .await
            .expect_err("the last question of an area stays");
        assert!(matches!(refused, Error::Conflict { .. }), "{refused:?}");
        let gone = remove_question(&db, &owner, id, &rest[0])
            .await
            .expect_err("an already removed question");
        assert!(matches!(gone, Error::Conflict { .. }), "{gone:?}");
        let left = template(&db, &owner, id).await.bank;
        assert_eq!(
            left.area(Area::Database).expect("database").questions.len(),
            1
        );
    })
    .await;
}

#[tokio::test]
async fn only_the_owner_changes_templates_and_only_their_own() {
    with_db(|db| async move {
        let owner = owner(&db).await;
        let consultant = consultant(&db, &owner).await;
        let id = clone_builtin(&db, &owner, "House bank")
            .await
            .expect("clone");
        let edit = first_database_question(&template(&db, &owner, id).await);
        let new = NewQuestion {
            area: "database".into(),
            prompt: "Q?".into(),
            help: "H.".into(),
            weight: "2".into(),
            red_flag: false,
        };

        let forbidden = |r: Result<(), Error>| {
            assert!(matches!(r, Err(Error::Forbidden(_))), "{r:?}");
        };
        forbidden(clone_builtin(&db, &consultant, "Mine").await.map(drop));
        forbidden(update_question(&db, &consultant, id, &edit).await.map(drop));
        forbidden(add_question(&db, &consultant, id, &new).await.map(drop));
        forbidden(remove_question(&db, &consultant, id, &edit.question_id).await);
        forbidden(publish(&db, &consultant, id).await.map(drop));

        let other = common::owner(&db).await;
        let not_found = |r: Result<(), Error>| {
            assert!(matches!(r, Err(Error::NotFound)), "{r:?}");
        };
        not_found(get_template(&db, other.firm_id, id).await.map(drop));
        not_found(update_question(&db, &other, id, &edit).await.map(drop));
        not_found(add_question(&db, &other, id, &new).await.map(drop));
        not_found(remove_question(&db, &other, id, &edit.question_id).await);
        not_found(publish(&db, &other, id).await.map(drop));
        assert!(list_templates(&db, other.firm_id)
            .await
            .expect("the other firm's templates")
            .is_empty());

        // The other firm's new questionnaires still use the built-in bank.
        publish(&db, &owner, id).await.expect("publish");
        let theirs = new_engagement(&db, &other, "Elsewhere").await;
        let (pinned, _) = questionnaire::engagement_bank(&db, other.firm_id, theirs)
            .await
            .expect("the other firm's questionnaire");
        assert!(pinned.builtin);

        // Nothing changed for the owner either.
        let unchanged = template(&db, &owner, id).await;
        assert_eq!(first_database_question(&unchanged), edit);
    })
    .await;
}

#[tokio::test]
async fn bad_input_names_its_field_and_changes_nothing() {
    with_db(|db| async move {
        let owner = owner(&db).await;
        let id = clone_builtin(&db, &owner, "House bank")
            .await
            .expect("clone");
        let before = template(&db, &owner, id).await;
        let edit = first_database_question(&before);
        let error = update_question(
            &db,
            &owner,
            id,
            &QuestionEdit {
                weight: "9".into(),
                ..edit.clone()
            },
        )
        .await
        .expect_err("weight 9");
        assert_eq!(fields_of(&error), ["weight"]);
        let error = update_question(
            &db,
            &owner,
            id,
            &QuestionEdit {
                prompt: "x".repeat(301),
                help: "  ".into(),
                ..edit.clone()
            },
        )
        .await
        .expect_err("a long prompt and no help");
        assert_eq!(fields_of(&error), ["prompt", "help"]);
        let error = clone_builtin(&db, &owner, "   ")
            .await
            .expect_err("a template needs a name");
        assert_eq!(fields_of(&error), ["name"]);
        let missing = update_question(
            &db,
            &owner,
            id,
            &QuestionEdit {
                question_id: "database.no-such-question".into(),
                ..edit
            },
        )
        .await
        .expect_err("an unknown question");
        assert!(matches!(missing, Error::Conflict { .. }), "{missing:?}");
        assert_eq!(template(&db, &owner, id).await.bank, before.bank);
    })
    .await;
}

#[tokio::test]
async fn an_engagement_switches_bank_only_until_the_first_answer() {
    with_db(|db| async move {
        let owner = owner(&db).await;
        let engagement = new_engagement(&db, &owner, "Switcher").await;
        let (pinned, _) = engagement_bank(&db, owner.firm_id, engagement)
            .await
            .expect("the questionnaire pins the built-in bank");
        assert!(pinned.builtin);

        let id = clone_builtin(&db, &owner, "House bank")
            .await
            .expect("clone");
        let v1 = publish(&db, &owner, id).await.expect("publish");
        let switched = questionnaire::set_bank_version(&db, &owner, engagement, v1.bank_version_id)
            .await
            .expect("no answers yet: the bank can change");
        assert_eq!(switched.label(), "House bank v1");
        let (now, _) = engagement_bank(&db, owner.firm_id, engagement)
            .await
            .expect("the bank");
        assert_eq!(now.bank_version_id, v1.bank_version_id);

        // Another firm's version is not one to choose.
        let other = common::owner(&db).await;
        let theirs = clone_builtin(&db, &other, "Theirs").await.expect("clone");
        let theirs = publish(&db, &other, theirs).await.expect("publish");
        let refused =
            questionnaire::set_bank_version(&db, &owner, engagement, theirs.bank_version_id)
                .await
                .expect_err("another firm's version");
        assert_eq!(fields_of(&refused), vec!["bank_version_id"]);

        // After the first answer the version stays.
        let question = now_first_question(&db, &owner, engagement).await;
        let answer = questionnaire::AnswerInput {
            question_id: question,
            choice: "yes".into(),
            ..Default::default()
        };
        questionnaire::save_answer(
            &db,
            &questionnaire::Respondent::Member(owner.clone()),
            engagement,
            &answer,
        )
        .await
        .expect("an answer");
        let refused =
            questionnaire::set_bank_version(&db, &owner, engagement, pinned.bank_version_id)
                .await
                .expect_err("answers exist");
        assert!(matches!(refused, Error::Conflict { .. }), "{refused:?}");
    })
    .await;
}

async fn now_first_question(db: &Db, member: &Member, engagement: i64) -> String {
    let (_, bank) = engagement_bank(db, member.firm_id, engagement)
        .await
        .expect("the bank");
    let first = bank.questions().next().expect("a question").id.clone();
    first
}
