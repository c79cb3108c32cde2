//! Offline email: visitors leaving an address and unsubscribing, their sockets marking them
//! seen, and the pass that emails unread agent replies to visitors who are away (the rules
//! are in [`crate::email`]).

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use tracing::warn;

use crate::accounts::Customer;
use crate::authz::{Action, Principal};
use crate::changes::{Change, MAX_PAGE};
use crate::email::{
    EmailConfig, EmailContact, EmailNotice, MAX_QUOTED_REPLIES, OfflineEmail, QueuedReply,
    QuotedReply, SendFailure, Settlement, UnsubscribeToken,
};
use crate::engine::{ChatEngine, now};
use crate::error::{Error, Result};
use crate::event::{Audience, EventKind};
use crate::ids::CustomerId;
use crate::model::{Actor, UserRef};
use crate::values::Email;

/// Sends offline emails: the transport (SMTP) lives outside the core.
#[async_trait]
pub trait EmailSender: Send + Sync {
    /// Sends one email.
    async fn send(&self, email: &OfflineEmail) -> std::result::Result<(), SendFailure>;
}

/// What one pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EmailPass {
    /// Agent replies queued from the change feed.
    pub queued: usize,
    /// Emails sent.
    pub sent: usize,
    /// Sends that failed (retried later, or given up).
    pub failed: usize,
}

/// Due notices looked at per pass.
const DUE_PAGE: usize = 100;

impl ChatEngine {
    /// Leaves (or, with `None`, removes) the address the visitor's offline replies go to;
    /// only the visitor itself may. A new address is subscribed, with a new unsubscribe
    /// link; leaving the same address again changes nothing (an unsubscribe stands).
    pub async fn leave_email(
        &self,
        principal: &Principal,
        id: CustomerId,
        email: Option<Email>,
    ) -> Result<Customer> {
        self.allowed(principal, Action::LeaveEmail)?;
        if matches!(principal, Principal::Visitor(me) if *me != id) {
            return Err(Error::NotFound("customer"));
        }
        self.in_good_standing(principal, Action::LeaveEmail).await?;
        let current = self
            .store
            .get_customer(id)
            .await?
            .ok_or(Error::NotFound("customer"))?;
        if current.contact.as_ref().map(|c| &c.email) == email.as_ref() {
            return Ok(current);
        }
        let contact = email.map(EmailContact::new);
        self.store.set_customer_contact(id, contact.as_ref()).await
    }

    /// Follows an unsubscribe link: nothing more is emailed to the visitor's address. A
    /// wrong token (or no address) is `NotFound`, and changes nothing.
    pub async fn unsubscribe(&self, id: CustomerId, token: &UnsubscribeToken) -> Result<()> {
        if self.store.unsubscribe_customer(id, token).await? {
            Ok(())
        } else {
            Err(Error::NotFound("unsubscribe link"))
        }
    }

    /// Records that a socket of the visitor's is open now (at connect, on a heartbeat, and
    /// at close): a visitor counts as away once this is older than the email delay.
    pub async fn visitor_seen(&self, id: CustomerId) -> Result<()> {
        self.store.mark_customer_seen(id, now()).await
    }

    /// One offline-email pass: queues the agent replies committed since the last pass, then
    /// decides every due notice, sending through `sender` what should go out. Safe to run on
    /// every node at once: the cursor moves by compare-and-set and a notice is claimed
    /// before it is decided.
    pub async fn send_offline_emails(
        &self,
        sender: &dyn EmailSender,
        config: &EmailConfig,
    ) -> Result<EmailPass> {
        let mut pass = EmailPass {
            queued: self.queue_replies(config.after).await?,
            ..EmailPass::default()
        };
        for notice in self.store.due_email_notices(now(), DUE_PAGE).await? {
            // A fresh time per notice: a claim always lasts `claim_for` from when it is
            // taken, however long the notices before it took.
            let now = now();
            let claim = now + duration(config.claim_for);
            if !self.store.claim_email_notice(&notice, now, claim).await? {
                continue;
            }
            let settlement = match self.decide(sender, config, &notice, now).await {
                Ok((settlement, sent)) => {
                    match sent {
                        Some(true) => pass.sent += 1,
                        Some(false) => pass.failed += 1,
                        None => {}
                    }
                    settlement
                }
                // The store failed mid-decision: the claim lapses and a later pass retries.
                Err(error) => {
                    warn!(%error, conversation = %notice.conversation, "offline email: deciding failed");
                    continue;
                }
            };
            let settled = self
                .store
                .settle_email_notice(notice.conversation, claim, &settlement)
                .await?;
            if !settled {
                warn!(conversation = %notice.conversation, "offline email: the claim lapsed before the verdict");
            }
        }
        Ok(pass)
    }

    /// Moves the email cursor over what the feed committed since, queueing agent replies.
    async fn queue_replies(&self, after: Duration) -> Result<usize> {
        let mut queued = 0;
        loop {
            let from = self.store.email_cursor().await?;
            let Some(cursor) = from else {
                // The first pass starts at the head: history is not emailed.
                let head = self.store.feed_head().await?;
                self.store.queue_email_notices(None, head, &[]).await?;
                return Ok(queued);
            };
            let changes = self.store.changes_after(cursor, MAX_PAGE).await?;
            let Some(last) = changes.last() else {
                return Ok(queued);
            };
            let replies: Vec<QueuedReply> = changes
                .iter()
                .filter_map(|change| agent_reply(change, after))
                .collect();
            if !self
                .store
                .queue_email_notices(from, last.position, &replies)
                .await?
            {
                return Ok(queued); // another node's pass moved the cursor first
            }
            queued += replies.len();
            if changes.len() < MAX_PAGE {
                return Ok(queued);
            }
        }
    }

