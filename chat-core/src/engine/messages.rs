//! Sending messages and notes, uploading files, reading history and the event log, and
//! moving read cursors.

use chrono::{DateTime, Utc};

use crate::authz::{Action, Principal};
use crate::broadcast::{InboxKind, InboxUpdate, Signal, Topic};
use crate::engine::{ChatEngine, audience, now, page_limit};
use crate::error::{Error, InvalidInput, Result};
use crate::event::{Audience, Event};
use crate::ids::{AttachmentId, ConversationId, MessageId, Seq};
use crate::log::{AppendOutcome, Command, IdempotencyKey, NewMessage};
use crate::model::{Actor, Attachment, Conversation, FileType, Message, UserRef};
use crate::read::{self, ReadState};
use crate::values::{ClientMessageId, FileName, MessageBody, Metadata};

const HISTORY_DEFAULT: usize = 50;
const HISTORY_MAX: usize = 100;
const EVENTS_DEFAULT: usize = 100;
const EVENTS_MAX: usize = 500;
/// Most unattached uploads removed by one sweep.
const SWEEP_BATCH: usize = 1000;
/// Most files one message may carry.
const MAX_ATTACHMENTS: usize = 10;

/// A message to send. The sender is always the principal, never a request field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendMessage {
    /// Where.
    pub conversation_id: ConversationId,
    /// The text (checked again against the configured size limit).
    pub body: MessageBody,
    /// Makes retries idempotent.
    pub client_message_id: Option<ClientMessageId>,
    /// The client's clock, kept as metadata only.
    pub client_timestamp: Option<DateTime<Utc>>,
    /// Files uploaded earlier by the same sender to the same conversation.
    pub attachment_ids: Vec<AttachmentId>,
    /// A private note (agents with `manage_conversations` only).
    pub private: bool,
    /// Embedder data.
    pub metadata: Metadata,
}

impl SendMessage {
    /// A plain message with no options.
    pub fn text(conversation_id: ConversationId, body: MessageBody) -> Self {
        Self {
            conversation_id,
            body,
            client_message_id: None,
            client_timestamp: None,
            attachment_ids: Vec::new(),
            private: false,
            metadata: Metadata::default(),
        }
    }
}

/// The result of a send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sent {
    /// The stored message (the original one, for a retry).
    pub message: Message,
    /// `false` when this was a retry of an earlier send.
    pub created: bool,
}

/// A file whose bytes the caller has already stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAttachment {
    /// Its id (the blob's key).
    pub id: AttachmentId,
    /// Where it is uploaded.
    pub conversation_id: ConversationId,
    /// Image or document, as decided from the content.
    pub file_type: FileType,
    /// MIME type decided from the content.
    pub content_type: String,
    /// Size in bytes.
    pub file_size: u64,
    /// Name as uploaded.
    pub file_name: FileName,
}

/// A page of history, newest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessagePage {
    /// Messages, newest first.
    pub messages: Vec<Message>,
    /// Whether older messages remain.
    pub has_more: bool,
}

/// A page of the event log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventPage {
    /// Visible events, ascending.
    pub events: Vec<Event>,
    /// The seq to pass as `since` for the next page (it counts events the principal may
    /// not see, so none is ever fetched twice).
    pub last_seq: Seq,
    /// Whether more events follow.
    pub has_more: bool,
}

impl ChatEngine {
    /// Sends a message (or, with `private`, a note) as the principal.
    ///
    /// Returns after the write is durable; a retry with the same `client_message_id` returns
    /// the original message with `created: false` and announces its event and inbox update
    /// again (covering a node that stopped between a write and its announcement).
    pub async fn send_message(&self, principal: &Principal, request: SendMessage) -> Result<Sent> {
        let action = if request.private {
            Action::WritePrivateNote
        } else {
            Action::SendMessage
        };
        let sender = principal.actor().ok_or(Error::Unauthenticated)?;
        if let Err(refused) = self
            .authorized(principal, action, request.conversation_id)
            .await
        {
            return self.retried(sender, &request).await?.ok_or(refused);
        }
        if request.attachment_ids.len() > MAX_ATTACHMENTS {
            let problem = format!("at most {MAX_ATTACHMENTS} files per message");
            return Err(InvalidInput::new("attachmentIds", problem).into());
        }
        let message = NewMessage {
            id: MessageId::new(),
            sender,
            body: MessageBody::parse(String::from(request.body), &self.config.limits)?,
            client_message_id: request.client_message_id,
            client_timestamp: request.client_timestamp,
            private: request.private,
            attachment_ids: request.attachment_ids,
            metadata: Metadata::parse(request.metadata.into(), &self.config.limits)?,
        };
        let customer_may_reopen = self.config.policy.customer_may_reopen;
        let command = Command::SendMessage {
            message,
            customer_may_reopen,
        };
        match self.append(request.conversation_id, command).await? {
            AppendOutcome::Duplicate(message) => {
                self.reannounce(&message).await;
                Ok(Sent {
                    message,
                    created: false,
                })
            }
            AppendOutcome::Committed(commit) => {
                let message = commit.message.ok_or(Error::NotFound("message"))?;
                Ok(Sent {
                    message,
                    created: true,
                })
            }
        }
    }

