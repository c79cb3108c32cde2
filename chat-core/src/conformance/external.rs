//! Scenarios for sign-in by the host application: provisioning on first sight, the profile
//! following every sign-in, linking, refusals, and a demotion reaching live connections.

use std::sync::Arc;

use chrono::{Duration, Utc};
use futures_util::StreamExt;

use crate::accounts::{Admin, AdminChanges, ConversationScope, Permissions, TokenHash};
use crate::authz::Principal;
use crate::broadcast::{Delivery, Signal};
use crate::conformance::fixtures::engine;
use crate::engine::{ChatEngine, ExternalAgent, ExternalIdentity, ExternalVisitor, NewAdmin};
use crate::error::Error;
use crate::ids::AdminId;
use crate::store::DynChatStore;
use crate::values::{DisplayName, Email, ExternalId, VisitorIdentifier};

fn agent(id: &str, name: &str, email: &str, permissions: Option<Permissions>) -> ExternalIdentity {
    ExternalIdentity::Agent(ExternalAgent {
        id: ExternalId::parse(id).expect("external id"),
        name: DisplayName::parse(name).expect("name"),
        email: Email::parse(email).expect("email"),
        permissions,
    })
}

fn visitor(id: &str, name: Option<&str>, email: Option<&str>) -> ExternalIdentity {
    ExternalIdentity::Visitor(ExternalVisitor {
        id: VisitorIdentifier::parse(id).expect("identifier"),
        name: name.map(|name| DisplayName::parse(name).expect("name")),
        email: email.map(|email| Email::parse(email).expect("email")),
    })
}

/// Signs `identity` in under a fresh token valid for an hour; the token's hash and the
/// principal.
async fn sign_in(
    engine: &ChatEngine,
    identity: &ExternalIdentity,
) -> (TokenHash, crate::Result<Principal>) {
    let token = fresh_token();
    let until = Utc::now() + Duration::hours(1);
    (token, engine.sign_in_external(identity, token, until).await)
}

fn fresh_token() -> TokenHash {
    let mut bytes = [0; 32];
    bytes[..16].copy_from_slice(uuid::Uuid::new_v4().as_bytes());
    bytes[16..].copy_from_slice(uuid::Uuid::new_v4().as_bytes());
    TokenHash(bytes)
}

fn admin_id(principal: &Principal) -> AdminId {
    match principal {
        Principal::Admin { id, .. } => *id,
        other => panic!("expected an agent, got {other:?}"),
    }
}

async fn stored_admin(store: &DynChatStore, id: AdminId) -> Admin {
    store.get_admin(id).await.expect("read").expect("agent")
}

