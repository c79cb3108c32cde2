//! The agents' workflow over REST: labels and canned replies (who may see and change them,
//! uniqueness answers, unknown titles, the list filter, what a visitor never sees) and
//! satisfaction ratings (who rates what when, and the report).

mod common;

use axum::http::{Method, StatusCode};
use chat_core::accounts::{ConversationScope, Permissions};
use common::{TestApp, assert_error, text};
use serde_json::{Value, json};

fn titles(reply: &Value) -> Vec<String> {
    reply["labels"]
        .as_array()
        .expect("labels")
        .iter()
        .map(|l| text(&l["title"]))
        .collect()
}

#[tokio::test]
async fn labels_are_unique_ignoring_case_and_only_for_agents() {
    let app = TestApp::new();
    let (agent, _) = app.admin("lead@example.com", Permissions::default()).await;
    let (visitor, _) = app.visitor().await;
    let created = app
        .post(
            "/api/labels",
            &agent,
            json!({"title": "Billing", "color": "#AA0000"}),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.json);
    assert_eq!(created.json["label"]["color"], "#aa0000");
    let duplicate = app
        .post("/api/labels", &agent, json!({"title": " billing "}))
        .await;
    assert_error(&duplicate, StatusCode::CONFLICT, "already_exists");
    let bad_color = app
        .post("/api/labels", &agent, json!({"title": "x", "color": "red"}))
        .await;
    assert_error(
        &bad_color,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_input",
    );
    let label = json!({"title": "t"});
    let reply = json!({"shortCode": "s", "content": "c"});
    for (method, path, body) in [
        (Method::GET, "/api/labels", None),
        (Method::POST, "/api/labels", Some(label)),
        (Method::GET, "/api/canned-replies", None),
        (Method::POST, "/api/canned-replies", Some(reply)),
    ] {
        let reply = app.call(method, path, Some(&visitor), body).await;
        assert_error(&reply, StatusCode::FORBIDDEN, "forbidden");
    }
    let id = text(&created.json["label"]["id"]);
    let (viewer, _) = app
        .admin(
            "viewer@example.com",
            Permissions {
                manage_conversations: false,
                ..Permissions::default()
            },
        )
        .await;
    let listed = app.get("/api/labels", &viewer).await;
    assert_eq!(titles(&listed.json), ["Billing"]);
    let rename = app
        .call(
            Method::PATCH,
            &format!("/api/labels/{id}"),
            Some(&viewer),
            Some(json!({"title": "Money"})),
        )
        .await;
    assert_error(&rename, StatusCode::FORBIDDEN, "forbidden");
    let rename = app
        .call(
            Method::PATCH,
            &format!("/api/labels/{id}"),
            Some(&agent),
            Some(json!({"title": "Money", "color": null})),
        )
        .await;
    assert_eq!(rename.status, StatusCode::OK, "{}", rename.json);
    assert_eq!(rename.json["label"]["title"], "Money");
    assert_eq!(rename.json["label"]["color"], Value::Null);
    let delete = app
        .call(
            Method::DELETE,
            &format!("/api/labels/{id}"),
            Some(&agent),
            None,
        )
        .await;
    assert_eq!(delete.status, StatusCode::NO_CONTENT);
    let again = app
        .call(
            Method::DELETE,
            &format!("/api/labels/{id}"),
            Some(&agent),
            None,
        )
        .await;
    assert_error(&again, StatusCode::NOT_FOUND, "not_found");
}

