//! Engagements on the backend `TEST_DATABASE_URL` selects: the life of one engagement, the list
//! (keyset pages, search, archived ones) and firm scoping.
mod common;

use std::collections::HashSet;

use audit::accounts::Member;
use audit::db::Db;
use audit::engagements::{
    self, EngagementFields, EngagementForm, EngagementInput, EngagementPage, EngagementQuery,
    Founder, Stage, Status,
};
use audit::Error;

use common::{owner, with_db};

fn fields(client_name: &str, system_name: &str) -> EngagementFields {
    EngagementInput {
        client_name: Some(client_name.to_owned()),
        system_name: Some(system_name.to_owned()),
        ..Default::default()
    }
    .parse()
    .expect("valid engagement fields")
}

async fn create(db: &Db, member: &Member, client_name: &str, system_name: &str) -> i64 {
    engagements::create(db, member, &fields(client_name, system_name))
        .await
        .expect("create an engagement")
        .engagement_id
}

async fn list(db: &Db, member: &Member, query: EngagementQuery) -> EngagementPage {
    engagements::list(db, member.firm_id, &query)
        .await
        .expect("list engagements")
}

async fn search(db: &Db, member: &Member, text: &str) -> Vec<String> {
    list(
        db,
        member,
        EngagementQuery {
            search: Some(text.to_owned()),
            include_archived: true,
            ..Default::default()
        },
    )
    .await
    .items
    .into_iter()
    .map(|e| e.client_name)
    .collect()
}

#[tokio::test]
async fn an_engagement_is_created_read_updated_and_archived() {
    with_db(|db| async move {
        let owner = owner(&db).await;
        let form = EngagementForm {
            client_name: " Acme Robotics ".into(),
            system_name: "Fleet API".into(),
            description: "Backend audit before the series A.\nFocus on the job queue.".into(),
            founders: "Ada Founder <ADA@acme.test>\n\nBob Builder <bob@acme.test>".into(),
            team_size: "6".into(),
            stage: "series_a".into(),
            start_date: "2026-11-01".into(),
            due_date: "2026-12-01".into(),
            status: String::new(),
        };
        let created = engagements::create(&db, &owner, &form.parse().expect("a valid form"))
            .await
            .expect("create");
        assert_eq!(created.client_name, "Acme Robotics");
        assert_eq!(created.system_name, "Fleet API");
        assert_eq!(
            created.description,
            "Backend audit before the series A.\nFocus on the job queue."
        );
        assert_eq!(
            created.founders,
            vec![
                Founder {
                    name: "Ada Founder".into(),
                    email: "ada@acme.test".into()
                },
                Founder {
                    name: "Bob Builder".into(),
                    email: "bob@acme.test".into()
                },
            ]
        );
        assert_eq!(created.team_size, Some(6));
        assert_eq!(created.stage, Stage::SeriesA);
        assert_eq!(created.start_date.as_deref(), Some("2026-11-01"));
        assert_eq!(created.due_date.as_deref(), Some("2026-12-01"));
        assert_eq!(created.status, Status::Active);
        assert_eq!(created.created_at, created.updated_at);

        let read = engagements::get(&db, owner.firm_id, created.engagement_id)
            .await
            .expect("get");
        assert_eq!(read, created);

        // Edit through the form, as the edit page does.
        let mut edit = EngagementForm::from_engagement(&read);
        edit.client_name = "Acme Robotics GmbH".into();
        edit.founders = "Carol Chief <carol@acme.test>".into();
        edit.team_size = String::new();
        edit.stage = "series_b".into();
        edit.due_date = String::new();
        edit.status = "on_hold".into();
        let updated = engagements::update(
            &db,
            owner.firm_id,
            created.engagement_id,
            &edit.parse().expect("valid"),
        )
        .await
        .expect("update");
        assert_eq!(updated.engagement_id, created.engagement_id);
        assert_eq!(updated.client_name, "Acme Robotics GmbH");
        assert_eq!(updated.system_name, "Fleet API");
        assert_eq!(
            updated.founders,
            vec![Founder {
                name: "Carol Chief".into(),
                email: "carol@acme.test".into()
            }]
        );
        assert_eq!(updated.team_size, None);
        assert_eq!(updated.stage, Stage::SeriesB);
        assert_eq!(updated.start_date.as_deref(), Some("2026-11-01"));
        assert_eq!(updated.due_date, None);
        assert_eq!(updated.status, Status::OnHold);
        assert_eq!(updated.created_at, created.created_at);
        assert!(updated.updated_at >= created.updated_at);
        assert_eq!(
            engagements::get(&db, owner.firm_id, created.engagement_id)
                .await
                .expect("get"),
            updated
        );

        let archived = engagements::archive(&db, owner.firm_id, created.engagement_id)
            .await
            .expect("archive");
        assert_eq!(archived.status, Status::Archived);
        assert_eq!(archived.client_name, "Acme Robotics GmbH");
        assert_eq!(
            archived.founders, updated.founders,
            "archiving keeps everything"
        );
        assert_eq!(
            engagements::get(&db, owner.firm_id, created.engagement_id)
                .await
                .expect("get"),
            archived
        );
    })
    .await;
}

