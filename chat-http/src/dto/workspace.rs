//! The wire types of the agents' workflow: labels, canned replies, visitors and blocking,
//! satisfaction ratings and their report.

use chat_core::accounts::Customer;
use chat_core::canned::CannedReply;
use chat_core::engine::CannedMatch;
use chat_core::ids::{AdminId, CannedReplyId, CustomerId, LabelId};
use chat_core::labels::Label;
use chat_core::ratings::{CHANGE_WINDOW, Rating, RatingReport, RatingSummary};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
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
    #[serde(default, deserialize_with = "chat_wire::fields::present")]
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

/// `POST /api/conversations/{id}/labels` body: either `labels` (the new set) or
/// `add`/`remove` (changes to the set as it is when written, so concurrent changes to
/// different labels all stick). Every title must name a label (ignoring case).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SetLabelsRequest {
    /// The titles of the conversation's new set of labels.
    pub labels: Option<Vec<String>>,
    /// Titles of labels to put on.
    pub add: Option<Vec<String>>,
    /// Titles of labels to take off.
    pub remove: Option<Vec<String>>,
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

/// A visitor as agents see it.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct VisitorDto {
    /// Id.
    #[schema(value_type = String, format = Uuid)]
    pub id: CustomerId,
    /// The embedding site's id for it, when verified.
    pub identifier: Option<String>,
    /// The name the host application signed it in with; `null` when none.
    pub name: Option<String>,
    /// First visit.
    pub first_seen: DateTime<Utc>,
    /// When it was blocked; `null` when it is not.
    pub blocked_at: Option<DateTime<Utc>>,
    /// The address it left for offline replies; `null` when none.
    pub email: Option<String>,
    /// Whether it unsubscribed from offline replies at that address.
    pub email_unsubscribed: bool,
    /// The last time a socket of its was known open; `null` before its first.
    pub last_seen: Option<DateTime<Utc>>,
}

impl From<Customer> for VisitorDto {
    fn from(customer: Customer) -> Self {
        Self {
            id: customer.id,
            identifier: customer.identifier.map(Into::into),
            name: customer.name.map(Into::into),
            first_seen: customer.first_seen,
            blocked_at: customer.blocked_at,
            email: customer
                .contact
                .as_ref()
                .map(|c| c.email.as_str().to_owned()),
            email_unsubscribed: customer.contact.is_some_and(|c| c.unsubscribed),
            last_seen: customer.last_seen,
        }
    }
}

/// `{email}`: the address for offline replies; `null` removes it. The field is required:
/// a body without it is refused rather than read as a removal.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LeaveEmailRequest {
    /// An email address, or `null`.
    #[serde(default, deserialize_with = "chat_wire::fields::present")]
    #[schema(value_type = Option<String>)]
    pub email: Option<Option<String>>,
}

/// `?token=`: the secret an unsubscribe link carries. (No `Debug`: it carries the token.)
#[derive(Deserialize)]
pub struct UnsubscribeQuery {
    /// The link's token.
    pub token: String,
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

/// A conversation's satisfaction rating.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RatingDto {
    /// 1 to 5.
    pub rating: u8,
    /// The visitor's words.
    pub comment: Option<String>,
    /// When it was given.
    pub rated_at: DateTime<Utc>,
    /// Until when the visitor may still change it.
    pub changeable_until: DateTime<Utc>,
}

impl From<Rating> for RatingDto {
    fn from(rating: Rating) -> Self {
        Self {
            rating: rating.score.get(),
            comment: rating.comment,
            rated_at: rating.rated_at,
            changeable_until: rating.first_rated_at + CHANGE_WINDOW,
        }
    }
}

/// `POST /api/conversations/{id}/rating` body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RateRequest {
    /// 1 (bad) to 5 (great).
    pub rating: u8,
    /// Optional words (at most 1,000 characters).
    pub comment: Option<String>,
}

/// `GET /api/reports/ratings` query.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RatingReportQuery {
    /// Rated at or after (RFC 3339).
    pub since: Option<DateTime<Utc>>,
    /// Rated before (RFC 3339).
    pub until: Option<DateTime<Utc>>,
    /// Only this agent's conversations (the assignee when rated).
    pub agent_id: Option<String>,
}

/// Counts per score and the average.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RatingSummaryDto {
    /// How many ratings of each score: keys `"1"` to `"5"`.
    #[schema(value_type = Object)]
    pub counts: std::collections::BTreeMap<String, u64>,
    /// How many ratings.
    pub total: u64,
    /// The mean score, `null` without ratings.
    pub average: Option<f64>,
}

impl From<RatingSummary> for RatingSummaryDto {
    fn from(summary: RatingSummary) -> Self {
        Self {
            counts: (1..=5)
                .zip(summary.counts)
                .map(|(score, n)| (score.to_string(), n))
                .collect(),
            total: summary.total,
            average: summary.average,
        }
    }
}

/// One agent's line of the report.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AgentRatingsDto {
    /// The agent; `null`: conversations nobody was assigned.
    #[schema(value_type = Option<String>, format = Uuid)]
    pub agent_id: Option<AdminId>,
    /// Its ratings.
    #[serde(flatten)]
    pub summary: RatingSummaryDto,
}

/// The ratings report.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RatingReportDto {
    /// All counted ratings.
    pub overall: RatingSummaryDto,
    /// Per agent, unassigned last.
    pub agents: Vec<AgentRatingsDto>,
}

impl From<RatingReport> for RatingReportDto {
    fn from(report: RatingReport) -> Self {
        Self {
            overall: report.overall.into(),
            agents: report
                .agents
                .into_iter()
                .map(|(agent_id, summary)| AgentRatingsDto {
                    agent_id,
                    summary: summary.into(),
                })
                .collect(),
        }
    }
}