    /// Decides a claimed notice: the settlement, and whether an email was sent (`None`:
    /// none was tried).
    async fn decide(
        &self,
        sender: &dyn EmailSender,
        config: &EmailConfig,
        notice: &EmailNotice,
        now: DateTime<Utc>,
    ) -> Result<(Settlement, Option<bool>)> {
        let done = Settlement {
            covered: notice.seq,
            emailed_at: None,
            retry: None,
        };
        let Some(email) = self.offline_email(config, notice, now).await? else {
            return Ok((done, None));
        };
        let email = match email {
            Pending::Wait(at) => {
                let retry = Some((at, notice.attempts));
                return Ok((Settlement { retry, ..done }, None));
            }
            Pending::Send(email) => email,
        };
        // Well inside the claim, so no other pass can take the notice while this send runs.
        let limit = config.claim_for / 2;
        let sent = match tokio::time::timeout(limit, sender.send(&email)).await {
            Ok(result) => result,
            Err(_) => Err(SendFailure {
                permanent: false,
                reason: format!("no answer from the mail server within {limit:?}"),
            }),
        };
        match sent {
            Ok(()) => Ok((
                Settlement {
                    emailed_at: Some(now),
                    ..done
                },
                Some(true),
            )),
            Err(failure) => {
                let attempts = notice.attempts + 1;
                warn!(reason = %failure.reason, permanent = failure.permanent, attempts,
                    conversation = %notice.conversation, "offline email: send failed");
                let retry = (!failure.permanent && attempts < config.max_attempts).then(|| {
                    let wait = config.retry * 2u32.saturating_pow(attempts - 1);
                    (now + duration(wait), attempts)
                });
                Ok((Settlement { retry, ..done }, Some(false)))
            }
        }
    }

    /// What a due notice calls for now: nothing (`None`: read, no address, unsubscribed,
    /// already emailed this quiet period, gone), a later look, or an email.
    async fn offline_email(
        &self,
        config: &EmailConfig,
        notice: &EmailNotice,
        now: DateTime<Utc>,
    ) -> Result<Option<Pending>> {
        let Some(conversation) = self.store.get_conversation(notice.conversation).await? else {
            return Ok(None);
        };
        let Some(customer) = self.store.get_customer(conversation.customer_id).await? else {
            return Ok(None);
        };
        let Some(contact) = customer.contact.filter(|c| !c.unsubscribed) else {
            return Ok(None);
        };
        if customer.blocked_at.is_some() {
            return Ok(None);
        }
        let reader = UserRef::Customer(customer.id);
        let read = self.store.read_cursor(conversation.id, reader).await?;
        if read >= notice.seq {
            return Ok(None);
        }
        if let Some(seen) = customer.last_seen {
            let away_enough = seen + duration(config.after);
            if away_enough > now {
                return Ok(Some(Pending::Wait(away_enough)));
            }
        }
        // One email per quiet period: none since the visitor was last here.
        if let Some(emailed) = notice.emailed_at
            && customer.last_seen.is_none_or(|seen| seen <= emailed)
        {
            return Ok(None);
        }
        let replies = self.unread_replies(notice, read).await?;
        if replies.is_empty() {
            return Ok(None);
        }
        Ok(Some(Pending::Send(OfflineEmail {
            to: contact.email,
            customer: customer.id,
            conversation: conversation.id,
            replies,
            unsubscribe: contact.token,
        })))
    }

    /// The newest unread public agent replies up to the notice's that were not deleted,
    /// oldest first.
    async fn unread_replies(
        &self,
        notice: &EmailNotice,
        read: crate::ids::Seq,
    ) -> Result<Vec<QuotedReply>> {
        let before = Some(notice.seq.next());
        let recent = self
            .store
            .messages_before(
                notice.conversation,
                before,
                4 * MAX_QUOTED_REPLIES,
                Audience::Customer,
            )
            .await?;
        let mut replies = Vec::new();
        let quotable = |m: &crate::model::Message| m.seq > read && !m.private && !m.is_deleted();
        for message in recent.into_iter().filter(quotable) {
            let Actor::Admin(agent) = message.sender else {
                continue;
            };
            let agent = self.store.get_admin(agent).await?.map(|a| a.name);
            replies.push(QuotedReply {
                agent,
                body: message.body,
                at: message.timestamp,
            });
            if replies.len() == MAX_QUOTED_REPLIES {
                break;
            }
        }
        replies.reverse();
        Ok(replies)
    }
}

/// A notice that still calls for an email.
enum Pending {
    /// The visitor was here recently: look again at this time.
    Wait(DateTime<Utc>),
    /// Send this.
    Send(OfflineEmail),
}

/// The reply a change records, if it is a public agent reply.
fn agent_reply(change: &Change, after: Duration) -> Option<QueuedReply> {
    let EventKind::MessageCreated { message } = &change.event.kind else {
        return None;
    };
    if message.private || !matches!(message.sender, Actor::Admin(_)) {
        return None;
    }
    Some(QueuedReply {
        conversation: message.conversation_id,
        seq: message.seq,
        due_at: message.timestamp + duration(after),
    })
}

fn duration(d: Duration) -> chrono::Duration {
    chrono::Duration::from_std(d).unwrap_or(chrono::Duration::MAX)
}
