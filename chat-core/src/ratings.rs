//! Satisfaction ratings (CSAT): a closed conversation's visitor rates it 1–5 with an
//! optional comment; a second rating replaces the first within [`CHANGE_WINDOW`]; the report
//! counts ratings per agent.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::error::InvalidInput;
use crate::ids::AdminId;

/// How long after the first rating the visitor may still change it.
pub const CHANGE_WINDOW: Duration = Duration::days(7);

/// Longest comment, in characters.
pub const MAX_COMMENT_CHARS: usize = 1000;

/// A score from 1 (bad) to 5 (great).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "u8", into = "u8")]
pub struct Score(u8);

impl Score {
    /// Checks `value`: 1 to 5.
    pub fn new(value: u8) -> Result<Self, InvalidInput> {
        match value {
            1..=5 => Ok(Self(value)),
            _ => Err(InvalidInput::new("rating", "must be 1, 2, 3, 4 or 5")),
        }
    }

    /// The score.
    pub fn get(self) -> u8 {
        self.0
    }
}

impl TryFrom<u8> for Score {
    type Error = InvalidInput;
    fn try_from(value: u8) -> Result<Self, Self::Error> {
        Self::new(value)
    }
}

impl From<Score> for u8 {
    fn from(score: Score) -> Self {
        score.0
    }
}

/// Checks a comment: trimmed, at most [`MAX_COMMENT_CHARS`]; blank means none.
pub fn comment(text: Option<&str>) -> Result<Option<String>, InvalidInput> {
    let Some(text) = text.map(str::trim).filter(|t| !t.is_empty()) else {
        return Ok(None);
    };
    if text.chars().count() > MAX_COMMENT_CHARS {
        let problem = format!("must be at most {MAX_COMMENT_CHARS} characters");
        return Err(InvalidInput::new("comment", problem));
    }
    if text.contains('\0') {
        return Err(InvalidInput::new(
            "comment",
            "must not contain NUL characters",
        ));
    }
    Ok(Some(text.to_owned()))
}

/// A conversation's rating, as its row keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rating {
    /// The score.
    pub score: Score,
    /// The visitor's words.
    pub comment: Option<String>,
    /// The agent the conversation was assigned to when it was rated.
    pub agent: Option<AdminId>,
    /// When the current rating was given.
    #[serde(with = "chrono::serde::ts_microseconds")]
    pub rated_at: DateTime<Utc>,
    /// When the first rating was given (the change window counts from it).
    #[serde(with = "chrono::serde::ts_microseconds")]
    pub first_rated_at: DateTime<Utc>,
}

impl Rating {
    /// Whether a new rating may still replace this one at `at`.
    pub fn may_change_at(&self, at: DateTime<Utc>) -> bool {
        at - self.first_rated_at <= CHANGE_WINDOW
    }
}

/// Which ratings a report counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RatingQuery {
    /// Rated at or after.
    pub since: Option<DateTime<Utc>>,
    /// Rated before.
    pub until: Option<DateTime<Utc>>,
    /// Only this agent's conversations.
    pub agent: Option<AdminId>,
}

impl RatingQuery {
    /// Whether the report counts `rating`.
    pub fn matches(&self, rating: &Rating) -> bool {
        self.since.is_none_or(|since| rating.rated_at >= since)
            && self.until.is_none_or(|until| rating.rated_at < until)
            && self.agent.is_none_or(|agent| rating.agent == Some(agent))
    }
}

/// How many matching ratings one agent (or nobody) got with one score: what a store counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RatingCount {
    /// The agent; `None`: unassigned conversations.
    pub agent: Option<AdminId>,
    /// The score.
    pub score: Score,
    /// How many.
    pub count: u64,
}

/// Counts of each score and their average.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RatingSummary {
    /// `counts[n - 1]` ratings scored `n`.
    pub counts: [u64; 5],
    /// How many ratings.
    pub total: u64,
    /// The mean score, if there is any rating.
    pub average: Option<f64>,
}

impl RatingSummary {
    fn add(&mut self, score: Score, count: u64) {
        self.counts[usize::from(score.get() - 1)] += count;
        self.total += count;
        let sum: u64 = (1..=5u64).zip(self.counts).map(|(s, n)| s * n).sum();
        self.average = (self.total > 0).then(|| sum as f64 / self.total as f64);
    }
}

