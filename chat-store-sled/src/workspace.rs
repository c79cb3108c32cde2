//! The workspace catalogs (labels, canned replies): items under one prefix, a unique
//! lower-cased name under another, both written in one writer job so a uniqueness check and
//! its write are one step; the reports and what auto-assignment reads, from the
//! conversation rows in memory.

use async_trait::async_trait;
use chat_core::Error;
use chat_core::Result;
use chat_core::canned::{CannedReply, CannedReplyChanges};
use chat_core::ids::AdminId;
use chat_core::ids::{CannedReplyId, LabelId, Uuid};
use chat_core::labels::{Label, LabelChanges};
use chat_core::model::Conversation;
use chat_core::ratings::{self, RatingCount, RatingQuery};
use chat_core::store::{AssignmentStore, CannedReplyStore, LabelStore, Lease, ReportStore};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::codec::{encode, exists, get, scan};
use crate::keys;
use crate::store::SledStore;

/// An item of a catalog: where it lives, its id and its unique name.
trait Item: Serialize + DeserializeOwned + Clone + Send + 'static {
    /// What the errors call it.
    const WHAT: &'static str;
    /// The items' prefix.
    const PREFIX: u8;
    /// The name index's prefix.
    const NAME: u8;
    fn id(&self) -> Uuid;
    /// The unique name, lower-cased.
    fn key(&self) -> String;
}

impl Item for Label {
    const WHAT: &'static str = "label";
    const PREFIX: u8 = keys::LABEL;
    const NAME: u8 = keys::LABEL_TITLE;
    fn id(&self) -> Uuid {
        self.id.as_uuid()
    }
    fn key(&self) -> String {
        self.title.key()
    }
}

impl Item for CannedReply {
    const WHAT: &'static str = "canned reply";
    const PREFIX: u8 = keys::CANNED_REPLY;
    const NAME: u8 = keys::CANNED_SHORT_CODE;
    fn id(&self) -> Uuid {
        self.id.as_uuid()
    }
    fn key(&self) -> String {
        self.short_code.key()
    }
}

impl SledStore {
    async fn create_item<T: Item>(&self, item: &T) -> Result<()> {
        let item = item.clone();
        self.writer
            .run(move |txn| {
                let (key, name) = (
                    keys::item(T::PREFIX, item.id()),
                    keys::item_name(T::NAME, &item.key()),
                );
                if exists(txn, &key)? || exists(txn, &name)? {
                    return Err(Error::AlreadyExists(T::WHAT));
                }
                txn.insert(name, item.id().as_bytes().to_vec());
                txn.insert(key, encode(&item)?);
                Ok(())
            })
            .await
    }

    /// In name order.
    fn list_items<T: Item>(&self) -> Result<Vec<T>> {
        let mut items: Vec<T> = scan(self.tree(), &[T::PREFIX])?;
        items.sort_by_key(Item::key);
        Ok(items)
    }

    async fn update_item<T: Item>(
        &self,
        id: Uuid,
        change: impl FnOnce(&mut T) + Send + 'static,
    ) -> Result<T> {
        self.writer
            .run(move |txn| {
                let key = keys::item(T::PREFIX, id);
                let mut item: T = get(txn, &key)?.ok_or(Error::NotFound(T::WHAT))?;
                let old_name = item.key();
                change(&mut item);
                if item.key() != old_name {
                    let name = keys::item_name(T::NAME, &item.key());
                    if exists(txn, &name)? {
                        return Err(Error::AlreadyExists(T::WHAT));
                    }
                    txn.remove(keys::item_name(T::NAME, &old_name));
                    txn.insert(name, id.as_bytes().to_vec());
                }
                txn.insert(key, encode(&item)?);
                Ok(item)
            })
            .await
    }

    async fn delete_item<T: Item>(&self, id: Uuid) -> Result<()> {
        self.writer
            .run(move |txn| {
                let key = keys::item(T::PREFIX, id);
                let item: T = get(txn, &key)?.ok_or(Error::NotFound(T::WHAT))?;
                txn.remove(keys::item_name(T::NAME, &item.key()));
                txn.remove(key);
                Ok(())
            })
            .await
    }
}

#[async_trait]
impl LabelStore for SledStore {
    async fn create_label(&self, label: &Label) -> Result<()> {
        self.create_item(label).await
    }

    async fn list_labels(&self) -> Result<Vec<Label>> {
        self.list_items()
    }

    async fn update_label(&self, id: LabelId, changes: &LabelChanges) -> Result<Label> {
        let changes = changes.clone();
        self.update_item(id.as_uuid(), move |label: &mut Label| changes.apply(label))
            .await
    }

    async fn delete_label(&self, id: LabelId) -> Result<()> {
        self.delete_item::<Label>(id.as_uuid()).await
    }
}

#[async_trait]
impl CannedReplyStore for SledStore {
    async fn create_canned_reply(&self, reply: &CannedReply) -> Result<()> {
        self.create_item(reply).await
    }

    async fn list_canned_replies(&self) -> Result<Vec<CannedReply>> {
        self.list_items()
    }

    async fn update_canned_reply(
        &self,
        id: CannedReplyId,
        changes: &CannedReplyChanges,
    ) -> Result<CannedReply> {
        let changes = changes.clone();
        self.update_item(id.as_uuid(), move |reply: &mut CannedReply| {
            changes.apply(reply)
        })
        .await
    }

    async fn delete_canned_reply(&self, id: CannedReplyId) -> Result<()> {
        self.delete_item::<CannedReply>(id.as_uuid()).await
    }
}

#[async_trait]
impl ReportStore for SledStore {
    async fn rating_counts(&self, query: &RatingQuery) -> Result<Vec<RatingCount>> {
        let rows = self.rows();
        let ratings = rows.newest_first().filter_map(|c| c.rating.as_ref());
        Ok(ratings::count(ratings, query))
    }
}

#[async_trait]
impl AssignmentStore for SledStore {
    async fn unassigned_conversations(&self, limit: usize) -> Result<Vec<Conversation>> {
        Ok(chat_core::store::unassigned_conversations(
            self.rows().newest_first(),
            limit,
        ))
    }

    async fn open_conversation_counts(&self) -> Result<Vec<(AdminId, u64)>> {
        Ok(chat_core::store::open_conversation_counts(
            self.rows().newest_first(),
        ))
    }

    async fn try_assignment_lease(&self) -> Result<Option<Lease>> {
        let lease = self.assignment.clone().try_lock_owned().ok();
        Ok(lease.map(|guard| Box::new(guard) as Lease))
    }
}