#[tokio::test]
async fn conversation_labels_replace_the_set_refuse_unknown_titles_and_filter_the_list() {
    let app = TestApp::new();
    let (agent, _) = app.admin("agent@example.com", Permissions::default()).await;
    for title in ["vip", "bug"] {
        let reply = app
            .post("/api/labels", &agent, json!({"title": title}))
            .await;
        assert_eq!(reply.status, StatusCode::CREATED);
    }
    let (visitor, _) = app.visitor().await;
    let tagged = app.conversation(&visitor).await;
    let _plain = app.conversation(&visitor).await;
    let path = format!("/api/conversations/{tagged}/labels");

    let set = app
        .post(&path, &agent, json!({"labels": ["VIP", "bug"]}))
        .await;
    assert_eq!(set.status, StatusCode::OK, "{}", set.json);
    assert_eq!(titles(&set.json), ["bug", "vip"]);
    let seq = app.last_seq(&agent, &tagged).await;

    let unknown = app
        .post(&path, &agent, json!({"labels": ["vip", "typo"]}))
        .await;
    assert_error(&unknown, StatusCode::UNPROCESSABLE_ENTITY, "invalid_input");
    assert!(text(&unknown.json["error"]["message"]).contains("typo"));
    assert_eq!(
        titles(&app.get(&path, &agent).await.json),
        ["bug", "vip"],
        "nothing changed"
    );
    assert_eq!(app.last_seq(&agent, &tagged).await, seq, "nothing appended");

    let listed = app.get("/api/conversations/list?label=Vip", &agent).await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.json);
    let ids: Vec<String> = listed.json["conversations"]
        .as_array()
        .expect("list")
        .iter()
        .map(|c| text(&c["id"]))
        .collect();
    assert_eq!(ids.as_slice(), std::slice::from_ref(&tagged));
    assert_eq!(listed.json["totalCount"], 1);
    assert_eq!(
        listed.json["conversations"][0]["labelIds"]
            .as_array()
            .map(Vec::len),
        Some(2)
    );
    let unknown = app.get("/api/conversations/list?label=nope", &agent).await;
    assert_error(&unknown, StatusCode::UNPROCESSABLE_ENTITY, "invalid_input");

    let events = app
        .get(&format!("/api/conversations/{tagged}/events"), &agent)
        .await;
    let last = events.json["events"]
        .as_array()
        .and_then(|e| e.last().cloned())
        .expect("event");
    assert_eq!(last["type"], "labelsChanged");
    assert_eq!(last["labelsAdded"].as_array().map(Vec::len), Some(2));

    let seen = app
        .get(&format!("/api/conversations/{tagged}"), &visitor)
        .await;
    assert_eq!(
        seen.json["conversation"]["labelIds"],
        json!([]),
        "a visitor never sees labels"
    );
    let theirs = app
        .get(&format!("/api/conversations/{tagged}/events"), &visitor)
        .await;
    assert!(
        theirs.json["events"]
            .as_array()
            .expect("events")
            .iter()
            .all(|e| e["type"] != "labelsChanged"),
        "{}",
        theirs.json
    );
    for reply in [
        app.get(&path, &visitor).await,
        app.post(&path, &visitor, json!({"labels": []})).await,
    ] {
        assert_error(&reply, StatusCode::FORBIDDEN, "forbidden");
    }

    let restricted = Permissions {
        scope: ConversationScope::Assigned,
        ..Permissions::default()
    };
    let (narrow, _) = app.admin("narrow@example.com", restricted).await;
    let refused = app.post(&path, &narrow, json!({"labels": []})).await;
    assert_error(&refused, StatusCode::NOT_FOUND, "not_found");

    let changed = app
        .post(&path, &agent, json!({"add": ["vip"], "remove": ["BUG"]}))
        .await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.json);
    assert_eq!(titles(&changed.json), ["vip"]);
    let both = app
        .post(&path, &agent, json!({"labels": [], "add": ["vip"]}))
        .await;
    assert_error(&both, StatusCode::BAD_REQUEST, "bad_request");
    let cleared = app.post(&path, &agent, json!({"labels": []})).await;
    assert_eq!(cleared.json["labels"], json!([]));
}

#[tokio::test]
async fn canned_replies_rank_fill_and_refuse_duplicates() {
    let app = TestApp::new();
    let (agent, _) = app.admin("grace@example.com", Permissions::default()).await;
    for (code, content) in [
        ("thanks", "Happy to help with a refund"),
        (
            "refund",
            "Hi {{visitor.name}}, {{agent.name}} here: refunds take 5 days.",
        ),
        ("late-refund", "Sorry for the wait."),
    ] {
        let reply = app
            .post(
                "/api/canned-replies",
                &agent,
                json!({"shortCode": code, "content": content}),
            )
            .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.json);
    }
    let duplicate = app
        .post(
            "/api/canned-replies",
            &agent,
            json!({"shortCode": "REFUND", "content": "x"}),
        )
        .await;
    assert_error(&duplicate, StatusCode::CONFLICT, "already_exists");

    let (visitor, _) = app.visitor().await;
    let started = app
        .post(
            "/api/conversations",
            &visitor,
            json!({"metadata": {"name": "Ada"}}),
        )
        .await;
    let conversation = text(&started.json["conversation"]["id"]);
    let found = app
        .get(
            &format!("/api/canned-replies?search=refund&conversationId={conversation}"),
            &agent,
        )
        .await;
    assert_eq!(found.status, StatusCode::OK, "{}", found.json);
    let replies = found.json["cannedReplies"].as_array().expect("replies");
    let codes: Vec<String> = replies.iter().map(|r| text(&r["shortCode"])).collect();
    assert_eq!(codes, ["refund", "late-refund", "thanks"]);
    assert_eq!(
        replies[0]["filled"],
        "Hi Ada, Agent here: refunds take 5 days."
    );
    let plain = app.get("/api/canned-replies?search=zzz", &agent).await;
    assert_eq!(plain.json["cannedReplies"], json!([]));

    let stranger = chat_core::ids::ConversationId::new();
    let missing = app
        .get(
            &format!("/api/canned-replies?conversationId={stranger}"),
            &agent,
        )
        .await;
    assert_error(&missing, StatusCode::NOT_FOUND, "not_found");
    let id = text(&replies[0]["id"]);
    let empty = app
        .call(
            Method::PATCH,
            &format!("/api/canned-replies/{id}"),
            Some(&agent),
            Some(json!({})),
        )
        .await;
    assert_error(&empty, StatusCode::BAD_REQUEST, "bad_request");
    let clash = app
        .call(
            Method::PATCH,
            &format!("/api/canned-replies/{id}"),
            Some(&agent),
            Some(json!({"shortCode": "Thanks"})),
        )
        .await;
    assert_error(&clash, StatusCode::CONFLICT, "already_exists");
}

