//! Scenarios for agents, visitors and sessions.

use std::sync::Arc;

use chrono::Duration;

use crate::accounts::{AdminChanges, Customer, Permissions, SessionSubject, TokenHash};
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
    let rename = |email: &str| AdminChanges {
        email: Some(Email::parse(email).expect("email")),
        ..AdminChanges::default()
    };
    assert!(matches!(
        store
            .update_admin(second.id, &rename("Alice@example.com"))
            .await,
        Err(Error::AlreadyExists(_))
    ));
    let renamed = store
        .update_admin(second.id, &rename("robert@example.com"))
        .await
        .expect("rename");
    assert_eq!(renamed.email.as_str(), "robert@example.com");
    assert_eq!(renamed.name, second.name, "an unnamed field changed");
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

/// Updates of different fields racing each other all stick: disabling never brings back
/// old permissions, a new password never brings back an old `disabled` (and the reverse).
pub async fn concurrent_admin_updates_keep_every_field(store: Arc<DynChatStore>) {
    let engine = engine(store.clone());
    let agent = admin(&engine, "raced", Permissions::default()).await;
    let Principal::Admin { id, .. } = agent else {
        unreachable!()
    };
    let narrow = Permissions {
        scope: crate::accounts::ConversationScope::Assigned,
        ..Permissions::default()
    };
    for round in 0..20 {
        let changes = [
            AdminChanges {
                disabled: Some(round % 2 == 0),
                ..AdminChanges::default()
            },
            AdminChanges {
                permissions: Some(if round % 2 == 0 {
                    narrow
                } else {
                    Permissions::default()
                }),
                ..AdminChanges::default()
            },
            AdminChanges {
                password_hash: Some(format!("hash-{round}")),
                ..AdminChanges::default()
            },
        ];
        let racing: Vec<_> = changes
            .into_iter()
            .map(|change| {
                let store = store.clone();
                tokio::spawn(async move { store.update_admin(id, &change).await })
            })
            .collect();
        for update in racing {
            update.await.expect("task").expect("update");
        }
        let stored = store.get_admin(id).await.expect("get").expect("exists");
        assert_eq!(stored.disabled, round % 2 == 0, "round {round}");
        let expected = if round % 2 == 0 {
            narrow
        } else {
            Permissions::default()
        };
        assert_eq!(stored.permissions, expected, "round {round}");
        assert_eq!(
            stored.password_hash,
            format!("hash-{round}"),
            "round {round}"
        );
    }
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

/// A blocked visitor's sessions are refused with `VisitorBlocked` (and work again once
/// unblocked); the blocked list holds exactly the blocked visitors, newest first; blocking
/// again keeps the first time; only agents with `manage_conversations` may block.
pub async fn blocked_visitors_are_refused_and_listed(store: Arc<DynChatStore>) {
    let engine = engine(store.clone());
    let lead = admin(&engine, "blocker", Permissions::default()).await;
    let viewer = admin(
        &engine,
        "viewer",
        Permissions {
            manage_conversations: false,
            ..Permissions::default()
        },
    )
    .await;
    let mut visitors = Vec::new();
    for n in 0..3u8 {
        let customer = engine
            .create_visitor(&Principal::Anonymous, NewVisitor::default())
            .await
            .expect("visitor");
        let token = TokenHash([10 + n; 32]);
        engine
            .open_session(
                SessionSubject::Visitor(customer.id),
                token,
                Duration::days(1),
            )
            .await
            .expect("open");
        visitors.push((customer.id, token));
    }
    let (first, first_token) = visitors[0];
    let (second, _) = visitors[1];
    let (third, third_token) = visitors[2];

    let refused = engine.block_visitor(&viewer, first).await;
    assert!(
        matches!(refused, Err(Error::PermissionDenied(_))),
        "{refused:?}"
    );
    let by_visitor = engine
        .block_visitor(&Principal::Visitor(third), first)
        .await;
    assert!(
        matches!(by_visitor, Err(Error::PermissionDenied(_))),
        "{by_visitor:?}"
    );
    let missing = engine.block_visitor(&lead, CustomerId::new()).await;
    assert!(matches!(missing, Err(Error::NotFound(_))), "{missing:?}");

    let blocked = engine.block_visitor(&lead, first).await.expect("block");
    let since = blocked.blocked_at.expect("blocked_at");
    engine.block_visitor(&lead, second).await.expect("block");
    let again = engine
        .block_visitor(&lead, first)
        .await
        .expect("block again");
    assert_eq!(
        again.blocked_at,
        Some(since),
        "blocking again keeps the first time"
    );
    assert!(matches!(
        engine.authenticate(&first_token).await,
        Err(Error::VisitorBlocked)
    ));
    // A connection authenticated before the block still holds a visitor principal: what it
    // sends is refused all the same, and nothing is stored.
    let stale = Principal::Visitor(first);
    let start = engine
        .start_conversation(&stale, crate::engine::StartConversation::default())
        .await;
    assert!(matches!(start, Err(Error::VisitorBlocked)), "{start:?}");
    assert_eq!(
        engine.authenticate(&third_token).await.expect("auth"),
        Principal::Visitor(third)
    );
    let listed: Vec<CustomerId> = engine
        .blocked_visitors(&viewer)
        .await
        .expect("list")
        .iter()
        .map(|c| c.id)
        .collect();
    assert_eq!(listed, [second, first], "most recently blocked first");
    let listing = engine.blocked_visitors(&Principal::Visitor(third)).await;
    assert!(
        matches!(listing, Err(Error::PermissionDenied(_))),
        "{listing:?}"
    );

    let unblocked = engine.unblock_visitor(&lead, first).await.expect("unblock");
    assert_eq!(unblocked.blocked_at, None);
    assert_eq!(
        engine.authenticate(&first_token).await.expect("auth"),
        Principal::Visitor(first)
    );
    let listed = engine.blocked_visitors(&lead).await.expect("list");
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].id, second);
    let stored = store.get_customer(first).await.expect("get").expect("row");
    assert_eq!(stored.blocked_at, None);
}