/// An agent and a visitor are created on first sight, keyed by the host's id, and their
/// name, email and permissions follow every later sign-in; a sign-in without permissions
/// keeps the ones the agent has. Each sign-in's token then works like a session's.
pub async fn host_sign_in_provisions_and_follows_the_host(store: Arc<DynChatStore>) {
    let engine = engine(store.clone());
    let narrow = Permissions {
        scope: ConversationScope::Assigned,
        manage_conversations: false,
        ..Permissions::default()
    };
    let (first_token, first) = sign_in(&engine, &agent("u-1", "Ann", "ann@host.test", None)).await;
    let id = admin_id(&first.expect("first sign-in"));
    let created = stored_admin(store.as_ref(), id).await;
    assert_eq!(created.permissions, Permissions::default());
    assert_eq!(
        created.external_id.as_ref().map(ExternalId::as_str),
        Some("u-1")
    );
    let external = ExternalId::parse("u-1").expect("external id");
    let found = store
        .find_admin_by_external_id(&external)
        .await
        .expect("find");
    assert_eq!(found.map(|admin| admin.id), Some(id));

    let renamed = agent("u-1", "Ann B", "ann.b@host.test", Some(narrow));
    let (_, second) = sign_in(&engine, &renamed).await;
    assert_eq!(
        second.expect("second sign-in"),
        Principal::Admin {
            id,
            permissions: narrow
        }
    );
    let updated = stored_admin(store.as_ref(), id).await;
    assert_eq!(updated.name.as_str(), "Ann B");
    assert_eq!(updated.email.as_str(), "ann.b@host.test");
    // The earlier token's session reads the agent as it is now.
    let now = engine
        .authenticate(&first_token)
        .await
        .expect("first token");
    assert_eq!(
        now,
        Principal::Admin {
            id,
            permissions: narrow
        }
    );

    let (_, third) = sign_in(&engine, &agent("u-1", "Ann B", "ann.b@host.test", None)).await;
    assert_eq!(
        third.expect("third sign-in"),
        Principal::Admin {
            id,
            permissions: narrow
        }
    );
    assert_eq!(store.list_admins().await.expect("list").len(), 1);

    let (_, guest) = sign_in(&engine, &visitor("c-9", Some("Carl"), Some("carl@x.test"))).await;
    let Principal::Visitor(customer) = guest.expect("visitor sign-in") else {
        panic!("expected a visitor");
    };
    let stored = store
        .get_customer(customer)
        .await
        .expect("read")
        .expect("visitor");
    assert!(stored.verified);
    assert_eq!(stored.name.as_ref().map(DisplayName::as_str), Some("Carl"));
    let address = stored
        .contact
        .as_ref()
        .map(|contact| contact.email.as_str());
    assert_eq!(address, Some("carl@x.test"));
    let (_, again) = sign_in(
        &engine,
        &visitor("c-9", Some("Carla"), Some("carla@x.test")),
    )
    .await;
    assert_eq!(again.expect("again"), Principal::Visitor(customer));
    let stored = store
        .get_customer(customer)
        .await
        .expect("read")
        .expect("visitor");
    assert_eq!(stored.name.as_ref().map(DisplayName::as_str), Some("Carla"));
    let address = stored
        .contact
        .as_ref()
        .map(|contact| contact.email.as_str());
    assert_eq!(address, Some("carla@x.test"));
    // The host's id is the widget's verified identifier: the same visitor.
    let identifier = VisitorIdentifier::parse("c-9").expect("identifier");
    let by_identifier = store
        .find_customer_by_identifier(&identifier)
        .await
        .expect("find");
    assert_eq!(by_identifier.map(|c| c.id), Some(customer));
}

