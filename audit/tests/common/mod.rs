//! Helpers shared by the integration tests. Every test gets a fresh database on the backend
//! `TEST_DATABASE_URL` selects (SQLite when unset), so tests never depend on each other.
#![allow(dead_code)]

use std::future::Future;

use audit::accounts::{self, Member, SignUpForm};
use audit::db::{Backend, Db};
use audit::fields::{EmailAddress, Password};
use audit::mail;
use audit::testing::TestDb;

/// A password every test account uses (long enough for the 12-character rule).
pub const PASSWORD: &str = "correct horse battery staple";

/// Runs `body` against a fresh, migrated database and removes that database afterwards, also when
/// the body panics (the panic is then passed on, so the test still fails with its own message).
pub async fn with_db<F, Fut>(body: F)
where
    F: FnOnce(Db) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let test_db = TestDb::new().await.expect("a fresh test database");
    let outcome = tokio::spawn(body(test_db.db.clone())).await;
    test_db.drop_database().await;
    if let Err(error) = outcome {
        match error.try_into_panic() {
            Ok(panic) => std::panic::resume_unwind(panic),
            Err(error) => panic!("test body did not finish: {error}"),
        }
    }
}

pub fn is_postgres(db: &Db) -> bool {
    db.backend() == Backend::Postgres
}

pub use audit::testing::unique;

pub fn email(raw: &str) -> EmailAddress {
    EmailAddress::parse("email", raw).expect("a valid e-mail address")
}

pub fn password() -> Password {
    Password::parse("password", PASSWORD).expect("a valid password")
}

/// Signs up a firm with its owner, as the sign-up form would.
pub async fn sign_up(db: &Db, firm_name: &str, email: &str) -> audit::error::Result<Member> {
    let form = SignUpForm {
        firm_name: firm_name.to_owned(),
        display_name: "Olive Owner".to_owned(),
        email: email.to_owned(),
        password: PASSWORD.to_owned(),
    };
    let sign_up = form.parse().expect("a valid sign-up form");
    accounts::sign_up(db, &sign_up).await
}

/// The owner of a new firm with a unique e-mail address.
pub async fn owner(db: &Db) -> Member {
    let name = unique("firm");
    sign_up(
        db,
        &format!("Firm {name}"),
        &format!("owner-{name}@example.com"),
    )
    .await
    .expect("sign-up of a new firm")
}

/// The invitation token sent to `to` (it is only ever written into the invitation e-mail).
pub async fn invitation_token(db: &Db, firm_id: i64, to: &str) -> String {
    let outbox = mail::list_outbox(db, firm_id, None, 200)
        .await
        .expect("the firm's outbox");
    let message = outbox
        .iter()
        .find(|m| m.to_address == to)
        .unwrap_or_else(|| panic!("an invitation mail to {to} in {outbox:?}"));
    token_in(&message.body_text)
}

/// The token of the first `/join/<token>` link in a text.
pub fn token_in(text: &str) -> String {
    let start = text.find("/join/").expect("a /join/ link in the mail") + "/join/".len();
    text[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect()
}

/// A consultant of `owner`'s firm: invited by the owner, invitation accepted.
pub async fn consultant(db: &Db, owner: &Member) -> Member {
    let address = format!("{}@example.com", unique("consultant-"));
    accounts::invite_member(db, owner, &email(&address), "http://localhost:3000")
        .await
        .expect("the owner invites a consultant");
    let token = invitation_token(db, owner.firm_id, &address).await;
    accounts::accept_invitation(db, &token, "Connie Consultant", &password())
        .await
        .expect("the consultant accepts the invitation")
}
