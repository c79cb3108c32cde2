//! Scenarios for offline email as a store keeps it: a visitor's address, unsubscribe and
//! last-seen time; the pass's feed cursor and per-conversation notices (queued from the
//! feed, claimed once, settled); and the pass's rules end to end over the engine, with a
//! sender that records what it was asked to send.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;

use crate::accounts::Permissions;
use crate::authz::Principal;
use crate::conformance::fixtures::{admin, conversation, engine, send, visitor};
use crate::email::{
    EmailConfig, EmailNotice, OfflineEmail, QueuedReply, SendFailure, Settlement, UnsubscribeToken,
};
use crate::engine::{ChatEngine, EmailSender, SendMessage, now};
use crate::error::Error;
use crate::ids::{CustomerId, FeedPosition, Seq};
use crate::store::DynChatStore;
use crate::values::Email;

/// The delay the scenarios use: short, with sleeps well past it.
const AFTER: Duration = Duration::from_millis(300);

/// Records every email; fails the next `fail` sends (permanently if `permanent`).
#[derive(Default)]
struct Outbox {
    sent: Mutex<Vec<OfflineEmail>>,
    fail: Mutex<u32>,
    permanent: bool,
}

impl Outbox {
    fn taken(&self) -> Vec<OfflineEmail> {
        std::mem::take(&mut self.sent.lock().expect("outbox"))
    }
}

#[async_trait]
impl EmailSender for Outbox {
    async fn send(&self, email: &OfflineEmail) -> Result<(), SendFailure> {
        let mut fail = self.fail.lock().expect("outbox");
        if *fail > 0 {
            *fail -= 1;
            return Err(SendFailure {
                permanent: self.permanent,
                reason: "550 refused".into(),
            });
        }
        self.sent.lock().expect("outbox").push(email.clone());
        Ok(())
    }
}

fn config() -> EmailConfig {
    EmailConfig {
        retry: Duration::from_millis(100),
        ..EmailConfig::new(AFTER)
    }
}

async fn wait_past(delay: Duration) {
    tokio::time::sleep(delay + Duration::from_millis(150)).await;
}

fn id_of(principal: &Principal) -> CustomerId {
    match principal {
        Principal::Visitor(id) => *id,
        other => panic!("not a visitor: {other:?}"),
    }
}

/// A visitor who left `address`, was last seen now, with a conversation; and an agent.
async fn away_visitor(
    engine: &ChatEngine,
    address: &str,
) -> (Principal, Principal, crate::ids::ConversationId) {
    let guest = visitor(engine).await;
    let email = Email::parse(address).expect("email");
    engine
        .leave_email(&guest, id_of(&guest), Some(email))
        .await
        .expect("leave email");
    let conv = conversation(engine, &guest).await;
    send(engine, &guest, conv.id, "hello?", None)
        .await
        .expect("send");
    engine.visitor_seen(id_of(&guest)).await.expect("seen");
    let agent = admin(
        engine,
        address.split('@').next().unwrap_or("agent"),
        Permissions::default(),
    )
    .await;
    (guest, agent, conv.id)
}

async fn pass(engine: &ChatEngine, outbox: &Outbox) -> crate::engine::EmailPass {
    engine
        .send_offline_emails(outbox, &config())
        .await
        .expect("email pass")
}

