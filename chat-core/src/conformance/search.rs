//! Search scenarios: messages by their words (whole, case-insensitive, every word), newest
//! first in keyset pages, filtered and scoped like the conversation list; conversations by
//! their id or their visitor's id, address or identifier; nothing left of a deleted one.

use std::sync::Arc;

use chrono::Duration;

use crate::accounts::{ConversationScope, Permissions};
use crate::authz::Principal;
use crate::conformance::fixtures::{admin, body, conversation, engine, send, visitor};
use crate::engine::{ChatEngine, NewVisitor, SearchRequest, SendMessage, StartConversation};
use crate::error::Error;
use crate::ids::{ConversationId, MessageId};
use crate::log::{AppendRequest, Command, NewMessage};
use crate::model::Actor;
use crate::search::SearchResults;
use crate::status::ConversationStatus;
use crate::store::DynChatStore;
use crate::values::Metadata;
use crate::values::{Email, LabelTitle, VisitorIdentifier};

/// Searches `q` as `who`, expecting success.
async fn search(engine: &ChatEngine, who: &Principal, request: SearchRequest) -> SearchResults {
    engine.search(who, request).await.expect("search")
}

fn q(text: &str) -> SearchRequest {
    SearchRequest {
        q: text.to_owned(),
        ..SearchRequest::default()
    }
}

/// The found messages' texts, in result order.
fn texts(results: &SearchResults) -> Vec<String> {
    results
        .messages
        .iter()
        .map(|hit| hit.message.body.as_str().to_owned())
        .collect()
}

/// The found conversations' ids, in result order.
fn conversation_ids(results: &SearchResults) -> Vec<ConversationId> {
    results.conversations.iter().map(|c| c.id).collect()
}

/// Words match whole and ignoring case, every word must be held, private notes are found
/// by agents, the newest comes first, and each hit carries its conversation.
pub async fn messages_are_found_by_every_word_newest_first(store: Arc<DynChatStore>) {
    let engine = engine(store);
    let agent = admin(&engine, "searcher", Permissions::default()).await;
    let (alice, bob) = (visitor(&engine).await, visitor(&engine).await);
    let first = conversation(&engine, &alice).await;
    let second = conversation(&engine, &bob).await;
    send(
        &engine,
        &alice,
        first.id,
        "Refund for order #1234, please",
        None,
    )
    .await
    .unwrap();
    send(&engine, &bob, second.id, "Café crème et croissant", None)
        .await
        .unwrap();
    let mut note = SendMessage::text(first.id, body("refund approved, ORDER shipped back"));
    note.private = true;
    engine.send_message(&agent, note).await.unwrap();
    send(&engine, &alice, first.id, "unrelated words only", None)
        .await
        .unwrap();

    let refund = search(&engine, &agent, q("REFUND")).await;
    assert_eq!(
        texts(&refund),
        [
            "refund approved, ORDER shipped back",
            "Refund for order #1234, please"
        ]
    );
    assert!(
        refund
            .messages
            .iter()
            .all(|hit| hit.conversation.id == first.id && hit.message.conversation_id == first.id)
    );
    assert!(
        refund.messages[0].message.private,
        "agents find private notes"
    );
    assert_eq!(
        texts(&search(&engine, &agent, q("order 1234")).await),
        ["Refund for order #1234, please"]
    );
    assert_eq!(
        texts(&search(&engine, &agent, q("café")).await),
        ["Café crème et croissant"]
    );
    for nothing in ["caf", "refunds", "refund croissant", "!!"] {
        let results = search(&engine, &agent, q(nothing)).await;
        assert!(results.messages.is_empty(), "{nothing:?} finds nothing");
        assert_eq!(results.next, None);
    }
    assert!(matches!(
        engine.search(&alice, q("refund")).await,
        Err(Error::PermissionDenied(_))
    ));
    assert!(matches!(
        engine.search(&agent, q("   ")).await,
        Err(Error::InvalidInput(_))
    ));
}

