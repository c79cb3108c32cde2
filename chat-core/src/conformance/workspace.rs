//! Scenarios for the workspace catalogs (labels, canned replies) and the labels on a
//! conversation.

use std::sync::Arc;

use crate::accounts::Permissions;
use crate::authz::Principal;
use crate::canned::CannedReplyChanges;
use crate::conformance::fixtures::{admin, all_events, body, conversation, engine, visitor};
use crate::engine::{ListRequest, StartConversation};
use crate::error::Error;
use crate::event::{Audience, EventKind};
use crate::ids::{CannedReplyId, LabelId};
use crate::labels::LabelChanges;
use crate::store::DynChatStore;
use crate::values::{LabelColor, LabelTitle, Metadata, ShortCode};

fn title(text: &str) -> LabelTitle {
    LabelTitle::parse(text).expect("title")
}

fn code(text: &str) -> ShortCode {
    ShortCode::parse(text).expect("short code")
}

/// Titles are unique ignoring case, on create and on rename; lists come in title order;
/// a missing label is `NotFound`.
pub async fn label_titles_are_unique_ignoring_case(store: Arc<DynChatStore>) {
    let engine = engine(store.clone());
    let lead = admin(&engine, "lead", Permissions::default()).await;
    let red = LabelColor::parse("#FF0000").expect("color");
    let billing = engine
        .create_label(&lead, title("Billing"), Some(red.clone()))
        .await
        .expect("create");
    let vip = engine
        .create_label(&lead, title("vip"), None)
        .await
        .expect("create");
    let duplicate = engine.create_label(&lead, title("BILLING"), None).await;
    assert!(
        matches!(duplicate, Err(Error::AlreadyExists(_))),
        "{duplicate:?}"
    );
    let rename = LabelChanges {
        title: Some(title("Vip")),
        color: None,
    };
    let clash = engine.update_label(&lead, billing.id, rename).await;
    assert!(matches!(clash, Err(Error::AlreadyExists(_))), "{clash:?}");
    let recase = LabelChanges {
        title: Some(title("VIP")),
        color: Some(Some(red)),
    };
    let renamed = engine
        .update_label(&lead, vip.id, recase)
        .await
        .expect("a label may change the case of its own title");
    assert_eq!(renamed.title.as_str(), "VIP");
    let titles: Vec<String> = store
        .list_labels()
        .await
        .expect("list")
        .iter()
        .map(|l| l.title.to_string())
        .collect();
    assert_eq!(
        titles,
        ["Billing", "VIP"],
        "title order, the clash left nothing behind"
    );
    assert_eq!(store.list_labels().await.expect("list")[1], renamed);
    engine
        .delete_label(&lead, billing.id)
        .await
        .expect("delete");
    let again = engine.delete_label(&lead, billing.id).await;
    assert!(matches!(again, Err(Error::NotFound(_))), "{again:?}");
    let missing = engine
        .update_label(&lead, LabelId::new(), LabelChanges::default())
        .await;
    assert!(matches!(missing, Err(Error::NotFound(_))), "{missing:?}");
    let reuse = engine.create_label(&lead, title("billing"), None).await;
    assert!(
        reuse.is_ok(),
        "a deleted label's title is free again: {reuse:?}"
    );
}

