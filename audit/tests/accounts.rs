//! Accounts on the backend `TEST_DATABASE_URL` selects: sign-up, log-in, invitations and API tokens.
mod common;

use audit::accounts::{self, Role, WRONG_CREDENTIALS};
use audit::clock::now_ms;
use audit::db::Db;
use audit::mail;
use audit::Error;

use common::{email, invitation_token, owner, password, sign_up, unique, with_db, PASSWORD};

async fn count(db: &Db, table: &str) -> i64 {
    sqlx::query_scalar(&format!("select count(*) from {table}"))
        .fetch_one(db.pool())
        .await
        .expect("count rows")
}

fn unauthenticated_message(result: audit::error::Result<accounts::Member>) -> String {
    match result {
        Err(Error::Unauthenticated(message)) => message,
        other => panic!("expected Unauthenticated, got {other:?}"),
    }
}

#[tokio::test]
async fn sign_up_creates_a_firm_and_its_owner() {
    with_db(|db| async move {
        let member = sign_up(&db, "  Lovelace & Partners ", "  Olive@Example.COM ")
            .await
            .expect("sign-up");
        assert_eq!(member.firm_name, "Lovelace & Partners");
        assert_eq!(member.email, "olive@example.com");
        assert_eq!(member.display_name, "Olive Owner");
        assert_eq!(member.role, Role::Owner);
        assert!(member.is_owner());
        assert_eq!(count(&db, "firms").await, 1);

        let members = accounts::list_members(&db, member.firm_id)
            .await
            .expect("members");
        assert_eq!(members, vec![member.clone()]);
        let found = accounts::member_by_email(&db, &email("OLIVE@example.com"))
            .await
            .expect("lookup");
        assert_eq!(found, Some(member));
    })
    .await;
}

#[tokio::test]
async fn a_second_sign_up_with_the_same_email_is_a_conflict_on_email() {
    with_db(|db| async move {
        sign_up(&db, "First Firm", "olive@example.com")
            .await
            .expect("first sign-up");
        let second = sign_up(&db, "Second Firm", "OLIVE@Example.com").await;
        match second {
            Err(Error::Conflict { field, message }) => {
                assert_eq!(field.as_deref(), Some("email"));
                assert!(!message.is_empty());
            }
            other => panic!("expected a conflict on email, got {other:?}"),
        }
        assert_eq!(
            count(&db, "firms").await,
            1,
            "the second firm was rolled back"
        );
        assert_eq!(count(&db, "users").await, 1);
    })
    .await;
}

#[tokio::test]
async fn authenticate_accepts_the_password_and_refuses_everything_else_alike() {
    with_db(|db| async move {
        let owner = owner(&db).await;
        let logged_in = accounts::authenticate(&db, &owner.email.to_uppercase(), PASSWORD)
            .await
            .expect("the right password logs in, whatever the e-mail's case");
        assert_eq!(logged_in, owner);

        let wrong_password = unauthenticated_message(
            accounts::authenticate(&db, &owner.email, "not the password at all").await,
        );
        let unknown_email = unauthenticated_message(
            accounts::authenticate(&db, "nobody@example.com", PASSWORD).await,
        );
        let not_an_email =
            unauthenticated_message(accounts::authenticate(&db, "nobody", PASSWORD).await);
        assert_eq!(
            wrong_password, unknown_email,
            "neither gives the other away"
        );
        assert_eq!(wrong_password, not_an_email);
        assert_eq!(wrong_password, WRONG_CREDENTIALS);
    })
    .await;
}

#[tokio::test]
async fn an_invited_consultant_joins_the_owners_firm_once() {
    with_db(|db| async move {
        let owner = owner(&db).await;
        let address = format!("{}@example.com", unique("consultant-"));
        let invitation = accounts::invite_member(
            &db,
            &owner,
            &email(&address.to_uppercase()),
            "http://localhost:3000/",
        )
        .await
        .expect("the owner invites");
        assert_eq!(invitation.email, address);
        assert_eq!(invitation.accepted_at, None);
        assert!(invitation.expires_at > now_ms());

        // The invitation mail waits in the outbox, with its delivery job.
        let outbox = mail::list_outbox(&db, owner.firm_id, None, 10)
            .await
            .expect("outbox");
        assert_eq!(outbox.len(), 1);
        assert_eq!(outbox[0].to_address, address);
        assert_eq!(outbox[0].status, "queued");
        assert!(outbox[0]
            .body_text
            .contains("http://localhost:3000/join/inv_"));
        assert_eq!(
            audit::jobs::count_by_status(&db).await.expect("jobs"),
            vec![("queued".to_owned(), 1)]
        );

        let token = invitation_token(&db, owner.firm_id, &address).await;
        let preview = accounts::preview_invitation(&db, &token)
            .await
            .expect("preview");
        assert_eq!(preview.firm_name, owner.firm_name);
        assert_eq!(preview.email, address);

        let consultant = accounts::accept_invitation(&db, &token, "Connie Consultant", &password())
            .await
            .expect("accept");
        assert_eq!(consultant.firm_id, owner.firm_id);
        assert_eq!(consultant.firm_name, owner.firm_name);
        assert_eq!(consultant.email, address);
        assert_eq!(consultant.display_name, "Connie Consultant");
        assert_eq!(consultant.role, Role::Consultant);
        assert!(!consultant.is_owner());
        let logged_in = accounts::authenticate(&db, &address, PASSWORD)
            .await
            .expect("log-in");
        assert_eq!(logged_in, consultant);

        let members = accounts::list_members(&db, owner.firm_id)
            .await
            .expect("members");
        assert_eq!(members, vec![owner.clone(), consultant.clone()]);
        let invitations = accounts::list_member_invitations(&db, owner.firm_id)
            .await
            .expect("invitations");
        assert_eq!(invitations.len(), 1);
        assert!(invitations[0].accepted_at.is_some());

        // The link works once.
        match accounts::accept_invitation(&db, &token, "Someone Else", &password()).await {
            Err(Error::Conflict { .. }) => {}
            other => panic!("a second accept is a conflict, got {other:?}"),
        }
        assert!(matches!(
            accounts::preview_invitation(&db, &token).await,
            Err(Error::Conflict { .. })
        ));
        assert_eq!(count(&db, "users").await, 2);

        // An address that already has an account cannot be invited again.
        match accounts::invite_member(&db, &owner, &email(&address), "http://localhost:3000").await
        {
            Err(Error::Conflict { field, .. }) => assert_eq!(field.as_deref(), Some("email")),
            other => panic!("inviting a member again is a conflict, got {other:?}"),
        }
    })
    .await;
}

