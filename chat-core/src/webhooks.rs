//! Webhook endpoints and the delivery rules: which events an endpoint takes, and what
//! happens after each attempt (delivered, retried with backoff, given up, disabled).
//!
//! Delivery reads the store-wide change feed: an endpoint keeps a durable cursor (the last
//! feed position it is done with) and is sent the events after it one at a time, in order.
//! The cursor moves only after a 2xx answer (or when an event has failed for good), so a
//! crash at any point sends an event again, never skips it: receivers dedupe on the
//! `webhook-id`, which names the event and is the same on every attempt.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::event::{Event, EventKind};
use crate::ids::{DeliveryId, FeedPosition, WebhookId};
use crate::invalid::InvalidInput;

/// How many attempts an endpoint's delivery log keeps (the newest).
pub const DELIVERY_LOG_KEEP: usize = 500;

/// Longest accepted endpoint URL.
pub const MAX_URL_LEN: usize = 2048;

/// How long a rotated-out secret keeps signing alongside the new one.
pub const ROTATION_OVERLAP: Duration = Duration::from_secs(24 * 60 * 60);

/// The longest wait a `Retry-After` answer may ask for.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(24 * 60 * 60);

/// An endpoint's URL: absolute `http` or `https`, with a host, no credentials. Whether its
/// host is an allowed target (not private, not loopback) is decided where names are
/// resolved, by the HTTP layer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct WebhookUrl(String);

impl WebhookUrl {
    /// Checks the URL's shape.
    pub fn parse(raw: &str) -> Result<Self, InvalidInput> {
        let invalid = |why| InvalidInput::new("url", why);
        let raw = raw.trim();
        if raw.len() > MAX_URL_LEN {
            return Err(invalid("must be at most 2048 characters"));
        }
        let rest = raw
            .strip_prefix("https://")
            .or_else(|| raw.strip_prefix("http://"))
            .ok_or_else(|| invalid("must be an http:// or https:// URL"))?;
        let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
        if authority.is_empty() || authority.contains('@') {
            return Err(invalid("must name a host, without credentials"));
        }
        if raw.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(invalid("must not contain spaces"));
        }
        Ok(Self(raw.to_owned()))
    }

    /// The URL.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The event types an endpoint takes: `None` in [`WebhookEndpoint::events`] means all.
pub fn parse_event_types(names: &[String]) -> Result<Vec<String>, InvalidInput> {
    let mut types = Vec::with_capacity(names.len());
    for name in names {
        if !EventKind::TYPE_NAMES.contains(&name.as_str()) {
            return Err(InvalidInput::new(
                "events",
                format!(
                    "unknown event type {name:?}; known: {}",
                    EventKind::TYPE_NAMES.join(", ")
                ),
            ));
        }
        if !types.contains(name) {
            types.push(name.clone());
        }
    }
    if types.is_empty() {
        return Err(InvalidInput::new(
            "events",
            "must name at least one event type, or be left out for all",
        ));
    }
    Ok(types)
}

/// A signing secret, `whsec_` followed by the base64 of its key bytes (the Standard
/// Webhooks format). The HTTP layer makes and decodes them.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct WebhookSecret(String);

impl WebhookSecret {
    /// Prefix of every secret.
    pub const PREFIX: &'static str = "whsec_";

    /// Checks the prefix and the length of what follows (the caller checks the base64).
    pub fn parse(raw: &str) -> Result<Self, InvalidInput> {
        let key = raw.strip_prefix(Self::PREFIX).unwrap_or_default();
        if !(24..=128).contains(&key.len())
            || !key
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"+/=".contains(&b))
        {
            return Err(InvalidInput::new(
                "secret",
                "must be whsec_ followed by 24 to 128 base64 characters",
            ));
        }
        Ok(Self(raw.to_owned()))
    }

    /// The secret as written (with its prefix).
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The base64 part.
    pub fn key_base64(&self) -> &str {
        &self.0[Self::PREFIX.len()..]
    }
}