/// The ratings report: all agents together, and each agent (unassigned last).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RatingReport {
    /// Every counted rating.
    pub overall: RatingSummary,
    /// Per agent.
    pub agents: Vec<(Option<AdminId>, RatingSummary)>,
}

/// Folds a store's counts into the report.
pub fn report(counts: &[RatingCount]) -> RatingReport {
    let mut overall = RatingSummary::default();
    let mut agents: BTreeMap<(bool, Option<AdminId>), RatingSummary> = BTreeMap::new();
    for count in counts {
        overall.add(count.score, count.count);
        let key = (count.agent.is_none(), count.agent);
        agents.entry(key).or_default().add(count.score, count.count);
    }
    RatingReport {
        overall,
        agents: agents
            .into_iter()
            .map(|((_, agent), s)| (agent, s))
            .collect(),
    }
}

/// Counts `ratings` the way a store must: by agent and score.
pub fn count<'a>(
    ratings: impl IntoIterator<Item = &'a Rating>,
    query: &RatingQuery,
) -> Vec<RatingCount> {
    let mut counts: BTreeMap<(Option<AdminId>, Score), u64> = BTreeMap::new();
    for rating in ratings.into_iter().filter(|r| query.matches(r)) {
        *counts.entry((rating.agent, rating.score)).or_default() += 1;
    }
    counts
        .into_iter()
        .map(|((agent, score), count)| RatingCount {
            agent,
            score,
            count,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn score(n: u8) -> Score {
        Score::new(n).unwrap()
    }

    #[test]
    fn scores_outside_one_to_five_are_refused() {
        for bad in [0, 6, 255] {
            assert!(Score::new(bad).is_err());
        }
        assert!(comment(Some(&"x".repeat(1001))).is_err());
        assert_eq!(comment(Some("  ")).unwrap(), None);
    }

    #[test]
    fn a_rating_changes_for_seven_days_after_the_first_then_is_final() {
        use crate::error::{Conflict, Error};
        use crate::ids::{ConversationId, CustomerId};
        use crate::log::{AppendRequest, Command, LogState, NewConversation, plan, plan_create};
        use crate::model::Actor;
        use crate::status::ConversationStatus;

        let customer = CustomerId::new();
        let start = Utc::now();
        let new = NewConversation {
            id: ConversationId::new(),
            customer_id: customer,
            customer_ip: None,
            metadata: Default::default(),
        };
        let mut conversation = plan_create(new, start).conversation;
        conversation.status = ConversationStatus::Closed;
        conversation.rating = Some(Rating {
            score: score(2),
            comment: None,
            agent: None,
            rated_at: start,
            first_rated_at: start,
        });
        let state = LogState {
            conversation,
            participants: Vec::new(),
            attachments: Vec::new(),
            target: None,
        };
        let rate = |at| AppendRequest {
            conversation_id: state.conversation.id,
            command: Command::Rate {
                score: score(5),
                comment: None,
                by: Actor::Customer(customer),
            },
            at,
        };
        let within = plan(&state, &rate(start + CHANGE_WINDOW)).expect("within the window");
        let rating = within.conversation.rating.expect("rating");
        assert_eq!((rating.score, rating.first_rated_at), (score(5), start));
        let late = plan(&state, &rate(start + CHANGE_WINDOW + Duration::seconds(1)));
        assert!(
            matches!(late, Err(Error::Conflict(Conflict::RatingFinal))),
            "{late:?}"
        );
    }

    #[test]
    fn the_report_averages_overall_and_per_agent_with_unassigned_last() {
        let (a, b) = (AdminId::new(), AdminId::new());
        let counts = [
            RatingCount {
                agent: None,
                score: score(1),
                count: 1,
            },
            RatingCount {
                agent: Some(a),
                score: score(5),
                count: 3,
            },
            RatingCount {
                agent: Some(a),
                score: score(4),
                count: 1,
            },
            RatingCount {
                agent: Some(b),
                score: score(2),
                count: 2,
            },
        ];
        let report = report(&counts);
        assert_eq!(report.overall.total, 7);
        assert_eq!(report.overall.counts, [1, 2, 0, 1, 3]);
        let average = report.overall.average.unwrap();
        assert!((average - 24.0 / 7.0).abs() < 1e-9, "{average}");
        assert_eq!(report.agents.last().unwrap().0, None);
        let of_a = report
            .agents
            .iter()
            .find(|(agent, _)| *agent == Some(a))
            .unwrap();
        assert_eq!(of_a.1.average, Some(4.75));
    }
}
