//! Search: the words of a message (one tokenizer for every store, so every store finds the
//! same messages), a parsed query, and the keyset cursor over results, newest first.
//!
//! A message matches when it holds every word of the query, whole and case-insensitive.
//! A word is a run of letters and digits (Unicode); everything else separates words.

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, SubsecRound, Utc};

use crate::error::{InvalidInput, Result};
use crate::ids::{LabelId, MessageId, Uuid};
use crate::model::{Conversation, Message};
use crate::status::ConversationStatus;
use crate::store::ListScope;

/// Longest word kept: a longer run (a pasted key, a base64 blob) is not a word anyone types.
pub const MAX_WORD_CHARS: usize = 64;
/// Most distinct words of one message that are searchable (the first ones, in text order).
pub const MAX_WORDS_PER_MESSAGE: usize = 1000;
/// Most words in a query.
pub const MAX_QUERY_WORDS: usize = 16;
/// Longest query, in characters.
pub const MAX_QUERY_CHARS: usize = 256;

/// The searchable words of `text`: lower-cased, distinct, in order of first appearance, at
/// most [`MAX_WORDS_PER_MESSAGE`]. What every store indexes a message under.
pub fn words(text: &str) -> Vec<String> {
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for word in text.split(|c: char| !c.is_alphanumeric()) {
        if word.is_empty() || word.chars().count() > MAX_WORD_CHARS {
            continue;
        }
        let word = word.to_lowercase();
        if seen.insert(word.clone()) {
            out.push(word);
            if out.len() == MAX_WORDS_PER_MESSAGE {
                break;
            }
        }
    }
    out
}

/// A search request's text: trimmed, bounded, with its words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchText {
    text: String,
    words: Vec<String>,
}

impl SearchText {
    /// Checks `q`: not blank, at most [`MAX_QUERY_CHARS`] characters and
    /// [`MAX_QUERY_WORDS`] words.
    pub fn parse(q: &str) -> Result<Self, InvalidInput> {
        let text = q.trim();
        if text.is_empty() {
            return Err(InvalidInput::new("q", "must not be empty"));
        }
        if text.chars().count() > MAX_QUERY_CHARS {
            return Err(InvalidInput::new(
                "q",
                format!("must be at most {MAX_QUERY_CHARS} characters"),
            ));
        }
        let words = words(text);
        if words.len() > MAX_QUERY_WORDS {
            return Err(InvalidInput::new(
                "q",
                format!("must have at most {MAX_QUERY_WORDS} words"),
            ));
        }
        Ok(Self {
            text: text.to_owned(),
            words,
        })
    }

    /// The trimmed text (what exact matches on ids, addresses and identifiers compare).
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Its words (empty when it has none, as in `"!!"`: then no message matches).
    pub fn words(&self) -> &[String] {
        &self.words
    }
}

/// 9999-12-31T23:59:59.999999Z in microseconds since the epoch.
const MAX_MICROS: i64 = 253_402_300_799_999_999;

/// `at` moved up to a whole microsecond, the precision of stored times, so that a bound
/// between two microseconds means the same on every store.
pub fn whole_micros_up(at: DateTime<Utc>) -> DateTime<Utc> {
    let truncated = at.trunc_subsecs(6);
    if truncated < at {
        truncated + chrono::Duration::microseconds(1)
    } else {
        truncated
    }
}

/// Where a page of message results ends: the last message's time and id. Results are
/// ordered by (timestamp, id), descending; the next page holds the ones strictly before.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct SearchCursor {
    /// The message's server time.
    pub timestamp: DateTime<Utc>,
    /// Its id (the tie-breaker).
    pub id: MessageId,
}

impl SearchCursor {
    /// The cursor at `message`.
    pub fn at(message: &Message) -> Self {
        Self {
            timestamp: message.timestamp,
            id: message.id,
        }
    }
}

impl fmt::Display for SearchCursor {
    /// `<microseconds since the epoch>.<message id>`: opaque to clients.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.timestamp.timestamp_micros(), self.id)
    }
}

impl FromStr for SearchCursor {
    type Err = InvalidInput;

    fn from_str(text: &str) -> Result<Self, InvalidInput> {
        let invalid = || InvalidInput::new("cursor", "is not a cursor this server returned");
        let (micros, id) = text.split_once('.').ok_or_else(invalid)?;
        let micros: i64 = micros.parse().map_err(|_| invalid())?;
        // Server times: from 1970 to the end of year 9999, the range every store keeps.
        if !(0..=MAX_MICROS).contains(&micros) {
            return Err(invalid());
        }
        let timestamp = DateTime::from_timestamp_micros(micros).ok_or_else(invalid)?;
        let id = Uuid::parse_str(id).map_err(|_| invalid())?;
        Ok(Self {
            timestamp,
            id: MessageId::from_uuid(id),
        })
    }
}

