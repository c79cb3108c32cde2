//! Read cursors as stored: the seq and how many messages counted for the reader up to it
//! (`chat_core::read::ReadCursor`), so an unread count is one subtraction.

use chat_core::Result;
use chat_core::ids::{ConversationId, Seq};
use chat_core::model::{Conversation, UserRef};
use chat_core::read::{self, ReadCursor};

use crate::codec::decode;
use crate::error::malformed;
use crate::keys;
use crate::source::Source;

/// Encodes a cursor value.
pub fn encode(cursor: ReadCursor) -> Vec<u8> {
    [cursor.seq.get().to_be_bytes(), cursor.counted.to_be_bytes()].concat()
}

/// Decodes a cursor value.
pub fn decode_value(bytes: &[u8]) -> Result<ReadCursor> {
    let (seq, counted) = bytes
        .split_first_chunk::<8>()
        .and_then(|(seq, rest)| Some((seq, <[u8; 8]>::try_from(rest).ok()?)))
        .ok_or_else(|| malformed("read cursor"))?;
    Ok(ReadCursor {
        seq: Seq(u64::from_be_bytes(*seq)),
        counted: u64::from_be_bytes(counted),
    })
}

/// The reader's stored cursor (zero if they never read).
pub fn get(source: &impl Source, id: ConversationId, reader: UserRef) -> Result<ReadCursor> {
    source
        .value(&keys::cursor(id, reader))?
        .map_or(Ok(ReadCursor::default()), |bytes| decode_value(&bytes))
}

/// The cursor at `seq` in `conversation` (whose log `source` holds): the row's count minus
/// the counted messages after `seq`, read one event at a time (usually none: a reader
/// marks read up to the newest event).
pub fn at(
    source: &impl Source,
    reader: UserRef,
    conversation: &Conversation,
    seq: Seq,
) -> Result<ReadCursor> {
    let mut later = 0;
    let mut next = seq.next();
    while next <= conversation.last_seq {
        if let Some(value) = source.value(&keys::event(conversation.id, next))? {
            let (event, _): (chat_core::event::Event, serde::de::IgnoredAny) = decode(&value)?;
            later += u64::from(
                event
                    .message()
                    .is_some_and(|m| read::counts_as_unread(reader, m)),
            );
        }
        next = next.next();
    }
    Ok(ReadCursor {
        seq,
        counted: read::counted(reader, conversation).saturating_sub(later),
    })
}
