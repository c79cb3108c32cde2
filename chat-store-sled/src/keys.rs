//! The key layout: one sled tree, namespaces by a leading byte, fixed-width big-endian
//! parts so that byte order is the order of the access paths.
//!
//! | prefix | key | value |
//! |---|---|---|
//! | `v` | `schema` | schema version, u32 BE |
//! | `c` | conversation | empty: the conversation exists |
//! | `e` | conversation ‖ seq | JSON `[Event, Conversation or null]`: the log, with row checkpoints |
//! | `i` | conversation ‖ sender ‖ client id | seq: the idempotency index |
//! | `p` | conversation ‖ participant id (v7, so join order) | `Participant` (JSON) |
//! | `r` | conversation ‖ user | seq ‖ counted (u64 BE each): read cursors, with how many messages counted for the reader up to them |
//! | `a` | attachment | `Attachment` (JSON) |
//! | `A` | conversation ‖ attachment | empty: attachments by conversation |
//! | `d` | admin | `Admin` (JSON) |
//! | `D` | lower-cased email | admin id |
//! | `k` | customer | `Customer` (JSON) |
//! | `K` | identifier | customer id |
//! | `B` | customer | empty: the blocked visitors |
//! | `s` | token hash | `Session` (JSON) |
//! | `S` | admin ‖ token hash | empty: sessions by admin |
//! | `l` | label | `Label` (JSON) |
//! | `L` | lower-cased title | label id |
//! | `q` | canned reply | `CannedReply` (JSON) |
//! | `Q` | lower-cased short code | canned reply id |
//! | `f` | feed position (u64 BE) | conversation ‖ seq: the change feed |
//! | `w` | webhook | `StoredWebhook` (JSON) |
//! | `W` | webhook ‖ delivery id | `DeliveryAttempt` (JSON): the delivery log |
//! | `m` | (none) | feed position (u64 BE): the offline-email pass's cursor |
//! | `n` | conversation | `EmailNotice` (JSON) |
//! | `N` | next look (µs, u64 BE) ‖ conversation | empty: pending notices by when they are due (or their claim ends) |
//! | `x` | word ‖ 0 ‖ sent (µs, u64 BE) ‖ message | conversation ‖ seq: the search index, written with each message |
//! | `E` | lower-cased address ‖ 0 ‖ customer | empty: visitors by the address they left |
//! | `M` | message | conversation ‖ seq: where each message was created |
//! | `U` | audit id (v7, so time order) | `AuditEntry` (JSON): the audit log |
//! | `u` | message ‖ audit id | empty: the audit entries about a message (edits, deletes, redactions) |
//! | `C` | customer ‖ conversation | empty: conversations by visitor |
//! | `V` | customer ‖ token hash | empty: sessions by visitor |
//! | `X` | attachment | empty: files of deleted conversations whose bytes are still to go |
//!
//! Conversation rows and the inbox order are not keys: they are derived from each
//! conversation's log (its newest checkpoint plus the events after it) and kept in memory ([`RowIndex`](crate::rows::RowIndex)).

use chat_core::accounts::{SessionSubject, TokenHash};
use chat_core::ids::{AdminId, AttachmentId, ConversationId, CustomerId, MessageId, Seq};
use chat_core::model::{Actor, UserRef};

/// The schema version this build reads and writes (older stores are upgraded at open: see
/// `migrate.rs`).
pub const SCHEMA_VERSION: u32 = 5;
pub const SCHEMA: &[u8] = b"vschema";

pub const CONVERSATION: u8 = b'c';
pub const EVENT: u8 = b'e';
pub const IDEMPOTENCY: u8 = b'i';
pub const PARTICIPANT: u8 = b'p';
pub const CURSOR: u8 = b'r';
pub const ATTACHMENT: u8 = b'a';
pub const ATTACHMENT_OF: u8 = b'A';
pub const ADMIN: u8 = b'd';
pub const ADMIN_EMAIL: u8 = b'D';
pub const ADMIN_EXTERNAL_ID: u8 = b'h';
pub const CUSTOMER: u8 = b'k';
pub const CUSTOMER_IDENTIFIER: u8 = b'K';
pub const BLOCKED_CUSTOMER: u8 = b'B';
pub const SESSION: u8 = b's';
pub const ADMIN_SESSION: u8 = b'S';
pub const LABEL: u8 = b'l';
pub const LABEL_TITLE: u8 = b'L';
pub const CANNED_REPLY: u8 = b'q';
pub const CANNED_SHORT_CODE: u8 = b'Q';
pub const FEED: u8 = b'f';
pub const WEBHOOK: u8 = b'w';
pub const DELIVERY: u8 = b'W';
pub const EMAIL_CURSOR: u8 = b'm';
pub const EMAIL_NOTICE: u8 = b'n';
pub const EMAIL_DUE: u8 = b'N';
pub const SEARCH_WORD: u8 = b'x';
pub const CUSTOMER_EMAIL: u8 = b'E';
pub const MESSAGE: u8 = b'M';
pub const AUDIT: u8 = b'U';
pub const AUDIT_OF_MESSAGE: u8 = b'u';
pub const CUSTOMER_CONVERSATION: u8 = b'C';
pub const VISITOR_SESSION: u8 = b'V';
pub const ERASED_FILE: u8 = b'X';