    /// Publishes a retried message's event, and its conversation's inbox update, again. A
    /// node that stopped between the write and its announcement (a crash; a broadcaster
    /// that announces after the commit, as NATS does) left other nodes' rooms and inboxes
    /// without it until the conversation's next event; the sender's retry, on any node,
    /// fills that in. Feeds drop the copy where it arrived; inboxes re-read.
    async fn reannounce(&self, message: &Message) {
        let id = message.conversation_id;
        let before = Seq(message.seq.get().saturating_sub(1));
        let reread = async {
            let events = self.store.events_since(id, before, 1).await?;
            let conversation = self.store.get_conversation(id).await?;
            Ok::<_, Error>((events, conversation))
        };
        let (events, conversation) = match reread.await {
            Ok(found) => found,
            Err(error) => {
                tracing::warn!(%error, "could not re-read a retried message's event");
                return;
            }
        };
        for event in events {
            self.publish(Topic::Conversation(id), Signal::Event { event })
                .await;
        }
        if let Some(conversation) = conversation {
            let update = InboxUpdate {
                conversation_id: id,
                kind: InboxKind::Message,
                assignee: conversation.assignee,
                released: None,
                seq: conversation.last_seq,
            };
            self.publish(Topic::Inbox, Signal::Inbox { update }).await;
        }
    }

    /// The original of a retried send that a new write's rules would now refuse (the
    /// conversation was closed or reassigned since): its sender gets it back, whatever
    /// changed. Only the sender's own message under its own client id is ever found.
    async fn retried(&self, sender: Actor, request: &SendMessage) -> Result<Option<Sent>> {
        let Some(client_message_id) = request.client_message_id.clone() else {
            return Ok(None);
        };
        let key = IdempotencyKey {
            conversation_id: request.conversation_id,
            sender,
            client_message_id,
        };
        let original = self.store.sent_message(&key).await?;
        Ok(original.map(|message| Sent {
            message,
            created: false,
        }))
    }

    /// Records a file the caller has stored, as an `AttachmentAdded` event.
    pub async fn add_attachment(
        &self,
        principal: &Principal,
        new: NewAttachment,
    ) -> Result<Attachment> {
        self.authorized(principal, Action::UploadFile, new.conversation_id)
            .await?;
        let uploader = principal.actor().ok_or(Error::Unauthenticated)?;
        let attachment = Attachment {
            id: new.id,
            conversation_id: new.conversation_id,
            message_id: None,
            uploader,
            file_type: new.file_type,
            content_type: new.content_type,
            file_size: new.file_size,
            file_name: new.file_name,
            private: false,
            uploaded_at: now(),
        };
        let command = Command::AddAttachment {
            attachment: attachment.clone(),
        };
        self.commit(new.conversation_id, command).await?;
        Ok(attachment)
    }

    /// An attachment the principal may download. "Missing" and "not yours" are the same
    /// `NotFound`; so is a file of a deleted message.
    pub async fn get_attachment(
        &self,
        principal: &Principal,
        id: AttachmentId,
    ) -> Result<Attachment> {
        let hidden = || Error::NotFound("attachment");
        let attachment = self.store.get_attachment(id).await?.ok_or_else(hidden)?;
        let read = self.authorized(
            principal,
            Action::ReadConversation,
            attachment.conversation_id,
        );
        read.await.map_err(|_| hidden())?;
        if let Some(message) = attachment.message_id {
            let message = self.store.find_message(message).await?;
            if message.is_none_or(|message| message.is_deleted()) {
                return Err(hidden());
            }
        }
        let visible = audience(principal) == Audience::Staff || attachment.visible_to_customer();
        visible.then_some(attachment).ok_or_else(hidden)
    }