/// Pages follow one another with no gap or repeat, and the time window cuts both ends.
pub async fn message_results_page_by_cursor_and_time(store: Arc<DynChatStore>) {
    let engine = engine(store);
    let agent = admin(&engine, "pager", Permissions::default()).await;
    let alice = visitor(&engine).await;
    let chat = conversation(&engine, &alice).await;
    let mut sent = Vec::new();
    for n in 0..7 {
        let text = format!("ticket number {n}");
        let message = send(&engine, &alice, chat.id, &text, None).await.unwrap();
        sent.push(message.message);
    }
    let mut seen: Vec<MessageId> = Vec::new();
    let mut request = SearchRequest {
        limit: Some(3),
        ..q("ticket")
    };
    let mut pages = 0;
    loop {
        let page = search(&engine, &agent, request.clone()).await;
        pages += 1;
        seen.extend(page.messages.iter().map(|hit| hit.message.id));
        assert!(pages == 1 || page.conversations.is_empty());
        match page.next {
            Some(next) => request.cursor = Some(next),
            None => break,
        }
    }
    let newest_first: Vec<MessageId> = sent.iter().rev().map(|m| m.id).collect();
    assert_eq!(seen, newest_first, "every page, in order, once");
    assert_eq!(pages, 3);

    let window = SearchRequest {
        since: Some(sent[2].timestamp),
        until: Some(sent[5].timestamp),
        ..q("ticket")
    };
    let found: Vec<MessageId> = search(&engine, &agent, window)
        .await
        .messages
        .iter()
        .map(|hit| hit.message.id)
        .collect();
    assert_eq!(found, [sent[4].id, sent[3].id, sent[2].id]);
    let after_all = SearchRequest {
        since: Some(sent[6].timestamp + Duration::microseconds(1)),
        ..q("ticket")
    };
    assert!(search(&engine, &agent, after_all).await.messages.is_empty());
    let between = SearchRequest {
        since: Some(sent[2].timestamp + Duration::nanoseconds(1)),
        until: Some(sent[5].timestamp + Duration::nanoseconds(1)),
        ..q("ticket")
    };
    let found: Vec<MessageId> = search(&engine, &agent, between)
        .await
        .messages
        .iter()
        .map(|hit| hit.message.id)
        .collect();
    assert_eq!(
        found,
        [sent[5].id, sent[4].id, sent[3].id],
        "bounds between microseconds round up"
    );
}

/// Messages stored at the same instant are ordered by id and paged one by one with no gap
/// or repeat (the cursor compares time and id).
pub async fn messages_at_one_instant_page_by_id(store: Arc<DynChatStore>) {
    let engine = engine(store.clone());
    let agent = admin(&engine, "ties", Permissions::default()).await;
    let alice = visitor(&engine).await;
    let chat = conversation(&engine, &alice).await;
    let Principal::Visitor(customer) = alice else {
        unreachable!()
    };
    let at = crate::engine::now();
    let mut ids = Vec::new();
    for n in 0..5 {
        let message = NewMessage {
            id: MessageId::new(),
            sender: Actor::Customer(customer),
            body: body(&format!("tied {n}")),
            client_message_id: None,
            client_timestamp: None,
            private: false,
            attachment_ids: Vec::new(),
            metadata: Metadata::default(),
        };
        ids.push(message.id);
        let request = AppendRequest {
            conversation_id: chat.id,
            command: Command::SendMessage {
                message,
                customer_may_reopen: false,
            },
            at,
        };
        store.append(&request).await.expect("append");
    }
    ids.sort();
    ids.reverse();
    let mut seen = Vec::new();
    let mut request = SearchRequest {
        limit: Some(1),
        ..q("tied")
    };
    loop {
        let page = search(&engine, &agent, request.clone()).await;
        seen.extend(page.messages.iter().map(|hit| hit.message.id));
        match page.next {
            Some(next) => request.cursor = Some(next),
            None => break,
        }
    }
    assert_eq!(seen, ids, "one instant, newest id first, each once");
}

/// Status and label filters apply to the conversation; a restricted agent finds only what
/// is assigned to it.
pub async fn search_is_filtered_and_scoped_like_the_list(store: Arc<DynChatStore>) {
    let engine = engine(store);
    let owner = admin(&engine, "owner", Permissions::default()).await;
    let restricted = admin(
        &engine,
        "narrow",
        Permissions {
            scope: ConversationScope::Assigned,
            ..Permissions::default()
        },
    )
    .await;
    let alice = visitor(&engine).await;
    let mine = conversation(&engine, &alice).await;
    let other = conversation(&engine, &alice).await;
    for chat in [&mine, &other] {
        send(&engine, &alice, chat.id, "printer on fire", None)
            .await
            .unwrap();
    }
    let Principal::Admin { id: narrow_id, .. } = restricted else {
        unreachable!()
    };
    engine
        .assign(&owner, mine.id, Some(narrow_id))
        .await
        .unwrap();
    engine
        .set_status(&owner, other.id, ConversationStatus::Closed)
        .await
        .unwrap();
    let urgent = LabelTitle::parse("urgent").unwrap();
    engine.create_label(&owner, urgent, None).await.unwrap();
    engine
        .set_conversation_labels(&owner, other.id, &["Urgent".to_owned()])
        .await
        .unwrap();

    let conversations_of = |results: &SearchResults| -> Vec<ConversationId> {
        results
            .messages
            .iter()
            .map(|hit| hit.conversation.id)
            .collect()
    };
    let everyone = search(&engine, &owner, q("printer fire")).await;
    assert_eq!(everyone.messages.len(), 2);
    let closed = SearchRequest {
        status: Some(ConversationStatus::Closed),
        ..q("printer")
    };
    assert_eq!(
        conversations_of(&search(&engine, &owner, closed).await),
        [other.id]
    );
    let labelled = SearchRequest {
        label: Some("URGENT".to_owned()),
        ..q("printer")
    };
    let labelled = search(&engine, &owner, labelled).await;
    assert_eq!(conversations_of(&labelled), [other.id]);
    assert_eq!(labelled.messages[0].conversation.labels.len(), 1);
    assert_eq!(
        conversations_of(&search(&engine, &restricted, q("printer")).await),
        [mine.id],
        "a restricted agent finds only its assigned conversations"
    );
    let by_id = search(&engine, &restricted, q(&other.id.to_string())).await;
    assert!(by_id.conversations.is_empty(), "nor finds others by id");
}

