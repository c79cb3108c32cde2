//! Scenarios for the change feed (order, resume from a cursor, no gap under concurrent
//! writers) and for webhook endpoints as a store keeps them (claims, progress, replay).

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use chrono::Duration;

use crate::accounts::Permissions;
use crate::authz::Principal;
use crate::changes::Change;
use crate::conformance::fixtures::{admin, all_events, conversation, engine, send, visitor};
use crate::engine::{DeliveryConfig, NewWebhook, WebhookSender, now};
use crate::error::Error;
use crate::ids::{ConversationId, DeliveryId, FeedPosition, Seq};
use crate::store::DynChatStore;
use crate::webhooks::{
    AttemptOutcome, AttemptResult, DELIVERY_LOG_KEEP, DeliveryAttempt, DeliveryProgress,
    DeliveryState, WebhookChanges, WebhookEndpoint, WebhookSecret, WebhookUrl,
};

/// Reads the whole feed after `after` in pages of `page`.
async fn read_all(store: &DynChatStore, mut after: FeedPosition, page: usize) -> Vec<Change> {
    let mut all = Vec::new();
    loop {
        let changes = store.changes_after(after, page).await.expect("changes");
        let Some(last) = changes.last() else {
            return all;
        };
        after = last.position;
        all.extend(changes);
    }
}

/// Every event of every conversation appears in the feed once, positions strictly grow,
/// each conversation's events come in seq order; a reader polling with a cursor *while* 8
/// writers append ends with exactly the same list (a position never shows up before an
/// earlier one that is still to come); reading on from any cursor gives the rest.
pub async fn change_feed_has_every_event_once_in_commit_order(store: Arc<DynChatStore>) {
    let engine = engine(store.clone());
    let mut conversations = Vec::new();
    let mut writers = Vec::new();
    for _ in 0..8 {
        let guest = visitor(&engine).await;
        conversations.push((guest, conversation(&engine, &guest).await.id));
    }
    let done = Arc::new(AtomicBool::new(false));
    let reader = {
        let (store, done) = (store.clone(), done.clone());
        tokio::spawn(async move {
            let (mut seen, mut after) = (Vec::new(), FeedPosition::ZERO);
            loop {
                let finished = done.load(Ordering::Acquire);
                let changes = store.changes_after(after, 7).await.expect("changes");
                if let Some(last) = changes.last() {
                    after = last.position;
                }
                let caught_up = changes.is_empty();
                seen.extend(changes);
                if finished && caught_up {
                    return seen;
                }
                tokio::task::yield_now().await;
            }
        })
    };
    for (guest, id) in conversations.clone() {
        let engine = engine.clone();
        writers.push(tokio::spawn(async move {
            for n in 0..12 {
                send(&engine, &guest, id, &format!("m{n}"), None)
                    .await
                    .expect("send");
            }
        }));
    }
    for writer in writers {
        writer.await.expect("writer");
    }
    done.store(true, Ordering::Release);
    let live = reader.await.expect("reader");
    let whole = read_all(store.as_ref(), FeedPosition::ZERO, 1000).await;

    let positions: Vec<u64> = whole.iter().map(|c| c.position.get()).collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "positions grow");
    let mut expected = BTreeSet::new();
    for (_, id) in &conversations {
        for event in all_events(store.as_ref(), *id).await {
            expected.insert((event.conversation_id, event.seq));
        }
    }
    let listed: Vec<(ConversationId, Seq)> = whole
        .iter()
        .map(|c| (c.event.conversation_id, c.event.seq))
        .collect();
    assert_eq!(listed.len(), expected.len(), "every event exactly once");
    assert_eq!(listed.iter().copied().collect::<BTreeSet<_>>(), expected);
    let mut last_seq: HashMap<ConversationId, Seq> = HashMap::new();
    for (id, seq) in &listed {
        let before = last_seq.insert(*id, *seq).unwrap_or(Seq::ZERO);
        assert!(*seq > before, "a conversation's events in seq order");
    }
    assert_eq!(live, whole, "the polling reader missed or repeated nothing");
    assert_eq!(
        store.feed_head().await.expect("head"),
        whole.last().expect("changes").position
    );

    let middle = whole[whole.len() / 2].position;
    let rest = read_all(store.as_ref(), middle, 5).await;
    assert_eq!(rest, whole[whole.len() / 2 + 1..].to_vec(), "resume");
    let head = store.feed_head().await.expect("head");
    assert!(
        store
            .changes_after(head, 10)
            .await
            .expect("after head")
            .is_empty()
    );
}

