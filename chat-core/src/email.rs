//! Offline email: when a visitor who left an address has an agent reply unread and no open
//! socket for a while, one email carries the reply and a link back.
//!
//! The rules, store-independent:
//! - The email pass reads the change feed with one durable cursor and queues an
//!   [`EmailNotice`] per conversation for every public agent reply (due `after` later).
//! - A due notice is claimed (one node at a time), then checked against the conversation as
//!   it is now: the visitor has an address and did not unsubscribe, has not read the reply,
//!   and no socket of theirs was open for `after` (sockets keep `Customer::last_seen`
//!   fresh). Then one email goes out and the notice is settled.
//! - One email per conversation per quiet period: after an email, later replies send
//!   nothing more until the visitor comes back (a socket opens) and leaves again.
//! - A pass holds a claim on the notice while it decides (`claimed_until`, also the
//!   claim's token); the send is cut off well inside it, and only the claim's holder can
//!   settle the notice. A reply queued meanwhile leaves the claim alone.
//! - The one window left: a crash after the mail server took the email but before the
//!   verdict was written sends it once more when the claim lapses (one store write wide;
//!   an email lost to a crash was judged worse than that rare second copy).

use std::fmt;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::ids::{ConversationId, CustomerId, Seq};
use crate::values::{DisplayName, Email, MessageBody};

/// How many unread replies one email quotes (the newest).
pub const MAX_QUOTED_REPLIES: usize = 5;

/// When and how the email pass sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EmailConfig {
    /// How long a reply stays unread, and the visitor away, before an email.
    pub after: Duration,
    /// How long a claimed notice is held before another pass may take it again.
    pub claim_for: Duration,
    /// The wait before retrying after the SMTP server failed; doubled on every attempt.
    pub retry: Duration,
    /// Attempts before a notice is given up.
    pub max_attempts: u32,
}

impl EmailConfig {
    /// The defaults for `after` (5 minutes unless the operator says otherwise).
    pub fn new(after: Duration) -> Self {
        Self {
            after,
            claim_for: Duration::from_secs(120),
            retry: Duration::from_secs(60),
            max_attempts: 5,
        }
    }

    /// How often an open visitor socket refreshes `last_seen`: often enough that a visitor
    /// who is still there never looks away for `after`.
    pub fn heartbeat(&self) -> Duration {
        (self.after / 3).clamp(Duration::from_millis(200), Duration::from_secs(60))
    }
}

/// The secret in a visitor's unsubscribe link. It can only unsubscribe, so it is stored as
/// is; it is never shown by the API and never logged.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct UnsubscribeToken(String);

impl UnsubscribeToken {
    /// A fresh random token: two v4 UUIDs' 244 random bits, as 64 hex digits.
    pub fn generate() -> Self {
        let (a, b) = (uuid::Uuid::new_v4(), uuid::Uuid::new_v4());
        Self(format!("{}{}", a.simple(), b.simple()))
    }

    /// A token as a link carried it; anything may come in, it only has to match.
    pub fn from_link(text: &str) -> Self {
        Self(text.to_owned())
    }

    /// The token, for the link.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Compares in time independent of where the tokens differ.
    pub fn matches(&self, other: &UnsubscribeToken) -> bool {
        let (a, b) = (self.0.as_bytes(), other.0.as_bytes());
        a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
    }
}

impl fmt::Debug for UnsubscribeToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("UnsubscribeToken(…)")
    }
}

/// Where a visitor's offline replies go.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmailContact {
    /// The address the visitor left.
    pub email: Email,
    /// The secret of the unsubscribe link.
    pub token: UnsubscribeToken,
    /// Set when the visitor unsubscribed: nothing is sent to this address any more.
    #[serde(default)]
    pub unsubscribed: bool,
}

impl EmailContact {
    /// A new address, subscribed, with a fresh token.
    pub fn new(email: Email) -> Self {
        Self {
            email,
            token: UnsubscribeToken::generate(),
            unsubscribed: false,
        }
    }
}