/// Setting a conversation's labels is one event in its log (hidden from the visitor); the
/// same set again appends nothing; an unknown title changes nothing; the list filters by
/// label; a deleted label shows nowhere.
pub async fn conversation_labels_are_log_events_and_filter_the_list(store: Arc<DynChatStore>) {
    let engine = engine(store.clone());
    let agent = admin(&engine, "labeller", Permissions::default()).await;
    for name in ["billing", "vip", "bug"] {
        engine
            .create_label(&agent, title(name), None)
            .await
            .expect("label");
    }
    let guest = visitor(&engine).await;
    let tagged = conversation(&engine, &guest).await;
    let other = conversation(&engine, &guest).await;
    let before = all_events(store.as_ref(), tagged.id).await.len();

    let (conv, shown) = engine
        .set_conversation_labels(&agent, tagged.id, &["VIP".into(), "billing".into()])
        .await
        .expect("set labels");
    let names: Vec<&str> = shown.iter().map(|l| l.title.as_str()).collect();
    assert_eq!(names, ["billing", "vip"]);
    assert_eq!(conv.labels.len(), 2);
    let events = all_events(store.as_ref(), tagged.id).await;
    assert_eq!(events.len(), before + 1, "one event");
    let last = events.last().expect("event");
    assert!(
        matches!(&last.kind, EventKind::LabelsChanged { added, removed, .. }
        if added.len() == 2 && removed.is_empty())
    );
    assert!(!last.visible_to(Audience::Customer));
    assert_eq!(conv.last_seq, last.seq);

    engine
        .set_conversation_labels(&agent, tagged.id, &["vip".into(), "Billing".into()])
        .await
        .expect("same set");
    assert_eq!(
        all_events(store.as_ref(), tagged.id).await.len(),
        before + 1,
        "nothing appended"
    );

    let unknown = engine
        .set_conversation_labels(&agent, tagged.id, &["vip".into(), "nope".into()])
        .await;
    assert!(
        matches!(unknown, Err(Error::InvalidInput(_))),
        "{unknown:?}"
    );
    let stored = store
        .get_conversation(tagged.id)
        .await
        .expect("get")
        .expect("row");
    assert_eq!(
        stored.labels, conv.labels,
        "a refused change changes nothing"
    );

    engine
        .set_conversation_labels(&agent, tagged.id, &["bug".into(), "vip".into()])
        .await
        .expect("replace");
    let last = all_events(store.as_ref(), tagged.id)
        .await
        .pop()
        .expect("event");
    assert!(
        matches!(&last.kind, EventKind::LabelsChanged { added, removed, .. }
        if added.len() == 1 && removed.len() == 1)
    );

    let filter = |label: &str| ListRequest {
        label: Some(label.into()),
        ..ListRequest::default()
    };
    let page = engine
        .list_conversations(&agent, filter("VIP"))
        .await
        .expect("list");
    let ids: Vec<_> = page.items.iter().map(|s| s.conversation.id).collect();
    assert_eq!(ids, [tagged.id]);
    assert_eq!(page.total_count, 1);
    let none = engine
        .list_conversations(&agent, filter("billing"))
        .await
        .expect("list");
    assert!(none.items.is_empty() && none.total_count == 0);
    let unknown = engine.list_conversations(&agent, filter("nope")).await;
    assert!(
        matches!(unknown, Err(Error::InvalidInput(_))),
        "{unknown:?}"
    );
    let mine = engine
        .list_conversations(&guest, ListRequest::default())
        .await
        .expect("visitor list");
    assert_eq!(mine.items.len(), 2);
    assert!(mine.items.iter().all(|s| s.conversation.labels.is_empty()));
    let seen = engine
        .get_conversation(&guest, tagged.id)
        .await
        .expect("get");
    assert!(seen.labels.is_empty(), "a visitor never sees labels");
    let refused = engine.list_conversations(&guest, filter("vip")).await;
    assert!(
        matches!(refused, Err(Error::PermissionDenied(_))),
        "{refused:?}"
    );

    let labels = store.list_labels().await.expect("labels");
    let bug = labels
        .iter()
        .find(|l| l.title.as_str() == "bug")
        .expect("bug");
    engine.delete_label(&agent, bug.id).await.expect("delete");
    let left = engine
        .conversation_labels(&agent, tagged.id)
        .await
        .expect("labels");
    let names: Vec<&str> = left.iter().map(|l| l.title.as_str()).collect();
    assert_eq!(names, ["vip"], "a deleted label shows nowhere");
    let row = store
        .get_conversation(tagged.id)
        .await
        .expect("get")
        .expect("row");
    assert_eq!(row.labels.len(), 2, "the row keeps the deleted label's id");
    let _ = other;
}