impl std::fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WebhookSecret(..)")
    }
}

/// A registered endpoint, with where its delivery stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookEndpoint {
    /// Identity.
    pub id: WebhookId,
    /// Where events are POSTed.
    pub url: WebhookUrl,
    /// The event types it takes; `None`: every type.
    pub events: Option<Vec<String>>,
    /// Signs every delivery.
    pub secret: WebhookSecret,
    /// The secret before the last rotation, still signing until the time given.
    pub previous_secret: Option<(WebhookSecret, DateTime<Utc>)>,
    /// Why delivery stopped (a 410 answer, or an agent disabled it); `None`: delivering.
    pub disabled: Option<String>,
    /// Where its delivery stands.
    pub delivery: DeliveryState,
    /// When it was registered.
    pub created_at: DateTime<Utc>,
}

impl WebhookEndpoint {
    /// Whether the endpoint takes `event`.
    pub fn takes(&self, event: &Event) -> bool {
        let name = event.kind.type_name();
        self.events
            .as_ref()
            .is_none_or(|types| types.iter().any(|t| t == name))
    }

    /// The secrets that sign a delivery at `now`: the current one, and the previous one
    /// while its overlap lasts.
    pub fn signing_secrets(&self, now: DateTime<Utc>) -> Vec<&WebhookSecret> {
        let mut secrets = vec![&self.secret];
        if let Some((previous, until)) = &self.previous_secret
            && *until > now
        {
            secrets.push(previous);
        }
        secrets
    }
}

/// An endpoint's delivery progress.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct DeliveryState {
    /// The last feed position the endpoint is done with.
    pub cursor: FeedPosition,
    /// Failed attempts at the event after the cursor.
    pub attempts: u32,
    /// Not before this time (a retry's backoff); `None`: now.
    pub next_attempt_at: Option<DateTime<Utc>>,
}

/// What an agent changes on an endpoint; `None` leaves a field alone.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WebhookChanges {
    /// A new URL.
    pub url: Option<WebhookUrl>,
    /// New event types (`Some(None)`: every type).
    pub events: Option<Option<Vec<String>>>,
    /// A new secret and when it was given: the current one keeps signing for
    /// [`ROTATION_OVERLAP`] after that.
    pub rotate_secret: Option<(WebhookSecret, DateTime<Utc>)>,
    /// `Some(None)` enables (and retries at once), `Some(Some(reason))` disables.
    pub disabled: Option<Option<String>>,
    /// Deliver again every event after this position (same `webhook-id`s).
    pub replay_after: Option<FeedPosition>,
}

/// How one attempt ended, as the HTTP layer saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttemptResult {
    /// The receiver answered with this status (and maybe a `Retry-After`).
    Answered {
        /// HTTP status.
        status: u16,
        /// The answer's `Retry-After`, if any.
        retry_after: Option<Duration>,
    },
    /// No answer: timeout, refused connection, TLS failure.
    NoAnswer(String),
    /// Not sent: the target is not allowed (a private or loopback address). Retrying
    /// cannot help, so the endpoint is disabled.
    Refused(String),
}

/// What follows an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum AttemptOutcome {
    /// 2xx: the event is done.
    Delivered,
    /// Tried again at `next_attempt_at`.
    WillRetry,
    /// Every retry failed: the event is done, as failed (it can be replayed).
    Failed,
    /// 410 Gone: the endpoint is disabled.
    Disabled,
}

/// The retry schedule: the wait before each retry after a failed attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetrySchedule(pub Vec<Duration>);

impl Default for RetrySchedule {
    /// 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, then failed.
    fn default() -> Self {
        let minutes = |m: u64| Duration::from_secs(m * 60);
        Self(vec![
            Duration::from_secs(5),
            minutes(5),
            minutes(30),
            minutes(120),
            minutes(300),
            minutes(600),
        ])
    }
}