/// Only agents with `manage_admins` over every conversation read the feed; a visitor's
/// event and an agent's private note are both in it.
pub async fn change_feed_is_for_owners(store: Arc<DynChatStore>) {
    let engine = engine(store.clone());
    let owner = admin(&engine, "feedowner", Permissions::OWNER).await;
    let agent = admin(&engine, "feedagent", Permissions::default()).await;
    let guest = visitor(&engine).await;
    let id = conversation(&engine, &guest).await.id;
    send(&engine, &guest, id, "hello", None)
        .await
        .expect("send");
    for refused in [&agent, &guest, &Principal::Anonymous] {
        let result = engine
            .changes_after(refused, FeedPosition::ZERO, None)
            .await;
        assert!(
            matches!(
                result,
                Err(Error::PermissionDenied(_) | Error::Unauthenticated)
            ),
            "{refused:?}: {result:?}"
        );
    }
    let changes = engine
        .changes_after(&owner, FeedPosition::ZERO, Some(1000))
        .await
        .expect("owner reads");
    assert!(changes.iter().any(|c| c.event.message().is_some()));
    let limit = engine
        .changes_after(&owner, FeedPosition::ZERO, Some(0))
        .await;
    assert!(matches!(limit, Err(Error::InvalidInput(_))), "{limit:?}");
}

/// A deleted conversation's events leave the feed, and a reader passes the hole they leave:
/// a page is short only at the head, however many deleted events lie in a row.
pub async fn deleted_conversations_leave_holes_that_readers_pass(store: Arc<DynChatStore>) {
    let engine = engine(store.clone());
    let owner = admin(&engine, "holeowner", Permissions::OWNER).await;
    let guest = visitor(&engine).await;
    let before = conversation(&engine, &guest).await.id;
    let doomed = conversation(&engine, &guest).await.id;
    for n in 0..12 {
        send(&engine, &guest, doomed, &format!("gone {n}"), None)
            .await
            .expect("send");
    }
    let after = conversation(&engine, &guest).await.id;
    send(&engine, &guest, after, "kept", None)
        .await
        .expect("send");
    let start = store
        .changes_after(FeedPosition::ZERO, 1000)
        .await
        .expect("feed")
        .iter()
        .find(|c| c.event.conversation_id == doomed)
        .expect("the doomed conversation is in the feed")
        .position;
    engine
        .delete_conversation(&owner, doomed)
        .await
        .expect("delete");
    let page = store
        .changes_after(FeedPosition(start.get() - 1), 3)
        .await
        .expect("page");
    assert_eq!(page.len(), 3, "a full page past the hole: {page:?}");
    assert!(page.iter().all(|c| c.event.conversation_id == after));
    let whole = read_all(store.as_ref(), FeedPosition::ZERO, 2).await;
    assert!(whole.iter().all(|c| c.event.conversation_id != doomed));
    assert!(whole.iter().any(|c| c.event.conversation_id == before));
    assert_eq!(
        whole
            .last()
            .expect("changes")
            .event
            .message()
            .map(|m| m.body.as_str()),
        Some("kept")
    );
}

/// A new endpoint for every event type, signed with `secret(n)`.
fn every_event(n: u8) -> NewWebhook {
    NewWebhook {
        url: WebhookUrl::parse("https://example.com/hook").expect("url"),
        events: None,
        secret: secret(n),
    }
}

fn secret(n: u8) -> WebhookSecret {
    WebhookSecret::parse(&format!(
        "whsec_{}",
        char::from(b'A' + n).to_string().repeat(32)
    ))
    .expect("secret")
}

fn attempt(claim_id: crate::ids::WebhookId, position: FeedPosition) -> DeliveryAttempt {
    DeliveryAttempt {
        id: DeliveryId::new(),
        webhook_id: claim_id,
        position,
        message_id: format!("evt_{position}"),
        event_type: "message".into(),
        attempt: 1,
        at: now(),
        status: Some(200),
        error: None,
        duration_ms: 3,
        outcome: AttemptOutcome::Delivered,
    }
}

