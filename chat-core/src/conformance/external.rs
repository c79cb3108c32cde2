//! Scenarios for sign-in by the host application: provisioning on first sight, the profile
//! following every sign-in, linking, refusals, and a demotion reaching live connections.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
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
    issued(id, name, email, permissions, Utc::now())
}

fn issued(
    id: &str,
    name: &str,
    email: &str,
    permissions: Option<Permissions>,
    issued_at: DateTime<Utc>,
) -> ExternalIdentity {
    ExternalIdentity::Agent(ExternalAgent {
        id: ExternalId::parse(id).expect("external id"),
        name: DisplayName::parse(name).expect("name"),
        email: Email::parse(email).expect("email"),
        permissions,
        issued_at,
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

/// An email another agent holds (one with a password: the owner) is refused, never taken
/// over; a disabled agent, a blocked visitor and an expired credential are refused; none of
/// them leaves a session; a host id names one agent.
pub async fn host_sign_in_refuses_and_never_takes_over(store: Arc<DynChatStore>) {
    let engine = engine(store.clone());
    let owner = engine
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
    let claim = agent(
        "o-1",
        "Mallory",
        "owner@host.test",
        Some(Permissions::default()),
    );
    let (token, taken) = sign_in(&engine, &claim).await;
    assert!(
        matches!(taken, Err(Error::AlreadyExists(_))),
        "got {taken:?}"
    );
    assert!(matches!(
        engine.authenticate(&token).await,
        Err(Error::Unauthenticated)
    ));
    let kept = stored_admin(store.as_ref(), owner.id).await;
    assert_eq!(
        (kept.external_id, kept.permissions),
        (None, Permissions::OWNER)
    );
    assert_eq!(kept.name.as_str(), "Owner");

    let (_, first) = sign_in(&engine, &agent("x-1", "X", "x@host.test", None)).await;
    let x1 = admin_id(&first.expect("x-1"));
    let (_, other) = sign_in(&engine, &agent("x-2", "Y", "x@host.test", None)).await;
    assert!(
        matches!(other, Err(Error::AlreadyExists(_))),
        "got {other:?}"
    );
    // The host moves x-1 to the owner's email: the rest follows, the email stays.
    let moved = agent("x-1", "X Renamed", "owner@host.test", None);
    assert_eq!(
        admin_id(&sign_in(&engine, &moved).await.1.expect("moved")),
        x1
    );
    let x = stored_admin(store.as_ref(), x1).await;
    assert_eq!(
        (x.name.as_str(), x.email.as_str()),
        ("X Renamed", "x@host.test")
    );

    engine
        .set_admin_disabled(&Principal::System, x1, true)
        .await
        .expect("disable");
    let (token, disabled) = sign_in(&engine, &agent("x-1", "X", "x@host.test", None)).await;
    assert!(
        matches!(disabled, Err(Error::Unauthenticated)),
        "got {disabled:?}"
    );
    assert!(matches!(
        engine.authenticate(&token).await,
        Err(Error::Unauthenticated)
    ));
    engine
        .set_admin_disabled(&Principal::System, x1, false)
        .await
        .expect("enable");
    assert!(
        matches!(
            engine.authenticate(&token).await,
            Err(Error::Unauthenticated)
        ),
        "re-enabling revived a refused credential"
    );

    let guest = visitor("v-1", None, None);
    let (_, first) = sign_in(&engine, &guest).await;
    let Principal::Visitor(customer) = first.expect("visitor") else {
        panic!("expected a visitor");
    };
    let blocker = crate::conformance::fixtures::admin(&engine, "blocker", Permissions::OWNER).await;
    engine
        .block_visitor(&blocker, customer)
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

    let mut twin = stored_admin(store.as_ref(), x1).await;
    twin.id = AdminId::new();
    twin.email = Email::parse("twin@host.test").expect("email");
    let clash = store.create_admin(&twin).await;
    assert!(
        matches!(clash, Err(Error::AlreadyExists(_))),
        "got {clash:?}"
    );
}

/// An answer issued before the one an agent follows changes nothing, however late it
/// arrives (a wide token kept from before a demotion); the store decides it in the same
/// step as the write. A newer answer that changes nothing still moves the agent on; a
/// wider answer issued in the same instant does not stand; one from the future counts as
/// issued now.
pub async fn an_older_answer_never_undoes_a_newer_one(store: Arc<DynChatStore>) {
    let engine = engine(store.clone());
    let start = Utc::now() - Duration::seconds(60);
    let dee = |permissions: Permissions, seconds: i64| {
        let at = start + Duration::seconds(seconds);
        issued("d-1", "Dee", "dee@host.test", Some(permissions), at)
    };
    let narrow = Permissions::default();
    let id = admin_id(
        &sign_in(&engine, &dee(Permissions::OWNER, 0))
            .await
            .1
            .expect("wide"),
    );
    sign_in(&engine, &dee(narrow, 30)).await.1.expect("narrow");
    let expected = Principal::Admin {
        id,
        permissions: narrow,
    };
    let replayed = sign_in(&engine, &dee(Permissions::OWNER, 0)).await.1;
    assert_eq!(
        replayed.expect("replayed"),
        expected,
        "the older token widened the agent"
    );

    let stale = AdminChanges {
        permissions: Some(Permissions::OWNER),
        host_synced_at: Some(start),
        ..AdminChanges::default()
    };
    let stored = store.update_admin(id, &stale).await.expect("update");
    assert_eq!(stored.permissions, narrow);
    let synced = |admin: &Admin| admin.host_synced_at.map(|at| at.timestamp_micros());
    let at = |seconds: i64| Some((start + Duration::seconds(seconds)).timestamp_micros());
    assert_eq!(synced(&stored), at(30));

    sign_in(&engine, &dee(narrow, 50))
        .await
        .1
        .expect("unchanged, newer");
    assert_eq!(synced(&stored_admin(store.as_ref(), id).await), at(50));
    let minted_between = sign_in(&engine, &dee(Permissions::OWNER, 40)).await.1;
    assert_eq!(minted_between.expect("between"), expected);

    let tie = sign_in(&engine, &dee(Permissions::OWNER, 50)).await.1;
    assert_eq!(
        tie.expect("tie"),
        expected,
        "a wider answer of the same instant stood"
    );
    let assigned = Permissions {
        scope: ConversationScope::Assigned,
        ..narrow
    };
    let tied = sign_in(&engine, &dee(assigned, 50)).await.1;
    assert_eq!(
        tied.expect("narrower"),
        Principal::Admin {
            id,
            permissions: assigned
        }
    );

    let future = issued(
        "d-1",
        "Dee",
        "dee@host.test",
        None,
        Utc::now() + Duration::days(365),
    );
    sign_in(&engine, &future).await.1.expect("future");
    let stored = stored_admin(store.as_ref(), id).await;
    assert!(
        stored.host_synced_at.is_some_and(|at| at <= Utc::now()),
        "{stored:?}"
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