    /// Deletes the records of files uploaded before `uploaded_before` and never sent with a
    /// message (the system only), and returns them so the caller can delete their bytes.
    pub async fn remove_unattached_uploads(
        &self,
        principal: &Principal,
        uploaded_before: DateTime<Utc>,
    ) -> Result<Vec<Attachment>> {
        if *principal != Principal::System {
            return Err(Error::PermissionDenied("only the system sweeps uploads"));
        }
        let mut removed = Vec::new();
        for attachment in self
            .store
            .unlinked_attachments(uploaded_before, SWEEP_BATCH)
            .await?
        {
            if self.store.remove_unlinked_attachment(attachment.id).await? {
                removed.push(attachment);
            }
        }
        Ok(removed)
    }

    /// History, newest first, before `before` (from the end when `None`).
    pub async fn history(
        &self,
        principal: &Principal,
        id: ConversationId,
        before: Option<Seq>,
        limit: Option<usize>,
    ) -> Result<MessagePage> {
        self.authorized(principal, Action::ReadConversation, id)
            .await?;
        let limit = page_limit(limit, HISTORY_DEFAULT, HISTORY_MAX)?;
        let mut messages = self
            .store
            .messages_before(id, before, limit + 1, audience(principal))
            .await?;
        let has_more = messages.len() > limit;
        messages.truncate(limit);
        Ok(MessagePage { messages, has_more })
    }

    /// The events after `since` that the principal may see, ascending.
    pub async fn events_since(
        &self,
        principal: &Principal,
        id: ConversationId,
        since: Seq,
        limit: Option<usize>,
    ) -> Result<EventPage> {
        let conversation = self
            .authorized(principal, Action::ReadConversation, id)
            .await?;
        if since > conversation.last_seq {
            return Err(InvalidInput::new("since", "is past the end of the conversation").into());
        }
        let limit = page_limit(limit, EVENTS_DEFAULT, EVENTS_MAX)?;
        let mut events = self.store.events_since(id, since, limit + 1).await?;
        let has_more = events.len() > limit;
        events.truncate(limit);
        let last_seq = events.last().map_or(since, |e| e.seq);
        events.retain(|e| e.visible_to(audience(principal)));
        Ok(EventPage {
            events,
            last_seq,
            has_more,
        })
    }

    /// Moves the principal's read cursor to `seq` (clamped to the log's end; never back) and
    /// tells the room. Returns the cursor after the move.
    pub async fn mark_read(
        &self,
        principal: &Principal,
        id: ConversationId,
        seq: Seq,
    ) -> Result<Seq> {
        let conversation = self.authorized(principal, Action::MarkRead, id).await?;
        let reader = principal
            .user()
            .ok_or(Error::PermissionDenied("only people have read state"))?;
        let target = read::clamp_read(seq, &conversation);
        let last_read_seq = self.store.advance_read_cursor(id, reader, target).await?;
        let signal = Signal::Read {
            conversation_id: id,
            reader,
            last_read_seq,
        };
        self.publish(Topic::Conversation(id), signal).await;
        Ok(last_read_seq)
    }

    /// How many messages the principal has unread in the conversation.
    pub async fn unread_count(&self, principal: &Principal, id: ConversationId) -> Result<u64> {
        let (_, reader) = self.reader(principal, id).await?;
        self.store.unread_count(id, reader).await
    }

    /// The principal's read state in the conversation (its cursor, its unread count, and how
    /// far the other side has read), authorized once.
    pub async fn read_state(&self, principal: &Principal, id: ConversationId) -> Result<ReadState> {
        let (_, reader) = self.reader(principal, id).await?;
        let cursors = self.store.read_cursors(id).await?;
        let furthest = |whose: &dyn Fn(&UserRef) -> bool| {
            let seqs = cursors.iter().filter(|(user, _)| whose(user));
            seqs.map(|(_, cursor)| cursor.seq)
                .max()
                .unwrap_or(Seq::ZERO)
        };
        let peer_last_read_seq = match reader {
            UserRef::Customer(_) => furthest(&|user| matches!(user, UserRef::Admin(_))),
            UserRef::Admin(_) => furthest(&|user| matches!(user, UserRef::Customer(_))),
        };
        Ok(ReadState {
            last_read_seq: furthest(&|user| *user == reader),
            unread: self.store.unread_count(id, reader).await?,
            peer_last_read_seq,
        })
    }

    /// The principal as a reader of the conversation it may read.
    async fn reader(
        &self,
        principal: &Principal,
        id: ConversationId,
    ) -> Result<(Conversation, UserRef)> {
        let conversation = self
            .authorized(principal, Action::ReadConversation, id)
            .await?;
        let reader = principal
            .user()
            .ok_or(Error::PermissionDenied("only people have read state"))?;
        Ok((conversation, reader))
    }
}