/// An endpoint starts at the feed's head; it is claimed only when behind, by one holder at
/// a time, until the claim expires (each write back renews it); progress is written only
/// under the live claim; an
/// agent's change (a replay) ends the claim and wins over the pass's cursor; the log reads
/// newest first; a disabled endpoint is never claimed; delete takes the log with it.
pub async fn webhook_endpoints_are_claimed_once_and_replayed(store: Arc<DynChatStore>) {
    let engine = engine(store.clone());
    let owner = admin(&engine, "hookowner", Permissions::OWNER).await;
    let agent = admin(&engine, "hookagent", Permissions::default()).await;
    let guest = visitor(&engine).await;
    let id = conversation(&engine, &guest).await.id;
    let new = every_event(0);
    let refused = engine.create_webhook(&agent, new.clone()).await;
    assert!(
        matches!(refused, Err(Error::PermissionDenied(_))),
        "{refused:?}"
    );
    let endpoint = engine.create_webhook(&owner, new).await.expect("create");
    let head = store.feed_head().await.expect("head");
    assert_eq!(endpoint.delivery.cursor, head, "starts at the head");
    let (t0, later) = (now(), now() + Duration::seconds(60));
    assert!(
        store
            .claim_webhooks(head, t0, later)
            .await
            .expect("claim")
            .is_empty()
    );

    send(&engine, &guest, id, "one", None).await.expect("send");
    send(&engine, &guest, id, "two", None).await.expect("send");
    let head = store.feed_head().await.expect("head");
    let claims = store.claim_webhooks(head, t0, later).await.expect("claim");
    assert_eq!(claims.len(), 1, "behind: claimed");
    let claim = &claims[0];
    assert!(
        store
            .claim_webhooks(head, t0, later)
            .await
            .expect("again")
            .is_empty(),
        "one holder at a time"
    );
    let first = store
        .changes_after(endpoint.delivery.cursor, 1)
        .await
        .expect("changes")[0]
        .position;
    let progress = DeliveryProgress {
        from: endpoint.delivery.cursor,
        state: DeliveryState {
            cursor: first,
            ..DeliveryState::default()
        },
        attempt: Some(attempt(endpoint.id, first)),
        disabled: None,
        renew_until: Some(later + Duration::hours(1)),
    };
    assert!(
        store
            .record_delivery(claim, &progress, false)
            .await
            .expect("record")
    );
    let mut forged = claim.clone();
    forged.token = uuid::Uuid::new_v4();
    assert!(
        !store
            .record_delivery(&forged, &progress, true)
            .await
            .expect("forged")
    );
    let stored = engine.webhook(&owner, endpoint.id).await.expect("get");
    assert_eq!(stored.delivery.cursor, first);
    let past_first_expiry = later + Duration::seconds(1);
    assert!(
        store
            .claim_webhooks(head, past_first_expiry, past_first_expiry)
            .await
            .expect("claim")
            .is_empty(),
        "a write back renews the claim"
    );

    let replayed = engine
        .update_webhook(
            &owner,
            endpoint.id,
            WebhookChanges {
                replay_after: Some(FeedPosition::ZERO),
                ..WebhookChanges::default()
            },
        )
        .await
        .expect("replay");
    assert_eq!(replayed.delivery.cursor, FeedPosition::ZERO);
    assert!(
        store
            .claim_webhooks(head, t0, later)
            .await
            .expect("claim")
            .is_empty(),
        "an agent's change keeps the claim: the pass may have a request in flight"
    );
    let stale = DeliveryProgress {
        from: first,
        state: DeliveryState {
            cursor: head,
            ..DeliveryState::default()
        },
        attempt: None,
        disabled: None,
        renew_until: None,
    };
    assert!(
        !store
            .record_delivery(claim, &stale, true)
            .await
            .expect("stale"),
        "the pass's write back after the change is refused"
    );
    let expired = store
        .claim_webhooks(head, t0, later + Duration::seconds(60))
        .await
        .expect("claim");
    assert_eq!(expired.len(), 1, "the refused write back ended the claim");
    assert_eq!(expired[0].endpoint.delivery.cursor, FeedPosition::ZERO);
    let second = attempt(endpoint.id, head);
    let later_progress = DeliveryProgress {
        from: FeedPosition(999_999),
        state: DeliveryState {
            cursor: head,
            ..DeliveryState::default()
        },
        attempt: Some(second.clone()),
        disabled: Some("gone".into()),
        renew_until: None,
    };
    assert!(
        store
            .record_delivery(&expired[0], &later_progress, true)
            .await
            .expect("record")
    );
    let stored = engine.webhook(&owner, endpoint.id).await.expect("get");
    assert_eq!(
        stored.delivery.cursor,
        FeedPosition::ZERO,
        "from did not match"
    );
    assert_eq!(stored.disabled.as_deref(), Some("gone"));
    let far = later + Duration::hours(1);
    assert!(
        store
            .claim_webhooks(head, far, far)
            .await
            .expect("claim")
            .is_empty(),
        "disabled"
    );

    let log = engine
        .webhook_deliveries(&owner, endpoint.id, None, None)
        .await
        .expect("log");
    assert_eq!(log.len(), 2);
    assert_eq!(log[0], second, "newest first");
    let older = engine
        .webhook_deliveries(&owner, endpoint.id, Some(second.id), None)
        .await
        .expect("log");
    assert_eq!(older.len(), 1);
    assert_eq!(older[0].position, first);

    let rotated = engine
        .rotate_webhook_secret(&owner, endpoint.id, secret(1))
        .await
        .expect("rotate");
    assert_eq!(rotated.secret, secret(1));
    assert_eq!(rotated.signing_secrets(now()), vec![&secret(1), &secret(0)]);
    let again = engine
        .rotate_webhook_secret(&owner, endpoint.id, secret(2))
        .await;
    assert!(
        matches!(
            again,
            Err(Error::Conflict(
                crate::error::Conflict::RotationInProgress { .. }
            ))
        ),
        "{again:?}"
    );
    let head = store.feed_head().await.expect("head");
    let past_head = engine
        .replay_webhook(&owner, endpoint.id, FeedPosition(head.get() + 1))
        .await;
    assert!(
        matches!(past_head, Err(Error::InvalidInput(_))),
        "{past_head:?}"
    );
    engine
        .delete_webhook(&owner, endpoint.id)
        .await
        .expect("delete");
    assert!(engine.list_webhooks(&owner).await.expect("list").is_empty());
    let gone = engine
        .webhook_deliveries(&owner, endpoint.id, None, None)
        .await;
    assert!(matches!(gone, Err(Error::NotFound(_))), "{gone:?}");
}