#[tokio::test]
async fn the_visitor_rates_its_closed_conversation_and_managers_read_the_report() {
    let app = TestApp::new();
    let (agent, agent_id) = app.admin("rated@example.com", Permissions::default()).await;
    let (viewer, _) = app
        .admin(
            "viewer@example.com",
            Permissions {
                manage_conversations: false,
                ..Permissions::default()
            },
        )
        .await;
    let (visitor, _) = app.visitor().await;
    let (stranger, _) = app.visitor().await;
    let conversation = app.conversation(&visitor).await;
    let rating = format!("/api/conversations/{conversation}/rating");
    let early = app.post(&rating, &visitor, json!({"rating": 5})).await;
    assert_error(&early, StatusCode::CONFLICT, "not_closed");
    let base = format!("/api/conversations/{conversation}");
    let assigned = app
        .post(
            &format!("{base}/assign"),
            &agent,
            json!({"assigneeId": agent_id}),
        )
        .await;
    assert_eq!(assigned.status, StatusCode::OK, "{}", assigned.json);
    let closed = app
        .post(
            &format!("{base}/status"),
            &agent,
            json!({"status": "closed"}),
        )
        .await;
    assert_eq!(closed.status, StatusCode::OK, "{}", closed.json);

    for bad in [
        json!({"rating": 0}),
        json!({"rating": 6}),
        json!({"rating": 3, "comment": "x".repeat(1001)}),
    ] {
        let refused = app.post(&rating, &visitor, bad).await;
        assert_error(&refused, StatusCode::UNPROCESSABLE_ENTITY, "invalid_input");
    }
    let by_agent = app.post(&rating, &agent, json!({"rating": 5})).await;
    assert_error(&by_agent, StatusCode::FORBIDDEN, "forbidden");
    let foreign = app.post(&rating, &stranger, json!({"rating": 1})).await;
    assert_error(&foreign, StatusCode::NOT_FOUND, "not_found");

    let label = app
        .post("/api/labels", &agent, json!({"title": "angry"}))
        .await;
    assert_eq!(label.status, StatusCode::CREATED, "{}", label.json);
    let labelled = app
        .post(
            &format!("{base}/labels"),
            &agent,
            json!({"labels": ["angry"]}),
        )
        .await;
    assert_eq!(labelled.status, StatusCode::OK, "{}", labelled.json);
    let rated = app
        .post(
            &rating,
            &visitor,
            json!({"rating": 4, "comment": "Quick and kind"}),
        )
        .await;
    assert_eq!(rated.status, StatusCode::OK, "{}", rated.json);
    assert_eq!(
        rated.json["conversation"]["labelIds"],
        json!([]),
        "the visitor's answer leaves the labels out"
    );
    assert_eq!(rated.json["conversation"]["rating"]["rating"], 4);
    assert!(rated.json["conversation"]["rating"]["changeableUntil"].is_string());
    let changed = app.post(&rating, &visitor, json!({"rating": 5})).await;
    assert_eq!(changed.json["conversation"]["rating"]["rating"], 5);
    let seen = app.get(&base, &agent).await;
    assert_eq!(seen.json["conversation"]["rating"]["rating"], 5);

    let report = app.get("/api/reports/ratings", &agent).await;
    assert_eq!(report.status, StatusCode::OK, "{}", report.json);
    assert_eq!(report.json["overall"]["total"], 1);
    assert_eq!(report.json["overall"]["counts"]["5"], 1);
    assert_eq!(report.json["overall"]["average"], 5.0);
    assert_eq!(text(&report.json["agents"][0]["agentId"]), agent_id);
    let other = chat_core::ids::AdminId::new();
    let none = app
        .get(&format!("/api/reports/ratings?agentId={other}"), &agent)
        .await;
    assert_eq!(none.json["overall"]["total"], 0);
    assert_eq!(none.json["overall"]["average"], Value::Null);
    for who in [&viewer, &visitor] {
        let refused = app.get("/api/reports/ratings", who).await;
        assert_error(&refused, StatusCode::FORBIDDEN, "forbidden");
    }
}

