//! Scenarios for satisfaction ratings: who may rate what and when, replacing a rating, and
//! the report's counts per agent.

use std::sync::Arc;

use crate::accounts::Permissions;
use crate::authz::Principal;
use crate::conformance::fixtures::{admin, all_events, conversation, engine, visitor};
use crate::error::{Conflict, Error};
use crate::event::EventKind;
use crate::ratings::{RatingQuery, Score};
use crate::status::ConversationStatus::Closed;
use crate::store::DynChatStore;

fn score(n: u8) -> Score {
    Score::new(n).expect("score")
}

/// Only the visitor rates, only a closed conversation; a second rating replaces the first;
/// the report counts the current ratings per agent (the assignee when rated), filtered by
/// agent and time.
pub async fn ratings_are_the_visitors_and_the_report_counts_per_agent(store: Arc<DynChatStore>) {
    let engine = engine(store.clone());
    let lead = admin(&engine, "lead", Permissions::default()).await;
    let other = admin(&engine, "other", Permissions::default()).await;
    let (Principal::Admin { id: a, .. }, Principal::Admin { id: b, .. }) = (lead, other) else {
        unreachable!()
    };
    let guest = visitor(&engine).await;
    let stranger = visitor(&engine).await;
    let mut ids = Vec::new();
    for assignee in [Some(a), Some(b), None, None] {
        let conv = conversation(&engine, &guest).await;
        if let Some(agent) = assignee {
            engine
                .assign(&Principal::System, conv.id, Some(agent))
                .await
                .expect("assign");
        }
        ids.push(conv.id);
    }
    let open = engine
        .rate_conversation(&guest, ids[3], score(5), None)
        .await;
    assert!(
        matches!(open, Err(Error::Conflict(Conflict::NotClosed))),
        "{open:?}"
    );
    for id in &ids[..3] {
        engine
            .set_status(&Principal::System, *id, Closed)
            .await
            .expect("close");
    }
    let foreign = engine
        .rate_conversation(&stranger, ids[0], score(1), None)
        .await;
    assert!(matches!(foreign, Err(Error::NotFound(_))), "{foreign:?}");
    let by_agent = engine
        .rate_conversation(&lead, ids[0], score(5), None)
        .await;
    assert!(
        matches!(by_agent, Err(Error::PermissionDenied(_))),
        "{by_agent:?}"
    );

    let first = engine
        .rate_conversation(&guest, ids[0], score(5), Some("  Great help  "))
        .await
        .expect("rate");
    let rating = first.rating.clone().expect("rating");
    assert_eq!((rating.score, rating.agent), (score(5), Some(a)));
    assert_eq!(rating.comment.as_deref(), Some("Great help"));
    let again = engine
        .rate_conversation(&guest, ids[0], score(3), None)
        .await
        .expect("replace");
    let replaced = again.rating.expect("rating");
    assert_eq!((replaced.score, replaced.comment), (score(3), None));
    assert_eq!(replaced.first_rated_at, rating.first_rated_at);
    let last = all_events(store.as_ref(), ids[0])
        .await
        .pop()
        .expect("event");
    assert!(
        matches!(last.kind, EventKind::Rated { .. }),
        "a rating is a log event"
    );
    let stored = store
        .get_conversation(ids[0])
        .await
        .expect("get")
        .expect("row");
    assert_eq!(stored.rating.map(|r| r.score), Some(score(3)));

    engine
        .rate_conversation(&guest, ids[1], score(2), None)
        .await
        .expect("rate");
    engine
        .rate_conversation(&guest, ids[2], score(4), None)
        .await
        .expect("rate");

    let all = engine
        .rating_report(&lead, RatingQuery::default())
        .await
        .expect("report");
    assert_eq!(all.overall.total, 3);
    assert_eq!(all.overall.counts, [0, 1, 1, 1, 0]);
    assert_eq!(all.overall.average, Some(3.0));
    let per: Vec<_> = all
        .agents
        .iter()
        .map(|(agent, s)| (*agent, s.total))
        .collect();
    assert!(per.contains(&(Some(a), 1)) && per.contains(&(Some(b), 1)));
    assert_eq!(per.last(), Some(&(None, 1)), "unassigned last");
    let only_a = RatingQuery {
        agent: Some(a),
        ..RatingQuery::default()
    };
    let mine = engine.rating_report(&lead, only_a).await.expect("report");
    assert_eq!(mine.overall.counts, [0, 0, 1, 0, 0]);
    let later = RatingQuery {
        since: Some(crate::engine::now() + chrono::Duration::hours(1)),
        ..RatingQuery::default()
    };
    let none = engine.rating_report(&lead, later).await.expect("report");
    assert_eq!((none.overall.total, none.overall.average), (0, None));
    let refused = engine.rating_report(&guest, RatingQuery::default()).await;
    assert!(
        matches!(refused, Err(Error::PermissionDenied(_))),
        "{refused:?}"
    );
}