#[tokio::test]
async fn the_list_is_newest_first_in_keyset_pages() {
    with_db(|db| async move {
        let owner = owner(&db).await;
        let mut created = Vec::new();
        for n in 1..=7 {
            created.push(create(&db, &owner, &format!("Client {n}"), "API").await);
        }
        let newest_first: Vec<i64> = created.iter().rev().copied().collect();

        let mut seen = Vec::new();
        let mut sizes = Vec::new();
        let mut before = None;
        loop {
            let page = list(
                &db,
                &owner,
                EngagementQuery {
                    before,
                    limit: Some(3),
                    ..Default::default()
                },
            )
            .await;
            sizes.push(page.items.len());
            seen.extend(page.items.iter().map(|e| e.engagement_id));
            match page.next_before {
                Some(next) => {
                    assert_eq!(Some(next), page.items.last().map(|e| e.engagement_id));
                    before = Some(next);
                }
                None => break,
            }
            assert!(sizes.len() < 10, "pagination ends");
        }
        assert_eq!(sizes, vec![3, 3, 1]);
        assert_eq!(
            seen, newest_first,
            "newest first, no overlap, nothing missed"
        );
        assert_eq!(seen.iter().collect::<HashSet<_>>().len(), 7);

        // A last page that is exactly full says so: no empty page after it.
        let first_six = list(
            &db,
            &owner,
            EngagementQuery {
                limit: Some(6),
                ..Default::default()
            },
        )
        .await;
        assert_eq!(first_six.items.len(), 6);
        assert_eq!(first_six.next_before, Some(newest_first[5]));
        let all_seven = list(
            &db,
            &owner,
            EngagementQuery {
                limit: Some(7),
                ..Default::default()
            },
        )
        .await;
        assert_eq!(all_seven.items.len(), 7);
        assert_eq!(all_seven.next_before, None);
        let summary = &all_seven.items[0];
        assert_eq!(
            (summary.client_name.as_str(), summary.system_name.as_str()),
            ("Client 7", "API")
        );
        assert_eq!(
            (summary.stage, summary.status),
            (Stage::Seed, Status::Active)
        );
    })
    .await;
}

#[tokio::test]
async fn search_matches_client_or_system_name_and_takes_wildcards_literally() {
    with_db(|db| async move {
        let owner = owner(&db).await;
        create(&db, &owner, "Acme Robotics", "Fleet API").await;
        create(&db, &owner, "Globex", "ACME billing").await;
        create(&db, &owner, "Initech", "Payroll").await;
        create(&db, &owner, "50% Off Ltd", "Shop").await;
        create(&db, &owner, "500 Offers", "Deals").await;
        create(&db, &owner, "Under_score", "Back\\slash").await;
        create(&db, &owner, "Under score", "Slash").await;

        assert_eq!(
            search(&db, &owner, "acme").await,
            vec!["Globex", "Acme Robotics"]
        );
        assert_eq!(search(&db, &owner, "  PAYROLL ").await, vec!["Initech"]);
        assert_eq!(
            search(&db, &owner, "fleet api").await,
            vec!["Acme Robotics"]
        );
        assert_eq!(
            search(&db, &owner, "50%").await,
            vec!["50% Off Ltd"],
            "% is literal"
        );
        assert_eq!(
            search(&db, &owner, "5%0").await,
            Vec::<String>::new(),
            "% is not a wildcard"
        );
        assert_eq!(
            search(&db, &owner, "r_s").await,
            vec!["Under_score"],
            "_ is literal"
        );
        assert_eq!(
            search(&db, &owner, "k\\s").await,
            vec!["Under_score"],
            "\\ is literal"
        );
        assert_eq!(
            search(&db, &owner, "nothing like it").await,
            Vec::<String>::new()
        );
        assert_eq!(
            search(&db, &owner, "   ").await.len(),
            7,
            "a blank search lists everything"
        );
    })
    .await;
}

#[tokio::test]
async fn archived_engagements_are_hidden_unless_asked_for() {
    with_db(|db| async move {
        let owner = owner(&db).await;
        let kept = create(&db, &owner, "Kept", "API").await;
        let archived = create(&db, &owner, "Archived", "API").await;
        engagements::archive(&db, owner.firm_id, archived)
            .await
            .expect("archive");

        let default = list(&db, &owner, EngagementQuery::default()).await;
        assert_eq!(
            default
                .items
                .iter()
                .map(|e| e.engagement_id)
                .collect::<Vec<_>>(),
            vec![kept]
        );
        let everything = list(
            &db,
            &owner,
            EngagementQuery {
                include_archived: true,
                ..Default::default()
            },
        )
        .await;
        assert_eq!(
            everything
                .items
                .iter()
                .map(|e| (e.engagement_id, e.status))
                .collect::<Vec<_>>(),
            vec![(archived, Status::Archived), (kept, Status::Active)]
        );
        let searched = list(
            &db,
            &owner,
            EngagementQuery {
                search: Some("archived".into()),
                ..Default::default()
            },
        )
        .await;
        assert!(
            searched.items.is_empty(),
            "a search does not bring archived ones back"
        );
    })
    .await;
}