/// A conversation is found by its id, and by its visitor's id, address (any case) and
/// identifier, newest activity first.
pub async fn conversations_are_found_by_id_visitor_address_and_identifier(
    store: Arc<DynChatStore>,
) {
    let engine = engine(store);
    let agent = admin(&engine, "finder", Permissions::default()).await;
    let known = NewVisitor {
        verified_identifier: Some(VisitorIdentifier::parse("crm-4711").unwrap()),
        ..NewVisitor::default()
    };
    let customer = engine
        .create_visitor(&Principal::Anonymous, known)
        .await
        .unwrap();
    let jane = Principal::Visitor(customer.id);
    let older = conversation(&engine, &jane).await;
    let newer = engine
        .start_conversation(&jane, StartConversation::default())
        .await
        .unwrap();
    let stranger = visitor(&engine).await;
    let unrelated = conversation(&engine, &stranger).await;
    engine
        .leave_email(
            &jane,
            customer.id,
            Some(Email::parse("Jane@Example.com").unwrap()),
        )
        .await
        .unwrap();

    assert_eq!(
        conversation_ids(&search(&engine, &agent, q(&older.id.to_string())).await),
        [older.id]
    );
    for name in [
        customer.id.to_string(),
        "JANE@example.COM".to_owned(),
        "crm-4711".to_owned(),
    ] {
        let found = search(&engine, &agent, q(&name)).await;
        assert_eq!(conversation_ids(&found), [newer.id, older.id], "{name}");
    }
    assert!(!conversation_ids(&search(&engine, &agent, q("crm")).await).contains(&unrelated.id));
    assert!(
        search(&engine, &agent, q("nobody@example.com"))
            .await
            .conversations
            .is_empty()
    );
}

/// Messages sent at once are all found (the index is written with each message), and a
/// deleted conversation leaves nothing to find.
pub async fn concurrent_sends_are_found_and_deletes_leave_nothing(store: Arc<DynChatStore>) {
    let engine = Arc::new(engine(store));
    let agent = admin(&engine, "deleter", Permissions::default()).await;
    let alice = visitor(&engine).await;
    let chat = conversation(&engine, &alice).await;
    let mut tasks = Vec::new();
    for n in 0..24 {
        let engine = engine.clone();
        tasks.push(tokio::spawn(async move {
            send(&engine, &alice, chat.id, &format!("burst {n} zebra"), None)
                .await
                .unwrap();
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let request = SearchRequest {
        limit: Some(100),
        ..q("zebra burst")
    };
    assert_eq!(
        search(&engine, &agent, request.clone())
            .await
            .messages
            .len(),
        24
    );
    engine.delete_conversation(&agent, chat.id).await.unwrap();
    let after = search(&engine, &agent, request).await;
    assert!(after.messages.is_empty(), "{:?}", texts(&after));
    assert!(
        search(&engine, &agent, q(&chat.id.to_string()))
            .await
            .conversations
            .is_empty()
    );
}

/// Words longer than [`MAX_WORD_CHARS`](crate::search::MAX_WORD_CHARS) and words past a
/// message's thousandth are not searchable, on every store alike; the rest of such a
/// message is.
pub async fn overlong_and_excess_words_are_not_found(store: Arc<DynChatStore>) {
    let engine = engine(store);
    let agent = admin(&engine, "bounds", Permissions::default()).await;
    let alice = visitor(&engine).await;
    let chat = conversation(&engine, &alice).await;
    let long = "k".repeat(crate::search::MAX_WORD_CHARS + 1);
    let many: Vec<String> = (0..1005).map(|n| format!("v{n}")).collect();
    let text = format!("{long} tail {}", many.join(" "));
    send(&engine, &alice, chat.id, &text, None).await.unwrap();
    let count = |results: SearchResults| results.messages.len();
    assert_eq!(count(search(&engine, &agent, q("tail v998")).await), 1);
    assert_eq!(
        count(search(&engine, &agent, q("v999")).await),
        0,
        "the 1001st word"
    );
    assert_eq!(count(search(&engine, &agent, q(&long)).await), 0);
}
