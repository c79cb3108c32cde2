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

/// The cursor at `seq` in `conversation` (whose log `source` holds), moving on from the
/// reader's `previous` one: counted forward from it, or back from the row's count, whichever
/// reads fewer events (none, when a reader marks read up to the newest event).
pub fn at(
    source: &impl Source,
    reader: UserRef,
    conversation: &Conversation,
    seq: Seq,
    previous: ReadCursor,
) -> Result<ReadCursor> {
    let forward = seq.get().saturating_sub(previous.seq.get());
    let backward = conversation.last_seq.get().saturating_sub(seq.get());
    let id = conversation.id;
    let counted = if forward <= backward {
        previous.counted + counted_between(source, reader, id, previous.seq, seq)?
    } else {
        let later = counted_between(source, reader, id, seq, conversation.last_seq)?;
        read::counted(reader, conversation).saturating_sub(later)
    };
    Ok(ReadCursor { seq, counted })
}

/// The messages after `after` up to `through` that count for `reader`, read one event at a
/// time.
fn counted_between(
    source: &impl Source,
    reader: UserRef,
    id: ConversationId,
    after: Seq,
    through: Seq,
) -> Result<u64> {
    let mut counted = 0;
    let mut next = after.next();
    while next <= through {
        if let Some(value) = source.value(&keys::event(id, next))? {
            let (event, _): (chat_core::event::Event, serde::de::IgnoredAny) = decode(&value)?;
            counted += u64::from(
                event
                    .message()
                    .is_some_and(|m| read::counts_as_unread(reader, m)),
            );
        }
        next = next.next();
    }
    Ok(counted)
}
