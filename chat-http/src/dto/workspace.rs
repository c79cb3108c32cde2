//! The wire types of the agents' workflow: labels, canned replies, visitors and blocking.

use chat_core::accounts::Customer;
use chat_core::canned::CannedReply;
use chat_core::engine::CannedMatch;
use chat_core::ids::{CannedReplyId, CustomerId, LabelId};
use chat_core::labels::Label;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::ToSchema;

/// A label.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LabelDto {
    /// Id.
    #[schema(value_type = String, format = Uuid)]
    pub id: LabelId,
    /// Title, unique ignoring case.
    pub title: String,
    /// `#rrggbb`, if set.
    pub color: Option<String>,
    /// Creation time.
    pub created_at: DateTime<Utc>,
}

impl From<Label> for LabelDto {
    fn from(label: Label) -> Self {
        Self {
            id: label.id,
            title: label.title.into(),
            color: label.color.map(Into::into),
            created_at: label.created_at,
        }
    }
}

/// `POST /api/labels` body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateLabelRequest {
    /// Title (1–64 characters), unique ignoring case.
    pub title: String,
    /// `#rrggbb`.
    pub color: Option<String>,
}

/// `PATCH /api/labels/{id}` body: only the fields given change.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdateLabelRequest {
    /// New title.
    pub title: Option<String>,
    /// New colour; `null` removes it.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub color: Option<Option<String>>,
}

/// `{label}`.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct LabelEnvelope {
    /// The label.
    pub label: LabelDto,
}

/// `{labels}`.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct LabelList {
    /// Labels in title order.
    pub labels: Vec<LabelDto>,
}

/// `POST /api/conversations/{id}/labels` body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SetLabelsRequest {
    /// The titles of the conversation's new set of labels (ignoring case); every title
    /// must name a label.
    pub labels: Vec<String>,
}

/// A canned reply.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CannedReplyDto {
    /// Id.
    #[schema(value_type = String, format = Uuid)]
    pub id: CannedReplyId,
    /// Typed after `/`; unique ignoring case.
    pub short_code: String,
    /// The text, with `{{visitor.name}}` / `{{agent.name}}` placeholders.
    pub content: String,
    /// The content filled in for the search's `conversationId`, when one was given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub filled: Option<String>,
    /// Creation time.
    pub created_at: DateTime<Utc>,
}

impl From<CannedReply> for CannedReplyDto {
    fn from(reply: CannedReply) -> Self {
        Self {
            id: reply.id,
            short_code: reply.short_code.into(),
            content: reply.content.into(),
            filled: None,
            created_at: reply.created_at,
        }
    }
}

impl From<CannedMatch> for CannedReplyDto {
    fn from(found: CannedMatch) -> Self {
        Self {
            filled: found.filled,
            ..found.reply.into()
        }
    }
}

/// `GET /api/canned-replies` query.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CannedSearchQuery {
    /// Matches short codes (prefix first, then anywhere) and then contents, ignoring case.
    pub search: Option<String>,
    /// Fill placeholders for this conversation's visitor and the caller.
    pub conversation_id: Option<String>,
}

/// `POST /api/canned-replies` body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateCannedReplyRequest {
    /// Short code (1–64 characters), unique ignoring case.
    pub short_code: String,
    /// The text.
    pub content: String,
}

/// `PATCH /api/canned-replies/{id}` body: only the fields given change.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdateCannedReplyRequest {
    /// New short code.
    pub short_code: Option<String>,
    /// New text.
    pub content: Option<String>,
}

/// `{cannedReply}`.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CannedReplyEnvelope {
    /// The reply.
    pub canned_reply: CannedReplyDto,
}

/// `{cannedReplies}`.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CannedReplyList {
    /// Best match first.
    pub canned_replies: Vec<CannedReplyDto>,
}

/// A field that is absent (`None`), `null` (`Some(None)`) or a value (`Some(Some(_))`).
fn present<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(deserializer).map(Some)
}

/// A visitor as agents see it.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct VisitorDto {
    /// Id.
    #[schema(value_type = String, format = Uuid)]
    pub id: CustomerId,
    /// The embedding site's id for it, when verified.
    pub identifier: Option<String>,
    /// First visit.
    pub first_seen: DateTime<Utc>,
    /// When it was blocked; `null` when it is not.
    pub blocked_at: Option<DateTime<Utc>>,
}

impl From<Customer> for VisitorDto {
    fn from(customer: Customer) -> Self {
        Self {
            id: customer.id,
            identifier: customer.identifier.map(Into::into),
            first_seen: customer.first_seen,
            blocked_at: customer.blocked_at,
        }
    }
}

/// `{visitor}`.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct VisitorEnvelope {
    /// The visitor.
    pub visitor: VisitorDto,
}

/// `{visitors}`.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct VisitorList {
    /// The visitors.
    pub visitors: Vec<VisitorDto>,
}