/// The decision after an attempt: the outcome and the endpoint's new delivery state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NextStep {
    /// What the attempt amounts to.
    pub outcome: AttemptOutcome,
    /// The endpoint's delivery state after it.
    pub state: DeliveryState,
}

impl RetrySchedule {
    /// What follows an attempt at the event at `position` from `state`. `jitter` in
    /// `[0, 1)` spreads retries by up to a fifth of their wait.
    pub fn next_step(
        &self,
        state: DeliveryState,
        position: FeedPosition,
        result: &AttemptResult,
        now: DateTime<Utc>,
        jitter: f64,
    ) -> NextStep {
        let done = |outcome| NextStep {
            outcome,
            state: DeliveryState {
                cursor: position,
                attempts: 0,
                next_attempt_at: None,
            },
        };
        let retry_after = match result {
            AttemptResult::Answered { status, .. } if (200..300).contains(status) => {
                return done(AttemptOutcome::Delivered);
            }
            AttemptResult::Answered { status: 410, .. } | AttemptResult::Refused(_) => {
                return NextStep {
                    outcome: AttemptOutcome::Disabled,
                    state,
                };
            }
            AttemptResult::Answered { retry_after, .. } => *retry_after,
            AttemptResult::NoAnswer(_) => None,
        };
        let Some(wait) = self.0.get(state.attempts as usize) else {
            return done(AttemptOutcome::Failed);
        };
        let jittered = wait.mul_f64(1.0 + jitter.clamp(0.0, 1.0) / 5.0);
        let wait = retry_after
            .map_or(jittered, |asked| asked.min(MAX_RETRY_AFTER).max(jittered))
            .min(MAX_RETRY_AFTER);
        NextStep {
            outcome: AttemptOutcome::WillRetry,
            state: DeliveryState {
                cursor: state.cursor,
                attempts: state.attempts + 1,
                next_attempt_at: Some(
                    now + chrono::Duration::from_std(wait).unwrap_or(chrono::Duration::MAX),
                ),
            },
        }
    }
}

/// One attempt, as the delivery log keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryAttempt {
    /// Identity (time-ordered).
    pub id: DeliveryId,
    /// The endpoint.
    pub webhook_id: WebhookId,
    /// The event's feed position.
    pub position: FeedPosition,
    /// The `webhook-id` header: the same on every attempt at this event.
    pub message_id: String,
    /// The event's type name.
    pub event_type: String,
    /// 1 for the first attempt at the event.
    pub attempt: u32,
    /// When it was made.
    pub at: DateTime<Utc>,
    /// The receiver's status, if it answered.
    pub status: Option<u16>,
    /// Why there was no answer.
    pub error: Option<String>,
    /// How long it took.
    pub duration_ms: u64,
    /// What followed.
    pub outcome: AttemptOutcome,
}

/// The `webhook-id` of the event at `position`: stable across retries and replays.
pub fn message_id(event: &Event) -> String {
    format!(
        "evt_{}_{}",
        event.conversation_id.as_uuid().simple(),
        event.seq
    )
}

/// What a delivery pass writes back for one endpoint it holds a claim on: its new delivery
/// state (applied only if its cursor is still `from`, so a replay meanwhile wins), the
/// attempt for the log, and whether the endpoint is now disabled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryProgress {
    /// The cursor the pass started from.
    pub from: FeedPosition,
    /// The new state.
    pub state: DeliveryState,
    /// The attempt made, if any (skipped events make none).
    pub attempt: Option<DeliveryAttempt>,
    /// Why the endpoint is disabled now, if it is.
    pub disabled: Option<String>,
    /// The claim, if kept, lasts until then (a pass renews it with every write back, so a
    /// claim outlives its holder by at most one period).
    pub renew_until: Option<DateTime<Utc>>,
}