/// Changes to different labels made at the same time all stick (put on and taken off
/// against the set as it is when written), and a change that changes nothing appends
/// nothing.
pub async fn concurrent_label_changes_all_stick(store: Arc<DynChatStore>) {
    let engine = engine(store.clone());
    let agent = admin(&engine, "changer", Permissions::default()).await;
    let names: Vec<String> = (0..6).map(|n| format!("l{n}")).collect();
    for name in &names {
        engine
            .create_label(&agent, title(name), None)
            .await
            .expect("label");
    }
    let guest = visitor(&engine).await;
    let conv = conversation(&engine, &guest).await;
    engine
        .set_conversation_labels(&agent, conv.id, &names[..3])
        .await
        .expect("set");
    let changes = (0..3).map(|n| {
        let engine = engine.clone();
        let (add, remove) = (vec![names[n + 3].clone()], vec![names[n].clone()]);
        async move {
            engine
                .change_conversation_labels(&agent, conv.id, &add, &remove)
                .await
        }
    });
    for result in futures_util::future::join_all(changes).await {
        result.expect("change");
    }
    let (_, shown) = engine
        .change_conversation_labels(&agent, conv.id, &[], &[])
        .await
        .expect("no change");
    let titles: Vec<&str> = shown.iter().map(|l| l.title.as_str()).collect();
    assert_eq!(titles, ["l3", "l4", "l5"], "every change stuck");
    let events = all_events(store.as_ref(), conv.id).await;
    let label_events = events
        .iter()
        .filter(|e| matches!(e.kind, EventKind::LabelsChanged { .. }))
        .count();
    assert_eq!(label_events, 4, "one per change that changed something");
}

/// Short codes are unique ignoring case; search ranks prefix, then contains, then content;
/// placeholders are filled for the named conversation.
pub async fn canned_replies_are_unique_ranked_and_filled(store: Arc<DynChatStore>) {
    let engine = engine(store.clone());
    let agent = admin(&engine, "Grace", Permissions::default()).await;
    let text = "Hi {{visitor.name}}, {{agent.name}} here: your refund is on its way.";
    let refund = engine
        .create_canned_reply(&agent, code("refund"), body(text))
        .await
        .expect("create");
    engine
        .create_canned_reply(&agent, code("late-refund"), body("Sorry for the wait."))
        .await
        .expect("create");
    engine
        .create_canned_reply(
            &agent,
            code("hello"),
            body("Thanks, a refund takes 5 days."),
        )
        .await
        .expect("create");
    let duplicate = engine
        .create_canned_reply(&agent, code("REFUND"), body("x"))
        .await;
    assert!(
        matches!(duplicate, Err(Error::AlreadyExists(_))),
        "{duplicate:?}"
    );

    let metadata = Metadata::parse(
        serde_json::json!({"name": "Ada"}),
        &crate::values::Limits::default(),
    )
    .expect("metadata");
    let guest = visitor(&engine).await;
    let start = StartConversation {
        metadata,
        customer_ip: None,
    };
    let conv = engine
        .start_conversation(&guest, start)
        .await
        .expect("start");
    let found = engine
        .search_canned_replies(&agent, "Refund", Some(conv.id))
        .await
        .expect("search");
    let codes: Vec<&str> = found.iter().map(|m| m.reply.short_code.as_str()).collect();
    assert_eq!(codes, ["refund", "late-refund", "hello"]);
    assert_eq!(
        found[0].filled.as_deref(),
        Some("Hi Ada, Grace here: your refund is on its way.")
    );

    let rename = CannedReplyChanges {
        short_code: Some(code("Late-Refund")),
        content: None,
    };
    let clash = engine.update_canned_reply(&agent, refund.id, rename).await;
    assert!(matches!(clash, Err(Error::AlreadyExists(_))), "{clash:?}");
    let change = CannedReplyChanges {
        short_code: None,
        content: Some(body("Refunds take 5 days.")),
    };
    let changed = engine
        .update_canned_reply(&agent, refund.id, change)
        .await
        .expect("update");
    assert_eq!(changed.short_code.as_str(), "refund");
    let listed = store.list_canned_replies().await.expect("list");
    let codes: Vec<&str> = listed.iter().map(|r| r.short_code.as_str()).collect();
    assert_eq!(codes, ["hello", "late-refund", "refund"]);
    assert_eq!(listed[2], changed);
    engine
        .delete_canned_reply(&agent, refund.id)
        .await
        .expect("delete");
    let gone = engine
        .delete_canned_reply(&agent, CannedReplyId::new())
        .await;
    assert!(matches!(gone, Err(Error::NotFound(_))), "{gone:?}");
    assert_eq!(store.list_canned_replies().await.expect("list").len(), 2);
    let refused = engine.search_canned_replies(&guest, "", None).await;
    assert!(
        matches!(refused, Err(Error::PermissionDenied(_))),
        "{refused:?}"
    );
    let _ = Principal::System;
}
