//! Planning writes to a conversation's log: given the current state and a command, compute
//! exactly which events (with which seqs) and row changes a store must persist atomically.
//!
//! Stores call [`append`] (which calls [`plan`]) inside their atomic section (a sled write
//! group, a Postgres transaction holding the conversation row lock, a map entry lock), so
//! the append procedure, the status workflow and the seq rule are decided once, here, for
//! every backend.

mod append;
mod revise;

use std::collections::HashSet;
use std::net::IpAddr;

use chrono::{DateTime, Utc};

use crate::audit::{AuditAction, AuditEntry};
use crate::error::{Conflict, Error, InvalidInput, Result};
use crate::event::{Event, EventKind};
use crate::ids::{
    AdminId, AttachmentId, ConversationId, CustomerId, LabelId, MessageId, ParticipantId, Seq,
};
use crate::model::{Actor, ActorKind, Attachment, Conversation, Message, Participant, UserRef};
use crate::ratings::{Rating, Score};
use crate::status::ConversationStatus;
use crate::values::{ClientMessageId, MessageBody, Metadata};

pub use append::{ConversationState, LogSource, append};

/// A conversation about to be started.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewConversation {
    /// Its id, chosen by the engine.
    pub id: ConversationId,
    /// The visitor starting it.
    pub customer_id: CustomerId,
    /// The visitor's address.
    pub customer_ip: Option<IpAddr>,
    /// Embedder data.
    pub metadata: Metadata,
}

/// A message about to be appended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewMessage {
    /// Its id, chosen by the engine.
    pub id: MessageId,
    /// The sender, from the session.
    pub sender: Actor,
    /// The text.
    pub body: MessageBody,
    /// Idempotency key.
    pub client_message_id: Option<ClientMessageId>,
    /// The client's clock, kept as metadata.
    pub client_timestamp: Option<DateTime<Utc>>,
    /// A private note.
    pub private: bool,
    /// Previously uploaded files to send with it.
    pub attachment_ids: Vec<AttachmentId>,
    /// Embedder data.
    pub metadata: Metadata,
}

/// A change to an existing conversation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Append a message.
    SendMessage {
        /// The message.
        message: NewMessage,
        /// Whether a customer message may reopen a closed conversation.
        customer_may_reopen: bool,
    },
    /// Change the status as an agent.
    SetStatus {
        /// Target status.
        to: ConversationStatus,
        /// Who.
        by: Actor,
    },
    /// Auto-assignment gives an unassigned open conversation to `assignee`; refused
    /// (`AlreadyAssigned`) if someone holds it or it is no longer open, so one agent gets it
    /// however many nodes try.
    AutoAssign {
        /// The agent.
        assignee: AdminId,
    },
    /// Assign or unassign.
    Assign {
        /// New assignee.
        assignee: Option<AdminId>,
        /// Who.
        by: Actor,
    },
    /// A person joins.
    Join {
        /// Who.
        user: UserRef,
    },
    /// A person leaves.
    Leave {
        /// Who.
        user: UserRef,
    },
    /// Replace the labels.
    SetLabels {
        /// The new set, in id order.
        labels: Vec<LabelId>,
        /// Who.
        by: Actor,
    },
    /// Put labels on and take labels off, against the set as it is when written (so two
    /// agents' changes to different labels both stick).
    ChangeLabels {
        /// Labels to put on.
        add: Vec<LabelId>,
        /// Labels to take off.
        remove: Vec<LabelId>,
        /// Who.
        by: Actor,
    },
    /// Snooze until `until` (or until the visitor writes).
    Snooze {
        /// When it wakes by itself.
        until: Option<DateTime<Utc>>,
        /// Who.
        by: Actor,
    },
    /// The wake time of a snoozed conversation passed: it wakes (`active`).
    Wake,
    /// The visitor rates the (closed) conversation.
    Rate {
        /// 1 to 5.
        score: Score,
        /// Its words.
        comment: Option<String>,
        /// Who.
        by: Actor,
    },
    /// A file was uploaded.
    AddAttachment {
        /// The file's record.
        attachment: Attachment,
    },
    /// The sender changes its message's text, within `window` of sending it.
    EditMessage {
        /// Where the message was created.
        seq: Seq,
        /// The message (checked against what is at `seq`).
        id: MessageId,
        /// The new text.
        body: MessageBody,
        /// Who; must be the sender.
        by: Actor,
        /// How long after sending the sender may edit.
        window: chrono::Duration,
    },
    /// Delete a message: its sender within `window`, or anyone `any_time` (an agent with
    /// the permission). With a `redaction` reason, its text is also erased from the audit
    /// trail (a deleted message may be redacted later).
    DeleteMessage {
        /// Where the message was created.
        seq: Seq,
        /// The message (checked against what is at `seq`).
        id: MessageId,
        /// Who.
        by: Actor,
        /// Whether `by` may delete anyone's message at any time.
        any_time: bool,
        /// How long after sending the sender may delete.
        window: chrono::Duration,
        /// Why it is redacted, for a redaction.
        redaction: Option<String>,
    },
}