/// Every prefix whose keys start with a conversation id: what a cascade delete scans.
pub const PER_CONVERSATION: [u8; 5] = [EVENT, IDEMPOTENCY, PARTICIPANT, CURSOR, ATTACHMENT_OF];

/// A key built from parts.
pub struct Key(Vec<u8>);

impl Key {
    pub fn new(prefix: u8) -> Self {
        let mut bytes = Vec::with_capacity(64);
        bytes.push(prefix);
        Self(bytes)
    }

    pub fn bytes(mut self, part: &[u8]) -> Self {
        self.0.extend_from_slice(part);
        self
    }

    pub fn uuid(self, id: [u8; 16]) -> Self {
        self.bytes(&id)
    }

    pub fn seq(self, seq: Seq) -> Self {
        self.bytes(&seq.get().to_be_bytes())
    }

    pub fn build(self) -> Vec<u8> {
        self.0
    }
}

pub fn conversation_id(id: ConversationId) -> [u8; 16] {
    *id.as_uuid().as_bytes()
}

pub fn conversation(id: ConversationId) -> Vec<u8> {
    Key::new(CONVERSATION).uuid(conversation_id(id)).build()
}

/// Everything under `prefix` for one conversation.
pub fn of_conversation(prefix: u8, id: ConversationId) -> Vec<u8> {
    Key::new(prefix).uuid(conversation_id(id)).build()
}

pub fn event(id: ConversationId, seq: Seq) -> Vec<u8> {
    Key::new(EVENT).uuid(conversation_id(id)).seq(seq).build()
}

pub fn idempotency(id: ConversationId, sender: Actor, client_id: &str) -> Vec<u8> {
    Key::new(IDEMPOTENCY)
        .uuid(conversation_id(id))
        .bytes(&actor(sender))
        .bytes(client_id.as_bytes())
        .build()
}

pub fn participant(id: ConversationId, participant: chat_core::ids::ParticipantId) -> Vec<u8> {
    Key::new(PARTICIPANT)
        .uuid(conversation_id(id))
        .uuid(*participant.as_uuid().as_bytes())
        .build()
}

pub fn cursor(id: ConversationId, reader: UserRef) -> Vec<u8> {
    Key::new(CURSOR)
        .uuid(conversation_id(id))
        .bytes(&actor(reader.into()))
        .build()
}

/// The reader a [`cursor`] key belongs to.
pub fn cursor_reader(key: &[u8]) -> Option<UserRef> {
    let reader = key.get(17..)?;
    let id: [u8; 16] = reader.get(1..17)?.try_into().ok()?;
    match reader.first()? {
        b'c' => Some(UserRef::Customer(
            chat_core::ids::Uuid::from_bytes(id).into(),
        )),
        b'a' => Some(UserRef::Admin(chat_core::ids::Uuid::from_bytes(id).into())),
        _ => None,
    }
}

pub fn attachment(id: AttachmentId) -> Vec<u8> {
    Key::new(ATTACHMENT).uuid(*id.as_uuid().as_bytes()).build()
}

pub fn attachment_of(conversation: ConversationId, id: AttachmentId) -> Vec<u8> {
    Key::new(ATTACHMENT_OF)
        .uuid(conversation_id(conversation))
        .uuid(*id.as_uuid().as_bytes())
        .build()
}

pub fn admin(id: AdminId) -> Vec<u8> {
    Key::new(ADMIN).uuid(*id.as_uuid().as_bytes()).build()
}

pub fn admin_email(email: &str) -> Vec<u8> {
    Key::new(ADMIN_EMAIL).bytes(email.as_bytes()).build()
}

pub fn admin_external_id(external_id: &str) -> Vec<u8> {
    Key::new(ADMIN_EXTERNAL_ID)
        .bytes(external_id.as_bytes())
        .build()
}

pub fn customer(id: CustomerId) -> Vec<u8> {
    Key::new(CUSTOMER).uuid(*id.as_uuid().as_bytes()).build()
}

pub fn blocked_customer(id: CustomerId) -> Vec<u8> {
    Key::new(BLOCKED_CUSTOMER)
        .uuid(*id.as_uuid().as_bytes())
        .build()
}