/// A conversation's offline-email state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmailNotice {
    /// The conversation.
    pub conversation: ConversationId,
    /// Its newest public agent reply seen by the pass.
    pub seq: Seq,
    /// When the notice is next looked at; `None` when nothing is pending.
    #[serde(with = "chrono::serde::ts_microseconds_option")]
    pub due_at: Option<DateTime<Utc>>,
    /// When the last email for this conversation went out.
    #[serde(with = "chrono::serde::ts_microseconds_option")]
    pub emailed_at: Option<DateTime<Utc>>,
    /// Failed sends of the pending notice so far.
    pub attempts: u32,
    /// While a pass decides the notice: until when its claim holds. It is also the claim's
    /// token: only the pass that set it may settle the notice.
    #[serde(default, with = "chrono::serde::ts_microseconds_option")]
    pub claimed_until: Option<DateTime<Utc>>,
}

/// A public agent reply the pass found in the feed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueuedReply {
    /// The conversation.
    pub conversation: ConversationId,
    /// The reply's seq.
    pub seq: Seq,
    /// When it becomes due: its stored time plus `after`.
    pub due_at: DateTime<Utc>,
}

impl EmailNotice {
    /// The notice after `reply` is queued onto `current` (none yet, or the stored one): it
    /// covers the newest reply and is due at the earliest pending time.
    pub fn queue(current: Option<EmailNotice>, reply: &QueuedReply) -> EmailNotice {
        match current {
            None => EmailNotice {
                conversation: reply.conversation,
                seq: reply.seq,
                due_at: Some(reply.due_at),
                emailed_at: None,
                attempts: 0,
                claimed_until: None,
            },
            Some(mut notice) => {
                notice.seq = notice.seq.max(reply.seq);
                notice.due_at = Some(notice.due_at.map_or(reply.due_at, |d| d.min(reply.due_at)));
                notice
            }
        }
    }

    /// Whether a pass may take the notice at `now`: pending, due, and not claimed by a pass
    /// whose claim still holds.
    pub fn is_due(&self, now: DateTime<Utc>) -> bool {
        self.due_at.is_some_and(|at| at <= now) && self.claimed_until.is_none_or(|c| c <= now)
    }

    /// When a pass should next look at the notice (`None`: nothing pending): its due time,
    /// or the end of a claim that ends later.
    pub fn next_look(&self) -> Option<DateTime<Utc>> {
        let due = self.due_at?;
        Some(self.claimed_until.map_or(due, |claim| claim.max(due)))
    }

    /// Claims the notice until `until` if it is still as `read` saw it (same reply, same due
    /// time) and due at `now`; `false` leaves it as it is.
    pub fn claim(&mut self, read: &EmailNotice, now: DateTime<Utc>, until: DateTime<Utc>) -> bool {
        let unchanged = self.seq == read.seq && self.due_at == read.due_at;
        if !unchanged || !self.is_due(now) {
            return false;
        }
        self.claimed_until = Some(until);
        true
    }

    /// Applies the verdict of the pass whose claim is `claim` (its `claimed_until`) and ends
    /// the claim; `false`, changing nothing, when that claim is no longer the notice's (it
    /// lapsed and another pass took the notice). A reply queued meanwhile (a higher seq than
    /// the verdict covered) keeps the notice pending, whatever the verdict.
    pub fn settle(&mut self, claim: DateTime<Utc>, settlement: &Settlement) -> bool {
        if self.claimed_until != Some(claim) {
            return false;
        }
        self.claimed_until = None;
        self.apply(settlement);
        true
    }

    fn apply(&mut self, settlement: &Settlement) {
        if let Some(at) = settlement.emailed_at {
            self.emailed_at = Some(at);
        }
        if self.seq > settlement.covered {
            self.attempts = 0;
            return;
        }
        match settlement.retry {
            Some((at, attempts)) => {
                self.due_at = Some(at);
                self.attempts = attempts;
            }
            None => {
                self.due_at = None;
                self.attempts = 0;
            }
        }
    }
}

/// A pass's verdict on a claimed notice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settlement {
    /// The newest reply the verdict covered (the claimed notice's seq).
    pub covered: Seq,
    /// Set when an email went out, at that time.
    pub emailed_at: Option<DateTime<Utc>>,
    /// Look again at this time, with this many failed attempts; `None`: nothing pending.
    pub retry: Option<(DateTime<Utc>, u32)>,
}

/// One quoted reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuotedReply {
    /// The agent's display name (`None` when the agent is gone).
    pub agent: Option<DisplayName>,
    /// What they wrote.
    pub body: MessageBody,
    /// When.
    pub at: DateTime<Utc>,
}