/// What a store searches messages for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageSearch {
    /// Words a message must all hold (never empty).
    pub words: Vec<String>,
    /// Which conversations (a restricted agent's are the ones assigned to it).
    pub scope: ListScope,
    /// Only conversations with this status, if set.
    pub status: Option<ConversationStatus>,
    /// Only conversations with this label, if set.
    pub label: Option<LabelId>,
    /// Only messages sent at or after this time.
    pub since: Option<DateTime<Utc>>,
    /// Only messages sent before this time.
    pub until: Option<DateTime<Utc>>,
    /// Only messages before this cursor (the next page).
    pub before: Option<SearchCursor>,
    /// Most results.
    pub limit: usize,
}

impl MessageSearch {
    /// Whether the search covers `conversation` (scope, status and label).
    pub fn covers(&self, conversation: &Conversation) -> bool {
        crate::store::in_filter(self.scope, self.status, self.label, conversation)
    }

    /// Whether `message` (sent in a conversation this search covers) is a result: inside
    /// the time window, before the cursor, holding every word.
    pub fn finds(&self, message: &Message) -> bool {
        self.in_window(message) && self.holds_every_word(message)
    }

    /// Whether `message` is inside the time window and before the cursor.
    pub fn in_window(&self, message: &Message) -> bool {
        self.since.is_none_or(|since| message.timestamp >= since)
            && self.until.is_none_or(|until| message.timestamp < until)
            && self
                .before
                .is_none_or(|before| SearchCursor::at(message) < before)
    }

    /// Whether `message` holds every word of the search.
    pub fn holds_every_word(&self, message: &Message) -> bool {
        let held = words(message.body.as_str());
        self.words.iter().all(|word| held.contains(word))
    }
}

/// A message found, with its conversation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageHit {
    /// The message.
    pub message: Message,
    /// Its conversation, as it is now.
    pub conversation: Conversation,
}

/// One page of search results.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchResults {
    /// Conversations matched exactly by their id, or their visitor's id, address or
    /// identifier, newest activity first (on the first page only).
    pub conversations: Vec<Conversation>,
    /// Messages holding every word, newest first.
    pub messages: Vec<MessageHit>,
    /// Where the next page of messages starts, if there is one.
    pub next: Option<SearchCursor>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_lower_cased_distinct_runs_of_letters_and_digits() {
        assert_eq!(
            words("Refund for order #A-1234, refund ASAP! Café crème"),
            [
                "refund", "for", "order", "a", "1234", "asap", "café", "crème"
            ]
        );
        assert!(words("  ?!  ").is_empty());
    }

    #[test]
    fn overlong_runs_are_not_words_and_a_message_keeps_its_first_thousand() {
        let long = "x".repeat(MAX_WORD_CHARS + 1);
        assert_eq!(words(&format!("{long} ok")), ["ok"]);
        let many: Vec<String> = (0..MAX_WORDS_PER_MESSAGE + 5)
            .map(|i| format!("w{i}"))
            .collect();
        let kept = words(&many.join(" "));
        assert_eq!(kept.len(), MAX_WORDS_PER_MESSAGE);
        assert_eq!(kept.last().map(String::as_str), Some("w999"));
    }

    #[test]
    fn a_query_must_have_text_and_stay_small() {
        assert!(SearchText::parse("   ").is_err());
        assert!(SearchText::parse(&"a".repeat(MAX_QUERY_CHARS + 1)).is_err());
        let many: Vec<String> = (0..=MAX_QUERY_WORDS).map(|i| format!("w{i}")).collect();
        assert!(SearchText::parse(&many.join(" ")).is_err());
        let query = SearchText::parse("  Jane@Example.com ").unwrap();
        assert_eq!(query.text(), "Jane@Example.com");
        assert_eq!(query.words(), ["jane", "example", "com"]);
    }

    #[test]
    fn a_cursor_round_trips_and_garbage_is_refused() {
        let cursor = SearchCursor {
            timestamp: DateTime::from_timestamp_micros(1_700_000_000_123_456).unwrap(),
            id: MessageId::new(),
        };
        assert_eq!(cursor.to_string().parse::<SearchCursor>().unwrap(), cursor);
        let id = Uuid::nil();
        for garbage in [
            "".to_owned(),
            "12".to_owned(),
            "x.y".to_owned(),
            "12.not-a-uuid".to_owned(),
            format!("-1.{id}"),
            format!("-8000000000000000000.{id}"),
            format!("{}.{id}", MAX_MICROS + 1),
        ] {
            assert!(garbage.parse::<SearchCursor>().is_err(), "{garbage}");
        }
    }

    #[test]
    fn bounds_round_up_to_whole_microseconds() {
        let whole = DateTime::from_timestamp_micros(1_700_000_000_000_001).unwrap();
        assert_eq!(whole_micros_up(whole), whole);
        let between = whole + chrono::Duration::nanoseconds(1);
        assert_eq!(
            whole_micros_up(between),
            whole + chrono::Duration::microseconds(1)
        );
    }
}
