//! Read state: a per-reader cursor (`last_read_seq`) that never moves back, and the unread
//! rules derived from it, shared by every backend.
//!
//! A message is unread for a reader when it is past the reader's cursor, visible to the
//! reader, and from "the other side": for a visitor, public agent or system replies; for an
//! agent, the customer's messages.

use crate::ids::Seq;
use crate::model::{ActorKind, Conversation, Message, UserRef};

/// A person's read state in a conversation, as a UI shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadState {
    /// Their read cursor.
    pub last_read_seq: Seq,
    /// Messages unread by them (by [`counts_as_unread`]).
    pub unread: u64,
    /// How far the other side has read ("Seen"): for a visitor, the furthest any agent has
    /// read; for an agent, the visitor's cursor.
    pub peer_last_read_seq: Seq,
}

/// What counts as unread for one kind of reader, as data, so that a store's query applies
/// the same rule as [`counts_as_unread`] instead of restating it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnreadRule {
    /// The sender kinds whose messages count.
    pub senders: &'static [ActorKind],
    /// Whether private notes count.
    pub private_notes: bool,
    /// The conversation row's seq that tracks the newest message that counts.
    pub newest: NewestCounted,
}

/// Which of a conversation row's seqs tracks the newest message a reader counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NewestCounted {
    /// `last_reply_seq`: the newest public agent or system message.
    Reply,
    /// `last_customer_message_seq`: the newest customer message.
    CustomerMessage,
}

/// The rule for `reader`.
pub fn unread_rule(reader: UserRef) -> UnreadRule {
    match reader {
        UserRef::Customer(_) => UnreadRule {
            senders: &[ActorKind::Admin, ActorKind::System],
            private_notes: false,
            newest: NewestCounted::Reply,
        },
        UserRef::Admin(_) => UnreadRule {
            senders: &[ActorKind::Customer],
            private_notes: true,
            newest: NewestCounted::CustomerMessage,
        },
    }
}

/// Whether `message` counts towards `reader`'s unread count once it is past their cursor.
pub fn counts_as_unread(reader: UserRef, message: &Message) -> bool {
    let rule = unread_rule(reader);
    rule.senders.contains(&message.sender.kind()) && (rule.private_notes || !message.private)
}

/// Whether `reader`, whose cursor is `last_read_seq`, has anything unread in `conversation`.
///
/// Agrees with [`counts_as_unread`]: the conversation row tracks the newest message of each
/// side, so this needs no scan.
pub fn has_unread(reader: UserRef, conversation: &Conversation, last_read_seq: Seq) -> bool {
    let newest = match unread_rule(reader).newest {
        NewestCounted::Reply => conversation.last_reply_seq,
        NewestCounted::CustomerMessage => conversation.last_customer_message_seq,
    };
    newest > last_read_seq
}

/// How many messages in `conversation` count for `reader` (by [`counts_as_unread`]), from
/// the row's counters: a store keeps, with each cursor, this number as of the cursor, so an
/// unread count is one subtraction.
pub fn counted(reader: UserRef, conversation: &Conversation) -> u64 {
    match unread_rule(reader).newest {
        NewestCounted::Reply => conversation.replies,
        NewestCounted::CustomerMessage => conversation.customer_messages,
    }
}

/// What a store keeps for a reader: their cursor and how many messages counted for them up
/// to it, so `unread = counted(conversation) - counted_at_cursor`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ReadCursor {
    /// Everything up to this seq is read.
    pub seq: Seq,
    /// Messages up to `seq` that count for the reader.
    pub counted: u64,
}

impl ReadCursor {
    /// The reader's unread count in `conversation`.
    pub fn unread(&self, reader: UserRef, conversation: &Conversation) -> u64 {
        counted(reader, conversation).saturating_sub(self.counted)
    }
}

/// The cursor a "read up to `requested`" moves to: never past the end of the log.
///
/// Stores then keep the maximum of this and the stored cursor, so the cursor never moves
/// back.
pub fn clamp_read(requested: Seq, conversation: &Conversation) -> Seq {
    requested.min(conversation.last_seq)
}