/// A visitor away with an unread reply gets one email with it (after the delay, not
/// before); more replies in the same absence send nothing; once the visitor came back and
/// left again, the next reply sends one email quoting every unread reply, oldest first.
pub async fn offline_email_goes_once_per_quiet_period(store: Arc<DynChatStore>) {
    let engine = engine(store.clone());
    let outbox = Outbox::default();
    // History is not emailed: a reply from before the first pass never is.
    let (_, old_agent, old_conv) = away_visitor(&engine, "history@example.com").await;
    send(&engine, &old_agent, old_conv, "an old answer", None)
        .await
        .expect("reply");
    pass(&engine, &outbox).await; // the first pass starts the cursor at the head
    let (guest, agent, conv) = away_visitor(&engine, "quiet@example.com").await;
    send(&engine, &agent, conv, "first answer", None)
        .await
        .expect("reply");
    let early = pass(&engine, &outbox).await;
    assert_eq!((early.queued, early.sent), (1, 0), "queued, not yet due");

    wait_past(AFTER).await;
    assert_eq!(pass(&engine, &outbox).await.sent, 1);
    let emails = outbox.taken();
    assert_eq!(emails.len(), 1);
    assert_eq!(emails[0].to.as_str(), "quiet@example.com");
    assert_eq!(emails[0].conversation, conv);
    let bodies: Vec<&str> = emails[0].replies.iter().map(|r| r.body.as_str()).collect();
    assert_eq!(bodies, ["first answer"]);
    assert_eq!(
        emails[0].replies[0].agent.as_ref().map(|n| n.as_str()),
        Some("quiet")
    );

    send(&engine, &agent, conv, "second answer", None)
        .await
        .expect("reply");
    wait_past(AFTER).await;
    assert_eq!(pass(&engine, &outbox).await.sent, 0, "same quiet period");

    engine.visitor_seen(id_of(&guest)).await.expect("back");
    send(&engine, &agent, conv, "third answer", None)
        .await
        .expect("reply");
    wait_past(AFTER).await;
    assert_eq!(pass(&engine, &outbox).await.sent, 1, "a new quiet period");
    let bodies: Vec<String> = outbox.taken()[0]
        .replies
        .iter()
        .map(|r| r.body.as_str().to_owned())
        .collect();
    assert_eq!(bodies, ["first answer", "second answer", "third answer"]);
}

/// No email when the visitor read the reply, is still here (seen within the delay), left
/// no address, unsubscribed (a wrong token changes nothing), or the message was a private
/// note; a failed send is retried, a permanent failure is given up.
pub async fn offline_email_respects_reads_presence_and_unsubscribes(store: Arc<DynChatStore>) {
    let engine = engine(store.clone());
    let outbox = Outbox::default();
    pass(&engine, &outbox).await;

    // Read before the delay: nothing.
    let (reader, agent, conv) = away_visitor(&engine, "reader@example.com").await;
    let reply = send(&engine, &agent, conv, "read me", None)
        .await
        .expect("reply");
    engine
        .mark_read(&reader, conv, reply.message.seq)
        .await
        .expect("read");
    // Still here: a heartbeat inside the delay postpones the email until away long enough.
    let (present, agent2, conv2) = away_visitor(&engine, "present@example.com").await;
    send(&engine, &agent2, conv2, "are you there?", None)
        .await
        .expect("reply");
    // A private note alone: nothing.
    let (_, agent3, conv3) = away_visitor(&engine, "noted@example.com").await;
    let mut note = SendMessage::text(conv3, crate::conformance::fixtures::body("internal"));
    note.private = true;
    engine.send_message(&agent3, note).await.expect("note");
    // Unsubscribed: nothing, and a wrong token is refused.
    let (gone, agent4, conv4) = away_visitor(&engine, "gone@example.com").await;
    let gone_id = id_of(&gone);
    let wrong = engine
        .unsubscribe(gone_id, &UnsubscribeToken::from_link("not-the-token"))
        .await;
    assert!(matches!(wrong, Err(Error::NotFound(_))), "{wrong:?}");
    let token = store
        .get_customer(gone_id)
        .await
        .expect("customer")
        .and_then(|c| c.contact)
        .expect("contact")
        .token;
    engine
        .unsubscribe(gone_id, &token)
        .await
        .expect("unsubscribe");
    send(&engine, &agent4, conv4, "still there?", None)
        .await
        .expect("reply");

    // The heartbeat comes late in the reply's delay: when the reply is due, the visitor
    // was seen less than the delay ago.
    tokio::time::sleep(AFTER - Duration::from_millis(50)).await;
    engine
        .visitor_seen(id_of(&present))
        .await
        .expect("heartbeat");
    tokio::time::sleep(Duration::from_millis(150)).await;
    assert_eq!(pass(&engine, &outbox).await.sent, 0, "{:?}", outbox.taken());

    wait_past(AFTER).await;
    assert_eq!(pass(&engine, &outbox).await.sent, 1);
    let emails = outbox.taken();
    assert_eq!(emails[0].to.as_str(), "present@example.com");

    // Leaving the same address again does not undo the unsubscribe.
    let again = engine
        .leave_email(
            &gone,
            gone_id,
            Some(Email::parse("GONE@example.com").expect("email")),
        )
        .await
        .expect("leave again");
    assert!(again.contact.expect("contact").unsubscribed);

    // One failed send is retried and delivered; a permanent failure is given up.
    let flaky = Outbox::default();
    *flaky.fail.lock().expect("outbox") = 1;
    let (_, agent5, conv5) = away_visitor(&engine, "flaky@example.com").await;
    send(&engine, &agent5, conv5, "retry me", None)
        .await
        .expect("reply");
    wait_past(AFTER).await;
    assert_eq!(pass(&engine, &flaky).await.failed, 1);
    wait_past(Duration::from_millis(100)).await;
    assert_eq!(pass(&engine, &flaky).await.sent, 1);
    let refused = Outbox {
        permanent: true,
        ..Outbox::default()
    };
    *refused.fail.lock().expect("outbox") = 1;
    let (_, agent6, conv6) = away_visitor(&engine, "refused@example.com").await;
    send(&engine, &agent6, conv6, "no such mailbox", None)
        .await
        .expect("reply");
    wait_past(AFTER).await;
    assert_eq!(pass(&engine, &refused).await.failed, 1);
    wait_past(Duration::from_millis(400)).await;
    assert_eq!(pass(&engine, &refused).await.sent, 0, "given up");

    // Only the visitor leaves its own address.
    let other = visitor(&engine).await;
    let foreign = engine
        .leave_email(
            &other,
            gone_id,
            Some(Email::parse("x@example.com").expect("email")),
        )
        .await;
    assert!(matches!(foreign, Err(Error::NotFound(_))), "{foreign:?}");
    let by_agent = engine.leave_email(&agent, gone_id, None).await;
    assert!(
        matches!(by_agent, Err(Error::PermissionDenied(_))),
        "{by_agent:?}"
    );
}