#[tokio::test]
async fn a_consultant_cannot_invite() {
    with_db(|db| async move {
        let owner = owner(&db).await;
        let consultant = common::consultant(&db, &owner).await;
        let outbox_before = mail::list_outbox(&db, owner.firm_id, None, 50)
            .await
            .expect("outbox")
            .len();
        match accounts::invite_member(
            &db,
            &consultant,
            &email("friend@example.com"),
            "http://localhost:3000",
        )
        .await
        {
            Err(Error::Forbidden(_)) => {}
            other => panic!("a consultant's invitation is forbidden, got {other:?}"),
        }
        assert_eq!(
            count(&db, "member_invitations").await,
            1,
            "only the owner's invitation"
        );
        assert_eq!(
            mail::list_outbox(&db, owner.firm_id, None, 50)
                .await
                .expect("outbox")
                .len(),
            outbox_before
        );
    })
    .await;
}

#[tokio::test]
async fn an_expired_or_unknown_invitation_cannot_be_used() {
    with_db(|db| async move {
        let owner = owner(&db).await;
        let invitation = accounts::invite_member(
            &db,
            &owner,
            &email("late@example.com"),
            "http://localhost:3000",
        )
        .await
        .expect("invite");
        let token = invitation_token(&db, owner.firm_id, "late@example.com").await;
        sqlx::query(
            "update member_invitations set expires_at = $1 where member_invitation_id = $2",
        )
        .bind(now_ms() - 1_000)
        .bind(invitation.member_invitation_id)
        .execute(db.pool())
        .await
        .expect("expire the invitation");

        assert!(matches!(
            accounts::preview_invitation(&db, &token).await,
            Err(Error::Conflict { .. })
        ));
        match accounts::accept_invitation(&db, &token, "Late Larry", &password()).await {
            Err(Error::Conflict { message, .. }) => {
                assert!(message.contains("expired"), "{message}")
            }
            other => panic!("an expired invitation is a conflict, got {other:?}"),
        }
        assert_eq!(count(&db, "users").await, 1, "no account was created");

        let unknown = format!("inv_{}", "0".repeat(64));
        assert!(matches!(
            accounts::preview_invitation(&db, &unknown).await,
            Err(Error::NotFound)
        ));
        assert!(matches!(
            accounts::accept_invitation(&db, &unknown, "Nobody", &password()).await,
            Err(Error::NotFound)
        ));
    })
    .await;
}

#[tokio::test]
async fn api_tokens_find_their_member_until_revoked() {
    with_db(|db| async move {
        let owner = owner(&db).await;
        let other = common::owner(&db).await;
        let (secret, token) = accounts::create_api_token(&db, &owner, "  CI pipeline ")
            .await
            .expect("create a token");
        assert!(secret.starts_with("plb_"), "{secret}");
        assert_eq!(secret.len(), "plb_".len() + 64);
        assert_eq!(token.name, "CI pipeline");
        assert_eq!(token.last_used_at, None);
        let stored: String = sqlx::query_scalar("select token_hash from api_tokens")
            .fetch_one(db.pool())
            .await
            .expect("the stored token");
        assert_ne!(stored, secret, "only a hash of the secret is kept");
        assert!(matches!(
            accounts::create_api_token(&db, &owner, "   ").await,
            Err(Error::Invalid(_))
        ));

        let found = accounts::member_by_api_token(&db, &secret)
            .await
            .expect("lookup");
        assert_eq!(found, Some(owner.clone()));
        let listed = accounts::list_api_tokens(&db, &owner)
            .await
            .expect("tokens");
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].api_token_id, token.api_token_id);
        assert!(listed[0].last_used_at.is_some(), "use is recorded");
        assert!(accounts::list_api_tokens(&db, &other)
            .await
            .expect("tokens")
            .is_empty());

        let wrong = format!("plb_{}", "f".repeat(64));
        assert_eq!(
            accounts::member_by_api_token(&db, &wrong)
                .await
                .expect("lookup"),
            None
        );

        // Only the token's own member can revoke it.
        assert!(matches!(
            accounts::revoke_api_token(&db, &other, token.api_token_id).await,
            Err(Error::NotFound)
        ));
        assert!(accounts::member_by_api_token(&db, &secret)
            .await
            .expect("lookup")
            .is_some());

        accounts::revoke_api_token(&db, &owner, token.api_token_id)
            .await
            .expect("revoke");
        assert_eq!(
            accounts::member_by_api_token(&db, &secret)
                .await
                .expect("lookup"),
            None
        );
        assert!(accounts::list_api_tokens(&db, &owner)
            .await
            .expect("tokens")
            .is_empty());
        assert!(matches!(
            accounts::revoke_api_token(&db, &owner, token.api_token_id).await,
            Err(Error::NotFound)
        ));
    })
    .await;
}