#[tokio::test]
async fn another_firm_sees_nothing_and_changes_nothing() {
    with_db(|db| async move {
        let owner = owner(&db).await;
        let stranger = common::owner(&db).await;
        assert_ne!(owner.firm_id, stranger.firm_id);
        let engagement_id = create(&db, &owner, "Acme Robotics", "Fleet API").await;
        let original = engagements::get(&db, owner.firm_id, engagement_id)
            .await
            .expect("get");

        assert!(matches!(
            engagements::get(&db, stranger.firm_id, engagement_id).await,
            Err(Error::NotFound)
        ));
        assert!(matches!(
            engagements::update(
                &db,
                stranger.firm_id,
                engagement_id,
                &fields("Stolen", "Stolen")
            )
            .await,
            Err(Error::NotFound)
        ));
        assert!(matches!(
            engagements::archive(&db, stranger.firm_id, engagement_id).await,
            Err(Error::NotFound)
        ));
        let page = list(
            &db,
            &stranger,
            EngagementQuery {
                include_archived: true,
                ..Default::default()
            },
        )
        .await;
        assert!(page.items.is_empty());
        assert_eq!(page.next_before, None);
        assert!(search(&db, &stranger, "acme").await.is_empty());

        // A consultant of the owner's firm sees the same engagements as the owner.
        let consultant = common::consultant(&db, &owner).await;
        assert_eq!(
            engagements::get(&db, consultant.firm_id, engagement_id)
                .await
                .expect("get"),
            original
        );
        assert_eq!(
            engagements::get(&db, owner.firm_id, engagement_id)
                .await
                .expect("get"),
            original,
            "nothing changed"
        );
        assert!(matches!(
            engagements::get(&db, owner.firm_id, engagement_id + 1000).await,
            Err(Error::NotFound)
        ));
    })
    .await;
}

/// Many writers at once (as 50 founders autosaving are): every write lands, none fails with
/// "database is locked", and a write transaction dropped without commit lets the next one in.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_writers_all_land_and_an_abandoned_write_frees_the_turn() {
    with_db(|db| async move {
        let owner = owner(&db).await;
        {
            // Begun and dropped: rolled back, and on SQLite the write gate is released.
            let _abandoned = db.begin_write().await.expect("a write transaction");
        }
        create_at_once(&db, &owner, 40, "Client", "every concurrent write lands").await;
        let page = list(
            &db,
            &owner,
            EngagementQuery {
                limit: Some(100),
                ..Default::default()
            },
        )
        .await;
        assert_eq!(page.items.len(), 40);
    })
    .await;
}

/// Polls a future once, as the runtime would before the client hung up.
async fn poll_once<F: std::future::Future>(
    mut future: std::pin::Pin<&mut F>,
) -> std::task::Poll<F::Output> {
    std::future::poll_fn(|cx| std::task::Poll::Ready(future.as_mut().poll(cx))).await
}

/// A request cancelled while its write transaction was being opened (a founder's browser that
/// closes mid-autosave) must leave no transaction open on a pooled connection. On SQLite such a
/// connection held the database's write lock until the process restarted: every later write
/// failed with "database is locked", or with "begin_with at non-zero transaction depth" when
/// it drew that connection.
#[tokio::test]
async fn a_write_cancelled_while_it_begins_leaves_no_transaction_behind() {
    with_db(|db| async move {
        let owner = owner(&db).await;
        for attempt in 0..30 {
            let mut begin = Box::pin(db.begin_write());
            // Given up after one, two or three polls, with the database answering in between:
            // each is a point where the client can be gone.
            for _ in 0..=attempt % 3 {
                if poll_once(begin.as_mut()).await.is_ready() {
                    break;
                }
                tokio::time::sleep(std::time::Duration::from_millis(5)).await;
            }
            drop(begin);
        }
        // More writers than pooled connections: each connection is drawn, and each write lands.
        create_at_once(
            &db,
            &owner,
            24,
            "After",
            "no connection is left inside a transaction",
        )
        .await;
    })
    .await;
}

/// Creates `count` engagements from as many tasks at once; each must land (`why` says why).
async fn create_at_once(db: &Db, owner: &Member, count: usize, client: &str, why: &str) {
    let mut writers = tokio::task::JoinSet::new();
    for n in 0..count {
        let (db, owner, name) = (db.clone(), owner.clone(), format!("{client} {n}"));
        writers.spawn(async move { engagements::create(&db, &owner, &fields(&name, "API")).await });
    }
    while let Some(done) = writers.join_next().await {
        done.expect("the writer ran").expect(why);
    }
}