/// A delivery pass's hold on an endpoint, so two nodes never deliver to one endpoint at
/// once: writes back are refused once the claim has expired and another took it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookClaim {
    /// The endpoint as it was when claimed.
    pub endpoint: WebhookEndpoint,
    /// The claim's token.
    pub token: uuid::Uuid,
    /// The endpoint's generation when claimed.
    pub generation: u64,
}

impl WebhookEndpoint {
    /// Applies an agent's changes, or none of them: a rotation while the previous secret
    /// still signs is refused.
    pub fn apply(&mut self, changes: &WebhookChanges) -> Result<(), crate::error::Conflict> {
        if let Some((_, at)) = &changes.rotate_secret
            && let Some((_, until)) = &self.previous_secret
            && until > at
        {
            return Err(crate::error::Conflict::RotationInProgress { until: *until });
        }
        if let Some(url) = &changes.url {
            self.url = url.clone();
        }
        if let Some(events) = &changes.events {
            self.events = events.clone();
        }
        if let Some((secret, at)) = &changes.rotate_secret {
            let previous = std::mem::replace(&mut self.secret, secret.clone());
            let overlap = chrono::Duration::from_std(ROTATION_OVERLAP).unwrap_or_default();
            self.previous_secret = Some((previous, *at + overlap));
        }
        if let Some(disabled) = &changes.disabled {
            if disabled.is_none() {
                self.delivery.attempts = 0;
                self.delivery.next_attempt_at = None;
            }
            self.disabled = disabled.clone();
        }
        if let Some(after) = changes.replay_after {
            self.delivery = DeliveryState {
                cursor: after,
                attempts: 0,
                next_attempt_at: None,
            };
        }
        Ok(())
    }
}

/// An endpoint as a store keeps it: with the claim a delivery pass holds on it. Memory and
/// sled keep it whole; PostgreSQL keeps the claim in two columns and runs the same steps.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredWebhook {
    /// The endpoint.
    pub endpoint: WebhookEndpoint,
    /// The live claim's token and expiry, if any.
    pub claim: Option<(uuid::Uuid, DateTime<Utc>)>,
    /// Counts agents' changes: a pass that claimed an older generation writes nothing back.
    #[serde(default)]
    pub generation: u64,
}

impl StoredWebhook {
    /// Applies an agent's changes. A delivery pass holding a claim keeps it (no other pass
    /// may start while its request may still be in flight), but its next write back is
    /// refused and ends the claim, so the next pass starts from the endpoint as changed.
    pub fn update(&mut self, changes: &WebhookChanges) -> Result<(), crate::error::Conflict> {
        self.endpoint.apply(changes)?;
        self.generation += 1;
        Ok(())
    }