/// An endpoint's delivery log keeps its newest [`DELIVERY_LOG_KEEP`] attempts, newest first.
pub async fn the_delivery_log_keeps_the_newest_attempts(store: Arc<DynChatStore>) {
    let engine = engine(store.clone());
    let owner = admin(&engine, "logowner", Permissions::OWNER).await;
    let guest = visitor(&engine).await;
    let new = every_event(3);
    let endpoint = engine.create_webhook(&owner, new).await.expect("create");
    conversation(&engine, &guest).await;
    let head = store.feed_head().await.expect("head");
    let (t0, later) = (now(), now() + Duration::seconds(600));
    let claim = store
        .claim_webhooks(head, t0, later)
        .await
        .expect("claim")
        .pop()
        .expect("claimed");
    let mut recorded = Vec::new();
    for _ in 0..DELIVERY_LOG_KEEP + 3 {
        let attempt = attempt(endpoint.id, head);
        let progress = DeliveryProgress {
            from: endpoint.delivery.cursor,
            state: endpoint.delivery,
            attempt: Some(attempt.clone()),
            disabled: None,
            renew_until: None,
        };
        assert!(
            store
                .record_delivery(&claim, &progress, false)
                .await
                .expect("record")
        );
        recorded.push(attempt.id);
    }
    let log = store
        .webhook_deliveries(endpoint.id, None, usize::MAX)
        .await
        .expect("log");
    let kept: Vec<DeliveryId> = log.iter().map(|a| a.id).collect();
    let newest: Vec<DeliveryId> = recorded
        .iter()
        .rev()
        .take(DELIVERY_LOG_KEEP)
        .copied()
        .collect();
    assert_eq!(kept, newest, "the newest attempts, newest first");
}

/// Sends nothing anywhere: answers every attempt 204 and counts them.
#[derive(Default)]
struct Accepting(std::sync::atomic::AtomicUsize);

#[async_trait::async_trait]
impl WebhookSender for Accepting {
    async fn send(&self, _: &WebhookEndpoint, _: &Change, _: u32) -> AttemptResult {
        self.0.fetch_add(1, Ordering::Relaxed);
        AttemptResult::Answered {
            status: 204,
            retry_after: None,
        }
    }
}

/// An endpoint whose remaining events were all deleted catches up with the head in one
/// pass, and is not claimed again until something new is written.
pub async fn a_delivery_pass_passes_a_hole_at_the_head(store: Arc<DynChatStore>) {
    let engine = engine(store.clone());
    let owner = admin(&engine, "tailowner", Permissions::OWNER).await;
    let guest = visitor(&engine).await;
    let new = every_event(4);
    let endpoint = engine.create_webhook(&owner, new).await.expect("create");
    let doomed = conversation(&engine, &guest).await.id;
    send(&engine, &guest, doomed, "gone", None)
        .await
        .expect("send");
    engine
        .delete_conversation(&owner, doomed)
        .await
        .expect("delete");
    let sender = Accepting::default();
    let config = DeliveryConfig::default();
    engine
        .deliver_webhooks(&sender, &config)
        .await
        .expect("pass");
    assert_eq!(sender.0.load(Ordering::Relaxed), 0, "nothing left to send");
    let head = store.feed_head().await.expect("head");
    let stored = engine.webhook(&owner, endpoint.id).await.expect("get");
    assert!(
        stored.delivery.cursor >= head,
        "{:?} behind {head:?}",
        stored.delivery
    );
    let (t0, later) = (now(), now() + Duration::seconds(60));
    assert!(
        store
            .claim_webhooks(head, t0, later)
            .await
            .expect("claim")
            .is_empty(),
        "not claimed again"
    );
}
