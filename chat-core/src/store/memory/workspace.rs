//! The workspace catalogs of `MemoryStore`: labels and canned replies, each a list with a
//! unique, case-insensitive name, behind one lock so a uniqueness check and its write are
//! one step; the reports over its conversations, and what auto-assignment reads.

use std::sync::Mutex;

use async_trait::async_trait;

use crate::canned::{CannedReply, CannedReplyChanges};
use crate::error::{Error, Result};
use crate::ids::AdminId;
use crate::ids::{CannedReplyId, LabelId};
use crate::labels::{Label, LabelChanges};
use crate::model::Conversation;
use crate::ratings::{self, RatingCount, RatingQuery};
use crate::store::{
    AssignmentStore, CannedReplyStore, LabelStore, Lease, MemoryStore, ReportStore,
};

/// An item of a catalog: an id and a unique name.
pub(super) trait Item: Clone {
    type Id: PartialEq;
    /// What the errors call it.
    const WHAT: &'static str;
    fn id(&self) -> Self::Id;
    /// The unique name, lower-cased.
    fn key(&self) -> String;
}

impl Item for Label {
    type Id = LabelId;
    const WHAT: &'static str = "label";
    fn id(&self) -> LabelId {
        self.id
    }
    fn key(&self) -> String {
        self.title.key()
    }
}

impl Item for CannedReply {
    type Id = CannedReplyId;
    const WHAT: &'static str = "canned reply";
    fn id(&self) -> CannedReplyId {
        self.id
    }
    fn key(&self) -> String {
        self.short_code.key()
    }
}

/// The items, in no order.
#[derive(Debug)]
pub(super) struct Catalog<T>(Mutex<Vec<T>>);

impl<T> Default for Catalog<T> {
    fn default() -> Self {
        Self(Mutex::new(Vec::new()))
    }
}

impl<T: Item> Catalog<T> {
    fn create(&self, item: &T) -> Result<()> {
        let mut items = self.0.lock().expect("catalog lock");
        if items
            .iter()
            .any(|i| i.id() == item.id() || i.key() == item.key())
        {
            return Err(Error::AlreadyExists(T::WHAT));
        }
        items.push(item.clone());
        Ok(())
    }

    /// In name order.
    fn list(&self) -> Vec<T> {
        let mut items = self.0.lock().expect("catalog lock").clone();
        items.sort_by_key(Item::key);
        items
    }

    fn update(&self, id: T::Id, change: impl FnOnce(&mut T)) -> Result<T> {
        let mut items = self.0.lock().expect("catalog lock");
        let index = items
            .iter()
            .position(|i| i.id() == id)
            .ok_or(Error::NotFound(T::WHAT))?;
        let mut changed = items[index].clone();
        change(&mut changed);
        let taken = items
            .iter()
            .enumerate()
            .any(|(at, i)| at != index && i.key() == changed.key());
        if taken {
            return Err(Error::AlreadyExists(T::WHAT));
        }
        items[index] = changed.clone();
        Ok(changed)
    }

    fn delete(&self, id: T::Id) -> Result<()> {
        let mut items = self.0.lock().expect("catalog lock");
        let before = items.len();
        items.retain(|i| i.id() != id);
        if items.len() == before {
            return Err(Error::NotFound(T::WHAT));
        }
        Ok(())
    }
}

#[async_trait]
impl LabelStore for MemoryStore {
    async fn create_label(&self, label: &Label) -> Result<()> {
        self.labels.create(label)
    }

    async fn list_labels(&self) -> Result<Vec<Label>> {
        Ok(self.labels.list())
    }

    async fn update_label(&self, id: LabelId, changes: &LabelChanges) -> Result<Label> {
        self.labels.update(id, |label| changes.apply(label))
    }

    async fn delete_label(&self, id: LabelId) -> Result<()> {
        self.labels.delete(id)
    }
}

#[async_trait]
impl CannedReplyStore for MemoryStore {
    async fn create_canned_reply(&self, reply: &CannedReply) -> Result<()> {
        self.canned_replies.create(reply)
    }

    async fn list_canned_replies(&self) -> Result<Vec<CannedReply>> {
        Ok(self.canned_replies.list())
    }

    async fn update_canned_reply(
        &self,
        id: CannedReplyId,
        changes: &CannedReplyChanges,
    ) -> Result<CannedReply> {
        self.canned_replies.update(id, |reply| changes.apply(reply))
    }

    async fn delete_canned_reply(&self, id: CannedReplyId) -> Result<()> {
        self.canned_replies.delete(id)
    }
}

#[async_trait]
impl ReportStore for MemoryStore {
    async fn rating_counts(&self, query: &RatingQuery) -> Result<Vec<RatingCount>> {
        let rows = self.conversation_rows();
        Ok(ratings::count(
            rows.iter().filter_map(|c| c.rating.as_ref()),
            query,
        ))
    }
}

#[async_trait]
impl AssignmentStore for MemoryStore {
    async fn unassigned_conversations(&self, limit: usize) -> Result<Vec<Conversation>> {
        Ok(super::super::unassigned_conversations(
            &self.conversation_rows(),
            limit,
        ))
    }

    async fn open_conversation_counts(&self) -> Result<Vec<(AdminId, u64)>> {
        Ok(super::super::open_conversation_counts(
            &self.conversation_rows(),
        ))
    }

    async fn try_assignment_lease(&self) -> Result<Option<Lease>> {
        let lease = self.assignment.clone().try_lock_owned().ok();
        Ok(lease.map(|guard| Box::new(guard) as Lease))
    }
}