/// What the engine asks a store to append.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppendRequest {
    /// The conversation.
    pub conversation_id: ConversationId,
    /// The change.
    pub command: Command,
    /// Server time of the write.
    pub at: DateTime<Utc>,
}

/// The key under which an idempotent send is remembered.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct IdempotencyKey {
    /// The conversation.
    pub conversation_id: ConversationId,
    /// The sender.
    pub sender: Actor,
    /// The client's id.
    pub client_message_id: ClientMessageId,
}

impl IdempotencyKey {
    /// The key a stored message is remembered under, if it was sent with a client id.
    pub fn of(message: &Message) -> Option<Self> {
        message
            .client_message_id
            .clone()
            .map(|client_message_id| Self {
                conversation_id: message.conversation_id,
                sender: message.sender,
                client_message_id,
            })
    }
}

impl AppendRequest {
    /// The key a store must look up before planning: a hit means "return that message".
    pub fn idempotency_key(&self) -> Option<IdempotencyKey> {
        match &self.command {
            Command::SendMessage { message, .. } => {
                message
                    .client_message_id
                    .clone()
                    .map(|client_message_id| IdempotencyKey {
                        conversation_id: self.conversation_id,
                        sender: message.sender,
                        client_message_id,
                    })
            }
            _ => None,
        }
    }

    /// The seq of the message a store must load into [`LogState::target`].
    pub fn target_seq(&self) -> Option<Seq> {
        match &self.command {
            Command::EditMessage { seq, .. } | Command::DeleteMessage { seq, .. } => Some(*seq),
            _ => None,
        }
    }

    /// The existing attachments a store must load into [`LogState::attachments`].
    pub fn attachment_ids(&self) -> &[AttachmentId] {
        match &self.command {
            Command::SendMessage { message, .. } => &message.attachment_ids,
            _ => &[],
        }
    }
}

/// What a store read inside its atomic section, for [`plan`].
#[derive(Debug, Clone)]
pub struct LogState {
    /// The conversation as stored.
    pub conversation: Conversation,
    /// Its participants.
    pub participants: Vec<Participant>,
    /// The attachments named by [`AppendRequest::attachment_ids`] that exist (any conversation).
    pub attachments: Vec<Attachment>,
    /// The message at [`AppendRequest::target_seq`], as it is now, if there is one.
    pub target: Option<Message>,
}

/// Everything one write changes; a store persists all of it atomically, or none of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Commit {
    /// The conversation row after the write.
    pub conversation: Conversation,
    /// New events, seqs consecutive after the previous `last_seq`.
    pub events: Vec<Event>,
    /// The new message, if any (also inside its event); store its idempotency key with it.
    pub message: Option<Message>,
    /// Participant rows to insert.
    pub joined: Vec<Participant>,
    /// Participant rows to delete.
    pub left: Vec<UserRef>,
    /// Attachment rows to insert or overwrite (new uploads, files linked to the message).
    pub attachments: Vec<Attachment>,
    /// The agent the conversation was assigned to before this write, when the write took
    /// it away (an agent who sees only assigned conversations loses it). Nothing to store.
    pub released: Option<AdminId>,
    /// An earlier message as it is after this write (edited or deleted): stored in place of
    /// the old one, in its `MessageCreated` event too, with its search words.
    pub revised: Option<Message>,
    /// Audit entries to append.
    pub audit: Vec<AuditEntry>,
    /// A redacted message: erase the text every earlier audit entry keeps of it.
    pub redacted: Option<MessageId>,
    /// The files of a message deleted by this write: their bytes are to be removed
    /// ([`AttachmentStore::erased_files`](crate::store::AttachmentStore::erased_files)).
    pub erased_files: Vec<AttachmentId>,
}