/// An email ready to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfflineEmail {
    /// The visitor's address.
    pub to: Email,
    /// The visitor.
    pub customer: CustomerId,
    /// The conversation, for the link back.
    pub conversation: ConversationId,
    /// The unread replies, oldest first.
    pub replies: Vec<QuotedReply>,
    /// The unsubscribe link's secret.
    pub unsubscribe: UnsubscribeToken,
}

/// Why an email did not go out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendFailure {
    /// The server refused for good (a bad address): retrying would not help.
    pub permanent: bool,
    /// What happened, for the log.
    pub reason: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(secs, 0).unwrap()
    }

    fn reply(seq: u64, due: i64) -> QueuedReply {
        QueuedReply {
            conversation: ConversationId::from_uuid(uuid::Uuid::nil()),
            seq: Seq(seq),
            due_at: at(due),
        }
    }

    #[test]
    fn queue_keeps_the_newest_reply_and_the_earliest_due_time() {
        let notice = EmailNotice::queue(None, &reply(3, 100));
        let notice = EmailNotice::queue(Some(notice), &reply(5, 200));
        assert_eq!((notice.seq, notice.due_at), (Seq(5), Some(at(100))));
        let settled = EmailNotice {
            due_at: None,
            ..notice
        };
        let requeued = EmailNotice::queue(Some(settled), &reply(7, 300));
        assert_eq!((requeued.seq, requeued.due_at), (Seq(7), Some(at(300))));
    }

    #[test]
    fn settling_keeps_a_reply_queued_during_the_pass_pending() {
        let mut notice = EmailNotice::queue(None, &reply(3, 100));
        notice = EmailNotice::queue(Some(notice), &reply(4, 150));
        let sent = Settlement {
            covered: Seq(3),
            emailed_at: Some(at(120)),
            retry: None,
        };
        let claim = at(110);
        assert!(notice.claim(&notice.clone(), at(100), claim));
        assert!(notice.settle(claim, &sent));
        assert_eq!(notice.emailed_at, Some(at(120)));
        assert_eq!(notice.due_at, Some(at(100)), "seq 4 still pending");
        let done = Settlement {
            covered: Seq(4),
            emailed_at: None,
            retry: None,
        };
        assert!(!notice.settle(claim, &done), "that claim ended");
        let claim = at(130);
        assert!(notice.claim(&notice.clone(), at(130), claim));
        assert!(notice.settle(claim, &done));
        assert_eq!((notice.due_at, notice.emailed_at), (None, Some(at(120))));
    }

    #[test]
    fn a_failed_send_is_retried_with_its_attempt_count() {
        let mut notice = EmailNotice::queue(None, &reply(3, 100));
        assert!(notice.claim(&notice.clone(), at(100), at(160)));
        notice.settle(
            at(160),
            &Settlement {
                covered: Seq(3),
                emailed_at: None,
                retry: Some((at(400), 2)),
            },
        );
        assert_eq!((notice.due_at, notice.attempts), (Some(at(400)), 2));
    }

    #[test]
    fn a_claim_holds_against_other_passes_and_replies_queued_meanwhile() {
        let mut notice = EmailNotice::queue(None, &reply(3, 100));
        let read = notice.clone();
        assert!(notice.claim(&read, at(100), at(220)));
        assert!(!notice.clone().claim(&read, at(150), at(270)), "held");
        // A reply due earlier than the claim's end does not make the notice due.
        notice = EmailNotice::queue(Some(notice), &reply(4, 110));
        assert!(!notice.is_due(at(200)));
        assert_eq!(notice.next_look(), Some(at(220)));
        // A lapsed claim can be taken over; the old pass can no longer settle it.
        assert!(notice.is_due(at(230)));
        let read = notice.clone();
        assert!(notice.claim(&read, at(230), at(350)));
        let late = Settlement {
            covered: Seq(3),
            emailed_at: Some(at(240)),
            retry: None,
        };
        assert!(!notice.settle(at(220), &late));
        assert_eq!(notice.emailed_at, None);
    }

    #[test]
    fn tokens_match_only_themselves_and_never_print() {
        let token = UnsubscribeToken::generate();
        assert_eq!(token.as_str().len(), 64);
        assert!(token.matches(&UnsubscribeToken::from_link(token.as_str())));
        assert!(!token.matches(&UnsubscribeToken::generate()));
        assert!(!token.matches(&UnsubscribeToken::from_link("")));
        assert!(!format!("{token:?}").contains(token.as_str()));
    }
}