/// Passes on two engines over one store at once send one email per notice; the cursor moves
/// by compare-and-set; a claim is taken once; a reply queued while a notice was claimed
/// keeps it pending; a deleted conversation's notice goes with it; `last_seen` never moves
/// back.
pub async fn offline_email_notices_are_claimed_once(store: Arc<DynChatStore>) {
    let (one, two) = (engine(store.clone()), engine(store.clone()));
    let outbox = Arc::new(Outbox::default());
    pass(&one, &outbox).await;
    let mut conversations = Vec::new();
    for n in 0..4 {
        let (_, agent, conv) = away_visitor(&one, &format!("both{n}@example.com")).await;
        send(&one, &agent, conv, "answer", None)
            .await
            .expect("reply");
        conversations.push(conv);
    }
    wait_past(AFTER).await;
    let (a, b) = tokio::join!(pass(&one, &outbox), pass(&two, &outbox));
    assert_eq!(a.sent + b.sent, 4, "{a:?} {b:?}");
    let mut to: Vec<String> = outbox
        .taken()
        .iter()
        .map(|e| e.to.as_str().to_owned())
        .collect();
    to.sort();
    assert_eq!(
        to,
        [
            "both0@example.com",
            "both1@example.com",
            "both2@example.com",
            "both3@example.com"
        ]
    );

    // The cursor is compare-and-set.
    let cursor = store.email_cursor().await.expect("cursor");
    let stale = cursor.map(|c| FeedPosition(c.get().saturating_sub(1)));
    let moved = store
        .queue_email_notices(stale, FeedPosition(u64::MAX / 2), &[])
        .await
        .expect("queue");
    assert!(!moved, "a stale cursor moves nothing");
    assert_eq!(store.email_cursor().await.expect("cursor"), cursor);

    // A claim is taken once; a reply queued meanwhile survives the settlement.
    let conv = conversations[0];
    let at = now();
    let reply = |seq, due| QueuedReply {
        conversation: conv,
        seq: Seq(seq),
        due_at: due,
    };
    let head = store.feed_head().await.expect("head");
    assert!(
        store
            .queue_email_notices(cursor, head, &[reply(50, at)])
            .await
            .expect("queue")
    );
    let due = store.due_email_notices(at, 10).await.expect("due");
    let notice: EmailNotice = due
        .into_iter()
        .find(|n| n.conversation == conv)
        .expect("due notice");
    assert_eq!(notice.seq, Seq(50));
    let until = at + chrono::Duration::seconds(60);
    let claim = |notice: EmailNotice, now| {
        let store = store.clone();
        async move {
            store
                .claim_email_notice(&notice, now, until)
                .await
                .expect("claim")
        }
    };
    assert!(claim(notice.clone(), at).await);
    assert!(!claim(notice.clone(), at).await, "held");
    // A reply queued while the claim holds, due before its end, leaves the claim alone.
    assert!(
        store
            .queue_email_notices(Some(head), head, &[reply(51, at)])
            .await
            .expect("queue")
    );
    let during = store.due_email_notices(at, 10).await.expect("due");
    assert!(during.iter().all(|n| n.conversation != conv), "{during:?}");
    let settled = Settlement {
        covered: Seq(50),
        emailed_at: None,
        retry: None,
    };
    let stale = store
        .settle_email_notice(conv, at, &settled)
        .await
        .expect("settle");
    assert!(!stale, "only the claim's holder settles");
    assert!(
        store
            .settle_email_notice(conv, until, &settled)
            .await
            .expect("settle")
    );
    let pending = store.due_email_notices(at, 10).await.expect("due");
    let notice = pending
        .iter()
        .find(|n| n.conversation == conv && n.seq == Seq(51))
        .cloned();
    assert!(notice.is_some(), "seq 51 still pending: {pending:?}");
    // A lapsed claim is taken over, and the lapsed holder can no longer settle.
    let notice = notice.expect("pending");
    assert!(claim(notice.clone(), at).await);
    let later = until + chrono::Duration::seconds(1);
    let taken_over = store
        .due_email_notices(later, 10)
        .await
        .expect("due")
        .into_iter()
        .find(|n| n.conversation == conv)
        .expect("due again once the claim lapsed");
    let next_claim = later + chrono::Duration::seconds(60);
    assert!(
        store
            .claim_email_notice(&taken_over, later, next_claim)
            .await
            .expect("claim")
    );
    assert!(
        !store
            .settle_email_notice(conv, until, &settled)
            .await
            .expect("settle")
    );

    // Deleting the conversation drops its notice; queueing onto it creates none.
    store
        .delete_conversation(&super::fixtures::removal(conv))
        .await
        .expect("delete");
    assert!(
        store
            .queue_email_notices(Some(head), head, &[reply(52, at)])
            .await
            .expect("queue")
    );
    let after_delete = store.due_email_notices(until, 10).await.expect("due");
    assert!(
        after_delete.iter().all(|n| n.conversation != conv),
        "{after_delete:?}"
    );

    // Last seen only moves forward.
    let guest = visitor(&one).await;
    let later = now();
    store
        .mark_customer_seen(id_of(&guest), later)
        .await
        .expect("seen");
    store
        .mark_customer_seen(id_of(&guest), later - chrono::Duration::seconds(5))
        .await
        .expect("seen");
    let customer = store
        .get_customer(id_of(&guest))
        .await
        .expect("get")
        .expect("customer");
    assert_eq!(customer.last_seen, Some(later));
    // Removing the address removes it.
    let removed = one
        .leave_email(&guest, id_of(&guest), None)
        .await
        .expect("remove");
    assert_eq!(removed.contact, None);
}