pub fn customer_identifier(identifier: &str) -> Vec<u8> {
    Key::new(CUSTOMER_IDENTIFIER)
        .bytes(identifier.as_bytes())
        .build()
}

pub fn session(hash: &TokenHash) -> Vec<u8> {
    Key::new(SESSION).bytes(&hash.0).build()
}

pub fn admin_session(admin: AdminId, hash: &TokenHash) -> Vec<u8> {
    Key::new(ADMIN_SESSION)
        .uuid(*admin.as_uuid().as_bytes())
        .bytes(&hash.0)
        .build()
}

pub fn admin_sessions(admin: AdminId) -> Vec<u8> {
    Key::new(ADMIN_SESSION)
        .uuid(*admin.as_uuid().as_bytes())
        .build()
}

pub fn visitor_session(customer: CustomerId, hash: &TokenHash) -> Vec<u8> {
    Key::new(VISITOR_SESSION)
        .uuid(*customer.as_uuid().as_bytes())
        .bytes(&hash.0)
        .build()
}

pub fn visitor_sessions(customer: CustomerId) -> Vec<u8> {
    Key::new(VISITOR_SESSION)
        .uuid(*customer.as_uuid().as_bytes())
        .build()
}

/// The index entry of a session by its subject.
pub fn session_of(subject: SessionSubject, hash: &TokenHash) -> Vec<u8> {
    match subject {
        SessionSubject::Admin(admin) => admin_session(admin, hash),
        SessionSubject::Visitor(customer) => visitor_session(customer, hash),
    }
}

pub fn customer_conversation(customer: CustomerId, conversation: ConversationId) -> Vec<u8> {
    Key::new(CUSTOMER_CONVERSATION)
        .uuid(*customer.as_uuid().as_bytes())
        .uuid(conversation_id(conversation))
        .build()
}

pub fn customer_conversations(customer: CustomerId) -> Vec<u8> {
    Key::new(CUSTOMER_CONVERSATION)
        .uuid(*customer.as_uuid().as_bytes())
        .build()
}

pub fn erased_file(id: AttachmentId) -> Vec<u8> {
    Key::new(ERASED_FILE).uuid(*id.as_uuid().as_bytes()).build()
}

/// A workspace catalog item (`prefix` ‖ id).
pub fn item(prefix: u8, id: chat_core::ids::Uuid) -> Vec<u8> {
    Key::new(prefix).uuid(*id.as_bytes()).build()
}

/// A workspace catalog's unique-name index entry (`prefix` ‖ lower-cased name).
pub fn item_name(prefix: u8, key: &str) -> Vec<u8> {
    Key::new(prefix).bytes(key.as_bytes()).build()
}

/// The change feed's entry at `position`.
pub fn feed(position: u64) -> Vec<u8> {
    Key::new(FEED).bytes(&position.to_be_bytes()).build()
}

/// An event's place, its conversation and seq: the value of feed and search entries.
pub fn place(id: ConversationId, seq: Seq) -> Vec<u8> {
    [&conversation_id(id)[..], &seq.get().to_be_bytes()].concat()
}

/// The event a [`place`] names.
pub fn place_of(value: &[u8]) -> Option<(ConversationId, Seq)> {
    let id: [u8; 16] = value.get(..16)?.try_into().ok()?;
    let seq = u64::from_be_bytes(value.get(16..24)?.try_into().ok()?);
    Some((chat_core::ids::Uuid::from_bytes(id).into(), Seq(seq)))
}

/// The position of a [`feed`] key and the event its value names.
pub fn feed_entry(key: &[u8], value: &[u8]) -> Option<(u64, ConversationId, Seq)> {
    let position = u64::from_be_bytes(key.get(1..9)?.try_into().ok()?);
    let (id, seq) = place_of(value)?;
    Some((position, id, seq))
}

/// A webhook endpoint.
pub fn webhook(id: chat_core::ids::WebhookId) -> Vec<u8> {
    Key::new(WEBHOOK).uuid(*id.as_uuid().as_bytes()).build()
}

/// An endpoint's delivery log (`id` `None`: the whole log's prefix).
pub fn delivery(
    webhook: chat_core::ids::WebhookId,
    id: Option<chat_core::ids::DeliveryId>,
) -> Vec<u8> {
    let key = Key::new(DELIVERY).uuid(*webhook.as_uuid().as_bytes());
    match id {
        Some(id) => key.uuid(*id.as_uuid().as_bytes()).build(),
        None => key.build(),
    }
}

/// A conversation's offline-email notice.
pub fn email_notice(id: ConversationId) -> Vec<u8> {
    Key::new(EMAIL_NOTICE).uuid(conversation_id(id)).build()
}

