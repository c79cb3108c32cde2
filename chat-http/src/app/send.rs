//! Sending a message, for every transport: parse the request's fields, rate-limit and
//! send through the engine; and the parsing of ids from request fields.

use std::str::FromStr;

use chat_core::engine::SendMessage;
use chat_core::error::InvalidInput;
use chat_core::ids::AttachmentId;
use chat_core::values::{ClientMessageId, MessageBody, Metadata};

use crate::dto::SendResponse;
use crate::error::{ApiError, ApiResult};
use crate::extract::Auth;
use crate::state::AppState;

/// A send from any transport, before validation.
#[derive(Debug, Default)]
pub struct Outgoing {
    /// The conversation.
    pub conversation_id: String,
    /// The text.
    pub message: String,
    /// Makes retries idempotent.
    pub client_message_id: Option<String>,
    /// The client's clock (metadata only).
    pub client_timestamp: Option<chrono::DateTime<chrono::Utc>>,
    /// Files uploaded earlier.
    pub attachment_ids: Vec<String>,
    /// A private note.
    pub private: bool,
}

/// Validates, rate-limits and sends a message as the caller; the answer comes after the
/// durable write, and a retry with the same client id answers with the original.
pub async fn send_message(
    state: &AppState,
    auth: &Auth,
    outgoing: Outgoing,
    transport: &'static str,
) -> ApiResult<SendResponse> {
    let received = std::time::Instant::now();
    state.limiters().message(auth.token)?;
    let limits = &state.config().engine.limits;
    let send = SendMessage {
        conversation_id: parse(&outgoing.conversation_id)?,
        body: MessageBody::parse(outgoing.message, limits)?,
        client_message_id: outgoing
            .client_message_id
            .as_deref()
            .map(ClientMessageId::parse)
            .transpose()?,
        client_timestamp: outgoing.client_timestamp,
        attachment_ids: outgoing
            .attachment_ids
            .iter()
            .map(|id| parse::<AttachmentId>(id))
            .collect::<Result<_, _>>()?,
        private: outgoing.private,
        metadata: Metadata::default(),
    };
    let sent = state.engine().send_message(&auth.principal, send).await?;
    crate::metrics::message_sent(transport, received.elapsed());
    Ok(SendResponse {
        message_id: sent.message.id.as_uuid(),
        status: "sent".into(),
        delivered_at: sent.message.timestamp,
        seq: sent.message.seq.get(),
    })
}

/// Parses an id or enum from a request field.
pub fn parse<T: FromStr<Err = InvalidInput>>(text: &str) -> Result<T, ApiError> {
    text.parse()
        .map_err(|error: InvalidInput| ApiError::Core(error.into()))
}
