//! Keyset paging of the conversation list, for stores that hold the list order themselves
//! (a SQL store pages in its query instead): filter, count, skip to the cursor, cut the page.

use crate::error::Result;
use crate::ids::Seq;
use crate::model::{Conversation, UserRef};
use crate::read;
use crate::store::{ConversationPage, ConversationQuery, ConversationSummary, ListCursor};

impl ConversationQuery {
    /// The page this query asks for, from every conversation in list order (newest
    /// activity first, then id descending). `cursor` reads the reader's read cursor in a
    /// conversation; `unread` counts the reader's unread messages after it, and is called
    /// only for the page's items that have any (by [`read::has_unread`]).
    pub fn page<'a>(
        &self,
        newest_first: impl IntoIterator<Item = &'a Conversation>,
        mut cursor: impl FnMut(&Conversation, UserRef) -> Result<Seq>,
        mut unread: impl FnMut(&Conversation, UserRef, Seq) -> Result<u64>,
    ) -> Result<ConversationPage> {
        let mut page = ConversationPage {
            items: Vec::new(),
            total_count: 0,
            unread_count: 0,
            next: None,
        };
        let mut more = false;
        for conversation in newest_first.into_iter().filter(|c| self.matches(c)) {
            page.total_count += 1;
            let last_read_seq = match self.reader {
                Some(reader) => cursor(conversation, reader)?,
                None => Seq::ZERO,
            };
            let has_unread = self
                .reader
                .is_some_and(|reader| read::has_unread(reader, conversation, last_read_seq));
            page.unread_count += u64::from(has_unread);
            if !self.after.is_none_or(|after| after.precedes(conversation)) {
                continue;
            }
            if page.items.len() == self.limit {
                more = true;
                continue;
            }
            page.items.push(ConversationSummary {
                conversation: conversation.clone(),
                last_read_seq,
                unread: match self.reader {
                    Some(reader) if has_unread => unread(conversation, reader, last_read_seq)?,
                    _ => 0,
                },
            });
        }
        page.next = more
            .then(|| {
                page.items
                    .last()
                    .map(|s| ListCursor::after(&s.conversation))
            })
            .flatten();
        Ok(page)
    }
}
