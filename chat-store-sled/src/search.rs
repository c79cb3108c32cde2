//! Message search on `SledStore`: an inverted index (`x` word ‖ sent ‖ message →
//! conversation ‖ seq) written in the same batch as each message and removed with its
//! conversation, and the visitors' address index (`E`). A search walks its rarest word's
//! entries newest first, looks the other words up by key, and checks each message it keeps
//! against the whole query.

use async_trait::async_trait;
use chat_core::Result;
use chat_core::event::Event;
use chat_core::ids::ConversationId;
use chat_core::model::Message;
use chat_core::search::{self, MessageHit, MessageSearch};
use chat_core::store::SearchStore;

use crate::codec::decode;
use crate::conversations::decode_event;
use crate::error::{backend, malformed};
use crate::keys;
use crate::source::Source;
use crate::store::SledStore;
use crate::txn::Txn;

/// The index entries of `message`: one per word, each naming where the message is.
pub fn entries(message: &Message) -> impl Iterator<Item = (Vec<u8>, Vec<u8>)> + '_ {
    let place = keys::place(message.conversation_id, message.seq);
    search::words(message.body.as_str())
        .into_iter()
        .map(move |word| {
            let key = keys::search_entry(&word, message.timestamp, message.id);
            (key, place.clone())
        })
}

/// Indexes a message, in the batch that stores it.
pub fn index(txn: &mut Txn<'_>, message: &Message) {
    for (key, place) in entries(message) {
        txn.insert(key, place);
    }
}

/// Removes the index entries and places of every message of a conversation being
/// deleted, and erases what the audit says of their content (call before its events are
/// removed).
pub fn forget_conversation(txn: &mut Txn<'_>, id: ConversationId) -> Result<()> {
    for (_, value) in txn.entries(&keys::of_conversation(keys::EVENT, id))? {
        if let Some(message) = decode_event(&value)?.message() {
            for (key, _) in entries(message) {
                txn.remove(key);
            }
            txn.remove(keys::message(message.id));
            crate::revise::erase_content(txn, message.id)?;
        }
    }
    Ok(())
}

/// The key range of `query`'s longest word (the likeliest to be rare): from its `since`
/// to the earliest of its `until`, its cursor and the word's end.
fn range(query: &MessageSearch, word: &str) -> std::ops::Range<Vec<u8>> {
    let start = match query.since {
        Some(since) => keys::search_from(word, since),
        None => keys::search_word(word),
    };
    let mut end = keys::search_word(word);
    if let Some(last) = end.last_mut() {
        *last = 1;
    }
    if let Some(until) = query.until {
        end = end.min(keys::search_from(word, until));
    }
    if let Some(before) = query.before {
        end = end.min(keys::search_entry(word, before.timestamp, before.id));
    }
    let end = end.max(start.clone());
    start..end
}

/// How many entries of a word's range are counted when choosing which word to walk.
const SAMPLE: usize = 1000;

impl SledStore {
    /// The query's word with the fewest entries in its range (counted up to [`SAMPLE`]),
    /// the cheapest to walk.
    fn rarest<'a>(&self, query: &'a MessageSearch) -> Option<&'a str> {
        query
            .words
            .iter()
            .min_by_key(|word| self.tree().range(range(query, word)).take(SAMPLE).count())
            .map(String::as_str)
    }
}

#[async_trait]
impl SearchStore for SledStore {
    async fn search_messages(&self, query: &MessageSearch) -> Result<Vec<MessageHit>> {
        let Some(walked) = self.rarest(query) else {
            return Ok(Vec::new());
        };
        let mut hits = Vec::new();
        for entry in self.tree().range(range(query, walked)).rev() {
            if hits.len() == query.limit {
                break;
            }
            let (key, value) = entry.map_err(backend)?;
            // The message's time and id end the key: the other words are point lookups.
            let tail = &key[key.len().saturating_sub(24)..];
            let others_held = query.words.iter().filter(|w| *w != walked).try_fold(
                true,
                |held, word| -> Result<bool> {
                    let mut other = keys::search_word(word);
                    other.extend_from_slice(tail);
                    Ok(held && self.tree().contains_key(other).map_err(backend)?)
                },
            )?;
            if !others_held {
                continue;
            }
            let (id, seq) = keys::place_of(&value).ok_or_else(|| malformed("search entry"))?;
            // Only what is durable, in a conversation the search covers.
            let Some(conversation) = self.rows().get(id).cloned() else {
                continue;
            };
            if seq > conversation.last_seq || !query.covers(&conversation) {
                continue;
            }
            let Some(value) = self.tree().value(&keys::event(id, seq))? else {
                continue;
            };
            let (event, _): (Event, serde::de::IgnoredAny) = decode(&value)?;
            if let Some(message) = event.message().filter(|m| query.finds(m)) {
                hits.push(MessageHit {
                    message: message.clone(),
                    conversation,
                });
            }
        }
        Ok(hits)
    }
}

/// The lookup indexes a rebuild rewrites: search words, addresses, message places.
const REBUILT: [u8; 3] = [keys::SEARCH_WORD, keys::CUSTOMER_EMAIL, keys::MESSAGE];

/// Every index entry the stored messages and visitors' addresses call for, read from the
/// tree: what the upgrade to schema 4 writes, and what a rebuild puts back.
pub fn all_entries(tree: &sled::Tree) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
    let mut all = Vec::new();
    for value in tree.scan_prefix([keys::EVENT]).values() {
        if let Some(message) = decode_event(&value.map_err(backend)?)?.message() {
            all.extend(entries(message));
            all.push((
                keys::message(message.id),
                keys::place(message.conversation_id, message.seq),
            ));
        }
    }
    for value in tree.scan_prefix([keys::CUSTOMER]).values() {
        let customer: chat_core::accounts::Customer = decode(&value.map_err(backend)?)?;
        if let Some(contact) = &customer.contact {
            all.push((
                keys::customer_email(contact.email.as_str(), customer.id),
                Vec::new(),
            ));
        }
    }
    Ok(all)
}

impl SledStore {
    /// Rebuilds the search index, the address index and the messages' places from the
    /// stored messages and visitors, in one atomic write, and returns how many entries they
    /// hold. Run it with
    /// the store not serving (`chat-server reindex`): it repairs an index damaged by hand
    /// or by a bug, and is never needed in normal operation.
    pub async fn rebuild_search_index(&self) -> Result<usize> {
        let mut stale = Vec::new();
        for prefix in REBUILT {
            for key in self.tree().scan_prefix([prefix]).keys() {
                stale.push(key.map_err(backend)?.to_vec());
            }
        }
        let fresh = all_entries(self.tree())?;
        let count = fresh.len();
        self.writer
            .run(move |txn| {
                for key in stale {
                    txn.remove(key);
                }
                for (key, value) in fresh {
                    txn.insert(key, value);
                }
                Ok(())
            })
            .await?;
        Ok(count)
    }
}