/// A pending notice's entry in the due-time index (times before 1970 sort first).
pub fn email_due(at: chrono::DateTime<chrono::Utc>, id: ConversationId) -> Vec<u8> {
    Key::new(EMAIL_DUE)
        .bytes(&micros(at))
        .uuid(conversation_id(id))
        .build()
}

/// The due-index key of everything due at `at` or before: the range's exclusive end.
pub fn email_due_until(at: chrono::DateTime<chrono::Utc>) -> Vec<u8> {
    let micros = u64::try_from(at.timestamp_micros()).unwrap_or(0);
    Key::new(EMAIL_DUE)
        .bytes(&micros.saturating_add(1).to_be_bytes())
        .build()
}

/// The conversation a due-index key names.
pub fn email_due_conversation(key: &[u8]) -> Option<ConversationId> {
    let id: [u8; 16] = key.get(9..25)?.try_into().ok()?;
    Some(chat_core::ids::Uuid::from_bytes(id).into())
}

/// Microseconds since the epoch as a sortable key part (times before 1970 sort first).
fn micros(at: chrono::DateTime<chrono::Utc>) -> [u8; 8] {
    u64::try_from(at.timestamp_micros())
        .unwrap_or(0)
        .to_be_bytes()
}

/// Everything the search index holds under `word`: the prefix of its entries.
pub fn search_word(word: &str) -> Vec<u8> {
    Key::new(SEARCH_WORD)
        .bytes(word.as_bytes())
        .bytes(&[0])
        .build()
}

/// The search-index entry of a message under `word` (words hold no zero byte, so the
/// separator keeps one word's entries apart from a longer word's).
pub fn search_entry(word: &str, at: chrono::DateTime<chrono::Utc>, message: MessageId) -> Vec<u8> {
    let mut key = search_word(word);
    key.extend_from_slice(&micros(at));
    key.extend_from_slice(message.as_uuid().as_bytes());
    key
}

/// Where `word`'s entries sent at or after `at` start.
pub fn search_from(word: &str, at: chrono::DateTime<chrono::Utc>) -> Vec<u8> {
    let mut key = search_word(word);
    key.extend_from_slice(&micros(at));
    key
}

/// Where a message was created.
pub fn message(id: MessageId) -> Vec<u8> {
    Key::new(MESSAGE).uuid(*id.as_uuid().as_bytes()).build()
}

/// An audit entry.
pub fn audit(id: chat_core::ids::AuditId) -> Vec<u8> {
    Key::new(AUDIT).uuid(*id.as_uuid().as_bytes()).build()
}

/// An audit entry's place among those keeping a message's text.
pub fn audit_of_message(message: MessageId, id: chat_core::ids::AuditId) -> Vec<u8> {
    Key::new(AUDIT_OF_MESSAGE)
        .uuid(*message.as_uuid().as_bytes())
        .uuid(*id.as_uuid().as_bytes())
        .build()
}

/// The audit id that ends a `u` key.
pub fn audit_id_of(key: &[u8]) -> chat_core::Result<chat_core::ids::AuditId> {
    let id: [u8; 16] = key
        .get(key.len().saturating_sub(16)..)
        .and_then(|id| id.try_into().ok())
        .ok_or_else(|| crate::error::malformed("audit index key"))?;
    Ok(chat_core::ids::AuditId::from_uuid(
        chat_core::ids::Uuid::from_bytes(id),
    ))
}

/// Every entry keeping a message's text: their prefix.
pub fn audits_of_message(message: MessageId) -> Vec<u8> {
    Key::new(AUDIT_OF_MESSAGE)
        .uuid(*message.as_uuid().as_bytes())
        .build()
}

/// A visitor's entry in the address index.
pub fn customer_email(email: &str, id: CustomerId) -> Vec<u8> {
    Key::new(CUSTOMER_EMAIL)
        .bytes(email.as_bytes())
        .bytes(&[0])
        .uuid(*id.as_uuid().as_bytes())
        .build()
}

/// Every entry of `email` in the address index: their prefix.
pub fn customers_with_email(email: &str) -> Vec<u8> {
    Key::new(CUSTOMER_EMAIL)
        .bytes(email.as_bytes())
        .bytes(&[0])
        .build()
}

/// A fixed 17-byte encoding of an actor: kind, then the id (zeros for the system).
fn actor(actor: Actor) -> [u8; 17] {
    let (kind, id) = match actor {
        Actor::Customer(id) => (b'c', *id.as_uuid().as_bytes()),
        Actor::Admin(id) => (b'a', *id.as_uuid().as_bytes()),
        Actor::System => (b's', [0; 16]),
    };
    let mut bytes = [0u8; 17];
    bytes[0] = kind;
    bytes[1..].copy_from_slice(&id);
    bytes
}