/// An agent of the same email that no host id names yet is linked, not duplicated; an
/// email held by another host id's agent, a disabled agent, a blocked visitor and an
/// expired credential are refused with no session opened; external ids are unique.
pub async fn host_sign_in_links_and_refuses(store: Arc<DynChatStore>) {
    let engine = engine(store.clone());
    let existing = engine
        .create_admin(
            &Principal::System,
            NewAdmin {
                email: Email::parse("owner@host.test").expect("email"),
                name: DisplayName::parse("Owner").expect("name"),
                password_hash: "$argon2id$placeholder".into(),
                permissions: Permissions::OWNER,
            },
        )
        .await
        .expect("create");
    let (_, linked) = sign_in(&engine, &agent("o-1", "Owner", "owner@host.test", None)).await;
    assert_eq!(admin_id(&linked.expect("linked")), existing.id);
    let stored = stored_admin(store.as_ref(), existing.id).await;
    assert_eq!(
        stored.external_id.as_ref().map(ExternalId::as_str),
        Some("o-1")
    );
    assert_eq!(
        stored.permissions,
        Permissions::OWNER,
        "no permissions claim: kept"
    );

    let (token, taken) = sign_in(&engine, &agent("o-2", "Other", "owner@host.test", None)).await;
    assert!(
        matches!(taken, Err(Error::AlreadyExists(_))),
        "got {taken:?}"
    );
    assert!(matches!(
        engine.authenticate(&token).await,
        Err(Error::Unauthenticated)
    ));

    engine
        .set_admin_disabled(&Principal::System, existing.id, true)
        .await
        .expect("disable");
    let (token, disabled) = sign_in(&engine, &agent("o-1", "Owner", "owner@host.test", None)).await;
    assert!(
        matches!(disabled, Err(Error::Unauthenticated)),
        "got {disabled:?}"
    );
    assert!(matches!(
        engine.authenticate(&token).await,
        Err(Error::Unauthenticated)
    ));

    let guest = visitor("v-1", None, None);
    let (_, first) = sign_in(&engine, &guest).await;
    let Principal::Visitor(customer) = first.expect("visitor") else {
        panic!("expected a visitor");
    };
    let agent_principal =
        crate::conformance::fixtures::admin(&engine, "blocker", Permissions::OWNER).await;
    engine
        .block_visitor(&agent_principal, customer)
        .await
        .expect("block");
    let (token, blocked) = sign_in(&engine, &guest).await;
    assert!(
        matches!(blocked, Err(Error::VisitorBlocked)),
        "got {blocked:?}"
    );
    assert!(matches!(
        engine.authenticate(&token).await,
        Err(Error::Unauthenticated)
    ));

    let token = fresh_token();
    let past = Utc::now() - Duration::seconds(1);
    let expired = engine
        .sign_in_external(&agent("e-1", "E", "e@host.test", None), token, past)
        .await;
    assert!(
        matches!(expired, Err(Error::Unauthenticated)),
        "got {expired:?}"
    );
    let e1 = ExternalId::parse("e-1").expect("external id");
    assert!(
        store
            .find_admin_by_external_id(&e1)
            .await
            .expect("find")
            .is_none()
    );

    let (_, second) = sign_in(&engine, &agent("x-2", "X", "x2@host.test", None)).await;
    let second = admin_id(&second.expect("x-2"));
    let relink = AdminChanges {
        external_id: Some(ExternalId::parse("o-1").expect("external id")),
        ..AdminChanges::default()
    };
    let clash = store.update_admin(second, &relink).await;
    assert!(
        matches!(clash, Err(Error::AlreadyExists(_))),
        "got {clash:?}"
    );
    let unchanged = stored_admin(store.as_ref(), second).await;
    assert_eq!(
        unchanged.external_id.as_ref().map(ExternalId::as_str),
        Some("x-2")
    );
}

/// First sign-ins of one host id at once make one agent, and every one of them is signed
/// in as it.
pub async fn concurrent_first_sign_ins_make_one_agent(store: Arc<DynChatStore>) {
    let engine = engine(store.clone());
    let identity = agent("race", "Racer", "race@host.test", None);
    let sign_ins = (0..8).map(|_| sign_in(&engine, &identity));
    let results = futures_util::future::join_all(sign_ins).await;
    let ids: Vec<AdminId> = results
        .into_iter()
        .map(|(_, principal)| admin_id(&principal.expect("sign-in")))
        .collect();
    assert!(ids.windows(2).all(|pair| pair[0] == pair[1]), "{ids:?}");
    assert_eq!(store.list_admins().await.expect("list").len(), 1);
}

/// New permissions in a later sign-in are announced to live connections (which re-read
/// their session and narrow), and a sign-in that changes nothing announces nothing.
pub async fn host_demotion_reaches_live_connections(store: Arc<DynChatStore>) {
    let engine = engine(store);
    let (_, first) = sign_in(
        &engine,
        &agent("d-1", "Dee", "dee@host.test", Some(Permissions::OWNER)),
    )
    .await;
    let id = admin_id(&first.expect("sign-in"));
    let mut signals = engine.subscribe_revocations().await.expect("subscribe");
    let same = agent("d-1", "Dee", "dee@host.test", Some(Permissions::OWNER));
    sign_in(&engine, &same).await.1.expect("same");
    let demoted = agent("d-1", "Dee", "dee@host.test", Some(Permissions::default()));
    sign_in(&engine, &demoted).await.1.expect("demoted");
    let next = tokio::time::timeout(std::time::Duration::from_secs(5), signals.next()).await;
    match next.expect("a signal in time").expect("open") {
        Delivery::Signal(signal) => assert!(
            matches!(*signal, Signal::AccessChanged { admin_id } if admin_id == id),
            "the first signal is the demotion's, got {signal:?}"
        ),
        Delivery::Lagged => panic!("lagged"),
    }
}