/// What a store's append returns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AppendOutcome {
    /// The write was made durable.
    Committed(Box<Commit>),
    /// A retry: the message stored earlier under the same idempotency key.
    Duplicate(Message),
}

/// The commit that starts a conversation: the conversation row, its customer participant
/// and the `Created` event at seq 1.
pub fn plan_create(new: NewConversation, at: DateTime<Utc>) -> Commit {
    let conversation = Conversation {
        id: new.id,
        customer_id: new.customer_id,
        status: ConversationStatus::Waiting,
        assignee: None,
        created_at: at,
        updated_at: at,
        closed_at: None,
        customer_ip: new.customer_ip,
        metadata: new.metadata,
        last_seq: Seq::ZERO,
        last_customer_message_seq: Seq::ZERO,
        last_reply_seq: Seq::ZERO,
        customer_messages: 0,
        replies: 0,
        labels: Vec::new(),
        rating: None,
        snoozed_until: None,
    };
    let mut builder = Builder::new(conversation, at);
    builder.push(EventKind::Created {
        customer_id: new.customer_id,
    });
    builder.join(UserRef::Customer(new.customer_id));
    builder.finish()
}

/// Plans `request` against `state`: the status workflow, participant joins, attachment links
/// and the next seqs. Pure: the same inputs always give the same commit.
pub fn plan(state: &LogState, request: &AppendRequest) -> Result<Commit> {
    let mut builder = Builder::new(state.conversation.clone(), request.at);
    match &request.command {
        Command::SendMessage {
            message,
            customer_may_reopen,
        } => {
            plan_message(&mut builder, state, message, *customer_may_reopen)?;
        }
        Command::SetStatus { to, by } => {
            let from = state.conversation.status;
            let to = from.set_by_admin(*to)?;
            builder.push(EventKind::StatusChanged { from, to, by: *by });
            builder.audit_agent(
                *by,
                AuditAction::StatusChanged {
                    conversation: state.conversation.id,
                    from,
                    to,
                },
            );
        }
        Command::Assign { assignee, by } => {
            plan_assign(&mut builder, state, *assignee, *by)?;
            builder.audit_agent(
                *by,
                AuditAction::Assigned {
                    conversation: state.conversation.id,
                    assignee: *assignee,
                },
            );
        }
        Command::AutoAssign { assignee } => {
            let conversation = &state.conversation;
            let open = matches!(
                conversation.status,
                ConversationStatus::Waiting | ConversationStatus::Active
            );
            if conversation.assignee.is_some() || !open {
                return Err(Conflict::AlreadyAssigned.into());
            }
            plan_assign(&mut builder, state, Some(*assignee), Actor::System)?;
        }
        Command::Join { user } => {
            if is_participant(state, *user) {
                return Err(Error::AlreadyExists("participant"));
            }
            builder.join(*user);
            let from = state.conversation.status;
            if matches!(user, UserRef::Admin(_)) && from == ConversationStatus::Waiting {
                let to = ConversationStatus::Active;
                builder.push(EventKind::StatusChanged {
                    from,
                    to,
                    by: Actor::from(*user),
                });
            }
        }
        Command::Leave { user } => {
            if !is_participant(state, *user) {
                return Err(Error::NotFound("participant"));
            }
            builder.push(EventKind::ParticipantLeft { user: *user });
            builder.commit.left.push(*user);
        }
        Command::SetLabels { labels, by } => plan_labels(&mut builder, state, labels, *by)?,
        Command::ChangeLabels { add, remove, by } => {
            let mut labels: Vec<LabelId> = state
                .conversation
                .labels
                .iter()
                .filter(|l| !remove.contains(l))
                .chain(add.iter().filter(|l| !remove.contains(l)))
                .copied()
                .collect();
            labels.sort();
            labels.dedup();
            plan_labels(&mut builder, state, &labels, *by)?;
        }
        Command::Snooze { until, by } => {
            state.conversation.status.snooze()?;
            builder.push(EventKind::Snoozed {
                until: *until,
                by: *by,
            });
        }
        Command::Wake => {
            let conversation = &state.conversation;
            let due = conversation
                .snoozed_until
                .is_some_and(|at| at <= request.at);
            if conversation.status != ConversationStatus::Snoozed || !due {
                return Err(Conflict::NotDue.into());
            }
            builder.push(EventKind::StatusChanged {
                from: ConversationStatus::Snoozed,
                to: ConversationStatus::Active,
                by: Actor::System,
            });
        }
        Command::Rate { score, comment, by } => {
            let conversation = &state.conversation;
            if conversation.status != ConversationStatus::Closed {
                return Err(Conflict::NotClosed.into());
            }
            if let Some(earlier) = &conversation.rating
                && !earlier.may_change_at(request.at)
            {
                return Err(Conflict::RatingFinal.into());
            }
            builder.push(EventKind::Rated {
                score: *score,
                comment: comment.clone(),
                by: *by,
            });
        }
        Command::AddAttachment { attachment } => {
            if attachment.conversation_id != state.conversation.id
                || attachment.message_id.is_some()
            {
                return Err(Conflict::AttachmentUnavailable.into());
            }
            builder.push(EventKind::AttachmentAdded {
                attachment: attachment.clone(),
            });
            builder.commit.attachments.push(attachment.clone());
        }
        Command::EditMessage {
            id,
            body,
            by,
            window,
            ..
        } => revise::plan_edit(&mut builder, state, *id, body, *by, *window)?,
        Command::DeleteMessage {
            id,
            by,
            any_time,
            window,
            redaction,
            ..
        } => revise::plan_delete(
            &mut builder,
            state,
            revise::Deletion {
                id: *id,
                by: *by,
                any_time: *any_time,
                window: *window,
                redaction: redaction.clone(),
            },
        )?,
    }
    Ok(builder.finish())
}