    /// Claims the endpoint until `until` if it is due (see
    /// [`WebhookStore::claim_webhooks`](crate::store::WebhookStore::claim_webhooks)).
    pub fn claim(
        &mut self,
        head: FeedPosition,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Option<WebhookClaim> {
        let endpoint = &self.endpoint;
        let due = endpoint.disabled.is_none()
            && endpoint.delivery.cursor < head
            && endpoint.delivery.next_attempt_at.is_none_or(|at| at <= now)
            && self.claim.is_none_or(|(_, expires)| expires <= now);
        if !due {
            return None;
        }
        let token = uuid::Uuid::new_v4();
        self.claim = Some((token, until));
        Some(WebhookClaim {
            endpoint: endpoint.clone(),
            token,
            generation: self.generation,
        })
    }

    /// Applies a claimed pass's progress; `false` when `claim` is not the live claim
    /// (nothing changes) or the endpoint changed since it was claimed (the claim ends).
    pub fn record(
        &mut self,
        claim: &WebhookClaim,
        progress: &DeliveryProgress,
        release: bool,
    ) -> bool {
        if self.claim.is_none_or(|(token, _)| token != claim.token) {
            return false;
        }
        if self.generation != claim.generation {
            self.claim = None;
            return false;
        }
        let endpoint = &mut self.endpoint;
        if endpoint.delivery.cursor == progress.from {
            endpoint.delivery = progress.state;
        }
        if let Some(reason) = &progress.disabled {
            endpoint.disabled = Some(reason.clone());
        }
        if release {
            self.claim = None;
        } else if let Some(until) = progress.renew_until {
            self.claim = Some((claim.token, until));
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(cursor: u64, attempts: u32) -> DeliveryState {
        DeliveryState {
            cursor: FeedPosition(cursor),
            attempts,
            next_attempt_at: None,
        }
    }

    fn answered(status: u16, retry_after: Option<u64>) -> AttemptResult {
        AttemptResult::Answered {
            status,
            retry_after: retry_after.map(Duration::from_secs),
        }
    }

    #[test]
    fn a_2xx_moves_the_cursor_past_the_event() {
        let step = RetrySchedule::default().next_step(
            at(4, 2),
            FeedPosition(7),
            &answered(204, None),
            Utc::now(),
            0.0,
        );
        assert_eq!(step.outcome, AttemptOutcome::Delivered);
        assert_eq!(step.state, at(7, 0));
    }

    #[test]
    fn failures_retry_on_the_schedule_then_give_up() {
        let schedule = RetrySchedule::default();
        let now = Utc::now();
        let mut state = at(4, 0);
        for wait in schedule.0.clone() {
            let step = schedule.next_step(state, FeedPosition(5), &answered(503, None), now, 0.0);
            assert_eq!(step.outcome, AttemptOutcome::WillRetry);
            assert_eq!(step.state.cursor, FeedPosition(4), "the cursor waits");
            assert_eq!(
                step.state.next_attempt_at,
                Some(now + chrono::Duration::from_std(wait).unwrap())
            );
            state = step.state;
        }
        let last = schedule.next_step(
            state,
            FeedPosition(5),
            &AttemptResult::NoAnswer("timeout".into()),
            now,
            0.0,
        );
        assert_eq!(last.outcome, AttemptOutcome::Failed);
        assert_eq!(last.state, at(5, 0));
    }

    #[test]
    fn jitter_adds_at_most_a_fifth_and_retry_after_is_honoured() {
        let schedule = RetrySchedule(vec![Duration::from_secs(100)]);
        let now = Utc::now();
        let wait = |result, jitter| {
            let step = schedule.next_step(at(0, 0), FeedPosition(1), &result, now, jitter);
            (step.state.next_attempt_at.unwrap() - now).num_seconds()
        };
        assert_eq!(wait(answered(500, None), 0.5), 110);
        assert_eq!(wait(answered(429, Some(3600)), 0.0), 3600);
        assert_eq!(wait(answered(429, Some(10)), 0.0), 100, "never sooner");
        assert_eq!(wait(answered(429, Some(10_000_000)), 0.0), 86_400);
    }

    #[test]
    fn gone_disables_without_moving_the_cursor() {
        let step = RetrySchedule::default().next_step(
            at(3, 1),
            FeedPosition(4),
            &answered(410, None),
            Utc::now(),
            0.0,
        );
        assert_eq!(step.outcome, AttemptOutcome::Disabled);
        assert_eq!(step.state, at(3, 1));
    }

    #[test]
    fn urls_and_event_types_are_checked() {
        assert!(WebhookUrl::parse("https://example.com/hook").is_ok());
        assert!(WebhookUrl::parse("ftp://example.com").is_err());
        assert!(WebhookUrl::parse("https://user:pw@example.com").is_err());
        assert!(WebhookUrl::parse("https:///path").is_err());
        assert!(parse_event_types(&["message".into(), "message".into()]).unwrap() == ["message"]);
        assert!(parse_event_types(&["messageCreated".into()]).is_err());
        assert!(parse_event_types(&[]).is_err());
    }

    #[test]
    fn secrets_have_the_standard_shape() {
        assert!(WebhookSecret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").is_ok());
        assert!(WebhookSecret::parse("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").is_err());
        assert!(WebhookSecret::parse("whsec_short").is_err());
    }
}
