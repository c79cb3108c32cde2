//! The wire types of a visitor's data on request: the lines of an export and the answer to
//! an erasure.

use chat_core::accounts::Customer;
use chat_core::engine::ConversationExport;
use chat_core::ids::Seq;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::dto::{AttachmentDto, ConversationDto, MessageDto, VisitorDto};

/// One line of `GET /api/visitors/{id}/export` (JSON lines): the visitor first, then each
/// conversation followed by its messages (oldest first) and files, then `end`. A body
/// without its `end` line was cut short.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum ExportLine {
    /// Everything stored about the visitor.
    Visitor(ExportedVisitor),
    /// One of its conversations.
    Conversation(ExportedConversation),
    /// A message of the conversation above (private notes have `private: true`; a deleted
    /// message keeps no text).
    Message(MessageDto),
    /// A file of the conversation above: its metadata and an authorized download link.
    Attachment(AttachmentDto),
    /// The export is complete.
    End {
        /// How many conversations it holds.
        conversations: u64,
    },
}

/// The visitor's record, in full.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ExportedVisitor {
    /// What agents see of it.
    #[serde(flatten)]
    pub visitor: VisitorDto,
    /// Whether its identifier came with a valid HMAC.
    pub verified: bool,
    /// Its browser's user agent.
    pub user_agent: Option<String>,
    /// Coarse location, as the embedder supplied it.
    #[schema(value_type = Object)]
    pub location_data: serde_json::Value,
}

impl From<Customer> for ExportedVisitor {
    fn from(customer: Customer) -> Self {
        Self {
            verified: customer.verified,
            user_agent: customer
                .user_agent
                .as_ref()
                .map(|ua| ua.as_str().to_owned()),
            location_data: customer.location_data.clone().into(),
            visitor: customer.into(),
        }
    }
}

/// A conversation, with the address it was started from.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ExportedConversation {
    /// The conversation (read state as of nobody).
    #[serde(flatten)]
    pub conversation: ConversationDto,
    /// The visitor's address as the server saw it.
    pub customer_ip: Option<String>,
}

impl ExportLine {
    /// The lines of one exported conversation: itself, its messages, its files.
    pub fn of_conversation(export: ConversationExport) -> Vec<Self> {
        let customer_ip = export.conversation.customer_ip.map(|ip| ip.to_string());
        let conversation = ConversationDto::new(export.conversation, Seq::ZERO, 0);
        let head = Self::Conversation(ExportedConversation {
            conversation,
            customer_ip,
        });
        let messages = export.messages.into_iter().map(|m| Self::Message(m.into()));
        let files = export
            .attachments
            .iter()
            .cloned()
            .map(|a| Self::Attachment(a.into()));
        std::iter::once(head).chain(messages).chain(files).collect()
    }
}

/// The answer to `DELETE /api/visitors/{id}`.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ErasureResponse {
    /// How many conversations went with the visitor.
    pub conversations: u64,
    /// How many files' bytes were removed (any that could not be yet are retried in the
    /// background).
    pub files: u64,
}
