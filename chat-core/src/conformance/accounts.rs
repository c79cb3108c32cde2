//! Scenarios for agents, visitors and sessions.

use std::sync::Arc;

use chrono::Duration;

use crate::accounts::{Customer, Permissions, SessionSubject, TokenHash};
use crate::authz::Principal;
use crate::conformance::fixtures::{admin, engine};
use crate::engine::{NewAdmin, NewVisitor};
use crate::error::Error;
use crate::ids::CustomerId;
use crate::store::DynChatStore;
use crate::values::{DisplayName, Email, Metadata, VisitorIdentifier};

/// Emails are unique whatever their case, on create and on update, and lookups ignore case.
pub async fn admin_email_is_unique_case_insensitively(store: Arc<DynChatStore>) {
    let engine = engine(store.clone());
    let new = |email: &str| NewAdmin {
        email: Email::parse(email).expect("email"),
        name: DisplayName::parse("Agent").expect("name"),
        password_hash: "$argon2id$placeholder".into(),
        permissions: Permissions::default(),
    };
    let first = engine
        .create_admin(&Principal::System, new("Alice@Example.COM"))
        .await
        .expect("create");
    assert_eq!(first.email.as_str(), "alice@example.com");
    let clash = engine
        .create_admin(&Principal::System, new("ALICE@example.com"))
        .await;
    assert!(
        matches!(clash, Err(Error::AlreadyExists(_))),
        "got {clash:?}"
    );
    let found = store
        .find_admin_by_email(&Email::parse(" alice@EXAMPLE.com ").expect("email"))
        .await
        .expect("find");
    assert_eq!(found.map(|a| a.id), Some(first.id));

    let second = engine
        .create_admin(&Principal::System, new("bob@example.com"))
        .await
        .expect("create");
    let mut renamed = second.clone();
    renamed.email = Email::parse("Alice@example.com").expect("email");
    assert!(matches!(
        store.update_admin(&renamed).await,
        Err(Error::AlreadyExists(_))
    ));
    renamed.email = Email::parse("robert@example.com").expect("email");
    store.update_admin(&renamed).await.expect("rename");
    let bob = Email::parse("bob@example.com").expect("email");
    assert!(
        store
            .find_admin_by_email(&bob)
            .await
            .expect("find")
            .is_none(),
        "old email still resolves"
    );
    engine
        .create_admin(&Principal::System, new("bob@example.com"))
        .await
        .expect("freed email is reusable");
    let ids: Vec<_> = store
        .list_admins()
        .await
        .expect("list")
        .into_iter()
        .map(|a| a.id)
        .collect();
    assert_eq!(ids.len(), 3);
    assert_eq!(ids[..2], [first.id, second.id], "oldest first");
}

/// A verified identifier finds the same visitor again; identifiers are unique.
pub async fn customer_lookup_by_identifier(store: Arc<DynChatStore>) {
    let engine = engine(store.clone());
    let identifier = VisitorIdentifier::parse("user-42").expect("identifier");
    let verified = NewVisitor {
        verified_identifier: Some(identifier.clone()),
        ..NewVisitor::default()
    };
    let first = engine
        .create_visitor(&Principal::Anonymous, verified.clone())
        .await
        .expect("visitor");
    let again = engine
        .create_visitor(&Principal::Anonymous, verified)
        .await
        .expect("visitor");
    assert_eq!(again.id, first.id);
    assert!(first.verified);
    let anonymous = engine
        .create_visitor(&Principal::Anonymous, NewVisitor::default())
        .await
        .expect("visitor");
    assert_ne!(anonymous.id, first.id);
    assert!(!anonymous.verified && anonymous.identifier.is_none());

    let found = store
        .find_customer_by_identifier(&identifier)
        .await
        .expect("find");
    assert_eq!(found, Some(first.clone()));
    assert_eq!(
        store.get_customer(first.id).await.expect("get"),
        Some(first.clone())
    );
    let clash = Customer {
        id: CustomerId::new(),
        location_data: Metadata::default(),
        ..first
    };
    assert!(matches!(
        store.create_customer(&clash).await,
        Err(Error::AlreadyExists(_))
    ));
}

/// Sessions resolve to their principal until they expire, are revoked, or their agent is
/// disabled.
pub async fn sessions_expire_and_revoke(store: Arc<DynChatStore>) {
    let engine = engine(store.clone());
    let agent = admin(&engine, "sessions", Permissions::default()).await;
    let Principal::Admin { id, .. } = agent else {
        unreachable!()
    };
    let (live, expired, other) = (TokenHash([1; 32]), TokenHash([2; 32]), TokenHash([3; 32]));
    engine
        .open_session(SessionSubject::Admin(id), live, Duration::hours(1))
        .await
        .expect("open");
    engine
        .open_session(SessionSubject::Admin(id), expired, Duration::seconds(-1))
        .await
        .expect("open");
    engine
        .open_session(SessionSubject::Admin(id), other, Duration::hours(1))
        .await
        .expect("open");
    let taken = engine
        .open_session(SessionSubject::Admin(id), live, Duration::hours(1))
        .await;
    assert!(
        matches!(taken, Err(Error::AlreadyExists(_))),
        "got {taken:?}"
    );

    assert_eq!(engine.authenticate(&live).await.expect("auth"), agent);
    assert!(matches!(
        engine.authenticate(&expired).await,
        Err(Error::Unauthenticated)
    ));
    assert!(
        store.get_session(&expired).await.expect("get").is_none(),
        "expired session not removed"
    );
    assert!(matches!(
        engine.authenticate(&TokenHash([9; 32])).await,
        Err(Error::Unauthenticated)
    ));

    assert!(engine.revoke_session(&live).await.expect("revoke"));
    assert!(matches!(
        engine.authenticate(&live).await,
        Err(Error::Unauthenticated)
    ));
    engine
        .authenticate(&other)
        .await
        .expect("other session unaffected");
    engine
        .set_admin_disabled(&Principal::System, id, true)
        .await
        .expect("disable");
    assert!(matches!(
        engine.authenticate(&other).await,
        Err(Error::Unauthenticated)
    ));
    assert!(
        store.get_session(&other).await.expect("get").is_none(),
        "disabling must end sessions"
    );
    assert_eq!(store.delete_admin_sessions(id).await.expect("delete"), 0);

    let customer = engine
        .create_visitor(&Principal::Anonymous, NewVisitor::default())
        .await
        .expect("visitor");
    let token = TokenHash([4; 32]);
    engine
        .open_session(
            SessionSubject::Visitor(customer.id),
            token,
            Duration::days(30),
        )
        .await
        .expect("open");
    assert_eq!(
        engine.authenticate(&token).await.expect("auth"),
        Principal::Visitor(customer.id)
    );
}