/// A reply deleted before its email was due is not quoted; with nothing left to quote, no
/// email goes.
pub async fn deleted_replies_are_never_emailed(store: Arc<DynChatStore>) {
    let engine = engine(store.clone());
    let outbox = Outbox::default();
    pass(&engine, &outbox).await;
    let (_, agent, conv) = away_visitor(&engine, "deleted@example.com").await;
    send(&engine, &agent, conv, "the real answer", None)
        .await
        .expect("reply");
    let oops = send(&engine, &agent, conv, "wrong customer's data", None)
        .await
        .expect("reply");
    engine
        .delete_message(&agent, oops.message.id)
        .await
        .expect("delete");
    wait_past(AFTER).await;
    pass(&engine, &outbox).await;
    let emails = outbox.taken();
    let bodies: Vec<&str> = emails
        .iter()
        .flat_map(|e| e.replies.iter().map(|r| r.body.as_str()))
        .collect();
    assert_eq!(bodies, ["the real answer"]);

    let (_, agent, conv) = away_visitor(&engine, "nothing@example.com").await;
    let only = send(&engine, &agent, conv, "sent to the wrong chat", None)
        .await
        .expect("reply");
    engine
        .delete_message(&agent, only.message.id)
        .await
        .expect("delete");
    wait_past(AFTER).await;
    pass(&engine, &outbox).await;
    assert!(outbox.taken().is_empty(), "nothing left to quote");
}