/// Folds one event into the conversation row. Every backend derives the row this way.
pub fn apply(conversation: &mut Conversation, event: &Event) {
    conversation.last_seq = event.seq;
    conversation.updated_at = event.timestamp;
    match &event.kind {
        EventKind::MessageCreated { message } if !message.private => match message.sender.kind() {
            ActorKind::Customer => {
                conversation.last_customer_message_seq = event.seq;
                conversation.customer_messages += 1;
            }
            ActorKind::Admin | ActorKind::System => {
                conversation.last_reply_seq = event.seq;
                conversation.replies += 1;
            }
        },
        EventKind::StatusChanged { to, .. } => {
            conversation.status = *to;
            conversation.closed_at = (*to == ConversationStatus::Closed).then_some(event.timestamp);
            conversation.snoozed_until = None;
        }
        EventKind::Snoozed { until, .. } => {
            conversation.status = ConversationStatus::Snoozed;
            conversation.snoozed_until = *until;
        }
        EventKind::Assigned { assignee, .. } => conversation.assignee = *assignee,
        EventKind::Rated { score, comment, .. } => {
            let first_rated_at = conversation
                .rating
                .as_ref()
                .map_or(event.timestamp, |earlier| earlier.first_rated_at);
            conversation.rating = Some(Rating {
                score: *score,
                comment: comment.clone(),
                agent: conversation.assignee,
                rated_at: event.timestamp,
                first_rated_at,
            });
        }
        EventKind::LabelsChanged { added, removed, .. } => {
            conversation.labels.retain(|label| !removed.contains(label));
            conversation.labels.extend(added);
            conversation.labels.sort();
            conversation.labels.dedup();
        }
        _ => {}
    }
}

fn plan_message(
    builder: &mut Builder,
    state: &LogState,
    new: &NewMessage,
    customer_may_reopen: bool,
) -> Result<()> {
    let attachments = link_attachments(state, new)?;
    let from = state.conversation.status;
    let next_status = from.on_message(new.sender.kind(), new.private, customer_may_reopen)?;
    if let Some(user) = new
        .sender
        .user()
        .filter(|user| !new.private && !is_participant(state, *user))
    {
        builder.join(user);
    }
    if let Some(to) = next_status {
        builder.push(EventKind::StatusChanged {
            from,
            to,
            by: new.sender,
        });
    }
    let message = Message {
        id: new.id,
        conversation_id: state.conversation.id,
        seq: builder.conversation.last_seq.next(),
        sender: new.sender,
        body: new.body.clone(),
        timestamp: builder.at,
        client_timestamp: new.client_timestamp,
        client_message_id: new.client_message_id.clone(),
        private: new.private,
        attachments: attachments.clone(),
        metadata: new.metadata.clone(),
        edited_at: None,
        deleted_at: None,
    };
    builder.push(EventKind::MessageCreated {
        message: message.clone(),
    });
    builder.commit.message = Some(message);
    builder.commit.attachments.extend(attachments);
    Ok(())
}