#[tokio::test]
async fn snooze_over_rest_wakes_on_the_visitors_message_and_refuses_bad_times() {
    let app = TestApp::new();
    let (agent, _) = app
        .admin("snooze@example.com", Permissions::default())
        .await;
    let (visitor, _) = app.visitor().await;
    let conversation = app.conversation(&visitor).await;
    let status = format!("/api/conversations/{conversation}/status");
    let past = app
        .post(
            &status,
            &agent,
            json!({"status": "snoozed", "snoozedUntil": "2020-01-01T00:00:00Z"}),
        )
        .await;
    assert_error(&past, StatusCode::UNPROCESSABLE_ENTITY, "invalid_input");
    let misplaced = app
        .post(
            &status,
            &agent,
            json!({"status": "closed", "snoozedUntil": "2999-01-01T00:00:00Z"}),
        )
        .await;
    assert_error(
        &misplaced,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_input",
    );
    let by_visitor = app
        .post(&status, &visitor, json!({"status": "snoozed"}))
        .await;
    assert_error(&by_visitor, StatusCode::FORBIDDEN, "forbidden");

    let until = (chrono::Utc::now() + chrono::Duration::hours(2)).to_rfc3339();
    let snoozed = app
        .post(
            &status,
            &agent,
            json!({"status": "snoozed", "snoozedUntil": until}),
        )
        .await;
    assert_eq!(snoozed.status, StatusCode::OK, "{}", snoozed.json);
    assert_eq!(snoozed.json["conversation"]["status"], "snoozed");
    assert!(snoozed.json["conversation"]["snoozedUntil"].is_string());
    let listed = app
        .get("/api/conversations/list?status=snoozed", &agent)
        .await;
    assert_eq!(listed.json["totalCount"], 1);

    let sent = app
        .send_as_visitor(&visitor, &conversation, "hello again")
        .await;
    assert_eq!(sent.status, StatusCode::OK, "{}", sent.json);
    let woken = app
        .get(&format!("/api/conversations/{conversation}"), &agent)
        .await;
    assert_eq!(woken.json["conversation"]["status"], "waiting");
    assert_eq!(woken.json["conversation"]["snoozedUntil"], Value::Null);
    let events = app
        .get(&format!("/api/conversations/{conversation}/events"), &agent)
        .await;
    let kinds: Vec<String> = events.json["events"]
        .as_array()
        .expect("events")
        .iter()
        .map(|e| text(&e["type"]))
        .collect();
    let tail = &kinds[kinds.len() - 3..];
    assert_eq!(tail, ["snoozed", "statusChanged", "message"], "{kinds:?}");
}

#[tokio::test]
async fn an_agents_capacity_is_set_cleared_and_checked() {
    let app = TestApp::new();
    let owner_permissions = Permissions {
        manage_admins: true,
        ..Permissions::default()
    };
    let (owner, _) = app.admin("owner@example.com", owner_permissions).await;
    let (agent, agent_id) = app.admin("agent@example.com", Permissions::default()).await;
    let path = format!("/api/admins/{agent_id}");
    let set = app
        .call(
            Method::PATCH,
            &path,
            Some(&owner),
            Some(json!({"capacity": 3})),
        )
        .await;
    assert_eq!(set.status, StatusCode::OK, "{}", set.json);
    assert_eq!(set.json["admin"]["capacity"], 3);
    let cleared = app
        .call(
            Method::PATCH,
            &path,
            Some(&owner),
            Some(json!({"capacity": null})),
        )
        .await;
    assert_eq!(cleared.json["admin"]["capacity"], Value::Null);
    let negative = app
        .call(
            Method::PATCH,
            &path,
            Some(&owner),
            Some(json!({"capacity": -1})),
        )
        .await;
    assert!(negative.status.is_client_error(), "{}", negative.json);
    let own = app
        .call(
            Method::PATCH,
            &path,
            Some(&agent),
            Some(json!({"capacity": 99})),
        )
        .await;
    assert_error(&own, StatusCode::FORBIDDEN, "forbidden");
}