/// Checks that every named attachment was uploaded by the sender to this conversation and is
/// not yet part of a message, and returns them linked to the new message.
fn link_attachments(state: &LogState, new: &NewMessage) -> Result<Vec<Attachment>> {
    let mut seen = HashSet::new();
    new.attachment_ids
        .iter()
        .map(|id| {
            if !seen.insert(*id) {
                return Err(InvalidInput::new("attachmentIds", "lists a file twice").into());
            }
            let attachment = state
                .attachments
                .iter()
                .find(|a| a.id == *id)
                .filter(|a| {
                    a.conversation_id == state.conversation.id
                        && a.uploader == new.sender
                        && a.message_id.is_none()
                })
                .ok_or(Conflict::AttachmentUnavailable)?;
            Ok(Attachment {
                message_id: Some(new.id),
                private: new.private,
                ..attachment.clone()
            })
        })
        .collect()
}

fn plan_assign(
    builder: &mut Builder,
    state: &LogState,
    assignee: Option<AdminId>,
    by: Actor,
) -> Result<()> {
    if assignee == state.conversation.assignee {
        return Err(Conflict::AlreadyAssigned.into());
    }
    if let Some(admin) = assignee
        .map(UserRef::Admin)
        .filter(|user| !is_participant(state, *user))
    {
        builder.join(admin);
    }
    builder.push(EventKind::Assigned { assignee, by });
    Ok(())
}

fn plan_labels(
    builder: &mut Builder,
    state: &LogState,
    labels: &[LabelId],
    by: Actor,
) -> Result<()> {
    let current = &state.conversation.labels;
    let added: Vec<LabelId> = labels
        .iter()
        .filter(|l| !current.contains(l))
        .copied()
        .collect();
    let removed: Vec<LabelId> = current
        .iter()
        .filter(|l| !labels.contains(l))
        .copied()
        .collect();
    if added.is_empty() && removed.is_empty() {
        return Err(Conflict::LabelsUnchanged.into());
    }
    builder.push(EventKind::LabelsChanged { added, removed, by });
    Ok(())
}

fn is_participant(state: &LogState, user: UserRef) -> bool {
    state.participants.iter().any(|p| p.user == user)
}

/// Accumulates events with consecutive seqs and folds them into the conversation row.
struct Builder {
    conversation: Conversation,
    at: DateTime<Utc>,
    commit: Commit,
}

impl Builder {
    fn new(conversation: Conversation, at: DateTime<Utc>) -> Self {
        let commit = Commit {
            conversation: conversation.clone(),
            events: Vec::new(),
            message: None,
            joined: Vec::new(),
            left: Vec::new(),
            attachments: Vec::new(),
            released: None,
            revised: None,
            audit: Vec::new(),
            redacted: None,
            erased_files: Vec::new(),
        };
        Self {
            conversation,
            at,
            commit,
        }
    }

    fn push(&mut self, kind: EventKind) {
        let event = Event {
            conversation_id: self.conversation.id,
            seq: self.conversation.last_seq.next(),
            timestamp: self.at,
            kind,
        };
        apply(&mut self.conversation, &event);
        self.commit.events.push(event);
    }

    /// Audits `action` when an agent did it.
    fn audit_agent(&mut self, by: Actor, action: AuditAction) {
        if by.kind() == ActorKind::Admin {
            self.audit(by, action);
        }
    }

    fn audit(&mut self, by: Actor, action: AuditAction) {
        self.commit.audit.push(AuditEntry::new(self.at, by, action));
    }

    fn join(&mut self, user: UserRef) {
        self.push(EventKind::ParticipantJoined { user });
        self.commit.joined.push(Participant {
            id: ParticipantId::new(),
            conversation_id: self.conversation.id,
            user,
            joined_at: self.at,
        });
    }

    fn finish(mut self) -> Commit {
        let before = self.commit.conversation.assignee;
        self.commit.released = before.filter(|agent| self.conversation.assignee != Some(*agent));
        self.commit.conversation = self.conversation;
        self.commit
    }
}
